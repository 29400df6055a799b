//! Sample builders shared by the integration tests.
#![allow(dead_code)]

use metrics_core::{Shard, Timing};
use models::{
    AgentTiming, CardId, Channel, CountryCode, Currency, CustomerId, Decision, EdgeKind, ErrorKind,
    FraudPattern, GroundTruth, MerchantId, Timestamp, Transaction, TxnId, Verdict,
};
use std::borrow::Cow;
use std::time::Duration;

pub fn txn(i: u64, currency: Currency) -> Transaction {
    Transaction {
        id: TxnId(i),
        timestamp: Timestamp::from_secs(1_767_225_600),
        amount_minor: 1_000 + (i * 7_919) % 100_000,
        currency,
        card_id: CardId(i % 97),
        customer_id: CustomerId(i % 89),
        merchant_id: MerchantId(i % 83),
        merchant_name: Cow::Borrowed("Shop"),
        mcc: 5812,
        channel: Channel::Ecommerce,
        country: CountryCode::new("DE"),
        lat: 0.0,
        lon: 0.0,
        device_id: None,
        ip: None,
    }
}

pub fn verdict(decision: Decision, agents: &[(&str, u64, bool)]) -> Verdict {
    Verdict {
        decision,
        risk_score: 0.5,
        reasons: vec![],
        agents: agents
            .iter()
            .map(|(n, us, ok)| AgentTiming {
                name: (*n).into(),
                duration_us: *us,
                ok: *ok,
            })
            .collect(),
    }
}

/// A deterministic, varied sample number `i`: label, decision, outcome, timings, agents.
pub fn record_sample(shard: &mut Shard, i: u64, base: Duration) {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let truth = match h % 20 {
        0..=2 => GroundTruth::Fraud {
            pattern: FraudPattern::ALL[(h / 20 % 6) as usize],
        },
        3 => GroundTruth::Edge {
            pattern: EdgeKind::ALL[(h / 20 % 9) as usize],
        },
        _ => GroundTruth::Legit,
    };
    let decision = [Decision::Approve, Decision::Review, Decision::Decline][(h / 7 % 3) as usize];
    let currency = Currency::ALL[(h / 11 % 15) as usize];
    let intended = base + Duration::from_micros(h % 900_000);
    let sent = intended + Duration::from_micros(h / 3 % 2_000);
    let completed = sent + Duration::from_micros(200 + h / 5 % 80_000);
    if h.is_multiple_of(50) {
        shard.record_dropped(truth);
        return;
    }
    shard.record_sent();
    let agents = [
        ("analyzer", 100 + h % 900, true),
        ("risk", 300 + h % 3_000, !h.is_multiple_of(13)),
    ];
    let v = verdict(decision, &agents[..(h % 3) as usize]);
    let result = match h % 40 {
        0 => Err(ErrorKind::Http429),
        1 => Err(ErrorKind::Http5xx),
        2 => Err(ErrorKind::Timeout),
        3 => Err(ErrorKind::Connection),
        _ => Ok(&v),
    };
    shard.record(
        Timing::new(intended, sent, completed),
        &txn(i, currency),
        truth,
        result,
    );
}

//! Every labelled transaction is what its label claims, judged against the customer's profile and
//! the transactions before it on the same card.

use models::{EdgeKind, FraudPattern, GroundTruth, MerchantId, Transaction};
use std::collections::{HashMap, HashSet};
use transaction_factory::currency::{max_amount_minor, minor_to_usd};
use transaction_factory::edge::{REPLAY_MAX_DISTANCE, start_of_day, start_of_month};
use transaction_factory::fraud::*;
use transaction_factory::geo::haversine_km;
use transaction_factory::merchants::{MerchantKind, RISKY_MCCS};
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

const N: usize = 100_000;

fn usd(t: &Transaction) -> f64 {
    minor_to_usd(t.amount_minor, t.currency)
}

/// Transactions with the same label on the same card within `window_s` of `t` (itself included).
fn same_pattern_near(stream: &[(Transaction, GroundTruth)], k: usize, window_s: f64) -> usize {
    let (t, label) = &stream[k];
    let lo = k.saturating_sub(2000);
    let hi = (k + 2000).min(stream.len());
    stream[lo..hi]
        .iter()
        .filter(|(o, l)| {
            l == label
                && o.card_id == t.card_id
                && (o.timestamp.as_secs_f64() - t.timestamp.as_secs_f64()).abs() <= window_s
        })
        .count()
}

#[test]
fn every_pattern_is_what_it_claims() {
    check_patterns(FactoryConfig::default());
}

/// The orchestrator's stream: one purchase per customer per hour of stream time, so the stream clock
/// runs at about 14 TPS; the bursts must still fit their windows.
#[test]
fn every_pattern_is_what_it_claims_on_the_slow_realistic_clock() {
    let config = FactoryConfig::default().with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S);
    assert!(config.rate_tps < 15.0, "{}", config.rate_tps);
    check_patterns(config);
}

fn check_patterns(config: FactoryConfig) {
    let f = TransactionFactory::new(2026, config).unwrap();
    let stream: Vec<_> = f.iter().take(N).collect();
    let mut merchants_seen: HashMap<_, HashSet<MerchantId>> = HashMap::new();
    let mut last_on_card: HashMap<_, usize> = HashMap::new();
    let mut checked: HashMap<&'static str, usize> = HashMap::new();
    for (k, (t, label)) in stream.iter().enumerate() {
        let c = f.customer(t.customer_id).expect("customer exists");
        assert_eq!(
            f.card_owner(t.card_id).map(|o| o.id()),
            Some(c.id()),
            "index {k}: card belongs to the customer"
        );
        let seen = merchants_seen.entry(t.card_id).or_default();
        match label {
            GroundTruth::Legit => {
                assert_eq!(t.country, c.home_country(), "index {k}");
                assert_eq!(t.currency, c.currency(), "index {k}");
                assert!(
                    t.device_id.is_some_and(|d| c.devices().contains(&d)),
                    "index {k}"
                );
                assert_eq!(
                    f.merchant(t.merchant_id).map(|m| m.kind),
                    Some(MerchantKind::Regular)
                );
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::CardTesting,
            } => {
                let amount = usd(t);
                assert!(
                    (CARD_TESTING_MIN_USD * 0.95..=CARD_TESTING_MAX_USD * 1.05).contains(&amount),
                    "index {k}: ${amount}"
                );
                assert!(
                    !seen.contains(&t.merchant_id),
                    "index {k}: merchant already used on this card"
                );
                assert!(!c.usual_merchants().contains(&t.merchant_id));
                assert!(
                    same_pattern_near(&stream, k, 10.0) >= CARD_TESTING_MIN_TXNS,
                    "index {k}: a burst within seconds"
                );
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::AccountTakeover,
            } => {
                let d = t.device_id.expect("ATO has a device");
                assert!(!c.devices().contains(&d), "index {k}: new device");
                assert_ne!(t.country, c.home_country(), "index {k}: new country");
                assert!(
                    usd(t) >= ACCOUNT_TAKEOVER_MIN_FACTOR * c.median_amount_usd() * 0.99,
                    "index {k}: high amount"
                );
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::Velocity,
            } => {
                let n = same_pattern_near(&stream, k, VELOCITY_WINDOW_SECS);
                assert!(
                    n >= VELOCITY_MIN_TXNS,
                    "index {k}: {n} on the card within the window"
                );
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::ImpossibleTravel,
            } => {
                let prev = &stream[*last_on_card
                    .get(&t.card_id)
                    .expect("a transaction before it on the card")]
                .0;
                let km = haversine_km(prev.lat, prev.lon, t.lat, t.lon);
                let hours = (t.timestamp.as_secs_f64() - prev.timestamp.as_secs_f64()) / 3600.0;
                assert!(
                    hours > 0.0 && km / hours > IMPOSSIBLE_SPEED_KMH,
                    "index {k}: {km} km in {hours} h"
                );
                assert!(km >= IMPOSSIBLE_TRAVEL_MIN_KM * 0.99, "index {k}: {km} km");
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::HighValueAnomaly,
            } => {
                assert_eq!(t.currency, c.currency());
                assert!(
                    t.amount_minor > 8 * c.median_amount_minor(),
                    "index {k}: far above the norm"
                );
            }
            GroundTruth::Fraud {
                pattern: FraudPattern::RiskyMerchant,
            } => {
                assert!(RISKY_MCCS.contains(&t.mcc), "index {k}: mcc {}", t.mcc);
                assert_eq!(f.merchant(t.merchant_id).map(|m| m.mcc), Some(t.mcc));
            }
            GroundTruth::Edge { pattern } => {
                match pattern {
                    EdgeKind::ZeroAmount => assert_eq!(t.amount_minor, 0),
                    EdgeKind::MaxAmount => {
                        assert_eq!(t.amount_minor, max_amount_minor(t.currency))
                    }
                    EdgeKind::ZeroDecimalCurrency => assert_eq!(t.currency, models::Currency::JPY),
                    EdgeKind::ThreeDecimalCurrency => assert_eq!(t.currency, models::Currency::KWD),
                    EdgeKind::MissingOptionalFields => {
                        assert!(t.device_id.is_none() && t.ip.is_none())
                    }
                    EdgeKind::UnicodeMerchantName => assert!(!t.merchant_name.is_ascii()),
                    EdgeKind::ReplayedId => {
                        assert!(
                            t.id.0 < k as u64 && t.id.0 + REPLAY_MAX_DISTANCE >= k as u64,
                            "index {k}"
                        );
                        assert_eq!(
                            stream[t.id.0 as usize].0.id.0, t.id.0,
                            "the id of an earlier index"
                        );
                    }
                    EdgeKind::DayBoundary => assert_eq!(start_of_day(t.timestamp), t.timestamp),
                    EdgeKind::MonthBoundary => {
                        assert_eq!(start_of_month(t.timestamp), t.timestamp);
                        assert!(t.timestamp.to_string().contains("-01T00:00:00.000000Z"));
                    }
                }
                assert_eq!(t.customer_id, c.id());
            }
        }
        *checked.entry(label.pattern_name()).or_insert(0) += 1;
        seen.insert(t.merchant_id);
        last_on_card.insert(t.card_id, k);
    }
    for p in FraudPattern::ALL {
        assert!(
            checked.get(p.as_str()).copied().unwrap_or(0) > 500,
            "{}",
            p.as_str()
        );
    }
}

#[test]
fn amounts_have_each_currencys_scale() {
    let f = TransactionFactory::new(8, FactoryConfig::default()).unwrap();
    let mut medians: HashMap<models::Currency, Vec<f64>> = HashMap::new();
    for (t, label) in f.iter().take(50_000) {
        if label == GroundTruth::Legit {
            medians
                .entry(t.currency)
                .or_default()
                .push(t.amount_major());
        }
    }
    assert!(medians.len() >= 10, "{} currencies", medians.len());
    let mut median = |c| {
        let v: &mut Vec<f64> = medians.get_mut(&c).unwrap();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    // Typical purchases: tens of dollars, thousands of yen, about ten dinars.
    let usd = median(models::Currency::USD);
    let jpy = median(models::Currency::JPY);
    let kwd = median(models::Currency::KWD);
    assert!((10.0..100.0).contains(&usd), "USD {usd}");
    assert!((1500.0..15_000.0).contains(&jpy), "JPY {jpy}");
    assert!((3.0..30.0).contains(&kwd), "KWD {kwd}");
}

//! Business figures of a whole default-mix stream from the transaction factory: the false-decline
//! amount counts ordinary legitimate traffic only, so it stays bounded by what that traffic is worth.

use metrics_core::{MetricsConfig, Recorder, Timing};
use models::{Decision, GroundTruth, Verdict};
use std::time::Duration;
use transaction_factory::{FactoryConfig, TransactionFactory};

#[test]
fn declining_everything_costs_at_most_the_legit_amounts() {
    let factory = TransactionFactory::new(7, FactoryConfig::default()).unwrap();
    let config = MetricsConfig::default();
    // Units of the reporting currency per major unit, from the same declared table the recorder uses.
    let to_reporting = |c: models::Currency| {
        config.cost.fx.0[&c]
            / config.cost.fx.0[&config.cost.currency]
            / 10f64.powi(i32::from(c.minor_units()))
    };
    let recorder = Recorder::new(config.clone()).unwrap();
    let mut shard = recorder.shard();
    let decline = Verdict {
        decision: Decision::Decline,
        risk_score: 1.0,
        reasons: vec![],
        agents: vec![],
    };
    let (mut legit_sum, mut fraud_sum, mut edge_sum, mut edges) = (0.0, 0.0, 0.0, 0);
    let n = 100_000u64;
    for (i, (txn, truth)) in factory.iter().take(n as usize).enumerate() {
        let amount = txn.amount_minor as f64 * to_reporting(txn.currency);
        match truth {
            GroundTruth::Legit => legit_sum += amount,
            GroundTruth::Fraud { .. } => fraud_sum += amount,
            GroundTruth::Edge { .. } => {
                edge_sum += amount;
                edges += 1;
            }
        }
        let t = Duration::from_micros(i as u64 * 100);
        shard.record_sent();
        shard.record(
            Timing::new(t, t, t + Duration::from_millis(2)),
            &txn,
            truth,
            Ok(&decline),
        );
    }
    let s = recorder.summary(Duration::from_secs(10));
    let f = &s.fraud;
    assert_eq!(s.load.completed, n);
    // Edge cases are legitimate in the confusion matrix: declining them is a false positive.
    assert_eq!(f.tn + f.fn_, 0);
    assert_eq!(f.tp + f.fp, n);
    assert!(edges > 4_000 && f.fp > 80_000, "fp {} edges {edges}", f.fp);
    // Money: every fraud prevented, every ordinary legit amount lost, edge-case amounts left out.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.max(1.0);
    assert!(
        f.false_decline_amount <= legit_sum * (1.0 + 1e-12),
        "false declines {} above the legit total {legit_sum}",
        f.false_decline_amount
    );
    assert!(
        close(f.false_decline_amount, legit_sum),
        "{} vs {legit_sum}",
        f.false_decline_amount
    );
    assert!(
        close(f.prevented_amount, fraud_sum),
        "{} vs {fraud_sum}",
        f.prevented_amount
    );
    // The maximum-amount edge cases are large but not absurd: a few hundred payments of at most about
    // a million dollars each, against some four million dollars of everyday spending.
    assert!(edge_sum < 1e9, "edge-case amounts {edge_sum}");
    assert!((1e6..1e8).contains(&legit_sum), "legit amounts {legit_sum}");
}

//! The mix holds within one percentage point over 100,000 transactions, and every pattern and edge
//! kind shows up.

use models::{EdgeKind, FraudPattern, GroundTruth, MixSpec};
use std::collections::HashMap;
use transaction_factory::{FactoryConfig, TransactionFactory};

fn shares(seed: u64, mix: MixSpec) -> (f64, f64, f64, HashMap<&'static str, usize>) {
    let f = TransactionFactory::new(
        seed,
        FactoryConfig {
            mix,
            ..FactoryConfig::default()
        },
    )
    .unwrap();
    let n = 100_000;
    let (mut legit, mut fraud, mut edge) = (0, 0, 0);
    let mut by_pattern = HashMap::new();
    for (_, label) in f.iter().take(n) {
        match label {
            GroundTruth::Legit => legit += 1,
            GroundTruth::Fraud { .. } => fraud += 1,
            GroundTruth::Edge { .. } => edge += 1,
        }
        *by_pattern.entry(label.pattern_name()).or_insert(0) += 1;
    }
    let n = n as f64;
    (
        legit as f64 / n,
        fraud as f64 / n,
        edge as f64 / n,
        by_pattern,
    )
}

#[test]
fn default_mix_within_one_point_and_all_kinds_present() {
    let (legit, fraud, edge, by_pattern) = shares(42, MixSpec::default());
    assert!((legit - 0.80).abs() <= 0.01, "legit {legit}");
    assert!((fraud - 0.15).abs() <= 0.01, "fraud {fraud}");
    assert!((edge - 0.05).abs() <= 0.01, "edge {edge}");
    for p in FraudPattern::ALL {
        let n = by_pattern.get(p.as_str()).copied().unwrap_or(0);
        // Each pattern gets a fair share of the 15,000 fraud transactions.
        assert!(n > 1000, "{}: {n}", p.as_str());
    }
    for e in EdgeKind::ALL {
        let n = by_pattern.get(e.as_str()).copied().unwrap_or(0);
        assert!(n > 300, "{}: {n}", e.as_str());
    }
}

#[test]
fn other_mixes_hold_too() {
    for (seed, mix) in [
        (
            1,
            MixSpec {
                legit: 0.6,
                fraud: 0.3,
                edge: 0.1,
            },
        ),
        (
            2,
            MixSpec {
                legit: 0.97,
                fraud: 0.02,
                edge: 0.01,
            },
        ),
        (
            3,
            MixSpec {
                legit: 1.0,
                fraud: 0.0,
                edge: 0.0,
            },
        ),
    ] {
        let (legit, fraud, edge, _) = shares(seed, mix);
        assert!((legit - mix.legit).abs() <= 0.01, "{mix:?}: legit {legit}");
        assert!((fraud - mix.fraud).abs() <= 0.01, "{mix:?}: fraud {fraud}");
        assert!((edge - mix.edge).abs() <= 0.01, "{mix:?}: edge {edge}");
    }
}

//! Detection quality on a seeded factory stream, through the in-process pipeline with no simulated
//! service time. The detector learns card profiles from the traffic it sees, so it first scores a
//! warm-up stretch of the stream (not counted), then the measured 20,000 transactions.

use fraud_sim::{Pipeline, SimConfig};
use models::{GroundTruth, Transaction};
use std::collections::BTreeMap;
use transaction_factory::{FactoryConfig, TransactionFactory};

const WARM_UP: usize = 200_000;
const MEASURED: usize = 20_000;

#[derive(Debug, Default)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
    tn: u64,
    per_pattern: BTreeMap<&'static str, (u64, u64)>,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_) as f64
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp) as f64
    }
}

async fn measure(pipeline: &Pipeline, stream: &[(Transaction, GroundTruth)]) -> Tally {
    let mut t = Tally::default();
    for (txn, label) in stream {
        let verdict = pipeline.process(txn).await.expect("no faults, no errors");
        let flagged = verdict.decision.is_flagged();
        match (label.is_fraud(), flagged) {
            (true, true) => t.tp += 1,
            (true, false) => t.fn_ += 1,
            (false, true) => t.fp += 1,
            (false, false) => t.tn += 1,
        }
        let e = t.per_pattern.entry(label.pattern_name()).or_default();
        e.0 += 1;
        e.1 += u64::from(flagged);
    }
    t
}

#[tokio::test]
async fn default_rules_catch_85_percent_with_80_percent_precision() {
    let factory = TransactionFactory::new(42, FactoryConfig::default()).unwrap();
    let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let mut stream = factory.iter();
    let warm_up: Vec<_> = stream.by_ref().take(WARM_UP).collect();
    measure(&pipeline, &warm_up).await;
    let measured: Vec<_> = stream.take(MEASURED).collect();
    let t = measure(&pipeline, &measured).await;
    let report = format!(
        "recall {:.4} precision {:.4} (tp {} fp {} fn {} tn {}); flagged share per pattern: {:?}",
        t.recall(),
        t.precision(),
        t.tp,
        t.fp,
        t.fn_,
        t.tn,
        t.per_pattern.iter().map(|(k, (n, f))| (*k, format!("{:.3} of {n}", *f as f64 / *n as f64))).collect::<Vec<_>>()
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{report}");
    }
    assert!(t.recall() >= 0.85, "{report}");
    assert!(t.precision() >= 0.80, "{report}");
}

//! Detection quality on a seeded factory stream, through the in-process pipeline with no simulated
//! service time. The detector learns card profiles from the traffic it sees, so it first scores a
//! warm-up stretch of the stream (about three transactions per card; not counted), then the measured
//! 20,000 transactions.

use fraud_sim::{Pipeline, SimConfig, StageName};
use models::{GroundTruth, Transaction};
use std::collections::BTreeMap;
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

const WARM_UP: usize = 200_000;
const MEASURED: usize = 20_000;

#[derive(Debug, Default)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
    tn: u64,
    /// Per label: (count, flagged).
    per_pattern: BTreeMap<&'static str, (u64, u64)>,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_) as f64
    }

    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp) as f64
    }

    fn flagged_share(&self, pattern: &str) -> f64 {
        let (n, f) = self.per_pattern[pattern];
        f as f64 / n as f64
    }

    fn report(&self) -> String {
        let per: Vec<String> = self
            .per_pattern
            .keys()
            .map(|k| format!("{k} {:.3}", self.flagged_share(k)))
            .collect();
        format!(
            "recall {:.4}, precision {:.4} (tp {}, fp {}, fn {}, tn {}); flagged share: {}",
            self.recall(),
            self.precision(),
            self.tp,
            self.fp,
            self.fn_,
            self.tn,
            per.join(", ")
        )
    }
}

async fn score_all(pipeline: &Pipeline, stream: &[(Transaction, GroundTruth)]) -> Tally {
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

/// Warms the pipeline up on the stream's first part and scores the next `MEASURED` transactions.
async fn measure(seed: u64, pipeline: &Pipeline) -> Tally {
    let factory = TransactionFactory::new(seed, FactoryConfig::default()).unwrap();
    let mut stream = factory.iter();
    let warm_up: Vec<_> = stream.by_ref().take(WARM_UP).collect();
    score_all(pipeline, &warm_up).await;
    let measured: Vec<_> = stream.take(MEASURED).collect();
    score_all(pipeline, &measured).await
}

#[tokio::test]
async fn default_rules_catch_85_percent_with_80_percent_precision() {
    let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let t = measure(42, &pipeline).await;
    let report = t.report();
    #[allow(clippy::print_stderr)]
    {
        eprintln!("detection quality, seed 42: {report}");
    }
    assert!(t.recall() >= 0.85, "{report}");
    assert!(t.precision() >= 0.80, "{report}");
    for pattern in [
        "card_testing",
        "impossible_travel",
        "risky_merchant",
        "velocity",
    ] {
        assert!(t.flagged_share(pattern) >= 0.9, "{pattern}: {report}");
    }
    assert!(t.flagged_share("legit") < 0.05, "{report}");
}

#[tokio::test]
async fn without_the_history_agents_the_fallback_misses_most_fraud() {
    let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    pipeline.faults().crash(StageName::PatternDetector);
    pipeline.faults().crash(StageName::RiskAssessor);
    let t = measure(42, &pipeline).await;
    let report = t.report();
    #[allow(clippy::print_stderr)]
    {
        eprintln!("detection quality with pattern detector and risk assessor down: {report}");
    }
    // What needs the card's history goes unseen...
    assert!(t.recall() < 0.6, "{report}");
    for pattern in [
        "impossible_travel",
        "velocity",
        "account_takeover",
        "high_value_anomaly",
    ] {
        assert!(t.flagged_share(pattern) < 0.2, "{pattern}: {report}");
    }
    // ...while the transaction-only rules still work.
    assert!(t.flagged_share("risky_merchant") >= 0.9, "{report}");
    assert!(t.flagged_share("card_testing") >= 0.9, "{report}");
    assert!(pipeline.stage(StageName::PatternDetector).failures >= (WARM_UP + MEASURED) as u64);
}

/// What a run of the orchestrator sends: the stream on its realistic clock (each customer pays about
/// once an hour of stream time, whatever the send rate), scored from a cold start with no warm-up, as
/// long as a 60 s run at 5,000 TPS (300,000 transactions). Detection logic only (no simulated time),
/// so it is deterministic; overload is the subject of `tests/timing.rs`.
#[tokio::test]
async fn a_run_at_the_orchestrators_clock_meets_the_quality_bar_from_a_cold_start() {
    const RUN: usize = 300_000;
    let config = FactoryConfig::default().with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S);
    let factory = TransactionFactory::new(42, config).unwrap();
    let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let stream: Vec<_> = factory.iter().take(RUN).collect();
    let t = score_all(&pipeline, &stream).await;
    let report = t.report();
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "detection quality, orchestrator's clock, cold start, {RUN} transactions: {report}"
        );
    }
    assert!(t.recall() >= 0.85, "{report}");
    assert!(t.precision() >= 0.80, "{report}");
    assert!(t.flagged_share("legit") < 0.03, "{report}");
}

/// A smoke-sized run (20 s at 200 TPS: 3,800 transactions, fewer than the 75,000 cards) on the
/// orchestrator's clock, by a detector warmed with the default period of the cards' history before
/// the run (the population's everyday purchases, no label read) and by a cold one.
#[tokio::test]
async fn a_warm_detector_meets_the_quality_bar_from_the_first_transaction_of_a_short_run() {
    const RUN: usize = 3_800;
    let config = FactoryConfig::default().with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S);
    let factory = TransactionFactory::new(42, config).unwrap();
    let stream: Vec<_> = factory.iter().take(RUN).collect();

    let warm = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let learned = warm.learn_history(factory.history(models::DEFAULT_WARM_UP));
    let expected = models::DEFAULT_WARM_UP.as_secs_f64() * factory.config().rate_tps;
    assert_eq!(learned, expected.round() as usize);
    // The history teaches profiles; it is not traffic.
    assert!(warm.stages().iter().all(|s| s.requests == 0));
    let t = score_all(&warm, &stream).await;
    let report = t.report();

    let cold = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let c = score_all(&cold, &stream).await;
    #[allow(clippy::print_stderr)]
    {
        eprintln!("detection quality, {RUN} transactions, warm ({learned} learned): {report}");
        eprintln!("the same from a cold start: {}", c.report());
    }
    assert!(t.recall() >= 0.85, "{report}");
    assert!(t.precision() >= 0.80, "{report}");
    // Account takeovers and amount anomalies need a card's history to stand out from.
    for pattern in ["account_takeover", "high_value_anomaly"] {
        assert!(t.flagged_share(pattern) >= 0.8, "{pattern}: {report}");
        assert!(
            c.flagged_share(pattern) < 0.2,
            "{pattern} cold: {}",
            c.report()
        );
    }
    assert!(t.flagged_share("legit") < 0.01, "{report}");
    assert!(c.recall() < 0.85, "cold: {}", c.report());
}

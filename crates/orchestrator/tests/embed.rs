//! Embedding the orchestrator: a whole scenario (TOML, criteria, state machine, results folder) against
//! a detector of your own, as a closure. Copy this file to start your team's stress test; for an HTTP
//! endpoint, leave out `with_target` and set `[target] kind = "http"` and `url` in the scenario.
//!
//! Runs under tokio's paused clock, so the 3-second scenario takes milliseconds of real time and its
//! figures are the same on every machine.

use models::{Decision, Transaction, Verdict};
use orchestrator::{EndReason, PreparedTarget, RunOptions, StressTestOrchestrator, scenario_file};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use targets::FnTarget;
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

/// The detector under test declines anything above this many major units (dollars, euros, yen...).
const DECLINE_ABOVE: f64 = 1_000.0;
/// ...and takes this long to answer.
const THINKING: Duration = Duration::from_millis(5);

/// The detector's own logic, kept in one function so that the test can apply it to the ground truth.
fn declines(txn: &Transaction) -> bool {
    txn.amount_major() > DECLINE_ABOVE
}

const SCENARIO: &str = r#"
    name = "embed"
    seed = 7

    [[load.stages]]
    shape = "ramp"
    from_tps = 0
    to_tps = 200
    duration = "1s"

    [[load.stages]]
    shape = "sustained"
    tps = 200
    duration = "2s"
    name = "hold"

    [[criteria]]
    metric = "errors.rate"
    op = "<"
    threshold = 0.01

    [[criteria]]
    metric = "latency_ms.p99"
    op = "<"
    threshold = 50
"#;

#[tokio::test(start_paused = true)]
async fn a_scenario_against_a_closure_detector() {
    // 1. The scenario, from TOML (or build a `models::ScenarioSpec` in code).
    let spec = scenario_file::parse_str(SCENARIO, "embed.toml").expect("valid scenario");

    // 2. The system under test: a closure with its own verdict logic. It counts what it declined, so
    //    the run's detection figures can be checked against it.
    let declined = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let (declined_in, seen_in) = (declined.clone(), seen.clone());
    let detector = FnTarget::new(move |txn: &Transaction| {
        seen_in.fetch_add(1, Ordering::Relaxed);
        let decline = declines(txn);
        if decline {
            declined_in.fetch_add(1, Ordering::Relaxed);
        }
        async move {
            tokio::time::sleep(THINKING).await;
            Ok(Verdict {
                decision: if decline {
                    Decision::Decline
                } else {
                    Decision::Approve
                },
                risk_score: if decline { 0.9 } else { 0.1 },
                reasons: vec![],
                agents: vec![],
            })
        }
    });

    // 3. Run it; the results folder (summary.json, intervals.jsonl, events.jsonl, latency.hgrm) goes
    //    to `out_dir`. `orch.control()` could pause, resume, change the rate or stop it meanwhile.
    let dir = std::env::temp_dir().join(format!("orch-embed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = RunOptions {
        out_dir: Some(dir.clone()),
        ..RunOptions::default()
    };
    let orch = StressTestOrchestrator::new(spec.clone(), options)
        .expect("the scenario passes validation")
        .with_target(PreparedTarget::custom(Arc::new(detector), None));
    let outcome = orch.run().await.expect("the run completes");

    // 4. What the run measured.
    let summary = &outcome.summary;
    assert_eq!(outcome.end_reason, EndReason::Completed);
    assert!(summary.passed, "{:#?}", summary.criteria);
    assert_eq!(outcome.exit_code(), 0);
    assert_eq!(summary.target.kind, "closure");

    // Every arrival of the schedule was sent and answered, none dropped: the ramp's area plus the hold.
    let expected: u64 = spec
        .load
        .stages
        .iter()
        .map(|stage| {
            let (from, to, secs) = match stage {
                models::Stage::Ramp {
                    from_tps,
                    to_tps,
                    duration,
                    ..
                } => (*from_tps, *to_tps, duration.as_secs_f64()),
                models::Stage::Sustained { tps, duration, .. } => {
                    (*tps, *tps, duration.as_secs_f64())
                }
                other => panic!("this test plans only ramps and plateaus, not {other:?}"),
            };
            ((from + to) / 2.0 * secs).round() as u64
        })
        .sum();
    assert_eq!(summary.load.scheduled, expected);
    assert_eq!(summary.load.sent, expected);
    assert_eq!(summary.load.completed, expected);
    assert_eq!(summary.load.dropped, 0);
    assert_eq!(seen.load(Ordering::Relaxed), expected);
    assert_eq!(summary.errors.total, 0);

    // Latency includes the detector's thinking time (measured on the paused clock).
    let thinking_ms = THINKING.as_secs_f64() * 1e3;
    assert!(
        summary.service_time_ms.p50 >= thinking_ms,
        "{:?}",
        summary.service_time_ms
    );

    // Detection: every decline is a flag, and the confusion matrix is the detector's logic applied to
    // the stream's ground truth. The orchestrator sends transaction-factory's stream for the scenario's
    // seed and mix, on the stream clock of one purchase per customer per hour (docs/architecture.md).
    let declined = declined.load(Ordering::Relaxed);
    let fraud = &summary.fraud;
    assert_eq!(fraud.tp + fraud.fp, declined);
    assert_eq!(fraud.tn + fraud.fn_, expected - declined);
    let factory = TransactionFactory::new(
        spec.seed,
        FactoryConfig {
            mix: spec.mix,
            ..FactoryConfig::default()
        }
        .with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S),
    )
    .expect("valid factory config");
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    for (txn, truth) in factory.iter().take(expected as usize) {
        match (truth.is_fraud(), declines(&txn)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
            (true, false) => fn_ += 1,
        }
    }
    assert_eq!((fraud.tp, fraud.fp, fraud.tn, fraud.fn_), (tp, fp, tn, fn_));
    assert!(tp > 0 && fn_ > 0, "the rule catches some fraud, not all");
    let recall = tp as f64 / (tp + fn_) as f64;
    assert!((fraud.recall - recall).abs() < 1e-9, "{fraud:?}");

    // The same figures are on disk for reports and CI.
    let written: models::Summary = serde_json::from_str(
        &std::fs::read_to_string(outcome.dir.join("summary.json")).expect("summary.json"),
    )
    .expect("summary.json parses");
    assert_eq!(written.load.sent, expected);
    assert_eq!((written.fraud.tp, written.fraud.fn_), (tp, fn_));
    let _ = std::fs::remove_dir_all(&dir);
}

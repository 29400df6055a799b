//! Fraud the API never judged: a detector that answers every fraud it sees correctly but fails on
//! some transactions (an HTTP 503, a timeout) and, being slow there, makes the driver drop some
//! arrivals. Recall over answered fraud stays perfect; `fraud.unscored` and `fraud.recall_effective`
//! count what the detector actually did, and a criterion on recall_effective fails the run.
//!
//! Runs under tokio's paused clock, so the figures are the same on every machine.

use models::{Decision, IntervalSnapshot, Transaction, Verdict};
use orchestrator::{PreparedTarget, RunOptions, StressTestOrchestrator, scenario_file};
use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::{FnTarget, TargetError};
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

/// Well within the scenario's 30 ms timeout.
const QUICK: Duration = Duration::from_millis(5);
/// Well past it: these requests time out.
const STUCK: Duration = Duration::from_millis(100);

/// What the detector does with a transaction it is sent, by id (it never sees the label).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Unavailable,
    Stuck,
    Answers,
}

fn behaviour(id: u64) -> Behaviour {
    match id % 7 {
        0 => Behaviour::Unavailable,
        1 => Behaviour::Stuck,
        _ => Behaviour::Answers,
    }
}

const SCENARIO: &str = r#"
    name = "unscored"
    seed = 11

    [[load.stages]]
    shape = "sustained"
    tps = 200
    duration = "3s"

    [target]
    timeout = "30ms"
    max_in_flight = 3

    [[criteria]]
    name = "answered recall"
    metric = "fraud.recall"
    op = ">="
    threshold = 0.99

    [[criteria]]
    name = "effective recall"
    metric = "fraud.recall_effective"
    op = ">="
    threshold = 0.99
"#;

#[tokio::test(start_paused = true)]
async fn fraud_without_a_verdict_is_unscored_and_lowers_effective_recall() {
    let spec = scenario_file::parse_str(SCENARIO, "unscored.toml").expect("valid scenario");
    let scheduled = 600usize; // 200 TPS for 3 s
    let factory = TransactionFactory::new(
        spec.seed,
        FactoryConfig {
            mix: spec.mix,
            ..FactoryConfig::default()
        }
        .with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S),
    )
    .expect("valid factory config");
    let stream: Vec<(u64, bool)> = factory
        .iter()
        .take(scheduled)
        .map(|(txn, truth)| (txn.id.0, truth.is_fraud()))
        .collect();
    // The detector is perfect on what it answers: it declines exactly the fraud.
    let fraud_ids: Arc<HashSet<u64>> = Arc::new(
        stream
            .iter()
            .filter(|(_, fraud)| *fraud)
            .map(|(id, _)| *id)
            .collect(),
    );

    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let seen_in = seen.clone();
    let detector = FnTarget::new(move |txn: &Transaction| {
        let id = txn.id.0;
        seen_in.lock().unwrap().insert(id);
        let fraud = fraud_ids.contains(&id);
        async move {
            match behaviour(id) {
                Behaviour::Unavailable => Err(TargetError::Status { status: 503 }),
                Behaviour::Stuck => {
                    tokio::time::sleep(STUCK).await;
                    Err(TargetError::Status { status: 500 }) // never seen: the driver times out first
                }
                Behaviour::Answers => {
                    tokio::time::sleep(QUICK).await;
                    Ok(Verdict {
                        decision: if fraud {
                            Decision::Decline
                        } else {
                            Decision::Approve
                        },
                        risk_score: if fraud { 0.9 } else { 0.1 },
                        reasons: vec![],
                        agents: vec![],
                    })
                }
            }
        }
    });

    let dir = std::env::temp_dir().join(format!("orch-unscored-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = RunOptions {
        out_dir: Some(dir.clone()),
        ..RunOptions::default()
    };
    let orch = StressTestOrchestrator::new(spec, options)
        .expect("the scenario passes validation")
        .with_target(PreparedTarget::custom(Arc::new(detector), None));
    let outcome = orch.run().await.expect("the run completes");
    let summary = &outcome.summary;

    // What the detector did, from its own log and the stream's ground truth: a transaction it never
    // saw was dropped; one it saw got a verdict only when it answers.
    let seen = seen.lock().unwrap().clone();
    let (mut tp, mut unscored, mut dropped, mut failed) = (0u64, 0u64, 0u64, 0u64);
    let fn_ = 0u64; // a perfect detector misses nothing it answers
    for (id, fraud) in &stream {
        let judged = seen.contains(id) && behaviour(*id) == Behaviour::Answers;
        dropped += u64::from(!seen.contains(id));
        failed += u64::from(seen.contains(id) && !judged);
        match (fraud, judged) {
            (true, true) => tp += 1,
            (true, false) => unscored += 1,
            (false, _) => {}
        }
    }
    assert_eq!(summary.load.scheduled, scheduled as u64);
    assert!(
        dropped > 0 && failed > 0,
        "the run exercises drops ({dropped}) and errors ({failed})"
    );
    assert_eq!(summary.load.dropped, dropped);
    assert_eq!(summary.errors.total, failed);
    let fraud = &summary.fraud;
    assert_eq!((fraud.tp, fraud.fn_, fraud.unscored), (tp, fn_, unscored));
    assert!(unscored > 0 && tp > 0);
    assert_eq!(fraud.recall, 1.0, "every answered fraud was declined");
    let effective = tp as f64 / (tp + fn_ + unscored) as f64;
    assert!(
        (fraud.recall_effective - effective).abs() < 1e-12,
        "{fraud:?}"
    );
    let per_pattern_unscored: u64 = fraud.per_pattern.values().map(|p| p.unscored).sum();
    assert_eq!(per_pattern_unscored, unscored);

    // The criterion on recall passes, the one on recall_effective fails, and so does the run.
    let judged: Vec<(&str, bool, f64)> = summary
        .criteria
        .iter()
        .map(|c| (c.name.as_str(), c.passed(), c.actual().unwrap_or(f64::NAN)))
        .collect();
    let criterion = |wanted: &str| {
        judged
            .iter()
            .find(|(name, _, _)| *name == wanted)
            .copied()
            .unwrap_or_else(|| panic!("no criterion {wanted:?} in {judged:?}"))
    };
    assert_eq!(criterion("answered recall"), ("answered recall", true, 1.0));
    let (_, passed, actual) = criterion("effective recall");
    assert!(!passed && (actual - effective).abs() < 1e-12, "{judged:?}");
    assert!(!summary.passed);
    assert_eq!(outcome.exit_code(), 1);

    // The ticks carry the same count: the intervals add up to it and the last cumulative equals it.
    let ticks: Vec<IntervalSnapshot> = std::fs::read_to_string(outcome.dir.join("intervals.jsonl"))
        .expect("intervals.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a tick parses"))
        .collect();
    assert_eq!(
        ticks.iter().map(|t| t.fraud.unscored).sum::<u64>(),
        unscored
    );
    let last = ticks.last().expect("at least one tick");
    assert_eq!(last.cumulative.fraud.unscored, unscored);
    assert!((last.cumulative.fraud.recall_effective() - effective).abs() < 1e-12);

    // And summary.json has them for reports and CI.
    let written: models::Summary = serde_json::from_str(
        &std::fs::read_to_string(outcome.dir.join("summary.json")).expect("summary.json"),
    )
    .expect("summary.json parses");
    assert_eq!(written.fraud.unscored, unscored);
    assert_eq!(written.fraud.recall_effective, fraud.recall_effective);
    let _ = std::fs::remove_dir_all(&dir);
}

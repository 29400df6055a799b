//! A criterion on a figure the run did not measure: a target that reports no per-agent timings and a
//! run with no fault leave `agents.min_health` and `resilience.cascades` without a number. They read
//! "not measured" in `summary.json` and the events, and fail the run, unless the scenario (or the
//! criterion) says `when_unmeasured = "skip"`. On tokio's paused clock.

use models::{CriterionOutcome, Decision, EventKind, RunEvent, Summary, Transaction, Verdict};
use orchestrator::{EndReason, PreparedTarget, RunOptions, StressTestOrchestrator, scenario_file};
use std::path::PathBuf;
use std::sync::Arc;
use targets::FnTarget;

const SCENARIO: &str = r#"
    name = "unmeasured"
    seed = 3
    WHEN

    [[load.stages]]
    shape = "sustained"
    tps = 50
    duration = "2s"

    [[criteria]]
    metric = "errors.rate"
    op = "<"
    threshold = 0.01

    [[criteria]]
    metric = "agents.min_health"
    op = ">="
    threshold = 80

    [[criteria]]
    metric = "resilience.cascades"
    op = "<="
    threshold = 0
"#;

/// A detector that answers every transaction and times no agents.
fn agentless() -> PreparedTarget {
    let detector = FnTarget::new(|_: &Transaction| async {
        Ok(Verdict {
            decision: Decision::Approve,
            risk_score: 0.1,
            reasons: vec![],
            agents: vec![],
        })
    });
    PreparedTarget::custom(Arc::new(detector), None)
}

async fn run(when: &str, name: &str) -> (Summary, Vec<RunEvent>, i32) {
    let text = SCENARIO.replace("WHEN", when);
    let spec = scenario_file::parse_str(&text, "unmeasured.toml").expect("valid scenario");
    let dir: PathBuf =
        std::env::temp_dir().join(format!("orch-unmeasured-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = RunOptions {
        out_dir: Some(dir.clone()),
        ..RunOptions::default()
    };
    let outcome = StressTestOrchestrator::new(spec, options)
        .unwrap()
        .with_target(agentless())
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.end_reason, EndReason::Completed);
    let written: Summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(written.criteria, outcome.summary.criteria);
    let events = std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    (written, events, i32::from(outcome.exit_code()))
}

fn not_measured_events(events: &[RunEvent]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CriterionNotMeasured { name, skipped, .. } => Some((name.clone(), *skipped)),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_criterion_on_a_figure_not_measured_fails_the_run() {
    let (s, events, exit) = run("", "fail").await;
    assert!(s.criteria[0].passed(), "{:?}", s.criteria[0]);
    for c in &s.criteria[1..] {
        assert!(
            matches!(c.outcome, CriterionOutcome::NotMeasured { .. }),
            "{c:?}"
        );
    }
    assert!(
        s.criteria[1]
            .not_measured()
            .is_some_and(|r| r.contains("no per-agent timings")),
        "{:?}",
        s.criteria[1]
    );
    assert!(!s.passed);
    assert_eq!(exit, 1);
    assert_eq!(
        not_measured_events(&events),
        vec![
            ("agents.min_health >= 80".to_owned(), false),
            ("resilience.cascades <= 0".to_owned(), false)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn when_unmeasured_skip_leaves_them_out() {
    let (s, events, exit) = run(r#"when_unmeasured = "skip""#, "skip").await;
    assert!(
        s.criteria[1..]
            .iter()
            .all(|c| matches!(c.outcome, CriterionOutcome::Skipped { .. })),
        "{:?}",
        s.criteria
    );
    assert!(s.passed, "{:?}", s.criteria);
    assert_eq!(exit, 0);
    assert_eq!(not_measured_events(&events).len(), 2);
    assert!(
        not_measured_events(&events)
            .iter()
            .all(|(_, skipped)| *skipped)
    );
}

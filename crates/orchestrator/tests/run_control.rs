//! Whole runs against the built-in pipeline in-process, on tokio's paused clock: states and events,
//! control (pause, resume, stop, rate multiplier, manual faults), scheduled faults, safeguards and the
//! results folder.

use models::{
    Comparison, CriterionSpec, EventKind, FaultKind, FaultSpec, IntervalSnapshot, LoadProfile,
    RunEvent, RunState, ScenarioSpec, Stage, Summary, TargetKind,
};
use orchestrator::{EndReason, RunOptions, StressTestOrchestrator};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn spec(stages: Vec<Stage>) -> ScenarioSpec {
    let mut s = orchestrator::timeline::plain(1.0, secs(1)).unwrap();
    s.name = "test".into();
    s.load = LoadProfile {
        arrival: Default::default(),
        stages,
    };
    s.target.kind = TargetKind::InProcess;
    s
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(dir: &Path) -> RunOptions {
    RunOptions {
        out_dir: Some(dir.to_owned()),
        ..RunOptions::default()
    }
}

fn read_lines<T: serde::de::DeserializeOwned>(path: PathBuf) -> Vec<T> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn states(events: &[RunEvent]) -> Vec<RunState> {
    let mut out = vec![RunState::Idle];
    out.extend(events.iter().filter_map(|e| match e.kind {
        EventKind::StateChanged { to, .. } => Some(to),
        _ => None,
    }));
    out
}

#[tokio::test(start_paused = true)]
async fn a_run_walks_the_states_and_writes_every_file() {
    let dir = out_dir("walk");
    let mut s = spec(vec![
        Stage::Ramp {
            from_tps: 0.0,
            to_tps: 100.0,
            duration: secs(2),
            name: Some("up".into()),
        },
        Stage::Sustained {
            tps: 100.0,
            duration: secs(4),
            name: Some("hold".into()),
        },
    ]);
    s.criteria = vec![CriterionSpec::new("errors.rate", Comparison::Lt, 0.01), {
        let mut c = CriterionSpec::new("load.completed", Comparison::Ge, 390.0);
        c.phase = Some("hold".into());
        c
    }];
    let outcome = StressTestOrchestrator::new(s, options(&dir))
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.end_reason, EndReason::Completed);
    assert!(outcome.summary.passed, "{:?}", outcome.summary.criteria);
    assert_eq!(outcome.exit_code(), 0);
    // 0.5 * 100 * 2 + 100 * 4 planned arrivals.
    assert_eq!(outcome.summary.load.scheduled, 500);
    assert_eq!(outcome.summary.load.completed, 500);

    let events: Vec<RunEvent> = read_lines(dir.join("events.jsonl"));
    use RunState::*;
    assert_eq!(
        states(&events),
        vec![Idle, Initializing, RampingUp, Running, Stopping, Completed]
    );
    let ramp_end = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::StateChanged { to: Running, .. }))
        .unwrap()
        .t_s;
    assert!(
        (ramp_end - 2.0).abs() < 0.01,
        "Running begins when the ramp ends: {ramp_end}"
    );
    assert!(events.iter().any(|e| e.kind
        == EventKind::PhaseStarted {
            name: "hold".into()
        }));

    let ticks: Vec<IntervalSnapshot> = read_lines(dir.join("intervals.jsonl"));
    assert!((6..=7).contains(&ticks.len()), "{} ticks", ticks.len());
    assert_eq!(ticks.iter().map(|t| t.scheduled).sum::<u64>(), 500);
    assert_eq!(ticks[0].state, RampingUp);
    assert_eq!(ticks[0].phase.as_deref(), Some("up"));
    assert_eq!(ticks[3].phase.as_deref(), Some("hold"));
    assert!(ticks.iter().all(|t| t.histograms.is_some()));
    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    // Field by field: serde_json's float parsing may differ from the written value in the last bit.
    assert_eq!(
        (
            &summary.run_id,
            &summary.load,
            &summary.criteria,
            summary.passed
        ),
        (
            &outcome.summary.run_id,
            &outcome.summary.load,
            &outcome.summary.criteria,
            outcome.summary.passed
        )
    );
    assert!((summary.latency_ms.p99 - outcome.summary.latency_ms.p99).abs() < 1e-9);
    assert!(summary.run_id.is_empty() || summary.run_id.contains("-test-"));
    let hgrm = std::fs::read_to_string(dir.join("latency.hgrm")).unwrap();
    assert!(hgrm.contains("Total count    =          500"), "{hgrm}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn control_pauses_resumes_scales_and_stops() {
    let dir = out_dir("control");
    let s = spec(vec![Stage::Sustained {
        tps: 100.0,
        duration: secs(60),
        name: None,
    }]);
    let orch = StressTestOrchestrator::new(
        s,
        RunOptions {
            auto_start: false,
            ..options(&dir)
        },
    )
    .unwrap();
    let control = orch.control();
    let mut events = control.subscribe_events();
    let mut frames = control.subscribe_frames();
    let run = tokio::spawn(orch.run());

    assert!(control.pause().is_err(), "an idle run cannot be paused");
    control.start().unwrap();
    let wait_for = |want: RunState| {
        let mut st = control.watch_state();
        async move {
            st.wait_for(|s| *s == want).await.unwrap();
        }
    };
    wait_for(RunState::Running).await;
    tokio::time::sleep(secs(3)).await;
    control.pause().unwrap();
    wait_for(RunState::Paused).await;
    tokio::time::sleep(secs(3)).await;
    control.resume().unwrap();
    wait_for(RunState::Running).await;
    control.set_rate_multiplier(2.0).unwrap();
    tokio::time::sleep(secs(3)).await;
    control.stop().unwrap();
    let outcome = run.await.unwrap().unwrap();
    assert_eq!(outcome.end_reason, EndReason::Stopped);
    assert!(
        !outcome.summary.passed,
        "a stopped run did not run its profile"
    );
    assert_eq!(outcome.exit_code(), 1);

    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    use RunState::*;
    assert_eq!(
        states(&seen)[1..],
        [Initializing, Running, Paused, Running, Stopping, Completed]
    );
    assert!(
        seen.iter()
            .any(|e| e.kind == EventKind::RateMultiplier { value: 2.0 })
    );

    let mut ticks = Vec::new();
    while let Ok(f) = frames.try_recv() {
        ticks.push(f);
    }
    let paused: Vec<&IntervalSnapshot> = ticks.iter().filter(|t| t.state == Paused).collect();
    assert!(paused.len() >= 2, "{} paused ticks", paused.len());
    assert!(
        paused.iter().skip(1).all(|t| t.sent == 0),
        "nothing is sent while paused"
    );
    let last_full = ticks
        .iter()
        .rev()
        .find(|t| t.state == Running && t.interval_s > 0.99)
        .unwrap();
    assert!(
        last_full.scheduled >= 195,
        "the multiplier doubles the rate: {}",
        last_full.scheduled
    );
    // About 3 s at 100 TPS, then 3 s at 200 TPS; nothing during the pause.
    let total = outcome.summary.load.scheduled;
    assert!((850..=960).contains(&total), "{total}");
    assert!(dir.join("summary.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_agent_crash_is_carried_out_and_measured() {
    let dir = out_dir("crash");
    let mut s = spec(vec![Stage::Sustained {
        tps: 200.0,
        duration: secs(12),
        name: None,
    }]);
    let mut crash = FaultSpec::new(FaultKind::AgentCrash, secs(4), secs(3));
    crash.stage = Some("pattern_detector".into());
    s.faults = vec![crash];
    let mut outside = CriterionSpec::new("agents.min_success_rate", Comparison::Ge, 0.99);
    outside.outside_faults = true;
    s.criteria = vec![
        outside,
        CriterionSpec::new("resilience.unrecovered", Comparison::Le, 0.0),
    ];
    let outcome = StressTestOrchestrator::new(s, options(&dir))
        .unwrap()
        .run()
        .await
        .unwrap();
    let events: Vec<RunEvent> = read_lines(dir.join("events.jsonl"));
    let at =
        |k: &dyn Fn(&EventKind) -> bool| events.iter().find(|e| k(&e.kind)).map(|e| e.t_s).unwrap();
    let started = at(
        &|k| matches!(k, EventKind::FaultStarted { fault: FaultKind::AgentCrash, stage: Some(s) } if s == "pattern_detector"),
    );
    let ended = at(&|k| matches!(k, EventKind::FaultEnded { .. }));
    assert!(
        (started - 4.0).abs() < 0.01 && (ended - 7.0).abs() < 0.01,
        "{started} {ended}"
    );

    let ticks: Vec<IntervalSnapshot> = read_lines(dir.join("intervals.jsonl"));
    let crashed = &ticks[5];
    assert_eq!(crashed.active_faults, vec!["agent_crash".to_owned()]);
    let pd = crashed
        .agents
        .iter()
        .find(|a| a.name == "pattern_detector")
        .unwrap();
    assert!(pd.success_rate < 0.01, "the crash is real: {pd:?}");
    assert!(ticks[1].active_faults.is_empty());

    let f = &outcome.summary.resilience.faults[0];
    assert_eq!(f.stage.as_deref(), Some("pattern_detector"));
    assert!(f.time_to_detect_s.is_some_and(|d| d <= 1.01), "{f:?}");
    assert!(f.time_to_recover_s.is_some_and(|r| r <= 2.0), "{f:?}");
    assert_eq!(
        f.cascade,
        Some(false),
        "the built-in target times its agents"
    );
    assert!(outcome.summary.passed, "{:?}", outcome.summary.criteria);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_manual_fault_and_the_budget_stop() {
    let dir = out_dir("budget");
    let mut s = spec(vec![Stage::Sustained {
        tps: 100.0,
        duration: secs(30),
        name: None,
    }]);
    s.cost.per_txn_infra = 0.01;
    s.cost.per_model_call = 0.0;
    s.cost.fixed_per_hour = 0.0;
    s.limits.budget = Some(5.0); // 500 transactions' worth
    let orch = StressTestOrchestrator::new(s, options(&dir)).unwrap();
    let control = orch.control();
    let run = tokio::spawn(orch.run());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut manual = FaultSpec::new(FaultKind::LatencySpike, Duration::ZERO, secs(1));
    manual.stage = Some("risk_assessor".into());
    manual.latency = Some(Duration::from_millis(100));
    control.inject_fault(manual).unwrap();
    let outcome = run.await.unwrap().unwrap();
    assert_eq!(outcome.end_reason, EndReason::Budget);
    assert_eq!(outcome.summary.end_reason, "budget");
    assert_eq!(outcome.exit_code(), 1);
    let t = outcome.summary.duration_s;
    assert!(
        (5.0..=6.5).contains(&t),
        "stopped near 500 transactions: {t}"
    );
    let events: Vec<RunEvent> = read_lines(dir.join("events.jsonl"));
    let warn = events.iter().find_map(|e| match e.kind {
        EventKind::BudgetWarning { spent, budget } => Some((e.t_s, spent, budget)),
        _ => None,
    });
    let (wt, spent, budget) = warn.expect("a warning at 80%");
    assert!((4.0..5.0).contains(&spent) && budget == 5.0 && wt < t);
    let spike = &outcome.summary.resilience.faults[0];
    assert_eq!(spike.kind, FaultKind::LatencySpike);
    assert!(
        (spike.start_s - 1.5).abs() < 0.01 && (spike.end_s - 2.5).abs() < 0.01,
        "{spike:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_abort_on_fail_criterion_stops_the_run() {
    let dir = out_dir("abort");
    let mut s = spec(vec![Stage::Sustained {
        tps: 100.0,
        duration: secs(30),
        name: None,
    }]);
    let mut c = CriterionSpec::new("load.completed", Comparison::Lt, 250.0);
    c.abort_on_fail = true;
    c.name = Some("few enough".into());
    s.criteria = vec![c];
    let outcome = StressTestOrchestrator::new(s, options(&dir))
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(outcome.end_reason, EndReason::Aborted("few enough".into()));
    assert_eq!(outcome.summary.end_reason, "aborted: few enough");
    assert!(
        (2.9..=3.2).contains(&outcome.summary.duration_s),
        "{}",
        outcome.summary.duration_s
    );
    assert!(!outcome.summary.passed);
    let events: Vec<RunEvent> = read_lines(dir.join("events.jsonl"));
    assert!(events.iter().any(
        |e| matches!(&e.kind, EventKind::CriterionFailed { name, .. } if name == "few enough")
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn stopping_before_the_start_still_writes_results() {
    let dir = out_dir("early");
    let s = spec(vec![Stage::Sustained {
        tps: 100.0,
        duration: secs(30),
        name: None,
    }]);
    let orch = StressTestOrchestrator::new(
        s,
        RunOptions {
            auto_start: false,
            ..options(&dir)
        },
    )
    .unwrap();
    let control = orch.control();
    control.stop().unwrap();
    let outcome = orch.run().await.unwrap();
    assert_eq!(outcome.end_reason, EndReason::Stopped);
    let events: Vec<RunEvent> = read_lines(dir.join("events.jsonl"));
    use RunState::*;
    assert_eq!(
        states(&events),
        vec![Idle, Initializing, Stopping, Completed]
    );
    assert!(dir.join("summary.json").exists() && dir.join("latency.hgrm").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run keeps its ticks without their histograms (a long run would otherwise hold 2 to 3 KB a
/// tick to the end) and reads back from `intervals.jsonl` those its criteria merge: the scoped and
/// drift figures are the exact ones, the same as evaluating over every tick of the file.
#[tokio::test(start_paused = true)]
async fn criteria_that_merge_tick_histograms_read_them_back_exactly() {
    let dir = out_dir("histograms-back");
    let mut s = spec(vec![
        Stage::Ramp {
            from_tps: 0.0,
            to_tps: 200.0,
            duration: secs(3),
            name: Some("up".into()),
        },
        Stage::Sustained {
            tps: 200.0,
            duration: secs(12),
            name: Some("hold".into()),
        },
    ]);
    let mut in_hold = CriterionSpec::new("latency_ms.p99", Comparison::Lt, 1e9);
    in_hold.phase = Some("hold".into());
    let mut window = CriterionSpec::new("service_time_ms.p90", Comparison::Lt, 1e9);
    window.from = Some(secs(2));
    window.to = Some(secs(9));
    s.criteria = vec![
        in_hold,
        window,
        CriterionSpec::new("latency_ms.p99_drift", Comparison::Lt, 1e9),
    ];
    let outcome = StressTestOrchestrator::new(s.clone(), options(&dir))
        .unwrap()
        .run()
        .await
        .unwrap();
    let ticks: Vec<IntervalSnapshot> = read_lines(dir.join("intervals.jsonl"));
    assert!(ticks.iter().all(|t| t.histograms.is_some()));
    let expected =
        orchestrator::criteria::evaluate(&s.criteria, s.when_unmeasured, &outcome.summary, &ticks);
    assert_eq!(outcome.summary.criteria, expected);
    // Without the histograms the pooled figures would be the worst tick's, a bound, not these.
    let mut stripped = ticks.clone();
    for t in &mut stripped {
        t.histograms = None;
    }
    let bound = orchestrator::criteria::evaluate(
        &s.criteria,
        s.when_unmeasured,
        &outcome.summary,
        &stripped,
    );
    assert_ne!(bound, expected, "the test must tell exact from bound");
    std::fs::remove_dir_all(&dir).unwrap();
}

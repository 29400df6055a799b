//! Resilience figures on scripted interval snapshots: a healthy baseline, a fault window with errors, and
//! recovery at a known tick, so that detection and recovery times are exact.

use failure_injection::{
    AlertMonitor, DegradationTracker, FaultWindow, ResilienceConfig, ResilienceFigures, analyze,
    uptime_pct,
};
use models::{AgentStats, DegradationLevel, ErrorKind, EventKind, FaultKind, IntervalSnapshot};

/// One 1-second tick ending at `t` with 100 requests planned and sent.
fn tick(t: u32, errors: u64, p99: f64) -> IntervalSnapshot {
    let mut s = IntervalSnapshot {
        t_s: t as f64,
        interval_s: 1.0,
        planned_tps: 100.0,
        scheduled: 100,
        sent: 100,
        completed: 100,
        ok: 100 - errors,
        achieved_tps: 100.0,
        ..Default::default()
    };
    if errors > 0 {
        s.errors.insert(ErrorKind::Http5xx, errors);
    }
    s.latency_ms.p99 = p99;
    s.agents = ["pattern_detector", "decision_maker"]
        .map(|name| AgentStats {
            name: name.into(),
            requests: 100,
            success_rate: 1.0,
            ..Default::default()
        })
        .to_vec();
    s
}

/// Ticks 1..=60. Fault from 20 s to 30 s. Errors (30%) and a slow p99 in ticks 21..=35, so the first
/// tick wholly after the fault that is back in the band is tick 36, which starts at 35 s: recovery 5 s.
fn scripted() -> Vec<IntervalSnapshot> {
    (1..=60)
        .map(|t| match t {
            21..=35 => tick(t, 30, 900.0),
            _ => tick(t, 0, 20.0 + (t % 3) as f64),
        })
        .collect()
}

fn window(kind: FaultKind, stage: Option<&str>, start_s: f64, end_s: f64) -> FaultWindow {
    FaultWindow {
        kind,
        stage: stage.map(Into::into),
        start_s,
        end_s,
    }
}

#[test]
fn recovery_and_detection_times_are_exact_on_a_scripted_fault() {
    let snaps = scripted();
    let w = window(FaultKind::AgentCrash, Some("pattern_detector"), 20.0, 30.0);
    let summary = analyze(&snaps, &[w], &ResilienceConfig::default());
    let f = &summary.faults[0];
    assert_eq!(
        f.time_to_detect_s,
        Some(1.0),
        "the first tick inside the fault is degraded"
    );
    assert_eq!(f.time_to_recover_s, Some(5.0));
    assert_eq!(f.max_level, DegradationLevel::Critical);
    assert_eq!((f.start_s, f.end_s), (20.0, 30.0));
    assert_eq!(f.baseline.tps, 100.0);
    assert_eq!(f.baseline.error_rate, 0.0);
    assert_eq!(
        f.baseline.p99_ms, 21.0,
        "median of the ten ticks before the fault"
    );
    assert_eq!((f.worst.error_rate, f.worst.p99_ms), (0.3, 900.0));
    assert_eq!(f.cascade, Some(false));
    assert_eq!(
        summary.uptime_pct,
        100.0 * 45.0 / 60.0,
        "a second with 30% of its requests failing is down, though some succeeded"
    );
    assert_eq!(
        summary.uptime_rule,
        Some(ResilienceConfig::default().uptime)
    );
}

#[test]
fn recovery_needs_k_healthy_ticks_in_a_row() {
    let mut snaps = scripted();
    // A relapse in tick 37: ticks 36..=38 are no longer three healthy ones; recovery starts at tick 38 (37 s).
    snaps[36] = tick(37, 5, 20.0);
    let w = window(FaultKind::LatencySpike, None, 20.0, 30.0);
    let f = &analyze(
        &snaps,
        std::slice::from_ref(&w),
        &ResilienceConfig::default(),
    )
    .faults[0];
    assert_eq!(f.time_to_recover_s, Some(7.0));

    let config = ResilienceConfig {
        recovery_ticks: 1,
        ..Default::default()
    };
    assert_eq!(
        analyze(&snaps, std::slice::from_ref(&w), &config).faults[0].time_to_recover_s,
        Some(5.0)
    );

    // Never back within the band before the run ends.
    let mut stuck = scripted();
    for s in &mut stuck[30..] {
        *s = tick(s.t_s as u32, 30, 900.0);
    }
    let summary = analyze(&stuck, &[w], &ResilienceConfig::default());
    assert_eq!(summary.faults[0].time_to_recover_s, None);
    let figures = ResilienceFigures::of(&summary);
    assert_eq!(figures.max_time_to_recover_s, f64::INFINITY);
    assert_eq!(figures.get("unrecovered_faults"), Some(1.0));
}

#[test]
fn throughput_is_judged_against_the_planned_rate() {
    // The plan halves after the fault (an adaptive back-off): 50 of 50 planned is as good as 100 of 100.
    let mut snaps = scripted();
    for s in &mut snaps[35..] {
        s.planned_tps = 50.0;
        s.achieved_tps = 50.0;
    }
    let w = window(FaultKind::HttpError, None, 20.0, 30.0);
    assert_eq!(
        analyze(
            &snaps,
            std::slice::from_ref(&w),
            &ResilienceConfig::default()
        )
        .faults[0]
            .time_to_recover_s,
        Some(5.0)
    );
    // Delivering only 80% of the plan is outside the ±10% band.
    for s in &mut snaps[35..] {
        s.achieved_tps = 40.0;
    }
    assert_eq!(
        analyze(&snaps, &[w], &ResilienceConfig::default()).faults[0].time_to_recover_s,
        None
    );
}

#[test]
fn an_unfaulted_agent_failing_during_the_fault_is_a_cascade() {
    let mut snaps = scripted();
    for s in &mut snaps[20..30] {
        s.agents[0].success_rate = 0.0; // the crashed agent itself: expected
    }
    let crash = window(FaultKind::AgentCrash, Some("pattern_detector"), 20.0, 30.0);
    let cascade = |snaps: &[IntervalSnapshot], w: &FaultWindow| {
        analyze(snaps, std::slice::from_ref(w), &ResilienceConfig::default()).faults[0].cascade
    };
    assert_eq!(cascade(&snaps, &crash), Some(false));
    snaps[25].agents[1].success_rate = 0.6;
    assert_eq!(cascade(&snaps, &crash), Some(true));
    // A fault with no single stage has no cascade check: not measured, rather than "no cascade".
    let partition = window(FaultKind::NetworkPartition, None, 20.0, 30.0);
    assert_eq!(cascade(&snaps, &partition), None);
    // Nor has a target that reports no per-agent timings.
    for s in &mut snaps {
        s.agents.clear();
    }
    assert_eq!(cascade(&snaps, &crash), None);
}

#[test]
fn two_faults_get_their_own_baselines_and_uptime_counts_dead_ticks() {
    let mut snaps = scripted();
    for s in &mut snaps[44..47] {
        // ticks 45..=47: nothing succeeds
        s.ok = 0;
        s.completed = 0;
        s.errors.clear();
        s.achieved_tps = 0.0;
    }
    let windows = [
        window(FaultKind::AgentCrash, Some("pattern_detector"), 20.0, 30.0),
        window(FaultKind::NetworkPartition, None, 44.0, 47.0),
    ];
    let summary = analyze(&snaps, &windows, &ResilienceConfig::default());
    let second = &summary.faults[1];
    assert_eq!(second.time_to_detect_s, Some(1.0));
    assert_eq!(second.time_to_recover_s, Some(0.0));
    assert_eq!(second.max_level, DegradationLevel::Critical);
    assert_eq!(second.worst.tps, 0.0);
    assert_eq!(
        second.baseline.error_rate, 0.0,
        "the first fault's ticks are left out of its baseline"
    );
    // Down: the 15 ticks with 30% errors and the 3 with nothing served.
    assert!((summary.uptime_pct - 100.0 * 42.0 / 60.0).abs() < 1e-9);
    let figures = ResilienceFigures::of(&summary);
    assert_eq!(figures.max_time_to_recover_s, 5.0);
    assert_eq!(figures.max_time_to_detect_s, 1.0);
    assert_eq!(figures.get("max_degradation"), Some(3.0));
    assert_eq!(figures.get("nonsense"), None);
    // Nothing due counts as up.
    let idle = IntervalSnapshot {
        t_s: 1.0,
        interval_s: 1.0,
        ..Default::default()
    };
    assert_eq!(
        uptime_pct(&[idle], ResilienceConfig::default().uptime),
        100.0
    );
}

#[test]
fn a_fault_with_no_visible_effect_is_neither_detected_nor_slow_to_recover() {
    let snaps: Vec<_> = (1..=40).map(|t| tick(t, 0, 20.0)).collect();
    let f = &analyze(
        &snaps,
        &[window(FaultKind::LatencySpike, None, 10.0, 20.0)],
        &ResilienceConfig::default(),
    )
    .faults[0];
    assert_eq!(f.time_to_detect_s, None);
    assert_eq!(f.time_to_recover_s, Some(0.0));
    assert_eq!(f.max_level, DegradationLevel::None);
}

#[test]
fn degradation_and_alert_events_over_the_scripted_run() {
    let mut tracker = DegradationTracker::default();
    let mut alerts = AlertMonitor::default();
    let mut events = Vec::new();
    for s in scripted() {
        let (_, change) = tracker.observe(&s);
        events.extend(change.map(|e| (s.t_s, e)));
        events.extend(alerts.observe(&s).into_iter().map(|e| (s.t_s, e)));
    }
    let none = DegradationLevel::None;
    let crit = DegradationLevel::Critical;
    let got: Vec<(f64, String)> = events
        .into_iter()
        .map(|(t, e)| {
            let text = match e {
                EventKind::Degradation { from, to } => format!("{from:?}->{to:?}"),
                EventKind::AlertRaised { name, severity, .. } => format!("+{name}:{severity:?}"),
                EventKind::AlertCleared { name } => format!("-{name}"),
                other => format!("{other:?}"),
            };
            (t, text)
        })
        .collect();
    let want = vec![
        (21.0, format!("{none:?}->{crit:?}")),
        (21.0, "+error_rate:Critical".to_owned()),
        (36.0, format!("{crit:?}->{none:?}")),
        (36.0, "-error_rate".to_owned()),
    ];
    assert_eq!(got, want);
}

/// A 60 s smoke-shaped run: a ramp from 0 to 200 TPS over the first 6 s (phase `warm-up`; the
/// service's completions lag the rising plan, so each tick delivers about 85% of it), then 200 TPS
/// (phase `steady`). The pattern detector crashes from 8 s to 16 s: the decision falls back, the
/// customer-facing figures stay flat, the agent fails every request. A second after the fault it is
/// back at 100%, and the backlog of that second is served on top of the plan (110% delivered). The
/// last tick is a 15 ms sliver with requests still in flight and none answered yet.
fn crash_in_a_smoke_run() -> Vec<IntervalSnapshot> {
    let mut snaps: Vec<IntervalSnapshot> = (1..=60)
        .map(|t| {
            let mut s = tick(t, 0, 14.0);
            let planned = if t <= 6 {
                200.0 * (f64::from(t) - 0.5) / 6.0
            } else {
                200.0
            };
            let delivered = match t {
                ..=6 => 0.85,
                17 => 1.1,
                _ => 1.0,
            };
            s.planned_tps = planned;
            s.achieved_tps = planned * delivered;
            s.phase = Some(if t <= 6 { "warm-up" } else { "steady" }.into());
            if (9..=16).contains(&t) {
                s.agents[0].success_rate = 0.0;
            }
            s
        })
        .collect();
    let mut sliver = tick(60, 0, 0.0);
    sliver.t_s = 60.015;
    sliver.interval_s = 0.015;
    sliver.phase = Some("steady".into());
    sliver.planned_tps = 200.0;
    sliver.achieved_tps = 0.0;
    (sliver.scheduled, sliver.sent, sliver.completed, sliver.ok) = (3, 3, 0, 0);
    for a in &mut sliver.agents {
        a.requests = 0;
    }
    snaps.push(sliver);
    snaps
}

#[test]
fn an_agent_crash_in_a_smoke_run_reads_recovered_a_second_after_it_ends() {
    let snaps = crash_in_a_smoke_run();
    let w = window(FaultKind::AgentCrash, Some("pattern_detector"), 8.0, 16.0);
    let summary = analyze(&snaps, &[w], &ResilienceConfig::default());
    let f = &summary.faults[0];
    assert_eq!(f.time_to_recover_s, Some(0.0), "{f:?}");
    assert_eq!(f.time_to_detect_s, Some(1.0), "the agent's failures show");
    // The baseline is the steady 200 TPS before the fault, not the ramp's climb.
    assert_eq!(f.baseline.tps, 200.0);
    assert_eq!(ResilienceFigures::of(&summary).unrecovered_faults, 0.0);
}

#[test]
fn only_worse_than_the_baseline_is_not_recovered() {
    let w = window(FaultKind::HttpError, None, 20.0, 30.0);
    // Serving more than before (a backlog drained, a plan raised) is not a failure...
    let mut more = scripted();
    for s in &mut more[35..] {
        s.achieved_tps = 130.0;
        s.latency_ms.p99 = 5.0;
    }
    let f = &analyze(
        &more,
        std::slice::from_ref(&w),
        &ResilienceConfig::default(),
    )
    .faults[0];
    assert_eq!(f.time_to_recover_s, Some(5.0));
    // ...while serving less than the band allows is.
    let mut less = scripted();
    for s in &mut less[35..] {
        s.achieved_tps = 85.0;
    }
    let f = &analyze(&less, &[w], &ResilienceConfig::default()).faults[0];
    assert_eq!(f.time_to_recover_s, None);
}

#[test]
fn partial_ticks_count_for_their_length() {
    let w = window(FaultKind::AgentCrash, Some("pattern_detector"), 20.0, 30.0);
    // A sliver with nothing answered at the run's end, while a fault never recovered: it is too short
    // to say the target was unavailable, or that its throughput fell to zero.
    let mut stuck: Vec<IntervalSnapshot> = (1..=60).map(|t| tick(t, 0, 20.0)).collect();
    for s in &mut stuck[20..] {
        s.agents[0].success_rate = 0.0;
    }
    let mut sliver = tick(60, 0, 0.0);
    (sliver.t_s, sliver.interval_s, sliver.achieved_tps) = (60.015, 0.015, 0.0);
    (sliver.completed, sliver.ok) = (0, 0);
    stuck.push(sliver.clone());
    let f = &analyze(
        &stuck,
        std::slice::from_ref(&w),
        &ResilienceConfig::default(),
    )
    .faults[0];
    assert_eq!(f.time_to_recover_s, None);
    assert_eq!(f.max_level, DegradationLevel::None, "{f:?}");
    assert_eq!(f.worst.tps, 100.0);

    // Healthy ticks after the fault with a sliver among them (a tick cut short): the sliver
    // neither breaks nor confirms the recovery, and a tick counts for its length.
    let healthy = |t: u32, end_s: f64, len_s: f64| {
        let mut s = tick(t, 0, 20.0);
        (s.t_s, s.interval_s) = (end_s, len_s);
        s
    };
    let mut snaps: Vec<IntervalSnapshot> = scripted().into_iter().take(30).collect();
    snaps.push(healthy(31, 31.0, 1.0));
    snaps.push(healthy(32, 32.0, 1.0));
    sliver.t_s = 32.015;
    snaps.push(sliver);
    snaps.push(healthy(33, 33.0, 0.985));
    snaps.push(healthy(34, 34.0, 1.0));
    let w = window(FaultKind::HttpError, None, 20.0, 30.0);
    let f = &analyze(
        &snaps,
        std::slice::from_ref(&w),
        &ResilienceConfig::default(),
    )
    .faults[0];
    assert_eq!(
        f.time_to_recover_s,
        Some(0.0),
        "31, 32 and 33's 0.985 s, then 34"
    );
    // Without tick 34 and with a 0.6 s tick 33: 2.6 healthy ticks of the 3 needed.
    snaps.pop();
    snaps.last_mut().unwrap().interval_s = 0.6;
    let f = &analyze(&snaps, &[w], &ResilienceConfig::default()).faults[0];
    assert_eq!(f.time_to_recover_s, None);
}

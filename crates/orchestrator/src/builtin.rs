//! The built-in scenarios. Each is an ordinary [`ScenarioSpec`]; the same specs ship as TOML files in
//! `examples/scenarios/` (a test checks that each file reads back to exactly the built-in).

use models::{Comparison, CriterionSpec, FaultKind, FaultSpec, LoadProfile, ScenarioSpec, Stage};
use std::time::Duration;

/// The names of the built-in scenarios, in the order `stress-runner scenarios` lists them.
pub const BUILTIN_NAMES: [&str; 6] = [
    "smoke",
    "investor",
    "peak-load",
    "sustained",
    "burst",
    "failure-recovery",
];

/// Minimum agent health (0..100) that counts as "healthy" in the built-in criteria.
pub const HEALTHY_AGENT: f64 = 70.0;

/// The built-in scenario called `name`, or `None`.
pub fn builtin(name: &str) -> Option<ScenarioSpec> {
    Some(match name {
        "smoke" => smoke(),
        "investor" => investor(),
        "peak-load" => peak_load(),
        "sustained" => sustained(),
        "burst" => burst(),
        "failure-recovery" => failure_recovery(),
        _ => return None,
    })
}

/// Every built-in scenario, in [`BUILTIN_NAMES`] order.
pub fn all_builtins() -> Vec<ScenarioSpec> {
    BUILTIN_NAMES.iter().filter_map(|n| builtin(n)).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn ramp(name: &str, from_tps: f64, to_tps: f64, duration: Duration) -> Stage {
    Stage::Ramp {
        from_tps,
        to_tps,
        duration,
        name: Some(name.into()),
    }
}

fn hold(name: &str, tps: f64, duration: Duration) -> Stage {
    Stage::Sustained {
        tps,
        duration,
        name: Some(name.into()),
    }
}

fn crit(metric: &str, op: Comparison, threshold: f64) -> CriterionSpec {
    CriterionSpec::new(metric, op, threshold)
}

fn named(name: &str, mut c: CriterionSpec) -> CriterionSpec {
    c.name = Some(name.into());
    c
}

fn base(name: &str, description: &str, stages: Vec<Stage>) -> ScenarioSpec {
    ScenarioSpec {
        name: name.into(),
        description: description.into(),
        seed: 42,
        when_unmeasured: Default::default(),
        load: LoadProfile {
            arrival: Default::default(),
            stages,
        },
        target: Default::default(),
        mix: Default::default(),
        faults: Vec::new(),
        criteria: Vec::new(),
        cost: Default::default(),
        limits: Default::default(),
        aws: None,
        resilience: Default::default(),
    }
}

use Comparison::{Ge, Gt, Le, Lt};

/// 20 s at 200 TPS against the built-in target: what CI runs. A healthy run passes.
pub fn smoke() -> ScenarioSpec {
    let mut s = base(
        "smoke",
        "20 s at 200 TPS for CI: no drops, errors under 1%, p99 under 1 s, the detector still catches fraud",
        vec![
            ramp("warm-up", 0.0, 200.0, secs(2)),
            hold("steady", 200.0, secs(18)),
        ],
    );
    s.criteria = vec![
        crit("errors.rate", Lt, 0.01),
        crit("load.dropped", Le, 0.0),
        // 20 s at 200 TPS is fewer transactions than cards: the built-in detector judges account
        // takeovers and amount anomalies against what it learned of each card before the run
        // (`target.warm_up`, four hours of history by default). Detection logic alone on this
        // stream: recall 0.96, precision 0.96 warm; 0.61 and 0.99 from a cold start.
        crit("fraud.recall", Ge, 0.85),
        crit("fraud.precision", Gt, 0.8),
        crit("latency_ms.p99", Lt, 1000.0),
        crit("resilience.uptime_pct", Ge, 99.0),
    ];
    s
}

/// The 10-minute demonstration: ramp to 8,000 TPS, hold 5,000, crash an agent, recover.
pub fn investor() -> ScenarioSpec {
    let mut s = base(
        "investor",
        "10 min: ramp to 8,000 TPS in 60 s, hold 5,000 TPS, crash an agent at 300 s for 30 s, recover to 600 s",
        vec![
            ramp("ramp-up", 0.0, 8000.0, secs(60)),
            hold("hold", 5000.0, secs(240)),
            hold("agent-crash", 5000.0, secs(30)),
            hold("recovery", 5000.0, secs(270)),
        ],
    );
    let mut crash = FaultSpec::new(FaultKind::AgentCrash, secs(300), secs(30));
    crash.stage = Some("pattern_detector".into());
    s.faults = vec![crash];
    let mut p99_hold = crit("latency_ms.p99", Lt, 500.0);
    p99_hold.from = Some(secs(60));
    p99_hold.to = Some(secs(300));
    let mut errors_outside = crit("errors.rate", Lt, 0.01);
    errors_outside.outside_faults = true;
    s.criteria = vec![
        named("p99 under 500 ms while holding", p99_hold),
        named("errors under 1% outside the crash", errors_outside),
        crit("fraud.recall", Gt, 0.8),
        named(
            "recovered from every fault",
            crit("resilience.unrecovered", Le, 0.0),
        ),
        named("no cascading failure", crit("resilience.cascades", Le, 0.0)),
    ];
    s
}

/// Ramp 0 → 10,000 TPS over 5 min, hold 20 min, ramp down over 5 min.
pub fn peak_load() -> ScenarioSpec {
    let mut s = base(
        "peak-load",
        "ramp 0 to 10,000 TPS over 5 min, hold 20 min, ramp down; p95 < 2 s, p99 < 5 s, errors < 0.1%, nothing lost",
        vec![
            ramp("ramp-up", 0.0, 10_000.0, mins(5)),
            hold("peak", 10_000.0, mins(20)),
            ramp("ramp-down", 10_000.0, 0.0, mins(5)),
        ],
    );
    s.criteria = vec![
        crit("latency_ms.p95", Lt, 2000.0),
        crit("latency_ms.p99", Lt, 5000.0),
        crit("errors.rate", Lt, 0.001),
        named("nothing lost", crit("load.dropped", Le, 0.0)),
        named(
            "all agents healthy",
            crit("agents.min_health", Ge, HEALTHY_AGENT),
        ),
    ];
    s
}

/// 2,000 TPS for 2 hours: no memory growth, no degradation over time.
pub fn sustained() -> ScenarioSpec {
    let mut s = base(
        "sustained",
        "2,000 TPS for 2 h: p99 at the end within 1.2x the start, generator memory growth under 20%",
        vec![hold("soak", 2000.0, Duration::from_secs(2 * 3600))],
    );
    s.criteria = vec![
        named(
            "no latency drift (last tenth p99 / first tenth p99)",
            crit("latency_ms.p99_drift", Le, 1.2),
        ),
        named(
            "no generator memory growth",
            crit("generator.rss_growth_pct", Lt, 20.0),
        ),
        crit("errors.rate", Lt, 0.001),
        named("nothing lost", crit("load.dropped", Le, 0.0)),
    ];
    s
}

/// 1,000 TPS with 10,000 TPS bursts every 3 minutes, for 15 minutes.
pub fn burst() -> ScenarioSpec {
    let mut s = base(
        "burst",
        "1,000 TPS with 15 s bursts to 10,000 TPS every 3 min, for 15 min; nothing lost",
        vec![Stage::Burst {
            base_tps: 1000.0,
            burst_tps: 10_000.0,
            every: mins(3),
            burst_for: secs(15),
            duration: mins(15),
            name: Some("bursts".into()),
        }],
    );
    s.criteria = vec![
        named("nothing dropped", crit("load.dropped", Le, 0.0)),
        named("nothing lost to errors", crit("errors.rate", Lt, 0.001)),
    ];
    s
}

/// 3,000 TPS for 45 minutes through four injected faults; the system must recover without cascading.
pub fn failure_recovery() -> ScenarioSpec {
    let mut s = base(
        "failure-recovery",
        "3,000 TPS for 45 min through an agent crash, DB throttling, a latency spike and model rate limits; recovers, no cascade",
        vec![hold("steady", 3000.0, mins(45))],
    );
    let mut crash = FaultSpec::new(FaultKind::AgentCrash, mins(5), mins(2));
    crash.stage = Some("pattern_detector".into());
    let mut throttle = FaultSpec::new(FaultKind::DbThrottle, mins(15), mins(3));
    throttle.probability = 0.3;
    let mut spike = FaultSpec::new(FaultKind::LatencySpike, mins(25), mins(2));
    spike.stage = Some("risk_assessor".into());
    spike.latency = Some(Duration::from_millis(200));
    spike.jitter = Some(Duration::from_millis(50));
    let mut limit = FaultSpec::new(FaultKind::ModelRateLimit, mins(35), mins(3));
    limit.rate_limit_tps = Some(1500.0);
    s.faults = vec![crash, throttle, spike, limit];
    let mut errors_outside = crit("errors.rate", Lt, 0.001);
    errors_outside.outside_faults = true;
    s.criteria = vec![
        named(
            "recovered from every fault",
            crit("resilience.unrecovered", Le, 0.0),
        ),
        named("no cascading failure", crit("resilience.cascades", Le, 0.0)),
        crit("resilience.max_time_to_recover_s", Lt, 60.0),
        named("errors under 0.1% outside faults", errors_outside),
    ];
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_scenario_of_that_name() {
        for name in BUILTIN_NAMES {
            assert_eq!(builtin(name).unwrap().name, name);
        }
        assert!(builtin("nope").is_none());
        assert_eq!(all_builtins().len(), BUILTIN_NAMES.len());
    }

    #[test]
    fn durations_match_the_descriptions() {
        let d = |n: &str| builtin(n).unwrap().load.total_duration().as_secs();
        assert_eq!(d("smoke"), 20);
        assert_eq!(d("investor"), 600);
        assert_eq!(d("peak-load"), 30 * 60);
        assert_eq!(d("sustained"), 2 * 3600);
        assert_eq!(d("burst"), 15 * 60);
        assert_eq!(d("failure-recovery"), 45 * 60);
        let investor = investor();
        assert_eq!(investor.faults[0].at.as_secs(), 300);
        assert_eq!(investor.faults[0].end().as_secs(), 330);
    }
}

//! Scenario specs read from TOML: every table, and clear errors for unknown keys.

use models::{Comparison, FaultKind, ScenarioSpec, Stage, TargetKind, TargetSpec};
use std::time::Duration;

const FULL: &str = r#"
name = "investor"
description = "ramp, hold, crash, recover"
seed = 7

[load]
arrival = "poisson"

[[load.stages]]
shape = "ramp"
from_tps = 0
to_tps = 8000
duration = "60s"
name = "ramp-up"

[[load.stages]]
shape = "burst"
base_tps = 1000
burst_tps = 10000
every = "3m"
burst_for = "10s"
duration = "15m"

[[load.stages]]
shape = "wave"
mean_tps = 5000
amplitude_tps = 2000
period = "60s"
duration = "5m"

[[load.stages]]
shape = "chaos"
mean_tps = 3000
volatility = 0.1
spike_tps = 9000
spike_probability = 0.02
seed = 3
duration = "2m"

[target]
kind = "http"
url = "http://127.0.0.1:8080/v1/score"
timeout = "2s"

[mix]
legit = 0.7
fraud = 0.25
edge = 0.05

[[faults]]
kind = "agent_crash"
stage = "pattern_detector"
at = "300s"
duration = "30s"

[[criteria]]
metric = "latency_ms.p99"
op = "<"
threshold = 500
from = "60s"
to = "300s"

[cost]
currency = "EUR"
per_model_call = 0.001

[limits]
max_tps = 20000
budget = 25.0
"#;

#[test]
fn full_scenario_reads() {
    let s: ScenarioSpec = toml::from_str(FULL).unwrap();
    assert_eq!(s.seed, 7);
    assert_eq!(s.load.stages.len(), 4);
    assert!(matches!(s.load.stages[0], Stage::Ramp { to_tps, .. } if to_tps == 8000.0));
    assert_eq!(s.load.stages[1].duration(), Duration::from_secs(900));
    assert_eq!(s.target.kind, TargetKind::Http);
    assert_eq!(s.target.timeout, Duration::from_secs(2));
    assert_eq!(
        s.target.connections,
        TargetSpec::default().connections,
        "unset fields keep their defaults"
    );
    assert_eq!(s.faults[0].kind, FaultKind::AgentCrash);
    assert_eq!(s.faults[0].end(), Duration::from_secs(330));
    assert_eq!(s.criteria[0].op, Comparison::Lt);
    assert_eq!(s.criteria[0].from, Some(Duration::from_secs(60)));
    assert_eq!(s.cost.per_model_call, 0.001);
    assert_eq!(s.cost.model_calls_per_txn, 1.0);
    assert_eq!(s.limits.budget, Some(25.0));
    s.mix.validate().unwrap();

    let again: ScenarioSpec = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s, "a scenario survives a TOML round trip");
}

#[test]
fn unknown_keys_are_errors_with_a_position() {
    let bad = FULL.replace("seed = 7", "seed = 7\nsede = 8");
    let err = toml::from_str::<ScenarioSpec>(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sede"), "{err}");
    assert!(err.contains("line"), "{err}");

    let bad_stage = FULL.replace("to_tps = 8000", "to_tps = 8000\nto_tsp = 1");
    let err = toml::from_str::<ScenarioSpec>(&bad_stage)
        .unwrap_err()
        .to_string();
    assert!(err.contains("to_tsp"), "{err}");

    let bad_duration = FULL.replace("duration = \"60s\"", "duration = \"soon\"");
    let err = toml::from_str::<ScenarioSpec>(&bad_duration)
        .unwrap_err()
        .to_string();
    assert!(err.contains("soon"), "{err}");
}

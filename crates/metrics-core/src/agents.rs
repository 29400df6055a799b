//! Per-agent figures from the timings a verdict reports, and the health score.

use crate::config::MetricsConfig;
use crate::tally::AgentTally;
use models::AgentStats;
use std::time::Duration;

/// Health 0..100 = `100 × success_rate × latency_factor × saturation_factor`, where
/// * `latency_factor = min(1, slo / p99)` (1 when p99 is within the configured SLO),
/// * `saturation_factor = 1` up to 80 % utilization, then falls linearly to 0 at 100 %:
///   `clamp((1 - utilization) / 0.2, 0, 1)`.
pub fn health_score(success_rate: f64, p99_ms: f64, utilization: f64, slo_ms: f64) -> f64 {
    let latency_factor = if p99_ms <= slo_ms || p99_ms <= 0.0 {
        1.0
    } else {
        slo_ms / p99_ms
    };
    let saturation_factor = if utilization <= 0.8 {
        1.0
    } else {
        ((1.0 - utilization) / 0.2).clamp(0.0, 1.0)
    };
    (100.0 * success_rate * latency_factor * saturation_factor).clamp(0.0, 100.0)
}

/// `wall` is the time the figures cover (the interval, or the run so far).
pub(crate) fn agent_stats(a: &AgentTally, wall: Duration, cfg: &MetricsConfig) -> AgentStats {
    let requests = a.requests;
    let mean_ms = if requests == 0 {
        0.0
    } else {
        a.busy_us as f64 / requests as f64 / 1000.0
    };
    let p99_ms = if requests == 0 {
        0.0
    } else {
        a.hist.value_at_quantile(0.99) as f64 / 1000.0
    };
    let success_rate = if requests == 0 {
        1.0
    } else {
        a.ok as f64 / requests as f64
    };
    let wall_us = wall.as_secs_f64() * 1e6;
    let utilization = if wall_us > 0.0 {
        a.busy_us as f64 / (wall_us * cfg.concurrency_of(&a.name).unwrap_or(1.0))
    } else {
        0.0
    };
    AgentStats {
        name: a.name.clone(),
        requests,
        mean_ms,
        p99_ms,
        success_rate,
        utilization,
        health: health_of(cfg, &a.name, success_rate, p99_ms, utilization),
    }
}

/// [`health_score`] with the saturation factor only where the agent's concurrency is known: an
/// agent-seconds-per-second figure says nothing about how close a parallel agent is to its limit.
pub(crate) fn health_of(
    cfg: &MetricsConfig,
    name: &str,
    success_rate: f64,
    p99_ms: f64,
    utilization: f64,
) -> f64 {
    let slo_ms = cfg.agent_latency_slo.as_secs_f64() * 1000.0;
    let utilization = if cfg.concurrency_of(name).is_some() {
        utilization
    } else {
        0.0
    };
    health_score(success_rate, p99_ms, utilization, slo_ms)
}

pub(crate) fn all_agent_stats(
    agents: &[AgentTally],
    wall: Duration,
    cfg: &MetricsConfig,
) -> Vec<AgentStats> {
    agents
        .iter()
        .filter(|a| a.requests > 0)
        .map(|a| agent_stats(a, wall, cfg))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_formula() {
        assert_eq!(health_score(1.0, 100.0, 0.5, 500.0), 100.0);
        assert!((health_score(0.9, 100.0, 0.5, 500.0) - 90.0).abs() < 1e-9);
        assert!((health_score(1.0, 1000.0, 0.5, 500.0) - 50.0).abs() < 1e-9);
        assert!((health_score(1.0, 100.0, 0.9, 500.0) - 50.0).abs() < 1e-9);
        assert_eq!(health_score(1.0, 100.0, 1.5, 500.0), 0.0);
    }

    #[test]
    fn saturation_counts_only_where_the_concurrency_is_known() {
        let cfg = MetricsConfig {
            agent_concurrency: [("risk".to_owned(), 8.0)].into(),
            ..MetricsConfig::default()
        };
        // Six agent-seconds per second: a parallel agent of unknown width is not judged saturated...
        assert_eq!(health_of(&cfg, "analyzer", 1.0, 100.0, 6.0), 100.0);
        // ...one whose width is declared is, by its share of its servers.
        assert!((health_of(&cfg, "risk", 1.0, 100.0, 0.95) - 25.0).abs() < 1e-9);
    }
}

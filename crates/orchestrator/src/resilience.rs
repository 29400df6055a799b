//! How a run judges its health, carried out by the `failure-injection` crate: the scenario's
//! `[resilience]` table (see [`models::ResilienceSpec`]) turned into that crate's degradation
//! thresholds, alert thresholds, abort rules, adaptive mode and recovery band.
//!
//! Each tick the orchestrator gives the snapshot a degradation level
//! ([`failure_injection::DegradationTracker`]; defaults: moderate above 90% target CPU, severe above a
//! 5 s p99, critical above a 10% error rate or when nothing succeeds), raises and clears alerts
//! ([`failure_injection::AlertMonitor`]; optionally posted to a webhook), backs the load off in adaptive
//! mode ([`failure_injection::AdaptiveController`]) and stops a run that only does harm
//! ([`failure_injection::AbortMonitor`]). At the end, [`failure_injection::analyze`] turns the ticks and
//! the faults' real windows into `summary.resilience` (baseline, deepest level, time to detect, time to
//! recover, cascade, uptime). The formulas are in that crate's documentation.

use failure_injection::{
    AbortThresholds, AdaptiveConfig, AlertLimits, AlertThresholds, DegradationThresholds,
    LevelLimits, RecoveryBand, ResilienceConfig,
};
use models::{ResilienceSpec, UptimeRule};

pub use failure_injection::{FaultWindow, analyze, fault_results, uptime_pct};

/// Cores of this machine, to turn CPU (percent of one core) into percent of the machine.
fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

/// The degradation thresholds the spec asks for; `target_cores` is `[target] cores` (this
/// machine's cores when `None`).
pub fn degradation_thresholds(
    spec: &ResilienceSpec,
    target_cores: Option<f64>,
) -> DegradationThresholds {
    DegradationThresholds {
        moderate: LevelLimits {
            target_cpu_pct: spec.moderate_target_cpu_pct,
            ..Default::default()
        },
        severe: LevelLimits {
            p99_ms: spec.severe_p99_ms,
            ..Default::default()
        },
        critical: LevelLimits {
            error_rate: spec.critical_error_rate,
            unavailable: true,
            ..Default::default()
        },
        target_cores: target_cores.unwrap_or_else(cores),
    }
}

/// The alert thresholds the spec asks for; `target_cores` as for [`degradation_thresholds`].
pub fn alert_thresholds(spec: &ResilienceSpec, target_cores: Option<f64>) -> AlertThresholds {
    AlertThresholds {
        warning: AlertLimits {
            error_rate: spec.warning_error_rate,
            p99_ms: spec.warning_p99_ms,
            resource_pct: spec.warning_resource_pct,
            budget_used: spec.warning_budget_used,
            unavailable: false,
        },
        critical: AlertLimits {
            error_rate: spec.critical_alert_error_rate,
            p99_ms: spec.critical_p99_ms,
            resource_pct: None,
            budget_used: spec.critical_budget_used,
            unavailable: true,
        },
        target_cores: target_cores.unwrap_or_else(cores),
        generator_cores: cores(),
        ..AlertThresholds::default()
    }
}

/// The abort rules the spec asks for.
pub fn abort_thresholds(spec: &ResilienceSpec) -> AbortThresholds {
    AbortThresholds {
        error_rate: spec.abort_error_rate,
        error_ticks: spec.abort_error_ticks.max(1),
        unavailable_ticks: spec.abort_unavailable_ticks,
    }
}

/// The adaptive mode's configuration, when the spec turns it on.
pub fn adaptive(spec: &ResilienceSpec) -> Option<AdaptiveConfig> {
    spec.adaptive.then(AdaptiveConfig::default)
}

/// How faults are judged at the end of the run; `target_cores` as for [`degradation_thresholds`].
pub fn config(spec: &ResilienceSpec, target_cores: Option<f64>) -> ResilienceConfig {
    ResilienceConfig {
        band: RecoveryBand {
            tps_tolerance: spec.recovery_tps_tolerance,
            error_rate_points: spec.recovery_error_rate_points,
            p99_factor: spec.recovery_p99_factor,
            p99_slack_ms: spec.recovery_p99_slack_ms,
            ..RecoveryBand::default()
        },
        recovery_ticks: spec.recovery_ticks.max(1) as usize,
        thresholds: degradation_thresholds(spec, target_cores),
        uptime: UptimeRule::of(spec),
        ..ResilienceConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{DegradationLevel, ErrorKind, IntervalSnapshot};

    #[test]
    fn defaults_follow_the_monitoring_design() {
        let t = degradation_thresholds(&ResilienceSpec::default(), None);
        let mut snap = IntervalSnapshot {
            sent: 100,
            completed: 100,
            ok: 89,
            ..Default::default()
        };
        snap.errors.insert(ErrorKind::Http5xx, 11);
        assert_eq!(t.level(&snap), DegradationLevel::Critical);
        snap.errors.insert(ErrorKind::Http5xx, 9);
        snap.ok = 91;
        assert_eq!(t.level(&snap), DegradationLevel::None);
        snap.latency_ms.p99 = 5_001.0;
        assert_eq!(t.level(&snap), DegradationLevel::Severe);
    }

    #[test]
    fn thresholds_come_from_the_spec() {
        let spec = ResilienceSpec {
            critical_error_rate: Some(0.5),
            adaptive: true,
            recovery_ticks: 0,
            ..Default::default()
        };
        let mut snap = IntervalSnapshot {
            sent: 100,
            completed: 100,
            ok: 80,
            ..Default::default()
        };
        snap.errors.insert(ErrorKind::Http5xx, 20);
        assert_eq!(
            degradation_thresholds(&spec, None).level(&snap),
            DegradationLevel::None
        );
        assert!(adaptive(&spec).is_some());
        assert_eq!(config(&spec, None).recovery_ticks, 1);
        assert_eq!(config(&spec, None).uptime.max_error_rate, 0.5);
    }
}

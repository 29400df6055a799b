//! Degradation levels, computed each tick from configurable thresholds, and the events on change.

use crate::figures::TickFigures;
use models::{DegradationLevel, EventKind, IntervalSnapshot};

/// What puts a tick at one level: any limit exceeded is enough. `None` leaves a figure out.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LevelLimits {
    /// Error rate (0..1) above which the level holds.
    pub error_rate: Option<f64>,
    /// p99 latency in milliseconds above which the level holds.
    pub p99_ms: Option<f64>,
    /// Target CPU, in percent of the target's cores, above which the level holds.
    pub target_cpu_pct: Option<f64>,
    /// The level holds when requests were sent and none succeeded.
    pub unavailable: bool,
}

impl LevelLimits {
    fn exceeded(&self, f: &TickFigures, cores: f64) -> bool {
        let over = |limit: Option<f64>, value: f64| limit.is_some_and(|l| value > l);
        over(self.error_rate, f.error_rate)
            || over(self.p99_ms, f.p99_ms)
            || f.target_cpu_pct
                .is_some_and(|cpu| over(self.target_cpu_pct, cpu / cores.max(f64::MIN_POSITIVE)))
            || (self.unavailable && f.unavailable)
    }
}

/// The thresholds of each level; the highest level whose limits are exceeded wins.
/// Defaults: moderate above 90% target CPU, severe above a 5 s p99, critical above a 10% error rate or
/// when nothing succeeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DegradationThresholds {
    pub moderate: LevelLimits,
    pub severe: LevelLimits,
    pub critical: LevelLimits,
    /// Cores of the target, to turn its CPU (percent of one core) into percent of the machine.
    pub target_cores: f64,
}

impl Default for DegradationThresholds {
    fn default() -> Self {
        Self {
            moderate: LevelLimits {
                target_cpu_pct: Some(90.0),
                ..Default::default()
            },
            severe: LevelLimits {
                p99_ms: Some(5_000.0),
                ..Default::default()
            },
            critical: LevelLimits {
                error_rate: Some(0.10),
                unavailable: true,
                ..Default::default()
            },
            target_cores: 1.0,
        }
    }
}

impl DegradationThresholds {
    /// The level of one tick.
    ///
    /// ```
    /// use failure_injection::DegradationThresholds;
    /// use models::{DegradationLevel, ErrorKind, IntervalSnapshot};
    /// let mut snap = IntervalSnapshot { sent: 100, completed: 100, ok: 80, ..Default::default() };
    /// snap.errors.insert(ErrorKind::Http5xx, 20);
    /// assert_eq!(DegradationThresholds::default().level(&snap), DegradationLevel::Critical);
    /// ```
    pub fn level(&self, snap: &IntervalSnapshot) -> DegradationLevel {
        self.level_of(&TickFigures::of(snap))
    }

    pub fn level_of(&self, f: &TickFigures) -> DegradationLevel {
        if self.critical.exceeded(f, self.target_cores) {
            DegradationLevel::Critical
        } else if self.severe.exceeded(f, self.target_cores) {
            DegradationLevel::Severe
        } else if self.moderate.exceeded(f, self.target_cores) {
            DegradationLevel::Moderate
        } else {
            DegradationLevel::None
        }
    }
}

/// Follows the level tick by tick and says when it changed.
#[derive(Debug, Clone, Default)]
pub struct DegradationTracker {
    thresholds: DegradationThresholds,
    level: DegradationLevel,
}

impl DegradationTracker {
    pub fn new(thresholds: DegradationThresholds) -> Self {
        Self {
            thresholds,
            level: DegradationLevel::None,
        }
    }

    /// The current level.
    pub fn level(&self) -> DegradationLevel {
        self.level
    }

    /// Judges one tick: returns its level and, when it differs from the last one, the `Degradation` event.
    pub fn observe(&mut self, snap: &IntervalSnapshot) -> (DegradationLevel, Option<EventKind>) {
        let to = self.thresholds.level(snap);
        let from = std::mem::replace(&mut self.level, to);
        (
            to,
            (from != to).then_some(EventKind::Degradation { from, to }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{ErrorKind, ProcessSample};

    fn tick(errors: u64, p99: f64, cpu: Option<f64>) -> IntervalSnapshot {
        let mut snap = IntervalSnapshot {
            t_s: 1.0,
            interval_s: 1.0,
            scheduled: 100,
            sent: 100,
            completed: 100,
            ..Default::default()
        };
        snap.ok = 100 - errors;
        if errors > 0 {
            snap.errors.insert(ErrorKind::Http5xx, errors);
        }
        snap.latency_ms.p99 = p99;
        snap.resources.target = cpu.map(|cpu_pct| ProcessSample {
            cpu_pct,
            ..Default::default()
        });
        snap
    }

    #[test]
    fn each_default_threshold_gives_its_level() {
        let t = DegradationThresholds::default();
        assert_eq!(t.level(&tick(0, 20.0, Some(50.0))), DegradationLevel::None);
        assert_eq!(
            t.level(&tick(0, 20.0, Some(95.0))),
            DegradationLevel::Moderate
        );
        assert_eq!(
            t.level(&tick(0, 6_000.0, Some(95.0))),
            DegradationLevel::Severe
        );
        assert_eq!(t.level(&tick(11, 20.0, None)), DegradationLevel::Critical);
        assert_eq!(
            t.level(&tick(10, 20.0, None)),
            DegradationLevel::None,
            "10% is not over 10%"
        );
        let mut down = tick(0, 0.0, None);
        down.ok = 0;
        down.completed = 0;
        assert_eq!(
            t.level(&down),
            DegradationLevel::Critical,
            "sent but nothing succeeded"
        );
        assert_eq!(
            t.level(&IntervalSnapshot::default()),
            DegradationLevel::None,
            "an idle tick is fine"
        );
    }

    #[test]
    fn cpu_is_judged_per_core() {
        let t = DegradationThresholds {
            target_cores: 2.0,
            ..Default::default()
        };
        assert_eq!(t.level(&tick(0, 20.0, Some(170.0))), DegradationLevel::None);
        assert_eq!(
            t.level(&tick(0, 20.0, Some(190.0))),
            DegradationLevel::Moderate
        );
    }

    #[test]
    fn events_only_on_change() {
        let mut tr = DegradationTracker::default();
        let seq = [
            tick(0, 1.0, None),
            tick(50, 1.0, None),
            tick(50, 1.0, None),
            tick(0, 6_000.0, None),
            tick(0, 1.0, None),
        ];
        let events: Vec<_> = seq.iter().filter_map(|s| tr.observe(s).1).collect();
        let (none, severe, critical) = (
            DegradationLevel::None,
            DegradationLevel::Severe,
            DegradationLevel::Critical,
        );
        assert_eq!(
            events,
            vec![
                EventKind::Degradation {
                    from: none,
                    to: critical
                },
                EventKind::Degradation {
                    from: critical,
                    to: severe
                },
                EventKind::Degradation {
                    from: severe,
                    to: none
                },
            ]
        );
    }
}

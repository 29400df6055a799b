//! Alerts from the monitoring design: warning and critical thresholds on error rate, p99 latency, resource
//! use, availability and cost, raised and cleared as run events.

use crate::figures::TickFigures;
use models::{AlertSeverity, EventKind, IntervalSnapshot};
use std::collections::BTreeMap;

/// The limits of one severity. `None` (or `false`) leaves a rule out.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AlertLimits {
    /// Error rate (0..1) above which the alert holds.
    pub error_rate: Option<f64>,
    /// p99 latency in milliseconds.
    pub p99_ms: Option<f64>,
    /// CPU of the target and of the load generator, in percent of their cores.
    pub resource_pct: Option<f64>,
    /// Cumulative cost at or above this share of the budget (0.8 = 80% spent). The run stops when the
    /// whole budget is spent, so a limit above 1 could never fire.
    pub budget_used: Option<f64>,
    /// Requests were sent in the tick and none succeeded.
    pub unavailable: bool,
}

/// Warning and critical limits. Defaults: warning above 0.1% errors, a 5 s p99, 80% resource use or 80%
/// of the budget spent; critical above 1% errors, a 10 s p99, the whole budget spent (the run stops
/// there), or the target unavailable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertThresholds {
    pub warning: AlertLimits,
    pub critical: AlertLimits,
    /// Cores of the target and of the generator, to turn CPU (percent of one core) into percent of capacity.
    pub target_cores: f64,
    pub generator_cores: f64,
    /// Healthy ticks in a row before a raised alert clears (1 clears on the first healthy tick).
    pub clear_after_ticks: u32,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            warning: AlertLimits {
                error_rate: Some(0.001),
                p99_ms: Some(5_000.0),
                resource_pct: Some(80.0),
                budget_used: Some(0.8),
                unavailable: false,
            },
            critical: AlertLimits {
                error_rate: Some(0.01),
                p99_ms: Some(10_000.0),
                resource_pct: None,
                budget_used: Some(1.0),
                unavailable: true,
            },
            target_cores: 1.0,
            generator_cores: 1.0,
            clear_after_ticks: 1,
        }
    }
}

/// The alert names, as they appear in `AlertRaised` / `AlertCleared`.
pub mod names {
    pub const ERROR_RATE: &str = "error_rate";
    pub const LATENCY_P99: &str = "latency_p99";
    pub const TARGET_CPU: &str = "target_cpu";
    pub const GENERATOR_CPU: &str = "generator_cpu";
    pub const TARGET_UNAVAILABLE: &str = "target_unavailable";
    pub const BUDGET: &str = "budget_used";
}

#[derive(Debug, Clone, Copy)]
struct AlertState {
    severity: AlertSeverity,
    healthy_streak: u32,
}

/// Judges each tick against the thresholds and says which alerts were raised, escalated or cleared.
///
/// ```
/// use failure_injection::AlertMonitor;
/// use models::{EventKind, IntervalSnapshot};
/// let mut alerts = AlertMonitor::default();
/// let down = IntervalSnapshot { sent: 10, ..Default::default() };
/// let events = alerts.observe(&down);
/// assert!(matches!(&events[0], EventKind::AlertRaised { name, .. } if name == "target_unavailable"));
/// let fine = IntervalSnapshot { sent: 10, completed: 10, ok: 10, ..Default::default() };
/// assert!(matches!(&alerts.observe(&fine)[0], EventKind::AlertCleared { .. }));
/// ```
#[derive(Debug, Clone, Default)]
pub struct AlertMonitor {
    thresholds: AlertThresholds,
    budget: Option<f64>,
    active: BTreeMap<&'static str, AlertState>,
}

impl AlertMonitor {
    pub fn new(thresholds: AlertThresholds) -> Self {
        Self {
            thresholds,
            budget: None,
            active: BTreeMap::new(),
        }
    }

    /// The cost budget the cumulative cost is compared with (in the reporting currency). Call it again to
    /// pro-rate the budget over the run; `None` turns the cost alert off.
    pub fn set_cost_budget(&mut self, budget: Option<f64>) {
        self.budget = budget.filter(|b| *b > 0.0);
    }

    /// The alerts raised now, with their severity.
    pub fn active(&self) -> Vec<(&'static str, AlertSeverity)> {
        self.active.iter().map(|(n, s)| (*n, s.severity)).collect()
    }

    /// Judges one tick. Returns `AlertRaised` for a new alert or a change of severity, and `AlertCleared`
    /// once an alert has been healthy for `clear_after_ticks` ticks.
    pub fn observe(&mut self, snap: &IntervalSnapshot) -> Vec<EventKind> {
        let f = TickFigures::of(snap);
        let mut events = Vec::new();
        for (name, judged) in self.judge(&f) {
            match (judged, self.active.get_mut(name)) {
                (Some((severity, message)), Some(state)) => {
                    state.healthy_streak = 0;
                    if state.severity != severity {
                        state.severity = severity;
                        events.push(EventKind::AlertRaised {
                            name: name.to_owned(),
                            severity,
                            message,
                        });
                    }
                }
                (Some((severity, message)), None) => {
                    self.active.insert(
                        name,
                        AlertState {
                            severity,
                            healthy_streak: 0,
                        },
                    );
                    events.push(EventKind::AlertRaised {
                        name: name.to_owned(),
                        severity,
                        message,
                    });
                }
                (None, Some(state)) => {
                    state.healthy_streak += 1;
                    if state.healthy_streak >= self.thresholds.clear_after_ticks.max(1) {
                        self.active.remove(name);
                        events.push(EventKind::AlertCleared {
                            name: name.to_owned(),
                        });
                    }
                }
                (None, None) => {}
            }
        }
        events
    }

    /// The budget alert: the share of the budget spent against the limits, reached at (not only
    /// above) the limit, since the run stops the moment the whole budget is spent.
    fn judge_budget(&self, cost: f64) -> Option<(AlertSeverity, String)> {
        let budget = self.budget?;
        let used = cost / budget;
        let t = &self.thresholds;
        let (severity, limit) = [
            (AlertSeverity::Critical, t.critical.budget_used),
            (AlertSeverity::Warning, t.warning.budget_used),
        ]
        .into_iter()
        .find_map(|(sev, limit)| limit.filter(|l| used + 1e-12 >= *l).map(|l| (sev, l)))?;
        Some((
            severity,
            format!(
                "cost {cost:.2} is {:.0}% of the budget {budget:.2} (alert at {:.0}%)",
                used * 100.0,
                limit * 100.0
            ),
        ))
    }

    /// Each alert's severity and message for this tick, `None` when it does not hold.
    fn judge(&self, f: &TickFigures) -> Vec<(&'static str, Option<(AlertSeverity, String)>)> {
        let t = &self.thresholds;
        let pick = |value: Option<f64>,
                    crit: Option<f64>,
                    warn: Option<f64>,
                    what: &dyn Fn(f64, f64) -> String| {
            let value = value?;
            let over = |limit: Option<f64>| limit.filter(|l| value > *l);
            if let Some(l) = over(crit) {
                Some((AlertSeverity::Critical, what(value, l)))
            } else {
                over(warn).map(|l| (AlertSeverity::Warning, what(value, l)))
            }
        };
        let cpu = |cores: f64| move |pct: f64| pct / cores.max(f64::MIN_POSITIVE);
        vec![
            (
                names::ERROR_RATE,
                pick(
                    Some(f.error_rate),
                    t.critical.error_rate,
                    t.warning.error_rate,
                    &|v, l| format!("error rate {:.2}% is over {:.2}%", v * 100.0, l * 100.0),
                ),
            ),
            (
                names::LATENCY_P99,
                pick(
                    Some(f.p99_ms),
                    t.critical.p99_ms,
                    t.warning.p99_ms,
                    &|v, l| format!("p99 latency {v:.0} ms is over {l:.0} ms"),
                ),
            ),
            (
                names::TARGET_CPU,
                pick(
                    f.target_cpu_pct.map(cpu(t.target_cores)),
                    t.critical.resource_pct,
                    t.warning.resource_pct,
                    &|v, l| format!("target CPU {v:.0}% is over {l:.0}%"),
                ),
            ),
            (
                names::GENERATOR_CPU,
                pick(
                    Some(cpu(t.generator_cores)(f.generator_cpu_pct)),
                    t.critical.resource_pct,
                    t.warning.resource_pct,
                    &|v, l| {
                        format!(
                            "load generator CPU {v:.0}% is over {l:.0}%: the figures may be limited by the generator"
                        )
                    },
                ),
            ),
            (
                names::TARGET_UNAVAILABLE,
                if f.unavailable && t.critical.unavailable {
                    Some((
                        AlertSeverity::Critical,
                        "requests were sent and none succeeded".to_owned(),
                    ))
                } else if f.unavailable && t.warning.unavailable {
                    Some((
                        AlertSeverity::Warning,
                        "requests were sent and none succeeded".to_owned(),
                    ))
                } else {
                    None
                },
            ),
            (names::BUDGET, self.judge_budget(f.cost)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{ErrorKind, ProcessSample};

    fn tick(ok: u64, errors: u64, p99: f64) -> IntervalSnapshot {
        let mut s = IntervalSnapshot {
            sent: ok + errors,
            ok,
            completed: ok + errors,
            ..Default::default()
        };
        if errors > 0 {
            s.errors.insert(ErrorKind::Http5xx, errors);
        }
        s.latency_ms.p99 = p99;
        s
    }

    fn summary(events: &[EventKind]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                EventKind::AlertRaised { name, severity, .. } => format!("+{name}:{severity:?}"),
                EventKind::AlertCleared { name } => format!("-{name}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn raise_escalate_and_clear_sequence() {
        let mut m = AlertMonitor::default();
        let seq = [
            tick(1000, 0, 10.0),    // healthy
            tick(998, 2, 10.0),     // 0.2% errors: warning
            tick(995, 5, 10.0),     // 0.5%: still warning, no event
            tick(980, 20, 10.0),    // 2%: critical
            tick(1000, 0, 6_000.0), // errors gone, p99 warning
            tick(1000, 0, 11_000.0),
            tick(1000, 0, 10.0),
        ];
        let got: Vec<_> = seq.iter().map(|s| summary(&m.observe(s))).collect();
        let want: Vec<Vec<&str>> = vec![
            vec![],
            vec!["+error_rate:Warning"],
            vec![],
            vec!["+error_rate:Critical"],
            vec!["-error_rate", "+latency_p99:Warning"],
            vec!["+latency_p99:Critical"],
            vec!["-latency_p99"],
        ];
        assert_eq!(got, want);
        assert!(m.active().is_empty());
    }

    #[test]
    fn messages_say_what_and_how_much() {
        let mut m = AlertMonitor::default();
        let e = m.observe(&tick(980, 20, 10.0));
        let EventKind::AlertRaised {
            message, severity, ..
        } = &e[0]
        else {
            panic!("{e:?}")
        };
        assert_eq!(*severity, AlertSeverity::Critical);
        assert_eq!(message, "error rate 2.00% is over 1.00%");
    }

    #[test]
    fn clearing_waits_for_healthy_ticks() {
        let mut m = AlertMonitor::new(AlertThresholds {
            clear_after_ticks: 2,
            ..Default::default()
        });
        let down = IntervalSnapshot {
            sent: 10,
            ..Default::default()
        };
        assert_eq!(
            summary(&m.observe(&down)),
            vec!["+target_unavailable:Critical"]
        );
        assert!(
            m.observe(&tick(10, 0, 0.0)).is_empty(),
            "one healthy tick is not enough"
        );
        assert_eq!(
            summary(&m.observe(&tick(0, 5, 0.0))),
            vec!["+error_rate:Critical"],
            "still unavailable: no event"
        );
        assert!(m.observe(&tick(10, 0, 0.0)).is_empty());
        assert_eq!(
            summary(&m.observe(&tick(10, 0, 0.0))),
            vec!["-error_rate", "-target_unavailable"]
        );
    }

    #[test]
    fn resources_and_cost() {
        let mut m = AlertMonitor::new(AlertThresholds {
            target_cores: 2.0,
            ..Default::default()
        });
        let mut s = tick(10, 0, 1.0);
        s.resources.target = Some(ProcessSample {
            cpu_pct: 170.0,
            ..Default::default()
        });
        s.resources.generator.cpu_pct = 50.0;
        assert_eq!(summary(&m.observe(&s)), vec!["+target_cpu:Warning"]);
        m.set_cost_budget(Some(100.0));
        s.cumulative.cost = 79.0;
        assert!(m.observe(&s).is_empty());
        // The run stops at 100% of the budget, so both alerts must fire at or before it.
        s.cumulative.cost = 80.0;
        let e = m.observe(&s);
        assert_eq!(summary(&e), vec!["+budget_used:Warning"]);
        assert!(
            matches!(&e[0], EventKind::AlertRaised { message, .. } if message == "cost 80.00 is 80% of the budget 100.00 (alert at 80%)"),
            "{e:?}"
        );
        s.cumulative.cost = 100.0;
        assert_eq!(summary(&m.observe(&s)), vec!["+budget_used:Critical"]);
        m.set_cost_budget(None);
        assert_eq!(summary(&m.observe(&s)), vec!["-budget_used"]);
    }
}

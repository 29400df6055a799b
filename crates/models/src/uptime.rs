//! When a tick counts as up: the one rule behind `resilience.uptime_pct`, the live pages' uptime and a
//! scoped criterion's uptime.
//!
//! A tick is up when at least `1 − max_error_rate` of its due requests got a verdict (`ok ≥ (1 −
//! max_error_rate) × due`, with at least one verdict), or when nothing was due. `due` is the tick's
//! `scheduled` arrivals less those the `max_tps` ceiling shed (those were never meant to go).
//! `max_error_rate` is the scenario's `[resilience] critical_error_rate` (10 % by default): a second in
//! which more than that share went unanswered is a second the service was, for its users, down. Uptime
//! is the up ticks' share of the run's time (each tick weighs its length, so a short last tick counts
//! for what it lasted).
//!
//! ```
//! use models::{IntervalSnapshot, UptimeRule};
//! let rule = UptimeRule::default(); // critical_error_rate 0.10
//! let tick = |ok| IntervalSnapshot { interval_s: 1.0, scheduled: 100, sent: 100, completed: 100, ok, ..Default::default() };
//! assert!(rule.is_up(&tick(90)));
//! assert!(!rule.is_up(&tick(89)), "one success is not enough any more");
//! assert_eq!(rule.uptime_pct(&[tick(100), tick(1)]), 50.0);
//! ```

use crate::scenario::ResilienceSpec;
use crate::snapshot::IntervalSnapshot;
use serde::{Deserialize, Serialize};

/// The uptime rule of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UptimeRule {
    /// The share of a tick's due requests that may go without a verdict while it still counts as up
    /// (0..1): the scenario's `critical_error_rate`.
    pub max_error_rate: f64,
}

/// `critical_error_rate`'s default in [`ResilienceSpec`].
const DEFAULT_MAX_ERROR_RATE: f64 = 0.10;

impl Default for UptimeRule {
    fn default() -> Self {
        Self {
            max_error_rate: DEFAULT_MAX_ERROR_RATE,
        }
    }
}

impl UptimeRule {
    /// The rule a scenario's `[resilience]` table sets. With `critical_error_rate` turned off (`None`)
    /// a tick is up when any request got a verdict.
    pub fn of(spec: &ResilienceSpec) -> Self {
        Self {
            max_error_rate: spec.critical_error_rate.unwrap_or(1.0).clamp(0.0, 1.0),
        }
    }

    /// The requests the tick owed a verdict: the arrivals due, less those shed at the rate ceiling.
    pub fn due(tick: &IntervalSnapshot) -> u64 {
        tick.scheduled.saturating_sub(tick.dropped_ceiling)
    }

    /// Whether the tick counts as up.
    pub fn is_up(&self, tick: &IntervalSnapshot) -> bool {
        let due = Self::due(tick);
        due == 0 || (tick.ok > 0 && tick.ok as f64 >= (1.0 - self.max_error_rate) * due as f64)
    }

    /// The up ticks' share of the ticks' time, in percent; 100 for no ticks.
    pub fn uptime_pct<'a>(&self, ticks: impl IntoIterator<Item = &'a IntervalSnapshot>) -> f64 {
        let mut tally = UptimeTally::new(*self);
        for t in ticks {
            tally.add(t);
        }
        tally.pct()
    }

    /// The rule in words, for reports and pages.
    pub fn describe(&self) -> String {
        format!(
            "a second is up when at least {}% of its due requests got a verdict",
            trim_pct((1.0 - self.max_error_rate) * 100.0)
        )
    }
}

fn trim_pct(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Uptime added up one tick at a time (the live pages, scoped criteria).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UptimeTally {
    rule: UptimeRule,
    up_s: f64,
    total_s: f64,
}

impl Default for UptimeTally {
    fn default() -> Self {
        Self::new(UptimeRule::default())
    }
}

impl UptimeTally {
    pub fn new(rule: UptimeRule) -> Self {
        Self {
            rule,
            up_s: 0.0,
            total_s: 0.0,
        }
    }

    pub fn rule(&self) -> UptimeRule {
        self.rule
    }

    /// Adds one tick. A tick that records no length (built by hand) weighs one second.
    pub fn add(&mut self, tick: &IntervalSnapshot) {
        let weight = if tick.interval_s > 0.0 {
            tick.interval_s
        } else {
            1.0
        };
        self.total_s += weight;
        if self.rule.is_up(tick) {
            self.up_s += weight;
        }
    }

    /// Up time over all time added, in percent; 100 when nothing was added.
    pub fn pct(&self) -> f64 {
        if self.total_s <= 0.0 {
            100.0
        } else {
            100.0 * self.up_s / self.total_s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(interval_s: f64, scheduled: u64, ok: u64) -> IntervalSnapshot {
        IntervalSnapshot {
            interval_s,
            scheduled,
            sent: scheduled,
            completed: scheduled,
            ok,
            ..Default::default()
        }
    }

    #[test]
    fn a_single_success_no_longer_makes_a_tick_up() {
        let rule = UptimeRule::default();
        assert!(!rule.is_up(&tick(1.0, 100, 1)));
        assert!(!rule.is_up(&tick(1.0, 100, 89)));
        assert!(rule.is_up(&tick(1.0, 100, 90)));
        assert!(rule.is_up(&tick(1.0, 0, 0)), "nothing due");
        let mut shed = tick(1.0, 100, 50);
        shed.dropped_ceiling = 50;
        assert!(rule.is_up(&shed), "shed arrivals were never due");
    }

    #[test]
    fn the_rule_follows_the_scenario() {
        let spec = ResilienceSpec {
            critical_error_rate: Some(0.5),
            ..Default::default()
        };
        assert!(UptimeRule::of(&spec).is_up(&tick(1.0, 100, 50)));
        assert_eq!(
            UptimeRule::of(&ResilienceSpec::default()),
            UptimeRule::default()
        );
        let off = ResilienceSpec {
            critical_error_rate: None,
            ..Default::default()
        };
        assert!(UptimeRule::of(&off).is_up(&tick(1.0, 100, 1)));
        assert!(!UptimeRule::of(&off).is_up(&tick(1.0, 100, 0)));
        assert_eq!(
            UptimeRule::default().describe(),
            "a second is up when at least 90% of its due requests got a verdict"
        );
    }

    #[test]
    fn ticks_weigh_their_length() {
        let rule = UptimeRule::default();
        // Nine good seconds and a 15 ms last tick that got nothing back.
        let mut ticks: Vec<IntervalSnapshot> = (0..9).map(|_| tick(1.0, 100, 100)).collect();
        ticks.push(tick(0.015, 3, 0));
        let pct = rule.uptime_pct(&ticks);
        assert!((pct - 100.0 * 9.0 / 9.015).abs() < 1e-9, "{pct}");
        assert_eq!(rule.uptime_pct(&[]), 100.0);
    }
}

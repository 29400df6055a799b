//! Abort thresholds: tell the caller to stop a run that is only doing harm.

use crate::figures::TickFigures;
use models::IntervalSnapshot;

/// When to give up. `None` leaves a rule out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbortThresholds {
    /// Error rate (0..1) above which a tick counts as harmful...
    pub error_rate: Option<f64>,
    /// ...for this many ticks in a row.
    pub error_ticks: u32,
    /// Stop after this many ticks in a row in which requests were sent and none succeeded.
    pub unavailable_ticks: Option<u32>,
}

impl Default for AbortThresholds {
    fn default() -> Self {
        Self {
            error_rate: Some(0.5),
            error_ticks: 10,
            unavailable_ticks: Some(30),
        }
    }
}

/// Why a run should stop; the text fits `Summary::end_reason` after `aborted: `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AbortReason {
    #[error("error rate above {:.0}% for {ticks} ticks in a row (last {:.1}%)", limit * 100.0, last * 100.0)]
    ErrorRate { limit: f64, ticks: u32, last: f64 },
    #[error("no request succeeded for {ticks} ticks in a row")]
    Unavailable { ticks: u32 },
}

/// Counts harmful ticks in a row.
///
/// ```
/// use failure_injection::{AbortMonitor, AbortThresholds};
/// use models::{ErrorKind, IntervalSnapshot};
/// let mut m = AbortMonitor::new(AbortThresholds { error_ticks: 2, ..Default::default() });
/// let mut bad = IntervalSnapshot { sent: 10, completed: 10, ok: 2, ..Default::default() };
/// bad.errors.insert(ErrorKind::Timeout, 8);
/// assert!(m.observe(&bad).is_none());
/// assert!(m.observe(&bad).unwrap().to_string().contains("50%"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct AbortMonitor {
    thresholds: AbortThresholds,
    error_streak: u32,
    unavailable_streak: u32,
}

impl AbortMonitor {
    pub fn new(thresholds: AbortThresholds) -> Self {
        Self {
            thresholds,
            error_streak: 0,
            unavailable_streak: 0,
        }
    }

    /// Takes one tick; returns a reason once a rule has held long enough (and on every tick after, while
    /// it still holds).
    pub fn observe(&mut self, snap: &IntervalSnapshot) -> Option<AbortReason> {
        let f = TickFigures::of(snap);
        let t = self.thresholds;
        match t.error_rate {
            Some(limit) if f.error_rate > limit => self.error_streak += 1,
            _ => self.error_streak = 0,
        }
        self.unavailable_streak = if f.unavailable {
            self.unavailable_streak + 1
        } else {
            0
        };
        if let Some(limit) = t.error_rate
            && t.error_ticks > 0
            && self.error_streak >= t.error_ticks
        {
            return Some(AbortReason::ErrorRate {
                limit,
                ticks: self.error_streak,
                last: f.error_rate,
            });
        }
        if let Some(ticks) = t.unavailable_ticks
            && ticks > 0
            && self.unavailable_streak >= ticks
        {
            return Some(AbortReason::Unavailable {
                ticks: self.unavailable_streak,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::ErrorKind;

    fn tick(sent: u64, ok: u64, errors: u64) -> IntervalSnapshot {
        let mut s = IntervalSnapshot {
            sent,
            ok,
            completed: ok + errors,
            ..Default::default()
        };
        s.errors.insert(ErrorKind::Http5xx, errors);
        s
    }

    #[test]
    fn a_good_tick_resets_the_streak() {
        let mut m = AbortMonitor::default();
        for _ in 0..9 {
            assert!(m.observe(&tick(10, 4, 6)).is_none());
        }
        assert!(m.observe(&tick(10, 10, 0)).is_none());
        for _ in 0..9 {
            assert!(m.observe(&tick(10, 4, 6)).is_none());
        }
        let r = m.observe(&tick(10, 4, 6)).unwrap();
        assert_eq!(
            r,
            AbortReason::ErrorRate {
                limit: 0.5,
                ticks: 10,
                last: 0.6
            }
        );
    }

    #[test]
    fn long_unavailability_aborts() {
        let mut m = AbortMonitor::new(AbortThresholds {
            error_rate: None,
            unavailable_ticks: Some(3),
            error_ticks: 0,
        });
        assert!(m.observe(&tick(10, 0, 0)).is_none());
        assert!(m.observe(&tick(10, 0, 10)).is_none());
        assert_eq!(
            m.observe(&tick(10, 0, 0)),
            Some(AbortReason::Unavailable { ticks: 3 })
        );
        assert!(
            m.observe(&tick(0, 0, 0)).is_none(),
            "nothing sent is not unavailability"
        );
    }
}

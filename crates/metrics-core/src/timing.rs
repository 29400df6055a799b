//! When a request was meant to go, went, and came back.

use std::time::{Duration, Instant};

/// The three instants of one request, as offsets from the run's start on whatever clock the driver
/// uses (tokio's clock, paused in tests, or the wall clock). Plain `Duration`s keep this crate free of
/// any runtime and let tests build samples by hand.
///
/// * latency = `completed - intended`: what a customer waiting in line sees (wrk2's definition);
///   a late send adds to it, so there is no coordinated omission.
/// * service time = `completed - sent`: what the target itself took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// When the arrival schedule wanted it sent.
    pub intended: Duration,
    /// When it actually went out.
    pub sent: Duration,
    /// When the answer (or the failure) came back.
    pub completed: Duration,
}

impl Timing {
    pub const fn new(intended: Duration, sent: Duration, completed: Duration) -> Self {
        Self {
            intended,
            sent,
            completed,
        }
    }

    /// From instants of one clock and the run's start on the same clock (for tokio's clock, pass
    /// `tokio::time::Instant::into_std()` values).
    pub fn since(origin: Instant, intended: Instant, sent: Instant, completed: Instant) -> Self {
        Self {
            intended: intended.saturating_duration_since(origin),
            sent: sent.saturating_duration_since(origin),
            completed: completed.saturating_duration_since(origin),
        }
    }

    /// `completed - intended`, zero if the clock went backwards.
    #[inline]
    pub fn latency(&self) -> Duration {
        self.completed.saturating_sub(self.intended)
    }

    /// `completed - sent`, zero if the clock went backwards.
    #[inline]
    pub fn service_time(&self) -> Duration {
        self.completed.saturating_sub(self.sent)
    }
}

/// Whole microseconds, saturating (no 128-bit arithmetic: this is on the hot path).
#[inline]
pub(crate) fn as_us(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_counts_from_the_intended_send() {
        let t = Timing::new(
            Duration::from_millis(100),
            Duration::from_millis(300),
            Duration::from_millis(310),
        );
        assert_eq!(t.latency(), Duration::from_millis(210));
        assert_eq!(t.service_time(), Duration::from_millis(10));
        let o = Instant::now();
        let t2 = Timing::since(
            o,
            o + Duration::from_millis(100),
            o + Duration::from_millis(300),
            o + Duration::from_millis(310),
        );
        assert_eq!(t, t2);
    }

    #[test]
    fn whole_microseconds_saturate() {
        for d in [0, 1, 999, 1_000, 1_999_999, 3_600_000_000_123] {
            let d = Duration::from_nanos(d);
            assert_eq!(u128::from(as_us(d)), d.as_micros());
        }
        assert_eq!(as_us(Duration::MAX), u64::MAX);
    }
}

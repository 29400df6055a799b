//! The `max_tps` safety ceiling: a `governor` limiter on tokio's clock (so that it follows a paused
//! clock in tests), with a burst of about 2 ms of traffic.
//!
//! The ceiling sheds rather than queues: an arrival it would hold back by more than one
//! dispatcher [`TICK`] past its intended instant is dropped (and counted), so that a rate above
//! the ceiling cannot build a backlog that delays every later send without bound: the model stays
//! open.

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::time::Instant;

/// tokio's clock as seen by governor: time since `origin`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// The dispatcher's timer resolution: tokio's timer wheel fires at 1 ms granularity, so a send is
/// already up to one tick late; the ceiling may add at most one more.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// What the ceiling says about one due arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send it now (the permit is taken).
    Now,
    /// Send it at this instant, at most one tick after its intended one (nothing is taken yet).
    At(Instant),
    /// The next permit comes more than a tick after its intended instant, at `free_at`: drop it.
    /// Every arrival intended before `free_at - TICK` is shed too.
    Shed { free_at: Instant },
}

pub(crate) struct Ceiling {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>,
    origin: Instant,
}

impl std::fmt::Debug for Ceiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceiling").finish_non_exhaustive()
    }
}

impl Ceiling {
    /// `max_tps` is validated (finite, at least 1) by the config.
    pub fn new(max_tps: f64, origin: Instant) -> Self {
        let period = Duration::from_secs_f64(1.0 / max_tps).max(Duration::from_nanos(1));
        let burst =
            NonZeroU32::new((max_tps * 0.002).round().clamp(1.0, f64::from(u32::MAX)) as u32)
                .unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::direct_with_clock(quota, TokioClock { origin }),
            origin,
        }
    }

    /// Whether an arrival intended at `intended` (now or earlier) may be sent now, soon, or never.
    pub fn admit(&self, intended: Instant) -> Admit {
        match self.limiter.check() {
            Ok(()) => Admit::Now,
            Err(not_until) => {
                let free_at = self.origin + not_until.earliest_possible();
                if free_at.saturating_duration_since(intended) > TICK {
                    Admit::Shed { free_at }
                } else {
                    Admit::At(free_at)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn admits_within_a_tick_and_sheds_beyond() {
        let origin = Instant::now();
        // 500 per second: one permit every 2 ms, a burst of 1.
        let c = Ceiling::new(500.0, origin);
        assert_eq!(c.admit(origin), Admit::Now);
        let next = origin + Duration::from_millis(2);
        // Intended 1 ms ago the permit at +2 ms is one tick away: wait for it.
        assert_eq!(c.admit(origin + TICK), Admit::At(next));
        // Intended now it would be two ticks late: shed.
        assert_eq!(c.admit(origin), Admit::Shed { free_at: next });
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(c.admit(origin), Admit::Now, "a shed arrival took no permit");
    }
}

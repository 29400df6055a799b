//! The `max_tps` safety ceiling: a `governor` limiter on tokio's clock (so that it follows a paused
//! clock in tests), with a burst of about 2 ms of traffic.

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

    /// `None` when one more send is allowed now (and takes it), else the instant it will be.
    pub fn try_take(&self) -> Option<Instant> {
        self.limiter
            .check()
            .err()
            .map(|not_until| self.origin + not_until.earliest_possible())
    }
}

//! The driver's knobs: a plain struct with `Default`.

use crate::error::DriverError;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct DriverConfig {
    /// Requests in flight at most. An arrival due while this many are in flight is dropped (counted
    /// as [`models::ErrorKind::Dropped`]), never queued: the model stays open.
    pub max_in_flight: usize,
    /// Hard ceiling on the send rate, a safety net enforced with `governor` (burst: 2 ms of traffic).
    /// Sends above it wait, and the wait shows in latency (measured from the intended send).
    pub max_tps: f64,
    /// After a stop or the end of the profile, how long in-flight requests may still complete.
    /// Those still out after it are abandoned and recorded as [`models::ErrorKind::Timeout`].
    pub grace_period: Duration,
    /// Per-request timeout enforced by the driver (recorded as a timeout), on top of whatever the
    /// target enforces itself. `None`: leave timeouts to the target.
    pub request_timeout: Option<Duration>,
    /// Set each transaction's `timestamp` to the wall-clock instant it is sent (run start on the
    /// system clock plus the send offset on the driver's clock), instead of the factory's stream clock.
    pub rebase_timestamps: bool,
    /// Worker lanes that run and record requests (each owns one metrics shard). 0: one per tokio
    /// worker thread.
    pub lanes: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 10_000,
            max_tps: 60_000.0,
            grace_period: Duration::from_secs(5),
            request_timeout: None,
            rebase_timestamps: false,
            lanes: 0,
        }
    }
}

impl DriverConfig {
    pub fn validate(&self) -> Result<(), DriverError> {
        if self.max_in_flight == 0 {
            return Err(DriverError::Config {
                field: "max_in_flight",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.max_tps.is_finite() && self.max_tps >= 1.0) {
            return Err(DriverError::Config {
                field: "max_tps",
                reason: format!("{} is not a rate of at least 1 per second", self.max_tps),
            });
        }
        if self.request_timeout == Some(Duration::ZERO) {
            return Err(DriverError::Config {
                field: "request_timeout",
                reason: "must be more than 0 (or None)".into(),
            });
        }
        Ok(())
    }
}

//! The driver's knobs: a plain struct with `Default`.

use crate::error::DriverError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A shared list of the transaction indices the driver sent, in send order: for checking that the
/// segments of a distributed run sent exactly the transactions of the whole run. Costs 8 bytes per
/// sent transaction, so it is off unless asked for. Clones share the list.
#[derive(Debug, Clone, Default)]
pub struct SentLog(Arc<Mutex<Vec<u64>>>);

impl SentLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a run's indices (the driver calls it once, when its dispatcher ends).
    pub(crate) fn extend(&self, indices: Vec<u64>) {
        let mut list = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if list.is_empty() {
            *list = indices;
        } else {
            list.extend(indices);
        }
    }

    /// Takes the indices logged so far, leaving the log empty.
    pub fn take(&self) -> Vec<u64> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Two handles are equal when they share one list.
impl PartialEq for SentLog {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

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
    /// target enforces itself. `None`: leave timeouts to the target. Cheap: one timer per lane
    /// serves every request's deadline, so an HTTP target can leave its own per-request timer off
    /// (`targets::HttpTargetConfig::enforce_timeout = false`) when this covers the same deadline.
    pub request_timeout: Option<Duration>,
    /// Set each transaction's `timestamp` to the wall-clock instant it is sent (run start on the
    /// system clock plus the send offset on the driver's clock), instead of the factory's stream clock.
    pub rebase_timestamps: bool,
    /// Worker lanes that run and record requests (each owns one metrics shard). 0: one per tokio
    /// worker thread.
    pub lanes: usize,
    /// Log the index of every sent transaction here (see [`SentLog`]). `None`: no log.
    pub sent_log: Option<SentLog>,
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
            sent_log: None,
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

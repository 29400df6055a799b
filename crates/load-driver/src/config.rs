//! The driver's knobs: a plain struct with `Default`.

use crate::error::DriverError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The transaction indices the driver sent, in send order: for checking that the segments of a
/// distributed run sent exactly the transactions of the whole run. Off unless asked for. Either
/// collected in memory ([`SentLog::new`], 8 bytes per sent transaction, for tests and short runs) or
/// streamed ([`SentLog::streaming`]: the driver hands over chunks of 65,536 as it goes, so memory
/// stays bounded over hours). Clones share one log.
#[derive(Clone, Default)]
pub struct SentLog(Arc<Sink>);

type ChunkSink = Box<dyn Fn(Vec<u64>) + Send + Sync>;

enum Sink {
    Collect(Mutex<Vec<u64>>),
    Stream(ChunkSink),
}

impl Default for Sink {
    fn default() -> Self {
        Sink::Collect(Mutex::default())
    }
}

impl std::fmt::Debug for SentLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Sink::Collect(_) => write!(f, "SentLog::Collect({} indices)", self.len()),
            Sink::Stream(_) => write!(f, "SentLog::Stream"),
        }
    }
}

impl SentLog {
    /// A log collected in memory; read it with [`SentLog::take`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A log handed to `sink` in chunks, in send order, as the run goes (on the driver's task: the
    /// sink must not block, for example it sends the chunk to a writer thread).
    pub fn streaming(sink: impl Fn(Vec<u64>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(Sink::Stream(Box::new(sink))))
    }

    fn collected(&self) -> Option<std::sync::MutexGuard<'_, Vec<u64>>> {
        match &*self.0 {
            Sink::Collect(list) => Some(
                list.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            Sink::Stream(_) => None,
        }
    }

    /// Appends sent indices (the driver calls it as chunks fill and when its dispatcher ends).
    pub(crate) fn extend(&self, indices: Vec<u64>) {
        if indices.is_empty() {
            return;
        }
        match &*self.0 {
            Sink::Stream(sink) => sink(indices),
            Sink::Collect(_) => {
                if let Some(mut list) = self.collected() {
                    if list.is_empty() {
                        *list = indices;
                    } else {
                        list.extend(indices);
                    }
                }
            }
        }
    }

    /// Takes the indices collected so far, leaving the log empty (always empty for a streaming log).
    pub fn take(&self) -> Vec<u64> {
        self.collected()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// The indices collected so far (0 for a streaming log).
    pub fn len(&self) -> usize {
        self.collected().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Two handles are equal when they share one log.
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
    /// A send may wait for it up to one 1 ms tick (the wait shows in latency, measured from the
    /// intended send); an arrival it would delay longer is shed and counted in `dropped_ceiling`.
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

//! Fault hooks: what can be broken in the running pipeline, identified by kind and stage, and cleared.
//!
//! | kind               | stage (default)                  | effect                                                        |
//! |--------------------|----------------------------------|---------------------------------------------------------------|
//! | `agent_crash`      | any (`pattern_detector`)         | the agent fails at once; see the crate docs for the fallbacks  |
//! | `db_throttle`      | any (`pattern_detector`)         | its store refuses a share `probability` with `status` (429)    |
//! | `latency_spike`    | any (`pattern_detector`)         | `latency` ± `jitter` more service time, holding its servers     |
//! | `stream_lag`       | `ingestion` only                 | requests wait `latency` ± `jitter` in the ingestion queue       |
//! | `model_rate_limit` | `decision_maker` only            | `rate_limit_tps` model calls per second, the rest get 429       |
//! | `connection_reset` | `ingestion` only                 | a share `probability` of connections close without an answer  |
//! | `network_partition`| `ingestion` only                 | every connection closes without an answer                      |
//! | `http_error`       | `ingestion` only                 | a share `probability` is answered `status` (503)               |
//! | `slow_response`    | `decision_maker` only            | the answer waits `latency` ± `jitter` after the decision        |
//!
//! `bandwidth_limit` is not a hook of the built-in target: the failure-injection proxy does it.

use crate::stage::StageName;
use models::{FaultKind, FaultSpec};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// One fault to put in place. JSON form (the body of `POST /admin/faults`):
/// `{"kind":"db_throttle","stage":"risk_assessor","probability":0.3}`,
/// `{"kind":"latency_spike","stage":"pattern_detector","latency":"200ms","jitter":"50ms"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub kind: FaultKind,
    /// Absent: the kind's natural place (see the module table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageName>,
    /// Share of requests affected, 0..=1.
    #[serde(default = "one")]
    pub probability: f64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "models::duration_serde::option"
    )]
    pub latency: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "models::duration_serde::option"
    )]
    pub jitter: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_tps: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// What identifies an active fault: injecting another with the same key replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FaultKey {
    pub kind: FaultKind,
    pub stage: StageName,
}

impl std::fmt::Display for FaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.kind, self.stage)
    }
}

/// A fault that cannot be put in place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("{kind} is not a hook of the built-in target; use the failure-injection proxy for it")]
    Unsupported { kind: FaultKind },
    #[error(
        "{kind} only applies to stage {only}, not {given}; leave `stage` out or set it to {only}"
    )]
    WrongStage {
        kind: FaultKind,
        only: StageName,
        given: StageName,
    },
    #[error("invalid {kind} fault: `{field}` {reason}")]
    Invalid {
        kind: FaultKind,
        field: &'static str,
        reason: String,
    },
    #[error("invalid stage in fault spec: {0}")]
    UnknownStage(String),
}

impl Fault {
    /// A fault of `kind` at its natural place, with probability 1 and default parameters.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            stage: None,
            probability: 1.0,
            latency: None,
            jitter: None,
            status: None,
            rate_limit_tps: None,
        }
    }

    pub fn at(mut self, stage: StageName) -> Self {
        self.stage = Some(stage);
        self
    }

    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    pub fn with_latency(mut self, latency: Duration, jitter: Duration) -> Self {
        self.latency = Some(latency);
        self.jitter = Some(jitter);
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_rate_limit(mut self, tps: f64) -> Self {
        self.rate_limit_tps = Some(tps);
        self
    }

    /// The hook for a scenario's fault (its `at` and `duration` are the caller's business).
    pub fn from_spec(spec: &FaultSpec) -> Result<Self, FaultError> {
        let stage = spec
            .stage
            .as_deref()
            .map(str::parse::<StageName>)
            .transpose()
            .map_err(FaultError::UnknownStage)?;
        Ok(Self {
            kind: spec.kind,
            stage,
            probability: spec.probability,
            latency: spec.latency,
            jitter: spec.jitter,
            status: spec.status,
            rate_limit_tps: spec.rate_limit_tps,
        })
    }

    /// The only stage the kind applies to, if it has one.
    fn fixed_stage(kind: FaultKind) -> Option<StageName> {
        match kind {
            FaultKind::StreamLag
            | FaultKind::ConnectionReset
            | FaultKind::NetworkPartition
            | FaultKind::HttpError => Some(StageName::Ingestion),
            FaultKind::ModelRateLimit | FaultKind::SlowResponse => Some(StageName::DecisionMaker),
            _ => None,
        }
    }

    /// Checks the fault and fills in its stage and defaults.
    pub fn resolve(mut self) -> Result<Self, FaultError> {
        let kind = self.kind;
        let invalid = |field, reason: &str| FaultError::Invalid {
            kind,
            field,
            reason: reason.to_owned(),
        };
        if kind == FaultKind::BandwidthLimit {
            return Err(FaultError::Unsupported { kind });
        }
        let stage = match (Self::fixed_stage(kind), self.stage) {
            (Some(only), Some(given)) if only != given => {
                return Err(FaultError::WrongStage { kind, only, given });
            }
            (Some(only), _) => only,
            (None, Some(given)) => given,
            (None, None) => StageName::PatternDetector,
        };
        self.stage = Some(stage);
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(invalid("probability", "must be between 0 and 1"));
        }
        match kind {
            FaultKind::DbThrottle => {
                self.status.get_or_insert(429);
            }
            FaultKind::HttpError => {
                self.status.get_or_insert(503);
            }
            FaultKind::LatencySpike | FaultKind::StreamLag | FaultKind::SlowResponse => {
                self.latency.get_or_insert(match kind {
                    FaultKind::StreamLag => Duration::from_secs(1),
                    _ => Duration::from_millis(200),
                });
            }
            FaultKind::ModelRateLimit => match self.rate_limit_tps {
                Some(r) if r.is_finite() && r >= 0.0 => {}
                _ => {
                    return Err(invalid(
                        "rate_limit_tps",
                        "must be given as a number of calls per second >= 0",
                    ));
                }
            },
            _ => {}
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(invalid(
                "status",
                "must be an HTTP error status, 400 to 599",
            ));
        }
        Ok(self)
    }

    /// The key of a resolved fault.
    pub fn key(&self) -> FaultKey {
        FaultKey {
            kind: self.kind,
            stage: self
                .stage
                .or(Self::fixed_stage(self.kind))
                .unwrap_or(StageName::PatternDetector),
        }
    }

    fn extra_time(&self) -> Duration {
        let base = self.latency.unwrap_or_default();
        match self.jitter {
            Some(j) if !j.is_zero() => base + j.mul_f64(rand::rng().random::<f64>()),
            _ => base,
        }
    }

    fn hits(&self) -> bool {
        self.probability >= 1.0
            || (self.probability > 0.0 && rand::rng().random_bool(self.probability))
    }
}

/// The fault hooks of one pipeline: a cheap, cloneable handle. Injecting a fault with the key of an
/// active one replaces it; faults stay until cleared.
///
/// ```
/// use fraud_sim::{Fault, FaultKey, Faults, StageName};
/// use models::FaultKind;
/// let faults = Faults::default();
/// let key = faults.inject(Fault::new(FaultKind::AgentCrash).at(StageName::RiskAssessor)).unwrap();
/// assert_eq!(key, FaultKey { kind: FaultKind::AgentCrash, stage: StageName::RiskAssessor });
/// assert_eq!(faults.active().len(), 1);
/// assert!(faults.clear(key));
/// assert!(faults.active().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    active: RwLock<Vec<Fault>>,
    /// Number of active faults, read first so that the common case takes no lock.
    count: AtomicUsize,
    /// The model's rate-limit window: its start and the calls counted in it.
    model_window: Mutex<Option<(Instant, u64)>>,
}

impl Faults {
    /// Puts a fault in place (replacing any with the same key) and returns its key.
    pub fn inject(&self, fault: Fault) -> Result<FaultKey, FaultError> {
        let fault = fault.resolve()?;
        let key = fault.key();
        let mut active = self
            .inner
            .active
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        active.retain(|f| f.key() != key);
        active.push(fault);
        self.inner.count.store(active.len(), Ordering::Release);
        if key.kind == FaultKind::ModelRateLimit {
            *self
                .inner
                .model_window
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
        }
        Ok(key)
    }

    /// Clears one fault; false when it was not active.
    pub fn clear(&self, key: FaultKey) -> bool {
        let mut active = self
            .inner
            .active
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let before = active.len();
        active.retain(|f| f.key() != key);
        self.inner.count.store(active.len(), Ordering::Release);
        active.len() != before
    }

    /// Clears every fault; returns how many were active.
    pub fn clear_all(&self) -> usize {
        let mut active = self
            .inner
            .active
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let n = active.len();
        active.clear();
        self.inner.count.store(0, Ordering::Release);
        n
    }

    /// The active faults, resolved (stage and defaults filled in).
    pub fn active(&self) -> Vec<Fault> {
        self.inner
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Crashes an agent until [`Faults::restart`].
    pub fn crash(&self, stage: StageName) -> FaultKey {
        let key = FaultKey {
            kind: FaultKind::AgentCrash,
            stage,
        };
        // An agent crash at an explicit stage always resolves.
        let _ = self.inject(Fault::new(FaultKind::AgentCrash).at(stage));
        key
    }

    /// Restarts a crashed agent; false when it was not crashed.
    pub fn restart(&self, stage: StageName) -> bool {
        self.clear(FaultKey {
            kind: FaultKind::AgentCrash,
            stage,
        })
    }

    fn find<R>(&self, kind: FaultKind, stage: StageName, f: impl FnOnce(&Fault) -> R) -> Option<R> {
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let active = self
            .inner
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        active
            .iter()
            .find(|x| x.kind == kind && x.key().stage == stage)
            .map(f)
    }

    pub(crate) fn is_crashed(&self, stage: StageName) -> bool {
        self.find(FaultKind::AgentCrash, stage, |_| ()).is_some()
    }

    /// The status to throttle this request with, if the store throttles it.
    pub(crate) fn throttled(&self, stage: StageName) -> Option<u16> {
        self.find(FaultKind::DbThrottle, stage, |f| {
            f.hits().then(|| f.status.unwrap_or(429))
        })
        .flatten()
    }

    /// Extra service time of a latency spike on the stage.
    pub(crate) fn extra_latency(&self, stage: StageName) -> Duration {
        self.find(FaultKind::LatencySpike, stage, |f| {
            if f.hits() {
                f.extra_time()
            } else {
                Duration::ZERO
            }
        })
        .unwrap_or_default()
    }

    /// How long ingestion holds this request (stream lag).
    pub(crate) fn stream_lag(&self) -> Duration {
        self.find(FaultKind::StreamLag, StageName::Ingestion, |f| {
            if f.hits() {
                f.extra_time()
            } else {
                Duration::ZERO
            }
        })
        .unwrap_or_default()
    }

    /// How long the answer waits after the decision (slow response).
    pub(crate) fn slow_response(&self) -> Duration {
        self.find(FaultKind::SlowResponse, StageName::DecisionMaker, |f| {
            if f.hits() {
                f.extra_time()
            } else {
                Duration::ZERO
            }
        })
        .unwrap_or_default()
    }

    /// Faults applied as a request arrives: dropped connections and injected statuses.
    pub(crate) fn on_arrival(&self) -> Result<(), crate::PipelineError> {
        use crate::PipelineError;
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        if self.find(
            FaultKind::NetworkPartition,
            StageName::Ingestion,
            Fault::hits,
        ) == Some(true)
            || self.find(
                FaultKind::ConnectionReset,
                StageName::Ingestion,
                Fault::hits,
            ) == Some(true)
        {
            return Err(PipelineError::Dropped);
        }
        if let Some(Some(status)) = self.find(FaultKind::HttpError, StageName::Ingestion, |f| {
            f.hits().then(|| f.status.unwrap_or(503))
        }) {
            return Err(PipelineError::InjectedStatus { status });
        }
        Ok(())
    }

    /// Counts one model call against the rate limit, if there is one; `Err` carries the limit.
    pub(crate) fn model_call(&self) -> Result<(), f64> {
        let Some(limit) = self.find(FaultKind::ModelRateLimit, StageName::DecisionMaker, |f| {
            f.rate_limit_tps
        }) else {
            return Ok(());
        };
        let limit = limit.unwrap_or(0.0);
        // Fixed windows: one second with floor(limit) calls, or 1/limit seconds with one call when the
        // limit is below one per second.
        let (span, allowed) = if limit >= 1.0 {
            (Duration::from_secs(1), limit.floor() as u64)
        } else if limit > 0.0 {
            (Duration::from_secs_f64(1.0 / limit), 1)
        } else {
            return Err(limit);
        };
        let now = Instant::now();
        let mut window = self
            .inner
            .model_window
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (start, calls) = match *window {
            Some((start, calls)) if now.duration_since(start) < span => (start, calls),
            _ => (now, 0),
        };
        if calls < allowed {
            *window = Some((start, calls + 1));
            Ok(())
        } else {
            *window = Some((start, calls));
            Err(limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_resolve_to_their_places() {
        let f = Fault::new(FaultKind::StreamLag).resolve().unwrap();
        assert_eq!(f.key().stage, StageName::Ingestion);
        assert_eq!(f.latency, Some(Duration::from_secs(1)));
        let err = Fault::new(FaultKind::ModelRateLimit)
            .at(StageName::RiskAssessor)
            .with_rate_limit(5.0)
            .resolve();
        assert!(matches!(err, Err(FaultError::WrongStage { .. })));
        assert!(matches!(
            Fault::new(FaultKind::ModelRateLimit).resolve(),
            Err(FaultError::Invalid { .. })
        ));
        assert!(matches!(
            Fault::new(FaultKind::BandwidthLimit).resolve(),
            Err(FaultError::Unsupported { .. })
        ));
        assert!(
            Fault::new(FaultKind::DbThrottle)
                .with_probability(1.5)
                .resolve()
                .is_err()
        );
        assert_eq!(
            Fault::new(FaultKind::DbThrottle).resolve().unwrap().status,
            Some(429)
        );
    }

    #[test]
    fn same_key_replaces_and_clear_removes() {
        let faults = Faults::default();
        faults
            .inject(Fault::new(FaultKind::DbThrottle).with_probability(0.2))
            .unwrap();
        let key = faults
            .inject(Fault::new(FaultKind::DbThrottle).with_probability(1.0))
            .unwrap();
        assert_eq!(faults.active().len(), 1);
        assert_eq!(faults.throttled(StageName::PatternDetector), Some(429));
        assert_eq!(faults.throttled(StageName::RiskAssessor), None);
        assert!(faults.clear(key));
        assert!(!faults.clear(key));
        assert_eq!(faults.throttled(StageName::PatternDetector), None);
    }

    #[test]
    fn from_spec_reads_the_stage() {
        let mut spec = FaultSpec::new(
            FaultKind::AgentCrash,
            Duration::ZERO,
            Duration::from_secs(1),
        );
        spec.stage = Some("risk_assessor".into());
        assert_eq!(
            Fault::from_spec(&spec).unwrap().stage,
            Some(StageName::RiskAssessor)
        );
        spec.stage = Some("database".into());
        assert!(matches!(
            Fault::from_spec(&spec),
            Err(FaultError::UnknownStage(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn model_rate_limit_allows_n_per_second() {
        let faults = Faults::default();
        faults
            .inject(Fault::new(FaultKind::ModelRateLimit).with_rate_limit(3.0))
            .unwrap();
        let allowed = (0..10).filter(|_| faults.model_call().is_ok()).count();
        assert_eq!(allowed, 3);
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(faults.model_call().is_ok());
        faults.clear_all();
        assert!((0..100).all(|_| faults.model_call().is_ok()));
    }
}

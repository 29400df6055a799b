//! The built-in injector: carries faults out through the reference target's own hooks (`fraud_sim::Faults`).

use crate::catalogue;
use crate::flag::check_spec;
use crate::injector::{ActiveFault, FaultId, InjectError, Injector};
use async_trait::async_trait;
use fraud_sim::{Fault, FaultError, FaultKey, Faults, StageName};
use models::{FaultKind, FaultSpec};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Bytes of one answer with its headers, for modelling `bandwidth_limit` as a delay.
const ANSWER_BYTES: f64 = 1024.0;

#[derive(Debug)]
struct Held {
    id: FaultId,
    spec: FaultSpec,
    hook: Fault,
    key: FaultKey,
}

/// Drives fraud-sim's fault hooks. Make it from the pipeline's handle:
/// `BuiltinInjector::new(sim.faults().clone())` (HTTP service) or `pipeline.faults().clone()` (in process).
///
/// fraud-sim keeps one fault per kind and stage. When two applied faults share them, the later one is in
/// force; clearing it puts the earlier one back.
///
/// ```
/// use failure_injection::{BuiltinInjector, Injector};
/// use models::{FaultKind, FaultSpec};
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let faults = fraud_sim::Faults::default();
/// let injector = BuiltinInjector::new(faults.clone());
/// let mut spec = FaultSpec::new(FaultKind::AgentCrash, Duration::ZERO, Duration::from_secs(30));
/// spec.stage = Some("risk_assessor".into());
/// let id = injector.apply(&spec).await.unwrap();
/// assert_eq!(faults.active().len(), 1);
/// injector.clear(id).await.unwrap();
/// assert!(faults.active().is_empty());
/// # });
/// ```
#[derive(Debug)]
pub struct BuiltinInjector {
    faults: Faults,
    held: Mutex<Vec<Held>>,
    next_id: AtomicU64,
}

impl BuiltinInjector {
    pub fn new(faults: Faults) -> Self {
        Self {
            faults,
            held: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The fraud-sim hook for a spec, with this crate's defaults filled in so that both injectors agree.
pub fn builtin_hook(spec: &FaultSpec) -> Result<Fault, InjectError> {
    let kind = spec.kind;
    let mut spec = spec.clone();
    if kind == FaultKind::BandwidthLimit {
        let bps = catalogue::effective_bandwidth(&spec) as f64;
        spec.kind = FaultKind::SlowResponse;
        spec.stage = None;
        spec.latency = Some(Duration::from_secs_f64(ANSWER_BYTES / bps));
        spec.bandwidth_bps = None;
    }
    let mut hook = Fault::from_spec(&spec).map_err(|e| hook_error(kind, e))?;
    match spec.kind {
        FaultKind::LatencySpike | FaultKind::StreamLag | FaultKind::SlowResponse => {
            hook.latency = Some(catalogue::effective_latency(&spec));
        }
        FaultKind::DbThrottle | FaultKind::HttpError => {
            hook.status = Some(catalogue::effective_status(&spec))
        }
        FaultKind::ModelRateLimit => {
            hook.rate_limit_tps = Some(catalogue::effective_rate_limit(&spec))
        }
        // fraud-sim's crash is total and answers its own status.
        FaultKind::AgentCrash => hook.status = None,
        _ => {}
    }
    hook.resolve().map_err(|e| hook_error(kind, e))
}

fn hook_error(kind: FaultKind, e: FaultError) -> InjectError {
    match e {
        FaultError::UnknownStage(stage) => InjectError::UnknownStage {
            injector: "builtin",
            kind,
            stage,
            valid: StageName::ALL.map(StageName::as_str).join(", "),
        },
        FaultError::Unsupported { .. } => InjectError::Unsupported {
            injector: "builtin",
            kind,
            reason: e.to_string(),
        },
        other => InjectError::Hook {
            injector: "builtin",
            kind,
            reason: other.to_string(),
        },
    }
}

#[async_trait]
impl Injector for BuiltinInjector {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn apply(&self, spec: &FaultSpec) -> Result<FaultId, InjectError> {
        check_spec(spec)?;
        let hook = builtin_hook(spec)?;
        let mut held = self.held();
        let key = self
            .faults
            .inject(hook.clone())
            .map_err(|e| hook_error(spec.kind, e))?;
        let id = FaultId(self.next_id.fetch_add(1, Ordering::Relaxed));
        held.push(Held {
            id,
            spec: spec.clone(),
            hook,
            key,
        });
        Ok(id)
    }

    async fn clear(&self, id: FaultId) -> Result<(), InjectError> {
        let mut held = self.held();
        let pos = held
            .iter()
            .position(|h| h.id == id)
            .ok_or(InjectError::UnknownFault {
                injector: "builtin",
                id,
            })?;
        let gone = held.remove(pos);
        match held.iter().rev().find(|h| h.key == gone.key) {
            // Another fault with the same kind and stage is still wanted: put the latest back in force.
            Some(earlier) => {
                self.faults
                    .inject(earlier.hook.clone())
                    .map_err(|e| hook_error(earlier.spec.kind, e))?;
            }
            None => {
                self.faults.clear(gone.key);
            }
        }
        Ok(())
    }

    async fn active(&self) -> Vec<ActiveFault> {
        self.held()
            .iter()
            .map(|h| ActiveFault {
                id: h.id,
                spec: h.spec.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec::new(kind, Duration::ZERO, Duration::from_secs(1))
    }

    #[test]
    fn hooks_get_this_crates_defaults() {
        let h = builtin_hook(&spec(FaultKind::ModelRateLimit)).unwrap();
        assert_eq!(
            (h.rate_limit_tps, h.stage),
            (Some(5.0), Some(StageName::DecisionMaker))
        );
        let h = builtin_hook(&spec(FaultKind::LatencySpike)).unwrap();
        assert_eq!(h.latency, Some(Duration::from_millis(200)));
        let mut bw = spec(FaultKind::BandwidthLimit);
        bw.bandwidth_bps = Some(2048);
        let h = builtin_hook(&bw).unwrap();
        assert_eq!(
            (h.kind, h.latency),
            (FaultKind::SlowResponse, Some(Duration::from_millis(500)))
        );
    }

    #[test]
    fn bad_stages_are_named_with_the_valid_ones() {
        let mut s = spec(FaultKind::AgentCrash);
        s.stage = Some("database".into());
        let e = builtin_hook(&s).unwrap_err();
        assert!(matches!(e, InjectError::UnknownStage { .. }), "{e}");
        assert!(e.to_string().contains("pattern_detector"), "{e}");
        let mut s = spec(FaultKind::StreamLag);
        s.stage = Some("risk_assessor".into());
        assert!(matches!(builtin_hook(&s), Err(InjectError::Hook { .. })));
    }

    #[tokio::test]
    async fn the_same_kind_and_stage_stack() {
        let faults = Faults::default();
        let inj = BuiltinInjector::new(faults.clone());
        let mut a = spec(FaultKind::DbThrottle);
        a.probability = 0.2;
        let mut b = a.clone();
        b.probability = 0.9;
        let ida = inj.apply(&a).await.unwrap();
        let idb = inj.apply(&b).await.unwrap();
        assert_eq!(faults.active()[0].probability, 0.9);
        inj.clear(idb).await.unwrap();
        assert_eq!(
            faults.active()[0].probability,
            0.2,
            "the earlier one is back"
        );
        assert!(matches!(
            inj.clear(idb).await,
            Err(InjectError::UnknownFault { .. })
        ));
        inj.clear(ida).await.unwrap();
        assert!(faults.active().is_empty());
    }
}

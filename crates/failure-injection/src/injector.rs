//! The [`Injector`] trait that both injectors implement, and the ids of the faults they hold.

use crate::flag::FaultSpecError;
use async_trait::async_trait;
use models::{FaultKind, FaultSpec};
use serde::{Deserialize, Serialize};

/// Names one applied fault, so that it can be cleared. Unique within one injector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FaultId(pub u64);

impl std::fmt::Display for FaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault#{}", self.0)
    }
}

/// A fault an injector is holding now.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveFault {
    pub id: FaultId,
    pub spec: FaultSpec,
}

impl ActiveFault {
    /// The label used in `IntervalSnapshot::active_faults`: `agent_crash` or `agent_crash:pattern_detector`.
    pub fn label(&self) -> String {
        fault_label(&self.spec)
    }
}

/// `kind` or `kind:stage`.
pub fn fault_label(spec: &FaultSpec) -> String {
    match &spec.stage {
        Some(stage) => format!("{}:{stage}", spec.kind),
        None => spec.kind.to_string(),
    }
}

/// Why a fault could not be applied or cleared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InjectError {
    #[error(transparent)]
    InvalidSpec(#[from] FaultSpecError),
    #[error("{injector} injector: no active fault {id}; list the active ones with `active()`")]
    UnknownFault { injector: &'static str, id: FaultId },
    #[error(
        "{injector} injector: fault {kind} names unknown stage {stage:?}; valid stages: {valid}"
    )]
    UnknownStage {
        injector: &'static str,
        kind: FaultKind,
        stage: String,
        valid: String,
    },
    #[error("{injector} injector: cannot inject {kind}: {reason}")]
    Unsupported {
        injector: &'static str,
        kind: FaultKind,
        reason: String,
    },
    #[error("{injector} injector: the target refused fault {kind}: {reason}")]
    Hook {
        injector: &'static str,
        kind: FaultKind,
        reason: String,
    },
}

/// Applies faults to a system under test and takes them away again. The orchestrator's timeline and the
/// control handle's manual injection use the same calls.
///
/// Faults do not end by themselves: `spec.at` and `spec.duration` are for the [`FaultSchedule`](crate::FaultSchedule);
/// the caller clears what it applied.
#[async_trait]
pub trait Injector: Send + Sync + 'static {
    /// `builtin` or `proxy`, for messages.
    fn name(&self) -> &'static str;

    /// Starts `spec` now; the id clears it.
    async fn apply(&self, spec: &FaultSpec) -> Result<FaultId, InjectError>;

    /// Ends the fault `id`. Clearing an id that is not active is an [`InjectError::UnknownFault`].
    async fn clear(&self, id: FaultId) -> Result<(), InjectError>;

    /// The faults held now, in the order they were applied.
    async fn active(&self) -> Vec<ActiveFault>;

    /// Ends every active fault; used when a run stops.
    async fn clear_all(&self) -> Result<(), InjectError> {
        for fault in self.active().await {
            self.clear(fault.id).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<T: Injector + ?Sized> Injector for std::sync::Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    async fn apply(&self, spec: &FaultSpec) -> Result<FaultId, InjectError> {
        (**self).apply(spec).await
    }

    async fn clear(&self, id: FaultId) -> Result<(), InjectError> {
        (**self).clear(id).await
    }

    async fn active(&self) -> Vec<ActiveFault> {
        (**self).active().await
    }

    async fn clear_all(&self) -> Result<(), InjectError> {
        (**self).clear_all().await
    }
}

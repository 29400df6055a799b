//! Errors of the reference service: bad settings, a port that cannot be bound, and how one request
//! can fail inside the pipeline.

use crate::stage::StageName;
use targets::TargetError;

/// Starting or stopping the service failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid fraud-sim setting `{field}`: {reason}")]
    Config { field: String, reason: String },
    #[error("cannot listen on {addr}: {source}; pick another port, or 0 for a free one")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the fraud-sim server task failed: {reason}")]
    Server { reason: String },
}

/// Why one transaction got no verdict. Each maps to an HTTP status ([`PipelineError::status`]) and,
/// in-process, to a [`TargetError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("stage {stage} is down (injected agent crash) and the pipeline has no fallback for it")]
    Crashed { stage: StageName },
    #[error("stage {stage}'s store throttled the request (injected), HTTP {status}")]
    Throttled { stage: StageName, status: u16 },
    #[error("stage {stage}'s queue is full ({limit} waiting); the request was shed")]
    QueueFull { stage: StageName, limit: usize },
    #[error("the model (decision_maker) is rate limited to {limit_tps} calls/s (injected)")]
    RateLimited { limit_tps: f64 },
    #[error("injected HTTP error {status}")]
    InjectedStatus { status: u16 },
    #[error("the connection was dropped without an answer (injected)")]
    Dropped,
}

impl PipelineError {
    /// The HTTP status the server answers; `None` means close the connection without an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            PipelineError::Crashed { .. } | PipelineError::QueueFull { .. } => Some(503),
            PipelineError::Throttled { status, .. } | PipelineError::InjectedStatus { status } => {
                Some(*status)
            }
            PipelineError::RateLimited { .. } => Some(429),
            PipelineError::Dropped => None,
        }
    }
}

impl From<PipelineError> for TargetError {
    fn from(e: PipelineError) -> Self {
        match e.status() {
            Some(status) => TargetError::Status { status },
            None => TargetError::Connection {
                reason: e.to_string(),
            },
        }
    }
}

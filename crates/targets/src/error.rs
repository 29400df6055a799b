//! How a request can fail, each way mapped to a counted [`ErrorKind`].

use models::ErrorKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the target answered HTTP {status}")]
    Status { status: u16 },
    #[error("no answer within {timeout_ms} ms")]
    Timeout { timeout_ms: u64 },
    #[error("connection failed: {reason}")]
    Connection { reason: String },
    #[error("the answer is not a verdict: {reason}")]
    Malformed { reason: String },
    /// The TLS layer refused the connection (certificate, name, client certificate); the reason says
    /// what to change.
    #[error("TLS failed: {reason}")]
    Tls { reason: String },
}

impl TargetError {
    /// The metrics bucket this failure is counted in.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TargetError::Status { status } => ErrorKind::from_status(*status),
            TargetError::Timeout { .. } => ErrorKind::Timeout,
            TargetError::Connection { .. } => ErrorKind::Connection,
            TargetError::Malformed { .. } => ErrorKind::Malformed,
            TargetError::Tls { .. } => ErrorKind::Tls,
        }
    }
}

/// Why an [`HttpTarget`](crate::HttpTarget) could not be built. Nothing has been sent when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetConfigError {
    #[error(
        "refusing to send load to {url}: its host {host:?} is not loopback (127.0.0.0/8, ::1, localhost); \
         set `allow_remote` if you own that system and mean to load it"
    )]
    RemoteRefused { url: String, host: String },
    #[error("invalid target URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid target setting `{field}`: {reason}")]
    InvalidSetting { field: &'static str, reason: String },
}

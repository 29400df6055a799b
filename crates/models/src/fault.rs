//! Fault specs: what to break, when, how hard. The `failure-injection` crate carries them out.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The fault catalogue, drawn from the platform's real failure modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// An agent (a Lambda function) crashes: its requests fail until it restarts.
    AgentCrash,
    /// The store (DynamoDB) throttles: a share of lookups fail with a throttling error.
    DbThrottle,
    /// The stream (Kinesis) lags: the ingestion queue stalls for a while.
    StreamLag,
    /// The model (Bedrock) is rate limited: calls above a rate are refused.
    ModelRateLimit,
    /// The target cannot be reached at all.
    NetworkPartition,
    /// Extra latency, with jitter, on a stage or route.
    LatencySpike,
    /// Connections are reset mid-request.
    ConnectionReset,
    /// Responses trickle through a bandwidth limit.
    BandwidthLimit,
    /// Responses are slow to start (time to first byte).
    SlowResponse,
    /// The target answers an HTTP error status (429, 503, ...) at a probability.
    HttpError,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::AgentCrash,
        FaultKind::DbThrottle,
        FaultKind::StreamLag,
        FaultKind::ModelRateLimit,
        FaultKind::NetworkPartition,
        FaultKind::LatencySpike,
        FaultKind::ConnectionReset,
        FaultKind::BandwidthLimit,
        FaultKind::SlowResponse,
        FaultKind::HttpError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FaultKind::AgentCrash => "agent_crash",
            FaultKind::DbThrottle => "db_throttle",
            FaultKind::StreamLag => "stream_lag",
            FaultKind::ModelRateLimit => "model_rate_limit",
            FaultKind::NetworkPartition => "network_partition",
            FaultKind::LatencySpike => "latency_spike",
            FaultKind::ConnectionReset => "connection_reset",
            FaultKind::BandwidthLimit => "bandwidth_limit",
            FaultKind::SlowResponse => "slow_response",
            FaultKind::HttpError => "http_error",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fault on the scenario's timeline. In TOML:
/// ```toml
/// [[faults]]
/// kind = "agent_crash"
/// stage = "pattern_detector"
/// at = "300s"
/// duration = "30s"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// The stage, agent or route it hits (for the built-in target: `ingestion`, `transaction_analyzer`,
    /// `pattern_detector`, `risk_assessor`, `decision_maker`); absent means the fault's natural place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Start, from the beginning of the run (before any time scaling).
    #[serde(with = "crate::duration_serde")]
    pub at: Duration,
    #[serde(with = "crate::duration_serde")]
    pub duration: Duration,
    /// Share of requests affected, 0..=1.
    #[serde(default = "one")]
    pub probability: f64,
    /// Added latency (latency_spike, slow_response, stream_lag).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_serde::option"
    )]
    pub latency: Option<Duration>,
    /// Uniform jitter added to `latency`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_serde::option"
    )]
    pub jitter: Option<Duration>,
    /// Status for http_error and db_throttle (default 429 for throttles, 503 otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Bytes per second for bandwidth_limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_bps: Option<u64>,
    /// Calls per second allowed for model_rate_limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_tps: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl FaultSpec {
    /// A fault of `kind` at `at` for `duration` with default parameters.
    pub fn new(kind: FaultKind, at: Duration, duration: Duration) -> Self {
        Self {
            kind,
            stage: None,
            at,
            duration,
            probability: 1.0,
            latency: None,
            jitter: None,
            status: None,
            bandwidth_bps: None,
            rate_limit_tps: None,
        }
    }

    pub fn end(&self) -> Duration {
        self.at + self.duration
    }
}

//! The fault catalogue: what each [`FaultKind`] means, which parameters it takes, their defaults, and
//! what each injector does with it. The crate docs render the same facts as a table.

use models::{FaultKind, FaultSpec};
use std::time::Duration;

/// A parameter of a fault, as written in a `--fault` flag and checked in a [`FaultSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// `stage=` (alias `route=`): the stage, agent or route it hits.
    Stage,
    /// `p=` (alias `probability=`): share of requests affected, 0..=1.
    Probability,
    /// `latency=`: added delay.
    Latency,
    /// `jitter=`: uniform jitter added to the delay.
    Jitter,
    /// `status=`: HTTP status answered.
    Status,
    /// `bps=` (alias `bandwidth=`): bytes per second.
    Bandwidth,
    /// `tps=` (alias `rate=`): calls per second allowed.
    RateLimit,
}

impl Param {
    /// The canonical key in the `--fault` syntax.
    pub const fn key(self) -> &'static str {
        match self {
            Param::Stage => "stage",
            Param::Probability => "p",
            Param::Latency => "latency",
            Param::Jitter => "jitter",
            Param::Status => "status",
            Param::Bandwidth => "bps",
            Param::RateLimit => "tps",
        }
    }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultInfo {
    pub kind: FaultKind,
    /// The real failure mode it stands for.
    pub meaning: &'static str,
    /// Parameters the kind accepts, besides `at` and `for`.
    pub params: &'static [Param],
    /// What the built-in injector (fraud-sim's hooks) does.
    pub builtin: &'static str,
    /// What the fault-injecting proxy does.
    pub proxy: &'static str,
}

use Param::*;

/// Every fault kind, in [`FaultKind::ALL`] order.
pub const CATALOGUE: [FaultInfo; 10] = [
    FaultInfo {
        kind: FaultKind::AgentCrash,
        meaning: "an agent (Lambda function) crashes and its calls fail until it restarts",
        params: &[Stage, Probability, Status],
        builtin: "the agent `stage` (default `pattern_detector`) fails at once (`p` unused: a crash is total); analyzer, pattern detector and risk assessor are skipped with a fallback, ingestion or decision maker down answers 503; restarted when the fault ends",
        proxy: "answers `status` (default 503) on the matching route at probability `p`",
    },
    FaultInfo {
        kind: FaultKind::DbThrottle,
        meaning: "the store (DynamoDB) throttles: a share of lookups fail",
        params: &[Stage, Probability, Status],
        builtin: "the store of `stage` (default `pattern_detector`) refuses a share `p` with `status`",
        proxy: "answers `status` (default 429) at probability `p`",
    },
    FaultInfo {
        kind: FaultKind::StreamLag,
        meaning: "the stream (Kinesis) lags: the ingestion queue stalls",
        params: &[Stage, Probability, Latency, Jitter],
        builtin: "requests wait `latency` (default 1s) plus jitter in the ingestion queue (stage fixed: `ingestion`)",
        proxy: "holds requests for `latency` (default 1s) plus jitter before forwarding, at probability `p`",
    },
    FaultInfo {
        kind: FaultKind::ModelRateLimit,
        meaning: "the model (Bedrock) is rate limited: calls above a rate are refused",
        params: &[Stage, Probability, Status, RateLimit],
        builtin: "the model call (stage fixed: `decision_maker`) allows `tps` calls per second (default 5); the rest get 429",
        proxy: "answers `status` (default 429) to requests above `tps` per second (default 5)",
    },
    FaultInfo {
        kind: FaultKind::NetworkPartition,
        meaning: "the target cannot be reached at all",
        params: &[Stage, Probability],
        builtin: "every connection closes without an answer (in process: a connection error)",
        proxy: "black-holes requests: accepts them and never answers until the fault ends",
    },
    FaultInfo {
        kind: FaultKind::LatencySpike,
        meaning: "extra latency, with jitter, on a stage or route",
        params: &[Stage, Probability, Latency, Jitter],
        builtin: "`latency` (default 200ms) plus jitter more service time on `stage` (default `pattern_detector`), holding its servers so capacity falls too",
        proxy: "adds `latency` (default 200ms) plus jitter before forwarding, at probability `p`",
    },
    FaultInfo {
        kind: FaultKind::ConnectionReset,
        meaning: "connections are reset mid-request",
        params: &[Stage, Probability],
        builtin: "a share `p` of connections close without an answer",
        proxy: "resets the connection (TCP RST) without answering, at probability `p`",
    },
    FaultInfo {
        kind: FaultKind::BandwidthLimit,
        meaning: "responses trickle through a bandwidth limit",
        params: &[Stage, Probability, Bandwidth],
        builtin: "no hook in the target: modelled as `slow_response` with `latency` = 1 KiB / `bps` (an answer with its headers through the limit); `stage` unused",
        proxy: "throttles each response body to `bps` bytes per second (default 16384)",
    },
    FaultInfo {
        kind: FaultKind::SlowResponse,
        meaning: "responses are slow to start (time to first byte)",
        params: &[Stage, Probability, Latency, Jitter],
        builtin: "the answer waits `latency` (default 200ms) plus jitter after the decision",
        proxy: "holds the upstream's response headers for `latency` (default 200ms) plus jitter",
    },
    FaultInfo {
        kind: FaultKind::HttpError,
        meaning: "the target answers an HTTP error status at a probability",
        params: &[Stage, Probability, Status],
        builtin: "a share `p` is answered `status` (default 503) at ingestion",
        proxy: "answers `status` (default 503) at probability `p` without calling the upstream",
    },
];

/// The catalogue row of `kind`.
pub fn info(kind: FaultKind) -> &'static FaultInfo {
    CATALOGUE
        .iter()
        .find(|i| i.kind == kind)
        .unwrap_or(&CATALOGUE[0])
}

/// The built-in target's stage a fault hits when its spec names none; `None` for faults that hit the whole
/// target (at ingestion or on the answer). Used for the cascade check.
pub fn default_stage(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::AgentCrash | FaultKind::DbThrottle | FaultKind::LatencySpike => {
            Some("pattern_detector")
        }
        FaultKind::StreamLag => Some("ingestion"),
        FaultKind::ModelRateLimit => Some("decision_maker"),
        _ => None,
    }
}

/// The added delay, from the spec or the kind's default (zero for kinds without one).
pub fn effective_latency(spec: &FaultSpec) -> Duration {
    spec.latency.unwrap_or(match spec.kind {
        FaultKind::LatencySpike | FaultKind::SlowResponse => Duration::from_millis(200),
        FaultKind::StreamLag => Duration::from_secs(1),
        _ => Duration::ZERO,
    })
}

/// The answered status, from the spec or the kind's default.
pub fn effective_status(spec: &FaultSpec) -> u16 {
    spec.status.unwrap_or(match spec.kind {
        FaultKind::DbThrottle | FaultKind::ModelRateLimit => 429,
        _ => 503,
    })
}

/// Bytes per second for `bandwidth_limit`.
pub fn effective_bandwidth(spec: &FaultSpec) -> u64 {
    spec.bandwidth_bps.unwrap_or(16_384)
}

/// Calls per second allowed for `model_rate_limit`.
pub fn effective_rate_limit(spec: &FaultSpec) -> f64 {
    spec.rate_limit_tps.unwrap_or(5.0)
}

/// A fault kind's name as written on the command line (`agent-crash`).
pub fn flag_name(kind: FaultKind) -> String {
    kind.as_str().replace('_', "-")
}

/// Reads a kind name written with `-` or `_`, in any case.
pub fn parse_kind(text: &str) -> Option<FaultKind> {
    let norm = text.trim().to_ascii_lowercase().replace('-', "_");
    FaultKind::ALL.into_iter().find(|k| k.as_str() == norm)
}

/// The valid kind names, for error messages.
pub fn kind_names() -> String {
    FaultKind::ALL
        .iter()
        .map(|k| flag_name(*k))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_covers_every_kind_in_order() {
        for (row, kind) in CATALOGUE.iter().zip(FaultKind::ALL) {
            assert_eq!(row.kind, kind);
            assert!(!row.builtin.is_empty() && !row.proxy.is_empty());
            assert!(row.params.contains(&Param::Probability));
            assert_eq!(info(kind).kind, kind);
        }
    }

    #[test]
    fn kind_names_accept_dash_and_underscore() {
        assert_eq!(parse_kind("agent-crash"), Some(FaultKind::AgentCrash));
        assert_eq!(
            parse_kind("Model_Rate_Limit"),
            Some(FaultKind::ModelRateLimit)
        );
        assert_eq!(parse_kind("meltdown"), None);
    }
}

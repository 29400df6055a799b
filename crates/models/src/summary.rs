//! `summary.json`: the figures of a whole run. The schema is documented in `docs/results.md`.

use crate::cost::CostModel;
use crate::fault::FaultKind;
use crate::snapshot::{AgentStats, EncodedHistograms, Percentiles};
use crate::state::DegradationLevel;
use crate::transaction::Currency;
use crate::verdict::ErrorKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub run_id: String,
    pub scenario: String,
    pub seed: u64,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub duration_s: f64,
    pub target: TargetInfo,
    pub load: LoadSummary,
    /// From the intended send time (includes queueing behind a slow system).
    pub latency_ms: Percentiles,
    /// From the actual send time.
    pub service_time_ms: Percentiles,
    pub errors: ErrorSummary,
    pub fraud: FraudSummary,
    pub business: BusinessSummary,
    pub agents: Vec<AgentStats>,
    pub resilience: ResilienceSummary,
    pub criteria: Vec<CriterionResult>,
    pub passed: bool,
    /// Why the run ended: `completed`, `stopped`, `interrupted`, `aborted: ...`, `budget`, `max_duration`.
    #[serde(default)]
    pub end_reason: String,
    /// Segment `i/n` for a distributed worker, absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Whole-run histograms, for exact merging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<EncodedHistograms>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `builtin`, `in_process`, `http` or `closure`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadSummary {
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub dropped: u64,
    pub target_tps_avg: f64,
    pub achieved_tps_avg: f64,
    pub peak_tps: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorSummary {
    /// Requests that were sent and did not end in a verdict (dropped ones are in `load.dropped`).
    pub total: u64,
    /// `total / sent`.
    pub rate: f64,
    pub by_kind: BTreeMap<ErrorKind, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FraudSummary {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub accuracy: f64,
    pub f1: f64,
    /// Caught fraud, converted to `currency`.
    pub prevented_amount: f64,
    /// Legitimate transactions declined, converted to `currency`.
    pub false_decline_amount: f64,
    pub currency: Currency,
    /// Detection rate (recall) per fraud pattern; false-positive rate per edge kind and for `legit`.
    #[serde(default)]
    pub per_pattern: BTreeMap<String, PatternSummary>,
}

impl Default for FraudSummary {
    fn default() -> Self {
        Self {
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
            precision: 1.0,
            recall: 1.0,
            accuracy: 1.0,
            f1: 1.0,
            prevented_amount: 0.0,
            false_decline_amount: 0.0,
            currency: Currency::USD,
            per_pattern: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PatternSummary {
    pub count: u64,
    pub flagged: u64,
    /// `flagged / count`: detection rate for fraud, false-alarm rate for legitimate kinds.
    pub flagged_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BusinessSummary {
    pub cost_per_txn: f64,
    pub total_cost: f64,
    pub roi_pct: f64,
    /// The declared inputs the figures above come from.
    pub cost_model: CostModel,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResilienceSummary {
    pub faults: Vec<FaultResult>,
    /// Share of ticks in which the target answered at least one request successfully (or had none due).
    pub uptime_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    #[serde(rename = "type")]
    pub kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    pub max_level: DegradationLevel,
    /// From the fault's start to the first degraded tick; absent when it was never detected.
    pub time_to_detect_s: Option<f64>,
    /// From the fault's end to the first tick back within the baseline band; absent when it never recovered.
    pub time_to_recover_s: Option<f64>,
    /// Errors appeared in stages that were not faulted.
    pub cascade: bool,
    #[serde(default)]
    pub baseline: Baseline,
    #[serde(default)]
    pub worst: Baseline,
}

/// Steady-state figures used to judge degradation and recovery.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub tps: f64,
    pub error_rate: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    pub name: String,
    /// For example `< 500`.
    pub threshold: String,
    pub actual: f64,
    pub passed: bool,
}

//! A whole scenario: load profile, target, mix, faults, criteria, cost model, limits. Built-ins and
//! TOML files both produce a [`ScenarioSpec`].

use crate::cost::CostModel;
use crate::criteria::CriterionSpec;
use crate::fault::FaultSpec;
use crate::profile::LoadProfile;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub load: LoadProfile,
    #[serde(default)]
    pub target: TargetSpec,
    #[serde(default)]
    pub mix: MixSpec,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub criteria: Vec<CriterionSpec>,
    #[serde(default)]
    pub cost: CostModel,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsSpec>,
    /// Degradation levels, alerts, recovery band, adaptive load and abort rules.
    #[serde(default)]
    pub resilience: ResilienceSpec,
}

fn default_seed() -> u64 {
    42
}

/// Which system is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// The reference fraud-detection service (`fraud-sim`), served over loopback HTTP.
    #[default]
    Builtin,
    /// The reference pipeline called in-process, with no HTTP: for rates HTTP cannot carry.
    InProcess,
    /// Any HTTP API.
    Http,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetSpec {
    pub kind: TargetKind,
    /// Scoring endpoint for `http` (for example `http://127.0.0.1:8080/v1/score`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Built-in target: throughput (TPS) at which its slowest stage saturates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    /// HTTP/1.1 keep-alive connections at most (opened as needed). Requests beyond them wait for one,
    /// which caps the rate at `connections / latency` (Little's law): 1,024 carries 10,000 TPS at
    /// 100 ms.
    pub connections: usize,
    /// Per-request timeout.
    #[serde(with = "crate::duration_serde")]
    pub timeout: Duration,
    /// Requests in flight at most; past it, arrivals are counted as dropped.
    pub max_in_flight: usize,
    /// Request body template; `{{transaction}}` stands for the transaction's JSON. Default: the JSON alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_template: Option<String>,
    /// JSON pointer to the decision in the answer (default `/decision`).
    pub decision_pointer: String,
    /// JSON pointer to the risk score in the answer (default `/risk_score`).
    pub score_pointer: String,
}

impl Default for TargetSpec {
    fn default() -> Self {
        Self {
            kind: TargetKind::Builtin,
            url: None,
            capacity: None,
            connections: 1024,
            timeout: Duration::from_secs(5),
            max_in_flight: 10_000,
            body_template: None,
            decision_pointer: "/decision".into(),
            score_pointer: "/risk_score".into(),
        }
    }
}

/// Shares of the transaction mix; they must add up to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MixSpec {
    pub legit: f64,
    pub fraud: f64,
    pub edge: f64,
}

impl Default for MixSpec {
    fn default() -> Self {
        Self {
            legit: 0.80,
            fraud: 0.15,
            edge: 0.05,
        }
    }
}

impl MixSpec {
    /// Checks the shares are in 0..=1 and add up to 1 (within 1e-6).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("legit", self.legit),
            ("fraud", self.fraud),
            ("edge", self.edge),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("mix.{name} = {v} must be between 0 and 1"));
            }
        }
        let sum = self.legit + self.fraud + self.edge;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("mix shares add up to {sum}, they must add up to 1"));
        }
        Ok(())
    }
}

/// Safeguards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Hard ceiling on the send rate, whatever the profile says.
    pub max_tps: f64,
    /// The run stops itself after this long.
    #[serde(with = "crate::duration_serde")]
    pub max_duration: Duration,
    /// Stop when the cost model's running cost reaches this (reporting currency); warn at 80%.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tps: 60_000.0,
            max_duration: Duration::from_secs(4 * 3600),
            budget: None,
        }
    }
}

/// The `[aws]` table: CloudWatch and X-Ray settings and the system's resources to read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSpec {
    pub cloudwatch: bool,
    pub xray: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    pub lambda_functions: Vec<String>,
    pub dynamodb_tables: Vec<String>,
    pub kinesis_streams: Vec<String>,
    pub bedrock_models: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xray_filter: Option<String>,
    /// Emit an X-Ray segment (with a subsegment per agent) for a sample of the synthetic transactions,
    /// so that runs show beside production traces.
    pub emit_segments: bool,
    /// Share of transactions emitted as segments (0 to 1); default 0.01.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_sample_rate: Option<f64>,
}

/// The `[resilience]` table: how ticks are judged while faults (or overload) hurt the target. Every
/// figure has the default of the monitoring design; `None` turns a rule off (from TOML, where a key left
/// out takes its default, set the threshold out of reach instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceSpec {
    /// Degradation `moderate` above this target CPU (percent of its cores).
    pub moderate_target_cpu_pct: Option<f64>,
    /// Degradation `severe` above this p99 (ms, from the intended send).
    pub severe_p99_ms: Option<f64>,
    /// Degradation `critical` above this error rate (0..1), or when nothing succeeds.
    pub critical_error_rate: Option<f64>,
    /// Alert `warning` thresholds: error rate (0..1), p99 (ms), resource use (%), cost over budget (share).
    pub warning_error_rate: Option<f64>,
    pub warning_p99_ms: Option<f64>,
    pub warning_resource_pct: Option<f64>,
    pub warning_cost_over_budget: Option<f64>,
    /// Alert `critical` thresholds (and "target unavailable", always on).
    pub critical_alert_error_rate: Option<f64>,
    pub critical_p99_ms: Option<f64>,
    pub critical_cost_over_budget: Option<f64>,
    /// Recovered = throughput within this share of the baseline...
    pub recovery_tps_tolerance: f64,
    /// ...error rate at most the baseline's plus this (0..1)...
    pub recovery_error_rate_points: f64,
    /// ...p99 at most this multiple of the baseline's (or the baseline's + `recovery_p99_slack_ms`)...
    pub recovery_p99_factor: f64,
    pub recovery_p99_slack_ms: f64,
    /// ...for this many ticks in a row.
    pub recovery_ticks: u32,
    /// Back the load off (halve it) at critical degradation and restore it step by step after.
    pub adaptive: bool,
    /// Stop the run when the error rate stays above this (0..1)...
    pub abort_error_rate: Option<f64>,
    /// ...for this many ticks in a row.
    pub abort_error_ticks: u32,
    /// Stop the run after this many ticks in a row with nothing served.
    pub abort_unavailable_ticks: Option<u32>,
    /// Post alerts as JSON to this URL (loopback unless the run allows remote targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

impl Default for ResilienceSpec {
    fn default() -> Self {
        Self {
            moderate_target_cpu_pct: Some(90.0),
            severe_p99_ms: Some(5_000.0),
            critical_error_rate: Some(0.10),
            warning_error_rate: Some(0.001),
            warning_p99_ms: Some(5_000.0),
            warning_resource_pct: Some(80.0),
            warning_cost_over_budget: Some(0.2),
            critical_alert_error_rate: Some(0.01),
            critical_p99_ms: Some(10_000.0),
            critical_cost_over_budget: Some(0.5),
            recovery_tps_tolerance: 0.10,
            recovery_error_rate_points: 0.01,
            recovery_p99_factor: 1.5,
            recovery_p99_slack_ms: 5.0,
            recovery_ticks: 3,
            adaptive: false,
            abort_error_rate: Some(0.5),
            abort_error_ticks: 10,
            abort_unavailable_ticks: Some(30),
            webhook: None,
        }
    }
}

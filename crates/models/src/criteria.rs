//! Success criteria: a comparison on a summary figure, optionally scoped to a window or phase.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A comparison operator, written as in the TOML (`"<"`, `"<="`, `">"`, `">="`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Comparison {
    pub fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Comparison::Lt => actual < threshold,
            Comparison::Le => actual <= threshold,
            Comparison::Gt => actual > threshold,
            Comparison::Ge => actual >= threshold,
        }
    }

    /// The operator written as `symbol` (`<`, `<=`, `>`, `>=`).
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        Some(match symbol {
            "<" => Comparison::Lt,
            "<=" => Comparison::Le,
            ">" => Comparison::Gt,
            ">=" => Comparison::Ge,
            _ => return None,
        })
    }

    pub const fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// What a criterion does when its figure was not measured (an `agents.*` path on a target that
/// reports no agents, `resilience.cascades` with no fault aimed at one stage, a recall with no fraud
/// scored, ...): `fail` (the default: a bound on nothing is not met) or `skip` (reported as "not
/// measured", and the run is judged without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenUnmeasured {
    #[default]
    Fail,
    Skip,
}

impl WhenUnmeasured {
    pub fn is_fail(&self) -> bool {
        *self == WhenUnmeasured::Fail
    }
}

/// A success criterion. `metric` is a dotted path into the summary, for example `latency_ms.p99`,
/// `errors.rate`, `fraud.recall`, `load.dropped`, `resilience.max_time_to_recover_s`. In TOML:
/// ```toml
/// [[criteria]]
/// metric = "latency_ms.p99"
/// op = "<"
/// threshold = 500
/// from = "60s"
/// to = "300s"
/// when_unmeasured = "skip"   # optional: "fail" (default) or "skip" when the figure was not measured
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionSpec {
    /// Shown in reports; defaults to `metric op threshold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub metric: String,
    pub op: Comparison,
    pub threshold: f64,
    /// Only the part of the run from this instant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_serde::option"
    )]
    pub from: Option<Duration>,
    /// Only the part of the run up to this instant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration_serde::option"
    )]
    pub to: Option<Duration>,
    /// Only the ticks of the named profile stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Leave out the ticks during fault windows.
    #[serde(default)]
    pub outside_faults: bool,
    /// Checked at each tick; the run stops as soon as it fails.
    #[serde(default)]
    pub abort_on_fail: bool,
    /// What to do when the figure was not measured; the scenario's `when_unmeasured` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_unmeasured: Option<WhenUnmeasured>,
}

impl CriterionSpec {
    pub fn new(metric: &str, op: Comparison, threshold: f64) -> Self {
        Self {
            name: None,
            metric: metric.to_owned(),
            op,
            threshold,
            from: None,
            to: None,
            phase: None,
            outside_faults: false,
            abort_on_fail: false,
            when_unmeasured: None,
        }
    }

    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{} {} {}", self.metric, self.op.symbol(), self.threshold))
    }
}

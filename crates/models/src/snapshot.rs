//! Per-tick metric frames: one line of `intervals.jsonl`, one WebSocket frame of the dashboards.

use crate::state::{DegradationLevel, RunState};
use crate::verdict::ErrorKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// Detection outcomes. A fraud that was declined *or* sent to review counts as caught (a true positive);
/// an edge case is legitimate. The four cells count answered transactions only; `unscored` counts the
/// fraud that got no verdict at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Fraud transactions that got no verdict: an error, a timeout, or dropped at the in-flight
    /// bound. A payment flow that fails open lets them through. Always 0 for legitimate kinds.
    /// Absent (0) in files written before it existed.
    #[serde(default)]
    pub unscored: u64,
}

impl Confusion {
    /// Answered transactions (the four cells; `unscored` is not among them).
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    pub fn add(&mut self, other: &Confusion) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.tn += other.tn;
        self.fn_ += other.fn_;
        self.unscored += other.unscored;
    }

    /// tp / (tp + fp); 1 when nothing was flagged (no false alarms were raised).
    pub fn precision(&self) -> f64 {
        ratio_or(self.tp, self.tp + self.fp, 1.0)
    }

    /// tp / (tp + fn); 1 when there was no fraud to catch.
    pub fn recall(&self) -> f64 {
        ratio_or(self.tp, self.tp + self.fn_, 1.0)
    }

    /// tp / (tp + fn + unscored): the share of all fraud sent (or due) that was caught, counting
    /// fraud without a verdict as let through; 1 when there was no fraud.
    pub fn recall_effective(&self) -> f64 {
        ratio_or(self.tp, self.tp + self.fn_ + self.unscored, 1.0)
    }

    /// (tp + tn) / total; 1 for an empty matrix.
    pub fn accuracy(&self) -> f64 {
        ratio_or(self.tp + self.tn, self.total(), 1.0)
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio_or(num: u64, den: u64, empty: f64) -> f64 {
    if den == 0 {
        empty
    } else {
        num as f64 / den as f64
    }
}

/// One agent's figures over an interval (or the whole run).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentStats {
    pub name: String,
    pub requests: u64,
    pub mean_ms: f64,
    pub p99_ms: f64,
    /// Share of requests the agent completed without failing or timing out.
    pub success_rate: f64,
    /// Busy time over wall time, divided by the agent's concurrency (0..1).
    pub utilization: f64,
    /// 0..100; formula in metrics-core's docs.
    pub health: f64,
}

/// CPU, memory and network of one process.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcessSample {
    pub pid: u32,
    /// Percent of one core (200 = two cores busy).
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

/// The generator's own sample, and the target's when it is known: a local target process watched by
/// pid, or the process metrics of the target's `metrics_url` (`pid` 0 then).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Resources {
    pub generator: ProcessSample,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ProcessSample>,
}

/// Histograms in HdrHistogram's V2 + deflate serialization, base64-encoded; merge them to combine runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EncodedHistograms {
    /// Latency from the intended send time, in microseconds.
    pub latency_us: String,
    /// Service time from the actual send time, in microseconds.
    pub service_time_us: String,
}

/// Figures accumulated since the start of the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cumulative {
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub dropped: u64,
    /// Arrivals shed by the `max_tps` ceiling (see [`IntervalSnapshot::dropped_ceiling`]).
    #[serde(default)]
    pub dropped_ceiling: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub latency_ms: Percentiles,
    pub service_time_ms: Percentiles,
    pub fraud: Confusion,
    /// Caught fraud, in the reporting currency.
    pub prevented_amount: f64,
    /// Legitimate transactions declined, in the reporting currency.
    pub false_decline_amount: f64,
    /// Running cost from the cost model, in the reporting currency.
    pub cost: f64,
}

impl Cumulative {
    /// Arrivals that came due and were not sent: `dropped + dropped_ceiling` (the in-flight bound's
    /// drops and the ceiling's sheds), so that `sent + not_sent = scheduled`.
    pub fn not_sent(&self) -> u64 {
        self.dropped.saturating_add(self.dropped_ceiling)
    }
}

/// One tick of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IntervalSnapshot {
    /// End of the interval, seconds since the run started.
    pub t_s: f64,
    pub interval_s: f64,
    pub state: RunState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The profile's rate at the end of the interval, after the rate multiplier.
    pub planned_tps: f64,
    /// Arrivals due in the interval.
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    /// Completed with a verdict.
    pub ok: u64,
    /// Arrivals not sent because the in-flight bound was reached.
    pub dropped: u64,
    /// Arrivals not sent because the `max_tps` ceiling would have delayed them by more than one
    /// dispatcher tick (shed, so that the model stays open). Not errors; counted in `scheduled`.
    #[serde(default)]
    pub dropped_ceiling: u64,
    pub in_flight: u64,
    /// Completions per second in the interval.
    pub achieved_tps: f64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub latency_ms: Percentiles,
    pub service_time_ms: Percentiles,
    pub fraud: Confusion,
    /// Per fraud pattern and edge kind (keys as in `GroundTruth::pattern_name`).
    pub per_pattern: BTreeMap<String, Confusion>,
    pub agents: Vec<AgentStats>,
    pub resources: Resources,
    /// The gauges named in `[target] metrics`, read from the target's `metrics_url` at the tick
    /// (each the sum of its series); a gauge the endpoint did not have is left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_metrics: BTreeMap<String, f64>,
    /// Why the tick's scrape of the target's `metrics_url` failed (its figures are then absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_scrape_error: Option<String>,
    pub active_faults: Vec<String>,
    pub degradation: DegradationLevel,
    pub cumulative: Cumulative,
    /// The interval's histograms, for exact merging of distributed runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<EncodedHistograms>,
}

impl IntervalSnapshot {
    pub fn error_total(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| **k != ErrorKind::Dropped)
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_written_before_dropped_ceiling_still_load() {
        let mut tick = serde_json::to_value(IntervalSnapshot {
            dropped_ceiling: 7,
            ..IntervalSnapshot::default()
        })
        .unwrap();
        assert_eq!(tick["dropped_ceiling"], 7);
        tick.as_object_mut().unwrap().remove("dropped_ceiling");
        tick["cumulative"]
            .as_object_mut()
            .unwrap()
            .remove("dropped_ceiling");
        let back: IntervalSnapshot = serde_json::from_value(tick).unwrap();
        assert_eq!(
            (back.dropped_ceiling, back.cumulative.dropped_ceiling),
            (0, 0)
        );
        let mut load = serde_json::to_value(crate::LoadSummary::default()).unwrap();
        load.as_object_mut().unwrap().remove("dropped_ceiling");
        let back: crate::LoadSummary = serde_json::from_value(load).unwrap();
        assert_eq!(back.dropped_ceiling, 0);
    }

    #[test]
    fn confusion_ratios() {
        let c = Confusion {
            tp: 80,
            fp: 20,
            tn: 880,
            fn_: 20,
            unscored: 0,
        };
        assert!((c.precision() - 0.8).abs() < 1e-12);
        assert!((c.recall() - 0.8).abs() < 1e-12);
        assert_eq!(c.recall_effective(), c.recall());
        assert!((c.accuracy() - 0.96).abs() < 1e-12);
        assert!((c.f1() - 0.8).abs() < 1e-12);
        assert_eq!(serde_json::to_value(c).unwrap()["fn"], 20);
        assert_eq!(Confusion::default().recall(), 1.0);
        assert_eq!(Confusion::default().recall_effective(), 1.0);
    }

    #[test]
    fn unscored_fraud_lowers_effective_recall_only() {
        let c = Confusion {
            tp: 60,
            fn_: 20,
            unscored: 20,
            ..Confusion::default()
        };
        assert!((c.recall() - 0.75).abs() < 1e-12);
        assert!((c.recall_effective() - 0.6).abs() < 1e-12);
        assert_eq!(c.total(), 80, "unscored fraud is not an answer");
        let mut sum = c;
        sum.add(&c);
        assert_eq!(sum.unscored, 40);
        let old: Confusion = serde_json::from_str(r#"{"tp":1,"fp":2,"tn":3,"fn":4}"#).unwrap();
        assert_eq!(
            old.unscored, 0,
            "files written before the field existed load"
        );
        assert_eq!(serde_json::to_value(c).unwrap()["unscored"], 20);
    }
}

//! `aws.json`: what the AWS side of a run measured (CloudWatch publishing, the system's infrastructure
//! metrics, X-Ray), written by `aws-telemetry` and read by the report and the dashboard replay. The
//! types are strict (only the optional parts may be absent), so that a file drifting from what the
//! writer produces is refused where it is read instead of being filled with defaults.

use serde::{Deserialize, Serialize};

/// Everything AWS-related about one run; absent parts were not enabled or not read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AwsReport {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_sink: Option<SinkReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infra: Option<InfraMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray: Option<TraceBreakdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray_segments: Option<EmitReport>,
}

/// What the CloudWatch sink did. `published_datums + failed_datums` is every datum built; frames
/// dropped because the channel was full never became datums.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinkReport {
    pub published_datums: u64,
    /// Datums of requests that failed for good (a non-retryable answer, or retries exhausted).
    pub failed_datums: u64,
    /// Snapshots dropped because the channel was full.
    pub dropped_frames: u64,
    /// Requests sent again after a throttling, 5xx or connection failure.
    pub retries: u64,
    /// PutMetricData requests sent, retries included.
    pub requests: u64,
    /// Snapshots whose latency histogram could not be decoded (their latency went out as a statistic set).
    pub histogram_fallbacks: u64,
    /// The last failure, for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One point of a series; `t_s` is seconds since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InfraPoint {
    pub t_s: f64,
    pub value: f64,
}

/// One metric of one resource over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfraSeries {
    /// `lambda`, `dynamodb`, `kinesis` or `bedrock`.
    pub service: String,
    pub resource: String,
    pub metric: String,
    /// CloudWatch statistic: `Sum`, `Average`, `Maximum`, `p99`.
    pub stat: String,
    /// Ascending in time.
    pub points: Vec<InfraPoint>,
    /// False when CloudWatch said the data is partial or the query failed.
    pub complete: bool,
}

/// The system's infrastructure metrics over a run: what the report and the admin page show.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InfraMetrics {
    /// Run start, seconds since the Unix epoch.
    pub start_unix_s: f64,
    pub duration_s: f64,
    pub period_s: u32,
    pub series: Vec<InfraSeries>,
}

impl InfraMetrics {
    /// The series of a resource's metric (the first statistic read for it).
    pub fn series(&self, resource: &str, metric: &str) -> Option<&InfraSeries> {
        self.series
            .iter()
            .find(|s| s.resource == resource && s.metric == metric)
    }
}

/// Whether a name is a top-level segment or a subsegment (an agent, a downstream call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Segment,
    Subsegment,
}

impl SegmentKind {
    /// The name used in `aws.json` (`segment`, `subsegment`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Segment => "segment",
            Self::Subsegment => "subsegment",
        }
    }
}

impl std::fmt::Display for SegmentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Latency of one segment or subsegment name over the traces read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentStats {
    pub name: String,
    pub kind: SegmentKind,
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The latency breakdown of a run's traces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TraceBreakdown {
    /// Traces whose segments were read.
    pub traces: u64,
    /// Trace ids X-Ray listed but did not return.
    pub unprocessed_traces: u64,
    /// Sorted by kind, then name.
    pub segments: Vec<SegmentStats>,
}

impl TraceBreakdown {
    pub fn get(&self, kind: SegmentKind, name: &str) -> Option<&SegmentStats> {
        self.segments
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }
}

/// What the X-Ray segment emitter did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmitReport {
    /// Transactions offered to the emitter.
    pub offered: u64,
    pub sampled: u64,
    pub sent_segments: u64,
    /// Segments X-Ray answered as unprocessed, or whose request failed for good.
    pub failed_segments: u64,
    pub retries: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_parts_may_be_absent_but_required_fields_may_not() {
        let bare: AwsReport = serde_json::from_str(r#"{"run_id": "r2"}"#).unwrap();
        assert_eq!(bare.run_id, "r2");
        assert!(bare.cloudwatch_sink.is_none() && bare.infra.is_none());
        // A sink section missing its counts is drift, not zero.
        let err = serde_json::from_str::<AwsReport>(
            r#"{"run_id": "r", "cloudwatch_sink": {"published_datums": 80}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("failed_datums"), "{err}");
        assert_eq!(
            serde_json::to_string(&SegmentKind::Subsegment).unwrap(),
            format!("\"{}\"", SegmentKind::Subsegment)
        );
    }
}

//! Reading X-Ray: the trace summaries of the run window (GetTraceSummaries), their segments
//! (BatchGetTraces, 5 ids per call), and a latency breakdown per segment and subsegment name, which for
//! a fraud pipeline is per agent.

use crate::collector::RunWindow;
use crate::error::AwsError;
use aws_sdk_xray::error::DisplayErrorContext;
use aws_sdk_xray::primitives::DateTime;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// BatchGetTraces takes at most 5 trace ids per call.
pub const TRACE_IDS_PER_BATCH: usize = 5;

/// Long windows are queried in pieces no longer than this.
const MAX_QUERY_SPAN: Duration = Duration::from_secs(6 * 3600);

// The breakdown is part of `aws.json`, so its shapes live in `models`.
pub use models::aws::{SegmentKind, SegmentStats, TraceBreakdown};

/// Durations per (kind, name), in milliseconds, turned into [`SegmentStats`].
#[derive(Debug, Clone, Default)]
pub struct BreakdownBuilder {
    durations: BTreeMap<(SegmentKind, String), Vec<f64>>,
    traces: u64,
}

impl BreakdownBuilder {
    /// Adds one segment document (the JSON X-Ray stores) with its subsegments, at any depth.
    pub fn add_document(&mut self, document: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(document).map_err(|e| e.to_string())?;
        self.add_value(&value, SegmentKind::Segment)
    }

    fn add_value(&mut self, v: &Value, kind: SegmentKind) -> Result<(), String> {
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a segment has no `name`")?;
        let start = v
            .get("start_time")
            .and_then(Value::as_f64)
            .ok_or("a segment has no numeric `start_time`")?;
        // In-progress segments have no end yet; they carry no duration.
        if let Some(end) = v.get("end_time").and_then(Value::as_f64) {
            self.durations
                .entry((kind, name.to_string()))
                .or_default()
                .push(((end - start) * 1000.0).max(0.0));
        }
        if let Some(subs) = v.get("subsegments").and_then(Value::as_array) {
            for sub in subs {
                self.add_value(sub, SegmentKind::Subsegment)?;
            }
        }
        Ok(())
    }

    pub fn count_trace(&mut self) {
        self.traces += 1;
    }

    pub fn build(self, unprocessed_traces: u64) -> TraceBreakdown {
        let segments = self
            .durations
            .into_iter()
            .map(|((kind, name), mut d)| {
                d.sort_by(f64::total_cmp);
                let count = d.len();
                SegmentStats {
                    name,
                    kind,
                    count: count as u64,
                    mean_ms: d.iter().sum::<f64>() / count as f64,
                    p50_ms: nearest_rank(&d, 0.50),
                    p99_ms: nearest_rank(&d, 0.99),
                }
            })
            .collect();
        TraceBreakdown {
            traces: self.traces,
            unprocessed_traces,
            segments,
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty data.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Reads a run's traces.
#[derive(Debug, Clone)]
pub struct TraceReader {
    client: aws_sdk_xray::Client,
}

impl TraceReader {
    pub fn new(client: aws_sdk_xray::Client) -> Self {
        Self { client }
    }

    /// Ids of the traces that started and ended in the window, matching `filter` when given.
    pub async fn trace_ids(
        &self,
        window: RunWindow,
        filter: Option<&str>,
    ) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut from = window.start;
        while from < window.end {
            let to = (from + MAX_QUERY_SPAN).min(window.end);
            let mut next_token: Option<String> = None;
            loop {
                let out = self
                    .client
                    .get_trace_summaries()
                    .start_time(DateTime::from(from))
                    .end_time(DateTime::from(to))
                    .set_filter_expression(filter.map(String::from))
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| AwsError::Xray {
                        operation: "GetTraceSummaries",
                        message: DisplayErrorContext(&e).to_string(),
                    })?;
                ids.extend(
                    out.trace_summaries()
                        .iter()
                        .filter_map(|s| s.id().map(String::from)),
                );
                match out.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                    _ => break,
                }
            }
            from = to;
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The latency breakdown of the window's traces (see the module docs).
    pub async fn breakdown(
        &self,
        window: RunWindow,
        filter: Option<&str>,
    ) -> Result<TraceBreakdown, AwsError> {
        let ids = self.trace_ids(window, filter).await?;
        self.breakdown_of(&ids).await
    }

    /// The latency breakdown of the given traces, read with BatchGetTraces in batches of 5.
    pub async fn breakdown_of(&self, ids: &[String]) -> Result<TraceBreakdown, AwsError> {
        let mut builder = BreakdownBuilder::default();
        let mut unprocessed = 0u64;
        for batch in ids.chunks(TRACE_IDS_PER_BATCH) {
            let mut next_token: Option<String> = None;
            loop {
                let out = self
                    .client
                    .batch_get_traces()
                    .set_trace_ids(Some(batch.to_vec()))
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| AwsError::Xray {
                        operation: "BatchGetTraces",
                        message: DisplayErrorContext(&e).to_string(),
                    })?;
                unprocessed += out.unprocessed_trace_ids().len() as u64;
                for trace in out.traces() {
                    builder.count_trace();
                    for segment in trace.segments() {
                        let Some(document) = segment.document() else {
                            continue;
                        };
                        builder.add_document(document).map_err(|reason| {
                            AwsError::SegmentDocument {
                                trace_id: trace.id().unwrap_or("?").to_string(),
                                segment_id: segment.id().unwrap_or("?").to_string(),
                                reason,
                            }
                        })?;
                    }
                }
                match out.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                    _ => break,
                }
            }
        }
        Ok(builder.build(unprocessed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_per_segment_and_subsegment_name() {
        let mut b = BreakdownBuilder::default();
        for i in 0..100 {
            let base = 1_800_000_000.0 + i as f64;
            let doc = serde_json::json!({
                "name": "fraud-api", "id": "a", "trace_id": "1-x-y",
                "start_time": base, "end_time": base + 0.050,
                "subsegments": [
                    {"name": "pattern_detector", "id": "b", "start_time": base, "end_time": base + 0.001 * (i + 1) as f64,
                     "subsegments": [{"name": "dynamodb", "id": "c", "start_time": base, "end_time": base + 0.002}]},
                    {"name": "ml_scorer", "id": "d", "start_time": base, "in_progress": true}
                ]
            });
            b.add_document(&doc.to_string()).unwrap();
            b.count_trace();
        }
        let r = b.build(0);
        assert_eq!(r.traces, 100);
        let root = r.get(SegmentKind::Segment, "fraud-api").unwrap();
        assert_eq!(root.count, 100);
        assert!((root.mean_ms - 50.0).abs() < 1e-3);
        let agent = r.get(SegmentKind::Subsegment, "pattern_detector").unwrap();
        assert!((agent.mean_ms - 50.5).abs() < 1e-3, "{agent:?}");
        assert!((agent.p50_ms - 50.0).abs() < 1e-3);
        assert!((agent.p99_ms - 99.0).abs() < 1e-3);
        assert_eq!(
            r.get(SegmentKind::Subsegment, "dynamodb").unwrap().count,
            100
        );
        assert!(
            r.get(SegmentKind::Subsegment, "ml_scorer").is_none(),
            "in progress: no duration"
        );
    }

    #[test]
    fn bad_documents_are_errors() {
        let mut b = BreakdownBuilder::default();
        assert!(b.add_document("{").is_err());
        assert!(
            b.add_document(r#"{"start_time": 1.0}"#)
                .unwrap_err()
                .contains("name")
        );
        assert!(
            b.add_document(r#"{"name": "x"}"#)
                .unwrap_err()
                .contains("start_time")
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&d, 0.5), 5.0);
        assert_eq!(nearest_rank(&d, 0.99), 10.0);
        assert_eq!(nearest_rank(&d, 0.0), 1.0);
        assert_eq!(nearest_rank(&[3.0], 0.99), 3.0);
    }
}

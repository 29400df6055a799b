//! Emitting X-Ray segments for a sample of the synthetic transactions (PutTraceSegments), so that a
//! stress run shows up beside the production traces it causes.
//!
//! Each sampled transaction becomes one segment named after the generator (`fraudstress` by default)
//! with annotations `run_id`, `txn_id` and `decision`, and one subsegment per agent timing. Agents'
//! timings carry durations, not start times, so each subsegment is laid out from the segment's start.

use crate::error::AwsError;
use crate::retry::{self, Jitter, RetryPolicy};
use aws_sdk_xray::error::DisplayErrorContext;
use models::{AgentTiming, Decision};
use std::time::{SystemTime, UNIX_EPOCH};

/// How segments are sampled and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct EmitterConfig {
    pub run_id: String,
    /// Segment name: the "service" the traces appear under.
    pub service_name: String,
    /// Share of transactions emitted (0 to 1). Sampling is decided from the transaction id, so every
    /// worker and every rerun with the same ids picks the same ones.
    pub sample_rate: f64,
    /// Segment documents per PutTraceSegments request.
    pub batch_size: usize,
    /// Request size ceiling in bytes (sum of the documents).
    pub max_batch_bytes: usize,
    pub retry: RetryPolicy,
}

impl Default for EmitterConfig {
    fn default() -> Self {
        Self {
            run_id: "run".into(),
            service_name: "fraudstress".into(),
            sample_rate: 0.01,
            batch_size: 50,
            max_batch_bytes: 256 * 1024,
            retry: RetryPolicy::default(),
        }
    }
}

/// A finished synthetic transaction, as the emitter needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledTxn {
    pub txn_id: String,
    /// Absent when the request failed without a verdict.
    pub decision: Option<Decision>,
    pub start: SystemTime,
    pub end: SystemTime,
    pub agents: Vec<AgentTiming>,
}

// What it reports is part of `aws.json`, so it lives in `models`.
pub use models::aws::EmitReport;

/// FNV-1a, 64 bits, with MurmurHash3's finalizer so that every output bit depends on every input bit:
/// a stable hash for ids (std's hasher may change between releases).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// True when the transaction falls in the sample.
pub fn is_sampled(txn_id: &str, sample_rate: f64) -> bool {
    if sample_rate >= 1.0 {
        return true;
    }
    if sample_rate <= 0.0 {
        return false;
    }
    let h = fnv1a(&[b"sample", txn_id.as_bytes()]);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < sample_rate
}

/// The X-Ray trace id of a transaction: `1-<start, 8 hex digits of epoch seconds>-<24 hex digits>`,
/// the 24 digits derived from the run and transaction ids.
pub fn trace_id(run_id: &str, txn_id: &str, start: SystemTime) -> String {
    let secs = start.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as u32;
    let a = fnv1a(&[b"trace", run_id.as_bytes(), txn_id.as_bytes()]);
    let b = fnv1a(&[b"trace2", run_id.as_bytes(), txn_id.as_bytes()]);
    format!("1-{secs:08x}-{a:016x}{:08x}", (b >> 32) as u32)
}

/// A 16-hex-digit segment id.
pub fn segment_id(run_id: &str, txn_id: &str, part: &str) -> String {
    format!(
        "{:016x}",
        fnv1a(&[
            b"segment",
            run_id.as_bytes(),
            txn_id.as_bytes(),
            part.as_bytes()
        ])
    )
}

fn epoch_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The segment document of one transaction (see the module docs).
pub fn segment_document(run_id: &str, service_name: &str, txn: &SampledTxn) -> serde_json::Value {
    let start = epoch_s(txn.start);
    let end = epoch_s(txn.end).max(start);
    let decision = txn.decision.map_or("error", Decision::as_str);
    let subsegments: Vec<serde_json::Value> = txn
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut sub = serde_json::json!({
                "name": a.name,
                "id": segment_id(run_id, &txn.txn_id, &format!("{i}:{}", a.name)),
                "start_time": start,
                "end_time": start + a.duration_us as f64 / 1e6,
            });
            if !a.ok {
                sub["fault"] = serde_json::Value::Bool(true);
            }
            sub
        })
        .collect();
    let mut doc = serde_json::json!({
        "name": service_name,
        "id": segment_id(run_id, &txn.txn_id, ""),
        "trace_id": trace_id(run_id, &txn.txn_id, txn.start),
        "start_time": start,
        "end_time": end,
        "annotations": {"run_id": run_id, "txn_id": txn.txn_id, "decision": decision},
    });
    if !subsegments.is_empty() {
        doc["subsegments"] = serde_json::Value::Array(subsegments);
    }
    if txn.decision.is_none() {
        doc["error"] = serde_json::Value::Bool(true);
    }
    doc
}

/// Samples transactions, buffers their segments, and sends them in batches.
#[derive(Debug)]
pub struct SegmentEmitter {
    client: aws_sdk_xray::Client,
    config: EmitterConfig,
    pending: Vec<String>,
    pending_bytes: usize,
    jitter: Jitter,
    report: EmitReport,
}

impl SegmentEmitter {
    /// The client's own retries are turned off for the emitter, which retries itself to count them.
    pub fn new(config: EmitterConfig, client: &aws_sdk_xray::Client) -> Result<Self, AwsError> {
        if !(0.0..=1.0).contains(&config.sample_rate) {
            return Err(AwsError::Config {
                field: "sample_rate",
                reason: format!("{} is outside 0 to 1", config.sample_rate),
            });
        }
        if config.batch_size == 0 {
            return Err(AwsError::Config {
                field: "batch_size",
                reason: "must be at least 1".into(),
            });
        }
        let client = aws_sdk_xray::Client::from_conf(
            client
                .config()
                .to_builder()
                .retry_config(aws_sdk_xray::config::retry::RetryConfig::disabled())
                .build(),
        );
        let jitter = Jitter::new(fnv1a(&[config.run_id.as_bytes()]));
        Ok(Self {
            client,
            config,
            pending: Vec::new(),
            pending_bytes: 0,
            jitter,
            report: EmitReport::default(),
        })
    }

    /// Offers a finished transaction; returns true when it was sampled (and buffered).
    pub fn record(&mut self, txn: &SampledTxn) -> bool {
        self.report.offered += 1;
        if !is_sampled(&txn.txn_id, self.config.sample_rate) {
            return false;
        }
        self.report.sampled += 1;
        let doc = segment_document(&self.config.run_id, &self.config.service_name, txn).to_string();
        self.pending_bytes += doc.len();
        self.pending.push(doc);
        true
    }

    /// True when a full batch is waiting: call [`flush`](Self::flush).
    pub fn should_flush(&self) -> bool {
        self.pending.len() >= self.config.batch_size
            || self.pending_bytes >= self.config.max_batch_bytes
    }

    /// Sends everything buffered.
    pub async fn flush(&mut self) {
        let docs = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let mut batch: Vec<String> = Vec::new();
        let mut bytes = 0;
        for doc in docs {
            if !batch.is_empty()
                && (batch.len() >= self.config.batch_size
                    || bytes + doc.len() > self.config.max_batch_bytes)
            {
                self.send(std::mem::take(&mut batch)).await;
                bytes = 0;
            }
            bytes += doc.len();
            batch.push(doc);
        }
        if !batch.is_empty() {
            self.send(batch).await;
        }
    }

    async fn send(&mut self, batch: Vec<String>) {
        let n = batch.len() as u64;
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .put_trace_segments()
                .set_trace_segment_documents(Some(batch.clone()))
                .send()
                .await;
            match result {
                Ok(out) => {
                    let unprocessed = out.unprocessed_trace_segments();
                    let failed = (unprocessed.len() as u64).min(n);
                    if let Some(u) = unprocessed.first() {
                        self.report.last_error = Some(format!(
                            "PutTraceSegments left segment {} unprocessed: {} {}",
                            u.id().unwrap_or("?"),
                            u.error_code().unwrap_or(""),
                            u.message().unwrap_or("")
                        ));
                    }
                    self.report.sent_segments += n - failed;
                    self.report.failed_segments += failed;
                    return;
                }
                Err(err)
                    if retry::is_retryable(&err) && attempt < self.config.retry.max_retries =>
                {
                    self.report.retries += 1;
                    tokio::time::sleep(self.config.retry.delay(attempt, self.jitter.next_unit()))
                        .await;
                    attempt += 1;
                }
                Err(err) => {
                    self.report.failed_segments += n;
                    self.report.last_error =
                        Some(format!("PutTraceSegments: {}", DisplayErrorContext(&err)));
                    return;
                }
            }
        }
    }

    /// The counts so far.
    pub fn report(&self) -> &EmitReport {
        &self.report
    }

    /// Sends what is left and reports.
    pub async fn finish(mut self) -> EmitReport {
        self.flush().await;
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn txn(id: &str) -> SampledTxn {
        let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        SampledTxn {
            txn_id: id.into(),
            decision: Some(Decision::Decline),
            start,
            end: start + Duration::from_millis(40),
            agents: vec![
                AgentTiming {
                    name: "pattern_detector".into(),
                    duration_us: 12_000,
                    ok: true,
                },
                AgentTiming {
                    name: "ml_scorer".into(),
                    duration_us: 30_000,
                    ok: false,
                },
            ],
        }
    }

    #[test]
    fn ids_have_x_ray_formats() {
        let t = trace_id(
            "run-1",
            "txn_1",
            UNIX_EPOCH + Duration::from_secs(0x6900_0000),
        );
        assert!(t.starts_with("1-69000000-"), "{t}");
        let parts: Vec<&str> = t.split('-').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2].len(), 24);
        assert!(parts[2].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            t,
            trace_id(
                "run-1",
                "txn_2",
                UNIX_EPOCH + Duration::from_secs(0x6900_0000)
            )
        );
        let s = segment_id("r", "t", "");
        assert_eq!(s.len(), 16);
        assert_ne!(s, segment_id("r", "t", "0:agent"));
    }

    #[test]
    fn document_has_annotations_and_agent_subsegments() {
        let doc = segment_document("run-1", "fraudstress", &txn("txn_7"));
        assert_eq!(doc["name"], "fraudstress");
        assert_eq!(doc["annotations"]["decision"], "decline");
        assert_eq!(doc["annotations"]["txn_id"], "txn_7");
        assert_eq!(doc["annotations"]["run_id"], "run-1");
        let subs = doc["subsegments"].as_array().unwrap();
        assert_eq!(subs.len(), 2);
        let d = subs[0]["end_time"].as_f64().unwrap() - subs[0]["start_time"].as_f64().unwrap();
        assert!((d - 0.012).abs() < 1e-6);
        assert_eq!(subs[1]["fault"], true);
        let total = doc["end_time"].as_f64().unwrap() - doc["start_time"].as_f64().unwrap();
        assert!((total - 0.040).abs() < 1e-6);
    }

    #[test]
    fn sampling_is_stable_and_near_the_rate() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("txn_{i:012x}")).collect();
        let picked = ids.iter().filter(|id| is_sampled(id, 0.1)).count();
        assert!((1_800..2_200).contains(&picked), "{picked}");
        // Small runs of consecutive ids too (a weak hash clusters them).
        for chunk in ids.chunks(200).take(20) {
            let n = chunk.iter().filter(|id| is_sampled(id, 0.25)).count();
            assert!((25..75).contains(&n), "{n} of 200 at 25%");
        }
        assert!(ids.iter().all(|id| is_sampled(id, 1.0)));
        assert!(!ids.iter().any(|id| is_sampled(id, 0.0)));
        let again = ids.iter().filter(|id| is_sampled(id, 0.1)).count();
        assert_eq!(picked, again);
    }
}

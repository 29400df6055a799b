//! The crate's error type.

use std::path::PathBuf;

/// What went wrong talking to CloudWatch or X-Ray, or preparing what to send.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// A setting is out of range.
    #[error("invalid AWS telemetry setting `{field}`: {reason}")]
    Config { field: &'static str, reason: String },

    /// The encoded latency histogram of a snapshot could not be read.
    #[error(
        "the latency histogram of the snapshot at t = {t_s} s could not be decoded ({reason}); \
         it must be HdrHistogram V2 + deflate in base64, as metrics-core writes it"
    )]
    Histogram { t_s: f64, reason: String },

    /// A CloudWatch call failed for good (after any retries).
    #[error(
        "CloudWatch {operation} failed: {message}; check the endpoint URL, the region and the \
         credentials (the standard AWS chain: environment, profile, instance role)"
    )]
    CloudWatch {
        operation: &'static str,
        message: String,
    },

    /// An X-Ray call failed for good (after any retries).
    #[error(
        "X-Ray {operation} failed: {message}; check the endpoint URL, the region and the credentials \
         (the standard AWS chain: environment, profile, instance role)"
    )]
    Xray {
        operation: &'static str,
        message: String,
    },

    /// A segment document returned by BatchGetTraces is not the JSON X-Ray documents.
    #[error(
        "X-Ray segment {segment_id} of trace {trace_id} is not a valid segment document: {reason}"
    )]
    SegmentDocument {
        trace_id: String,
        segment_id: String,
        reason: String,
    },

    /// A results file could not be written.
    #[error("could not write {}: {source}; check that the folder exists and is writable", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// AWS cannot be used for this run (no region, no credentials); the reason says what to set.
    #[error("{reason}")]
    Unavailable { reason: String },

    /// The sink's task panicked or was cancelled, so its counts are lost.
    #[error("the CloudWatch sink task ended abnormally: {0}")]
    SinkTask(String),
}

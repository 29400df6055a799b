//! CloudWatch and X-Ray for fraudstress runs:
//!
//! - **Sink** ([`CloudWatchSink`]): publishes a run's metrics as CloudWatch custom metrics (namespace
//!   `StressRunner`, dimensions `RunId` and `Scenario`, optionally `Worker`): throughput, completed and
//!   dropped transactions, errors and error rate, fraud caught and missed, and latency as Values/Counts
//!   taken from the HDR histogram so that CloudWatch percentiles stay meaningful. A task fed by a bounded
//!   channel; it never blocks the load, batches within PutMetricData's limits, retries with backoff, and
//!   counts what it could not send in a [`SinkReport`].
//! - **Collector** ([`InfraCollector`]): reads the system's Lambda, DynamoDB, Kinesis and Bedrock metrics
//!   for the run window with GetMetricData, as [`InfraMetrics`].
//! - **X-Ray**: [`TraceReader`] turns the window's traces into a latency breakdown per segment and
//!   subsegment (agent); [`SegmentEmitter`] emits a segment per sampled synthetic transaction.
//! - **Configuration** ([`AwsConfig`]): the scenario's `[aws]` table plus command-line overrides, and the
//!   standard AWS credential and region chain. [`write_aws_json`] stores it all as `aws.json`.
//! - **One run** ([`RunTelemetry`]): all of the above around a run: takes its frame stream, gives a
//!   [`SegmentLayer`] for its target, writes `aws.json` at the end, and reports warnings as [`Note`]s
//!   instead of failing the run.
//!
//! Build cost: the AWS SDK takes about 75 s to compile from cold. Only this crate depends on it (an
//! architecture rule that `cargo xtask tidy` checks), so that embedding the load generator never pays
//! for it; binaries can leave it out behind a feature.
//!
//! ```
//! use aws_telemetry::{AwsConfig, AwsOverrides};
//! use models::AwsSpec;
//!
//! let spec: AwsSpec = toml::from_str(r#"
//!     cloudwatch = true
//!     region = "eu-west-1"
//!     lambda_functions = ["score-transaction"]
//! "#).unwrap();
//! let config = AwsConfig::from_spec(&spec)
//!     .with_overrides(&AwsOverrides { endpoint_url: Some("http://127.0.0.1:5000".into()), ..Default::default() });
//! assert_eq!(config.namespace, "StressRunner");
//! assert!(config.cloudwatch && !config.xray);
//! ```
//!
//! Publishing a run (needs an endpoint, so not run here):
//!
//! ```no_run
//! use aws_telemetry::{AwsConfig, CloudWatchSink, SinkConfig};
//! # async fn demo(snapshots: Vec<models::IntervalSnapshot>) -> Result<(), aws_telemetry::AwsError> {
//! let sdk = AwsConfig::default().load().await;
//! let client = aws_sdk_cloudwatch::Client::new(&sdk);
//! let sink = CloudWatchSink::spawn(
//!     SinkConfig { run_id: "run-42".into(), scenario: "peak-load".into(), ..Default::default() },
//!     &client,
//! )?;
//! for s in &snapshots {
//!     sink.send(s); // never waits; a full channel counts a dropped frame
//! }
//! let report = sink.finish().await?;
//! assert_eq!(report.failed_datums, 0);
//! # Ok(()) }
//! ```

pub mod batching;
pub mod collector;
pub mod config;
pub mod datums;
pub mod error;
pub mod histogram;
pub mod report;
pub mod retry;
pub mod run_telemetry;
pub mod segments;
pub mod sink;
pub mod xray;

pub use batching::BatchLimits;
pub use collector::{InfraCollector, InfraMetrics, InfraPoint, InfraSeries, RunWindow};
pub use config::{AwsConfig, AwsOverrides, AwsResources};
pub use error::AwsError;
pub use report::{AwsReport, read_aws_json, write_aws_json};
pub use retry::RetryPolicy;
pub use run_telemetry::{Finished, Note, RunTelemetry, SegmentLayer};
pub use segments::{EmitReport, EmitterConfig, SampledTxn, SegmentEmitter};
pub use sink::{CloudWatchSink, DEFAULT_NAMESPACE, SinkConfig, SinkHandle, SinkReport};
pub use xray::{SegmentKind, SegmentStats, TraceBreakdown, TraceReader};

/// The SDK crates this one is built on, re-exported so that callers build clients with matching
/// versions without depending on the SDK themselves.
pub use {aws_config, aws_sdk_cloudwatch, aws_sdk_xray};

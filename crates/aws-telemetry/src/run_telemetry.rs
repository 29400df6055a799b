//! The AWS side of one run, from before its first frame to `aws.json`:
//!
//! - [`RunTelemetry::start`] loads the SDK configuration (the standard credential and region chain,
//!   with the region and endpoint of the [`AwsConfig`]), checks it once, and, for CloudWatch, spawns
//!   the sink and a task that forwards every frame of the run to it without ever waiting;
//! - [`RunTelemetry::segment_layer`] gives the wrapper to put around the run's target so that sampled
//!   transactions reach the X-Ray segment emitter;
//! - [`RunTelemetry::finish`] drains the sink, reads the system's infrastructure metrics for the run
//!   window (when resources are listed) and the X-Ray latency breakdown, and writes `aws.json`.
//!
//! Nothing here fails the run: AWS trouble becomes a [`Note::Warning`] that says what to do (the caller
//! decides how to show it), and what could not be published is counted in `aws.json`.

use crate::collector::{InfraCollector, RunWindow};
use crate::config::AwsConfig;
use crate::error::AwsError;
use crate::report::{AwsReport, write_aws_json};
use crate::segments::{self, EmitReport, EmitterConfig, SampledTxn, SegmentEmitter};
use crate::sink::{CloudWatchSink, SinkConfig, SinkHandle, SinkReport};
use crate::xray::TraceReader;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::config::ProvideCredentials;
use models::{IntervalSnapshot, Transaction, Verdict};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use targets::{Target, TargetError};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

/// How long to wait for the credential chain before giving up on AWS for this run (instance metadata
/// can take a few seconds to answer, or to time out, off EC2).
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the segment emitter may take to send what it holds once the run is over.
const EMITTER_FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Sampled transactions waiting for the emitter; beyond this a tap drops (and counts) rather than wait.
const TAP_QUEUE: usize = 8192;

/// Something for the user about the AWS side of a run: what it does, or what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Info(String),
    Warning(String),
}

/// The AWS work of one run, between [`RunTelemetry::start`] and [`RunTelemetry::finish`].
pub struct RunTelemetry {
    config: AwsConfig,
    sdk: SdkConfig,
    run_id: String,
    started: SystemTime,
    /// The frame forwarder; it hands the sink back (with the frames it missed) when the run's frame
    /// stream closes.
    forwarder: Option<JoinHandle<(SinkHandle, u64)>>,
    /// The X-Ray segment emitter's task, fed by the taps; it ends when the run's target is dropped.
    segments: Option<(JoinHandle<EmitReport>, Arc<TapCounts>)>,
    notes: Vec<Note>,
}

impl std::fmt::Debug for RunTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTelemetry")
            .field("run_id", &self.run_id)
            .field("config", &self.config)
            .field("cloudwatch", &self.forwarder.is_some())
            .field("segments", &self.segments.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`RunTelemetry::finish`] did.
#[derive(Debug)]
pub struct Finished {
    /// What `aws.json` holds.
    pub report: AwsReport,
    /// Where `aws.json` was written; `None` when it could not be (a warning says why).
    pub aws_json: Option<PathBuf>,
    /// What to tell the user, in order.
    pub notes: Vec<Note>,
}

impl RunTelemetry {
    /// Starts the AWS side of a run named `run_id` of `scenario` when `config` asks for CloudWatch or
    /// X-Ray: `Ok(None)` when it does not, [`AwsError::Unavailable`] when AWS is unusable (no region,
    /// no credentials; the run should go on without it). `frames` is the run's frame stream; subscribe
    /// before the run starts so that the sink sees the first frame.
    pub async fn start(
        config: AwsConfig,
        run_id: &str,
        scenario: &str,
        frames: broadcast::Receiver<IntervalSnapshot>,
    ) -> Result<Option<Self>, AwsError> {
        if !config.enabled() {
            return Ok(None);
        }
        let started = SystemTime::now();
        let sdk = config.load().await;
        check_sdk(&sdk, &config)
            .await
            .map_err(|reason| AwsError::Unavailable { reason })?;
        let mut run = Self {
            sdk,
            run_id: run_id.to_owned(),
            started,
            forwarder: None,
            segments: None,
            notes: Vec::new(),
            config,
        };
        if run.config.cloudwatch {
            let sink_config = SinkConfig {
                namespace: run.config.namespace.clone(),
                run_id: run.run_id.clone(),
                scenario: scenario.to_owned(),
                worker: run.config.worker_dimension.clone(),
                ..SinkConfig::default()
            };
            let client = aws_sdk_cloudwatch::Client::new(&run.sdk);
            match CloudWatchSink::spawn(sink_config, &client) {
                Ok(sink) => {
                    run.forwarder = Some(tokio::spawn(forward(frames, sink)));
                    run.info(format!(
                        "CloudWatch: publishing to namespace {} with RunId={} Scenario={scenario}{}",
                        run.config.namespace,
                        run.run_id,
                        endpoint_note(&run.config)
                    ));
                }
                Err(e) => run.warn(format!(
                    "CloudWatch publishing is off for this run: {e}; fix the `[aws]` table of the scenario"
                )),
            }
        }
        Ok(Some(run))
    }

    /// What happened since the last call, in order (start's and [`Self::segment_layer`]'s notes).
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// With `emit_segments`, the wrapper to put around the run's target (its calls feed the X-Ray
    /// segment emitter); call it once, before the run. `None` when segments are off.
    pub fn segment_layer(&mut self) -> Option<SegmentLayer> {
        if !self.config.emit_segments || self.segments.is_some() {
            return None;
        }
        let client = aws_sdk_xray::Client::new(&self.sdk);
        let config = EmitterConfig {
            run_id: self.run_id.clone(),
            sample_rate: self.config.xray_sample_rate,
            ..EmitterConfig::default()
        };
        let emitter = match SegmentEmitter::new(config, &client) {
            Ok(e) => e,
            Err(e) => {
                self.warn(format!(
                    "X-Ray segments are off for this run: {e}; fix `segment_sample_rate` in the [aws] table"
                ));
                return None;
            }
        };
        let (tx, rx) = mpsc::channel(TAP_QUEUE);
        let counts = Arc::new(TapCounts::default());
        self.segments = Some((tokio::spawn(emit_segments(emitter, rx)), counts.clone()));
        self.info(format!(
            "X-Ray: emitting a segment for {:.2}% of the transactions",
            self.config.xray_sample_rate * 100.0
        ));
        Some(SegmentLayer {
            tx,
            sample_rate: self.config.xray_sample_rate,
            counts,
        })
    }

    /// After the run: publishes what the sink holds, collects infrastructure metrics and traces for
    /// the run window, and writes `aws.json` into `dir`. Drop the run's target (and so every tap)
    /// first, or the segment emitter waits for it until its timeout.
    pub async fn finish(mut self, dir: &Path) -> Finished {
        let window = RunWindow {
            start: self.started,
            end: SystemTime::now(),
        };
        let mut report = AwsReport {
            run_id: self.run_id.clone(),
            ..AwsReport::default()
        };
        if let Some(forwarder) = self.forwarder.take() {
            report.cloudwatch_sink = self.finish_sink(forwarder).await;
        }
        report.xray_segments = self.finish_segments().await;
        let cloudwatch = aws_sdk_cloudwatch::Client::new(&self.sdk);
        if !self.config.resources.is_empty() {
            match InfraCollector::new(cloudwatch)
                .collect(&self.config.resources, window)
                .await
            {
                Ok(infra) => {
                    let points: usize = infra.series.iter().map(|s| s.points.len()).sum();
                    self.info(format!(
                        "CloudWatch: read {} infrastructure series ({points} points) for the run window",
                        infra.series.len()
                    ));
                    report.infra = Some(infra);
                }
                Err(e) => self.warn(format!(
                    "could not read the system's infrastructure metrics: {e}{}",
                    self.endpoint_hint()
                )),
            }
        }
        if self.config.xray {
            let reader = TraceReader::new(aws_sdk_xray::Client::new(&self.sdk));
            match reader
                .breakdown(window, self.config.xray_filter.as_deref())
                .await
            {
                Ok(breakdown) => {
                    self.info(format!(
                        "X-Ray: {} traces in the run window, {} segment names{}",
                        breakdown.traces,
                        breakdown.segments.len(),
                        if breakdown.unprocessed_traces > 0 {
                            format!(", {} not returned", breakdown.unprocessed_traces)
                        } else {
                            String::new()
                        }
                    ));
                    report.xray = Some(breakdown);
                }
                Err(e) => self.warn(format!(
                    "could not read X-Ray traces: {e}{}",
                    self.endpoint_hint()
                )),
            }
        }
        let aws_json = match write_aws_json(dir, &report) {
            Ok(path) => {
                self.info(format!("AWS:     {}", path.display()));
                Some(path)
            }
            Err(e) => {
                self.warn(e.to_string());
                None
            }
        };
        Finished {
            report,
            aws_json,
            notes: self.notes,
        }
    }

    /// The run ended with an error: stops the sink (publishing what it holds) and the emitter without
    /// writing anything. Returns what to tell the user.
    pub async fn abandon(mut self) -> Vec<Note> {
        if let Some(forwarder) = self.forwarder.take()
            && let Ok((sink, _)) = forwarder.await
        {
            let _ = sink.finish().await;
        }
        let _ = self.finish_segments().await;
        self.notes
    }

    /// Waits for the emitter to send what it holds (the run's target, and so every tap, is gone by then).
    async fn finish_segments(&mut self) -> Option<EmitReport> {
        let (task, counts) = self.segments.take()?;
        let abort = task.abort_handle();
        let mut report = match tokio::time::timeout(EMITTER_FINISH_TIMEOUT, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                self.warn(format!("X-Ray segment emitter failed: {e}"));
                return None;
            }
            Err(_) => {
                abort.abort();
                self.warn(format!(
                    "X-Ray segment emitter did not finish within {} s; its last batch is lost",
                    EMITTER_FINISH_TIMEOUT.as_secs()
                ));
                return None;
            }
        };
        report.offered = counts.offered.load(Ordering::Relaxed);
        let dropped = counts.dropped.load(Ordering::Relaxed);
        self.info(format!(
            "X-Ray: {} segments sent, {} failed, {dropped} dropped (queue full), of {} sampled transactions",
            report.sent_segments,
            report.failed_segments,
            report.sampled + dropped
        ));
        report.failed_segments += dropped;
        Some(report)
    }

    async fn finish_sink(
        &mut self,
        forwarder: JoinHandle<(SinkHandle, u64)>,
    ) -> Option<SinkReport> {
        let (sink, lagged) = match forwarder.await {
            Ok(v) => v,
            Err(e) => {
                self.warn(format!(
                    "the CloudWatch frame forwarder ended abnormally ({e}); nothing more is published"
                ));
                return None;
            }
        };
        let mut report = match sink.finish().await {
            Ok(r) => r,
            Err(e) => {
                self.warn(format!("{e}; the published counts are unknown"));
                return None;
            }
        };
        report.dropped_frames += lagged;
        self.info(format!(
            "CloudWatch: {} datums published in {} requests ({} retries), {} failed, {} frames dropped",
            report.published_datums,
            report.requests,
            report.retries,
            report.failed_datums,
            report.dropped_frames
        ));
        if report.failed_datums > 0 || report.dropped_frames > 0 {
            self.warn(format!(
                "CloudWatch did not get all of the run's metrics ({} datums failed, {} frames dropped){}{}",
                report.failed_datums,
                report.dropped_frames,
                report
                    .last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default(),
                self.endpoint_hint()
            ));
        }
        Some(report)
    }

    fn endpoint_hint(&self) -> String {
        match &self.config.endpoint_url {
            Some(url) => format!(
                "; is the endpoint {url} up (`cargo xtask aws-emulator` starts an emulator)?"
            ),
            None => "; check the IAM permissions listed in docs/aws.md".into(),
        }
    }

    fn info(&mut self, text: String) {
        self.notes.push(Note::Info(text));
    }

    fn warn(&mut self, text: String) {
        self.notes.push(Note::Warning(text));
    }
}

/// Wraps a run's target so that its calls feed the X-Ray segment emitter (see
/// [`RunTelemetry::segment_layer`]).
#[derive(Debug)]
pub struct SegmentLayer {
    tx: mpsc::Sender<SampledTxn>,
    sample_rate: f64,
    counts: Arc<TapCounts>,
}

impl SegmentLayer {
    /// `inner`, with a tap that queues each sampled call for the emitter without ever waiting.
    pub fn wrap(self, inner: Arc<dyn Target>) -> Arc<dyn Target> {
        Arc::new(SegmentTap {
            inner,
            tx: self.tx,
            sample_rate: self.sample_rate,
            counts: self.counts,
        })
    }
}

/// What the taps saw: every call, and the sampled ones that did not fit in the emitter's queue.
#[derive(Debug, Default)]
struct TapCounts {
    offered: AtomicU64,
    dropped: AtomicU64,
}

/// After each call, a sampled transaction (chosen by its id, so that workers and reruns pick the same
/// ones) is queued for the segment emitter without ever waiting.
struct SegmentTap {
    inner: Arc<dyn Target>,
    tx: mpsc::Sender<SampledTxn>,
    sample_rate: f64,
    counts: Arc<TapCounts>,
}

#[async_trait::async_trait]
impl Target for SegmentTap {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        let start = SystemTime::now();
        let result = self.inner.score(txn).await;
        self.counts.offered.fetch_add(1, Ordering::Relaxed);
        let id = txn.id.to_string();
        if segments::is_sampled(&id, self.sample_rate) {
            let (decision, agents) = match &result {
                Ok(v) => (Some(v.decision), v.agents.clone()),
                Err(_) => (None, Vec::new()),
            };
            let sampled = SampledTxn {
                txn_id: id,
                decision,
                start,
                end: SystemTime::now(),
                agents,
            };
            if self.tx.try_send(sampled).is_err() {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    fn info(&self) -> models::TargetInfo {
        self.inner.info()
    }
}

/// Buffers and sends segments until every tap is gone.
async fn emit_segments(
    mut emitter: SegmentEmitter,
    mut rx: mpsc::Receiver<SampledTxn>,
) -> EmitReport {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            t = rx.recv() => match t {
                Some(t) => {
                    emitter.record(&t);
                    if emitter.should_flush() {
                        emitter.flush().await;
                    }
                }
                None => break,
            },
            // Partial batches go out every second so traces show up while the run lasts.
            _ = tick.tick() => emitter.flush().await,
        }
    }
    emitter.flush().await;
    emitter.report().clone()
}

/// Forwards every frame to the sink until the run's frame stream closes. `send` never waits: a full
/// sink channel counts a dropped frame; frames missed because this task fell behind the broadcast
/// are counted here.
async fn forward(
    mut frames: broadcast::Receiver<IntervalSnapshot>,
    sink: SinkHandle,
) -> (SinkHandle, u64) {
    let mut lagged = 0u64;
    loop {
        match frames.recv().await {
            Ok(frame) => {
                sink.send(&frame);
            }
            Err(broadcast::error::RecvError::Lagged(n)) => lagged += n,
            Err(broadcast::error::RecvError::Closed) => return (sink, lagged),
        }
    }
}

/// Region and credentials, checked once before the run so that a missing one is a single clear
/// warning instead of a failure per request.
async fn check_sdk(sdk: &SdkConfig, config: &AwsConfig) -> Result<(), String> {
    if sdk.region().is_none() {
        return Err(
            "no AWS region is set: set `aws.region` (the scenario's [aws] table) or AWS_REGION"
                .into(),
        );
    }
    let Some(provider) = sdk.credentials_provider() else {
        return Err("no AWS credential provider is configured".into());
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "no AWS credentials were found ({}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
             AWS_PROFILE, or run with an instance or task role{}",
            causes(&e),
            if config.endpoint_url.is_some() {
                " (an emulator accepts any values, for example AWS_ACCESS_KEY_ID=testing \
                 AWS_SECRET_ACCESS_KEY=testing)"
            } else {
                ""
            }
        )),
        Err(_) => Err(format!(
            "the AWS credential chain did not answer within {} s: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY or AWS_PROFILE (off EC2, AWS_EC2_METADATA_DISABLED=true skips \
             instance metadata)",
            CREDENTIALS_TIMEOUT.as_secs()
        )),
    }
}

/// An error with its causes, one after the other (the SDK's own rendering adds debug dumps).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}

fn endpoint_note(config: &AwsConfig) -> String {
    config
        .endpoint_url
        .as_deref()
        .map(|u| format!(" at {u}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::config::{Credentials, SharedCredentialsProvider};

    #[tokio::test]
    async fn a_missing_region_or_credential_says_what_to_set() {
        let config = AwsConfig {
            cloudwatch: true,
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..AwsConfig::default()
        };
        let no_region = SdkConfig::builder().build();
        let err = check_sdk(&no_region, &config).await.unwrap_err();
        assert!(
            err.contains("`aws.region`") && err.contains("AWS_REGION"),
            "{err}"
        );

        let region = aws_config::Region::new("us-east-1");
        let no_provider = SdkConfig::builder().region(region.clone()).build();
        assert!(check_sdk(&no_provider, &config).await.is_err());

        let ok = SdkConfig::builder()
            .region(region)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "tests",
            )))
            .build();
        assert_eq!(check_sdk(&ok, &config).await, Ok(()));
    }

    #[tokio::test]
    async fn nothing_starts_unless_asked() {
        let (_tx, frames) = broadcast::channel(1);
        let off = AwsConfig::from_spec(&models::AwsSpec {
            lambda_functions: vec!["score".into()],
            ..Default::default()
        });
        let started = RunTelemetry::start(off, "r", "s", frames).await.unwrap();
        assert!(started.is_none());
    }

    #[tokio::test]
    async fn the_tap_passes_calls_through_and_queues_the_sampled_ones() {
        let inner: Arc<dyn Target> = Arc::new(targets::FnTarget::new(|_txn| async {
            Ok(Verdict {
                decision: models::Decision::Decline,
                risk_score: 0.9,
                reasons: vec![],
                agents: vec![],
            })
        }));
        let (tx, mut rx) = mpsc::channel(TAP_QUEUE);
        let counts = Arc::new(TapCounts::default());
        let layer = SegmentLayer {
            tx,
            sample_rate: 1.0,
            counts: counts.clone(),
        };
        let tapped = layer.wrap(inner);
        let factory_txn = sample_transaction();
        let verdict = tapped.score(&factory_txn).await.unwrap();
        assert_eq!(verdict.decision, models::Decision::Decline);
        let sampled = rx.try_recv().unwrap();
        assert_eq!(sampled.txn_id, factory_txn.id.to_string());
        assert_eq!(sampled.decision, Some(models::Decision::Decline));
        assert_eq!(counts.offered.load(Ordering::Relaxed), 1);
        assert_eq!(counts.dropped.load(Ordering::Relaxed), 0);
    }

    fn sample_transaction() -> Transaction {
        transaction_factory::TransactionFactory::new(7, Default::default())
            .expect("the default factory config is valid")
            .at(0)
            .0
    }
}

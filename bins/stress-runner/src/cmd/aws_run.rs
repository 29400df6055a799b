//! The AWS side of `stress-runner run` (`--cloudwatch`, `--xray`, or the scenario's `[aws]` table):
//!
//! - before the run, [`start`] loads the SDK configuration (the standard credential and region chain,
//!   with the region and endpoint from the flags or the table) and, for CloudWatch, spawns the sink and a
//!   task that forwards every metric frame of the run to it without ever waiting;
//! - after the run, [`AwsRun::finish`] drains the sink, reads the system's infrastructure metrics for the
//!   run window (when resources are listed) and the X-Ray latency breakdown (with `--xray`), and writes
//!   `aws.json` into the results folder for the report.
//!
//! Nothing here fails the run: AWS trouble is a warning that says what to do, and what could not be
//! published is counted in `aws.json`.

use aws_telemetry::aws_config::SdkConfig;
use aws_telemetry::aws_sdk_cloudwatch::config::ProvideCredentials;
use aws_telemetry::{
    AwsConfig, AwsReport, CloudWatchSink, InfraCollector, RunWindow, SinkConfig, SinkHandle,
    SinkReport, TraceReader, write_aws_json,
};
use aws_telemetry::{EmitReport, EmitterConfig, SampledTxn, SegmentEmitter};
use models::{IntervalSnapshot, ScenarioSpec};
use models::{Transaction, Verdict};
use orchestrator::RunControl;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use targets::{Target, TargetError};
use tokio::sync::broadcast;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long to wait for the credential chain before giving up on AWS for this run (instance metadata
/// can take a few seconds to answer, or to time out, off EC2).
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);

/// The AWS work of one run, between [`start`] and [`AwsRun::finish`].
pub struct AwsRun {
    config: AwsConfig,
    sdk: SdkConfig,
    run_id: String,
    started: SystemTime,
    /// The frame forwarder; it hands the sink back (with the frames it missed) when the run's frame
    /// stream closes.
    forwarder: Option<JoinHandle<(SinkHandle, u64)>>,
    /// The X-Ray segment emitter's task, fed by [`SegmentTap`]s; it ends when the run's target is dropped.
    segments: Option<(JoinHandle<EmitReport>, Arc<TapCounts>)>,
    quiet: bool,
}

/// What the taps saw: every call, and the sampled ones that did not fit in the emitter's queue.
#[derive(Debug, Default)]
pub struct TapCounts {
    offered: AtomicU64,
    dropped: AtomicU64,
}

/// Wraps the run's target: after each call, a sampled transaction (chosen by its id, so that workers
/// and reruns pick the same ones) is queued for the segment emitter without ever waiting.
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
        if aws_telemetry::segments::is_sampled(&id, self.sample_rate) {
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

/// Starts the AWS side of a run when the scenario (with the flags merged in) asks for CloudWatch or
/// X-Ray; `None` when it does not, or when AWS is unusable (a warning says why and what to do).
/// Call it before the run starts so that the sink sees the first frame.
pub async fn start(
    spec: &ScenarioSpec,
    run_id: &str,
    control: &RunControl,
    worker: Option<String>,
    quiet: bool,
) -> Option<AwsRun> {
    let mut config = AwsConfig::from_spec(spec.aws.as_ref()?);
    // Workers of one distributed run share the RunId; the Worker dimension tells them apart.
    config.worker_dimension = worker;
    if !config.enabled() {
        return None;
    }
    let started = SystemTime::now();
    let sdk = config.load().await;
    if let Err(problem) = check_sdk(&sdk, &config).await {
        warn(&format!(
            "{problem}; the run goes on without CloudWatch and X-Ray"
        ));
        return None;
    }
    let mut run = AwsRun {
        sdk,
        run_id: run_id.to_owned(),
        started,
        forwarder: None,
        segments: None,
        quiet,
        config,
    };
    if run.config.cloudwatch {
        let sink_config = SinkConfig {
            namespace: run.config.namespace.clone(),
            run_id: run.run_id.clone(),
            scenario: spec.name.clone(),
            worker: run.config.worker_dimension.clone(),
            ..SinkConfig::default()
        };
        let client = aws_telemetry::aws_sdk_cloudwatch::Client::new(&run.sdk);
        match CloudWatchSink::spawn(sink_config, &client) {
            Ok(sink) => {
                run.forwarder = Some(tokio::spawn(forward(control.subscribe_frames(), sink)));
                info(
                    quiet,
                    &format!(
                        "CloudWatch: publishing to namespace {} with RunId={} Scenario={}{}",
                        run.config.namespace,
                        run.run_id,
                        spec.name,
                        endpoint_note(&run.config)
                    ),
                );
            }
            Err(e) => warn(&format!(
                "CloudWatch publishing is off for this run: {e}; fix the `[aws]` table of the scenario"
            )),
        }
    }
    Some(run)
}

/// Region and credentials, checked once before the run so that a missing one is a single clear
/// warning instead of a failure per request.
async fn check_sdk(sdk: &SdkConfig, config: &AwsConfig) -> Result<(), String> {
    if sdk.region().is_none() {
        return Err(
            "no AWS region is set: pass --aws-region REGION, set `region` in the scenario's \
                    [aws] table, or set AWS_REGION"
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

impl AwsRun {
    /// With `emit_segments`, the layer to put around the run's target (see
    /// [`orchestrator::StressTestOrchestrator::with_target_layer`]); call it once, before the run.
    pub fn segment_layer(&mut self) -> Option<orchestrator::TargetLayer> {
        if !self.config.emit_segments || self.segments.is_some() {
            return None;
        }
        let client = aws_telemetry::aws_sdk_xray::Client::new(&self.sdk);
        let config = EmitterConfig {
            run_id: self.run_id.clone(),
            sample_rate: self.config.xray_sample_rate,
            ..EmitterConfig::default()
        };
        let emitter = match SegmentEmitter::new(config, &client) {
            Ok(e) => e,
            Err(e) => {
                warn(&format!(
                    "X-Ray segments are off for this run: {e}; fix `segment_sample_rate` in the [aws] table"
                ));
                return None;
            }
        };
        let (tx, rx) = mpsc::channel(8192);
        let counts = Arc::new(TapCounts::default());
        self.segments = Some((tokio::spawn(emit_segments(emitter, rx)), counts.clone()));
        info(
            self.quiet,
            &format!(
                "X-Ray: emitting a segment for {:.2}% of the transactions",
                self.config.xray_sample_rate * 100.0
            ),
        );
        let sample_rate = self.config.xray_sample_rate;
        Some(Box::new(move |inner| {
            Arc::new(SegmentTap {
                inner,
                tx,
                sample_rate,
                counts,
            }) as Arc<dyn Target>
        }))
    }

    /// Waits for the emitter to send what it holds (the run's target, and so every tap, is gone by then).
    async fn finish_segments(&mut self) -> Option<EmitReport> {
        let (task, counts) = self.segments.take()?;
        let abort = task.abort_handle();
        let mut report = match tokio::time::timeout(Duration::from_secs(30), task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                warn(&format!("X-Ray segment emitter failed: {e}"));
                return None;
            }
            Err(_) => {
                abort.abort();
                warn("X-Ray segment emitter did not finish within 30 s; its last batch is lost");
                return None;
            }
        };
        report.offered = counts.offered.load(Ordering::Relaxed);
        let dropped = counts.dropped.load(Ordering::Relaxed);
        info(
            self.quiet,
            &format!(
                "X-Ray: {} segments sent, {} failed, {dropped} dropped (queue full), of {} sampled transactions",
                report.sent_segments,
                report.failed_segments,
                report.sampled + dropped
            ),
        );
        report.failed_segments += dropped;
        Some(report)
    }

    /// After the run: publishes what the sink holds, collects infrastructure metrics and traces for the
    /// run window, writes `aws.json` into `dir` and returns its path (`None` when it could not be
    /// written; a warning says why).
    pub async fn finish(mut self, dir: &Path) -> Option<PathBuf> {
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
        let cloudwatch = aws_telemetry::aws_sdk_cloudwatch::Client::new(&self.sdk);
        if !self.config.resources.is_empty() {
            match InfraCollector::new(cloudwatch)
                .collect(&self.config.resources, window)
                .await
            {
                Ok(infra) => {
                    let points: usize = infra.series.iter().map(|s| s.points.len()).sum();
                    info(
                        self.quiet,
                        &format!(
                            "CloudWatch: read {} infrastructure series ({points} points) for the run window",
                            infra.series.len()
                        ),
                    );
                    report.infra = Some(infra);
                }
                Err(e) => warn(&format!(
                    "could not read the system's infrastructure metrics: {e}{}",
                    self.endpoint_hint()
                )),
            }
        }
        if self.config.xray {
            let reader = TraceReader::new(aws_telemetry::aws_sdk_xray::Client::new(&self.sdk));
            match reader
                .breakdown(window, self.config.xray_filter.as_deref())
                .await
            {
                Ok(breakdown) => {
                    info(
                        self.quiet,
                        &format!(
                            "X-Ray: {} traces in the run window, {} segment names{}",
                            breakdown.traces,
                            breakdown.segments.len(),
                            if breakdown.unprocessed_traces > 0 {
                                format!(", {} not returned", breakdown.unprocessed_traces)
                            } else {
                                String::new()
                            }
                        ),
                    );
                    report.xray = Some(breakdown);
                }
                Err(e) => warn(&format!(
                    "could not read X-Ray traces: {e}{}",
                    self.endpoint_hint()
                )),
            }
        }
        match write_aws_json(dir, &report) {
            Ok(path) => {
                info(self.quiet, &format!("AWS:     {}", path.display()));
                Some(path)
            }
            Err(e) => {
                warn(&e.to_string());
                None
            }
        }
    }

    /// The run ended with an error: stops the sink (publishing what it holds) without writing anything.
    pub async fn abandon(mut self) {
        if let Some(forwarder) = self.forwarder.take()
            && let Ok((sink, _)) = forwarder.await
        {
            let _ = sink.finish().await;
        }
        let _ = self.finish_segments().await;
    }

    async fn finish_sink(&self, forwarder: JoinHandle<(SinkHandle, u64)>) -> Option<SinkReport> {
        let (sink, lagged) = match forwarder.await {
            Ok(v) => v,
            Err(e) => {
                warn(&format!(
                    "the CloudWatch frame forwarder ended abnormally ({e}); nothing more is published"
                ));
                return None;
            }
        };
        let mut report = match sink.finish().await {
            Ok(r) => r,
            Err(e) => {
                warn(&format!("{e}; the published counts are unknown"));
                return None;
            }
        };
        report.dropped_frames += lagged;
        info(
            self.quiet,
            &format!(
                "CloudWatch: {} datums published in {} requests ({} retries), {} failed, {} frames dropped",
                report.published_datums,
                report.requests,
                report.retries,
                report.failed_datums,
                report.dropped_frames
            ),
        );
        if report.failed_datums > 0 || report.dropped_frames > 0 {
            warn(&format!(
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
}

fn endpoint_note(config: &AwsConfig) -> String {
    config
        .endpoint_url
        .as_deref()
        .map(|u| format!(" at {u}"))
        .unwrap_or_default()
}

#[allow(clippy::print_stdout)]
fn info(quiet: bool, line: &str) {
    if !quiet {
        println!("{line}");
    }
}

#[allow(clippy::print_stderr)]
fn warn(line: &str) {
    eprintln!("warning: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_telemetry::aws_sdk_cloudwatch::config::Credentials;

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
            err.contains("--aws-region") && err.contains("AWS_REGION"),
            "{err}"
        );

        let region = aws_telemetry::aws_config::Region::new("us-east-1");
        let no_provider = SdkConfig::builder().region(region.clone()).build();
        assert!(check_sdk(&no_provider, &config).await.is_err());

        let ok = SdkConfig::builder()
            .region(region)
            .credentials_provider(
                aws_telemetry::aws_sdk_cloudwatch::config::SharedCredentialsProvider::new(
                    Credentials::new("testing", "testing", None, None, "tests"),
                ),
            )
            .build();
        assert_eq!(check_sdk(&ok, &config).await, Ok(()));
    }

    fn spec_with(aws: Option<models::AwsSpec>) -> ScenarioSpec {
        let mut spec = orchestrator::timeline::plain(10.0, Duration::from_secs(1)).unwrap();
        spec.aws = aws;
        spec
    }

    #[tokio::test]
    async fn nothing_starts_unless_asked() {
        let orch = orchestrator::StressTestOrchestrator::new(
            spec_with(None),
            orchestrator::RunOptions::default(),
        )
        .unwrap();
        let control = orch.control();
        assert!(
            start(&spec_with(None), "r", &control, None, true)
                .await
                .is_none()
        );
        let off = models::AwsSpec {
            lambda_functions: vec!["score".into()],
            ..Default::default()
        };
        assert!(
            start(&spec_with(Some(off)), "r", &control, None, true)
                .await
                .is_none()
        );
    }
}

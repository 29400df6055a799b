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
use models::{IntervalSnapshot, ScenarioSpec};
use orchestrator::RunControl;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::sync::broadcast;
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
    quiet: bool,
}

/// Starts the AWS side of a run when the scenario (with the flags merged in) asks for CloudWatch or
/// X-Ray; `None` when it does not, or when AWS is unusable (a warning says why and what to do).
/// Call it before the run starts so that the sink sees the first frame.
pub async fn start(
    spec: &ScenarioSpec,
    run_id: &str,
    control: &RunControl,
    quiet: bool,
) -> Option<AwsRun> {
    let config = AwsConfig::from_spec(spec.aws.as_ref()?);
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
        assert!(start(&spec_with(None), "r", &control, true).await.is_none());
        let off = models::AwsSpec {
            lambda_functions: vec!["score".into()],
            ..Default::default()
        };
        assert!(
            start(&spec_with(Some(off)), "r", &control, true)
                .await
                .is_none()
        );
    }
}

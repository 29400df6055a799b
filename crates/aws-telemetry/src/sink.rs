//! The CloudWatch sink: a task fed by a bounded channel that publishes a run's metrics without ever
//! blocking the load. What it cannot send is counted in its [`SinkReport`], never lost silently.

use crate::batching::{BatchLimits, batch_datums};
use crate::datums::{Datum, DatumContext, snapshot_datums};
use crate::error::AwsError;
use crate::retry::{self, Jitter, RetryPolicy};
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use models::IntervalSnapshot;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The default namespace of the published metrics.
pub const DEFAULT_NAMESPACE: &str = "StressRunner";

/// How the sink publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// CloudWatch namespace; `AWS/` is reserved by AWS.
    pub namespace: String,
    /// The `RunId` dimension. Workers of a distributed run use the same one so that CloudWatch
    /// aggregates them.
    pub run_id: String,
    /// The `Scenario` dimension.
    pub scenario: String,
    /// Adds a `Worker` dimension (for example the segment `2/4`); off by default so that a distributed
    /// run's workers land in one series.
    pub worker: Option<String>,
    /// Wall-clock start of the run; datums are stamped `run_started_at + t_s`. When absent, the first
    /// snapshot's arrival minus its `t_s`.
    pub run_started_at: Option<SystemTime>,
    /// Snapshots waiting to be converted; when full, [`SinkHandle::send`] drops the frame and counts it.
    pub channel_capacity: usize,
    /// Buffered datums are published at least this often (and whenever a full request is ready).
    pub flush_interval: Duration,
    /// Publish high-resolution (1 s) metrics instead of standard (60 s) ones.
    pub high_resolution: bool,
    pub limits: BatchLimits,
    pub retry: RetryPolicy,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.into(),
            run_id: "run".into(),
            scenario: "scenario".into(),
            worker: None,
            run_started_at: None,
            channel_capacity: 256,
            flush_interval: Duration::from_secs(10),
            high_resolution: false,
            limits: BatchLimits::default(),
            retry: RetryPolicy::default(),
        }
    }
}

impl SinkConfig {
    fn validate(&self) -> Result<(), AwsError> {
        let bad = |field, reason: &str| {
            Err(AwsError::Config {
                field,
                reason: reason.into(),
            })
        };
        if self.namespace.is_empty() || self.namespace.len() > 255 {
            return bad("namespace", "must be 1 to 255 characters");
        }
        if self.namespace.starts_with("AWS/") {
            return bad(
                "namespace",
                "must not start with `AWS/`, which AWS reserves for its services",
            );
        }
        for (field, value) in [("run_id", &self.run_id), ("scenario", &self.scenario)] {
            if value.is_empty() || value.len() > 1024 {
                return bad(field, "a dimension value must be 1 to 1024 characters");
            }
        }
        if self.channel_capacity == 0 {
            return bad("channel_capacity", "must be at least 1");
        }
        if self.flush_interval.is_zero() {
            return bad("flush_interval", "must be more than zero");
        }
        Ok(())
    }
}

// What it reports is part of `aws.json`, so it lives in `models`.
pub use models::aws::SinkReport;

/// Starts the sink task.
#[derive(Debug)]
pub struct CloudWatchSink;

impl CloudWatchSink {
    /// Spawns the sink on the current tokio runtime. The client's own retries are turned off for the
    /// sink (it retries itself, to count them).
    pub fn spawn(
        config: SinkConfig,
        client: &aws_sdk_cloudwatch::Client,
    ) -> Result<SinkHandle, AwsError> {
        config.validate()?;
        let client = aws_sdk_cloudwatch::Client::from_conf(
            client
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let (tx, rx) = mpsc::channel(config.channel_capacity);
        let task = tokio::spawn(run(rx, config, client));
        Ok(SinkHandle {
            tx,
            dropped: AtomicU64::new(0),
            task,
        })
    }
}

/// The sending side of a running sink. Call [`finish`](Self::finish) to publish what is left and get the
/// report; dropping the handle instead stops the sink after its last flush, without a report.
#[derive(Debug)]
pub struct SinkHandle {
    tx: mpsc::Sender<IntervalSnapshot>,
    dropped: AtomicU64,
    task: JoinHandle<SinkReport>,
}

impl SinkHandle {
    /// Queues a snapshot without waiting. Returns false (and counts a dropped frame) when the channel is
    /// full or the sink has stopped.
    pub fn send(&self, snapshot: &IntervalSnapshot) -> bool {
        match self.tx.try_send(snapshot.clone()) {
            Ok(()) => true,
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Frames dropped so far.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Closes the channel, waits for the sink to publish what it holds (with retries), and reports.
    pub async fn finish(self) -> Result<SinkReport, AwsError> {
        let SinkHandle { tx, dropped, task } = self;
        drop(tx);
        let mut report = task.await.map_err(|e| AwsError::SinkTask(e.to_string()))?;
        report.dropped_frames = dropped.into_inner();
        Ok(report)
    }
}

struct Publisher {
    client: aws_sdk_cloudwatch::Client,
    namespace: String,
    limits: BatchLimits,
    retry: RetryPolicy,
    jitter: Jitter,
    ctx: Option<DatumContext>,
    config: SinkConfig,
    pending: Vec<Datum>,
    report: SinkReport,
}

async fn run(
    mut rx: mpsc::Receiver<IntervalSnapshot>,
    config: SinkConfig,
    client: aws_sdk_cloudwatch::Client,
) -> SinkReport {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&config.run_id, &config.worker).hash(&mut hasher);
    let mut p = Publisher {
        client,
        namespace: config.namespace.clone(),
        limits: config.limits,
        retry: config.retry,
        jitter: Jitter::new(hasher.finish()),
        ctx: None,
        pending: Vec::new(),
        report: SinkReport::default(),
        config,
    };
    let mut ticker = tokio::time::interval(p.config.flush_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Some(snapshot) => {
                    p.add(&snapshot);
                    if p.pending.len() >= p.limits.max_datums {
                        p.flush().await;
                    }
                }
                None => break,
            },
            _ = ticker.tick() => p.flush().await,
        }
    }
    p.flush().await;
    p.report
}

impl Publisher {
    fn add(&mut self, snapshot: &IntervalSnapshot) {
        let config = &self.config;
        let ctx = self.ctx.get_or_insert_with(|| DatumContext {
            run_id: config.run_id.clone(),
            scenario: config.scenario.clone(),
            worker: config.worker.clone(),
            run_started_at: config.run_started_at.unwrap_or_else(|| {
                SystemTime::now() - Duration::from_secs_f64(snapshot.t_s.clamp(0.0, 1e9))
            }),
            high_resolution: config.high_resolution,
        });
        let out = snapshot_datums(snapshot, ctx);
        if let Some(e) = out.histogram_error {
            self.report.histogram_fallbacks += 1;
            self.report.last_error = Some(format!("snapshot at t = {} s: {e}", snapshot.t_s));
        }
        self.pending.extend(out.datums);
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        for batch in batch_datums(std::mem::take(&mut self.pending), self.limits) {
            self.publish(&batch).await;
        }
    }

    async fn publish(&mut self, batch: &[Datum]) {
        let n = batch.len() as u64;
        let data: Vec<_> = batch.iter().map(Datum::to_sdk).collect();
        let mut attempt = 0;
        loop {
            self.report.requests += 1;
            let result = self
                .client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(data.clone()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    self.report.published_datums += n;
                    return;
                }
                Err(err) if retry::is_retryable(&err) && attempt < self.retry.max_retries => {
                    self.report.retries += 1;
                    tokio::time::sleep(self.retry.delay(attempt, self.jitter.next_unit())).await;
                    attempt += 1;
                }
                Err(err) => {
                    self.report.failed_datums += n;
                    self.report.last_error =
                        Some(format!("PutMetricData: {}", DisplayErrorContext(&err)));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_checked() {
        assert!(SinkConfig::default().validate().is_ok());
        let bad = [
            SinkConfig {
                namespace: "AWS/Lambda".into(),
                ..Default::default()
            },
            SinkConfig {
                namespace: String::new(),
                ..Default::default()
            },
            SinkConfig {
                run_id: String::new(),
                ..Default::default()
            },
            SinkConfig {
                channel_capacity: 0,
                ..Default::default()
            },
            SinkConfig {
                flush_interval: Duration::ZERO,
                ..Default::default()
            },
        ];
        for c in bad {
            let err = c.validate().unwrap_err().to_string();
            assert!(err.starts_with("invalid AWS telemetry setting"), "{err}");
        }
    }
}

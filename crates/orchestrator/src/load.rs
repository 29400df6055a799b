//! The load of a run: load-driver's open-model [`Driver`] over the scenario's arrival schedule, with
//! the transaction factory, the target and metrics-core's recorder, behind the few calls the
//! orchestrator makes.
//!
//! A worker of a distributed run sends only its execution segment of the schedule (arrivals `k` with
//! `k mod n == i`, at the whole run's instants, with transaction `k`), starts at a common wall-clock
//! instant ([`wait_for_start`]) and can log the transactions it sent ([`IDS_FILE`]).

use crate::error::OrchestratorError;
use crate::error::ScenarioError;
use load_driver::{Driver, DriverConfig, DriverControl, DriverError, DriverReport, SentLog};
use load_profiles::{Profile, Schedule, Segment};
use metrics_core::{MetricsConfig, Recorder};
use models::{IntervalSnapshot, ScenarioSpec, Summary};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use targets::Target;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig, TransactionFactory};

/// The file, in the results folder, that lists the sent transactions when asked for.
pub use run_files::names::IDS as IDS_FILE;

/// How far ahead a start time may be: further is more likely a mistake (a wrong date or time zone)
/// than a plan.
pub const MAX_START_DELAY: Duration = Duration::from_secs(3600);

/// What the load needs.
pub(crate) struct LoadSetup<'a> {
    pub spec: &'a ScenarioSpec,
    pub target: Arc<dyn Target>,
    /// The share of the schedule to send ([`Segment::WHOLE`] for a whole run).
    pub segment: Segment,
    /// The results folder: a segment worker writes the scenario it ran there
    /// ([`crate::merge::SCENARIO_FILE`]), so that a merge can judge the criteria again.
    pub dir: &'a Path,
    /// Write the sent transactions to [`IDS_FILE`] in `dir` when the load ends.
    pub record_ids: bool,
}

/// Waits until the wall-clock instant `start_at` (on tokio's clock, so a paused test clock skips the
/// wait). Returns how late the start is when `start_at` had already passed. Refuses a start more than
/// [`MAX_START_DELAY`] ahead, or so far in the past that the run (`run_length` long) would already be
/// over: the workers of one run must start together, and those are signs that they would not.
pub async fn wait_for_start(
    start_at: Option<SystemTime>,
    run_length: Duration,
) -> Result<Option<Duration>, ScenarioError> {
    let Some(at) = start_at else {
        return Ok(None);
    };
    let stamp = || humantime::format_rfc3339_millis(at).to_string();
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) if ahead > MAX_START_DELAY => Err(ScenarioError::Option {
            what: "start_at",
            message: format!(
                "{} is {} ahead, more than the {} allowed; check the date and the time zone (RFC 3339, for example 2026-11-23T18:45:00Z)",
                stamp(),
                models::duration_serde::format(Duration::from_secs(ahead.as_secs())),
                models::duration_serde::format(MAX_START_DELAY)
            ),
        }),
        Ok(ahead) => {
            tokio::time::sleep(ahead).await;
            Ok(None)
        }
        Err(past) => {
            let late = past.duration();
            if late > run_length {
                Err(ScenarioError::Option {
                    what: "start_at",
                    message: format!(
                        "{} passed {:.1} s ago, longer than the run ({:.1} s): the other workers are done; give a start time in the future",
                        stamp(),
                        late.as_secs_f64(),
                        run_length.as_secs_f64()
                    ),
                })
            } else {
                Ok(Some(late))
            }
        }
    }
}

/// The built-in target's stage concurrencies, so that its agents' utilization is a share of their
/// servers; unknown (empty) for a user's API.
fn agent_concurrency(target: &models::TargetSpec) -> std::collections::BTreeMap<String, f64> {
    match target.kind {
        models::TargetKind::Builtin | models::TargetKind::InProcess => {
            let sim = crate::target_setup::sim_config(target);
            fraud_sim::StageName::ALL
                .iter()
                .map(|&stage| (stage.as_str().to_owned(), sim.concurrency(stage) as f64))
                .collect()
        }
        models::TargetKind::Http => Default::default(),
    }
}

/// The stream a run sends (and whose past warms the built-in detector, [`crate::warm_up`]). Its
/// clock belongs to the simulated world, not to the test: each customer transacts about once an hour
/// of stream time whatever the send rate, so a detector's per-card windows (velocity within seconds,
/// card testing within minutes) see a cardholder's pace, not the test's (at 5,000 TPS on the send
/// clock, 50,000 customers would each pay every 10 s).
pub(crate) fn stream_config(mix: models::MixSpec) -> FactoryConfig {
    FactoryConfig {
        mix,
        ..FactoryConfig::default()
    }
    .with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S)
}

/// The transaction stream a run of `spec` sends: transaction `k` of the run is `.at(k)`, so a dry
/// run (`stress-runner probe`) can send the very first transactions a run would.
pub fn run_stream(spec: &ScenarioSpec) -> Result<TransactionFactory, OrchestratorError> {
    TransactionFactory::new(spec.seed, stream_config(spec.mix))
        .map_err(|e| OrchestratorError::Load(e.to_string()))
}

/// A running load.
pub(crate) struct LoadRun {
    profile: Arc<Profile>,
    segment: Segment,
    ids: Option<IdsWriter>,
    recorder: Recorder,
    start: Instant,
    control: DriverControl,
    handle: Option<JoinHandle<Result<DriverReport, DriverError>>>,
    outcome: Option<Result<DriverReport, OrchestratorError>>,
}

fn joined(
    r: Result<Result<DriverReport, DriverError>, tokio::task::JoinError>,
) -> Result<DriverReport, OrchestratorError> {
    match r {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(OrchestratorError::Load(e.to_string())),
        Err(e) => Err(OrchestratorError::Load(format!(
            "the load driver task failed: {e}"
        ))),
    }
}

impl LoadRun {
    /// Starts sending now.
    pub fn start(setup: LoadSetup<'_>) -> Result<Self, OrchestratorError> {
        let spec = setup.spec;
        let load_err = |e: &dyn std::fmt::Display| OrchestratorError::Load(e.to_string());
        let profile = Arc::new(Profile::new(&spec.load).map_err(|e| load_err(&e))?);
        let factory = Arc::new(run_stream(spec)?);
        let recorder = Recorder::new(MetricsConfig {
            cost: spec.cost.clone(),
            encode_histograms: true,
            agent_concurrency: agent_concurrency(&spec.target),
            ..MetricsConfig::default()
        })
        .map_err(|e| load_err(&e))?;
        let schedule =
            Schedule::new(profile.clone(), spec.load.arrival, spec.seed).segment(setup.segment);
        let ids = setup
            .record_ids
            .then(|| IdsWriter::start(setup.dir.join(IDS_FILE), factory.clone()));
        if setup.segment != Segment::WHOLE {
            write_scenario(setup.dir, spec)?;
        }
        let config = DriverConfig {
            max_in_flight: spec.target.max_in_flight,
            // Each of n workers carries 1/n of the rate, so 1/n of the ceiling keeps their sum under it.
            max_tps: (spec.limits.max_tps / setup.segment.count() as f64).max(1.0),
            grace_period: spec.target.timeout,
            request_timeout: Some(spec.target.timeout),
            sent_log: ids.as_ref().map(IdsWriter::log),
            ..DriverConfig::default()
        };
        let control = DriverControl::new();
        let driver = Driver::new(
            schedule,
            factory.clone(),
            setup.target,
            recorder.clone(),
            config,
            control.clone(),
        )
        .map_err(|e| load_err(&e))?;
        // The driver's offsets count from when `run` is first polled: the spawn below, within
        // microseconds of this instant (the same instant on a paused test clock).
        let start = Instant::now();
        let handle = tokio::spawn(driver.run());
        Ok(Self {
            profile,
            segment: setup.segment,
            ids,
            recorder,
            start,
            control,
            handle: Some(handle),
            outcome: None,
        })
    }

    /// The instant the load started: offset zero of every tick.
    pub fn started_at(&self) -> Instant {
        self.start
    }

    /// The profile's planned rate at a timeline position (before the multiplier).
    pub fn rate_at(&self, pos: Duration) -> f64 {
        self.profile.rate_at(pos)
    }

    pub fn pause(&self) {
        self.control.pause();
    }

    pub fn resume(&self) {
        self.control.resume();
    }

    pub fn set_multiplier(&self, m: f64) -> Result<(), OrchestratorError> {
        self.control
            .set_multiplier(m)
            .map_err(|e| OrchestratorError::Load(e.to_string()))
    }

    /// No more arrivals; requests in flight get the target's timeout to finish.
    pub fn stop(&self) {
        self.control.stop();
    }

    /// Resolves when the driver has ended (the whole profile sent and answered). Cancel-safe.
    pub async fn finished(&mut self) {
        match self.handle.as_mut() {
            Some(h) => {
                let r = h.await;
                self.handle = None;
                self.outcome = Some(joined(r));
            }
            None => std::future::pending().await,
        }
    }

    /// Waits for the driver and every task it spawned, then writes the sent-transactions file if one
    /// was asked for.
    pub async fn join(&mut self) -> Result<DriverReport, OrchestratorError> {
        if let Some(h) = self.handle.take() {
            self.outcome = Some(joined(h.await));
        }
        let report = match self.outcome.take() {
            Some(r) => r,
            None => Err(OrchestratorError::Load(
                "the load driver was joined twice".into(),
            )),
        }?;
        if let Some(ids) = self.ids.take() {
            ids.finish().await?;
        }
        Ok(report)
    }

    /// Ends the metric interval at `now` (since the start).
    pub fn tick(&self, now: Duration) -> IntervalSnapshot {
        self.recorder.tick(now)
    }

    /// The load's figures; a segment worker's summary names its segment.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut summary = self.recorder.summary(elapsed);
        summary.segment = (self.segment != Segment::WHOLE).then(|| self.segment.to_string());
        summary
    }
}

/// Writes the resolved scenario as TOML (see [`crate::merge::SCENARIO_FILE`]).
fn write_scenario(dir: &Path, spec: &ScenarioSpec) -> Result<(), OrchestratorError> {
    let text = toml::to_string(spec)
        .map_err(|e| OrchestratorError::Load(format!("cannot write the scenario as TOML: {e}")))?;
    run_files::write::write_whole(dir, crate::merge::SCENARIO_FILE, text.as_bytes())
        .map(drop)
        .map_err(|e| OrchestratorError::Results {
            path: e.path,
            source: e.source,
        })
}

/// Writes `<index> <transaction id>` per sent transaction (see [`IDS_FILE`]).
/// Writes `ids.txt` as the run goes: the driver hands over chunks of sent indices (see
/// [`SentLog::streaming`]); a blocking thread remakes each transaction for its id (the factory's
/// work, off the runtime's threads) and appends `<index> <id>` lines. Memory stays bounded by the
/// chunks in the channel, whatever the run's length (holding every index to the end cost 8 bytes per
/// request: 6.9 GB for 4 h at 60,000 TPS).
struct IdsWriter {
    tx: std::sync::mpsc::Sender<Option<Vec<u64>>>,
    thread: tokio::task::JoinHandle<Result<(), OrchestratorError>>,
}

impl IdsWriter {
    fn start(path: PathBuf, factory: Arc<TransactionFactory>) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Option<Vec<u64>>>();
        let thread = tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let io = |source| OrchestratorError::Results {
                path: path.clone(),
                source,
            };
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
            // `None` ends the file (sent by `finish`); so does the channel closing, should the run
            // be dropped without finishing.
            while let Ok(Some(chunk)) = rx.recv() {
                for k in chunk {
                    writeln!(out, "{k} {}", factory.at(k).0.id).map_err(io)?;
                }
            }
            out.flush().map_err(io)
        });
        Self { tx, thread }
    }

    /// The log the driver hands its chunks to.
    fn log(&self) -> SentLog {
        let tx = self.tx.clone();
        // A writer that failed has dropped its receiver: the chunk is lost, and `finish` reports why.
        SentLog::streaming(move |chunk| drop(tx.send(Some(chunk))))
    }

    /// After the driver has ended (its last chunk handed over): the rest of the file.
    async fn finish(self) -> Result<(), OrchestratorError> {
        let _ = self.tx.send(None);
        self.thread
            .await
            .map_err(|e| OrchestratorError::Load(format!("writing {IDS_FILE}: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn waits_for_a_start_time_ahead() {
        let before = tokio::time::Instant::now();
        let at = SystemTime::now() + Duration::from_secs(30);
        assert_eq!(wait_for_start(Some(at), RUN).await.unwrap(), None);
        let waited = before.elapsed();
        assert!(
            waited > Duration::from_secs(29) && waited <= Duration::from_secs(30),
            "{waited:?}"
        );
        assert_eq!(wait_for_start(None, RUN).await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_time_just_past_starts_at_once_and_says_how_late() {
        let before = tokio::time::Instant::now();
        let at = SystemTime::now() - Duration::from_secs(2);
        let late = wait_for_start(Some(at), RUN).await.unwrap().unwrap();
        assert!(late >= Duration::from_secs(2) && late < Duration::from_secs(3));
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_start_times_too_far_ahead_or_past_the_whole_run() {
        let ahead = SystemTime::now() + MAX_START_DELAY + Duration::from_secs(60);
        let err = wait_for_start(Some(ahead), RUN)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("time zone"), "{err}");
        let past = SystemTime::now() - RUN - Duration::from_secs(1);
        let err = wait_for_start(Some(past), RUN)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("longer than the run"), "{err}");
    }
}

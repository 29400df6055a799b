//! The load of a run: load-driver's open-model [`Driver`] over the scenario's arrival schedule, with
//! the transaction factory, the target and metrics-core's recorder, behind the few calls the
//! orchestrator makes.

use crate::error::OrchestratorError;
use load_driver::{Driver, DriverConfig, DriverControl, DriverError, DriverReport};
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder};
use models::{IntervalSnapshot, ScenarioSpec, Summary};
use std::sync::Arc;
use std::time::Duration;
use targets::Target;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use transaction_factory::{FactoryConfig, TransactionFactory};

/// What the load needs.
pub(crate) struct LoadSetup<'a> {
    pub spec: &'a ScenarioSpec,
    pub target: Arc<dyn Target>,
}

/// A running load.
pub(crate) struct LoadRun {
    profile: Arc<Profile>,
    recorder: Recorder,
    start: Instant,
    control: DriverControl,
    handle: Option<JoinHandle<Result<DriverReport, DriverError>>>,
    outcome: Option<Result<DriverReport, OrchestratorError>>,
}

fn mean_tps(profile: &Profile) -> f64 {
    let secs = profile.duration_secs();
    if secs > 0.0 {
        profile.total() / secs
    } else {
        0.0
    }
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
        // Stamp transactions at the profile's mean rate, so the stream's clock (on which the fraud
        // patterns' timings live) runs about as fast as the wall clock.
        let factory_config = FactoryConfig {
            mix: spec.mix,
            rate_tps: mean_tps(&profile).max(10.0),
            ..FactoryConfig::default()
        };
        let factory =
            Arc::new(TransactionFactory::new(spec.seed, factory_config).map_err(|e| load_err(&e))?);
        let recorder = Recorder::new(MetricsConfig {
            cost: spec.cost.clone(),
            encode_histograms: true,
            ..MetricsConfig::default()
        })
        .map_err(|e| load_err(&e))?;
        let schedule = Schedule::new(profile.clone(), spec.load.arrival, spec.seed);
        let config = DriverConfig {
            max_in_flight: spec.target.max_in_flight,
            max_tps: spec.limits.max_tps,
            grace_period: spec.target.timeout,
            request_timeout: Some(spec.target.timeout),
            ..DriverConfig::default()
        };
        let control = DriverControl::new();
        let driver = Driver::new(
            schedule,
            factory,
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

    /// Waits for the driver and every task it spawned.
    pub async fn join(&mut self) -> Result<DriverReport, OrchestratorError> {
        if let Some(h) = self.handle.take() {
            self.outcome = Some(joined(h.await));
        }
        match self.outcome.take() {
            Some(r) => r,
            None => Err(OrchestratorError::Load(
                "the load driver was joined twice".into(),
            )),
        }
    }

    /// Ends the metric interval at `now` (since the start).
    pub fn tick(&self, now: Duration) -> IntervalSnapshot {
        self.recorder.tick(now)
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        self.recorder.summary(elapsed)
    }
}

//! The load the orchestrator drives: an open-model sender over the scenario's arrival schedule, the
//! target and the metrics recorder.
//!
//! Interim: this module holds a small open-model sender built from the other crates (load-profiles'
//! `Schedule`, transaction-factory, metrics-core shards, a `targets::Target`) because the load-driver
//! crate was still empty when the orchestrator was written. Everything the orchestrator needs from the
//! load goes through [`LoadRun`], so replacing the sender with load-driver's touches this file only.
//!
//! What it does: arrival `k` is meant to go at `start + paused + at_k` (the schedule's instant plus
//! the time spent paused); a dispatcher sleeps until then and hands it to one of a few workers, each
//! owning a metrics shard and a `JoinSet` of requests in flight. Latency is measured from the intended
//! instant. Past `target.max_in_flight` requests in flight, an arrival is recorded as dropped. The
//! `limits.max_tps` ceiling spaces intended instants at least `1 / max_tps` apart.

use crate::error::OrchestratorError;
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder, Shard, Timing};
use models::{GroundTruth, IntervalSnapshot, ScenarioSpec, Summary, Transaction};
use std::sync::Arc;
use std::time::Duration;
use targets::Target;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use transaction_factory::{FactoryConfig, TransactionFactory};

/// What the load needs.
pub(crate) struct LoadSetup<'a> {
    pub spec: &'a ScenarioSpec,
    pub target: Arc<dyn Target>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Control {
    paused: bool,
    stopped: bool,
    multiplier: f64,
}

/// A running load.
pub(crate) struct LoadRun {
    profile: Arc<Profile>,
    recorder: Recorder,
    start: Instant,
    control: watch::Sender<Control>,
    done: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
}

const WORKERS: usize = 4;

fn mean_tps(profile: &Profile) -> f64 {
    let secs = profile.duration_secs();
    if secs > 0.0 { profile.total() / secs } else { 0.0 }
}

type Job = (u64, Instant, tokio::sync::OwnedSemaphorePermit);

impl LoadRun {
    /// Starts sending now.
    pub fn start(setup: LoadSetup<'_>) -> Result<Self, OrchestratorError> {
        let spec = setup.spec;
        let load_err = |e: &dyn std::fmt::Display| OrchestratorError::Load(e.to_string());
        let profile = Arc::new(Profile::new(&spec.load).map_err(|e| load_err(&e))?);
        let factory = Arc::new(
            // Stamp transactions at the profile's mean rate, so the stream's clock (which the fraud
            // patterns' timings live on) runs about as fast as the wall clock.
            TransactionFactory::new(spec.seed, FactoryConfig { mix: spec.mix, rate_tps: mean_tps(&profile).max(10.0), ..FactoryConfig::default() })
                .map_err(|e| load_err(&e))?,
        );
        let recorder = Recorder::new(MetricsConfig { cost: spec.cost.clone(), encode_histograms: true, ..MetricsConfig::default() })
            .map_err(|e| load_err(&e))?;
        let schedule = Schedule::new(profile.clone(), spec.load.arrival, spec.seed);
        let (control, control_rx) = watch::channel(Control { paused: false, stopped: false, multiplier: 1.0 });
        let (done_tx, done) = watch::channel(false);
        let start = Instant::now();
        let in_flight = Arc::new(Semaphore::new(spec.target.max_in_flight));
        let mut senders = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..WORKERS {
            let (tx, rx) = mpsc::unbounded_channel::<Job>();
            senders.push(tx);
            tasks.push(tokio::spawn(worker(rx, recorder.shard(), setup.target.clone(), factory.clone(), start)));
        }
        let min_gap = Duration::from_secs_f64(1.0 / spec.limits.max_tps);
        let dispatcher = tokio::spawn(dispatch(schedule, senders, in_flight, recorder.shard(), control_rx, start, min_gap));
        // `done` turns true when the dispatcher and every worker have ended.
        let all = tokio::spawn(async move {
            let _ = dispatcher.await;
            for t in tasks {
                let _ = t.await;
            }
            let _ = done_tx.send(true);
        });
        Ok(Self { profile, recorder, start, control, done, tasks: vec![all] })
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
        self.control.send_modify(|c| c.paused = true);
    }

    pub fn resume(&self) {
        self.control.send_modify(|c| c.paused = false);
    }

    pub fn set_multiplier(&self, m: f64) -> Result<(), OrchestratorError> {
        if !(m.is_finite() && m >= 0.0) {
            return Err(OrchestratorError::Load(format!("rate multiplier {m} must be a finite number of 0 or more")));
        }
        self.control.send_modify(|c| c.multiplier = m);
        Ok(())
    }

    /// No more arrivals; requests in flight finish (each within the target's timeout).
    pub fn stop(&self) {
        self.control.send_modify(|c| c.stopped = true);
    }

    /// Resolves when every arrival of the profile was sent and answered. Cancel-safe.
    pub async fn finished(&mut self) {
        let _ = self.done.wait_for(|d| *d).await;
    }

    /// Waits for every task of the load.
    pub async fn join(&mut self) -> Result<(), OrchestratorError> {
        for t in self.tasks.drain(..) {
            t.await.map_err(|e| OrchestratorError::Load(format!("a load task failed: {e}")))?;
        }
        Ok(())
    }

    /// Ends the metric interval at `now` (since the start).
    pub fn tick(&self, now: Duration) -> IntervalSnapshot {
        self.recorder.tick(now)
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        self.recorder.summary(elapsed)
    }
}

async fn dispatch(
    mut schedule: Schedule,
    workers: Vec<mpsc::UnboundedSender<Job>>,
    in_flight: Arc<Semaphore>,
    mut shard: Shard,
    mut control: watch::Receiver<Control>,
    start: Instant,
    min_gap: Duration,
) {
    let mut paused_total = Duration::ZERO;
    let mut multiplier = 1.0;
    let mut last_at: Option<Duration> = None;
    let mut n = 0usize;
    loop {
        let c = *control.borrow_and_update();
        if c.stopped {
            return;
        }
        if c.paused {
            let since = Instant::now();
            if control.wait_for(|c| !c.paused || c.stopped).await.is_err() {
                return;
            }
            paused_total += since.elapsed();
            continue;
        }
        if c.multiplier != multiplier {
            multiplier = c.multiplier;
            let pos = start.elapsed().saturating_sub(paused_total);
            let _ = schedule.set_multiplier_at(pos, multiplier);
        }
        let Some(arrival) = schedule.next() else {
            if multiplier == 0.0 {
                // Nothing planned until the multiplier rises again.
                if control.changed().await.is_err() {
                    return;
                }
                continue;
            }
            return;
        };
        let at = match last_at {
            Some(prev) => arrival.at.max(prev + min_gap),
            None => arrival.at,
        };
        last_at = Some(at);
        let due = start + paused_total + at;
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            _ = control.changed() => {
                // Paused or stopped while waiting: this arrival is sent after the pause (or not at all).
                let c = *control.borrow();
                if c.stopped {
                    return;
                }
                if c.paused {
                    let since = Instant::now();
                    if control.wait_for(|c| !c.paused || c.stopped).await.is_err() || control.borrow().stopped {
                        return;
                    }
                    paused_total += since.elapsed();
                }
                tokio::time::sleep_until(start + paused_total + at).await;
            }
        }
        let intended = start + paused_total + at;
        match in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let _ = workers[n % workers.len()].send((arrival.index, intended, permit));
                n += 1;
            }
            Err(_) => shard.record_dropped(),
        }
    }
}

type Done = (Timing, Transaction, GroundTruth, Result<models::Verdict, models::ErrorKind>);

async fn worker(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    mut shard: Shard,
    target: Arc<dyn Target>,
    factory: Arc<TransactionFactory>,
    start: Instant,
) {
    let mut running: JoinSet<Done> = JoinSet::new();
    let mut open = true;
    while open || !running.is_empty() {
        tokio::select! {
            job = jobs.recv(), if open => match job {
                Some((index, intended, permit)) => {
                    let (txn, truth) = factory.at(index);
                    let target = target.clone();
                    shard.record_sent();
                    running.spawn(async move {
                        let sent = Instant::now();
                        let result = target.score(&txn).await.map_err(|e| e.kind());
                        let completed = Instant::now();
                        drop(permit);
                        let timing = Timing::since(start.into_std(), intended.into_std(), sent.into_std(), completed.into_std());
                        (timing, txn, truth, result)
                    });
                }
                None => open = false,
            },
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((timing, txn, truth, result)) = done {
                    shard.record(timing, &txn, truth, result.as_ref().map_err(|k| *k));
                }
            }
        }
    }
}

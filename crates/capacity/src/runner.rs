//! [`StepRunner`]: the real [`Judge`]. Each step is one orchestrator run of two sustained stages at
//! the step's rate, `warmup` (excluded from judgement) then `measure`, into its own results folder
//! `steps/step-NN-<rate>tps-rK/` under the search's folder.
//!
//! **A fresh built-in target per step.** Targets are built by the orchestrator's
//! [`TargetFactory`], as for any run, so its rules (loopback, the driver timing every request) hold
//! for steps too. The built-in service (and the in-process pipeline) is prepared anew for every step,
//! on a free loopback port, and stopped by the step's run when it ends; an HTTP URL or an embedder's
//! target is set up once and shared by all steps (its connection pool too). Sharing
//! one built-in target was tried first and measured wrong: the orchestrator plays every run's
//! transaction stream from its first index with the stream clock starting over, so a detector that
//! remembers the previous steps sees each card's transactions again at overlapping times (velocity,
//! duplicates). Five 8 s steps at 500 then 4 × 1,000 TPS against one shared built-in target
//! (capacity 3,000) gave precision 0.97, 0.78, 0.61, 0.28, 0.15 with the same seed every step, and
//! 0.97, 0.70, 0.48, 0.36, 0.31 with a new seed every step (card ids are shared between seeds, their
//! owners are not); with a fresh target per step it stayed at 0.94 to 0.97 and recall at 0.58 to
//! 0.60. So every step starts from the same fresh detector with the same seed, and steps differ only
//! in their rate. (Each fresh built-in target first learns `target.warm_up` of card history from the
//! steps' stream, see the orchestrator's `warm_up`, so recall is that of a detector with history,
//! not of an empty card cache.)
//!
//! **Kill switch.** While a step runs, each tick's failure share (errors and drops over requests
//! due) is watched; a tick past `kill_error_rate` with at least `kill_min_requests` requests due stops
//! the step at once and marks it killed.

use crate::error::CapacityError;
use crate::figures::{StepFigures, tick_failure_share};
use crate::search::{Judge, Measurement, StepRequest};
use async_trait::async_trait;
use models::{IntervalSnapshot, ScenarioSpec, Stage, TargetInfo, TargetSpec};
use orchestrator::{
    EndReason, OrchestratorError, PreparedTarget, RunControl, RunOptions, StressTestOrchestrator,
    TargetFactory,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use targets::Target;
use tokio::sync::broadcast;

/// The system the steps load.
#[derive(Clone)]
pub enum TargetChoice {
    /// The target [`StepConfig::target`] names (its kind, URL and built-in capacity), built by the
    /// orchestrator's [`TargetFactory`] (see the module docs).
    Config,
    /// An embedder's target (tests: a model system with a known knee).
    Custom(Arc<dyn Target>),
}

impl std::fmt::Debug for TargetChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetChoice::Config => f.write_str("Config"),
            TargetChoice::Custom(t) => write!(f, "Custom({:?})", t.info()),
        }
    }
}

/// How each step is run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepConfig {
    /// Excluded from judgement.
    pub warmup: Duration,
    /// The measured stage.
    pub duration: Duration,
    /// Metric tick.
    pub tick: Duration,
    /// Seed of every step's transactions.
    pub seed: u64,
    /// Safety ceiling on the send rate of every step (`limits.max_tps`); the search's `max_tps` may
    /// not be above it ([`Judge::max_tps`]). Keep it well above the rates the search asks for (the
    /// default is the driver's, 60,000): a generator that stalls for a moment (a busy machine) sends
    /// the overdue arrivals in a burst, and a ceiling close to the step's rate sheds that burst.
    /// Measured here with the ceiling at the search's 8,000 TPS, in-process, load average 8 on 2
    /// cores: 5 to 7% of the arrivals of 3,000 TPS steps were shed, and the steps failed for the
    /// generator's hiccups, not the target's capacity.
    pub max_tps: f64,
    /// A tick whose failure share exceeds this stops the step at once.
    pub kill_error_rate: f64,
    /// ... when at least this many requests were due in the tick.
    pub kill_min_requests: u64,
    /// The target of [`TargetChoice::Config`] (kind, URL, built-in capacity), and the connections,
    /// timeout and in-flight bound of the load whatever the target.
    pub target: TargetSpec,
    /// Let an HTTP target leave the machine (off loopback).
    pub allow_remote: bool,
}

impl Default for StepConfig {
    fn default() -> Self {
        Self {
            warmup: Duration::from_secs(5),
            duration: Duration::from_secs(20),
            tick: Duration::from_secs(1),
            seed: 42,
            max_tps: 60_000.0,
            kill_error_rate: 0.5,
            kill_min_requests: 20,
            target: TargetSpec::default(),
            allow_remote: false,
        }
    }
}

impl StepConfig {
    pub fn validate(&self) -> Result<(), CapacityError> {
        if self.duration.is_zero() {
            return Err(CapacityError::Option {
                option: "step_duration",
                message: "must be longer than zero (for example 20s)".into(),
            });
        }
        if self.tick.is_zero() || self.tick > self.duration {
            return Err(CapacityError::Option {
                option: "tick",
                message: format!(
                    "{:?} must be above zero and no longer than the step",
                    self.tick
                ),
            });
        }
        Ok(())
    }
}

/// Stops the step in progress, recorded as interrupted (Ctrl+C); the search then ends.
#[derive(Debug, Clone)]
pub struct Interrupter {
    current: Arc<Mutex<Option<RunControl>>>,
    flag: Arc<AtomicBool>,
}

impl Interrupter {
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = current.as_ref() {
            let _ = c.interrupt();
        }
    }
}

/// Called with every tick of the step in progress.
pub type TickHook = Box<dyn FnMut(&StepRequest, &IntervalSnapshot) + Send + Sync>;

/// The target of the steps: prepared per step (built-in) or once for all (URL, custom).
enum Targets {
    PerStep(Box<TargetFactory>),
    Shared(Box<PreparedTarget>),
}

fn target_err(e: OrchestratorError) -> CapacityError {
    match e {
        OrchestratorError::Target(message) => CapacityError::Target(message),
        other => CapacityError::Target(other.to_string()),
    }
}

/// Runs steps through the orchestrator (see the module docs for the target's lifetime).
pub struct StepRunner {
    cfg: StepConfig,
    out_dir: PathBuf,
    targets: Targets,
    info: TargetInfo,
    current: Arc<Mutex<Option<RunControl>>>,
    interrupted: Arc<AtomicBool>,
    on_tick: Option<TickHook>,
}

impl std::fmt::Debug for StepRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepRunner")
            .field("cfg", &self.cfg)
            .field("out_dir", &self.out_dir)
            .field("target", &self.info)
            .finish_non_exhaustive()
    }
}

impl StepRunner {
    /// Checks the settings and the target (a URL must be on loopback unless `allow_remote`; the
    /// built-in settings must be valid) for steps written under `out_dir/steps/`. An HTTP target is
    /// set up here, once for all steps; a built-in one is started by each step.
    pub async fn start(
        choice: TargetChoice,
        cfg: StepConfig,
        out_dir: &Path,
    ) -> Result<Self, CapacityError> {
        cfg.validate()?;
        let (targets, info) = match choice {
            TargetChoice::Config => {
                // Built-in steps learn the steps' card history first (the same seed as each step).
                let factory = TargetFactory::new(&cfg.target, cfg.allow_remote)
                    .map_err(target_err)?
                    .with_history(cfg.seed);
                let info = factory.info();
                if factory.kind().is_builtin() {
                    (Targets::PerStep(Box::new(factory)), info)
                } else {
                    let shared = factory.prepare().await.map_err(target_err)?;
                    (Targets::Shared(Box::new(shared)), info)
                }
            }
            TargetChoice::Custom(t) => {
                let shared = PreparedTarget::custom(t, None);
                let info = shared.info.clone();
                (Targets::Shared(Box::new(shared)), info)
            }
        };
        Ok(Self {
            cfg,
            out_dir: out_dir.to_owned(),
            targets,
            info,
            current: Arc::new(Mutex::new(None)),
            interrupted: Arc::new(AtomicBool::new(false)),
            on_tick: None,
        })
    }

    /// The target of one step: a fresh built-in one (which the step's run stops), or the shared one.
    async fn step_target(&self) -> Result<PreparedTarget, CapacityError> {
        match &self.targets {
            Targets::PerStep(factory) => factory.prepare().await.map_err(target_err),
            Targets::Shared(shared) => Ok(shared.share()),
        }
    }

    /// Calls `hook` with every tick of the step in progress (progress display).
    pub fn on_tick(mut self, hook: TickHook) -> Self {
        self.on_tick = Some(hook);
        self
    }

    pub fn interrupter(&self) -> Interrupter {
        Interrupter {
            current: self.current.clone(),
            flag: self.interrupted.clone(),
        }
    }

    pub fn target_info(&self) -> &TargetInfo {
        &self.info
    }

    pub fn config(&self) -> &StepConfig {
        &self.cfg
    }

    /// Ends the runner: stops the shared target (a built-in one is already stopped after each step).
    pub async fn shutdown(self) -> Result<(), CapacityError> {
        match self.targets {
            Targets::Shared(shared) => (*shared).shutdown().await.map_err(target_err),
            Targets::PerStep(_) => Ok(()),
        }
    }

    /// The step's scenario: `warmup` then `measure`, both sustained at `tps`.
    pub fn step_spec(&self, step: &StepRequest) -> Result<ScenarioSpec, CapacityError> {
        let c = &self.cfg;
        let mut spec = orchestrator::timeline::plain(step.tps, c.duration).map_err(|e| {
            CapacityError::Step {
                tps: step.tps,
                run: step.run,
                message: e.to_string(),
            }
        })?;
        spec.name = format!("capacity-{}tps", step.tps);
        spec.description = format!(
            "capacity search step {}: {} TPS, run {}",
            step.index, step.tps, step.run
        );
        spec.seed = c.seed;
        let mut stages = Vec::new();
        if !c.warmup.is_zero() {
            stages.push(Stage::Sustained {
                tps: step.tps,
                duration: c.warmup,
                name: Some("warmup".into()),
            });
        }
        stages.push(Stage::Sustained {
            tps: step.tps,
            duration: c.duration,
            name: Some("measure".into()),
        });
        spec.load.stages = stages;
        spec.limits.max_tps = c.max_tps;
        spec.target = c.target.clone();
        Ok(spec)
    }

    /// Name of a step's folder under `steps/`.
    pub fn step_dir_name(step: &StepRequest) -> String {
        format!("step-{:02}-{}tps-r{}", step.index, step.tps, step.run)
    }
}

/// The step's ticks under run-files' policy (a damaged line is skipped), and a note naming any
/// skipped line so that the step's record says its figures miss it.
fn read_intervals(dir: &Path) -> Result<(Vec<IntervalSnapshot>, Option<String>), CapacityError> {
    let folder = run_files::Folder::new(dir);
    let path = folder.path(run_files::names::INTERVALS);
    let lines = folder
        .intervals()
        .map_err(|e| CapacityError::Read {
            path: e.path().to_owned(),
            message: e.to_string(),
        })?
        .ok_or_else(|| CapacityError::Read {
            path,
            message: "the step's run wrote no intervals.jsonl".into(),
        })?;
    let note = lines
        .is_damaged()
        .then(|| lines.notes(run_files::names::INTERVALS).join("; "));
    Ok((lines.items, note))
}

#[async_trait]
impl Judge for StepRunner {
    fn max_tps(&self) -> Option<f64> {
        Some(self.cfg.max_tps)
    }

    async fn measure(&mut self, step: &StepRequest) -> Result<Measurement, CapacityError> {
        if self.interrupted.load(Ordering::SeqCst) {
            return Ok(Measurement {
                interrupted: true,
                ..Measurement::default()
            });
        }
        let step_err = |message: String| CapacityError::Step {
            tps: step.tps,
            run: step.run,
            message,
        };
        let spec = self.step_spec(step)?;
        let rel = format!("steps/{}", Self::step_dir_name(step));
        let dir = self.out_dir.join(&rel);
        let options = RunOptions {
            out_dir: Some(dir.clone()),
            run_id: Some(format!("capacity-{}", Self::step_dir_name(step))),
            tick: self.cfg.tick,
            ..RunOptions::default()
        };
        let orch =
            StressTestOrchestrator::new(spec, options).map_err(|e| step_err(e.to_string()))?;
        let orch = orch.with_target(self.step_target().await?);
        let control = orch.control();
        let mut frames = control.subscribe_frames();
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(control.clone());
        // An interrupt that came while the step was being set up.
        if self.interrupted.load(Ordering::SeqCst) {
            let _ = control.interrupt();
        }
        let mut killed: Option<String> = None;
        let run = orch.run();
        tokio::pin!(run);
        let mut frames_open = true;
        let outcome = loop {
            tokio::select! {
                out = &mut run => break out,
                f = frames.recv(), if frames_open => match f {
                    Ok(tick) => {
                        if let Some(hook) = self.on_tick.as_mut() {
                            hook(step, &tick);
                        }
                        let share = tick_failure_share(&tick);
                        let due = tick.completed + tick.dropped;
                        if killed.is_none()
                            && due >= self.cfg.kill_min_requests
                            && share > self.cfg.kill_error_rate
                        {
                            killed = Some(format!(
                                "killed at {:.1} s: {:.1}% of the tick's {due} requests failed (kill threshold {:.0}%)",
                                tick.t_s,
                                share * 100.0,
                                self.cfg.kill_error_rate * 100.0
                            ));
                            let _ = control.stop();
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => frames_open = false,
                },
            }
        };
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let outcome = outcome.map_err(|e| step_err(e.to_string()))?;
        let (ticks, damaged) = read_intervals(&dir)?;
        let figures = StepFigures::measured(
            step.tps,
            &ticks,
            &outcome.summary,
            self.cfg.warmup.as_secs_f64(),
            (self.cfg.warmup + self.cfg.duration).as_secs_f64(),
        );
        let interrupted =
            outcome.end_reason == EndReason::Interrupted || self.interrupted.load(Ordering::SeqCst);
        Ok(Measurement {
            figures,
            killed: killed.is_some(),
            interrupted,
            dir: Some(rel),
            note: match (killed, damaged) {
                (Some(k), Some(d)) => Some(format!("{k}; {d}")),
                (k, d) => k.or(d),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Phase;
    use models::TargetKind;

    fn step() -> StepRequest {
        StepRequest {
            index: 1,
            tps: 100.0,
            run: 1,
            phase: Phase::Growth,
        }
    }

    fn out_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("capacity-runner-{name}-{}", std::process::id()))
    }

    /// The HTTP target of a step has no timer of its own; the step's driver enforces the timeout.
    fn assert_driver_timed(runner: &StepRunner, prepared: &PreparedTarget) {
        let http = prepared.http_config().expect("an HTTP target");
        assert!(!http.enforce_timeout, "{http:?}");
        let spec = runner.step_spec(&step()).unwrap();
        assert_eq!(spec.target.timeout, http.timeout, "the driver's timeout");
    }

    #[tokio::test]
    async fn built_in_http_steps_are_fresh_and_driver_timed_like_runs() {
        let runner = StepRunner::start(TargetChoice::Config, StepConfig::default(), &out_dir("b"))
            .await
            .unwrap();
        assert_eq!(
            runner.target_info(),
            &TargetInfo::new(TargetKind::Builtin, None)
        );
        let a = runner.step_target().await.unwrap();
        let b = runner.step_target().await.unwrap();
        assert_ne!(a.info.url, b.info.url, "a new built-in service per step");
        assert_driver_timed(&runner, &a);
        assert_driver_timed(&runner, &b);
        a.shutdown().await.unwrap();
        b.shutdown().await.unwrap();
        runner.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn url_steps_share_one_driver_timed_target() {
        let url = "http://127.0.0.1:9/v1/score";
        let cfg = StepConfig {
            target: TargetSpec {
                kind: TargetKind::Http,
                url: Some(url.into()),
                ..TargetSpec::default()
            },
            ..StepConfig::default()
        };
        let runner = StepRunner::start(TargetChoice::Config, cfg, &out_dir("u"))
            .await
            .unwrap();
        let a = runner.step_target().await.unwrap();
        let b = runner.step_target().await.unwrap();
        assert!(Arc::ptr_eq(&a.target, &b.target), "one pool for all steps");
        assert_eq!(a.info, TargetInfo::new(TargetKind::Http, Some(url.into())));
        assert_driver_timed(&runner, &a);
        runner.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn an_off_loopback_url_is_refused_unless_allowed() {
        let mut cfg = StepConfig {
            target: TargetSpec {
                kind: TargetKind::Http,
                url: Some("http://192.0.2.1/v1/score".into()),
                ..TargetSpec::default()
            },
            ..StepConfig::default()
        };
        let refused = StepRunner::start(TargetChoice::Config, cfg.clone(), &out_dir("r")).await;
        assert!(
            matches!(refused, Err(CapacityError::Target(_))),
            "{refused:?}"
        );
        cfg.allow_remote = true;
        let runner = StepRunner::start(TargetChoice::Config, cfg, &out_dir("r"))
            .await
            .unwrap();
        runner.shutdown().await.unwrap();
    }
}

//! [`StepRunner`]: the real [`Judge`]. Each step is one orchestrator run of two sustained stages at
//! the step's rate, `warmup` (excluded from judgement) then `measure`, into its own results folder
//! `steps/step-NN-<rate>tps-rK/` under the search's folder.
//!
//! **A fresh built-in target per step.** The built-in service (and the in-process pipeline) is
//! started anew for every step, on a free loopback port, and stopped when the step ends; an HTTP URL
//! or an embedder's target is set up once and shared by all steps (its connection pool too). Sharing
//! one built-in target was tried first and measured wrong: the orchestrator plays every run's
//! transaction stream from its first index with the stream clock starting over, so a detector that
//! remembers the previous steps sees each card's transactions again at overlapping times (velocity,
//! duplicates). Five 8 s steps at 500 then 4 × 1,000 TPS against one shared built-in target
//! (capacity 3,000) gave precision 0.97, 0.78, 0.61, 0.28, 0.15 with the same seed every step, and
//! 0.97, 0.70, 0.48, 0.36, 0.31 with a new seed every step (card ids are shared between seeds, their
//! owners are not); with a fresh target per step it stayed at 0.94 to 0.97 and recall at 0.58 to
//! 0.60. So every step starts from the same cold detector with the same seed, and steps differ only
//! in their rate. (Recall is that of a cold detector, about 0.6: the built-in rules need card history,
//! see fraud-sim's docs. A `recall>0.9` clause therefore fails at every rate on the built-in target.)
//!
//! **Kill switch.** While a step runs, each tick's failure share (errors and drops over requests
//! due) is watched; a tick past `kill_error_rate` with at least `kill_min_requests` requests due stops
//! the step at once and marks it killed.

use crate::error::CapacityError;
use crate::figures::{StepFigures, tick_failure_share};
use crate::search::{Judge, Measurement, StepRequest};
use async_trait::async_trait;
use fraud_sim::{FraudSim, Pipeline, SimConfig};
use models::{IntervalSnapshot, ScenarioSpec, Stage, TargetInfo, TargetSpec};
use orchestrator::{EndReason, PreparedTarget, RunControl, RunOptions, StressTestOrchestrator};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig, Target};
use tokio::sync::broadcast;

/// The system the steps load.
#[derive(Clone)]
pub enum TargetChoice {
    /// The reference service served over loopback HTTP; `capacity` in TPS (default 5,500).
    Builtin { capacity: Option<f64> },
    /// The reference pipeline called in-process.
    InProcess { capacity: Option<f64> },
    /// Any HTTP scoring endpoint; refused off loopback unless `allow_remote`.
    Url { url: String, allow_remote: bool },
    /// An embedder's target (tests: a model system with a known knee).
    Custom(Arc<dyn Target>),
}

impl std::fmt::Debug for TargetChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetChoice::Builtin { capacity } => write!(f, "Builtin({capacity:?})"),
            TargetChoice::InProcess { capacity } => write!(f, "InProcess({capacity:?})"),
            TargetChoice::Url { url, .. } => write!(f, "Url({url})"),
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
    /// Safety ceiling on the send rate of every step (`limits.max_tps`).
    pub max_tps: f64,
    /// A tick whose failure share exceeds this stops the step at once.
    pub kill_error_rate: f64,
    /// ... when at least this many requests were due in the tick.
    pub kill_min_requests: u64,
    /// Connections, timeout and in-flight bound of the load (kind and URL come from the target).
    pub target: TargetSpec,
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
        }
    }
}

impl StepConfig {
    pub fn validate(&self) -> Result<(), CapacityError> {
        if self.duration.is_zero() {
            return Err(CapacityError::Option {
                option: "--step-duration",
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

/// The target of the steps: started per step (built-in) or shared (URL, custom).
enum Targets {
    PerStep { capacity: Option<f64>, http: bool },
    Shared(Arc<dyn Target>),
}

/// One step's target and what to stop after it.
struct StepTarget {
    target: Arc<dyn Target>,
    info: TargetInfo,
    server: Option<FraudSim>,
}

impl StepTarget {
    async fn stop(self) -> Result<(), CapacityError> {
        drop(self.target);
        if let Some(sim) = self.server {
            sim.shutdown()
                .await
                .map_err(|e| CapacityError::Target(format!("stopping the built-in target: {e}")))?;
        }
        Ok(())
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

fn sim_config(capacity: Option<f64>) -> SimConfig {
    let mut c = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    if let Some(cap) = capacity {
        c.capacity = cap;
    }
    c
}

impl StepRunner {
    /// Checks the settings and the target (a URL must be on loopback unless `allow_remote`; the
    /// built-in settings must be valid) for steps written under `out_dir/steps/`.
    pub async fn start(
        choice: TargetChoice,
        cfg: StepConfig,
        out_dir: &Path,
    ) -> Result<Self, CapacityError> {
        cfg.validate()?;
        let target_err = |e: &dyn std::fmt::Display| CapacityError::Target(e.to_string());
        let (targets, info) = match choice {
            TargetChoice::Builtin { capacity } | TargetChoice::InProcess { capacity } => {
                let http = matches!(choice, TargetChoice::Builtin { .. });
                sim_config(capacity)
                    .validate()
                    .map_err(|e| CapacityError::Option {
                        option: "--capacity",
                        message: e.to_string(),
                    })?;
                let info = TargetInfo {
                    kind: if http { "builtin" } else { "in_process" }.into(),
                    url: None,
                };
                (Targets::PerStep { capacity, http }, info)
            }
            TargetChoice::Url { url, allow_remote } => {
                targets::check_loopback(&url, allow_remote).map_err(|e| target_err(&e))?;
                let http =
                    HttpTarget::new(HttpTargetConfig::from_spec(&cfg.target, &url, allow_remote))
                        .map_err(|e| target_err(&e))?;
                let info = TargetInfo {
                    kind: "http".into(),
                    url: Some(url),
                };
                (Targets::Shared(Arc::new(http)), info)
            }
            TargetChoice::Custom(t) => {
                let info = t.info();
                (Targets::Shared(t), info)
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

    /// The target of one step: a fresh built-in one, or the shared one.
    async fn step_target(&self) -> Result<StepTarget, CapacityError> {
        match &self.targets {
            Targets::Shared(t) => Ok(StepTarget {
                target: t.clone(),
                info: self.info.clone(),
                server: None,
            }),
            Targets::PerStep {
                capacity,
                http: false,
            } => {
                let pipeline = Pipeline::new(&sim_config(*capacity))
                    .map_err(|e| CapacityError::Target(e.to_string()))?;
                Ok(StepTarget {
                    target: Arc::new(pipeline),
                    info: self.info.clone(),
                    server: None,
                })
            }
            Targets::PerStep {
                capacity,
                http: true,
            } => {
                let sim = FraudSim::start(sim_config(*capacity)).await.map_err(|e| {
                    CapacityError::Target(format!("starting the built-in target: {e}"))
                })?;
                let url = sim.score_url();
                let http =
                    HttpTarget::new(HttpTargetConfig::from_spec(&self.cfg.target, &url, false))
                        .map_err(|e| CapacityError::Target(e.to_string()))?;
                Ok(StepTarget {
                    target: Arc::new(http),
                    info: TargetInfo {
                        kind: "builtin".into(),
                        url: Some(url),
                    },
                    server: Some(sim),
                })
            }
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

    /// Ends the runner (a built-in target is already stopped after each step).
    pub async fn shutdown(self) -> Result<(), CapacityError> {
        Ok(())
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

fn read_intervals(path: &Path) -> Result<Vec<IntervalSnapshot>, CapacityError> {
    let text = std::fs::read_to_string(path).map_err(|e| CapacityError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    // A truncated last line (a crash) is skipped; every other line must read.
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(t) => out.push(t),
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(CapacityError::Read {
                    path: path.to_owned(),
                    message: format!("line {}: {e}", i + 1),
                });
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl Judge for StepRunner {
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
        let target = self.step_target().await?;
        let mut prepared = PreparedTarget::custom(target.target.clone(), None);
        prepared.info = target.info.clone();
        let orch = orch.with_target(prepared);
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
        let stopped = target.stop().await;
        let outcome = outcome.map_err(|e| step_err(e.to_string()))?;
        stopped?;
        let ticks = read_intervals(&dir.join(orchestrator::results::INTERVALS))?;
        let figures = StepFigures::measured(
            step.tps,
            &ticks,
            &outcome.summary,
            self.cfg.warmup.as_secs_f64(),
        );
        let interrupted =
            outcome.end_reason == EndReason::Interrupted || self.interrupted.load(Ordering::SeqCst);
        Ok(Measurement {
            figures,
            killed: killed.is_some(),
            interrupted,
            dir: Some(rel),
            note: killed,
        })
    }
}

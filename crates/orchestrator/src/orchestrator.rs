//! [`StressTestOrchestrator`]: one run of one scenario, from setup to the results folder.

use crate::control::{self, Command, ControlPorts, Outlets, RunControl};
use crate::criteria;
use crate::error::OrchestratorError;
use crate::histogram;
use crate::load::{LoadRun, LoadSetup};
use crate::resilience::{self, FaultWindow};
use crate::results::{self, ResultsWriter};
use crate::state_machine::StateMachine;
use crate::target_setup::{self, PreparedTarget};
use crate::timeline;
use failure_injection::{
    AbortMonitor, AdaptiveController, AlertMonitor, DegradationTracker, FaultId, Injector,
    WebhookConfig, WebhookNotifier,
};
use models::{
    DegradationLevel, EventKind, FaultSpec, IntervalSnapshot, RunEvent, RunState, ScenarioSpec,
    Summary,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How a run is carried out (the scenario says what is run).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Results folder; `None` means `<results_root>/<run_id>`.
    pub out_dir: Option<PathBuf>,
    pub results_root: PathBuf,
    /// `None` makes one: `YYYYMMDD-HHMMSS-<scenario>-<4 hex>`.
    pub run_id: Option<String>,
    /// Metric tick.
    pub tick: Duration,
    /// Start at once; otherwise wait for [`RunControl::start`].
    pub auto_start: bool,
    /// Let an `http` target leave the machine.
    pub allow_remote: bool,
    /// Put an `http` target behind the fault-injecting proxy even when the scenario schedules no
    /// fault, so that faults can be injected by hand (it always is when faults are scheduled).
    pub fault_proxy: bool,
    /// Send only this share of the schedule (a worker of a distributed run; see `docs/distributed.md`).
    /// `None`: the whole run.
    pub segment: Option<load_profiles::Segment>,
    /// Start the load at this wall-clock instant (the common start of a distributed run's workers);
    /// at most an hour ahead. `None`: at once.
    pub start_at: Option<SystemTime>,
    /// Write `ids.txt` (index and id of every sent transaction) into the results folder.
    pub record_ids: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            out_dir: None,
            results_root: PathBuf::from("results"),
            run_id: None,
            tick: Duration::from_secs(1),
            auto_start: true,
            allow_remote: false,
            fault_proxy: false,
            segment: None,
            start_at: None,
            record_ids: false,
        }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum EndReason {
    /// The profile ran to its end.
    Completed,
    /// [`RunControl::stop`].
    Stopped,
    /// [`RunControl::interrupt`] (Ctrl+C).
    Interrupted,
    /// An `abort_on_fail` criterion failed.
    Aborted(String),
    /// The cost model's running cost reached the budget.
    Budget,
    /// `limits.max_duration` passed.
    MaxDuration,
}

impl EndReason {
    pub fn as_text(&self) -> String {
        match self {
            EndReason::Completed => "completed".into(),
            EndReason::Stopped => "stopped".into(),
            EndReason::Interrupted => "interrupted".into(),
            EndReason::Aborted(name) => format!("aborted: {name}"),
            EndReason::Budget => "budget".into(),
            EndReason::MaxDuration => "max_duration".into(),
        }
    }
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub summary: Summary,
    pub dir: PathBuf,
    pub end_reason: EndReason,
}

impl RunOutcome {
    /// 0 passed, 1 criteria failed or ended early, 130 interrupted.
    pub fn exit_code(&self) -> u8 {
        match (&self.end_reason, self.summary.passed) {
            (EndReason::Interrupted, _) => 130,
            (_, true) => 0,
            _ => 1,
        }
    }
}

/// One run of a scenario: an explicit state machine (see [`crate::state_machine`]), a control handle,
/// event and frame streams, and the results folder.
pub struct StressTestOrchestrator {
    spec: ScenarioSpec,
    options: RunOptions,
    control: RunControl,
    ports: ControlPorts,
    target: Option<PreparedTarget>,
    layer: Option<TargetLayer>,
}

/// Wraps the run's target once it is set up, for example to observe every call (the X-Ray segment
/// emitter) or to add behaviour in front of it. The layer sees the same calls the driver makes.
pub type TargetLayer =
    Box<dyn FnOnce(Arc<dyn targets::Target>) -> Arc<dyn targets::Target> + Send + Sync>;

impl std::fmt::Debug for StressTestOrchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StressTestOrchestrator")
            .field("scenario", &self.spec.name)
            .field("options", &self.options)
            .finish()
    }
}

struct Active {
    spec: FaultSpec,
    stage: Option<String>,
    start_s: f64,
    end_s: f64,
    /// The injector's handle; `None` when the fault is only marked on the timeline.
    id: Option<FaultId>,
}

impl StressTestOrchestrator {
    /// A run of `spec` (already scaled or cut as wanted, see [`crate::timeline`]); checks it first.
    pub fn new(spec: ScenarioSpec, options: RunOptions) -> Result<Self, OrchestratorError> {
        crate::scenario_file::validate(&spec).map_err(|(field, message)| {
            OrchestratorError::Scenario(crate::ScenarioError::Invalid {
                file: format!("scenario {}", spec.name),
                position: None,
                field,
                message,
            })
        })?;
        let (control, ports) = control::channel();
        Ok(Self {
            spec,
            options,
            control,
            ports,
            target: None,
            layer: None,
        })
    }

    /// Runs against a target of the caller's instead of the scenario's `[target]`.
    pub fn with_target(mut self, target: PreparedTarget) -> Self {
        self.target = Some(target);
        self
    }

    /// Wraps the target (the scenario's or the caller's) in `layer` once it is set up.
    pub fn with_target_layer(mut self, layer: TargetLayer) -> Self {
        self.layer = Some(layer);
        self
    }

    pub fn control(&self) -> RunControl {
        self.control.clone()
    }

    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// Carries out the run and writes its results. Criteria failing is not an error: see
    /// [`RunOutcome::exit_code`].
    pub async fn run(self) -> Result<RunOutcome, OrchestratorError> {
        let Self {
            spec,
            options,
            control: _,
            ports,
            target,
            layer,
        } = self;
        let ControlPorts { mut commands, out } = ports;
        let mut sm = StateMachine::new();
        let run_id = options
            .run_id
            .clone()
            .unwrap_or_else(|| results::run_id(&spec.name, SystemTime::now()));
        let dir = options
            .out_dir
            .clone()
            .unwrap_or_else(|| options.results_root.join(&run_id));

        let mut cancelled = None;
        if !options.auto_start {
            cancelled = loop {
                match commands.recv().await {
                    Some(Command::Start) => break None,
                    Some(Command::Stop) | None => break Some(EndReason::Stopped),
                    Some(Command::Interrupt) => break Some(EndReason::Interrupted),
                    Some(_) => continue,
                }
            };
        }
        let writer = ResultsWriter::create(&dir)?;
        let mut emitter = Emitter {
            out: &out,
            writer: &writer,
        };
        emitter.transition(&mut sm, RunState::Initializing, 0.0)?;
        if let Some(reason) = cancelled {
            // Stopped before it started: no load, but a complete (empty) results folder.
            emitter.transition(&mut sm, RunState::Stopping, 0.0)?;
            emitter.transition(&mut sm, RunState::Completed, 0.0)?;
            let summary = Summary {
                run_id,
                scenario: spec.name.clone(),
                seed: spec.seed,
                started_at: results::rfc3339(SystemTime::now()),
                end_reason: reason.as_text(),
                ..Summary::default()
            };
            writer
                .finish(
                    &summary,
                    histogram::percentile_distribution_ms(&histogram::empty()),
                )
                .await?;
            return Ok(RunOutcome {
                summary,
                dir,
                end_reason: reason,
            });
        }

        let setup = async {
            let target = match target {
                Some(t) => t,
                None if options.fault_proxy || !spec.faults.is_empty() => {
                    target_setup::prepare_with_proxy(&spec.target, options.allow_remote, spec.seed)
                        .await?
                }
                None => target_setup::prepare(&spec.target, options.allow_remote).await?,
            };
            let mut target = target;
            if let Some(layer) = layer {
                target.target = layer(target.target);
            }
            let late =
                crate::load::wait_for_start(options.start_at, spec.load.total_duration()).await?;
            let load = LoadRun::start(LoadSetup {
                spec: &spec,
                target: target.target.clone(),
                segment: options.segment.unwrap_or_default(),
                dir: &dir,
                record_ids: options.record_ids,
            })?;
            if let Some(late) = late {
                emitter.emit(
                    0.0,
                    EventKind::Message {
                        text: format!(
                            "started {:.3} s after the common start time",
                            late.as_secs_f64()
                        ),
                    },
                );
            }
            Ok::<_, OrchestratorError>((target, load))
        }
        .await;
        let (target, load) = match setup {
            Ok(x) => x,
            Err(e) => {
                emitter.emit(
                    0.0,
                    EventKind::Message {
                        text: format!("setup failed: {e}"),
                    },
                );
                emitter.transition(&mut sm, RunState::Failed, 0.0)?;
                let summary = Summary {
                    run_id,
                    scenario: spec.name.clone(),
                    seed: spec.seed,
                    end_reason: format!("failed: {e}"),
                    ..Summary::default()
                };
                let _ = writer
                    .finish(
                        &summary,
                        histogram::percentile_distribution_ms(&histogram::empty()),
                    )
                    .await;
                return Err(e);
            }
        };
        let started_at = results::rfc3339(SystemTime::now());
        let load_start = load.started_at();
        let r = &spec.resilience;
        let webhook = match &r.webhook {
            Some(url) => match WebhookNotifier::start(WebhookConfig {
                url: url.clone(),
                allow_remote: options.allow_remote,
                ..WebhookConfig::default()
            }) {
                Ok(w) => Some(w),
                Err(e) => {
                    emitter.emit(
                        0.0,
                        EventKind::Message {
                            text: format!("alerts will not be posted to the webhook: {e}"),
                        },
                    );
                    None
                }
            },
            None => None,
        };
        let mut alerts = AlertMonitor::new(resilience::alert_thresholds(r));
        alerts.set_cost_budget(spec.limits.budget);
        let mut run = Running {
            spec: &spec,
            tick: options.tick,
            load,
            injector: target.faults.clone(),
            start: load_start,
            paused_at: None,
            paused_total: Duration::ZERO,
            multiplier: 1.0,
            adaptive_multiplier: 1.0,
            stage: None,
            ticks: Vec::new(),
            tracker: DegradationTracker::new(resilience::degradation_thresholds(r)),
            alerts,
            adaptive: resilience::adaptive(r).map(AdaptiveController::new),
            harm: AbortMonitor::new(resilience::abort_thresholds(r)),
            webhook,
            level: DegradationLevel::None,
            schedule: spec.faults.clone(),
            active: Vec::new(),
            finished: Vec::new(),
            budget_warned: false,
            abort: criteria::AbortWatch::new(&spec.criteria),
            sampler: metrics_core::ResourceSampler::new(None).ok(),
        };
        let peak = timeline::peak_tps(&spec.load);
        if peak > spec.limits.max_tps {
            emitter.emit(0.0, EventKind::Message {
                text: format!("the profile peaks at {peak:.0} TPS, above the {:.0} TPS ceiling: the rate is capped", spec.limits.max_tps),
            });
        }
        let end_reason = run.drive(&mut sm, &mut emitter, &mut commands).await;
        let result = run
            .finish(
                &mut sm,
                &mut emitter,
                end_reason,
                run_id.clone(),
                started_at,
                target.info.clone(),
            )
            .await;
        if let Some(w) = run.webhook.take() {
            let stats = w.shutdown().await;
            if stats.failed + stats.dropped > 0 {
                emitter.emit(
                    run.now_s(),
                    EventKind::Message {
                        text: format!(
                            "webhook: {} alerts delivered, {} failed, {} dropped (queue full){}",
                            stats.delivered,
                            stats.failed,
                            stats.dropped,
                            stats
                                .last_error
                                .map(|e| format!("; last error: {e}"))
                                .unwrap_or_default()
                        ),
                    },
                );
            }
        }
        let shutdown = target.shutdown().await;
        let (summary, hgrm, end_reason) = match result {
            Ok(x) => x,
            Err(e) => {
                let summary = Summary {
                    run_id,
                    scenario: spec.name.clone(),
                    seed: spec.seed,
                    end_reason: format!("failed: {e}"),
                    ..Summary::default()
                };
                let _ = writer
                    .finish(
                        &summary,
                        histogram::percentile_distribution_ms(&histogram::empty()),
                    )
                    .await;
                return Err(e);
            }
        };
        if let Err(e) = shutdown {
            emitter.emit(
                summary.duration_s,
                EventKind::Message {
                    text: e.to_string(),
                },
            );
        }
        writer.finish(&summary, hgrm).await?;
        Ok(RunOutcome {
            summary,
            dir,
            end_reason,
        })
    }
}

/// Sends events to subscribers and the results writer, and keeps the state channel current.
struct Emitter<'a> {
    out: &'a Outlets,
    writer: &'a ResultsWriter,
}

impl Emitter<'_> {
    fn emit(&mut self, t_s: f64, kind: EventKind) {
        let ev = RunEvent { t_s, kind };
        self.writer.event(&ev);
        let _ = self.out.events.send(ev);
    }

    fn transition(
        &mut self,
        sm: &mut StateMachine,
        to: RunState,
        t_s: f64,
    ) -> Result<(), OrchestratorError> {
        let ev = sm.transition(to, t_s)?;
        self.out.state.send_replace(to);
        self.emit(ev.t_s, ev.kind);
        Ok(())
    }

    fn frame(&mut self, s: &IntervalSnapshot) {
        self.writer.tick(s);
        let _ = self.out.frames.send(s.clone());
        self.out.latest.send_replace(Some(s.clone()));
    }
}

/// The state of a run between its start and its end.
struct Running<'a> {
    spec: &'a ScenarioSpec,
    tick: Duration,
    load: LoadRun,
    injector: Option<Arc<dyn Injector>>,
    start: Instant,
    paused_at: Option<Instant>,
    paused_total: Duration,
    /// Set by hand (control handle).
    multiplier: f64,
    /// Set by the adaptive mode; the load runs at `multiplier × adaptive_multiplier`.
    adaptive_multiplier: f64,
    stage: Option<usize>,
    ticks: Vec<IntervalSnapshot>,
    tracker: DegradationTracker,
    alerts: AlertMonitor,
    adaptive: Option<AdaptiveController>,
    /// Abort rules of `[resilience]`: stop a run that only does harm.
    harm: AbortMonitor,
    webhook: Option<WebhookNotifier>,
    level: DegradationLevel,
    /// Scheduled faults not started yet.
    schedule: Vec<FaultSpec>,
    active: Vec<Active>,
    finished: Vec<FaultWindow>,
    budget_warned: bool,
    abort: criteria::AbortWatch,
    sampler: Option<metrics_core::ResourceSampler>,
}

impl Running<'_> {
    /// Seconds since the start, on the wall clock of the run.
    fn now_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Position on the scenario's timeline: wall time minus time spent paused.
    fn timeline_pos(&self) -> Duration {
        let paused_now = self.paused_at.map_or(Duration::ZERO, |p| p.elapsed());
        self.start
            .elapsed()
            .saturating_sub(self.paused_total + paused_now)
    }

    /// The state the current stage calls for.
    fn stage_state(&self) -> RunState {
        match timeline::stage_at(&self.spec.load, self.timeline_pos()) {
            Some((i, _)) if timeline::is_ramp_up(&self.spec.load.stages[i]) => RunState::RampingUp,
            _ => RunState::Running,
        }
    }

    fn planned_tps(&self) -> f64 {
        let rate = self.load.rate_at(self.timeline_pos());
        (rate * self.multiplier * self.adaptive_multiplier).min(self.spec.limits.max_tps)
    }

    /// Sends an event to subscribers, the results and (alerts only) the webhook.
    fn emit(&self, em: &mut Emitter<'_>, t: f64, kind: EventKind) {
        if let Some(w) = &self.webhook
            && matches!(
                kind,
                EventKind::AlertRaised { .. } | EventKind::AlertCleared { .. }
            )
        {
            w.notify_alerts(t, std::slice::from_ref(&kind));
        }
        em.emit(t, kind);
    }

    /// The next timeline position at which a fault starts or ends or a stage begins.
    fn next_edge(&self) -> Option<Duration> {
        let starts = self.schedule.iter().map(|f| f.at);
        let ends = self.active.iter().map(|a| Duration::from_secs_f64(a.end_s));
        let pos = self.timeline_pos();
        let stage = timeline::stage_at(&self.spec.load, pos)
            .map(|(i, start)| start + self.spec.load.stages[i].duration())
            .filter(|end| *end > pos && *end < self.spec.load.total_duration());
        starts.chain(ends).chain(stage).min()
    }

    /// Moves to the state the current stage calls for (unless paused) and announces a new phase.
    fn follow_stage(&mut self, sm: &mut StateMachine, em: &mut Emitter<'_>, t: f64) {
        if sm.state() != RunState::Paused {
            let want = self.stage_state();
            if sm.state() != want
                && let Err(e) = em.transition(sm, want, t)
            {
                em.emit(
                    t,
                    EventKind::Message {
                        text: e.to_string(),
                    },
                );
            }
        }
        self.enter_stage(em, t);
    }

    async fn drive(
        &mut self,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
        commands: &mut tokio::sync::mpsc::UnboundedReceiver<Command>,
    ) -> EndReason {
        self.start = self.load.started_at();
        let first = self.stage_state();
        if let Err(e) = em.transition(sm, first, 0.0) {
            em.emit(
                0.0,
                EventKind::Message {
                    text: e.to_string(),
                },
            );
        }
        self.enter_stage(em, 0.0);
        let mut ticker = tokio::time::interval_at(self.start + self.tick, self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = self.start + self.spec.limits.max_duration;
        loop {
            let edge = self.next_edge().filter(|_| self.paused_at.is_none());
            let edge_at = edge.map(|e| self.start + self.paused_total + e);
            tokio::select! {
                _ = ticker.tick() => {
                    if let Some(reason) = self.on_tick(sm, em) {
                        return reason;
                    }
                }
                cmd = commands.recv() => {
                    if let Some(reason) = self.on_command(cmd, sm, em).await {
                        return reason;
                    }
                }
                _ = async { tokio::time::sleep_until(edge_at.unwrap_or(deadline)).await }, if edge_at.is_some() => {
                    self.fault_edges(em).await;
                    let t = self.now_s();
                    self.follow_stage(sm, em, t);
                }
                () = self.load.finished() => return EndReason::Completed,
                _ = tokio::time::sleep_until(deadline) => return EndReason::MaxDuration,
            }
        }
    }

    fn enter_stage(&mut self, em: &mut Emitter<'_>, t: f64) {
        let pos = self.timeline_pos();
        if let Some((i, _)) = timeline::stage_at(&self.spec.load, pos)
            && self.stage != Some(i)
        {
            self.stage = Some(i);
            let stage = &self.spec.load.stages[i];
            let name = stage
                .name()
                .map_or_else(|| format!("{}-{}", stage.shape(), i + 1), str::to_owned);
            em.emit(t, EventKind::PhaseStarted { name });
        }
    }

    fn phase_name(&self) -> Option<String> {
        let (i, _) = timeline::stage_at(&self.spec.load, self.timeline_pos())?;
        let stage = &self.spec.load.stages[i];
        Some(
            stage
                .name()
                .map_or_else(|| format!("{}-{}", stage.shape(), i + 1), str::to_owned),
        )
    }

    async fn on_command(
        &mut self,
        cmd: Option<Command>,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
    ) -> Option<EndReason> {
        let t = self.now_s();
        let refuse = |em: &mut Emitter<'_>, e: &dyn std::fmt::Display| {
            em.emit(
                t,
                EventKind::Message {
                    text: format!("control request refused: {e}"),
                },
            );
        };
        match cmd {
            // Every handle dropped: nobody can stop the run any more, so it runs to its end.
            None => {}
            Some(Command::Start) => {}
            Some(Command::Stop) => return Some(EndReason::Stopped),
            Some(Command::Interrupt) => return Some(EndReason::Interrupted),
            Some(Command::Pause) => match em.transition(sm, RunState::Paused, t) {
                Ok(()) => {
                    self.load.pause();
                    self.paused_at = Some(Instant::now());
                }
                Err(e) => refuse(em, &e),
            },
            Some(Command::Resume) => {
                if sm.state() != RunState::Paused {
                    refuse(
                        em,
                        &format!("resume: the run is {}, not paused", sm.state()),
                    );
                } else if let Some(p) = self.paused_at.take() {
                    self.paused_total += p.elapsed();
                    self.load.resume();
                    let to = self.stage_state();
                    if let Err(e) = em.transition(sm, to, t) {
                        refuse(em, &e);
                    }
                }
            }
            Some(Command::SetRateMultiplier(m)) => {
                match self.load.set_multiplier(m * self.adaptive_multiplier) {
                    Ok(()) => {
                        self.multiplier = m;
                        em.emit(t, EventKind::RateMultiplier { value: m });
                    }
                    Err(e) => refuse(em, &e),
                }
            }
            Some(Command::InjectFault(mut f)) => {
                f.at = self.timeline_pos();
                self.start_fault(f, em).await;
            }
        }
        None
    }

    async fn start_fault(&mut self, spec: FaultSpec, em: &mut Emitter<'_>) {
        let t = self.now_s();
        let stage = spec.stage.clone().or_else(|| {
            failure_injection::default_stage(spec.kind)
                .filter(|_| {
                    self.injector
                        .as_ref()
                        .is_some_and(|i| i.name() == "builtin")
                })
                .map(str::to_owned)
        });
        let id = match &self.injector {
            Some(inj) => match inj.apply(&spec).await {
                Ok(id) => Some(id),
                Err(e) => {
                    em.emit(
                        t,
                        EventKind::Message {
                            text: format!("{e}; the fault is only marked on the timeline"),
                        },
                    );
                    None
                }
            },
            None => {
                em.emit(
                    t,
                    EventKind::Message {
                        text: format!(
                            "fault {} is not carried out: this target has no injector (an embedder's \
                             target without one); it is only marked on the timeline",
                            spec.kind
                        ),
                    },
                );
                None
            }
        };
        em.emit(
            t,
            EventKind::FaultStarted {
                fault: spec.kind,
                stage: stage.clone(),
            },
        );
        let end = spec.at + spec.duration;
        self.active.push(Active {
            stage,
            start_s: t,
            end_s: end.as_secs_f64(),
            spec,
            id,
        });
    }

    async fn end_fault(&mut self, a: Active, em: &mut Emitter<'_>) {
        let t = self.now_s();
        if let (Some(id), Some(inj)) = (a.id, &self.injector)
            && let Err(e) = inj.clear(id).await
        {
            em.emit(
                t,
                EventKind::Message {
                    text: e.to_string(),
                },
            );
        }
        em.emit(
            t,
            EventKind::FaultEnded {
                fault: a.spec.kind,
                stage: a.stage.clone(),
            },
        );
        self.finished.push(FaultWindow {
            kind: a.spec.kind,
            stage: a.stage,
            start_s: a.start_s,
            end_s: t,
        });
    }

    /// Starts and ends the faults due at the current timeline position.
    async fn fault_edges(&mut self, em: &mut Emitter<'_>) {
        let pos = self.timeline_pos() + Duration::from_micros(500);
        let (due, later): (Vec<FaultSpec>, Vec<FaultSpec>) =
            self.schedule.drain(..).partition(|f| f.at <= pos);
        self.schedule = later;
        let (ended, still): (Vec<Active>, Vec<Active>) = self
            .active
            .drain(..)
            .partition(|a| Duration::from_secs_f64(a.end_s) <= pos);
        self.active = still;
        for a in ended {
            self.end_fault(a, em).await;
        }
        for f in due {
            self.start_fault(f, em).await;
        }
    }

    fn on_tick(&mut self, sm: &mut StateMachine, em: &mut Emitter<'_>) -> Option<EndReason> {
        let now = self.start.elapsed();
        let t = now.as_secs_f64();
        self.follow_stage(sm, em, t);
        let mut snap = self.load.tick(now);
        snap.state = sm.state();
        snap.phase = self.phase_name();
        snap.planned_tps = if self.paused_at.is_some() {
            0.0
        } else {
            self.planned_tps()
        };
        if let Some(s) = self.sampler.as_mut() {
            snap.resources = s.sample();
        }
        // Faults that were active at any time during the tick (also those that ended within it).
        let tick_start = t - snap.interval_s;
        let mut names: Vec<String> = self
            .active
            .iter()
            .map(|a| a.spec.kind.to_string())
            .collect();
        names.extend(
            self.finished
                .iter()
                .filter(|f| f.end_s > tick_start)
                .map(|f| f.kind.to_string()),
        );
        names.sort();
        names.dedup();
        snap.active_faults = names;
        let (level, changed) = self.tracker.observe(&snap);
        snap.degradation = level;
        if let Some(event) = changed {
            em.emit(t, event);
        }
        for alert in self.alerts.observe(&snap) {
            self.emit(em, t, alert);
        }
        if let Some(m) = self.adaptive.as_mut().and_then(|a| a.on_tick(level)) {
            match self.load.set_multiplier(self.multiplier * m) {
                Ok(()) => {
                    self.adaptive_multiplier = m;
                    em.emit(
                        t,
                        EventKind::RateMultiplier {
                            value: m * self.multiplier,
                        },
                    );
                    em.emit(
                        t,
                        EventKind::Message {
                            text: format!(
                                "adaptive mode: load at {:.0}% of the profile ({level:?} degradation)",
                                m * self.multiplier * 100.0
                            ),
                        },
                    );
                }
                Err(e) => em.emit(
                    t,
                    EventKind::Message {
                        text: format!("adaptive mode could not change the rate: {e}"),
                    },
                ),
            }
        }
        let harm = self.harm.observe(&snap);
        self.level = level;
        em.frame(&snap);
        let cost = snap.cumulative.cost;
        self.ticks.push(snap);
        if let Some(reason) = harm {
            em.emit(
                t,
                EventKind::Message {
                    text: format!("aborting: {reason}"),
                },
            );
            return Some(EndReason::Aborted(reason.to_string()));
        }

        if let Some((name, actual, threshold)) = self.abort.check(&self.ticks) {
            em.emit(
                t,
                EventKind::CriterionFailed {
                    name: name.clone(),
                    actual,
                    threshold,
                },
            );
            return Some(EndReason::Aborted(name));
        }
        if let Some(budget) = self.spec.limits.budget {
            if !self.budget_warned && cost >= 0.8 * budget {
                self.budget_warned = true;
                em.emit(
                    t,
                    EventKind::BudgetWarning {
                        spent: cost,
                        budget,
                    },
                );
            }
            if cost >= budget {
                em.emit(
                    t,
                    EventKind::Message {
                        text: format!("budget reached: {cost:.4} of {budget}; stopping"),
                    },
                );
                return Some(EndReason::Budget);
            }
        }
        None
    }

    /// Stops the load, ends open faults, takes the last tick and builds the summary.
    async fn finish(
        &mut self,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
        reason: EndReason,
        run_id: String,
        started_at: String,
        target: models::TargetInfo,
    ) -> Result<(Summary, String, EndReason), OrchestratorError> {
        let t = self.now_s();
        if sm.state() != RunState::Stopping {
            em.transition(sm, RunState::Stopping, t)?;
        }
        let active: Vec<Active> = self.active.drain(..).collect();
        for a in active {
            self.end_fault(a, em).await;
        }
        self.load.stop();
        let joined = self.load.join().await;
        let elapsed = self.start.elapsed();
        // The last, partial tick: what completed since the previous one.
        let last_tick = self.ticks.last().map_or(0.0, |s| s.t_s);
        if elapsed.as_secs_f64() - last_tick > 1e-3 {
            self.on_tick_final(sm, em, elapsed);
        }
        match joined {
            Err(e) => {
                em.emit(
                    elapsed.as_secs_f64(),
                    EventKind::Message {
                        text: format!("load generator: {e}"),
                    },
                );
                em.transition(sm, RunState::Failed, elapsed.as_secs_f64())?;
                return Err(e);
            }
            Ok(report) if report.abandoned > 0 => em.emit(
                elapsed.as_secs_f64(),
                EventKind::Message {
                    text: format!(
                        "{} requests were still out after the grace period and count as timeouts",
                        report.abandoned
                    ),
                },
            ),
            Ok(_) => {}
        }
        let mut summary = self.load.summary(elapsed);
        summary.run_id = run_id;
        summary.scenario = self.spec.name.clone();
        summary.seed = self.spec.seed;
        summary.started_at = started_at;
        summary.target = target;
        summary.resilience = resilience::analyze(
            &self.ticks,
            &self.finished,
            &resilience::config(&self.spec.resilience),
        );
        summary.criteria = criteria::evaluate(&self.spec.criteria, &summary, &self.ticks);
        let t_end = summary.duration_s;
        for c in summary.criteria.iter().filter(|c| !c.passed) {
            let threshold = c
                .threshold
                .split_whitespace()
                .last()
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN);
            em.emit(
                t_end,
                EventKind::CriterionFailed {
                    name: c.name.clone(),
                    actual: c.actual,
                    threshold,
                },
            );
        }
        summary.passed =
            reason == EndReason::Completed && summary.criteria.iter().all(|c| c.passed);
        summary.end_reason = reason.as_text();
        let hgrm = match summary
            .histograms
            .as_ref()
            .map(|h| histogram::merge([h.latency_us.as_str()]))
        {
            Some(Ok(h)) => histogram::percentile_distribution_ms(&h),
            _ => histogram::percentile_distribution_ms(&histogram::empty()),
        };
        em.transition(sm, RunState::Completed, t_end)?;
        Ok((summary, hgrm, reason))
    }

    fn on_tick_final(&mut self, sm: &mut StateMachine, em: &mut Emitter<'_>, at: Duration) {
        let mut snap = self.load.tick(at);
        snap.state = sm.state();
        snap.phase = self.phase_name();
        if let Some(s) = self.sampler.as_mut() {
            snap.resources = s.sample();
        }
        let (level, _) = self.tracker.observe(&snap);
        snap.degradation = level;
        em.frame(&snap);
        self.ticks.push(snap);
    }
}

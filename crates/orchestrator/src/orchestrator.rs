//! [`StressTestOrchestrator`]: one run of one scenario, from setup to the results folder.

use crate::control::{self, Command, ControlPorts, Outlets, RunControl};
use crate::criteria;
use crate::error::OrchestratorError;
use crate::histogram;
use crate::load::{LoadRun, LoadSetup};
use crate::resilience;
use crate::results::{self, ResultsWriter};
use crate::run_clock::RunClock;
use crate::run_faults::RunFaults;
use crate::state_machine::StateMachine;
use crate::target_layer::TargetLayer;
use crate::target_resources::TargetWatch;
use crate::target_setup::{PreparedTarget, TargetFactory};
use crate::tick_watch::TickWatches;
use crate::timeline;
use failure_injection::{Injector, WebhookConfig, WebhookNotifier};
use models::{
    CriterionOutcome, DegradationLevel, EventKind, IntervalSnapshot, RunEvent, RunState,
    ScenarioSpec, Stage, Summary,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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
    /// A results folder that already holds a run's files: refuse it (the default, as two runs' files
    /// in one folder read as one run) or remove those files first (see [`run_files::claim_folder`]).
    pub existing: run_files::Existing,
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
            existing: run_files::Existing::Refuse,
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
    /// [`RunControl::terminate`] (SIGTERM or SIGHUP: a supervisor ending the process).
    Terminated,
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
            EndReason::Terminated => "terminated".into(),
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
    /// Passed, failed (criteria failed or ended early) or interrupted.
    pub fn exit(&self) -> models::RunExit {
        match (&self.end_reason, self.summary.passed) {
            (EndReason::Interrupted, _) => models::RunExit::Interrupted,
            (EndReason::Terminated, _) => models::RunExit::Terminated,
            (_, true) => models::RunExit::Passed,
            _ => models::RunExit::Failed,
        }
    }

    /// [`RunOutcome::exit`] as a number: 0 passed, 1 criteria failed or ended early, 130 interrupted,
    /// 143 terminated.
    pub fn exit_code(&self) -> u8 {
        self.exit().code()
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
    layer: TargetLayer,
}

impl std::fmt::Debug for StressTestOrchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StressTestOrchestrator")
            .field("scenario", &self.spec.name)
            .field("options", &self.options)
            .finish()
    }
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
        let (control, ports) = control::channel(control::RateCap::of(&spec));
        Ok(Self {
            spec,
            options,
            control,
            ports,
            target: None,
            layer: TargetLayer::default(),
        })
    }

    /// Runs against a target of the caller's instead of the scenario's `[target]`.
    pub fn with_target(mut self, target: PreparedTarget) -> Self {
        self.target = Some(target);
        self
    }

    /// Wraps the target (the scenario's or the caller's) in `layer` once it is set up. Layers stack:
    /// each call puts its layer around those of the calls before (see [`TargetLayer`]).
    pub fn with_target_layer(mut self, layer: TargetLayer) -> Self {
        self.layer = std::mem::take(&mut self.layer).then(layer);
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
        let ids = RunIds::new(&spec, &options);
        let dir = options
            .out_dir
            .clone()
            .unwrap_or_else(|| options.results_root.join(&ids.run_id));

        // Before any waiting: a folder in use is a mistake to hear about at once.
        run_files::claim_folder(&dir, options.existing).map_err(|e| match e {
            run_files::ClaimError::InUse(e) => OrchestratorError::FolderInUse(e),
            run_files::ClaimError::Write(e) => OrchestratorError::Results {
                path: e.path,
                source: e.source,
            },
        })?;
        let cancelled = if options.auto_start {
            None
        } else {
            wait_for_start(&mut commands).await
        };
        let writer = ResultsWriter::create(&dir)?;
        let mut emitter = Emitter {
            out: &out,
            writer: &writer,
            webhook: None,
        };
        emitter.transition(&mut sm, RunState::Initializing, 0.0)?;
        if let Some(reason) = cancelled {
            let summary = end_before_start(&mut sm, &mut emitter, &ids, &reason)?;
            return end_early(writer, summary, dir, reason).await;
        }

        let setup = set_up(
            &spec,
            &options,
            &dir,
            target,
            layer,
            &mut emitter,
            &mut commands,
        )
        .await;
        let (target, load, watch) = match setup {
            Ok(SetUp::Ready(target, load, watch)) => (target, *load, watch.map(|w| *w)),
            Ok(SetUp::Cancelled(target, reason)) => {
                // Stopped while waiting for the common start time: nothing was sent.
                if let Err(e) = target.shutdown().await {
                    emitter.emit(
                        0.0,
                        EventKind::Message {
                            text: e.to_string(),
                        },
                    );
                }
                let summary = end_before_start(&mut sm, &mut emitter, &ids, &reason)?;
                return end_early(writer, summary, dir, reason).await;
            }
            Err(e) => {
                emitter.fail(&mut sm, 0.0, format!("setup failed: {e}"))?;
                return Err(fail_run(writer, &ids, e).await);
            }
        };
        let started_at = results::rfc3339(SystemTime::now());
        emitter.webhook = start_webhook(&spec, options.allow_remote, &mut emitter);
        warn_rate_ceiling(&spec, &mut emitter);
        let mut run = Running::new(&spec, options.tick, load, target.faults.clone(), watch);
        let end_reason = run.drive(&mut sm, &mut emitter, &mut commands).await;
        let result = run
            .finish(
                &mut sm,
                &mut emitter,
                end_reason,
                &ids,
                started_at,
                models::TargetInfo {
                    // Known once a connection is open: the protocol the server chose.
                    protocol: target.target.info().protocol,
                    ..target.info.clone()
                },
            )
            .await;
        emitter.close_webhook(run.clock.now_s()).await;
        let samples = target.error_samples();
        let shutdown = target.shutdown().await;
        let (mut summary, hgrm, end_reason) = match result {
            Ok(x) => x,
            Err(e) => return Err(fail_run(writer, &ids, e).await),
        };
        summary.errors.samples = samples;
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

/// The summary of a run stopped before any load, after the state machine's last transitions.
fn end_before_start(
    sm: &mut StateMachine,
    emitter: &mut Emitter<'_>,
    ids: &RunIds,
    reason: &EndReason,
) -> Result<Summary, OrchestratorError> {
    emitter.transition(sm, RunState::Stopping, 0.0)?;
    emitter.transition(sm, RunState::Completed, 0.0)?;
    Ok(Summary {
        started_at: results::rfc3339(SystemTime::now()),
        ..ids.empty_summary(reason.as_text())
    })
}

/// A run stopped before any load still leaves a complete, empty results folder.
async fn end_early(
    writer: ResultsWriter,
    summary: Summary,
    dir: PathBuf,
    end_reason: EndReason,
) -> Result<RunOutcome, OrchestratorError> {
    write_empty(writer, &summary).await?;
    Ok(RunOutcome {
        summary,
        dir,
        end_reason,
    })
}

/// What [`set_up`] gives: a target and its running load, or the reason the run was stopped while it
/// waited for the common start time (with the target, to be shut down).
enum SetUp {
    /// Boxed: the running load and the scraper are large, and this is built once a run.
    Ready(PreparedTarget, Box<LoadRun>, Option<Box<TargetWatch>>),
    Cancelled(PreparedTarget, EndReason),
}

/// Prepares the target (the caller's or the scenario's, wrapped in the layer) and starts the load at
/// the common start time. The wait for that time (up to an hour) listens to the control commands, so
/// that Ctrl+C or a stop ends it at once.
async fn set_up(
    spec: &ScenarioSpec,
    options: &RunOptions,
    dir: &Path,
    target: Option<PreparedTarget>,
    layer: TargetLayer,
    em: &mut Emitter<'_>,
    commands: &mut tokio::sync::mpsc::UnboundedReceiver<Command>,
) -> Result<SetUp, OrchestratorError> {
    let mut watch = TargetWatch::for_scenario(spec, options.tick, options.allow_remote)?;
    let mut target = match target {
        Some(t) => t,
        None => {
            let factory =
                TargetFactory::new(&spec.target, options.allow_remote)?.with_history(spec.seed);
            if options.fault_proxy || !spec.faults.is_empty() {
                factory.with_fault_proxy(spec.seed).prepare().await?
            } else {
                factory.prepare().await?
            }
        }
    };
    if let Some(warm) = &target.warm_up {
        em.emit(
            0.0,
            EventKind::Message {
                text: warm.describe(),
            },
        );
    }
    target.target = layer.layer(target.target);
    if let Some(w) = watch.as_mut() {
        // The first reading: CPU is a rate between two scrapes, so the first tick has one.
        if let Some(text) = w.scrape().await {
            em.emit(0.0, EventKind::Message { text });
        }
    }
    let late = tokio::select! {
        late = crate::load::wait_for_start(options.start_at, spec.load.total_duration()) => late?,
        reason = until_stopped(commands) => return Ok(SetUp::Cancelled(target, reason)),
    };
    let load = LoadRun::start(LoadSetup {
        spec,
        target: target.target.clone(),
        segment: options.segment.unwrap_or_default(),
        dir,
        record_ids: options.record_ids,
    })?;
    if let Some(late) = late {
        em.emit(
            0.0,
            EventKind::Message {
                text: format!(
                    "started {:.3} s after the common start time",
                    late.as_secs_f64()
                ),
            },
        );
    }
    Ok(SetUp::Ready(target, Box::new(load), watch.map(Box::new)))
}

/// Resolves when a command ends the run before it started; other commands wait for the run. With
/// every control handle gone nothing can stop it, so this never resolves.
async fn until_stopped(commands: &mut tokio::sync::mpsc::UnboundedReceiver<Command>) -> EndReason {
    loop {
        match commands.recv().await {
            Some(Command::Stop) => return EndReason::Stopped,
            Some(Command::Interrupt) => return EndReason::Interrupted,
            Some(Command::Terminate) => return EndReason::Terminated,
            Some(_) => continue,
            None => std::future::pending::<()>().await,
        }
    }
}

/// Waits for [`RunControl::start`]; the reason the run ends at once when it is stopped instead.
async fn wait_for_start(
    commands: &mut tokio::sync::mpsc::UnboundedReceiver<Command>,
) -> Option<EndReason> {
    loop {
        match commands.recv().await {
            Some(Command::Start) => return None,
            Some(Command::Stop) | None => return Some(EndReason::Stopped),
            Some(Command::Interrupt) => return Some(EndReason::Interrupted),
            Some(Command::Terminate) => return Some(EndReason::Terminated),
            Some(_) => continue,
        }
    }
}

/// Who a run is: what every summary it writes says about it, whatever became of it.
#[derive(Debug, Clone)]
struct RunIds {
    run_id: String,
    scenario: String,
    seed: u64,
}

impl RunIds {
    fn new(spec: &ScenarioSpec, options: &RunOptions) -> Self {
        Self {
            run_id: options
                .run_id
                .clone()
                .unwrap_or_else(|| results::run_id(&spec.name, SystemTime::now())),
            scenario: spec.name.clone(),
            seed: spec.seed,
        }
    }

    /// The summary of a run that measured nothing.
    fn empty_summary(&self, end_reason: String) -> Summary {
        Summary {
            run_id: self.run_id.clone(),
            scenario: self.scenario.clone(),
            seed: self.seed,
            end_reason,
            ..Summary::default()
        }
    }
}

/// Writes a summary without figures and an empty latency distribution.
async fn write_empty(writer: ResultsWriter, summary: &Summary) -> Result<(), OrchestratorError> {
    writer
        .finish(
            summary,
            histogram::percentile_distribution_ms(&histogram::empty()),
        )
        .await
}

/// The one way a run fails: the results folder still gets a summary (`end_reason` `failed: ...`),
/// and the caller gets the error. Writing that summary is best effort: the error that failed the
/// run is the one worth reporting.
async fn fail_run(
    writer: ResultsWriter,
    ids: &RunIds,
    error: OrchestratorError,
) -> OrchestratorError {
    let _ = write_empty(writer, &ids.empty_summary(format!("failed: {error}"))).await;
    error
}

/// Starts posting alerts to the scenario's webhook, if it names one; a webhook that cannot start is
/// reported and left out rather than failing the run.
fn start_webhook(
    spec: &ScenarioSpec,
    allow_remote: bool,
    em: &mut Emitter<'_>,
) -> Option<WebhookNotifier> {
    let url = spec.resilience.webhook.as_ref()?;
    match WebhookNotifier::start(WebhookConfig {
        url: url.clone(),
        allow_remote,
        ..WebhookConfig::default()
    }) {
        Ok(w) => Some(w),
        Err(e) => {
            em.emit(
                0.0,
                EventKind::Message {
                    text: format!("alerts will not be posted to the webhook: {e}"),
                },
            );
            None
        }
    }
}

fn warn_rate_ceiling(spec: &ScenarioSpec, em: &mut Emitter<'_>) {
    let peak = timeline::peak_tps(&spec.load);
    if peak > spec.limits.max_tps {
        em.emit(
            0.0,
            EventKind::Message {
                text: format!(
                    "the profile peaks at {peak:.0} TPS, above the {:.0} TPS ceiling: arrivals above it are shed (counted as dropped by the ceiling)",
                    spec.limits.max_tps
                ),
            },
        );
    }
}

/// Sends events to subscribers, the results writer and (alerts only) the webhook, and keeps the state
/// channel current.
struct Emitter<'a> {
    out: &'a Outlets,
    writer: &'a ResultsWriter,
    webhook: Option<WebhookNotifier>,
}

impl Emitter<'_> {
    fn emit(&mut self, t_s: f64, kind: EventKind) {
        if let Some(w) = &self.webhook
            && matches!(
                kind,
                EventKind::AlertRaised { .. } | EventKind::AlertCleared { .. }
            )
        {
            w.notify_alerts(t_s, std::slice::from_ref(&kind));
        }
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

    /// Says why the run failed and moves it to `Failed`.
    fn fail(
        &mut self,
        sm: &mut StateMachine,
        t_s: f64,
        why: String,
    ) -> Result<(), OrchestratorError> {
        self.emit(t_s, EventKind::Message { text: why });
        self.transition(sm, RunState::Failed, t_s)
    }

    fn frame(&mut self, s: &IntervalSnapshot) {
        self.writer.tick(s);
        let _ = self.out.frames.send(s.clone());
        self.out.latest.send_replace(Some(s.clone()));
    }

    /// Stops the webhook, waiting for the alerts in its queue, and reports any that were lost.
    async fn close_webhook(&mut self, t_s: f64) {
        let Some(w) = self.webhook.take() else {
            return;
        };
        let stats = w.shutdown().await;
        if stats.failed + stats.dropped > 0 {
            self.emit(
                t_s,
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
}

/// The load's rate as a share of the profile: set by hand (control handle) and by the adaptive mode;
/// the load runs at their product.
#[derive(Debug, Clone, Copy)]
struct RateShares {
    by_hand: f64,
    adaptive: f64,
}

/// The state of a run between its start and its end.
struct Running<'a> {
    spec: &'a ScenarioSpec,
    tick: Duration,
    load: LoadRun,
    clock: RunClock,
    shares: RateShares,
    /// The stage last announced.
    stage: Option<usize>,
    faults: RunFaults,
    watches: TickWatches,
    ticks: Vec<IntervalSnapshot>,
    sampler: Option<metrics_core::ResourceSampler>,
    /// The target's own resources, when the scenario names its `metrics_url`.
    target_watch: Option<TargetWatch>,
}

impl<'a> Running<'a> {
    fn new(
        spec: &'a ScenarioSpec,
        tick: Duration,
        load: LoadRun,
        injector: Option<Arc<dyn Injector>>,
        target_watch: Option<TargetWatch>,
    ) -> Self {
        Self {
            spec,
            tick,
            clock: RunClock::new(load.started_at()),
            load,
            shares: RateShares {
                by_hand: 1.0,
                adaptive: 1.0,
            },
            stage: None,
            faults: RunFaults::new(spec.faults.clone(), injector),
            watches: TickWatches::for_scenario(spec),
            ticks: Vec::new(),
            sampler: metrics_core::ResourceSampler::new(None).ok(),
            target_watch,
        }
    }

    /// The stage at the current timeline position, with its index.
    fn current_stage(&self) -> Option<(usize, &'a Stage)> {
        let (i, _) = timeline::stage_at(&self.spec.load, self.clock.timeline_pos())?;
        Some((i, &self.spec.load.stages[i]))
    }

    /// The state the current stage calls for.
    fn stage_state(&self) -> RunState {
        match self.current_stage() {
            Some((_, stage)) if timeline::is_ramp_up(stage) => RunState::RampingUp,
            _ => RunState::Running,
        }
    }

    fn phase_name(&self) -> Option<String> {
        self.current_stage().map(|(i, stage)| stage_name(i, stage))
    }

    fn planned_tps(&self) -> f64 {
        let rate = self.load.rate_at(self.clock.timeline_pos());
        (rate * self.shares.by_hand * self.shares.adaptive).min(self.spec.limits.max_tps)
    }

    /// The next timeline position at which a fault starts or ends or a stage begins.
    fn next_edge(&self) -> Option<Duration> {
        let pos = self.clock.timeline_pos();
        let stage = timeline::stage_at(&self.spec.load, pos)
            .map(|(i, start)| start + self.spec.load.stages[i].duration())
            .filter(|end| *end > pos && *end < self.spec.load.total_duration());
        self.faults.next_edge().into_iter().chain(stage).min()
    }

    /// Announces the current stage when it is a new one.
    fn enter_stage(&mut self, em: &mut Emitter<'_>, t: f64) {
        if let Some((i, stage)) = self.current_stage()
            && self.stage != Some(i)
        {
            self.stage = Some(i);
            em.emit(
                t,
                EventKind::PhaseStarted {
                    name: stage_name(i, stage),
                },
            );
        }
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

    /// Runs until the profile ends, a command or a watch ends it, or the maximum duration passes.
    async fn drive(
        &mut self,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
        commands: &mut tokio::sync::mpsc::UnboundedReceiver<Command>,
    ) -> EndReason {
        let start = self.clock.start();
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
        let mut ticker = tokio::time::interval_at(start + self.tick, self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = start + self.spec.limits.max_duration;
        loop {
            let edge = self.next_edge().filter(|_| !self.clock.is_paused());
            let edge_at = edge.map(|e| self.clock.instant_of(e));
            tokio::select! {
                _ = ticker.tick() => {
                    if let Some(w) = self.target_watch.as_mut()
                        && let Some(text) = w.scrape().await
                    {
                        em.emit(self.clock.now_s(), EventKind::Message { text });
                    }
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
                    for (t, event) in self.faults.edges(&self.clock).await {
                        em.emit(t, event);
                    }
                    let t = self.clock.now_s();
                    self.follow_stage(sm, em, t);
                }
                () = self.load.finished() => return EndReason::Completed,
                _ = tokio::time::sleep_until(deadline) => return EndReason::MaxDuration,
            }
        }
    }

    async fn on_command(
        &mut self,
        cmd: Option<Command>,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
    ) -> Option<EndReason> {
        let t = self.clock.now_s();
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
            Some(Command::Terminate) => return Some(EndReason::Terminated),
            Some(Command::Pause) => match em.transition(sm, RunState::Paused, t) {
                Ok(()) => {
                    self.load.pause();
                    self.clock.pause();
                }
                Err(e) => refuse(em, &e),
            },
            Some(Command::Resume) => {
                if sm.state() != RunState::Paused {
                    refuse(
                        em,
                        &format!("resume: the run is {}, not paused", sm.state()),
                    );
                } else if self.clock.resume() {
                    self.load.resume();
                    let to = self.stage_state();
                    if let Err(e) = em.transition(sm, to, t) {
                        refuse(em, &e);
                    }
                }
            }
            Some(Command::SetRateMultiplier(m)) => {
                match self.load.set_multiplier(m * self.shares.adaptive) {
                    Ok(()) => {
                        self.shares.by_hand = m;
                        em.emit(t, EventKind::RateMultiplier { value: m });
                    }
                    Err(e) => refuse(em, &e),
                }
            }
            Some(Command::InjectFault(mut f)) => {
                f.at = self.clock.timeline_pos();
                for event in self.faults.start(f, &self.clock).await {
                    em.emit(t, event);
                }
            }
        }
        None
    }

    /// The tick ending `at`, with what the run knows beside the load's figures.
    fn take_tick(&mut self, sm: &StateMachine, at: Duration) -> IntervalSnapshot {
        let mut snap = self.load.tick(at);
        snap.state = sm.state();
        snap.phase = self.phase_name();
        if let Some(s) = self.sampler.as_mut() {
            snap.resources = s.sample();
        }
        if let Some(w) = self.target_watch.as_mut() {
            w.fill(&mut snap);
        }
        snap
    }

    /// Takes a tick, lets the watches judge it, publishes both; the reason to end, if one did.
    fn on_tick(&mut self, sm: &mut StateMachine, em: &mut Emitter<'_>) -> Option<EndReason> {
        let now = self.clock.elapsed();
        let t = now.as_secs_f64();
        self.follow_stage(sm, em, t);
        let mut snap = self.take_tick(sm, now);
        snap.planned_tps = if self.clock.is_paused() {
            0.0
        } else {
            self.planned_tps()
        };
        // Faults that were active at any time during the tick (also those that ended within it).
        snap.active_faults = self.faults.names_since(t - snap.interval_s);
        let mut end = None;
        for reaction in self.watches.judge(&mut snap, &self.ticks) {
            for event in reaction.events {
                em.emit(t, event);
            }
            if let Some(share) = reaction.rate_share {
                self.set_adaptive_share(em, t, share, snap.degradation);
            }
            end = end.or(reaction.end);
        }
        em.frame(&snap);
        self.keep(snap);
        end
    }

    /// Keeps a published tick for the end-of-run figures, without what they do not read from it: a
    /// run of hours would hold every tick's (heaptrack: about 2.3 KB of histograms and 1.4 KB of
    /// per-pattern table in a tick of 5 KB). The encoded histograms are needed by a few criteria only,
    /// and [`Running::finish`] reads those back from `intervals.jsonl`; the per-pattern figures of
    /// the whole run are the recorder's, and no criterion scopes them to ticks.
    fn keep(&mut self, mut snap: IntervalSnapshot) {
        snap.histograms = None;
        snap.per_pattern = std::collections::BTreeMap::new();
        if self.ticks.is_empty() {
            // Room for the planned run at once: doubling a vector of thousands of ticks moves
            // megabytes and leaves the old block behind (a step in a long run's memory).
            let planned = self.spec.load.total_duration().as_secs_f64() / self.tick.as_secs_f64();
            self.ticks
                .reserve((planned.ceil() as usize).clamp(1, 1 << 16) + 1);
        }
        self.ticks.push(snap);
    }

    /// Puts back, from the results folder, the histograms of the kept ticks that the criteria
    /// merge (see [`criteria::ticks_needing_histograms`]). When they cannot be read, the figures
    /// fall back to their documented bound (the worst tick's percentiles).
    async fn restore_histograms(&mut self, em: &Emitter<'_>) {
        let wanted = criteria::ticks_needing_histograms(&self.spec.criteria, &self.ticks);
        if wanted.is_empty() {
            return;
        }
        em.writer.sync().await;
        let folder = run_files::Folder::new(em.writer.dir());
        let read = tokio::task::spawn_blocking(move || folder.tick_histograms(&wanted)).await;
        if let Ok(Ok(Some(found))) = read {
            for (i, h) in found {
                if let Some(t) = self.ticks.get_mut(i) {
                    t.histograms = Some(h);
                }
            }
        }
    }

    /// Applies the adaptive mode's share of the rate and says so.
    fn set_adaptive_share(
        &mut self,
        em: &mut Emitter<'_>,
        t: f64,
        share: f64,
        level: DegradationLevel,
    ) {
        let value = share * self.shares.by_hand;
        match self.load.set_multiplier(value) {
            Ok(()) => {
                self.shares.adaptive = share;
                em.emit(t, EventKind::RateMultiplier { value });
                em.emit(
                    t,
                    EventKind::Message {
                        text: format!(
                            "adaptive mode: load at {:.0}% of the profile ({level:?} degradation)",
                            value * 100.0
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

    /// Stops the load, ends open faults, takes the last tick and builds the summary.
    async fn finish(
        &mut self,
        sm: &mut StateMachine,
        em: &mut Emitter<'_>,
        reason: EndReason,
        ids: &RunIds,
        started_at: String,
        target: models::TargetInfo,
    ) -> Result<(Summary, String, EndReason), OrchestratorError> {
        let t = self.clock.now_s();
        if sm.state() != RunState::Stopping {
            em.transition(sm, RunState::Stopping, t)?;
        }
        for (t, event) in self.faults.end_all(&self.clock).await {
            em.emit(t, event);
        }
        self.load.stop();
        let joined = self.load.join().await;
        let elapsed = self.clock.elapsed();
        // The last, partial tick: what completed since the previous one. It is labelled and
        // published, not judged: the run is over.
        let last_tick = self.ticks.last().map_or(0.0, |s| s.t_s);
        if elapsed.as_secs_f64() - last_tick > 1e-3 {
            let mut snap = self.take_tick(sm, elapsed);
            self.watches.label(&mut snap);
            em.frame(&snap);
            self.keep(snap);
        }
        match joined {
            Err(e) => {
                em.fail(sm, elapsed.as_secs_f64(), format!("load generator: {e}"))?;
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
        summary.run_id = ids.run_id.clone();
        summary.scenario = ids.scenario.clone();
        summary.seed = ids.seed;
        summary.started_at = started_at;
        summary.target = target;
        summary.mix = Some(self.spec.mix);
        summary.resilience = resilience::analyze(
            &self.ticks,
            self.faults.finished(),
            &resilience::config(&self.spec.resilience, self.spec.target.cores),
        );
        summary.business.budget = self.spec.limits.budget;
        summary.generator = models::GeneratorSummary::from_ticks(&self.ticks);
        summary.target_resources = self.target_watch.as_ref().map(|w| w.summary(&self.ticks));
        self.restore_histograms(em).await;
        summary.criteria = criteria::evaluate(
            &self.spec.criteria,
            self.spec.when_unmeasured,
            &summary,
            &self.ticks,
        );
        let t_end = summary.duration_s;
        for c in &summary.criteria {
            let event = match &c.outcome {
                CriterionOutcome::Passed { .. } => continue,
                CriterionOutcome::Failed { actual } => EventKind::CriterionFailed {
                    name: c.name.clone(),
                    actual: *actual,
                    threshold: c.limit,
                },
                CriterionOutcome::NotMeasured { reason } | CriterionOutcome::Skipped { reason } => {
                    EventKind::CriterionNotMeasured {
                        name: c.name.clone(),
                        reason: reason.clone(),
                        skipped: c.passed(),
                    }
                }
            };
            em.emit(t_end, event);
        }
        summary.passed =
            reason == EndReason::Completed && summary.criteria.iter().all(|c| c.passed());
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
}

/// A stage's name: its own, or its shape and number (`ramp-1`).
fn stage_name(i: usize, stage: &Stage) -> String {
    stage
        .name()
        .map_or_else(|| format!("{}-{}", stage.shape(), i + 1), str::to_owned)
}

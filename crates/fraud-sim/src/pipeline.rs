//! [`Pipeline`]: ingestion, the four agents and the decision, in-process. The HTTP server wraps it; it
//! also implements [`targets::Target`] directly for rates HTTP cannot carry.

use crate::card_store::CardStore;
use crate::config::{ServiceTime, SimConfig};
use crate::faults::Faults;
use crate::rules::{self, Finding, RuleConfig};
use crate::stage::{ServiceDist, StageName, StageRuntime, StageSnapshot};
use crate::{PipelineError, SimError};
use async_trait::async_trait;
use models::{AgentTiming, Decision, FxTable, TargetInfo, TargetKind, Transaction, Verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use targets::{Target, TargetError};
use tokio::time::Instant;

/// The reference fraud-detection pipeline. Cheap to clone (a shared handle).
#[derive(Debug, Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stages: [StageRuntime; 5],
    store: CardStore,
    faults: Faults,
    rules: RuleConfig,
    fx: FxTable,
    started: Instant,
    outcomes: Outcomes,
}

/// Totals of how requests ended.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub decisions: [AtomicU64; 3],
    /// Answered with an error status: 429, 503, any other.
    pub status_429: AtomicU64,
    pub status_503: AtomicU64,
    pub status_other: AtomicU64,
    pub dropped: AtomicU64,
    /// Verdicts reached with at least one agent skipped or failed.
    pub degraded: AtomicU64,
}

/// One stage's result for one request: its output (none when skipped) and its timing.
type StageResult<R> = Result<(Option<R>, AgentTiming), PipelineError>;

impl Pipeline {
    /// Builds the pipeline; fails only on invalid settings.
    pub fn new(config: &SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        let stages = StageName::ALL.map(|name| {
            let s = config.stage(name);
            let servers = config.concurrency(name);
            let (service, mean) = match config.service_time {
                ServiceTime::Simulated => {
                    // Whole servers round `capacity × mean × headroom`; the mean is adjusted by the
                    // rounding so that the stage saturates at exactly `capacity × headroom`.
                    let exact = config.capacity * s.mean_service.as_secs_f64() * s.headroom;
                    let mean = if exact >= 0.5 {
                        s.mean_service.mul_f64(servers as f64 / exact)
                    } else {
                        s.mean_service
                    };
                    (ServiceDist::new(mean, s.cv), mean)
                }
                ServiceTime::Zero => (ServiceDist::Zero, Duration::ZERO),
            };
            StageRuntime::new(name, service, servers, mean, s.queue_limit, s.deadline)
        });
        Ok(Self {
            inner: Arc::new(Inner {
                stages,
                store: CardStore::new(config.store_shards, config.cards_per_shard),
                faults: Faults::default(),
                rules: config.rules.clone(),
                fx: FxTable::default(),
                started: Instant::now(),
                outcomes: Outcomes::default(),
            }),
        })
    }

    /// The fault hooks of this pipeline (a shared handle).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Each stage's concurrency, queue depth and counters now.
    pub fn stages(&self) -> Vec<StageSnapshot> {
        self.inner
            .stages
            .iter()
            .map(StageRuntime::snapshot)
            .collect()
    }

    /// One stage's snapshot.
    pub fn stage(&self, name: StageName) -> StageSnapshot {
        self.inner.stages[name.index()].snapshot()
    }

    /// Time since the pipeline was built (the denominator of utilization).
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// Cards the detector knows now: those it has seen a transaction of, in traffic or history
    /// (a state reserved by [`Pipeline::reserve_cards`] and not used yet is not counted).
    pub fn cards(&self) -> usize {
        self.inner.store.seen()
    }

    /// Card states held now, seen or only reserved: what the card store's memory is made of.
    pub fn card_states(&self) -> usize {
        self.inner.store.len()
    }

    /// Allocates the state of every card in `cards` (a known population's) before any traffic, with
    /// room for all it will ever hold, so that the card store's memory is set up front and stays
    /// flat however long the run (see `CardStore::reserve`). Returns the number of cards reserved.
    pub fn reserve_cards(&self, cards: impl IntoIterator<Item = models::CardId>) -> usize {
        self.inner.store.reserve(cards)
    }

    /// A warm start: learns cards' past transactions, oldest first, as settled history, before any
    /// traffic. Each goes into its card's recent transactions (velocity, card testing, travel) and
    /// its profile (countries, devices, networks, merchants, amounts), as an approved transaction
    /// would; no agent scores it and no counter or timing sees it. The history must be the cards'
    /// legitimate past (transaction-factory's `history`): the detector trusts it, as a service
    /// trusts its settled, undisputed transactions. Returns how many transactions it learned.
    pub fn learn_history(&self, history: impl IntoIterator<Item = Transaction>) -> usize {
        let inner = &*self.inner;
        let mut learned = 0;
        for txn in history {
            let usd = rules::amount_usd(&txn, &inner.fx);
            inner.store.with_card(txn.card_id, |card| {
                rules::settle(&txn, usd, card, &inner.rules)
            });
            learned += 1;
        }
        learned
    }

    /// The pipeline's metrics in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        crate::metrics::render(self)
    }

    /// Scores one transaction through all stages.
    pub async fn process(&self, txn: &Transaction) -> Result<Verdict, PipelineError> {
        let result = self.run(txn).await;
        let o = &self.inner.outcomes;
        match &result {
            Ok(v) => {
                o.decisions[v.decision as usize].fetch_add(1, Ordering::Relaxed);
                if v.agents.iter().any(|a| !a.ok) {
                    o.degraded.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                let counter = match e.status() {
                    None => &o.dropped,
                    Some(429) => &o.status_429,
                    Some(503) => &o.status_503,
                    Some(_) => &o.status_other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    async fn run(&self, txn: &Transaction) -> Result<Verdict, PipelineError> {
        let inner = &*self.inner;
        inner.faults.on_arrival()?;
        let usd = rules::amount_usd(txn, &inner.fx);
        let mut agents = Vec::with_capacity(5);

        // Ingestion has no fallback: if it is down, nothing enters the pipeline.
        let lag = inner.faults.stream_lag();
        let (_, timing) = self.stage_run(StageName::Ingestion, lag, || ()).await?;
        agents.push(timing);

        let (analysis, timing) = self
            .agent_run(StageName::TransactionAnalyzer, || {
                rules::analyze(txn, usd, &inner.rules)
            })
            .await?;
        agents.push(timing);

        let (patterns, timing) = self
            .agent_run(StageName::PatternDetector, || {
                inner.store.with_card(txn.card_id, |card| {
                    rules::detect_patterns(txn, usd, card, &inner.rules)
                })
            })
            .await?;
        agents.push(timing);

        let (risk, timing) = self
            .agent_run(StageName::RiskAssessor, || {
                inner.store.with_card(txn.card_id, |card| {
                    rules::assess_risk(txn, usd, card, &inner.rules)
                })
            })
            .await?;
        agents.push(timing);

        // The decision maker is the model call: no fallback if it is down, and it can be rate limited.
        // After an approval the card's profile learns the transaction.
        inner
            .faults
            .model_call()
            .map_err(|limit_tps| PipelineError::RateLimited { limit_tps })?;
        let findings: Vec<&Finding> = [&analysis, &patterns, &risk]
            .into_iter()
            .flatten()
            .collect();
        let (decided, timing) = self
            .stage_run(StageName::DecisionMaker, Duration::ZERO, || {
                let decided = rules::decide(findings, &inner.rules);
                inner.store.with_card(txn.card_id, |card| {
                    rules::learn(txn, usd, decided.0, card, &inner.rules)
                });
                decided
            })
            .await?;
        agents.push(timing);
        // A skipped decision maker (only with a deadline configured on it) fails safe to review.
        let (decision, risk_score, mut reasons) =
            decided.unwrap_or((Decision::Review, 0.5, Vec::new()));
        for a in agents.iter().filter(|a| !a.ok) {
            reasons.push(format!("fallback:{}", a.name));
        }

        let slow = inner.faults.slow_response();
        if !slow.is_zero() {
            tokio::time::sleep(slow).await;
        }
        Ok(Verdict {
            decision,
            risk_score,
            reasons,
            agents,
        })
    }

    /// An agent with a fallback: a crash skips it (`ok: false`) instead of failing the request.
    async fn agent_run<R>(&self, name: StageName, work: impl FnOnce() -> R) -> StageResult<R> {
        match self.stage_run(name, Duration::ZERO, work).await {
            Err(PipelineError::Crashed { .. }) => Ok((
                None,
                AgentTiming {
                    name: name.as_str().to_owned(),
                    duration_us: 0,
                    ok: false,
                },
            )),
            other => other,
        }
    }

    /// Queues for the stage, waits its service time, runs `work`, and records it all.
    async fn stage_run<R>(
        &self,
        name: StageName,
        hold: Duration,
        work: impl FnOnce() -> R,
    ) -> StageResult<R> {
        let inner = &*self.inner;
        let stage = &inner.stages[name.index()];
        let start = Instant::now();
        let timing = |ok: bool| AgentTiming {
            name: name.as_str().to_owned(),
            duration_us: start.elapsed().as_micros() as u64,
            ok,
        };
        if inner.faults.is_crashed(name) {
            stage.record(0, false);
            return Err(PipelineError::Crashed { stage: name });
        }
        let queued = Gauge::enter(&stage.queued);
        if queued.before >= stage.queue_limit {
            drop(queued);
            stage.record(0, false);
            return Err(PipelineError::QueueFull {
                stage: name,
                limit: stage.queue_limit,
            });
        }
        // Stream lag: the request sits in the queue before it may be picked up.
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
        let permit = match stage.deadline {
            None => stage.semaphore.acquire().await.ok(),
            Some(deadline) => match tokio::time::timeout(deadline, stage.semaphore.acquire()).await
            {
                Ok(permit) => permit.ok(),
                Err(_) => {
                    // Waited past the deadline: skip the stage, the decision falls back.
                    drop(queued);
                    stage.skipped.fetch_add(1, Ordering::Relaxed);
                    let t = timing(false);
                    stage.record(t.duration_us, false);
                    return Ok((None, t));
                }
            },
        };
        drop(queued);
        // The semaphore is never closed, so the permit is always there; it is released on drop.
        let _permit = permit;
        if let Some(status) = inner.faults.throttled(name) {
            let t = timing(false);
            stage.record(t.duration_us, false);
            return Err(PipelineError::Throttled {
                stage: name,
                status,
            });
        }
        let busy = Busy {
            stage,
            since: Instant::now(),
            _in_service: Gauge::enter(&stage.in_service),
        };
        let service = stage.corrected(stage.service.sample());
        let extra = inner.faults.extra_latency(name);
        if !(service + extra).is_zero() {
            let slept = Instant::now();
            tokio::time::sleep(service + extra).await;
            // What the service part really took: the time asleep less the fault's added latency.
            stage.settle(service, slept.elapsed().saturating_sub(extra));
        }
        let out = work();
        drop(busy);
        let t = timing(true);
        stage.record(t.duration_us, true);
        Ok((Some(out), t))
    }
}

/// Counts a request in a gauge (queue depth, in service) for as long as it lives, so that a request
/// cancelled mid-way (its connection closed) leaves the gauges right.
struct Gauge<'a> {
    gauge: &'a AtomicUsize,
    before: usize,
}

impl<'a> Gauge<'a> {
    fn enter(gauge: &'a AtomicUsize) -> Self {
        Self {
            gauge,
            before: gauge.fetch_add(1, Ordering::AcqRel),
        }
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.gauge.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A server of a stage at work: adds its busy time when done (or cancelled).
struct Busy<'a> {
    stage: &'a StageRuntime,
    since: Instant,
    _in_service: Gauge<'a>,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.stage
            .busy_us
            .fetch_add(self.since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl Target for Pipeline {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        self.process(txn).await.map_err(TargetError::from)
    }

    fn info(&self) -> TargetInfo {
        TargetInfo::new(TargetKind::InProcess, None)
    }
}

impl Pipeline {
    pub(crate) fn outcomes(&self) -> &Outcomes {
        &self.inner.outcomes
    }

    pub(crate) fn stage_runtime(&self, name: StageName) -> &StageRuntime {
        &self.inner.stages[name.index()]
    }
}

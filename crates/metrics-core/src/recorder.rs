//! The [`Recorder`] handle, the per-worker [`Shard`]s that record on the hot path, and the tick that
//! turns what the shards gathered into an [`IntervalSnapshot`].
//!
//! # Concurrency design
//! Each worker owns one [`Shard`], and each shard one cell: a tally (counters and interval
//! histograms) behind a per-shard mutex, and two single-writer counters (sent, dropped). No two
//! workers ever share a cell, so the lock that `record` takes is uncontended: the only other party
//! that takes it is the collector, once per tick, for the time of a `mem::swap` with an empty tally
//! (no copying under the lock). `record_sent` and `record_dropped` take no lock at all (but for a
//! dropped *fraud* arrival, which takes the shard's own lock to count it as unscored): each is a
//! plain store into the shard's own counter, which the collector reads under the cell's lock and
//! turns into a difference from what it read last. A worker records a send before the completion,
//! and the completion's lock release publishes that store, so `in_flight = sent - completed` never
//! goes negative. The collector merges the swapped tally into the interval and cumulative state
//! outside the shard's lock and keeps it, reset, as the next spare. A dropped shard's last figures
//! are collected at the next tick and its cell removed.
//!
//! Why a lock rather than a lock-free queue in front of the tally: measured with `benches/record.rs`
//! on the 2-core development machine, the uncontended lock costs under a nanosecond (a
//! `record_sent` + `record` pair took 19.6 ns with a locked `record_sent`, 19.1 ns without), while a
//! queue of completions folded in batches made completions with four agent timings about 20 % slower
//! (68 ns against 56 ns) through its extra cache traffic. The cost of `record` is the histogram
//! arithmetic, not the lock.

use crate::agents::all_agent_stats;
use crate::business::{business_summary, fraud_summary, per_pattern_map, running_cost};
use crate::config::MetricsConfig;
use crate::error::MetricsError;
use crate::histogram::encode;
use crate::tally::{ERROR_KINDS, Tally};
use crate::timing::Timing;
use models::{
    Cumulative, EncodedHistograms, ErrorKind, ErrorSummary, GroundTruth, IntervalSnapshot,
    LoadSummary, Summary, Transaction, Verdict,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// One shard's state as the collector sees it.
#[derive(Debug)]
struct CellState {
    /// Arrivals sent by the shard so far (only the shard stores it).
    sent: AtomicU64,
    /// Arrivals dropped by the shard so far (only the shard stores it).
    dropped: AtomicU64,
    /// Arrivals shed by the rate ceiling so far (only the shard stores it).
    dropped_ceiling: AtomicU64,
    locked: Mutex<Locked>,
}

#[derive(Debug)]
struct Locked {
    tally: Tally,
    /// `sent` and `dropped` when last added to a tally.
    seen_sent: u64,
    seen_dropped: u64,
    seen_dropped_ceiling: u64,
}

impl CellState {
    fn new() -> Self {
        Self {
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            dropped_ceiling: AtomicU64::new(0),
            locked: Mutex::new(Locked {
                tally: Tally::new(),
                seen_sent: 0,
                seen_dropped: 0,
                seen_dropped_ceiling: 0,
            }),
        }
    }

    /// Adds the counters' growth since the last call to the tally. `l` is this cell's locked part:
    /// holding the lock makes every send before a recorded completion visible here.
    fn fold(&self, l: &mut Locked) {
        let sent = self.sent.load(Ordering::Relaxed);
        let dropped = self.dropped.load(Ordering::Relaxed);
        let (new_sent, new_dropped) = (sent - l.seen_sent, dropped - l.seen_dropped);
        l.tally.sent += new_sent;
        // Saturating: a bulk drop can report an unbounded backlog as u64::MAX.
        l.tally.scheduled = l.tally.scheduled.saturating_add(new_sent + new_dropped);
        let d = &mut l.tally.errors[ErrorKind::Dropped as usize];
        *d = d.saturating_add(new_dropped);
        (l.seen_sent, l.seen_dropped) = (sent, dropped);
        let shed = self.dropped_ceiling.load(Ordering::Relaxed);
        let new_shed = shed - l.seen_dropped_ceiling;
        l.tally.scheduled = l.tally.scheduled.saturating_add(new_shed);
        l.tally.dropped_ceiling = l.tally.dropped_ceiling.saturating_add(new_shed);
        l.seen_dropped_ceiling = shed;
    }
}

type Cell = Arc<CellState>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding a lock leaves plain counters behind: keep counting.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Shared {
    config: MetricsConfig,
    fx: [f64; models::Currency::ALL.len()],
    cells: Mutex<Vec<Cell>>,
    collector: Mutex<Collector>,
}

#[derive(Debug)]
struct Collector {
    last_tick: Duration,
    /// Gathered since the last tick.
    interval: Tally,
    /// Since the start of the run.
    cumulative: Tally,
    /// Reset cell swapped into a shard at the next harvest.
    spare: Tally,
    peak_tps: f64,
}

/// A cloneable handle to one run's metrics: hands out [`Shard`]s to workers and produces snapshots,
/// totals and the summary.
#[derive(Debug, Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
}

/// One worker's recording end. Owned by one task; `record*` take `&mut self` and never wait for
/// another worker (see the module docs).
#[derive(Debug)]
pub struct Shard {
    cell: Cell,
    shared: Arc<Shared>,
    sent: u64,
    dropped: u64,
    dropped_ceiling: u64,
}

/// Counters of the run so far (everything recorded up to the call, ticked or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    /// Sent requests that ended in an error.
    pub errors: u64,
    /// Arrivals never sent because the in-flight bound was reached.
    pub dropped: u64,
    /// Arrivals never sent because the rate ceiling shed them.
    pub dropped_ceiling: u64,
    /// `sent - completed`.
    pub in_flight: u64,
}

impl Recorder {
    /// A recorder for one run; fails if the config is inconsistent (see [`MetricsConfig::validate`]).
    pub fn new(config: MetricsConfig) -> Result<Self, MetricsError> {
        config.validate()?;
        let collector = Collector {
            last_tick: Duration::ZERO,
            interval: Tally::new(),
            cumulative: Tally::new(),
            spare: Tally::new(),
            peak_tps: 0.0,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                fx: config.fx_minor_rates(),
                config,
                cells: Mutex::new(Vec::new()),
                collector: Mutex::new(collector),
            }),
        })
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.shared.config
    }

    /// A new shard for one worker. Cheap, but meant to be taken once per worker, not per request.
    pub fn shard(&self) -> Shard {
        let cell = Arc::new(CellState::new());
        lock(&self.shared.cells).push(cell.clone());
        Shard {
            cell,
            shared: self.shared.clone(),
            sent: 0,
            dropped: 0,
            dropped_ceiling: 0,
        }
    }

    /// Ends the interval at `now` (time since the run started, on the driver's clock) and returns its
    /// snapshot. `state`, `phase`, `planned_tps`, `resources`, `active_faults` and `degradation` are
    /// left at their defaults for the orchestrator to fill.
    pub fn tick(&self, now: Duration) -> IntervalSnapshot {
        let mut c = lock(&self.shared.collector);
        self.harvest(&mut c);
        let c = &mut *c;
        c.cumulative.add(&c.interval, self.shared.config.max_agents);
        let cfg = &self.shared.config;
        let interval = now.saturating_sub(c.last_tick);
        let interval_s = interval.as_secs_f64();
        let Collector {
            interval: i,
            cumulative: cum,
            ..
        } = &*c;
        let achieved_tps = if interval_s > 0.0 {
            i.completed as f64 / interval_s
        } else {
            0.0
        };
        let snapshot = IntervalSnapshot {
            t_s: now.as_secs_f64(),
            interval_s,
            scheduled: i.scheduled,
            sent: i.sent,
            completed: i.completed,
            ok: i.ok,
            dropped: i.dropped(),
            dropped_ceiling: i.dropped_ceiling,
            in_flight: cum.sent.saturating_sub(cum.completed),
            achieved_tps,
            errors: error_map(&i.errors, true),
            latency_ms: i.latency_ms(),
            service_time_ms: i.service_time_ms(),
            fraud: i.fraud(),
            per_pattern: per_pattern_map(i),
            agents: all_agent_stats(&i.agents, interval, cfg),
            cumulative: cumulative(cum, now, cfg),
            histograms: cfg.encode_histograms.then(|| EncodedHistograms {
                latency_us: encode(&i.latency),
                service_time_us: encode(&i.service),
            }),
            ..IntervalSnapshot::default()
        };
        c.peak_tps = c.peak_tps.max(achieved_tps);
        c.interval.reset();
        c.last_tick = now;
        snapshot
    }

    /// Counters of everything recorded so far, including what no tick has collected yet.
    pub fn totals(&self) -> Totals {
        let mut c = lock(&self.shared.collector);
        self.harvest(&mut c);
        let (cum, i) = (&c.cumulative, &c.interval);
        let mut t = totals_of(cum);
        let more = totals_of(i);
        t.scheduled = t.scheduled.saturating_add(more.scheduled);
        t.sent += more.sent;
        t.completed += more.completed;
        t.ok += more.ok;
        t.errors += more.errors;
        t.dropped = t.dropped.saturating_add(more.dropped);
        t.dropped_ceiling = t.dropped_ceiling.saturating_add(more.dropped_ceiling);
        t.in_flight = t.sent.saturating_sub(t.completed);
        t
    }

    /// The latency, service-time, errors, fraud, business, agents and load parts of the run's
    /// [`Summary`] (with whole-run histograms), `elapsed` being the run's duration. The orchestrator
    /// fills the rest (ids, target, resilience, criteria).
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut c = lock(&self.shared.collector);
        let run = self.run_so_far(&mut c);
        build_summary(&run, elapsed, c.peak_tps, &self.shared.config)
    }

    /// Bytes held by the recorder's histograms and agent entries (a flat-memory check: constant
    /// over a run once every shard and agent exists).
    pub fn heap_estimate(&self) -> usize {
        let c = lock(&self.shared.collector);
        let cells: usize = lock(&self.shared.cells)
            .iter()
            .map(|cell| lock(&cell.locked).tally.heap_estimate())
            .sum();
        cells + c.interval.heap_estimate() + c.cumulative.heap_estimate() + c.spare.heap_estimate()
    }

    /// Moves every shard's figures into the interval tally (the cumulative one takes the interval at
    /// the tick).
    fn harvest(&self, c: &mut Collector) {
        let max_agents = self.shared.config.max_agents;
        let mut cells = lock(&self.shared.cells);
        cells.retain(|cell| {
            // Checked before the swap: a shard dropped by now cannot record after it.
            let orphan = Arc::strong_count(cell) == 1;
            {
                let mut l = lock(&cell.locked);
                cell.fold(&mut l);
                std::mem::swap(&mut l.tally, &mut c.spare);
            }
            c.interval.add(&c.spare, max_agents);
            c.spare.reset();
            !orphan
        });
    }

    /// The run so far: cumulative plus what the current interval has gathered.
    fn run_so_far(&self, c: &mut Collector) -> Tally {
        self.harvest(c);
        let mut t = c.cumulative.clone();
        t.add(&c.interval, self.shared.config.max_agents);
        t
    }
}

impl Shard {
    /// An arrival was sent (counts as scheduled and sent; in flight until [`record`](Self::record)).
    #[inline]
    pub fn record_sent(&mut self) {
        self.sent += 1;
        self.cell.sent.store(self.sent, Ordering::Relaxed);
    }

    /// An arrival was due but could not be sent because the in-flight bound was reached: counted as
    /// scheduled and as an [`ErrorKind::Dropped`] error, never in the latency histograms. `truth` is
    /// the arrival's label: dropped fraud got no verdict and counts as `unscored`.
    #[inline]
    pub fn record_dropped(&mut self, truth: GroundTruth) {
        self.record_dropped_many(1);
        if truth.is_fraud() {
            lock(&self.cell.locked)
                .tally
                .unscored(crate::tally::pattern_index(&truth));
        }
    }

    /// `n` arrivals dropped at once at the in-flight bound (a backlog counted in bulk); their fraud,
    /// if any, is counted apart with [`record_unscored_fraud`](Self::record_unscored_fraud).
    #[inline]
    pub fn record_dropped_many(&mut self, n: u64) {
        self.dropped = self.dropped.saturating_add(n);
        self.cell.dropped.store(self.dropped, Ordering::Relaxed);
    }

    /// Fraud that was due but never sent (dropped in bulk at the in-flight bound), counted per
    /// pattern (indexed like [`FraudPattern::ALL`](models::FraudPattern::ALL)): it got no verdict,
    /// so it is `unscored`.
    pub fn record_unscored_fraud(&mut self, per_pattern: &[u64; models::FraudPattern::ALL.len()]) {
        if per_pattern.iter().all(|&n| n == 0) {
            return;
        }
        let mut locked = lock(&self.cell.locked);
        for (pattern, &n) in models::FraudPattern::ALL.iter().zip(per_pattern) {
            let index = crate::tally::pattern_index(&GroundTruth::Fraud { pattern: *pattern });
            locked.tally.unscored_many(index, n);
        }
    }

    /// `n` arrivals shed by the rate ceiling: due, never sent, counted as scheduled and in
    /// `dropped_ceiling` (not as errors, not in the latency histograms).
    #[inline]
    pub fn record_dropped_ceiling(&mut self, n: u64) {
        self.dropped_ceiling = self.dropped_ceiling.saturating_add(n);
        self.cell
            .dropped_ceiling
            .store(self.dropped_ceiling, Ordering::Relaxed);
    }

    /// A sent request completed: with a verdict (`Ok`) or an error kind. Latency and service time go
    /// into the histograms for every completion, success or failure (a fast failure is still an answer
    /// the client waited for); the confusion matrix, money and agent figures only for verdicts, and
    /// fraud that ended in an error counts as `unscored`.
    #[inline]
    pub fn record(
        &mut self,
        timing: Timing,
        txn: &Transaction,
        truth: GroundTruth,
        result: Result<&Verdict, ErrorKind>,
    ) {
        let s = &*self.shared;
        lock(&self.cell.locked).tally.record(
            &timing,
            txn,
            truth,
            result,
            &s.fx,
            s.config.max_agents,
        );
    }
}

fn totals_of(t: &Tally) -> Totals {
    Totals {
        scheduled: t.scheduled,
        sent: t.sent,
        completed: t.completed,
        ok: t.ok,
        errors: t.sent_errors(),
        dropped: t.dropped(),
        dropped_ceiling: t.dropped_ceiling,
        in_flight: t.sent.saturating_sub(t.completed),
    }
}

pub(crate) fn error_map(
    errors: &[u64; ERROR_KINDS],
    with_dropped: bool,
) -> BTreeMap<ErrorKind, u64> {
    ErrorKind::ALL
        .iter()
        .zip(errors)
        .filter(|(k, n)| **n > 0 && (with_dropped || **k != ErrorKind::Dropped))
        .map(|(k, n)| (*k, *n))
        .collect()
}

pub(crate) fn cumulative(cum: &Tally, now: Duration, cfg: &MetricsConfig) -> Cumulative {
    Cumulative {
        scheduled: cum.scheduled,
        sent: cum.sent,
        completed: cum.completed,
        dropped: cum.dropped(),
        dropped_ceiling: cum.dropped_ceiling,
        errors: error_map(&cum.errors, true),
        latency_ms: cum.latency_ms(),
        service_time_ms: cum.service_time_ms(),
        fraud: cum.fraud(),
        prevented_amount: cum.prevented,
        false_decline_amount: cum.false_declined,
        cost: running_cost(&cfg.cost, cum.completed, now),
    }
}

pub(crate) fn build_summary(
    cum: &Tally,
    elapsed: Duration,
    peak_tps: f64,
    cfg: &MetricsConfig,
) -> Summary {
    let secs = elapsed.as_secs_f64();
    let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let errors_total = cum.sent_errors();
    Summary {
        duration_s: secs,
        load: LoadSummary {
            scheduled: cum.scheduled,
            sent: cum.sent,
            completed: cum.completed,
            dropped: cum.dropped(),
            dropped_ceiling: cum.dropped_ceiling,
            target_tps_avg: per_s(cum.scheduled),
            achieved_tps_avg: per_s(cum.completed),
            peak_tps,
        },
        latency_ms: cum.latency_ms(),
        service_time_ms: cum.service_time_ms(),
        errors: ErrorSummary {
            total: errors_total,
            rate: if cum.sent == 0 {
                0.0
            } else {
                errors_total as f64 / cum.sent as f64
            },
            by_kind: error_map(&cum.errors, false),
            samples: BTreeMap::new(),
        },
        fraud: fraud_summary(cum, &cfg.cost),
        business: business_summary(
            cum.prevented,
            cum.false_declined,
            cum.completed,
            elapsed,
            &cfg.cost,
        ),
        agents: all_agent_stats(&cum.agents, elapsed, cfg),
        histograms: Some(EncodedHistograms {
            latency_us: encode(&cum.latency),
            service_time_us: encode(&cum.service),
        }),
        ..Summary::default()
    }
}

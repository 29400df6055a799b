//! The [`Driver`]: a dispatcher that walks the arrival schedule on tokio's clock and hands due
//! arrivals to lanes, which send them and record the outcome.

use crate::ceiling::{Admit, Ceiling, TICK};
use crate::config::DriverConfig;
use crate::control::{DriverControl, DriverPhase};
use crate::error::DriverError;
use crate::lane::{Job, LaneCounts, LaneCtx, LaneMsg, lane};
use load_profiles::{Schedule, ScheduledArrival};
use metrics_core::{Recorder, Shard};
use models::{GroundTruth, Transaction};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use targets::Target;
use tokio::sync::mpsc;
use tokio::time::Instant;
use transaction_factory::TransactionFactory;

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The schedule ran to the end of the profile.
    Completed,
    /// [`DriverControl::stop`] was called.
    Stopped,
}

/// What the driver itself counted (the recorder holds the same counts and every distribution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriverReport {
    /// Arrivals that came due: `sent + dropped + dropped_ceiling` (saturating).
    pub scheduled: u64,
    pub sent: u64,
    /// Arrivals not sent because `max_in_flight` requests were out.
    pub dropped: u64,
    /// Arrivals not sent because the `max_tps` ceiling would have delayed them by more than one
    /// dispatcher tick (shed so that the model stays open). `u64::MAX` when a multiplier planned
    /// more arrivals than a `u64` counts.
    pub dropped_ceiling: u64,
    /// Sent requests that ended (`ok + errors`), abandoned ones included.
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    /// Requests still out at the end of the grace period, recorded as timeouts.
    pub abandoned: u64,
    /// How far the schedule clock got (paused time excluded).
    pub schedule_elapsed: Duration,
    pub paused_for: Duration,
    /// From `run` to its return, on tokio's clock.
    pub wall_elapsed: Duration,
    pub end: EndReason,
}

/// One run of the open-model driver. See the crate docs.
pub struct Driver {
    schedule: Schedule,
    factory: Arc<TransactionFactory>,
    target: Arc<dyn Target>,
    recorder: Recorder,
    config: DriverConfig,
    control: DriverControl,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// `schedule`: the arrivals to send (built by `load-profiles` from a profile, an arrival mode, a
    /// seed and optionally a segment); `factory` makes transaction `k` for the arrival with index `k`;
    /// `control`: a clone of the handle the caller keeps.
    pub fn new(
        schedule: Schedule,
        factory: Arc<TransactionFactory>,
        target: Arc<dyn Target>,
        recorder: Recorder,
        config: DriverConfig,
        control: DriverControl,
    ) -> Result<Self, DriverError> {
        config.validate()?;
        Ok(Self {
            schedule,
            factory,
            target,
            recorder,
            config,
            control,
        })
    }

    /// Runs to the end of the profile or until stopped, then waits for in-flight requests (up to
    /// the grace period). Every task it spawns has ended when it returns. Call it inside a tokio
    /// runtime; the time offsets it records are from the instant it is called.
    pub async fn run(self) -> Result<DriverReport, DriverError> {
        let Driver {
            mut schedule,
            factory,
            target,
            recorder,
            config,
            control,
        } = self;
        let origin = Instant::now();
        let lanes = if config.lanes > 0 {
            config.lanes
        } else {
            tokio::runtime::Handle::current()
                .metrics()
                .num_workers()
                .max(1)
        };
        let in_flight = Arc::new(AtomicUsize::new(0));
        let ctx = Arc::new(LaneCtx {
            origin,
            wall_origin: SystemTime::now(),
            target,
            in_flight: in_flight.clone(),
            timeout: config.request_timeout,
            rebase: config.rebase_timestamps,
        });
        let mut senders = Vec::with_capacity(lanes);
        let mut handles = Vec::with_capacity(lanes);
        for _ in 0..lanes {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            handles.push(tokio::spawn(lane(ctx.clone(), rx, recorder.shard())));
        }
        let mut dispatcher = Dispatcher {
            origin,
            paused_total: Duration::ZERO,
            in_flight,
            max_in_flight: config.max_in_flight,
            ceiling: Ceiling::new(config.max_tps, origin),
            shard: recorder.shard(),
            batches: (0..lanes).map(|_| Vec::new()).collect(),
            next_lane: 0,
            scheduled: 0,
            sent: 0,
            dropped: 0,
            dropped_ceiling: 0,
            sent_indices: config
                .sent_log
                .clone()
                .map(|log| (log, Vec::with_capacity(SENT_CHUNK))),
            labels: LabelBudget::new(),
        };
        let outcome = dispatcher
            .run(&mut schedule, &factory, &senders, &control)
            .await;
        if let Some((log, indices)) = dispatcher.sent_indices.take() {
            log.extend(indices);
        }

        control.publish(|s| s.phase = DriverPhase::Draining);
        let deadline = at_or_far(Instant::now(), config.grace_period);
        for tx in &senders {
            // A lane that is gone has failed; its join error is reported below.
            let _ = tx.send(LaneMsg::Drain(deadline));
        }
        drop(senders);
        let mut counts = LaneCounts::default();
        let mut lane_error = None;
        for h in handles {
            match h.await {
                Ok(c) => {
                    counts.completed += c.completed;
                    counts.ok += c.ok;
                    counts.errors += c.errors;
                    counts.abandoned += c.abandoned;
                }
                Err(e) => {
                    lane_error = Some(DriverError::Lane {
                        reason: e.to_string(),
                    })
                }
            }
        }
        let (end, schedule_elapsed) = outcome?;
        if let Some(e) = lane_error {
            return Err(e);
        }
        let paused_for = dispatcher.paused_total;
        control.publish(|s| {
            s.phase = DriverPhase::Finished;
            s.schedule_offset = schedule_elapsed;
            s.paused_for = paused_for;
        });
        Ok(DriverReport {
            scheduled: dispatcher.scheduled,
            sent: dispatcher.sent,
            dropped: dispatcher.dropped,
            dropped_ceiling: dispatcher.dropped_ceiling,
            completed: counts.completed,
            ok: counts.ok,
            errors: counts.errors,
            abandoned: counts.abandoned,
            schedule_elapsed,
            paused_for,
            wall_elapsed: origin.elapsed(),
            end,
        })
    }
}

/// Arrivals a dispatcher round handles one by one before it yields to other tasks. At 60,000 TPS a
/// 1 ms round sends about 60; this only bounds a round when a huge ceiling lets a huge backlog
/// through (drops are counted in bulk, a few steps per round).
const SENDS_PER_ROUND: usize = 4096;

/// Far enough to mean "not before a command": what tokio itself uses as a far future.
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `base + offset`, or a far instant when that does not fit in an `Instant` (a profile of 1e19 s).
pub(crate) fn at_or_far(base: Instant, offset: Duration) -> Instant {
    base.checked_add(offset)
        .or_else(|| base.checked_add(FAR))
        .unwrap_or(base)
}

struct Dispatcher {
    origin: Instant,
    paused_total: Duration,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: usize,
    ceiling: Ceiling,
    /// Records the dropped arrivals (lanes record everything else).
    shard: Shard,
    batches: Vec<Vec<Job>>,
    next_lane: usize,
    scheduled: u64,
    sent: u64,
    dropped: u64,
    dropped_ceiling: u64,
    /// The indices sent and not yet handed to the [`crate::SentLog`] the config asks for: handed
    /// over every [`SENT_CHUNK`], so that a streaming log keeps memory bounded however long the run.
    sent_indices: Option<(crate::SentLog, Vec<u64>)>,
    labels: LabelBudget,
}

/// Sent indices handed to the log at once: 512 KiB of them.
const SENT_CHUNK: usize = 64 * 1024;

/// Makes transaction `k`, reusing the factory's sequential iterator when `k` follows the last one.
/// The fraud among the first `n` of the arrivals from index `first` dropped at the in-flight bound,
/// per pattern, counted from the plans (one block plan per 256 indices, no transaction made).
fn unscored_span(
    factory: &TransactionFactory,
    first: u64,
    n: u64,
) -> [u64; models::FraudPattern::ALL.len()] {
    factory.fraud_counts(first..first.saturating_add(n))
}

/// How many dropped arrivals the dispatcher may label (read their plans to count the unscored
/// fraud): a budget that refills with schedule time at [`LABELS_PER_SEC`] up to [`MAX_LABELLED`].
/// A 20 s stall at 50,000 TPS (1,000,000 drops in one step) is labelled whole; an absurd rate
/// (1e14 TPS, a backlog past the bound every round) costs a bounded 2,000 labels per millisecond
/// instead of a million per round, so the dispatcher keeps time. Drops past the budget are still
/// counted as dropped; only their fraud is left out of `unscored`.
struct LabelBudget {
    left: u64,
    refilled_at: Duration,
}

const LABELS_PER_SEC: u64 = 2_000_000;
const MAX_LABELLED: u64 = 1 << 20;

impl LabelBudget {
    fn new() -> Self {
        Self {
            left: MAX_LABELLED,
            refilled_at: Duration::ZERO,
        }
    }

    /// Takes up to `n` labels at schedule time `now`; returns how many were granted.
    fn take(&mut self, now: Duration, n: u64) -> u64 {
        let since = now.saturating_sub(self.refilled_at);
        let earned = (since.as_nanos() * u128::from(LABELS_PER_SEC) / 1_000_000_000)
            .min(u128::from(MAX_LABELLED)) as u64;
        if earned > 0 {
            self.left = self.left.saturating_add(earned).min(MAX_LABELLED);
            self.refilled_at = now;
        }
        let granted = n.min(self.left);
        self.left -= granted;
        granted
    }
}

struct Source<'a> {
    factory: &'a TransactionFactory,
    iter: transaction_factory::Iter<'a>,
}

impl<'a> Source<'a> {
    fn new(factory: &'a TransactionFactory) -> Self {
        Self {
            factory,
            iter: factory.iter(),
        }
    }

    fn make(&mut self, k: u64) -> (Transaction, GroundTruth) {
        if self.iter.position() != Some(k) {
            self.iter = self.factory.iter_from(k);
        }
        self.iter.next().unwrap_or_else(|| self.factory.at(k))
    }
}

impl Dispatcher {
    /// The schedule clock: time since the start, paused time excluded.
    fn schedule_now(&self) -> Duration {
        self.origin.elapsed().saturating_sub(self.paused_total)
    }

    async fn run(
        &mut self,
        schedule: &mut Schedule,
        factory: &TransactionFactory,
        lanes: &[mpsc::UnboundedSender<LaneMsg>],
        control: &DriverControl,
    ) -> Result<(EndReason, Duration), DriverError> {
        let mut commands = control.commands();
        let mut source = Source::new(factory);
        let duration = schedule.profile().duration();
        let mut multiplier = 1.0;
        let mut next: Option<ScheduledArrival> = None;
        let mut pulled = false;
        // A timer that is never awaited, kept one tick after the dispatcher's own wake-up. When the
        // dispatcher's timer fires, tokio's time driver takes the earliest timer left as its next
        // wake-up; without this one that is a far timer (the metrics tick, a request timeout), so
        // registering the next round's wake-up, earlier than it, would unpark the driver: a write
        // to its eventfd and one more `epoll_wait` every round. With it, the next round's wake-up is
        // never earlier than the driver expects.
        let keeper = tokio::time::sleep_until(Instant::now() + TICK);
        let mut keeper = std::pin::pin!(keeper);
        loop {
            let c = *commands.borrow_and_update();
            if c.stop {
                return Ok((EndReason::Stopped, self.schedule_now()));
            }
            if c.paused {
                control.publish(|s| s.phase = DriverPhase::Paused);
                let since = Instant::now();
                while commands.changed().await.is_ok() {
                    let c = *commands.borrow();
                    if c.stop || !c.paused {
                        break;
                    }
                }
                self.paused_total += since.elapsed();
                continue;
            }
            let now = self.schedule_now();
            if c.multiplier != multiplier {
                schedule.set_multiplier_at(now, c.multiplier).map_err(|_| {
                    DriverError::Multiplier {
                        value: c.multiplier,
                    }
                })?;
                multiplier = c.multiplier;
                if next.is_none() {
                    pulled = false;
                }
            }
            if !pulled {
                next = schedule.next();
                pulled = true;
            }

            // Send (or drop) every arrival whose instant has passed. A backlog is counted in one
            // step (`skip_until`), never visited arrival by arrival, and a round sends at most
            // `SENDS_PER_ROUND` before it yields, so stop is seen whatever the rate.
            let base = self.origin + self.paused_total;
            let mut ceiling_wait = None;
            let mut budget = SENDS_PER_ROUND;
            while let Some(a) = next.filter(|a| a.at <= now) {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                if self.in_flight.load(Ordering::Relaxed) >= self.max_in_flight {
                    // Every arrival due by now finds the bound reached.
                    let n = schedule.skip_until(now).saturating_add(1);
                    self.shard.record_dropped_many(n);
                    // Dropped fraud got no verdict: unscored, counted from the plans (nothing made).
                    let labelled = self.labels.take(now, n);
                    self.shard
                        .record_unscored_fraud(&unscored_span(factory, a.index, labelled));
                    self.dropped = self.dropped.saturating_add(n);
                    self.scheduled = self.scheduled.saturating_add(n);
                    next = schedule.next();
                    continue;
                }
                match self.ceiling.admit(base + a.at) {
                    Admit::Now => {}
                    Admit::At(at) => {
                        ceiling_wait = Some(at);
                        break;
                    }
                    Admit::Shed { free_at } => {
                        // Those intended before `free_at - TICK` would wait more than a tick too.
                        let cutoff = free_at
                            .saturating_duration_since(base)
                            .saturating_sub(TICK + Duration::from_nanos(1));
                        let n = schedule.skip_until(cutoff.min(now)).saturating_add(1);
                        // Not unscored: the generator fell short here, not the target (reported apart
                        // as `dropped_ceiling`), and a shed backlog can be astronomically long.
                        self.shard.record_dropped_ceiling(n);
                        self.dropped_ceiling = self.dropped_ceiling.saturating_add(n);
                        self.scheduled = self.scheduled.saturating_add(n);
                        next = schedule.next();
                        continue;
                    }
                }
                let (txn, truth) = source.make(a.index);
                self.in_flight.fetch_add(1, Ordering::Relaxed);
                self.sent += 1;
                if let Some((log, chunk)) = self.sent_indices.as_mut() {
                    chunk.push(a.index);
                    if chunk.len() >= SENT_CHUNK {
                        log.extend(std::mem::replace(chunk, Vec::with_capacity(SENT_CHUNK)));
                    }
                }
                let intended = a.at.saturating_add(self.paused_total);
                self.batches[self.next_lane].push(Job {
                    intended,
                    txn,
                    truth,
                });
                self.next_lane = (self.next_lane + 1) % self.batches.len();
                self.scheduled = self.scheduled.saturating_add(1);
                next = schedule.next();
            }
            self.flush(lanes);
            if budget == 0 && next.is_some_and(|a| a.at <= now) {
                // More is due: let other tasks run, then carry on (commands are read first).
                tokio::task::yield_now().await;
                continue;
            }

            let wake = match (ceiling_wait, next) {
                (Some(at), _) => at,
                (None, Some(a)) => at_or_far(base, a.at),
                (None, None) if now >= duration => return Ok((EndReason::Completed, now)),
                // Nothing more under this multiplier: wait for the profile's end or a change.
                (None, None) => {
                    pulled = false;
                    at_or_far(base, duration)
                }
            };
            control.publish(|s| {
                s.phase = DriverPhase::Running;
                s.schedule_offset = now;
                s.paused_for = self.paused_total;
                s.multiplier = multiplier;
            });
            let sleep = tokio::time::sleep_until(wake);
            keeper.as_mut().reset(at_or_far(wake, TICK));
            tokio::select! {
                biased;
                _ = commands.changed() => {}
                () = sleep => {}
            }
        }
    }

    fn flush(&mut self, lanes: &[mpsc::UnboundedSender<LaneMsg>]) {
        for (batch, tx) in self.batches.iter_mut().zip(lanes) {
            if !batch.is_empty() {
                // The next batch gets this one's size up front: a batch grown push by push
                // reallocates (and copies its jobs) about log2(n) times, per lane every round.
                let next = Vec::with_capacity(batch.len());
                // A lane only goes away by panicking; its join error is reported when the run ends.
                let _ = tx.send(LaneMsg::Jobs(std::mem::replace(batch, next)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_budget_covers_a_long_stall_whole_and_an_absurd_rate_at_its_pace() {
        let mut b = LabelBudget::new();
        // A 20 s stall at 50,000 TPS: a million drops in one step, all labelled.
        assert_eq!(b.take(Duration::from_secs(20), 1_000_000), 1_000_000);
        // Then a backlog of 1e12 every millisecond: 2,000 labels per millisecond, no more.
        let mut granted = 0;
        for ms in 1..=1_000u64 {
            granted += b.take(
                Duration::from_secs(20) + Duration::from_millis(ms),
                1_000_000_000_000,
            );
        }
        assert!(
            (granted as i64 - 2_000_000 - 48_576).abs() <= 2_000,
            "{granted}"
        );
        // Idle time refills it, up to the cap.
        assert_eq!(b.take(Duration::from_secs(3_600), u64::MAX), MAX_LABELLED);
    }
}

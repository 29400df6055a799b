//! A lane: a task that runs requests concurrently (in reused [`Slots`]), and records each one on its
//! own metrics shard when it completes. The dispatcher hands it batches of due arrivals.
//!
//! An HTTP target carries at most [`HttpTarget::max_exchanges`] requests at once; a lane starts no
//! more than that, and keeps the arrivals beyond in a queue of its own until a request ends. At
//! saturation thousands of arrivals wait for a connection: as started requests each waited in its
//! slot (a kilobyte) on the pool's semaphore, and walking those slots and the semaphore's waiter
//! list cost about a fifth of the CPU; queued as arrivals, a saturated run does 12-29% more
//! requests per CPU-second (`docs/benchmarks.md`, eighth round). What a waiting arrival is charged is unchanged: its service time and its
//! timeout count from when the lane took it, as they did while it waited on the semaphore.

use crate::expiry::{Expired, Expiry};
use crate::slots::Slots;
use metrics_core::{Shard, Timing};
use models::{ErrorKind, GroundTruth, Timestamp, Transaction, Verdict};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, SystemTime};
use targets::{HttpTarget, Target, TargetError};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One arrival to send. `intended` is its planned send time on the run's clock (paused time included).
#[derive(Debug)]
pub(crate) struct Job {
    pub intended: Duration,
    pub txn: Transaction,
    pub truth: GroundTruth,
}

#[derive(Debug)]
pub(crate) enum LaneMsg {
    Jobs(Vec<Job>),
    /// No more jobs; abandon what is still in flight at this instant.
    Drain(Instant),
}

pub(crate) struct LaneCtx {
    pub origin: Instant,
    pub wall_origin: SystemTime,
    pub target: Arc<dyn Target>,
    pub in_flight: Arc<AtomicUsize>,
    pub timeout: Option<Duration>,
    pub rebase: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LaneCounts {
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    pub abandoned: u64,
}

enum Outcome {
    Answered(Result<Verdict, TargetError>),
    Abandoned,
}

struct Done {
    job: Job,
    seq: u64,
    sent: Instant,
    completed: Instant,
    outcome: Outcome,
}

/// An arrival the lane has taken and not yet started: every place was taken.
struct Waiting {
    seq: u64,
    /// When the lane took it: its service time and its timeout count from here.
    taken: Instant,
    job: Job,
}

/// `http` is `ctx.target.as_http()`, asked once per lane. `taken`: when the lane took an arrival
/// that waited for a place (`None`: now, for one started at once).
async fn request(
    ctx: &LaneCtx,
    http: Option<&HttpTarget>,
    expiry: &Expiry,
    seq: u64,
    taken: Option<Instant>,
    mut job: Job,
) -> Done {
    let sent = taken.unwrap_or_else(Instant::now);
    if ctx.rebase {
        job.txn.timestamp = Timestamp::from_system_time(ctx.wall_origin + (sent - ctx.origin));
    }
    // A timeout too long for an `Instant` never expires.
    let deadline = ctx.timeout.and_then(|t| sent.checked_add(t));
    let outcome = match http {
        // An HTTP target's future kept inline in this request's slot: no allocation per request.
        Some(http) => answer(ctx, expiry, seq, deadline, http.score_unboxed(&job.txn)).await,
        // Through the trait object itself: `ctx.target.score` would pick `Arc<T>`'s impl, one more
        // boxed future per request around the target's own.
        None => {
            answer(
                ctx,
                expiry,
                seq,
                deadline,
                ctx.target.as_ref().score(&job.txn),
            )
            .await
        }
    };
    Done {
        job,
        seq,
        sent,
        completed: Instant::now(),
        outcome,
    }
}

/// The answer of `call`, or why it stopped waiting for it. The answer is polled first; the
/// deadline check is two atomic loads (see `expiry`).
async fn answer(
    ctx: &LaneCtx,
    expiry: &Expiry,
    seq: u64,
    deadline: Option<Instant>,
    call: impl Future<Output = Result<Verdict, TargetError>>,
) -> Outcome {
    let mut call = std::pin::pin!(call);
    let mut registered = false;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = call.as_mut().poll(cx) {
            return Poll::Ready(Outcome::Answered(r));
        }
        match expiry.poll_expired(seq, deadline, &mut registered, cx) {
            None => Poll::Pending,
            Some(Expired::Abandoned) => Poll::Ready(Outcome::Abandoned),
            Some(Expired::Timeout) => Poll::Ready(timed_out(ctx)),
        }
    })
    .await
}

fn record(ctx: &LaneCtx, shard: &mut Shard, counts: &mut LaneCounts, d: Done) {
    ctx.in_flight.fetch_sub(1, Ordering::Relaxed);
    let timing = Timing::new(
        d.job.intended,
        d.sent - ctx.origin,
        d.completed - ctx.origin,
    );
    let (txn, truth) = (&d.job.txn, d.job.truth);
    counts.completed += 1;
    match d.outcome {
        Outcome::Answered(Ok(v)) => {
            counts.ok += 1;
            shard.record(timing, txn, truth, Ok(&v));
        }
        Outcome::Answered(Err(e)) => {
            counts.errors += 1;
            shard.record(timing, txn, truth, Err(e.kind()));
        }
        Outcome::Abandoned => {
            counts.errors += 1;
            counts.abandoned += 1;
            shard.record(timing, txn, truth, Err(ErrorKind::Timeout));
        }
    }
}

/// Runs until the dispatcher has sent `Drain` (or gone) and every request has completed or been
/// abandoned at the drain deadline.
pub(crate) async fn lane(
    ctx: Arc<LaneCtx>,
    mut rx: mpsc::UnboundedReceiver<LaneMsg>,
    mut shard: Shard,
) -> LaneCounts {
    let ctx = &*ctx;
    let http = ctx.target.as_http();
    // Requests started at once; the target itself bounds the others, if it does.
    let places = http.map_or(usize::MAX, HttpTarget::max_exchanges).max(1);
    let expiry = Expiry::default();
    let expiry = &expiry;
    let mut counts = LaneCounts::default();
    let mut futs = Slots::new();
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    let mut open = true;
    let mut deadline: Option<Instant> = None;
    let mut abandoned = false;
    // One timer for every request's timeout: armed for the earliest deadline that may be pending.
    let sweep = tokio::time::sleep_until(Instant::now());
    let mut sweep = std::pin::pin!(sweep);
    let mut sweep_armed = false;
    loop {
        // Places freed by the requests that ended go to the arrivals that waited longest.
        while futs.len() < places
            && let Some(w) = waiting.pop_front()
        {
            futs.push(|| request(ctx, http, expiry, w.seq, Some(w.taken), w.job));
        }
        if !open && futs.is_empty() && waiting.is_empty() {
            break;
        }
        if !sweep_armed
            && let Some(t) = ctx.timeout
            && !futs.is_empty()
        {
            // Nothing in flight is due before now + t (a request's deadline is its send + t).
            sweep
                .as_mut()
                .reset(crate::driver::at_or_far(Instant::now(), t));
            sweep_armed = true;
        }
        let draining = deadline.filter(|_| !abandoned);
        tokio::select! {
            biased;
            msg = rx.recv(), if open => match msg {
                Some(LaneMsg::Jobs(jobs)) => {
                    // Read once for the arrivals of this batch that wait.
                    let mut now = None;
                    for job in jobs {
                        shard.record_sent();
                        if waiting.is_empty() && futs.len() < places {
                            let seq = expiry.push(None);
                            futs.push(|| request(ctx, http, expiry, seq, None, job));
                        } else {
                            let taken = *now.get_or_insert_with(Instant::now);
                            let deadline = ctx.timeout.and_then(|t| taken.checked_add(t));
                            let seq = expiry.push(deadline);
                            waiting.push_back(Waiting { seq, taken, job });
                        }
                    }
                }
                Some(LaneMsg::Drain(at)) => {
                    open = false;
                    deadline = Some(at);
                }
                None => {
                    open = false;
                    deadline.get_or_insert_with(Instant::now);
                }
            },
            // Every completion at once, recorded as it comes out of its slot.
            Some(_) = std::future::poll_fn(|cx| futs.poll_each(cx, |done: Done| {
                expiry.done(done.seq);
                record(ctx, &mut shard, &mut counts, done);
            })), if !futs.is_empty() => {}
            () = sweep.as_mut(), if sweep_armed => {
                let now = Instant::now();
                let timeout = ctx.timeout.unwrap_or_default();
                match expiry.sweep(now, timeout) {
                    Some(next) => sweep.as_mut().reset(next),
                    None => sweep_armed = false,
                }
                // Arrivals that timed out before a place came: nothing polls them, so end them here.
                while let Some(w) = waiting.front()
                    && expiry.timed_out(w.seq)
                {
                    let w = waiting.pop_front().expect("front was just seen");
                    end_waiting(ctx, &mut shard, &mut counts, w, now, timed_out(ctx));
                }
            }
            () = sleep_opt(draining), if draining.is_some() => {
                abandoned = true;
                expiry.abandon_all();
                let now = Instant::now();
                for w in waiting.drain(..) {
                    end_waiting(ctx, &mut shard, &mut counts, w, now, Outcome::Abandoned);
                }
            }
            else => break,
        }
    }
    counts
}

/// A request that ran out of the driver's request timeout, started or still waiting.
fn timed_out(ctx: &LaneCtx) -> Outcome {
    Outcome::Answered(Err(TargetError::Timeout {
        timeout_ms: ctx.timeout.map_or(0, |t| t.as_millis() as u64),
    }))
}

/// Records an arrival that ended while it waited for a place.
fn end_waiting(
    ctx: &LaneCtx,
    shard: &mut Shard,
    counts: &mut LaneCounts,
    w: Waiting,
    now: Instant,
    outcome: Outcome,
) {
    let done = Done {
        job: w.job,
        seq: w.seq,
        sent: w.taken,
        completed: now,
        outcome,
    };
    record(ctx, shard, counts, done);
}

/// Built lazily (an `async fn` does nothing until polled), so a disabled select branch costs nothing.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

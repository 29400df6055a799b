//! A lane: a task that runs requests concurrently (a `FuturesUnordered`), and records each one on its
//! own metrics shard when it completes. The dispatcher hands it batches of due arrivals.

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use metrics_core::{Shard, Timing};
use models::{ErrorKind, GroundTruth, Timestamp, Transaction, Verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use targets::{Target, TargetError};
use tokio::sync::{mpsc, watch};
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
    sent: Instant,
    completed: Instant,
    outcome: Outcome,
}

async fn request(ctx: Arc<LaneCtx>, mut job: Job, mut cancel: watch::Receiver<bool>) -> Done {
    let sent = Instant::now();
    if ctx.rebase {
        job.txn.timestamp = Timestamp::from_system_time(ctx.wall_origin + (sent - ctx.origin));
    }
    let call = async {
        match ctx.timeout {
            None => ctx.target.score(&job.txn).await,
            Some(t) => tokio::time::timeout(t, ctx.target.score(&job.txn))
                .await
                .unwrap_or(Err(TargetError::Timeout {
                    timeout_ms: t.as_millis() as u64,
                })),
        }
    };
    let abandoned = async {
        // The sender lives as long as the lane; if it were gone, never abandon.
        if cancel.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    // Biased: the answer is polled first, and no random branch order is drawn per request.
    let outcome = tokio::select! {
        biased;
        r = call => Outcome::Answered(r),
        () = abandoned => Outcome::Abandoned,
    };
    Done {
        job,
        sent,
        completed: Instant::now(),
        outcome,
    }
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
    let mut counts = LaneCounts::default();
    let mut futs = FuturesUnordered::new();
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let mut open = true;
    let mut deadline: Option<Instant> = None;
    loop {
        if !open && futs.is_empty() {
            break;
        }
        let draining = deadline.filter(|_| !*cancel_tx.borrow());
        tokio::select! {
            biased;
            msg = rx.recv(), if open => match msg {
                Some(LaneMsg::Jobs(jobs)) => {
                    for job in jobs {
                        shard.record_sent();
                        futs.push(request(ctx.clone(), job, cancel_rx.clone()));
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
            Some(done) = futs.next(), if !futs.is_empty() => record(&ctx, &mut shard, &mut counts, done),
            () = sleep_opt(draining), if draining.is_some() => {
                let _ = cancel_tx.send(true);
            }
            else => break,
        }
    }
    counts
}

/// Built lazily (an `async fn` does nothing until polled), so a disabled select branch costs nothing.
async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

//! The pipeline's stages: their names, and the runtime state of each (a bounded-concurrency server with
//! a queue in front, its counters and its latency histogram).

use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// A stage of the reference pipeline, in processing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    /// Reads the transaction off the stream (Kinesis in the platform).
    Ingestion,
    /// Features of the transaction alone: amount, merchant category, channel.
    TransactionAnalyzer,
    /// Per-card history: velocity, card testing, impossible travel.
    PatternDetector,
    /// Geography, device, merchant and amount against the card's profile.
    RiskAssessor,
    /// Combines the findings into a decision (the model call).
    DecisionMaker,
}

impl StageName {
    pub const ALL: [StageName; 5] = [
        StageName::Ingestion,
        StageName::TransactionAnalyzer,
        StageName::PatternDetector,
        StageName::RiskAssessor,
        StageName::DecisionMaker,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            StageName::Ingestion => "ingestion",
            StageName::TransactionAnalyzer => "transaction_analyzer",
            StageName::PatternDetector => "pattern_detector",
            StageName::RiskAssessor => "risk_assessor",
            StageName::DecisionMaker => "decision_maker",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for StageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StageName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StageName::ALL
            .into_iter()
            .find(|n| n.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = StageName::ALL.iter().map(|n| n.as_str()).collect();
                format!(
                    "unknown stage {s:?}; the built-in target's stages are {}",
                    known.join(", ")
                )
            })
    }
}

/// Upper bounds of the latency histogram buckets, in microseconds (Prometheus `le`, in seconds, is this / 1e6).
pub(crate) const BUCKETS_US: [u64; 14] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000,
];

/// How long a stage serves one request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ServiceDist {
    Zero,
    Constant(Duration),
    LogNormal(LogNormal<f64>),
}

impl ServiceDist {
    pub fn new(mean: Duration, cv: f64) -> Self {
        if mean.is_zero() {
            ServiceDist::Zero
        } else if cv == 0.0 {
            ServiceDist::Constant(mean)
        } else {
            // from_mean_cv only fails for a non-positive mean or a negative cv, both excluded here.
            LogNormal::from_mean_cv(mean.as_secs_f64(), cv)
                .map_or(ServiceDist::Constant(mean), ServiceDist::LogNormal)
        }
    }

    /// One service time, drawn from the distribution.
    pub fn sample(&self) -> Duration {
        match self {
            ServiceDist::Zero => Duration::ZERO,
            ServiceDist::Constant(d) => *d,
            ServiceDist::LogNormal(dist) => {
                Duration::from_secs_f64(dist.sample(&mut rand::rng()).min(60.0))
            }
        }
    }
}

/// How far the timing correction may run ahead or behind: a long stall (a starved CPU) is not paid
/// back by a long burst of zero-length services.
const MAX_TIMING_DEBT_US: i64 = 50_000;

/// One stage at run time.
#[derive(Debug)]
pub(crate) struct StageRuntime {
    pub name: StageName,
    pub service: ServiceDist,
    pub concurrency: usize,
    pub semaphore: Semaphore,
    pub mean_service: Duration,
    pub queue_limit: usize,
    pub deadline: Option<Duration>,
    pub queued: AtomicUsize,
    pub in_service: AtomicUsize,
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    pub skipped: AtomicU64,
    pub busy_us: AtomicU64,
    pub latency_sum_us: AtomicU64,
    /// Service time wanted minus service time slept, summed over the stage's services (µs). Timers
    /// fire late (tokio's wheel has millisecond ticks), so each sleep is shortened by what earlier
    /// ones overshot: the stage's mean service time, and so its capacity, stay what was configured.
    pub timing_debt_us: AtomicI64,
    /// Counts per bucket of [`BUCKETS_US`], plus one for everything above.
    pub buckets: [AtomicU64; BUCKETS_US.len() + 1],
}

impl StageRuntime {
    pub fn new(
        name: StageName,
        service: ServiceDist,
        concurrency: usize,
        mean_service: Duration,
        queue_limit: usize,
        deadline: Option<Duration>,
    ) -> Self {
        Self {
            name,
            service,
            concurrency,
            semaphore: Semaphore::new(concurrency),
            mean_service,
            queue_limit,
            deadline,
            queued: AtomicUsize::new(0),
            in_service: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            busy_us: AtomicU64::new(0),
            latency_sum_us: AtomicU64::new(0),
            timing_debt_us: AtomicI64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// How long to sleep for a service of `want`: `want` with a share of the stage's timing debt
    /// claimed (taken off the debt at once, so that concurrent services do not all correct for the
    /// same overshoot), at most `want` either way.
    pub fn corrected(&self, want: Duration) -> Duration {
        let want_us = want.as_micros() as i64;
        let mut claim = 0;
        let _ = self
            .timing_debt_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                claim = d.clamp(-want_us, want_us);
                Some(d - claim)
            });
        Duration::from_micros((want_us + claim) as u64)
    }

    /// Books a sleep that was meant to last `intended` and took `took`: the overshoot becomes debt.
    pub fn settle(&self, intended: Duration, took: Duration) {
        let delta = intended.as_micros() as i64 - took.as_micros() as i64;
        let _ = self
            .timing_debt_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some((d + delta).clamp(-MAX_TIMING_DEBT_US, MAX_TIMING_DEBT_US))
            });
    }

    /// Counts one request that left the stage after `us` microseconds (queueing included).
    pub fn record(&self, us: u64, ok: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        self.latency_sum_us.fetch_add(us, Ordering::Relaxed);
        let i = BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(BUCKETS_US.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StageSnapshot {
        let requests = self.requests.load(Ordering::Relaxed);
        let sum = self.latency_sum_us.load(Ordering::Relaxed);
        StageSnapshot {
            name: self.name,
            concurrency: self.concurrency,
            capacity_tps: if self.mean_service.is_zero() {
                f64::INFINITY
            } else {
                self.concurrency as f64 / self.mean_service.as_secs_f64()
            },
            queue_depth: self.queued.load(Ordering::Relaxed),
            in_service: self.in_service.load(Ordering::Relaxed),
            requests,
            failures: self.failures.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            busy: Duration::from_micros(self.busy_us.load(Ordering::Relaxed)),
            mean_latency: Duration::from_micros(sum.checked_div(requests).unwrap_or(0)),
        }
    }
}

/// A stage's state and counters at one instant; counters are totals since the pipeline started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSnapshot {
    pub name: StageName,
    /// Requests it serves at once.
    pub concurrency: usize,
    /// Throughput at which it saturates: concurrency / mean service time (infinite with no service time).
    pub capacity_tps: f64,
    /// Requests waiting for it now.
    pub queue_depth: usize,
    /// Requests it is serving now.
    pub in_service: usize,
    /// Requests that left it (served, skipped or failed).
    pub requests: u64,
    /// Requests it failed or skipped (`ok: false` in the verdict's timings).
    pub failures: u64,
    /// Requests skipped because they waited past the stage's deadline.
    pub skipped: u64,
    /// Total time its servers were busy; utilization = busy / (wall time × concurrency).
    #[serde(with = "models::duration_serde")]
    pub busy: Duration,
    /// Mean time in the stage, queueing included.
    #[serde(with = "models::duration_serde")]
    pub mean_latency: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in StageName::ALL {
            assert_eq!(n.as_str().parse::<StageName>().unwrap(), n);
            assert_eq!(StageName::ALL[n.index()], n);
        }
        assert!(
            "model"
                .parse::<StageName>()
                .unwrap_err()
                .contains("pattern_detector")
        );
    }

    #[test]
    fn histogram_counts_into_buckets() {
        let s = StageRuntime::new(
            StageName::Ingestion,
            ServiceDist::Zero,
            2,
            Duration::from_millis(1),
            10,
            None,
        );
        s.record(100, true);
        s.record(1_000, true);
        s.record(9_000_000, false);
        assert_eq!(s.buckets[0].load(Ordering::Relaxed), 1);
        assert_eq!(s.buckets[2].load(Ordering::Relaxed), 1);
        assert_eq!(s.buckets[BUCKETS_US.len()].load(Ordering::Relaxed), 1);
        let snap = s.snapshot();
        assert_eq!((snap.requests, snap.failures), (3, 1));
        assert!((snap.capacity_tps - 2000.0).abs() < 1e-9);
    }
}

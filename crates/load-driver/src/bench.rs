//! [`bench_inprocess`]: the driver's own throughput against an in-process closure target, for
//! `benches/driver.rs` and for anyone checking what this machine can carry.

use crate::{Driver, DriverConfig, DriverControl, DriverError};
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder};
use models::{Arrival, Decision, LoadProfile, Stage, Verdict};
use std::sync::Arc;
use std::time::Duration;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use targets::FnTarget;
use transaction_factory::{FactoryConfig, TransactionFactory};

/// What one [`bench_inprocess`] run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    pub planned_tps: f64,
    pub duration: Duration,
    pub sent: u64,
    pub completed: u64,
    pub dropped: u64,
    /// `completed / duration`.
    pub achieved_tps: f64,
    /// User + system CPU time of this process during the run (all threads: the driver, the target
    /// closure and the 1 s metrics ticker).
    pub cpu_seconds: f64,
    /// Wall time of the run, drain included.
    pub wall_seconds: f64,
    /// Latency from the intended send time, p99 and max, in ms.
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
}

fn cpu_ms(system: &mut System, pid: Pid) -> u64 {
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing().with_cpu(),
    );
    system.process(pid).map_or(0, |p| p.accumulated_cpu_time())
}

/// Drives a sustained `rate_tps` for `duration` (uniform arrivals) against a closure that approves
/// every transaction at once, on a 2-worker tokio runtime it builds (so call it outside any
/// runtime), with a metrics ticker every second. Returns achieved TPS and CPU-seconds.
pub fn bench_inprocess(rate_tps: f64, duration: Duration) -> Result<BenchReport, DriverError> {
    let setup = |what: &str, e: &dyn std::fmt::Display| DriverError::Setup {
        reason: format!("{what}: {e}"),
    };
    let profile = Profile::new(&LoadProfile {
        arrival: Arrival::Uniform,
        stages: vec![Stage::Sustained {
            tps: rate_tps,
            duration,
            name: None,
        }],
    })
    .map_err(|e| setup("invalid profile", &e))?;
    let factory = Arc::new(
        TransactionFactory::new(42, FactoryConfig::default())
            .map_err(|e| setup("transaction factory", &e))?,
    );
    let recorder = Recorder::new(MetricsConfig::default()).map_err(|e| setup("recorder", &e))?;
    let verdict = Verdict {
        decision: Decision::Approve,
        risk_score: 0.1,
        reasons: vec![],
        agents: vec![],
    };
    let target = Arc::new(FnTarget::new(move |_txn| {
        let v = verdict.clone();
        async move { Ok(v) }
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| setup("tokio runtime", &e))?;
    let mut system = System::new().map_err(|e| setup("process statistics", &e))?;
    let pid = sysinfo::get_current_pid().map_err(|e| setup("own pid", &e))?;

    let cpu_before = cpu_ms(&mut system, pid);
    let wall = std::time::Instant::now();
    let report = runtime.block_on(async {
        let control = DriverControl::new();
        let driver = Driver::new(
            Schedule::new(profile, Arrival::Uniform, 42),
            factory,
            target,
            recorder.clone(),
            DriverConfig::default(),
            control.clone(),
        )?;
        let ticker_recorder = recorder.clone();
        let ticker = tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut every =
                tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
            loop {
                every.tick().await;
                ticker_recorder.tick(start.elapsed());
            }
        });
        let report = driver.run().await;
        ticker.abort();
        let _ = ticker.await; // aborted: awaited so that no task outlives the run
        report
    })?;
    let wall_seconds = wall.elapsed().as_secs_f64();
    let cpu_seconds = cpu_ms(&mut system, pid).saturating_sub(cpu_before) as f64 / 1000.0;
    let summary = recorder.summary(duration);
    Ok(BenchReport {
        planned_tps: rate_tps,
        duration,
        sent: report.sent,
        completed: report.completed,
        dropped: report.dropped,
        achieved_tps: report.completed as f64 / duration.as_secs_f64(),
        cpu_seconds,
        wall_seconds,
        latency_p99_ms: summary.latency_ms.p99,
        latency_max_ms: summary.latency_ms.max,
    })
}

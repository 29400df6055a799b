//! The driver's own benchmark, for `stress-runner bench` and `benches/driver.rs` (not part of
//! embedding: an embedder drives [`crate::Driver`] directly). [`bench_inprocess`] runs against a
//! closure that answers at once and [`bench_http`] against an HTTP endpoint on loopback. Both drive a
//! sustained open-model load, measure the CPU time (user + system) this process spent on it
//! ([`CpuTime`]), and report requests per CPU-second beside the achieved rate and the latency from the
//! intended send.

use crate::{Driver, DriverConfig, DriverControl, DriverError};
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder};
use models::{Arrival, Decision, LoadProfile, Stage, Verdict};
use std::sync::Arc;
use std::time::Duration;
use targets::{FnTarget, HttpTarget, HttpTargetConfig, Target};
use transaction_factory::{FactoryConfig, TransactionFactory};

/// What one benchmark run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    pub planned_tps: f64,
    pub duration: Duration,
    pub sent: u64,
    pub completed: u64,
    /// Completed with a verdict.
    pub ok: u64,
    /// Completed with an error (status, connection, timeout, malformed answer).
    pub errors: u64,
    pub dropped: u64,
    /// `completed / duration`.
    pub achieved_tps: f64,
    /// User + system CPU time of this process during the run (all threads).
    pub cpu_seconds: f64,
    pub cpu_user_seconds: f64,
    pub cpu_sys_seconds: f64,
    /// Wall time of the run, drain included.
    pub wall_seconds: f64,
    /// Latency from the intended send time, in ms.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    /// Service time (from the actual send), in ms.
    pub service_p50_ms: f64,
    pub service_p99_ms: f64,
}

impl BenchReport {
    /// `(achieved / planned - 1) * 100`.
    pub fn rate_error_pct(&self) -> f64 {
        (self.achieved_tps / self.planned_tps - 1.0) * 100.0
    }

    /// Completed requests per CPU-second of this process.
    pub fn requests_per_cpu_second(&self) -> f64 {
        if self.cpu_seconds > 0.0 {
            self.completed as f64 / self.cpu_seconds
        } else {
            0.0
        }
    }

    /// CPU time per completed request, in µs.
    pub fn cpu_us_per_request(&self) -> f64 {
        if self.completed > 0 {
            self.cpu_seconds * 1e6 / self.completed as f64
        } else {
            0.0
        }
    }
}

/// How [`bench_http`] loads an endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpBenchConfig {
    /// The endpoint; loopback only unless `allow_remote`.
    pub url: String,
    pub rate_tps: f64,
    pub duration: Duration,
    /// Keep-alive connections (also the bound on requests on the wire).
    pub connections: usize,
    /// Send these bytes as every request's body; `None`: each request carries its generated
    /// transaction's JSON.
    pub body: Option<Vec<u8>>,
    /// Runtime threads: 1 runs everything on one current-thread runtime (no cross-thread wake-ups,
    /// the cheapest per request); more uses a multi-thread runtime with that many workers.
    pub threads: usize,
    pub allow_remote: bool,
    /// The HTTP/1.1 client measured.
    pub engine: models::HttpEngine,
    /// Requests out at most before arrivals are dropped (and nothing is made for them); `None`: a
    /// run's default ([`DriverConfig::max_in_flight`]), which queues arrivals for free connections.
    /// `Some(connections)` drops instead of queueing, as a closed loop of that many never queues.
    pub max_in_flight: Option<usize>,
}

impl Default for HttpBenchConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8080/v1/score".into(),
            rate_tps: 20_000.0,
            duration: Duration::from_secs(10),
            connections: 64,
            body: None,
            threads: 1,
            allow_remote: false,
            engine: models::HttpEngine::default(),
            max_in_flight: None,
        }
    }
}

/// CPU time a process has used so far, user and system, from Linux's `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuTime {
    pub user_seconds: f64,
    pub sys_seconds: f64,
}

impl CpuTime {
    /// This process, all threads.
    pub fn of_this_process() -> Result<Self, DriverError> {
        Self::read("/proc/self/stat")
    }

    /// Another process (for example a server under test that the caller started), by its id.
    pub fn of_process(pid: u32) -> Result<Self, DriverError> {
        Self::read(&format!("/proc/{pid}/stat"))
    }

    /// User plus system seconds.
    pub fn total_seconds(&self) -> f64 {
        self.user_seconds + self.sys_seconds
    }

    /// The CPU time spent between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime {
            user_seconds: self.user_seconds - earlier.user_seconds,
            sys_seconds: self.sys_seconds - earlier.sys_seconds,
        }
    }

    fn read(path: &str) -> Result<Self, DriverError> {
        let stat = std::fs::read_to_string(path).map_err(|e| DriverError::Setup {
            reason: format!(
                "cannot read {path} for the CPU time ({e}); CPU measurement needs Linux's /proc and a running process"
            ),
        })?;
        parse_proc_stat_cpu(&stat).ok_or_else(|| DriverError::Setup {
            reason: format!("unexpected {path} format (no user and system times after the command name): {stat:?}"),
        })
    }
}

/// User and system times from the text of a `/proc/<pid>/stat` file (fields 14 and 15, in clock ticks
/// of `USER_HZ`, which Linux fixes at 100 for user space on every architecture).
fn parse_proc_stat_cpu(stat: &str) -> Option<CpuTime> {
    const USER_HZ: f64 = 100.0;
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // fields 3..=13
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some(CpuTime {
        user_seconds: utime / USER_HZ,
        sys_seconds: stime / USER_HZ,
    })
}

fn setup(what: &str, e: &dyn std::fmt::Display) -> DriverError {
    DriverError::Setup {
        reason: format!("{what}: {e}"),
    }
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, DriverError> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| setup("tokio runtime", &e))
}

/// Runs a sustained uniform `rate_tps` for `duration` against the target `make_target` builds (inside
/// the runtime), with a metrics tick every second, and measures it.
fn bench_target(
    runtime: tokio::runtime::Runtime,
    rate_tps: f64,
    duration: Duration,
    base: DriverConfig,
    make_target: impl FnOnce() -> Result<Arc<dyn Target>, DriverError>,
) -> Result<BenchReport, DriverError> {
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
    let config = DriverConfig {
        max_tps: base.max_tps.max(rate_tps * 1.1),
        ..base
    };

    let cpu_before = CpuTime::of_this_process()?;
    let wall = std::time::Instant::now();
    let report = runtime.block_on(async {
        let target = make_target()?;
        let control = DriverControl::new();
        let driver = Driver::new(
            Schedule::new(profile, Arrival::Uniform, 42),
            factory,
            target,
            recorder.clone(),
            config,
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
    let cpu = CpuTime::of_this_process()?.since(&cpu_before);
    // Dropping the runtime ends the connection tasks; not part of the measurement.
    drop(runtime);
    let summary = recorder.summary(duration);
    Ok(BenchReport {
        planned_tps: rate_tps,
        duration,
        sent: report.sent,
        completed: report.completed,
        ok: report.ok,
        errors: report.errors,
        dropped: report.dropped,
        achieved_tps: report.completed as f64 / duration.as_secs_f64(),
        cpu_seconds: cpu.total_seconds(),
        cpu_user_seconds: cpu.user_seconds,
        cpu_sys_seconds: cpu.sys_seconds,
        wall_seconds,
        latency_p50_ms: summary.latency_ms.p50,
        latency_p99_ms: summary.latency_ms.p99,
        latency_max_ms: summary.latency_ms.max,
        service_p50_ms: summary.service_time_ms.p50,
        service_p99_ms: summary.service_time_ms.p99,
    })
}

/// Drives a sustained `rate_tps` for `duration` (uniform arrivals) against a closure that approves
/// every transaction at once, on a tokio runtime of `threads` threads that it builds (so call it
/// outside any runtime; 1: current-thread), with a metrics ticker every second.
pub fn bench_inprocess_on(
    rate_tps: f64,
    duration: Duration,
    threads: usize,
) -> Result<BenchReport, DriverError> {
    let verdict = Verdict {
        decision: Decision::Approve,
        risk_score: 0.1,
        reasons: vec![],
        agents: vec![],
    };
    bench_target(
        runtime(threads)?,
        rate_tps,
        duration,
        DriverConfig::default(),
        move || {
            Ok(Arc::new(FnTarget::new(move |_txn| {
                let v = verdict.clone();
                async move { Ok(v) }
            })))
        },
    )
}

/// [`bench_inprocess_on`] on a 2-worker multi-thread runtime.
pub fn bench_inprocess(rate_tps: f64, duration: Duration) -> Result<BenchReport, DriverError> {
    bench_inprocess_on(rate_tps, duration, 2)
}

/// Drives a sustained open-model load against an HTTP endpoint through [`HttpTarget`] and measures
/// it (see [`HttpBenchConfig`]). Builds its own runtime: call it outside any runtime.
pub fn bench_http(config: &HttpBenchConfig) -> Result<BenchReport, DriverError> {
    let target_config = HttpTargetConfig {
        url: config.url.clone(),
        connections: config.connections,
        fixed_body: config.body.clone(),
        allow_remote: config.allow_remote,
        engine: config.engine,
        // The driver enforces the request timeout (one lane timer for all requests), as a run does.
        enforce_timeout: false,
        ..HttpTargetConfig::default()
    };
    let request_timeout = Some(target_config.timeout);
    // Built before the run so that a bad URL fails before anything is measured.
    let target = HttpTarget::new(target_config).map_err(|e| setup("HTTP target", &e))?;
    bench_target(
        runtime(config.threads)?,
        config.rate_tps,
        config.duration,
        DriverConfig {
            request_timeout,
            max_in_flight: config
                .max_in_flight
                .unwrap_or(DriverConfig::default().max_in_flight),
            ..DriverConfig::default()
        },
        move || Ok(Arc::new(target)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_cpu_fields() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 37 0 0 20 0 3 0 99 \
                    1000 200 18446744073709551615";
        let cpu = parse_proc_stat_cpu(stat).unwrap();
        assert_eq!((cpu.user_seconds, cpu.sys_seconds), (2.5, 0.37));
        assert_eq!(parse_proc_stat_cpu("garbage"), None);
    }

    #[test]
    fn cpu_time_of_this_process_grows_with_work() {
        let before = CpuTime::of_this_process().unwrap();
        let same = CpuTime::of_process(std::process::id()).unwrap();
        assert!(same.total_seconds() >= before.total_seconds());
        // Burn CPU until the clock-tick counter moves (it counts in hundredths of a second).
        let mut x = 0u64;
        while CpuTime::of_this_process()
            .unwrap()
            .since(&before)
            .total_seconds()
            <= 0.0
        {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
        }
        let spent = CpuTime::of_this_process().unwrap().since(&before);
        assert!(spent.user_seconds >= 0.0 && spent.sys_seconds >= 0.0);
        assert!(spent.total_seconds() > 0.0);
        assert!(CpuTime::of_process(u32::MAX).is_err(), "no such process");
    }
}

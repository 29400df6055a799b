//! The driver's throughput and CPU cost, as a report (not a criterion measurement):
//!
//! * `cargo bench -p load-driver --bench driver` (or `-- 20000 50000`): against an in-process closure
//!   target, 3 s per rate: achieved TPS and CPU-seconds.
//! * `cargo bench -p load-driver --bench driver -- --url http://127.0.0.1:PORT/ 20000 40000`: against
//!   an HTTP endpoint on loopback (10 s per rate unless `--secs S`, 64 connections, one current-thread runtime):
//!   achieved TPS, latency and requests per CPU-second. `stress-runner bench http --nginx` does the
//!   same against a one-worker nginx it starts, beside wrk.

#![allow(clippy::print_stdout)]

use load_driver::bench::{BenchReport, HttpBenchConfig, bench_http, bench_inprocess};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .iter()
        .position(|a| a == "--url")
        .and_then(|i| args.get(i + 1).cloned());
    let secs: Option<f64> = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    // `cargo bench` passes `--bench`; rates are the bare numbers (not the one after `--secs`).
    let rates: Vec<f64> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || args[i - 1] != "--secs")
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let rates = match (rates.is_empty(), &url) {
        (false, _) => rates,
        (true, None) => vec![10_000.0, 50_000.0],
        (true, Some(_)) => vec![20_000.0, 40_000.0],
    };
    for rate in rates {
        let result = match &url {
            None => bench_inprocess(rate, Duration::from_secs_f64(secs.unwrap_or(3.0))),
            Some(url) => bench_http(&HttpBenchConfig {
                url: url.clone(),
                rate_tps: rate,
                duration: Duration::from_secs_f64(secs.unwrap_or(10.0)),
                ..HttpBenchConfig::default()
            }),
        };
        match result {
            Ok(r) => print(&r),
            Err(e) => println!("planned {rate} TPS: {e}"),
        }
    }
}

fn print(r: &BenchReport) {
    println!(
        "planned {:>8.0} TPS: achieved {:>9.1} TPS ({:+.2}%), ok {}, errors {}, dropped {}, CPU {:.2} s (user {:.2}, sys {:.2}) over {:.2} s wall = {:.2} µs/request, {:.0} requests/CPU-s; latency p50 {:.3} ms p99 {:.3} ms max {:.3} ms; service p50 {:.3} ms p99 {:.3} ms",
        r.planned_tps,
        r.achieved_tps,
        r.rate_error_pct(),
        r.ok,
        r.errors,
        r.dropped,
        r.cpu_seconds,
        r.cpu_user_seconds,
        r.cpu_sys_seconds,
        r.wall_seconds,
        r.cpu_us_per_request(),
        r.requests_per_cpu_second(),
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.latency_max_ms,
        r.service_p50_ms,
        r.service_p99_ms
    );
}

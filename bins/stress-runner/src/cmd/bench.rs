//! `stress-runner bench`: how fast the load generator itself is.
//!
//! * `bench inprocess`: the open-model driver against a closure that answers at once: achieved vs
//!   planned rate and the CPU time of this process per request.
//! * `bench http --url URL`: the driver and `HttpTarget` against an HTTP endpoint on loopback: achieved
//!   rate, latency from the intended send, and requests per CPU-second of this process (user + sys).
//!
//! The comparison with other tools (a one-worker nginx, then wrk against it, in one session) is
//! `cargo xtask bench-peers`, which runs `bench http --json` against its nginx. Figures and method:
//! `docs/benchmarks.md`.

use anyhow::{Context, bail};
use load_driver::bench::{BenchReport, HttpBenchConfig, bench_http, bench_inprocess_on};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The driver against an in-process closure target: achieved rate and CPU per request.
    Inprocess(InprocessArgs),
    /// The driver and HttpTarget against an HTTP endpoint (beside wrk and nginx: `cargo xtask bench-peers`).
    Http(HttpArgs),
}

#[derive(Debug, clap::Args)]
struct InprocessArgs {
    /// Planned rate (uniform arrivals).
    #[arg(long, value_name = "N", default_value_t = 50_000.0)]
    tps: f64,
    /// How long (`10s`, `1m`).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = models::duration_serde::parse)]
    duration: Duration,
    /// Runtime threads (1: a current-thread runtime).
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct HttpArgs {
    /// The endpoint to load (loopback only unless --allow-remote).
    #[arg(long, value_name = "URL")]
    url: String,
    /// Planned rates; several (`--tps 20000,40000`) run one after the other.
    #[arg(long, value_name = "N", value_delimiter = ',', default_value = "20000")]
    tps: Vec<f64>,
    /// How long each run lasts (`10s`).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = models::duration_serde::parse)]
    duration: Duration,
    /// Keep-alive connections.
    #[arg(long, value_name = "C", default_value_t = 64)]
    connections: usize,
    /// Send this file as every request's body; default: each request carries its own generated
    /// transaction.
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// Runtime threads of the load generator (1: one current-thread runtime, the cheapest).
    #[arg(long, value_name = "N", default_value_t = 1)]
    threads: usize,
    /// Allow a URL that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    /// Requests out at most; an arrival beyond them is dropped before anything is made for it
    /// (default: a run's 10,000, which queues arrivals for free connections; at saturation, give
    /// the connections' number to compare with a closed loop of that many).
    #[arg(long, value_name = "N")]
    max_in_flight: Option<usize>,
    /// The HTTP/1.1 client measured: `lean` (fraudstress's own) or `hyper`.
    #[arg(long, value_name = "ENGINE", default_value_t = models::HttpEngine::default())]
    engine: models::HttpEngine,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Inprocess(a) => inprocess(a),
        What::Http(a) => http(a),
    }
}

fn inprocess(args: InprocessArgs) -> anyhow::Result<ExitCode> {
    if !(args.tps.is_finite() && args.tps > 0.0) {
        bail!("--tps {} is not a positive rate", args.tps);
    }
    let report = bench_inprocess_on(args.tps, args.duration, args.threads)
        .context("running the in-process benchmark")?;
    if args.json {
        print_json(
            &json!({ "kind": "inprocess", "threads": args.threads, "ours": report_json(&report) }),
        );
    } else {
        print_report(&format!("in-process, {} thread(s)", args.threads), &report);
    }
    Ok(ExitCode::SUCCESS)
}

fn http(args: HttpArgs) -> anyhow::Result<ExitCode> {
    for &tps in &args.tps {
        if !(tps.is_finite() && tps > 0.0) {
            bail!("--tps {tps} is not a positive rate");
        }
    }
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if args.max_in_flight == Some(0) {
        bail!("--max-in-flight must be at least 1");
    }
    let body = match &args.body {
        Some(path) => Some(
            std::fs::read(path).with_context(|| format!("reading --body {}", path.display()))?,
        ),
        None => None,
    };
    let url = args.url;
    let mut runs = Vec::new();
    for &tps in &args.tps {
        let report = bench_http(&HttpBenchConfig {
            url: url.clone(),
            rate_tps: tps,
            duration: args.duration,
            connections: args.connections,
            body: body.clone(),
            threads: args.threads,
            allow_remote: args.allow_remote,
            engine: args.engine,
            max_in_flight: args.max_in_flight,
        })
        .with_context(|| format!("loading {url} at {tps} TPS"))?;
        if !args.json {
            print_report(
                &format!("ours ({} engine), {tps:.0} TPS against {url}", args.engine),
                &report,
            );
        }
        runs.push(report);
    }
    if args.json {
        // `server_cpu_seconds` and `wrk` are filled in by `cargo xtask bench-peers`, which owns the
        // server and runs wrk.
        let ours: Vec<Value> = runs
            .iter()
            .map(|r| {
                let mut v = report_json(r);
                v["server_cpu_seconds"] = Value::Null;
                v
            })
            .collect();
        print_json(&json!({
            "kind": "http",
            "url": url,
            "connections": args.connections,
            "threads": args.threads,
            "engine": args.engine.as_str(),
            "ours": ours,
            "wrk": Value::Null,
        }));
    }
    Ok(ExitCode::SUCCESS)
}

fn report_json(r: &BenchReport) -> Value {
    json!({
        "planned_tps": r.planned_tps,
        "duration_s": r.duration.as_secs_f64(),
        "sent": r.sent,
        "completed": r.completed,
        "ok": r.ok,
        "errors": r.errors,
        "dropped": r.dropped,
        "achieved_tps": r.achieved_tps,
        "rate_error_pct": r.rate_error_pct(),
        "cpu_user_seconds": r.cpu_user_seconds,
        "cpu_sys_seconds": r.cpu_sys_seconds,
        "cpu_seconds": r.cpu_seconds,
        "cpu_us_per_request": r.cpu_us_per_request(),
        "requests_per_cpu_second": r.requests_per_cpu_second(),
        "wall_seconds": r.wall_seconds,
        "latency_ms": { "p50": r.latency_p50_ms, "p99": r.latency_p99_ms, "max": r.latency_max_ms },
        "service_time_ms": { "p50": r.service_p50_ms, "p99": r.service_p99_ms },
    })
}

fn print_json(v: &Value) {
    println!("{v:#}");
}

fn print_report(title: &str, r: &BenchReport) {
    println!("{title}");
    println!(
        "  planned {:.0} TPS, achieved {:.1} TPS ({:+.2}%); sent {}, ok {}, errors {}, dropped {}",
        r.planned_tps,
        r.achieved_tps,
        r.rate_error_pct(),
        r.sent,
        r.ok,
        r.errors,
        r.dropped
    );
    println!(
        "  latency from intended send p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; service time p50 {:.3} ms, p99 {:.3} ms",
        r.latency_p50_ms, r.latency_p99_ms, r.latency_max_ms, r.service_p50_ms, r.service_p99_ms
    );
    println!(
        "  CPU {:.2} s (user {:.2}, sys {:.2}) over {:.2} s wall: {:.2} µs per request, {:.0} requests per CPU-second",
        r.cpu_seconds,
        r.cpu_user_seconds,
        r.cpu_sys_seconds,
        r.wall_seconds,
        r.cpu_us_per_request(),
        r.requests_per_cpu_second()
    );
}

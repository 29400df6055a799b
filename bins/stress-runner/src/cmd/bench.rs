//! `stress-runner bench`: how fast the load generator itself is.
//!
//! * `bench inprocess`: the open-model driver against a closure that answers at once: achieved vs
//!   planned rate and the CPU time of this process per request.
//! * `bench http --url URL`: the driver and `HttpTarget` against an HTTP endpoint on loopback: achieved
//!   rate, latency from the intended send, and requests per CPU-second of this process (user + sys).
//! * `bench http --nginx`: the same against a one-worker nginx this command starts on a free loopback
//!   port (answering a small static JSON verdict), followed by `wrk -t1` against the same nginx with
//!   the same connections, duration and request body, its CPU measured with `/usr/bin/time`, so that
//!   both figures come from the same session.
//!
//! Figures and method: `docs/benchmarks.md`.

use anyhow::{Context, bail};
use load_driver::{BenchReport, HttpBenchConfig, bench_http, bench_inprocess_on};
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use transaction_factory::{FactoryConfig, TransactionFactory};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The driver against an in-process closure target: achieved rate and CPU per request.
    Inprocess(InprocessArgs),
    /// The driver and HttpTarget against an HTTP endpoint (or a one-worker nginx, --nginx), beside wrk.
    Http(HttpArgs),
}

#[derive(Debug, clap::Args)]
struct InprocessArgs {
    /// Planned rate (uniform arrivals).
    #[arg(long, value_name = "N", default_value_t = 50_000.0)]
    tps: f64,
    /// How long (`10s`, `1m`).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = parse_duration)]
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
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "nginx",
        conflicts_with = "nginx"
    )]
    url: Option<String>,
    /// Start a one-worker nginx on a free loopback port and load it, then run wrk against it too.
    #[arg(long)]
    nginx: bool,
    /// Planned rates; several (`--tps 20000,40000`) run one after the other.
    #[arg(long, value_name = "N", value_delimiter = ',', default_value = "20000")]
    tps: Vec<f64>,
    /// How long each run lasts (`10s`).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Keep-alive connections (ours and wrk's).
    #[arg(long, value_name = "C", default_value_t = 64)]
    connections: usize,
    /// Send this file as every request's body (and wrk's); default: each request carries its own
    /// generated transaction, and wrk sends transaction 0 of the same stream.
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// Runtime threads of the load generator (1: one current-thread runtime, the cheapest).
    #[arg(long, value_name = "N", default_value_t = 1)]
    threads: usize,
    /// With --nginx: skip the wrk run.
    #[arg(long)]
    no_wrk: bool,
    /// Allow a URL that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    models::duration_serde::parse(s)
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
    let body = match &args.body {
        Some(path) => Some(
            std::fs::read(path).with_context(|| format!("reading --body {}", path.display()))?,
        ),
        None => None,
    };
    let nginx = if args.nginx {
        Some(Nginx::start().context("starting nginx for --nginx")?)
    } else {
        None
    };
    let url = match (&nginx, &args.url) {
        (Some(n), _) => n.url(),
        (None, Some(u)) => u.clone(),
        (None, None) => bail!("give --url URL or --nginx"),
    };

    let mut runs = Vec::new();
    for &tps in &args.tps {
        let server_before = nginx.as_ref().map(Nginx::cpu_seconds).transpose()?;
        let report = bench_http(&HttpBenchConfig {
            url: url.clone(),
            rate_tps: tps,
            duration: args.duration,
            connections: args.connections,
            body: body.clone(),
            threads: args.threads,
            allow_remote: args.allow_remote,
        })
        .with_context(|| format!("loading {url} at {tps} TPS"))?;
        let server_cpu = match (&nginx, server_before) {
            (Some(n), Some(before)) => Some(n.cpu_seconds()? - before),
            _ => None,
        };
        if !args.json {
            print_report(&format!("ours, {tps:.0} TPS against {url}"), &report);
            print_server(server_cpu, report.completed);
        }
        runs.push((report, server_cpu));
    }

    let wrk = match &nginx {
        Some(n) if !args.no_wrk => {
            let wrk_body = match &body {
                Some(b) => b.clone(),
                None => sample_transaction_body()?,
            };
            let server_before = n.cpu_seconds()?;
            let wrk = run_wrk(&n.dir, &url, args.connections, args.duration, &wrk_body)
                .context("running wrk")?;
            let server_cpu = n.cpu_seconds()? - server_before;
            if !args.json {
                print_wrk(&wrk);
                print_server(Some(server_cpu), wrk.requests);
            }
            Some((wrk, server_cpu))
        }
        _ => None,
    };
    if !args.json
        && let Some((w, _)) = &wrk
    {
        print_ratios(&runs, w);
    }
    if args.json {
        let ours: Vec<Value> = runs
            .iter()
            .map(|(r, server)| {
                let mut v = report_json(r);
                v["server_cpu_seconds"] = json!(server);
                v
            })
            .collect();
        print_json(&json!({
            "kind": "http",
            "url": url,
            "connections": args.connections,
            "threads": args.threads,
            "ours": ours,
            "wrk": wrk.as_ref().map(|(w, server)| json!({
                "requests": w.requests,
                "seconds": w.seconds,
                "requests_per_second": w.requests as f64 / w.seconds,
                "non_2xx": w.non_2xx,
                "socket_errors": w.socket_errors,
                "cpu_user_seconds": w.user,
                "cpu_sys_seconds": w.sys,
                "requests_per_cpu_second": w.per_cpu_second(),
                "server_cpu_seconds": server,
            })),
        }));
    }
    drop(nginx);
    Ok(ExitCode::SUCCESS)
}

/// Transaction 0 of the benchmark's stream (seed 42), as the driver sends it: wrk's request body.
fn sample_transaction_body() -> anyhow::Result<Vec<u8>> {
    let factory = TransactionFactory::new(42, FactoryConfig::default())
        .context("building the transaction factory")?;
    let (txn, _) = factory.at(0);
    serde_json::to_vec(&txn).context("serialising a transaction")
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

#[allow(clippy::print_stdout)]
fn print_json(v: &Value) {
    println!("{v:#}");
}

#[allow(clippy::print_stdout)]
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

#[allow(clippy::print_stdout)]
fn print_server(cpu: Option<f64>, requests: u64) {
    if let Some(cpu) = cpu
        && requests > 0
    {
        println!(
            "  nginx CPU {cpu:.2} s: {:.2} µs per request",
            cpu * 1e6 / requests as f64
        );
    }
}

#[allow(clippy::print_stdout)]
fn print_wrk(w: &WrkRun) {
    println!(
        "wrk -t1 -c{} -d{:.0}s (closed loop, as fast as it can)",
        w.connections, w.duration_s
    );
    println!(
        "  {} requests in {:.2} s: {:.0} requests/s; non-2xx {}, socket errors {}",
        w.requests,
        w.seconds,
        w.requests as f64 / w.seconds,
        w.non_2xx,
        w.socket_errors
    );
    println!(
        "  CPU {:.2} s (user {:.2}, sys {:.2}): {:.2} µs per request, {:.0} requests per CPU-second",
        w.user + w.sys,
        w.user,
        w.sys,
        (w.user + w.sys) * 1e6 / w.requests.max(1) as f64,
        w.per_cpu_second()
    );
}

#[allow(clippy::print_stdout)]
fn print_ratios(runs: &[(BenchReport, Option<f64>)], w: &WrkRun) {
    for (r, _) in runs {
        println!(
            "ours at {:.0} TPS: {:.0} requests per CPU-second = {:.2} x wrk's {:.0}",
            r.planned_tps,
            r.requests_per_cpu_second(),
            r.requests_per_cpu_second() / w.per_cpu_second(),
            w.per_cpu_second()
        );
    }
}

/// A one-worker nginx (`master_process off`: the process we start is the one that serves) on a free
/// loopback port, with its config, logs and temp files in a fresh directory. Killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

const NGINX_CONF: &str = r#"worker_processes 1;
master_process off;
daemon off;
pid {DIR}/nginx.pid;
error_log {DIR}/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path {DIR}/body;
    proxy_temp_path {DIR}/proxy;
    fastcgi_temp_path {DIR}/fastcgi;
    uwsgi_temp_path {DIR}/uwsgi;
    scgi_temp_path {DIR}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:{PORT};
        location / {
            default_type application/json;
            return 200 '{"decision":"approve","risk_score":0.1}';
        }
    }
}
"#;

impl Nginx {
    fn start() -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("fraudstress-bench-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // A free port: bind port 0, note it, release it for nginx.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .context("finding a free loopback port")?
            .port();
        let conf = NGINX_CONF
            .replace("{DIR}", &dir.display().to_string())
            .replace("{PORT}", &port.to_string());
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)
            .with_context(|| format!("writing {}", conf_path.display()))?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    anyhow::anyhow!(
                        "nginx is not installed (or not on PATH); install it with `apt-get install -y nginx`, or give --url"
                    )
                } else {
                    anyhow::anyhow!("starting nginx: {e}")
                }
            })?;
        let mut nginx = Self { child, port, dir };
        nginx.wait_ready()?;
        Ok(nginx)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().context("watching nginx")? {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                bail!("nginx exited at start ({status}); its error log says:\n{log}");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "nginx did not accept connections on {addr} within 5 s; see {}",
                    self.dir.join("error.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/score", self.port)
    }

    /// CPU seconds (user + sys) the nginx process has used so far.
    fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let (user, sys) = load_driver::parse_proc_stat_cpu(&stat)
            .with_context(|| format!("unexpected format of {path}"))?;
        Ok(user + sys)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Our own child, by its handle; then its scratch directory.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one wrk run printed and what `/usr/bin/time` measured of it.
#[derive(Debug)]
struct WrkRun {
    connections: usize,
    duration_s: f64,
    requests: u64,
    seconds: f64,
    non_2xx: u64,
    socket_errors: u64,
    user: f64,
    sys: f64,
}

impl WrkRun {
    fn per_cpu_second(&self) -> f64 {
        let cpu = self.user + self.sys;
        if cpu > 0.0 {
            self.requests as f64 / cpu
        } else {
            0.0
        }
    }
}

/// Runs `wrk -t1 -cC -dD` with a Lua script that POSTs `body` as JSON, under `/usr/bin/time`.
fn run_wrk(
    dir: &Path,
    url: &str,
    connections: usize,
    duration: Duration,
    body: &[u8],
) -> anyhow::Result<WrkRun> {
    let body = std::str::from_utf8(body)
        .context("the request body is not UTF-8 text (wrk's Lua script needs text)")?;
    if body.contains("]==]") {
        bail!("the request body contains \"]==]\", which wrk's Lua long string cannot hold");
    }
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
        ),
    )
    .with_context(|| format!("writing {}", script.display()))?;
    let time_out = dir.join("wrk.time");
    let secs = duration.as_secs().max(1);
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S")
        .arg("-o")
        .arg(&time_out)
        .arg("wrk")
        .arg("-t1")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(&script)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "/usr/bin/time is missing; install it with `apt-get install -y time`"
                )
            } else {
                anyhow::anyhow!("starting /usr/bin/time wrk: {e}")
            }
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}); is it installed (`apt-get install -y wrk`)? It said:\n{}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let times = std::fs::read_to_string(&time_out)
        .with_context(|| format!("reading {}", time_out.display()))?;
    let mut cpu = times
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::parse::<f64>);
    let (Some(Ok(user)), Some(Ok(sys))) = (cpu.next(), cpu.next()) else {
        bail!("unexpected /usr/bin/time output: {times:?}");
    };
    parse_wrk(&stdout, connections, secs as f64, user, sys)
}

/// Reads "N requests in 5.01s, ..." and the error lines from wrk's report.
fn parse_wrk(
    text: &str,
    connections: usize,
    duration_s: f64,
    user: f64,
    sys: f64,
) -> anyhow::Result<WrkRun> {
    let (requests, seconds) = text
        .lines()
        .find_map(|l| {
            let (n, rest) = l.trim().split_once(" requests in ")?;
            let secs = rest.split(',').next()?.trim();
            let seconds = if let Some(ms) = secs.strip_suffix("ms") {
                ms.parse::<f64>().ok()? / 1e3
            } else if let Some(m) = secs.strip_suffix('m') {
                m.parse::<f64>().ok()? * 60.0
            } else {
                secs.strip_suffix('s')?.parse::<f64>().ok()?
            };
            Some((n.parse::<u64>().ok()?, seconds))
        })
        .with_context(|| format!("no \"N requests in T\" line in wrk's output:\n{text}"))?;
    let count_after = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let socket_errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|rest| {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(WrkRun {
        connections,
        duration_s,
        requests,
        seconds,
        non_2xx: count_after("Non-2xx or 3xx responses:"),
        socket_errors,
        user,
        sys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  1 threads and 50 connections\n  \
                    340540 requests in 5.01s, 62.68MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  \
                    Non-2xx or 3xx responses: 7\nRequests/sec:  67924.28\n";
        let w = parse_wrk(text, 50, 5.0, 0.17, 2.23).unwrap();
        assert_eq!((w.requests, w.non_2xx, w.socket_errors), (340_540, 7, 3));
        assert!((w.seconds - 5.01).abs() < 1e-9);
        assert!((w.per_cpu_second() - 340_540.0 / 2.4).abs() < 1e-6);
        assert!(parse_wrk("nothing", 1, 1.0, 0.0, 0.0).is_err());
    }
}

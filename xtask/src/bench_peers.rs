//! `cargo xtask bench-peers`: our HTTP load generator beside wrk and oha, against the same one-worker
//! nginx, in one session (see docs/benchmarks.md for the method and the figures).
//!
//! It builds `stress-runner` (release), starts nginx (`master_process off`: the process started is the
//! one that serves) on a free loopback port, and runs a round: at each rate `stress-runner bench http
//! --url ... --json` once per engine and oha right after it with `--latency-correction` (when `oha` is
//! on PATH), then `wrk -t1` (closed loop, saturating) with the same connections, duration and request
//! body; each peer under `/usr/bin/time`, with nginx's own CPU read around each run. With two cores
//! or more, the load generators run on core 0 and nginx on core 1 (`taskset`). `--rounds N` runs N
//! rounds, every other one backwards (so each pair of runs compared is adjacent and seen in both
//! orders), and prints each comparison's median and range. Options:
//! `--tps 20000,40000 --duration 10s --connections 64 --threads 1 --engine lean,hyper --body FILE
//! --rounds N --no-wrk --no-oha --no-pin --json --bin PATH` (an already built `stress-runner` instead
//! of building one).

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use transaction_factory::{FactoryConfig, TransactionFactory};

/// The seed of `stress-runner bench`'s transaction stream: wrk sends its transaction 0.
const BENCH_SEED: u64 = 42;

#[derive(Debug)]
struct Options {
    tps: Vec<String>,
    duration: String,
    connections: usize,
    threads: usize,
    body: Option<PathBuf>,
    wrk: bool,
    json: bool,
    bin: Option<PathBuf>,
    /// Our HTTP/1.1 engines to measure, each at every rate.
    engines: Vec<models::HttpEngine>,
    /// oha at each rate (with latency correction), when it is on PATH.
    oha: bool,
    /// Load generators on core 0 and nginx on core 1 (`taskset`), when there are two cores.
    pin: bool,
    /// Sessions to run, every other one in reverse order; medians printed at the end.
    rounds: usize,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        tps: vec!["20000".into()],
        duration: "10s".into(),
        connections: 64,
        threads: 1,
        body: None,
        wrk: true,
        json: false,
        bin: None,
        engines: vec![models::HttpEngine::Lean],
        oha: true,
        pin: true,
        rounds: 1,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .with_context(|| format!("{a} needs {what}, like `{a} {}`", example(a)))
                .cloned()
        };
        match a.as_str() {
            "--tps" => o.tps = value("rates")?.split(',').map(str::to_owned).collect(),
            "--duration" => o.duration = value("a duration")?,
            "--connections" => o.connections = positive(a, &value("a number")?)?,
            "--threads" => {
                let v = value("a number")?;
                o.threads = v
                    .parse()
                    .with_context(|| format!("--threads {v}: not a number"))?;
            }
            "--rounds" => o.rounds = positive(a, &value("a number")?)?,
            "--body" => o.body = Some(value("a file")?.into()),
            "--bin" => o.bin = Some(value("a path")?.into()),
            "--engine" => {
                o.engines = value("engines")?
                    .split(',')
                    .map(|e| e.parse().map_err(|err| anyhow::anyhow!("--engine: {err}")))
                    .collect::<Result<_>>()?;
            }
            "--no-wrk" => o.wrk = false,
            "--no-oha" => o.oha = false,
            "--no-pin" => o.pin = false,
            "--json" => o.json = true,
            other => bail!(
                "unknown bench-peers option {other:?}; use --tps R1,R2 --duration D --connections C \
                 --threads N --engine lean,hyper --body FILE --rounds N --no-wrk --no-oha --no-pin --json \
                 --bin PATH"
            ),
        }
    }
    Ok(o)
}

/// `v` as a count of at least 1, for option `flag`.
fn positive(flag: &str, v: &str) -> Result<usize> {
    v.parse()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("{flag} {v}: not a positive number"))
}

fn example(flag: &str) -> &'static str {
    match flag {
        "--tps" => "20000,40000",
        "--duration" => "10s",
        "--connections" => "64",
        "--threads" => "1",
        "--rounds" => "6",
        "--body" => "body.json",
        "--engine" => "lean,hyper",
        _ => "target/release/stress-runner",
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let o = options(args)?;
    let duration = models::duration_serde::parse(&o.duration).map_err(anyhow::Error::msg)?;
    let bin = match &o.bin {
        Some(b) => b.clone(),
        None => {
            println!("\n==> cargo build --release -p stress-runner");
            crate::cargo(root, &["build", "--release", "-p", "stress-runner"], &[])?;
            root.join("target/release/stress-runner")
        }
    };
    let body = match &o.body {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("reading --body {}", path.display()))?
        }
        None => sample_transaction_body()?,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pinned = o.pin && cores >= 2 && Path::new("/usr/bin/taskset").is_file();
    let (client_core, server_core) = if pinned {
        (Some(0), Some(1))
    } else {
        (None, None)
    };
    if !o.json {
        if pinned {
            println!("load generators on core 0, nginx on core 1 (taskset)");
        } else {
            println!("not pinned to cores (--no-pin, one core, or no /usr/bin/taskset)");
        }
    }
    let nginx = start_nginx(server_core).context("starting nginx")?;
    let url = nginx.url("/v1/score");
    let with_oha = o.oha && on_path("oha");
    if o.oha && !with_oha && !o.json {
        println!("oha is not on PATH: skipped (`cargo install oha --locked`, or --no-oha)");
    }
    let steps = plan(&o, with_oha);
    let mut rounds = Vec::with_capacity(o.rounds);
    for round in 0..o.rounds {
        // Odd rounds run the same steps backwards: each comparison gets both orders (ABBA), so a
        // drift of the machine's state during a session does not always favour the same side.
        let order: Vec<&Step> = if round % 2 == 0 {
            steps.iter().collect()
        } else {
            steps.iter().rev().collect()
        };
        if !o.json && o.rounds > 1 {
            println!("\n== round {} of {}", round + 1, o.rounds);
        }
        let mut r = Round::default();
        for step in order {
            let before = cpu_seconds(&nginx)?;
            match step {
                Step::Ours { engine, tps } => {
                    let mut run = bench_http(&bin, &url, tps, *engine, &o, client_core)
                        .with_context(|| {
                            format!("running {} bench http at {tps} TPS", bin.display())
                        })?;
                    let server_cpu = cpu_seconds(&nginx)? - before;
                    run["server_cpu_seconds"] = json!(server_cpu);
                    run["engine"] = json!(engine.as_str());
                    if !o.json {
                        print_ours(&run, &url);
                        print_server(server_cpu, run["completed"].as_u64().unwrap_or(0));
                    }
                    r.ours.push(run);
                }
                Step::Wrk => {
                    let wrk = run_wrk(
                        &nginx.dir,
                        &url,
                        o.connections,
                        duration,
                        &body,
                        client_core,
                    )
                    .context("running wrk")?;
                    let server_cpu = cpu_seconds(&nginx)? - before;
                    if !o.json {
                        print_wrk(&wrk);
                        print_server(server_cpu, wrk.requests);
                    }
                    r.wrk = Some((wrk, server_cpu));
                }
                Step::Oha { tps } => {
                    let run = run_oha(&nginx.dir, &url, tps, &o, duration, &body, client_core)
                        .with_context(|| format!("running oha at {tps} TPS"))?;
                    let server_cpu = cpu_seconds(&nginx)? - before;
                    if !o.json {
                        print_oha(&run);
                        print_server(server_cpu, run.requests);
                    }
                    r.oha.push((run, server_cpu));
                }
            }
        }
        if !o.json {
            for ratio in r.ratios() {
                println!("{}", ratio.line());
            }
        }
        rounds.push(r);
    }
    let medians = medians(&rounds);
    if o.json {
        let mut rounds_json: Vec<Value> = rounds.iter().map(|r| r.json(pinned, &url, &o)).collect();
        if rounds_json.len() == 1 {
            println!("{:#}", rounds_json.remove(0));
        } else {
            println!(
                "{:#}",
                json!({ "kind": "http", "rounds": rounds_json, "medians": medians })
            );
        }
    } else if o.rounds > 1 {
        println!("\n== medians over {} rounds (range)", o.rounds);
        for m in &medians {
            let saturated = m["saturated_rounds"].as_u64().unwrap_or(0);
            let rounds = m["rounds"].as_u64().unwrap_or(0);
            // Whether a ratio to wrk is "at saturation" depends on the machine, not on the rate
            // asked for: say it, so that a rate we held is not quoted as a saturation figure.
            let state = match saturated {
                0 => "held the rate in every round".to_owned(),
                n if n == rounds => "saturated (arrivals dropped) in every round".to_owned(),
                n => format!("saturated in {n} of {rounds} rounds"),
            };
            println!(
                "ours ({}) at {:.0} TPS: {} {} (median {:.2}, {:.2}-{:.2}; {state})",
                m["engine"].as_str().unwrap_or("?"),
                m["planned_tps"].as_f64().unwrap_or(f64::NAN),
                m["what"].as_str().unwrap_or("?"),
                m["peer"].as_str().unwrap_or("?"),
                m["median"].as_f64().unwrap_or(f64::NAN),
                m["min"].as_f64().unwrap_or(f64::NAN),
                m["max"].as_f64().unwrap_or(f64::NAN),
            );
        }
    }
    Ok(())
}

/// One run of a session.
#[derive(Debug)]
enum Step {
    Ours {
        engine: models::HttpEngine,
        tps: String,
    },
    Oha {
        tps: String,
    },
    Wrk,
}

/// A round's runs, in order: at each rate ours (every engine) then oha beside it, then wrk.
fn plan(o: &Options, with_oha: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for tps in &o.tps {
        for engine in &o.engines {
            steps.push(Step::Ours {
                engine: *engine,
                tps: tps.clone(),
            });
        }
        if with_oha {
            steps.push(Step::Oha { tps: tps.clone() });
        }
    }
    if o.wrk {
        steps.push(Step::Wrk);
    }
    steps
}

/// What one round measured.
#[derive(Debug, Default)]
struct Round {
    ours: Vec<Value>,
    wrk: Option<(WrkRun, f64)>,
    oha: Vec<(OhaRun, f64)>,
}

/// Whom a comparison is against, and so what it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// Our requests per CPU-second against wrk's (saturating): the higher, the better.
    Wrk,
    /// Our CPU against oha's at the same rate: the lower, the better.
    Oha,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Wrk => "wrk",
            Peer::Oha => "oha",
        }
    }

    /// What the ratio is of, as the medians line prints it.
    fn what(self) -> &'static str {
        match self {
            Peer::Wrk => "requests per CPU-second x",
            Peer::Oha => "CPU x",
        }
    }
}

/// One comparison of a round: ours against a peer.
#[derive(Debug)]
struct Ratio {
    engine: String,
    planned_tps: f64,
    peer: Peer,
    value: f64,
    ours: f64,
    theirs: f64,
    /// Our run dropped arrivals: the target (or we) could not keep up with the planned rate, so a
    /// requests-per-CPU-second figure is a saturation figure. One that held its rate is not, and a
    /// ratio to a saturating wrk from it is not "at saturation".
    saturated: bool,
}

impl Ratio {
    fn line(&self) -> String {
        match self.peer {
            Peer::Wrk => format!(
                "ours ({}) at {:.0} TPS: {:.0} requests per CPU-second = {:.2} x wrk's {:.0}",
                self.engine, self.planned_tps, self.ours, self.value, self.theirs
            ),
            Peer::Oha => format!(
                "ours ({}) at {:.0} TPS: CPU {:.2} s = {:.2} x oha's {:.2} s",
                self.engine, self.planned_tps, self.ours, self.value, self.theirs
            ),
        }
    }
}

impl Round {
    /// Ours against wrk's requests per CPU-second (every rate), and our CPU against oha's at the
    /// same rate (the issue's goals: at least 0.9 x wrk at saturation, at most 0.75 x oha's CPU).
    fn ratios(&self) -> Vec<Ratio> {
        let mut out = Vec::new();
        for run in &self.ours {
            let engine = run["engine"].as_str().unwrap_or("?").to_owned();
            let planned_tps = run["planned_tps"].as_f64().unwrap_or(f64::NAN);
            let saturated = run["dropped"].as_u64().unwrap_or(0) > 0;
            if let Some((w, _)) = &self.wrk {
                let ours = run["requests_per_cpu_second"].as_f64().unwrap_or(0.0);
                out.push(Ratio {
                    engine: engine.clone(),
                    planned_tps,
                    peer: Peer::Wrk,
                    value: ours / w.per_cpu_second(),
                    ours,
                    theirs: w.per_cpu_second(),
                    saturated,
                });
            }
            for (r, _) in self
                .oha
                .iter()
                .filter(|(r, _)| r.planned_tps == planned_tps)
            {
                let ours = run["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
                let theirs = r.user + r.sys;
                out.push(Ratio {
                    engine: engine.clone(),
                    planned_tps,
                    peer: Peer::Oha,
                    value: ours / theirs,
                    ours,
                    theirs,
                    saturated,
                });
            }
        }
        out
    }

    fn json(&self, pinned: bool, url: &str, o: &Options) -> Value {
        let oha: Vec<Value> = self
            .oha
            .iter()
            .map(|(run, server_cpu)| {
                json!({
                    "planned_tps": run.planned_tps,
                    "requests": run.requests,
                    "non_2xx": run.non_2xx,
                    "errors": run.errors,
                    "seconds": run.seconds,
                    "achieved_tps": run.requests as f64 / run.seconds,
                    "latency_ms": { "p50": run.p50_ms, "p99": run.p99_ms },
                    "cpu_user_seconds": run.user,
                    "cpu_sys_seconds": run.sys,
                    "cpu_seconds": run.user + run.sys,
                    "requests_per_cpu_second": run.per_cpu_second(),
                    "server_cpu_seconds": server_cpu,
                })
            })
            .collect();
        json!({
            "kind": "http",
            "pinned": pinned,
            "oha": oha,
            "url": url,
            "connections": o.connections,
            "threads": o.threads,
            "ours": self.ours,
            "wrk": self.wrk.as_ref().map(|(w, server)| json!({
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
        })
    }
}

/// Each comparison's median over the rounds, with its range: the figure to quote, since one
/// round's ratio moves by 10-20% with the machine's state.
fn medians(rounds: &[Round]) -> Vec<Value> {
    // (engine, rate, peer), that comparison's value in each round and in how many rounds our run
    // was saturated, in first-seen order.
    type Key = (String, f64, Peer);
    let mut groups: Vec<(Key, Vec<f64>, usize)> = Vec::new();
    for ratio in rounds.iter().flat_map(Round::ratios) {
        let key = (ratio.engine, ratio.planned_tps, ratio.peer);
        let saturated = usize::from(ratio.saturated);
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, values, n)) => {
                values.push(ratio.value);
                *n += saturated;
            }
            None => groups.push((key, vec![ratio.value], saturated)),
        }
    }
    groups
        .into_iter()
        .map(|((engine, planned_tps, peer), values, saturated)| {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            json!({
                "engine": engine,
                "planned_tps": planned_tps,
                "what": peer.what(),
                "peer": peer.name(),
                "median": models::stats::median(values.clone()),
                "min": min,
                "max": max,
                "rounds": values.len(),
                "saturated_rounds": saturated,
            })
        })
        .collect()
}

/// One `stress-runner bench http --json` run: its `ours[0]` object.
fn bench_http(
    bin: &Path,
    url: &str,
    tps: &str,
    engine: models::HttpEngine,
    o: &Options,
    core: Option<usize>,
) -> Result<Value> {
    let mut cmd = nginx::on_core(core, bin);
    cmd.args([
        "bench",
        "http",
        "--url",
        url,
        "--tps",
        tps,
        "--engine",
        engine.as_str(),
    ])
    .args(["--duration", &o.duration])
    .args(["--connections", &o.connections.to_string()])
    .args(["--threads", &o.threads.to_string(), "--json"])
    .stdin(Stdio::null())
    .stderr(Stdio::inherit());
    if let Some(body) = &o.body {
        cmd.arg("--body").arg(body);
    }
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", bin.display()))?;
    if !output.status.success() {
        bail!("it failed ({})", output.status);
    }
    let report: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "its output is not the JSON of `bench http --json`:\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    report["ours"]
        .get(0)
        .cloned()
        .context("its JSON has no `ours` run")
}

/// Transaction 0 of the benchmark's stream, as the driver sends it: wrk's request body.
fn sample_transaction_body() -> Result<Vec<u8>> {
    let factory = TransactionFactory::new(BENCH_SEED, FactoryConfig::default())
        .context("building the transaction factory")?;
    let (txn, _) = factory.at(0);
    serde_json::to_vec(&txn).context("serialising a transaction")
}

fn print_ours(run: &Value, url: &str) {
    let f = |key: &str| run[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "ours ({} engine), {:.0} TPS against {url}: achieved {:.1} TPS ({:+.2}%), dropped {}, errors {}; p99 {:.3} ms from the intended send; \
         CPU {:.2} s: {:.0} requests per CPU-second",
        run["engine"].as_str().unwrap_or("?"),
        f("planned_tps"),
        f("achieved_tps"),
        f("rate_error_pct"),
        run["dropped"],
        run["errors"],
        run["latency_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
        f("cpu_seconds"),
        f("requests_per_cpu_second"),
    );
}

fn print_server(cpu: f64, requests: u64) {
    if requests > 0 {
        println!(
            "  nginx CPU {cpu:.2} s: {:.2} µs per request",
            cpu * 1e6 / requests as f64
        );
    }
}

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
    print_cpu(w.user, w.sys, w.requests);
}

#[path = "../../test-support/nginx.rs"]
mod nginx;

/// The benchmark's nginx: keep-alive without limit, and one fixed verdict for every request.
fn start_nginx(core: Option<usize>) -> Result<nginx::Nginx> {
    if !on_path("nginx") {
        bail!(
            "nginx is not installed (or not on PATH); install it with `apt-get install -y nginx`"
        );
    }
    nginx::Nginx::start(
        "nginx",
        |dir, port| {
            nginx::config(
                dir,
                port,
                "    keepalive_requests 100000000;\n    keepalive_timeout 120s;",
                r#"        location / {
            default_type application/json;
            return 200 '{"decision":"approve","risk_score":0.1}';
        }"#,
            )
        },
        &[],
        core,
    )
    .map_err(anyhow::Error::msg)
}

/// CPU seconds (user + sys) the nginx process has used so far.
fn cpu_seconds(nginx: &nginx::Nginx) -> Result<f64> {
    let pid = nginx.child.id();
    let cpu = load_driver::bench::CpuTime::of_process(pid)
        .with_context(|| format!("reading the CPU time of nginx (pid {pid})"))?;
    Ok(cpu.total_seconds())
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
        per_cpu_second(self.requests, self.user, self.sys)
    }
}

/// Runs `wrk -t1 -cC -dD` with a Lua script that POSTs `body` as JSON, under `/usr/bin/time`.
fn run_wrk(
    dir: &Path,
    url: &str,
    connections: usize,
    duration: Duration,
    body: &[u8],
    core: Option<usize>,
) -> Result<WrkRun> {
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
    let output = nginx::on_core(core, "/usr/bin/time")
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
    let (user, sys) = read_time(&time_out)?;
    parse_wrk(&stdout, connections, secs as f64, user, sys)
}

/// User and system seconds from a `/usr/bin/time -f "%U %S" -o FILE` file.
fn read_time(file: &Path) -> Result<(f64, f64)> {
    let times =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut cpu = times
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::parse::<f64>);
    let (Some(Ok(user)), Some(Ok(sys))) = (cpu.next(), cpu.next()) else {
        bail!("unexpected /usr/bin/time output: {times:?}");
    };
    Ok((user, sys))
}

/// Whether `program` is found in one of PATH's directories.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// What one oha run reported (its JSON) and what `/usr/bin/time` measured of it.
#[derive(Debug)]
struct OhaRun {
    planned_tps: f64,
    /// Answers received (any status).
    requests: u64,
    non_2xx: u64,
    /// Requests that got no answer (oha's error distribution).
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    user: f64,
    sys: f64,
}

impl OhaRun {
    fn per_cpu_second(&self) -> f64 {
        per_cpu_second(self.requests, self.user, self.sys)
    }
}

/// Runs oha at a fixed rate with latency correction (open-loop as ours is), POSTing `body` as JSON
/// on `connections` connections with `--threads` runtime threads, under `/usr/bin/time`.
fn run_oha(
    dir: &Path,
    url: &str,
    tps: &str,
    o: &Options,
    duration: Duration,
    body: &[u8],
    core: Option<usize>,
) -> Result<OhaRun> {
    let planned_tps: f64 = tps
        .parse()
        .with_context(|| format!("--tps {tps}: not a number"))?;
    let body = std::str::from_utf8(body).context("the request body is not UTF-8 text")?;
    let time_out = dir.join("oha.time");
    let output = nginx::on_core(core, "/usr/bin/time")
        .arg("-f")
        .arg("%U %S")
        .arg("-o")
        .arg(&time_out)
        .arg("oha")
        .args(["-z", &format!("{}s", duration.as_secs().max(1))])
        .args(["-q", tps, "-c", &o.connections.to_string()])
        .args(["--worker-threads", &o.threads.max(1).to_string()])
        .args([
            "--latency-correction",
            "--no-tui",
            "--output-format",
            "json",
        ])
        .args([
            "-m",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            body,
        ])
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .context("starting /usr/bin/time oha")?;
    if !output.status.success() {
        bail!(
            "oha failed ({}); it said:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (user, sys) = read_time(&time_out)?;
    let v: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "oha's output is not JSON:\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let sum = |key: &str, keep: &dyn Fn(&str) -> bool| -> u64 {
        v[key].as_object().map_or(0, |m| {
            m.iter()
                .filter(|(k, _)| keep(k))
                .filter_map(|(_, n)| n.as_u64())
                .sum()
        })
    };
    let seconds = v["summary"]["total"]
        .as_f64()
        .with_context(|| format!("no summary.total in oha's JSON: {v}"))?;
    let ms = |p: &str| {
        v["latencyPercentiles"][p]
            .as_f64()
            .map_or(f64::NAN, |s| s * 1e3)
    };
    Ok(OhaRun {
        planned_tps,
        requests: sum("statusCodeDistribution", &|_| true),
        non_2xx: sum("statusCodeDistribution", &|code| !code.starts_with('2')),
        errors: sum("errorDistribution", &|_| true),
        seconds,
        p50_ms: ms("p50"),
        p99_ms: ms("p99"),
        user,
        sys,
    })
}

fn print_oha(r: &OhaRun) {
    println!(
        "oha -q {:.0} --latency-correction: {} answers in {:.2} s ({:.0} /s), non-2xx {}, errors {}; \
         p50 {:.3} ms, p99 {:.3} ms (corrected)",
        r.planned_tps,
        r.requests,
        r.seconds,
        r.requests as f64 / r.seconds,
        r.non_2xx,
        r.errors,
        r.p50_ms,
        r.p99_ms
    );
    print_cpu(r.user, r.sys, r.requests);
}

/// A peer's CPU over its requests.
fn print_cpu(user: f64, sys: f64, requests: u64) {
    let cpu = user + sys;
    println!(
        "  CPU {cpu:.2} s (user {user:.2}, sys {sys:.2}): {:.2} µs per request, {:.0} requests per CPU-second",
        cpu * 1e6 / requests.max(1) as f64,
        per_cpu_second(requests, user, sys)
    );
}

/// Requests per CPU-second (user + system); 0 when no CPU was measured.
fn per_cpu_second(requests: u64, user: f64, sys: f64) -> f64 {
    let cpu = user + sys;
    if cpu > 0.0 {
        requests as f64 / cpu
    } else {
        0.0
    }
}

/// Reads "N requests in 5.01s, ..." and the error lines from wrk's report.
fn parse_wrk(
    text: &str,
    connections: usize,
    duration_s: f64,
    user: f64,
    sys: f64,
) -> Result<WrkRun> {
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

    #[test]
    fn options_are_read_and_bad_ones_refused() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = options(&args(&["--tps", "20000,40000", "--no-wrk", "--json"])).unwrap();
        assert_eq!(o.tps, ["20000", "40000"]);
        assert!(!o.wrk && o.json && o.connections == 64);
        let err = options(&args(&["--connections", "0"])).unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
        let err = options(&args(&["--tps"])).unwrap_err();
        assert!(err.to_string().contains("20000,40000"), "{err}");
        assert!(options(&args(&["--nginx"])).is_err());
        assert!(options(&args(&["--rounds", "0"])).is_err());
        assert_eq!(options(&args(&["--rounds", "6"])).unwrap().rounds, 6);
    }

    /// Ours and oha at the same rate are next to each other, wrk last; a backward round then puts
    /// every pair in the other order.
    #[test]
    fn a_round_puts_each_comparison_side_by_side() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = options(&args(&["--tps", "20000,100000", "--engine", "lean,hyper"])).unwrap();
        let names: Vec<String> = plan(&o, true)
            .iter()
            .map(|s| match s {
                Step::Ours { engine, tps } => format!("{}@{tps}", engine.as_str()),
                Step::Oha { tps } => format!("oha@{tps}"),
                Step::Wrk => "wrk".into(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "lean@20000",
                "hyper@20000",
                "oha@20000",
                "lean@100000",
                "hyper@100000",
                "oha@100000",
                "wrk"
            ]
        );
        assert_eq!(plan(&o, false).len(), 5);
    }

    /// Each comparison (engine, rate, peer) gets the median and range of its rounds' ratios.
    #[test]
    fn medians_group_each_comparison_over_the_rounds() {
        let round = |ours_cpu: f64, oha_cpu: f64, wrk_cpu: f64, dropped: u64| Round {
            ours: vec![json!({
                "engine": "lean",
                "planned_tps": 20000.0,
                "dropped": dropped,
                "cpu_seconds": ours_cpu,
                "requests_per_cpu_second": 200_000.0 / ours_cpu,
            })],
            wrk: Some((
                WrkRun {
                    connections: 64,
                    duration_s: 10.0,
                    requests: 1_000_000,
                    seconds: 10.0,
                    non_2xx: 0,
                    socket_errors: 0,
                    user: 0.0,
                    sys: wrk_cpu,
                },
                0.0,
            )),
            oha: vec![(
                OhaRun {
                    planned_tps: 20000.0,
                    requests: 200_000,
                    non_2xx: 0,
                    errors: 0,
                    seconds: 10.0,
                    p50_ms: 0.4,
                    p99_ms: 3.0,
                    user: 0.0,
                    sys: oha_cpu,
                },
                0.0,
            )],
        };
        // Our CPU 3, 2, 4 s against oha's 4 s: 0.75, 0.5, 1.0.
        let rounds = [
            round(3.0, 4.0, 10.0, 0),
            round(2.0, 4.0, 10.0, 0),
            round(4.0, 4.0, 10.0, 12),
        ];
        let m = medians(&rounds);
        assert_eq!(m.len(), 2, "{m:#?}");
        let oha = m.iter().find(|g| g["peer"] == "oha").unwrap();
        assert_eq!(oha["median"], 0.75);
        assert_eq!(
            (oha["min"].as_f64(), oha["max"].as_f64()),
            (Some(0.5), Some(1.0))
        );
        assert_eq!(oha["rounds"], 3);
        // Against wrk's 100,000 requests per CPU-second: 200,000 / 3 / 100,000 = 0.667.
        let wrk = m.iter().find(|g| g["peer"] == "wrk").unwrap();
        assert!((wrk["median"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(wrk["what"], "requests per CPU-second x");
        // Only the third round's run dropped arrivals: one saturated round of three, per peer.
        assert_eq!(wrk["saturated_rounds"], 1);
        assert_eq!(oha["saturated_rounds"], 1);
    }
}

//! `stress-runner run`: runs a scenario (built-in name or TOML file) or a plain `--tps N --duration D`
//! load, shows progress, writes the results folder and exits 0 (passed), 1 (criteria failed or ended
//! early), 2 (usage or configuration error) or 130 (Ctrl+C).

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use models::{EventKind, IntervalSnapshot, RunEvent, ScenarioSpec, Summary, TargetKind};
use orchestrator::{RunOptions, StressTestOrchestrator, scenario_file, timeline};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::broadcast;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A built-in scenario (see `stress-runner scenarios`) or a scenario TOML file.
    #[arg(long, value_name = "NAME|FILE")]
    scenario: Option<String>,
    /// `builtin` (the reference service, started on a free loopback port), `in-process`, or a scoring URL.
    #[arg(long, value_name = "builtin|in-process|URL", default_value = "builtin")]
    target: String,
    /// Allow a target URL that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    /// Without --scenario: a plain sustained load at this rate (needs --duration).
    #[arg(long, value_name = "N")]
    tps: Option<f64>,
    /// Cut the run to this long (`90s`, `5m`); with --tps, its length.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Multiply the timeline (stages, fault times, criterion windows) by F; rates stay. 0.1 runs the
    /// 10-minute investor scenario in 60 s.
    #[arg(long, value_name = "F")]
    time_scale: Option<f64>,
    /// Seed of the transaction stream (default: the scenario's).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Results folder (default: results/<run-id>/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print only the final result and where the results are.
    #[arg(long)]
    quiet: bool,
    /// Hard ceiling on the send rate (default: the scenario's `limits.max_tps`, 60,000 unless set).
    #[arg(long, value_name = "N")]
    max_tps: Option<f64>,
    /// Stop when the cost model's running cost reaches X (reporting currency); warns at 80%.
    #[arg(long, value_name = "X")]
    budget: Option<f64>,
    /// Built-in target: the TPS at which its slowest stage saturates.
    #[arg(long, value_name = "N")]
    capacity: Option<f64>,
    /// Inject a fault (repeatable), on top of the scenario's; times are run time. See the syntax below.
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault, long_help = failure_injection::FAULT_FLAG_HELP)]
    faults: Vec<models::FaultSpec>,
    /// Put an HTTP target behind the fault-injecting proxy even with no fault scheduled, so that faults
    /// can be injected by hand (from the admin page). It always is when faults are scheduled.
    #[arg(long)]
    fault_proxy: bool,
    /// Adaptive mode: halve the load at critical degradation and restore it step by step after.
    #[arg(long)]
    adaptive: bool,
    /// Post alerts (raised and cleared) as JSON to this URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Run id (default: `YYYYMMDD-HHMMSS-<scenario>-<4 hex>`). The workers of a distributed run share
    /// one, so that CloudWatch shows them under one RunId.
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Send only execution segment I of N (arrivals k with k mod N = I): one worker of a distributed
    /// run. See docs/distributed.md. Default results folder: results/<run-id>/segment-I-of-N/.
    #[arg(long, value_name = "I/N")]
    segment: Option<load_profiles::Segment>,
    /// Start the load at this instant (RFC 3339, for example 2026-11-23T18:45:00Z), at most 1 h ahead:
    /// the common start of a distributed run's workers.
    #[arg(long, value_name = "RFC3339", value_parser = parse_start_at)]
    start_at: Option<std::time::SystemTime>,
    /// Write ids.txt into the results folder: the index and id of every sent transaction.
    #[arg(long)]
    record_ids: bool,
    #[command(flatten)]
    dashboard: super::dashboard::DashboardArgs,
    // Boxed to keep `Args` (a variant of main's `Command`) small enough for clippy's large_enum_variant.
    #[cfg(feature = "aws")]
    #[command(flatten)]
    aws: Box<super::aws::AwsArgs>,
}

fn parse_start_at(s: &str) -> Result<std::time::SystemTime, String> {
    humantime::parse_rfc3339_weak(s)
        .map_err(|e| format!("{e}; give an RFC 3339 UTC time such as 2026-11-23T18:45:00Z"))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    models::duration_serde::parse(s)
}

fn parse_fault(s: &str) -> Result<models::FaultSpec, String> {
    failure_injection::parse_fault_flag(s).map_err(|e| e.to_string())
}

/// The scenario the flags describe, checked.
fn build_spec(args: &Args) -> anyhow::Result<ScenarioSpec> {
    let mut spec = match (&args.scenario, args.tps) {
        (Some(_), Some(_)) => bail!("give either --scenario or --tps with --duration, not both"),
        (None, None) => bail!(
            "give --scenario NAME|FILE (see `stress-runner scenarios`) or --tps N --duration D"
        ),
        (Some(name), None) => scenario_file::resolve(name)?,
        (None, Some(tps)) => {
            let d = args
                .duration
                .context("--tps needs --duration (for example --tps 500 --duration 60s)")?;
            timeline::plain(tps, d)?
        }
    };
    if let Some(f) = args.time_scale {
        spec = timeline::scale(&spec, f)?;
    }
    if let (Some(d), Some(_)) = (args.duration, &args.scenario) {
        spec = timeline::cut(&spec, d)?;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    if let Some(m) = args.max_tps {
        spec.limits.max_tps = m;
    }
    if let Some(b) = args.budget {
        spec.limits.budget = Some(b);
    }
    if let Some(c) = args.capacity {
        spec.target.capacity = Some(c);
    }
    spec.faults.extend(args.faults.iter().cloned());
    if args.adaptive {
        spec.resilience.adaptive = true;
    }
    if let Some(url) = &args.webhook {
        spec.resilience.webhook = Some(url.clone());
    }
    #[cfg(feature = "aws")]
    {
        spec.aws = args.aws.merge_into(spec.aws.take())?;
    }
    match args.target.as_str() {
        "builtin" => spec.target.kind = TargetKind::Builtin,
        "in-process" | "in_process" => spec.target.kind = TargetKind::InProcess,
        url => {
            targets::check_loopback(url, args.allow_remote)?;
            spec.target.kind = TargetKind::Http;
            spec.target.url = Some(url.to_owned());
        }
    }
    if spec.target.kind == TargetKind::Http
        && let Some(url) = &spec.target.url
    {
        targets::check_loopback(url, args.allow_remote)?;
    }
    scenario_file::validate(&spec)
        .map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
    Ok(spec)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = build_spec(&args)?;
    // Made here rather than by the orchestrator so that CloudWatch can tag the run's metrics with it.
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| orchestrator::results::run_id(&spec.name, std::time::SystemTime::now()));
    let options = RunOptions {
        run_id: Some(run_id.clone()),
        out_dir: args.out.clone().or_else(|| {
            args.segment.map(|s| {
                PathBuf::from("results").join(&run_id).join(format!(
                    "segment-{}-of-{}",
                    s.index(),
                    s.count()
                ))
            })
        }),
        segment: args.segment,
        start_at: args.start_at,
        record_ids: args.record_ids,
        allow_remote: args.allow_remote,
        fault_proxy: args.fault_proxy,
        ..RunOptions::default()
    };
    let orch = StressTestOrchestrator::new(spec.clone(), options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let quiet = args.quiet;
    let code = runtime.block_on(async move {
        let control = orch.control();
        let dashboard = super::dashboard::start_for_run(&args.dashboard, &control, &spec).await?;
        #[cfg(feature = "aws")]
        let mut aws = super::aws_run::start(
            &spec,
            &run_id,
            &control,
            args.segment
                .map(|s| format!("{}-of-{}", s.index(), s.count())),
            quiet,
        )
        .await;
        #[cfg(feature = "aws")]
        let orch = match aws.as_mut().and_then(|a| a.segment_layer()) {
            Some(layer) => orch.with_target_layer(layer),
            None => orch,
        };
        let progress = tokio::spawn(progress(
            control.subscribe_frames(),
            control.subscribe_events(),
            spec,
            quiet,
        ));
        let ctrl_c = {
            let control = control.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    let _ = control.interrupt();
                }
            })
        };
        let outcome = orch.run().await;
        ctrl_c.abort();
        let _ = ctrl_c.await;
        // The run's channels close with it; the progress task ends on its own.
        drop(control);
        let _ = progress.await;
        match outcome {
            Ok(outcome) => {
                print_summary(&outcome.summary, &outcome.dir, quiet);
                // aws.json first, so that the report shows it.
                #[cfg(feature = "aws")]
                if let Some(aws) = aws
                    && let Some(path) = aws.finish(&outcome.dir).await
                    && let Some(d) = &dashboard
                    && let Ok(text) = std::fs::read_to_string(&path)
                    && let Ok(json) = serde_json::from_str(&text)
                {
                    d.feed().aws(json);
                }
                write_report(&outcome.dir, quiet);
                if let Some(d) = dashboard {
                    d.finish(&outcome.summary).await?;
                }
                Ok::<_, anyhow::Error>(outcome.exit_code())
            }
            Err(e) => {
                #[cfg(feature = "aws")]
                if let Some(aws) = aws {
                    aws.abandon().await;
                }
                if let Some(d) = dashboard {
                    let _ = d.abandon().await;
                }
                Err(e.into())
            }
        }
    })?;
    Ok(ExitCode::from(code))
}

/// `report.html` and `junit.xml` beside the result files. A report that cannot be written is a
/// warning, not a failed run: the result files are there, and `stress-runner report DIR` retries.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn write_report(dir: &std::path::Path, quiet: bool) {
    match report::write_all(dir) {
        Ok(w) if !quiet => println!(
            "Report:  {}\nJUnit:   {}",
            w.html.display(),
            w.junit.display()
        ),
        Ok(_) => {}
        Err(e) => eprintln!(
            "warning: could not write the report: {e}; retry with `stress-runner report {}`",
            dir.display()
        ),
    }
}

fn state_text(s: &IntervalSnapshot) -> String {
    s.state.as_str().replace('_', " ")
}

fn event_line(e: &RunEvent) -> Option<String> {
    let t = e.t_s;
    Some(match &e.kind {
        EventKind::PhaseStarted { name } => format!("[{t:7.1}s] phase {name}"),
        EventKind::FaultStarted { fault, stage } => {
            format!(
                "[{t:7.1}s] fault {fault} started{}",
                stage
                    .as_ref()
                    .map(|s| format!(" on {s}"))
                    .unwrap_or_default()
            )
        }
        EventKind::FaultEnded { fault, .. } => format!("[{t:7.1}s] fault {fault} ended"),
        EventKind::Degradation { from, to } => format!("[{t:7.1}s] degradation {from:?} -> {to:?}"),
        EventKind::BudgetWarning { spent, budget } => {
            format!("[{t:7.1}s] budget warning: {spent:.4} of {budget}")
        }
        EventKind::CriterionFailed { name, actual, .. } => {
            format!("[{t:7.1}s] criterion failed: {name} (actual {actual})")
        }
        EventKind::Message { text } => format!("[{t:7.1}s] {text}"),
        EventKind::RateMultiplier { value } => format!("[{t:7.1}s] rate multiplier {value}"),
        _ => return None,
    })
}

/// Shows progress until the run's channels close: a bar on a terminal, plain lines otherwise.
async fn progress(
    mut frames: broadcast::Receiver<IntervalSnapshot>,
    mut events: broadcast::Receiver<RunEvent>,
    spec: ScenarioSpec,
    quiet: bool,
) {
    let total = spec.load.total_duration().as_secs_f64();
    let tty = std::io::stdout().is_terminal();
    let bar = (!quiet && tty).then(|| {
        let bar = ProgressBar::new(total.ceil().max(1.0) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise} / {prefix}] {wide_bar} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(models::duration_serde::format(Duration::from_secs_f64(
            total.ceil(),
        )));
        bar
    });
    // Plain output: every tick for short runs, every 10 s for long ones.
    let every = if total <= 120.0 { 1 } else { 10 };
    let mut n = 0u64;
    let mut frames_open = true;
    let mut events_open = true;
    #[allow(clippy::print_stdout)]
    while frames_open || events_open {
        tokio::select! {
            f = frames.recv(), if frames_open => match f {
                Ok(s) => {
                    n += 1;
                    let line = format!(
                        "{:>6.1} TPS  p99 {:>8.1} ms  errors {:>5}  dropped {:>5}  {}",
                        s.achieved_tps, s.latency_ms.p99, s.error_total(), s.dropped, state_text(&s)
                    );
                    if let Some(bar) = &bar {
                        bar.set_position(s.t_s.min(total) as u64);
                        bar.set_message(line);
                    } else if !quiet && n.is_multiple_of(every) {
                        println!("[{:7.1}s] {line}", s.t_s);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => frames_open = false,
            },
            e = events.recv(), if events_open => match e {
                Ok(e) => {
                    if let Some(line) = event_line(&e).filter(|_| !quiet) {
                        match &bar {
                            Some(bar) => bar.println(line),
                            None => println!("{line}"),
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => events_open = false,
            },
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

#[allow(clippy::print_stdout)]
fn print_summary(s: &Summary, dir: &std::path::Path, quiet: bool) {
    let verdict = if s.passed { "PASSED" } else { "FAILED" };
    if quiet {
        println!(
            "{} {verdict} ({}), {} criteria; results in {}",
            s.run_id,
            s.end_reason,
            s.criteria.len(),
            dir.display()
        );
        return;
    }
    let cur = s.fraud.currency;
    println!();
    println!(
        "Run {} ({}): {verdict}, ended: {}",
        s.run_id, s.scenario, s.end_reason
    );
    println!(
        "  load      {:.1} s, scheduled {}, sent {}, completed {}, dropped {}; {:.1} TPS achieved (target {:.1}, peak {:.1})",
        s.duration_s,
        s.load.scheduled,
        s.load.sent,
        s.load.completed,
        s.load.dropped,
        s.load.achieved_tps_avg,
        s.load.target_tps_avg,
        s.load.peak_tps
    );
    let l = &s.latency_ms;
    println!(
        "  latency   p50 {:.2} ms, p95 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2} (from the intended send)",
        l.p50, l.p95, l.p99, l.p999, l.max
    );
    println!(
        "  errors    {} ({:.3}%) {:?}",
        s.errors.total,
        s.errors.rate * 100.0,
        s.errors.by_kind
    );
    println!(
        "  fraud     recall {:.3}, precision {:.3}, accuracy {:.3}; prevented {:.2} {cur}, false declines {:.2} {cur}",
        s.fraud.recall,
        s.fraud.precision,
        s.fraud.accuracy,
        s.fraud.prevented_amount,
        s.fraud.false_decline_amount
    );
    println!(
        "  business  cost {:.4} {cur} ({:.6} per transaction), ROI {:.0}%",
        s.business.total_cost, s.business.cost_per_txn, s.business.roi_pct
    );
    for f in &s.resilience.faults {
        let opt = |v: Option<f64>| v.map_or_else(|| "never".to_owned(), |v| format!("{v:.1} s"));
        println!(
            "  fault     {} {:.1}-{:.1} s: max {:?}, detected {}, recovered {}{}",
            f.kind,
            f.start_s,
            f.end_s,
            f.max_level,
            opt(f.time_to_detect_s),
            opt(f.time_to_recover_s),
            if f.cascade { ", CASCADE" } else { "" }
        );
    }
    if !s.criteria.is_empty() {
        println!("  criteria");
        for line in super::criteria_lines(&s.criteria, "    ") {
            println!("{line}");
        }
    }
    println!("Results: {}", dir.display());
}

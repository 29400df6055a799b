//! `stress-runner run`: runs a scenario (built-in name or TOML file) or a plain `--tps N --duration D`
//! load, shows progress, writes the results folder and exits 0 (passed), 1 (criteria failed or ended
//! early), 2 (usage or configuration error), 130 (Ctrl+C) or 143 (SIGTERM or SIGHUP).

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use models::format as fmt;
use models::{EventKind, IntervalSnapshot, RunEvent, ScenarioSpec, Summary};
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
    target: models::TargetRef,
    /// --allow-remote, and how to reach an HTTP target and read its answers.
    #[command(flatten)]
    http: super::target_args::TargetArgs,
    /// Without --scenario: a plain sustained load at this rate (needs --duration).
    #[arg(long, value_name = "N")]
    tps: Option<f64>,
    /// Cut the run to this long (`90s`, `5m`); with --tps, its length.
    #[arg(long, value_name = "D", value_parser = models::duration_serde::parse)]
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
    /// Replace the run whose results the --out folder already holds (its result files are removed
    /// first; other files stay). Without it such a folder is refused: two runs' files would read as one.
    #[arg(long)]
    overwrite: bool,
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
    if let Some(tps) = args.tps {
        timeline::check_rate_under_ceiling(tps, spec.limits.max_tps)?;
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
    args.target.apply_to(&mut spec.target);
    args.http.apply_to(&mut spec)?;
    scenario_file::validate(&spec)
        .map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
    // The check the run's own target setup makes (loopback unless --allow-remote, valid built-in
    // settings), made now so that a bad target is a usage error before anything starts.
    orchestrator::TargetFactory::new(&spec.target, args.http.allow_remote)?;
    Ok(spec)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.dashboard.check()?;
    let spec = build_spec(&args)?;
    // Made here rather than by the orchestrator so that CloudWatch can tag the run's metrics with it.
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| orchestrator::run_id(&spec.name, std::time::SystemTime::now()));
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
        existing: if args.overwrite {
            orchestrator::Existing::Replace
        } else {
            orchestrator::Existing::Refuse
        },
        allow_remote: args.http.allow_remote,
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
        let mut aws = super::aws::start(
            &spec,
            &run_id,
            control.subscribe_frames(),
            args.segment
                .map(|s| format!("{}-of-{}", s.index(), s.count())),
            quiet,
        )
        .await;
        #[cfg(feature = "aws")]
        let orch = match aws.as_mut().and_then(|a| {
            let layer = a.segment_layer();
            super::aws::print_notes(a.take_notes(), quiet);
            layer
        }) {
            Some(layer) => orch.with_target_layer(orchestrator::TargetLayer::new(move |target| {
                layer.wrap(target)
            })),
            None => orch,
        };
        let progress = tokio::spawn(progress(
            control.subscribe_frames(),
            control.subscribe_events(),
            spec,
            quiet,
        ));
        // Ctrl+C, SIGTERM and SIGHUP all stop the run gracefully: every result file is written.
        let ctrl_c = {
            let control = control.clone();
            tokio::spawn(async move {
                let _ = match super::signals::next().await {
                    Some(super::signals::StopSignal::Interrupt) => control.interrupt(),
                    Some(super::signals::StopSignal::Terminate) => control.terminate(),
                    None => Ok(()),
                };
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
                if let Some(aws) = aws {
                    let finished = aws.finish(&outcome.dir).await;
                    super::aws::print_notes(finished.notes, quiet);
                    if finished.aws_json.is_some()
                        && let Some(d) = &dashboard
                        && let Ok(json) = serde_json::to_value(&finished.report)
                    {
                        d.feed().aws(json);
                    }
                }
                write_report(&outcome.dir, quiet);
                if let Some(d) = dashboard {
                    d.finish(&outcome.summary).await?;
                }
                Ok::<_, anyhow::Error>(outcome.exit())
            }
            Err(e) => {
                #[cfg(feature = "aws")]
                if let Some(aws) = aws {
                    super::aws::print_notes(aws.abandon().await, quiet);
                }
                if let Some(d) = dashboard {
                    let _ = d.abandon().await;
                }
                Err(e.into())
            }
        }
    })?;
    Ok(super::exit(code))
}

/// `report.html` and `junit.xml` beside the result files. A report that cannot be written is a
/// warning, not a failed run: the result files are there, and `stress-runner report DIR` retries.
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

/// Arrivals shed by the `--max-tps` ceiling, shown only when there are any.
fn shed_text(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" (+{} shed at the ceiling)", fmt::count(n))
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
        EventKind::CriterionNotMeasured {
            name,
            reason,
            skipped,
        } => format!(
            "[{t:7.1}s] criterion {}: {name} (not measured: {reason})",
            if *skipped { "skipped" } else { "failed" }
        ),
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
    while frames_open || events_open {
        tokio::select! {
            f = frames.recv(), if frames_open => match f {
                Ok(s) => {
                    n += 1;
                    let line = format!(
                        "{:>6.1} TPS  p99 {:>8.1} ms  errors {:>5}  dropped {:>5}{}  {}",
                        s.achieved_tps, s.latency_ms.p99, s.error_total(), s.dropped, shed_text(s.dropped_ceiling), state_text(&s)
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
    println!("  tested    {}", tested_text(s));
    println!(
        "  load      {:.1} s, scheduled {}, sent {}, completed {}, dropped {}{}; {} TPS achieved (target {}, peak {})",
        s.duration_s,
        fmt::count(s.load.scheduled),
        fmt::count(s.load.sent),
        fmt::count(s.load.completed),
        fmt::count(s.load.dropped),
        shed_text(s.load.dropped_ceiling),
        fmt::thousands(s.load.achieved_tps_avg, 1),
        fmt::thousands(s.load.target_tps_avg, 1),
        fmt::thousands(s.load.peak_tps, 1)
    );
    let l = &s.latency_ms;
    println!(
        "  latency   p50 {:.2} ms, p95 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2} (from the intended send)",
        l.p50, l.p95, l.p99, l.p999, l.max
    );
    println!(
        "  errors    {} ({:.3}%) {:?}",
        fmt::count(s.errors.total),
        s.errors.rate * 100.0,
        s.errors.by_kind
    );
    for (kind, samples) in &s.errors.samples {
        if let Some(first) = samples.first() {
            println!(
                "            first {kind}: {} {}",
                first.reason, first.answer
            );
        }
    }
    println!(
        "  fraud     recall {:.3}, precision {:.3}, accuracy {:.3}; prevented {}, false declines {}",
        s.fraud.recall,
        s.fraud.precision,
        s.fraud.accuracy,
        fmt::money(s.fraud.prevented_amount, cur),
        fmt::money(s.fraud.false_decline_amount, cur)
    );
    if s.fraud.unscored > 0 {
        println!(
            "  unscored  {} fraud got no verdict (error, timeout, dropped): recall of all fraud {:.3}",
            fmt::count(s.fraud.unscored),
            s.fraud.recall_effective
        );
    }
    let b = &s.business;
    let mcur = b.cost_model.currency;
    println!(
        "  business  cost {} ({} per transaction), false-decline loss {} ({} of {}), net ROI {}",
        fmt::money(b.total_cost, mcur),
        fmt::money(b.cost_per_txn, mcur),
        fmt::money(b.false_decline_loss, mcur),
        b.cost_model.false_decline_cost_ratio,
        fmt::money(s.fraud.false_decline_amount, cur),
        fmt::roi(b.roi_pct)
    );
    println!("            {}", models::CostModel::ROI_FORMULA);
    for f in &s.resilience.faults {
        println!("  fault     {}", fault_line(f));
    }
    if let Some(line) = generator_line(&s.generator) {
        println!("  generator {line}");
    }
    if let Some(t) = &s.target_resources {
        println!("  target    {}", t.describe());
    }
    if !s.criteria.is_empty() {
        println!("  criteria");
        for line in super::criteria_lines(&s.criteria, "    ") {
            println!("{line}");
        }
    }
    println!("Results: {}", dir.display());
}

/// The generator's own resources, or nothing when none were sampled.
fn generator_line(g: &models::GeneratorSummary) -> Option<String> {
    let peak = g.peak_rss_mb?;
    let mut line = format!("peak RSS {peak:.0} MiB");
    if let Some(growth) = g.rss_growth_pct {
        line.push_str(&format!(", RSS {growth:+.1}% after warm-up"));
    }
    if let Some(cpu) = g.max_cpu_pct {
        line.push_str(&format!(", CPU up to {cpu:.0}% of a core"));
    }
    Some(line)
}

/// What was tested: the target, and the traffic's declared mix (the money figures scale with its
/// fraud share, far above real card fraud's).
fn tested_text(s: &Summary) -> String {
    match &s.mix {
        Some(mix) => format!("{}, with {} traffic", s.target.describe(), mix.describe()),
        None => format!("{}, with synthetic traffic", s.target.describe()),
    }
}

/// One fault of the summary for the terminal: where and when, how deep the degradation went (said
/// only when a level was reached), and when it was detected and recovered from.
fn fault_line(f: &models::FaultResult) -> String {
    use models::DegradationLevel;
    let after = |v: Option<f64>, what: &str, never: &str| {
        v.map_or_else(|| never.to_owned(), |v| format!("{what} after {v:.1} s"))
    };
    let level = match f.max_level {
        DegradationLevel::None => "",
        DegradationLevel::Moderate => "degraded to moderate, ",
        DegradationLevel::Severe => "degraded to severe, ",
        DegradationLevel::Critical => "degraded to critical, ",
    };
    format!(
        "{}{} {:.1}-{:.1} s: {level}{}, {}{}",
        f.kind,
        f.stage
            .as_deref()
            .map(|s| format!(":{s}"))
            .unwrap_or_default(),
        f.start_s,
        f.end_s,
        after(f.time_to_detect_s, "detected", "no visible effect"),
        after(f.time_to_recover_s, "recovered", "not recovered by the end"),
        match f.cascade {
            Some(true) => ", CASCADE",
            Some(false) => "",
            None => ", cascade not measured",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use models::TargetKind;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("run").chain(flags.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn the_target_flag_is_read_once_into_the_spec() {
        let plain = ["--tps", "10", "--duration", "1s"];
        let args = parse(&plain).unwrap();
        assert_eq!(args.target.kind, TargetKind::Builtin, "the default");

        let args = parse(&[&plain[..], &["--target", "in-process"]].concat()).unwrap();
        assert_eq!(
            build_spec(&args).unwrap().target.kind,
            TargetKind::InProcess
        );

        let url = "http://127.0.0.1:9/v1/score";
        let args = parse(&[&plain[..], &["--target", url]].concat()).unwrap();
        let spec = build_spec(&args).unwrap();
        assert_eq!(spec.target.kind, TargetKind::Http);
        assert_eq!(spec.target.url.as_deref(), Some(url));

        let err = parse(&[&plain[..], &["--target", "http"]].concat()).unwrap_err();
        assert!(err.to_string().contains("scoring URL"), "{err}");
        let args = parse(&[&plain[..], &["--target", "http://192.0.2.1/score"]].concat()).unwrap();
        let err = build_spec(&args).unwrap_err().to_string();
        assert!(err.contains("192.0.2.1"), "{err}");
    }

    #[test]
    fn answer_flags_override_the_scenarios_mapping() {
        let plain = [
            "--tps",
            "10",
            "--duration",
            "1s",
            "--target",
            "http://127.0.0.1:9/v2/assess",
        ];
        let flags = [
            "--decision-pointer",
            "/outcome/action",
            "--score-pointer",
            "/riskScore",
            "--decision-map",
            "ALLOW=approve,CHALLENGE=review,BLOCK=decline",
        ];
        let spec = build_spec(&parse(&[&plain[..], &flags[..]].concat()).unwrap()).unwrap();
        let r = &spec.target.response;
        assert_eq!(r.decision.as_deref(), Some("/outcome/action"));
        assert_eq!(r.score.as_deref(), Some("/riskScore"));
        assert_eq!(r.decisions["BLOCK"], models::Decision::Decline);

        let err = parse(&[&plain[..], &["--decision-map", "BLOCK=deny"]].concat()).unwrap_err();
        assert!(
            err.to_string().contains("approve, review and decline"),
            "{err}"
        );
        let args = parse(&[&plain[..], &["--decision-pointer", "outcome"]].concat()).unwrap();
        let err = build_spec(&args).unwrap_err().to_string();
        assert!(err.contains("target.response.decision"), "{err}");
    }

    #[test]
    fn header_and_body_template_flags_reach_the_spec() {
        let dir = std::env::temp_dir().join(format!("run-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let body = dir.join("body.json");
        std::fs::write(&body, r#"{"ref": {{id}}, "amt": {{amount}}}"#).unwrap();
        let url = "http://127.0.0.1:9/v1/score";
        let flags = [
            "--tps",
            "10",
            "--duration",
            "1s",
            "--target",
            url,
            "--header",
            "X-Api-Key: k-123",
            "--header",
            "x-api-key:k-456",
            "--body-template",
            body.to_str().unwrap(),
        ];
        let spec = build_spec(&parse(&flags).unwrap()).unwrap();
        assert_eq!(spec.target.headers.len(), 1, "{:?}", spec.target.headers);
        assert_eq!(spec.target.headers["x-api-key"].value(), "k-456");
        assert_eq!(
            spec.target.body.as_deref(),
            Some(r#"{"ref": {{id}}, "amt": {{amount}}}"#)
        );

        let unset = "FRAUDSTRESS_TEST_SURELY_UNSET_TOKEN";
        let header = format!("Authorization: Bearer ${{{unset}}}");
        let flags = [
            "--tps",
            "10",
            "--duration",
            "1s",
            "--target",
            url,
            "--header",
            &header,
        ];
        let err = build_spec(&parse(&flags).unwrap()).unwrap_err().to_string();
        assert!(
            err.contains(unset) && err.contains("Authorization"),
            "{err}"
        );

        assert!(parse(&["--header", "no colon"]).is_err());
        std::fs::write(&body, r#"{"ref": {{idd}}}"#).unwrap();
        let flags = [
            "--tps",
            "10",
            "--duration",
            "1s",
            "--target",
            url,
            "--body-template",
            body.to_str().unwrap(),
        ];
        let err = build_spec(&parse(&flags).unwrap()).unwrap_err().to_string();
        assert!(err.contains("{{idd}}"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fault_line_says_what_its_figures_mean_and_no_level_when_none_was_reached() {
        let mut f = models::FaultResult {
            kind: models::FaultKind::AgentCrash,
            stage: Some("pattern_detector".into()),
            start_s: 8.0,
            end_s: 16.0,
            max_level: models::DegradationLevel::None,
            time_to_detect_s: Some(1.0),
            time_to_recover_s: Some(0.0),
            cascade: Some(false),
            baseline: Default::default(),
            worst: Default::default(),
        };
        let line = fault_line(&f);
        assert_eq!(
            line,
            "agent_crash:pattern_detector 8.0-16.0 s: detected after 1.0 s, recovered after 0.0 s"
        );
        assert!(!line.contains("None"), "{line}");
        f.max_level = models::DegradationLevel::Critical;
        f.time_to_recover_s = None;
        assert_eq!(
            fault_line(&f),
            "agent_crash:pattern_detector 8.0-16.0 s: degraded to critical, detected after 1.0 s, not recovered by the end"
        );
        f.time_to_detect_s = None;
        assert!(fault_line(&f).contains("no visible effect"));
    }
}

//! `stress-runner capacity`: searches for the highest rate the target sustains within an SLO (see
//! `docs/capacity.md`), printing a table row per step as it goes, and writes `capacity.json`,
//! `capacity.html` and one results folder per step. Exit codes: 0 an answer was found, 1 no rate
//! passed (or the kill switch stopped the search before it converged), 2 usage or setup error,
//! 130 Ctrl+C (what was known is still written).

use anyhow::Context;
use capacity::{
    CapacityReport, KneeConfig, Observer, QualityMetric, SearchConfig, Settings, Slo, StepConfig,
    StepRecord, StepRequest, StepRunner, TargetChoice, Verdict,
};
use indicatif::{ProgressBar, ProgressStyle};
use models::TargetSpec;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The SLO every step must meet, e.g. `p99<250ms,error_rate<0.1%,recall>0.9` (metrics: p50, p90,
    /// p95, p99, p999, error_rate, dropped_rate, recall, precision, f1, throughput). Every step must
    /// also keep up with its rate (98% of it, or the `throughput` clause's bound; see docs/capacity.md).
    #[arg(long, value_name = "SLO")]
    slo: String,
    /// `builtin` (the reference service, started afresh for each step), `in-process`, or a scoring URL.
    #[arg(long, value_name = "builtin|in-process|URL", default_value = "builtin")]
    target: models::TargetRef,
    /// Allow a target URL that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    #[command(flatten)]
    tls: super::tls_args::TlsArgs,
    /// Built-in target: the TPS at which its slowest stage saturates.
    #[arg(long, value_name = "N")]
    capacity: Option<f64>,
    /// First rate tried.
    #[arg(long, value_name = "N", default_value_t = 100.0)]
    min_tps: f64,
    /// Never exceeded.
    #[arg(long, value_name = "N", default_value_t = 60_000.0)]
    max_tps: f64,
    /// Measured length of each step (`20s`, `1m`).
    #[arg(long, value_name = "D", default_value = "20s", value_parser = models::duration_serde::parse)]
    step_duration: Duration,
    /// Warm-up before each step's measured part, at the same rate (not judged; `0s` for none).
    #[arg(long, value_name = "D", default_value = "5s", value_parser = models::duration_serde::parse)]
    warmup: Duration,
    /// Bisection stops when the bracket is this narrow, relative (`2%` or `0.02`).
    #[arg(long, value_name = "PCT", default_value = "2%", value_parser = parse_share)]
    precision: f64,
    /// Runs of a rate near the boundary at most (majority verdict).
    #[arg(long, value_name = "N", default_value_t = 3)]
    max_runs: u32,
    /// A figure within this share of its SLO threshold makes a step marginal: it is repeated.
    #[arg(long, value_name = "PCT", default_value = "10%", value_parser = parse_share)]
    margin: f64,
    /// Stop the search at once when a tick's errors and drops exceed this share of its requests.
    #[arg(long, value_name = "PCT", default_value = "50%", value_parser = parse_share)]
    kill_error_rate: f64,
    /// The quality knee is where the quality figure falls this far below its low-load level.
    #[arg(long, value_name = "X", default_value_t = 0.05)]
    quality_drop: f64,
    /// The figure the quality knee follows.
    #[arg(long, value_name = "recall|f1", default_value = "recall", value_parser = parse_quality)]
    quality_metric: QualityMetric,
    /// Seed of every step's transaction stream.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Output folder (default: results/capacity-<id>/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `2%` → 0.02, `0.02` → 0.02.
fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (t, 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale <= 1.0 => Ok(v * scale),
        _ => Err(format!(
            "{s:?} must be a share between 0 and 1, as a fraction (0.02) or a percentage (2%)"
        )),
    }
}

fn parse_quality(s: &str) -> Result<QualityMetric, String> {
    match s {
        "recall" => Ok(QualityMetric::Recall),
        "f1" => Ok(QualityMetric::F1),
        other => Err(format!("{other:?}: use recall or f1")),
    }
}

/// The steps' target (checked, with `--allow-remote`, when the step runner starts).
fn target_spec(args: &Args) -> anyhow::Result<TargetSpec> {
    if args.capacity.is_some() && !args.target.kind.is_builtin() {
        anyhow::bail!(
            "--capacity sets the built-in target's capacity; it means nothing for --target {}",
            args.target
        );
    }
    let mut spec = TargetSpec {
        capacity: args.capacity,
        ..TargetSpec::default()
    };
    args.target.apply_to(&mut spec);
    args.tls.apply_to(&mut spec);
    Ok(spec)
}

/// Prints a table row per step, above a progress bar on a terminal.
struct Table {
    bar: Option<ProgressBar>,
    step_s: u64,
}

impl Table {
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }
}

const HEADER: &str = "   #      TPS run phase      achieved   p50 ms   p95 ms   p99 ms  errors%  dropped%  recall  precis.  verdict";

fn row(r: &StepRecord) -> String {
    let f = &r.figures;
    let verdict = match r.verdict {
        Verdict::Pass => "PASS".to_owned(),
        Verdict::Fail => format!("FAIL {}", r.failed.join("; ")),
        Verdict::Killed => format!(
            "KILLED {}",
            r.note.clone().unwrap_or_else(|| r.failed.join("; "))
        ),
        Verdict::Interrupted => "interrupted".to_owned(),
    };
    let phase = match r.phase {
        capacity::Phase::Growth => "growth",
        capacity::Phase::Bisection => "bisect",
    };
    format!(
        "{:>4} {:>8.0} {:>3} {:<9} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8.3} {:>9.3} {:>7.3} {:>8.3}  {verdict}{}",
        r.index,
        r.tps,
        r.repeat,
        phase,
        f.achieved_tps,
        f.p50_ms,
        f.p95_ms,
        f.p99_ms,
        f.error_rate * 100.0,
        f.dropped_rate * 100.0,
        f.recall,
        f.precision,
        if r.marginal.is_empty() {
            String::new()
        } else {
            format!("  (near: {})", r.marginal.join(", "))
        }
    )
}

impl Observer for Table {
    fn step_started(&mut self, step: &StepRequest) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(self.step_s.max(1));
            bar.set_prefix(format!(
                "step {} at {:.0} TPS (run {})",
                step.index, step.tps, step.run
            ));
            bar.set_message("");
        }
    }

    fn step_finished(&mut self, record: &StepRecord) {
        self.line(&row(record));
    }
}

fn out_dir(args: &Args, now: SystemTime) -> (String, PathBuf) {
    let rid = orchestrator::run_id("capacity", now);
    let id = format!("capacity-{}", rid.replacen("-capacity-", "-", 1));
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&id));
    (id, dir)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let slo = Slo::parse(&args.slo)?;
    let search_cfg = SearchConfig {
        min_tps: args.min_tps,
        max_tps: args.max_tps,
        precision: args.precision,
        max_runs: args.max_runs,
        margin: args.margin,
        kill_error_rate: args.kill_error_rate,
        ..SearchConfig::default()
    };
    search_cfg.validate()?;
    let step_cfg = StepConfig {
        warmup: args.warmup,
        duration: args.step_duration,
        seed: args.seed,
        // The driver's ceiling, or --max-tps when higher: a ceiling close to a step's rate sheds the
        // burst of overdue arrivals after a stall of the generator (see StepConfig::max_tps).
        max_tps: args.max_tps.max(StepConfig::default().max_tps),
        kill_error_rate: args.kill_error_rate,
        target: target_spec(&args)?,
        allow_remote: args.allow_remote,
        ..StepConfig::default()
    };
    step_cfg.validate()?;
    let knee_cfg = KneeConfig {
        quality_drop: args.quality_drop,
        quality_metric: args.quality_metric,
        ..KneeConfig::default()
    };
    let now = SystemTime::now();
    let (id, dir) = out_dir(&args, now);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let step_s = (args.warmup + args.step_duration).as_secs();
    let bar = std::io::stdout().is_terminal().then(|| {
        let bar = ProgressBar::new(step_s.max(1));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} [{pos}/{len} s] {wide_bar} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let report = runtime.block_on(async {
        let mut runner = StepRunner::start(TargetChoice::Config, step_cfg.clone(), &dir).await?;
        if let Some(bar) = bar.clone() {
            runner = runner.on_tick(Box::new(move |_step, tick| {
                bar.set_position(tick.t_s as u64);
                bar.set_message(format!(
                    "{:.0} TPS  p99 {:.1} ms  errors {}  dropped {}",
                    tick.achieved_tps,
                    tick.latency_ms.p99,
                    tick.error_total(),
                    tick.dropped
                ));
            }));
        }
        let target = runner.target_info().clone();
        let interrupter = runner.interrupter();
        // Ctrl+C, SIGTERM and SIGHUP end the search after writing what it found.
        let ctrl_c = tokio::spawn(async move {
            if super::signals::next().await.is_some() {
                interrupter.interrupt();
            }
        });
        let mut table = Table {
            bar: bar.clone(),
            step_s,
        };
        table.line(&format!(
            "capacity search: SLO {slo}, keeping up with {}% of each rate, against {}{}; {} s warm-up + {} s per step; results in {}",
            (search_cfg.keep_up.ratio(&slo) * 1e4).round() / 100.0,
            target.kind,
            target
                .url
                .as_ref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
            args.warmup.as_secs_f64(),
            args.step_duration.as_secs_f64(),
            dir.display()
        ));
        table.line(HEADER);
        let outcome = capacity::search(&search_cfg, &slo, &mut runner, &mut table).await;
        ctrl_c.abort();
        let _ = ctrl_c.await;
        runner.shutdown().await?;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let outcome = outcome?;
        Ok::<_, anyhow::Error>(CapacityReport::new(
            id,
            orchestrator::rfc3339(now),
            target,
            &slo,
            Settings::new(&search_cfg, &step_cfg, &slo),
            &knee_cfg,
            outcome,
        ))
    })?;
    let written = report.write(&dir)?;
    print_result(&report, &written);
    Ok(super::exit(report.exit()))
}

fn print_result(r: &CapacityReport, written: &[PathBuf; 2]) {
    let t = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| format!("{v:.0} TPS"));
    println!();
    println!(
        "Max sustainable rate: {}  (interval [{}, {}], confidence {:.2}; {})",
        t(r.max_sustainable_tps),
        t(r.confidence_interval[0]),
        t(r.confidence_interval[1]),
        r.confidence,
        r.stop_text
    );
    println!(
        "Latency knee: {}   quality knee ({}): {}",
        t(r.knee_tps),
        r.knees.config.quality_metric.name(),
        t(r.quality_knee_tps)
    );
    println!(
        "Results: {} and {}",
        written[0].display(),
        written[1].display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_as_fractions_or_percentages() {
        assert_eq!(parse_share("2%").unwrap(), 0.02);
        assert_eq!(parse_share("0.5").unwrap(), 0.5);
        assert!(parse_share("150%").is_err());
        assert!(parse_share("abc").is_err());
        assert_eq!(parse_quality("f1").unwrap(), QualityMetric::F1);
        assert!(parse_quality("auc").is_err());
    }
}

//! `stress-runner merge DIR... --out DIR`: merges the results folders of a distributed run's workers
//! (`run --segment I/N`) into one results folder with the whole run's figures, a table per worker
//! (`workers.json`, also printed) and its report, like any run. Exit 0 when the merged run passed, 1
//! when a criterion failed or a worker did not complete.

use anyhow::Context as _;
use orchestrator::merge::{MergeOptions, WorkerRow, merge_dirs};
use orchestrator::scenario_file;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workers' results folders, in any order (each holds summary.json and intervals.jsonl).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged result.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The scenario the workers ran, for its criteria (default: the scenario.toml a worker wrote).
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Run id of the merged result (default: the workers' common one).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Merge even when some segments are missing (the figures are then not the whole run's).
    #[arg(long)]
    pub allow_missing: bool,
    /// Print only the verdict and where the result is.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = args
        .scenario
        .as_deref()
        .map(scenario_file::resolve)
        .transpose()?;
    let options = MergeOptions {
        spec,
        run_id: args.run_id.clone(),
        allow_missing: args.allow_missing,
    };
    let merged = merge_dirs(&args.dirs, &args.out, &options)
        .with_context(|| format!("cannot merge into {}", args.out.display()))?;
    let written = report::write_all(&merged.dir)
        .with_context(|| format!("cannot build the report for {}", merged.dir.display()))?;
    print(&merged, &written.html, args.quiet);
    Ok(super::exit(if merged.summary.passed {
        models::RunExit::Passed
    } else {
        models::RunExit::Failed
    }))
}

fn row_line(r: &WorkerRow) -> String {
    format!(
        "  {:<8} {:>9} {:>9} {:>9} {:>10.1} {:>10.2} {:>7} {:>7.2}x  {}",
        r.segment.as_deref().unwrap_or("whole"),
        r.scheduled,
        r.sent,
        r.completed,
        r.achieved_tps,
        r.p99_ms,
        r.errors,
        r.p99_vs_median,
        r.end_reason
    )
}

fn print(merged: &orchestrator::merge::Merged, html: &std::path::Path, quiet: bool) {
    let s = &merged.summary;
    let verdict = if s.passed { "PASSED" } else { "FAILED" };
    if quiet {
        println!(
            "{} {verdict}: {} workers merged into {}",
            s.run_id,
            merged.workers.len(),
            merged.dir.display()
        );
        return;
    }
    println!(
        "  {:<8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7} {:>8}  end",
        "segment", "scheduled", "sent", "completed", "TPS", "p99 ms", "errors", "p99/med"
    );
    for r in &merged.workers {
        println!("{}", row_line(r));
    }
    println!(
        "  {:<8} {:>9} {:>9} {:>9} {:>10.1} {:>10.2} {:>7}",
        "merged",
        s.load.scheduled,
        s.load.sent,
        s.load.completed,
        s.load.achieved_tps_avg,
        s.latency_ms.p99,
        s.errors.total
    );
    for n in &merged.notes {
        println!("note: {n}");
    }
    for line in super::criteria_lines(&s.criteria, "  ") {
        println!("{line}");
    }
    println!(
        "Run {} ({}): {verdict}; merged result in {}, report {}",
        s.run_id,
        s.scenario,
        merged.dir.display(),
        html.display()
    );
}

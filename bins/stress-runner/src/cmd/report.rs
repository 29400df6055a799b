//! `stress-runner report DIR`: rebuilds `report.html` and `junit.xml` from a results folder, also for
//! an interrupted run (figures then come from `intervals.jsonl`).

use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Results folder of a finished or interrupted run (holds summary.json and/or intervals.jsonl).
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let written = report::write_all(&args.dir)
        .with_context(|| format!("cannot build the report for {}", args.dir.display()))?;
    if written.partial {
        println!("run was interrupted: report built from its intervals (marked partial)");
    }
    println!("wrote {}", written.html.display());
    println!("wrote {}", written.junit.display());
    Ok(ExitCode::SUCCESS)
}

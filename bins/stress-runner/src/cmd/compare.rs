//! `stress-runner compare DIR_A DIR_B`: the figures that matter side by side, and a regression gate:
//! exit 1 when B is worse than A beyond `--max-regression` percent on any figure, 0 otherwise, 2 on bad
//! input. The error rate uses an absolute floor of 0.1 percentage points (see `report::compare`).

use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Results folder of the reference run (A).
    pub dir_a: PathBuf,
    /// Results folder of the run under judgement (B).
    pub dir_b: PathBuf,
    /// Percent by which B may be worse than A on any figure before it counts as a regression.
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub max_regression: f64,
    /// Also write the comparison, with both runs' throughput and p99 overlaid, as a self-contained HTML page.
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.max_regression.is_finite() && args.max_regression >= 0.0) {
        anyhow::bail!(
            "--max-regression must be a percentage of 0 or more, got {}",
            args.max_regression
        );
    }
    let a = report::RunData::load(&args.dir_a)
        .with_context(|| format!("run A ({})", args.dir_a.display()))?;
    let b = report::RunData::load(&args.dir_b)
        .with_context(|| format!("run B ({})", args.dir_b.display()))?;
    let config = report::CompareConfig {
        max_regression_pct: args.max_regression,
        ..Default::default()
    };
    let cmp = report::compare(&a.summary, &b.summary, &config);
    println!("A: {} ({})", args.dir_a.display(), a.summary.run_id);
    println!("B: {} ({})", args.dir_b.display(), b.summary.run_id);
    for (tag, data) in [("A", &a), ("B", &b)] {
        if data.partial.is_some() {
            println!("note: run {tag} was interrupted; its figures are derived from its intervals");
        }
    }
    print!("{}", cmp.to_table());
    if let Some(out) = &args.html {
        report::write_atomically(out, &report::render_compare_html(&a, &b, &cmp))
            .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(super::exit(if cmp.regressed() {
        models::RunExit::Failed
    } else {
        models::RunExit::Passed
    }))
}

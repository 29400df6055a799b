//! `stress-runner scenarios`: the built-in scenarios, one line each.

use orchestrator::{builtin, timeline};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

/// `1h`, `45m`, `10m`, `20s`, `2m30s`.
fn short_duration(d: std::time::Duration) -> String {
    models::duration_serde::format(d)
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let rows: Vec<(String, String, String, String)> = builtin::all_builtins()
        .into_iter()
        .map(|s| {
            let peak = timeline::peak_tps(&s.load);
            (
                s.name.clone(),
                short_duration(s.load.total_duration()),
                format!("{peak:.0} TPS"),
                s.description,
            )
        })
        .collect();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(8);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(4);
    let mut out = format!(
        "{:w0$}  {:w1$}  {:>w2$}  DESCRIPTION\n",
        "NAME", "DURATION", "PEAK"
    );
    for (name, dur, peak, desc) in rows {
        out.push_str(&format!("{name:w0$}  {dur:w1$}  {peak:>w2$}  {desc}\n"));
    }
    out.push_str("\nRun one with `stress-runner run --scenario NAME`, or pass a TOML file (see examples/scenarios/).\n");
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

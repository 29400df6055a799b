//! `stress-runner profile`: prints the planned rate of a scenario file's load profile or of a
//! `--shape`, one row per step, to preview it before a run.

use anyhow::Context;
use load_profiles::{Profile, SHAPE_SYNTAX, ShapeSpec};
use models::{ScenarioSpec, duration_serde};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scenario", "shape"])))]
pub struct Args {
    /// A scenario TOML file whose load profile to preview. Named built-in scenarios (peak-load,
    /// sustained, ...) belong to the orchestrator and are not available here yet.
    #[arg(long, value_name = "FILE.toml")]
    scenario: Option<PathBuf>,

    /// The load shape, for example `ramp:0..8000@60s,sustained:5000@240s` (--help shows the syntax).
    #[arg(long, value_name = "SPEC", long_help = shape_long_help())]
    shape: Option<String>,

    /// Cut the profile at this length (for example 5m). It never extends: a shorter profile keeps its
    /// own length.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    duration: Option<Duration>,

    /// Output format: csv (columns t_s,tps) or json (an array of {"t_s", "tps"} objects).
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,

    /// Row spacing. Each row's tps is the mean planned rate over [t_s, t_s + step), so tps * step
    /// is the planned number of transactions in that row.
    #[arg(long, value_name = "D", default_value = "1s", value_parser = parse_step)]
    step: Duration,

    /// Seed for the chaos stages of --shape (a scenario file carries its own chaos seeds).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

/// One row of output.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Row {
    t_s: f64,
    tps: f64,
}

fn shape_long_help() -> String {
    format!(
        "The load shape to preview.\n\n{SHAPE_SYNTAX}\n\nChaos stages are seeded from --seed. \
         --duration cuts the shape; it never extends it."
    )
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    duration_serde::parse(text)
}

fn parse_step(text: &str) -> Result<Duration, String> {
    let step = duration_serde::parse(text)?;
    if step < Duration::from_millis(1) {
        return Err(format!(
            "step {text:?} is too small; give at least 1ms, for example \"1s\""
        ));
    }
    Ok(step)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let profile = match (&args.scenario, &args.shape) {
        (Some(path), _) => scenario_profile(path)?,
        (None, Some(shape)) => {
            let spec = ShapeSpec::parse(shape).context("--shape")?;
            spec.profile(args.seed).context("--shape")?
        }
        (None, None) => anyhow::bail!("give --scenario FILE.toml or --shape SPEC"),
    };
    let profile = match args.duration {
        Some(d) => profile.truncated(d),
        None => profile,
    };
    let rows = plan(&profile, args.step);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Csv => write_csv(&mut out, &rows),
        Format::Json => write_json(&mut out, &rows),
    }
    .and_then(|()| out.flush());
    match written {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => {
            other.context("writing to stdout")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scenario_profile(path: &Path) -> anyhow::Result<Profile> {
    if !path.is_file() {
        anyhow::bail!(
            "--scenario {}: no such file. Named built-in scenarios belong to the orchestrator, whose \
             scenario registry is not available yet; pass a scenario TOML file, or use --shape",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario file {}", path.display()))?;
    let spec: ScenarioSpec = toml::from_str(&text)
        .with_context(|| format!("scenario file {} is not a valid scenario", path.display()))?;
    Profile::new(&spec.load).with_context(|| format!("scenario file {}", path.display()))
}

/// The mean planned rate over each step of the profile (the last row may cover a shorter window).
fn plan(profile: &Profile, step: Duration) -> Vec<Row> {
    let end = profile.duration();
    let mut rows = Vec::new();
    let mut t = Duration::ZERO;
    while t < end {
        let next = (t + step).min(end);
        let width = (next - t).as_secs_f64();
        let tps = profile.integral(t, next) / width;
        rows.push(Row {
            t_s: t.as_secs_f64(),
            tps: (tps * 1000.0).round() / 1000.0,
        });
        t = next;
    }
    rows
}

fn write_csv(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    writeln!(out, "t_s,tps")?;
    for row in rows {
        writeln!(out, "{},{}", row.t_s, row.tps)?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, rows).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Profile {
        ShapeSpec::parse(text).unwrap().profile(42).unwrap()
    }

    #[test]
    fn rows_are_mean_rates_per_step() {
        let rows = plan(
            &shape("ramp:0..10@10s,sustained:5@2500ms"),
            Duration::from_secs(1),
        );
        assert_eq!(rows.len(), 13);
        assert_eq!(rows[0], Row { t_s: 0.0, tps: 0.5 });
        assert_eq!(rows[9], Row { t_s: 9.0, tps: 9.5 });
        assert_eq!(
            rows[12],
            Row {
                t_s: 12.0,
                tps: 5.0
            }
        );
    }

    #[test]
    fn duration_only_cuts() {
        let p = shape("sustained:5@10s").truncated(Duration::from_secs(3));
        assert_eq!(plan(&p, Duration::from_secs(1)).len(), 3);
        let p = shape("sustained:5@10s").truncated(Duration::from_secs(60));
        assert_eq!(plan(&p, Duration::from_secs(1)).len(), 10);
    }

    #[test]
    fn csv_and_json_layouts() {
        let rows = plan(&shape("sustained:5@2s"), Duration::from_millis(1500));
        let mut csv = Vec::new();
        write_csv(&mut csv, &rows).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "t_s,tps\n0,5\n1.5,5\n");
        let mut json = Vec::new();
        write_json(&mut json, &rows).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            back,
            serde_json::json!([{"t_s": 0.0, "tps": 5.0}, {"t_s": 1.5, "tps": 5.0}])
        );
    }

    #[test]
    fn missing_scenario_file_says_what_to_do() {
        let err = scenario_profile(Path::new("peak-load"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not available yet") && err.contains("TOML"),
            "{err}"
        );
    }
}

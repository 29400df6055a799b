//! `stress-runner profile`: prints the planned rate of a scenario's load profile (a built-in name or
//! a TOML file) or of a `--shape`, one row per step, to preview it before a run.

use anyhow::Context;
use load_profiles::{Profile, SHAPE_SYNTAX, ShapeSpec};
use models::duration_serde;
use orchestrator::scenario_file;
use serde::Serialize;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scenario", "shape"])))]
pub struct Args {
    /// The scenario whose load profile to preview: a built-in name (`stress-runner scenarios` lists
    /// them: investor, peak-load, ...) or a scenario TOML file.
    #[arg(long, value_name = "NAME|FILE.toml")]
    scenario: Option<String>,

    /// The load shape, for example `ramp:0..8000@60s,sustained:5000@240s` (--help shows the syntax).
    #[arg(long, value_name = "SPEC", long_help = shape_long_help())]
    shape: Option<String>,

    /// Cut the profile at this length (for example 5m). It never extends: a shorter profile keeps its
    /// own length.
    #[arg(long, value_name = "D", value_parser = models::duration_serde::parse)]
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
        (Some(name), _) => scenario_profile(name)?,
        (None, Some(shape)) => {
            let spec = ShapeSpec::parse(shape).context("--shape")?;
            spec.profile(args.seed).context("--shape")?
        }
        (None, None) => anyhow::bail!("give --scenario NAME|FILE.toml or --shape SPEC"),
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

/// The load profile of a built-in scenario or a scenario file, read and checked as `run` reads it.
fn scenario_profile(name_or_file: &str) -> anyhow::Result<Profile> {
    let spec = scenario_file::resolve(name_or_file).context("--scenario")?;
    Profile::new(&spec.load).with_context(|| format!("--scenario {name_or_file}: load profile"))
}

/// The profile's mean planned rate per step, to the thousandth of a TPS.
fn plan(profile: &Profile, step: Duration) -> Vec<Row> {
    profile
        .mean_rates(step)
        .into_iter()
        .map(|(t, tps)| Row {
            t_s: t.as_secs_f64(),
            tps: (tps * 1000.0).round() / 1000.0,
        })
        .collect()
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
    fn builtin_names_resolve_and_unknown_ones_say_what_to_do() {
        let investor = scenario_profile("investor").unwrap();
        assert_eq!(investor.duration(), Duration::from_secs(600));
        let err = format!("{:#}", scenario_profile("no-such-scenario").unwrap_err());
        assert!(
            err.contains("--scenario") && err.contains("investor") && err.contains(".toml"),
            "{err}"
        );
    }
}

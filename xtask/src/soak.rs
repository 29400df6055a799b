//! `cargo xtask soak [--minutes N] [--bin PATH] [--max-growth PCT]`: the memory soak of
//! `docs/benchmarks.md`. Builds stress-runner (release), runs the built-in `sustained` scenario
//! (2,000 TPS against the built-in target) cut to N minutes (120 by default), and reads the
//! generator's resident set from the run's own files: the summary's `generator.peak_rss_mb` and
//! `generator.rss_growth_pct`, and the RSS at marks through the run from `intervals.jsonl`. Fails when
//! the RSS grew by more than `--max-growth` % (10 by default) from the end of the first tenth of the
//! run (minute 12 of 120: warm-up) to its end. A soak is not a CI test: run it by hand.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Options {
    minutes: u64,
    bin: Option<PathBuf>,
    max_growth_pct: f64,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        minutes: 120,
        bin: None,
        max_growth_pct: 10.0,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .with_context(|| format!("{a} needs {what}"))
                .cloned()
        };
        match a.as_str() {
            "--minutes" => {
                let v = value("a number of minutes, like --minutes 120")?;
                o.minutes = v
                    .parse()
                    .ok()
                    .filter(|m| (1..=24 * 60).contains(m))
                    .with_context(|| format!("--minutes {v}: give 1 to 1440"))?;
            }
            "--bin" => o.bin = Some(PathBuf::from(value("a stress-runner binary")?)),
            "--max-growth" => {
                let v = value("a percentage, like --max-growth 10")?;
                o.max_growth_pct = v
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                    .with_context(|| format!("--max-growth {v}: give a percentage of 0 or more"))?;
            }
            other => bail!(
                "unknown soak option {other:?}; use --minutes N, --bin PATH, --max-growth PCT"
            ),
        }
    }
    Ok(o)
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let o = options(args)?;
    let bin = match o.bin {
        Some(bin) => bin,
        None => {
            println!("\n==> cargo build --release -p stress-runner");
            crate::cargo(root, &["build", "--release", "-p", "stress-runner"], &[])?;
            root.join("target/release/stress-runner")
        }
    };
    let out = root
        .join("target/soak")
        .join(format!("sustained-{}m", o.minutes));
    println!(
        "\n==> sustained scenario, {} minutes, built-in target; results in {}",
        o.minutes,
        out.display()
    );
    let status = Command::new(&bin)
        .current_dir(root)
        .args(["run", "--scenario", "sustained", "--target", "builtin"])
        .args([
            "--duration",
            &format!("{}m", o.minutes),
            "--quiet",
            "--overwrite",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .with_context(|| format!("could not start {}", bin.display()))?;
    // The scenario's own criteria (exit 1) do not decide the soak: its memory does.
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("the soak run failed ({status})");
    }
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("summary.json")).context("reading summary.json")?,
    )?;
    let rss = rss_by_tick(&out.join("intervals.jsonl"))?;
    if rss.len() < 10 {
        bail!(
            "only {} ticks with an RSS sample; the soak needs /proc",
            rss.len()
        );
    }
    println!("\nRSS (MiB) at:");
    for share in [0.05, 0.1, 0.25, 0.5, 0.75, 1.0] {
        let (t, mb) = rss[((rss.len() - 1) as f64 * share) as usize];
        println!("  {:>7.1} min  {mb:>8.1}", t / 60.0);
    }
    let warm = rss[rss.len() / 10].1;
    let end = rss[rss.len() - 1].1;
    let growth = (end / warm - 1.0) * 100.0;
    let g = &summary["generator"];
    println!(
        "peak RSS {} MiB; summary's rss_growth_pct {} %; from minute {:.1} to the end {growth:+.1} %",
        g["peak_rss_mb"],
        g["rss_growth_pct"],
        rss[rss.len() / 10].0 / 60.0
    );
    if growth > o.max_growth_pct {
        bail!(
            "the RSS grew {growth:.1} % after warm-up, above the {} % allowed",
            o.max_growth_pct
        );
    }
    Ok(())
}

/// `(t_s, rss MiB)` of each tick that sampled the generator.
fn rss_by_tick(path: &Path) -> Result<Vec<(f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|t| {
            let rss = t["resources"]["generator"]["rss_bytes"].as_f64()?;
            (rss > 0.0).then(|| (t["t_s"].as_f64().unwrap_or(0.0), rss / (1024.0 * 1024.0)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = options(&args(&["--minutes", "5", "--max-growth", "12.5"])).unwrap();
        assert_eq!((o.minutes, o.max_growth_pct), (5, 12.5));
        assert_eq!(options(&[]).unwrap().minutes, 120);
        for bad in [
            &["--minutes", "0"][..],
            &["--minutes", "x"],
            &["--minutes"],
            &["--max-growth", "-1"],
            &["--what"],
        ] {
            assert!(options(&args(bad)).is_err(), "{bad:?}");
        }
    }
}

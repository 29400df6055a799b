//! Project automation for fraudstress, run as `cargo xtask <command>`:
//!
//! - `cargo xtask test`: the whole suite, as CI runs it: the architecture tidy check, `cargo fmt --check`,
//!   clippy with `-D warnings`, `cargo test --workspace`, then the `#[ignore]`d end-to-end suites,
//!   installing what they need (headless Chromium, the AWS emulator) when it is missing.
//! - `cargo xtask tidy`: the architecture rules alone (see `docs/architecture.md`).
//! - `cargo xtask demo [--quick]`: the investor scenario on the built-in target with the live dashboards.
//! - `cargo xtask bench-peers`: our HTTP load generator beside wrk against one nginx (docs/benchmarks.md).
//! - `cargo xtask soak [--minutes N]`: the memory soak (the `sustained` scenario, 2 h by default).

// xtask is a terminal tool: printing progress is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod aws_emulator;
mod bench_peers;
mod demo;
mod soak;
mod tidy;
mod tools;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test            tidy, fmt --check, clippy -D warnings, cargo test --workspace, then the ignored end-to-end suites
  test --quick    the same without the ignored end-to-end suites
  tidy            check the architecture rules only
  demo            build (release), run the investor scenario with the live dashboards, print URL and token [--quick, --port P]
  aws-emulator    run the AWS API emulator (moto) on 127.0.0.1 in the foreground [--port P, default 5000]
  bench-peers     build (release), start a one-worker nginx, run `stress-runner bench http` and wrk against it
                  [--tps R1,R2 --duration D --connections C --threads N --body FILE --no-wrk --json --bin PATH]
  soak            build (release), run the sustained scenario (built-in target) for N minutes and check that
                  the RSS stays flat after warm-up [--minutes N (120), --max-growth PCT (10), --bin PATH]";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("test") => test(&root, args.iter().any(|a| a == "--quick")),
        Some("tidy") => tidy::check(&root),
        Some("aws-emulator") => aws_emulator::run(&root, &args[1..]),
        Some("demo") => demo::run(&root, &args[1..]),
        Some("bench-peers") => bench_peers::run(&root, &args[1..]),
        Some("soak") => soak::run(&root, &args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown xtask command {other:?}\n\n{USAGE}"),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

fn test(root: &Path, quick: bool) -> Result<()> {
    // Each step says when it started, so that a CI log shows where the suite's time goes.
    let started = std::time::Instant::now();
    let step = |name: &str| println!("\n==> {name} [at {} s]", started.elapsed().as_secs());
    step("architecture tidy check");
    tidy::check(root)?;
    step("cargo fmt --check");
    cargo(root, &["fmt", "--all", "--check"], &[])?;
    step("cargo clippy");
    cargo(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    step("cargo test --workspace");
    cargo(root, &["test", "--workspace"], &[])?;
    if quick {
        return Ok(());
    }
    step("end-to-end suites (ignored by plain cargo test)");
    let env = tools::prepare(root)?;
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    cargo(
        root,
        &["test", "--workspace", "--", "--ignored", "--test-threads=1"],
        &env,
    )?;
    step("all suites passed");
    Ok(())
}

/// Runs cargo in the project root with extra environment variables; fails when it does.
pub(crate) fn cargo(root: &Path, args: &[&str], env: &[(&str, String)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

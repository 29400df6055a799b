//! `stress-runner`: the fraudstress command line. Each subcommand lives in `cmd/<name>.rs` and composes
//! the library crates; this file only parses arguments and maps outcomes to exit codes:
//! 0 passed, 1 criteria failed, 2 usage or configuration error, 3 failure while running (results
//! not writable, disk full, the driver failing), 130 interrupted (Ctrl+C), 143 terminated
//! (SIGTERM or SIGHUP; results written either way) (`models::RunExit`).

// Printing is what a command line is for (libraries never print).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cmd;
mod flag_hints;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "stress-runner",
    version,
    about = "Stress-test fraud-detection and payment APIs: realistic transactions, open-model load, \
             fault injection, and detection quality measured under load.",
    after_help = "Exit codes: 0 passed; 1 a criterion failed or the run ended early; 2 bad usage or \
                  configuration (nothing was sent); 3 a failure while running (results not writable, \
                  disk full, the load driver failing); 130 Ctrl+C; 143 SIGTERM or SIGHUP. Interrupted \
                  and terminated runs still write every result file."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream generated transactions to stdout (JSON lines or CSV).
    Generate(cmd::generate::Args),
    /// Print the planned rate for each second of a scenario or a shape, to preview it.
    Profile(cmd::profile::Args),
    /// Rebuild report.html and junit.xml from a results folder (also of an interrupted run).
    Report(cmd::report::Args),
    /// Compare two runs' key figures; exit 1 when B regressed beyond --max-regression (a CI gate).
    Compare(cmd::compare::Args),
    /// Run a scenario (built-in or TOML) or a plain --tps/--duration load and write its results.
    Run(cmd::run::Args),
    /// Dry run against an HTTP API: send a few transactions one at a time and show each request, answer and verdict.
    Probe(cmd::probe::Args),
    /// List the built-in scenarios: name, duration, peak TPS, description.
    Scenarios(cmd::scenarios::Args),
    /// Serve the built-in reference fraud-detection service on 127.0.0.1 until Ctrl+C; prints its URL and admin token.
    ServeTarget(cmd::serve_target::Args),
    /// Replay a finished run's results in the live dashboards (controls disabled), optionally N times faster.
    Dashboard(cmd::dashboard::Args),
    /// Measure the load generator itself: in-process, or over HTTP against a URL (beside wrk: `cargo xtask bench-peers`).
    Bench(cmd::bench::Args),
    /// Search for the highest rate the target sustains within an SLO; also finds the latency and quality knees.
    Capacity(cmd::capacity::Args),
    /// Merge the results folders of a distributed run's workers (`run --segment I/N`) into one, with its report.
    Merge(cmd::merge::Args),
    /// Print Kubernetes manifests for a distributed run: scenario ConfigMap, results volume, Indexed Job of workers.
    K8s(cmd::k8s::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Each keep-alive connection is a file descriptor (two with the built-in target in this
    // process); many systems start processes with a soft limit of 1,024. Raise it to the hard limit,
    // as wrk and k6 users are told to do by hand. Failing to is not fatal: connections that cannot
    // be opened are counted as connection errors.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let result = match cli.command {
        Command::Generate(args) => cmd::generate::run(args),
        Command::Profile(args) => cmd::profile::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Probe(args) => cmd::probe::run(args),
        Command::Scenarios(args) => cmd::scenarios::run(args),
        Command::ServeTarget(args) => cmd::serve_target::run(args),
        Command::Dashboard(args) => cmd::dashboard::run(args),
        Command::Capacity(args) => cmd::capacity::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Merge(args) => cmd::merge::run(args),
        Command::K8s(args) => cmd::k8s::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", flag_hints::with_flags(&format!("{err:#}")));
            cmd::exit(cmd::exit_for(&err))
        }
    }
}

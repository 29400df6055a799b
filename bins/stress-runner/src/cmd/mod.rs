//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`;
//! an `Err` is reported as a usage or configuration error (exit code 2).

// The `--cloudwatch`/`--xray` options of `run`, and what they do around a run.
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod aws_run;
pub mod bench;
pub mod capacity;
pub mod compare;
pub mod dashboard;
pub mod generate;
pub mod k8s;
pub mod merge;
pub mod profile;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod serve_target;

/// One line per criterion: verdict, name, actual value and threshold.
pub fn criteria_lines(criteria: &[models::CriterionResult], indent: &str) -> Vec<String> {
    criteria
        .iter()
        .map(|c| {
            format!(
                "{indent}{}  {}  (actual {:.4}, needs {})",
                if c.passed { "PASS" } else { "FAIL" },
                c.name,
                c.actual,
                c.threshold
            )
        })
        .collect()
}

/// Criteria failed.
#[allow(dead_code)]
pub const EXIT_FAILED: u8 = 1;
/// Usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl+C.
#[allow(dead_code)]
pub const EXIT_INTERRUPTED: u8 = 130;

//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`;
//! an `Err` is reported as a usage or configuration error (exit code 2).

// The `--cloudwatch`/`--xray` options of `run`, and printing what the AWS side of a run reports.
#[cfg(feature = "aws")]
pub mod aws;
pub mod bench;
pub mod capacity;
pub mod compare;
pub mod dashboard;
pub mod generate;
pub mod k8s;
pub mod merge;
pub mod probe;
pub mod profile;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod serve_target;
pub mod signals;
pub mod target_args;
pub mod tls_args;

/// One line per criterion: verdict, name, actual value (or why it was not measured) and threshold.
pub fn criteria_lines(criteria: &[models::CriterionResult], indent: &str) -> Vec<String> {
    use models::CriterionOutcome as O;
    criteria
        .iter()
        .map(|c| {
            let (verdict, actual) = match &c.outcome {
                O::Passed { actual } => ("PASS", format!("actual {actual:.4}")),
                O::Failed { actual } => ("FAIL", format!("actual {actual:.4}")),
                O::NotMeasured { reason } => ("FAIL", format!("not measured: {reason}")),
                O::Skipped { reason } => ("SKIP", format!("not measured: {reason}")),
            };
            format!(
                "{indent}{verdict}  {}  ({actual}, needs {})",
                c.name,
                c.threshold()
            )
        })
        .collect()
}

/// The process exit code for how a command ended (the codes are defined once, in [`models::RunExit`]).
pub fn exit(e: models::RunExit) -> std::process::ExitCode {
    std::process::ExitCode::from(e.code())
}

/// How a command that failed ends: the libraries say which of their errors are the user's input
/// (`Usage`, 2) and which a failure while running (`Runtime`, 3: a results folder that became
/// unwritable, a full disk, the driver failing). Anything else came from the arguments or the files
/// they name: `Usage`.
pub fn exit_for(err: &anyhow::Error) -> models::RunExit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<orchestrator::OrchestratorError>() {
            return e.exit();
        }
        if let Some(e) = cause.downcast_ref::<::orchestrator::merge::MergeError>() {
            return e.exit();
        }
        if let Some(e) = cause.downcast_ref::<::capacity::CapacityError>() {
            return e.exit();
        }
        if let Some(::report::ReportError::Write { .. }) =
            cause.downcast_ref::<::report::ReportError>()
        {
            return models::RunExit::Runtime;
        }
    }
    models::RunExit::Usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Comparison, CriterionOutcome, CriterionResult};

    #[test]
    fn a_criterion_not_measured_says_so_in_the_terminal() {
        let c = |outcome| CriterionResult {
            name: "agents.min_health >= 80".into(),
            op: Comparison::Ge,
            limit: 80.0,
            outcome,
        };
        let why = "the target reported no per-agent timings";
        let lines = criteria_lines(
            &[
                c(CriterionOutcome::Passed { actual: 91.5 }),
                c(CriterionOutcome::NotMeasured { reason: why.into() }),
                c(CriterionOutcome::Skipped { reason: why.into() }),
            ],
            "  ",
        );
        assert_eq!(
            lines,
            [
                "  PASS  agents.min_health >= 80  (actual 91.5000, needs >= 80)".to_owned(),
                format!("  FAIL  agents.min_health >= 80  (not measured: {why}, needs >= 80)"),
                format!("  SKIP  agents.min_health >= 80  (not measured: {why}, needs >= 80)"),
            ]
        );
    }
}

//! The AWS options shared by the subcommands that run scenarios (`--cloudwatch`, `--xray`,
//! `--aws-endpoint-url`, `--aws-region`), merged over the scenario's `[aws]` table, and the start of
//! a run's [`RunTelemetry`] with its notes printed.

use aws_telemetry::{AwsConfig, AwsOverrides, Note, RunTelemetry};
use models::{AwsSpec, IntervalSnapshot, ScenarioSpec};
use tokio::sync::broadcast;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Publish run metrics to CloudWatch (namespace from the scenario, default StressRunner).
    #[arg(long)]
    pub cloudwatch: bool,
    /// Read X-Ray traces for the run window and break latency down per agent.
    #[arg(long)]
    pub xray: bool,
    /// Emit an X-Ray segment per sampled synthetic transaction (share: `[aws] segment_sample_rate`,
    /// default 1%), so that the run shows beside production traces.
    #[arg(long)]
    pub xray_segments: bool,
    /// Send AWS calls to this endpoint (an emulator such as `cargo xtask aws-emulator`, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub aws_endpoint_url: Option<String>,
    /// AWS region; default: the standard chain (AWS_REGION, profile, instance metadata).
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,
}

impl AwsArgs {
    pub fn overrides(&self) -> AwsOverrides {
        AwsOverrides {
            cloudwatch: self.cloudwatch,
            xray: self.xray,
            emit_segments: self.xray_segments,
            endpoint_url: self.aws_endpoint_url.clone(),
            region: self.aws_region.clone(),
        }
    }

    /// The scenario's `[aws]` table with these options on top; `None` when neither asks for anything.
    pub fn merge_into(&self, spec: Option<AwsSpec>) -> anyhow::Result<Option<AwsSpec>> {
        if let Some(url) = &self.aws_endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            anyhow::bail!("--aws-endpoint-url {url:?} must be an http:// or https:// URL");
        }
        Ok(self.overrides().apply_to(spec))
    }
}

/// Starts the AWS side of a run when the scenario (with the flags merged in) asks for CloudWatch or
/// X-Ray; `None` when it does not, or when AWS is unusable (a warning says why and what to do).
/// `worker` names this worker of a distributed run (its CloudWatch `Worker` dimension).
pub async fn start(
    spec: &ScenarioSpec,
    run_id: &str,
    frames: broadcast::Receiver<IntervalSnapshot>,
    worker: Option<String>,
    quiet: bool,
) -> Option<RunTelemetry> {
    let mut config = AwsConfig::from_spec(spec.aws.as_ref()?);
    // Workers of one distributed run share the RunId; the Worker dimension tells them apart.
    config.worker_dimension = worker;
    match RunTelemetry::start(config, run_id, &spec.name, frames).await {
        Ok(Some(mut telemetry)) => {
            print_notes(telemetry.take_notes(), quiet);
            Some(telemetry)
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!(
                "warning: {}; the run goes on without CloudWatch and X-Ray",
                crate::flag_hints::with_flags(&e.to_string())
            );
            None
        }
    }
}

/// Information on stdout (unless quiet), warnings on stderr.
pub fn print_notes(notes: Vec<Note>, quiet: bool) {
    for note in notes {
        match note {
            Note::Info(line) if !quiet => println!("{line}"),
            Note::Info(_) => {}
            Note::Warning(line) => eprintln!("warning: {}", crate::flag_hints::with_flags(&line)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        aws: AwsArgs,
    }

    #[test]
    fn flags_merge_over_the_scenario_table() {
        let cli = Cli::parse_from([
            "x",
            "--xray",
            "--aws-endpoint-url",
            "http://127.0.0.1:5000",
            "--aws-region",
            "eu-west-1",
        ]);
        let scenario = AwsSpec {
            cloudwatch: true,
            lambda_functions: vec!["score".into()],
            ..Default::default()
        };
        let merged = cli.aws.merge_into(Some(scenario)).unwrap().unwrap();
        assert!(merged.cloudwatch && merged.xray);
        assert_eq!(
            merged.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(merged.region.as_deref(), Some("eu-west-1"));
        assert_eq!(merged.lambda_functions, ["score"]);

        let none = Cli::parse_from(["x"]);
        assert_eq!(none.aws.merge_into(None).unwrap(), None);
        let bad = Cli::parse_from(["x", "--aws-endpoint-url", "127.0.0.1:5000"]);
        assert!(
            bad.aws
                .merge_into(None)
                .unwrap_err()
                .to_string()
                .contains("http://")
        );
    }
}

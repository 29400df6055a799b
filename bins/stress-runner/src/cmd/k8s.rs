//! `stress-runner k8s --workers N --scenario NAME|FILE`: prints the Kubernetes manifests of a
//! distributed run (see docs/distributed.md and `orchestrator::k8s`): a ConfigMap with the resolved
//! scenario, a results volume claim and an Indexed Job of N workers. With `--merge` it prints the
//! merge Job instead, to apply once the workers have completed
//! (`kubectl wait --for=condition=complete job/<name>`).

use orchestrator::k8s::{self, K8sConfig};
use orchestrator::{scenario_file, timeline};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of workers (the segments the run is split into).
    #[arg(long, value_name = "N")]
    pub workers: u64,
    /// A built-in scenario or a scenario TOML file; it is resolved here and shipped in the ConfigMap.
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: String,
    /// Multiply the scenario's timeline by F before shipping it (as `run --time-scale`).
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Seed of the transaction stream (default: the scenario's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Container image with `stress-runner` on its PATH.
    #[arg(long, value_name = "IMG", default_value = "fraudstress:latest")]
    pub image: String,
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// The common start: this long after the manifests are generated (`90s`, `5m`; at most 1 h).
    #[arg(long, value_name = "D", default_value = "2m", value_parser = models::duration_serde::parse)]
    pub start_delay: Duration,
    /// Run id shared by all workers (default: a new one). Give the same one to `--merge`.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Name of the ReadWriteMany volume claim for the results.
    #[arg(long, value_name = "NAME", default_value = "fraudstress-results")]
    pub pvc: String,
    /// Size requested for the volume claim.
    #[arg(long, value_name = "SIZE", default_value = "5Gi")]
    pub storage: String,
    /// Print only the merge Job (apply it after the workers' Job has completed; needs --run-id).
    #[arg(long)]
    pub merge: bool,
}

impl Args {
    fn config(&self) -> K8sConfig {
        K8sConfig {
            workers: self.workers,
            image: self.image.clone(),
            namespace: self.namespace.clone(),
            start_delay: self.start_delay,
            run_id: self.run_id.clone(),
            pvc: self.pvc.clone(),
            storage: self.storage.clone(),
            merge: self.merge,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = args.config();
    config.check()?;
    let mut spec = scenario_file::resolve(&args.scenario)?;
    if let Some(f) = args.time_scale {
        spec = timeline::scale(&spec, f)?;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    print!("{}", k8s::manifests(&spec, &config, SystemTime::now())?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let args = Cli::try_parse_from(["k8s", "--workers", "1", "--scenario", "smoke"])
            .unwrap()
            .args;
        assert_eq!(args.config(), K8sConfig::default());
    }
}

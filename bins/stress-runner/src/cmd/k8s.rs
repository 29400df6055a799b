//! `stress-runner k8s --workers N --scenario NAME|FILE`: prints the Kubernetes manifests of a
//! distributed run (see docs/distributed.md): a ConfigMap holding the resolved scenario as TOML, a
//! PersistentVolumeClaim (`ReadWriteMany`) for the results, and an Indexed Job of N workers, each
//! running `stress-runner run --segment $(JOB_COMPLETION_INDEX)/N` from one common start time under
//! one run id. With `--merge` it prints the merge Job instead, to apply once the workers have
//! completed (`kubectl wait --for=condition=complete job/<name>`).

use anyhow::{Context as _, bail};
use orchestrator::{results, scenario_file, timeline};
use serde_json::{Value, json};
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
    #[arg(long, value_name = "D", default_value = "2m", value_parser = parse_duration)]
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    models::duration_serde::parse(s)
}

const SCENARIO_DIR: &str = "/scenario";
const RESULTS_DIR: &str = "/results";

/// The manifests as YAML documents.
pub fn manifests(args: &Args, now: SystemTime) -> anyhow::Result<String> {
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    if args.start_delay > orchestrator::merge::MAX_START_DELAY {
        bail!(
            "--start-delay {} is more than the 1 h a worker accepts",
            models::duration_serde::format(args.start_delay)
        );
    }
    let mut spec = scenario_file::resolve(&args.scenario)?;
    if let Some(f) = args.time_scale {
        spec = timeline::scale(&spec, f)?;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    if spec.target.kind == models::TargetKind::Http {
        bail!(
            "scenario {} targets an HTTP URL; in Kubernetes each worker runs the built-in target beside it (load goes only to loopback): use a scenario with the builtin or in_process target",
            spec.name
        );
    }
    scenario_file::validate(&spec)
        .map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
    if args.merge && args.run_id.is_none() {
        bail!("--merge needs the --run-id that the workers ran with");
    }
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| results::run_id(&spec.name, now));
    check_run_id(&run_id)?;
    let names = Names::new(&run_id);
    let docs: Vec<Value> = if args.merge {
        vec![merge_job(args, &names, &run_id)]
    } else {
        let toml = toml::to_string(&spec).context("writing the scenario as TOML")?;
        let start_at = humantime::format_rfc3339_seconds(now + args.start_delay).to_string();
        vec![
            config_map(args, &names, &run_id, &toml),
            volume_claim(args, &run_id),
            workers_job(args, &names, &run_id, &start_at),
        ]
    };
    let mut out = format!(
        "# fraudstress run {run_id}: {} workers, scenario {}.\n",
        args.workers, spec.name
    );
    if args.merge {
        out.push_str("# Apply after the workers' Job has completed.\n");
    } else {
        out.push_str(&format!(
            "# kubectl apply -f THIS && kubectl -n {ns} wait --for=condition=complete job/{w} --timeout=2h\n\
             # then: stress-runner k8s --merge --run-id {run_id} --workers {n} --scenario ... | kubectl apply -f -\n",
            ns = args.namespace,
            w = names.workers,
            n = args.workers
        ));
    }
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(&doc).context("writing YAML")?);
    }
    Ok(out)
}

/// A run id must fit a label value and a path: letters, digits, `-`, `_`, `.`, at most 63.
fn check_run_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        bail!(
            "run id {id:?} must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (it becomes a Kubernetes label)"
        );
    }
    Ok(())
}

/// Kubernetes object names derived from the run id (DNS-1123 labels: lowercase, digits, '-').
struct Names {
    config: String,
    workers: String,
    merge: String,
}

impl Names {
    fn new(run_id: &str) -> Self {
        let mut base: String = run_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        // Room for "fs-" and "-workers" within 63 characters.
        base.truncate(63 - 3 - 8);
        let base = base.trim_matches('-');
        Self {
            config: format!("fs-{base}-scenario"),
            workers: format!("fs-{base}-workers"),
            merge: format!("fs-{base}-merge"),
        }
    }
}

fn labels(run_id: &str, role: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "fraudstress",
        "app.kubernetes.io/component": role,
        "fraudstress/run-id": run_id,
    })
}

fn segment_dir(run_id: &str, index: &str) -> String {
    format!("{RESULTS_DIR}/{run_id}/segment-{index}")
}

fn config_map(args: &Args, names: &Names, run_id: &str, toml: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.config,
            "namespace": args.namespace,
            "labels": labels(run_id, "scenario"),
        },
        "data": { "scenario.toml": toml },
    })
}

fn volume_claim(args: &Args, run_id: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": args.pvc,
            "namespace": args.namespace,
            "labels": labels(run_id, "results"),
        },
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "resources": { "requests": { "storage": args.storage } },
        },
    })
}

fn volumes(args: &Args, names: &Names) -> Value {
    json!([
        { "name": "scenario", "configMap": { "name": names.config } },
        { "name": "results", "persistentVolumeClaim": { "claimName": args.pvc } },
    ])
}

fn mounts() -> Value {
    json!([
        { "name": "scenario", "mountPath": SCENARIO_DIR, "readOnly": true },
        { "name": "results", "mountPath": RESULTS_DIR },
    ])
}

fn workers_job(args: &Args, names: &Names, run_id: &str, start_at: &str) -> Value {
    let n = args.workers;
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": names.workers,
            "namespace": args.namespace,
            "labels": labels(run_id, "worker"),
        },
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": n,
            // A retried worker would send its segment late: fail the Job instead, and re-run it.
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": labels(run_id, "worker") },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "worker",
                        "image": args.image,
                        "command": ["stress-runner"],
                        "args": [
                            "run",
                            "--scenario", format!("{SCENARIO_DIR}/scenario.toml"),
                            "--segment", format!("$(JOB_COMPLETION_INDEX)/{n}"),
                            "--start-at", start_at,
                            "--run-id", run_id,
                            "--out", segment_dir(run_id, "$(JOB_COMPLETION_INDEX)"),
                            "--quiet",
                        ],
                        "env": [{
                            "name": "JOB_COMPLETION_INDEX",
                            "valueFrom": { "fieldRef": {
                                "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                            }},
                        }],
                        "volumeMounts": mounts(),
                    }],
                    "volumes": volumes(args, names),
                },
            },
        },
    })
}

fn merge_job(args: &Args, names: &Names, run_id: &str) -> Value {
    let mut cmd: Vec<String> = vec!["merge".into()];
    cmd.extend((0..args.workers).map(|i| segment_dir(run_id, &i.to_string())));
    cmd.extend([
        "--out".into(),
        format!("{RESULTS_DIR}/{run_id}/merged"),
        "--scenario".into(),
        format!("{SCENARIO_DIR}/scenario.toml"),
        "--quiet".into(),
    ]);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": names.merge,
            "namespace": args.namespace,
            "labels": labels(run_id, "merge"),
        },
        "spec": {
            "completions": 1,
            "backoffLimit": 2,
            "template": {
                "metadata": { "labels": labels(run_id, "merge") },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "merge",
                        "image": args.image,
                        "command": ["stress-runner"],
                        "args": cmd,
                        "volumeMounts": mounts(),
                    }],
                    "volumes": volumes(args, names),
                },
            },
        },
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = manifests(&args, SystemTime::now())?;
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
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

    fn docs(argv: &[&str]) -> Vec<serde_norway::Value> {
        let mut full = vec!["k8s"];
        full.extend(argv);
        let args = Cli::try_parse_from(full).unwrap().args;
        let text = manifests(
            &args,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_459_512),
        )
        .unwrap();
        text.split("\n---\n")
            .skip(1)
            .map(|d| serde_norway::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn the_worker_job_is_indexed_with_one_start_and_run_id() {
        let d = docs(&["--workers", "4", "--scenario", "smoke", "--run-id", "r-1"]);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0]["kind"], "ConfigMap");
        let toml = d[0]["data"]["scenario.toml"].as_str().unwrap();
        let spec = scenario_file::parse_str(toml, "cm").unwrap();
        assert_eq!(spec, scenario_file::resolve("smoke").unwrap());
        assert_eq!(d[1]["spec"]["accessModes"][0], "ReadWriteMany");
        let job = &d[2];
        assert_eq!(job["spec"]["completionMode"], "Indexed");
        assert_eq!(job["spec"]["completions"], 4);
        assert_eq!(job["spec"]["parallelism"], 4);
        let args: Vec<&str> = job["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
        assert_eq!(after("--segment"), "$(JOB_COMPLETION_INDEX)/4");
        // Generated at 18:45:12 with the default 2 minutes' delay.
        assert_eq!(after("--start-at"), "2026-11-23T18:47:12Z");
        assert_eq!(after("--run-id"), "r-1");
    }

    #[test]
    fn bad_requests_are_refused() {
        let parse = |argv: &[&str]| {
            let mut full = vec!["k8s"];
            full.extend(argv);
            manifests(&Cli::try_parse_from(full).unwrap().args, SystemTime::now())
        };
        let err = parse(&["--workers", "0", "--scenario", "smoke"]).unwrap_err();
        assert!(err.to_string().contains("at least 1"));
        let err = parse(&["--workers", "2", "--scenario", "smoke", "--merge"]).unwrap_err();
        assert!(err.to_string().contains("--run-id"));
        let err = parse(&["--workers", "2", "--scenario", "smoke", "--run-id", "a b"]).unwrap_err();
        assert!(err.to_string().contains("label"));
        let err = parse(&[
            "--workers",
            "2",
            "--scenario",
            "smoke",
            "--start-delay",
            "2h",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("1 h"));
    }
}

//! Kubernetes manifests of a distributed run (see docs/distributed.md): a ConfigMap holding the
//! resolved scenario as TOML, a PersistentVolumeClaim (`ReadWriteMany`) for the results, and an
//! Indexed Job of N workers, each running `stress-runner run --segment $(JOB_COMPLETION_INDEX)/N`
//! from one common start time under one run id; or, once the workers have completed, the merge Job.
//!
//! They live beside the segment merge because they are its other half: the segment and results
//! folder layout written here is what [`crate::merge`] reads back.
//!
//! ```
//! use orchestrator::{builtin, k8s};
//! use std::time::SystemTime;
//!
//! let config = k8s::K8sConfig { workers: 4, run_id: Some("r-1".into()), ..Default::default() };
//! let yaml = k8s::manifests(&builtin::smoke(), &config, SystemTime::now()).unwrap();
//! assert!(yaml.contains("completionMode: Indexed"));
//! ```

use crate::{merge, results, scenario_file};
use models::ScenarioSpec;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

const SCENARIO_DIR: &str = "/scenario";
const RESULTS_DIR: &str = "/results";

/// What to generate: the shape of the run on the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sConfig {
    /// Number of workers (the segments the run is split into).
    pub workers: u64,
    /// Container image with `stress-runner` on its PATH.
    pub image: String,
    pub namespace: String,
    /// The common start: this long after the manifests are generated (at most
    /// [`merge::MAX_START_DELAY`]).
    pub start_delay: Duration,
    /// Run id shared by all workers (default: a new one). The merge Job needs the workers' one.
    pub run_id: Option<String>,
    /// Name of the ReadWriteMany volume claim for the results.
    pub pvc: String,
    /// Size requested for the volume claim.
    pub storage: String,
    /// Generate only the merge Job (applied after the workers' Job has completed).
    pub merge: bool,
}

impl Default for K8sConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            image: "fraudstress:latest".into(),
            namespace: "default".into(),
            start_delay: Duration::from_secs(120),
            run_id: None,
            pvc: "fraudstress-results".into(),
            storage: "5Gi".into(),
            merge: false,
        }
    }
}

impl K8sConfig {
    /// The checks that need no scenario: at least one worker, a start within the hour.
    pub fn check(&self) -> Result<(), K8sError> {
        if self.workers == 0 {
            return Err(K8sError::NoWorkers);
        }
        if self.start_delay > merge::MAX_START_DELAY {
            return Err(K8sError::StartTooLate(models::duration_serde::format(
                self.start_delay,
            )));
        }
        Ok(())
    }
}

/// Why no manifests could be generated.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("`workers` must be at least 1")]
    NoWorkers,
    #[error("`start_delay` {0} is more than the 1 h a worker accepts")]
    StartTooLate(String),
    #[error(
        "scenario {0} targets an HTTP URL; in Kubernetes each worker runs the built-in target beside it (load goes only to loopback): use a scenario with the builtin or in_process target"
    )]
    HttpTarget(String),
    #[error("{field}: {message}")]
    Scenario { field: String, message: String },
    #[error("merging needs the `run_id` that the workers ran with")]
    MergeWithoutRunId,
    #[error(
        "run id {0:?} must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (it becomes a Kubernetes label)"
    )]
    RunId(String),
    #[error("writing the scenario as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
    #[error("writing YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
}

/// The manifests of a run of `spec` (already scaled and seeded as wanted), as YAML documents
/// preceded by comment lines that say how to apply them; `now` is when they are generated.
pub fn manifests(
    spec: &ScenarioSpec,
    config: &K8sConfig,
    now: SystemTime,
) -> Result<String, K8sError> {
    config.check()?;
    if spec.target.kind == models::TargetKind::Http {
        return Err(K8sError::HttpTarget(spec.name.clone()));
    }
    scenario_file::validate(spec)
        .map_err(|(field, message)| K8sError::Scenario { field, message })?;
    if config.merge && config.run_id.is_none() {
        return Err(K8sError::MergeWithoutRunId);
    }
    let run_id = config
        .run_id
        .clone()
        .unwrap_or_else(|| results::run_id(&spec.name, now));
    check_run_id(&run_id)?;
    let names = Names::new(&run_id);
    let docs: Vec<Value> = if config.merge {
        vec![merge_job(config, &names, &run_id)]
    } else {
        let toml = toml::to_string(spec)?;
        let start_at = humantime::format_rfc3339_seconds(now + config.start_delay).to_string();
        vec![
            config_map(config, &names, &run_id, &toml),
            volume_claim(config, &run_id),
            workers_job(config, &names, &run_id, &start_at),
        ]
    };
    let mut out = format!(
        "# fraudstress run {run_id}: {} workers, scenario {}.\n",
        config.workers, spec.name
    );
    if config.merge {
        out.push_str("# Apply after the workers' Job has completed.\n");
    } else {
        out.push_str(&format!(
            "# kubectl apply -f THIS && kubectl -n {ns} wait --for=condition=complete job/{w} --timeout=2h\n\
             # then: stress-runner k8s --merge --run-id {run_id} --workers {n} --scenario ... | kubectl apply -f -\n",
            ns = config.namespace,
            w = names.workers,
            n = config.workers
        ));
    }
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(&doc)?);
    }
    Ok(out)
}

/// A run id must fit a label value and a path: letters, digits, `-`, `_`, `.`, at most 63.
fn check_run_id(id: &str) -> Result<(), K8sError> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(K8sError::RunId(id.to_owned()))
    }
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

fn config_map(config: &K8sConfig, names: &Names, run_id: &str, toml: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.config,
            "namespace": config.namespace,
            "labels": labels(run_id, "scenario"),
        },
        "data": { "scenario.toml": toml },
    })
}

fn volume_claim(config: &K8sConfig, run_id: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": config.pvc,
            "namespace": config.namespace,
            "labels": labels(run_id, "results"),
        },
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "resources": { "requests": { "storage": config.storage } },
        },
    })
}

fn volumes(config: &K8sConfig, names: &Names) -> Value {
    json!([
        { "name": "scenario", "configMap": { "name": names.config } },
        { "name": "results", "persistentVolumeClaim": { "claimName": config.pvc } },
    ])
}

fn mounts() -> Value {
    json!([
        { "name": "scenario", "mountPath": SCENARIO_DIR, "readOnly": true },
        { "name": "results", "mountPath": RESULTS_DIR },
    ])
}

fn workers_job(config: &K8sConfig, names: &Names, run_id: &str, start_at: &str) -> Value {
    let n = config.workers;
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": names.workers,
            "namespace": config.namespace,
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
                    "securityContext": pod_security(),
                    "containers": [{
                        "name": "worker",
                        "image": config.image,
                        "command": ["stress-runner"],
                        // Each flag and its value as one `--flag=value` string: a value alone, such
                        // as the start time, is read as a timestamp by YAML 1.1 readers and fails
                        // the schema's "args are strings".
                        "args": [
                            "run",
                            format!("--scenario={SCENARIO_DIR}/scenario.toml"),
                            format!("--segment=$(JOB_COMPLETION_INDEX)/{n}"),
                            format!("--start-at={start_at}"),
                            format!("--run-id={run_id}"),
                            format!("--out={}", segment_dir(run_id, "$(JOB_COMPLETION_INDEX)")),
                            // The Job re-applied after a failure (same run id, a new start time)
                            // replaces the failed attempt's segment files.
                            "--overwrite",
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
                    "volumes": volumes(config, names),
                },
            },
        },
    })
}

/// The image runs as the non-root user 10001 (see the Dockerfile); `fsGroup` makes the results
/// volume writable by it, which a fresh volume (owned by root) otherwise is not.
fn pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
    })
}

fn merge_job(config: &K8sConfig, names: &Names, run_id: &str) -> Value {
    let mut cmd: Vec<String> = vec!["merge".into()];
    cmd.extend((0..config.workers).map(|i| segment_dir(run_id, &i.to_string())));
    cmd.extend([
        format!("--out={RESULTS_DIR}/{run_id}/merged"),
        format!("--scenario={SCENARIO_DIR}/scenario.toml"),
        "--quiet".into(),
    ]);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": names.merge,
            "namespace": config.namespace,
            "labels": labels(run_id, "merge"),
        },
        "spec": {
            "completions": 1,
            "backoffLimit": 2,
            "template": {
                "metadata": { "labels": labels(run_id, "merge") },
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": pod_security(),
                    "containers": [{
                        "name": "merge",
                        "image": config.image,
                        "command": ["stress-runner"],
                        "args": cmd,
                        "volumeMounts": mounts(),
                    }],
                    "volumes": volumes(config, names),
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin;

    /// 2026-11-23T18:45:12Z.
    fn generated_at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_459_512)
    }

    fn docs(config: &K8sConfig) -> Vec<serde_norway::Value> {
        manifests(&builtin::smoke(), config, generated_at())
            .unwrap()
            .split("\n---\n")
            .skip(1)
            .map(|d| serde_norway::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn the_worker_job_is_indexed_with_one_start_and_run_id() {
        let d = docs(&K8sConfig {
            workers: 4,
            run_id: Some("r-1".into()),
            ..K8sConfig::default()
        });
        assert_eq!(d.len(), 3);
        assert_eq!(d[0]["kind"], "ConfigMap");
        let toml = d[0]["data"]["scenario.toml"].as_str().unwrap();
        let spec = scenario_file::parse_str(toml, "cm").unwrap();
        assert_eq!(spec, builtin::smoke());
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
        let value = |flag: &str| {
            let prefix = format!("{flag}=");
            args.iter()
                .find_map(|a| a.strip_prefix(prefix.as_str()))
                .unwrap()
        };
        assert_eq!(value("--segment"), "$(JOB_COMPLETION_INDEX)/4");
        // Generated at 18:45:12 with the default 2 minutes' delay.
        assert_eq!(value("--start-at"), "2026-11-23T18:47:12Z");
        assert_eq!(value("--run-id"), "r-1");
        // No argument can be read as anything but a string: each is a flag, or the subcommand.
        assert!(
            args.iter().all(|a| a.starts_with("--") || *a == "run"),
            "{args:?}"
        );
        let pod = &job["spec"]["template"]["spec"]["securityContext"];
        assert_eq!(pod["fsGroup"], 10001);
        assert_eq!(pod["runAsNonRoot"], true);
    }

    #[test]
    fn the_merge_job_reads_every_segment() {
        let d = docs(&K8sConfig {
            workers: 3,
            run_id: Some("Run_42".into()),
            merge: true,
            ..K8sConfig::default()
        });
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["metadata"]["name"], "fs-run-42-merge");
        let args = d[0]["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_sequence()
            .unwrap();
        let segments: Vec<&str> = args
            .iter()
            .filter_map(|a| a.as_str())
            .filter(|a| a.contains("/segment-") && !a.starts_with("--"))
            .collect();
        assert_eq!(
            segments,
            [
                "/results/Run_42/segment-0",
                "/results/Run_42/segment-1",
                "/results/Run_42/segment-2"
            ]
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let make = |config: K8sConfig| manifests(&builtin::smoke(), &config, SystemTime::now());
        let err = make(K8sConfig {
            workers: 0,
            ..K8sConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("at least 1"));
        let err = make(K8sConfig {
            workers: 2,
            merge: true,
            ..K8sConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("`run_id`"));
        let err = make(K8sConfig {
            workers: 2,
            run_id: Some("a b".into()),
            ..K8sConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("label"));
        let err = make(K8sConfig {
            workers: 2,
            start_delay: Duration::from_secs(7200),
            ..K8sConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("1 h"));
        let mut http = builtin::smoke();
        http.target.kind = models::TargetKind::Http;
        let err = manifests(&http, &K8sConfig::default(), SystemTime::now()).unwrap_err();
        assert!(err.to_string().contains("built-in target"), "{err}");
    }
}

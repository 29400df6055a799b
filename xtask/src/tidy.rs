//! The architecture rules of `docs/architecture.md`, checked from `cargo metadata`:
//!
//! 1. `models` depends on no async runtime.
//! 2. The load-generation layers depend on neither warp nor the AWS SDK.
//! 3. Only `aws-telemetry` depends on the AWS SDK directly.
//! 4. Every crate's root file opens with a `//!` doc.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const ASYNC_RUNTIMES: &[&str] = &["tokio", "async-std", "smol", "futures-executor"];
const LOAD_LAYERS: &[&str] = &[
    "models",
    "transaction-factory",
    "load-profiles",
    "metrics-core",
    "targets",
    "load-driver",
];
const HEAVY: &[&str] = &[
    "warp",
    "aws-config",
    "aws-sdk-cloudwatch",
    "aws-sdk-xray",
    "aws-smithy-runtime",
];
const AWS_CRATE: &str = "aws-telemetry";

struct Graph {
    /// Package id to (name, normal dependency ids).
    nodes: BTreeMap<String, (String, Vec<String>)>,
    /// Workspace members: name to (id, manifest path).
    members: BTreeMap<String, (String, String)>,
}

pub fn check(root: &Path) -> Result<()> {
    let graph = load(root)?;
    let mut problems = Vec::new();

    if let Some((id, _)) = graph.members.get("models") {
        for rt in ASYNC_RUNTIMES {
            if graph.reaches(id, rt) {
                problems.push(format!(
                    "models depends on the async runtime `{rt}`: models must stay plain data"
                ));
            }
        }
    }
    for layer in LOAD_LAYERS {
        if let Some((id, _)) = graph.members.get(*layer) {
            for heavy in HEAVY {
                if graph.reaches(id, heavy) {
                    problems.push(format!(
                        "{layer} depends on `{heavy}`: the load-generation layers must not pull warp or the AWS SDK"
                    ));
                }
            }
        }
    }
    for (name, (id, _)) in &graph.members {
        if name == AWS_CRATE {
            continue;
        }
        let deps = graph
            .nodes
            .get(id)
            .map(|(_, d)| d.as_slice())
            .unwrap_or_default();
        for dep in deps {
            let Some((dep_name, _)) = graph.nodes.get(dep) else {
                continue;
            };
            if dep_name.starts_with("aws-sdk-") || dep_name == "aws-config" {
                problems.push(format!(
                    "{name} depends on `{dep_name}` directly: only {AWS_CRATE} may use the AWS SDK"
                ));
            }
        }
    }
    for (name, (_, manifest)) in &graph.members {
        let dir = Path::new(manifest)
            .parent()
            .context("manifest has a folder")?;
        let root_file = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists());
        match root_file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)?;
                if !text.trim_start().starts_with("//!") {
                    problems.push(format!(
                        "{} does not open with a `//!` crate doc",
                        path.display()
                    ));
                }
            }
            None => problems.push(format!("{name} has neither src/lib.rs nor src/main.rs")),
        }
    }

    if problems.is_empty() {
        println!(
            "tidy: {} crates follow the architecture rules",
            graph.members.len()
        );
        Ok(())
    } else {
        bail!(
            "architecture rules broken (see docs/architecture.md):\n  - {}",
            problems.join("\n  - ")
        )
    }
}

fn load(root: &Path) -> Result<Graph> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["metadata", "--format-version", "1"])
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed invalid JSON")?;
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .context("metadata.packages")?
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or_default().to_owned(),
                p["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut nodes = BTreeMap::new();
    for node in meta["resolve"]["nodes"]
        .as_array()
        .context("metadata.resolve.nodes")?
    {
        let id = node["id"].as_str().unwrap_or_default().to_owned();
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                // Only normal (non-dev, non-build) edges say what a user of the crate pulls in.
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| d["pkg"].as_str().map(str::to_owned))
            .collect();
        nodes.insert(
            id.clone(),
            (names.get(&id).cloned().unwrap_or_default(), deps),
        );
    }
    let workspace: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let members = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| workspace.contains(p["id"].as_str().unwrap_or_default()))
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                (
                    p["id"].as_str().unwrap_or_default().to_owned(),
                    p["manifest_path"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect();
    Ok(Graph { nodes, members })
}

impl Graph {
    /// Whether `from` reaches a package named `name` through normal dependencies.
    fn reaches(&self, from: &str, name: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some((n, deps)) = self.nodes.get(&id) {
                if n == name && id != from {
                    return true;
                }
                stack.extend(deps.iter().cloned());
            }
        }
        false
    }
}

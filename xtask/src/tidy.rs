//! The architecture rules of `docs/architecture.md`, checked from `cargo metadata` and the sources:
//!
//! 1. `models` depends on no async runtime.
//! 2. The load-generation layers depend on neither warp nor the AWS SDK.
//! 3. Only `aws-telemetry` depends on the AWS SDK directly, and only `dashboard-server` on warp.
//! 4. Every crate's root file opens with a `//!` doc.
//! 5. Libraries never print, read the environment or exit ([`side_effects`]).
//! 6. Dependencies point toward `models`: the layer order of [`layers::LAYERS`].
//!
//! `cargo xtask tidy` runs them, and so does `cargo test` (the test at the end of this file).

mod layers;
mod side_effects;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const ASYNC_RUNTIMES: &[&str] = &["tokio", "async-std", "smol", "futures-executor"];
const LOAD_LAYERS: &[&str] = &[
    "models",
    "transaction-factory",
    "load-profiles",
    "metrics-core",
    "run-files",
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
const WARP_CRATE: &str = "dashboard-server";

/// A workspace member as `cargo metadata` describes it.
struct Member {
    id: String,
    /// The library target's root file, if the crate is a library.
    lib: Option<PathBuf>,
    /// The binary targets' root files.
    bins: Vec<PathBuf>,
    /// Direct dependencies: (package name, kind: `None` normal, `dev`, `build`).
    deps: Vec<(String, Option<String>)>,
}

struct Graph {
    /// Package id to (name, normal dependency ids), for transitive questions.
    nodes: BTreeMap<String, (String, Vec<String>)>,
    members: BTreeMap<String, Member>,
}

/// Runs every rule on the workspace at `root`; the error lists each broken rule with where and why.
pub fn check(root: &Path) -> Result<()> {
    let graph = load(root)?;
    let mut problems = Vec::new();

    if let Some(models) = graph.members.get("models") {
        for rt in ASYNC_RUNTIMES {
            if graph.reaches(&models.id, rt) {
                problems.push(format!(
                    "models depends on the async runtime `{rt}`: models must stay plain data"
                ));
            }
        }
    }
    for layer in LOAD_LAYERS {
        if let Some(member) = graph.members.get(*layer) {
            for heavy in HEAVY {
                if graph.reaches(&member.id, heavy) {
                    problems.push(format!(
                        "{layer} depends on `{heavy}`: the load-generation layers must not pull warp or the AWS SDK"
                    ));
                }
            }
        }
    }
    for (name, member) in &graph.members {
        for (dep, kind) in &member.deps {
            let aws = dep.starts_with("aws-sdk-") || dep == "aws-config";
            if aws && name != AWS_CRATE && kind.as_deref() != Some("dev") {
                problems.push(format!(
                    "{name} depends on `{dep}` directly: only {AWS_CRATE} may use the AWS SDK"
                ));
            }
            if dep == "warp" && name != WARP_CRATE {
                problems.push(format!(
                    "{name} depends on `warp`{}: only {WARP_CRATE} (and its tests) may use warp; serve through dashboard-server",
                    kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default()
                ));
            }
        }
    }
    for (name, member) in &graph.members {
        let root_file = member.lib.as_ref().or(member.bins.first());
        match root_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                if !text.trim_start().starts_with("//!") {
                    problems.push(format!(
                        "{} does not open with a `//!` crate doc",
                        path.display()
                    ));
                }
            }
            None => problems.push(format!("{name} has neither a library nor a binary target")),
        }
    }
    for member in graph.members.values() {
        let Some(lib) = &member.lib else { continue };
        let src = lib.parent().context("a library root file has a folder")?;
        let bins: Vec<&Path> = member.bins.iter().map(PathBuf::as_path).collect();
        problems.extend(side_effects::scan_dir(root, src, &bins)?);
    }
    let names: Vec<&str> = graph.members.keys().map(String::as_str).collect();
    let edges: Vec<(&str, &str)> = graph
        .members
        .iter()
        .flat_map(|(name, member)| {
            member
                .deps
                .iter()
                .filter(|(dep, kind)| {
                    kind.as_deref() != Some("dev") && graph.members.contains_key(dep)
                })
                .map(move |(dep, _)| (name.as_str(), dep.as_str()))
        })
        .collect();
    problems.extend(layers::check(&names, &edges));

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
    let packages = meta["packages"].as_array().context("metadata.packages")?;
    let names: BTreeMap<String, String> = packages
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
    let members = packages
        .iter()
        .filter(|p| workspace.contains(p["id"].as_str().unwrap_or_default()))
        .map(|p| {
            let targets = p["targets"].as_array().into_iter().flatten();
            let roots_of = |kind: &str| -> Vec<PathBuf> {
                targets
                    .clone()
                    .filter(|t| {
                        t["kind"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|k| k.as_str() == Some(kind))
                    })
                    .filter_map(|t| t["src_path"].as_str().map(PathBuf::from))
                    .collect()
            };
            let member = Member {
                id: p["id"].as_str().unwrap_or_default().to_owned(),
                lib: roots_of("lib").into_iter().next(),
                bins: roots_of("bin"),
                deps: p["dependencies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        (
                            d["name"].as_str().unwrap_or_default().to_owned(),
                            d["kind"].as_str().map(str::to_owned),
                        )
                    })
                    .collect(),
            };
            (p["name"].as_str().unwrap_or_default().to_owned(), member)
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

#[cfg(test)]
mod tests {
    /// The rules hold for this repository: `cargo test` fails when a change breaks one.
    #[test]
    fn the_workspace_follows_the_architecture_rules() {
        let root = crate::project_root();
        if let Err(e) = super::check(&root) {
            panic!("{e:#}");
        }
    }
}

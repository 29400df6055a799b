//! Rule 6 of `docs/architecture.md`: dependencies point toward `models`. The layer order below is the
//! diagram's, made exact: a crate may depend only on crates of a *lower* layer, so a dependency on a
//! higher layer or on a crate of the same layer ("sideways") is refused. Dev-dependencies are not
//! checked: a crate's own tests may use any crate (cargo permits dev-dependency cycles).

use std::collections::BTreeMap;

/// The workspace's crates, lowest layer first. A new crate gets a place here (and in the diagram).
pub const LAYERS: &[&[&str]] = &[
    // Plain data.
    &["models"],
    // The results folder's files and the histogram codec (metrics-core encodes its ticks with it).
    &["run-files"],
    // The load generator's parts, independent of one another.
    &[
        "transaction-factory",
        "load-profiles",
        "metrics-core",
        "targets",
    ],
    // The driver composes the parts; the built-in target implements `targets::Target` in-process.
    &["load-driver", "fraud-sim"],
    // Faults act on fraud-sim's hooks and on any target through a proxy.
    &["failure-injection"],
    &["orchestrator"],
    // What follows runs (live pages) or reads their files (reports); the AWS sink and collector.
    &["report", "dashboard-server", "aws-telemetry"],
    // The capacity search runs steps through the orchestrator and reuses report's page assets.
    &["capacity"],
    &["stress-runner", "xtask"],
];

/// The problems with the workspace's dependency edges `(from, to)` among `members`.
pub fn check(members: &[&str], edges: &[(&str, &str)]) -> Vec<String> {
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (*n, i)))
        .collect();
    let mut problems = Vec::new();
    for member in members {
        if !layer_of.contains_key(member) {
            problems.push(format!(
                "{member} has no layer: add it to LAYERS in xtask/src/tidy/layers.rs (and to the diagram in docs/architecture.md)"
            ));
        }
    }
    for name in layer_of.keys() {
        if !members.contains(name) {
            problems.push(format!(
                "LAYERS in xtask/src/tidy/layers.rs names {name}, which is not a workspace member: remove or rename it"
            ));
        }
    }
    for (from, to) in edges {
        let (Some(&a), Some(&b)) = (layer_of.get(from), layer_of.get(to)) else {
            continue; // reported above
        };
        if b >= a {
            let how = if a == b {
                "sideways (same layer)"
            } else {
                "upward"
            };
            problems.push(format!(
                "{from} (layer {a}) depends on {to} (layer {b}), {how}: a crate may depend only on lower layers; \
                 move the shared part down or invert the dependency (layers: xtask/src/tidy/layers.rs)"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_members() -> Vec<&'static str> {
        LAYERS.iter().flat_map(|l| l.iter().copied()).collect()
    }

    #[test]
    fn downward_edges_pass() {
        let members = all_members();
        let edges = [
            ("load-driver", "targets"),
            ("capacity", "report"),
            ("stress-runner", "models"),
        ];
        assert_eq!(check(&members, &edges), Vec::<String>::new());
    }

    #[test]
    fn upward_and_sideways_edges_are_refused() {
        let members = all_members();
        let problems = check(
            &members,
            &[("models", "orchestrator"), ("metrics-core", "targets")],
        );
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].starts_with("models (layer 0) depends on orchestrator (layer 5), upward")
        );
        assert!(
            problems[1].contains("metrics-core (layer 2) depends on targets (layer 2), sideways")
        );
    }

    #[test]
    fn every_member_needs_a_layer_and_every_layer_entry_a_member() {
        let mut members = all_members();
        members.retain(|m| *m != "report");
        members.push("run-extras");
        let problems = check(&members, &[]);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("run-extras has no layer"));
        assert!(problems[1].contains("names report, which is not a workspace member"));
    }
}

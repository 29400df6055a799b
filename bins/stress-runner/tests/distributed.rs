//! A distributed run on one machine: three `stress-runner run --segment i/3` processes against the
//! built-in target, started together, merged with `stress-runner merge`, compared with a
//! single-process run of the same seed; and the `stress-runner k8s` manifests, parsed as YAML.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}\nstdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// `ids.txt`: index -> transaction id.
fn ids(dir: &Path) -> BTreeMap<u64, String> {
    let text = std::fs::read_to_string(dir.join("ids.txt")).unwrap();
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let (k, id) = line.split_once(' ').unwrap();
        assert!(
            map.insert(k.parse().unwrap(), id.to_owned()).is_none(),
            "index {k} sent twice in {}",
            dir.display()
        );
    }
    map
}

const LOAD: [&str; 8] = [
    "--tps",
    "300",
    "--duration",
    "3s",
    "--seed",
    "11",
    "--record-ids",
    "--quiet",
];

#[test]
fn three_segments_merged_are_the_single_process_run() {
    let root = temp("distributed");
    let single = root.join("single");
    let o = bin()
        .arg("run")
        .args(LOAD)
        .args(["--out", single.to_str().unwrap()])
        .output()
        .unwrap();
    ok(&o, "the single-process run");

    // Three workers, one run id, one start a few seconds ahead (time for all three to set up).
    let start = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(4));
    let segs: Vec<PathBuf> = (0..3).map(|i| root.join(format!("seg-{i}"))).collect();
    let children: Vec<_> = segs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            bin()
                .arg("run")
                .args(LOAD)
                .args(["--segment", &format!("{i}/3")])
                .args(["--start-at", &start.to_string()])
                .args(["--run-id", "dist-test"])
                .args(["--out", dir.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        ok(&c.wait_with_output().unwrap(), &format!("worker {i}/3"));
    }

    let whole = ids(&single);
    let mut union = BTreeMap::new();
    for (i, dir) in segs.iter().enumerate() {
        let s = summary(dir);
        assert_eq!(s["segment"], format!("{i}/3"));
        assert_eq!(s["run_id"], "dist-test");
        let mine = ids(dir);
        // Exactly this segment's indices, each with the whole run's transaction.
        assert!(mine.keys().all(|k| k % 3 == i as u64), "segment {i}/3");
        assert_eq!(s["load"]["sent"], mine.len() as u64);
        assert!(dir.join("scenario.toml").exists());
        union.extend(mine);
    }
    assert_eq!(
        union, whole,
        "the workers sent the single run's transactions"
    );

    let merged = root.join("merged");
    let mut args: Vec<String> = vec!["merge".into()];
    // In another order than the segments': the merge sorts them.
    for i in [2, 0, 1] {
        args.push(segs[i].to_str().unwrap().into());
    }
    args.extend(["--out".into(), merged.to_str().unwrap().into()]);
    let o = bin().args(&args).output().unwrap();
    ok(&o, "the merge");
    let out = text(&o.stdout);
    for seg in ["0/3", "1/3", "2/3", "merged"] {
        assert!(out.contains(seg), "the worker table shows {seg}: {out}");
    }

    let m = summary(&merged);
    let s = summary(&single);
    for key in ["scheduled", "sent", "completed"] {
        assert_eq!(m["load"][key], s["load"][key], "load.{key}");
    }
    assert_eq!(m["load"]["scheduled"], 900);
    assert_eq!(m["seed"], 11);
    assert!(
        m.get("segment").is_none(),
        "all three segments: the whole run"
    );
    // Same transactions, so the same ground truth: the detector saw the same fraud.
    let fraud = |v: &Value| v["fraud"]["tp"].as_u64().unwrap() + v["fraud"]["fn"].as_u64().unwrap();
    assert_eq!(fraud(&m), fraud(&s));
    assert_eq!(m["latency_ms"]["count"], m["load"]["completed"]);
    let workers: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("workers.json")).unwrap())
            .unwrap();
    let rows = workers.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let sent: u64 = rows.iter().map(|r| r["sent"].as_u64().unwrap()).sum();
    assert_eq!(sent, 900);
    for f in [
        "intervals.jsonl",
        "events.jsonl",
        "latency.hgrm",
        "report.html",
        "junit.xml",
    ] {
        assert!(merged.join(f).exists(), "{f} in the merged folder");
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Every document `stress-runner k8s` prints (workers and merge), each checked by
/// `kubernetes-validate --strict` against the Kubernetes 1.33 schemas: unknown fields, wrong types
/// (an unquoted timestamp in `args`) and missing required fields fail. The tool is installed by
/// `cargo xtask test`, which names it in `FRAUDSTRESS_KUBERNETES_VALIDATE`.
#[test]
#[ignore = "needs kubernetes-validate; run by `cargo xtask test`"]
fn k8s_manifests_pass_the_kubernetes_schema() {
    let validate = std::env::var("FRAUDSTRESS_KUBERNETES_VALIDATE").expect(
        "FRAUDSTRESS_KUBERNETES_VALIDATE names kubernetes-validate (cargo xtask test sets it)",
    );
    let dir = temp("k8s-schema");
    std::fs::create_dir_all(&dir).unwrap();
    let runs: [&[&str]; 3] = [
        &["--workers", "3", "--scenario", "smoke", "--run-id", "r1"],
        &[
            "--workers",
            "12",
            "--scenario",
            "investor",
            "--time-scale",
            "0.1",
            "--namespace",
            "load-tests",
            "--image",
            "registry.local:5000/fraudstress:1.2",
            "--start-delay",
            "5m",
        ],
        &[
            "--workers",
            "3",
            "--scenario",
            "smoke",
            "--run-id",
            "r1",
            "--merge",
        ],
    ];
    let mut checked = 0;
    for (i, args) in runs.iter().enumerate() {
        let o = bin().arg("k8s").args(*args).output().unwrap();
        ok(&o, "k8s");
        for (j, doc) in text(&o.stdout).split("\n---\n").skip(1).enumerate() {
            let file = dir.join(format!("manifest-{i}-{j}.yaml"));
            std::fs::write(&file, doc).unwrap();
            let v = Command::new(&validate)
                .args(["-k", "1.33.0", "--strict"])
                .arg(&file)
                .output()
                .unwrap_or_else(|e| panic!("cannot start {validate}: {e}"));
            assert!(
                v.status.success(),
                "{} fails the schema:\n{}{}\n{doc}",
                file.display(),
                text(&v.stdout),
                text(&v.stderr)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 7, "3 + 3 worker documents and the merge Job");
    let _ = std::fs::remove_dir_all(&dir);
}

fn yaml_docs(args: &[&str]) -> Vec<serde_norway::Value> {
    let o = bin().arg("k8s").args(args).output().unwrap();
    ok(&o, "k8s");
    text(&o.stdout)
        .split("\n---\n")
        .skip(1)
        .map(|d| serde_norway::from_str(d).expect("each document parses as YAML"))
        .collect()
}

/// The fields Kubernetes requires of every object, and of a Job's pod template.
fn assert_object(d: &serde_norway::Value, kind: &str) {
    assert_eq!(d["kind"], kind);
    assert!(d["apiVersion"].as_str().is_some_and(|v| !v.is_empty()));
    let name = d["metadata"]["name"].as_str().unwrap();
    assert!(
        name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{name} is a DNS-1123 label"
    );
    if kind == "Job" {
        assert_eq!(d["apiVersion"], "batch/v1");
        let pod = &d["spec"]["template"]["spec"];
        assert!(["Never", "OnFailure"].contains(&pod["restartPolicy"].as_str().unwrap()));
        let c = &pod["containers"][0];
        assert!(c["name"].as_str().is_some() && c["image"].as_str().is_some());
    }
}

#[test]
fn k8s_manifests_parse_as_yaml_with_the_required_fields() {
    let d = yaml_docs(&[
        "--workers",
        "5",
        "--scenario",
        "smoke",
        "--image",
        "registry.local/fraudstress:1",
        "--run-id",
        "Run_42",
    ]);
    let kinds: Vec<&str> = d.iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigMap", "PersistentVolumeClaim", "Job"]);
    assert_object(&d[0], "ConfigMap");
    let toml = d[0]["data"]["scenario.toml"].as_str().unwrap();
    assert!(toml.contains("name = \"smoke\""));
    assert_object(&d[1], "PersistentVolumeClaim");
    assert_eq!(d[1]["spec"]["accessModes"][0], "ReadWriteMany");
    let job = &d[2];
    assert_object(job, "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 5);
    assert_eq!(job["spec"]["parallelism"], 5);
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.local/fraudstress:1");
    assert_eq!(c["env"][0]["name"], "JOB_COMPLETION_INDEX");
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.contains(&"--segment=$(JOB_COMPLETION_INDEX)/5"),
        "{args:?}"
    );
    assert!(args.contains(&"--run-id=Run_42"), "{args:?}");
    let start = args
        .iter()
        .find_map(|a| a.strip_prefix("--start-at="))
        .unwrap();
    let start = humantime::parse_rfc3339(start).unwrap();
    let ahead = start.duration_since(SystemTime::now()).unwrap();
    assert!(ahead > Duration::from_secs(100) && ahead <= Duration::from_secs(120));

    let m = yaml_docs(&[
        "--workers",
        "5",
        "--scenario",
        "smoke",
        "--run-id",
        "Run_42",
        "--merge",
    ]);
    assert_eq!(m.len(), 1);
    assert_object(&m[0], "Job");
    let args = m[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap();
    assert_eq!(args[0], "merge");
    assert_eq!(
        args.iter()
            .filter(|a| {
                let a = a.as_str().unwrap();
                a.contains("/segment-") && !a.starts_with("--")
            })
            .count(),
        5
    );
}

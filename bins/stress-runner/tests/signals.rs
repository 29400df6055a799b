//! Signals end a run gracefully: SIGTERM and SIGHUP (what Kubernetes, systemd and CI runners send) and
//! Ctrl+C (SIGINT) each stop the run, write every result file and exit 143 or 130, also while the run
//! waits for its `--start-at` time.

#![cfg(unix)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-runner-sig-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
        .arg("run")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Sends `signal` (a `kill` name such as `TERM`) to the child once `ready` holds, or after `max`.
fn signal_when(child: &Child, signal: &str, ready: impl Fn() -> bool, max: Duration) {
    let t0 = Instant::now();
    while !ready() && t0.elapsed() < max {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits for the child to exit, at most `max`; its exit code.
fn exit_code(mut child: Child, max: Duration) -> Option<i32> {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if t0.elapsed() > max {
            let _ = child.kill();
            panic!("the run did not end within {max:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json is written");
    serde_json::from_str(&text).unwrap()
}

fn assert_all_files(dir: &Path) {
    for f in [
        "summary.json",
        "intervals.jsonl",
        "events.jsonl",
        "latency.hgrm",
        "report.html",
        "junit.xml",
    ] {
        assert!(dir.join(f).exists(), "{f} is written in {}", dir.display());
    }
}

#[test]
fn sigterm_and_sighup_write_every_result_file_and_exit_143() {
    for signal in ["TERM", "HUP"] {
        let out = temp(&format!("term-{signal}"));
        let child = start(&[
            "--tps",
            "200",
            "--duration",
            "60s",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        // Once a tick is on disk, the load is running.
        let intervals = out.join("intervals.jsonl");
        signal_when(
            &child,
            signal,
            || std::fs::metadata(&intervals).is_ok_and(|m| m.len() > 0),
            Duration::from_secs(30),
        );
        assert_eq!(
            exit_code(child, Duration::from_secs(30)),
            Some(143),
            "SIG{signal}"
        );
        assert_all_files(&out);
        let s = summary(&out);
        assert_eq!(s["end_reason"], "terminated", "SIG{signal}: {s}");
        assert!(
            s["load"]["sent"].as_u64().unwrap() > 0,
            "SIG{signal}: load was sent"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn ctrl_c_while_waiting_for_the_start_time_ends_the_run_at_once() {
    let out = temp("start-at");
    // Ten minutes ahead: the run would wait that long before sending anything.
    let at = std::time::SystemTime::now() + Duration::from_secs(600);
    let at = humantime::format_rfc3339_seconds(at).to_string();
    let child = start(&[
        "--tps",
        "100",
        "--duration",
        "5s",
        "--start-at",
        &at,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    // The run is set up (its folder exists) and waiting.
    signal_when(
        &child,
        "INT",
        || out.join("events.jsonl").exists(),
        Duration::from_secs(30),
    );
    let t0 = Instant::now();
    assert_eq!(exit_code(child, Duration::from_secs(30)), Some(130));
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "ended at once, not at the start time"
    );
    let s = summary(&out);
    assert_eq!(s["end_reason"], "interrupted", "{s}");
    assert_eq!(s["load"]["sent"].as_u64(), Some(0), "nothing was sent: {s}");
    let _ = std::fs::remove_dir_all(&out);
}

//! `stress-runner capacity`: usage errors exit 2 with a clear message; the built-in target with
//! `--capacity 1000` is found within 10% over HTTP, with a tight latency bound and with a latency-only
//! SLO (ignored: real-time load for about ninety seconds each).

use std::process::Command;

fn runner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
}

#[test]
fn a_bad_slo_names_its_column_and_exits_2() {
    let out = runner()
        .args(["capacity", "--slo", "p99<250ms,eror_rate<1%", "--out"])
        .arg(std::env::temp_dir().join("capacity-cli-bad-slo"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column 11") && err.contains("unknown metric"),
        "{err}"
    );
}

#[test]
fn remote_targets_and_inverted_bounds_are_refused() {
    let out = runner()
        .args([
            "capacity",
            "--slo",
            "p99<250ms",
            "--target",
            "http://10.1.2.3/v1/score",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));

    let out = runner()
        .args([
            "capacity",
            "--slo",
            "p99<250ms",
            "--min-tps",
            "5000",
            "--max-tps",
            "1000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--min-tps"));
}

/// Runs a search against the built-in target over HTTP with `--capacity 1000` and returns the answer
/// and the terminal output.
fn search_builtin_1000(name: &str, slo: &str, step: &str, warmup: &str) -> (f64, String) {
    let dir = std::env::temp_dir().join(format!("capacity-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = runner()
        .args([
            "capacity",
            "--slo",
            slo,
            "--capacity",
            "1000",
            "--min-tps",
            "200",
            "--max-tps",
            "4000",
            // 5%, not the default 2%: the assertion is 10%, and each step saved is seconds of load.
            "--precision",
            "0.05",
            "--step-duration",
            step,
            "--warmup",
            warmup,
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("capacity.json")).unwrap()).unwrap();
    assert!(dir.join("capacity.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);
    (v["max_sustainable_tps"].as_f64().unwrap(), stdout)
}

#[test]
#[ignore = "real-time load against the built-in target for about two minutes"]
fn a_latency_only_slo_over_http_with_5s_steps_lands_within_10_percent() {
    // The issue-16 case, scaled to what a debug build carries over HTTP here: `p99<250ms` alone used
    // to pass rates up to 1.5 × capacity, where the pattern detector is skipped after a 50 ms wait.
    let (answer, stdout) =
        search_builtin_1000("latency-only", "p99<250ms,error_rate<1%", "5s", "2s");
    assert!(
        (answer - 1000.0).abs() <= 100.0,
        "answer {answer} TPS for a capacity of 1,000\n{stdout}"
    );
    assert!(stdout.contains("keeping up with 98%"), "{stdout}");
}

#[test]
#[ignore = "real-time load against the built-in target for about two minutes"]
fn builtin_http_capacity_1000_is_found_within_10_percent() {
    // Over HTTP the generator and the target share this machine's 2 cores: a debug build carries
    // about 1,500 TPS, so the configured capacity stays below that (the in-process 3,000 TPS case is
    // crates/capacity/tests/builtin.rs). Past its capacity the built-in target's pattern detector
    // queues requests up to its 50 ms deadline before falling back, so p99 jumps from about 25 ms to
    // 60 ms or more there: a 50 ms bound marks the configured capacity.
    let (answer, stdout) = search_builtin_1000(
        "tight",
        "p99<50ms,error_rate<1%,throughput>=98%",
        "4s",
        "2s",
    );
    assert!(
        (answer - 1000.0).abs() <= 100.0,
        "answer {answer} TPS for a capacity of 1,000\n{stdout}"
    );
}

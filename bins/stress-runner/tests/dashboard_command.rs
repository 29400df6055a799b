//! `stress-runner run --dashboard` as a user runs it: a control token too short to guard the controls
//! is a usage error (exit 2) before anything runs.

use std::process::Command;

#[test]
fn a_token_shorter_than_sixteen_characters_exits_2_before_the_run() {
    let out =
        std::env::temp_dir().join(format!("stress-runner-short-token-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_stress-runner"))
        .args([
            "run",
            "--scenario",
            "smoke",
            "--dashboard",
            "--dashboard-port",
            "0",
        ])
        .args(["--token", "hunter2-hunter2", "--out"])
        .arg(&out)
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--token"), "names the flag: {err}");
    assert!(err.contains("15 characters"), "says what is wrong: {err}");
    assert!(err.contains("at least 16"), "says what to do: {err}");
    assert!(!out.exists(), "nothing ran");
}

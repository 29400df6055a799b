//! `stress-runner profile --scenario` as a user runs it: built-in names and TOML files give the
//! scenario's planned rate, one row per step, the same way `--shape` does; bad input exits 2.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn profile(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
        .arg("profile")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `(t_s, tps)` rows of a CSV answer, after checking the exit code and the header.
fn csv_rows(o: &Output) -> Vec<(f64, f64)> {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("t_s,tps"));
    lines
        .map(|l| {
            let (t, tps) = l.split_once(',').expect("two columns");
            (t.parse().unwrap(), tps.parse().unwrap())
        })
        .collect()
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/scenarios/{name}.toml"))
}

#[test]
fn the_investor_scenario_by_name_gives_its_ten_minute_profile() {
    let rows = csv_rows(&profile(&["--scenario", "investor"]));
    // Ramp 0 → 8,000 TPS over 60 s, then 5,000 TPS to 600 s (the crash stage keeps the rate).
    assert_eq!(rows.len(), 600);
    assert_eq!(rows[0], (0.0, 66.667)); // mean of the ramp over [0 s, 1 s)
    assert_eq!(rows[30], (30.0, 4066.667));
    assert!(rows[60..].iter().all(|&(_, tps)| tps == 5000.0));
    let planned: f64 = rows.iter().map(|(_, tps)| tps).sum();
    // 0.5 × 60 s × 8,000 + 540 s × 5,000 transactions, up to the rounding of each row.
    assert!((planned - 2_940_000.0).abs() < 1.0, "{planned}");
}

#[test]
fn every_builtin_name_works_and_json_matches_csv() {
    for name in orchestrator::builtin::BUILTIN_NAMES {
        let csv = csv_rows(&profile(&["--scenario", name, "--step", "10s"]));
        let spec = orchestrator::builtin::builtin(name).unwrap();
        let secs = spec.load.total_duration().as_secs_f64();
        assert_eq!(csv.len(), (secs / 10.0).ceil() as usize, "{name}");
        let o = profile(&["--scenario", name, "--step", "10s", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stderr));
        let json: Value = serde_json::from_slice(&o.stdout).unwrap();
        let from_json: Vec<(f64, f64)> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["t_s"].as_f64().unwrap(), r["tps"].as_f64().unwrap()))
            .collect();
        assert_eq!(from_json, csv, "{name}");
    }
}

#[test]
fn a_scenario_file_works_and_duration_cuts_it() {
    let file = example("smoke");
    let rows = csv_rows(&profile(&["--scenario", file.to_str().unwrap()]));
    // 2 s ramp to 200 TPS, then 18 s at 200 TPS.
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0], (0.0, 50.0));
    assert_eq!(rows[19], (19.0, 200.0));
    let cut = csv_rows(&profile(&[
        "--scenario",
        file.to_str().unwrap(),
        "--duration",
        "5s",
    ]));
    assert_eq!(cut, rows[..5]);
    // The built-in and its shipped file are the same scenario.
    assert_eq!(csv_rows(&profile(&["--scenario", "smoke"])), rows);
}

#[test]
fn unknown_names_and_bad_files_exit_2_with_what_to_do() {
    let o = profile(&["--scenario", "no-such-scenario"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("no-such-scenario") && err.contains("investor") && err.contains(".toml"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let dir = std::env::temp_dir().join(format!("stress-runner-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    let smoke = std::fs::read_to_string(example("smoke")).unwrap();
    std::fs::write(&bad, smoke.replace("tps = 200.0", "tps = -5.0")).unwrap();
    let o = profile(&["--scenario", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    let missing = dir.join("missing.toml");
    let o = profile(&["--scenario", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("missing.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn absurd_shape_durations_exit_2_instead_of_panicking() {
    for shape in ["sustained:5@1e20", "burst:1/2~1e300/1s@10s"] {
        let o = profile(&["--shape", shape]);
        assert_eq!(o.status.code(), Some(2), "{shape}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(
            err.contains("longest duration") && !err.contains("panicked"),
            "{shape}: {err}"
        );
    }
}

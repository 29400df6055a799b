//! `stress-runner run` and `stress-runner scenarios` as a user runs them: the built binary against the
//! built-in target on loopback, checking exit codes, the results folder and the summary's schema.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(args: &[&str]) -> Output {
    bin()
        .arg("run")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_passing_smoke_run_exits_0_with_every_file_and_the_documented_schema() {
    let out = temp("smoke");
    let o = run(&[
        "--scenario",
        "smoke",
        "--time-scale",
        "0.25",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_all_files(&out);
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("PASSED") && stdout.contains(out.to_str().unwrap()),
        "{stdout}"
    );
    // The terminal says what was tested and prints the net ROI with its formula; money and
    // multiples have thousands separators (no bare "ROI 19598907%").
    assert!(
        stdout.contains("tested    the built-in reference service (fraud-sim), with 15% fraud, 5% edge cases, synthetic traffic"),
        "{stdout}"
    );
    assert!(
        stdout.contains("net ROI ") && stdout.contains("false_decline_cost_ratio ×"),
        "{stdout}"
    );
    let business = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("business"))
        .unwrap();
    let roi = business.split("net ROI ").nth(1).unwrap();
    assert!(
        roi.split(|c: char| !c.is_ascii_digit())
            .all(|group| group.len() <= 3),
        "{business}"
    );

    let s = summary(&out);
    let num = |v: &Value| v.as_f64().is_some();
    let int = |v: &Value| v.as_u64().is_some();
    let str_ = |v: &Value| v.as_str().is_some();
    for (k, check) in [
        ("run_id", str_ as fn(&Value) -> bool),
        ("scenario", str_),
        ("seed", int),
        ("started_at", str_),
        ("duration_s", num),
        ("passed", |v: &Value| v.is_boolean()),
    ] {
        assert!(check(&s[k]), "{k}: {}", s[k]);
    }
    assert_eq!(s["scenario"], "smoke");
    assert!(s["run_id"].as_str().unwrap().contains("-smoke-"));
    assert_eq!(s["target"]["kind"], "builtin");
    assert!(
        s["target"]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    for k in ["scheduled", "sent", "completed", "dropped"] {
        assert!(int(&s["load"][k]), "load.{k}");
    }
    for k in ["target_tps_avg", "achieved_tps_avg", "peak_tps"] {
        assert!(num(&s["load"][k]), "load.{k}");
    }
    for group in ["latency_ms", "service_time_ms"] {
        for k in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
            assert!(num(&s[group][k]), "{group}.{k}");
        }
    }
    assert!(
        int(&s["errors"]["total"])
            && num(&s["errors"]["rate"])
            && s["errors"]["by_kind"].is_object()
    );
    for k in ["tp", "fp", "tn", "fn"] {
        assert!(int(&s["fraud"][k]), "fraud.{k}");
    }
    for k in [
        "precision",
        "recall",
        "accuracy",
        "prevented_amount",
        "false_decline_amount",
    ] {
        assert!(num(&s["fraud"][k]), "fraud.{k}");
    }
    assert_eq!(s["fraud"]["currency"], "USD");
    assert_eq!(s["mix"]["fraud"], 0.15);
    assert_eq!(s["business"]["cost_model"]["false_decline_cost_ratio"], 0.1);
    for k in [
        "cost_per_txn",
        "total_cost",
        "roi_pct",
        "false_decline_loss",
    ] {
        assert!(num(&s["business"][k]), "business.{k}");
    }
    assert!(
        s["agents"].as_array().is_some_and(|a| !a.is_empty()),
        "the built-in target reports its agents"
    );
    assert!(s["resilience"]["faults"].is_array() && num(&s["resilience"]["uptime_pct"]));
    let criteria = s["criteria"].as_array().unwrap();
    assert!(!criteria.is_empty());
    for c in criteria {
        assert!(
            str_(&c["name"]) && str_(&c["threshold"]) && num(&c["actual"]) && c["passed"] == true,
            "{c}"
        );
    }
    // 5 s at up to 200 TPS: about 950 arrivals, all answered.
    let scheduled = s["load"]["scheduled"].as_u64().unwrap();
    assert!((900..=1000).contains(&scheduled), "{scheduled}");
    assert_eq!(s["load"]["completed"], s["load"]["sent"]);

    let intervals = std::fs::read_to_string(out.join("intervals.jsonl")).unwrap();
    assert!(intervals.lines().count() >= 5);
    for line in intervals.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(num(&v["t_s"]) && str_(&v["state"]));
    }
    let hgrm = std::fs::read_to_string(out.join("latency.hgrm")).unwrap();
    assert!(hgrm.contains("1/(1-Percentile)") && hgrm.contains("#[Mean"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_criterion_that_must_fail_exits_1() {
    let dir = temp("fail");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("impossible.toml");
    std::fs::write(
        &file,
        r#"name = "impossible"
[[load.stages]]
shape = "sustained"
tps = 50
duration = "2s"

[[criteria]]
name = "faster than light"
metric = "latency_ms.p50"
op = "<"
threshold = 0.0001
"#,
    )
    .unwrap();
    let out = dir.join("out");
    let o = run(&[
        "--scenario",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["passed"], false);
    assert_eq!(s["criteria"][0]["name"], "faster than light");
    assert_eq!(s["criteria"][0]["passed"], false);
    assert!(text(&o.stdout).contains("FAILED"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn absurd_rates_and_time_scales_exit_2_with_the_reason_before_anything_runs() {
    let dir = temp("absurd");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    // `run --tps 1e300 --duration 1s` used to spin at 100% CPU and never write its results.
    let o = run(&["--tps", "1e300", "--duration", "1s", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("--tps") && err.contains("--max-tps"), "{err}");
    let o = run(&[
        "--tps",
        "500",
        "--max-tps",
        "100",
        "--duration",
        "1s",
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    // These panicked in Duration arithmetic.
    let o = run(&["--scenario", "smoke", "--time-scale", "1e300", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--time-scale"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["--tps", "10", "--duration", "1e20", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("longest duration"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.join("out").exists(), "nothing ran");
}

#[test]
fn a_bad_toml_exits_2_naming_file_line_and_column() {
    let dir = temp("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\n[[load.stages]]\nshape = \"sustained\"\ntps = 50\nduraton = \"2s\"\n",
    )
    .unwrap();
    let o = run(&[
        "--scenario",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains(&format!("{}:5:1:", file.display())), "{err}");
    assert!(err.contains("duraton"), "{err}");
    assert!(!dir.join("out").exists(), "nothing ran");

    let o = run(&["--scenario", "no-such-scenario"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("investor"));
    let o = run(&["--tps", "10"]);
    assert_eq!(o.status.code(), Some(2), "--tps needs --duration");
    let o = run(&[
        "--tps",
        "10",
        "--duration",
        "1s",
        "--fault",
        "http-eror:p=0.2,for=1s",
    ]);
    assert_eq!(o.status.code(), Some(2), "a bad --fault is a usage error");
    assert!(
        text(&o.stderr).contains("http-error"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["--scenario", "smoke", "--target", "http://192.0.2.1/score"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--allow-remote"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigint_exits_130_and_still_writes_the_results() {
    let out = temp("sigint");
    let child = bin()
        .args([
            "run",
            "--tps",
            "100",
            "--duration",
            "60s",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first tick on disk: the run is under way.
    let intervals = out.join("intervals.jsonl");
    let t0 = Instant::now();
    while std::fs::read_to_string(&intervals).map_or(true, |s| s.lines().count() < 2) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the run did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_all_files(&out);
    let s = summary(&out);
    assert_eq!(s["end_reason"], "interrupted");
    assert!(s["duration_s"].as_f64().unwrap() < 30.0);
    assert!(s["load"]["completed"].as_u64().unwrap() >= 100);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn scenarios_lists_every_builtin() {
    let o = bin().arg("scenarios").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    for (name, dur, peak) in [
        ("smoke", "20s", "200 TPS"),
        ("investor", "10m", "8000 TPS"),
        ("peak-load", "30m", "10000 TPS"),
        ("sustained", "2h", "2000 TPS"),
        ("burst", "15m", "10000 TPS"),
        ("failure-recovery", "45m", "3000 TPS"),
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {out}"));
        assert!(line.contains(dur) && line.contains(peak), "{line}");
    }
}

/// An `https://` target whose first TLS connection fails (here the port speaks plain HTTP) stops the
/// run before any load with exit 2 and the reason; half a client certificate is a usage error.
#[test]
fn an_https_target_that_fails_tls_exits_2_before_any_load() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Detached: it answers every connection in plain HTTP until the test process ends.
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            let mut hello = [0u8; 512];
            let _ = sock.read(&mut hello);
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let out = temp("https-preflight");
    let url = format!("https://127.0.0.1:{port}/v1/score");
    let o = run(&[
        "--tps",
        "10",
        "--duration",
        "5s",
        "--quiet",
        "--target",
        &url,
        "--server-name",
        "localhost",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no load was sent") && err.contains("http://"),
        "{err}"
    );
    let o = run(&[
        "--tps",
        "10",
        "--duration",
        "5s",
        "--target",
        &url,
        "--client-cert",
        "client.pem",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--client-key"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_results_folder_that_cannot_be_written_exits_3_not_2() {
    // A file where the results folder should be: the run is set up, but nothing can be written.
    let blocker = temp("unwritable");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let out = blocker.join("results");
    let o = run(&[
        "--tps",
        "10",
        "--duration",
        "1s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "stderr: {err}");
    assert!(
        err.contains("cannot write") || err.contains("cannot create"),
        "{err}"
    );
    let _ = std::fs::remove_file(&blocker);

    // A usage error stays 2.
    let o = run(&["--tps", "-5", "--duration", "1s"]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", text(&o.stderr));
}

#[test]
fn a_folder_holding_a_run_is_refused_unless_overwrite_replaces_that_run() {
    let out = temp("reused");
    let dir = out.to_str().unwrap();
    let load = ["--tps", "20", "--duration", "1s", "--out", dir];
    let first = run(&load);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let first_id = summary(&out)["run_id"].as_str().unwrap().to_owned();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();

    let again = run(&load);
    let err = text(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains(dir) && err.contains("summary.json") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(
        summary(&out)["run_id"],
        first_id.as_str(),
        "a refusal touches nothing"
    );

    let replaced = run(&[&load[..], &["--overwrite"]].concat());
    assert_eq!(
        replaced.status.code(),
        Some(0),
        "{}",
        text(&replaced.stderr)
    );
    assert_all_files(&out);
    assert_ne!(summary(&out)["run_id"], first_id.as_str());
    assert!(out.join("notes.txt").exists(), "other files stay");
    let _ = std::fs::remove_dir_all(&out);
}

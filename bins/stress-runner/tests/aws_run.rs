//! `stress-runner run --cloudwatch --xray` end to end against the real AWS API emulator (moto, with the
//! adapters in `test-support/aws-emulator`): the run's metrics are read back through the CloudWatch API
//! and agree with its result files, `aws.json` is written and the report shows it.
//!
//! Ignored by plain `cargo test`; `cargo xtask test` installs the emulator and sets
//! `FRAUDSTRESS_MOTO_PYTHON`. By hand: `FRAUDSTRESS_MOTO_PYTHON=.tools/moto/bin/python cargo test -p
//! stress-runner --test aws_run -- --ignored`.

#![cfg(feature = "aws")]

use aws_telemetry::AwsConfig;
use aws_telemetry::aws_sdk_cloudwatch::Client as CloudWatch;
use aws_telemetry::aws_sdk_cloudwatch::config::Credentials;
use aws_telemetry::aws_sdk_cloudwatch::primitives::DateTime;
use aws_telemetry::aws_sdk_cloudwatch::types::{
    Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

// The same emulator the aws-telemetry tests start (a std-only file shared by path).
#[path = "../../../crates/aws-telemetry/tests/common/emulator.rs"]
mod emulator;
use emulator::Emulator;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stress-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The sum of one statistic of one of the run's metrics over the window, and how many points made it.
async fn metric_sum(
    cw: &CloudWatch,
    metric: &str,
    stat: &str,
    dims: &[(&str, &str)],
    window: (SystemTime, SystemTime),
) -> (f64, usize) {
    let mut m = Metric::builder()
        .namespace("StressRunner")
        .metric_name(metric);
    for (k, v) in dims {
        m = m.dimensions(Dimension::builder().name(*k).value(*v).build());
    }
    let out = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("q0")
                .metric_stat(
                    MetricStat::builder()
                        .metric(m.build())
                        .period(60)
                        .stat(stat)
                        .build(),
                )
                .return_data(true)
                .build(),
        )
        .start_time(DateTime::from(window.0))
        .end_time(DateTime::from(window.1))
        .send()
        .await
        .unwrap();
    let values = out.metric_data_results()[0].values();
    (values.iter().sum(), values.len())
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn a_run_publishes_its_metrics_to_cloudwatch_and_reports_them() {
    let emulator = Emulator::start();
    let out = temp("aws-run");
    let before = SystemTime::now();
    let o = Command::new(env!("CARGO_BIN_EXE_stress-runner"))
        .args([
            "run",
            "--tps",
            "200",
            "--duration",
            "4s",
            "--target",
            "in-process",
            "--cloudwatch",
            "--xray",
            "--xray-segments",
            "--aws-endpoint-url",
            &emulator.endpoint,
            "--out",
            out.to_str().unwrap(),
        ])
        // The standard chain, fed what an emulator accepts; never a real account.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("the binary runs");
    let after = SystemTime::now();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("warning"),
        "no AWS warning against a working endpoint:\n{stderr}"
    );
    assert!(
        stdout.contains("CloudWatch: publishing to namespace StressRunner"),
        "{stdout}"
    );

    let summary = json(&out.join("summary.json"));
    let run_id = summary["run_id"].as_str().unwrap().to_owned();
    let scenario = summary["scenario"].as_str().unwrap().to_owned();
    let intervals: Vec<Value> = std::fs::read_to_string(out.join("intervals.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(intervals.len() >= 4, "{} intervals", intervals.len());
    let tps_sum: f64 = intervals
        .iter()
        .map(|i| i["achieved_tps"].as_f64().unwrap())
        .sum();
    let completed: u64 = intervals
        .iter()
        .map(|i| i["completed"].as_u64().unwrap())
        .sum();
    assert_eq!(completed, summary["load"]["completed"].as_u64().unwrap());

    // aws.json: every frame became datums, all published.
    let aws = json(&out.join("aws.json"));
    assert_eq!(aws["run_id"], run_id.as_str());
    let sink = &aws["cloudwatch_sink"];
    // Six counters a frame at least (Throughput, CompletedTransactions, DroppedTransactions, Errors,
    // FraudCaught, FraudMissed), plus ErrorRate and Latency when something was sent.
    assert!(
        sink["published_datums"].as_u64().unwrap() >= 6 * intervals.len() as u64,
        "{sink}"
    );
    assert_eq!(sink["failed_datums"], 0, "{sink}");
    assert_eq!(sink["dropped_frames"], 0, "{sink}");
    assert!(aws["xray"].is_object(), "X-Ray was read: {aws}");
    // Segments of the sampled transactions (1% of 800) went out and came back in the breakdown,
    // with a subsegment per agent.
    let emitted = &aws["xray_segments"];
    assert!(emitted["sent_segments"].as_u64().unwrap() > 0, "{emitted}");
    assert_eq!(emitted["failed_segments"], 0, "{emitted}");
    assert_eq!(
        emitted["offered"], summary["load"]["completed"],
        "{emitted}"
    );
    assert!(aws["xray"]["traces"].as_u64().unwrap() > 0, "{aws}");
    let segments = aws["xray"]["segments"].as_array().unwrap();
    assert!(
        segments.iter().any(|s| s["name"] == "pattern_detector"),
        "per-agent breakdown: {segments:?}"
    );

    // Read back through the API.
    let sdk = AwsConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(emulator.endpoint.clone()),
        ..AwsConfig::default()
    }
    .loader()
    .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
    .load()
    .await;
    let cw = CloudWatch::new(&sdk);
    let listed = cw
        .list_metrics()
        .namespace("StressRunner")
        .dimensions(
            DimensionFilter::builder()
                .name("RunId")
                .value(&run_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let names: std::collections::BTreeSet<&str> = listed
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name())
        .collect();
    for name in [
        "Throughput",
        "CompletedTransactions",
        "Latency",
        "Errors",
        "FraudCaught",
    ] {
        assert!(names.contains(name), "{name} is listed: {names:?}");
    }
    let window = (
        before - Duration::from_secs(120),
        after + Duration::from_secs(120),
    );
    let dims = [("RunId", run_id.as_str()), ("Scenario", scenario.as_str())];
    let (samples, _) = metric_sum(&cw, "Throughput", "SampleCount", &dims, window).await;
    assert_eq!(
        samples as usize,
        intervals.len(),
        "one Throughput datum per interval"
    );
    let (sum, points) = metric_sum(&cw, "Throughput", "Sum", &dims, window).await;
    assert!(points >= 1);
    assert!(
        (sum - tps_sum).abs() < 1e-6 * tps_sum.max(1.0),
        "Throughput sum {sum} = the intervals' achieved_tps sum {tps_sum}"
    );
    let (done, _) = metric_sum(&cw, "CompletedTransactions", "Sum", &dims, window).await;
    assert_eq!(
        done as u64, completed,
        "CompletedTransactions agrees with summary.json"
    );

    // The report shows the AWS section.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"aws\">") && html.contains("CloudWatch"));
    let _ = std::fs::remove_dir_all(&out);
}

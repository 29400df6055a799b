//! Against the real AWS API emulator (moto, with the adapters in `test-support/aws-emulator`): metrics
//! published by the sink are read back through the API and agree with the run's summary; the collector
//! reads infrastructure metrics; segments put are found again and broken down per agent.
//!
//! Run with `cargo xtask test` (which sets `FRAUDSTRESS_MOTO_PYTHON`).

mod common;

use aws_telemetry::aws_sdk_cloudwatch::Client as CloudWatch;
use aws_telemetry::aws_sdk_cloudwatch::primitives::DateTime;
use aws_telemetry::aws_sdk_cloudwatch::types::{Datapoint, Dimension, MetricDatum, Statistic};
use aws_telemetry::aws_sdk_xray::Client as Xray;
use aws_telemetry::{
    AwsReport, AwsResources, CloudWatchSink, EmitterConfig, InfraCollector, RunWindow, SampledTxn,
    SegmentEmitter, SegmentKind, SinkConfig, TraceReader, write_aws_json,
};
use common::{Emulator, sdk_config, snapshot};
use models::{AgentTiming, Decision, IntervalSnapshot, LoadSummary, Summary};
use std::time::{Duration, SystemTime};

/// Deterministic latencies (µs) for interval `i`: 150 to 400 samples spread over 2 to 80 ms.
fn latencies(i: u64) -> Vec<u64> {
    (0..150 + 50 * i)
        .map(|k| 2_000 + (k * k * 7 + i * 13) % 78_000)
        .collect()
}

/// The summary of the synthetic run, as the orchestrator would compute it from its intervals.
fn summary_of(run_id: &str, snapshots: &[IntervalSnapshot], all_latencies: &[u64]) -> Summary {
    let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for v in all_latencies {
        h.record(*v).unwrap();
    }
    let mut s = Summary {
        run_id: run_id.into(),
        scenario: "emulated".into(),
        ..Default::default()
    };
    s.load = LoadSummary {
        sent: snapshots.iter().map(|s| s.sent).sum(),
        completed: snapshots.iter().map(|s| s.completed).sum(),
        ..Default::default()
    };
    s.errors.total = snapshots.iter().map(|s| s.error_total()).sum();
    s.fraud.tp = snapshots.iter().map(|s| s.fraud.tp).sum();
    s.latency_ms.count = h.len();
    s.latency_ms.mean = h.mean() / 1000.0;
    s.latency_ms.max = h.max() as f64 / 1000.0;
    s
}

async fn statistics(
    cw: &CloudWatch,
    namespace: &str,
    metric: &str,
    dims: &[(&str, &str)],
    window: RunWindow,
) -> Vec<Datapoint> {
    let mut req = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .start_time(DateTime::from(window.start))
        .end_time(DateTime::from(window.end))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum);
    for (k, v) in dims {
        req = req.dimensions(Dimension::builder().name(*k).value(*v).build());
    }
    req.send().await.unwrap().datapoints().to_vec()
}

fn total(points: &[Datapoint], f: impl Fn(&Datapoint) -> Option<f64>) -> f64 {
    points.iter().filter_map(f).sum()
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn published_metrics_read_back_agree_with_the_summary() {
    let emulator = Emulator::start();
    let sdk = sdk_config(&emulator.endpoint).await;
    let cw = CloudWatch::new(&sdk);
    let run_id = "emu-run-1";
    let started = SystemTime::now() - Duration::from_secs(120);

    let mut snapshots = Vec::new();
    let mut all = Vec::new();
    for i in 0..6u64 {
        let lat = latencies(i);
        all.extend(&lat);
        snapshots.push(snapshot(10.0 * (i + 1) as f64, &lat, i % 3, 5 + i));
    }
    let summary = summary_of(run_id, &snapshots, &all);

    // Two workers of a distributed run, same RunId, no Worker dimension: CloudWatch aggregates them.
    let config = SinkConfig {
        run_id: run_id.into(),
        scenario: "emulated".into(),
        run_started_at: Some(started),
        ..SinkConfig::default()
    };
    let a = CloudWatchSink::spawn(config.clone(), &cw).unwrap();
    let b = CloudWatchSink::spawn(config, &cw).unwrap();
    for (i, s) in snapshots.iter().enumerate() {
        assert!(if i % 2 == 0 { a.send(s) } else { b.send(s) });
    }
    let (ra, rb) = (a.finish().await.unwrap(), b.finish().await.unwrap());
    for r in [&ra, &rb] {
        assert_eq!(
            (
                r.failed_datums,
                r.dropped_frames,
                r.retries,
                r.histogram_fallbacks
            ),
            (0, 0, 0, 0),
            "{r:?}"
        );
    }
    assert_eq!(ra.published_datums + rb.published_datums, 6 * 8);

    let window = RunWindow {
        start: started - Duration::from_secs(300),
        end: SystemTime::now() + Duration::from_secs(300),
    };
    let dims = [("RunId", run_id), ("Scenario", "emulated")];
    let completed = statistics(&cw, "StressRunner", "CompletedTransactions", &dims, window).await;
    assert_eq!(
        total(&completed, Datapoint::sum),
        summary.load.completed as f64
    );
    let errors = statistics(&cw, "StressRunner", "Errors", &dims, window).await;
    assert_eq!(total(&errors, Datapoint::sum), summary.errors.total as f64);
    let caught = statistics(&cw, "StressRunner", "FraudCaught", &dims, window).await;
    assert_eq!(total(&caught, Datapoint::sum), summary.fraud.tp as f64);

    // Latency: every sample arrives (Values/Counts), the mean and max within HDR's bucket precision.
    let latency = statistics(&cw, "StressRunner", "Latency", &dims, window).await;
    let count = total(&latency, Datapoint::sample_count);
    assert_eq!(count, summary.latency_ms.count as f64);
    let mean = total(&latency, Datapoint::sum) / count;
    assert!(
        (mean - summary.latency_ms.mean).abs() / summary.latency_ms.mean < 0.005,
        "{mean} vs {}",
        summary.latency_ms.mean
    );
    let max = latency
        .iter()
        .filter_map(Datapoint::maximum)
        .fold(0.0, f64::max);
    assert!(
        (max - summary.latency_ms.max).abs() / summary.latency_ms.max < 0.002,
        "{max} vs {}",
        summary.latency_ms.max
    );

    // GetMetricData agrees too.
    let collected = cw
        .get_metric_data()
        .metric_data_queries(
            aws_telemetry::aws_sdk_cloudwatch::types::MetricDataQuery::builder()
                .id("completed")
                .metric_stat(
                    aws_telemetry::aws_sdk_cloudwatch::types::MetricStat::builder()
                        .metric(
                            aws_telemetry::aws_sdk_cloudwatch::types::Metric::builder()
                                .namespace("StressRunner")
                                .metric_name("CompletedTransactions")
                                .dimensions(
                                    Dimension::builder().name("RunId").value(run_id).build(),
                                )
                                .dimensions(
                                    Dimension::builder()
                                        .name("Scenario")
                                        .value("emulated")
                                        .build(),
                                )
                                .build(),
                        )
                        .period(60)
                        .stat("Sum")
                        .build(),
                )
                .build(),
        )
        .start_time(DateTime::from(window.start))
        .end_time(DateTime::from(window.end))
        .send()
        .await
        .unwrap();
    let sum: f64 = collected.metric_data_results()[0].values().iter().sum();
    assert_eq!(sum, summary.load.completed as f64);

    // ListMetrics shows every metric of the run, with its two dimensions.
    let listed = cw
        .list_metrics()
        .namespace("StressRunner")
        .dimensions(
            aws_telemetry::aws_sdk_cloudwatch::types::DimensionFilter::builder()
                .name("RunId")
                .value(run_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = listed
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "CompletedTransactions",
            "DroppedTransactions",
            "ErrorRate",
            "Errors",
            "FraudCaught",
            "FraudMissed",
            "Latency",
            "Throughput"
        ]
    );
    assert!(listed.metrics().iter().all(|m| m.dimensions().len() == 2));
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn the_worker_dimension_is_an_option() {
    let emulator = Emulator::start();
    let sdk = sdk_config(&emulator.endpoint).await;
    let cw = CloudWatch::new(&sdk);
    let config = SinkConfig {
        run_id: "emu-run-2".into(),
        scenario: "emulated".into(),
        worker: Some("1/2".into()),
        run_started_at: Some(SystemTime::now() - Duration::from_secs(30)),
        ..SinkConfig::default()
    };
    let sink = CloudWatchSink::spawn(config, &cw).unwrap();
    sink.send(&snapshot(5.0, &latencies(0), 0, 1));
    let report = sink.finish().await.unwrap();
    assert_eq!(report.published_datums, 8);
    let listed = cw
        .list_metrics()
        .namespace("StressRunner")
        .metric_name("Latency")
        .send()
        .await
        .unwrap();
    let dims: Vec<(&str, &str)> = listed.metrics()[0]
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap_or(""), d.value().unwrap_or("")))
        .collect();
    assert!(dims.contains(&("Worker", "1/2")), "{dims:?}");
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn the_collector_reads_infrastructure_metrics_for_the_window() {
    let emulator = Emulator::start();
    let sdk = sdk_config(&emulator.endpoint).await;
    let cw = CloudWatch::new(&sdk);
    // Minute-aligned run start, so that the 60 s periods line up with the points put.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(now / 60 * 60 - 600);
    let put = |namespace: &'static str,
               dim: &'static str,
               resource: &'static str,
               metric: &'static str,
               points: Vec<(u64, f64)>| {
        let cw = cw.clone();
        async move {
            let data: Vec<MetricDatum> = points
                .into_iter()
                .map(|(offset, v)| {
                    MetricDatum::builder()
                        .metric_name(metric)
                        .dimensions(Dimension::builder().name(dim).value(resource).build())
                        .timestamp(DateTime::from(start + Duration::from_secs(offset)))
                        .value(v)
                        .build()
                })
                .collect();
            cw.put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(data))
                .send()
                .await
                .unwrap();
        }
    };
    put(
        "AWS/Lambda",
        "FunctionName",
        "score",
        "Invocations",
        vec![(65, 40.0), (70, 60.0), (185, 30.0)],
    )
    .await;
    put(
        "AWS/Lambda",
        "FunctionName",
        "score",
        "Duration",
        vec![(65, 10.0), (70, 30.0)],
    )
    .await;
    put(
        "AWS/Lambda",
        "FunctionName",
        "score",
        "Throttles",
        vec![(190, 3.0)],
    )
    .await;
    put(
        "AWS/DynamoDB",
        "TableName",
        "txns",
        "ConsumedWriteCapacityUnits",
        vec![(125, 12.5)],
    )
    .await;
    put(
        "AWS/Kinesis",
        "StreamName",
        "events",
        "GetRecords.IteratorAgeMilliseconds",
        vec![(130, 900.0), (131, 1500.0)],
    )
    .await;
    put(
        "AWS/Bedrock",
        "ModelId",
        "claude",
        "InvocationThrottles",
        vec![(250, 2.0)],
    )
    .await;
    // Outside the window: must not be read.
    put(
        "AWS/Lambda",
        "FunctionName",
        "score",
        "Errors",
        vec![(900, 99.0)],
    )
    .await;

    let resources = AwsResources {
        lambda_functions: vec!["score".into()],
        dynamodb_tables: vec!["txns".into()],
        kinesis_streams: vec!["events".into()],
        bedrock_models: vec!["claude".into()],
    };
    let window = RunWindow::new(start, Duration::from_secs(300));
    let infra = InfraCollector::new(cw.clone())
        .collect(&resources, window)
        .await
        .unwrap();
    assert_eq!(infra.series.len(), 6 + 3 + 1 + 2);

    let points = |resource: &str, metric: &str| -> Vec<(f64, f64)> {
        infra
            .series(resource, metric)
            .unwrap()
            .points
            .iter()
            .map(|p| (p.t_s, p.value))
            .collect()
    };
    assert_eq!(
        points("score", "Invocations"),
        [(60.0, 100.0), (180.0, 30.0)]
    );
    let duration = infra
        .series
        .iter()
        .find(|s| s.metric == "Duration" && s.stat == "Average")
        .unwrap();
    assert_eq!(duration.points.len(), 1);
    assert_eq!(duration.points[0].value, 20.0);
    let p99 = infra
        .series
        .iter()
        .find(|s| s.metric == "Duration" && s.stat == "p99")
        .unwrap();
    assert_eq!(
        p99.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        [30.0]
    );
    assert_eq!(points("score", "Throttles"), [(180.0, 3.0)]);
    assert!(
        points("score", "Errors").is_empty(),
        "a point after the window was read"
    );
    assert_eq!(
        points("txns", "ConsumedWriteCapacityUnits"),
        [(120.0, 12.5)]
    );
    assert_eq!(
        points("events", "GetRecords.IteratorAgeMilliseconds"),
        [(120.0, 1500.0)]
    );
    assert_eq!(points("claude", "InvocationThrottles"), [(240.0, 2.0)]);

    // aws.json carries it for the report and the admin page.
    let dir = std::env::temp_dir().join(format!("aws-telemetry-emu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = AwsReport {
        run_id: "emu".into(),
        infra: Some(infra.clone()),
        ..Default::default()
    };
    let path = write_aws_json(&dir, &report).unwrap();
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        back["infra"]["series"].as_array().unwrap().len(),
        infra.series.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn segments_put_are_found_and_broken_down_per_agent() {
    let emulator = Emulator::start();
    let sdk = sdk_config(&emulator.endpoint).await;
    let xray = Xray::new(&sdk);
    let run_start = SystemTime::now() - Duration::from_secs(60);

    let mut emitter = SegmentEmitter::new(
        EmitterConfig {
            run_id: "emu-run-3".into(),
            sample_rate: 1.0,
            batch_size: 4,
            ..EmitterConfig::default()
        },
        &xray,
    )
    .unwrap();
    let mut expected_pattern = Vec::new();
    let mut expected_scorer = Vec::new();
    for i in 0..12u64 {
        let start = run_start + Duration::from_secs(2 * i + 1);
        let pattern_us = 1_000 + 250 * i;
        let scorer_us = 20_000 + 1_000 * (i % 4);
        expected_pattern.push(pattern_us as f64 / 1000.0);
        expected_scorer.push(scorer_us as f64 / 1000.0);
        let txn = SampledTxn {
            txn_id: format!("txn_{i:012x}"),
            decision: Some(if i % 3 == 0 {
                Decision::Decline
            } else {
                Decision::Approve
            }),
            start,
            end: start + Duration::from_millis(30),
            agents: vec![
                AgentTiming {
                    name: "pattern_detector".into(),
                    duration_us: pattern_us,
                    ok: true,
                },
                AgentTiming {
                    name: "ml_scorer".into(),
                    duration_us: scorer_us,
                    ok: true,
                },
            ],
        };
        assert!(emitter.record(&txn));
        if emitter.should_flush() {
            emitter.flush().await;
        }
    }
    let emitted = emitter.finish().await;
    assert_eq!(
        (
            emitted.sampled,
            emitted.sent_segments,
            emitted.failed_segments
        ),
        (12, 12, 0),
        "{emitted:?}"
    );

    let window = RunWindow {
        start: run_start - Duration::from_secs(5),
        end: SystemTime::now() + Duration::from_secs(5),
    };
    let reader = TraceReader::new(xray.clone());
    let ids = reader.trace_ids(window, None).await.unwrap();
    assert_eq!(ids.len(), 12);
    let breakdown = reader.breakdown(window, None).await.unwrap();
    assert_eq!(breakdown.traces, 12);
    assert_eq!(breakdown.unprocessed_traces, 0);

    let check = |name: &str, expected: &mut Vec<f64>| {
        expected.sort_by(f64::total_cmp);
        let stats = breakdown.get(SegmentKind::Subsegment, name).unwrap();
        assert_eq!(stats.count, 12);
        let mean = expected.iter().sum::<f64>() / 12.0;
        assert!(
            (stats.mean_ms - mean).abs() < 0.01,
            "{name}: {} vs {mean}",
            stats.mean_ms
        );
        assert!((stats.p50_ms - expected[5]).abs() < 0.01, "{name} p50");
        assert!((stats.p99_ms - expected[11]).abs() < 0.01, "{name} p99");
    };
    check("pattern_detector", &mut expected_pattern);
    check("ml_scorer", &mut expected_scorer);
    let root = breakdown.get(SegmentKind::Segment, "fraudstress").unwrap();
    assert_eq!(root.count, 12);
    assert!((root.mean_ms - 30.0).abs() < 0.01);

    // A window before the run finds nothing.
    let before = RunWindow {
        start: run_start - Duration::from_secs(600),
        end: run_start - Duration::from_secs(300),
    };
    assert!(reader.trace_ids(before, None).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs the AWS emulator; run cargo xtask test"]
async fn sampling_emits_only_the_sampled_share() {
    let emulator = Emulator::start();
    let sdk = sdk_config(&emulator.endpoint).await;
    let xray = Xray::new(&sdk);
    let start = SystemTime::now() - Duration::from_secs(20);
    let mut emitter = SegmentEmitter::new(
        EmitterConfig {
            run_id: "emu-run-4".into(),
            sample_rate: 0.25,
            ..Default::default()
        },
        &xray,
    )
    .unwrap();
    let ids: Vec<String> = (0..200).map(|i| format!("txn_{i:012x}")).collect();
    for id in &ids {
        emitter.record(&SampledTxn {
            txn_id: id.clone(),
            decision: None,
            start,
            end: start + Duration::from_millis(5),
            agents: Vec::new(),
        });
    }
    let report = emitter.finish().await;
    let expected = ids
        .iter()
        .filter(|id| aws_telemetry::segments::is_sampled(id, 0.25))
        .count() as u64;
    assert_eq!(report.offered, 200);
    assert_eq!(report.sampled, expected);
    assert_eq!(report.sent_segments, expected);
    assert!((30..70).contains(&expected), "{expected}");
    let window = RunWindow {
        start: start - Duration::from_secs(5),
        end: SystemTime::now() + Duration::from_secs(5),
    };
    let found = TraceReader::new(xray)
        .trace_ids(window, None)
        .await
        .unwrap();
    assert_eq!(found.len() as u64, expected);
}

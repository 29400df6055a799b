//! The sink against a scripted loopback endpoint: throttling and 5xx answers are retried and counted,
//! failures are counted rather than lost, and a full channel drops frames without waiting.

mod common;

use aws_telemetry::{CloudWatchSink, RetryPolicy, SinkConfig};
use common::{Answer, ScriptedServer, sdk_config, snapshot};
use std::time::{Duration, SystemTime};

fn config(max_retries: u32) -> SinkConfig {
    SinkConfig {
        run_id: "retry-run".into(),
        scenario: "retries".into(),
        run_started_at: Some(SystemTime::now() - Duration::from_secs(60)),
        // Short real waits: these tests count retries, they do not time them.
        retry: RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
        ..SinkConfig::default()
    }
}

/// Datums per synthetic snapshot: 7 single figures (ErrorRate included, as something was sent) + Latency.
const DATUMS_PER_SNAPSHOT: u64 = 8;

async fn publish_three(server: &ScriptedServer, max_retries: u32) -> aws_telemetry::SinkReport {
    let sdk = sdk_config(&server.endpoint).await;
    let client = aws_telemetry::aws_sdk_cloudwatch::Client::new(&sdk);
    let sink = CloudWatchSink::spawn(config(max_retries), &client).unwrap();
    for i in 1..=3 {
        assert!(sink.send(&snapshot(f64::from(i) * 10.0, &[1_000, 2_000, 3_000], 1, 1)));
    }
    sink.finish().await.unwrap()
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_published() {
    let server = ScriptedServer::start(vec![
        Answer::bare(503),
        Answer::error(429, "ThrottlingException", "Rate exceeded"),
        Answer::error(400, "Throttling", "Rate exceeded"),
        Answer::error(500, "InternalServiceError", "oops"),
        Answer::ok_empty(),
    ])
    .await;
    let report = publish_three(&server, 4).await;
    assert_eq!(
        report.published_datums,
        3 * DATUMS_PER_SNAPSHOT,
        "{report:?}"
    );
    assert_eq!(report.failed_datums, 0);
    assert_eq!(report.retries, 4);
    assert_eq!(report.requests, 5);
    assert_eq!(
        server.request_count(),
        5,
        "the SDK's own retries are off: every attempt is ours"
    );
    assert!(
        server
            .paths
            .lock()
            .unwrap()
            .iter()
            .all(|p| p == "/service/GraniteServiceVersion20100801/operation/PutMetricData")
    );
    server.stop().await;
}

#[tokio::test]
async fn exhausted_retries_count_failed_datums() {
    let server = ScriptedServer::start(vec![Answer::bare(503)]).await;
    let report = publish_three(&server, 2).await;
    assert_eq!(report.published_datums, 0);
    assert_eq!(report.failed_datums, 3 * DATUMS_PER_SNAPSHOT);
    assert_eq!(report.retries, 2);
    assert_eq!(server.request_count(), 3);
    let error = report.last_error.unwrap();
    assert!(error.contains("PutMetricData"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = ScriptedServer::start(vec![Answer::error(
        400,
        "InvalidParameterValue",
        "bad dimension",
    )])
    .await;
    let report = publish_three(&server, 4).await;
    assert_eq!(report.failed_datums, 3 * DATUMS_PER_SNAPSHOT);
    assert_eq!(report.retries, 0);
    assert_eq!(server.request_count(), 1);
    assert!(report.last_error.unwrap().contains("bad dimension"));
    server.stop().await;
}

#[tokio::test]
async fn large_runs_are_split_into_requests_of_at_most_1000_datums() {
    let server = ScriptedServer::start(vec![Answer::ok_empty()]).await;
    let sdk = sdk_config(&server.endpoint).await;
    let client = aws_telemetry::aws_sdk_cloudwatch::Client::new(&sdk);
    let sink = CloudWatchSink::spawn(
        SinkConfig {
            channel_capacity: 1000,
            ..config(0)
        },
        &client,
    )
    .unwrap();
    // 300 snapshots × 8 datums = 2,400 datums: the sink publishes every time 1,000 are waiting.
    for i in 0..300 {
        assert!(sink.send(&snapshot(f64::from(i), &[1_000, 5_000], 0, 0)));
    }
    let report = sink.finish().await.unwrap();
    assert_eq!(report.published_datums, 300 * DATUMS_PER_SNAPSHOT);
    assert_eq!(report.failed_datums, 0);
    assert_eq!(report.requests, 3, "{report:?}");
    assert_eq!(server.request_count(), 3);
    server.stop().await;
}

/// The single-threaded test runtime does not run the sink until the test yields, so every send beyond
/// the channel's capacity is dropped at once, and counted.
#[tokio::test]
async fn a_full_channel_drops_and_counts_frames_without_waiting() {
    let server = ScriptedServer::start(vec![Answer::ok_empty()]).await;
    let sdk = sdk_config(&server.endpoint).await;
    let client = aws_telemetry::aws_sdk_cloudwatch::Client::new(&sdk);
    let sink = CloudWatchSink::spawn(
        SinkConfig {
            channel_capacity: 2,
            ..config(0)
        },
        &client,
    )
    .unwrap();
    let accepted: Vec<bool> = (0..5)
        .map(|i| sink.send(&snapshot(f64::from(i), &[1_000], 0, 0)))
        .collect();
    assert_eq!(accepted, [true, true, false, false, false]);
    assert_eq!(sink.dropped_frames(), 3);
    let report = sink.finish().await.unwrap();
    assert_eq!(report.dropped_frames, 3);
    assert_eq!(report.published_datums, 2 * DATUMS_PER_SNAPSHOT);
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_counted_as_failed() {
    // Bind then drop a listener: nothing accepts on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sdk = sdk_config(&format!("http://127.0.0.1:{port}")).await;
    let client = aws_telemetry::aws_sdk_cloudwatch::Client::new(&sdk);
    let sink = CloudWatchSink::spawn(config(1), &client).unwrap();
    sink.send(&snapshot(1.0, &[1_000], 0, 0));
    let report = sink.finish().await.unwrap();
    assert_eq!(report.failed_datums, DATUMS_PER_SNAPSHOT);
    assert_eq!(
        report.retries, 1,
        "a refused connection is transient: retried once"
    );
}

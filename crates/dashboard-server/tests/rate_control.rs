//! The rate control against a real orchestrator's [`orchestrator::RunControl`]: a multiplier that is
//! not a rate, or that would plan above the scenario's `max_tps`, is a bad request (400) with the
//! reason, and nothing reaches the run.

use bytes::Bytes;
use dashboard_server::{DashboardConfig, DashboardServer, Feed};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use orchestrator::{RunOptions, StressTestOrchestrator, timeline};
use std::sync::Arc;
use std::time::Duration;

async fn post_rate(url: &str, body: &str) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::builder()
        .method("POST")
        .uri(url)
        .header("authorization", "Bearer s3cret-token-for-tests")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn multipliers_above_the_ceiling_are_bad_requests_with_the_reason() {
    // 200 TPS under a 1,000 TPS ceiling: multipliers up to 5 are fine.
    let mut spec = timeline::plain(200.0, Duration::from_secs(5)).unwrap();
    spec.limits.max_tps = 1_000.0;
    let orch = StressTestOrchestrator::new(spec, RunOptions::default()).unwrap();
    let config = DashboardConfig {
        token: Some("s3cret-token-for-tests".into()),
        ..DashboardConfig::default()
    };
    let server = DashboardServer::start(config, Feed::default(), Some(Arc::new(orch.control())))
        .await
        .unwrap();
    let url = format!("{}api/control/rate", server.url());

    // One typo in the admin page's rate box.
    let (status, body) = post_rate(&url, r#"{"multiplier": 1e300}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("1000 TPS ceiling") && body.contains("at most 5"),
        "says why and what to give: {body}"
    );
    let (status, body) = post_rate(&url, r#"{"multiplier": 5.5}"#).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_rate(&url, r#"{"multiplier": -1}"#).await;
    assert_eq!(
        status, 400,
        "a negative multiplier is a bad value too: {body}"
    );
    assert!(body.contains("0 or more"), "{body}");
    let (status, body) = post_rate(&url, r#"{"multiplier": 5}"#).await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await.unwrap();
}

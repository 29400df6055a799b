//! The fault-injecting proxy in front of a loopback HTTP server: each fault kind changes what the driver
//! (`targets::HttpTarget`, or a plain hyper client) sees, and everything else passes through unchanged.

mod common;

use bytes::Bytes;
use common::{start_upstream, target, txn};
use failure_injection::{
    FaultProxy, FaultSchedule, FaultTimeline, InjectError, Injector, ProxyConfig, ProxyError,
    parse_fault_flag,
};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use models::{EventKind, FaultKind, FaultSpec};
use std::time::Duration;
use targets::{Target, TargetError};
use tokio::time::Instant;

async fn proxy_for(upstream: &common::Upstream) -> FaultProxy {
    FaultProxy::start(ProxyConfig {
        upstream: upstream.url(),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn spec(flag: &str) -> FaultSpec {
    parse_fault_flag(flag).unwrap()
}

async fn timed(t: &targets::HttpTarget) -> Duration {
    let t0 = Instant::now();
    t.score(&txn()).await.unwrap();
    t0.elapsed()
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

#[tokio::test(start_paused = true)]
async fn passes_method_path_headers_and_body_through_with_keep_alive() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let client = client();
    for i in 0..3 {
        let req = Request::builder()
            .method(Method::PUT)
            .uri(format!("{}/echo/item?q={i}&x=y", proxy.url()))
            .header("x-api-key", "secret")
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from(format!("hello {i}"))))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: serde_json::Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["method"], "PUT");
        assert_eq!(body["path"], "/echo/item");
        assert_eq!(body["query"], format!("q={i}&x=y"));
        assert_eq!(body["body"], format!("hello {i}"));
        assert_eq!(body["headers"]["x-api-key"], "secret");
        assert_eq!(body["headers"]["content-type"], "text/plain");
        assert_eq!(
            body["headers"]["host"],
            up.addr.to_string(),
            "Host names the upstream"
        );
    }
    let stats = proxy.stats();
    assert_eq!((stats.requests, stats.forwarded), (3, 3));
    assert_eq!(
        stats.connections, 1,
        "the client's connection to the proxy was kept alive"
    );
    assert_eq!(
        up.seen.connections(),
        1,
        "the proxy's connection to the upstream was kept alive"
    );
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn http_error_share_matches_the_probability() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(
        &proxy
            .proxied_url(&format!("{}/v1/score", up.url()))
            .unwrap(),
        Duration::from_secs(5),
    );
    let id = proxy
        .apply(&spec("http-error:status=429,p=0.2,for=10s"))
        .await
        .unwrap();
    let n = 2_000;
    let mut refused = 0;
    for _ in 0..n {
        match t.score(&txn()).await {
            Ok(_) => {}
            Err(TargetError::Status { status: 429 }) => refused += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let share = refused as f64 / n as f64;
    assert!((share - 0.2).abs() <= 0.02, "429 share {share}");
    assert_eq!(
        up.seen.requests(),
        n - refused,
        "refused requests never reach the upstream"
    );
    proxy.clear(id).await.unwrap();
    assert!(t.score(&txn()).await.is_ok());
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn built_in_only_kinds_map_to_statuses_and_a_rate_limit() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    for (flag, status) in [
        ("agent-crash:stage=pattern_detector,for=1s", 503),
        ("db-throttle:for=1s", 429),
        ("db-throttle:status=503,for=1s", 503),
        ("http-error:status=500,for=1s", 500),
    ] {
        let id = proxy.apply(&spec(flag)).await.unwrap();
        assert_eq!(
            t.score(&txn()).await.unwrap_err(),
            TargetError::Status { status },
            "{flag}"
        );
        proxy.clear(id).await.unwrap();
    }
    let id = proxy
        .apply(&spec("model-rate-limit:tps=5,for=10s"))
        .await
        .unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        outcomes.push(t.score(&txn()).await.is_ok());
    }
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        5,
        "a second's worth of calls, then 429"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(t.score(&txn()).await.is_ok(), "the bucket refills");
    proxy.clear(id).await.unwrap();
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn latency_spike_slow_response_and_stream_lag_add_their_latency() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    let mut base = Duration::ZERO;
    for _ in 0..5 {
        base += timed(&t).await;
    }
    let base = base / 5;
    for (flag, at_least, at_most) in [
        ("latency-spike:latency=200ms,jitter=50ms,for=1s", 200, 250),
        ("slow-response:latency=300ms,for=1s", 300, 300),
        ("stream-lag:latency=1s,for=1s", 1_000, 1_000),
    ] {
        let id = proxy.apply(&spec(flag)).await.unwrap();
        let before = up.seen.requests();
        for _ in 0..5 {
            let took = timed(&t).await;
            assert!(
                took >= base + Duration::from_millis(at_least),
                "{flag}: {took:?} vs base {base:?}"
            );
            assert!(
                took <= base + Duration::from_millis(at_most + 20),
                "{flag}: {took:?}"
            );
        }
        assert_eq!(
            up.seen.requests(),
            before + 5,
            "{flag}: delayed requests still reach the upstream"
        );
        proxy.clear(id).await.unwrap();
    }
    assert!(timed(&t).await < Duration::from_millis(100));
    assert_eq!(proxy.stats().delayed, 15);
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn half_the_requests_meet_a_latency_spike_at_p_one_half() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    proxy
        .apply(&spec("latency-spike:latency=100ms,p=0.5,for=1s"))
        .await
        .unwrap();
    let mut slow = 0;
    for _ in 0..200 {
        let t0 = Instant::now();
        t.score(&txn()).await.unwrap();
        if t0.elapsed() >= Duration::from_millis(100) {
            slow += 1;
        }
    }
    assert!((70..=130).contains(&slow), "{slow} of 200 delayed");
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn connection_reset_gives_connection_errors() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    let id = proxy.apply(&spec("connection-reset:for=1s")).await.unwrap();
    for _ in 0..3 {
        let err = t.score(&txn()).await.unwrap_err();
        assert!(matches!(err, TargetError::Connection { .. }), "{err}");
    }
    assert_eq!(proxy.stats().resets, 3);
    assert_eq!(up.seen.requests(), 0);
    proxy.clear(id).await.unwrap();
    assert!(
        t.score(&txn()).await.is_ok(),
        "a fresh connection works once the fault is cleared"
    );
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn network_partition_black_holes_requests_into_timeouts() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(2));
    let id = proxy
        .apply(&spec("network-partition:for=1m"))
        .await
        .unwrap();
    let t0 = Instant::now();
    let err = t.score(&txn()).await.unwrap_err();
    assert_eq!(err, TargetError::Timeout { timeout_ms: 2_000 });
    assert!(t0.elapsed() >= Duration::from_secs(2));
    assert_eq!(
        proxy.stats().black_holed,
        1,
        "the proxy accepted the request and held it"
    );
    assert_eq!(up.seen.requests(), 0);
    proxy.clear(id).await.unwrap();
    assert!(t.score(&txn()).await.is_ok());
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bandwidth_limit_makes_a_large_body_take_size_over_rate() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let client = client();
    let get = |n: usize| {
        let req = Request::get(format!("{}/big?n={n}", proxy.url()))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let fut = client.request(req);
        async move {
            let t0 = Instant::now();
            let body = fut
                .await
                .unwrap()
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes();
            (body.len(), t0.elapsed())
        }
    };
    let (len, fast) = get(20_000).await;
    assert_eq!(len, 20_000);
    assert!(fast < Duration::from_millis(100));
    let id = proxy
        .apply(&spec("bandwidth-limit:bps=10000,for=1m"))
        .await
        .unwrap();
    let (len, slow) = get(20_000).await;
    assert_eq!(len, 20_000, "the whole body arrives");
    assert!(
        slow >= Duration::from_secs(2),
        "20,000 bytes at 10,000 B/s took {slow:?}"
    );
    assert!(slow < Duration::from_millis(2_200), "{slow:?}");
    assert_eq!(proxy.stats().throttled, 1);
    proxy.clear(id).await.unwrap();
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_route_stage_limits_the_fault_to_that_route() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    proxy
        .apply(&spec("http-error:stage=/v1/score,for=1s"))
        .await
        .unwrap();
    assert_eq!(
        t.score(&txn()).await.unwrap_err(),
        TargetError::Status { status: 503 }
    );
    let resp = client()
        .request(
            Request::get(format!("{}/health", proxy.url()))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(proxy.active().await.len(), 1);
    proxy.clear_all().await.unwrap();
    assert!(proxy.active().await.is_empty());
    proxy.shutdown().await;
}

#[tokio::test]
async fn refuses_remote_and_odd_upstreams_and_reports_a_dead_one() {
    let err = FaultProxy::start(ProxyConfig {
        upstream: "http://10.0.0.1:8080".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, ProxyError::Upstream(_)) && err.to_string().contains("`allow_remote`"),
        "{err}"
    );
    let err = FaultProxy::start(ProxyConfig {
        upstream: "ftp://127.0.0.1:8443".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, ProxyError::Scheme { .. }), "{err}");
    // An https:// upstream is taken (orchestrator/tests/proxy_https.rs runs one); its TLS settings
    // are read at start, so a missing CA file is refused naming the setting.
    let err = FaultProxy::start(ProxyConfig {
        upstream: "https://127.0.0.1:8443".into(),
        tls: models::TlsSpec {
            ca_file: Some("/no/such/ca.pem".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("tls.ca_file"), "{err}");

    // A port nobody listens on: the proxy answers 502 and counts it.
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = free.local_addr().unwrap();
    drop(free);
    let proxy = FaultProxy::start(ProxyConfig {
        upstream: format!("http://{dead}"),
        ..Default::default()
    })
    .await
    .unwrap();
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    assert_eq!(
        t.score(&txn()).await.unwrap_err(),
        TargetError::Status { status: 502 }
    );
    assert_eq!(proxy.stats().upstream_errors, 1);
    let bad = proxy
        .injector()
        .clear(failure_injection::FaultId(99))
        .await
        .unwrap_err();
    assert!(matches!(bad, InjectError::UnknownFault { .. }));
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_timeline_applies_and_clears_scheduled_faults() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let t = target(&format!("{}/v1/score", proxy.url()), Duration::from_secs(5));
    let schedule = FaultSchedule::new(vec![spec("http-error:status=503,at=1s,for=2s")]);
    let mut timeline = FaultTimeline::new(schedule, proxy.injector());
    let s = Duration::from_secs;
    let step = timeline.advance(s(0), 0.0).await;
    assert!(step.events.is_empty() && step.errors.is_empty());
    assert!(t.score(&txn()).await.is_ok());

    let step = timeline.advance(s(1), 1.0).await;
    assert_eq!(
        step.events,
        vec![EventKind::FaultStarted {
            fault: FaultKind::HttpError,
            stage: None
        }]
    );
    assert_eq!(timeline.active_labels(), vec!["http_error".to_owned()]);
    assert_eq!(
        t.score(&txn()).await.unwrap_err(),
        TargetError::Status { status: 503 }
    );

    // A manual fault through the same API.
    let manual = FaultSpec::new(FaultKind::ConnectionReset, Duration::ZERO, s(1));
    timeline.inject(manual, s(2));
    let step = timeline.advance(s(2), 2.0).await;
    assert_eq!(step.events.len(), 1);
    assert_eq!(timeline.injector().active().await.len(), 2);

    let step = timeline.advance(s(3), 3.0).await;
    assert_eq!(step.events.len(), 2, "both end at 3s: {:?}", step.events);
    assert!(timeline.injector().active().await.is_empty());
    assert!(t.score(&txn()).await.is_ok());
    let windows = timeline.windows();
    assert_eq!((windows[0].start_s, windows[0].end_s), (1.0, 3.0));
    assert_eq!((windows[1].start_s, windows[1].end_s), (2.0, 3.0));
    proxy.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_timeline_reports_refused_faults() {
    let up = start_upstream().await;
    let proxy = proxy_for(&up).await;
    let mut bad = FaultSpec::new(FaultKind::HttpError, Duration::ZERO, Duration::from_secs(1));
    bad.probability = 2.0;
    let mut timeline = FaultTimeline::new(FaultSchedule::new(vec![bad]), proxy.injector());
    let step = timeline.advance(Duration::from_secs(1), 1.0).await;
    assert!(step.events.is_empty());
    assert!(
        step.errors[0].to_string().contains("from 0 to 1"),
        "{}",
        step.errors[0]
    );
    let step = timeline.advance(Duration::from_secs(2), 2.0).await;
    assert!(
        step.events.is_empty() && step.errors.is_empty(),
        "no end for a fault that never started"
    );
    proxy.shutdown().await;
}

//! The reference service over loopback HTTP: `HttpTarget` scores through it, health and metrics
//! answer, the admin endpoints need the token, and injected faults reach the client as typed errors.

use bytes::Bytes;
use fraud_sim::{Fault, FraudSim, SimConfig, StageName};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use models::{ErrorKind, FaultKind};
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig, Target};
use transaction_factory::{FactoryConfig, TransactionFactory};

async fn call(method: Method, url: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&text).into_owned())
}

fn fast_config() -> SimConfig {
    SimConfig {
        admin_token: Some("test-token".into()),
        ..SimConfig::zero_service_time()
    }
}

fn http_target(sim: &FraudSim) -> HttpTarget {
    let config = HttpTargetConfig {
        url: sim.score_url(),
        timeout: Duration::from_secs(5),
        ..HttpTargetConfig::default()
    };
    HttpTarget::new(config).unwrap()
}

#[tokio::test]
async fn scores_over_http_with_the_simulated_timing() {
    let sim = FraudSim::start(SimConfig::default()).await.unwrap();
    assert!(sim.addr().ip().is_loopback());
    assert_eq!(sim.admin_token().len(), 32, "a generated token");
    let target = http_target(&sim);
    let factory = TransactionFactory::new(1, FactoryConfig::default()).unwrap();
    let mut flagged_fraud = 0;
    for (txn, label) in factory.iter().take(60) {
        let v = target.score(&txn).await.unwrap();
        assert!((0.0..=1.0).contains(&v.risk_score));
        let names: Vec<&str> = v.agents.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, StageName::ALL.map(|s| s.as_str()));
        assert!(v.agents.iter().all(|a| a.ok));
        // Five simulated stages with means 1 + 2 + 4 + 3 + 2 ms.
        let total_us: u64 = v.agents.iter().map(|a| a.duration_us).sum();
        assert!(total_us >= 1_000, "{total_us}");
        if label.is_fraud() && v.decision.is_flagged() {
            flagged_fraud += 1;
        }
    }
    assert!(flagged_fraud > 0);
    let pd = sim.pipeline().stage(StageName::PatternDetector);
    assert_eq!(pd.requests, 60);
    assert_eq!(pd.concurrency, 22, "5,500 TPS x 4 ms");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_metrics_and_bad_requests() {
    let sim = FraudSim::start(fast_config()).await.unwrap();
    let base = sim.base_url();
    let target = http_target(&sim);
    let factory = TransactionFactory::new(2, FactoryConfig::default()).unwrap();
    for (txn, _) in factory.iter().take(20) {
        target.score(&txn).await.unwrap();
    }
    let (status, body) = call(Method::GET, &format!("{base}/health"), None, "").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""status":"ok""#), "{body}");
    let (status, body) = call(Method::GET, &format!("{base}/metrics"), None, "").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("# TYPE fraudsim_stage_latency_seconds histogram"),
        "{body}"
    );
    assert!(
        body.contains(r#"fraudsim_stage_requests_total{stage="decision_maker"} 20"#),
        "{body}"
    );
    assert!(
        body.contains(r#"fraudsim_stage_latency_seconds_count{stage="ingestion"} 20"#),
        "{body}"
    );
    assert!(
        body.contains(r#"fraudsim_stage_queue_depth{stage="pattern_detector"} 0"#),
        "{body}"
    );
    let (status, body) = call(
        Method::POST,
        &format!("{base}/v1/score"),
        None,
        r#"{"id":1}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("not a transaction"), "{body}");
    let (status, _) = call(Method::GET, &format!("{base}/v1/score"), None, "").await;
    assert_eq!(status, 405);
    let (status, _) = call(Method::GET, &format!("{base}/nope"), None, "").await;
    assert_eq!(status, 404);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn admin_needs_the_token_and_faults_become_typed_errors() {
    let sim = FraudSim::start(fast_config()).await.unwrap();
    let admin = format!("{}/admin/faults", sim.base_url());
    let target = http_target(&sim);
    let factory = TransactionFactory::new(3, FactoryConfig::default()).unwrap();
    let txn = factory.at(0).0;

    let crash = r#"{"kind":"agent_crash","stage":"decision_maker"}"#;
    assert_eq!(call(Method::POST, &admin, None, crash).await.0, 401);
    assert_eq!(
        call(Method::POST, &admin, Some("wrong-token"), crash)
            .await
            .0,
        401
    );
    assert!(sim.faults().active().is_empty());

    let (status, body) = call(Method::POST, &admin, Some("test-token"), crash).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        target.score(&txn).await.unwrap_err().kind(),
        ErrorKind::Http5xx
    );
    let (status, body) = call(Method::GET, &format!("{}/health", sim.base_url()), None, "").await;
    assert_eq!(status, 503, "{body}");
    let (status, _) = call(
        Method::DELETE,
        &format!("{admin}?kind=agent_crash&stage=decision_maker"),
        Some("test-token"),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(target.score(&txn).await.is_ok());

    // A crashed agent with a fallback: verdicts still come, marked degraded.
    let body = r#"{"kind":"agent_crash","stage":"pattern_detector"}"#;
    assert_eq!(
        call(Method::POST, &admin, Some("test-token"), body).await.0,
        200
    );
    let v = target.score(&txn).await.unwrap();
    let pd = v
        .agents
        .iter()
        .find(|a| a.name == "pattern_detector")
        .unwrap();
    assert!(!pd.ok);
    assert!(
        v.reasons.iter().any(|r| r == "fallback:pattern_detector"),
        "{:?}",
        v.reasons
    );

    let body = r#"{"kind":"db_throttle","stage":"risk_assessor","probability":1.0}"#;
    assert_eq!(
        call(Method::POST, &admin, Some("test-token"), body).await.0,
        200
    );
    assert_eq!(
        target.score(&txn).await.unwrap_err().kind(),
        ErrorKind::Http429
    );

    let body = r#"{"kind":"connection_reset","probability":1.0}"#;
    assert_eq!(
        call(Method::POST, &admin, Some("test-token"), body).await.0,
        200
    );
    assert_eq!(
        target.score(&txn).await.unwrap_err().kind(),
        ErrorKind::Connection
    );
    assert_eq!(sim.faults().active().len(), 3);

    let (status, body) = call(
        Method::POST,
        &admin,
        Some("test-token"),
        r#"{"kind":"bandwidth_limit"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("proxy"), "{body}");

    let (status, body) = call(Method::DELETE, &admin, Some("test-token"), "").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""cleared":3"#), "{body}");
    assert!(target.score(&txn).await.is_ok());

    // The Rust handle reaches the same hooks.
    sim.faults()
        .inject(Fault::new(FaultKind::ModelRateLimit).with_rate_limit(2.0))
        .unwrap();
    let results: Vec<_> = futures_free_sequence(&target, &factory, 6).await;
    let limited = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.kind() == ErrorKind::Http429))
        .count();
    assert!(
        limited >= 3,
        "at most 2 model calls in this second: {results:?}"
    );
    sim.shutdown().await.unwrap();
}

async fn futures_free_sequence(
    target: &HttpTarget,
    factory: &TransactionFactory,
    n: usize,
) -> Vec<Result<models::Verdict, targets::TargetError>> {
    let mut out = Vec::new();
    for (txn, _) in factory.iter().take(n) {
        out.push(target.score(&txn).await);
    }
    out
}

#[tokio::test]
async fn shutdown_waits_for_connections_and_frees_the_port() {
    let sim = FraudSim::start(fast_config()).await.unwrap();
    let addr = sim.addr();
    let target = http_target(&sim);
    let txn = TransactionFactory::new(4, FactoryConfig::default())
        .unwrap()
        .at(0)
        .0;
    target.score(&txn).await.unwrap();
    // The target's keep-alive connection is still open; shutdown closes it gracefully.
    tokio::time::timeout(Duration::from_secs(10), sim.shutdown())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        target.score(&txn).await.unwrap_err().kind(),
        ErrorKind::Connection
    );
    // The port can be bound again.
    let again = FraudSim::start(SimConfig {
        port: addr.port(),
        ..fast_config()
    })
    .await
    .unwrap();
    assert_eq!(again.addr(), addr);
    again.shutdown().await.unwrap();
}

//! The built-in injector: every fault kind changes the reference pipeline's answers through its hooks
//! (in process, paused clock), and clearing it brings the normal answers back.

mod common;

use common::txn;
use failure_injection::{
    BuiltinInjector, FaultProxy, InjectError, Injector, ProxyConfig, parse_fault_flag,
};
use fraud_sim::{FraudSim, Pipeline, PipelineError, SimConfig};
use models::{FaultKind, Verdict};
use std::time::Duration;
use targets::{Target, TargetError};
use tokio::time::Instant;

fn pipeline() -> (Pipeline, BuiltinInjector) {
    let p = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let inj = BuiltinInjector::new(p.faults().clone());
    (p, inj)
}

async fn timed(p: &Pipeline) -> (Result<Verdict, PipelineError>, Duration) {
    let t0 = Instant::now();
    let r = p.process(&txn()).await;
    (r, t0.elapsed())
}

fn agent_ok(v: &Verdict, name: &str) -> bool {
    v.agents
        .iter()
        .find(|a| a.name == name)
        .is_some_and(|a| a.ok)
}

#[tokio::test(start_paused = true)]
async fn every_kind_changes_the_answers_and_clearing_restores_them() {
    let (p, inj) = pipeline();
    let (normal, took) = timed(&p).await;
    let normal = normal.unwrap();
    assert!(agent_ok(&normal, "pattern_detector"));
    assert!(took < Duration::from_millis(1));

    for flag in [
        "agent-crash:stage=pattern_detector,for=1s",
        "agent-crash:stage=decision_maker,for=1s",
        "db-throttle:stage=risk_assessor,for=1s",
        "stream-lag:latency=300ms,for=1s",
        "model-rate-limit:tps=3,for=1s",
        "network-partition:for=1s",
        "latency-spike:latency=250ms,for=1s",
        "connection-reset:for=1s",
        "bandwidth-limit:bps=2048,for=1s",
        "slow-response:latency=400ms,for=1s",
        "http-error:status=502,for=1s",
    ] {
        let spec = parse_fault_flag(flag).unwrap();
        let id = inj.apply(&spec).await.unwrap();
        let (r, took) = timed(&p).await;
        match spec.kind {
            FaultKind::AgentCrash if spec.stage.as_deref() == Some("pattern_detector") => {
                let v = r.unwrap();
                assert!(!agent_ok(&v, "pattern_detector"), "{flag}: {v:?}");
                assert!(
                    v.reasons.iter().any(|r| r == "fallback:pattern_detector"),
                    "{flag}: {v:?}"
                );
            }
            FaultKind::AgentCrash => {
                assert!(
                    matches!(r, Err(PipelineError::Crashed { .. })),
                    "{flag}: {r:?}"
                );
                assert_eq!(r.unwrap_err().status(), Some(503));
            }
            FaultKind::DbThrottle => assert_eq!(r.unwrap_err().status(), Some(429), "{flag}"),
            FaultKind::StreamLag => assert!(
                r.is_ok() && took >= Duration::from_millis(300),
                "{flag}: {took:?}"
            ),
            FaultKind::LatencySpike => {
                assert!(took >= Duration::from_millis(250), "{flag}: {took:?}");
            }
            FaultKind::BandwidthLimit => {
                // 1 KiB through 2048 B/s.
                assert!(
                    r.is_ok() && took >= Duration::from_millis(500),
                    "{flag}: {took:?}"
                );
            }
            FaultKind::SlowResponse => assert!(
                r.is_ok() && took >= Duration::from_millis(400),
                "{flag}: {took:?}"
            ),
            FaultKind::ModelRateLimit => {
                // The first call above went through; two more fit in the second, then 429.
                assert!(r.is_ok(), "{flag}: {r:?}");
                let mut refused = 0;
                for _ in 0..9 {
                    if let Err(e) = p.process(&txn()).await {
                        assert_eq!(e.status(), Some(429), "{flag}: {e}");
                        refused += 1;
                    }
                }
                assert_eq!(refused, 7, "{flag}: 3 calls per second");
            }
            FaultKind::NetworkPartition | FaultKind::ConnectionReset => {
                assert_eq!(r.unwrap_err(), PipelineError::Dropped, "{flag}");
            }
            FaultKind::HttpError => assert_eq!(r.unwrap_err().status(), Some(502), "{flag}"),
        }
        assert_eq!(inj.active().await.len(), 1);
        inj.clear(id).await.unwrap();
        assert!(
            p.faults().active().is_empty(),
            "{flag}: the hook was cleared"
        );
        let (r, took) = timed(&p).await;
        let v = r.unwrap_or_else(|e| panic!("{flag}: after clearing: {e}"));
        assert!(
            agent_ok(&v, "pattern_detector") && took < Duration::from_millis(1),
            "{flag}: {v:?} {took:?}"
        );
    }
}

#[tokio::test]
async fn specs_the_target_cannot_carry_are_refused_clearly() {
    let (_p, inj) = pipeline();
    let e = inj
        .apply(&parse_fault_flag("agent-crash:stage=/v1/score,for=1s").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(e, InjectError::UnknownStage { .. }) && e.to_string().contains("risk_assessor"),
        "{e}"
    );
    let e = inj
        .apply(&parse_fault_flag("stream-lag:stage=decision_maker,for=1s").unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ingestion"), "{e}");
    assert!(inj.active().await.is_empty());
}

/// The proxy in front of the built-in target served over HTTP: verdicts pass through, faults bite.
#[tokio::test(start_paused = true)]
async fn the_proxy_in_front_of_the_built_in_service() {
    let sim = FraudSim::start(SimConfig::zero_service_time())
        .await
        .unwrap();
    let proxy = FaultProxy::start(ProxyConfig {
        upstream: sim.base_url(),
        ..Default::default()
    })
    .await
    .unwrap();
    let t = common::target(
        &proxy.proxied_url(&sim.score_url()).unwrap(),
        Duration::from_secs(5),
    );
    let v = t.score(&txn()).await.unwrap();
    assert!(v.risk_score >= 0.0);

    // The same fault once through the target's hooks and once through the proxy.
    let builtin = BuiltinInjector::new(sim.faults().clone());
    let spec = parse_fault_flag("http-error:status=503,for=1s").unwrap();
    let id = builtin.apply(&spec).await.unwrap();
    assert_eq!(
        t.score(&txn()).await.unwrap_err(),
        TargetError::Status { status: 503 }
    );
    builtin.clear(id).await.unwrap();
    let id = proxy.apply(&spec).await.unwrap();
    assert_eq!(
        t.score(&txn()).await.unwrap_err(),
        TargetError::Status { status: 503 }
    );
    proxy.clear(id).await.unwrap();
    assert!(t.score(&txn()).await.is_ok());

    proxy.shutdown().await;
    sim.shutdown().await.unwrap();
}

//! Faults against an HTTP target go through the fault-injecting proxy: a real fraud-sim server on
//! loopback, a run pointed at its URL like a user's API, faults from the scenario, real time.

use models::{ErrorKind, FaultKind, FaultSpec, Stage, TargetKind};
use orchestrator::{RunOptions, StressTestOrchestrator};
use std::time::Duration;

fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-proxy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_error_fault_on_an_http_target_gives_its_share_of_429s() {
    let sim = fraud_sim::FraudSim::start(fraud_sim::SimConfig {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut spec = orchestrator::timeline::plain(400.0, Duration::from_secs(5)).unwrap();
    spec.target.kind = TargetKind::Http;
    spec.target.url = Some(sim.score_url());
    spec.load.stages = vec![Stage::Sustained {
        tps: 400.0,
        duration: Duration::from_secs(5),
        name: None,
    }];
    let mut fault =
        failure_injection::parse_fault_flag("http-error:status=429,p=0.2,at=0s,for=5s").unwrap();
    fault.at = Duration::ZERO;
    spec.faults = vec![fault];
    let dir = out_dir("429");
    let outcome = StressTestOrchestrator::new(
        spec,
        RunOptions {
            out_dir: Some(dir.clone()),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap();
    let s = &outcome.summary;
    assert_eq!(s.target.kind, "http");
    let n429 = s
        .errors
        .by_kind
        .get(&ErrorKind::Http429)
        .copied()
        .unwrap_or(0);
    let share = n429 as f64 / s.load.completed.max(1) as f64;
    assert!(
        (share - 0.2).abs() <= 0.02,
        "429 share {share:.3} of {} answers; errors {:?}",
        s.load.completed,
        s.errors.by_kind
    );
    assert_eq!(s.resilience.faults.len(), 1);
    assert_eq!(s.resilience.faults[0].kind, FaultKind::HttpError);
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_fault_proxy_a_manual_fault_hits_an_http_target() {
    let sim = fraud_sim::FraudSim::start(fraud_sim::SimConfig {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut spec = orchestrator::timeline::plain(100.0, Duration::from_secs(2)).unwrap();
    spec.target.kind = TargetKind::Http;
    spec.target.url = Some(sim.score_url());
    let dir = out_dir("manual");
    let orch = StressTestOrchestrator::new(
        spec,
        RunOptions {
            out_dir: Some(dir.clone()),
            fault_proxy: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let control = orch.control();
    let run = tokio::spawn(orch.run());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut f = FaultSpec::new(
        FaultKind::HttpError,
        Duration::ZERO,
        Duration::from_secs(10),
    );
    f.probability = 1.0;
    f.status = Some(503);
    control.inject_fault(f).unwrap();
    let outcome = run.await.unwrap().unwrap();
    let n5xx = outcome
        .summary
        .errors
        .by_kind
        .get(&ErrorKind::Http5xx)
        .copied()
        .unwrap_or(0);
    // The manual fault ran from about 0.5 s to the end (2 s): most of the last 150 requests failed.
    assert!(n5xx > 100, "{:?}", outcome.summary.errors.by_kind);
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown().await.unwrap();
}

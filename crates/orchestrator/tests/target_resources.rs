//! The target's own resources from its Prometheus endpoint: a real fraud-sim server on loopback, a
//! run pointed at it like a user's API with `metrics_url`, real time.

use models::{Stage, TargetKind};
use orchestrator::{RunOptions, StressTestOrchestrator};
use std::time::Duration;

fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-tres-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn spec_for(score_url: String, metrics_url: String) -> models::ScenarioSpec {
    let mut spec = orchestrator::timeline::plain(200.0, Duration::from_secs(3)).unwrap();
    spec.target.kind = TargetKind::Http;
    spec.target.url = Some(score_url);
    spec.target.metrics_url = Some(metrics_url);
    spec.target.metrics = vec![
        "fraudsim_stage_requests_total".into(),
        "no_such_gauge".into(),
    ];
    spec.load.stages = vec![Stage::Sustained {
        tps: 200.0,
        duration: Duration::from_secs(3),
        name: None,
    }];
    spec
}

async fn run(spec: models::ScenarioSpec, name: &str) -> orchestrator::RunOutcome {
    StressTestOrchestrator::new(
        spec,
        RunOptions {
            out_dir: Some(out_dir(name)),
            tick: Duration::from_millis(500),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_targets_cpu_memory_and_gauges_are_read_at_every_tick() {
    let sim = fraud_sim::FraudSim::start(fraud_sim::SimConfig {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let spec = spec_for(sim.score_url(), format!("{}/metrics", sim.base_url()));
    let outcome = run(spec, "ok").await;
    let s = &outcome.summary;
    // The summary says which HTTP version (and engine) the connections spoke.
    assert_eq!(s.target.protocol.as_deref(), Some("HTTP/1.1 (lean engine)"));
    let tr = s.target_resources.as_ref().expect("target_resources");
    assert_eq!(tr.failed_scrapes, 0, "{tr:?}");
    assert!(tr.scrapes >= 5, "{tr:?}");
    // The server runs in this test's process: its resident memory is this process's.
    assert!(tr.peak_rss_mb.unwrap() > 1.0, "{tr:?}");
    assert!(
        tr.max_cpu_pct.unwrap() > 0.0,
        "the process served 600 requests: {tr:?}"
    );
    // A counter followed as a gauge: summed over the stages, it grows with the requests served.
    let served = tr.gauges["fraudsim_stage_requests_total"];
    assert!(
        served.last >= s.load.completed as f64,
        "{served:?} vs {}",
        s.load.completed
    );
    assert!(!tr.gauges.contains_key("no_such_gauge"));

    let ticks: Vec<models::IntervalSnapshot> =
        run_files::folder::read_lines(&outcome.dir.join(run_files::names::INTERVALS))
            .unwrap()
            .unwrap()
            .items;
    let with_target = ticks
        .iter()
        .filter(|t| t.resources.target.is_some())
        .count();
    assert!(with_target >= 5, "{with_target} of {} ticks", ticks.len());
    assert!(
        ticks[0].resources.target.is_some(),
        "the first tick has a CPU rate: the scrape before the load primes it"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_scrape_is_counted_and_the_run_goes_on() {
    let sim = fraud_sim::FraudSim::start(fraud_sim::SimConfig {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    // A path the server answers with 404.
    let spec = spec_for(
        sim.score_url(),
        format!("{}/no-metrics-here", sim.base_url()),
    );
    let outcome = run(spec, "fail").await;
    let s = &outcome.summary;
    assert_eq!(s.end_reason, "completed");
    assert!(s.load.completed > 500, "{:?}", s.load);
    let tr = s.target_resources.as_ref().expect("target_resources");
    assert_eq!(tr.scrapes, 0);
    assert!(tr.failed_scrapes >= 5, "{tr:?}");
    let reason = tr.first_failure.as_deref().unwrap();
    assert!(
        reason.contains("HTTP 404") && reason.contains("metrics_url"),
        "{reason}"
    );
    sim.shutdown().await.unwrap();
}

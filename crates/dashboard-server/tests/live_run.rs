//! A dashboard wired to a real orchestrator run (in-process target, paused clock): the run's frames
//! and events reach the feed as they happen, and at the end every headline figure is the summary's.

use dashboard_server::{DashboardConfig, FeedConfig, LiveDashboard};
use models::{RunState, TargetKind};
use orchestrator::{RunOptions, StressTestOrchestrator, timeline};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_live_run_feeds_the_dashboard_and_ends_with_its_summary() {
    let mut spec = timeline::plain(200.0, Duration::from_secs(5)).unwrap();
    spec.target.kind = TargetKind::InProcess;
    let out =
        std::env::temp_dir().join(format!("fraudstress-dashboard-live-{}", std::process::id()));
    let options = RunOptions {
        out_dir: Some(out.clone()),
        ..RunOptions::default()
    };
    let orch = StressTestOrchestrator::new(spec.clone(), options).unwrap();
    let control = orch.control();
    let feed = FeedConfig {
        cost_model: spec.cost.clone(),
        mix: Some(spec.mix),
        ..FeedConfig::default()
    };
    let mut dash = LiveDashboard::start(DashboardConfig::default(), feed, control.clone())
        .await
        .unwrap();

    let outcome = orch.run().await.unwrap();
    let s = &outcome.summary;
    assert!(
        s.load.completed > 500,
        "the run did work: {}",
        s.load.completed
    );
    dash.finish(s.clone()).await.unwrap();
    let status = dash.feed().status();
    assert!(
        status.ticks >= 5,
        "every tick reached the feed: {}",
        status.ticks
    );
    assert!(
        status.events >= 3,
        "state changes and the phase reached the feed"
    );
    assert_eq!(status.state, RunState::Completed);
    let h = status.headline.unwrap();
    assert!(h.final_);
    assert_eq!(h.transactions, s.load.completed);
    assert_eq!(h.fraud_blocked, s.fraud.tp);
    assert_eq!(h.money_saved, s.fraud.prevented_amount);
    assert_eq!(h.uptime_pct, s.resilience.uptime_pct);
    assert_eq!(h.accuracy, s.fraud.accuracy);
    assert_eq!(h.tps, s.load.achieved_tps_avg);
    assert_eq!(h.recall, s.fraud.recall);
    assert_eq!(h.precision, s.fraud.precision);
    assert_eq!(h.roi_pct, Some(s.business.roi_pct));
    assert_eq!(h.false_decline_loss, s.business.false_decline_loss);
    assert_eq!(
        s.mix,
        Some(spec.mix),
        "the summary records the declared mix"
    );
    assert_eq!(
        h.target.as_deref(),
        Some("the built-in reference pipeline, in process")
    );
    assert_eq!(
        h.traffic.as_deref(),
        Some("15% fraud, 5% edge cases, synthetic")
    );
    assert_eq!(dash.feed().summary_value().as_ref(), Some(s));
    // The narrative line is written from the run's own measurements.
    assert!(status.narrative.contains("TPS"), "{}", status.narrative);
    dash.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&out);
}

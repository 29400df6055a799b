//! Embedding the load generator: transaction-factory + load-profiles + metrics-core + targets +
//! load-driver, against a closure target. Copy this file to start your own stress test; for an HTTP
//! endpoint, pass an HTTP target from the `targets` crate instead of the closure.
//!
//! Runs under tokio's paused clock, so the 2-second profile takes milliseconds of real time.

use load_driver::{Driver, DriverConfig, DriverControl};
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder};
use models::{AgentTiming, Arrival, Decision, LoadProfile, Stage, Verdict};
use std::sync::Arc;
use std::time::Duration;
use targets::FnTarget;
use transaction_factory::{FactoryConfig, MIN_CUSTOMERS, MIN_MERCHANTS, TransactionFactory};

#[tokio::test(start_paused = true)]
async fn a_two_second_sustained_run_against_a_closure() {
    // 1. What to send: 500 TPS for 2 s, evenly spaced, transactions from a seeded factory.
    let profile = Profile::new(&LoadProfile {
        arrival: Arrival::Uniform,
        stages: vec![Stage::Sustained {
            tps: 500.0,
            duration: Duration::from_secs(2),
            name: Some("steady".into()),
        }],
    })
    .expect("valid profile");
    let schedule = Schedule::new(profile, Arrival::Uniform, 42);
    let factory_config = FactoryConfig {
        customers: MIN_CUSTOMERS,
        merchants: MIN_MERCHANTS,
        ..FactoryConfig::default()
    };
    let factory =
        Arc::new(TransactionFactory::new(42, factory_config).expect("valid factory config"));

    // 2. The system under test: here a closure that declines big amounts after 5 ms.
    let target = Arc::new(FnTarget::new(|txn: &models::Transaction| {
        let big = txn.amount_major() > 1_000.0;
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let decision = if big {
                Decision::Decline
            } else {
                Decision::Approve
            };
            let agents = vec![AgentTiming {
                name: "rules".into(),
                duration_us: 5_000,
                ok: true,
            }];
            Ok(Verdict {
                decision,
                risk_score: if big { 0.9 } else { 0.1 },
                reasons: vec![],
                agents,
            })
        }
    }));

    // 3. Metrics, with a ticker producing one snapshot per second.
    let recorder = Recorder::new(MetricsConfig::default()).expect("valid metrics config");
    let ticker_recorder = recorder.clone();
    let ticker = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let mut snapshots = Vec::new();
        for s in 1..=3u64 {
            // Half a millisecond past each second, so that each tick closes a whole second of sends.
            tokio::time::sleep_until(start + Duration::from_secs(s) + Duration::from_micros(500))
                .await;
            snapshots.push(ticker_recorder.tick(start.elapsed()));
        }
        snapshots
    });

    // 4. Run; `control` could pause, resume, change the rate or stop it meanwhile.
    let control = DriverControl::new();
    let driver = Driver::new(
        schedule,
        factory,
        target,
        recorder.clone(),
        DriverConfig::default(),
        control.clone(),
    )
    .expect("valid driver config");
    let report = driver.run().await.expect("run");
    let snapshots = ticker.await.expect("ticker");

    assert_eq!(
        (
            report.scheduled,
            report.sent,
            report.completed,
            report.dropped
        ),
        (1_000, 1_000, 1_000, 0)
    );
    assert_eq!(snapshots[0].sent, 500);
    assert_eq!(snapshots[1].sent, 500);
    assert!(
        (snapshots[1].achieved_tps - 500.0).abs() < 2.0,
        "{}",
        snapshots[1].achieved_tps
    );
    let summary = recorder.summary(Duration::from_secs(2));
    // Sent on time, answered in 5 ms: latency and service time agree.
    assert!(
        (summary.latency_ms.p50 - 5.0).abs() < 0.1,
        "{:?}",
        summary.latency_ms
    );
    assert!((summary.latency_ms.p99 - summary.service_time_ms.p99).abs() < 0.1);
    assert_eq!(
        summary.fraud.tp + summary.fraud.fp + summary.fraud.tn + summary.fraud.fn_,
        1_000
    );
    assert_eq!(summary.agents[0].requests, 1_000);
    assert!(
        serde_json::to_string(&snapshots[1])
            .unwrap()
            .contains("\"latency_ms\"")
    );
}

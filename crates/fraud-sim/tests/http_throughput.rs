//! How many requests per second the HTTP service and `HttpTarget` carry together in one process on
//! this machine (closed loop, no simulated service time): the figure behind the default capacity.
//! Ignored by default (it takes seconds and wants a release build):
//! `cargo test --release -p fraud-sim --test http_throughput -- --ignored --nocapture`.

use fraud_sim::{FraudSim, ServiceTime, SimConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use targets::{HttpTarget, HttpTargetConfig, Target};
use transaction_factory::{FactoryConfig, TransactionFactory};

async fn closed_loop(sim: &FraudSim, workers: usize, secs: f64) -> f64 {
    let config = HttpTargetConfig {
        url: sim.score_url(),
        connections: workers,
        ..HttpTargetConfig::default()
    };
    let target = Arc::new(HttpTarget::new(config).unwrap());
    let factory = TransactionFactory::new(5, FactoryConfig::default()).unwrap();
    let txns: Arc<Vec<_>> = Arc::new(factory.iter().take(20_000).map(|(t, _)| t).collect());
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (target, txns) = (target.clone(), txns.clone());
        tasks.spawn(async move {
            let mut done = 0u64;
            let mut i = w;
            while Instant::now() < deadline {
                target.score(&txns[i % txns.len()]).await.unwrap();
                done += 1;
                i += workers;
            }
            done
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
async fn http_round_trips_per_second() {
    for (mode, service_time) in [
        ("zero service time", ServiceTime::Zero),
        ("simulated", ServiceTime::Simulated),
    ] {
        let sim = FraudSim::start(SimConfig {
            service_time,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        for workers in [16, 64, 128] {
            let rps = closed_loop(&sim, workers, 3.0).await;
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{mode}, {workers} connections: {rps:.0} requests/s");
            }
            assert!(rps > 100.0);
        }
        sim.shutdown().await.unwrap();
    }
}

//! Against the built-in pipeline in-process with a configured capacity of 3,000 TPS (real time,
//! about two minutes, so ignored by plain `cargo test`; `cargo xtask test` runs it). The built-in
//! target over HTTP is tested the same way by `bins/stress-runner/tests/capacity.rs`.

use capacity::{SearchConfig, Slo, StepConfig, StepRunner, StopReason, TargetChoice};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "real-time load for about two minutes"]
async fn in_process_capacity_3000_is_found_within_10_percent() {
    let dir = std::env::temp_dir().join(format!("capacity-inproc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let slo = Slo::parse("p99<50ms,error_rate<1%,throughput>=98%").unwrap();
    let search_cfg = SearchConfig {
        min_tps: 500.0,
        max_tps: 8000.0,
        ..SearchConfig::default()
    };
    let step_cfg = StepConfig {
        warmup: Duration::from_secs(2),
        duration: Duration::from_secs(4),
        max_tps: search_cfg.max_tps,
        ..StepConfig::default()
    };
    let mut runner = StepRunner::start(
        TargetChoice::InProcess {
            capacity: Some(3000.0),
        },
        step_cfg,
        &dir,
    )
    .await
    .unwrap();
    let out = capacity::search(&search_cfg, &slo, &mut runner, &mut capacity::Quiet)
        .await
        .unwrap();
    runner.shutdown().await.unwrap();
    assert_eq!(out.stop, StopReason::Converged);
    let answer = out.max_sustainable_tps.unwrap();
    assert!(
        (answer - 3000.0).abs() <= 300.0,
        "answer {answer} TPS for a capacity of 3,000: {:#?}",
        out.rates
    );
    let _ = std::fs::remove_dir_all(&dir);
}

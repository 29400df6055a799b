//! The timing model on tokio's paused clock: below capacity a request takes about the sum of the
//! stages' mean service times; past it queues grow, the pattern detector is skipped after its deadline,
//! and injected latency and stream lag show up in the timings.

use fraud_sim::{Fault, Pipeline, SimConfig, StageName};
use models::{FaultKind, Verdict};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use transaction_factory::{FactoryConfig, TransactionFactory};

struct Run {
    latencies: Vec<Duration>,
    verdicts: Vec<Verdict>,
    errors: usize,
    max_pd_queue: usize,
}

/// Sends `rate` transactions per second for `secs` seconds (open model: each at its own time, whatever
/// the answers do) and collects what comes back.
async fn drive(pipeline: &Pipeline, rate: f64, secs: f64) -> Run {
    let factory = TransactionFactory::new(9, FactoryConfig::default()).unwrap();
    let n = (rate * secs) as usize;
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    let mut max_pd_queue = 0;
    for (i, (txn, _)) in factory.iter().take(n).enumerate() {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        max_pd_queue = max_pd_queue.max(pipeline.stage(StageName::PatternDetector).queue_depth);
        let p = pipeline.clone();
        tasks.spawn(async move {
            let sent = Instant::now();
            let r = p.process(&txn).await;
            (sent.elapsed(), r)
        });
    }
    let mut run = Run {
        latencies: Vec::new(),
        verdicts: Vec::new(),
        errors: 0,
        max_pd_queue,
    };
    while let Some(done) = tasks.join_next().await {
        let (latency, result) = done.unwrap();
        run.latencies.push(latency);
        match result {
            Ok(v) => run.verdicts.push(v),
            Err(_) => run.errors += 1,
        }
    }
    run
}

fn mean_ms(d: &[Duration]) -> f64 {
    d.iter().map(Duration::as_secs_f64).sum::<f64>() / d.len() as f64 * 1e3
}

fn skipped_share(run: &Run, stage: &str) -> f64 {
    let skipped = run
        .verdicts
        .iter()
        .filter(|v| v.agents.iter().any(|a| a.name == stage && !a.ok))
        .count();
    skipped as f64 / run.verdicts.len() as f64
}

#[tokio::test(start_paused = true)]
async fn below_capacity_latency_is_the_sum_of_service_times() {
    let pipeline = Pipeline::new(&SimConfig::default()).unwrap();
    let run = drive(&pipeline, 2_000.0, 1.0).await;
    assert_eq!(run.errors, 0);
    let mean = mean_ms(&run.latencies);
    // 1 + 2 + 4 + 3 + 2 ms of service, plus a little queueing.
    assert!((11.0..15.0).contains(&mean), "mean latency {mean:.2} ms");
    assert_eq!(skipped_share(&run, "pattern_detector"), 0.0);
    let pd = pipeline.stage(StageName::PatternDetector);
    let utilization = pd.busy.as_secs_f64() / (1.0 * pd.concurrency as f64);
    assert!(
        (0.3..0.45).contains(&utilization),
        "2,000 of 5,500 TPS: {utilization:.3}"
    );
}

#[tokio::test(start_paused = true)]
async fn capacity_is_coped_with_and_past_it_latency_climbs_and_the_pattern_detector_is_skipped() {
    let pipeline = Pipeline::new(&SimConfig::default()).unwrap();
    let calm = drive(&pipeline, 2_000.0, 0.5).await;
    let busy = drive(&pipeline, 5_000.0, 1.0).await;
    assert_eq!(busy.errors, 0);
    assert!(
        mean_ms(&busy.latencies) < 20.0,
        "5,000 TPS: {:.1} ms",
        mean_ms(&busy.latencies)
    );
    let pd = pipeline.stage(StageName::PatternDetector);
    let busy_share = pd.busy.as_secs_f64() / (1.5 * pd.concurrency as f64);
    assert!(
        busy_share > 0.6,
        "the pattern detector worked {busy_share:.2} of the time"
    );
    assert!(
        skipped_share(&busy, "pattern_detector") < 0.02,
        "5,000 TPS is coped with"
    );

    let overload = drive(&pipeline, 8_000.0, 1.0).await;
    let skipped = skipped_share(&overload, "pattern_detector");
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "mean latency: 2,000 TPS {:.1} ms, 5,000 TPS {:.1} ms, 8,000 TPS {:.1} ms; pattern detector skipped at 8,000 TPS: {:.3}, max queue {}",
            mean_ms(&calm.latencies),
            mean_ms(&busy.latencies),
            mean_ms(&overload.latencies),
            skipped,
            overload.max_pd_queue
        );
    }
    assert!(
        skipped > 0.2,
        "8,000 TPS saturates the pattern detector: {skipped:.3} skipped"
    );
    assert!(
        overload.max_pd_queue > 100,
        "its queue grew to {}",
        overload.max_pd_queue
    );
    assert!(
        mean_ms(&overload.latencies) > 2.0 * mean_ms(&busy.latencies),
        "latency climbs past capacity"
    );
    assert!(
        overload
            .verdicts
            .iter()
            .any(|v| v.reasons.iter().any(|r| r == "fallback:pattern_detector"))
    );
    // The deadline bounds the wait, so the skipped ones still get a verdict quickly.
    let p99 = {
        let mut l = overload.latencies.clone();
        l.sort();
        l[l.len() * 99 / 100]
    };
    assert!(p99 < Duration::from_millis(400), "p99 {p99:?}");
}

#[tokio::test(start_paused = true)]
async fn injected_latency_and_stream_lag_show_in_the_timings() {
    let pipeline = Pipeline::new(&SimConfig::default()).unwrap();
    let faults = pipeline.faults().clone();
    faults
        .inject(
            Fault::new(FaultKind::LatencySpike)
                .at(StageName::RiskAssessor)
                .with_latency(Duration::from_millis(30), Duration::ZERO),
        )
        .unwrap();
    let run = drive(&pipeline, 500.0, 1.0).await;
    let ra = run.verdicts[0]
        .agents
        .iter()
        .find(|a| a.name == "risk_assessor")
        .unwrap();
    assert!(ra.duration_us >= 30_000, "{ra:?}");
    faults.clear_all();

    let lag = faults
        .inject(
            Fault::new(FaultKind::StreamLag)
                .with_latency(Duration::from_millis(500), Duration::ZERO),
        )
        .unwrap();
    let run = drive(&pipeline, 500.0, 1.0).await;
    assert!(
        run.latencies
            .iter()
            .all(|l| *l >= Duration::from_millis(500))
    );
    assert!(faults.clear(lag));
    let run = drive(&pipeline, 500.0, 1.0).await;
    assert!(mean_ms(&run.latencies) < 20.0);
}

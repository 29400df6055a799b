//! One `Shard::record` call: single-threaded, from 2 threads (one shard each), and from 2 threads
//! while a third ticks the recorder as fast as it can (far more often than the 1 s of a real run);
//! and what a worker does per request, `record_sent` then `record`.

use criterion::{Criterion, criterion_group, criterion_main};
use metrics_core::{MetricsConfig, Recorder, Shard, Timing};
use models::{AgentTiming, Decision, FraudPattern, GroundTruth, Transaction, Verdict};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn txn() -> Transaction {
    serde_json::from_str(
        r#"{"id":"txn_000000000001","timestamp":"2026-01-01T00:00:00.000000Z","amount_minor":5000,
        "currency":"EUR","card_id":"card_000000000001","customer_id":"cus_000000000001",
        "merchant_id":"mer_000000000001","merchant_name":"Shop","mcc":5812,"channel":"ecommerce",
        "country":"DE","lat":0.0,"lon":0.0}"#,
    )
    .expect("valid transaction")
}

fn verdict(agents: usize) -> Verdict {
    let names = [
        "transaction_analyzer",
        "pattern_detector",
        "risk_assessor",
        "decision_maker",
    ];
    Verdict {
        decision: Decision::Decline,
        risk_score: 0.9,
        reasons: vec![],
        agents: names[..agents]
            .iter()
            .map(|n| AgentTiming {
                name: (*n).into(),
                duration_us: 850,
                ok: true,
            })
            .collect(),
    }
}

fn timing(i: u64) -> Timing {
    let t = Duration::from_micros(i * 20);
    Timing::new(
        t,
        t + Duration::from_micros(i % 300),
        t + Duration::from_micros(900 + i % 5000),
    )
}

/// Precomputed so that the benchmark times `record`, not building its input.
fn timings() -> Vec<Timing> {
    (0..1024).map(timing).collect()
}

fn run_threads(shards: &mut [Shard], iters: u64, v: &Verdict, tx: &Transaction) -> Duration {
    let ts = timings();
    let start = Instant::now();
    std::thread::scope(|s| {
        for shard in shards.iter_mut() {
            let ts = &ts;
            s.spawn(move || {
                let truth = GroundTruth::Fraud {
                    pattern: FraudPattern::Velocity,
                };
                for i in 0..iters as usize {
                    shard.record(black_box(ts[i & 1023]), tx, truth, Ok(v));
                }
            });
        }
    });
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let tx = txn();
    let truth = GroundTruth::Fraud {
        pattern: FraudPattern::Velocity,
    };
    let mut g = c.benchmark_group("record");
    for agents in [0, 4] {
        let v = verdict(agents);
        let recorder = Recorder::new(MetricsConfig::default()).expect("default config");
        let mut shard = recorder.shard();
        let ts = timings();
        let mut i = 0usize;
        g.bench_function(format!("1_thread/{agents}_agents"), |b| {
            b.iter(|| {
                i += 1;
                shard.record(black_box(ts[i & 1023]), &tx, truth, Ok(black_box(&v)));
            })
        });
    }
    for agents in [0, 4] {
        let v = verdict(agents);
        let recorder = Recorder::new(MetricsConfig::default()).expect("default config");
        let mut shard = recorder.shard();
        let ts = timings();
        let mut i = 0usize;
        g.bench_function(format!("1_thread/sent_and_record/{agents}_agents"), |b| {
            b.iter(|| {
                i += 1;
                shard.record_sent();
                shard.record(black_box(ts[i & 1023]), &tx, truth, Ok(black_box(&v)));
            })
        });
    }
    let v = verdict(0);
    let recorder = Recorder::new(MetricsConfig::default()).expect("default config");
    let mut shards = [recorder.shard(), recorder.shard()];
    g.bench_function("2_threads/0_agents", |b| {
        b.iter_custom(|iters| run_threads(&mut shards, iters, &v, &tx))
    });

    let stop = AtomicBool::new(false);
    let ticker_recorder = recorder.clone();
    std::thread::scope(|s| {
        let stop = &stop;
        s.spawn(move || {
            let mut t = 0u64;
            while !stop.load(Ordering::Relaxed) {
                t += 1;
                black_box(ticker_recorder.tick(Duration::from_millis(t)));
            }
        });
        g.bench_function("2_threads_and_busy_ticker/0_agents", |b| {
            b.iter_custom(|iters| run_threads(&mut shards, iters, &v, &tx))
        });
        stop.store(true, Ordering::Relaxed);
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

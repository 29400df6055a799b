//! The orchestrator's per-tick work, which must stay small and flat over a long run: judging an
//! `abort_on_fail` latency criterion at tick 3,600 (an hour in), the degradation tracker, and the
//! end-of-run evaluation of a windowed p99 over an hour of ticks.

use criterion::{Criterion, criterion_group, criterion_main};
use models::{
    AgentStats, Comparison, CriterionSpec, EncodedHistograms, IntervalSnapshot, Percentiles,
    Summary,
};
use orchestrator::{criteria, histogram, resilience};
use std::hint::black_box;
use std::time::Duration;

fn ticks(n: usize) -> Vec<IntervalSnapshot> {
    (0..n)
        .map(|i| {
            let mut h = histogram::empty();
            for k in 0..2_000u64 {
                h.record(5_000 + (k * 37 + i as u64 * 11) % 20_000).unwrap();
            }
            let enc = histogram::encode(&h);
            IntervalSnapshot {
                t_s: i as f64 + 1.0,
                interval_s: 1.0,
                scheduled: 2_000,
                sent: 2_000,
                completed: 2_000,
                ok: 2_000,
                achieved_tps: 2_000.0,
                latency_ms: Percentiles {
                    count: 2_000,
                    mean: 15.0,
                    p99: 24.8,
                    ..Default::default()
                },
                agents: vec![AgentStats {
                    name: "pattern_detector".into(),
                    requests: 2_000,
                    success_rate: 1.0,
                    ..Default::default()
                }],
                histograms: Some(EncodedHistograms {
                    latency_us: enc.clone(),
                    service_time_us: enc,
                }),
                ..Default::default()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let run = ticks(3_601);
    let mut abort = CriterionSpec::new("latency_ms.p99", Comparison::Lt, 1_000.0);
    abort.abort_on_fail = true;
    let specs = [abort];

    // An hour of ticks already judged; each iteration judges one more (the same last tick again).
    let mut watch = criteria::AbortWatch::new(&specs);
    for n in 1..run.len() {
        watch.check(&run[..n]);
    }
    c.bench_function("abort_check_at_tick_3600", |b| {
        b.iter(|| black_box(watch.check(&run)))
    });

    c.bench_function("degradation_observe", |b| {
        let mut t = failure_injection::DegradationTracker::new(resilience::degradation_thresholds(
            &Default::default(),
            None,
        ));
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % run.len();
            black_box(t.observe(&run[i]))
        })
    });

    let mut windowed = CriterionSpec::new("latency_ms.p99", Comparison::Lt, 500.0);
    windowed.from = Some(Duration::from_secs(60));
    c.bench_function("evaluate_windowed_p99_over_3600_ticks", |b| {
        b.iter(|| {
            black_box(criteria::evaluate(
                std::slice::from_ref(&windowed),
                models::WhenUnmeasured::Fail,
                &Summary::default(),
                &run,
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

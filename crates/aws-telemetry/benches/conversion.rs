//! Cost of turning one interval snapshot into datums (histogram decode + Values/Counts), which the
//! sink does once per snapshot, and of batching a long run's datums.

use aws_telemetry::batching::{BatchLimits, batch_datums};
use aws_telemetry::datums::{DatumContext, snapshot_datums};
use criterion::{Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use models::{EncodedHistograms, IntervalSnapshot};
use std::hint::black_box;
use std::time::SystemTime;

fn snapshot(samples: u64) -> IntervalSnapshot {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    // A long-tailed spread over 0.5 ms .. 2 s: thousands of distinct buckets.
    for i in 0..samples {
        let x = (i * 2_654_435_761) % 1_000_000;
        h.record(500 + x * x / 500_000).unwrap();
    }
    IntervalSnapshot {
        t_s: 10.0,
        sent: samples,
        completed: samples,
        histograms: Some(EncodedHistograms {
            latency_us: run_files::histogram::encode(&h),
            service_time_us: String::new(),
        }),
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let ctx = DatumContext {
        run_id: "bench".into(),
        scenario: "bench".into(),
        worker: None,
        run_started_at: SystemTime::now(),
        high_resolution: false,
    };
    let s = snapshot(50_000);
    c.bench_function("snapshot_datums_50k_samples", |b| {
        b.iter(|| snapshot_datums(black_box(&s), &ctx))
    });
    let datums: Vec<_> = (0..450)
        .flat_map(|_| snapshot_datums(&s, &ctx).datums)
        .collect();
    c.bench_function("batch_3600_datums", |b| {
        b.iter(|| batch_datums(black_box(datums.clone()), BatchLimits::default()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

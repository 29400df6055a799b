//! Arrivals generated per second, per shape and arrival mode.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use load_profiles::{Profile, Schedule, Segment, ShapeSpec};
use models::Arrival;
use std::hint::black_box;
use std::sync::Arc;

/// Arrivals drawn per iteration.
const N: u64 = 1_000_000;

fn profile(shape: &str) -> Arc<Profile> {
    Arc::new(
        ShapeSpec::parse(shape)
            .expect("bench shape")
            .profile(42)
            .expect("bench profile"),
    )
}

fn bench(c: &mut Criterion) {
    // Every shape runs at least 1M arrivals past its start.
    let shapes = [
        ("sustained", "sustained:50000@60s"),
        ("ramp", "ramp:0..50000@60s"),
        ("burst", "burst:20000/80000~5s/1s@60s"),
        ("wave", "wave:40000+-20000~10s@60s"),
        ("chaos", "chaos:40000~0.1/90000/0.05@60s"),
    ];
    let mut group = c.benchmark_group("schedule");
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    for (name, shape) in shapes {
        let p = profile(shape);
        for (mode, arrival) in [("uniform", Arrival::Uniform), ("poisson", Arrival::Poisson)] {
            group.bench_function(format!("{name}/{mode}"), |b| {
                b.iter(|| {
                    let mut last = None;
                    for a in Schedule::new(p.clone(), arrival, 7).take(N as usize) {
                        last = Some(black_box(a));
                    }
                    last
                })
            });
        }
    }
    // One worker of four: uniform jumps straight to its own arrivals, Poisson draws every gap.
    let p = profile("wave:40000+-20000~10s@200s");
    for (mode, arrival) in [("uniform", Arrival::Uniform), ("poisson", Arrival::Poisson)] {
        group.bench_function(format!("wave/{mode}/segment-1-of-4"), |b| {
            b.iter(|| {
                let seg = Segment::new(1, 4).expect("segment");
                let mut last = None;
                for a in Schedule::new(p.clone(), arrival, 7)
                    .segment(seg)
                    .take(N as usize)
                {
                    last = Some(black_box(a));
                }
                last
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

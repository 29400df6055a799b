//! Transactions per second per core: sequential iteration and random access.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use transaction_factory::{FactoryConfig, TransactionFactory};

fn generate(c: &mut Criterion) {
    let factory =
        TransactionFactory::new(42, FactoryConfig::default()).expect("default config is valid");
    let mut group = c.benchmark_group("generate");
    const N: u64 = 100_000;
    group.throughput(Throughput::Elements(N));
    group.bench_function("iter_100k", |b| {
        b.iter(|| {
            for item in factory.iter_from(black_box(1_000_000)).take(N as usize) {
                black_box(item);
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    let mut k = 0u64;
    group.bench_function("at_random", |b| {
        b.iter(|| {
            k = k
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            black_box(factory.at(black_box(k >> 20)))
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);

//! The in-process pipeline with no simulated service time: the cost of the detection logic, the
//! stage bookkeeping and the card store per transaction.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fraud_sim::{Pipeline, SimConfig};
use std::hint::black_box;
use transaction_factory::{FactoryConfig, TransactionFactory};

fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let factory = TransactionFactory::new(11, FactoryConfig::default()).unwrap();
    let txns: Vec<_> = factory.iter().take(100_000).map(|(t, _)| t).collect();
    let p = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let mut i = 0;
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("process_zero_service_time", |b| {
        b.iter(|| {
            i = (i + 1) % txns.len();
            black_box(runtime.block_on(p.process(&txns[i])).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);

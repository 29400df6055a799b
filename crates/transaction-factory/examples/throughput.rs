//! Generates transactions as fast as one core allows and reports the rate. Run it in release, ideally
//! under `perf stat -e task-clock` on a busy machine (the CPU time is then the honest figure):
//! `cargo run --release -p transaction-factory --example throughput -- 5000000`.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;
use transaction_factory::{FactoryConfig, TransactionFactory};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let factory =
        TransactionFactory::new(42, FactoryConfig::default()).expect("default config is valid");
    let started = Instant::now();
    let mut fraud = 0usize;
    for (txn, label) in factory.iter().take(n) {
        fraud += usize::from(label.is_fraud());
        black_box(txn);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} transactions ({fraud} fraud) in {secs:.3} s wall: {:.0} per second",
        n as f64 / secs
    );
}

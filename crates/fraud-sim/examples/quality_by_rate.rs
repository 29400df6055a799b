//! Detection quality of the built-in detector against the factory's stream, by stream rate and
//! population, with no simulated service time (detection logic only).
//!
//! `cargo run --release -p fraud-sim --example quality_by_rate -- RATE SECONDS [CUSTOMERS [STREAM_RATE]]`

use fraud_sim::{Pipeline, SimConfig};
use transaction_factory::{FactoryConfig, TransactionFactory};

#[derive(Default, Clone, Copy)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
}

#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000.0);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60);
    let mut config = FactoryConfig {
        rate_tps: rate,
        ..FactoryConfig::default()
    };
    if let Some(c) = args.get(3).and_then(|a| a.parse().ok()) {
        config.customers = c;
    }
    if let Some(r) = args.get(4).and_then(|a| a.parse().ok()) {
        config.rate_tps = r;
    }
    let factory = TransactionFactory::new(42, config).unwrap();
    let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
    let per_tick = (rate as u64).max(1);
    let mut total = Tally::default();
    let mut stream = factory.iter();
    let mut reasons: std::collections::BTreeMap<String, u64> = Default::default();
    for s in 0..secs {
        let mut t = Tally::default();
        for (txn, label) in stream.by_ref().take(per_tick as usize) {
            let v = pipeline.process(&txn).await.unwrap();
            let flagged = v.decision.is_flagged();
            match (label.is_fraud(), flagged) {
                (true, true) => t.tp += 1,
                (true, false) => t.fn_ += 1,
                (false, true) => {
                    t.fp += 1;
                    *reasons
                        .entry(format!("{}:{}", label.pattern_name(), v.reasons.join("+")))
                        .or_default() += 1;
                }
                (false, false) => {}
            }
        }
        total.tp += t.tp;
        total.fp += t.fp;
        total.fn_ += t.fn_;
        if s % 10 == 9 || s == 0 {
            println!(
                "t={:>3}s recall {:.3} precision {:.3}",
                s + 1,
                t.recall(),
                t.precision()
            );
        }
    }
    println!(
        "overall rate {rate} secs {secs}: recall {:.3} precision {:.3} (tp {} fp {} fn {})",
        total.recall(),
        total.precision(),
        total.tp,
        total.fp,
        total.fn_
    );
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    top.truncate(15);
    println!("top false positives (label:reasons): {top:?}");
}

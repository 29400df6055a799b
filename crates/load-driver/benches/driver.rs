//! The driver's throughput against an in-process closure target: achieved TPS and CPU-seconds at
//! a few planned rates, 3 s each. Prints one line per rate (a report, not a criterion measurement).

#![allow(clippy::print_stdout)]

use load_driver::bench_inprocess;
use std::time::Duration;

fn main() {
    // `cargo bench` passes `--bench`; honour a rate list after `--` as well (`-- 20000 50000`).
    let rates: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rates = if rates.is_empty() {
        vec![10_000.0, 50_000.0]
    } else {
        rates
    };
    for rate in rates {
        match bench_inprocess(rate, Duration::from_secs(3)) {
            Ok(r) => println!(
                "planned {:>8.0} TPS: achieved {:>9.1} TPS ({:+.2}%), sent {}, dropped {}, CPU {:.2} s over {:.2} s wall, latency p99 {:.3} ms max {:.3} ms",
                r.planned_tps,
                r.achieved_tps,
                (r.achieved_tps / r.planned_tps - 1.0) * 100.0,
                r.sent,
                r.dropped,
                r.cpu_seconds,
                r.wall_seconds,
                r.latency_p99_ms,
                r.latency_max_ms
            ),
            Err(e) => println!("planned {rate} TPS: {e}"),
        }
    }
}

//! The recorder's figures against hand-computed and reference values.

mod support;

use metrics_core::{MetricsConfig, Recorder, Timing};
use models::{Currency, Decision, EdgeKind, ErrorKind, FraudPattern, GroundTruth};
use proptest::prelude::*;
use std::time::Duration;
use support::{record_sample, txn, verdict};

const MS: fn(u64) -> Duration = Duration::from_millis;

#[test]
fn a_one_second_stall_shows_in_latency_not_in_service_time() {
    // 10 s at 1,000 TPS against a target answering in 1 ms; the sender stalls for 1 s at t = 5 s, then
    // sends the backlog at once. Latency counts from the intended send; service time does not.
    let r = Recorder::new(MetricsConfig::default()).unwrap();
    let mut shard = r.shard();
    let v = verdict(Decision::Approve, &[]);
    for i in 0..10_000u64 {
        let intended = MS(i);
        let sent = if (5_000..6_000).contains(&i) {
            MS(6_000)
        } else {
            intended
        };
        shard.record_sent();
        shard.record(
            Timing::new(intended, sent, sent + MS(1)),
            &txn(i, Currency::USD),
            GroundTruth::Legit,
            Ok(&v),
        );
    }
    let s = r.summary(Duration::from_secs(10));
    assert!(
        (s.service_time_ms.p99 - 1.0).abs() < 0.01,
        "service p99 {}",
        s.service_time_ms.p99
    );
    // 1,000 of 10,000 samples waited 1..1000 ms: the 99th percentile sits near 900 ms.
    assert!(
        s.latency_ms.p99 > 850.0 && s.latency_ms.p99 < 950.0,
        "latency p99 {}",
        s.latency_ms.p99
    );
    assert!((s.latency_ms.max - 1001.0).abs() < 1.5);
    assert_eq!(s.latency_ms.p50, s.service_time_ms.p50);
}

/// Runs `ticks` one-second ticks of 20 varied samples each and returns the heap estimate every
/// `ticks / 12` ticks.
fn heap_over(ticks: u64) -> Vec<usize> {
    let r = Recorder::new(MetricsConfig::default()).unwrap();
    let mut shard = r.shard();
    let mut i = 0;
    let mut sizes = vec![];
    for tick in 1..=ticks {
        for _ in 0..20 {
            i += 1;
            record_sample(&mut shard, i, Duration::from_secs(tick - 1));
        }
        let snap = r.tick(Duration::from_secs(tick));
        assert_eq!(snap.cumulative.completed + snap.cumulative.dropped, i);
        if tick.is_multiple_of(ticks / 12) {
            sizes.push(r.heap_estimate());
        }
    }
    sizes
}

#[test]
fn memory_stays_flat_over_many_ticks() {
    let sizes = heap_over(360);
    assert!(
        sizes.iter().all(|s| *s == sizes[0]),
        "heap estimate changed: {sizes:?}"
    );
}

/// Two simulated hours: about 2.5 s in a debug build, because the root Cargo.toml optimises
/// hdrhistogram and metrics-core (where hdrhistogram's generic code is instantiated) even in the dev
/// profile; unoptimised it took about 26 s.
#[test]
fn memory_stays_flat_over_7200_ticks() {
    let sizes = heap_over(7_200);
    assert!(
        sizes.iter().all(|s| *s == sizes[0]),
        "heap estimate changed: {sizes:?}"
    );
}

#[test]
fn business_figures_follow_the_documented_rules() {
    let r = Recorder::new(MetricsConfig::default()).unwrap();
    let mut sh = r.shard();
    let t = Timing::new(MS(0), MS(0), MS(5));
    let fraud = GroundTruth::Fraud {
        pattern: FraudPattern::CardTesting,
    };
    let edge = GroundTruth::Edge {
        pattern: EdgeKind::ZeroDecimalCurrency,
    };
    let mut eur = txn(1, Currency::EUR);
    eur.amount_minor = 10_000; // 100 EUR = 108 USD
    let mut jpy = txn(2, Currency::JPY);
    jpy.amount_minor = 10_000; // 10,000 JPY = 67 USD
    for _ in 0..7 {
        sh.record_sent();
    }
    sh.record(t, &eur, fraud, Ok(&verdict(Decision::Review, &[]))); // tp: reviewed fraud is caught
    sh.record(t, &eur, fraud, Ok(&verdict(Decision::Approve, &[]))); // fn
    sh.record(t, &jpy, edge, Ok(&verdict(Decision::Decline, &[]))); // fp, no money: an edge case
    sh.record(
        t,
        &jpy,
        GroundTruth::Legit,
        Ok(&verdict(Decision::Decline, &[])),
    ); // fp and a false decline
    sh.record(
        t,
        &jpy,
        GroundTruth::Legit,
        Ok(&verdict(Decision::Review, &[])),
    ); // fp, not a decline
    sh.record(
        t,
        &eur,
        GroundTruth::Legit,
        Ok(&verdict(Decision::Approve, &[])),
    ); // tn
    sh.record(t, &eur, fraud, Err(ErrorKind::Http429)); // no verdict: unscored, not in the matrix
    sh.record_dropped(fraud); // never sent: unscored too
    sh.record_sent();
    sh.record(t, &eur, GroundTruth::Legit, Err(ErrorKind::Timeout)); // legit: no unscored fraud
    sh.record_dropped(edge);
    let snap = r.tick(Duration::from_secs(1));
    assert_eq!(
        (snap.fraud.tp, snap.fraud.fn_, snap.fraud.fp, snap.fraud.tn),
        (1, 1, 3, 1)
    );
    assert_eq!(snap.fraud.unscored, 2);
    assert_eq!(snap.per_pattern["card_testing"].unscored, 2);
    assert!((snap.fraud.recall_effective() - 0.25).abs() < 1e-12); // 1 / (1 + 1 + 2)
    assert_eq!(snap.per_pattern["card_testing"].tp, 1);
    assert_eq!(snap.per_pattern["zero_decimal_currency"].fp, 1);
    assert_eq!(snap.errors[&ErrorKind::Http429], 1);
    assert_eq!(snap.errors[&ErrorKind::Dropped], 2);
    assert_eq!(snap.error_total(), 2);
    assert_eq!(
        (
            snap.scheduled,
            snap.sent,
            snap.completed,
            snap.ok,
            snap.dropped,
            snap.in_flight
        ),
        (10, 8, 8, 6, 2, 0)
    );
    assert!((snap.cumulative.prevented_amount - 108.0).abs() < 1e-9);
    assert!((snap.cumulative.false_decline_amount - 67.0).abs() < 1e-9);
    let s = r.summary(Duration::from_secs(3600));
    // 8 completed × (0.00002 + 0.00025) + 1 h × 1.20
    assert!((s.business.total_cost - (8.0 * 0.000_27 + 1.2)).abs() < 1e-12);
    assert!((s.fraud.precision - 1.0 / 4.0).abs() < 1e-12 && (s.fraud.recall - 0.5).abs() < 1e-12);
    assert_eq!(s.fraud.unscored, 2);
    assert!((s.fraud.recall_effective - 0.25).abs() < 1e-12);
    assert_eq!(s.fraud.per_pattern["card_testing"].unscored, 2);
    assert_eq!(s.errors.total, 2);
    assert!(!s.errors.by_kind.contains_key(&ErrorKind::Dropped));
    assert_eq!(s.load.dropped, 2);
    assert_eq!(s.fraud.per_pattern["legit"].flagged, 2);
    assert_eq!(s.fraud.per_pattern["zero_decimal_currency"].flagged, 1);
}

#[test]
fn agent_figures_and_in_flight() {
    let r = Recorder::new(MetricsConfig {
        agent_concurrency: [("risk".to_owned(), 2.0)].into(),
        ..MetricsConfig::default()
    })
    .unwrap();
    let mut a = r.shard();
    let mut b = r.shard();
    let v = verdict(
        Decision::Approve,
        &[("risk", 100_000, true), ("analyzer", 50_000, false)],
    );
    for i in 0..10 {
        a.record_sent();
        b.record_sent();
        a.record(
            Timing::new(MS(i), MS(i), MS(i + 1)),
            &txn(i, Currency::USD),
            GroundTruth::Legit,
            Ok(&v),
        );
    }
    assert_eq!(r.totals().in_flight, 10);
    let snap = r.tick(Duration::from_secs(1));
    assert_eq!(snap.in_flight, 10);
    let risk = snap.agents.iter().find(|a| a.name == "risk").unwrap();
    // 10 × 100 ms busy over 1 s with concurrency 2.
    assert!((risk.utilization - 0.5).abs() < 1e-9 && (risk.mean_ms - 100.0).abs() < 1e-9);
    assert_eq!(risk.health, 100.0);
    let analyzer = snap.agents.iter().find(|a| a.name == "analyzer").unwrap();
    assert_eq!((analyzer.success_rate, analyzer.health), (0.0, 0.0));
    drop(b); // a dropped shard's counts are kept
    assert_eq!(r.totals().sent, 20);
}

fn reference(sorted: &[u64], q: f64) -> Vec<u64> {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    [rank.saturating_sub(2), rank - 1, rank.min(sorted.len() - 1)]
        .map(|i| sorted[i])
        .to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn percentiles_agree_with_a_sorted_array(values in prop::collection::vec(
        prop_oneof![0u64..2_000, 2_000u64..1_000_000, 1_000_000u64..3_600_000_000], 1..1_000)) {
        let r = Recorder::new(MetricsConfig::default()).unwrap();
        let mut sh = r.shard();
        let v = verdict(Decision::Approve, &[]);
        for (i, us) in values.iter().enumerate() {
            sh.record_sent();
            sh.record(Timing::new(Duration::ZERO, Duration::ZERO, Duration::from_micros(*us)),
                      &txn(i as u64, Currency::USD), GroundTruth::Legit, Ok(&v));
        }
        let p = r.tick(Duration::from_secs(1)).latency_ms;
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for (q, got) in [(0.5, p.p50), (0.9, p.p90), (0.99, p.p99), (0.999, p.p999), (1.0, p.max)] {
            let got_us = got * 1000.0;
            // 3 significant digits: within 1/1000 of an adjacent-rank reference value (+1 µs for rounding).
            let ok = reference(&sorted, q).iter().any(|&want| (got_us - want as f64).abs() <= want as f64 / 1000.0 + 1.0);
            prop_assert!(ok, "q={} got {} µs, reference {:?}", q, got_us, reference(&sorted, q));
        }
        let mean = values.iter().sum::<u64>() as f64 / values.len() as f64;
        prop_assert!((p.mean * 1000.0 - mean).abs() <= mean / 1000.0 + 1.0);
        prop_assert_eq!(p.count, values.len() as u64);
    }
}

#[test]
fn every_tick_sees_all_completions_recorded_before_it() {
    // Queued completions (0 to 4 agents), locked ones (6 agents), and more agent names than a
    // shard's table or `max_agents` hold: each tick must count exactly what was recorded.
    let r = Recorder::new(MetricsConfig::default()).unwrap();
    let mut sh = r.shard();
    let names: Vec<String> = (0..300).map(|i| format!("agent_{i}")).collect();
    let (mut recorded, mut agent_timings, mut tick) = (0u64, 0u64, 0u64);
    for round in 0..40u64 {
        for j in 0..(round * 37 % 700) {
            let k = (round * 1000 + j) as usize;
            let agents: Vec<(&str, u64, bool)> = (0..[0, 1, 4, 6][k % 4])
                .map(|a| {
                    (
                        names[(k + a * 7) % names.len()].as_str(),
                        100 + a as u64,
                        true,
                    )
                })
                .collect();
            agent_timings += agents.len() as u64;
            sh.record_sent();
            sh.record(
                Timing::new(MS(j), MS(j), MS(j + 1)),
                &txn(k as u64, Currency::USD),
                GroundTruth::Legit,
                Ok(&verdict(Decision::Approve, &agents)),
            );
            recorded += 1;
        }
        tick += 1;
        let snap = r.tick(Duration::from_secs(tick));
        assert_eq!(snap.cumulative.completed, recorded, "round {round}");
        assert_eq!((snap.cumulative.sent, snap.in_flight), (recorded, 0));
        assert_eq!(snap.fraud.tn, snap.completed);
    }
    let s = r.summary(Duration::from_secs(tick));
    assert_eq!(
        s.agents.iter().map(|a| a.requests).sum::<u64>(),
        agent_timings
    );
    assert_eq!(s.agents.len(), 65, "64 names and `other`");
}

#[test]
fn concurrent_shards_and_a_busy_ticker_lose_nothing() {
    let r = Recorder::new(MetricsConfig::default()).unwrap();
    let per_thread = 50_000u64;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut ticked, mut ticks) = (0u64, 0u64);
    std::thread::scope(|s| {
        for w in 0..2u64 {
            let mut sh = r.shard();
            s.spawn(move || {
                let v = verdict(Decision::Approve, &[("risk", 200, true)]);
                for i in 0..per_thread {
                    sh.record_sent();
                    if i % 10 == 0 {
                        sh.record_dropped(GroundTruth::Legit);
                    }
                    sh.record(
                        Timing::new(MS(i), MS(i), MS(i + 2)),
                        &txn(w * per_thread + i, Currency::EUR),
                        GroundTruth::Legit,
                        Ok(&v),
                    );
                }
            });
        }
        let stop = &stop;
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            ticks += 1;
            let snap = r.tick(Duration::from_millis(ticks));
            // A completion is never counted before its send.
            assert!(snap.cumulative.sent >= snap.cumulative.completed);
            ticked += snap.completed;
        }
    });
    ticks += 1;
    ticked += r.tick(Duration::from_millis(ticks)).completed;
    assert_eq!(ticked, 2 * per_thread);
    let t = r.totals();
    assert_eq!(
        (t.sent, t.completed, t.dropped, t.scheduled, t.in_flight),
        (
            2 * per_thread,
            2 * per_thread,
            2 * per_thread / 10,
            2 * per_thread * 11 / 10,
            0
        )
    );
    let s = r.summary(Duration::from_secs(1));
    assert_eq!(s.agents[0].requests, 2 * per_thread);
}

#[test]
fn ceiling_drops_are_counted_apart_from_the_in_flight_bounds_and_merge() {
    let config = MetricsConfig {
        encode_histograms: true,
        ..MetricsConfig::default()
    };
    let r = Recorder::new(config.clone()).unwrap();
    let mut sh = r.shard();
    sh.record_sent();
    sh.record_dropped(GroundTruth::Legit);
    sh.record_dropped_many(4);
    sh.record_dropped_ceiling(1_000);
    sh.record_dropped_ceiling(u64::MAX);
    let totals = r.totals();
    assert_eq!(
        (totals.dropped, totals.dropped_ceiling),
        (5, u64::MAX),
        "a bulk count saturates instead of overflowing"
    );
    let r = Recorder::new(config.clone()).unwrap();
    let mut sh = r.shard();
    sh.record_sent();
    sh.record_dropped_many(4);
    sh.record_dropped_ceiling(1_000);
    let snap = r.tick(Duration::from_secs(1));
    assert_eq!(
        (
            snap.scheduled,
            snap.sent,
            snap.dropped,
            snap.dropped_ceiling
        ),
        (1_005, 1, 4, 1_000)
    );
    assert_eq!(snap.cumulative.dropped_ceiling, 1_000);
    // Shed arrivals are not errors: only the in-flight drops are in the error map.
    assert_eq!(snap.errors.get(&ErrorKind::Dropped), Some(&4));
    assert_eq!(snap.error_total(), 0);
    sh.record_dropped_ceiling(10);
    let next = r.tick(Duration::from_secs(2));
    assert_eq!(
        (next.dropped_ceiling, next.cumulative.dropped_ceiling),
        (10, 1_010)
    );
    let s = r.summary(Duration::from_secs(2));
    assert_eq!((s.load.dropped, s.load.dropped_ceiling), (4, 1_010));
    assert_eq!(s.load.scheduled, 1_015);
    let merged = metrics_core::merge_summaries(&[s.clone(), s], &config).unwrap();
    assert_eq!(merged.load.dropped_ceiling, 2_020);
    let tick = metrics_core::SnapshotMerger::new(config)
        .merge_tick(&[next.clone(), next])
        .unwrap();
    assert_eq!(
        (tick.dropped_ceiling, tick.cumulative.dropped_ceiling),
        (20, 2_020)
    );
}

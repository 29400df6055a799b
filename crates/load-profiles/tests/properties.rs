//! Invariants of profiles and schedules over random specs.

use load_profiles::{Profile, Schedule, ScheduledArrival, Segment};
use models::{Arrival, LoadProfile, Stage};
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// One stage of any shape, small enough that a debug build places all its arrivals quickly.
fn stage() -> impl Strategy<Value = Stage> {
    let dur = 100u64..8_000;
    prop_oneof![
        (0.0..400.0f64, 0.0..400.0f64, dur.clone()).prop_map(|(a, b, d)| Stage::Ramp {
            from_tps: a,
            to_tps: b,
            duration: ms(d),
            name: None
        }),
        (0.0..400.0f64, dur.clone()).prop_map(|(r, d)| Stage::Sustained {
            tps: r,
            duration: ms(d),
            name: None
        }),
        (
            0.0..200.0f64,
            0.0..600.0f64,
            100u64..3_000,
            0.05..1.0f64,
            dur.clone()
        )
            .prop_map(|(base, burst, every, frac, d)| Stage::Burst {
                base_tps: base,
                burst_tps: burst,
                every: ms(every),
                burst_for: ms(((every as f64 * frac) as u64).max(1)),
                duration: ms(d),
                name: None,
            }),
        (0.0..400.0f64, 0.0..=1.0f64, 200u64..5_000, dur.clone()).prop_map(
            |(mean, frac, period, d)| {
                Stage::Wave {
                    mean_tps: mean,
                    amplitude_tps: mean * frac,
                    period: ms(period),
                    duration: ms(d),
                    name: None,
                }
            }
        ),
        (
            0.0..300.0f64,
            0.0..0.5f64,
            0.0..800.0f64,
            0.0..0.3f64,
            any::<u64>(),
            dur
        )
            .prop_map(|(mean, vol, spike, p, seed, d)| Stage::Chaos {
                mean_tps: mean,
                volatility: vol,
                spike_tps: spike,
                spike_probability: p,
                seed,
                duration: ms(d),
                name: None,
            }),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    prop::collection::vec(stage(), 1..5).prop_map(|stages| {
        Profile::new(&LoadProfile {
            arrival: Arrival::Uniform,
            stages,
        })
        .expect("valid stages")
    })
}

fn count_in(arrivals: &[ScheduledArrival], a: Duration, b: Duration) -> usize {
    arrivals.partition_point(|x| x.at < b) - arrivals.partition_point(|x| x.at < a)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn uniform_count_matches_the_integral_in_any_window(
        p in profile(),
        windows in prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 20),
    ) {
        let arrivals: Vec<_> = Schedule::new(p.clone(), Arrival::Uniform, 0).collect();
        prop_assert!((arrivals.len() as f64 - p.total()).abs() <= 1.0);
        let end = p.duration_secs();
        for (u, v) in windows {
            let (a, b) = (u.min(v) * end, u.max(v) * end);
            let (da, db) = (Duration::from_secs_f64(a), Duration::from_secs_f64(b));
            let planned = p.integral(da, db);
            let got = count_in(&arrivals, da, db) as f64;
            prop_assert!((got - planned).abs() <= 1.0 + 1e-6, "window [{a}, {b}): {got} arrivals, integral {planned}");
        }
    }

    #[test]
    fn uniform_count_follows_the_multiplied_rate(
        p in profile(),
        change_at in 0.0..1.0f64,
        m in 0.0..3.0f64,
        windows in prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 10),
    ) {
        let end = p.duration_secs();
        let tc = Duration::from_secs_f64(change_at * end);
        let mut schedule = Schedule::new(p.clone(), Arrival::Uniform, 0);
        schedule.set_multiplier_at(tc, m).unwrap();
        let arrivals: Vec<_> = schedule.collect();
        let multiplied = |a: Duration, b: Duration| {
            let before = p.integral(a.min(tc), b.min(tc));
            let after = p.integral(a.max(tc), b.max(tc));
            before + m * after
        };
        prop_assert!(arrivals.windows(2).all(|w| w[0].index + 1 == w[1].index && w[0].at <= w[1].at));
        for (u, v) in windows {
            let (da, db) = (Duration::from_secs_f64(u.min(v) * end), Duration::from_secs_f64(u.max(v) * end));
            let planned = multiplied(da, db);
            let got = count_in(&arrivals, da, db) as f64;
            prop_assert!((got - planned).abs() <= 1.0 + 1e-6, "window {da:?}..{db:?}: {got} arrivals, planned {planned}");
        }
    }

    #[test]
    fn segments_partition_the_schedule_in_order(
        p in profile(),
        n in 1u64..6,
        poisson in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let arrival = if poisson { Arrival::Poisson } else { Arrival::Uniform };
        let p = Arc::new(p);
        let whole: Vec<_> = Schedule::new(p.clone(), arrival, seed).collect();
        let mut merged = Vec::with_capacity(whole.len());
        for i in 0..n {
            let share: Vec<_> = Schedule::new(p.clone(), arrival, seed).segment(Segment::new(i, n).unwrap()).collect();
            prop_assert!(share.iter().all(|a| a.index % n == i));
            prop_assert!(share.windows(2).all(|w| w[0].index < w[1].index && w[0].at <= w[1].at));
            merged.extend(share);
        }
        merged.sort_by_key(|a| a.index);
        prop_assert_eq!(merged.len(), whole.len());
        for (m, w) in merged.iter().zip(&whole) {
            prop_assert_eq!(m.index, w.index);
            // Wave stages are solved numerically from different starting points: within 1 ns.
            prop_assert!(m.at.abs_diff(w.at) <= Duration::from_nanos(1), "{m:?} vs {w:?}");
        }
    }

    #[test]
    fn rate_is_never_negative(p in profile(), ts in prop::collection::vec(0.0..1.2f64, 50)) {
        for t in ts {
            let t = Duration::from_secs_f64(t * p.duration_secs());
            let r = p.rate_at(t);
            prop_assert!(r >= 0.0 && r.is_finite(), "rate {r} at {t:?}");
        }
    }

    #[test]
    fn integral_is_additive_and_non_decreasing(p in profile(), a in 0.0..1.0f64, b in 0.0..1.0f64, c in 0.0..1.0f64) {
        let mut x = [a, b, c].map(|v| Duration::from_secs_f64(v * p.duration_secs()));
        x.sort();
        let (ab, bc, ac) = (p.integral(x[0], x[1]), p.integral(x[1], x[2]), p.integral(x[0], x[2]));
        prop_assert!(ab >= -1e-9 && bc >= -1e-9);
        prop_assert!((ab + bc - ac).abs() <= 1e-6 * ac.max(1.0));
    }

    #[test]
    fn chaos_is_deterministic_per_seed(seed in any::<u64>(), secs in 1u64..120) {
        let spec = |seed| LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![Stage::Chaos {
                mean_tps: 3000.0,
                volatility: 0.1,
                spike_tps: 9000.0,
                spike_probability: 0.05,
                seed,
                duration: Duration::from_secs(secs),
                name: None,
            }],
        };
        let a = Profile::new(&spec(seed)).unwrap();
        let b = Profile::new(&spec(seed)).unwrap();
        let other = Profile::new(&spec(seed ^ 1)).unwrap();
        let rates = |p: &Profile| (0..secs).map(|s| p.rate_at(Duration::from_secs(s))).collect::<Vec<_>>();
        prop_assert_eq!(rates(&a), rates(&b));
        prop_assert_eq!(a.total(), b.total());
        if secs >= 10 {
            prop_assert_ne!(rates(&a), rates(&other));
        }
    }
}

#[test]
fn poisson_window_counts_match_the_integral_on_average() {
    // 50 s of a ramp and a wave, cut into 1 s windows: each window's count is Poisson with mean equal
    // to its integral, so the standardised residuals have mean about 0 and variance about 1.
    let p = Profile::new(&LoadProfile {
        arrival: Arrival::Poisson,
        stages: vec![
            Stage::Ramp {
                from_tps: 0.0,
                to_tps: 2000.0,
                duration: Duration::from_secs(25),
                name: None,
            },
            Stage::Wave {
                mean_tps: 1000.0,
                amplitude_tps: 800.0,
                period: Duration::from_secs(10),
                duration: Duration::from_secs(25),
                name: None,
            },
        ],
    })
    .unwrap();
    let arrivals: Vec<_> = Schedule::new(p.clone(), Arrival::Poisson, 2024).collect();
    let mut z = Vec::new();
    for s in 1..50 {
        let (a, b) = (Duration::from_secs(s), Duration::from_secs(s + 1));
        let mean = p.integral(a, b);
        z.push((count_in(&arrivals, a, b) as f64 - mean) / mean.sqrt());
    }
    let n = z.len() as f64;
    let avg = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|v| (v - avg).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(avg.abs() < 0.6, "mean residual {avg}");
    assert!((0.4..2.0).contains(&var), "residual variance {var}");
    assert!((arrivals.len() as f64 - p.total()).abs() < 4.0 * p.total().sqrt());
}

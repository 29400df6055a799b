//! Reshaping a scenario's timeline: compressing it (`--time-scale`), cutting it (`--duration`), and the
//! plain sustained load of `--tps N --duration D`.
//!
//! Scaling multiplies every duration on the timeline (stage durations, burst periods, wave periods,
//! fault start times and lengths, criterion windows) by the factor and leaves rates alone, so
//! `--time-scale 0.1` runs the 10-minute investor scenario in 60 s at the same TPS.

use crate::error::ScenarioError;
use models::{LoadProfile, ScenarioSpec, Stage};
use std::time::Duration;

/// `d × f`, or `None` when that is beyond the longest duration accepted (or not a duration at all).
fn scaled(d: Duration, f: f64) -> Option<Duration> {
    models::duration_serde::secs_to_duration(d.as_secs_f64() * f).ok()
}

/// Checks a time-scale factor: finite and above zero.
pub fn check_factor(factor: f64) -> Result<(), ScenarioError> {
    if factor.is_finite() && factor > 0.0 {
        Ok(())
    } else {
        Err(ScenarioError::Option {
            what: "time_scale",
            message: format!(
                "{} must be a number above 0 (0.1 runs a 10-minute scenario in 1 minute)",
                models::format::given(factor)
            ),
        })
    }
}

/// The scenario with its timeline multiplied by `factor`; rates unchanged.
pub fn scale(spec: &ScenarioSpec, factor: f64) -> Result<ScenarioSpec, ScenarioError> {
    check_factor(factor)?;
    let mut s = spec.clone();
    let mut too_long = false;
    let mut f = |d: &mut Duration| match scaled(*d, factor) {
        Some(v) => *d = v,
        None => too_long = true,
    };
    for stage in &mut s.load.stages {
        match stage {
            Stage::Ramp { duration, .. }
            | Stage::Sustained { duration, .. }
            | Stage::Chaos { duration, .. } => f(duration),
            Stage::Burst {
                every,
                burst_for,
                duration,
                ..
            } => {
                f(every);
                f(burst_for);
                f(duration);
            }
            Stage::Wave {
                period, duration, ..
            } => {
                f(period);
                f(duration);
            }
        }
    }
    for fault in &mut s.faults {
        f(&mut fault.at);
        f(&mut fault.duration);
    }
    for c in &mut s.criteria {
        c.from.as_mut().map(&mut f);
        c.to.as_mut().map(&mut f);
    }
    // A scaled scenario must still be one that could have been written: no duration beyond the
    // limits (a factor of 1e300 used to panic in the conversion, or later in `Instant` arithmetic).
    let invalid = if too_long {
        Some(format!(
            "a duration would be longer than {}, the longest duration accepted",
            models::duration_serde::format(models::duration_serde::MAX)
        ))
    } else {
        crate::scenario_file::validate(&s)
            .err()
            .map(|(field, message)| format!("{field} {message}"))
    };
    match invalid {
        Some(why) => Err(ScenarioError::Option {
            what: "time_scale",
            message: format!(
                "{} does not give a valid scenario: {why}",
                models::format::given(factor)
            ),
        }),
        None => Ok(s),
    }
}

/// Refuses a plain `--tps` above the `--max-tps` ceiling: the excess would only be shed.
pub fn check_rate_under_ceiling(tps: f64, max_tps: f64) -> Result<(), ScenarioError> {
    if tps > max_tps {
        return Err(ScenarioError::Option {
            what: "tps",
            message: format!(
                "{} is above the {} TPS ceiling (`max_tps`, 60,000 unless set); lower `tps` or raise `max_tps`",
                models::format::given(tps),
                models::format::thousands(max_tps, 0)
            ),
        });
    }
    Ok(())
}

/// The scenario cut to `limit`: later stages are left out and the last one is shortened (a ramp keeps
/// its slope, ending at the rate it would have reached). Faults after the cut are left out and faults
/// across it end at it. Criteria are kept as they are.
pub fn cut(spec: &ScenarioSpec, limit: Duration) -> Result<ScenarioSpec, ScenarioError> {
    if limit.is_zero() {
        return Err(ScenarioError::Option {
            what: "duration_limit",
            message: "must be longer than zero".into(),
        });
    }
    let mut s = spec.clone();
    let mut elapsed = Duration::ZERO;
    let mut stages = Vec::new();
    for mut stage in s.load.stages.drain(..) {
        if elapsed >= limit {
            break;
        }
        let left = limit - elapsed;
        let d = stage.duration();
        if d > left {
            let keep = left.as_secs_f64() / d.as_secs_f64();
            match &mut stage {
                Stage::Ramp {
                    from_tps,
                    to_tps,
                    duration,
                    ..
                } => {
                    *to_tps = *from_tps + (*to_tps - *from_tps) * keep;
                    *duration = left;
                }
                Stage::Sustained { duration, .. }
                | Stage::Burst { duration, .. }
                | Stage::Wave { duration, .. }
                | Stage::Chaos { duration, .. } => *duration = left,
            }
        }
        elapsed += stage.duration();
        stages.push(stage);
    }
    s.load.stages = stages;
    s.faults.retain(|f| f.at < limit);
    for f in &mut s.faults {
        if f.end() > limit {
            f.duration = limit - f.at;
        }
    }
    Ok(s)
}

/// A plain sustained load: `tps` for `duration`, no faults, no criteria.
pub fn plain(tps: f64, duration: Duration) -> Result<ScenarioSpec, ScenarioError> {
    if !(tps.is_finite() && tps > 0.0) {
        return Err(ScenarioError::Option {
            what: "tps",
            message: format!("{} must be a rate above 0", models::format::given(tps)),
        });
    }
    if duration.is_zero() {
        return Err(ScenarioError::Option {
            what: "duration",
            message: "must be longer than zero".into(),
        });
    }
    Ok(ScenarioSpec {
        name: format!("plain-{tps}tps"),
        description: format!("{tps} TPS for {}", models::duration_serde::format(duration)),
        seed: 42,
        when_unmeasured: Default::default(),
        load: LoadProfile {
            arrival: Default::default(),
            stages: vec![Stage::Sustained {
                tps,
                duration,
                name: Some("sustained".into()),
            }],
        },
        target: Default::default(),
        mix: Default::default(),
        faults: Vec::new(),
        criteria: Vec::new(),
        cost: Default::default(),
        limits: Default::default(),
        aws: None,
        resilience: Default::default(),
    })
}

/// The highest rate any stage asks for.
pub fn peak_tps(profile: &LoadProfile) -> f64 {
    profile
        .stages
        .iter()
        .map(|s| match s {
            Stage::Ramp {
                from_tps, to_tps, ..
            } => from_tps.max(*to_tps),
            Stage::Sustained { tps, .. } => *tps,
            Stage::Burst {
                base_tps,
                burst_tps,
                ..
            } => base_tps.max(*burst_tps),
            Stage::Wave {
                mean_tps,
                amplitude_tps,
                ..
            } => mean_tps + amplitude_tps,
            Stage::Chaos {
                mean_tps,
                spike_tps,
                ..
            } => mean_tps.max(*spike_tps),
        })
        .fold(0.0, f64::max)
}

/// The stage in effect `t` into the profile (the last one past its end) and the stage's start.
pub fn stage_at(profile: &LoadProfile, t: Duration) -> Option<(usize, Duration)> {
    let mut start = Duration::ZERO;
    let last = profile.stages.len().checked_sub(1)?;
    for (i, s) in profile.stages.iter().enumerate() {
        let end = start + s.duration();
        if t < end || i == last {
            return Some((i, start));
        }
        start = end;
    }
    None
}

/// Whether a stage is a ramp up from a lower rate: the orchestrator is `RampingUp` during it.
pub fn is_ramp_up(stage: &Stage) -> bool {
    matches!(stage, Stage::Ramp { from_tps, to_tps, .. } if to_tps > from_tps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_factors_are_errors_not_panics() {
        let spec = crate::builtin::smoke();
        for factor in [1e300, 1e20, 1e6] {
            let e = scale(&spec, factor).unwrap_err().to_string();
            assert!(
                e.contains("does not give a valid scenario"),
                "{factor}: {e}"
            );
        }
        // 20 s × 100 = 33 min, inside the default 4 h.
        assert!(scale(&spec, 100.0).is_ok());
    }
    use crate::builtin;

    #[test]
    fn investor_at_a_tenth_runs_in_a_minute_at_the_same_rates() {
        let s = scale(&builtin::investor(), 0.1).unwrap();
        assert_eq!(s.load.total_duration(), Duration::from_secs(60));
        assert_eq!(peak_tps(&s.load), 8000.0);
        assert_eq!(s.faults[0].at, Duration::from_secs(30));
        assert_eq!(s.faults[0].duration, Duration::from_secs(3));
        assert_eq!(s.criteria[0].from, Some(Duration::from_secs(6)));
        assert_eq!(s.criteria[0].to, Some(Duration::from_secs(30)));
        let burst = scale(&builtin::burst(), 0.5).unwrap();
        match &burst.load.stages[0] {
            Stage::Burst {
                every,
                burst_for,
                duration,
                burst_tps,
                ..
            } => {
                assert_eq!(*every, Duration::from_secs(90));
                assert_eq!(*burst_for, Duration::from_millis(7500));
                assert_eq!(*duration, Duration::from_secs(450));
                assert_eq!(*burst_tps, 10_000.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(scale(&builtin::smoke(), 0.0).is_err());
        assert!(scale(&builtin::smoke(), f64::NAN).is_err());
        // Past the longest duration: an error naming the flag, not a panic.
        for f in [1e300, f64::MAX, 1e17] {
            let e = scale(&builtin::investor(), f).unwrap_err().to_string();
            assert!(
                e.contains("`time_scale`") && e.contains("longest duration"),
                "{e}"
            );
        }
    }

    #[test]
    fn cutting_keeps_the_ramp_slope_and_clips_faults() {
        let s = cut(&builtin::investor(), Duration::from_secs(30)).unwrap();
        assert_eq!(s.load.total_duration(), Duration::from_secs(30));
        assert!(matches!(s.load.stages[..], [Stage::Ramp { to_tps, .. }] if to_tps == 4000.0));
        assert!(s.faults.is_empty());
        let s = cut(&builtin::investor(), Duration::from_secs(310)).unwrap();
        assert_eq!(s.load.stages.len(), 3);
        assert_eq!(s.faults[0].duration, Duration::from_secs(10));
        let longer = cut(&builtin::smoke(), Duration::from_secs(100)).unwrap();
        assert_eq!(
            longer,
            builtin::smoke(),
            "a cut past the end changes nothing"
        );
    }

    #[test]
    fn plain_load_and_stage_lookup() {
        let p = plain(500.0, Duration::from_secs(10)).unwrap();
        assert_eq!(p.load.total_duration(), Duration::from_secs(10));
        assert_eq!(peak_tps(&p.load), 500.0);
        assert!(plain(0.0, Duration::from_secs(1)).is_err());
        check_rate_under_ceiling(60_000.0, 60_000.0).unwrap();
        let e = check_rate_under_ceiling(1e300, 60_000.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`tps`") && e.contains("`max_tps`"), "{e}");
        let inv = builtin::investor();
        assert_eq!(
            stage_at(&inv.load, Duration::from_secs(0)),
            Some((0, Duration::ZERO))
        );
        assert_eq!(
            stage_at(&inv.load, Duration::from_secs(60)),
            Some((1, Duration::from_secs(60)))
        );
        assert_eq!(stage_at(&inv.load, Duration::from_secs(9999)).unwrap().0, 3);
        assert!(is_ramp_up(&inv.load.stages[0]) && !is_ramp_up(&inv.load.stages[1]));
        assert!(
            !is_ramp_up(&builtin::peak_load().load.stages[2]),
            "a ramp down is Running"
        );
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::builtin;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn scaling_multiplies_every_duration_and_keeps_rates(f in 0.01f64..4.0, which in 0usize..6) {
            let mut spec = builtin::all_builtins().swap_remove(which);
            // Room for the longest scaled stage (a 2 h soak × 4); the limit itself is tested apart.
            spec.limits.max_duration = models::duration_serde::MAX;
            let s = scale(&spec, f).unwrap();
            let close = |a: Duration, b: f64| (a.as_secs_f64() - b).abs() < 1e-6 * b.max(1.0);
            prop_assert!(close(s.load.total_duration(), spec.load.total_duration().as_secs_f64() * f));
            prop_assert_eq!(peak_tps(&s.load), peak_tps(&spec.load));
            for (a, b) in s.faults.iter().zip(&spec.faults) {
                prop_assert!(close(a.at, b.at.as_secs_f64() * f) && close(a.duration, b.duration.as_secs_f64() * f));
            }
            for (a, b) in s.criteria.iter().zip(&spec.criteria) {
                prop_assert_eq!(a.from.is_some(), b.from.is_some());
                if let (Some(x), Some(y)) = (a.from, b.from) {
                    prop_assert!(close(x, y.as_secs_f64() * f));
                }
            }
        }

        #[test]
        fn cutting_never_lengthens_and_keeps_faults_inside(secs in 1u64..4000, which in 0usize..6) {
            let spec = builtin::all_builtins().swap_remove(which);
            let limit = Duration::from_secs(secs);
            let s = cut(&spec, limit).unwrap();
            prop_assert_eq!(s.load.total_duration(), spec.load.total_duration().min(limit));
            prop_assert!(s.faults.iter().all(|f| f.end() <= limit));
            prop_assert!(peak_tps(&s.load) <= peak_tps(&spec.load));
        }
    }
}

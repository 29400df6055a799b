//! One stage's rate curve in local time `s` (seconds from the stage's start): its rate, its integral
//! from 0 and the inverse of that integral. Every curve is non-negative, so the integral is
//! non-decreasing and the inverse is the smallest `s` reaching a given count.

use crate::chaos;
use crate::error::ProfileError;
use models::Stage;
use std::f64::consts::TAU;

/// Chaos stages keep one rate per second; past this many seconds the spec is refused.
pub(crate) const CHAOS_MAX_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// Inversions stop when the error is below this (seconds): a thousandth of the 1 ns of a `Duration`.
const TOLERANCE_S: f64 = 1e-12;

/// Wave inversions rotate the phase forward at most this many times before computing it exactly.
const MAX_ROTATIONS: u32 = 64;

#[derive(Debug, Clone)]
pub(crate) enum Curve {
    /// `r0 + slope * s` (sustained: `slope == 0`).
    Linear { r0: f64, slope: f64 },
    /// `burst` for `burst_for` at the start of every `every`, `base` the rest of the time.
    Burst {
        base: f64,
        burst: f64,
        every: f64,
        burst_for: f64,
    },
    /// `mean + amp * sin(omega * s)` with `0 <= amp <= mean`.
    Wave { mean: f64, amp: f64, omega: f64 },
    /// Piecewise constant, one rate per second; `cum[i]` is the integral over `[0, i]`.
    Steps { rates: Vec<f64>, cum: Vec<f64> },
}

/// What the last inversion found, so the next one (always at a larger count) starts close by.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hint {
    /// Local time of the last inversion.
    pub s: f64,
    /// Its count (the integral at `s`).
    pub x: f64,
    /// The rate at `s`.
    pub r: f64,
    /// The rate's derivative at `s` (waves only).
    pub dr: f64,
    /// `sin` and `cos` of the wave's phase at `s`, and how many inversions ago they were computed
    /// exactly rather than rotated forward (waves only).
    pub sin: f64,
    pub cos: f64,
    pub rotations: u32,
    /// Step index, for `Steps`.
    pub idx: usize,
}

impl Curve {
    /// Checks a stage and builds its curve. `index` names the stage in errors.
    pub(crate) fn from_stage(index: usize, stage: &Stage) -> Result<Curve, ProfileError> {
        let shape = stage.shape();
        let finite = |field: &'static str, value: f64| -> Result<f64, ProfileError> {
            if !value.is_finite() {
                Err(ProfileError::NotFinite {
                    index,
                    shape,
                    field,
                    value,
                })
            } else if value < 0.0 {
                Err(ProfileError::Negative {
                    index,
                    shape,
                    field,
                    value,
                })
            } else {
                Ok(value)
            }
        };
        let positive = |field: &'static str, d: std::time::Duration| -> Result<f64, ProfileError> {
            if d.is_zero() {
                Err(ProfileError::ZeroDuration {
                    index,
                    shape,
                    field,
                })
            } else {
                Ok(d.as_secs_f64())
            }
        };
        let len = positive("duration", stage.duration())?;
        Ok(match stage {
            Stage::Ramp {
                from_tps, to_tps, ..
            } => {
                let r0 = finite("from_tps", *from_tps)?;
                let r1 = finite("to_tps", *to_tps)?;
                Curve::Linear {
                    r0,
                    slope: (r1 - r0) / len,
                }
            }
            Stage::Sustained { tps, .. } => Curve::Linear {
                r0: finite("tps", *tps)?,
                slope: 0.0,
            },
            Stage::Burst {
                base_tps,
                burst_tps,
                every,
                burst_for,
                ..
            } => {
                let base = finite("base_tps", *base_tps)?;
                let burst = finite("burst_tps", *burst_tps)?;
                let every = positive("every", *every)?;
                let burst_for = positive("burst_for", *burst_for)?;
                if burst_for > every {
                    return Err(ProfileError::BurstLongerThanPeriod {
                        index,
                        burst_for_s: burst_for,
                        every_s: every,
                    });
                }
                Curve::Burst {
                    base,
                    burst,
                    every,
                    burst_for,
                }
            }
            Stage::Wave {
                mean_tps,
                amplitude_tps,
                period,
                ..
            } => {
                let mean = finite("mean_tps", *mean_tps)?;
                let amp = finite("amplitude_tps", *amplitude_tps)?;
                let period = positive("period", *period)?;
                if amp > mean {
                    return Err(ProfileError::WaveBelowZero {
                        index,
                        mean,
                        amplitude: amp,
                    });
                }
                Curve::Wave {
                    mean,
                    amp,
                    omega: TAU / period,
                }
            }
            Stage::Chaos {
                mean_tps,
                volatility,
                spike_tps,
                spike_probability,
                seed,
                ..
            } => {
                let mean = finite("mean_tps", *mean_tps)?;
                let volatility = finite("volatility", *volatility)?;
                let spike = finite("spike_tps", *spike_tps)?;
                let p = finite("spike_probability", *spike_probability)?;
                if p > 1.0 {
                    return Err(ProfileError::Probability { index, value: p });
                }
                if len > CHAOS_MAX_SECS {
                    return Err(ProfileError::ChaosTooLong {
                        index,
                        duration_s: len,
                        max_s: CHAOS_MAX_SECS,
                    });
                }
                let steps = len.ceil() as usize;
                let rates = chaos::walk(
                    chaos::ChaosParams {
                        mean,
                        volatility,
                        spike,
                        spike_probability: p,
                    },
                    *seed,
                    steps,
                );
                let mut cum = Vec::with_capacity(steps + 1);
                let mut acc = 0.0;
                cum.push(acc);
                for r in &rates {
                    acc += r;
                    cum.push(acc);
                }
                Curve::Steps { rates, cum }
            }
        })
    }

    /// The rate (TPS) at local time `s`, `0 <= s < len`.
    pub(crate) fn rate(&self, s: f64) -> f64 {
        match self {
            Curve::Linear { r0, slope } => (r0 + slope * s).max(0.0),
            Curve::Burst {
                base,
                burst,
                every,
                burst_for,
            } => {
                if s.rem_euclid(*every) < *burst_for {
                    *burst
                } else {
                    *base
                }
            }
            Curve::Wave { mean, amp, omega } => (mean + amp * (omega * s).sin()).max(0.0),
            Curve::Steps { rates, .. } => rates[step_index(rates.len(), s)],
        }
    }

    /// The integral of the rate over `[0, s]`, `0 <= s <= len`.
    pub(crate) fn integral(&self, s: f64) -> f64 {
        match self {
            Curve::Linear { r0, slope } => s * (r0 + 0.5 * slope * s),
            Curve::Burst {
                base,
                burst,
                every,
                burst_for,
            } => {
                let n = (s / every).floor();
                let rem = (s - n * every).max(0.0);
                let per_period = burst * burst_for + base * (every - burst_for);
                n * per_period + burst * rem.min(*burst_for) + base * (rem - burst_for).max(0.0)
            }
            Curve::Wave { mean, amp, omega } => mean * s + amp / omega * (1.0 - (omega * s).cos()),
            Curve::Steps { rates, cum } => {
                let i = step_index(rates.len(), s);
                cum[i] + rates[i] * (s - i as f64)
            }
        }
    }

    /// The smallest `s` in `[0, len]` whose integral is `x`, for `0 <= x <= integral(len)`.
    /// `hint` must come from an earlier inversion of this curve at a count `<= x` (or be reset to
    /// [`Curve::start_hint`]); it is updated to this inversion.
    pub(crate) fn invert(&self, x: f64, len: f64, hint: &mut Hint) -> f64 {
        let s = match self {
            Curve::Linear { r0, slope } if *slope == 0.0 => {
                if *r0 > 0.0 {
                    x / r0
                } else {
                    0.0
                }
            }
            Curve::Linear { r0, slope } => {
                // Solve slope/2 s^2 + r0 s - x = 0 in the form that stays exact for slope -> 0.
                let disc = (r0 * r0 + 2.0 * slope * x).max(0.0);
                let denom = r0 + disc.sqrt();
                if denom > 0.0 { 2.0 * x / denom } else { 0.0 }
            }
            Curve::Burst {
                base,
                burst,
                every,
                burst_for,
            } => {
                let per_period = burst * burst_for + base * (every - burst_for);
                if per_period <= 0.0 {
                    return 0.0;
                }
                let n = (x / per_period).floor();
                let rem = (x - n * per_period).max(0.0);
                let in_burst = burst * burst_for;
                if rem <= in_burst {
                    n * every + if *burst > 0.0 { rem / burst } else { 0.0 }
                } else {
                    n * every + burst_for + (rem - in_burst) / base
                }
            }
            Curve::Wave { mean, amp, omega } => invert_wave(*mean, *amp, *omega, x, len, hint),
            Curve::Steps { rates, cum } => {
                let last = rates.len() - 1;
                let mut i = if hint.idx <= last && cum[hint.idx] <= x {
                    hint.idx
                } else {
                    // The first second whose end reaches x.
                    cum[1..].partition_point(|&c| c < x).min(last)
                };
                // Walk forward: consecutive arrivals are usually in the same or the next second.
                while i < last && cum[i + 1] < x {
                    i += 1;
                }
                hint.idx = i;
                let r = rates[i];
                i as f64
                    + if r > 0.0 {
                        ((x - cum[i]) / r).min(1.0)
                    } else {
                        0.0
                    }
            }
        };
        s.clamp(0.0, len)
    }

    /// A hint for the first inversion in a piece.
    pub(crate) fn start_hint(&self) -> Hint {
        let dr = match self {
            Curve::Linear { slope, .. } => *slope,
            Curve::Wave { amp, omega, .. } => amp * omega,
            _ => 0.0,
        };
        Hint {
            s: 0.0,
            x: 0.0,
            r: self.rate(0.0),
            dr,
            idx: 0,
            sin: 0.0,
            cos: 1.0,
            rotations: 0,
        }
    }
}

fn step_index(steps: usize, s: f64) -> usize {
    (s.max(0.0) as usize).min(steps - 1)
}

/// Newton's method on `F(s) - x`, started from a second-order step off the hint and kept inside a
/// bracket (falling back to bisection) so that it also converges where the rate touches zero. From a
/// close hint one evaluation of `sin_cos` usually suffices: the Newton step is accepted at once when
/// its predicted error (`|r'| step^2 / 2r`) is below the tolerance.
fn invert_wave(mean: f64, amp: f64, omega: f64, x: f64, len: f64, hint: &mut Hint) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    // mean*s <= F(s) <= mean*s + 2 amp/omega bounds the answer.
    let mut lo = ((x - 2.0 * amp / omega) / mean).max(0.0);
    let mut hi = (x / mean).min(len);
    let usable = hint.x <= x && hint.s >= lo && hint.s <= hi;
    if usable {
        lo = hint.s;
    }
    let mut s = if usable && hint.r > 0.0 {
        // Solve dr/2 d^2 + r d = dx for the step d (stable form).
        let dx = x - hint.x;
        let disc = hint.r * hint.r + 2.0 * hint.dr * dx;
        if disc > 0.0 {
            hint.s + 2.0 * dx / (hint.r + disc.sqrt())
        } else {
            hint.s + dx / hint.r
        }
    } else {
        lo
    };
    if !(s >= lo && s <= hi) {
        s = 0.5 * (lo + hi);
    }
    let curvature = amp * omega;
    for iteration in 0..200 {
        let delta = omega * (s - hint.s);
        let (sin, cos, rotations) =
            if iteration == 0 && usable && hint.rotations < MAX_ROTATIONS && delta.abs() < 1e-2 {
                // Rotate the hint's phase by the small angle `delta` (Taylor series exact to f64
                // precision for |delta| < 0.01) instead of calling sin and cos; recomputed exactly
                // every MAX_ROTATIONS inversions so rounding cannot build up.
                let d2 = delta * delta;
                let sin_d = delta * (1.0 - d2 / 6.0 * (1.0 - d2 / 20.0 * (1.0 - d2 / 42.0)));
                let cos_d =
                    1.0 - d2 / 2.0 * (1.0 - d2 / 12.0 * (1.0 - d2 / 30.0 * (1.0 - d2 / 56.0)));
                (
                    hint.sin * cos_d + hint.cos * sin_d,
                    hint.cos * cos_d - hint.sin * sin_d,
                    hint.rotations + 1,
                )
            } else {
                let (sin, cos) = (omega * s).sin_cos();
                (sin, cos, 0)
            };
        let f = mean * s + amp / omega * (1.0 - cos) - x;
        let r = mean + amp * sin;
        if f > 0.0 {
            hi = s;
        } else {
            lo = s;
        }
        let step = if r > 0.0 { f / r } else { f64::NAN };
        let newton = s - step;
        let in_bracket = newton >= lo && newton <= hi;
        let next = if in_bracket { newton } else { 0.5 * (lo + hi) };
        let settled = (in_bracket && curvature * step * step <= 2.0 * r * TOLERANCE_S)
            || (next - s).abs() <= TOLERANCE_S
            || hi - lo <= TOLERANCE_S
            || f == 0.0;
        if settled {
            // The hint is the point just evaluated, so its count, rate and phase agree exactly.
            *hint = Hint {
                s,
                x: x + f,
                r: r.max(0.0),
                dr: curvature * cos,
                idx: 0,
                sin,
                cos,
                rotations,
            };
            return next;
        }
        s = next;
    }
    // Not settled in 200 steps (not seen in practice): keep a hint that forces exact evaluation.
    let count = mean * s + amp / omega * (1.0 - (omega * s).cos());
    *hint = Hint {
        s,
        x: count,
        r: mean,
        rotations: MAX_ROTATIONS,
        ..Hint::default()
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn check_inverse(curve: &Curve, len: f64) {
        let total = curve.integral(len);
        let mut hint = curve.start_hint();
        for i in 1..200 {
            let x = total * i as f64 / 200.0;
            let s = curve.invert(x, len, &mut hint);
            assert!(
                (curve.integral(s) - x).abs() < 1e-6 * total.max(1.0),
                "{curve:?} x={x} s={s}"
            );
            // Random access (fresh hint) finds the same instant.
            let s2 = curve.invert(x, len, &mut curve.start_hint());
            assert!((s - s2).abs() < 1e-7, "{s} vs {s2}");
        }
    }

    #[test]
    fn ramp_integral_is_trapezoid_and_inverts() {
        let stage = Stage::Ramp {
            from_tps: 100.0,
            to_tps: 300.0,
            duration: Duration::from_secs(10),
            name: None,
        };
        let c = Curve::from_stage(0, &stage).unwrap();
        assert_eq!(c.rate(5.0), 200.0);
        assert_eq!(c.integral(10.0), 2000.0);
        check_inverse(&c, 10.0);
        let down = Stage::Ramp {
            from_tps: 300.0,
            to_tps: 0.0,
            duration: Duration::from_secs(10),
            name: None,
        };
        let c = Curve::from_stage(0, &down).unwrap();
        assert_eq!(c.integral(10.0), 1500.0);
        check_inverse(&c, 10.0);
    }

    #[test]
    fn burst_integral_counts_bursts_and_inverts() {
        let stage = Stage::Burst {
            base_tps: 100.0,
            burst_tps: 1000.0,
            every: Duration::from_secs(10),
            burst_for: Duration::from_secs(2),
            duration: Duration::from_secs(35),
            name: None,
        };
        let c = Curve::from_stage(0, &stage).unwrap();
        assert_eq!(c.rate(1.0), 1000.0);
        assert_eq!(c.rate(2.5), 100.0);
        assert_eq!(c.rate(31.0), 1000.0);
        // 3 full periods of 2800, then 2 s of burst and 3 s of base.
        assert!((c.integral(35.0) - (3.0 * 2800.0 + 2000.0 + 300.0)).abs() < 1e-9);
        check_inverse(&c, 35.0);
    }

    #[test]
    fn wave_integral_over_a_period_is_the_mean_and_inverts() {
        let stage = Stage::Wave {
            mean_tps: 500.0,
            amplitude_tps: 500.0,
            period: Duration::from_secs(60),
            duration: Duration::from_secs(150),
            name: None,
        };
        let c = Curve::from_stage(0, &stage).unwrap();
        assert!((c.rate(15.0) - 1000.0).abs() < 1e-9);
        assert!(c.rate(45.0).abs() < 1e-9);
        assert!((c.integral(60.0) - 30_000.0).abs() < 1e-6);
        check_inverse(&c, 150.0);
    }

    #[test]
    fn chaos_steps_integrate_exactly() {
        let stage = Stage::Chaos {
            mean_tps: 1000.0,
            volatility: 0.2,
            spike_tps: 5000.0,
            spike_probability: 0.1,
            seed: 7,
            duration: Duration::from_millis(30_500),
            name: None,
        };
        let c = Curve::from_stage(0, &stage).unwrap();
        let Curve::Steps { rates, .. } = &c else {
            panic!("chaos builds steps")
        };
        assert_eq!(rates.len(), 31);
        let by_hand: f64 = rates[..30].iter().sum::<f64>() + rates[30] * 0.5;
        assert!((c.integral(30.5) - by_hand).abs() < 1e-6);
        check_inverse(&c, 30.5);
    }

    #[test]
    fn validation_names_stage_and_field() {
        let bad = Stage::Sustained {
            tps: f64::NAN,
            duration: Duration::from_secs(1),
            name: None,
        };
        let err = Curve::from_stage(3, &bad).unwrap_err();
        assert!(matches!(
            err,
            ProfileError::NotFinite {
                index: 3,
                field: "tps",
                ..
            }
        ));
        assert!(err.to_string().contains("load.stages[3]"));
        let bad = Stage::Ramp {
            from_tps: -1.0,
            to_tps: 5.0,
            duration: Duration::from_secs(1),
            name: None,
        };
        assert!(matches!(
            Curve::from_stage(0, &bad),
            Err(ProfileError::Negative {
                field: "from_tps",
                ..
            })
        ));
        let bad = Stage::Sustained {
            tps: 5.0,
            duration: Duration::ZERO,
            name: None,
        };
        assert!(matches!(
            Curve::from_stage(1, &bad),
            Err(ProfileError::ZeroDuration {
                index: 1,
                field: "duration",
                ..
            })
        ));
        let bad = Stage::Wave {
            mean_tps: 10.0,
            amplitude_tps: 20.0,
            period: Duration::from_secs(1),
            duration: Duration::from_secs(1),
            name: None,
        };
        assert!(matches!(
            Curve::from_stage(0, &bad),
            Err(ProfileError::WaveBelowZero { .. })
        ));
        let bad = Stage::Burst {
            base_tps: 1.0,
            burst_tps: 2.0,
            every: Duration::from_secs(1),
            burst_for: Duration::from_secs(2),
            duration: Duration::from_secs(5),
            name: None,
        };
        assert!(matches!(
            Curve::from_stage(0, &bad),
            Err(ProfileError::BurstLongerThanPeriod { .. })
        ));
        let bad = Stage::Chaos {
            mean_tps: 1.0,
            volatility: 0.1,
            spike_tps: 2.0,
            spike_probability: 1.5,
            seed: 0,
            duration: Duration::from_secs(5),
            name: None,
        };
        assert!(matches!(
            Curve::from_stage(0, &bad),
            Err(ProfileError::Probability { value: 1.5, .. })
        ));
    }
}

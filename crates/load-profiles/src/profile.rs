//! [`Profile`]: a validated sequence of stage curves laid end to end, with the rate at any instant,
//! its integral (the planned number of transactions) and the inverse of that integral.

use crate::curve::{Curve, Hint};
use crate::error::ProfileError;
use crate::schedule::secs_to_duration;
use models::{Arrival, LoadProfile};
use std::time::Duration;

/// One stage placed on the profile's timeline.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    pub start: f64,
    pub len: f64,
    /// Integral of the rate over all earlier pieces.
    pub cum_before: f64,
    /// Integral of the rate over this piece.
    pub total: f64,
    pub curve: Curve,
    pub name: String,
    pub shape: &'static str,
}

/// A load profile ready for use: rates in TPS, times as offsets from the run's start.
///
/// Stages hold half-open intervals `[start, end)`; at and after [`Profile::duration`] the rate is 0.
#[derive(Debug, Clone)]
pub struct Profile {
    pub(crate) pieces: Vec<Piece>,
    duration: f64,
    /// `duration` exactly, as the stages' durations add up.
    length: Duration,
    arrival: Arrival,
}

/// A stage's place in a [`Profile`], for phase labels and previews.
#[derive(Debug, Clone, PartialEq)]
pub struct StageInfo {
    pub index: usize,
    /// The stage's `name`, or its shape keyword when it has none.
    pub name: String,
    pub shape: &'static str,
    pub start: Duration,
    pub duration: Duration,
    /// The integral of the rate over the stage: its planned number of transactions.
    pub planned: f64,
}

impl Profile {
    /// Validates every stage and builds the curves. Errors name the stage (`load.stages[i]`) and field.
    pub fn new(spec: &LoadProfile) -> Result<Profile, ProfileError> {
        if spec.stages.is_empty() {
            return Err(ProfileError::NoStages);
        }
        let mut pieces = Vec::with_capacity(spec.stages.len());
        let (mut start, mut cum) = (0.0, 0.0);
        let mut length = Duration::ZERO;
        for (index, stage) in spec.stages.iter().enumerate() {
            let curve = Curve::from_stage(index, stage)?;
            length = length
                .checked_add(stage.duration())
                .ok_or(ProfileError::TooLong { index })?;
            let len = stage.duration().as_secs_f64();
            let total = curve.integral(len);
            pieces.push(Piece {
                start,
                len,
                cum_before: cum,
                total,
                curve,
                name: stage.name().unwrap_or(stage.shape()).to_string(),
                shape: stage.shape(),
            });
            start += len;
            cum += total;
            if !cum.is_finite() {
                return Err(ProfileError::UncountableTraffic { index });
            }
        }
        Ok(Profile {
            pieces,
            duration: start,
            length,
            arrival: spec.arrival,
        })
    }

    /// The profile cut at `at`: stages starting at or after it are dropped and the one running across it
    /// is shortened (keeping its curve, so a cut ramp stops part way). A longer `at` changes nothing.
    pub fn truncated(mut self, at: Duration) -> Profile {
        let cut = at;
        let at = at.as_secs_f64();
        if at >= self.duration {
            return self;
        }
        self.pieces.retain(|p| p.start < at);
        if let Some(last) = self.pieces.last_mut() {
            last.len = at - last.start;
            last.total = last.curve.integral(last.len);
        }
        self.duration = at;
        self.length = self.length.min(cut);
        self
    }

    /// How arrivals are placed (from the spec); [`crate::Schedule::new`] may override it.
    pub fn arrival(&self) -> Arrival {
        self.arrival
    }

    /// Total length of all stages.
    pub fn duration(&self) -> Duration {
        self.length
    }

    /// Total length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.duration
    }

    /// The planned rate (TPS) at `t`; 0 at and after the end.
    pub fn rate_at(&self, t: Duration) -> f64 {
        self.rate_at_secs(t.as_secs_f64())
    }

    /// [`Profile::rate_at`] with `t` in seconds.
    pub fn rate_at_secs(&self, t: f64) -> f64 {
        match self.piece_at(t) {
            Some(i) => {
                let p = &self.pieces[i];
                p.curve.rate(t - p.start)
            }
            None => 0.0,
        }
    }

    /// Which stage runs at `t`: its index and name (or shape keyword). `None` at and after the end.
    pub fn stage_at(&self, t: Duration) -> Option<(usize, &str)> {
        self.piece_at(t.as_secs_f64())
            .map(|i| (i, self.pieces[i].name.as_str()))
    }

    /// The stages, in order, with their place on the timeline.
    pub fn stages(&self) -> impl Iterator<Item = StageInfo> + '_ {
        self.pieces.iter().enumerate().map(|(index, p)| StageInfo {
            index,
            name: p.name.clone(),
            shape: p.shape,
            start: secs_to_duration(p.start),
            duration: secs_to_duration(p.len),
            planned: p.total,
        })
    }

    /// The integral of the rate over `[a, b]` (clamped to the profile): the planned number of
    /// transactions in that window. Closed form for every shape. Negative when `b < a`.
    pub fn integral(&self, a: Duration, b: Duration) -> f64 {
        self.integral_secs(a.as_secs_f64(), b.as_secs_f64())
    }

    /// [`Profile::integral`] with times in seconds.
    pub fn integral_secs(&self, a: f64, b: f64) -> f64 {
        self.cumulative_secs(b) - self.cumulative_secs(a)
    }

    /// The mean planned rate over each `step` of the profile, with each window's start: what a
    /// preview shows (the last window may be shorter). Empty for a zero `step`.
    pub fn mean_rates(&self, step: Duration) -> Vec<(Duration, f64)> {
        let end = self.duration();
        let mut rows = Vec::new();
        if step.is_zero() {
            return rows;
        }
        let mut t = Duration::ZERO;
        while t < end {
            let next = (t + step).min(end);
            rows.push((t, self.integral(t, next) / (next - t).as_secs_f64()));
            t = next;
        }
        rows
    }

    /// The planned number of transactions for the whole profile.
    pub fn total(&self) -> f64 {
        self.pieces.last().map_or(0.0, |p| p.cum_before + p.total)
    }

    /// The integral of the rate over `[0, t]` in seconds.
    pub fn cumulative_secs(&self, t: f64) -> f64 {
        if t <= 0.0 || self.pieces.is_empty() {
            return 0.0;
        }
        if t >= self.duration {
            return self.total();
        }
        let i = self.pieces.partition_point(|p| p.start <= t) - 1;
        let p = &self.pieces[i];
        p.cum_before + p.curve.integral((t - p.start).min(p.len))
    }

    /// The earliest instant (seconds) at which the integral reaches `x`, or `None` if the whole profile
    /// plans fewer than `x` transactions.
    pub fn time_for_cumulative(&self, x: f64) -> Option<f64> {
        if x.is_nan() || x > self.total() || self.pieces.is_empty() {
            return None;
        }
        let x = x.max(0.0);
        // The first piece whose end reaches x.
        let i = self
            .pieces
            .partition_point(|p| p.cum_before + p.total < x)
            .min(self.pieces.len() - 1);
        let p = &self.pieces[i];
        let mut hint = p.curve.start_hint();
        Some(p.start + p.curve.invert(x - p.cum_before, p.len, &mut hint))
    }

    /// Inverse with a running hint, for schedules: `piece` only moves forward.
    pub(crate) fn invert_from(&self, x: f64, piece: &mut usize, hint: &mut Hint) -> Option<f64> {
        loop {
            let p = self.pieces.get(*piece)?;
            if p.cum_before + p.total >= x {
                return Some(p.start + p.curve.invert(x - p.cum_before, p.len, hint));
            }
            *piece += 1;
            if let Some(next) = self.pieces.get(*piece) {
                *hint = next.curve.start_hint();
            }
        }
    }

    fn piece_at(&self, t: f64) -> Option<usize> {
        if !(t >= 0.0 && t < self.duration) {
            return None;
        }
        Some(self.pieces.partition_point(|p| p.start <= t) - 1)
    }
}

impl TryFrom<&LoadProfile> for Profile {
    type Error = ProfileError;
    fn try_from(spec: &LoadProfile) -> Result<Self, Self::Error> {
        Profile::new(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Stage;

    #[test]
    fn mean_rates_average_each_step_and_cut_the_last() {
        let p = Profile::new(&LoadProfile {
            stages: vec![
                Stage::Ramp {
                    name: None,
                    from_tps: 0.0,
                    to_tps: 10.0,
                    duration: Duration::from_secs(10),
                },
                Stage::Sustained {
                    name: None,
                    tps: 5.0,
                    duration: Duration::from_millis(2500),
                },
            ],
            arrival: Arrival::Uniform,
        })
        .unwrap();
        let rows = p.mean_rates(Duration::from_secs(1));
        assert_eq!(rows.len(), 13);
        assert_eq!(rows[0].0, Duration::ZERO);
        assert!((rows[0].1 - 0.5).abs() < 1e-9);
        assert!((rows[9].1 - 9.5).abs() < 1e-9);
        // The last window is 0.5 s of the sustained stage.
        assert_eq!(rows[12].0, Duration::from_secs(12));
        assert!((rows[12].1 - 5.0).abs() < 1e-9);
        let planned: f64 = rows
            .iter()
            .zip(rows.iter().skip(1).map(|r| r.0).chain([p.duration()]))
            .map(|((t, tps), next)| tps * (next - *t).as_secs_f64())
            .sum();
        assert!((planned - p.total()).abs() < 1e-6);
        assert!(p.mean_rates(Duration::ZERO).is_empty());
    }

    fn two_stage() -> Profile {
        Profile::new(&LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![
                Stage::Ramp {
                    from_tps: 0.0,
                    to_tps: 100.0,
                    duration: Duration::from_secs(10),
                    name: Some("warm".into()),
                },
                Stage::Sustained {
                    tps: 100.0,
                    duration: Duration::from_secs(20),
                    name: None,
                },
            ],
        })
        .unwrap()
    }

    #[test]
    fn rate_stage_and_integral_across_stages() {
        let p = two_stage();
        assert_eq!(p.duration(), Duration::from_secs(30));
        assert_eq!(p.rate_at(Duration::from_secs(5)), 50.0);
        assert_eq!(p.rate_at(Duration::from_secs(15)), 100.0);
        assert_eq!(p.rate_at(Duration::from_secs(30)), 0.0);
        assert_eq!(p.stage_at(Duration::from_secs(9)), Some((0, "warm")));
        assert_eq!(p.stage_at(Duration::from_secs(10)), Some((1, "sustained")));
        assert_eq!(p.stage_at(Duration::from_secs(30)), None);
        assert_eq!(p.total(), 500.0 + 2000.0);
        assert_eq!(
            p.integral(Duration::from_secs(5), Duration::from_secs(15)),
            375.0 + 500.0
        );
        assert_eq!(p.integral(Duration::ZERO, Duration::from_secs(99)), 2500.0);
    }

    #[test]
    fn inverse_of_cumulative_round_trips() {
        let p = two_stage();
        for x in [0.0, 1.0, 499.9, 500.0, 1234.5, 2500.0] {
            let t = p.time_for_cumulative(x).unwrap();
            assert!((p.cumulative_secs(t) - x).abs() < 1e-9, "x={x} t={t}");
        }
        assert_eq!(p.time_for_cumulative(2500.1), None);
    }

    #[test]
    fn truncation_keeps_the_curve_and_cuts_the_total() {
        let p = two_stage().truncated(Duration::from_secs(5));
        assert_eq!(p.duration(), Duration::from_secs(5));
        assert_eq!(p.stages().count(), 1);
        assert_eq!(p.rate_at(Duration::from_secs(4)), 40.0);
        assert_eq!(p.total(), 125.0);
        let same = two_stage().truncated(Duration::from_secs(60));
        assert_eq!(same.duration(), Duration::from_secs(30));
    }

    #[test]
    fn profiles_past_what_a_duration_or_a_count_holds_are_refused_not_panics() {
        let long = Stage::Sustained {
            tps: 1.0,
            duration: Duration::from_secs(u64::MAX / 2 + 1),
            name: None,
        };
        let spec = LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![long.clone(), long],
        };
        assert_eq!(
            Profile::new(&spec).unwrap_err(),
            ProfileError::TooLong { index: 1 }
        );
        let huge = Stage::Sustained {
            tps: 1e300,
            duration: Duration::from_secs(u64::MAX),
            name: None,
        };
        let spec = LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![huge],
        };
        let err = Profile::new(&spec).unwrap_err();
        assert_eq!(err, ProfileError::UncountableTraffic { index: 0 });
        assert!(err.to_string().contains("lower the rate"), "{err}");
        // The longest single stage is fine, and its length is exact.
        let p = Profile::new(&LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![Stage::Sustained {
                tps: 1.0,
                duration: Duration::MAX,
                name: None,
            }],
        })
        .unwrap();
        assert_eq!(p.duration(), Duration::MAX);
        assert_eq!(p.stages().next().unwrap().duration, Duration::MAX);
    }

    #[test]
    fn empty_profile_is_refused() {
        assert_eq!(
            Profile::new(&LoadProfile::default()).unwrap_err(),
            ProfileError::NoStages
        );
    }
}

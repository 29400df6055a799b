//! [`Schedule`]: the intended send instants of a profile, as an iterator the load driver pulls from.
//!
//! Arrivals are placed in *integrated-rate space*: with `Λ(t)` the integral of the rate over `[0, t]`,
//! - [`Arrival::Uniform`] puts arrival `k` (from 0) at the instant where `Λ(t) = k + 0.5`, so each
//!   arrival sits in the middle of its unit of planned traffic, the count in any window `[a, b)` is
//!   within 1 of `Λ(b) - Λ(a)`, and the whole profile sends `round(Λ(end))` transactions;
//! - [`Arrival::Poisson`] puts arrival `k` at `Λ(t) = E_0 + ... + E_k` with `E_i` seeded standard
//!   exponential gaps (time rescaling), which is a non-homogeneous Poisson process with the profile's
//!   rate: the expected count in any window is `Λ(b) - Λ(a)`.
//!
//! Each instant comes from inverting `Λ` analytically (division, a square root for ramps, one or two
//! Newton steps for waves), with no allocation per arrival.
//!
//! # Rate multiplier
//! The curves stay pure; [`Schedule::set_multiplier_at`] scales the rate by `m` from an instant on
//! (a piecewise-constant multiplier). The schedule then follows the multiplied rate `m(t) * rate(t)`,
//! and everything above holds with `Λ` replaced by its integral `Λ'(t)`. Arrival indices stay global
//! and consecutive. A multiplier of 0 plans no arrivals, so the iterator returns `None` until a later
//! change raises it: call `set_multiplier_at(now, m)` to resume from `now`.
//!
//! # Backlogs
//! A driver that falls behind (a huge multiplier, a rate above its ceiling) must not visit every
//! arrival it cannot send: [`Schedule::skip_until`] counts the arrivals due by an instant and moves
//! past them in one step (uniform: arithmetic; Poisson: one Poisson draw for the count). The index
//! space is `u64`: a schedule that would plan index `u64::MAX` is exhausted and yields no more.

use crate::curve::Hint;
use crate::error::ScheduleError;
use crate::profile::Profile;
use crate::segment::Segment;
use models::Arrival;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Poisson};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// One planned transaction: its global index (the transaction index) and its intended send instant,
/// as an offset from the run's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduledArrival {
    pub index: u64,
    pub at: Duration,
}

/// An iterator of [`ScheduledArrival`]s in time order. Not fused: after `None` because the multiplier
/// is 0, a later [`Schedule::set_multiplier_at`] can bring more arrivals.
#[derive(Debug)]
pub struct Schedule {
    profile: Arc<Profile>,
    arrival: Arrival,
    segment: Segment,
    rng: ChaCha8Rng,
    /// The next global index not yet yielded or skipped.
    next_k: u64,
    /// Poisson: `Λ'` of arrival `next_k - 1` (0 before the first).
    poisson_last: f64,
    /// Poisson: the already drawn `Λ'` of arrival `next_k`.
    poisson_drawn: Option<f64>,
    /// The multiplier now in force, and where it took over: `Λ'(t) = anchor_mod + mult * (Λ(t) - anchor_base)`.
    mult: f64,
    anchor_base: f64,
    anchor_mod: f64,
    /// Future multiplier changes `(t_s, m)`, sorted by time.
    pending: VecDeque<(f64, f64)>,
    piece: usize,
    hint: Hint,
    /// Instant (s) of the last yielded arrival.
    cursor: f64,
}

impl Schedule {
    /// A schedule over the whole profile. `seed` drives the Poisson gaps (unused for uniform).
    pub fn new(profile: impl Into<Arc<Profile>>, arrival: Arrival, seed: u64) -> Schedule {
        let profile = profile.into();
        let hint = profile
            .pieces
            .first()
            .map(|p| p.curve.start_hint())
            .unwrap_or_default();
        Schedule {
            profile,
            arrival,
            segment: Segment::WHOLE,
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_k: 0,
            poisson_last: 0.0,
            poisson_drawn: None,
            mult: 1.0,
            anchor_base: 0.0,
            anchor_mod: 0.0,
            pending: VecDeque::new(),
            piece: 0,
            hint,
            cursor: 0.0,
        }
    }

    /// Keeps only `segment`'s share: global indices `k` with `k mod n == i`, unchanged instants.
    /// Call it before pulling; the segments of one profile, arrival mode and seed partition the whole:
    /// the same global indices, at the same instants (to within 1 ns in wave stages, which are solved
    /// numerically from different starting points).
    pub fn segment(mut self, segment: Segment) -> Schedule {
        self.segment = segment;
        self
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The instant of the last arrival yielded (zero before the first).
    pub fn cursor(&self) -> Duration {
        secs_to_duration(self.cursor)
    }

    /// The multiplier in force at the cursor.
    pub fn multiplier(&self) -> f64 {
        self.mult
    }

    /// Scales the rate by `m` from the cursor (the last arrival yielded) on. Shorthand for
    /// `set_multiplier_at(self.cursor(), m)`; a driver that knows the current offset should pass it.
    pub fn set_multiplier(&mut self, m: f64) -> Result<(), ScheduleError> {
        self.set_multiplier_at(self.cursor(), m)
    }

    /// Scales the rate by `m` (finite, 0 or more) from `at` on; `at` earlier than the cursor counts as
    /// the cursor, since arrivals already yielded cannot move. A later change replaces an earlier call
    /// for the same instant. Segments of one schedule stay an exact partition only if every segment gets
    /// the same changes at the same instants.
    pub fn set_multiplier_at(&mut self, at: Duration, m: f64) -> Result<(), ScheduleError> {
        if !m.is_finite() || m < 0.0 {
            return Err(ScheduleError::InvalidMultiplier(m));
        }
        let t = at.as_secs_f64().max(self.cursor);
        // Changes after `t` are superseded by this one.
        while self.pending.back().is_some_and(|&(tc, _)| tc >= t) {
            self.pending.pop_back();
        }
        self.pending.push_back((t, m));
        Ok(())
    }

    /// Skips, without placing them, this segment's arrivals due at or before `at` that were not yet
    /// yielded, and returns how many there were: a driver that cannot send a backlog counts it in
    /// one step instead of visiting each arrival. The cursor moves to `at` (when later), so a
    /// multiplier change takes effect from there. Multiplier changes up to `at` are applied first.
    ///
    /// Uniform arrivals are skipped exactly (the same indices [`Iterator::next`] would have
    /// yielded). Poisson arrivals are counted with one Poisson draw (by memorylessness the process
    /// after `at` is unchanged), so a skip consumes the seeded stream differently from pulling the
    /// arrivals one by one: segments that skip at different instants no longer partition the whole
    /// run exactly (they still carry its rate). An unbounded backlog (an infinite planned count, or
    /// one past `u64::MAX`) exhausts the schedule and returns `u64::MAX`.
    pub fn skip_until(&mut self, at: Duration) -> u64 {
        let t = at.as_secs_f64().max(self.cursor);
        self.cursor = t;
        while let Some(&(tc, m)) = self.pending.front() {
            if tc > t {
                break;
            }
            self.reanchor(tc, m);
            self.pending.pop_front();
        }
        if self.next_k == u64::MAX {
            return 0;
        }
        // `Λ'` at `t + 0.5 ns`: instants are rounded to whole nanoseconds, so every arrival placed
        // before that is due at `t` (at a huge rate, very many share one nanosecond). At a
        // multiplier of 0 it stays where it was.
        let tau = t + 0.5e-9;
        let level =
            self.anchor_mod + self.mult * (self.profile.cumulative_secs(tau) - self.anchor_base);
        let end = match self.arrival {
            // Arrival k is due when k + 0.5 <= level: the first one not due is floor(level + 0.5).
            Arrival::Uniform => whole_count(level + 0.5).max(self.next_k),
            Arrival::Poisson => {
                let (due, from) = match self.poisson_drawn {
                    Some(x) if x > level => return 0,
                    Some(x) => (1, x),
                    None => (0, self.poisson_last),
                };
                let more = poisson_count(&mut self.rng, level - from);
                self.poisson_last = if level.is_finite() { level } else { from };
                self.poisson_drawn = None;
                self.next_k.saturating_add(due).saturating_add(more)
            }
        };
        let skipped = self.segment.count_in(self.next_k, end);
        self.next_k = end;
        if end == u64::MAX { u64::MAX } else { skipped }
    }

    /// Makes the multiplier `m` take over at `tc` (seconds), keeping `Λ'` continuous there.
    ///
    /// Poisson levels are rebased so that `Λ'(tc)` is 0: only their differences matter (indices
    /// are counted by `next_k`), and a level left at the size of a huge skipped backlog (1e17
    /// after a multiplier of 1e15) would absorb every later exponential gap (ulp 16), putting all
    /// the following arrivals on one instant. Uniform arrivals need absolute levels (arrival `k`
    /// sits at `k + 0.5`) and are not rebased; their targets grow with their indices.
    fn reanchor(&mut self, tc: f64, m: f64) {
        let base_c = self.profile.cumulative_secs(tc);
        let level_c = self.anchor_mod + self.mult * (base_c - self.anchor_base);
        self.anchor_base = base_c;
        self.mult = m;
        if self.arrival == Arrival::Uniform {
            self.anchor_mod = level_c;
            return;
        }
        if !level_c.is_finite() {
            // Infinitely many arrivals were planned before `tc`: the index space is used up.
            self.next_k = u64::MAX;
            self.anchor_mod = 0.0;
            return;
        }
        // The last arrival is at or before `tc`, but a skip counts up to half a nanosecond past its
        // instant (a change at that instant then finds the level beyond `Λ'(tc)`): clamp it to the
        // change, and keep a drawn arrival's gap from it, which is what the process is made of.
        let last = (self.poisson_last - level_c).min(0.0);
        if let Some(x) = self.poisson_drawn.as_mut() {
            *x = last + (*x - self.poisson_last).max(0.0);
        }
        self.poisson_last = last;
        self.anchor_mod = 0.0;
    }

    /// The `Λ'` target of the next arrival of this segment, with its global index; `None` once the
    /// index space is used up.
    fn next_target(&mut self) -> Option<(u64, f64)> {
        match self.arrival {
            Arrival::Uniform => {
                let k = self.segment.first_from(self.next_k)?;
                (k < u64::MAX).then_some((k, k as f64 + 0.5))
            }
            Arrival::Poisson => loop {
                if self.next_k == u64::MAX {
                    return None;
                }
                let x = match self.poisson_drawn {
                    Some(x) => x,
                    None => {
                        let gap: f64 = self.rng.sample(Exp1);
                        let x = self.poisson_last + gap;
                        self.poisson_drawn = Some(x);
                        x
                    }
                };
                if self.segment.contains(self.next_k) {
                    return Some((self.next_k, x));
                }
                // Another segment's arrival: consume its gap without placing it.
                self.poisson_last = x;
                self.poisson_drawn = None;
                self.next_k += 1;
            },
        }
    }

    /// Where `Λ'` reaches `target` under the current multiplier, without committing the hint.
    fn locate(&self, target: f64) -> Option<(f64, usize, Hint)> {
        if self.mult <= 0.0 {
            return None;
        }
        let base = self.anchor_base + (target - self.anchor_mod) / self.mult;
        if base >= self.profile.total() {
            return None;
        }
        let (mut piece, mut hint) = (self.piece, self.hint);
        let t = self.profile.invert_from(base, &mut piece, &mut hint)?;
        Some((t, piece, hint))
    }
}

impl Iterator for Schedule {
    type Item = ScheduledArrival;

    fn next(&mut self) -> Option<ScheduledArrival> {
        let (k, mut target) = self.next_target()?;
        loop {
            let found = self.locate(target);
            match (self.pending.front(), found) {
                (Some(&(tc, m)), found) if found.is_none_or(|(t, _, _)| tc <= t) => {
                    // The multiplier changes before this arrival: re-anchor at tc and place it again.
                    self.reanchor(tc, m);
                    self.pending.pop_front();
                    // Poisson levels were rebased: the drawn target moved with them.
                    if let Some(x) = self.poisson_drawn {
                        target = x;
                    }
                }
                (_, None) => return None,
                (_, Some((t, piece, hint))) => {
                    self.piece = piece;
                    self.hint = hint;
                    self.cursor = t;
                    self.next_k = k.saturating_add(1);
                    if self.arrival == Arrival::Poisson {
                        self.poisson_last = target;
                        self.poisson_drawn = None;
                    }
                    return Some(ScheduledArrival {
                        index: k,
                        at: secs_to_duration(t),
                    });
                }
            }
        }
    }
}

/// `t` seconds as a `Duration`, saturating (a profile's length always fits: [`Profile::new`] checks).
pub(crate) fn secs_to_duration(t: f64) -> Duration {
    let nanos = (t * 1e9).round();
    if nanos < u64::MAX as f64 {
        // Negative and NaN saturate to 0.
        Duration::from_nanos(nanos as u64)
    } else {
        Duration::try_from_secs_f64(t).unwrap_or(Duration::MAX)
    }
}

/// `floor(x)` as a count: 0 for negative or NaN, `u64::MAX` past it (or infinite).
fn whole_count(x: f64) -> u64 {
    // `as` saturates and maps NaN to 0.
    x.floor() as u64
}

/// A Poisson count with mean `mean`: 0 for a mean of 0 or less, `u64::MAX` beyond what a `u64`
/// holds (an unbounded backlog).
fn poisson_count(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(d) => whole_count(d.sample(rng)),
        Err(_) => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::Segment;
    use models::{LoadProfile, Stage};

    fn sustained(tps: f64, secs: u64) -> Profile {
        Profile::new(&LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![Stage::Sustained {
                tps,
                duration: Duration::from_secs(secs),
                name: None,
            }],
        })
        .unwrap()
    }

    #[test]
    fn uniform_arrivals_sit_mid_unit() {
        let got: Vec<_> = Schedule::new(sustained(4.0, 1), Arrival::Uniform, 0).collect();
        let at: Vec<u64> = got.iter().map(|a| a.at.as_millis() as u64).collect();
        assert_eq!(at, vec![125, 375, 625, 875]);
        assert_eq!(
            got.iter().map(|a| a.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn multiplier_doubles_the_rate_from_its_instant() {
        let mut s = Schedule::new(sustained(10.0, 2), Arrival::Uniform, 0);
        s.set_multiplier_at(Duration::from_secs(1), 2.0).unwrap();
        let got: Vec<_> = s.collect();
        let first = got.iter().filter(|a| a.at < Duration::from_secs(1)).count();
        assert_eq!(first, 10);
        assert_eq!(got.len(), 30);
        assert!(
            got.windows(2)
                .all(|w| w[0].index + 1 == w[1].index && w[0].at <= w[1].at)
        );
    }

    #[test]
    fn zero_multiplier_pauses_until_raised() {
        let mut s = Schedule::new(sustained(10.0, 10), Arrival::Uniform, 0);
        let before: Vec<_> = s.by_ref().take(5).collect();
        s.set_multiplier(0.0).unwrap();
        assert_eq!(s.next(), None);
        s.set_multiplier_at(Duration::from_secs(5), 1.0).unwrap();
        let next = s.next().unwrap();
        assert_eq!(next.index, 5);
        assert!(
            next.at >= Duration::from_secs(5) && next.at <= Duration::from_millis(5100),
            "{next:?}"
        );
        // The pause (0.45 s to 5 s) dropped 45.5 of the 100 planned arrivals.
        assert_eq!(before.len() + 1 + s.count(), 54);
    }

    #[test]
    fn long_wave_schedule_matches_random_access_inversion() {
        // 600k arrivals solved incrementally (rotated phase, Newton from the previous arrival) land
        // where a fresh inversion of the integral puts them.
        let p = Profile::new(&LoadProfile {
            arrival: Arrival::Uniform,
            stages: vec![Stage::Wave {
                mean_tps: 1000.0,
                amplitude_tps: 1000.0,
                period: Duration::from_secs(7),
                duration: Duration::from_secs(600),
                name: None,
            }],
        })
        .unwrap();
        let mut n = 0;
        for a in Schedule::new(p.clone(), Arrival::Uniform, 0) {
            n += 1;
            if a.index % 997 == 0 {
                let exact = p.time_for_cumulative(a.index as f64 + 0.5).unwrap();
                let diff = (a.at.as_secs_f64() - exact).abs();
                assert!(
                    diff < 2e-9,
                    "arrival {} at {:?}, exact {exact}",
                    a.index,
                    a.at
                );
            }
        }
        assert_eq!(n as f64, p.total().round());
    }

    #[test]
    fn skip_until_counts_what_next_would_have_yielded_and_continues_after_it() {
        let p = Arc::new(sustained(1000.0, 10));
        for seg in [Segment::WHOLE, Segment::new(1, 3).unwrap()] {
            let all: Vec<_> = Schedule::new(p.clone(), Arrival::Uniform, 0)
                .segment(seg)
                .collect();
            let mut s = Schedule::new(p.clone(), Arrival::Uniform, 0).segment(seg);
            let first: Vec<_> = s.by_ref().take(10).collect();
            let at = Duration::from_millis(2_500);
            let due = all[10..].iter().filter(|a| a.at <= at).count() as u64;
            assert_eq!(s.skip_until(at), due);
            assert_eq!(s.cursor(), at);
            let rest: Vec<_> = s.collect();
            assert_eq!(
                first.len() as u64 + due + rest.len() as u64,
                all.len() as u64
            );
            assert_eq!(rest[..], all[10 + due as usize..]);
        }
    }

    #[test]
    fn an_absurd_multiplier_is_skipped_in_one_step_and_exhausts_the_schedule() {
        for arrival in [Arrival::Uniform, Arrival::Poisson] {
            let mut s = Schedule::new(sustained(100.0, 10), arrival, 3);
            s.set_multiplier_at(Duration::from_secs(1), 1e300).unwrap();
            assert!(
                s.by_ref()
                    .take_while(|a| a.at < Duration::from_secs(1))
                    .count()
                    > 90
            );
            // 1e300 times the rate plans more arrivals than a u64 indexes: counted, never visited.
            assert_eq!(s.skip_until(Duration::from_secs(2)), u64::MAX);
            assert_eq!(s.next(), None);
            assert_eq!(s.skip_until(Duration::from_secs(3)), 0);
        }
    }

    #[test]
    fn poisson_skip_counts_about_the_integral() {
        let p = Arc::new(sustained(10_000.0, 10));
        let mut s = Schedule::new(p, Arrival::Poisson, 5);
        s.next().unwrap();
        let n = s.skip_until(Duration::from_secs(5));
        // Mean about 50,000, sd about 224.
        assert!((48_000..52_000).contains(&n), "{n}");
        let next = s.next().unwrap();
        assert!(
            next.at > Duration::from_secs(5) && next.index > n,
            "{next:?}"
        );
        // Nothing more is due until 5 s: a skip to the same instant counts nothing.
        assert_eq!(s.skip_until(Duration::from_secs(5)), 0);
    }

    #[test]
    fn poisson_keeps_its_rate_after_a_huge_backlog_is_skipped() {
        // A huge multiplier plans about 1e17 arrivals by 0.1 s (skipped in one step); then a sane
        // one. Levels of `Λ'` that large absorb an exponential gap (its ulp is 16), so before the
        // levels were rebased at each change every later arrival fell on one instant, and a
        // driver shedding them one step at a time on a paused clock never got past it.
        let mut s = Schedule::new(sustained(1_000.0, 10), Arrival::Poisson, 11);
        s.set_multiplier_at(Duration::ZERO, 1e15).unwrap();
        assert!(s.skip_until(Duration::from_millis(100)) > 90_000_000_000_000_000);
        s.set_multiplier_at(Duration::from_millis(100), 4.0)
            .unwrap();
        let window = Duration::from_millis(200)..Duration::from_millis(300);
        let mut last = Duration::ZERO;
        let mut in_window = 0;
        for a in s.by_ref().take_while(|a| a.at < window.end) {
            assert!(a.at >= last, "in time order");
            last = a.at;
            in_window += u32::from(window.contains(&a.at));
        }
        // 4 x 1,000 TPS for 0.1 s: mean 400, sd 20.
        assert!((300..500).contains(&in_window), "{in_window}");
        // And a skip moves past the instant it was asked for.
        let at = Duration::from_millis(400);
        s.skip_until(at);
        assert!(s.next().unwrap().at > at);
    }

    #[test]
    fn invalid_multiplier_is_refused() {
        let mut s = Schedule::new(sustained(10.0, 1), Arrival::Uniform, 0);
        assert_eq!(
            s.set_multiplier(-1.0),
            Err(ScheduleError::InvalidMultiplier(-1.0))
        );
        assert!(s.set_multiplier(f64::NAN).is_err());
    }

    #[test]
    fn poisson_is_seeded_and_its_mean_matches() {
        let p = Arc::new(sustained(1000.0, 20));
        let a: Vec<_> = Schedule::new(p.clone(), Arrival::Poisson, 9).collect();
        let b: Vec<_> = Schedule::new(p.clone(), Arrival::Poisson, 9).collect();
        assert_eq!(a, b);
        // Mean 20,000, sd about 141.
        assert!((19_400..20_600).contains(&a.len()), "{}", a.len());
        let c: Vec<_> = Schedule::new(p, Arrival::Poisson, 10).collect();
        assert_ne!(a, c);
    }
}

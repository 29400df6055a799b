//! The search for the highest rate that passes the SLO, independent of how a step is run: a
//! [`Judge`] measures a step at a rate and the search decides which rate comes next.
//!
//! 1. **Growth**: from `min_tps`, double the rate (never above `max_tps`) until a step fails or a step
//!    at `max_tps` passes.
//! 2. **Bisection** between the highest passing rate `lo` and the lowest failing rate `hi`, at the
//!    midpoint rounded to a whole TPS, until `hi - lo <= precision × lo`. The true boundary then lies in
//!    `[lo, hi)`, so `lo` is within `precision` of it.
//! 3. **Repeats**: a rate is run again (up to `max_runs`, majority verdict, stopping as soon as a
//!    majority agrees) when it is near the boundary, that is when the bracket around it is so narrow
//!    that the boundary is within `boundary_band × precision` of it (`(hi - lo) / 2 <= band ×
//!    precision × rate`), or when one of its figures lies within the SLO margin of its threshold
//!    ([`Slo::evaluate`]). A tie counts as a failure.
//! 4. **Keeping up**: besides the SLO's clauses, every step must keep up with its rate
//!    ([`crate::keep_up`]: achieved ÷ offered, backlog and latency trends, every agent's answered
//!    share, all against one bound, 98% unless the SLO's `throughput` clause sets it); a failed
//!    keep-up check fails the step like a failed clause.
//! 5. **Kill switch**: a step whose failure share (errors and drops over requests due) exceeds
//!    `kill_error_rate`, or that the judge stopped for that reason, ends the search at once; the
//!    result says what was known by then.
//!
//! The answer is `lo` with its confidence interval `[lo, hi]` (`hi` is absent when `max_tps` passed)
//! and a `confidence`: the share of runs at `lo` and `hi` that agreed with their rate's verdict (1.0
//! when every run there agreed; 0.67 when one of three disagreed at one of them).

use crate::error::CapacityError;
use crate::figures::StepFigures;
use crate::keep_up::KeepUp;
use crate::slo::{ClauseResult, Slo};
use async_trait::async_trait;
use serde::Serialize;

/// How the search proceeds.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    /// First rate tried.
    pub min_tps: f64,
    /// Never exceeded.
    pub max_tps: f64,
    /// Relative width at which bisection stops (0.02 = 2%).
    pub precision: f64,
    /// Runs of one rate at most when it needs confirming (majority verdict).
    pub max_runs: u32,
    /// A rate whose bracket puts the boundary within `boundary_band × precision` of it is repeated.
    pub boundary_band: f64,
    /// A figure within this share of its threshold makes a step marginal (repeated).
    pub margin: f64,
    /// Failure share (errors and drops over requests due) at which the search stops at once.
    pub kill_error_rate: f64,
    /// What keeping up with a rate means (checked on every step, see [`crate::keep_up`]).
    pub keep_up: KeepUp,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            min_tps: 100.0,
            max_tps: 60_000.0,
            precision: 0.02,
            max_runs: 3,
            boundary_band: 2.0,
            margin: 0.10,
            kill_error_rate: 0.5,
            keep_up: KeepUp::default(),
        }
    }
}

impl SearchConfig {
    /// Checks the settings; the error names the option and what to do.
    pub fn validate(&self) -> Result<(), CapacityError> {
        let bad =
            |option: &'static str, message: String| Err(CapacityError::Option { option, message });
        if !(self.min_tps.is_finite() && self.min_tps > 0.0) {
            return bad(
                "min_tps",
                format!("{} must be a rate above 0", self.min_tps),
            );
        }
        if !(self.max_tps.is_finite() && self.max_tps > 0.0) {
            return bad(
                "max_tps",
                format!("{} must be a rate above 0", self.max_tps),
            );
        }
        if self.min_tps > self.max_tps {
            return bad(
                "min_tps",
                format!(
                    "{} is above `max_tps` {}; lower `min_tps` or raise `max_tps`",
                    self.min_tps, self.max_tps
                ),
            );
        }
        if !(self.precision > 0.0 && self.precision < 1.0) {
            return bad(
                "precision",
                format!(
                    "{} must be between 0 and 1 (0.02, or 2%, stops within 2% of the answer)",
                    self.precision
                ),
            );
        }
        if self.max_runs == 0 {
            return bad("max_runs", "must be at least 1".into());
        }
        if !(self.margin.is_finite() && self.margin >= 0.0) {
            return bad("margin", format!("{} must be 0 or more", self.margin));
        }
        if !(self.boundary_band.is_finite() && self.boundary_band >= 0.0) {
            return bad(
                "boundary_band",
                format!("{} must be 0 or more", self.boundary_band),
            );
        }
        if !(self.kill_error_rate > 0.0 && self.kill_error_rate <= 1.0) {
            return bad(
                "kill_error_rate",
                format!(
                    "{} must be above 0 and at most 1 (0.5 stops when half the requests fail)",
                    self.kill_error_rate
                ),
            );
        }
        let r = self.keep_up.min_ratio;
        if !(r > 0.0 && r <= 1.0) {
            return bad(
                "keep_up.min_ratio",
                format!(
                    "{r} must be above 0 and at most 1 (0.98: a step must serve 98% of the offered rate)"
                ),
            );
        }
        Ok(())
    }
}

/// Which part of the search asked for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Growth,
    Bisection,
}

/// A step to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRequest {
    /// 1-based, over the whole search.
    pub index: usize,
    pub tps: f64,
    /// 1-based run of this rate.
    pub run: u32,
    pub phase: Phase,
}

/// What a judge measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    pub figures: StepFigures,
    /// The judge stopped the step early because the target was collapsing.
    pub killed: bool,
    /// The step was interrupted (Ctrl+C); the search stops and reports what it knew.
    pub interrupted: bool,
    /// The step's own results folder, relative to the search's folder.
    pub dir: Option<String>,
    /// Anything worth saying about the step (why it was killed, ...).
    pub note: Option<String>,
}

/// Measures a system at a rate: the real one runs the orchestrator, a synthetic one computes figures
/// from a model of a system (tests).
#[async_trait]
pub trait Judge: Send {
    async fn measure(&mut self, step: &StepRequest) -> Result<Measurement, CapacityError>;

    /// The highest rate this judge can send (the driver's `limits.max_tps` ceiling, which sheds
    /// arrivals above it): a search whose `max_tps` is above it is refused before the first step.
    /// `None`: no ceiling.
    fn max_tps(&self) -> Option<f64> {
        None
    }
}

/// A step's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Failed past the kill threshold: the search stopped here.
    Killed,
    /// Interrupted; not judged.
    Interrupted,
}

/// One run of one rate, as written to `capacity.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub index: usize,
    pub tps: f64,
    pub repeat: u32,
    pub phase: Phase,
    #[serde(flatten)]
    pub figures: StepFigures,
    pub verdict: Verdict,
    /// Clauses that failed, with their figures.
    pub failed: Vec<String>,
    /// Clauses whose figure was within the margin of its threshold.
    pub marginal: Vec<String>,
    pub clauses: Vec<ClauseResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The verdict of a rate over its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateVerdict {
    pub tps: f64,
    pub runs: u32,
    pub passes: u32,
    pub verdict: Verdict,
}

/// Why the search ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StopReason {
    /// The bracket is narrower than the precision.
    Converged,
    /// A step at `max_tps` passed: the system sustains at least that.
    ReachedMaxTps,
    /// `min_tps` failed.
    NothingPassed,
    /// A step failed past the kill threshold.
    Killed {
        tps: f64,
        failure_share: f64,
    },
    Interrupted,
    /// A step could not be run.
    StepError {
        message: String,
    },
}

impl StopReason {
    pub fn describe(&self) -> String {
        match self {
            StopReason::Converged => "converged to the precision asked".into(),
            StopReason::ReachedMaxTps => {
                "passed at the highest rate searched (`max_tps`); the system may sustain more"
                    .into()
            }
            StopReason::NothingPassed => "the first rate (`min_tps`) already failed".into(),
            StopReason::Killed { tps, failure_share } => format!(
                "stopped at {tps:.0} TPS: {:.1}% of requests failed, past the kill threshold",
                failure_share * 100.0
            ),
            StopReason::Interrupted => "interrupted".into(),
            StopReason::StepError { message } => format!("a step could not be run: {message}"),
        }
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchOutcome {
    /// The highest rate that passed (majority verdict); `None` when none did.
    pub max_sustainable_tps: Option<f64>,
    /// `[highest passing rate, lowest failing rate]`.
    pub confidence_interval: [Option<f64>; 2],
    /// Share of runs at the two bracketing rates that agreed with their verdict.
    pub confidence: f64,
    pub stop: StopReason,
    pub steps: Vec<StepRecord>,
    pub rates: Vec<RateVerdict>,
}

impl SearchOutcome {
    /// The bracket is within the precision, or `max_tps` passed.
    pub fn found(&self) -> bool {
        matches!(self.stop, StopReason::Converged | StopReason::ReachedMaxTps)
    }
}

/// Hooks for showing progress.
pub trait Observer {
    fn step_started(&mut self, _step: &StepRequest) {}
    fn step_finished(&mut self, _record: &StepRecord) {}
}

/// No progress shown.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {}

enum Probe {
    Decided(Verdict),
    Stop(StopReason),
}

struct State<'a, J: ?Sized, O: ?Sized> {
    cfg: &'a SearchConfig,
    slo: &'a Slo,
    judge: &'a mut J,
    observer: &'a mut O,
    steps: Vec<StepRecord>,
    rates: Vec<RateVerdict>,
    lo: Option<f64>,
    hi: Option<f64>,
}

impl<J: Judge + ?Sized, O: Observer + ?Sized> State<'_, J, O> {
    /// Whether the boundary is known to be within the band of `tps`.
    fn near_boundary(&self, tps: f64) -> bool {
        match (self.lo, self.hi) {
            (Some(lo), Some(hi)) => {
                (hi - lo) / 2.0 <= self.cfg.boundary_band * self.cfg.precision * tps
            }
            _ => false,
        }
    }

    async fn probe(&mut self, tps: f64, phase: Phase) -> Probe {
        let needed = self.cfg.max_runs / 2 + 1;
        let near = self.near_boundary(tps);
        let (mut passes, mut fails) = (0u32, 0u32);
        for run in 1..=self.cfg.max_runs {
            let req = StepRequest {
                index: self.steps.len() + 1,
                tps,
                run,
                phase,
            };
            self.observer.step_started(&req);
            let m = match self.judge.measure(&req).await {
                Ok(m) => m,
                Err(e) => {
                    return Probe::Stop(StopReason::StepError {
                        message: e.to_string(),
                    });
                }
            };
            let mut clauses = self.slo.evaluate(&m.figures, self.cfg.margin);
            clauses.extend(
                self.cfg
                    .keep_up
                    .evaluate(self.slo, &m.figures, self.cfg.margin),
            );
            let share = m.figures.failure_share();
            let verdict = if m.interrupted {
                Verdict::Interrupted
            } else if m.killed || share > self.cfg.kill_error_rate {
                Verdict::Killed
            } else if clauses.iter().all(|c| c.passed) {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            let record = StepRecord {
                index: req.index,
                tps,
                repeat: run,
                phase,
                failed: clauses
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| {
                        if c.actual.is_nan() {
                            c.clause.clone()
                        } else {
                            format!("{} (actual {})", c.clause, show(c.actual))
                        }
                    })
                    .collect(),
                marginal: clauses
                    .iter()
                    .filter(|c| c.marginal)
                    .map(|c| c.clause.clone())
                    .collect(),
                clauses,
                figures: m.figures,
                verdict,
                dir: m.dir,
                note: m.note,
            };
            let marginal = !record.marginal.is_empty();
            self.observer.step_finished(&record);
            self.steps.push(record);
            match verdict {
                Verdict::Interrupted => return Probe::Stop(StopReason::Interrupted),
                Verdict::Killed => {
                    self.rates.push(RateVerdict {
                        tps,
                        runs: run,
                        passes,
                        verdict: Verdict::Killed,
                    });
                    self.hi = Some(self.hi.map_or(tps, |h| h.min(tps)));
                    return Probe::Stop(StopReason::Killed {
                        tps,
                        failure_share: share,
                    });
                }
                Verdict::Pass => passes += 1,
                Verdict::Fail => fails += 1,
            }
            let decided = if run == 1 && !near && !marginal {
                Some(verdict)
            } else if passes >= needed {
                Some(Verdict::Pass)
            } else if fails >= needed || run == self.cfg.max_runs {
                Some(Verdict::Fail)
            } else {
                None
            };
            if let Some(v) = decided {
                self.rates.push(RateVerdict {
                    tps,
                    runs: run,
                    passes,
                    verdict: v,
                });
                match v {
                    Verdict::Pass => self.lo = Some(self.lo.map_or(tps, |l| l.max(tps))),
                    _ => self.hi = Some(self.hi.map_or(tps, |h| h.min(tps))),
                }
                return Probe::Decided(v);
            }
        }
        // Not reached: the last run always decides (a tie counts as a failure).
        Probe::Stop(StopReason::StepError {
            message: format!("no verdict for {tps} TPS after {} runs", self.cfg.max_runs),
        })
    }

    async fn run(&mut self) -> StopReason {
        // Growth.
        let mut tps = self.cfg.min_tps.min(self.cfg.max_tps);
        loop {
            match self.probe(tps, Phase::Growth).await {
                Probe::Stop(reason) => return reason,
                Probe::Decided(Verdict::Pass) => {
                    if tps >= self.cfg.max_tps {
                        return StopReason::ReachedMaxTps;
                    }
                    tps = (tps * 2.0).min(self.cfg.max_tps);
                }
                Probe::Decided(_) => break,
            }
        }
        let Some(mut lo) = self.lo else {
            return StopReason::NothingPassed;
        };
        let Some(mut hi) = self.hi else {
            return StopReason::NothingPassed;
        };
        // Bisection.
        while hi - lo > self.cfg.precision * lo {
            let mid = ((lo + hi) / 2.0).round();
            if mid <= lo || mid >= hi {
                break;
            }
            if let Probe::Stop(reason) = self.probe(mid, Phase::Bisection).await {
                return reason;
            }
            lo = self.lo.unwrap_or(lo);
            hi = self.hi.unwrap_or(hi);
        }
        StopReason::Converged
    }
}

fn show(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// Searches for the highest rate that passes `slo`. Fails only on a bad configuration; a step that
/// cannot be run, an interruption or the kill switch end the search with what was known
/// ([`SearchOutcome::stop`]).
pub async fn search<J, O>(
    cfg: &SearchConfig,
    slo: &Slo,
    judge: &mut J,
    observer: &mut O,
) -> Result<SearchOutcome, CapacityError>
where
    J: Judge + ?Sized,
    O: Observer + ?Sized,
{
    cfg.validate()?;
    if let Some(ceiling) = judge.max_tps()
        && cfg.max_tps > ceiling
    {
        return Err(CapacityError::Option {
            option: "max_tps",
            message: format!(
                "the search may ask for {} TPS but each step's send rate is capped at {ceiling} TPS (limits.max_tps), and the driver sheds arrivals above its ceiling; lower the search's `max_tps` to {ceiling} or raise the steps' ceiling",
                cfg.max_tps
            ),
        });
    }
    let mut st = State {
        cfg,
        slo,
        judge,
        observer,
        steps: Vec::new(),
        rates: Vec::new(),
        lo: None,
        hi: None,
    };
    let stop = st.run().await;
    let (lo, hi) = (st.lo, st.hi);
    let mut agree = 0u32;
    let mut runs = 0u32;
    for rate in st
        .rates
        .iter()
        .filter(|r| Some(r.tps) == lo || Some(r.tps) == hi)
    {
        runs += rate.runs;
        agree += match rate.verdict {
            Verdict::Pass => rate.passes,
            _ => rate.runs - rate.passes,
        };
    }
    Ok(SearchOutcome {
        max_sustainable_tps: lo,
        confidence_interval: [lo, hi],
        confidence: if runs == 0 {
            0.0
        } else {
            f64::from(agree) / f64::from(runs)
        },
        stop,
        steps: st.steps,
        rates: st.rates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A model system: the SLO passes at or below `boundary`; `noise` flips chosen (rate, run)s.
    struct Model {
        boundary: f64,
        flips: HashMap<(u64, u32), bool>,
        asked: Vec<f64>,
        collapse_at: Option<f64>,
    }

    impl Model {
        fn new(boundary: f64) -> Self {
            Self {
                boundary,
                flips: HashMap::new(),
                asked: Vec::new(),
                collapse_at: None,
            }
        }
    }

    #[async_trait]
    impl Judge for Model {
        async fn measure(&mut self, s: &StepRequest) -> Result<Measurement, CapacityError> {
            self.asked.push(s.tps);
            let mut pass = s.tps <= self.boundary;
            if self.flips.contains_key(&(s.tps as u64, s.run)) {
                pass = !pass;
            }
            let collapsed = self.collapse_at.is_some_and(|c| s.tps >= c);
            Ok(Measurement {
                figures: StepFigures {
                    p99_ms: if pass { 20.0 } else { 400.0 },
                    completed: 1000,
                    errors: if collapsed { 900 } else { 0 },
                    ..kept_up(s.tps)
                },
                ..Measurement::default()
            })
        }
    }

    /// The figures of a step that kept up with `tps` (level trends, no agents).
    fn kept_up(tps: f64) -> StepFigures {
        StepFigures {
            offered_tps: tps,
            achieved_tps: tps,
            backlog_growth: Some(0.0),
            latency_growth: Some(0.0),
            ..StepFigures::default()
        }
    }

    fn run(cfg: &SearchConfig, model: &mut Model) -> SearchOutcome {
        let slo = Slo::parse("p99<250ms").unwrap();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(search(cfg, &slo, model, &mut Quiet))
            .unwrap()
    }

    #[test]
    fn grows_then_bisects_to_the_precision() {
        let mut m = Model::new(3000.0);
        let out = run(&SearchConfig::default(), &mut m);
        assert_eq!(out.stop, StopReason::Converged);
        assert_eq!(
            &m.asked[..7],
            &[100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 2400.0]
        );
        let [lo, hi] = out.confidence_interval;
        let (lo, hi) = (lo.unwrap(), hi.unwrap());
        assert!(
            lo <= 3000.0 && hi > 3000.0 && hi - lo <= 0.02 * lo,
            "[{lo}, {hi}]"
        );
        assert_eq!(out.max_sustainable_tps, Some(lo));
        assert_eq!(out.confidence, 1.0);
        // The last bisection steps are near the boundary: each was run twice (two agreeing runs).
        let last = out.rates.last().unwrap();
        assert_eq!(last.runs, 2);
    }

    #[test]
    fn a_disagreeing_run_is_outvoted_and_lowers_the_confidence() {
        let mut clean = Model::new(3000.0);
        let reference = run(&SearchConfig::default(), &mut clean);
        // A rate that was repeated (near the boundary) and is one end of the final bracket.
        let ends = reference.confidence_interval;
        let repeated = reference
            .rates
            .iter()
            .find(|r| r.runs >= 2 && (Some(r.tps) == ends[0] || Some(r.tps) == ends[1]))
            .unwrap()
            .clone();
        // The same system, but the first run at that rate disagrees.
        let mut noisy = Model::new(3000.0);
        noisy.flips.insert((repeated.tps as u64, 1), true);
        let out = run(&SearchConfig::default(), &mut noisy);
        assert_eq!(out.confidence_interval, reference.confidence_interval);
        let r = out.rates.iter().find(|r| r.tps == repeated.tps).unwrap();
        assert_eq!(r.runs, 3, "{r:?}");
        assert_eq!(r.verdict, repeated.verdict);
        assert!(
            out.confidence < 1.0 && out.confidence > 0.7,
            "{}",
            out.confidence
        );
    }

    #[test]
    fn edges_nothing_passes_max_passes_and_the_kill_switch() {
        let mut m = Model::new(50.0);
        let out = run(&SearchConfig::default(), &mut m);
        assert_eq!(out.stop, StopReason::NothingPassed);
        assert_eq!(out.max_sustainable_tps, None);
        assert_eq!(out.confidence_interval, [None, Some(100.0)]);

        let cfg = SearchConfig {
            max_tps: 1000.0,
            ..SearchConfig::default()
        };
        let mut m = Model::new(1e9);
        let out = run(&cfg, &mut m);
        assert_eq!(out.stop, StopReason::ReachedMaxTps);
        assert_eq!(m.asked, vec![100.0, 200.0, 400.0, 800.0, 1000.0]);
        assert_eq!(out.confidence_interval, [Some(1000.0), None]);

        let mut m = Model::new(5000.0);
        m.collapse_at = Some(6000.0);
        let out = run(&SearchConfig::default(), &mut m);
        assert!(matches!(out.stop, StopReason::Killed { tps, .. } if tps == 6400.0));
        assert_eq!(m.asked.last(), Some(&6400.0), "stopped at once");
        assert_eq!(out.confidence_interval, [Some(3200.0), Some(6400.0)]);
        assert!(!out.found());
        assert_eq!(out.steps.last().unwrap().verdict, Verdict::Killed);
    }

    #[test]
    fn bad_settings_are_refused() {
        let slo = Slo::parse("p99<1s").unwrap();
        for cfg in [
            SearchConfig {
                min_tps: 0.0,
                ..SearchConfig::default()
            },
            SearchConfig {
                min_tps: 10.0,
                max_tps: 5.0,
                ..SearchConfig::default()
            },
            SearchConfig {
                precision: 0.0,
                ..SearchConfig::default()
            },
            SearchConfig {
                kill_error_rate: 1.5,
                ..SearchConfig::default()
            },
        ] {
            let mut m = Model::new(1.0);
            let r = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(search(&cfg, &slo, &mut m, &mut Quiet));
            assert!(matches!(r, Err(CapacityError::Option { .. })), "{cfg:?}");
            assert!(m.asked.is_empty());
        }
    }

    /// A system that answers on time at any rate but serves at most `capacity`: what a latency-only
    /// SLO with short steps saw as sustainable.
    struct FallsBehind {
        capacity: f64,
        ceiling: Option<f64>,
        asked: Vec<f64>,
    }

    #[async_trait]
    impl Judge for FallsBehind {
        fn max_tps(&self) -> Option<f64> {
            self.ceiling
        }

        async fn measure(&mut self, s: &StepRequest) -> Result<Measurement, CapacityError> {
            self.asked.push(s.tps);
            let served = s.tps.min(self.capacity);
            Ok(Measurement {
                figures: StepFigures {
                    p99_ms: 20.0,
                    achieved_tps: served,
                    backlog_growth: Some(1.0 - served / s.tps),
                    ..kept_up(s.tps)
                },
                ..Measurement::default()
            })
        }
    }

    #[test]
    fn a_rate_not_kept_up_with_is_never_sustainable_whatever_the_slo() {
        let slo = Slo::parse("p99<250ms,error_rate<1%").unwrap();
        let mut judge = FallsBehind {
            capacity: 3000.0,
            ceiling: None,
            asked: Vec::new(),
        };
        let out = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(search(
                &SearchConfig::default(),
                &slo,
                &mut judge,
                &mut Quiet,
            ))
            .unwrap();
        assert_eq!(out.stop, StopReason::Converged);
        let answer = out.max_sustainable_tps.unwrap();
        // Up to 2% short of the offered rate is keeping up: the answer is at most 3,000 / 0.98.
        assert!(
            (3000.0 * 0.98..=3000.0 / 0.98).contains(&answer),
            "answer {answer} for a system that serves 3,000 TPS"
        );
        let failed = out.steps.iter().find(|s| s.tps == 3200.0).unwrap();
        assert_eq!(failed.verdict, Verdict::Fail);
        assert!(
            failed.failed.iter().any(|f| f.contains("achieved/offered")),
            "{:?}",
            failed.failed
        );
    }

    #[test]
    fn a_search_above_the_judges_ceiling_is_refused_before_any_step() {
        let slo = Slo::parse("p99<250ms").unwrap();
        let mut judge = FallsBehind {
            capacity: 3000.0,
            ceiling: Some(5000.0),
            asked: Vec::new(),
        };
        let r = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(search(
                &SearchConfig::default(),
                &slo,
                &mut judge,
                &mut Quiet,
            ));
        match r {
            Err(CapacityError::Option { option, message }) => {
                assert_eq!(option, "max_tps");
                assert!(
                    message.contains("60000") && message.contains("5000"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(judge.asked.is_empty());
        let cfg = SearchConfig {
            max_tps: 5000.0,
            ..SearchConfig::default()
        };
        let r = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(search(&cfg, &slo, &mut judge, &mut Quiet));
        assert!(r.is_ok(), "{r:?}");
    }

    proptest! {
        #[test]
        fn never_above_max_and_converges_around_a_monotone_boundary(
            min in 1.0f64..2000.0,
            span in 1.0f64..200.0,
            boundary_share in 0.0f64..1.5,
            precision in 0.005f64..0.2,
        ) {
            let max = (min * span).round().max(min);
            let boundary = min * 0.5 + boundary_share * (max - min * 0.5);
            let cfg = SearchConfig { min_tps: min, max_tps: max, precision, ..SearchConfig::default() };
            let mut m = Model::new(boundary);
            let out = run(&cfg, &mut m);
            prop_assert!(m.asked.iter().all(|&r| r <= max), "asked {:?} above {max}", m.asked);
            match out.stop {
                StopReason::NothingPassed => prop_assert!(boundary < min),
                StopReason::ReachedMaxTps => prop_assert!(boundary >= max),
                StopReason::Converged => {
                    let lo = out.confidence_interval[0].unwrap();
                    let hi = out.confidence_interval[1].unwrap();
                    prop_assert!(lo <= boundary && boundary < hi, "[{lo}, {hi}] misses {boundary}");
                    prop_assert!(hi - lo <= precision * lo || hi - lo <= 1.0, "[{lo}, {hi}] wider than {precision}");
                    prop_assert_eq!(out.confidence, 1.0);
                }
                other => prop_assert!(false, "unexpected stop {other:?}"),
            }
        }
    }
}

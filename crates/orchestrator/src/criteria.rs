//! Evaluating success criteria: at the end of a run over the summary (or a window of ticks), and each
//! tick for the `abort_on_fail` ones.
//!
//! A criterion on a figure that was not measured ([`metric_paths::Reading::NotMeasured`]) reads "not
//! measured" and fails, or is skipped when the criterion (or else the scenario) says
//! `when_unmeasured = "skip"`.

use crate::metric_paths::{self, Reading, Unmeasured};
use crate::window;
use models::{
    CriterionOutcome, CriterionResult, CriterionSpec, IntervalSnapshot, Summary, UptimeRule,
    WhenUnmeasured,
};

/// The name shown for a criterion: its own, or `metric op threshold` plus its scope.
pub fn label(c: &CriterionSpec) -> String {
    if let Some(name) = &c.name {
        return name.clone();
    }
    let mut label = c.display_name();
    let fmt = |d: std::time::Duration| models::duration_serde::format(d);
    match (c.from, c.to) {
        (Some(f), Some(t)) => label.push_str(&format!(" from {} to {}", fmt(f), fmt(t))),
        (Some(f), None) => label.push_str(&format!(" from {}", fmt(f))),
        (None, Some(t)) => label.push_str(&format!(" up to {}", fmt(t))),
        (None, None) => {}
    }
    if let Some(p) = &c.phase {
        label.push_str(&format!(" in phase {p}"));
    }
    if c.outside_faults {
        label.push_str(" outside faults");
    }
    label
}

/// The criterion's metric over its scope, or why it was not measured; `None` when the metric path is
/// unknown.
pub fn actual(c: &CriterionSpec, summary: &Summary, ticks: &[IntervalSnapshot]) -> Option<Reading> {
    if window::is_scoped(c) {
        let idx = window::select(c, ticks);
        if idx.is_empty() {
            return metric_paths::is_supported(&c.metric)
                .then_some(Reading::NotMeasured(Unmeasured::NoTicksInScope));
        }
        let part = window::summarize(ticks, &idx, summary);
        let refs: Vec<&IntervalSnapshot> = idx.iter().map(|&i| &ticks[i]).collect();
        metric_paths::value(&c.metric, &part, &refs)
    } else {
        let refs: Vec<&IntervalSnapshot> = ticks.iter().collect();
        metric_paths::value(&c.metric, summary, &refs)
    }
}

/// The ticks whose encoded histograms [`evaluate`] merges for `criteria`, by index in `ticks`: every
/// tick in a scoped criterion's scope (its latency percentiles pool them) and the tenths a drift
/// reads. A run keeps its ticks without histograms (2 to 3 KB a tick, the most of what a long run
/// would otherwise accumulate) and reads these back from `intervals.jsonl` before evaluating.
pub fn ticks_needing_histograms(
    criteria: &[CriterionSpec],
    ticks: &[IntervalSnapshot],
) -> std::collections::BTreeSet<usize> {
    let mut out = std::collections::BTreeSet::new();
    for c in criteria {
        let idx: Vec<usize> = if window::is_scoped(c) {
            let idx = window::select(c, ticks);
            out.extend(idx.iter().copied());
            idx
        } else {
            (0..ticks.len()).collect()
        };
        let refs: Vec<&IntervalSnapshot> = idx.iter().map(|&i| &ticks[i]).collect();
        out.extend(
            metric_paths::histogram_ticks(&c.metric, &refs)
                .into_iter()
                .map(|j| idx[j]),
        );
    }
    out
}

/// Evaluates every criterion at the end of a run. A criterion whose figure was not measured (no tick in
/// its scope, no agents, ...) is `NotMeasured` and fails, or `Skipped` under `when_unmeasured = "skip"`
/// (its own, else `scenario_default`). A metric path that does not exist always fails.
pub fn evaluate(
    criteria: &[CriterionSpec],
    scenario_default: WhenUnmeasured,
    summary: &Summary,
    ticks: &[IntervalSnapshot],
) -> Vec<CriterionResult> {
    criteria
        .iter()
        .map(|c| {
            let outcome = match actual(c, summary, ticks) {
                Some(Reading::Measured(v)) if c.op.holds(v, c.threshold) => {
                    CriterionOutcome::Passed { actual: v }
                }
                Some(Reading::Measured(v)) => CriterionOutcome::Failed { actual: v },
                Some(Reading::NotMeasured(why)) => {
                    let reason = why.to_string();
                    match c.when_unmeasured.unwrap_or(scenario_default) {
                        WhenUnmeasured::Fail => CriterionOutcome::NotMeasured { reason },
                        WhenUnmeasured::Skip => CriterionOutcome::Skipped { reason },
                    }
                }
                None => CriterionOutcome::NotMeasured {
                    reason: format!(
                        "{:?} is not a metric path (did you mean {:?}? the paths are listed in docs/results.md)",
                        c.metric,
                        metric_paths::closest(&c.metric)
                    ),
                },
            };
            CriterionResult {
                name: label(c),
                op: c.op,
                limit: c.threshold,
                outcome,
            }
        })
        .collect()
}

/// Judges the `abort_on_fail` criteria tick by tick. Each keeps a running [`window::Accumulator`] of
/// the ticks in its scope, so a check costs one tick's work however long the run.
#[derive(Debug, Default)]
pub struct AbortWatch {
    items: Vec<(CriterionSpec, window::Accumulator, Vec<usize>)>,
}

impl AbortWatch {
    /// The watch of the `abort_on_fail` criteria, judging uptime by the default [`UptimeRule`].
    pub fn new(criteria: &[CriterionSpec]) -> Self {
        Self::with_uptime(criteria, UptimeRule::default())
    }

    /// The watch, judging uptime by the scenario's rule.
    pub fn with_uptime(criteria: &[CriterionSpec], uptime: UptimeRule) -> Self {
        let items = criteria
            .iter()
            .filter(|c| c.abort_on_fail)
            .map(|c| {
                (
                    c.clone(),
                    window::Accumulator::with_uptime(uptime),
                    Vec::new(),
                )
            })
            .collect();
        Self { items }
    }

    /// Takes in the last tick of `ticks` (call once per tick) and returns the first criterion that
    /// now fails, as `(name, actual, threshold)`. A criterion is judged only on ticks in its scope,
    /// over its ticks so far; a figure not measured yet is not judged (it may be by the end).
    pub fn check(&mut self, ticks: &[IntervalSnapshot]) -> Option<(String, f64, f64)> {
        let (last, before) = ticks.split_last()?;
        self.check_next(last, before)
    }

    /// Like [`check`](Self::check) for a tick not yet appended to the run's ticks: `last` follows
    /// `before`.
    pub fn check_next(
        &mut self,
        last: &IntervalSnapshot,
        before: &[IntervalSnapshot],
    ) -> Option<(String, f64, f64)> {
        let i = before.len();
        let prev = before.last();
        let mut failed = None;
        for (c, acc, idx) in &mut self.items {
            if !window::in_scope(c, last) {
                continue;
            }
            acc.add(last, prev);
            idx.push(i);
            if failed.is_some() {
                continue;
            }
            let part = acc.summary(&Summary::default());
            let refs: Vec<&IntervalSnapshot> =
                idx.iter().map(|&j| before.get(j).unwrap_or(last)).collect();
            if let Some(Reading::Measured(v)) = metric_paths::value(&c.metric, &part, &refs)
                && !c.op.holds(v, c.threshold)
            {
                failed = Some((label(c), v, c.threshold));
            }
        }
        failed
    }
}

/// The first `abort_on_fail` criterion that fails when judged after the last of `ticks` (see
/// [`AbortWatch`], which the orchestrator keeps across ticks).
pub fn first_abort(
    criteria: &[CriterionSpec],
    ticks: &[IntervalSnapshot],
) -> Option<(String, f64, f64)> {
    let mut watch = AbortWatch::new(criteria);
    let mut verdict = None;
    for n in 1..=ticks.len() {
        verdict = watch.check(&ticks[..n]);
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Comparison, Percentiles};
    use std::time::Duration;

    fn tick(t_s: f64, p99: f64, errors: u64) -> IntervalSnapshot {
        let mut t = IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            scheduled: 100,
            sent: 100,
            completed: 100,
            ok: 100 - errors,
            latency_ms: Percentiles {
                count: 100,
                p99,
                ..Default::default()
            },
            ..Default::default()
        };
        if errors > 0 {
            t.errors.insert(models::ErrorKind::Http5xx, errors);
        }
        t
    }

    #[test]
    fn whole_run_and_windowed_criteria() {
        // Slow start (first 2 s), fast middle, an error burst at 6 s inside a fault.
        let mut ticks: Vec<IntervalSnapshot> = (1..=10)
            .map(|s| tick(s as f64, if s <= 2 { 900.0 } else { 100.0 }, 0))
            .collect();
        ticks[5] = tick(6.0, 100.0, 50);
        ticks[5].active_faults = vec!["agent_crash".into()];
        let mut summary = Summary {
            duration_s: 10.0,
            ..Default::default()
        };
        summary.latency_ms.p99 = 900.0;
        summary.latency_ms.count = 1000;
        summary.errors.rate = 50.0 / 1000.0;
        summary.load.sent = 1000;

        let whole = CriterionSpec::new("latency_ms.p99", Comparison::Lt, 500.0);
        let mut windowed = whole.clone();
        windowed.from = Some(Duration::from_secs(2));
        windowed.to = Some(Duration::from_secs(10));
        let mut errors_outside = CriterionSpec::new("errors.rate", Comparison::Lt, 0.001);
        errors_outside.outside_faults = true;
        let errors_all = CriterionSpec::new("errors.rate", Comparison::Lt, 0.001);
        let mut empty_window = whole.clone();
        empty_window.from = Some(Duration::from_secs(100));

        let r = evaluate(
            &[whole, windowed, errors_outside, errors_all, empty_window],
            WhenUnmeasured::Fail,
            &summary,
            &ticks,
        );
        assert_eq!(r[0].outcome, CriterionOutcome::Failed { actual: 900.0 });
        assert!(r[1].passed(), "{:?}", r[1]);
        assert_eq!(r[1].actual(), Some(100.0));
        assert_eq!(r[1].name, "latency_ms.p99 < 500 from 2s to 10s");
        assert_eq!((r[1].op, r[1].limit), (Comparison::Lt, 500.0));
        assert_eq!(r[1].threshold(), "< 500");
        assert_eq!(r[2].outcome, CriterionOutcome::Passed { actual: 0.0 });
        assert!(!r[3].passed() && (r[3].actual().unwrap() - 0.05).abs() < 1e-12);
        assert_eq!(
            r[4].outcome,
            CriterionOutcome::NotMeasured {
                reason: Unmeasured::NoTicksInScope.to_string()
            }
        );
    }

    #[test]
    fn a_criterion_on_a_figure_not_measured_fails_unless_told_to_skip() {
        // No agents reported, no fault ran: today's vacuous 100 and 0 would pass these.
        let summary = Summary::default();
        let health = CriterionSpec::new("agents.min_health", Comparison::Ge, 80.0);
        let cascades = CriterionSpec::new("resilience.cascades", Comparison::Le, 0.0);
        let mut skip_own = health.clone();
        skip_own.when_unmeasured = Some(WhenUnmeasured::Skip);
        let criteria = [health.clone(), cascades.clone(), skip_own];
        let r = evaluate(&criteria, WhenUnmeasured::Fail, &summary, &[]);
        assert!(
            matches!(&r[0].outcome, CriterionOutcome::NotMeasured { reason } if reason.contains("no per-agent timings")),
            "{:?}",
            r[0]
        );
        assert!(!r[0].passed() && !r[1].passed());
        assert_eq!(r[0].verdict(), "FAIL (not measured)");
        assert!(
            matches!(&r[2].outcome, CriterionOutcome::Skipped { .. }) && r[2].passed(),
            "the criterion's own setting: {:?}",
            r[2]
        );

        // The scenario's setting, unless the criterion says otherwise.
        let mut fail_own = cascades.clone();
        fail_own.when_unmeasured = Some(WhenUnmeasured::Fail);
        let r = evaluate(
            &[health, cascades, fail_own],
            WhenUnmeasured::Skip,
            &summary,
            &[],
        );
        assert!(r[0].passed() && r[1].passed() && !r[2].passed(), "{r:?}");

        // A path that does not exist is never skipped.
        let typo = CriterionSpec::new("agents.min_helth", Comparison::Ge, 80.0);
        let r = evaluate(&[typo], WhenUnmeasured::Skip, &summary, &[]);
        assert!(
            matches!(&r[0].outcome, CriterionOutcome::NotMeasured { reason } if reason.contains("agents.min_health")),
            "{r:?}"
        );
    }

    #[test]
    fn abort_criteria_are_judged_on_the_ticks_so_far() {
        let mut c = CriterionSpec::new("errors.rate", Comparison::Lt, 0.1);
        c.abort_on_fail = true;
        c.from = Some(Duration::from_secs(3));
        let mut ticks = vec![tick(1.0, 1.0, 90), tick(2.0, 1.0, 0)];
        assert!(
            first_abort(std::slice::from_ref(&c), &ticks).is_none(),
            "errors before the window do not count"
        );
        ticks.push(tick(3.0, 1.0, 0));
        ticks.push(tick(4.0, 1.0, 30));
        let (name, actual, threshold) = first_abort(std::slice::from_ref(&c), &ticks).unwrap();
        assert!(name.starts_with("errors.rate < 0.1"));
        assert!(
            (actual - 0.3).abs() < 1e-12,
            "only the tick ending at 4 s has its midpoint after 3 s"
        );
        assert_eq!(threshold, 0.1);
        c.abort_on_fail = false;
        assert!(first_abort(&[c], &ticks).is_none());
    }
}

//! Evaluating success criteria: at the end of a run over the summary (or a window of ticks), and each
//! tick for the `abort_on_fail` ones.

use crate::{metric_paths, window};
use models::{CriterionResult, CriterionSpec, IntervalSnapshot, Summary};

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

fn threshold_text(c: &CriterionSpec) -> String {
    format!("{} {}", c.op.symbol(), c.threshold)
}

/// The value of a criterion's metric over its scope, or `None` when there is no data.
pub fn actual(c: &CriterionSpec, summary: &Summary, ticks: &[IntervalSnapshot]) -> Option<f64> {
    if window::is_scoped(c) {
        let idx = window::select(c, ticks);
        if idx.is_empty() {
            return None;
        }
        let part = window::summarize(ticks, &idx, summary);
        let refs: Vec<&IntervalSnapshot> = idx.iter().map(|&i| &ticks[i]).collect();
        metric_paths::value(&c.metric, &part, &refs)
    } else {
        let refs: Vec<&IntervalSnapshot> = ticks.iter().collect();
        metric_paths::value(&c.metric, summary, &refs)
    }
}

/// Evaluates every criterion at the end of a run. A criterion with no data in its scope fails, with
/// `actual` 0 and "(no data)" after its name.
pub fn evaluate(
    criteria: &[CriterionSpec],
    summary: &Summary,
    ticks: &[IntervalSnapshot],
) -> Vec<CriterionResult> {
    criteria
        .iter()
        .map(|c| match actual(c, summary, ticks) {
            Some(v) => CriterionResult {
                name: label(c),
                threshold: threshold_text(c),
                actual: v,
                passed: c.op.holds(v, c.threshold),
            },
            None => CriterionResult {
                name: format!("{} (no data)", label(c)),
                threshold: threshold_text(c),
                actual: 0.0,
                passed: false,
            },
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
    pub fn new(criteria: &[CriterionSpec]) -> Self {
        let items = criteria
            .iter()
            .filter(|c| c.abort_on_fail)
            .map(|c| (c.clone(), window::Accumulator::new(), Vec::new()))
            .collect();
        Self { items }
    }

    /// Takes in the last tick of `ticks` (call once per tick) and returns the first criterion that
    /// now fails, as `(name, actual, threshold)`. A criterion is judged only on ticks in its scope,
    /// over its ticks so far; a metric that needs data the run does not have yet is not judged.
    pub fn check(&mut self, ticks: &[IntervalSnapshot]) -> Option<(String, f64, f64)> {
        let i = ticks.len().checked_sub(1)?;
        let (last, prev) = (&ticks[i], i.checked_sub(1).map(|p| &ticks[p]));
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
            let refs: Vec<&IntervalSnapshot> = idx.iter().map(|&j| &ticks[j]).collect();
            if let Some(v) = metric_paths::value(&c.metric, &part, &refs)
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
            &summary,
            &ticks,
        );
        assert!(!r[0].passed && r[0].actual == 900.0);
        assert!(r[1].passed, "{:?}", r[1]);
        assert_eq!(r[1].actual, 100.0);
        assert_eq!(r[1].name, "latency_ms.p99 < 500 from 2s to 10s");
        assert_eq!(r[1].threshold, "< 500");
        assert!(r[2].passed && r[2].actual == 0.0, "{:?}", r[2]);
        assert!(!r[3].passed && (r[3].actual - 0.05).abs() < 1e-12);
        assert!(!r[4].passed && r[4].name.ends_with("(no data)"));
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

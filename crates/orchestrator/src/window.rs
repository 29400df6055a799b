//! Criteria scoped to part of a run: choosing the ticks of a window, phase or the time outside faults,
//! and summarizing just those ticks.
//!
//! A tick covers `(t_s - interval_s, t_s]`; it belongs to a `from`/`to` window when its midpoint lies in
//! `[from, to]`. Latency percentiles over several ticks come from merging the ticks' HDR histograms;
//! when a tick carries no histogram, the window's percentiles are the largest of the ticks' own
//! percentiles (an upper bound) and its mean is the count-weighted mean of the ticks' means (the rule
//! is [`metrics_core::pool`]'s, shared with the merge of a distributed run's segments).

use metrics_core::{PercentilePool, pool_percentiles};
use models::{
    AgentStats, Confusion, CriterionSpec, ErrorKind, FraudSummary, IntervalSnapshot, Percentiles,
    Summary, UptimeRule, UptimeTally,
};
use std::collections::BTreeMap;

/// Whether a criterion looks at only part of the run.
pub fn is_scoped(c: &CriterionSpec) -> bool {
    c.from.is_some() || c.to.is_some() || c.phase.is_some() || c.outside_faults
}

/// Whether tick `t` falls in the criterion's scope.
pub fn in_scope(c: &CriterionSpec, t: &IntervalSnapshot) -> bool {
    let mid = t.t_s - t.interval_s / 2.0;
    if c.from.is_some_and(|f| mid < f.as_secs_f64())
        || c.to.is_some_and(|to| mid > to.as_secs_f64())
    {
        return false;
    }
    if let Some(phase) = &c.phase
        && t.phase.as_deref() != Some(phase.as_str())
    {
        return false;
    }
    !c.outside_faults || t.active_faults.is_empty()
}

/// Indices of the ticks in the criterion's scope.
pub fn select(c: &CriterionSpec, ticks: &[IntervalSnapshot]) -> Vec<usize> {
    (0..ticks.len())
        .filter(|&i| in_scope(c, &ticks[i]))
        .collect()
}

/// Latency (from the intended send) over several ticks.
pub fn latency_over(ticks: &[&IntervalSnapshot]) -> Percentiles {
    pool_percentiles(ticks.iter().map(|t| {
        (
            &t.latency_ms,
            t.histograms.as_ref().map(|h| h.latency_us.as_str()),
        )
    }))
}

/// Service time (from the actual send) over several ticks.
pub fn service_time_over(ticks: &[&IntervalSnapshot]) -> Percentiles {
    pool_percentiles(ticks.iter().map(|t| {
        (
            &t.service_time_ms,
            t.histograms.as_ref().map(|h| h.service_time_us.as_str()),
        )
    }))
}

/// Figures of a set of ticks, added one tick at a time: what a scoped criterion reads. Keeping one
/// per `abort_on_fail` criterion makes the per-tick check cost one tick's work, not the run's.
#[derive(Debug, Default)]
pub struct Accumulator {
    ticks: usize,
    uptime: UptimeTally,
    duration: f64,
    planned: f64,
    load: models::LoadSummary,
    by_kind: BTreeMap<ErrorKind, u64>,
    confusion: Confusion,
    prevented: f64,
    declined: f64,
    cost: f64,
    latency: PercentilePool,
    service: PercentilePool,
    /// Per agent: the sums behind request-weighted means, and the ticks it served in.
    agents: BTreeMap<String, (AgentStats, f64)>,
    span: Option<(f64, f64)>,
}

impl Accumulator {
    /// An empty accumulator judging uptime by the default [`UptimeRule`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty accumulator judging uptime by `rule` (the scenario's).
    pub fn with_uptime(rule: UptimeRule) -> Self {
        Self {
            uptime: UptimeTally::new(rule),
            ..Self::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ticks == 0
    }

    /// Adds tick `t`; `prev` is the tick before it in the run (for the growth of cumulative money).
    pub fn add(&mut self, t: &IntervalSnapshot, prev: Option<&IntervalSnapshot>) {
        self.ticks += 1;
        self.uptime.add(t);
        self.duration += t.interval_s;
        self.planned += t.planned_tps * t.interval_s;
        let l = &mut self.load;
        l.scheduled += t.scheduled;
        l.sent += t.sent;
        l.completed += t.completed;
        l.dropped += t.dropped;
        l.peak_tps = l.peak_tps.max(t.achieved_tps);
        for (k, v) in &t.errors {
            if *k != ErrorKind::Dropped {
                *self.by_kind.entry(*k).or_default() += v;
            }
        }
        self.confusion.add(&t.fraud);
        let zero = models::Cumulative::default();
        let before = prev.map_or(&zero, |p| &p.cumulative);
        self.prevented += t.cumulative.prevented_amount - before.prevented_amount;
        self.declined += t.cumulative.false_decline_amount - before.false_decline_amount;
        self.cost += t.cumulative.cost - before.cost;
        let h = t.histograms.as_ref();
        self.latency
            .add(&t.latency_ms, h.map(|h| h.latency_us.as_str()));
        self.service
            .add(&t.service_time_ms, h.map(|h| h.service_time_us.as_str()));
        for a in t.agents.iter().filter(|a| a.requests > 0) {
            let (sum, n) = self.agents.entry(a.name.clone()).or_insert_with(|| {
                (
                    AgentStats {
                        name: a.name.clone(),
                        ..AgentStats::default()
                    },
                    0.0,
                )
            });
            let w = a.requests as f64;
            sum.requests += a.requests;
            sum.mean_ms += a.mean_ms * w;
            sum.success_rate += a.success_rate * w;
            sum.health += a.health * w;
            sum.utilization += a.utilization;
            sum.p99_ms = sum.p99_ms.max(a.p99_ms);
            *n += 1.0;
        }
        let (start, end) = (t.t_s - t.interval_s, t.t_s);
        self.span = Some(self.span.map_or((start, end), |(s, _)| (s, end)));
    }

    /// The summary of the ticks added so far. Ids, target and currency come from `whole`, and so do
    /// the fault results that overlap the ticks.
    pub fn summary(&self, whole: &Summary) -> Summary {
        let mut s = Summary {
            run_id: whole.run_id.clone(),
            scenario: whole.scenario.clone(),
            seed: whole.seed,
            started_at: whole.started_at.clone(),
            target: whole.target.clone(),
            duration_s: self.duration,
            load: self.load.clone(),
            ..Summary::default()
        };
        if self.duration > 0.0 {
            s.load.target_tps_avg = self.planned / self.duration;
            s.load.achieved_tps_avg = s.load.completed as f64 / self.duration;
        }
        s.latency_ms = self.latency.percentiles();
        s.service_time_ms = self.service.percentiles();
        s.errors.total = self.by_kind.values().sum();
        s.errors.rate = if s.load.sent == 0 {
            0.0
        } else {
            s.errors.total as f64 / s.load.sent as f64
        };
        s.errors.by_kind = self.by_kind.clone();
        let c = self.confusion;
        s.fraud = FraudSummary {
            tp: c.tp,
            fp: c.fp,
            tn: c.tn,
            fn_: c.fn_,
            unscored: c.unscored,
            precision: c.precision(),
            recall: c.recall(),
            recall_effective: c.recall_effective(),
            accuracy: c.accuracy(),
            f1: c.f1(),
            prevented_amount: self.prevented,
            false_decline_amount: self.declined,
            currency: whole.fraud.currency,
            per_pattern: BTreeMap::new(),
        };
        let cost = self.cost;
        s.business.total_cost = cost;
        s.business.cost_per_txn = if s.load.completed == 0 {
            0.0
        } else {
            cost / s.load.completed as f64
        };
        let model = &whole.business.cost_model;
        s.business.false_decline_loss = model.false_decline_loss(self.declined);
        s.business.roi_pct = model.roi_pct(self.prevented, self.declined, cost);
        s.business.cost_model = model.clone();
        s.agents = self
            .agents
            .values()
            .map(|(sum, ticks)| {
                let mut a = sum.clone();
                let w = a.requests as f64;
                a.mean_ms /= w;
                a.success_rate /= w;
                a.health /= w;
                a.utilization /= ticks;
                a
            })
            .collect();
        s.resilience.uptime_pct = self.uptime.pct();
        s.resilience.uptime_rule = Some(self.uptime.rule());
        if let Some((start, end)) = self.span {
            s.resilience.faults = whole
                .resilience
                .faults
                .iter()
                .filter(|f| f.start_s < end && f.end_s > start)
                .cloned()
                .collect();
        }
        s
    }
}

/// A summary of the ticks at `indices` (business amounts from the per-tick growth of the cumulative
/// figures). Fault results are those of `whole` that overlap the window; uptime follows `whole`'s rule.
pub fn summarize(all: &[IntervalSnapshot], indices: &[usize], whole: &Summary) -> Summary {
    let mut acc = Accumulator::with_uptime(whole.resilience.uptime_rule.unwrap_or_default());
    for &i in indices {
        acc.add(&all[i], i.checked_sub(1).map(|p| &all[p]));
    }
    acc.summary(whole)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram;
    use models::Comparison;
    use std::time::Duration;

    pub(crate) fn tick(t_s: f64, p99: f64) -> IntervalSnapshot {
        IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            scheduled: 100,
            sent: 100,
            completed: 100,
            ok: 100,
            achieved_tps: 100.0,
            planned_tps: 100.0,
            latency_ms: Percentiles {
                count: 100,
                mean: p99 / 2.0,
                p99,
                max: p99,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn windows_pick_ticks_by_midpoint_phase_and_faults() {
        let mut ticks: Vec<IntervalSnapshot> = (1..=10).map(|s| tick(s as f64, 1.0)).collect();
        ticks[4].phase = Some("hold".into());
        ticks[5].phase = Some("hold".into());
        ticks[6].active_faults = vec!["agent_crash".into()];
        let mut c = models::CriterionSpec::new("latency_ms.p99", Comparison::Lt, 1.0);
        assert!(!is_scoped(&c));
        assert_eq!(select(&c, &ticks).len(), 10);
        c.from = Some(Duration::from_secs(2));
        c.to = Some(Duration::from_secs(5));
        // Ticks ending at 3, 4, 5 have midpoints 2.5, 3.5, 4.5.
        assert_eq!(select(&c, &ticks), vec![2, 3, 4]);
        let mut phase = models::CriterionSpec::new("errors.rate", Comparison::Lt, 1.0);
        phase.phase = Some("hold".into());
        assert_eq!(select(&phase, &ticks), vec![4, 5]);
        let mut outside = models::CriterionSpec::new("errors.rate", Comparison::Lt, 1.0);
        outside.outside_faults = true;
        assert_eq!(select(&outside, &ticks).len(), 9);
        assert!(!select(&outside, &ticks).contains(&6));
    }

    #[test]
    fn window_summary_sums_counts_and_bounds_percentiles() {
        let mut ticks: Vec<IntervalSnapshot> =
            (1..=4).map(|s| tick(s as f64, s as f64 * 10.0)).collect();
        ticks[1].errors.insert(ErrorKind::Timeout, 5);
        ticks[1].errors.insert(ErrorKind::Dropped, 7);
        for (i, t) in ticks.iter_mut().enumerate() {
            t.cumulative.cost = (i + 1) as f64 * 2.0;
        }
        let s = summarize(&ticks, &[1, 2], &Summary::default());
        assert_eq!(s.load.sent, 200);
        assert_eq!(s.errors.total, 5, "dropped arrivals are not errors");
        assert!((s.errors.rate - 0.025).abs() < 1e-12);
        assert_eq!(
            s.latency_ms.p99, 30.0,
            "without histograms the window p99 is the worst tick's"
        );
        assert_eq!(s.latency_ms.count, 200);
        assert!(
            (s.business.total_cost - 4.0).abs() < 1e-12,
            "cost grew by 2 per tick"
        );
        assert_eq!(s.duration_s, 2.0);
        assert_eq!(s.resilience.uptime_pct, 100.0);
    }

    #[test]
    fn window_uptime_follows_the_run_s_rule() {
        let mut ticks: Vec<IntervalSnapshot> = (1..=4).map(|s| tick(s as f64, 1.0)).collect();
        // Tick 2: half the due requests failed; one verdict used to be enough to count it up.
        ticks[1].ok = 50;
        let mut whole = Summary::default();
        let all = [0, 1, 2, 3];
        assert_eq!(summarize(&ticks, &all, &whole).resilience.uptime_pct, 75.0);
        whole.resilience.uptime_rule = Some(UptimeRule {
            max_error_rate: 0.5,
        });
        assert_eq!(summarize(&ticks, &all, &whole).resilience.uptime_pct, 100.0);
    }

    #[test]
    fn histograms_are_merged_when_every_tick_has_one() {
        let mut ticks = Vec::new();
        for (i, base) in [1_000u64, 100_000].into_iter().enumerate() {
            let mut h = histogram::empty();
            for _ in 0..100 {
                h.record(base).unwrap();
            }
            let mut t = tick(i as f64 + 1.0, base as f64 / 1000.0);
            t.histograms = Some(models::EncodedHistograms {
                latency_us: histogram::encode(&h),
                service_time_us: histogram::encode(&h),
            });
            ticks.push(t);
        }
        let refs: Vec<&IntervalSnapshot> = ticks.iter().collect();
        let p = latency_over(&refs);
        assert_eq!(p.count, 200);
        assert!(
            (p.p50 - 1.0).abs() < 0.01,
            "merged median is 1 ms, not the worst tick's: {p:?}"
        );
        assert!((p.p99 - 100.0).abs() < 0.1, "{p:?}");
    }
}

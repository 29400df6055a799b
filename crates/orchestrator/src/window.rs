//! Criteria scoped to part of a run: choosing the ticks of a window, phase or the time outside faults,
//! and summarizing just those ticks.
//!
//! A tick covers `(t_s - interval_s, t_s]`; it belongs to a `from`/`to` window when its midpoint lies in
//! `[from, to]`. Latency percentiles over several ticks come from merging the ticks' HDR histograms;
//! when a tick carries no histogram, the window's percentiles are the largest of the ticks' own
//! percentiles (an upper bound) and its mean is the count-weighted mean of the ticks' means.

use crate::histogram;
use models::{
    AgentStats, Confusion, CriterionSpec, ErrorKind, FraudSummary, IntervalSnapshot, Percentiles,
    Summary,
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
    combine(ticks, |t| &t.latency_ms, |h| &h.latency_us)
}

/// Service time (from the actual send) over several ticks.
pub fn service_time_over(ticks: &[&IntervalSnapshot]) -> Percentiles {
    combine(ticks, |t| &t.service_time_ms, |h| &h.service_time_us)
}

fn combine(
    ticks: &[&IntervalSnapshot],
    pct: impl Fn(&IntervalSnapshot) -> &Percentiles,
    hist: impl Fn(&models::EncodedHistograms) -> &String,
) -> Percentiles {
    let encoded: Option<Vec<&str>> = ticks
        .iter()
        .map(|t| t.histograms.as_ref().map(|h| hist(h).as_str()))
        .collect();
    if let Some(encoded) = encoded
        && let Ok(h) = histogram::merge(encoded)
    {
        // The exact mean: the ticks' exact means weighted by their counts.
        let sum_us: f64 = ticks
            .iter()
            .map(|t| pct(t).mean * 1000.0 * pct(t).count as f64)
            .sum();
        return histogram::percentiles_ms(&h, sum_us);
    }
    let mut out = Percentiles::default();
    let mut weighted = 0.0;
    for t in ticks {
        let p = pct(t);
        if p.count == 0 {
            continue;
        }
        out.count += p.count;
        weighted += p.mean * p.count as f64;
        out.p50 = out.p50.max(p.p50);
        out.p90 = out.p90.max(p.p90);
        out.p95 = out.p95.max(p.p95);
        out.p99 = out.p99.max(p.p99);
        out.p999 = out.p999.max(p.p999);
        out.max = out.max.max(p.max);
    }
    if out.count > 0 {
        out.mean = weighted / out.count as f64;
    }
    out
}

/// A summary of the ticks at `indices` (business amounts from the per-tick growth of the cumulative
/// figures). Fault results are those of `whole` that overlap the window.
pub fn summarize(all: &[IntervalSnapshot], indices: &[usize], whole: &Summary) -> Summary {
    let ticks: Vec<&IntervalSnapshot> = indices.iter().map(|&i| &all[i]).collect();
    let mut s = Summary {
        run_id: whole.run_id.clone(),
        scenario: whole.scenario.clone(),
        seed: whole.seed,
        started_at: whole.started_at.clone(),
        target: whole.target.clone(),
        ..Summary::default()
    };
    let duration: f64 = ticks.iter().map(|t| t.interval_s).sum();
    s.duration_s = duration;

    let mut by_kind: BTreeMap<ErrorKind, u64> = BTreeMap::new();
    let mut confusion = Confusion::default();
    let (mut prevented, mut declined, mut cost, mut planned) = (0.0, 0.0, 0.0, 0.0);
    for &i in indices {
        let t = &all[i];
        s.load.scheduled += t.scheduled;
        s.load.sent += t.sent;
        s.load.completed += t.completed;
        s.load.dropped += t.dropped;
        s.load.peak_tps = s.load.peak_tps.max(t.achieved_tps);
        planned += t.planned_tps * t.interval_s;
        for (k, v) in &t.errors {
            if *k != ErrorKind::Dropped {
                *by_kind.entry(*k).or_default() += v;
            }
        }
        confusion.add(&t.fraud);
        let prev = if i == 0 {
            models::Cumulative::default()
        } else {
            all[i - 1].cumulative.clone()
        };
        prevented += t.cumulative.prevented_amount - prev.prevented_amount;
        declined += t.cumulative.false_decline_amount - prev.false_decline_amount;
        cost += t.cumulative.cost - prev.cost;
    }
    if duration > 0.0 {
        s.load.target_tps_avg = planned / duration;
        s.load.achieved_tps_avg = s.load.completed as f64 / duration;
    }
    s.latency_ms = latency_over(&ticks);
    s.service_time_ms = service_time_over(&ticks);
    s.errors.total = by_kind.values().sum();
    s.errors.rate = if s.load.sent == 0 {
        0.0
    } else {
        s.errors.total as f64 / s.load.sent as f64
    };
    s.errors.by_kind = by_kind;
    s.fraud = FraudSummary {
        tp: confusion.tp,
        fp: confusion.fp,
        tn: confusion.tn,
        fn_: confusion.fn_,
        precision: confusion.precision(),
        recall: confusion.recall(),
        accuracy: confusion.accuracy(),
        f1: confusion.f1(),
        prevented_amount: prevented,
        false_decline_amount: declined,
        currency: whole.fraud.currency,
        per_pattern: BTreeMap::new(),
    };
    s.business.total_cost = cost;
    s.business.cost_per_txn = if s.load.completed == 0 {
        0.0
    } else {
        cost / s.load.completed as f64
    };
    s.business.roi_pct = if cost > 0.0 {
        (prevented - cost) / cost * 100.0
    } else {
        0.0
    };
    s.business.cost_model = whole.business.cost_model.clone();
    s.agents = agents_over(&ticks);
    let up = ticks
        .iter()
        .filter(|t| t.ok > 0 || t.scheduled == 0)
        .count();
    s.resilience.uptime_pct = if ticks.is_empty() {
        100.0
    } else {
        up as f64 / ticks.len() as f64 * 100.0
    };
    if let (Some(first), Some(last)) = (ticks.first(), ticks.last()) {
        let (start, end) = (first.t_s - first.interval_s, last.t_s);
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

/// Per-agent figures over several ticks: request-weighted means, worst p99.
fn agents_over(ticks: &[&IntervalSnapshot]) -> Vec<AgentStats> {
    let mut acc: BTreeMap<&str, (AgentStats, f64)> = BTreeMap::new();
    for t in ticks {
        for a in &t.agents {
            if a.requests == 0 {
                continue;
            }
            let (sum, n) = acc.entry(a.name.as_str()).or_insert_with(|| {
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
    }
    acc.into_values()
        .map(|(mut a, ticks)| {
            let w = a.requests as f64;
            a.mean_ms /= w;
            a.success_rate /= w;
            a.health /= w;
            a.utilization /= ticks;
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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

//! Rebuilding run figures from `intervals.jsonl` when `summary.json` is missing (an interrupted run).
//! Totals come from the last interval's cumulative figures; nothing is invented: the cost model,
//! criteria and seed are unknown and left at their empty values.

use models::{
    AgentStats, Confusion, DegradationLevel, ErrorKind, ErrorSummary, EventKind, FaultResult,
    FraudSummary, IntervalSnapshot, LoadSummary, PatternSummary, ResilienceSummary, RunEvent,
    Summary, TargetInfo,
};
use std::collections::BTreeMap;

/// The figures an interrupted run's intervals support. `name` (the folder name) stands in for the
/// scenario and run id, which only `summary.json` records.
pub fn summary_from_intervals(
    name: String,
    intervals: &[IntervalSnapshot],
    events: &[RunEvent],
) -> Summary {
    let Some(last) = intervals.last() else {
        return Summary {
            run_id: name.clone(),
            scenario: name,
            end_reason: "interrupted".into(),
            ..Summary::default()
        };
    };
    let c = &last.cumulative;
    let duration_s = last.t_s;
    let per_second = |n: f64| {
        if duration_s > 0.0 {
            n / duration_s
        } else {
            0.0
        }
    };

    let by_kind: BTreeMap<ErrorKind, u64> = c
        .errors
        .iter()
        .filter(|(k, _)| **k != ErrorKind::Dropped)
        .map(|(k, v)| (*k, *v))
        .collect();
    let error_total: u64 = by_kind.values().sum();

    let mut per_pattern: BTreeMap<String, Confusion> = BTreeMap::new();
    for snap in intervals {
        for (pattern, conf) in &snap.per_pattern {
            per_pattern.entry(pattern.clone()).or_default().add(conf);
        }
    }
    let per_pattern = per_pattern
        .into_iter()
        .map(|(k, m)| {
            let count = m.total();
            let flagged = m.tp + m.fp;
            let flagged_rate = if count == 0 {
                0.0
            } else {
                flagged as f64 / count as f64
            };
            (
                k,
                PatternSummary {
                    count,
                    flagged,
                    flagged_rate,
                    unscored: m.unscored,
                },
            )
        })
        .collect();

    let total_cost = c.cost;
    Summary {
        run_id: name.clone(),
        scenario: name,
        seed: 0,
        started_at: String::new(),
        duration_s,
        target: TargetInfo {
            kind: "unknown".into(),
            url: None,
            protocol: None,
        },
        // The intervals do not record the scenario's mix.
        mix: None,
        load: LoadSummary {
            scheduled: c.scheduled,
            sent: c.sent,
            completed: c.completed,
            dropped: c.dropped,
            dropped_ceiling: c.dropped_ceiling,
            target_tps_avg: per_second(
                intervals.iter().map(|i| i.planned_tps * i.interval_s).sum(),
            ),
            achieved_tps_avg: per_second(c.completed as f64),
            peak_tps: intervals.iter().map(|i| i.achieved_tps).fold(0.0, f64::max),
        },
        latency_ms: c.latency_ms,
        service_time_ms: c.service_time_ms,
        generator: models::GeneratorSummary::from_ticks(intervals.iter()),
        // The intervals do not record the endpoint's URL; a tick with a target reading says one
        // was scraped.
        target_resources: intervals
            .iter()
            .any(|i| i.resources.target.is_some() || i.target_scrape_error.is_some())
            .then(|| {
                models::TargetResources::from_ticks("(not recorded in the ticks)", intervals.iter())
            }),
        errors: ErrorSummary {
            total: error_total,
            rate: if c.sent == 0 {
                0.0
            } else {
                error_total as f64 / c.sent as f64
            },
            by_kind,
            // Kept only in summary.json, which a partial run lacks.
            samples: BTreeMap::new(),
        },
        fraud: FraudSummary {
            tp: c.fraud.tp,
            fp: c.fraud.fp,
            tn: c.fraud.tn,
            fn_: c.fraud.fn_,
            unscored: c.fraud.unscored,
            precision: c.fraud.precision(),
            recall: c.fraud.recall(),
            recall_effective: c.fraud.recall_effective(),
            accuracy: c.fraud.accuracy(),
            f1: c.fraud.f1(),
            prevented_amount: c.prevented_amount,
            false_decline_amount: c.false_decline_amount,
            per_pattern,
            ..FraudSummary::default()
        },
        business: models::BusinessSummary {
            cost_per_txn: if c.completed == 0 {
                0.0
            } else {
                total_cost / c.completed as f64
            },
            total_cost,
            // The intervals do not record the cost model: the declared default applies.
            false_decline_loss: models::CostModel::default()
                .false_decline_loss(c.false_decline_amount),
            roi_pct: models::CostModel::default().roi_pct(
                c.prevented_amount,
                c.false_decline_amount,
                total_cost,
            ),
            cost_model: models::CostModel::default(),
            budget: None,
        },
        agents: agents_over_run(intervals),
        resilience: ResilienceSummary {
            faults: faults_from_events(intervals, events),
            // The intervals do not record the scenario's `critical_error_rate`: the default rule
            // applies (the one rule the run's summary and the live pages use).
            uptime_pct: models::UptimeRule::default().uptime_pct(intervals),
            uptime_rule: Some(models::UptimeRule::default()),
        },
        criteria: Vec::new(),
        passed: false,
        end_reason: "interrupted".into(),
        segment: None,
        histograms: None,
    }
}

/// Per-agent figures over all intervals: requests summed, mean and success rate weighted by requests,
/// utilization weighted by time, p99 the worst interval's (an upper bound), health the last interval's.
pub fn agents_over_run(intervals: &[IntervalSnapshot]) -> Vec<AgentStats> {
    struct Acc {
        stats: AgentStats,
        weighted_mean: f64,
        weighted_success: f64,
        weighted_util: f64,
        time: f64,
    }
    let mut order: Vec<String> = Vec::new();
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for snap in intervals {
        for a in &snap.agents {
            let entry = acc.entry(a.name.clone()).or_insert_with(|| {
                order.push(a.name.clone());
                Acc {
                    stats: AgentStats {
                        name: a.name.clone(),
                        ..AgentStats::default()
                    },
                    weighted_mean: 0.0,
                    weighted_success: 0.0,
                    weighted_util: 0.0,
                    time: 0.0,
                }
            });
            let n = a.requests as f64;
            entry.stats.requests += a.requests;
            entry.weighted_mean += a.mean_ms * n;
            entry.weighted_success += a.success_rate * n;
            entry.weighted_util += a.utilization * snap.interval_s;
            entry.time += snap.interval_s;
            entry.stats.p99_ms = entry.stats.p99_ms.max(a.p99_ms);
            entry.stats.health = a.health;
        }
    }
    order
        .into_iter()
        .filter_map(|name| acc.remove(&name))
        .map(|a| {
            let n = a.stats.requests as f64;
            AgentStats {
                mean_ms: if n > 0.0 { a.weighted_mean / n } else { 0.0 },
                success_rate: if n > 0.0 { a.weighted_success / n } else { 1.0 },
                utilization: if a.time > 0.0 {
                    a.weighted_util / a.time
                } else {
                    0.0
                },
                ..a.stats
            }
        })
        .collect()
}

/// Fault windows from start/end events, with the worst degradation seen in each and the time until the
/// first degraded tick. Recovery is not judged here (that needs the orchestrator's baseline).
fn faults_from_events(intervals: &[IntervalSnapshot], events: &[RunEvent]) -> Vec<FaultResult> {
    let run_end = intervals.last().map_or(0.0, |i| i.t_s);
    let mut out: Vec<FaultResult> = Vec::new();
    for (idx, event) in events.iter().enumerate() {
        let EventKind::FaultStarted { fault, stage } = &event.kind else {
            continue;
        };
        let end_s = events[idx + 1..]
            .iter()
            .find(|e| matches!(&e.kind, EventKind::FaultEnded { fault: f, stage: s } if f == fault && s == stage))
            .map_or(run_end, |e| e.t_s);
        let window: Vec<&IntervalSnapshot> = intervals
            .iter()
            .filter(|i| i.t_s > event.t_s && i.t_s - i.interval_s < end_s)
            .collect();
        let max_level = window
            .iter()
            .map(|i| i.degradation)
            .max()
            .unwrap_or(DegradationLevel::None);
        let time_to_detect_s = window
            .iter()
            .find(|i| i.degradation > DegradationLevel::None)
            .map(|i| i.t_s - event.t_s);
        out.push(FaultResult {
            kind: *fault,
            stage: stage.clone(),
            start_s: event.t_s,
            end_s,
            max_level,
            time_to_detect_s,
            time_to_recover_s: None,
            // Judged by the orchestrator only, with the agents' baselines.
            cascade: None,
            baseline: Default::default(),
            worst: Default::default(),
        });
    }
    out
}

//! The figures a step is judged on, taken from the ticks of its measured stage only (the warm-up is
//! left out): latency percentiles from the merged per-tick HDR histograms, error and drop rates,
//! detection quality, the achieved rate and the keep-up figures (backlog and latency trends, the
//! share each agent answered; their bounds are in [`crate::keep_up`]).

use crate::keep_up::trend;
use models::{IntervalSnapshot, Summary};
use serde::{Deserialize, Serialize};

/// One step's figures. Latency in milliseconds from the intended send time; rates as fractions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepFigures {
    /// The rate asked for.
    pub offered_tps: f64,
    /// Completions per second over the measured ticks.
    pub achieved_tps: f64,
    /// Length of the measured ticks, seconds.
    pub measured_s: f64,
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Arrivals the driver shed at its rate ceiling because it fell behind its own schedule (never
    /// sent; counted in `scheduled`, not in `dropped`).
    #[serde(default)]
    pub dropped_ceiling: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// errors / sent.
    pub error_rate: f64,
    /// dropped / scheduled (arrivals never sent because the in-flight bound was reached).
    pub dropped_rate: f64,
    pub recall: f64,
    pub precision: f64,
    pub f1: f64,
    /// Fraud transactions that were answered (tp + fn): how much the recall rests on.
    pub fraud_answered: u64,
    /// Growth of the requests in flight over the measured window's full ticks, as a share of the
    /// offered rate: `slope(in_flight) ÷ offered_tps` (Theil–Sen, per second). `None` with fewer than
    /// two full ticks.
    #[serde(default)]
    pub backlog_growth: Option<f64>,
    /// Growth of the ticks' median latency over the same ticks, seconds per second:
    /// `slope(p50 ms) ÷ 1000`. `None` with fewer than two full ticks.
    #[serde(default)]
    pub latency_growth: Option<f64>,
    /// The agent that answered the smallest share of its requests in its median tick (`None` when
    /// the target reports no agents): per agent, the median over the measured full ticks of the
    /// tick's `success_rate`, then the lowest of those. A stage that cannot keep up sheds work every
    /// second; a machine that stalls for a moment makes a few ticks shed, which the median leaves to
    /// the latency percentiles (measured: on 2 shared cores at load average 8, a 2,500 TPS step
    /// against a 3,000 TPS pattern detector had 17 of 20 ticks at 0.99 to 1.0 and three stalls at
    /// 0.76 to 0.85, a pooled 0.95; at 3,000 TPS its quiet ticks answered 0.91 to 0.94).
    #[serde(default)]
    pub weakest_agent: Option<AgentShare>,
}

/// An agent and the share of its requests it answered (`success_rate`: not skipped, not failed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentShare {
    pub name: String,
    pub answered: f64,
}

impl StepFigures {
    /// Requests that got no verdict (errors and drops) over those due: what the kill switch watches.
    pub fn failure_share(&self) -> f64 {
        let due = self.completed + self.dropped;
        if due == 0 {
            0.0
        } else {
            (self.errors + self.dropped) as f64 / due as f64
        }
    }

    /// The figures of a (window) summary.
    pub fn from_summary(offered_tps: f64, s: &Summary) -> Self {
        let l = &s.latency_ms;
        let f = &s.fraud;
        Self {
            offered_tps,
            achieved_tps: if s.duration_s > 0.0 {
                s.load.completed as f64 / s.duration_s
            } else {
                0.0
            },
            measured_s: s.duration_s,
            scheduled: s.load.scheduled,
            sent: s.load.sent,
            completed: s.load.completed,
            errors: s.errors.total,
            dropped: s.load.dropped,
            dropped_ceiling: s.load.dropped_ceiling,
            p50_ms: l.p50,
            p90_ms: l.p90,
            p95_ms: l.p95,
            p99_ms: l.p99,
            p999_ms: l.p999,
            error_rate: s.errors.rate,
            dropped_rate: if s.load.scheduled == 0 {
                0.0
            } else {
                s.load.dropped as f64 / s.load.scheduled as f64
            },
            recall: f.recall,
            precision: f.precision,
            f1: f.f1,
            fraud_answered: f.tp + f.fn_,
            backlog_growth: None,
            latency_growth: None,
            weakest_agent: s
                .agents
                .iter()
                .filter(|a| a.requests > 0)
                .min_by(|a, b| a.success_rate.total_cmp(&b.success_rate))
                .map(|a| AgentShare {
                    name: a.name.clone(),
                    answered: a.success_rate,
                }),
        }
    }

    /// The figures of the ticks whose midpoint lies at or after `from_s` (the end of the warm-up),
    /// pooled with the orchestrator's window summary (merged HDR histograms). The last, partial tick
    /// after the schedule's end holds the late answers of the measured stage and is kept for the
    /// counts and rates; the trends use only the ticks whose midpoint is at or before `to_s` (the
    /// schedule's end), since the draining tick's in-flight count falls whatever the load was.
    pub fn measured(
        offered_tps: f64,
        ticks: &[IntervalSnapshot],
        whole: &Summary,
        from_s: f64,
        to_s: f64,
    ) -> Self {
        let mid = |t: &IntervalSnapshot| t.t_s - t.interval_s / 2.0;
        let indices: Vec<usize> = ticks
            .iter()
            .enumerate()
            .filter(|(_, t)| mid(t) >= from_s)
            .map(|(i, _)| i)
            .collect();
        let s = orchestrator::window::summarize(ticks, &indices, whole);
        let full: Vec<&IntervalSnapshot> = indices
            .iter()
            .map(|&i| &ticks[i])
            .filter(|t| mid(t) <= to_s)
            .collect();
        // In flight is sampled at the tick's end.
        let in_flight: Vec<(f64, f64)> = full.iter().map(|t| (t.t_s, t.in_flight as f64)).collect();
        // A tick with no answer has no latency to follow.
        let p50: Vec<(f64, f64)> = full
            .iter()
            .filter(|t| t.latency_ms.count > 0)
            .map(|t| (mid(t), t.latency_ms.p50))
            .collect();
        let pooled = Self::from_summary(offered_tps, &s);
        Self {
            weakest_agent: median_weakest_agent(&full).or(pooled.weakest_agent.clone()),
            backlog_growth: trend(&in_flight).map(|slope| {
                if offered_tps > 0.0 {
                    slope / offered_tps
                } else {
                    0.0
                }
            }),
            latency_growth: trend(&p50).map(|ms_per_s| ms_per_s / 1000.0),
            ..pooled
        }
    }
}

/// Per agent, the median of its per-tick answered share (ticks where it had requests); the agent
/// with the lowest median. `None` when no tick reports an agent.
fn median_weakest_agent(ticks: &[&IntervalSnapshot]) -> Option<AgentShare> {
    let mut shares: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for t in ticks {
        for a in t.agents.iter().filter(|a| a.requests > 0) {
            shares.entry(&a.name).or_default().push(a.success_rate);
        }
    }
    shares
        .into_iter()
        .map(|(name, mut v)| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let median = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            };
            AgentShare {
                name: name.to_owned(),
                answered: median,
            }
        })
        .min_by(|a, b| a.answered.total_cmp(&b.answered))
}

/// The figures of one tick (for the kill switch while a step runs).
pub fn tick_failure_share(t: &IntervalSnapshot) -> f64 {
    let due = t.completed + t.dropped;
    if due == 0 {
        0.0
    } else {
        (t.error_total() + t.dropped) as f64 / due as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{AgentStats, Confusion, ErrorKind, Percentiles};

    fn tick(t_s: f64, completed: u64, errors: u64, p99: f64) -> IntervalSnapshot {
        let mut s = IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            planned_tps: 100.0,
            scheduled: completed,
            sent: completed,
            completed,
            ok: completed - errors,
            achieved_tps: completed as f64,
            latency_ms: Percentiles {
                count: completed - errors,
                p50: p99 / 2.0,
                p99,
                ..Percentiles::default()
            },
            fraud: Confusion {
                tp: 9,
                fn_: 1,
                tn: 80,
                fp: 0,
                unscored: 0,
            },
            ..IntervalSnapshot::default()
        };
        if errors > 0 {
            s.errors.insert(ErrorKind::Timeout, errors);
        }
        s
    }

    #[test]
    fn the_warm_up_is_left_out() {
        // Two warm-up ticks with terrible latency, then three measured ones.
        let ticks = vec![
            tick(1.0, 100, 50, 900.0),
            tick(2.0, 100, 50, 900.0),
            tick(3.0, 100, 0, 20.0),
            tick(4.0, 100, 1, 30.0),
            tick(5.0, 100, 0, 25.0),
        ];
        let f = StepFigures::measured(100.0, &ticks, &Summary::default(), 2.0, 5.0);
        assert_eq!(f.completed, 300);
        assert_eq!(f.errors, 1);
        assert!((f.error_rate - 1.0 / 300.0).abs() < 1e-12);
        // No histograms in these ticks: the window's p99 is the largest tick p99 (an upper bound).
        assert_eq!(f.p99_ms, 30.0);
        assert!((f.recall - 0.9).abs() < 1e-12);
        assert!((f.achieved_tps - 100.0).abs() < 1e-9);
        assert_eq!(f.fraud_answered, 30);
        assert!((tick_failure_share(&ticks[0]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn trends_follow_the_full_measured_ticks_and_the_weakest_agent_is_named() {
        // 1,000 TPS offered; in flight climbs 100 a second and p50 40 ms a second after the warm-up;
        // the last, partial tick drains (in flight back to 0) and is left out of the trends.
        let mut ticks: Vec<IntervalSnapshot> = (1..=6u32)
            .map(|i| {
                let mut t = tick(f64::from(i), 1000, 0, 50.0);
                t.in_flight = 20 + 100 * u64::from(i.saturating_sub(2));
                t.latency_ms.p50 = 10.0 + 40.0 * f64::from(i);
                t.agents = vec![
                    AgentStats {
                        name: "transaction_analyzer".into(),
                        requests: 1000,
                        success_rate: 1.0,
                        ..AgentStats::default()
                    },
                    AgentStats {
                        name: "pattern_detector".into(),
                        requests: 1000,
                        success_rate: 0.9,
                        ..AgentStats::default()
                    },
                ];
                t
            })
            .collect();
        let mut drain = tick(6.2, 300, 0, 900.0);
        drain.interval_s = 0.2;
        drain.in_flight = 0;
        ticks.push(drain);
        let f = StepFigures::measured(1000.0, &ticks, &Summary::default(), 2.0, 6.0);
        let backlog = f.backlog_growth.unwrap();
        assert!((backlog - 0.1).abs() < 1e-9, "{backlog}");
        let latency = f.latency_growth.unwrap();
        assert!((latency - 0.04).abs() < 1e-9, "{latency}");
        let weakest = f.weakest_agent.unwrap();
        assert_eq!(weakest.name, "pattern_detector");
        assert!((weakest.answered - 0.9).abs() < 1e-9);

        // One stalled tick in which the analyzer shed half its work: its median tick answered all.
        ticks[3].agents[0].success_rate = 0.5;
        ticks[4].agents[1].success_rate = 1.0;
        let f = StepFigures::measured(1000.0, &ticks, &Summary::default(), 2.0, 6.0);
        let weakest = f.weakest_agent.unwrap();
        assert_eq!(weakest.name, "pattern_detector", "{weakest:?}");
        assert!((weakest.answered - 0.9).abs() < 1e-9);

        // One full tick is no trend.
        let f = StepFigures::measured(1000.0, &ticks[..2], &Summary::default(), 1.0, 2.0);
        assert_eq!((f.backlog_growth, f.latency_growth), (None, None));
    }
}

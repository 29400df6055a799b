//! The figures a step is judged on, taken from the ticks of its measured stage only (the warm-up is
//! left out): latency percentiles from the merged per-tick HDR histograms, error and drop rates,
//! detection quality and the achieved rate.

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
        }
    }

    /// The figures of the ticks whose midpoint lies at or after `from_s` (the end of the warm-up),
    /// pooled with the orchestrator's window summary (merged HDR histograms). The last, partial tick
    /// after the schedule's end holds the late answers of the measured stage and is kept.
    pub fn measured(
        offered_tps: f64,
        ticks: &[IntervalSnapshot],
        whole: &Summary,
        from_s: f64,
    ) -> Self {
        let indices: Vec<usize> = ticks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.t_s - t.interval_s / 2.0 >= from_s)
            .map(|(i, _)| i)
            .collect();
        let s = orchestrator::window::summarize(ticks, &indices, whole);
        Self::from_summary(offered_tps, &s)
    }
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
    use models::{Confusion, ErrorKind, Percentiles};

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
        let f = StepFigures::measured(100.0, &ticks, &Summary::default(), 2.0);
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
}

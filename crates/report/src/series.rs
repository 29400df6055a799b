//! Time series for the charts, bucketed so that no series has more than [`MAX_POINTS`] points.
//!
//! Buckets merge consecutive intervals honestly: rates are totals over the bucket's time, precision and
//! recall come from the summed confusion matrix, p50 is the completion-weighted mean of the intervals'
//! medians, and p95/p99 are the worst interval's (an upper bound, so spikes stay visible).

use crate::numbers::round_to;
use models::{Confusion, ErrorKind, IntervalSnapshot};
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many points per series (a 2-hour run at 1 s ticks is drawn with 1,000 points).
pub const MAX_POINTS: usize = 1000;

/// The charts' data: parallel arrays indexed like `t`. `None` (JSON `null`) where an interval had
/// nothing to measure (no completions, no fraud).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    /// End of each bucket, seconds since the start of the run.
    pub t: Vec<f64>,
    /// Intervals per bucket (1 unless the run was downsampled).
    pub bucket: usize,
    pub planned_tps: Vec<f64>,
    pub achieved_tps: Vec<f64>,
    /// Requests dropped per second (never sent because the in-flight bound was reached).
    pub dropped_per_s: Vec<f64>,
    pub lat_p50: Vec<Option<f64>>,
    pub lat_p95: Vec<Option<f64>>,
    pub lat_p99: Vec<Option<f64>>,
    pub svc_p50: Vec<Option<f64>>,
    pub svc_p95: Vec<Option<f64>>,
    pub svc_p99: Vec<Option<f64>>,
    /// Errors per second by kind (`dropped` is in `dropped_per_s`).
    pub errors_per_s: BTreeMap<String, Vec<f64>>,
    pub precision: Vec<Option<f64>>,
    pub recall: Vec<Option<f64>>,
    /// Over all fraud of the bucket, fraud without a verdict counted as let through.
    pub recall_effective: Vec<Option<f64>>,
}

impl Series {
    pub fn from_intervals(intervals: &[IntervalSnapshot]) -> Self {
        let bucket = intervals.len().div_ceil(MAX_POINTS).max(1);
        let kinds: Vec<ErrorKind> = ErrorKind::ALL
            .into_iter()
            .filter(|k| *k != ErrorKind::Dropped)
            .filter(|k| {
                intervals
                    .iter()
                    .any(|i| i.errors.get(k).is_some_and(|n| *n > 0))
            })
            .collect();
        let mut s = Series {
            bucket,
            ..Series::default()
        };
        for kind in &kinds {
            s.errors_per_s.insert(kind.as_str().to_owned(), Vec::new());
        }
        for chunk in intervals.chunks(bucket) {
            let time: f64 = chunk.iter().map(|i| i.interval_s).sum();
            let per_s = |n: u64| {
                if time > 0.0 {
                    round_to(n as f64 / time, 2)
                } else {
                    0.0
                }
            };
            let completed: u64 = chunk.iter().map(|i| i.completed).sum();
            s.t.push(round_to(chunk.last().map_or(0.0, |i| i.t_s), 3));
            s.planned_tps.push(round_to(
                chunk.iter().map(|i| i.planned_tps).sum::<f64>() / chunk.len() as f64,
                2,
            ));
            s.achieved_tps.push(per_s(completed));
            s.dropped_per_s
                .push(per_s(chunk.iter().map(|i| i.dropped).sum()));

            let weighted_p50 = |f: fn(&IntervalSnapshot) -> f64| {
                (completed > 0).then(|| {
                    round_to(
                        chunk.iter().map(|i| f(i) * i.completed as f64).sum::<f64>()
                            / completed as f64,
                        3,
                    )
                })
            };
            let worst = |f: fn(&IntervalSnapshot) -> f64| {
                (completed > 0).then(|| {
                    round_to(
                        chunk
                            .iter()
                            .filter(|i| i.completed > 0)
                            .map(f)
                            .fold(0.0, f64::max),
                        3,
                    )
                })
            };
            s.lat_p50.push(weighted_p50(|i| i.latency_ms.p50));
            s.lat_p95.push(worst(|i| i.latency_ms.p95));
            s.lat_p99.push(worst(|i| i.latency_ms.p99));
            s.svc_p50.push(weighted_p50(|i| i.service_time_ms.p50));
            s.svc_p95.push(worst(|i| i.service_time_ms.p95));
            s.svc_p99.push(worst(|i| i.service_time_ms.p99));

            for kind in &kinds {
                let n = chunk
                    .iter()
                    .map(|i| i.errors.get(kind).copied().unwrap_or(0))
                    .sum();
                if let Some(v) = s.errors_per_s.get_mut(kind.as_str()) {
                    v.push(per_s(n));
                }
            }

            let mut conf = Confusion::default();
            for i in chunk {
                conf.add(&i.fraud);
            }
            s.precision
                .push((conf.tp + conf.fp > 0).then(|| round_to(conf.precision(), 4)));
            s.recall
                .push((conf.tp + conf.fn_ > 0).then(|| round_to(conf.recall(), 4)));
            s.recall_effective.push(
                (conf.tp + conf.fn_ + conf.unscored > 0)
                    .then(|| round_to(conf.recall_effective(), 4)),
            );
        }
        s
    }
}

/// Detection rate per fraud pattern over time, for the heatmap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heatmap {
    /// Start and end of each column, seconds.
    pub columns: Vec<(f64, f64)>,
    /// Pattern name and one cell per column: caught and total fraud of that pattern.
    pub rows: Vec<(String, Vec<Confusion>)>,
}

impl Heatmap {
    /// Buckets the intervals into about `target_columns` columns (20 to 40 reads well). Rows are the
    /// patterns that had fraud to catch (true positives or false negatives) at some point.
    pub fn from_intervals(intervals: &[IntervalSnapshot], target_columns: usize) -> Self {
        let per_col = intervals.len().div_ceil(target_columns.max(1)).max(1);
        let patterns: Vec<String> = {
            let mut names: Vec<String> = intervals
                .iter()
                .flat_map(|i| i.per_pattern.iter())
                .filter(|(_, c)| c.tp + c.fn_ > 0)
                .map(|(k, _)| k.clone())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let mut map = Heatmap::default();
        let mut cells: Vec<Vec<Confusion>> = vec![Vec::new(); patterns.len()];
        for chunk in intervals.chunks(per_col) {
            let start = chunk.first().map_or(0.0, |i| i.t_s - i.interval_s);
            let end = chunk.last().map_or(0.0, |i| i.t_s);
            map.columns.push((start, end));
            for (row, name) in patterns.iter().enumerate() {
                let mut c = Confusion::default();
                for i in chunk {
                    if let Some(p) = i.per_pattern.get(name) {
                        c.add(p);
                    }
                }
                cells[row].push(c);
            }
        }
        map.rows = patterns.into_iter().zip(cells).collect();
        map
    }
}

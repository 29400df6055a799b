//! The metric paths a success criterion can name, and how each is read from a run (or a window of it).
//!
//! Most paths are keys of `summary.json` (`latency_ms.p99`, `errors.rate`, `fraud.recall`, ...). A few are
//! derived: `load.dropped_rate`, `agents.*` (worst agent), `resilience.unrecovered|cascades|max_time_*`
//! (over the fault results), `latency_ms.p99_drift` and `generator.*` (from the interval snapshots).

use models::{IntervalSnapshot, Summary};

/// One supported metric path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    pub path: &'static str,
    pub unit: &'static str,
    pub about: &'static str,
}

const fn m(path: &'static str, unit: &'static str, about: &'static str) -> MetricInfo {
    MetricInfo { path, unit, about }
}

/// Every path a criterion may name.
pub const METRICS: &[MetricInfo] = &[
    m("duration_s", "s", "wall time of the run"),
    m(
        "latency_ms.mean",
        "ms",
        "mean latency from the intended send time",
    ),
    m(
        "latency_ms.p50",
        "ms",
        "median latency from the intended send time",
    ),
    m("latency_ms.p90", "ms", "90th percentile latency"),
    m("latency_ms.p95", "ms", "95th percentile latency"),
    m("latency_ms.p99", "ms", "99th percentile latency"),
    m("latency_ms.p999", "ms", "99.9th percentile latency"),
    m("latency_ms.max", "ms", "largest latency"),
    m(
        "latency_ms.p99_drift",
        "ratio",
        "p99 over the last tenth of the ticks / p99 over the first tenth",
    ),
    m(
        "service_time_ms.mean",
        "ms",
        "mean service time from the actual send",
    ),
    m("service_time_ms.p50", "ms", "median service time"),
    m("service_time_ms.p90", "ms", "90th percentile service time"),
    m("service_time_ms.p95", "ms", "95th percentile service time"),
    m("service_time_ms.p99", "ms", "99th percentile service time"),
    m(
        "service_time_ms.p999",
        "ms",
        "99.9th percentile service time",
    ),
    m("service_time_ms.max", "ms", "largest service time"),
    m(
        "errors.total",
        "requests",
        "sent requests that did not end in a verdict",
    ),
    m("errors.rate", "ratio", "errors.total / load.sent"),
    m("errors.http_429", "requests", "answers with HTTP 429"),
    m(
        "errors.http_4xx",
        "requests",
        "answers with another HTTP 4xx",
    ),
    m("errors.http_5xx", "requests", "answers with HTTP 5xx"),
    m("errors.timeout", "requests", "requests that timed out"),
    m(
        "errors.connection",
        "requests",
        "refused or reset connections",
    ),
    m(
        "errors.malformed",
        "requests",
        "answers that are not verdicts",
    ),
    m("load.scheduled", "requests", "arrivals due"),
    m("load.sent", "requests", "requests sent"),
    m(
        "load.completed",
        "requests",
        "requests that ended (verdict or error)",
    ),
    m(
        "load.dropped",
        "requests",
        "arrivals not sent because the in-flight bound was reached",
    ),
    m(
        "load.dropped_rate",
        "ratio",
        "load.dropped / load.scheduled",
    ),
    m("load.target_tps_avg", "TPS", "mean planned rate"),
    m("load.achieved_tps_avg", "TPS", "mean completion rate"),
    m("load.peak_tps", "TPS", "highest one-tick completion rate"),
    m(
        "fraud.tp",
        "transactions",
        "fraud flagged (declined or reviewed)",
    ),
    m(
        "fraud.fp",
        "transactions",
        "legitimate transactions flagged",
    ),
    m(
        "fraud.tn",
        "transactions",
        "legitimate transactions approved",
    ),
    m("fraud.fn", "transactions", "fraud approved"),
    m("fraud.precision", "ratio", "tp / (tp + fp)"),
    m("fraud.recall", "ratio", "tp / (tp + fn)"),
    m("fraud.accuracy", "ratio", "(tp + tn) / all"),
    m("fraud.f1", "ratio", "harmonic mean of precision and recall"),
    m(
        "fraud.prevented_amount",
        "currency",
        "caught fraud, in the cost model's currency",
    ),
    m(
        "fraud.false_decline_amount",
        "currency",
        "legitimate amounts declined",
    ),
    m(
        "business.cost_per_txn",
        "currency",
        "total_cost / completed",
    ),
    m(
        "business.total_cost",
        "currency",
        "cost model applied to the run",
    ),
    m(
        "business.roi_pct",
        "%",
        "(prevented_amount - total_cost) / total_cost * 100",
    ),
    m(
        "agents.min_health",
        "0..100",
        "health of the least healthy agent",
    ),
    m(
        "agents.min_success_rate",
        "ratio",
        "success rate of the least successful agent",
    ),
    m("agents.max_p99_ms", "ms", "p99 of the slowest agent"),
    m(
        "resilience.uptime_pct",
        "%",
        "share of ticks with at least one verdict (or nothing due)",
    ),
    m(
        "resilience.unrecovered",
        "faults",
        "faults after which the target never came back to its baseline",
    ),
    m(
        "resilience.cascades",
        "faults",
        "faults that caused errors in stages that were not faulted",
    ),
    m(
        "resilience.max_time_to_recover_s",
        "s",
        "slowest recovery (an unrecovered fault counts to the run's end)",
    ),
    m(
        "resilience.max_time_to_detect_s",
        "s",
        "slowest detection of a fault",
    ),
    m(
        "generator.rss_growth_pct",
        "%",
        "generator RSS, mean of the last tenth of the ticks vs the first tenth",
    ),
    m("generator.max_rss_mb", "MiB", "largest generator RSS"),
    m(
        "generator.max_cpu_pct",
        "% of a core",
        "largest generator CPU use",
    ),
];

/// Whether `path` is a supported metric.
pub fn is_supported(path: &str) -> bool {
    METRICS.iter().any(|m| m.path == path)
}

/// The closest supported path, for "did you mean" hints.
pub fn closest(path: &str) -> &'static str {
    METRICS
        .iter()
        .min_by_key(|m| edit_distance(path, m.path))
        .map(|m| m.path)
        .unwrap_or("latency_ms.p99")
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Reads `path` from a summary and the ticks it covers. `None` when the path is unknown or there is
/// no data to compute it from (for example a drift with fewer than two ticks).
pub fn value(path: &str, s: &Summary, ticks: &[&IntervalSnapshot]) -> Option<f64> {
    let (group, key) = path.split_once('.').unwrap_or((path, ""));
    let pct = |p: &models::Percentiles| -> Option<f64> {
        Some(match key {
            "mean" => p.mean,
            "p50" => p.p50,
            "p90" => p.p90,
            "p95" => p.p95,
            "p99" => p.p99,
            "p999" => p.p999,
            "max" => p.max,
            _ => return None,
        })
    };
    let v = match group {
        "duration_s" if key.is_empty() => s.duration_s,
        "latency_ms" if key == "p99_drift" => p99_drift(ticks)?,
        "latency_ms" => pct(&s.latency_ms)?,
        "service_time_ms" => pct(&s.service_time_ms)?,
        "errors" => match key {
            "total" => s.errors.total as f64,
            "rate" => s.errors.rate,
            kind => {
                let kind = models::ErrorKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == kind && *k != models::ErrorKind::Dropped)?;
                s.errors.by_kind.get(&kind).copied().unwrap_or(0) as f64
            }
        },
        "load" => match key {
            "scheduled" => s.load.scheduled as f64,
            "sent" => s.load.sent as f64,
            "completed" => s.load.completed as f64,
            "dropped" => s.load.dropped as f64,
            "dropped_rate" => {
                if s.load.scheduled == 0 {
                    0.0
                } else {
                    s.load.dropped as f64 / s.load.scheduled as f64
                }
            }
            "target_tps_avg" => s.load.target_tps_avg,
            "achieved_tps_avg" => s.load.achieved_tps_avg,
            "peak_tps" => s.load.peak_tps,
            _ => return None,
        },
        "fraud" => match key {
            "tp" => s.fraud.tp as f64,
            "fp" => s.fraud.fp as f64,
            "tn" => s.fraud.tn as f64,
            "fn" => s.fraud.fn_ as f64,
            "precision" => s.fraud.precision,
            "recall" => s.fraud.recall,
            "accuracy" => s.fraud.accuracy,
            "f1" => s.fraud.f1,
            "prevented_amount" => s.fraud.prevented_amount,
            "false_decline_amount" => s.fraud.false_decline_amount,
            _ => return None,
        },
        "business" => match key {
            "cost_per_txn" => s.business.cost_per_txn,
            "total_cost" => s.business.total_cost,
            "roi_pct" => s.business.roi_pct,
            _ => return None,
        },
        "agents" => {
            let agents = &s.agents;
            match key {
                // No agents reported (an HTTP target that does not time its agents): vacuously healthy.
                "min_health" => agents
                    .iter()
                    .map(|a| a.health)
                    .reduce(f64::min)
                    .unwrap_or(100.0),
                "min_success_rate" => agents
                    .iter()
                    .map(|a| a.success_rate)
                    .reduce(f64::min)
                    .unwrap_or(1.0),
                "max_p99_ms" => agents
                    .iter()
                    .map(|a| a.p99_ms)
                    .reduce(f64::max)
                    .unwrap_or(0.0),
                _ => return None,
            }
        }
        "resilience" => {
            let faults = &s.resilience.faults;
            match key {
                "uptime_pct" => s.resilience.uptime_pct,
                "unrecovered" => faults
                    .iter()
                    .filter(|f| f.time_to_recover_s.is_none())
                    .count() as f64,
                "cascades" => faults.iter().filter(|f| f.cascade).count() as f64,
                "max_time_to_recover_s" => faults
                    .iter()
                    .map(|f| {
                        f.time_to_recover_s
                            .unwrap_or((s.duration_s - f.end_s).max(0.0))
                    })
                    .fold(0.0, f64::max),
                "max_time_to_detect_s" => faults
                    .iter()
                    .filter_map(|f| f.time_to_detect_s)
                    .fold(0.0, f64::max),
                _ => return None,
            }
        }
        "generator" => {
            let gen_ticks: Vec<&models::ProcessSample> = ticks
                .iter()
                .map(|t| &t.resources.generator)
                .filter(|g| g.rss_bytes > 0)
                .collect();
            match key {
                "rss_growth_pct" => {
                    let (first, last) = tenths(&gen_ticks)?;
                    let mean = |xs: &[&models::ProcessSample]| {
                        xs.iter().map(|g| g.rss_bytes as f64).sum::<f64>() / xs.len() as f64
                    };
                    (mean(last) / mean(first) - 1.0) * 100.0
                }
                "max_rss_mb" => {
                    gen_ticks.iter().map(|g| g.rss_bytes).max()? as f64 / (1024.0 * 1024.0)
                }
                "max_cpu_pct" => gen_ticks.iter().map(|g| g.cpu_pct).reduce(f64::max)?,
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(v)
}

/// The first and last tenth (at least one tick each) of a sequence of at least two ticks.
fn tenths<T>(xs: &[T]) -> Option<(&[T], &[T])> {
    if xs.len() < 2 {
        return None;
    }
    let n = (xs.len() / 10).max(1);
    Some((&xs[..n], &xs[xs.len() - n..]))
}

/// p99 over the last tenth of the ticks that saw traffic divided by p99 over the first tenth.
fn p99_drift(ticks: &[&IntervalSnapshot]) -> Option<f64> {
    let busy: Vec<&IntervalSnapshot> = ticks
        .iter()
        .copied()
        .filter(|t| t.latency_ms.count > 0)
        .collect();
    let (first, last) = tenths(&busy)?;
    let p99 = |xs: &[&IntervalSnapshot]| crate::window::latency_over(xs).p99;
    let base = p99(first);
    if base <= 0.0 {
        return None;
    }
    Some(p99(last) / base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_path_reads_from_a_summary() {
        let s = Summary::default();
        let mut tick = IntervalSnapshot::default();
        tick.resources.generator.rss_bytes = 100 << 20;
        tick.latency_ms.count = 10;
        tick.latency_ms.p99 = 5.0;
        let ticks = vec![&tick, &tick, &tick];
        for m in METRICS {
            assert!(value(m.path, &s, &ticks).is_some(), "{} reads", m.path);
        }
        assert!(value("latency_ms.p98", &s, &ticks).is_none());
        assert!(
            value("errors.dropped", &s, &ticks).is_none(),
            "dropped lives under load.dropped"
        );
        assert_eq!(value("generator.rss_growth_pct", &s, &ticks), Some(0.0));
        assert_eq!(value("latency_ms.p99_drift", &s, &ticks), Some(1.0));
    }

    #[test]
    fn suggests_the_nearest_path() {
        assert_eq!(closest("latency.p99"), "latency_ms.p99");
        assert_eq!(closest("fraud.recal"), "fraud.recall");
        assert!(is_supported("errors.rate") && !is_supported("errors.rat"));
    }
}

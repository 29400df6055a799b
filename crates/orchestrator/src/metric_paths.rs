//! The metric paths a success criterion can name, and how each is read from a run (or a window of it).
//!
//! Most paths are keys of `summary.json` (`latency_ms.p99`, `errors.rate`, `fraud.recall`,
//! `fraud.recall_effective`, ...). A few are
//! derived: `load.dropped_rate`, `agents.*` (worst agent), `resilience.unrecovered|cascades|max_time_*`
//! (over the fault results), `latency_ms.p99_drift` and `generator.*` (from the interval snapshots).
//!
//! A figure is either [`Reading::Measured`] or [`Reading::NotMeasured`] with the reason ([`Unmeasured`]):
//! a recall with no fraud scored, an agent figure from a target that reports no agents, a cascade
//! count with no fault that could be checked are not numbers, whatever default the summary shows.

use models::{IntervalSnapshot, Summary};
use std::fmt;

/// A figure read from a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Measured(f64),
    NotMeasured(Unmeasured),
}

impl Reading {
    /// The number, when the figure was measured.
    pub fn measured(self) -> Option<f64> {
        match self {
            Reading::Measured(v) => Some(v),
            Reading::NotMeasured(_) => None,
        }
    }
}

/// Why a figure was not measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmeasured {
    /// No tick falls in the criterion's window, phase or time outside faults.
    NoTicksInScope,
    /// No request completed: no latency or cost per transaction.
    NoCompletions,
    /// No request was sent: no error rate.
    NoSends,
    /// No arrival was due: no dropped rate.
    NothingDue,
    /// No rate was planned: no throughput ratio.
    NothingPlanned,
    /// No fraud was scored: no recall or F1.
    NoFraudScored,
    /// Nothing was flagged: no precision.
    NothingFlagged,
    /// No transaction was scored: no accuracy.
    NothingScored,
    /// The cost model gave no cost: no ROI.
    NoCost,
    /// The target reported no per-agent timings.
    NoAgents,
    /// No fault ran.
    NoFaults,
    /// No fault could be checked for a cascade.
    NoCascadeCheck,
    /// No fault showed in the figures, so there was nothing to detect.
    NoFaultDetected,
    /// Too few ticks with traffic to compare a start with an end.
    TooFewTicks,
    /// The load generator's resources were not sampled.
    NoGeneratorSamples,
    /// No scrape of the target's `metrics_url` gave its CPU and memory (none named, or all failed).
    NoTargetSamples,
}

impl fmt::Display for Unmeasured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unmeasured::NoTicksInScope => "no tick in the criterion's window, phase or time outside faults",
            Unmeasured::NoCompletions => "no request completed",
            Unmeasured::NoSends => "no request was sent",
            Unmeasured::NothingDue => "no arrival was due",
            Unmeasured::NothingPlanned => "no rate was planned",
            Unmeasured::NoFraudScored => "no fraudulent transaction was scored",
            Unmeasured::NothingFlagged => "no transaction was flagged, so precision has no denominator",
            Unmeasured::NothingScored => "no transaction was scored",
            Unmeasured::NoCost => "the cost model gave no cost",
            Unmeasured::NoAgents => "the target reported no per-agent timings",
            Unmeasured::NoFaults => "no fault ran",
            Unmeasured::NoCascadeCheck => {
                "no fault could be checked for a cascade (none aimed at one stage, or no per-agent timings during it)"
            }
            Unmeasured::NoFaultDetected => "no fault showed in the figures, so there was nothing to detect",
            Unmeasured::TooFewTicks => "fewer than two ticks with traffic",
            Unmeasured::NoGeneratorSamples => "the load generator's resources were not sampled",
            Unmeasured::NoTargetSamples => {
                "the target's CPU and memory were not read (set [target] metrics_url, or its scrapes all failed)"
            }
        })
    }
}

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
    m(
        "errors.auth",
        "requests",
        "answers with HTTP 401 or 403 (credentials refused)",
    ),
    m("errors.http_5xx", "requests", "answers with HTTP 5xx"),
    m("errors.timeout", "requests", "requests that timed out"),
    m(
        "errors.connection",
        "requests",
        "refused or reset connections",
    ),
    m(
        "errors.tls",
        "requests",
        "TLS failures (certificate, name, client certificate)",
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
        "load.dropped_ceiling",
        "requests",
        "arrivals not sent because the max_tps ceiling shed them",
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
        "load.throughput_ratio",
        "ratio",
        "load.achieved_tps_avg / load.target_tps_avg: below 1 when the target falls behind",
    ),
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
    m(
        "fraud.unscored",
        "transactions",
        "fraud that got no verdict (an error, a timeout, dropped)",
    ),
    m("fraud.precision", "ratio", "tp / (tp + fp)"),
    m(
        "fraud.recall",
        "ratio",
        "tp / (tp + fn), over answered fraud: the detector's quality",
    ),
    m(
        "fraud.recall_effective",
        "ratio",
        "tp / (tp + fn + unscored): fraud caught when unjudged payments go through (fail open)",
    ),
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
        "business.false_decline_loss",
        "currency",
        "cost_model.false_decline_cost_ratio * fraud.false_decline_amount: what declined good customers cost",
    ),
    m(
        "business.roi_pct",
        "%",
        "net: (prevented_amount - false_decline_loss - total_cost) / total_cost * 100",
    ),
    m(
        "agents.min_health",
        "0..100",
        "health of the least healthy agent (not measured when the target reports no agents)",
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
        "share of the run's time in up ticks: at least (1 - critical_error_rate) of the due requests got a verdict",
    ),
    m(
        "resilience.unrecovered",
        "faults",
        "faults after which the target never came back to its baseline",
    ),
    m(
        "resilience.cascades",
        "faults",
        "faults that caused errors in stages that were not faulted (among faults aimed at one stage, on a target that times its agents)",
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
        "generator RSS, mean of the last tenth of the ticks vs the second tenth (the first is warm-up)",
    ),
    m("generator.max_rss_mb", "MiB", "largest generator RSS"),
    m(
        "generator.max_cpu_pct",
        "% of a core",
        "largest generator CPU use",
    ),
    m(
        "target_resources.mean_cpu_pct",
        "% of a core",
        "the target's mean CPU over the ticks, read from its metrics_url",
    ),
    m(
        "target_resources.max_cpu_pct",
        "% of a core",
        "the target's largest tick CPU, read from its metrics_url",
    ),
    m(
        "target_resources.peak_rss_mb",
        "MiB",
        "the target's largest resident memory, read from its metrics_url",
    ),
];

/// Short names that stand for metric paths, as capacity's `--slo` writes them (`p99<250ms`).
pub const ALIASES: &[(&str, &str)] = &[
    ("p50", "latency_ms.p50"),
    ("p90", "latency_ms.p90"),
    ("p95", "latency_ms.p95"),
    ("p99", "latency_ms.p99"),
    ("p999", "latency_ms.p999"),
    ("p99.9", "latency_ms.p999"),
    ("error_rate", "errors.rate"),
    ("dropped_rate", "load.dropped_rate"),
    ("recall", "fraud.recall"),
    ("recall_effective", "fraud.recall_effective"),
    ("generator.peak_rss_mb", "generator.max_rss_mb"),
    ("precision", "fraud.precision"),
    ("f1", "fraud.f1"),
    ("throughput", "load.throughput_ratio"),
];

/// The metric path `name` means: itself when it is a supported path, else the path it is an alias
/// of. `None` when it is neither.
pub fn resolve(name: &str) -> Option<&'static str> {
    METRICS
        .iter()
        .map(|m| m.path)
        .find(|p| *p == name)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| *p))
}

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

/// Reads `path` from a summary and the ticks it covers: the figure, or why it was not measured.
/// `None` when the path is unknown.
pub fn value(path: &str, s: &Summary, ticks: &[&IntervalSnapshot]) -> Option<Reading> {
    use Reading::{Measured as M, NotMeasured as N};
    let (group, key) = path.split_once('.').unwrap_or((path, ""));
    let pct = |p: &models::Percentiles| -> Option<Reading> {
        let v = match key {
            "mean" => p.mean,
            "p50" => p.p50,
            "p90" => p.p90,
            "p95" => p.p95,
            "p99" => p.p99,
            "p999" => p.p999,
            "max" => p.max,
            _ => return None,
        };
        Some(if p.count == 0 {
            N(Unmeasured::NoCompletions)
        } else {
            M(v)
        })
    };
    // `num / den`, or why not when `den` is zero.
    let ratio = |num: f64, den: f64, why: Unmeasured| if den > 0.0 { M(num / den) } else { N(why) };
    let c = &s.fraud;
    let v = match group {
        "duration_s" if key.is_empty() => M(s.duration_s),
        "latency_ms" if key == "p99_drift" => p99_drift(ticks),
        "latency_ms" => pct(&s.latency_ms)?,
        "service_time_ms" => pct(&s.service_time_ms)?,
        "errors" => match key {
            "total" => M(s.errors.total as f64),
            "rate" if s.load.sent == 0 => N(Unmeasured::NoSends),
            "rate" => M(s.errors.rate),
            kind => {
                let kind = models::ErrorKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == kind && *k != models::ErrorKind::Dropped)?;
                M(s.errors.by_kind.get(&kind).copied().unwrap_or(0) as f64)
            }
        },
        "load" => match key {
            "scheduled" => M(s.load.scheduled as f64),
            "sent" => M(s.load.sent as f64),
            "completed" => M(s.load.completed as f64),
            "dropped" => M(s.load.dropped as f64),
            "dropped_ceiling" => M(s.load.dropped_ceiling as f64),
            "dropped_rate" => ratio(
                s.load.dropped as f64,
                s.load.scheduled as f64,
                Unmeasured::NothingDue,
            ),
            "target_tps_avg" => M(s.load.target_tps_avg),
            "achieved_tps_avg" => M(s.load.achieved_tps_avg),
            "peak_tps" => M(s.load.peak_tps),
            "throughput_ratio" => ratio(
                s.load.achieved_tps_avg,
                s.load.target_tps_avg,
                Unmeasured::NothingPlanned,
            ),
            _ => return None,
        },
        "fraud" => match key {
            "tp" => M(c.tp as f64),
            "fp" => M(c.fp as f64),
            "tn" => M(c.tn as f64),
            "fn" => M(c.fn_ as f64),
            // The summary shows 1 for an empty denominator; a bound on that would pass on nothing.
            "precision" if c.tp + c.fp == 0 => N(Unmeasured::NothingFlagged),
            "precision" => M(c.precision),
            "recall" | "f1" if c.tp + c.fn_ == 0 => N(Unmeasured::NoFraudScored),
            "recall" => M(c.recall),
            "unscored" => M(c.unscored as f64),
            // Over all fraud, answered or not: nothing to measure when no fraud was due at all.
            "recall_effective" if c.tp + c.fn_ + c.unscored == 0 => N(Unmeasured::NoFraudScored),
            "recall_effective" => M(c.recall_effective),
            "f1" => M(c.f1),
            "accuracy" if c.tp + c.fp + c.tn + c.fn_ == 0 => N(Unmeasured::NothingScored),
            "accuracy" => M(c.accuracy),
            "prevented_amount" => M(c.prevented_amount),
            "false_decline_amount" => M(c.false_decline_amount),
            _ => return None,
        },
        "business" => match key {
            "cost_per_txn" if s.load.completed == 0 => N(Unmeasured::NoCompletions),
            "cost_per_txn" => M(s.business.cost_per_txn),
            "total_cost" => M(s.business.total_cost),
            "false_decline_loss" => M(s.business.false_decline_loss),
            "roi_pct" if s.business.total_cost <= 0.0 => N(Unmeasured::NoCost),
            "roi_pct" => M(s.business.roi_pct),
            _ => return None,
        },
        "agents" => {
            let agents: Vec<&models::AgentStats> =
                s.agents.iter().filter(|a| a.requests > 0).collect();
            let worst = |f: fn(&models::AgentStats) -> f64, min: bool| {
                agents
                    .iter()
                    .map(|a| f(a))
                    .reduce(if min { f64::min } else { f64::max })
                    .map_or(N(Unmeasured::NoAgents), M)
            };
            match key {
                "min_health" => worst(|a| a.health, true),
                "min_success_rate" => worst(|a| a.success_rate, true),
                "max_p99_ms" => worst(|a| a.p99_ms, false),
                _ => return None,
            }
        }
        "resilience" => {
            let faults = &s.resilience.faults;
            match key {
                "uptime_pct" => M(s.resilience.uptime_pct),
                "unrecovered" | "cascades" | "max_time_to_recover_s" | "max_time_to_detect_s"
                    if faults.is_empty() =>
                {
                    N(Unmeasured::NoFaults)
                }
                "unrecovered" => M(faults
                    .iter()
                    .filter(|f| f.time_to_recover_s.is_none())
                    .count() as f64),
                // Faults whose cascade could not be checked are left out; none checked is no figure.
                "cascades" => {
                    let checked: Vec<bool> = faults.iter().filter_map(|f| f.cascade).collect();
                    if checked.is_empty() {
                        N(Unmeasured::NoCascadeCheck)
                    } else {
                        M(checked.iter().filter(|c| **c).count() as f64)
                    }
                }
                "max_time_to_recover_s" => M(faults
                    .iter()
                    .map(|f| {
                        f.time_to_recover_s
                            .unwrap_or((s.duration_s - f.end_s).max(0.0))
                    })
                    .fold(0.0, f64::max)),
                "max_time_to_detect_s" => faults
                    .iter()
                    .filter_map(|f| f.time_to_detect_s)
                    .reduce(f64::max)
                    .map_or(N(Unmeasured::NoFaultDetected), M),
                _ => return None,
            }
        }
        "target_resources" => {
            let t = models::TargetResources::from_ticks("", ticks.iter().copied());
            let reading = |v: Option<f64>| v.map_or(N(Unmeasured::NoTargetSamples), M);
            match key {
                "mean_cpu_pct" => reading(t.mean_cpu_pct),
                "max_cpu_pct" => reading(t.max_cpu_pct),
                "peak_rss_mb" => reading(t.peak_rss_mb),
                _ => return None,
            }
        }
        "generator" => {
            let g = models::GeneratorSummary::from_ticks(ticks.iter().copied());
            let sampled = ticks.iter().any(|t| t.resources.generator.rss_bytes > 0);
            let reading = |v: Option<f64>| match v {
                Some(v) => M(v),
                None if !sampled => N(Unmeasured::NoGeneratorSamples),
                None => N(Unmeasured::TooFewTicks),
            };
            match key {
                "rss_growth_pct" => reading(g.rss_growth_pct),
                "max_rss_mb" | "peak_rss_mb" => reading(g.peak_rss_mb),
                "max_cpu_pct" => reading(g.max_cpu_pct),
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

/// Positions in `ticks` whose encoded histograms [`value`] of `metric` merges: for
/// `latency_ms.p99_drift`, the first and last tenth of the ticks that saw traffic; none for the
/// other paths, which read the summary. A run keeps its ticks without their histograms and reads
/// back only these (see `criteria::ticks_needing_histograms`).
pub fn histogram_ticks(metric: &str, ticks: &[&IntervalSnapshot]) -> Vec<usize> {
    if metric != "latency_ms.p99_drift" {
        return Vec::new();
    }
    let busy: Vec<usize> = (0..ticks.len())
        .filter(|&i| ticks[i].latency_ms.count > 0)
        .collect();
    tenths(&busy).map_or_else(Vec::new, |(first, last)| {
        first.iter().chain(last).copied().collect()
    })
}

/// p99 over the last tenth of the ticks that saw traffic divided by p99 over the first tenth.
fn p99_drift(ticks: &[&IntervalSnapshot]) -> Reading {
    let busy: Vec<&IntervalSnapshot> = ticks
        .iter()
        .copied()
        .filter(|t| t.latency_ms.count > 0)
        .collect();
    let Some((first, last)) = tenths(&busy) else {
        return Reading::NotMeasured(Unmeasured::TooFewTicks);
    };
    let p99 = |xs: &[&IntervalSnapshot]| crate::window::latency_over(xs).p99;
    let base = p99(first);
    if base <= 0.0 {
        return Reading::NotMeasured(Unmeasured::NoCompletions);
    }
    Reading::Measured(p99(last) / base)
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
        assert_eq!(
            value("generator.rss_growth_pct", &s, &ticks),
            Some(Reading::Measured(0.0))
        );
        assert_eq!(
            value("latency_ms.p99_drift", &s, &ticks),
            Some(Reading::Measured(1.0))
        );
    }

    #[test]
    fn rss_growth_leaves_the_warm_up_tenth_out() {
        // 20 ticks: the first two (warm-up) grow from 50 to 100 MiB, then flat at 100, the last
        // two at 110: growth is 10% from the second tenth, not 120% from the first.
        let ticks: Vec<IntervalSnapshot> = (0..20)
            .map(|i| {
                let mut t = IntervalSnapshot::default();
                t.resources.generator.rss_bytes = match i {
                    0 => 50 << 20,
                    1 => 75 << 20,
                    18 | 19 => 110 << 20,
                    _ => 100 << 20,
                };
                t.resources.generator.cpu_pct = f64::from(i);
                t
            })
            .collect();
        let refs: Vec<&IntervalSnapshot> = ticks.iter().collect();
        let g = models::GeneratorSummary::from_ticks(&ticks);
        assert!((g.rss_growth_pct.unwrap() - 10.0).abs() < 1e-9, "{g:?}");
        assert_eq!(g.peak_rss_mb, Some(110.0));
        assert_eq!(g.max_cpu_pct, Some(19.0));
        assert_eq!(
            value("generator.max_rss_mb", &Summary::default(), &refs),
            Some(Reading::Measured(110.0))
        );
        assert_eq!(
            models::GeneratorSummary::from_ticks(&ticks[..2]).rss_growth_pct,
            None,
            "too few ticks"
        );
        assert_eq!(
            models::GeneratorSummary::from_ticks([]),
            models::GeneratorSummary::default()
        );
    }

    #[test]
    fn aliases_stand_for_supported_paths() {
        for (alias, path) in ALIASES {
            assert!(
                is_supported(path),
                "{alias} stands for {path}, which is not a metric"
            );
            assert!(!is_supported(alias), "{alias} would shadow a path");
            assert_eq!(resolve(alias), Some(*path));
        }
        assert_eq!(resolve("errors.rate"), Some("errors.rate"));
        assert_eq!(resolve("p98"), None);
        let mut s = Summary::default();
        s.load.target_tps_avg = 200.0;
        s.load.achieved_tps_avg = 150.0;
        assert_eq!(
            value("load.throughput_ratio", &s, &[]),
            Some(Reading::Measured(0.75))
        );
    }

    #[test]
    fn suggests_the_nearest_path() {
        assert_eq!(closest("latency.p99"), "latency_ms.p99");
        assert_eq!(closest("fraud.recal"), "fraud.recall");
        assert!(is_supported("errors.rate") && !is_supported("errors.rat"));
    }

    fn read(path: &str, s: &Summary) -> Reading {
        value(path, s, &[]).unwrap()
    }

    #[test]
    fn figures_with_nothing_behind_them_are_not_measured() {
        use Reading::{Measured, NotMeasured};
        // A target that reports no agents, a run with no fault, no traffic: nothing to read.
        let s = Summary::default();
        for (path, why) in [
            ("agents.min_health", Unmeasured::NoAgents),
            ("agents.min_success_rate", Unmeasured::NoAgents),
            ("agents.max_p99_ms", Unmeasured::NoAgents),
            ("resilience.cascades", Unmeasured::NoFaults),
            ("resilience.unrecovered", Unmeasured::NoFaults),
            ("resilience.max_time_to_recover_s", Unmeasured::NoFaults),
            ("fraud.recall", Unmeasured::NoFraudScored),
            ("fraud.precision", Unmeasured::NothingFlagged),
            ("fraud.accuracy", Unmeasured::NothingScored),
            ("errors.rate", Unmeasured::NoSends),
            ("latency_ms.p99", Unmeasured::NoCompletions),
            ("load.throughput_ratio", Unmeasured::NothingPlanned),
            ("business.roi_pct", Unmeasured::NoCost),
            ("generator.max_rss_mb", Unmeasured::NoGeneratorSamples),
        ] {
            assert_eq!(read(path, &s), NotMeasured(why), "{path}");
        }
        assert_eq!(
            read("errors.total", &s),
            Measured(0.0),
            "a count of nothing is 0"
        );

        // Faults that cannot be checked for a cascade: a partition (no stage), or no agent timings.
        let mut s = Summary::default();
        let fault = |cascade| models::FaultResult {
            kind: models::FaultKind::NetworkPartition,
            stage: None,
            start_s: 1.0,
            end_s: 2.0,
            max_level: models::DegradationLevel::None,
            time_to_detect_s: None,
            time_to_recover_s: Some(0.0),
            cascade,
            baseline: Default::default(),
            worst: Default::default(),
        };
        s.resilience.faults = vec![fault(None)];
        assert_eq!(
            read("resilience.cascades", &s),
            NotMeasured(Unmeasured::NoCascadeCheck)
        );
        assert_eq!(read("resilience.unrecovered", &s), Measured(0.0));
        assert_eq!(
            read("resilience.max_time_to_detect_s", &s),
            NotMeasured(Unmeasured::NoFaultDetected)
        );
        s.resilience.faults.push(fault(Some(true)));
        assert_eq!(read("resilience.cascades", &s), Measured(1.0));

        s.agents = vec![
            models::AgentStats {
                name: "a".into(),
                requests: 10,
                health: 70.0,
                ..Default::default()
            },
            models::AgentStats {
                name: "idle".into(),
                ..Default::default()
            },
        ];
        assert_eq!(
            read("agents.min_health", &s),
            Measured(70.0),
            "an agent that served nothing is not the least healthy"
        );
        assert!(
            Unmeasured::NoAgents
                .to_string()
                .contains("no per-agent timings")
        );
    }
}

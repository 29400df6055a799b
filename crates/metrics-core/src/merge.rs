//! Merging the figures of several processes (segments of a distributed run) into what one recorder
//! that saw every sample would have produced.
//!
//! Exact: counters, error counts, confusion matrices, latency and service-time percentiles
//! (histograms are merged, never percentiles averaged), and every ratio (recomputed from the merged
//! counts). Money and mean latencies are sums of floats, equal up to float rounding. The running cost is recomputed from the merged completions, with the fixed hourly part
//! counted once for the run's duration.
//!
//! Not exact, because a snapshot carries no per-agent histograms: an agent's merged `p99_ms` is the
//! largest of the parts' p99s (an upper bound), and the merged summary's `load.peak_tps` is the sum of
//! the parts' peaks (an upper bound; [`SnapshotMerger`] gives the exact per-tick TPS). Agent `requests`,
//! `mean_ms`, `success_rate` are exact; `utilization` adds the parts' busy time (the parts share one
//! wall clock), and `health` is recomputed from the merged figures.

use crate::agents::health_of;
use crate::business::running_cost;
use crate::config::MetricsConfig;
use crate::error::MetricsError;
use crate::histogram::{SIGFIG, decode, encode, new_us, percentiles_ms};
use crate::pool::pool_percentiles;
use crate::recorder::build_summary;
use crate::tally::{Tally, pattern_index_of_name};
use hdrhistogram::Histogram;
use models::{
    AgentStats, Confusion, EncodedHistograms, ErrorKind, IntervalSnapshot, Percentiles, Summary,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn decode_pair(
    h: Option<&EncodedHistograms>,
    part: usize,
) -> Result<(Histogram<u64>, Histogram<u64>), MetricsError> {
    let h = h.ok_or(MetricsError::MissingHistograms { part })?;
    Ok((
        decode(&h.latency_us, part, "latency")?,
        decode(&h.service_time_us, part, "service-time")?,
    ))
}

/// Agents of several parts covering the same wall time, merged by name.
fn merge_agents<'a>(
    parts: impl Iterator<Item = &'a [AgentStats]>,
    cfg: &MetricsConfig,
) -> Vec<AgentStats> {
    #[derive(Default)]
    struct Acc {
        requests: u64,
        busy_ms: f64,
        ok: f64,
        p99_ms: f64,
        utilization: f64,
    }
    let mut by_name: BTreeMap<String, Acc> = BTreeMap::new();
    for a in parts.flatten() {
        let acc = by_name.entry(a.name.clone()).or_default();
        acc.requests += a.requests;
        acc.busy_ms += a.mean_ms * a.requests as f64;
        acc.ok += a.success_rate * a.requests as f64;
        acc.p99_ms = acc.p99_ms.max(a.p99_ms);
        acc.utilization += a.utilization;
    }
    by_name
        .into_iter()
        .map(|(name, a)| {
            let n = a.requests.max(1) as f64;
            let success_rate = if a.requests == 0 {
                1.0
            } else {
                (a.ok / n).clamp(0.0, 1.0)
            };
            AgentStats {
                health: health_of(cfg, &name, success_rate, a.p99_ms, a.utilization),
                name,
                requests: a.requests,
                mean_ms: a.busy_ms / n,
                p99_ms: a.p99_ms,
                success_rate,
                utilization: a.utilization,
            }
        })
        .collect()
}

fn add_confusions(into: &mut BTreeMap<String, Confusion>, from: &BTreeMap<String, Confusion>) {
    for (k, c) in from {
        into.entry(k.clone()).or_default().add(c);
    }
}

fn add_errors(into: &mut BTreeMap<ErrorKind, u64>, from: &BTreeMap<ErrorKind, u64>) {
    for (k, n) in from {
        *into.entry(*k).or_default() += n;
    }
}

/// Merges the ticks of several processes, tick by tick, keeping whole-run histograms so that the
/// cumulative percentiles stay exact. Push every tick, in order.
#[derive(Debug)]
pub struct SnapshotMerger {
    config: MetricsConfig,
    latency: Histogram<u64>,
    service: Histogram<u64>,
    latency_sum_us: f64,
    service_sum_us: f64,
}

/// The sum of the recorded µs behind a mean (exact up to float rounding).
fn sum_us(p: &Percentiles) -> f64 {
    p.mean * 1000.0 * p.count as f64
}

impl SnapshotMerger {
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            config,
            latency: new_us(SIGFIG),
            service: new_us(SIGFIG),
            latency_sum_us: 0.0,
            service_sum_us: 0.0,
        }
    }

    /// Merges one tick's snapshots (one per process). Every part needs its histograms.
    /// Descriptive fields (`state`, `phase`, `active_faults`, target resources) come from the first
    /// part; `planned_tps` and generator resources are summed; `degradation` is the worst.
    pub fn merge_tick(
        &mut self,
        parts: &[IntervalSnapshot],
    ) -> Result<IntervalSnapshot, MetricsError> {
        let mut lat = new_us(SIGFIG);
        let mut svc = new_us(SIGFIG);
        let (mut lat_sum, mut svc_sum) = (0.0, 0.0);
        for (i, p) in parts.iter().enumerate() {
            let (l, s) = decode_pair(p.histograms.as_ref(), i)?;
            let _ = lat.add(&l);
            let _ = svc.add(&s);
            lat_sum += sum_us(&p.latency_ms);
            svc_sum += sum_us(&p.service_time_ms);
        }
        let mut out = self.merge_counts(parts)?;
        let _ = self.latency.add(&lat);
        let _ = self.service.add(&svc);
        self.latency_sum_us += lat_sum;
        self.service_sum_us += svc_sum;
        out.latency_ms = percentiles_ms(&lat, lat_sum);
        out.service_time_ms = percentiles_ms(&svc, svc_sum);
        let cum = &mut out.cumulative;
        cum.latency_ms = percentiles_ms(&self.latency, self.latency_sum_us);
        cum.service_time_ms = percentiles_ms(&self.service, self.service_sum_us);
        out.histograms = Some(EncodedHistograms {
            latency_us: encode(&lat),
            service_time_us: encode(&svc),
        });
        Ok(out)
    }

    /// Like [`merge_tick`](Self::merge_tick) for parts written without histograms (another tool,
    /// `encode_histograms` off): counts and ratios stay exact, but each percentile is the largest of
    /// the parts' (an upper bound) and the mean is count-weighted. Use it for every tick of a merge
    /// once one part lacks histograms, so that the cumulative figures are bounds throughout.
    pub fn merge_tick_bounded(
        &mut self,
        parts: &[IntervalSnapshot],
    ) -> Result<IntervalSnapshot, MetricsError> {
        let mut out = self.merge_counts(parts)?;
        // Without histograms the pool is the documented bound.
        let bound = |pick: fn(&IntervalSnapshot) -> &Percentiles| {
            pool_percentiles(parts.iter().map(|p| (pick(p), None)))
        };
        out.latency_ms = bound(|p| &p.latency_ms);
        out.service_time_ms = bound(|p| &p.service_time_ms);
        out.cumulative.latency_ms = bound(|p| &p.cumulative.latency_ms);
        out.cumulative.service_time_ms = bound(|p| &p.cumulative.service_time_ms);
        Ok(out)
    }

    /// Everything but the latency figures: counts, errors, fraud, agents, resources, cost.
    fn merge_counts(&self, parts: &[IntervalSnapshot]) -> Result<IntervalSnapshot, MetricsError> {
        let first = parts.first().ok_or(MetricsError::Empty)?;
        let mut out = IntervalSnapshot {
            t_s: parts.iter().map(|p| p.t_s).fold(0.0, f64::max),
            interval_s: parts.iter().map(|p| p.interval_s).fold(0.0, f64::max),
            state: first.state,
            phase: first.phase.clone(),
            active_faults: first.active_faults.clone(),
            degradation: parts
                .iter()
                .map(|p| p.degradation)
                .max()
                .unwrap_or_default(),
            ..IntervalSnapshot::default()
        };
        // Every worker scrapes the same target: its readings are the first worker's.
        out.resources.target = first.resources.target;
        out.target_metrics = first.target_metrics.clone();
        out.target_scrape_error = first.target_scrape_error.clone();
        let cum = &mut out.cumulative;
        for p in parts {
            out.planned_tps += p.planned_tps;
            out.scheduled += p.scheduled;
            out.sent += p.sent;
            out.completed += p.completed;
            out.ok += p.ok;
            out.dropped += p.dropped;
            out.dropped_ceiling += p.dropped_ceiling;
            out.in_flight += p.in_flight;
            add_errors(&mut out.errors, &p.errors);
            out.fraud.add(&p.fraud);
            add_confusions(&mut out.per_pattern, &p.per_pattern);
            let g = &mut out.resources.generator;
            g.cpu_pct += p.resources.generator.cpu_pct;
            g.rss_bytes += p.resources.generator.rss_bytes;
            g.net_rx_bytes = g.net_rx_bytes.max(p.resources.generator.net_rx_bytes);
            g.net_tx_bytes = g.net_tx_bytes.max(p.resources.generator.net_tx_bytes);
            let c = &p.cumulative;
            cum.scheduled += c.scheduled;
            cum.sent += c.sent;
            cum.completed += c.completed;
            cum.dropped += c.dropped;
            cum.dropped_ceiling += c.dropped_ceiling;
            add_errors(&mut cum.errors, &c.errors);
            cum.fraud.add(&c.fraud);
            cum.prevented_amount += c.prevented_amount;
            cum.false_decline_amount += c.false_decline_amount;
        }
        out.achieved_tps = if out.interval_s > 0.0 {
            out.completed as f64 / out.interval_s
        } else {
            0.0
        };
        out.agents = merge_agents(parts.iter().map(|p| p.agents.as_slice()), &self.config);
        out.cumulative.cost = running_cost(
            &self.config.cost,
            out.cumulative.completed,
            Duration::from_secs_f64(out.t_s),
        );
        Ok(out)
    }
}

/// Merges the summaries of several processes that ran side by side (segments of one run). Run ids,
/// scenario, seed, start and target come from the first part; resilience and criteria are left for
/// the orchestrator to evaluate on the merged figures.
pub fn merge_summaries(parts: &[Summary], config: &MetricsConfig) -> Result<Summary, MetricsError> {
    let first = parts.first().ok_or(MetricsError::Empty)?;
    let mut t = Tally::new();
    let mut elapsed = 0.0_f64;
    let mut peak = 0.0;
    for (i, p) in parts.iter().enumerate() {
        let (l, s) = decode_pair(p.histograms.as_ref(), i)?;
        let _ = t.latency.add(&l);
        let _ = t.service.add(&s);
        t.latency_sum_us += sum_us(&p.latency_ms).round() as u128;
        t.service_sum_us += sum_us(&p.service_time_ms).round() as u128;
        elapsed = elapsed.max(p.duration_s);
        peak += p.load.peak_tps;
        t.scheduled += p.load.scheduled;
        t.sent += p.load.sent;
        t.completed += p.load.completed;
        t.ok += p.load.completed.saturating_sub(p.errors.total);
        t.errors[ErrorKind::Dropped as usize] += p.load.dropped;
        t.dropped_ceiling += p.load.dropped_ceiling;
        for (k, n) in &p.errors.by_kind {
            if *k != ErrorKind::Dropped {
                t.errors[*k as usize] += n;
            }
        }
        for (name, ps) in &p.fraud.per_pattern {
            let Some(idx) = pattern_index_of_name(name) else {
                continue;
            };
            let c = &mut t.confusion[idx];
            // Index 1..=6 are the fraud patterns: flagged means caught.
            if (1..=models::FraudPattern::ALL.len()).contains(&idx) {
                c.tp += ps.flagged;
                c.fn_ += ps.count - ps.flagged;
                c.unscored += ps.unscored;
            } else {
                c.fp += ps.flagged;
                c.tn += ps.count - ps.flagged;
            }
        }
        t.prevented += p.fraud.prevented_amount;
        t.false_declined += p.fraud.false_decline_amount;
    }
    let duration = Duration::from_secs_f64(elapsed);
    let mut out = build_summary(&t, duration, peak, config);
    out.agents = merge_agents(parts.iter().map(|p| p.agents.as_slice()), config);
    for p in parts {
        models::ErrorSample::merge(&mut out.errors.samples, &p.errors.samples);
    }
    out.run_id = first.run_id.clone();
    out.scenario = first.scenario.clone();
    out.seed = first.seed;
    out.started_at = first.started_at.clone();
    out.target = first.target.clone();
    out.end_reason = first.end_reason.clone();
    Ok(out)
}

//! Resilience results from the interval snapshots: for each fault its steady-state baseline, the deepest
//! degradation, time to detect, time to recover and the cascade check; uptime over the run; and the
//! figures success criteria compare (`resilience.max_time_to_recover_s`, ...).

use crate::catalogue;
use crate::degradation::DegradationThresholds;
use crate::figures::TickFigures;
use models::stats::median;
use models::{
    Baseline, DegradationLevel, FaultKind, FaultResult, FaultSpec, IntervalSnapshot,
    ResilienceSummary, UptimeRule,
};
use std::collections::BTreeMap;

/// When a fault really ran, in run seconds. `end_s` is `+inf` while it still runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub kind: FaultKind,
    pub stage: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
}

impl FaultWindow {
    /// A fault that started at `t_s` and has not ended yet.
    pub fn open(spec: &FaultSpec, t_s: f64) -> Self {
        Self {
            kind: spec.kind,
            stage: spec.stage.clone(),
            start_s: t_s,
            end_s: f64::INFINITY,
        }
    }

    /// The window a spec asks for, with scenario time equal to run time.
    pub fn from_spec(spec: &FaultSpec) -> Self {
        Self {
            kind: spec.kind,
            stage: spec.stage.clone(),
            start_s: spec.at.as_secs_f64(),
            end_s: spec.end().as_secs_f64(),
        }
    }

    /// `kind` or `kind:stage`.
    pub fn label(&self) -> String {
        match &self.stage {
            Some(stage) => format!("{}:{stage}", self.kind),
            None => self.kind.to_string(),
        }
    }

    fn overlaps(&self, f: &TickFigures) -> bool {
        f.t_s > self.start_s + EPS && f.start_s() < self.end_s - EPS
    }
}

/// Float slack when comparing tick boundaries with fault instants.
const EPS: f64 = 1e-9;

/// How close to the baseline a tick must be to count as recovered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecoveryBand {
    /// Throughput no more than this share below the baseline (0.1 = 10% below; above it is fine: a
    /// target serving more than before is not hurt). Judged on achieved over planned rate when both
    /// are known, so that a ramp or an adaptive back-off does not look like a failure.
    pub tps_tolerance: f64,
    /// Error rate at most the baseline's plus this (0.01 = one percentage point).
    pub error_rate_points: f64,
    /// p99 at most this multiple of the baseline's...
    pub p99_factor: f64,
    /// ...or the baseline's plus this many milliseconds, whichever is larger (a 2 ms baseline should not
    /// make 3.1 ms a failure).
    pub p99_slack_ms: f64,
    /// Every agent that served requests succeeds at least this often, or at most 5 points below its own
    /// baseline when that was lower: an agent crash the decision absorbs with a fallback keeps the
    /// customer-facing figures flat, yet the system is not back to normal until the agent is.
    pub agent_success_rate: f64,
}

impl Default for RecoveryBand {
    fn default() -> Self {
        Self {
            tps_tolerance: 0.10,
            error_rate_points: 0.01,
            p99_factor: 1.5,
            p99_slack_ms: 5.0,
            agent_success_rate: 0.95,
        }
    }
}

/// How faults are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResilienceConfig {
    /// The baseline is the median of up to this many ticks before the fault starts: steady ones, of the
    /// phase the fault starts in and at its planned rate (within `band.tps_tolerance`), so that a
    /// ramp's climb is not the reference; ticks overlapping other faults, idle ticks and partial
    /// ticks left out. With no such tick, the last ticks before the fault whatever their phase.
    pub baseline_ticks: usize,
    pub band: RecoveryBand,
    /// Ticks in a row within the band that confirm recovery. A tick shorter than a full one (the
    /// run's last) counts for its share of a full tick; one shorter than half a tick is too short to
    /// judge and neither confirms nor breaks a recovery.
    pub recovery_ticks: usize,
    /// Levels of ticks whose snapshot does not carry one already.
    pub thresholds: DegradationThresholds,
    /// An agent that was not faulted and whose success rate falls below this during the fault is a cascade.
    pub cascade_success_rate: f64,
    /// When a tick counts as up, for `uptime_pct`.
    pub uptime: UptimeRule,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            baseline_ticks: 10,
            band: RecoveryBand::default(),
            recovery_ticks: 3,
            thresholds: DegradationThresholds::default(),
            cascade_success_rate: 0.95,
            uptime: UptimeRule::default(),
        }
    }
}

/// The baseline and what the band needs beside it.
#[derive(Debug, Clone, Copy)]
struct Reference {
    baseline: Baseline,
    /// Median achieved / planned rate, when planned rates are known.
    delivery: Option<f64>,
}

fn delivery(f: &TickFigures) -> Option<f64> {
    (f.planned_tps > 0.0).then(|| f.tps / f.planned_tps)
}

impl Reference {
    fn of(ticks: &[TickFigures]) -> Option<Self> {
        let baseline = Baseline {
            tps: median(ticks.iter().map(|f| f.tps).collect())?,
            error_rate: median(ticks.iter().map(|f| f.error_rate).collect())?,
            p99_ms: median(ticks.iter().map(|f| f.p99_ms).collect())?,
        };
        let ratios: Vec<f64> = ticks.iter().filter_map(delivery).collect();
        let delivery = if ratios.len() == ticks.len() {
            median(ratios)
        } else {
            None
        };
        Some(Self { baseline, delivery })
    }

    fn within(&self, f: &TickFigures, band: &RecoveryBand) -> bool {
        let b = &self.baseline;
        let tps_ok = match (self.delivery, delivery(f)) {
            (Some(base), Some(now)) => now >= base * (1.0 - band.tps_tolerance) - EPS,
            _ => f.tps >= b.tps * (1.0 - band.tps_tolerance) - EPS,
        };
        let errors_ok = f.error_rate <= b.error_rate + band.error_rate_points + EPS;
        let p99_ok =
            f.p99_ms <= (b.p99_ms * band.p99_factor).max(b.p99_ms + band.p99_slack_ms) + EPS;
        tps_ok && errors_ok && p99_ok
    }
}

/// Resilience figures for every fault window and the run's uptime.
///
/// ```
/// use failure_injection::{analyze, FaultWindow, ResilienceConfig};
/// use models::{FaultKind, IntervalSnapshot};
/// let ticks: Vec<IntervalSnapshot> = (1..=30)
///     .map(|t| {
///         let down = (11..=15).contains(&t);
///         IntervalSnapshot { t_s: t as f64, interval_s: 1.0, scheduled: 10, sent: 10, completed: 10,
///             ok: if down { 0 } else { 10 }, achieved_tps: 10.0, ..Default::default() }
///     })
///     .collect();
/// let window = FaultWindow { kind: FaultKind::NetworkPartition, stage: None, start_s: 10.0, end_s: 15.0 };
/// let summary = analyze(&ticks, &[window], &ResilienceConfig::default());
/// assert_eq!(summary.faults[0].time_to_detect_s, Some(1.0));
/// assert_eq!(summary.faults[0].time_to_recover_s, Some(0.0));
/// assert!((summary.uptime_pct - 100.0 * 25.0 / 30.0).abs() < 1e-9);
/// assert_eq!(summary.faults[0].cascade, None, "a partition is not aimed at one stage");
/// ```
pub fn analyze(
    snaps: &[IntervalSnapshot],
    windows: &[FaultWindow],
    config: &ResilienceConfig,
) -> ResilienceSummary {
    ResilienceSummary {
        faults: fault_results(snaps, windows, config),
        uptime_pct: uptime_pct(snaps, config.uptime),
        uptime_rule: Some(config.uptime),
    }
}

/// The up ticks' share of the run's time, in percent, by `rule` (see [`UptimeRule`]: at least
/// `1 − critical_error_rate` of a tick's due requests got a verdict, or nothing was due); 100 for an
/// empty run.
pub fn uptime_pct(snaps: &[IntervalSnapshot], rule: UptimeRule) -> f64 {
    rule.uptime_pct(snaps)
}

/// One [`FaultResult`] per window, in the windows' order.
pub fn fault_results(
    snaps: &[IntervalSnapshot],
    windows: &[FaultWindow],
    config: &ResilienceConfig,
) -> Vec<FaultResult> {
    let figures: Vec<TickFigures> = snaps.iter().map(TickFigures::of).collect();
    let full_tick = median(figures.iter().map(|f| f.interval_s).collect()).unwrap_or(0.0);
    let weights: Vec<f64> = figures
        .iter()
        .map(|f| tick_weight(f.interval_s, full_tick))
        .collect();
    let levels: Vec<DegradationLevel> = snaps
        .iter()
        .zip(&figures)
        .map(|(s, f)| s.degradation.max(config.thresholds.level_of(f)))
        .collect();
    windows
        .iter()
        .map(|w| judge_fault(snaps, &figures, &weights, &levels, windows, w, config))
        .collect()
}

/// A tick's length as a share of a full one (the median tick), at most 1. The run's last tick is
/// often a sliver (15 ms): its rate and p99 come from a handful of requests.
fn tick_weight(interval_s: f64, full_tick: f64) -> f64 {
    if full_tick > 0.0 && interval_s.is_finite() {
        (interval_s / full_tick).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Below this share of a full tick, a tick is too short to judge recovery or to be a baseline.
const MIN_JUDGED_WEIGHT: f64 = 0.5;

/// The ticks a fault's baseline is taken from (see [`ResilienceConfig::baseline_ticks`]).
fn baseline_ticks(
    snaps: &[IntervalSnapshot],
    figures: &[TickFigures],
    weights: &[f64],
    windows: &[FaultWindow],
    w: &FaultWindow,
    config: &ResilienceConfig,
) -> Vec<usize> {
    // Wholly before the start, away from other faults, with traffic due, long enough to judge.
    let before: Vec<usize> = (0..figures.len())
        .filter(|&i| {
            let f = &figures[i];
            f.t_s <= w.start_s + EPS
                && !f.idle
                && weights[i] >= MIN_JUDGED_WEIGHT
                && !windows.iter().any(|o| o != w && o.overlaps(f))
        })
        .collect();
    let Some(&last) = before.last() else {
        return before;
    };
    // Steady: the phase and planned rate the fault starts in, not the ramp that led there.
    let (phase, rate) = (&snaps[last].phase, figures[last].planned_tps);
    let steady: Vec<usize> = before
        .iter()
        .copied()
        .filter(|&i| {
            snaps[i].phase == *phase
                && (figures[i].planned_tps - rate).abs()
                    <= config.band.tps_tolerance * rate.abs() + EPS
        })
        .collect();
    if steady.is_empty() { before } else { steady }
}

fn judge_fault(
    snaps: &[IntervalSnapshot],
    figures: &[TickFigures],
    weights: &[f64],
    levels: &[DegradationLevel],
    windows: &[FaultWindow],
    w: &FaultWindow,
    config: &ResilienceConfig,
) -> FaultResult {
    let mut before = baseline_ticks(snaps, figures, weights, windows, w, config);
    let keep = before.len().saturating_sub(config.baseline_ticks);
    before.drain(..keep);
    let reference = Reference::of(&before.iter().map(|&i| figures[i]).collect::<Vec<_>>());
    // A target already degraded before the fault recovers when it is back to that level.
    let base_level = before
        .iter()
        .map(|&i| levels[i])
        .max()
        .unwrap_or(DegradationLevel::None);
    // Each agent's pooled success rate over the baseline ticks.
    let mut agent_base: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for &i in &before {
        for a in snaps[i].agents.iter().filter(|a| a.requests > 0) {
            let e = agent_base.entry(a.name.as_str()).or_default();
            e.0 += a.requests;
            e.1 += a.success_rate * a.requests as f64;
        }
    }
    let agents_ok = |i: usize| {
        snaps[i].agents.iter().filter(|a| a.requests > 0).all(|a| {
            let floor = agent_base
                .get(a.name.as_str())
                .map_or(config.band.agent_success_rate, |&(n, ok)| {
                    config.band.agent_success_rate.min(ok / n as f64 - 0.05)
                });
            a.success_rate + EPS >= floor
        })
    };
    let healthy = |i: usize| {
        levels[i] <= base_level
            && agents_ok(i)
            && reference
                .as_ref()
                .is_none_or(|r| r.within(&figures[i], &config.band))
    };

    // Recovery: the first tick wholly after the end that starts K healthy ticks in a row, each
    // counting for its length; ticks too short to judge are passed over.
    let judged = |i: usize| weights[i] >= MIN_JUDGED_WEIGHT;
    let k = config.recovery_ticks.max(1) as f64;
    let confirms = |i: usize| {
        let mut healthy_ticks = 0.0;
        for j in (i..figures.len()).filter(|&j| judged(j)) {
            if !healthy(j) {
                return false;
            }
            healthy_ticks += weights[j];
            if healthy_ticks >= k - EPS {
                return true;
            }
        }
        false
    };
    let recovery = (0..figures.len())
        .filter(|&i| figures[i].start_s() >= w.end_s - EPS && judged(i))
        .find(|&i| confirms(i));
    let time_to_recover_s = recovery.map(|i| (figures[i].start_s() - w.end_s).max(0.0));

    // Affected ticks: from the first one overlapping the fault up to the recovery.
    let first = figures
        .iter()
        .position(|f| f.t_s > w.start_s + EPS)
        .unwrap_or(figures.len());
    let last = recovery.unwrap_or(figures.len());
    let affected = first..last.max(first);
    let degraded = |i: usize| levels[i] > DegradationLevel::None || !healthy(i);
    let time_to_detect_s = affected
        .clone()
        .find(|&i| judged(i) && degraded(i))
        .map(|i| figures[i].t_s - w.start_s);

    let mut max_level = DegradationLevel::None;
    let mut worst = Baseline {
        tps: f64::INFINITY,
        error_rate: 0.0,
        p99_ms: 0.0,
    };
    for i in affected.clone().filter(|&i| judged(i)) {
        max_level = max_level.max(levels[i]);
        worst.tps = worst.tps.min(figures[i].tps);
        worst.error_rate = worst.error_rate.max(figures[i].error_rate);
        worst.p99_ms = worst.p99_ms.max(figures[i].p99_ms);
    }
    if !affected.clone().any(judged) {
        worst = Baseline::default();
    }

    // Cascade: an agent other than the faulted stage failing during the fault. It can be checked only
    // for a fault aimed at one stage, on a target that timed its other agents during the fault.
    let faulted = w.stage.as_deref().or(catalogue::default_stage(w.kind));
    let cascade = faulted.and_then(|stage| {
        let others: Vec<&models::AgentStats> = snaps
            .iter()
            .zip(figures)
            .filter(|(_, f)| w.overlaps(f))
            .flat_map(|(s, _)| &s.agents)
            .filter(|a| a.name != stage && a.requests > 0)
            .collect();
        (!others.is_empty()).then(|| {
            others
                .iter()
                .any(|a| a.success_rate < config.cascade_success_rate)
        })
    });

    FaultResult {
        kind: w.kind,
        stage: w.stage.clone(),
        start_s: w.start_s,
        end_s: w.end_s,
        max_level,
        time_to_detect_s,
        time_to_recover_s,
        cascade,
        baseline: reference.map(|r| r.baseline).unwrap_or_default(),
        worst,
    }
}

/// The resilience figures success criteria can name, as `resilience.<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ResilienceFigures {
    /// The longest time to recover; `+inf` when a fault never recovered, 0 with no faults.
    pub max_time_to_recover_s: f64,
    /// The longest time to detect among detected faults; 0 when none was detected.
    pub max_time_to_detect_s: f64,
    pub uptime_pct: f64,
    /// Faults that never recovered within the run.
    pub unrecovered_faults: f64,
    /// Faults with a cascade into stages that were not faulted (among those where it could be checked).
    pub cascades: f64,
    /// The deepest level over all faults: 0 none, 1 moderate, 2 severe, 3 critical.
    pub max_degradation: f64,
}

impl ResilienceFigures {
    /// The names [`get`](Self::get) knows.
    pub const NAMES: [&'static str; 6] = [
        "max_time_to_recover_s",
        "max_time_to_detect_s",
        "uptime_pct",
        "unrecovered_faults",
        "cascades",
        "max_degradation",
    ];

    pub fn of(summary: &ResilienceSummary) -> Self {
        let faults = &summary.faults;
        let unrecovered = faults
            .iter()
            .filter(|f| f.time_to_recover_s.is_none())
            .count();
        Self {
            max_time_to_recover_s: if unrecovered > 0 {
                f64::INFINITY
            } else {
                faults
                    .iter()
                    .filter_map(|f| f.time_to_recover_s)
                    .fold(0.0, f64::max)
            },
            max_time_to_detect_s: faults
                .iter()
                .filter_map(|f| f.time_to_detect_s)
                .fold(0.0, f64::max),
            uptime_pct: summary.uptime_pct,
            unrecovered_faults: unrecovered as f64,
            cascades: faults.iter().filter(|f| f.cascade == Some(true)).count() as f64,
            max_degradation: faults.iter().map(|f| f.max_level as u8).max().unwrap_or(0) as f64,
        }
    }

    /// A figure by name (without the `resilience.` prefix).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "max_time_to_recover_s" => self.max_time_to_recover_s,
            "max_time_to_detect_s" => self.max_time_to_detect_s,
            "uptime_pct" => self.uptime_pct,
            "unrecovered_faults" => self.unrecovered_faults,
            "cascades" => self.cascades,
            "max_degradation" => self.max_degradation,
            _ => return None,
        })
    }
}

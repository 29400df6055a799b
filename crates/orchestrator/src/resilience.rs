//! Degradation, detection and recovery: the per-tick degradation level, the fault results and the
//! uptime of `summary.json`'s `resilience` part.
//!
//! # Degradation level of a tick
//! Against a baseline (tps, error rate, p99) of healthy ticks, with `err = errors / completed`,
//! `short = completed / scheduled` (only when at least 10 arrivals were due) and `agent_ok` the lowest
//! success rate of an agent that served requests in the tick:
//! * **critical**: `err ≥ 50%`, or nothing answered successfully although arrivals were due;
//! * **severe**: `err ≥ 10%`, `p99 > max(5 × base p99, base p99 + 50 ms)`, `short < 0.5` or `agent_ok < 0.5`;
//! * **moderate**: `err ≥ base err + 1%`, `p99 > max(2 × base p99, base p99 + 10 ms)`, `short < 0.8`,
//!   `agent_ok < 0.9` or any dropped arrival;
//! * otherwise **none**.
//!
//! During a run the baseline is the last ten ticks that were at level none, outside faults, with
//! traffic (p99: their median; error rate: pooled). The latency conditions wait for three such ticks.
//!
//! # Fault results
//! * `baseline`: the last ten ticks before the fault's start with traffic and no active fault.
//! * `time_to_detect_s`: from the fault's start to the end of the first tick overlapping the fault at
//!   level moderate or worse; absent when no tick was.
//! * `time_to_recover_s`: from the fault's end to the start of the first tick that starts at or after
//!   the end and is back in the baseline band (`err ≤ base err + 0.5%`,
//!   `p99 ≤ max(1.5 × base p99, base p99 + 10 ms)`, `short ≥ min(0.9, base short − 0.05)`, every agent
//!   at `≥ min(0.95, its base success − 0.05)`, the base figures pooled over the baseline ticks, so a
//!   system that was already saturated before the fault recovers when it is back to how it was);
//!   absent when no tick was.
//! * `max_level` and `worst` (lowest tps, highest error rate, highest p99) over the ticks from the
//!   fault's start to its recovery (or the run's end).
//! * `cascade`: during the fault, an agent other than the faulted stage fell below 95% success while
//!   it was at 99% or more in the baseline. A target that reports no agents never cascades.
//! * `uptime_pct`: the share of ticks with at least one verdict or nothing due.

use models::{AgentStats, Baseline, DegradationLevel, FaultResult, FaultSpec, IntervalSnapshot};
use std::collections::VecDeque;

const MIN_DUE: u64 = 10;
const BASELINE_TICKS: usize = 10;

fn err_rate(t: &IntervalSnapshot) -> f64 {
    if t.completed == 0 {
        0.0
    } else {
        t.error_total() as f64 / t.completed as f64
    }
}

fn shortfall(t: &IntervalSnapshot) -> Option<f64> {
    (t.scheduled >= MIN_DUE).then(|| t.completed as f64 / t.scheduled as f64)
}

fn worst_agent(agents: &[AgentStats]) -> Option<f64> {
    agents
        .iter()
        .filter(|a| a.requests > 0)
        .map(|a| a.success_rate)
        .reduce(f64::min)
}

/// The level of one tick against a baseline; `base` `None` leaves out the relative conditions.
pub fn level(t: &IntervalSnapshot, base: Option<&Baseline>) -> DegradationLevel {
    let err = err_rate(t);
    let short = shortfall(t);
    let agent = worst_agent(&t.agents);
    let p99 = t.latency_ms.p99;
    if err >= 0.5 || (t.scheduled >= MIN_DUE && t.ok == 0) {
        return DegradationLevel::Critical;
    }
    let slow = |factor: f64, plus: f64| {
        base.is_some_and(|b| {
            t.latency_ms.count > 0 && p99 > (factor * b.p99_ms).max(b.p99_ms + plus)
        })
    };
    if err >= 0.10
        || slow(5.0, 50.0)
        || short.is_some_and(|s| s < 0.5)
        || agent.is_some_and(|a| a < 0.5)
    {
        return DegradationLevel::Severe;
    }
    let base_err = base.map_or(0.0, |b| b.error_rate);
    if err >= base_err + 0.01
        || slow(2.0, 10.0)
        || short.is_some_and(|s| s < 0.8)
        || agent.is_some_and(|a| a < 0.9)
        || t.dropped > 0
    {
        return DegradationLevel::Moderate;
    }
    DegradationLevel::None
}

/// Baseline figures of some ticks: mean achieved tps, pooled error rate, median p99.
pub fn baseline_of<'a>(ticks: impl IntoIterator<Item = &'a IntervalSnapshot>) -> Option<Baseline> {
    let ticks: Vec<&IntervalSnapshot> = ticks.into_iter().collect();
    if ticks.is_empty() {
        return None;
    }
    let completed: u64 = ticks.iter().map(|t| t.completed).sum();
    let errors: u64 = ticks.iter().map(|t| t.error_total()).sum();
    let mut p99s: Vec<f64> = ticks.iter().map(|t| t.latency_ms.p99).collect();
    p99s.sort_by(f64::total_cmp);
    Some(Baseline {
        tps: ticks.iter().map(|t| t.achieved_tps).sum::<f64>() / ticks.len() as f64,
        error_rate: if completed == 0 {
            0.0
        } else {
            errors as f64 / completed as f64
        },
        p99_ms: p99s[p99s.len() / 2],
    })
}

/// Tracks the live degradation level tick by tick.
#[derive(Debug, Default)]
pub struct DegradationTracker {
    healthy: VecDeque<IntervalSnapshot>,
    current: DegradationLevel,
}

impl DegradationTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The tick's level, and the previous level when it changed.
    pub fn observe(
        &mut self,
        t: &IntervalSnapshot,
    ) -> (DegradationLevel, Option<DegradationLevel>) {
        let base = (self.healthy.len() >= 3)
            .then(|| baseline_of(&self.healthy))
            .flatten();
        let lvl = level(t, base.as_ref());
        if lvl == DegradationLevel::None && t.active_faults.is_empty() && t.completed > 0 {
            let mut light = t.clone();
            light.histograms = None;
            light.per_pattern.clear();
            self.healthy.push_back(light);
            if self.healthy.len() > BASELINE_TICKS {
                self.healthy.pop_front();
            }
        }
        let prev = std::mem::replace(&mut self.current, lvl);
        (lvl, (prev != lvl).then_some(prev))
    }
}

/// A fault as it actually ran: times in seconds from the run's start, and the place it hit.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub spec: FaultSpec,
    /// The stage or route actually hit (the injector's answer, else the spec's).
    pub stage: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
}

/// What "back to normal" means after a fault, from the ticks before it.
struct Band {
    base: Baseline,
    min_short: f64,
    /// Per agent: the lowest acceptable success rate.
    min_agent: Vec<(String, f64)>,
}

impl Band {
    fn of(base: Baseline, before: &[&IntervalSnapshot]) -> Self {
        let (done, due): (u64, u64) = before
            .iter()
            .filter(|t| t.scheduled >= MIN_DUE)
            .fold((0, 0), |(c, s), t| (c + t.completed, s + t.scheduled));
        let base_short = if due == 0 {
            1.0
        } else {
            done as f64 / due as f64
        };
        let mut agents: Vec<(String, f64, f64)> = Vec::new();
        for a in before
            .iter()
            .flat_map(|t| &t.agents)
            .filter(|a| a.requests > 0)
        {
            let w = a.requests as f64;
            match agents.iter_mut().find(|(n, _, _)| *n == a.name) {
                Some((_, ok, n)) => {
                    *ok += a.success_rate * w;
                    *n += w;
                }
                None => agents.push((a.name.clone(), a.success_rate * w, w)),
            }
        }
        Self {
            base,
            min_short: 0.9f64.min(base_short - 0.05),
            min_agent: agents
                .into_iter()
                .map(|(name, ok, n)| (name, 0.95f64.min(ok / n - 0.05)))
                .collect(),
        }
    }

    fn holds(&self, t: &IntervalSnapshot) -> bool {
        let b = &self.base;
        let agent_ok = |a: &AgentStats| {
            let floor = self
                .min_agent
                .iter()
                .find(|(n, _)| *n == a.name)
                .map_or(0.95, |(_, f)| *f);
            a.requests == 0 || a.success_rate >= floor
        };
        err_rate(t) <= b.error_rate + 0.005
            && (t.latency_ms.count == 0
                || t.latency_ms.p99 <= (1.5 * b.p99_ms).max(b.p99_ms + 10.0))
            && shortfall(t).is_none_or(|s| s >= self.min_short)
            && t.agents.iter().all(agent_ok)
    }
}

/// The result of each fault, from the ticks of the run.
pub fn fault_results(
    ticks: &[IntervalSnapshot],
    faults: &[FaultWindow],
    run_end_s: f64,
) -> Vec<FaultResult> {
    faults
        .iter()
        .map(|f| fault_result(ticks, f, run_end_s))
        .collect()
}

fn start_of(t: &IntervalSnapshot) -> f64 {
    t.t_s - t.interval_s
}

fn fault_result(ticks: &[IntervalSnapshot], f: &FaultWindow, run_end_s: f64) -> FaultResult {
    let before: Vec<&IntervalSnapshot> = ticks
        .iter()
        .filter(|t| t.t_s <= f.start_s + 1e-9 && t.active_faults.is_empty() && t.completed > 0)
        .collect();
    let recent: Vec<&IntervalSnapshot> =
        before.iter().rev().take(BASELINE_TICKS).copied().collect();
    let base = baseline_of(recent.iter().copied()).unwrap_or_default();
    let band = Band::of(base, &recent);
    let during = |t: &&IntervalSnapshot| t.t_s > f.start_s && start_of(t) < f.end_s;
    let detected = ticks
        .iter()
        .filter(during)
        .find(|t| level(t, Some(&base)) >= DegradationLevel::Moderate);
    let recovered = ticks
        .iter()
        .find(|t| start_of(t) >= f.end_s - 1e-9 && band.holds(t));
    let until = recovered.map_or(run_end_s, |t| t.t_s);
    let affected: Vec<&IntervalSnapshot> = ticks
        .iter()
        .filter(|t| t.t_s > f.start_s && start_of(t) < until)
        .collect();
    let worst = Baseline {
        tps: affected
            .iter()
            .map(|t| t.achieved_tps)
            .reduce(f64::min)
            .unwrap_or(base.tps),
        error_rate: affected.iter().map(|t| err_rate(t)).fold(0.0, f64::max),
        p99_ms: affected
            .iter()
            .map(|t| t.latency_ms.p99)
            .fold(0.0, f64::max),
    };
    let max_level = affected
        .iter()
        .map(|t| level(t, Some(&base)))
        .max()
        .unwrap_or_default();
    FaultResult {
        kind: f.spec.kind,
        stage: f.stage.clone(),
        start_s: f.start_s,
        end_s: f.end_s,
        max_level,
        time_to_detect_s: detected.map(|t| (t.t_s - f.start_s).max(0.0)),
        time_to_recover_s: recovered.map(|t| (start_of(t) - f.end_s).max(0.0)),
        cascade: cascade(ticks, f, &before),
        baseline: base,
        worst,
    }
}

fn cascade(ticks: &[IntervalSnapshot], f: &FaultWindow, before: &[&IntervalSnapshot]) -> bool {
    let healthy_before = |name: &str| {
        let (mut req, mut ok) = (0.0, 0.0);
        for t in before.iter().rev().take(BASELINE_TICKS) {
            for a in t.agents.iter().filter(|a| a.name == name) {
                req += a.requests as f64;
                ok += a.success_rate * a.requests as f64;
            }
        }
        req > 0.0 && ok / req >= 0.99
    };
    ticks
        .iter()
        .filter(|t| t.t_s > f.start_s && start_of(t) < f.end_s)
        .any(|t| {
            t.agents.iter().any(|a| {
                Some(a.name.as_str()) != f.stage.as_deref()
                    && a.requests > 0
                    && a.success_rate < 0.95
                    && healthy_before(&a.name)
            })
        })
}

/// Share of ticks with at least one verdict or nothing due, in percent (100 for no ticks).
pub fn uptime_pct(ticks: &[IntervalSnapshot]) -> f64 {
    if ticks.is_empty() {
        return 100.0;
    }
    let up = ticks
        .iter()
        .filter(|t| t.ok > 0 || t.scheduled == 0)
        .count();
    up as f64 / ticks.len() as f64 * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{FaultKind, Percentiles};
    use std::time::Duration;

    fn tick(t_s: f64, p99: f64, errors: u64, agent_ok: f64) -> IntervalSnapshot {
        let mut t = IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            scheduled: 100,
            sent: 100,
            completed: 100,
            ok: 100 - errors,
            achieved_tps: 100.0,
            latency_ms: Percentiles {
                count: 100,
                p99,
                ..Default::default()
            },
            agents: vec![
                AgentStats {
                    name: "pattern_detector".into(),
                    requests: 100,
                    success_rate: agent_ok,
                    ..Default::default()
                },
                AgentStats {
                    name: "risk_assessor".into(),
                    requests: 100,
                    success_rate: 1.0,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        if errors > 0 {
            t.errors.insert(models::ErrorKind::Http5xx, errors);
        }
        t
    }

    #[test]
    fn levels_follow_the_documented_thresholds() {
        let b = Baseline {
            tps: 100.0,
            error_rate: 0.0,
            p99_ms: 10.0,
        };
        assert_eq!(
            level(&tick(1.0, 10.0, 0, 1.0), Some(&b)),
            DegradationLevel::None
        );
        assert_eq!(
            level(&tick(1.0, 25.0, 0, 1.0), Some(&b)),
            DegradationLevel::Moderate
        );
        assert_eq!(
            level(&tick(1.0, 61.0, 0, 1.0), Some(&b)),
            DegradationLevel::Severe
        );
        assert_eq!(
            level(&tick(1.0, 10.0, 2, 1.0), Some(&b)),
            DegradationLevel::Moderate
        );
        assert_eq!(
            level(&tick(1.0, 10.0, 20, 1.0), Some(&b)),
            DegradationLevel::Severe
        );
        assert_eq!(
            level(&tick(1.0, 10.0, 60, 1.0), Some(&b)),
            DegradationLevel::Critical
        );
        assert_eq!(
            level(&tick(1.0, 10.0, 0, 0.0), Some(&b)),
            DegradationLevel::Severe,
            "a crashed agent"
        );
        assert_eq!(
            level(&tick(1.0, 500.0, 0, 1.0), None),
            DegradationLevel::None,
            "no baseline, no latency rule"
        );
        let mut short = tick(1.0, 10.0, 0, 1.0);
        short.completed = 70;
        short.ok = 70;
        assert_eq!(level(&short, Some(&b)), DegradationLevel::Moderate);
    }

    #[test]
    fn tracker_reports_changes_against_a_rolling_baseline() {
        let mut tr = DegradationTracker::new();
        for s in 1..=5 {
            assert_eq!(
                tr.observe(&tick(s as f64, 10.0, 0, 1.0)),
                (DegradationLevel::None, None)
            );
        }
        assert_eq!(
            tr.observe(&tick(6.0, 100.0, 0, 1.0)),
            (DegradationLevel::Severe, Some(DegradationLevel::None))
        );
        assert_eq!(
            tr.observe(&tick(7.0, 10.0, 0, 1.0)),
            (DegradationLevel::None, Some(DegradationLevel::Severe))
        );
    }

    #[test]
    fn a_crash_is_detected_and_recovery_timed() {
        // Healthy 1..=10 s, crash from 10 s to 13 s (agent fails), slow recovery tick 13..14, healthy after.
        let mut ticks: Vec<IntervalSnapshot> =
            (1..=10).map(|s| tick(s as f64, 10.0, 0, 1.0)).collect();
        for s in 11..=13 {
            let mut t = tick(s as f64, 12.0, 0, 0.0);
            t.active_faults = vec!["agent_crash".into()];
            ticks.push(t);
        }
        ticks.push(tick(14.0, 40.0, 0, 1.0));
        ticks.extend((15..=20).map(|s| tick(s as f64, 10.0, 0, 1.0)));
        let crash = FaultWindow {
            spec: FaultSpec::new(
                FaultKind::AgentCrash,
                Duration::from_secs(10),
                Duration::from_secs(3),
            ),
            stage: Some("pattern_detector".into()),
            start_s: 10.0,
            end_s: 13.0,
        };
        let r = &fault_results(&ticks, std::slice::from_ref(&crash), 20.0)[0];
        assert_eq!(r.time_to_detect_s, Some(1.0));
        assert_eq!(
            r.time_to_recover_s,
            Some(1.0),
            "the tick 13..14 s is still slow"
        );
        assert_eq!(r.max_level, DegradationLevel::Severe);
        assert!(!r.cascade, "only the faulted agent failed");
        assert_eq!(r.baseline.p99_ms, 10.0);
        assert_eq!(r.worst.p99_ms, 40.0);

        // The same with the risk assessor failing too: a cascade.
        for t in &mut ticks[10..13] {
            t.agents[1].success_rate = 0.5;
        }
        assert!(fault_results(&ticks, std::slice::from_ref(&crash), 20.0)[0].cascade);

        // Never back in band: no recovery time.
        for t in &mut ticks[13..] {
            t.latency_ms.p99 = 100.0;
        }
        assert_eq!(
            fault_results(&ticks, &[crash], 20.0)[0].time_to_recover_s,
            None
        );
    }

    #[test]
    fn a_system_saturated_before_the_fault_recovers_to_how_it_was() {
        // Before the fault: 20% dropped and the agent skipping a third of its work, all the time.
        let saturated = |s: u64, agent_ok: f64| {
            let mut t = tick(s as f64, 100.0, 0, agent_ok);
            t.scheduled = 125;
            t.dropped = 25;
            t
        };
        let mut ticks: Vec<IntervalSnapshot> = (1..=10).map(|s| saturated(s, 0.66)).collect();
        let mut crash = saturated(11, 0.0);
        crash.active_faults = vec!["agent_crash".into()];
        ticks.push(crash);
        ticks.extend((12..=15).map(|s| saturated(s, 0.66)));
        let f = FaultWindow {
            spec: FaultSpec::new(
                FaultKind::AgentCrash,
                Duration::from_secs(10),
                Duration::from_secs(1),
            ),
            stage: Some("pattern_detector".into()),
            start_s: 10.0,
            end_s: 11.0,
        };
        let r = &fault_results(&ticks, &[f], 15.0)[0];
        assert_eq!(r.time_to_recover_s, Some(0.0), "{r:?}");
    }

    #[test]
    fn uptime_counts_ticks_with_a_verdict() {
        let mut ticks: Vec<IntervalSnapshot> =
            (1..=4).map(|s| tick(s as f64, 1.0, 0, 1.0)).collect();
        ticks[0].ok = 0;
        assert_eq!(uptime_pct(&ticks), 75.0);
        ticks[0].scheduled = 0;
        assert_eq!(uptime_pct(&ticks), 100.0);
    }
}

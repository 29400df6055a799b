//! Whether a step kept up with its rate. A rate the system does not keep up with is never
//! sustainable, whatever the SLO says: a latency bound alone passes a rate above saturation when the
//! queue has not yet grown past it by the end of a short step, and a pipeline that sheds work at a
//! saturated stage (the built-in target skips its pattern detector after a 50 ms wait) answers on
//! time without doing the work. So every step is also judged on three keep-up checks, each against
//! the same bound `r` ([`KeepUp::min_ratio`], 0.98 unless set; the threshold of the SLO's own
//! `throughput` clause when it has one):
//!
//! 1. **Throughput**: `achieved_tps ÷ offered_tps >= r` over the measured window (left to the SLO's
//!    clause when it has one), and, to tell a generator that could not offer the rate from a target
//!    that could not serve it, `(scheduled − dropped_ceiling) ÷ scheduled >= r` (arrivals the driver
//!    shed at its rate ceiling because it fell behind its schedule, on a machine short of CPU, were
//!    never offered; arrivals dropped at the in-flight bound are the target's backlog, not this).
//! 2. **No growing backlog**, over the measured window's full ticks (the last, partial tick that
//!    drains the late answers is left out):
//!    - in flight: `slope(in_flight) ÷ offered_tps <= 1 − r`, the share of arrivals that pile up
//!      (a system that keeps up holds its in-flight count level, rate × latency by Little's law;
//!      one that serves `c` of `λ` a second piles up `λ − c`, a growth of `1 − c/λ`);
//!    - latency: `slope(p50 latency in s) <= 1 − r` seconds per second (a FIFO queue at capacity `c`
//!      fed `λ` makes each request wait `(λ − c)/c` s longer every second).
//!
//!    `slope` is the Theil–Sen estimate, the median of the slopes between every pair of ticks (time
//!    at the tick's midpoint), so that one stalled tick on a busy machine does not make a trend.
//! 3. **Every stage keeps up**: each agent the target reports answered at least `r` of its requests
//!    in its median tick (the median over the full ticks of the tick's `success_rate`; a skipped or
//!    failed stage did not do the work, and one that cannot keep up sheds work every second, while a
//!    moment's stall of a busy machine sheds in a few ticks, which the latency percentiles judge).
//!
//! A check whose figure was not measured (fewer than two full ticks) fails and says so.

use crate::figures::StepFigures;
use crate::slo::{ClauseResult, Metric, Slo};

/// The keep-up bound (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct KeepUp {
    /// Achieved over offered at least this; the backlog may grow by at most `1 − min_ratio` of the
    /// arrivals (and latency by `1 − min_ratio` s per s), every agent answers this share at least.
    pub min_ratio: f64,
}

impl Default for KeepUp {
    fn default() -> Self {
        Self { min_ratio: 0.98 }
    }
}

impl KeepUp {
    /// The bound in force for `slo`: its `throughput` clause's threshold, or `min_ratio`.
    pub fn ratio(&self, slo: &Slo) -> f64 {
        slo.threshold(Metric::Throughput).unwrap_or(self.min_ratio)
    }

    /// The keep-up checks of a step, as clause results beside the SLO's (`keep_up:` before each
    /// name). `margin` marks a figure near its bound as the SLO's do (`|x − t| <= margin × room`,
    /// the room being `1 − r`).
    pub fn evaluate(&self, slo: &Slo, f: &StepFigures, margin: f64) -> Vec<ClauseResult> {
        let r = self.ratio(slo);
        let room = 1.0 - r;
        let pct = |v: f64| format!("{}%", round4(v * 100.0));
        let near = |actual: f64, bound: f64| (actual - bound).abs() <= margin * room;
        let mut out = Vec::new();
        if slo.threshold(Metric::Throughput).is_none() {
            let actual = Metric::Throughput.value(f);
            out.push(ClauseResult {
                clause: format!("keep_up: achieved/offered>={}", pct(r)),
                actual,
                passed: actual >= r,
                marginal: near(actual, r),
            });
        }
        if f.scheduled > 0 {
            let actual = 1.0 - f.dropped_ceiling as f64 / f.scheduled as f64;
            out.push(ClauseResult {
                clause: format!("keep_up: generator offered/scheduled>={}", pct(r)),
                actual,
                passed: actual >= r,
                marginal: near(actual, r),
            });
        }
        for (what, figure) in [
            ("in-flight growth/offered", f.backlog_growth),
            ("p50 latency growth s/s", f.latency_growth),
        ] {
            out.push(match figure {
                Some(actual) => ClauseResult {
                    clause: format!("keep_up: {what}<={}", round4(room)),
                    actual,
                    passed: actual <= room,
                    marginal: near(actual, room),
                },
                None => ClauseResult {
                    clause: format!(
                        "keep_up: {what}<={} not measured (fewer than two full ticks in the measured window)",
                        round4(room)
                    ),
                    actual: f64::NAN,
                    passed: false,
                    marginal: false,
                },
            });
        }
        if let Some(a) = &f.weakest_agent {
            out.push(ClauseResult {
                clause: format!("keep_up: agent {} answered>={}", a.name, pct(r)),
                actual: a.answered,
                passed: a.answered >= r,
                marginal: near(a.answered, r),
            });
        }
        out
    }
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// Theil–Sen slope of `(x, y)` points: the median of the slopes between every pair with distinct
/// `x`. `None` with fewer than two such points.
pub fn trend(points: &[(f64, f64)]) -> Option<f64> {
    let mut slopes = Vec::new();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dx = b.0 - a.0;
            if dx.abs() > f64::EPSILON {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let n = slopes.len();
    Some(if n % 2 == 1 {
        slopes[n / 2]
    } else {
        (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::AgentShare;

    /// A step that kept up at 1,000 TPS: every figure level and every agent answering.
    fn kept_up() -> StepFigures {
        StepFigures {
            offered_tps: 1000.0,
            achieved_tps: 1000.0,
            completed: 5000,
            scheduled: 5000,
            sent: 5000,
            backlog_growth: Some(0.0),
            latency_growth: Some(0.0),
            weakest_agent: Some(AgentShare {
                name: "pattern_detector".into(),
                answered: 1.0,
            }),
            ..StepFigures::default()
        }
    }

    fn failures(slo: &str, f: &StepFigures) -> Vec<String> {
        KeepUp::default()
            .evaluate(&Slo::parse(slo).unwrap(), f, 0.1)
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.clause)
            .collect()
    }

    #[test]
    fn a_level_step_keeps_up() {
        assert_eq!(failures("p99<250ms", &kept_up()), Vec::<String>::new());
    }

    #[test]
    fn ninety_percent_of_the_offered_rate_is_not_keeping_up() {
        let f = StepFigures {
            achieved_tps: 900.0,
            ..kept_up()
        };
        let failed = failures("p99<250ms,error_rate<1%", &f);
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("achieved/offered>=98%"), "{failed:?}");
        // The SLO's own throughput clause sets the bound instead (and judges the ratio itself).
        let slo = Slo::parse("p99<250ms,throughput>=85%").unwrap();
        let r = KeepUp::default().evaluate(&slo, &f, 0.1);
        assert!(r.iter().all(|c| c.passed), "{r:?}");
        assert!(slo.evaluate(&f, 0.1)[1].passed);
    }

    #[test]
    fn a_generator_that_could_not_send_the_rate_is_named() {
        let f = StepFigures {
            achieved_tps: 820.0,
            sent: 4100,
            dropped_ceiling: 900,
            ..kept_up()
        };
        let failed = failures("p99<250ms", &f);
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(
            failed[1].contains("generator offered/scheduled"),
            "{failed:?}"
        );
    }

    #[test]
    fn a_growing_in_flight_count_or_latency_is_not_keeping_up() {
        // 50 more requests in flight every second at 1,000 TPS: 5% of the arrivals pile up.
        let f = StepFigures {
            backlog_growth: Some(0.05),
            ..kept_up()
        };
        let failed = failures("p99<250ms", &f);
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("in-flight growth"), "{failed:?}");
        // p50 climbing 30 ms every second.
        let f = StepFigures {
            latency_growth: Some(0.03),
            ..kept_up()
        };
        let failed = failures("p99<250ms", &f);
        assert!(
            failed.len() == 1 && failed[0].contains("latency growth"),
            "{failed:?}"
        );
    }

    #[test]
    fn a_stage_that_sheds_work_is_not_keeping_up() {
        let f = StepFigures {
            weakest_agent: Some(AgentShare {
                name: "pattern_detector".into(),
                answered: 0.91,
            }),
            ..kept_up()
        };
        let failed = failures("p99<250ms", &f);
        assert!(
            failed.len() == 1 && failed[0].contains("agent pattern_detector answered>=98%"),
            "{failed:?}"
        );
    }

    #[test]
    fn an_unmeasured_trend_fails_and_says_so() {
        let f = StepFigures {
            backlog_growth: None,
            latency_growth: None,
            ..kept_up()
        };
        let failed = failures("p99<250ms", &f);
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(failed.iter().all(|c| c.contains("not measured")));
    }

    #[test]
    fn the_trend_is_the_median_pairwise_slope() {
        assert_eq!(trend(&[(1.0, 5.0)]), None);
        assert_eq!(trend(&[(0.0, 0.0), (1.0, 2.0), (2.0, 4.0)]), Some(2.0));
        // One stalled tick does not make a level series grow.
        let level = [
            (0.5, 36.0),
            (1.5, 35.0),
            (2.5, 37.0),
            (3.5, 36.0),
            (4.5, 400.0),
        ];
        let s = trend(&level).unwrap();
        assert!(s.abs() < 2.0, "{s}");
    }
}

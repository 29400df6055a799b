//! The knees of the load curve, from the steps a search ran (each rate's runs reduced to their
//! medians, interrupted runs left out, rates in increasing order).
//!
//! **Latency knee** (where p99 starts to climb faster than linearly): a straight line
//! `p99 = a + b × rate` is fitted by least squares to the low-load points (the lowest third of the
//! rates tried, at least two), with its slope held at 0 or more. A point is *above the line* when its
//! p99 exceeds `factor` (1.5) times the line's value there and by more than `min_excess_ms` (2 ms, so
//! that a 1 ms wobble on a 2 ms baseline is no knee). The knee is where the curve leaves the line for
//! good: between the last point on the line and the first point from which every higher rate is above
//! it, interpolated linearly where `p99 - factor × line` crosses zero. Its resolution is the spacing
//! of the rates tried there, reported as `between`.
//!
//! **Quality knee** (where detection begins to drop): the low-load level is the median recall (or
//! F1) of the same low-load points; the knee is where the figure falls more than `quality_drop`
//! (0.05) below that level for good, interpolated the same way. Points with fewer than
//! `min_fraud_answered` answered frauds are left out (their recall rests on too few cases).

use crate::search::{StepRecord, Verdict};
use models::stats::median;
use serde::Serialize;

/// Which detection figure the quality knee follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityMetric {
    #[default]
    Recall,
    F1,
}

impl QualityMetric {
    pub fn name(self) -> &'static str {
        match self {
            QualityMetric::Recall => "recall",
            QualityMetric::F1 => "f1",
        }
    }
}

/// Settings of the knee detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KneeConfig {
    /// A point is above the low-load line when its p99 exceeds this many times the line.
    pub factor: f64,
    /// ... and by more than this many milliseconds.
    pub min_excess_ms: f64,
    /// The quality knee is where the figure falls this far below its low-load level.
    pub quality_drop: f64,
    pub quality_metric: QualityMetric,
    /// Points with fewer answered frauds than this are left out of the quality curve.
    pub min_fraud_answered: u64,
}

impl Default for KneeConfig {
    fn default() -> Self {
        Self {
            factor: 1.5,
            min_excess_ms: 2.0,
            quality_drop: 0.05,
            quality_metric: QualityMetric::Recall,
            min_fraud_answered: 30,
        }
    }
}

/// One rate's medians.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub tps: f64,
    pub p99_ms: f64,
    /// `None` when too few frauds were answered.
    pub quality: Option<f64>,
    pub runs: usize,
}

/// A knee and the rates it lies between.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Knee {
    pub tps: f64,
    /// The last rate before the knee and the first after it.
    pub between: [f64; 2],
}

/// Both knees and what they were measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Knees {
    pub latency: Option<Knee>,
    /// The low-load line `p99 = intercept + slope × rate` (ms, ms per TPS).
    pub baseline_p99: Option<[f64; 2]>,
    pub quality: Option<Knee>,
    /// The low-load level of the quality figure.
    pub baseline_quality: Option<f64>,
    pub config: KneeConfig,
}

/// The completed runs of each rate, in increasing rate (interrupted steps left out).
pub(crate) fn runs_by_rate(steps: &[StepRecord]) -> Vec<(f64, Vec<&StepRecord>)> {
    let mut rates: Vec<f64> = steps
        .iter()
        .filter(|s| s.verdict != Verdict::Interrupted)
        .map(|s| s.tps)
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    rates
        .into_iter()
        .map(|tps| {
            let runs = steps
                .iter()
                .filter(|s| s.tps == tps && s.verdict != Verdict::Interrupted)
                .collect();
            (tps, runs)
        })
        .collect()
}

/// Each rate's medians, in increasing rate.
pub fn curve(steps: &[StepRecord], cfg: &KneeConfig) -> Vec<CurvePoint> {
    runs_by_rate(steps)
        .into_iter()
        .map(|(tps, runs)| {
            let quality: Vec<f64> = runs
                .iter()
                .filter(|s| s.figures.fraud_answered >= cfg.min_fraud_answered)
                .map(|s| match cfg.quality_metric {
                    QualityMetric::Recall => s.figures.recall,
                    QualityMetric::F1 => s.figures.f1,
                })
                .collect();
            CurvePoint {
                tps,
                p99_ms: median(runs.iter().map(|s| s.figures.p99_ms).collect()).unwrap_or(f64::NAN),
                quality: median(quality),
                runs: runs.len(),
            }
        })
        .collect()
}

/// How many of `n` points make the low-load baseline.
fn baseline_len(n: usize) -> usize {
    (n / 3).max(2)
}

/// Least squares line through `(x, y)`, slope held at 0 or more: `[intercept, slope]`.
fn fit(points: &[(f64, f64)]) -> [f64; 2] {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
    [my - slope * mx, slope]
}

/// The first index from which `excess(i) > 0` holds for every later point, the knee between it and
/// the point before, interpolated where `excess` crosses zero.
fn leave_for_good(xs: &[f64], excess: &[f64], first: usize) -> Option<Knee> {
    let n = xs.len();
    let mut j = n;
    while j > first && excess[j - 1] > 0.0 {
        j -= 1;
    }
    if j == n || j == 0 {
        return None;
    }
    let (x0, x1) = (xs[j - 1], xs[j]);
    let (g0, g1) = (excess[j - 1], excess[j]);
    let t = if g1 > g0 {
        (-g0 / (g1 - g0)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some(Knee {
        tps: (x0 + t * (x1 - x0)).round(),
        between: [x0, x1],
    })
}

/// Both knees of a curve.
pub fn knees(points: &[CurvePoint], cfg: &KneeConfig) -> Knees {
    let mut out = Knees {
        latency: None,
        baseline_p99: None,
        quality: None,
        baseline_quality: None,
        config: cfg.clone(),
    };
    let lat: Vec<&CurvePoint> = points.iter().filter(|p| p.p99_ms.is_finite()).collect();
    if lat.len() >= 3 {
        let m = baseline_len(lat.len());
        let base: Vec<(f64, f64)> = lat[..m].iter().map(|p| (p.tps, p.p99_ms)).collect();
        let line = fit(&base);
        out.baseline_p99 = Some(line);
        let xs: Vec<f64> = lat.iter().map(|p| p.tps).collect();
        let excess: Vec<f64> = lat
            .iter()
            .map(|p| {
                let expected = (line[0] + line[1] * p.tps).max(0.0);
                let over = p.p99_ms - cfg.factor * expected;
                if p.p99_ms - expected > cfg.min_excess_ms {
                    over
                } else {
                    over.min(0.0)
                }
            })
            .collect();
        out.latency = leave_for_good(&xs, &excess, m);
    }
    let q: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.quality.map(|q| (p.tps, q)))
        .collect();
    if q.len() >= 3
        && let Some(level) = median(q[..baseline_len(q.len())].iter().map(|p| p.1).collect())
    {
        out.baseline_quality = Some(level);
        let floor = level - cfg.quality_drop;
        let xs: Vec<f64> = q.iter().map(|p| p.0).collect();
        let excess: Vec<f64> = q.iter().map(|p| floor - p.1).collect();
        out.quality = leave_for_good(&xs, &excess, baseline_len(q.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(f: impl Fn(f64) -> (f64, Option<f64>), rates: &[f64]) -> Vec<CurvePoint> {
        rates
            .iter()
            .map(|&tps| {
                let (p99_ms, quality) = f(tps);
                CurvePoint {
                    tps,
                    p99_ms,
                    quality,
                    runs: 1,
                }
            })
            .collect()
    }

    const RATES: [f64; 10] = [
        100.0, 200.0, 400.0, 800.0, 1600.0, 2400.0, 2800.0, 3200.0, 4800.0, 6400.0,
    ];

    #[test]
    fn finds_a_hockey_stick() {
        // Flat 12 ms with a gentle slope, then steep past 2,500 TPS.
        let f = |r: f64| {
            let base = 12.0 + r * 0.0005;
            let p99 = if r > 2500.0 {
                base + (r - 2500.0) * 0.5
            } else {
                base
            };
            (p99, Some(if r > 3000.0 { 0.6 } else { 0.95 }))
        };
        let k = knees(&pts(f, &RATES), &KneeConfig::default());
        let lat = k.latency.unwrap();
        assert_eq!(lat.between, [2400.0, 2800.0]);
        // Linear interpolation leans toward the last point on the line for a hockey stick.
        assert!((2400.0..2600.0).contains(&lat.tps), "{lat:?}");
        let q = k.quality.unwrap();
        assert_eq!(q.between, [2800.0, 3200.0]);
        assert!((k.baseline_quality.unwrap() - 0.95).abs() < 1e-12);
    }

    #[test]
    fn a_straight_line_or_a_single_spike_is_no_knee() {
        let line = |r: f64| (10.0 + r * 0.01, Some(0.9));
        let k = knees(&pts(line, &RATES), &KneeConfig::default());
        assert_eq!(k.latency, None);
        assert_eq!(k.quality, None);
        // A spike in the middle that comes back down is noise, not a knee.
        let spike = |r: f64| (if r == 1600.0 { 80.0 } else { 10.0 }, Some(0.9));
        assert_eq!(
            knees(&pts(spike, &RATES), &KneeConfig::default()).latency,
            None
        );
        // Too few points: nothing to fit.
        assert_eq!(
            knees(&pts(line, &RATES[..2]), &KneeConfig::default()).latency,
            None
        );
    }

    #[test]
    fn curve_takes_medians_and_skips_thin_quality() {
        use crate::figures::StepFigures;
        use crate::search::Phase;
        let rec = |tps: f64, p99: f64, frauds: u64| StepRecord {
            index: 0,
            tps,
            repeat: 1,
            phase: Phase::Growth,
            figures: StepFigures {
                p99_ms: p99,
                recall: 0.9,
                fraud_answered: frauds,
                ..StepFigures::default()
            },
            verdict: Verdict::Pass,
            failed: vec![],
            marginal: vec![],
            clauses: vec![],
            dir: None,
            note: None,
        };
        let steps = vec![
            rec(200.0, 30.0, 100),
            rec(100.0, 10.0, 5),
            rec(200.0, 10.0, 100),
            rec(200.0, 20.0, 100),
        ];
        let c = curve(&steps, &KneeConfig::default());
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].tps, 100.0);
        assert_eq!(c[0].quality, None);
        assert_eq!(c[1].p99_ms, 20.0);
        assert_eq!(c[1].runs, 3);
    }
}

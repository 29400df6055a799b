//! Comparing two runs: the figures that matter, their deltas, and a regression verdict for CI.
//!
//! A figure regresses when B is worse than A (in the direction that is worse for it) by more than
//! `max_regression_pct` percent of A. The error rate is near zero in healthy runs, where relative
//! changes mean nothing (0.01 % → 0.02 % is "+100 %"), so it regresses only when it rises by more than
//! `max(A × max_regression_pct / 100, error_rate_floor)` in absolute terms; the floor defaults to 0.001
//! (0.1 percentage points).

use crate::escape::{html as esc, script_json};
use crate::html::page;
use crate::numbers::{self, sig};
use crate::run_data::RunData;
use crate::series::Series;
use models::Summary;
use serde::Serialize;
use std::fmt::Write as _;

/// Thresholds of the regression gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareConfig {
    /// Percent by which B may be worse than A on any figure (default 10).
    pub max_regression_pct: f64,
    /// Absolute rise of the error rate (a share, 0..1) always tolerated (default 0.001).
    pub error_rate_floor: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            max_regression_pct: 10.0,
            error_rate_floor: 0.001,
        }
    }
}

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Better {
    Higher,
    Lower,
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureDelta {
    pub name: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub a: f64,
    pub b: f64,
    /// `b - a`.
    pub delta: f64,
    /// `(b - a) / |a| × 100`; `None` when A is zero.
    pub delta_pct: Option<f64>,
    /// B is worse than A beyond the threshold.
    pub regression: bool,
}

impl FigureDelta {
    /// Worse than A at all (regardless of the threshold).
    pub fn worse(&self) -> bool {
        match self.better {
            Better::Higher => self.b < self.a,
            Better::Lower => self.b > self.a,
        }
    }
}

/// The comparison of run B against run A.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a_label: String,
    pub b_label: String,
    pub config: CompareConfig,
    pub figures: Vec<FigureDelta>,
}

/// Compares B against A on throughput, latency p50/p95/p99, error rate, recall, precision and cost per
/// transaction.
pub fn compare(a: &Summary, b: &Summary, config: &CompareConfig) -> Comparison {
    type Figure = (&'static str, &'static str, Better, fn(&Summary) -> f64);
    let rows: [Figure; 9] = [
        ("throughput", "TPS", Better::Higher, |s| {
            s.load.achieved_tps_avg
        }),
        ("latency p50", "ms", Better::Lower, |s| s.latency_ms.p50),
        ("latency p95", "ms", Better::Lower, |s| s.latency_ms.p95),
        ("latency p99", "ms", Better::Lower, |s| s.latency_ms.p99),
        ("error rate", "%", Better::Lower, |s| s.errors.rate),
        ("recall", "%", Better::Higher, |s| s.fraud.recall),
        ("recall of all fraud", "%", Better::Higher, |s| {
            s.fraud.recall_effective
        }),
        ("precision", "%", Better::Higher, |s| s.fraud.precision),
        ("cost per txn", "", Better::Lower, |s| {
            s.business.cost_per_txn
        }),
    ];
    let figures = rows
        .into_iter()
        .map(|(name, unit, better, get)| {
            let (va, vb) = (get(a), get(b));
            let delta = vb - va;
            let delta_pct = (va != 0.0).then(|| delta / va.abs() * 100.0);
            let worse_by = match better {
                Better::Higher => -delta,
                Better::Lower => delta,
            };
            let allowed = va.abs() * config.max_regression_pct / 100.0;
            let allowed = if name == "error rate" {
                allowed.max(config.error_rate_floor)
            } else {
                allowed
            };
            let regression =
                worse_by > allowed || (worse_by > 0.0 && va == 0.0 && name != "error rate");
            FigureDelta {
                name,
                unit,
                better,
                a: va,
                b: vb,
                delta,
                delta_pct,
                regression,
            }
        })
        .collect();
    Comparison {
        a_label: a.scenario.clone(),
        b_label: b.scenario.clone(),
        config: *config,
        figures,
    }
}

impl Comparison {
    /// True when any figure regressed beyond the threshold.
    pub fn regressed(&self) -> bool {
        self.figures.iter().any(|f| f.regression)
    }

    /// The figures that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &FigureDelta> {
        self.figures.iter().filter(|f| f.regression)
    }

    /// A plain-text table for the terminal, one figure per line, ending with the verdict.
    pub fn to_table(&self) -> String {
        let header = ["figure", "better", "A", "B", "delta", "delta %", "verdict"];
        let mut rows: Vec<[String; 7]> = vec![header.map(str::to_owned)];
        for f in &self.figures {
            let (a, b, d) = if f.unit == "%" {
                (
                    numbers::pct(f.a),
                    numbers::pct(f.b),
                    format!("{} pp", signed_trim(f.delta * 100.0, 3)),
                )
            } else {
                (sig(f.a), sig(f.b), signed(f.delta, f.a, f.b))
            };
            let name = if f.unit.is_empty() || f.unit == "%" {
                f.name.to_owned()
            } else {
                format!("{} ({})", f.name, f.unit)
            };
            rows.push([
                name,
                match f.better {
                    Better::Higher => "higher ↑".into(),
                    Better::Lower => "lower ↓".into(),
                },
                a,
                b,
                d,
                f.delta_pct
                    .map_or_else(|| "n/a".into(), |p| format!("{}%", signed_trim(p, 1))),
                if f.regression {
                    "REGRESSION".into()
                } else if f.worse() {
                    "worse (within limit)".into()
                } else if f.delta == 0.0 {
                    "same".into()
                } else {
                    "better".into()
                },
            ]);
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if (2..=5).contains(&c) {
                    let _ = write!(line, "{}{}  ", " ".repeat(pad), cell);
                } else {
                    let _ = write!(line, "{}{}  ", cell, " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let n = self.regressions().count();
        let _ = writeln!(
            out,
            "{}: {} of {} figures regressed beyond {}% (error rate: beyond max({}% of A, {} pp))",
            if n > 0 { "REGRESSION" } else { "OK" },
            n,
            self.figures.len(),
            numbers::trim(self.config.max_regression_pct, 2),
            numbers::trim(self.config.max_regression_pct, 2),
            numbers::trim(self.config.error_rate_floor * 100.0, 4),
        );
        out
    }
}

/// A delta with as many decimals as the figures it is the difference of (four significant digits of the
/// larger), so that float noise does not print as `-0.000000002925`.
fn signed(v: f64, a: f64, b: f64) -> String {
    let scale = a.abs().max(b.abs());
    let decimals = if scale > 0.0 {
        (3 - scale.log10().floor() as i32).clamp(0, 12) as usize
    } else {
        0
    };
    signed_trim(v, decimals)
}

fn signed_trim(v: f64, decimals: usize) -> String {
    let s = numbers::trim(v, decimals);
    if v > 0.0 && s != "0" {
        format!("+{s}")
    } else {
        s
    }
}

#[derive(Debug, Serialize)]
struct Overlay {
    label: String,
    t: Vec<f64>,
    achieved_tps: Vec<f64>,
    lat_p99: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
struct CompareBlob {
    mode: &'static str,
    a: Overlay,
    b: Overlay,
}

/// The comparison as a self-contained page: the table, and throughput and p99 over time of both runs
/// overlaid.
pub fn render_compare_html(a: &RunData, b: &RunData, cmp: &Comparison) -> String {
    let overlay = |d: &RunData, tag: &str| {
        let s = Series::from_intervals(&d.intervals);
        Overlay {
            label: format!("{tag}: {}", d.summary.scenario),
            t: s.t,
            achieved_tps: s.achieved_tps,
            lat_p99: s.lat_p99,
        }
    };
    let blob = CompareBlob {
        mode: "compare",
        a: overlay(a, "A"),
        b: overlay(b, "B"),
    };
    let mut body = String::new();
    let regressed = cmp.regressed();
    let _ = write!(
        body,
        r#"<header><h1><span class="label">Comparison</span> <span id="verdict" class="badge {cls}">{verdict}</span></h1>
<table class="meta"><tr><th>A</th><td id="run-a">{a_name} ({a_id}, {a_dur})</td></tr><tr><th>B</th><td id="run-b">{b_name} ({b_id}, {b_dur})</td></tr></table>
<p class="note">B regresses when it is worse than A by more than {pct}% on any figure; the error rate only when it rises by more than max({pct}% of A, {floor} percentage points).</p></header>
<section id="compare"><h2>Figures</h2><table id="compare-table"><thead><tr><th>Figure</th><th>Better</th><th>A</th><th>B</th><th>Delta</th><th>Delta %</th><th>Verdict</th></tr></thead><tbody>
"#,
        cls = if regressed { "fail" } else { "pass" },
        verdict = if regressed {
            "REGRESSION"
        } else {
            "NO REGRESSION"
        },
        a_name = esc(&a.summary.scenario),
        a_id = esc(&a.summary.run_id),
        a_dur = numbers::duration(a.summary.duration_s),
        b_name = esc(&b.summary.scenario),
        b_id = esc(&b.summary.run_id),
        b_dur = numbers::duration(b.summary.duration_s),
        pct = numbers::trim(cmp.config.max_regression_pct, 2),
        floor = numbers::trim(cmp.config.error_rate_floor * 100.0, 4),
    );
    for f in &cmp.figures {
        let (va, vb, d) = if f.unit == "%" {
            (
                numbers::pct(f.a),
                numbers::pct(f.b),
                format!("{} pp", signed_trim(f.delta * 100.0, 3)),
            )
        } else {
            (sig(f.a), sig(f.b), signed(f.delta, f.a, f.b))
        };
        let _ = writeln!(
            body,
            "<tr class=\"{cls}\"><td>{name}{unit}</td><td>{better}</td><td>{va}</td><td>{vb}</td><td>{d}</td><td>{p}</td><td>{verdict}</td></tr>",
            cls = if f.regression {
                "fail"
            } else if f.worse() {
                "warn"
            } else {
                "pass"
            },
            name = f.name,
            unit = if f.unit.is_empty() || f.unit == "%" {
                String::new()
            } else {
                format!(" ({})", f.unit)
            },
            better = match f.better {
                Better::Higher => "higher ↑",
                Better::Lower => "lower ↓",
            },
            p = f
                .delta_pct
                .map_or_else(|| "n/a".into(), |p| format!("{}%", signed_trim(p, 1))),
            verdict = if f.regression {
                "REGRESSION"
            } else if f.worse() {
                "worse (within limit)"
            } else {
                "ok"
            },
        );
    }
    body.push_str(
        r#"</tbody></table></section>
<section id="throughput"><h2>Throughput, A and B</h2><div class="chart" id="chart-cmp-throughput"></div></section>
<section id="latency"><h2>p99 latency, A and B</h2><div class="chart" id="chart-cmp-p99"></div></section>
"#,
    );
    page(
        &format!(
            "fraudstress comparison: {} vs {}",
            a.summary.scenario, b.summary.scenario
        ),
        &body,
        &script_json(&blob),
    )
}

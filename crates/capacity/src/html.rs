//! `capacity.html`: one self-contained page. uPlot is the copy vendored in `crates/report/assets`
//! (read at compile time from there, not vendored again), inlined with the chart script; the data is
//! one JSON blob. Latency, detection quality and error rates are drawn against offered load, with the
//! SLO thresholds as dashed lines, the answer, its confidence interval and the knees marked.

use crate::knee::runs_by_rate;
use crate::output::CapacityReport;
use crate::search::{StepRecord, Verdict};
use crate::slo::Metric;
use models::stats::median;
use serde::Serialize;
use std::fmt::Write as _;

use report::assets::{UPLOT_CSS, UPLOT_JS, UPLOT_LICENSE};
const CAPACITY_JS: &str = include_str!("../assets/capacity.js");
const CAPACITY_CSS: &str = include_str!("../assets/capacity.css");

#[derive(Debug, Default, Serialize)]
struct Curve {
    tps: Vec<f64>,
    p50: Vec<Option<f64>>,
    p95: Vec<Option<f64>>,
    p99: Vec<Option<f64>>,
    recall: Vec<Option<f64>>,
    precision: Vec<Option<f64>>,
    error_rate: Vec<Option<f64>>,
    dropped_rate: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
struct HLine {
    label: String,
    value: f64,
}

#[derive(Debug, Default, Serialize)]
struct Thresholds {
    latency: Vec<HLine>,
    quality: Vec<HLine>,
    errors: Vec<HLine>,
}

#[derive(Debug, Serialize)]
struct Markers {
    answer: Option<f64>,
    knee: Option<f64>,
    quality_knee: Option<f64>,
    interval: [Option<f64>; 2],
}

#[derive(Debug, Serialize)]
struct Blob {
    curve: Curve,
    thresholds: Thresholds,
    markers: Markers,
}

fn curve(steps: &[StepRecord]) -> Curve {
    let mut c = Curve::default();
    for (tps, runs) in runs_by_rate(steps) {
        let m = |f: &dyn Fn(&StepRecord) -> f64| median(runs.iter().map(|s| f(s)).collect());
        c.tps.push(tps);
        c.p50.push(m(&|s| s.figures.p50_ms));
        c.p95.push(m(&|s| s.figures.p95_ms));
        c.p99.push(m(&|s| s.figures.p99_ms));
        c.recall.push(m(&|s| s.figures.recall));
        c.precision.push(m(&|s| s.figures.precision));
        c.error_rate.push(m(&|s| s.figures.error_rate));
        c.dropped_rate.push(m(&|s| s.figures.dropped_rate));
    }
    c
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    report::escape::html(text)
}

fn tps(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_owned(), |v| format!("{v:.0} TPS"))
}

/// The vendored file starts with a banner naming its home page; the page carries no URLs, so the
/// banner is replaced with name, version and licence (as `report.html` does).
fn uplot_without_banner() -> String {
    let body = match UPLOT_JS.split_once('\n') {
        Some((first, rest)) if first.starts_with("/*!") => rest,
        _ => UPLOT_JS,
    };
    format!("/*! uPlot v1.6.32, (c) Leon Sorokin, MIT licence (text in the footer) */\n{body}")
}

/// Renders the page.
pub fn render(r: &CapacityReport) -> String {
    let mut thresholds = Thresholds::default();
    for c in &r.slo.clauses {
        let line = HLine {
            label: c.text.clone(),
            value: c.threshold,
        };
        if c.metric.is_latency() {
            thresholds.latency.push(line);
        } else if matches!(c.metric, Metric::ErrorRate | Metric::DroppedRate) {
            thresholds.errors.push(line);
        } else {
            thresholds.quality.push(line);
        }
    }
    let blob = Blob {
        curve: curve(&r.steps),
        thresholds,
        markers: Markers {
            answer: r.max_sustainable_tps,
            knee: r.knee_tps,
            quality_knee: r.quality_knee_tps,
            interval: r.confidence_interval,
        },
    };
    let blob_json = serde_json::to_string(&blob)
        .unwrap_or_else(|_| "{}".into())
        .replace("</", "<\\/");

    let mut body = String::with_capacity(32 * 1024);
    let _ = write!(
        body,
        r#"<h1>Capacity search</h1>
<p class="note">SLO <code>{slo}</code> against {target}; {steps} steps of {warm} s warm-up + {dur} s measured; search {stop}.</p>
<p class="note">Every step must also keep up with its rate, whatever the SLO: achieved ÷ offered at least {keep}% (and the generator offering {keep}% of the arrivals due), the in-flight count and the p50 latency growing by at most {room} of the arrivals (or seconds per second), every agent answering at least {keep}% of its requests (checks named <code>keep_up:</code> in the table).</p>
<div class="headline">
<div class="figure"><div class="v">{answer}</div><div class="k">max sustainable rate</div></div>
<div class="figure"><div class="v">[{lo}, {hi}]</div><div class="k">confidence interval (highest pass, lowest fail)</div></div>
<div class="figure"><div class="v">{conf:.2}</div><div class="k">confidence (agreeing runs at the boundary)</div></div>
<div class="figure"><div class="v">{knee}</div><div class="k">latency knee</div></div>
<div class="figure"><div class="v">{qknee}</div><div class="k">quality knee ({qmetric})</div></div>
</div>
<section><h2>Latency against offered load</h2>
<p class="note">Medians over each rate's runs, measured after the warm-up. Dashed: SLO thresholds. Blue band: the confidence interval; vertical lines: the answer and the knees.</p>
<div class="chart" id="chart-latency"></div></section>
<section><h2>Detection quality against offered load</h2>
<p class="note">The quality knee is where {qmetric} falls more than {drop} below its low-load level.</p>
<div class="chart" id="chart-quality"></div></section>
<section><h2>Errors against offered load</h2><div class="chart" id="chart-errors"></div></section>
<section><h2>Steps</h2><table><thead><tr><th>#</th><th>TPS</th><th>run</th><th class="l">phase</th><th>achieved</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>dropped</th><th>recall</th><th>precision</th><th class="l">verdict</th><th class="l">failed</th></tr></thead><tbody>
"#,
        slo = esc(&r.slo.text),
        target = esc(&match &r.target.url {
            Some(u) => format!("{} ({u})", r.target.kind),
            None => r.target.kind.clone(),
        }),
        steps = r.steps.len(),
        warm = r.settings.warmup_s,
        dur = r.settings.step_duration_s,
        stop = esc(&r.stop_text),
        answer = tps(r.max_sustainable_tps),
        lo = tps(r.confidence_interval[0]),
        hi = tps(r.confidence_interval[1]),
        conf = r.confidence,
        knee = tps(r.knee_tps),
        qknee = tps(r.quality_knee_tps),
        qmetric = r.knees.config.quality_metric.name(),
        drop = r.knees.config.quality_drop,
        keep = (r.settings.keep_up_ratio * 1e4).round() / 100.0,
        room = ((1.0 - r.settings.keep_up_ratio) * 1e4).round() / 1e4,
    );
    for s in &r.steps {
        let f = &s.figures;
        let verdict = match s.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Killed => "killed",
            Verdict::Interrupted => "interrupted",
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td class=\"l\">{:?}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.3}%</td><td>{:.3}%</td><td>{:.3}</td><td>{:.3}</td><td class=\"l {verdict}\">{verdict}</td><td class=\"l\">{}</td></tr>",
            s.index,
            s.tps,
            s.repeat,
            s.phase,
            f.achieved_tps,
            f.p50_ms,
            f.p95_ms,
            f.p99_ms,
            f.error_rate * 100.0,
            f.dropped_rate * 100.0,
            f.recall,
            f.precision,
            esc(&s.failed.join("; ")),
        );
    }
    body.push_str("</tbody></table></section>\n");

    let mut out = String::with_capacity(body.len() + blob_json.len() + UPLOT_JS.len() + 8192);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>fraudstress capacity: {title}</title>\n\
<style>{UPLOT_CSS}</style>\n<style>{CAPACITY_CSS}</style>\n</head><body>\n{body}\
<footer>Generated by fraudstress. Charts drawn with uPlot 1.6.32 (MIT licence, below), inlined so that this file opens without a network.\
<details><summary>uPlot licence</summary><pre>{licence}</pre></details></footer>\n\
<script type=\"application/json\" id=\"capacity-data\">{blob_json}</script>\n\
<script>{uplot}</script>\n<script>{CAPACITY_JS}</script>\n</body></html>\n",
        title = esc(&r.id),
        licence = esc(UPLOT_LICENSE),
        uplot = uplot_without_banner(),
    );
    out
}

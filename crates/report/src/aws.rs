//! `aws.json`, which `stress-runner run --cloudwatch/--xray` writes beside the other result files, and
//! the report section drawn from it: what was published to CloudWatch, the system's infrastructure
//! metrics over the run (Lambda, DynamoDB, Kinesis, Bedrock) and the X-Ray latency breakdown per
//! segment.
//!
//! The file's shape is [`models::AwsReport`], read strictly (only the optional parts may be absent):
//! a file that drifted from what the run writes is noted and left out rather than shown as zeros.

use crate::escape::html as esc;
use crate::numbers::{self, count, sig};
use models::{EmitReport, SinkReport, TraceBreakdown};
use serde::Serialize;
use std::fmt::Write as _;

/// What the AWS side of a run measured; absent parts were not enabled or could not be read.
pub use models::AwsReport as AwsData;
/// Name of the AWS file inside a results folder.
pub use run_files::names::AWS as AWS_FILE;

/// One small chart per infrastructure series that has points (the chart script's input).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct InfraChart {
    /// Element id of the chart's `<div>`.
    pub id: String,
    pub label: String,
    pub t: Vec<f64>,
    pub v: Vec<f64>,
}

/// The report's view of an `aws.json` (the type is `models`', the charts are the report's).
pub(crate) trait InfraCharts {
    /// The charts for the series with data, in file order.
    fn infra_charts(&self) -> Vec<InfraChart>;
}

impl InfraCharts for AwsData {
    fn infra_charts(&self) -> Vec<InfraChart> {
        let Some(infra) = &self.infra else {
            return Vec::new();
        };
        infra
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.points.is_empty())
            .map(|(i, s)| InfraChart {
                id: format!("chart-aws-{i}"),
                label: format!("{} {} ({})", s.resource, s.metric, s.stat),
                t: s.points
                    .iter()
                    .map(|p| numbers::round_to(p.t_s, 1))
                    .collect(),
                v: s.points
                    .iter()
                    .map(|p| numbers::round_to(p.value, 4))
                    .collect(),
            })
            .collect()
    }
}

/// The report's AWS section.
pub(crate) fn section(out: &mut String, aws: &AwsData) {
    out.push_str("<section id=\"aws\"><h2>AWS: CloudWatch and X-Ray</h2>\n");
    published(out, aws.cloudwatch_sink.as_ref());
    infra(out, aws);
    xray(out, aws.xray.as_ref(), aws.xray_segments.as_ref());
    out.push_str("</section>\n");
}

fn published(out: &mut String, sink: Option<&SinkReport>) {
    out.push_str("<h3>Run metrics published to CloudWatch</h3>\n");
    let Some(s) = sink else {
        out.push_str("<p id=\"aws-published\">Run metrics were not published to CloudWatch for this run (no <code>--cloudwatch</code>, or CloudWatch was unusable: see the run's warnings).</p>\n");
        return;
    };
    let _ = write!(
        out,
        r#"<table id="aws-published"><tbody>
<tr><th>Datums published</th><td id="aws-datums-published">{published}</td></tr>
<tr><th>Datums failed</th><td id="aws-datums-failed">{failed}</td></tr>
<tr><th>Frames dropped (never converted)</th><td id="aws-frames-dropped">{dropped}</td></tr>
<tr><th>PutMetricData requests (retries)</th><td>{requests} ({retries})</td></tr>
<tr><th>Latency sent as a statistic set (histogram unreadable)</th><td>{fallbacks}</td></tr>
</tbody></table>
"#,
        published = count(s.published_datums),
        failed = count(s.failed_datums),
        dropped = count(s.dropped_frames),
        requests = count(s.requests),
        retries = count(s.retries),
        fallbacks = count(s.histogram_fallbacks),
    );
    if let Some(e) = &s.last_error {
        let _ = writeln!(
            out,
            "<p class=\"warning\" id=\"aws-last-error\">Last CloudWatch error: {}</p>",
            esc(e)
        );
    }
}

fn infra(out: &mut String, aws: &AwsData) {
    out.push_str("<h3>Infrastructure metrics (CloudWatch, run window)</h3>\n");
    let Some(infra) = &aws.infra else {
        out.push_str("<p id=\"aws-infra\">No infrastructure metrics were read: the scenario's <code>[aws]</code> table lists no Lambda functions, DynamoDB tables, Kinesis streams or Bedrock models, or the read failed.</p>\n");
        return;
    };
    let _ = writeln!(
        out,
        "<p class=\"note\">GetMetricData over the run window ({}), {} s per point; times are seconds since the run started.</p>",
        numbers::duration(infra.duration_s),
        infra.period_s
    );
    out.push_str("<table id=\"aws-infra\"><thead><tr><th>Service</th><th>Resource</th><th>Metric</th><th>Statistic</th><th>Points</th><th>Min</th><th>Mean</th><th>Max</th><th>Complete</th></tr></thead><tbody>\n");
    if infra.series.is_empty() {
        out.push_str("<tr><td colspan=\"9\">No series.</td></tr>\n");
    }
    for s in &infra.series {
        let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
        let (min, mean, max) = if values.is_empty() {
            ("-".to_owned(), "-".to_owned(), "-".to_owned())
        } else {
            (
                sig(values.iter().copied().fold(f64::INFINITY, f64::min)),
                sig(values.iter().sum::<f64>() / values.len() as f64),
                sig(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            )
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{min}</td><td>{mean}</td><td>{max}</td><td>{}</td></tr>",
            esc(&s.service),
            esc(&s.resource),
            esc(&s.metric),
            esc(&s.stat),
            count(s.points.len() as u64),
            if s.complete { "yes" } else { "partial" },
        );
    }
    out.push_str("</tbody></table>\n");
    let charts = aws.infra_charts();
    if charts.is_empty() {
        out.push_str("<p class=\"note\">CloudWatch returned no data points for these series in the run window.</p>\n");
        return;
    }
    out.push_str("<div class=\"small-charts\">\n");
    for c in &charts {
        let _ = writeln!(
            out,
            "<div><h4>{}</h4><div class=\"chart small\" id=\"{}\"></div></div>",
            esc(&c.label),
            c.id
        );
    }
    out.push_str("</div>\n");
}

fn xray(out: &mut String, traces: Option<&TraceBreakdown>, emitted: Option<&EmitReport>) {
    out.push_str("<h3>X-Ray latency breakdown per segment</h3>\n");
    match traces {
        None => out.push_str("<p id=\"aws-xray\">X-Ray traces were not read for this run (no <code>--xray</code>, or the read failed).</p>\n"),
        Some(t) => {
            let _ = writeln!(
                out,
                "<p class=\"note\">{} traces read from the run window{}; subsegments are the pipeline's agents and downstream calls.</p>",
                count(t.traces),
                if t.unprocessed_traces > 0 {
                    format!(", {} listed but not returned", count(t.unprocessed_traces))
                } else {
                    String::new()
                }
            );
            out.push_str("<table id=\"aws-xray\"><thead><tr><th>Name</th><th>Kind</th><th>Count</th><th>Mean (ms)</th><th>p50 (ms)</th><th>p99 (ms)</th></tr></thead><tbody>\n");
            if t.segments.is_empty() {
                out.push_str("<tr><td colspan=\"6\">No traces in the run window.</td></tr>\n");
            }
            for s in &t.segments {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&s.name),
                    s.kind,
                    count(s.count),
                    sig(s.mean_ms),
                    sig(s.p50_ms),
                    sig(s.p99_ms)
                );
            }
            out.push_str("</tbody></table>\n");
        }
    }
    if let Some(e) = emitted {
        let _ = writeln!(
            out,
            "<p id=\"aws-xray-emitted\">Segments emitted for sampled transactions: {} of {} offered sampled, {} sent, {} failed ({} retries){}.</p>",
            count(e.sampled),
            count(e.offered),
            count(e.sent_segments),
            count(e.failed_segments),
            count(e.retries),
            e.last_error
                .as_deref()
                .map(|m| format!("; last error: {}", esc(m)))
                .unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_run_writes_and_tolerates_missing_parts() {
        let text = r#"{
          "run_id": "r1",
          "cloudwatch_sink": {"published_datums": 40, "failed_datums": 0, "dropped_frames": 0,
                              "retries": 1, "requests": 2, "histogram_fallbacks": 0},
          "infra": {"start_unix_s": 1.8e9, "duration_s": 120.0, "period_s": 60, "series": [
            {"service": "lambda", "resource": "score", "metric": "Invocations", "stat": "Sum",
             "points": [{"t_s": 0.0, "value": 10.0}, {"t_s": 60.0, "value": 30.0}], "complete": true},
            {"service": "kinesis", "resource": "events", "metric": "GetRecords.IteratorAgeMilliseconds",
             "stat": "Maximum", "points": [], "complete": true}]},
          "xray": {"traces": 3, "unprocessed_traces": 0, "segments": [
            {"name": "ml_scorer", "kind": "subsegment", "count": 3, "mean_ms": 12.5, "p50_ms": 12.0, "p99_ms": 14.0}]}
        }"#;
        let aws: AwsData = serde_json::from_str(text).unwrap();
        assert_eq!(aws.cloudwatch_sink.as_ref().unwrap().published_datums, 40);
        let charts = aws.infra_charts();
        assert_eq!(charts.len(), 1, "the empty series gets no chart");
        assert_eq!(charts[0].id, "chart-aws-0");
        assert_eq!(charts[0].v, [10.0, 30.0]);

        let mut html = String::new();
        section(&mut html, &aws);
        assert!(html.contains("CloudWatch"));
        assert!(html.contains(r#"<td id="aws-datums-published">40</td>"#));
        assert!(html.contains("<td>score</td><td>Invocations</td><td>Sum</td><td>2</td><td>10</td><td>20</td><td>30</td>"), "{html}");
        assert!(html.contains("<td>ml_scorer</td><td>subsegment</td><td>3</td><td>12.5</td>"));

        let bare: AwsData = serde_json::from_str(r#"{"run_id": "r2"}"#).unwrap();
        let mut html = String::new();
        section(&mut html, &bare);
        assert!(html.contains("were not published"));
        assert!(html.contains("were not read"));
        assert!(bare.infra_charts().is_empty());
    }
}

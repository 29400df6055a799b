//! The HTML report of generated result sets: every chart and table is there with the right figures,
//! data cannot inject markup, long runs stay small, nothing points to the network, interrupted runs render.

mod common;

use common::{Fixture, FixtureSpec, WriteOpts};
use models::ErrorKind;
use report::{RunData, write_all};
use scraper::{Html, Selector};
use serde_json::Value;
use std::sync::OnceLock;

fn ten_minutes() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::generate(&FixtureSpec::ten_minutes()))
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(doc: &Html, css: &str) -> String {
    doc.select(&sel(css))
        .next()
        .unwrap_or_else(|| panic!("{css} is missing"))
        .text()
        .collect::<String>()
}

fn blob(doc: &Html) -> Value {
    serde_json::from_str(&text(doc, "script#report-data")).unwrap()
}

fn rows(doc: &Html, css: &str) -> Vec<Vec<String>> {
    doc.select(&sel(&format!("{css} tbody tr")))
        .map(|tr| {
            tr.select(&sel("td, th"))
                .map(|c| c.text().collect::<String>())
                .collect()
        })
        .collect()
}

#[test]
fn ten_minute_run_has_every_chart_and_the_right_figures() {
    let fx = ten_minutes();
    let dir = fx.write("ten-minutes", WriteOpts::default());
    let written = write_all(&dir).unwrap();
    assert!(!written.partial);
    let html = std::fs::read_to_string(&written.html).unwrap();
    let doc = Html::parse_document(&html);
    let s = &fx.summary;

    // Header.
    assert_eq!(text(&doc, "#scenario"), "failure-recovery");
    assert_eq!(text(&doc, "#seed"), "42");
    assert_eq!(text(&doc, "#duration"), "10m 00s");
    assert!(text(&doc, "#target").contains("builtin"));
    assert!(
        text(&doc, "#target").contains("the built-in reference service"),
        "names what was tested"
    );
    let mix = text(&doc, "#mix");
    assert!(
        mix.starts_with("15% fraud, 5% edge cases, synthetic") && mix.contains("far rarer"),
        "{mix}"
    );
    let verdict = text(&doc, "#verdict");
    assert_eq!(verdict, if s.passed { "PASS" } else { "FAIL" });
    // Criteria table: one row per criterion with its threshold, actual and verdict.
    let crit = rows(&doc, "#criteria");
    assert_eq!(crit.len(), s.criteria.len());
    for (row, c) in crit.iter().zip(&s.criteria) {
        assert_eq!(row[0], c.name);
        assert_eq!(row[1], c.threshold());
        let shown: f64 = row[2].parse().unwrap();
        let actual = c.actual().unwrap();
        assert!(
            (shown - actual).abs() <= actual.abs() * 1e-3 + 1e-9,
            "{actual} shown as {}",
            row[2]
        );
        assert_eq!(row[3], if c.passed() { "pass" } else { "FAIL" });
    }
    // The fixture's faults push drops over its 500 limit: that criterion fails, so the run fails.
    assert!(
        crit.iter()
            .any(|r| r[0] == "load.dropped <= 500" && r[3] == "FAIL")
    );
    assert_eq!(verdict, "FAIL");

    // Charts.
    for id in [
        "chart-throughput",
        "chart-latency",
        "chart-hdr",
        "chart-errors",
        "chart-detection",
    ] {
        assert_eq!(
            doc.select(&sel(&format!("div.chart#{id}"))).count(),
            1,
            "{id}"
        );
    }
    let data = blob(&doc);
    let series = &data["series"];
    assert_eq!(series["t"].as_array().unwrap().len(), 600);
    assert_eq!(series["bucket"], 1);
    let i = 200; // in the hold phase
    assert_eq!(
        series["achieved_tps"][i].as_f64().unwrap(),
        fx.intervals[i].achieved_tps
    );
    assert_eq!(
        series["planned_tps"][i].as_f64().unwrap(),
        fx.intervals[i].planned_tps
    );
    let p99 = series["lat_p99"][i].as_f64().unwrap();
    assert!((p99 - fx.intervals[i].latency_ms.p99).abs() < 1e-3);
    assert!(
        series["svc_p99"][i].as_f64().unwrap() < p99,
        "service time is below latency"
    );
    // Errors by kind: 5xx only during the agent crash, 429 only during the throttle.
    let e5 = series["errors_per_s"]["http_5xx"].as_array().unwrap();
    let e429 = series["errors_per_s"]["http_429"].as_array().unwrap();
    assert!(e5[310].as_f64().unwrap() > 10.0 && e5[200].as_f64().unwrap() == 0.0);
    assert!(e429[430].as_f64().unwrap() > 10.0 && e429[310].as_f64().unwrap() == 0.0);
    assert!(series["errors_per_s"].get("dropped").is_none());
    assert!(series["dropped_per_s"][310].as_f64().unwrap() > 0.0);
    // Recall drops during the crash.
    let recall = |k: usize| series["recall"][k].as_f64().unwrap();
    assert!(recall(310) < recall(200) - 0.2);
    // Fault windows, shaded on the time charts.
    let faults = data["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0]["label"], "agent_crash (pattern_detector)");
    assert_eq!(
        (faults[0]["start_s"].as_f64(), faults[0]["end_s"].as_f64()),
        (Some(300.0), Some(330.0))
    );
    // HDR curve: x = 1/(1-q), increasing, last latency near the whole-run p99.9 and above.
    let x: Vec<f64> = data["curve"]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let v: Vec<f64> = data["curve"]["v"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(x.len() > 20 && x.windows(2).all(|w| w[1] > w[0]) && x[0] >= 1.0);
    assert!(v.windows(2).all(|w| w[1] >= w[0]));
    let at_99 = v[x.iter().position(|x| *x >= 100.0).unwrap()];
    assert!(
        (at_99 - s.latency_ms.p99).abs() / s.latency_ms.p99 < 0.02,
        "curve {at_99} vs p99 {}",
        s.latency_ms.p99
    );

    // Heatmap: one row per fraud pattern, 30 columns, fault columns marked, low cells during the crash.
    let heat = rows(&doc, "#heatmap");
    assert_eq!(heat.len(), 5);
    assert!(heat.iter().all(|r| r.len() == 31));
    assert_eq!(
        doc.select(&sel("#heatmap thead th.fault")).count(),
        4,
        "300-330 s and 420-450 s"
    );
    let card = heat.iter().find(|r| r[0] == "card_testing").unwrap();
    let col: usize = 1 + 300 / 20;
    assert!(
        card[col].parse::<u32>().unwrap() < 60,
        "card testing is missed during the crash: {}",
        card[col]
    );
    assert!(card[1].parse::<u32>().unwrap() > 90);

    // Business figures and the declared cost model beside them.
    let cost = text(&doc, "#cost-per-txn");
    assert!(
        cost.starts_with(&format!("{:.6}", s.business.cost_per_txn)[..7]),
        "{cost}"
    );
    // The net ROI, its formula beside it, and money with thousands separators.
    assert!(s.business.false_decline_loss > 0.0);
    assert_eq!(
        text(&doc, "#roi"),
        format!(
            "{} {}",
            models::format::roi(s.business.roi_pct),
            models::CostModel::ROI_FORMULA
        )
    );
    assert!(
        text(&doc, "#false-decline-loss").starts_with(&models::format::money(
            s.business.false_decline_loss,
            s.business.cost_model.currency
        ))
    );
    let prevented = text(&doc, "#prevented");
    assert!(
        s.fraud.prevented_amount >= 10_000.0 && prevented.contains(','),
        "{prevented}"
    );
    assert_eq!(text(&doc, "#false-decline-cost-ratio"), "0.1");
    let model = rows(&doc, "#cost-model");
    assert_eq!(model[1], ["Infrastructure per transaction", "0.00002"]);
    assert_eq!(model[2], ["Per model call", "0.00025"]);
    assert_eq!(model[4], ["Fixed per hour", "1.2"]);

    // Agents.
    let agents = rows(&doc, "#agents-table");
    assert_eq!(agents.len(), 4);
    assert_eq!(agents[1][0], "pattern_detector");
    assert_eq!(agents[1][1], format_count(s.agents[1].requests));

    // Errors table and overview.
    let errs = rows(&doc, "#errors-by-kind");
    assert!(
        errs.iter()
            .any(|r| r[0] == "http_5xx"
                && r[1] == format_count(s.errors.by_kind[&ErrorKind::Http5xx]))
    );
    assert_eq!(
        text(&doc, "#kpi-dropped"),
        format_count(s.load.dropped + s.load.dropped_ceiling)
    );
    assert_eq!(rows(&doc, "#faults").len(), 2);

    // JUnit beside it.
    let junit = std::fs::read_to_string(&written.junit).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 4);
}

/// Arrivals the `max_tps` ceiling shed are not sent either: the overview counts them with the
/// in-flight bound's drops (so that sent + not sent = scheduled) and tells the two apart.
#[test]
fn arrivals_shed_at_the_ceiling_count_as_not_sent() {
    let fx = ten_minutes();
    let dir = fx.write("shed-at-ceiling", WriteOpts::default());
    let path = dir.join("summary.json");
    let mut summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let load = &mut summary["load"];
    let (dropped, scheduled) = (
        load["dropped"].as_u64().unwrap(),
        load["scheduled"].as_u64().unwrap(),
    );
    load["dropped_ceiling"] = 13.into();
    load["scheduled"] = (scheduled + 13).into();
    std::fs::write(&path, serde_json::to_string(&summary).unwrap()).unwrap();

    let written = write_all(&dir).unwrap();
    let doc = Html::parse_document(&std::fs::read_to_string(&written.html).unwrap());
    assert_eq!(text(&doc, "#kpi-dropped"), format_count(dropped + 13));
    assert_eq!(text(&doc, "#kpi-dropped-bound"), format_count(dropped));
    assert_eq!(text(&doc, "#kpi-dropped-ceiling"), "13");
    // What the card shows is what was scheduled and not sent.
    let sent = summary["load"]["sent"].as_u64().unwrap();
    assert_eq!(
        text(&doc, "#kpi-dropped"),
        format_count(scheduled + 13 - sent)
    );
    assert_eq!(text(&doc, "#errors-shed-ceiling"), "13");
}

fn format_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn nothing_points_to_the_network() {
    let data = RunData::load(&ten_minutes().write("no-urls", WriteOpts::default())).unwrap();
    let html = report::render_html(&data);
    let doc = Html::parse_document(&html);
    for el in doc.select(&sel("[src], [href]")) {
        for attr in ["src", "href"] {
            let v = el.value().attr(attr).unwrap_or("");
            assert!(!v.contains("//"), "external reference {attr}={v}");
        }
    }
    assert!(!html.contains("@import") && !html.contains("url(http"));
    // The only URL-like text is the target's address, printed as data in the header.
    let target = text(&doc, "#target");
    assert_eq!(
        html.matches("http://").count(),
        target.matches("http://").count(),
        "URL outside the target cell"
    );
    assert!(!html.contains("https://"));
}

#[test]
fn data_cannot_inject_markup_or_script() {
    let mut fx = Fixture::generate(&FixtureSpec {
        duration_s: 120,
        ramp_up_s: 10,
        ramp_down_s: 10,
        faults: vec![],
        ..FixtureSpec::ten_minutes()
    });
    let evil = r#"</script><script>alert(1)</script><!-- "quoted" & 'single'"#;
    fx.summary.scenario = evil.into();
    fx.summary.run_id = "<img src=x onerror=alert(2)>".into();
    fx.summary.criteria[0].name = "</td></tr></table><b>boom</b>".into();
    fx.summary.agents[0].name = "<svg onload=alert(3)>".into();
    // What an API answered is kept as it came and shown as text.
    fx.summary.errors.samples.insert(
        models::ErrorKind::Malformed,
        vec![models::ErrorSample::new(
            Some(200),
            "decision \"HOLD\" is not in [target.response.decisions]".into(),
            br#"<svg onload=alert(4)>{"outcome":{"action":"HOLD"}}"#,
        )],
    );
    let html = report::render_html(&RunData::new(fx.summary.clone(), fx.intervals.clone()));
    let doc = Html::parse_document(&html);
    assert_eq!(
        doc.select(&sel("script")).count(),
        3,
        "blob, uPlot, report.js and nothing else"
    );
    assert_eq!(doc.select(&sel("img, svg, #criteria b")).count(), 0);
    assert_eq!(text(&doc, "#scenario"), evil);
    assert_eq!(text(&doc, "#run-id"), "<img src=x onerror=alert(2)>");
    assert_eq!(
        rows(&doc, "#criteria")[0][0],
        "</td></tr></table><b>boom</b>"
    );
    assert_eq!(
        rows(&doc, "#error-samples")[0],
        [
            "malformed",
            "200",
            "decision \"HOLD\" is not in [target.response.decisions]",
            r#"<svg onload=alert(4)>{"outcome":{"action":"HOLD"}}"#
        ]
    );
    assert_eq!(blob(&doc)["scenario"], evil);
    assert!(html.contains("<title>fraudstress report: &lt;/script&gt;"));
}

#[test]
fn a_two_hour_run_is_downsampled_and_small_enough_to_mail() {
    let fx = Fixture::generate(&FixtureSpec::two_hours());
    assert_eq!(fx.intervals.len(), 7200);
    let dir = fx.write("two-hours", WriteOpts::default());
    let written = write_all(&dir).unwrap();
    let size = std::fs::metadata(&written.html).unwrap().len();
    assert!(size < 2 * 1024 * 1024, "report.html is {size} bytes");
    let doc = Html::parse_document(&std::fs::read_to_string(&written.html).unwrap());
    let data = blob(&doc);
    let t = data["series"]["t"].as_array().unwrap();
    assert!(t.len() <= 1000 && t.len() >= 700, "{} points", t.len());
    assert_eq!(data["series"]["bucket"], 8);
    assert_eq!(t.last().unwrap().as_f64(), Some(7200.0));
    for key in ["achieved_tps", "lat_p99", "recall"] {
        assert_eq!(
            data["series"][key].as_array().unwrap().len(),
            t.len(),
            "{key}"
        );
    }
    // A bucket's p99 is the worst interval's, so the fault spikes survive downsampling.
    let worst = fx
        .intervals
        .iter()
        .map(|i| i.latency_ms.p99)
        .fold(0.0, f64::max);
    let shown = data["series"]["lat_p99"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .fold(0.0, f64::max);
    assert!((worst - shown).abs() < 1e-3);
    // A bucket's throughput is its completions over its time.
    let first8: u64 = fx.intervals[..8].iter().map(|i| i.completed).sum();
    assert!(
        (data["series"]["achieved_tps"][0].as_f64().unwrap() - first8 as f64 / 8.0).abs() <= 0.005
    );
    assert_eq!(data["faults"].as_array().unwrap().len(), 5);
    assert_eq!(rows(&doc, "#heatmap")[0].len(), 31);
}

#[test]
fn an_interrupted_run_still_renders_from_its_intervals() {
    let fx = ten_minutes();
    let dir = fx.write(
        "interrupted",
        WriteOpts {
            summary: false,
            hgrm: false,
            intervals: Some(250),
            truncate_last_line: true,
        },
    );
    let written = write_all(&dir).unwrap();
    assert!(written.partial);
    let doc = Html::parse_document(&std::fs::read_to_string(&written.html).unwrap());
    assert_eq!(text(&doc, "#verdict"), "INTERRUPTED / PARTIAL");
    assert!(text(&doc, "#partial").contains("summary.json is missing"));
    assert_eq!(text(&doc, "#end-reason"), "interrupted");
    let last = &fx.intervals[249];
    assert_eq!(
        text(&doc, "#kpi-dropped"),
        format_count(last.cumulative.dropped)
    );
    assert_eq!(text(&doc, "#duration"), "4m 10s");
    let data = blob(&doc);
    assert_eq!(data["series"]["t"].as_array().unwrap().len(), 250);
    assert!(text(&doc, "#notes").contains("last line 251 is incomplete"));
    assert!(text(&doc, "#cost-model").contains("not recorded"));
    assert_eq!(rows(&doc, "#agents-table").len(), 4);
    let junit = std::fs::read_to_string(&written.junit).unwrap();
    assert!(junit.contains(r#"<testcase classname="fraudstress.interrupted" name="run""#));
    assert!(junit.contains("run did not pass (end reason: interrupted)"));

    // Killed while writing a line, but the summary made it: figures from the summary, marked partial.
    let dir = fx.write(
        "truncated-with-summary",
        WriteOpts {
            truncate_last_line: true,
            ..WriteOpts::default()
        },
    );
    let data = RunData::load(&dir).unwrap();
    assert!(data.partial.as_deref().unwrap().contains("incomplete line") && !data.summary_derived);
    assert_eq!(data.intervals.len(), 600);
    let doc = Html::parse_document(&report::render_html(&data));
    assert_eq!(text(&doc, "#verdict"), "INTERRUPTED / PARTIAL");
    assert_eq!(text(&doc, "#criteria-verdict"), "FAIL");
    assert_eq!(text(&doc, "#seed"), "42");

    // Interrupted during the crash: the fault window comes from the events and runs to the last tick.
    let dir = fx.write(
        "interrupted-in-fault",
        WriteOpts {
            summary: false,
            intervals: Some(315),
            ..WriteOpts::default()
        },
    );
    let data = RunData::load(&dir).unwrap();
    let faults = data.fault_windows();
    assert_eq!(faults.len(), 1);
    assert_eq!((faults[0].start_s, faults[0].end_s), (300.0, 315.0));
    assert_eq!(
        data.summary.resilience.faults[0].max_level,
        models::DegradationLevel::Severe
    );
}

#[test]
fn bad_folders_give_clear_errors() {
    let missing =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-fixtures/does-not-exist");
    let err = RunData::load(&missing).unwrap_err().to_string();
    assert!(
        err.contains("no results found") && err.contains("does-not-exist"),
        "{err}"
    );

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-fixtures/garbage");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("intervals.jsonl"), "hello\nworld\n").unwrap();
    let err = RunData::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("intervals.jsonl: line 1: not a valid record"),
        "{err}"
    );

    std::fs::remove_file(dir.join("intervals.jsonl")).unwrap();
    std::fs::write(dir.join("summary.json"), "{\"run_id\": 3}").unwrap();
    let err = RunData::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("summary.json: not a valid run summary"),
        "{err}"
    );
}

#[test]
fn the_curve_falls_back_to_the_encoded_histogram() {
    let fx = ten_minutes();
    let with_hgrm = RunData::load(&fx.write("curve-hgrm", WriteOpts::default())).unwrap();
    let without = RunData::load(&fx.write(
        "curve-encoded",
        WriteOpts {
            hgrm: false,
            ..WriteOpts::default()
        },
    ))
    .unwrap();
    assert!(!with_hgrm.curve.is_empty());
    assert_eq!(with_hgrm.curve.len(), without.curve.len());
    for (a, b) in with_hgrm.curve.iter().zip(&without.curve) {
        assert!((a.value_ms - b.value_ms).abs() < 1e-3 && a.total_count == b.total_count);
    }
}

/// Writes the sample report used for docs/report-sample.png to `target/tmp/report-fixtures/sample`.
#[test]
fn sample_report_for_the_docs() {
    let dir = ten_minutes().write("sample", WriteOpts::default());
    write_all(&dir).unwrap();
}

/// With `aws.json` beside the results (as `stress-runner run --cloudwatch --xray` leaves it), the report
/// shows what was published, the infrastructure series (table and one small chart each) and the X-Ray
/// breakdown; without it, no AWS section at all; an unreadable one is a reading note, not a failure.
#[test]
fn aws_json_adds_the_cloudwatch_and_x_ray_section() {
    let fx = ten_minutes();
    let plain = fx.write("aws-none", WriteOpts::default());
    let html = report::render_html(&RunData::load(&plain).unwrap());
    assert!(!html.contains("id=\"aws\""));

    let dir = fx.write("aws", WriteOpts::default());
    let aws = serde_json::json!({
        "run_id": "r-aws",
        "cloudwatch_sink": {"published_datums": 4800, "failed_datums": 16, "dropped_frames": 2,
            "retries": 3, "requests": 260, "histogram_fallbacks": 0,
            "last_error": "PutMetricData: <throttled>"},
        "infra": {"start_unix_s": 1.8e9, "duration_s": 600.0, "period_s": 60, "series": [
            {"service": "lambda", "resource": "score-txn", "metric": "Duration", "stat": "p99",
             "points": [{"t_s": 0.0, "value": 41.5}, {"t_s": 60.0, "value": 48.25}, {"t_s": 120.0, "value": 44.0}],
             "complete": true},
            {"service": "dynamodb", "resource": "txns", "metric": "ThrottledRequests", "stat": "Sum",
             "points": [], "complete": false}]},
        "xray": {"traces": 57, "unprocessed_traces": 1, "segments": [
            {"name": "fraud-api", "kind": "segment", "count": 57, "mean_ms": 31.2, "p50_ms": 29.0, "p99_ms": 80.0},
            {"name": "ml_scorer", "kind": "subsegment", "count": 57, "mean_ms": 12.5, "p50_ms": 12.0, "p99_ms": 30.0}]},
        "xray_segments": {"offered": 120000, "sampled": 1200, "sent_segments": 1190, "failed_segments": 10, "retries": 0}
    });
    std::fs::write(dir.join("aws.json"), aws.to_string()).unwrap();
    let data = RunData::load(&dir).unwrap();
    assert_eq!(data.aws.as_ref().unwrap().run_id, "r-aws");
    let doc = Html::parse_document(&report::render_html(&data));
    assert!(text(&doc, "section#aws h2").contains("CloudWatch"));
    assert_eq!(text(&doc, "#aws-datums-published"), "4,800");
    assert_eq!(text(&doc, "#aws-datums-failed"), "16");
    assert_eq!(text(&doc, "#aws-frames-dropped"), "2");
    assert!(text(&doc, "#aws-last-error").contains("<throttled>"));
    let infra = rows(&doc, "#aws-infra");
    assert_eq!(infra.len(), 2);
    assert_eq!(
        infra[0],
        [
            "lambda",
            "score-txn",
            "Duration",
            "p99",
            "3",
            "41.5",
            "44.58",
            "48.25",
            "yes"
        ]
    );
    assert_eq!(infra[1][4..], ["0", "-", "-", "-", "partial"]);
    let xray = rows(&doc, "#aws-xray");
    assert_eq!(
        xray[1],
        ["ml_scorer", "subsegment", "57", "12.5", "12", "30"]
    );
    assert!(text(&doc, "#aws-xray-emitted").contains("1,200 of 120,000"));
    assert!(doc.select(&sel("#chart-aws-0")).next().is_some());
    assert!(
        doc.select(&sel("#chart-aws-1")).next().is_none(),
        "no points, no chart"
    );
    let b = blob(&doc);
    assert_eq!(b["aws_infra"][0]["id"], "chart-aws-0");
    assert_eq!(b["aws_infra"][0]["v"][1], 48.25);

    std::fs::write(dir.join("aws.json"), "{ not json").unwrap();
    let data = RunData::load(&dir).unwrap();
    assert!(data.aws.is_none());
    assert!(data.notes.iter().any(|n| n.starts_with("aws.json ignored")));
}

#[test]
fn fraud_without_a_verdict_shows_beside_recall() {
    let fx = ten_minutes();
    let mut summary = fx.summary.clone();
    let mut intervals = fx.intervals.clone();
    // Some fraud of one tick got no verdict: the summary and the tick both say so.
    let tick = &mut intervals[310];
    tick.fraud.unscored = 40;
    tick.per_pattern
        .entry("velocity".into())
        .or_default()
        .unscored = 40;
    let f = &mut summary.fraud;
    f.unscored = 40;
    f.recall_effective = f.tp as f64 / (f.tp + f.fn_ + f.unscored) as f64;
    f.per_pattern.entry("velocity".into()).or_default().unscored = 40;
    let html = report::render_html(&RunData::new(summary.clone(), intervals));
    let doc = Html::parse_document(&html);
    assert_eq!(text(&doc, "#unscored"), "40");
    let shown: f64 = text(&doc, "#recall-effective")
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(
        (shown - summary.fraud.recall_effective * 100.0).abs() < 0.01,
        "{shown}"
    );
    assert!(text(&doc, "#kpi-recall-effective").contains("of all fraud"));
    let velocity = rows(&doc, "#per-pattern")
        .into_iter()
        .find(|r| r[0] == "velocity")
        .expect("a velocity row");
    assert_eq!(velocity.last().map(String::as_str), Some("40"));
    // The detection chart has recall over all fraud per interval, lower where fraud went unjudged.
    let series = &blob(&doc)["series"];
    let eff = series["recall_effective"][310].as_f64().unwrap();
    assert!(eff < series["recall"][310].as_f64().unwrap(), "{eff}");
    assert_eq!(series["recall_effective"][200], series["recall"][200]);

    // Without unscored fraud the overview says nothing more.
    let plain = report::render_html(&RunData::new(fx.summary.clone(), fx.intervals.clone()));
    assert!(!plain.contains("kpi-recall-effective"));
}

#[test]
fn a_criterion_not_measured_reads_not_measured() {
    use models::{Comparison, CriterionOutcome, CriterionResult, Summary};
    let unmeasured = |name: &str, outcome| CriterionResult {
        name: name.into(),
        op: Comparison::Ge,
        limit: 80.0,
        outcome,
    };
    let summary = Summary {
        scenario: "agentless".into(),
        criteria: vec![
            unmeasured(
                "agents.min_health >= 80",
                CriterionOutcome::NotMeasured {
                    reason: "the target reported no per-agent timings".into(),
                },
            ),
            unmeasured(
                "resilience.cascades <= 0",
                CriterionOutcome::Skipped {
                    reason: "no fault ran".into(),
                },
            ),
        ],
        ..Summary::default()
    };
    let html = report::render_html(&RunData::new(summary, Vec::new()));
    let doc = Html::parse_document(&html);
    let crit = rows(&doc, "#criteria");
    assert_eq!(crit[0][2], "not measured");
    assert_eq!(crit[0][3], "FAIL (not measured)");
    assert_eq!(crit[1][2], "not measured");
    assert_eq!(crit[1][3], "skipped (not measured)");
    assert!(html.contains(r#"title="the target reported no per-agent timings""#));
}

#[test]
fn the_uptime_says_which_rule_judged_it() {
    let mut summary = models::Summary::default();
    summary.resilience.uptime_rule = Some(models::UptimeRule {
        max_error_rate: 0.05,
    });
    let html = report::render_html(&RunData::new(summary, Vec::new()));
    assert!(
        html.contains(
            r#"title="a second is up when at least 95% of its due requests got a verdict""#
        ),
        "{html}"
    );
}

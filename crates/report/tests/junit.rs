//! `junit.xml`: one test case per criterion, failures with threshold and actual, XML escaped.

use expect_test::expect_file;
use models::{Comparison, CriterionOutcome, CriterionResult, Summary, TargetInfo};
use quick_xml::Reader;
use quick_xml::events::Event;

fn summary() -> Summary {
    let crit =
        |name: &str, (op, limit): (Comparison, f64), actual: f64, passed: bool| CriterionResult {
            name: name.into(),
            op,
            limit,
            outcome: if passed {
                CriterionOutcome::Passed { actual }
            } else {
                CriterionOutcome::Failed { actual }
            },
        };
    Summary {
        run_id: "peak-load-20260101T120000Z".into(),
        scenario: r#"peak <load> & "friends""#.into(),
        seed: 7,
        started_at: "2026-01-01T12:00:00Z".into(),
        duration_s: 600.25,
        target: TargetInfo {
            kind: "http".into(),
            url: Some("http://127.0.0.1:8080/v1/score?a=1&b=2".into()),
            protocol: None,
        },
        criteria: vec![
            crit(
                "latency_ms.p99 < 500",
                (Comparison::Lt, 500.0),
                612.4567891,
                false,
            ),
            crit("errors.rate < 0.01", (Comparison::Lt, 0.01), 0.0023, true),
            crit(
                "fraud.recall >= 0.9 </failure><x>",
                (Comparison::Ge, 0.9),
                0.8,
                false,
            ),
        ],
        passed: false,
        end_reason: "completed".into(),
        ..Summary::default()
    }
}

#[test]
fn one_case_per_criterion_snapshot() {
    expect_file!["snapshots/junit.xml"].assert_eq(&report::render_junit(&summary()));
}

/// Reads the XML back with a real parser: names and messages come back unescaped and intact.
#[test]
fn parses_back_with_the_names_intact() {
    let xml = report::render_junit(&summary());
    let mut reader = Reader::from_str(&xml);
    let (mut suite, mut cases, mut failures) = (String::new(), Vec::new(), Vec::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name).unwrap().map(|a| {
                        a.normalized_value(quick_xml::XmlVersion::default())
                            .unwrap()
                            .into_owned()
                    })
                };
                match e.name().into_inner() {
                    "testsuite" => suite = attr("name").unwrap(),
                    "testcase" => cases.push(attr("name").unwrap()),
                    "failure" => failures.push(attr("message").unwrap()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(suite, r#"peak <load> & "friends""#);
    assert_eq!(
        cases,
        [
            "latency_ms.p99 < 500",
            "errors.rate < 0.01",
            "fraud.recall >= 0.9 </failure><x>"
        ]
    );
    assert_eq!(failures.len(), 2);
    assert_eq!(
        failures[0],
        "latency_ms.p99 < 500: actual 612.456789 does not meet threshold < 500"
    );
}

#[test]
fn a_run_without_criteria_is_one_case() {
    let mut s = summary();
    s.criteria.clear();
    s.passed = true;
    let xml = report::render_junit(&s);
    assert_eq!(xml.matches("<testcase ").count(), 1);
    assert!(xml.contains(r#"name="run""#) && !xml.contains("<failure"));
    s.passed = false;
    s.end_reason = "interrupted".into();
    assert!(report::render_junit(&s).contains("run did not pass (end reason: interrupted)"));
    // Control characters cannot appear in XML 1.0, even escaped.
    s.scenario = "bell\u{7}".into();
    assert!(!report::render_junit(&s).contains('\u{7}'));
}

#[test]
fn a_criterion_not_measured_is_a_failure_that_says_so_and_a_skipped_one_is_skipped() {
    let mut s = summary();
    let unmeasured = |name: &str, outcome| CriterionResult {
        name: name.into(),
        op: Comparison::Ge,
        limit: 80.0,
        outcome,
    };
    let why = "the target reported no per-agent timings";
    s.criteria = vec![
        unmeasured(
            "agents.min_health >= 80",
            CriterionOutcome::NotMeasured { reason: why.into() },
        ),
        unmeasured(
            "resilience.cascades <= 0",
            CriterionOutcome::Skipped {
                reason: "no fault ran".into(),
            },
        ),
    ];
    let xml = report::render_junit(&s);
    assert!(
        xml.contains(&format!(
            r#"<failure type="not_measured" message="agents.min_health &gt;= 80: not measured: {why}">"#
        )),
        "{xml}"
    );
    assert!(xml.contains("actual: not measured (the target reported no per-agent timings)"));
    assert!(
        xml.contains(r#"<skipped message="not measured: no fault ran (skipped: when_unmeasured = &quot;skip&quot;)"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"failures="1" errors="0" skipped="1""#),
        "{xml}"
    );
}

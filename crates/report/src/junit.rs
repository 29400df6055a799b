//! `junit.xml`: one test case per success criterion, so CI systems list them and show failures with the
//! threshold and the actual value. A criterion whose figure was not measured is a failure of type
//! `not_measured` (with the reason), or `<skipped>` when the scenario said `when_unmeasured = "skip"`.

use crate::numbers;
use models::{CriterionOutcome, Summary};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io;

/// Renders the run's criteria as a JUnit test suite named after the scenario. A run without criteria
/// gets a single `run` test case that fails when the run did not pass (for example when it was
/// interrupted), so CI never sees an empty suite.
pub fn render_junit(summary: &Summary) -> String {
    // Writing into a Vec<u8> cannot fail.
    write(summary).unwrap_or_default()
}

struct Case {
    name: String,
    failure: Option<Failure>,
    /// Why the case was skipped.
    skipped: Option<String>,
}

struct Failure {
    kind: &'static str,
    message: String,
    body: String,
}

fn cases(summary: &Summary) -> Vec<Case> {
    if summary.criteria.is_empty() {
        let failure = (!summary.passed).then(|| {
            let reason = if summary.end_reason.is_empty() {
                "no reason recorded"
            } else {
                &summary.end_reason
            };
            Failure {
                kind: "criterion_failed",
                message: format!("run did not pass (end reason: {reason})"),
                body: format!("end reason: {reason}"),
            }
        });
        return vec![Case {
            name: "run".into(),
            failure,
            skipped: None,
        }];
    }
    summary
        .criteria
        .iter()
        .map(|c| {
            let mut case = Case {
                name: c.name.clone(),
                failure: None,
                skipped: None,
            };
            match &c.outcome {
                CriterionOutcome::Passed { .. } => {}
                CriterionOutcome::Failed { actual } => {
                    let actual = numbers::trim(*actual, 6);
                    case.failure = Some(Failure {
                        kind: "criterion_failed",
                        message: format!(
                            "{}: actual {actual} does not meet threshold {}",
                            c.name,
                            c.threshold()
                        ),
                        body: format!("threshold: {}\nactual: {actual}", c.threshold()),
                    });
                }
                CriterionOutcome::NotMeasured { reason } => {
                    case.failure = Some(Failure {
                        kind: "not_measured",
                        message: format!("{}: not measured: {reason}", c.name),
                        body: format!(
                            "threshold: {}\nactual: not measured ({reason})",
                            c.threshold()
                        ),
                    });
                }
                CriterionOutcome::Skipped { reason } => {
                    case.skipped = Some(format!(
                        "not measured: {reason} (skipped: when_unmeasured = \"skip\")"
                    ));
                }
            }
            case
        })
        .collect()
}

fn write(summary: &Summary) -> io::Result<String> {
    let cases = cases(summary);
    let failures = cases
        .iter()
        .filter(|c| c.failure.is_some())
        .count()
        .to_string();
    let skipped = cases
        .iter()
        .filter(|c| c.skipped.is_some())
        .count()
        .to_string();
    let tests = cases.len().to_string();
    let time = numbers::trim(summary.duration_s, 3);
    let suite = xml_text(&summary.scenario);
    let classname = format!("fraudstress.{suite}");

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attribute(("name", "fraudstress"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", failures.as_str()))
        .with_attribute(("errors", "0"))
        .with_attribute(("time", time.as_str()))
        .write_inner_content(|w| {
            let mut suite_el = w
                .create_element("testsuite")
                .with_attribute(("name", suite.as_str()))
                .with_attribute(("tests", tests.as_str()))
                .with_attribute(("failures", failures.as_str()))
                .with_attribute(("errors", "0"))
                .with_attribute(("skipped", skipped.as_str()))
                .with_attribute(("time", time.as_str()));
            let timestamp = xml_text(&summary.started_at);
            if !timestamp.is_empty() {
                suite_el = suite_el.with_attribute(("timestamp", timestamp.as_str()));
            }
            suite_el.write_inner_content(|w| {
                let props = [
                    ("run_id", xml_text(&summary.run_id)),
                    ("seed", summary.seed.to_string()),
                    (
                        "target",
                        xml_text(
                            summary
                                .target
                                .url
                                .as_deref()
                                .unwrap_or(&summary.target.kind),
                        ),
                    ),
                    ("end_reason", xml_text(&summary.end_reason)),
                ];
                w.create_element("properties").write_inner_content(|w| {
                    for (name, value) in &props {
                        w.create_element("property")
                            .with_attribute(("name", *name))
                            .with_attribute(("value", value.as_str()))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                for case in &cases {
                    let name = xml_text(&case.name);
                    let el = w
                        .create_element("testcase")
                        .with_attribute(("classname", classname.as_str()))
                        .with_attribute(("name", name.as_str()))
                        .with_attribute(("time", "0"));
                    match (&case.failure, &case.skipped) {
                        (Some(f), _) => {
                            let message = xml_text(&f.message);
                            let body = xml_text(&f.body);
                            el.write_inner_content(|w| {
                                w.create_element("failure")
                                    .with_attribute(("type", f.kind))
                                    .with_attribute(("message", message.as_str()))
                                    .write_text_content(BytesText::new(&body))?;
                                Ok(())
                            })?;
                        }
                        (None, Some(why)) => {
                            let why = xml_text(why);
                            el.write_inner_content(|w| {
                                w.create_element("skipped")
                                    .with_attribute(("message", why.as_str()))
                                    .write_empty()?;
                                Ok(())
                            })?;
                        }
                        (None, None) => {
                            el.write_empty()?;
                        }
                    }
                }
                Ok(())
            })?;
            Ok(())
        })?;
    let mut out = String::from_utf8(w.into_inner()).map_err(io::Error::other)?;
    out.push('\n');
    Ok(out)
}

/// XML 1.0 cannot carry most control characters even escaped: replace them so the file stays valid.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

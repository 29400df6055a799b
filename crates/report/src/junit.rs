//! `junit.xml`: one test case per success criterion, so CI systems list them and show failures with the
//! threshold and the actual value.

use crate::numbers;
use models::Summary;
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
    failure: Option<(String, String)>,
}

fn cases(summary: &Summary) -> Vec<Case> {
    if summary.criteria.is_empty() {
        let failure = (!summary.passed).then(|| {
            let reason = if summary.end_reason.is_empty() {
                "no reason recorded"
            } else {
                &summary.end_reason
            };
            (
                format!("run did not pass (end reason: {reason})"),
                format!("end reason: {reason}"),
            )
        });
        return vec![Case {
            name: "run".into(),
            failure,
        }];
    }
    summary
        .criteria
        .iter()
        .map(|c| {
            let actual = numbers::trim(c.actual, 6);
            let failure = (!c.passed).then(|| {
                (
                    format!(
                        "{}: actual {actual} does not meet threshold {}",
                        c.name, c.threshold
                    ),
                    format!("threshold: {}\nactual: {actual}", c.threshold),
                )
            });
            Case {
                name: c.name.clone(),
                failure,
            }
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
                .with_attribute(("skipped", "0"))
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
                    match &case.failure {
                        None => {
                            el.write_empty()?;
                        }
                        Some((message, body)) => {
                            let message = xml_text(message);
                            let body = xml_text(body);
                            el.write_inner_content(|w| {
                                w.create_element("failure")
                                    .with_attribute(("type", "criterion_failed"))
                                    .with_attribute(("message", message.as_str()))
                                    .write_text_content(BytesText::new(&body))?;
                                Ok(())
                            })?;
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

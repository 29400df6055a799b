//! Reading a results folder: `summary.json`, `intervals.jsonl`, `events.jsonl`, `latency.hgrm` and,
//! when the run used CloudWatch or X-Ray, `aws.json`.

use crate::aws::{AWS_FILE, AwsData};
use crate::error::ReportError;
use crate::hgrm::{self, CurvePoint};
use crate::partial;
use models::{EventKind, FaultKind, IntervalSnapshot, RunEvent, Summary};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// File names inside a results folder.
pub const SUMMARY_FILE: &str = "summary.json";
pub const INTERVALS_FILE: &str = "intervals.jsonl";
pub const EVENTS_FILE: &str = "events.jsonl";
pub const HGRM_FILE: &str = "latency.hgrm";

/// Everything a report is drawn from.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// From `summary.json`, or rebuilt from the intervals for an interrupted run.
    pub summary: Summary,
    pub intervals: Vec<IntervalSnapshot>,
    pub events: Vec<RunEvent>,
    /// The whole-run latency percentile curve; empty when no histogram was recorded.
    pub curve: Vec<CurvePoint>,
    /// Why the run counts as interrupted / partial (`summary.json` missing or unreadable, a truncated
    /// last line in `intervals.jsonl`, or the summary's end reason); `None` for a finished run.
    pub partial: Option<String>,
    /// The summary was rebuilt from the intervals (`summary.json` missing or unreadable): seed, cost
    /// model and criteria are unknown.
    pub summary_derived: bool,
    /// Things skipped while reading (truncated or malformed lines), shown at the end of the report.
    pub notes: Vec<String>,
    /// From `aws.json`, when the run published to CloudWatch or read X-Ray.
    pub aws: Option<AwsData>,
}

/// A fault window on the run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultWindow {
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
}

impl RunData {
    /// A finished run's data without events or histogram, for building reports in code.
    pub fn new(summary: Summary, intervals: Vec<IntervalSnapshot>) -> Self {
        Self {
            summary,
            intervals,
            ..Self::default()
        }
    }

    /// Reads the result files in `dir`. An interrupted run (no readable `summary.json`, or a truncated last
    /// line in `intervals.jsonl`) still loads and `partial` says why; without a readable summary its
    /// figures are derived from the intervals. Fails only when there is nothing to report on.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let mut notes = Vec::new();
        let intervals_path = dir.join(INTERVALS_FILE);
        let (intervals, truncated): (Vec<IntervalSnapshot>, bool) =
            match read_optional(&intervals_path)? {
                Some(text) => read_jsonl(&intervals_path, &text, &mut notes)?,
                None => (Vec::new(), false),
            };
        let events_path = dir.join(EVENTS_FILE);
        let events: Vec<RunEvent> = match read_optional(&events_path)? {
            Some(text) => match read_jsonl(&events_path, &text, &mut notes) {
                Ok((events, _)) => events,
                Err(e) => {
                    notes.push(format!("events.jsonl ignored: {e}"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };

        let summary_path = dir.join(SUMMARY_FILE);
        let (summary, mut partial) = match read_optional(&summary_path)? {
            Some(text) => match serde_json::from_str::<Summary>(&text) {
                Ok(summary) => (summary, None),
                Err(source) if intervals.is_empty() => {
                    return Err(ReportError::BadSummary { path: summary_path, cause: source });
                }
                Err(source) => (
                    partial::summary_from_intervals(dir_name(dir), &intervals, &events),
                    Some(format!("summary.json is unreadable ({source}); figures are derived from intervals.jsonl")),
                ),
            },
            None if intervals.is_empty() => return Err(ReportError::NoResults { dir: dir.to_path_buf() }),
            None => (
                partial::summary_from_intervals(dir_name(dir), &intervals, &events),
                Some("summary.json is missing: the run was interrupted; figures are derived from the last interval".into()),
            ),
        };

        let summary_derived = partial.is_some();
        if partial.is_none() && truncated {
            partial = Some("intervals.jsonl ends with an incomplete line: the run was interrupted while writing".into());
        }
        if partial.is_none() && summary.end_reason.starts_with("interrupted") {
            partial = Some("the run was interrupted (end reason in summary.json); figures cover the part that ran".into());
        }

        let mut curve = match read_optional(&dir.join(HGRM_FILE))? {
            Some(text) => hgrm::parse_hgrm(&text),
            None => Vec::new(),
        };
        if curve.is_empty()
            && let Some(h) = &summary.histograms
        {
            curve = hgrm::curve_from_encoded(&h.latency_us).unwrap_or_else(|| {
                notes.push("summary.histograms.latency_us does not decode as a V2 histogram; no percentile curve".into());
                Vec::new()
            });
        }
        let aws_path = dir.join(AWS_FILE);
        let aws = match read_optional(&aws_path)? {
            Some(text) => match serde_json::from_str::<AwsData>(&text) {
                Ok(aws) => Some(aws),
                Err(e) => {
                    notes.push(format!("aws.json ignored: it does not parse ({e})"));
                    None
                }
            },
            None => None,
        };
        Ok(Self {
            summary,
            intervals,
            events,
            curve,
            partial,
            summary_derived,
            notes,
            aws,
        })
    }

    /// Fault windows: from the summary's resilience section, else from fault events, else from the
    /// intervals' `active_faults`.
    pub fn fault_windows(&self) -> Vec<FaultWindow> {
        let label = |kind: FaultKind, stage: &Option<String>| match stage {
            Some(s) => format!("{kind} ({s})"),
            None => kind.to_string(),
        };
        let from_summary: Vec<FaultWindow> = self
            .summary
            .resilience
            .faults
            .iter()
            .map(|f| FaultWindow {
                label: label(f.kind, &f.stage),
                start_s: f.start_s,
                end_s: f.end_s,
            })
            .collect();
        if !from_summary.is_empty() {
            return from_summary;
        }
        let run_end = self
            .intervals
            .last()
            .map_or(self.summary.duration_s, |i| i.t_s);
        let mut open: Vec<(String, f64)> = Vec::new();
        let mut windows = Vec::new();
        for event in &self.events {
            match &event.kind {
                EventKind::FaultStarted { fault, stage } => {
                    open.push((label(*fault, stage), event.t_s))
                }
                EventKind::FaultEnded { fault, stage } => {
                    let name = label(*fault, stage);
                    if let Some(pos) = open.iter().position(|(l, _)| *l == name) {
                        let (label, start_s) = open.remove(pos);
                        windows.push(FaultWindow {
                            label,
                            start_s,
                            end_s: event.t_s,
                        });
                    }
                }
                _ => {}
            }
        }
        windows.extend(open.into_iter().map(|(label, start_s)| FaultWindow {
            label,
            start_s,
            end_s: run_end,
        }));
        if !windows.is_empty() {
            return windows;
        }
        windows_from_active_faults(&self.intervals)
    }
}

fn windows_from_active_faults(intervals: &[IntervalSnapshot]) -> Vec<FaultWindow> {
    let mut open: Vec<FaultWindow> = Vec::new();
    let mut done = Vec::new();
    for snap in intervals {
        let start = snap.t_s - snap.interval_s;
        for name in &snap.active_faults {
            match open.iter_mut().find(|w| w.label == *name) {
                Some(w) => w.end_s = snap.t_s,
                None => open.push(FaultWindow {
                    label: name.clone(),
                    start_s: start,
                    end_s: snap.t_s,
                }),
            }
        }
        let (still, ended): (Vec<_>, Vec<_>) = open
            .into_iter()
            .partition(|w| snap.active_faults.contains(&w.label));
        open = still;
        done.extend(ended);
    }
    done.extend(open);
    done.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    done
}

fn dir_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into())
}

fn read_optional(path: &Path) -> Result<Option<String>, ReportError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReportError::Read {
            path: path.to_path_buf(),
            cause: source,
        }),
    }
}

/// Parses JSON lines, skipping blank lines and lines that do not parse (a truncated last line is what
/// an interrupted run leaves), and tells whether the last line was one of them. Fails only when there
/// were lines and none of them parsed.
fn read_jsonl<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    notes: &mut Vec<String>,
) -> Result<(Vec<T>, bool), ReportError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let mut items = Vec::with_capacity(lines.len());
    let mut first_error: Option<(usize, serde_json::Error)> = None;
    let mut last_bad = false;
    for (idx, (line_no, line)) in lines.iter().enumerate() {
        match serde_json::from_str::<T>(line) {
            Ok(item) => items.push(item),
            Err(e) => {
                let last = idx + 1 == lines.len();
                last_bad |= last;
                notes.push(if last {
                    format!("{name}: last line {line_no} is incomplete (run interrupted while writing); skipped")
                } else {
                    format!("{name}: line {line_no} skipped: {e}")
                });
                first_error.get_or_insert((*line_no, e));
            }
        }
    }
    match first_error {
        Some((line, source)) if items.is_empty() => Err(ReportError::BadJsonLines {
            path: PathBuf::from(path),
            line,
            cause: source,
        }),
        _ => Ok((items, last_bad)),
    }
}

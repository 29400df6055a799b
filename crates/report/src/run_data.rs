//! Reading a results folder: `summary.json`, `intervals.jsonl`, `events.jsonl`, `latency.hgrm` and,
//! when the run used CloudWatch or X-Ray, `aws.json`.

use crate::aws::AwsData;
use crate::error::ReportError;
use crate::hgrm::{self, CurvePoint};
use crate::partial;
use models::{EventKind, FaultKind, IntervalSnapshot, RunEvent, Summary};
use run_files::{Folder, Lines, ReadError};
use serde::Serialize;
use std::path::Path;

/// File names inside a results folder (they are run-files').
pub use run_files::names::{
    EVENTS as EVENTS_FILE, INTERVALS as INTERVALS_FILE, LATENCY as HGRM_FILE,
    SUMMARY as SUMMARY_FILE,
};

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
        let folder = Folder::new(dir);
        let mut notes = Vec::new();
        let (intervals, truncated): (Vec<IntervalSnapshot>, bool) =
            match folder.intervals().map_err(read_error)? {
                Some(lines) => skip_damaged(INTERVALS_FILE, lines, &mut notes),
                None => (Vec::new(), false),
            };
        let events: Vec<RunEvent> = match folder.events() {
            Ok(Some(lines)) => skip_damaged(EVENTS_FILE, lines, &mut notes).0,
            Ok(None) => Vec::new(),
            Err(e @ ReadError::Io { .. }) => return Err(read_error(e)),
            Err(e) => {
                notes.push(format!("events.jsonl ignored: {}", read_error(e)));
                Vec::new()
            }
        };

        let (summary, mut partial) = match folder.summary() {
            Ok(Some(summary)) => (summary, None),
            Err(ReadError::Json { path, source }) if intervals.is_empty() => {
                return Err(ReportError::BadSummary { path, cause: source });
            }
            Err(ReadError::Json { source, .. }) => (
                partial::summary_from_intervals(dir_name(dir), &intervals, &events),
                Some(format!("summary.json is unreadable ({source}); figures are derived from intervals.jsonl")),
            ),
            Err(e) => return Err(read_error(e)),
            Ok(None) if intervals.is_empty() => return Err(ReportError::NoResults { dir: dir.to_path_buf() }),
            Ok(None) => (
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

        let mut curve = match folder.latency_hgrm().map_err(read_error)? {
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
        let aws = match folder.aws() {
            Ok(aws) => aws,
            Err(e @ ReadError::Io { .. }) => return Err(read_error(e)),
            Err(e) => {
                let cause = match e {
                    ReadError::Json { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                notes.push(format!("aws.json ignored: it does not parse ({cause})"));
                None
            }
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

fn read_error(e: ReadError) -> ReportError {
    match e {
        ReadError::Io { path, source } => ReportError::Read {
            path,
            cause: source,
        },
        ReadError::Json { path, source } => ReportError::BadSummary {
            path,
            cause: source,
        },
        ReadError::NoReadableLine {
            path, line, source, ..
        } => ReportError::BadJsonLines {
            path,
            line,
            cause: source,
        },
    }
}

/// The records of a JSON-lines file, with a note for each damaged line (skipped under run-files'
/// policy), and whether the last line was one of them (what an interrupted run leaves).
fn skip_damaged<T>(name: &str, lines: Lines<T>, notes: &mut Vec<String>) -> (Vec<T>, bool) {
    for d in &lines.damaged {
        notes.push(if d.last {
            format!(
                "{name}: last line {} is incomplete (run interrupted while writing); skipped",
                d.line
            )
        } else {
            format!("{name}: line {} skipped: {}", d.line, d.error)
        });
    }
    let last_bad = lines.damaged.last().is_some_and(|d| d.last);
    (lines.items, last_bad)
}

//! Replaying a finished run from its results folder (`intervals.jsonl`, `events.jsonl`,
//! `summary.json`, `aws.json`) into a [`Feed`], at its own pace or N times faster.

use crate::error::DashboardError;
use crate::feed::Feed;
use models::{AwsReport, EventKind, IntervalSnapshot, RunEvent, Summary};
use run_files::{Folder, Lines, ReadError, names};
use std::path::Path;
use std::time::Duration;

/// What a results folder holds.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub ticks: Vec<IntervalSnapshot>,
    /// The run's events; a damaged line of `intervals.jsonl` or `events.jsonl` (skipped) is told by a
    /// message at the start.
    pub events: Vec<RunEvent>,
    /// Absent for a run that was cut off before it wrote one.
    pub summary: Option<Summary>,
    /// `aws.json`, for a run that published to CloudWatch or read X-Ray.
    pub aws: Option<AwsReport>,
}

fn read_err(e: ReadError) -> DashboardError {
    match e {
        ReadError::Io { path, source } => DashboardError::Read { path, source },
        ReadError::Json { path, source } => DashboardError::Parse {
            path,
            line: source.line(),
            message: source.to_string(),
        },
        ReadError::NoReadableLine {
            path, line, source, ..
        } => DashboardError::Parse {
            path,
            line,
            message: source.to_string(),
        },
    }
}

/// The records, and a message for each damaged line (run-files skips them) so that the pages say so.
fn records<T>(file: &str, lines: Lines<T>, told: &mut Vec<RunEvent>) -> Vec<T> {
    told.extend(lines.notes(file).into_iter().map(|text| RunEvent {
        t_s: 0.0,
        kind: EventKind::Message { text },
    }));
    lines.items
}

/// Reads a results folder. `intervals.jsonl` is required; `events.jsonl`, `summary.json` and
/// `aws.json` are read when present.
pub fn load(dir: &Path) -> Result<Recorded, DashboardError> {
    let folder = Folder::new(dir);
    let mut told = Vec::new();
    let ticks = match folder.intervals().map_err(read_err)? {
        Some(lines) => records(names::INTERVALS, lines, &mut told),
        None => {
            return Err(DashboardError::NotAResultsFolder {
                path: dir.to_owned(),
                what: names::INTERVALS.into(),
            });
        }
    };
    let events = match folder.events().map_err(read_err)? {
        Some(lines) => records(names::EVENTS, lines, &mut told),
        None => Vec::new(),
    };
    // The notes come first (at 0 s), which keeps the events in time order.
    told.extend(events);
    Ok(Recorded {
        ticks,
        events: told,
        summary: folder.summary().map_err(read_err)?,
        aws: folder.aws().map_err(read_err)?,
    })
}

/// Feeds `rec` into `feed` in the order it happened: an item at `t_s` seconds comes `t_s / speed`
/// seconds after the start (`speed` infinite: all at once); the summary comes last.
pub async fn replay(rec: Recorded, feed: Feed, speed: f64) {
    let speed = if speed.is_nan() || speed <= 0.0 {
        1.0
    } else {
        speed
    };
    let start = tokio::time::Instant::now();
    let (mut ticks, mut events) = (
        rec.ticks.into_iter().peekable(),
        rec.events.into_iter().peekable(),
    );
    loop {
        // Events at the same time as a tick come first: the tick shows their effect.
        let next_is_event = match (ticks.peek(), events.peek()) {
            (None, None) => break,
            (Some(t), Some(e)) => e.t_s <= t.t_s,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        let t_s = if next_is_event {
            events.peek().map(|e| e.t_s)
        } else {
            ticks.peek().map(|t| t.t_s)
        }
        .unwrap_or(0.0);
        if speed.is_finite() {
            tokio::time::sleep_until(start + Duration::from_secs_f64((t_s / speed).max(0.0))).await;
        }
        if next_is_event {
            if let Some(e) = events.next() {
                feed.event(e);
            }
        } else if let Some(t) = ticks.next() {
            feed.frame(t);
        }
    }
    if let Some(s) = rec.summary {
        feed.summary(s);
    }
    if let Some(aws) = rec.aws.and_then(|a| serde_json::to_value(a).ok()) {
        feed.aws(aws);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{EventKind, RunState};

    fn recorded() -> Recorded {
        let ticks = (1..=10)
            .map(|i| {
                let mut t = IntervalSnapshot {
                    t_s: i as f64,
                    interval_s: 1.0,
                    state: RunState::Running,
                    achieved_tps: 100.0,
                    ok: 100,
                    ..Default::default()
                };
                t.cumulative.completed = 100 * i;
                t
            })
            .collect();
        let events = vec![RunEvent {
            t_s: 0.0,
            kind: EventKind::StateChanged {
                from: RunState::Initializing,
                to: RunState::Running,
            },
        }];
        let mut summary = Summary::default();
        summary.load.completed = 1000;
        // A value that a non-exact float parser reads one unit in the last place off.
        summary.load.achieved_tps_avg = 99.57528464515191;
        Recorded {
            ticks,
            events,
            summary: Some(summary),
            aws: Some(AwsReport {
                run_id: "r".into(),
                cloudwatch_sink: Some(models::SinkReport {
                    published_datums: 80,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn replays_at_speed_and_ends_with_the_summary() {
        let feed = Feed::default();
        let task = tokio::spawn(replay(recorded(), feed.clone(), 2.0));
        tokio::time::sleep(Duration::from_millis(2_600)).await;
        let st = feed.status();
        assert_eq!(
            st.ticks, 5,
            "at twice the speed, 2.6 s in, the ticks up to 5 s are shown"
        );
        assert!(!st.summary_ready);
        assert!(feed.aws_value().is_none());
        task.await.unwrap();
        let st = feed.status();
        assert!(st.summary_ready);
        assert_eq!(st.headline.unwrap().transactions, 1000);
        assert_eq!(
            feed.aws_value().unwrap()["cloudwatch_sink"]["published_datums"],
            80,
            "aws.json comes last"
        );
        assert!(
            feed.subscribe(false)
                .hello
                .contains("\"published_datums\":80")
        );
    }

    #[test]
    fn reads_a_results_folder_and_tells_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("dashboard-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("intervals.jsonl"));
        assert!(
            load(&dir)
                .unwrap_err()
                .to_string()
                .contains("intervals.jsonl")
        );
        let rec = recorded();
        let lines: String = rec
            .ticks
            .iter()
            .map(|t| serde_json::to_string(t).unwrap() + "\n")
            .collect();
        std::fs::write(dir.join("intervals.jsonl"), format!("{lines}{{\"t_s\": 11")).unwrap();
        std::fs::write(
            dir.join("summary.json"),
            serde_json::to_string(&rec.summary).unwrap(),
        )
        .unwrap();
        let _ = std::fs::remove_file(dir.join("aws.json"));
        assert_eq!(load(&dir).unwrap().aws, None);
        std::fs::write(
            dir.join("aws.json"),
            serde_json::to_string(&rec.aws).unwrap(),
        )
        .unwrap();
        let back = load(&dir).unwrap();
        assert_eq!(back.aws, rec.aws);
        assert_eq!(back.ticks.len(), 10, "a cut-off last line is left out");
        assert_eq!(
            back.summary, rec.summary,
            "the summary is read back exactly, to the last bit"
        );
        std::fs::write(dir.join("intervals.jsonl"), "{\"t_s\": }\n").unwrap();
        assert!(
            load(&dir)
                .unwrap_err()
                .to_string()
                .contains("intervals.jsonl:1:")
        );
    }

    #[test]
    fn damaged_lines_are_skipped_and_told() {
        let dir =
            std::env::temp_dir().join(format!("dashboard-replay-damage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rec = recorded();
        let mut lines: Vec<String> = rec
            .ticks
            .iter()
            .map(|t| serde_json::to_string(t).unwrap())
            .collect();
        lines.insert(3, "{\"t_s\": garbage}".into());
        std::fs::write(dir.join(names::INTERVALS), lines.join("\n") + "\n").unwrap();
        let _ = std::fs::remove_file(dir.join(names::SUMMARY));
        let _ = std::fs::remove_file(dir.join(names::AWS));
        let back = load(&dir).unwrap();
        assert_eq!(
            back.ticks.len(),
            10,
            "the lines after the damaged one are kept"
        );
        let told: Vec<&RunEvent> = back
            .events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::Message { text } if text.contains("intervals.jsonl: line 4 is damaged")))
            .collect();
        assert_eq!(told.len(), 1, "{:?}", back.events);
        // A drifted aws.json is refused with its place, not read as zeros.
        std::fs::write(
            dir.join(names::AWS),
            "{\"run_id\": \"r\", \"cloudwatch_sink\": {}}",
        )
        .unwrap();
        assert!(load(&dir).unwrap_err().to_string().contains("aws.json:1:"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

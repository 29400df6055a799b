//! The results folder: `intervals.jsonl` and `events.jsonl` written line by line as the run goes (each
//! line flushed, so a crash loses at most the line being written), then `latency.hgrm` and
//! `summary.json` at the end; the files and their formats are run-files'. Writing happens on its own
//! thread fed by a channel, so a slow disk never holds up the load. (A plain thread rather than `spawn_blocking`: a blocking task that lives
//! for the whole run would stop tokio's paused test clock from advancing.)

use crate::error::OrchestratorError;
use models::{IntervalSnapshot, RunEvent, Summary};
use run_files::{FolderWriter, WriteError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::sync::{mpsc, oneshot};

pub use run_files::names::{EVENTS, INTERVALS, LATENCY, SUMMARY};

#[derive(Debug)]
enum Record {
    Tick(Box<IntervalSnapshot>),
    Event(RunEvent),
    /// Answered once every record sent before it is written.
    Sync(oneshot::Sender<()>),
    Finish {
        summary: Box<Summary>,
        hgrm: String,
    },
}

/// Feeds the writer thread. Dropping it without `finish` closes the line files (already flushed).
#[derive(Debug)]
pub struct ResultsWriter {
    dir: PathBuf,
    tx: mpsc::UnboundedSender<Record>,
    done: oneshot::Receiver<Result<(), OrchestratorError>>,
    thread: std::thread::JoinHandle<()>,
}

fn results_err(e: WriteError) -> OrchestratorError {
    OrchestratorError::Results {
        path: e.path,
        source: e.source,
    }
}

impl ResultsWriter {
    /// Creates `dir` (and parents) and the line files, failing early when it cannot.
    pub fn create(dir: &Path) -> Result<Self, OrchestratorError> {
        let mut files = FolderWriter::create(dir).map_err(results_err)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Record>();
        let (done_tx, done) = oneshot::channel();
        let write = move || {
            // Keep writing after an error so that the other files still fill; report the first.
            let mut first_err = None;
            let mut keep = |r: Result<(), WriteError>| {
                if let Err(e) = r {
                    first_err.get_or_insert(results_err(e));
                }
            };
            while let Some(record) = rx.blocking_recv() {
                match record {
                    Record::Tick(s) => keep(files.tick(&s)),
                    Record::Event(e) => keep(files.event(&e)),
                    Record::Sync(done) => {
                        let _ = done.send(());
                    }
                    Record::Finish { summary, hgrm } => {
                        keep(files.finish(&summary, &hgrm));
                        break;
                    }
                }
            }
            first_err.map_or(Ok(()), Err)
        };
        let thread = std::thread::Builder::new()
            .name("results-writer".into())
            .spawn(move || {
                let _ = done_tx.send(write());
            })
            .map_err(|source| OrchestratorError::Results {
                path: dir.to_owned(),
                source,
            })?;
        Ok(Self {
            dir: dir.to_owned(),
            tx,
            done,
            thread,
        })
    }

    pub fn tick(&self, s: &IntervalSnapshot) {
        let _ = self.tx.send(Record::Tick(Box::new(s.clone())));
    }

    pub fn event(&self, e: &RunEvent) {
        let _ = self.tx.send(Record::Event(e.clone()));
    }

    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until every tick and event sent so far is in its file (each line is flushed as it is
    /// written), so that the run can read its own `intervals.jsonl` back.
    pub async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Record::Sync(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Writes the summary and latency distribution, and waits for every line to be on disk.
    pub async fn finish(self, summary: &Summary, hgrm: String) -> Result<(), OrchestratorError> {
        let _ = self.tx.send(Record::Finish {
            summary: Box::new(summary.clone()),
            hgrm,
        });
        drop(self.tx);
        let result = self.done.await.map_err(|_| OrchestratorError::Results {
            path: self.dir.clone(),
            source: std::io::Error::other("the results writer thread stopped without finishing"),
        });
        // It has sent its result, so it is about to return: joining does not block for long.
        let _ = self.thread.join();
        result?
    }
}

/// A run id: `YYYYMMDD-HHMMSS-<scenario>-<4 hex>`, UTC, for example `20261123-184512-investor-3f2a`.
pub fn run_id(scenario: &str, now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let (date, time) = digits.split_at(8.min(digits.len()));
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let salt = (u64::from(nanos) ^ u64::from(std::process::id()).rotate_left(17))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{date}-{time}-{name}-{:04x}", salt >> 48)
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_ids_look_like_the_documented_form() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_459_512); // 2026-11-23T18:45:12Z
        let id = run_id("investor", t);
        assert!(id.starts_with("20261123-184512-investor-"), "{id}");
        assert_eq!(id.len(), "20261123-184512-investor-3f2a".len());
        assert!(run_id("my file/x", t).contains("-my_file_x-"));
    }

    #[tokio::test]
    async fn lines_are_on_disk_before_finish_and_everything_after() {
        let dir = std::env::temp_dir().join(format!("orch-results-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = ResultsWriter::create(&dir).unwrap();
        w.tick(&IntervalSnapshot {
            t_s: 1.0,
            ..Default::default()
        });
        w.event(&RunEvent {
            t_s: 0.5,
            kind: models::EventKind::Message { text: "x".into() },
        });
        // The writer flushes each line: poll until the line shows up.
        let ipath = dir.join(INTERVALS);
        for _ in 0..200 {
            if std::fs::read_to_string(&ipath).unwrap().lines().count() == 1 {
                break;
            }
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(5));
        }
        let line = std::fs::read_to_string(&ipath).unwrap();
        let back: IntervalSnapshot = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(back.t_s, 1.0);
        w.finish(
            &Summary {
                run_id: "r".into(),
                ..Default::default()
            },
            "hgrm".into(),
        )
        .await
        .unwrap();
        let s: Summary =
            serde_json::from_str(&std::fs::read_to_string(dir.join(SUMMARY)).unwrap()).unwrap();
        assert_eq!(s.run_id, "r");
        assert_eq!(std::fs::read_to_string(dir.join(LATENCY)).unwrap(), "hgrm");
        assert_eq!(
            std::fs::read_to_string(dir.join(EVENTS))
                .unwrap()
                .lines()
                .count(),
            1
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

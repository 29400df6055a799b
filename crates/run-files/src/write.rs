//! Writing a results folder. Line files get one JSON record a line, each line flushed as it is
//! written, so that a crash loses at most the line being written (which the reader then reports as
//! cut short). Whole files are written to a temporary name and renamed, so that a reader never sees
//! half of one. These are plain blocking writes: a run does them on a thread of its own.

use crate::error::{FolderInUse, WriteError};
use crate::names;
use models::{AwsReport, IntervalSnapshot, RunEvent, Summary};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_owned(),
        source,
    }
}

fn to_json<T: Serialize>(path: &Path, item: &T, pretty: bool) -> Result<Vec<u8>, WriteError> {
    let bytes = if pretty {
        serde_json::to_vec_pretty(item)
    } else {
        serde_json::to_vec(item)
    };
    bytes.map_err(|e| write_err(path)(e.into()))
}

/// A JSON-lines file being written.
#[derive(Debug)]
pub struct LineFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl LineFile {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let out = File::create(path)
            .map(BufWriter::new)
            .map_err(write_err(path))?;
        Ok(Self {
            path: path.to_owned(),
            out,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `item` as one line and flushes it.
    pub fn append<T: Serialize>(&mut self, item: &T) -> Result<(), WriteError> {
        let mut line = to_json(&self.path, item, false)?;
        line.push(b'\n');
        self.out
            .write_all(&line)
            .and_then(|()| self.out.flush())
            .map_err(write_err(&self.path))
    }
}

/// What to do with a results folder that already holds a run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Existing {
    /// Refuse it ([`FolderInUse`]): two runs' files in one folder read as one run.
    #[default]
    Refuse,
    /// Remove the old run's files (only the [`names::ALL`] files; anything else in the folder is
    /// left alone), then write the new run.
    Replace,
}

/// Makes `dir` ready for a new run: refuses a folder holding a run's files, or removes them, as
/// `existing` says. A missing or empty folder is fine either way.
pub fn claim_folder(dir: &Path, existing: Existing) -> Result<(), ClaimError> {
    let found: Vec<&str> = names::ALL
        .into_iter()
        .filter(|name| dir.join(name).exists())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    match existing {
        Existing::Refuse => Err(ClaimError::InUse(FolderInUse {
            dir: dir.to_owned(),
            files: found.into_iter().map(str::to_owned).collect(),
        })),
        Existing::Replace => {
            for name in found {
                let path = dir.join(name);
                std::fs::remove_file(&path).map_err(write_err(&path))?;
            }
            Ok(())
        }
    }
}

/// Why [`claim_folder`] could not make a folder ready.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    InUse(#[from] FolderInUse),
    /// Replacing: an old file could not be removed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A run's results folder as the run goes: ticks and events line by line, then the summary and the
/// latency distribution at the end.
#[derive(Debug)]
pub struct FolderWriter {
    dir: PathBuf,
    intervals: LineFile,
    events: LineFile,
}

impl FolderWriter {
    /// Creates `dir` (and parents) and the line files, failing early when it cannot.
    pub fn create(dir: &Path) -> Result<Self, WriteError> {
        std::fs::create_dir_all(dir).map_err(write_err(dir))?;
        Ok(Self {
            dir: dir.to_owned(),
            intervals: LineFile::create(&dir.join(names::INTERVALS))?,
            events: LineFile::create(&dir.join(names::EVENTS))?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One line of `intervals.jsonl`.
    pub fn tick(&mut self, snapshot: &IntervalSnapshot) -> Result<(), WriteError> {
        self.intervals.append(snapshot)
    }

    /// One line of `events.jsonl`.
    pub fn event(&mut self, event: &RunEvent) -> Result<(), WriteError> {
        self.events.append(event)
    }

    /// Writes `latency.hgrm` (the text of [`crate::hgrm::percentile_distribution_ms`]) and then
    /// `summary.json`, last, so that a folder with a summary is a complete one. Both are attempted even
    /// when the first fails; the first error is returned.
    pub fn finish(self, summary: &Summary, hgrm: &str) -> Result<(), WriteError> {
        let latency = write_whole(&self.dir, names::LATENCY, hgrm.as_bytes());
        let summary = write_summary(&self.dir, summary);
        latency.and(summary).map(drop)
    }
}

/// Writes `contents` to `dir/name` through a temporary file, so a reader never sees half a file, and
/// returns its path.
pub fn write_whole(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, contents).map_err(write_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(write_err(&path))?;
    Ok(path)
}

/// `items` as JSON lines, each ending with a newline.
pub fn jsonl<T: Serialize>(items: &[T]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for item in items {
        serde_json::to_writer(&mut out, item)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Writes a whole JSON-lines file `dir/name` at once (as a merge does), through a temporary file.
pub fn write_lines<T: Serialize>(
    dir: &Path,
    name: &str,
    items: &[T],
) -> Result<PathBuf, WriteError> {
    let bytes = jsonl(items).map_err(|e| write_err(&dir.join(name))(e.into()))?;
    write_whole(dir, name, &bytes)
}

/// Writes `dir/name` as pretty JSON (how `summary.json` and `workers.json` are written).
pub fn write_pretty<T: Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<PathBuf, WriteError> {
    let bytes = to_json(&dir.join(name), value, true)?;
    write_whole(dir, name, &bytes)
}

/// Writes `summary.json`.
pub fn write_summary(dir: &Path, summary: &Summary) -> Result<PathBuf, WriteError> {
    write_pretty(dir, names::SUMMARY, summary)
}

/// Writes `aws.json` (pretty JSON and a final newline).
pub fn write_aws(dir: &Path, report: &AwsReport) -> Result<PathBuf, WriteError> {
    let path = dir.join(names::AWS);
    let mut bytes = to_json(&path, report, true)?;
    bytes.push(b'\n');
    write_whole(dir, names::AWS, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("run-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_missing_or_foreign_folder_is_claimed_as_it_is() {
        let dir = temp("claim-empty");
        claim_folder(&dir, Existing::Refuse).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        claim_folder(&dir, Existing::Refuse).unwrap();
        claim_folder(&dir, Existing::Replace).unwrap();
        assert!(
            dir.join("notes.txt").exists(),
            "files that are not results stay"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_folder_with_results_is_refused_or_cleared_of_exactly_them() {
        let dir = temp("claim-used");
        std::fs::create_dir_all(&dir).unwrap();
        for name in [names::SUMMARY, names::REPORT, "notes.txt"] {
            std::fs::write(dir.join(name), "old").unwrap();
        }
        let err = claim_folder(&dir, Existing::Refuse).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, ClaimError::InUse(e) if e.files == [names::SUMMARY, names::REPORT]),
            "{text}"
        );
        assert!(text.contains(&dir.display().to_string()) && text.contains("`overwrite`"));
        assert!(
            dir.join(names::SUMMARY).exists(),
            "refusing touches nothing"
        );

        claim_folder(&dir, Existing::Replace).unwrap();
        assert!(!dir.join(names::SUMMARY).exists() && !dir.join(names::REPORT).exists());
        assert!(dir.join("notes.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

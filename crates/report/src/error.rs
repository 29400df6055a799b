//! What can go wrong while reading a results folder or writing a report.

use std::path::PathBuf;

/// Errors of this crate. Each says which file was involved and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A results file exists but could not be read.
    #[error("cannot read {path}: {cause}; check that the results folder exists and is readable")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The folder holds neither `summary.json` nor `intervals.jsonl`.
    #[error(
        "{dir}: no results found (neither summary.json nor intervals.jsonl); pass the folder a run wrote its results to"
    )]
    NoResults { dir: PathBuf },

    /// `summary.json` is unreadable and there are no intervals to rebuild the figures from.
    #[error("{path}: not a valid run summary ({cause}); rerun the scenario or restore the file")]
    BadSummary {
        path: PathBuf,
        cause: serde_json::Error,
    },

    /// A JSON-lines file (`intervals.jsonl`, `events.jsonl`) has lines but not one of them parses.
    #[error(
        "{path}: line {line}: not a valid record ({cause}); the file is not a fraudstress results log"
    )]
    BadJsonLines {
        path: PathBuf,
        line: usize,
        cause: serde_json::Error,
    },

    /// A report file could not be written.
    #[error("cannot write {path}: {cause}; check free space and permissions on the results folder")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },

    /// The XML writer failed (only on an I/O error of its in-memory buffer, which should not happen).
    #[error("cannot build junit.xml: {0}")]
    Xml(String),
}

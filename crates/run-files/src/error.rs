//! What can go wrong reading or writing a results folder, or decoding a histogram.

use std::path::PathBuf;

/// A results file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file exists but the system would not give its bytes.
    #[error("cannot read {}: {source}; check that the results folder exists and is readable", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A whole-file JSON document (`summary.json`, `aws.json`) does not parse as what a run writes.
    #[error("{}:{}: {source}; the file is damaged or was not written by this version of fraudstress", path.display(), source.line())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A JSON-lines file has lines, but not one of them is readable (see [`crate::lines`]).
    #[error("{}:{line}: not a valid record ({source}); none of the file's {damaged} lines is readable, so it is not a results log of this version of fraudstress", path.display())]
    NoReadableLine {
        path: PathBuf,
        /// The first damaged line, counted from 1.
        line: usize,
        /// How many lines were damaged (all of the non-blank ones).
        damaged: usize,
        #[source]
        source: serde_json::Error,
    },
}

impl ReadError {
    /// The file involved.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Io { path, .. } | Self::Json { path, .. } | Self::NoReadableLine { path, .. } => {
                path
            }
        }
    }
}

/// A results folder that already holds a run's files, given to a new run without leave to replace
/// them: writing into it would mix two runs (the new ticks under the old summary and report).
#[derive(Debug, thiserror::Error)]
#[error("{} already holds a run's results ({}); choose another folder, or set `overwrite` to replace that run", dir.display(), files.join(", "))]
pub struct FolderInUse {
    pub dir: PathBuf,
    /// The results files found, by name.
    pub files: Vec<String>,
}

/// A results file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}; check that the folder is writable and the disk is not full", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A histogram in its encoded form (V2 + deflate + base64) does not decode.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("not base64: {0}")]
    NotBase64(String),
    #[error("not an HdrHistogram V2 blob: {0}")]
    NotHistogram(String),
}

//! What can go wrong when starting a dashboard or reading what it shows.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors of the dashboard server, its settings files and results replay.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("could not listen on {addr}: {source}; choose another port (0 picks a free one)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not read {}: {source}; check the path", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: `{field}`: {message}", path.display())]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{}: no {what} there; give the folder a run wrote (with summary.json, intervals.jsonl, events.jsonl)", path.display())]
    NotAResultsFolder { path: PathBuf, what: String },
    #[error("the dashboard's {0} task failed: {1}")]
    Task(&'static str, String),
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
}

impl DashboardError {
    /// A TOML error at its line in `path`.
    pub(crate) fn toml(path: &std::path::Path, text: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map_or(0, |s| {
            text[..s.start.min(text.len())].lines().count().max(1)
        });
        DashboardError::Parse {
            path: path.to_owned(),
            line,
            message: err.message().to_owned(),
        }
    }
}

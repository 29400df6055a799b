//! The capacity search's errors.

use crate::slo::SloError;
use std::path::PathBuf;

/// Why a capacity search could not be set up or its results not written. A step that fails to run
/// ends the search with what was known instead (see [`crate::StopReason`]).
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error(transparent)]
    Slo(#[from] SloError),
    #[error("invalid `{option}`: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
    #[error("cannot set up the target: {0}")]
    Target(String),
    #[error("step at {tps} TPS (run {run}): {message}")]
    Step { tps: f64, run: u32, message: String },
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("cannot write {}: {source}; check that the folder is writable", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CapacityError {
    /// The exit code this error means: `Runtime` (3) when a search that was set up could not write
    /// its results or run a step, `Usage` (2) for everything the user's input decides.
    pub fn exit(&self) -> models::RunExit {
        match self {
            CapacityError::Write { .. } | CapacityError::Step { .. } => models::RunExit::Runtime,
            _ => models::RunExit::Usage,
        }
    }
}

//! The capacity search's errors.

use crate::slo::SloError;
use std::path::PathBuf;

/// Why a capacity search could not be set up or its results not written. A step that fails to run
/// ends the search with what was known instead (see [`crate::StopReason`]).
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error(transparent)]
    Slo(#[from] SloError),
    #[error("invalid {option}: {message}")]
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

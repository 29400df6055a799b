//! The orchestrator's errors.

use crate::state_machine::TransitionError;
use std::path::PathBuf;

/// A scenario that could not be found, read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {}: {source}; check the path", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a value of the wrong type, with its position.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value that reads but makes no sense (a negative rate, a mix that does not add up to 1, an
    /// unknown metric). The position is found from the key's name and may be absent.
    #[error("{file}{}: {field}: {message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Invalid {
        file: String,
        position: Option<(usize, usize)>,
        field: String,
        message: String,
    },
    #[error(
        "unknown scenario {name:?}: it is neither a built-in ({known}) nor a readable .toml file"
    )]
    Unknown { name: String, known: String },
    #[error("invalid {what}: {message}")]
    Option { what: &'static str, message: String },
}

/// Why a run could not be carried out (criteria failing is not an error: see `RunOutcome`).
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("cannot write results to {}: {source}; check that the folder is writable", path.display())]
    Results {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the target: {0}")]
    Target(String),
    #[error("cannot set up the load: {0}")]
    Load(String),
    #[error("the run was already started; an orchestrator runs once")]
    AlreadyRan,
}

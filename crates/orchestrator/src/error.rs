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
    #[error("invalid `{what}`: {message}")]
    Option { what: &'static str, message: String },
    /// A `${NAME}` in a header value that the environment does not set.
    #[error(transparent)]
    Env(models::HeaderEnvError),
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
    /// The first TLS connection to an `https://` target failed, so no load was sent.
    #[error(
        "the first TLS connection to {url} failed, so no load was sent: {reason}; fix the URL or [target.tls] (docs/targets.md) and try again"
    )]
    TargetTls { url: String, reason: String },
    #[error("cannot set up the load: {0}")]
    Load(String),
    #[error("the run was already started; an orchestrator runs once")]
    AlreadyRan,
    #[error(transparent)]
    FolderInUse(run_files::FolderInUse),
}

impl OrchestratorError {
    /// The exit code this error means: `Usage` (2) when the scenario, the target's configuration or
    /// its certificate is at fault (nothing was sent), `Runtime` (3) when a run that was set up
    /// failed while running (results not writable, the driver failing, an internal misstep).
    pub fn exit(&self) -> models::RunExit {
        match self {
            OrchestratorError::Scenario(_)
            | OrchestratorError::Target(_)
            | OrchestratorError::TargetTls { .. }
            | OrchestratorError::FolderInUse(_) => models::RunExit::Usage,
            OrchestratorError::Results { .. }
            | OrchestratorError::Load(_)
            | OrchestratorError::Transition(_)
            | OrchestratorError::AlreadyRan => models::RunExit::Runtime,
        }
    }
}

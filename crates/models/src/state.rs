//! The orchestrator's states, degradation levels, alerts and the events a run emits.

use crate::fault::FaultKind;
use serde::{Deserialize, Serialize};

/// The eight states of a run. The orchestrator owns the transition rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    #[default]
    Idle,
    Initializing,
    RampingUp,
    Running,
    Paused,
    Stopping,
    Completed,
    Failed,
}

impl RunState {
    pub const ALL: [RunState; 8] = [
        RunState::Idle,
        RunState::Initializing,
        RunState::RampingUp,
        RunState::Running,
        RunState::Paused,
        RunState::Stopping,
        RunState::Completed,
        RunState::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Initializing => "initializing",
            RunState::RampingUp => "ramping_up",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Stopping => "stopping",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
        }
    }

    pub const fn is_terminal(self) -> bool {
        matches!(self, RunState::Completed | RunState::Failed)
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How degraded the system under test is, from thresholds evaluated each tick.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DegradationLevel {
    #[default]
    None,
    Moderate,
    Severe,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    Warning,
    Critical,
}

/// Something that happened during a run, at `t_s` seconds from its start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub t_s: f64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    StateChanged {
        from: RunState,
        to: RunState,
    },
    PhaseStarted {
        name: String,
    },
    RateMultiplier {
        value: f64,
    },
    FaultStarted {
        fault: FaultKind,
        stage: Option<String>,
    },
    FaultEnded {
        fault: FaultKind,
        stage: Option<String>,
    },
    Degradation {
        from: DegradationLevel,
        to: DegradationLevel,
    },
    AlertRaised {
        name: String,
        severity: AlertSeverity,
        message: String,
    },
    AlertCleared {
        name: String,
    },
    CriterionFailed {
        name: String,
        actual: f64,
        threshold: f64,
    },
    /// A criterion's figure was not measured: it fails, or with `skipped` the scenario's
    /// `when_unmeasured = "skip"` leaves it out.
    CriterionNotMeasured {
        name: String,
        reason: String,
        skipped: bool,
    },
    BudgetWarning {
        spent: f64,
        budget: f64,
    },
    Message {
        text: String,
    },
}

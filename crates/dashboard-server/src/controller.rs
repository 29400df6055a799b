//! The [`Controller`] the control API talks to, and its implementation for the orchestrator's
//! [`RunControl`]. A replay has no controller: its controls are disabled.

use models::FaultSpec;
use orchestrator::RunControl;

/// Why a control request was not carried out (answered with 409 Conflict and this text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// What the dashboard's controls can ask of a run.
pub trait Controller: Send + Sync + 'static {
    fn start(&self) -> Result<(), Refused>;
    fn pause(&self) -> Result<(), Refused>;
    fn resume(&self) -> Result<(), Refused>;
    fn stop(&self) -> Result<(), Refused>;
    /// Multiplies the profile's rate (1.0 = as planned).
    fn set_rate(&self, multiplier: f64) -> Result<(), Refused>;
    /// Whether `multiplier` is a value the run accepts at all (answered with 400 Bad Request and
    /// the reason when not), whatever the run's state. Accepts everything unless implemented.
    fn check_rate(&self, _multiplier: f64) -> Result<(), Refused> {
        Ok(())
    }
    /// Starts a fault now, for its duration.
    fn inject(&self, fault: FaultSpec) -> Result<(), Refused>;
}

fn refused(e: orchestrator::ControlError) -> Refused {
    Refused(e.to_string())
}

impl Controller for RunControl {
    fn start(&self) -> Result<(), Refused> {
        RunControl::start(self).map_err(refused)
    }
    fn pause(&self) -> Result<(), Refused> {
        RunControl::pause(self).map_err(refused)
    }
    fn resume(&self) -> Result<(), Refused> {
        RunControl::resume(self).map_err(refused)
    }
    fn stop(&self) -> Result<(), Refused> {
        RunControl::stop(self).map_err(refused)
    }
    fn set_rate(&self, multiplier: f64) -> Result<(), Refused> {
        self.set_rate_multiplier(multiplier).map_err(refused)
    }
    fn check_rate(&self, multiplier: f64) -> Result<(), Refused> {
        self.check_rate_multiplier(multiplier).map_err(refused)
    }
    fn inject(&self, fault: FaultSpec) -> Result<(), Refused> {
        self.inject_fault(fault).map_err(refused)
    }
}

//! Run-time control of a driver (pause, resume, rate multiplier, stop) and its published status.

use crate::error::DriverError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the controller asks for; the driver reacts to the latest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Commands {
    pub paused: bool,
    pub multiplier: f64,
    pub stop: bool,
}

/// Where the driver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriverPhase {
    /// Created, `run` not called yet.
    #[default]
    Idle,
    Running,
    /// Sending nothing; the schedule clock is stopped.
    Paused,
    /// No more sends; waiting for in-flight requests (up to the grace period).
    Draining,
    Finished,
}

/// Published by the driver as it runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DriverStatus {
    pub phase: DriverPhase,
    /// How far into the profile the schedule clock is (paused time excluded).
    pub schedule_offset: Duration,
    /// Total time spent paused.
    pub paused_for: Duration,
    pub multiplier: f64,
}

/// A cloneable remote control for one driver run. Create it, pass a clone to [`crate::Driver::new`],
/// keep one to steer. Counters of the run's progress are on the [`metrics_core::Recorder`]
/// ([`metrics_core::Recorder::totals`]).
///
/// Pausing stops the schedule clock: nothing is sent while paused, and on resume the profile
/// continues where it was (a 60 s profile paused for 10 s ends after 70 s). Requests already in
/// flight complete normally during a pause.
#[derive(Debug, Clone)]
pub struct DriverControl {
    commands: Arc<watch::Sender<Commands>>,
    status: Arc<watch::Sender<DriverStatus>>,
}

impl Default for DriverControl {
    fn default() -> Self {
        Self::new()
    }
}

impl DriverControl {
    pub fn new() -> Self {
        let (commands, _) = watch::channel(Commands {
            paused: false,
            multiplier: 1.0,
            stop: false,
        });
        let (status, _) = watch::channel(DriverStatus {
            multiplier: 1.0,
            ..DriverStatus::default()
        });
        Self {
            commands: Arc::new(commands),
            status: Arc::new(status),
        }
    }

    pub fn pause(&self) {
        self.commands.send_modify(|c| c.paused = true);
    }

    pub fn resume(&self) {
        self.commands.send_modify(|c| c.paused = false);
    }

    /// Scales the profile's rate from now on (1 = as planned, 0 = send nothing while the clock runs).
    /// The arrival already planned next keeps its instant; the ones after it follow the new rate.
    pub fn set_multiplier(&self, m: f64) -> Result<(), DriverError> {
        if !(m.is_finite() && m >= 0.0) {
            return Err(DriverError::Multiplier { value: m });
        }
        self.commands.send_modify(|c| c.multiplier = m);
        Ok(())
    }

    /// Stops sending; in-flight requests get the grace period, then `run` returns.
    pub fn stop(&self) {
        self.commands.send_modify(|c| c.stop = true);
    }

    /// The latest status.
    pub fn status(&self) -> DriverStatus {
        *self.status.borrow()
    }

    /// A receiver that wakes on every status change.
    pub fn subscribe(&self) -> watch::Receiver<DriverStatus> {
        self.status.subscribe()
    }

    pub(crate) fn commands(&self) -> watch::Receiver<Commands> {
        self.commands.subscribe()
    }

    pub(crate) fn publish(&self, f: impl FnOnce(&mut DriverStatus)) {
        self.status.send_modify(f);
    }
}

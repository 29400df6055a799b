//! The seam for carrying out faults. The orchestrator owns the scenario's fault timeline (and manual
//! faults from the control handle); at each fault's start and end it calls a [`FaultInjector`]. The
//! `failure-injection` crate is meant to provide the general implementation (proxy faults for any HTTP
//! target); [`BuiltinFaults`] drives the built-in target's own fault hooks.
//!
//! Without an injector that supports a fault, the orchestrator still emits `fault_started` and
//! `fault_ended` events and marks the ticks, and adds a `message` event saying the fault was not
//! carried out.

use models::FaultSpec;

/// A fault that could not be started or ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot carry out fault {kind}{}: {message}", stage.as_ref().map(|s| format!(" on {s}")).unwrap_or_default())]
pub struct FaultError {
    pub kind: models::FaultKind,
    pub stage: Option<String>,
    pub message: String,
}

/// Starts and ends faults. Calls are quick switch flips (the effects happen in the target or proxy);
/// they are made from the orchestrator's loop and must not block.
pub trait FaultInjector: Send + Sync + std::fmt::Debug {
    /// Whether this injector can carry out `fault`.
    fn supports(&self, fault: &FaultSpec) -> bool;
    /// Puts the fault in place; returns the stage or route it actually hit (its natural place when the
    /// spec names none), which the resilience figures use to tell a cascade from the fault itself.
    fn start(&self, fault: &FaultSpec) -> Result<Option<String>, FaultError>;
    fn end(&self, fault: &FaultSpec) -> Result<(), FaultError>;
}

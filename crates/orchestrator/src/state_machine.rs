//! The run's state machine: the eight [`RunState`]s and the transitions allowed between them.
//!
//! ```text
//! Idle ─► Initializing ─► RampingUp ◄─► Running
//!              │              │  ▲        │  ▲
//!              │              ▼  │        ▼  │
//!              │             Paused ◄─────┘──┘
//!              ▼              │
//!          Stopping ◄─────────┴── (from Initializing, RampingUp, Running, Paused)
//!              │
//!              ▼
//!      Completed | Failed     (Failed is also reachable from every non-terminal state but Idle)
//! ```
//!
//! `RampingUp` is the state while the current profile stage is a ramp from a lower to a higher rate;
//! every other stage (holds, bursts, waves, ramps down) is `Running`. Pausing keeps the stage's
//! position; resuming returns to whichever of the two the current stage calls for.

use models::{EventKind, RunEvent, RunState};

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal run state transition from {from} to {to}: {}", hint(*from, *to))]
pub struct TransitionError {
    pub from: RunState,
    pub to: RunState,
}

fn hint(from: RunState, to: RunState) -> &'static str {
    if from.is_terminal() {
        "the run has ended; start a new orchestrator for another run"
    } else if from == to {
        "the run is already in that state"
    } else if from == RunState::Idle {
        "start the run first"
    } else if to == RunState::Paused {
        "only a ramping or running load can be paused"
    } else {
        "see the transition table in the orchestrator's state_machine module"
    }
}

/// Whether `from → to` is a legal transition.
pub const fn is_legal(from: RunState, to: RunState) -> bool {
    use RunState::*;
    matches!(
        (from, to),
        (Idle, Initializing)
            | (Initializing, RampingUp | Running | Stopping | Failed)
            | (RampingUp, Running | Paused | Stopping | Failed)
            | (Running, RampingUp | Paused | Stopping | Failed)
            | (Paused, RampingUp | Running | Stopping | Failed)
            | (Stopping, Completed | Failed)
    )
}

/// The current state plus the rules; every accepted transition becomes a [`RunEvent`].
#[derive(Debug, Clone, Default)]
pub struct StateMachine {
    state: RunState,
}

impl StateMachine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn state(&self) -> RunState {
        self.state
    }

    /// Moves to `to` at `t_s` seconds into the run, returning the `state_changed` event to emit.
    pub fn transition(&mut self, to: RunState, t_s: f64) -> Result<RunEvent, TransitionError> {
        let from = self.state;
        if !is_legal(from, to) {
            return Err(TransitionError { from, to });
        }
        self.state = to;
        Ok(RunEvent {
            t_s,
            kind: EventKind::StateChanged { from, to },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunState::*;

    const LEGAL: [(RunState, RunState); 19] = [
        (Idle, Initializing),
        (Initializing, RampingUp),
        (Initializing, Running),
        (Initializing, Stopping),
        (Initializing, Failed),
        (RampingUp, Running),
        (RampingUp, Paused),
        (RampingUp, Stopping),
        (RampingUp, Failed),
        (Running, RampingUp),
        (Running, Paused),
        (Running, Stopping),
        (Running, Failed),
        (Paused, RampingUp),
        (Paused, Running),
        (Paused, Stopping),
        (Paused, Failed),
        (Stopping, Completed),
        (Stopping, Failed),
    ];

    #[test]
    fn every_pair_is_legal_exactly_when_listed() {
        for from in RunState::ALL {
            for to in RunState::ALL {
                let mut sm = StateMachine { state: from };
                let listed = LEGAL.contains(&(from, to));
                match sm.transition(to, 1.5) {
                    Ok(ev) => {
                        assert!(listed, "{from} -> {to} was accepted but is not legal");
                        assert_eq!(
                            ev,
                            RunEvent {
                                t_s: 1.5,
                                kind: EventKind::StateChanged { from, to }
                            }
                        );
                        assert_eq!(sm.state(), to);
                    }
                    Err(e) => {
                        assert!(!listed, "{from} -> {to} was rejected but is legal");
                        assert_eq!(e, TransitionError { from, to });
                        assert_eq!(
                            sm.state(),
                            from,
                            "a rejected transition leaves the state alone"
                        );
                        assert!(
                            e.to_string().contains(from.as_str())
                                && e.to_string().contains(to.as_str())
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for from in [Completed, Failed] {
            for to in RunState::ALL {
                assert!(!is_legal(from, to));
            }
            let err = TransitionError { from, to: Running };
            assert!(err.to_string().contains("has ended"), "{err}");
        }
    }

    #[test]
    fn a_typical_run_walks_through_the_states() {
        let mut sm = StateMachine::new();
        let path = [
            Initializing,
            RampingUp,
            Paused,
            RampingUp,
            Running,
            Stopping,
            Completed,
        ];
        for (i, to) in path.into_iter().enumerate() {
            sm.transition(to, i as f64).unwrap();
        }
        assert_eq!(sm.state(), Completed);
    }
}

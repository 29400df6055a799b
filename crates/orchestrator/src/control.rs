//! The cloneable handle that drives a run from outside (CLI, dashboards): start, pause, resume, stop,
//! rate multiplier, manual faults; and the streams a run publishes: events, metric frames, state.

use crate::state_machine::{TransitionError, is_legal};
use models::{FaultSpec, IntervalSnapshot, RunEvent, RunState};
use tokio::sync::{broadcast, mpsc, watch};

/// A request to the running orchestrator.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Start,
    Pause,
    Resume,
    Stop,
    /// Stops the run like `Stop`, recorded as interrupted (Ctrl+C).
    Interrupt,
    /// Multiplies the profile's rate (1.0 = as planned).
    SetRateMultiplier(f64),
    /// Starts a fault now (its `at` is ignored) for its `duration`.
    InjectFault(FaultSpec),
}

/// Why a control request was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    #[error("the run has ended; there is nothing left to control")]
    Ended,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(
        "rate multiplier {0} must be a finite number of 0 or more (1.0 runs the profile as planned)"
    )]
    BadMultiplier(f64),
}

/// Clone it freely; every clone controls the same run. Buffers: events and frames are broadcast with
/// a bounded backlog per subscriber (a slow subscriber misses old items and gets `Lagged`); the latest
/// frame and the state are also kept in `watch` channels for late joiners. The streams close
/// (`RecvError::Closed`) when the run has ended, however many handles are still around.
#[derive(Debug, Clone)]
pub struct RunControl {
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::WeakSender<RunEvent>,
    frames: broadcast::WeakSender<IntervalSnapshot>,
    state: watch::Receiver<RunState>,
    latest: watch::Receiver<Option<IntervalSnapshot>>,
}

/// The orchestrator's side of the channels.
#[derive(Debug)]
pub(crate) struct ControlPorts {
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub out: Outlets,
}

/// Where the orchestrator publishes.
#[derive(Debug)]
pub(crate) struct Outlets {
    pub events: broadcast::Sender<RunEvent>,
    pub frames: broadcast::Sender<IntervalSnapshot>,
    pub state: watch::Sender<RunState>,
    pub latest: watch::Sender<Option<IntervalSnapshot>>,
}

/// How many events or frames a subscriber may fall behind before it misses some.
const BACKLOG: usize = 1024;

pub(crate) fn channel() -> (RunControl, ControlPorts) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(BACKLOG);
    let (frames, _) = broadcast::channel(BACKLOG);
    let (state_tx, state_rx) = watch::channel(RunState::Idle);
    let (latest_tx, latest_rx) = watch::channel(None);
    (
        RunControl {
            commands: cmd_tx,
            events: events.downgrade(),
            frames: frames.downgrade(),
            state: state_rx,
            latest: latest_rx,
        },
        ControlPorts {
            commands: cmd_rx,
            out: Outlets {
                events,
                frames,
                state: state_tx,
                latest: latest_tx,
            },
        },
    )
}

fn subscribe<T: Clone>(weak: &broadcast::WeakSender<T>) -> broadcast::Receiver<T> {
    match weak.upgrade() {
        Some(tx) => tx.subscribe(),
        None => broadcast::channel(1).1,
    }
}

impl RunControl {
    fn send(&self, c: Command) -> Result<(), ControlError> {
        if self.state().is_terminal() {
            return Err(ControlError::Ended);
        }
        self.commands.send(c).map_err(|_| ControlError::Ended)
    }

    fn check(&self, to: RunState) -> Result<(), ControlError> {
        let from = self.state();
        if from.is_terminal() {
            return Err(ControlError::Ended);
        }
        if is_legal(from, to) {
            Ok(())
        } else {
            Err(TransitionError { from, to }.into())
        }
    }

    /// Starts a run created with `auto_start: false`.
    pub fn start(&self) -> Result<(), ControlError> {
        self.check(RunState::Initializing)?;
        self.send(Command::Start)
    }

    /// Pauses the load: no arrivals are sent; in-flight requests finish.
    pub fn pause(&self) -> Result<(), ControlError> {
        self.check(RunState::Paused)?;
        self.send(Command::Pause)
    }

    pub fn resume(&self) -> Result<(), ControlError> {
        if self.state() != RunState::Paused {
            return Err(TransitionError {
                from: self.state(),
                to: RunState::Running,
            }
            .into());
        }
        self.send(Command::Resume)
    }

    /// Stops the run gracefully; results are still written. Stopping twice is harmless.
    pub fn stop(&self) -> Result<(), ControlError> {
        self.send(Command::Stop)
    }

    /// Stops the run gracefully and records it as interrupted (what Ctrl+C does).
    pub fn interrupt(&self) -> Result<(), ControlError> {
        self.send(Command::Interrupt)
    }

    pub fn set_rate_multiplier(&self, value: f64) -> Result<(), ControlError> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(ControlError::BadMultiplier(value));
        }
        self.send(Command::SetRateMultiplier(value))
    }

    pub fn inject_fault(&self, fault: FaultSpec) -> Result<(), ControlError> {
        self.send(Command::InjectFault(fault))
    }

    pub fn state(&self) -> RunState {
        *self.state.borrow()
    }

    pub fn watch_state(&self) -> watch::Receiver<RunState> {
        self.state.clone()
    }

    /// Events from now on; closed at once when the run has ended.
    pub fn subscribe_events(&self) -> broadcast::Receiver<RunEvent> {
        subscribe(&self.events)
    }

    /// Metric frames from now on; closed at once when the run has ended.
    pub fn subscribe_frames(&self) -> broadcast::Receiver<IntervalSnapshot> {
        subscribe(&self.frames)
    }

    /// The most recent frame (for a dashboard that connects mid-run).
    pub fn latest_frame(&self) -> watch::Receiver<Option<IntervalSnapshot>> {
        self.latest.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_are_checked_against_the_state_and_forwarded() {
        let (control, mut ports) = channel();
        assert!(
            matches!(control.pause(), Err(ControlError::Transition(_))),
            "cannot pause an idle run"
        );
        assert!(matches!(control.resume(), Err(ControlError::Transition(_))));
        assert_eq!(
            control.set_rate_multiplier(-1.0),
            Err(ControlError::BadMultiplier(-1.0))
        );
        control.start().unwrap();
        assert_eq!(ports.commands.recv().await, Some(Command::Start));
        ports.out.state.send_replace(RunState::Running);
        let clone = control.clone();
        clone.pause().unwrap();
        clone.set_rate_multiplier(1.5).unwrap();
        assert_eq!(ports.commands.recv().await, Some(Command::Pause));
        assert_eq!(
            ports.commands.recv().await,
            Some(Command::SetRateMultiplier(1.5))
        );
        ports.out.state.send_replace(RunState::Completed);
        assert_eq!(control.stop(), Err(ControlError::Ended));
    }

    #[tokio::test]
    async fn streams_close_when_the_run_ends_even_with_handles_around() {
        let (control, ports) = channel();
        let mut frames = control.subscribe_frames();
        drop(ports);
        assert_eq!(
            frames.recv().await,
            Err(broadcast::error::RecvError::Closed)
        );
        assert_eq!(
            control.subscribe_events().recv().await,
            Err(broadcast::error::RecvError::Closed)
        );
    }

    #[tokio::test]
    async fn subscribers_see_events_and_the_latest_frame() {
        let (control, ports) = channel();
        let mut events = control.subscribe_events();
        let ev = RunEvent {
            t_s: 1.0,
            kind: models::EventKind::Message { text: "hi".into() },
        };
        ports.out.events.send(ev.clone()).unwrap();
        assert_eq!(events.recv().await.unwrap(), ev);
        let frame = IntervalSnapshot {
            t_s: 2.0,
            ..Default::default()
        };
        ports.out.latest.send_replace(Some(frame.clone()));
        assert_eq!(control.latest_frame().borrow().as_ref(), Some(&frame));
    }
}

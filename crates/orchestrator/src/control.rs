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
    /// Stops the run like `Stop`, recorded as terminated (SIGTERM or SIGHUP).
    Terminate,
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
    #[error(
        "rate multiplier {multiplier} would plan {planned:.0} TPS at the profile's peak ({peak_tps:.0} TPS), above the {max_tps:.0} TPS ceiling (the run's `max_tps`); give at most {allowed}",
        planned = multiplier * peak_tps,
        allowed = max_tps.max(*peak_tps) / peak_tps
    )]
    MultiplierAboveCeiling {
        multiplier: f64,
        peak_tps: f64,
        max_tps: f64,
    },
}

impl ControlError {
    /// Whether the request itself was wrong (a bad value: HTTP 400), rather than out of place in
    /// the run's state (HTTP 409).
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            ControlError::BadMultiplier(_) | ControlError::MultiplierAboveCeiling { .. }
        )
    }
}

/// What a rate multiplier is checked against: the profile's highest planned rate and the ceiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateCap {
    pub peak_tps: f64,
    pub max_tps: f64,
}

impl RateCap {
    pub fn of(spec: &models::ScenarioSpec) -> Self {
        Self {
            peak_tps: crate::timeline::peak_tps(&spec.load),
            max_tps: spec.limits.max_tps,
        }
    }

    /// Refuses a multiplier that is not a finite number of 0 or more, or that would plan above the
    /// ceiling at the profile's peak. A profile that already peaks above the ceiling (its excess is
    /// shed) may still run as planned, so the bound is the higher of the two.
    fn check(&self, multiplier: f64) -> Result<(), ControlError> {
        if !(multiplier.is_finite() && multiplier >= 0.0) {
            return Err(ControlError::BadMultiplier(multiplier));
        }
        let planned = multiplier * self.peak_tps;
        if planned > self.max_tps.max(self.peak_tps) {
            return Err(ControlError::MultiplierAboveCeiling {
                multiplier,
                peak_tps: self.peak_tps,
                max_tps: self.max_tps,
            });
        }
        Ok(())
    }
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
    rate_cap: RateCap,
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

pub(crate) fn channel(rate_cap: RateCap) -> (RunControl, ControlPorts) {
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
            rate_cap,
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

    /// Stops the run gracefully and records it as terminated (what SIGTERM and SIGHUP do: a
    /// supervisor such as Kubernetes, systemd or a CI runner ending the process). Results are written.
    pub fn terminate(&self) -> Result<(), ControlError> {
        self.send(Command::Terminate)
    }

    /// Scales the profile's rate. Refused (with the reason) when `value` is not a finite number of
    /// 0 or more, or would plan above the scenario's `max_tps` at the profile's peak.
    pub fn set_rate_multiplier(&self, value: f64) -> Result<(), ControlError> {
        self.check_rate_multiplier(value)?;
        self.send(Command::SetRateMultiplier(value))
    }

    /// What [`RunControl::set_rate_multiplier`] would say about `value`, without sending it.
    pub fn check_rate_multiplier(&self, value: f64) -> Result<(), ControlError> {
        self.rate_cap.check(value)
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

    const CAP: RateCap = RateCap {
        peak_tps: 100.0,
        max_tps: 1_000.0,
    };

    #[tokio::test]
    async fn multipliers_that_plan_above_the_ceiling_are_refused_with_the_reason() {
        let (control, mut ports) = channel(CAP);
        ports.out.state.send_replace(RunState::Running);
        for m in [10.5, 1e300, f64::MAX] {
            let e = control.set_rate_multiplier(m).unwrap_err();
            assert!(e.is_bad_request(), "{e}");
            assert!(
                matches!(e, ControlError::MultiplierAboveCeiling { .. }),
                "{e}"
            );
        }
        let msg = control.set_rate_multiplier(20.0).unwrap_err().to_string();
        assert!(
            msg.contains("2000 TPS")
                && msg.contains("1000 TPS ceiling")
                && msg.contains("at most 10"),
            "{msg}"
        );
        assert!(
            control
                .set_rate_multiplier(f64::NAN)
                .unwrap_err()
                .is_bad_request()
        );
        control.set_rate_multiplier(10.0).unwrap();
        assert_eq!(
            ports.commands.recv().await,
            Some(Command::SetRateMultiplier(10.0))
        );
        assert!(ports.commands.try_recv().is_err(), "refusals send nothing");
        // A profile already above its ceiling may still run as planned, not higher.
        let (above, ports) = channel(RateCap {
            peak_tps: 2_000.0,
            max_tps: 1_000.0,
        });
        ports.out.state.send_replace(RunState::Running);
        above.set_rate_multiplier(1.0).unwrap();
        above.set_rate_multiplier(0.25).unwrap();
        assert!(above.set_rate_multiplier(1.01).is_err());
        // A profile that plans nothing can be multiplied by anything finite.
        let (idle, ports) = channel(RateCap {
            peak_tps: 0.0,
            max_tps: 1.0,
        });
        ports.out.state.send_replace(RunState::Running);
        idle.set_rate_multiplier(1e300).unwrap();
    }

    #[tokio::test]
    async fn requests_are_checked_against_the_state_and_forwarded() {
        let (control, mut ports) = channel(CAP);
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
        let (control, ports) = channel(CAP);
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
        let (control, ports) = channel(CAP);
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

//! The faults of a running scenario: those scheduled and not started yet, those active, and the
//! windows of those that ended (for the resilience figures). Starting and ending a fault carries it out
//! through the target's [`Injector`], when it has one, and answers with the events to publish.

use crate::resilience::FaultWindow;
use crate::run_clock::RunClock;
use failure_injection::{FaultId, Injector};
use models::{EventKind, FaultSpec};
use std::sync::Arc;
use std::time::Duration;

/// Faults due within this much of the timeline position start now: the timer that wakes the run for
/// a fault edge may fire a hair early.
const EDGE_SLACK: Duration = Duration::from_micros(500);

#[derive(Debug)]
struct Active {
    spec: FaultSpec,
    stage: Option<String>,
    start_s: f64,
    end_s: f64,
    /// The injector's handle; `None` when the fault is only marked on the timeline.
    id: Option<FaultId>,
}

pub(crate) struct RunFaults {
    injector: Option<Arc<dyn Injector>>,
    /// Scheduled faults not started yet.
    schedule: Vec<FaultSpec>,
    active: Vec<Active>,
    finished: Vec<FaultWindow>,
}

impl std::fmt::Debug for RunFaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunFaults")
            .field("injector", &self.injector.as_ref().map(|i| i.name()))
            .field("schedule", &self.schedule)
            .field("active", &self.active)
            .field("finished", &self.finished)
            .finish()
    }
}

impl RunFaults {
    pub(crate) fn new(schedule: Vec<FaultSpec>, injector: Option<Arc<dyn Injector>>) -> Self {
        Self {
            injector,
            schedule,
            active: Vec::new(),
            finished: Vec::new(),
        }
    }

    /// The windows of the faults that ended.
    pub(crate) fn finished(&self) -> &[FaultWindow] {
        &self.finished
    }

    /// The next timeline position at which a scheduled fault starts or an active one ends.
    pub(crate) fn next_edge(&self) -> Option<Duration> {
        let starts = self.schedule.iter().map(|f| f.at);
        let ends = self.active.iter().map(|a| Duration::from_secs_f64(a.end_s));
        starts.chain(ends).min()
    }

    /// Names of the faults active at any time after `since_s` (also those that ended since), sorted.
    pub(crate) fn names_since(&self, since_s: f64) -> Vec<String> {
        let mut names: Vec<String> = self
            .active
            .iter()
            .map(|a| a.spec.kind.to_string())
            .chain(
                self.finished
                    .iter()
                    .filter(|f| f.end_s > since_s)
                    .map(|f| f.kind.to_string()),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Starts `spec` now; it ends at `spec.at + spec.duration` on the timeline.
    pub(crate) async fn start(&mut self, spec: FaultSpec, clock: &RunClock) -> Vec<EventKind> {
        let t = clock.now_s();
        let mut events = Vec::new();
        let builtin = self
            .injector
            .as_ref()
            .is_some_and(|i| i.name() == "builtin");
        let stage = spec.stage.clone().or_else(|| {
            failure_injection::default_stage(spec.kind)
                .filter(|_| builtin)
                .map(str::to_owned)
        });
        let id = match &self.injector {
            Some(inj) => match inj.apply(&spec).await {
                Ok(id) => Some(id),
                Err(e) => {
                    events.push(EventKind::Message {
                        text: format!("{e}; the fault is only marked on the timeline"),
                    });
                    None
                }
            },
            None => {
                events.push(EventKind::Message {
                    text: format!(
                        "fault {} is not carried out: this target has no injector (an embedder's \
                         target without one); it is only marked on the timeline",
                        spec.kind
                    ),
                });
                None
            }
        };
        events.push(EventKind::FaultStarted {
            fault: spec.kind,
            stage: stage.clone(),
        });
        let end = spec.at + spec.duration;
        self.active.push(Active {
            stage,
            start_s: t,
            end_s: end.as_secs_f64(),
            spec,
            id,
        });
        events
    }

    async fn end(&mut self, a: Active, clock: &RunClock) -> Vec<EventKind> {
        let t = clock.now_s();
        let mut events = Vec::new();
        if let (Some(id), Some(inj)) = (a.id, &self.injector)
            && let Err(e) = inj.clear(id).await
        {
            events.push(EventKind::Message {
                text: e.to_string(),
            });
        }
        events.push(EventKind::FaultEnded {
            fault: a.spec.kind,
            stage: a.stage.clone(),
        });
        self.finished.push(FaultWindow {
            kind: a.spec.kind,
            stage: a.stage,
            start_s: a.start_s,
            end_s: t,
        });
        events
    }

    /// Ends the faults whose time is up and starts those due, at the clock's timeline position.
    /// Each event comes with the run time at which it happened.
    pub(crate) async fn edges(&mut self, clock: &RunClock) -> Vec<(f64, EventKind)> {
        let pos = clock.timeline_pos() + EDGE_SLACK;
        let (due, later): (Vec<FaultSpec>, Vec<FaultSpec>) =
            self.schedule.drain(..).partition(|f| f.at <= pos);
        self.schedule = later;
        let (ended, still): (Vec<Active>, Vec<Active>) = self
            .active
            .drain(..)
            .partition(|a| Duration::from_secs_f64(a.end_s) <= pos);
        self.active = still;
        let mut events = Vec::new();
        for a in ended {
            let t = clock.now_s();
            events.extend(self.end(a, clock).await.into_iter().map(|e| (t, e)));
        }
        for f in due {
            let t = clock.now_s();
            events.extend(self.start(f, clock).await.into_iter().map(|e| (t, e)));
        }
        events
    }

    /// Ends every active fault (the run is stopping).
    pub(crate) async fn end_all(&mut self, clock: &RunClock) -> Vec<(f64, EventKind)> {
        let mut events = Vec::new();
        for a in std::mem::take(&mut self.active) {
            let t = clock.now_s();
            events.extend(self.end(a, clock).await.into_iter().map(|e| (t, e)));
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::FaultKind;
    use tokio::time::Instant;

    fn fault(at_s: u64, for_s: u64) -> FaultSpec {
        FaultSpec::new(
            FaultKind::LatencySpike,
            Duration::from_secs(at_s),
            Duration::from_secs(for_s),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn scheduled_faults_start_and_end_at_their_edges() {
        let s = Duration::from_secs;
        let clock = RunClock::new(Instant::now());
        let mut faults = RunFaults::new(vec![fault(2, 3)], None);
        assert_eq!(faults.next_edge(), Some(s(2)));
        assert!(faults.edges(&clock).await.is_empty(), "nothing due at 0 s");

        tokio::time::advance(s(2)).await;
        let events: Vec<EventKind> = faults
            .edges(&clock)
            .await
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        assert!(
            matches!(&events[0], EventKind::Message { text } if text.contains("no injector")),
            "{events:?}"
        );
        assert!(
            matches!(events[1], EventKind::FaultStarted { .. }),
            "{events:?}"
        );
        assert_eq!(faults.next_edge(), Some(s(5)), "it ends 3 s later");
        assert_eq!(
            faults.names_since(1.0),
            vec![FaultKind::LatencySpike.to_string()]
        );

        tokio::time::advance(s(3)).await;
        let events = faults.edges(&clock).await;
        assert!(
            matches!(events[..], [(t, EventKind::FaultEnded { .. })] if t == 5.0),
            "{events:?}"
        );
        assert_eq!(faults.next_edge(), None);
        let w = &faults.finished()[0];
        assert_eq!((w.start_s, w.end_s), (2.0, 5.0));
        assert_eq!(
            faults.names_since(4.0).len(),
            1,
            "it was active during a tick from 4 s"
        );
        assert!(faults.names_since(5.0).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_ends_the_active_faults() {
        let clock = RunClock::new(Instant::now());
        let mut faults = RunFaults::new(Vec::new(), None);
        faults.start(fault(0, 60), &clock).await;
        tokio::time::advance(Duration::from_secs(1)).await;
        let events = faults.end_all(&clock).await;
        assert!(
            matches!(events[..], [(_, EventKind::FaultEnded { .. })]),
            "{events:?}"
        );
        assert_eq!(faults.finished()[0].end_s, 1.0);
        assert!(faults.end_all(&clock).await.is_empty());
    }
}

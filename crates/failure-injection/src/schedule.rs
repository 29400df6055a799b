//! Faults on the scenario's timeline: [`FaultSchedule`] says which faults start and end at a given
//! scenario time; [`FaultTimeline`] carries those changes out through an [`Injector`] and returns the
//! `FaultStarted` / `FaultEnded` events to emit.

use crate::injector::{FaultId, InjectError, Injector, fault_label};
use crate::resilience::FaultWindow;
use models::{EventKind, FaultSpec};
use std::collections::BTreeMap;
use std::time::Duration;

/// Whether a scheduled fault begins or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Start,
    End,
}

/// One thing to do now: start or end the fault in schedule slot `slot`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleChange {
    pub slot: usize,
    pub transition: Transition,
    /// The scenario time it was due at.
    pub due: Duration,
    pub spec: FaultSpec,
}

impl ScheduleChange {
    /// The run event for this change.
    pub fn event(&self) -> EventKind {
        let (fault, stage) = (self.spec.kind, self.spec.stage.clone());
        match self.transition {
            Transition::Start => EventKind::FaultStarted { fault, stage },
            Transition::End => EventKind::FaultEnded { fault, stage },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Pending,
    Active,
    Done,
}

/// The faults of a scenario, in scenario time (the caller applies any time scale before asking).
///
/// ```
/// use failure_injection::{FaultSchedule, Transition};
/// use models::{FaultKind, FaultSpec};
/// use std::time::Duration;
/// let s = Duration::from_secs;
/// let mut schedule = FaultSchedule::new(vec![FaultSpec::new(FaultKind::AgentCrash, s(10), s(5))]);
/// assert!(schedule.poll(s(9)).is_empty());
/// assert_eq!(schedule.poll(s(10))[0].transition, Transition::Start);
/// assert_eq!(schedule.next_due(), Some(s(15)));
/// assert_eq!(schedule.poll(s(16))[0].transition, Transition::End);
/// assert!(schedule.is_finished());
/// ```
#[derive(Debug, Clone, Default)]
pub struct FaultSchedule {
    slots: Vec<(FaultSpec, SlotState)>,
}

impl FaultSchedule {
    pub fn new(specs: Vec<FaultSpec>) -> Self {
        Self {
            slots: specs.into_iter().map(|s| (s, SlotState::Pending)).collect(),
        }
    }

    /// Adds a fault (a manual injection: set `spec.at` to the current scenario time); returns its slot.
    pub fn push(&mut self, spec: FaultSpec) -> usize {
        self.slots.push((spec, SlotState::Pending));
        self.slots.len() - 1
    }

    /// Every change due at or before `now`, in time order (an end before a start at the same instant).
    /// A fault whose whole window has passed yields its start and its end together.
    pub fn poll(&mut self, now: Duration) -> Vec<ScheduleChange> {
        let mut changes = Vec::new();
        for (slot, (spec, state)) in self.slots.iter_mut().enumerate() {
            if *state == SlotState::Pending && spec.at <= now {
                changes.push(ScheduleChange {
                    slot,
                    transition: Transition::Start,
                    due: spec.at,
                    spec: spec.clone(),
                });
                *state = SlotState::Active;
            }
            if *state == SlotState::Active && spec.end() <= now {
                changes.push(ScheduleChange {
                    slot,
                    transition: Transition::End,
                    due: spec.end(),
                    spec: spec.clone(),
                });
                *state = SlotState::Done;
            }
        }
        // At one instant: ends of earlier faults, then starts, then ends of zero-length faults.
        changes.sort_by_key(|c| {
            let order = match c.transition {
                Transition::End if c.spec.at < c.due => 0,
                Transition::Start => 1,
                Transition::End => 2,
            };
            (c.due, order)
        });
        changes
    }

    /// Ends every active fault and drops the pending ones: the run is stopping.
    pub fn finish(&mut self, now: Duration) -> Vec<ScheduleChange> {
        let mut changes = Vec::new();
        for (slot, (spec, state)) in self.slots.iter_mut().enumerate() {
            if *state == SlotState::Active {
                changes.push(ScheduleChange {
                    slot,
                    transition: Transition::End,
                    due: now,
                    spec: spec.clone(),
                });
            }
            *state = SlotState::Done;
        }
        changes
    }

    /// When the next change is due, if any.
    pub fn next_due(&self) -> Option<Duration> {
        self.slots
            .iter()
            .filter_map(|(spec, state)| match state {
                SlotState::Pending => Some(spec.at),
                SlotState::Active => Some(spec.end()),
                SlotState::Done => None,
            })
            .min()
    }

    /// The faults started and not yet ended.
    pub fn active(&self) -> impl Iterator<Item = &FaultSpec> {
        self.slots
            .iter()
            .filter(|(_, s)| *s == SlotState::Active)
            .map(|(spec, _)| spec)
    }

    pub fn is_finished(&self) -> bool {
        self.slots.iter().all(|(_, s)| *s == SlotState::Done)
    }

    pub fn specs(&self) -> impl Iterator<Item = &FaultSpec> {
        self.slots.iter().map(|(spec, _)| spec)
    }
}

/// What one [`FaultTimeline::advance`] did.
#[derive(Debug, Default)]
pub struct Advance {
    /// `FaultStarted` / `FaultEnded` events for the changes that took effect, in order.
    pub events: Vec<EventKind>,
    /// Changes the injector refused; the fault is treated as not running.
    pub errors: Vec<InjectError>,
}

/// A [`FaultSchedule`] wired to an [`Injector`]: applies and clears faults as scenario time passes and
/// records when each really ran (in run seconds) for the resilience figures.
#[derive(Debug)]
pub struct FaultTimeline<I> {
    schedule: FaultSchedule,
    injector: I,
    ids: BTreeMap<usize, FaultId>,
    windows: BTreeMap<usize, FaultWindow>,
}

impl<I: Injector> FaultTimeline<I> {
    pub fn new(schedule: FaultSchedule, injector: I) -> Self {
        Self {
            schedule,
            injector,
            ids: BTreeMap::new(),
            windows: BTreeMap::new(),
        }
    }

    pub fn injector(&self) -> &I {
        &self.injector
    }

    pub fn schedule(&self) -> &FaultSchedule {
        &self.schedule
    }

    /// Queues a manual fault that starts at the next `advance` (its `at` is set to `now`).
    pub fn inject(&mut self, mut spec: FaultSpec, now: Duration) -> usize {
        spec.at = now;
        self.schedule.push(spec)
    }

    /// Carries out every change due at scenario time `now`; `t_s` is the run time in seconds, recorded in
    /// the fault windows.
    pub async fn advance(&mut self, now: Duration, t_s: f64) -> Advance {
        let changes = self.schedule.poll(now);
        self.carry_out(changes, t_s).await
    }

    /// Ends every active fault (the run is stopping) and drops the pending ones.
    pub async fn finish(&mut self, now: Duration, t_s: f64) -> Advance {
        let changes = self.schedule.finish(now);
        self.carry_out(changes, t_s).await
    }

    async fn carry_out(&mut self, changes: Vec<ScheduleChange>, t_s: f64) -> Advance {
        let mut out = Advance::default();
        for change in changes {
            match change.transition {
                Transition::Start => match self.injector.apply(&change.spec).await {
                    Ok(id) => {
                        self.ids.insert(change.slot, id);
                        self.windows
                            .insert(change.slot, FaultWindow::open(&change.spec, t_s));
                        out.events.push(change.event());
                    }
                    Err(e) => out.errors.push(e),
                },
                Transition::End => {
                    let Some(id) = self.ids.remove(&change.slot) else {
                        continue;
                    };
                    if let Some(w) = self.windows.get_mut(&change.slot) {
                        w.end_s = t_s;
                    }
                    match self.injector.clear(id).await {
                        Ok(()) => out.events.push(change.event()),
                        Err(e) => out.errors.push(e),
                    }
                }
            }
        }
        out
    }

    /// Labels of the faults running now, for `IntervalSnapshot::active_faults`.
    pub fn active_labels(&self) -> Vec<String> {
        self.ids
            .keys()
            .filter_map(|slot| self.windows.get(slot))
            .map(|w| w.label())
            .collect()
    }

    /// When each fault really ran, in run seconds; a fault still running ends at `+inf` until it ends.
    pub fn windows(&self) -> Vec<FaultWindow> {
        self.windows.values().cloned().collect()
    }
}

/// `kind:stage` labels for specs (the same form as [`ActiveFault::label`](crate::ActiveFault::label)).
pub fn labels<'a>(specs: impl IntoIterator<Item = &'a FaultSpec>) -> Vec<String> {
    specs.into_iter().map(fault_label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::FaultKind;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn changes_come_in_time_order_with_ends_first() {
        let mut schedule = FaultSchedule::new(vec![
            FaultSpec::new(FaultKind::LatencySpike, s(10), s(10)),
            FaultSpec::new(FaultKind::AgentCrash, s(5), s(5)),
        ]);
        let c = schedule.poll(s(4));
        assert!(c.is_empty());
        let c = schedule.poll(s(10));
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.spec.kind, c.transition, c.due))
            .collect();
        assert_eq!(
            got,
            vec![
                (FaultKind::AgentCrash, Transition::Start, s(5)),
                (FaultKind::AgentCrash, Transition::End, s(10)),
                (FaultKind::LatencySpike, Transition::Start, s(10)),
            ]
        );
        assert_eq!(schedule.active().count(), 1);
        assert_eq!(schedule.next_due(), Some(s(20)));
        assert!(schedule.poll(s(19)).is_empty());
        assert_eq!(schedule.poll(s(20)).len(), 1);
        assert!(schedule.is_finished());
        assert_eq!(schedule.next_due(), None);
    }

    #[test]
    fn finish_ends_active_and_drops_pending() {
        let mut schedule = FaultSchedule::new(vec![
            FaultSpec::new(FaultKind::HttpError, s(0), s(100)),
            FaultSpec::new(FaultKind::HttpError, s(50), s(1)),
        ]);
        assert_eq!(schedule.poll(s(1)).len(), 1);
        let c = schedule.finish(s(2));
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].slot, c[0].transition, c[0].due),
            (0, Transition::End, s(2))
        );
        assert!(schedule.is_finished());
        assert!(schedule.poll(s(60)).is_empty());
    }

    #[test]
    fn a_zero_length_fault_starts_before_it_ends() {
        let mut schedule = FaultSchedule::new(vec![
            FaultSpec::new(FaultKind::HttpError, s(3), s(0)),
            FaultSpec::new(FaultKind::AgentCrash, s(1), s(2)),
        ]);
        let got: Vec<_> = schedule
            .poll(s(3))
            .iter()
            .map(|c| (c.slot, c.transition))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Transition::Start),
                (1, Transition::End),
                (0, Transition::Start),
                (0, Transition::End)
            ]
        );
    }
}

//! A run's two clocks: wall time since the load started, and the position on the scenario's timeline
//! (wall time minus the time spent paused), which is what stages and scheduled faults follow.

use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub(crate) struct RunClock {
    start: Instant,
    paused_at: Option<Instant>,
    paused_total: Duration,
}

impl RunClock {
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            start,
            paused_at: None,
            paused_total: Duration::ZERO,
        }
    }

    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    /// Wall time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Seconds since the start, on the wall clock of the run.
    pub(crate) fn now_s(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }

    /// Position on the scenario's timeline: wall time minus time spent paused.
    pub(crate) fn timeline_pos(&self) -> Duration {
        let paused_now = self.paused_at.map_or(Duration::ZERO, |p| p.elapsed());
        self.elapsed()
            .saturating_sub(self.paused_total + paused_now)
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    pub(crate) fn pause(&mut self) {
        self.paused_at = Some(Instant::now());
    }

    /// Ends a pause; `false` when the clock was not paused.
    pub(crate) fn resume(&mut self) -> bool {
        match self.paused_at.take() {
            Some(p) => {
                self.paused_total += p.elapsed();
                true
            }
            None => false,
        }
    }

    /// The instant at which the timeline reaches `pos`, if no pause comes first.
    pub(crate) fn instant_of(&self, pos: Duration) -> Instant {
        self.start + self.paused_total + pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_timeline_stands_still_while_paused() {
        let s = Duration::from_secs;
        let mut clock = RunClock::new(Instant::now());
        tokio::time::advance(s(3)).await;
        assert_eq!(clock.timeline_pos(), s(3));
        assert!(!clock.resume(), "not paused");

        clock.pause();
        assert!(clock.is_paused());
        tokio::time::advance(s(5)).await;
        assert_eq!(clock.timeline_pos(), s(3), "paused time does not count");
        assert_eq!(clock.elapsed(), s(8));
        assert!(clock.resume());
        assert!(!clock.is_paused());

        tokio::time::advance(s(1)).await;
        assert_eq!(clock.timeline_pos(), s(4));
        assert_eq!(clock.now_s(), 9.0);
        assert_eq!(clock.instant_of(s(6)), clock.start() + s(11));
    }
}

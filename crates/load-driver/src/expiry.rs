//! Per-lane deadlines without a timer per request: the driver's request timeout and the drain's
//! abandonment, for all of a lane's requests, kept in one queue and served by one timer.
//!
//! A request registers its deadline and its waker once, on its first poll, and then checks two
//! atomics each time it is polled; one that waits in its lane for a place gets its deadline when
//! the lane takes it, and the lane itself times it out (nothing polls it). Requests start in the
//! order they are pushed (a lane starts them first-in first-out) and share one timeout, so
//! deadlines grow along the queue and the expired requests are always a prefix of it: the lane's
//! single sleep waits for the deadline at the front. A tokio timer per request (`tokio::time::timeout`)
//! took a lock, a wheel insert and a wheel removal per request; a `watch` receiver per request, to
//! learn of the drain, registered on a shared waiter list at every poll.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Waker};
use tokio::time::Instant;

/// Why a request must stop waiting for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// Its deadline (send + the driver's request timeout) passed.
    Timeout,
    /// The drain deadline passed while it was in flight.
    Abandoned,
}

#[derive(Debug, Default)]
struct Entry {
    /// Set on the request's first poll.
    deadline: Option<Instant>,
    waker: Option<Waker>,
    done: bool,
}

#[derive(Debug, Default)]
struct Queue {
    /// Sequence number of `entries[0]`.
    base: u64,
    entries: VecDeque<Entry>,
}

/// The deadlines of one lane's requests (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Expiry {
    queue: Mutex<Queue>,
    /// Requests with a sequence number below this have timed out.
    expired_below: AtomicU64,
    abandoned: AtomicBool,
    next_seq: AtomicU64,
}

impl Expiry {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new request, in send order: its sequence number. `deadline` is known up front for a request
    /// that waits in its lane before it starts (its deadline counts from when the lane took it);
    /// `None` for one that registers it on its first poll.
    pub(crate) fn push(&self, deadline: Option<Instant>) -> u64 {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut q = self.queue();
        debug_assert_eq!(q.base + q.entries.len() as u64, seq);
        q.entries.push_back(Entry {
            deadline,
            ..Entry::default()
        });
        seq
    }

    /// Whether request `seq` has timed out (a started one learns it in [`Expiry::poll_expired`]; the
    /// lane asks it for one that waits, which nothing polls).
    pub(crate) fn timed_out(&self, seq: u64) -> bool {
        seq < self.expired_below.load(Ordering::Acquire)
    }

    /// Called by request `seq` each time it is polled and its answer is not there: registers its
    /// deadline and waker the first time (`registered` remembers that), then says whether it has
    /// expired.
    pub(crate) fn poll_expired(
        &self,
        seq: u64,
        deadline: Option<Instant>,
        registered: &mut bool,
        cx: &Context<'_>,
    ) -> Option<Expired> {
        if !*registered {
            *registered = true;
            let mut q = self.queue();
            if let Some(base) = seq.checked_sub(q.base)
                && let Some(e) = q.entries.get_mut(base as usize)
            {
                e.deadline = deadline;
                e.waker = Some(cx.waker().clone());
            }
        }
        if self.abandoned.load(Ordering::Acquire) {
            Some(Expired::Abandoned)
        } else if self.timed_out(seq) {
            Some(Expired::Timeout)
        } else {
            None
        }
    }

    /// Request `seq` has ended (answered or expired): forgets it.
    pub(crate) fn done(&self, seq: u64) {
        let mut q = self.queue();
        if let Some(i) = seq.checked_sub(q.base)
            && let Some(e) = q.entries.get_mut(i as usize)
        {
            e.done = true;
            e.waker = None;
        }
        while q.entries.front().is_some_and(|e| e.done) {
            q.entries.pop_front();
            q.base += 1;
        }
    }

    /// Expires (and wakes) every request whose deadline is at or before `now`; returns when to
    /// look again: the front request's deadline, or `now + timeout` when the front request has not
    /// started yet (its deadline will be later than that), or `None` when nothing is in flight.
    pub(crate) fn sweep(&self, now: Instant, timeout: std::time::Duration) -> Option<Instant> {
        let mut q = self.queue();
        loop {
            let base = q.base;
            let front = q.entries.front_mut()?;
            match front.deadline {
                _ if front.done => {}
                Some(at) if at <= now => {
                    self.expired_below.store(base + 1, Ordering::Release);
                    if let Some(w) = front.waker.take() {
                        w.wake();
                    }
                }
                Some(at) => return Some(at),
                None => return Some(crate::driver::at_or_far(now, timeout)),
            }
            q.entries.pop_front();
            q.base += 1;
        }
    }

    /// The drain deadline has passed: every request still in flight is abandoned.
    pub(crate) fn abandon_all(&self) {
        self.abandoned.store(true, Ordering::Release);
        let mut q = self.queue();
        for e in &mut q.entries {
            if let Some(w) = e.waker.take() {
                w.wake();
            }
        }
    }

    /// Requests not yet forgotten (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_expire_a_prefix_and_the_queue_forgets_finished_requests() {
        let t = Duration::from_millis(100);
        let e = Expiry::default();
        let start = Instant::now();
        let (a, b, c) = (e.push(None), e.push(None), e.push(None));
        let mut reg = [false; 3];
        for (i, seq) in [a, b, c].into_iter().enumerate() {
            let at = start + t + Duration::from_millis(10 * i as u64);
            assert_eq!(e.poll_expired(seq, Some(at), &mut reg[i], &cx()), None);
        }
        // Nothing is due yet: look again at the front's deadline.
        assert_eq!(e.sweep(start, t), Some(start + t));
        // b answers; a is due at start + t, c is not.
        e.done(b);
        assert_eq!(
            e.sweep(start + t + Duration::from_millis(5), t),
            Some(start + t + Duration::from_millis(20))
        );
        assert_eq!(
            e.poll_expired(a, None, &mut reg[0], &cx()),
            Some(Expired::Timeout)
        );
        assert_eq!(e.poll_expired(c, None, &mut reg[2], &cx()), None);
        e.done(a);
        e.done(c);
        assert_eq!(e.len(), 0);
        assert_eq!(e.sweep(start + t * 2, t), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_request_times_out_from_when_it_was_taken() {
        let t = Duration::from_millis(100);
        let e = Expiry::default();
        let start = Instant::now();
        let a = e.push(None);
        let mut reg = false;
        assert_eq!(e.poll_expired(a, Some(start + t), &mut reg, &cx()), None);
        // b waits in its lane, never polled: its deadline is known from the start.
        let b = e.push(Some(start + t + Duration::from_millis(1)));
        e.done(a);
        assert_eq!(
            e.sweep(start, t),
            Some(start + t + Duration::from_millis(1))
        );
        assert!(!e.timed_out(b));
        assert_eq!(e.sweep(start + t * 2, t), None);
        assert!(e.timed_out(b));
    }

    #[tokio::test(start_paused = true)]
    async fn abandon_reaches_every_request_and_an_unstarted_front_delays_the_sweep() {
        let t = Duration::from_secs(1);
        let e = Expiry::default();
        let now = Instant::now();
        let (a, b) = (e.push(None), e.push(None));
        // a has not been polled yet: its deadline will be at least now + t.
        assert_eq!(e.sweep(now, t), Some(now + t));
        let mut reg = false;
        assert_eq!(e.poll_expired(b, None, &mut reg, &cx()), None);
        e.abandon_all();
        let mut reg_a = false;
        assert_eq!(
            e.poll_expired(a, None, &mut reg_a, &cx()),
            Some(Expired::Abandoned)
        );
        assert_eq!(
            e.poll_expired(b, None, &mut reg, &cx()),
            Some(Expired::Abandoned)
        );
    }
}

//! [`Slots`]: a lane's in-flight requests, polled when woken, in slots reused from request to
//! request. What `FuturesUnordered` does for a lane, without its heap task per future: that task's
//! allocation, reference counting and the copy of the future into it were about 5% of a request's
//! instructions (callgrind, `docs/benchmarks.md`). Here each slot's box and waker are made once and
//! a new request is written into a free slot in place.
//!
//! A waker pushes its slot's index on a shared ready list (a duplicate or stale index costs one
//! spurious poll, never a lost one) and wakes the lane; [`Slots::poll_each`] polls the listed slots
//! and hands over every output. It yields after [`POLL_BUDGET`] polls without an output, as
//! `FuturesUnordered` does, so a future that keeps waking itself cannot hold the lane's thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// Polls without an output before [`Slots::poll_each`] gives the thread back.
const POLL_BUDGET: usize = 32;

pub(crate) struct Slots<F> {
    /// Boxed once per slot, so that a future never moves once polled; `None` when free.
    futs: Vec<Pin<Box<Option<F>>>>,
    wakers: Vec<Waker>,
    free: Vec<usize>,
    live: usize,
    /// Taken from the shared list in one swap, then polled from here.
    polling: Vec<usize>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    ready: Mutex<Vec<usize>>,
    lane: AtomicWaker,
}

struct SlotWaker {
    slot: usize,
    shared: Arc<Shared>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared
            .ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.slot);
        self.shared.lane.wake();
    }
}

impl<F: Future> Slots<F> {
    pub(crate) fn new() -> Self {
        Self {
            futs: Vec::new(),
            wakers: Vec::new(),
            free: Vec::new(),
            live: 0,
            polling: Vec::new(),
            shared: Arc::default(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The futures not yet completed.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Adds a future; it is polled by the next [`Slots::poll_each`].
    ///
    /// The future is the one `make` returns, made where it is kept when a slot is free: a request's
    /// future is about a kilobyte, and made first then moved in, it was copied once more.
    pub(crate) fn push(&mut self, make: impl FnOnce() -> F) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.futs[slot].set(Some(make()));
                slot
            }
            None => {
                let slot = self.futs.len();
                self.futs.push(Box::pin(Some(make())));
                self.wakers.push(Waker::from(Arc::new(SlotWaker {
                    slot,
                    shared: self.shared.clone(),
                })));
                slot
            }
        };
        self.live += 1;
        self.polling.push(slot);
    }

    /// Polls the woken futures and hands each output to `each`: `Ready(Some(n))` once `n > 0`
    /// outputs came out (every woken future polled, or the budget spent), `Pending` when none did,
    /// `Ready(None)` when no future is left. Draining every completion in one call saves the caller
    /// a round of its own polling (a lane's `select!` and channel poll) per output.
    pub(crate) fn poll_each(
        &mut self,
        cx: &mut Context<'_>,
        mut each: impl FnMut(F::Output),
    ) -> Poll<Option<usize>> {
        if self.live == 0 {
            return Poll::Ready(None);
        }
        // Before taking the list: a wake after the swap below then wakes this task again.
        self.shared.lane.register(cx.waker());
        let mut budget = POLL_BUDGET;
        let mut outputs = 0;
        loop {
            if self.polling.is_empty() {
                let mut ready = self
                    .shared
                    .ready
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                std::mem::swap(&mut *ready, &mut self.polling);
                if self.polling.is_empty() {
                    return if outputs > 0 {
                        Poll::Ready(Some(outputs))
                    } else {
                        Poll::Pending
                    };
                }
            }
            while let Some(slot) = self.polling.pop() {
                // A stale index (the slot's future already completed): nothing to poll.
                let Some(fut) = self.futs[slot].as_mut().as_pin_mut() else {
                    continue;
                };
                if let Poll::Ready(out) = fut.poll(&mut Context::from_waker(&self.wakers[slot])) {
                    self.futs[slot].set(None);
                    self.free.push(slot);
                    self.live -= 1;
                    outputs += 1;
                    each(out);
                    continue;
                }
                budget -= 1;
                if budget == 0 {
                    cx.waker().wake_by_ref();
                    return if outputs > 0 {
                        Poll::Ready(Some(outputs))
                    } else {
                        Poll::Pending
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn every_output_comes_out_and_slots_are_reused() {
        let mut slots = Slots::new();
        let mut outputs = Vec::new();
        // Three rounds of 100 sleeps of different lengths, at most 100 at once.
        for round in 0..3u64 {
            for i in 0..100u64 {
                slots.push(|| async move {
                    tokio::time::sleep(Duration::from_millis((i * 7919) % 50)).await;
                    round * 100 + i
                });
            }
            while std::future::poll_fn(|cx| slots.poll_each(cx, |out| outputs.push(out)))
                .await
                .is_some()
            {}
            assert!(slots.is_empty());
        }
        outputs.sort_unstable();
        assert_eq!(outputs, (0..300).collect::<Vec<_>>());
        assert_eq!(slots.futs.len(), 100, "slots are reused, not added");
    }

    /// Every output that is ready comes out of one call, not one call each.
    #[test]
    fn one_poll_drains_every_ready_output() {
        let mut slots = Slots::new();
        for i in 0..3u32 {
            slots.push(|| async move { i });
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut got = Vec::new();
        assert_eq!(
            slots.poll_each(&mut cx, |out| got.push(out)),
            Poll::Ready(Some(3))
        );
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(slots.poll_each(&mut cx, |_| {}), Poll::Ready(None));
    }

    /// A future that wakes itself at every poll and never ends does not keep `poll_each` busy: it
    /// gives the thread back after the budget, and the other future still completes.
    #[tokio::test]
    async fn a_future_that_keeps_waking_itself_does_not_hold_the_thread() {
        let mut slots: Slots<Pin<Box<dyn Future<Output = u32>>>> = Slots::new();
        slots.push(|| {
            Box::pin(std::future::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::Pending
            }))
        });
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(slots.poll_each(&mut cx, |_| {}).is_pending());
        slots.push(|| Box::pin(async { 7 }));
        let mut got = Vec::new();
        for _ in 0..10 {
            if slots.poll_each(&mut cx, |out| got.push(out)).is_ready() {
                break;
            }
        }
        assert_eq!(got, [7]);
        assert!(!slots.is_empty(), "the endless one is still there");
    }

    /// Wakes from another thread (as the I/O driver of a multi-thread runtime does) are seen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wakes_from_other_threads_are_not_lost() {
        let mut slots = Slots::new();
        let mut senders = Vec::new();
        for i in 0..64u32 {
            let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
            senders.push(tx);
            slots.push(|| async move { rx.await.unwrap_or(u32::MAX) + i });
        }
        let sending = std::thread::spawn(move || {
            for (i, tx) in senders.into_iter().enumerate() {
                let _ = tx.send(i as u32);
            }
        });
        let mut sum = 0u64;
        while std::future::poll_fn(|cx| slots.poll_each(cx, |out| sum += u64::from(out)))
            .await
            .is_some()
        {}
        sending.join().unwrap();
        assert_eq!(sum, (0..64u64).map(|i| 2 * i).sum::<u64>());
    }
}

//! The queue through which a shard hands its completions to whoever folds them into the shard's
//! tally: a fixed ring of slots, one writer (the shard) and readers that take the shard's cell lock.
//!
//! Why: a lock per `record` costs two atomic read-modify-writes even uncontended. Here the writer
//! only does plain (relaxed) stores into the slot and a release store of `head`; a reader holding the
//! cell lock reads `head` with acquire, folds the slots from `tail` to `head` and moves `tail`. The
//! writer itself drains (under the lock) when the ring is full, so the lock is taken once per
//! [`RING`] completions; the collector drains at every tick, so a tick still sees every completion
//! recorded before it. Everything is an atomic: no `unsafe`, no torn reads.
//!
//! A slot is [`SLOT_WORDS`] words: latency µs, service time µs, amount (f64 bits), a packed word
//! (pattern, outcome, agent count) and up to [`INLINE_AGENTS`] packed agent timings (an index into
//! the shard's agent-name table, ok, duration µs). Completions with more agents, or agents beyond
//! the name table, take the locked path instead.

use crate::tally::Sample;
use models::{Decision, ErrorKind};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Slots per shard (2 KiB).
pub(crate) const RING: u64 = 32;
/// Agent timings carried in a slot.
pub(crate) const INLINE_AGENTS: usize = 4;
/// Words per slot: four for the sample, one per inline agent.
pub(crate) const SLOT_WORDS: usize = 4 + INLINE_AGENTS;
/// Entries of a shard's agent-name table (the index is 8 bits).
pub(crate) const MAX_NAMES: usize = 255;

const DURATION_BITS: u32 = 55;
const DURATION_MASK: u64 = (1 << DURATION_BITS) - 1;

/// An agent timing packed into one word: name index (8 bits), ok (1 bit), µs (55 bits, clamped).
pub(crate) fn pack_agent(index: usize, ok: bool, duration_us: u64) -> u64 {
    ((index as u64) << 56) | (u64::from(ok) << DURATION_BITS) | duration_us.min(DURATION_MASK)
}

pub(crate) fn unpack_agent(word: u64) -> (usize, bool, u64) {
    (
        (word >> 56) as usize,
        (word >> DURATION_BITS) & 1 == 1,
        word & DURATION_MASK,
    )
}

/// Outcome code: 0..=2 a decision, 8 + k the error kind k.
fn outcome_code(outcome: Result<Decision, ErrorKind>) -> u64 {
    match outcome {
        Ok(Decision::Approve) => 0,
        Ok(Decision::Review) => 1,
        Ok(Decision::Decline) => 2,
        Err(kind) => 8 + kind as u64,
    }
}

fn outcome_of(code: u64) -> Result<Decision, ErrorKind> {
    match code {
        0 => Ok(Decision::Approve),
        1 => Ok(Decision::Review),
        2 => Ok(Decision::Decline),
        // Only `outcome_code` writes codes: 8 + a valid index.
        k => Err(ErrorKind::ALL[(k as usize - 8).min(ErrorKind::ALL.len() - 1)]),
    }
}

type Slot = [AtomicU64; SLOT_WORDS];

pub(crate) struct Ring {
    slots: Box<[Slot; RING as usize]>,
    /// Slots written so far (only the writer stores it).
    head: AtomicU64,
    /// Slots folded so far (only stored under the cell lock).
    tail: AtomicU64,
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("head", &self.head.load(Ordering::Relaxed))
            .field("tail", &self.tail.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Ring {
    pub fn new() -> Self {
        Self {
            slots: Box::new(std::array::from_fn(|_| {
                std::array::from_fn(|_| AtomicU64::new(0))
            })),
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<[Slot; RING as usize]>()
    }

    /// Writes slot number `head` and publishes it. The writer must know that slot `head - RING` has
    /// been folded (it tracks that by draining itself under the lock when the ring is full).
    #[inline]
    pub fn push(&self, head: u64, s: &Sample, agents: &[u64]) {
        let w = &self.slots[(head % RING) as usize];
        let meta = u64::from(s.pattern)
            | (outcome_code(s.outcome) << 8)
            | ((agents.len().min(INLINE_AGENTS) as u64) << 16);
        w[0].store(s.latency_us, Ordering::Relaxed);
        w[1].store(s.service_us, Ordering::Relaxed);
        w[2].store(s.amount.to_bits(), Ordering::Relaxed);
        w[3].store(meta, Ordering::Relaxed);
        if !agents.is_empty() {
            for (slot, a) in w[4..].iter().zip(agents) {
                slot.store(*a, Ordering::Relaxed);
            }
        }
        self.head.store(head + 1, Ordering::Release);
    }

    /// Folds every published slot not folded yet. Call only with the owning cell's lock held (one
    /// reader at a time). `each` gets the sample and its packed agent words.
    pub fn drain(&self, mut each: impl FnMut(&Sample, &[u64])) {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        let mut agents = [0u64; INLINE_AGENTS];
        for i in tail..head {
            let w = &self.slots[(i % RING) as usize];
            let meta = w[3].load(Ordering::Relaxed);
            let sample = Sample {
                latency_us: w[0].load(Ordering::Relaxed),
                service_us: w[1].load(Ordering::Relaxed),
                amount: f64::from_bits(w[2].load(Ordering::Relaxed)),
                pattern: (meta & 0xff) as u8,
                outcome: outcome_of((meta >> 8) & 0xff),
            };
            let n = ((meta >> 16) as usize & 0xff).min(INLINE_AGENTS);
            for (a, word) in agents.iter_mut().zip(&w[4..4 + n]) {
                *a = word.load(Ordering::Relaxed);
            }
            each(&sample, &agents[..n]);
        }
        self.tail.store(head, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip() {
        let ring = Ring::new();
        let mut pushed = vec![];
        for i in 0..RING {
            let s = Sample {
                latency_us: i * 3,
                service_us: i,
                amount: i as f64 * 0.25,
                pattern: (i % 16) as u8,
                outcome: match i % 4 {
                    0 => Ok(Decision::Approve),
                    1 => Ok(Decision::Decline),
                    2 => Ok(Decision::Review),
                    _ => Err(ErrorKind::ALL[(i as usize / 4) % ErrorKind::ALL.len()]),
                },
            };
            let agents: Vec<u64> = (0..(i as usize % 5))
                .map(|j| pack_agent(j * 50, j % 2 == 0, i * 1000 + j as u64))
                .collect();
            ring.push(i, &s, &agents);
            pushed.push((s, agents));
        }
        let mut got = vec![];
        ring.drain(|s, a| got.push((*s, a.to_vec())));
        assert_eq!(got, pushed);
        let mut again = 0;
        ring.drain(|_, _| again += 1);
        assert_eq!(again, 0, "a drained slot is folded once");
        assert_eq!(
            unpack_agent(pack_agent(254, true, u64::MAX)),
            (254, true, DURATION_MASK)
        );
    }
}

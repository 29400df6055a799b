//! Block plans: which index of the stream is legit, fraud (and in which episode) or an edge case.
//!
//! The stream is cut into blocks of [`BLOCK`] indices. Block `b`'s *layout* (its fraud episodes and
//! their positions) depends only on `(seed, b)`. Episodes may run up to [`SPILL`] indices into block
//! `b + 1`. To keep layouts independent, block `b` places episodes only on indices of parity `b % 2`
//! in its first `SPILL` slots and in the next block's first `SPILL` slots; elsewhere on any index. So the
//! spill of `b - 1` (parity `(b - 1) % 2`) and the episodes of `b` never meet. A block's *plan* is then
//! its own layout plus the spill of the previous block's layout, plus edge cases on free slots: it needs
//! two layouts and nothing else, which is why `at(k)` costs the same for every `k`.
//!
//! Customers are split into [`STRIPES`] stripes (`id % STRIPES`). Block `b`'s episodes take distinct
//! customers of stripe `b % STRIPES`; legitimate traffic in block `b` avoids stripes `b` and `b - 1`. So
//! while an episode runs, its card carries nothing else, and each pattern stays exactly what it claims.

use crate::rng::{Domain, SplitMix64};
use models::{EdgeKind, FraudPattern, MixSpec};

/// Indices per block.
pub const BLOCK: usize = 256;
/// How far an episode may run into the next block.
pub const SPILL: usize = 64;
/// Customer stripes (see the module docs).
pub const STRIPES: u64 = 16;

const REGION: usize = BLOCK + SPILL;

/// One fraud episode: a pattern played on one customer's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Episode {
    pub block: u64,
    pub index: u16,
    pub pattern: FraudPattern,
    pub customer: u32,
    pub len: u8,
}

impl Episode {
    /// The seed index of the episode's shared decisions (country, device, card).
    pub(crate) fn key(&self) -> u64 {
        self.block
            .wrapping_mul(1024)
            .wrapping_add(u64::from(self.index))
    }
}

/// What one index of the stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Legit,
    /// The legitimate transaction at home that an impossible-travel episode starts from.
    Anchor(Episode),
    Fraud {
        episode: Episode,
        nth: u8,
    },
    Edge(EdgeKind),
}

/// Episode weights, chosen so that each pattern gets a similar share of fraud transactions.
const PATTERNS: [(FraudPattern, u32, u8, u8); 6] = [
    (FraudPattern::CardTesting, 2, 3, 6),
    (FraudPattern::AccountTakeover, 4, 1, 3),
    (FraudPattern::Velocity, 1, 6, 10),
    (FraudPattern::ImpossibleTravel, 6, 1, 1),
    (FraudPattern::HighValueAnomaly, 6, 1, 1),
    (FraudPattern::RiskyMerchant, 5, 1, 2),
];
const PATTERN_WEIGHTS: [u32; 6] = [2, 4, 1, 6, 6, 5];
/// Patterns of one transaction at least, to fill the last fraud slots of a block.
const SINGLE_PATTERNS: [usize; 3] = [1, 4, 5];

/// Block `b`'s own episodes: positions in `0..BLOCK + SPILL` relative to the block start.
#[derive(Debug)]
pub(crate) struct Layout {
    placed: [(u16, Slot); BLOCK],
    count: usize,
    n_edge: usize,
}

fn stochastic_round(x: f64, rng: &mut SplitMix64) -> usize {
    let floor = x.floor();
    let extra = usize::from(rng.unit() < x - floor);
    floor as usize + extra
}

/// Customers in stripe `s` of a population of `n`.
fn stripe_len(n: u64, s: u64) -> u64 {
    (n + STRIPES - 1 - s) / STRIPES
}

/// Whether legitimate traffic of block `block` may use customer `c`.
pub(crate) fn legit_may_use(block: u64, c: u64) -> bool {
    let s = c % STRIPES;
    s != block % STRIPES && s != block.wrapping_sub(1) % STRIPES
}

/// A customer that legitimate traffic in `block` may use.
pub(crate) fn legit_customer(block: u64, n: u64, rng: &mut SplitMix64) -> u64 {
    let own = block % STRIPES;
    let prev = block.wrapping_sub(1) % STRIPES;
    let mut s = rng.below(STRIPES - 2);
    // Map 0..STRIPES-2 onto the stripes other than `own` and `prev`.
    for forbidden in if own < prev { [own, prev] } else { [prev, own] } {
        if s >= forbidden {
            s += 1;
        }
    }
    s + STRIPES * rng.below(stripe_len(n, s))
}

pub(crate) fn layout(seed: u64, block: u64, mix: &MixSpec, customers: u64) -> Layout {
    let mut rng = SplitMix64::for_index(seed, Domain::Layout, block);
    let n_fraud = stochastic_round(mix.fraud * BLOCK as f64, &mut rng).min(BLOCK);
    let n_edge = stochastic_round(mix.edge * BLOCK as f64, &mut rng).min(BLOCK - n_fraud);
    let legit_budget = BLOCK - n_fraud - n_edge;
    let parity = (block % 2) as usize;
    let allowed = |x: usize| x % 2 == parity || (SPILL..BLOCK).contains(&x);
    let mut occupied = [false; REGION];
    let mut out = Layout {
        placed: [(0, Slot::Legit); BLOCK],
        count: 0,
        n_edge,
    };
    let stripe = block % STRIPES;
    let stripe_n = stripe_len(customers, stripe);
    let mut used = [0u32; BLOCK];
    let mut used_n = 0;
    let mut anchors = 0;
    let mut remaining = n_fraud;
    let mut index = 0u16;
    while remaining > 0 {
        let mut p = rng.weighted(&PATTERN_WEIGHTS);
        if usize::from(PATTERNS[p].2) > remaining {
            p = SINGLE_PATTERNS[rng.index(SINGLE_PATTERNS.len())];
        }
        if PATTERNS[p].0 == FraudPattern::ImpossibleTravel && anchors >= legit_budget {
            p = 4; // high-value anomaly: no legitimate anchor left to pair with
        }
        let (pattern, _, lo, hi) = PATTERNS[p];
        let len = (usize::from(lo) + rng.index(usize::from(hi - lo) + 1)).min(remaining);
        // A customer of this block's stripe that no other episode of the block uses.
        let mut pick = rng.below(stripe_n);
        let mut tries = 0;
        while used[..used_n].contains(&((pick * STRIPES + stripe) as u32)) {
            pick = if tries < 8 {
                rng.below(stripe_n)
            } else {
                (pick + 1) % stripe_n
            };
            tries += 1;
        }
        let customer = (pick * STRIPES + stripe) as u32;
        used[used_n] = customer;
        used_n += 1;
        let episode = Episode {
            block,
            index,
            pattern,
            customer,
            len: len as u8,
        };
        let mut cursor = rng.index(BLOCK);
        let with_anchor = pattern == FraudPattern::ImpossibleTravel;
        for i in 0..len + usize::from(with_anchor) {
            let Some(pos) = (cursor..REGION)
                .chain(0..cursor)
                .find(|&x| allowed(x) && !occupied[x])
            else {
                break; // unreachable: the allowed positions number BLOCK, more than we place
            };
            occupied[pos] = true;
            let slot = if with_anchor && i == 0 {
                Slot::Anchor(episode)
            } else {
                Slot::Fraud {
                    episode,
                    nth: (i - usize::from(with_anchor)) as u8,
                }
            };
            if out.count < BLOCK {
                out.placed[out.count] = (pos as u16, slot);
                out.count += 1;
            }
            cursor = pos + 1 + rng.index(4);
        }
        anchors += usize::from(with_anchor);
        remaining -= len;
        index += 1;
    }
    out
}

/// Everything at the indices of one block.
#[derive(Debug)]
pub(crate) struct BlockPlan {
    pub block: u64,
    pub slots: [Slot; BLOCK],
    /// This block's own layout, kept so that the next block (the iterator's usual step) reuses it.
    own: Layout,
}

impl BlockPlan {
    pub(crate) fn empty() -> Self {
        Self {
            block: u64::MAX,
            slots: [Slot::Legit; BLOCK],
            own: Layout {
                placed: [(0, Slot::Legit); BLOCK],
                count: 0,
                n_edge: 0,
            },
        }
    }

    /// Rebuilds this plan for `block`.
    pub(crate) fn fill(&mut self, seed: u64, block: u64, mix: &MixSpec, customers: u64) {
        let follows = block > 0 && self.block == block - 1;
        let own = layout(seed, block, mix, customers);
        let prev = if follows {
            Some(std::mem::replace(&mut self.own, own))
        } else {
            self.own = own;
            (block > 0).then(|| layout(seed, block - 1, mix, customers))
        };
        self.block = block;
        self.slots = [Slot::Legit; BLOCK];
        if let Some(prev) = prev {
            for &(pos, slot) in &prev.placed[..prev.count] {
                if let Some(rel) = (pos as usize).checked_sub(BLOCK) {
                    self.slots[rel] = slot;
                }
            }
        }
        for &(pos, slot) in &self.own.placed[..self.own.count] {
            if (pos as usize) < BLOCK {
                self.slots[pos as usize] = slot;
            }
        }
        let free = self.slots.iter().filter(|s| **s == Slot::Legit).count();
        let mut rng = SplitMix64::for_index(seed, Domain::Plan, block);
        for _ in 0..self.own.n_edge.min(free) {
            let start = rng.index(BLOCK);
            let kind = EdgeKind::ALL[rng.index(EdgeKind::ALL.len())];
            if let Some(pos) = (start..BLOCK)
                .chain(0..start)
                .find(|&x| self.slots[x] == Slot::Legit)
            {
                self.slots[pos] = Slot::Edge(kind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_of_neighbouring_blocks_never_collide() {
        let mix = MixSpec::default();
        for b in 1..200u64 {
            let prev = layout(9, b - 1, &mix, 50_000);
            let own = layout(9, b, &mix, 50_000);
            let spill: Vec<usize> = prev.placed[..prev.count]
                .iter()
                .filter_map(|p| (p.0 as usize).checked_sub(BLOCK))
                .collect();
            for &(pos, _) in &own.placed[..own.count] {
                assert!(
                    !spill.contains(&(pos as usize)),
                    "block {b}: slot {pos} used twice"
                );
            }
        }
    }

    #[test]
    fn a_plan_reached_step_by_step_equals_one_built_directly() {
        let mix = MixSpec::default();
        let mut stepping = BlockPlan::empty();
        for b in 0..30 {
            stepping.fill(5, b, &mix, 50_000);
            let mut direct = BlockPlan::empty();
            direct.fill(5, b, &mix, 50_000);
            assert_eq!(stepping.slots, direct.slots, "block {b}");
        }
    }

    #[test]
    fn high_fraud_shares_still_fit() {
        let mix = MixSpec {
            legit: 0.0,
            fraud: 1.0,
            edge: 0.0,
        };
        let mut plan = BlockPlan::empty();
        for b in 0..20 {
            plan.fill(1, b, &mix, 50_000);
            let fraud = plan
                .slots
                .iter()
                .filter(|s| matches!(s, Slot::Fraud { .. }))
                .count();
            assert!(fraud >= BLOCK - SPILL, "block {b}: {fraud}");
            assert!(
                !plan.slots.iter().any(|s| matches!(s, Slot::Anchor(_))),
                "no legit budget for anchors"
            );
        }
    }

    #[test]
    fn episode_customers_are_distinct_and_in_the_block_stripe() {
        let own = layout(
            3,
            37,
            &MixSpec {
                legit: 0.2,
                fraud: 0.8,
                edge: 0.0,
            },
            4096,
        );
        let mut customers: Vec<(u16, u32)> = own.placed[..own.count]
            .iter()
            .filter_map(|(_, s)| match s {
                Slot::Fraud { episode, .. } | Slot::Anchor(episode) => {
                    Some((episode.index, episode.customer))
                }
                _ => None,
            })
            .collect();
        customers.sort();
        customers.dedup();
        let mut ids: Vec<u32> = customers.iter().map(|c| c.1).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), customers.len());
        assert!(
            ids.iter()
                .all(|&c| u64::from(c) % STRIPES == 37 % STRIPES && c < 4096)
        );
    }

    #[test]
    fn legit_customers_avoid_the_episode_stripes() {
        let mut rng = SplitMix64::for_index(0, Domain::Txn, 0);
        for block in 0..40 {
            for _ in 0..200 {
                let c = legit_customer(block, 5000, &mut rng);
                assert!(c < 5000 && legit_may_use(block, c), "block {block}: {c}");
            }
        }
    }
}

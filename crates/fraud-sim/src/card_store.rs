//! Per-card state in a sharded map: what the pattern detector and the risk assessor remember of each card.

use models::{CardId, CountryCode, DeviceId, MerchantId};
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::{Mutex, PoisonError};

/// Recent transactions kept per card for velocity and card-testing windows.
pub(crate) const RECENT_CAP: usize = 24;
const DEVICES_CAP: usize = 8;
const COUNTRIES_CAP: usize = 8;
const IPS_CAP: usize = 8;
const MERCHANTS_CAP: usize = 48;

/// One recent transaction of a card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recent {
    /// Transaction time, microseconds since the epoch.
    pub ts: i64,
    pub amount_usd: f64,
    pub device: Option<DeviceId>,
    pub ip: Option<Ipv4Addr>,
    pub lat: f64,
    pub lon: f64,
    pub country: CountryCode,
}

/// Welford's running mean and variance, here of ln(1 + amount in USD).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RunningStats {
    pub n: u32,
    pub mean: f64,
    m2: f64,
}

impl RunningStats {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / f64::from(self.n);
        self.m2 += d * (x - self.mean);
    }

    #[cfg(test)]
    pub fn std_dev(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / f64::from(self.n - 1)).sqrt()
        }
    }
}

/// A small insertion-ordered set that forgets its oldest member when full.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recall<T> {
    items: VecDeque<T>,
    cap: usize,
}

/// Makes room for one more item in a deque bounded by `cap`. A card's deques start empty (no
/// allocation) and grow by doubling up to exactly `cap`, never past it: allocating every card's
/// room for its cap at once made a card seen once cost as much as a busy one (about 2 KB), and the
/// store's memory kept climbing for hours as rarely active customers' cards were first seen (the
/// 2-hour soak). Growing by plain doubling would leave full sets with up to twice the room they use
/// (48 merchants in a deque of 64).
fn room_for_one<T>(items: &mut VecDeque<T>, cap: usize) {
    if items.len() == items.capacity() && items.len() < cap {
        let want = (items.capacity() * 2).max(4).min(cap);
        items.reserve_exact(want - items.len());
    }
}

impl<T: PartialEq> Recall<T> {
    fn new(cap: usize) -> Self {
        Self {
            items: VecDeque::new(),
            cap,
        }
    }

    /// Empty, with room for exactly `cap` items: it never allocates again.
    fn with_full_room(cap: usize) -> Self {
        let mut items = VecDeque::new();
        items.reserve_exact(cap);
        Self { items, cap }
    }

    pub fn contains(&self, x: &T) -> bool {
        self.items.contains(x)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `x` (or refreshes it as the newest); true when it was not known.
    pub fn remember(&mut self, x: T) -> bool {
        if let Some(i) = self.items.iter().position(|y| *y == x) {
            if let Some(y) = self.items.remove(i) {
                self.items.push_back(y);
            }
            return false;
        }
        if self.items.len() == self.cap {
            self.items.pop_front();
        } else {
            room_for_one(&mut self.items, self.cap);
        }
        self.items.push_back(x);
        true
    }
}

/// Everything remembered of one card. The pattern detector records every transaction it sees in
/// `recent`; the rest is the card's profile, learned after the decision from approved transactions only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CardState {
    /// Recent transactions, oldest first, ordered by transaction time.
    pub recent: VecDeque<Recent>,
    pub devices: Recall<DeviceId>,
    pub ips: Recall<Ipv4Addr>,
    pub countries: Recall<CountryCode>,
    pub merchants: Recall<MerchantId>,
    pub amounts: RunningStats,
    /// A reviewed transaction not learned (yet): its time, country and network. If they come back
    /// later, they are the cardholder's.
    pub pending: Option<(i64, CountryCode, Option<Ipv4Addr>)>,
    /// Transactions the profile learned from.
    pub profiled: u32,
}

impl Default for CardState {
    fn default() -> Self {
        Self {
            recent: VecDeque::new(),
            devices: Recall::new(DEVICES_CAP),
            ips: Recall::new(IPS_CAP),
            countries: Recall::new(COUNTRIES_CAP),
            merchants: Recall::new(MERCHANTS_CAP),
            amounts: RunningStats::default(),
            pending: None,
            profiled: 0,
        }
    }
}

impl CardState {
    /// An empty state with room for every cap already allocated, so it never allocates again: what
    /// [`CardStore::reserve`] gives each card of a known population.
    pub fn with_full_room() -> Self {
        let mut recent = VecDeque::new();
        recent.reserve_exact(RECENT_CAP);
        Self {
            recent,
            devices: Recall::with_full_room(DEVICES_CAP),
            ips: Recall::with_full_room(IPS_CAP),
            countries: Recall::with_full_room(COUNTRIES_CAP),
            merchants: Recall::with_full_room(MERCHANTS_CAP),
            ..Self::default()
        }
    }

    /// True once any transaction of the card was recorded or learned.
    fn has_seen_any(&self) -> bool {
        !self.recent.is_empty() || self.profiled > 0 || self.amounts.n > 0 || self.pending.is_some()
    }

    /// Inserts a transaction in time order (requests may arrive out of order), keeping the newest.
    /// The oldest goes *before* the insert when full: inserting first made a full deque of 24 grow
    /// to 48 for a moment, and keep that capacity, doubling every card's memory once it had seen
    /// 25 transactions (a soak's RSS climbed for half an hour until every card had).
    pub fn push_recent(&mut self, r: Recent) {
        let at = self
            .recent
            .iter()
            .rposition(|x| x.ts <= r.ts)
            .map_or(0, |i| i + 1);
        if self.recent.len() < RECENT_CAP {
            room_for_one(&mut self.recent, RECENT_CAP);
            self.recent.insert(at, r);
        } else if at > 0 {
            self.recent.pop_front();
            self.recent.insert(at - 1, r);
        }
        // Full and older than everything kept: it would be the one dropped.
    }
}

/// Card states behind `shards` mutexes, a card's shard chosen by a hash of its id.
///
/// States are boxed: a hash table keeps room for up to twice its entries, and with states inline
/// (240 bytes each) the 64 tables doubling together (at 896 cards a shard: 1,024 buckets to 2,048)
/// added about 16 MiB in one step, most of it empty room; a soak's RSS jumped that way well after
/// warm-up. Boxed, the room costs 16 bytes a bucket and a state is allocated once, when its card
/// is first seen.
#[derive(Debug)]
pub(crate) struct CardStore {
    shards: Vec<Mutex<HashMap<CardId, Box<CardState>>>>,
    cards_per_shard: usize,
}

impl CardStore {
    pub fn new(shards: usize, cards_per_shard: usize) -> Self {
        Self {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            cards_per_shard,
        }
    }

    /// Allocates, up front, the state of every card in `cards` (at most `cards_per_shard` a shard,
    /// the first ones kept) with room for all it will ever hold, and each shard's table for them.
    /// Why: a lazily grown store is bounded by the population but fills for hours, as rarely used
    /// cards are first seen and busy ones fill their windows (a 2-hour soak's RSS rose 34% after
    /// warm-up). With the population's cards reserved, the store's memory is set before traffic and
    /// stays flat by construction. Cards outside `cards` are still created when first seen.
    /// Returns the number of cards reserved.
    pub fn reserve(&self, cards: impl IntoIterator<Item = CardId>) -> usize {
        let mut per_shard: Vec<Vec<CardId>> = vec![Vec::new(); self.shards.len()];
        for card in cards {
            let ids = &mut per_shard[self.shard_of(card)];
            if ids.len() < self.cards_per_shard {
                ids.push(card);
            }
        }
        let mut reserved = 0;
        for (shard, ids) in self.shards.iter().zip(per_shard) {
            let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let new = ids.iter().filter(|id| !map.contains_key(id)).count();
            map.reserve(new);
            for id in ids {
                if map.len() >= self.cards_per_shard {
                    break;
                }
                map.entry(id).or_insert_with(|| {
                    reserved += 1;
                    Box::new(CardState::with_full_room())
                });
            }
        }
        reserved
    }

    fn shard_of(&self, card: CardId) -> usize {
        // Fibonacci hashing spreads sequential ids over the shards.
        let h = card.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        (h as usize) % self.shards.len()
    }

    /// Runs `f` on the card's state (created empty if new) under its shard's lock. Keep `f` short.
    pub fn with_card<R>(&self, card: CardId, f: impl FnOnce(&mut CardState) -> R) -> R {
        let shard = &self.shards[self.shard_of(card)];
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.cards_per_shard
            && !map.contains_key(&card)
            && let Some(victim) = map.keys().next().copied()
        {
            map.remove(&victim);
        }
        f(map.entry(card).or_default())
    }

    /// Cards with a state now, seen or only reserved.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Cards the detector has seen a transaction of (in traffic or history): a reserved state that
    /// has seen none is not counted.
    pub fn seen(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let map = s.lock().unwrap_or_else(PoisonError::into_inner);
                map.values().filter(|c| c.has_seen_any()).count()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_match_the_textbook() {
        let mut s = RunningStats::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(x);
        }
        assert!((s.mean - 5.0).abs() < 1e-12);
        assert!((s.std_dev() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    fn recent(ts: i64) -> Recent {
        Recent {
            ts,
            amount_usd: 1.0,
            device: None,
            ip: None,
            lat: 0.0,
            lon: 0.0,
            country: CountryCode::new("FR"),
        }
    }

    #[test]
    fn recent_stays_ordered_and_bounded() {
        let mut c = CardState::default();
        for ts in [5, 1, 3, 2, 4] {
            c.push_recent(recent(ts));
        }
        let order: Vec<i64> = c.recent.iter().map(|r| r.ts).collect();
        assert_eq!(order, [1, 2, 3, 4, 5]);
        for ts in 10..100 {
            c.push_recent(recent(ts));
        }
        assert_eq!(c.recent.len(), RECENT_CAP);
        assert_eq!(c.recent.back().unwrap().ts, 99);
        // An arrival older than everything kept is the one that would be dropped.
        c.push_recent(recent(0));
        assert_eq!(c.recent.front().unwrap().ts, 100 - RECENT_CAP as i64);
        let order: Vec<i64> = c.recent.iter().map(|r| r.ts).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    }

    #[test]
    fn a_cards_memory_grows_to_its_caps_and_no_further() {
        let mut c = CardState::default();
        assert_eq!(c.recent.capacity(), 0, "a new card allocates nothing yet");
        assert_eq!(c.merchants.items.capacity(), 0);
        c.push_recent(recent(1));
        c.merchants.remember(MerchantId(1));
        assert!(c.recent.capacity() <= 4 && c.merchants.items.capacity() <= 4);
        for ts in 0..1_000 {
            c.push_recent(recent(ts % 97 * 31));
            c.merchants.remember(MerchantId(ts as u64));
            assert!(c.recent.capacity() <= RECENT_CAP);
            assert!(c.merchants.items.capacity() <= MERCHANTS_CAP);
        }
        assert_eq!(c.recent.len(), RECENT_CAP);
        assert_eq!(c.recent.capacity(), RECENT_CAP, "exactly the cap, full");
        assert_eq!(c.merchants.items.len(), MERCHANTS_CAP);
        assert_eq!(c.merchants.items.capacity(), MERCHANTS_CAP);
    }

    #[test]
    fn a_reserved_card_never_allocates_again() {
        let mut c = CardState::with_full_room();
        let room = |c: &CardState| {
            (
                c.recent.capacity(),
                c.merchants.items.capacity(),
                c.devices.items.capacity(),
                c.ips.items.capacity(),
                c.countries.items.capacity(),
            )
        };
        let before = room(&c);
        assert_eq!(
            before,
            (
                RECENT_CAP,
                MERCHANTS_CAP,
                DEVICES_CAP,
                IPS_CAP,
                COUNTRIES_CAP
            )
        );
        for ts in 0..1_000 {
            c.push_recent(recent(ts % 97 * 31));
            c.merchants.remember(MerchantId(ts as u64));
            c.devices.remember(DeviceId(ts as u64));
            c.ips.remember(Ipv4Addr::from(ts as u32));
        }
        assert_eq!(room(&c), before, "full, and still the same room");
    }

    #[test]
    fn store_reserves_known_cards_within_its_bounds() {
        let store = CardStore::new(4, 10);
        assert_eq!(store.reserve((0..20).map(CardId)), 20);
        assert_eq!(store.len(), 20);
        assert_eq!(store.seen(), 0, "reserved, not seen");
        // Already there: nothing new, and the learned state is kept.
        store.with_card(CardId(3), |c| c.profiled = 7);
        assert_eq!(store.reserve((0..20).map(CardId)), 0);
        assert_eq!(store.with_card(CardId(3), |c| c.profiled), 7);
        assert_eq!(store.seen(), 1);
        assert_eq!(
            store.with_card(CardId(3), |c| c.recent.capacity()),
            RECENT_CAP
        );
        // Never past a shard's bound, however many are offered.
        let small = CardStore::new(2, 3);
        assert!(small.reserve((0..1_000).map(CardId)) <= 6);
        assert!(small.len() <= 6);
    }

    #[test]
    fn recall_forgets_the_oldest() {
        let mut r = Recall::new(2);
        assert!(r.remember(1));
        assert!(!r.remember(1));
        assert!(r.remember(2));
        assert!(r.remember(3));
        assert!(!r.contains(&1) && r.contains(&2) && r.contains(&3));
    }

    #[test]
    fn store_bounds_cards_per_shard() {
        let store = CardStore::new(1, 3);
        for id in 0..10 {
            store.with_card(CardId(id), |c| c.profiled += 1);
        }
        assert_eq!(store.len(), 3);
    }
}

//! [`TransactionFactory`]: the population, the catalogue and the stream; [`Iter`] walks the stream.

use crate::config::{FactoryConfig, FactoryError};
use crate::currency::max_amount_minor;
use crate::fraud::IMPOSSIBLE_TRAVEL_MIN_KM;
use crate::merchants::MerchantInfo;
use crate::plan::{BLOCK, BlockPlan, Slot, legit_customer};
use crate::population::{Customer, owner_of};
use crate::rng::{Domain, SplitMix64};
use crate::world::World;
use models::{CardId, CustomerId, FraudPattern, GroundTruth, MerchantId, Timestamp, Transaction};
use std::fmt;
use std::time::Duration;

/// How many transactions ahead the iterator loads customers (a power of two dividing [`BLOCK`]).
const WARM_AHEAD: u64 = 16;

/// Builds the stream: transaction `k` and its label, the same in every process for the same seed and
/// config. See the crate docs for the model.
#[derive(Clone)]
pub struct TransactionFactory {
    world: World,
    period_us: f64,
}

impl fmt::Debug for TransactionFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionFactory")
            .field("seed", &self.world.seed)
            .field("config", &self.world.config)
            .field("customers", &self.world.population.customers.len())
            .finish_non_exhaustive()
    }
}

impl TransactionFactory {
    /// Validates `config` and builds the customer population and merchant catalogue from `seed`
    /// (about 20 ms for 50,000 customers in release).
    pub fn new(seed: u64, config: FactoryConfig) -> Result<Self, FactoryError> {
        config.validate()?;
        Ok(Self {
            period_us: 1e6 / config.rate_tps,
            world: World::new(seed, config, IMPOSSIBLE_TRAVEL_MIN_KM)?,
        })
    }

    pub fn seed(&self) -> u64 {
        self.world.seed
    }

    pub fn config(&self) -> &FactoryConfig {
        &self.world.config
    }

    /// Transaction number `k` of the stream and its label, without generating the ones before it.
    pub fn at(&self, k: u64) -> (Transaction, GroundTruth) {
        let mut plan = BlockPlan::empty();
        plan.fill(
            self.world.seed,
            k / BLOCK as u64,
            &self.world.config.mix,
            u64::from(self.world.config.customers),
        );
        self.make(k, &plan)
    }

    /// How many of transactions `range` are fraud, per pattern (indexed like [`FraudPattern::ALL`]),
    /// read from the block plans alone: no transaction is made. The load driver counts a dropped
    /// backlog's fraud with it (dropped fraud is unscored), at one plan per 256 indices.
    pub fn fraud_counts(&self, range: std::ops::Range<u64>) -> [u64; FraudPattern::ALL.len()] {
        let mut counts = [0u64; FraudPattern::ALL.len()];
        let mut plan = BlockPlan::empty();
        let mut k = range.start;
        while k < range.end {
            let block = k / BLOCK as u64;
            plan.fill(
                self.world.seed,
                block,
                &self.world.config.mix,
                u64::from(self.world.config.customers),
            );
            let block_end = block.saturating_add(1).saturating_mul(BLOCK as u64);
            let end = range.end.min(block_end);
            for j in k..end {
                if let Slot::Fraud { episode, .. } = plan.slots[(j % BLOCK as u64) as usize] {
                    counts[episode.pattern as usize] += 1;
                }
            }
            k = end;
        }
        counts
    }

    /// The stream from transaction 0 (endless; use `take`).
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// The stream from transaction `k`: `iter_from(k).next()` equals `at(k)`.
    pub fn iter_from(&self, k: u64) -> Iter<'_> {
        Iter {
            factory: self,
            next: Some(k),
            plan: Box::new(BlockPlan::empty()),
        }
    }

    /// The population's everyday purchases in the `period` of stream time just before transaction 0,
    /// oldest first, at the stream's own pace (`rate_tps`, so about `period / purchase_interval`
    /// purchases per customer): what a detector in service would already have seen of each card.
    /// Legitimate by construction (made by the same model as the stream's legitimate traffic: a
    /// customer at home, at a usual or popular merchant, on their own device, an amount around their
    /// median), so a detector warmed with it never needs a label. Ids count down from `u64::MAX`
    /// and never meet the stream's; a longer period extends a shorter one further back in time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transaction_factory::{FactoryConfig, TransactionFactory};
    /// let factory = TransactionFactory::new(42, FactoryConfig::default()).unwrap();
    /// let past: Vec<_> = factory.history(Duration::from_secs(10)).collect();
    /// assert_eq!(past.len(), 10_000); // the default clock: 1,000 TPS
    /// assert!(past.iter().all(|t| t.timestamp < factory.timestamp_of(0)));
    /// ```
    pub fn history(&self, period: Duration) -> History<'_> {
        let count = (period.as_secs_f64() * self.world.config.rate_tps).round() as u64;
        History {
            factory: self,
            back: count,
        }
    }

    /// The `back`-th purchase before transaction 0 (1 is the latest), stamped `start − back / rate_tps`.
    fn past_purchase(&self, back: u64) -> Transaction {
        let mut rng = SplitMix64::for_index(self.world.seed, Domain::History, back);
        let customers = &self.world.population.customers;
        let customer = &customers[rng.index(customers.len())];
        let card = customer.cards()[rng.index(customer.cards().len())];
        let ts = Timestamp::from_micros(
            self.world
                .config
                .start
                .micros
                .saturating_sub((back as f64 * self.period_us) as i64),
        );
        let mut txn = self
            .world
            .legit_txn(u64::MAX - back, ts, customer, card, &mut rng);
        txn.amount_minor = txn.amount_minor.min(max_amount_minor(txn.currency));
        txn
    }

    /// The stream clock: `start + k / rate_tps`. Edge cases on day or month boundaries move off it.
    pub fn timestamp_of(&self, k: u64) -> Timestamp {
        Timestamp::from_micros(
            self.world
                .config
                .start
                .micros
                .saturating_add((k as f64 * self.period_us) as i64),
        )
    }

    /// All customers, indexed by their id.
    pub fn customers(&self) -> &[Customer] {
        &self.world.population.customers
    }

    /// A customer's profile (for assertions; a detector has to learn it from the stream).
    pub fn customer(&self, id: CustomerId) -> Option<&Customer> {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| self.world.population.customers.get(i))
    }

    /// The owner of a card.
    pub fn card_owner(&self, card: CardId) -> Option<&Customer> {
        self.customer(owner_of(card))
            .filter(|c| c.cards().contains(&card))
    }

    /// What the catalogue knows about a merchant.
    pub fn merchant(&self, id: MerchantId) -> Option<MerchantInfo> {
        self.world.catalogue.info(id)
    }

    /// Loads the customers of the next few transactions together, so their cache misses overlap
    /// instead of stalling each transaction in turn (the population is larger than the L2 cache).
    fn warm_customers(&self, k: u64, plan: &BlockPlan) {
        let end = (k | (WARM_AHEAD - 1)).min(k | (BLOCK as u64 - 1));
        let mut acc = 0u64;
        for j in k..=end {
            let c = match plan.slots[(j % BLOCK as u64) as usize] {
                Slot::Legit => {
                    // The same first draws as `make`, so this is the customer `make` will use.
                    let mut rng = SplitMix64::for_index(self.world.seed, Domain::Txn, j);
                    legit_customer(
                        j / BLOCK as u64,
                        u64::from(self.world.config.customers),
                        &mut rng,
                    )
                }
                Slot::Anchor(episode) | Slot::Fraud { episode, .. } => u64::from(episode.customer),
                Slot::Edge(_) => continue,
            };
            if let Some(customer) = self.world.population.customers.get(c as usize) {
                acc ^= customer.touch();
            }
        }
        std::hint::black_box(acc);
    }

    /// Transaction `k` from its block's plan, its amount within the currency's maximum.
    pub(crate) fn make(&self, k: u64, plan: &BlockPlan) -> (Transaction, GroundTruth) {
        let (mut txn, label) = self.make_unbounded(k, plan);
        // The per-transaction limit of the currency (eight digits of minor units): only the largest
        // high-value anomalies of premium customers in low-value currencies (INR) ever reach it.
        txn.amount_minor = txn.amount_minor.min(max_amount_minor(txn.currency));
        (txn, label)
    }

    fn make_unbounded(&self, k: u64, plan: &BlockPlan) -> (Transaction, GroundTruth) {
        let slot = plan.slots[(k % BLOCK as u64) as usize];
        let mut rng = SplitMix64::for_index(self.world.seed, Domain::Txn, k);
        let ts = self.timestamp_of(k);
        match slot {
            Slot::Legit => {
                let c = legit_customer(
                    k / BLOCK as u64,
                    u64::from(self.world.config.customers),
                    &mut rng,
                );
                let customer = &self.world.population.customers[c as usize];
                let card = customer.cards()[rng.index(customer.cards().len())];
                (
                    self.world.legit_txn(k, ts, customer, card, &mut rng),
                    GroundTruth::Legit,
                )
            }
            Slot::Anchor(episode) => {
                let customer = &self.world.population.customers[episode.customer as usize];
                let card = self.world.episode_context(&episode).card;
                (
                    self.world.legit_txn(k, ts, customer, card, &mut rng),
                    GroundTruth::Legit,
                )
            }
            Slot::Fraud { episode, nth } => {
                let txn = self.world.fraud_txn(k, ts, &episode, nth, &mut rng);
                (
                    txn,
                    GroundTruth::Fraud {
                        pattern: episode.pattern,
                    },
                )
            }
            Slot::Edge(kind) => {
                let (txn, kind) = self.world.edge_txn(k, ts, kind, plan, &mut rng);
                (txn, GroundTruth::Edge { pattern: kind })
            }
        }
    }
}

/// The purchases before the stream starts, oldest first (see [`TransactionFactory::history`]).
pub struct History<'a> {
    factory: &'a TransactionFactory,
    /// How many purchases before transaction 0 the next one is; 0 when done.
    back: u64,
}

impl fmt::Debug for History<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("left", &self.back)
            .finish_non_exhaustive()
    }
}

impl Iterator for History<'_> {
    type Item = Transaction;

    fn next(&mut self) -> Option<Transaction> {
        if self.back == 0 {
            return None;
        }
        let txn = self.factory.past_purchase(self.back);
        self.back -= 1;
        Some(txn)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.back).unwrap_or(usize::MAX);
        (left, usize::try_from(self.back).ok())
    }
}

/// The stream from some index on. Keeps the current block's plan, so each step costs one transaction
/// plus, every 256 steps, one plan.
pub struct Iter<'a> {
    factory: &'a TransactionFactory,
    next: Option<u64>,
    plan: Box<BlockPlan>,
}

impl fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Iter<'_> {
    /// The index of the transaction `next` will return.
    pub fn position(&self) -> Option<u64> {
        self.next
    }
}

impl Iterator for Iter<'_> {
    type Item = (Transaction, GroundTruth);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let k = self.next?;
        let block = k / BLOCK as u64;
        if self.plan.block != block {
            let f = self.factory;
            self.plan.fill(
                f.world.seed,
                block,
                &f.world.config.mix,
                u64::from(f.world.config.customers),
            );
        }
        if k % WARM_AHEAD == 0 {
            self.factory.warm_customers(k, &self.plan);
        }
        self.next = k.checked_add(1);
        Some(self.factory.make(k, &self.plan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<'a> IntoIterator for &'a TransactionFactory {
    type Item = (Transaction, GroundTruth);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

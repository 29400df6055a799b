//! [`TransactionFactory`]: the population, the catalogue and the stream; [`Iter`] walks the stream.

use crate::config::{FactoryConfig, FactoryError};
use crate::currency::max_amount_minor;
use crate::fraud::IMPOSSIBLE_TRAVEL_MIN_KM;
use crate::geo::{Geo, jitter};
use crate::merchants::{Catalogue, MerchantInfo};
use crate::plan::{BLOCK, BlockPlan, Slot, legit_customer};
use crate::population::{Customer, Population, USUAL_MERCHANTS, owner_of};
use crate::rng::{Domain, SplitMix64};
use models::{CardId, Channel, CustomerId, GroundTruth, MerchantId, Timestamp, Transaction, TxnId};
use rand_distr::{Distribution, LogNormal};
use std::borrow::Cow;
use std::fmt;

/// Spread (sigma of the log) of a customer's legitimate amounts around their median.
const LEGIT_SIGMA: f64 = 0.6;
/// Legitimate amounts are capped at this multiple of the customer's median.
const LEGIT_MAX_FACTOR: f64 = 50.0;
const LEGIT_CHANNELS: [Channel; 4] = [
    Channel::CardPresent,
    Channel::Contactless,
    Channel::Ecommerce,
    Channel::Mobile,
];
/// How many transactions ahead the iterator loads customers (a power of two dividing [`BLOCK`]).
const WARM_AHEAD: u64 = 16;
const LEGIT_CHANNEL_WEIGHTS: [u32; 4] = [30, 35, 22, 13];

/// Builds the stream: transaction `k` and its label, the same in every process for the same seed and
/// config. See the crate docs for the model.
#[derive(Clone)]
pub struct TransactionFactory {
    pub(crate) seed: u64,
    pub(crate) config: FactoryConfig,
    period_us: f64,
    pub(crate) geo: Geo,
    pub(crate) catalogue: Catalogue,
    pub(crate) population: Population,
    pub(crate) legit_spread: LogNormal<f64>,
}

impl fmt::Debug for TransactionFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionFactory")
            .field("seed", &self.seed)
            .field("config", &self.config)
            .field("customers", &self.population.customers.len())
            .finish_non_exhaustive()
    }
}

impl TransactionFactory {
    /// Validates `config` and builds the customer population and merchant catalogue from `seed`
    /// (about 20 ms for 50,000 customers in release).
    pub fn new(seed: u64, config: FactoryConfig) -> Result<Self, FactoryError> {
        config.validate()?;
        let legit_spread =
            LogNormal::new(0.0, LEGIT_SIGMA).map_err(|e| FactoryError::Distribution {
                what: "legit amount spread",
                reason: e.to_string(),
            })?;
        let geo = Geo::new(IMPOSSIBLE_TRAVEL_MIN_KM);
        let catalogue = Catalogue::new(u64::from(config.merchants));
        let population = Population::build(seed, config.customers, &geo, &catalogue);
        Ok(Self {
            seed,
            period_us: 1e6 / config.rate_tps,
            config,
            geo,
            catalogue,
            population,
            legit_spread,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn config(&self) -> &FactoryConfig {
        &self.config
    }

    /// Transaction number `k` of the stream and its label, without generating the ones before it.
    pub fn at(&self, k: u64) -> (Transaction, GroundTruth) {
        let mut plan = BlockPlan::empty();
        plan.fill(
            self.seed,
            k / BLOCK as u64,
            &self.config.mix,
            u64::from(self.config.customers),
        );
        self.make(k, &plan)
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

    /// The stream clock: `start + k / rate_tps`. Edge cases on day or month boundaries move off it.
    pub fn timestamp_of(&self, k: u64) -> Timestamp {
        Timestamp::from_micros(
            self.config
                .start
                .micros
                .saturating_add((k as f64 * self.period_us) as i64),
        )
    }

    /// All customers, indexed by their id.
    pub fn customers(&self) -> &[Customer] {
        &self.population.customers
    }

    /// A customer's profile (for assertions; a detector has to learn it from the stream).
    pub fn customer(&self, id: CustomerId) -> Option<&Customer> {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| self.population.customers.get(i))
    }

    /// The owner of a card.
    pub fn card_owner(&self, card: CardId) -> Option<&Customer> {
        self.customer(owner_of(card))
            .filter(|c| c.cards().contains(&card))
    }

    /// What the catalogue knows about a merchant.
    pub fn merchant(&self, id: MerchantId) -> Option<MerchantInfo> {
        self.catalogue.info(id)
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
                    let mut rng = SplitMix64::for_index(self.seed, Domain::Txn, j);
                    legit_customer(j / BLOCK as u64, u64::from(self.config.customers), &mut rng)
                }
                Slot::Anchor(episode) | Slot::Fraud { episode, .. } => u64::from(episode.customer),
                Slot::Edge(_) => continue,
            };
            if let Some(customer) = self.population.customers.get(c as usize) {
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
        let mut rng = SplitMix64::for_index(self.seed, Domain::Txn, k);
        let ts = self.timestamp_of(k);
        match slot {
            Slot::Legit => {
                let c =
                    legit_customer(k / BLOCK as u64, u64::from(self.config.customers), &mut rng);
                let customer = &self.population.customers[c as usize];
                let card = customer.cards()[rng.index(customer.cards().len())];
                (
                    self.legit_txn(k, ts, customer, card, &mut rng),
                    GroundTruth::Legit,
                )
            }
            Slot::Anchor(episode) => {
                let customer = &self.population.customers[episode.customer as usize];
                let card = self.episode_context(&episode).card;
                (
                    self.legit_txn(k, ts, customer, card, &mut rng),
                    GroundTruth::Legit,
                )
            }
            Slot::Fraud { episode, nth } => {
                let txn = self.fraud_txn(k, ts, &episode, nth, &mut rng);
                (
                    txn,
                    GroundTruth::Fraud {
                        pattern: episode.pattern,
                    },
                )
            }
            Slot::Edge(kind) => {
                let (txn, kind) = self.edge_txn(k, ts, kind, plan, &mut rng);
                (txn, GroundTruth::Edge { pattern: kind })
            }
        }
    }

    /// An everyday purchase: a usual (or popular) merchant at home, an amount around the median.
    pub(crate) fn legit_txn(
        &self,
        k: u64,
        ts: Timestamp,
        customer: &Customer,
        card: CardId,
        rng: &mut SplitMix64,
    ) -> Transaction {
        let merchant = if rng.unit() < 0.85 {
            customer.usual_merchant(rng.index(USUAL_MERCHANTS))
        } else {
            self.population
                .popular_merchant(&self.catalogue, customer.country_idx(), rng)
        };
        let median = customer.median_amount_minor() as f64;
        let amount = (median * self.legit_spread.sample(rng))
            .clamp(1.0, median * LEGIT_MAX_FACTOR)
            .round() as u64;
        let channel = LEGIT_CHANNELS[rng.weighted(&LEGIT_CHANNEL_WEIGHTS)];
        let (lat, lon) = customer.home_e4();
        let device = customer.devices()[rng.index(customer.devices().len())];
        let mut txn = self.blank(k, ts, customer, card, merchant);
        txn.amount_minor = amount;
        txn.channel = channel;
        txn.lat = jitter(lat, 200, rng);
        txn.lon = jitter(lon, 200, rng);
        txn.device_id = Some(device);
        txn.ip = Some(customer.ip());
        txn
    }

    /// A transaction at home with the merchant's name and category filled in; callers set the rest.
    pub(crate) fn blank(
        &self,
        k: u64,
        ts: Timestamp,
        customer: &Customer,
        card: CardId,
        merchant: MerchantId,
    ) -> Transaction {
        let (name, mcc) = self.catalogue.name_and_mcc(merchant);
        let (lat, lon) = customer.home_location();
        Transaction {
            id: TxnId(k),
            timestamp: ts,
            amount_minor: 0,
            currency: customer.currency(),
            card_id: card,
            customer_id: customer.id(),
            merchant_id: merchant,
            merchant_name: Cow::Borrowed(name),
            mcc,
            channel: Channel::CardPresent,
            country: customer.home_country(),
            lat,
            lon,
            device_id: None,
            ip: None,
        }
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
            self.plan
                .fill(f.seed, block, &f.config.mix, u64::from(f.config.customers));
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

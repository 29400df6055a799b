//! [`World`]: what the stream is made of (the seed, the places, the merchants, the customers) and how an
//! everyday purchase looks. The fraud patterns (`fraud.rs`) and edge cases (`edge.rs`) add their own
//! transactions to it; [`crate::TransactionFactory`] decides which one each index gets.

use crate::config::{FactoryConfig, FactoryError};
use crate::geo::{Geo, jitter};
use crate::merchants::Catalogue;
use crate::population::{Customer, Population, USUAL_MERCHANTS};
use crate::rng::SplitMix64;
use models::{CardId, Channel, MerchantId, Timestamp, Transaction, TxnId};
use rand_distr::{Distribution, LogNormal};
use std::borrow::Cow;

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
const LEGIT_CHANNEL_WEIGHTS: [u32; 4] = [30, 35, 22, 13];

/// The seeded world behind a stream.
#[derive(Clone)]
pub(crate) struct World {
    pub seed: u64,
    pub config: FactoryConfig,
    pub geo: Geo,
    pub catalogue: Catalogue,
    pub population: Population,
    pub legit_spread: LogNormal<f64>,
}

impl World {
    /// Builds the places (with far-away cities at least `far_km` apart, for impossible travel), the
    /// merchant catalogue and the customer population from `seed`; `config` is already validated.
    pub fn new(seed: u64, config: FactoryConfig, far_km: f64) -> Result<Self, FactoryError> {
        let legit_spread =
            LogNormal::new(0.0, LEGIT_SIGMA).map_err(|e| FactoryError::Distribution {
                what: "legit amount spread",
                reason: e.to_string(),
            })?;
        let geo = Geo::new(far_km);
        let catalogue = Catalogue::new(u64::from(config.merchants));
        let population = Population::build(seed, config.customers, &geo, &catalogue);
        Ok(Self {
            seed,
            config,
            geo,
            catalogue,
            population,
            legit_spread,
        })
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

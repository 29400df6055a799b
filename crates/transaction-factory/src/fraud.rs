//! The fraud patterns: how each one is played on a customer's card, and the thresholds it is built to
//! cross (tests and detectors can use the same constants).

use crate::currency::usd_to_minor;
use crate::geo::{COUNTRIES, ip_in, jitter};
use crate::plan::Episode;
use crate::population::{DEVICE_ID_MASK, any_merchant};
use crate::rng::{Domain, SplitMix64, mix64};
use crate::world::World;
use models::{CardId, Channel, DeviceId, FraudPattern, Timestamp, Transaction};

/// Card testing: each probe is worth at most this many US dollars.
pub const CARD_TESTING_MAX_USD: f64 = 2.0;
/// Card testing: each probe is worth at least this many US dollars.
pub const CARD_TESTING_MIN_USD: f64 = 0.5;
/// Card testing: probes per burst, at least.
pub const CARD_TESTING_MIN_TXNS: usize = 3;
/// Velocity: transactions on one card within [`VELOCITY_WINDOW_SECS`], at least.
pub const VELOCITY_MIN_TXNS: usize = 6;
/// Velocity: the window the burst fits in (at stream rates of 10 TPS or more).
pub const VELOCITY_WINDOW_SECS: f64 = 60.0;
/// Impossible travel: the speed that no traveller reaches (a fast airliner is about 900 km/h).
pub const IMPOSSIBLE_SPEED_KMH: f64 = 900.0;
/// Impossible travel: the two places are at least this far apart.
pub const IMPOSSIBLE_TRAVEL_MIN_KM: f64 = 3000.0;
/// High-value anomaly: at least this multiple of the customer's median amount.
pub const HIGH_VALUE_MIN_FACTOR: f64 = 10.0;
/// Account takeover: at least this multiple of the customer's median amount (in US dollars).
pub const ACCOUNT_TAKEOVER_MIN_FACTOR: f64 = 4.0;

/// Decisions shared by all transactions of one episode.
pub(crate) struct EpisodeContext {
    pub card: CardId,
    pub device: DeviceId,
    pub rng: SplitMix64,
}

impl World {
    pub(crate) fn episode_context(&self, episode: &Episode) -> EpisodeContext {
        let customer = &self.population.customers[episode.customer as usize];
        let mut rng = SplitMix64::for_index(self.seed, Domain::Episode, episode.key());
        let card = customer.cards()[rng.index(customer.cards().len())];
        // Drawn from the same id space as customers' devices, so only history tells them apart.
        let device = DeviceId(mix64(rng.next_u64()) & DEVICE_ID_MASK);
        EpisodeContext { card, device, rng }
    }

    pub(crate) fn fraud_txn(
        &self,
        k: u64,
        ts: Timestamp,
        episode: &Episode,
        nth: u8,
        rng: &mut SplitMix64,
    ) -> Transaction {
        let customer = &self.population.customers[episode.customer as usize];
        let EpisodeContext {
            card,
            device,
            rng: mut ep,
        } = self.episode_context(episode);
        let home = customer.country_idx();
        let median_minor = customer.median_amount_minor() as f64;
        let median_usd = customer.median_amount_usd();
        // Moves the transaction to `city` (a flattened city index), in that country's currency.
        let relocate = |txn: &mut Transaction, city: usize, rng: &mut SplitMix64| {
            let place = self.geo.cities[city];
            let country = &COUNTRIES[place.country];
            txn.country = country.code;
            txn.currency = country.currency;
            txn.lat = jitter(place.lat_e4, 500, rng);
            txn.lon = jitter(place.lon_e4, 500, rng);
        };
        let city_in = |country: usize, rng: &mut SplitMix64| {
            self.geo.first_city[country] + rng.index(COUNTRIES[country].cities.len())
        };
        match episode.pattern {
            FraudPattern::CardTesting => {
                // A fraudster somewhere probes the card at small shops it has never used.
                let country = ep.weighted(&self.geo.country_weights);
                let city = city_in(country, &mut ep);
                let first = ep.below(crate::merchants::TESTING_COUNT);
                let merchant = self.catalogue.testing(first + u64::from(nth) * 97);
                let mut txn = self.blank(k, ts, customer, card, merchant);
                relocate(&mut txn, city, rng);
                txn.amount_minor = usd_to_minor(
                    rng.range(CARD_TESTING_MIN_USD, CARD_TESTING_MAX_USD),
                    txn.currency,
                )
                .max(1);
                txn.channel = Channel::Ecommerce;
                txn.device_id = Some(device);
                txn.ip = Some(ip_in(country, ep.next_u64()));
                txn
            }
            FraudPattern::AccountTakeover => {
                // Someone else logs in from a new device in another country and spends big.
                let mut country = ep.weighted(&self.geo.country_weights);
                for _ in 0..8 {
                    if country != home {
                        break;
                    }
                    country = ep.weighted(&self.geo.country_weights);
                }
                if country == home {
                    country = (home + 1) % COUNTRIES.len();
                }
                let city = city_in(country, &mut ep);
                let ip = ip_in(country, ep.next_u64());
                let merchant = any_merchant(&self.catalogue, country, rng);
                let mut txn = self.blank(k, ts, customer, card, merchant);
                relocate(&mut txn, city, rng);
                let usd = median_usd * rng.range(ACCOUNT_TAKEOVER_MIN_FACTOR, 15.0);
                txn.amount_minor = usd_to_minor(usd, txn.currency).max(1);
                txn.channel = if rng.unit() < 0.5 {
                    Channel::Ecommerce
                } else {
                    Channel::Mobile
                };
                txn.device_id = Some(device);
                txn.ip = Some(ip);
                txn
            }
            FraudPattern::Velocity => {
                // A stolen card number used again and again online, from the same country.
                let ip = ip_in(home, ep.next_u64());
                let merchant = any_merchant(&self.catalogue, home, rng);
                let mut txn = self.blank(k, ts, customer, card, merchant);
                txn.amount_minor = (median_minor * rng.range(0.3, 2.0)).round().max(1.0) as u64;
                txn.channel = Channel::Ecommerce;
                let (lat, lon) = customer.home_e4();
                txn.lat = jitter(lat, 200, rng);
                txn.lon = jitter(lon, 200, rng);
                txn.device_id = Some(device);
                txn.ip = Some(ip);
                txn
            }
            FraudPattern::ImpossibleTravel => {
                // A cloned card used in person far away, moments after the owner used it at home.
                let far = &self.geo.far[customer.city_idx()];
                let city = usize::from(far[ep.index(far.len())]);
                let country = self.geo.cities[city].country;
                let merchant = any_merchant(&self.catalogue, country, rng);
                let mut txn = self.blank(k, ts, customer, card, merchant);
                relocate(&mut txn, city, rng);
                txn.amount_minor =
                    usd_to_minor(median_usd * rng.range(0.5, 3.0), txn.currency).max(1);
                txn.channel = Channel::CardPresent;
                txn.device_id = Some(device);
                txn.ip = Some(ip_in(country, ep.next_u64()));
                txn
            }
            FraudPattern::HighValueAnomaly => {
                // The customer's own device and place, but an amount far above their norm.
                let merchant = any_merchant(&self.catalogue, home, rng);
                let mut txn = self.blank(k, ts, customer, card, merchant);
                txn.amount_minor =
                    (median_minor * rng.range(HIGH_VALUE_MIN_FACTOR, 40.0)).round() as u64;
                txn.channel = if rng.unit() < 0.5 {
                    Channel::Ecommerce
                } else {
                    Channel::CardPresent
                };
                txn.device_id = Some(customer.devices()[ep.index(customer.devices().len())]);
                txn.ip = Some(customer.ip());
                txn
            }
            FraudPattern::RiskyMerchant => {
                // Cash-like spending (gambling, crypto, wire transfer) from a device the customer never used.
                let merchant = self
                    .catalogue
                    .risky(ep.next_u64().wrapping_add(u64::from(nth)));
                let mut txn = self.blank(k, ts, customer, card, merchant);
                txn.amount_minor =
                    usd_to_minor(median_usd * rng.range(1.5, 6.0), txn.currency).max(1);
                txn.channel = Channel::Ecommerce;
                txn.device_id = Some(device);
                txn.ip = Some(ip_in(home, ep.next_u64()));
                txn
            }
        }
    }
}

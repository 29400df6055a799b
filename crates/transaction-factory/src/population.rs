//! The customer population, built once from the seed: where each customer lives, what they pay with,
//! and how much they usually spend.

use crate::currency::usd_to_minor;
use crate::geo::{COUNTRIES, Geo, ip_in};
use crate::merchants::Catalogue;
use crate::rng::{Domain, SplitMix64};
use models::{CardId, CountryCode, Currency, CustomerId, DeviceId, MerchantId};
use rand_distr::{Distribution, LogNormal, Zipf};
use std::net::Ipv4Addr;

/// How many usual merchants each customer has.
pub const USUAL_MERCHANTS: usize = 6;

/// Device ids are random 48-bit numbers (customers' and fraudsters' alike).
pub(crate) const DEVICE_ID_MASK: u64 = (1 << 48) - 1;

/// A customer's spending level: the centre of their log-normal amount distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpendSegment {
    Budget,
    Standard,
    Affluent,
    Premium,
}

impl SpendSegment {
    pub const ALL: [SpendSegment; 4] = [
        SpendSegment::Budget,
        SpendSegment::Standard,
        SpendSegment::Affluent,
        SpendSegment::Premium,
    ];

    /// Typical median transaction of the segment, in US dollars.
    pub const fn median_usd(self) -> f64 {
        match self {
            SpendSegment::Budget => 18.0,
            SpendSegment::Standard => 40.0,
            SpendSegment::Affluent => 85.0,
            SpendSegment::Premium => 220.0,
        }
    }

    const WEIGHTS: [u32; 4] = [30, 45, 18, 7];
}

/// One customer: what a detector could learn from their history, known here for assertions.
///
/// Laid out in two cache lines, the first holding what every legitimate transaction reads, so the
/// iterator can load a customer ahead of use with two touches.
#[derive(Debug, Clone, PartialEq)]
#[repr(C, align(64))]
pub struct Customer {
    median_minor: u64,
    median_usd: f64,
    cards: [CardId; 2],
    usual_merchants: [u32; USUAL_MERCHANTS],
    id: u32,
    ip: Ipv4Addr,
    // Second cache line.
    devices: [DeviceId; 3],
    lat_e4: i32,
    lon_e4: i32,
    city_index: u16,
    country_index: u8,
    device_count: u8,
    card_count: u8,
    segment: SpendSegment,
}

impl Customer {
    pub fn id(&self) -> CustomerId {
        CustomerId(u64::from(self.id))
    }
    pub fn home_country(&self) -> CountryCode {
        COUNTRIES[self.country_index as usize].code
    }
    /// The home country's currency, which the customer usually pays in.
    pub fn currency(&self) -> Currency {
        COUNTRIES[self.country_index as usize].currency
    }
    /// Home location (a city, jittered by up to 0.05 degrees), latitude and longitude.
    pub fn home_location(&self) -> (f64, f64) {
        (f64::from(self.lat_e4) / 1e4, f64::from(self.lon_e4) / 1e4)
    }
    pub(crate) fn home_e4(&self) -> (i32, i32) {
        (self.lat_e4, self.lon_e4)
    }
    /// Reads one field of each cache line (see `TransactionFactory::warm_customers`).
    #[inline]
    pub(crate) fn touch(&self) -> u64 {
        self.median_minor ^ u64::from(self.card_count)
    }
    /// The customer's own devices (1 to 3).
    pub fn devices(&self) -> &[DeviceId] {
        &self.devices[..self.device_count as usize]
    }
    /// The customer's usual IP address, inside the home country's block.
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }
    /// The customer's cards (1 or 2).
    pub fn cards(&self) -> &[CardId] {
        &self.cards[..self.card_count as usize]
    }
    pub fn segment(&self) -> SpendSegment {
        self.segment
    }
    /// Median legitimate amount, in US dollars.
    pub fn median_amount_usd(&self) -> f64 {
        self.median_usd
    }
    /// Median legitimate amount in the home currency's minor units.
    pub fn median_amount_minor(&self) -> u64 {
        self.median_minor
    }
    /// The regular merchants (in the home country) this customer usually pays.
    pub fn usual_merchants(&self) -> [MerchantId; USUAL_MERCHANTS] {
        self.usual_merchants.map(|m| MerchantId(u64::from(m)))
    }
    #[inline]
    pub(crate) fn usual_merchant(&self, i: usize) -> MerchantId {
        MerchantId(u64::from(self.usual_merchants[i % USUAL_MERCHANTS]))
    }
    pub(crate) fn country_idx(&self) -> usize {
        self.country_index as usize
    }
    pub(crate) fn city_idx(&self) -> usize {
        self.city_index as usize
    }
}

fn mix64_salt(x: u64) -> u64 {
    crate::rng::mix64(x ^ 0xD3E1_1CE5_0000_0000)
}

/// The card id of a customer's `j`-th card.
pub(crate) fn card_of(customer: u64, j: u64) -> CardId {
    CardId(customer * 2 + j)
}

/// The customer who owns a card, by construction of card ids.
pub(crate) fn owner_of(card: CardId) -> CustomerId {
    CustomerId(card.0 / 2)
}

/// Size of each country's pool of popular-merchant draws.
const POPULAR_POOL: usize = 1024;

/// All customers plus per-country lists and, per country, a pool of merchants drawn from the Zipf
/// popularity law at construction (so the hot path picks one without evaluating `powf`).
#[derive(Debug, Clone)]
pub(crate) struct Population {
    pub customers: Vec<Customer>,
    pub by_country: Vec<Vec<u32>>,
    popular: Vec<Vec<MerchantId>>,
}

impl Population {
    pub(crate) fn build(seed: u64, count: u32, geo: &Geo, catalogue: &Catalogue) -> Self {
        let merchant_zipf: Vec<Zipf<f64>> = catalogue
            .ranges
            .iter()
            // Lengths are >= 1 and the exponent is fixed and positive, so `new` cannot fail; fall back to
            // the uniform law (s = 0) to keep the constructor infallible.
            .map(|&(_, len)| Zipf::new(len as f64, 1.05).or_else(|_| Zipf::new(1.0, 0.0)))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        let spread = LogNormal::new(0.0, 0.35).ok();
        let mut customers = Vec::with_capacity(count as usize);
        let mut by_country = vec![Vec::new(); COUNTRIES.len()];
        for c in 0..u64::from(count) {
            let mut rng = SplitMix64::for_index(seed, Domain::Population, c);
            let country_index = rng.weighted(&geo.country_weights);
            let country = &COUNTRIES[country_index];
            let city_index = geo.first_city[country_index] + rng.index(country.cities.len());
            let place = &geo.cities[city_index];
            let lat_e4 = place.lat_e4 + rng.below(1001) as i32 - 500;
            let lon_e4 = place.lon_e4 + rng.below(1001) as i32 - 500;
            let device_count = 1 + rng.below(3);
            let mut devices = [DeviceId(0); 3];
            for (j, d) in devices.iter_mut().enumerate() {
                *d = DeviceId(
                    crate::rng::mix64(seed ^ mix64_salt(c * 4 + j as u64)) & DEVICE_ID_MASK,
                );
            }
            let card_count = 1 + rng.below(2);
            let cards = [card_of(c, 0), card_of(c, 1)];
            let ip = ip_in(country_index, rng.next_u64());
            let segment = SpendSegment::ALL[rng.weighted(&SpendSegment::WEIGHTS)];
            let factor: f64 = spread
                .map_or(1.0, |d: LogNormal<f64>| d.sample(&mut rng))
                .clamp(0.4, 2.5);
            let median_usd = segment.median_usd() * factor;
            let median_minor = usd_to_minor(median_usd, country.currency).max(1);
            let (start, len) = catalogue.ranges[country_index];
            let mut usual_merchants = [0u32; USUAL_MERCHANTS];
            for m in usual_merchants.iter_mut() {
                let rank = merchant_zipf
                    .get(country_index)
                    .map_or(1.0, |z| z.sample(&mut rng));
                // Merchant ids stay below 2^32 (the catalogue is capped at 100 million).
                *m = (start + (rank as u64).saturating_sub(1).min(len - 1)) as u32;
            }
            by_country[country_index].push(c as u32);
            customers.push(Customer {
                id: c as u32,
                country_index: country_index as u8,
                city_index: city_index as u16,
                lat_e4,
                lon_e4,
                devices,
                device_count: device_count as u8,
                ip,
                cards,
                card_count: card_count as u8,
                segment,
                median_usd,
                median_minor,
                usual_merchants,
            });
        }
        let popular = catalogue
            .ranges
            .iter()
            .enumerate()
            .map(|(ci, &(start, len))| {
                let mut rng = SplitMix64::for_index(seed, Domain::Population, u64::MAX - ci as u64);
                (0..POPULAR_POOL)
                    .map(|_| {
                        let rank = merchant_zipf.get(ci).map_or(1.0, |z| z.sample(&mut rng));
                        MerchantId(start + (rank as u64).saturating_sub(1).min(len - 1))
                    })
                    .collect()
            })
            .collect();
        Self {
            customers,
            by_country,
            popular,
        }
    }

    /// A popular merchant of the given country (Zipf over its range).
    pub(crate) fn popular_merchant(
        &self,
        catalogue: &Catalogue,
        country_index: usize,
        rng: &mut SplitMix64,
    ) -> MerchantId {
        match self.popular.get(country_index) {
            Some(pool) if !pool.is_empty() => pool[rng.index(pool.len())],
            _ => any_merchant(catalogue, country_index, rng),
        }
    }
}

/// Uniform over a country's regular merchants (fraudsters do not favour popular shops).
pub(crate) fn any_merchant(
    catalogue: &Catalogue,
    country_index: usize,
    rng: &mut SplitMix64,
) -> MerchantId {
    let (start, len) = catalogue.ranges[country_index];
    MerchantId(start + rng.below(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_fills_exactly_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Customer>(), 128);
        assert_eq!(std::mem::align_of::<Customer>(), 64);
    }
}

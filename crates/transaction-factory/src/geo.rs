//! Countries, their cities, currencies and IP blocks (data only; nothing is contacted), and the
//! great-circle distance used by the impossible-travel pattern.

use models::{CountryCode, Currency};
use std::net::Ipv4Addr;

/// A city transactions are placed in (customers' homes are jittered around it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
}

/// A country the factory generates: where customers live and transactions happen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Country {
    pub code: CountryCode,
    pub currency: Currency,
    /// Relative share of customers and merchants.
    pub weight: u32,
    pub cities: &'static [City],
}

impl Country {
    /// The country's IPv4 block: a /20 inside 198.18.0.0/15 (RFC 2544 benchmarking space, never routed
    /// publicly), one per country, in table order.
    pub fn ip_block(&self) -> (Ipv4Addr, u32) {
        let index = country_index(self.code).unwrap_or(0) as u32;
        (
            Ipv4Addr::from(IP_BASE + index * IP_BLOCK_SIZE),
            IP_BLOCK_SIZE,
        )
    }
}

const IP_BASE: u32 = u32::from_be_bytes([198, 18, 0, 0]);
const IP_BLOCK_SIZE: u32 = 4096;

const fn city(name: &'static str, lat: f64, lon: f64) -> City {
    City { name, lat, lon }
}

const fn entry(code: &str, currency: Currency, weight: u32, cities: &'static [City]) -> Country {
    Country {
        code: CountryCode::new(code),
        currency,
        weight,
        cities,
    }
}

/// The country table: 23 countries, 15 currencies, weighted roughly by card-payment volume.
pub static COUNTRIES: [Country; 23] = [
    entry(
        "US",
        Currency::USD,
        18,
        &[
            city("New York", 40.71, -74.01),
            city("Los Angeles", 34.05, -118.24),
            city("Chicago", 41.88, -87.63),
        ],
    ),
    entry(
        "GB",
        Currency::GBP,
        7,
        &[
            city("London", 51.51, -0.13),
            city("Manchester", 53.48, -2.24),
        ],
    ),
    entry(
        "DE",
        Currency::EUR,
        7,
        &[city("Berlin", 52.52, 13.40), city("Munich", 48.14, 11.58)],
    ),
    entry(
        "FR",
        Currency::EUR,
        6,
        &[city("Paris", 48.86, 2.35), city("Lyon", 45.76, 4.84)],
    ),
    entry(
        "ES",
        Currency::EUR,
        4,
        &[city("Madrid", 40.42, -3.70), city("Barcelona", 41.39, 2.17)],
    ),
    entry(
        "IT",
        Currency::EUR,
        4,
        &[city("Rome", 41.90, 12.50), city("Milan", 45.46, 9.19)],
    ),
    entry("NL", Currency::EUR, 3, &[city("Amsterdam", 52.37, 4.90)]),
    entry("IE", Currency::EUR, 1, &[city("Dublin", 53.35, -6.26)]),
    entry("AT", Currency::EUR, 1, &[city("Vienna", 48.21, 16.37)]),
    entry("BE", Currency::EUR, 1, &[city("Brussels", 50.85, 4.35)]),
    entry("PT", Currency::EUR, 1, &[city("Lisbon", 38.72, -9.14)]),
    entry(
        "CH",
        Currency::CHF,
        2,
        &[city("Zurich", 47.37, 8.54), city("Geneva", 46.20, 6.14)],
    ),
    entry("SE", Currency::SEK, 2, &[city("Stockholm", 59.33, 18.07)]),
    entry(
        "JP",
        Currency::JPY,
        6,
        &[city("Tokyo", 35.68, 139.69), city("Osaka", 34.69, 135.50)],
    ),
    entry(
        "CN",
        Currency::CNY,
        6,
        &[
            city("Shanghai", 31.23, 121.47),
            city("Beijing", 39.90, 116.41),
        ],
    ),
    entry(
        "IN",
        Currency::INR,
        6,
        &[
            city("Mumbai", 19.08, 72.88),
            city("Delhi", 28.61, 77.21),
            city("Bengaluru", 12.97, 77.59),
        ],
    ),
    entry("SG", Currency::SGD, 2, &[city("Singapore", 1.35, 103.82)]),
    entry(
        "AU",
        Currency::AUD,
        3,
        &[
            city("Sydney", -33.87, 151.21),
            city("Melbourne", -37.81, 144.96),
        ],
    ),
    entry(
        "CA",
        Currency::CAD,
        4,
        &[
            city("Toronto", 43.65, -79.38),
            city("Vancouver", 49.28, -123.12),
        ],
    ),
    entry(
        "MX",
        Currency::MXN,
        3,
        &[
            city("Mexico City", 19.43, -99.13),
            city("Guadalajara", 20.67, -103.35),
        ],
    ),
    entry(
        "BR",
        Currency::BRL,
        4,
        &[
            city("São Paulo", -23.55, -46.63),
            city("Rio de Janeiro", -22.91, -43.17),
        ],
    ),
    entry(
        "ZA",
        Currency::ZAR,
        2,
        &[
            city("Johannesburg", -26.20, 28.05),
            city("Cape Town", -33.92, 18.42),
        ],
    ),
    entry("KW", Currency::KWD, 1, &[city("Kuwait City", 29.38, 47.99)]),
];

/// Position of a country in [`COUNTRIES`].
pub fn country_index(code: CountryCode) -> Option<usize> {
    COUNTRIES.iter().position(|c| c.code == code)
}

/// The table entry for a country code.
pub fn country(code: CountryCode) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.code == code)
}

/// The country whose IP block holds `ip`, if any.
pub fn country_of_ip(ip: Ipv4Addr) -> Option<&'static Country> {
    let offset = u32::from(ip).checked_sub(IP_BASE)?;
    COUNTRIES.get((offset / IP_BLOCK_SIZE) as usize)
}

/// The `offset`-th address of a country's block (wrapping inside the block).
pub(crate) fn ip_in(country_idx: usize, offset: u64) -> Ipv4Addr {
    Ipv4Addr::from(
        IP_BASE + country_idx as u32 * IP_BLOCK_SIZE + (offset % u64::from(IP_BLOCK_SIZE)) as u32,
    )
}

/// Degrees to ten-thousandths of a degree (about 11 m), the resolution of generated coordinates.
pub(crate) fn to_e4(degrees: f64) -> i32 {
    (degrees * 1e4).round() as i32
}

/// A coordinate in ten-thousandths of a degree moved by up to `spread_e4` either way, in degrees.
/// Integer arithmetic and one correctly rounded division: the same on every machine, and printed
/// with at most 4 decimals.
#[inline]
pub(crate) fn jitter(base_e4: i32, spread_e4: u32, rng: &mut crate::rng::SplitMix64) -> f64 {
    let offset = rng.below(2 * u64::from(spread_e4) + 1) as i64 - i64::from(spread_e4);
    (i64::from(base_e4) + offset) as f64 / 1e4
}

/// Great-circle distance in kilometres (haversine, mean Earth radius 6371 km).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}

/// A city with the index of its country, flattened from [`COUNTRIES`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CityRef {
    pub country: usize,
    pub city: City,
    pub lat_e4: i32,
    pub lon_e4: i32,
}

/// Cities flattened, with, for each, the cities at least `far_km` away (impossible-travel targets).
#[derive(Debug, Clone)]
pub(crate) struct Geo {
    pub cities: Vec<CityRef>,
    /// `first_city[c]..first_city[c] + COUNTRIES[c].cities.len()` are country `c`'s cities.
    pub first_city: Vec<usize>,
    pub far: Vec<Vec<u16>>,
    pub country_weights: Vec<u32>,
}

impl Geo {
    pub(crate) fn new(far_km: f64) -> Self {
        let mut cities = Vec::new();
        let mut first_city = Vec::with_capacity(COUNTRIES.len());
        for (ci, c) in COUNTRIES.iter().enumerate() {
            first_city.push(cities.len());
            cities.extend(c.cities.iter().map(|&city| CityRef {
                country: ci,
                city,
                lat_e4: to_e4(city.lat),
                lon_e4: to_e4(city.lon),
            }));
        }
        let far = cities
            .iter()
            .map(|a| {
                (0..cities.len())
                    .filter(|&j| {
                        let b = &cities[j];
                        haversine_km(a.city.lat, a.city.lon, b.city.lat, b.city.lon) >= far_km
                    })
                    .map(|j| j as u16)
                    .collect()
            })
            .collect();
        let country_weights = COUNTRIES.iter().map(|c| c.weight).collect();
        Self {
            cities,
            first_city,
            far,
            country_weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert!(COUNTRIES.len() >= 20);
        let mut codes: Vec<_> = COUNTRIES.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), COUNTRIES.len(), "country codes are unique");
        let mut currencies: Vec<_> = COUNTRIES.iter().map(|c| c.currency).collect();
        currencies.sort();
        currencies.dedup();
        assert!(currencies.len() >= 10);
        for c in &COUNTRIES {
            assert!(!c.cities.is_empty() && c.weight > 0);
            for city in c.cities {
                assert!((-90.0..=90.0).contains(&city.lat) && (-180.0..=180.0).contains(&city.lon));
            }
        }
    }

    #[test]
    fn ip_blocks_map_back_to_their_country() {
        for (i, c) in COUNTRIES.iter().enumerate() {
            let ip = ip_in(i, 4095);
            assert_eq!(country_of_ip(ip).map(|x| x.code), Some(c.code));
            assert_eq!(c.ip_block().0, ip_in(i, 0));
        }
        assert!(country_of_ip(Ipv4Addr::new(10, 0, 0, 1)).is_none());
    }

    #[test]
    fn haversine_matches_known_distances() {
        let d = haversine_km(51.51, -0.13, 48.86, 2.35); // London to Paris, about 343 km
        assert!((330.0..360.0).contains(&d), "{d}");
        let d = haversine_km(40.71, -74.01, 35.68, 139.69); // New York to Tokyo, about 10,850 km
        assert!((10_700.0..11_000.0).contains(&d), "{d}");
    }

    #[test]
    fn every_city_has_far_targets() {
        let geo = Geo::new(3000.0);
        assert!(geo.far.iter().all(|f| !f.is_empty()));
    }
}

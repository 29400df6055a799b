//! Edge cases: legitimate transactions at the limits of the format and the rules, and the calendar
//! arithmetic for day and month boundaries.

use crate::currency::{max_amount_minor, usd_to_minor};
use crate::geo::{COUNTRIES, country_index};
use crate::plan::{BLOCK, BlockPlan, Slot, legit_customer, legit_may_use};
use crate::rng::SplitMix64;
use crate::world::World;
use models::{CountryCode, EdgeKind, Timestamp, Transaction, TxnId};
use rand_distr::Distribution;

/// The largest amount generated, in minor units of any currency (eight digits; see
/// [`max_amount_minor`], which the `max_amount` edge case uses).
pub use crate::currency::MAX_AMOUNT_MINOR;
/// Replayed ids point at most this far back (they stay inside the block, whose plan is at hand).
pub const REPLAY_MAX_DISTANCE: u64 = BLOCK as u64 - 1;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Midnight UTC at or before `t`.
pub fn start_of_day(t: Timestamp) -> Timestamp {
    Timestamp::from_micros(t.micros.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY)
}

/// The first instant of `t`'s month (UTC).
pub fn start_of_month(t: Timestamp) -> Timestamp {
    let (y, m, _) = civil_from_days(t.micros.div_euclid(MICROS_PER_DAY));
    Timestamp::from_micros(days_from_civil(y, m, 1) * MICROS_PER_DAY)
}

impl World {
    /// A customer of `country` that legitimate traffic of `block` may use.
    fn customer_in(&self, country: usize, block: u64, rng: &mut SplitMix64) -> Option<u64> {
        let list = self.population.by_country.get(country)?;
        if list.is_empty() {
            return None;
        }
        (0..16)
            .map(|_| u64::from(list[rng.index(list.len())]))
            .find(|&c| legit_may_use(block, c))
    }

    pub(crate) fn edge_txn(
        &self,
        k: u64,
        ts: Timestamp,
        kind: EdgeKind,
        plan: &BlockPlan,
        rng: &mut SplitMix64,
    ) -> (Transaction, EdgeKind) {
        // A replay re-sends the id of an earlier index of the block that carried its own id (not a
        // replay itself). The first index of a block has nothing before it: it drops its optional
        // fields instead.
        let offset = (k % BLOCK as u64) as usize;
        let replay_of = if kind == EdgeKind::ReplayedId && offset > 0 {
            let pick = rng.index(offset);
            (0..=pick)
                .rev()
                .find(|&j| plan.slots[j] != Slot::Edge(EdgeKind::ReplayedId) || j == 0)
                .map(|j| k - (offset - j) as u64)
        } else {
            None
        };
        let kind = if kind == EdgeKind::ReplayedId && replay_of.is_none() {
            EdgeKind::MissingOptionalFields
        } else {
            kind
        };
        let block = k / BLOCK as u64;
        let wanted_country = match kind {
            EdgeKind::ZeroDecimalCurrency => country_index(CountryCode::new("JP")),
            EdgeKind::ThreeDecimalCurrency => country_index(CountryCode::new("KW")),
            _ => None,
        };
        let customer = wanted_country
            .and_then(|c| self.customer_in(c, block, rng))
            .unwrap_or_else(|| legit_customer(block, u64::from(self.config.customers), rng));
        let customer = &self.population.customers[customer as usize];
        let card = customer.cards()[rng.index(customer.cards().len())];
        let mut txn = self.legit_txn(k, ts, customer, card, rng);
        match kind {
            EdgeKind::ZeroAmount => txn.amount_minor = 0,
            EdgeKind::MaxAmount => txn.amount_minor = max_amount_minor(txn.currency),
            EdgeKind::ZeroDecimalCurrency | EdgeKind::ThreeDecimalCurrency => {
                if let Some(ci) =
                    wanted_country.filter(|&ci| COUNTRIES[ci].currency != txn.currency)
                {
                    // No local customer was free: a visitor pays locally.
                    let country = &COUNTRIES[ci];
                    let city = country.cities[rng.index(country.cities.len())];
                    txn.merchant_id = self.population.popular_merchant(&self.catalogue, ci, rng);
                    let (name, mcc) = self.catalogue.name_and_mcc(txn.merchant_id);
                    txn.merchant_name = std::borrow::Cow::Borrowed(name);
                    txn.mcc = mcc;
                    txn.country = country.code;
                    txn.currency = country.currency;
                    txn.lat = city.lat;
                    txn.lon = city.lon;
                    let usd = customer.median_amount_usd() * self.legit_spread.sample(rng);
                    txn.amount_minor = usd_to_minor(usd, country.currency).max(1);
                }
            }
            EdgeKind::MissingOptionalFields => {
                txn.device_id = None;
                txn.ip = None;
            }
            EdgeKind::UnicodeMerchantName => {
                txn.merchant_id = self.catalogue.unicode(rng.next_u64());
                let (name, mcc) = self.catalogue.name_and_mcc(txn.merchant_id);
                txn.merchant_name = std::borrow::Cow::Borrowed(name);
                txn.mcc = mcc;
            }
            EdgeKind::ReplayedId => txn.id = TxnId(replay_of.unwrap_or(k)),
            EdgeKind::DayBoundary => txn.timestamp = start_of_day(ts),
            EdgeKind::MonthBoundary => txn.timestamp = start_of_month(ts),
        }
        (txn, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        for d in [-800_000, -1, 0, 59, 60, 20_454, 20_513, 1_000_000] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn boundaries_are_exact() {
        let t: Timestamp = "2026-03-17T13:45:12.345678Z".parse().unwrap();
        assert_eq!(start_of_day(t).to_string(), "2026-03-17T00:00:00.000000Z");
        assert_eq!(start_of_month(t).to_string(), "2026-03-01T00:00:00.000000Z");
        let leap: Timestamp = "2024-02-29T23:59:59.999999Z".parse().unwrap();
        assert_eq!(
            start_of_month(leap).to_string(),
            "2024-02-01T00:00:00.000000Z"
        );
        let before_epoch = Timestamp::from_secs(-12 * 3600); // 1969-12-31T12:00:00Z
        assert_eq!(start_of_day(before_epoch), Timestamp::from_secs(-86_400));
    }
}

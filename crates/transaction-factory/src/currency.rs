//! Amount scales: rough exchange rates so that a coffee is about 500 yen or 1.2 dinars, conversions
//! between US dollars and a currency's minor units, and the per-transaction maximum amount.

use models::Currency;

/// Units of `currency` per US dollar (approximate 2025 rates; enough for realistic amount scales, not
/// for accounting).
pub const fn units_per_usd(currency: Currency) -> f64 {
    match currency {
        Currency::USD => 1.0,
        Currency::EUR => 0.92,
        Currency::GBP => 0.79,
        Currency::JPY => 150.0,
        Currency::KWD => 0.307,
        Currency::CHF => 0.88,
        Currency::CAD => 1.36,
        Currency::AUD => 1.52,
        Currency::INR => 83.0,
        Currency::BRL => 5.0,
        Currency::MXN => 17.0,
        Currency::SGD => 1.35,
        Currency::SEK => 10.5,
        Currency::ZAR => 18.5,
        Currency::CNY => 7.2,
    }
}

/// Minor units in one major unit: 1 for JPY, 1000 for KWD, 100 for the rest.
pub const fn minor_per_major(currency: Currency) -> f64 {
    match currency.minor_units() {
        0 => 1.0,
        3 => 1000.0,
        _ => 100.0,
    }
}

/// The largest amount of one transaction, in minor units, for every currency: eight digits
/// (99,999,999). This is the per-charge limit card-payment APIs commonly document (Stripe: "up to eight
/// digits", that is 999,999.99 USD), read in each currency's own minor unit:
///
/// | currency (exponent) | maximum | about, in USD |
/// |---|---|---|
/// | USD, EUR, GBP, CHF, CAD, AUD, SGD (2) | 999,999.99 | 0.65 to 1.3 million |
/// | INR, BRL, MXN, SEK, ZAR, CNY (2) | 999,999.99 | 12,000 (INR) to 200,000 (BRL) |
/// | JPY (0) | 99,999,999 | 670,000 |
/// | KWD (3) | 99,999.999 | 330,000 |
///
/// Every generated amount is at most this (the `max_amount` edge case is exactly this), so a target
/// that enforces the limit never sees a valid-looking request above it. The match is exhaustive on
/// purpose: a new currency needs a decision here.
pub const fn max_amount_minor(currency: Currency) -> u64 {
    match currency {
        Currency::USD
        | Currency::EUR
        | Currency::GBP
        | Currency::JPY
        | Currency::KWD
        | Currency::CHF
        | Currency::CAD
        | Currency::AUD
        | Currency::INR
        | Currency::BRL
        | Currency::MXN
        | Currency::SGD
        | Currency::SEK
        | Currency::ZAR
        | Currency::CNY => MAX_AMOUNT_MINOR,
    }
}

/// Eight digits of minor units: see [`max_amount_minor`].
pub const MAX_AMOUNT_MINOR: u64 = 99_999_999;

/// A US-dollar amount expressed in `currency`'s minor units, rounded to the nearest unit.
pub fn usd_to_minor(usd: f64, currency: Currency) -> u64 {
    (usd * units_per_usd(currency) * minor_per_major(currency))
        .round()
        .max(0.0) as u64
}

/// An amount in `currency`'s minor units expressed in US dollars.
pub fn minor_to_usd(minor: u64, currency: Currency) -> f64 {
    minor as f64 / minor_per_major(currency) / units_per_usd(currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_is_eight_digits_in_each_currency() {
        assert_eq!(max_amount_minor(Currency::USD), 99_999_999); // 999,999.99 USD
        assert_eq!(max_amount_minor(Currency::JPY), 99_999_999); // 99,999,999 JPY
        assert_eq!(max_amount_minor(Currency::KWD), 99_999_999); // 99,999.999 KWD
        for c in Currency::ALL {
            let usd = minor_to_usd(max_amount_minor(c), c);
            // A large but plausible single payment: never the trillions of the old 12-digit field.
            assert!((10_000.0..2_000_000.0).contains(&usd), "{c}: ${usd}");
        }
    }

    #[test]
    fn a_coffee_has_a_realistic_price_in_each_scale() {
        let coffee = 3.5;
        assert_eq!(usd_to_minor(coffee, Currency::USD), 350);
        let yen = usd_to_minor(coffee, Currency::JPY);
        assert!((400..700).contains(&yen), "{yen} yen");
        let fils = usd_to_minor(coffee, Currency::KWD);
        assert!((900..1400).contains(&fils), "{fils} fils");
        for c in Currency::ALL {
            let back = minor_to_usd(usd_to_minor(coffee, c), c);
            assert!((back - coffee).abs() < 0.02, "{c}: {back}");
        }
    }
}

//! Amount scales: rough exchange rates so that a coffee is about 500 yen or 1.2 dinars, and
//! conversions between US dollars and a currency's minor units.

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

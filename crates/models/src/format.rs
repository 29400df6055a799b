//! Numbers for people: thousands separators and sensible units, in one place for the terminal and
//! the report (the live pages have the same rules in `dashboard.js`'s `FS.fmt*` helpers). Large
//! figures are never printed as a bare run of digits: `155616116.81 USD` reads as `155,616,117 USD`,
//! a 19,598,907 % ROI as `195,989×`.
//!
//! ```
//! use models::{Currency, format};
//! assert_eq!(format::thousands(1_314.75, 2), "1,314.75");
//! assert_eq!(format::money(155_616_116.81, Currency::USD), "155,616,117 USD");
//! assert_eq!(format::money(1_314.75, Currency::EUR), "1,314.75 EUR");
//! assert_eq!(format::roi(19_598_907.0), "195,989×");
//! assert_eq!(format::roi(250.0), "250%");
//! ```

use crate::transaction::Currency;

/// `value` with `decimals` decimals and a comma between groups of three digits: `1,234,567.89`.
/// Not-finite values print as `NaN`, `inf`, `-inf`; `-0` prints as `0`.
pub fn thousands(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let text = format!("{:.decimals$}", value.abs());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    // Rounding can make a tiny negative value all zeros: no sign then.
    if value < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn count(value: u64) -> String {
    thousands(value as f64, 0)
}

/// An amount without its currency: whole units from 10,000 up (`155,616,117`), cents below
/// (`1,314.75`, `0.27`), and three significant digits under one unit so that a cost per
/// transaction does not read as `0.00` (`0.000270`).
pub fn amount(value: f64) -> String {
    let a = value.abs();
    if a >= 10_000.0 {
        thousands(value, 0)
    } else if a >= 1.0 || a == 0.0 || !a.is_finite() {
        thousands(value, 2)
    } else {
        // Three significant digits: 0.000270, 0.0123, 0.500.
        let decimals = (2 - a.log10().floor() as i64).clamp(2, 12) as usize;
        thousands(value, decimals)
    }
}

/// An amount and its currency code: `155,616,117 USD`, `1,314.75 EUR`, `0.000270 USD`.
pub fn money(value: f64, currency: Currency) -> String {
    format!("{} {currency}", amount(value))
}

/// A number a user typed, for an error message: as typed up to a trillion (`0.1`, `75000`), in
/// scientific notation beyond (`1e300` reads `1e300`, not 301 digits).
pub fn given(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e12 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// A ROI given in percent. Up to 10,000 % it prints as a percentage (`250%`, `-12.5%`); above, as
/// the multiple of the cost it returned net, which is easier to read (`19,598,907 %` → `195,989×`).
pub fn roi(roi_pct: f64) -> String {
    if roi_pct.abs() >= 10_000.0 {
        format!("{}×", thousands(roi_pct / 100.0, 0))
    } else {
        let text = thousands(roi_pct, 1);
        format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_given_number_stays_short() {
        assert_eq!(given(1e300), "1e300");
        assert_eq!(given(75_000.0), "75000");
        assert_eq!(given(0.1), "0.1");
        assert_eq!(given(f64::INFINITY), "inf");
    }

    #[test]
    fn separates_thousands_and_rounds() {
        assert_eq!(thousands(155_616_116.81, 0), "155,616,117");
        assert_eq!(thousands(155_616_116.81, 2), "155,616,116.81");
        assert_eq!(thousands(999.995, 2), "1,000.00");
        assert_eq!(thousands(-1_234.5, 1), "-1,234.5");
        assert_eq!(thousands(-0.001, 2), "0.00");
        assert_eq!(thousands(12.0, 0), "12");
        assert_eq!(thousands(f64::NAN, 2), "NaN");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(0), "0");
    }

    #[test]
    fn money_and_roi_read_well() {
        assert_eq!(money(155_616_116.81, Currency::USD), "155,616,117 USD");
        assert_eq!(money(1_314.75, Currency::USD), "1,314.75 USD");
        assert_eq!(money(0.000_27, Currency::USD), "0.000270 USD");
        assert_eq!(money(0.5, Currency::USD), "0.500 USD");
        assert_eq!(money(0.0, Currency::USD), "0.00 USD");
        assert_eq!(roi(19_598_907.0), "195,989×");
        assert_eq!(roi(-50.0), "-50%");
        assert_eq!(roi(1_234.56), "1,234.6%");
    }

    proptest! {
        /// Taking the commas out gives Rust's own rounding back, and every group after the first
        /// has three digits.
        #[test]
        fn commas_only_group_the_digits(v in -1e15f64..1e15, decimals in 0usize..4) {
            let text = thousands(v, decimals);
            let plain = format!("{v:.decimals$}");
            let plain = if plain.trim_start_matches('-').bytes().all(|b| b == b'0' || b == b'.') {
                plain.trim_start_matches('-').to_owned()
            } else {
                plain
            };
            prop_assert_eq!(text.replace(',', ""), plain);
            let whole = text.trim_start_matches('-').split('.').next().unwrap();
            let groups: Vec<&str> = whole.split(',').collect();
            prop_assert!(!groups[0].is_empty() && groups[0].len() <= 3);
            prop_assert!(groups[1..].iter().all(|g| g.len() == 3));
        }
    }
}

//! Number formatting shared by the HTML, the JUnit XML and the comparison table. Thousands
//! separators, money and ROI come from [`models::format`], shared with the terminal.

/// A figure with at most `decimals` decimals and no trailing zeros: `612.4`, `1000`, `0.0012`.
pub fn trim(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

/// A figure with about four significant digits, for tables: `612.4`, `12345`, `0.0001234`.
pub fn sig(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return trim(value, 0);
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 12) as usize;
    trim(value, decimals)
}

/// Thousands separators for counts: `1234567` → `1,234,567` ([`models::format::count`], the one
/// formatter the terminal shares).
pub use models::format::count;

/// A share (0..1) as a percentage: `0.9543` → `95.43%`.
pub fn pct(share: f64) -> String {
    format!("{}%", trim(share * 100.0, 2))
}

/// Seconds as `9m 59s`, `1h 02m 03s` or `12.5s`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return trim(seconds, 1);
    }
    if seconds < 60.0 {
        return format!("{}s", trim(seconds, 1));
    }
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// Rounds for the chart data so the embedded JSON stays small.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_figures() {
        assert_eq!(trim(612.40, 3), "612.4");
        assert_eq!(trim(1000.0, 2), "1000");
        assert_eq!(trim(-0.0001, 2), "0");
        assert_eq!(sig(0.000_123_46), "0.0001235");
        assert_eq!(sig(12_345.6), "12346");
        assert_eq!(sig(99.994), "99.99");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(pct(0.954_32), "95.43%");
        assert_eq!(duration(599.6), "10m 00s");
        assert_eq!(duration(3723.0), "1h 02m 03s");
        assert_eq!(duration(12.5), "12.5s");
        assert_eq!(round_to(1.23456, 2), 1.23);
    }
}

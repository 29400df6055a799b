//! Serde helpers for durations written the way people write them: `"60s"`, `"1m30s"`, `"250ms"`, or a
//! bare number of seconds (`60`, `0.5`). Serialized back as a humantime string.
//!
//! Every duration a user can write is at most [`MAX`] (30 days): longer ones are refused here, where
//! they are read, so that no later conversion or `Instant` arithmetic can overflow (`1e20` seconds
//! used to panic in `Duration::from_secs_f64`, mid-run).

use serde::{Deserialize, Deserializer, Serializer, de};
use std::time::Duration;

/// The longest duration fraudstress accepts anywhere (30 days): far beyond any test, and far below
/// what `Duration` and `Instant` arithmetic can hold.
pub const MAX: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parses `"60s"`, `"1m30s"`, `"250ms"` or a decimal number of seconds (`"2.5"`), at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs);
    }
    let d = humantime::parse_duration(t).map_err(|e| {
        format!("invalid duration {t:?}: {e}; write it like \"60s\", \"1m30s\", \"250ms\" or a number of seconds")
    })?;
    at_most_max(d, t)
}

/// A number of seconds as a `Duration`: finite, non-negative and at most [`MAX`], checked before the
/// conversion (which panics above `u64::MAX` seconds).
pub fn secs_to_duration(secs: f64) -> Result<Duration, String> {
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!(
            "invalid duration {secs}: must be a finite, non-negative number of seconds"
        ));
    }
    if secs > MAX.as_secs_f64() {
        return Err(too_long(&format!("{secs} s")));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn at_most_max(d: Duration, text: &str) -> Result<Duration, String> {
    if d > MAX { Err(too_long(text)) } else { Ok(d) }
}

fn too_long(text: &str) -> String {
    format!(
        "invalid duration {text}: longer than {}, the longest duration accepted",
        format(MAX)
    )
}

/// Formats a duration as humantime does (`1m 30s`), with no spaces (`1m30s`) so it stays one token.
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Secs(f64),
}

fn from_raw<E: de::Error>(raw: Raw) -> Result<Duration, E> {
    match raw {
        Raw::Text(t) => parse(&t).map_err(E::custom),
        Raw::Secs(s) => secs_to_duration(s).map_err(E::custom),
    }
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    from_raw(Raw::deserialize(d)?)
}

/// The same for `Option<Duration>`; use with `#[serde(default, with = "models::duration_serde::option")]`.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            Some(raw) => from_raw(raw).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_durations_beyond_the_maximum() {
        for text in ["1e19", "1e20", "1e300", "2592001", "31days", "100000h"] {
            let e = parse(text).unwrap_err();
            assert!(e.contains("longest duration accepted"), "{text}: {e}");
        }
        assert_eq!(parse("2592000").unwrap(), MAX);
        assert_eq!(parse("30days").unwrap(), MAX);
        let e = deserialize(&mut serde_json::Deserializer::from_str("1e20")).unwrap_err();
        assert!(e.to_string().contains("longest duration accepted"), "{e}");
    }

    proptest::proptest! {
        /// No text and no number makes the parser panic; whatever it accepts is at most MAX.
        #[test]
        fn never_panics(text in "\\PC{0,24}", secs in proptest::num::f64::ANY) {
            if let Ok(d) = parse(&text) { proptest::prop_assert!(d <= MAX); }
            if let Ok(d) = secs_to_duration(secs) { proptest::prop_assert!(d <= MAX); }
            if let Ok(d) = parse(&secs.to_string()) { proptest::prop_assert!(d <= MAX); }
        }
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2.5").unwrap(), Duration::from_millis(2500));
        assert!(parse("-1").is_err());
        assert!(parse("soon").unwrap_err().contains("60s"));
        // Past Duration::MAX: an error, not a panic.
        assert!(parse("1e20").unwrap_err().contains("longest duration"));
        assert!(deserialize(&mut serde_json::Deserializer::from_str("1e300")).is_err());
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
    }
}

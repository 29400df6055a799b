//! Serde helpers for durations written the way people write them: `"60s"`, `"1m30s"`, `"250ms"`, or a
//! bare number of seconds (`60`, `0.5`). Serialized back as a humantime string.

use serde::{Deserialize, Deserializer, Serializer, de};
use std::time::Duration;

/// Parses `"60s"`, `"1m30s"`, `"250ms"` or a decimal number of seconds (`"2.5"`).
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs);
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("invalid duration {t:?}: {e}; write it like \"60s\", \"1m30s\", \"250ms\" or a number of seconds")
    })
}

fn secs_to_duration(secs: f64) -> Result<Duration, String> {
    if secs.is_finite() && secs >= 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!(
            "invalid duration {secs}: must be a finite, non-negative number of seconds"
        ))
    }
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
    fn parses_common_forms() {
        assert_eq!(parse("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2.5").unwrap(), Duration::from_millis(2500));
        assert!(parse("-1").is_err());
        assert!(parse("soon").unwrap_err().contains("60s"));
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
    }
}

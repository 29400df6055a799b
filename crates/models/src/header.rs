//! Request header values as a scenario writes them. A value may name environment variables
//! (`"Bearer ${API_TOKEN}"`) so that secrets stay out of files; they are expanded when the scenario
//! loads, through a lookup the caller passes (this crate reads no environment). The expanded value is
//! what is sent; it is never shown by `Debug` nor written back by `Serialize`, which keep the text as
//! written.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A header value: the text as written, and its expansion once [`HeaderValueSpec::expand`] ran.
///
/// ```
/// use models::HeaderValueSpec;
/// let mut v = HeaderValueSpec::new("Bearer ${API_TOKEN}");
/// assert!(v.needs_expansion());
/// v.expand("Authorization", |name| (name == "API_TOKEN").then(|| "s3cr3t".to_owned())).unwrap();
/// assert_eq!(v.value(), "Bearer s3cr3t");
/// assert!(!format!("{v:?}").contains("s3cr3t"));
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#""Bearer ${API_TOKEN}""#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderValueSpec {
    written: String,
    expanded: Option<String>,
}

/// A header value whose `${NAME}` references cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderEnvError {
    #[error(
        "target.headers.{header} uses ${{{variable}}}, but the environment variable {variable} is not set; \
         set it before starting (export {variable}=...) or change the header"
    )]
    Unset { header: String, variable: String },
    #[error(
        "target.headers.{header}: {reason}; a reference is written ${{NAME}}, NAME being letters, digits and _"
    )]
    Malformed { header: String, reason: String },
}

impl HeaderValueSpec {
    pub fn new(written: impl Into<String>) -> Self {
        Self {
            written: written.into(),
            expanded: None,
        }
    }

    /// The text as written in the scenario (with its `${NAME}` references).
    pub fn as_written(&self) -> &str {
        &self.written
    }

    /// True while the text names variables that have not been expanded.
    pub fn needs_expansion(&self) -> bool {
        self.expanded.is_none() && self.written.contains("${")
    }

    /// What to send: the expansion, or the text as written when it names no variable.
    pub fn value(&self) -> &str {
        self.expanded.as_deref().unwrap_or(&self.written)
    }

    /// What to show: the text as written when it names variables (it holds no secret), `***`
    /// otherwise (a literal value may be a key).
    pub fn masked(&self) -> &str {
        if self.written.contains("${") {
            &self.written
        } else {
            "***"
        }
    }

    /// Replaces every `${NAME}` with `lookup(NAME)`; `header` names the header in errors. A value
    /// that names no variable is left as it is.
    pub fn expand(
        &mut self,
        header: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), HeaderEnvError> {
        if !self.written.contains("${") {
            return Ok(());
        }
        let malformed = |reason: String| HeaderEnvError::Malformed {
            header: header.to_owned(),
            reason,
        };
        let mut out = String::with_capacity(self.written.len());
        let mut rest = self.written.as_str();
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| malformed(format!("${{ at {:?} is never closed with }}", rest)))?;
            let name = &after[..end];
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(malformed(format!("${{{name}}} is not a variable name")));
            }
            let value = lookup(name).ok_or_else(|| HeaderEnvError::Unset {
                header: header.to_owned(),
                variable: name.to_owned(),
            })?;
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        self.expanded = Some(out);
        Ok(())
    }
}

impl fmt::Debug for HeaderValueSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.masked(), f)
    }
}

impl From<&str> for HeaderValueSpec {
    fn from(written: &str) -> Self {
        Self::new(written)
    }
}

impl From<String> for HeaderValueSpec {
    fn from(written: String) -> Self {
        Self::new(written)
    }
}

impl Serialize for HeaderValueSpec {
    /// The text as written: a scenario written back (a run's `scenario.toml`) holds no secret.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.written)
    }
}

impl<'de> Deserialize<'de> for HeaderValueSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("abc".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_expand_and_literals_stay() {
        let mut v = HeaderValueSpec::new("a ${TOKEN}-${TOKEN}${EMPTY} b");
        v.expand("X", env).unwrap();
        assert_eq!(v.value(), "a abc-abc b");
        assert_eq!(v.as_written(), "a ${TOKEN}-${TOKEN}${EMPTY} b");
        let mut plain = HeaderValueSpec::from("key $TOKEN {x}");
        plain.expand("X", env).unwrap();
        assert!(!plain.needs_expansion());
        assert_eq!(plain.value(), "key $TOKEN {x}");
        assert_eq!(plain.masked(), "***");
        assert_eq!(format!("{plain:?}"), "\"***\"");
    }

    #[test]
    fn unset_and_malformed_references_name_the_header_and_variable() {
        let err = HeaderValueSpec::new("Bearer ${NOPE}")
            .expand("Authorization", env)
            .unwrap_err();
        assert_eq!(
            err,
            HeaderEnvError::Unset {
                header: "Authorization".into(),
                variable: "NOPE".into()
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("target.headers.Authorization") && text.contains("${NOPE}"),
            "{text}"
        );
        for bad in ["${TOKEN", "${}", "${1X}", "${A-B}"] {
            let err = HeaderValueSpec::new(bad).expand("X-Key", env).unwrap_err();
            assert!(
                matches!(&err, HeaderEnvError::Malformed { header, .. } if header == "X-Key"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_serialization() {
        let mut v = HeaderValueSpec::new("${TOKEN}");
        v.expand("X", env).unwrap();
        assert_eq!(format!("{v:?}"), "\"${TOKEN}\"");
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"${TOKEN}\"");
        let back: HeaderValueSpec = serde_json::from_str("\"${TOKEN}\"").unwrap();
        assert!(back.needs_expansion());
    }
}

//! The factory's configuration and the errors its validation reports.

use models::{MixSpec, Timestamp};

/// Smallest population: each block's episodes need distinct customers from one of 16 stripes.
pub const MIN_CUSTOMERS: u32 = 4096;
/// Largest population (memory: about 150 bytes per customer).
pub const MAX_CUSTOMERS: u32 = 50_000_000;
/// Smallest merchant catalogue (every country needs a few dozen regular merchants).
pub const MIN_MERCHANTS: u32 = 1000;
/// Largest merchant catalogue.
pub const MAX_MERCHANTS: u32 = 100_000_000;

/// What to generate. Same seed and same config give the same stream, bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct FactoryConfig {
    /// Shares of legit, fraud and edge-case transactions (default 80/15/5).
    pub mix: MixSpec,
    /// Timestamp of transaction 0 (default 2026-01-01T00:00:00Z).
    pub start: Timestamp,
    /// Planned rate of the stream's own clock: transaction `k` is stamped `start + k / rate_tps`
    /// seconds (default 1000). Pattern timings (bursts within seconds) assume at least about 10.
    pub rate_tps: f64,
    /// Number of customers (default 50,000).
    pub customers: u32,
    /// Number of regular merchants, spread over the countries by weight (default 20,000).
    pub merchants: u32,
}

impl Default for FactoryConfig {
    fn default() -> Self {
        Self {
            mix: MixSpec::default(),
            start: Timestamp::from_secs(1_767_225_600),
            rate_tps: 1000.0,
            customers: 50_000,
            merchants: 20_000,
        }
    }
}

impl FactoryConfig {
    /// Checks every field; the error names the field and what to change.
    pub fn validate(&self) -> Result<(), FactoryError> {
        self.mix
            .validate()
            .map_err(|reason| FactoryError::InvalidMix { reason })?;
        if !(self.rate_tps.is_finite() && self.rate_tps > 0.0) {
            return Err(FactoryError::InvalidRate {
                rate_tps: self.rate_tps,
            });
        }
        if !(MIN_CUSTOMERS..=MAX_CUSTOMERS).contains(&self.customers) {
            return Err(FactoryError::Customers {
                customers: self.customers,
            });
        }
        if !(MIN_MERCHANTS..=MAX_MERCHANTS).contains(&self.merchants) {
            return Err(FactoryError::Merchants {
                merchants: self.merchants,
            });
        }
        Ok(())
    }
}

/// Why a factory could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactoryError {
    #[error(
        "factory config field `mix`: {reason}; give legit, fraud and edge shares between 0 and 1 that add up to 1"
    )]
    InvalidMix { reason: String },
    #[error(
        "factory config field `rate_tps` = {rate_tps}: the stream clock needs a finite rate above 0 transactions per second"
    )]
    InvalidRate { rate_tps: f64 },
    #[error(
        "factory config field `customers` = {customers}: use between {MIN_CUSTOMERS} and {MAX_CUSTOMERS} \
         (fraud episodes need distinct customers in every block)"
    )]
    Customers { customers: u32 },
    #[error(
        "factory config field `merchants` = {merchants}: use between {MIN_MERCHANTS} and {MAX_MERCHANTS}"
    )]
    Merchants { merchants: u32 },
    #[error(
        "internal distribution `{what}` rejected its parameters ({reason}); this is a bug in transaction-factory"
    )]
    Distribution { what: &'static str, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_starts_on_new_year_2026() {
        let c = FactoryConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.start.to_string(), "2026-01-01T00:00:00.000000Z");
    }

    #[test]
    fn bad_fields_are_named() {
        let mut c = FactoryConfig {
            rate_tps: 0.0,
            ..FactoryConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("rate_tps"));
        c.rate_tps = f64::NAN;
        assert!(matches!(
            c.validate(),
            Err(FactoryError::InvalidRate { .. })
        ));
        c = FactoryConfig {
            customers: 10,
            ..FactoryConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("customers"));
        c = FactoryConfig {
            merchants: 1,
            ..FactoryConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("merchants"));
        c = FactoryConfig::default();
        c.mix.fraud = 0.5;
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("mix") && msg.contains("add up"), "{msg}");
    }
}

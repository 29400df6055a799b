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
/// Mean stream time between two transactions of one customer in the streams the orchestrator sends
/// (see [`FactoryConfig::with_purchase_interval`]): one an hour, so that a card's transactions are
/// as far apart as a busy cardholder's, not seconds apart because the test sends fast.
pub const DEFAULT_PURCHASE_INTERVAL_S: f64 = 3600.0;
/// Slowest stream clock at which fraud bursts still fit their windows (an episode is placed within a
/// few dozen indices: a few seconds at this rate, inside [`crate::fraud::VELOCITY_WINDOW_SECS`]).
pub const MIN_STREAM_RATE_TPS: f64 = 10.0;

/// What to generate. Same seed and same config give the same stream, bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct FactoryConfig {
    /// Shares of legit, fraud and edge-case transactions (default 80/15/5).
    pub mix: MixSpec,
    /// Timestamp of transaction 0 (default 2026-01-01T00:00:00Z).
    pub start: Timestamp,
    /// Rate of the stream's own clock: transaction `k` is stamped `start + k / rate_tps` seconds
    /// (default 1000). It is a property of the simulated world, not of the test: with `customers`
    /// it sets how often a customer transacts (`customers / rate_tps` seconds apart on average), and
    /// a load driver may send the stream at any rate. Pattern timings (bursts within seconds) assume
    /// at least [`MIN_STREAM_RATE_TPS`].
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
    /// Mean stream time, in seconds, between two transactions of one customer: `customers / rate_tps`.
    pub fn purchase_interval_s(&self) -> f64 {
        f64::from(self.customers) / self.rate_tps
    }

    /// Sets the stream clock (`rate_tps`) so that each customer transacts every `interval_s` seconds
    /// of stream time on average, whatever rate the stream is sent at; never slower than
    /// [`MIN_STREAM_RATE_TPS`] (a smaller population then transacts more often).
    ///
    /// ```
    /// use transaction_factory::{DEFAULT_PURCHASE_INTERVAL_S, FactoryConfig};
    /// let c = FactoryConfig::default().with_purchase_interval(DEFAULT_PURCHASE_INTERVAL_S);
    /// assert!((c.purchase_interval_s() - 3600.0).abs() < 1e-6);
    /// assert!((c.rate_tps - 50_000.0 / 3600.0).abs() < 1e-9);
    /// ```
    pub fn with_purchase_interval(mut self, interval_s: f64) -> Self {
        self.rate_tps = (f64::from(self.customers) / interval_s).max(MIN_STREAM_RATE_TPS);
        self
    }

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

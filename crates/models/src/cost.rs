//! The declared cost model and currency table that business metrics are derived from.
//! Nothing here is measured: these are the user's inputs, printed beside every figure they produce.

use crate::transaction::Currency;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What running the detector costs.
///
/// `total_cost = completed * per_txn_infra + completed * model_calls_per_txn * per_model_call + hours * fixed_per_hour`,
/// `cost_per_txn = total_cost / completed`, `roi_pct = (prevented_amount - total_cost) / total_cost * 100`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostModel {
    /// The reporting currency: amounts are converted to it with `fx`.
    pub currency: Currency,
    /// Infrastructure cost per transaction (compute, stream, store).
    pub per_txn_infra: f64,
    /// Cost of one model call.
    pub per_model_call: f64,
    /// Model calls per transaction.
    pub model_calls_per_txn: f64,
    /// Fixed cost per hour (always-on capacity).
    pub fixed_per_hour: f64,
    /// Units of the reporting currency per unit of each currency (a declared fixed table).
    pub fx: FxTable,
}

impl Default for CostModel {
    fn default() -> Self {
        // Declared example inputs of the order of a serverless pipeline with one model call per
        // transaction; users replace them with their own in the scenario's `[cost]` table.
        Self {
            currency: Currency::USD,
            per_txn_infra: 0.000_02,
            per_model_call: 0.000_25,
            model_calls_per_txn: 1.0,
            fixed_per_hour: 1.20,
            fx: FxTable::default(),
        }
    }
}

/// Fixed conversion rates to the reporting currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FxTable(pub BTreeMap<Currency, f64>);

impl Default for FxTable {
    /// USD per unit, rounded, declared once for reproducible reports (not live rates).
    fn default() -> Self {
        use Currency::*;
        Self(BTreeMap::from([
            (USD, 1.0),
            (EUR, 1.08),
            (GBP, 1.27),
            (JPY, 0.0067),
            (KWD, 3.25),
            (CHF, 1.13),
            (CAD, 0.73),
            (AUD, 0.66),
            (INR, 0.012),
            (BRL, 0.18),
            (MXN, 0.055),
            (SGD, 0.75),
            (SEK, 0.095),
            (ZAR, 0.055),
            (CNY, 0.14),
        ]))
    }
}

impl FxTable {
    /// Converts an amount in `from` to the table's base currency, given the base's own rate.
    /// Returns `None` when either currency has no rate.
    pub fn convert(&self, amount: f64, from: Currency, to: Currency) -> Option<f64> {
        let from_rate = self.0.get(&from)?;
        let to_rate = self.0.get(&to)?;
        Some(amount * from_rate / to_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_through_the_table() {
        let fx = FxTable::default();
        assert_eq!(fx.convert(100.0, Currency::USD, Currency::USD), Some(100.0));
        let eur_in_usd = fx.convert(100.0, Currency::EUR, Currency::USD).unwrap();
        assert!((eur_in_usd - 108.0).abs() < 1e-9);
        for c in Currency::ALL {
            assert!(fx.0.contains_key(&c), "{c} has a declared rate");
        }
    }
}

//! The declared cost model and currency table that business metrics are derived from.
//! Nothing here is measured: these are the user's inputs, printed beside every figure they produce.

use crate::transaction::Currency;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What running the detector costs.
///
/// `total_cost = completed * per_txn_infra + completed * model_calls_per_txn * per_model_call + hours * fixed_per_hour`,
/// `cost_per_txn = total_cost / completed`,
/// `false_decline_loss = false_decline_cost_ratio * false_decline_amount` and the net
/// `roi_pct = (prevented_amount - false_decline_loss - total_cost) / total_cost * 100` ([`CostModel::roi_pct`]).
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
    /// The share of a falsely declined legitimate amount that the business loses (the margin on
    /// the sale, the customer who pays elsewhere or leaves), 0..=1. Counted against the prevented
    /// fraud in the net ROI.
    pub false_decline_cost_ratio: f64,
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
            // A declined good customer mostly retries, pays another way or buys later; what is lost
            // is the margin on the sales that do not come back and some of the customers. A tenth
            // of the declined amount is a conservative order for card-not-present retail (margins
            // of a few to 30 %, part of the declined customers lost); users set their own.
            false_decline_cost_ratio: 0.1,
            fx: FxTable::default(),
        }
    }
}

impl CostModel {
    /// What the falsely declined legitimate amount costs the business:
    /// `false_decline_cost_ratio × false_decline_amount`.
    pub fn false_decline_loss(&self, false_decline_amount: f64) -> f64 {
        self.false_decline_cost_ratio * false_decline_amount
    }

    /// The net ROI in percent: `(prevented − false_decline_loss − total_cost) / total_cost × 100`,
    /// with `false_decline_loss` from [`Self::false_decline_loss`]; 0 when nothing has cost anything.
    ///
    /// ```
    /// let m = models::CostModel { false_decline_cost_ratio: 0.1, ..Default::default() };
    /// // 1,000 prevented, 500 declined in error (50 lost), 10 spent: (1000 − 50 − 10) / 10 = 9,400 %.
    /// assert_eq!(m.roi_pct(1_000.0, 500.0, 10.0), 9_400.0);
    /// ```
    pub fn roi_pct(&self, prevented: f64, false_decline_amount: f64, total_cost: f64) -> f64 {
        if total_cost > 0.0 {
            (prevented - self.false_decline_loss(false_decline_amount) - total_cost) / total_cost
                * 100.0
        } else {
            0.0
        }
    }

    /// The net ROI formula as the pages and the report print it beside the figure.
    pub const ROI_FORMULA: &'static str = "ROI = (prevented − false_decline_cost_ratio × falsely declined amount − total cost) ÷ total cost";
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

    #[test]
    fn roi_is_net_of_false_declines_and_cost() {
        let m = CostModel {
            false_decline_cost_ratio: 0.25,
            ..CostModel::default()
        };
        assert_eq!(m.false_decline_loss(400.0), 100.0);
        // (1000 − 0.25 × 400 − 100) / 100 = 800 %.
        assert!((m.roi_pct(1_000.0, 400.0, 100.0) - 800.0).abs() < 1e-9);
        // Declines that cost more than the fraud caught make it negative.
        assert!(m.roi_pct(10.0, 1_000.0, 10.0) < -100.0);
        assert_eq!(m.roi_pct(5.0, 0.0, 0.0), 0.0);
        let gross = CostModel {
            false_decline_cost_ratio: 0.0,
            ..CostModel::default()
        };
        assert!((gross.roi_pct(78.0, 1e6, 39.0) - 100.0).abs() < 1e-9);
        assert_eq!(CostModel::default().false_decline_cost_ratio, 0.1);
    }

    #[test]
    fn old_cost_models_read_with_the_default_ratio() {
        let m: CostModel =
            serde_json::from_str(r#"{"currency":"USD","per_txn_infra":0.1}"#).unwrap();
        assert_eq!(m.false_decline_cost_ratio, 0.1);
    }
}

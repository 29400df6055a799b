//! Cost, ROI and the fraud summary, from the declared [`CostModel`] and the confusion matrices.

use crate::tally::{PATTERNS, Tally, pattern_name};
use models::{BusinessSummary, Confusion, CostModel, FraudSummary, PatternSummary};
use std::collections::BTreeMap;
use std::time::Duration;

/// Running cost in the reporting currency:
/// `completed × (per_txn_infra + model_calls_per_txn × per_model_call) + elapsed_hours × fixed_per_hour`.
/// The fixed hourly part accrues pro rata with the run's elapsed time.
pub fn running_cost(cost: &CostModel, completed: u64, elapsed: Duration) -> f64 {
    completed as f64 * (cost.per_txn_infra + cost.model_calls_per_txn * cost.per_model_call)
        + elapsed.as_secs_f64() / 3600.0 * cost.fixed_per_hour
}

/// The net ROI in percent, from the declared model ([`CostModel::roi_pct`], the one formula):
/// `(prevented − false_decline_cost_ratio × false_declined − total_cost) / total_cost × 100`;
/// 0 when nothing has cost anything yet.
pub fn roi_pct(cost: &CostModel, prevented: f64, false_declined: f64, total_cost: f64) -> f64 {
    cost.roi_pct(prevented, false_declined, total_cost)
}

/// `total_cost / completed`; 0 before the first completion.
pub fn cost_per_txn(total_cost: f64, completed: u64) -> f64 {
    if completed == 0 {
        0.0
    } else {
        total_cost / completed as f64
    }
}

/// Whether a pattern saw anything: an answer, or fraud without one.
fn seen(c: &Confusion) -> bool {
    c.total() > 0 || c.unscored > 0
}

pub(crate) fn per_pattern_map(t: &Tally) -> BTreeMap<String, Confusion> {
    (0..PATTERNS)
        .filter(|&i| seen(&t.confusion[i]))
        .map(|i| (pattern_name(i).to_owned(), t.confusion[i]))
        .collect()
}

pub(crate) fn fraud_summary(t: &Tally, cost: &CostModel) -> FraudSummary {
    let c = t.fraud();
    let per_pattern = (0..PATTERNS)
        .filter(|&i| seen(&t.confusion[i]))
        .map(|i| {
            let p = &t.confusion[i];
            let flagged = p.tp + p.fp;
            let count = p.total();
            (
                pattern_name(i).to_owned(),
                PatternSummary {
                    count,
                    flagged,
                    // A pattern whose every transaction went unanswered flagged none of them.
                    flagged_rate: if count == 0 {
                        0.0
                    } else {
                        flagged as f64 / count as f64
                    },
                    unscored: p.unscored,
                },
            )
        })
        .collect();
    FraudSummary {
        tp: c.tp,
        fp: c.fp,
        tn: c.tn,
        fn_: c.fn_,
        unscored: c.unscored,
        precision: c.precision(),
        recall: c.recall(),
        recall_effective: c.recall_effective(),
        accuracy: c.accuracy(),
        f1: c.f1(),
        prevented_amount: t.prevented,
        false_decline_amount: t.false_declined,
        currency: cost.currency,
        per_pattern,
    }
}

/// `false_declined` is the amount of ordinary legitimate transactions declined (the tally's
/// `false_declined`, `fraud.false_decline_amount`).
pub(crate) fn business_summary(
    prevented: f64,
    false_declined: f64,
    completed: u64,
    elapsed: Duration,
    cost: &CostModel,
) -> BusinessSummary {
    let total_cost = running_cost(cost, completed, elapsed);
    BusinessSummary {
        cost_per_txn: cost_per_txn(total_cost, completed),
        total_cost,
        false_decline_loss: cost.false_decline_loss(false_declined),
        roi_pct: roi_pct(cost, prevented, false_declined, total_cost),
        cost_model: cost.clone(),
        // The run's budget is the scenario's, which the orchestrator records.
        budget: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_formula_includes_the_fixed_part_pro_rata() {
        let cost = CostModel {
            per_txn_infra: 0.001,
            per_model_call: 0.01,
            model_calls_per_txn: 2.0,
            fixed_per_hour: 36.0,
            ..CostModel::default()
        };
        // 1000 × (0.001 + 2 × 0.01) = 21, plus 36/h × 0.5 h = 18.
        let total = running_cost(&cost, 1000, Duration::from_secs(1800));
        assert!((total - 39.0).abs() < 1e-9);
        assert!((cost_per_txn(total, 1000) - 0.039).abs() < 1e-12);
        // Net: the declines cost 0.1 × 390 = 39, so (117 − 39 − 39) / 39 = 100 %.
        assert!((roi_pct(&cost, 117.0, 390.0, total) - 100.0).abs() < 1e-9);
        assert_eq!(roi_pct(&cost, 5.0, 0.0, 0.0), 0.0);
    }

    #[test]
    fn the_summary_s_roi_is_net_of_the_false_decline_loss() {
        let cost = CostModel {
            per_txn_infra: 0.01,
            per_model_call: 0.0,
            fixed_per_hour: 0.0,
            false_decline_cost_ratio: 0.2,
            ..CostModel::default()
        };
        // 1,000 completed cost 10; 500 declined in error lose 100; 1,110 prevented.
        let b = business_summary(1_110.0, 500.0, 1_000, Duration::from_secs(1), &cost);
        assert!((b.total_cost - 10.0).abs() < 1e-9);
        assert!((b.false_decline_loss - 100.0).abs() < 1e-9);
        // (1110 − 100 − 10) / 10 = 10,000 %; the gross figure would have been 11,000 %.
        assert!((b.roi_pct - 10_000.0).abs() < 1e-6);
    }
}

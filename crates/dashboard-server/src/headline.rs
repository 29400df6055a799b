//! The figures every page shows, derived in one place so that the pages agree with each other and,
//! once the run has ended, with `summary.json`.

use models::{CostModel, Currency, IntervalSnapshot, MixSpec, RunState, Summary, TargetInfo};
use serde::Serialize;

/// Headline figures of a run, in the pages' reporting currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Taken from the final summary: these are `summary.json`'s figures.
    #[serde(rename = "final")]
    pub final_: bool,
    /// Extrapolated between two metric ticks from the last tick's rates (never past one tick): the
    /// pages mark such counters as live estimates until the next tick lands.
    pub live: bool,
    /// What was tested, for people ([`TargetInfo::describe`]): the built-in reference service or
    /// the API's host; `None` when the feed was not told.
    pub target: Option<String>,
    /// The declared transaction mix of the synthetic traffic (the scenario's `[mix]`, which the
    /// factory was configured with); `None` when the feed was not told.
    pub mix: Option<MixSpec>,
    /// The mix for people ([`MixSpec::describe`]): `15% fraud, 5% edge cases, synthetic`.
    pub traffic: Option<String>,
    pub t_s: f64,
    pub state: RunState,
    pub phase: Option<String>,
    /// Completed transactions (with a verdict or an error).
    pub transactions: u64,
    /// Fraud declined or sent to review (true positives).
    pub fraud_blocked: u64,
    pub fraud_missed: u64,
    /// Fraud that got no verdict (an error, a timeout, dropped).
    pub fraud_unscored: u64,
    pub false_positives: u64,
    /// Caught fraud amount.
    pub money_saved: f64,
    pub false_decline_amount: f64,
    /// `false_decline_cost_ratio × false_decline_amount`: what the false declines cost.
    pub false_decline_loss: f64,
    /// The declared share of a falsely declined amount the business loses.
    pub false_decline_cost_ratio: f64,
    pub uptime_pct: f64,
    /// The last tick's completions per second; the run's average once final.
    pub tps: f64,
    pub planned_tps: f64,
    pub peak_tps: f64,
    pub accuracy: f64,
    pub precision: f64,
    /// Over answered fraud: the detector's quality.
    pub recall: f64,
    /// Over all fraud, unscored counted as let through (a payment flow that fails open).
    pub recall_effective: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// Arrivals that came due and were not sent ([`Cumulative::not_sent`](models::Cumulative::not_sent)).
    pub dropped: u64,
    pub total_cost: f64,
    pub cost_per_txn: Option<f64>,
    /// Net: `(money_saved - false_decline_loss - total_cost) / total_cost * 100`
    /// ([`CostModel::roi_pct`]); `None` before anything cost anything.
    pub roi_pct: Option<f64>,
    /// The formula of `roi_pct`, printed beside it.
    pub roi_formula: &'static str,
    /// At the current rate, from the cost model's declared inputs.
    pub cost_per_hour: Option<f64>,
    pub cost_per_day: Option<f64>,
    pub currency: Currency,
    /// Units of `currency` per unit of the cost model's currency (1 without conversion).
    pub fx_rate: f64,
    /// The run's declared budget (`limits.budget`), in `currency`; `None` without one.
    pub budget: Option<f64>,
    /// `total_cost / budget × 100`: the share of the budget spent (the run stops at 100).
    pub budget_used_pct: Option<f64>,
}

fn budget_used_pct(total_cost: f64, budget: Option<f64>) -> Option<f64> {
    budget.filter(|b| *b > 0.0).map(|b| total_cost / b * 100.0)
}

/// How amounts are turned into the reporting currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Money {
    pub currency: Currency,
    pub rate: f64,
}

impl Money {
    /// From the cost model's currency to `want` with the model's declared fx table.
    pub fn new(model: &CostModel, want: Option<Currency>) -> Self {
        match want {
            Some(to) if to != model.currency => match model.fx.convert(1.0, model.currency, to) {
                Some(rate) => Money { currency: to, rate },
                None => Money {
                    currency: model.currency,
                    rate: 1.0,
                },
            },
            _ => Money {
                currency: model.currency,
                rate: 1.0,
            },
        }
    }
}

/// The net ROI from amounts in any one currency (the ratio does not depend on which).
fn roi(model: &CostModel, saved: f64, false_declined: f64, cost: f64) -> Option<f64> {
    (cost > 0.0).then(|| model.roi_pct(saved, false_declined, cost))
}

/// Cost per hour at `tps` from the declared model.
pub fn cost_per_hour(model: &CostModel, tps: f64) -> f64 {
    tps * 3600.0 * (model.per_txn_infra + model.model_calls_per_txn * model.per_model_call)
        + model.fixed_per_hour
}

impl Headline {
    /// From the latest tick. `uptime_pct` and `peak_tps` are over all ticks so far.
    pub fn from_frame(
        f: &IntervalSnapshot,
        uptime_pct: f64,
        peak_tps: f64,
        model: &CostModel,
        money: Money,
    ) -> Self {
        let c = &f.cumulative;
        let per_hour = cost_per_hour(model, f.achieved_tps) * money.rate;
        let completed = c.completed;
        Headline {
            final_: false,
            live: false,
            target: None,
            mix: None,
            traffic: None,
            t_s: f.t_s,
            state: f.state,
            phase: f.phase.clone(),
            transactions: completed,
            fraud_blocked: c.fraud.tp,
            fraud_missed: c.fraud.fn_,
            fraud_unscored: c.fraud.unscored,
            false_positives: c.fraud.fp,
            money_saved: c.prevented_amount * money.rate,
            false_decline_amount: c.false_decline_amount * money.rate,
            false_decline_loss: model.false_decline_loss(c.false_decline_amount) * money.rate,
            false_decline_cost_ratio: model.false_decline_cost_ratio,
            uptime_pct,
            tps: f.achieved_tps,
            planned_tps: f.planned_tps,
            peak_tps,
            accuracy: c.fraud.accuracy(),
            precision: c.fraud.precision(),
            recall: c.fraud.recall(),
            recall_effective: c.fraud.recall_effective(),
            p99_ms: c.latency_ms.p99,
            errors: c
                .errors
                .iter()
                .filter(|(k, _)| **k != models::ErrorKind::Dropped)
                .map(|(_, v)| v)
                .sum(),
            dropped: c.not_sent(),
            total_cost: c.cost * money.rate,
            cost_per_txn: (completed > 0).then(|| c.cost * money.rate / completed as f64),
            roi_pct: roi(model, c.prevented_amount, c.false_decline_amount, c.cost),
            roi_formula: CostModel::ROI_FORMULA,
            cost_per_hour: Some(per_hour),
            cost_per_day: Some(per_hour * 24.0),
            currency: money.currency,
            fx_rate: money.rate,
            budget: None,
            budget_used_pct: None,
        }
    }

    /// Sets the run's declared budget (in the cost model's currency) and the share of it spent.
    pub fn with_budget(mut self, budget: Option<f64>, money: Money) -> Self {
        self.budget = budget.map(|b| b * money.rate);
        self.budget_used_pct = budget_used_pct(self.total_cost, self.budget);
        self
    }

    /// Sets what was tested: the target and the declared mix of the synthetic traffic.
    pub fn with_run(mut self, target: Option<&TargetInfo>, mix: Option<MixSpec>) -> Self {
        self.target = target.map(TargetInfo::describe);
        self.mix = mix;
        self.traffic = mix.map(|m| m.describe());
        self
    }

    /// `summary.json`'s figures (converted when the pages report in another currency), with its
    /// target and mix.
    pub fn from_summary(s: &Summary, money: Money) -> Self {
        let b = &s.business;
        Headline {
            final_: true,
            live: false,
            target: None,
            mix: None,
            traffic: None,
            t_s: s.duration_s,
            state: if s.end_reason.starts_with("failed") {
                RunState::Failed
            } else {
                RunState::Completed
            },
            phase: None,
            transactions: s.load.completed,
            fraud_blocked: s.fraud.tp,
            fraud_missed: s.fraud.fn_,
            fraud_unscored: s.fraud.unscored,
            false_positives: s.fraud.fp,
            money_saved: s.fraud.prevented_amount * money.rate,
            false_decline_amount: s.fraud.false_decline_amount * money.rate,
            false_decline_loss: b.false_decline_loss * money.rate,
            false_decline_cost_ratio: b.cost_model.false_decline_cost_ratio,
            uptime_pct: s.resilience.uptime_pct,
            tps: s.load.achieved_tps_avg,
            planned_tps: s.load.target_tps_avg,
            peak_tps: s.load.peak_tps,
            accuracy: s.fraud.accuracy,
            precision: s.fraud.precision,
            recall: s.fraud.recall,
            recall_effective: s.fraud.recall_effective,
            p99_ms: s.latency_ms.p99,
            errors: s.errors.total,
            dropped: s.load.not_sent(),
            total_cost: b.total_cost * money.rate,
            cost_per_txn: (s.load.completed > 0).then_some(b.cost_per_txn * money.rate),
            roi_pct: (b.total_cost > 0.0).then_some(b.roi_pct),
            roi_formula: CostModel::ROI_FORMULA,
            cost_per_hour: None,
            cost_per_day: None,
            currency: money.currency,
            fx_rate: money.rate,
            budget: None,
            budget_used_pct: None,
        }
        .with_budget(b.budget, money)
        .with_run(Some(&s.target), s.mix)
    }

    /// Moves the counters on by `dt` seconds at the rates between `prev` and `last` (the two latest
    /// ticks), at most one tick's worth, so the pages move between ticks; the next tick replaces it.
    pub fn extrapolate(
        &self,
        prev: Option<&IntervalSnapshot>,
        last: &IntervalSnapshot,
        dt: f64,
        model: &CostModel,
        money: Money,
    ) -> Self {
        let mut h = self.clone();
        h.live = true;
        if last.state.is_terminal() || last.state == RunState::Paused || last.interval_s <= 0.0 {
            return h;
        }
        let dt = dt.clamp(0.0, last.interval_s);
        let share = dt / last.interval_s;
        let (c, p) = (
            &last.cumulative,
            prev.map(|p| p.cumulative.clone()).unwrap_or_default(),
        );
        let step =
            |now: u64, before: u64| (now.saturating_sub(before) as f64 * share).round() as u64;
        h.t_s = last.t_s + dt;
        h.transactions += step(c.completed, p.completed);
        h.fraud_blocked += step(c.fraud.tp, p.fraud.tp);
        h.money_saved += (c.prevented_amount - p.prevented_amount).max(0.0) * share * money.rate;
        h.false_decline_amount +=
            (c.false_decline_amount - p.false_decline_amount).max(0.0) * share * money.rate;
        h.false_decline_loss = model.false_decline_loss(h.false_decline_amount);
        h.total_cost += (c.cost - p.cost).max(0.0) * share * money.rate;
        if h.transactions > 0 {
            h.cost_per_txn = Some(h.total_cost / h.transactions as f64);
        }
        h.roi_pct = roi(model, h.money_saved, h.false_decline_amount, h.total_cost);
        h.budget_used_pct = budget_used_pct(h.total_cost, h.budget);
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Confusion;

    fn frame(t: f64, completed: u64, tp: u64, saved: f64, cost: f64) -> IntervalSnapshot {
        let mut f = IntervalSnapshot {
            t_s: t,
            interval_s: 1.0,
            state: RunState::Running,
            achieved_tps: 100.0,
            ..Default::default()
        };
        f.cumulative.completed = completed;
        f.cumulative.fraud = Confusion {
            tp,
            fp: 1,
            tn: completed - tp - 1,
            fn_: 0,
            unscored: 0,
        };
        f.cumulative.prevented_amount = saved;
        f.cumulative.cost = cost;
        f
    }

    #[test]
    fn figures_come_from_the_cumulative_counters() {
        let model = CostModel::default();
        let money = Money::new(&model, None);
        let h = Headline::from_frame(
            &frame(2.0, 200, 20, 500.0, 0.1),
            100.0,
            120.0,
            &model,
            money,
        );
        assert_eq!((h.transactions, h.fraud_blocked), (200, 20));
        assert_eq!((h.fraud_unscored, h.recall_effective), (0, 1.0));
        let mut failing = frame(2.0, 200, 20, 500.0, 0.1);
        failing.cumulative.fraud.fn_ = 5;
        failing.cumulative.fraud.unscored = 25;
        let h = Headline::from_frame(&failing, 100.0, 120.0, &model, money);
        assert_eq!(h.fraud_unscored, 25);
        assert!((h.recall - 0.8).abs() < 1e-12 && (h.recall_effective - 0.4).abs() < 1e-12);
        // No false declines in these frames: the net ROI is (500 − 0 − 0.1) / 0.1.
        assert!((h.roi_pct.unwrap() - 499_900.0).abs() < 1e-6);
        assert!((h.cost_per_txn.unwrap() - 0.0005).abs() < 1e-12);
        let expect_hour = 100.0 * 3600.0 * (0.000_02 + 0.000_25) + 1.2;
        assert!((h.cost_per_hour.unwrap() - expect_hour).abs() < 1e-9);
    }

    /// Arrivals shed at the `max_tps` ceiling were not sent either: the pages' "dropped" is every
    /// arrival not sent, live and final, so that sent + dropped = scheduled.
    #[test]
    fn dropped_counts_the_ceiling_sheds_too() {
        let model = CostModel::default();
        let money = Money::new(&model, None);
        let mut f = frame(2.0, 200, 20, 500.0, 0.1);
        f.cumulative.dropped = 3;
        f.cumulative.dropped_ceiling = 13;
        let h = Headline::from_frame(&f, 100.0, 120.0, &model, money);
        assert_eq!(h.dropped, 16);
        let mut s = Summary::default();
        s.load.dropped = 3;
        s.load.dropped_ceiling = 13;
        assert_eq!(Headline::from_summary(&s, money).dropped, 16);
    }

    #[test]
    fn extrapolation_moves_at_the_last_rate_and_stops_at_one_tick() {
        let model = CostModel::default();
        let money = Money::new(&model, None);
        let (a, b) = (
            frame(1.0, 100, 10, 100.0, 0.05),
            frame(2.0, 200, 20, 300.0, 0.1),
        );
        let h = Headline::from_frame(&b, 100.0, 100.0, &model, money);
        let half = h.extrapolate(Some(&a), &b, 0.5, &model, money);
        assert!(half.live);
        assert_eq!(half.transactions, 250);
        assert_eq!(half.fraud_blocked, 25);
        assert!((half.money_saved - 400.0).abs() < 1e-9);
        let far = h.extrapolate(Some(&a), &b, 30.0, &model, money);
        assert_eq!(far.transactions, 300, "never more than one tick ahead");
        let mut paused = b.clone();
        paused.state = RunState::Paused;
        assert_eq!(
            h.extrapolate(Some(&a), &paused, 0.5, &model, money)
                .transactions,
            200
        );
    }

    #[test]
    fn roi_is_net_of_the_declared_false_decline_loss_live_and_final() {
        let model = CostModel {
            false_decline_cost_ratio: 0.5,
            ..CostModel::default()
        };
        let money = Money::new(&model, None);
        let mut f = frame(2.0, 200, 20, 500.0, 10.0);
        f.cumulative.false_decline_amount = 100.0;
        let h = Headline::from_frame(&f, 100.0, 100.0, &model, money);
        assert!((h.false_decline_loss - 50.0).abs() < 1e-9);
        // (500 − 0.5 × 100 − 10) / 10 = 4,400 %, not the gross 4,900 %.
        assert!((h.roi_pct.unwrap() - 4_400.0).abs() < 1e-9);
        assert_eq!(h.roi_formula, CostModel::ROI_FORMULA);
        let mut s = Summary::default();
        s.fraud.prevented_amount = 500.0;
        s.fraud.false_decline_amount = 100.0;
        s.business.total_cost = 10.0;
        s.business.cost_model = model.clone();
        s.business.false_decline_loss = model.false_decline_loss(100.0);
        s.business.roi_pct = model.roi_pct(500.0, 100.0, 10.0);
        let fin = Headline::from_summary(&s, money);
        assert_eq!(
            (fin.roi_pct, fin.false_decline_loss),
            (h.roi_pct, h.false_decline_loss)
        );
    }

    #[test]
    fn names_the_target_and_the_declared_mix() {
        let model = CostModel::default();
        let money = Money::new(&model, None);
        let mut s = Summary {
            target: TargetInfo::new(
                models::TargetKind::Http,
                Some("https://fraud.example.com/v1/score".into()),
            ),
            mix: Some(MixSpec {
                legit: 0.9,
                fraud: 0.08,
                edge: 0.02,
            }),
            ..Summary::default()
        };
        let h = Headline::from_summary(&s, money);
        assert_eq!(h.target.as_deref(), Some("fraud.example.com"));
        assert_eq!(
            h.traffic.as_deref(),
            Some("8% fraud, 2% edge cases, synthetic")
        );
        s.target = TargetInfo::new(models::TargetKind::Builtin, None);
        let h = Headline::from_frame(&frame(1.0, 10, 1, 0.0, 0.0), 100.0, 10.0, &model, money)
            .with_run(Some(&s.target), Some(MixSpec::default()));
        assert_eq!(
            h.target.as_deref(),
            Some("the built-in reference service (fraud-sim)")
        );
        assert_eq!(h.mix.unwrap().fraud, 0.15);
    }

    #[test]
    fn converts_to_the_reporting_currency_with_the_declared_table() {
        let model = CostModel::default();
        let money = Money::new(&model, Some(Currency::EUR));
        assert_eq!(money.currency, Currency::EUR);
        assert!((money.rate - 1.0 / 1.08).abs() < 1e-12);
        let mut s = Summary::default();
        s.fraud.prevented_amount = 108.0;
        let h = Headline::from_summary(&s, money);
        assert!((h.money_saved - 100.0).abs() < 1e-9);
    }

    #[test]
    fn budget_used_is_the_running_cost_over_the_declared_budget() {
        let model = CostModel::default();
        let money = Money::new(&model, None);
        let h = Headline::from_frame(
            &frame(2.0, 200, 20, 500.0, 8.0),
            100.0,
            100.0,
            &model,
            money,
        );
        assert_eq!(h.budget_used_pct, None, "no budget declared");
        let h = h.with_budget(Some(10.0), money);
        assert_eq!((h.budget, h.budget_used_pct), (Some(10.0), Some(80.0)));
        let mut s = Summary::default();
        s.business.total_cost = 2.5;
        s.business.budget = Some(10.0);
        assert_eq!(
            Headline::from_summary(&s, money).budget_used_pct,
            Some(25.0)
        );
    }
}

//! The figures every page shows, derived in one place so that the pages agree with each other and,
//! once the run has ended, with `summary.json`.

use models::{CostModel, Currency, IntervalSnapshot, RunState, Summary};
use serde::Serialize;

/// Headline figures of a run, in the pages' reporting currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Taken from the final summary: these are `summary.json`'s figures.
    #[serde(rename = "final")]
    pub final_: bool,
    /// Extrapolated between two metric ticks from the last tick's rates (never past one tick).
    pub live: bool,
    pub t_s: f64,
    pub state: RunState,
    pub phase: Option<String>,
    /// Completed transactions (with a verdict or an error).
    pub transactions: u64,
    /// Fraud declined or sent to review (true positives).
    pub fraud_blocked: u64,
    pub fraud_missed: u64,
    pub false_positives: u64,
    /// Caught fraud amount.
    pub money_saved: f64,
    pub false_decline_amount: f64,
    pub uptime_pct: f64,
    /// The last tick's completions per second; the run's average once final.
    pub tps: f64,
    pub planned_tps: f64,
    pub peak_tps: f64,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub dropped: u64,
    pub total_cost: f64,
    pub cost_per_txn: Option<f64>,
    /// `(money_saved - total_cost) / total_cost * 100`; `None` before anything cost anything.
    pub roi_pct: Option<f64>,
    /// At the current rate, from the cost model's declared inputs.
    pub cost_per_hour: Option<f64>,
    pub cost_per_day: Option<f64>,
    pub currency: Currency,
    /// Units of `currency` per unit of the cost model's currency (1 without conversion).
    pub fx_rate: f64,
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

fn roi(saved: f64, cost: f64) -> Option<f64> {
    (cost > 0.0).then(|| (saved - cost) / cost * 100.0)
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
            t_s: f.t_s,
            state: f.state,
            phase: f.phase.clone(),
            transactions: completed,
            fraud_blocked: c.fraud.tp,
            fraud_missed: c.fraud.fn_,
            false_positives: c.fraud.fp,
            money_saved: c.prevented_amount * money.rate,
            false_decline_amount: c.false_decline_amount * money.rate,
            uptime_pct,
            tps: f.achieved_tps,
            planned_tps: f.planned_tps,
            peak_tps,
            accuracy: c.fraud.accuracy(),
            precision: c.fraud.precision(),
            recall: c.fraud.recall(),
            p99_ms: c.latency_ms.p99,
            errors: c
                .errors
                .iter()
                .filter(|(k, _)| **k != models::ErrorKind::Dropped)
                .map(|(_, v)| v)
                .sum(),
            dropped: c.dropped,
            total_cost: c.cost * money.rate,
            cost_per_txn: (completed > 0).then(|| c.cost * money.rate / completed as f64),
            roi_pct: roi(c.prevented_amount, c.cost),
            cost_per_hour: Some(per_hour),
            cost_per_day: Some(per_hour * 24.0),
            currency: money.currency,
            fx_rate: money.rate,
        }
    }

    /// `summary.json`'s figures (converted when the pages report in another currency).
    pub fn from_summary(s: &Summary, money: Money) -> Self {
        let b = &s.business;
        Headline {
            final_: true,
            live: false,
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
            false_positives: s.fraud.fp,
            money_saved: s.fraud.prevented_amount * money.rate,
            false_decline_amount: s.fraud.false_decline_amount * money.rate,
            uptime_pct: s.resilience.uptime_pct,
            tps: s.load.achieved_tps_avg,
            planned_tps: s.load.target_tps_avg,
            peak_tps: s.load.peak_tps,
            accuracy: s.fraud.accuracy,
            precision: s.fraud.precision,
            recall: s.fraud.recall,
            p99_ms: s.latency_ms.p99,
            errors: s.errors.total,
            dropped: s.load.dropped,
            total_cost: b.total_cost * money.rate,
            cost_per_txn: (s.load.completed > 0).then_some(b.cost_per_txn * money.rate),
            roi_pct: (b.total_cost > 0.0).then_some(b.roi_pct),
            cost_per_hour: None,
            cost_per_day: None,
            currency: money.currency,
            fx_rate: money.rate,
        }
    }

    /// Moves the counters on by `dt` seconds at the rates between `prev` and `last` (the two latest
    /// ticks), at most one tick's worth, so the pages move between ticks; the next tick replaces it.
    pub fn extrapolate(
        &self,
        prev: Option<&IntervalSnapshot>,
        last: &IntervalSnapshot,
        dt: f64,
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
        h.total_cost += (c.cost - p.cost).max(0.0) * share * money.rate;
        if h.transactions > 0 {
            h.cost_per_txn = Some(h.total_cost / h.transactions as f64);
        }
        h.roi_pct = roi(h.money_saved, h.total_cost);
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
        assert!((h.roi_pct.unwrap() - 499_900.0).abs() < 1e-6);
        assert!((h.cost_per_txn.unwrap() - 0.0005).abs() < 1e-12);
        let expect_hour = 100.0 * 3600.0 * (0.000_02 + 0.000_25) + 1.2;
        assert!((h.cost_per_hour.unwrap() - expect_hour).abs() < 1e-9);
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
        let half = h.extrapolate(Some(&a), &b, 0.5, money);
        assert!(half.live);
        assert_eq!(half.transactions, 250);
        assert_eq!(half.fraud_blocked, 25);
        assert!((half.money_saved - 400.0).abs() < 1e-9);
        let far = h.extrapolate(Some(&a), &b, 30.0, money);
        assert_eq!(far.transactions, 300, "never more than one tick ahead");
        let mut paused = b.clone();
        paused.state = RunState::Paused;
        assert_eq!(
            h.extrapolate(Some(&a), &paused, 0.5, money).transactions,
            200
        );
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
}

//! What the run loop does with each tick besides publishing it: one [`TickWatch`] per concern
//! (degradation level, alerts, the adaptive mode, the `[resilience]` abort rules, `abort_on_fail`
//! criteria, the cost budget). The run asks them in [`for_scenario`]'s order and stops at the first
//! that ends the run; the later ones do not see that tick.

use crate::criteria::AbortWatch;
use crate::orchestrator::EndReason;
use crate::resilience;
use failure_injection::{
    AbortMonitor, AbortThresholds, AdaptiveConfig, AdaptiveController, AlertMonitor,
    AlertThresholds, DegradationThresholds, DegradationTracker,
};
use models::{CriterionSpec, EventKind, IntervalSnapshot, ScenarioSpec, UptimeRule};

/// What a watch makes of one tick.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reaction {
    /// Events to publish, in order.
    pub events: Vec<EventKind>,
    /// The adaptive mode's new share of the profile's rate (the run applies it on top of the share
    /// set by hand and reports the change).
    pub rate_share: Option<f64>,
    /// The run must end, and why.
    pub end: Option<EndReason>,
}

impl Reaction {
    fn with_events(events: Vec<EventKind>) -> Self {
        Self {
            events,
            ..Self::default()
        }
    }

    fn ending(event: EventKind, reason: EndReason) -> Self {
        Self {
            events: vec![event],
            end: Some(reason),
            ..Self::default()
        }
    }
}

/// One per-tick concern of a run.
pub trait TickWatch: std::fmt::Debug + Send {
    /// Writes what this watch measures into the tick before any watch judges it (the degradation
    /// level). Also called for the run's last, partial tick, which is published but not judged.
    fn label(&mut self, _tick: &mut IntervalSnapshot) {}

    /// Judges the newest tick; `before` holds the run's earlier ticks, oldest first.
    fn observe(&mut self, tick: &IntervalSnapshot, before: &[IntervalSnapshot]) -> Reaction;
}

/// A run's watches, in the order they judge a tick.
#[derive(Debug)]
pub struct TickWatches(Vec<Box<dyn TickWatch>>);

impl TickWatches {
    /// The watches `spec` asks for (see [`for_scenario`]).
    pub fn for_scenario(spec: &ScenarioSpec) -> Self {
        Self(for_scenario(spec))
    }

    /// Lets every watch label the tick (for the last, partial tick, which is not judged).
    pub fn label(&mut self, tick: &mut IntervalSnapshot) {
        for w in &mut self.0 {
            w.label(tick);
        }
    }

    /// Labels the tick, then has each watch judge it until one ends the run; the reactions in order.
    pub fn judge(
        &mut self,
        tick: &mut IntervalSnapshot,
        before: &[IntervalSnapshot],
    ) -> Vec<Reaction> {
        self.label(tick);
        let mut out = Vec::new();
        for w in &mut self.0 {
            let r = w.observe(tick, before);
            let ends = r.end.is_some();
            out.push(r);
            if ends {
                break;
            }
        }
        out
    }
}

/// The watches a scenario asks for, in the order they judge a tick.
pub fn for_scenario(spec: &ScenarioSpec) -> Vec<Box<dyn TickWatch>> {
    let r = &spec.resilience;
    let mut watches: Vec<Box<dyn TickWatch>> = vec![
        Box::new(DegradationWatch::new(resilience::degradation_thresholds(
            r,
            spec.target.cores,
        ))),
        Box::new(AlertWatch::new(
            resilience::alert_thresholds(r, spec.target.cores),
            spec.limits.budget,
        )),
    ];
    if let Some(config) = resilience::adaptive(r) {
        watches.push(Box::new(AdaptiveWatch::new(config)));
    }
    watches.push(Box::new(AbortRulesWatch::new(
        resilience::abort_thresholds(r),
    )));
    watches.push(Box::new(AbortCriteriaWatch::new(
        &spec.criteria,
        UptimeRule::of(r),
    )));
    if let Some(budget) = spec.limits.budget {
        watches.push(Box::new(BudgetWatch::new(budget, r.warning_budget_used)));
    }
    watches
}

/// The degradation level of each tick, and a `degradation` event when it changes.
#[derive(Debug)]
pub struct DegradationWatch {
    tracker: DegradationTracker,
    /// The change found while labelling the tick, reported when it is judged.
    change: Option<EventKind>,
}

impl DegradationWatch {
    pub fn new(thresholds: DegradationThresholds) -> Self {
        Self {
            tracker: DegradationTracker::new(thresholds),
            change: None,
        }
    }
}

impl TickWatch for DegradationWatch {
    fn label(&mut self, tick: &mut IntervalSnapshot) {
        let (level, change) = self.tracker.observe(tick);
        tick.degradation = level;
        self.change = change;
    }

    fn observe(&mut self, _tick: &IntervalSnapshot, _before: &[IntervalSnapshot]) -> Reaction {
        Reaction::with_events(self.change.take().into_iter().collect())
    }
}

/// Alerts raised and cleared (the run also posts them to the webhook).
#[derive(Debug)]
pub struct AlertWatch {
    monitor: AlertMonitor,
}

impl AlertWatch {
    pub fn new(thresholds: AlertThresholds, cost_budget: Option<f64>) -> Self {
        let mut monitor = AlertMonitor::new(thresholds);
        monitor.set_cost_budget(cost_budget);
        Self { monitor }
    }
}

impl TickWatch for AlertWatch {
    fn observe(&mut self, tick: &IntervalSnapshot, _before: &[IntervalSnapshot]) -> Reaction {
        Reaction::with_events(self.monitor.observe(tick))
    }
}

/// The adaptive mode: backs the load off while the target degrades, restores it once healthy.
/// Reads the level [`DegradationWatch`] wrote into the tick.
#[derive(Debug)]
pub struct AdaptiveWatch {
    controller: AdaptiveController,
}

impl AdaptiveWatch {
    pub fn new(config: AdaptiveConfig) -> Self {
        Self {
            controller: AdaptiveController::new(config),
        }
    }
}

impl TickWatch for AdaptiveWatch {
    fn observe(&mut self, tick: &IntervalSnapshot, _before: &[IntervalSnapshot]) -> Reaction {
        Reaction {
            rate_share: self.controller.on_tick(tick.degradation),
            ..Reaction::default()
        }
    }
}

/// The `[resilience]` abort rules: stop a run that only does harm.
#[derive(Debug)]
pub struct AbortRulesWatch {
    monitor: AbortMonitor,
}

impl AbortRulesWatch {
    pub fn new(thresholds: AbortThresholds) -> Self {
        Self {
            monitor: AbortMonitor::new(thresholds),
        }
    }
}

impl TickWatch for AbortRulesWatch {
    fn observe(&mut self, tick: &IntervalSnapshot, _before: &[IntervalSnapshot]) -> Reaction {
        match self.monitor.observe(tick) {
            Some(reason) => Reaction::ending(
                EventKind::Message {
                    text: format!("aborting: {reason}"),
                },
                EndReason::Aborted(reason.to_string()),
            ),
            None => Reaction::default(),
        }
    }
}

/// The `abort_on_fail` criteria, judged on the ticks so far.
#[derive(Debug)]
pub struct AbortCriteriaWatch {
    watch: AbortWatch,
}

impl AbortCriteriaWatch {
    /// The watch, judging `resilience.uptime_pct` by the scenario's rule.
    pub fn new(criteria: &[CriterionSpec], uptime: UptimeRule) -> Self {
        Self {
            watch: AbortWatch::with_uptime(criteria, uptime),
        }
    }
}

impl TickWatch for AbortCriteriaWatch {
    fn observe(&mut self, tick: &IntervalSnapshot, before: &[IntervalSnapshot]) -> Reaction {
        match self.watch.check_next(tick, before) {
            Some((name, actual, threshold)) => Reaction::ending(
                EventKind::CriterionFailed {
                    name: name.clone(),
                    actual,
                    threshold,
                },
                EndReason::Aborted(name),
            ),
            None => Reaction::default(),
        }
    }
}

/// The cost budget: a warning once most of it is spent, the end of the run when all of it is.
#[derive(Debug)]
pub struct BudgetWatch {
    budget: f64,
    /// Share of the budget at which the `budget_warning` event comes (`[resilience]
    /// warning_budget_used`, the budget alert's warning threshold); `None`: no warning.
    warning_share: Option<f64>,
    warned: bool,
}

impl BudgetWatch {
    pub fn new(budget: f64, warning_share: Option<f64>) -> Self {
        Self {
            budget,
            warning_share,
            warned: false,
        }
    }
}

impl TickWatch for BudgetWatch {
    fn observe(&mut self, tick: &IntervalSnapshot, _before: &[IntervalSnapshot]) -> Reaction {
        let (spent, budget) = (tick.cumulative.cost, self.budget);
        let mut out = Reaction::default();
        if !self.warned
            && self
                .warning_share
                .is_some_and(|share| spent >= share * budget)
        {
            self.warned = true;
            out.events.push(EventKind::BudgetWarning { spent, budget });
        }
        if spent >= budget {
            out.events.push(EventKind::Message {
                text: format!("budget reached: {spent:.4} of {budget}; stopping"),
            });
            out.end = Some(EndReason::Budget);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Comparison, DegradationLevel, ErrorKind};
    use std::time::Duration;

    /// A one-second tick ending at `t_s` with `sent` requests of which `errors` failed.
    fn tick(t_s: f64, sent: u64, errors: u64) -> IntervalSnapshot {
        let mut t = IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            scheduled: sent,
            sent,
            completed: sent,
            ok: sent - errors,
            achieved_tps: sent as f64,
            planned_tps: sent as f64,
            ..IntervalSnapshot::default()
        };
        if errors > 0 {
            t.errors.insert(ErrorKind::Http5xx, errors);
        }
        t
    }

    fn judge(w: &mut dyn TickWatch, mut t: IntervalSnapshot) -> (IntervalSnapshot, Reaction) {
        w.label(&mut t);
        let r = w.observe(&t, &[]);
        (t, r)
    }

    #[test]
    fn degradation_labels_every_tick_and_reports_only_changes() {
        let thresholds = DegradationThresholds::default();
        let mut w = DegradationWatch::new(thresholds);
        let (calm, r) = judge(&mut w, tick(1.0, 100, 0));
        assert_eq!(calm.degradation, DegradationLevel::None);
        assert!(r.events.is_empty() && r.end.is_none(), "{r:?}");

        let failing = tick(2.0, 100, 100);
        let expected = thresholds.level(&failing);
        assert_ne!(
            expected,
            DegradationLevel::None,
            "all requests failing degrades"
        );
        let (labelled, r) = judge(&mut w, failing.clone());
        assert_eq!(labelled.degradation, expected);
        assert_eq!(
            r.events,
            vec![EventKind::Degradation {
                from: DegradationLevel::None,
                to: expected
            }]
        );
        let (_, r) = judge(&mut w, failing.clone());
        assert!(r.events.is_empty(), "the same level again is no change");

        // The last, partial tick is labelled; its change is never reported.
        let mut last = tick(3.0, 100, 0);
        w.label(&mut last);
        assert_eq!(last.degradation, DegradationLevel::None);
        let mut next = failing;
        w.label(&mut next);
        assert_eq!(w.observe(&next, &[]).events.len(), 1);
    }

    #[test]
    fn alerts_are_the_monitors_events() {
        let thresholds = AlertThresholds::default();
        let mut w = AlertWatch::new(thresholds, None);
        let mut monitor = AlertMonitor::new(thresholds);
        for t in [tick(1.0, 100, 100), tick(2.0, 100, 100), tick(3.0, 100, 0)] {
            let expected = monitor.observe(&t);
            let (_, r) = judge(&mut w, t);
            assert_eq!(r.events, expected);
            assert!(r.end.is_none() && r.rate_share.is_none());
        }
    }

    #[test]
    fn adaptive_follows_the_degradation_written_into_the_tick() {
        let config = AdaptiveConfig::default();
        let mut w = AdaptiveWatch::new(config);
        let mut t = tick(1.0, 100, 0);
        t.degradation = DegradationLevel::None;
        assert_eq!(w.observe(&t, &[]).rate_share, None, "healthy at full rate");
        t.degradation = DegradationLevel::Critical;
        let share = w.observe(&t, &[]).rate_share.expect("backs off");
        assert!(share < 1.0 && share >= config.min_multiplier, "{share}");
    }

    #[test]
    fn abort_rules_end_the_run_with_their_reason() {
        let thresholds = AbortThresholds {
            error_rate: Some(0.5),
            error_ticks: 2,
            ..AbortThresholds::default()
        };
        let mut w = AbortRulesWatch::new(thresholds);
        let (_, r) = judge(&mut w, tick(1.0, 10, 8));
        assert_eq!(r, Reaction::default(), "one bad tick is not enough");
        let (_, r) = judge(&mut w, tick(2.0, 10, 8));
        let Some(EndReason::Aborted(reason)) = &r.end else {
            panic!("two bad ticks abort: {r:?}");
        };
        assert_eq!(
            r.events,
            vec![EventKind::Message {
                text: format!("aborting: {reason}")
            }]
        );
    }

    #[test]
    fn abort_criteria_see_the_earlier_ticks() {
        let mut c = CriterionSpec::new("errors.rate", Comparison::Lt, 0.1);
        c.abort_on_fail = true;
        c.from = Some(Duration::from_secs(1));
        let mut w = AbortCriteriaWatch::new(std::slice::from_ref(&c), UptimeRule::default());
        let mut ticks = Vec::new();
        for t in [tick(1.0, 100, 90), tick(2.0, 100, 0), tick(3.0, 100, 15)] {
            let r = w.observe(&t, &ticks);
            assert_eq!(r, Reaction::default(), "{r:?}");
            ticks.push(t);
        }
        // Over the ticks in scope (2 s and 3 s, then 4 s): 15 then 45 errors in 300 sent.
        let r = w.observe(&tick(4.0, 100, 30), &ticks);
        assert_eq!(r.end, Some(EndReason::Aborted(crate::criteria::label(&c))));
        let [
            EventKind::CriterionFailed {
                actual, threshold, ..
            },
        ] = r.events.as_slice()
        else {
            panic!("{r:?}");
        };
        assert!((actual - 45.0 / 300.0).abs() < 1e-12, "{actual}");
        assert_eq!(*threshold, 0.1);

        let mut none = AbortCriteriaWatch::new(
            &[CriterionSpec::new("errors.rate", Comparison::Lt, 0.1)],
            UptimeRule::default(),
        );
        assert_eq!(
            none.observe(&tick(1.0, 100, 100), &[]),
            Reaction::default(),
            "criteria without abort_on_fail are judged at the end only"
        );
    }

    #[test]
    fn budget_warns_once_then_stops_the_run() {
        let budget = 10.0;
        let share = 0.8;
        let mut w = BudgetWatch::new(budget, Some(share));
        let at = |cost: f64| {
            let mut t = tick(1.0, 1, 0);
            t.cumulative.cost = cost;
            t
        };
        assert_eq!(w.observe(&at(0.5 * budget), &[]), Reaction::default());
        let r = w.observe(&at(share * budget), &[]);
        assert_eq!(
            r.events,
            vec![EventKind::BudgetWarning {
                spent: share * budget,
                budget
            }]
        );
        assert!(r.end.is_none());
        let r = w.observe(&at(budget), &[]);
        assert_eq!(r.end, Some(EndReason::Budget));
        assert_eq!(r.events.len(), 1, "no second warning: {r:?}");
    }

    #[test]
    fn the_budget_alerts_fire_before_the_budget_stops_the_run() {
        let mut spec = crate::builtin::smoke();
        spec.limits.budget = Some(10.0);
        let mut watches = TickWatches::for_scenario(&spec);
        let mut before = Vec::new();
        let mut seen = Vec::new();
        let mut end = None;
        for (i, cost) in [5.0, 8.0, 9.0, 10.0].into_iter().enumerate() {
            let mut t = tick(i as f64 + 1.0, 100, 0);
            t.cumulative.cost = cost;
            for r in watches.judge(&mut t, &before) {
                for e in r.events {
                    if let EventKind::AlertRaised { name, severity, .. } = e {
                        seen.push((cost, name, severity));
                    }
                }
                end = end.or(r.end);
            }
            before.push(t);
        }
        use models::AlertSeverity::{Critical, Warning};
        assert_eq!(
            seen,
            vec![
                (8.0, "budget_used".to_owned(), Warning),
                (10.0, "budget_used".to_owned(), Critical)
            ]
        );
        assert_eq!(end, Some(EndReason::Budget));
    }

    #[test]
    fn judging_stops_at_the_first_watch_that_ends_the_run() {
        let mut spec = crate::builtin::smoke();
        spec.resilience.abort_error_rate = Some(0.5);
        spec.resilience.abort_error_ticks = 1;
        spec.limits.budget = Some(1.0);
        let mut watches = TickWatches::for_scenario(&spec);
        let mut t = tick(1.0, 100, 100);
        t.cumulative.cost = 2.0;
        let reactions = watches.judge(&mut t, &[]);
        assert_ne!(t.degradation, DegradationLevel::None, "labelled first");
        let last = reactions.last().unwrap();
        assert!(
            matches!(&last.end, Some(EndReason::Aborted(r)) if r.contains("error rate")),
            "the abort rules come before the budget: {reactions:?}"
        );
        assert!(
            reactions.iter().all(|r| !r
                .events
                .iter()
                .any(|e| matches!(e, EventKind::BudgetWarning { .. }))),
            "the budget never saw the tick"
        );
    }

    #[test]
    fn a_scenario_gets_the_watches_it_asks_for() {
        let mut spec = crate::builtin::smoke();
        spec.limits.budget = None;
        spec.resilience.adaptive = false;
        let names = |spec: &ScenarioSpec| -> Vec<String> {
            for_scenario(spec)
                .iter()
                .map(|w| {
                    format!("{w:?}")
                        .split([' ', '{'])
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(
            names(&spec),
            [
                "DegradationWatch",
                "AlertWatch",
                "AbortRulesWatch",
                "AbortCriteriaWatch"
            ]
        );
        spec.limits.budget = Some(1.0);
        spec.resilience.adaptive = true;
        assert_eq!(
            names(&spec),
            [
                "DegradationWatch",
                "AlertWatch",
                "AdaptiveWatch",
                "AbortRulesWatch",
                "AbortCriteriaWatch",
                "BudgetWatch"
            ]
        );
    }
}

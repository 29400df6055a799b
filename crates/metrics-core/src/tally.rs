//! The counters and histograms one shard fills between two ticks; the collector keeps two more of
//! the same shape (the interval being built and the cumulative run).

use crate::histogram::{AGENT_SIGFIG, SIGFIG, new_us};
use crate::timing::{Timing, as_us};
use hdrhistogram::Histogram;
use models::{
    Confusion, Currency, Decision, EdgeKind, ErrorKind, FraudPattern, GroundTruth, Transaction,
    Verdict,
};

/// Legit, six fraud patterns, nine edge kinds.
pub(crate) const PATTERNS: usize = 1 + FraudPattern::ALL.len() + EdgeKind::ALL.len();
pub(crate) const ERROR_KINDS: usize = ErrorKind::ALL.len();
/// The agent entry that names beyond `max_agents` are folded into.
pub const OTHER_AGENT: &str = "other";

/// [`pattern_index`] of [`GroundTruth::Legit`].
pub(crate) const LEGIT_INDEX: usize = 0;

/// Whether a [`pattern_index`] is one of the fraud patterns.
pub(crate) const fn is_fraud_index(index: usize) -> bool {
    index >= 1 && index <= FraudPattern::ALL.len()
}

/// What one completion adds to a [`Tally`], apart from its agent timings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    pub latency_us: u64,
    pub service_us: u64,
    /// The transaction's amount in the reporting currency.
    pub amount: f64,
    /// [`pattern_index`] of the label.
    pub pattern: u8,
    /// The verdict's decision, or the error.
    pub outcome: Result<Decision, ErrorKind>,
}

impl Sample {
    #[inline]
    pub fn new(
        timing: &Timing,
        txn: &Transaction,
        truth: GroundTruth,
        result: Result<&Verdict, ErrorKind>,
        fx: &[f64; Currency::ALL.len()],
    ) -> Self {
        Self {
            latency_us: as_us(timing.latency()),
            service_us: as_us(timing.service_time()),
            amount: txn.amount_minor as f64 * fx[txn.currency as usize],
            pattern: pattern_index(&truth) as u8,
            outcome: result.map(|v| v.decision),
        }
    }
}

/// Fixed index of a label: 0 legit, 1..=6 fraud patterns, 7.. edge kinds (declaration order).
pub(crate) const fn pattern_index(t: &GroundTruth) -> usize {
    match t {
        GroundTruth::Legit => 0,
        GroundTruth::Fraud { pattern } => 1 + *pattern as usize,
        GroundTruth::Edge { pattern } => 1 + FraudPattern::ALL.len() + *pattern as usize,
    }
}

pub(crate) fn pattern_name(index: usize) -> &'static str {
    match index {
        0 => "legit",
        i if i <= FraudPattern::ALL.len() => FraudPattern::ALL[i - 1].as_str(),
        i => EdgeKind::ALL[i - 1 - FraudPattern::ALL.len()].as_str(),
    }
}

pub(crate) fn pattern_index_of_name(name: &str) -> Option<usize> {
    (0..PATTERNS).find(|&i| pattern_name(i) == name)
}

/// One agent's raw figures.
#[derive(Debug, Clone)]
pub(crate) struct AgentTally {
    pub name: String,
    pub requests: u64,
    pub ok: u64,
    pub busy_us: u64,
    pub hist: Histogram<u64>,
}

impl AgentTally {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            requests: 0,
            ok: 0,
            busy_us: 0,
            hist: new_us(AGENT_SIGFIG),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Tally {
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    /// By `ErrorKind as usize`; `Dropped` counts arrivals that were never sent.
    pub errors: [u64; ERROR_KINDS],
    /// Arrivals shed by the rate ceiling (never sent; not errors).
    pub dropped_ceiling: u64,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    /// Exact sums of the recorded µs (before clamping), for the means.
    pub latency_sum_us: u128,
    pub service_sum_us: u128,
    /// By `pattern_index`.
    pub confusion: [Confusion; PATTERNS],
    /// Caught fraud, reporting currency.
    pub prevented: f64,
    /// Legit (not edge-case) transactions declined, reporting currency.
    pub false_declined: f64,
    pub agents: Vec<AgentTally>,
}

impl Tally {
    pub fn new() -> Self {
        Self {
            scheduled: 0,
            sent: 0,
            completed: 0,
            ok: 0,
            errors: [0; ERROR_KINDS],
            dropped_ceiling: 0,
            latency: new_us(SIGFIG),
            service: new_us(SIGFIG),
            latency_sum_us: 0,
            service_sum_us: 0,
            confusion: [Confusion::default(); PATTERNS],
            prevented: 0.0,
            false_declined: 0.0,
            agents: Vec::new(),
        }
    }

    pub fn latency_ms(&self) -> models::Percentiles {
        crate::histogram::percentiles_ms(&self.latency, self.latency_sum_us as f64)
    }

    pub fn service_time_ms(&self) -> models::Percentiles {
        crate::histogram::percentiles_ms(&self.service, self.service_sum_us as f64)
    }

    pub fn dropped(&self) -> u64 {
        self.errors[ErrorKind::Dropped as usize]
    }

    /// Errors of requests that were sent (dropped arrivals excluded).
    pub fn sent_errors(&self) -> u64 {
        self.errors
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b))
            .saturating_sub(self.dropped())
    }

    pub fn fraud(&self) -> Confusion {
        let mut c = Confusion::default();
        self.confusion.iter().for_each(|p| c.add(p));
        c
    }

    /// A completed request: both histograms, the outcome, and for a verdict the business and agent
    /// figures. `fx` converts minor units of `txn.currency` to the reporting currency.
    #[inline]
    pub fn record(
        &mut self,
        timing: &Timing,
        txn: &Transaction,
        truth: GroundTruth,
        result: Result<&Verdict, ErrorKind>,
        fx: &[f64; Currency::ALL.len()],
        max_agents: usize,
    ) {
        self.apply(&Sample::new(timing, txn, truth, result, fx));
        if let Ok(verdict) = result {
            for a in &verdict.agents {
                self.record_agent(&a.name, a.ok, a.duration_us, max_agents);
            }
        }
    }

    /// Everything of one completion but its agent timings.
    #[inline]
    pub fn apply(&mut self, s: &Sample) {
        self.completed += 1;
        self.latency.saturating_record(s.latency_us);
        self.service.saturating_record(s.service_us);
        self.latency_sum_us += u128::from(s.latency_us);
        self.service_sum_us += u128::from(s.service_us);
        let decision = match s.outcome {
            Ok(d) => d,
            Err(kind) => {
                self.errors[kind as usize] += 1;
                self.unscored(usize::from(s.pattern));
                return;
            }
        };
        self.ok += 1;
        let pattern = usize::from(s.pattern);
        let c = &mut self.confusion[pattern];
        match (is_fraud_index(pattern), decision.is_flagged()) {
            (true, true) => {
                c.tp += 1;
                self.prevented += s.amount;
            }
            (true, false) => c.fn_ += 1,
            (false, true) => {
                c.fp += 1;
                // Money only for ordinary legitimate traffic: an edge case's amount (zero, the
                // currency's maximum) probes the API's limits and is not a customer's spending.
                if decision == Decision::Decline && pattern == LEGIT_INDEX {
                    self.false_declined += s.amount;
                }
            }
            (false, false) => c.tn += 1,
        }
    }

    /// A transaction of label `pattern` got no verdict (an error, a timeout, dropped): counted
    /// against recall_effective when it was fraud.
    #[inline]
    pub(crate) fn unscored(&mut self, pattern: usize) {
        self.unscored_many(pattern, 1);
    }

    pub(crate) fn unscored_many(&mut self, pattern: usize, n: u64) {
        if is_fraud_index(pattern) {
            self.confusion[pattern].unscored = self.confusion[pattern].unscored.saturating_add(n);
        }
    }

    pub(crate) fn record_agent(
        &mut self,
        name: &str,
        ok: bool,
        duration_us: u64,
        max_agents: usize,
    ) {
        let i = self.agent_index(name, max_agents);
        self.record_agent_at(i, ok, duration_us);
    }

    /// The entry of agent `name`, created if needed (names beyond `max_agents` share `other`).
    /// Entries keep their index until the tally is dropped (`reset` keeps them).
    pub(crate) fn agent_index(&mut self, name: &str, max_agents: usize) -> usize {
        match self.agents.iter().position(|t| t.name == name) {
            Some(i) => i,
            None if self.agents.len() < max_agents => {
                self.agents.push(AgentTally::new(name));
                self.agents.len() - 1
            }
            None => match self.agents.iter().position(|t| t.name == OTHER_AGENT) {
                Some(i) => i,
                None => {
                    self.agents.push(AgentTally::new(OTHER_AGENT));
                    self.agents.len() - 1
                }
            },
        }
    }

    #[inline]
    pub(crate) fn record_agent_at(&mut self, i: usize, ok: bool, duration_us: u64) {
        let t = &mut self.agents[i];
        t.requests += 1;
        t.ok += u64::from(ok);
        t.busy_us += duration_us;
        t.hist.saturating_record(duration_us);
    }

    /// Adds `other` into `self` (histograms merged, counters summed, agents matched by name).
    pub fn add(&mut self, other: &Tally, max_agents: usize) {
        self.scheduled = self.scheduled.saturating_add(other.scheduled);
        self.sent += other.sent;
        self.completed += other.completed;
        self.ok += other.ok;
        self.dropped_ceiling = self.dropped_ceiling.saturating_add(other.dropped_ceiling);
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a = a.saturating_add(b);
        }
        if other.scheduled == 0 && other.completed == 0 {
            return; // nothing recorded (sent and dropped both count as scheduled)
        }
        // Same fixed bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        self.latency_sum_us += other.latency_sum_us;
        self.service_sum_us += other.service_sum_us;
        for (a, b) in self.confusion.iter_mut().zip(&other.confusion) {
            a.add(b);
        }
        self.prevented += other.prevented;
        self.false_declined += other.false_declined;
        for o in other.agents.iter().filter(|o| o.requests > 0) {
            self.add_agent(o, max_agents);
        }
    }

    pub(crate) fn add_agent(&mut self, o: &AgentTally, max_agents: usize) {
        let i = match self.agents.iter().position(|t| t.name == o.name) {
            Some(i) => i,
            None => {
                let name = if self.agents.len() < max_agents {
                    o.name.as_str()
                } else {
                    OTHER_AGENT
                };
                match self.agents.iter().position(|t| t.name == name) {
                    Some(i) => i,
                    None => {
                        self.agents.push(AgentTally::new(name));
                        self.agents.len() - 1
                    }
                }
            }
        };
        let t = &mut self.agents[i];
        t.requests += o.requests;
        t.ok += o.ok;
        t.busy_us += o.busy_us;
        let _ = t.hist.add(&o.hist);
    }

    /// Back to zero, keeping the allocations (histogram arrays, agent names) for the next interval.
    pub fn reset(&mut self) {
        if self.scheduled == 0 && self.completed == 0 {
            return; // already empty
        }
        self.scheduled = 0;
        self.sent = 0;
        self.completed = 0;
        self.ok = 0;
        self.errors = [0; ERROR_KINDS];
        self.dropped_ceiling = 0;
        self.latency.reset();
        self.service.reset();
        self.latency_sum_us = 0;
        self.service_sum_us = 0;
        self.confusion = [Confusion::default(); PATTERNS];
        self.prevented = 0.0;
        self.false_declined = 0.0;
        for a in &mut self.agents {
            a.requests = 0;
            a.ok = 0;
            a.busy_us = 0;
            a.hist.reset();
        }
    }

    /// Bytes held by histogram arrays and agent entries: constant once every agent has been seen.
    pub fn heap_estimate(&self) -> usize {
        let h = |h: &Histogram<u64>| h.distinct_values() * std::mem::size_of::<u64>();
        h(&self.latency)
            + h(&self.service)
            + self
                .agents
                .iter()
                .map(|a| h(&a.hist) + a.name.capacity())
                .sum::<usize>()
            + self.agents.capacity() * std::mem::size_of::<AgentTally>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_indices_are_a_bijection() {
        let mut labels = vec![GroundTruth::Legit];
        labels.extend(FraudPattern::ALL.map(|pattern| GroundTruth::Fraud { pattern }));
        labels.extend(EdgeKind::ALL.map(|pattern| GroundTruth::Edge { pattern }));
        assert_eq!(labels.len(), PATTERNS);
        for (i, l) in labels.iter().enumerate() {
            assert_eq!(pattern_index(l), i);
            assert_eq!(pattern_name(i), l.pattern_name());
            assert_eq!(pattern_index_of_name(l.pattern_name()), Some(i));
        }
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        for (i, c) in Currency::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }
}

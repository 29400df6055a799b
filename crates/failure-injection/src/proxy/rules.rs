//! The proxy's active faults and what they do to one request.

use crate::catalogue;
use crate::injector::{ActiveFault, FaultId};
use models::{FaultKind, FaultSpec};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// What happens to one request, decided when it arrives.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Plan {
    /// Held before forwarding (latency_spike, stream_lag).
    pub delay_before: Duration,
    /// Held after the upstream answered, before the headers go back (slow_response).
    pub delay_headers: Duration,
    /// Answered by the proxy instead of the upstream.
    pub answer: Option<Answer>,
    /// Response body throttled to this many bytes per second.
    pub bandwidth_bps: Option<u64>,
    /// The faults that touched the request.
    pub faults: Vec<FaultKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An HTTP status without calling the upstream.
    Status(u16),
    /// Drop the connection with a TCP reset.
    Reset,
    /// Never answer while fault `FaultId` is active.
    BlackHole(FaultId),
}

/// Calls per second for model_rate_limit: a token bucket holding one second of calls.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            tokens: rate.max(1.0),
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate)
            .min(self.rate.max(1.0));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug)]
struct Rule {
    id: FaultId,
    spec: FaultSpec,
    bucket: Option<Bucket>,
}

impl Rule {
    /// A stage that is a path (`/v1/score`) limits the fault to that route prefix; other stage names are
    /// stages of the built-in target, which the proxy cannot see, so the fault hits every route.
    fn matches(&self, path: &str) -> bool {
        match self.spec.stage.as_deref() {
            Some(route) if route.starts_with('/') => path.starts_with(route),
            _ => true,
        }
    }
}

#[derive(Debug)]
pub(crate) struct RuleSet {
    rules: Mutex<(Vec<Rule>, SmallRng)>,
}

fn delay(spec: &FaultSpec, rng: &mut SmallRng) -> Duration {
    let base = catalogue::effective_latency(spec);
    match spec.jitter {
        Some(j) if !j.is_zero() => base + j.mul_f64(rng.random::<f64>()),
        _ => base,
    }
}

impl RuleSet {
    pub fn new(seed: u64) -> Self {
        Self {
            rules: Mutex::new((Vec::new(), SmallRng::seed_from_u64(seed))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<Rule>, SmallRng)> {
        // A panic while holding the lock cannot leave the rules half-changed; keep serving.
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, id: FaultId, spec: FaultSpec) {
        let bucket = (spec.kind == FaultKind::ModelRateLimit)
            .then(|| Bucket::new(catalogue::effective_rate_limit(&spec)));
        self.lock().0.push(Rule { id, spec, bucket });
    }

    pub fn remove(&self, id: FaultId) -> bool {
        let mut guard = self.lock();
        let before = guard.0.len();
        guard.0.retain(|r| r.id != id);
        guard.0.len() != before
    }

    pub fn contains(&self, id: FaultId) -> bool {
        self.lock().0.iter().any(|r| r.id == id)
    }

    pub fn active(&self) -> Vec<ActiveFault> {
        self.lock()
            .0
            .iter()
            .map(|r| ActiveFault {
                id: r.id,
                spec: r.spec.clone(),
            })
            .collect()
    }

    /// Rolls each matching fault's probability and adds up the effects for a request to `path`.
    pub fn plan(&self, path: &str) -> Plan {
        let mut plan = Plan::default();
        let mut guard = self.lock();
        let (rules, rng) = &mut *guard;
        for rule in rules.iter_mut().filter(|r| r.matches(path)) {
            let spec = &rule.spec;
            if !rng.random_bool(spec.probability) {
                continue;
            }
            let answer = match spec.kind {
                FaultKind::NetworkPartition => Some(Answer::BlackHole(rule.id)),
                FaultKind::ConnectionReset => Some(Answer::Reset),
                FaultKind::HttpError | FaultKind::AgentCrash | FaultKind::DbThrottle => {
                    Some(Answer::Status(catalogue::effective_status(spec)))
                }
                FaultKind::ModelRateLimit => {
                    if rule.bucket.as_mut().is_none_or(|b| b.take()) {
                        continue;
                    }
                    Some(Answer::Status(catalogue::effective_status(spec)))
                }
                FaultKind::LatencySpike | FaultKind::StreamLag => {
                    plan.delay_before += delay(spec, rng);
                    None
                }
                FaultKind::SlowResponse => {
                    plan.delay_headers += delay(spec, rng);
                    None
                }
                FaultKind::BandwidthLimit => {
                    let bps = catalogue::effective_bandwidth(spec);
                    plan.bandwidth_bps = Some(plan.bandwidth_bps.map_or(bps, |b| b.min(bps)));
                    None
                }
            };
            plan.faults.push(spec.kind);
            if let Some(a) = answer {
                plan.answer = Some(plan.answer.map_or(a, |old| harsher(old, a)));
            }
        }
        plan
    }
}

/// The harsher of two answers: a black hole over a reset over a status.
fn harsher(a: Answer, b: Answer) -> Answer {
    let score = |x: Answer| match x {
        Answer::Status(_) => 0,
        Answer::Reset => 1,
        Answer::BlackHole(_) => 2,
    };
    if score(b) > score(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec::new(kind, Duration::ZERO, Duration::from_secs(1))
    }

    #[test]
    fn effects_add_up_and_the_harshest_answer_wins() {
        let rules = RuleSet::new(1);
        let mut lat = spec(FaultKind::LatencySpike);
        lat.latency = Some(Duration::from_millis(100));
        rules.add(FaultId(1), lat.clone());
        rules.add(FaultId(2), lat);
        rules.add(FaultId(3), spec(FaultKind::HttpError));
        rules.add(FaultId(4), spec(FaultKind::ConnectionReset));
        let mut bw = spec(FaultKind::BandwidthLimit);
        bw.bandwidth_bps = Some(500);
        rules.add(FaultId(5), bw);
        let plan = rules.plan("/");
        assert_eq!(plan.delay_before, Duration::from_millis(200));
        assert_eq!(plan.answer, Some(Answer::Reset));
        assert_eq!(plan.bandwidth_bps, Some(500));
        assert!(rules.remove(FaultId(4)));
        assert!(!rules.remove(FaultId(4)));
        assert_eq!(rules.plan("/").answer, Some(Answer::Status(503)));
    }

    #[test]
    fn path_stages_limit_the_route_and_stage_names_do_not() {
        let rules = RuleSet::new(1);
        let mut s = spec(FaultKind::HttpError);
        s.stage = Some("/v1/score".into());
        rules.add(FaultId(1), s);
        assert_eq!(rules.plan("/v1/score").answer, Some(Answer::Status(503)));
        assert_eq!(rules.plan("/health").answer, None);
        let mut s = spec(FaultKind::AgentCrash);
        s.stage = Some("pattern_detector".into());
        rules.add(FaultId(2), s);
        assert_eq!(rules.plan("/health").answer, Some(Answer::Status(503)));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_refuses_calls_above_the_rate() {
        let rules = RuleSet::new(1);
        let mut s = spec(FaultKind::ModelRateLimit);
        s.rate_limit_tps = Some(5.0);
        rules.add(FaultId(1), s);
        let refused = (0..20).filter(|_| rules.plan("/").answer.is_some()).count();
        assert_eq!(refused, 15, "a full bucket holds one second of calls");
        tokio::time::advance(Duration::from_secs(1)).await;
        let refused = (0..20).filter(|_| rules.plan("/").answer.is_some()).count();
        assert_eq!(refused, 15, "one second later five more are allowed");
    }
}

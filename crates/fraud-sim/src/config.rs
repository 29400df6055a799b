//! Settings of the reference service: capacity, per-stage service times, queues and deadlines,
//! detection thresholds, and the HTTP port and admin token.

use crate::rules::RuleConfig;
use crate::stage::StageName;
use std::time::Duration;

/// How stages spend time on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceTime {
    /// Each stage sleeps a log-normal service time (no CPU cost), so latency and queues grow as load
    /// nears capacity.
    #[default]
    Simulated,
    /// No simulated time at all: only the detection logic runs. For pure-throughput driver benchmarks
    /// and quality tests; `capacity` then means nothing.
    Zero,
}

/// One stage's timing model.
#[derive(Debug, Clone, PartialEq)]
pub struct StageConfig {
    /// Mean of the log-normal service time.
    pub mean_service: Duration,
    /// Coefficient of variation (standard deviation / mean) of the service time.
    pub cv: f64,
    /// Concurrency relative to what `capacity` needs: 1.0 makes this stage saturate exactly at
    /// `capacity`; more leaves it headroom. Concurrency = round(capacity × mean × headroom), at least 1.
    pub headroom: f64,
    /// Requests that may wait for the stage; one more is refused with 503 (load shedding).
    pub queue_limit: usize,
    /// A request that waited longer than this in the stage's queue skips the stage (`ok: false`) and the
    /// decision falls back to the findings it has. `None`: wait as long as it takes.
    pub deadline: Option<Duration>,
}

impl StageConfig {
    pub fn new(mean_ms: f64, headroom: f64) -> Self {
        Self {
            mean_service: Duration::from_secs_f64(mean_ms / 1e3),
            cv: 0.5,
            headroom,
            queue_limit: 5_000,
            deadline: None,
        }
    }
}

/// Settings of a [`Pipeline`](crate::Pipeline) and of the HTTP service around it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Throughput (TPS) at which the slowest stage (the one with headroom 1.0, by default the pattern
    /// detector) saturates.
    pub capacity: f64,
    pub service_time: ServiceTime,
    pub ingestion: StageConfig,
    pub transaction_analyzer: StageConfig,
    pub pattern_detector: StageConfig,
    pub risk_assessor: StageConfig,
    pub decision_maker: StageConfig,
    pub rules: RuleConfig,
    /// Shards of the per-card state store (more shards, less lock contention).
    pub store_shards: usize,
    /// Cards kept per shard; past it an arbitrary card of the shard is forgotten.
    pub cards_per_shard: usize,
    /// HTTP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Bearer token of the admin endpoints; `None` generates a random one.
    pub admin_token: Option<String>,
}

/// The default capacity: what the service can answer over loopback HTTP on a 2-core machine while the
/// load generator shares the cores (see the crate docs for the measurement).
pub const DEFAULT_CAPACITY_TPS: f64 = 5_500.0;

impl Default for SimConfig {
    fn default() -> Self {
        let mut pattern_detector = StageConfig::new(4.0, 1.0);
        pattern_detector.deadline = Some(Duration::from_millis(50));
        let mut risk_assessor = StageConfig::new(3.0, 1.3);
        risk_assessor.deadline = Some(Duration::from_millis(50));
        Self {
            capacity: DEFAULT_CAPACITY_TPS,
            service_time: ServiceTime::Simulated,
            ingestion: StageConfig::new(1.0, 2.0),
            transaction_analyzer: StageConfig::new(2.0, 1.5),
            pattern_detector,
            risk_assessor,
            decision_maker: StageConfig::new(2.0, 1.5),
            rules: RuleConfig::default(),
            store_shards: 64,
            cards_per_shard: 50_000,
            port: 0,
            admin_token: None,
        }
    }
}

impl SimConfig {
    /// The defaults with no simulated service time: detection logic only.
    pub fn zero_service_time() -> Self {
        Self {
            service_time: ServiceTime::Zero,
            ..Self::default()
        }
    }

    pub fn stage(&self, name: StageName) -> &StageConfig {
        match name {
            StageName::Ingestion => &self.ingestion,
            StageName::TransactionAnalyzer => &self.transaction_analyzer,
            StageName::PatternDetector => &self.pattern_detector,
            StageName::RiskAssessor => &self.risk_assessor,
            StageName::DecisionMaker => &self.decision_maker,
        }
    }

    pub fn stage_mut(&mut self, name: StageName) -> &mut StageConfig {
        match name {
            StageName::Ingestion => &mut self.ingestion,
            StageName::TransactionAnalyzer => &mut self.transaction_analyzer,
            StageName::PatternDetector => &mut self.pattern_detector,
            StageName::RiskAssessor => &mut self.risk_assessor,
            StageName::DecisionMaker => &mut self.decision_maker,
        }
    }

    /// Servers of a stage: round(capacity × mean service time × headroom), at least 1. With no
    /// simulated service time, a generous fixed number (the stage then never queues for long).
    pub fn concurrency(&self, name: StageName) -> usize {
        let s = self.stage(name);
        match self.service_time {
            ServiceTime::Zero => 4_096,
            ServiceTime::Simulated => ((self.capacity * s.mean_service.as_secs_f64() * s.headroom)
                .round() as usize)
                .max(1),
        }
    }

    /// Checks the settings; the error names the field and what to do.
    pub fn validate(&self) -> Result<(), crate::SimError> {
        let bad = |field: String, reason: &str| {
            Err(crate::SimError::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(self.capacity.is_finite() && self.capacity > 0.0) {
            return bad(
                "capacity".into(),
                "must be a positive number of transactions per second, e.g. 5500",
            );
        }
        for name in StageName::ALL {
            let s = self.stage(name);
            if !(s.cv.is_finite() && s.cv >= 0.0) {
                return bad(
                    format!("{name}.cv"),
                    "must be a finite number >= 0 (0 = constant service time)",
                );
            }
            if !(s.headroom.is_finite() && s.headroom > 0.0) {
                return bad(
                    format!("{name}.headroom"),
                    "must be a positive number (1.0 = saturates at capacity)",
                );
            }
            if s.queue_limit == 0 {
                return bad(format!("{name}.queue_limit"), "must be at least 1");
            }
        }
        if self.store_shards == 0 || self.cards_per_shard == 0 {
            return bad(
                "store_shards".into(),
                "store_shards and cards_per_shard must be at least 1",
            );
        }
        if let Some(t) = &self.admin_token
            && (t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return bad(
                "admin_token".into(),
                "must be non-empty printable ASCII without spaces",
            );
        }
        self.rules.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_capacity_is_set_by_the_bottleneck() {
        let c = SimConfig::default();
        c.validate().unwrap();
        let pd = c.concurrency(StageName::PatternDetector);
        let cap = pd as f64 / c.pattern_detector.mean_service.as_secs_f64();
        assert!((cap - c.capacity).abs() / c.capacity < 0.05, "{cap}");
        for name in StageName::ALL {
            let s = c.stage(name);
            let stage_cap = c.concurrency(name) as f64 / s.mean_service.as_secs_f64();
            assert!(
                stage_cap >= cap * 0.99,
                "{name} saturates at {stage_cap}, before the bottleneck"
            );
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let c = SimConfig {
            capacity: 0.0,
            ..SimConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("capacity"));
        let mut c = SimConfig::default();
        c.risk_assessor.headroom = -1.0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("risk_assessor.headroom")
        );
    }
}

//! Plain data types shared by every fraudstress crate: transactions and their labels, verdicts,
//! load-profile, fault, criterion and scenario specs, the orchestrator's states and events, per-tick
//! metric snapshots and the run summary. No async, no I/O: everything here is `serde` data.
//!
//! # What crosses the wire
//!
//! A [`Transaction`] (the request body sent to the system under test; its label stays beside it):
//!
//! ```json
//! {"id":"txn_00000000002a","timestamp":"2026-01-01T00:00:00.000000Z","amount_minor":12345,
//!  "currency":"EUR","card_id":"card_000000000007","customer_id":"cus_000000000003",
//!  "merchant_id":"mer_000000000063","merchant_name":"Café Zürich","mcc":5812,"channel":"contactless",
//!  "country":"CH","lat":47.37,"lon":8.54,"ip":"203.0.113.7"}
//! ```
//!
//! A [`GroundTruth`], kept beside it: `{"kind":"fraud","pattern":"card_testing"}`, `{"kind":"legit"}`,
//! `{"kind":"edge","pattern":"zero_amount"}`.
//!
//! A [`Verdict`], the answer:
//!
//! ```json
//! {"decision":"decline","risk_score":0.93,"reasons":["velocity"],
//!  "agents":[{"name":"pattern_detector","duration_us":850,"ok":true}]}
//! ```
//!
//! An [`IntervalSnapshot`] is one line of `intervals.jsonl` and one dashboard frame; a [`Summary`] is
//! `summary.json`; a [`RunEvent`] is `{"t_s":300.0,"event":"fault_started","fault":"agent_crash","stage":"pattern_detector"}`;
//! an [`AwsReport`] is `aws.json`.
//!
//! ```
//! use models::{GroundTruth, FraudPattern, ScenarioSpec};
//! let label: GroundTruth = serde_json::from_str(r#"{"kind":"fraud","pattern":"velocity"}"#).unwrap();
//! assert_eq!(label, GroundTruth::Fraud { pattern: FraudPattern::Velocity });
//!
//! let scenario: ScenarioSpec = toml::from_str(r#"
//!     name = "quick"
//!     [[load.stages]]
//!     shape = "sustained"
//!     tps = 500
//!     duration = "30s"
//! "#).unwrap();
//! assert_eq!(scenario.load.total_duration().as_secs(), 30);
//! ```

pub mod aws;
pub mod cost;
pub mod criteria;
pub mod duration_serde;
pub mod exit;
pub mod fault;
pub mod format;
pub mod header;
pub mod profile;
pub mod response;
pub mod scenario;
pub mod snapshot;
pub mod state;
pub mod stats;
pub mod summary;
pub mod transaction;
pub mod uptime;
pub mod verdict;

pub use aws::{
    AwsReport, EmitReport, InfraMetrics, InfraPoint, InfraSeries, SegmentKind, SegmentStats,
    SinkReport, TraceBreakdown,
};
pub use cost::{CostModel, FxTable};
pub use criteria::{Comparison, CriterionSpec, WhenUnmeasured};
pub use exit::RunExit;
pub use fault::{FaultKind, FaultSpec};
pub use header::{HeaderEnvError, HeaderValueSpec};
pub use profile::{Arrival, LoadProfile, Stage};
pub use response::ResponseSpec;
pub use scenario::{
    AwsSpec, DEFAULT_WARM_UP, Http2Mode, Http2ModeError, HttpEngine, HttpEngineError, Limits,
    MixSpec, ResilienceSpec, ScenarioSpec, TargetKind, TargetParseError, TargetRef, TargetSpec,
    TlsSpec,
};
pub use snapshot::{
    AgentStats, Confusion, Cumulative, EncodedHistograms, IntervalSnapshot, Percentiles,
    ProcessSample, Resources,
};
pub use state::{AlertSeverity, DegradationLevel, EventKind, RunEvent, RunState};
pub use summary::{
    Baseline, BusinessSummary, CriterionOutcome, CriterionResult, ErrorSample, ErrorSummary,
    FaultResult, FraudSummary, GaugeSummary, GeneratorSummary, LoadSummary, PatternSummary,
    ResilienceSummary, Summary, TargetInfo, TargetResources,
};
pub use transaction::{
    CardId, Channel, CountryCode, Currency, CustomerId, DeviceId, EdgeKind, FraudPattern,
    GroundTruth, IdBuf, MerchantId, Timestamp, Transaction, TxnId,
};
pub use uptime::{UptimeRule, UptimeTally};
pub use verdict::{AgentTiming, Decision, ErrorKind, Verdict};

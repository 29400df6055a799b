//! Latency without coordinated omission, business and agent metrics, mergeable snapshots.
//!
//! A [`Recorder`] is one run's metrics. Each worker takes a [`Shard`] and records on it with no
//! contended lock (see [`recorder`] for the design); a ticker calls [`Recorder::tick`] once per
//! interval (1 s by default, the caller's choice) and gets a [`models::IntervalSnapshot`]; at the end
//! [`Recorder::summary`] fills the metric parts of [`models::Summary`].
//!
//! ```
//! use metrics_core::{MetricsConfig, Recorder, Timing};
//! use models::{Decision, GroundTruth, FraudPattern, Verdict};
//! use std::time::Duration;
//! # let txn: models::Transaction = serde_json::from_str(r#"{"id":"txn_000000000001","timestamp":"2026-01-01T00:00:00.000000Z",
//! #   "amount_minor":5000,"currency":"EUR","card_id":"card_000000000001","customer_id":"cus_000000000001",
//! #   "merchant_id":"mer_000000000001","merchant_name":"Shop","mcc":5812,"channel":"ecommerce","country":"DE","lat":0.0,"lon":0.0}"#).unwrap();
//!
//! let recorder = Recorder::new(MetricsConfig::default()).unwrap();
//! let mut shard = recorder.shard();
//! let ms = Duration::from_millis;
//! let verdict = Verdict { decision: Decision::Decline, risk_score: 0.9, reasons: vec![], agents: vec![] };
//! shard.record_sent();
//! // Meant for t = 100 ms, sent 40 ms late, answered 10 ms later: latency 50 ms, service time 10 ms.
//! shard.record(Timing::new(ms(100), ms(140), ms(150)), &txn,
//!              GroundTruth::Fraud { pattern: FraudPattern::Velocity }, Ok(&verdict));
//! let snap = recorder.tick(Duration::from_secs(1));
//! assert_eq!((snap.sent, snap.completed, snap.fraud.tp), (1, 1, 1));
//! assert!((snap.latency_ms.p99 - 50.0).abs() < 0.1 && (snap.service_time_ms.p99 - 10.0).abs() < 0.1);
//! assert!((snap.cumulative.prevented_amount - 54.0).abs() < 1e-9); // 50 EUR at 1.08 USD
//! ```
//!
//! # Definitions and formulas
//! * **Clock**: samples carry [`Timing`], offsets from the run's start on the driver's clock (tokio's,
//!   which tests pause). Latency = completed − intended send; service time = completed − actual send.
//!   Both go into HDR histograms of µs (3 significant digits, 1 µs to 1 h; larger values are clamped to
//!   1 h and still counted); percentiles come from the histograms, means from exact sums. Every
//!   completion is recorded, success or error; dropped arrivals are not.
//! * **Outcomes**: ok (a verdict), or a [`models::ErrorKind`]: HTTP 429 apart from other 4xx and from
//!   5xx, timeout, connection (refused/reset), malformed, and dropped (never sent because the in-flight
//!   bound was reached: counted as scheduled and dropped, never silently skipped).
//! * **Interval vs cumulative**: each tick reports the interval since the previous tick and the run so
//!   far. `achieved_tps = completed_in_interval / interval_s`; `in_flight = sent − completed` (run).
//!   Interval histograms are reset at each tick and cumulative ones have fixed bounds, so memory stays
//!   flat however long the run ([`Recorder::heap_estimate`]).
//! * **Confusion matrix** (only requests answered with a verdict): a fraud that was declined *or* sent
//!   to review is caught (tp), otherwise missed (fn); a legit or edge-case transaction (edge cases are
//!   legitimate) that was flagged is a false positive (fp), otherwise tn. precision = tp/(tp+fp),
//!   recall = tp/(tp+fn), accuracy = (tp+tn)/total, F1 = 2pr/(p+r); kept per interval, cumulative,
//!   and per pattern (`GroundTruth::pattern_name`).
//! * **Unscored fraud**: a fraud transaction that got no verdict (any error kind, a timeout, or
//!   dropped at the in-flight bound) is `unscored`, counted from its ground-truth label beside the
//!   matrix (never in it). recall_effective = tp/(tp+fn+unscored): what a payment flow that fails
//!   open catches of all the fraud, where recall is the detector's quality on what it answered.
//! * **Money saved** (`prevented_amount`) = Σ amount of caught fraud × fx(currency → reporting
//!   currency) from the declared [`models::CostModel::fx`] table.
//!   **False-decline amount** = Σ amount of *legit* transactions that were *declined* (a review is
//!   not a decline: the customer is not refused), converted the same way. Edge cases are legitimate
//!   in the confusion matrix (declining one is a false positive, visible per edge kind) but are left
//!   out of the money figures: their amounts (zero, a currency's per-transaction maximum) are chosen
//!   to probe an API's limits, not drawn from customer spending, and a few maximum-amount probes would
//!   otherwise outweigh all the everyday traffic.
//! * **Cost** ([`running_cost`]) = completed × (per_txn_infra + model_calls_per_txn × per_model_call)
//!   plus elapsed_hours × fixed_per_hour (the fixed part pro rata); cost_per_txn = cost / completed;
//!   false-decline loss = false_decline_cost_ratio × false-decline amount (the declared share of a
//!   falsely declined legitimate amount that the business loses); net ROI % = (prevented −
//!   false-decline loss − cost) / cost × 100 ([`roi_pct`], [`models::CostModel::roi_pct`]).
//! * **Agents** (from `Verdict.agents`): requests; mean and p99 time (p99 from a 2-significant-digit
//!   histogram); success rate = ok / requests; utilization = busy time / (wall time × concurrency), with
//!   per-agent concurrency from [`MetricsConfig::agent_concurrency`] (unknown by default: then
//!   "agent-seconds per second", which can pass 1); health = 100 × success_rate × min(1, slo/p99) ×
//!   saturation, saturation = 1 up to 80 % utilization then linearly to 0 at 100 %, and 1 when the
//!   agent's concurrency is unknown ([`health_score`]). The orchestrator gives the built-in target's
//!   stage concurrencies.
//! * **Resources**: see [`resources`]; the orchestrator puts [`ResourceSampler::sample`] into each
//!   snapshot's `resources`.
//! * **Merging**: [`SnapshotMerger`] and [`merge_summaries`] combine processes exactly by merging
//!   histograms and adding counters; see [`merge`] for the two agent/peak figures that are bounds.

pub mod agents;
pub mod business;
pub mod config;
pub mod error;
pub mod histogram;
pub mod merge;
pub mod pool;
pub mod recorder;
pub mod resources;
mod tally;
pub mod timing;

pub use agents::health_score;
pub use business::{cost_per_txn, roi_pct, running_cost};
pub use config::MetricsConfig;
pub use error::MetricsError;
pub use merge::{SnapshotMerger, merge_summaries};
pub use pool::{PercentilePool, pool_percentiles};
pub use recorder::{Recorder, Shard, Totals};
pub use resources::ResourceSampler;
pub use tally::OTHER_AGENT;
pub use timing::Timing;

//! The built-in reference fraud-detection service: ingestion, four agents (transaction analyzer,
//! pattern detector, risk assessor, decision maker) and a decision, so that fraudstress runs out of
//! the box on one machine. Served over loopback HTTP by [`FraudSim`], or called in-process as a
//! [`Pipeline`] (which implements [`targets::Target`]).
//!
//! ```
//! use fraud_sim::{FraudSim, SimConfig};
//! # async fn demo() -> Result<(), fraud_sim::SimError> {
//! let sim = FraudSim::start(SimConfig::default()).await?; // 127.0.0.1, a free port
//! println!("scoring at {} (admin token {})", sim.score_url(), sim.admin_token());
//! sim.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # Routes
//! - `POST /v1/score`: a [`models::Transaction`] as JSON → a [`models::Verdict`] (decision, risk score,
//!   reasons, per-stage timings with `ok: false` for a stage skipped or failed). 400 for a body that is
//!   not a transaction.
//! - `GET /health`: `{"status":"ok"|"degraded"|"down","stages":[...],"active_faults":[...]}`; 503 when down.
//! - `GET /metrics`: Prometheus text: per-stage requests, failures, skips, busy time, queue depth, in
//!   service, concurrency and a latency histogram; decisions, errors, degraded verdicts, faults, cards.
//! - `GET|POST|DELETE /admin/faults` with `Authorization: Bearer <token>`: list, inject (body: a
//!   [`Fault`], e.g. `{"kind":"agent_crash","stage":"pattern_detector"}`), clear all, or clear one with
//!   `?kind=agent_crash&stage=pattern_detector`. The token is the configured one or a random one.
//!
//! # Timing model
//! Each stage is a bounded-concurrency server with a FIFO queue in front. Its service time is drawn
//! from a log-normal distribution (configured mean and coefficient of variation) and spent in a tokio
//! sleep, so it costs no CPU. `capacity` (default [`DEFAULT_CAPACITY_TPS`]) sets the concurrency of each
//! stage to `round(capacity × mean × headroom)`: the pattern detector (headroom 1.0, 4 ms) saturates at
//! `capacity`, the others later (ingestion 1 ms ×2.0, analyzer 2 ms ×1.5, risk assessor 3 ms ×1.3,
//! decision maker 2 ms ×1.5). Below capacity a request takes about 12 ms; near it queues grow and
//! latency climbs; a queue past `queue_limit` (5,000) sheds requests with 503.
//! [`ServiceTime::Zero`] removes all simulated time, for driver benchmarks and quality tests.
//!
//! # Detection rules
//! The agents see the transaction and what the service remembers of its card (never a label). Scores
//! combine as independent evidence, `risk = 1 - Π(1 - s)`; `review` from 0.5, `decline` from 0.8.
//! - transaction_analyzer: risky merchant category (gambling, lotteries, quasi-cash/crypto, wires) 0.35;
//!   amount of $10,000 or more 0.2.
//! - pattern_detector (per-card recent transactions and last place): velocity, 5 or more transactions
//!   on the card within 10 minutes 0.9 (4: 0.3); card testing, 3 or more amounts under $5 within an hour
//!   0.9 (2: 0.3); impossible travel, more than 500 km from the last place at more than 900 km/h 0.92
//!   (the flagged place is not remembered as the card's).
//! - risk_assessor (per-card profile: countries, devices, merchants, running statistics of log amounts,
//!   judged after 3 profiled transactions): new country and new device together (account takeover) 0.9
//!   with a raised amount, else 0.55; new country or new device alone 0.3; amount 8× the card's typical
//!   (geometric mean) 0.85, 4× 0.25; risky category at a merchant new to the card 0.45. The profile
//!   learns only from transactions whose evidence so far stays below the review threshold.
//! - decision_maker: combines the findings; reasons list every rule that fired.
//!
//! # Degradation under load and faults
//! A request that waited longer than the pattern detector's deadline (50 ms) in its queue skips it:
//! the timing says `ok: false`, the reasons say `fallback:pattern_detector`, and the decision is made
//! from the other agents alone, so velocity, card testing and impossible travel go unseen, and the
//! card's history misses the transaction. Accuracy under load is therefore a real curve: it holds until
//! the pattern detector saturates and falls as the share of skips rises.
//!
//! Fault hooks ([`Faults`], also `POST /admin/faults`), identified by kind and stage:
//! - `agent_crash`: the transaction analyzer, pattern detector or risk assessor fail at once and are
//!   skipped (`ok: false`, same fallback as above); ingestion or the decision maker down means 503.
//! - `db_throttle`: the stage's store refuses a share of requests with 429 (or `status`).
//! - `latency_spike`: more service time on a stage (it holds its servers, so capacity falls too).
//! - `stream_lag`: ingestion holds each request for `latency` before it may be picked up.
//! - `model_rate_limit`: `rate_limit_tps` decision-maker calls per second; the rest get 429.
//! - `connection_reset` / `network_partition`: connections close without an answer (at a probability /
//!   all); in-process this is a connection error.
//! - `http_error`: a share of requests answered `status` (503); `slow_response`: the answer waits.

mod card_store;
mod config;
mod error;
mod faults;
mod metrics;
mod pipeline;
mod rules;
mod server;
mod stage;

pub use config::{DEFAULT_CAPACITY_TPS, ServiceTime, SimConfig, StageConfig};
pub use error::{PipelineError, SimError};
pub use faults::{Fault, FaultError, FaultKey, Faults};
pub use pipeline::Pipeline;
pub use rules::RuleConfig;
pub use server::FraudSim;
pub use stage::{StageName, StageSnapshot};

//! The open-model load driver: sends each transaction at its intended instant.
//!
//! A [`Driver`] walks an arrival [`load_profiles::Schedule`] on tokio's clock. Every arrival whose
//! instant has passed is sent at once (the dispatcher wakes on tokio's 1 ms timer), with the
//! transaction the [`transaction_factory::TransactionFactory`] makes for the arrival's index, to an
//! `Arc<dyn targets::Target>`; each request is recorded on a [`metrics_core::Recorder`] with its
//! intended send time, actual send time and completion, so a late send shows in latency (no
//! coordinated omission).
//!
//! * **Open model.** Sends never wait for answers. When `max_in_flight` requests are out, a due
//!   arrival is *dropped*: counted as `ErrorKind::Dropped`, never silently skipped and never queued.
//! * **Ceiling.** A `governor` limiter holds the send rate under `max_tps` (default 60,000; burst
//!   2 ms of traffic) as a safety net; the schedule, not governor, decides the send times. It
//!   sheds: an arrival it would delay by more than one 1 ms tick is dropped and counted
//!   (`dropped_ceiling`, apart from the in-flight bound's `dropped`), so the model stays open.
//! * **Backlogs.** However far behind the schedule gets (a rate multiplier of `1e300`), the
//!   dispatcher counts the arrivals it cannot send in bulk ([`load_profiles::Schedule::skip_until`])
//!   and yields every round, so stop is always seen and a run ends within its duration plus the
//!   grace period.
//! * **Control** ([`DriverControl`]): pause/resume (the schedule clock stops, so the profile resumes
//!   where it was), rate multiplier, stop (no more sends; in-flight requests get `grace_period`, then
//!   are abandoned and recorded as timeouts). [`DriverControl::status`] shows the phase and the
//!   schedule clock; progress counters are on the recorder ([`metrics_core::Recorder::totals`]).
//! * **Segments.** A worker of a distributed run gets a schedule cut to its execution segment
//!   ([`load_profiles::Schedule::segment`]): it sends arrivals `k` with `k mod n == i`, at the
//!   instants of the whole run and with transaction `k`, so `n` workers together send the whole run.
//!   [`DriverConfig::sent_log`] records the sent indices when that needs proving.
//! * **Tasks.** A dispatcher (inside [`Driver::run`]) and one lane task per tokio worker; each lane
//!   runs its requests concurrently and records on its own metrics shard. All are awaited before
//!   `run` returns.
//! * **Benchmark.** [`bench`] measures the driver itself (achieved rate, CPU per request) for
//!   `stress-runner bench` and `benches/driver.rs`; embedding does not need it.
//!
//! An embedder needs only transaction-factory, load-profiles, metrics-core and targets: see
//! `crates/load-driver/tests/embed.rs` for a complete, copyable example against a closure target
//! (an HTTP endpoint is the same with an HTTP target). In short:
//!
//! ```
//! use load_driver::{Driver, DriverConfig, DriverControl};
//! use load_profiles::{Profile, Schedule};
//! use metrics_core::{MetricsConfig, Recorder};
//! use models::{Arrival, Decision, LoadProfile, Stage, Verdict};
//! use std::{sync::Arc, time::Duration};
//! use targets::FnTarget;
//! use transaction_factory::{FactoryConfig, TransactionFactory};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let profile = Profile::new(&LoadProfile {
//!     arrival: Arrival::Uniform,
//!     stages: vec![Stage::Sustained { tps: 200.0, duration: Duration::from_secs(1), name: None }],
//! }).unwrap();
//! let factory = Arc::new(TransactionFactory::new(7, FactoryConfig::default()).unwrap());
//! let target = Arc::new(FnTarget::new(|_txn| async {
//!     Ok(Verdict { decision: Decision::Approve, risk_score: 0.0, reasons: vec![], agents: vec![] })
//! }));
//! let recorder = Recorder::new(MetricsConfig::default()).unwrap();
//! let control = DriverControl::new();
//! let driver = Driver::new(Schedule::new(profile, Arrival::Uniform, 7), factory, target,
//!                          recorder.clone(), DriverConfig::default(), control.clone()).unwrap();
//! let report = driver.run().await.unwrap();
//! assert_eq!((report.sent, report.completed, report.dropped), (200, 200, 0));
//! assert_eq!(recorder.totals().ok, 200);
//! # }
//! ```

pub mod bench;
mod ceiling;
mod config;
mod control;
mod driver;
mod error;
mod expiry;
mod lane;
mod slots;

pub use config::{DriverConfig, SentLog};
pub use control::{DriverControl, DriverPhase, DriverStatus};
pub use driver::{Driver, DriverReport, EndReason};
pub use error::DriverError;

//! Runs fraudstress scenarios: the built-in scenarios and TOML files, the run's state machine, the
//! control handle and event/metric streams, success criteria (whole-run or scoped to a window, phase or
//! the time outside faults), safeguards (rate ceiling, maximum duration, cost budget) and the results
//! folder (`summary.json`, `intervals.jsonl`, `events.jsonl`, `latency.hgrm`).
//!
//! ```
//! use orchestrator::{builtin, scenario_file, timeline};
//!
//! // A built-in scenario, compressed tenfold: the 10-minute investor demo in one minute.
//! let investor = timeline::scale(&builtin::investor(), 0.1).unwrap();
//! assert_eq!(investor.load.total_duration().as_secs(), 60);
//!
//! // The same power from TOML, checked for unknown keys and bad values.
//! let spec = scenario_file::parse_str(r#"
//!     name = "quick"
//!     [[load.stages]]
//!     shape = "sustained"
//!     tps = 200
//!     duration = "10s"
//!     [[criteria]]
//!     metric = "latency_ms.p99"
//!     op = "<"
//!     threshold = 250
//! "#, "quick.toml").unwrap();
//! assert_eq!(spec.criteria[0].metric, "latency_ms.p99");
//!
//! let err = scenario_file::parse_str("name = \"x\"\nsede = 1\n", "bad.toml").unwrap_err();
//! assert!(err.to_string().starts_with("bad.toml:2:1:"));
//! ```
//!
//! Running one (against the built-in target, served on a free loopback port for the run):
//!
//! ```no_run
//! use orchestrator::{builtin, timeline, RunOptions, StressTestOrchestrator};
//! # async fn demo() -> Result<(), orchestrator::OrchestratorError> {
//! let spec = timeline::scale(&builtin::smoke(), 0.25)?;
//! let orch = StressTestOrchestrator::new(spec, RunOptions::default())?;
//! let control = orch.control(); // clone it for a dashboard: pause, resume, stop, faults
//! let mut frames = control.subscribe_frames(); // one IntervalSnapshot per tick
//! let outcome = orch.run().await?; // results/<run-id>/{summary.json, intervals.jsonl, ...}
//! println!("{} -> exit code {}", outcome.dir.display(), outcome.exit_code());
//! # Ok(()) }
//! ```
//!
//! Against a detector of your own, pass `with_target(PreparedTarget::custom(..))`:
//! `crates/orchestrator/tests/embed.rs` is a complete, copyable example (a TOML scenario and a closure
//! target on tokio's paused clock, its figures checked against the detector's logic).
//!
//! # Faults
//! The orchestrator owns the fault timeline (scheduled faults, `--fault` flags and
//! [`RunControl::inject_fault`]) and carries faults out with the `failure-injection` crate's
//! [`Injector`]s: fraud-sim's fault hooks for the built-in and in-process targets (an `agent_crash`
//! really crashes the agent), and for an HTTP target a fault-injecting proxy on loopback placed between
//! the driver and the target (started when the scenario schedules faults or
//! [`RunOptions::fault_proxy`] asks for it). Degradation levels, alerts, the adaptive mode, abort
//! rules and the resilience figures follow the scenario's `[resilience]` table: see [`resilience`].

pub mod builtin;
mod control;
pub mod criteria;
mod error;
pub mod histogram;
pub mod k8s;
mod load;
pub mod merge;
pub mod metric_paths;
mod orchestrator;
pub mod resilience;
mod results;
mod run_clock;
mod run_faults;
pub mod scenario_file;
mod state_machine;
mod target_layer;
pub mod target_resources;
mod target_setup;
mod tick_watch;
pub mod timeline;
mod warm_up;
pub mod window;

pub use control::{Command, ControlError, RunControl};
pub use error::{OrchestratorError, ScenarioError};
pub use failure_injection::{FaultId, InjectError, Injector};
pub use load::run_stream;
pub use orchestrator::{EndReason, RunOptions, RunOutcome, StressTestOrchestrator};
pub use results::{rfc3339, run_id};
pub use run_files::Existing;
pub use state_machine::{StateMachine, TransitionError};
pub use target_layer::TargetLayer;
pub use target_setup::{PreparedTarget, TargetFactory, http_config};
pub use warm_up::{MAX_WARM_UP, WarmUp, warm_up};

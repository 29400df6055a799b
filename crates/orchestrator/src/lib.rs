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
//! # Faults
//! The orchestrator owns the fault timeline (scheduled faults, `--fault` flags and
//! [`RunControl::inject_fault`]) and carries faults out with the `failure-injection` crate's
//! [`Injector`]s: fraud-sim's fault hooks for the built-in and in-process targets (an `agent_crash`
//! really crashes the agent), and for an HTTP target a fault-injecting proxy on loopback placed between
//! the driver and the target (started when the scenario schedules faults or
//! [`RunOptions::fault_proxy`] asks for it). Degradation levels, alerts, the adaptive mode, abort
//! rules and the resilience figures follow the scenario's `[resilience]` table: see [`resilience`].

pub mod builtin;
pub mod control;
pub mod criteria;
pub mod error;
pub mod histogram;
mod load;
pub mod merge;
pub mod metric_paths;
pub mod orchestrator;
pub mod resilience;
pub mod results;
pub mod scenario_file;
pub mod state_machine;
pub mod target_setup;
pub mod timeline;
pub mod window;

pub use control::{Command, ControlError, RunControl};
pub use error::{OrchestratorError, ScenarioError};
pub use failure_injection::{FaultId, InjectError, Injector};
pub use orchestrator::{EndReason, RunOptions, RunOutcome, StressTestOrchestrator, TargetLayer};
pub use state_machine::{StateMachine, TransitionError};
pub use target_setup::PreparedTarget;

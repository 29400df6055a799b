//! Capacity search: the highest rate a system sustains within its SLO, found by a sequence of
//! sustained steps (exponential growth, then bisection to a set precision, with repeats near the
//! boundary), plus the latency knee and the detection-quality knee of the load curve.
//!
//! - [`slo`]: the SLO (`p99<250ms,error_rate<0.1%,recall>0.9`) and how a step is judged.
//! - [`keep_up`]: what every step must also show, whatever the SLO: that it kept up with its rate
//!   (achieved ÷ offered, no growing backlog, every agent doing its work).
//! - [`search()`]: the search itself, over any [`Judge`] (a synthetic one in tests).
//! - [`StepRunner`]: the real judge, one orchestrator run per step (a fresh built-in target per step).
//! - [`knee`]: where p99 leaves its low-load line and where recall drops.
//! - [`CapacityReport`]: `capacity.json` and the self-contained `capacity.html`.
//!
//! ```
//! use capacity::{search, Judge, Measurement, SearchConfig, Slo, StepFigures, StepRequest};
//!
//! // A model system: it serves up to 3,000 TPS with a level p99 of 20 ms; beyond, it serves
//! // 3,000 and its backlog grows by the rest. A p99 bound alone never notices; keeping up does
//! // (within its 2% allowance: up to 3,000 / 0.98).
//! struct Model;
//! #[async_trait::async_trait]
//! impl Judge for Model {
//!     async fn measure(&mut self, s: &StepRequest) -> Result<Measurement, capacity::CapacityError> {
//!         let served = s.tps.min(3000.0);
//!         let figures = StepFigures {
//!             offered_tps: s.tps,
//!             achieved_tps: served,
//!             p99_ms: 20.0,
//!             backlog_growth: Some(1.0 - served / s.tps),
//!             latency_growth: Some(s.tps / served - 1.0),
//!             ..Default::default()
//!         };
//!         Ok(Measurement { figures, ..Default::default() })
//!     }
//! }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let slo = Slo::parse("p99<250ms").unwrap();
//! let out = search(&SearchConfig::default(), &slo, &mut Model, &mut capacity::Quiet).await.unwrap();
//! let [lo, hi] = out.confidence_interval;
//! assert!(lo.unwrap() <= 3000.0 / 0.98 && hi.unwrap() > 3000.0);
//! assert!(hi.unwrap() - lo.unwrap() <= 0.02 * lo.unwrap());
//! # });
//! ```

pub mod error;
pub mod figures;
pub mod files;
mod html;
pub mod keep_up;
pub mod knee;
pub mod output;
pub mod runner;
pub mod search;
pub mod slo;

pub use error::CapacityError;
pub use figures::{AgentShare, StepFigures};
pub use files::{HTML_FILE, JSON_FILE};
pub use keep_up::KeepUp;
pub use knee::{KneeConfig, Knees, QualityMetric};
pub use output::{CapacityReport, Settings};
pub use runner::{Interrupter, StepConfig, StepRunner, TargetChoice};
pub use search::{
    Judge, Measurement, Observer, Phase, Quiet, SearchConfig, SearchOutcome, StepRecord,
    StepRequest, StopReason, Verdict, search,
};
pub use slo::{Metric, Slo, SloError};

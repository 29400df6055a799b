//! Capacity search: the highest rate a system sustains within its SLO, found by a sequence of
//! sustained steps (exponential growth, then bisection to a set precision, with repeats near the
//! boundary), plus the latency knee and the detection-quality knee of the load curve.
//!
//! - [`slo`]: the SLO (`p99<250ms,error_rate<0.1%,recall>0.9`) and how a step is judged.
//! - [`search()`]: the search itself, over any [`Judge`] (a synthetic one in tests).
//! - [`StepRunner`]: the real judge, one orchestrator run per step (a fresh built-in target per step).
//! - [`knee`]: where p99 leaves its low-load line and where recall drops.
//! - [`CapacityReport`]: `capacity.json` and the self-contained `capacity.html`.
//!
//! ```
//! use capacity::{search, Judge, Measurement, SearchConfig, Slo, StepFigures, StepRequest};
//!
//! // A model system: p99 is 20 ms up to 3,000 TPS and 400 ms beyond.
//! struct Model;
//! #[async_trait::async_trait]
//! impl Judge for Model {
//!     async fn measure(&mut self, s: &StepRequest) -> Result<Measurement, capacity::CapacityError> {
//!         let p99_ms = if s.tps <= 3000.0 { 20.0 } else { 400.0 };
//!         Ok(Measurement { figures: StepFigures { offered_tps: s.tps, p99_ms, ..Default::default() }, ..Default::default() })
//!     }
//! }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let slo = Slo::parse("p99<250ms").unwrap();
//! let out = search(&SearchConfig::default(), &slo, &mut Model, &mut capacity::Quiet).await.unwrap();
//! let [lo, hi] = out.confidence_interval;
//! assert!(lo.unwrap() <= 3000.0 && hi.unwrap() > 3000.0);
//! assert!(hi.unwrap() - lo.unwrap() <= 0.02 * lo.unwrap());
//! # });
//! ```

pub mod error;
pub mod figures;
mod html;
pub mod knee;
pub mod output;
pub mod runner;
pub mod search;
pub mod slo;

pub use error::CapacityError;
pub use figures::StepFigures;
pub use knee::{KneeConfig, Knees, QualityMetric};
pub use output::{CapacityReport, HTML_FILE, JSON_FILE, Settings};
pub use runner::{Interrupter, StepConfig, StepRunner, TargetChoice};
pub use search::{
    Judge, Measurement, Observer, Phase, Quiet, SearchConfig, SearchOutcome, StepRecord,
    StepRequest, StopReason, Verdict, search,
};
pub use slo::{Metric, Slo, SloError};

//! What a capacity search found, as `capacity.json` holds it: the settings, the outcome, the knees and
//! every step. [`crate::files`] writes it and the `html` module draws it.

use crate::knee::{self, CurvePoint, KneeConfig, Knees};
use crate::runner::StepConfig;
use crate::search::{RateVerdict, SearchConfig, SearchOutcome, StepRecord, StopReason};
use crate::slo::Slo;
use models::TargetInfo;
use serde::Serialize;

/// The search's settings, as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub min_tps: f64,
    pub max_tps: f64,
    pub precision: f64,
    pub max_runs: u32,
    pub boundary_band: f64,
    pub margin: f64,
    pub kill_error_rate: f64,
    /// The keep-up bound every step was held to ([`crate::keep_up`]): the SLO's `throughput`
    /// threshold when it has one, else the configured `keep_up.min_ratio`.
    pub keep_up_ratio: f64,
    pub warmup_s: f64,
    pub step_duration_s: f64,
    pub tick_s: f64,
    pub seed: u64,
}

impl Settings {
    pub fn new(search: &SearchConfig, step: &StepConfig, slo: &Slo) -> Self {
        Self {
            min_tps: search.min_tps,
            max_tps: search.max_tps,
            precision: search.precision,
            max_runs: search.max_runs,
            boundary_band: search.boundary_band,
            margin: search.margin,
            kill_error_rate: search.kill_error_rate,
            keep_up_ratio: search.keep_up.ratio(slo),
            warmup_s: step.warmup.as_secs_f64(),
            step_duration_s: step.duration.as_secs_f64(),
            tick_s: step.tick.as_secs_f64(),
            seed: step.seed,
        }
    }
}

/// Everything `capacity.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityReport {
    pub id: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub target: TargetInfo,
    pub slo: Slo,
    /// The highest rate that passed the SLO (majority verdict); `null` when none did.
    pub max_sustainable_tps: Option<f64>,
    /// Where p99 leaves its low-load line (see the `knee` module docs); `null` when it never does.
    pub knee_tps: Option<f64>,
    /// Where recall (or F1) falls `quality_drop` below its low-load level; `null` when it never does.
    pub quality_knee_tps: Option<f64>,
    /// Share of runs at the two bracketing rates that agreed with their rate's verdict.
    pub confidence: f64,
    /// `[highest passing rate, lowest failing rate]`; the second is `null` when `max_tps` passed.
    pub confidence_interval: [Option<f64>; 2],
    /// The search converged (or passed at `max_tps`).
    pub found: bool,
    pub stop: StopReason,
    pub stop_text: String,
    pub settings: Settings,
    pub knees: Knees,
    /// Per rate: medians over its runs.
    pub curve: Vec<CurvePoint>,
    pub rates: Vec<RateVerdict>,
    pub steps: Vec<StepRecord>,
}

impl CapacityReport {
    /// Puts the outcome, the knees and the settings together.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        started_at: String,
        target: TargetInfo,
        slo: &Slo,
        settings: Settings,
        knee_cfg: &KneeConfig,
        outcome: SearchOutcome,
    ) -> Self {
        let curve = knee::curve(&outcome.steps, knee_cfg);
        let knees = knee::knees(&curve, knee_cfg);
        Self {
            id,
            started_at,
            target,
            slo: slo.clone(),
            max_sustainable_tps: outcome.max_sustainable_tps,
            knee_tps: knees.latency.as_ref().map(|k| k.tps),
            quality_knee_tps: knees.quality.as_ref().map(|k| k.tps),
            confidence: outcome.confidence,
            confidence_interval: outcome.confidence_interval,
            found: outcome.found(),
            stop_text: outcome.stop.describe(),
            stop: outcome.stop,
            settings,
            knees,
            curve,
            rates: outcome.rates,
            steps: outcome.steps,
        }
    }

    /// How the search ended, as an exit code: passed when a sustainable rate was found, interrupted on
    /// Ctrl+C, a usage error when a step could not be run, failed otherwise.
    pub fn exit(&self) -> models::RunExit {
        match &self.stop {
            StopReason::Interrupted => models::RunExit::Interrupted,
            StopReason::StepError { .. } => models::RunExit::Usage,
            _ if self.found && self.max_sustainable_tps.is_some() => models::RunExit::Passed,
            _ => models::RunExit::Failed,
        }
    }
}

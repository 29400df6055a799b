//! Why a load profile spec was refused.

use thiserror::Error;

/// A stage of a [`models::LoadProfile`] that cannot be turned into a rate curve.
///
/// `index` counts stages from 0, as in `load.stages[0]`; `shape` is the stage's keyword.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProfileError {
    #[error(
        "the load profile has no stages; add at least one, for example a `sustained` stage with `tps = 500` and `duration = \"30s\"`"
    )]
    NoStages,

    #[error(
        "load.stages[{index}] ({shape}): {field} = {value} is not a finite number; write a plain number such as 500"
    )]
    NotFinite {
        index: usize,
        shape: &'static str,
        field: &'static str,
        value: f64,
    },

    #[error(
        "load.stages[{index}] ({shape}): {field} = {value} is negative; rates, volatilities and probabilities must be 0 or more"
    )]
    Negative {
        index: usize,
        shape: &'static str,
        field: &'static str,
        value: f64,
    },

    #[error(
        "load.stages[{index}] ({shape}): {field} is zero; give it a positive duration such as \"30s\""
    )]
    ZeroDuration {
        index: usize,
        shape: &'static str,
        field: &'static str,
    },

    #[error(
        "load.stages[{index}] (burst): burst_for ({burst_for_s} s) is longer than every ({every_s} s); a burst must fit in its period"
    )]
    BurstLongerThanPeriod {
        index: usize,
        burst_for_s: f64,
        every_s: f64,
    },

    #[error(
        "load.stages[{index}] (wave): amplitude_tps = {amplitude} exceeds mean_tps = {mean}, so the rate would go negative; keep amplitude_tps <= mean_tps"
    )]
    WaveBelowZero {
        index: usize,
        mean: f64,
        amplitude: f64,
    },

    #[error(
        "load.stages[{index}] (chaos): spike_probability = {value} must be between 0 and 1 (it is a chance per second)"
    )]
    Probability { index: usize, value: f64 },

    #[error(
        "load.stages[{index}]: the stages up to this one last longer than a duration can hold (u64::MAX seconds); shorten them"
    )]
    TooLong { index: usize },

    #[error(
        "load.stages[{index}]: the stages up to this one plan more transactions than can be counted (the rate times the duration is not a finite number); lower the rate or shorten the stages"
    )]
    UncountableTraffic { index: usize },

    #[error(
        "load.stages[{index}] (chaos): duration {duration_s} s is longer than the chaos limit of {max_s} s (one planned rate per second is kept in memory); split it into shorter stages"
    )]
    ChaosTooLong {
        index: usize,
        duration_s: f64,
        max_s: f64,
    },
}

/// A bad execution segment such as `"3/2"`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SegmentError {
    #[error(
        "execution segment {text:?} is not of the form \"i/n\" (for example \"0/4\" for the first of four shares)"
    )]
    Syntax { text: String },

    #[error(
        "execution segment {text:?}: {part} {value:?} is not a whole number 0 or more; write it like \"2/8\""
    )]
    Number {
        text: String,
        part: &'static str,
        value: String,
    },

    #[error(
        "execution segment count n = 0; there must be at least one segment (\"0/1\" is the whole schedule)"
    )]
    ZeroCount,

    #[error("execution segment index {index} is out of range for {count} segments; the index must be below the count (0..={last})", last = .count - 1)]
    IndexOutOfRange { index: u64, count: u64 },
}

/// A bad request to a running [`crate::Schedule`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScheduleError {
    #[error(
        "rate multiplier {0} is not allowed; give a finite number 0 or more (1 = as planned, 0 = pause)"
    )]
    InvalidMultiplier(f64),
}

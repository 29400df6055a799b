//! Load profile specs: a sequence of stages, each a rate curve with a duration. The curves' maths
//! (`rate_at`, integrals, arrival schedules) live in the `load-profiles` crate.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One stage of a profile. In TOML:
/// ```toml
/// [[load.stages]]
/// shape = "ramp"
/// from_tps = 0
/// to_tps = 8000
/// duration = "60s"
/// name = "ramp-up"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage {
    /// Linear from `from_tps` to `to_tps`.
    Ramp {
        from_tps: f64,
        to_tps: f64,
        #[serde(with = "crate::duration_serde")]
        duration: Duration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Constant rate.
    Sustained {
        tps: f64,
        #[serde(with = "crate::duration_serde")]
        duration: Duration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// `base_tps`, with `burst_tps` for `burst_for` at the start of every `every`.
    Burst {
        base_tps: f64,
        burst_tps: f64,
        #[serde(with = "crate::duration_serde")]
        every: Duration,
        #[serde(with = "crate::duration_serde")]
        burst_for: Duration,
        #[serde(with = "crate::duration_serde")]
        duration: Duration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// `mean_tps + amplitude_tps * sin(2πt / period)`.
    Wave {
        mean_tps: f64,
        amplitude_tps: f64,
        #[serde(with = "crate::duration_serde")]
        period: Duration,
        #[serde(with = "crate::duration_serde")]
        duration: Duration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A seeded random walk around `mean_tps` (relative step `volatility` per second) with
    /// occasional spikes to `spike_tps` (probability `spike_probability` per second).
    Chaos {
        mean_tps: f64,
        volatility: f64,
        spike_tps: f64,
        spike_probability: f64,
        seed: u64,
        #[serde(with = "crate::duration_serde")]
        duration: Duration,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl Stage {
    pub fn duration(&self) -> Duration {
        match self {
            Stage::Ramp { duration, .. }
            | Stage::Sustained { duration, .. }
            | Stage::Burst { duration, .. }
            | Stage::Wave { duration, .. }
            | Stage::Chaos { duration, .. } => *duration,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Stage::Ramp { name, .. }
            | Stage::Sustained { name, .. }
            | Stage::Burst { name, .. }
            | Stage::Wave { name, .. }
            | Stage::Chaos { name, .. } => name.as_deref(),
        }
    }

    /// The shape's keyword (`ramp`, `sustained`, ...).
    pub fn shape(&self) -> &'static str {
        match self {
            Stage::Ramp { .. } => "ramp",
            Stage::Sustained { .. } => "sustained",
            Stage::Burst { .. } => "burst",
            Stage::Wave { .. } => "wave",
            Stage::Chaos { .. } => "chaos",
        }
    }
}

/// How arrivals are placed within the rate curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Evenly spaced at the instantaneous rate (wrk2's constant-throughput model).
    #[default]
    Uniform,
    /// A seeded non-homogeneous Poisson process with the same mean rate.
    Poisson,
}

/// A whole load profile.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadProfile {
    #[serde(default)]
    pub arrival: Arrival,
    pub stages: Vec<Stage>,
}

impl LoadProfile {
    pub fn total_duration(&self) -> Duration {
        // Saturating: a sum of absurd stages must reach validation, not panic on the way.
        self.stages
            .iter()
            .map(Stage::duration)
            .fold(Duration::ZERO, Duration::saturating_add)
    }
}

//! The handful of figures every tick is judged by, read once from an [`IntervalSnapshot`].

use models::IntervalSnapshot;

/// One tick's figures as degradation, alerts and resilience read them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TickFigures {
    /// End of the tick, seconds since the run started.
    pub t_s: f64,
    pub interval_s: f64,
    /// Completions per second.
    pub tps: f64,
    pub planned_tps: f64,
    /// Failed requests (dropped ones aside) over completed requests; 0 when nothing completed.
    pub error_rate: f64,
    pub p99_ms: f64,
    /// Target CPU in percent of one core, when it is sampled.
    pub target_cpu_pct: Option<f64>,
    /// Load generator CPU in percent of one core.
    pub generator_cpu_pct: f64,
    /// Requests were sent and none succeeded.
    pub unavailable: bool,
    /// Nothing was due and nothing sent.
    pub idle: bool,
    pub cost: f64,
}

impl TickFigures {
    pub fn of(snap: &IntervalSnapshot) -> Self {
        let errors = snap.error_total();
        let error_rate = if snap.completed == 0 {
            0.0
        } else {
            errors as f64 / snap.completed as f64
        };
        Self {
            t_s: snap.t_s,
            interval_s: snap.interval_s,
            tps: snap.achieved_tps,
            planned_tps: snap.planned_tps,
            error_rate,
            p99_ms: snap.latency_ms.p99,
            target_cpu_pct: snap.resources.target.map(|t| t.cpu_pct),
            generator_cpu_pct: snap.resources.generator.cpu_pct,
            unavailable: snap.sent > 0 && snap.ok == 0,
            idle: snap.scheduled == 0 && snap.sent == 0,
            cost: snap.cumulative.cost,
        }
    }

    /// Start of the tick, seconds since the run started.
    pub fn start_s(&self) -> f64 {
        self.t_s - self.interval_s
    }
}

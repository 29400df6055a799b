//! The recorder's configuration: the declared cost model and how agents are judged.

use crate::error::MetricsError;
use models::{CostModel, Currency};
use std::collections::BTreeMap;
use std::time::Duration;

/// How the recorder turns samples into business and agent figures. A plain struct with `Default`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// Cost model and fixed FX table; every currency the factory generates needs a rate.
    pub cost: CostModel,
    /// Per-agent concurrency, by agent name; agents not listed use `default_agent_concurrency`.
    pub agent_concurrency: BTreeMap<String, f64>,
    /// Concurrency of agents not in `agent_concurrency`. `None` (the default) means unknown: the
    /// agent's utilization then reads as "agent-seconds of work per second of wall time" (it can pass
    /// 1 for an agent that works in parallel) and does not count in its health score.
    pub default_agent_concurrency: Option<f64>,
    /// The p99 an agent should stay under; the health score's latency factor falls off above it.
    pub agent_latency_slo: Duration,
    /// Agent names beyond this many are folded into one `other` entry, so memory stays bounded
    /// whatever a target answers.
    pub max_agents: usize,
    /// Put the interval's histograms (V2 + deflate, base64) into each snapshot for exact merging.
    pub encode_histograms: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            cost: CostModel::default(),
            agent_concurrency: BTreeMap::new(),
            default_agent_concurrency: None,
            agent_latency_slo: Duration::from_millis(500),
            max_agents: 64,
            encode_histograms: true,
        }
    }
}

impl MetricsConfig {
    /// Checks the inputs the hot path relies on: a rate for every currency, positive concurrencies.
    pub fn validate(&self) -> Result<(), MetricsError> {
        for c in Currency::ALL {
            match self.cost.fx.0.get(&c) {
                Some(r) if r.is_finite() && *r > 0.0 => {}
                _ => {
                    return Err(MetricsError::Config {
                        field: format!("cost.fx.{c}"),
                        reason: "missing or not a positive number; add a rate for every currency to the [cost.fx] table"
                            .into(),
                    });
                }
            }
        }
        let concurrencies = self
            .agent_concurrency
            .iter()
            .map(|(k, v)| (format!("agent_concurrency.{k}"), *v));
        let default = self
            .default_agent_concurrency
            .map(|v| ("default_agent_concurrency".to_owned(), v));
        for (field, v) in concurrencies.chain(default) {
            if !(v.is_finite() && v > 0.0) {
                return Err(MetricsError::Config {
                    field,
                    reason: format!(
                        "{v} is not a positive number; give the agent's parallelism (1 or more)"
                    ),
                });
            }
        }
        if self.max_agents == 0 {
            return Err(MetricsError::Config {
                field: "max_agents".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// The concurrency an agent is judged against.
    /// The agent's concurrency, when known.
    pub fn concurrency_of(&self, agent: &str) -> Option<f64> {
        self.agent_concurrency
            .get(agent)
            .copied()
            .or(self.default_agent_concurrency)
    }

    /// Units of the reporting currency per unit of each currency, indexed by `Currency as usize`.
    pub(crate) fn fx_rates(&self) -> [f64; Currency::ALL.len()] {
        let to = self
            .cost
            .fx
            .0
            .get(&self.cost.currency)
            .copied()
            .unwrap_or(1.0);
        let mut out = [0.0; Currency::ALL.len()];
        for c in Currency::ALL {
            out[c as usize] = self.cost.fx.0.get(&c).map_or(0.0, |from| from / to);
        }
        out
    }

    /// Units of the reporting currency per *minor* unit of each currency (cent, yen, fils), so that
    /// the hot path converts `amount_minor` with one multiplication.
    pub(crate) fn fx_minor_rates(&self) -> [f64; Currency::ALL.len()] {
        let mut out = self.fx_rates();
        for c in Currency::ALL {
            out[c as usize] /= 10f64.powi(i32::from(c.minor_units()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_missing_rates_are_named() {
        MetricsConfig::default().validate().unwrap();
        let mut c = MetricsConfig::default();
        c.cost.fx.0.remove(&Currency::JPY);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("cost.fx.JPY"), "{e}");
        let mut c = MetricsConfig::default();
        c.agent_concurrency.insert("risk".into(), 0.0);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("agent_concurrency.risk")
        );
    }

    #[test]
    fn fx_rates_convert_to_the_reporting_currency() {
        let mut c = MetricsConfig::default();
        c.cost.currency = Currency::EUR;
        let r = c.fx_rates();
        assert!((r[Currency::EUR as usize] - 1.0).abs() < 1e-12);
        assert!((r[Currency::USD as usize] - 1.0 / 1.08).abs() < 1e-12);
        let m = c.fx_minor_rates();
        assert!((m[Currency::USD as usize] - 0.01 / 1.08).abs() < 1e-12);
        assert!((m[Currency::JPY as usize] - 0.0067 / 1.08).abs() < 1e-12);
    }
}

//! The system under test's own resources in a run: its `metrics_url` scraped once before the load
//! (so that the first tick has a CPU rate) and then at every tick, each reading put into that tick
//! (`resources.target`, `target_metrics`, or `target_scrape_error`), and the run's
//! [`TargetResources`] summed up from the ticks.
//!
//! A scrape is bounded by [`scrape_timeout`] so that a slow endpoint delays a tick's frame by at
//! most that, never the load (the load driver runs on its own). A failed scrape is counted in the
//! tick and the summary; the first one is also said as a message, once.

use crate::OrchestratorError;
use models::{IntervalSnapshot, ScenarioSpec, TargetResources};
use std::time::Duration;
use targets::{MetricsScraper, ScrapeError, TargetReading};

/// A quarter of the tick, at most 500 ms: a metrics page on a healthy system answers in a few
/// milliseconds; one slower than this is itself a finding, counted as a failed scrape.
pub fn scrape_timeout(tick: Duration) -> Duration {
    (tick / 4).clamp(Duration::from_millis(10), Duration::from_millis(500))
}

/// The scraper of a run and what the last scrape gave.
#[derive(Debug)]
pub struct TargetWatch {
    scraper: MetricsScraper,
    last: Option<Result<TargetReading, ScrapeError>>,
    failure_said: bool,
}

impl TargetWatch {
    /// The watch the scenario asks for (`[target] metrics_url`), or `None`. A bad URL or a remote one
    /// without `allow_remote` is an error before any load.
    pub fn for_scenario(
        spec: &ScenarioSpec,
        tick: Duration,
        allow_remote: bool,
    ) -> Result<Option<Self>, OrchestratorError> {
        let Some(url) = &spec.target.metrics_url else {
            return Ok(None);
        };
        let scraper = MetricsScraper::new(
            url,
            spec.target.metrics.clone(),
            &spec.target.tls,
            scrape_timeout(tick),
            allow_remote,
        )
        .map_err(|e| OrchestratorError::Target(format!("`metrics_url`: {e}")))?;
        Ok(Some(Self {
            scraper,
            last: None,
            failure_said: false,
        }))
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        self.scraper.url()
    }

    /// Scrapes now; the reading waits for the next [`fill`](Self::fill). Returns the failure's text
    /// the first time a scrape fails, for the caller to say once.
    pub async fn scrape(&mut self) -> Option<String> {
        let reading = self.scraper.scrape().await;
        let first_failure = match &reading {
            Err(e) if !self.failure_said => {
                self.failure_said = true;
                Some(format!(
                    "scraping the target's metrics failed: {e}; the run goes on without the \
                     target's CPU and memory for the ticks whose scrape fails"
                ))
            }
            _ => None,
        };
        self.last = Some(reading);
        first_failure
    }

    /// Puts the last reading into `snap` (once: a tick without a fresh scrape gets nothing).
    pub fn fill(&mut self, snap: &mut IntervalSnapshot) {
        match self.last.take() {
            Some(Ok(reading)) => {
                snap.resources.target = reading.process;
                snap.target_metrics = reading.gauges;
            }
            Some(Err(e)) => snap.target_scrape_error = Some(e.to_string()),
            None => {}
        }
    }

    /// The run's figures from its ticks.
    pub fn summary(&self, ticks: &[IntervalSnapshot]) -> TargetResources {
        TargetResources::from_ticks(self.url(), ticks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrape_timeout_is_a_quarter_tick_within_bounds() {
        assert_eq!(
            scrape_timeout(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
        assert_eq!(
            scrape_timeout(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert_eq!(
            scrape_timeout(Duration::from_millis(8)),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn no_metrics_url_no_watch_and_a_remote_one_is_refused() {
        let mut spec = crate::builtin::smoke();
        assert!(
            TargetWatch::for_scenario(&spec, Duration::from_secs(1), false)
                .unwrap()
                .is_none()
        );
        spec.target.metrics_url = Some("http://192.0.2.7:9100/metrics".into());
        let err = TargetWatch::for_scenario(&spec, Duration::from_secs(1), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metrics_url") && err.contains("allow_remote"),
            "{err}"
        );
    }
}

//! The built-in detector's warm start. A detector in service has seen its cards before; a fresh
//! built-in one has not, so a short run (or a capacity step, each with a fresh target) would measure
//! an empty card cache: recall about 0.6 where a detector with history reaches 0.95. Before traffic,
//! [`warm_up`] has the built-in pipeline learn the cards' history from the run's own stream, the
//! population's everyday purchases in the `target.warm_up` period before the run's first
//! transaction ([`transaction_factory::TransactionFactory::history`]): the same seed, population and
//! clock as the run, made by the model of legitimate traffic, so no label is ever read.
//!
//! ```
//! # async fn demo() -> Result<(), orchestrator::OrchestratorError> {
//! let pipeline = fraud_sim::Pipeline::new(&fraud_sim::SimConfig::default()).unwrap();
//! let done = orchestrator::warm_up(&pipeline, 42, std::time::Duration::from_secs(600)).await?;
//! assert_eq!(done.transactions, 8_333); // ten minutes at one purchase per customer per hour
//! assert_eq!(pipeline.cards(), done.cards);
//! # Ok(()) }
//! ```

use crate::error::OrchestratorError;
use fraud_sim::Pipeline;
use std::time::Duration;
use transaction_factory::TransactionFactory;

/// The longest history a built-in target may learn: two days of the stream's time, 2.4 million
/// purchases at the orchestrator's clock (a few seconds in a release build); profiles are full long
/// before that.
pub const MAX_WARM_UP: Duration = Duration::from_secs(48 * 3600);

/// What a warm start learned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmUp {
    /// The period of stream time before the run that the history covers.
    pub period: Duration,
    /// Purchases learned.
    pub transactions: usize,
    /// Cards the detector knows afterwards.
    pub cards: usize,
    /// How long learning took (machine time, not the paused test clock).
    pub took: Duration,
}

impl WarmUp {
    /// One line for the run's events and the terminal.
    pub fn describe(&self) -> String {
        format!(
            "warm start: the built-in detector learned {} purchases of card history (the {} before the run; {} cards known) in {:.2} s",
            self.transactions,
            models::duration_serde::format(self.period),
            self.cards,
            self.took.as_secs_f64()
        )
    }
}

/// Checks a `target.warm_up` period.
pub(crate) fn check_period(period: Duration) -> Result<(), OrchestratorError> {
    if period > MAX_WARM_UP {
        return Err(OrchestratorError::Target(format!(
            "target.warm_up = {}: the built-in detector learns at most {} of card history before a run; \
             give a shorter period (the default is {}), or \"0s\" for a cold start",
            models::duration_serde::format(period),
            models::duration_serde::format(MAX_WARM_UP),
            models::duration_serde::format(models::DEFAULT_WARM_UP)
        )));
    }
    Ok(())
}

/// Teaches `pipeline` the cards' history: the everyday purchases of the stream of `seed` (the run's
/// population and clock, see [`crate::load`]) in the `period` before the run. CPU work, done off the
/// runtime's threads.
pub async fn warm_up(
    pipeline: &Pipeline,
    seed: u64,
    period: Duration,
) -> Result<WarmUp, OrchestratorError> {
    check_period(period)?;
    let pipeline = pipeline.clone();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        // The history depends on the population and the clock, not on the mix.
        let config = crate::load::stream_config(models::MixSpec::default());
        let factory = TransactionFactory::new(seed, config).map_err(|e| {
            OrchestratorError::Target(format!("building the built-in target's history: {e}"))
        })?;
        // The population's cards are known here: their states are allocated before the history, so
        // the detector's memory does not climb for hours as rarely used cards are first seen.
        pipeline.reserve_cards(
            factory
                .customers()
                .iter()
                .flat_map(|c| c.cards().iter().copied()),
        );
        let transactions = pipeline.learn_history(factory.history(period));
        Ok(WarmUp {
            period,
            transactions,
            cards: pipeline.cards(),
            took: started.elapsed(),
        })
    })
    .await
    .map_err(|e| OrchestratorError::Target(format!("warming up the built-in target: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use fraud_sim::SimConfig;

    #[tokio::test]
    async fn a_warm_start_learns_the_period_at_the_runs_clock_and_a_zero_period_nothing() {
        let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
        let hour = Duration::from_secs(3600);
        let done = warm_up(&pipeline, 42, hour).await.unwrap();
        let clock = crate::load::stream_config(models::MixSpec::default()).rate_tps;
        assert_eq!(done.transactions, (3600.0 * clock).round() as usize);
        assert!(done.cards > 0 && done.cards == pipeline.cards());
        // Every card of the population has its state allocated, seen in the history or not.
        let config = crate::load::stream_config(models::MixSpec::default());
        let population = TransactionFactory::new(42, config).unwrap();
        let all: usize = population.customers().iter().map(|c| c.cards().len()).sum();
        assert_eq!(pipeline.card_states(), all);
        assert!(
            done.cards < all,
            "an hour of history does not see every card"
        );
        assert!(done.describe().contains("1h"), "{}", done.describe());

        let cold = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
        let none = warm_up(&cold, 42, Duration::ZERO).await.unwrap();
        assert_eq!((none.transactions, cold.cards()), (0, 0));
    }

    #[tokio::test]
    async fn too_long_a_period_is_refused_with_the_field_and_the_bound() {
        let pipeline = Pipeline::new(&SimConfig::zero_service_time()).unwrap();
        let err = warm_up(&pipeline, 42, MAX_WARM_UP + Duration::from_secs(1))
            .await
            .unwrap_err()
            .to_string();
        let bound = models::duration_serde::format(MAX_WARM_UP);
        assert!(
            err.contains("target.warm_up") && err.contains(&bound),
            "{err}"
        );
        assert_eq!(pipeline.cards(), 0);
    }
}

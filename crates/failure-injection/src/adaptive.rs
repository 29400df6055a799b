//! The optional adaptive mode: backs the load off when the target is badly degraded and restores it step by
//! step once it is healthy again. The caller applies the multiplier to the profile's rate.

use models::DegradationLevel;

/// How the rate multiplier reacts to the degradation level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    /// Back off at this level and above.
    pub backoff_at: DegradationLevel,
    /// Multiply the rate by this on each back-off.
    pub backoff_factor: f64,
    /// Never go below this multiplier.
    pub min_multiplier: f64,
    /// Ticks to wait after a back-off before backing off again (the target needs time to react).
    pub backoff_cooldown_ticks: u32,
    /// Healthy ticks (level `None`) in a row before each restore step.
    pub healthy_ticks: u32,
    /// Added to the multiplier on each restore step, up to 1.
    pub restore_step: f64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            backoff_at: DegradationLevel::Critical,
            backoff_factor: 0.5,
            min_multiplier: 0.1,
            backoff_cooldown_ticks: 3,
            healthy_ticks: 5,
            restore_step: 0.25,
        }
    }
}

/// Says, tick by tick, what rate multiplier to apply.
///
/// ```
/// use failure_injection::{AdaptiveConfig, AdaptiveController};
/// use models::DegradationLevel::{Critical, None};
/// let mut c = AdaptiveController::new(AdaptiveConfig { healthy_ticks: 2, ..Default::default() });
/// assert_eq!(c.on_tick(Critical), Some(0.5));
/// assert_eq!(c.on_tick(None), Option::None);
/// assert_eq!(c.on_tick(None), Some(0.75));
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveController {
    config: AdaptiveConfig,
    multiplier: f64,
    healthy_streak: u32,
    since_backoff: u32,
}

impl AdaptiveController {
    pub fn new(config: AdaptiveConfig) -> Self {
        Self {
            config,
            multiplier: 1.0,
            healthy_streak: 0,
            since_backoff: u32::MAX,
        }
    }

    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// Takes one tick's level; returns the new multiplier when it changes (emit it as a `RateMultiplier`
    /// event and apply it), `None` when it stays.
    pub fn on_tick(&mut self, level: DegradationLevel) -> Option<f64> {
        let c = &self.config;
        self.since_backoff = self.since_backoff.saturating_add(1);
        let before = self.multiplier;
        if level >= c.backoff_at {
            self.healthy_streak = 0;
            if self.since_backoff > c.backoff_cooldown_ticks {
                self.multiplier = (self.multiplier * c.backoff_factor).max(c.min_multiplier);
                self.since_backoff = 0;
            }
        } else if level == DegradationLevel::None {
            self.healthy_streak += 1;
            if self.healthy_streak >= c.healthy_ticks && self.multiplier < 1.0 {
                self.multiplier = (self.multiplier + c.restore_step).min(1.0);
                self.healthy_streak = 0;
            }
        } else {
            self.healthy_streak = 0;
        }
        (self.multiplier != before).then_some(self.multiplier)
    }
}

impl Default for AdaptiveController {
    fn default() -> Self {
        Self::new(AdaptiveConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DegradationLevel::*;

    #[test]
    fn backs_off_with_cooldown_and_floor_then_restores_stepwise() {
        let mut c = AdaptiveController::new(AdaptiveConfig {
            backoff_cooldown_ticks: 1,
            healthy_ticks: 3,
            min_multiplier: 0.2,
            ..Default::default()
        });
        let seq = [
            Critical, Critical, Critical, Critical, Critical, Severe, None, None, None, None, None,
            None,
        ];
        let got: Vec<_> = seq.iter().map(|l| c.on_tick(*l)).collect();
        let o = Option::None;
        assert_eq!(
            got,
            vec![
                Some(0.5),
                o,
                Some(0.25),
                o,
                Some(0.2),
                o,
                o,
                o,
                Some(0.45),
                o,
                o,
                Some(0.7)
            ]
        );
        for _ in 0..6 {
            c.on_tick(None);
        }
        assert_eq!(c.multiplier(), 1.0);
        assert_eq!(c.on_tick(None), Option::None, "never above 1");
    }

    #[test]
    fn moderate_ticks_interrupt_the_healthy_streak() {
        let mut c = AdaptiveController::new(AdaptiveConfig {
            healthy_ticks: 2,
            ..Default::default()
        });
        c.on_tick(Critical);
        assert_eq!(c.on_tick(None), Option::None);
        assert_eq!(c.on_tick(Moderate), Option::None);
        assert_eq!(c.on_tick(None), Option::None);
        assert_eq!(c.on_tick(None), Some(0.75));
    }
}

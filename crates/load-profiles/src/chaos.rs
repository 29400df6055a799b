//! The chaos stage's planned rates: a seeded, mean-reverting random walk with spikes, one rate per
//! second. Keeping it piecewise constant per second makes its integral exact and its arrivals cheap.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// How strongly the walk is pulled back toward the mean each second (in log space).
const REVERSION: f64 = 0.1;

#[derive(Debug, Clone, Copy)]
pub(crate) struct ChaosParams {
    pub mean: f64,
    pub volatility: f64,
    pub spike: f64,
    pub spike_probability: f64,
}

/// `steps` per-second rates. The walk moves in log space, `ln v += REVERSION * (ln mean - ln v) +
/// volatility * z` with `z` standard normal, so each step is relative (about `volatility`), the rate
/// stays positive and hovers around `mean`. A second is a spike (`spike` TPS, the walk carries on
/// underneath) with probability `spike_probability`. The same seed always gives the same rates.
pub(crate) fn walk(params: ChaosParams, seed: u64, steps: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rates = Vec::with_capacity(steps);
    let ln_mean = params.mean.ln();
    let mut ln_v = ln_mean;
    for _ in 0..steps {
        let z: f64 = rng.sample(StandardNormal);
        let u: f64 = rng.random();
        let walk_rate = if params.mean > 0.0 { ln_v.exp() } else { 0.0 };
        rates.push(if u < params.spike_probability {
            params.spike
        } else {
            walk_rate
        });
        if params.mean > 0.0 {
            ln_v += REVERSION * (ln_mean - ln_v) + params.volatility * z;
        }
    }
    rates
}

/// Derives a stage's chaos seed from a profile seed and the stage's position, so that two chaos
/// stages of one profile differ (SplitMix64 finaliser).
pub fn derive_seed(profile_seed: u64, stage_index: usize) -> u64 {
    let mut z =
        profile_seed.wrapping_add((stage_index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ChaosParams = ChaosParams {
        mean: 3000.0,
        volatility: 0.1,
        spike: 9000.0,
        spike_probability: 0.02,
    };

    #[test]
    fn same_seed_same_walk_other_seed_other_walk() {
        assert_eq!(walk(P, 11, 500), walk(P, 11, 500));
        assert_ne!(walk(P, 11, 500), walk(P, 12, 500));
    }

    #[test]
    fn walk_hovers_around_the_mean_and_spikes_sometimes() {
        let rates = walk(P, 1, 20_000);
        let spikes = rates.iter().filter(|&&r| r == 9000.0).count();
        // 2% of 20,000 seconds: 400 expected, binomial sd about 20.
        assert!((300..500).contains(&spikes), "{spikes} spikes");
        let mut calm: Vec<f64> = rates.into_iter().filter(|&r| r != 9000.0).collect();
        calm.sort_by(f64::total_cmp);
        let median = calm[calm.len() / 2];
        assert!((2700.0..3300.0).contains(&median), "median {median}");
        assert!(calm[0] > 0.0);
    }

    #[test]
    fn zero_mean_is_silent_but_for_spikes() {
        let rates = walk(ChaosParams { mean: 0.0, ..P }, 3, 1000);
        assert!(rates.iter().all(|&r| r == 0.0 || r == 9000.0));
    }

    #[test]
    fn derived_seeds_differ_per_stage() {
        assert_ne!(derive_seed(42, 0), derive_seed(42, 1));
        assert_eq!(derive_seed(42, 3), derive_seed(42, 3));
    }
}

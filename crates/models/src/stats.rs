//! Small statistics over figures that several crates compute the same way.
//!
//! ```
//! use models::stats::median;
//! assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
//! assert_eq!(median(vec![1.0, 2.0, 3.0, f64::NAN, 9.0]), Some(2.5));
//! assert_eq!(median(vec![f64::NAN]), None);
//! ```

/// The median of the finite values (the mean of the two middle ones for an even count); `None`
/// when there are none. NaN and infinities are left out: a figure that could not be computed
/// (a rate over no time) does not move the middle.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (n > 0).then(|| {
        if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn odd_even_and_empty() {
        assert_eq!(median(vec![9.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![9.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![f64::INFINITY, f64::NAN]), None);
    }

    proptest! {
        /// As many finite values lie at or below the median as at or above it.
        #[test]
        fn the_median_splits_the_values(values in proptest::collection::vec(-1e12f64..1e12, 1..50)) {
            let m = median(values.clone()).unwrap();
            let below = values.iter().filter(|&&v| v <= m).count();
            let above = values.iter().filter(|&&v| v >= m).count();
            prop_assert!(below * 2 >= values.len() && above * 2 >= values.len());
        }
    }
}

//! From an HDR histogram to CloudWatch's Values/Counts arrays, so that CloudWatch can compute
//! percentiles of the run's latency (a statistic set alone only keeps count, sum, min and max).
//! Snapshots carry their histograms encoded; `run_files::histogram` decodes them.

use hdrhistogram::Histogram;

/// CloudWatch's limit on the Values (and Counts) array of one datum.
pub const MAX_VALUES_PER_DATUM: usize = 150;

/// A distribution in CloudWatch's form: `counts[i]` samples of `values[i]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValuesCounts {
    pub values: Vec<f64>,
    pub counts: Vec<f64>,
}

impl ValuesCounts {
    pub fn total_count(&self) -> f64 {
        self.counts.iter().sum()
    }

    pub fn sum(&self) -> f64 {
        self.values
            .iter()
            .zip(&self.counts)
            .map(|(v, c)| v * c)
            .sum()
    }

    /// The smallest value with at least `q` of the samples at or below it (nearest rank).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total_count();
        if total == 0.0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total).ceil().max(1.0);
        let mut seen = 0.0;
        for (v, c) in self.values.iter().zip(&self.counts) {
            seen += c;
            if seen >= rank {
                return Some(*v);
            }
        }
        self.values.last().copied()
    }
}

/// The histogram's distinct buckets as `(midpoint × scale, count)`, at most `max_values` of them.
///
/// Each recorded bucket is represented by its midpoint (HdrHistogram's `median_equivalent`). When there
/// are more buckets than `max_values`, the lowest and highest buckets are kept as they are (so the
/// minimum and maximum survive) and the ones between are merged into log-spaced bins, each represented
/// by its count-weighted mean: the total count and the sum (hence the mean) are kept exactly, and a
/// percentile moves by at most one bin's width (`(max/min)^(1/(max_values - 2))`, about 5% for values
/// spanning three orders of magnitude).
pub fn values_and_counts(hist: &Histogram<u64>, scale: f64, max_values: usize) -> ValuesCounts {
    let points: Vec<(f64, f64)> = hist
        .iter_recorded()
        .map(|v| {
            (
                hist.median_equivalent(v.value_iterated_to()) as f64 * scale,
                v.count_at_value() as f64,
            )
        })
        .collect();
    if points.len() <= max_values.max(3) {
        let (values, counts) = points.into_iter().unzip();
        return ValuesCounts { values, counts };
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    let middle = &points[1..points.len() - 1];
    // Buckets are distinct and ascending, so only the first can be zero: the middle is positive.
    let (lo, hi) = (middle[0].0, middle[middle.len() - 1].0);
    let bins = max_values - 2;
    let span = (hi / lo).ln();
    let mut sums = vec![(0.0f64, 0.0f64); bins];
    for &(v, c) in middle {
        let pos = if span > 0.0 {
            ((v / lo).ln() / span * bins as f64) as usize
        } else {
            0
        };
        let bin = &mut sums[pos.min(bins - 1)];
        bin.0 += v * c;
        bin.1 += c;
    }
    let mut out = ValuesCounts {
        values: vec![first.0],
        counts: vec![first.1],
    };
    for (weighted, count) in sums.into_iter().filter(|(_, c)| *c > 0.0) {
        out.values.push(weighted / count);
        out.counts.push(count);
    }
    out.values.push(last.0);
    out.counts.push(last.1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use run_files::histogram::{decode, encode};

    fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn few_buckets_are_kept_as_they_are() {
        let h = hist([1_000, 1_000, 1_000, 2_000, 5_000]);
        let vc = values_and_counts(&decode(&encode(&h)).unwrap(), 0.001, MAX_VALUES_PER_DATUM);
        assert_eq!(vc.counts, vec![3.0, 1.0, 1.0]);
        // Bucket midpoints, in milliseconds.
        assert!((vc.values[0] - 1.0).abs() < 0.001, "{:?}", vc.values);
        assert!((vc.values[1] - 2.0).abs() < 0.002);
        assert!((vc.values[2] - 5.0).abs() < 0.005);
    }

    #[test]
    fn many_buckets_are_merged_within_the_limit_keeping_count_and_sum() {
        // A log-normal-ish spread over 200 µs .. 2 s: thousands of distinct buckets.
        let values: Vec<u64> = (0..20_000u64).map(|i| 200 + (i * i) / 200).collect();
        let h = hist(values.iter().copied());
        let vc = values_and_counts(&h, 0.001, MAX_VALUES_PER_DATUM);
        assert!(vc.values.len() <= MAX_VALUES_PER_DATUM);
        assert!(
            vc.values.len() > 100,
            "bins should mostly be used: {}",
            vc.values.len()
        );
        assert_eq!(vc.total_count() as u64, h.len());
        let mean_ms = h.mean() / 1000.0;
        assert!((vc.sum() / vc.total_count() - mean_ms).abs() / mean_ms < 1e-3);
        assert!(vc.values.windows(2).all(|w| w[0] < w[1]), "values ascend");
        // The extremes are the histogram's own buckets.
        assert_eq!(vc.values[0], h.median_equivalent(h.min()) as f64 / 1000.0);
        assert_eq!(
            *vc.values.last().unwrap(),
            h.median_equivalent(h.max()) as f64 / 1000.0
        );
        // Percentiles move by at most one bin: (2000/0.2)^(1/150) ≈ 6.3%.
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = h.value_at_quantile(q) as f64 / 1000.0;
            let approx = vc.quantile(q).unwrap();
            assert!(
                (approx - exact).abs() / exact < 0.07,
                "q{q}: {approx} vs {exact}"
            );
        }
    }

    #[test]
    fn zero_latency_keeps_its_own_value() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record_n(0, 10).unwrap();
        for v in 1..5_000u64 {
            h.record(v * 37).unwrap();
        }
        let vc = values_and_counts(&h, 1.0, 20);
        assert!(vc.values.len() <= 20);
        assert_eq!(vc.values[0], 0.0);
        assert_eq!(vc.counts[0], 10.0);
        assert_eq!(vc.total_count() as u64, h.len());
    }

    #[test]
    fn empty_histogram_gives_no_values() {
        let h = hist([]);
        let vc = values_and_counts(&decode(&encode(&h)).unwrap(), 0.001, 150);
        assert!(vc.values.is_empty());
        assert_eq!(vc.quantile(0.5), None);
    }
}

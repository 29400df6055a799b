//! Pooling percentiles over several ticks (a criterion's window) or several parts of one tick (the
//! segments of a distributed run): one rule for both.
//!
//! While every item brings its HDR histogram the histograms are merged and the percentiles are exact.
//! Once one item lacks it, each percentile is the largest of the items' own (an upper bound). The mean
//! is the count-weighted mean of the items' means either way, which is exact.

use crate::histogram::{SIGFIG, decode, new_us, percentiles_ms};
use hdrhistogram::Histogram;
use models::Percentiles;

/// Percentiles pooled item by item; see the module docs for when they are exact.
#[derive(Debug, Default)]
pub struct PercentilePool {
    merged: Option<Histogram<u64>>,
    /// Every item so far brought a histogram that merged cleanly.
    exact: bool,
    items: usize,
    bound: Percentiles,
    /// Sum of `mean × count`, in milliseconds.
    weighted_mean: f64,
}

impl PercentilePool {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one item: its percentiles and, when it has one, its encoded histogram (an empty string
    /// is an empty histogram).
    pub fn add(&mut self, p: &Percentiles, encoded: Option<&str>) {
        if self.items == 0 {
            self.exact = true;
        }
        self.items += 1;
        if self.exact {
            let decoded = match encoded {
                Some("") => Some(new_us(SIGFIG)),
                Some(e) => decode(e, self.items - 1, "pooled").ok(),
                None => None,
            };
            let merged_ok = decoded.is_some_and(|h| {
                self.merged
                    .get_or_insert_with(|| new_us(SIGFIG))
                    .add(&h)
                    .is_ok()
            });
            if !merged_ok {
                // One item without a usable histogram makes the whole pool a bound.
                self.exact = false;
                self.merged = None;
            }
        }
        if p.count > 0 {
            let b = &mut self.bound;
            b.count += p.count;
            self.weighted_mean += p.mean * p.count as f64;
            b.p50 = b.p50.max(p.p50);
            b.p90 = b.p90.max(p.p90);
            b.p95 = b.p95.max(p.p95);
            b.p99 = b.p99.max(p.p99);
            b.p999 = b.p999.max(p.p999);
            b.max = b.max.max(p.max);
        }
    }

    /// The pooled percentiles of the items added so far.
    pub fn percentiles(&self) -> Percentiles {
        match (&self.merged, self.exact) {
            (Some(h), true) => percentiles_ms(h, self.weighted_mean * 1000.0),
            _ => {
                let mut out = self.bound;
                if out.count > 0 {
                    out.mean = self.weighted_mean / out.count as f64;
                }
                out
            }
        }
    }
}

/// Pools `(percentiles, encoded histogram)` items in one go (see [`PercentilePool`]).
pub fn pool_percentiles<'a>(
    items: impl IntoIterator<Item = (&'a Percentiles, Option<&'a str>)>,
) -> Percentiles {
    let mut pool = PercentilePool::new();
    for (p, encoded) in items {
        pool.add(p, encoded);
    }
    pool.percentiles()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::encode;

    fn recorded(value_us: u64, n: usize) -> (Percentiles, String) {
        let mut h = new_us(SIGFIG);
        for _ in 0..n {
            h.record(value_us).unwrap();
        }
        (percentiles_ms(&h, value_us as f64 * n as f64), encode(&h))
    }

    #[test]
    fn histograms_merge_exactly_when_every_item_has_one() {
        let (fast, fast_h) = recorded(1_000, 100);
        let (slow, slow_h) = recorded(100_000, 100);
        let p = pool_percentiles([
            (&fast, Some(fast_h.as_str())),
            (&slow, Some(slow_h.as_str())),
        ]);
        assert_eq!(p.count, 200);
        assert!(
            (p.p50 - 1.0).abs() < 0.01,
            "the merged median, not the worst item's: {p:?}"
        );
        assert!((p.p99 - 100.0).abs() < 0.1, "{p:?}");
        assert!((p.mean - 50.5).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn one_item_without_a_histogram_makes_the_pool_a_bound() {
        let (fast, fast_h) = recorded(1_000, 100);
        let (slow, _) = recorded(100_000, 300);
        let p = pool_percentiles([(&fast, Some(fast_h.as_str())), (&slow, None)]);
        assert_eq!(p.count, 400);
        assert_eq!(p.p50, slow.p50, "each percentile is the largest item's");
        assert_eq!(p.max, slow.max);
        let mean = (fast.mean * 100.0 + slow.mean * 300.0) / 400.0;
        assert!((p.mean - mean).abs() < 1e-9, "count-weighted mean: {p:?}");
    }

    #[test]
    fn an_empty_histogram_and_an_empty_pool() {
        let p = pool_percentiles([(&Percentiles::default(), Some(""))]);
        assert_eq!(p, percentiles_ms(&new_us(SIGFIG), 0.0));
        assert_eq!(PercentilePool::new().percentiles(), Percentiles::default());
    }
}

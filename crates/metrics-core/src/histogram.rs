//! HDR histograms of microseconds: construction with fixed bounds, percentiles in milliseconds, and
//! decoding the encoded form that snapshots carry into those bounds (the codec itself is
//! `run_files::histogram`, beside the files that hold it).

use crate::error::MetricsError;
use hdrhistogram::Histogram;
use models::Percentiles;

pub use run_files::histogram::encode;

/// Lowest recordable value: 1 µs (0 is recorded as 0 and counts).
pub const LOWEST_US: u64 = 1;
/// Highest recordable value: 1 h in µs. Larger values are clamped to it (and still counted).
pub const HIGHEST_US: u64 = 3_600_000_000;
/// Significant digits of the latency and service-time histograms.
pub const SIGFIG: u8 = 3;
/// Significant digits of the per-agent histograms (1% precision keeps them small: one per agent).
pub const AGENT_SIGFIG: u8 = 2;

/// A fixed-size histogram (no auto-resize) of microseconds, 1 µs to 1 h.
pub fn new_us(sigfig: u8) -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts: this cannot fail.
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, sigfig)
        .expect("valid constant histogram bounds")
}

/// p50/p90/p95/p99/p99.9/max from the histogram and the mean from the exact sum of the recorded µs,
/// converted to ms. All zero for an empty histogram.
pub fn percentiles_ms(h: &Histogram<u64>, sum_us: f64) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    // One pass over the counts for all five quantiles.
    let mut q = h
        .value_at_quantiles([0.50, 0.90, 0.95, 0.99, 0.999])
        .map(|v| v as f64 / 1000.0);
    let mut next = || q.next().unwrap_or(0.0);
    Percentiles {
        count: h.len(),
        p50: next(),
        p90: next(),
        p95: next(),
        p99: next(),
        p999: next(),
        mean: sum_us / h.len() as f64 / 1000.0,
        max: h.max() as f64 / 1000.0,
    }
}

/// The inverse of [`encode`], into this crate's bounds (1 µs to 1 h) and at least its precision;
/// `part` and `which` only go into the error message.
pub fn decode(
    text: &str,
    part: usize,
    which: &'static str,
) -> Result<Histogram<u64>, MetricsError> {
    let err = |reason: String| MetricsError::Decode {
        part,
        which,
        reason,
    };
    let decoded = run_files::histogram::decode(text).map_err(|e| err(e.to_string()))?;
    let mut h = new_us(decoded.sigfig().max(SIGFIG));
    h.add(&decoded)
        .map_err(|e| err(format!("values outside 1 µs..1 h: {e:?}")))?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let mut h = new_us(SIGFIG);
        for v in [0, 1, 999, 1_000, 12_345, 1_000_000, HIGHEST_US * 2] {
            h.saturating_record(v);
        }
        let back = decode(&encode(&h), 0, "latency").unwrap();
        assert_eq!(back, h);
        assert_eq!(percentiles_ms(&back, 1.0), percentiles_ms(&h, 1.0));
        assert!(
            decode("not base64!", 3, "latency")
                .unwrap_err()
                .to_string()
                .contains("part 3")
        );
    }

    #[test]
    fn empty_histogram_gives_zero_percentiles() {
        assert_eq!(percentiles_ms(&new_us(SIGFIG), 0.0), Percentiles::default());
    }
}

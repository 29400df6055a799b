//! Latency histograms at the orchestrator's level: merging the interval histograms of a window
//! (decoding is metrics-core's). The `latency.hgrm` text is run-files'.

use hdrhistogram::Histogram;
use metrics_core::histogram::{SIGFIG, decode, new_us};

pub use metrics_core::histogram::{encode, percentiles_ms};
pub use run_files::hgrm::percentile_distribution_ms;

/// An empty histogram of microseconds with metrics-core's bounds and precision.
pub fn empty() -> Histogram<u64> {
    new_us(SIGFIG)
}

/// Merges base64 V2 histograms into one; an empty string counts as an empty histogram.
pub fn merge<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Histogram<u64>, metrics_core::MetricsError> {
    let mut total = empty();
    for (part, b64) in items.into_iter().enumerate() {
        if b64.is_empty() {
            continue;
        }
        let h = decode(b64, part, "interval")?;
        total
            .add(&h)
            .map_err(|e| metrics_core::MetricsError::Decode {
                part,
                which: "interval",
                reason: format!("cannot add: {e:?}"),
            })?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = empty();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn merges_encoded_histograms() {
        let a = sample(1..=1000);
        let b = sample(1001..=2000);
        let merged = merge([encode(&a).as_str(), encode(&b).as_str(), ""]).unwrap();
        assert_eq!(merged.len(), 2000);
        let p = percentiles_ms(&merged, merged.mean() * merged.len() as f64);
        assert!((p.p50 - 1.0).abs() < 0.01, "{p:?}");
        assert!((p.max - 2.0).abs() < 0.01, "{p:?}");
        assert!(merge(["not base64!"]).is_err());
    }
}

//! Latency histograms at the orchestrator's level: merging the interval histograms of a window
//! (decoding is metrics-core's) and writing HdrHistogram's percentile distribution text
//! (`latency.hgrm`).

use hdrhistogram::Histogram;
use metrics_core::histogram::{SIGFIG, decode, new_us};
use std::fmt::Write as _;

pub use metrics_core::histogram::{encode, percentiles_ms};

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

/// HdrHistogram's `outputPercentileDistribution` text for a histogram recorded in microseconds, with
/// values in milliseconds (scaling ratio 1000), five ticks per half distance and three decimals.
pub fn percentile_distribution_ms(h: &Histogram<u64>) -> String {
    const SCALE: f64 = 1000.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / SCALE;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / SCALE, h.stdev() / SCALE, h.max() as f64 / SCALE)
    };
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {sub_buckets:12}]",
        h.buckets()
    );
    out
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

    #[test]
    fn distribution_text_has_the_hdr_layout() {
        let text = percentile_distribution_ms(&sample([1000, 2000, 3000, 4000, 100_000]));
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        for col in ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"] {
            assert!(header.contains(col), "{header}");
        }
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .skip(1)
            .collect();
        assert!(rows.len() > 3);
        let first: Vec<&str> = rows[0].split_whitespace().collect();
        assert_eq!(first.len(), 4);
        assert!(
            (first[0].parse::<f64>().unwrap() - 1.0).abs() < 0.01,
            "values are in ms"
        );
        let last: Vec<&str> = rows.last().unwrap().split_whitespace().collect();
        assert_eq!(last.len(), 3, "the 100% line has no 1/(1-p) column");
        assert_eq!(last[2], "5");
        assert!(text.contains("#[Mean    ="), "{text}");
        assert!(text.contains("Total count    =            5"), "{text}");
        assert!(text.contains("#[Buckets ="), "{text}");
        // An empty histogram still gives a well-formed file.
        assert!(percentile_distribution_ms(&empty()).contains("Total count    =            0"));
    }
}

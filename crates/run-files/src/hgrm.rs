//! `latency.hgrm`, the whole-run latency as HdrHistogram's percentile-distribution text (the layout of
//! Java's `outputPercentileDistribution`): [`percentile_distribution_ms`] writes it, [`parse`] reads it
//! back (leniently, also files from other HdrHistogram tools), and [`curve`] gives the same points from
//! a histogram, for a run whose folder has no `latency.hgrm`.

use crate::histogram;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt::Write as _;

/// One point of the percentile curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Latency in milliseconds.
    pub value_ms: f64,
    /// 0..=1.
    pub quantile: f64,
    /// Requests at or below `value_ms`.
    pub total_count: u64,
}

/// Reads HdrHistogram's percentile-distribution text leniently: every line whose first three columns
/// are numbers (`Value Percentile TotalCount [1/(1-Percentile)]`) is a point; headers, blank lines and
/// the `#[Mean = ...]` footer are skipped. Values are taken as milliseconds unless the header names
/// microseconds (`Value(us)`), the usual output of a microsecond histogram with a scaling ratio of 1000.
/// Points are returned in file order with duplicate quantiles dropped.
pub fn parse(text: &str) -> Vec<CurvePoint> {
    let mut scale = 1.0;
    let mut points: Vec<CurvePoint> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("value") {
            if lower.contains("(us)") || lower.contains("(µs)") || lower.contains("micro") {
                scale = 1e-3;
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = trimmed
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|c| !c.is_empty())
            .collect();
        let (Some(value), Some(quantile), Some(count)) = (
            cols.first().and_then(|c| c.parse::<f64>().ok()),
            cols.get(1).and_then(|c| c.parse::<f64>().ok()),
            cols.get(2).and_then(|c| c.parse::<f64>().ok()),
        ) else {
            continue;
        };
        if !(value.is_finite() && (0.0..=1.0).contains(&quantile) && count >= 0.0) {
            continue;
        }
        if points.last().is_some_and(|p| p.quantile >= quantile) {
            continue;
        }
        points.push(CurvePoint {
            value_ms: value * scale,
            quantile,
            total_count: count as u64,
        });
    }
    points
}

/// Walks a histogram of microseconds the way HdrHistogram's percentile output does (five ticks per
/// half distance), giving each point's value as the highest equivalent value of its bucket, in
/// milliseconds. Points are in ascending quantile with duplicates dropped; empty for an empty histogram.
pub fn curve(hist: &Histogram<u64>) -> Vec<CurvePoint> {
    let mut points: Vec<CurvePoint> = Vec::new();
    if hist.is_empty() {
        return points;
    }
    let mut total = 0u64;
    for v in hist.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let quantile = v.quantile_iterated_to();
        if points.last().is_some_and(|p| p.quantile >= quantile) {
            continue;
        }
        points.push(CurvePoint {
            value_ms: hist.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0,
            quantile,
            total_count: total,
        });
    }
    points
}

/// [`curve`] of an encoded histogram (see [`crate::histogram`]); `None` when it does not decode.
pub fn curve_from_encoded(base64_text: &str) -> Option<Vec<CurvePoint>> {
    histogram::decode(base64_text).ok().map(|h| curve(&h))
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

    const SAMPLE: &str = "       Value     Percentile TotalCount 1/(1-Percentile)

       1.200 0.000000000000          1           1.00
       4.100 0.500000000000        500           2.00
       9.800 0.900000000000        900          10.00
      52.000 0.990000000000        990         100.00
     180.500 1.000000000000       1000            inf
#[Mean    =        6.100, StdDeviation   =       12.000]
#[Max     =      180.500, Total count    =         1000]
#[Buckets =           22, SubBuckets     =         2048]
";

    #[test]
    fn parses_the_java_layout() {
        let curve = parse(SAMPLE);
        assert_eq!(curve.len(), 5);
        assert_eq!(
            curve[2],
            CurvePoint {
                value_ms: 9.8,
                quantile: 0.9,
                total_count: 900
            }
        );
        assert_eq!(curve[4].quantile, 1.0);
    }

    #[test]
    fn skips_garbage_and_honours_microseconds() {
        let text = "Value(us) Percentile TotalCount\nnot a line\n1500 0.5 10 2\n1500 0.5 10 2\n2500,0.9,18\ntruncat";
        let curve = parse(text);
        assert_eq!(curve.len(), 2);
        assert!((curve[0].value_ms - 1.5).abs() < 1e-12);
        assert!((curve[1].value_ms - 2.5).abs() < 1e-12);
    }

    #[test]
    fn decodes_an_encoded_histogram() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 100).unwrap();
        }
        let encoded = histogram::encode(&h);
        let curve = curve_from_encoded(&encoded).unwrap();
        let last = curve.last().unwrap();
        assert_eq!(last.total_count, 1000);
        assert!(
            (last.value_ms - 100.0).abs() < 0.1,
            "max is 100 ms, got {}",
            last.value_ms
        );
        let median = curve.iter().find(|p| p.quantile >= 0.5).unwrap();
        assert!((median.value_ms - 50.0).abs() < 0.1);
        assert!(curve_from_encoded("not base64!").is_none());
    }

    /// A histogram of microseconds with the bounds and precision runs record with.
    fn sample(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
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
        assert!(percentile_distribution_ms(&sample([])).contains("Total count    =            0"));
    }
}

//! The whole-run latency percentile curve: from `latency.hgrm` (HdrHistogram's percentile-distribution
//! text) or from the V2 + deflate base64 histogram in `summary.json`.

use base64::Engine as _;
use serde::Serialize;

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
pub fn parse_hgrm(text: &str) -> Vec<CurvePoint> {
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

/// Decodes a V2 + deflate base64 histogram of microseconds and walks its quantiles the way
/// HdrHistogram's percentile output does (five ticks per half distance). `None` when it does not decode.
pub fn curve_from_encoded(base64_text: &str) -> Option<Vec<CurvePoint>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text.trim())
        .ok()?;
    let hist: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .ok()?;
    if hist.is_empty() {
        return Some(Vec::new());
    }
    let mut points: Vec<CurvePoint> = Vec::new();
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
    Some(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Serializer as _;

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
        let curve = parse_hgrm(SAMPLE);
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
        let curve = parse_hgrm(text);
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
        let mut buf = Vec::new();
        hdrhistogram::serialization::V2DeflateSerializer::new()
            .serialize(&h, &mut buf)
            .unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&buf);
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
}

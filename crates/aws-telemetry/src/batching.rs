//! Splitting datums into PutMetricData requests within the API's limits.

use crate::datums::Datum;

/// PutMetricData's limits (1,000 datums and 1 MB per request), with a safety margin on the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_datums: usize,
    /// Estimated request size ceiling, in bytes (see [`Datum::estimated_bytes`]).
    pub max_payload_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_datums: 1000,
            max_payload_bytes: 900_000,
        }
    }
}

/// Room taken by the request envelope (action, version, namespace).
const ENVELOPE_BYTES: usize = 512;

/// Groups datums, in order, into batches that each respect `limits`. A datum is never split; one
/// larger than the payload limit on its own still gets a batch of its own (the API will judge it).
pub fn batch_datums(datums: Vec<Datum>, limits: BatchLimits) -> Vec<Vec<Datum>> {
    let max_datums = limits.max_datums.max(1);
    let mut batches = Vec::new();
    let mut current: Vec<Datum> = Vec::new();
    let mut bytes = ENVELOPE_BYTES;
    for d in datums {
        let size = d.estimated_bytes();
        if !current.is_empty()
            && (current.len() == max_datums || bytes + size > limits.max_payload_bytes)
        {
            batches.push(std::mem::take(&mut current));
            bytes = ENVELOPE_BYTES;
        }
        bytes += size;
        current.push(d);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datums::{DatumValue, Unit};
    use std::time::SystemTime;

    fn datum(values: usize) -> Datum {
        Datum {
            name: "Latency",
            unit: Unit::Milliseconds,
            dimensions: vec![
                ("RunId".into(), "r".into()),
                ("Scenario".into(), "s".into()),
            ],
            timestamp: SystemTime::now(),
            value: if values == 0 {
                DatumValue::Single(1.0)
            } else {
                DatumValue::Distribution {
                    values: vec![1.0; values],
                    counts: vec![1.0; values],
                }
            },
            storage_resolution: 60,
        }
    }

    #[test]
    fn at_most_1000_datums_per_request() {
        let batches = batch_datums(
            (0..2500).map(|_| datum(0)).collect(),
            BatchLimits::default(),
        );
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
    }

    #[test]
    fn payload_limit_splits_large_distributions() {
        // 150 pairs ≈ 12 kB each: a 1,000-datum batch would be 12 MB.
        let limits = BatchLimits::default();
        let batches = batch_datums((0..1000).map(|_| datum(150)).collect(), limits);
        assert!(batches.len() > 10);
        for b in &batches {
            let bytes: usize = ENVELOPE_BYTES + b.iter().map(Datum::estimated_bytes).sum::<usize>();
            assert!(bytes <= limits.max_payload_bytes, "{bytes}");
            assert!(b.len() <= limits.max_datums);
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 1000);
    }

    #[test]
    fn order_is_kept_and_nothing_is_lost() {
        let datums: Vec<Datum> = (0..37).map(|i| datum(i % 5)).collect();
        let limits = BatchLimits {
            max_datums: 4,
            max_payload_bytes: 2_000,
        };
        let flat: Vec<Datum> = batch_datums(datums.clone(), limits)
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(flat, datums);
    }

    #[test]
    fn oversized_datum_gets_its_own_batch() {
        let limits = BatchLimits {
            max_datums: 10,
            max_payload_bytes: 1_000,
        };
        let batches = batch_datums(vec![datum(0), datum(150), datum(0)], limits);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 1, 1]);
        assert!(batch_datums(Vec::new(), limits).is_empty());
    }
}

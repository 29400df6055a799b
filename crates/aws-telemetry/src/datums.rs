//! The custom metrics published for a run, built from its [`IntervalSnapshot`]s.
//!
//! | metric | unit | from the snapshot |
//! |---|---|---|
//! | `Throughput` | Count/Second | `achieved_tps` |
//! | `CompletedTransactions` | Count | `completed` |
//! | `DroppedTransactions` | Count | `dropped` |
//! | `Errors` | Count | `error_total()` (dropped arrivals excluded) |
//! | `ErrorRate` | Percent | `100 × error_total / sent` (only when something was sent) |
//! | `FraudCaught` | Count | `fraud.tp` |
//! | `FraudMissed` | Count | `fraud.fn` |
//! | `Latency` | Milliseconds | the interval's latency histogram as Values/Counts; without histograms, a statistic set from `latency_ms` |
//!
//! Every datum carries the dimensions `RunId` and `Scenario` (and `Worker` when configured), and the
//! timestamp `run start + t_s`.

use crate::histogram::{self, MAX_VALUES_PER_DATUM};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StatisticSet};
use models::IntervalSnapshot;
use std::time::{Duration, SystemTime};

/// The unit of a datum (the subset of CloudWatch's units this crate uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    CountPerSecond,
    Milliseconds,
    Percent,
}

impl Unit {
    fn to_sdk(self) -> StandardUnit {
        match self {
            Unit::Count => StandardUnit::Count,
            Unit::CountPerSecond => StandardUnit::CountSecond,
            Unit::Milliseconds => StandardUnit::Milliseconds,
            Unit::Percent => StandardUnit::Percent,
        }
    }
}

/// What a datum holds.
#[derive(Debug, Clone, PartialEq)]
pub enum DatumValue {
    Single(f64),
    /// `counts[i]` samples of `values[i]` (at most 150 pairs).
    Distribution {
        values: Vec<f64>,
        counts: Vec<f64>,
    },
    Statistics {
        sample_count: f64,
        sum: f64,
        minimum: f64,
        maximum: f64,
    },
}

/// One metric datum, before it becomes the SDK's `MetricDatum`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub name: &'static str,
    pub unit: Unit,
    pub dimensions: Vec<(String, String)>,
    pub timestamp: SystemTime,
    pub value: DatumValue,
    /// 1 for high-resolution metrics, 60 for standard ones.
    pub storage_resolution: i32,
}

impl Datum {
    /// An upper estimate of the datum's size in a PutMetricData request, for keeping requests under the
    /// payload limit whatever the wire format (query, JSON or CBOR).
    pub fn estimated_bytes(&self) -> usize {
        let dims: usize = self
            .dimensions
            .iter()
            .map(|(k, v)| k.len() + v.len() + 64)
            .sum();
        let values = match &self.value {
            DatumValue::Single(_) => 1,
            DatumValue::Distribution { values, counts } => values.len() + counts.len(),
            DatumValue::Statistics { .. } => 4,
        };
        // Field names and framing, then about 40 bytes per number in the most verbose (query) encoding.
        160 + self.name.len() + dims + 40 * values
    }

    pub fn to_sdk(&self) -> MetricDatum {
        let mut b = MetricDatum::builder()
            .metric_name(self.name)
            .unit(self.unit.to_sdk())
            .timestamp(DateTime::from(self.timestamp))
            .storage_resolution(self.storage_resolution);
        for (name, value) in &self.dimensions {
            b = b.dimensions(Dimension::builder().name(name).value(value).build());
        }
        match &self.value {
            DatumValue::Single(v) => b = b.value(*v),
            DatumValue::Distribution { values, counts } => {
                b = b
                    .set_values(Some(values.clone()))
                    .set_counts(Some(counts.clone()));
            }
            DatumValue::Statistics {
                sample_count,
                sum,
                minimum,
                maximum,
            } => {
                b = b.statistic_values(
                    StatisticSet::builder()
                        .sample_count(*sample_count)
                        .sum(*sum)
                        .minimum(*minimum)
                        .maximum(*maximum)
                        .build(),
                );
            }
        }
        b.build()
    }

    /// How many samples the datum stands for (1 for a single value).
    pub fn sample_count(&self) -> f64 {
        match &self.value {
            DatumValue::Single(_) => 1.0,
            DatumValue::Distribution { counts, .. } => counts.iter().sum(),
            DatumValue::Statistics { sample_count, .. } => *sample_count,
        }
    }
}

/// Where and when the datums of a run belong.
#[derive(Debug, Clone, PartialEq)]
pub struct DatumContext {
    pub run_id: String,
    pub scenario: String,
    pub worker: Option<String>,
    pub run_started_at: SystemTime,
    pub high_resolution: bool,
}

impl DatumContext {
    pub fn dimensions(&self) -> Vec<(String, String)> {
        let mut dims = vec![
            ("RunId".to_string(), self.run_id.clone()),
            ("Scenario".to_string(), self.scenario.clone()),
        ];
        if let Some(worker) = &self.worker {
            dims.push(("Worker".to_string(), worker.clone()));
        }
        dims
    }
}

/// The result of converting one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotDatums {
    pub datums: Vec<Datum>,
    /// The snapshot had a histogram that could not be decoded, so latency fell back to a statistic set.
    pub histogram_error: Option<String>,
}

/// The datums for one snapshot (see the module docs for the list).
pub fn snapshot_datums(s: &IntervalSnapshot, ctx: &DatumContext) -> SnapshotDatums {
    let dims = ctx.dimensions();
    let timestamp = ctx.run_started_at + Duration::from_secs_f64(s.t_s.max(0.0));
    let storage_resolution = if ctx.high_resolution { 1 } else { 60 };
    let datum = |name, unit, value| Datum {
        name,
        unit,
        dimensions: dims.clone(),
        timestamp,
        value,
        storage_resolution,
    };
    let single = |name, unit, v: f64| datum(name, unit, DatumValue::Single(v));

    let errors = s.error_total();
    let mut out = vec![
        single("Throughput", Unit::CountPerSecond, s.achieved_tps),
        single("CompletedTransactions", Unit::Count, s.completed as f64),
        single("DroppedTransactions", Unit::Count, s.dropped as f64),
        single("Errors", Unit::Count, errors as f64),
        single("FraudCaught", Unit::Count, s.fraud.tp as f64),
        single("FraudMissed", Unit::Count, s.fraud.fn_ as f64),
    ];
    if s.sent > 0 {
        out.push(single(
            "ErrorRate",
            Unit::Percent,
            100.0 * errors as f64 / s.sent as f64,
        ));
    }

    let mut histogram_error = None;
    let from_histogram = match &s.histograms {
        Some(h) if !h.latency_us.is_empty() => match run_files::histogram::decode(&h.latency_us) {
            Ok(hist) => Some(histogram::values_and_counts(
                &hist,
                0.001,
                MAX_VALUES_PER_DATUM,
            )),
            Err(e) => {
                histogram_error = Some(e.to_string());
                None
            }
        },
        _ => None,
    };
    let latency = match from_histogram {
        Some(vc) if !vc.values.is_empty() => Some(DatumValue::Distribution {
            values: vc.values,
            counts: vc.counts,
        }),
        Some(_) => None,
        None => statistics_from_percentiles(&s.latency_ms),
    };
    if let Some(value) = latency {
        out.push(datum("Latency", Unit::Milliseconds, value));
    }
    SnapshotDatums {
        datums: out,
        histogram_error,
    }
}

/// A statistic set from the percentile summary. The summary carries no minimum, so the set uses the
/// smallest figure it has, `min(p50, mean)`: an upper bound of the true minimum.
fn statistics_from_percentiles(p: &models::Percentiles) -> Option<DatumValue> {
    if p.count == 0 {
        return None;
    }
    let count = p.count as f64;
    Some(DatumValue::Statistics {
        sample_count: count,
        sum: p.mean * count,
        minimum: p.p50.min(p.mean),
        maximum: p.max.max(p.mean),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Confusion, EncodedHistograms, ErrorKind, Percentiles};

    fn ctx(worker: Option<&str>) -> DatumContext {
        DatumContext {
            run_id: "run-1".into(),
            scenario: "peak".into(),
            worker: worker.map(String::from),
            run_started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            high_resolution: false,
        }
    }

    fn snapshot() -> IntervalSnapshot {
        IntervalSnapshot {
            t_s: 5.0,
            interval_s: 1.0,
            sent: 200,
            completed: 190,
            achieved_tps: 190.0,
            errors: [
                (ErrorKind::Timeout, 6),
                (ErrorKind::Http5xx, 4),
                (ErrorKind::Dropped, 3),
            ]
            .into(),
            dropped: 3,
            fraud: Confusion {
                tp: 25,
                fp: 3,
                tn: 160,
                fn_: 2,
                ..Confusion::default()
            },
            latency_ms: Percentiles {
                count: 190,
                mean: 12.0,
                p50: 10.0,
                p99: 40.0,
                max: 55.0,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn find<'a>(d: &'a [Datum], name: &str) -> &'a Datum {
        d.iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no datum {name}"))
    }

    #[test]
    fn figures_and_dimensions_come_from_the_snapshot() {
        let out = snapshot_datums(&snapshot(), &ctx(Some("2/4")));
        let d = &out.datums;
        assert_eq!(
            find(d, "CompletedTransactions").value,
            DatumValue::Single(190.0)
        );
        assert_eq!(
            find(d, "Errors").value,
            DatumValue::Single(10.0),
            "dropped is not an error"
        );
        assert_eq!(find(d, "ErrorRate").value, DatumValue::Single(5.0));
        assert_eq!(find(d, "FraudCaught").value, DatumValue::Single(25.0));
        assert_eq!(find(d, "Throughput").unit, Unit::CountPerSecond);
        let names: Vec<&str> = find(d, "Latency")
            .dimensions
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(names, ["RunId", "Scenario", "Worker"]);
        assert_eq!(
            find(d, "Latency").timestamp,
            ctx(None).run_started_at + Duration::from_secs(5)
        );
        assert!(d.iter().all(|d| d.storage_resolution == 60));
    }

    #[test]
    fn latency_without_histograms_is_a_statistic_set() {
        let out = snapshot_datums(&snapshot(), &ctx(None));
        assert_eq!(
            find(&out.datums, "Latency").value,
            DatumValue::Statistics {
                sample_count: 190.0,
                sum: 2280.0,
                minimum: 10.0,
                maximum: 55.0
            }
        );
        assert_eq!(find(&out.datums, "Latency").dimensions.len(), 2);
    }

    #[test]
    fn latency_with_histograms_is_values_and_counts() {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        h.record_n(8_000, 100).unwrap();
        h.record_n(20_000, 90).unwrap();
        let mut s = snapshot();
        s.histograms = Some(EncodedHistograms {
            latency_us: run_files::histogram::encode(&h),
            service_time_us: String::new(),
        });
        let out = snapshot_datums(&s, &ctx(None));
        let DatumValue::Distribution { values, counts } = &find(&out.datums, "Latency").value
        else {
            panic!("expected a distribution")
        };
        assert_eq!(counts, &[100.0, 90.0]);
        assert!(
            (values[0] - 8.0).abs() < 0.01 && (values[1] - 20.0).abs() < 0.02,
            "{values:?}"
        );

        s.histograms.as_mut().unwrap().latency_us = "%%%".into();
        let out = snapshot_datums(&s, &ctx(None));
        assert!(out.histogram_error.is_some());
        assert!(matches!(
            find(&out.datums, "Latency").value,
            DatumValue::Statistics { .. }
        ));
    }

    #[test]
    fn nothing_sent_means_no_error_rate_and_no_latency() {
        let s = IntervalSnapshot {
            t_s: 1.0,
            ..Default::default()
        };
        let out = snapshot_datums(&s, &ctx(None));
        assert!(
            out.datums
                .iter()
                .all(|d| d.name != "ErrorRate" && d.name != "Latency")
        );
    }
}

//! The service-level objective a step is judged against: `p99<250ms,error_rate<0.1%,recall>0.9`.
//!
//! A clause is `<metric><op><value>`, clauses are separated by commas, spaces are allowed anywhere
//! between the parts.
//! - Latency (from the intended send time): `p50`, `p90`, `p95`, `p99`, `p999` (or `p99.9`), upper
//!   bounds only (`<`, `<=`), with a unit: `us` (or `µs`), `ms` or `s`.
//! - Rates: `error_rate` (errors / sent) and `dropped_rate` (dropped / scheduled), upper bounds only,
//!   as a fraction (`0.001`) or a percentage (`0.1%`).
//! - Detection quality: `recall`, `precision`, `f1`, lower bounds only (`>`, `>=`), as a fraction or a
//!   percentage.
//!
//! Errors give the column (1-based, in characters) of the clause at fault and the part that is wrong.
//!
//! The metric names are the aliases of the success criteria's metric paths
//! ([`orchestrator::metric_paths::ALIASES`]: `p99` is `latency_ms.p99`, `error_rate` is `errors.rate`,
//! `throughput` is `load.throughput_ratio`, ...), and the full paths are accepted too: one vocabulary.

use crate::figures::StepFigures;
use orchestrator::metric_paths;
use serde::Serialize;
use std::fmt;

/// What a clause bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    P999,
    ErrorRate,
    DroppedRate,
    Recall,
    Precision,
    F1,
    /// Achieved over offered rate in the measured window: below 1 when the target falls behind (the
    /// most direct sign that a rate is not sustained).
    Throughput,
}

const METRIC_NAMES: &str =
    "p50, p90, p95, p99, p999, error_rate, dropped_rate, recall, precision, f1, throughput";

impl Metric {
    pub const ALL: [Metric; 11] = [
        Metric::P50,
        Metric::P90,
        Metric::P95,
        Metric::P99,
        Metric::P999,
        Metric::ErrorRate,
        Metric::DroppedRate,
        Metric::Recall,
        Metric::Precision,
        Metric::F1,
        Metric::Throughput,
    ];

    /// The metric a name means: an alias of a criteria metric path (`p99`, `p99.9`) or the path
    /// itself (`latency_ms.p99`), when an SLO can bound it.
    fn from_name(name: &str) -> Option<Self> {
        let path = metric_paths::resolve(name)?;
        Self::ALL.into_iter().find(|m| m.path() == path)
    }

    /// The success criteria's metric path this metric stands for (`latency_ms.p99` for `p99`).
    pub fn path(self) -> &'static str {
        // Every name is an alias in the criteria's table (checked by the tests).
        metric_paths::resolve(self.name()).unwrap_or(self.name())
    }

    /// The short name, as SLOs and `capacity.json` write it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::ErrorRate => "error_rate",
            Metric::DroppedRate => "dropped_rate",
            Metric::Recall => "recall",
            Metric::Precision => "precision",
            Metric::F1 => "f1",
            Metric::Throughput => "throughput",
        }
    }

    /// Latency percentiles, in milliseconds.
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Metric::P50 | Metric::P90 | Metric::P95 | Metric::P99 | Metric::P999
        )
    }

    /// Quality figures in 0..=1 where higher is better.
    pub fn is_quality(self) -> bool {
        matches!(self, Metric::Recall | Metric::Precision | Metric::F1)
    }

    /// Figures bounded from below: the quality figures and throughput.
    pub fn higher_is_better(self) -> bool {
        self.is_quality() || self == Metric::Throughput
    }

    /// The figure of a step (latency in ms, the others as fractions).
    pub fn value(self, f: &StepFigures) -> f64 {
        match self {
            Metric::P50 => f.p50_ms,
            Metric::P90 => f.p90_ms,
            Metric::P95 => f.p95_ms,
            Metric::P99 => f.p99_ms,
            Metric::P999 => f.p999_ms,
            Metric::ErrorRate => f.error_rate,
            Metric::DroppedRate => f.dropped_rate,
            Metric::Recall => f.recall,
            Metric::Precision => f.precision,
            Metric::F1 => f.f1,
            Metric::Throughput => {
                if f.offered_tps > 0.0 {
                    f.achieved_tps / f.offered_tps
                } else {
                    1.0
                }
            }
        }
    }
}

/// A comparison: the same operators as scenario criteria.
pub use models::Comparison as Op;

fn is_upper_bound(op: Op) -> bool {
    matches!(op, Op::Lt | Op::Le)
}

/// One bound: `metric op threshold` (latency thresholds in ms, the others as fractions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clause {
    pub metric: Metric,
    pub op: Op,
    pub threshold: f64,
    /// As written, trimmed (for messages and the report).
    pub text: String,
}

/// How one clause fared in one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseResult {
    pub clause: String,
    pub actual: f64,
    pub passed: bool,
    /// The figure is within the margin of its threshold (see [`Slo::evaluate`]).
    pub marginal: bool,
}

/// A parsed SLO: every clause must hold for a step to pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    pub text: String,
    pub clauses: Vec<Clause>,
}

/// Why an SLO could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`slo` {text:?}, column {column} ({part:?}): {message}")]
pub struct SloError {
    pub text: String,
    /// 1-based, in characters.
    pub column: usize,
    /// The part at fault.
    pub part: String,
    pub message: String,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Slo {
    /// Reads `p99<250ms,error_rate<0.1%,recall>0.9`.
    pub fn parse(text: &str) -> Result<Self, SloError> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut offset = 0usize; // characters before the current clause
        for raw in text.split(',') {
            let lead = raw.chars().take_while(|c| c.is_whitespace()).count();
            let column = offset + lead + 1;
            offset += raw.chars().count() + 1;
            let part = raw.trim();
            let err = |message: String| SloError {
                text: text.to_owned(),
                column,
                part: part.to_owned(),
                message,
            };
            if part.is_empty() {
                return Err(err(
                    "empty clause; write clauses like p99<250ms separated by single commas".into(),
                ));
            }
            let clause = parse_clause(part).map_err(err)?;
            if clauses.iter().any(|c| c.metric == clause.metric) {
                return Err(err(format!(
                    "{} is bounded twice; keep one clause per metric",
                    clause.metric.name()
                )));
            }
            clauses.push(clause);
        }
        Ok(Slo {
            text: text.trim().to_owned(),
            clauses,
        })
    }

    /// Judges a step's figures. A clause is *marginal* when its figure lies within `margin` of the
    /// threshold: `|actual - threshold| <= margin × threshold` for latency and rates, and
    /// `<= margin × (1 - threshold)` for quality figures (whose room is the distance to 1, so that
    /// `recall>0.9` with a 10% margin means 0.89 to 0.91, not 0.81 to 0.99).
    pub fn evaluate(&self, f: &StepFigures, margin: f64) -> Vec<ClauseResult> {
        self.clauses
            .iter()
            .map(|c| {
                let actual = c.metric.value(f);
                let room = if c.metric.higher_is_better() {
                    1.0 - c.threshold
                } else {
                    c.threshold
                };
                ClauseResult {
                    clause: c.text.clone(),
                    actual,
                    passed: c.op.holds(actual, c.threshold),
                    marginal: (actual - c.threshold).abs() <= margin * room.abs(),
                }
            })
            .collect()
    }

    /// The threshold of a metric's clause, if the SLO has one.
    pub fn threshold(&self, metric: Metric) -> Option<f64> {
        self.clauses
            .iter()
            .find(|c| c.metric == metric)
            .map(|c| c.threshold)
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_clause(part: &str) -> Result<Clause, String> {
    let at = part.find(['<', '>', '=', '!']).ok_or_else(|| {
        format!("no comparison; write it like p99<250ms or recall>0.9 (metrics: {METRIC_NAMES})")
    })?;
    let name = part[..at].trim();
    let rest = &part[at..];
    let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else {
        return Err(format!(
            "unknown comparison {:?}; use <, <=, > or >=",
            rest.chars().take(2).collect::<String>()
        ));
    };
    if name.is_empty() {
        return Err(format!(
            "no metric before {:?}; use one of {METRIC_NAMES}",
            op.symbol()
        ));
    }
    let metric = Metric::from_name(&name.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown metric {name:?}; use one of {METRIC_NAMES}"))?;
    if metric.higher_is_better() == is_upper_bound(op) {
        let (want, example) = if metric.higher_is_better() {
            ("from below (> or >=)", format!("{}>0.9", metric.name()))
        } else if metric.is_latency() {
            ("from above (< or <=)", format!("{}<250ms", metric.name()))
        } else {
            ("from above (< or <=)", format!("{}<0.1%", metric.name()))
        };
        return Err(format!(
            "{} must be bounded {want}, for example {example}",
            metric.name()
        ));
    }
    let value = value.trim();
    let threshold = if metric.is_latency() {
        parse_latency_ms(value)?
    } else {
        parse_share(value)?
    };
    Ok(Clause {
        metric,
        op,
        threshold,
        text: format!("{}{}{}", metric.name(), op.symbol(), value),
    })
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{what} {text:?} is not a number of 0 or more")),
    }
}

/// `250ms`, `250000us`, `0.25s` → milliseconds.
fn parse_latency_ms(value: &str) -> Result<f64, String> {
    let (num, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value
        .strip_suffix("us")
        .or_else(|| value.strip_suffix("µs"))
    {
        (n, 1e-3)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1e3)
    } else {
        return Err(format!(
            "latency {value:?} needs a unit: us, ms or s (for example 250ms)"
        ));
    };
    let v = number(num, "latency")?;
    if v == 0.0 {
        return Err("a latency bound of 0 can never be met; give a positive value".into());
    }
    Ok(v * scale)
}

/// `0.1%` → 0.001; `0.001` → 0.001.
fn parse_share(value: &str) -> Result<f64, String> {
    let share = match value.strip_suffix('%') {
        Some(n) => number(n, "percentage")? / 100.0,
        None => number(value, "value")?,
    };
    if share > 1.0 {
        return Err(format!(
            "{value:?} is above 1: give a fraction (0.001) or a percentage (0.1%)"
        ));
    }
    Ok(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_issue_example() {
        let slo = Slo::parse("p99<250ms,error_rate<0.1%,recall>0.9").unwrap();
        assert_eq!(slo.clauses.len(), 3);
        assert_eq!(slo.clauses[0].metric, Metric::P99);
        assert_eq!(slo.clauses[0].threshold, 250.0);
        assert!((slo.clauses[1].threshold - 0.001).abs() < 1e-12);
        assert_eq!(slo.clauses[2].op, Op::Gt);
        assert_eq!(slo.clauses[2].threshold, 0.9);
    }

    #[test]
    fn units_percentages_and_spaces() {
        let slo = Slo::parse(
            " p50 <= 2000us , p95<0.3s, p999<1s, p99.9<=2s,dropped_rate<=0.01, precision>=80%, f1>0.5",
        );
        // p999 and p99.9 are the same metric.
        assert!(slo.unwrap_err().message.contains("twice"));
        let slo = Slo::parse(
            " p50 <= 2000us , p95<0.3s, p999<1s, dropped_rate<=0.01, precision>=80%, f1>0.5",
        )
        .unwrap();
        let t: Vec<f64> = slo.clauses.iter().map(|c| c.threshold).collect();
        assert_eq!(t, vec![2.0, 300.0, 1000.0, 0.01, 0.8, 0.5]);
        assert_eq!(slo.clauses[0].op, Op::Le);
        assert_eq!(slo.clauses[0].text, "p50<=2000us");
    }

    #[test]
    fn throughput_is_achieved_over_offered_and_bounded_from_below() {
        let slo = Slo::parse("throughput>=98%").unwrap();
        let f = |achieved_tps| StepFigures {
            offered_tps: 1000.0,
            achieved_tps,
            ..StepFigures::default()
        };
        assert!(slo.evaluate(&f(990.0), 0.0)[0].passed);
        assert!(!slo.evaluate(&f(950.0), 0.0)[0].passed);
        let err = Slo::parse("throughput<0.9").unwrap_err();
        assert!(err.message.contains("from below"), "{}", err.message);
    }

    #[test]
    fn slo_names_are_aliases_of_the_criteria_metric_paths() {
        for m in Metric::ALL {
            assert!(
                metric_paths::is_supported(m.path()),
                "{} stands for {}, not a criteria metric",
                m.name(),
                m.path()
            );
            assert_eq!(Metric::from_name(m.name()), Some(m));
            assert_eq!(
                Metric::from_name(m.path()),
                Some(m),
                "the full path works too"
            );
            assert!(
                METRIC_NAMES.contains(m.name()),
                "{} is listed in errors",
                m.name()
            );
        }
        assert_eq!(Metric::P99.path(), "latency_ms.p99");
        assert_eq!(Metric::from_name("p99.9"), Some(Metric::P999));
        assert_eq!(Metric::Throughput.path(), "load.throughput_ratio");
        // A criteria path an SLO cannot bound is still unknown here.
        assert_eq!(Metric::from_name("latency_ms.max"), None);

        let slo = Slo::parse("latency_ms.p99<250ms, errors.rate<0.1%").unwrap();
        assert_eq!(slo.clauses[0].metric, Metric::P99);
        assert_eq!(
            slo.clauses[0].text, "p99<250ms",
            "written with the short name"
        );
        assert_eq!(slo.clauses[1].metric, Metric::ErrorRate);
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let e = Slo::parse("p99<250ms,eror_rate<1%").unwrap_err();
        assert_eq!(e.column, 11);
        assert_eq!(e.part, "eror_rate<1%");
        assert!(e.message.contains("unknown metric"), "{e}");
        assert!(e.to_string().contains("column 11"), "{e}");

        let e = Slo::parse("p99<250, recall>0.9").unwrap_err();
        assert_eq!(e.column, 1);
        assert!(e.message.contains("unit"), "{e}");

        let e = Slo::parse("p99<250ms,  recall<0.9").unwrap_err();
        assert_eq!(e.column, 13);
        assert!(e.message.contains("from below"), "{e}");

        let e = Slo::parse("p99>250ms").unwrap_err();
        assert!(e.message.contains("from above"), "{e}");

        let e = Slo::parse("error_rate<150%").unwrap_err();
        assert!(e.message.contains("above 1"), "{e}");

        let e = Slo::parse("p99<250ms,,recall>0.9").unwrap_err();
        assert_eq!(e.column, 11);
        assert!(e.message.contains("empty"), "{e}");

        let e = Slo::parse("p99=250ms").unwrap_err();
        assert!(e.message.contains("comparison"), "{e}");

        let e = Slo::parse("p99<abcms").unwrap_err();
        assert!(e.message.contains("not a number"), "{e}");

        let e = Slo::parse("p99 250ms").unwrap_err();
        assert!(e.message.contains("no comparison"), "{e}");

        assert!(
            Slo::parse("<250ms")
                .unwrap_err()
                .message
                .contains("no metric")
        );
        assert!(Slo::parse("p99<0ms").unwrap_err().message.contains("never"));
    }

    #[test]
    fn judging_and_margins() {
        let slo = Slo::parse("p99<250ms,error_rate<1%,recall>0.9").unwrap();
        let f = StepFigures {
            p99_ms: 240.0,
            error_rate: 0.001,
            recall: 0.95,
            ..StepFigures::default()
        };
        let r = slo.evaluate(&f, 0.1);
        assert!(r.iter().all(|c| c.passed));
        assert!(r[0].marginal, "240 is within 10% of 250");
        assert!(!r[1].marginal && !r[2].marginal, "{r:?}");
        let f = StepFigures {
            p99_ms: 300.0,
            error_rate: 0.0,
            recall: 0.905,
            ..StepFigures::default()
        };
        let r = slo.evaluate(&f, 0.1);
        assert!(!r[0].passed && !r[0].marginal);
        assert!(
            r[2].passed && r[2].marginal,
            "0.905 is within 10% of the 0.1 of room above 0.9"
        );
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        /// Text near the grammar: metric names, operators, numbers (absurd ones too) and units.
        fn near_slo() -> impl Strategy<Value = String> {
            let atom = prop::sample::select(vec![
                "p99",
                "p50",
                "p99.9",
                "error_rate",
                "recall",
                "throughput",
                "<",
                ">",
                "<=",
                ">=",
                "=",
                "ms",
                "s",
                "%",
                "1e308",
                "1e-320",
                "NaN",
                "inf",
                "-1",
                "0",
                "250",
                "0.1",
                ",",
                " ",
                ".",
                "µ",
                "",
            ]);
            prop::collection::vec(atom, 0..12).prop_map(|v| v.concat())
        }

        proptest! {
            #[test]
            fn any_text_is_read_or_refused_with_a_column_inside_it(
                text in prop_oneof![".{0,40}", near_slo()]
            ) {
                match Slo::parse(&text) {
                    Ok(slo) => {
                        // What was read can be evaluated and shown.
                        let _ = slo.evaluate(&StepFigures::default(), 0.1);
                        let _ = slo.to_string();
                    }
                    Err(e) => {
                        prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e:?}");
                        prop_assert!(!e.message.is_empty());
                    }
                }
            }
        }
    }
}

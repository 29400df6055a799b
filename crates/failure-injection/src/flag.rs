//! The command line's repeatable `--fault SPEC` flag: parsing into a [`FaultSpec`], formatting back,
//! and the checks a spec from a scenario file goes through too.

use crate::catalogue::{self, Param};
use models::duration_serde;
use models::{FaultKind, FaultSpec};
use std::time::Duration;

/// The syntax of `--fault`, for the command line's `--help`.
pub const FAULT_FLAG_HELP: &str = "\
Inject a fault; repeat the flag for several. Syntax: KIND:KEY=VALUE,KEY=VALUE,...
KIND (write it with - or _): agent-crash, db-throttle, stream-lag, model-rate-limit, network-partition,
  latency-spike, connection-reset, bandwidth-limit, slow-response, http-error
KEYS:
  at=DURATION       start, from the beginning of the run (default 0s)
  for=DURATION      how long it lasts (required)
  stage=NAME        stage or agent of the built-in target (ingestion, transaction_analyzer, pattern_detector,
                    risk_assessor, decision_maker), or a route prefix such as /v1/score for the proxy
  p=0..1            share of requests affected (default 1)
  latency=DURATION  added delay (latency-spike, slow-response, stream-lag)
  jitter=DURATION   uniform jitter added to the delay
  status=CODE       HTTP status answered (http-error, db-throttle, agent-crash, model-rate-limit)
  bps=N             bytes per second (bandwidth-limit)
  tps=N             calls per second allowed (model-rate-limit)
Durations: 250ms, 5s, 1m30s or a number of seconds. Examples:
  --fault http-error:status=429,p=0.2,at=5s,for=10s
  --fault agent-crash:stage=pattern_detector,at=300s,for=30s
  --fault latency-spike:latency=200ms,jitter=50ms,p=0.5,at=10s,for=20s
  --fault bandwidth-limit:bps=10000,at=0s,for=1m";

/// A fault spec in the flag syntax (`KIND:KEY=VALUE,...`) that could not be read. The messages name the
/// spec, not the flag: the command line adds its own flag name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultFlagError {
    #[error("fault {flag:?}: unknown fault kind {kind:?}; valid kinds: {valid}")]
    UnknownKind {
        flag: String,
        kind: String,
        valid: String,
    },
    #[error("fault {flag:?}: unknown key {key:?} for {kind}; valid keys: {valid}")]
    UnknownKey {
        flag: String,
        kind: FaultKind,
        key: String,
        valid: String,
    },
    #[error(
        "fault {flag:?}: {item:?} is not KEY=VALUE; write it like p=0.2 (valid keys for {kind}: {valid})"
    )]
    NotKeyValue {
        flag: String,
        kind: FaultKind,
        item: String,
        valid: String,
    },
    #[error("fault {flag:?}: key {key:?} is given twice; keep one")]
    DuplicateKey { flag: String, key: String },
    #[error("fault {flag:?}: bad value {value:?} for {key:?}: {reason}")]
    BadValue {
        flag: String,
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "fault {flag:?}: missing `for=DURATION` (how long the fault lasts, for example for=30s)"
    )]
    MissingDuration { flag: String },
    #[error("fault {flag:?}: {source}")]
    Invalid {
        flag: String,
        source: FaultSpecError,
    },
}

/// A fault spec whose parameters do not fit its kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    #[error("fault {kind}: `{key}` does not apply to it; valid keys: {valid}")]
    ParamNotApplicable {
        kind: FaultKind,
        key: &'static str,
        valid: String,
    },
    #[error("fault {kind}: `{key}` = {value} is out of range: {expected}")]
    OutOfRange {
        kind: FaultKind,
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("fault {kind}: stage {stage:?} must not be empty or contain ',', '=' or ':'")]
    BadStage { kind: FaultKind, stage: String },
}

/// The keys valid for `kind`, for error messages: `at, for, stage, p, ...`.
pub fn valid_keys(kind: FaultKind) -> String {
    let mut keys = vec!["at", "for"];
    keys.extend(catalogue::info(kind).params.iter().map(|p| p.key()));
    keys.join(", ")
}

fn key_param(key: &str) -> Option<Param> {
    Some(match key {
        "stage" | "route" => Param::Stage,
        "p" | "probability" => Param::Probability,
        "latency" => Param::Latency,
        "jitter" => Param::Jitter,
        "status" => Param::Status,
        "bps" | "bandwidth" | "bandwidth_bps" => Param::Bandwidth,
        "tps" | "rate" | "rate_limit_tps" => Param::RateLimit,
        _ => return None,
    })
}

/// Reads one `--fault` value, for example `http-error:status=429,p=0.2,at=5s,for=10s`.
///
/// ```
/// use failure_injection::parse_fault_flag;
/// use models::FaultKind;
/// let spec = parse_fault_flag("agent-crash:stage=pattern_detector,at=300s,for=30s").unwrap();
/// assert_eq!(spec.kind, FaultKind::AgentCrash);
/// assert_eq!(spec.stage.as_deref(), Some("pattern_detector"));
/// assert_eq!(spec.at.as_secs(), 300);
/// let err = parse_fault_flag("http-error:speed=3,for=1s").unwrap_err().to_string();
/// assert!(err.contains("\"speed\"") && err.contains("status"));
/// ```
pub fn parse_fault_flag(flag: &str) -> Result<FaultSpec, FaultFlagError> {
    let text = flag.trim();
    let (kind_text, rest) = text.split_once(':').unwrap_or((text, ""));
    let kind = catalogue::parse_kind(kind_text).ok_or_else(|| FaultFlagError::UnknownKind {
        flag: flag.to_owned(),
        kind: kind_text.trim().to_owned(),
        valid: catalogue::kind_names(),
    })?;
    let mut spec = FaultSpec::new(kind, Duration::ZERO, Duration::ZERO);
    let mut seen: Vec<String> = Vec::new();
    let mut duration = None;
    for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| FaultFlagError::NotKeyValue {
                flag: flag.to_owned(),
                kind,
                item: item.to_owned(),
                valid: valid_keys(kind),
            })?;
        let key = key.trim().to_ascii_lowercase().replace('-', "_");
        let value = value.trim();
        let canonical = match key.as_str() {
            "at" | "start" => "at".to_owned(),
            "for" | "duration" => "for".to_owned(),
            other => match key_param(other) {
                Some(p) if catalogue::info(kind).params.contains(&p) => p.key().to_owned(),
                _ => {
                    return Err(FaultFlagError::UnknownKey {
                        flag: flag.to_owned(),
                        kind,
                        key,
                        valid: valid_keys(kind),
                    });
                }
            },
        };
        if seen.contains(&canonical) {
            return Err(FaultFlagError::DuplicateKey {
                flag: flag.to_owned(),
                key: canonical,
            });
        }
        let bad = |reason: String| FaultFlagError::BadValue {
            flag: flag.to_owned(),
            key: key.clone(),
            value: value.to_owned(),
            reason,
        };
        let dur = |v: &str| duration_serde::parse(v).map_err(&bad);
        match canonical.as_str() {
            "at" => spec.at = dur(value)?,
            "for" => duration = Some(dur(value)?),
            "stage" => spec.stage = Some(value.to_owned()),
            "p" => {
                spec.probability = value
                    .parse()
                    .map_err(|_| bad("expected a number from 0 to 1, like 0.2".into()))?
            }
            "latency" => spec.latency = Some(dur(value)?),
            "jitter" => spec.jitter = Some(dur(value)?),
            "status" => {
                spec.status = Some(
                    value
                        .parse()
                        .map_err(|_| bad("expected an HTTP status such as 429 or 503".into()))?,
                )
            }
            "bps" => {
                spec.bandwidth_bps = Some(
                    value
                        .parse()
                        .map_err(|_| bad("expected a whole number of bytes per second".into()))?,
                )
            }
            "tps" => {
                spec.rate_limit_tps = Some(
                    value
                        .parse()
                        .map_err(|_| bad("expected a number of calls per second".into()))?,
                )
            }
            _ => unreachable!("keys are canonicalised above"),
        }
        seen.push(canonical);
    }
    spec.duration = duration.ok_or_else(|| FaultFlagError::MissingDuration {
        flag: flag.to_owned(),
    })?;
    check_spec(&spec).map_err(|source| FaultFlagError::Invalid {
        flag: flag.to_owned(),
        source,
    })?;
    Ok(spec)
}

/// Writes `spec` in the `--fault` syntax; [`parse_fault_flag`] reads it back to an equal spec.
pub fn format_fault_flag(spec: &FaultSpec) -> String {
    let mut items = Vec::new();
    if let Some(stage) = &spec.stage {
        items.push(format!("stage={stage}"));
    }
    if spec.probability != 1.0 {
        items.push(format!("p={}", spec.probability));
    }
    if let Some(l) = spec.latency {
        items.push(format!("latency={}", duration_serde::format(l)));
    }
    if let Some(j) = spec.jitter {
        items.push(format!("jitter={}", duration_serde::format(j)));
    }
    if let Some(s) = spec.status {
        items.push(format!("status={s}"));
    }
    if let Some(b) = spec.bandwidth_bps {
        items.push(format!("bps={b}"));
    }
    if let Some(t) = spec.rate_limit_tps {
        items.push(format!("tps={t}"));
    }
    items.push(format!("at={}", duration_serde::format(spec.at)));
    items.push(format!("for={}", duration_serde::format(spec.duration)));
    format!("{}:{}", catalogue::flag_name(spec.kind), items.join(","))
}

/// Checks that a spec's parameters fit its kind and lie in range. Scenario files go through this too.
pub fn check_spec(spec: &FaultSpec) -> Result<(), FaultSpecError> {
    let kind = spec.kind;
    let params = catalogue::info(kind).params;
    let given = [
        (Param::Stage, spec.stage.is_some()),
        (Param::Latency, spec.latency.is_some()),
        (Param::Jitter, spec.jitter.is_some()),
        (Param::Status, spec.status.is_some()),
        (Param::Bandwidth, spec.bandwidth_bps.is_some()),
        (Param::RateLimit, spec.rate_limit_tps.is_some()),
    ];
    for (param, present) in given {
        if present && !params.contains(&param) {
            return Err(FaultSpecError::ParamNotApplicable {
                kind,
                key: param.key(),
                valid: valid_keys(kind),
            });
        }
    }
    let range = |key, value: String, expected| FaultSpecError::OutOfRange {
        kind,
        key,
        value,
        expected,
    };
    if !(0.0..=1.0).contains(&spec.probability) {
        return Err(range(
            "p",
            spec.probability.to_string(),
            "a share from 0 to 1",
        ));
    }
    if let Some(s) = spec.status
        && !(400..=599).contains(&s)
    {
        return Err(range(
            "status",
            s.to_string(),
            "an error status from 400 to 599",
        ));
    }
    if let Some(b) = spec.bandwidth_bps
        && b == 0
    {
        return Err(range("bps", b.to_string(), "at least 1 byte per second"));
    }
    if let Some(t) = spec.rate_limit_tps
        && !(t.is_finite() && t > 0.0)
    {
        return Err(range(
            "tps",
            t.to_string(),
            "a positive number of calls per second",
        ));
    }
    if let Some(stage) = &spec.stage
        && (stage.is_empty() || stage.contains([',', '=', ':']))
    {
        return Err(FaultSpecError::BadStage {
            kind,
            stage: stage.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_issue_examples_parse() {
        let s = parse_fault_flag("http-error:status=429,p=0.2,at=5s,for=10s").unwrap();
        assert_eq!(
            (s.kind, s.status, s.probability),
            (FaultKind::HttpError, Some(429), 0.2)
        );
        assert_eq!(
            (s.at, s.duration),
            (Duration::from_secs(5), Duration::from_secs(10))
        );

        let s = parse_fault_flag("latency_spike:latency=200ms,jitter=50ms,p=0.5,at=10s,for=20s")
            .unwrap();
        assert_eq!(s.latency, Some(Duration::from_millis(200)));
        assert_eq!(s.jitter, Some(Duration::from_millis(50)));
        assert_eq!(s.end(), Duration::from_secs(30));

        let s = parse_fault_flag("bandwidth-limit:bps=10000,for=1m").unwrap();
        assert_eq!((s.bandwidth_bps, s.at), (Some(10_000), Duration::ZERO));

        let s = parse_fault_flag("Model-Rate-Limit:rate=2.5,route=/v1/score,for=5").unwrap();
        assert_eq!(s.rate_limit_tps, Some(2.5));
        assert_eq!(s.stage.as_deref(), Some("/v1/score"));
    }

    #[test]
    fn errors_name_the_bad_part_and_the_valid_ones() {
        let e = parse_fault_flag("meltdown:for=1s").unwrap_err();
        assert!(matches!(e, FaultFlagError::UnknownKind { .. }));
        assert!(e.to_string().contains("agent-crash") && e.to_string().contains("\"meltdown\""));

        let e = parse_fault_flag("http-error:bps=10,for=1s").unwrap_err();
        assert!(
            matches!(&e, FaultFlagError::UnknownKey { key, .. } if key == "bps"),
            "{e}"
        );
        assert!(e.to_string().contains("at, for, stage, p, status"), "{e}");

        let e = parse_fault_flag("http-error:status,for=1s").unwrap_err();
        assert!(matches!(e, FaultFlagError::NotKeyValue { .. }), "{e}");

        let e = parse_fault_flag("http-error:p=0.1,probability=0.2,for=1s").unwrap_err();
        assert!(
            matches!(&e, FaultFlagError::DuplicateKey { key, .. } if key == "p"),
            "{e}"
        );

        let e = parse_fault_flag("http-error:p=lots,for=1s").unwrap_err();
        assert!(
            matches!(&e, FaultFlagError::BadValue { key, .. } if key == "p"),
            "{e}"
        );

        let e = parse_fault_flag("http-error:at=soon,for=1s").unwrap_err();
        assert!(e.to_string().contains("250ms"), "{e}");

        let e = parse_fault_flag("http-error:p=0.5").unwrap_err();
        assert!(matches!(e, FaultFlagError::MissingDuration { .. }), "{e}");

        let e = parse_fault_flag("http-error:p=1.5,for=1s").unwrap_err();
        assert!(e.to_string().contains("from 0 to 1"), "{e}");

        let e = parse_fault_flag("http-error:status=200,for=1s").unwrap_err();
        assert!(e.to_string().contains("400 to 599"), "{e}");

        let e = parse_fault_flag("bandwidth-limit:bps=0,for=1s").unwrap_err();
        assert!(e.to_string().contains("bps"), "{e}");
    }

    #[test]
    fn scenario_specs_with_foreign_params_are_refused() {
        let mut spec = FaultSpec::new(
            FaultKind::AgentCrash,
            Duration::ZERO,
            Duration::from_secs(1),
        );
        assert!(check_spec(&spec).is_ok());
        spec.bandwidth_bps = Some(100);
        let e = check_spec(&spec).unwrap_err();
        assert!(
            e.to_string().contains("`bps`") && e.to_string().contains("stage"),
            "{e}"
        );
    }

    fn arb_spec() -> impl Strategy<Value = FaultSpec> {
        (
            0..FaultKind::ALL.len(),
            proptest::option::of("[a-z_/]{1,12}"),
            0.0f64..=1.0,
            0u64..10_000_000,
            0u64..10_000_000,
            proptest::option::of(0u64..5_000_000),
            proptest::option::of(0u64..5_000_000),
            proptest::option::of(400u16..600),
            proptest::option::of(1u64..1_000_000),
            proptest::option::of(0.001f64..10_000.0),
        )
            .prop_map(|(k, stage, p, at_ms, for_us, lat, jit, status, bps, tps)| {
                let kind = FaultKind::ALL[k];
                let params = catalogue::info(kind).params;
                let keep = |param: Param| params.contains(&param);
                let mut spec = FaultSpec::new(
                    kind,
                    Duration::from_millis(at_ms),
                    Duration::from_micros(for_us),
                );
                spec.stage = stage;
                spec.probability = p;
                spec.latency = lat
                    .filter(|_| keep(Param::Latency))
                    .map(Duration::from_micros);
                spec.jitter = jit
                    .filter(|_| keep(Param::Jitter))
                    .map(Duration::from_nanos);
                spec.status = status.filter(|_| keep(Param::Status));
                spec.bandwidth_bps = bps.filter(|_| keep(Param::Bandwidth));
                spec.rate_limit_tps = tps.filter(|_| keep(Param::RateLimit));
                spec
            })
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(spec in arb_spec()) {
            let text = format_fault_flag(&spec);
            let back = parse_fault_flag(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, spec);
        }

        /// Any text after `--fault` is a fault or an error, never a panic.
        #[test]
        fn arbitrary_flags_never_panic(text in "\\PC{0,60}") {
            let _ = parse_fault_flag(&text);
        }

        /// Arbitrary numbers in every numeric parameter: a fault or an error, never a panic.
        #[test]
        fn arbitrary_numbers_never_panic(
            a in proptest::num::f64::ANY, b in proptest::num::f64::ANY, c in proptest::num::f64::ANY,
        ) {
            for kind in ["latency-spike", "http-error", "bandwidth-limit", "model-rate-limit"] {
                let flag = format!(
                    "{kind}:latency={a},jitter={b},p={c},status={a},bps={b},rate={c},at={a},for={b}"
                );
                let _ = parse_fault_flag(&flag);
            }
        }
    }

    #[test]
    fn absurd_durations_are_errors() {
        // `for=1e19` panicked in the conversion to a Duration once (exit 101 mid-run).
        for flag in [
            "latency-spike:latency=10ms,at=1s,for=1e19",
            "latency-spike:latency=1e300,for=1s",
            "http-error:at=1e20,for=1s",
        ] {
            let e = parse_fault_flag(flag).unwrap_err().to_string();
            assert!(e.contains("longest duration accepted"), "{flag}: {e}");
        }
    }
}

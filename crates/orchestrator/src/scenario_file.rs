//! Reading scenarios: a built-in name or a TOML file, with errors that point at the file, line and
//! column, and semantic checks on what was read.

use crate::builtin::{BUILTIN_NAMES, builtin};
use crate::error::ScenarioError;
use crate::metric_paths;
use models::{FaultKind, ScenarioSpec, Stage, TargetKind};
use std::path::Path;

/// A built-in name (`investor`) or a path to a `.toml` file.
pub fn resolve(name_or_path: &str) -> Result<ScenarioSpec, ScenarioError> {
    if let Some(spec) = builtin(name_or_path) {
        return Ok(spec);
    }
    let path = Path::new(name_or_path);
    if path.exists() || name_or_path.ends_with(".toml") {
        return load_file(path);
    }
    Err(ScenarioError::Unknown {
        name: name_or_path.into(),
        known: BUILTIN_NAMES.join(", "),
    })
}

/// [`resolve`], then [`expand_env`] with `lookup`: how a scenario that is about to run is loaded.
pub fn resolve_with_env(
    name_or_path: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ScenarioSpec, ScenarioError> {
    let mut spec = resolve(name_or_path)?;
    expand_env(&mut spec, lookup)?;
    Ok(spec)
}

/// Expands the environment references of a scenario (`[target.headers]` values such as
/// `"Bearer ${API_TOKEN}"`) with `lookup`: the binary passes one over the process environment, tests
/// a map. An unset variable is an error naming it and the header, before anything is sent. The
/// expanded values are sent but never written back (a run's `scenario.toml` keeps `${API_TOKEN}`).
pub fn expand_env(
    spec: &mut ScenarioSpec,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), ScenarioError> {
    spec.target
        .expand_headers(lookup)
        .map_err(ScenarioError::Env)
}

/// Reads and checks a scenario file.
pub fn load_file(path: &Path) -> Result<ScenarioSpec, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.into(),
        source,
    })?;
    parse_str(&text, &path.display().to_string())
}

/// Parses and checks scenario TOML; `file` is the name used in error messages.
pub fn parse_str(text: &str, file: &str) -> Result<ScenarioSpec, ScenarioError> {
    let spec: ScenarioSpec = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_owned();
        let (line, column) = e
            .span()
            .map(|s| refine(text, s.start, &message))
            .unwrap_or((1, 1));
        ScenarioError::Parse {
            file: file.into(),
            line,
            column,
            message,
        }
    })?;
    validate(&spec).map_err(|(field, message)| ScenarioError::Invalid {
        file: file.into(),
        position: locate(text, &field),
        field,
        message,
    })?;
    Ok(spec)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The position of an error the toml crate reported at `offset`. Errors inside a tagged table (a load
/// stage) point at the table's header; when the message quotes a key (`` `rampp` ``) or a value
/// (`"ten"`) found on a line of that table, the position of that line is more useful.
fn refine(text: &str, offset: usize, message: &str) -> (usize, usize) {
    let at = line_col(text, offset);
    if !text[text.floor_char_boundary(offset)..].starts_with('[') {
        return at;
    }
    let quoted = |open: char, close: char| {
        let start = message.find(open)? + open.len_utf8();
        let len = message[start..].find(close)?;
        Some(&message[start..start + len])
    };
    let Some(token) = quoted('`', '`')
        .or_else(|| quoted('"', '"'))
        .filter(|t| !t.is_empty())
    else {
        return at;
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate().skip(at.0) {
        let trimmed = l.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        let (key, value) = trimmed.split_once('=').unwrap_or((trimmed, ""));
        if key.trim() == token || value.contains(&format!("\"{token}\"")) {
            return (i + 1, l.len() - trimmed.len() + 1);
        }
    }
    at
}

/// Finds a field such as `criteria[2].metric` or `mix.legit` in TOML written in the usual layout
/// (`[[criteria]]` headers, `key = value` lines). Best effort: `None` when the layout differs.
pub fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let (table, key) = match field.rsplit_once('.') {
        Some((t, k)) => (Some(t), k),
        None => (None, field),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut end = lines.len();
    if let Some(table) = table {
        let (name, index) = match table.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (table, None),
        };
        let header = match index {
            Some(_) => format!("[[{name}]]"),
            None => format!("[{name}]"),
        };
        let heads: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim() == header)
            .map(|(i, _)| i)
            .collect();
        start = *heads.get(index.unwrap_or(0))? + 1;
    }
    if let Some(next) = lines[start..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
    {
        end = start + next;
    }
    (start..end).find_map(|i| {
        let l = lines[i];
        let trimmed = l.trim_start();
        let rest = trimmed.strip_prefix(key)?;
        rest.trim_start()
            .starts_with('=')
            .then(|| (i + 1, l.len() - trimmed.len() + 1))
    })
}

type Invalid = (String, String);

fn bad(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    (field.into(), message.into())
}

fn rate(field: String, v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(field, format!("{v} must be a rate of 0 TPS or more")))
    }
}

fn positive(field: String, d: std::time::Duration) -> Result<(), Invalid> {
    if d.is_zero() {
        Err(bad(field, "must be longer than zero"))
    } else {
        Ok(())
    }
}

fn share(field: String, v: f64) -> Result<(), Invalid> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(bad(field, format!("{v} must be between 0 and 1")))
    }
}

/// Checks what TOML cannot: rates, durations, the mix, criteria metric names and phases, faults, the
/// cost model and limits. The error names the field (`load.stages[1].to_tps`) and what is wrong.
pub fn validate(spec: &ScenarioSpec) -> Result<(), Invalid> {
    // The limits first: every other duration is bounded by `limits.max_duration`.
    let l = &spec.limits;
    positive("limits.max_duration".into(), l.max_duration)?;
    if l.max_duration > models::duration_serde::MAX {
        return Err(bad(
            "limits.max_duration",
            format!(
                "{} is longer than {}, the longest run fraudstress accepts",
                models::duration_serde::format(l.max_duration),
                models::duration_serde::format(models::duration_serde::MAX)
            ),
        ));
    }
    let within = |field: String, d: std::time::Duration| -> Result<(), Invalid> {
        if d > l.max_duration {
            Err(bad(
                field,
                format!(
                    "{} is longer than limits.max_duration ({}); shorten it or raise the limit \
                     (at most {})",
                    models::duration_serde::format(d),
                    models::duration_serde::format(l.max_duration),
                    models::duration_serde::format(models::duration_serde::MAX)
                ),
            ))
        } else {
            Ok(())
        }
    };
    if spec.name.trim().is_empty() {
        return Err(bad("name", "must not be empty"));
    }
    if spec.load.stages.is_empty() {
        return Err(bad(
            "load.stages",
            "a scenario needs at least one [[load.stages]] table",
        ));
    }
    for (i, stage) in spec.load.stages.iter().enumerate() {
        let f = |k: &str| format!("load.stages[{i}].{k}");
        positive(f("duration"), stage.duration())?;
        within(f("duration"), stage.duration())?;
        match stage {
            Stage::Ramp {
                from_tps, to_tps, ..
            } => {
                rate(f("from_tps"), *from_tps)?;
                rate(f("to_tps"), *to_tps)?;
            }
            Stage::Sustained { tps, .. } => rate(f("tps"), *tps)?,
            Stage::Burst {
                base_tps,
                burst_tps,
                every,
                burst_for,
                ..
            } => {
                rate(f("base_tps"), *base_tps)?;
                rate(f("burst_tps"), *burst_tps)?;
                positive(f("every"), *every)?;
                within(f("every"), *every)?;
                if burst_for > every {
                    return Err(bad(f("burst_for"), "must not be longer than `every`"));
                }
            }
            Stage::Wave {
                mean_tps,
                amplitude_tps,
                period,
                ..
            } => {
                rate(f("mean_tps"), *mean_tps)?;
                rate(f("amplitude_tps"), *amplitude_tps)?;
                positive(f("period"), *period)?;
                within(f("period"), *period)?;
                if amplitude_tps > mean_tps {
                    return Err(bad(
                        f("amplitude_tps"),
                        "must not exceed mean_tps (the rate would go below zero)",
                    ));
                }
            }
            Stage::Chaos {
                mean_tps,
                volatility,
                spike_tps,
                spike_probability,
                ..
            } => {
                rate(f("mean_tps"), *mean_tps)?;
                rate(f("spike_tps"), *spike_tps)?;
                if !(volatility.is_finite() && *volatility >= 0.0) {
                    return Err(bad(
                        f("volatility"),
                        format!("{volatility} must be 0 or more"),
                    ));
                }
                share(f("spike_probability"), *spike_probability)?;
            }
        }
    }
    spec.mix.validate().map_err(|m| bad("mix", m))?;

    let t = &spec.target;
    if t.kind == TargetKind::Http && t.url.as_deref().is_none_or(str::is_empty) {
        return Err(bad(
            "target.url",
            "an http target needs a url (for example \"http://127.0.0.1:8080/v1/score\")",
        ));
    }
    if t.connections == 0 {
        return Err(bad("target.connections", "must be at least 1"));
    }
    if t.max_in_flight == 0 {
        return Err(bad("target.max_in_flight", "must be at least 1"));
    }
    positive("target.timeout".into(), t.timeout)?;
    within("target.timeout".into(), t.timeout)?;
    if let Some(c) = t.capacity
        && !(c.is_finite() && c > 0.0)
    {
        return Err(bad(
            "target.capacity",
            format!("{c} must be a rate above 0 TPS"),
        ));
    }

    // The answer mapping is checked by building it, so the file and the HTTP target agree on what
    // is valid.
    targets::ResponseMapping::from_spec(&t.decision_pointer, &t.score_pointer, &t.response)
        .map_err(|e| match e {
            targets::TargetConfigError::InvalidSetting { field, reason } => {
                bad(format!("target.{field}"), reason)
            }
            other => bad("target.response", other.to_string()),
        })?;

    let total = spec.load.total_duration();
    for (i, fault) in spec.faults.iter().enumerate() {
        let f = |k: &str| format!("faults[{i}].{k}");
        positive(f("duration"), fault.duration)?;
        within(f("duration"), fault.duration)?;
        share(f("probability"), fault.probability)?;
        if fault.at >= total {
            return Err(bad(
                f("at"),
                format!(
                    "the fault starts at {} but the load profile ends at {}",
                    models::duration_serde::format(fault.at),
                    models::duration_serde::format(total)
                ),
            ));
        }
        if fault.kind == FaultKind::ModelRateLimit
            && let Some(r) = fault.rate_limit_tps
        {
            rate(f("rate_limit_tps"), r)?;
        }
    }

    let phases: Vec<&str> = spec.load.stages.iter().filter_map(Stage::name).collect();
    for (i, c) in spec.criteria.iter().enumerate() {
        let f = |k: &str| format!("criteria[{i}].{k}");
        if !metric_paths::is_supported(&c.metric) {
            return Err(bad(
                f("metric"),
                format!(
                    "unknown metric {:?}; did you mean {:?}? (the supported paths are listed in docs/results.md)",
                    c.metric,
                    metric_paths::closest(&c.metric)
                ),
            ));
        }
        if !c.threshold.is_finite() {
            return Err(bad(f("threshold"), "must be a finite number"));
        }
        if let (Some(from), Some(to)) = (c.from, c.to)
            && from >= to
        {
            return Err(bad(f("to"), "must be later than `from`"));
        }
        if let Some(p) = &c.phase
            && !phases.contains(&p.as_str())
        {
            return Err(bad(
                f("phase"),
                format!("no stage is named {p:?}; the named stages are {phases:?}"),
            ));
        }
    }

    let cost = &spec.cost;
    for (k, v) in [
        ("per_txn_infra", cost.per_txn_infra),
        ("per_model_call", cost.per_model_call),
        ("model_calls_per_txn", cost.model_calls_per_txn),
        ("fixed_per_hour", cost.fixed_per_hour),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(format!("cost.{k}"), format!("{v} must be 0 or more")));
        }
    }
    let ratio = cost.false_decline_cost_ratio;
    if !(0.0..=1.0).contains(&ratio) {
        return Err(bad(
            "cost.false_decline_cost_ratio",
            format!(
                "{ratio} must be between 0 and 1 (the share of a falsely declined amount the business loses)"
            ),
        ));
    }
    if !cost.fx.0.contains_key(&cost.currency) {
        return Err(bad(
            "cost.fx",
            format!("has no rate for the reporting currency {}", cost.currency),
        ));
    }

    if !(l.max_tps.is_finite() && l.max_tps > 0.0) {
        return Err(bad(
            "limits.max_tps",
            format!("{} must be above 0", l.max_tps),
        ));
    }
    if let Some(b) = l.budget
        && !(b.is_finite() && b > 0.0)
    {
        return Err(bad("limits.budget", format!("{b} must be above 0")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"name = "t"

[[load.stages]]
shape = "sustained"
tps = 100
duration = "10s"
name = "hold"

[[criteria]]
metric = "errors.rate"
op = "<"
threshold = 0.01

[[criteria]]
metric = "latency_ms.p99"
op = "<"
threshold = 500
phase = "hold"
"#;

    #[test]
    fn response_tables_parse_and_bad_ones_name_their_field() {
        let text = format!(
            "{GOOD}\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9/score\"\n\n[target.response]\n\
             decision = \"/outcome/action\"\nscore = \"/riskScore\"\n\n[target.response.decisions]\n\
             ALLOW = \"approve\"\nBLOCK = \"decline\"\ntrue = \"decline\"\n"
        );
        let s = parse_str(&text, "r.toml").unwrap();
        assert_eq!(
            s.target.response.decision.as_deref(),
            Some("/outcome/action")
        );
        assert_eq!(
            s.target.response.decisions["true"],
            models::Decision::Decline
        );

        let bad = text.replace("score = \"/riskScore\"", "score = \"riskScore\"");
        let err = parse_str(&bad, "r.toml").unwrap_err().to_string();
        assert!(err.contains("target.response.score"), "{err}");
        assert!(err.starts_with("r.toml:"), "{err}");

        let both = text.replace(
            "score = \"/riskScore\"",
            "score = \"/riskScore\"\ndecline_at = 80",
        );
        let err = parse_str(&both, "r.toml").unwrap_err().to_string();
        assert!(err.contains("target.response.decisions"), "{err}");

        let unknown = text.replace("BLOCK = \"decline\"", "BLOCK = \"deny\"");
        let err = parse_str(&unknown, "r.toml").unwrap_err().to_string();
        assert!(err.contains("deny"), "{err}");
    }

    #[test]
    fn good_file_parses() {
        let s = parse_str(GOOD, "good.toml").unwrap();
        assert_eq!(s.criteria.len(), 2);
    }

    #[test]
    fn when_unmeasured_reads_for_the_scenario_and_each_criterion() {
        let text = format!(
            "when_unmeasured = \"skip\"\n{}\nwhen_unmeasured = \"fail\"\n",
            GOOD.trim_end()
        );
        let s = parse_str(&text, "w.toml").unwrap();
        assert_eq!(s.when_unmeasured, models::WhenUnmeasured::Skip);
        assert_eq!(s.criteria[0].when_unmeasured, None);
        assert_eq!(
            s.criteria[1].when_unmeasured,
            Some(models::WhenUnmeasured::Fail)
        );
        assert_eq!(
            parse_str(GOOD, "g.toml").unwrap().when_unmeasured,
            models::WhenUnmeasured::Fail
        );
        let err = parse_str(&text.replace("\"skip\"", "\"ignore\""), "w.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("w.toml:1:") && err.contains("ignore"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_column() {
        let text = GOOD.replace("tps = 100", "tps = 100\nrampp = 3");
        let err = parse_str(&text, "x.toml").unwrap_err();
        let ScenarioError::Parse {
            line,
            column,
            ref message,
            ..
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!((line, column), (6, 1), "{message}");
        assert!(err.to_string().starts_with("x.toml:6:1: "), "{err}");
        assert!(message.contains("rampp"), "{message}");
    }

    #[test]
    fn bad_values_have_positions() {
        let text = GOOD.replace("duration = \"10s\"", "duration = \"ten\"");
        let err = parse_str(&text, "x.toml").unwrap_err().to_string();
        assert!(err.starts_with("x.toml:6:"), "{err}");
        assert!(err.contains("ten"), "{err}");
        let text = GOOD.replace("tps = 100", "tps = \"fast\"");
        assert!(
            parse_str(&text, "x.toml")
                .unwrap_err()
                .to_string()
                .starts_with("x.toml:5:")
        );
        let err = parse_str("name = \n", "y.toml").unwrap_err().to_string();
        assert!(err.starts_with("y.toml:1:"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_field_and_where_it_is() {
        let cases = [
            (
                GOOD.replace("tps = 100", "tps = -5"),
                "load.stages[0].tps",
                Some((5, 1)),
            ),
            (
                GOOD.replace("latency_ms.p99", "latency_ms.99"),
                "criteria[1].metric",
                Some((15, 1)),
            ),
            (
                GOOD.replace("phase = \"hold\"", "phase = \"peak\""),
                "criteria[1].phase",
                Some((18, 1)),
            ),
            (
                format!("{GOOD}\n[mix]\nlegit = 0.5\nfraud = 0.1\nedge = 0.1\n"),
                "mix",
                None,
            ),
            (
                format!("{GOOD}\n[limits]\nmax_tps = 0\n"),
                "limits.max_tps",
                Some((21, 1)),
            ),
            (
                format!(
                    "{GOOD}\n[[faults]]\nkind = \"agent_crash\"\nat = \"20s\"\nduration = \"5s\"\n"
                ),
                "faults[0].at",
                Some((22, 1)),
            ),
            (
                format!("{GOOD}\n[target]\nkind = \"http\"\n"),
                "target.url",
                None,
            ),
            (
                format!("{GOOD}\n[cost]\nfalse_decline_cost_ratio = 1.5\n"),
                "cost.false_decline_cost_ratio",
                Some((21, 1)),
            ),
        ];
        for (text, field, pos) in cases {
            match parse_str(&text, "s.toml").unwrap_err() {
                ScenarioError::Invalid {
                    field: f,
                    position,
                    message,
                    ..
                } => {
                    assert_eq!(f, field, "{message}");
                    assert_eq!(position, pos, "{field}: {message}");
                }
                other => panic!("{field}: {other}"),
            }
        }
        let err = parse_str(&GOOD.replace("latency_ms.p99", "latency_ms.99"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean \"latency_ms.p99\""), "{err}");
        assert!(err.starts_with("s.toml:15:1: criteria[1].metric"), "{err}");
    }

    #[test]
    fn absurd_durations_are_errors_with_a_position() {
        // Each of these panicked once (exit 101, some mid-run).
        for (text, at) in [
            // Inside a stage table, toml places the error at the table's header.
            (GOOD.replace("\"10s\"", "1e20"), "x.toml:3:"),
            (
                format!("{GOOD}\n[limits]\nmax_duration = 1e19\n"),
                "x.toml:21:",
            ),
            (
                format!("{GOOD}\n[limits]\nmax_duration = \"31days\"\n"),
                "x.toml:21:",
            ),
        ] {
            let err = parse_str(&text, "x.toml").unwrap_err().to_string();
            assert!(err.starts_with(at), "{err}");
            assert!(err.contains("longest duration accepted"), "{err}");
        }
        // Within the 30-day bound but over the scenario's own limit: the field and its line.
        let text = GOOD.replace("\"10s\"", "\"5h\"");
        let err = parse_str(&text, "x.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("x.toml:6:1: load.stages[0].duration") && err.contains("max_duration"),
            "{err}"
        );
        let two =
            format!("{GOOD}\n[[load.stages]]\nshape = \"sustained\"\ntps = 1\nduration = 1e19\n");
        assert!(parse_str(&two, "x.toml").is_err());
        let fault =
            format!("{GOOD}\n[[faults]]\nkind = \"agent_crash\"\nat = \"1s\"\nduration = \"5h\"\n");
        let err = parse_str(&fault, "x.toml").unwrap_err().to_string();
        assert!(err.contains("faults[0].duration"), "{err}");
        // Raising the limit is the way out, up to 30 days.
        let long = format!(
            "{}\n[limits]\nmax_duration = \"6h\"\n",
            GOOD.replace("\"10s\"", "\"5h\"")
        );
        assert!(parse_str(&long, "x.toml").is_ok());
    }

    #[test]
    fn header_variables_expand_from_the_lookup_or_name_what_is_missing() {
        let text = format!(
            "{GOOD}\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9/score\"\n\
             body_template = '{{\"ref\": {{{{id}}}}}}'\n[target.headers]\nx-api-key = \"${{ACME_KEY}}\"\n"
        );
        let mut spec = parse_str(&text, "h.toml").unwrap();
        assert_eq!(spec.target.body.as_deref(), Some(r#"{"ref": {{id}}}"#));
        let err = expand_env(&mut spec.clone(), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("target.headers.x-api-key") && err.contains("ACME_KEY"),
            "{err}"
        );
        let env: std::collections::HashMap<&str, &str> = [("ACME_KEY", "k-1")].into();
        expand_env(&mut spec, |n| env.get(n).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(spec.target.headers["x-api-key"].value(), "k-1");
        crate::TargetFactory::new(&spec.target, false).unwrap();
    }

    #[test]
    fn resolves_builtins_and_reports_unknown_names() {
        assert_eq!(resolve("smoke").unwrap().name, "smoke");
        let err = resolve("nonsense").unwrap_err().to_string();
        assert!(
            err.contains("investor") && err.contains("nonsense"),
            "{err}"
        );
        assert!(matches!(
            resolve("/no/such/file.toml"),
            Err(ScenarioError::Read { .. })
        ));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a scenario file holds, reading it ends in a scenario or an error, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse_str(&text, "p.toml");
        }

        /// Arbitrary numbers in every numeric field of a well-formed file: an error or a scenario
        /// that the validation accepted, never a panic.
        #[test]
        fn arbitrary_numbers_never_panic(
            tps in prop_oneof![Just(f64::MAX), Just(-1.0), Just(1e300), 0.0..1e9f64],
            secs in prop_oneof![Just(1e20), Just(1e19), Just(-0.0), 0.0..1e10f64],
            max in prop_oneof![Just(1e19), 0.0..1e8f64],
        ) {
            let text = format!(
                "name = \"p\"\n[[load.stages]]\nshape = \"ramp\"\nfrom_tps = {tps:?}\nto_tps = 1\nduration = {secs:?}\n\
                 [[faults]]\nkind = \"latency_spike\"\nat = 0\nduration = {secs:?}\n[limits]\nmax_duration = {max:?}\n"
            );
            if let Ok(spec) = parse_str(&text, "p.toml") {
                prop_assert!(spec.load.total_duration() <= spec.limits.max_duration);
            }
        }

        #[test]
        fn line_col_points_at_the_offset(text in "[a-z\n=\"é ]{0,200}", pick in 0usize..200) {
            let offset = text.floor_char_boundary(pick.min(text.len()));
            let (line, col) = line_col(&text, offset);
            let nth = text.split('\n').nth(line - 1).unwrap();
            let line_start = text.split('\n').take(line - 1).map(|l| l.len() + 1).sum::<usize>();
            prop_assert_eq!(nth[..offset - line_start].chars().count() + 1, col);
        }
    }
}

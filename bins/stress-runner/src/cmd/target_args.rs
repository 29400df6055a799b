//! The flags that say how to reach an HTTP API and read its answers (`run`, `probe`): `--allow-remote`,
//! the request (`--header`, `--body-template`), the answer (`--decision-pointer`, `--score-pointer`,
//! `--decision-map`) and the connection (TLS and `--http2`, [`TlsArgs`]). Each overrides the scenario's `[target]` key of the same
//! meaning; `--target` itself is each command's own, since its default differs.

use super::tls_args::TlsArgs;
use anyhow::Context;
use models::ScenarioSpec;
use orchestrator::scenario_file;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Allow a target URL that is not on this machine.
    #[arg(long)]
    pub allow_remote: bool,
    // Boxed to keep the commands' `Args` small (variants of main's `Command`).
    #[command(flatten)]
    answer: Box<AnswerArgs>,
    #[command(flatten)]
    tls: Box<TlsArgs>,
    #[command(flatten)]
    request: Box<RequestArgs>,
    /// The target's Prometheus endpoint, e.g. http://127.0.0.1:8080/metrics: its process CPU and
    /// memory are read at every tick (overrides [target] metrics_url; docs/targets.md).
    #[arg(long, value_name = "URL")]
    target_metrics: Option<String>,
}

/// What each request to an HTTP target carries, over the scenario's `[target]` keys.
#[derive(Debug, clap::Args)]
struct RequestArgs {
    /// An extra request header, 'Name: value' (repeatable; replaces the scenario's header of that
    /// name). `${NAME}` in the value is read from the environment, so a secret need not be typed:
    /// --header 'Authorization: Bearer ${API_TOKEN}'.
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    headers: Vec<(String, models::HeaderValueSpec)>,
    /// The request body template, read from FILE (replaces the scenario's `body`); placeholders such
    /// as {{id}} and {{amount}} insert the transaction's fields (docs/targets.md).
    #[arg(long, value_name = "FILE")]
    body_template: Option<PathBuf>,
}

/// How to read the target's answers; each flag overrides the scenario's `[target.response]` key.
#[derive(Debug, clap::Args)]
struct AnswerArgs {
    /// JSON pointer to the decision in the target's answer, e.g. /outcome/action (overrides the
    /// scenario's [target.response] decision).
    #[arg(long, value_name = "POINTER")]
    decision_pointer: Option<String>,
    /// JSON pointer to the risk score in the target's answer (overrides [target.response] score).
    #[arg(long, value_name = "POINTER")]
    score_pointer: Option<String>,
    /// The API's decision words, e.g. 'ALLOW=approve,CHALLENGE=review,BLOCK=decline' (any case;
    /// overrides [target.response.decisions]).
    #[arg(long, value_name = "WORD=DECISION,...", value_parser = parse_decision_map)]
    decision_map: Option<std::collections::BTreeMap<String, models::Decision>>,
}

fn parse_header(s: &str) -> Result<(String, models::HeaderValueSpec), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not a header; write it 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{s:?} has no header name; write it 'Name: value'"));
    }
    Ok((name.to_owned(), value.trim().into()))
}

fn parse_decision_map(
    s: &str,
) -> Result<std::collections::BTreeMap<String, models::Decision>, String> {
    targets::parse_decision_map(s).map_err(|e| e.to_string())
}

impl TargetArgs {
    /// Sets the target keys the flags give on `spec` (its target kind and URL already set), reads
    /// the body template file, and expands the `${NAME}` references of the header values from the
    /// environment. The caller validates the spec and builds its `TargetFactory`.
    pub fn apply_to(&self, spec: &mut ScenarioSpec) -> anyhow::Result<()> {
        let response = &mut spec.target.response;
        if let Some(p) = &self.answer.decision_pointer {
            response.decision = Some(p.clone());
        }
        if let Some(p) = &self.answer.score_pointer {
            response.score = Some(p.clone());
        }
        if let Some(map) = &self.answer.decision_map {
            response.decisions = map.clone();
        }
        for (name, value) in &self.request.headers {
            // Header names are case-insensitive: the flag replaces the scenario's header however spelt.
            spec.target
                .headers
                .retain(|k, _| !k.eq_ignore_ascii_case(name));
            spec.target.headers.insert(name.clone(), value.clone());
        }
        if let Some(path) = &self.request.body_template {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "--body-template: cannot read {}; check the path",
                    path.display()
                )
            })?;
            spec.target.body = Some(text);
        }
        if let Some(url) = &self.target_metrics {
            spec.target.metrics_url = Some(url.clone());
        }
        // Header values such as "Bearer ${API_TOKEN}" take their secrets from the environment.
        scenario_file::expand_env(spec, |name| std::env::var(name).ok())?;
        self.tls.apply_to(&mut spec.target);
        Ok(())
    }
}

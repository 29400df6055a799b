//! A whole scenario: load profile, target, mix, faults, criteria, cost model, limits. Built-ins and
//! TOML files both produce a [`ScenarioSpec`].

use crate::cost::CostModel;
use crate::criteria::{CriterionSpec, WhenUnmeasured};
use crate::fault::FaultSpec;
use crate::header::{HeaderEnvError, HeaderValueSpec};
use crate::profile::LoadProfile;
use crate::response::ResponseSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// What a criterion whose figure was not measured does, unless it says itself: `"fail"` (the
    /// default) or `"skip"`. A top-level key: `when_unmeasured = "skip"`.
    #[serde(default, skip_serializing_if = "WhenUnmeasured::is_fail")]
    pub when_unmeasured: WhenUnmeasured,
    pub load: LoadProfile,
    #[serde(default)]
    pub target: TargetSpec,
    #[serde(default)]
    pub mix: MixSpec,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub criteria: Vec<CriterionSpec>,
    #[serde(default)]
    pub cost: CostModel,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsSpec>,
    /// Degradation levels, alerts, recovery band, adaptive load and abort rules.
    #[serde(default)]
    pub resilience: ResilienceSpec,
}

fn default_seed() -> u64 {
    42
}

/// Which system is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// The reference fraud-detection service (`fraud-sim`), served over loopback HTTP.
    #[default]
    Builtin,
    /// The reference pipeline called in-process, with no HTTP: for rates HTTP cannot carry.
    InProcess,
    /// Any HTTP API.
    Http,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [TargetKind::Builtin, TargetKind::InProcess, TargetKind::Http];

    /// The name in scenario files and in `summary.json`'s `target.kind` (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Builtin => "builtin",
            TargetKind::InProcess => "in_process",
            TargetKind::Http => "http",
        }
    }

    /// True for the kinds fraudstress starts itself (the reference service or pipeline), which a
    /// caller may start afresh for every run.
    pub fn is_builtin(self) -> bool {
        matches!(self, TargetKind::Builtin | TargetKind::InProcess)
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the serde name (`in_process`) and, as typed on a command line, the kebab-case one
/// (`in-process`).
impl FromStr for TargetKind {
    type Err = TargetParseError;
    fn from_str(s: &str) -> Result<Self, TargetParseError> {
        let name = s.trim().replace('-', "_");
        TargetKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| TargetParseError::UnknownKind {
                given: s.to_owned(),
            })
    }
}

/// A target named in one word, as a command line gives it: a kind that fraudstress sets up itself
/// (`builtin`, `in-process`) or the scoring URL of an HTTP API, which means kind `http`.
///
/// ```
/// use models::{TargetKind, TargetRef, TargetSpec};
/// let r: TargetRef = "http://127.0.0.1:8080/v1/score".parse().unwrap();
/// assert_eq!(r.kind, TargetKind::Http);
/// let mut spec = TargetSpec::default();
/// r.apply_to(&mut spec);
/// assert_eq!(spec.url.as_deref(), Some("http://127.0.0.1:8080/v1/score"));
/// assert_eq!("in-process".parse::<TargetRef>().unwrap().kind, TargetKind::InProcess);
/// assert!("http".parse::<TargetRef>().is_err()); // an http target needs its URL
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    pub kind: TargetKind,
    /// Set for kind `http` only.
    pub url: Option<String>,
}

impl TargetRef {
    /// Sets `spec`'s kind, and its URL when this names one (the built-in kinds keep the spec's).
    pub fn apply_to(&self, spec: &mut TargetSpec) {
        spec.kind = self.kind;
        if let Some(url) = &self.url {
            spec.url = Some(url.clone());
        }
    }
}

impl FromStr for TargetRef {
    type Err = TargetParseError;
    fn from_str(s: &str) -> Result<Self, TargetParseError> {
        let s = s.trim();
        // A URL is told from a kind name by its scheme; whether it is a usable (and loopback) URL is
        // the HTTP target's and the loopback guard's to say.
        if s.contains("://") {
            return Ok(TargetRef {
                kind: TargetKind::Http,
                url: Some(s.to_owned()),
            });
        }
        match s.parse::<TargetKind>()? {
            TargetKind::Http => Err(TargetParseError::UrlMissing),
            kind => Ok(TargetRef { kind, url: None }),
        }
    }
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.url {
            Some(url) => f.write_str(url),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

/// A target kind or [`TargetRef`] that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetParseError {
    #[error(
        "unknown target kind {given:?}: the kinds are builtin, in_process (also written in-process) and http, which is named by its scoring URL such as http://127.0.0.1:8080/v1/score"
    )]
    UnknownKind { given: String },
    #[error(
        "an http target is named by its scoring URL, not by \"http\": give the URL, for example http://127.0.0.1:8080/v1/score"
    )]
    UrlMissing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetSpec {
    pub kind: TargetKind,
    /// Scoring endpoint for `http` (for example `http://127.0.0.1:8080/v1/score`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Built-in target: throughput (TPS) at which its slowest stage saturates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    /// Requests in flight at most, and so HTTP/1.1 keep-alive connections at most (opened as needed).
    /// Requests beyond them wait for one, which caps the rate at `connections / latency` (Little's
    /// law): 1,024 carries 10,000 TPS at 100 ms. HTTP/2 (`http2`) carries them on one shared
    /// connection per 100.
    pub connections: usize,
    /// Per-request timeout.
    #[serde(with = "crate::duration_serde")]
    pub timeout: Duration,
    /// Requests in flight at most; past it, arrivals are counted as dropped.
    pub max_in_flight: usize,
    /// HTTP method of every request (default `POST`).
    #[serde(skip_serializing_if = "is_post")]
    pub method: String,
    /// Extra request headers (`[target.headers]`, for example an API key). Values may name
    /// environment variables, `"Bearer ${API_TOKEN}"`, expanded when the scenario loads
    /// ([`TargetSpec::expand_headers`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderValueSpec>,
    /// The request's `Content-Type` (default `application/json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Request body template (`body_template` in older files): `{{transaction}}` stands for the
    /// transaction's JSON, `{{amount}}`, `{{card_id}}` and the other field names for one value each
    /// (docs/targets.md lists them). Default: the transaction's JSON alone.
    #[serde(alias = "body_template", skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// JSON pointer to the decision in the answer (default `/decision`).
    pub decision_pointer: String,
    /// JSON pointer to the risk score in the answer (default `/risk_score`).
    pub score_pointer: String,
    /// Built-in target: the card history its detector learns before the run, as a period of the
    /// stream's time (default [`DEFAULT_WARM_UP`]; `"0s"` for a cold start). See `docs/results.md`.
    #[serde(with = "crate::duration_serde")]
    pub warm_up: Duration,
    /// `[target.response]`: decision and score pointers, the API's decision words, score thresholds.
    #[serde(skip_serializing_if = "ResponseSpec::is_empty")]
    pub response: ResponseSpec,
    /// `[target.tls]`: how an `https://` URL is reached (roots, private CA, client certificate, SNI).
    #[serde(skip_serializing_if = "TlsSpec::is_default")]
    pub tls: TlsSpec,
    /// A Prometheus text endpoint of the system under test (for example
    /// `http://127.0.0.1:8080/metrics`), scraped at every tick: its `process_cpu_seconds_total` and
    /// `process_resident_memory_bytes` become the target's CPU and memory in the ticks and the
    /// summary (`target_resources`), and drive the `moderate` degradation level and the
    /// `target_cpu` alert. A failed scrape is counted and shown, never fatal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_url: Option<String>,
    /// Gauges of `metrics_url` to follow by name (for example `["queue_depth"]`), each the sum of
    /// its series, added to the ticks and the report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// Cores of the system under test, to turn its CPU (percent of one core) into percent of its
    /// machine for the `moderate` level and the `target_cpu` alert. Default: this machine's cores,
    /// right for a target on loopback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<f64>,
    /// HTTP/2 for an `http` target (`http2 = "auto"`, the default): `auto` speaks HTTP/2 over
    /// `https://` when the server chooses it by ALPN and HTTP/1.1 otherwise; `never` keeps HTTP/1.1;
    /// `always` requires HTTP/2 (refused by ALPN is a `tls` error; over `http://`, HTTP/2 with prior
    /// knowledge, "h2c"). With HTTP/2, `connections` still bounds the requests in flight, carried
    /// by one shared connection per 100 of them.
    #[serde(skip_serializing_if = "Http2Mode::is_auto")]
    pub http2: Http2Mode,
    /// The HTTP/1.1 client of an `http` target (`engine = "lean"`, the default): `lean` is the
    /// purpose-built HTTP/1.1 client (answers parsed by httparse, nothing allocated per exchange),
    /// `hyper` is hyper's client. HTTP/2 connections always use hyper, whichever is set.
    #[serde(skip_serializing_if = "HttpEngine::is_default")]
    pub engine: HttpEngine,
}

/// The HTTP/1.1 client an `http` target sends with ([`TargetSpec::engine`]).
///
/// ```
/// use models::HttpEngine;
/// assert_eq!("lean".parse::<HttpEngine>().unwrap(), HttpEngine::Lean);
/// assert!("fast".parse::<HttpEngine>().unwrap_err().to_string().contains("hyper or lean"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpEngine {
    /// hyper's client.
    Hyper,
    /// The purpose-built HTTP/1.1 client (httparse), the default; HTTP/2 connections use hyper.
    #[default]
    Lean,
}

impl HttpEngine {
    pub const ALL: [HttpEngine; 2] = [HttpEngine::Hyper, HttpEngine::Lean];

    /// The word in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpEngine::Hyper => "hyper",
            HttpEngine::Lean => "lean",
        }
    }

    /// True for the default (the key is then left out of written scenarios).
    pub fn is_default(&self) -> bool {
        *self == HttpEngine::default()
    }
}

impl fmt::Display for HttpEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HttpEngine {
    type Err = HttpEngineError;
    fn from_str(s: &str) -> Result<Self, HttpEngineError> {
        let word = s.trim().to_ascii_lowercase();
        HttpEngine::ALL
            .into_iter()
            .find(|e| e.as_str() == word)
            .ok_or_else(|| HttpEngineError {
                given: s.to_owned(),
            })
    }
}

/// An `engine` setting that is not one of the two words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown engine {given:?}: write hyper or lean (hyper: hyper's HTTP client; lean: the \
     purpose-built HTTP/1.1 client)"
)]
pub struct HttpEngineError {
    pub given: String,
}

/// Whether an HTTP target speaks HTTP/2 ([`TargetSpec::http2`]).
///
/// ```
/// use models::Http2Mode;
/// assert_eq!("always".parse::<Http2Mode>().unwrap(), Http2Mode::Always);
/// assert!("yes".parse::<Http2Mode>().unwrap_err().to_string().contains("auto, never or always"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Http2Mode {
    /// HTTP/2 when the server chooses it by ALPN (`https://` only), HTTP/1.1 otherwise.
    #[default]
    Auto,
    /// HTTP/1.1 always.
    Never,
    /// HTTP/2 always: by ALPN over `https://`, with prior knowledge (h2c) over `http://`.
    Always,
}

impl Http2Mode {
    pub const ALL: [Http2Mode; 3] = [Http2Mode::Auto, Http2Mode::Never, Http2Mode::Always];

    /// The word in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Http2Mode::Auto => "auto",
            Http2Mode::Never => "never",
            Http2Mode::Always => "always",
        }
    }

    /// True for the default (the key is then left out of written scenarios).
    pub fn is_auto(&self) -> bool {
        *self == Http2Mode::Auto
    }
}

impl fmt::Display for Http2Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Http2Mode {
    type Err = Http2ModeError;
    fn from_str(s: &str) -> Result<Self, Http2ModeError> {
        let word = s.trim().to_ascii_lowercase();
        Http2Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == word)
            .ok_or_else(|| Http2ModeError {
                given: s.to_owned(),
            })
    }
}

/// An `http2` setting that is not one of the three words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown http2 setting {given:?}: write auto, never or always (auto: HTTP/2 when the server \
     offers it by ALPN, HTTP/1.1 otherwise)"
)]
pub struct Http2ModeError {
    pub given: String,
}

/// `[target.tls]`: the TLS settings of an `https://` target. Every field is optional; with none, the
/// server's certificate is checked against the platform's trusted roots and the URL's host name.
///
/// ```
/// let spec: models::TargetSpec = toml::from_str(r#"
/// kind = "http"
/// url = "https://127.0.0.1:8443/v1/score"
/// [tls]
/// ca_file = "certs/private-ca.pem"
/// server_name = "fraud.internal"
/// "#).unwrap();
/// assert_eq!(spec.tls.server_name.as_deref(), Some("fraud.internal"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSpec {
    /// PEM file of CA certificates to trust (a private CA), in addition to the platform's roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM file with the client certificate (and its chain) for mutual TLS; needs `client_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// PEM file with the client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// The name sent as SNI and checked against the server's certificate, when it is not the URL's
    /// host (for example when the URL names an IP address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

impl TlsSpec {
    /// True when nothing is set (the table is then left out of written scenarios).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How much card history the built-in detector learns before a run: four hours of the population's
/// everyday purchases (about four per customer at the orchestrator's one per customer per hour), so
/// that short runs measure the detector under load, not an empty card cache.
pub const DEFAULT_WARM_UP: Duration = Duration::from_secs(4 * 3600);

impl Default for TargetSpec {
    fn default() -> Self {
        Self {
            kind: TargetKind::Builtin,
            url: None,
            capacity: None,
            connections: 1024,
            timeout: Duration::from_secs(5),
            max_in_flight: 10_000,
            method: "POST".into(),
            headers: BTreeMap::new(),
            content_type: None,
            body: None,
            decision_pointer: "/decision".into(),
            score_pointer: "/risk_score".into(),
            response: ResponseSpec::default(),
            tls: TlsSpec::default(),
            http2: Http2Mode::Auto,
            engine: HttpEngine::Lean,
            warm_up: DEFAULT_WARM_UP,
            metrics_url: None,
            metrics: Vec::new(),
            cores: None,
        }
    }
}

impl TargetSpec {
    /// Expands the `${NAME}` references in the header values with `lookup` (the binary passes one
    /// over the process environment, tests a map). An unset variable is an error naming it and the
    /// header.
    pub fn expand_headers(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), HeaderEnvError> {
        for (name, value) in &mut self.headers {
            value.expand(name, &lookup)?;
        }
        Ok(())
    }
}

fn is_post(method: &str) -> bool {
    method == "POST"
}

/// Shares of the transaction mix; they must add up to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MixSpec {
    pub legit: f64,
    pub fraud: f64,
    pub edge: f64,
}

impl Default for MixSpec {
    fn default() -> Self {
        Self {
            legit: 0.80,
            fraud: 0.15,
            edge: 0.05,
        }
    }
}

impl MixSpec {
    /// The mix for people, with the fraud share first because the money figures scale with it:
    /// `15% fraud, 5% edge cases, synthetic`.
    ///
    /// ```
    /// assert_eq!(models::MixSpec::default().describe(), "15% fraud, 5% edge cases, synthetic");
    /// ```
    pub fn describe(&self) -> String {
        let pct = |v: f64| {
            let t = format!("{:.1}", v * 100.0);
            t.strip_suffix(".0").map(str::to_owned).unwrap_or(t)
        };
        let mut out = format!("{}% fraud", pct(self.fraud));
        if self.edge > 0.0 {
            out.push_str(&format!(", {}% edge cases", pct(self.edge)));
        }
        out.push_str(", synthetic");
        out
    }

    /// Checks the shares are in 0..=1 and add up to 1 (within 1e-6).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("legit", self.legit),
            ("fraud", self.fraud),
            ("edge", self.edge),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("mix.{name} = {v} must be between 0 and 1"));
            }
        }
        let sum = self.legit + self.fraud + self.edge;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("mix shares add up to {sum}, they must add up to 1"));
        }
        Ok(())
    }
}

/// Safeguards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Hard ceiling on the send rate, whatever the profile says.
    pub max_tps: f64,
    /// The run stops itself after this long.
    #[serde(with = "crate::duration_serde")]
    pub max_duration: Duration,
    /// Stop when the cost model's running cost reaches this (reporting currency); warn at
    /// `[resilience] warning_budget_used` (80%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tps: 60_000.0,
            max_duration: Duration::from_secs(4 * 3600),
            budget: None,
        }
    }
}

/// The `[aws]` table: CloudWatch and X-Ray settings and the system's resources to read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSpec {
    pub cloudwatch: bool,
    pub xray: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    pub lambda_functions: Vec<String>,
    pub dynamodb_tables: Vec<String>,
    pub kinesis_streams: Vec<String>,
    pub bedrock_models: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xray_filter: Option<String>,
    /// Emit an X-Ray segment (with a subsegment per agent) for a sample of the synthetic transactions,
    /// so that runs show beside production traces.
    pub emit_segments: bool,
    /// Share of transactions emitted as segments (0 to 1); default 0.01.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_sample_rate: Option<f64>,
}

/// The `[resilience]` table: how ticks are judged while faults (or overload) hurt the target. Every
/// figure has the default of the monitoring design; `None` turns a rule off (from TOML, where a key left
/// out takes its default, set the threshold out of reach instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceSpec {
    /// Degradation `moderate` above this target CPU (percent of its cores).
    pub moderate_target_cpu_pct: Option<f64>,
    /// Degradation `severe` above this p99 (ms, from the intended send).
    pub severe_p99_ms: Option<f64>,
    /// Degradation `critical` above this error rate (0..1), or when nothing succeeds.
    pub critical_error_rate: Option<f64>,
    /// Alert `warning` thresholds: error rate (0..1), p99 (ms), resource use (%), share of
    /// `limits.budget` spent (0..1; also when the `budget_warning` event comes).
    pub warning_error_rate: Option<f64>,
    pub warning_p99_ms: Option<f64>,
    pub warning_resource_pct: Option<f64>,
    pub warning_budget_used: Option<f64>,
    /// Alert `critical` thresholds (and "target unavailable", always on).
    pub critical_alert_error_rate: Option<f64>,
    pub critical_p99_ms: Option<f64>,
    /// Share of the budget spent (0..1) for the critical alert; the run stops at 1 whatever this says.
    pub critical_budget_used: Option<f64>,
    /// Recovered = throughput no more than this share below the baseline (more is fine)...
    pub recovery_tps_tolerance: f64,
    /// ...error rate at most the baseline's plus this (0..1)...
    pub recovery_error_rate_points: f64,
    /// ...p99 at most this multiple of the baseline's (or the baseline's + `recovery_p99_slack_ms`)...
    pub recovery_p99_factor: f64,
    pub recovery_p99_slack_ms: f64,
    /// ...for this many ticks in a row.
    pub recovery_ticks: u32,
    /// Back the load off (halve it) at critical degradation and restore it step by step after.
    pub adaptive: bool,
    /// Stop the run when the error rate stays above this (0..1)...
    pub abort_error_rate: Option<f64>,
    /// ...for this many ticks in a row.
    pub abort_error_ticks: u32,
    /// Stop the run after this many ticks in a row with nothing served.
    pub abort_unavailable_ticks: Option<u32>,
    /// Post alerts as JSON to this URL (loopback unless the run allows remote targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

impl Default for ResilienceSpec {
    fn default() -> Self {
        Self {
            moderate_target_cpu_pct: Some(90.0),
            severe_p99_ms: Some(5_000.0),
            critical_error_rate: Some(0.10),
            warning_error_rate: Some(0.001),
            warning_p99_ms: Some(5_000.0),
            warning_resource_pct: Some(80.0),
            warning_budget_used: Some(0.8),
            critical_alert_error_rate: Some(0.01),
            critical_p99_ms: Some(10_000.0),
            critical_budget_used: Some(1.0),
            recovery_tps_tolerance: 0.10,
            recovery_error_rate_points: 0.01,
            recovery_p99_factor: 1.5,
            recovery_p99_slack_ms: 5.0,
            recovery_ticks: 3,
            adaptive: false,
            abort_error_rate: Some(0.5),
            abort_error_ticks: 10,
            abort_unavailable_ticks: Some(30),
            webhook: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TargetInfo;

    #[test]
    fn a_kind_has_one_name_in_scenario_files_summaries_and_from_str() {
        for kind in TargetKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(kind.as_str().parse::<TargetKind>(), Ok(kind));
            assert_eq!(
                kind.as_str().replace('_', "-").parse::<TargetKind>(),
                Ok(kind)
            );
            let info = TargetInfo::new(kind, None);
            assert_eq!(info.kind, kind.as_str());
            assert_eq!(info.target_kind(), Some(kind));
        }
        let embedders = TargetInfo {
            kind: "closure".into(),
            url: None,
            protocol: None,
        };
        assert_eq!(embedders.target_kind(), None);
    }

    #[test]
    fn a_target_ref_is_a_kind_name_or_a_url() {
        let url = "http://127.0.0.1:9/v1/score";
        assert_eq!(
            url.parse::<TargetRef>(),
            Ok(TargetRef {
                kind: TargetKind::Http,
                url: Some(url.into())
            })
        );
        assert_eq!(
            " builtin ".parse::<TargetRef>(),
            Ok(TargetRef {
                kind: TargetKind::Builtin,
                url: None
            })
        );
        assert_eq!(
            "http".parse::<TargetRef>(),
            Err(TargetParseError::UrlMissing)
        );
        let err = "builtn".parse::<TargetRef>().unwrap_err();
        assert_eq!(
            err,
            TargetParseError::UnknownKind {
                given: "builtn".into()
            }
        );
        assert!(err.to_string().contains("in_process"), "{err}");
        for text in ["builtin", "in_process", url] {
            assert_eq!(text.parse::<TargetRef>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn request_keys_read_expand_and_write_back_without_secrets() {
        let text = r#"
kind = "http"
url = "http://127.0.0.1:9/score"
method = "PUT"
content_type = "application/vnd.acme+json"
body_template = '{"ref": {{id}}}'
[headers]
Authorization = "Bearer ${API_TOKEN}"
"#;
        let mut spec: TargetSpec = toml::from_str(text).unwrap();
        assert_eq!(spec.method, "PUT");
        assert_eq!(spec.body.as_deref(), Some(r#"{"ref": {{id}}}"#));
        let err = spec.clone().expand_headers(|_| None).unwrap_err();
        assert_eq!(
            err,
            HeaderEnvError::Unset {
                header: "Authorization".into(),
                variable: "API_TOKEN".into()
            }
        );
        spec.expand_headers(|n| (n == "API_TOKEN").then(|| "s3cr3t".into()))
            .unwrap();
        assert_eq!(spec.headers["Authorization"].value(), "Bearer s3cr3t");
        assert!(!format!("{spec:?}").contains("s3cr3t"));
        let written = toml::to_string(&spec).unwrap();
        assert!(
            !written.contains("s3cr3t") && written.contains("${API_TOKEN}"),
            "{written}"
        );
        // `body_template` is written back as `body`, which reads again.
        let back: TargetSpec = toml::from_str(&written).unwrap();
        assert_eq!(back.body, spec.body);
        assert!(back.headers["Authorization"].needs_expansion());
        // A file that uses none of the request keys writes none of them.
        let plain = toml::to_string(&TargetSpec::default()).unwrap();
        for key in [
            "method",
            "headers",
            "content_type",
            "body",
            "http2",
            "engine",
        ] {
            assert!(!plain.contains(key), "{key} in {plain}");
        }
    }

    #[test]
    fn engines_read_in_any_case_and_refuse_other_words_listing_both() {
        assert_eq!(" LEAN ".parse::<HttpEngine>(), Ok(HttpEngine::Lean));
        for engine in HttpEngine::ALL {
            assert_eq!(engine.to_string().parse::<HttpEngine>(), Ok(engine));
        }
        let err = "fast".parse::<HttpEngine>().unwrap_err().to_string();
        assert!(
            err.contains("\"fast\"") && err.contains("hyper or lean"),
            "{err}"
        );
        let spec: TargetSpec = toml::from_str("kind = \"http\"\nengine = \"hyper\"").unwrap();
        assert_eq!(spec.engine, HttpEngine::Hyper);
        assert!(
            toml::to_string(&spec)
                .unwrap()
                .contains("engine = \"hyper\"")
        );
        let spec: TargetSpec = toml::from_str("kind = \"http\"").unwrap();
        assert_eq!(spec.engine, HttpEngine::Lean, "lean is the default");
        assert!(toml::from_str::<TargetSpec>("engine = \"fast\"").is_err());
    }

    #[test]
    fn http2_modes_read_in_any_case_and_refuse_other_words_listing_the_three() {
        assert_eq!("auto".parse::<Http2Mode>(), Ok(Http2Mode::Auto));
        assert_eq!(" Never ".parse::<Http2Mode>(), Ok(Http2Mode::Never));
        assert_eq!("ALWAYS".parse::<Http2Mode>(), Ok(Http2Mode::Always));
        for mode in Http2Mode::ALL {
            assert_eq!(mode.to_string().parse::<Http2Mode>(), Ok(mode));
        }
        let err = "h2".parse::<Http2Mode>().unwrap_err().to_string();
        assert!(
            err.contains("\"h2\"") && err.contains("auto, never or always"),
            "{err}"
        );
        assert_eq!(Http2Mode::default(), Http2Mode::Auto);
    }

    #[test]
    fn http2_round_trips_through_toml_and_the_default_is_not_written() {
        let spec: TargetSpec = toml::from_str(
            r#"
            kind = "http"
            url = "https://127.0.0.1:8443/v1/score"
            http2 = "always"
            "#,
        )
        .unwrap();
        assert_eq!(spec.http2, Http2Mode::Always);
        let written = toml::to_string(&spec).unwrap();
        assert!(written.contains("http2 = \"always\""), "{written}");
        let back: TargetSpec = toml::from_str(&written).unwrap();
        assert_eq!(back, spec);
        let auto = TargetSpec {
            http2: Http2Mode::Auto,
            ..spec
        };
        assert!(!toml::to_string(&auto).unwrap().contains("http2"));
        let err = toml::from_str::<TargetSpec>("http2 = \"maybe\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("auto") && err.contains("always"), "{err}");
    }

    #[test]
    fn applying_a_kind_name_keeps_the_specs_url() {
        let mut spec = TargetSpec {
            kind: TargetKind::Http,
            url: Some("http://127.0.0.1:9/".into()),
            ..TargetSpec::default()
        };
        "in-process"
            .parse::<TargetRef>()
            .unwrap()
            .apply_to(&mut spec);
        assert_eq!(spec.kind, TargetKind::InProcess);
        assert_eq!(spec.url.as_deref(), Some("http://127.0.0.1:9/"));
        "http://127.0.0.1:8/"
            .parse::<TargetRef>()
            .unwrap()
            .apply_to(&mut spec);
        assert_eq!(spec.kind, TargetKind::Http);
        assert_eq!(spec.url.as_deref(), Some("http://127.0.0.1:8/"));
    }
}

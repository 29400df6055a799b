//! `summary.json`: the figures of a whole run. The schema is documented in `docs/results.md`.

use crate::cost::CostModel;
use crate::criteria::Comparison;
use crate::fault::FaultKind;
use crate::scenario::{MixSpec, TargetKind};
use crate::snapshot::{AgentStats, Confusion, EncodedHistograms, Percentiles};
use crate::state::DegradationLevel;
use crate::transaction::Currency;
use crate::uptime::UptimeRule;
use crate::verdict::ErrorKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub run_id: String,
    pub scenario: String,
    pub seed: u64,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub duration_s: f64,
    pub target: TargetInfo,
    /// The transaction mix the factory was configured with (the scenario's `[mix]`): the traffic is
    /// synthetic, and the money figures scale with its fraud share. Absent in files written before
    /// it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<MixSpec>,
    pub load: LoadSummary,
    /// From the intended send time (includes queueing behind a slow system).
    pub latency_ms: Percentiles,
    /// From the actual send time.
    pub service_time_ms: Percentiles,
    pub errors: ErrorSummary,
    pub fraud: FraudSummary,
    pub business: BusinessSummary,
    pub agents: Vec<AgentStats>,
    pub resilience: ResilienceSummary,
    /// The generator process's own resources over the run (from the ticks' samples).
    #[serde(default)]
    pub generator: GeneratorSummary,
    /// The target's own resources, read from its `metrics_url` at each tick; absent when the
    /// scenario names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resources: Option<TargetResources>,
    pub criteria: Vec<CriterionResult>,
    pub passed: bool,
    /// Why the run ended: `completed`, `stopped`, `interrupted`, `aborted: ...`, `budget`, `max_duration`.
    #[serde(default)]
    pub end_reason: String,
    /// Segment `i/n` for a distributed worker, absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Whole-run histograms, for exact merging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<EncodedHistograms>,
}

/// What a run was pointed at, as `summary.json` records it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The [`TargetKind`]'s name ([`TargetKind::as_str`]: `builtin`, `in_process`, `http`) for the
    /// targets fraudstress sets up; a target an embedder supplies names its own (`closure` for the
    /// targets crate's closure target). A string rather than the enum for that reason.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The HTTP version the run's connections spoke (`HTTP/1.1`, `HTTP/2`), for an HTTP target that
    /// opened one; absent otherwise and in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

impl TargetInfo {
    /// The description of a target of `kind`: the only way fraudstress writes a kind's name here.
    pub fn new(kind: TargetKind, url: Option<String>) -> Self {
        Self {
            kind: kind.as_str().to_owned(),
            url,
            protocol: None,
        }
    }

    /// The kind, when it is one of fraudstress's own (`None` for an embedder's target).
    pub fn target_kind(&self) -> Option<TargetKind> {
        self.kind.parse().ok()
    }

    /// What was tested, for people: the built-in reference service, the in-process reference
    /// pipeline, or an HTTP API by its URL's host (never its path or credentials).
    ///
    /// ```
    /// use models::{TargetInfo, TargetKind};
    /// let t = TargetInfo::new(TargetKind::Http, Some("https://user:pw@api.example.com:8443/v1/score".into()));
    /// assert_eq!(t.describe(), "api.example.com:8443");
    /// let b = TargetInfo::new(TargetKind::Builtin, Some("http://127.0.0.1:4000/score".into()));
    /// assert_eq!(b.describe(), "the built-in reference service (fraud-sim)");
    /// let h2 = TargetInfo { protocol: Some("HTTP/2".into()), ..t };
    /// assert_eq!(h2.describe(), "api.example.com:8443 over HTTP/2");
    /// ```
    pub fn describe(&self) -> String {
        match self.target_kind() {
            Some(TargetKind::Builtin) => "the built-in reference service (fraud-sim)".into(),
            Some(TargetKind::InProcess) => "the built-in reference pipeline, in process".into(),
            // A team's API: how it was spoken to is part of what was tested.
            _ => {
                let what = match self.url.as_deref().and_then(url_host) {
                    Some(host) => host.to_owned(),
                    None => format!("a {} target", self.kind),
                };
                match &self.protocol {
                    Some(p) => format!("{what} over {p}"),
                    None => what,
                }
            }
        }
    }
}

/// The `host[:port]` of a URL: after the scheme, before the path, without user information.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then_some(host)
}

/// The generator process's resources over a run, from the per-tick samples of `/proc/self`
/// (`resources.generator` in each tick). Every figure is `None` when no tick was sampled (a platform
/// without `/proc`, or a run shorter than a tick). With the built-in target the process is the
/// generator and the target together.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GeneratorSummary {
    /// Largest resident set size sampled, in MiB.
    pub peak_rss_mb: Option<f64>,
    /// Growth of the resident set after warm-up, in %: mean RSS over the run's last tenth of ticks
    /// ÷ mean RSS over its second tenth − 1, × 100. The first tenth (allocator growth, pools and
    /// caches filling) is the warm-up and is left out. `None` with fewer than 3 sampled ticks.
    pub rss_growth_pct: Option<f64>,
    /// Largest CPU use sampled, in % of one core.
    pub max_cpu_pct: Option<f64>,
}

impl GeneratorSummary {
    /// The figures over `ticks` (formulas on the fields); only ticks with a sample count.
    pub fn from_ticks<'a>(ticks: impl IntoIterator<Item = &'a crate::IntervalSnapshot>) -> Self {
        let sampled: Vec<&crate::ProcessSample> = ticks
            .into_iter()
            .map(|t| &t.resources.generator)
            .filter(|g| g.rss_bytes > 0)
            .collect();
        let mean_rss = |xs: &[&crate::ProcessSample]| {
            xs.iter().map(|g| g.rss_bytes as f64).sum::<f64>() / xs.len() as f64
        };
        // The second tenth (the first after warm-up) and the last tenth, at least one tick each.
        let after_warm_up = (sampled.len() >= 3).then(|| {
            let n = (sampled.len() / 10).max(1);
            (&sampled[n..2 * n], &sampled[sampled.len() - n..])
        });
        Self {
            peak_rss_mb: sampled
                .iter()
                .map(|g| g.rss_bytes)
                .max()
                .map(|b| b as f64 / (1024.0 * 1024.0)),
            rss_growth_pct: after_warm_up
                .map(|(base, last)| (mean_rss(last) / mean_rss(base) - 1.0) * 100.0),
            max_cpu_pct: sampled.iter().map(|g| g.cpu_pct).reduce(f64::max),
        }
    }
}

/// The system under test's own CPU, memory and named gauges over a run, from the Prometheus
/// endpoint the scenario names (`[target] metrics_url`), tick by tick. What is measured is the
/// process that serves that endpoint: for a target served from the generator's own process that is
/// one process, generator and target together.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetResources {
    /// The endpoint scraped.
    pub metrics_url: String,
    /// Ticks whose scrape gave figures.
    pub scrapes: u64,
    /// Ticks whose scrape failed (unreachable, timed out, not Prometheus text).
    pub failed_scrapes: u64,
    /// The first failure's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
    /// Mean of the ticks' target CPU, in % of one core (CPU seconds over wall seconds between two
    /// scrapes, × 100).
    pub mean_cpu_pct: Option<f64>,
    /// Largest tick's target CPU, in % of one core.
    pub max_cpu_pct: Option<f64>,
    /// Largest resident set size scraped, in MiB.
    pub peak_rss_mb: Option<f64>,
    /// Each gauge of `[target] metrics`: its last and largest value over the ticks that had it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gauges: BTreeMap<String, GaugeSummary>,
}

/// One followed gauge over a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GaugeSummary {
    pub last: f64,
    pub max: f64,
}

impl TargetResources {
    /// The figures over `ticks` scraped from `metrics_url` (formulas on the fields). A tick counts
    /// as a scrape when it carries a target sample, as a failure when it carries a scrape error.
    pub fn from_ticks<'a>(
        metrics_url: &str,
        ticks: impl IntoIterator<Item = &'a crate::IntervalSnapshot>,
    ) -> Self {
        let mut out = Self {
            metrics_url: metrics_url.to_owned(),
            ..Self::default()
        };
        let mut cpu_sum = 0.0;
        for tick in ticks {
            if let Some(reason) = &tick.target_scrape_error {
                out.failed_scrapes += 1;
                out.first_failure.get_or_insert_with(|| reason.clone());
            }
            if let Some(t) = &tick.resources.target {
                out.scrapes += 1;
                cpu_sum += t.cpu_pct;
                out.max_cpu_pct = Some(out.max_cpu_pct.map_or(t.cpu_pct, |m| m.max(t.cpu_pct)));
                let mb = t.rss_bytes as f64 / (1024.0 * 1024.0);
                out.peak_rss_mb = Some(out.peak_rss_mb.map_or(mb, |m| m.max(mb)));
            }
            for (name, &v) in &tick.target_metrics {
                let g = out
                    .gauges
                    .entry(name.clone())
                    .or_insert(GaugeSummary { last: v, max: v });
                g.last = v;
                g.max = g.max.max(v);
            }
        }
        out.mean_cpu_pct = (out.scrapes > 0).then(|| cpu_sum / out.scrapes as f64);
        out
    }

    /// One line for people: CPU, memory and how the scrapes went.
    ///
    /// ```
    /// let t = models::TargetResources {
    ///     metrics_url: "http://127.0.0.1:8080/metrics".into(), scrapes: 58, failed_scrapes: 2,
    ///     first_failure: Some("timed out".into()), mean_cpu_pct: Some(41.5), max_cpu_pct: Some(88.0),
    ///     peak_rss_mb: Some(212.4), ..Default::default()
    /// };
    /// assert_eq!(t.describe(), "CPU 42% of a core on average, up to 88%; peak RSS 212 MiB; \
    ///     58 of 60 scrapes read (first failure: timed out)");
    /// ```
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let (Some(mean), Some(max)) = (self.mean_cpu_pct, self.max_cpu_pct) {
            parts.push(format!(
                "CPU {mean:.0}% of a core on average, up to {max:.0}%"
            ));
        }
        if let Some(mb) = self.peak_rss_mb {
            parts.push(format!("peak RSS {mb:.0} MiB"));
        }
        let total = self.scrapes + self.failed_scrapes;
        let mut scrapes = format!("{} of {total} scrapes read", self.scrapes);
        if let Some(first) = &self.first_failure {
            scrapes.push_str(&format!(" (first failure: {first})"));
        }
        parts.push(scrapes);
        parts.join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoadSummary {
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    /// Arrivals not sent because the in-flight bound was reached.
    pub dropped: u64,
    /// Arrivals shed by the `max_tps` ceiling (never sent, not errors).
    #[serde(default)]
    pub dropped_ceiling: u64,
    pub target_tps_avg: f64,
    pub achieved_tps_avg: f64,
    pub peak_tps: f64,
}

impl LoadSummary {
    /// Arrivals that came due and were not sent: `dropped + dropped_ceiling` (the in-flight bound's
    /// drops and the ceiling's sheds), so that `sent + not_sent = scheduled`.
    pub fn not_sent(&self) -> u64 {
        self.dropped.saturating_add(self.dropped_ceiling)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorSummary {
    /// Requests that were sent and did not end in a verdict (dropped ones are in `load.dropped`).
    pub total: u64,
    /// `total / sent`.
    pub rate: f64,
    pub by_kind: BTreeMap<ErrorKind, u64>,
    /// The first few errors of each kind as the target gave them (at most
    /// [`ErrorSample::KEPT_PER_KIND`]), so that a reader sees what the API said.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<ErrorKind, Vec<ErrorSample>>,
}

/// One error as the target gave it: the HTTP status, why it counts as an error, and the start of the
/// answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct ErrorSample {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub reason: String,
    /// The answer's first [`ErrorSample::MAX_ANSWER_BYTES`] bytes (invalid UTF-8 replaced), empty
    /// when there was no answer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub answer: String,
}

impl ErrorSample {
    /// Samples kept per error kind.
    pub const KEPT_PER_KIND: usize = 5;
    /// The longest answer kept, in bytes: enough to see an error message, not a whole page.
    pub const MAX_ANSWER_BYTES: usize = 300;

    /// A sample with the answer cut to [`Self::MAX_ANSWER_BYTES`] (on a character boundary).
    ///
    /// ```
    /// let s = models::ErrorSample::new(Some(401), "HTTP 401".into(), "é".repeat(200).as_bytes());
    /// assert!(s.answer.len() <= models::ErrorSample::MAX_ANSWER_BYTES);
    /// assert!(s.answer.starts_with('é'));
    /// ```
    pub fn new(status: Option<u16>, reason: String, answer: &[u8]) -> Self {
        let text = String::from_utf8_lossy(&answer[..answer.len().min(Self::MAX_ANSWER_BYTES + 4)]);
        let mut end = text.len().min(Self::MAX_ANSWER_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            status,
            reason,
            answer: text[..end].to_owned(),
        }
    }

    /// Adds `more` to `into`, keeping per kind the [`Self::KEPT_PER_KIND`] smallest samples (their
    /// order): the same result whatever order segments are merged in.
    pub fn merge(
        into: &mut BTreeMap<ErrorKind, Vec<ErrorSample>>,
        more: &BTreeMap<ErrorKind, Vec<ErrorSample>>,
    ) {
        for (kind, samples) in more {
            let kept = into.entry(*kind).or_default();
            kept.extend(samples.iter().cloned());
            kept.sort();
            kept.dedup();
            kept.truncate(Self::KEPT_PER_KIND);
        }
    }
}

/// Detection figures of a run. `tp`, `fp`, `tn`, `fn` and the ratios over them count answered
/// transactions; `unscored` and `recall_effective` add the fraud that got no verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "FraudSummaryFile")]
pub struct FraudSummary {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Fraud transactions that got no verdict (an error, a timeout, dropped at the in-flight bound).
    pub unscored: u64,
    pub precision: f64,
    /// `tp / (tp + fn)`: the detector's quality on the fraud it answered.
    pub recall: f64,
    /// `tp / (tp + fn + unscored)`: the share of all fraud caught when a payment flow lets through
    /// what was not judged (fails open).
    pub recall_effective: f64,
    pub accuracy: f64,
    pub f1: f64,
    /// Caught fraud, converted to `currency`.
    pub prevented_amount: f64,
    /// Legitimate transactions declined, converted to `currency`.
    pub false_decline_amount: f64,
    pub currency: Currency,
    /// Detection rate (recall) per fraud pattern; false-positive rate per edge kind and for `legit`.
    #[serde(default)]
    pub per_pattern: BTreeMap<String, PatternSummary>,
}

/// `FraudSummary` as files hold it: files written before `unscored` existed have neither it nor
/// `recall_effective`; they read as no unscored fraud, `recall_effective` recomputed from the counts.
#[derive(Deserialize)]
struct FraudSummaryFile {
    tp: u64,
    fp: u64,
    tn: u64,
    #[serde(rename = "fn")]
    fn_: u64,
    #[serde(default)]
    unscored: u64,
    precision: f64,
    recall: f64,
    #[serde(default)]
    recall_effective: Option<f64>,
    accuracy: f64,
    f1: f64,
    prevented_amount: f64,
    false_decline_amount: f64,
    currency: Currency,
    #[serde(default)]
    per_pattern: BTreeMap<String, PatternSummary>,
}

impl From<FraudSummaryFile> for FraudSummary {
    fn from(f: FraudSummaryFile) -> Self {
        let counted = Confusion {
            tp: f.tp,
            fn_: f.fn_,
            unscored: f.unscored,
            ..Confusion::default()
        };
        Self {
            recall_effective: f
                .recall_effective
                .unwrap_or_else(|| counted.recall_effective()),
            tp: f.tp,
            fp: f.fp,
            tn: f.tn,
            fn_: f.fn_,
            unscored: f.unscored,
            precision: f.precision,
            recall: f.recall,
            accuracy: f.accuracy,
            f1: f.f1,
            prevented_amount: f.prevented_amount,
            false_decline_amount: f.false_decline_amount,
            currency: f.currency,
            per_pattern: f.per_pattern,
        }
    }
}

impl Default for FraudSummary {
    fn default() -> Self {
        Self {
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
            unscored: 0,
            precision: 1.0,
            recall: 1.0,
            recall_effective: 1.0,
            accuracy: 1.0,
            f1: 1.0,
            prevented_amount: 0.0,
            false_decline_amount: 0.0,
            currency: Currency::USD,
            per_pattern: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PatternSummary {
    /// Answered transactions of the kind.
    pub count: u64,
    pub flagged: u64,
    /// `flagged / count`: detection rate for fraud, false-alarm rate for legitimate kinds.
    pub flagged_rate: f64,
    /// Fraud of the pattern that got no verdict (0, and left out of the file, for legitimate kinds).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unscored: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BusinessSummary {
    pub cost_per_txn: f64,
    pub total_cost: f64,
    /// What the false declines cost the business, in the cost model's currency:
    /// `cost_model.false_decline_cost_ratio × fraud.false_decline_amount`. 0 in files written
    /// before it existed.
    #[serde(default)]
    pub false_decline_loss: f64,
    /// Net: `(prevented − false_decline_loss − total_cost) / total_cost × 100`
    /// ([`CostModel::roi_pct`]). Files written before `false_decline_loss` existed hold the gross
    /// `(prevented − total_cost) / total_cost × 100`.
    pub roi_pct: f64,
    /// The declared inputs the figures above come from.
    pub cost_model: CostModel,
    /// The run's declared budget (`limits.budget`, in the reporting currency), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
}

impl BusinessSummary {
    /// The share of the budget spent (`total_cost / budget`), when there is a budget.
    pub fn budget_used(&self) -> Option<f64> {
        self.budget
            .filter(|b| *b > 0.0)
            .map(|b| self.total_cost / b)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResilienceSummary {
    pub faults: Vec<FaultResult>,
    /// Share of the run's time in up ticks ([`UptimeRule`]).
    pub uptime_pct: f64,
    /// The rule `uptime_pct` was judged by; absent in files written before it was recorded (which
    /// counted a tick with a single verdict as up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_rule: Option<UptimeRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    #[serde(rename = "type")]
    pub kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    pub max_level: DegradationLevel,
    /// From the fault's start to the first degraded tick; absent when it was never detected.
    pub time_to_detect_s: Option<f64>,
    /// From the fault's end to the first tick back within the baseline band; absent when it never recovered.
    pub time_to_recover_s: Option<f64>,
    /// Errors appeared in stages that were not faulted; `None` when that could not be checked (a fault
    /// not aimed at one stage, or a target that reports no per-agent timings).
    pub cascade: Option<bool>,
    #[serde(default)]
    pub baseline: Baseline,
    #[serde(default)]
    pub worst: Baseline,
}

/// Steady-state figures used to judge degradation and recovery.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub tps: f64,
    pub error_rate: f64,
    pub p99_ms: f64,
}

/// How one success criterion fared. `summary.json` holds the typed bound (`op`, `limit`) and, beside
/// it, the readable `threshold` (`"< 500"`); files written before the typed fields existed are read
/// from `threshold` alone, and files written before `outcome` existed from `passed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "CriterionResultFile", try_from = "CriterionResultFile")]
pub struct CriterionResult {
    pub name: String,
    /// How the figure is compared with `limit`.
    pub op: Comparison,
    pub limit: f64,
    pub outcome: CriterionOutcome,
}

/// A criterion's verdict, with the figure when it was measured.
#[derive(Debug, Clone, PartialEq)]
pub enum CriterionOutcome {
    Passed {
        actual: f64,
    },
    Failed {
        actual: f64,
    },
    /// The figure was not measured (`reason` says why); the criterion fails.
    NotMeasured {
        reason: String,
    },
    /// Not measured, and the scenario said `when_unmeasured = "skip"`: the run is judged without it.
    Skipped {
        reason: String,
    },
}

impl CriterionOutcome {
    /// The name `summary.json` and JUnit use: `passed`, `failed`, `not_measured`, `skipped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CriterionOutcome::Passed { .. } => "passed",
            CriterionOutcome::Failed { .. } => "failed",
            CriterionOutcome::NotMeasured { .. } => "not_measured",
            CriterionOutcome::Skipped { .. } => "skipped",
        }
    }
}

impl CriterionResult {
    /// The bound as people read it, for example `< 500`.
    pub fn threshold(&self) -> String {
        format!("{} {}", self.op.symbol(), self.limit)
    }

    /// The figure, when it was measured.
    pub fn actual(&self) -> Option<f64> {
        match self.outcome {
            CriterionOutcome::Passed { actual } | CriterionOutcome::Failed { actual } => {
                Some(actual)
            }
            CriterionOutcome::NotMeasured { .. } | CriterionOutcome::Skipped { .. } => None,
        }
    }

    /// Why the figure is missing, when it is.
    pub fn not_measured(&self) -> Option<&str> {
        match &self.outcome {
            CriterionOutcome::NotMeasured { reason } | CriterionOutcome::Skipped { reason } => {
                Some(reason)
            }
            _ => None,
        }
    }

    /// Whether the criterion lets the run pass: it held, or it was skipped as not measured.
    pub fn passed(&self) -> bool {
        matches!(
            self.outcome,
            CriterionOutcome::Passed { .. } | CriterionOutcome::Skipped { .. }
        )
    }

    /// The verdict as reports and the terminal print it: `pass`, `FAIL`, `FAIL (not measured)`,
    /// `skipped (not measured)`.
    pub fn verdict(&self) -> &'static str {
        match self.outcome {
            CriterionOutcome::Passed { .. } => "pass",
            CriterionOutcome::Failed { .. } => "FAIL",
            CriterionOutcome::NotMeasured { .. } => "FAIL (not measured)",
            CriterionOutcome::Skipped { .. } => "skipped (not measured)",
        }
    }

    /// The figure as people read it: the number, or `not measured: <why>`.
    pub fn actual_text(&self) -> String {
        match (self.actual(), self.not_measured()) {
            (Some(v), _) => format!("{v}"),
            (None, reason) => format!("not measured: {}", reason.unwrap_or_default()),
        }
    }
}

/// `CriterionResult` as `summary.json` holds it.
#[derive(Serialize, Deserialize)]
struct CriterionResultFile {
    name: String,
    threshold: String,
    #[serde(default)]
    op: Option<Comparison>,
    #[serde(default)]
    limit: Option<f64>,
    /// `null` when the figure was not measured.
    actual: Option<f64>,
    /// Whether the criterion lets the run pass (also true for a skipped one).
    passed: bool,
    #[serde(default)]
    outcome: Option<String>,
    /// Why the figure was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_measured: Option<String>,
}

impl From<CriterionResult> for CriterionResultFile {
    fn from(c: CriterionResult) -> Self {
        Self {
            threshold: c.threshold(),
            op: Some(c.op),
            limit: Some(c.limit),
            actual: c.actual(),
            passed: c.passed(),
            outcome: Some(c.outcome.as_str().to_owned()),
            not_measured: c.not_measured().map(str::to_owned),
            name: c.name,
        }
    }
}

impl TryFrom<CriterionResultFile> for CriterionResult {
    type Error = String;

    fn try_from(f: CriterionResultFile) -> Result<Self, String> {
        let (op, limit) = match (f.op, f.limit) {
            (Some(op), Some(limit)) => (op, limit),
            // Written before `op` and `limit` existed: the readable form is all there is.
            _ => parse_threshold(&f.threshold).ok_or_else(|| {
                format!(
                    "criterion {:?}: threshold {:?} is not an operator and a number (like \"< 500\"), \
                     and there are no \"op\" and \"limit\" fields; fix the summary's criteria entry",
                    f.name, f.threshold
                )
            })?,
        };
        let reason = || f.not_measured.clone().unwrap_or_default();
        let measured = |passed: bool| {
            let actual = f.actual.ok_or_else(|| {
                format!(
                    "criterion {:?}: \"actual\" is null but the outcome says it was measured; \
                     give the figure or set \"outcome\" to \"not_measured\"",
                    f.name
                )
            })?;
            Ok::<_, String>(if passed {
                CriterionOutcome::Passed { actual }
            } else {
                CriterionOutcome::Failed { actual }
            })
        };
        let outcome = match f.outcome.as_deref() {
            Some("passed") => measured(true)?,
            Some("failed") => measured(false)?,
            Some("not_measured") => CriterionOutcome::NotMeasured { reason: reason() },
            Some("skipped") => CriterionOutcome::Skipped { reason: reason() },
            // Written before `outcome` existed: every figure was a number.
            None => measured(f.passed)?,
            Some(other) => {
                return Err(format!(
                    "criterion {:?}: outcome {other:?} is not one of passed, failed, not_measured, \
                     skipped; fix the summary's criteria entry",
                    f.name
                ));
            }
        };
        Ok(Self {
            name: f.name,
            op,
            limit,
            outcome,
        })
    }
}

/// `"< 500"` → `(Lt, 500.0)`.
fn parse_threshold(text: &str) -> Option<(Comparison, f64)> {
    let (symbol, value) = text.trim().split_once(char::is_whitespace)?;
    Some((Comparison::from_symbol(symbol)?, value.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_results_keep_the_readable_threshold_beside_the_typed_bound() {
        let c = CriterionResult {
            name: "p99".into(),
            op: Comparison::Le,
            limit: 0.001,
            outcome: CriterionOutcome::Failed { actual: 0.5 },
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["threshold"], "<= 0.001");
        assert_eq!(json["op"], "<=");
        assert_eq!(json["limit"], 0.001);
        let back: CriterionResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn fraud_summaries_written_before_unscored_existed_still_load() {
        let old = r#"{"tp":6,"fp":1,"tn":90,"fn":2,"precision":0.857,"recall":0.75,"accuracy":0.97,
            "f1":0.8,"prevented_amount":10.0,"false_decline_amount":0.0,"currency":"USD",
            "per_pattern":{"velocity":{"count":8,"flagged":6,"flagged_rate":0.75}}}"#;
        let f: FraudSummary = serde_json::from_str(old).unwrap();
        assert_eq!(f.unscored, 0);
        assert_eq!(f.recall_effective, 0.75, "recomputed from the counts");
        assert_eq!(f.per_pattern["velocity"].unscored, 0);

        let new = FraudSummary {
            tp: 6,
            fn_: 2,
            unscored: 4,
            recall: 0.75,
            recall_effective: 0.5,
            ..FraudSummary::default()
        };
        let json = serde_json::to_value(&new).unwrap();
        assert_eq!(
            (json["unscored"].as_u64(), json["recall_effective"].as_f64()),
            (Some(4), Some(0.5))
        );
        assert_eq!(serde_json::from_value::<FraudSummary>(json).unwrap(), new);
    }

    #[test]
    fn criterion_results_written_before_the_typed_fields_still_load() {
        let old = r#"{"name":"latency","threshold":"< 500","actual":612.5,"passed":false}"#;
        let c: CriterionResult = serde_json::from_str(old).unwrap();
        assert_eq!((c.op, c.limit), (Comparison::Lt, 500.0));
        assert_eq!(c.threshold(), "< 500");
        assert_eq!(c.outcome, CriterionOutcome::Failed { actual: 612.5 });

        let bad = r#"{"name":"latency","threshold":"about 500","actual":1,"passed":true}"#;
        let err = serde_json::from_str::<CriterionResult>(bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("latency") && err.contains("about 500"),
            "{err}"
        );
    }

    #[test]
    fn a_criterion_on_a_figure_not_measured_says_so_and_fails() {
        let c = CriterionResult {
            name: "agents.min_health >= 80".into(),
            op: Comparison::Ge,
            limit: 80.0,
            outcome: CriterionOutcome::NotMeasured {
                reason: "the target reported no per-agent timings".into(),
            },
        };
        assert!(!c.passed() && c.actual().is_none());
        assert_eq!(c.verdict(), "FAIL (not measured)");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["outcome"], "not_measured");
        assert_eq!(json["actual"], serde_json::Value::Null);
        assert_eq!(json["passed"], false);
        assert_eq!(
            json["not_measured"],
            "the target reported no per-agent timings"
        );
        assert_eq!(serde_json::from_value::<CriterionResult>(json).unwrap(), c);

        let skipped = CriterionResult {
            outcome: CriterionOutcome::Skipped {
                reason: "no fault ran".into(),
            },
            ..c
        };
        assert!(skipped.passed() && skipped.actual().is_none());
        let json = serde_json::to_value(&skipped).unwrap();
        assert_eq!(
            (json["outcome"].as_str(), json["passed"].as_bool()),
            (Some("skipped"), Some(true))
        );
        assert_eq!(
            serde_json::from_value::<CriterionResult>(json).unwrap(),
            skipped
        );
        let bad =
            r#"{"name":"x","threshold":"< 1","actual":null,"passed":true,"outcome":"passed"}"#;
        let err = serde_json::from_str::<CriterionResult>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("null") && err.contains("\"x\""), "{err}");
    }

    #[test]
    fn old_fault_results_and_resilience_load() {
        let old = r#"{"type":"agent_crash","start_s":1.0,"end_s":2.0,"max_level":"none",
            "time_to_detect_s":null,"time_to_recover_s":null,"cascade":false}"#;
        let f: FaultResult = serde_json::from_str(old).unwrap();
        assert_eq!(f.cascade, Some(false));
        let r: ResilienceSummary =
            serde_json::from_str(r#"{"faults":[],"uptime_pct":99.0}"#).unwrap();
        assert_eq!(r.uptime_rule, None);
    }
}

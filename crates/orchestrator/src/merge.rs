//! Merging the result folders of a distributed run's workers (one per execution segment, see
//! `docs/distributed.md`) into one result folder, as if one machine had sent the whole run.
//!
//! What is exact and what is not:
//! * **Exact**: every count (scheduled, sent, completed, dropped, errors by kind, the fraud confusion
//!   matrix and its per-pattern rows), the latency and service-time percentiles (the workers' HDR
//!   histograms are merged, percentiles are never averaged), and every ratio (error rate, precision,
//!   recall, accuracy, F1, flagged rates: recomputed from the summed counts). Money, means and costs
//!   are sums of floats: equal up to float rounding. The cost model's fixed hourly part is counted
//!   once, for the longest worker's duration.
//! * **Per tick** (`intervals.jsonl`): tick `i` of every worker is merged into tick `i` of the result
//!   (the workers start at one common instant, so their ticks cover the same wall-clock second, to
//!   within the start skew each worker records in its events). With per-tick histograms (which the
//!   orchestrator always writes) the tick's percentiles are exact; without them a tick's percentiles
//!   are the largest of the workers' (an upper bound) and its mean is count-weighted. A worker with
//!   fewer ticks contributes nothing more per tick, but its cumulative figures carry on.
//! * **Bounds**: an agent's merged p99 is the largest of the workers' p99s; `load.peak_tps` is the
//!   highest merged per-tick completion rate (exact per tick; the pure summary merge, which sees no
//!   ticks, gives the sum of the peaks, an upper bound).
//! * **Judged again**: the success criteria are evaluated on the merged summary and ticks, and the
//!   resilience figures (uptime, fault detection and recovery) computed on the merged ticks, with the
//!   fault windows of the first worker. The run passes only when every worker completed and every
//!   criterion passes on the merged figures.
//!
//! [`merge_summaries`] (the pure merge of summaries) is associative and commutative, so workers can be
//! merged in any order and grouping. [`merge_dirs`] reads the folders, checks that they belong to one
//! run (same scenario and seed, one segment count, no segment twice, none missing unless allowed),
//! merges, and writes `summary.json`, `intervals.jsonl`, `events.jsonl`, `latency.hgrm` and
//! `workers.json` (one [`WorkerRow`] per worker, so that a slow worker shows) into the output folder.
//! Rendering `report.html` is the report crate's (`report::write_all` on the output folder).
//!
//! The folders are read with `run-files`: a damaged line of a worker's `intervals.jsonl` or
//! `events.jsonl` is skipped and becomes a note (in [`Merged::notes`] and the merged `events.jsonl`);
//! a worker whose `summary.json` is missing or unreadable, or whose line files have no readable line,
//! is refused.
//!
//! ```no_run
//! use orchestrator::merge::{MergeOptions, merge_dirs};
//! use std::path::PathBuf;
//!
//! let workers: Vec<PathBuf> = (0..3).map(|i| PathBuf::from(format!("results/run-1/seg-{i}"))).collect();
//! let merged = merge_dirs(&workers, "results/run-1/merged".as_ref(), &MergeOptions::default())?;
//! assert_eq!(merged.workers.len(), 3);
//! println!("p99 {:.1} ms over {} transactions", merged.summary.latency_ms.p99, merged.summary.load.sent);
//! # Ok::<(), orchestrator::merge::MergeError>(())
//! ```

use crate::{criteria, histogram, resilience, results, scenario_file};
use load_profiles::Segment;
use metrics_core::histogram::encode;
use metrics_core::{MetricsConfig, MetricsError, SnapshotMerger};
use models::{
    CostModel, EncodedHistograms, EventKind, IntervalSnapshot, RunEvent, ScenarioSpec, Summary,
    TargetInfo,
};
use run_files::{Folder, Lines, ReadError, WriteError, write};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use crate::load::{IDS_FILE, MAX_START_DELAY};

/// The resolved scenario a segment worker ran, written into its results folder so that a merge can
/// judge the criteria again without being told the scenario.
pub use run_files::names::SCENARIO as SCENARIO_FILE;
/// The per-worker table of a merged result.
pub use run_files::names::WORKERS as WORKERS_FILE;

/// Why a merge failed. Each says which folder or file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give at least one worker's results folder")]
    NoInputs,
    #[error("cannot read {}: {source}; is it a worker's results folder (with summary.json and intervals.jsonl)?", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("the workers are not segments of one run: {0}")]
    Inconsistent(String),
    #[error("{what}: {source}")]
    Metrics {
        what: String,
        #[source]
        source: MetricsError,
    },
    #[error("cannot write {}: {source}; check that the folder is writable", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MergeError {
    /// The exit code this error means: `Runtime` (3) when the merged folder could not be written,
    /// `Usage` (2) when the folders given are at fault.
    pub fn exit(&self) -> models::RunExit {
        match self {
            MergeError::Write { .. } => models::RunExit::Runtime,
            _ => models::RunExit::Usage,
        }
    }
}

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The scenario the workers ran, for its criteria, resilience settings and cost model. `None`: the
    /// `scenario.toml` a segment worker writes into its folder (from the first worker that has one).
    pub spec: Option<ScenarioSpec>,
    /// The merged result's run id. `None`: the workers' common run id (the smallest when they differ).
    pub run_id: Option<String>,
    /// Merge even when some segments of the run are missing (the figures are then those of the
    /// segments given, not of the whole run; a note says so).
    pub allow_missing: bool,
}

/// One worker's line in the per-worker table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    /// Its results folder.
    pub dir: String,
    /// `i/n`, absent for a whole-run folder.
    pub segment: Option<String>,
    pub run_id: String,
    pub started_at: String,
    pub end_reason: String,
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub dropped: u64,
    pub achieved_tps: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub error_rate: f64,
    /// This worker's p99 over the median of the workers' p99s: well above 1 marks a slow worker.
    pub p99_vs_median: f64,
}

/// What [`merge_dirs`] produced.
#[derive(Debug, Clone)]
pub struct Merged {
    pub dir: PathBuf,
    pub summary: Summary,
    pub workers: Vec<WorkerRow>,
    /// Things the reader should know (missing segments, a worker that did not complete, ...); also
    /// written as messages into the merged `events.jsonl`.
    pub notes: Vec<String>,
}

/// One worker's folder, read.
#[derive(Debug, Clone)]
struct Part {
    dir: PathBuf,
    summary: Summary,
    intervals: Vec<IntervalSnapshot>,
    events: Vec<RunEvent>,
    spec: Option<ScenarioSpec>,
    segment: Option<Segment>,
}

fn read_err(e: ReadError) -> MergeError {
    match e {
        ReadError::Io { path, source } => MergeError::Read { path, source },
        ReadError::Json { path, source } => MergeError::Parse {
            path,
            line: Some(source.line()),
            message: source.to_string(),
        },
        ReadError::NoReadableLine {
            path, line, source, ..
        } => MergeError::Parse {
            path,
            line: Some(line),
            message: format!("{source}; no line of the file is readable, re-run this worker"),
        },
    }
}

fn missing(path: PathBuf) -> MergeError {
    MergeError::Read {
        path,
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
    }
}

/// The records of a JSON-lines file; its damaged lines (a worker killed mid-write leaves one) are
/// skipped, and each becomes a note.
fn records<T>(path: &Path, lines: Lines<T>, notes: &mut Vec<String>) -> Vec<T> {
    notes.extend(lines.notes(&path.display().to_string()));
    lines.items
}

fn read_part(dir: &Path, notes: &mut Vec<String>) -> Result<Part, MergeError> {
    let folder = Folder::new(dir);
    let spath = folder.path(results::SUMMARY);
    let summary: Summary = match folder.summary() {
        Ok(Some(s)) => s,
        Ok(None) => return Err(missing(spath)),
        Err(ReadError::Json { path, source }) => {
            return Err(MergeError::Parse {
                path,
                line: Some(source.line()),
                message: format!(
                    "{source}; a worker writes summary.json when it ends, even when stopped"
                ),
            });
        }
        Err(e) => return Err(read_err(e)),
    };
    let ipath = folder.path(results::INTERVALS);
    let intervals = match folder.intervals().map_err(read_err)? {
        Some(lines) => records(&ipath, lines, notes),
        None => return Err(missing(ipath)),
    };
    let epath = folder.path(results::EVENTS);
    let events = match folder.events().map_err(read_err)? {
        Some(lines) => records(&epath, lines, notes),
        None => Vec::new(),
    };
    let cpath = dir.join(SCENARIO_FILE);
    let scenario_text = run_files::folder::read_bytes(&cpath)
        .map_err(read_err)?
        .map(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()));
    let spec = match scenario_text {
        Some(Err(e)) => {
            return Err(MergeError::Parse {
                path: cpath,
                line: None,
                message: format!("not UTF-8 text: {e}"),
            });
        }
        Some(Ok(t)) => Some(
            scenario_file::parse_str(&t, &cpath.display().to_string()).map_err(|e| {
                MergeError::Parse {
                    path: cpath.clone(),
                    line: None,
                    message: e.to_string(),
                }
            })?,
        ),
        None => None,
    };
    let segment = match &summary.segment {
        Some(s) => Some(s.parse::<Segment>().map_err(|e| MergeError::Parse {
            path: spath.clone(),
            line: None,
            message: format!("segment {s:?}: {e}"),
        })?),
        None => None,
    };
    Ok(Part {
        dir: dir.to_owned(),
        summary,
        intervals,
        events,
        spec,
        segment,
    })
}

/// The segments a (merged) summary covers: `None` for the whole run, else `(indices, count)`.
/// A merged part names several indices as `i,j/n`.
fn parse_cover(segment: Option<&str>) -> Result<Option<(BTreeSet<u64>, u64)>, MergeError> {
    let Some(text) = segment else {
        return Ok(None);
    };
    let bad = |m: String| MergeError::Inconsistent(format!("segment {text:?}: {m}"));
    let (list, n) = text
        .split_once('/')
        .ok_or_else(|| bad("expected i/n".into()))?;
    let n: u64 = n.trim().parse().map_err(|_| bad("bad count".into()))?;
    let mut set = BTreeSet::new();
    for i in list.split(',') {
        let i: u64 = i.trim().parse().map_err(|_| bad("bad index".into()))?;
        Segment::new(i, n).map_err(|e| bad(e.to_string()))?;
        set.insert(i);
    }
    Ok(Some((set, n)))
}

/// The union of the parts' segments, written back (`None` once it covers the whole run).
fn union_cover(parts: &[Summary]) -> Result<Option<String>, MergeError> {
    let mut union: Option<(BTreeSet<u64>, u64)> = None;
    for p in parts {
        let Some((set, n)) = parse_cover(p.segment.as_deref())? else {
            return Ok(None);
        };
        match &mut union {
            None => union = Some((set, n)),
            Some((u, m)) if *m == n => u.extend(set),
            Some((_, m)) => {
                return Err(MergeError::Inconsistent(format!(
                    "segments of {m} and of {n} workers cannot be merged: split every worker of a run the same way"
                )));
            }
        }
    }
    Ok(union.and_then(|(set, n)| {
        (set.len() as u64 != n).then(|| {
            let list: Vec<String> = set.iter().map(u64::to_string).collect();
            format!("{}/{n}", list.join(","))
        })
    }))
}

/// Set-union of `; `-separated texts, sorted: an order-free way to combine the parts' end reasons.
fn union_text<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = items
        .flat_map(|s| s.split("; "))
        .filter(|s| !s.is_empty())
        .collect();
    set.into_iter().collect::<Vec<_>>().join("; ")
}

fn target_key(t: &TargetInfo) -> (String, String) {
    (t.kind.clone(), t.url.clone().unwrap_or_default())
}

/// The pure merge of workers' summaries (or of already merged ones): counts summed, histograms
/// merged and percentiles recomputed, fraud and business figures recomputed with `cost`. Associative
/// and commutative (up to float rounding in sums). Criteria, resilience and `passed` are left for
/// [`merge_dirs`], which has the ticks to judge them on.
pub fn merge_summaries(parts: &[Summary], cost: &CostModel) -> Result<Summary, MergeError> {
    let first = parts.first().ok_or(MergeError::NoInputs)?;
    let config = MetricsConfig {
        cost: cost.clone(),
        ..MetricsConfig::default()
    };
    let mut out =
        metrics_core::merge_summaries(parts, &config).map_err(|source| MergeError::Metrics {
            what:
                "merging the workers' summaries (each needs its `histograms`, which a run writes)"
                    .into(),
            source,
        })?;
    // Order-free choices for the descriptive fields (metrics-core takes the first part's).
    let min_by = |f: fn(&Summary) -> &String| {
        parts
            .iter()
            .map(f)
            .min()
            .cloned()
            .unwrap_or_else(|| f(first).clone())
    };
    out.run_id = min_by(|s| &s.run_id);
    out.scenario = min_by(|s| &s.scenario);
    out.started_at = min_by(|s| &s.started_at);
    out.seed = parts.iter().map(|s| s.seed).min().unwrap_or(first.seed);
    out.target = parts
        .iter()
        .map(|s| &s.target)
        .min_by_key(|t| target_key(t))
        .cloned()
        .unwrap_or_default();
    // Every worker ran the same scenario, so the same mix; the first one known.
    out.mix = parts.iter().find_map(|s| s.mix);
    out.end_reason = union_text(parts.iter().map(|s| s.end_reason.as_str()));
    out.segment = union_cover(parts)?;
    Ok(out)
}

/// Tick `i` of a worker that has no more ticks: its cumulative figures carry on, its interval is empty.
fn carried(last: &IntervalSnapshot, empty_hist: &str) -> IntervalSnapshot {
    IntervalSnapshot {
        t_s: last.t_s,
        interval_s: last.interval_s,
        state: last.state,
        phase: last.phase.clone(),
        cumulative: last.cumulative.clone(),
        histograms: Some(EncodedHistograms {
            latency_us: empty_hist.to_owned(),
            service_time_us: empty_hist.to_owned(),
        }),
        ..IntervalSnapshot::default()
    }
}

/// Merges the workers' ticks by index (see the module docs).
pub fn merge_intervals(
    workers: &[Vec<IntervalSnapshot>],
    cost: &CostModel,
) -> Result<Vec<IntervalSnapshot>, MergeError> {
    let ticks = workers.iter().map(Vec::len).max().unwrap_or(0);
    let exact = workers.iter().flatten().all(|t| {
        t.histograms
            .as_ref()
            .is_some_and(|h| !h.latency_us.is_empty())
    });
    let empty = encode(&histogram::empty());
    let mut merger = SnapshotMerger::new(MetricsConfig {
        cost: cost.clone(),
        ..MetricsConfig::default()
    });
    let mut out = Vec::with_capacity(ticks);
    for i in 0..ticks {
        let parts: Vec<IntervalSnapshot> = workers
            .iter()
            .filter_map(|w| match w.get(i) {
                Some(t) => Some(t.clone()),
                None => w.last().map(|last| carried(last, &empty)),
            })
            .collect();
        let mut tick = if exact {
            merger
                .merge_tick(&parts)
                .map_err(|source| MergeError::Metrics {
                    what: format!("merging tick {}", i + 1),
                    source,
                })?
        } else {
            merger
                .merge_tick_bounded(&parts)
                .map_err(|source| MergeError::Metrics {
                    what: format!("merging tick {}", i + 1),
                    source,
                })?
        };
        // A worker past its end adds no time to the tick.
        let live: Vec<&IntervalSnapshot> = workers.iter().filter_map(|w| w.get(i)).collect();
        tick.t_s = live.iter().map(|p| p.t_s).fold(0.0, f64::max);
        out.push(tick);
    }
    Ok(out)
}

fn worker_rows(parts: &[Part]) -> Vec<WorkerRow> {
    let med = models::stats::median(parts.iter().map(|p| p.summary.latency_ms.p99).collect())
        .unwrap_or(0.0);
    parts
        .iter()
        .map(|p| {
            let s = &p.summary;
            WorkerRow {
                dir: p.dir.display().to_string(),
                segment: s.segment.clone(),
                run_id: s.run_id.clone(),
                started_at: s.started_at.clone(),
                end_reason: s.end_reason.clone(),
                scheduled: s.load.scheduled,
                sent: s.load.sent,
                completed: s.load.completed,
                dropped: s.load.dropped,
                achieved_tps: s.load.achieved_tps_avg,
                p99_ms: s.latency_ms.p99,
                errors: s.errors.total,
                error_rate: s.errors.rate,
                p99_vs_median: if med > 0.0 {
                    s.latency_ms.p99 / med
                } else {
                    1.0
                },
            }
        })
        .collect()
}

/// Checks that the parts are segments of one run; returns notes for what is allowed but notable.
fn check_parts(parts: &[Part], allow_missing: bool) -> Result<Vec<String>, MergeError> {
    let mut notes = Vec::new();
    let first = &parts[0].summary;
    for p in &parts[1..] {
        let s = &p.summary;
        if s.scenario != first.scenario || s.seed != first.seed {
            return Err(MergeError::Inconsistent(format!(
                "{} ran scenario {:?} with seed {} but {} ran {:?} with seed {}; merge only the workers of one run",
                parts[0].dir.display(),
                first.scenario,
                first.seed,
                p.dir.display(),
                s.scenario,
                s.seed
            )));
        }
    }
    let segments: Vec<Option<Segment>> = parts.iter().map(|p| p.segment).collect();
    if segments.iter().all(Option::is_none) {
        if parts.len() > 1 {
            notes.push(format!(
                "the {} folders are whole runs, not segments: their figures are added as if they ran side by side",
                parts.len()
            ));
        }
        return Ok(notes);
    }
    if let Some(p) = parts.iter().find(|p| p.segment.is_none()) {
        return Err(MergeError::Inconsistent(format!(
            "{} is a whole run but the others are segments",
            p.dir.display()
        )));
    }
    let n = segments[0].map_or(1, |s| s.count());
    let mut seen: Vec<Option<&Path>> = vec![None; n as usize];
    for p in parts {
        let s = p.segment.unwrap_or_default();
        if s.count() != n {
            return Err(MergeError::Inconsistent(format!(
                "{} is segment {s} but {} is segment {}: every worker of a run is split the same way",
                p.dir.display(),
                parts[0].dir.display(),
                segments[0].unwrap_or_default()
            )));
        }
        if let Some(other) = seen[s.index() as usize] {
            return Err(MergeError::Inconsistent(format!(
                "segment {s} appears twice ({} and {}); give each worker's folder once",
                other.display(),
                p.dir.display()
            )));
        }
        seen[s.index() as usize] = Some(&p.dir);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        let text = format!(
            "segments {} are missing, so the figures are not the whole run's",
            missing.join(", ")
        );
        if !allow_missing {
            return Err(MergeError::Inconsistent(format!(
                "{text}; give every worker's folder (or allow missing segments)"
            )));
        }
        notes.push(text);
    }
    Ok(notes)
}

/// The merged events: the first worker's run events (states, phases, faults), every worker's
/// messages marked with its segment, and the notes.
fn merge_events(parts: &[Part], notes: &[String], end_s: f64) -> Vec<RunEvent> {
    let mut events: Vec<RunEvent> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let who = p
            .summary
            .segment
            .clone()
            .unwrap_or_else(|| p.dir.display().to_string());
        for e in &p.events {
            match &e.kind {
                EventKind::Message { text } => events.push(RunEvent {
                    t_s: e.t_s,
                    kind: EventKind::Message {
                        text: format!("worker {who}: {text}"),
                    },
                }),
                _ if i == 0 => events.push(e.clone()),
                _ => {}
            }
        }
    }
    events.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    events.extend(notes.iter().map(|n| RunEvent {
        t_s: end_s,
        kind: EventKind::Message { text: n.clone() },
    }));
    events
}

fn write_err(e: WriteError) -> MergeError {
    MergeError::Write {
        path: e.path,
        source: e.source,
    }
}

/// Reads the workers' results folders, merges them and writes the merged folder `out` (see the
/// module docs). The folders may come in any order.
pub fn merge_dirs(
    dirs: &[PathBuf],
    out: &Path,
    options: &MergeOptions,
) -> Result<Merged, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut notes = Vec::new();
    let mut parts = dirs
        .iter()
        .map(|d| read_part(d, &mut notes))
        .collect::<Result<Vec<Part>, _>>()?;
    parts.sort_by_key(|p| p.segment.map(|s| s.index()));
    notes.extend(check_parts(&parts, options.allow_missing)?);
    let spec = options
        .spec
        .clone()
        .or_else(|| parts.iter().find_map(|p| p.spec.clone()));
    let has_criteria = parts.iter().any(|p| !p.summary.criteria.is_empty());
    if spec.is_none() && has_criteria {
        return Err(MergeError::Inconsistent(
            "the workers judged success criteria but no folder holds scenario.toml; give the scenario they ran so that the criteria can be judged on the merged figures".into(),
        ));
    }
    let cost = spec.as_ref().map_or_else(
        || parts[0].summary.business.cost_model.clone(),
        |s| s.cost.clone(),
    );

    let summaries: Vec<Summary> = parts.iter().map(|p| p.summary.clone()).collect();
    let mut summary = merge_summaries(&summaries, &cost)?;
    let worker_ticks: Vec<Vec<IntervalSnapshot>> =
        parts.iter().map(|p| p.intervals.clone()).collect();
    let ticks = merge_intervals(&worker_ticks, &cost)?;
    if !ticks.is_empty() {
        summary.load.peak_tps = ticks.iter().map(|t| t.achieved_tps).fold(0.0, f64::max);
    }
    if let Some(id) = &options.run_id {
        summary.run_id = id.clone();
    }
    for p in parts.iter().filter(|p| p.summary.end_reason != "completed") {
        notes.push(format!(
            "worker {} ended: {}",
            p.summary
                .segment
                .clone()
                .unwrap_or_else(|| p.dir.display().to_string()),
            p.summary.end_reason
        ));
    }
    let resilience_spec = spec
        .as_ref()
        .map(|s| s.resilience.clone())
        .unwrap_or_default();
    let windows: Vec<resilience::FaultWindow> = parts[0]
        .summary
        .resilience
        .faults
        .iter()
        .map(|f| resilience::FaultWindow {
            kind: f.kind,
            stage: f.stage.clone(),
            start_s: f.start_s,
            end_s: f.end_s,
        })
        .collect();
    let target_cores = spec.as_ref().and_then(|s| s.target.cores);
    let resilience_config = resilience::config(&resilience_spec, target_cores);
    summary.resilience.uptime_pct = resilience::uptime_pct(&ticks, resilience_config.uptime);
    summary.resilience.uptime_rule = Some(resilience_config.uptime);
    summary.resilience.faults = resilience::fault_results(&ticks, &windows, &resilience_config);
    summary.business.budget = spec.as_ref().and_then(|s| s.limits.budget);
    summary.generator = models::GeneratorSummary::from_ticks(&ticks);
    // Every worker scrapes the same target; the merged ticks carry the first worker's readings.
    summary.target_resources = parts[0]
        .summary
        .target_resources
        .as_ref()
        .map(|t| models::TargetResources::from_ticks(&t.metrics_url, &ticks));
    if let Some(s) = &spec {
        summary.mix = Some(s.mix);
    }
    summary.criteria = spec
        .as_ref()
        .map(|s| criteria::evaluate(&s.criteria, s.when_unmeasured, &summary, &ticks))
        .unwrap_or_default();
    summary.passed = parts.iter().all(|p| p.summary.end_reason == "completed")
        && summary.criteria.iter().all(|c| c.passed());

    let workers = worker_rows(&parts);
    let events = merge_events(&parts, &notes, summary.duration_s);
    let hgrm = match summary
        .histograms
        .as_ref()
        .map(|h| histogram::merge([h.latency_us.as_str()]))
    {
        Some(Ok(h)) => histogram::percentile_distribution_ms(&h),
        _ => histogram::percentile_distribution_ms(&histogram::empty()),
    };

    std::fs::create_dir_all(out).map_err(|source| MergeError::Write {
        path: out.to_owned(),
        source,
    })?;
    write::write_lines(out, results::INTERVALS, &ticks).map_err(write_err)?;
    write::write_lines(out, results::EVENTS, &events).map_err(write_err)?;
    write::write_pretty(out, WORKERS_FILE, &workers).map_err(write_err)?;
    write::write_whole(out, results::LATENCY, hgrm.as_bytes()).map_err(write_err)?;
    if let Some(s) = &spec
        && let Ok(text) = toml::to_string(s)
    {
        write::write_whole(out, SCENARIO_FILE, text.as_bytes()).map_err(write_err)?;
    }
    // Last, so that a folder with a summary is a complete one.
    write::write_summary(out, &summary).map_err(write_err)?;
    Ok(Merged {
        dir: out.to_owned(),
        summary,
        workers,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_core::histogram::percentiles_ms;
    use models::{ErrorKind, PatternSummary};
    use proptest::prelude::*;

    /// A worker's summary as a run writes it: counts, a latency histogram, fraud rows. Its timeouts
    /// were all on fraud, which is therefore unscored.
    fn summary(
        seg: u64,
        latencies: &[u64],
        fraud: (u64, u64),
        legit: (u64, u64),
        timeouts: u64,
    ) -> Summary {
        let mut h = histogram::empty();
        for v in latencies {
            h.record(*v).unwrap();
        }
        let sum: f64 = latencies.iter().map(|v| *v as f64).sum();
        let completed = latencies.len() as u64;
        let timeouts = timeouts.min(completed);
        let mut s = Summary {
            run_id: "run-1".into(),
            scenario: "plain".into(),
            seed: 7,
            started_at: format!("2026-01-01T00:00:0{seg}.000Z"),
            duration_s: 10.0 + seg as f64,
            segment: Some(format!("{seg}/3")),
            end_reason: "completed".into(),
            latency_ms: percentiles_ms(&h, sum),
            service_time_ms: percentiles_ms(&h, sum),
            histograms: Some(EncodedHistograms {
                latency_us: encode(&h),
                service_time_us: encode(&h),
            }),
            ..Summary::default()
        };
        s.load.scheduled = completed + 1;
        s.load.sent = completed;
        s.load.completed = completed;
        s.load.dropped = 1;
        s.load.peak_tps = completed as f64 / 10.0;
        s.errors.total = timeouts;
        if timeouts > 0 {
            s.errors.by_kind.insert(ErrorKind::Timeout, timeouts);
        }
        let row = |(count, flagged): (u64, u64), unscored: u64| PatternSummary {
            count,
            flagged: flagged.min(count),
            flagged_rate: 0.0,
            unscored,
        };
        s.fraud
            .per_pattern
            .insert("velocity".into(), row(fraud, timeouts));
        s.fraud.per_pattern.insert("legit".into(), row(legit, 0));
        s.fraud.unscored = timeouts;
        s.fraud.prevented_amount = fraud.0 as f64 * 12.5;
        s
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
    }

    /// The figures that must not depend on order or grouping.
    fn assert_same(a: &Summary, b: &Summary) {
        assert_eq!(a.load.scheduled, b.load.scheduled);
        assert_eq!(a.load.sent, b.load.sent);
        assert_eq!(a.load.completed, b.load.completed);
        assert_eq!(a.load.dropped, b.load.dropped);
        assert_eq!(a.errors.by_kind, b.errors.by_kind);
        assert_eq!(
            (
                a.fraud.tp,
                a.fraud.fp,
                a.fraud.tn,
                a.fraud.fn_,
                a.fraud.unscored
            ),
            (
                b.fraud.tp,
                b.fraud.fp,
                b.fraud.tn,
                b.fraud.fn_,
                b.fraud.unscored
            )
        );
        assert_eq!(a.fraud.per_pattern, b.fraud.per_pattern);
        assert!(close(a.fraud.recall_effective, b.fraud.recall_effective));
        let (la, lb) = (&a.latency_ms, &b.latency_ms);
        assert_eq!(
            (la.count, la.p50, la.p90, la.p99, la.p999, la.max),
            (lb.count, lb.p50, lb.p90, lb.p99, lb.p999, lb.max)
        );
        assert!(close(la.mean, lb.mean), "{} vs {}", la.mean, lb.mean);
        assert!(close(a.fraud.precision, b.fraud.precision));
        assert!(close(a.fraud.recall, b.fraud.recall));
        assert!(close(a.fraud.prevented_amount, b.fraud.prevented_amount));
        assert!(close(a.business.total_cost, b.business.total_cost));
        assert!(close(a.load.peak_tps, b.load.peak_tps));
        assert_eq!(
            (
                &a.run_id,
                &a.started_at,
                &a.end_reason,
                &a.segment,
                a.duration_s
            ),
            (
                &b.run_id,
                &b.started_at,
                &b.end_reason,
                &b.segment,
                b.duration_s
            )
        );
    }

    fn part() -> impl Strategy<Value = (Vec<u64>, (u64, u64), (u64, u64), u64)> {
        (
            prop::collection::vec(1u64..5_000_000, 0..60),
            (0u64..50, 0u64..50),
            (0u64..200, 0u64..20),
            0u64..5,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn merging_is_associative_and_commutative(a in part(), b in part(), c in part()) {
            let cost = CostModel { per_txn_infra: 0.001, fixed_per_hour: 3.6, ..CostModel::default() };
            let [a, b, c] = [(0, a), (1, b), (2, c)].map(|(i, (l, f, g, t))| summary(i, &l, f, g, t));
            let m = |parts: &[Summary]| merge_summaries(parts, &cost).unwrap();
            let flat = m(&[a.clone(), b.clone(), c.clone()]);
            let left = m(&[m(&[a.clone(), b.clone()]), c.clone()]);
            let right = m(&[a.clone(), m(&[b.clone(), c.clone()])]);
            let shuffled = m(&[c.clone(), a.clone(), b.clone()]);
            let swapped = m(&[m(&[b.clone(), a.clone()]), c.clone()]);
            for other in [&left, &right, &shuffled, &swapped] {
                assert_same(&flat, other);
            }
            prop_assert_eq!(flat.load.sent, a.load.sent + b.load.sent + c.load.sent);
            // Unscored fraud adds up, and recall_effective comes from the summed counts.
            let f = &flat.fraud;
            prop_assert_eq!(f.unscored, a.fraud.unscored + b.fraud.unscored + c.fraud.unscored);
            let all_fraud = f.tp + f.fn_ + f.unscored;
            let expected = if all_fraud == 0 { 1.0 } else { f.tp as f64 / all_fraud as f64 };
            prop_assert!(close(f.recall_effective, expected), "{} vs {}", f.recall_effective, expected);
            // All three segments: the merged summary is the whole run's.
            prop_assert_eq!(flat.segment, None);
            prop_assert_eq!(m(&[a.clone(), c]).segment, Some("0,2/3".to_string()));
        }
    }

    #[test]
    fn percentiles_come_from_the_merged_histograms_not_averages() {
        // One fast worker and one slow one: averaging their p99s would say about 500 ms.
        let fast = summary(0, &vec![1_000; 99], (0, 0), (99, 0), 0);
        let slow = summary(1, &[1_000_000], (0, 0), (1, 0), 0);
        let m = merge_summaries(&[fast, slow], &CostModel::default()).unwrap();
        assert_eq!(m.latency_ms.count, 100);
        assert!((m.latency_ms.p50 - 1.0).abs() < 0.01, "{:?}", m.latency_ms);
        assert!(
            (m.latency_ms.max - 1000.0).abs() < 1.0,
            "{:?}",
            m.latency_ms
        );
        assert!(m.latency_ms.p99 < 2.0, "{:?}", m.latency_ms);
    }

    #[test]
    fn segments_of_different_splits_do_not_merge() {
        let a = summary(0, &[1], (0, 0), (1, 0), 0);
        let mut b = summary(1, &[1], (0, 0), (1, 0), 0);
        b.segment = Some("1/4".into());
        let err = merge_summaries(&[a, b], &CostModel::default()).unwrap_err();
        assert!(err.to_string().contains("split every worker"), "{err}");
    }

    fn tick(t_s: f64, latencies: &[u64], cum_sent: u64) -> IntervalSnapshot {
        let mut h = histogram::empty();
        for v in latencies {
            h.record(*v).unwrap();
        }
        let n = latencies.len() as u64;
        IntervalSnapshot {
            t_s,
            interval_s: 1.0,
            scheduled: n,
            sent: n,
            completed: n,
            ok: n,
            achieved_tps: n as f64,
            latency_ms: percentiles_ms(&h, latencies.iter().sum::<u64>() as f64),
            cumulative: models::Cumulative {
                scheduled: cum_sent,
                sent: cum_sent,
                completed: cum_sent,
                ..Default::default()
            },
            histograms: Some(EncodedHistograms {
                latency_us: encode(&h),
                service_time_us: encode(&h),
            }),
            ..IntervalSnapshot::default()
        }
    }

    fn write_worker(dir: &Path, s: &Summary, ticks: &[IntervalSnapshot]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(results::SUMMARY), serde_json::to_vec(s).unwrap()).unwrap();
        std::fs::write(dir.join(results::INTERVALS), write::jsonl(ticks).unwrap()).unwrap();
    }

    #[test]
    fn folders_merge_with_ticks_by_index_and_a_worker_table() {
        let root = std::env::temp_dir().join(format!("orch-merge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let a = summary(0, &[1_000, 2_000, 3_000], (2, 2), (1, 0), 0);
        let b = summary(1, &[50_000, 60_000], (1, 0), (1, 1), 1);
        let c = summary(2, &[1_000], (0, 0), (1, 0), 0);
        write_worker(
            &root.join("a"),
            &a,
            &[tick(1.0, &[1_000, 2_000], 2), tick(2.0, &[3_000], 3)],
        );
        write_worker(&root.join("b"), &b, &[tick(1.0, &[50_000, 60_000], 2)]);
        write_worker(&root.join("c"), &c, &[tick(1.0, &[1_000], 1)]);
        let dirs: Vec<PathBuf> = ["c", "a", "b"].iter().map(|d| root.join(d)).collect();
        let out = root.join("merged");
        let merged = merge_dirs(&dirs, &out, &MergeOptions::default()).unwrap();
        let s = &merged.summary;
        assert_eq!((s.load.sent, s.load.completed, s.load.dropped), (6, 6, 3));
        assert_eq!(
            (s.fraud.tp, s.fraud.fn_, s.fraud.fp, s.fraud.tn),
            (2, 1, 1, 2)
        );
        assert!((s.fraud.recall - 2.0 / 3.0).abs() < 1e-12);
        // Worker b's timeout was on fraud: 2 caught of 4 fraud in all.
        assert_eq!(s.fraud.unscored, 1);
        assert!((s.fraud.recall_effective - 0.5).abs() < 1e-12);
        assert_eq!(s.segment, None);
        assert!(s.passed, "{:?}", merged.notes);
        // Ticks by index; worker b and c carry their cumulative figures into tick 2.
        let ticks: Vec<IntervalSnapshot> = Folder::new(&out).intervals().unwrap().unwrap().items;
        assert_eq!(ticks.len(), 2);
        assert_eq!((ticks[0].sent, ticks[1].sent), (5, 1));
        assert_eq!(ticks[1].cumulative.sent, 6);
        assert_eq!(ticks[1].cumulative.latency_ms.count, 6);
        assert!((ticks[0].latency_ms.max - 60.0).abs() < 0.1);
        assert_eq!(s.load.peak_tps, 5.0);
        // The table in segment order, the slow worker standing out.
        let rows: Vec<WorkerRow> =
            serde_json::from_slice(&std::fs::read(out.join(WORKERS_FILE)).unwrap()).unwrap();
        assert_eq!(rows, merged.workers);
        let segs: Vec<_> = rows.iter().map(|r| r.segment.clone().unwrap()).collect();
        assert_eq!(segs, ["0/3", "1/3", "2/3"]);
        assert!(rows[1].p99_vs_median > 10.0, "{rows:?}");
        assert!(out.join(results::LATENCY).exists() && out.join(results::EVENTS).exists());

        // A segment missing, or given twice, is refused with the folder named.
        let err = merge_dirs(&dirs[..2], &out, &MergeOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("segments 1/3 are missing"),
            "{err}"
        );
        let partial = merge_dirs(
            &dirs[..2],
            &out,
            &MergeOptions {
                allow_missing: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(partial.summary.segment.as_deref(), Some("0,2/3"));
        let twice = [dirs[0].clone(), dirs[0].clone()];
        let err = merge_dirs(&twice, &out, &MergeOptions::default()).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn damaged_lines_are_noted_and_an_unreadable_summary_is_refused() {
        let root = std::env::temp_dir().join(format!("orch-merge-damage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut a = summary(0, &[1_000], (0, 0), (1, 0), 0);
        a.segment = None;
        let dir = root.join("a");
        write_worker(&dir, &a, &[tick(1.0, &[1_000], 1), tick(2.0, &[], 1)]);
        // A garbled line in the middle and a last line cut short.
        let mut text = std::fs::read_to_string(dir.join(results::INTERVALS)).unwrap();
        let second = text.find('\n').unwrap() + 1;
        text.insert_str(second, "{\"t_s\": garbage}\n");
        text.push_str("{\"t_s\": 3");
        std::fs::write(dir.join(results::INTERVALS), text).unwrap();
        let out = root.join("merged");
        let merged =
            merge_dirs(std::slice::from_ref(&dir), &out, &MergeOptions::default()).unwrap();
        let damage: Vec<&String> = merged
            .notes
            .iter()
            .filter(|n| n.contains("intervals.jsonl: line"))
            .collect();
        assert_eq!(damage.len(), 2, "{:?}", merged.notes);
        assert!(damage[0].contains("line 2 is damaged"), "{damage:?}");
        assert!(damage[1].contains("line 4 is incomplete"), "{damage:?}");
        let events = Folder::new(&out).events().unwrap().unwrap().items;
        assert!(
            events.iter().any(|e| matches!(&e.kind, EventKind::Message { text } if text.contains("line 2 is damaged"))),
            "the notes reach the merged events"
        );
        assert_eq!(
            Folder::new(&out).intervals().unwrap().unwrap().items.len(),
            2
        );

        std::fs::write(dir.join(results::SUMMARY), "{\"run_id\": ").unwrap();
        let err =
            merge_dirs(std::slice::from_ref(&dir), &out, &MergeOptions::default()).unwrap_err();
        assert!(err.to_string().contains("summary.json:1:"), "{err}");
        std::fs::remove_file(dir.join(results::SUMMARY)).unwrap();
        let err = merge_dirs(&[dir], &out, &MergeOptions::default()).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

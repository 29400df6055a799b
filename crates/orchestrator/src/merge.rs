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
use metrics_core::histogram::{encode, percentiles_ms};
use metrics_core::{MetricsConfig, MetricsError, SnapshotMerger};
use models::{
    CostModel, EncodedHistograms, EventKind, IntervalSnapshot, Percentiles, RunEvent,
    ScenarioSpec, Summary, TargetInfo,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The resolved scenario a segment worker ran, written into its results folder so that a merge can
/// judge the criteria again without being told the scenario.
pub const SCENARIO_FILE: &str = "scenario.toml";
/// The per-worker table of a merged result.
pub const WORKERS_FILE: &str = "workers.json";

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

fn read_text(path: &Path) -> Result<String, MergeError> {
    std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, MergeError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MergeError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// JSON lines; a truncated last line (a worker killed mid-write) is skipped with a note.
fn read_jsonl<T: for<'de> Deserialize<'de>>(
    path: &Path,
    text: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<T>, MergeError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(v) => out.push(v),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => notes.push(format!(
                "{}: the truncated last line was skipped",
                path.display()
            )),
            Err(e) => {
                return Err(MergeError::Parse {
                    path: path.to_owned(),
                    line: Some(i + 1),
                    message: format!("{e}; the file is damaged, re-run this worker"),
                });
            }
        }
    }
    Ok(out)
}

fn read_part(dir: &Path, notes: &mut Vec<String>) -> Result<Part, MergeError> {
    let spath = dir.join(results::SUMMARY);
    let summary: Summary =
        serde_json::from_str(&read_text(&spath)?).map_err(|e| MergeError::Parse {
            path: spath.clone(),
            line: Some(e.line()),
            message: format!("{e}; a worker writes summary.json when it ends, even when stopped"),
        })?;
    let ipath = dir.join(results::INTERVALS);
    let intervals = read_jsonl(&ipath, &read_text(&ipath)?, notes)?;
    let epath = dir.join(results::EVENTS);
    let events = match read_optional(&epath)? {
        Some(t) => read_jsonl(&epath, &t, notes)?,
        None => Vec::new(),
    };
    let cpath = dir.join(SCENARIO_FILE);
    let spec = match read_optional(&cpath)? {
        Some(t) => Some(
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
            what: "merging the workers' summaries (each needs its `histograms`, which a run writes)"
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

/// Without histograms: a count-weighted mean and the largest of each percentile (an upper bound).
fn bound_percentiles<'a>(items: impl Iterator<Item = &'a Percentiles>) -> Percentiles {
    let mut out = Percentiles::default();
    let mut sum = 0.0;
    for p in items {
        out.count += p.count;
        sum += p.mean * p.count as f64;
        out.p50 = out.p50.max(p.p50);
        out.p90 = out.p90.max(p.p90);
        out.p95 = out.p95.max(p.p95);
        out.p99 = out.p99.max(p.p99);
        out.p999 = out.p999.max(p.p999);
        out.max = out.max.max(p.max);
    }
    out.mean = if out.count > 0 {
        sum / out.count as f64
    } else {
        0.0
    };
    out
}

/// Merges one tick whose parts lack histograms (see the module docs for what is a bound).
fn merge_tick_without_histograms(parts: &[IntervalSnapshot], cost: &CostModel) -> IntervalSnapshot {
    let mut out = IntervalSnapshot {
        t_s: parts.iter().map(|p| p.t_s).fold(0.0, f64::max),
        interval_s: parts.iter().map(|p| p.interval_s).fold(0.0, f64::max),
        latency_ms: bound_percentiles(parts.iter().map(|p| &p.latency_ms)),
        service_time_ms: bound_percentiles(parts.iter().map(|p| &p.service_time_ms)),
        ..IntervalSnapshot::default()
    };
    if let Some(first) = parts.first() {
        out.state = first.state;
        out.phase = first.phase.clone();
        out.active_faults = first.active_faults.clone();
    }
    for p in parts {
        out.planned_tps += p.planned_tps;
        out.scheduled += p.scheduled;
        out.sent += p.sent;
        out.completed += p.completed;
        out.ok += p.ok;
        out.dropped += p.dropped;
        out.in_flight += p.in_flight;
        out.degradation = out.degradation.max(p.degradation);
        for (k, n) in &p.errors {
            *out.errors.entry(*k).or_default() += n;
        }
        out.fraud.add(&p.fraud);
        for (k, c) in &p.per_pattern {
            out.per_pattern.entry(k.clone()).or_default().add(c);
        }
        let (c, o) = (&p.cumulative, &mut out.cumulative);
        o.scheduled += c.scheduled;
        o.sent += c.sent;
        o.completed += c.completed;
        o.dropped += c.dropped;
        for (k, n) in &c.errors {
            *o.errors.entry(*k).or_default() += n;
        }
        o.fraud.add(&c.fraud);
        o.prevented_amount += c.prevented_amount;
        o.false_decline_amount += c.false_decline_amount;
    }
    out.cumulative.latency_ms = bound_percentiles(parts.iter().map(|p| &p.cumulative.latency_ms));
    out.cumulative.service_time_ms =
        bound_percentiles(parts.iter().map(|p| &p.cumulative.service_time_ms));
    out.cumulative.cost = metrics_core::running_cost(
        cost,
        out.cumulative.completed,
        std::time::Duration::from_secs_f64(out.t_s),
    );
    out.achieved_tps = if out.interval_s > 0.0 {
        out.completed as f64 / out.interval_s
    } else {
        0.0
    };
    out
}

/// Merges the workers' ticks by index (see the module docs).
pub fn merge_intervals(
    workers: &[Vec<IntervalSnapshot>],
    cost: &CostModel,
) -> Result<Vec<IntervalSnapshot>, MergeError> {
    let ticks = workers.iter().map(Vec::len).max().unwrap_or(0);
    let exact = workers
        .iter()
        .flatten()
        .all(|t| t.histograms.as_ref().is_some_and(|h| !h.latency_us.is_empty()));
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
            merge_tick_without_histograms(&parts, cost)
        };
        // A worker past its end adds no time to the tick.
        let live: Vec<&IntervalSnapshot> = workers.iter().filter_map(|w| w.get(i)).collect();
        tick.t_s = live.iter().map(|p| p.t_s).fold(0.0, f64::max);
        out.push(tick);
    }
    Ok(out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn worker_rows(parts: &[Part]) -> Vec<WorkerRow> {
    let med = median(parts.iter().map(|p| p.summary.latency_ms.p99).collect());
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

fn write_file(dir: &Path, name: &str, contents: &[u8]) -> Result<(), MergeError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| MergeError::Write { path, source }
    };
    std::fs::write(&tmp, contents).map_err(err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(err(&path))
}

fn jsonl<T: Serialize>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        if let Ok(line) = serde_json::to_string(item) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
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
    for p in parts
        .iter()
        .filter(|p| p.summary.end_reason != "completed")
    {
        notes.push(format!(
            "worker {} ended: {}",
            p.summary
                .segment
                .clone()
                .unwrap_or_else(|| p.dir.display().to_string()),
            p.summary.end_reason
        ));
    }
    let resilience_spec = spec.as_ref().map(|s| s.resilience.clone()).unwrap_or_default();
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
    summary.resilience.uptime_pct = resilience::uptime_pct(&ticks);
    summary.resilience.faults =
        resilience::fault_results(&ticks, &windows, &resilience::config(&resilience_spec));
    summary.criteria = spec
        .as_ref()
        .map(|s| criteria::evaluate(&s.criteria, &summary, &ticks))
        .unwrap_or_default();
    summary.passed = parts.iter().all(|p| p.summary.end_reason == "completed")
        && summary.criteria.iter().all(|c| c.passed);

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
    let pretty = |v: &dyn erased::Json| v.pretty();
    write_file(out, results::INTERVALS, &jsonl(&ticks))?;
    write_file(out, results::EVENTS, &jsonl(&events))?;
    write_file(out, WORKERS_FILE, &pretty(&workers))?;
    write_file(out, results::LATENCY, hgrm.as_bytes())?;
    if let Some(s) = &spec
        && let Ok(text) = toml::to_string(s)
    {
        write_file(out, SCENARIO_FILE, text.as_bytes())?;
    }
    // Last, so that a folder with a summary is a complete one.
    write_file(out, results::SUMMARY, &pretty(&summary))?;
    Ok(Merged {
        dir: out.to_owned(),
        summary,
        workers,
        notes,
    })
}

/// Pretty JSON of either output type without generics in the closure above.
mod erased {
    pub trait Json {
        fn pretty(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn pretty(&self) -> Vec<u8> {
            serde_json::to_vec_pretty(self).unwrap_or_default()
        }
    }
}

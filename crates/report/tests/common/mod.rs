//! A generator of realistic result sets for the tests: a run with a ramp-up, a hold and a ramp-down,
//! fault windows that raise errors, latency and drops and lower recall, per-pattern detection, agents,
//! a real HDR histogram (`latency.hgrm` and the encoded form in `summary.json`). Deterministic per seed.
#![allow(dead_code)]

use hdrhistogram::Histogram;
use models::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    pub stage: Option<&'static str>,
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Debug, Clone)]
pub struct FixtureSpec {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: u64,
    pub peak_tps: f64,
    pub ramp_up_s: u64,
    pub ramp_down_s: u64,
    pub faults: Vec<Fault>,
    /// Multiplies every latency (1.0 = baseline); for injecting a regression.
    pub latency_factor: f64,
    /// Multiplies detection rates (1.0 = baseline).
    pub recall_factor: f64,
}

impl FixtureSpec {
    /// A 10-minute run: 60 s ramp to 2,000 TPS, hold, 60 s ramp down; an agent crash at 300-330 s and a
    /// database throttle at 420-450 s.
    pub fn ten_minutes() -> Self {
        Self {
            scenario: "failure-recovery".into(),
            seed: 42,
            duration_s: 600,
            peak_tps: 2000.0,
            ramp_up_s: 60,
            ramp_down_s: 60,
            faults: vec![
                Fault {
                    kind: FaultKind::AgentCrash,
                    stage: Some("pattern_detector"),
                    start_s: 300.0,
                    end_s: 330.0,
                },
                Fault {
                    kind: FaultKind::DbThrottle,
                    stage: None,
                    start_s: 420.0,
                    end_s: 450.0,
                },
            ],
            latency_factor: 1.0,
            recall_factor: 1.0,
        }
    }

    /// A 2-hour run with the same shape and a fault every 20 minutes.
    pub fn two_hours() -> Self {
        let faults = (1..6)
            .map(|i| Fault {
                kind: if i % 2 == 0 {
                    FaultKind::DbThrottle
                } else {
                    FaultKind::AgentCrash
                },
                stage: if i % 2 == 0 {
                    None
                } else {
                    Some("pattern_detector")
                },
                start_s: i as f64 * 1200.0,
                end_s: i as f64 * 1200.0 + 60.0,
            })
            .collect();
        Self {
            scenario: "soak".into(),
            duration_s: 7200,
            ramp_up_s: 300,
            ramp_down_s: 300,
            faults,
            ..Self::ten_minutes()
        }
    }
}

pub struct Fixture {
    pub summary: Summary,
    pub intervals: Vec<IntervalSnapshot>,
    pub events: Vec<RunEvent>,
    pub hgrm: String,
}

/// Standard-normal quantiles, to shape a log-normal latency distribution.
const Z: [(f64, f64); 17] = [
    (0.0, -3.9),
    (0.001, -3.09),
    (0.01, -2.326),
    (0.05, -1.645),
    (0.1, -1.2816),
    (0.2, -0.8416),
    (0.3, -0.5244),
    (0.4, -0.2533),
    (0.5, 0.0),
    (0.6, 0.2533),
    (0.7, 0.5244),
    (0.8, 0.8416),
    (0.9, 1.2816),
    (0.95, 1.645),
    (0.99, 2.326),
    (0.999, 3.09),
    (1.0, 3.9),
];
const SIGMA: f64 = 0.55;

fn z_at(q: f64) -> f64 {
    let i = Z
        .iter()
        .position(|(zq, _)| *zq >= q)
        .unwrap_or(Z.len() - 1)
        .max(1);
    let ((q0, z0), (q1, z1)) = (Z[i - 1], Z[i]);
    z0 + (z1 - z0) * (q - q0) / (q1 - q0)
}

fn percentiles(median: f64, count: u64) -> Percentiles {
    let at = |q: f64| median * (SIGMA * z_at(q)).exp();
    Percentiles {
        count,
        mean: median * (SIGMA * SIGMA / 2.0).exp(),
        p50: at(0.5),
        p90: at(0.9),
        p95: at(0.95),
        p99: at(0.99),
        p999: at(0.999),
        max: at(1.0),
    }
}

fn record(hist: &mut Histogram<u64>, median_ms: f64, count: u64) {
    for w in Z.windows(2) {
        let ((q0, z0), (q1, z1)) = (w[0], w[1]);
        let n = ((q1 - q0) * count as f64).round() as u64;
        if n > 0 {
            let us = (median_ms * (SIGMA * (z0 + z1) / 2.0).exp() * 1000.0).max(1.0) as u64;
            hist.record_n(us, n).unwrap();
        }
    }
}

fn from_hist(hist: &Histogram<u64>) -> Percentiles {
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Percentiles {
        count: hist.len(),
        mean: hist.mean() / 1000.0,
        p50: ms(0.5),
        p90: ms(0.9),
        p95: ms(0.95),
        p99: ms(0.99),
        p999: ms(0.999),
        max: hist.max() as f64 / 1000.0,
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn jitter(&mut self, spread: f64) -> f64 {
        1.0 + (self.next() - 0.5) * 2.0 * spread
    }
}

const PATTERNS: [(&str, f64, f64); 5] = [
    // name, share of fraud, baseline detection rate
    ("card_testing", 0.30, 0.95),
    ("account_takeover", 0.20, 0.88),
    ("velocity", 0.25, 0.93),
    ("impossible_travel", 0.15, 0.90),
    ("high_value_anomaly", 0.10, 0.97),
];
const AGENTS: [(&str, f64); 4] = [
    ("transaction_analyzer", 1.8),
    ("pattern_detector", 3.5),
    ("risk_assessor", 2.6),
    ("decision_maker", 0.9),
];

fn label(f: &Fault) -> String {
    match f.stage {
        Some(s) => format!("{} ({s})", f.kind),
        None => f.kind.to_string(),
    }
}

impl Fixture {
    pub fn generate(spec: &FixtureSpec) -> Self {
        let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut lat_all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 2).unwrap();
        let mut svc_all = lat_all.clone();
        let mut cum = Cumulative::default();
        let mut intervals = Vec::with_capacity(spec.duration_s as usize);
        let mut events = vec![RunEvent {
            t_s: 0.0,
            kind: EventKind::StateChanged {
                from: RunState::Initializing,
                to: RunState::RampingUp,
            },
        }];
        let refresh = (spec.duration_s as usize / 600).max(1);
        let dur = spec.duration_s as f64;
        for i in 0..spec.duration_s {
            let (t0, t1) = (i as f64, i as f64 + 1.0);
            let (phase, planned) = if t1 <= spec.ramp_up_s as f64 {
                (
                    "ramp-up",
                    spec.peak_tps * (0.1 + 0.9 * t1 / spec.ramp_up_s as f64),
                )
            } else if t1 > dur - spec.ramp_down_s as f64 {
                (
                    "ramp-down",
                    spec.peak_tps
                        * (1.0
                            - 0.7 * (t1 - (dur - spec.ramp_down_s as f64))
                                / spec.ramp_down_s as f64),
                )
            } else {
                ("hold", spec.peak_tps)
            };
            if t0 == spec.ramp_up_s as f64 || (t0 == dur - spec.ramp_down_s as f64 && i > 0) {
                events.push(RunEvent {
                    t_s: t0,
                    kind: EventKind::PhaseStarted { name: phase.into() },
                });
            }
            let active: Vec<&Fault> = spec
                .faults
                .iter()
                .filter(|f| f.start_s < t1 && f.end_s > t0)
                .collect();
            for f in &spec.faults {
                if f.start_s >= t0 && f.start_s < t1 {
                    events.push(RunEvent {
                        t_s: f.start_s,
                        kind: EventKind::FaultStarted {
                            fault: f.kind,
                            stage: f.stage.map(str::to_owned),
                        },
                    });
                }
                if f.end_s >= t0 && f.end_s < t1 {
                    events.push(RunEvent {
                        t_s: f.end_s,
                        kind: EventKind::FaultEnded {
                            fault: f.kind,
                            stage: f.stage.map(str::to_owned),
                        },
                    });
                }
            }
            let crash = active.iter().any(|f| f.kind == FaultKind::AgentCrash);
            let throttle = active.iter().any(|f| f.kind == FaultKind::DbThrottle);

            let scheduled = (planned * rng.jitter(0.02)).round() as u64;
            let dropped = if crash {
                (scheduled as f64 * 0.03 * rng.jitter(0.3)) as u64
            } else {
                0
            };
            let sent = scheduled - dropped;
            let completed = sent;
            let mut errors = BTreeMap::new();
            let mut add_err = |kind: ErrorKind, share: f64, rng: &mut Rng| {
                let n = (sent as f64 * share * rng.jitter(0.5)).round() as u64;
                if n > 0 {
                    errors.insert(kind, n);
                }
            };
            add_err(ErrorKind::Timeout, 0.0004, &mut rng);
            if crash {
                add_err(ErrorKind::Http5xx, 0.04, &mut rng);
            }
            if throttle {
                add_err(ErrorKind::Http429, 0.06, &mut rng);
                add_err(ErrorKind::Timeout, 0.005, &mut rng);
            }
            if dropped > 0 {
                errors.insert(ErrorKind::Dropped, dropped);
            }
            let err_total: u64 = errors
                .iter()
                .filter(|(k, _)| **k != ErrorKind::Dropped)
                .map(|(_, v)| v)
                .sum();
            let ok = completed - err_total;

            let load = planned / spec.peak_tps;
            let fault_factor = if crash {
                2.6
            } else if throttle {
                1.7
            } else {
                1.0
            };
            let svc_median = 7.5
                * (1.0 + 0.6 * load.powi(3))
                * fault_factor
                * spec.latency_factor
                * rng.jitter(0.04);
            let queue = if crash { 9.0 } else { 0.4 * load };
            let lat_median = svc_median + queue * spec.latency_factor;
            record(&mut lat_all, lat_median, completed);
            record(&mut svc_all, svc_median, completed);

            let mut per_pattern = BTreeMap::new();
            let mut fraud = Confusion::default();
            let fraud_n = ok as f64 * 0.15;
            for (name, share, rate) in PATTERNS {
                let n = (fraud_n * share * rng.jitter(0.2)).round() as u64;
                let hit = crash && matches!(name, "card_testing" | "velocity");
                let r =
                    (rate * spec.recall_factor * if hit { 0.4 } else { 1.0 } * rng.jitter(0.03))
                        .min(1.0);
                let tp = (n as f64 * r).round() as u64;
                let c = Confusion {
                    tp,
                    fn_: n - tp,
                    ..Confusion::default()
                };
                fraud.add(&c);
                per_pattern.insert(name.to_owned(), c);
            }
            for (name, share, fp_rate) in [
                ("legit", 0.80, 0.012),
                ("zero_amount", 0.03, 0.02),
                ("unicode_merchant_name", 0.02, 0.01),
            ] {
                let n = (ok as f64 * share).round() as u64;
                let fp = (n as f64 * fp_rate * rng.jitter(0.3)).round() as u64;
                let c = Confusion {
                    fp,
                    tn: n - fp,
                    ..Confusion::default()
                };
                fraud.add(&c);
                per_pattern.insert(name.to_owned(), c);
            }

            let agents = AGENTS
                .iter()
                .map(|(name, mean)| {
                    let down = crash && *name == "pattern_detector";
                    let f = if down {
                        3.0
                    } else if throttle {
                        1.5
                    } else {
                        1.0
                    };
                    AgentStats {
                        name: (*name).to_owned(),
                        requests: completed,
                        mean_ms: mean * f * spec.latency_factor * rng.jitter(0.05),
                        p99_ms: mean * f * spec.latency_factor * 4.2 * rng.jitter(0.08),
                        success_rate: if down {
                            0.22
                        } else if throttle {
                            0.95
                        } else {
                            0.9995
                        },
                        utilization: (0.65 * load * f).min(1.0),
                        health: if down {
                            24.0
                        } else if throttle {
                            71.0
                        } else {
                            97.0
                        },
                    }
                })
                .collect();

            cum.scheduled += scheduled;
            cum.sent += sent;
            cum.completed += completed;
            cum.dropped += dropped;
            for (k, v) in &errors {
                *cum.errors.entry(*k).or_default() += v;
            }
            cum.fraud.add(&fraud);
            cum.prevented_amount += fraud.tp as f64 * 182.4;
            cum.false_decline_amount += fraud.fp as f64 * 74.9;
            let model = CostModel::default();
            cum.cost += completed as f64
                * (model.per_txn_infra + model.per_model_call * model.model_calls_per_txn)
                + model.fixed_per_hour / 3600.0;
            if (i as usize).is_multiple_of(refresh) || i + 1 == spec.duration_s {
                cum.latency_ms = from_hist(&lat_all);
                cum.service_time_ms = from_hist(&svc_all);
            }
            let degradation = if crash {
                DegradationLevel::Severe
            } else if throttle {
                DegradationLevel::Moderate
            } else {
                DegradationLevel::None
            };
            if intervals
                .last()
                .is_some_and(|p: &IntervalSnapshot| p.degradation != degradation)
            {
                let from = intervals
                    .last()
                    .map(|p: &IntervalSnapshot| p.degradation)
                    .unwrap_or_default();
                events.push(RunEvent {
                    t_s: t1,
                    kind: EventKind::Degradation {
                        from,
                        to: degradation,
                    },
                });
            }
            intervals.push(IntervalSnapshot {
                t_s: t1,
                interval_s: 1.0,
                state: if phase == "ramp-up" {
                    RunState::RampingUp
                } else {
                    RunState::Running
                },
                phase: Some(phase.into()),
                planned_tps: planned,
                scheduled,
                sent,
                completed,
                ok,
                dropped,
                dropped_ceiling: 0,
                in_flight: (planned * lat_median / 1000.0).round() as u64,
                achieved_tps: completed as f64,
                errors,
                latency_ms: percentiles(lat_median, completed),
                service_time_ms: percentiles(svc_median, completed),
                fraud,
                per_pattern,
                agents,
                resources: Resources {
                    generator: ProcessSample {
                        pid: 4242,
                        cpu_pct: 35.0 * load,
                        rss_bytes: 48 << 20,
                        ..Default::default()
                    },
                    target: None,
                },
                target_metrics: Default::default(),
                target_scrape_error: None,
                active_faults: active.iter().map(|f| label(f)).collect(),
                degradation,
                cumulative: cum.clone(),
                histograms: None,
            });
        }
        events.push(RunEvent {
            t_s: dur,
            kind: EventKind::StateChanged {
                from: RunState::Running,
                to: RunState::Completed,
            },
        });

        let summary = summarize(spec, &intervals, &lat_all, &svc_all);
        let hgrm = hgrm_text(&lat_all);
        Fixture {
            summary,
            intervals,
            events,
            hgrm,
        }
    }

    /// Writes the result files into a fresh folder under the test target directory.
    pub fn write(&self, name: &str, opts: WriteOpts) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("report-fixtures")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let take = opts.intervals.unwrap_or(self.intervals.len());
        let mut jsonl = String::new();
        for snap in &self.intervals[..take] {
            jsonl.push_str(&serde_json::to_string(snap).unwrap());
            jsonl.push('\n');
        }
        if opts.truncate_last_line {
            let partial =
                serde_json::to_string(&self.intervals[take.min(self.intervals.len() - 1)]).unwrap();
            jsonl.push_str(&partial[..partial.len() / 2]);
        }
        std::fs::write(dir.join("intervals.jsonl"), jsonl).unwrap();
        let end = self.intervals[..take].last().map_or(0.0, |i| i.t_s);
        let events: String = self
            .events
            .iter()
            .filter(|e| e.t_s <= end)
            .map(|e| serde_json::to_string(e).unwrap() + "\n")
            .collect();
        std::fs::write(dir.join("events.jsonl"), events).unwrap();
        if opts.summary {
            std::fs::write(
                dir.join("summary.json"),
                serde_json::to_string_pretty(&self.summary).unwrap(),
            )
            .unwrap();
        }
        if opts.hgrm {
            std::fs::write(dir.join("latency.hgrm"), &self.hgrm).unwrap();
        }
        dir
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WriteOpts {
    pub summary: bool,
    pub hgrm: bool,
    /// Write only the first N intervals.
    pub intervals: Option<usize>,
    /// End the intervals file with half a line, as a killed writer leaves it.
    pub truncate_last_line: bool,
}

impl Default for WriteOpts {
    fn default() -> Self {
        Self {
            summary: true,
            hgrm: true,
            intervals: None,
            truncate_last_line: false,
        }
    }
}

use run_files::histogram::encode;

/// HdrHistogram's percentile-distribution text (as the Java `outputPercentileDistribution` with a
/// scaling ratio of 1000: values in milliseconds).
pub fn hgrm_text(h: &Histogram<u64>) -> String {
    let mut out = String::from("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    let mut total = 0;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.3} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}",);
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / 1000.0,
        h.len()
    );
    out
}

fn summarize(
    spec: &FixtureSpec,
    intervals: &[IntervalSnapshot],
    lat: &Histogram<u64>,
    svc: &Histogram<u64>,
) -> Summary {
    let last = intervals.last().unwrap();
    let c = &last.cumulative;
    let mut s = report::partial::summary_from_intervals(spec.scenario.clone(), intervals, &[]);
    s.run_id = format!("{}-20260101T120000Z", spec.scenario);
    s.seed = spec.seed;
    s.started_at = "2026-01-01T12:00:00Z".into();
    s.target = TargetInfo {
        kind: "builtin".into(),
        url: Some("http://127.0.0.1:38211/v1/score".into()),
        protocol: None,
    };
    s.mix = Some(MixSpec::default());
    s.latency_ms = from_hist(lat);
    s.service_time_ms = from_hist(svc);
    s.histograms = Some(EncodedHistograms {
        latency_us: encode(lat),
        service_time_us: encode(svc),
    });
    s.end_reason = "completed".into();
    s.resilience.faults = spec
        .faults
        .iter()
        .map(|f| {
            let during: Vec<&IntervalSnapshot> = intervals
                .iter()
                .filter(|i| i.t_s > f.start_s && i.t_s <= f.end_s)
                .collect();
            let before: Vec<&IntervalSnapshot> = intervals
                .iter()
                .filter(|i| i.t_s > f.start_s - 30.0 && i.t_s <= f.start_s)
                .collect();
            let base = |v: &[&IntervalSnapshot]| Baseline {
                tps: v.iter().map(|i| i.achieved_tps).sum::<f64>() / v.len().max(1) as f64,
                error_rate: v.iter().map(|i| i.error_total()).sum::<u64>() as f64
                    / v.iter().map(|i| i.sent).sum::<u64>().max(1) as f64,
                p99_ms: v.iter().map(|i| i.latency_ms.p99).fold(0.0, f64::max),
            };
            FaultResult {
                kind: f.kind,
                stage: f.stage.map(str::to_owned),
                start_s: f.start_s,
                end_s: f.end_s,
                max_level: during
                    .iter()
                    .map(|i| i.degradation)
                    .max()
                    .unwrap_or_default(),
                time_to_detect_s: Some(2.0),
                time_to_recover_s: Some(6.0),
                cascade: Some(f.kind == FaultKind::AgentCrash),
                baseline: base(&before),
                worst: Baseline {
                    tps: during
                        .iter()
                        .map(|i| i.achieved_tps)
                        .fold(f64::INFINITY, f64::min),
                    ..base(&during)
                },
            }
        })
        .collect();
    let crit =
        |name: &str, (op, limit): (Comparison, f64), actual: f64, passed: bool| CriterionResult {
            name: name.into(),
            op,
            limit,
            outcome: if passed {
                CriterionOutcome::Passed { actual }
            } else {
                CriterionOutcome::Failed { actual }
            },
        };
    let p99 = s.latency_ms.p99;
    s.criteria = vec![
        crit(
            "latency_ms.p99 < 40",
            (Comparison::Lt, 40.0),
            p99,
            p99 < 40.0,
        ),
        crit(
            "errors.rate < 0.01",
            (Comparison::Lt, 0.01),
            s.errors.rate,
            s.errors.rate < 0.01,
        ),
        crit(
            "fraud.recall >= 0.9",
            (Comparison::Ge, 0.9),
            s.fraud.recall,
            s.fraud.recall >= 0.9,
        ),
        crit(
            "load.dropped <= 500",
            (Comparison::Le, 500.0),
            c.dropped as f64,
            c.dropped <= 500,
        ),
    ];
    s.passed = s.criteria.iter().all(|c| c.passed());
    s
}

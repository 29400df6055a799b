//! The one-line story of a run, written from its measurements only: the longest stretch of steady
//! throughput, how each fault was absorbed, detection quality, and (for a business audience) money.
//!
//! ```
//! use dashboard_server::narrative::{held_stretch, duration_text};
//! use models::IntervalSnapshot;
//! let ticks: Vec<IntervalSnapshot> = (1..=240)
//!     .map(|i| IntervalSnapshot { t_s: i as f64, interval_s: 1.0, achieved_tps: 5012.0, ..Default::default() })
//!     .collect();
//! let held = held_stretch(&ticks).unwrap();
//! assert_eq!((held.tps.round(), duration_text(held.duration_s)), (5012.0, "4 min".to_string()));
//! ```

use crate::headline::Headline;
use crate::presentation::Tone;
use models::{Currency, FaultKind, FaultResult, IntervalSnapshot};

/// A stretch of consecutive ticks whose throughput stayed within 10% of the stretch's mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Held {
    pub tps: f64,
    pub duration_s: f64,
    pub start_s: f64,
}

/// How far a tick may stray from the stretch's mean and still count as held.
const STEADY: f64 = 0.10;

/// The longest steady stretch (the faster one on a tie); `None` without traffic.
pub fn held_stretch(ticks: &[IntervalSnapshot]) -> Option<Held> {
    let mut best: Option<Held> = None;
    let (mut sum, mut n, mut dur, mut start) = (0.0, 0u32, 0.0, 0.0);
    let close = |sum: f64, n: u32, dur: f64, start: f64, best: &mut Option<Held>| {
        if n == 0 {
            return;
        }
        let cand = Held {
            tps: sum / n as f64,
            duration_s: dur,
            start_s: start,
        };
        let better = best.is_none_or(|b| {
            cand.duration_s > b.duration_s + 1e-9
                || ((cand.duration_s - b.duration_s).abs() <= 1e-9 && cand.tps > b.tps)
        });
        if better {
            *best = Some(cand);
        }
    };
    for t in ticks {
        let tps = t.achieved_tps;
        if tps <= 0.0 {
            close(sum, n, dur, start, &mut best);
            (sum, n, dur) = (0.0, 0, 0.0);
            continue;
        }
        if n > 0 {
            let mean = sum / n as f64;
            if (tps - mean).abs() > STEADY * mean {
                close(sum, n, dur, start, &mut best);
                (sum, n, dur) = (0.0, 0, 0.0);
            }
        }
        if n == 0 {
            start = t.t_s - t.interval_s;
        }
        sum += tps;
        n += 1;
        dur += t.interval_s;
    }
    close(sum, n, dur, start, &mut best);
    best
}

/// `45 s`, `4 min`, `4 min 12 s`, `1 h 5 min`.
pub fn duration_text(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s < 90 {
        return format!("{s} s");
    }
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, sec) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{m} min {sec} s"),
        (_, _) if m == 0 => format!("{h} h"),
        _ => format!("{h} h {m} min"),
    }
}

/// `5,012`: whole numbers with separators ([`models::format::thousands`], the one formatter).
pub fn thousands(v: f64) -> String {
    models::format::thousands(v, 0)
}

/// `2.4 million`, `12,345`.
fn count_text(n: u64) -> String {
    match n {
        0..1_000_000 => thousands(n as f64),
        1_000_000..1_000_000_000 => format!("{:.1} million", n as f64 / 1e6),
        _ => format!("{:.1} billion", n as f64 / 1e9),
    }
}

/// `$1.2M`, `€3,400`, `CHF 12`.
pub fn money_text(v: f64, c: Currency) -> String {
    let (pre, post) = match c {
        Currency::USD => ("$", ""),
        Currency::EUR => ("€", ""),
        Currency::GBP => ("£", ""),
        Currency::JPY => ("¥", ""),
        other => ("", other.code()),
    };
    let body = match v.abs() {
        x if x >= 1e9 => format!("{:.1}B", v / 1e9),
        x if x >= 1e6 => format!("{:.1}M", v / 1e6),
        _ => models::format::amount(v),
    };
    if post.is_empty() {
        format!("{pre}{body}")
    } else {
        format!("{body} {post}")
    }
}

fn fault_name(kind: FaultKind, technical: bool) -> &'static str {
    match (kind, technical) {
        (FaultKind::AgentCrash, true) => "an agent crash",
        (FaultKind::AgentCrash, false) => "an agent failure",
        (FaultKind::DbThrottle, _) => "database throttling",
        (FaultKind::StreamLag, _) => "stream lag",
        (FaultKind::ModelRateLimit, _) => "a model rate limit",
        (FaultKind::NetworkPartition, _) => "a network partition",
        (FaultKind::LatencySpike, _) => "a latency spike",
        (FaultKind::ConnectionReset, _) => "connection resets",
        (FaultKind::BandwidthLimit, _) => "a bandwidth limit",
        (FaultKind::SlowResponse, _) => "slow responses",
        (FaultKind::HttpError, _) => "HTTP errors",
    }
}

/// Where a fault stands: still on, over (run going on), or the run is over.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FaultTime {
    Active,
    Over,
    RunOver,
}

fn fault_clause(f: &FaultResult, technical: bool, when: FaultTime) -> String {
    let name = fault_name(f.kind, technical);
    let on = match (&f.stage, technical) {
        (Some(s), true) => format!(" on {s}"),
        _ => String::new(),
    };
    match (f.time_to_recover_s, f.time_to_detect_s) {
        (Some(r), Some(_)) => format!("{name}{on} was absorbed in {r:.1} s"),
        (Some(_), None) => format!("{name}{on} caused no measurable degradation"),
        (None, _) => match when {
            FaultTime::Active => format!("{name}{on} is being absorbed"),
            FaultTime::Over => format!("{name}{on} has not been recovered from yet"),
            FaultTime::RunOver => format!("{name}{on} had not been recovered from by the end"),
        },
    }
}

/// What to write about: the ticks so far, the faults (finished ones with results) and the headline
/// figures. `run_over` says whether unrecovered faults are final.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub ticks: &'a [IntervalSnapshot],
    pub faults: &'a [FaultResult],
    pub headline: &'a Headline,
    pub run_over: bool,
}

/// The narrative line for `tone`. Every figure in it is measured or derived from the cost model.
pub fn narrative(facts: Facts<'_>, tone: Tone) -> String {
    let h = facts.headline;
    if facts.ticks.is_empty() && h.transactions == 0 {
        return "Waiting for the first measurements.".into();
    }
    let held = held_stretch(facts.ticks).filter(|s| s.duration_s >= 5.0);
    let technical = tone == Tone::Technical;
    let faults: Vec<String> = facts
        .faults
        .iter()
        .map(|f| {
            let when = if facts.run_over {
                FaultTime::RunOver
            } else if f.end_s < h.t_s - 1e-9 || f.time_to_recover_s.is_some() {
                FaultTime::Over
            } else {
                FaultTime::Active
            };
            fault_clause(f, technical, when)
        })
        .collect();
    let mut parts = Vec::new();
    if technical {
        parts.push(match held {
            Some(s) => format!(
                "Held {} TPS for {}",
                thousands(s.tps),
                duration_text(s.duration_s)
            ),
            None => format!(
                "Peaked at {} TPS over {}",
                thousands(h.peak_tps),
                duration_text(h.t_s)
            ),
        });
        if h.p99_ms > 0.0 {
            parts[0].push_str(&format!(" at p99 {:.0} ms", h.p99_ms));
        }
        parts.extend(faults);
        parts.push(format!(
            "recall {:.1}%, precision {:.1}%",
            h.recall * 100.0,
            h.precision * 100.0
        ));
        if h.fraud_unscored > 0 {
            parts.push(format!(
                "{:.1}% of all fraud caught ({} fraudulent payments got no verdict)",
                h.recall_effective * 100.0,
                count_text(h.fraud_unscored)
            ));
        }
        if h.uptime_pct < 100.0 {
            parts.push(format!("uptime {:.1}%", h.uptime_pct));
        }
    } else {
        let mut first = format!("Checked {} payments", count_text(h.transactions));
        if h.fraud_blocked > 0 {
            first.push_str(&format!(
                " and stopped {} fraudulent ones worth {}",
                count_text(h.fraud_blocked),
                money_text(h.money_saved, h.currency)
            ));
        }
        if let Some(c) = h.cost_per_txn {
            first.push_str(&format!(" at {} per payment", money_text(c, h.currency)));
        }
        parts.push(first);
        if let Some(s) = held {
            parts.push(format!(
                "kept up {} payments a second for {}",
                thousands(s.tps),
                duration_text(s.duration_s)
            ));
        }
        parts.push(format!(
            "the service stayed up {:.1}% of the time",
            h.uptime_pct
        ));
        parts.extend(faults);
    }
    let mut text = parts.join("; ");
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headline::{Headline, Money};
    use models::{Baseline, CostModel, DegradationLevel, RunState, Summary};

    fn ticks(spec: &[(f64, usize)]) -> Vec<IntervalSnapshot> {
        let mut out = Vec::new();
        for &(tps, n) in spec {
            for _ in 0..n {
                let t = out.len() as f64 + 1.0;
                out.push(IntervalSnapshot {
                    t_s: t,
                    interval_s: 1.0,
                    achieved_tps: tps,
                    state: RunState::Running,
                    ..Default::default()
                });
            }
        }
        out
    }

    fn crash(recover: Option<f64>) -> FaultResult {
        FaultResult {
            kind: FaultKind::AgentCrash,
            stage: Some("pattern_detector".into()),
            start_s: 300.0,
            end_s: 330.0,
            max_level: DegradationLevel::Severe,
            time_to_detect_s: Some(1.0),
            time_to_recover_s: recover,
            cascade: Some(false),
            baseline: Baseline::default(),
            worst: Baseline::default(),
        }
    }

    fn headline(transactions: u64, t_s: f64) -> Headline {
        let mut s = Summary::default();
        s.load.completed = transactions;
        s.duration_s = t_s;
        s.fraud.tp = 1234;
        s.fraud.prevented_amount = 1_234_567.0;
        s.fraud.recall = 0.941;
        s.fraud.precision = 0.9;
        s.latency_ms.p99 = 42.4;
        s.business.total_cost = 600.0;
        s.business.cost_per_txn = 0.00025;
        s.resilience.uptime_pct = 99.5;
        Headline::from_summary(&s, Money::new(&CostModel::default(), None))
    }

    #[test]
    fn finds_the_longest_steady_stretch() {
        // A ramp, four minutes around 5,000 TPS, a dip during a fault, then a shorter hold.
        let mut t = ticks(&[
            (1000.0, 5),
            (3000.0, 5),
            (5012.0, 240),
            (1500.0, 10),
            (5000.0, 60),
        ]);
        t[100].achieved_tps = 4700.0;
        let h = held_stretch(&t).unwrap();
        assert_eq!(h.duration_s, 240.0);
        assert!((h.tps - (5012.0 * 239.0 + 4700.0) / 240.0).abs() < 1e-6);
        assert_eq!(h.start_s, 10.0);
        assert_eq!(held_stretch(&ticks(&[(0.0, 10)])), None);
    }

    #[test]
    fn technical_line_names_rates_durations_and_recovery() {
        let t = ticks(&[(5012.0, 240)]);
        let h = headline(1_200_000, 240.0);
        let line = narrative(
            Facts {
                ticks: &t,
                faults: &[crash(Some(7.2))],
                headline: &h,
                run_over: true,
            },
            Tone::Technical,
        );
        assert_eq!(
            line,
            "Held 5,012 TPS for 4 min at p99 42 ms; an agent crash on pattern_detector was absorbed in 7.2 s; \
             recall 94.1%, precision 90.0%; uptime 99.5%."
        );
    }

    #[test]
    fn technical_line_names_fraud_that_got_no_verdict() {
        let t = ticks(&[(5012.0, 240)]);
        let mut h = headline(1_200_000, 240.0);
        h.fraud_unscored = 2_500;
        h.recall_effective = 0.3;
        let line = narrative(
            Facts {
                ticks: &t,
                faults: &[],
                headline: &h,
                run_over: true,
            },
            Tone::Technical,
        );
        assert!(
            line.contains(
                "recall 94.1%, precision 90.0%; 30.0% of all fraud caught (2,500 fraudulent payments got no verdict)"
            ),
            "{line}"
        );
    }

    #[test]
    fn business_line_speaks_of_payments_and_money() {
        let t = ticks(&[(5012.0, 240)]);
        let h = headline(2_400_000, 240.0);
        let line = narrative(
            Facts {
                ticks: &t,
                faults: &[crash(None)],
                headline: &h,
                run_over: true,
            },
            Tone::Business,
        );
        assert_eq!(
            line,
            "Checked 2.4 million payments and stopped 1,234 fraudulent ones worth $1.2M at $0.000250 per payment; \
             kept up 5,012 payments a second for 4 min; the service stayed up 99.5% of the time; \
             an agent failure had not been recovered from by the end."
        );
    }

    #[test]
    fn formats() {
        assert_eq!(duration_text(45.0), "45 s");
        assert_eq!(duration_text(252.0), "4 min 12 s");
        assert_eq!(duration_text(3900.0), "1 h 5 min");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(money_text(3400.5, Currency::CHF), "3,400.50 CHF");
        assert_eq!(money_text(1314.75, Currency::USD), "$1,314.75");
        assert_eq!(money_text(12_345.0, Currency::EUR), "€12,345");
        let empty = headline(0, 0.0);
        assert_eq!(
            narrative(
                Facts {
                    ticks: &[],
                    faults: &[],
                    headline: &empty,
                    run_over: false
                },
                Tone::Technical
            ),
            "Waiting for the first measurements."
        );
    }
}

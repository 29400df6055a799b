//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4), so a run can be scraped
//! into an existing Prometheus/Grafana: throughput, latency (histogram buckets from the run's HDR
//! histograms, and quantiles), errors by kind, fraud caught, run state and the dashboard's own drops.

use hdrhistogram::Histogram;
use models::{IntervalSnapshot, RunState, Summary};
use std::fmt::Write as _;

/// Bucket bounds in milliseconds.
pub const BUCKETS_MS: [f64; 16] = [
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    30_000.0, 60_000.0, 120_000.0,
];

/// What is rendered, copied out of the feed.
#[derive(Debug, Clone)]
pub struct View {
    pub state: RunState,
    pub last: Option<IntervalSnapshot>,
    pub summary: Option<Summary>,
    /// Whole-run latency from the intended send time, in microseconds.
    pub latency_us: Option<Histogram<u64>>,
    pub uptime_pct: f64,
    pub clients: usize,
    pub dropped_messages: u64,
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Escapes a label value (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text.
pub fn render(v: &View) -> String {
    let mut o = String::new();
    let c = v
        .last
        .as_ref()
        .map(|f| f.cumulative.clone())
        .unwrap_or_default();
    let s = v.summary.as_ref();
    // Counters come from the summary once the run is over, so they equal summary.json's.
    let (scheduled, sent, completed, dropped, shed) = match s {
        Some(s) => (
            s.load.scheduled,
            s.load.sent,
            s.load.completed,
            s.load.dropped,
            s.load.dropped_ceiling,
        ),
        None => (
            c.scheduled,
            c.sent,
            c.completed,
            c.dropped,
            c.dropped_ceiling,
        ),
    };

    head(
        &mut o,
        "fraudstress_run_state",
        "gauge",
        "1 for the run's current state, 0 for the others.",
    );
    for st in RunState::ALL {
        let _ = writeln!(
            o,
            "fraudstress_run_state{{state=\"{}\"}} {}",
            st.as_str(),
            u8::from(st == v.state)
        );
    }
    head(
        &mut o,
        "fraudstress_elapsed_seconds",
        "gauge",
        "Seconds since the run started.",
    );
    let t = s
        .map(|s| s.duration_s)
        .or(v.last.as_ref().map(|f| f.t_s))
        .unwrap_or(0.0);
    let _ = writeln!(o, "fraudstress_elapsed_seconds {}", num(t));

    for (name, help, value) in [
        (
            "fraudstress_transactions_scheduled_total",
            "Arrivals due so far.",
            scheduled,
        ),
        (
            "fraudstress_transactions_sent_total",
            "Requests sent.",
            sent,
        ),
        (
            "fraudstress_transactions_completed_total",
            "Requests completed (with a verdict or an error).",
            completed,
        ),
        (
            "fraudstress_transactions_dropped_total",
            "Arrivals never sent because the in-flight bound was reached.",
            dropped,
        ),
        (
            "fraudstress_transactions_shed_ceiling_total",
            "Arrivals never sent because the max_tps ceiling shed them.",
            shed,
        ),
    ] {
        head(&mut o, name, "counter", help);
        let _ = writeln!(o, "{name} {value}");
    }

    let last = v.last.clone().unwrap_or_default();
    head(
        &mut o,
        "fraudstress_throughput_tps",
        "gauge",
        "Completions per second in the last tick.",
    );
    let _ = writeln!(o, "fraudstress_throughput_tps {}", num(last.achieved_tps));
    head(
        &mut o,
        "fraudstress_planned_tps",
        "gauge",
        "The profile's planned rate at the last tick.",
    );
    let _ = writeln!(o, "fraudstress_planned_tps {}", num(last.planned_tps));
    head(
        &mut o,
        "fraudstress_in_flight",
        "gauge",
        "Requests in flight at the last tick.",
    );
    let _ = writeln!(o, "fraudstress_in_flight {}", last.in_flight);

    head(
        &mut o,
        "fraudstress_errors_total",
        "counter",
        "Requests that ended without a verdict, by kind.",
    );
    let errors = match s {
        Some(s) => s.errors.by_kind.clone(),
        None => c.errors.clone(),
    };
    for (kind, n) in &errors {
        let kind = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "fraudstress_errors_total{{kind=\"{}\"}} {n}",
            label(&kind)
        );
    }

    let (tp, fp, tn, fn_, unscored, prevented) = match s {
        Some(s) => (
            s.fraud.tp,
            s.fraud.fp,
            s.fraud.tn,
            s.fraud.fn_,
            s.fraud.unscored,
            s.fraud.prevented_amount,
        ),
        None => (
            c.fraud.tp,
            c.fraud.fp,
            c.fraud.tn,
            c.fraud.fn_,
            c.fraud.unscored,
            c.prevented_amount,
        ),
    };
    head(
        &mut o,
        "fraudstress_fraud_caught_total",
        "counter",
        "Fraudulent transactions declined or sent to review.",
    );
    let _ = writeln!(o, "fraudstress_fraud_caught_total {tp}");
    head(
        &mut o,
        "fraudstress_fraud_missed_total",
        "counter",
        "Fraudulent transactions approved.",
    );
    let _ = writeln!(o, "fraudstress_fraud_missed_total {fn_}");
    head(
        &mut o,
        "fraudstress_fraud_unscored_total",
        "counter",
        "Fraudulent transactions that got no verdict (error, timeout or dropped).",
    );
    let _ = writeln!(o, "fraudstress_fraud_unscored_total {unscored}");
    head(
        &mut o,
        "fraudstress_false_positives_total",
        "counter",
        "Legitimate transactions flagged.",
    );
    let _ = writeln!(o, "fraudstress_false_positives_total {fp}");
    head(
        &mut o,
        "fraudstress_true_negatives_total",
        "counter",
        "Legitimate transactions approved.",
    );
    let _ = writeln!(o, "fraudstress_true_negatives_total {tn}");
    head(
        &mut o,
        "fraudstress_fraud_prevented_amount",
        "counter",
        "Caught fraud amount, in the reporting currency.",
    );
    let _ = writeln!(o, "fraudstress_fraud_prevented_amount {}", num(prevented));
    head(
        &mut o,
        "fraudstress_cost_total",
        "counter",
        "Running cost from the declared cost model.",
    );
    let _ = writeln!(
        o,
        "fraudstress_cost_total {}",
        num(s.map_or(c.cost, |s| s.business.total_cost))
    );
    head(
        &mut o,
        "fraudstress_uptime_ratio",
        "gauge",
        "Share of ticks in which the target answered (0..1).",
    );
    let _ = writeln!(o, "fraudstress_uptime_ratio {}", num(v.uptime_pct / 100.0));

    if let Some(h) = &v.latency_us {
        head(
            &mut o,
            "fraudstress_latency_ms",
            "histogram",
            "Latency from the intended send time, in milliseconds.",
        );
        for le in BUCKETS_MS {
            let n = if h.is_empty() {
                0
            } else {
                h.count_between(0, (le * 1000.0) as u64)
            };
            let _ = writeln!(o, "fraudstress_latency_ms_bucket{{le=\"{}\"}} {n}", num(le));
        }
        let _ = writeln!(
            o,
            "fraudstress_latency_ms_bucket{{le=\"+Inf\"}} {}",
            h.len()
        );
        let _ = writeln!(
            o,
            "fraudstress_latency_ms_sum {}",
            num(h.mean() * h.len() as f64 / 1000.0)
        );
        let _ = writeln!(o, "fraudstress_latency_ms_count {}", h.len());
    }
    let p = s.map_or(c.latency_ms, |s| s.latency_ms);
    head(
        &mut o,
        "fraudstress_latency_quantile_ms",
        "gauge",
        "Whole-run latency percentiles, in milliseconds.",
    );
    for (q, val) in [
        ("0.5", p.p50),
        ("0.9", p.p90),
        ("0.95", p.p95),
        ("0.99", p.p99),
        ("0.999", p.p999),
        ("1", p.max),
    ] {
        let _ = writeln!(
            o,
            "fraudstress_latency_quantile_ms{{quantile=\"{q}\"}} {}",
            num(val)
        );
    }

    if !last.agents.is_empty() {
        head(
            &mut o,
            "fraudstress_agent_health",
            "gauge",
            "Agent health at the last tick (0..100).",
        );
        for a in &last.agents {
            let _ = writeln!(
                o,
                "fraudstress_agent_health{{agent=\"{}\"}} {}",
                label(&a.name),
                num(a.health)
            );
        }
        head(
            &mut o,
            "fraudstress_agent_mean_latency_ms",
            "gauge",
            "Agent mean latency at the last tick.",
        );
        for a in &last.agents {
            let _ = writeln!(
                o,
                "fraudstress_agent_mean_latency_ms{{agent=\"{}\"}} {}",
                label(&a.name),
                num(a.mean_ms)
            );
        }
    }
    head(
        &mut o,
        "fraudstress_dashboard_clients",
        "gauge",
        "Browsers connected to the dashboard feed.",
    );
    let _ = writeln!(o, "fraudstress_dashboard_clients {}", v.clients);
    head(
        &mut o,
        "fraudstress_dashboard_dropped_messages_total",
        "counter",
        "Feed messages dropped for browsers that fell behind.",
    );
    let _ = writeln!(
        o,
        "fraudstress_dashboard_dropped_messages_total {}",
        v.dropped_messages
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let mut h = orchestrator::histogram::empty();
        for us in [500u64, 1_500, 3_000, 40_000, 40_000, 2_000_000] {
            h.record(us).unwrap();
        }
        let view = View {
            state: RunState::Running,
            last: None,
            summary: None,
            latency_us: Some(h),
            uptime_pct: 100.0,
            clients: 0,
            dropped_messages: 0,
        };
        let text = render(&view);
        assert!(
            text.contains("fraudstress_latency_ms_bucket{le=\"1\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("fraudstress_latency_ms_bucket{le=\"2\"} 2\n"));
        assert!(text.contains("fraudstress_latency_ms_bucket{le=\"50\"} 5\n"));
        assert!(text.contains("fraudstress_latency_ms_bucket{le=\"+Inf\"} 6\n"));
        assert!(text.contains("fraudstress_latency_ms_count 6\n"));
        assert!(text.contains("fraudstress_run_state{state=\"running\"} 1\n"));
        assert!(text.contains("fraudstress_run_state{state=\"paused\"} 0\n"));
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

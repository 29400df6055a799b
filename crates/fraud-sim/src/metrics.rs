//! The `/metrics` page: per-stage counters, gauges and latency histograms, decisions and errors, in the
//! Prometheus text exposition format (version 0.0.4), written by hand.

use crate::Pipeline;
use crate::stage::{BUCKETS_US, StageName};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The content type of the page.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Reads one figure off a stage snapshot.
type StageValue = fn(&crate::StageSnapshot) -> f64;

pub(crate) fn render(p: &Pipeline) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let stages = p.stages();
    let per_stage: [(&str, &str, &str, StageValue); 7] = [
        (
            "fraudsim_stage_requests_total",
            "counter",
            "Requests that left the stage (served, skipped or failed).",
            |s| s.requests as f64,
        ),
        (
            "fraudsim_stage_failures_total",
            "counter",
            "Requests the stage failed or skipped (ok=false).",
            |s| s.failures as f64,
        ),
        (
            "fraudsim_stage_skipped_total",
            "counter",
            "Requests that skipped the stage after waiting past its deadline.",
            |s| s.skipped as f64,
        ),
        (
            "fraudsim_stage_busy_seconds_total",
            "counter",
            "Time the stage's servers spent serving.",
            |s| s.busy.as_secs_f64(),
        ),
        (
            "fraudsim_stage_queue_depth",
            "gauge",
            "Requests waiting for the stage now.",
            |s| s.queue_depth as f64,
        ),
        (
            "fraudsim_stage_in_service",
            "gauge",
            "Requests the stage is serving now.",
            |s| s.in_service as f64,
        ),
        (
            "fraudsim_stage_concurrency",
            "gauge",
            "Requests the stage serves at once.",
            |s| s.concurrency as f64,
        ),
    ];
    for (name, kind, help, value) in per_stage {
        header(&mut out, name, kind, help);
        for s in &stages {
            let _ = writeln!(out, "{name}{{stage=\"{}\"}} {}", s.name, value(s));
        }
    }

    let name = "fraudsim_stage_latency_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "Time in the stage, queueing included.",
    );
    for stage in StageName::ALL {
        let rt = p.stage_runtime(stage);
        let mut cumulative = 0u64;
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            cumulative += rt.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{stage=\"{stage}\",le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        cumulative += rt.buckets[BUCKETS_US.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {cumulative}"
        );
        let sum = rt.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{stage=\"{stage}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{stage=\"{stage}\"}} {cumulative}");
    }

    let o = p.outcomes();
    header(
        &mut out,
        "fraudsim_decisions_total",
        "counter",
        "Verdicts by decision.",
    );
    for (i, d) in ["approve", "review", "decline"].iter().enumerate() {
        let _ = writeln!(
            out,
            "fraudsim_decisions_total{{decision=\"{d}\"}} {}",
            o.decisions[i].load(Ordering::Relaxed)
        );
    }
    header(
        &mut out,
        "fraudsim_errors_total",
        "counter",
        "Requests without a verdict, by answer (dropped = closed unanswered).",
    );
    for (label, c) in [
        ("429", &o.status_429),
        ("503", &o.status_503),
        ("other", &o.status_other),
        ("dropped", &o.dropped),
    ] {
        let _ = writeln!(
            out,
            "fraudsim_errors_total{{status=\"{label}\"}} {}",
            c.load(Ordering::Relaxed)
        );
    }
    header(
        &mut out,
        "fraudsim_degraded_verdicts_total",
        "counter",
        "Verdicts reached with an agent skipped or failed.",
    );
    let _ = writeln!(
        out,
        "fraudsim_degraded_verdicts_total {}",
        o.degraded.load(Ordering::Relaxed)
    );
    header(
        &mut out,
        "fraudsim_active_faults",
        "gauge",
        "Injected faults in place now.",
    );
    let _ = writeln!(out, "fraudsim_active_faults {}", p.faults().active().len());
    header(
        &mut out,
        "fraudsim_cards",
        "gauge",
        "Cards the detector has seen a transaction of (traffic or history).",
    );
    let _ = writeln!(out, "fraudsim_cards {}", p.cards());
    header(
        &mut out,
        "fraudsim_card_states",
        "gauge",
        "Card states held by the per-card store, seen or reserved up front (its memory).",
    );
    let _ = writeln!(out, "fraudsim_card_states {}", p.card_states());
    header(
        &mut out,
        "fraudsim_uptime_seconds",
        "gauge",
        "Time since the pipeline started.",
    );
    let _ = writeln!(out, "fraudsim_uptime_seconds {}", p.uptime().as_secs_f64());
    process(&mut out);
    out
}

/// The standard process metrics that Prometheus client libraries export, so that a run's
/// `metrics_url` reads this service like any other. They describe the whole process serving the
/// page: run inside the load generator (as `stress-runner run --target builtin` does), that is the
/// generator and the service together. Left out when the process's statistics cannot be read.
fn process(out: &mut String) {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(pid) = sysinfo::get_current_pid() else {
        return;
    };
    let Ok(mut system) = System::new() else {
        return;
    };
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing().with_cpu().with_memory(),
    );
    let Some(me) = system.process(pid) else {
        return;
    };
    header(
        out,
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    );
    let cpu_s = me.accumulated_cpu_time() as f64 / 1000.0;
    let _ = writeln!(out, "process_cpu_seconds_total {cpu_s}");
    header(
        out,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    );
    let _ = writeln!(out, "process_resident_memory_bytes {}", me.memory());
}

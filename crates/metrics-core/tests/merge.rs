//! Merging the snapshots and summaries of several recorders equals one recorder that saw every sample.

mod support;

use metrics_core::{MetricsConfig, Recorder, SnapshotMerger, merge_summaries};
use models::{AgentStats, IntervalSnapshot, Percentiles};
use std::time::Duration;
use support::record_sample;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn assert_agents_match(merged: &[AgentStats], single: &[AgentStats]) {
    assert_eq!(merged.len(), single.len());
    for (m, s) in merged.iter().zip(single) {
        assert_eq!((&m.name, m.requests), (&s.name, s.requests));
        assert!(
            close(m.mean_ms, s.mean_ms) && close(m.success_rate, s.success_rate),
            "{m:?} vs {s:?}"
        );
        assert!(close(m.utilization, s.utilization), "{m:?} vs {s:?}");
        // A bound, not an equality: the merged p99 is the largest part's p99.
        assert!(m.p99_ms >= s.p99_ms * 0.99, "{m:?} vs {s:?}");
    }
}

fn assert_snapshots_match(m: &IntervalSnapshot, s: &IntervalSnapshot) {
    assert_eq!(
        (
            m.scheduled,
            m.sent,
            m.completed,
            m.ok,
            m.dropped,
            m.in_flight
        ),
        (
            s.scheduled,
            s.sent,
            s.completed,
            s.ok,
            s.dropped,
            s.in_flight
        )
    );
    assert_eq!(m.errors, s.errors);
    assert_percentiles(&m.latency_ms, &s.latency_ms);
    assert_percentiles(&m.service_time_ms, &s.service_time_ms);
    assert_eq!(m.fraud, s.fraud);
    assert_eq!(m.per_pattern, s.per_pattern);
    assert!(close(m.achieved_tps, s.achieved_tps));
    assert_eq!(m.histograms, s.histograms);
    let (mc, sc) = (&m.cumulative, &s.cumulative);
    assert_eq!(
        (mc.scheduled, mc.sent, mc.completed, mc.dropped),
        (sc.scheduled, sc.sent, sc.completed, sc.dropped)
    );
    assert_eq!(mc.errors, sc.errors);
    assert_percentiles(&mc.latency_ms, &sc.latency_ms);
    assert_percentiles(&mc.service_time_ms, &sc.service_time_ms);
    assert_eq!(mc.fraud, sc.fraud);
    assert!(
        close(mc.prevented_amount, sc.prevented_amount)
            && close(mc.false_decline_amount, sc.false_decline_amount)
    );
    assert!(close(mc.cost, sc.cost));
    assert_agents_match(&m.agents, &s.agents);
}

fn assert_percentiles(m: &Percentiles, s: &Percentiles) {
    assert_eq!(m.count, s.count);
    assert!(close(m.mean, s.mean));
    assert_eq!(
        (m.p50, m.p90, m.p95, m.p99, m.p999, m.max),
        (s.p50, s.p90, s.p95, s.p99, s.p999, s.max)
    );
}

#[test]
fn merged_parts_equal_one_recorder_that_saw_everything() {
    let cfg = MetricsConfig::default();
    let parts: Vec<Recorder> = (0..3)
        .map(|_| Recorder::new(cfg.clone()).unwrap())
        .collect();
    let union = Recorder::new(cfg.clone()).unwrap();
    let mut part_shards: Vec<_> = parts.iter().map(Recorder::shard).collect();
    let mut union_shard = union.shard();
    let mut merger = SnapshotMerger::new(cfg.clone());
    let mut i = 0u64;
    for tick in 1..=4u64 {
        let base = Duration::from_secs(tick - 1);
        for _ in 0..(3_000 * tick) {
            i += 1;
            record_sample(&mut part_shards[(i % 3) as usize], i, base);
            record_sample(&mut union_shard, i, base);
        }
        let now = Duration::from_secs(tick);
        let snaps: Vec<_> = parts.iter().map(|r| r.tick(now)).collect();
        let merged = merger.merge_tick(&snaps).unwrap();
        let single = union.tick(now);
        assert!(single.completed > 0 && !single.agents.is_empty() && single.fraud.tp > 0);
        assert!(single.cumulative.fraud.unscored > 0);
        assert_snapshots_match(&merged, &single);
        // Serialized and read back (floats may move by an ulp in serde_json), it merges the same.
        let back: Vec<IntervalSnapshot> = snaps
            .iter()
            .map(|s| serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap())
            .collect();
        let mut again = SnapshotMerger::new(cfg.clone());
        if tick == 1 {
            assert_snapshots_match(&again.merge_tick(&back).unwrap(), &single);
        }
    }

    let elapsed = Duration::from_secs(4);
    let summaries: Vec<_> = parts.iter().map(|r| r.summary(elapsed)).collect();
    let merged = merge_summaries(&summaries, &cfg).unwrap();
    let single = union.summary(elapsed);
    assert_percentiles(&merged.latency_ms, &single.latency_ms);
    assert_percentiles(&merged.service_time_ms, &single.service_time_ms);
    assert_eq!(merged.errors, single.errors);
    assert_eq!(merged.histograms, single.histograms);
    let (mf, sf) = (&merged.fraud, &single.fraud);
    assert_eq!(
        (mf.tp, mf.fp, mf.tn, mf.fn_, mf.unscored),
        (sf.tp, sf.fp, sf.tn, sf.fn_, sf.unscored)
    );
    assert!(
        sf.unscored > 0,
        "the samples include fraud that got no verdict"
    );
    assert_eq!(
        (mf.precision, mf.recall, mf.accuracy, mf.f1),
        (sf.precision, sf.recall, sf.accuracy, sf.f1)
    );
    assert_eq!(mf.recall_effective, sf.recall_effective);
    assert!(sf.recall_effective < sf.recall);
    assert_eq!(mf.per_pattern, sf.per_pattern);
    assert!(
        close(mf.prevented_amount, sf.prevented_amount)
            && close(mf.false_decline_amount, sf.false_decline_amount)
    );
    let (mb, sb) = (&merged.business, &single.business);
    assert!(
        close(mb.total_cost, sb.total_cost)
            && close(mb.cost_per_txn, sb.cost_per_txn)
            && close(mb.roi_pct, sb.roi_pct)
    );
    let (ml, sl) = (&merged.load, &single.load);
    assert_eq!(
        (ml.scheduled, ml.sent, ml.completed, ml.dropped),
        (sl.scheduled, sl.sent, sl.completed, sl.dropped)
    );
    assert!(
        close(ml.achieved_tps_avg, sl.achieved_tps_avg)
            && close(ml.target_tps_avg, sl.target_tps_avg)
    );
    assert!(
        ml.peak_tps >= sl.peak_tps,
        "the merged peak is an upper bound"
    );
    assert_agents_match(&merged.agents, &single.agents);
}

#[test]
fn merging_without_histograms_is_a_clear_error() {
    let cfg = MetricsConfig {
        encode_histograms: false,
        ..MetricsConfig::default()
    };
    let r = Recorder::new(cfg.clone()).unwrap();
    let snap = r.tick(Duration::from_secs(1));
    let err = SnapshotMerger::new(cfg.clone())
        .merge_tick(&[snap])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("part 0") && err.contains("encode_histograms"),
        "{err}"
    );
    assert!(merge_summaries(&[], &cfg).is_err());
}

#[test]
fn without_histograms_counts_stay_exact_and_percentiles_are_bounds() {
    let part = |completed: u64, p99: f64, mean: f64| IntervalSnapshot {
        t_s: 1.0,
        interval_s: 1.0,
        scheduled: completed,
        sent: completed,
        completed,
        ok: completed,
        latency_ms: Percentiles {
            count: completed,
            mean,
            p50: p99 / 2.0,
            p99,
            max: p99,
            ..Percentiles::default()
        },
        ..IntervalSnapshot::default()
    };
    let merged = SnapshotMerger::new(MetricsConfig::default())
        .merge_tick_bounded(&[part(100, 40.0, 10.0), part(300, 20.0, 6.0)])
        .unwrap();
    assert_eq!(merged.completed, 400);
    assert_eq!(merged.achieved_tps, 400.0);
    assert_eq!(merged.latency_ms.count, 400);
    assert_eq!(
        merged.latency_ms.p99, 40.0,
        "the largest p99 bounds the merged one"
    );
    assert!(
        (merged.latency_ms.mean - 7.0).abs() < 1e-12,
        "count-weighted mean"
    );
    assert!(merged.histograms.is_none());
}

//! The [`Feed`]: where a run's frames, events and final summary come in (from a live run, a replay or a
//! test), what the pages are told on connecting, and the fan-out to each browser through its own
//! bounded queue. Publishing never waits for a browser: when a client's queue is full the message is
//! dropped for that client and counted.

use crate::headline::{Headline, Money};
use crate::narrative::{self, Facts};
use crate::presentation::Presentation;
use hdrhistogram::Histogram;
use models::{
    CostModel, EventKind, FaultResult, FaultSpec, IntervalSnapshot, MixSpec, RunEvent, RunState,
    Summary, TargetInfo, UptimeRule, UptimeTally,
};
use orchestrator::resilience::{self, FaultWindow};
use serde::Serialize;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How the feed keeps and hands out data.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Messages a browser may fall behind before newer ones are dropped for it.
    pub client_queue: usize,
    /// Ticks kept for charts and export (about 5 h of 1 s ticks); older ones are let go.
    pub max_ticks: usize,
    /// Ticks sent to a browser when it connects.
    pub hello_ticks: usize,
    /// Events kept.
    pub max_events: usize,
    pub presentation: Presentation,
    /// The run's declared cost model (replaced by the summary's at the end).
    pub cost_model: CostModel,
    /// The run's declared budget (`limits.budget`, in the cost model's currency), for the admin
    /// page's "budget used".
    pub budget: Option<f64>,
    /// When a tick counts as up: the scenario's rule, the one `summary.json` uses.
    pub uptime: UptimeRule,
    /// What the run is pointed at, as far as is known before it starts (the summary's at the end),
    /// so that the pages name what was tested.
    pub target: Option<TargetInfo>,
    /// The scenario's declared transaction mix (the summary's at the end): the pages say the
    /// traffic is synthetic, with this fraud share.
    pub mix: Option<MixSpec>,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            client_queue: 64,
            max_ticks: 18_000,
            hello_ticks: 1_200,
            max_events: 1_000,
            presentation: Presentation::default(),
            cost_model: CostModel::default(),
            budget: None,
            uptime: UptimeRule::default(),
            target: None,
            mix: None,
        }
    }
}

/// A point-in-time view of the feed for `/api/status` and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub state: RunState,
    pub t_s: f64,
    pub ticks: u64,
    pub events: usize,
    pub summary_ready: bool,
    pub clients: usize,
    /// Messages dropped for browsers that fell behind, over all clients.
    pub dropped_messages: u64,
    pub headline: Option<Headline>,
    pub narrative: String,
}

struct Client {
    id: u64,
    tx: mpsc::Sender<Arc<str>>,
    dropped: Arc<AtomicU64>,
}

/// A browser's end of the feed.
#[derive(Debug)]
pub struct Subscription {
    pub id: u64,
    /// The snapshot to send first (JSON).
    pub hello: String,
    pub rx: mpsc::Receiver<Arc<str>>,
    /// Messages dropped for this client.
    pub dropped: Arc<AtomicU64>,
}

struct State {
    /// Contiguous so the narrative and fault results read a slice; trimmed in chunks.
    ticks: Vec<IntervalSnapshot>,
    total_ticks: u64,
    uptime: UptimeTally,
    peak_tps: f64,
    events: VecDeque<RunEvent>,
    open_faults: Vec<(FaultSpec, Option<String>, f64)>,
    windows: Vec<FaultWindow>,
    faults: Vec<FaultResult>,
    summary: Option<Summary>,
    /// The run's `aws.json` (CloudWatch and X-Ray), kept as JSON: it arrives after the summary.
    aws: Option<serde_json::Value>,
    latency_us: Option<Histogram<u64>>,
    state: RunState,
    headline: Option<Headline>,
    narrative: String,
    last_frame_at: Option<Instant>,
    cost_model: CostModel,
    clients: Vec<Client>,
    next_id: u64,
    dropped_total: u64,
}

/// Cloneable handle: every clone feeds and reads the same dashboards.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    config: FeedConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("status", &self.status())
            .finish()
    }
}

impl Default for Feed {
    fn default() -> Self {
        Self::new(FeedConfig::default())
    }
}

/// Ticks as JSON lines, one per tick.
pub fn jsonl(ticks: &[IntervalSnapshot]) -> String {
    ticks
        .iter()
        .filter_map(|t| serde_json::to_string(t).ok())
        .map(|l| l + "\n")
        .collect()
}

/// A frame without its encoded histograms (the pages do not need them; `/metrics` keeps their sum).
fn light(frame: &IntervalSnapshot) -> IntervalSnapshot {
    IntervalSnapshot {
        histograms: None,
        ..frame.clone()
    }
}

impl Feed {
    pub fn new(config: FeedConfig) -> Self {
        let state = State {
            ticks: Vec::new(),
            total_ticks: 0,
            uptime: UptimeTally::new(config.uptime),
            peak_tps: 0.0,
            events: VecDeque::new(),
            open_faults: Vec::new(),
            windows: Vec::new(),
            faults: Vec::new(),
            summary: None,
            aws: None,
            latency_us: None,
            state: RunState::Idle,
            headline: None,
            narrative: "Waiting for the first measurements.".into(),
            last_frame_at: None,
            cost_model: config.cost_model.clone(),
            clients: Vec::new(),
            next_id: 0,
            dropped_total: 0,
        };
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(state),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn presentation(&self) -> &Presentation {
        &self.inner.config.presentation
    }

    fn money(&self, st: &State) -> Money {
        Money::new(&st.cost_model, self.inner.config.presentation.currency)
    }

    /// One metric tick of the run.
    pub fn frame(&self, frame: IntervalSnapshot) {
        let mut st = self.lock();
        if st.summary.is_some() {
            return;
        }
        if let Some(h) = frame
            .histograms
            .as_ref()
            .and_then(|h| orchestrator::histogram::merge([h.latency_us.as_str()]).ok())
        {
            match st.latency_us.as_mut() {
                Some(total) => {
                    let _ = total.add(&h);
                }
                None => st.latency_us = Some(h),
            }
        }
        let frame = light(&frame);
        st.total_ticks += 1;
        st.uptime.add(&frame);
        st.peak_tps = st.peak_tps.max(frame.achieved_tps);
        st.state = frame.state;
        st.ticks.push(frame.clone());
        let max = self.inner.config.max_ticks.max(1);
        if st.ticks.len() > max + max / 10 {
            let excess = st.ticks.len() - max;
            st.ticks.drain(..excess);
        }
        st.last_frame_at = Some(Instant::now());
        self.refresh_faults(&mut st, frame.t_s);
        let uptime = st.uptime.pct();
        let money = self.money(&st);
        let headline = Headline::from_frame(&frame, uptime, st.peak_tps, &st.cost_model, money)
            .with_budget(self.inner.config.budget, money)
            .with_run(self.inner.config.target.as_ref(), self.inner.config.mix);
        st.narrative = self.narrate(&st, &headline, false);
        st.headline = Some(headline);
        let msg = json!({
            "type": "frame", "frame": frame, "headline": st.headline, "narrative": st.narrative, "faults": st.faults,
        });
        self.publish(&mut st, msg.to_string());
    }

    /// Something that happened during the run.
    pub fn event(&self, event: RunEvent) {
        let mut st = self.lock();
        match &event.kind {
            EventKind::StateChanged { to, .. } if st.summary.is_none() => st.state = *to,
            EventKind::FaultStarted { fault, stage } => {
                let spec = FaultSpec::new(
                    *fault,
                    Duration::from_secs_f64(event.t_s.max(0.0)),
                    Duration::ZERO,
                );
                st.open_faults.push((spec, stage.clone(), event.t_s));
            }
            EventKind::FaultEnded { fault, stage } => {
                if let Some(i) = st
                    .open_faults
                    .iter()
                    .position(|(s, st_, _)| s.kind == *fault && st_ == stage)
                {
                    let (spec, stage, start_s) = st.open_faults.remove(i);
                    st.windows.push(FaultWindow {
                        kind: spec.kind,
                        stage,
                        start_s,
                        end_s: event.t_s,
                    });
                }
            }
            _ => {}
        }
        st.events.push_back(event.clone());
        while st.events.len() > self.inner.config.max_events {
            st.events.pop_front();
        }
        let msg = json!({ "type": "event", "event": event, "state": st.state });
        self.publish(&mut st, msg.to_string());
    }

    /// The run's final figures: from now on every page shows these.
    pub fn summary(&self, summary: Summary) {
        let mut st = self.lock();
        if let Some(h) = summary
            .histograms
            .as_ref()
            .and_then(|h| orchestrator::histogram::merge([h.latency_us.as_str()]).ok())
        {
            st.latency_us = Some(h);
        }
        st.cost_model = summary.business.cost_model.clone();
        let money = self.money(&st);
        let mut headline = Headline::from_summary(&summary, money);
        if summary.mix.is_none() {
            // A summary written before the mix was recorded: the declared one, when known.
            headline = headline.with_run(Some(&summary.target), self.inner.config.mix);
        }
        st.state = headline.state;
        st.faults = summary.resilience.faults.clone();
        st.narrative = self.narrate(&st, &headline, true);
        st.headline = Some(headline);
        st.summary = Some(summary);
        let msg = json!({
            "type": "summary", "summary": st.summary, "headline": st.headline, "narrative": st.narrative,
            "faults": st.faults, "cost_model": st.cost_model,
        });
        self.publish(&mut st, msg.to_string());
    }

    /// The run's `aws.json` (what was published to CloudWatch, the system's infrastructure metrics, the
    /// X-Ray breakdown), shown on the admin page. It comes after the run, once the metrics are read.
    pub fn aws(&self, report: serde_json::Value) {
        let mut st = self.lock();
        st.aws = Some(report);
        let msg = json!({ "type": "aws", "aws": st.aws });
        self.publish(&mut st, msg.to_string());
    }

    pub fn aws_value(&self) -> Option<serde_json::Value> {
        self.lock().aws.clone()
    }

    /// What was tested, before the first tick has a headline: the target and the declared mix.
    fn about(&self, st: &State) -> serde_json::Value {
        let (target, mix) = match &st.summary {
            Some(s) => (Some(s.target.clone()), s.mix.or(self.inner.config.mix)),
            None => (self.inner.config.target.clone(), self.inner.config.mix),
        };
        json!({
            "target": target.as_ref().map(TargetInfo::describe),
            "mix": mix,
            "traffic": mix.map(|m| m.describe()),
        })
    }

    fn refresh_faults(&self, st: &mut State, now_s: f64) {
        if st.windows.is_empty() && st.open_faults.is_empty() {
            return;
        }
        let mut windows = st.windows.clone();
        for (spec, stage, start_s) in &st.open_faults {
            windows.push(FaultWindow {
                kind: spec.kind,
                stage: stage.clone(),
                start_s: *start_s,
                end_s: now_s.max(*start_s),
            });
        }
        let mut results = resilience::fault_results(
            &st.ticks,
            &windows,
            &resilience::config(&Default::default(), None),
        );
        // An open fault has not ended: it cannot have recovered yet.
        let closed = st.windows.len();
        for r in results.iter_mut().skip(closed) {
            r.time_to_recover_s = None;
        }
        st.faults = results;
    }

    fn narrate(&self, st: &State, headline: &Headline, run_over: bool) -> String {
        let facts = Facts {
            ticks: &st.ticks,
            faults: &st.faults,
            headline,
            run_over,
        };
        narrative::narrative(facts, self.inner.config.presentation.tone)
    }

    fn publish(&self, st: &mut State, msg: String) {
        let msg: Arc<str> = Arc::from(msg);
        let mut dropped = 0;
        st.clients.retain(|c| match c.tx.try_send(msg.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                dropped += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        st.dropped_total += dropped;
    }

    /// Publishes the fan-out statistics and, when the latest tick is older than `fresh`, a "live"
    /// headline between ticks (counters moved on at the last tick's rates, flagged `live`).
    pub(crate) fn live(&self, fresh: Duration) {
        let mut st = self.lock();
        let stats = json!({ "type": "stats", "clients": st.clients.len(), "dropped_messages": st.dropped_total });
        self.publish(&mut st, stats.to_string());
        if st.summary.is_some() {
            return;
        }
        let (Some(at), Some(h)) = (st.last_frame_at, st.headline.clone()) else {
            return;
        };
        let dt = at.elapsed();
        if dt < fresh {
            return;
        }
        let n = st.ticks.len();
        let (Some(last), prev) = (
            st.ticks.last(),
            n.checked_sub(2).and_then(|i| st.ticks.get(i)),
        ) else {
            return;
        };
        let live = h.extrapolate(
            prev,
            last,
            dt.as_secs_f64(),
            &st.cost_model,
            self.money(&st),
        );
        let msg = json!({ "type": "live", "headline": live });
        self.publish(&mut st, msg.to_string());
    }

    /// Registers a browser. The hello snapshot and the queue are taken under one lock, so nothing is
    /// missed or sent twice.
    pub fn subscribe(&self, controls: bool) -> Subscription {
        let mut st = self.lock();
        let (tx, rx) = mpsc::channel(self.inner.config.client_queue.max(1));
        let id = st.next_id;
        st.next_id += 1;
        let dropped = Arc::new(AtomicU64::new(0));
        st.clients.push(Client {
            id,
            tx,
            dropped: dropped.clone(),
        });
        let skip = st.ticks.len().saturating_sub(self.inner.config.hello_ticks);
        let ticks: Vec<&IntervalSnapshot> = st.ticks.iter().skip(skip).collect();
        let hello = json!({
            "type": "hello",
            "presentation": self.inner.config.presentation,
            "controls": controls,
            "cost_model": st.cost_model,
            "run": self.about(&st),
            "state": st.state,
            "ticks": ticks,
            "events": st.events,
            "headline": st.headline,
            "narrative": st.narrative,
            "faults": st.faults,
            "summary": st.summary,
            "aws": st.aws,
            "dropped_messages": st.dropped_total,
        });
        Subscription {
            id,
            hello: hello.to_string(),
            rx,
            dropped,
        }
    }

    pub fn unsubscribe(&self, id: u64) {
        self.lock().clients.retain(|c| c.id != id);
    }

    pub fn status(&self) -> Status {
        let st = self.lock();
        Status {
            state: st.state,
            t_s: st.headline.as_ref().map_or(0.0, |h| h.t_s),
            ticks: st.total_ticks,
            events: st.events.len(),
            summary_ready: st.summary.is_some(),
            clients: st.clients.len(),
            dropped_messages: st.dropped_total,
            headline: st.headline.clone(),
            narrative: st.narrative.clone(),
        }
    }

    pub fn summary_value(&self) -> Option<Summary> {
        self.lock().summary.clone()
    }

    /// The kept ticks as `intervals.jsonl` (without encoded histograms), copied out in pieces and
    /// written outside the lock.
    pub fn intervals_jsonl(&self) -> String {
        let end = self.tick_count();
        let mut out = String::new();
        let mut next = 0;
        loop {
            let (after, ticks) = self.ticks_between(next, end, 1_000);
            if ticks.is_empty() {
                return out;
            }
            out.push_str(&jsonl(&ticks));
            next = after;
        }
    }

    /// How many ticks the run has sent so far (kept or let go); the index after the latest one.
    pub fn tick_count(&self) -> u64 {
        self.lock().total_ticks
    }

    /// Up to `max` kept ticks with run indexes (0 for the run's first tick) from `from` to before
    /// `end`, and the index to ask for next. Ticks already let go are skipped. Copies under the lock
    /// and returns, so a long download holds it only for moments.
    pub fn ticks_between(&self, from: u64, end: u64, max: usize) -> (u64, Vec<IntervalSnapshot>) {
        let st = self.lock();
        let first_kept = st.total_ticks - st.ticks.len() as u64;
        let from = from.max(first_kept);
        let end = end.min(st.total_ticks);
        if from >= end {
            return (from, Vec::new());
        }
        let start = (from - first_kept) as usize;
        let stop = ((end - first_kept) as usize).min(start + max.max(1));
        (first_kept + stop as u64, st.ticks[start..stop].to_vec())
    }

    /// The kept events as `events.jsonl`.
    pub fn events_jsonl(&self) -> String {
        let st = self.lock();
        st.events
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|l| l + "\n")
            .collect()
    }

    /// What `/metrics` renders, taken under one lock.
    pub(crate) fn metrics_view(&self) -> crate::metrics::View {
        let st = self.lock();
        crate::metrics::View {
            state: st.state,
            last: st.ticks.last().cloned(),
            summary: st.summary.clone(),
            latency_us: st.latency_us.clone(),
            uptime_pct: st.headline.as_ref().map_or(100.0, |h| h.uptime_pct),
            clients: st.clients.len(),
            dropped_messages: st.dropped_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(t: f64, completed: u64) -> IntervalSnapshot {
        let mut f = IntervalSnapshot {
            t_s: t,
            interval_s: 1.0,
            state: RunState::Running,
            achieved_tps: 10.0,
            ok: 10,
            ..Default::default()
        };
        f.cumulative.completed = completed;
        f
    }

    #[tokio::test]
    async fn a_stalled_client_never_blocks_publishing_and_its_drops_are_counted() {
        let feed = Feed::new(FeedConfig {
            client_queue: 8,
            ..FeedConfig::default()
        });
        let stalled = feed.subscribe(false);
        let mut reader = feed.subscribe(false);
        for i in 0..1_000u64 {
            feed.frame(tick(i as f64 + 1.0, i * 10));
            // The reading client keeps up.
            assert!(reader.rx.try_recv().is_ok());
        }
        assert_eq!(stalled.dropped.load(Ordering::Relaxed), 1_000 - 8);
        assert_eq!(reader.dropped.load(Ordering::Relaxed), 0);
        assert_eq!(feed.status().dropped_messages, 992);
        assert_eq!(feed.status().ticks, 1_000);
        drop(stalled);
        feed.frame(tick(1001.0, 10_010));
        assert_eq!(feed.status().clients, 1, "a gone client is let go");
    }

    #[tokio::test]
    async fn hello_carries_history_and_the_final_summary_wins() {
        let feed = Feed::default();
        feed.frame(tick(1.0, 10));
        feed.event(RunEvent {
            t_s: 1.5,
            kind: EventKind::Message { text: "hi".into() },
        });
        let sub = feed.subscribe(true);
        let hello: serde_json::Value = serde_json::from_str(&sub.hello).unwrap();
        assert_eq!(hello["ticks"].as_array().unwrap().len(), 1);
        assert_eq!(hello["events"][0]["text"], "hi");
        assert_eq!(hello["controls"], true);
        let mut s = Summary::default();
        s.load.completed = 12;
        feed.summary(s);
        feed.frame(tick(2.0, 20));
        assert_eq!(feed.status().headline.unwrap().transactions, 12);
        assert!(feed.status().summary_ready);
    }

    #[tokio::test(start_paused = true)]
    async fn live_messages_move_counters_between_ticks() {
        let feed = Feed::default();
        let mut sub = feed.subscribe(false);
        feed.frame(tick(1.0, 10));
        feed.frame(tick(2.0, 20));
        while sub.rx.try_recv().is_ok() {}
        tokio::time::advance(Duration::from_millis(500)).await;
        feed.live(Duration::from_millis(400));
        let stats: serde_json::Value = serde_json::from_str(&sub.rx.try_recv().unwrap()).unwrap();
        assert_eq!(stats["type"], "stats");
        let live: serde_json::Value = serde_json::from_str(&sub.rx.try_recv().unwrap()).unwrap();
        assert_eq!(live["type"], "live");
        assert_eq!(live["headline"]["transactions"], 25);
        assert_eq!(live["headline"]["live"], true);
    }

    #[tokio::test]
    async fn ticks_come_out_in_pieces_and_skip_those_let_go_meanwhile() {
        let feed = Feed::new(FeedConfig {
            max_ticks: 10,
            ..FeedConfig::default()
        });
        for i in 1..=8u64 {
            feed.frame(tick(i as f64, i * 10));
        }
        let end = feed.tick_count();
        assert_eq!(end, 8);
        let (next, first) = feed.ticks_between(0, end, 3);
        assert_eq!((next, first.len(), first[0].t_s), (3, 3, 1.0));
        // The lock is free between pieces: the run goes on, and the oldest ticks are let go.
        for i in 9..=20u64 {
            feed.frame(tick(i as f64, i * 10));
        }
        let (_, second) = feed.ticks_between(next, end, 3);
        let t: Vec<f64> = second.iter().map(|f| f.t_s).collect();
        assert!(t.is_empty(), "ticks 4 to 8 were let go: {t:?}");
        let (_, rest) = feed.ticks_between(15, feed.tick_count(), 100);
        let t: Vec<f64> = rest.iter().map(|f| f.t_s).collect();
        assert_eq!(t, [16.0, 17.0, 18.0, 19.0, 20.0]);
        assert_eq!(
            feed.intervals_jsonl().lines().count(),
            feed.lock().ticks.len()
        );
    }

    #[tokio::test]
    async fn fault_windows_from_events_give_live_fault_results() {
        let feed = Feed::default();
        for i in 1..=5 {
            feed.frame(tick(i as f64, i * 10));
        }
        feed.event(RunEvent {
            t_s: 5.0,
            kind: EventKind::FaultStarted {
                fault: models::FaultKind::AgentCrash,
                stage: Some("x".into()),
            },
        });
        feed.frame(tick(6.0, 60));
        let st = feed.lock();
        assert_eq!(st.faults.len(), 1);
        assert_eq!(st.faults[0].time_to_recover_s, None, "still open");
    }

    #[tokio::test]
    async fn live_uptime_and_budget_follow_the_run_s_rules() {
        let feed = Feed::new(FeedConfig {
            budget: Some(10.0),
            ..FeedConfig::default()
        });
        let due = |t: f64, ok: u64, cost: f64| {
            let mut f = tick(t, ok);
            f.scheduled = 100;
            f.sent = 100;
            f.completed = 100;
            f.ok = ok;
            f.cumulative.cost = cost;
            f
        };
        let ticks = [due(1.0, 100, 2.0), due(2.0, 40, 8.0)];
        for t in &ticks {
            feed.frame(t.clone());
        }
        let h = feed.status().headline.unwrap();
        // A second with 40 verdicts out of 100 due is down, as in summary.json.
        assert_eq!(h.uptime_pct, 50.0);
        assert_eq!(h.uptime_pct, UptimeRule::default().uptime_pct(&ticks));
        assert_eq!(h.budget_used_pct, Some(80.0));
    }
}

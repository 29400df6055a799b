//! Failure injection for fraudstress: the fault catalogue, two injectors behind one [`Injector`] trait (the
//! built-in target's fault hooks, and a fault-injecting HTTP proxy for any target), the fault timeline,
//! degradation levels with an adaptive back-off and abort rules, alerts (with an optional webhook), and
//! the resilience figures computed from a run's interval snapshots.
//!
//! ```
//! use failure_injection::{parse_fault_flag, FaultSchedule, Transition, DegradationTracker};
//! use models::{DegradationLevel, ErrorKind, IntervalSnapshot};
//! use std::time::Duration;
//!
//! let spec = parse_fault_flag("http-error:status=429,p=0.2,at=5s,for=10s").unwrap();
//! let mut schedule = FaultSchedule::new(vec![spec]);
//! assert_eq!(schedule.poll(Duration::from_secs(5))[0].transition, Transition::Start);
//!
//! let mut tracker = DegradationTracker::default();
//! let mut tick = IntervalSnapshot { sent: 100, completed: 100, ok: 70, ..Default::default() };
//! tick.errors.insert(ErrorKind::Http429, 30);
//! let (level, event) = tracker.observe(&tick);
//! assert_eq!(level, DegradationLevel::Critical);
//! assert!(event.is_some());
//! ```
//!
//! # The fault catalogue
//!
//! Every fault takes `at` and `for` (its window on the timeline) and `p`, the share of requests affected
//! (default 1). `stage` names a stage of the built-in target (`ingestion`, `transaction_analyzer`,
//! `pattern_detector`, `risk_assessor`, `decision_maker`); for the proxy, a stage that starts with `/`
//! is a route prefix and limits the fault to it, and any other stage name hits every route (the proxy cannot
//! see inside the target).
//!
//! | kind | parameters (defaults) | failure mode | built-in injector (fraud-sim hooks) | proxy |
//! |---|---|---|---|---|
//! | `agent_crash` | stage (`pattern_detector`), p, status (503) | an agent (Lambda) crashes | the agent fails at once until the fault ends (`p` unused: a crash is total); analyzer, pattern detector and risk assessor are skipped with a fallback, ingestion or decision maker down answers 503 | answers `status` at `p` |
//! | `db_throttle` | stage (`pattern_detector`), p, status (429) | the store (DynamoDB) throttles | the stage's store refuses a share `p` with `status` | answers `status` at `p` |
//! | `stream_lag` | stage (`ingestion` only), p, latency (1s), jitter | the stream (Kinesis) lags | requests wait `latency` (+ jitter) in the ingestion queue | holds requests for `latency` (+ jitter) before forwarding |
//! | `model_rate_limit` | stage (`decision_maker` only), p, status (429), tps (5) | the model (Bedrock) is rate limited | `tps` model calls per second; the rest get 429 | answers `status` to requests above `tps` per second (token bucket of one second) |
//! | `network_partition` | stage, p | the target cannot be reached | every connection closes without an answer | black hole: accepts requests and never answers while the fault lasts, then drops the connection |
//! | `latency_spike` | stage (`pattern_detector`), p, latency (200ms), jitter | a latency spike | `latency` (+ jitter) more service time on the stage, holding its servers | adds `latency` (+ uniform jitter) before forwarding |
//! | `connection_reset` | stage, p | connections are reset | a share `p` of connections close without an answer | resets the connection (TCP RST) without answering |
//! | `bandwidth_limit` | stage, p, bps (16384) | responses trickle | no hook: modelled as `slow_response` with `latency` = 1 KiB / `bps` | throttles each response body to `bps` bytes/s |
//! | `slow_response` | stage, p, latency (200ms), jitter | slow time to first byte | the answer waits `latency` (+ jitter) after the decision | holds the upstream's response headers for `latency` (+ jitter) |
//! | `http_error` | stage, p, status (503) | the target answers an error status | a share `p` is answered `status` at ingestion | answers `status` at `p` without calling the upstream |
//!
//! The built-in-only kinds map to the proxy's closest effect: `agent_crash` and `db_throttle` to an error
//! status (503 and 429), `model_rate_limit` to a real rate limit answering 429, `stream_lag` to held requests.
//! The catalogue is also data: [`CATALOGUE`]. The `--fault` syntax is [`FAULT_FLAG_HELP`].
//!
//! # The proxy
//!
//! [`FaultProxy`] listens on `127.0.0.1:0`, forwards each request to the upstream with its method, path,
//! query, headers (hop-by-hop headers removed, `Host` set to the upstream) and body, over keep-alive
//! connections on both sides, and streams the answer back. It refuses an upstream that is not loopback
//! unless `allow_remote` is set (the `targets` crate's guard). An unreachable upstream is answered 502.
//!
//! # Degradation, adaptive load and aborts
//!
//! [`DegradationThresholds`] gives each tick a level (defaults: moderate above 90% target CPU, severe above
//! a 5 s p99, critical above a 10% error rate or when nothing succeeds); [`DegradationTracker`] emits the
//! `Degradation` event on change. [`AdaptiveController`] turns levels into a rate multiplier (halve at
//! critical, restore in steps after healthy ticks); [`AbortMonitor`] says when to stop a run that only does
//! harm (default: error rate above 50% for 10 ticks, or nothing served for 30 ticks).
//!
//! # Alerts
//!
//! [`AlertMonitor`] raises and clears `error_rate`, `latency_p99`, `target_cpu`, `generator_cpu`,
//! `target_unavailable` and `budget_used` as `AlertRaised` / `AlertCleared` events, with warning and
//! critical thresholds ([`AlertThresholds`]); [`WebhookNotifier`] posts them as JSON from a background task.
//!
//! # Resilience
//!
//! [`analyze`] turns the interval snapshots and the faults' windows into `FaultResult`s and a
//! `ResilienceSummary`:
//! - *baseline*: the median tps, error rate and p99 of the last `baseline_ticks` steady ticks that end
//!   before the fault starts: of the phase the fault starts in and at its planned rate (within the tps
//!   tolerance), so a ramp's climb is not the reference (ticks overlapping other faults, idle ticks and
//!   ticks shorter than half a tick left out; with no steady tick, the last ticks whatever their phase);
//! - *time to detect*: from the fault's start to the end of the first tick that is degraded (a level above
//!   none, or outside the recovery band);
//! - *time to recover*: from the fault's end to the start of the first tick, wholly after the end, that begins
//!   `recovery_ticks` ticks in a row within the [`RecoveryBand`] of the baseline; `None` when that never
//!   happened within the run. The band is one-sided: only worse than the baseline (less throughput, more
//!   errors, a slower p99, a failing agent) is outside it. Ticks count for their length (a share of the
//!   median tick, at most 1): one shorter than half a tick (the run's last, often a few milliseconds)
//!   is too short to judge and neither confirms nor breaks a recovery;
//! - *worst* figures and maximum level from the first affected tick up to the recovery (ticks too
//!   short to judge left out);
//! - *cascade*: an agent other than the faulted stage had a success rate below `cascade_success_rate` during
//!   the fault; `None` (not measured) for a fault not aimed at one stage or when no other agent was
//!   timed during the fault (a target that reports no per-agent timings);
//! - *uptime*: the up ticks' share of the run's time, by [`models::UptimeRule`]: a tick is up when at
//!   least `1 − critical_error_rate` of its due requests got a verdict (or nothing was due).
//!
//! [`ResilienceFigures`] gives the numbers criteria compare, such as `max_time_to_recover_s`.

mod abort;
mod adaptive;
mod alerts;
mod builtin;
mod catalogue;
mod degradation;
mod figures;
mod flag;
mod injector;
mod proxy;
mod resilience;
mod schedule;
mod webhook;

pub use abort::{AbortMonitor, AbortReason, AbortThresholds};
pub use adaptive::{AdaptiveConfig, AdaptiveController};
pub use alerts::{AlertLimits, AlertMonitor, AlertThresholds, names as alert_names};
pub use builtin::{BuiltinInjector, builtin_hook};
pub use catalogue::{
    CATALOGUE, FaultInfo, Param, default_stage, effective_bandwidth, effective_latency,
    effective_rate_limit, effective_status, flag_name, info, parse_kind,
};
pub use degradation::{DegradationThresholds, DegradationTracker, LevelLimits};
pub use figures::TickFigures;
pub use flag::{
    FAULT_FLAG_HELP, FaultFlagError, FaultSpecError, check_spec, format_fault_flag,
    parse_fault_flag, valid_keys,
};
pub use injector::{ActiveFault, FaultId, InjectError, Injector, fault_label};
pub use proxy::{FaultProxy, ProxyConfig, ProxyError, ProxyInjector, ProxyStats};
pub use resilience::{
    FaultWindow, RecoveryBand, ResilienceConfig, ResilienceFigures, analyze, fault_results,
    uptime_pct,
};
pub use schedule::{Advance, FaultSchedule, FaultTimeline, ScheduleChange, Transition, labels};
pub use webhook::{WebhookConfig, WebhookError, WebhookNotifier, WebhookStats};

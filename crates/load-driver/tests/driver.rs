//! The driver under tokio's paused clock: the schedule is honoured, the in-flight bound drops,
//! pause/resume/stop/multiplier behave, the ceiling sheds, absurd rates end on time, a slow target shows queueing latency, and
//! execution segments together send the whole run's transactions at its instants.

use load_driver::{
    Driver, DriverConfig, DriverControl, DriverPhase, DriverReport, EndReason, SentLog,
};
use load_profiles::{Profile, Schedule, Segment};
use metrics_core::{MetricsConfig, Recorder};
use models::{Arrival, Decision, ErrorKind, LoadProfile, Stage, Verdict};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::{FnTarget, Target};
use tokio::time::{Instant, sleep};
use transaction_factory::{FactoryConfig, MIN_CUSTOMERS, MIN_MERCHANTS, TransactionFactory};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;

fn schedule(tps: f64, secs: u64) -> Schedule {
    let profile = Profile::new(&LoadProfile {
        arrival: Arrival::Uniform,
        stages: vec![Stage::Sustained {
            tps,
            duration: S(secs),
            name: None,
        }],
    })
    .unwrap();
    Schedule::new(profile, Arrival::Uniform, 1)
}

fn factory() -> Arc<TransactionFactory> {
    let config = FactoryConfig {
        customers: MIN_CUSTOMERS,
        merchants: MIN_MERCHANTS,
        ..FactoryConfig::default()
    };
    Arc::new(TransactionFactory::new(3, config).unwrap())
}

fn approve() -> Verdict {
    Verdict {
        decision: Decision::Approve,
        risk_score: 0.0,
        reasons: vec![],
        agents: vec![],
    }
}

/// A target that answers after `delay` and logs the (tokio) instant of each call since `origin`.
fn logging_target(
    origin: Instant,
    delay: Duration,
) -> (Arc<dyn Target>, Arc<Mutex<Vec<Duration>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let target = FnTarget::new(move |_txn| {
        l.lock().unwrap().push(origin.elapsed());
        async move {
            if !delay.is_zero() {
                sleep(delay).await;
            }
            Ok(approve())
        }
    });
    (Arc::new(target), log)
}

async fn drive(
    schedule: Schedule,
    target: Arc<dyn Target>,
    config: DriverConfig,
    control: &DriverControl,
) -> (DriverReport, Recorder) {
    let recorder = Recorder::new(MetricsConfig::default()).unwrap();
    let driver = Driver::new(
        schedule,
        factory(),
        target,
        recorder.clone(),
        config,
        control.clone(),
    )
    .unwrap();
    (driver.run().await.unwrap(), recorder)
}

/// Send `i` of a uniform `tps` schedule went out at its intended instant, `(i + 0.5) / tps` (uniform
/// arrivals sit mid-slot), at most one 1 ms timer tick late.
fn assert_on_time(log: &[Duration], tps: f64) {
    for (i, t) in log.iter().enumerate() {
        let intended = Duration::from_secs_f64((i as f64 + 0.5) / tps);
        assert!(
            *t >= intended && *t - intended <= MS(1),
            "send {i} at {t:?}, intended {intended:?}"
        );
    }
}

fn per_second(log: &[Duration], secs: u64) -> Vec<usize> {
    (0..secs)
        .map(|s| log.iter().filter(|t| t.as_secs() == s).count())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn sends_follow_the_schedule_second_by_second() {
    let origin = Instant::now();
    let (target, log) = logging_target(origin, Duration::ZERO);
    let (report, recorder) = drive(
        schedule(1_000.0, 3),
        target,
        DriverConfig::default(),
        &DriverControl::new(),
    )
    .await;
    assert_eq!(
        (
            report.scheduled,
            report.sent,
            report.completed,
            report.dropped
        ),
        (3_000, 3_000, 3_000, 0)
    );
    assert_eq!(report.end, EndReason::Completed);
    assert_on_time(&log.lock().unwrap(), 1_000.0);
    let s = recorder.summary(S(3));
    assert_eq!(s.load.completed, 3_000);
    // Sends are at most one timer tick late, and that lateness is in the latency, not hidden.
    assert!(
        s.latency_ms.max <= 1.0 && s.latency_ms.max > 0.0,
        "{:?}",
        s.latency_ms
    );
    assert_eq!(s.service_time_ms.max, 0.0);
}

#[tokio::test(start_paused = true)]
async fn arrivals_beyond_the_in_flight_bound_are_dropped_and_counted() {
    let origin = Instant::now();
    let (target, log) = logging_target(origin, S(1));
    let config = DriverConfig {
        max_in_flight: 10,
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(100.0, 2), target, config, &DriverControl::new()).await;
    // 10 requests out at a time, each for 1 s: 10 in each second, the other 90 dropped.
    assert_eq!(report.scheduled, 200);
    assert_eq!((report.sent, report.dropped), (20, 180));
    assert_eq!(per_second(&log.lock().unwrap(), 2), vec![10, 10]);
    let totals = recorder.totals();
    assert_eq!(
        (
            totals.scheduled,
            totals.sent,
            totals.dropped,
            totals.completed
        ),
        (200, 20, 180, 20)
    );
    let s = recorder.summary(S(3));
    assert_eq!(s.load.dropped, 180);
    assert_eq!(
        s.latency_ms.count, 20,
        "dropped arrivals are not in the latency histogram"
    );
    // Every fraud transaction got a verdict or was dropped; the dropped ones (counted in bulk,
    // from the factory's plans) are unscored.
    let fraud: u64 = factory().fraud_counts(0..200).iter().sum();
    assert!(fraud > 0);
    assert_eq!(s.fraud.tp + s.fraud.fn_ + s.fraud.unscored, fraud);
    assert!(s.fraud.unscored > 0, "{:?}", s.fraud);
}

#[tokio::test(start_paused = true)]
async fn pause_stops_the_schedule_clock_and_resume_continues() {
    let origin = Instant::now();
    let (target, log) = logging_target(origin, Duration::ZERO);
    let control = DriverControl::new();
    let c = control.clone();
    let steer = tokio::spawn(async move {
        sleep(MS(505)).await;
        c.pause();
        sleep(MS(50)).await;
        assert_eq!(c.status().phase, DriverPhase::Paused);
        sleep(MS(2_950)).await;
        c.resume();
    });
    let (report, _) = drive(
        schedule(100.0, 2),
        target,
        DriverConfig::default(),
        &control,
    )
    .await;
    steer.await.unwrap();
    assert_eq!(report.sent, 200, "the whole profile is sent");
    let near = |d: Duration, want: Duration| d.abs_diff(want) <= MS(2);
    assert!(near(report.paused_for, S(3)), "{:?}", report.paused_for);
    assert!(report.schedule_elapsed >= S(2) && near(report.schedule_elapsed, S(2)));
    assert!(near(report.wall_elapsed, S(5)), "{:?}", report.wall_elapsed);
    let log = log.lock().unwrap();
    assert!(
        log.iter().all(|t| *t <= MS(506) || *t >= MS(3_505)),
        "nothing sent while paused"
    );
    assert_eq!(log.iter().filter(|t| **t <= MS(506)).count(), 51);
    // The profile continues where it was: the arrival planned at 515 ms goes 3 s later.
    assert!(near(log[51], MS(3_515)), "{:?}", &log[48..54]);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_sending_and_abandons_what_outlives_the_grace_period() {
    let origin = Instant::now();
    let (target, _log) = logging_target(origin, S(10));
    let control = DriverControl::new();
    let c = control.clone();
    let steer = tokio::spawn(async move {
        sleep(MS(1_000) - Duration::from_micros(1)).await;
        c.stop();
    });
    let config = DriverConfig {
        grace_period: MS(500),
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(100.0, 60), target, config, &control).await;
    steer.await.unwrap();
    assert_eq!(report.end, EndReason::Stopped);
    assert_eq!(report.sent, 100);
    assert_eq!((report.completed, report.abandoned), (100, 100));
    assert!(
        report.wall_elapsed >= MS(1_499) && report.wall_elapsed <= MS(1_502),
        "{:?}",
        report.wall_elapsed
    );
    let s = recorder.summary(report.wall_elapsed);
    assert_eq!(s.errors.by_kind.get(&ErrorKind::Timeout), Some(&100));
}

#[tokio::test(start_paused = true)]
async fn multiplier_scales_the_rate_from_its_change() {
    let origin = Instant::now();
    let (target, log) = logging_target(origin, Duration::ZERO);
    let control = DriverControl::new();
    let c = control.clone();
    let steer = tokio::spawn(async move {
        sleep(MS(1_995)).await;
        c.set_multiplier(3.0).unwrap();
        assert!(c.set_multiplier(f64::NAN).is_err());
    });
    let (report, _) = drive(
        schedule(100.0, 4),
        target,
        DriverConfig::default(),
        &control,
    )
    .await;
    steer.await.unwrap();
    let per_s = per_second(&log.lock().unwrap(), 4);
    assert_eq!(per_s[..2], [100, 100]);
    // The arrival already planned at 2.000 s keeps its place; after it, 300 per second.
    assert!(
        (299..=301).contains(&per_s[2]) && (299..=301).contains(&per_s[3]),
        "{per_s:?}"
    );
    assert_eq!(report.sent as usize, per_s.iter().sum::<usize>());
}

#[tokio::test(start_paused = true)]
async fn the_ceiling_sheds_what_it_would_delay_by_more_than_a_tick() {
    let origin = Instant::now();
    let (target, log) = logging_target(origin, Duration::ZERO);
    let config = DriverConfig {
        max_tps: 500.0,
        ..DriverConfig::default()
    };
    let (report, recorder) =
        drive(schedule(1_000.0, 1), target, config, &DriverControl::new()).await;
    // Offered twice the ceiling: about half is sent, the rest shed, none queued behind the ceiling.
    assert_eq!(report.scheduled, 1_000);
    assert_eq!(report.sent + report.dropped_ceiling, 1_000);
    assert_eq!(report.dropped, 0, "the in-flight bound was never reached");
    assert!(
        report.sent <= 501 && report.sent >= 450,
        "at most 500/s for 1 s: {report:?}"
    );
    let log = log.lock().unwrap();
    assert!(
        *log.last().unwrap() <= S(1) + MS(1),
        "nothing is sent after the profile's end: {:?}",
        log.last()
    );
    let totals = recorder.totals();
    assert_eq!(
        (totals.scheduled, totals.dropped_ceiling, totals.dropped),
        (1_000, report.dropped_ceiling, 0)
    );
    let s = recorder.summary(S(1));
    assert_eq!(s.load.dropped_ceiling, report.dropped_ceiling);
    // A send waits for the ceiling at most one tick, on top of the timer's own tick.
    assert!(s.latency_ms.max <= 2.0, "{:?}", s.latency_ms);
    assert!(
        report.wall_elapsed <= S(1) + MS(2),
        "{:?}",
        report.wall_elapsed
    );
}

/// 100 TPS for 2 s with the multiplier set to `m` at 0.5 s, under a 1,000 TPS ceiling.
async fn drive_multiplied(m: f64) -> (DriverReport, Recorder) {
    let (target, _log) = logging_target(Instant::now(), Duration::ZERO);
    let control = DriverControl::new();
    let c = control.clone();
    let steer = tokio::spawn(async move {
        sleep(MS(500)).await;
        c.set_multiplier(m).unwrap();
    });
    let config = DriverConfig {
        max_tps: 1_000.0,
        grace_period: MS(200),
        ..DriverConfig::default()
    };
    let out = drive(schedule(100.0, 2), target, config, &control).await;
    steer.await.unwrap();
    out
}

#[tokio::test(start_paused = true)]
async fn a_huge_multiplier_ends_on_time_and_counts_its_backlog_in_bulk() {
    // 1e12 plans 1e14 arrivals a second: the ceiling passes 1,000 of them and counts the rest in
    // bulk (visiting them one by one would take days).
    let (report, recorder) = drive_multiplied(1e12).await;
    assert_eq!(report.end, EndReason::Completed);
    assert!(
        report.wall_elapsed <= S(2) + MS(2),
        "{:?}",
        report.wall_elapsed
    );
    // 50 in the first 0.5 s, then at most the ceiling's 1,000/s and its burst of 2.
    assert!(
        report.sent <= 50 + 1_500 + 2 && report.sent >= 50 + 1_400,
        "{report:?}"
    );
    // The arrival already planned (at 505 ms) keeps its instant; the multiplier takes over there.
    let planned = 51.0 + 1e14 * 1.495;
    let counted = (report.sent + report.dropped_ceiling) as f64;
    assert!(
        (counted - planned).abs() < 1e-6 * planned,
        "{counted} of {planned}: {report:?}"
    );
    assert_eq!(report.scheduled, report.sent + report.dropped_ceiling);
    assert_eq!(recorder.totals().dropped_ceiling, report.dropped_ceiling);

    // 1e300 makes every arrival due at once; this used to spin at 100% CPU, never seeing the end.
    // It plans more arrivals than a u64 indexes: the count saturates and the schedule is spent.
    let (report, recorder) = drive_multiplied(1e300).await;
    assert_eq!(report.end, EndReason::Completed);
    assert!(
        report.wall_elapsed <= S(2) + MS(2),
        "{:?}",
        report.wall_elapsed
    );
    assert!(report.sent >= 50 && report.sent <= 50 + 3, "{report:?}");
    assert_eq!(report.dropped_ceiling, u64::MAX);
    assert_eq!(recorder.totals().dropped_ceiling, u64::MAX);
}

#[tokio::test(start_paused = true)]
async fn stop_is_seen_whatever_the_backlog() {
    let control = DriverControl::new();
    let c = control.clone();
    let steer = tokio::spawn(async move {
        sleep(MS(300)).await;
        c.stop();
    });
    let (target, _log) = logging_target(Instant::now(), S(60));
    let config = DriverConfig {
        max_tps: 1e9,
        max_in_flight: 50,
        grace_period: MS(100),
        ..DriverConfig::default()
    };
    // `run --tps 1e300 --duration 60s`, with a ceiling too high to shed: the in-flight bound drops.
    let (report, _) = drive(schedule(1e300, 60), target, config, &control).await;
    steer.await.unwrap();
    assert_eq!(report.end, EndReason::Stopped);
    assert_eq!(report.sent, 50);
    assert_eq!(report.abandoned, 50);
    assert_eq!(report.dropped, u64::MAX, "saturated, not overflowed");
    assert!(
        report.wall_elapsed <= MS(300) + MS(100) + MS(1),
        "{:?}",
        report.wall_elapsed
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_target_shows_queueing_from_the_intended_send() {
    // The target serves one request at a time, 10 ms each (100/s), and is offered 200/s for 2 s.
    let origin = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(1));
    let sends = Arc::new(Mutex::new(Vec::new()));
    let (g, l) = (gate.clone(), sends.clone());
    let target = Arc::new(FnTarget::new(move |_txn| {
        l.lock().unwrap().push(origin.elapsed());
        let g = g.clone();
        async move {
            let _permit = g.acquire().await.unwrap();
            sleep(MS(10)).await;
            Ok(approve())
        }
    }));
    let config = DriverConfig {
        grace_period: S(10),
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(200.0, 2), target, config, &DriverControl::new()).await;
    // Open model: every arrival went out on schedule, whatever the target's pace.
    assert_eq!(
        (report.sent, report.dropped, report.completed),
        (400, 0, 400)
    );
    assert_eq!(per_second(&sends.lock().unwrap(), 2), vec![200, 200]);
    let s = recorder.summary(report.wall_elapsed);
    // The last of 400 requests needing 4 s of service, offered over 2 s, waits about 2 s.
    assert!(
        s.latency_ms.max > 1_900.0 && s.latency_ms.max < 2_100.0,
        "{:?}",
        s.latency_ms
    );
    assert!(s.latency_ms.p50 > 900.0, "{:?}", s.latency_ms);
}

/// `(transaction id, instant since the origin)` of each call.
type IdLog = Arc<Mutex<Vec<(u64, Duration)>>>;

/// A target that logs the transaction id and the (tokio) instant of each call since `origin`.
fn id_logging_target(origin: Instant) -> (Arc<dyn Target>, IdLog) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let target = FnTarget::new(move |txn| {
        l.lock().unwrap().push((txn.id.0, origin.elapsed()));
        async move { Ok(approve()) }
    });
    (Arc::new(target), log)
}

/// Runs `segment` of a Poisson profile (a ramp then a sustained stage) and returns what the target saw
/// and what the sent log holds.
async fn run_segment(segment: Segment) -> (Vec<(u64, Duration)>, Vec<u64>, DriverReport) {
    let profile = Profile::new(&LoadProfile {
        arrival: Arrival::Poisson,
        stages: vec![
            Stage::Ramp {
                from_tps: 0.0,
                to_tps: 400.0,
                duration: S(1),
                name: None,
            },
            Stage::Sustained {
                tps: 400.0,
                duration: S(1),
                name: None,
            },
        ],
    })
    .unwrap();
    let schedule = Schedule::new(profile, Arrival::Poisson, 9).segment(segment);
    let (target, seen) = id_logging_target(Instant::now());
    let log = SentLog::new();
    let config = DriverConfig {
        sent_log: Some(log.clone()),
        ..DriverConfig::default()
    };
    let (report, _) = drive(schedule, target, config, &DriverControl::new()).await;
    let seen = seen.lock().unwrap().clone();
    (seen, log.take(), report)
}

#[tokio::test(start_paused = true)]
async fn three_segments_send_exactly_the_whole_runs_transactions_at_its_instants() {
    let (whole, whole_log, whole_report) = run_segment(Segment::WHOLE).await;
    assert!(whole.len() > 500, "{}", whole.len());
    assert_eq!(whole_log.len() as u64, whole_report.sent);
    let f = factory();
    let mut union = Vec::new();
    let mut union_log = Vec::new();
    let mut scheduled = 0;
    for i in 0..3 {
        let seg = Segment::new(i, 3).unwrap();
        let (seen, log, report) = run_segment(seg).await;
        // The log holds this segment's indices, and the target received exactly their transactions
        // (by id: an edge-case replay re-sends an earlier id, so ids are compared as multisets).
        assert!(log.iter().all(|k| seg.contains(*k)));
        let mut ids: Vec<u64> = seen.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        let mut expected: Vec<u64> = log.iter().map(|k| f.at(*k).0.id.0).collect();
        expected.sort_unstable();
        assert_eq!(ids, expected);
        scheduled += report.scheduled;
        union.extend(seen);
        union_log.extend(log);
    }
    union_log.sort_unstable();
    let mut whole_log = whole_log;
    whole_log.sort_unstable();
    assert_eq!(
        union_log, whole_log,
        "the segments' indices partition the whole run's"
    );
    assert_eq!(scheduled, whole_report.scheduled);
    union.sort_unstable();
    let mut whole_sorted = whole.clone();
    whole_sorted.sort_unstable();
    assert_eq!(union.len(), whole_sorted.len());
    // Same transactions, each sent at the same instant (to within the 1 ms dispatcher tick).
    for ((id, t), (wid, wt)) in union.iter().zip(&whole_sorted) {
        assert_eq!(id, wid);
        let gap = if t > wt { *t - *wt } else { *wt - *t };
        assert!(
            gap <= MS(1),
            "transaction {id}: {t:?} in its segment, {wt:?} in the whole run"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_request_timeout_counts_slow_answers_as_timeouts_and_keeps_the_fast_ones() {
    // Every third transaction takes 300 ms; the driver's timeout is 100 ms.
    let calls = Arc::new(Mutex::new(0u64));
    let c = calls.clone();
    let target: Arc<dyn Target> = Arc::new(FnTarget::new(move |_txn| {
        let n = {
            let mut n = c.lock().unwrap();
            *n += 1;
            *n
        };
        async move {
            sleep(if n % 3 == 0 { MS(300) } else { MS(20) }).await;
            Ok(approve())
        }
    }));
    let control = DriverControl::new();
    let config = DriverConfig {
        request_timeout: Some(MS(100)),
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(300.0, 2), target, config, &control).await;
    assert_eq!(report.sent, 600);
    assert_eq!(
        (report.completed, report.ok, report.errors),
        (600, 400, 200)
    );
    assert_eq!(report.abandoned, 0);
    let s = recorder.summary(report.wall_elapsed);
    assert_eq!(s.errors.by_kind.get(&ErrorKind::Timeout), Some(&200));
    // A timed-out request ends at its deadline: the run ends 100 ms after the last send, not 300.
    assert!(
        report.wall_elapsed <= S(2) + MS(102),
        "{:?}",
        report.wall_elapsed
    );
}

/// A streaming log gets the sent indices in chunks as the run goes, not all at the end: memory stays
/// bounded over a long run. Together the chunks are every sent index, in send order.
#[tokio::test(start_paused = true)]
async fn a_streaming_sent_log_gets_chunks_as_the_run_goes() {
    let chunks = Arc::new(Mutex::new(Vec::<Vec<u64>>::new()));
    let c = chunks.clone();
    let log = SentLog::streaming(move |chunk| c.lock().unwrap().push(chunk));
    let (target, _) = id_logging_target(Instant::now());
    let config = DriverConfig {
        sent_log: Some(log.clone()),
        max_tps: 100_000.0,
        ..DriverConfig::default()
    };
    let (report, _) = drive(schedule(40_000.0, 2), target, config, &DriverControl::new()).await;
    let chunks = chunks.lock().unwrap();
    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    assert_eq!(
        chunks[0].len(),
        64 * 1024,
        "a full chunk is handed over at once"
    );
    let all: Vec<u64> = chunks.iter().flatten().copied().collect();
    assert_eq!(all.len() as u64, report.sent);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in send order");
    assert!(log.is_empty() && log.take().is_empty(), "nothing is kept");
}

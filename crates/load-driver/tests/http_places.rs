//! An HTTP target with fewer connections than arrivals in flight, over real loopback TCP (real time:
//! tokio's paused clock would jump past a real socket's wait). A lane starts at most the target's
//! `connections` requests and keeps the other arrivals until a place is free; these tests pin what
//! a waiting arrival is charged: it is answered in its turn, its service time counts from when the
//! lane took it, it times out from then, and the drain abandons it.

use load_driver::{Driver, DriverConfig, DriverControl, DriverReport};
use load_profiles::{Profile, Schedule};
use metrics_core::{MetricsConfig, Recorder};
use models::{Arrival, ErrorKind, LoadProfile, Stage};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use transaction_factory::{FactoryConfig, MIN_CUSTOMERS, MIN_MERCHANTS, TransactionFactory};

const MS: fn(u64) -> Duration = Duration::from_millis;

const ANSWER: &[u8] = b"{\"decision\":\"approve\",\"risk_score\":0.1}";

/// The server's side: answers each request on a connection `delay` after it has come whole, and
/// counts the connections it accepted, the requests it received and the most it held at once.
struct Server {
    url: String,
    accepted: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Lets the server accept and read what has reached it, before its counts are read: a lane can
    /// start and end many requests without giving the runtime back.
    async fn settle(&self) {
        tokio::time::sleep(MS(100)).await;
    }
}

async fn server(delay: Duration) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/score", listener.local_addr().unwrap());
    let most_at_once = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let opened = accepted.clone();
    let now = Arc::new(AtomicUsize::new(0));
    let (most, got) = (most_at_once.clone(), received.clone());
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            opened.fetch_add(1, Ordering::SeqCst);
            conns.spawn(serve(stream, delay, got.clone(), now.clone(), most.clone()));
        }
    });
    Server {
        url,
        accepted,
        received,
        most_at_once,
        task,
    }
}

/// Reads requests (head, then `content-length` bytes of body) and answers each after `delay`, until
/// the client closes.
async fn serve(
    mut stream: TcpStream,
    delay: Duration,
    received: Arc<AtomicUsize>,
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + body_len {
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
        buf.drain(..head_end + body_len);
        received.fetch_add(1, Ordering::SeqCst);
        let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(at_once, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        now.fetch_sub(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            ANSWER.len()
        );
        let sent = async {
            stream.write_all(answer.as_bytes()).await?;
            stream.write_all(ANSWER).await
        };
        if sent.await.is_err() {
            return;
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn target(url: &str, connections: usize) -> Arc<dyn Target> {
    let config = HttpTargetConfig {
        url: url.to_owned(),
        connections,
        timeout: Duration::from_secs(10),
        enforce_timeout: false,
        ..HttpTargetConfig::default()
    };
    Arc::new(HttpTarget::new(config).unwrap())
}

/// `n` arrivals, uniform at `tps`.
fn schedule(tps: f64, n: u64) -> Schedule {
    let profile = Profile::new(&LoadProfile {
        arrival: Arrival::Uniform,
        stages: vec![Stage::Sustained {
            tps,
            duration: Duration::from_secs_f64(n as f64 / tps),
            name: None,
        }],
    })
    .unwrap();
    Schedule::new(profile, Arrival::Uniform, 1)
}

async fn drive(
    schedule: Schedule,
    target: Arc<dyn Target>,
    config: DriverConfig,
) -> (DriverReport, Recorder) {
    let factory = TransactionFactory::new(
        3,
        FactoryConfig {
            customers: MIN_CUSTOMERS,
            merchants: MIN_MERCHANTS,
            ..FactoryConfig::default()
        },
    )
    .unwrap();
    let recorder = Recorder::new(MetricsConfig::default()).unwrap();
    let driver = Driver::new(
        schedule,
        Arc::new(factory),
        target,
        recorder.clone(),
        DriverConfig { lanes: 1, ..config },
        DriverControl::new(),
    )
    .unwrap();
    (driver.run().await.unwrap(), recorder)
}

/// Twice the arrivals two connections can carry: every one is answered, in its turn, never more
/// than two at the server at once, and a late one's service time includes its wait for a place.
#[tokio::test(flavor = "current_thread")]
async fn arrivals_beyond_the_connections_wait_their_turn_and_are_all_answered() {
    let server = server(MS(20)).await;
    let (report, recorder) = drive(
        schedule(200.0, 60),
        target(&server.url, 2),
        DriverConfig::default(),
    )
    .await;
    assert_eq!((report.sent, report.completed), (60, 60));
    assert_eq!((report.ok, report.errors, report.abandoned), (60, 0, 0));
    assert_eq!(server.most_at_once.load(Ordering::SeqCst), 2);
    // 60 answers of 20 ms on two connections take 600 ms; the arrivals came over 300 ms, so the
    // last ones waited about 300 ms for a place, all of it in their service time.
    let s = recorder.summary(report.wall_elapsed);
    let service_max = s.service_time_ms.max;
    assert!(
        service_max >= 200.0,
        "longest service time {service_max} ms"
    );
    server.task.abort();
}

/// One connection to a server that does not answer in time, 30 arrivals in one dispatcher round, a
/// 100 ms timeout: every arrival times out 100 ms after the lane took it, the first in its exchange
/// and the others while they wait for a place. Those end where they wait, never started: started
/// after its deadline, each would open a connection (the first one's was given up midway) for an
/// answer nobody reads.
#[tokio::test(flavor = "current_thread")]
async fn arrivals_that_time_out_while_waiting_end_unstarted() {
    let server = server(Duration::from_secs(2)).await;
    let config = DriverConfig {
        request_timeout: Some(MS(100)),
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(1e6, 30), target(&server.url, 1), config).await;
    assert_eq!((report.sent, report.completed), (30, 30));
    assert_eq!((report.ok, report.errors, report.abandoned), (0, 30, 0));
    let s = recorder.summary(report.wall_elapsed);
    assert_eq!(s.errors.by_kind.get(&ErrorKind::Timeout), Some(&30));
    server.settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(server.received.load(Ordering::SeqCst), 1);
    assert!(
        report.wall_elapsed < MS(100 + 250),
        "ended {:?} after the start",
        report.wall_elapsed
    );
    server.task.abort();
}

/// Answers of 200 ms on one connection and a 100 ms grace period: at the end of the arrivals most
/// of them are still waiting for a place, and the drain abandons them at its deadline, unsent.
#[tokio::test(flavor = "current_thread")]
async fn the_drain_abandons_the_arrivals_still_waiting() {
    let server = server(MS(200)).await;
    let config = DriverConfig {
        grace_period: MS(100),
        ..DriverConfig::default()
    };
    let (report, recorder) = drive(schedule(100.0, 20), target(&server.url, 1), config).await;
    assert_eq!((report.sent, report.completed), (20, 20));
    assert!(report.abandoned >= 18, "{report:?}");
    assert_eq!(report.ok + report.errors, 20);
    assert_eq!(report.errors, report.abandoned);
    // The first two were sent on the one connection; the others never started.
    server.settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(server.received.load(Ordering::SeqCst), 2);
    let s = recorder.summary(report.wall_elapsed);
    assert_eq!(
        s.errors.by_kind.get(&ErrorKind::Timeout).copied(),
        Some(report.abandoned)
    );
    assert!(
        report.wall_elapsed < MS(200 + 100 + 250),
        "ended {:?} after the start",
        report.wall_elapsed
    );
    server.task.abort();
}

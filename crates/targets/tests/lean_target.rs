//! `HttpTarget` with the lean HTTP/1.1 engine (`engine = "lean"`, the default): every behaviour of
//! `http_behaviours` again, then what the lean engine's pool adds: keep-alive reuse under
//! concurrency, servers that close connections (saying so, or silently while idle), and the engine
//! named in the target's protocol.

const ENGINE: models::HttpEngine = models::HttpEngine::Lean;

mod fixtures;
mod http_behaviours;

use bytes::Bytes;
use http_behaviours::txn;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use models::{Decision, HttpEngine};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const VERDICT: &str = r#"{"decision":"decline","risk_score":0.9}"#;

/// What a test server saw: TCP connections accepted and requests answered.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

/// A hyper HTTP/1.1 server answering every request with a verdict, after `delay`; with `close`,
/// each answer says `Connection: close` and the server closes the connection after it.
async fn server(
    close: bool,
    delay: Duration,
) -> (SocketAddr, Arc<Seen>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let counts = counts.clone();
            conns.spawn(async move {
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let counts = counts.clone();
                    async move {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        counts.requests.fetch_add(1, Ordering::SeqCst);
                        let mut resp =
                            Response::new(Full::new(Bytes::from_static(VERDICT.as_bytes())));
                        if close {
                            resp.headers_mut()
                                .insert("connection", "close".parse().unwrap());
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen, task)
}

fn lean(addr: SocketAddr, connections: usize) -> HttpTarget {
    HttpTarget::new(HttpTargetConfig {
        url: format!("http://{addr}/v1/score"),
        connections,
        timeout: Duration::from_secs(10),
        engine: HttpEngine::Lean,
        ..HttpTargetConfig::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_reuse_at_most_connections_keep_alive_connections() {
    let (addr, seen, server) = server(false, Duration::from_millis(2)).await;
    let target = Arc::new(lean(addr, 8));
    assert_eq!(target.engine(), HttpEngine::Lean);
    let mut requests = JoinSet::new();
    for _ in 0..200 {
        let target = target.clone();
        requests.spawn(async move { target.score(&txn()).await });
    }
    while let Some(verdict) = requests.join_next().await {
        assert_eq!(verdict.unwrap().unwrap().decision, Decision::Decline);
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 200);
    let connections = seen.connections.load(Ordering::SeqCst);
    assert!((1..=8).contains(&connections), "{connections} connections");
    assert_eq!(target.connect_stats().opened, connections as u64);
    assert_eq!(target.protocol(), Some("HTTP/1.1 (lean engine)"));
    assert_eq!(
        target.info().protocol.as_deref(),
        Some("HTTP/1.1 (lean engine)")
    );
    server.abort();
}

#[tokio::test]
async fn a_server_that_closes_after_each_answer_still_gives_every_verdict() {
    let (addr, seen, server) = server(true, Duration::ZERO).await;
    let target = lean(addr, 2);
    for _ in 0..5 {
        assert_eq!(
            target.score(&txn()).await.unwrap().decision,
            Decision::Decline
        );
    }
    // `Connection: close` is honoured: no connection is sent on after its answer.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 5);
    server.abort();
}

#[tokio::test]
async fn the_connection_check_and_warming_go_over_lean_connections() {
    let (addr, seen, server) = server(false, Duration::ZERO).await;
    let target = lean(addr, 4);
    target.check_connection().await.unwrap();
    assert_eq!(target.protocol(), Some("HTTP/1.1 (lean engine)"));
    assert_eq!(target.open_connections(3).await.unwrap(), 3);
    for _ in 0..10 {
        assert_eq!(
            target.score(&txn()).await.unwrap().decision,
            Decision::Decline
        );
    }
    // The checked connection and the warmed ones carry the load: none is opened for it.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 4);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 11);
    server.abort();
}

/// Reads one request (head and `Content-Length` body) into `pending`; false when the client closed.
async fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(pending).to_lowercase();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len: usize = text[..head_end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if pending.len() >= head_end + 4 + len {
                pending.drain(..head_end + 4 + len);
                return true;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// A keep-alive server that closes a connection silently (no `Connection: close`) once it has been
/// idle for 50 ms, as servers with a short idle timeout do; the client pauses 200 ms, longer than
/// the engine trusts tokio's readiness alone, so the socket is asked.
#[tokio::test]
async fn an_idle_connection_the_server_closed_silently_is_replaced() {
    idle_close_is_noticed(Duration::from_millis(50), Duration::from_millis(200)).await;
}

/// The same within the 100 ms in which an idle connection is trusted on tokio's readiness: the
/// reactor has seen the FIN during the pause, so the dead connection is not used.
#[tokio::test]
async fn a_connection_closed_soon_after_its_answer_is_replaced() {
    idle_close_is_noticed(Duration::from_millis(5), Duration::from_millis(30)).await;
}

/// Three rounds of three requests, a `pause` (real time) after each; the server closes a connection
/// idle for `server_idle`. Each round must open one new connection and no request may fail.
async fn idle_close_is_noticed(server_idle: Duration, pause: Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    let server = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            conns.spawn(async move {
                let mut pending = Vec::new();
                let idle = server_idle;
                while let Ok(true) =
                    tokio::time::timeout(idle, read_request(&mut stream, &mut pending)).await
                {
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{VERDICT}",
                        VERDICT.len()
                    );
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let target = lean(addr, 1);
    for round in 1..=3 {
        // Back to back: the same connection.
        for _ in 0..3 {
            assert_eq!(
                target.score(&txn()).await.unwrap().decision,
                Decision::Decline
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), round);
        // Real time, past the server's idle timeout: the next request must not go to the dead one.
        tokio::time::sleep(pause).await;
    }
    assert!(target.error_samples().by_kind().is_empty());
    server.abort();
}

/// The body is rendered into the connection's own write buffer: a transaction whose body cannot be
/// written (a timestamp before 1970) is a `malformed` error before anything is sent, and the
/// connection it had taken serves the next request.
#[tokio::test]
async fn a_body_that_cannot_be_rendered_sends_nothing_and_keeps_the_connection() {
    let (addr, seen, task) = server(false, Duration::ZERO).await;
    let target = lean(addr, 1);
    assert_eq!(
        target.score(&txn()).await.unwrap().decision,
        Decision::Decline
    );
    let mut bad = txn();
    bad.timestamp = models::Timestamp::from_micros(-1);
    let err = target.score(&bad).await.unwrap_err();
    assert_eq!(err.kind(), models::ErrorKind::Malformed, "{err}");
    assert!(err.to_string().contains("1970"), "{err}");
    assert_eq!(
        target.score(&txn()).await.unwrap().decision,
        Decision::Decline
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    task.abort();
}

#[test]
fn the_default_engine_is_lean() {
    assert_eq!(HttpTargetConfig::default().engine, ENGINE);
    assert_eq!(models::TargetSpec::default().engine, ENGINE);
}

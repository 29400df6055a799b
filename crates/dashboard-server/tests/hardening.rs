//! The dashboard's defences over real loopback HTTP and WebSocket: the `Host` check, control bodies
//! refused by size before they are read, the WebSocket client cap and stall timeout, the streamed
//! intervals download, the per-peer lockout of failed control attempts and the token length rule.

use bytes::Bytes;
use dashboard_server::token::TokenError;
use dashboard_server::{
    Controller, DashboardConfig, DashboardError, DashboardServer, Feed, FeedConfig, Refused,
};
use futures_util::{Stream, StreamExt, stream};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use models::{FaultSpec, IntervalSnapshot, RunState};
use std::convert::Infallible;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const TOKEN: &str = "a-token-for-these-tests";

/// Records the controls that got through.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn log(&self, s: impl Into<String>) -> Result<(), Refused> {
        self.0.lock().unwrap().push(s.into());
        Ok(())
    }
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Controller for Recorder {
    fn start(&self) -> Result<(), Refused> {
        self.log("start")
    }
    fn pause(&self) -> Result<(), Refused> {
        self.log("pause")
    }
    fn resume(&self) -> Result<(), Refused> {
        self.log("resume")
    }
    fn stop(&self) -> Result<(), Refused> {
        self.log("stop")
    }
    fn set_rate(&self, m: f64) -> Result<(), Refused> {
        self.log(format!("rate {m}"))
    }
    fn inject(&self, f: FaultSpec) -> Result<(), Refused> {
        self.log(format!("inject {}", f.kind))
    }
}

type Body = StreamBody<Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>>;

/// A body that sends `pieces` and then, unless `ends`, never finishes (as a slow or hostile upload).
fn body(pieces: Vec<Bytes>, ends: bool) -> Body {
    let sent = stream::iter(pieces.into_iter().map(|b| Ok(Frame::data(b))));
    let s: Pin<Box<dyn Stream<Item = _> + Send>> = if ends {
        Box::pin(sent)
    } else {
        Box::pin(sent.chain(stream::pending()))
    };
    StreamBody::new(s)
}

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

/// Sends a request from `local` (a loopback source address) and waits at most 10 s for the answer:
/// a server that waits for a body that never ends fails here.
async fn send_from(
    local: Option<IpAddr>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Answer {
    let mut connector = HttpConnector::new();
    connector.set_local_address(local);
    let client = Client::builder(TokioExecutor::new()).build::<_, Body>(connector);
    let mut req = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let call = async {
        let resp = client.request(req.body(body).unwrap()).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    };
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {url} within 10 s"))
}

async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Body) -> Answer {
    send_from(None, method, url, headers, body).await
}

async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    send("GET", url, headers, body(Vec::new(), true)).await
}

async fn serve(
    config: DashboardConfig,
    controller: Option<Arc<dyn Controller>>,
) -> DashboardServer {
    let config = DashboardConfig {
        token: Some(TOKEN.into()),
        ..config
    };
    DashboardServer::start(config, Feed::default(), controller)
        .await
        .unwrap()
}

fn tick(i: u64) -> IntervalSnapshot {
    let mut f = IntervalSnapshot {
        t_s: i as f64,
        interval_s: 1.0,
        state: RunState::Running,
        achieved_tps: 100.0,
        ok: 100,
        ..Default::default()
    };
    f.cumulative.completed = 100 * i;
    f
}

#[tokio::test]
async fn control_bodies_are_refused_by_size_before_they_are_read() {
    let rec = Arc::new(Recorder::default());
    let server = serve(DashboardConfig::default(), Some(rec.clone())).await;
    let max = DashboardConfig::default().max_control_body;
    let url = format!("{}api/control/rate", server.url());
    let own = format!("http://127.0.0.1:{}", server.addr().port());
    let bearer = format!("Bearer {TOKEN}");
    let good = [("authorization", bearer.as_str()), ("origin", own.as_str())];
    let huge = (64u64 << 20).to_string();
    let kib = || Bytes::from(vec![b' '; 1024]);

    // 64 MiB announced, 1 KiB sent, the rest never: answered from the header alone, whoever asks.
    for headers in [
        vec![
            ("origin", "http://evil.example"),
            ("content-length", huge.as_str()),
        ],
        vec![good[0], good[1], ("content-length", huge.as_str())],
    ] {
        let a = send("POST", &url, &headers, body(vec![kib()], false)).await;
        assert_eq!(a.status, 413, "{}", a.body);
        assert!(
            a.body.contains(&format!("{max} bytes at most")),
            "{}",
            a.body
        );
    }

    // Chunked, so no size up front: refused as it streams past the limit.
    let over = (max / 1024 + 1) as usize;
    let a = send("POST", &url, &good, body(vec![kib(); over], false)).await;
    assert_eq!(a.status, 413, "{}", a.body);

    // A chunked body from a foreign origin or without the token is refused before it is read.
    let a = send(
        "POST",
        &url,
        &[("origin", "http://evil.example")],
        body(Vec::new(), false),
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = send("POST", &url, &[good[1]], body(Vec::new(), false)).await;
    assert_eq!(a.status, 401, "{}", a.body);

    // Small bodies still work, with or without a declared length.
    let json = Bytes::from_static(br#"{"multiplier": 1.5}"#);
    let len = json.len().to_string();
    let a = send(
        "POST",
        &url,
        &[good[0], good[1], ("content-length", len.as_str())],
        body(vec![json.clone()], true),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (head, tail) = (json.slice(..5), json.slice(5..));
    let a = send("POST", &url, &good, body(vec![head, tail], true)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(rec.calls(), ["rate 1.5", "rate 1.5"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn requests_for_other_hosts_are_misdirected() {
    let server = serve(DashboardConfig::default(), None).await;
    let port = server.addr().port();
    server.feed().frame(tick(1));
    let base = server.url();
    let rebound = format!("evil.example:{port}");
    let other_port = format!("127.0.0.1:{}", port + 1);
    for path in [
        "api/status",
        "api/summary",
        "api/intervals.jsonl",
        "api/events.jsonl",
        "metrics",
        "ws",
        "admin",
    ] {
        for host in [rebound.as_str(), other_port.as_str()] {
            let a = get(&format!("{base}{path}"), &[("host", host)]).await;
            assert_eq!(a.status, 421, "/{path} for {host}: {}", a.body);
            assert!(
                a.body
                    .contains(&format!("127.0.0.1:{port}, localhost:{port}, [::1]:{port}")),
                "says which addresses work: {}",
                a.body
            );
        }
    }
    let a = send(
        "POST",
        &format!("{base}api/control/pause"),
        &[("host", rebound.as_str())],
        body(Vec::new(), true),
    )
    .await;
    assert_eq!(a.status, 421);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let a = get(&format!("{base}api/status"), &[("host", host.as_str())]).await;
        assert_eq!(a.status, 200, "{host}: {}", a.body);
    }
    server.shutdown().await.unwrap();
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(port: u16) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .unwrap()
        .0
}

/// The next message that is not a ping or pong, within 10 s (`None` when the connection ended).
async fn next_message(ws: &mut Ws) -> Option<tokio_tungstenite::tungstenite::Message> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")?
            .ok()?;
        if !(msg.is_ping() || msg.is_pong()) {
            return Some(msg);
        }
    }
}

async fn hello(ws: &mut Ws) -> serde_json::Value {
    let msg = next_message(ws).await.expect("the hello");
    let v: serde_json::Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "hello");
    v
}

#[tokio::test]
async fn websocket_clients_beyond_the_cap_are_closed_with_a_reason() {
    let config = DashboardConfig {
        max_clients: 2,
        ..DashboardConfig::default()
    };
    let server = serve(config, None).await;
    let port = server.addr().port();
    let mut first = ws_connect(port).await;
    let mut second = ws_connect(port).await;
    hello(&mut first).await;
    hello(&mut second).await;

    let mut third = ws_connect(port).await;
    let msg = next_message(&mut third).await.expect("a close frame");
    let tokio_tungstenite::tungstenite::Message::Close(Some(frame)) = msg else {
        panic!("expected a close frame, got {msg:?}");
    };
    assert_eq!(frame.code, CloseCode::Again);
    assert!(
        frame.reason.contains("already feeds 2 browsers"),
        "{}",
        frame.reason
    );
    assert_eq!(server.feed().status().clients, 2);

    // A place comes free when a browser leaves.
    first.close(None).await.unwrap();
    while next_message(&mut first).await.is_some() {}
    let mut again = None;
    for _ in 0..100 {
        let mut ws = ws_connect(port).await;
        match next_message(&mut ws).await {
            Some(m) if m.is_text() => {
                again = Some(ws);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "a browser gets the place another left");
    drop((second, third, again));
    server.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_browser_that_takes_nothing_for_the_stall_timeout_is_closed() {
    let feed = Feed::new(FeedConfig {
        client_queue: 4,
        ..FeedConfig::default()
    });
    let stall = DashboardConfig::default().stall_timeout;
    let server = DashboardServer::start(DashboardConfig::default(), feed.clone(), None)
        .await
        .unwrap();
    let port = server.addr().port();
    // Connects, then never reads.
    let stalled = ws_connect(port).await;
    // Reads everything, as a healthy browser does.
    let mut reader = ws_connect(port).await;
    hello(&mut reader).await;
    let reading = tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(Ok(_)) = reader.next().await {
            n += 1;
        }
        n
    });
    // About 200 KB a message (the phase is in the frame and its headline), so the stalled socket's
    // buffers fill after a few dozen; 60 make a hello of 6 MB, more than a socket takes unread.
    let mut big = tick(1);
    big.phase = Some("p".repeat(100_000));
    let mut i = 0;
    while feed.status().dropped_messages == 0 || i < 60 {
        i += 1;
        assert!(i < 2_000, "the stalled browser's queue never filled");
        big.t_s = i as f64;
        feed.frame(big.clone());
        tokio::task::yield_now().await;
    }
    // Joins now, when its hello (the big ticks so far) is more than the socket takes, and never reads.
    let late = ws_connect(port).await;
    while feed.status().clients < 3 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(stall - Duration::from_secs(1)).await;
    assert_eq!(feed.status().clients, 3, "not closed before the timeout");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        feed.status().clients,
        1,
        "the stalled browsers are closed and their backlogs let go; the reading one stays"
    );
    drop((stalled, late));
    server.shutdown().await.unwrap();
    assert!(reading.await.unwrap() > 0);
}

#[tokio::test]
async fn the_intervals_download_streams_without_holding_the_feed() {
    let server = serve(DashboardConfig::default(), None).await;
    let feed = server.feed().clone();
    let n = 1_234u64;
    for i in 1..=n {
        feed.frame(tick(i));
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    let req = hyper::Request::get(format!("{}api/intervals.jsonl", server.url()))
        .body(body(Vec::new(), true))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    assert!(
        resp.headers().get("content-length").is_none(),
        "streamed in pieces, not built whole first: {:?}",
        resp.headers()
    );
    // The download is under way and unread: the run and the other endpoints carry on.
    feed.frame(tick(n + 1));
    let status = get(&format!("{}api/status", server.url()), &[]).await;
    assert_eq!(status.status, 200);
    let bytes = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect())
        .await
        .expect("the whole download within 10 s")
        .unwrap()
        .to_bytes();
    let t: Vec<f64> = String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<IntervalSnapshot>(l).unwrap().t_s)
        .collect();
    let want: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    assert_eq!(
        t, want,
        "every tick kept when it was asked for, once, in order"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn failed_control_attempts_are_limited_per_peer() {
    let rec = Arc::new(Recorder::default());
    let defaults = DashboardConfig::default();
    let server = serve(DashboardConfig::default(), Some(rec.clone())).await;
    let url = format!("{}api/control/pause", server.url());
    let bearer = format!("Bearer {TOKEN}");
    let here: IpAddr = "127.0.0.1".parse().unwrap();
    let elsewhere: IpAddr = "127.0.0.2".parse().unwrap();
    let post = |from: IpAddr, headers: Vec<(&'static str, String)>| {
        let url = url.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send_from(Some(from), "POST", &url, &headers, body(Vec::new(), true)).await
        }
    };
    let wrong = || vec![("authorization", "Bearer not-the-token-at-all".to_owned())];
    let right = || vec![("authorization", bearer.clone())];

    for i in 0..defaults.max_failed_controls {
        let a = if i % 2 == 0 {
            post(here, wrong()).await
        } else {
            post(here, vec![("origin", "http://evil.example".to_owned())]).await
        };
        assert!(matches!(a.status, 401 | 403), "attempt {i}: {}", a.body);
    }
    let a = post(here, right()).await;
    assert_eq!(a.status, 429, "locked out, even with the token: {}", a.body);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= defaults.failed_controls_window.as_secs());
    assert!(a.body.contains("try again in"), "{}", a.body);
    assert!(rec.calls().is_empty());

    // Another peer is not affected.
    assert_eq!(post(elsewhere, right()).await.status, 200);

    tokio::time::sleep(defaults.failed_controls_window).await;
    assert_eq!(
        post(here, right()).await.status,
        200,
        "the window has passed"
    );
    assert_eq!(rec.calls(), ["pause", "pause"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_given_token_shorter_than_sixteen_characters_is_refused() {
    for short in ["", "hunter2", "fifteen-chars-x"] {
        let config = DashboardConfig {
            token: Some(short.into()),
            ..DashboardConfig::default()
        };
        match DashboardServer::start(config, Feed::default(), None).await {
            Err(DashboardError::Token(TokenError::TooShort { len, min: 16 })) => {
                assert_eq!(len, short.chars().count());
            }
            other => panic!("{short:?} was not refused: {other:?}"),
        }
    }
    let config = DashboardConfig {
        token: Some("sixteen-chars-xy".into()),
        ..DashboardConfig::default()
    };
    let server = DashboardServer::start(config, Feed::default(), None)
        .await
        .unwrap();
    assert_eq!(server.token(), "sixteen-chars-xy");
    server.shutdown().await.unwrap();
}

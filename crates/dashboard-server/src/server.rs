//! [`DashboardServer`]: the warp server with the pages, the WebSocket feed, the JSON API, the control
//! API and `/metrics`, bound on 127.0.0.1 by default. It answers only requests addressed to it by a
//! loopback name (so that a DNS-rebinding page cannot read it), checks a control request's size,
//! origin and token before reading its body, and bounds the browsers it feeds.

use crate::assets;
use crate::controller::Controller;
use crate::error::DashboardError;
use crate::feed::{self, Feed};
use crate::lockout::Lockout;
use crate::token;
use futures_util::{SinkExt, StreamExt};
use models::{FaultKind, FaultSpec};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;
use warp::Filter;
use warp::host::Authority;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};
use warp::ws::{Message, WebSocket};

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// 127.0.0.1 unless the user asks for another address.
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// The control API's bearer token; `None` generates a random one.
    pub token: Option<String>,
    /// Cadence of the feed between metric ticks (live counters and fan-out statistics).
    pub live_interval: Duration,
    /// Browser origins allowed besides the server's own loopback ones (`http://host:port`).
    pub extra_origins: Vec<String>,
    /// Largest control request body in bytes: a larger `content-length` is refused before anything
    /// is read, and a chunked body as soon as it streams past this.
    pub max_control_body: u64,
    /// Browsers on the WebSocket feed at once; one more is closed with a reason (code 1013).
    pub max_clients: usize,
    /// A browser that takes a message from the feed no sooner than this is closed, and its queue let go.
    pub stall_timeout: Duration,
    /// Failed control attempts (wrong token, foreign origin) a peer address may make per window;
    /// after that its control requests get 429 until the window has passed.
    pub max_failed_controls: u32,
    /// The window of `max_failed_controls`, opened by a peer's first failure.
    pub failed_controls_window: Duration,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token: None,
            live_interval: Duration::from_millis(500),
            extra_origins: Vec::new(),
            max_control_body: 16 * 1024,
            max_clients: 64,
            stall_timeout: Duration::from_secs(10),
            max_failed_controls: 10,
            failed_controls_window: Duration::from_secs(60),
        }
    }
}

/// Counts the WebSocket sessions (warp runs them on tasks of its own) so shutdown can wait for them.
#[derive(Debug, Default)]
struct Sessions {
    active: AtomicUsize,
    idle: Notify,
}

struct SessionGuard(Arc<Sessions>);

/// One of the `max_clients` places on the feed, given back when dropped.
struct Place(Arc<AtomicUsize>);

impl Place {
    fn take(taken: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Place(taken.clone()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[derive(Clone)]
struct Shared {
    feed: Feed,
    controller: Option<Arc<dyn Controller>>,
    token: Arc<str>,
    origins: Arc<Vec<String>>,
    /// Host names the server answers to (with `port`).
    hosts: Arc<Vec<String>>,
    port: u16,
    sessions: Arc<Sessions>,
    /// Places taken on the feed.
    places: Arc<AtomicUsize>,
    lockout: Arc<Lockout>,
    max_control_body: u64,
    max_clients: usize,
    stall_timeout: Duration,
    closing: watch::Receiver<bool>,
}

/// A running dashboard. Call [`DashboardServer::shutdown`] to stop it; it waits for its tasks.
#[derive(Debug)]
pub struct DashboardServer {
    addr: SocketAddr,
    token: String,
    feed: Feed,
    closing: watch::Sender<bool>,
    stop_http: Option<oneshot::Sender<()>>,
    http: JoinHandle<()>,
    ticker: JoinHandle<()>,
    sessions: Arc<Sessions>,
}

impl DashboardServer {
    /// Binds and starts serving `feed`. Without a controller the control API answers 403 (a replay).
    pub async fn start(
        config: DashboardConfig,
        feed: Feed,
        controller: Option<Arc<dyn Controller>>,
    ) -> Result<Self, DashboardError> {
        let token = match config.token.clone() {
            Some(t) => {
                token::check(&t)?;
                t
            }
            None => token::generate(),
        };
        let want = SocketAddr::new(config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(want)
            .await
            .map_err(|source| DashboardError::Bind { addr: want, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DashboardError::Bind { addr: want, source })?;
        let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .map(str::to_owned)
            .into();
        let bound = match addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        if !hosts.contains(&bound) {
            hosts.push(bound);
        }
        let mut origins: Vec<String> = hosts
            .iter()
            .map(|h| format!("http://{h}:{}", addr.port()))
            .collect();
        origins.extend(
            config
                .extra_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_owned()),
        );
        let (closing_tx, closing_rx) = watch::channel(false);
        let sessions = Arc::new(Sessions::default());
        let shared = Shared {
            feed: feed.clone(),
            controller,
            token: Arc::from(token.as_str()),
            origins: Arc::new(origins),
            hosts: Arc::new(hosts),
            port: addr.port(),
            sessions: sessions.clone(),
            places: Arc::new(AtomicUsize::new(0)),
            lockout: Arc::new(Lockout::new(
                config.max_failed_controls,
                config.failed_controls_window,
            )),
            max_control_body: config.max_control_body,
            max_clients: config.max_clients,
            stall_timeout: config.stall_timeout,
            closing: closing_rx.clone(),
        };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = warp::serve(routes(shared))
            .incoming(listener)
            .graceful(async move {
                let _ = stop_rx.await;
            });
        let http = tokio::spawn(server.run());
        let ticker = tokio::spawn(tick(feed.clone(), config.live_interval, closing_rx));
        Ok(Self {
            addr,
            token,
            feed,
            closing: closing_tx,
            stop_http: Some(stop_tx),
            http,
            ticker,
            sessions,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        match self.addr.ip() {
            IpAddr::V6(ip) => format!("http://[{ip}]:{}/", self.addr.port()),
            ip => format!("http://{ip}:{}/", self.addr.port()),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Closes the browsers' feeds, stops accepting and waits for the server's tasks.
    pub async fn shutdown(mut self) -> Result<(), DashboardError> {
        let _ = self.closing.send(true);
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        // Sessions end at the closing signal; a browser that does not answer the close is cut off.
        let wait_sessions = async {
            loop {
                let idle = self.sessions.idle.notified();
                if self.sessions.active.load(Ordering::SeqCst) == 0 {
                    break;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(3), wait_sessions).await;
        let ticker = self.ticker.await;
        if tokio::time::timeout(Duration::from_secs(5), &mut self.http)
            .await
            .is_err()
        {
            // Keep-alive connections that never close: stop serving them.
            self.http.abort();
            let _ = (&mut self.http).await;
        }
        ticker.map_err(|e| DashboardError::Task("feed ticker", e.to_string()))
    }
}

async fn tick(feed: Feed, every: Duration, mut closing: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A tick fresher than this needs no live message beside it.
    let fresh = every.mul_f64(0.8);
    loop {
        tokio::select! {
            _ = interval.tick() => feed.live(fresh),
            _ = closing.changed() => break,
        }
    }
}

fn json_reply(status: StatusCode, value: serde_json::Value) -> Response {
    warp::reply::with_status(warp::reply::json(&value), status).into_response()
}

fn error_reply(status: StatusCode, message: impl Into<String>) -> Response {
    json_reply(status, json!({ "error": message.into() }))
}

fn asset_reply(body: &'static str, content_type: &'static str) -> Response {
    let r = warp::reply::with_header(body, "content-type", content_type);
    let r = warp::reply::with_header(r, "cache-control", "no-cache");
    r.into_response()
}

/// No page may load anything from elsewhere; the feed is on the page's own origin.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn page_reply(html: &'static str) -> Response {
    let r = warp::reply::with_header(warp::reply::html(html), "content-security-policy", CSP);
    warp::reply::with_header(r, "cache-control", "no-cache").into_response()
}

/// Whether a browser's `Origin` is the dashboard's own (absent for non-browser clients).
fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    match origin {
        None => true,
        Some(o) => allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(o.trim_end_matches('/'))),
    }
}

/// Whether a request's authority (`Host`) names this server: one of `hosts` with its `port`. A
/// DNS-rebinding page reaches the server under its own name, and is answered 421.
fn host_allowed(authority: Option<&Authority>, hosts: &[String], port: u16) -> bool {
    let Some(a) = authority else {
        return false;
    };
    // Browsers leave out the default port.
    let port_ok = a.port_u16().map_or(port == 80, |p| p == port);
    port_ok && !a.as_str().contains('@') && hosts.iter().any(|h| h.eq_ignore_ascii_case(a.host()))
}

fn with_shared(shared: Shared) -> impl Filter<Extract = (Shared,), Error = Infallible> + Clone {
    warp::any().map(move || shared.clone())
}

fn routes(shared: Shared) -> warp::filters::BoxedFilter<(Response,)> {
    // Answers a request for another host; passes on (404, the weakest rejection) otherwise.
    let misdirected = warp::host::optional()
        .and(with_shared(shared.clone()))
        .and_then(|authority: Option<Authority>, s: Shared| async move {
            if host_allowed(authority.as_ref(), &s.hosts, s.port) {
                return Err(warp::reject::not_found());
            }
            let names: Vec<String> = s.hosts.iter().map(|h| format!("{h}:{}", s.port)).collect();
            Ok(error_reply(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this dashboard answers only to {}; open it by one of those addresses (the request was for {})",
                    names.join(", "),
                    authority.as_ref().map_or("no host", |a| a.as_str())
                ),
            ))
        });
    let pages =
        warp::get()
            .and(warp::path::full())
            .and_then(|p: warp::path::FullPath| async move {
                match assets::page(p.as_str()) {
                    Some(html) => Ok(page_reply(html)),
                    None => Err(warp::reject::not_found()),
                }
            });
    let static_assets = warp::path("assets")
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::get())
        .and_then(|name: String| async move {
            match assets::asset(&name) {
                Some((body, ct)) => Ok(asset_reply(body, ct)),
                None => Err(warp::reject::not_found()),
            }
        });
    let ws = warp::path("ws")
        .and(warp::path::end())
        .and(warp::header::optional::<String>("origin"))
        .and(with_shared(shared.clone()))
        .and(warp::ws())
        .map(|origin: Option<String>, shared: Shared, ws: warp::ws::Ws| {
            if !origin_allowed(origin.as_deref(), &shared.origins) {
                return error_reply(
                    StatusCode::FORBIDDEN,
                    format!(
                        "origin {} may not open the dashboard feed",
                        origin.unwrap_or_default()
                    ),
                );
            }
            let max = shared.max_clients;
            match Place::take(&shared.places, max) {
                Some(place) => ws
                    .on_upgrade(move |socket| session(socket, shared, place))
                    .into_response(),
                None => ws
                    .on_upgrade(move |socket| refuse(socket, shared, max))
                    .into_response(),
            }
        });
    let status = warp::path!("api" / "status")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| {
            let mut v = serde_json::to_value(s.feed.status()).unwrap_or_default();
            v["controls"] = json!(s.controller.is_some());
            json_reply(StatusCode::OK, v)
        });
    let summary = warp::path!("api" / "summary")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| match s.feed.summary_value() {
            Some(sum) => {
                let r = warp::reply::with_header(
                    warp::reply::json(&sum),
                    "content-disposition",
                    "inline; filename=\"summary.json\"",
                );
                r.into_response()
            }
            None => error_reply(
                StatusCode::NOT_FOUND,
                "the run has not finished yet; its summary comes at the end",
            ),
        });
    let aws = warp::path!("api" / "aws")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| match s.feed.aws_value() {
            Some(v) => json_reply(StatusCode::OK, v),
            None => error_reply(
                StatusCode::NOT_FOUND,
                "no AWS results: the run sent nothing to CloudWatch or X-Ray, or has not finished yet",
            ),
        });
    let intervals = warp::path!("api" / "intervals.jsonl")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| {
            let r = warp::reply::with_header(
                intervals_download(s.feed),
                "content-type",
                "application/x-ndjson",
            );
            warp::reply::with_header(
                r,
                "content-disposition",
                "attachment; filename=\"intervals.jsonl\"",
            )
            .into_response()
        });
    let events = warp::path!("api" / "events.jsonl")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| {
            let r = warp::reply::with_header(
                s.feed.events_jsonl(),
                "content-type",
                "application/x-ndjson",
            );
            warp::reply::with_header(
                r,
                "content-disposition",
                "attachment; filename=\"events.jsonl\"",
            )
            .into_response()
        });
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_shared(shared.clone()))
        .map(|s: Shared| {
            let text = crate::metrics::render(&s.feed.metrics_view());
            warp::reply::with_header(
                text,
                "content-type",
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .into_response()
        });
    let control = warp::path!("api" / "control" / String)
        .and(warp::post())
        .and(warp::addr::remote())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("origin"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::stream())
        .and(with_shared(shared))
        .then(
            |action: String,
             peer: Option<SocketAddr>,
             auth: Option<String>,
             origin: Option<String>,
             length: Option<u64>,
             body,
             s: Shared| async move {
                let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
                // Everything that needs no body is checked before a byte of it is read.
                if let Some(refusal) = admit(peer, auth.as_deref(), origin.as_deref(), length, &s) {
                    return refusal;
                }
                match read_limited(body, s.max_control_body).await {
                    Ok(body) => control(&action, &body, &s),
                    Err(refusal) => refusal,
                }
            },
        );
    misdirected
        .or(ws)
        .unify()
        .or(status)
        .unify()
        .or(summary)
        .unify()
        .or(aws)
        .unify()
        .or(intervals)
        .unify()
        .or(events)
        .unify()
        .or(metrics)
        .unify()
        .or(control)
        .unify()
        .or(static_assets)
        .unify()
        .or(pages)
        .unify()
        .boxed()
}

/// Ticks serialized at a time for `/api/intervals.jsonl`.
const EXPORT_TICKS: usize = 500;

/// `/api/intervals.jsonl` as a stream: pieces of ticks copied out under the feed's lock, turned into
/// JSON on the blocking pool rather than the run's runtime threads, and sent as the browser takes them.
fn intervals_download(feed: Feed) -> impl Reply {
    let end = feed.tick_count();
    let pieces = futures_util::stream::unfold(Some(0), move |next| {
        let feed = feed.clone();
        async move {
            let (after, ticks) = feed.ticks_between(next?, end, EXPORT_TICKS);
            if ticks.is_empty() {
                return None;
            }
            let piece = tokio::task::spawn_blocking(move || feed::jsonl(&ticks))
                .await
                .map(bytes::Bytes::from)
                .map_err(|e| std::io::Error::other(format!("writing intervals.jsonl: {e}")));
            // A failed piece ends the download (cut short, so the browser sees it failed).
            let next = piece.is_ok().then_some(after);
            Some((piece, next))
        }
    });
    warp::reply::stream(pieces)
}

fn too_large(max: u64) -> Response {
    error_reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("control bodies are small JSON objects ({max} bytes at most)"),
    )
}

/// The checks that need no body: its declared size, a controller, the peer's failed attempts, the
/// origin and the token. `None` lets the request through.
fn admit(
    peer: IpAddr,
    auth: Option<&str>,
    origin: Option<&str>,
    length: Option<u64>,
    s: &Shared,
) -> Option<Response> {
    if length.is_some_and(|n| n > s.max_control_body) {
        return Some(too_large(s.max_control_body));
    }
    if s.controller.is_none() {
        return Some(error_reply(
            StatusCode::FORBIDDEN,
            "controls are disabled: this dashboard replays a finished run",
        ));
    }
    if let Some(wait) = s.lockout.wait(peer) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let r = error_reply(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many failed control attempts from {peer}; try again in {secs} s with the token printed when the dashboard started"
            ),
        );
        return Some(warp::reply::with_header(r, "retry-after", secs.to_string()).into_response());
    }
    if !origin_allowed(origin, &s.origins) {
        s.lockout.fail(peer);
        return Some(error_reply(
            StatusCode::FORBIDDEN,
            "control requests must come from the dashboard's own pages",
        ));
    }
    if !token::authorizes(auth, &s.token) {
        s.lockout.fail(peer);
        let r = error_reply(
            StatusCode::UNAUTHORIZED,
            "control requests need `Authorization: Bearer <token>` with the token printed when the dashboard started",
        );
        return Some(warp::reply::with_header(r, "www-authenticate", "Bearer").into_response());
    }
    None
}

/// Reads a request body, refusing it as soon as it passes `max` bytes (a chunked body declares no
/// size up front).
async fn read_limited<B: bytes::Buf>(
    body: impl futures_util::Stream<Item = Result<B, warp::Error>>,
    max: u64,
) -> Result<Vec<u8>, Response> {
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| {
            error_reply(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {e}"),
            )
        })?;
        if (out.len() + piece.remaining()) as u64 > max {
            return Err(too_large(max));
        }
        bytes::BufMut::put(&mut out, piece);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    multiplier: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectBody {
    kind: FaultKind,
    #[serde(default)]
    stage: Option<String>,
    /// `30s`, `2m`; 30 s when absent.
    #[serde(default)]
    duration: Option<String>,
    #[serde(default)]
    probability: Option<f64>,
    #[serde(default)]
    latency: Option<String>,
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8], example: &str) -> Result<T, String> {
    serde_json::from_slice(body)
        .map_err(|e| format!("bad request body: {e}; send JSON like {example}"))
}

/// Carries out a control request that [`admit`] has let through.
fn control(action: &str, body: &[u8], s: &Shared) -> Response {
    let Some(ctl) = &s.controller else {
        return error_reply(
            StatusCode::FORBIDDEN,
            "controls are disabled: this dashboard replays a finished run",
        );
    };
    let result = match action {
        "start" => ctl.start(),
        "pause" => ctl.pause(),
        "resume" => ctl.resume(),
        "stop" => ctl.stop(),
        "rate" => match parse_body::<RateBody>(body, r#"{"multiplier": 1.5}"#) {
            Ok(b) => match ctl.check_rate(b.multiplier) {
                Ok(()) => ctl.set_rate(b.multiplier),
                Err(e) => return error_reply(StatusCode::BAD_REQUEST, e.to_string()),
            },
            Err(msg) => return error_reply(StatusCode::BAD_REQUEST, msg),
        },
        "inject" => {
            let b = match parse_body::<InjectBody>(
                body,
                r#"{"kind": "agent_crash", "stage": "pattern_detector", "duration": "30s"}"#,
            ) {
                Ok(b) => b,
                Err(msg) => return error_reply(StatusCode::BAD_REQUEST, msg),
            };
            match fault_spec(b) {
                Ok(f) => ctl.inject(f),
                Err(msg) => return error_reply(StatusCode::BAD_REQUEST, msg),
            }
        }
        other => {
            return error_reply(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown control {other:?}; use start, pause, resume, stop, rate or inject"
                ),
            );
        }
    };
    match result {
        Ok(()) => json_reply(StatusCode::OK, json!({ "ok": true, "action": action })),
        Err(e) => error_reply(StatusCode::CONFLICT, e.to_string()),
    }
}

fn fault_spec(b: InjectBody) -> Result<FaultSpec, String> {
    let parse = |s: &str, field: &str| {
        models::duration_serde::parse(s).map_err(|e| format!("{field}: {e}"))
    };
    let duration = match b.duration.as_deref() {
        Some(d) => parse(d, "duration")?,
        None => Duration::from_secs(30),
    };
    if duration.is_zero() {
        return Err("duration: give a fault a length above zero, like \"30s\"".into());
    }
    let mut f = FaultSpec::new(b.kind, Duration::ZERO, duration);
    f.stage = b.stage.filter(|s| !s.is_empty());
    if let Some(p) = b.probability {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!("probability {p} must be between 0 and 1"));
        }
        f.probability = p;
    }
    if let Some(l) = b.latency.as_deref() {
        f.latency = Some(parse(l, "latency")?);
    }
    Ok(f)
}

/// Closes a browser beyond `max_clients`, saying why.
async fn refuse(mut socket: WebSocket, s: Shared, max: usize) {
    s.sessions.active.fetch_add(1, Ordering::SeqCst);
    let _guard = SessionGuard(s.sessions.clone());
    // 1013: try again later.
    let reason =
        format!("the dashboard already feeds {max} browsers; close one of them and reload");
    let _ = tokio::time::timeout(
        s.stall_timeout,
        socket.send(Message::close_with(1013u16, reason)),
    )
    .await;
}

async fn session(socket: WebSocket, s: Shared, _place: Place) {
    s.sessions.active.fetch_add(1, Ordering::SeqCst);
    let _guard = SessionGuard(s.sessions.clone());
    let mut closing = s.closing.clone();
    if *closing.borrow() {
        return;
    }
    let mut sub = s.feed.subscribe(s.controller.is_some());
    let (mut tx, mut rx) = socket.split();
    let hello = Message::text(std::mem::take(&mut sub.hello));
    if let Ok(Ok(())) = tokio::time::timeout(s.stall_timeout, tx.send(hello)).await {
        loop {
            tokio::select! {
                msg = sub.rx.recv() => match msg {
                    // A browser that takes nothing for `stall_timeout` is let go with its backlog.
                    Some(m) => match tokio::time::timeout(s.stall_timeout, tx.send(Message::text(m.as_ref()))).await {
                        Ok(Ok(())) => {}
                        _ => break,
                    },
                    None => break,
                },
                incoming = rx.next() => match incoming {
                    Some(Ok(m)) if !m.is_close() => {}
                    _ => break,
                },
                _ = closing.changed() => {
                    let _ = tx.send(Message::close()).await;
                    break;
                }
            }
        }
    }
    s.feed.unsubscribe(sub.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_exactly() {
        let allowed = vec![
            "http://127.0.0.1:8090".to_owned(),
            "http://localhost:8090".to_owned(),
        ];
        assert!(origin_allowed(None, &allowed));
        assert!(origin_allowed(Some("http://127.0.0.1:8090"), &allowed));
        assert!(origin_allowed(Some("http://LOCALHOST:8090/"), &allowed));
        assert!(!origin_allowed(Some("http://127.0.0.1:8091"), &allowed));
        assert!(!origin_allowed(Some("http://evil.example"), &allowed));
        assert!(!origin_allowed(Some("null"), &allowed));
    }

    #[test]
    fn inject_bodies_become_fault_specs() {
        let b: InjectBody = serde_json::from_str(
            r#"{"kind":"agent_crash","stage":"pattern_detector","duration":"10s"}"#,
        )
        .unwrap();
        let f = fault_spec(b).unwrap();
        assert_eq!(
            (f.kind, f.stage.as_deref(), f.duration),
            (
                FaultKind::AgentCrash,
                Some("pattern_detector"),
                Duration::from_secs(10)
            )
        );
        let b: InjectBody =
            serde_json::from_str(r#"{"kind":"latency_spike","duration":"0s"}"#).unwrap();
        assert!(fault_spec(b).unwrap_err().contains("duration"));
    }
}

//! The fault-injecting HTTP proxy: sits on loopback between the load driver and any HTTP target, passes
//! requests through unchanged, and applies the active faults on the way.

mod rules;
mod stream;
mod throttle;

use crate::flag::check_spec;
use crate::injector::{ActiveFault, FaultId, InjectError, Injector};
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use models::{FaultKind, FaultSpec};
use rules::{Answer, RuleSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use stream::ResettableStream;
use throttle::ThrottledBody;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How to start a [`FaultProxy`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    /// The target, `http://host:port` or `https://host:port`. Only its scheme and authority are used:
    /// the path of each request is kept (see [`FaultProxy::proxied_url`]).
    pub upstream: String,
    /// How an `https://` upstream is reached (private CA, client certificate, server name): the
    /// target's `[target.tls]`, so that the proxy meets the same certificates as a direct run.
    pub tls: models::TlsSpec,
    /// Allow an upstream that is not loopback (the command line's `--allow-remote`).
    pub allow_remote: bool,
    /// Where to listen; loopback with a free port by default.
    pub listen: SocketAddr,
    /// Seeds the probability rolls, so that a sequence of requests meets the same faults run after run.
    pub seed: u64,
    /// How long in-flight requests get to finish at shutdown before their connections are dropped.
    pub shutdown_grace: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            upstream: String::new(),
            tls: models::TlsSpec::default(),
            allow_remote: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 42,
            shutdown_grace: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("proxy upstream: {0}")]
    Upstream(#[from] targets::TargetConfigError),
    #[error(
        "proxy upstream {url:?}: its scheme must be http:// or https://, like http://127.0.0.1:8080"
    )]
    Scheme { url: String },
    #[error("proxy: could not listen on {addr}: {source}; pick another address or port 0")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Counts of what the proxy did, since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProxyStats {
    /// Client connections accepted (fewer than requests when keep-alive works).
    pub connections: u64,
    pub requests: u64,
    /// Passed to the upstream (possibly delayed or throttled).
    pub forwarded: u64,
    /// Answered with an injected status.
    pub injected_status: u64,
    pub resets: u64,
    pub black_holed: u64,
    /// Held by latency_spike, stream_lag or slow_response.
    pub delayed: u64,
    /// Bodies sent through a bandwidth limit.
    pub throttled: u64,
    /// The upstream could not be reached (answered 502).
    pub upstream_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    forwarded: AtomicU64,
    injected_status: AtomicU64,
    resets: AtomicU64,
    black_holed: AtomicU64,
    delayed: AtomicU64,
    throttled: AtomicU64,
    upstream_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

type ProxyBody = UnsyncBoxBody<Bytes, hyper::Error>;

#[derive(Debug)]
struct Shared {
    rules: RuleSet,
    next_id: AtomicU64,
    counters: Counters,
    /// Scheme and authority of the upstream.
    upstream: (hyper::http::uri::Scheme, hyper::http::uri::Authority),
    /// Speaks HTTP/1.1 to the upstream, over TLS for `https://` (the load side always reaches the
    /// proxy in plain HTTP/1.1 on loopback).
    client: Client<HttpsConnector<HttpConnector>, Incoming>,
    /// Bumped whenever the faults change, so that black-holed requests can re-check theirs.
    changed: watch::Sender<u64>,
    shutdown: watch::Receiver<bool>,
}

/// A running fault-injecting proxy. It is also an [`Injector`]; [`injector`](Self::injector) hands out
/// more handles to the same faults.
///
/// ```no_run
/// use failure_injection::{FaultProxy, Injector, ProxyConfig};
/// use models::{FaultKind, FaultSpec};
/// use std::time::Duration;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let proxy = FaultProxy::start(ProxyConfig { upstream: "http://127.0.0.1:8080".into(), ..Default::default() }).await?;
/// let url = proxy.proxied_url("http://127.0.0.1:8080/v1/score")?; // give this to the load driver
/// let mut spec = FaultSpec::new(FaultKind::HttpError, Duration::ZERO, Duration::from_secs(10));
/// spec.probability = 0.2;
/// let id = proxy.apply(&spec).await?;
/// // ... drive load through `url` ...
/// proxy.clear(id).await?;
/// proxy.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    injector: ProxyInjector,
    shutdown_tx: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

/// A handle on a proxy's faults; clone it freely. Implements [`Injector`].
#[derive(Debug, Clone)]
pub struct ProxyInjector {
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Binds the listener and starts serving. Must be called inside a tokio runtime.
    pub async fn start(config: ProxyConfig) -> Result<Self, ProxyError> {
        targets::check_loopback(&config.upstream, config.allow_remote)?;
        let uri: Uri = config.upstream.parse().map_err(|_| ProxyError::Scheme {
            url: config.upstream.clone(),
        })?;
        let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned())
        else {
            return Err(ProxyError::Scheme {
                url: config.upstream,
            });
        };
        if !matches!(scheme.as_str(), "http" | "https") {
            return Err(ProxyError::Scheme {
                url: config.upstream,
            });
        }
        let mut tls = targets::tls_client_config(&config.tls, models::Http2Mode::Never)?;
        // The connector offers by ALPN what it is built to speak (HTTP/1.1 only, below).
        tls.alpn_protocols.clear();
        let mut https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        // The same name check as a direct run's: `server_name` when the URL names an IP.
        if let Some(name) = &config.tls.server_name {
            let name = rustls_pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                targets::TargetConfigError::InvalidSetting {
                    field: "tls.server_name",
                    reason: format!("{name:?} is not a DNS name or IP address: {e}"),
                }
            })?;
            https = https.with_server_name_resolver(FixedServerNameResolver::new(name));
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProxyError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: config.listen,
            source,
        })?;

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // The TLS layer handles `https://`; the TCP connector must let such URIs through.
        connector.enforce_http(false);
        let connector = https.enable_http1().wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            rules: RuleSet::new(config.seed),
            next_id: AtomicU64::new(1),
            counters: Counters::default(),
            upstream: (scheme, authority),
            client,
            changed: watch::Sender::new(0),
            shutdown: shutdown_rx,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone(), config.shutdown_grace));
        Ok(Self {
            addr,
            injector: ProxyInjector { shared },
            shutdown_tx,
            accept: Some(accept),
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `target_url` with its scheme and authority replaced by the proxy's, keeping path and query:
    /// `http://127.0.0.1:8080/v1/score` becomes `http://127.0.0.1:PORT/v1/score`.
    pub fn proxied_url(&self, target_url: &str) -> Result<String, ProxyError> {
        let uri: Uri = target_url.parse().map_err(|_| ProxyError::Scheme {
            url: target_url.to_owned(),
        })?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(format!("{}{path}", self.url()))
    }

    /// Another handle on this proxy's faults.
    pub fn injector(&self) -> ProxyInjector {
        self.injector.clone()
    }

    pub fn stats(&self) -> ProxyStats {
        self.injector.stats()
    }

    /// Stops accepting, lets in-flight requests finish within the grace period (black-holed ones end at
    /// once), and waits for every connection task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Without `shutdown` the tasks still stop; nobody waits for them.
        let _ = self.shutdown_tx.send(true);
    }
}

impl ProxyInjector {
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProxyStats {
            connections: get(&c.connections),
            requests: get(&c.requests),
            forwarded: get(&c.forwarded),
            injected_status: get(&c.injected_status),
            resets: get(&c.resets),
            black_holed: get(&c.black_holed),
            delayed: get(&c.delayed),
            throttled: get(&c.throttled),
            upstream_errors: get(&c.upstream_errors),
        }
    }
}

#[async_trait]
impl Injector for ProxyInjector {
    fn name(&self) -> &'static str {
        "proxy"
    }

    async fn apply(&self, spec: &FaultSpec) -> Result<FaultId, InjectError> {
        check_spec(spec)?;
        let id = FaultId(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        self.shared.rules.add(id, spec.clone());
        self.shared.changed.send_modify(|v| *v += 1);
        Ok(id)
    }

    async fn clear(&self, id: FaultId) -> Result<(), InjectError> {
        if !self.shared.rules.remove(id) {
            return Err(InjectError::UnknownFault {
                injector: "proxy",
                id,
            });
        }
        self.shared.changed.send_modify(|v| *v += 1);
        Ok(())
    }

    async fn active(&self) -> Vec<ActiveFault> {
        self.shared.rules.active()
    }
}

#[async_trait]
impl Injector for FaultProxy {
    fn name(&self) -> &'static str {
        "proxy"
    }

    async fn apply(&self, spec: &FaultSpec) -> Result<FaultId, InjectError> {
        self.injector.apply(spec).await
    }

    async fn clear(&self, id: FaultId) -> Result<(), InjectError> {
        self.injector.clear(id).await
    }

    async fn active(&self) -> Vec<ActiveFault> {
        self.injector.active().await
    }
}

async fn wait_shutdown(mut rx: watch::Receiver<bool>) {
    // A dropped sender also means shut down.
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, grace: Duration) {
    let mut conns = JoinSet::new();
    let shutdown = wait_shutdown(shared.shutdown.clone());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((tcp, _peer)) = accepted else {
                    // Out of file descriptors or similar: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                bump(&shared.counters.connections);
                conns.spawn(serve_connection(tcp, shared.clone(), grace));
            }
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

/// Why the proxy ended a request without an answer; hyper then closes the connection.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    #[error("connection reset by an injected fault")]
    Reset,
    #[error("black-holed by an injected network partition")]
    BlackHole,
}

async fn serve_connection(tcp: tokio::net::TcpStream, shared: Arc<Shared>, grace: Duration) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ResettableStream::new(tcp, reset.clone()));
    let svc_shared = shared.clone();
    let svc = service_fn(move |req| handle(svc_shared.clone(), reset.clone(), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = wait_shutdown(shared.shutdown.clone()) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn).await;
        }
    }
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes the headers that belong to one connection, not to the message (RFC 9110 7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn text_response(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut resp = Response::new(
        Full::new(Bytes::from(text))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp.headers_mut()
        .insert("x-fraudstress-fault", HeaderValue::from_static("injected"));
    resp
}

async fn handle(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Unanswered> {
    let c = &shared.counters;
    bump(&c.requests);
    let plan = shared.rules.plan(req.uri().path());
    if !plan.delay_before.is_zero() || !plan.delay_headers.is_zero() {
        bump(&c.delayed);
    }
    if !plan.delay_before.is_zero() {
        tokio::time::sleep(plan.delay_before).await;
    }
    match plan.answer {
        Some(Answer::BlackHole(id)) => {
            bump(&c.black_holed);
            // Hold the request until its fault is cleared or the proxy stops; then drop the connection.
            let mut changed = shared.changed.subscribe();
            let cleared = async {
                while shared.rules.contains(id) {
                    if changed.changed().await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                _ = cleared => {}
                _ = wait_shutdown(shared.shutdown.clone()) => {}
            }
            reset.store(true, Ordering::Relaxed);
            return Err(Unanswered::BlackHole);
        }
        Some(Answer::Reset) => {
            bump(&c.resets);
            reset.store(true, Ordering::Relaxed);
            return Err(Unanswered::Reset);
        }
        Some(Answer::Status(status)) => {
            bump(&c.injected_status);
            // Read the request body as a real server would, so that the connection stays usable.
            let _ = req.into_body().collect().await;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let names: Vec<&str> = plan.faults.iter().map(|k: &FaultKind| k.as_str()).collect();
            return Ok(text_response(
                status,
                format!("injected fault: {}\n", names.join(", ")),
            ));
        }
        None => {}
    }

    let (mut parts, body) = req.into_parts();
    let (scheme, authority) = &shared.upstream;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(path)
        .build()
    {
        Ok(uri) => uri,
        Err(e) => {
            return Ok(text_response(
                StatusCode::BAD_REQUEST,
                format!("proxy: bad request path: {e}\n"),
            ));
        }
    };
    strip_hop_by_hop(&mut parts.headers);
    // The client sets Host from the upstream URI, as a reverse proxy should.
    parts.headers.remove(hyper::header::HOST);
    bump(&c.forwarded);
    let resp = match shared
        .client
        .request(Request::from_parts(parts, body))
        .await
    {
        Ok(resp) => resp,
        Err(e) => {
            bump(&c.upstream_errors);
            // The client's own message is only "client error (Connect)"; the cause (refused, a
            // certificate the TLS layer would not take) is in its sources.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                reason.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            return Ok(text_response(
                StatusCode::BAD_GATEWAY,
                format!("proxy: upstream {authority} failed: {reason}\n"),
            ));
        }
    };
    if !plan.delay_headers.is_zero() {
        tokio::time::sleep(plan.delay_headers).await;
    }
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let body = match plan.bandwidth_bps {
        Some(bps) => {
            bump(&c.throttled);
            ThrottledBody::new(body, bps).boxed_unsync()
        }
        None => body.boxed_unsync(),
    };
    Ok(Response::from_parts(parts, body))
}

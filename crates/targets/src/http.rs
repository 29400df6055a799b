//! [`HttpTarget`]: a scoring endpoint reached over HTTP/1.1 (plain or TLS) through a keep-alive
//! connection pool.

use crate::answer::ResponseMapping;
use crate::stream::Stream;
use crate::template::{BodyTemplate, DEFAULT_CONTENT_TYPE};
use crate::tls::{TlsClient, tls_failure};
use crate::{ErrorSamples, Target, TargetConfigError, TargetError, check_loopback};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use models::{
    ErrorKind, HeaderValueSpec, ResponseSpec, TargetInfo, TargetKind, TargetSpec, TlsSpec,
    Transaction, Verdict,
};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How to reach an HTTP scoring endpoint. Plain data with `Default`; build it from a scenario with
/// [`HttpTargetConfig::from_spec`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTargetConfig {
    /// The scoring endpoint, e.g. `http://127.0.0.1:8080/v1/score`, or `https://...` (see `tls`).
    pub url: String,
    /// Connections in the pool, which is also the bound on requests in flight: a request beyond it
    /// waits for a free connection. That wait is part of the request's `timeout`, and the load driver
    /// measures latency from the intended send time, so it is never hidden.
    pub connections: usize,
    /// Per request: waiting for a connection, sending, and reading the whole answer. Also bounds
    /// opening a connection.
    pub timeout: Duration,
    /// Enforce `timeout` on each request with a timer of the target's own. Set it to `false` when the
    /// caller already enforces the same deadline, as the load driver does with
    /// `DriverConfig::request_timeout` (counted as a timeout error there too): one timer per request
    /// is then saved. Opening a connection stays bounded by `timeout` either way.
    pub enforce_timeout: bool,
    /// Request body template (see [`BodyTemplate`]): `{{transaction}}` for the transaction's JSON,
    /// `{{amount}}` and the like for one field each; `None` sends the JSON alone.
    pub body_template: Option<String>,
    /// HTTP method of every request (`POST` by default; any case).
    pub method: String,
    /// The request's `Content-Type`; a JSON type also has the body template checked as JSON.
    pub content_type: String,
    /// Send these bytes as every request's body instead of the transaction (benchmarks, or an API whose
    /// body does not depend on the transaction). Takes precedence over `body_template`.
    pub fixed_body: Option<Vec<u8>>,
    /// JSON pointer to the decision in the answer.
    pub decision_pointer: String,
    /// JSON pointer to the risk score in the answer.
    pub score_pointer: String,
    /// `[target.response]`: its pointers override the two above; the API's decision words, or
    /// score thresholds (see [`ResponseMapping::from_spec`]).
    pub response: ResponseSpec,
    /// Extra request headers (for example an API key), their `${NAME}` references already expanded
    /// ([`HeaderValueSpec::expand`]); `Debug` masks their values.
    pub headers: Vec<(String, HeaderValueSpec)>,
    /// Send to non-loopback hosts too (the `--allow-remote` flag). Off by default.
    pub allow_remote: bool,
    /// The longest answer body read, in bytes ([`DEFAULT_MAX_ANSWER_BYTES`] by default). A longer one
    /// is a counted `malformed` error and its connection is closed: 1,024 connections each reading an
    /// unbounded answer could otherwise take all the generator's memory.
    pub max_answer_bytes: usize,
    /// How an `https://` URL is reached: extra CA, client certificate, server name. Ignored for `http://`.
    pub tls: TlsSpec,
    /// Connections being opened (TCP connect plus TLS handshake) at once, at most
    /// ([`DEFAULT_MAX_HANDSHAKES`] by default): a cold pool of 1,024 connections then opens in waves
    /// instead of 1,024 simultaneous handshakes that a server may take for an attack.
    pub max_handshakes: usize,
}

/// A TLS handshake costs a server about a millisecond of CPU; 32 at once keeps a cold start of 1,024
/// connections to a few dozen milliseconds of the server's time in flight.
pub const DEFAULT_MAX_HANDSHAKES: usize = 32;

/// 64 KiB: a fraud verdict is a few hundred bytes; anything near this is not one.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024;

impl Default for HttpTargetConfig {
    fn default() -> Self {
        Self::from_spec(
            &TargetSpec::default(),
            "http://127.0.0.1:8080/v1/score",
            false,
        )
    }
}

impl HttpTargetConfig {
    /// Takes connections, timeout, body template and pointers from a scenario's target spec.
    pub fn from_spec(spec: &TargetSpec, url: &str, allow_remote: bool) -> Self {
        Self {
            url: url.to_owned(),
            connections: spec.connections,
            timeout: spec.timeout,
            enforce_timeout: true,
            body_template: spec.body.clone(),
            method: spec.method.clone(),
            content_type: spec
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            fixed_body: None,
            decision_pointer: spec.decision_pointer.clone(),
            score_pointer: spec.score_pointer.clone(),
            response: spec.response.clone(),
            headers: spec
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            allow_remote,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            tls: spec.tls.clone(),
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
        }
    }
}

/// Connections a target has opened, and the time that took (TCP connect, TLS handshake and HTTP
/// setup), apart from request latency: see [`HttpTarget::connect_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectStats {
    /// Connections opened successfully.
    pub opened: u64,
    /// Attempts that failed (refused, timed out, TLS refused).
    pub failed: u64,
    /// Time spent opening the successful connections, summed.
    pub total: Duration,
    /// The slowest successful opening.
    pub slowest: Duration,
}

/// A [`Target`] that POSTs each transaction to an HTTP endpoint and maps the JSON answer to a
/// [`Verdict`]. Statuses other than 2xx, timeouts, refused or reset connections and unreadable answers
/// each become a typed [`TargetError`].
///
/// Connections are HTTP/1.1 keep-alive connections (`TCP_NODELAY`) in a small pool of its own: a
/// request takes an idle connection (or opens one while fewer than `connections` exist), sends on it
/// with hyper's connection-level client, and puts it back when the answer has been read. A
/// connection has no task of its own: the request that holds it drives it, so the answer wakes that
/// request's task directly and no task is spawned. An idle connection that the server closed is
/// noticed when it is next taken, and another one is used. Connections close when the target is
/// dropped (or a request holding one is dropped, e.g. at a timeout).
pub struct HttpTarget {
    pool: Pool,
    /// Origin-form request target (`/v1/score?x`): what goes on the request line.
    path: Uri,
    host: HeaderValue,
    url: String,
    method: Method,
    content_type: HeaderValue,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Each extra header's value as it may be shown ([`HeaderValueSpec::masked`]), for
    /// [`HttpTarget::probe`]: the values themselves are marked sensitive and never shown.
    masked_headers: Vec<(HeaderName, String)>,
    body: RequestBody,
    mapping: ResponseMapping,
    timeout: Duration,
    enforce_timeout: bool,
    max_answer_bytes: usize,
    /// Spare body buffers: each request's body is written into one and split off as `Bytes`, so the
    /// steady state allocates no body (a buffer's space is reclaimed once the bodies cut from it are
    /// gone).
    body_bufs: Mutex<Vec<BytesMut>>,
    /// The first errors of each kind with their answers (see [`HttpTarget::error_samples`]).
    samples: Arc<ErrorSamples>,
}

/// How each request's body is made.
enum RequestBody {
    Template(BodyTemplate),
    Fixed(Bytes),
}

type Sender = http1::SendRequest<Full<Bytes>>;
type Connection = http1::Connection<TokioIo<Stream>, Full<Bytes>>;

/// One keep-alive connection: hyper's request half and the connection itself. The connection has
/// no task of its own: the request using it drives it (see [`Link::drive`]), so an answer wakes the
/// request's task directly instead of a connection task that then wakes the request.
struct Link {
    sender: Sender,
    conn: Connection,
}

impl Link {
    /// Polls the connection (writes what is queued, reads what has come); an error when it has
    /// ended, closed by the server or failed.
    fn drive(conn: &mut Connection, cx: &mut Context<'_>) -> Result<(), TargetError> {
        match Pin::new(conn).poll(cx) {
            Poll::Pending => Ok(()),
            Poll::Ready(Ok(())) => Err(TargetError::Connection {
                reason: "the server closed the connection".into(),
            }),
            Poll::Ready(Err(e)) => Err(link_error(&e, "")),
        }
    }

    /// Waits until the connection can take a request, driving it meanwhile.
    async fn ready(&mut self) -> Result<(), TargetError> {
        let not_ready = |e: hyper::Error| link_error(&e, "");
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = self.sender.poll_ready(cx) {
                return Poll::Ready(r.map_err(not_ready));
            }
            Self::drive(&mut self.conn, cx)?;
            self.sender.poll_ready(cx).map_err(not_ready)
        })
        .await
    }

    /// Sends a request and reads the whole answer, driving the connection meanwhile.
    async fn exchange(
        &mut self,
        req: Request<Full<Bytes>>,
        max_bytes: usize,
    ) -> Result<(StatusCode, Bytes), TargetError> {
        let mut answer = std::pin::pin!(self.sender.send_request(req));
        let conn = &mut self.conn;
        let resp = std::future::poll_fn(|cx| {
            let driven = Self::drive(conn, cx);
            if let Poll::Ready(r) = answer.as_mut().poll(cx) {
                return Poll::Ready(r.map_err(|e| link_error(&e, "")));
            }
            driven?;
            Poll::Pending
        })
        .await?;
        let status = resp.status();
        let too_long = || TargetError::Malformed {
            reason: format!("the answer is longer than {max_bytes} bytes"),
        };
        // A declared length over the cap is refused before a byte is read; the connection is then
        // dropped with the error (it is never checked back in).
        if resp.body().size_hint().lower() > max_bytes as u64 {
            return Err(too_long());
        }
        // Read the whole body even for errors so that the connection can be reused. A small answer
        // comes in one frame: it is kept as it is, without a list of chunks.
        let mut body = std::pin::pin!(resp.into_body());
        let mut read = 0usize;
        let mut bytes = Bytes::new();
        let mut more: Option<BytesMut> = None;
        loop {
            let frame = std::future::poll_fn(|cx| {
                if let Poll::Ready(f) = body.as_mut().poll_frame(cx) {
                    return Poll::Ready(Ok(f));
                }
                let driven = Self::drive(conn, cx);
                if let Poll::Ready(f) = body.as_mut().poll_frame(cx) {
                    return Poll::Ready(Ok(f));
                }
                driven?;
                Poll::Pending
            })
            .await?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| link_error(&e, "the answer was cut off: "))?;
            if let Ok(data) = frame.into_data() {
                // Chunked or unannounced answers are cut as they stream.
                read = read.saturating_add(data.len());
                if read > max_bytes {
                    return Err(too_long());
                }
                match &mut more {
                    Some(m) => m.extend_from_slice(&data),
                    None if bytes.is_empty() => bytes = data,
                    None => {
                        let mut m = BytesMut::from(&bytes[..]);
                        m.extend_from_slice(&data);
                        more = Some(m);
                    }
                }
            }
        }
        if let Some(m) = more {
            bytes = m.freeze();
        }
        Ok((status, bytes))
    }
}

/// The keep-alive connections: idle ones on a stack (the most recently used first, so that a light
/// load keeps reusing a few warm connections), and a semaphore that bounds how many exist.
struct Pool {
    authority: String,
    /// Boxed: a connection is a few hundred bytes, moved in and out of the stack per request.
    #[allow(clippy::vec_box)]
    idle: Mutex<Vec<Box<Link>>>,
    permits: Semaphore,
    connect_timeout: Duration,
    /// Set for `https://` targets.
    tls: Option<TlsClient>,
    /// Bounds the connections being opened at once (`max_handshakes`).
    handshakes: Semaphore,
    opened: AtomicU64,
    failed: AtomicU64,
    connect_us_total: AtomicU64,
    connect_us_slowest: AtomicU64,
}

impl Pool {
    /// Takes an idle connection, or opens a new one.
    async fn checkout(&self) -> Result<Box<Link>, TargetError> {
        loop {
            let link = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match link {
                Some(mut l) => {
                    // A connection the server closed while idle is dropped; the next one is tried.
                    if l.ready().await.is_ok() {
                        return Ok(l);
                    }
                }
                None => return self.connect().await,
            }
        }
    }

    fn checkin(&self, link: Box<Link>) {
        if !link.sender.is_closed() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(link);
        }
    }

    /// Opens a connection: TCP, then TLS for `https://`, then HTTP/1.1, all within the connect
    /// timeout, while holding one of the `max_handshakes` permits. The time it takes is counted in
    /// the [`ConnectStats`], not in any request's service time.
    async fn connect(&self) -> Result<Box<Link>, TargetError> {
        let _handshake = self
            .handshakes
            .acquire()
            .await
            .map_err(|_| TargetError::Connection {
                reason: "the connection pool was closed".into(),
            })?;
        let started = Instant::now();
        let opened = match tokio::time::timeout(self.connect_timeout, self.open()).await {
            Ok(r) => r,
            Err(_) => Err(TargetError::Connection {
                reason: format!(
                    "opening a connection to {} timed out after {} ms",
                    self.authority,
                    self.connect_timeout.as_millis()
                ),
            }),
        };
        match &opened {
            Ok(_) => {
                let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.opened.fetch_add(1, Ordering::Relaxed);
                self.connect_us_total.fetch_add(us, Ordering::Relaxed);
                self.connect_us_slowest.fetch_max(us, Ordering::Relaxed);
            }
            Err(_) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        opened
    }

    async fn open(&self) -> Result<Box<Link>, TargetError> {
        let tcp = TcpStream::connect(self.authority.as_str())
            .await
            .and_then(|s| s.set_nodelay(true).map(|()| s))
            .map_err(|e| TargetError::Connection {
                reason: format!("tcp connect error to {}: {e}", self.authority),
            })?;
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some(tls) => {
                let name = tls.name();
                let session = tls
                    .connector
                    .connect(tls.server_name.clone(), tcp)
                    .await
                    .map_err(|e| match tls_failure(&e, &name) {
                        Some(reason) => TargetError::Tls {
                            reason: format!("with {} ({name}): {reason}", self.authority),
                        },
                        None => TargetError::Connection {
                            reason: format!("TLS handshake with {}: {e}", self.authority),
                        },
                    })?;
                Stream::Tls(Box::new(session))
            }
        };
        let (sender, conn) = http1::Builder::new()
            .writev(false)
            .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|e| link_error(&e, &format!("HTTP handshake with {}: ", self.authority)))?;
        let mut link = Box::new(Link { sender, conn });
        link.ready().await.map_err(|e| match e {
            TargetError::Connection { reason } => TargetError::Connection {
                reason: format!("connection to {} closed at once: {reason}", self.authority),
            },
            other => other,
        })?;
        Ok(link)
    }

    fn stats(&self) -> ConnectStats {
        ConnectStats {
            opened: self.opened.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            total: Duration::from_micros(self.connect_us_total.load(Ordering::Relaxed)),
            slowest: Duration::from_micros(self.connect_us_slowest.load(Ordering::Relaxed)),
        }
    }
}

/// A connection-level failure as a [`TargetError`]: `tls` when the TLS layer is the cause (for
/// example a client certificate the server refused after the handshake), `connection` otherwise.
fn link_error(err: &hyper::Error, context: &str) -> TargetError {
    match tls_failure(err, "") {
        Some(reason) => TargetError::Tls {
            reason: format!("{context}{reason}"),
        },
        None => TargetError::Connection {
            reason: format!("{context}{}", describe(err)),
        },
    }
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &self.url)
            .field("connections", &self.pool.permits.available_permits())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTarget {
    /// Checks the settings and the loopback guard ([`check_loopback`]); sends nothing.
    pub fn new(config: HttpTargetConfig) -> Result<Self, TargetConfigError> {
        check_loopback(&config.url, config.allow_remote)?;
        let invalid = |reason: String| TargetConfigError::InvalidUrl {
            url: config.url.clone(),
            reason,
        };
        let uri: Uri = config.url.parse().map_err(|e| invalid(format!("{e}")))?;
        let (secure, default_port) = match uri.scheme_str() {
            Some("http") => (false, 80),
            Some("https") => (true, 443),
            _ => {
                return Err(invalid(
                    "its scheme must be http:// or https://, like https://127.0.0.1:8443/v1/score"
                        .into(),
                ));
            }
        };
        let authority = uri.authority().ok_or_else(|| {
            invalid("it has no host; write it like http://127.0.0.1:8080/v1/score".into())
        })?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| invalid(format!("its host is not a valid Host header: {e}")))?;
        let connect_to = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(default_port)
        );
        let path: Uri = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| invalid(format!("its path: {e}")))?;
        if config.connections == 0 {
            return Err(TargetConfigError::InvalidSetting {
                field: "connections",
                reason: "must be at least 1".into(),
            });
        }
        if config.max_handshakes == 0 {
            return Err(TargetConfigError::InvalidSetting {
                field: "max_handshakes",
                reason: "must be at least 1".into(),
            });
        }
        let tls = if secure {
            Some(TlsClient::new(&config.tls, authority.host())?)
        } else {
            None
        };
        if config.timeout.is_zero() {
            return Err(TargetConfigError::InvalidSetting {
                field: "timeout",
                reason: "must be longer than zero, e.g. \"5s\"".into(),
            });
        }
        let body = match (&config.fixed_body, &config.body_template) {
            (Some(b), _) => RequestBody::Fixed(Bytes::from(b.clone())),
            (None, Some(t)) => {
                RequestBody::Template(BodyTemplate::parse_for(t, &config.content_type)?)
            }
            (None, None) => RequestBody::Template(BodyTemplate::default()),
        };
        let mapping = ResponseMapping::from_spec(
            &config.decision_pointer,
            &config.score_pointer,
            &config.response,
        )?;
        let headers = config
            .headers
            .iter()
            .map(|(name, value)| {
                let bad = |reason: String| TargetConfigError::InvalidSetting {
                    field: "headers",
                    reason,
                };
                if value.needs_expansion() {
                    return Err(bad(format!(
                        "the value of {name:?} names environment variables ({}) that were never \
                         expanded; expand them when the scenario loads (TargetSpec::expand_headers)",
                        value.as_written()
                    )));
                }
                let mut header_value = HeaderValue::try_from(value.value()).map_err(|e| {
                    bad(format!(
                        "the value of {name:?} ({}) cannot be sent: {e}; use visible ASCII",
                        value.masked()
                    ))
                })?;
                header_value.set_sensitive(true);
                Ok((
                    HeaderName::try_from(name.as_str())
                        .map_err(|e| bad(format!("header name {name:?}: {e}")))?,
                    header_value,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let masked_headers = headers
            .iter()
            .zip(&config.headers)
            .map(|((name, _), (_, spec))| (name.clone(), spec.masked().to_owned()))
            .collect();
        let method = Method::from_bytes(config.method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|e| TargetConfigError::InvalidSetting {
                field: "method",
                reason: format!(
                    "{:?} is not an HTTP method ({e}); for example POST or PUT",
                    config.method
                ),
            })?;
        let content_type = HeaderValue::try_from(config.content_type.as_str()).map_err(|e| {
            TargetConfigError::InvalidSetting {
                field: "content_type",
                reason: format!(
                    "{:?} is not a header value ({e}); for example \"application/json\"",
                    config.content_type
                ),
            }
        })?;
        Ok(Self {
            pool: Pool {
                authority: connect_to,
                idle: Mutex::new(Vec::with_capacity(config.connections)),
                permits: Semaphore::new(config.connections),
                connect_timeout: config.timeout,
                tls,
                handshakes: Semaphore::new(config.max_handshakes),
                opened: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                connect_us_total: AtomicU64::new(0),
                connect_us_slowest: AtomicU64::new(0),
            },
            path,
            host,
            url: config.url,
            method,
            content_type,
            headers,
            masked_headers,
            body,
            mapping,
            timeout: config.timeout,
            enforce_timeout: config.enforce_timeout,
            max_answer_bytes: config.max_answer_bytes,
            body_bufs: Mutex::new(Vec::new()),
            samples: Arc::default(),
        })
    }

    /// The first few errors of each kind with the answer that caused them (a non-2xx status, an
    /// answer that does not map to a verdict, a failed connection), for `summary.json`. A handle
    /// that stays valid when the target is wrapped.
    pub fn error_samples(&self) -> Arc<ErrorSamples> {
        self.samples.clone()
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True for an `https://` target.
    pub fn is_tls(&self) -> bool {
        self.pool.tls.is_some()
    }

    /// The connections opened so far and the time that took, counted apart from request latency.
    pub fn connect_stats(&self) -> ConnectStats {
        self.pool.stats()
    }

    /// Opens one connection and sends `HEAD` on it (any status will do), so that a certificate the
    /// client refuses, or a client certificate the server refuses (which TLS 1.3 reports only after
    /// the handshake), shows before any load is sent. The connection stays in the pool. Returns the
    /// time the connection took to open.
    pub async fn check_connection(&self) -> Result<Duration, TargetError> {
        let _permit = self.pool_permit().await?;
        let started = Instant::now();
        let mut link = self
            .pool
            .connect()
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        let opened = started.elapsed();
        let mut req = Request::new(Full::new(Bytes::new()));
        *req.method_mut() = Method::HEAD;
        *req.uri_mut() = self.path.clone();
        req.headers_mut().insert(HOST, self.host.clone());
        for (name, value) in &self.headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        let exchanged =
            tokio::time::timeout(self.timeout, link.exchange(req, self.max_answer_bytes))
                .await
                .unwrap_or(Err(TargetError::Timeout {
                    timeout_ms: self.timeout.as_millis() as u64,
                }));
        exchanged.inspect_err(|e| self.keep_unanswered(e))?;
        self.pool.checkin(link);
        Ok(opened)
    }

    /// Opens connections until the pool holds `count` (at most `connections`), `max_handshakes` at a
    /// time, so that a run starts with warm connections and no request pays for a handshake. Stops
    /// at the first failure and returns it. Returns how many connections were opened.
    pub async fn open_connections(&self, count: usize) -> Result<usize, TargetError> {
        let want = count.min(self.pool.permits.available_permits());
        // Each opening holds a pool permit, so the pool's bound holds while warming; the handshake
        // semaphore inside `connect` paces them.
        let mut pending = Vec::with_capacity(want);
        for _ in 0..want {
            pending.push(async {
                let _permit = self.pool.permits.acquire().await.ok();
                let link = self.pool.connect().await?;
                self.pool.checkin(link);
                Ok::<(), TargetError>(())
            });
        }
        let results = futures_util::future::join_all(pending).await;
        let mut opened = 0;
        for r in results {
            match r {
                Ok(()) => opened += 1,
                Err(e) => {
                    self.keep_unanswered(&e);
                    return Err(e);
                }
            }
        }
        Ok(opened)
    }

    /// Keeps an error that came without an answer (connect, TLS, timeout) among the samples.
    fn keep_unanswered(&self, err: &TargetError) {
        self.samples.keep(err.kind(), None, || err.to_string(), &[]);
    }

    /// A permit of the pool: holding it for a whole exchange bounds the connections that exist.
    async fn pool_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, TargetError> {
        self.pool
            .permits
            .acquire()
            .await
            .map_err(|_| TargetError::Connection {
                reason: "the connection pool was closed".into(),
            })
    }

    /// The body for one transaction, written into a spare buffer (see `body_bufs`).
    fn render(&self, template: &BodyTemplate, txn: &Transaction) -> Result<Bytes, TargetError> {
        /// Room for several bodies per buffer: a buffer is reused once its bodies have been sent.
        const BUF_ROOM: usize = 16 * 1024;
        let spare = self
            .body_bufs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut buf = spare.unwrap_or_else(|| BytesMut::with_capacity(BUF_ROOM));
        if buf.capacity() < template.size_hint() {
            buf.reserve(BUF_ROOM);
        }
        let rendered = template.render_into(txn, &mut buf);
        let body = buf.split().freeze();
        self.body_bufs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buf);
        rendered.map(|()| body)
    }

    /// The body for one transaction: the fixed body, or the template rendered.
    pub(crate) fn body_for(&self, txn: &Transaction) -> Result<Bytes, TargetError> {
        match &self.body {
            RequestBody::Fixed(b) => Ok(b.clone()),
            RequestBody::Template(t) => self.render(t, txn),
        }
    }

    /// The request that carries `body`: method, path, `Host`, `Content-Type` and the extra headers.
    pub(crate) fn request(&self, body: Bytes) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.clone();
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, self.content_type.clone());
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        req
    }

    /// How the value of header `name` may be shown: its masked form for an extra header (whose
    /// value may be a secret), `None` when it is not one of them.
    pub(crate) fn masked_header(&self, name: &HeaderName) -> Option<&str> {
        self.masked_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.as_str())
    }

    /// Sends a request on a pooled connection and reads the whole answer: its status and body.
    /// Failures without an answer are kept among the samples.
    pub(crate) async fn send(
        &self,
        req: Request<Full<Bytes>>,
    ) -> Result<(u16, Bytes), TargetError> {
        let _permit = self.pool_permit().await?;
        let mut link = self
            .pool
            .checkout()
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        let (status, bytes) = link
            .exchange(req, self.max_answer_bytes)
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        self.pool.checkin(link);
        Ok((status.as_u16(), bytes))
    }

    /// An answer as a verdict: statuses other than 2xx are typed errors, a 2xx body goes through the
    /// response mapping. Failures are kept among the samples with the answer.
    pub(crate) fn verdict(&self, status: u16, answer: &[u8]) -> Result<Verdict, TargetError> {
        if !(200..300).contains(&status) {
            let err = TargetError::Status { status };
            self.samples
                .keep(err.kind(), Some(status), || err.to_string(), answer);
            return Err(err);
        }
        self.mapping.parse(answer).inspect_err(|e| {
            self.samples
                .keep(e.kind(), Some(status), || e.to_string(), answer);
        })
    }

    async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<Verdict, TargetError> {
        let (status, bytes) = self.send(req).await?;
        self.verdict(status, &bytes)
    }

    /// Runs `work` within the request timeout; running out is a kept `timeout` error.
    pub(crate) async fn timed<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, TargetError>>,
    ) -> Result<T, TargetError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => {
                let err = TargetError::Timeout {
                    timeout_ms: self.timeout.as_millis() as u64,
                };
                self.samples
                    .keep(ErrorKind::Timeout, None, || err.to_string(), &[]);
                Err(err)
            }
        }
    }
}

/// An error and its causes on one line ("client error (Connect): tcp connect error: Connection refused").
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl Target for HttpTarget {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        let req = self.request(self.body_for(txn)?);
        if !self.enforce_timeout {
            return self.exchange(req).await;
        }
        self.timed(self.exchange(req)).await
    }

    fn info(&self) -> TargetInfo {
        TargetInfo::new(TargetKind::Http, Some(self.url.clone()))
    }
}

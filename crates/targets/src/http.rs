//! [`HttpTarget`]: a scoring endpoint reached over HTTP/1.1 or HTTP/2 (plain or TLS) through a
//! connection pool of its own ([`crate::pool`]).

use crate::answer::ResponseMapping;
use crate::endpoint::Endpoint;
use crate::lean::RequestHead;
use crate::pool::{Link, Pool, PoolConfig, Protocol};
use crate::template::{BodyTemplate, DEFAULT_CONTENT_TYPE};
use crate::tls::TlsClient;
use crate::{ErrorSamples, Target, TargetConfigError, TargetError, check_loopback};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use models::{
    ErrorKind, HeaderValueSpec, Http2Mode, HttpEngine, ResponseSpec, TargetInfo, TargetKind,
    TargetSpec, TlsSpec, Transaction, Verdict,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How to reach an HTTP scoring endpoint. Plain data with `Default`; build it from a scenario with
/// [`HttpTargetConfig::from_spec`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTargetConfig {
    /// The scoring endpoint, e.g. `http://127.0.0.1:8080/v1/score`, or `https://...` (see `tls`).
    pub url: String,
    /// The bound on requests in flight, and so on HTTP/1.1 connections in the pool: a request beyond
    /// it waits for a free place. That wait is part of the request's `timeout`, and the load driver
    /// measures latency from the intended send time, so it is never hidden. HTTP/2 carries these
    /// requests on one shared connection per 100 of them (rounded up).
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
    /// is a counted `malformed` error and its HTTP/1.1 connection is closed (its HTTP/2 stream
    /// reset): 1,024 requests each reading an unbounded answer could otherwise take all the
    /// generator's memory.
    pub max_answer_bytes: usize,
    /// How an `https://` URL is reached: extra CA, client certificate, server name. Ignored for `http://`.
    pub tls: TlsSpec,
    /// Connections being opened (TCP connect plus TLS handshake) at once, at most
    /// ([`DEFAULT_MAX_HANDSHAKES`] by default): a cold pool of 1,024 connections then opens in waves
    /// instead of 1,024 simultaneous handshakes that a server may take for an attack.
    pub max_handshakes: usize,
    /// HTTP/2 or HTTP/1.1 ([`Http2Mode`]): `Auto` speaks HTTP/2 when a TLS server chooses it by
    /// ALPN; `Always` also over `http://`, with prior knowledge (h2c).
    pub http2: Http2Mode,
    /// The HTTP/1.1 client ([`HttpEngine`]): `Lean` sends the load (`score`) through the lean
    /// engine ([`crate::lean`]); the probe and the connection check stay on hyper's request types
    /// over the same connections. HTTP/2 connections always use hyper.
    pub engine: HttpEngine,
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
            http2: spec.http2,
            engine: spec.engine,
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
/// Connections (`TCP_NODELAY`) are in a small pool of its own. HTTP/1.1 keep-alive connections
/// carry one request at a time: a request takes an idle connection (or opens one while fewer than
/// `connections` exist), sends on it with hyper's connection-level client, and puts it back when the
/// answer has been read. Such a connection has no task of its own: the request that holds it drives
/// it, so the answer wakes that request's task directly and no task is spawned. An idle connection
/// that the server closed is noticed when it is next taken, and another one is used. HTTP/2
/// connections (by ALPN, or `http2 = "always"`) are shared: one per 100 requests in flight, each
/// driven by tasks the pool owns. Connections close when the target is dropped (or, for HTTP/1.1,
/// when a request holding one is dropped, e.g. at a timeout).
///
/// With `engine = Lean` ([`HttpTargetConfig::engine`]), HTTP/1.1 connections are the lean engine's
/// ([`crate::lean`]): `score` sends a head encoded once in [`HttpTarget::new`] plus the rendered
/// body, and maps the answer while it is still borrowed from the connection.
pub struct HttpTarget {
    pool: Pool,
    /// Origin-form request target (`/v1/score?x`): what goes on the HTTP/1.1 request line.
    path: Uri,
    /// The URL in absolute form, which HTTP/2 sends as `:scheme`, `:authority` and `:path`.
    absolute: Uri,
    host: HeaderValue,
    url: String,
    method: Method,
    content_type: HeaderValue,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Method, path, `Host`, `Content-Type` and the extra headers encoded once, for lean links.
    head: RequestHead,
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
        let Endpoint {
            connect_to,
            host,
            host_header: host_value,
            path,
            secure,
        } = Endpoint::parse(&config.url, "https://127.0.0.1:8443/v1/score")?;
        // HTTP/2 requests carry the whole URL (`:scheme`, `:authority`), HTTP/1.1 only the path.
        let absolute: Uri = config
            .url
            .parse()
            .map_err(|e| TargetConfigError::InvalidUrl {
                url: config.url.clone(),
                reason: format!("{e}"),
            })?;
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
            Some(TlsClient::new(&config.tls, &host, config.http2)?)
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
            pool: Pool::new(PoolConfig {
                authority: connect_to,
                connections: config.connections,
                connect_timeout: config.timeout,
                tls,
                http2: config.http2,
                max_handshakes: config.max_handshakes,
                lean: config.engine == HttpEngine::Lean,
            }),
            head: RequestHead::new(&method, &path, &host_value, &content_type, &headers),
            path,
            absolute,
            host: host_value,
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

    /// The HTTP version the connections speak, `"HTTP/1.1"` or `"HTTP/2"`, once one has been opened
    /// (with `http2 = "auto"` over TLS, the server chooses by ALPN); `"HTTP/1.1 (lean engine)"`
    /// when the lean engine carries it, so that a run's summary says which client was measured.
    pub fn protocol(&self) -> Option<&'static str> {
        self.pool.negotiated().map(|p| match p {
            Protocol::Http1 if self.pool.lean() => "HTTP/1.1 (lean engine)",
            p => p.name(),
        })
    }

    /// The most requests in exchange at once (`connections`): one more waits for a place. A caller
    /// with more to send keeps them until a place is free, as the load driver's lanes do, rather
    /// than start requests that would only wait.
    pub fn max_exchanges(&self) -> usize {
        self.pool.connections()
    }

    /// The engine the HTTP/1.1 connections use; HTTP/2 ones always use hyper.
    pub fn engine(&self) -> HttpEngine {
        if self.pool.lean() {
            HttpEngine::Lean
        } else {
            HttpEngine::Hyper
        }
    }

    /// Opens one connection and sends `HEAD` on it (any status will do), so that a certificate the
    /// client refuses, or a client certificate the server refuses (which TLS 1.3 reports only after
    /// the handshake), shows before any load is sent. The connection stays in the pool. Returns the
    /// time the connection took to open; [`HttpTarget::protocol`] then says what it speaks.
    pub async fn check_connection(&self) -> Result<Duration, TargetError> {
        let _permit = self.pool_permit().await?;
        let started = Instant::now();
        let opened = self
            .pool
            .connect()
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        let took = started.elapsed();
        let mut link = self.pool.adopt(opened);
        let mut req = Request::new(Full::new(Bytes::new()));
        *req.method_mut() = Method::HEAD;
        *req.uri_mut() = self.path.clone();
        req.headers_mut().insert(HOST, self.host.clone());
        for (name, value) in &self.headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        let exchanged = tokio::time::timeout(self.timeout, self.exchange_on(&mut link, req))
            .await
            .unwrap_or(Err(TargetError::Timeout {
                timeout_ms: self.timeout.as_millis() as u64,
            }));
        exchanged.inspect_err(|e| self.keep_unanswered(e))?;
        self.pool.checkin(link);
        Ok(took)
    }

    /// Opens connections until the pool holds `count` (at most `connections`; with HTTP/2, at most
    /// the one per 100 requests in flight it shares), `max_handshakes` at a time, so that a run starts
    /// with warm connections and no request pays for a handshake. Stops at the first failure and
    /// returns it. Returns how many connections were opened.
    pub async fn open_connections(&self, count: usize) -> Result<usize, TargetError> {
        self.pool
            .warm(count)
            .await
            .inspect_err(|e| self.keep_unanswered(e))
    }

    /// Sends `req` on `link` and reads the whole answer, within the answer size cap.
    async fn exchange_on(
        &self,
        link: &mut Link,
        req: Request<Full<Bytes>>,
    ) -> Result<(u16, Bytes), TargetError> {
        let (status, bytes) = link
            .exchange(req, &self.absolute, self.max_answer_bytes)
            .await?;
        Ok((status.as_u16(), bytes))
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
        let answer = self
            .exchange_on(&mut link, req)
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        self.pool.checkin(link);
        Ok(answer)
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

    /// Sends one transaction and maps the answer to a verdict: on a lean link with the head encoded
    /// once, the body rendered straight into the connection's write buffer and the answer borrowed
    /// from the connection; otherwise as a hyper request. A body that cannot be rendered is an
    /// error before anything is sent, and the connection goes back to the pool.
    async fn exchange(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        let _permit = self.pool_permit().await?;
        let mut link = self
            .pool
            .checkout()
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        let Link::Lean(conn) = &mut link else {
            let body = match self.body_for(txn) {
                Ok(body) => body,
                Err(e) => {
                    self.pool.checkin(link);
                    return Err(e);
                }
            };
            // Boxed: hyper's request future is several kilobytes, and every request's future (moved
            // into its box and its lane slot) would carry that room even on the lean engine.
            return Box::pin(self.exchange_hyper(link, body)).await;
        };
        let render = |out: &mut BytesMut| match &self.body {
            RequestBody::Fixed(b) => {
                out.extend_from_slice(b);
                Ok(())
            }
            RequestBody::Template(t) => t.render_into(txn, out),
        };
        let answer = conn
            .exchange_rendered(&self.head, render, self.max_answer_bytes)
            .await;
        let verdict = match answer {
            Ok((status, answer)) => self.verdict(status, answer),
            Err(e) => {
                // Still reusable: the body could not be rendered and nothing was sent.
                if conn.reusable() {
                    self.pool.checkin(link);
                } else {
                    self.keep_unanswered(&e);
                }
                return Err(e);
            }
        };
        // After the verdict: the answer is borrowed from the connection until then.
        self.pool.checkin(link);
        verdict
    }

    /// [`Self::exchange`] on a hyper link (HTTP/2, or HTTP/1.1 with `engine = "hyper"`).
    async fn exchange_hyper(&self, mut link: Link, body: Bytes) -> Result<Verdict, TargetError> {
        let (status, bytes) = self
            .exchange_on(&mut link, self.request(body))
            .await
            .inspect_err(|e| self.keep_unanswered(e))?;
        self.pool.checkin(link);
        self.verdict(status, &bytes)
    }

    /// [`Target::score`] as a future of its own type: a caller that holds the `HttpTarget` (see
    /// [`Target::as_http`]) keeps it inline, where a call through `dyn Target` boxes it (the one
    /// heap allocation a request made; `tests/lean_alloc.rs` counts both).
    pub async fn score_unboxed(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        if !self.enforce_timeout {
            return self.exchange(txn).await;
        }
        self.timed(self.exchange(txn)).await
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

#[async_trait]
impl Target for HttpTarget {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        self.score_unboxed(txn).await
    }

    fn as_http(&self) -> Option<&HttpTarget> {
        Some(self)
    }

    fn info(&self) -> TargetInfo {
        TargetInfo {
            protocol: self.protocol().map(str::to_owned),
            ..TargetInfo::new(TargetKind::Http, Some(self.url.clone()))
        }
    }
}

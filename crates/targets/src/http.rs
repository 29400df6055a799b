//! [`HttpTarget`]: a scoring endpoint reached over HTTP/1.1 through a keep-alive connection pool.

use crate::mapping::{BodyTemplate, ResponseMapping};
use crate::{Target, TargetConfigError, TargetError, check_loopback};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use models::{TargetInfo, TargetSpec, Transaction, Verdict};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How to reach an HTTP scoring endpoint. Plain data with `Default`; build it from a scenario with
/// [`HttpTargetConfig::from_spec`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTargetConfig {
    /// The scoring endpoint, e.g. `http://127.0.0.1:8080/v1/score` (plain HTTP; no TLS).
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
    /// Request body template with `{{transaction}}` for the transaction's JSON; `None` sends the JSON alone.
    pub body_template: Option<String>,
    /// Send these bytes as every request's body instead of the transaction (benchmarks, or an API whose
    /// body does not depend on the transaction). Takes precedence over `body_template`.
    pub fixed_body: Option<Vec<u8>>,
    /// JSON pointer to the decision in the answer.
    pub decision_pointer: String,
    /// JSON pointer to the risk score in the answer.
    pub score_pointer: String,
    /// Extra request headers (for example an API key).
    pub headers: Vec<(String, String)>,
    /// Send to non-loopback hosts too (the `--allow-remote` flag). Off by default.
    pub allow_remote: bool,
}

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
            body_template: spec.body_template.clone(),
            fixed_body: None,
            decision_pointer: spec.decision_pointer.clone(),
            score_pointer: spec.score_pointer.clone(),
            headers: Vec::new(),
            allow_remote,
        }
    }
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
    headers: Vec<(HeaderName, HeaderValue)>,
    body: RequestBody,
    mapping: ResponseMapping,
    timeout: Duration,
    enforce_timeout: bool,
    /// Spare body buffers: each request's body is written into one and split off as `Bytes`, so the
    /// steady state allocates no body (a buffer's space is reclaimed once the bodies cut from it are
    /// gone).
    body_bufs: Mutex<Vec<BytesMut>>,
}

/// How each request's body is made.
enum RequestBody {
    Template(BodyTemplate),
    Fixed(Bytes),
}

type Sender = http1::SendRequest<Full<Bytes>>;
type Connection = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

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
            Poll::Ready(Err(e)) => Err(TargetError::Connection {
                reason: describe(&e),
            }),
        }
    }

    /// Waits until the connection can take a request, driving it meanwhile.
    async fn ready(&mut self) -> Result<(), TargetError> {
        let not_ready = |e: hyper::Error| TargetError::Connection {
            reason: describe(&e),
        };
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
    ) -> Result<(StatusCode, Bytes), TargetError> {
        let mut answer = std::pin::pin!(self.sender.send_request(req));
        let conn = &mut self.conn;
        let resp = std::future::poll_fn(|cx| {
            let driven = Self::drive(conn, cx);
            if let Poll::Ready(r) = answer.as_mut().poll(cx) {
                return Poll::Ready(r.map_err(|e| TargetError::Connection {
                    reason: describe(&e),
                }));
            }
            driven?;
            Poll::Pending
        })
        .await?;
        let status = resp.status();
        // Read the whole body even for errors so that the connection can be reused. A small answer
        // comes in one frame: it is kept as it is, without a list of chunks.
        let mut body = std::pin::pin!(resp.into_body());
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
            let frame = frame.map_err(|e| TargetError::Connection {
                reason: format!("the answer was cut off: {}", describe(&e)),
            })?;
            if let Ok(data) = frame.into_data() {
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

    async fn connect(&self) -> Result<Box<Link>, TargetError> {
        let connect = async {
            let stream = TcpStream::connect(self.authority.as_str()).await?;
            stream.set_nodelay(true)?;
            Ok::<_, std::io::Error>(stream)
        };
        let stream = match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(TargetError::Connection {
                    reason: format!("tcp connect error to {}: {e}", self.authority),
                });
            }
            Err(_) => {
                return Err(TargetError::Connection {
                    reason: format!(
                        "tcp connect to {} timed out after {} ms",
                        self.authority,
                        self.connect_timeout.as_millis()
                    ),
                });
            }
        };
        let (sender, conn) = http1::Builder::new()
            .writev(false)
            .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|e| TargetError::Connection {
                reason: format!("HTTP handshake with {}: {}", self.authority, describe(&e)),
            })?;
        let mut link = Box::new(Link { sender, conn });
        link.ready().await.map_err(|e| TargetError::Connection {
            reason: format!("connection to {} closed at once: {e}", self.authority),
        })?;
        Ok(link)
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
        if uri.scheme_str() != Some("http") {
            return Err(invalid(
                "only plain http:// is supported (no TLS); put a TLS-terminating proxy in front if needed"
                    .into(),
            ));
        }
        let authority = uri.authority().ok_or_else(|| {
            invalid("it has no host; write it like http://127.0.0.1:8080/v1/score".into())
        })?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| invalid(format!("its host is not a valid Host header: {e}")))?;
        let connect_to = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
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
        if config.timeout.is_zero() {
            return Err(TargetConfigError::InvalidSetting {
                field: "timeout",
                reason: "must be longer than zero, e.g. \"5s\"".into(),
            });
        }
        let body = match (&config.fixed_body, &config.body_template) {
            (Some(b), _) => RequestBody::Fixed(Bytes::from(b.clone())),
            (None, Some(t)) => RequestBody::Template(BodyTemplate::parse(t)?),
            (None, None) => RequestBody::Template(BodyTemplate::default()),
        };
        let mapping = ResponseMapping::new(&config.decision_pointer, &config.score_pointer)?;
        let headers = config
            .headers
            .iter()
            .map(|(name, value)| {
                let bad = |reason: String| TargetConfigError::InvalidSetting {
                    field: "headers",
                    reason,
                };
                Ok((
                    HeaderName::try_from(name.as_str())
                        .map_err(|e| bad(format!("header name {name:?}: {e}")))?,
                    HeaderValue::try_from(value.as_str())
                        .map_err(|e| bad(format!("value of {name:?}: {e}")))?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            pool: Pool {
                authority: connect_to,
                idle: Mutex::new(Vec::with_capacity(config.connections)),
                permits: Semaphore::new(config.connections),
                connect_timeout: config.timeout,
            },
            path,
            host,
            url: config.url,
            headers,
            body,
            mapping,
            timeout: config.timeout,
            enforce_timeout: config.enforce_timeout,
            body_bufs: Mutex::new(Vec::new()),
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
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

    fn request(&self, body: Bytes) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.path.clone();
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        req
    }

    async fn exchange(&self, body: Bytes) -> Result<Verdict, TargetError> {
        // Holding a permit for the whole exchange bounds the connections that exist.
        let _permit = self
            .pool
            .permits
            .acquire()
            .await
            .map_err(|_| TargetError::Connection {
                reason: "the connection pool was closed".into(),
            })?;
        let mut link = self.pool.checkout().await?;
        let (status, bytes) = link.exchange(self.request(body)).await?;
        self.pool.checkin(link);
        if !status.is_success() {
            return Err(TargetError::Status {
                status: status.as_u16(),
            });
        }
        self.mapping.parse(&bytes)
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
        let body = match &self.body {
            RequestBody::Fixed(b) => b.clone(),
            RequestBody::Template(t) => self.render(t, txn)?,
        };
        if !self.enforce_timeout {
            return self.exchange(body).await;
        }
        match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(result) => result,
            Err(_) => Err(TargetError::Timeout {
                timeout_ms: self.timeout.as_millis() as u64,
            }),
        }
    }

    fn info(&self) -> TargetInfo {
        TargetInfo {
            kind: "http".into(),
            url: Some(self.url.clone()),
        }
    }
}

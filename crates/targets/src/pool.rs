//! The connections of an [`HttpTarget`](crate::HttpTarget): HTTP/1.1 keep-alive connections, each
//! carrying one request at a time and driven by that request, or a few HTTP/2 connections shared by
//! all requests, as the server (by ALPN) and the `http2` setting decide. See [`Pool`]. With the lean
//! engine (`engine = "lean"`), HTTP/1.1 connections are [`LeanConn`]s instead of hyper's.

use crate::lean::{LeanConn, RequestHead};
use crate::stream::Stream;
use crate::tls::{HandshakeFailure, TlsClient, tls_failure};
use crate::{ConnectStats, TargetError};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::{http1, http2};
use hyper::header::HOST;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;
use models::Http2Mode;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Requests in flight one HTTP/2 connection carries before the next is used. RFC 9113 asks servers
/// to allow at least 100 concurrent streams, so no request waits inside a connection for a stream.
pub(crate) const STREAMS_PER_H2_CONNECTION: usize = 100;

/// The HTTP version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "HTTP/1.1",
            Protocol::Http2 => "HTTP/2",
        }
    }
}

type H1Sender = http1::SendRequest<Full<Bytes>>;
type H1Connection = http1::Connection<TokioIo<Stream>, Full<Bytes>>;
type H2Sender = http2::SendRequest<Full<Bytes>>;

/// A connection as one request holds it.
pub(crate) enum Link {
    H1(Box<H1Link>),
    H2(H2Link),
    /// An HTTP/1.1 connection of the lean engine. The load path sends on it directly
    /// ([`LeanConn::exchange`]); [`Link::exchange`] serves the probe and the connection check.
    Lean(Box<LeanConn>),
}

impl Link {
    /// Sends a request and reads the whole answer (at most `max_bytes` of body). `absolute` is the
    /// request's URL in absolute form: HTTP/2 sends it as `:scheme` and `:authority` instead of `Host`.
    pub async fn exchange(
        &mut self,
        mut req: Request<Full<Bytes>>,
        absolute: &Uri,
        max_bytes: usize,
    ) -> Result<(StatusCode, Bytes), TargetError> {
        match self {
            Link::H1(link) => link.exchange(req, max_bytes).await,
            Link::Lean(conn) => {
                let (parts, body) = req.into_parts();
                let head = RequestHead::from_parts(&parts.method, &parts.uri, &parts.headers);
                // A `Full` body is one buffer, already there: collecting it does not wait.
                let body = match body.collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(never) => match never {},
                };
                let (status, answer) = conn.exchange(&head, &body, max_bytes).await?;
                let status = StatusCode::from_u16(status).map_err(|_| TargetError::Malformed {
                    reason: format!("the answer's status {status} is not an HTTP status"),
                })?;
                Ok((status, Bytes::copy_from_slice(answer)))
            }
            Link::H2(link) => {
                let head = req.method() == Method::HEAD;
                *req.uri_mut() = absolute.clone();
                *req.version_mut() = Version::HTTP_2;
                req.headers_mut().remove(HOST);
                let resp = link
                    .sender
                    .send_request(req)
                    .await
                    .map_err(|e| link_error(&e, ""))?;
                // An answer to HEAD has no body, though some servers (hyper's HTTP/2 server among
                // them) send one, which h2 takes for a protocol error: it is not read.
                if head {
                    return Ok((resp.status(), Bytes::new()));
                }
                // The connection's own task drives it; there is nothing to drive here.
                read_answer(resp, max_bytes, |_| Ok(())).await
            }
        }
    }
}

/// One HTTP/1.1 keep-alive connection: hyper's request half and the connection itself. The
/// connection has no task of its own: the request using it drives it (see [`H1Link::drive`]), so an
/// answer wakes the request's task directly instead of a connection task that then wakes the request.
pub(crate) struct H1Link {
    sender: H1Sender,
    conn: H1Connection,
}

impl H1Link {
    /// Polls the connection (writes what is queued, reads what has come); an error when it has
    /// ended, closed by the server or failed.
    fn drive(conn: &mut H1Connection, cx: &mut Context<'_>) -> Result<(), TargetError> {
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
        read_answer(resp, max_bytes, |cx| Self::drive(conn, cx)).await
    }
}

/// Reads an answer's status and whole body, at most `max_bytes` of it, calling `drive` whenever the
/// body has nothing new (an HTTP/1.1 connection is driven by its request; HTTP/2 has a task).
async fn read_answer(
    resp: Response<Incoming>,
    max_bytes: usize,
    mut drive: impl FnMut(&mut Context<'_>) -> Result<(), TargetError>,
) -> Result<(StatusCode, Bytes), TargetError> {
    let status = resp.status();
    let too_long = || TargetError::Malformed {
        reason: format!("the answer is longer than {max_bytes} bytes"),
    };
    // A declared length over the cap is refused before a byte is read; an HTTP/1.1 connection is
    // then dropped with the error (it is never checked back in), an HTTP/2 stream reset.
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
            let driven = drive(cx);
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

/// One request's use of a shared HTTP/2 connection: a clone of the connection's request half, and
/// its place in the connection's count of requests in flight, given back when dropped.
pub(crate) struct H2Link {
    sender: H2Sender,
    _load: Load,
}

/// One request counted in an HTTP/2 connection's load until dropped (also when the request is
/// dropped at a timeout).
struct Load(Arc<AtomicUsize>);

impl Drop for Load {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A place for one shared HTTP/2 connection: empty until first used, refilled when its connection
/// has closed.
#[derive(Default)]
struct H2Slot {
    sender: Mutex<Option<H2Sender>>,
    /// Held while this slot's connection is being opened, so that the requests that find it empty
    /// wait for one opening instead of each opening a connection.
    opening: tokio::sync::Mutex<()>,
    /// Requests in flight on this slot's connection.
    load: Arc<AtomicUsize>,
}

impl H2Slot {
    /// The connection's request half while the connection is open.
    fn live(&self) -> Option<H2Sender> {
        self.sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|s| !s.is_closed())
            .cloned()
    }

    /// Keeps `sender` as this slot's connection unless an open one is already there.
    fn fill(&self, sender: &H2Sender) {
        let mut held = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if held.as_ref().is_none_or(|s| s.is_closed()) {
            *held = Some(sender.clone());
        }
    }
}

/// A connection just opened, before a request holds it.
pub(crate) enum Opened {
    H1(Box<H1Link>),
    H2(H2Sender),
    Lean(Box<LeanConn>),
}

/// Runs hyper's HTTP/2 tasks (the connection's reader and writer, one per exchange) in the pool's
/// [`JoinSet`], so that they end with the pool: no task outlives its target. Weak, because those
/// tasks hold this executor: a strong handle would keep the set, and so themselves, alive forever.
#[derive(Clone)]
struct PoolExecutor(Weak<Mutex<JoinSet<()>>>);

impl<F> hyper::rt::Executor<F> for PoolExecutor
where
    F: Future + Send + 'static,
{
    fn execute(&self, fut: F) {
        // Once the pool is gone, so are its connections: there is nothing left to run.
        let Some(tasks) = self.0.upgrade() else {
            return;
        };
        let mut tasks = tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Finished tasks are reaped as new ones come, so the set holds about the live ones only.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            fut.await;
        });
    }
}

/// How a [`Pool`] reaches its server.
pub(crate) struct PoolConfig {
    /// `host:port` to connect to.
    pub authority: String,
    /// The bound on requests in flight (and on HTTP/1.1 connections).
    pub connections: usize,
    pub connect_timeout: Duration,
    /// Set for `https://` targets.
    pub tls: Option<TlsClient>,
    pub http2: Http2Mode,
    pub max_handshakes: usize,
    /// HTTP/1.1 connections are [`LeanConn`]s (`engine = "lean"`), not hyper's.
    pub lean: bool,
}

/// The connections, and a semaphore (`permits`) whose permit a request holds for its whole exchange,
/// bounding the requests in flight to `connections`.
///
/// HTTP/1.1: idle connections (hyper's or lean ones) wait on a stack (the most recently used first, so that a light load
/// keeps reusing a few warm connections); a request takes one or opens one, so at most
/// `connections` exist.
///
/// HTTP/2: requests share `connections / 100` connections (rounded up), each request going to the
/// first one with fewer than 100 requests in flight, so that a light load keeps to one. A connection
/// is opened when first needed and again when it has closed. Its tasks live in the pool's
/// [`JoinSet`] and are aborted with the pool.
///
/// With `http2 = "auto"` over TLS the protocol is what the server chooses by ALPN on the first
/// connection; until then, requests wait for that one connection rather than each opening one.
pub(crate) struct Pool {
    authority: String,
    /// Only `Link::H1` and `Link::Lean`, each boxed: a connection is a few hundred bytes, moved in
    /// and out of the stack per request.
    idle: Mutex<Vec<Link>>,
    pub permits: Semaphore,
    /// The number of `permits`: the most exchanges at once.
    connections: usize,
    connect_timeout: Duration,
    pub tls: Option<TlsClient>,
    http2: Http2Mode,
    lean: bool,
    /// The protocol when the settings alone decide it (everything but `auto` over TLS).
    fixed: Option<Protocol>,
    /// The protocol of the first connection opened.
    negotiated: OnceLock<Protocol>,
    /// Held while the first connection of an `auto` TLS pool is opened.
    first: tokio::sync::Mutex<()>,
    h2: Vec<H2Slot>,
    tasks: Arc<Mutex<JoinSet<()>>>,
    /// Bounds the connections being opened at once (`max_handshakes`).
    handshakes: Semaphore,
    opened: AtomicU64,
    failed: AtomicU64,
    connect_us_total: AtomicU64,
    connect_us_slowest: AtomicU64,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        let fixed = match (config.http2, config.tls.is_some()) {
            (Http2Mode::Never, _) | (Http2Mode::Auto, false) => Some(Protocol::Http1),
            (Http2Mode::Always, _) => Some(Protocol::Http2),
            (Http2Mode::Auto, true) => None,
        };
        let slots = if fixed == Some(Protocol::Http1) {
            0
        } else {
            config
                .connections
                .div_ceil(STREAMS_PER_H2_CONNECTION)
                .max(1)
        };
        Self {
            authority: config.authority,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(config.connections),
            connections: config.connections,
            connect_timeout: config.connect_timeout,
            tls: config.tls,
            http2: config.http2,
            lean: config.lean,
            fixed,
            negotiated: OnceLock::new(),
            first: tokio::sync::Mutex::new(()),
            h2: (0..slots).map(|_| H2Slot::default()).collect(),
            tasks: Arc::default(),
            handshakes: Semaphore::new(config.max_handshakes),
            opened: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            connect_us_total: AtomicU64::new(0),
            connect_us_slowest: AtomicU64::new(0),
        }
    }

    /// The protocol requests use: fixed by the settings, or negotiated by the first connection.
    fn protocol(&self) -> Option<Protocol> {
        self.fixed.or_else(|| self.negotiated.get().copied())
    }

    /// The protocol a connection has spoken, once one was opened.
    pub fn negotiated(&self) -> Option<Protocol> {
        self.negotiated.get().copied()
    }

    /// The most exchanges at once: requests beyond wait for a permit.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// True when HTTP/1.1 connections are the lean engine's.
    pub fn lean(&self) -> bool {
        self.lean
    }

    /// A connection for one request: an idle HTTP/1.1 one or a new one, or a share of an HTTP/2 one.
    pub async fn checkout(&self) -> Result<Link, TargetError> {
        if self.protocol().is_none() {
            let _first = self.first.lock().await;
            if self.protocol().is_none() {
                let opened = self.connect_boxed().await?;
                return Ok(self.adopt(opened));
            }
        }
        match self.protocol() {
            Some(Protocol::Http2) => self.checkout_h2().await,
            _ => self.checkout_h1().await,
        }
    }

    async fn checkout_h1(&self) -> Result<Link, TargetError> {
        loop {
            let link = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            // A connection the server closed while idle is dropped; the next one is tried.
            match link {
                Some(Link::H1(mut l)) => {
                    if l.ready().await.is_ok() {
                        return Ok(Link::H1(l));
                    }
                }
                // Its socket is asked without waiting (see `LeanConn::idle_and_open`). A server
                // closing it at the very moment a request goes out still fails that request, as
                // with hyper: retrying would send a request twice that the server may have acted on.
                Some(Link::Lean(mut c)) => {
                    if c.idle_and_open() {
                        return Ok(Link::Lean(c));
                    }
                }
                Some(Link::H2(_)) => {}
                None => return Ok(self.adopt(self.connect_boxed().await?)),
            }
        }
    }

    async fn checkout_h2(&self) -> Result<Link, TargetError> {
        let (slot, load) = self.pick_slot();
        if let Some(sender) = slot.live() {
            return Ok(Link::H2(H2Link {
                sender,
                _load: load,
            }));
        }
        let _opening = slot.opening.lock().await;
        if let Some(sender) = slot.live() {
            return Ok(Link::H2(H2Link {
                sender,
                _load: load,
            }));
        }
        match self.connect_boxed().await? {
            Opened::H2(sender) => {
                slot.fill(&sender);
                Ok(Link::H2(H2Link {
                    sender,
                    _load: load,
                }))
            }
            // An `auto` server that chose HTTP/1.1 this time: used for this request, then closed.
            Opened::H1(link) => Ok(Link::H1(link)),
            Opened::Lean(conn) => Ok(Link::Lean(conn)),
        }
    }

    /// The first HTTP/2 slot with room, its load already counted.
    fn pick_slot(&self) -> (&H2Slot, Load) {
        let take = |slot: &H2Slot| Load(slot.load.clone());
        for slot in &self.h2 {
            if slot.load.fetch_add(1, Ordering::Relaxed) < STREAMS_PER_H2_CONNECTION {
                return (slot, take(slot));
            }
            slot.load.fetch_sub(1, Ordering::Relaxed);
        }
        // Only under a race, since `permits` bounds the requests in flight: the least loaded.
        let slot = self
            .h2
            .iter()
            .min_by_key(|s| s.load.load(Ordering::Relaxed))
            .unwrap_or(&self.h2[0]);
        slot.load.fetch_add(1, Ordering::Relaxed);
        (slot, take(slot))
    }

    /// A connection just opened, as one request holds it; an HTTP/2 one is also kept in a slot for
    /// the requests to come, unless the slot already has an open one.
    pub fn adopt(&self, opened: Opened) -> Link {
        match opened {
            Opened::H1(link) => Link::H1(link),
            Opened::Lean(conn) => Link::Lean(conn),
            Opened::H2(sender) if self.h2.is_empty() => {
                // Not reached: a pool that can negotiate HTTP/2 has slots. Used once, then closed.
                Link::H2(H2Link {
                    sender,
                    _load: Load(Arc::new(AtomicUsize::new(1))),
                })
            }
            Opened::H2(sender) => {
                let (slot, load) = self.pick_slot();
                slot.fill(&sender);
                Link::H2(H2Link {
                    sender,
                    _load: load,
                })
            }
        }
    }

    /// Gives a connection back after its exchange: an open HTTP/1.1 connection goes to the idle
    /// stack; an HTTP/2 share is dropped, which gives its load back (the connection stays in its slot).
    /// A lean connection goes back only when its exchange ended cleanly and the server keeps it open.
    pub fn checkin(&self, link: Link) {
        let open = match &link {
            Link::H1(l) => !l.sender.is_closed(),
            Link::Lean(c) => c.reusable(),
            Link::H2(_) => false,
        };
        if open && self.protocol() == Some(Protocol::Http1) {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(link);
        }
    }

    /// Opens connections until `count` exist (at most `connections` for HTTP/1.1, at most one per
    /// slot for HTTP/2), `max_handshakes` at a time. Stops at the first failure and returns it.
    /// Returns how many connections were opened.
    pub async fn warm(&self, count: usize) -> Result<usize, TargetError> {
        let closed = || TargetError::Connection {
            reason: "the connection pool was closed".into(),
        };
        let mut want = count.min(self.permits.available_permits());
        let mut opened = 0;
        if want > 0 && self.protocol().is_none() {
            // The first connection says which protocol the others speak. The permit is taken before
            // the lock, in the order requests take them, or each could wait for the other's.
            let _permit = self.permits.acquire().await.map_err(|_| closed())?;
            let _first = self.first.lock().await;
            if self.protocol().is_none() {
                let link = self.adopt(self.connect().await?);
                self.checkin(link);
                opened = 1;
                want -= 1;
            }
        }
        let results = match self.protocol() {
            Some(Protocol::Http2) => {
                let slots = count.min(self.h2.len());
                let fills = self.h2[..slots].iter().map(|slot| async move {
                    let _opening = slot.opening.lock().await;
                    if slot.live().is_some() {
                        return Ok(false);
                    }
                    match self.connect().await? {
                        Opened::H2(sender) => {
                            slot.fill(&sender);
                            Ok(true)
                        }
                        // Of no use to an HTTP/2 pool; counted among the connections opened.
                        Opened::H1(_) | Opened::Lean(_) => Ok(false),
                    }
                });
                futures_util::future::join_all(fills).await
            }
            _ => {
                // Each opening holds a pool permit, so the pool's bound holds while warming; the
                // handshake semaphore inside `connect` paces them.
                let opens = (0..want).map(|_| async {
                    let _permit = self.permits.acquire().await.map_err(|_| closed())?;
                    let link = self.adopt(self.connect().await?);
                    self.checkin(link);
                    Ok::<bool, TargetError>(true)
                });
                futures_util::future::join_all(opens).await
            }
        };
        for r in results {
            if r? {
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// [`Self::connect`] in a box of its own: opening a connection (TCP, TLS, the HTTP/2 handshake)
    /// is a future of kilobytes, and a request's future that may open one would otherwise carry that
    /// room on every request, moved with it into its box and its lane slot. A connection is opened
    /// rarely; the allocation is nothing beside the handshake.
    async fn connect_boxed(&self) -> Result<Opened, TargetError> {
        Box::pin(self.connect()).await
    }

    /// Opens a connection: TCP, then TLS for `https://`, then HTTP/1.1 or HTTP/2, all within the
    /// connect timeout, while holding one of the `max_handshakes` permits. The time it takes is
    /// counted in the [`ConnectStats`], not in any request's service time.
    pub async fn connect(&self) -> Result<Opened, TargetError> {
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

    async fn open(&self) -> Result<Opened, TargetError> {
        let tcp = TcpStream::connect(self.authority.as_str())
            .await
            .and_then(|s| s.set_nodelay(true).map(|()| s))
            .map_err(|e| TargetError::Connection {
                reason: format!("tcp connect error to {}: {e}", self.authority),
            })?;
        let (stream, protocol) = match &self.tls {
            None => (Stream::Plain(tcp), self.fixed.unwrap_or(Protocol::Http1)),
            Some(tls) => {
                let session = tls.shake_hands(tcp).await.map_err(|e| match e {
                    HandshakeFailure::Tls(reason) => TargetError::Tls {
                        reason: format!("with {} ({}): {reason}", self.authority, tls.name()),
                    },
                    HandshakeFailure::Io(e) => TargetError::Connection {
                        reason: format!("TLS handshake with {}: {e}", self.authority),
                    },
                })?;
                let chosen = session.get_ref().1.alpn_protocol();
                let protocol = if chosen == Some(b"h2") {
                    Protocol::Http2
                } else {
                    Protocol::Http1
                };
                if self.http2 == Http2Mode::Always && protocol != Protocol::Http2 {
                    let chosen = chosen.map_or("no protocol".to_owned(), |p| {
                        format!("{:?}", String::from_utf8_lossy(p))
                    });
                    return Err(TargetError::Tls {
                        reason: format!(
                            "with {}: the server did not offer HTTP/2 by ALPN (it chose {chosen}); \
                             set `http2` to \"auto\" to use HTTP/1.1 where HTTP/2 is not offered, \
                             or to \"never\"",
                            self.authority
                        ),
                    });
                }
                (Stream::Tls(Box::new(session)), protocol)
            }
        };
        let handshake_failed =
            |e: hyper::Error| link_error(&e, &format!("HTTP handshake with {}: ", self.authority));
        let closed_at_once = |e: TargetError| match e {
            TargetError::Connection { reason } => TargetError::Connection {
                reason: format!("connection to {} closed at once: {reason}", self.authority),
            },
            other => other,
        };
        let opened = match protocol {
            // Nothing to shake hands about: the first request is the first thing sent.
            Protocol::Http1 if self.lean => Opened::Lean(Box::new(LeanConn::new(stream))),
            Protocol::Http1 => {
                let (sender, conn) = http1::Builder::new()
                    .writev(false)
                    .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
                    .await
                    .map_err(handshake_failed)?;
                let mut link = Box::new(H1Link { sender, conn });
                link.ready().await.map_err(closed_at_once)?;
                Opened::H1(link)
            }
            Protocol::Http2 => {
                let executor = PoolExecutor(Arc::downgrade(&self.tasks));
                let (mut sender, conn) = http2::Builder::new(executor.clone())
                    .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
                    .await
                    .map_err(handshake_failed)?;
                // Its failure reaches the requests on it, and the closed sender makes the next
                // request open another connection.
                hyper::rt::Executor::execute(&executor, async move {
                    let _ = conn.await;
                });
                sender
                    .ready()
                    .await
                    .map_err(|e| closed_at_once(link_error(&e, "")))?;
                Opened::H2(sender)
            }
        };
        let _ = self.negotiated.set(protocol);
        Ok(opened)
    }

    pub fn stats(&self) -> ConnectStats {
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

//! The lean HTTP/1.1 engine of issue 17: [`LeanConn`], one keep-alive connection that sends a
//! pre-encoded [`RequestHead`] plus a body with one write (the body rendered straight into the
//! connection's write buffer by [`LeanConn::exchange_rendered`]) and reads the answer into a reused
//! buffer, parsed by `httparse`. Nothing is allocated per request once the connection's buffers
//! have grown to the size of the exchanges it carries, where hyper builds a `Request`, a header map
//! and a body stream for each one.
//!
//! [`HttpTarget`](crate::HttpTarget) sends through it with `engine = "lean"` (its pool then opens
//! these instead of hyper's HTTP/1.1 connections); hyper stays for HTTP/2. Public for its tests and
//! benchmark.
//!
//! What it understands of an answer: the status line and headers (at most [`MAX_HEAD_BYTES`] and
//! [`MAX_HEADERS`]), interim 1xx answers (skipped), a body framed by `Content-Length`, by
//! `Transfer-Encoding: chunked` (extensions and trailers skipped) or by the server closing the
//! connection, `Connection: close` and HTTP/1.0 without `keep-alive`. What it refuses, as typed
//! [`TargetError`]s: an answer that is not HTTP (`Malformed`), a body over the caller's cap
//! (`Malformed`, worded as the hyper path words it), a connection closed or reset before the whole
//! answer came (`Connection`). Timeouts are the caller's: dropping an exchange midway leaves the
//! connection not [`reusable`](LeanConn::reusable).

use crate::TargetError;
use crate::stream::Stream;
use crate::tls::tls_failure;
use bytes::BytesMut;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Uri};
use std::io;
use std::mem::MaybeUninit;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The longest answer head (status line and headers) read: a verdict's head is a few hundred bytes,
/// and an endless one must not take the generator's memory.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The most header fields an answer may have; they are parsed into an array on the stack.
pub const MAX_HEADERS: usize = 64;

/// The longest chunk-size line (with its extensions) or trailer field of a chunked answer.
const MAX_CHUNK_LINE: usize = 1024;

/// Room read at a time: a whole small answer comes in one read.
const READ_ROOM: usize = 8 * 1024;

/// Everything of a request but its length and body, encoded once per target: the request line,
/// `Host`, `Content-Type` and the extra headers, ending with `content-length: ` so that an exchange
/// only appends the length's digits, the blank line and the body.
#[derive(Clone)]
pub struct RequestHead {
    bytes: Vec<u8>,
    /// An answer to `HEAD` has no body, whatever its `Content-Length` says.
    head_method: bool,
}

impl std::fmt::Debug for RequestHead {
    // The extra headers may hold secrets (API keys): only the request line is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line_end = self
            .bytes
            .iter()
            .position(|&b| b == b'\r')
            .unwrap_or(self.bytes.len());
        f.debug_struct("RequestHead")
            .field(
                "request_line",
                &String::from_utf8_lossy(&self.bytes[..line_end]),
            )
            .finish_non_exhaustive()
    }
}

impl RequestHead {
    /// The head for `method path HTTP/1.1` with these headers. The arguments are hyper's types,
    /// already checked when the target was built (no CR or LF can slip into the head). `path` is in
    /// origin form (`/v1/score?x`); an empty one is sent as `/`.
    pub fn new(
        method: &Method,
        path: &Uri,
        host: &HeaderValue,
        content_type: &HeaderValue,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Self {
        let fixed = [(&HOST, host), (&CONTENT_TYPE, content_type)];
        let extra = headers.iter().map(|(n, v)| (n, v));
        Self::encode(method, path, fixed.into_iter().chain(extra))
    }

    /// The head of a request hyper's types describe (a probe, the connection check): every header
    /// but `Content-Length`, which the exchange writes. Not the load path: it is encoded per call.
    pub(crate) fn from_parts(method: &Method, path: &Uri, headers: &HeaderMap) -> Self {
        Self::encode(
            method,
            path,
            headers.iter().filter(|(n, _)| **n != CONTENT_LENGTH),
        )
    }

    /// `method path HTTP/1.1`, each header on its line, then `content-length: ` for the exchange
    /// to complete.
    fn encode<'a>(
        method: &Method,
        path: &Uri,
        headers: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    ) -> Self {
        let path = path.path_and_query().map_or("/", |p| p.as_str());
        let path = if path.is_empty() { "/" } else { path };
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(method.as_str().as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(path.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in headers {
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"content-length: ");
        Self {
            bytes,
            head_method: method == Method::HEAD,
        }
    }

    /// The encoded head, up to and including `content-length: `.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// One HTTP/1.1 keep-alive connection (plain TCP or TLS) carrying one exchange at a time, with a
/// write buffer and a read buffer that are reused from one exchange to the next.
pub struct LeanConn {
    stream: Stream,
    /// Head, length, blank line and body of the request being sent: one write per request.
    write: BytesMut,
    /// What has been read and not yet consumed, from the start of the answer being read.
    read: Vec<u8>,
    /// A chunked answer's body, decoded.
    chunked: Vec<u8>,
    reusable: bool,
    /// When the pool last handed the connection out (see [`FRESH`]): its idle time is at most the
    /// time since, and reading the clock once per checkout costs less than once more per answer.
    taken_at: Option<Instant>,
}

/// How long after it was last taken from the pool an idle connection is trusted on tokio's
/// readiness alone, without asking the socket. Why: the `MSG_PEEK` that asks it was a third system
/// call per request (beside the write and the read), and at the rates where that counts every
/// connection is reused within milliseconds. The readiness has seen a FIN unless it came after the
/// reactor last looked (at most about a millisecond on a busy runtime); servers close idle
/// connections after seconds (nginx 75 s, Node 5 s), so a connection idle for longer than this is
/// still asked.
const FRESH: Duration = Duration::from_millis(100);

impl std::fmt::Debug for LeanConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeanConn")
            .field("reusable", &self.reusable)
            .finish_non_exhaustive()
    }
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    /// Neither length nor chunked: the body is all the server sends until it closes.
    UntilClose,
}

/// What the head of a final answer says.
#[derive(Debug, Clone, Copy)]
struct Head {
    /// Bytes of the head, blank line included.
    len: usize,
    status: u16,
    framing: Framing,
    /// The server keeps the connection open after this answer.
    keep_alive: bool,
}

/// What an idle connection's socket holds ([`LeanConn::idle_and_open`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peeked {
    Nothing,
    Bytes,
    /// EOF or an error.
    Closed,
}

/// A parse of the bytes read so far: an interim answer to skip, a final head, or not enough yet.
enum Parsed {
    Interim(usize),
    Final(Head),
    Partial,
}

impl LeanConn {
    pub(crate) fn new(stream: Stream) -> Self {
        Self {
            stream,
            write: BytesMut::with_capacity(READ_ROOM),
            read: Vec::with_capacity(READ_ROOM),
            chunked: Vec::new(),
            reusable: true,
            taken_at: None,
        }
    }

    /// A connection over an open plain TCP stream (the caller sets `TCP_NODELAY`).
    pub fn plain(tcp: TcpStream) -> Self {
        Self::new(Stream::Plain(tcp))
    }

    /// Whether another exchange may be sent: the last one completed, the server did not ask to
    /// close, and no stray bytes followed its answer.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Whether an idle connection still looks open: nothing has come on its socket since its last
    /// answer, or (over TLS) only what TLS itself sends between requests. A server closing an idle
    /// connection sends EOF (and, over TLS, a close_notify alert first); anything else arriving
    /// unasked breaks the framing. Either way it is not used again. A connection taken within
    /// [`FRESH`] whose readiness shows nothing new is trusted without a system call; otherwise the
    /// TCP socket itself is asked with one non-blocking `MSG_PEEK` (tokio's readiness may not have
    /// seen a FIN that has just come).
    pub(crate) fn idle_and_open(&mut self) -> bool {
        if !self.reusable {
            return false;
        }
        let now = Instant::now();
        let fresh = self
            .taken_at
            .is_some_and(|t| now.saturating_duration_since(t) < FRESH);
        self.taken_at = Some(now);
        if fresh && !self.read_ready() {
            return true;
        }
        match self.peek() {
            Peeked::Nothing => return true,
            Peeked::Closed => return false,
            Peeked::Bytes => {}
        }
        let Stream::Tls(tls) = &mut self.stream else {
            // Plain HTTP: bytes nobody asked for.
            return false;
        };
        // A TLS 1.3 server sends its session tickets after the handshake, so a warm connection
        // usually has records waiting that are not the application's: read through TLS without
        // waiting. rustls takes in the handshake records (the read stays pending); a close_notify
        // reads as the end, application data as stray bytes.
        let mut byte = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut byte);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if std::pin::Pin::new(&mut **tls)
            .poll_read(&mut cx, &mut buf)
            .is_ready()
        {
            return false;
        }
        // Still bytes: records tokio's reactor has not yet reported. They are read with the next
        // answer (a close among them fails that request, as a close at the moment of sending does).
        self.peek() != Peeked::Closed
    }

    /// Whether tokio's reactor has seen the TCP socket readable (bytes or EOF) since the last read
    /// that emptied it. A short read clears the readiness (tokio does so on Linux), so after a
    /// whole answer this is false until something new arrives.
    fn read_ready(&self) -> bool {
        let tcp = match &self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        };
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        tcp.poll_read_ready(&mut cx).is_ready()
    }

    /// What one non-blocking `MSG_PEEK` of the TCP socket (under the TLS session for `https://`)
    /// finds.
    fn peek(&self) -> Peeked {
        let tcp = match &self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        };
        let mut byte = [MaybeUninit::<u8>::uninit(); 1];
        match socket2::SockRef::from(tcp).peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Peeked::Nothing,
            Ok(n) if n > 0 => Peeked::Bytes,
            Ok(_) | Err(_) => Peeked::Closed,
        }
    }

    /// Sends `head` with `body` and reads the whole answer: its status and body (at most
    /// `max_answer_bytes` of it), which stay borrowed from the connection until the next exchange.
    /// Any error leaves the connection not reusable; so does an answer the server ends by closing.
    pub async fn exchange(
        &mut self,
        head: &RequestHead,
        body: &[u8],
        max_answer_bytes: usize,
    ) -> Result<(u16, &[u8]), TargetError> {
        self.exchange_rendered(
            head,
            |out| {
                out.extend_from_slice(body);
                Ok(())
            },
            max_answer_bytes,
        )
        .await
    }

    /// [`LeanConn::exchange`] with the body written by `render` straight into the connection's write
    /// buffer, after room for the head and its `Content-Length` (see `frame`): no body buffer of its
    /// own and no copy. A `render` error sends nothing and leaves the connection as it was.
    pub async fn exchange_rendered(
        &mut self,
        head: &RequestHead,
        render: impl FnOnce(&mut BytesMut) -> Result<(), TargetError>,
        max_answer_bytes: usize,
    ) -> Result<(u16, &[u8]), TargetError> {
        if !self.reusable {
            return Err(TargetError::Connection {
                reason: "the connection is closed (its last exchange did not end cleanly)".into(),
            });
        }
        let start = frame(&mut self.write, head, render)?;
        // Set back only when this exchange ends cleanly: a dropped or failed one leaves the stream
        // in the middle of an answer.
        self.reusable = false;
        self.send(start).await?;
        self.read.clear();
        let head_info = self.read_head(head.head_method).await?;
        self.read.drain(..head_info.len);
        let (body_in_read, len) = match head_info.framing {
            Framing::Length(n) => {
                let n = usize::try_from(n)
                    .ok()
                    .filter(|&n| n <= max_answer_bytes)
                    .ok_or_else(|| too_long(max_answer_bytes))?;
                self.read_exact_body(n).await?;
                (true, n)
            }
            Framing::Chunked => (false, self.read_chunked(max_answer_bytes).await?),
            Framing::UntilClose => (true, self.read_to_close(max_answer_bytes).await?),
        };
        // Bytes after the answer were never asked for: the connection's framing cannot be trusted.
        let stray = body_in_read && self.read.len() > len || !body_in_read && !self.read.is_empty();
        self.reusable = head_info.keep_alive && head_info.framing != Framing::UntilClose && !stray;
        let answer = if body_in_read {
            &self.read[..len]
        } else {
            &self.chunked[..len]
        };
        Ok((head_info.status, answer))
    }

    /// Writes the request framed at `start` (head, length, blank line and body) with one write.
    async fn send(&mut self, start: usize) -> Result<(), TargetError> {
        let sent = async {
            self.stream.write_all(&self.write[start..]).await?;
            // A TLS stream holds what it encrypted until flushed; for TCP this does nothing.
            self.stream.flush().await
        };
        sent.await
            .map_err(|e| io_failure(&e, "the request could not be sent: "))
    }

    /// Reads more of the answer into the read buffer; `Ok(false)` when the server has closed.
    async fn fill(&mut self) -> Result<bool, TargetError> {
        if self.read.capacity() - self.read.len() < READ_ROOM / 2 {
            self.read.reserve(READ_ROOM);
        }
        match self.stream.read_buf(&mut self.read).await {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) => Err(io_failure(&e, "the answer was cut off: ")),
        }
    }

    /// Reads until the read buffer starts with a final answer's head (interim 1xx answers are
    /// consumed), and says what it holds.
    async fn read_head(&mut self, head_method: bool) -> Result<Head, TargetError> {
        loop {
            // Nothing to parse before the first read.
            if !self.read.is_empty() {
                match parse_head(&self.read, head_method)? {
                    Parsed::Final(head) => return Ok(head),
                    Parsed::Interim(len) => {
                        self.read.drain(..len);
                        continue;
                    }
                    Parsed::Partial => {}
                }
            }
            if self.read.len() >= MAX_HEAD_BYTES {
                return Err(TargetError::Malformed {
                    reason: format!("the answer's head is longer than {MAX_HEAD_BYTES} bytes"),
                });
            }
            if !self.fill().await? {
                return Err(closed_early(self.read.is_empty()));
            }
        }
    }

    /// Reads until the read buffer holds at least `n` bytes of body.
    async fn read_exact_body(&mut self, n: usize) -> Result<(), TargetError> {
        if self.read.capacity() < n {
            self.read.reserve(n - self.read.len());
        }
        while self.read.len() < n {
            if !self.fill().await? {
                return Err(closed_early(false));
            }
        }
        Ok(())
    }

    /// Reads until the server closes; the body is the whole read buffer.
    async fn read_to_close(&mut self, max: usize) -> Result<usize, TargetError> {
        loop {
            if self.read.len() > max {
                return Err(too_long(max));
            }
            if !self.fill().await? {
                return Ok(self.read.len());
            }
        }
    }

    /// Decodes a chunked body into `chunked`, consuming the read buffer as it goes; returns the
    /// body's length. Chunk extensions and trailer fields are skipped.
    async fn read_chunked(&mut self, max: usize) -> Result<usize, TargetError> {
        self.chunked.clear();
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.read) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.read.drain(..used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.read.len() < MAX_CHUNK_LINE => {
                        if !self.fill().await? {
                            return Err(closed_early(false));
                        }
                    }
                    Ok(httparse::Status::Partial) | Err(_) => {
                        return Err(TargetError::Malformed {
                            reason: "a chunk of the answer has no valid size line".into(),
                        });
                    }
                }
            };
            if size == 0 {
                self.skip_trailers().await?;
                return Ok(self.chunked.len());
            }
            let size = usize::try_from(size)
                .ok()
                .filter(|&s| s <= max.saturating_sub(self.chunked.len()))
                .ok_or_else(|| too_long(max))?;
            let mut left = size;
            while left > 0 {
                if self.read.is_empty() && !self.fill().await? {
                    return Err(closed_early(false));
                }
                let take = left.min(self.read.len());
                self.chunked.extend_from_slice(&self.read[..take]);
                self.read.drain(..take);
                left -= take;
            }
            while self.read.len() < 2 {
                if !self.fill().await? {
                    return Err(closed_early(false));
                }
            }
            if &self.read[..2] != b"\r\n" {
                return Err(TargetError::Malformed {
                    reason: "a chunk of the answer is longer than its size says".into(),
                });
            }
            self.read.drain(..2);
        }
    }

    /// Consumes the trailer fields after the last chunk, up to and including the blank line.
    async fn skip_trailers(&mut self) -> Result<(), TargetError> {
        loop {
            match self.read.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.read.drain(..2);
                    return Ok(());
                }
                Some(end) => {
                    self.read.drain(..end + 2);
                }
                None if self.read.len() >= MAX_CHUNK_LINE => {
                    return Err(TargetError::Malformed {
                        reason: format!(
                            "a trailer field of the answer is longer than {MAX_CHUNK_LINE} bytes"
                        ),
                    });
                }
                None => {
                    if !self.fill().await? {
                        return Err(closed_early(false));
                    }
                }
            }
        }
    }
}

/// Parses the answer head at the start of `buf`, if it is all there.
fn parse_head(buf: &[u8], head_method: bool) -> Result<Parsed, TargetError> {
    // Left uninitialised: httparse fills what it uses, and 64 empty headers are 2 KiB to write per
    // answer otherwise.
    let mut fields = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default();
    let len = match config.parse_response_with_uninit_headers(&mut resp, buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(e) => {
            return Err(TargetError::Malformed {
                reason: format!("the answer is not HTTP/1.1 ({e})"),
            });
        }
    };
    let status = resp.code.unwrap_or_default();
    if status == 101 {
        return Err(TargetError::Malformed {
            reason: "the server switched protocols, which was never asked for".into(),
        });
    }
    if (100..200).contains(&status) {
        return Ok(Parsed::Interim(len));
    }
    // HTTP/1.0 closes after each answer unless it says otherwise; HTTP/1.1 keeps the connection.
    let mut keep_alive = resp.version == Some(1);
    let mut length: Option<u64> = None;
    let mut transfer_coded = false;
    let mut chunked = false;
    for field in resp.headers.iter() {
        let name = field.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(field.value).ok_or_else(|| TargetError::Malformed {
                reason: "the answer's Content-Length is not a number".into(),
            })?;
            if length.is_some_and(|l| l != n) {
                return Err(TargetError::Malformed {
                    reason: "the answer has two different Content-Lengths".into(),
                });
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_coded = true;
            // Only the last coding says how the message ends.
            chunked = tokens(field.value)
                .last()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in tokens(field.value) {
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && resp.version == Some(0) {
                    keep_alive = true;
                }
            }
        }
    }
    // RFC 9112 section 6.3: no body after HEAD, 204 or 304; Transfer-Encoding overrides
    // Content-Length (and such a message is not trusted to leave the connection usable).
    let framing = if head_method || status == 204 || status == 304 {
        Framing::Length(0)
    } else if transfer_coded {
        if length.is_some() {
            keep_alive = false;
        }
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    Ok(Parsed::Final(Head {
        len,
        status,
        framing,
        keep_alive,
    }))
}

/// A `Content-Length` value: ASCII digits only, with optional surrounding spaces.
fn parse_length(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The comma-separated tokens of a header value, trimmed, empty ones left out.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// The hyper path's wording, so that the samples and reports read the same whichever engine ran.
fn too_long(max: usize) -> TargetError {
    TargetError::Malformed {
        reason: format!("the answer is longer than {max} bytes"),
    }
}

/// The server closed the connection before a whole answer came; `before_any` when not a byte of it.
fn closed_early(before_any: bool) -> TargetError {
    TargetError::Connection {
        reason: if before_any {
            "the server closed the connection before answering".into()
        } else {
            "the server closed the connection before the whole answer came".into()
        },
    }
}

/// A failed read or write: a TLS failure as such, anything else (reset, broken pipe) a connection
/// failure.
fn io_failure(err: &io::Error, context: &str) -> TargetError {
    match tls_failure(err, "") {
        Some(reason) => TargetError::Tls {
            reason: format!("{context}{reason}"),
        },
        None => TargetError::Connection {
            reason: format!("{context}{err}"),
        },
    }
}

/// Lays a request out in `out` (a connection's write buffer) and returns where it starts. The body
/// is rendered first, at a fixed place after room for the head and the longest length; then the
/// length's digits go right before the blank line and the head right before them, so that head,
/// length, blank line and body are contiguous from the returned offset:
///
/// ```text
/// [unused: 20 - d][head][d digits]\r\n\r\n[body]
/// ```
fn frame(
    out: &mut BytesMut,
    head: &RequestHead,
    render: impl FnOnce(&mut BytesMut) -> Result<(), TargetError>,
) -> Result<usize, TargetError> {
    /// Digits of the longest `usize`.
    const LENGTH_ROOM: usize = 20;
    let h = head.bytes.len();
    let body_at = LENGTH_ROOM + h + 4;
    out.clear();
    out.resize(body_at, 0);
    render(out)?;
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(out.len() - body_at).as_bytes();
    let start = LENGTH_ROOM - digits.len();
    out[start..start + h].copy_from_slice(&head.bytes);
    out[start + h..LENGTH_ROOM + h].copy_from_slice(digits);
    out[LENGTH_ROOM + h..body_at].copy_from_slice(b"\r\n\r\n");
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_request_is_head_length_blank_line_and_body() {
        let head = RequestHead::new(
            &Method::POST,
            &Uri::from_static("/v1/score"),
            &HeaderValue::from_static("127.0.0.1:9"),
            &HeaderValue::from_static("application/json"),
            &[],
        );
        let mut out = BytesMut::new();
        for n in [0usize, 1, 9, 10, 99, 100, 12_345, 100_000] {
            let body = vec![b'x'; n];
            let start = frame(&mut out, &head, |b| {
                b.extend_from_slice(&body);
                Ok(())
            })
            .unwrap();
            let mut want = head.bytes.clone();
            want.extend_from_slice(format!("{n}\r\n\r\n").as_bytes());
            want.extend_from_slice(&body);
            assert_eq!(&out[start..], &want[..], "{n} bytes of body");
        }
        let failed = frame(&mut out, &head, |_| {
            Err(TargetError::Malformed {
                reason: "no".into(),
            })
        });
        assert!(failed.is_err());
    }

    #[test]
    fn lengths_are_digits_only() {
        assert_eq!(parse_length(b" 42 "), Some(42));
        assert_eq!(parse_length(b"+4"), None);
        assert_eq!(parse_length(b""), None);
        assert_eq!(parse_length(b"99999999999999999999999"), None);
    }

    #[test]
    fn head_is_encoded_once_with_its_headers() {
        let head = RequestHead::new(
            &Method::POST,
            &"/v1/score?x=1".parse().unwrap(),
            &HeaderValue::from_static("127.0.0.1:8080"),
            &HeaderValue::from_static("application/json"),
            &[(
                HeaderName::from_static("x-api-key"),
                HeaderValue::from_static("secret"),
            )],
        );
        assert_eq!(
            head.as_bytes(),
            b"POST /v1/score?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/json\r\nx-api-key: secret\r\ncontent-length: "
        );
        assert!(!format!("{head:?}").contains("secret"));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let final_head = |text: &[u8], head_method| match parse_head(text, head_method) {
            Ok(Parsed::Final(h)) => (h.framing, h.keep_alive),
            _ => panic!("not a final head"),
        };
        assert_eq!(
            final_head(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n", false),
            (Framing::Length(3), true)
        );
        assert_eq!(
            final_head(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n", true),
            (Framing::Length(0), true)
        );
        assert_eq!(
            final_head(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                false
            ),
            (Framing::Chunked, true)
        );
        assert_eq!(
            final_head(b"HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n", false),
            (Framing::Length(1), false)
        );
        assert_eq!(
            final_head(
                b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 1\r\n\r\n",
                false
            ),
            (Framing::Length(1), true)
        );
        assert_eq!(
            final_head(b"HTTP/1.1 200 OK\r\nConnection: x, close\r\n\r\n", false),
            (Framing::UntilClose, false)
        );
        assert!(matches!(
            parse_head(
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
                false
            ),
            Err(TargetError::Malformed { .. })
        ));
    }
}

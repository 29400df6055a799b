//! The lean HTTP/1.1 engine ([`LeanConn`]) against a deliberately misbehaving raw-TCP server written
//! here: heads split byte by byte, chunked answers with extensions and trailers, early closes,
//! garbage, oversized answers, interim 100s, and any bytes at all (a property test).

use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Uri};
use proptest::prelude::*;
use std::net::SocketAddr;
use std::time::Duration;
use targets::{LeanConn, RequestHead, TargetError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the server does after reading one request.
#[derive(Clone)]
struct Reply {
    /// Written one after another with a pause between, so that the client reads them apart.
    pieces: Vec<Vec<u8>>,
    /// Close the connection after the pieces.
    close: bool,
}

impl Reply {
    fn whole(bytes: &[u8]) -> Self {
        Self {
            pieces: vec![bytes.to_vec()],
            close: false,
        }
    }

    fn byte_by_byte(bytes: &[u8]) -> Self {
        Self {
            pieces: bytes.iter().map(|&b| vec![b]).collect(),
            close: false,
        }
    }

    fn then_close(mut self) -> Self {
        self.close = true;
        self
    }
}

/// A server for one connection that answers each request with the next reply of `script`, and
/// sends each whole request it read (head and body) on the returned channel.
async fn serve(script: Vec<Reply>) -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        sock.set_nodelay(true).unwrap();
        let mut pending = Vec::new();
        for reply in script {
            let Some(request) = read_request(&mut sock, &mut pending).await else {
                return;
            };
            let _ = tx.send(request);
            for piece in &reply.pieces {
                if sock.write_all(piece).await.is_err() {
                    return;
                }
                if reply.pieces.len() > 1 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            if reply.close {
                return;
            }
        }
        // Keep the connection open until the client goes.
        let mut rest = [0u8; 64];
        while matches!(sock.read(&mut rest).await, Ok(n) if n > 0) {}
    });
    (addr, rx)
}

/// One request (head up to the blank line, then `content-length` bytes of body); `None` at EOF.
async fn read_request(sock: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let total = end + 4 + length;
            if pending.len() >= total {
                return Some(pending.drain(..total).collect());
            }
        }
        let mut buf = [0u8; 4096];
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

fn head() -> RequestHead {
    RequestHead::new(
        &Method::POST,
        &Uri::from_static("/v1/score"),
        &HeaderValue::from_static("127.0.0.1"),
        &HeaderValue::from_static("application/json"),
        &[(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_static("k"),
        )],
    )
}

async fn connect(addr: SocketAddr) -> LeanConn {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    LeanConn::plain(tcp)
}

/// One exchange of `{"a":1}` with a 1 KiB cap, its body copied out.
async fn exchange(conn: &mut LeanConn) -> Result<(u16, Vec<u8>), TargetError> {
    exchange_capped(conn, 1024).await
}

async fn exchange_capped(conn: &mut LeanConn, cap: usize) -> Result<(u16, Vec<u8>), TargetError> {
    let (status, body) = conn.exchange(&head(), br#"{"a":1}"#, cap).await?;
    Ok((status, body.to_vec()))
}

#[tokio::test]
async fn a_head_split_byte_by_byte_is_read_whole() {
    let answer =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello";
    let (addr, mut requests) = serve(vec![Reply::byte_by_byte(answer)]).await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"hello".to_vec()));
    assert!(conn.reusable());
    assert_eq!(
        requests.recv().await.unwrap(),
        b"POST /v1/score HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
          x-api-key: k\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
    );
}

#[tokio::test]
async fn a_chunked_answer_with_extensions_and_trailers_is_decoded() {
    let pieces: Vec<Vec<u8>> = [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;na"[..],
        b"me=val\r\nhel",
        b"lo\r",
        b"\n6\r\n world\r\n0\r\nx-trail",
        b"er: y\r\n",
        b"\r\n",
    ]
    .iter()
    .map(|p| p.to_vec())
    .collect();
    let chunked = Reply {
        pieces,
        close: false,
    };
    let (addr, _requests) = serve(vec![
        chunked,
        Reply::whole(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    ])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(
        exchange(&mut conn).await.unwrap(),
        (200, b"hello world".to_vec())
    );
    assert!(conn.reusable(), "the whole chunked answer was consumed");
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"ok".to_vec()));
}

#[tokio::test]
async fn two_answers_come_on_one_keep_alive_connection() {
    let (addr, mut requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst"),
        Reply::whole(b"HTTP/1.1 201 Created\r\ncontent-length: 6\r\n\r\nsecond"),
    ])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"first".to_vec()));
    assert!(conn.reusable());
    assert_eq!(
        exchange(&mut conn).await.unwrap(),
        (201, b"second".to_vec())
    );
    assert!(conn.reusable());
    // Both requests were read on the server's one connection.
    assert!(requests.recv().await.is_some());
    assert!(requests.recv().await.is_some());
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok")
            .then_close(),
    ])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"ok".to_vec()));
    assert!(!conn.reusable());
    assert!(matches!(
        exchange(&mut conn).await,
        Err(TargetError::Connection { .. })
    ));
}

#[tokio::test]
async fn http_1_0_closes_unless_it_keeps_alive() {
    let (addr, _requests) = serve(vec![Reply::whole(
        b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    )])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"ok".to_vec()));
    assert!(!conn.reusable());
}

#[tokio::test]
async fn an_answer_without_length_ends_at_close() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\n\r\nall of it").then_close(),
    ])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(
        exchange(&mut conn).await.unwrap(),
        (200, b"all of it".to_vec())
    );
    assert!(!conn.reusable());
}

#[tokio::test]
async fn a_close_mid_body_is_a_connection_error() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nonly part").then_close(),
    ])
    .await;
    let mut conn = connect(addr).await;
    let err = exchange(&mut conn).await.unwrap_err();
    assert!(
        matches!(&err, TargetError::Connection { reason } if reason.contains("the server closed the connection")),
        "{err}"
    );
    assert!(!conn.reusable());
}

#[tokio::test]
async fn a_close_mid_chunk_is_a_connection_error() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nabc").then_close(),
    ])
    .await;
    let mut conn = connect(addr).await;
    let err = exchange(&mut conn).await.unwrap_err();
    assert!(matches!(err, TargetError::Connection { .. }), "{err}");
}

#[tokio::test]
async fn a_close_before_answering_is_a_connection_error() {
    let (addr, _requests) = serve(vec![Reply::whole(b"").then_close()]).await;
    let mut conn = connect(addr).await;
    let err = exchange(&mut conn).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "connection failed: the server closed the connection before answering"
    );
}

#[tokio::test]
async fn garbage_instead_of_a_status_line_is_malformed() {
    let (addr, _requests) = serve(vec![Reply::whole(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")]).await;
    let mut conn = connect(addr).await;
    let err = exchange(&mut conn).await.unwrap_err();
    assert!(matches!(err, TargetError::Malformed { .. }), "{err}");
    assert!(!conn.reusable());
}

#[tokio::test]
async fn an_endless_head_is_malformed() {
    let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b"x-filler: 0123456789\r\n", 1000).flatten());
    let (addr, _requests) = serve(vec![Reply::whole(&answer)]).await;
    let mut conn = connect(addr).await;
    let err = exchange(&mut conn).await.unwrap_err();
    assert!(
        matches!(&err, TargetError::Malformed { reason } if reason.contains("head")),
        "{err}"
    );
}

#[tokio::test]
async fn an_answer_over_the_cap_is_malformed_and_ends_the_connection() {
    let (addr, _requests) = serve(vec![Reply::whole(
        b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n01234567890123456789",
    )])
    .await;
    let mut conn = connect(addr).await;
    let err = exchange_capped(&mut conn, 10).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the answer is not a verdict: the answer is longer than 10 bytes"
    );
    assert!(!conn.reusable());

    // The same for a chunked answer, whose length is only known as it comes.
    let (addr, _requests) = serve(vec![Reply::whole(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n",
    )])
    .await;
    let mut conn = connect(addr).await;
    let err = exchange_capped(&mut conn, 10).await.unwrap_err();
    assert!(matches!(err, TargetError::Malformed { .. }), "{err}");
    assert!(!conn.reusable());
}

#[tokio::test]
async fn an_interim_100_is_skipped() {
    let (addr, _requests) = serve(vec![Reply {
        pieces: vec![
            b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone".to_vec(),
        ],
        close: false,
    }])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"done".to_vec()));
    assert!(conn.reusable());
}

#[tokio::test]
async fn a_429_comes_back_with_its_body() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 10\r\n\r\nslow down!"),
        Reply::whole(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"),
    ])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(
        exchange(&mut conn).await.unwrap(),
        (429, b"slow down!".to_vec())
    );
    assert!(conn.reusable());
    assert_eq!(exchange(&mut conn).await.unwrap(), (503, Vec::new()));
}

#[tokio::test]
async fn stray_bytes_after_an_answer_end_the_connection() {
    let (addr, _requests) = serve(vec![Reply::whole(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
    )])
    .await;
    let mut conn = connect(addr).await;
    assert_eq!(exchange(&mut conn).await.unwrap(), (200, b"ok".to_vec()));
    assert!(!conn.reusable());
}

#[tokio::test]
async fn an_exchange_dropped_at_a_timeout_leaves_the_connection_unusable() {
    // The server reads the request and never answers.
    let (addr, _requests) = serve(vec![Reply {
        pieces: vec![b"HTTP/1.1 200 OK\r\n".to_vec(), Vec::new()],
        close: false,
    }])
    .await;
    let mut conn = connect(addr).await;
    let timed = tokio::time::timeout(Duration::from_millis(100), exchange(&mut conn)).await;
    assert!(timed.is_err());
    assert!(!conn.reusable());
}

#[tokio::test]
async fn an_answer_to_head_has_no_body() {
    let (addr, _requests) = serve(vec![
        Reply::whole(b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n"),
        Reply::whole(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    ])
    .await;
    let mut conn = connect(addr).await;
    let head = RequestHead::new(
        &Method::HEAD,
        &Uri::from_static("/"),
        &HeaderValue::from_static("127.0.0.1"),
        &HeaderValue::from_static("application/json"),
        &[],
    );
    let (status, body) = conn.exchange(&head, b"", 1024).await.unwrap();
    assert_eq!((status, body), (200, &b""[..]));
    assert!(conn.reusable());
    assert_eq!(conn.exchange(&head, b"", 1024).await.unwrap().0, 200);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the server sends, in whatever pieces, before closing: an answer or a typed error,
    /// never a panic or a hang.
    #[test]
    fn any_bytes_from_the_server_never_panic(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            // Mostly well-formed starts, so the parser gets past the status line.
            ("HTTP/1\\.[01] [0-9]{3} [a-zA-Z ]{0,8}\r\n((content-length|transfer-encoding|connection): [0-9a-z ,;]{0,12}\r\n){0,3}\r\n[0-9a-fA-F;\r\nx=]{0,60}")
                .prop_map(String::into_bytes),
        ],
        cut in 1usize..40,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let reply = Reply {
                pieces: bytes.chunks(cut).map(<[u8]>::to_vec).collect(),
                close: true,
            };
            let (addr, _requests) = serve(vec![reply]).await;
            let mut conn = connect(addr).await;
            let outcome = tokio::time::timeout(Duration::from_secs(10), exchange_capped(&mut conn, 64)).await;
            let outcome = outcome.expect("the exchange ends once the server has closed");
            if let Ok((_, body)) = outcome {
                assert!(body.len() <= 64);
            }
        });
    }
}

//! `HttpTarget` against a small hyper server on 127.0.0.1 that answers each path in its own way:
//! every failure must come back as a typed error with the right `ErrorKind`, never a panic. Run once
//! per HTTP/1.1 engine: `http_target.rs` (hyper) and `lean_target.rs` (lean), each naming its
//! engine as `crate::ENGINE`; every target here is built from [`base`].

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use models::{Decision, ErrorKind, Transaction};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig, Target, TargetConfigError, TargetError};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The defaults with the engine under test.
fn base() -> HttpTargetConfig {
    HttpTargetConfig {
        engine: crate::ENGINE,
        ..HttpTargetConfig::default()
    }
}

pub(crate) use crate::fixtures::txn;

/// Answers by path; `/hang` never answers, `/close` closes the connection without an answer,
/// `/echo` answers a verdict only if the body is `{"payload": <transaction>}`.
async fn answer(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let path = req.uri().path().to_owned();
    let auth = req
        .headers()
        .get("x-api-key")
        .map(|v| v.as_bytes().to_vec());
    let host = req.headers().get("host").map(|v| v.as_bytes().to_vec());
    let method = req.method().clone();
    let content_type = req
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec());
    let bearer = req
        .headers()
        .get("authorization")
        .map(|v| v.as_bytes().to_vec());
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let reply = |status: StatusCode, text: &str| {
        Ok(Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(text.to_owned())))
            .unwrap())
    };
    match path.as_str() {
        "/ok" => {
            let parsed: Result<Transaction, _> = serde_json::from_slice(&body);
            match parsed {
                Ok(t) if t == txn() => reply(
                    StatusCode::OK,
                    r#"{"decision":"review","risk_score":0.6,"reasons":["x"],"agents":[{"name":"a","duration_us":5}]}"#,
                ),
                _ => reply(StatusCode::BAD_REQUEST, "not the transaction"),
            }
        }
        "/echo" => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let ok = serde_json::from_value::<Transaction>(v["payload"].clone())
                .is_ok_and(|t| t == txn());
            let key_ok = auth.as_deref() == Some(b"secret".as_slice());
            if ok && key_ok {
                reply(
                    StatusCode::OK,
                    r#"{"result":{"action":"DECLINE","p":"0.97"}}"#,
                )
            } else {
                reply(StatusCode::BAD_REQUEST, "unexpected body or key")
            }
        }
        "/foreign" => {
            // An API of its own schema: PUT, its own content type, a bearer token, its field names.
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let t = txn();
            let expected = serde_json::json!({
                "ref": t.id.to_string(), "amt": 123.45, "cur": "EUR", "card": t.card_id.to_string(),
                "at_ms": t.timestamp.micros / 1000, "device": null,
            });
            let ok = method == hyper::Method::PUT
                && content_type.as_deref() == Some(b"application/vnd.acme+json".as_slice())
                && bearer.as_deref() == Some(b"Bearer tok-123".as_slice())
                && v == expected;
            if ok {
                reply(StatusCode::OK, r#"{"decision":"approve","risk_score":0.1}"#)
            } else {
                reply(StatusCode::BAD_REQUEST, "not the foreign request")
            }
        }
        "/fixed" => {
            // A fixed body arrives verbatim, with the Host header set by the pool's connections.
            if body.as_ref() == br#"{"fixed":true}"# && host.is_some() {
                reply(StatusCode::OK, r#"{"decision":"approve","risk_score":0.2}"#)
            } else {
                reply(StatusCode::BAD_REQUEST, "unexpected body or no Host")
            }
        }
        "/429" => reply(StatusCode::TOO_MANY_REQUESTS, "slow down"),
        "/500" => reply(StatusCode::INTERNAL_SERVER_ERROR, "oops"),
        "/404" => reply(StatusCode::NOT_FOUND, "no"),
        "/malformed" => reply(StatusCode::OK, "<html>definitely not json"),
        "/wrong-shape" => reply(StatusCode::OK, r#"{"decision":"maybe","risk_score":0.5}"#),
        // A megabyte with its Content-Length: refused before it is read.
        "/huge" => reply(StatusCode::OK, &" ".repeat(1 << 20)),
        "/hang" => std::future::pending().await,
        "/close" => Err(std::io::Error::other("close without an answer")),
        _ => reply(StatusCode::NOT_FOUND, "no route"),
    }
}

/// Serves `answer` until the test's runtime ends; connection tasks live in the JoinSet the server
/// task owns, so they end with it.
async fn server() -> (SocketAddr, tokio::task::JoinHandle<Infallible>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            conns.spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
    (addr, task)
}

fn target(addr: SocketAddr, path: &str) -> HttpTarget {
    let config = HttpTargetConfig {
        url: format!("http://{addr}{path}"),
        connections: 4,
        timeout: Duration::from_secs(5),
        ..base()
    };
    HttpTarget::new(config).unwrap()
}

#[tokio::test]
async fn scores_and_maps_the_answer() {
    let (addr, server) = server().await;
    let t = target(addr, "/ok");
    for _ in 0..3 {
        let v = t.score(&txn()).await.unwrap();
        assert_eq!(v.decision, Decision::Review);
        assert_eq!(v.risk_score, 0.6);
        assert_eq!(v.agents.len(), 1);
    }
    assert_eq!(t.info().kind, "http");
    server.abort();
}

#[tokio::test]
async fn template_pointers_and_headers() {
    let (addr, server) = server().await;
    let config = HttpTargetConfig {
        url: format!("http://{addr}/echo"),
        body_template: Some(r#"{"payload": {{transaction}}}"#.into()),
        decision_pointer: "/result/action".into(),
        score_pointer: "/result/p".into(),
        headers: vec![("x-api-key".into(), "secret".into())],
        ..base()
    };
    let v = HttpTarget::new(config)
        .unwrap()
        .score(&txn())
        .await
        .unwrap();
    assert_eq!(v.decision, Decision::Decline);
    assert_eq!(v.risk_score, 0.97);
    server.abort();
}

#[tokio::test]
async fn method_content_type_headers_and_a_field_template_reach_the_api() {
    let (addr, server) = server().await;
    let mut spec = models::TargetSpec {
        method: "put".into(),
        content_type: Some("application/vnd.acme+json".into()),
        body: Some(
            r#"{"ref": {{id}}, "amt": {{amount}}, "cur": {{currency}}, "card": {{card_id}},
                "at_ms": {{timestamp_ms}}, "device": {{device_id}}}"#
                .into(),
        ),
        // Through `from_spec`, as a scenario's `[target] engine` comes.
        engine: crate::ENGINE,
        ..models::TargetSpec::default()
    };
    spec.headers
        .insert("Authorization".into(), "Bearer ${TOKEN}".into());
    spec.expand_headers(|name| (name == "TOKEN").then(|| "tok-123".to_owned()))
        .unwrap();
    let config = HttpTargetConfig::from_spec(&spec, &format!("http://{addr}/foreign"), false);
    assert!(
        !format!("{config:?}").contains("tok-123"),
        "the token shows in {config:?}"
    );
    let t = HttpTarget::new(config).unwrap();
    for _ in 0..3 {
        assert_eq!(t.score(&txn()).await.unwrap().decision, Decision::Approve);
    }
    server.abort();
}

#[tokio::test]
async fn a_fixed_body_is_sent_as_is_on_reused_connections() {
    let (addr, server) = server().await;
    let config = HttpTargetConfig {
        url: format!("http://{addr}/fixed"),
        connections: 2,
        fixed_body: Some(br#"{"fixed":true}"#.to_vec()),
        ..base()
    };
    let t = std::sync::Arc::new(HttpTarget::new(config).unwrap());
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let t = t.clone();
        set.spawn(async move {
            for _ in 0..5 {
                let v = t.score(&txn()).await.unwrap();
                assert_eq!(v.decision, Decision::Approve);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    server.abort();
}

#[tokio::test]
async fn error_statuses_and_bad_bodies_are_typed() {
    let (addr, server) = server().await;
    let cases = [
        ("/429", ErrorKind::Http429),
        ("/500", ErrorKind::Http5xx),
        ("/404", ErrorKind::Http4xx),
        ("/malformed", ErrorKind::Malformed),
        ("/wrong-shape", ErrorKind::Malformed),
        ("/close", ErrorKind::Connection),
    ];
    for (path, kind) in cases {
        let t = target(addr, path);
        // Twice: the pool must stay usable after each kind of failure.
        for _ in 0..2 {
            let err = t.score(&txn()).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{path}: {err}");
        }
    }
    let err = target(addr, "/429").score(&txn()).await.unwrap_err();
    assert_eq!(err, TargetError::Status { status: 429 });
    server.abort();
}

/// A raw HTTP/1.1 server that answers every request with a chunked body of `chunks` × 8 KiB of
/// spaces and no Content-Length, so the only way to know its size is to read it.
async fn chunked_server(chunks: usize) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            conns.spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                // One read holds the small request of these tests.
                if stream.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                let _ = stream.write_all(head.as_bytes()).await;
                let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
                for _ in 0..chunks {
                    if stream.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn answers_over_the_size_cap_are_malformed_and_not_kept() {
    let (addr, server) = server().await;
    let t = target(addr, "/huge");
    for _ in 0..2 {
        let err = t.score(&txn()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
        assert!(err.to_string().contains("longer than 65536 bytes"), "{err}");
    }
    server.abort();

    // Streamed without a length: cut as it arrives (128 × 8 KiB = 1 MiB would be sent).
    let (addr, server) = chunked_server(128).await;
    let t = target(addr, "/any");
    let err = t.score(&txn()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
    assert!(err.to_string().contains("longer than"), "{err}");
    // A chunked answer under the cap is read whole (and is not a verdict: spaces only).
    let config = HttpTargetConfig {
        url: format!("http://{addr}/any"),
        max_answer_bytes: 2 << 20,
        timeout: Duration::from_secs(5),
        ..base()
    };
    let err = HttpTarget::new(config)
        .unwrap()
        .score(&txn())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("longer than"), "{err}");
    server.abort();
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    // Bind, learn the port, close it: nothing listens there now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = target(addr, "/ok").score(&txn()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("connect"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out() {
    let (addr, server) = server().await;
    let config = HttpTargetConfig {
        url: format!("http://{addr}/hang"),
        timeout: Duration::from_millis(300),
        ..base()
    };
    let err = HttpTarget::new(config)
        .unwrap()
        .score(&txn())
        .await
        .unwrap_err();
    assert_eq!(err, TargetError::Timeout { timeout_ms: 300 });
    assert_eq!(err.kind(), ErrorKind::Timeout);
    server.abort();
}

#[tokio::test]
async fn remote_hosts_are_refused_before_anything_is_sent() {
    for url in [
        "http://10.0.0.1/v1/score",
        "http://example.com/",
        "http://[2001:db8::1]:80/x",
    ] {
        let config = HttpTargetConfig {
            url: url.into(),
            ..base()
        };
        let err = HttpTarget::new(config).unwrap_err();
        assert!(
            matches!(err, TargetConfigError::RemoteRefused { .. }),
            "{url}: {err}"
        );
        assert!(err.to_string().contains("`allow_remote`"), "{err}");
    }
    // With the flag the target is built (nothing is sent until score is called).
    let config = HttpTargetConfig {
        url: "http://10.0.0.1/".into(),
        allow_remote: true,
        ..base()
    };
    assert!(HttpTarget::new(config).is_ok());
}

#[test]
fn bad_settings_are_named() {
    let base = base();
    let cases = [
        (
            HttpTargetConfig {
                url: "ftp://127.0.0.1/".into(),
                ..base.clone()
            },
            "https://",
        ),
        (
            HttpTargetConfig {
                connections: 0,
                ..base.clone()
            },
            "connections",
        ),
        (
            HttpTargetConfig {
                timeout: Duration::ZERO,
                ..base.clone()
            },
            "timeout",
        ),
        (
            HttpTargetConfig {
                body_template: Some(r#"{"a": {{amount_major}}}"#.into()),
                ..base.clone()
            },
            "unknown placeholder {{amount_major}}; the known placeholders are {{transaction}}, {{id}}",
        ),
        (
            HttpTargetConfig {
                body_template: Some(r#"{"ref": "{{id}}"}"#.into()),
                ..base.clone()
            },
            "does not make JSON",
        ),
        (
            HttpTargetConfig {
                method: "PO ST".into(),
                ..base.clone()
            },
            "`method`",
        ),
        (
            HttpTargetConfig {
                content_type: "application/json\n".into(),
                ..base.clone()
            },
            "`content_type`",
        ),
        (
            HttpTargetConfig {
                headers: vec![("authorization".into(), "Bearer ${API_TOKEN}".into())],
                ..base.clone()
            },
            "never expanded",
        ),
        (
            HttpTargetConfig {
                headers: vec![("x-api-key".into(), "line\nbreak".into())],
                ..base.clone()
            },
            "(***) cannot be sent",
        ),
        (
            HttpTargetConfig {
                decision_pointer: "decision".into(),
                ..base.clone()
            },
            "JSON pointer",
        ),
    ];
    for (config, needle) in cases {
        let err = HttpTarget::new(config).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[tokio::test(start_paused = true)]
async fn without_its_own_timer_the_caller_bounds_the_request() {
    let (addr, server) = server().await;
    let config = HttpTargetConfig {
        url: format!("http://{addr}/hang"),
        timeout: Duration::from_millis(300),
        enforce_timeout: false,
        ..base()
    };
    let target = HttpTarget::new(config).unwrap();
    // Far past the target's 300 ms, the request is still waiting: only the caller's deadline ends it.
    let waited = tokio::time::timeout(Duration::from_secs(60), target.score(&txn())).await;
    assert!(waited.is_err(), "{waited:?}");
    // Answers still arrive and bodies are still built per request without the timer.
    let ok = HttpTarget::new(HttpTargetConfig {
        url: format!("http://{addr}/ok"),
        enforce_timeout: false,
        ..base()
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(ok.score(&txn()).await.unwrap().decision, Decision::Review);
    }
    server.abort();
}

/// A server that answers one request per connection and then closes it without saying so
/// (no `Connection: close`): the pool must notice the closed idle connection and open another.
#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head and the body (Content-Length of the request).
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_lowercase();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if seen.len() >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let body = r#"{"decision":"approve","risk_score":0.1}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await.unwrap();
            drop(stream);
            closed_tx.send(()).unwrap();
        }
    });
    let target = HttpTarget::new(HttpTargetConfig {
        url: format!("http://{addr}/v1/score"),
        connections: 1,
        ..base()
    })
    .unwrap();
    for _ in 0..3 {
        let v = target.score(&txn()).await.unwrap();
        assert_eq!(v.decision, Decision::Approve);
        closed_rx.recv().await.unwrap();
    }
    server.abort();
}

//! `HttpTarget` on the default (lean) engine against a real nginx (one worker on a free loopback
//! port): answers with a length, chunked answers, a server that closes keep-alive connections
//! after a few requests (`Connection: close`), and 5xx statuses, all as the hyper engine reads them.
//! Ignored by plain `cargo test`: `cargo xtask test` installs nginx (Debian's package) and names it
//! in `FRAUDSTRESS_NGINX`.

use models::{Decision, ErrorKind, HttpEngine};
use std::net::{Ipv4Addr, TcpStream};
mod fixtures;
use fixtures::txn;
use targets::{HttpTarget, HttpTargetConfig, Target};

#[path = "../../../test-support/nginx.rs"]
mod nginx;

/// nginx closing each keep-alive connection after 3 requests (saying so: `Connection: close`), a
/// verdict with a length, the same verdict chunked, and a 503.
fn start_nginx() -> nginx::Nginx {
    let program = std::env::var("FRAUDSTRESS_NGINX").unwrap_or_else(|_| "nginx".into());
    nginx::Nginx::start(
        &program,
        |dir, port| {
            nginx::config(
                dir,
                port,
                "    keepalive_requests 3;",
                &format!(
                    r#"        location = /v1/score {{
            default_type application/json;
            return 200 '{{"decision":"decline","risk_score":0.9}}';
        }}
        # A file through a substitution filter: the length is not known before the body is
        # sent, so nginx answers in chunks.
        location = /chunked {{
            default_type application/json;
            alias {}/verdict.json;
            sub_filter_types application/json;
            sub_filter 'decline' 'decline';
            # nginx serves files to GET only: a POST's 405 becomes the file, answered with 200.
            error_page 405 =200 $uri;
        }}
        location = /busy {{
            return 503;
        }}"#,
                    dir.display()
                ),
            )
        },
        &[("verdict.json", r#"{"decision":"decline","risk_score":0.9}"#)],
        None,
    )
    .unwrap_or_else(|e| panic!("{e}; `cargo xtask test` installs nginx"))
}

/// nginx's answer to one POST on a connection of its own, as sent.
fn raw_post(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut sock = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    write!(
        sock,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    answer
}

fn target(url: String, connections: usize) -> HttpTarget {
    let t = HttpTarget::new(HttpTargetConfig {
        url,
        connections,
        ..HttpTargetConfig::default()
    })
    .unwrap();
    assert_eq!(t.engine(), HttpEngine::Lean, "the default engine");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx: cargo xtask test installs it"]
async fn the_lean_engine_reads_nginx_with_lengths_chunks_closes_and_5xx() {
    let nginx = start_nginx();

    // 60 requests over 4 connections that nginx closes after 3 requests each (`Connection: close`):
    // every one answered, on about 20 connections in all, none retried.
    let t = target(nginx.url("/v1/score"), 4);
    let mut calls = tokio::task::JoinSet::new();
    let t = std::sync::Arc::new(t);
    for _ in 0..60 {
        let t = t.clone();
        calls.spawn(async move { t.score(&txn()).await });
    }
    while let Some(done) = calls.join_next().await {
        let v = done.unwrap().unwrap();
        assert_eq!(v.decision, Decision::Decline);
        assert!((v.risk_score - 0.9).abs() < 1e-9);
    }
    let opened = t.connect_stats().opened;
    assert!(
        (20..=24).contains(&opened),
        "{opened} connections for 60 requests, 3 per connection"
    );
    assert_eq!(t.protocol(), Some("HTTP/1.1 (lean engine)"));

    // A chunked answer (checked on the wire first) reads as the same verdict.
    let wire = raw_post(nginx.port, "/chunked").to_ascii_lowercase();
    assert!(wire.contains("transfer-encoding: chunked"), "{wire}");
    let chunked = target(nginx.url("/chunked"), 1);
    for _ in 0..5 {
        let v = chunked.score(&txn()).await.unwrap();
        assert_eq!(v.decision, Decision::Decline);
    }

    // 503 is a typed error, kept among the samples with its status.
    let busy = target(nginx.url("/busy"), 1);
    let err = busy.score(&txn()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http5xx, "{err}");
    // And the connection stays usable after an error status with a body.
    let err = busy.score(&txn()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http5xx, "{err}");
    assert_eq!(busy.connect_stats().opened, 1, "keep-alive after a 503");
}

//! `HttpTarget` on the default (lean) engine against a real nginx (one worker on a free loopback
//! port): answers with a length, chunked answers, a server that closes keep-alive connections
//! after a few requests (`Connection: close`), and 5xx statuses, all as the hyper engine reads them.
//! Ignored by plain `cargo test`: `cargo xtask test` installs nginx (Debian's package) and names it
//! in `FRAUDSTRESS_NGINX`.

use models::{Decision, ErrorKind, HttpEngine};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use targets::{HttpTarget, HttpTargetConfig, Target};

/// nginx with `conf` (its `{DIR}` and `{PORT}` filled in) in a fresh folder; killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

const CONF: &str = r#"worker_processes 1;
master_process off;
daemon off;
pid {DIR}/nginx.pid;
error_log {DIR}/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path {DIR}/body;
    proxy_temp_path {DIR}/proxy;
    fastcgi_temp_path {DIR}/fastcgi;
    uwsgi_temp_path {DIR}/uwsgi;
    scgi_temp_path {DIR}/scgi;
    # Closes each keep-alive connection after 3 requests, saying so (`Connection: close`).
    keepalive_requests 3;
    server {
        listen 127.0.0.1:{PORT};
        location = /v1/score {
            default_type application/json;
            return 200 '{"decision":"decline","risk_score":0.9}';
        }
        # A file through a substitution filter: the length is not known before the body is sent,
        # so nginx answers in chunks.
        location = /chunked {
            default_type application/json;
            alias {DIR}/verdict.json;
            sub_filter_types application/json;
            sub_filter 'decline' 'decline';
            # nginx serves files to GET only: a POST's 405 becomes the file, answered with 200.
            error_page 405 =200 $uri;
        }
        location = /busy {
            return 503;
        }
    }
}
"#;

impl Nginx {
    fn start(conf: &str) -> Self {
        let nginx = std::env::var("FRAUDSTRESS_NGINX").unwrap_or_else(|_| "nginx".into());
        let dir = std::env::temp_dir().join(format!(
            "fraudstress-nginx-test-{}-{}",
            std::process::id(),
            conf.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            dir.join("verdict.json"),
            r#"{"decision":"decline","risk_score":0.9}"#,
        )
        .unwrap();
        let conf_path = dir.join("nginx.conf");
        std::fs::write(
            &conf_path,
            conf.replace("{DIR}", &dir.display().to_string())
                .replace("{PORT}", &port.to_string()),
        )
        .unwrap();
        let child = Command::new(&nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {nginx} ({e}): run `cargo xtask test`, which installs it")
            });
        let mut me = Self { child, port, dir };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if let Some(status) = me.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(me.dir.join("error.log")).unwrap_or_default();
                panic!("nginx exited at start ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        me
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn txn() -> models::Transaction {
    models::Transaction {
        id: models::TxnId(7),
        timestamp: models::Timestamp::from_secs(1_767_225_600),
        amount_minor: 12_345,
        currency: models::Currency::EUR,
        card_id: models::CardId(7),
        customer_id: models::CustomerId(3),
        merchant_id: models::MerchantId(99),
        merchant_name: std::borrow::Cow::Borrowed("Café Zürich"),
        mcc: 5812,
        channel: models::Channel::Contactless,
        country: models::CountryCode::new("CH"),
        lat: 47.37,
        lon: 8.54,
        device_id: None,
        ip: None,
    }
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
    let nginx = Nginx::start(CONF);

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

//! A small HTTP server on loopback for the proxy and webhook tests, and helpers.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use models::Transaction;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::{HttpTarget, HttpTargetConfig};
use tokio::net::TcpListener;

/// What the upstream saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    /// Bodies of POST /hook.
    pub posts: Mutex<Vec<String>>,
}

impl Seen {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Routes: `POST /v1/score` answers a verdict; `GET /big?n=N` answers N bytes; `POST /hook` records the
/// body; `/hang` never answers; anything else echoes method, path, query, headers and body as JSON.
pub async fn start_upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            s.connections.fetch_add(1, Ordering::SeqCst);
            let s = s.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| answer(s.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    Upstream { addr, seen }
}

async fn answer(
    seen: Arc<Seen>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().to_owned();
    let text = match path.as_str() {
        "/v1/score" => r#"{"decision":"approve","risk_score":0.1}"#.to_owned(),
        "/big" => {
            let n: usize = parts
                .uri
                .query()
                .and_then(|q| q.strip_prefix("n="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            "x".repeat(n)
        }
        "/hook" => {
            seen.posts
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            "ok".to_owned()
        }
        "/hang" => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        _ => {
            let headers: serde_json::Map<String, serde_json::Value> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
                .collect();
            serde_json::json!({
                "method": parts.method.as_str(),
                "path": path,
                "query": parts.uri.query(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string()
        }
    };
    Ok(Response::new(Full::new(Bytes::from(text))))
}

pub fn txn() -> Transaction {
    serde_json::from_str(
        r#"{"id":"txn_00000000002a","timestamp":"2026-01-01T00:00:00.000000Z","amount_minor":12345,
        "currency":"EUR","card_id":"card_000000000007","customer_id":"cus_000000000003",
        "merchant_id":"mer_000000000063","merchant_name":"Cafe Zurich","mcc":5812,"channel":"contactless",
        "country":"CH","lat":47.37,"lon":8.54,"ip":"203.0.113.7"}"#,
    )
    .unwrap()
}

/// The load driver's view: an `HttpTarget` with one connection and the given timeout.
pub fn target(url: &str, timeout: Duration) -> HttpTarget {
    HttpTarget::new(HttpTargetConfig {
        url: url.to_owned(),
        connections: 1,
        timeout,
        ..Default::default()
    })
    .unwrap()
}

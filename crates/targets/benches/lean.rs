//! One warm HTTP/1.1 connection's exchange with the lean engine ([`LeanConn`]) against hyper's
//! connection-level client, the engine of today's load path, on the same in-process loopback
//! server (a blocking thread per connection writing one fixed verdict answer). Also today's whole
//! `HttpTarget::score` (pool, hyper, answer mapping) against the lean exchange plus the same mapping.
//! Each figure is one request and its answer, the client on a current-thread runtime, timed twice:
//! by the wall clock (mostly the loopback round trip and the server's thread waking up, so close
//! for all) and by the client thread's CPU time (what the engine itself costs the generator).

use bytes::Bytes;
use cpu_time::ThreadTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};
use targets::{HttpTarget, HttpTargetConfig, LeanConn, RequestHead, ResponseMapping, Target};
use transaction_factory::{FactoryConfig, TransactionFactory};

const ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 41\r\n\r\n\
    {\"decision\":\"approve\",\"risk_score\":0.125}";
const BODY: &[u8] = br#"{"id":"t-1","amount_minor":1250,"currency":"EUR","merchant_id":"m-1"}"#;
const CAP: usize = 64 * 1024;

/// A server answering every request on every connection with [`ANSWER`], a thread per connection.
fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(mut sock) = sock else { return };
            std::thread::spawn(move || {
                sock.set_nodelay(true).unwrap();
                let mut pending = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let total = loop {
                        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head =
                                String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                            let length: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length: "))
                                .map_or(0, |v| v.trim().parse().unwrap());
                            if pending.len() >= end + 4 + length {
                                break end + 4 + length;
                            }
                        }
                        match sock.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    pending.drain(..total);
                    if sock.write_all(ANSWER).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// What a benchmark's time is.
#[derive(Debug, Clone, Copy)]
enum Clock {
    Wall,
    /// The client thread's CPU time: with a current-thread runtime, all of the client's work
    /// (hyper's connection task too) and none of the server's.
    ClientCpu,
}

impl Clock {
    fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall",
            Clock::ClientCpu => "client_cpu",
        }
    }

    async fn time(self, work: impl Future<Output = ()>) -> Duration {
        match self {
            Clock::Wall => {
                let start = Instant::now();
                work.await;
                start.elapsed()
            }
            Clock::ClientCpu => {
                let start = ThreadTime::now();
                work.await;
                start.elapsed()
            }
        }
    }
}

fn exchange(c: &mut Criterion) {
    let addr = serve();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let method = Method::POST;
    let path = Uri::from_static("/v1/score");
    let host = HeaderValue::from_str(&addr.to_string()).unwrap();
    let content_type = HeaderValue::from_static("application/json");
    let mut api_key = HeaderValue::from_static("secret");
    api_key.set_sensitive(true);
    let headers = vec![(HeaderName::from_static("x-api-key"), api_key)];
    let config = HttpTargetConfig::default();
    let mapping = ResponseMapping::new(&config.decision_pointer, &config.score_pointer).unwrap();
    let factory = TransactionFactory::new(42, FactoryConfig::default()).unwrap();
    let txn = factory.iter_from(0).next().unwrap().0;

    // The lean engine: one write of the pre-encoded head and body, the answer parsed in place.
    let head = RequestHead::new(&method, &path, &host, &content_type, &headers);
    let mut lean = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        LeanConn::plain(tcp)
    });
    // Hyper's connection-level HTTP/1.1 client with a request built as `HttpTarget` builds it (its
    // connection driven by a task here; the pool drives it from the request, a small difference).
    let mut sender = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        sender
    });
    // Today's whole request: pool, hyper, answer mapping.
    let target = HttpTarget::new(HttpTargetConfig {
        url: format!("http://{addr}/v1/score"),
        connections: 1,
        enforce_timeout: false,
        fixed_body: Some(BODY.to_vec()),
        ..HttpTargetConfig::default()
    })
    .unwrap();

    for clock in [Clock::Wall, Clock::ClientCpu] {
        let mut group = c.benchmark_group(format!("h1_exchange_{}", clock.name()));
        group.throughput(Throughput::Elements(1));
        group.bench_function("lean", |b| {
            b.iter_custom(|iters| {
                rt.block_on(clock.time(async {
                    for _ in 0..iters {
                        let (status, answer) = lean.exchange(&head, BODY, CAP).await.unwrap();
                        assert_eq!((status, answer.len()), (200, 41));
                    }
                }))
            })
        });
        group.bench_function("hyper", |b| {
            b.iter_custom(|iters| {
                rt.block_on(clock.time(async {
                    for _ in 0..iters {
                        let mut req = Request::new(Full::new(Bytes::from_static(BODY)));
                        *req.method_mut() = method.clone();
                        *req.uri_mut() = path.clone();
                        let h = req.headers_mut();
                        h.insert(HOST, host.clone());
                        h.insert(CONTENT_TYPE, content_type.clone());
                        for (name, value) in &headers {
                            h.insert(name.clone(), value.clone());
                        }
                        sender.ready().await.unwrap();
                        let resp = sender.send_request(req).await.unwrap();
                        let status = resp.status();
                        let answer = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!((status.as_u16(), answer.len()), (200, 41));
                    }
                }))
            })
        });
        // Whole requests: the lean exchange plus the answer mapping, against today's `score`.
        group.bench_function("lean_and_mapping", |b| {
            b.iter_custom(|iters| {
                rt.block_on(clock.time(async {
                    for _ in 0..iters {
                        let (_, answer) = lean.exchange(&head, BODY, CAP).await.unwrap();
                        mapping.parse(answer).unwrap();
                    }
                }))
            })
        });
        group.bench_function("http_target_score", |b| {
            b.iter_custom(|iters| {
                rt.block_on(clock.time(async {
                    for _ in 0..iters {
                        target.score(&txn).await.unwrap();
                    }
                }))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, exchange);
criterion_main!(benches);

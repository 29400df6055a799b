//! What the proxy adds to a request on loopback (direct vs through the proxy with no fault and with a
//! fault that touches every request), and the cost of the resilience analysis of a one-hour run.

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use failure_injection::{
    FaultProxy, FaultWindow, Injector, ProxyConfig, ResilienceConfig, analyze, parse_fault_flag,
};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use models::{FaultKind, IntervalSnapshot};
use std::convert::Infallible;
use std::hint::black_box;

/// An upstream that answers a small verdict to every request.
async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        br#"{"decision":"approve","risk_score":0.1}"#,
                    ))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

fn bench_proxy(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (direct, proxy) = rt.block_on(async {
        let up = upstream().await;
        let proxy = FaultProxy::start(ProxyConfig {
            upstream: up.clone(),
            ..Default::default()
        })
        .await
        .expect("proxy");
        (up, proxy)
    });
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let get = |url: String| {
        let client = client.clone();
        async move {
            let req = Request::post(url)
                .body(Full::new(Bytes::from_static(b"{}")))
                .expect("request");
            let resp = client.request(req).await.expect("answer");
            black_box(resp.into_body().collect().await.expect("body").to_bytes());
        }
    };
    let mut group = c.benchmark_group("request");
    group.bench_function("direct", |b| {
        b.iter(|| rt.block_on(get(format!("{direct}/v1/score"))))
    });
    group.bench_function("proxy_no_fault", |b| {
        b.iter(|| rt.block_on(get(format!("{}/v1/score", proxy.url()))))
    });
    // A fault that rolls its probability on every request and never fires: the plan's cost alone.
    rt.block_on(
        proxy.apply(&parse_fault_flag("latency-spike:latency=1s,p=0,for=1h").expect("flag")),
    )
    .expect("apply");
    group.bench_function("proxy_with_fault", |b| {
        b.iter(|| rt.block_on(get(format!("{}/v1/score", proxy.url()))))
    });
    group.finish();
    rt.block_on(proxy.shutdown());
}

fn bench_analyze(c: &mut Criterion) {
    let ticks: Vec<IntervalSnapshot> = (1..=3_600)
        .map(|t| IntervalSnapshot {
            t_s: t as f64,
            interval_s: 1.0,
            planned_tps: 1_000.0,
            scheduled: 1_000,
            sent: 1_000,
            completed: 1_000,
            ok: if (600..660).contains(&t) { 500 } else { 1_000 },
            achieved_tps: 1_000.0,
            ..Default::default()
        })
        .collect();
    let windows: Vec<FaultWindow> = (0..10)
        .map(|i| FaultWindow {
            kind: FaultKind::AgentCrash,
            stage: Some("pattern_detector".into()),
            start_s: 300.0 * (i + 1) as f64,
            end_s: 300.0 * (i + 1) as f64 + 60.0,
        })
        .collect();
    c.bench_function("analyze/3600_ticks_10_faults", |b| {
        b.iter(|| black_box(analyze(&ticks, &windows, &ResilienceConfig::default())))
    });
}

criterion_group!(benches, bench_proxy, bench_analyze);
criterion_main!(benches);

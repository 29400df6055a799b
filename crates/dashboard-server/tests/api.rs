//! The dashboard's HTTP API, control guard, WebSocket origin check, `/metrics` format and per-client
//! queues, over real loopback HTTP against a server fed by the test.

use bytes::Bytes;
use dashboard_server::{Controller, DashboardConfig, DashboardServer, Feed, FeedConfig, Refused};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use models::{
    AgentStats, Confusion, CostModel, ErrorKind, FaultSpec, IntervalSnapshot, MixSpec, RunState,
    Summary, TargetInfo, TargetKind,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn log(&self, s: impl Into<String>) -> Result<(), Refused> {
        self.0.lock().unwrap().push(s.into());
        Ok(())
    }
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Controller for Recorder {
    fn start(&self) -> Result<(), Refused> {
        self.log("start")
    }
    fn pause(&self) -> Result<(), Refused> {
        self.log("pause")
    }
    fn resume(&self) -> Result<(), Refused> {
        self.log("resume")
    }
    fn stop(&self) -> Result<(), Refused> {
        Err(Refused(
            "the run has ended; there is nothing left to control".into(),
        ))
    }
    fn set_rate(&self, m: f64) -> Result<(), Refused> {
        self.log(format!("rate {m}"))
    }
    fn inject(&self, f: FaultSpec) -> Result<(), Refused> {
        self.log(format!("inject {} {:?} {:?}", f.kind, f.stage, f.duration))
    }
}

fn frame(i: u64) -> IntervalSnapshot {
    let mut f = IntervalSnapshot {
        t_s: i as f64,
        interval_s: 1.0,
        state: RunState::Running,
        planned_tps: 100.0,
        scheduled: 100,
        sent: 100,
        completed: 100,
        ok: 99,
        achieved_tps: 100.0,
        errors: [(ErrorKind::Timeout, 1)].into(),
        fraud: Confusion {
            tp: 9,
            fp: 1,
            tn: 89,
            fn_: 1,
            unscored: 0,
        },
        agents: vec![AgentStats {
            name: "pattern_detector".into(),
            requests: 100,
            mean_ms: 4.0,
            health: 97.0,
            success_rate: 1.0,
            ..Default::default()
        }],
        ..Default::default()
    };
    f.cumulative.completed = 100 * i;
    f.cumulative.sent = 100 * i;
    f.cumulative.scheduled = 100 * i;
    f.cumulative.errors = [(ErrorKind::Timeout, i)].into();
    f.cumulative.fraud = Confusion {
        tp: 9 * i,
        fp: i,
        tn: 89 * i,
        fn_: i,
        unscored: 0,
    };
    f.cumulative.prevented_amount = 1000.0 * i as f64;
    f.cumulative.cost = 0.05 * i as f64;
    f
}

async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn serve(controller: Option<Arc<dyn Controller>>) -> (DashboardServer, Feed) {
    let feed = Feed::default();
    let config = DashboardConfig {
        token: Some("s3cret-token-for-tests".into()),
        ..DashboardConfig::default()
    };
    let server = DashboardServer::start(config, feed.clone(), controller)
        .await
        .unwrap();
    (server, feed)
}

#[tokio::test]
async fn pages_status_summary_and_exports_over_http() {
    let (server, feed) = serve(None).await;
    assert!(
        server.addr().ip().is_loopback(),
        "binds 127.0.0.1 by default"
    );
    let base = server.url();
    for page in ["", "investor", "analytics", "agents", "admin"] {
        let (status, body) = request("GET", &format!("{base}{page}"), &[], "").await;
        assert_eq!(status, 200, "/{page}");
        assert!(body.contains("/assets/dashboard.js"));
        assert!(
            !body.contains("s3cret-token-for-tests"),
            "the token is never embedded in a page"
        );
    }
    let (status, js) = request("GET", &format!("{base}assets/uPlot.iife.min.js"), &[], "").await;
    assert_eq!(status, 200);
    assert!(js.len() > 10_000);
    assert_eq!(request("GET", &format!("{base}nope"), &[], "").await.0, 404);

    let (status, body) = request("GET", &format!("{base}api/summary"), &[], "").await;
    assert_eq!(status, 404);
    assert!(body.contains("not finished"));
    for i in 1..=3 {
        feed.frame(frame(i));
    }
    let (status, body) = request("GET", &format!("{base}api/status"), &[], "").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["state"], "running");
    assert_eq!(v["ticks"], 3);
    assert_eq!(v["controls"], false);
    assert_eq!(v["headline"]["transactions"], 300);
    let (_, intervals) = request("GET", &format!("{base}api/intervals.jsonl"), &[], "").await;
    assert_eq!(intervals.lines().count(), 3);

    let mut summary = Summary {
        run_id: "r1".into(),
        duration_s: 3.0,
        ..Summary::default()
    };
    summary.load.completed = 300;
    summary.fraud.tp = 27;
    feed.summary(summary.clone());
    let (status, body) = request("GET", &format!("{base}api/summary"), &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Summary>(&body).unwrap(), summary);
    server.shutdown().await.unwrap();
}

/// The headline says what was tested (the target, the synthetic traffic's declared mix) and its ROI
/// is net of the declared false-decline loss, live and at the end; the hero figures of detection
/// are recall and precision, which the headline carries beside accuracy.
#[tokio::test]
async fn the_headline_names_the_target_and_mix_and_its_roi_is_net() {
    let cost = CostModel {
        false_decline_cost_ratio: 0.2,
        ..CostModel::default()
    };
    let mix = MixSpec {
        legit: 0.9,
        fraud: 0.07,
        edge: 0.03,
    };
    let feed = Feed::new(FeedConfig {
        cost_model: cost.clone(),
        target: Some(TargetInfo::new(
            TargetKind::Http,
            Some("http://127.0.0.1:9999/v1/score".into()),
        )),
        mix: Some(mix),
        ..FeedConfig::default()
    });
    let server = DashboardServer::start(DashboardConfig::default(), feed.clone(), None)
        .await
        .unwrap();
    let base = server.url();
    let hello = feed.subscribe(false).hello;
    let hello: serde_json::Value = serde_json::from_str(&hello).unwrap();
    assert_eq!(
        hello["run"]["target"], "127.0.0.1:9999",
        "named before the first tick"
    );
    assert_eq!(
        hello["run"]["traffic"],
        "7% fraud, 3% edge cases, synthetic"
    );
    let mut f = frame(2);
    f.cumulative.false_decline_amount = 500.0;
    feed.frame(f);
    let (status, body) = request("GET", &format!("{base}api/status"), &[], "").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let h = &v["headline"];
    assert_eq!(h["target"], "127.0.0.1:9999");
    assert_eq!(h["traffic"], "7% fraud, 3% edge cases, synthetic");
    assert_eq!(h["mix"]["fraud"], 0.07);
    assert_eq!(h["recall"], 0.9);
    assert_eq!(h["precision"], 0.9);
    // 2,000 prevented, 0.2 × 500 = 100 lost to false declines, 0.1 spent:
    // (2000 − 100 − 0.1) / 0.1 × 100 = 1,899,900 %, not the gross 1,999,900 %.
    assert_eq!(h["false_decline_loss"], 100.0);
    let roi = h["roi_pct"].as_f64().unwrap();
    assert!((roi - 1_899_900.0).abs() < 1e-3, "{roi}");
    assert!(
        h["roi_formula"]
            .as_str()
            .unwrap()
            .contains("false_decline_cost_ratio")
    );

    let mut s = Summary {
        target: TargetInfo::new(
            TargetKind::Builtin,
            Some("http://127.0.0.1:4000/score".into()),
        ),
        mix: Some(MixSpec::default()),
        ..Summary::default()
    };
    s.business.cost_model = cost.clone();
    s.business.total_cost = 0.1;
    s.fraud.prevented_amount = 2_000.0;
    s.fraud.false_decline_amount = 500.0;
    s.business.false_decline_loss = cost.false_decline_loss(500.0);
    s.business.roi_pct = cost.roi_pct(2_000.0, 500.0, 0.1);
    feed.summary(s);
    let (_, body) = request("GET", &format!("{base}api/status"), &[], "").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let h = &v["headline"];
    assert_eq!(h["final"], true);
    assert_eq!(h["target"], "the built-in reference service (fraud-sim)");
    assert_eq!(h["traffic"], "15% fraud, 5% edge cases, synthetic");
    assert!((h["roi_pct"].as_f64().unwrap() - roi).abs() < 1e-3);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn controls_need_the_token_and_the_own_origin() {
    let rec = Arc::new(Recorder::default());
    let (server, _feed) = serve(Some(rec.clone())).await;
    let url = |a: &str| format!("{}api/control/{a}", server.url());
    let good = ("authorization", "Bearer s3cret-token-for-tests");

    let (status, body) = request("POST", &url("pause"), &[], "").await;
    assert_eq!(status, 401);
    assert!(body.contains("Bearer"), "says what is needed: {body}");
    assert_eq!(
        request(
            "POST",
            &url("pause"),
            &[("authorization", "Bearer wrong")],
            ""
        )
        .await
        .0,
        401
    );
    assert!(rec.calls().is_empty(), "refused requests reach nothing");

    assert_eq!(request("POST", &url("pause"), &[good], "").await.0, 200);
    assert_eq!(request("POST", &url("resume"), &[good], "").await.0, 200);
    assert_eq!(
        request("POST", &url("rate"), &[good], r#"{"multiplier": 1.5}"#)
            .await
            .0,
        200
    );
    let (status, body) = request("POST", &url("rate"), &[good], r#"{"multiplier": "fast"}"#).await;
    assert_eq!(status, 400, "{body}");
    let inject = r#"{"kind": "agent_crash", "stage": "pattern_detector", "duration": "10s"}"#;
    assert_eq!(
        request("POST", &url("inject"), &[good], inject).await.0,
        200
    );
    let (status, body) = request("POST", &url("stop"), &[good], "").await;
    assert_eq!((status, body.contains("nothing left")), (409, true));
    assert_eq!(request("POST", &url("explode"), &[good], "").await.0, 404);
    let own = format!("http://127.0.0.1:{}", server.addr().port());
    assert_eq!(
        request("POST", &url("start"), &[good, ("origin", own.as_str())], "")
            .await
            .0,
        200
    );
    assert_eq!(
        request(
            "POST",
            &url("start"),
            &[good, ("origin", "http://evil.example")],
            ""
        )
        .await
        .0,
        403
    );
    assert_eq!(
        request("GET", &url("pause"), &[good], "").await.0,
        405,
        "controls are POST only"
    );
    assert_eq!(
        rec.calls(),
        [
            "pause",
            "resume",
            "rate 1.5",
            "inject agent_crash Some(\"pattern_detector\") 10s",
            "start"
        ]
    );
    server.shutdown().await.unwrap();

    let (replay, _) = serve(None).await;
    let (status, body) = request(
        "POST",
        &format!("{}api/control/pause", replay.url()),
        &[good],
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("replays"));
    replay.shutdown().await.unwrap();
}

async fn ws_connect(
    port: u16,
    origin: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    u16,
> {
    let mut req = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("unexpected WebSocket error: {e}"),
    }
}

async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .unwrap()
            .unwrap();
        if msg.is_text() {
            return serde_json::from_str(msg.to_text().unwrap()).unwrap();
        }
    }
}

#[tokio::test]
async fn websocket_checks_origin_and_streams_frames_and_events() {
    let (server, feed) = serve(None).await;
    let port = server.addr().port();
    assert_eq!(
        ws_connect(port, Some("http://evil.example")).await.err(),
        Some(403)
    );
    assert_eq!(
        ws_connect(port, Some(&format!("http://127.0.0.1:{}", port + 1)))
            .await
            .err(),
        Some(403)
    );
    let mut own = ws_connect(port, Some(&format!("http://localhost:{port}")))
        .await
        .expect("own origin");
    let mut tool = ws_connect(port, None)
        .await
        .expect("no origin: a non-browser client");
    for ws in [&mut own, &mut tool] {
        let hello = next_json(ws).await;
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["controls"], false);
    }
    feed.frame(frame(1));
    feed.event(models::RunEvent {
        t_s: 1.2,
        kind: models::EventKind::Message {
            text: "hello browsers".into(),
        },
    });
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let m = next_json(&mut tool).await;
        if m["type"] != "stats" {
            seen.push(m);
        }
    }
    assert_eq!(seen[0]["type"], "frame");
    assert_eq!(seen[0]["headline"]["transactions"], 100);
    assert_eq!(seen[1]["event"]["text"], "hello browsers");
    drop(own);
    drop(tool);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_browser_that_stops_reading_never_slows_the_feed() {
    let feed = Feed::new(FeedConfig {
        client_queue: 4,
        ..FeedConfig::default()
    });
    let server = DashboardServer::start(DashboardConfig::default(), feed.clone(), None)
        .await
        .unwrap();
    // Connects, then never reads: its socket buffers fill, then its queue, then its frames are dropped.
    let stalled = ws_connect(server.addr().port(), None).await.unwrap();
    let mut big = frame(1);
    // About 200 KB a message (the phase is in the frame and its headline), so the socket buffers fill after a few dozen.
    big.phase = Some("p".repeat(100_000));
    let started = std::time::Instant::now();
    for i in 1..=200 {
        big.t_s = i as f64;
        feed.frame(big.clone());
        tokio::task::yield_now().await;
    }
    let took = started.elapsed();
    let status = feed.status();
    assert_eq!(status.ticks, 200);
    assert!(
        status.dropped_messages > 0,
        "the stalled client's frames were dropped, not queued without bound"
    );
    assert!(
        took < Duration::from_secs(30),
        "publishing never waited for the browser ({took:?})"
    );
    let (_, metrics) = request("GET", &format!("{}metrics", server.url()), &[], "").await;
    assert!(metrics.contains(&format!(
        "fraudstress_dashboard_dropped_messages_total {}",
        feed.status().dropped_messages
    )));
    drop(stalled);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let (server, feed) = serve(None).await;
    let mut f = frame(2);
    let mut h = orchestrator::histogram::empty();
    for us in [800, 3_000, 3_000, 12_000, 250_000] {
        h.record(us).unwrap();
    }
    f.histograms = Some(models::EncodedHistograms {
        latency_us: orchestrator::histogram::encode(&h),
        service_time_us: String::new(),
    });
    feed.frame(f);
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let resp = client
        .get(format!("{}metrics", server.url()).parse().unwrap())
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();

    let mut types = std::collections::BTreeMap::new();
    let mut buckets = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            types.insert(it.next().unwrap().to_owned(), it.next().unwrap().to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        // name{labels} value
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        assert!(
            value == "+Inf" || value == "NaN" || value.parse::<f64>().is_ok(),
            "bad value in {line}"
        );
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad name in {line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| types.contains_key(*f))
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "{name} has no # TYPE line before it"
        );
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(
                labels.starts_with('{') && labels.ends_with('}'),
                "labels of {line}"
            );
        }
        if name == "fraudstress_latency_ms_bucket" {
            buckets.push(value.parse::<f64>().unwrap());
        }
    }
    assert_eq!(types["fraudstress_latency_ms"], "histogram");
    assert_eq!(types["fraudstress_transactions_completed_total"], "counter");
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "buckets are cumulative: {buckets:?}"
    );
    assert_eq!(buckets.last().copied(), Some(5.0));
    assert!(text.contains("fraudstress_latency_ms_bucket{le=\"1\"} 1\n"));
    assert!(text.contains("fraudstress_latency_ms_bucket{le=\"5\"} 3\n"));
    assert!(text.contains("fraudstress_transactions_completed_total 200\n"));
    assert!(text.contains("fraudstress_errors_total{kind=\"timeout\"} 2\n"));
    assert!(text.contains("fraudstress_fraud_caught_total 18\n"));
    assert!(text.contains("fraudstress_run_state{state=\"running\"} 1\n"));
    assert!(text.contains("fraudstress_agent_health{agent=\"pattern_detector\"} 97\n"));
    server.shutdown().await.unwrap();
}

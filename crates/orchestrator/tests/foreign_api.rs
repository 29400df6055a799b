//! Runs from scenario files against test APIs written here (not the built-in target): a hyper
//! server on loopback with its own schema and decision words, and a score-only one. Each server
//! counts what it answered; the run's detection counts, error kinds and kept samples must agree.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use models::ErrorKind;
use orchestrator::{RunOptions, StressTestOrchestrator, scenario_file};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// What the server answered: a label per answer, counted.
type Tally = Arc<Mutex<BTreeMap<&'static str, u64>>>;

/// An answer chosen from the request body (so that it varies across transactions): the label the
/// server counts it under, the status and the body.
type Answer = fn(u64) -> (&'static str, StatusCode, String);

/// FNV-1a of the request body: a stable, spread-out choice per transaction.
fn hash(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn serve(answer: Answer) -> (SocketAddr, Tally, tokio::task::JoinHandle<Infallible>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tally: Tally = Arc::default();
    let counts = tally.clone();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let counts = counts.clone();
            conns.spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let counts = counts.clone();
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        let (label, status, text) = answer(hash(&body));
                        *counts.lock().unwrap().entry(label).or_default() += 1;
                        Ok::<_, hyper::Error>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(text)))
                                .unwrap(),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, tally, task)
}

fn scenario(url: &str, name: &str, response: &str) -> models::ScenarioSpec {
    let text = format!(
        r#"name = "{name}"
seed = 7

[[load.stages]]
shape = "sustained"
tps = 300
duration = "2s"

[target]
kind = "http"
url = "{url}"
timeout = "5s"

{response}
"#
    );
    scenario_file::parse_str(&text, &format!("{name}.toml")).unwrap()
}

async fn run(spec: models::ScenarioSpec, name: &str) -> models::Summary {
    let dir = std::env::temp_dir().join(format!("orch-foreign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = StressTestOrchestrator::new(
        spec,
        RunOptions {
            out_dir: Some(dir.clone()),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap();
    let written: models::Summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        written.errors, outcome.summary.errors,
        "summary.json as returned"
    );
    let _ = std::fs::remove_dir_all(&dir);
    written
}

fn count(tally: &Tally, label: &str) -> u64 {
    tally.lock().unwrap().get(label).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_schema_with_its_own_words_counts_what_the_api_answered() {
    foreign_schema(models::HttpEngine::Hyper).await;
}

/// The same run with the lean HTTP/1.1 engine: the same confusion matrix, errors and samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lean_engine_counts_what_the_api_answered() {
    foreign_schema(models::HttpEngine::Lean).await;
}

async fn foreign_schema(engine: models::HttpEngine) {
    let answer: Answer = |h| match h % 100 {
        0..=59 => (
            "allow",
            StatusCode::OK,
            r#"{"outcome":{"action":"ALLOW"},"riskScore":3}"#.into(),
        ),
        60..=74 => (
            "challenge",
            StatusCode::OK,
            r#"{"outcome":{"action":"Challenge"}}"#.into(),
        ),
        75..=93 => (
            "block",
            StatusCode::OK,
            r#"{"outcome":{"action":"BLOCK"},"riskScore":87}"#.into(),
        ),
        94..=96 => (
            "hold",
            StatusCode::OK,
            r#"{"outcome":{"action":"HOLD"},"riskScore":50}"#.into(),
        ),
        _ => (
            "denied",
            StatusCode::UNAUTHORIZED,
            r#"{"error":"token expired"}"#.into(),
        ),
    };
    let (addr, tally, server) = serve(answer).await;
    let name = format!("foreign-{engine}");
    let mut spec = scenario(
        &format!("http://{addr}/v2/assess"),
        &name,
        r#"[target.response]
decision = "/outcome/action"
score = "/riskScore"

[target.response.decisions]
ALLOW = "approve"
CHALLENGE = "review"
BLOCK = "decline"
"#,
    );
    spec.target.engine = engine;
    let s = run(spec, &name).await;
    server.abort();
    let lean = engine == models::HttpEngine::Lean;
    assert_eq!(
        s.target.protocol.as_deref(),
        Some(if lean {
            "HTTP/1.1 (lean engine)"
        } else {
            "HTTP/1.1"
        })
    );

    let flagged = count(&tally, "challenge") + count(&tally, "block");
    assert!(
        count(&tally, "allow") > 0 && flagged > 0,
        "{:?}",
        tally.lock().unwrap()
    );
    assert_eq!(s.fraud.tp + s.fraud.fp, flagged, "flagged verdicts");
    assert_eq!(
        s.fraud.tn + s.fraud.fn_,
        count(&tally, "allow"),
        "approvals"
    );
    let kind = |k: ErrorKind| s.errors.by_kind.get(&k).copied().unwrap_or(0);
    assert_eq!(kind(ErrorKind::Malformed), count(&tally, "hold"));
    assert_eq!(kind(ErrorKind::Auth), count(&tally, "denied"));
    assert_eq!(kind(ErrorKind::Http4xx), 0);

    let hold = &s.errors.samples[&ErrorKind::Malformed];
    assert!(!hold.is_empty() && hold.len() <= models::ErrorSample::KEPT_PER_KIND);
    assert!(hold[0].answer.contains("HOLD"), "{hold:?}");
    assert!(
        hold[0]
            .reason
            .contains("not in [target.response.decisions]"),
        "{hold:?}"
    );
    let denied = &s.errors.samples[&ErrorKind::Auth][0];
    assert_eq!(denied.status, Some(401));
    assert_eq!(denied.answer, r#"{"error":"token expired"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_score_only_api_is_judged_by_its_thresholds() {
    let answer: Answer = |h| {
        let score = h % 100;
        let label = match score {
            80.. => "decline",
            50..=79 => "review",
            _ => "approve",
        };
        (
            label,
            StatusCode::OK,
            format!(r#"{{"data":{{"fraud_probability":"{score}"}}}}"#),
        )
    };
    let (addr, tally, server) = serve(answer).await;
    let spec = scenario(
        &format!("http://{addr}/score"),
        "score-only",
        r#"[target.response]
score = "/data/fraud_probability"
decline_at = 80
review_at = 50
"#,
    );
    let s = run(spec, "score-only").await;
    server.abort();

    assert_eq!(s.errors.total, 0, "{:?}", s.errors);
    assert!(s.errors.samples.is_empty());
    assert_eq!(
        s.fraud.tp + s.fraud.fp,
        count(&tally, "decline") + count(&tally, "review")
    );
    assert_eq!(s.fraud.tn + s.fraud.fn_, count(&tally, "approve"));
    assert!(count(&tally, "approve") > 0 && count(&tally, "decline") > 0);
}

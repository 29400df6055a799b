//! `stress-runner probe` as a user runs it: the built binary against a test API written here, on
//! loopback, with its own schema (`txnRef`, `amt`), its own decision words (`ALLOW`, `BLOCK`) and a
//! bearer token; checking what is printed (the secret never), and the exit codes.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const TOKEN: &str = "probe-secret-7f3a9c";
const API_KEY: &str = "literal-key-51d2e8";

/// The test API: `POST /v2/assess` with `Authorization: Bearer TOKEN` and a JSON body with `txnRef`
/// and `amt`; answers `{"result": {"action": "ALLOW"|"BLOCK"}, "fraudProbability": p}` (BLOCK for
/// amounts over 100), 401 without the token, 400 for another body. Counts the authorized requests.
struct Api {
    url: String,
    authorized: Arc<AtomicU64>,
    runtime: tokio::runtime::Runtime,
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    authorized: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let reply = |status: StatusCode, text: String| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(text)))
            .unwrap())
    };
    let auth = req.headers().get("authorization").cloned();
    let key = req.headers().get("x-api-key").cloned();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    if auth.as_ref().and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}"))
        || key.as_ref().and_then(|v| v.to_str().ok()) != Some(API_KEY)
    {
        return reply(
            StatusCode::UNAUTHORIZED,
            r#"{"error": "token missing"}"#.into(),
        );
    }
    let parsed: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return reply(StatusCode::BAD_REQUEST, format!(r#"{{"error": "{e}"}}"#)),
    };
    let (Some(_), Some(amt)) = (parsed["txnRef"].as_str(), parsed["amt"].as_f64()) else {
        return reply(StatusCode::BAD_REQUEST, r#"{"error": "schema"}"#.into());
    };
    authorized.fetch_add(1, Ordering::Relaxed);
    let (action, p) = if amt > 100.0 {
        ("BLOCK", 0.91)
    } else {
        ("ALLOW", 0.07)
    };
    reply(
        StatusCode::OK,
        format!(r#"{{"result": {{"action": "{action}"}}, "fraudProbability": {p}}}"#),
    )
}

impl Api {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let authorized = Arc::new(AtomicU64::new(0));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/v2/assess", listener.local_addr().unwrap());
        let counted = authorized.clone();
        // Serves until the runtime is dropped with the test.
        runtime.spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let counted = counted.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, counted.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), service)
                        .await;
                });
            }
        });
        Self {
            url,
            authorized,
            runtime,
        }
    }
}

fn temp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("stress-runner-probe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The body template of the test API's schema.
fn body_template(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("body.json");
    std::fs::write(
        &path,
        r#"{"txnRef": {{id}}, "amt": {{amount}}, "ccy": {{currency}}}"#,
    )
    .unwrap();
    path
}

fn probe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stress-runner"))
        .arg("probe")
        .args(args)
        .env("ACME_API_TOKEN", TOKEN)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_mapped_probe_exits_0_and_shows_request_answer_and_verdict_but_never_the_secret() {
    let api = Api::start();
    let dir = temp("mapped");
    let body = body_template(&dir);
    let key_header = format!("X-Api-Key: {API_KEY}");
    let o = probe(&[
        "--target",
        &api.url,
        "--header",
        "Authorization: Bearer ${ACME_API_TOKEN}",
        "--header",
        &key_header,
        "--body-template",
        body.to_str().unwrap(),
        "--decision-pointer",
        "/result/action",
        "--score-pointer",
        "/fraudProbability",
        "--decision-map",
        "ALLOW=approve,CHALLENGE=review,BLOCK=decline",
        "--count",
        "4",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(api.authorized.load(Ordering::Relaxed), 4, "{out}");
    for secret in [TOKEN, API_KEY] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{out}\n{err}"
        );
    }
    for shown in [
        &format!("request  POST {}", api.url)[..],
        "authorization: Bearer ${ACME_API_TOKEN}",
        "x-api-key: ***",
        "content-type: application/json",
        r#"body     {"txnRef": "txn_"#,
        "status   200",
        r#"answer   {"result": {"action": "ALLOW"}, "fraudProbability": 0.07}"#,
        "verdict  approve, score 0.07",
        "latency  ",
        "#4 of 4: txn_",
        "every answer mapped to a verdict (4 of 4)",
    ] {
        assert!(out.contains(shown), "{shown:?} in\n{out}");
    }
    // The same from a scenario file, with the seed flag.
    let scenario = dir.join("api.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name = "probe-test"
seed = 7
[load]
[[load.stages]]
shape = "sustained"
tps = 10.0
duration = "10s"
[target]
kind = "http"
url = "{}"
body = '{{"txnRef": {{{{id}}}}, "amt": {{{{amount}}}}}}'
[target.headers]
Authorization = "Bearer ${{ACME_API_TOKEN}}"
X-Api-Key = "{API_KEY}"
[target.response]
decision = "/result/action"
score = "/fraudProbability"
[target.response.decisions]
ALLOW = "approve"
BLOCK = "decline"
"#,
            api.url
        ),
    )
    .unwrap();
    let o = probe(&["--scenario", scenario.to_str().unwrap(), "--count", "2"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("(seed 7)") && out.contains("(2 of 2)"),
        "{out}"
    );
    assert!(!out.contains(API_KEY), "{out}");
    drop(api.runtime);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn answers_without_a_mapping_for_their_words_exit_1_and_say_why() {
    let api = Api::start();
    let dir = temp("unmapped");
    let body = body_template(&dir);
    let key_header = format!("X-Api-Key: {API_KEY}");
    let o = probe(&[
        "--target",
        &api.url,
        "--header",
        "Authorization: Bearer ${ACME_API_TOKEN}",
        "--header",
        &key_header,
        "--body-template",
        body.to_str().unwrap(),
        "--decision-pointer",
        "/result/action",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("status   200"), "{out}");
    assert!(out.contains("verdict  none (malformed)"), "{out}");
    assert!(out.contains("ALLOW"), "the word the API said: {out}");
    assert!(out.contains("did not map to a verdict"), "{out}");

    // Without the token: every answer is a 401, shown with what the API said.
    let o = probe(&["--target", &api.url, "--count", "1"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("status   401"), "{out}");
    assert!(out.contains(r#"{"error": "token missing"}"#), "{out}");
    assert!(out.contains("verdict  none (auth)"), "{out}");
    drop(api.runtime);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configuration_errors_exit_2_before_anything_is_sent() {
    // Off loopback without --allow-remote (TEST-NET-1: nothing is ever sent there).
    let o = probe(&["--target", "http://192.0.2.1/v2/assess"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("--allow-remote"), "{err}");
    // A flag that does not exist, and a count out of range.
    let o = probe(&["--target", "http://127.0.0.1:9/x", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--bogus"), "{}", text(&o).1);
    let o = probe(&["--target", "http://127.0.0.1:9/x", "--count", "0"]);
    assert_eq!(o.status.code(), Some(2));
    // Nothing to probe, or the built-in target.
    let o = probe(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--target URL"), "{}", text(&o).1);
    let o = probe(&["--target", "builtin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("HTTP API"), "{}", text(&o).1);
    // An unset variable in a header.
    let o = probe(&[
        "--target",
        "http://127.0.0.1:9/x",
        "--header",
        "Authorization: Bearer ${PROBE_TEST_SURELY_UNSET}",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("PROBE_TEST_SURELY_UNSET"),
        "{}",
        text(&o).1
    );
}

/// An `https://` API whose first TLS connection fails (the port speaks plain HTTP) is a
/// configuration error with the reason, as for `run`.
#[test]
fn a_tls_failure_on_the_first_connection_exits_2_with_the_reason() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Detached: it answers every connection in plain HTTP until the test process ends.
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            let mut hello = [0u8; 512];
            let _ = sock.read(&mut hello);
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let url = format!("https://127.0.0.1:{port}/v2/assess");
    let o = probe(&["--target", &url, "--server-name", "localhost"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("no load was sent") && err.contains("http://"),
        "{err}"
    );
}

//! Faults against an `https://` target: the fault proxy reaches the upstream over TLS with the
//! target's `[target.tls]` (a private CA made here by rcgen), and a wrong CA is refused before any
//! load instead of turning into a run of 502s.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use models::{ErrorKind, Stage, TargetKind};
use orchestrator::{OrchestratorError, RunOptions, StressTestOrchestrator};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-proxy-https-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A private CA in `dir/ca.pem`, and a server certificate for 127.0.0.1 signed by it.
fn certificates(dir: &std::path::Path) -> (PathBuf, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    let name = format!("{} test CA", dir.display());
    ca.distinguished_name.push(DnType::CommonName, name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (ca_file, config)
}

/// Answers every request with a decline over HTTPS; connection tasks end with the server task.
async fn https_api(config: rustls::ServerConfig) -> (String, tokio::task::JoinHandle<()>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/v1/score", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            conns.spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        br#"{"decision":"decline","risk_score":0.9}"#,
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, task)
}

fn spec(url: String, ca_file: PathBuf) -> models::ScenarioSpec {
    let mut spec = orchestrator::timeline::plain(300.0, Duration::from_secs(3)).unwrap();
    spec.target.kind = TargetKind::Http;
    spec.target.url = Some(url);
    spec.target.tls.ca_file = Some(ca_file);
    spec.load.stages = vec![Stage::Sustained {
        tps: 300.0,
        duration: Duration::from_secs(3),
        name: None,
    }];
    let mut fault =
        failure_injection::parse_fault_flag("http-error:status=429,p=0.3,at=0s,for=3s").unwrap();
    fault.at = Duration::ZERO;
    spec.faults = vec![fault];
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_proxy_reaches_an_https_upstream_with_the_targets_tls() {
    let dir = temp_dir("ok");
    let (ca_file, config) = certificates(&dir);
    let (url, server) = https_api(config).await;
    let outcome = StressTestOrchestrator::new(
        spec(url, ca_file),
        RunOptions {
            out_dir: Some(dir.join("run")),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .run()
    .await
    .unwrap();
    let s = &outcome.summary;
    let n429 = s
        .errors
        .by_kind
        .get(&ErrorKind::Http429)
        .copied()
        .unwrap_or(0);
    let share = n429 as f64 / s.load.completed.max(1) as f64;
    assert!(
        (share - 0.3).abs() <= 0.05,
        "429 share {share:.3} of {}; errors {:?}",
        s.load.completed,
        s.errors
    );
    // Everything else went through to the API over TLS and came back a verdict.
    assert_eq!(s.errors.total, n429, "{:?}", s.errors);
    assert!(s.load.completed >= 800, "{:?}", s.load);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_refused_before_the_proxy_sends_anything() {
    let dir = temp_dir("wrong-ca");
    let (_, config) = certificates(&dir);
    let other = temp_dir("other-ca");
    let (wrong_ca, _) = certificates(&other);
    let (url, server) = https_api(config).await;
    let err = StressTestOrchestrator::new(
        spec(url, wrong_ca),
        RunOptions {
            out_dir: Some(dir.join("run")),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .run()
    .await
    .expect_err("a certificate from another CA");
    assert!(matches!(err, OrchestratorError::TargetTls { .. }), "{err}");
    assert!(err.to_string().contains("ca_file"), "{err}");
    server.abort();
}

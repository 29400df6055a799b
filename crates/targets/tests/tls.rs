//! `HttpTarget` over `https://` against a small rustls + hyper server on 127.0.0.1, with
//! certificates made here by rcgen: a private CA, server certificates good, expired and for the
//! wrong name, and client certificates for mutual TLS. Every TLS failure must come back as a typed
//! `tls` error whose reason says what to change.

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use models::{
    CardId, Channel, CountryCode, Currency, CustomerId, Decision, ErrorKind, Http2Mode, MerchantId,
    Timestamp, TlsSpec, Transaction, TxnId,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use targets::{HttpTarget, HttpTargetConfig, Target, TargetConfigError, TargetError};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

fn txn() -> Transaction {
    Transaction {
        id: TxnId(1),
        timestamp: Timestamp::from_secs(1_767_225_600),
        amount_minor: 5_000,
        currency: Currency::EUR,
        card_id: CardId(1),
        customer_id: CustomerId(1),
        merchant_id: MerchantId(1),
        merchant_name: Cow::Borrowed("Shop"),
        mcc: 5411,
        channel: Channel::Ecommerce,
        country: CountryCode::new("DE"),
        lat: 52.5,
        lon: 13.4,
        device_id: None,
        ip: None,
    }
}

/// A certificate authority made for one test, and the PEM files it wrote.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert: CertificateDer<'static>,
    dir: PathBuf,
}

/// A certificate and its key, as DER for the server and as PEM files for the client settings.
struct Leaf {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    cert_file: PathBuf,
    key_file: PathBuf,
}

fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fraudstress-tls-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Ca {
    fn new(name: &str) -> Self {
        let dir = temp_dir(name);
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.join("ca.pem"), cert.pem()).unwrap();
        Self {
            issuer: Issuer::new(params, key),
            cert: cert.der().clone(),
            dir,
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A certificate for `names` (DNS names or IP addresses), valid from `not_before` to `not_after`.
    fn leaf(
        &self,
        file: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        valid: (time::OffsetDateTime, time::OffsetDateTime),
    ) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![usage];
        (params.not_before, params.not_after) = valid;
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.dir.join(format!("{file}.pem"));
        let key_file = self.dir.join(format!("{file}.key"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_file,
            key_file,
        }
    }

    fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(
            "server",
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            valid_now(),
        )
    }

    fn client(&self) -> Leaf {
        self.leaf(
            "client",
            &["client.test"],
            ExtendedKeyUsagePurpose::ClientAuth,
            valid_now(),
        )
    }
}

fn valid_now() -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (
        now - time::Duration::days(1),
        now + time::Duration::days(30),
    )
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// What the test server saw: TLS handshakes in progress now and at most, and done (one per TCP
/// connection that got through TLS); requests, and those that came over HTTP/2 with `:authority`.
#[derive(Default)]
struct Handshakes {
    now: AtomicUsize,
    most: AtomicUsize,
    done: AtomicUsize,
    requests: AtomicUsize,
    h2_requests: AtomicUsize,
    /// Connections the client closed (h2c server only).
    closed: AtomicUsize,
}

/// How the test server speaks: the protocols it offers by ALPN (HTTP/2 on a connection where it
/// chose `h2`, HTTP/1.1 otherwise) and how long it takes to answer.
#[derive(Clone, Copy, Default)]
struct Serving {
    alpn: &'static [&'static [u8]],
    delay: Duration,
}

/// Both protocols, `h2` preferred, as most HTTP/2 servers are set up.
const H2_AND_H1: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Serves a verdict over TLS with `leaf`; with `client_ca`, a client certificate signed by it is
/// required. Connection tasks live in the server task's JoinSet, so they end with it.
async fn tls_server(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
) -> (
    SocketAddr,
    Arc<Handshakes>,
    tokio::task::JoinHandle<Infallible>,
) {
    tls_server_with(leaf, client_ca, Serving::default()).await
}

/// Answers every request with a verdict after `delay`, counting it in `seen`.
async fn answer(
    req: Request<hyper::body::Incoming>,
    seen: Arc<Handshakes>,
    delay: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    if req.version() == Version::HTTP_2 && req.uri().authority().is_some() {
        seen.h2_requests.fetch_add(1, Ordering::SeqCst);
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(
        br#"{"decision":"decline","risk_score":0.9}"#,
    ))))
}

async fn tls_server_with(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    serving: Serving,
) -> (
    SocketAddr,
    Arc<Handshakes>,
    tokio::task::JoinHandle<Infallible>,
) {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.cert.clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(vec![leaf.cert.clone()], leaf.key.clone_key())
        .unwrap();
    config.alpn_protocols = serving.alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Handshakes::default());
    let counts = seen.clone();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let counts = counts.clone();
            conns.spawn(async move {
                let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
                counts.most.fetch_max(now, Ordering::SeqCst);
                let accepted = acceptor.accept(stream).await;
                counts.now.fetch_sub(1, Ordering::SeqCst);
                let Ok(tls) = accepted else { return };
                counts.done.fetch_add(1, Ordering::SeqCst);
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = service_fn(move |req| answer(req, counts.clone(), serving.delay));
                if h2 {
                    let _ = http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                } else {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                }
            });
        }
    });
    (addr, seen, task)
}

fn target(url: String, tls: TlsSpec) -> Result<HttpTarget, TargetConfigError> {
    HttpTarget::new(HttpTargetConfig {
        url,
        tls,
        timeout: Duration::from_secs(10),
        ..HttpTargetConfig::default()
    })
}

fn trusting(ca: &Ca) -> TlsSpec {
    TlsSpec {
        ca_file: Some(ca.ca_file()),
        ..TlsSpec::default()
    }
}

/// The reason of the first `tls` error the target kept among its samples.
fn first_tls_reason(target: &HttpTarget) -> Option<String> {
    let samples = target.error_samples().by_kind();
    samples
        .get(&ErrorKind::Tls)
        .and_then(|kept| kept.first())
        .map(|s| s.reason.clone())
}

/// Scores once and expects a `tls` error; returns its reason.
async fn tls_error(target: &HttpTarget) -> String {
    let err = target.score(&txn()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    let TargetError::Tls { reason } = err else {
        unreachable!()
    };
    assert!(first_tls_reason(target).is_some_and(|r| r.contains(&reason)));
    reason
}

#[tokio::test]
async fn a_private_ca_given_as_ca_file_is_trusted() {
    let ca = Ca::new("private");
    let (addr, _, _server) = tls_server(&ca.server(&["localhost"]), None).await;
    let t = target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
    )
    .unwrap();
    assert!(t.is_tls());
    assert_eq!(t.protocol(), None, "no connection yet");
    let v = t.score(&txn()).await.unwrap();
    // A server that offers nothing by ALPN speaks HTTP/1.1 (on the default engine).
    assert_eq!(t.protocol(), Some("HTTP/1.1 (lean engine)"));
    assert_eq!(v.decision, Decision::Decline);
    // The second request reuses the keep-alive connection: one handshake in all.
    t.score(&txn()).await.unwrap();
    let stats = t.connect_stats();
    assert_eq!((stats.opened, stats.failed), (1, 0));
    assert!(stats.slowest > Duration::ZERO && stats.total == stats.slowest);
    assert!(first_tls_reason(&t).is_none());
}

#[tokio::test]
async fn an_unknown_ca_is_a_tls_error_that_names_ca_file() {
    let ca = Ca::new("unknown");
    let other = Ca::new("other");
    let (addr, _, _server) = tls_server(&ca.server(&["localhost"]), None).await;
    let t = target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&other),
    )
    .unwrap();
    let reason = tls_error(&t).await;
    assert!(
        reason.contains("ca_file") && reason.contains("UnknownIssuer"),
        "{reason}"
    );
    assert_eq!(t.connect_stats().failed, 1);
    // The pre-flight check reports the same.
    let err = t.check_connection().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn a_name_mismatch_is_a_tls_error_that_names_server_name() {
    let ca = Ca::new("mismatch");
    let (addr, _, _server) = tls_server(&ca.server(&["fraud.internal"]), None).await;
    let t = target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
    )
    .unwrap();
    let reason = tls_error(&t).await;
    assert!(
        reason.contains("server_name") && reason.contains("\"localhost\""),
        "{reason}"
    );
}

#[tokio::test]
async fn server_name_overrides_the_ip_in_the_url() {
    let ca = Ca::new("sni");
    let (addr, _, _server) = tls_server(&ca.server(&["fraud.internal"]), None).await;
    let url = format!("https://127.0.0.1:{}/v1/score", addr.port());
    // By IP alone the certificate does not match ...
    let by_ip = target(url.clone(), trusting(&ca)).unwrap();
    let reason = tls_error(&by_ip).await;
    assert!(reason.contains("127.0.0.1"), "{reason}");
    // ... with the name it holds, it does.
    let named = target(
        url,
        TlsSpec {
            server_name: Some("fraud.internal".into()),
            ..trusting(&ca)
        },
    )
    .unwrap();
    assert_eq!(
        named.score(&txn()).await.unwrap().decision,
        Decision::Decline
    );
}

#[tokio::test]
async fn an_expired_certificate_is_a_tls_error_that_says_so() {
    let ca = Ca::new("expired");
    let now = time::OffsetDateTime::now_utc();
    let leaf = ca.leaf(
        "server",
        &["localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
        (
            now - time::Duration::days(60),
            now - time::Duration::days(30),
        ),
    );
    let (addr, _, _server) = tls_server(&leaf, None).await;
    let t = target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
    )
    .unwrap();
    let reason = tls_error(&t).await;
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn mutual_tls_works_with_a_client_certificate_and_fails_clearly_without() {
    let ca = Ca::new("mtls");
    let (addr, _, _server) = tls_server(&ca.server(&["localhost"]), Some(&ca)).await;
    let url = format!("https://localhost:{}/v1/score", addr.port());
    let client = ca.client();
    let with = target(
        url.clone(),
        TlsSpec {
            client_cert: Some(client.cert_file.clone()),
            client_key: Some(client.key_file.clone()),
            ..trusting(&ca)
        },
    )
    .unwrap();
    with.check_connection().await.unwrap();
    assert_eq!(
        with.score(&txn()).await.unwrap().decision,
        Decision::Decline
    );
    assert_eq!(
        with.connect_stats().opened,
        1,
        "the pre-flight connection is reused"
    );

    // TLS 1.3 reports a missing client certificate after the handshake, on the first exchange: the
    // pre-flight check sends one so that it shows before any load.
    let without = target(url.clone(), trusting(&ca)).unwrap();
    let err = without.check_connection().await.unwrap_err();
    let TargetError::Tls { reason } = err else {
        panic!("expected a tls error, got {err}")
    };
    assert!(reason.contains("client_cert"), "{reason}");
    assert!(first_tls_reason(&without).is_some_and(|r| r.contains(&reason)));
    let reason = tls_error(&without).await;
    assert!(reason.contains("client_cert"), "{reason}");

    // A certificate from another CA is refused the same way.
    let stranger = Ca::new("stranger").client();
    let wrong = target(
        url,
        TlsSpec {
            client_cert: Some(stranger.cert_file),
            client_key: Some(stranger.key_file),
            ..trusting(&ca)
        },
    )
    .unwrap();
    let err = wrong.check_connection().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

#[test]
fn bad_tls_files_are_configuration_errors_naming_the_setting() {
    let ca = Ca::new("files");
    let client = ca.client();
    let url = "https://127.0.0.1:9/v1/score".to_owned();
    let field = |tls: TlsSpec| match target(url.clone(), tls).unwrap_err() {
        TargetConfigError::InvalidSetting { field, reason } => (field, reason),
        other => panic!("expected an invalid setting, got {other}"),
    };
    let not_pem = ca.dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let (f, reason) = field(TlsSpec {
        ca_file: Some(not_pem.clone()),
        ..TlsSpec::default()
    });
    assert_eq!(f, "tls.ca_file");
    assert!(reason.contains(&not_pem.display().to_string()), "{reason}");
    // A key that is not the certificate's.
    let other = ca.server(&["localhost"]);
    let (f, reason) = field(TlsSpec {
        client_cert: Some(client.cert_file.clone()),
        client_key: Some(other.key_file.clone()),
        ..trusting(&ca)
    });
    assert_eq!(f, "tls.client_key", "{reason}");
    let (f, _) = field(TlsSpec {
        client_cert: Some(client.cert_file.clone()),
        client_key: Some(Path::new("/nonexistent.key").into()),
        ..trusting(&ca)
    });
    assert_eq!(f, "tls.client_key");
}

#[test]
fn the_loopback_guard_applies_to_https() {
    let err = target("https://10.0.0.1/v1/score".into(), TlsSpec::default()).unwrap_err();
    assert!(
        matches!(err, TargetConfigError::RemoteRefused { .. }),
        "{err}"
    );
    let err = target("ftp://127.0.0.1/x".into(), TlsSpec::default()).unwrap_err();
    assert!(err.to_string().contains("https://"), "{err}");
}

/// Opening a cold pool is paced: the server never sees more handshakes at once than the client's
/// bound allows (its side of a handshake ends a little after the client's, hence the factor 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_pool_opens_with_paced_handshakes() {
    const CONNECTIONS: usize = 256;
    const AT_ONCE: usize = 8;
    let ca = Ca::new("pacing");
    let (addr, seen, _server) = tls_server(&ca.server(&["localhost"]), None).await;
    let t = HttpTarget::new(HttpTargetConfig {
        url: format!("https://localhost:{}/v1/score", addr.port()),
        tls: trusting(&ca),
        connections: CONNECTIONS,
        max_handshakes: AT_ONCE,
        timeout: Duration::from_secs(30),
        ..HttpTargetConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    assert_eq!(t.open_connections(CONNECTIONS).await.unwrap(), CONNECTIONS);
    let took = started.elapsed();
    let stats = t.connect_stats();
    assert_eq!(stats.opened as usize, CONNECTIONS);
    let most = seen.most.load(Ordering::SeqCst);
    assert!(
        (1..=2 * AT_ONCE).contains(&most),
        "{most} handshakes at once"
    );
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{CONNECTIONS} TLS connections, {AT_ONCE} at once: {took:?} in all, slowest {:?}, mean {:?}, server saw at most {most} at once",
            stats.slowest,
            stats.total / CONNECTIONS as u32
        );
    }
    // Requests after the warm-up open nothing more.
    t.score(&txn()).await.unwrap();
    assert_eq!(t.connect_stats().opened as usize, CONNECTIONS);
}

/// A TLS 1.3 server sends session tickets after the handshake, so a warm idle connection has
/// records waiting that are TLS's own: the default (lean) engine must take them in and reuse the
/// connection, not take them for stray bytes and open a new one (which threw away every warm
/// connection of a pool).
#[tokio::test]
async fn warm_tls_connections_with_session_tickets_waiting_are_reused() {
    const CONNECTIONS: usize = 4;
    let ca = Ca::new("tickets");
    let (addr, _seen, _server) = tls_server(&ca.server(&["localhost"]), None).await;
    let t = HttpTarget::new(HttpTargetConfig {
        url: format!("https://localhost:{}/v1/score", addr.port()),
        tls: trusting(&ca),
        connections: CONNECTIONS,
        ..HttpTargetConfig::default()
    })
    .unwrap();
    assert_eq!(t.engine(), models::HttpEngine::Lean);
    assert_eq!(t.open_connections(CONNECTIONS).await.unwrap(), CONNECTIONS);
    // Real time, for the tickets to cross loopback (microseconds; 100 ms is ample).
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..4 * CONNECTIONS {
        assert_eq!(t.score(&txn()).await.unwrap().decision, Decision::Decline);
    }
    assert_eq!(t.connect_stats().opened as usize, CONNECTIONS);
}

fn h2_target(url: String, tls: TlsSpec, http2: Http2Mode, connections: usize) -> HttpTarget {
    HttpTarget::new(HttpTargetConfig {
        url,
        tls,
        http2,
        connections,
        timeout: Duration::from_secs(30),
        ..HttpTargetConfig::default()
    })
    .unwrap()
}

/// `auto` speaks HTTP/2 when the server chooses it, and multiplexes: 200 requests at once with
/// `connections = 200` share two connections (one per 100 in flight), every one answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_negotiates_http2_and_shares_few_connections() {
    const REQUESTS: usize = 200;
    let ca = Ca::new("h2-auto");
    let serving = Serving {
        alpn: H2_AND_H1,
        // Long enough that all 200 are in flight together.
        delay: Duration::from_millis(200),
    };
    let (addr, seen, _server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
    let t = h2_target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
        Http2Mode::Auto,
        REQUESTS,
    );
    let txn = txn();
    let verdicts = futures_util::future::join_all((0..REQUESTS).map(|_| t.score(&txn))).await;
    for v in &verdicts {
        assert_eq!(v.as_ref().unwrap().decision, Decision::Decline);
    }
    assert_eq!(t.protocol(), Some("HTTP/2"));
    assert_eq!(seen.requests.load(Ordering::SeqCst), REQUESTS);
    assert_eq!(
        seen.h2_requests.load(Ordering::SeqCst),
        REQUESTS,
        "every request over HTTP/2, with :authority"
    );
    let connections = seen.done.load(Ordering::SeqCst);
    assert!((1..=2).contains(&connections), "{connections} connections");
    let stats = t.connect_stats();
    assert_eq!((stats.opened as usize, stats.failed), (connections, 0));
    // The pre-flight check and a warm-up add nothing once both shared connections are open.
    t.check_connection().await.unwrap();
    assert_eq!(t.open_connections(REQUESTS).await.unwrap(), 0);
    assert!(t.score(&txn).await.is_ok());
}

/// A cold HTTP/2 pool warms up to its shared connections only, whatever count is asked for.
#[tokio::test]
async fn warming_an_http2_pool_opens_its_shared_connections() {
    let ca = Ca::new("h2-warm");
    let serving = Serving {
        alpn: H2_AND_H1,
        ..Serving::default()
    };
    let (addr, seen, _server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
    let t = h2_target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
        Http2Mode::Auto,
        250,
    );
    assert_eq!(t.open_connections(1_000).await.unwrap(), 3);
    assert_eq!(t.protocol(), Some("HTTP/2"));
    assert_eq!(t.connect_stats().opened, 3);
    assert!(t.score(&txn()).await.is_ok());
    assert_eq!(t.connect_stats().opened, 3, "the warm connections are used");
    // The server counts a handshake a moment after the client has finished it.
    assert!(seen.done.load(Ordering::SeqCst) <= 3);
}

#[tokio::test]
async fn never_keeps_http1_with_a_server_that_offers_http2() {
    let ca = Ca::new("h2-never");
    let serving = Serving {
        alpn: H2_AND_H1,
        ..Serving::default()
    };
    let (addr, seen, _server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
    let t = h2_target(
        format!("https://localhost:{}/v1/score", addr.port()),
        trusting(&ca),
        Http2Mode::Never,
        8,
    );
    t.check_connection().await.unwrap();
    assert_eq!(t.protocol(), Some("HTTP/1.1 (lean engine)"));
    assert_eq!(t.score(&txn()).await.unwrap().decision, Decision::Decline);
    assert_eq!(seen.h2_requests.load(Ordering::SeqCst), 0);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
}

/// `always` with a server that will not speak HTTP/2 is a `tls` error that says to change `http2`,
/// whether the server ignores ALPN or refuses the offer.
#[tokio::test]
async fn always_against_an_http1_server_is_a_tls_error_naming_http2() {
    let ca = Ca::new("h2-always");
    const HTTP1_ONLY: &[&[u8]] = &[b"http/1.1"];
    for alpn in [&[][..], HTTP1_ONLY] {
        let serving = Serving {
            alpn,
            ..Serving::default()
        };
        let (addr, _, _server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
        let t = h2_target(
            format!("https://localhost:{}/v1/score", addr.port()),
            trusting(&ca),
            Http2Mode::Always,
            8,
        );
        let reason = tls_error(&t).await;
        assert!(
            reason.contains("`http2` to \"auto\"") && reason.contains("ALPN"),
            "{reason}"
        );
        let err = t.check_connection().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
        assert_eq!(t.protocol(), None);
    }
}

/// `always` over `http://` is HTTP/2 with prior knowledge (h2c).
#[tokio::test]
async fn always_over_plain_http_is_h2c() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Handshakes::default());
    let counts = seen.clone();
    let _server = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counts.done.fetch_add(1, Ordering::SeqCst);
            let counts = counts.clone();
            conns.spawn(async move {
                let seen = counts.clone();
                let service = service_fn(move |req| answer(req, seen.clone(), Duration::ZERO));
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                counts.closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let url = format!("http://127.0.0.1:{}/v1/score", addr.port());
    let t = h2_target(url.clone(), TlsSpec::default(), Http2Mode::Always, 16);
    assert!(!t.is_tls());
    let txn = txn();
    let verdicts = futures_util::future::join_all((0..16).map(|_| t.score(&txn))).await;
    assert!(verdicts.iter().all(|v| v.is_ok()), "{verdicts:?}");
    assert_eq!(t.protocol(), Some("HTTP/2"));
    assert_eq!(seen.h2_requests.load(Ordering::SeqCst), 16);
    assert_eq!(seen.done.load(Ordering::SeqCst), 1);
    // The connection's tasks belong to the target: dropping it closes the connection.
    drop(t);
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.closed.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.closed.load(Ordering::SeqCst), 1);
    // `auto` over http:// is HTTP/1.1, which this server does not speak: an error (hyper's client
    // reports the connection, the lean engine the answer that is not HTTP/1.1).
    let auto = h2_target(url, TlsSpec::default(), Http2Mode::Auto, 1);
    let err = auto.score(&txn).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Connection | ErrorKind::Malformed),
        "{err}"
    );
    assert_eq!(auto.protocol(), Some("HTTP/1.1 (lean engine)"));
}

/// A shared HTTP/2 connection that the server closes is replaced on the next request.
#[tokio::test]
async fn a_closed_http2_connection_is_replaced() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Handshakes::default());
    let counts = seen.clone();
    // Each connection serves one request, then the server closes it (GOAWAY, then the socket).
    let _server = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counts.done.fetch_add(1, Ordering::SeqCst);
            let counts = counts.clone();
            conns.spawn(async move {
                let served = Arc::new(tokio::sync::Notify::new());
                let notify = served.clone();
                let service = service_fn(move |req| {
                    let notify = notify.clone();
                    let counts = counts.clone();
                    async move {
                        let answered = answer(req, counts, Duration::ZERO).await;
                        notify.notify_one();
                        answered
                    }
                });
                let conn = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    () = served.notified() => {}
                }
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            });
        }
    });
    let t = h2_target(
        format!("http://127.0.0.1:{}/v1/score", addr.port()),
        TlsSpec::default(),
        Http2Mode::Always,
        4,
    );
    for round in 1..=3 {
        // The server's GOAWAY may still be on its way when the next request starts: that request
        // may fail, the one after it opens a new connection.
        let mut answered = t.score(&txn()).await.is_ok();
        if !answered {
            tokio::time::sleep(Duration::from_millis(50)).await;
            answered = t.score(&txn()).await.is_ok();
        }
        assert!(answered, "round {round}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.done.load(Ordering::SeqCst) >= 3);
    assert_eq!(seen.h2_requests.load(Ordering::SeqCst), 3);
}

/// The lean engine over TLS: HTTP/1.1 by ALPN (or no ALPN) goes through it, keep-alive, one
/// handshake for many requests; a server that chooses `h2` gets hyper's HTTP/2 all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lean_engine_speaks_http1_over_tls_and_leaves_http2_to_hyper() {
    let lean = |url: String, ca: &Ca| {
        HttpTarget::new(HttpTargetConfig {
            url,
            tls: trusting(ca),
            connections: 4,
            timeout: Duration::from_secs(30),
            engine: models::HttpEngine::Lean,
            ..HttpTargetConfig::default()
        })
        .unwrap()
    };
    let ca = Ca::new("lean-tls");
    const H1_ONLY: &[&[u8]] = &[b"http/1.1"];
    for alpn in [&[][..], H1_ONLY] {
        let serving = Serving {
            alpn,
            ..Serving::default()
        };
        let (addr, seen, server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
        let t = lean(format!("https://localhost:{}/v1/score", addr.port()), &ca);
        t.check_connection().await.unwrap();
        assert_eq!(t.protocol(), Some("HTTP/1.1 (lean engine)"));
        let txn = txn();
        let verdicts = futures_util::future::join_all((0..40).map(|_| t.score(&txn))).await;
        for v in &verdicts {
            assert_eq!(v.as_ref().unwrap().decision, Decision::Decline);
        }
        assert_eq!(seen.requests.load(Ordering::SeqCst), 41);
        assert!(t.connect_stats().opened <= 4, "{:?}", t.connect_stats());
        server.abort();
    }
    let serving = Serving {
        alpn: H2_AND_H1,
        ..Serving::default()
    };
    let (addr, seen, _server) = tls_server_with(&ca.server(&["localhost"]), None, serving).await;
    let t = lean(format!("https://localhost:{}/v1/score", addr.port()), &ca);
    assert_eq!(t.score(&txn()).await.unwrap().decision, Decision::Decline);
    assert_eq!(t.protocol(), Some("HTTP/2"));
    assert_eq!(seen.h2_requests.load(Ordering::SeqCst), 1);
}

//! The system under test, as the load driver sees it: the async [`Target`] trait and its implementations
//! (an HTTP endpoint over a keep-alive connection pool, and a closure for embedders). The built-in
//! reference service implements it in the `fraud-sim` crate.
//!
//! [`HttpTarget`] refuses hosts that are not loopback (127.0.0.0/8, `::1`, `localhost`) unless
//! `allow_remote` is set, the `--allow-remote` flag of the command line; see [`check_loopback`].
//!
//! `https://` URLs go through rustls with the aws-lc-rs provider (the AWS SDK's, so no OpenSSL and
//! no second crypto build), configured by [`models::TlsSpec`] (`[target.tls]` in scenario files):
//! `ca_file` for a private CA, `client_cert` + `client_key` for mutual TLS, `server_name` when the
//! URL names an IP. The trusted roots are the platform's (rustls-native-certs), not webpki-roots'
//! fixed Mozilla list: a team's API is often signed by a company CA that its machines already trust
//! through the system store. A TLS failure is a [`TargetError::Tls`] (counted as `tls`) whose reason
//! says what to change; [`HttpTarget::check_connection`] finds one before any load. Connections are
//! opened at most `max_handshakes` at a time, and their opening time is counted apart from request
//! latency ([`HttpTarget::connect_stats`]); [`HttpTarget::open_connections`] warms a pool up front.
//!
//! [`LeanConn`] is the load path's HTTP/1.1 engine (`engine = "lean"`, the default): a pre-encoded
//! [`RequestHead`], one write per request, answers parsed by `httparse` into reused buffers, no
//! system call beyond the write and the read for a connection in steady use; see its module. The
//! default body (the transaction's JSON) is written field by field, byte for byte what serde would
//! write (`wire`).
//!
//! [`MetricsScraper`] reads the target's own CPU, memory and named gauges from its Prometheus
//! endpoint (`[target] metrics_url`) at each tick.
//!
//! HTTP/2 ([`models::Http2Mode`], `http2` in `[target]`): with `auto` an `https://` target offers `h2`
//! and `http/1.1` by ALPN and speaks what the server chooses; `always` requires HTTP/2 (h2c over
//! `http://`), `never` keeps HTTP/1.1. HTTP/2 requests share one connection per 100 in flight, still
//! bounded by `connections`; [`HttpTarget::protocol`] says which protocol was negotiated.
//!
//! [`HttpTarget::probe`] is a dry run of one transaction: the same request and answer mapping as a
//! run, with the request as sent (secret header values masked), the status, the raw answer and the
//! verdict or why there is none kept in a [`ProbeExchange`] (`stress-runner probe`).
//!
//! ```
//! use targets::{FnTarget, Target};
//! use models::{Decision, Verdict};
//! # async fn demo(txn: &models::Transaction) {
//! let target = FnTarget::new(|_txn| async {
//!     Ok(Verdict { decision: Decision::Approve, risk_score: 0.1, reasons: vec![], agents: vec![] })
//! });
//! let verdict = target.score(txn).await.unwrap();
//! assert_eq!(verdict.decision, Decision::Approve);
//! # }
//! ```
//!
//! ```
//! use targets::{HttpTarget, HttpTargetConfig};
//! let config = HttpTargetConfig { url: "http://10.0.0.1/v1/score".into(), ..Default::default() };
//! let err = HttpTarget::new(config).unwrap_err();
//! assert!(err.to_string().contains("`allow_remote`"));
//! ```

mod answer;
mod closure;
mod endpoint;
mod error;
mod guard;
mod http;
mod lean;
mod pool;
mod probe;
mod samples;
mod scrape;
mod stream;
mod template;
mod tls;
mod wire;

pub use answer::{ResponseMapping, parse_decision_map};
pub use closure::FnTarget;
pub use error::{TargetConfigError, TargetError};
pub use guard::{check_loopback, is_loopback_host};
pub use http::{
    ConnectStats, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_HANDSHAKES, HttpTarget, HttpTargetConfig,
};
pub use lean::{LeanConn, MAX_HEAD_BYTES, MAX_HEADERS, RequestHead};
pub use probe::{ProbeExchange, ProbeRequest};
pub use samples::ErrorSamples;
pub use scrape::{MAX_METRICS_BYTES, MetricsScraper, ScrapeError, TargetReading};
pub use template::{
    BodyTemplate, DEFAULT_CONTENT_TYPE, TRANSACTION_PLACEHOLDER, is_json, placeholder_names,
};
pub use tls::client_config as tls_client_config;

use async_trait::async_trait;
use models::{TargetInfo, Transaction, Verdict};

/// A system that scores transactions. Implementations must be cheap to share across tasks (`Arc`).
#[async_trait]
pub trait Target: Send + Sync + 'static {
    /// Scores one transaction. Every failure is a typed [`TargetError`], never a panic.
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError>;

    /// What to print in reports (`kind`, and `url` where there is one).
    fn info(&self) -> TargetInfo;

    /// This target as an [`HttpTarget`], so that a caller on the hot path (the load driver's lane)
    /// can score through [`HttpTarget::score_unboxed`] without the boxed future that a call through
    /// `dyn Target` allocates. Only `HttpTarget` answers `Some`: a wrapper that adds behaviour (a
    /// trace, a fault) keeps the default so that it is never bypassed.
    fn as_http(&self) -> Option<&HttpTarget> {
        None
    }
}

#[async_trait]
impl<T: Target + ?Sized> Target for std::sync::Arc<T> {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        (**self).score(txn).await
    }

    fn info(&self) -> TargetInfo {
        (**self).info()
    }

    fn as_http(&self) -> Option<&HttpTarget> {
        (**self).as_http()
    }
}

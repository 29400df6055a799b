//! [`HttpTarget`]: a scoring endpoint reached over HTTP/1.1 through a keep-alive connection pool.

use crate::mapping::{BodyTemplate, ResponseMapping};
use crate::{Target, TargetConfigError, TargetError, check_loopback};
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use models::{TargetInfo, TargetSpec, Transaction, Verdict};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How to reach an HTTP scoring endpoint. Plain data with `Default`; build it from a scenario with
/// [`HttpTargetConfig::from_spec`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTargetConfig {
    /// The scoring endpoint, e.g. `http://127.0.0.1:8080/v1/score` (plain HTTP; no TLS).
    pub url: String,
    /// Connections in the pool, which is also the bound on requests in flight: a request beyond it
    /// waits for a free connection. That wait is part of the request's `timeout`, and the load driver
    /// measures latency from the intended send time, so it is never hidden.
    pub connections: usize,
    /// Per request: waiting for a connection, sending, and reading the whole answer.
    pub timeout: Duration,
    /// Request body template with `{{transaction}}` for the transaction's JSON; `None` sends the JSON alone.
    pub body_template: Option<String>,
    /// Send these bytes as every request's body instead of the transaction (benchmarks, or an API whose
    /// body does not depend on the transaction). Takes precedence over `body_template`.
    pub fixed_body: Option<Vec<u8>>,
    /// JSON pointer to the decision in the answer.
    pub decision_pointer: String,
    /// JSON pointer to the risk score in the answer.
    pub score_pointer: String,
    /// Extra request headers (for example an API key).
    pub headers: Vec<(String, String)>,
    /// Send to non-loopback hosts too (the `--allow-remote` flag). Off by default.
    pub allow_remote: bool,
}

impl Default for HttpTargetConfig {
    fn default() -> Self {
        Self::from_spec(
            &TargetSpec::default(),
            "http://127.0.0.1:8080/v1/score",
            false,
        )
    }
}

impl HttpTargetConfig {
    /// Takes connections, timeout, body template and pointers from a scenario's target spec.
    pub fn from_spec(spec: &TargetSpec, url: &str, allow_remote: bool) -> Self {
        Self {
            url: url.to_owned(),
            connections: spec.connections,
            timeout: spec.timeout,
            body_template: spec.body_template.clone(),
            fixed_body: None,
            decision_pointer: spec.decision_pointer.clone(),
            score_pointer: spec.score_pointer.clone(),
            headers: Vec::new(),
            allow_remote,
        }
    }
}

/// A [`Target`] that POSTs each transaction to an HTTP endpoint and maps the JSON answer to a
/// [`Verdict`]. Statuses other than 2xx, timeouts, refused or reset connections and unreadable answers
/// each become a typed [`TargetError`].
///
/// Connections are kept alive and reused (hyper's legacy client pool, HTTP/1.1, `TCP_NODELAY`); the
/// pool's connection tasks end when the target is dropped.
pub struct HttpTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: BodyTemplate,
    mapping: ResponseMapping,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &self.url)
            .field("connections", &self.permits.available_permits())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTarget {
    /// Checks the settings and the loopback guard ([`check_loopback`]); sends nothing.
    pub fn new(config: HttpTargetConfig) -> Result<Self, TargetConfigError> {
        check_loopback(&config.url, config.allow_remote)?;
        let uri: Uri = config
            .url
            .parse()
            .map_err(|e| TargetConfigError::InvalidUrl {
                url: config.url.clone(),
                reason: format!("{e}"),
            })?;
        if uri.scheme_str() != Some("http") {
            return Err(TargetConfigError::InvalidUrl {
                url: config.url.clone(),
                reason: "only plain http:// is supported (no TLS); put a TLS-terminating proxy in front if needed"
                    .into(),
            });
        }
        if config.connections == 0 {
            return Err(TargetConfigError::InvalidSetting {
                field: "connections",
                reason: "must be at least 1".into(),
            });
        }
        if config.timeout.is_zero() {
            return Err(TargetConfigError::InvalidSetting {
                field: "timeout",
                reason: "must be longer than zero, e.g. \"5s\"".into(),
            });
        }
        let body = match &config.body_template {
            Some(t) => BodyTemplate::parse(t)?,
            None => BodyTemplate::default(),
        };
        let mapping = ResponseMapping::new(&config.decision_pointer, &config.score_pointer)?;
        let headers = config
            .headers
            .iter()
            .map(|(name, value)| {
                let bad = |reason: String| TargetConfigError::InvalidSetting {
                    field: "headers",
                    reason,
                };
                Ok((
                    HeaderName::try_from(name.as_str())
                        .map_err(|e| bad(format!("header name {name:?}: {e}")))?,
                    HeaderValue::try_from(value.as_str())
                        .map_err(|e| bad(format!("value of {name:?}: {e}")))?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(config.connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(Self {
            client,
            uri,
            url: config.url,
            headers,
            body,
            mapping,
            permits: Arc::new(Semaphore::new(config.connections)),
            timeout: config.timeout,
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn exchange(&self, body: Vec<u8>) -> Result<Verdict, TargetError> {
        // Holding a permit for the whole exchange bounds the connections the pool opens.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| TargetError::Connection {
                reason: "the connection pool was closed".into(),
            })?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TargetError::Connection {
                reason: format!("cannot build the request: {e}"),
            })?;
        for (name, value) in &self.headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| TargetError::Connection {
                reason: describe(&e),
            })?;
        let status = resp.status();
        // Read the whole body even for errors so the connection can go back to the pool.
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| TargetError::Connection {
                reason: format!("the answer was cut off: {}", describe(&e)),
            })?
            .to_bytes();
        if !status.is_success() {
            return Err(TargetError::Status {
                status: status.as_u16(),
            });
        }
        self.mapping.parse(&bytes)
    }
}

/// An error and its causes on one line ("client error (Connect): tcp connect error: Connection refused").
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl Target for HttpTarget {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        let body = self.body.render(txn)?;
        match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(result) => result,
            Err(_) => Err(TargetError::Timeout {
                timeout_ms: self.timeout.as_millis() as u64,
            }),
        }
    }

    fn info(&self) -> TargetInfo {
        TargetInfo {
            kind: "http".into(),
            url: Some(self.url.clone()),
        }
    }
}

//! Setting up the system under test. [`TargetFactory`] is the one constructor of the targets a
//! scenario's `[target]` names, for runs and for capacity's steps alike: the built-in service served
//! on a free loopback port (its own tokio tasks, shut down at the end), the built-in pipeline
//! in-process, or any HTTP endpoint, optionally behind the fault-injecting proxy.
//!
//! It is also the one place that applies the rules every such target follows:
//!
//! - **Loopback.** An `http` target's URL must be on loopback unless the caller allows remote
//!   targets. [`TargetFactory::new`] checks the real URL once; the fault proxy put in front of it is
//!   on loopback itself.
//! - **Driver-timed.** The load driver enforces `target.timeout` on every request (the orchestrator's
//!   load setup), so the HTTP target is built without a timer of its own ([`http_config`]) and a
//!   request does not pay for a second timer. A dry run ([`TargetFactory::prepare_probe`]) sends
//!   without the driver, so its target times each request itself.
//! - **TLS checked first.** An `https://` target opens its first connection (and sends `HEAD` on
//!   it) while it is prepared; a TLS failure (unknown CA, name mismatch, expired certificate, refused
//!   client certificate) is [`OrchestratorError::TargetTls`] before any load, not hours of `tls`
//!   errors. Other failures (refused, timed out) are left to the run, as for `http://`.
//! - **Fresh built-ins.** Every [`TargetFactory::prepare`] starts a new built-in service or pipeline,
//!   so a caller that wants a cold detector for each run (capacity's steps) prepares once per run,
//!   while an HTTP target (and its connection pool) can be prepared once and shared.
//! - **Warm built-ins.** Given the run's seed ([`TargetFactory::with_history`]), every built-in
//!   service or pipeline learns `target.warm_up` of its cards' history before it is handed out
//!   ([`crate::warm_up()`]), so that a fresh detector is not an empty one.
//!
//! What wraps the target once it is set up (X-Ray segments, ...) is [`crate::TargetLayer`]'s.
//!
//! ```
//! use models::{TargetKind, TargetSpec};
//! use orchestrator::{TargetFactory, http_config};
//!
//! let spec = TargetSpec { kind: TargetKind::Http, url: Some("http://10.0.0.1/score".into()), ..TargetSpec::default() };
//! assert!(TargetFactory::new(&spec, false).is_err(), "off loopback without allow_remote");
//! assert!(TargetFactory::new(&spec, true).is_ok());
//! assert!(!http_config(&spec, "http://127.0.0.1:8080/score", false).enforce_timeout);
//! ```

use crate::error::OrchestratorError;
use crate::warm_up::{WarmUp, warm_up};
use failure_injection::{BuiltinInjector, FaultProxy, Injector, ProxyConfig};
use fraud_sim::{FraudSim, Pipeline, SimConfig};
use models::{Http2Mode, TargetInfo, TargetKind, TargetSpec};
use std::sync::Arc;
use targets::{ErrorSamples, HttpTarget, HttpTargetConfig, Target};

/// The target of a run and what to tear down afterwards.
pub struct PreparedTarget {
    pub target: Arc<dyn Target>,
    pub info: TargetInfo,
    /// Carries out faults: fraud-sim's hooks for the built-in targets, the fault proxy for HTTP
    /// targets behind it, `None` when faults can only be marked on the timeline.
    pub faults: Option<Arc<dyn Injector>>,
    /// What the built-in detector learned before the run; `None` for a cold or non-built-in target.
    /// (Boxed: a prepared target is held in enums beside smaller things.)
    pub warm_up: Option<Box<WarmUp>>,
    /// The configuration the HTTP target was built with; `None` for the pipeline and for a caller's own target.
    /// Boxed: the configuration is large and a prepared target is moved around in enums.
    http: Option<Box<HttpTargetConfig>>,
    /// The HTTP target's first errors of each kind with their answers, for `summary.json`.
    samples: Option<Arc<ErrorSamples>>,
    server: Option<FraudSim>,
    proxy: Option<FaultProxy>,
}

impl std::fmt::Debug for PreparedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedTarget")
            .field("info", &self.info)
            .field("faults", &self.faults.as_ref().map(|f| f.name()))
            .field("proxy", &self.proxy.as_ref().map(FaultProxy::url))
            .finish()
    }
}

impl PreparedTarget {
    /// A target supplied by an embedder, with an optional fault injector.
    pub fn custom(target: Arc<dyn Target>, faults: Option<Arc<dyn Injector>>) -> Self {
        let info = target.info();
        Self {
            target,
            info,
            faults,
            warm_up: None,
            http: None,
            samples: None,
            server: None,
            proxy: None,
        }
    }

    /// Another handle on the same target, for a further run that shares it (capacity's steps against
    /// one HTTP target): the same target, description, fault injector and HTTP configuration, but
    /// shutting the handle down stops nothing; `self` stays in charge of the service and the proxy.
    pub fn share(&self) -> PreparedTarget {
        Self {
            target: self.target.clone(),
            info: self.info.clone(),
            faults: self.faults.clone(),
            warm_up: self.warm_up.clone(),
            http: self.http.clone(),
            samples: self.samples.clone(),
            server: None,
            proxy: None,
        }
    }

    /// The configuration of the HTTP target [`TargetFactory::prepare`] built (its URL, pool and
    /// timing: see the module docs); `None` for the in-process pipeline and a caller's own target.
    pub fn http_config(&self) -> Option<&HttpTargetConfig> {
        self.http.as_deref()
    }

    /// The first few errors of each kind with the answers that caused them, as the HTTP target kept
    /// them (empty for the in-process pipeline and a caller's own target).
    pub fn error_samples(
        &self,
    ) -> std::collections::BTreeMap<models::ErrorKind, Vec<models::ErrorSample>> {
        self.samples
            .as_ref()
            .map(|s| s.by_kind())
            .unwrap_or_default()
    }

    /// Stops the built-in server and the fault proxy, if they were started, and waits for their tasks.
    pub async fn shutdown(self) -> Result<(), OrchestratorError> {
        drop(self.target);
        if let Some(proxy) = self.proxy {
            proxy.shutdown().await;
        }
        if let Some(server) = self.server {
            server.shutdown().await.map_err(|e| {
                OrchestratorError::Target(format!("stopping the built-in target: {e}"))
            })?;
        }
        Ok(())
    }
}

pub(crate) fn sim_config(spec: &TargetSpec) -> SimConfig {
    let mut c = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    if let Some(cap) = spec.capacity {
        c.capacity = cap;
    }
    c
}

/// The HTTP target's configuration for `url` (the real one or the fault proxy's) under `spec`:
/// driver-timed, since the load driver enforces `spec.timeout` on every request.
pub fn http_config(spec: &TargetSpec, url: &str, allow_remote: bool) -> HttpTargetConfig {
    HttpTargetConfig {
        enforce_timeout: false,
        ..HttpTargetConfig::from_spec(spec, url, allow_remote)
    }
}

/// Builds the targets a [`TargetSpec`] names, applying the rules in the module docs. Checked once by
/// [`TargetFactory::new`]; each [`TargetFactory::prepare`] then sets up one target.
#[derive(Debug, Clone)]
pub struct TargetFactory {
    spec: TargetSpec,
    allow_remote: bool,
    proxy_seed: Option<u64>,
    history_seed: Option<u64>,
}

impl TargetFactory {
    /// Checks `spec`: an `http` target needs a URL, on loopback unless `allow_remote`; the built-in
    /// kinds need valid settings (`capacity`). Starts nothing.
    pub fn new(spec: &TargetSpec, allow_remote: bool) -> Result<Self, OrchestratorError> {
        match spec.kind {
            TargetKind::Builtin | TargetKind::InProcess => {
                sim_config(spec).validate().map_err(|e| {
                    OrchestratorError::Target(format!(
                        "the built-in target's settings (target.capacity = {}): {e}",
                        spec.capacity
                            .map_or_else(|| "its default".to_owned(), |c| c.to_string())
                    ))
                })?;
                crate::warm_up::check_period(spec.warm_up)?;
            }
            TargetKind::Http => {
                let url = http_url(spec)?;
                targets::check_loopback(url, allow_remote)
                    .map_err(|e| OrchestratorError::Target(e.to_string()))?;
                // The request settings (method, content type, headers, body template) are checked
                // by building the target once: it opens no connection.
                HttpTarget::new(http_config(spec, url, allow_remote))
                    .map_err(|e| OrchestratorError::Target(e.to_string()))?;
            }
        }
        Ok(Self {
            spec: spec.clone(),
            allow_remote,
            proxy_seed: None,
            history_seed: None,
        })
    }

    /// Built-in targets learn `target.warm_up` of card history from the stream of `seed` (the run's)
    /// before each [`TargetFactory::prepare`] returns; without it they start cold. HTTP targets
    /// have their own history and are left alone.
    #[must_use]
    pub fn with_history(mut self, seed: u64) -> Self {
        self.history_seed = Some(seed);
        self
    }

    /// Warms a built-in pipeline when a history seed was given and the period is not zero.
    async fn warm(&self, pipeline: &Pipeline) -> Result<Option<Box<WarmUp>>, OrchestratorError> {
        match self.history_seed {
            Some(seed) if !self.spec.warm_up.is_zero() => {
                warm_up(pipeline, seed, self.spec.warm_up)
                    .await
                    .map(|w| Some(Box::new(w)))
            }
            _ => Ok(None),
        }
    }

    /// An `http` target is reached through a fault-injecting proxy on loopback (seeded with `seed`),
    /// so that it gets the same fault vocabulary as the built-in target. The built-in kinds use
    /// fraud-sim's own fault hooks and get no proxy.
    #[must_use]
    pub fn with_fault_proxy(mut self, seed: u64) -> Self {
        self.proxy_seed = Some(seed);
        self
    }

    pub fn kind(&self) -> TargetKind {
        self.spec.kind
    }

    pub fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    /// What every prepared target will be, as far as is known before one is set up: the built-in
    /// service's URL is only known once it is served (see [`PreparedTarget::info`]).
    pub fn info(&self) -> TargetInfo {
        match self.spec.kind {
            TargetKind::Http => TargetInfo::new(TargetKind::Http, self.spec.url.clone()),
            kind => TargetInfo::new(kind, None),
        }
    }

    /// Sets up one target: a new built-in service or pipeline each time, or the HTTP target (behind
    /// a new fault proxy when asked for).
    pub async fn prepare(&self) -> Result<PreparedTarget, OrchestratorError> {
        let spec = &self.spec;
        let target_err = |e: &dyn std::fmt::Display| OrchestratorError::Target(e.to_string());
        match spec.kind {
            TargetKind::Builtin => {
                let sim = FraudSim::start(sim_config(spec)).await.map_err(|e| {
                    OrchestratorError::Target(format!("starting the built-in target: {e}"))
                })?;
                let warmed = match self.warm(sim.pipeline()).await {
                    Ok(w) => w,
                    Err(e) => {
                        // Stop the service that was started before reporting why it is not used.
                        let _ = sim.shutdown().await;
                        return Err(e);
                    }
                };
                let url = sim.score_url();
                let config = http_config(spec, &url, false);
                let http = HttpTarget::new(config.clone()).map_err(|e| target_err(&e))?;
                let faults: Arc<dyn Injector> =
                    Arc::new(BuiltinInjector::new(sim.faults().clone()));
                Ok(PreparedTarget {
                    samples: Some(http.error_samples()),
                    target: Arc::new(http),
                    info: TargetInfo::new(TargetKind::Builtin, Some(url)),
                    faults: Some(faults),
                    warm_up: warmed,
                    http: Some(Box::new(config)),
                    server: Some(sim),
                    proxy: None,
                })
            }
            TargetKind::InProcess => {
                let pipeline = Pipeline::new(&sim_config(spec)).map_err(|e| target_err(&e))?;
                let warmed = self.warm(&pipeline).await?;
                let faults: Arc<dyn Injector> =
                    Arc::new(BuiltinInjector::new(pipeline.faults().clone()));
                Ok(PreparedTarget {
                    target: Arc::new(pipeline),
                    info: TargetInfo::new(TargetKind::InProcess, None),
                    faults: Some(faults),
                    warm_up: warmed,
                    http: None,
                    samples: None,
                    server: None,
                    proxy: None,
                })
            }
            TargetKind::Http => {
                let url = http_url(spec)?;
                let (proxy, send_to) = match self.proxy_seed {
                    // The proxy speaks HTTP/1.1 on both sides: HTTP/2 with prior knowledge to it
                    // would fail on every request.
                    Some(_) if spec.http2 == Http2Mode::Always => {
                        return Err(OrchestratorError::Target(
                            "faults go through a proxy that speaks HTTP/1.1, but `http2` is \
                             \"always\"; set it to \"auto\" or \"never\" for a run with faults"
                                .into(),
                        ));
                    }
                    Some(seed) => {
                        // The proxy reaches an https:// upstream itself: check its certificates
                        // directly first, so that a wrong CA is a clear error before any load,
                        // not a run of 502s.
                        let direct = HttpTarget::new(http_config(spec, url, self.allow_remote))
                            .map_err(|e| target_err(&e))?;
                        check_tls(&direct, url).await?;
                        drop(direct);
                        let proxy = FaultProxy::start(ProxyConfig {
                            upstream: url.to_owned(),
                            tls: spec.tls.clone(),
                            allow_remote: self.allow_remote,
                            seed,
                            ..ProxyConfig::default()
                        })
                        .await
                        .map_err(|e| {
                            OrchestratorError::Target(format!("starting the fault proxy: {e}"))
                        })?;
                        let proxied = proxy.proxied_url(url).map_err(|e| target_err(&e))?;
                        (Some(proxy), proxied)
                    }
                    None => (None, url.to_owned()),
                };
                let config = http_config(spec, &send_to, self.allow_remote);
                let http = HttpTarget::new(config.clone()).map_err(|e| target_err(&e))?;
                check_tls(&http, url).await?;
                let faults = proxy
                    .as_ref()
                    .map(|p| Arc::new(p.injector()) as Arc<dyn Injector>);
                Ok(PreparedTarget {
                    samples: Some(http.error_samples()),
                    target: Arc::new(http),
                    info: TargetInfo::new(TargetKind::Http, Some(url.to_owned())),
                    faults,
                    warm_up: None,
                    http: Some(Box::new(config)),
                    server: None,
                    proxy,
                })
            }
        }
    }
}

impl TargetFactory {
    /// The HTTP target alone, for a caller that sends requests one at a time without the load
    /// driver (`stress-runner probe`, [`HttpTarget::probe`]): timed by itself, never behind the fault
    /// proxy, its first TLS connection checked as for a run. A built-in kind is an error: a dry run
    /// is for an API of one's own.
    pub async fn prepare_probe(&self) -> Result<HttpTarget, OrchestratorError> {
        if self.spec.kind != TargetKind::Http {
            return Err(OrchestratorError::Target(format!(
                "a dry run needs an HTTP API, but the target is `{}`; give --target URL, or a \
                 scenario whose [target] has kind = \"http\" and a url",
                self.spec.kind.as_str()
            )));
        }
        let url = http_url(&self.spec)?;
        let config = HttpTargetConfig::from_spec(&self.spec, url, self.allow_remote);
        let http = HttpTarget::new(config).map_err(|e| OrchestratorError::Target(e.to_string()))?;
        check_tls(&http, url).await?;
        Ok(http)
    }
}

/// The TLS rule of the module docs: an `https://` target's first connection (and a `HEAD` on it)
/// must succeed as far as TLS goes, or nothing is sent. Other failures are left to the caller.
async fn check_tls(http: &HttpTarget, url: &str) -> Result<(), OrchestratorError> {
    if http.is_tls()
        && let Err(targets::TargetError::Tls { reason }) = http.check_connection().await
    {
        return Err(OrchestratorError::TargetTls {
            url: url.to_owned(),
            reason,
        });
    }
    Ok(())
}

fn http_url(spec: &TargetSpec) -> Result<&str, OrchestratorError> {
    spec.url.as_deref().filter(|u| !u.is_empty()).ok_or_else(|| {
        OrchestratorError::Target(
            "an http target needs its scoring URL in `target.url` (for example \"http://127.0.0.1:8080/v1/score\")".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_spec(url: &str) -> TargetSpec {
        TargetSpec {
            kind: TargetKind::Http,
            url: Some(url.into()),
            ..TargetSpec::default()
        }
    }

    #[test]
    fn an_http_target_needs_a_loopback_url_unless_remote_is_allowed() {
        let missing = TargetFactory::new(&http_spec(""), false).unwrap_err();
        let text = missing.to_string();
        assert!(text.contains("target.url"), "{text}");
        assert!(TargetFactory::new(&http_spec("http://192.0.2.1:80/score"), false).is_err());
        assert!(TargetFactory::new(&http_spec("http://192.0.2.1:80/score"), true).is_ok());
        assert!(TargetFactory::new(&http_spec("http://127.0.0.1:9/score"), false).is_ok());
    }

    /// A server that speaks plain HTTP where TLS is expected: the first handshake fails, and
    /// `prepare` says so before any load.
    #[tokio::test]
    async fn an_https_target_whose_first_tls_connection_fails_is_refused_at_prepare() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 512];
            let _ = sock.read(&mut hello).await;
            let _ = sock
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let url = format!("https://127.0.0.1:{port}/v1/score");
        let mut spec = http_spec(&url);
        // Any root will do: the server never shows a certificate.
        spec.tls.server_name = Some("localhost".into());
        let err = TargetFactory::new(&spec, false)
            .unwrap()
            .prepare()
            .await
            .unwrap_err();
        match &err {
            OrchestratorError::TargetTls { url: u, reason } => {
                assert_eq!(u, &url);
                assert!(reason.contains("http://"), "{reason}");
            }
            other => panic!("expected a TLS pre-flight error, got {other}"),
        }
        assert!(err.to_string().contains("no load was sent"), "{err}");
        server.await.unwrap();
    }

    #[test]
    fn bad_request_settings_are_refused_before_anything_starts() {
        let mut unexpanded = http_spec("http://127.0.0.1:9/score");
        unexpanded
            .headers
            .insert("Authorization".into(), "Bearer ${API_TOKEN}".into());
        let err = TargetFactory::new(&unexpanded, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("never expanded"), "{err}");
        let template = TargetSpec {
            body: Some(r#"{"amount": {{amount_usd}}}"#.into()),
            ..http_spec("http://127.0.0.1:9/score")
        };
        let err = TargetFactory::new(&template, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown placeholder {{amount_usd}}"), "{err}");
        let method = TargetSpec {
            method: "GET /".into(),
            ..http_spec("http://127.0.0.1:9/score")
        };
        assert!(TargetFactory::new(&method, false).is_err());
    }

    #[tokio::test]
    async fn a_probe_target_is_self_timed_http_only_and_tls_checked() {
        let url = "http://127.0.0.1:9/v1/score";
        let http = TargetFactory::new(&http_spec(url), false)
            .unwrap()
            .prepare_probe()
            .await
            .unwrap();
        assert_eq!(http.url(), url, "no fault proxy in between");
        let err = TargetFactory::new(&TargetSpec::default(), false)
            .unwrap()
            .prepare_probe()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--target URL"), "{err}");
    }

    #[test]
    fn bad_built_in_settings_are_refused_before_anything_starts() {
        let spec = TargetSpec {
            capacity: Some(-1.0),
            ..TargetSpec::default()
        };
        let err = TargetFactory::new(&spec, false).unwrap_err().to_string();
        assert!(err.contains("target.capacity"), "{err}");
    }

    #[tokio::test]
    async fn http_targets_are_driver_timed_and_the_proxy_keeps_the_real_url_in_the_info() {
        let url = "http://127.0.0.1:9/v1/score";
        let spec = http_spec(url);
        let direct = TargetFactory::new(&spec, false)
            .unwrap()
            .prepare()
            .await
            .unwrap();
        let config = direct.http_config().expect("an HTTP target");
        assert!(!config.enforce_timeout, "the driver times requests");
        assert_eq!(config.timeout, spec.timeout);
        assert_eq!(config.url, url);
        assert_eq!(
            direct.info,
            TargetInfo::new(TargetKind::Http, Some(url.into()))
        );
        assert!(direct.faults.is_none());
        let shared = direct.share();
        assert_eq!(shared.http_config(), direct.http_config());
        assert_eq!(shared.info, direct.info);
        shared.shutdown().await.unwrap();
        direct.shutdown().await.unwrap();

        let factory = TargetFactory::new(&spec, false)
            .unwrap()
            .with_fault_proxy(7);
        let proxied = factory.prepare().await.unwrap();
        let config = proxied.http_config().expect("an HTTP target");
        assert!(!config.enforce_timeout);
        assert_ne!(config.url, url, "requests go to the proxy");
        assert_eq!(proxied.info, factory.info());
        assert!(proxied.faults.is_some());
        proxied.shutdown().await.unwrap();

        let always = TargetSpec {
            http2: Http2Mode::Always,
            ..spec
        };
        let err = TargetFactory::new(&always, false)
            .unwrap()
            .with_fault_proxy(7)
            .prepare()
            .await
            .expect_err("HTTP/2 is refused through the proxy")
            .to_string();
        assert!(err.contains("`http2`") && err.contains("HTTP/1.1"), "{err}");
    }

    #[tokio::test]
    async fn every_prepare_starts_a_fresh_built_in_service() {
        let factory = TargetFactory::new(&TargetSpec::default(), false).unwrap();
        assert_eq!(factory.info(), TargetInfo::new(TargetKind::Builtin, None));
        let a = factory.prepare().await.unwrap();
        let b = factory.prepare().await.unwrap();
        assert_ne!(a.info.url, b.info.url, "two services, two ports");
        for t in [&a, &b] {
            assert_eq!(t.info.target_kind(), Some(TargetKind::Builtin));
            assert!(!t.http_config().expect("served over HTTP").enforce_timeout);
            assert!(t.faults.is_some());
        }
        a.shutdown().await.unwrap();
        b.shutdown().await.unwrap();

        let in_process = TargetSpec {
            kind: TargetKind::InProcess,
            ..TargetSpec::default()
        };
        let p = TargetFactory::new(&in_process, false)
            .unwrap()
            .prepare()
            .await
            .unwrap();
        assert!(p.http_config().is_none());
        assert_eq!(p.info, TargetInfo::new(TargetKind::InProcess, None));
        p.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn built_ins_learn_the_runs_history_when_given_its_seed_and_start_cold_otherwise() {
        let in_process = TargetSpec {
            kind: TargetKind::InProcess,
            warm_up: std::time::Duration::from_secs(1800),
            ..TargetSpec::default()
        };
        let cold = TargetFactory::new(&in_process, false).unwrap();
        let p = cold.prepare().await.unwrap();
        assert!(p.warm_up.is_none());
        p.shutdown().await.unwrap();

        let warm = cold.clone().with_history(42);
        let p = warm.prepare().await.unwrap();
        let learned = p.warm_up.clone().expect("a warm start");
        assert_eq!(learned.period, in_process.warm_up);
        assert!(
            learned.transactions > 20_000 && learned.cards > 10_000,
            "{learned:?}"
        );
        p.shutdown().await.unwrap();

        let served = TargetSpec {
            warm_up: std::time::Duration::from_secs(600),
            ..TargetSpec::default()
        };
        let p = TargetFactory::new(&served, false)
            .unwrap()
            .with_history(42)
            .prepare()
            .await
            .unwrap();
        assert!(p.warm_up.as_ref().is_some_and(|w| w.transactions > 0));
        p.shutdown().await.unwrap();

        let zero = TargetSpec {
            warm_up: std::time::Duration::ZERO,
            ..in_process
        };
        let p = TargetFactory::new(&zero, false)
            .unwrap()
            .with_history(42)
            .prepare()
            .await
            .unwrap();
        assert!(p.warm_up.is_none(), "0s is a cold start");
        p.shutdown().await.unwrap();

        let too_long = TargetSpec {
            warm_up: crate::MAX_WARM_UP * 2,
            ..TargetSpec::default()
        };
        let err = TargetFactory::new(&too_long, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("target.warm_up"), "{err}");
    }
}

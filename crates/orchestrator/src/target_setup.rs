//! Setting up the system under test from a scenario's `[target]`: the built-in service served on a
//! free loopback port (its own tokio tasks, shut down at the end), the built-in pipeline in-process,
//! or any HTTP endpoint behind the loopback guard.

use crate::error::OrchestratorError;
use failure_injection::{BuiltinInjector, FaultProxy, Injector, ProxyConfig};
use fraud_sim::{FraudSim, Pipeline, SimConfig};
use models::{TargetInfo, TargetKind, TargetSpec};
use std::sync::Arc;
use targets::{HttpTarget, HttpTargetConfig, Target};

/// The target of a run and what to tear down afterwards.
pub struct PreparedTarget {
    pub target: Arc<dyn Target>,
    pub info: TargetInfo,
    /// Carries out faults: fraud-sim's hooks for the built-in targets, the fault proxy for HTTP
    /// targets behind it, `None` when faults can only be marked on the timeline.
    pub faults: Option<Arc<dyn Injector>>,
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
            server: None,
            proxy: None,
        }
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

/// The run's driver enforces `target.timeout` on every request (orchestrator's load setup), so the
/// HTTP target needs no timer of its own per request.
fn driver_timed(config: HttpTargetConfig) -> HttpTargetConfig {
    HttpTargetConfig {
        enforce_timeout: false,
        ..config
    }
}

/// Sets up the target a scenario names. `allow_remote` lets an `http` target leave the machine.
/// An `http` target gets no fault injector: see [`prepare_with_proxy`].
pub async fn prepare(
    spec: &TargetSpec,
    allow_remote: bool,
) -> Result<PreparedTarget, OrchestratorError> {
    prepare_inner(spec, allow_remote, None).await
}

/// Like [`prepare`], but an `http` target is reached through a fault-injecting proxy on loopback
/// (seeded with `seed`), so that it gets the same fault vocabulary as the built-in target. The other
/// kinds use fraud-sim's own fault hooks and get no proxy.
pub async fn prepare_with_proxy(
    spec: &TargetSpec,
    allow_remote: bool,
    seed: u64,
) -> Result<PreparedTarget, OrchestratorError> {
    prepare_inner(spec, allow_remote, Some(seed)).await
}

async fn prepare_inner(
    spec: &TargetSpec,
    allow_remote: bool,
    proxy_seed: Option<u64>,
) -> Result<PreparedTarget, OrchestratorError> {
    let target_err = |e: &dyn std::fmt::Display| OrchestratorError::Target(e.to_string());
    match spec.kind {
        TargetKind::Builtin => {
            let sim = FraudSim::start(sim_config(spec)).await.map_err(|e| {
                OrchestratorError::Target(format!("starting the built-in target: {e}"))
            })?;
            let url = sim.score_url();
            let http =
                HttpTarget::new(driver_timed(HttpTargetConfig::from_spec(spec, &url, false)))
                    .map_err(|e| target_err(&e))?;
            let faults: Arc<dyn Injector> = Arc::new(BuiltinInjector::new(sim.faults().clone()));
            Ok(PreparedTarget {
                target: Arc::new(http),
                info: TargetInfo {
                    kind: "builtin".into(),
                    url: Some(url),
                },
                faults: Some(faults),
                server: Some(sim),
                proxy: None,
            })
        }
        TargetKind::InProcess => {
            let pipeline = Pipeline::new(&sim_config(spec)).map_err(|e| target_err(&e))?;
            let faults: Arc<dyn Injector> =
                Arc::new(BuiltinInjector::new(pipeline.faults().clone()));
            Ok(PreparedTarget {
                target: Arc::new(pipeline),
                info: TargetInfo {
                    kind: "in_process".into(),
                    url: None,
                },
                faults: Some(faults),
                server: None,
                proxy: None,
            })
        }
        TargetKind::Http => {
            let url = spec.url.as_deref().ok_or_else(|| {
                OrchestratorError::Target(
                    "an http target needs `target.url` (or `--target URL`)".into(),
                )
            })?;
            targets::check_loopback(url, allow_remote).map_err(|e| target_err(&e))?;
            let (proxy, send_to) = match proxy_seed {
                Some(seed) => {
                    let proxy = FaultProxy::start(ProxyConfig {
                        upstream: url.to_owned(),
                        allow_remote,
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
            // The proxy itself is on loopback; the loopback guard was applied to the real URL above.
            let http = HttpTarget::new(driver_timed(HttpTargetConfig::from_spec(
                spec,
                &send_to,
                allow_remote,
            )))
            .map_err(|e| target_err(&e))?;
            let faults = proxy
                .as_ref()
                .map(|p| Arc::new(p.injector()) as Arc<dyn Injector>);
            Ok(PreparedTarget {
                target: Arc::new(http),
                info: TargetInfo {
                    kind: "http".into(),
                    url: Some(url.to_owned()),
                },
                faults,
                server: None,
                proxy,
            })
        }
    }
}

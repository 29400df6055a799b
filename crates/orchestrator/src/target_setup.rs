//! Setting up the system under test from a scenario's `[target]`: the built-in service served on a
//! free loopback port (its own tokio tasks, shut down at the end), the built-in pipeline in-process,
//! or any HTTP endpoint behind the loopback guard.

use crate::error::OrchestratorError;
use crate::faults::{FaultError, FaultInjector};
use fraud_sim::{Fault, FaultKey, Faults, FraudSim, Pipeline, SimConfig};
use models::{FaultSpec, TargetInfo, TargetKind, TargetSpec};
use std::sync::{Arc, Mutex, PoisonError};
use targets::{HttpTarget, HttpTargetConfig, Target};

/// Drives the built-in target's fault hooks (`fraud_sim::Faults`).
#[derive(Debug)]
pub struct BuiltinFaults {
    faults: Faults,
    /// Keys of the faults this injector put in place, per spec, to clear exactly those.
    keys: Mutex<Vec<(FaultSpec, FaultKey)>>,
}

impl BuiltinFaults {
    pub fn new(faults: Faults) -> Self {
        Self {
            faults,
            keys: Mutex::new(Vec::new()),
        }
    }
}

fn fault_error(spec: &FaultSpec, e: impl std::fmt::Display) -> FaultError {
    FaultError {
        kind: spec.kind,
        stage: spec.stage.clone(),
        message: e.to_string(),
    }
}

impl FaultInjector for BuiltinFaults {
    fn supports(&self, fault: &FaultSpec) -> bool {
        Fault::from_spec(fault).and_then(Fault::resolve).is_ok()
    }

    fn start(&self, spec: &FaultSpec) -> Result<Option<String>, FaultError> {
        let fault = Fault::from_spec(spec).map_err(|e| fault_error(spec, e))?;
        let key = self
            .faults
            .inject(fault)
            .map_err(|e| fault_error(spec, e))?;
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((spec.clone(), key));
        Ok(Some(key.stage.as_str().to_owned()))
    }

    fn end(&self, spec: &FaultSpec) -> Result<(), FaultError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pos) = keys.iter().position(|(s, _)| s == spec) {
            let (_, key) = keys.remove(pos);
            // Another fault with the same key may have replaced it; clear it only if no other holds it.
            if !keys.iter().any(|(_, k)| *k == key) {
                self.faults.clear(key);
            }
        }
        Ok(())
    }
}

/// The target of a run and what to tear down afterwards.
pub struct PreparedTarget {
    pub target: Arc<dyn Target>,
    pub info: TargetInfo,
    pub faults: Option<Arc<dyn FaultInjector>>,
    server: Option<FraudSim>,
}

impl std::fmt::Debug for PreparedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedTarget")
            .field("info", &self.info)
            .field("faults", &self.faults)
            .finish()
    }
}

impl PreparedTarget {
    /// A target supplied by an embedder, with an optional fault injector.
    pub fn custom(target: Arc<dyn Target>, faults: Option<Arc<dyn FaultInjector>>) -> Self {
        let info = target.info();
        Self {
            target,
            info,
            faults,
            server: None,
        }
    }

    /// Stops the built-in server, if one was started, and waits for its tasks.
    pub async fn shutdown(self) -> Result<(), OrchestratorError> {
        drop(self.target);
        if let Some(server) = self.server {
            server.shutdown().await.map_err(|e| {
                OrchestratorError::Target(format!("stopping the built-in target: {e}"))
            })?;
        }
        Ok(())
    }
}

fn sim_config(spec: &TargetSpec) -> SimConfig {
    let mut c = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    if let Some(cap) = spec.capacity {
        c.capacity = cap;
    }
    c
}

/// Sets up the target a scenario names. `allow_remote` lets an `http` target leave the machine.
pub async fn prepare(
    spec: &TargetSpec,
    allow_remote: bool,
) -> Result<PreparedTarget, OrchestratorError> {
    let target_err = |e: &dyn std::fmt::Display| OrchestratorError::Target(e.to_string());
    match spec.kind {
        TargetKind::Builtin => {
            let sim = FraudSim::start(sim_config(spec)).await.map_err(|e| {
                OrchestratorError::Target(format!("starting the built-in target: {e}"))
            })?;
            let url = sim.score_url();
            let http = HttpTarget::new(HttpTargetConfig::from_spec(spec, &url, false))
                .map_err(|e| target_err(&e))?;
            let faults: Arc<dyn FaultInjector> = Arc::new(BuiltinFaults::new(sim.faults().clone()));
            Ok(PreparedTarget {
                target: Arc::new(http),
                info: TargetInfo {
                    kind: "builtin".into(),
                    url: Some(url),
                },
                faults: Some(faults),
                server: Some(sim),
            })
        }
        TargetKind::InProcess => {
            let pipeline = Pipeline::new(&sim_config(spec)).map_err(|e| target_err(&e))?;
            let faults: Arc<dyn FaultInjector> =
                Arc::new(BuiltinFaults::new(pipeline.faults().clone()));
            Ok(PreparedTarget {
                target: Arc::new(pipeline),
                info: TargetInfo {
                    kind: "in_process".into(),
                    url: None,
                },
                faults: Some(faults),
                server: None,
            })
        }
        TargetKind::Http => {
            let url = spec.url.as_deref().ok_or_else(|| {
                OrchestratorError::Target(
                    "an http target needs `target.url` (or `--target URL`)".into(),
                )
            })?;
            targets::check_loopback(url, allow_remote).map_err(|e| target_err(&e))?;
            let http = HttpTarget::new(HttpTargetConfig::from_spec(spec, url, allow_remote))
                .map_err(|e| target_err(&e))?;
            Ok(PreparedTarget {
                target: Arc::new(http),
                info: TargetInfo {
                    kind: "http".into(),
                    url: Some(url.to_owned()),
                },
                faults: None,
                server: None,
            })
        }
    }
}

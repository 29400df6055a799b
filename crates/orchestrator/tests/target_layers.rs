//! Layers put around a run's target with `with_target_layer` stack: a second call adds a layer around
//! the first instead of replacing it. A whole run against the built-in pipeline in-process, on tokio's
//! paused clock.

use models::{Stage, TargetKind, Transaction};
use orchestrator::{RunOptions, StressTestOrchestrator, TargetLayer};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use targets::{FnTarget, Target};

type Log = Arc<Mutex<Vec<&'static str>>>;

/// A layer that notes `name` on every call, then passes the call on.
fn noting(name: &'static str, log: Log) -> TargetLayer {
    TargetLayer::new(move |inner: Arc<dyn Target>| {
        Arc::new(FnTarget::new(move |txn: &Transaction| {
            log.lock().expect("not poisoned").push(name);
            let inner = inner.clone();
            let txn = txn.clone();
            async move { inner.score(&txn).await }
        })) as Arc<dyn Target>
    })
}

#[tokio::test(start_paused = true)]
async fn two_layers_both_see_every_call_the_last_added_first() {
    let dir = std::env::temp_dir().join(format!("orch-it-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut spec = orchestrator::timeline::plain(20.0, Duration::from_secs(2)).unwrap();
    spec.name = "layers".into();
    spec.load.stages = vec![Stage::Sustained {
        tps: 20.0,
        duration: Duration::from_secs(2),
        name: None,
    }];
    spec.target.kind = TargetKind::InProcess;
    let log = Log::default();
    let options = RunOptions {
        out_dir: Some(dir.clone()),
        ..RunOptions::default()
    };
    let outcome = StressTestOrchestrator::new(spec, options)
        .unwrap()
        .with_target_layer(noting("first", log.clone()))
        .with_target_layer(noting("second", log.clone()))
        .run()
        .await
        .unwrap();
    let log = log.lock().unwrap().clone();
    let sent = outcome.summary.load.sent as usize;
    assert!(sent > 0, "{:?}", outcome.summary.load);
    assert_eq!(log.len(), 2 * sent, "both layers saw every request");
    for pair in log.chunks(2) {
        assert_eq!(
            pair,
            ["second", "first"],
            "the last layer added is outermost"
        );
    }
    assert_eq!(outcome.summary.target.kind, TargetKind::InProcess.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}

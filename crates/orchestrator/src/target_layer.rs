//! [`TargetLayer`]: wrappers put around a run's target once it is set up, in the manner of tower's
//! `Layer`, so that several of them (X-Ray segments, a fault proxy's client, a future recorder) stack
//! instead of the last one replacing the others.

use std::sync::Arc;
use targets::Target;

type Wrap = Box<dyn FnOnce(Arc<dyn Target>) -> Arc<dyn Target> + Send + Sync>;

/// Wraps the run's target, for example to observe every call (the X-Ray segment emitter) or to add
/// behaviour in front of it. A layer sees the same calls the driver makes.
///
/// Layers compose: `inner.then(outer)` (and every further
/// [`StressTestOrchestrator::with_target_layer`](crate::StressTestOrchestrator::with_target_layer))
/// puts the new layer *around* the ones before. So the first layer added sits next to the target and
/// the last one added is outermost: it sees each call first and its answer last.
///
/// ```
/// use orchestrator::TargetLayer;
/// let observe = TargetLayer::new(|target| target); // a real layer returns a wrapper around `target`
/// let both = observe.then(TargetLayer::new(|target| target));
/// assert_eq!(both.len(), 2);
/// ```
#[derive(Default)]
pub struct TargetLayer {
    /// Innermost first.
    wraps: Vec<Wrap>,
}

impl std::fmt::Debug for TargetLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetLayer")
            .field("layers", &self.wraps.len())
            .finish()
    }
}

impl TargetLayer {
    /// One layer: `wrap` gets the target (or the layers below) and returns what the driver calls.
    pub fn new(
        wrap: impl FnOnce(Arc<dyn Target>) -> Arc<dyn Target> + Send + Sync + 'static,
    ) -> Self {
        Self {
            wraps: vec![Box::new(wrap)],
        }
    }

    /// `self`, with `outer` around it.
    #[must_use]
    pub fn then(mut self, outer: TargetLayer) -> Self {
        self.wraps.extend(outer.wraps);
        self
    }

    /// How many layers are stacked (0 for [`TargetLayer::default`], which leaves the target as it is).
    pub fn len(&self) -> usize {
        self.wraps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wraps.is_empty()
    }

    /// Wraps `target` in every layer, innermost first.
    pub fn layer(self, target: Arc<dyn Target>) -> Arc<dyn Target> {
        self.wraps.into_iter().fold(target, |t, wrap| wrap(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Decision, Transaction, Verdict};
    use std::sync::Mutex;
    use targets::FnTarget;

    type Log = Arc<Mutex<Vec<&'static str>>>;

    fn txn() -> Transaction {
        serde_json::from_str(
            r#"{"id":"txn_00000000002a","timestamp":"2026-01-01T00:00:00.000000Z","amount_minor":12345,
            "currency":"EUR","card_id":"card_000000000007","customer_id":"cus_000000000003",
            "merchant_id":"mer_000000000063","merchant_name":"Cafe Zurich","mcc":5812,
            "channel":"contactless","country":"CH","lat":47.37,"lon":8.54,"ip":"203.0.113.7"}"#,
        )
        .expect("a valid transaction")
    }

    fn scorer(log: Log) -> Arc<dyn Target> {
        Arc::new(FnTarget::new(move |_txn: &Transaction| {
            log.lock().expect("not poisoned").push("target");
            async {
                Ok(Verdict {
                    decision: Decision::Approve,
                    risk_score: 0.1,
                    reasons: vec![],
                    agents: vec![],
                })
            }
        }))
    }

    /// A layer that notes `name` on every call, then passes the call on.
    fn noting(name: &'static str, log: Log) -> TargetLayer {
        TargetLayer::new(move |inner| {
            Arc::new(FnTarget::new(move |txn: &Transaction| {
                log.lock().expect("not poisoned").push(name);
                let inner = inner.clone();
                let txn = txn.clone();
                async move { inner.score(&txn).await }
            }))
        })
    }

    #[tokio::test]
    async fn layers_stack_with_the_last_added_outermost() {
        let log = Log::default();
        let layer = noting("first", log.clone()).then(noting("second", log.clone()));
        assert_eq!(layer.len(), 2);
        let target = layer.layer(scorer(log.clone()));
        let verdict = target.score(&txn()).await.expect("scored");
        assert_eq!(verdict.decision, Decision::Approve);
        assert_eq!(*log.lock().unwrap(), ["second", "first", "target"]);
    }

    #[tokio::test]
    async fn the_default_layer_leaves_the_target_alone() {
        let log = Log::default();
        let layer = TargetLayer::default();
        assert!(layer.is_empty());
        let target = layer.layer(scorer(log.clone()));
        target.score(&txn()).await.expect("scored");
        assert_eq!(*log.lock().unwrap(), ["target"]);
    }
}

//! A target made of a closure, for embedders who score in-process or through their own client.

use crate::{Target, TargetError};
use async_trait::async_trait;
use models::{TargetInfo, Transaction, Verdict};
use std::future::Future;

/// Wraps `Fn(&Transaction) -> impl Future<Output = Result<Verdict, TargetError>>`.
pub struct FnTarget<F> {
    f: F,
}

impl<F> std::fmt::Debug for FnTarget<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTarget").finish_non_exhaustive()
    }
}

impl<F, Fut> FnTarget<F>
where
    F: Fn(&Transaction) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Verdict, TargetError>> + Send,
{
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

#[async_trait]
impl<F, Fut> Target for FnTarget<F>
where
    F: Fn(&Transaction) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Verdict, TargetError>> + Send,
{
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        (self.f)(txn).await
    }

    fn info(&self) -> TargetInfo {
        TargetInfo {
            kind: "closure".into(),
            url: None,
            protocol: None,
        }
    }
}

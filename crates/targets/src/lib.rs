//! The system under test, as the load driver sees it: the async [`Target`] trait and its implementations
//! (an HTTP endpoint over a keep-alive connection pool, and a closure for embedders). The built-in
//! reference service implements it in the `fraud-sim` crate.
//!
//! [`HttpTarget`] refuses hosts that are not loopback (127.0.0.0/8, `::1`, `localhost`) unless
//! `allow_remote` is set, the `--allow-remote` flag of the command line; see [`check_loopback`].
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
//! assert!(err.to_string().contains("--allow-remote"));
//! ```

mod closure;
mod error;
mod guard;
mod http;
mod mapping;

pub use closure::FnTarget;
pub use error::{TargetConfigError, TargetError};
pub use guard::{check_loopback, is_loopback_host};
pub use http::{HttpTarget, HttpTargetConfig};
pub use mapping::{BodyTemplate, ResponseMapping, TRANSACTION_PLACEHOLDER};

use async_trait::async_trait;
use models::{TargetInfo, Transaction, Verdict};

/// A system that scores transactions. Implementations must be cheap to share across tasks (`Arc`).
#[async_trait]
pub trait Target: Send + Sync + 'static {
    /// Scores one transaction. Every failure is a typed [`TargetError`], never a panic.
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError>;

    /// What to print in reports (`kind`, and `url` where there is one).
    fn info(&self) -> TargetInfo;
}

#[async_trait]
impl<T: Target + ?Sized> Target for std::sync::Arc<T> {
    async fn score(&self, txn: &Transaction) -> Result<Verdict, TargetError> {
        (**self).score(txn).await
    }

    fn info(&self) -> TargetInfo {
        (**self).info()
    }
}

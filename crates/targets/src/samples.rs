//! [`ErrorSamples`]: the first few errors of each kind with the answer that caused them, kept for
//! `summary.json` and the report so that a reader sees what the API said.

use models::{ErrorKind, ErrorSample};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Keeps up to [`ErrorSample::KEPT_PER_KIND`] samples per error kind. Shared by every request of a
/// target: once a kind has its samples, a further error of that kind costs one atomic load and
/// takes no lock; a success costs nothing.
///
/// ```
/// use models::ErrorKind;
/// let samples = targets::ErrorSamples::default();
/// for _ in 0..9 {
///     samples.keep(ErrorKind::Auth, Some(401), || "HTTP 401".into(), br#"{"error":"bad token"}"#);
/// }
/// let kept = samples.by_kind();
/// assert_eq!(kept[&ErrorKind::Auth].len(), models::ErrorSample::KEPT_PER_KIND);
/// assert_eq!(kept[&ErrorKind::Auth][0].answer, r#"{"error":"bad token"}"#);
/// ```
#[derive(Debug, Default)]
pub struct ErrorSamples {
    /// Samples kept so far, by `ErrorKind as usize`.
    kept: [AtomicUsize; ErrorKind::ALL.len()],
    samples: Mutex<Vec<(ErrorKind, ErrorSample)>>,
}

impl ErrorSamples {
    /// Whether a sample of `kind` would still be kept.
    #[inline]
    pub fn wants(&self, kind: ErrorKind) -> bool {
        self.kept[kind as usize].load(Ordering::Relaxed) < ErrorSample::KEPT_PER_KIND
    }

    /// Keeps an error of `kind` if fewer than [`ErrorSample::KEPT_PER_KIND`] are kept; `reason` is
    /// only called then, and `answer` only copied (its first [`ErrorSample::MAX_ANSWER_BYTES`]).
    #[inline]
    pub fn keep(
        &self,
        kind: ErrorKind,
        status: Option<u16>,
        reason: impl FnOnce() -> String,
        answer: &[u8],
    ) {
        if self.wants(kind) {
            self.keep_slow(kind, ErrorSample::new(status, reason(), answer));
        }
    }

    #[cold]
    fn keep_slow(&self, kind: ErrorKind, sample: ErrorSample) {
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked again under the lock: several requests may have passed `wants` at once.
        let kept = &self.kept[kind as usize];
        if kept.load(Ordering::Relaxed) < ErrorSample::KEPT_PER_KIND {
            samples.push((kind, sample));
            kept.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The samples kept so far, by kind, in the order they came.
    pub fn by_kind(&self) -> BTreeMap<ErrorKind, Vec<ErrorSample>> {
        let mut out: BTreeMap<ErrorKind, Vec<ErrorSample>> = BTreeMap::new();
        for (kind, sample) in self
            .samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            out.entry(*kind).or_default().push(sample.clone());
        }
        out
    }
}

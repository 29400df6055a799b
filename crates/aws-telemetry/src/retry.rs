//! Retry with exponential backoff, and which failures are worth retrying.
//!
//! The sink turns the SDK's own retries off and retries here instead, so that every retry is counted in
//! its [`SinkReport`](crate::SinkReport).

use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// Error codes AWS services use for "slow down"; retried like HTTP 429 and 5xx.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
];

/// Exponential backoff with "equal jitter": attempt `n` (0-based) waits between half and all of
/// `min(max_delay, base_delay * 2^n)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt + 1`; `jitter` in `[0, 1)` picks the point in the upper half.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(31)));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// True for answers that mean "try again later": HTTP 429, any 5xx, or a throttling error code.
pub fn is_retryable_answer(status: u16, code: Option<&str>) -> bool {
    status == 429 || status >= 500 || code.is_some_and(|c| THROTTLING_CODES.contains(&c))
}

/// True when an SDK error is transient: a timeout, a failed connection, an unreadable answer, or a
/// retryable answer (see [`is_retryable_answer`]). Requests the SDK could not build are not retried.
pub fn is_retryable<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HasStatus,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            is_retryable_answer(service.raw().status(), service.err().code())
        }
        _ => false,
    }
}

/// An HTTP answer's status code (implemented for the SDK's raw response).
pub trait HasStatus {
    fn status(&self) -> u16;
}

impl HasStatus for aws_sdk_cloudwatch::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A small xorshift generator for backoff jitter: seeded, so that a run's retries are reproducible, and
/// seeded differently per worker, so that workers sharing a RunId do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next value in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        // Without jitter (0) the wait is half the exponential step; with jitter near 1, all of it.
        assert_eq!(p.delay(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(100));
        assert_eq!(p.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, 1.0), Duration::from_millis(800));
        assert_eq!(p.delay(4, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(30, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(u32::MAX, 0.0), Duration::from_millis(500));
        for attempt in 0..8 {
            let d = p.delay(attempt, 0.37);
            assert!(d >= p.delay(attempt, 0.0) && d <= p.delay(attempt, 1.0));
        }
    }

    #[test]
    fn throttling_and_server_errors_are_retried_client_errors_are_not() {
        assert!(is_retryable_answer(503, None));
        assert!(is_retryable_answer(500, Some("InternalServiceError")));
        assert!(is_retryable_answer(429, None));
        assert!(is_retryable_answer(400, Some("Throttling")));
        assert!(is_retryable_answer(400, Some("ThrottlingException")));
        assert!(!is_retryable_answer(400, Some("InvalidParameterValue")));
        assert!(!is_retryable_answer(403, Some("AccessDenied")));
        assert!(!is_retryable_answer(404, None));
    }

    #[test]
    fn jitter_is_seeded_and_in_range() {
        let (mut a, mut b, mut c) = (Jitter::new(7), Jitter::new(7), Jitter::new(8));
        let xs: Vec<f64> = (0..1000).map(|_| a.next_unit()).collect();
        let ys: Vec<f64> = (0..1000).map(|_| b.next_unit()).collect();
        let zs: Vec<f64> = (0..1000).map(|_| c.next_unit()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    }
}

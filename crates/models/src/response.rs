//! `[target.response]`: where a scoring API's answer holds its decision and score, and what its own
//! decision words mean.

use crate::verdict::Decision;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to read a verdict from an HTTP target's answer. Every field is optional: an empty table reads
/// fraud-sim's answer (`{"decision": "decline", "risk_score": 0.93}`) through `[target]`'s
/// `decision_pointer` and `score_pointer`.
///
/// ```
/// let spec: models::ResponseSpec = toml::from_str(r#"
///     decision = "/outcome/action"
///     score = "/riskScore"
///     decisions = { ALLOW = "approve", CHALLENGE = "review", BLOCK = "decline" }
/// "#).unwrap();
/// assert_eq!(spec.decisions["BLOCK"], models::Decision::Decline);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseSpec {
    /// JSON pointer (RFC 6901) to the decision; overrides `[target] decision_pointer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// JSON pointer to the risk score; overrides `[target] score_pointer`. An answer without a value
    /// there is still a verdict (with no score), unless the decision comes from the score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// The API's decision words (compared case-insensitively) and what each means. A JSON boolean at
    /// the decision pointer is looked up as `"true"` / `"false"`. Empty: `approve`, `review`,
    /// `decline` in any case. A word not in the table is a `malformed` answer.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub decisions: BTreeMap<String, Decision>,
    /// Score-only APIs: a score at or above this is a decline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_at: Option<f64>,
    /// Score-only APIs: a score at or above this (and below `decline_at`) is a review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_at: Option<f64>,
}

impl ResponseSpec {
    /// True when nothing is set (the table is then left out of a written scenario).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// True when the decision is read from the score through `decline_at` / `review_at`.
    pub fn is_score_only(&self) -> bool {
        self.decline_at.is_some() || self.review_at.is_some()
    }
}

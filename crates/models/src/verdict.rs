//! What a fraud detector answers for one transaction.

use serde::{Deserialize, Serialize};

/// The detector's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Review,
    Decline,
}

impl Decision {
    /// The wire name (serde's `snake_case` form).
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Review => "review",
            Decision::Decline => "decline",
        }
    }

    /// The decision whose wire name is exactly `word`.
    pub fn from_wire(word: &str) -> Option<Self> {
        [Decision::Approve, Decision::Review, Decision::Decline]
            .into_iter()
            .find(|d| d.as_str() == word)
    }

    /// A declined or reviewed transaction counts as flagged: for fraud that means caught.
    pub const fn is_flagged(self) -> bool {
        matches!(self, Decision::Review | Decision::Decline)
    }
}

/// Time one agent of the detector's pipeline spent on the transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTiming {
    pub name: String,
    /// Time in the agent, queueing included, in microseconds.
    pub duration_us: u64,
    /// False when the agent failed or timed out and the pipeline fell back.
    #[serde(default = "yes")]
    pub ok: bool,
}

fn yes() -> bool {
    true
}

/// `{"decision":"decline","risk_score":0.93,"reasons":["velocity"],"agents":[{"name":"pattern_detector","duration_us":850,"ok":true}]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    /// 0 (surely legitimate) to 1 (surely fraud), or on the API's own scale; `NaN` when the answer
    /// carried no score (a verdict all the same).
    pub risk_score: f64,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub agents: Vec<AgentTiming>,
}

/// How a request ended when it did not end with a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// HTTP 429 Too Many Requests, apart from other 4xx because it means "back off", not "bad request".
    #[serde(rename = "http_429")]
    Http429,
    #[serde(rename = "http_4xx")]
    Http4xx,
    /// HTTP 401 or 403: the API refused the credentials (a missing or wrong key or token), apart
    /// from other 4xx because no amount of load changes it.
    Auth,
    #[serde(rename = "http_5xx")]
    Http5xx,
    Timeout,
    /// Connection refused or reset.
    Connection,
    /// The TLS layer failed: an unknown CA, a name mismatch, an expired certificate, a refused
    /// client certificate. Apart from `connection` because retrying does not help; the setup must change.
    Tls,
    /// The answer could not be read as a verdict.
    Malformed,
    /// Never sent because the in-flight bound was reached. Counted, never silently skipped.
    Dropped,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Http429,
        ErrorKind::Http4xx,
        ErrorKind::Auth,
        ErrorKind::Http5xx,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Tls,
        ErrorKind::Malformed,
        ErrorKind::Dropped,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http429 => "http_429",
            ErrorKind::Http4xx => "http_4xx",
            ErrorKind::Auth => "auth",
            ErrorKind::Http5xx => "http_5xx",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::Tls => "tls",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Dropped => "dropped",
        }
    }

    /// The kind for an HTTP status that is not a success.
    pub const fn from_status(status: u16) -> Self {
        match status {
            429 => ErrorKind::Http429,
            401 | 403 => ErrorKind::Auth,
            500..=599 => ErrorKind::Http5xx,
            _ => ErrorKind::Http4xx,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_json_form() {
        let v: Verdict = serde_json::from_str(
            r#"{"decision":"decline","risk_score":0.93,"reasons":["velocity"],"agents":[{"name":"pattern_detector","duration_us":850}]}"#,
        )
        .unwrap();
        assert_eq!(v.decision, Decision::Decline);
        assert!(v.agents[0].ok);
        assert!(Decision::Review.is_flagged() && !Decision::Approve.is_flagged());
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(ErrorKind::from_status(503), ErrorKind::Http5xx);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::Http429);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::Http4xx);
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Auth);
        assert_eq!(ErrorKind::from_status(403), ErrorKind::Auth);
    }
}

//! Request bodies and response mapping: how a transaction becomes a request body, and how an answer
//! becomes a [`Verdict`].

use crate::{TargetConfigError, TargetError};
use bytes::{BufMut as _, BytesMut};
use models::{AgentTiming, Decision, Transaction, Verdict};
use serde_json::Value;

/// The placeholder a body template uses for the transaction's JSON.
pub const TRANSACTION_PLACEHOLDER: &str = "{{transaction}}";

/// A request body: the transaction's JSON alone, or a template in which every `{{transaction}}` stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    /// The literal text around the placeholders; `parts.len() - 1` placeholders.
    parts: Vec<String>,
}

impl Default for BodyTemplate {
    fn default() -> Self {
        Self {
            parts: vec![String::new(), String::new()],
        }
    }
}

impl BodyTemplate {
    /// Parses a template; it must contain `{{transaction}}` at least once.
    pub fn parse(template: &str) -> Result<Self, TargetConfigError> {
        let parts: Vec<String> = template
            .split(TRANSACTION_PLACEHOLDER)
            .map(str::to_owned)
            .collect();
        if parts.len() < 2 {
            return Err(TargetConfigError::InvalidSetting {
                field: "body_template",
                reason: format!(
                    "{template:?} does not contain {TRANSACTION_PLACEHOLDER}; write it where the transaction's JSON goes, \
                     e.g. {{\"payload\": {TRANSACTION_PLACEHOLDER}}}"
                ),
            });
        }
        Ok(Self { parts })
    }

    /// Renders the body for one transaction into a new buffer.
    pub fn render(&self, txn: &Transaction) -> Result<Vec<u8>, TargetError> {
        let mut out = BytesMut::with_capacity(self.size_hint());
        self.render_into(txn, &mut out)?;
        Ok(out.to_vec())
    }

    /// About how many bytes a body takes: the literal text and room for one typical transaction's
    /// JSON per placeholder (about 330 bytes).
    pub fn size_hint(&self) -> usize {
        /// Room for a transaction's JSON.
        const JSON_ROOM: usize = 512;
        let literal: usize = self.parts.iter().map(String::len).sum();
        literal + JSON_ROOM * (self.parts.len() - 1)
    }

    /// Appends the body for one transaction to `out`: the JSON is written once, straight into the
    /// buffer, and copied for any further placeholder.
    pub fn render_into(&self, txn: &Transaction, out: &mut BytesMut) -> Result<(), TargetError> {
        let mut json_at: Option<std::ops::Range<usize>> = None;
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                match &json_at {
                    Some(range) => {
                        let json = out[range.clone()].to_vec();
                        out.extend_from_slice(&json);
                    }
                    None => {
                        let start = out.len();
                        serde_json::to_writer(out.writer(), txn).map_err(|e| {
                            TargetError::Malformed {
                                reason: format!("cannot serialize transaction {}: {e}", txn.id),
                            }
                        })?;
                        json_at = Some(start..out.len());
                    }
                }
            }
            out.extend_from_slice(part.as_bytes());
        }
        Ok(())
    }
}

/// Where the decision and the risk score are in the answer (JSON pointers, RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMapping {
    pub decision_pointer: String,
    pub score_pointer: String,
}

impl Default for ResponseMapping {
    /// Fits fraud-sim's answer: `/decision` and `/risk_score`.
    fn default() -> Self {
        Self {
            decision_pointer: "/decision".into(),
            score_pointer: "/risk_score".into(),
        }
    }
}

impl ResponseMapping {
    pub fn new(decision_pointer: &str, score_pointer: &str) -> Result<Self, TargetConfigError> {
        for (field, p) in [
            ("decision_pointer", decision_pointer),
            ("score_pointer", score_pointer),
        ] {
            if !p.is_empty() && !p.starts_with('/') {
                return Err(TargetConfigError::InvalidSetting {
                    field,
                    reason: format!(
                        "{p:?} is not a JSON pointer; it must start with '/', like \"/result/decision\""
                    ),
                });
            }
        }
        Ok(Self {
            decision_pointer: decision_pointer.to_owned(),
            score_pointer: score_pointer.to_owned(),
        })
    }

    /// The default pointers (compared without building a default mapping, which allocates).
    fn is_default(&self) -> bool {
        self.decision_pointer == "/decision" && self.score_pointer == "/risk_score"
    }

    /// Reads a verdict from an answer body. The decision is a string (`approve`, `review`, `decline`, any
    /// case); the score a number or a numeric string. `reasons` and `agents` are read when present at the
    /// top level.
    pub fn parse(&self, body: &[u8]) -> Result<Verdict, TargetError> {
        if self.is_default()
            && let Ok(v) = serde_json::from_slice::<Verdict>(body)
        {
            // Fast path for fraud-sim and look-alikes; anything else takes the general path below.
            return Ok(v);
        }
        let doc: Value = serde_json::from_slice(body).map_err(|e| TargetError::Malformed {
            reason: format!("the body is not JSON ({e}): {}", preview(body)),
        })?;
        let decision = doc
            .pointer(&self.decision_pointer)
            .ok_or_else(|| TargetError::Malformed {
                reason: format!(
                    "no decision at {:?} in {}",
                    self.decision_pointer,
                    preview(body)
                ),
            })
            .and_then(parse_decision)?;
        let risk_score = doc
            .pointer(&self.score_pointer)
            .ok_or_else(|| TargetError::Malformed {
                reason: format!(
                    "no risk score at {:?} in {}",
                    self.score_pointer,
                    preview(body)
                ),
            })
            .and_then(parse_score)?;
        let reasons = doc
            .get("reasons")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let agents = doc
            .get("agents")
            .and_then(|a| serde_json::from_value::<Vec<AgentTiming>>(a.clone()).ok())
            .unwrap_or_default();
        Ok(Verdict {
            decision,
            risk_score,
            reasons,
            agents,
        })
    }
}

fn parse_decision(v: &Value) -> Result<Decision, TargetError> {
    let s = v.as_str().ok_or_else(|| TargetError::Malformed {
        reason: format!("the decision {v} is not a string"),
    })?;
    match s.trim().to_ascii_lowercase().as_str() {
        "approve" => Ok(Decision::Approve),
        "review" => Ok(Decision::Review),
        "decline" => Ok(Decision::Decline),
        _ => Err(TargetError::Malformed {
            reason: format!(
                "unknown decision {s:?}; expected approve, review or decline (any case)"
            ),
        }),
    }
}

fn parse_score(v: &Value) -> Result<f64, TargetError> {
    let score = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    score
        .filter(|s| s.is_finite())
        .ok_or_else(|| TargetError::Malformed {
            reason: format!("the risk score {v} is not a finite number"),
        })
}

/// The start of a body, for error messages.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    if body.len() > 120 {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapping_reads_fraud_sim_answers() {
        let v = ResponseMapping::default()
            .parse(br#"{"decision":"decline","risk_score":0.93,"reasons":["velocity"],"agents":[{"name":"pattern_detector","duration_us":850,"ok":false}]}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Decline);
        assert_eq!(v.reasons, ["velocity"]);
        assert!(!v.agents[0].ok);
    }

    #[test]
    fn custom_pointers_and_case_insensitive_decisions() {
        let m = ResponseMapping::new("/result/action", "/result/score").unwrap();
        let v = m
            .parse(br#"{"result":{"action":"REVIEW","score":"0.5"}}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Review);
        assert_eq!(v.risk_score, 0.5);
        assert!(v.agents.is_empty());
        let v = ResponseMapping::default()
            .parse(br#"{"decision":"Approve","risk_score":0}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Approve);
    }

    #[test]
    fn malformed_answers_are_typed_errors() {
        let m = ResponseMapping::default();
        for body in [
            &b"not json"[..],
            br#"{"risk_score":0.1}"#,
            br#"{"decision":"maybe","risk_score":0.1}"#,
            br#"{"decision":"approve"}"#,
            br#"{"decision":"approve","risk_score":"high"}"#,
            br#"{"decision":7,"risk_score":1}"#,
        ] {
            assert!(
                matches!(m.parse(body), Err(TargetError::Malformed { .. })),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(ResponseMapping::new("decision", "/s").is_err());
    }

    #[test]
    fn templates_wrap_the_transaction() {
        assert!(BodyTemplate::parse("{\"x\":1}").is_err());
        let t = BodyTemplate::parse("{\"a\":{{transaction}},\"b\":{{transaction}}}").unwrap();
        assert_eq!(t.parts.len(), 3);
        let txn = transaction_factory_free_txn();
        let json = String::from_utf8(serde_json::to_vec(&txn).unwrap()).unwrap();
        let body = String::from_utf8(t.render(&txn).unwrap()).unwrap();
        assert_eq!(body, format!("{{\"a\":{json},\"b\":{json}}}"));
        assert_eq!(
            BodyTemplate::default().render(&txn).unwrap(),
            json.as_bytes()
        );
    }

    fn transaction_factory_free_txn() -> Transaction {
        use models::{
            CardId, Channel, CountryCode, Currency, CustomerId, MerchantId, Timestamp, TxnId,
        };
        Transaction {
            id: TxnId(1),
            timestamp: Timestamp::from_secs(1_767_225_600),
            amount_minor: 999,
            currency: Currency::EUR,
            card_id: CardId(2),
            customer_id: CustomerId(3),
            merchant_id: MerchantId(4),
            merchant_name: std::borrow::Cow::Borrowed("Caf\u{e9} \"Quote\""),
            mcc: 5812,
            channel: Channel::Contactless,
            country: CountryCode::new("CH"),
            lat: 47.37,
            lon: 8.54,
            device_id: None,
            ip: None,
        }
    }
}

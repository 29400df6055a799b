//! Reading an answer: where its decision and score are (JSON pointers), what the API's own decision
//! words mean, or, for score-only APIs, the thresholds that turn a score into a decision.
//!
//! The answer is read with one pass of serde_json's borrowed deserializer that follows the pointers
//! and skips everything else: no `serde_json::Value` tree is built for the decision and the score
//! (a test checks that it agrees with `Value::pointer` on arbitrary JSON).

use crate::{TargetConfigError, TargetError};
use models::{AgentTiming, Decision, ResponseSpec, Verdict};
use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// How an answer becomes a [`Verdict`]: the decision and score pointers (RFC 6901), the API's
/// decision words, and score thresholds for APIs that answer with a score alone.
///
/// ```
/// use models::{Decision, ResponseSpec};
/// use targets::{ResponseMapping, parse_decision_map};
/// let spec = ResponseSpec {
///     decision: Some("/outcome/action".into()),
///     score: Some("/riskScore".into()),
///     decisions: parse_decision_map("ALLOW=approve,CHALLENGE=review,BLOCK=decline").unwrap(),
///     ..ResponseSpec::default()
/// };
/// let mapping = ResponseMapping::from_spec("/decision", "/risk_score", &spec).unwrap();
/// let v = mapping.parse(br#"{"outcome":{"action":"Block"},"riskScore":87}"#).unwrap();
/// assert_eq!((v.decision, v.risk_score), (Decision::Decline, 87.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseMapping {
    decision: Pointer,
    score: Pointer,
    /// The API's words, trimmed and lowercased; empty for approve / review / decline.
    words: Vec<(String, Decision)>,
    /// Score-only: the decision comes from the score.
    thresholds: Option<Thresholds>,
}

/// A score at or above `decline_at` is a decline, else at or above `review_at` a review, else an
/// approval; an absent threshold is never reached.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Thresholds {
    decline_at: f64,
    review_at: f64,
}

impl Thresholds {
    fn decide(self, score: f64) -> Decision {
        if score >= self.decline_at {
            Decision::Decline
        } else if score >= self.review_at {
            Decision::Review
        } else {
            Decision::Approve
        }
    }
}

/// The default pointers: fraud-sim's answer.
const DEFAULT_DECISION: &str = "/decision";
const DEFAULT_SCORE: &str = "/risk_score";

impl Default for ResponseMapping {
    /// Fits fraud-sim's answer: `/decision` and `/risk_score`.
    fn default() -> Self {
        Self {
            decision: Pointer::compile(DEFAULT_DECISION).unwrap_or_default(),
            score: Pointer::compile(DEFAULT_SCORE).unwrap_or_default(),
            words: Vec::new(),
            thresholds: None,
        }
    }
}

impl ResponseMapping {
    /// Decision and score pointers with the standard decision words.
    pub fn new(decision_pointer: &str, score_pointer: &str) -> Result<Self, TargetConfigError> {
        Self::from_spec(decision_pointer, score_pointer, &ResponseSpec::default())
    }

    /// From `[target]`'s `decision_pointer` and `score_pointer` and its `[target.response]` table,
    /// whose pointers take precedence. Errors name the setting (`response.decisions`, ...).
    pub fn from_spec(
        decision_pointer: &str,
        score_pointer: &str,
        spec: &ResponseSpec,
    ) -> Result<Self, TargetConfigError> {
        let (decision_field, decision) = match &spec.decision {
            Some(p) => ("response.decision", p.as_str()),
            None => ("decision_pointer", decision_pointer),
        };
        let (score_field, score) = match &spec.score {
            Some(p) => ("response.score", p.as_str()),
            None => ("score_pointer", score_pointer),
        };
        let decision =
            Pointer::compile(decision).ok_or_else(|| not_a_pointer(decision_field, decision))?;
        let score = Pointer::compile(score).ok_or_else(|| not_a_pointer(score_field, score))?;
        let mut words: Vec<(String, Decision)> = Vec::with_capacity(spec.decisions.len());
        for (word, d) in &spec.decisions {
            let key = word.trim().to_lowercase();
            if key.is_empty() {
                return Err(TargetConfigError::InvalidSetting {
                    field: "response.decisions",
                    reason: "a decision word is empty; write the word the API answers, e.g. BLOCK = \"decline\"".into(),
                });
            }
            if let Some((_, other)) = words.iter().find(|(w, _)| *w == key) {
                if other != d {
                    return Err(TargetConfigError::InvalidSetting {
                        field: "response.decisions",
                        reason: format!(
                            "{word:?} is listed twice (words are compared without case) with different decisions; keep one"
                        ),
                    });
                }
                continue;
            }
            words.push((key, *d));
        }
        let thresholds = if spec.is_score_only() {
            for (field, v) in [
                ("response.decline_at", spec.decline_at),
                ("response.review_at", spec.review_at),
            ] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(TargetConfigError::InvalidSetting {
                        field,
                        reason: "must be a finite number on the API's score scale".into(),
                    });
                }
            }
            if let (Some(d), Some(r)) = (spec.decline_at, spec.review_at)
                && r > d
            {
                return Err(TargetConfigError::InvalidSetting {
                    field: "response.review_at",
                    reason: format!(
                        "{r} is above decline_at ({d}); a review needs a lower score than a decline"
                    ),
                });
            }
            if !words.is_empty() {
                return Err(TargetConfigError::InvalidSetting {
                    field: "response.decisions",
                    reason:
                        "a score-only mapping (decline_at / review_at) reads no decision words; \
                             drop either the thresholds or the decisions table"
                            .into(),
                });
            }
            if spec.decision.is_some() {
                return Err(TargetConfigError::InvalidSetting {
                    field: "response.decision",
                    reason: "a score-only mapping (decline_at / review_at) takes the decision from the score; \
                             drop either the thresholds or the decision pointer"
                        .into(),
                });
            }
            Some(Thresholds {
                decline_at: spec.decline_at.unwrap_or(f64::INFINITY),
                review_at: spec.review_at.unwrap_or(f64::INFINITY),
            })
        } else {
            None
        };
        Ok(Self {
            decision,
            score,
            words,
            thresholds,
        })
    }

    /// The mapping that fits fraud-sim's answer, which a [`Verdict`] deserializes directly.
    fn is_default(&self) -> bool {
        self.words.is_empty()
            && self.thresholds.is_none()
            && self.decision.text == DEFAULT_DECISION
            && self.score.text == DEFAULT_SCORE
    }

    /// Reads a verdict from an answer body. The decision is a word of the table (any case; a
    /// boolean as `true` / `false`, an integer as its digits), or `approve` / `review` / `decline`
    /// without a table; the score a number or a numeric string, `NaN` in the verdict when the answer
    /// has none. `reasons` and `agents` are read when present at the top level. Anything else is a
    /// [`TargetError::Malformed`] that quotes the answer.
    pub fn parse(&self, body: &[u8]) -> Result<Verdict, TargetError> {
        if self.is_default()
            && let Ok(v) = serde_json::from_slice::<Verdict>(body)
        {
            // Fast path for fraud-sim and look-alikes; anything else takes the general path below.
            // (Borrowing the decision as text instead was measured: 1,427 instructions against
            // 1,434, not worth a second reader.)
            return Ok(v);
        }
        let want = [
            Some(self.decision.tokens.as_slice()),
            Some(self.score.tokens.as_slice()),
            Some(REASONS),
            Some(AGENTS),
        ];
        let found = scan(body, want).map_err(|e| TargetError::Malformed {
            reason: format!("the body is not JSON ({e}): {}", preview(body)),
        })?;
        let [decision_leaf, score_leaf, ..] = &found.leaves;
        let risk_score = match score_leaf {
            Leaf::Missing | Leaf::Null => None,
            leaf => Some(score_of(leaf).ok_or_else(|| TargetError::Malformed {
                reason: format!(
                    "the risk score at {:?} is not a finite number in {}",
                    self.score.text,
                    preview(body)
                ),
            })?),
        };
        let decision = match self.thresholds {
            Some(t) => t.decide(risk_score.ok_or_else(|| TargetError::Malformed {
                reason: format!(
                    "no risk score at {:?} to compare with decline_at / review_at in {}",
                    self.score.text,
                    preview(body)
                ),
            })?),
            None => self.decision_of(decision_leaf, body)?,
        };
        let reasons = found
            .values
            .first()
            .and_then(Option::as_ref)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let agents = found
            .values
            .get(1)
            .and_then(Option::as_ref)
            .and_then(|a| Vec::<AgentTiming>::deserialize(a).ok())
            .unwrap_or_default();
        Ok(Verdict {
            decision,
            risk_score: risk_score.unwrap_or(f64::NAN),
            reasons,
            agents,
        })
    }

    fn decision_of(&self, leaf: &Leaf<'_>, body: &[u8]) -> Result<Decision, TargetError> {
        let malformed = |what: String| TargetError::Malformed {
            reason: format!("{what} in {}", preview(body)),
        };
        let word: Cow<'_, str> = match leaf {
            Leaf::Missing => {
                return Err(malformed(format!(
                    "no decision at {:?}",
                    self.decision.text
                )));
            }
            Leaf::Str(s) => Cow::Borrowed(s.as_ref()),
            Leaf::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Leaf::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Cow::Owned(format!("{}", *n as i64))
            }
            other => {
                return Err(malformed(format!(
                    "the decision at {:?} is {}, not a word",
                    self.decision.text,
                    other.describe()
                )));
            }
        };
        let key = word.trim();
        if self.words.is_empty() {
            return match Decision::from_wire(&key.to_ascii_lowercase()) {
                Some(d) => Ok(d),
                None => Err(malformed(format!(
                    "unknown decision {key:?} at {:?}; expected approve, review or decline (any case), \
                     or map the API's words with [target.response.decisions]",
                    self.decision.text
                ))),
            };
        }
        // Stored lowercased; an ASCII word (the usual case) is compared without allocating.
        let lower = if key.is_ascii() {
            Cow::Borrowed(key)
        } else {
            Cow::Owned(key.to_lowercase())
        };
        self.words
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(&lower))
            .map(|(_, d)| *d)
            .ok_or_else(|| {
                let known: Vec<&str> = self.words.iter().map(|(w, _)| w.as_str()).collect();
                malformed(format!(
                    "decision {key:?} at {:?} is not in [target.response.decisions] ({}); add it there",
                    self.decision.text,
                    known.join(", ")
                ))
            })
    }
}

/// Reads `--decision-map`'s form, `ALLOW=approve,CHALLENGE=review,BLOCK=decline`: the API's word,
/// `=`, and `approve`, `review` or `decline` (any case), separated by commas. `true=decline` maps a
/// boolean answer.
///
/// ```
/// use models::Decision;
/// let map = targets::parse_decision_map("ALLOW=approve, BLOCK=Decline").unwrap();
/// assert_eq!(map["BLOCK"], Decision::Decline);
/// assert!(targets::parse_decision_map("ALLOW=yes").is_err());
/// ```
pub fn parse_decision_map(text: &str) -> Result<BTreeMap<String, Decision>, TargetConfigError> {
    let bad = |reason: String| TargetConfigError::InvalidSetting {
        field: "decision-map",
        reason,
    };
    let mut map = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((word, decision)) = item.split_once('=') else {
            return Err(bad(format!(
                "{item:?} has no '='; write WORD=decision, e.g. BLOCK=decline"
            )));
        };
        let word = word.trim();
        if word.is_empty() {
            return Err(bad(format!(
                "{item:?} has no word before '='; write WORD=decision, e.g. BLOCK=decline"
            )));
        }
        let name = decision.trim().to_ascii_lowercase();
        let Some(decision) = Decision::from_wire(&name) else {
            return Err(bad(format!(
                "{word:?} maps to {name:?}; the decisions are approve, review and decline"
            )));
        };
        if let Some(prev) = map
            .keys()
            .find(|k: &&String| k.to_lowercase() == word.to_lowercase())
        {
            return Err(bad(format!(
                "{word:?} is given twice (as {prev:?}; words are compared without case)"
            )));
        }
        map.insert(word.to_owned(), decision);
    }
    if map.is_empty() {
        return Err(bad(
            "no words given; write e.g. ALLOW=approve,CHALLENGE=review,BLOCK=decline".into(),
        ));
    }
    Ok(map)
}

fn not_a_pointer(field: &'static str, p: &str) -> TargetConfigError {
    TargetConfigError::InvalidSetting {
        field,
        reason: format!(
            "{p:?} is not a JSON pointer; it must start with '/', like \"/result/decision\""
        ),
    }
}

fn score_of(leaf: &Leaf<'_>) -> Option<f64> {
    match leaf {
        Leaf::Number(n) => Some(*n),
        Leaf::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite())
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

/// A JSON pointer, split into its unescaped reference tokens once.
#[derive(Debug, Clone, PartialEq, Default)]
struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// `None` unless empty (the whole answer) or starting with `/`.
    fn compile(text: &str) -> Option<Self> {
        if !text.is_empty() && !text.starts_with('/') {
            return None;
        }
        let tokens = text
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Some(Self {
            text: text.to_owned(),
            tokens,
        })
    }
}

const REASONS: &[String] = &[];
const AGENTS: &[String] = &[];

/// A scalar found at a pointer, borrowed from the body where it has no escapes.
#[derive(Debug, Clone, PartialEq)]
enum Leaf<'a> {
    Missing,
    Null,
    Bool(bool),
    Number(f64),
    Str(Cow<'a, str>),
    /// An object or an array.
    Compound,
}

impl Leaf<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Leaf::Missing => "missing",
            Leaf::Null => "null",
            Leaf::Bool(_) => "a boolean",
            Leaf::Number(_) => "a number",
            Leaf::Str(_) => "a string",
            Leaf::Compound => "an object or an array",
        }
    }

    fn of_value(v: &Value) -> Leaf<'static> {
        match v {
            Value::Null => Leaf::Null,
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Leaf::Null, Leaf::Number),
            Value::String(s) => Leaf::Str(Cow::Owned(s.clone())),
            Value::Array(_) | Value::Object(_) => Leaf::Compound,
        }
    }
}

/// Slots of one scan: 0 and 1 are scalars (decision, score); 2 and 3 the top-level `reasons` and
/// `agents`, kept as small `Value`s since they are read leniently.
const SLOTS: usize = 4;
const SCALARS: usize = 2;

#[derive(Debug)]
struct Found<'a> {
    leaves: [Leaf<'a>; SCALARS],
    values: [Option<Value>; SLOTS - SCALARS],
}

/// Follows the pointers in `want` (remaining tokens per slot; the last two are the top-level keys
/// `reasons` and `agents`) through `body` in one pass.
fn scan<'a>(
    body: &'a [u8],
    want: [Option<&[String]>; SLOTS],
) -> Result<Found<'a>, serde_json::Error> {
    let mut found = Found {
        leaves: [Leaf::Missing, Leaf::Missing],
        values: [None, None],
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    // The top level: the scalar slots start at the root, `reasons` / `agents` one key below it.
    Node {
        want,
        top: true,
        found: &mut found,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

/// Top-level keys read as values.
const VALUE_KEYS: [&str; SLOTS - SCALARS] = ["reasons", "agents"];

/// One JSON value in the scan, with what each slot still wants below it.
struct Node<'w, 'f, 'a> {
    want: [Option<&'w [String]>; SLOTS],
    /// The document's root, where `reasons` and `agents` are keys.
    top: bool,
    found: &'f mut Found<'a>,
}

impl<'w, 'f, 'a> Node<'w, 'f, 'a> {
    /// Sets every scalar slot that wants this very value.
    fn here(&mut self, leaf: Leaf<'a>) {
        for slot in 0..SCALARS {
            if self.want[slot].is_some_and(<[String]>::is_empty) {
                self.found.leaves[slot] = leaf.clone();
            }
        }
    }

    /// What each slot wants below the child `matches` selects.
    fn child(&self, matches: impl Fn(&str) -> bool) -> [Option<&'w [String]>; SLOTS] {
        let mut out = [None; SLOTS];
        for (out, want) in out.iter_mut().zip(&self.want).take(SCALARS) {
            if let Some(rest) = want
                && let Some((first, tail)) = rest.split_first()
                && matches(first)
            {
                *out = Some(tail);
            }
        }
        out
    }
}

impl<'de, 'w, 'f> DeserializeSeed<'de> for Node<'w, 'f, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // A duplicate key read later replaces what an earlier one found, as in `Value`.
        for slot in 0..SCALARS {
            if self.want[slot].is_some() {
                self.found.leaves[slot] = Leaf::Missing;
            }
        }
        if self.top {
            self.found.values = [None, None];
        }
        if self.want.iter().all(Option::is_none) && !self.top {
            return IgnoredAny::deserialize(d).map(|_| ());
        }
        d.deserialize_any(self)
    }
}

impl<'de, 'w, 'f> Visitor<'de> for Node<'w, 'f, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(mut self, v: bool) -> Result<(), E> {
        self.here(Leaf::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(mut self, v: i64) -> Result<(), E> {
        self.here(Leaf::Number(v as f64));
        Ok(())
    }

    fn visit_u64<E>(mut self, v: u64) -> Result<(), E> {
        self.here(Leaf::Number(v as f64));
        Ok(())
    }

    fn visit_f64<E>(mut self, v: f64) -> Result<(), E> {
        self.here(Leaf::Number(v));
        Ok(())
    }

    fn visit_borrowed_str<E>(mut self, v: &'de str) -> Result<(), E> {
        self.here(Leaf::Str(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E>(mut self, v: &str) -> Result<(), E> {
        self.here(Leaf::Str(Cow::Owned(v.to_owned())));
        Ok(())
    }

    fn visit_unit<E>(mut self) -> Result<(), E> {
        self.here(Leaf::Null);
        Ok(())
    }

    fn visit_none<E>(mut self) -> Result<(), E> {
        self.here(Leaf::Null);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.here(Leaf::Compound);
        while let Some(key) = map.next_key_seed(Key)? {
            if self.top
                && let Some(i) = VALUE_KEYS.iter().position(|k| *k == key)
            {
                self.found.values[i] = Some(map.next_value::<Value>()?);
                // The scalar slots may point into `reasons` or `agents` too.
                let child = self.child(|t| t == key);
                let value = self.found.values[i].as_ref();
                for (leaf, rest) in self.found.leaves.iter_mut().zip(child) {
                    if let Some(rest) = rest {
                        *leaf = value
                            .and_then(|v| walk(v, rest))
                            .map_or(Leaf::Missing, Leaf::of_value);
                    }
                }
                continue;
            }
            let want = self.child(|t| t == key);
            if want.iter().all(Option::is_none) {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(Node {
                    want,
                    top: false,
                    found: &mut *self.found,
                })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.here(Leaf::Compound);
        let mut index = 0usize;
        loop {
            let want = self.child(|t| parse_index(t) == Some(index));
            let more = if want.iter().all(Option::is_none) {
                seq.next_element::<IgnoredAny>()?.is_some()
            } else {
                seq.next_element_seed(Node {
                    want,
                    top: false,
                    found: &mut *self.found,
                })?
                .is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// An object key, borrowed from the body where it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// An array index token as RFC 6901 (and `Value::pointer`) reads it: digits, no leading zero.
fn parse_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// `Value::pointer` over already split tokens.
fn walk<'v>(v: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens.iter().try_fold(v, |v, t| match v {
        Value::Object(m) => m.get(t),
        Value::Array(a) => parse_index(t).and_then(|i| a.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(f: impl FnOnce(&mut ResponseSpec)) -> ResponseSpec {
        let mut s = ResponseSpec::default();
        f(&mut s);
        s
    }

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
            .parse(br#"{"result":{"action":"REVIEW","score":"0.5"},"reasons":["a",1],"agents":[{"name":"x","duration_us":3}]}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Review);
        assert_eq!(v.risk_score, 0.5);
        assert_eq!(v.reasons, ["a"]);
        assert_eq!(v.agents[0].duration_us, 3);
        let v = ResponseMapping::default()
            .parse(br#"{"decision":"Approve","risk_score":0}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Approve);
    }

    #[test]
    fn an_answer_without_a_score_is_a_verdict() {
        let v = ResponseMapping::default()
            .parse(br#"{"decision":"approve"}"#)
            .unwrap();
        assert_eq!(v.decision, Decision::Approve);
        assert!(v.risk_score.is_nan());
        let v = ResponseMapping::default()
            .parse(br#"{"decision":"review","risk_score":null}"#)
            .unwrap();
        assert!(v.risk_score.is_nan());
    }

    #[test]
    fn malformed_answers_are_typed_errors() {
        let m = ResponseMapping::default();
        for body in [
            &b"not json"[..],
            br#"{"risk_score":0.1}"#,
            br#"{"decision":"maybe","risk_score":0.1}"#,
            br#"{"decision":"approve","risk_score":"high"}"#,
            br#"{"decision":7,"risk_score":1}"#,
            br#"{"decision":{"x":1}}"#,
            br#"{"decision":"approve"} trailing"#,
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
    fn the_apis_own_words_and_booleans() {
        let m = ResponseMapping::from_spec(
            "/decision",
            "/risk_score",
            &spec(|s| {
                s.decision = Some("/outcome/action".into());
                s.score = Some("/riskScore".into());
                s.decisions =
                    parse_decision_map("ALLOW=approve,CHALLENGE=review,BLOCK=decline").unwrap();
            }),
        )
        .unwrap();
        let v = m
            .parse(br#"{"outcome":{"action":"challenge"},"riskScore":41}"#)
            .unwrap();
        assert_eq!((v.decision, v.risk_score), (Decision::Review, 41.0));
        let err = m
            .parse(br#"{"outcome":{"action":"approve"},"riskScore":1}"#)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("\"approve\"") && text.contains("block"),
            "{text}"
        );

        let fraud = ResponseMapping::from_spec(
            "/is_fraud",
            "/p",
            &spec(|s| {
                s.decisions = [
                    ("true".into(), Decision::Decline),
                    ("FALSE".into(), Decision::Approve),
                ]
                .into();
            }),
        )
        .unwrap();
        assert_eq!(
            fraud.parse(br#"{"is_fraud":true}"#).unwrap().decision,
            Decision::Decline
        );
        assert_eq!(
            fraud
                .parse(br#"{"is_fraud":false,"p":0.1}"#)
                .unwrap()
                .decision,
            Decision::Approve
        );
        assert!(fraud.parse(br#"{"is_fraud":null}"#).is_err());

        let codes = ResponseMapping::from_spec(
            "/code",
            "/score",
            &spec(|s| {
                s.decisions = [
                    ("0".into(), Decision::Approve),
                    ("2".into(), Decision::Decline),
                ]
                .into()
            }),
        )
        .unwrap();
        assert_eq!(
            codes.parse(br#"{"code":2}"#).unwrap().decision,
            Decision::Decline
        );
    }

    #[test]
    fn score_only_apis_decide_by_thresholds() {
        let m = ResponseMapping::from_spec(
            "/decision",
            "/score",
            &spec(|s| {
                s.decline_at = Some(0.9);
                s.review_at = Some(0.6);
            }),
        )
        .unwrap();
        for (score, d) in [
            (0.95, Decision::Decline),
            (0.9, Decision::Decline),
            (0.6, Decision::Review),
            (0.59, Decision::Approve),
        ] {
            let body = format!(r#"{{"score":{score}}}"#);
            assert_eq!(m.parse(body.as_bytes()).unwrap().decision, d, "{score}");
        }
        assert!(matches!(
            m.parse(br#"{"decision":"approve"}"#),
            Err(TargetError::Malformed { .. })
        ));
        let decline_only =
            ResponseMapping::from_spec("", "/s", &spec(|s| s.decline_at = Some(50.0))).unwrap();
        assert_eq!(
            decline_only.parse(br#"{"s":49}"#).unwrap().decision,
            Decision::Approve
        );
    }

    #[test]
    fn bad_mappings_name_their_setting() {
        let err = |s: ResponseSpec| {
            ResponseMapping::from_spec("/d", "/s", &s)
                .unwrap_err()
                .to_string()
        };
        assert!(err(spec(|s| s.decision = Some("d".into()))).contains("response.decision"));
        assert!(err(spec(|s| s.score = Some("x".into()))).contains("response.score"));
        assert!(
            err(spec(|s| {
                s.decline_at = Some(0.5);
                s.review_at = Some(0.7);
            }))
            .contains("response.review_at")
        );
        assert!(err(spec(|s| s.decline_at = Some(f64::NAN))).contains("response.decline_at"));
        assert!(
            err(spec(|s| {
                s.decline_at = Some(0.5);
                s.decisions = [("x".into(), Decision::Approve)].into();
            }))
            .contains("response.decisions")
        );
        assert!(
            err(spec(|s| s.decisions = [
                ("Block".into(), Decision::Decline),
                ("BLOCK".into(), Decision::Approve)
            ]
            .into()))
            .contains("twice")
        );
    }

    #[test]
    fn decision_maps_read_and_refuse() {
        let m = parse_decision_map(" ALLOW = approve ,CHALLENGE=REVIEW,BLOCK=decline,").unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m["CHALLENGE"], Decision::Review);
        for bad in ["", "ALLOW", "=approve", "ALLOW=ok", "a=approve,A=decline"] {
            assert!(parse_decision_map(bad).is_err(), "{bad:?}");
        }
    }

    /// The reading through `Value::pointer` that the scan must agree with.
    fn reference(body: &[u8], pointer: &str) -> Result<Leaf<'static>, ()> {
        let v: Value = serde_json::from_slice(body).map_err(|_| ())?;
        Ok(v.pointer(pointer).map_or(Leaf::Missing, Leaf::of_value))
    }

    fn json() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "a", "b", "0", "1", "01", "a/b", "m~n", "é", "q\"", "reasons", "agents",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\"\\\\/é\n]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..5).prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    fn pointer() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "a", "b", "0", "1", "01", "a~1b", "m~0n", "é", "q\"", "reasons", "agents", "x",
        ]);
        prop::collection::vec(token, 0..4).prop_map(|t| t.iter().map(|t| format!("/{t}")).collect())
    }

    proptest! {
        #[test]
        fn the_scan_agrees_with_value_pointer(doc in json(), p1 in pointer(), p2 in pointer(), dup in any::<bool>()) {
            let mut body = serde_json::to_string(&doc).unwrap();
            if dup && body.starts_with("{\"") {
                // A duplicate key: the later value wins in both readings.
                body = format!("{{\"a\":[1,{{\"b\":2}}],{}", &body[1..]);
            }
            let (a, b) = (Pointer::compile(&p1).unwrap(), Pointer::compile(&p2).unwrap());
            let found = scan(body.as_bytes(), [Some(&a.tokens), Some(&b.tokens), Some(REASONS), Some(AGENTS)]).unwrap();
            prop_assert_eq!(&found.leaves[0], &reference(body.as_bytes(), &p1).unwrap());
            prop_assert_eq!(&found.leaves[1], &reference(body.as_bytes(), &p2).unwrap());
            let v: Value = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(found.values[0].as_ref(), v.get("reasons").filter(|_| v.is_object()));
            prop_assert_eq!(found.values[1].as_ref(), v.get("agents").filter(|_| v.is_object()));
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_json_errors_agree(body in prop::collection::vec(any::<u8>(), 0..64), p in pointer()) {
            let ptr = Pointer::compile(&p).unwrap();
            let scanned = scan(&body, [Some(&ptr.tokens), None, Some(REASONS), Some(AGENTS)]);
            prop_assert_eq!(scanned.is_ok(), reference(&body, &p).is_ok());
            let _ = ResponseMapping::default().parse(&body);
        }

        #[test]
        fn decision_maps_never_panic(text in ".{0,40}") {
            if let Ok(map) = parse_decision_map(&text) {
                prop_assert!(!map.is_empty());
            }
        }
    }
}

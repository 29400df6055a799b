//! A dry run against an HTTP API ([`HttpTarget::probe`]): one transaction sent as a run would send
//! it, with everything a user needs to see before a long run kept as plain data: the request as sent
//! (secret header values masked), the status, the raw answer, the verdict it maps to or why it does
//! not, and the latency. The request is built, rendered and its answer mapped by the very code a run
//! uses; only the keeping of what went on the wire is added.

use crate::{HttpTarget, TargetError};
use bytes::Bytes;
use models::{Transaction, Verdict};
use std::time::{Duration, Instant};

/// A request as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    /// `POST`, `PUT`, ...
    pub method: String,
    /// The target's URL.
    pub url: String,
    /// Every header sent, in order, as `(name, value)`; the value of an extra header (`[target.headers]`,
    /// `--header`) is masked as [`models::HeaderValueSpec::masked`] shows it (`***`, or the text as
    /// written with its `${NAME}` references), since it may be a key or a token.
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: Bytes,
}

/// One transaction's exchange with the target ([`HttpTarget::probe`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeExchange {
    pub request: ProbeRequest,
    /// The answer's HTTP status; `None` when no answer was read (refused, timed out, TLS refused,
    /// an answer over `max_answer_bytes`).
    pub status: Option<u16>,
    /// The answer's body as read (empty without an answer).
    pub answer: Bytes,
    /// The verdict the answer maps to, or why there is none: a non-2xx status, an answer the response
    /// mapping cannot read (`malformed`, with the reason), or no answer at all.
    pub outcome: Result<Verdict, TargetError>,
    /// From sending the request to having read the whole answer (or failed), connection opening
    /// included: a dry run sends one request at a time, often on a fresh connection.
    pub latency: Duration,
}

impl ProbeExchange {
    /// True when the answer mapped to a verdict.
    pub fn mapped(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The answer's first bytes, at most `max` and cut at a character boundary when the answer is
    /// UTF-8, and whether anything was cut off.
    pub fn answer_prefix(&self, max: usize) -> (&[u8], bool) {
        cut(&self.answer, max)
    }
}

/// `bytes` cut to at most `max`, at a character boundary when they are UTF-8; true when cut.
fn cut(bytes: &[u8], max: usize) -> (&[u8], bool) {
    if bytes.len() <= max {
        return (bytes, false);
    }
    let end = match std::str::from_utf8(bytes) {
        Ok(text) => (0..=max)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0),
        Err(_) => max,
    };
    (&bytes[..end], true)
}

impl HttpTarget {
    /// Sends `txn` as a run would (the same body rendering, request and answer mapping) and keeps
    /// what went on the wire. The request timeout applies, whether or not the target enforces it for
    /// runs. `Err` only when no request could be made (the body could not be rendered); a failed
    /// exchange is an `Ok` whose `outcome` says why.
    pub async fn probe(&self, txn: &Transaction) -> Result<ProbeExchange, TargetError> {
        let body = self.body_for(txn)?;
        let req = self.request(body.clone());
        let request = ProbeRequest {
            method: req.method().as_str().to_owned(),
            url: self.url().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|(name, value)| {
                    let shown = match self.masked_header(name) {
                        Some(masked) => masked.to_owned(),
                        None if value.is_sensitive() => "***".to_owned(),
                        None => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    };
                    (name.as_str().to_owned(), shown)
                })
                .collect(),
            body,
        };
        let started = Instant::now();
        let sent = self.timed(self.send(req)).await;
        let latency = started.elapsed();
        Ok(match sent {
            Ok((status, answer)) => ProbeExchange {
                outcome: self.verdict(status, &answer),
                request,
                status: Some(status),
                answer,
                latency,
            },
            Err(e) => ProbeExchange {
                request,
                status: None,
                answer: Bytes::new(),
                outcome: Err(e),
                latency,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HttpTargetConfig;
    use models::{Decision, HeaderValueSpec, ResponseSpec};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[test]
    fn an_answer_is_cut_at_a_character_boundary_and_says_so() {
        assert_eq!(cut(b"short", 10), (&b"short"[..], false));
        assert_eq!(cut(b"exactly", 7), (&b"exactly"[..], false));
        assert_eq!(cut(b"abcdef", 3), (&b"abc"[..], true));
        // "é" is two bytes: cutting inside it keeps the whole character out.
        let text = "aé".as_bytes();
        assert_eq!(cut(text, 2), (&b"a"[..], true));
        // Bytes that are not UTF-8 are cut where asked.
        let binary = [0x80u8, 0x80, 0x80, 0x80, 0x80];
        assert_eq!(cut(&binary, 2), (&binary[..2], true));
    }

    /// A server on loopback that reads one request and answers `answer`; returns its URL and what it
    /// received.
    async fn one_answer(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v2/assess", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body the Content-Length announces.
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        (url, server)
    }

    fn config(url: &str) -> HttpTargetConfig {
        let mut secret = HeaderValueSpec::new("Bearer ${PROBE_TOKEN}");
        secret
            .expand("Authorization", |_| Some("s3cr3t-token".into()))
            .unwrap();
        HttpTargetConfig {
            url: url.into(),
            body_template: Some(r#"{"ref": {{id}}, "amount": {{amount}}}"#.into()),
            response: ResponseSpec {
                decision: Some("/outcome".into()),
                score: Some("/risk".into()),
                decisions: [("OK".to_owned(), Decision::Approve)].into(),
                ..ResponseSpec::default()
            },
            headers: vec![
                ("Authorization".into(), secret),
                ("X-Api-Key".into(), HeaderValueSpec::new("literal-key")),
            ],
            ..HttpTargetConfig::default()
        }
    }

    fn txn() -> Transaction {
        transaction_factory::TransactionFactory::new(7, Default::default())
            .unwrap()
            .at(0)
            .0
    }

    #[tokio::test]
    async fn a_probe_keeps_the_request_masked_the_answer_and_its_verdict() {
        let (url, server) = one_answer(r#"{"outcome": "ok", "risk": 0.25}"#).await;
        let target = HttpTarget::new(config(&url)).unwrap();
        let txn = txn();
        let probe = target.probe(&txn).await.unwrap();
        let received = server.await.unwrap();
        assert!(received.contains("s3cr3t-token"), "the secret is sent");
        assert!(received.contains("literal-key"));

        assert_eq!(probe.request.method, "POST");
        assert_eq!(probe.request.url, url);
        let header = |n: &str| {
            probe
                .request
                .headers
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("authorization"), Some("Bearer ${PROBE_TOKEN}"));
        assert_eq!(header("x-api-key"), Some("***"));
        assert_eq!(header("content-type"), Some("application/json"));
        assert!(header("host").is_some());
        assert!(!format!("{probe:?}").contains("s3cr3t-token"));
        assert!(!format!("{probe:?}").contains("literal-key"));
        let body: serde_json::Value = serde_json::from_slice(&probe.request.body).unwrap();
        assert_eq!(body["ref"], serde_json::to_value(txn.id).unwrap());
        assert!(received.ends_with(std::str::from_utf8(&probe.request.body).unwrap()));

        assert_eq!(probe.status, Some(200));
        assert_eq!(&probe.answer[..], br#"{"outcome": "ok", "risk": 0.25}"#);
        let verdict = probe.outcome.as_ref().unwrap();
        assert_eq!(verdict.decision, Decision::Approve);
        assert_eq!(verdict.risk_score, 0.25);
        assert!(probe.mapped());
        assert!(probe.latency > Duration::ZERO);
    }

    #[tokio::test]
    async fn a_word_not_in_the_table_is_kept_with_the_reason() {
        let (url, server) = one_answer(r#"{"outcome": "MAYBE", "risk": 0.5}"#).await;
        let target = HttpTarget::new(config(&url)).unwrap();
        let probe = target.probe(&txn()).await.unwrap();
        server.await.unwrap();
        assert_eq!(probe.status, Some(200));
        assert!(!probe.mapped());
        match &probe.outcome {
            Err(e @ TargetError::Malformed { .. }) => {
                assert!(e.to_string().contains("MAYBE"), "{e}")
            }
            other => panic!("expected malformed, got {other:?}"),
        }
        let samples = target.error_samples().by_kind();
        assert_eq!(samples.len(), 1, "kept as a run keeps it: {samples:?}");
    }

    #[tokio::test]
    async fn no_answer_is_an_exchange_without_a_status() {
        // A port that was free a moment ago: nothing listens there.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let target =
            HttpTarget::new(config(&format!("http://127.0.0.1:{port}/v2/assess"))).unwrap();
        let probe = target.probe(&txn()).await.unwrap();
        assert_eq!(probe.status, None);
        assert!(probe.answer.is_empty());
        assert!(
            matches!(probe.outcome, Err(TargetError::Connection { .. })),
            "{:?}",
            probe.outcome
        );
        assert!(!probe.request.body.is_empty(), "the request is still shown");
    }
}

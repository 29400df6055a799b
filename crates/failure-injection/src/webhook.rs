//! Posts alert events as JSON to a webhook, from a background task behind a bounded queue, so that a slow or
//! dead receiver never holds up a tick.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use models::{EventKind, RunEvent};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Where and how to post.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// `http://` URL that receives `POST`s of one [`RunEvent`] each (`{"t_s":..,"event":"alert_raised",..}`).
    pub url: String,
    /// Allow a host that is not loopback (the command line's `--allow-remote`).
    pub allow_remote: bool,
    /// Events waiting to be posted; more are dropped and counted.
    pub queue_capacity: usize,
    /// Time allowed for each post.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            allow_remote: false,
            queue_capacity: 64,
            timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook URL: {0}")]
    Url(#[from] targets::TargetConfigError),
    #[error(
        "webhook URL {url:?}: only http:// is supported; use an http:// receiver (a local relay for https)"
    )]
    Scheme { url: String },
    #[error("webhook: queue_capacity must be at least 1")]
    Capacity,
}

/// What the background task did, returned by [`WebhookNotifier::shutdown`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookStats {
    /// Posts answered with a 2xx status.
    pub delivered: u64,
    /// Posts that failed, timed out or were answered with another status.
    pub failed: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
    pub last_error: Option<String>,
}

/// The sending side of the webhook. Create it inside a tokio runtime; [`shutdown`](Self::shutdown) waits
/// until the queue is drained.
#[derive(Debug)]
pub struct WebhookNotifier {
    tx: mpsc::Sender<RunEvent>,
    dropped: Arc<AtomicU64>,
    task: JoinHandle<WebhookStats>,
}

impl WebhookNotifier {
    pub fn start(config: WebhookConfig) -> Result<Self, WebhookError> {
        targets::check_loopback(&config.url, config.allow_remote)?;
        let uri: Uri = config.url.parse().map_err(|_| WebhookError::Scheme {
            url: config.url.clone(),
        })?;
        if uri.scheme_str() != Some("http") {
            return Err(WebhookError::Scheme { url: config.url });
        }
        if config.queue_capacity == 0 {
            return Err(WebhookError::Capacity);
        }
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let task = tokio::spawn(post_loop(rx, uri, config.timeout));
        Ok(Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            task,
        })
    }

    /// Queues one event without waiting; returns false (and counts it) when the queue is full.
    pub fn notify(&self, event: RunEvent) -> bool {
        let queued = self.tx.try_send(event).is_ok();
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Queues the alert events (`AlertRaised`, `AlertCleared`) among `events`, which happened at `t_s`.
    pub fn notify_alerts(&self, t_s: f64, events: &[EventKind]) {
        for kind in events {
            if matches!(
                kind,
                EventKind::AlertRaised { .. } | EventKind::AlertCleared { .. }
            ) {
                self.notify(RunEvent {
                    t_s,
                    kind: kind.clone(),
                });
            }
        }
    }

    /// Stops taking events, posts what is queued and returns the counts.
    pub async fn shutdown(self) -> WebhookStats {
        drop(self.tx);
        let mut stats = self.task.await.unwrap_or_else(|e| WebhookStats {
            last_error: Some(format!("the webhook task failed: {e}")),
            ..Default::default()
        });
        stats.dropped = self.dropped.load(Ordering::Relaxed);
        stats
    }
}

async fn post_loop(mut rx: mpsc::Receiver<RunEvent>, uri: Uri, timeout: Duration) -> WebhookStats {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut stats = WebhookStats::default();
    while let Some(event) = rx.recv().await {
        let outcome = match serde_json::to_vec(&event) {
            Ok(body) => post(&client, &uri, body, timeout).await,
            Err(e) => Err(format!("event could not be encoded: {e}")),
        };
        match outcome {
            Ok(()) => stats.delivered += 1,
            Err(e) => {
                stats.failed += 1;
                stats.last_error = Some(e);
            }
        }
    }
    stats
}

async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    uri: &Uri,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(), String> {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request could not be built: {e}"))?;
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("post to {uri} failed: {e}"))?;
        let status = resp.status();
        // Read the answer so that the connection can be reused.
        let _ = resp.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{uri} answered {status}"))
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("post to {uri} took longer than {timeout:?}")))
}

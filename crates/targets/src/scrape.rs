//! [`MetricsScraper`]: the system under test's own figures, read from its Prometheus text endpoint
//! (`[target] metrics_url`) once per tick.
//!
//! * CPU, in % of one core: `100 × Δprocess_cpu_seconds_total ÷ Δwall seconds` between this scrape
//!   and the previous one (the wall time is the generator's clock at each answer). The first scrape
//!   has no previous one and gives no CPU; a counter that went down (the target restarted) gives
//!   none for that scrape either.
//! * Memory: `process_resident_memory_bytes` at the scrape.
//! * Named gauges (`[target] metrics`): the sum of the metric's series at the scrape (a metric with
//!   one series per stage sums to the whole); absent when the page has no series of that name.
//!
//! A failure is a [`ScrapeError`] that says what went wrong; the caller counts it and goes on.
//!
//! ```
//! use targets::MetricsScraper;
//! use std::time::{Duration, Instant};
//! let mut s = MetricsScraper::new(
//!     "http://127.0.0.1:9090/metrics", vec!["queue_depth".into()], &Default::default(),
//!     Duration::from_millis(250), false,
//! ).unwrap();
//! let t0 = Instant::now();
//! s.read("process_cpu_seconds_total 10\nprocess_resident_memory_bytes 1048576\n", t0).unwrap();
//! let r = s.read(
//!     "process_cpu_seconds_total 10.5\nprocess_resident_memory_bytes 2097152\n\
//!      queue_depth{stage=\"a\"} 3\nqueue_depth{stage=\"b\"} 4\n",
//!     t0 + Duration::from_secs(1),
//! ).unwrap();
//! let p = r.process.unwrap();
//! assert_eq!((p.cpu_pct.round(), p.rss_bytes), (50.0, 2_097_152));
//! assert_eq!(r.gauges["queue_depth"], 7.0);
//! ```

use crate::endpoint::Endpoint;
use crate::stream::Stream;
use crate::tls::{HandshakeFailure, TlsClient};
use crate::{TargetConfigError, check_loopback};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1;
use hyper::header::{ACCEPT, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use models::{Http2Mode, ProcessSample, TlsSpec};
use prometheus_parse::{Scrape, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// A metrics page larger than this is refused: a process's page is tens of kilobytes; this bounds
/// what a wrong URL (a download) can take.
pub const MAX_METRICS_BYTES: usize = 8 * 1024 * 1024;

const CPU_SECONDS: &str = "process_cpu_seconds_total";
const RESIDENT_BYTES: &str = "process_resident_memory_bytes";

/// What one scrape read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetReading {
    /// CPU and memory, when the page has both standard process metrics and a CPU rate could be
    /// formed (not at the first scrape). `pid` is 0: the page does not say.
    pub process: Option<ProcessSample>,
    /// The followed gauges the page had.
    pub gauges: BTreeMap<String, f64>,
}

/// Why a scrape gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeError {
    #[error("{url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {timeout_ms} ms")]
    TimedOut { url: String, timeout_ms: u64 },
    #[error("{url} answered HTTP {status}; check `metrics_url`")]
    Status { url: String, status: u16 },
    #[error("{url} is not a Prometheus metrics page: {reason}")]
    NotPrometheus { url: String, reason: String },
}

/// Reads a target's Prometheus endpoint; keep one per run (it remembers the previous CPU counter).
#[derive(Debug)]
pub struct MetricsScraper {
    url: String,
    endpoint: Endpoint,
    tls: Option<TlsClient>,
    gauges: Vec<String>,
    timeout: Duration,
    /// The CPU counter at the previous scrape, and when it was read.
    last_cpu: Option<(f64, Instant)>,
}

impl MetricsScraper {
    /// Checks the URL (and the loopback guard, as for load) and the TLS settings of an `https://`
    /// URL; sends nothing. `gauges` are the metric names to follow; `timeout` bounds each scrape,
    /// connection included.
    pub fn new(
        url: &str,
        gauges: Vec<String>,
        tls: &TlsSpec,
        timeout: Duration,
        allow_remote: bool,
    ) -> Result<Self, TargetConfigError> {
        check_loopback(url, allow_remote)?;
        let endpoint = Endpoint::parse(url, "http://127.0.0.1:8080/metrics")?;
        if timeout.is_zero() {
            return Err(TargetConfigError::InvalidSetting {
                field: "metrics_url",
                reason: "the scrape timeout must be longer than zero".into(),
            });
        }
        let tls = if endpoint.secure {
            // The scrape speaks HTTP/1.1: one small GET a tick gains nothing from HTTP/2.
            Some(TlsClient::new(tls, &endpoint.host, Http2Mode::Never)?)
        } else {
            None
        };
        Ok(Self {
            url: url.to_owned(),
            endpoint,
            tls,
            gauges,
            timeout,
            last_cpu: None,
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Fetches the page and reads it ([`read`](Self::read)), within the timeout.
    pub async fn scrape(&mut self) -> Result<TargetReading, ScrapeError> {
        let page = match tokio::time::timeout(self.timeout, self.fetch()).await {
            Ok(page) => page?,
            Err(_) => {
                return Err(ScrapeError::TimedOut {
                    url: self.url.clone(),
                    timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                });
            }
        };
        self.read(&page, Instant::now())
    }

    /// Reads a page fetched at `at`: the figures of the module's docs.
    pub fn read(&mut self, page: &str, at: Instant) -> Result<TargetReading, ScrapeError> {
        let not_prometheus = |reason: String| ScrapeError::NotPrometheus {
            url: self.url.clone(),
            reason,
        };
        let scrape = Scrape::parse(page.lines().map(|l| Ok(l.to_owned())))
            .map_err(|e| not_prometheus(e.to_string()))?;
        if scrape.samples.is_empty() && !page.trim().is_empty() {
            let start: String = page.trim().chars().take(60).collect();
            return Err(not_prometheus(format!(
                "no sample could be read from it (it starts {start:?})"
            )));
        }
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        for sample in &scrape.samples {
            if let Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) = sample.value {
                *sums.entry(sample.metric.as_str()).or_default() += v;
            }
        }
        let cpu_pct = sums.get(CPU_SECONDS).and_then(|&cpu| {
            let rate = self.last_cpu.and_then(|(prev, prev_at)| {
                let wall = at.saturating_duration_since(prev_at).as_secs_f64();
                (cpu >= prev && wall > 0.0).then(|| 100.0 * (cpu - prev) / wall)
            });
            self.last_cpu = Some((cpu, at));
            rate
        });
        let rss = sums.get(RESIDENT_BYTES).copied();
        let process = cpu_pct.zip(rss).map(|(cpu_pct, rss)| ProcessSample {
            pid: 0,
            cpu_pct,
            // Resident bytes are a whole number written as a float; saturating into u64.
            rss_bytes: rss.max(0.0) as u64,
            net_rx_bytes: 0,
            net_tx_bytes: 0,
        });
        let gauges = self
            .gauges
            .iter()
            .filter_map(|name| sums.get(name.as_str()).map(|&v| (name.clone(), v)))
            .collect();
        Ok(TargetReading { process, gauges })
    }

    /// One GET on a fresh connection: a scrape a second apart gains nothing from keeping one open,
    /// and a fresh one notices a restarted target at once.
    async fn fetch(&self) -> Result<String, ScrapeError> {
        let unreachable = |reason: String| ScrapeError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let tcp = TcpStream::connect(self.endpoint.connect_to.as_str())
            .await
            .map_err(|e| unreachable(format!("tcp connect: {e}")))?;
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some(tls) => {
                let session = tls.shake_hands(tcp).await.map_err(|e| {
                    unreachable(match e {
                        HandshakeFailure::Tls(reason) => format!("TLS: {reason}"),
                        HandshakeFailure::Io(e) => format!("TLS handshake: {e}"),
                    })
                })?;
                Stream::Tls(Box::new(session))
            }
        };
        let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(format!("HTTP handshake: {e}")))?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(self.endpoint.path.clone())
            .header(HOST, self.endpoint.host_header.clone())
            .header(ACCEPT, "text/plain; version=0.0.4")
            .body(Empty::new())
            .map_err(|e| unreachable(format!("building the request: {e}")))?;
        let exchange = async {
            let answer = sender
                .send_request(request)
                .await
                .map_err(|e| unreachable(format!("no answer: {e}")))?;
            let status = answer.status();
            if !status.is_success() {
                return Err(ScrapeError::Status {
                    url: self.url.clone(),
                    status: status.as_u16(),
                });
            }
            let body = Limited::new(answer.into_body(), MAX_METRICS_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    unreachable(format!(
                        "reading the page (at most {MAX_METRICS_BYTES} bytes): {e}"
                    ))
                })?
                .to_bytes();
            String::from_utf8(body.to_vec()).map_err(|_| ScrapeError::NotPrometheus {
                url: self.url.clone(),
                reason: "the page is not UTF-8 text".into(),
            })
        };
        // The connection is driven beside the exchange and dropped with it.
        tokio::pin!(conn);
        tokio::select! {
            page = exchange => page,
            ended = &mut conn => Err(unreachable(match ended {
                Ok(()) => "the server closed the connection before answering".into(),
                Err(e) => format!("{e}"),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scraper(gauges: &[&str]) -> MetricsScraper {
        MetricsScraper::new(
            "http://127.0.0.1:1/metrics",
            gauges.iter().map(|g| (*g).to_owned()).collect(),
            &TlsSpec::default(),
            Duration::from_millis(100),
            false,
        )
        .unwrap()
    }

    const PAGE: &str = "# HELP process_cpu_seconds_total Total user and system CPU time.\n\
        # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 4\n\
        # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 5e6\n";

    #[test]
    fn the_first_scrape_has_no_cpu_rate_and_a_restart_gives_none() {
        let mut s = scraper(&[]);
        let t0 = Instant::now();
        assert_eq!(s.read(PAGE, t0).unwrap().process, None);
        let later = PAGE.replace("seconds_total 4", "seconds_total 6");
        let p = s
            .read(&later, t0 + Duration::from_secs(4))
            .unwrap()
            .process
            .unwrap();
        assert!((p.cpu_pct - 50.0).abs() < 1e-9, "{}", p.cpu_pct);
        assert_eq!(p.rss_bytes, 5_000_000);
        // The counter went down: the process restarted; no rate this time, the next one works.
        let restarted = PAGE.replace("seconds_total 4", "seconds_total 1");
        let t = t0 + Duration::from_secs(5);
        assert_eq!(s.read(&restarted, t).unwrap().process, None);
        let next = PAGE.replace("seconds_total 4", "seconds_total 2");
        let p = s.read(&next, t + Duration::from_secs(1)).unwrap().process;
        assert!((p.unwrap().cpu_pct - 100.0).abs() < 1e-9);
    }

    #[test]
    fn gauges_sum_their_series_and_a_missing_one_is_left_out() {
        let mut s = scraper(&["fraudsim_stage_queue_depth", "absent"]);
        let page = "fraudsim_stage_queue_depth{stage=\"ml\"} 2\n\
                    fraudsim_stage_queue_depth{stage=\"rules\"} 5\n";
        let r = s.read(page, Instant::now()).unwrap();
        assert_eq!(r.gauges.len(), 1);
        assert_eq!(r.gauges["fraudsim_stage_queue_depth"], 7.0);
        assert_eq!(r.process, None, "no process metrics on the page");
    }

    #[test]
    fn a_page_that_is_not_prometheus_text_says_what_it_was() {
        let err = scraper(&[])
            .read("<html><body>Login</body></html>", Instant::now())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a Prometheus metrics page"), "{err}");
        assert!(err.contains("<html>"), "{err}");
        assert!(
            scraper(&[]).read("", Instant::now()).is_ok(),
            "an empty page is empty"
        );
    }

    #[test]
    fn the_loopback_guard_and_the_url_are_checked() {
        let remote = MetricsScraper::new(
            "http://10.1.2.3/metrics",
            vec![],
            &TlsSpec::default(),
            Duration::from_secs(1),
            false,
        );
        assert!(matches!(
            remote,
            Err(TargetConfigError::RemoteRefused { .. })
        ));
        let bad = MetricsScraper::new(
            "127.0.0.1:9090/metrics",
            vec![],
            &TlsSpec::default(),
            Duration::from_secs(1),
            false,
        );
        assert!(bad.is_err());
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut s = MetricsScraper::new(
            &format!("http://127.0.0.1:{port}/metrics"),
            vec![],
            &TlsSpec::default(),
            Duration::from_secs(2),
            false,
        )
        .unwrap();
        let err = s.scrape().await.unwrap_err();
        assert!(matches!(err, ScrapeError::Unreachable { .. }), "{err}");
    }
}

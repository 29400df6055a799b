//! Test support: the moto emulator as a child process, a scripted loopback HTTP server, SDK clients
//! pointed at them, and synthetic run data.

#![allow(dead_code)]

use aws_telemetry::AwsConfig;
use aws_telemetry::aws_config::SdkConfig;
use aws_telemetry::aws_sdk_cloudwatch::config::Credentials;
use hdrhistogram::Histogram;
use models::{Confusion, EncodedHistograms, ErrorKind, IntervalSnapshot, Percentiles};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub mod emulator;
#[allow(unused_imports)] // not every test file starts the emulator
pub use emulator::Emulator;

/// SDK configuration for a loopback endpoint with fixed test credentials.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let config = AwsConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        ..AwsConfig::default()
    };
    config
        .loader()
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// One canned HTTP answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A Smithy RPC v2 CBOR answer.
    pub fn cbor(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/cbor".into()),
                ("smithy-protocol", "rpc-v2-cbor".into()),
            ],
            body,
        }
    }

    /// `{}`: PutMetricData's success answer.
    pub fn ok_empty() -> Self {
        Self::cbor(200, vec![0xa0])
    }

    /// A modelled error `{"__type": code, "message": message}` in CBOR.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        let mut body = vec![0xa2];
        for s in ["__type", code, "message", message] {
            cbor_text(&mut body, s);
        }
        Self::cbor(status, body)
    }

    /// A bare status with no body, as a load balancer might send.
    pub fn bare(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    assert!(len < 256, "short strings only");
    if len < 24 {
        out.push(0x60 | len as u8);
    } else {
        out.extend([0x78, len as u8]);
    }
    out.extend(s.as_bytes());
}

/// A loopback HTTP/1.1 server that answers from a script (then repeats the last answer), closing the
/// connection after each answer. Counts requests and keeps their paths.
pub struct ScriptedServer {
    pub endpoint: String,
    pub requests: Arc<AtomicUsize>,
    pub paths: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    pub async fn start(script: Vec<Answer>) -> Self {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, seen) = (requests.clone(), paths.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let answer = script[n.min(script.len() - 1)].clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Some(path) = read_request(&mut socket).await else {
                        return;
                    };
                    seen.lock().unwrap().push(path);
                    let mut head = format!(
                        "HTTP/1.1 {} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    for (k, v) in &answer.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&answer.body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            endpoint,
            requests,
            paths,
            task,
        }
    }

    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Reads one request (head and body); returns its path.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    head.split_whitespace().nth(1).map(String::from)
}

/// A synthetic interval: `latencies_us` recorded into its histogram, the other figures derived.
pub fn snapshot(t_s: f64, latencies_us: &[u64], errors: u64, fraud_tp: u64) -> IntervalSnapshot {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for v in latencies_us {
        h.record(*v).unwrap();
    }
    let completed = latencies_us.len() as u64;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    IntervalSnapshot {
        t_s,
        interval_s: 10.0,
        sent: completed + errors,
        completed,
        ok: completed,
        achieved_tps: completed as f64 / 10.0,
        errors: [(ErrorKind::Timeout, errors)].into(),
        fraud: Confusion {
            tp: fraud_tp,
            fn_: 1,
            ..Default::default()
        },
        latency_ms: Percentiles {
            count: h.len(),
            mean: h.mean() / 1000.0,
            p50: ms(0.5),
            p90: ms(0.9),
            p95: ms(0.95),
            p99: ms(0.99),
            p999: ms(0.999),
            max: h.max() as f64 / 1000.0,
        },
        histograms: Some(EncodedHistograms {
            latency_us: run_files::histogram::encode(&h),
            service_time_us: String::new(),
        }),
        ..Default::default()
    }
}

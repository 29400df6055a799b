//! [`FraudSim`]: the pipeline served over HTTP/1.1 on 127.0.0.1 (hyper), with health, metrics and the
//! authenticated admin endpoints for faults.

use crate::faults::{Fault, FaultKey};
use crate::{Pipeline, PipelineError, SimConfig, SimError, StageName};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use models::{FaultKind, Transaction};
use rand::RngExt;
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// How long shutdown lets requests in flight finish before it cuts them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

type Body = Full<Bytes>;

/// A running reference service. Stop it with [`FraudSim::shutdown`], which waits for every task it
/// spawned; dropping it without that only signals the tasks to stop.
#[derive(Debug)]
pub struct FraudSim {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct State {
    pipeline: Pipeline,
    token: String,
}

impl FraudSim {
    /// Builds the pipeline and serves it on 127.0.0.1:`config.port` (0 = a free port).
    pub async fn start(config: SimConfig) -> Result<Self, SimError> {
        let pipeline = Pipeline::new(&config)?;
        Self::serve(pipeline, config.port, config.admin_token).await
    }

    /// Serves an existing pipeline (for example one whose faults you already hold).
    pub async fn serve(
        pipeline: Pipeline,
        port: u16,
        admin_token: Option<String>,
    ) -> Result<Self, SimError> {
        let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: bind.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let token = admin_token.unwrap_or_else(generate_token);
        let state = Arc::new(State { pipeline, token });
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state.clone(), rx));
        Ok(Self {
            addr,
            state,
            shutdown,
            task: Some(task),
        })
    }

    /// The bound address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The scoring endpoint, `http://127.0.0.1:PORT/v1/score`.
    pub fn score_url(&self) -> String {
        format!("http://{}/v1/score", self.addr)
    }

    /// The bearer token of `/admin/*`.
    pub fn admin_token(&self) -> &str {
        &self.state.token
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.state.pipeline
    }

    pub fn faults(&self) -> &crate::Faults {
        self.state.pipeline.faults()
    }

    /// The process serving it: this one.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s, then cuts them off), and waits for
    /// every connection task.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        let _ = self.shutdown.send(true);
        match self.task.take() {
            Some(task) => task.await.map_err(|e| SimError::Server {
                reason: e.to_string(),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for FraudSim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn generate_token() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_connection(stream, state.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

async fn serve_connection(
    stream: TcpStream,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| handle(state.clone(), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    if *shutdown.borrow_and_update() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Routes one request. An `Err` makes hyper close the connection without an answer (the
/// connection-drop faults).
async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, PipelineError> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match (method, path.as_str()) {
        (Method::POST, "/v1/score") => score(&state, req).await,
        (Method::GET, "/health") => Ok(health(&state)),
        (Method::GET, "/metrics") => Ok(Response::builder()
            .header(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)
            .body(Full::new(Bytes::from(state.pipeline.render_metrics())))
            .unwrap_or_default()),
        (m, "/admin/faults") => Ok(admin(&state, m, req).await),
        (_, "/v1/score" | "/health" | "/metrics") => Ok(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed; see the fraud-sim crate docs for the routes",
        )),
        _ => Ok(error(
            StatusCode::NOT_FOUND,
            "no such route; try POST /v1/score, GET /health, GET /metrics, POST|GET|DELETE /admin/faults",
        )),
    }
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("cannot read the body (limit {MAX_BODY} bytes): {e}"),
        )),
    }
}

async fn score(state: &State, req: Request<Incoming>) -> Result<Response<Body>, PipelineError> {
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(resp) => return Ok(resp),
    };
    let txn: Transaction = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a transaction: {e}"),
            ));
        }
    };
    match state.pipeline.process(&txn).await {
        Ok(verdict) => Ok(json(StatusCode::OK, &verdict)),
        Err(e) => match e.status() {
            Some(status) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let mut resp = error(status, &e.to_string());
                if status == StatusCode::TOO_MANY_REQUESTS {
                    resp.headers_mut()
                        .insert("retry-after", HeaderValue::from_static("1"));
                }
                Ok(resp)
            }
            None => Err(e),
        },
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    stages: Vec<crate::StageSnapshot>,
    active_faults: Vec<Fault>,
}

fn health(state: &State) -> Response<Body> {
    let faults = state.pipeline.faults().active();
    let down = faults.iter().any(|f| {
        let key = f.key();
        key.kind == FaultKind::NetworkPartition
            || (key.kind == FaultKind::AgentCrash
                && matches!(key.stage, StageName::Ingestion | StageName::DecisionMaker))
    });
    let status = if down {
        "down"
    } else if faults.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    let code = if down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    json(
        code,
        &Health {
            status,
            stages: state.pipeline.stages(),
            active_faults: faults,
        },
    )
}

fn authorized(state: &State, req: &Request<Incoming>) -> bool {
    let Some(value) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return false;
    };
    // Compare in time independent of where the first difference is.
    let (a, b) = (token.trim().as_bytes(), state.token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
struct FaultsAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<FaultKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cleared: Option<usize>,
    active: Vec<Fault>,
}

async fn admin(state: &State, method: Method, req: Request<Incoming>) -> Response<Body> {
    if !authorized(state, &req) {
        let mut resp = error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token; send `Authorization: Bearer <token>` (printed by serve-target)",
        );
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let faults = state.pipeline.faults();
    let query = req.uri().query().unwrap_or("").to_owned();
    match method {
        Method::GET => json(
            StatusCode::OK,
            &FaultsAnswer {
                key: None,
                cleared: None,
                active: faults.active(),
            },
        ),
        Method::POST => {
            let body = match read_body(req).await {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            let fault: Fault = match serde_json::from_slice(&body) {
                Ok(f) => f,
                Err(e) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "the body is not a fault ({e}); e.g. {{\"kind\":\"agent_crash\",\"stage\":\"pattern_detector\"}}"
                        ),
                    );
                }
            };
            match faults.inject(fault) {
                Ok(key) => json(
                    StatusCode::OK,
                    &FaultsAnswer {
                        key: Some(key),
                        cleared: None,
                        active: faults.active(),
                    },
                ),
                Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        }
        Method::DELETE => match parse_key(&query) {
            Ok(None) => {
                let n = faults.clear_all();
                json(
                    StatusCode::OK,
                    &FaultsAnswer {
                        key: None,
                        cleared: Some(n),
                        active: faults.active(),
                    },
                )
            }
            Ok(Some(key)) => {
                let n = usize::from(faults.clear(key));
                json(
                    StatusCode::OK,
                    &FaultsAnswer {
                        key: Some(key),
                        cleared: Some(n),
                        active: faults.active(),
                    },
                )
            }
            Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET, POST or DELETE on /admin/faults",
        ),
    }
}

/// `kind=agent_crash&stage=risk_assessor` names one fault; an empty query means all of them.
fn parse_key(query: &str) -> Result<Option<FaultKey>, String> {
    let mut kind = None;
    let mut stage = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "kind" => {
                kind = Some(
                    serde_json::from_value::<FaultKind>(serde_json::Value::String(v.to_owned()))
                        .map_err(|_| format!("unknown fault kind {v:?} in the query"))?,
                )
            }
            "stage" => stage = Some(v.parse::<StageName>()?),
            other => {
                return Err(format!(
                    "unknown query parameter {other:?}; use kind= and stage="
                ));
            }
        }
    }
    match (kind, stage) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("a stage without a kind; add kind=<fault kind>".into()),
        (Some(kind), stage) => {
            let mut f = Fault::new(kind);
            f.stage = stage;
            Ok(Some(f.key()))
        }
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body =
        serde_json::to_vec(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes());
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_keys_from_queries() {
        assert_eq!(parse_key("").unwrap(), None);
        let key = parse_key("kind=agent_crash&stage=risk_assessor")
            .unwrap()
            .unwrap();
        assert_eq!(
            key,
            FaultKey {
                kind: FaultKind::AgentCrash,
                stage: StageName::RiskAssessor
            }
        );
        let key = parse_key("kind=stream_lag").unwrap().unwrap();
        assert_eq!(key.stage, StageName::Ingestion);
        assert!(parse_key("kind=meteor").is_err());
        assert!(parse_key("stage=ingestion").is_err());
        assert!(parse_key("colour=red").is_err());
    }

    #[test]
    fn generated_tokens_are_long_and_differ() {
        let (a, b) = (generate_token(), generate_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}

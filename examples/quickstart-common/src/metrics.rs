//! `/metrics` for Prometheus on a listener of its own (`METRICS_ADDR`), never on the app's port:
//! the numbers say how many users sign in and how close the app is to CometChat's limits, which
//! is no business of the public.
//!
//! cometgate records through the `metrics` facade (its `metrics` feature); the quickstarts
//! install `metrics-exporter-prometheus`'s recorder once per process and render it on
//! `GET /metrics`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::task::JoinHandle;

use crate::StartError;

/// The variable naming the metrics listener's address, e.g. `127.0.0.1:9464`.
pub const ENV_METRICS_ADDR: &str = "METRICS_ADDR";

/// The path the metrics listener serves.
pub const METRICS_PATH: &str = "/metrics";

/// Histogram buckets in seconds: a token request on a warm path takes well under a millisecond,
/// a first sign-in two CometChat calls, a slow CometChat seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder, installed on first use (a process has one recorder).
static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// The process's recorder: installed now unless it already is.
///
/// # Errors
/// [`StartError::Metrics`] when another recorder is installed already.
pub fn recorder() -> Result<PrometheusHandle, StartError> {
    let mut recorder = RECORDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(handle) = recorder.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| StartError::Metrics(e.to_string()))?;
    cometgate::telemetry::describe();
    *recorder = Some(handle.clone());
    Ok(handle)
}

/// A running metrics listener; stops when dropped or [`stop`](Self::stop)ped.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Installs the recorder (once per process) and serves `GET /metrics` on `addr`.
    ///
    /// # Errors
    /// [`StartError::Metrics`] when the recorder cannot be installed, [`StartError::MetricsBind`]
    /// when `addr` cannot be bound.
    pub async fn start(addr: SocketAddr) -> Result<Self, StartError> {
        let handle = recorder()?;
        let error = |source| StartError::MetricsBind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(error)?;
        let addr = listener.local_addr().map_err(error)?;
        let task = tokio::spawn(async move {
            loop {
                // A failed accept (e.g. out of file descriptors) drops that connection only.
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handle = handle.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let answer = respond(&handle, &request);
                        async move { Ok::<_, Infallible>(answer) }
                    });
                    // A client that goes away mid-request is no error of ours.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// The address it listens on (the port chosen when `METRICS_ADDR` named port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The banner's line for it.
    pub fn banner_line(&self) -> String {
        format!(
            "Prometheus metrics (METRICS_ADDR, not on the app's port): curl http://{}{METRICS_PATH}\n",
            self.addr
        )
    }

    /// Stops listening.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `GET /metrics`: the Prometheus text format; any other path 404, any other method 405.
fn respond<B>(handle: &PrometheusHandle, request: &Request<B>) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, body: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        response
    };
    if request.uri().path() != METRICS_PATH {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if request.method() != Method::GET {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        response
            .headers_mut()
            .insert("allow", hyper::header::HeaderValue::from_static("GET"));
        return response;
    }
    // The recorder's upkeep (draining histogram buckets) runs on scrapes: no task of its own.
    handle.run_upkeep();
    let mut response = Response::new(Full::new(Bytes::from(handle.render())));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

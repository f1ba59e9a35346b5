//! Logs, request ids and metrics.
//!
//! Every request runs inside a span carrying its request id, so every log line it causes names
//! it; the id is returned in `X-Request-Id`. Logs record method, route pattern, status and
//! latency, never bodies, query strings, tokens or other personal data.
//!
//! # Operations
//!
//! - `GET /healthz` (process up), `GET /readyz` (database answers), `GET /metrics` (Prometheus:
//!   requests and latency by route pattern and status, pool connections).
//! - Every response has `X-Request-Id` (a safe incoming one is kept); every log line of the request
//!   carries it. Logs hold method, route pattern, status and latency: never bodies, query strings,
//!   tokens or personal data. `log_format = "json"` for collectors.
//! - Stateless: run several instances behind a load balancer on one PostgreSQL. Login throttling
//!   counts live in the database. Background work (`src/jobs`) is claimed by lease with a
//!   conditional update, so two instances never run one job at once; a lapsed lease passes the job
//!   on. Today's jobs: hourly purge of expired sessions and login counts, roster runs
//!   (`src/rostering/runs.rs`), and sending the e-mail outbox (`src/mail`).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::{AppError, PROBLEM_CONTENT_TYPE};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Starts the global subscriber. Safe to call more than once (later calls are ignored).
pub fn init_tracing(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The request id of the request being served, for audit records.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Prometheus metrics for operators: requests and latency by route and status, and pool use.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("parota".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            ),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text exposition format, with pool gauges read at scrape time.
    pub fn render(&self, pool_state: diesel::r2d2::State) -> String {
        let idle = i64::from(pool_state.idle_connections);
        let open = i64::from(pool_state.connections);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool.with_label_values(&["in_use"]).set(open - idle);
        let mut buffer = Vec::new();
        let encoder = prometheus::TextEncoder::new();
        if let Err(error) = encoder.encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "metrics encoding failed");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Request id, span, access log, metrics, and the guarantee that every error a client sees is
/// problem+json (actix's own errors, e.g. from body limits, would otherwise be plain text).
pub async fn observe_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();

    let mut response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let status = response.status();
    if status.as_u16() >= 400 && !is_problem(&response) {
        response = to_problem(response);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = elapsed * 1000.0,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

fn is_safe_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_problem(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE))
}

/// Replaces a non-problem error response with the problem document for its status.
fn to_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let error = match status.as_u16() {
        400 => AppError::MalformedBody("the request could not be read".into()),
        401 => AppError::Unauthenticated("a bearer token is required"),
        403 => AppError::Forbidden,
        404 => AppError::RouteNotFound,
        405 => AppError::MethodNotAllowed,
        413 => AppError::PayloadTooLarge { limit: 0 },
        415 => AppError::UnsupportedMediaType("use application/json".into()),
        429 => AppError::TooManyRequests {
            retry_after_secs: 1,
        },
        503 => AppError::Unavailable(format!("status {status}")),
        _ if status.is_client_error() => {
            AppError::MalformedBody(format!("the request was refused ({status})"))
        }
        _ => AppError::internal(format!("unrendered error response {status}")),
    };
    let (request, _) = response.into_parts();
    let mut rendered = error.error_response();
    *rendered.status_mut() = status;
    ServiceResponse::new(request, rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_clients_are_accepted_only_when_harmless() {
        assert!(is_safe_request_id("0193a1b2-abcd-7000-8000-000000000000"));
        assert!(!is_safe_request_id("a b"));
        assert!(!is_safe_request_id("x\r\nSet-Cookie: y"));
        assert!(!is_safe_request_id(&"a".repeat(65)));
    }
}

//! Probes for load balancers and metrics for operators. These sit outside `/api/v1`, carry no
//! personal data, and need no token.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::telemetry::Metrics;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
    /// `sqlite` or `postgresql` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up. Who may call: anyone.
#[utoipa::path(tag = "operations", operation_id = "read_healthz",
    responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// The database answers. Who may call: anyone.
#[utoipa::path(tag = "operations", operation_id = "read_readyz",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use diesel::r2d2::R2D2Connection;
    crate::db::run(&state.pool, |conn| {
        conn.ping()
            .map_err(|e| AppError::Unavailable(format!("database ping: {e}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: Some(state.backend),
    }))
}

/// Prometheus text exposition: requests and latency by route and status, pool use.
/// Who may call: anyone who can reach the port (operators; it holds no personal data).
#[utoipa::path(tag = "operations", operation_id = "read_metrics",
    responses((status = 200, description = "Prometheus metrics", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(state.pool.state()))
}

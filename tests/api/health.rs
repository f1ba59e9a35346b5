//! Probes and metrics for operators.

use crate::helpers::{backend_is_postgres, TestApp};

#[actix_web::test]
async fn health_and_readiness_answer_without_a_token() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.body, serde_json::json!({"status": "ok"}));
    let ready = app.get("/readyz", None).await;
    let backend = if backend_is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(
        ready.body,
        serde_json::json!({"status": "ok", "database": backend})
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/users/{id}"), None).await;
    let metrics = app.get("/metrics", None).await;
    assert!(metrics.content_type().starts_with("text/plain"));
    assert!(
        metrics.text.contains(
            r#"parota_http_requests_total{method="GET",route="/api/v1/users/{id}",status="401"} 1"#
        ),
        "{}",
        metrics.text
    );
    // Route patterns, never concrete paths: no ids (or anything personal) in labels.
    assert!(!metrics.text.contains(&id.to_string()));
    assert!(metrics.text.contains("parota_db_pool_connections"));
}

//! Every error a client can meet is problem+json with a stable code; these pin the shapes.

use actix_web::test::TestRequest;
use parota::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn an_unknown_route_is_a_problem_not_plain_text() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/no-such-thing", None).await;
    response.assert_problem(404, "route_not_found");
    assert_eq!(
        response.body,
        json!({"type": "urn:parota:problem:route_not_found", "title": "No such route", "status": 404, "code": "route_not_found"})
    );
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let request = TestRequest::post()
        .uri("/api/v1/users")
        .insert_header(("authorization", format!("Bearer {}", admin.token)))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"email\": ");
    let response = app.send(request).await;
    assert_eq!(
        response.body,
        json!({
            "type": "urn:parota:problem:malformed_body",
            "title": "The request body is not valid JSON for this endpoint",
            "status": 400,
            "detail": "EOF while parsing a value",
            "code": "malformed_body"
        })
    );
}

#[actix_web::test]
async fn the_wrong_content_type_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let request = TestRequest::post()
        .uri("/api/v1/users")
        .insert_header(("authorization", format!("Bearer {}", admin.token)))
        .insert_header(("content-type", "text/plain"))
        .set_payload("hello");
    let response = app.send(request).await;
    response.assert_problem(415, "unsupported_media_type");
    assert_eq!(response.body["detail"], "send the body as application/json");
}

#[actix_web::test]
async fn an_oversized_body_is_refused_with_a_413_problem_and_nothing_is_written() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 1024).await;
    let admin = app.user(&app.provider(), Role::Admin);
    let body = json!({"email": "big@example.test", "display_name": "x".repeat(2000), "role": "pa", "password": "long enough password"});
    let response = app
        .post_json("/api/v1/users", Some(&admin.token), &body)
        .await;
    assert_eq!(
        response.body,
        json!({
            "type": "urn:parota:problem:payload_too_large",
            "title": "The request body is too large",
            "status": 413,
            "detail": "the limit is 1024 bytes",
            "code": "payload_too_large"
        })
    );
    let users = app.get("/api/v1/users", Some(&admin.token)).await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn invalid_fields_are_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let body = json!({"email": "not-an-email", "display_name": "", "role": "pa", "password": "long enough password"});
    let response = app
        .post_json("/api/v1/users", Some(&admin.token), &body)
        .await;
    assert_eq!(
        response.body,
        json!({
            "type": "urn:parota:problem:validation_failed",
            "title": "Some fields are invalid",
            "status": 422,
            "code": "validation_failed",
            "errors": [
                {"field": "display_name", "code": "length", "message": "has the wrong length"},
                {"field": "email", "code": "email", "message": "must be an e-mail address"}
            ]
        })
    );
}

#[actix_web::test]
async fn a_missing_or_mistyped_field_is_named() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let missing = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            &json!({"email": "a@example.test", "role": "pa", "password": "long enough password"}),
        )
        .await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(
        missing.body["errors"],
        json!([{"field": "display_name", "code": "required", "message": "is required"}])
    );
    let mistyped = app
        .post_json("/api/v1/users", Some(&admin.token), &json!({"email": "a@example.test", "display_name": "A", "role": "surgeon", "password": "long enough password"}))
        .await;
    mistyped.assert_problem(422, "validation_failed");
    assert_eq!(mistyped.body["errors"][0]["field"], "role");
}

#[actix_web::test]
async fn no_token_is_a_401_problem_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/me", None).await;
    assert_eq!(
        response.body,
        json!({
            "type": "urn:parota:problem:unauthenticated",
            "title": "Authentication required",
            "status": 401,
            "detail": "a bearer token is required",
            "code": "unauthenticated"
        })
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer realm=\"parota\"")
    );
    let forged = app.get("/api/v1/me", Some("not.a.jwt")).await;
    forged.assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn forbidden_not_found_and_conflict_shapes_are_pinned() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let pa = app.user(&organisation, Role::Pa);

    let forbidden = app.get("/api/v1/users", Some(&pa.token)).await;
    assert_eq!(
        forbidden.body,
        json!({"type": "urn:parota:problem:forbidden", "title": "You may not do this", "status": 403, "code": "forbidden"})
    );
    let missing = app
        .get(
            &format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        missing.body,
        json!({"type": "urn:parota:problem:not_found", "title": "Not found", "status": 404, "code": "not_found"})
    );
    let not_an_id = app
        .get("/api/v1/users/not-a-uuid", Some(&admin.token))
        .await;
    not_an_id.assert_problem(404, "not_found");

    let body = json!({"email": pa.login, "display_name": "Again", "role": "pa", "password": "long enough password"});
    let conflict = app
        .post_json("/api/v1/users", Some(&admin.token), &body)
        .await;
    assert_eq!(
        conflict.body,
        json!({
            "type": "urn:parota:problem:email_taken",
            "title": "Conflict",
            "status": 409,
            "detail": "an account with this e-mail address already exists",
            "code": "email_taken"
        })
    );
}

#[actix_web::test]
async fn a_bad_query_string_is_a_problem() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let response = app
        .get("/api/v1/users?limit=lots", Some(&admin.token))
        .await;
    response.assert_problem(400, "invalid_query");
    let out_of_range = app.get("/api/v1/users?limit=0", Some(&admin.token)).await;
    out_of_range.assert_problem(422, "validation_failed");
    assert_eq!(out_of_range.body["errors"][0]["field"], "limit");
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_that_reveals_nothing() {
    use std::sync::Arc;
    let database = Arc::new(crate::helpers::TestDatabase::create());
    let settings = crate::helpers::test_settings("sqlite:///nonexistent-dir/parota.db");
    let url = settings.database().unwrap();
    let pool = parota::db::DbPool::builder()
        .max_size(1)
        .connection_timeout(std::time::Duration::from_millis(200))
        .build_unchecked(parota::db::DbManager::new(url));
    let services = parota::app::Services::new(
        pool,
        settings,
        parota::auth::token::JwtKeys::new(&[1u8; 32], 900),
        "sqlite",
    );
    let app = TestApp::start(services, database).await;
    let response = app.get("/readyz", None).await;
    assert_eq!(
        response.body,
        json!({"type": "urn:parota:problem:service_unavailable", "title": "Service unavailable", "status": 503, "code": "service_unavailable"})
    );
    assert!(!response.text.contains("nonexistent"));
    assert_eq!(response.header("retry-after"), Some("5"));
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_a_safe_incoming_one_is_kept() {
    let app = TestApp::spawn().await;
    let generated = app.get("/healthz", None).await;
    assert_eq!(generated.header("x-request-id").unwrap().len(), 36);
    let failed = app.get("/nope", None).await;
    assert!(failed.header("x-request-id").is_some());
    let kept = app
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("x-request-id", "lb-1234")),
        )
        .await;
    assert_eq!(kept.header("x-request-id"), Some("lb-1234"));
    let replaced = app
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("x-request-id", "bad id with spaces")),
        )
        .await;
    assert_ne!(replaced.header("x-request-id"), Some("bad id with spaces"));
}

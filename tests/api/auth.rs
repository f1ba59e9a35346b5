//! Tokens: the three grants, rotation and reuse detection, logout, throttling.

use actix_web::test::TestRequest;
use base64::Engine;
use parota::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::TestResponse {
    app.post_json(
        "/api/v1/auth/token",
        None,
        &json!({"grant_type": "refresh_token", "refresh_token": token}),
    )
    .await
}

#[actix_web::test]
async fn a_password_login_answers_in_oauth_shape_and_the_token_works() {
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let response = app.login(&pa.login.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["token_type"], "Bearer");
    assert_eq!(response.body["expires_in"], 900);
    assert!(response.body["refresh_token"].as_str().unwrap().len() >= 43);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let token = response.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], pa.id);
    assert_eq!(me.body["role"], "pa");
    assert!(me.body.get("secret_hash").is_none());
}

#[actix_web::test]
async fn a_form_encoded_login_works_too() {
    let app = TestApp::spawn().await;
    let manager = app.user(&app.provider(), Role::TeamManager);
    let request = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(format!(
            "grant_type=password&username={}&password={}",
            manager.login.replace('@', "%40"),
            PASSWORD.replace(' ', "+")
        ));
    let response = app.send(request).await;
    assert_eq!(response.status, 200, "{}", response.text);
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let wrong = app.login(&pa.login, "not the password at all").await;
    wrong.assert_problem(400, "invalid_grant");
    let unknown = app.login("nobody@example.test", PASSWORD).await;
    unknown.assert_problem(400, "invalid_grant");
    assert_eq!(wrong.body, unknown.body);
}

#[actix_web::test]
async fn grant_requests_are_checked() {
    let app = TestApp::spawn().await;
    let unsupported = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "implicit"}),
        )
        .await;
    unsupported.assert_problem(400, "unsupported_grant_type");
    let missing = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "password", "password": "x"}),
        )
        .await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "username");
}

#[actix_web::test]
async fn a_refresh_token_rotates_and_a_reused_one_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let login = app.login(&pa.login, PASSWORD).await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();

    let rotated = refresh(&app, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        app.get("/api/v1/me", rotated.body["access_token"].as_str())
            .await
            .status,
        200
    );

    // Someone replays the spent token: refused, and the legitimate newer token dies with it.
    refresh(&app, &first)
        .await
        .assert_problem(400, "invalid_grant");
    refresh(&app, &second)
        .await
        .assert_problem(400, "invalid_grant");

    // Another login starts a new, unaffected family.
    let again = app.login(&pa.login, PASSWORD).await;
    assert_eq!(
        refresh(&app, again.body["refresh_token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn logout_revokes_the_session() {
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let one = app.login(&pa.login, PASSWORD).await;
    let two = app.login(&pa.login, PASSWORD).await;
    let access = one.body["access_token"].as_str().unwrap();
    let response = app
        .post_json(
            "/api/v1/auth/logout",
            Some(access),
            &json!({"refresh_token": one.body["refresh_token"]}),
        )
        .await;
    assert_eq!(response.status, 204);
    refresh(&app, one.body["refresh_token"].as_str().unwrap())
        .await
        .assert_problem(400, "invalid_grant");
    // The other session (another device) is untouched ...
    let still = refresh(&app, two.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(still.status, 200);
    // The ended session's access token is refused at once ...
    app.get("/api/v1/me", Some(access))
        .await
        .assert_problem(401, "unauthenticated");
    // ... and logout without a token, from the other, ends them all.
    let other = still.body["access_token"].as_str().unwrap();
    let everywhere = app.send(
        TestRequest::post()
            .uri("/api/v1/auth/logout")
            .insert_header(("authorization", format!("Bearer {other}"))),
    );
    assert_eq!(everywhere.await.status, 204);
    refresh(&app, still.body["refresh_token"].as_str().unwrap())
        .await
        .assert_problem(400, "invalid_grant");
}

#[actix_web::test]
async fn logout_needs_a_token() {
    let app = TestApp::spawn().await;
    app.post_json("/api/v1/auth/logout", None, &json!({}))
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn payroll_clients_use_client_credentials_in_the_body_or_basic_auth() {
    let app = TestApp::spawn().await;
    let client = app.user(&app.provider(), Role::PayrollProvider);
    let body = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "client_credentials", "client_id": client.login, "client_secret": PASSWORD}),
        )
        .await;
    assert_eq!(body.status, 200, "{}", body.text);
    assert!(body.body.get("refresh_token").is_none());
    let me = app
        .get("/api/v1/me", body.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["role"], "payroll_provider");

    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        client.login,
        PASSWORD.replace(' ', "+")
    ));
    let header = app
        .send(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("authorization", format!("Basic {basic}")))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("grant_type=client_credentials"),
        )
        .await;
    assert_eq!(header.status, 200, "{}", header.text);

    let wrong = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "client_credentials", "client_id": client.login, "client_secret": "wrong"}),
        )
        .await;
    wrong.assert_problem(401, "invalid_client");
}

#[actix_web::test]
async fn people_and_machines_cannot_use_each_others_grants() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let client = app.user(&organisation, Role::PayrollProvider);
    let person = app.user(&organisation, Role::Admin);
    app.login(&client.login, PASSWORD)
        .await
        .assert_problem(400, "invalid_grant");
    app.post_json(
        "/api/v1/auth/token",
        None,
        &json!({"grant_type": "client_credentials", "client_id": person.login, "client_secret": PASSWORD}),
    )
    .await
    .assert_problem(401, "invalid_client");
}

#[actix_web::test]
async fn repeated_failures_slow_then_refuse_even_the_right_password() {
    let app = TestApp::spawn_with(|s| {
        s.login_slow_after = 2;
        s.login_refuse_after = 4;
    })
    .await;
    let pa = app.user(&app.provider(), Role::Pa);
    for _ in 0..4 {
        app.login(&pa.login, "a wrong password")
            .await
            .assert_problem(400, "invalid_grant");
    }
    let refused = app.login(&pa.login, PASSWORD).await;
    refused.assert_problem(429, "too_many_requests");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 900);
}

#[actix_web::test]
async fn failures_from_one_address_across_accounts_are_refused() {
    let app = TestApp::spawn_with(|s| {
        s.login_slow_after = 2;
        s.login_refuse_after = 3;
    })
    .await;
    let pa = app.user(&app.provider(), Role::Pa);
    let from = |login: &str, password: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .set_json(json!({"grant_type": "password", "username": login, "password": password}))
    };
    for n in 0..3 {
        app.send(from(&format!("guess{n}@example.test"), "guess"))
            .await
            .assert_problem(400, "invalid_grant");
    }
    app.send(from(&pa.login, PASSWORD))
        .await
        .assert_problem(429, "too_many_requests");
    // The same account from elsewhere is not locked out by someone else's guessing.
    let elsewhere = app.login(&pa.login, PASSWORD).await;
    assert_eq!(elsewhere.status, 200);
}

#[actix_web::test]
async fn a_deactivated_account_can_neither_log_in_nor_refresh() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let pa = app.user(&organisation, Role::Pa);
    let session = app.login(&pa.login, PASSWORD).await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", pa.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    app.login(&pa.login, PASSWORD)
        .await
        .assert_problem(400, "invalid_grant");
    refresh(&app, session.body["refresh_token"].as_str().unwrap())
        .await
        .assert_problem(400, "invalid_grant");
}

#[actix_web::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let pa = app.user(&organisation, Role::Pa);
    let stale = app
        .services
        .keys
        .issue(
            &parota::auth::token::Subject {
                user_id: pa.id.clone(),
                organisation_id: organisation.id.clone(),
                role: Role::Pa,
                area_code: "QE1".into(),
                session_id: None,
            },
            chrono::Utc::now() - chrono::Duration::minutes(16),
        )
        .unwrap();
    app.get("/api/v1/me", Some(&stale))
        .await
        .assert_problem(401, "unauthenticated");
}

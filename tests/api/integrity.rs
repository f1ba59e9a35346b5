//! Integrity and access: revoked means revoked on the next request, bad input never reaches a
//! panic or money, and one bad record blocks no one else. A test per defect found by the
//! outside sweep.

use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser, PASSWORD};

/// A session's tokens: (access, refresh).
async fn sign_in(app: &TestApp, user: &TestUser) -> (String, String) {
    let response = app.login(&user.login, PASSWORD).await;
    assert_eq!(response.status, 200, "{}", response.text);
    (
        response.body["access_token"].as_str().unwrap().to_owned(),
        response.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> u16 {
    app.get(path, Some(token)).await.status.as_u16()
}

#[actix_web::test]
async fn deactivation_and_a_role_change_end_access_tokens_on_the_next_request() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let other_admin = app.user(&organisation, Role::Admin);
    let manager = app.user(&organisation, Role::TeamManager);
    let client = app.user(&organisation, Role::PayrollProvider);
    let (other_token, _) = sign_in(&app, &other_admin).await;
    let (manager_token, _) = sign_in(&app, &manager).await;
    assert_eq!(status_of(&app, "/api/v1/users", &other_token).await, 200);
    assert_eq!(
        status_of(&app, "/api/v1/budget-holders", &manager_token).await,
        200
    );
    assert_eq!(
        status_of(&app, "/api/v1/payroll/exports", &client.token).await,
        200
    );

    let patch = |id: &str, body: Value| {
        let (app, token, path) = (&app, admin.token.clone(), format!("/api/v1/users/{id}"));
        async move { app.patch_json(&path, Some(&token), &body).await }
    };
    assert_eq!(
        patch(&other_admin.id, json!({"active": false}))
            .await
            .status,
        200
    );
    assert_eq!(patch(&manager.id, json!({"role": "pa"})).await.status, 200);
    assert_eq!(
        patch(&client.id, json!({"active": false})).await.status,
        200
    );

    // The deactivated admin can do nothing more with the token it holds: not list users, not
    // create an admin, not re-activate itself.
    app.get("/api/v1/users", Some(&other_token))
        .await
        .assert_problem(401, "unauthenticated");
    app.post_json(
        "/api/v1/users",
        Some(&other_token),
        &json!({"email": "new@x.example.test", "display_name": "New", "role": "admin", "password": "a long enough password"}),
    )
    .await
    .assert_problem(401, "unauthenticated");
    app.patch_json(
        &format!("/api/v1/users/{}", other_admin.id),
        Some(&other_token),
        &json!({"active": true}),
    )
    .await
    .assert_problem(401, "unauthenticated");
    // The demoted manager keeps no manager power; the payroll client pulls nothing.
    app.get("/api/v1/budget-holders", Some(&manager_token))
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/api/v1/payroll/exports", Some(&client.token))
        .await
        .assert_problem(401, "unauthenticated");
    // Signing in again gives the demoted user what a PA has, and no more.
    let (as_pa, _) = sign_in(&app, &manager).await;
    assert_eq!(status_of(&app, "/api/v1/budget-holders", &as_pa).await, 403);
    // Nobody changes their own role or active flag.
    let own = app
        .patch_json(
            &format!("/api/v1/users/{}", admin.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(own.status, 422, "{}", own.text);
    let own = app
        .patch_json(
            &format!("/api/v1/users/{}", admin.id),
            Some(&admin.token),
            &json!({"role": "team_manager"}),
        )
        .await;
    assert_eq!(own.status, 422, "{}", own.text);
}

#[actix_web::test]
async fn logout_a_password_change_and_a_reused_refresh_token_end_access_tokens() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let pa = app.user(&organisation, Role::Pa);
    let logout = |token: String, body: Option<Value>| {
        let app = &app;
        async move {
            let mut request = actix_web::test::TestRequest::post()
                .uri("/api/v1/auth/logout")
                .insert_header(("authorization", format!("Bearer {token}")));
            if let Some(body) = body {
                request = request.set_json(body);
            }
            app.send(request).await
        }
    };

    // Logout of one session ends that session's access token, not the other's.
    let (a, a_refresh) = sign_in(&app, &pa).await;
    let (b, _) = sign_in(&app, &pa).await;
    let out = logout(a.clone(), Some(json!({"refresh_token": a_refresh}))).await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert_eq!(status_of(&app, "/api/v1/me", &a).await, 401);
    assert_eq!(status_of(&app, "/api/v1/me", &b).await, 200);
    // Logout everywhere (a JSON null body, as the schema allows) ends the rest.
    let out = logout(b.clone(), Some(Value::Null)).await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert_eq!(status_of(&app, "/api/v1/me", &b).await, 401);

    // A password change ends the other sessions and keeps the caller's own.
    let (mine, _) = sign_in(&app, &pa).await;
    let (other, _) = sign_in(&app, &pa).await;
    let changed = app
        .post_json(
            "/api/v1/me/password",
            Some(&mine),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text);
    assert_eq!(status_of(&app, "/api/v1/me", &mine).await, 200);
    assert_eq!(status_of(&app, "/api/v1/me", &other).await, 401);

    // A spent refresh token presented again revokes its family, access tokens included.
    let signed = app.login(&pa.login, "a brand new passphrase").await;
    let first_refresh = signed.body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "refresh_token", "refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let access = refreshed.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(status_of(&app, "/api/v1/me", &access).await, 200);
    let reused = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "refresh_token", "refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(reused.status, 400, "{}", reused.text);
    assert_eq!(status_of(&app, "/api/v1/me", &access).await, 401);
}

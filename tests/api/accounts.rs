//! Organisations, users and payroll clients: who may do what, and the audit trail it leaves.

use parota::auth::Role;
use serde_json::json;

use crate::helpers::{redact, TestApp, PASSWORD};

fn new_user_body(email: &str, role: &str) -> serde_json::Value {
    json!({"email": email, "display_name": "Aisha Patel", "role": role, "password": "a long enough password"})
}

#[actix_web::test]
async fn an_admin_creates_a_user_who_can_then_log_in_and_the_change_is_audited() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let response = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            &new_user_body("Aisha@Example.Test", "pa"),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(
        redact(&response.body),
        json!({
            "id": "[id]", "organisation_id": "[organisation_id]", "role": "pa",
            "email": "aisha@example.test", "display_name": "Aisha Patel", "active": true,
            "created_at": "[created_at]", "updated_at": "[updated_at]"
        })
    );
    let id = response.body["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(
        app.login("aisha@example.test", "a long enough password")
            .await
            .status,
        200
    );

    let audit = app
        .get(
            &format!("/api/v1/audit-events?entity_id={id}"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let events = audit.body["items"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "user.created");
    assert_eq!(events[0]["actor_user_id"], admin.id);
    assert_eq!(events[0]["after"]["role"], "pa");
    assert!(
        !audit.text.contains("argon2"),
        "the audit trail must not hold secrets"
    );
}

#[actix_web::test]
async fn only_admins_create_users_and_only_in_their_own_organisation() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    for user in app.one_of_each_role(&organisation) {
        let response = app
            .post_json(
                "/api/v1/users",
                Some(&user.token),
                &new_user_body(&format!("new-{}@example.test", user.role.as_str()), "pa"),
            )
            .await;
        let expected = if user.role == Role::Admin { 201 } else { 403 };
        assert_eq!(
            response.status.as_u16(),
            expected,
            "{:?}: {}",
            user.role,
            response.text
        );
    }
}

#[actix_web::test]
async fn roles_must_fit_the_organisation() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let commissioner = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            &new_user_body("c@example.test", "commissioner"),
        )
        .await;
    commissioner.assert_problem(422, "validation_failed");
    assert_eq!(commissioner.body["errors"][0]["field"], "role");
    let weak = app
        .post_json("/api/v1/users", Some(&admin.token), &json!({"email": "w@example.test", "display_name": "W", "role": "pa", "password": "short"}))
        .await;
    weak.assert_problem(422, "validation_failed");
    assert_eq!(weak.body["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn the_user_directory_is_for_admins_and_team_managers_of_that_organisation() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    for user in app.one_of_each_role(&organisation) {
        let response = app.get("/api/v1/users", Some(&user.token)).await;
        let expected = match user.role {
            Role::Admin | Role::TeamManager => 200,
            // A commissioner belongs to another organisation: the directory is not theirs to know.
            Role::Commissioner => 403,
            _ => 403,
        };
        assert_eq!(
            response.status.as_u16(),
            expected,
            "{:?}: {}",
            user.role,
            response.text
        );
        if expected == 200 {
            let organisations: Vec<_> = response.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["organisation_id"].as_str().unwrap().to_owned())
                .collect();
            assert!(organisations.iter().all(|o| *o == organisation.id));
        }
    }
}

#[actix_web::test]
async fn a_pa_reads_their_own_account_but_not_a_colleagues_and_nobody_sees_across_organisations() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let pa = app.user(&organisation, Role::Pa);
    let colleague = app.user(&organisation, Role::Pa);
    let manager = app.user(&organisation, Role::TeamManager);
    let other = app.organisation("Another Provider", "QE1", "provider");
    let other_admin = app.user(&other, Role::Admin);

    assert_eq!(
        app.get(&format!("/api/v1/users/{}", pa.id), Some(&pa.token))
            .await
            .status,
        200
    );
    app.get(&format!("/api/v1/users/{}", colleague.id), Some(&pa.token))
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", pa.id), Some(&manager.token))
            .await
            .status,
        200
    );
    // Existence does not leak across organisations.
    app.get(
        &format!("/api/v1/users/{}", pa.id),
        Some(&other_admin.token),
    )
    .await
    .assert_problem(404, "not_found");
    app.patch_json(
        &format!("/api/v1/users/{}", pa.id),
        Some(&other_admin.token),
        &json!({"active": false}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_user_edits_their_name_but_only_an_admin_changes_role_or_standing() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let pa = app.user(&organisation, Role::Pa);
    let path = format!("/api/v1/users/{}", pa.id);

    let renamed = app
        .patch_json(&path, Some(&pa.token), &json!({"display_name": "Aisha P."}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["display_name"], "Aisha P.");
    app.patch_json(&path, Some(&pa.token), &json!({"role": "admin"}))
        .await
        .assert_problem(403, "forbidden");

    let promoted = app
        .patch_json(&path, Some(&admin.token), &json!({"role": "team_manager"}))
        .await;
    assert_eq!(promoted.body["role"], "team_manager");
    let audit = app
        .get(
            &format!("/api/v1/audit-events?entity_id={}", pa.id),
            Some(&admin.token),
        )
        .await;
    let last = audit.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["before"]["role"], "pa");
    assert_eq!(last["after"]["role"], "team_manager");
    assert_eq!(last["actor_user_id"], admin.id);
}

#[actix_web::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", admin.id),
            Some(&admin.token),
            &json!({"active": false, "role": "pa"}),
        )
        .await;
    response.assert_problem(422, "validation_failed");
    let fields: Vec<_> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("role"), json!("active")]);
}

#[actix_web::test]
async fn the_user_list_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    for _ in 0..4 {
        app.user(&organisation, Role::Pa);
    }
    let first = app.get("/api/v1/users?limit=2", Some(&admin.token)).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/users?limit=2&cursor={cursor}"),
            Some(&admin.token),
        )
        .await;
    let third = app
        .get(
            &format!(
                "/api/v1/users?limit=2&cursor={}",
                second.body["next_cursor"].as_str().unwrap()
            ),
            Some(&admin.token),
        )
        .await;
    assert_eq!(third.body["items"].as_array().unwrap().len(), 1);
    assert!(third.body.get("next_cursor").is_none());
    let mut ids: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| {
            p.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned())
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let pas = app.get("/api/v1/users?role=pa", Some(&admin.token)).await;
    assert_eq!(pas.body["items"].as_array().unwrap().len(), 4);
}

#[actix_web::test]
async fn a_commissioner_oversees_the_organisations_of_its_area_only() {
    let app = TestApp::spawn().await;
    let here = app.provider();
    let elsewhere = app.organisation("Greater Manchester Support", "QOP", "provider");
    let icb = app.organisation("Lancashire and South Cumbria ICB", "QE1", "commissioner");
    let commissioner = app.user(&icb, Role::Commissioner);

    let list = app
        .get("/api/v1/organisations", Some(&commissioner.token))
        .await;
    let ids: Vec<_> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&here.id));
    assert!(!ids.contains(&elsewhere.id));
    assert_eq!(
        app.get(
            &format!("/api/v1/organisations/{}", here.id),
            Some(&commissioner.token)
        )
        .await
        .status,
        200
    );
    app.get(
        &format!("/api/v1/organisations/{}", elsewhere.id),
        Some(&commissioner.token),
    )
    .await
    .assert_problem(404, "not_found");

    let pa = app.user(&here, Role::Pa);
    let own = app.get("/api/v1/organisations", Some(&pa.token)).await;
    assert_eq!(own.body.as_array().unwrap().len(), 1);
    app.get(
        &format!("/api/v1/organisations/{}", elsewhere.id),
        Some(&pa.token),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn an_admin_registers_a_payroll_client_whose_secret_is_shown_once() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let manager = app.user(&organisation, Role::TeamManager);
    app.post_json(
        "/api/v1/payroll-clients",
        Some(&manager.token),
        &json!({"display_name": "Pennine Payroll"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let created = app
        .post_json(
            "/api/v1/payroll-clients",
            Some(&admin.token),
            &json!({"display_name": "Pennine Payroll"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let token = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "client_credentials", "client_id": created.body["client_id"], "client_secret": created.body["client_secret"]}),
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.text);
    let shown = app
        .get(
            &format!("/api/v1/users/{}", created.body["id"].as_str().unwrap()),
            Some(&admin.token),
        )
        .await;
    assert_eq!(shown.body["client_id"], created.body["client_id"]);
    assert!(shown.body.get("client_secret").is_none());
}

#[actix_web::test]
async fn changing_a_password_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let session = app.login(&pa.login, PASSWORD).await;
    let wrong = app
        .post_json(
            "/api/v1/me/password",
            Some(&pa.token),
            &json!({"current_password": "nope", "new_password": "a brand new passphrase"}),
        )
        .await;
    wrong.assert_problem(422, "validation_failed");
    assert_eq!(wrong.body["errors"][0]["field"], "current_password");
    let changed = app
        .post_json(
            "/api/v1/me/password",
            Some(&pa.token),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text);
    let refreshed = app
        .post_json(
            "/api/v1/auth/token",
            None,
            &json!({"grant_type": "refresh_token", "refresh_token": session.body["refresh_token"]}),
        )
        .await;
    refreshed.assert_problem(400, "invalid_grant");
    assert_eq!(
        app.login(&pa.login, "a brand new passphrase").await.status,
        200
    );
    app.login(&pa.login, PASSWORD)
        .await
        .assert_problem(400, "invalid_grant");
}

#[actix_web::test]
async fn the_audit_trail_is_for_admins_of_that_organisation() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    for user in app.one_of_each_role(&organisation) {
        let response = app.get("/api/v1/audit-events", Some(&user.token)).await;
        let expected = if user.role == Role::Admin { 200 } else { 403 };
        assert_eq!(response.status.as_u16(), expected, "{:?}", user.role);
    }
    let other = app.organisation("Another Provider", "QE1", "provider");
    let other_admin = app.user(&other, Role::Admin);
    let admin = app.user(&organisation, Role::Admin);
    app.post_json(
        "/api/v1/users",
        Some(&admin.token),
        &new_user_body("x@example.test", "pa"),
    )
    .await;
    let theirs = app
        .get("/api/v1/audit-events", Some(&other_admin.token))
        .await;
    assert_eq!(theirs.body["items"], json!([]));
}

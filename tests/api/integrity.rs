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
    // The demoted manager keeps no manager power (matching checks the session on its own
    // connection: the same rule); the payroll client pulls nothing.
    app.get("/api/v1/budget-holders", Some(&manager_token))
        .await
        .assert_problem(401, "unauthenticated");
    app.get(
        "/api/v1/budget-holders/019d4657-0000-7000-8000-00000000dead/matches",
        Some(&manager_token),
    )
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
    // Another instance sharing the database refuses it too, on its next request.
    let other_instance = app.second_instance().await;
    assert_eq!(status_of(&other_instance, "/api/v1/me", &a).await, 401);
    assert_eq!(status_of(&other_instance, "/api/v1/me", &b).await, 200);
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

/// Strings that have broken parsers elsewhere: emoji, combining marks, bidirectional controls,
/// NUL, full-width digits, very long input.
fn nasty() -> Vec<String> {
    vec![
        "BB1😀".into(),
        "😀".into(),
        "BB11 2A\u{301}B".into(),
        "\u{202e}BB11 2AB".into(),
        "\u{0}".into(),
        "ＢＢ１１ ２ＡＢ".into(),
        "\u{feff}BB11".into(),
        "B".repeat(10_000),
        "' OR 1=1 --".into(),
        String::new(),
    ]
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[actix_web::test]
async fn nasty_strings_get_a_4xx_from_every_parser_never_a_5xx() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let manager = app.user(&organisation, Role::TeamManager);
    let pa_user = app.user(&organisation, Role::Pa);
    let holder = app
        .post_json(
            "/api/v1/budget-holders",
            Some(&manager.token),
            &json!({"display_name": "Ann", "postcode": "BB11 2AB", "funding": "chc", "minimum_level": 1}),
        )
        .await;
    assert_eq!(holder.status, 201, "{}", holder.text);
    let holder = holder.body["id"].as_str().unwrap().to_owned();
    let pa = app
        .post_json(
            "/api/v1/pas",
            Some(&manager.token),
            &json!({"display_name": "Amy", "user_id": pa_user.id, "postcode": "BB11 3AA", "max_travel_km": 10, "wanted_hours_per_week": 10, "min_hourly_pay_pence": 1300}),
        )
        .await;
    assert_eq!(pa.status, 201, "{}", pa.text);
    for text in nasty() {
        let mut answers = vec![
            app.post_json(
                "/api/v1/budget-holders",
                Some(&manager.token),
                &json!({"display_name": "Ann", "postcode": text, "funding": "chc", "minimum_level": 1}),
            )
            .await,
            app.patch_json(
                &format!("/api/v1/budget-holders/{holder}"),
                Some(&manager.token),
                &json!({"postcode": text}),
            )
            .await,
            app.post_json(
                "/api/v1/pas",
                Some(&manager.token),
                &json!({"display_name": "Bo", "postcode": text, "max_travel_km": 10, "wanted_hours_per_week": 10, "min_hourly_pay_pence": 1300}),
            )
            .await,
            app.patch_json("/api/v1/pas/me", Some(&pa_user.token), &json!({"postcode": text}))
                .await,
            app.get(&format!("/api/v1/pas/{}", encode(&text)), Some(&manager.token))
                .await,
            app.get(
                &format!(
                    "/api/v1/budget-holders/{holder}/planned-shifts?from={}&to=2027-01-10",
                    encode(&text)
                ),
                Some(&manager.token),
            )
            .await,
            app.get(&format!("/api/v1/pas?limit={}", encode(&text)), Some(&manager.token))
                .await,
        ];
        if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(text.as_bytes()) {
            answers.push(
                app.send(
                    actix_web::test::TestRequest::post()
                        .uri("/api/v1/rosters/019d4657-0000-7000-8000-00000000dead/edits")
                        .insert_header(("authorization", format!("Bearer {}", manager.token)))
                        .insert_header(("If-Match", value.clone()))
                        .set_json(json!({"action": "unassign", "shift_id": "x"})),
                )
                .await,
            );
            answers.push(
                app.send(
                    actix_web::test::TestRequest::get()
                        .uri("/api/v1/me")
                        .insert_header(("authorization", value)),
                )
                .await,
            );
        }
        for answer in answers {
            assert!(
                answer.status.is_client_error(),
                "{:?}: {} {}",
                text.chars().take(20).collect::<String>(),
                answer.status,
                answer.text
            );
            assert_eq!(answer.content_type(), "application/problem+json");
        }
    }
}

#[actix_web::test]
async fn money_is_bounded_where_it_enters_and_instants_carry_their_offset() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let manager = app.user(&organisation, Role::TeamManager);
    let holder = app
        .post_json(
            "/api/v1/budget-holders",
            Some(&manager.token),
            &json!({"display_name": "Ann", "postcode": "BB11 2AB", "funding": "chc", "minimum_level": 1}),
        )
        .await;
    let holder = holder.body["id"].as_str().unwrap().to_owned();
    let huge = app
        .post_json(
            &format!("/api/v1/budget-holders/{holder}/budgets"),
            Some(&manager.token),
            &json!({"name": "B", "amount_pence": 9_223_372_036_854_775_807_i64, "period_start": "2027-01-01", "period_end": "2027-12-31", "health_share_bp": 10000}),
        )
        .await;
    assert_eq!(
        huge.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "amount_pence"
    );
    let budget = app
        .post_json(
            &format!("/api/v1/budget-holders/{holder}/budgets"),
            Some(&manager.token),
            &json!({"name": "B", "amount_pence": 5_000_000, "period_start": "2027-01-01", "period_end": "2027-12-31", "health_share_bp": 10000}),
        )
        .await;
    assert_eq!(budget.status, 201, "{}", budget.text);
    let at = budget.body["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'),
        "created_at: {at}"
    );
    let id = budget.body["id"].as_str().unwrap().to_owned();
    let approved = app
        .post_json(
            &format!("/api/v1/budgets/{id}/approval"),
            Some(&manager.token),
            &json!({}),
        )
        .await;
    assert!(
        approved.body["approved_at"]
            .as_str()
            .unwrap()
            .ends_with('Z'),
        "{}",
        approved.text
    );
    for amount in [
        9_223_372_036_854_775_807_i64,
        -9_223_372_036_854_775_807,
        1_000_000_001,
    ] {
        let entry = app
            .post_json(
                &format!("/api/v1/budgets/{id}/entries"),
                Some(&manager.token),
                &json!({"kind": "actual", "amount_pence": amount, "entry_date": "2027-02-01", "description": "x", "reason": "a reason"}),
            )
            .await;
        assert_eq!(
            entry.assert_problem(422, "validation_failed")["errors"][0]["field"],
            "amount_pence",
            "{amount}"
        );
    }
    // The largest allowed entries, many times over, still add up without wrapping.
    for _ in 0..3 {
        let entry = app
            .post_json(
                &format!("/api/v1/budgets/{id}/entries"),
                Some(&manager.token),
                &json!({"kind": "actual", "amount_pence": 1_000_000_000, "entry_date": "2027-02-01", "description": "x", "reason": "a reason"}),
            )
            .await;
        assert_eq!(entry.status, 201, "{}", entry.text);
    }
    let statement = app
        .get(
            &format!("/api/v1/budget-holders/{holder}/budget/statement"),
            Some(&manager.token),
        )
        .await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    assert_eq!(
        crate::helpers::total_balance(&statement.body)["spent_pence"],
        3_000_000_000_i64
    );
}

#[actix_web::test]
async fn a_clock_event_far_from_its_shift_or_its_arrival_is_refused_naming_device_time() {
    let w = crate::timesheets::week().await;
    for device_time in [
        "0000-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2026-10-25T23:00:00Z",
        "2099-01-01T00:00:00Z",
    ] {
        let refused = w
            .clock(
                &w.amy_login,
                &w.monday,
                "clock-in",
                Some(&format!("bad-{device_time}")),
                json!({"device_time": device_time, "location": crate::timesheets::at_home()}),
            )
            .await;
        assert_eq!(
            refused.assert_problem(422, "validation_failed")["errors"][0]["field"],
            "device_time",
            "{device_time}"
        );
    }
    // The same through the offline queue.
    let synced = w
        .post(
            &w.amy_login,
            "/api/v1/timesheets/sync",
            json!({"events": [{"idempotency_key": "old-phone-1", "shift_id": w.monday, "kind": "clock_in", "device_time": "1970-01-01T00:00:00Z"}]}),
        )
        .await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    let result = &synced.body["results"][0];
    assert_eq!(result["status"], 422, "{}", synced.text);
    assert_eq!(
        result["body"]["errors"][0]["field"], "device_time",
        "{}",
        synced.text
    );
    // Unrostered work decades ago is refused too.
    let unrostered = w
        .app
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!("/api/v1/budget-holders/{}/unrostered-work", w.holder))
                .insert_header(("authorization", format!("Bearer {}", w.amy_login.token)))
                .insert_header(("Idempotency-Key", "unrostered-1970"))
                .set_json(json!({"started_at": "1970-01-01T09:00:00Z", "ended_at": "1970-01-01T10:00:00Z", "reason": "Covering"})),
        )
        .await;
    assert_eq!(
        unrostered.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "started_at",
        "{}",
        unrostered.text
    );
}

#[actix_web::test]
async fn a_clinical_signoff_is_recorded_only_by_those_who_look_after_the_person() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let mine = app.user(&organisation, Role::TeamManager);
    let theirs = app.user(&organisation, Role::TeamManager);
    let meds = crate::helpers::competency_id(&app, &mine.token, "medication_administration").await;
    let holder = app
        .post_json(
            "/api/v1/budget-holders",
            Some(&theirs.token),
            &json!({"display_name": "Ann", "postcode": "BB11 2AB", "funding": "chc", "minimum_level": 1}),
        )
        .await;
    let holder = holder.body["id"].as_str().unwrap().to_owned();
    let pa = app
        .post_json(
            "/api/v1/pas",
            Some(&mine.token),
            &json!({"display_name": "Amy", "postcode": "BB11 3AA", "max_travel_km": 10, "wanted_hours_per_week": 10, "min_hourly_pay_pence": 1300}),
        )
        .await;
    let pa = pa.body["id"].as_str().unwrap().to_owned();
    let body = json!({"competency_id": meds, "budget_holder_id": holder, "clinician_name": "Jo", "clinician_role": "Nurse", "signed_off_on": "2026-11-01"});
    let refused = app
        .post_json(
            &format!("/api/v1/pas/{pa}/signoffs"),
            Some(&mine.token),
            &body,
        )
        .await;
    assert!(
        refused.status == 403 || refused.status == 404,
        "{}",
        refused.text
    );
    let recorded = app
        .post_json(
            &format!("/api/v1/pas/{pa}/signoffs"),
            Some(&theirs.token),
            &body,
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
}

#[actix_web::test]
async fn a_representative_needs_their_consent_recorded_and_the_right_kind_of_login() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let manager = app.user(&organisation, Role::TeamManager);
    let representative = app.user(&organisation, Role::BudgetHolder);
    let stranger = app.user(&organisation, Role::Pa);
    let person = |extra: Value| {
        let mut body = json!({"display_name": "Ann", "postcode": "BB11 2AB", "funding": "chc", "minimum_level": 1});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (app, token) = (&app, manager.token.clone());
        async move {
            app.post_json("/api/v1/budget-holders", Some(&token), &body)
                .await
        }
    };
    let no_consent = person(json!({"representative_user_id": representative.id})).await;
    assert_eq!(
        no_consent.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "representative_consent_on"
    );
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let future = person(
        json!({"representative_user_id": representative.id, "representative_consent_on": tomorrow}),
    )
    .await;
    assert_eq!(
        future.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "representative_consent_on"
    );
    // A PA's login cannot be named to read a person's records.
    let wrong_kind = person(
        json!({"representative_user_id": stranger.id, "representative_consent_on": "2026-11-01"}),
    )
    .await;
    assert_eq!(
        wrong_kind.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "representative_user_id"
    );
    let named = person(json!({"representative_user_id": representative.id, "representative_consent_on": "2026-11-01"})).await;
    assert_eq!(named.status, 201, "{}", named.text);
    assert_eq!(named.body["representative_consent_on"], "2026-11-01");
    let id = named.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(
            &format!("/api/v1/budget-holders/{id}"),
            Some(&representative.token)
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn a_known_path_asked_with_another_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.user(&app.provider(), Role::Admin);
    for method in [
        actix_web::http::Method::TRACE,
        actix_web::http::Method::DELETE,
    ] {
        let answer = app
            .send(
                actix_web::test::TestRequest::default()
                    .method(method.clone())
                    .uri("/api/v1/users/019d4657-0000-7000-8000-00000000dead")
                    .insert_header(("authorization", format!("Bearer {}", admin.token))),
            )
            .await;
        answer.assert_problem(405, "method_not_allowed");
        assert_eq!(answer.header("allow"), Some("GET, PATCH"), "{method}");
    }
    app.get("/api/v1/no-such-thing", Some(&admin.token))
        .await
        .assert_problem(404, "route_not_found");
}

#[actix_web::test]
async fn a_clock_event_from_an_ended_session_is_refused_like_any_request() {
    let w = crate::timesheets::week().await;
    let deactivated = w
        .app
        .patch_json(
            &format!("/api/v1/users/{}", w.amy_login.id),
            Some(&w.admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    w.clock(
        &w.amy_login,
        &w.monday,
        "clock-in",
        Some("after-deactivation"),
        json!({"device_time": "2026-10-19T08:02:00Z", "location": crate::timesheets::at_home()}),
    )
    .await
    .assert_problem(401, "unauthenticated");
    let synced = w
        .post(
            &w.amy_login,
            "/api/v1/timesheets/sync",
            json!({"events": [{"idempotency_key": "queued-1", "shift_id": w.monday, "kind": "clock_in", "device_time": "2026-10-19T08:02:00Z"}]}),
        )
        .await;
    synced.assert_problem(401, "unauthenticated");
}

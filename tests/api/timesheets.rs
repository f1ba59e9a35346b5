//! Timesheets end to end: clock events from the phone (once per key, in any order, offline),
//! approval into the budget ledger, amendments, exceptions, reminders and locked periods.

use actix_web::test::TestRequest;
use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestOrganisation, TestResponse, TestUser};

/// A published week (19–25 October 2026) for Ann: Monday 09:00–12:00 and the Saturday night
/// 22:00–08:00 across the clock change, both worked by Amy. Ben is another PA of the
/// organisation, on no shift.
pub(crate) struct Week {
    pub(crate) app: TestApp,
    pub(crate) organisation: TestOrganisation,
    pub(crate) admin: TestUser,
    pub(crate) manager: TestUser,
    pub(crate) person: TestUser,
    pub(crate) holder: String,
    pub(crate) amy: String,
    pub(crate) amy_login: TestUser,
    pub(crate) ben_login: TestUser,
    pub(crate) monday: String,
    pub(crate) night: String,
}

pub(crate) async fn week() -> Week {
    week_from(chrono::NaiveDate::from_ymd_opt(2026, 10, 19).unwrap()).await
}

/// The same week from another Monday (the night is its Saturday), the budget running from the
/// first of its month for six months.
pub(crate) async fn week_from(monday: chrono::NaiveDate) -> Week {
    use chrono::Datelike;
    let sunday = monday + chrono::Duration::days(6);
    let saturday = monday + chrono::Duration::days(5);
    let budget_from = monday.with_day(1).unwrap();
    let budget_to = budget_from + chrono::Months::new(6) - chrono::Duration::days(1);
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let manager = app.user(&organisation, Role::TeamManager);
    let person = app.user(&organisation, Role::BudgetHolder);
    // The week is fixed in October 2026 (for the clock change), so phones may sync events from
    // that far back: the policy's offline window is set to its widest.
    let policy = app
        .send(
            TestRequest::put()
                .uri(&format!(
                    "/api/v1/organisations/{}/timesheet-policy",
                    organisation.id
                ))
                .insert_header(("authorization", format!("Bearer {}", admin.token)))
                .set_json(json!({
                    "pay_frequency": "monthly", "period_anchor": "2026-01-01", "approver": "team_manager",
                    "radius_m": 1000, "late_minutes": 10, "left_early_minutes": 10,
                    "overrun_minutes": 15, "short_minutes": 15, "clock_out_grace_minutes": 60,
                    "offline_sync_days": 3660
                })),
        )
        .await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    let personal_care = crate::helpers::competency_id(&app, &manager.token, "personal_care").await;
    let created = app
        .post_json(
            "/api/v1/budget-holders",
            Some(&manager.token),
            &json!({
                "display_name": "Ann Riley",
                "user_id": person.id,
                "postcode": "BB11 2AB",
                "funding": "chc",
                "minimum_level": 2,
                "required_competencies": [personal_care],
                "support_needs": [
                    {"day": "monday", "start": "09:00", "end": "12:00"},
                    {"day": "saturday", "start": "22:00", "end": "08:00", "kind": "waking_night"}
                ]
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let holder = created.body["id"].as_str().unwrap().to_owned();
    let pa = |name: &'static str, availability: Value| {
        let app = &app;
        let manager = &manager;
        let personal_care = personal_care.clone();
        async move {
            let created = app
                .post_json(
                    "/api/v1/pas",
                    Some(&manager.token),
                    &json!({
                        "display_name": name,
                        "email": format!("{}@pa.example.test", name.to_lowercase()),
                        "postcode": "BB11 3AA",
                        "max_travel_km": 15,
                        "availability": availability,
                        "wanted_hours_per_week": 20,
                        "min_hourly_pay_pence": 1300,
                        "dbs": {"issued_on": "2025-06-01", "update_service": true},
                        "right_to_work": {"checked_on": "2025-06-01"}
                    }),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.text);
            let id = created.body["id"].as_str().unwrap().to_owned();
            let evidence = app
                .post_json(
                    &format!("/api/v1/pas/{id}/competencies"),
                    Some(&manager.token),
                    &json!({"competency_id": personal_care, "trained_on": "2025-01-10", "expires_on": "2099-01-10"}),
                )
                .await;
            assert_eq!(evidence.status, 201, "{}", evidence.text);
            id
        }
    };
    let amy = pa(
        "Amy",
        json!([
            {"day": "monday", "start": "07:00", "end": "19:00"},
            {"day": "saturday", "start": "21:00", "end": "09:00"}
        ]),
    )
    .await;
    let ben = pa(
        "Ben",
        json!([{"day": "tuesday", "start": "07:00", "end": "19:00"}]),
    )
    .await;
    let amy_login = login_for(&app, &organisation, &amy);
    let ben_login = login_for(&app, &organisation, &ben);
    let budget = app
        .post_json(
            &format!("/api/v1/budget-holders/{holder}/budgets"),
            Some(&manager.token),
            &json!({"name": "Budget", "amount_pence": 500_000, "period_start": budget_from, "period_end": budget_to, "health_share_bp": 10000}),
        )
        .await;
    assert_eq!(budget.status, 201, "{}", budget.text);
    let approved = app
        .post_json(
            &format!(
                "/api/v1/budgets/{}/approval",
                budget.body["id"].as_str().unwrap()
            ),
            Some(&manager.token),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let made = app
        .post_json(
            "/api/v1/rosters",
            Some(&manager.token),
            &json!({"budget_holder_ids": [holder], "from": monday, "to": sunday, "seed": 7, "time_limit_ms": 300}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let roster = made.body["id"].as_str().unwrap().to_owned();
    let published = app
        .send(
            TestRequest::post()
                .uri(&format!("/api/v1/rosters/{roster}/publication"))
                .insert_header(("authorization", format!("Bearer {}", manager.token)))
                .insert_header(("If-Match", "\"1\"")),
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text);
    let shift_on = |date: chrono::NaiveDate| {
        let date = date.to_string();
        let shift = published.body["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["date"] == date)
            .unwrap_or_else(|| panic!("a shift on {date}: {}", published.text));
        assert_eq!(shift["pa_ids"], json!([amy]), "{}", published.text);
        shift["id"].as_str().unwrap().to_owned()
    };
    let monday = shift_on(monday);
    let night = shift_on(saturday);
    Week {
        app,
        organisation,
        admin,
        manager,
        person,
        holder,
        amy,
        amy_login,
        ben_login,
        monday,
        night,
    }
}

/// A PA login linked to a profile the manager created.
pub(crate) fn login_for(app: &TestApp, organisation: &TestOrganisation, pa: &str) -> TestUser {
    use diesel::prelude::*;
    use parota::db::schema::pa_profiles;
    let user = app.user(organisation, Role::Pa);
    diesel::update(pa_profiles::table.find(pa))
        .set(pa_profiles::user_id.eq(&user.id))
        .execute(&mut app.conn())
        .unwrap();
    user
}

/// Near Ann's home (her postcode sector's centroid is within a few hundred metres).
pub(crate) fn at_home() -> Value {
    let home = parota::geo::Postcode::parse("BB11 2AB")
        .unwrap()
        .locate()
        .unwrap();
    json!({"latitude": home.latitude + 0.001, "longitude": home.longitude, "accuracy_m": 20})
}

impl Week {
    pub(crate) async fn clock(
        &self,
        who: &TestUser,
        shift: &str,
        kind: &str,
        key: Option<&str>,
        body: Value,
    ) -> TestResponse {
        let mut request = TestRequest::post()
            .uri(&format!("/api/v1/shifts/{shift}/{kind}"))
            .insert_header(("authorization", format!("Bearer {}", who.token)))
            .set_json(body);
        if let Some(key) = key {
            request = request.insert_header(("Idempotency-Key", key));
        }
        self.app.send(request).await
    }

    pub(crate) async fn work_monday(&self) -> String {
        let start = self
            .clock(
                &self.amy_login,
                &self.monday,
                "clock-in",
                Some("mon-in"),
                json!({"device_time": "2026-10-19T08:02:00Z", "location": at_home()}),
            )
            .await;
        assert_eq!(start.status, 201, "{}", start.text);
        let end = self
            .clock(
                &self.amy_login,
                &self.monday,
                "clock-out",
                Some("mon-out"),
                json!({"device_time": "2026-10-19T11:00:00Z", "location": at_home()}),
            )
            .await;
        assert_eq!(end.status, 200, "{}", end.text);
        end.body["timesheet_id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn submit(&self, timesheet: &str) -> TestResponse {
        self.post(
            &self.amy_login,
            &format!("/api/v1/timesheets/{timesheet}/submission"),
            json!({}),
        )
        .await
    }

    /// Sets the organisation's policy (as an admin unless `who` says otherwise).
    pub(crate) async fn set_policy(
        &self,
        who: &TestUser,
        approver: &str,
        radius_m: i32,
    ) -> TestResponse {
        self.app
            .send(
                TestRequest::put()
                    .uri(&format!(
                        "/api/v1/organisations/{}/timesheet-policy",
                        self.organisation.id
                    ))
                    .insert_header(("authorization", format!("Bearer {}", who.token)))
                    .set_json(json!({
                        "pay_frequency": "monthly", "period_anchor": "2026-01-01", "approver": approver,
                        "radius_m": radius_m, "late_minutes": 10, "left_early_minutes": 10,
                        "overrun_minutes": 15, "short_minutes": 15, "clock_out_grace_minutes": 60,
                        "offline_sync_days": 3660
                    })),
            )
            .await
    }

    pub(crate) async fn post(&self, who: &TestUser, path: &str, body: Value) -> TestResponse {
        self.app.post_json(path, Some(&who.token), &body).await
    }

    async fn spent_and_committed(&self) -> (i64, i64) {
        let statement = self
            .app
            .get(
                &format!(
                    "/api/v1/budget-holders/{}/budget/statement?from=2026-10-01&to=2027-03-31",
                    self.holder
                ),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(statement.status, 200, "{}", statement.text);
        let total = crate::helpers::total_balance(&statement.body);
        (
            total["spent_pence"].as_i64().unwrap(),
            total["committed_pence"].as_i64().unwrap(),
        )
    }

    fn count(&self, sql_table: &str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
            .get_result::<Count>(&mut self.app.conn())
            .unwrap()
            .n
    }
}

#[actix_web::test]
async fn a_clock_event_happens_once_per_key_and_a_reused_key_is_refused() {
    let w = week().await;
    let body = json!({"device_time": "2026-10-19T08:02:00Z", "location": at_home()});
    let first = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("k-1"),
            body.clone(),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["clock_in"]["at"], "2026-10-19T08:02:00Z");
    assert_eq!(first.body["outside_radius"], false);
    assert_eq!(first.header("Idempotent-Replayed"), None);
    let replay = w
        .clock(&w.amy_login, &w.monday, "clock-in", Some("k-1"), body)
        .await;
    assert_eq!(replay.status, 201, "{}", replay.text);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    let reused = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("k-1"),
            json!({"device_time": "2026-10-19T08:30:00Z"}),
        )
        .await;
    reused.assert_problem(409, "idempotency_key_reused");
    let again = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("k-2"),
            json!({"device_time": "2026-10-19T08:03:00Z"}),
        )
        .await;
    again.assert_problem(409, "already_clocked_in");
    let missing_key = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-out",
            None,
            json!({"device_time": "2026-10-19T11:00:00Z"}),
        )
        .await;
    assert_eq!(
        missing_key.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "Idempotency-Key"
    );
    let out = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-out",
            Some("k-3"),
            json!({"device_time": "2026-10-19T11:00:00Z"}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.text);
    assert_eq!(out.body["worked_minutes"], 178);
    assert_eq!(out.body["planned"]["minutes"], 180);
    // Two events kept, one record, nothing doubled.
    assert_eq!(w.count("clock_events"), 2);
    assert_eq!(w.count("shift_records"), 1);
}

#[actix_web::test]
async fn the_offline_queue_applies_in_any_order_keeps_device_times_and_replays_safely() {
    let w = week().await;
    let queue = json!({"events": [
        {"idempotency_key": "q-out", "shift_id": w.monday, "kind": "clock_out", "device_time": "2026-10-19T11:05:00Z"},
        {"idempotency_key": "q-in", "shift_id": w.monday, "kind": "clock_in", "device_time": "2026-10-19T07:58:00Z"},
        {"idempotency_key": "q-nowhere", "shift_id": parota::ids::new_id(), "kind": "clock_in", "device_time": "2026-10-19T07:58:00Z"}
    ]});
    let synced = w
        .post(&w.amy_login, "/api/v1/timesheets/sync", queue.clone())
        .await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    let results = synced.body["results"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 201, 404]);
    assert_eq!(results[0]["body"]["clock_in"], Value::Null);
    assert_eq!(results[2]["body"]["code"], "not_found");
    let record = &results[1]["body"];
    assert_eq!(record["clock_in"]["at"], "2026-10-19T07:58:00Z");
    assert_eq!(record["clock_out"]["device_at"], "2026-10-19T11:05:00Z");
    // Arrived weeks later: the server's time is kept beside the phone's.
    assert_ne!(
        record["clock_out"]["received_at"],
        record["clock_out"]["device_at"]
    );
    assert_eq!(record["worked_minutes"], 187);
    assert_eq!(record["exceptions"], json!([]));

    let again = w.post(&w.amy_login, "/api/v1/timesheets/sync", queue).await;
    let replayed: Vec<(u64, bool)> = again.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["replayed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(replayed, [(200, true), (201, true), (404, false)]);
    assert_eq!(w.count("clock_events"), 2);
    // A direct call with a key the queue used is the same event.
    let direct = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("q-in"),
            json!({"device_time": "2026-10-19T07:58:00Z"}),
        )
        .await;
    assert_eq!(direct.header("Idempotent-Replayed"), Some("true"));
}

#[actix_web::test]
async fn a_clock_out_without_a_clock_in_is_kept_flagged_and_cannot_be_submitted() {
    let w = week().await;
    let out = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-out",
            Some("only-out"),
            json!({"device_time": "2026-10-19T11:00:00Z"}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.text);
    assert_eq!(out.body["clock_in"], Value::Null);
    assert_eq!(out.body["worked_minutes"], Value::Null);
    assert_eq!(out.body["exceptions"][0]["kind"], "no_clock_in");
    let timesheet = out.body["timesheet_id"].as_str().unwrap();
    let submit = w.submit(timesheet).await;
    submit.assert_problem(409, "incomplete_records");
    // A clock-in after the clock-out it belongs to is refused, naming the field.
    let late_in = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("in-after"),
            json!({"device_time": "2026-10-19T11:30:00Z"}),
        )
        .await;
    assert_eq!(
        late_in.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "device_time"
    );
}

#[actix_web::test]
async fn only_the_pa_on_the_shift_records_it() {
    let w = week().await;
    let body = json!({"device_time": "2026-10-19T08:00:00Z"});
    w.clock(
        &w.ben_login,
        &w.monday,
        "clock-in",
        Some("b-1"),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    w.clock(&w.manager, &w.monday, "clock-in", Some("m-1"), body.clone())
        .await
        .assert_problem(403, "forbidden");
    let elsewhere = w.app.organisation("Another Provider", "QOP", "provider");
    let stranger = w.app.user(&elsewhere, Role::Pa);
    w.clock(&stranger, &w.monday, "clock-in", Some("s-1"), body)
        .await
        .assert_problem(404, "not_found");
    // Amy's record is hers: Ben cannot read her timesheet, nor add to it.
    let timesheet = w.work_monday().await;
    w.app
        .get(
            &format!("/api/v1/timesheets/{timesheet}"),
            Some(&w.ben_login.token),
        )
        .await
        .assert_problem(403, "forbidden");
    let mine = w
        .app
        .get("/api/v1/pas/me/timesheets", Some(&w.ben_login.token))
        .await;
    assert_eq!(mine.body, json!([]));
    let amys = w
        .app
        .get("/api/v1/pas/me/timesheets", Some(&w.amy_login.token))
        .await;
    assert_eq!(amys.body[0]["id"], timesheet.as_str());
}

#[actix_web::test]
async fn a_night_across_the_autumn_clock_change_is_eleven_hours() {
    let w = week().await;
    for (kind, at, key) in [
        ("clock-in", "2026-10-24T21:00:00Z", "n-in"),
        ("clock-out", "2026-10-25T08:00:00Z", "n-out"),
    ] {
        let r = w
            .clock(
                &w.amy_login,
                &w.night,
                kind,
                Some(key),
                json!({"device_time": at}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let timesheets = w
        .app
        .get("/api/v1/pas/me/timesheets", Some(&w.amy_login.token))
        .await;
    let view = w
        .app
        .get(
            &format!(
                "/api/v1/timesheets/{}",
                timesheets.body[0]["id"].as_str().unwrap()
            ),
            Some(&w.amy_login.token),
        )
        .await;
    let night = &view.body["records"][0];
    assert_eq!(night["planned"]["minutes"], 660);
    assert_eq!(night["worked_minutes"], 660);
    assert_eq!(night["exceptions"], json!([]));
    // 11 hours at £13.00 with 12.07% holiday pay.
    assert_eq!(view.body["cost"]["pay_pence"], 14_300);
    assert_eq!(view.body["cost"]["holiday_pence"], 1_726);
}

#[actix_web::test]
async fn a_clock_in_far_from_home_is_flagged_for_the_approver_not_refused() {
    let w = week().await;
    let far = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("far"),
            json!({"device_time": "2026-10-19T08:00:00Z", "location": {"latitude": 51.5074, "longitude": -0.1278, "accuracy_m": 10}}),
        )
        .await;
    assert_eq!(far.status, 201, "{}", far.text);
    assert_eq!(far.body["outside_radius"], true);
    assert!(far.body["clock_in"]["distance_m"].as_i64().unwrap() > 250_000);
    let exceptions = w
        .app
        .get(
            "/api/v1/timesheet-exceptions?from=2026-10-19&to=2026-10-25",
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(exceptions.status, 200, "{}", exceptions.text);
    let kinds: Vec<(&str, &str)> = exceptions
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["date"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    // Monday: far from home and never clocked out; Saturday night: missed altogether.
    assert_eq!(
        kinds,
        [
            ("2026-10-19", "no_clock_out"),
            ("2026-10-19", "outside_radius"),
            ("2026-10-24", "missed")
        ]
    );
    w.app
        .get(
            "/api/v1/timesheet-exceptions?from=2026-10-19&to=2026-10-25",
            Some(&w.amy_login.token),
        )
        .await
        .assert_problem(403, "forbidden");
    let other_manager = w.app.user(&w.organisation, Role::TeamManager);
    let theirs = w
        .app
        .get(
            "/api/v1/timesheet-exceptions?from=2026-10-19&to=2026-10-25",
            Some(&other_manager.token),
        )
        .await;
    assert_eq!(theirs.body, json!([]));
}

#[actix_web::test]
async fn approval_posts_the_actual_cost_and_only_approvers_decide() {
    let w = week().await;
    let timesheet = w.work_monday().await;
    let view = w
        .app
        .get(
            &format!("/api/v1/timesheets/{timesheet}"),
            Some(&w.amy_login.token),
        )
        .await;
    let record = view.body["records"][0]["id"].as_str().unwrap().to_owned();
    let details = w
        .app
        .patch_json(
            &format!("/api/v1/shift-records/{record}"),
            Some(&w.amy_login.token),
            &json!({"business_miles": 12.0, "expenses_pence": 450}),
        )
        .await;
    assert_eq!(
        details.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "expense_receipt"
    );
    let woken = w
        .app
        .patch_json(
            &format!("/api/v1/shift-records/{record}"),
            Some(&w.amy_login.token),
            &json!({"woken_minutes": 30}),
        )
        .await;
    assert_eq!(
        woken.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "not_a_sleep_in"
    );
    let details = w
        .app
        .patch_json(
            &format!("/api/v1/shift-records/{record}"),
            Some(&w.amy_login.token),
            &json!({"business_miles": 12.0, "expenses_pence": 450, "expense_receipt": "R-1001", "note": "Pharmacy run"}),
        )
        .await;
    assert_eq!(details.status, 200, "{}", details.text);
    let submitted = w.submit(&timesheet).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_eq!(submitted.body["status"], "submitted");
    // 178 minutes at £13.00 = 3,857p; holiday 466p; 12 miles at 45p = 540p; receipt 450p.
    assert_eq!(submitted.body["cost"]["pay_pence"], 3_857);
    assert_eq!(submitted.body["cost"]["holiday_pence"], 466);
    assert_eq!(submitted.body["cost"]["mileage_pence"], 540);
    let version = submitted.header("ETag").unwrap().to_owned();

    let approve = format!("/api/v1/timesheets/{timesheet}/approval");
    // The person reads it but the organisation has team managers approve; another team
    // manager and another PA may not.
    let read = w
        .app
        .get(
            &format!("/api/v1/timesheets/{timesheet}"),
            Some(&w.person.token),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    w.post(&w.person, &approve, json!({}))
        .await
        .assert_problem(403, "forbidden");
    let other_manager = w.app.user(&w.organisation, Role::TeamManager);
    w.post(&other_manager, &approve, json!({}))
        .await
        .assert_problem(403, "forbidden");
    w.post(&w.ben_login, &approve, json!({}))
        .await
        .assert_problem(403, "forbidden");
    w.post(&w.amy_login, &approve, json!({}))
        .await
        .assert_problem(403, "forbidden");

    let (spent_before, committed_before) = w.spent_and_committed().await;
    let stale = w
        .app
        .send(
            TestRequest::post()
                .uri(&approve)
                .insert_header(("authorization", format!("Bearer {}", w.manager.token)))
                .insert_header(("If-Match", "\"1\"")),
        )
        .await;
    stale.assert_problem(412, "stale_version");
    let approved = w
        .app
        .send(
            TestRequest::post()
                .uri(&approve)
                .insert_header(("authorization", format!("Bearer {}", w.manager.token)))
                .insert_header(("If-Match", version)),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["decided_by"], w.manager.id.as_str());
    assert_eq!(
        approved.body["paid_in_period_id"],
        approved.body["period"]["id"]
    );
    let (spent_after, committed_after) = w.spent_and_committed().await;
    assert_eq!(spent_after - spent_before, 3_857 + 466 + 540 + 450);
    // The roster committed 3 h with holiday pay for the place: released.
    assert_eq!(committed_after - committed_before, -4_371);
    w.post(&w.manager, &approve, json!({}))
        .await
        .assert_problem(409, "not_submitted");
}

#[actix_web::test]
async fn after_approval_a_change_is_a_recorded_amendment_costed_in_the_ledger() {
    let w = week().await;
    let timesheet = w.work_monday().await;
    w.submit(&timesheet).await;
    let approved = w
        .post(
            &w.manager,
            &format!("/api/v1/timesheets/{timesheet}/approval"),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let record = approved.body["records"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The PA can no longer change it, by hand or by a late event.
    w.app
        .patch_json(
            &format!("/api/v1/shift-records/{record}"),
            Some(&w.amy_login.token),
            &json!({"break_minutes": 10}),
        )
        .await
        .assert_problem(409, "timesheet_not_open");
    w.clock(
        &w.amy_login,
        &w.monday,
        "clock-out",
        Some("late-out"),
        json!({"device_time": "2026-10-19T12:00:00Z"}),
    )
    .await
    .assert_problem(409, "timesheet_approved");
    let amend = format!("/api/v1/shift-records/{record}/amendments");
    w.post(
        &w.amy_login,
        &amend,
        json!({"reason": "x", "break_minutes": 10}),
    )
    .await
    .assert_problem(403, "forbidden");
    w.post(&w.manager, &amend, json!({"break_minutes": 10}))
        .await
        .assert_problem(422, "validation_failed");
    let (spent_before, _) = w.spent_and_committed().await;
    let amended = w
        .post(
            &w.manager,
            &amend,
            json!({"reason": "Left at 11:30, confirmed by Ann", "clock_out_at": "2026-10-19T10:30:00Z"}),
        )
        .await;
    assert_eq!(amended.status, 201, "{}", amended.text);
    assert_eq!(
        amended.body["before"]["clock_out_at"],
        "2026-10-19T11:00:00Z"
    );
    assert_eq!(
        amended.body["after"]["clock_out_at"],
        "2026-10-19T10:30:00Z"
    );
    // 178 worked minutes became 148: (3,857p pay + 466p holiday) less (3,207p + 387p).
    assert_eq!(amended.body["cost_change_pence"], -729);
    assert_eq!(amended.body["pay_period_id"], approved.body["period"]["id"]);
    let (spent_after, _) = w.spent_and_committed().await;
    assert_eq!(spent_after - spent_before, -729);
    let history = w.app.get(&amend, Some(&w.amy_login.token)).await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(history.body["record"]["worked_minutes"], 148);
    assert_eq!(history.body["record"]["amendments"], 1);
    assert_eq!(
        history.body["amendments"][0]["reason"],
        "Left at 11:30, confirmed by Ann"
    );
    // The phone's events stay as they arrived.
    assert_eq!(
        history.body["record"]["clock_out"]["device_at"],
        "2026-10-19T11:00:00Z"
    );
    let audit = w
        .app
        .get("/api/v1/audit-events?limit=200", Some(&w.admin.token))
        .await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "shift_record.amended"
                && e["actor_user_id"] == w.manager.id.as_str()),
        "{}",
        audit.text
    );
}

#[actix_web::test]
async fn a_closed_period_is_locked_and_late_work_is_paid_in_the_next() {
    let w = week().await;
    let timesheet = w.work_monday().await;
    let periods = w
        .app
        .get(
            "/api/v1/pay-periods?from=2026-10-01&to=2026-12-31",
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(periods.status, 200, "{}", periods.text);
    let october = periods.body[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(periods.body[0]["starts_on"], "2026-10-01");
    let close = format!("/api/v1/pay-periods/{october}/closure");
    w.post(&w.manager, &close, json!({}))
        .await
        .assert_problem(403, "forbidden");
    let closed = w.post(&w.admin, &close, json!({})).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.body["closed"], true);
    w.post(&w.admin, &close, json!({}))
        .await
        .assert_problem(409, "period_closed");

    // Approved after the close: paid in November.
    w.submit(&timesheet).await;
    let approved = w
        .post(
            &w.manager,
            &format!("/api/v1/timesheets/{timesheet}/approval"),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["period"]["id"], october.as_str());
    let november = approved.body["paid_in_period_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(november, october);
    let after = w
        .app
        .get(
            "/api/v1/pay-periods?from=2026-10-01&to=2026-12-31",
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(after.body[1]["id"], november.as_str());
    assert_eq!(after.body[1]["starts_on"], "2026-11-01");
    // An amendment to October's work is paid in November too.
    let record = approved.body["records"][0]["id"].as_str().unwrap();
    let amended = w
        .post(
            &w.manager,
            &format!("/api/v1/shift-records/{record}/amendments"),
            json!({"reason": "Parking receipt", "expenses_pence": 300}),
        )
        .await;
    assert_eq!(amended.status, 201, "{}", amended.text);
    assert_eq!(amended.body["pay_period_id"], november.as_str());
    // October's night, synced only now, lands on a November timesheet.
    let night = w
        .clock(
            &w.amy_login,
            &w.night,
            "clock-in",
            Some("late-night"),
            json!({"device_time": "2026-10-24T21:00:00Z"}),
        )
        .await;
    assert_eq!(night.status, 201, "{}", night.text);
    let sheet = w
        .app
        .get(
            &format!(
                "/api/v1/timesheets/{}",
                night.body["timesheet_id"].as_str().unwrap()
            ),
            Some(&w.amy_login.token),
        )
        .await;
    assert_eq!(sheet.body["period"]["id"], november.as_str());
}

#[actix_web::test]
async fn a_forgotten_clock_out_is_chased_once() {
    let w = week().await;
    let start = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("forgot"),
            json!({"device_time": "2026-10-19T08:00:00Z"}),
        )
        .await;
    assert_eq!(start.status, 201, "{}", start.text);
    let now = chrono::Utc::now();
    let reminded =
        parota::timesheets::exceptions::remind_unfinished(&mut w.app.conn(), now).unwrap();
    assert_eq!(reminded, 1);
    let again = parota::timesheets::exceptions::remind_unfinished(&mut w.app.conn(), now).unwrap();
    assert_eq!(again, 0);
    let mails = parota::mail::list(&mut w.app.conn(), &w.organisation.id).unwrap();
    let chasers: Vec<_> = mails
        .iter()
        .filter(|m| m.subject == "Did you forget to clock out?")
        .collect();
    assert_eq!(chasers.len(), 1);
    assert_eq!(chasers[0].recipient, "amy@pa.example.test");
    assert!(
        chasers[0].body.contains("ended at 12:00"),
        "{}",
        chasers[0].body
    );
}

#[actix_web::test]
async fn unrostered_work_needs_the_team_manager_even_where_the_person_approves() {
    let w = week().await;
    w.set_policy(&w.manager, "either", 1000)
        .await
        .assert_problem(403, "forbidden");
    let set = w.set_policy(&w.admin, "either", 1000).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["approver"], "either");

    let work = json!({"started_at": "2026-10-20T17:00:00Z", "ended_at": "2026-10-20T18:00:00Z", "reason": "Fall at home: stayed until the ambulance came"});
    let unrostered = |who: TestUser, key: &'static str| {
        let app = &w.app;
        let path = format!("/api/v1/budget-holders/{}/unrostered-work", w.holder);
        let work = work.clone();
        async move {
            app.send(
                TestRequest::post()
                    .uri(&path)
                    .insert_header(("authorization", format!("Bearer {}", who.token)))
                    .insert_header(("Idempotency-Key", key))
                    .set_json(work),
            )
            .await
        }
    };
    unrostered(w.ben_login.clone(), "u-ben")
        .await
        .assert_problem(403, "forbidden");
    let recorded = unrostered(w.amy_login.clone(), "u-amy").await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    assert_eq!(recorded.body["worked_minutes"], 60);
    assert_eq!(recorded.body["exceptions"][0]["kind"], "unrostered");
    let replay = unrostered(w.amy_login.clone(), "u-amy").await;
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    let timesheet = recorded.body["timesheet_id"].as_str().unwrap();
    w.submit(timesheet).await;
    let approve = format!("/api/v1/timesheets/{timesheet}/approval");
    w.post(&w.person, &approve, json!({}))
        .await
        .assert_problem(403, "forbidden");
    let queue = w
        .app
        .get(
            &format!(
                "/api/v1/budget-holders/{}/timesheets?status=submitted",
                w.holder
            ),
            Some(&w.person.token),
        )
        .await;
    assert_eq!(queue.body.as_array().unwrap().len(), 1, "{}", queue.text);
    let approved = w.post(&w.manager, &approve, json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let _ = w.amy;
}

#[actix_web::test]
async fn a_query_sends_the_timesheet_back_to_the_pa_with_the_reason() {
    let w = week().await;
    let timesheet = w.work_monday().await;
    w.submit(&timesheet).await;
    let queried = w
        .post(
            &w.manager,
            &format!("/api/v1/timesheets/{timesheet}/query"),
            json!({"reason": "Was there a break?"}),
        )
        .await;
    assert_eq!(queried.status, 200, "{}", queried.text);
    assert_eq!(queried.body["status"], "queried");
    assert_eq!(queried.body["query_reason"], "Was there a break?");
    let record = queried.body["records"][0]["id"].as_str().unwrap();
    let fixed = w
        .app
        .patch_json(
            &format!("/api/v1/shift-records/{record}"),
            Some(&w.amy_login.token),
            &json!({"break_minutes": 20}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    assert_eq!(fixed.body["worked_minutes"], 158);
    let resubmitted = w.submit(&timesheet).await;
    assert_eq!(resubmitted.body["status"], "submitted");
    let mails = parota::mail::list(&mut w.app.conn(), &w.organisation.id).unwrap();
    assert!(mails
        .iter()
        .any(|m| m.subject == "Your timesheet has a question"
            && m.body.contains("Was there a break?")));
}

#[actix_web::test]
async fn the_radius_is_the_organisations_to_set() {
    let w = week().await;
    let start = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("r-in"),
            json!({"device_time": "2026-10-19T08:00:00Z", "location": at_home()}),
        )
        .await;
    assert_eq!(start.body["outside_radius"], false, "{}", start.text);
    let set = w.set_policy(&w.admin, "team_manager", 50).await;
    assert_eq!(set.status, 200, "{}", set.text);
    // The same spot, about 110 m from the centroid, is now outside.
    let end = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-out",
            Some("r-out"),
            json!({"device_time": "2026-10-19T11:00:00Z", "location": at_home()}),
        )
        .await;
    assert_eq!(end.body["outside_radius"], true, "{}", end.text);
    assert!(end.body["clock_out"]["distance_m"].as_i64().unwrap() > 50);
}

#[actix_web::test]
async fn a_batch_of_events_answers_each_as_it_would_alone() {
    use parota::timesheets::ingest::{apply, ClockEvent};
    use parota::timesheets::model::ClockKind;
    let w = week().await;
    let pa = |user: &TestUser| parota::auth::AuthUser {
        user_id: user.id.clone(),
        organisation_id: w.organisation.id.clone(),
        role: Role::Pa,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    };
    let event = |who: &TestUser, shift: &str, kind, at: &str, key: &str| ClockEvent {
        actor: pa(who),
        shift_id: shift.to_owned(),
        kind,
        request: serde_json::from_value(json!({"device_time": at})).unwrap(),
        key: key.to_owned(),
    };
    let events = vec![
        // Out of order: the clock-out first, then its clock-in, in one batch.
        event(
            &w.amy_login,
            &w.monday,
            ClockKind::ClockOut,
            "2026-10-19T11:00:00Z",
            "b-out",
        ),
        event(
            &w.amy_login,
            &w.monday,
            ClockKind::ClockIn,
            "2026-10-19T08:00:00Z",
            "b-in",
        ),
        // The same key again: a replay; a second clock-in with a new key: refused.
        event(
            &w.amy_login,
            &w.monday,
            ClockKind::ClockIn,
            "2026-10-19T08:00:00Z",
            "b-in",
        ),
        event(
            &w.amy_login,
            &w.monday,
            ClockKind::ClockIn,
            "2026-10-19T08:01:00Z",
            "b-in-2",
        ),
        // The same key with another body; Ben on Amy's shift; a shift that does not exist.
        event(
            &w.amy_login,
            &w.monday,
            ClockKind::ClockIn,
            "2026-10-19T08:05:00Z",
            "b-in",
        ),
        event(
            &w.ben_login,
            &w.monday,
            ClockKind::ClockIn,
            "2026-10-19T08:00:00Z",
            "b-ben",
        ),
        event(
            &w.amy_login,
            &parota::ids::new_id(),
            ClockKind::ClockIn,
            "2026-10-19T08:00:00Z",
            "b-none",
        ),
        // The night: a new record in the same batch.
        event(
            &w.amy_login,
            &w.night,
            ClockKind::ClockIn,
            "2026-10-24T21:00:00Z",
            "b-night",
        ),
    ];
    let answers = apply(&mut w.app.conn(), &events, chrono::Utc::now());
    let summary: Vec<(u16, bool)> = answers
        .iter()
        .map(|a| match a {
            Ok(answer) => (answer.status, answer.replayed),
            Err(error) => {
                use actix_web::ResponseError;
                (error.status_code().as_u16(), false)
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            (200, false),
            (201, false),
            (201, true),
            (409, false),
            (409, false),
            (403, false),
            (404, false),
            (201, false)
        ]
    );
    let complete = answers[1].as_ref().unwrap();
    assert_eq!(complete.body["worked_minutes"], 180);
    assert_eq!(answers[2].as_ref().unwrap().body, complete.body);
    // What the batch wrote is what a reader sees, and a replay later answers the same.
    assert_eq!(w.count("clock_events"), 3);
    assert_eq!(w.count("shift_records"), 2);
    let later = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("b-in"),
            json!({"device_time": "2026-10-19T08:00:00Z"}),
        )
        .await;
    assert_eq!(later.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(later.body, complete.body);
    // A second batch sets ends on records the first one made.
    let second = apply(
        &mut w.app.conn(),
        &[
            event(
                &w.amy_login,
                &w.night,
                ClockKind::ClockOut,
                "2026-10-25T08:00:00Z",
                "b-night-out",
            ),
            event(
                &w.amy_login,
                &w.monday,
                ClockKind::ClockOut,
                "2026-10-19T11:30:00Z",
                "b-out-2",
            ),
        ],
        chrono::Utc::now(),
    );
    assert_eq!(second[0].as_ref().unwrap().body["worked_minutes"], 660);
    assert!(second[1].is_err());
    assert_eq!(w.count("clock_events"), 4);
}

#[actix_web::test]
async fn the_one_event_path_a_failed_batch_falls_back_to_answers_the_same() {
    use parota::timesheets::clock::clock;
    use parota::timesheets::model::ClockKind;
    let w = week().await;
    let amy = parota::auth::AuthUser {
        user_id: w.amy_login.id.clone(),
        organisation_id: w.organisation.id.clone(),
        role: Role::Pa,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    };
    let request: parota::timesheets::dto::ClockRequest =
        serde_json::from_value(json!({"device_time": "2026-10-19T08:00:00Z"})).unwrap();
    let now = chrono::Utc::now();
    let mut conn = w.app.conn();
    let first = clock(
        &mut conn,
        &amy,
        &w.monday,
        ClockKind::ClockIn,
        &request,
        "one-1",
        now,
    )
    .unwrap();
    assert_eq!((first.status, first.replayed), (201, false));
    let again = clock(
        &mut conn,
        &amy,
        &w.monday,
        ClockKind::ClockIn,
        &request,
        "one-1",
        now,
    )
    .unwrap();
    assert_eq!((again.status, again.replayed), (201, true));
    assert_eq!(again.body, first.body);
    let twice = clock(
        &mut conn,
        &amy,
        &w.monday,
        ClockKind::ClockIn,
        &request,
        "one-2",
        now,
    );
    assert_eq!(twice.unwrap_err().code(), "already_clocked_in");
    drop(conn);
    // The batching path sees what the one-event path wrote.
    let replay = w
        .clock(
            &w.amy_login,
            &w.monday,
            "clock-in",
            Some("one-1"),
            json!({"device_time": "2026-10-19T08:00:00Z"}),
        )
        .await;
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(w.count("clock_events"), 1);
}

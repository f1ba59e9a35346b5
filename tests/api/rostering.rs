//! Support patterns end to end: weekly needs with dates and kinds, pauses and extra cover, and
//! the shifts they ask for placed in real time across the clock changes.

use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};

struct Pattern {
    app: TestApp,
    manager: TestUser,
    person: TestUser,
    holder: String,
}

impl Pattern {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let organisation = app.provider();
        let manager = app.user(&organisation, Role::TeamManager);
        let person = app.user(&organisation, Role::BudgetHolder);
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
                    "support_needs": [
                        {"day": "saturday", "start": "22:00", "end": "08:00", "kind": "waking_night"},
                        {"day": "monday", "start": "09:00", "end": "12:00", "headcount": 2, "until": "2027-01-18"}
                    ]
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let holder = created.body["id"].as_str().unwrap().to_owned();
        Self {
            app,
            manager,
            person,
            holder,
        }
    }

    async fn shifts(&self, from: &str, to: &str, token: &str) -> Value {
        let response = self
            .app
            .get(
                &format!(
                    "/api/v1/budget-holders/{}/planned-shifts?from={from}&to={to}",
                    self.holder
                ),
                Some(token),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body
    }

    async fn change(&self, body: Value) -> crate::helpers::TestResponse {
        self.app
            .post_json(
                &format!("/api/v1/budget-holders/{}/support-changes", self.holder),
                Some(&self.manager.token),
                &body,
            )
            .await
    }
}

#[actix_web::test]
async fn nights_across_the_clock_changes_are_planned_at_their_real_length() {
    let p = Pattern::new().await;
    let autumn = p.shifts("2026-10-24", "2026-10-24", &p.manager.token).await;
    assert_eq!(autumn[0]["hours"], 11.0);
    assert_eq!(autumn[0]["kind"], "waking_night");
    assert_eq!(autumn[0]["starts_at"], "2026-10-24T21:00:00Z");
    assert_eq!(autumn[0]["ends_at"], "2026-10-25T08:00:00Z");
    let spring = p.shifts("2026-03-28", "2026-03-28", &p.manager.token).await;
    assert_eq!(spring[0]["hours"], 9.0);
}

#[actix_web::test]
async fn pauses_and_extra_cover_change_the_shifts_and_cancelling_restores_them() {
    let p = Pattern::new().await;
    // Mondays to 18 January 2027 and Saturday nights, 4–17 January.
    let before = p.shifts("2027-01-04", "2027-01-17", &p.manager.token).await;
    assert_eq!(before.as_array().unwrap().len(), 4);
    let pause = p.change(json!({"kind": "pause", "from": "2027-01-04", "to": "2027-01-10", "reason": "hospital stay"})).await;
    assert_eq!(pause.status, 201, "{}", pause.text);
    let extra = p
        .change(json!({"kind": "extra", "from": "2027-01-06", "start": "14:00", "end": "16:00", "headcount": 2, "reason": "discharge home"}))
        .await;
    assert_eq!(extra.status, 201, "{}", extra.text);
    let after = p.shifts("2027-01-04", "2027-01-25", &p.manager.token).await;
    let summary: Vec<(String, String)> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["date"].as_str().unwrap().to_owned(),
                s["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2027-01-06", "extra"),
            ("2027-01-11", "weekly"),
            ("2027-01-16", "weekly"),
            ("2027-01-18", "weekly"),
            ("2027-01-23", "weekly"),
        ]
        .map(|(d, s)| (d.to_owned(), s.to_owned()))
    );
    assert_eq!(after[0]["headcount"], 2);

    let id = pause.body["id"].as_str().unwrap();
    let cancel = format!(
        "/api/v1/budget-holders/{}/support-changes/{id}/cancellation",
        p.holder
    );
    assert_eq!(
        p.app
            .post_json(&cancel, Some(&p.manager.token), &json!({}))
            .await
            .status,
        200
    );
    p.app
        .post_json(&cancel, Some(&p.manager.token), &json!({}))
        .await
        .assert_problem(409, "already_cancelled");
    let restored = p.shifts("2027-01-04", "2027-01-10", &p.manager.token).await;
    assert_eq!(restored.as_array().unwrap().len(), 3);
    let history = p
        .app
        .get(
            &format!("/api/v1/budget-holders/{}/support-changes", p.holder),
            Some(&p.person.token),
        )
        .await;
    assert_eq!(history.body.as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn bad_changes_and_needs_name_their_field() {
    let p = Pattern::new().await;
    let problem = p
        .change(json!({"kind": "extra", "from": "2027-01-06", "end": "16:00", "reason": "extra"}))
        .await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "start"
    );
    let problem = p
        .change(
            json!({"kind": "pause", "from": "2027-01-06", "to": "2027-01-01", "reason": "away"}),
        )
        .await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );
    let problem = p
        .app
        .patch_json(
            &format!("/api/v1/budget-holders/{}", p.holder),
            Some(&p.manager.token),
            &json!({"support_needs": [{"day": "monday", "start": "09:00", "end": "12:00", "from": "2027-02-01", "until": "2027-01-01"}]}),
        )
        .await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "support_needs[0].until"
    );
    let range = p
        .app
        .get(
            &format!(
                "/api/v1/budget-holders/{}/planned-shifts?from=2027-01-01&to=2027-06-01",
                p.holder
            ),
            Some(&p.manager.token),
        )
        .await;
    assert_eq!(
        range.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );
}

#[actix_web::test]
async fn only_the_persons_manager_changes_the_pattern_and_only_their_people_see_it() {
    let p = Pattern::new().await;
    let organisation = crate::helpers::TestOrganisation {
        id: p.app.organisation_of(&p.manager.id),
        area_code: "QE1".into(),
    };
    let other_manager = p.app.user(&organisation, Role::TeamManager);
    let pa = p.app.user(&organisation, Role::Pa);
    let path = format!(
        "/api/v1/budget-holders/{}/planned-shifts?from=2027-01-04&to=2027-01-10",
        p.holder
    );
    assert_eq!(p.app.get(&path, Some(&p.person.token)).await.status, 200);
    p.app
        .get(&path, Some(&other_manager.token))
        .await
        .assert_problem(403, "forbidden");
    p.app
        .get(&path, Some(&pa.token))
        .await
        .assert_problem(403, "forbidden");
    let body = json!({"kind": "pause", "from": "2027-01-04", "reason": "away"});
    let changes = format!("/api/v1/budget-holders/{}/support-changes", p.holder);
    p.app
        .post_json(&changes, Some(&p.person.token), &body)
        .await
        .assert_problem(403, "forbidden");
    p.app
        .post_json(&changes, Some(&other_manager.token), &body)
        .await
        .assert_problem(403, "forbidden");
}

/// A manager, one person needing personal care (Mondays 09:00–12:00, and 2:1 on Wednesdays
/// 09:00–12:00), and PAs created through the API.
struct Team {
    app: TestApp,
    manager: TestUser,
    holder: String,
    personal_care: String,
}

impl Team {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let organisation = app.provider();
        let manager = app.user(&organisation, Role::TeamManager);
        let personal_care =
            crate::helpers::competency_id(&app, &manager.token, "personal_care").await;
        let created = app
            .post_json(
                "/api/v1/budget-holders",
                Some(&manager.token),
                &json!({
                    "display_name": "Ann Riley",
                    "postcode": "BB11 2AB",
                    "funding": "chc",
                    "minimum_level": 2,
                    "required_competencies": [personal_care],
                    "support_needs": [
                        {"day": "monday", "start": "09:00", "end": "12:00"},
                        {"day": "wednesday", "start": "09:00", "end": "12:00", "headcount": 2}
                    ]
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let holder = created.body["id"].as_str().unwrap().to_owned();
        Self {
            app,
            manager,
            holder,
            personal_care,
        }
    }

    /// A PA with personal care, checks, and availability on the given days.
    async fn pa(&self, name: &str, days: &[&str], with_evidence: bool) -> String {
        let availability: Vec<Value> = days
            .iter()
            .map(|d| json!({"day": d, "start": "07:00", "end": "19:00"}))
            .collect();
        let created = self
            .app
            .post_json(
                "/api/v1/pas",
                Some(&self.manager.token),
                &json!({
                    "display_name": name,
                    "email": format!("{}@pa.example.test", name.to_lowercase()),
                    "postcode": "BB11 3AA",
                    "max_travel_km": 15,
                    "availability": availability,
                    "wanted_hours_per_week": 10,
                    "min_hourly_pay_pence": 1300,
                    "dbs": {"issued_on": "2025-06-01", "update_service": true},
                    "right_to_work": {"checked_on": "2025-06-01"}
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        if with_evidence {
            let evidence = self
                .app
                .post_json(
                    &format!("/api/v1/pas/{id}/competencies"),
                    Some(&self.manager.token),
                    &json!({"competency_id": self.personal_care, "trained_on": "2025-01-10", "expires_on": "2099-01-10"}),
                )
                .await;
            assert_eq!(evidence.status, 201, "{}", evidence.text);
        }
        id
    }

    /// Another team manager of the organisation, and a person of theirs needing personal
    /// care at `support_needs`: the person's id.
    async fn other_team(&self, name: &str, support_needs: Value) -> (TestUser, String) {
        let organisation = crate::helpers::TestOrganisation {
            id: self.app.organisation_of(&self.manager.id),
            area_code: "QE1".into(),
        };
        let manager = self.app.user(&organisation, Role::TeamManager);
        let created = self
            .app
            .post_json(
                "/api/v1/budget-holders",
                Some(&manager.token),
                &json!({
                    "display_name": name,
                    "postcode": "BB11 2AB",
                    "funding": "chc",
                    "minimum_level": 2,
                    "required_competencies": [self.personal_care],
                    "support_needs": support_needs
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        (manager, id)
    }

    /// An approved budget, all health, covering `from` to `to`.
    async fn approved_budget(&self, from: chrono::NaiveDate, to: chrono::NaiveDate) {
        crate::helpers::approved_budget(
            &self.app,
            &self.manager.token,
            &self.holder,
            (from, to),
            500_000,
        )
        .await;
    }

    /// The person's budget statement, all streams together.
    async fn budget_total(&self) -> Value {
        let statement = self
            .app
            .get(
                &format!("/api/v1/budget-holders/{}/budget/statement", self.holder),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(statement.status, 200, "{}", statement.text);
        crate::helpers::total_balance(&statement.body).clone()
    }

    async fn publish(&self, roster: &str, version: Option<&str>) -> crate::helpers::TestResponse {
        let mut request = actix_web::test::TestRequest::post()
            .uri(&format!("/api/v1/rosters/{roster}/publication"))
            .insert_header(("authorization", format!("Bearer {}", self.manager.token)));
        if let Some(v) = version {
            request = request.insert_header(("If-Match", v));
        }
        self.app.send(request).await
    }

    async fn roster(&self, token: &str) -> crate::helpers::TestResponse {
        self.app
            .post_json(
                "/api/v1/rosters",
                Some(token),
                &json!({"budget_holder_ids": [self.holder], "from": "2027-01-04", "to": "2027-01-17", "seed": 7, "time_limit_ms": 300}),
            )
            .await
    }
}

#[actix_web::test]
async fn a_generated_roster_staffs_every_shift_safely_or_says_why_not() {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let _ben = t.pa("Ben", &["monday"], true).await;
    // Qualified on paper but without the evidence: never rostered.
    let cal = t.pa("Cal", &["monday", "wednesday"], false).await;

    let response = t.roster(&t.manager.token).await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(response.header("etag"), Some("\"1\""));
    let roster = &response.body;
    assert_eq!(roster["status"], "draft");
    let shifts = roster["shifts"].as_array().unwrap();
    assert_eq!(shifts.len(), 4);
    for shift in shifts {
        let pas: Vec<&str> = shift["pa_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(!pas.contains(&cal.as_str()), "{shift}");
        if shift["headcount"] == 2 {
            // Only Amy is qualified and free on Wednesdays: the 2:1 is left open, not half-filled.
            assert!(pas.is_empty(), "{shift}");
            assert_eq!(shift["open_reason"], "not_enough_for_two_to_one");
        } else {
            assert_eq!(pas.len(), 1, "{shift}");
        }
    }
    assert_eq!(roster["open_shifts"], 2);

    // A second qualified PA on Wednesdays lets the 2:1 be staffed by two different PAs.
    let dee = t.pa("Dee", &["wednesday"], true).await;
    let response = t.roster(&t.manager.token).await;
    let wednesdays: Vec<&Value> = response.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["headcount"] == 2)
        .collect();
    for shift in wednesdays {
        let mut pas: Vec<&str> = shift["pa_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        pas.sort_unstable();
        let mut expected = vec![amy.as_str(), dee.as_str()];
        expected.sort_unstable();
        assert_eq!(pas, expected, "{shift}");
    }
    let id = response.body["id"].as_str().unwrap();
    let read = t
        .app
        .get(&format!("/api/v1/rosters/{id}"), Some(&t.manager.token))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["shifts"], response.body["shifts"]);
}

#[actix_web::test]
async fn only_the_persons_manager_rosters_them_and_reads_the_roster() {
    let t = Team::new().await;
    t.pa("Amy", &["monday", "wednesday"], true).await;
    let organisation = crate::helpers::TestOrganisation {
        id: t.app.organisation_of(&t.manager.id),
        area_code: "QE1".into(),
    };
    let other_manager = t.app.user(&organisation, Role::TeamManager);
    let pa = t.app.user(&organisation, Role::Pa);
    t.roster(&other_manager.token)
        .await
        .assert_problem(403, "forbidden");
    t.roster(&pa.token).await.assert_problem(403, "forbidden");
    let made = t.roster(&t.manager.token).await;
    let path = format!("/api/v1/rosters/{}", made.body["id"].as_str().unwrap());
    t.app
        .get(&path, Some(&other_manager.token))
        .await
        .assert_problem(403, "forbidden");
    let other = t.app.organisation("Other", "QOP", "provider");
    let outsider = t.app.user(&other, Role::Admin);
    t.app
        .get(&path, Some(&outsider.token))
        .await
        .assert_problem(404, "not_found");
    let bad = t
        .app
        .post_json(
            "/api/v1/rosters",
            Some(&t.manager.token),
            &json!({"from": "2027-01-04", "to": "2027-03-31"}),
        )
        .await;
    assert_eq!(
        bad.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );
}

async fn edit(
    t: &Team,
    roster: &str,
    version: Option<&str>,
    body: Value,
) -> crate::helpers::TestResponse {
    let mut request = actix_web::test::TestRequest::post()
        .uri(&format!("/api/v1/rosters/{roster}/edits"))
        .insert_header(("authorization", format!("Bearer {}", t.manager.token)))
        .set_json(body);
    if let Some(version) = version {
        request = request.insert_header(("If-Match", version));
    }
    t.app.send(request).await
}

#[actix_web::test]
async fn edits_are_checked_against_every_rule_and_the_version_the_manager_saw() {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let ben = t.pa("Ben", &["monday"], true).await;
    let cal = t.pa("Cal", &["monday", "wednesday"], false).await;
    let made = t.roster(&t.manager.token).await;
    let roster = made.body["id"].as_str().unwrap().to_owned();
    let shifts = made.body["shifts"].as_array().unwrap();
    let monday = shifts.iter().find(|s| s["headcount"] == 1).unwrap();
    let monday_id = monday["id"].as_str().unwrap();
    let on_it = monday["pa_ids"][0].as_str().unwrap().to_owned();
    let other = if on_it == amy {
        ben.clone()
    } else {
        amy.clone()
    };
    let wednesday_id = shifts.iter().find(|s| s["headcount"] == 2).unwrap()["id"]
        .as_str()
        .unwrap();

    // Without If-Match: refused; with a version never issued: stale.
    let body = json!({"action": "assign", "shift_id": monday_id, "pa_ids": [other]});
    edit(&t, &roster, None, body.clone())
        .await
        .assert_problem(428, "if_match_required");
    edit(&t, &roster, Some("\"9\""), body.clone())
        .await
        .assert_problem(412, "stale_version");

    let done = edit(&t, &roster, Some("\"1\""), body.clone()).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.header("etag"), Some("\"2\""));
    assert_eq!(done.body["shifts"][0]["pa_ids"], json!([other]));
    // A second editor who also read version 1 is caught.
    let late = edit(
        &t,
        &roster,
        Some("\"1\""),
        json!({"action": "unassign", "shift_id": monday_id}),
    )
    .await;
    late.assert_problem(412, "stale_version");
    assert_eq!(late.header("etag"), Some("\"2\""));

    // Rules: a PA without valid evidence, and half of a 2:1, are refused and nothing changes.
    let refused = edit(
        &t,
        &roster,
        Some("\"2\""),
        json!({"action": "assign", "shift_id": monday_id, "pa_ids": [cal]}),
    )
    .await;
    assert_eq!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "not_eligible"
    );
    let half = edit(
        &t,
        &roster,
        Some("\"2\""),
        json!({"action": "assign", "shift_id": wednesday_id, "pa_ids": [amy]}),
    )
    .await;
    assert_eq!(
        half.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "half_staffed"
    );
    let read = t
        .app
        .get(&format!("/api/v1/rosters/{roster}"), Some(&t.manager.token))
        .await;
    assert_eq!(read.body["version"], 2);

    // Opening a shift saves its pay: 3 hours at £13.00.
    let opened = edit(
        &t,
        &roster,
        Some("\"2\""),
        json!({"action": "unassign", "shift_id": monday_id}),
    )
    .await;
    assert_eq!(opened.status, 200, "{}", opened.text);
    assert_eq!(opened.body["pay_change_pence"], -3900);
    assert_eq!(opened.body["shifts"][0]["open_reason"], "opened_by_manager");
    // Who changed what, before and after, for the admin.
    let organisation = crate::helpers::TestOrganisation {
        id: t.app.organisation_of(&t.manager.id),
        area_code: "QE1".into(),
    };
    let admin = t.app.user(&organisation, Role::Admin);
    let audit = t
        .app
        .get(
            &format!("/api/v1/audit-events?entity_id={roster}"),
            Some(&admin.token),
        )
        .await;
    let edits: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "roster.shift_edited")
        .collect();
    assert_eq!(edits.len(), 2, "{}", audit.text);
    assert_eq!(edits[0]["before"]["pa_ids"], json!([on_it]));
    assert_eq!(edits[0]["after"]["pa_ids"], json!([other]));
}

#[actix_web::test]
async fn publishing_commits_the_pay_to_the_budget_and_mails_each_pa_once() {
    let t = Team::new().await;
    let pas = [
        (
            t.pa("Amy", &["monday", "wednesday"], true).await,
            "amy@pa.example.test",
        ),
        (t.pa("Ben", &["monday"], true).await, "ben@pa.example.test"),
        (
            t.pa("Dee", &["wednesday"], true).await,
            "dee@pa.example.test",
        ),
    ];
    t.approved_budget(
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    )
    .await;
    let made = t.roster(&t.manager.token).await;
    assert_eq!(made.body["open_shifts"], 0, "{}", made.text);
    let roster = made.body["id"].as_str().unwrap().to_owned();
    t.publish(&roster, None)
        .await
        .assert_problem(428, "if_match_required");
    let published = t.publish(&roster, Some("\"1\"")).await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.body["status"], "published");
    assert_eq!(published.header("etag"), Some("\"2\""));
    t.publish(&roster, Some("\"2\""))
        .await
        .assert_problem(409, "not_a_draft");

    // Two Mondays with one PA and two 2:1 Wednesdays: six PA-shifts of 3 hours at £13.00, each
    // with 12.07% holiday pay accrued: 3,900 × 1.1207 = 4,370.73, so £43.71 a PA-shift.
    let total = t.budget_total().await;
    assert_eq!(total["committed_pence"], 6 * 4_371);
    assert_eq!(total["remaining_pence"], 500_000 - 6 * 4_371);
    // The roster states the same cost against the budget, draft and published alike (the
    // published roster's cost is counted once, from the ledger).
    for roster in [&made.body, &published.body] {
        let cost = &roster["cost_against_budget"][0];
        assert_eq!(cost["budget_holder_id"], t.holder.as_str());
        assert_eq!(cost["roster_cost_pence"], 6 * 4_371, "{roster}");
        assert_eq!(cost["used_with_roster_pence"], 6 * 4_371, "{roster}");
        assert_eq!(
            cost["remaining_after_pence"],
            500_000 - 6 * 4_371,
            "{roster}"
        );
        assert_eq!(
            cost["variance_pence"].as_i64().unwrap(),
            cost["profiled_pence"].as_i64().unwrap() - 6 * 4_371
        );
    }

    let mut conn = t.app.conn();
    let organisation = t.app.organisation_of(&t.manager.id);
    let mails = parota::mail::list(&mut conn, &organisation).unwrap();
    let mut to: Vec<&str> = mails
        .iter()
        .filter(|m| m.subject.starts_with("Your shifts"))
        .map(|m| m.recipient.as_str())
        .collect();
    to.sort_unstable();
    // One e-mail to each PA with a shift, and none to a PA without.
    let rostered: Vec<&str> = made.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["pa_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
        })
        .collect();
    let mut expected: Vec<&str> = pas
        .iter()
        .filter(|(id, _)| rostered.contains(&id.as_str()))
        .map(|(_, email)| *email)
        .collect();
    expected.sort_unstable();
    assert_eq!(to, expected);
    assert!(to.contains(&"dee@pa.example.test"));
    let amy = mails
        .iter()
        .find(|m| m.recipient == "amy@pa.example.test")
        .unwrap();
    assert!(amy.body.contains("2027-01-06 09:00–12:00"), "{}", amy.body);

    // A change after publishing releases the shift's pay and tells only the PA taken off it.
    let monday = made.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["headcount"] == 1)
        .unwrap();
    let shift = monday["id"].as_str().unwrap();
    let removed = monday["pa_ids"][0].as_str().unwrap();
    let changed = edit(
        &t,
        &roster,
        Some("\"2\""),
        json!({"action": "unassign", "shift_id": shift}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.header("etag"), Some("\"3\""));
    let total = t.budget_total().await;
    assert_eq!(total["committed_pence"], 5 * 4_371);
    let mails = parota::mail::list(&mut t.app.conn(), &organisation).unwrap();
    let told: Vec<&str> = mails
        .iter()
        .filter(|m| m.subject == "A change to your shifts")
        .map(|m| m.recipient.as_str())
        .collect();
    let removed_email = pas.iter().find(|(id, _)| id == removed).unwrap().1;
    assert_eq!(told, [removed_email]);
}

/// A PA login linked to a profile the manager created.
fn login_for(t: &Team, pa: &str) -> TestUser {
    use diesel::prelude::*;
    use parota::db::schema::pa_profiles;
    let organisation = crate::helpers::TestOrganisation {
        id: t.app.organisation_of(&t.manager.id),
        area_code: "QE1".into(),
    };
    let user = t.app.user(&organisation, Role::Pa);
    diesel::update(pa_profiles::table.find(pa))
        .set(pa_profiles::user_id.eq(&user.id))
        .execute(&mut t.app.conn())
        .unwrap();
    user
}

#[actix_web::test]
async fn a_pa_sees_only_their_own_published_shifts_and_syncs_changes() {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let dee = t.pa("Dee", &["wednesday"], true).await;
    t.approved_budget(
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    )
    .await;
    let amy_login = login_for(&t, &amy);
    let dee_login = login_for(&t, &dee);
    let made = t.roster(&t.manager.token).await;
    let roster = made.body["id"].as_str().unwrap();
    let mine = "/api/v1/pas/me/shifts?from=2027-01-01&to=2027-01-31";
    // A draft is not the PA's to see.
    let before = t.app.get(mine, Some(&amy_login.token)).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert!(before.body["items"].as_array().unwrap().is_empty());

    let published = t.publish(roster, Some("\"1\"")).await;
    assert_eq!(published.status, 200, "{}", published.text);
    let count = |pa: &str| {
        made.body["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["pa_ids"].as_array().unwrap().iter().any(|p| p == pa))
            .count()
    };
    // Amy: all four shifts (both Mondays, both 2:1 Wednesdays with Dee), paged two at a time.
    let first = t
        .app
        .get(&format!("{mine}&limit=2"), Some(&amy_login.token))
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["items"][0]["person_name"], "Ann Riley");
    assert_eq!(first.body["items"][0]["person_district"], "BB11");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = t
        .app
        .get(
            &format!(
                "{mine}&limit=2&cursor={}",
                cursor
                    .replace('+', "%2B")
                    .replace(':', "%3A")
                    .replace('|', "%7C")
            ),
            Some(&amy_login.token),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let seen = first.body["items"].as_array().unwrap().len()
        + second.body["items"].as_array().unwrap().len();
    assert_eq!(seen, count(&amy));
    let dees = t.app.get(mine, Some(&dee_login.token)).await;
    assert_eq!(dees.body["items"].as_array().unwrap().len(), count(&dee));
    assert!(dees.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["headcount"] == 2));
    // Sync: nothing changed after now.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B")
        .replace(':', "%3A");
    let synced = t
        .app
        .get(
            &format!("{mine}&changed_since={later}"),
            Some(&amy_login.token),
        )
        .await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    assert!(synced.body["items"].as_array().unwrap().is_empty());
    // Only PAs have their own shifts.
    t.app
        .get(mine, Some(&t.manager.token))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn the_calendar_feed_parses_back_to_the_pas_shifts_and_can_be_revoked() {
    use chrono::Datelike;
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let amy_login = login_for(&t, &amy);
    // The next full two weeks from a Monday, so the feed's window (now −14 to +84 days) holds them.
    let today = chrono::Utc::now().date_naive();
    let monday =
        today + chrono::Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let to = monday + chrono::Duration::days(13);
    t.approved_budget(today, today + chrono::Duration::days(120))
        .await;
    let made = t
        .app
        .post_json(
            "/api/v1/rosters",
            Some(&t.manager.token),
            &json!({"budget_holder_ids": [t.holder], "from": monday, "to": to, "seed": 3, "time_limit_ms": 200}),
        )
        .await;
    let roster = made.body["id"].as_str().unwrap();
    let published = t.publish(roster, Some("\"1\"")).await;
    assert_eq!(published.status, 200, "{}", published.text);

    let feed = t
        .app
        .post_json(
            "/api/v1/pas/me/calendar-feed",
            Some(&amy_login.token),
            &json!({}),
        )
        .await;
    assert_eq!(feed.status, 201, "{}", feed.text);
    let path = feed.body["path"].as_str().unwrap().to_owned();
    let calendar = t.app.get(&path, None).await;
    assert_eq!(calendar.status, 200, "{}", calendar.text);
    assert!(calendar.content_type().starts_with("text/calendar"));
    assert!(calendar.text.contains("\r\n"), "lines end in CRLF");
    // Unfold (RFC 5545 §3.1) and read the events back.
    let unfolded = calendar.text.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    assert_eq!(lines[0], "BEGIN:VCALENDAR");
    assert!(lines.contains(&"TZID:Europe/London"));
    let starts: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("DTSTART;TZID=Europe/London:"))
        .collect();
    // Amy is the only PA: both Mondays are hers; the 2:1 Wednesdays need two and stay open.
    assert_eq!(starts.len(), 2, "{unfolded}");
    assert_eq!(starts[0], format!("{}T090000", monday.format("%Y%m%d")));
    assert!(lines.contains(&"SUMMARY:day with Ann Riley"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("UID:")).count(), 2);

    // Revoked: the address stops working; another PA's login cannot make or read Amy's.
    let revoked = t
        .app
        .send(
            actix_web::test::TestRequest::delete()
                .uri("/api/v1/pas/me/calendar-feed")
                .insert_header(("authorization", format!("Bearer {}", amy_login.token))),
        )
        .await;
    assert_eq!(revoked.status, 204);
    t.app
        .get(&path, None)
        .await
        .assert_problem(404, "not_found");
    t.app
        .get("/api/v1/calendar-feeds/not-a-real-token", None)
        .await
        .assert_problem(404, "not_found");
    t.app
        .post_json(
            "/api/v1/pas/me/calendar-feed",
            Some(&t.manager.token),
            &json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn open_shifts_go_to_qualified_pas_and_the_first_valid_acceptance_wins() {
    use chrono::Datelike;
    let t = Team::new().await;
    t.pa("Dee", &["wednesday"], true).await;
    let today = chrono::Utc::now().date_naive();
    let monday =
        today + chrono::Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    t.approved_budget(today, today + chrono::Duration::days(120))
        .await;
    let made = t
        .app
        .post_json(
            "/api/v1/rosters",
            Some(&t.manager.token),
            &json!({"budget_holder_ids": [t.holder], "from": monday, "to": monday + chrono::Duration::days(6), "time_limit_ms": 100}),
        )
        .await;
    // No one does Mondays yet, and the 2:1 Wednesday has only Dee: both open.
    assert_eq!(made.body["open_shifts"], 2, "{}", made.text);
    let monday_shift = made.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["headcount"] == 1)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roster = made.body["id"].as_str().unwrap();
    let published = t.publish(roster, Some("\"1\"")).await;
    assert_eq!(published.status, 200, "{}", published.text);

    // Two qualified PAs join, and one without the evidence.
    let amy = t.pa("Amy", &["monday"], true).await;
    let ben = t.pa("Ben", &["monday"], true).await;
    let cal = t.pa("Cal", &["monday"], false).await;
    let logins: Vec<TestUser> = [&amy, &ben, &cal]
        .iter()
        .map(|pa| login_for(&t, pa))
        .collect();
    let offered = t
        .app
        .get("/api/v1/pas/me/open-shifts", Some(&logins[0].token))
        .await;
    assert_eq!(offered.status, 200, "{}", offered.text);
    let offers = offered.body.as_array().unwrap();
    assert_eq!(offers.len(), 1, "{}", offered.text);
    assert_eq!(offers[0]["shift_id"], monday_shift.as_str());
    assert_eq!(offers[0]["district"], "BB11");
    assert!(offers[0].get("person_name").is_none());
    // Declined: not offered to that PA again, still offered to others.
    let declined = t
        .app
        .post_json(
            &format!("/api/v1/roster-shifts/{monday_shift}/decline"),
            Some(&logins[1].token),
            &json!({}),
        )
        .await;
    assert_eq!(declined.status, 204, "{}", declined.text);
    assert!(t
        .app
        .get("/api/v1/pas/me/open-shifts", Some(&logins[1].token))
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        t.app
            .get("/api/v1/pas/me/open-shifts", Some(&logins[0].token))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let none = t
        .app
        .get("/api/v1/pas/me/open-shifts", Some(&logins[2].token))
        .await;
    assert!(none.body.as_array().unwrap().is_empty());
    let refused = t
        .app
        .post_json(
            &format!("/api/v1/roster-shifts/{monday_shift}/acceptance"),
            Some(&logins[2].token),
            &json!({}),
        )
        .await;
    let breaches = refused.assert_problem(409, "not_eligible")["breaches"].clone();
    assert!(
        breaches.as_array().unwrap().iter().any(|b| b["rule"]
            .as_str()
            .unwrap()
            .starts_with("competency:")
            && b["pa_id"] == cal.as_str()),
        "{}",
        refused.text
    );

    // Amy and Ben accept at once: exactly one wins.
    let organisation = t.app.organisation_of(&t.manager.id);
    let outcomes: Vec<Result<(), String>> = logins[..2]
        .iter()
        .map(|login| {
            let pool = t.app.pool().clone();
            let actor = parota::auth::AuthUser {
                user_id: login.id.clone(),
                organisation_id: organisation.clone(),
                role: Role::Pa,
                area_code: "QE1".into(),
                request_id: None,
                session_id: None,
            };
            let shift = monday_shift.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                parota::rostering::open_shifts::accept(
                    &mut conn,
                    &actor,
                    &shift,
                    chrono::Utc::now(),
                )
                .map(|_| ())
                .map_err(|e| e.code().to_owned())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&Err("already_taken".to_owned())),
        "{outcomes:?}"
    );
    let read = t
        .app
        .get(&format!("/api/v1/rosters/{roster}"), Some(&t.manager.token))
        .await;
    let taken = read.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == monday_shift.as_str())
        .unwrap()
        .clone();
    assert_eq!(taken["pa_ids"].as_array().unwrap().len(), 1);
    assert!(taken.get("open_reason").is_none(), "{taken}");
    assert!(t
        .app
        .get("/api/v1/pas/me/open-shifts", Some(&logins[1].token))
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    // The place's pay is committed: 3 h at £13.00 with 12.07% holiday pay.
    let total = t.budget_total().await;
    assert_eq!(total["committed_pence"], 4_371);
}

/// A published fortnight for Ann with Amy and Ben on Mondays and Dee on Wednesdays (with Amy),
/// each PA able to log in.
async fn published_team() -> (Team, String, Vec<(String, TestUser)>) {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let ben = t.pa("Ben", &["monday"], true).await;
    let dee = t.pa("Dee", &["wednesday"], true).await;
    t.approved_budget(
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    )
    .await;
    let made = t.roster(&t.manager.token).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let roster = made.body["id"].as_str().unwrap().to_owned();
    let published = t.publish(&roster, Some("\"1\"")).await;
    assert_eq!(published.status, 200, "{}", published.text);
    let pas = [amy, ben, dee]
        .into_iter()
        .map(|pa| {
            let login = login_for(&t, &pa);
            (pa, login)
        })
        .collect();
    (t, roster, pas)
}

#[actix_web::test]
async fn a_swap_needs_the_colleague_then_the_manager_and_every_rule_holds() {
    let (t, roster, pas) = published_team().await;
    let read = t
        .app
        .get(&format!("/api/v1/rosters/{roster}"), Some(&t.manager.token))
        .await;
    let monday = read.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["headcount"] == 1 && !s["pa_ids"].as_array().unwrap().is_empty())
        .unwrap()
        .clone();
    let shift = monday["id"].as_str().unwrap();
    let on = monday["pa_ids"][0].as_str().unwrap();
    // Amy and Ben both do Mondays: whoever is on it asks the other.
    let (me, colleague) = if on == pas[0].0 {
        (&pas[0], &pas[1])
    } else {
        (&pas[1], &pas[0])
    };
    let dee = &pas[2];
    let ask = |token: String, body: Value| {
        let app = &t.app;
        let path = format!("/api/v1/roster-shifts/{shift}/swap-requests");
        async move { app.post_json(&path, Some(&token), &body).await }
    };

    // Only the PA on the shift may ask; a colleague from nowhere is named.
    ask(colleague.1.token.clone(), json!({"colleague_pa_id": me.0}))
        .await
        .assert_problem(404, "not_found");
    let bad = ask(
        me.1.token.clone(),
        json!({"colleague_pa_id": "019d4657-0000-7000-8000-00000000dead"}),
    )
    .await;
    assert_eq!(
        bad.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "colleague_pa_id"
    );

    // Dee cannot do Mondays: the safety gate refuses even the asking, naming the rule.
    let to_dee = ask(me.1.token.clone(), json!({"colleague_pa_id": dee.0})).await;
    let refused = &to_dee.assert_problem(422, "validation_failed")["errors"][0];
    assert_eq!(refused["code"], "not_eligible", "{}", to_dee.text);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("(rule availability)"),
        "{}",
        to_dee.text
    );
    // One live request per shift: withdraw it before asking again.
    let first = ask(me.1.token.clone(), json!({"colleague_pa_id": colleague.0})).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    ask(me.1.token.clone(), json!({"colleague_pa_id": colleague.0}))
        .await
        .assert_problem(409, "swap_already_requested");
    let withdrawn = t
        .app
        .post_json(
            &format!("/api/v1/swap-requests/{first_id}/withdrawal"),
            Some(&me.1.token),
            &json!({}),
        )
        .await;
    assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.text);

    let asked = ask(
        me.1.token.clone(),
        json!({"colleague_pa_id": colleague.0, "note": "Dentist"}),
    )
    .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let id = asked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(asked.body["status"], "proposed");
    let theirs = t
        .app
        .get("/api/v1/pas/me/swap-requests", Some(&colleague.1.token))
        .await;
    assert!(theirs
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id.as_str()));
    assert!(t
        .app
        .get("/api/v1/pas/me/swap-requests", Some(&dee.1.token))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != id.as_str()));

    // The manager decides only what the colleague accepted; only the colleague accepts.
    let decide = |token: String, body: Value| {
        let app = &t.app;
        let path = format!("/api/v1/swap-requests/{id}/decision");
        async move { app.post_json(&path, Some(&token), &body).await }
    };
    decide(t.manager.token.clone(), json!({"approve": true}))
        .await
        .assert_problem(409, "not_accepted");
    for other in [&me.1.token, &dee.1.token] {
        t.app
            .post_json(
                &format!("/api/v1/swap-requests/{id}/acceptance"),
                Some(other),
                &json!({}),
            )
            .await
            .assert_problem(404, "not_found");
    }
    let accepted = t
        .app
        .post_json(
            &format!("/api/v1/swap-requests/{id}/acceptance"),
            Some(&colleague.1.token),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.body["status"], "accepted", "{}", accepted.text);
    let organisation = t.app.organisation_of(&t.manager.id);
    let mails = parota::mail::list(&mut t.app.conn(), &organisation).unwrap();
    assert!(mails
        .iter()
        .any(|m| m.subject == "A shift swap waits for your approval"
            && m.recipient == t.manager.login));

    // Another manager cannot decide it; a PA cannot; a refusal needs a reason.
    let stranger = t.app.user(
        &crate::helpers::TestOrganisation {
            id: organisation.clone(),
            area_code: "QE1".into(),
        },
        Role::TeamManager,
    );
    decide(stranger.token.clone(), json!({"approve": true}))
        .await
        .assert_problem(403, "forbidden");
    decide(me.1.token.clone(), json!({"approve": true}))
        .await
        .assert_problem(403, "forbidden");
    let no_reason = decide(t.manager.token.clone(), json!({"approve": false})).await;
    assert_eq!(
        no_reason.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "reason"
    );

    let approved = decide(t.manager.token.clone(), json!({"approve": true})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "approved");
    let after = t
        .app
        .get(&format!("/api/v1/rosters/{roster}"), Some(&t.manager.token))
        .await;
    assert_eq!(after.header("etag"), Some("\"3\""));
    let now_on = after.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == shift)
        .unwrap()["pa_ids"]
        .clone();
    assert_eq!(now_on, json!([colleague.0]));
    // Both PAs are told, and the decided request cannot be decided or withdrawn again.
    let mails = parota::mail::list(&mut t.app.conn(), &organisation).unwrap();
    for pa in [me, colleague] {
        let email = format!(
            "{}@pa.example.test",
            if pa.0 == pas[0].0 { "amy" } else { "ben" }
        );
        assert!(mails
            .iter()
            .any(|m| m.subject == "A change to your shifts" && m.recipient == email));
    }
    decide(t.manager.token.clone(), json!({"approve": true}))
        .await
        .assert_problem(409, "not_accepted");
    t.app
        .post_json(
            &format!("/api/v1/swap-requests/{id}/withdrawal"),
            Some(&me.1.token),
            &json!({}),
        )
        .await
        .assert_problem(409, "swap_request_moved_on");
    let listed = t
        .app
        .get(
            &format!("/api/v1/rosters/{roster}/swap-requests"),
            Some(&t.manager.token),
        )
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2, "{}", listed.text);
    t.app
        .get(
            &format!("/api/v1/rosters/{roster}/swap-requests"),
            Some(&stranger.token),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_long_roster_run_is_a_job_with_progress_seen_only_by_its_manager() {
    let t = Team::new().await;
    t.pa("Amy", &["monday", "wednesday"], true).await;
    t.pa("Dee", &["wednesday"], true).await;
    let started = t
        .app
        .post_json(
            "/api/v1/roster-runs",
            Some(&t.manager.token),
            &json!({"budget_holder_ids": [t.holder], "from": "2027-01-04", "to": "2027-01-17", "seed": 7, "time_limit_ms": 1000}),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    assert_eq!(started.body["status"], "queued");
    let run = started.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        started.header("location").unwrap(),
        format!("/api/v1/roster-runs/{run}")
    );
    // Longer than the job allows is named.
    let too_long = t
        .app
        .post_json(
            "/api/v1/roster-runs",
            Some(&t.manager.token),
            &json!({"from": "2027-01-04", "to": "2027-01-17", "time_limit_ms": 600000}),
        )
        .await;
    assert_eq!(
        too_long.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "time_limit_ms"
    );
    let too_wide = t
        .app
        .post_json(
            "/api/v1/roster-runs",
            Some(&t.manager.token),
            &json!({"from": "2027-01-04", "to": "2027-03-17", "time_limit_ms": 1000}),
        )
        .await;
    assert_eq!(
        too_wide.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );

    let organisation = crate::helpers::TestOrganisation {
        id: t.app.organisation_of(&t.manager.id),
        area_code: "QE1".into(),
    };
    let other_manager = t.app.user(&organisation, Role::TeamManager);
    let pa = t.app.user(&organisation, Role::Pa);
    t.app
        .post_json(
            "/api/v1/roster-runs",
            Some(&pa.token),
            &json!({"from": "2027-01-04", "to": "2027-01-17", "time_limit_ms": 1000}),
        )
        .await
        .assert_problem(403, "forbidden");
    // Another manager's people: accepted as a run, failed with the reason when it starts.
    let theirs = t
        .app
        .post_json(
            "/api/v1/roster-runs",
            Some(&other_manager.token),
            &json!({"budget_holder_ids": [t.holder], "from": "2027-01-04", "to": "2027-01-17", "time_limit_ms": 1000}),
        )
        .await;
    assert_eq!(theirs.status, 202, "{}", theirs.text);

    let ran = parota::worker::run_due_jobs(
        &mut t.app.conn(),
        "test-worker",
        &parota::worker::JobContext {
            settings: &t.app.state.settings,
            match_index: &t.app.services.match_index,
        },
    )
    .unwrap();
    assert!(ran >= 2);
    let done = t
        .app
        .get(
            &format!("/api/v1/roster-runs/{run}"),
            Some(&t.manager.token),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "done", "{}", done.text);
    assert_eq!(done.body["percent_done"], 100);
    assert!(done.body["moves_tried"].as_i64().unwrap() > 0);
    assert!(done.body["elapsed_ms"].as_i64().unwrap() >= 1000);
    let roster = t
        .app
        .get(
            done.body["roster"].as_str().unwrap(),
            Some(&t.manager.token),
        )
        .await;
    assert_eq!(roster.status, 200, "{}", roster.text);
    assert_eq!(roster.body["score"]["total"], done.body["best_score"]);
    assert_eq!(roster.body["shifts"].as_array().unwrap().len(), 4);
    let failed = t
        .app
        .get(
            &format!(
                "/api/v1/roster-runs/{}",
                theirs.body["id"].as_str().unwrap()
            ),
            Some(&other_manager.token),
        )
        .await;
    assert_eq!(failed.body["status"], "failed", "{}", failed.text);
    assert!(failed.body["error"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    // Nobody else sees a manager's run.
    t.app
        .get(
            &format!("/api/v1/roster-runs/{run}"),
            Some(&other_manager.token),
        )
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn an_admin_rosters_the_whole_organisation_at_once_and_no_pa_is_booked_twice_across_teams() {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday", "wednesday"], true).await;
    let dee = t.pa("Dee", &["wednesday"], true).await;
    // A second team manager's person needs the same PAs at the same times.
    let (second, theirs) = t
        .other_team(
            "Bob Lord",
            json!([
                {"day": "monday", "start": "09:00", "end": "12:00"},
                {"day": "wednesday", "start": "09:00", "end": "12:00", "headcount": 2}
            ]),
        )
        .await;
    let organisation = crate::helpers::TestOrganisation {
        id: t.app.organisation_of(&t.manager.id),
        area_code: "QE1".into(),
    };
    let admin = t.app.user(&organisation, Role::Admin);
    let body = json!({"scope": "organisation", "from": "2027-01-04", "to": "2027-01-17", "seed": 3, "time_limit_ms": 1000});

    // Only an admin rosters everyone; the organisation's run names nobody.
    for who in [&t.manager, &second] {
        t.app
            .post_json("/api/v1/roster-runs", Some(&who.token), &body)
            .await
            .assert_problem(403, "forbidden");
    }
    let named = t
        .app
        .post_json(
            "/api/v1/roster-runs",
            Some(&admin.token),
            &json!({"scope": "organisation", "budget_holder_ids": [t.holder], "from": "2027-01-04", "to": "2027-01-17", "time_limit_ms": 1000}),
        )
        .await;
    assert_eq!(
        named.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "budget_holder_ids"
    );
    let started = t
        .app
        .post_json("/api/v1/roster-runs", Some(&admin.token), &body)
        .await;
    assert_eq!(started.status, 202, "{}", started.text);
    assert_eq!(started.body["scope"], "organisation");
    let run = started.body["id"].as_str().unwrap().to_owned();
    parota::worker::run_due_jobs(
        &mut t.app.conn(),
        "test-worker",
        &parota::worker::JobContext {
            settings: &t.app.state.settings,
            match_index: &t.app.services.match_index,
        },
    )
    .unwrap();
    let done = t
        .app
        .get(&format!("/api/v1/roster-runs/{run}"), Some(&admin.token))
        .await;
    assert_eq!(done.body["status"], "done", "{}", done.text);
    assert!(
        done.body["moves_tried"].as_i64().unwrap() > 0,
        "{}",
        done.text
    );
    let ids: Vec<&str> = done.body["roster_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "one draft per team manager: {}", done.text);
    // A team manager is not shown the admin's run.
    t.app
        .get(
            &format!("/api/v1/roster-runs/{run}"),
            Some(&t.manager.token),
        )
        .await
        .assert_problem(404, "not_found");

    // Each manager reads their own draft, with their own person's shifts, and not the other's.
    let mut booked: Vec<(String, String, String)> = Vec::new();
    let mut managers = Vec::new();
    let mut totals = 0;
    for id in &ids {
        let roster = t
            .app
            .get(&format!("/api/v1/rosters/{id}"), Some(&admin.token))
            .await;
        assert_eq!(roster.status, 200, "{}", roster.text);
        assert_eq!(roster.body["status"], "draft");
        let manager = roster.body["team_manager_id"].as_str().unwrap().to_owned();
        let (own, other) = if manager == t.manager.id {
            (&t.manager, &second)
        } else {
            (&second, &t.manager)
        };
        let read = t
            .app
            .get(&format!("/api/v1/rosters/{id}"), Some(&own.token))
            .await;
        assert_eq!(read.status, 200, "{}", read.text);
        t.app
            .get(&format!("/api/v1/rosters/{id}"), Some(&other.token))
            .await
            .assert_problem(403, "forbidden");
        let shifts = roster.body["shifts"].as_array().unwrap();
        assert_eq!(shifts.len(), 4, "{}", roster.text);
        let holder = if manager == t.manager.id {
            t.holder.clone()
        } else {
            theirs.clone()
        };
        for shift in shifts {
            assert_eq!(shift["budget_holder_id"], holder.as_str());
            let pas = shift["pa_ids"].as_array().unwrap();
            if pas.is_empty() {
                assert!(shift["open_reason"].is_string(), "{shift}");
            }
            for pa in pas {
                booked.push((
                    pa.as_str().unwrap().to_owned(),
                    shift["starts_at"].as_str().unwrap().to_owned(),
                    shift["ends_at"].as_str().unwrap().to_owned(),
                ));
            }
        }
        totals += roster.body["score"]["total"].as_i64().unwrap();
        managers.push(manager);
    }
    managers.sort();
    let mut expected = vec![t.manager.id.clone(), second.id.clone()];
    expected.sort();
    assert_eq!(managers, expected);
    assert!(totals > 0);
    // Both people need Amy on Mondays and Amy and Dee on Wednesdays, at the same hours: each
    // slot is staffed for one of them and never twice.
    let mut seen = booked.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        booked.len(),
        "a PA booked twice at once: {booked:?}"
    );
    assert_eq!(
        booked.iter().filter(|(pa, ..)| *pa == amy).count(),
        4,
        "{booked:?}"
    );
    assert_eq!(
        booked.iter().filter(|(pa, ..)| *pa == dee).count(),
        2,
        "{booked:?}"
    );
}

#[actix_web::test]
async fn moving_a_pa_needs_a_free_place_and_never_leaves_half_a_two_to_one() {
    let t = Team::new().await;
    t.pa("Amy", &["monday", "wednesday"], true).await;
    t.pa("Dee", &["wednesday"], true).await;
    let made = t.roster(&t.manager.token).await;
    let roster = made.body["id"].as_str().unwrap();
    let shifts = made.body["shifts"].as_array().unwrap();
    let mondays: Vec<&Value> = shifts.iter().filter(|s| s["headcount"] == 1).collect();
    let wednesday = shifts.iter().find(|s| s["headcount"] == 2).unwrap();
    let amy = mondays[0]["pa_ids"][0].as_str().unwrap();
    let (first, second) = (
        mondays[0]["id"].as_str().unwrap(),
        mondays[1]["id"].as_str().unwrap(),
    );

    // Amy is on both Mondays: the second has no place for her.
    let full = edit(
        &t,
        roster,
        Some("\"1\""),
        json!({"action": "move", "shift_id": first, "pa_id": amy, "to_shift_id": second}),
    )
    .await;
    assert_eq!(
        full.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "already_on_shift"
    );
    let opened = edit(
        &t,
        roster,
        Some("\"1\""),
        json!({"action": "unassign", "shift_id": second}),
    )
    .await;
    assert_eq!(opened.status, 200, "{}", opened.text);
    // Taking Amy off a staffed 2:1 would leave Dee alone on it.
    let half = edit(
        &t,
        roster,
        Some("\"2\""),
        json!({"action": "move", "shift_id": wednesday["id"], "pa_id": amy, "to_shift_id": second}),
    )
    .await;
    assert_eq!(half.status, 422, "{}", half.text);
    assert!(
        half.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "half_staffed"),
        "{}",
        half.text
    );

    let moved = edit(
        &t,
        roster,
        Some("\"2\""),
        json!({"action": "move", "shift_id": first, "pa_id": amy, "to_shift_id": second}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let touched = moved.body["shifts"].as_array().unwrap();
    let on = |id: &str| touched.iter().find(|s| s["id"] == id).unwrap()["pa_ids"].clone();
    assert_eq!(on(first), json!([]));
    assert_eq!(on(second), json!([amy]));
    assert_eq!(moved.body["pay_change_pence"], 0);
}

#[actix_web::test]
async fn the_48_hour_week_binds_until_a_written_opt_out_and_a_pas_own_maximum_always_does() {
    let t = Team::new().await;
    // A second person who needs someone 07:00–19:00 every day.
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let long_days = t
        .app
        .post_json(
            "/api/v1/budget-holders",
            Some(&t.manager.token),
            &json!({
                "display_name": "Bo Hart",
                "postcode": "BB11 2AB",
                "funding": "chc",
                "minimum_level": 2,
                "required_competencies": [t.personal_care],
                "support_needs": days.iter().map(|d| json!({"day": d, "start": "07:00", "end": "19:00"})).collect::<Vec<_>>()
            }),
        )
        .await;
    assert_eq!(long_days.status, 201, "{}", long_days.text);
    let bo = long_days.body["id"].as_str().unwrap().to_owned();
    let amy = t.pa("Amy", &days, true).await;
    let week = |seed: u64| {
        let app = &t.app;
        let token = t.manager.token.clone();
        let bo = bo.clone();
        async move {
            app.post_json(
                "/api/v1/rosters",
                Some(&token),
                &json!({"budget_holder_ids": [bo], "from": "2027-01-04", "to": "2027-01-10", "seed": seed, "time_limit_ms": 200}),
            )
            .await
        }
    };
    let amys_shifts = |roster: &Value| {
        roster["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["pa_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p == amy.as_str())
            })
            .count()
    };
    // 12-hour days: four make 48 hours, the most the average week allows.
    let bound = week(1).await;
    assert_eq!(bound.status, 201, "{}", bound.text);
    assert_eq!(amys_shifts(&bound.body), 4, "{}", bound.text);
    let set = |body: Value| {
        let app = &t.app;
        let token = t.manager.token.clone();
        let path = format!("/api/v1/pas/{amy}/working-time");
        async move {
            app.send(
                actix_web::test::TestRequest::put()
                    .uri(&path)
                    .insert_header(("authorization", format!("Bearer {token}")))
                    .set_json(body),
            )
            .await
        }
    };
    let today = chrono::Utc::now().date_naive();
    let opted = set(json!({"opted_out_on": today})).await;
    assert_eq!(opted.status, 200, "{}", opted.text);
    assert_eq!(opted.body["average_week_applies_today"], false);
    // Opted out: six days, since weekly rest still needs one whole day off.
    let free = week(1).await;
    assert_eq!(amys_shifts(&free.body), 6, "{}", free.text);
    // A domestic worker likewise, but her own maximum of 30 hours always binds.
    let capped = set(json!({"domestic_worker": true, "max_hours_per_week": 30})).await;
    assert_eq!(
        capped.body["weekly_cap_hours_today"], 30.0,
        "{}",
        capped.text
    );
    let own = week(1).await;
    assert_eq!(amys_shifts(&own.body), 2, "{}", own.text);
    // A withdrawal takes effect on its date: from then the 48 hours bind again.
    let withdrawn = set(
        json!({"opted_out_on": today - chrono::Duration::days(30), "opt_out_withdrawn_on": today}),
    )
    .await;
    assert_eq!(
        withdrawn.body["average_week_applies_today"], true,
        "{}",
        withdrawn.text
    );
    assert_eq!(amys_shifts(&week(1).await.body), 4);

    // Bad records are named; a PA reads their own record but cannot set it.
    set(json!({"opted_out_on": today + chrono::Duration::days(1)}))
        .await
        .assert_problem(422, "validation_failed");
    let orphan = set(json!({"opt_out_withdrawn_on": today})).await;
    assert_eq!(
        orphan.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "opt_out_withdrawn_on"
    );
    let amy_login = login_for(&t, &amy);
    let mine = t
        .app
        .get(
            &format!("/api/v1/pas/{amy}/working-time"),
            Some(&amy_login.token),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["opt_out_withdrawn_on"], json!(today));
    t.app
        .send(
            actix_web::test::TestRequest::put()
                .uri(&format!("/api/v1/pas/{amy}/working-time"))
                .insert_header(("authorization", format!("Bearer {}", amy_login.token)))
                .set_json(json!({"domestic_worker": true})),
        )
        .await
        .assert_problem(403, "forbidden");
    let elsewhere = t.app.organisation("Elsewhere", "QE2", "provider");
    let stranger = t.app.user(&elsewhere, Role::TeamManager);
    t.app
        .get(
            &format!("/api/v1/pas/{amy}/working-time"),
            Some(&stranger.token),
        )
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_pa_booked_on_another_managers_published_roster_is_never_double_booked() {
    let t = Team::new().await;
    let amy = t.pa("Amy", &["monday"], true).await;
    t.approved_budget(
        chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    )
    .await;
    // A second manager in the same organisation, whose person needs Mondays 10:00 to 13:00.
    let (other, bo) = t
        .other_team(
            "Bo Hart",
            json!([{"day": "monday", "start": "10:00", "end": "13:00"}]),
        )
        .await;
    let budget = t
        .app
        .post_json(
            &format!("/api/v1/budget-holders/{bo}/budgets"),
            Some(&other.token),
            &json!({"name": "Budget", "amount_pence": 500_000, "period_start": "2027-01-01", "period_end": "2027-03-31", "health_share_bp": 10000}),
        )
        .await;
    let approved = t
        .app
        .post_json(
            &format!(
                "/api/v1/budgets/{}/approval",
                budget.body["id"].as_str().unwrap()
            ),
            Some(&other.token),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let on_mondays = |roster: &Value| -> Vec<Value> {
        roster["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["headcount"] == 1)
            .cloned()
            .collect()
    };

    // Both managers draft Amy onto their person's Mondays; drafts do not block each other.
    let first = t.roster(&t.manager.token).await;
    assert!(
        on_mondays(&first.body)
            .iter()
            .all(|s| s["pa_ids"] == json!([amy])),
        "{}",
        first.text
    );
    let theirs = t
        .app
        .post_json(
            "/api/v1/rosters",
            Some(&other.token),
            &json!({"budget_holder_ids": [bo], "from": "2027-01-04", "to": "2027-01-17", "time_limit_ms": 100}),
        )
        .await;
    assert!(
        on_mondays(&theirs.body)
            .iter()
            .all(|s| s["pa_ids"] == json!([amy])),
        "{}",
        theirs.text
    );
    let published = t
        .app
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!(
                    "/api/v1/rosters/{}/publication",
                    theirs.body["id"].as_str().unwrap()
                ))
                .insert_header(("authorization", format!("Bearer {}", other.token)))
                .insert_header(("If-Match", "\"1\"")),
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text);

    // The first draft now clashes: publishing it is refused, nothing goes live.
    let refused = t
        .publish(first.body["id"].as_str().unwrap(), Some("\"1\""))
        .await;
    let breaches = refused.assert_problem(409, "unsafe_roster")["breaches"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(breaches.len(), 2, "{}", refused.text);
    for b in &breaches {
        assert_eq!(b["rule"], "double_booking", "{}", refused.text);
        assert_eq!(b["pa_id"], amy.as_str(), "{}", refused.text);
    }
    // A new roster sees Amy's other shifts and leaves Ann's Mondays open, saying why.
    let second = t.roster(&t.manager.token).await;
    for shift in on_mondays(&second.body) {
        assert_eq!(shift["pa_ids"], json!([]), "{}", second.text);
        assert_eq!(shift["open_reason"], "double_booking_or_travel");
    }
    // And an edit putting her there is refused, naming the rule.
    let monday = on_mondays(&second.body)[0]["id"].clone();
    let refused = edit(
        &t,
        second.body["id"].as_str().unwrap(),
        Some("\"1\""),
        json!({"action": "assign", "shift_id": monday, "pa_ids": [amy]}),
    )
    .await;
    assert_eq!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "double_booking"
    );
}

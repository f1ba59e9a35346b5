//! Absence and cover end to end: a PA reports sick from the app, the shift opens at once and is
//! offered to the PAs the safety gate allows, the first acceptance covers it; a manager records
//! and corrects absence; bad reports are refused by field.

use actix_web::test::TestRequest;
use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{TestResponse, TestUser};
use crate::timesheets::{login_for, week_from, Week};

/// A Monday at least a week ahead, so every shift of its week is still to come.
fn coming_monday() -> NaiveDate {
    let today = chrono::Utc::now().date_naive();
    let days = 7 - i64::from(today.weekday().num_days_from_monday());
    today + Duration::days(days + 7)
}

async fn report(w: &Week, who: &TestUser, key: Option<&str>, body: Value) -> TestResponse {
    let mut request = TestRequest::post()
        .uri("/api/v1/pas/me/absences")
        .insert_header(("authorization", format!("Bearer {}", who.token)))
        .set_json(body);
    if let Some(key) = key {
        request = request.insert_header(("Idempotency-Key", key));
    }
    w.app.send(request).await
}

fn field_of(response: &TestResponse) -> String {
    response.assert_problem(422, "validation_failed")["errors"][0]["field"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Cara: a PA near Ann, qualified and free on Mondays, with a login.
async fn cara(w: &Week) -> (String, TestUser) {
    let personal_care =
        crate::helpers::competency_id(&w.app, &w.manager.token, "personal_care").await;
    let created = w
        .post(
            &w.manager,
            "/api/v1/pas",
            json!({
                "display_name": "Cara", "email": "cara@pa.example.test", "postcode": "BB11 3AA",
                "max_travel_km": 15, "wanted_hours_per_week": 20, "min_hourly_pay_pence": 1300,
                "availability": [{"day": "monday", "start": "07:00", "end": "19:00"}],
                "dbs": {"issued_on": "2025-06-01", "update_service": true},
                "right_to_work": {"checked_on": "2025-06-01"}
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let evidence = w
        .post(
            &w.manager,
            &format!("/api/v1/pas/{id}/competencies"),
            json!({"competency_id": personal_care, "trained_on": "2025-01-10", "expires_on": "2099-01-10"}),
        )
        .await;
    assert_eq!(evidence.status, 201, "{}", evidence.text);
    let login = login_for(&w.app, &w.organisation, &id);
    (id, login)
}

/// Whether a cover request (as read by its manager) has offered its shift to `pa_id`.
fn offered_to(request: &Value, pa_id: &str) -> bool {
    request["offers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["pa_id"] == pa_id)
}

fn outbox_subjects_to(w: &Week, recipient: &str) -> Vec<String> {
    use parota::db::schema::outbox_emails;
    outbox_emails::table
        .filter(outbox_emails::recipient.eq(recipient))
        .select(outbox_emails::subject)
        .load(&mut w.app.conn())
        .unwrap()
}

#[actix_web::test]
async fn a_pa_reports_sick_and_the_shift_is_offered_at_once_to_cover_the_gate_allows() {
    let monday = coming_monday();
    let saturday = monday + Duration::days(5);
    let w = week_from(monday).await;
    let (cara, cara_login) = cara(&w).await;
    let sick = json!({"kind": "sickness", "starts_on": monday, "ends_on": monday});

    // Refused, by field: no key, a kind a manager records, a start long past, an end before
    // the start, a named shift outside the dates, another PA's shift.
    let no_key = report(&w, &w.amy_login, None, sick.clone()).await;
    assert_eq!(field_of(&no_key), "Idempotency-Key");
    let leave = json!({"kind": "annual_leave", "starts_on": monday});
    assert_eq!(
        field_of(&report(&w, &w.amy_login, Some("k1"), leave).await),
        "kind"
    );
    let past = json!({"kind": "sickness", "starts_on": monday - Duration::days(30)});
    assert_eq!(
        field_of(&report(&w, &w.amy_login, Some("k2"), past).await),
        "starts_on"
    );
    let backwards =
        json!({"kind": "sickness", "starts_on": monday, "ends_on": monday - Duration::days(1)});
    assert_eq!(
        field_of(&report(&w, &w.amy_login, Some("k3"), backwards).await),
        "ends_on"
    );
    let outside =
        json!({"kind": "sickness", "starts_on": monday, "ends_on": monday, "shift_ids": [w.night]});
    assert_eq!(
        field_of(&report(&w, &w.amy_login, Some("k4"), outside).await),
        "shift_ids[0]"
    );
    let not_hers = json!({"kind": "sickness", "starts_on": monday, "shift_ids": [w.monday]});
    assert_eq!(
        field_of(&report(&w, &w.ben_login, Some("k5"), not_hers).await),
        "shift_ids[0]"
    );
    report(&w, &w.manager, Some("k6"), sick.clone())
        .await
        .assert_problem(403, "forbidden");

    // Amy reports sick for Monday: the shift opens and its search starts in the same breath.
    let reported = report(&w, &w.amy_login, Some("sick-1"), sick.clone()).await;
    assert_eq!(reported.status, 201, "{}", reported.text);
    assert_eq!(reported.body["kind"], "sickness");
    let requests = reported.body["cover_request_ids"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(requests.len(), 1, "{}", reported.text);
    let request = requests[0].as_str().unwrap().to_owned();
    // The phone's retry is the same answer, not a second absence.
    let again = report(&w, &w.amy_login, Some("sick-1"), sick.clone()).await;
    assert_eq!(again.body["id"], reported.body["id"]);
    // A second report overlapping the first is refused.
    assert_eq!(
        field_of(&report(&w, &w.amy_login, Some("sick-2"), sick).await),
        "starts_on"
    );

    let cover = w
        .app
        .get(
            &format!("/api/v1/cover-requests/{request}"),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(cover.status, 200, "{}", cover.text);
    assert_eq!(cover.body["status"], "searching");
    assert_eq!(cover.body["roster_shift_id"], w.monday.as_str());
    assert!(cover.body["first_offers_at"].is_string(), "{}", cover.text);
    // Ann has no team yet, so the first round reached PAs nearby: Cara, qualified and free.
    let offered: Vec<&str> = cover.body["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["pa_id"].as_str().unwrap())
        .collect();
    assert_eq!(offered, [cara.as_str()], "{}", cover.text);
    let candidates = cover.body["candidates"].as_array().unwrap();
    assert!(
        candidates.iter().all(|c| c["pa_id"] != w.amy.as_str()),
        "{}",
        cover.text
    );
    assert!(
        candidates.iter().any(|c| c["pa_id"] == cara.as_str()),
        "{}",
        cover.text
    );
    assert_eq!(
        outbox_subjects_to(&w, "cara@pa.example.test"),
        ["Can you cover a shift?"]
    );
    let listed = w
        .app
        .get("/api/v1/cover-requests", Some(&w.manager.token))
        .await;
    assert_eq!(listed.body[0]["id"], request.as_str(), "{}", listed.text);
    w.app
        .get("/api/v1/cover-requests", Some(&w.amy_login.token))
        .await
        .assert_problem(403, "forbidden");

    // Amy is away that day: the gate refuses her the shift she gave up; Cara takes it.
    let acceptance = format!("/api/v1/roster-shifts/{}/acceptance", w.monday);
    w.post(&w.amy_login, &acceptance, json!({}))
        .await
        .assert_problem(409, "not_eligible");
    let taken = w.post(&cara_login, &acceptance, json!({})).await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    let covered = w
        .app
        .get(
            &format!("/api/v1/cover-requests/{request}"),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(covered.body["status"], "covered", "{}", covered.text);
    assert_eq!(covered.body["covered_by"], cara.as_str());

    // A manager records Amy's leave on the Saturday night's day, then corrects it at its version.
    let recorded = w
        .post(
            &w.manager,
            "/api/v1/absences",
            json!({"pa_id": w.amy, "kind": "annual_leave", "starts_on": saturday, "ends_on": saturday}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    assert_eq!(
        recorded.body["cover_request_ids"].as_array().unwrap().len(),
        1
    );
    let absence = recorded.body["id"].as_str().unwrap().to_owned();
    // Nobody the gate allows is free that night: the search has offered nobody, its next round
    // is a job, and four hours before the shift the person hears it is not yet covered; once the
    // shift starts it is marked uncovered.
    let night_request = recorded.body["cover_request_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    {
        use parota::db::schema::{jobs, roster_shifts};
        let mut conn = w.app.conn();
        let starts_at: chrono::NaiveDateTime = roster_shifts::table
            .find(&w.night)
            .select(roster_shifts::starts_at)
            .first(&mut conn)
            .unwrap();
        let starts_at = starts_at.and_utc();
        let queued: i64 = jobs::table
            .filter(jobs::kind.eq(parota::rostering::cover::COVER_ROUND))
            .filter(jobs::payload.like(format!("%{night_request}%")))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(queued, 1);
        parota::db::write_transaction(&mut conn, |conn| {
            parota::rostering::cover::run_round(
                conn,
                &night_request,
                starts_at - Duration::hours(3),
            )
        })
        .unwrap();
        parota::db::write_transaction(&mut conn, |conn| {
            parota::rostering::cover::run_round(
                conn,
                &night_request,
                starts_at + Duration::minutes(1),
            )
        })
        .unwrap();
    }
    let person_email = w.app.get("/api/v1/me", Some(&w.person.token)).await.body["email"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        outbox_subjects_to(&w, &person_email)
            .iter()
            .any(|s| s == "Cover not yet found for your shift"),
        "{:?}",
        outbox_subjects_to(&w, &person_email)
    );
    assert!(outbox_subjects_to(&w, &person_email)
        .iter()
        .any(|s| s == "Cover found for your shift"));
    let night_cover = w
        .app
        .get(
            &format!("/api/v1/cover-requests/{night_request}"),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(
        night_cover.body["status"], "uncovered",
        "{}",
        night_cover.text
    );
    assert_eq!(night_cover.body["offers"], json!([]));
    let correction = json!({"kind": "annual_leave", "starts_on": saturday, "ends_on": saturday + Duration::days(1)});
    let put = |version: Option<&'static str>| {
        let mut request = TestRequest::put()
            .uri(&format!("/api/v1/absences/{absence}"))
            .insert_header(("authorization", format!("Bearer {}", w.manager.token)))
            .set_json(correction.clone());
        if let Some(v) = version {
            request = request.insert_header(("If-Match", v));
        }
        w.app.send(request)
    };
    assert_eq!(put(None).await.status, 428);
    assert_eq!(put(Some("\"7\"")).await.status, 412);
    let corrected = put(Some("\"1\"")).await;
    assert_eq!(corrected.status, 200, "{}", corrected.text);
    assert_eq!(corrected.body["version"], 2);

    // The days away: Monday's sickness and the weekend's leave, two spells.
    let totals = w
        .app
        .get(
            &format!(
                "/api/v1/absence-totals?from={monday}&to={}",
                monday + Duration::days(6)
            ),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(totals.status, 200, "{}", totals.text);
    assert_eq!(
        totals.body,
        json!([{"pa_id": w.amy, "days": 3, "spells": 2, "sickness_days": 1, "other_days": 2}])
    );
    let mine = w
        .app
        .get("/api/v1/pas/me/absences", Some(&w.amy_login.token))
        .await;
    assert_eq!(mine.body.as_array().unwrap().len(), 2, "{}", mine.text);
}

#[actix_web::test]
async fn a_shift_not_worked_because_the_pa_was_off_sick_is_absent_not_missed() {
    let w = crate::timesheets::week().await;
    // Recorded afterwards by the manager: the Monday had passed, so nothing opens.
    let recorded = w
        .post(
            &w.manager,
            "/api/v1/absences",
            json!({"pa_id": w.amy, "kind": "sickness", "starts_on": "2026-10-19", "ends_on": "2026-10-19"}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    assert_eq!(recorded.body["cover_request_ids"], json!([]));
    assert_eq!(recorded.body["fit_note_needed"], false);
    let found = w
        .app
        .get(
            "/api/v1/timesheet-exceptions?from=2026-10-19&to=2026-10-25",
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    let kind_on = |shift: &str| {
        found
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["shift_id"] == shift)
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(kind_on(&w.monday), ["absent"], "{}", found.text);
    assert_eq!(kind_on(&w.night), ["missed"], "{}", found.text);
    // Sickness of more than seven days asks for a fit note until one is given.
    let long = w
        .post(
            &w.manager,
            "/api/v1/absences",
            json!({"pa_id": w.amy, "kind": "sickness", "starts_on": "2026-11-02", "ends_on": "2026-11-13"}),
        )
        .await;
    assert_eq!(long.body["fit_note_needed"], true, "{}", long.text);
    let half_note = w
        .post(
            &w.manager,
            "/api/v1/absences",
            json!({"pa_id": w.amy, "kind": "sickness", "starts_on": "2026-11-16", "fit_note_from": "2026-11-16"}),
        )
        .await;
    assert_eq!(field_of(&half_note), "fit_note_to");
    // Days she worked cannot be days off sick (the first day may be the one she went home).
    let night = w
        .clock(
            &w.amy_login,
            &w.night,
            "clock-in",
            Some("night-in"),
            json!({"device_time": "2026-10-24T21:00:00Z", "location": crate::timesheets::at_home()}),
        )
        .await;
    assert_eq!(night.status, 201, "{}", night.text);
    let worked = w
        .post(
            &w.manager,
            "/api/v1/absences",
            json!({"pa_id": w.amy, "kind": "sickness", "starts_on": "2026-10-23", "ends_on": "2026-10-25"}),
        )
        .await;
    assert_eq!(field_of(&worked), "ends_on", "{}", worked.text);
}

#[actix_web::test]
async fn a_pa_back_sooner_is_offered_back_the_shifts_their_absence_no_longer_covers() {
    let monday = coming_monday();
    let w = week_from(monday).await;
    // Open-ended sickness from Monday takes Amy off the week's shifts: Monday's and Saturday
    // night's.
    let reported = report(
        &w,
        &w.amy_login,
        Some("sick-open"),
        json!({"kind": "sickness", "starts_on": monday}),
    )
    .await;
    assert_eq!(reported.status, 201, "{}", reported.text);
    let requests: Vec<String> = reported.body["cover_request_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(requests.len(), 2, "{}", reported.text);
    let absence = reported.body["id"].as_str().unwrap().to_owned();
    let request_on = |shift: &str| {
        let shift = shift.to_owned();
        let requests = requests.clone();
        let app = &w.app;
        let token = w.manager.token.clone();
        async move {
            for r in requests {
                let got = app
                    .get(&format!("/api/v1/cover-requests/{r}"), Some(&token))
                    .await;
                if got.body["roster_shift_id"] == shift.as_str() {
                    return got.body;
                }
            }
            panic!("no cover request for {shift}");
        }
    };
    let night = request_on(&w.night).await;
    assert!(!offered_to(&night, &w.amy));

    // She is back on Tuesday: the manager corrects the absence to Monday only.
    let corrected = w
        .app
        .send(
            TestRequest::put()
                .uri(&format!("/api/v1/absences/{absence}"))
                .insert_header(("authorization", format!("Bearer {}", w.manager.token)))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"kind": "sickness", "starts_on": monday, "ends_on": monday})),
        )
        .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text);

    // Saturday night's shift, still open, is offered back to her; Monday's is not.
    let night = request_on(&w.night).await;
    assert_eq!(night["status"], "searching");
    assert!(offered_to(&night, &w.amy), "{night}");
    let monday_request = request_on(&w.monday).await;
    assert!(!offered_to(&monday_request, &w.amy));
    // She takes it back through acceptance (the gate, the budget commitment), which covers it.
    let taken = w
        .post(
            &w.amy_login,
            &format!("/api/v1/roster-shifts/{}/acceptance", w.night),
            json!({}),
        )
        .await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    let night = request_on(&w.night).await;
    assert_eq!(night["status"], "covered", "{night}");
    assert_eq!(night["covered_by"], w.amy.as_str());
    // Monday, still inside the absence, stays refused to her.
    w.post(
        &w.amy_login,
        &format!("/api/v1/roster-shifts/{}/acceptance", w.monday),
        json!({}),
    )
    .await
    .assert_problem(409, "not_eligible");
}

//! The safety gate at every door: eligibility on each shift's own dates, 2:1 places held until
//! whole, publication re-checked, the weekly cap at acceptance, refusals naming the rule, and
//! the daily look ahead. Each numbered case of the gate's issue has a test here.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestOrganisation, TestResponse, TestUser};

/// A manager, one person with the given needs and required competency, and PAs made through
/// the API.
struct Setup {
    app: TestApp,
    organisation: TestOrganisation,
    manager: TestUser,
    holder: String,
    competency: String,
}

impl Setup {
    async fn new(competency_code: &str, minimum_level: i32, needs: Value) -> Self {
        let app = TestApp::spawn().await;
        let organisation = app.provider();
        let manager = app.user(&organisation, Role::TeamManager);
        let competency = crate::helpers::competency_id(&app, &manager.token, competency_code).await;
        let created = app
            .post_json(
                "/api/v1/budget-holders",
                Some(&manager.token),
                &json!({
                    "display_name": "Ann Riley",
                    "postcode": "BB11 2AB",
                    "funding": "chc",
                    "minimum_level": minimum_level,
                    "required_competencies": [competency],
                    "support_needs": needs
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let holder = created.body["id"].as_str().unwrap().to_owned();
        Self {
            app,
            organisation,
            manager,
            holder,
            competency,
        }
    }

    /// A PA available every day 07:00–21:00 with the competency (expiring when given), a
    /// clinician's sign-off for this person when `signed_off`, and the given DBS.
    async fn pa(&self, name: &str, expires: Option<&str>, signed_off: bool, dbs: Value) -> String {
        let days = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let availability: Vec<Value> = days
            .iter()
            .map(|d| json!({"day": d, "start": "07:00", "end": "21:00"}))
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
                    "wanted_hours_per_week": 30,
                    "min_hourly_pay_pence": 1300,
                    "dbs": dbs,
                    "right_to_work": {"checked_on": "2025-06-01"}
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        self.evidence(&id, &self.competency.clone(), expires).await;
        if signed_off {
            let signoff = self
                .app
                .post_json(
                    &format!("/api/v1/pas/{id}/signoffs"),
                    Some(&self.manager.token),
                    &json!({
                        "competency_id": self.competency,
                        "budget_holder_id": self.holder,
                        "clinician_name": "Jo Nurse",
                        "clinician_role": "Community nurse",
                        "signed_off_on": "2025-01-10"
                    }),
                )
                .await;
            assert_eq!(signoff.status, 201, "{}", signoff.text);
        }
        id
    }

    async fn evidence(&self, pa: &str, competency: &str, expires: Option<&str>) {
        let evidence = self
            .app
            .post_json(
                &format!("/api/v1/pas/{pa}/competencies"),
                Some(&self.manager.token),
                &json!({"competency_id": competency, "trained_on": "2025-01-10", "expires_on": expires}),
            )
            .await;
        assert_eq!(evidence.status, 201, "{}", evidence.text);
    }

    async fn budget(&self, from: NaiveDate, to: NaiveDate) {
        crate::helpers::approved_budget(
            &self.app,
            &self.manager.token,
            &self.holder,
            (from, to),
            5_000_000,
        )
        .await;
    }

    async fn committed(&self) -> Value {
        let statement = self
            .app
            .get(
                &format!("/api/v1/budget-holders/{}/budget/statement", self.holder),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(statement.status, 200, "{}", statement.text);
        crate::helpers::total_balance(&statement.body)["committed_pence"].clone()
    }

    async fn roster(&self, from: NaiveDate, to: NaiveDate) -> Value {
        let made = self
            .app
            .post_json(
                "/api/v1/rosters",
                Some(&self.manager.token),
                &json!({"budget_holder_ids": [self.holder], "from": from, "to": to, "seed": 3, "time_limit_ms": 300}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text);
        made.body
    }

    async fn read(&self, roster: &str) -> Value {
        let read = self
            .app
            .get(
                &format!("/api/v1/rosters/{roster}"),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(read.status, 200, "{}", read.text);
        read.body
    }

    async fn publish(&self, roster: &str, version: i64) -> TestResponse {
        self.app
            .send(
                actix_web::test::TestRequest::post()
                    .uri(&format!("/api/v1/rosters/{roster}/publication"))
                    .insert_header(("authorization", format!("Bearer {}", self.manager.token)))
                    .insert_header(("If-Match", format!("\"{version}\""))),
            )
            .await
    }

    async fn edit(&self, roster: &str, version: i64, body: Value) -> TestResponse {
        self.app
            .send(
                actix_web::test::TestRequest::post()
                    .uri(&format!("/api/v1/rosters/{roster}/edits"))
                    .insert_header(("authorization", format!("Bearer {}", self.manager.token)))
                    .insert_header(("If-Match", format!("\"{version}\"")))
                    .set_json(body),
            )
            .await
    }

    /// A login for the PA.
    fn login(&self, pa: &str) -> TestUser {
        use diesel::prelude::*;
        use parota::db::schema::pa_profiles;
        let user = self.app.user(&self.organisation, Role::Pa);
        diesel::update(pa_profiles::table.find(pa))
            .set(pa_profiles::user_id.eq(&user.id))
            .execute(&mut self.app.conn())
            .unwrap();
        user
    }

    async fn accept(&self, login: &TestUser, shift: &str) -> TestResponse {
        self.app
            .post_json(
                &format!("/api/v1/roster-shifts/{shift}/acceptance"),
                Some(&login.token),
                &json!({}),
            )
            .await
    }

    async fn offers(&self, login: &TestUser) -> Vec<Value> {
        let offered = self
            .app
            .get("/api/v1/pas/me/open-shifts", Some(&login.token))
            .await;
        assert_eq!(offered.status, 200, "{}", offered.text);
        offered.body.as_array().unwrap().clone()
    }
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn shifts(roster: &Value) -> Vec<Value> {
    roster["shifts"].as_array().unwrap().clone()
}

fn on(shift: &Value) -> Vec<String> {
    shift["pa_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

fn every_day(start: &str, end: &str, headcount: u8) -> Value {
    json!([
        {"day": "monday", "start": start, "end": end, "headcount": headcount},
        {"day": "tuesday", "start": start, "end": end, "headcount": headcount},
        {"day": "wednesday", "start": start, "end": end, "headcount": headcount},
        {"day": "thursday", "start": start, "end": end, "headcount": headcount},
        {"day": "friday", "start": start, "end": end, "headcount": headcount},
        {"day": "saturday", "start": start, "end": end, "headcount": headcount},
        {"day": "sunday", "start": start, "end": end, "headcount": headcount}
    ])
}

/// Case 1: evidence and checks are judged on each shift's own date, by the generator and by
/// edits alike, and a PA whose evidence expires mid-roster still takes the earlier shifts.
#[actix_web::test]
async fn eligibility_is_judged_on_each_shifts_own_date() {
    let s = Setup::new(
        "medication_administration",
        3,
        every_day("09:00", "15:00", 1),
    )
    .await;
    // Amy's medication evidence expires on 8 January; Ben's DBS (off the update service) is
    // three years old on 7 January.
    let amy = s
        .pa(
            "Amy",
            Some("2027-01-08"),
            true,
            json!({"issued_on": "2025-06-01", "update_service": true}),
        )
        .await;
    let ben = s
        .pa("Ben", None, true, json!({"issued_on": "2024-01-07"}))
        .await;
    let roster = s.roster(date("2027-01-04"), date("2027-01-17")).await;
    let mut amy_days = Vec::new();
    for shift in shifts(&roster) {
        let day = date(shift["date"].as_str().unwrap());
        let pas = on(&shift);
        if pas.contains(&amy) {
            assert!(day < date("2027-01-08"), "Amy on {day}: {shift}");
            amy_days.push(day);
        }
        if pas.contains(&ben) {
            assert!(day < date("2027-01-07"), "Ben on {day}: {shift}");
        }
    }
    // Amy takes the days before her evidence lapses; after it nobody qualifies.
    assert!(!amy_days.is_empty(), "{roster}");
    for shift in shifts(&roster) {
        if shift["date"].as_str().unwrap() >= "2027-01-08" {
            assert_eq!(shift["open_reason"], "no_qualified_pa", "{shift}");
        }
    }

    // An edit naming them on a later shift is refused, with the rule and the PA in words.
    let id = roster["id"].as_str().unwrap();
    let on_date = |d: &str| {
        shifts(&roster)
            .into_iter()
            .find(|s| s["date"] == d)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let refused = s
        .edit(
            id,
            1,
            json!({"action": "assign", "shift_id": on_date("2027-01-15"), "pa_ids": [amy]}),
        )
        .await;
    let error = &refused.assert_problem(422, "validation_failed")["errors"][0];
    assert_eq!(error["code"], "not_eligible");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("(rule competency:{})", s.competency))
            && message.starts_with(&format!("Amy ({amy})"))
            && message.contains("expired"),
        "{message}"
    );
    let refused = s
        .edit(
            id,
            1,
            json!({"action": "assign", "shift_id": on_date("2027-01-17"), "pa_ids": [ben]}),
        )
        .await;
    let error = &refused.assert_problem(422, "validation_failed")["errors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("(rule dbs)"),
        "{}",
        refused.text
    );
    // Before his DBS lapses Ben may take a shift.
    let edited = s
        .edit(
            id,
            1,
            json!({"action": "assign", "shift_id": on_date("2027-01-05"), "pa_ids": [ben]}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
}

/// Case 2: a 2:1 place accepted alone is held, not live, until a second PA accepts; then both
/// go live together and only then is pay committed.
#[actix_web::test]
async fn a_two_to_one_place_is_held_until_a_second_pa_accepts() {
    let s = Setup::new(
        "personal_care",
        2,
        json!([{"day": "wednesday", "start": "09:00", "end": "12:00", "headcount": 2}]),
    )
    .await;
    let update = json!({"issued_on": "2025-06-01", "update_service": true});
    let dee = s.pa("Dee", None, false, update.clone()).await;
    s.budget(date("2027-01-01"), date("2027-03-31")).await;
    let roster = s.roster(date("2027-01-04"), date("2027-01-10")).await;
    let pair = shifts(&roster)[0].clone();
    assert!(on(&pair).is_empty(), "{pair}");
    assert_eq!(pair["open_reason"], "not_enough_for_two_to_one");
    let id = roster["id"].as_str().unwrap();
    assert_eq!(s.publish(id, 1).await.status, 200);
    let shift = pair["id"].as_str().unwrap();

    let dee_login = s.login(&dee);
    let offers = s.offers(&dee_login).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (
            offers[0]["places_left"].clone(),
            offers[0]["held_places"].clone()
        ),
        (json!(2), json!(0))
    );
    let held = s.accept(&dee_login, shift).await;
    assert_eq!(held.status, 200, "{}", held.text);
    assert_eq!(held.body["held_by_you"], true);
    assert_eq!(held.body["places_left"], 1);
    assert_eq!(held.body["held_places"], 1);
    // Not live: nobody on it, no pay committed, not among Dee's shifts; the manager sees the hold.
    let read = s.read(id).await;
    let now_pair = shifts(&read)
        .into_iter()
        .find(|x| x["id"] == shift)
        .unwrap();
    assert!(on(&now_pair).is_empty(), "{now_pair}");
    assert_eq!(now_pair["held_by"], json!([dee]));
    assert_eq!(s.committed().await, 0);
    let mine = s
        .app
        .get("/api/v1/pas/me/shifts", Some(&dee_login.token))
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert!(
        mine.body["items"].as_array().unwrap().is_empty(),
        "{}",
        mine.text
    );
    // Holding twice is refused.
    s.accept(&dee_login, shift)
        .await
        .assert_problem(409, "already_yours");

    // A second qualified PA sees one more needed, accepts, and the pair goes live.
    let amy = s.pa("Amy", None, false, update).await;
    let amy_login = s.login(&amy);
    let offers = s.offers(&amy_login).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (
            offers[0]["places_left"].clone(),
            offers[0]["held_places"].clone()
        ),
        (json!(1), json!(1))
    );
    let taken = s.accept(&amy_login, shift).await;
    assert_eq!(taken.status, 200, "{}", taken.text);
    assert_eq!(taken.body["held_by_you"], false);
    assert_eq!(taken.body["places_left"], 0);
    let read = s.read(id).await;
    let now_pair = shifts(&read)
        .into_iter()
        .find(|x| x["id"] == shift)
        .unwrap();
    let mut pas = on(&now_pair);
    pas.sort();
    let mut both = vec![amy.clone(), dee.clone()];
    both.sort();
    assert_eq!(pas, both);
    assert!(now_pair.get("held_by").is_none(), "{now_pair}");
    assert!(now_pair.get("open_reason").is_none(), "{now_pair}");
    // Two places of 3 h at £13.00 with 12.07% holiday pay.
    assert_eq!(s.committed().await, 2 * 4_371);
}

/// Case 3: publication re-checks the whole roster; a do-not-match entry added after the draft
/// is refused with every shift it touches, and publishing succeeds once those are opened.
#[actix_web::test]
async fn publication_refuses_what_broke_since_the_draft_with_every_breach() {
    let s = Setup::new(
        "personal_care",
        2,
        json!([{"day": "monday", "start": "09:00", "end": "12:00"}]),
    )
    .await;
    let amy = s
        .pa(
            "Amy",
            None,
            false,
            json!({"issued_on": "2025-06-01", "update_service": true}),
        )
        .await;
    s.budget(date("2027-01-01"), date("2027-03-31")).await;
    let roster = s.roster(date("2027-01-04"), date("2027-01-17")).await;
    let id = roster["id"].as_str().unwrap();
    assert!(
        shifts(&roster).iter().all(|x| on(x) == [amy.clone()]),
        "{roster}"
    );
    let barred = s
        .app
        .post_json(
            &format!("/api/v1/budget-holders/{}/do-not-match", s.holder),
            Some(&s.manager.token),
            &json!({"pa_id": amy, "reason": "Asked not to work with her again"}),
        )
        .await;
    assert_eq!(barred.status, 200, "{}", barred.text);

    let refused = s.publish(id, 1).await;
    let problem = refused.assert_problem(409, "unsafe_roster");
    let breaches = problem["breaches"].as_array().unwrap();
    assert_eq!(breaches.len(), 2, "{}", refused.text);
    for b in breaches {
        assert_eq!(b["rule"], "do_not_match");
        assert_eq!(b["pa_id"], amy.as_str());
        assert!(b["explanation"].as_str().unwrap().contains("do-not-match"));
    }
    // Nothing went live and nothing was committed.
    assert_eq!(s.read(id).await["status"], "draft");
    assert_eq!(s.committed().await, 0);
    // An edit adding her is refused the same way: the doors agree.
    let first = shifts(&roster)[0]["id"].as_str().unwrap().to_owned();
    let second = shifts(&roster)[1]["id"].as_str().unwrap().to_owned();
    // The manager opens the shifts named, then publishes.
    let mut version = 1;
    for shift in [&first, &second] {
        let opened = s
            .edit(
                id,
                version,
                json!({"action": "unassign", "shift_id": shift}),
            )
            .await;
        assert_eq!(opened.status, 200, "{}", opened.text);
        version += 1;
    }
    let refused = s
        .edit(
            id,
            version,
            json!({"action": "assign", "shift_id": first, "pa_ids": [amy]}),
        )
        .await;
    assert!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(rule do_not_match)"),
        "{}",
        refused.text
    );
    let published = s.publish(id, version).await;
    assert_eq!(published.status, 200, "{}", published.text);
}

/// Cases 4 and 5: the weekly cap holds at acceptance as in the generator, and the open-shift
/// list offers only shifts the PA may take.
#[actix_web::test]
async fn acceptance_keeps_the_weekly_cap_and_the_list_offers_only_what_may_be_taken() {
    let s = Setup::new(
        "personal_care",
        2,
        json!([
            {"day": "monday", "start": "08:00", "end": "20:00"},
            {"day": "wednesday", "start": "08:00", "end": "20:00"},
            {"day": "friday", "start": "08:00", "end": "20:00"}
        ]),
    )
    .await;
    let amy = s
        .pa(
            "Amy",
            None,
            false,
            json!({"issued_on": "2025-06-01", "update_service": true}),
        )
        .await;
    let capped = s
        .app
        .send(
            actix_web::test::TestRequest::put()
                .uri(&format!("/api/v1/pas/{amy}/working-time"))
                .insert_header(("authorization", format!("Bearer {}", s.manager.token)))
                .set_json(json!({"max_hours_per_week": 24})),
        )
        .await;
    assert_eq!(capped.status, 200, "{}", capped.text);
    s.budget(date("2027-01-01"), date("2027-03-31")).await;
    // Six 12-hour shifts in two weeks against 24 hours a week: four are hers, two held back.
    let roster = s.roster(date("2027-01-04"), date("2027-01-17")).await;
    let open: Vec<Value> = shifts(&roster)
        .into_iter()
        .filter(|x| on(x).is_empty())
        .collect();
    assert_eq!(open.len(), 2, "{roster}");
    for shift in &open {
        assert_eq!(shift["open_reason"], "weekly_hours", "{shift}");
    }
    let id = roster["id"].as_str().unwrap();
    assert_eq!(s.publish(id, 1).await.status, 200);

    let login = s.login(&amy);
    assert!(s.offers(&login).await.is_empty());
    let refused = s.accept(&login, open[0]["id"].as_str().unwrap()).await;
    let problem = refused.assert_problem(409, "not_eligible");
    assert_eq!(
        problem["breaches"][0]["rule"], "weekly_hours",
        "{}",
        refused.text
    );
    assert_eq!(problem["breaches"][0]["pa_id"], amy.as_str());
    // Still four shifts of hers, 48 hours in the fortnight.
    let read = s.read(id).await;
    let hers = shifts(&read)
        .iter()
        .filter(|x| on(x) == [amy.clone()])
        .count();
    assert_eq!(hers, 4);
}

/// The daily look ahead: a published shift whose PA will not be safe by then is marked on the
/// roster and mailed to the manager once; PAs are reminded of their own expiries once per
/// reminder; managers list what expires.
#[actix_web::test]
async fn the_look_ahead_marks_unsafe_shifts_and_expiries_are_reminded_once() {
    let s = Setup::new(
        "personal_care",
        2,
        json!([{"day": "monday", "start": "09:00", "end": "12:00"}]),
    )
    .await;
    let today = Utc::now().date_naive();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let amy = s
        .pa(
            "Amy",
            None,
            false,
            json!({"issued_on": "2025-06-01", "update_service": true}),
        )
        .await;
    s.budget(today, today + Duration::days(120)).await;
    let roster = s.roster(monday, monday + Duration::days(13)).await;
    let id = roster["id"].as_str().unwrap();
    assert_eq!(s.publish(id, 1).await.status, 200);
    // Leave is recorded on the second Monday after publication.
    let second = monday + Duration::days(7);
    let leave = s
        .app
        .patch_json(
            &format!("/api/v1/pas/{amy}"),
            Some(&s.manager.token),
            &json!({"unavailability": [{"starts_on": second, "ends_on": second}]}),
        )
        .await;
    assert_eq!(leave.status, 200, "{}", leave.text);
    // And evidence of another competency expiring in 20 days.
    let moving =
        crate::helpers::competency_id(&s.app, &s.manager.token, "moving_and_handling").await;
    let expiry = (today + Duration::days(20)).to_string();
    s.evidence(&amy, &moving, Some(&expiry)).await;

    let mut conn = s.app.conn();
    let standing = parota::rostering::watch::look_ahead(&mut conn, Utc::now()).unwrap();
    assert_eq!(standing, 1);
    let read = s.read(id).await;
    for shift in shifts(&read) {
        let warned = shift.get("warnings").is_some();
        assert_eq!(warned, shift["date"] == second.to_string(), "{shift}");
        if warned {
            assert_eq!(shift["warnings"][0]["rule"], "leave");
            assert_eq!(shift["warnings"][0]["pa_id"], amy.as_str());
        }
    }
    let sent = parota::rostering::watch::remind_expiring(&mut conn, Utc::now()).unwrap();
    assert_eq!(sent, 1);
    // Again the next day: nothing new is mailed.
    parota::rostering::watch::look_ahead(&mut conn, Utc::now()).unwrap();
    assert_eq!(
        parota::rostering::watch::remind_expiring(&mut conn, Utc::now()).unwrap(),
        0
    );
    let mails = parota::mail::list(&mut conn, &s.organisation.id).unwrap();
    let at_risk: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.starts_with("A PA will not be safe"))
        .collect();
    assert_eq!(at_risk.len(), 1);
    assert_eq!(at_risk[0].recipient, s.manager.login);
    assert!(
        at_risk[0].body.contains("(rule leave)"),
        "{}",
        at_risk[0].body
    );
    let reminders: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains(&format!("expires on {expiry}")))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].recipient, "amy@pa.example.test");
    drop(conn);

    // The manager's list; a PA and another organisation's manager cannot read it.
    let path = format!(
        "/api/v1/organisations/{}/expiring-items?within_days=30",
        s.organisation.id
    );
    let listed = s.app.get(&path, Some(&s.manager.token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.body.as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert_eq!(items[0]["item"], "competency");
    assert_eq!(items[0]["competency_id"], moving.as_str());
    assert_eq!(items[0]["days_left"], 20);
    let pa = s.login(&amy);
    s.app
        .get(&path, Some(&pa.token))
        .await
        .assert_problem(403, "forbidden");
    let elsewhere = s.app.provider();
    let stranger = s.app.user(&elsewhere, Role::TeamManager);
    s.app
        .get(&path, Some(&stranger.token))
        .await
        .assert_problem(404, "not_found");
    s.app
        .get(
            &format!(
                "/api/v1/organisations/{}/expiring-items?within_days=400",
                s.organisation.id
            ),
            Some(&s.manager.token),
        )
        .await
        .assert_problem(422, "validation_failed");
}

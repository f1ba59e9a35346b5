//! Payroll end to end: a closed period's exports, pulled by the payroll client that runs the
//! employer in each format (pinned by reference files), byte-identical on every read; minimum
//! wage failures blocking an export until reviewed; amendments after close paid in the next
//! period; and no other payroll client ever seeing an export.

use actix_web::test::TestRequest;
use diesel::prelude::*;
use parota::auth::Role;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{TestResponse, TestUser};
use crate::timesheets::{at_home, week, Week};

/// Level 2 pays £13.00 an hour, premiums as in the hand-worked unit tests.
fn card_terms() -> Value {
    json!({
        "levels": [{"level": 1, "pay_pence": 1280, "charge_pence": 2000}, {"level": 2, "pay_pence": 1300, "charge_pence": 2100}],
        "night_start": "22:00",
        "night_end": "07:00",
        "uplifts": {"night_bp": 1000, "saturday_bp": 1000, "sunday_bp": 2000, "bank_holiday_bp": 5000,
                    "waking_night_bp": 1500, "two_to_one_bp": 500},
        "sleep_in": {"pay_pence": 9500, "charge_pence": 12000}
    })
}

struct Payroll {
    w: Week,
    client: TestUser,
    other_client: TestUser,
    employer: String,
}

/// The week, paid monthly, with Ann as Amy's employer (PAYE 123/AB45678) run by one payroll
/// client; another client of the same organisation runs no employer here.
async fn payroll(kind: &str, date_of_birth: &str, pays_travel_time: bool) -> Payroll {
    let w = week().await;
    let policy = w.set_policy(&w.admin, "team_manager", 1000).await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    let card = w
        .post(
            &w.admin,
            "/api/v1/rate-cards",
            json!({"name": "PHB 2026", "kind": "personalised", "effective_from": "2026-10-01", "terms": card_terms()}),
        )
        .await;
    assert_eq!(card.status, 201, "{}", card.text);
    let client = w.app.user(&w.organisation, Role::PayrollProvider);
    let other_client = w.app.user(&w.organisation, Role::PayrollProvider);
    let mut body = json!({
        "kind": kind, "name": "Ann Riley", "paye_reference": "123/ab45678",
        "payroll_client_id": client.id, "rate_card_id": card.body["id"],
        "pays_travel_time": pays_travel_time
    });
    if kind == "budget_holder" {
        body["budget_holder_id"] = json!(w.holder);
    }
    // Only admins register employers, and the client must be a payroll client.
    w.post(&w.manager, "/api/v1/employers", body.clone())
        .await
        .assert_problem(403, "forbidden");
    let mut wrong = body.clone();
    wrong["payroll_client_id"] = json!(w.manager.id);
    let problem = w
        .post(&w.admin, "/api/v1/employers", wrong)
        .await
        .assert_problem(422, "validation_failed")
        .clone();
    assert_eq!(problem["errors"][0]["field"], "payroll_client_id");
    let employer = w.post(&w.admin, "/api/v1/employers", body).await;
    assert_eq!(employer.status, 201, "{}", employer.text);
    assert_eq!(employer.body["paye_reference"], "123/AB45678");
    let employer = employer.body["id"].as_str().unwrap().to_owned();
    let engaged = w
        .post(
            &w.manager,
            &format!("/api/v1/employers/{employer}/engagements"),
            json!({"pa_id": w.amy, "works_number": "AMY01", "date_of_birth": date_of_birth,
                   "holiday_basis": "rolled_up", "starts_on": "2026-10-01"}),
        )
        .await;
    assert_eq!(engaged.status, 201, "{}", engaged.text);
    assert!(
        engaged.body.get("date_of_birth").is_none(),
        "the date of birth is kept, not shown"
    );
    Payroll {
        w,
        client,
        other_client,
        employer,
    }
}

impl Payroll {
    /// Amy works Monday 09:02–12:00 and the Saturday waking night across the clock change;
    /// both approved. Returns the timesheet.
    async fn work_the_week(&self) -> String {
        let w = &self.w;
        let timesheet = w.work_monday().await;
        for (kind, key, at) in [
            ("clock-in", "night-in", "2026-10-24T21:00:00Z"),
            ("clock-out", "night-out", "2026-10-25T08:00:00Z"),
        ] {
            let done = w
                .clock(
                    &w.amy_login,
                    &w.night,
                    kind,
                    Some(key),
                    json!({"device_time": at, "location": at_home()}),
                )
                .await;
            assert!(done.status.is_success(), "{}", done.text);
        }
        let submitted = w.submit(&timesheet).await;
        assert_eq!(submitted.status, 200, "{}", submitted.text);
        self.approve(&timesheet).await;
        timesheet
    }

    async fn approve(&self, timesheet: &str) {
        let approved = self
            .w
            .post(
                &self.w.manager,
                &format!("/api/v1/timesheets/{timesheet}/approval"),
                json!({}),
            )
            .await;
        assert_eq!(approved.status, 200, "{}", approved.text);
    }

    async fn period_starting(&self, date: &str) -> String {
        let periods = self
            .w
            .app
            .get(
                &format!("/api/v1/pay-periods?from={date}&to={date}"),
                Some(&self.w.manager.token),
            )
            .await;
        assert_eq!(periods.status, 200, "{}", periods.text);
        periods.body[0]["id"].as_str().unwrap().to_owned()
    }

    async fn close(&self, period: &str) -> TestResponse {
        self.w
            .post(
                &self.w.admin,
                &format!("/api/v1/pay-periods/{period}/closure"),
                json!({}),
            )
            .await
    }

    /// Runs the due jobs (the ledgers' reconciliation among them).
    fn run_jobs(&self) {
        let app = &self.w.app;
        parota::worker::run_due_jobs(
            &mut app.conn(),
            "test-worker",
            &parota::worker::JobContext {
                settings: &app.state.settings,
                match_index: &app.services.match_index,
            },
        )
        .unwrap();
    }

    /// A person's ledger entries for pay (actuals and adjustments from timesheets and payroll),
    /// and what the period's exports pay them.
    async fn ledger_against_payroll(&self, holder: &str, period: &str) -> (Vec<Value>, i64) {
        let w = &self.w;
        let summary = w
            .app
            .get(
                &format!("/api/v1/budget-holders/{holder}/pay-periods/{period}/summary"),
                Some(&w.manager.token),
            )
            .await;
        let entries = w
            .app
            .get(
                &format!(
                    "/api/v1/budgets/{}/entries?limit=200",
                    summary.body["budget_id"].as_str().unwrap()
                ),
                Some(&w.manager.token),
            )
            .await;
        let pay: Vec<Value> = entries.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "actual" || e["kind"] == "adjustment")
            .filter(|e| e["source_type"] == "timesheet" || e["source_type"] == "pay_period")
            .cloned()
            .collect();
        (pay, summary.body["pay_total_pence"].as_i64().unwrap())
    }

    async fn pull(&self, who: &TestUser, export: &str, query: &str) -> TestResponse {
        self.w
            .app
            .get(
                &format!("/api/v1/payroll/exports/{export}{query}"),
                Some(&who.token),
            )
            .await
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The export with its random ids and instant named, so a reference file can pin the rest.
fn named(text: &str, names: &[(&str, &str)], ready_at: &str) -> String {
    let mut text = text.replace(ready_at, "READY_AT");
    for (id, name) in names {
        text = text.replace(id, name);
    }
    text
}

/// Compares with `tests/fixtures/payroll/<name>`; `UPDATE_FIXTURES=1` rewrites it instead.
fn assert_matches_reference(name: &str, actual: &str) {
    let path = format!(
        "{}/tests/fixtures/payroll/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var("UPDATE_FIXTURES").is_ok() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(actual, expected, "{name} differs from its reference file");
}

#[actix_web::test]
async fn a_closed_period_exports_exact_pay_that_only_the_employers_payroll_client_pulls() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let timesheet = p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let exports = closed.body["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 1, "{}", closed.text);
    let export = exports[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(exports[0]["status"], "ready");
    assert_eq!(exports[0]["number"], 1);
    // Monday 2 h 58 min and the 11-hour waking night: 13.97 h × £13.00 = £181.61; Saturday
    // 2 h × £1.30 = £2.60; Sunday 9 h × £2.60 = £23.40; waking night 11 h × £1.95 = £21.45;
    // holiday 12.07% of £229.06 = £27.65 (27.6475). Gross £256.71.
    assert_eq!(exports[0]["gross_pence"], 25_671, "{}", closed.text);

    // The client lists it, reads it in every format, and gets the same bytes every time.
    let listed = w
        .app
        .get(
            "/api/v1/payroll/exports?status=ready",
            Some(&p.client.token),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["id"], export.as_str());
    let ready_at = listed.body["items"][0]["ready_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let names = [
        (export.as_str(), "EXPORT"),
        (w.amy.as_str(), "AMY"),
        (w.holder.as_str(), "ANN"),
        (timesheet.as_str(), "TIMESHEET"),
        (p.employer.as_str(), "EMPLOYER"),
    ];
    for (format, file, media) in [
        ("csv", "export.csv", "text/csv"),
        ("json", "export.json", "application/json"),
        ("brightpay", "brightpay.csv", "text/csv"),
        ("sage50", "sage50.csv", "text/csv"),
        ("iris", "iris.csv", "text/csv"),
    ] {
        let first = p
            .pull(&p.client, &export, &format!("?format={format}"))
            .await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert!(first.content_type().starts_with(media), "{format}");
        let checksum = first.header("X-Checksum-SHA256").unwrap().to_owned();
        assert_eq!(sha256_hex(&first.text), checksum, "{format}");
        assert_eq!(
            listed.body["items"][0]["checksums"][format],
            checksum.as_str()
        );
        let again = p
            .pull(&p.client, &export, &format!("?format={format}"))
            .await;
        assert_eq!(again.text, first.text, "{format} regenerates byte for byte");
        assert_matches_reference(file, &named(&first.text, &names, &ready_at));
    }
    // Content negotiation picks CSV; JSON by default; an unknown format names the field.
    let by_accept = w
        .app
        .send(
            TestRequest::get()
                .uri(&format!("/api/v1/payroll/exports/{export}"))
                .insert_header(("authorization", format!("Bearer {}", p.client.token)))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    assert!(
        by_accept.text.starts_with("export_number,"),
        "{}",
        by_accept.text
    );
    let json = p.pull(&p.client, &export, "").await;
    assert_eq!(json.body["export"]["paye_reference"], "123/AB45678");
    assert_eq!(json.body["lines"].as_array().unwrap().len(), 5);
    let problem = p
        .pull(&p.client, &export, "?format=xlsx")
        .await
        .assert_problem(422, "validation_failed")
        .clone();
    assert_eq!(problem["errors"][0]["field"], "format");

    // Another payroll client, of this or any organisation, never learns the export exists;
    // a PA may not read it.
    p.pull(&p.other_client, &export, "?format=csv")
        .await
        .assert_problem(404, "not_found");
    let elsewhere = w.app.provider();
    let stranger = w.app.user(&elsewhere, Role::PayrollProvider);
    p.pull(&stranger, &export, "")
        .await
        .assert_problem(404, "not_found");
    let nothing = w
        .app
        .get("/api/v1/payroll/exports", Some(&p.other_client.token))
        .await;
    assert_eq!(nothing.body["items"], json!([]));
    p.pull(&w.amy_login, &export, "")
        .await
        .assert_problem(403, "forbidden");
    let acknowledge = format!("/api/v1/payroll/exports/{export}/acknowledge");
    w.post(&p.other_client, &acknowledge, json!({}))
        .await
        .assert_problem(404, "not_found");
    w.post(&w.admin, &acknowledge, json!({}))
        .await
        .assert_problem(403, "forbidden");

    // Acknowledged once; saying so again changes nothing.
    let acknowledged = w.post(&p.client, &acknowledge, json!({})).await;
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.text);
    assert_eq!(acknowledged.body["status"], "acknowledged");
    let again = w.post(&p.client, &acknowledge, json!({})).await;
    assert_eq!(again.body, acknowledged.body);
    let ready = w
        .app
        .get(
            "/api/v1/payroll/exports?status=ready",
            Some(&p.client.token),
        )
        .await;
    assert_eq!(ready.body["items"], json!([]));

    // The budget statement's view: pay by element and on-costs, Ann and her team manager only.
    let summary_path = format!(
        "/api/v1/budget-holders/{}/pay-periods/{october}/summary",
        w.holder
    );
    let summary = w.app.get(&summary_path, Some(&w.person.token)).await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(summary.body["pay_total_pence"], 25_671);
    assert_eq!(
        summary.body["pay"][0],
        json!({"element": "basic", "amount_pence": 18_161})
    );
    // Below the employer NI threshold (£5,000 a year, £424.65 for 31 days): none due.
    assert_eq!(summary.body["on_costs"][0]["amount_pence"], 0);
    assert!(summary.body["budget_remaining_pence"].as_i64().unwrap() < 500_000);
    // The ledger had the estimate posted at approval (Amy's own £13.00 an hour with holiday:
    // £43.23 + £160.26); the reconciliation job brings it to what payroll pays: £256.71, £53.22
    // more. Run again, it posts nothing more.
    p.run_jobs();
    p.run_jobs();
    let (pay, exported) = p.ledger_against_payroll(&w.holder, &october).await;
    let reconciled: Vec<&Value> = pay
        .iter()
        .filter(|e| e["source_type"] == "pay_period")
        .collect();
    assert_eq!(reconciled.len(), 1, "{pay:?}");
    assert_eq!(reconciled[0]["amount_pence"], 5_322);
    assert_eq!(reconciled[0]["entry_date"], "2026-10-31");
    let spent: i64 = pay
        .iter()
        .map(|e| e["amount_pence"].as_i64().unwrap())
        .sum();
    assert_eq!(spent, exported);
    w.app
        .get(&summary_path, Some(&w.amy_login.token))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn an_amendment_after_close_is_paid_in_the_next_period_and_the_export_never_changes() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let timesheet = p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    let export = closed.body["exports"][0]["id"].as_str().unwrap().to_owned();
    let before = p.pull(&p.client, &export, "?format=csv").await;

    // Amy stayed an hour longer on Monday than she clocked: amended after the close.
    let sheet = w
        .app
        .get(
            &format!("/api/v1/timesheets/{timesheet}"),
            Some(&w.manager.token),
        )
        .await;
    let monday = sheet.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["date"] == "2026-10-19")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let amended = w
        .post(
            &w.manager,
            &format!("/api/v1/shift-records/{monday}/amendments"),
            json!({"reason": "Stayed until 13:00, confirmed by Ann", "clock_out_at": "2026-10-19T12:00:00Z"}),
        )
        .await;
    assert_eq!(amended.status, 201, "{}", amended.text);
    let after = p.pull(&p.client, &export, "?format=csv").await;
    assert_eq!(after.text, before.text, "a delivered export never changes");

    let november = p.period_starting("2026-11-01").await;
    assert_eq!(amended.body["pay_period_id"], november.as_str());

    // A week's holiday taken, added by hand; the retry with the same key adds nothing.
    let engagements = w
        .app
        .get(
            &format!("/api/v1/employers/{}/engagements", p.employer),
            Some(&w.manager.token),
        )
        .await;
    let holiday = json!({"engagement_id": engagements.body[0]["id"], "budget_holder_id": w.holder,
                         "kind": "holiday_taken", "amount_pence": 5_000, "reason": "Holiday 2–6 November"});
    let add = |key: &'static str| {
        let request = TestRequest::post()
            .uri("/api/v1/payroll/adjustments")
            .insert_header(("authorization", format!("Bearer {}", w.manager.token)))
            .insert_header(("Idempotency-Key", key))
            .set_json(holiday.clone());
        w.app.send(request)
    };
    let added = add("holiday-1").await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.body["pay_period_id"], november.as_str());
    let retried = add("holiday-1").await;
    assert_eq!(retried.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(retried.body["id"], added.body["id"]);

    let closed = p.close(&november).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let next = &closed.body["exports"][0];
    assert_eq!(next["number"], 2, "{}", closed.text);
    // Alone, the Monday was 2.97 h (£38.61 + £4.66 holiday); amended, 3.97 h (£51.61 +
    // £6.23): £14.57 more.
    let json = p.pull(&p.client, next["id"].as_str().unwrap(), "").await;
    let lines = json.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", json.text);
    assert_eq!(lines[0]["element"], "holiday_taken");
    assert_eq!(lines[0]["amount_pence"], 5_000);
    assert_eq!(lines[0]["sources"], added.body["id"]);
    assert_eq!(lines[1]["element"], "amendment");
    assert_eq!(lines[1]["amount_pence"], 1_457);
    assert_eq!(lines[1]["sources"], amended.body["id"]);
}

#[actix_web::test]
async fn unpaid_travel_below_the_minimum_wage_blocks_the_export_until_a_manager_reviews_it() {
    // Amy is 18; the organisation employs her and does not pay travel time.
    let p = payroll("organisation", "2008-01-01", false).await;
    let w = &p.w;
    // After Monday at Ann's she does half an hour for Bob in Manchester, 90 minutes later.
    let bob = w
        .post(
            &w.manager,
            "/api/v1/budget-holders",
            json!({"display_name": "Bob Kay", "postcode": "M1 1AE", "funding": "chc", "minimum_level": 2,
                   "support_needs": [{"day": "tuesday", "start": "09:00", "end": "10:00"}]}),
        )
        .await;
    assert_eq!(bob.status, 201, "{}", bob.text);
    let bob = bob.body["id"].as_str().unwrap().to_owned();
    let budget = w
        .post(
            &w.manager,
            &format!("/api/v1/budget-holders/{bob}/budgets"),
            json!({"name": "Budget", "amount_pence": 100_000, "period_start": "2026-10-01", "period_end": "2027-03-31", "health_share_bp": 10000}),
        )
        .await;
    let approved = w
        .post(
            &w.manager,
            &format!(
                "/api/v1/budgets/{}/approval",
                budget.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let team = w
        .post(
            &w.manager,
            &format!("/api/v1/budget-holders/{bob}/team"),
            json!({"pa_id": w.amy}),
        )
        .await;
    assert!(team.status.is_success(), "{}", team.text);
    let ann_sheet = w.work_monday().await;
    let bob_work = w
        .app
        .send(
            TestRequest::post()
                .uri(&format!("/api/v1/budget-holders/{bob}/unrostered-work"))
                .insert_header(("authorization", format!("Bearer {}", w.amy_login.token)))
                .insert_header(("Idempotency-Key", "bob-1"))
                .set_json(json!({"started_at": "2026-10-19T12:30:00Z", "ended_at": "2026-10-19T13:00:00Z", "reason": "Bob's carer was ill"})),
        )
        .await;
    assert_eq!(bob_work.status, 201, "{}", bob_work.text);
    let bob_sheet = bob_work.body["timesheet_id"].as_str().unwrap().to_owned();
    for sheet in [&ann_sheet, &bob_sheet] {
        w.submit(sheet).await;
        p.approve(sheet).await;
    }

    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = &closed.body["exports"][0];
    assert_eq!(export["status"], "blocked", "{}", closed.text);
    assert_eq!(export["number"], Value::Null);
    let blocker = &export["blockers"][0];
    assert_eq!(blocker["pa_id"], w.amy.as_str());
    assert_eq!(
        blocker["hourly_rate_pence"], 1_085,
        "the 18–20 rate from April 2026"
    );
    // 2 h 58 min at Ann's and 30 min at Bob's: 3.47 h × £13.00 = £45.11 for the minutes
    // worked plus the journey between the homes, which counts though unpaid.
    let travel = {
        use parota::db::schema::budget_holders::dsl::*;
        let home = |holder: &str| -> parota::geo::Location {
            let (lat, lon): (f64, f64) = budget_holders
                .find(holder)
                .select((latitude, longitude))
                .first(&mut w.app.conn())
                .unwrap();
            parota::geo::Location {
                latitude: lat,
                longitude: lon,
            }
        };
        parota::geo::travel_minutes(home(&w.holder), home(&bob)).min(90)
    };
    assert!(travel > 60, "Burnley to Manchester: {travel} minutes");
    let counted = 178 + 30 + travel;
    let required = (1_085 * counted + 59) / 60;
    assert_eq!(blocker["counted_minutes"], counted);
    assert_eq!(blocker["counted_pay_pence"], 4_511);
    assert_eq!(blocker["shortfall_pence"], required - 4_511);
    let export_id = export["id"].as_str().unwrap().to_owned();

    // Nothing to pull while blocked: the client does not see it; a manager is told why.
    let listed = w
        .app
        .get("/api/v1/payroll/exports", Some(&p.client.token))
        .await;
    assert_eq!(listed.body["items"], json!([]));
    p.pull(&p.client, &export_id, "")
        .await
        .assert_problem(404, "not_found");
    p.pull(&w.manager, &export_id, "")
        .await
        .assert_problem(409, "export_blocked");

    // Only a manager reviews; the top-up pays the shortfall and the export is numbered.
    let review = format!("/api/v1/payroll/exports/{export_id}/minimum-wage-reviews");
    w.post(
        &w.amy_login,
        &review,
        json!({"pa_id": w.amy, "outcome": "top_up", "reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let problem = w
        .post(
            &w.manager,
            &review,
            json!({"pa_id": bob, "outcome": "top_up", "reason": "x"}),
        )
        .await
        .assert_problem(422, "validation_failed")
        .clone();
    assert_eq!(problem["errors"][0]["field"], "pa_id");
    let reviewed = w
        .post(
            &w.manager,
            &review,
            json!({"pa_id": w.amy, "outcome": "top_up", "reason": "Travel between Ann and Bob counts as working time"}),
        )
        .await;
    assert_eq!(reviewed.status, 200, "{}", reviewed.text);
    assert_eq!(reviewed.body["status"], "ready");
    assert_eq!(reviewed.body["number"], 1);
    assert_eq!(reviewed.body["blockers"], json!([]));
    let json = p.pull(&p.client, &export_id, "").await;
    let lines = json.body["lines"].as_array().unwrap();
    let top_up = lines.last().unwrap();
    assert_eq!(top_up["element"], "minimum_wage_top_up");
    assert_eq!(top_up["amount_pence"], required - 4_511);
    // Once the ledgers are reconciled, each person's budget has spent what payroll pays for
    // them, the top-up included (it is Ann's: the PA's first line is for her).
    p.run_jobs();
    for holder in [&w.holder, &bob] {
        let (pay, exported) = p.ledger_against_payroll(holder, &october).await;
        let spent: i64 = pay
            .iter()
            .map(|e| e["amount_pence"].as_i64().unwrap())
            .sum();
        assert_eq!(spent, exported, "{holder}");
    }
    assert_eq!(
        json.body["export"]["gross_pence"],
        lines
            .iter()
            .map(|l| l["amount_pence"].as_i64().unwrap())
            .sum::<i64>()
    );
}

#[actix_web::test]
async fn a_period_with_work_no_engagement_pays_does_not_close() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    // Amy's engagement is gone: the close is refused and nothing is written.
    {
        use parota::db::schema::engagements::dsl::*;
        diesel::delete(engagements)
            .execute(&mut w.app.conn())
            .unwrap();
    }
    p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    let refused = p.close(&october).await;
    let problem = refused.assert_problem(409, "engagement_missing");
    assert!(problem["detail"].as_str().unwrap().contains(&w.amy));
    let periods = w
        .app
        .get(
            "/api/v1/pay-periods?from=2026-10-01&to=2026-10-01",
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(periods.body[0]["closed"], false);
    let exports = w
        .app
        .get(
            &format!("/api/v1/pay-periods/{october}/exports"),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(exports.body, json!([]));
}

#[actix_web::test]
async fn a_large_export_streams_page_by_page_to_the_same_bytes_as_its_checksum() {
    use parota::payroll::formats::{Head, Line};
    use parota::payroll::repo::{ExportRow, LineRow};
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let october = {
        let policy = parota::timesheets::model::Policy::default();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        parota::timesheets::periods::open_period_for(
            &mut w.app.conn(),
            &parota::timesheets::periods::Calendar::organisation(&w.organisation.id, &policy),
            date,
        )
        .unwrap()
        .id
    };
    // 2,500 lines: three pages of a thousand, with a description that needs quoting.
    let export_id = parota::ids::new_id();
    let lines: Vec<LineRow> = (1..=2_500)
        .map(|n| LineRow {
            export_id: export_id.clone(),
            line_no: n,
            pa_id: w.amy.clone(),
            works_number: format!("W{n:04}"),
            budget_holder_id: w.holder.clone(),
            element: "basic".into(),
            description: "Basic hours, \"day\"".into(),
            quantity_hundredths: 750,
            unit_rate_e4: 13_000_000,
            amount_pence: parota::money::Pence::new(9_750),
            sources: "T".into(),
        })
        .collect();
    let ready_at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let head = Head {
        id: export_id.clone(),
        number: 1,
        employer_id: p.employer.clone(),
        employer_name: "Ann Riley".into(),
        paye_reference: "123/AB45678".into(),
        period_start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        period_end: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        // The period's pay date: 31 October 2026 is a Saturday.
        pay_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 30).unwrap(),
        gross_pence: parota::money::Pence::new(9_750 * 2_500),
        line_count: 2_500,
        ready_at,
        leavers: Vec::new(),
        absences: Vec::new(),
    };
    let as_lines: Vec<Line> = lines
        .iter()
        .map(parota::payroll::service::line_of)
        .collect();
    let sums = parota::payroll::service::checksums(&head, &Default::default(), &as_lines);
    {
        let mut conn = w.app.conn();
        parota::payroll::repo::insert_exports(
            &mut conn,
            &[ExportRow {
                id: export_id.clone(),
                organisation_id: w.organisation.id.clone(),
                employer_id: p.employer.clone(),
                pay_period_id: october,
                status: "ready".into(),
                number: Some(1),
                blockers: "[]".into(),
                checksums: Some(serde_json::to_string(&sums).unwrap()),
                gross_pence: head.gross_pence,
                line_count: 2_500,
                created_at: ready_at.naive_utc(),
                ready_at: Some(ready_at.naive_utc()),
                acknowledged_at: None,
                mapping: r#"{"software":"none","elements":{}}"#.into(),
                gaps: "[]".into(),
                leavers: "[]".into(),
                absences: "[]".into(),
            }],
        )
        .unwrap();
        parota::payroll::repo::insert_lines(&mut conn, &lines).unwrap();
    }
    for format in parota::payroll::formats::Format::ALL.map(|f| f.as_str()) {
        let pulled = p
            .pull(&p.client, &export_id, &format!("?format={format}"))
            .await;
        assert_eq!(pulled.status, 200, "{}", pulled.text);
        assert_eq!(sha256_hex(&pulled.text), sums[format], "{format}");
    }
    let json = p.pull(&p.client, &export_id, "?format=json").await;
    let pulled = json.body["lines"].as_array().unwrap();
    assert_eq!(pulled.len(), 2_500);
    assert_eq!(pulled[1_000]["line_no"], 1_001);
    assert_eq!(pulled[2_499]["description"], "Basic hours, \"day\"");
    let csv = p.pull(&p.client, &export_id, "?format=csv").await;
    assert_eq!(csv.text.lines().count(), 2_501);
    assert!(csv.text.contains(",\"Basic hours, \"\"day\"\"\","));
}

#[actix_web::test]
async fn a_sleep_in_with_an_hour_woken_is_paid_the_night_and_the_hour() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    {
        use parota::db::schema::roster_shifts::dsl::*;
        diesel::update(roster_shifts.find(&w.night))
            .set(kind.eq("sleep_in"))
            .execute(&mut w.app.conn())
            .unwrap();
    }
    let mut timesheet = String::new();
    for (clock, key, at) in [
        ("clock-in", "sleep-in", "2026-10-24T21:00:00Z"),
        ("clock-out", "sleep-out", "2026-10-25T08:00:00Z"),
    ] {
        let done = w
            .clock(
                &w.amy_login,
                &w.night,
                clock,
                Some(key),
                json!({"device_time": at, "location": at_home()}),
            )
            .await;
        assert!(done.status.is_success(), "{}", done.text);
        timesheet = done.body["timesheet_id"].as_str().unwrap().to_owned();
    }
    let sheet = w
        .app
        .get(
            &format!("/api/v1/timesheets/{timesheet}"),
            Some(&w.amy_login.token),
        )
        .await;
    let record = format!(
        "/api/v1/shift-records/{}",
        sheet.body["records"][0]["id"].as_str().unwrap()
    );
    // More than the night lasted (11 hours across the clock change) is refused.
    let problem = w
        .app
        .patch_json(
            &record,
            Some(&w.amy_login.token),
            &json!({"woken_minutes": 700}),
        )
        .await
        .assert_problem(422, "validation_failed")
        .clone();
    assert_eq!(problem["errors"][0]["code"], "longer_than_shift");
    let woken = w
        .app
        .patch_json(
            &record,
            Some(&w.amy_login.token),
            &json!({"woken_minutes": 60}),
        )
        .await;
    assert_eq!(woken.status, 200, "{}", woken.text);
    assert_eq!(woken.body["woken_minutes"], 60);
    w.submit(&timesheet).await;
    p.approve(&timesheet).await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    let export = closed.body["exports"][0]["id"].as_str().unwrap().to_owned();
    let json = p.pull(&p.client, &export, "").await;
    let lines: Vec<(String, i64, i64)> = json.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["element"].as_str().unwrap().to_owned(),
                l["quantity_hundredths"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    // £95.00 for the night, 1 h woken at £13.00, holiday 12.07% of £108.00 = £13.04.
    assert_eq!(
        lines,
        vec![
            ("sleep_in".to_owned(), 100, 9_500),
            ("sleep_in_woken".to_owned(), 100, 1_300),
            ("holiday_pay".to_owned(), 100, 1_304),
        ]
    );
}

/// One PA's pay that cannot be calculated (here: the person's level is one the rate card does
/// not price) blocks that PA's line with the reason, as a minimum-wage shortfall does; the
/// period still closes, and a review settles it.
#[actix_web::test]
async fn pay_that_cannot_be_calculated_blocks_only_that_pas_line_with_the_reason() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    p.work_the_week().await;
    {
        use parota::db::schema::budget_holders::dsl::*;
        diesel::update(budget_holders.find(&w.holder))
            .set(minimum_level.eq(4))
            .execute(&mut w.app.conn())
            .unwrap();
    }
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = &closed.body["exports"][0];
    assert_eq!(export["status"], "blocked", "{}", closed.text);
    let blocker = &export["blockers"][0];
    assert_eq!(blocker["pa_id"], w.amy.as_str());
    assert!(
        blocker["not_calculable"]
            .as_str()
            .unwrap()
            .contains("does not price level 4"),
        "{}",
        closed.text
    );
    let export_id = export["id"].as_str().unwrap().to_owned();
    let review = format!("/api/v1/payroll/exports/{export_id}/minimum-wage-reviews");
    let refused = w
        .post(
            &w.manager,
            &review,
            json!({"pa_id": w.amy, "outcome": "top_up", "reason": "x"}),
        )
        .await;
    assert_eq!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "outcome"
    );
    let settled = w
        .post(
            &w.manager,
            &review,
            json!({"pa_id": w.amy, "outcome": "not_due", "reason": "Level fixed; paid by adjustment next period"}),
        )
        .await;
    assert_eq!(settled.status, 200, "{}", settled.text);
    assert_eq!(settled.body["status"], "ready");
    assert_eq!(settled.body["line_count"], 0, "{}", settled.text);
}

/// An employer on Sage 50 whose PA's works number is not a Sage reference: the export closes
/// blocked with the gap named, no payroll client can pull it, and it becomes ready (numbered,
/// checksummed, in the bureau's codes) the moment the mapping is put right. Bad mappings are
/// refused whole, naming the field; only the employer's payroll client and admins set one.
#[actix_web::test]
async fn a_mapping_the_software_cannot_use_blocks_the_export_until_it_is_put_right() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let path = format!("/api/v1/employers/{}/payroll-mapping", p.employer);
    let put = |who: &TestUser, body: Value| {
        w.app.send(
            TestRequest::put()
                .uri(&path)
                .insert_header(("authorization", format!("Bearer {}", who.token)))
                .set_json(body),
        )
    };
    // Who may set it: the employer's payroll client and admins; a team manager reads only.
    put(&w.manager, json!({"software": "sage50"}))
        .await
        .assert_problem(403, "forbidden");
    put(&p.other_client, json!({"software": "sage50"}))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(w.app.get(&path, Some(&w.manager.token)).await.status, 200);
    assert_eq!(
        w.app.get(&path, Some(&p.other_client.token)).await.status,
        404
    );
    // Refused whole, each field named: an unknown element, a code Sage cannot hold, a duplicate.
    let bad = put(
        &p.client,
        json!({"software": "sage50", "elements": {
            "bonus": {"sage_payment": 30},
            "basic": {"sage_payment": 1000},
        }}),
    )
    .await
    .assert_problem(422, "validation_failed")
    .clone();
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "mapping.elements.basic.sage_payment",
            "mapping.elements.bonus"
        ]
    );
    put(
        &p.client,
        json!({"software": "sage50", "elements": {"night_uplift": {"sage_payment": 1}}}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let unchanged = w.app.get(&path, Some(&p.client.token)).await;
    assert_eq!(unchanged.body["mapping"]["software"], "none");
    // Sage 50, with basic hours to payment 101 in department 3.
    let set = put(
        &p.client,
        json!({"software": "sage50", "elements": {"basic": {"sage_payment": 101, "sage_department": 3}}}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["effective"]["basic"]["sage_payment"], 101);
    assert_eq!(set.body["effective"]["night_uplift"]["sage_payment"], 2);

    p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = &closed.body["exports"][0];
    assert_eq!(export["status"], "blocked");
    assert_eq!(export["blockers"], json!([]));
    assert_eq!(export["gaps"][0]["field"], "works_number");
    assert_eq!(export["gaps"][0]["pa_id"], w.amy.as_str());
    let export_id = export["id"].as_str().unwrap().to_owned();
    p.pull(&p.client, &export_id, "?format=sage50")
        .await
        .assert_problem(404, "not_found");
    let mapping = w.app.get(&path, Some(&p.client.token)).await;
    assert_eq!(
        mapping.body["blocked_exports"][0]["export_id"],
        export_id.as_str()
    );

    // The bureau takes it on IRIS instead, where AMY01 is a valid CLOCKIN code: ready at once.
    let iris = put(
        &p.client,
        json!({"software": "iris", "iris_company": 7, "elements": {"basic": {"iris_element": "BASIC_PAY"}}}),
    )
    .await;
    assert_eq!(iris.status, 200, "{}", iris.text);
    assert_eq!(iris.body["blocked_exports"], json!([]));
    let cascade = p.pull(&p.client, &export_id, "?format=iris").await;
    assert_eq!(cascade.status, 200, "{}", cascade.text);
    assert!(
        cascade
            .text
            .starts_with("AMY01,BASIC_PAY,13.97,13.00,E\r\n"),
        "{}",
        cascade.text
    );
    let listed = w
        .app
        .get(
            "/api/v1/payroll/exports?status=ready",
            Some(&p.client.token),
        )
        .await;
    assert_eq!(listed.body["items"][0]["number"], 1);
    assert_eq!(
        listed.body["items"][0]["checksums"]["iris"],
        sha256_hex(&cascade.text).as_str()
    );
    let clockin = p.pull(&p.client, &export_id, "?format=iris_clockin").await;
    assert_eq!(clockin.status, 200, "{}", clockin.text);
    assert!(
        clockin
            .header("content-disposition")
            .unwrap()
            .contains("CLOCKIN.007"),
        "{:?}",
        clockin.header("content-disposition")
    );
    assert!(clockin.text.starts_with("AMY01     41"), "{}", clockin.text);
}

/// The roster records when each PA was given each shift; payroll pays the card's short-notice
/// premium on a shift given inside its window and not on one given in good time. Amy's Monday
/// was given after the fact (the week's roster was published today); her Saturday night is set
/// as given a week ahead.
#[actix_web::test]
async fn a_shift_given_inside_the_cards_notice_window_is_paid_the_short_notice_premium() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    {
        use parota::db::schema::{rate_card_versions, roster_assignments, roster_shifts};
        let mut conn = w.app.conn();
        let mut terms = card_terms();
        terms["uplifts"]["short_notice_bp"] = json!(2500);
        terms["uplifts"]["short_notice_hours"] = json!(48);
        diesel::update(rate_card_versions::table)
            .set(rate_card_versions::terms.eq(terms.to_string()))
            .execute(&mut conn)
            .unwrap();
        let given: Vec<Option<chrono::NaiveDateTime>> = roster_assignments::table
            .filter(roster_assignments::pa_id.eq(&w.amy))
            .select(roster_assignments::given_at)
            .load(&mut conn)
            .unwrap();
        assert!(
            !given.is_empty() && given.iter().all(Option::is_some),
            "{given:?}"
        );
        let night_start: chrono::NaiveDateTime = roster_shifts::table
            .find(&w.night)
            .select(roster_shifts::starts_at)
            .first(&mut conn)
            .unwrap();
        diesel::update(
            roster_assignments::table.filter(roster_assignments::roster_shift_id.eq(&w.night)),
        )
        .set(roster_assignments::given_at.eq(night_start - chrono::Duration::days(7)))
        .execute(&mut conn)
        .unwrap();
    }
    p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = closed.body["exports"][0]["id"].as_str().unwrap().to_owned();
    let json = p.pull(&p.client, &export, "?format=json").await;
    let premiums = json.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["element"] == "short_notice_uplift")
        .count();
    // Monday 09:02–12:00 (2.97 h) at 25% of £13.00: £3.25 an hour, £9.65; none on the night.
    assert_eq!(premiums, 1, "{}", json.text);
    let line = json.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["element"] == "short_notice_uplift")
        .unwrap();
    assert_eq!(line["quantity_hundredths"], 297);
    assert_eq!(line["amount_pence"], 965);
}

/// Two employers close in one period: the organisation, on Sage 50, employs Ben under a works
/// number Sage cannot match; Ann, on IRIS, employs Amy. Only the organisation's export waits.
#[actix_web::test]
async fn a_mapping_the_software_cannot_use_blocks_only_that_employers_export() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let ann = w
        .app
        .send(
            TestRequest::put()
                .uri(&format!("/api/v1/employers/{}/payroll-mapping", p.employer))
                .insert_header(("authorization", format!("Bearer {}", w.admin.token)))
                .set_json(json!({"software": "iris", "iris_company": 1})),
        )
        .await;
    assert_eq!(ann.status, 200, "{}", ann.text);
    let card = w.app.get("/api/v1/rate-cards", Some(&w.admin.token)).await;
    let card_id = card.body[0]["id"].as_str().unwrap().to_owned();
    let organisation = w
        .post(
            &w.admin,
            "/api/v1/employers",
            json!({"kind": "organisation", "name": "Care Co", "paye_reference": "475/CC00001",
                   "payroll_client_id": p.client.id, "rate_card_id": card_id,
                   "payroll_mapping": {"software": "sage50"}}),
        )
        .await;
    assert_eq!(organisation.status, 201, "{}", organisation.text);
    assert_eq!(organisation.body["payroll_software"], "sage50");
    let organisation = organisation.body["id"].as_str().unwrap().to_owned();
    let ben = ben_of(w);
    let engaged = w
        .post(
            &w.manager,
            &format!("/api/v1/employers/{organisation}/engagements"),
            json!({"pa_id": ben, "works_number": "BEN-1", "date_of_birth": "1988-05-05",
                   "holiday_basis": "rolled_up", "starts_on": "2026-10-01"}),
        )
        .await;
    assert_eq!(engaged.status, 201, "{}", engaged.text);
    p.work_the_week().await;
    let october = p.period_starting("2026-10-01").await;
    // Ben's approved hour for Ann, as the timesheet flow leaves it.
    approved_hour(w, &ben, &october, 21);
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let exports = closed.body["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 2, "{}", closed.text);
    let of = |employer: &str| {
        exports
            .iter()
            .find(|e| e["employer_id"] == employer)
            .unwrap()
    };
    assert_eq!(of(&p.employer)["status"], "ready");
    assert_eq!(of(&p.employer)["gaps"], json!([]));
    let blocked = of(&organisation);
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["gaps"][0]["field"], "works_number");
    assert_eq!(blocked["gaps"][0]["pa_id"], ben.as_str());
}

fn ben_of(w: &Week) -> String {
    use parota::db::schema::pa_profiles;
    pa_profiles::table
        .filter(pa_profiles::user_id.eq(&w.ben_login.id))
        .select(pa_profiles::id)
        .first(&mut w.app.conn())
        .unwrap()
}

/// An approved, unrostered hour (09:00–10:00 UTC on `day` October 2026) for Ann by `pa`, in
/// `period`, as the timesheet flow leaves it.
fn approved_hour(w: &Week, pa: &str, period: &str, day: u32) {
    use parota::timesheets::repo::{ShiftRecordRow, TimesheetRow};
    let mut conn = w.app.conn();
    let at = |h: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 10, day)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    };
    let timesheet = TimesheetRow {
        id: parota::ids::new_id(),
        organisation_id: w.organisation.id.clone(),
        pa_id: pa.to_owned(),
        budget_holder_id: w.holder.clone(),
        pay_period_id: period.to_owned(),
        status: "approved".into(),
        version: 3,
        submitted_at: Some(at(12)),
        decided_by: Some(w.manager.id.clone()),
        decided_at: Some(at(12)),
        query_reason: None,
        paid_in_period_id: Some(period.to_owned()),
        created_at: at(12),
        updated_at: at(12),
    };
    parota::timesheets::repo::insert_timesheet_if_absent(&mut conn, &timesheet).unwrap();
    parota::timesheets::repo::insert_record(
        &mut conn,
        &ShiftRecordRow {
            id: parota::ids::new_id(),
            organisation_id: w.organisation.id.clone(),
            timesheet_id: timesheet.id.clone(),
            pa_id: pa.to_owned(),
            budget_holder_id: w.holder.clone(),
            roster_shift_id: None,
            work_date: at(9).date(),
            unrostered_reason: Some("Cover".into()),
            clock_in_at: Some(at(9)),
            clock_in_device_at: None,
            clock_in_received_at: None,
            clock_in_distance_m: None,
            clock_out_at: Some(at(10)),
            clock_out_device_at: None,
            clock_out_received_at: None,
            clock_out_distance_m: None,
            outside_radius: false,
            break_minutes: 0,
            mileage_tenths: 0,
            expenses_pence: parota::money::Pence::ZERO,
            expense_receipt: None,
            note: None,
            reminded_at: None,
            amendments: 0,
            created_at: at(10),
            updated_at: at(10),
            woken_minutes: 0,
        },
    )
    .unwrap();
}

/// The organisation as a second employer (monthly, on the organisation's calendar) engaging
/// Ben; returns its id.
async fn organisation_employer(p: &Payroll, ben: &str) -> String {
    let w = &p.w;
    let card = w.app.get("/api/v1/rate-cards", Some(&w.admin.token)).await;
    let organisation = w
        .post(
            &w.admin,
            "/api/v1/employers",
            json!({"kind": "organisation", "name": "Care Co", "paye_reference": "475/CC00001",
                   "payroll_client_id": p.client.id, "rate_card_id": card.body[0]["id"]}),
        )
        .await;
    assert_eq!(organisation.status, 201, "{}", organisation.text);
    assert_eq!(organisation.body["pay_calendar"], Value::Null);
    let id = organisation.body["id"].as_str().unwrap().to_owned();
    let engaged = w
        .post(
            &w.manager,
            &format!("/api/v1/employers/{id}/engagements"),
            json!({"pa_id": ben, "works_number": "BEN01", "date_of_birth": "1988-05-05",
                   "holiday_basis": "rolled_up", "starts_on": "2026-10-01"}),
        )
        .await;
    assert_eq!(engaged.status, 201, "{}", engaged.text);
    id
}

impl Payroll {
    async fn set_calendar(&self, who: &TestUser, calendar: Value) -> TestResponse {
        self.w
            .app
            .send(
                TestRequest::put()
                    .uri(&format!("/api/v1/employers/{}/pay-calendar", self.employer))
                    .insert_header(("authorization", format!("Bearer {}", who.token)))
                    .set_json(json!({ "pay_calendar": calendar })),
            )
            .await
    }

    /// The pay periods overlapping October 2026.
    async fn october_periods(&self) -> Vec<Value> {
        let periods = self
            .w
            .app
            .get(
                "/api/v1/pay-periods?from=2026-10-01&to=2026-10-31",
                Some(&self.w.manager.token),
            )
            .await;
        assert_eq!(periods.status, 200, "{}", periods.text);
        periods.body.as_array().unwrap().clone()
    }
}

#[actix_web::test]
async fn a_weekly_and_a_monthly_employer_close_side_by_side_each_on_its_own_calendar() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let weekly = json!({"frequency": "weekly", "anchor": "2026-10-05", "pay_days_after_end": 4});
    // Only admins set an employer's calendar, and a pay date more than 31 days on is refused.
    p.set_calendar(&w.manager, weekly.clone())
        .await
        .assert_problem(403, "forbidden");
    let late = json!({"frequency": "weekly", "anchor": "2026-10-05", "pay_days_after_end": 40});
    let refused = p.set_calendar(&w.admin, late).await;
    assert_eq!(
        refused.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "pay_calendar.pay_days_after_end"
    );
    let set = p.set_calendar(&w.admin, weekly.clone()).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["pay_calendar"], weekly);

    // Ann (weekly) pays Amy's week; the organisation (monthly) pays Ben's hour.
    let ben = ben_of(w);
    let organisation = organisation_employer(&p, &ben).await;
    p.work_the_week().await;
    let periods = p.october_periods().await;
    let ann_week = periods
        .iter()
        .find(|q| q["employer_id"] == p.employer.as_str())
        .unwrap_or_else(|| panic!("Ann's week: {periods:?}"));
    assert_eq!(ann_week["starts_on"], "2026-10-19");
    assert_eq!(ann_week["ends_on"], "2026-10-25");
    // Sunday the 25th and four days: Thursday the 29th.
    assert_eq!(ann_week["pay_date"], "2026-10-29");
    // The organisation's October, as Ben's first clock-in there would make it.
    let october = {
        let mut conn = w.app.conn();
        let policy = parota::timesheets::periods::policy_of(&mut conn, &w.organisation.id).unwrap();
        let calendar =
            parota::timesheets::periods::Calendar::organisation(&w.organisation.id, &policy);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 21).unwrap();
        parota::timesheets::periods::open_period_for(&mut conn, &calendar, day)
            .unwrap()
            .id
    };
    approved_hour(w, &ben, &october, 21);

    // A calendar change that would cut the open week with Amy's work in it is refused.
    let fortnightly =
        json!({"frequency": "fortnightly", "anchor": "2026-10-05", "pay_days_after_end": 4});
    let cut = p.set_calendar(&w.admin, fortnightly).await;
    assert_eq!(
        cut.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "pay_calendar.frequency",
        "{}",
        cut.text
    );
    // So is the organisation's own calendar changing under Ben's open hour.
    let policy = w
        .app
        .send(
            TestRequest::put()
                .uri(&format!(
                    "/api/v1/organisations/{}/timesheet-policy",
                    w.organisation.id
                ))
                .insert_header(("authorization", format!("Bearer {}", w.admin.token)))
                .set_json(json!({
                    "pay_frequency": "weekly", "period_anchor": "2026-10-05", "approver": "team_manager",
                    "radius_m": 1000, "late_minutes": 10, "left_early_minutes": 10,
                    "overrun_minutes": 15, "short_minutes": 15, "clock_out_grace_minutes": 60,
                    "offline_sync_days": 3660
                })),
        )
        .await;
    assert_eq!(
        policy.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "pay_frequency",
        "{}",
        policy.text
    );

    // Each closes on its own: the week pays Amy only, over the week as her pay reference period.
    let closed = p.close(ann_week["id"].as_str().unwrap()).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let exports = closed.body["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 1, "{}", closed.text);
    assert_eq!(exports[0]["employer_id"], p.employer.as_str());
    assert_eq!(exports[0]["period_start"], "2026-10-19");
    assert_eq!(exports[0]["period_end"], "2026-10-25");
    assert_eq!(exports[0]["pay_date"], "2026-10-29");
    assert_eq!(exports[0]["status"], "ready", "{}", closed.text);
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let exports = closed.body["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 1, "{}", closed.text);
    assert_eq!(exports[0]["employer_id"], organisation.as_str());
    assert_eq!(exports[0]["period_start"], "2026-10-01");
    assert_eq!(exports[0]["period_end"], "2026-10-31");
    // 31 October 2026 is a Saturday: paid on Friday the 30th.
    assert_eq!(exports[0]["pay_date"], "2026-10-30");
    assert_eq!(
        exports[0]["line_count"], 2,
        "basic and holiday pay: {}",
        closed.text
    );

    // Going monthly after the week that closed on Sunday the 25th would leave the 26th to the
    // 31st in no period.
    let monthly = json!({"frequency": "monthly", "anchor": "2026-10-01", "pay_days_after_end": 0});
    let gap = p.set_calendar(&w.admin, monthly).await;
    assert_eq!(
        gap.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "pay_calendar.anchor",
        "{}",
        gap.text
    );
    // Fortnights from Monday the 26th follow on.
    let fortnightly =
        json!({"frequency": "fortnightly", "anchor": "2026-10-26", "pay_days_after_end": 4});
    let moved = p.set_calendar(&w.admin, fortnightly.clone()).await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["pay_calendar"], fortnightly);
}

#[actix_web::test]
async fn a_leaver_works_nowhere_after_their_last_day_and_their_last_export_reports_them_once() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let timesheet = w.work_monday().await;
    let engagements = w
        .app
        .get(
            &format!("/api/v1/employers/{}/engagements", p.employer),
            Some(&w.manager.token),
        )
        .await;
    let engagement = engagements.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/engagements/{engagement}/end");
    let leaving = json!({"ends_on": "2026-10-20", "reason": "resigned"});
    // A PA does not record their own leaving; a leaving date before work already done is refused.
    w.post(&w.amy_login, &path, leaving.clone())
        .await
        .assert_problem(403, "forbidden");
    let early = w
        .post(
            &w.manager,
            &path,
            json!({"ends_on": "2026-10-18", "reason": "resigned"}),
        )
        .await;
    assert_eq!(
        early.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "ends_on",
        "{}",
        early.text
    );
    let unknown = w
        .post(
            &w.manager,
            &path,
            json!({"ends_on": "2026-10-20", "reason": "sacked"}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "reason",
        "{}",
        unknown.text
    );
    let ended = w.post(&w.manager, &path, leaving).await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.body["ends_on"], "2026-10-20");
    assert_eq!(ended.body["leaving_reason"], "resigned");

    // Saturday's night is after her last day: the clock refuses it, and the safety gate marks
    // the published shift as hers no longer to work.
    let night = w
        .clock(
            &w.amy_login,
            &w.night,
            "clock-in",
            Some("night-in"),
            json!({"device_time": "2026-10-24T21:00:00Z", "location": at_home()}),
        )
        .await;
    night.assert_problem(409, "engagement_ended");
    {
        let mut conn = w.app.conn();
        let now = chrono::DateTime::parse_from_rfc3339("2026-10-21T06:00:00Z")
            .unwrap()
            .to_utc();
        parota::rostering::watch::look_ahead(&mut conn, now).unwrap();
        let warnings =
            parota::rostering::watch::warnings_of(&mut conn, std::slice::from_ref(&w.night))
                .unwrap();
        let found = warnings.get(&w.night).cloned().unwrap_or_default();
        assert!(
            found.iter().any(|b| b.rule == "employment"),
            "the gate refuses the leaver's night: {found:?}"
        );
        let monday =
            parota::rostering::watch::warnings_of(&mut conn, std::slice::from_ref(&w.monday))
                .unwrap();
        assert!(
            monday.get(&w.monday).is_none_or(Vec::is_empty),
            "{monday:?}"
        );
    }

    // Her Monday is paid in October, whose export reports her leaving for the P45, once.
    assert_eq!(w.submit(&timesheet).await.status, 200);
    p.approve(&timesheet).await;
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = &closed.body["exports"][0];
    assert_eq!(
        export["leavers"],
        json!([{"pa_id": w.amy, "works_number": "AMY01", "left_on": "2026-10-20", "reason": "resigned"}]),
        "{}",
        closed.text
    );
    let pulled = p
        .pull(&p.client, export["id"].as_str().unwrap(), "?format=json")
        .await;
    assert_eq!(pulled.status, 200, "{}", pulled.text);
    assert_eq!(pulled.body["export"]["leavers"], export["leavers"]);
    w.post(
        &w.manager,
        &path,
        json!({"ends_on": "2026-10-21", "reason": "resigned"}),
    )
    .await
    .assert_problem(409, "leaver_reported");
    let engagements = w
        .app
        .get(
            &format!("/api/v1/employers/{}/engagements", p.employer),
            Some(&w.manager.token),
        )
        .await;
    assert_eq!(
        engagements.body[0]["reported_in_export_id"], export["id"],
        "{}",
        engagements.text
    );
}

#[actix_web::test]
async fn absences_reach_the_payroll_software_with_their_qualifying_days_and_the_sick_pay_rules() {
    let p = payroll("budget_holder", "1990-01-01", true).await;
    let w = &p.w;
    let timesheet = w.work_monday().await;
    assert_eq!(w.submit(&timesheet).await.status, 200);
    p.approve(&timesheet).await;
    // Off sick over the weekend of her Saturday night (rostered, not worked), then on leave.
    for (kind, from, to) in [
        ("sickness", "2026-10-24", "2026-10-25"),
        ("annual_leave", "2026-10-28", "2026-10-29"),
    ] {
        let recorded = w
            .post(
                &w.manager,
                "/api/v1/absences",
                json!({"pa_id": w.amy, "kind": kind, "starts_on": from, "ends_on": to}),
            )
            .await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
    }
    let october = p.period_starting("2026-10-01").await;
    let closed = p.close(&october).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let export = &closed.body["exports"][0];
    let absences = export["absences"].as_array().unwrap();
    assert_eq!(absences.len(), 2, "{}", closed.text);
    let sick = &absences[0];
    assert_eq!(sick["kind"], "sickness");
    assert_eq!(sick["works_number"], "AMY01");
    assert_eq!(sick["days_in_period"], 2);
    assert_eq!(
        sick["qualifying_days"],
        json!(["2026-10-24"]),
        "{}",
        closed.text
    );
    // From 6 April 2026: from the first day, the lower of 80% of earnings and £123.25 a week.
    assert_eq!(sick["statutory_sick_pay"]["weekly_rate_pence"], 12325);
    assert_eq!(sick["statutory_sick_pay"]["waiting_days"], 0);
    assert_eq!(sick["statutory_sick_pay"]["earnings_share_bp"], 8000);
    let leave = &absences[1];
    assert_eq!(leave["kind"], "annual_leave");
    assert!(
        leave["note"].as_str().unwrap().contains("rolled up"),
        "{}",
        closed.text
    );
    // Nothing was paid for either: the lines are the Monday's work and its holiday pay.
    assert!(export["line_count"].as_i64().unwrap() >= 1);
    let csv = p
        .pull(&p.client, export["id"].as_str().unwrap(), "?format=csv")
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(
        csv.text.contains(",absence:sickness,sickness from 2026-10-24 to 2026-10-25; qualifying days: 2026-10-24,1.00,0.00,0.00,"),
        "{}",
        csv.text
    );
    let json_file = p
        .pull(&p.client, export["id"].as_str().unwrap(), "?format=json")
        .await;
    assert_eq!(json_file.body["export"]["absences"], export["absences"]);
}

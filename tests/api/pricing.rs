//! Pricing end to end: rate cards and their versions, the minimum-wage refusal, and quotes
//! priced by competency beside a framework card.

use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};

/// Level 4 pays £16.00 and charges £24.00; premiums 10% night, 20% Sunday, 50% bank holiday,
/// 15% waking night, 5% 2:1.
fn terms(level_4_pay: i64) -> Value {
    json!({
        "levels": [
            {"level": 1, "pay_pence": 1300, "charge_pence": 2000},
            {"level": 2, "pay_pence": 1350, "charge_pence": 2100},
            {"level": 3, "pay_pence": 1450, "charge_pence": 2200},
            {"level": 4, "pay_pence": level_4_pay, "charge_pence": 2400}
        ],
        "night_start": "22:00",
        "night_end": "07:00",
        "uplifts": {"night_bp": 1000, "saturday_bp": 1000, "sunday_bp": 2000, "bank_holiday_bp": 5000,
                    "waking_night_bp": 1500, "two_to_one_bp": 500},
        "sleep_in": {"pay_pence": 9000, "charge_pence": 12000}
    })
}

/// A council framework rate: one flat rate whatever the competency.
fn framework_terms() -> Value {
    json!({
        "levels": ([1, 2, 3, 4].map(|l| json!({"level": l, "pay_pence": 1280, "charge_pence": 2300}))),
        "night_start": "22:00",
        "night_end": "07:00"
    })
}

async fn card(
    app: &TestApp,
    admin: &TestUser,
    name: &str,
    kind: &str,
    from: &str,
    terms: Value,
) -> Value {
    let response = app
        .post_json(
            "/api/v1/rate-cards",
            Some(&admin.token),
            &json!({"name": name, "kind": kind, "effective_from": from, "terms": terms}),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body
}

fn line<'a>(priced: &'a Value, element: &str) -> &'a Value {
    priced["pay"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["element"] == element)
        .unwrap_or_else(|| panic!("no {element} line in {priced}"))
}

#[actix_web::test]
async fn a_waking_night_into_a_bank_holiday_is_priced_by_competency_beside_the_framework() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let manager = app.user(&organisation, Role::TeamManager);
    let personalised = card(
        &app,
        &admin,
        "PHB 2027",
        "personalised",
        "2027-01-01",
        terms(1600),
    )
    .await;
    let framework = card(
        &app,
        &admin,
        "Lancashire framework",
        "social_care_framework",
        "2027-01-01",
        framework_terms(),
    )
    .await;

    // Sunday 2 May 2027 22:00 to Monday 3 May (a bank holiday) 08:00, level 4, for one week.
    let quote = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&manager.token),
            &json!({
                "rate_card_id": personalised["id"],
                "framework_card_id": framework["id"],
                "start_date": "2027-04-26",
                "weeks": 1,
                "pattern": [{"day": "sunday", "start": "22:00", "end": "08:00", "kind": "waking_night", "level": 4}]
            }),
        )
        .await;
    assert_eq!(quote.status, 200, "{}", quote.text);
    let p = &quote.body["personalised"];
    assert_eq!(line(p, "basic")["pay_pence"], 16000);
    assert_eq!(line(p, "sunday_uplift")["quantity"], 2.0);
    assert_eq!(line(p, "sunday_uplift")["pay_pence"], 640);
    assert_eq!(line(p, "bank_holiday_uplift")["pay_pence"], 6400);
    assert_eq!(line(p, "waking_night_uplift")["pay_pence"], 2400);
    assert_eq!(p["pay_total_pence"], 25440);
    // The framework pays a flat £12.80 whatever the skill or the day.
    let f = &quote.body["framework"];
    assert_eq!(f["pay_total_pence"], 12800);
    let difference = &quote.body["difference"];
    assert_eq!(
        difference["total_pence"].as_i64().unwrap(),
        p["total_pence"].as_i64().unwrap() - f["total_pence"].as_i64().unwrap()
    );
    assert!(difference["summary"].as_str().unwrap().contains("more"));
    // Every on-cost is itemised and the total adds up.
    let on_costs: i64 = p["on_costs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pence"].as_i64().unwrap())
        .sum();
    assert_eq!(on_costs, p["on_costs_total_pence"].as_i64().unwrap());
    assert_eq!(
        p["total_pence"].as_i64().unwrap(),
        25440 + on_costs + p["contingency_pence"].as_i64().unwrap()
    );
}

#[actix_web::test]
async fn a_personalised_price_is_never_taken_from_a_framework_card() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let framework = card(
        &app,
        &admin,
        "Framework",
        "social_care_framework",
        "2027-01-01",
        framework_terms(),
    )
    .await;
    let quote = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&admin.token),
            &json!({
                "rate_card_id": framework["id"],
                "start_date": "2027-04-26",
                "pattern": [{"day": "monday", "start": "09:00", "end": "12:00", "kind": "day", "level": 1}]
            }),
        )
        .await;
    let problem = quote.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "rate_card_id");
    assert_eq!(problem["errors"][0]["code"], "wrong_kind");
}

#[actix_web::test]
async fn pay_below_the_minimum_wage_is_refused_on_the_card_and_in_a_quote() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    // £12.50 is below the £12.71 National Living Wage from 1 April 2026.
    let mut low = terms(1600);
    low["levels"][0]["pay_pence"] = json!(1250);
    let refused = app
        .post_json(
            "/api/v1/rate-cards",
            Some(&admin.token),
            &json!({"name": "Too low", "kind": "personalised", "effective_from": "2026-04-01", "terms": low}),
        )
        .await;
    let problem = refused.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "terms.levels[0].pay_pence");
    assert_eq!(problem["errors"][0]["code"], "below_minimum_wage");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("£12.71"));
    // Lawful when it took effect (2025/26: £12.21), it cannot price shifts after the rise.
    let card = card(&app, &admin, "Old card", "personalised", "2025-06-01", low).await;
    let quote = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&admin.token),
            &json!({
                "rate_card_id": card["id"],
                "start_date": "2026-03-30",
                "weeks": 1,
                "pattern": [{"day": "wednesday", "start": "09:00", "end": "12:00", "kind": "day", "level": 1}]
            }),
        )
        .await;
    let problem = quote.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "below_minimum_wage");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("2026-04-01"));
}

#[actix_web::test]
async fn a_new_version_applies_from_its_date_and_versions_in_force_never_change() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let card = card(
        &app,
        &admin,
        "PHB",
        "personalised",
        "2029-01-01",
        terms(1600),
    )
    .await;
    let id = card["id"].as_str().unwrap();
    // Back-dating a version would reprice shifts already priced.
    let today = chrono::Utc::now().date_naive();
    let backdated = app
        .post_json(
            &format!("/api/v1/rate-cards/{id}/versions"),
            Some(&admin.token),
            &json!({"effective_from": today.to_string(), "terms": terms(2000)}),
        )
        .await;
    assert_eq!(
        backdated.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "effective_from"
    );
    let added = app
        .post_json(
            &format!("/api/v1/rate-cards/{id}/versions"),
            Some(&admin.token),
            &json!({"effective_from": "2029-05-05", "terms": terms(2000)}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.body["versions"].as_array().unwrap().len(), 2);
    // Mon–Fri 10:00–11:00 at level 4 for two weeks from 30 April 2029: five hours at £16.00,
    // then five at £20.00 from Saturday 5 May (7 May is a bank holiday: 50% on that hour). Dates
    // years ahead, because a new version must start after today.
    let quote = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&admin.token),
            &json!({
                "rate_card_id": id,
                "start_date": "2029-04-30",
                "weeks": 2,
                "pattern": (["monday", "tuesday", "wednesday", "thursday", "friday"]
                    .map(|d| json!({"day": d, "start": "10:00", "end": "11:00", "kind": "day", "level": 4})))
            }),
        )
        .await;
    assert_eq!(quote.status, 200, "{}", quote.text);
    let p = &quote.body["personalised"];
    assert_eq!(line(p, "basic")["pay_pence"], 5 * 1600 + 5 * 2000);
    assert_eq!(line(p, "bank_holiday_uplift")["pay_pence"], 1000);
    let used = p["versions_used"].as_array().unwrap();
    assert_eq!(used.len(), 2);
    assert_eq!(used[0]["last_shift_on"], "2029-05-04");
    assert_eq!(used[1]["first_shift_on"], "2029-05-07");
}

#[actix_web::test]
async fn quotes_name_the_field_that_is_wrong_and_only_managers_price() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let admin = app.user(&organisation, Role::Admin);
    let pa = app.user(&organisation, Role::Pa);
    let card = card(
        &app,
        &admin,
        "PHB",
        "personalised",
        "2027-01-01",
        terms(1600),
    )
    .await;
    let bad = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&admin.token),
            &json!({
                "rate_card_id": card["id"],
                "start_date": "2027-04-26",
                "pattern": [
                    {"day": "monday", "start": "25:00", "end": "12:00", "kind": "day", "level": 1},
                    {"day": "monday", "start": "09:00", "end": "12:00", "kind": "day", "level": 1, "headcount": 3},
                    {"day": "monday", "start": "09:00", "end": "12:00", "kind": "day", "level": 1, "woken_hours": 1}
                ]
            }),
        )
        .await;
    let problem = bad.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "pattern[0].start",
            "pattern[1].headcount",
            "pattern[2].woken_hours"
        ]
    );
    let as_pa = app
        .post_json(
            "/api/v1/pricing/quote",
            Some(&pa.token),
            &json!({"rate_card_id": card["id"], "pattern": [{"day": "monday", "start": "09:00", "end": "12:00", "kind": "day", "level": 1}]}),
        )
        .await;
    as_pa.assert_problem(403, "forbidden");
    app.get("/api/v1/rate-cards", Some(&pa.token))
        .await
        .assert_problem(403, "forbidden");
    // Another organisation's card does not exist for this one.
    let other = app.organisation("Other", "QOP", "provider");
    let outsider = app.user(&other, Role::Admin);
    app.get(
        &format!("/api/v1/rate-cards/{}", card["id"].as_str().unwrap()),
        Some(&outsider.token),
    )
    .await
    .assert_problem(404, "not_found");
}

//! `parota demo` leaves every role something to see at once.

use serde_json::Value;

use crate::helpers::TestApp;

async fn token(app: &TestApp, login: &str) -> String {
    let response = if login == parota::demo::DEMO_PAYROLL_CLIENT {
        app.post_json(
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"grant_type": "client_credentials", "client_id": login, "client_secret": parota::demo::DEMO_PASSWORD}),
        )
        .await
    } else {
        app.login(login, parota::demo::DEMO_PASSWORD).await
    };
    assert_eq!(response.status, 200, "{login}: {}", response.text);
    response.body["access_token"].as_str().unwrap().to_owned()
}

fn items(body: &Value) -> &Vec<Value> {
    body.get("items")
        .and_then(Value::as_array)
        .or_else(|| body.as_array())
        .unwrap_or_else(|| panic!("no list in {body}"))
}

#[actix_web::test]
async fn the_demo_leaves_every_role_something_to_see() {
    let app = TestApp::spawn().await;
    let summary = parota::demo::load(&mut app.conn()).unwrap();
    let activity = summary.activity.as_ref().unwrap();
    assert_eq!(activity.rosters, 4);
    assert!(activity.clocked_shifts > 0);
    assert!(activity.exports > 0);
    assert!(activity.cover_requests > 0);
    let taker = activity
        .open_shift_for
        .clone()
        .expect("an open shift for a demo PA");

    // A PA: the open shift they may take, and shifts this week and next.
    let pa = token(&app, &taker).await;
    let open = app.get("/api/v1/pas/me/open-shifts", Some(&pa)).await;
    assert_eq!(open.status, 200, "{}", open.text);
    assert!(!items(&open.body).is_empty());
    let today = chrono::Utc::now().date_naive();
    let mut rostered = 0;
    for n in 1..=10 {
        let pa = token(&app, &format!("pa{n}@demo.parota.test")).await;
        let shifts = app
            .get(
                &format!(
                    "/api/v1/pas/me/shifts?from={}&to={}",
                    today,
                    today + chrono::Duration::days(13)
                ),
                Some(&pa),
            )
            .await;
        assert_eq!(shifts.status, 200, "{}", shifts.text);
        rostered += items(&shifts.body).len();
    }
    assert!(rostered > 0, "no demo PA has a coming shift");

    // The payroll client: an export ready to pull.
    let payroll = token(&app, parota::demo::DEMO_PAYROLL_CLIENT).await;
    let exports = app
        .get("/api/v1/payroll/exports?status=ready", Some(&payroll))
        .await;
    assert_eq!(exports.status, 200, "{}", exports.text);
    assert!(!items(&exports.body).is_empty());

    // A team manager: a timesheet waiting for approval and an approved one, among their people.
    let mut statuses = Vec::new();
    for manager in ["manager@demo.parota.test", "manager2@demo.parota.test"] {
        let manager = token(&app, manager).await;
        let people = app.get("/api/v1/budget-holders", Some(&manager)).await;
        for person in items(&people.body) {
            let id = person["id"].as_str().unwrap();
            let timesheets = app
                .get(
                    &format!("/api/v1/budget-holders/{id}/timesheets"),
                    Some(&manager),
                )
                .await;
            assert_eq!(timesheets.status, 200, "{}", timesheets.text);
            for t in items(&timesheets.body) {
                statuses.push(t["status"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(statuses.iter().any(|s| s == "submitted"), "{statuses:?}");
    assert!(statuses.iter().any(|s| s == "approved"), "{statuses:?}");

    // The budget alerts the demo's spend raised, on the people's statements.
    let admin = token(&app, "admin@demo.parota.test").await;
    let people = app.get("/api/v1/budget-holders", Some(&admin)).await;
    let mut alerts = 0;
    for person in items(&people.body) {
        let id = person["id"].as_str().unwrap();
        let statement = app
            .get(
                &format!("/api/v1/budget-holders/{id}/budget/statement"),
                Some(&admin),
            )
            .await;
        assert_eq!(statement.status, 200, "{}", statement.text);
        alerts += statement.body["alerts"].as_array().map_or(0, Vec::len);
    }
    assert!(alerts > 0);

    // A second load changes nothing.
    let again = parota::demo::load(&mut app.conn()).unwrap();
    assert!(again.already_loaded && again.activity.is_none());
}

/// The demo acts as at its load day, so it must work whatever the day: a Monday that starts a
/// pay period, the week the clocks go forward, and after the financial year ends.
#[actix_web::test]
async fn the_demo_works_whatever_day_it_is_loaded() {
    for day in ["2027-03-01", "2027-03-29", "2027-04-07"] {
        let app = TestApp::spawn().await;
        let at = format!("{day}T09:30:00Z")
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap();
        let summary = parota::demo::load_at(&mut app.conn(), at).unwrap();
        let activity = summary.activity.unwrap();
        assert_eq!(activity.rosters, 4, "{day}");
        assert!(activity.clocked_shifts > 0, "{day}");
        assert!(activity.exports > 0, "{day}");
        assert!(activity.open_shift_for.is_some(), "{day}");
        assert!(activity.cover_requests > 0, "{day}");
    }
}

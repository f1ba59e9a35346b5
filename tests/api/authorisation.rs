//! Every endpoint, called by every role and by an admin of another organisation: each gets what
//! the policy says and nothing more.

use actix_web::test::TestRequest;
use parota::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

struct Case {
    method: &'static str,
    path: String,
    body: Option<serde_json::Value>,
    /// The status each role gets, in `Role::ALL` order:
    /// admin, team manager, PA, budget holder, payroll provider, commissioner.
    by_role: [u16; 6],
    /// An admin of another organisation.
    other_organisation: u16,
}

#[actix_web::test]
async fn every_endpoint_answers_each_role_as_the_policy_says() {
    let app = TestApp::spawn().await;
    let organisation = app.provider();
    let users = app.one_of_each_role(&organisation);
    let other = app.organisation("Another Provider", "QOP", "provider");
    let outsider = app.user(&other, Role::Admin);
    let target = app.user(&organisation, Role::Pa);

    let cases = vec![
        Case {
            method: "GET",
            path: "/api/v1/me".into(),
            body: None,
            by_role: [200; 6],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/users".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: format!("/api/v1/users/{}", target.id),
            body: None,
            // The commissioner belongs to another organisation: the account does not exist for it.
            by_role: [200, 200, 403, 403, 403, 404],
            other_organisation: 404,
        },
        Case {
            method: "PATCH",
            path: format!("/api/v1/users/{}", target.id),
            body: Some(json!({"active": true})),
            by_role: [200, 403, 403, 403, 403, 404],
            other_organisation: 404,
        },
        Case {
            method: "POST",
            path: "/api/v1/payroll-clients".into(),
            body: Some(json!({"display_name": "Payroll Co"})),
            by_role: [201, 403, 403, 403, 403, 403],
            other_organisation: 201,
        },
        Case {
            method: "GET",
            path: "/api/v1/audit-events".into(),
            body: None,
            by_role: [200, 403, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: format!("/api/v1/organisations/{}", organisation.id),
            body: None,
            by_role: [200; 6],
            other_organisation: 404,
        },
        Case {
            method: "GET",
            path: "/api/v1/pas".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/competencies".into(),
            body: None,
            by_role: [200, 200, 200, 200, 403, 200],
            other_organisation: 200,
        },
        Case {
            method: "POST",
            path: "/api/v1/competencies".into(),
            body: Some(json!({"code": "cough_assist", "name": "Cough assist", "level": 4})),
            // The commissioner's own body may hold a framework; only its admin could extend it.
            by_role: [201, 403, 403, 403, 403, 403],
            other_organisation: 201,
        },
        Case {
            method: "GET",
            path: "/api/v1/budget-holders".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/rate-cards".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "POST",
            path: "/api/v1/rate-cards".into(),
            body: Some(
                json!({"name": "PHB", "kind": "personalised", "effective_from": "2027-01-01",
                "terms": {"levels": [{"level": 1, "pay_pence": 1300, "charge_pence": 2000}],
                          "night_start": "22:00", "night_end": "07:00"}}),
            ),
            by_role: [201, 403, 403, 403, 403, 403],
            other_organisation: 201,
        },
        Case {
            method: "GET",
            path: "/api/v1/market/capacity".into(),
            body: None,
            by_role: [200, 403, 403, 403, 403, 200],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/pas/me/timesheets".into(),
            body: None,
            // The test PA has a login but no profile yet.
            by_role: [403, 403, 404, 403, 403, 403],
            other_organisation: 403,
        },
        Case {
            method: "GET",
            path: "/api/v1/timesheet-exceptions?from=2026-10-01&to=2026-10-31".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/pay-periods?from=2026-10-01&to=2026-10-31".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/employers".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/pas/me/absences".into(),
            body: None,
            // The test PA has a login but no profile yet.
            by_role: [403, 403, 404, 403, 403, 403],
            other_organisation: 403,
        },
        Case {
            method: "GET",
            path: "/api/v1/absences?from=2026-11-01&to=2026-11-30".into(),
            body: None,
            // The commissioner's organisation is another: it sees its own (none).
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/absence-totals?from=2026-11-01&to=2026-11-30".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "GET",
            path: "/api/v1/cover-requests".into(),
            body: None,
            by_role: [200, 200, 403, 403, 403, 403],
            other_organisation: 200,
        },
        Case {
            method: "POST",
            path: "/api/v1/absences".into(),
            body: Some(
                json!({"pa_id": "no-such-pa", "kind": "training", "starts_on": "2026-11-02"}),
            ),
            // Only managers reach the check of the PA named (not one of theirs here).
            by_role: [422, 422, 403, 403, 403, 403],
            other_organisation: 422,
        },
        Case {
            method: "GET",
            path: "/api/v1/payroll/exports".into(),
            body: None,
            by_role: [403, 403, 403, 403, 200, 403],
            other_organisation: 403,
        },
        Case {
            method: "GET",
            path: format!("/api/v1/organisations/{}/timesheet-policy", organisation.id),
            body: None,
            by_role: [200, 200, 403, 403, 403, 404],
            other_organisation: 404,
        },
        Case {
            method: "PUT",
            path: format!("/api/v1/organisations/{}/timesheet-policy", organisation.id),
            body: Some(json!({
                "pay_frequency": "weekly", "period_anchor": "2026-01-05", "approver": "team_manager",
                "radius_m": 800, "late_minutes": 10, "left_early_minutes": 10, "overrun_minutes": 15,
                "short_minutes": 15, "clock_out_grace_minutes": 60
            })),
            by_role: [200, 403, 403, 403, 403, 404],
            other_organisation: 404,
        },
    ];

    for case in &cases {
        let callers = users
            .iter()
            .zip(case.by_role)
            .chain(std::iter::once((&outsider, case.other_organisation)));
        for (caller, expected) in callers {
            let mut request = match case.method {
                "GET" => TestRequest::get(),
                "POST" => TestRequest::post(),
                "PATCH" => TestRequest::patch(),
                "PUT" => TestRequest::put(),
                other => panic!("unexpected method {other}"),
            }
            .uri(&case.path)
            .insert_header(("authorization", format!("Bearer {}", caller.token)));
            if let Some(body) = &case.body {
                request = request.set_json(body);
            }
            let response = app.send(request).await;
            assert_eq!(
                response.status.as_u16(),
                expected,
                "{} {} as {:?} of {}: {}",
                case.method,
                case.path,
                caller.role,
                if std::ptr::eq(caller, &outsider) {
                    "another organisation"
                } else {
                    "this organisation"
                },
                response.text
            );
        }
        let anonymous = match case.method {
            "GET" => TestRequest::get(),
            "POST" => TestRequest::post(),
            "PUT" => TestRequest::put(),
            _ => TestRequest::patch(),
        }
        .uri(&case.path);
        app.send(anonymous)
            .await
            .assert_problem(401, "unauthenticated");
    }
}

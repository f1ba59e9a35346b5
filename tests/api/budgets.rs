//! Budgets end to end: approval and allocation, the append-only ledger with idempotent posts
//! and reversals, statements that are sums of entries, alerts that fire once by e-mail, and who
//! may see which budget.

use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{total_balance as total, TestApp, TestOrganisation, TestUser};

struct Budgets {
    app: TestApp,
    organisation: TestOrganisation,
    manager: TestUser,
    holder_user: TestUser,
    holder: String,
    mail_dir: std::path::PathBuf,
}

impl Budgets {
    async fn new() -> Self {
        let mail_dir =
            std::env::temp_dir().join(format!("parota-mail-{}", uuid::Uuid::now_v7().simple()));
        let dir = mail_dir.clone();
        let app = TestApp::spawn_with(move |s| {
            s.mail_transport = parota::mail::MailTransport::File;
            s.mail_dir = dir.display().to_string();
        })
        .await;
        let organisation = app.provider();
        let manager = app.user(&organisation, Role::TeamManager);
        let holder_user = app.user(&organisation, Role::BudgetHolder);
        let response = app
            .post_json(
                "/api/v1/budget-holders",
                Some(&manager.token),
                &json!({
                    "display_name": "Ann Riley",
                    "user_id": holder_user.id,
                    "postcode": "BB11 2AB",
                    "funding": "integrated",
                    "minimum_level": 2
                }),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
        let holder = response.body["id"].as_str().unwrap().to_owned();
        Self {
            app,
            organisation,
            manager,
            holder_user,
            holder,
            mail_dir,
        }
    }

    /// £1,000.00 over April–June 2027, 60% health; April profiled at £300.00.
    async fn approved_budget(&self) -> String {
        let created = self
            .app
            .post_json(
                &format!("/api/v1/budget-holders/{}/budgets", self.holder),
                Some(&self.manager.token),
                &json!({
                    "name": "2027/28 Q1",
                    "amount_pence": 100_000,
                    "period_start": "2027-04-01",
                    "period_end": "2027-06-30",
                    "health_share_bp": 6000,
                    "profile": [
                        {"month": "2027-04", "amount_pence": 30_000},
                        {"month": "2027-05", "amount_pence": 40_000},
                        {"month": "2027-06", "amount_pence": 30_000}
                    ]
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.body["status"], "draft");
        let id = created.body["id"].as_str().unwrap().to_owned();
        let approved = self
            .app
            .post_json(
                &format!("/api/v1/budgets/{id}/approval"),
                Some(&self.manager.token),
                &json!({}),
            )
            .await;
        assert_eq!(approved.status, 200, "{}", approved.text);
        assert_eq!(approved.body["approved_by"], self.manager.id.as_str());
        id
    }

    async fn post(
        &self,
        budget: &str,
        key: Option<&str>,
        body: Value,
    ) -> crate::helpers::TestResponse {
        let mut request = actix_web::test::TestRequest::post()
            .uri(&format!("/api/v1/budgets/{budget}/entries"))
            .insert_header(("authorization", format!("Bearer {}", self.manager.token)))
            .set_json(body);
        if let Some(key) = key {
            request = request.insert_header(("Idempotency-Key", key));
        }
        self.app.send(request).await
    }

    async fn statement(&self, query: &str, token: &str) -> Value {
        let response = self
            .app
            .get(
                &format!(
                    "/api/v1/budget-holders/{}/budget/statement{query}",
                    self.holder
                ),
                Some(token),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body
    }
}

fn spend(amount: i64, date: &str) -> Value {
    json!({"kind": "actual", "amount_pence": amount, "stream": "health", "entry_date": date,
           "description": "Agency cover", "reason": "bought outside parota"})
}

#[actix_web::test]
async fn approval_allocates_by_stream_and_the_statement_is_the_sum_of_entries() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let entries = b
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/entries"),
            Some(&b.manager.token),
        )
        .await;
    let allocations: Vec<(String, i64)> = entries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["stream"].as_str().unwrap().to_owned(),
                e["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        allocations,
        [
            ("health".to_owned(), 60_000),
            ("social_care".to_owned(), 40_000)
        ]
    );

    assert_eq!(
        b.post(&budget, None, spend(12_000, "2027-04-10"))
            .await
            .status,
        201
    );
    let mut commitment = spend(5_000, "2027-05-03");
    commitment["kind"] = json!("commitment");
    commitment["stream"] = json!("social_care");
    assert_eq!(b.post(&budget, None, commitment).await.status, 201);

    let s = b.statement("?as_of=2027-04-30", &b.manager.token).await;
    let t = total(&s);
    assert_eq!(t["allocated_pence"], 100_000);
    assert_eq!(t["spent_pence"], 12_000);
    assert_eq!(t["committed_pence"], 5_000);
    assert_eq!(t["remaining_pence"], 83_000);
    assert_eq!(t["variance_pence"], 100_000 - 17_000);
    // £120 in the 30 days of April, over a 91-day period: £364 at that rate.
    assert_eq!(t["forecast_spend_pence"], 36_400);
    let months = s["months"].as_array().unwrap();
    assert_eq!(months[0]["month"], "2027-04");
    assert_eq!(months[0]["variance_pence"], 30_000 - 12_000);
    // April alone: the May commitment is outside the range, the remaining balance is not.
    let april = b
        .statement("?from=2027-04-01&to=2027-04-30", &b.manager.token)
        .await;
    assert_eq!(total(&april)["committed_pence"], 0);
    assert_eq!(total(&april)["profiled_pence"], 30_000);
    let health = april["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["stream"] == "health")
        .unwrap();
    assert_eq!(health["spent_pence"], 12_000);
    assert_eq!(health["allocated_pence"], 60_000);

    // A second approval is refused; a draft takes no entries.
    b.app
        .post_json(
            &format!("/api/v1/budgets/{budget}/approval"),
            Some(&b.manager.token),
            &json!({}),
        )
        .await
        .assert_problem(409, "already_approved");
}

#[actix_web::test]
async fn retries_are_idempotent_and_corrections_are_new_entries() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let first = b
        .post(&budget, Some("app-7f3a"), spend(2_500, "2027-04-02"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let replay = b
        .post(&budget, Some("app-7f3a"), spend(2_500, "2027-04-02"))
        .await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body["id"], first.body["id"]);
    b.post(&budget, Some("app-7f3a"), spend(9_999, "2027-04-02"))
        .await
        .assert_problem(409, "idempotency_key_reused");

    let entry = first.body["id"].as_str().unwrap();
    let reversal = b
        .app
        .post_json(
            &format!("/api/v1/budgets/{budget}/entries/{entry}/reversal"),
            Some(&b.manager.token),
            &json!({"reason": "entered against the wrong person"}),
        )
        .await;
    assert_eq!(reversal.status, 201, "{}", reversal.text);
    assert_eq!(reversal.body["amount_pence"], -2_500);
    assert_eq!(reversal.body["reverses_entry_id"], entry);
    b.app
        .post_json(
            &format!("/api/v1/budgets/{budget}/entries/{entry}/reversal"),
            Some(&b.manager.token),
            &json!({"reason": "again"}),
        )
        .await
        .assert_problem(409, "already_reversed");
    // The original is still there, unchanged: four entries (two allocations, the spend, its reversal).
    let entries = b
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/entries"),
            Some(&b.manager.token),
        )
        .await;
    let items = entries.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        items
            .iter()
            .map(|e| e["sequence"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(items[2]["amount_pence"], 2_500);
    assert_eq!(
        total(&b.statement("", &b.manager.token).await)["spent_pence"],
        0
    );
}

#[actix_web::test]
async fn bad_entries_name_their_field_and_write_nothing() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let mut no_stream = spend(100, "2027-04-02");
    no_stream.as_object_mut().unwrap().remove("stream");
    let problem = b.post(&budget, None, no_stream).await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "stream"
    );
    let problem = b.post(&budget, None, spend(100, "2027-07-01")).await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "entry_date"
    );
    let mut allocation = spend(100, "2027-04-02");
    allocation["kind"] = json!("allocation");
    let problem = b.post(&budget, None, allocation).await;
    assert_eq!(
        problem.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "kind"
    );
    let entries = b
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/entries"),
            Some(&b.manager.token),
        )
        .await;
    assert_eq!(entries.body["items"].as_array().unwrap().len(), 2);

    let profile = b
        .app
        .post_json(
            &format!("/api/v1/budget-holders/{}/budgets", b.holder),
            Some(&b.manager.token),
            &json!({"name": "x", "amount_pence": 1000, "period_start": "2027-04-01", "period_end": "2027-05-31",
                    "health_share_bp": 10000, "profile": [{"month": "2027-04", "amount_pence": 999}]}),
        )
        .await;
    assert_eq!(
        profile.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "profile"
    );
}

#[actix_web::test]
async fn a_threshold_alert_fires_once_and_is_mailed_once_to_manager_and_person() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    // April is profiled at £300: £239.99 is under 80%, one more penny reaches it.
    b.post(&budget, None, spend(23_999, "2027-04-05")).await;
    assert!(b.statement("", &b.manager.token).await["alerts"]
        .as_array()
        .unwrap()
        .is_empty());
    b.post(&budget, None, spend(1, "2027-04-06")).await;
    b.post(&budget, None, spend(100, "2027-04-07")).await;
    let alerts = b.statement("", &b.manager.token).await["alerts"].clone();
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["scope"], "month:2027-04");
    assert_eq!(alerts[0]["threshold_percent"], 80);

    let mut conn = b.app.conn();
    let outbox = parota::mail::list(&mut conn, &b.organisation.id).unwrap();
    let mut recipients: Vec<&str> = outbox.iter().map(|e| e.recipient.as_str()).collect();
    recipients.sort_unstable();
    let mut expected = vec![b.manager.login.as_str(), b.holder_user.login.as_str()];
    expected.sort_unstable();
    assert_eq!(recipients, expected);
    assert!(outbox[0].subject.contains("80%"));

    let mailer = parota::mail::mailer(&b.app.state.settings).unwrap();
    let now = chrono::Utc::now();
    assert_eq!(
        parota::mail::deliver_due(&mut conn, mailer.as_ref(), "w1", now).unwrap(),
        (2, 0)
    );
    // A second worker, or a second pass, finds nothing to send.
    assert_eq!(
        parota::mail::deliver_due(&mut conn, mailer.as_ref(), "w2", now).unwrap(),
        (0, 0)
    );
    let files: Vec<_> = std::fs::read_dir(&b.mail_dir).unwrap().collect();
    assert_eq!(files.len(), 2);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("Subject: Budget alert: 80%"), "{text}");
    assert!(text.contains("Message-ID: <"), "{text}");
    let _ = std::fs::remove_dir_all(&b.mail_dir);
}

#[actix_web::test]
async fn concurrent_writers_leave_exact_sums_gapless_sequences_and_one_alert() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let actor = parota::auth::AuthUser {
        user_id: b.manager.id.clone(),
        organisation_id: b.organisation.id.clone(),
        role: Role::TeamManager,
        area_code: b.organisation.area_code.clone(),
        request_id: None,
        session_id: None,
    };
    // 4 writers × 10 entries of £10.00 in April: £400 against a £300 profile crosses 80% and
    // 100% once each, whoever gets there.
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let pool = b.app.pool().clone();
            let actor = actor.clone();
            let budget = budget.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                for n in 0..10 {
                    let request: parota::budgets::dto::PostEntry =
                        serde_json::from_value(spend(1_000, "2027-04-15")).unwrap();
                    parota::budgets::service::post_manual_entry(
                        &mut conn,
                        &actor,
                        &budget,
                        request,
                        Some(format!("writer-{w}-{n}")),
                        chrono::Utc::now(),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let s = b.statement("", &b.manager.token).await;
    assert_eq!(total(&s)["spent_pence"], 40_000);
    assert_eq!(s["ledger_sequence"], 42);
    let mut sequences = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = b
            .app
            .get(
                &format!("/api/v1/budgets/{budget}/entries?limit=10{cursor}"),
                Some(&b.manager.token),
            )
            .await;
        sequences.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["sequence"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(sequences, (1..=42).collect::<Vec<i64>>());
    let alerts: Vec<(String, i64)> = s["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["scope"].as_str().unwrap().to_owned(),
                a["threshold_percent"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(alerts.contains(&("month:2027-04".to_owned(), 80)));
    assert!(alerts.contains(&("month:2027-04".to_owned(), 100)));
}

#[actix_web::test]
async fn each_budget_is_seen_only_by_its_people_and_its_area() {
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let statement = format!("/api/v1/budget-holders/{}/budget/statement", b.holder);
    let other_manager = b.app.user(&b.organisation, Role::TeamManager);
    let other_person = b.app.user(&b.organisation, Role::BudgetHolder);
    let pa = b.app.user(&b.organisation, Role::Pa);
    let area = b
        .app
        .organisation("Lancashire ICB", &b.organisation.area_code, "commissioner");
    let commissioner = b.app.user(&area, Role::Commissioner);
    let elsewhere = b.app.organisation("Another ICB", "QXX", "commissioner");
    let far_commissioner = b.app.user(&elsewhere, Role::Commissioner);

    for (who, status) in [
        (&b.holder_user, 200),
        (&commissioner, 200),
        (&other_manager, 403),
        (&other_person, 403),
        (&pa, 403),
        (&far_commissioner, 404),
    ] {
        let response = b.app.get(&statement, Some(&who.token)).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{:?}: {}",
            who.role,
            response.text
        );
    }
    // Reading is not writing: the person and the commissioner cannot post.
    for who in [&b.holder_user, &commissioner] {
        let response = b
            .app
            .send(
                actix_web::test::TestRequest::post()
                    .uri(&format!("/api/v1/budgets/{budget}/entries"))
                    .insert_header(("authorization", format!("Bearer {}", who.token)))
                    .set_json(spend(100, "2027-04-02")),
            )
            .await;
        response.assert_problem(403, "forbidden");
    }
    b.app
        .post_json(&format!("/api/v1/budget-holders/{}/budgets", b.holder), Some(&other_manager.token), &json!({
            "name": "x", "amount_pence": 1000, "period_start": "2027-04-01", "period_end": "2027-04-30", "health_share_bp": 0
        }))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn the_database_refuses_to_change_or_delete_a_ledger_entry() {
    use diesel::connection::SimpleConnection;
    let b = Budgets::new().await;
    let budget = b.approved_budget().await;
    let mut conn = b.app.conn();
    assert!(conn
        .batch_execute("UPDATE ledger_entries SET amount_pence = 1")
        .is_err());
    assert!(conn.batch_execute("DELETE FROM ledger_entries").is_err());
    let entries = b
        .app
        .get(
            &format!("/api/v1/budgets/{budget}/entries"),
            Some(&b.manager.token),
        )
        .await;
    let amounts: Vec<i64> = entries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount_pence"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [60_000, 40_000]);
}

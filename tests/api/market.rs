//! The marketplace end to end: profiles through the API, matching by its hard rules and score,
//! and who may see which profile.

use parota::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestOrganisation, TestUser};

struct Market {
    app: TestApp,
    organisation: TestOrganisation,
    admin: TestUser,
    manager: TestUser,
    /// Ann: level 3, needs personal care and tracheostomy care, Mondays 08:00–12:00, in BB11.
    ann: String,
    /// Bob: another person of the same manager.
    bob: String,
}

fn competency_id(list: &Value, code: &str) -> String {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no competency {code}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl Market {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let organisation = app.provider();
        let admin = app.user(&organisation, Role::Admin);
        let manager = app.user(&organisation, Role::TeamManager);
        let mut market = Self {
            app,
            organisation,
            admin,
            manager,
            ann: String::new(),
            bob: String::new(),
        };
        market.ann = market.person("Ann Riley", "BB11 2AB").await;
        market.bob = market.person("Bob Entwistle", "BB10 1AA").await;
        market
    }

    async fn competency(&self, code: &str) -> String {
        let list = self
            .app
            .get("/api/v1/competencies?limit=100", Some(&self.manager.token))
            .await;
        competency_id(&list.body, code)
    }

    async fn person(&self, name: &str, postcode: &str) -> String {
        let body = json!({
            "display_name": name,
            "postcode": postcode,
            "funding": "chc",
            "minimum_level": 3,
            "required_competencies": [self.competency("personal_care").await, self.competency("tracheostomy_care").await],
            "support_needs": [{"day": "monday", "start": "08:00", "end": "12:00"}],
            "preferences": {"languages": ["Urdu"]}
        });
        let response = self
            .app
            .post_json("/api/v1/budget-holders", Some(&self.manager.token), &body)
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.body["id"].as_str().unwrap().to_owned()
    }

    /// A PA who passes every rule for Ann: checks entered by the manager, evidence, sign-off.
    async fn qualified_pa(&self, name: &str, postcode: &str, travel_km: f64) -> String {
        let body = json!({
            "display_name": name,
            "postcode": postcode,
            "max_travel_km": travel_km,
            "languages": ["English", "Urdu"],
            "availability": [{"day": "monday", "start": "07:00", "end": "13:00"}],
            "wanted_hours_per_week": 20,
            "min_hourly_pay_pence": 1350,
            "dbs": {"issued_on": "2025-06-01", "update_service": true},
            "right_to_work": {"checked_on": "2025-06-01"}
        });
        let created = self
            .app
            .post_json("/api/v1/pas", Some(&self.manager.token), &body)
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        for code in ["personal_care", "tracheostomy_care"] {
            self.evidence(&id, code, "2025-01-10", Some("2099-01-10"))
                .await;
        }
        self.signoff(&id, "tracheostomy_care", &self.ann).await;
        id
    }

    async fn evidence(
        &self,
        pa: &str,
        code: &str,
        trained_on: &str,
        expires_on: Option<&str>,
    ) -> Value {
        let body = json!({"competency_id": self.competency(code).await, "trained_on": trained_on, "expires_on": expires_on});
        let response = self
            .app
            .post_json(
                &format!("/api/v1/pas/{pa}/competencies"),
                Some(&self.manager.token),
                &body,
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.body
    }

    async fn signoff(&self, pa: &str, code: &str, person: &str) {
        let body = json!({
            "competency_id": self.competency(code).await,
            "budget_holder_id": person,
            "clinician_name": "Jo Clegg",
            "clinician_role": "Community respiratory nurse",
            "signed_off_on": "2025-02-01"
        });
        let response = self
            .app
            .post_json(
                &format!("/api/v1/pas/{pa}/signoffs"),
                Some(&self.manager.token),
                &body,
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
    }

    async fn match_ids(&self, person: &str) -> Vec<String> {
        let response = self
            .app
            .get(
                &format!("/api/v1/budget-holders/{person}/matches"),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["pa_id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn explain(&self, person: &str, pa: &str) -> Value {
        let response = self
            .app
            .get(
                &format!("/api/v1/budget-holders/{person}/matches/{pa}"),
                Some(&self.manager.token),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body
    }
}

/// Links a PA login to a profile a manager created (the API links them only at creation).
fn link_login(app: &TestApp, pa: &str, user_id: &str) {
    use diesel::prelude::*;
    use parota::db::schema::pa_profiles;
    diesel::update(pa_profiles::table.find(pa))
        .set(pa_profiles::user_id.eq(user_id))
        .execute(&mut app.conn())
        .unwrap();
}

fn failed_rules(assessment: &Value) -> Vec<String> {
    assessment["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| {
            r["rule"]
                .as_str()
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn a_qualified_pa_nearby_is_matched_with_a_readable_breakdown() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    let response = market
        .app
        .get(
            &format!("/api/v1/budget-holders/{}/matches", market.ann),
            Some(&market.manager.token),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let first = &response.body["items"][0];
    assert_eq!(first["pa_id"], pa);
    assert_eq!(first["eligible"], true);
    assert!(first["summary"]
        .as_str()
        .unwrap()
        .starts_with("Aisha Patel scores"));
    let factors: Vec<&str> = first["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["factor"].as_str().unwrap())
        .collect();
    assert_eq!(
        factors,
        [
            "distance",
            "availability",
            "preferences",
            "continuity",
            "capacity",
            "pay"
        ]
    );
    let availability = first["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "availability")
        .unwrap();
    assert_eq!(
        availability["explanation"],
        "available for 4 of the 4 hours a week needed"
    );
    let level4 = market
        .app
        .get(
            &format!("/api/v1/budget-holders/{}/matches?min_level=4", market.ann),
            Some(&market.manager.token),
        )
        .await;
    assert_eq!(
        level4.body["items"][0]["pa_id"], pa,
        "signed off for Ann's tracheostomy: level 4 for her"
    );
    let bad = market
        .app
        .get(
            &format!("/api/v1/budget-holders/{}/matches?min_level=5", market.ann),
            Some(&market.manager.token),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"][0]["field"], "min_level");
    let preferences = first["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["factor"] == "preferences")
        .unwrap();
    assert_eq!(
        preferences["explanation"],
        "meets every preference: speaks Urdu"
    );
}

#[actix_web::test]
async fn a_sign_off_for_another_person_does_not_carry_over() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    // Signed off for Ann's tracheostomy, not Bob's.
    assert!(!market.match_ids(&market.bob).await.contains(&pa));
    let why = market.explain(&market.bob, &pa).await;
    assert_eq!(failed_rules(&why), ["competency", "level"]);
    assert!(why["summary"]
        .as_str()
        .unwrap()
        .contains("no clinician has signed it off for this person"));
    market.signoff(&pa, "tracheostomy_care", &market.bob).await;
    assert!(market.match_ids(&market.bob).await.contains(&pa));
}

#[actix_web::test]
async fn an_expired_competency_is_not_held() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    let profile = market
        .app
        .get(&format!("/api/v1/pas/{pa}"), Some(&market.manager.token))
        .await;
    let personal_care = profile.body["competencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "personal_care")
        .unwrap()
        .clone();
    let revoked = market
        .app
        .patch_json(
            &format!(
                "/api/v1/pas/{pa}/competencies/{}",
                personal_care["id"].as_str().unwrap()
            ),
            Some(&market.manager.token),
            &json!({"revoked": true}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    market
        .evidence(&pa, "personal_care", "2020-01-01", Some("2021-01-01"))
        .await;
    assert!(market.match_ids(&market.ann).await.is_empty());
    let why = market.explain(&market.ann, &pa).await;
    assert_eq!(failed_rules(&why), ["competency"]);
    let rule = why["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["passed"] == false)
        .unwrap();
    assert_eq!(
        rule["explanation"],
        "Personal care: the evidence is expired"
    );
}

#[actix_web::test]
async fn a_dbs_check_too_old_or_unverified_excludes_the_pa() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    let path = format!("/api/v1/pas/{pa}");
    let old = market
        .app
        .patch_json(
            &path,
            Some(&market.manager.token),
            &json!({"dbs": {"issued_on": "2021-01-05", "update_service": false}}),
        )
        .await;
    assert_eq!(old.status, 200, "{}", old.text);
    assert_eq!(old.body["dbs"]["current"], false);
    assert!(market.match_ids(&market.ann).await.is_empty());
    assert_eq!(
        failed_rules(&market.explain(&market.ann, &pa).await),
        ["dbs"]
    );
}

#[actix_web::test]
async fn a_pa_one_kilometre_beyond_their_radius_is_not_matched() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB4", 5.0).await;
    let why = market.explain(&market.ann, &pa).await;
    let distance = why["distance_km"].as_f64().unwrap();
    market
        .app
        .patch_json(
            &format!("/api/v1/pas/{pa}"),
            Some(&market.manager.token),
            &json!({"max_travel_km": distance - 1.0}),
        )
        .await;
    assert!(market.match_ids(&market.ann).await.is_empty());
    assert_eq!(
        failed_rules(&market.explain(&market.ann, &pa).await),
        ["distance"]
    );
    market
        .app
        .patch_json(
            &format!("/api/v1/pas/{pa}"),
            Some(&market.manager.token),
            &json!({"max_travel_km": distance + 1.0}),
        )
        .await;
    assert_eq!(market.match_ids(&market.ann).await, [pa]);
}

#[actix_web::test]
async fn a_do_not_match_pair_is_never_matched_nor_put_in_the_team() {
    let market = Market::new().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    let team = format!("/api/v1/budget-holders/{}/team", market.ann);
    let added = market
        .app
        .post_json(&team, Some(&market.manager.token), &json!({"pa_id": pa}))
        .await;
    assert_eq!(added.body["team"][0]["pa_id"], pa);
    let barred = market
        .app
        .post_json(
            &format!("/api/v1/budget-holders/{}/do-not-match", market.ann),
            Some(&market.manager.token),
            &json!({"pa_id": pa, "reason": "Ann asked not to work with this PA again"}),
        )
        .await;
    assert_eq!(barred.status, 200, "{}", barred.text);
    assert_eq!(
        barred.body["team"],
        json!([]),
        "leaving the team goes with it"
    );
    assert!(market.match_ids(&market.ann).await.is_empty());
    assert_eq!(
        failed_rules(&market.explain(&market.ann, &pa).await),
        ["do_not_match"]
    );
    market
        .app
        .post_json(&team, Some(&market.manager.token), &json!({"pa_id": pa}))
        .await
        .assert_problem(409, "do_not_match");
}

#[actix_web::test]
async fn continuity_and_closeness_order_the_matches() {
    let market = Market::new().await;
    let near = market.qualified_pa("Near PA", "BB11 2", 20.0).await;
    let far = market.qualified_pa("Far PA", "BB9", 20.0).await;
    let far_in_team = market.qualified_pa("Team PA", "BB9", 20.0).await;
    market
        .app
        .post_json(
            &format!("/api/v1/budget-holders/{}/team", market.ann),
            Some(&market.manager.token),
            &json!({"pa_id": far_in_team}),
        )
        .await;
    let order = market.match_ids(&market.ann).await;
    assert_eq!(order, [far_in_team.clone(), near.clone(), far.clone()]);
    let page = market
        .app
        .get(
            &format!("/api/v1/budget-holders/{}/matches?limit=2", market.ann),
            Some(&market.manager.token),
        )
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let next = market
        .app
        .get(
            &format!(
                "/api/v1/budget-holders/{}/matches?limit=2&cursor={}",
                market.ann,
                page.body["next_cursor"].as_str().unwrap()
            ),
            Some(&market.manager.token),
        )
        .await;
    assert_eq!(next.body["items"][0]["pa_id"], far);
    let close = market
        .app
        .get(
            &format!(
                "/api/v1/budget-holders/{}/matches?max_distance_km=3",
                market.ann
            ),
            Some(&market.manager.token),
        )
        .await;
    assert_eq!(close.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn postcodes_are_validated_and_never_guessed() {
    let market = Market::new().await;
    let body = |postcode: &str| json!({"display_name": "X", "postcode": postcode, "max_travel_km": 10, "wanted_hours_per_week": 10, "min_hourly_pay_pence": 1300});
    let malformed = market
        .app
        .post_json(
            "/api/v1/pas",
            Some(&market.manager.token),
            &body("BB11 XYZ"),
        )
        .await;
    malformed.assert_problem(422, "validation_failed");
    assert_eq!(malformed.body["errors"][0]["field"], "postcode");
    assert_eq!(malformed.body["errors"][0]["code"], "malformed_postcode");
    let unknown = market
        .app
        .post_json("/api/v1/pas", Some(&market.manager.token), &body("ZZ9 9ZZ"))
        .await;
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_postcode");
    let district = market
        .app
        .post_json("/api/v1/pas", Some(&market.manager.token), &body("ol13"))
        .await;
    assert_eq!(district.status, 201, "{}", district.text);
    assert_eq!(district.body["postcode"], "OL13");
    assert_eq!(district.body["district"], "OL13");
}

#[actix_web::test]
async fn a_pa_sees_their_own_profile_and_no_one_elses() {
    let market = Market::new().await;
    let app = &market.app;
    let pa_user = app.user(&market.organisation, Role::Pa);
    let body = json!({
        "user_id": pa_user.id, "display_name": "Aisha", "postcode": "BB11 3AA", "max_travel_km": 10,
        "wanted_hours_per_week": 20, "min_hourly_pay_pence": 1300
    });
    let own = app
        .post_json("/api/v1/pas", Some(&market.manager.token), &body)
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    let other = market.qualified_pa("Ben", "BB11 3AA", 10.0).await;

    let me = app.get("/api/v1/pas/me", Some(&pa_user.token)).await;
    assert_eq!(me.body["id"], own.body["id"]);
    app.get(&format!("/api/v1/pas/{other}"), Some(&pa_user.token))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/pas", Some(&pa_user.token))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/budget-holders/{}", market.ann),
        Some(&pa_user.token),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/budget-holders/{}/matches", market.ann),
        Some(&pa_user.token),
    )
    .await
    .assert_problem(403, "forbidden");
    // A PA edits their own details but cannot verify their own checks.
    let edited = app
        .patch_json(
            "/api/v1/pas/me",
            Some(&pa_user.token),
            &json!({"phone": "01282 000000"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    app.patch_json(
        "/api/v1/pas/me",
        Some(&pa_user.token),
        &json!({"dbs_verified": true}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn new_check_details_from_a_pa_wait_for_a_manager() {
    let market = Market::new().await;
    let app = &market.app;
    let pa_user = app.user(&market.organisation, Role::Pa);
    let pa = market.qualified_pa("Aisha", "BB11 3AA", 15.0).await;
    // Link the login to the profile through the database (the manager created it unlinked).
    link_login(app, &pa, &pa_user.id);
    let uploaded = app
        .patch_json(
            "/api/v1/pas/me",
            Some(&pa_user.token),
            &json!({"dbs": {"issued_on": "2026-10-01", "update_service": false}}),
        )
        .await;
    assert_eq!(uploaded.body["dbs"]["verified"], false);
    assert!(market.match_ids(&market.ann).await.is_empty());
    let verified = app
        .patch_json(
            &format!("/api/v1/pas/{pa}"),
            Some(&market.manager.token),
            &json!({"dbs_verified": true}),
        )
        .await;
    assert_eq!(verified.body["dbs"]["current"], true, "{}", verified.text);
    assert_eq!(
        market.match_ids(&market.ann).await,
        std::slice::from_ref(&pa)
    );
    // The PA's own evidence is unverified until a manager checks it.
    let own = app
        .post_json(
            &format!("/api/v1/pas/{pa}/competencies"),
            Some(&pa_user.token),
            &json!({"competency_id": market.competency("catheter_care").await, "trained_on": "2026-01-01"}),
        )
        .await;
    // The answer is the new evidence itself, with its id.
    assert_eq!(own.status, 201, "{}", own.text);
    let catheter = own.body.clone();
    assert_eq!(catheter["code"], "catheter_care");
    assert!(catheter["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(catheter["status"], "unverified");
}

#[actix_web::test]
async fn a_team_manager_runs_only_their_own_people() {
    let market = Market::new().await;
    let app = &market.app;
    let other_manager = app.user(&market.organisation, Role::TeamManager);
    let ann = format!("/api/v1/budget-holders/{}", market.ann);
    app.get(&ann, Some(&other_manager.token))
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("{ann}/matches"), Some(&other_manager.token))
        .await
        .assert_problem(403, "forbidden");
    let theirs = app
        .get("/api/v1/budget-holders", Some(&other_manager.token))
        .await;
    assert_eq!(theirs.body["items"], json!([]));
    let mine = app
        .get("/api/v1/budget-holders", Some(&market.manager.token))
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
    let everyone = app
        .get("/api/v1/budget-holders", Some(&market.admin.token))
        .await;
    assert_eq!(everyone.body["items"].as_array().unwrap().len(), 2);

    let elsewhere = app.organisation("Another Provider", "QE1", "provider");
    let outsider = app.user(&elsewhere, Role::Admin);
    app.get(&ann, Some(&outsider.token))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{ann}/matches"), Some(&outsider.token))
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_budget_holder_reads_their_record_and_changes_only_their_preferences() {
    let market = Market::new().await;
    let app = &market.app;
    let person = app.user(&market.organisation, Role::BudgetHolder);
    let body = json!({
        "display_name": "Catherine Greenwood", "user_id": person.id, "postcode": "BB18 5AA",
        "funding": "phb", "minimum_level": 2
    });
    let created = app
        .post_json("/api/v1/budget-holders", Some(&market.manager.token), &body)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let path = format!(
        "/api/v1/budget-holders/{}",
        created.body["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&path, Some(&person.token)).await.status, 200);
    let preferences = app
        .patch_json(
            &path,
            Some(&person.token),
            &json!({"preferences": {"pa_gender": "female", "pets_in_home": true}}),
        )
        .await;
    assert_eq!(preferences.status, 200, "{}", preferences.text);
    assert_eq!(preferences.body["preferences"]["pa_gender"], "female");
    app.patch_json(&path, Some(&person.token), &json!({"minimum_level": 1}))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/budget-holders/{}", market.ann),
        Some(&person.token),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(&format!("{path}/matches"), Some(&person.token))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_pa_sees_opportunities_without_names_or_addresses() {
    let market = Market::new().await;
    let app = &market.app;
    let pa_user = app.user(&market.organisation, Role::Pa);
    let pa = market.qualified_pa("Aisha", "BB11 3AA", 15.0).await;
    link_login(app, &pa, &pa_user.id);
    let response = app
        .get("/api/v1/pas/me/opportunities", Some(&pa_user.token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let people = response.body["people"].as_array().unwrap();
    assert_eq!(
        people.len(),
        1,
        "signed off for Ann only: {}",
        response.text
    );
    assert_eq!(people[0]["budget_holder_id"], market.ann);
    assert_eq!(people[0]["district"], "BB11");
    assert!(!response.text.contains("Ann Riley"));
    assert!(!response.text.contains("BB11 2AB"));
    app.get("/api/v1/pas/me/opportunities", Some(&market.manager.token))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn capacity_shows_the_gap_by_district_and_level() {
    let market = Market::new().await;
    let app = &market.app;
    market.qualified_pa("Aisha", "BB11 3AA", 15.0).await;
    let response = app
        .get("/api/v1/market/capacity", Some(&market.admin.token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let rows = response.body["rows"].as_array().unwrap();
    let bb11_level4 = rows
        .iter()
        .find(|r| r["district"] == "BB11" && r["level"] == 4)
        .unwrap();
    assert_eq!(bb11_level4["pas"], 1);
    assert_eq!(bb11_level4["available_hours_per_week"], 20.0);
    let bb11_level3 = rows
        .iter()
        .find(|r| r["district"] == "BB11" && r["level"] == 3)
        .unwrap();
    assert_eq!(bb11_level3["needed_hours_per_week"], 4.0);
    assert_eq!(bb11_level3["gap_hours_per_week"], 4.0);

    let icb = app.organisation("Lancashire and South Cumbria ICB", "QE1", "commissioner");
    let commissioner = app.user(&icb, Role::Commissioner);
    let overseen = app
        .get("/api/v1/market/capacity", Some(&commissioner.token))
        .await;
    assert_eq!(overseen.status, 200, "{}", overseen.text);
    assert!(overseen.body["organisations"]
        .as_array()
        .unwrap()
        .contains(&json!(market.organisation.id)));
    let elsewhere = app.organisation("Elsewhere ICB", "QOP", "commissioner");
    let stranger = app.user(&elsewhere, Role::Commissioner);
    app.get(
        &format!(
            "/api/v1/market/capacity?organisation_id={}",
            market.organisation.id
        ),
        Some(&stranger.token),
    )
    .await
    .assert_problem(404, "not_found");
    app.get("/api/v1/market/capacity", Some(&market.manager.token))
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn the_competency_framework_is_seeded_and_only_admins_extend_it() {
    let market = Market::new().await;
    let app = &market.app;
    let levels = app
        .get("/api/v1/competencies/levels", Some(&market.manager.token))
        .await;
    let names: Vec<&str> = levels
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Companionship and domestic support",
            "Personal care",
            "Delegated healthcare tasks",
            "Complex clinical support"
        ]
    );
    let level4 = app
        .get("/api/v1/competencies?level=4", Some(&market.manager.token))
        .await;
    assert!(level4.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["level"] == 4 && c["needs_clinical_signoff"] == true));
    let body = json!({"code": "cough_assist", "name": "Cough assist device", "level": 4});
    app.post_json("/api/v1/competencies", Some(&market.manager.token), &body)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.post_json("/api/v1/competencies", Some(&market.admin.token), &body)
            .await
            .status,
        201
    );
    app.post_json("/api/v1/competencies", Some(&market.admin.token), &body)
        .await
        .assert_problem(409, "code_taken");
    let bad = app
        .post_json(
            "/api/v1/competencies",
            Some(&market.admin.token),
            &json!({"code": "Bad Code", "name": "x", "level": 5}),
        )
        .await;
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "level"]);
}

#[actix_web::test]
async fn an_instance_sees_changes_made_through_another() {
    let market = Market::new().await;
    let other = market.app.second_instance().await;
    let pa = market.qualified_pa("Aisha Patel", "BB11 3AA", 15.0).await;
    let ids = |response: crate::helpers::TestResponse| -> Vec<String> {
        response.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["pa_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/api/v1/budget-holders/{}/matches", market.ann);
    assert_eq!(
        ids(other.get(&path, Some(&market.manager.token)).await),
        std::slice::from_ref(&pa)
    );
    // Deactivated through the first instance: the second stops offering the PA at once.
    let response = market
        .app
        .patch_json(
            &format!("/api/v1/pas/{pa}"),
            Some(&market.manager.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(ids(other.get(&path, Some(&market.manager.token)).await).is_empty());
}

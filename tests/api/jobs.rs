//! The background job queue: claimed by lease, never run twice at once.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use parota::jobs::{self, NewJob};

use crate::helpers::TestApp;

fn job(kind: &str, dedupe_key: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: serde_json::json!({"n": 1}),
        run_at: Utc::now() - Duration::seconds(1),
        dedupe_key: dedupe_key.map(Into::into),
        max_attempts: 3,
    }
}

#[actix_web::test]
async fn two_workers_racing_for_one_job_claim_it_once() {
    let app = TestApp::spawn().await;
    jobs::enqueue(&mut app.conn(), job("test", None), Utc::now()).unwrap();
    let claims: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|n| {
                let pool = app.pool().clone();
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    jobs::claim(
                        &mut conn,
                        &format!("worker-{n}"),
                        Utc::now(),
                        Duration::minutes(5),
                    )
                    .unwrap()
                    .is_some()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
}

#[actix_web::test]
async fn a_lapsed_lease_passes_the_job_on_and_the_old_holder_cannot_finish_it() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let id = jobs::enqueue(&mut conn, job("test", None), Utc::now())
        .unwrap()
        .unwrap();
    let now = Utc::now();
    let first = jobs::claim(&mut conn, "a", now, Duration::seconds(30))
        .unwrap()
        .unwrap();
    assert_eq!(first.id, id);
    assert!(jobs::claim(
        &mut conn,
        "b",
        now + Duration::seconds(10),
        Duration::seconds(30)
    )
    .unwrap()
    .is_none());
    let second = jobs::claim(
        &mut conn,
        "b",
        now + Duration::seconds(31),
        Duration::seconds(30),
    )
    .unwrap()
    .unwrap();
    assert_eq!(second.attempts, 2);
    assert!(
        !jobs::complete(&mut conn, &id, "a", Utc::now()).unwrap(),
        "a lost its lease"
    );
    assert!(jobs::complete(&mut conn, &id, "b", Utc::now()).unwrap());
    assert!(jobs::claim(
        &mut conn,
        "c",
        now + Duration::hours(1),
        Duration::seconds(30)
    )
    .unwrap()
    .is_none());
}

#[actix_web::test]
async fn a_dedupe_key_lets_one_job_through() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    assert!(jobs::enqueue(&mut conn, job("test", Some("k")), Utc::now())
        .unwrap()
        .is_some());
    assert!(jobs::enqueue(&mut conn, job("test", Some("k")), Utc::now())
        .unwrap()
        .is_none());
    let count: i64 = parota::db::schema::jobs::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(count, 1);
}

#[actix_web::test]
async fn the_maintenance_job_purges_expired_sessions() {
    use parota::auth::repo::{insert_refresh_token, RefreshToken};
    use parota::auth::Role;
    let app = TestApp::spawn().await;
    let pa = app.user(&app.provider(), Role::Pa);
    let mut conn = app.conn();
    let long_ago = (Utc::now() - Duration::days(40)).naive_utc();
    insert_refresh_token(
        &mut conn,
        &RefreshToken {
            id: parota::ids::new_id(),
            family_id: parota::ids::new_id(),
            user_id: pa.id.clone(),
            token_hash: "expired".into(),
            issued_at: long_ago,
            expires_at: long_ago + Duration::days(30),
            used_at: None,
            revoked_at: None,
        },
    )
    .unwrap();
    app.login(&pa.login, crate::helpers::PASSWORD).await;
    parota::worker::schedule_maintenance(&mut conn, Utc::now()).unwrap();
    parota::worker::schedule_maintenance(&mut conn, Utc::now()).unwrap();
    let ran = parota::worker::run_due_jobs(
        &mut conn,
        "w",
        &parota::worker::JobContext {
            settings: &app.state.settings,
            match_index: &app.services.match_index,
        },
    )
    .unwrap();
    // The purge, the clock-out reminders and the safety look ahead: each scheduled twice, each
    // run once.
    assert_eq!(ran, 3, "scheduled twice, run once");
    let left: Vec<String> = parota::db::schema::refresh_tokens::table
        .select(parota::db::schema::refresh_tokens::token_hash)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left.len(), 1, "the live session stays");
    assert_ne!(left[0], "expired");
}

//! Cover benchmark: a morning when 5% of an organisation's 4,000 PAs report sick for the shifts
//! of 890 people. Each person has one published shift tomorrow worked by a PA of their team;
//! 200 of those PAs report sickness through the same service call the app's endpoint makes, two
//! at a time back to back (harsher than spread over ten minutes). Prints the time from each
//! report to its commit, by which its shift is open and its first offers are in the outbox (the
//! first round runs inside the report's transaction), as p50, p95 and p99; then checks every PA
//! offered a shift from scratch, through the PA's own open-shift list (the safety gate judging
//! them on that shift beside everything else they work).
//!
//!     bench_cover DATABASE_URL

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveTime, Utc};
use diesel::prelude::*;
use parota::absence::dto::ReportAbsence;
use parota::absence::model::AbsenceKind;
use parota::accounts::model::{Organisation, User};
use parota::app::Services;
use parota::auth::{AuthUser, Role};
use parota::config::Settings;
use parota::db::schema::{cover_offers, cover_requests, pa_profiles};
use parota::demo::market::{generate, MarketShape};
use parota::rostering::repo::{RosterAssignmentRow, RosterRow, RosterShiftRow};

const PAS: usize = 4000;
const PEOPLE: usize = 890;
const REPORTS: usize = 200;

fn percentile(sorted: &[StdDuration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn login(conn: &mut parota::db::DbConnection, organisation_id: &str, pa_id: &str) -> AuthUser {
    let now = Utc::now().naive_utc();
    let user = User {
        id: parota::ids::new_id(),
        organisation_id: organisation_id.to_owned(),
        role: Role::Pa.as_str().into(),
        email: Some(format!("{pa_id}@bench.test")),
        client_id: None,
        display_name: "Bench PA".into(),
        secret_hash: "unused".into(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    parota::accounts::repo::insert_user(conn, &user).unwrap();
    diesel::update(pa_profiles::table.find(pa_id))
        .set(pa_profiles::user_id.eq(&user.id))
        .execute(conn)
        .unwrap();
    AuthUser {
        user_id: user.id,
        organisation_id: organisation_id.to_owned(),
        role: Role::Pa,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    }
}

fn main() {
    let database_url = std::env::args()
        .nth(1)
        .expect("usage: bench_cover DATABASE_URL");
    let state = Services::prepare(Settings {
        database_url,
        jwt_secret: Some("bench-cover-signing-secret-long-enough-for-hs256".into()),
        pool_size: 4,
        log_level: "warn".into(),
        run_jobs: false,
        ..Settings::default()
    })
    .unwrap()
    .state;
    let mut conn = state.pool.get().unwrap();
    let now = Utc::now();
    let tomorrow = parota::time::london_date(now) + Duration::days(1);
    let organisation = Organisation {
        id: parota::ids::new_id(),
        name: "Bench Provider".into(),
        kind: "provider".into(),
        area_code: "QE1".into(),
        created_at: now.naive_utc(),
        deactivated_at: None,
    };
    parota::provision::create_organisation(&mut conn, &organisation).unwrap();
    let manager = User {
        id: parota::ids::new_id(),
        organisation_id: organisation.id.clone(),
        role: "team_manager".into(),
        email: Some("manager@bench.test".into()),
        client_id: None,
        display_name: "Bench Manager".into(),
        secret_hash: "unused".into(),
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    parota::accounts::repo::insert_user(&mut conn, &manager).unwrap();
    let districts = parota::demo::east_lancashire();
    let started = Instant::now();
    let managers = vec![manager.id.clone()];
    let market = parota::db::write_transaction(&mut conn, |conn| {
        generate(
            conn,
            &MarketShape {
                organisation_id: &organisation.id,
                team_managers: &managers,
                districts: &districts,
                pas: PAS,
                budget_holders: PEOPLE,
                with_teams: true,
                seed: 5,
                id_base_millis: 1_775_001_600_000,
                today: tomorrow,
                now: now.naive_utc(),
            },
        )
    })
    .unwrap();

    // Tomorrow 09:00–13:00 for each person, worked by the first of their team not yet placed.
    let roster = RosterRow {
        id: parota::ids::new_id(),
        organisation_id: organisation.id.clone(),
        team_manager_id: manager.id.clone(),
        from_date: tomorrow,
        to_date: tomorrow,
        status: "published".into(),
        version: 2,
        seed: 1,
        time_limit_ms: 0,
        score: "{}".into(),
        created_by: manager.id.clone(),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let local = |h: u32| {
        parota::time::london_instant(tomorrow.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap()))
            .naive_utc()
    };
    let mut shifts = Vec::new();
    let mut assignments = Vec::new();
    let mut placed: HashSet<String> = HashSet::new();
    let mut spare = market.pa_ids.iter();
    for holder in &market.budget_holder_ids {
        let team = parota::market::repo::team(&mut conn, holder).unwrap();
        // A team member, else any PA not yet placed: who is absent does not matter here.
        let pa_id = match team.iter().find(|m| !placed.contains(&m.pa_id)) {
            Some(member) => member.pa_id.clone(),
            None => spare.find(|p| !placed.contains(*p)).unwrap().clone(),
        };
        placed.insert(pa_id.clone());
        let shift = RosterShiftRow {
            id: parota::ids::new_id(),
            roster_id: roster.id.clone(),
            budget_holder_id: holder.clone(),
            shift_date: tomorrow,
            start_local: "09:00".into(),
            end_local: "13:00".into(),
            starts_at: local(9),
            ends_at: local(13),
            kind: "day".into(),
            headcount: 1,
            source: "weekly".into(),
            support_change_id: None,
            open_reason: None,
        };
        assignments.push(RosterAssignmentRow {
            id: parota::ids::new_id(),
            roster_id: roster.id.clone(),
            roster_shift_id: shift.id.clone(),
            pa_id,
            created_at: now.naive_utc(),
            given_at: Some(now.naive_utc()),
        });
        shifts.push(shift);
    }
    parota::db::write_transaction(&mut conn, |conn| {
        parota::rostering::repo::insert_roster(conn, &roster, &shifts, &assignments)
    })
    .unwrap();
    if let parota::db::DbConnection::Postgresql(c) = &mut *conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").unwrap();
    }
    // Spread over the people: every fourth or so.
    let step = (assignments.len() / REPORTS).max(1);
    let reporters: Vec<(AuthUser, String)> = assignments
        .iter()
        .step_by(step)
        .take(REPORTS)
        .map(|a| {
            (
                login(&mut conn, &organisation.id, &a.pa_id),
                a.pa_id.clone(),
            )
        })
        .collect();
    drop(conn);
    println!(
        "seeded {PAS} PAs, {PEOPLE} people, {} shifts tomorrow in {:.1}s",
        shifts.len(),
        started.elapsed().as_secs_f64()
    );

    // Two at a time, back to back.
    let queue = Mutex::new(reporters.into_iter().enumerate().collect::<Vec<_>>());
    let latencies = Mutex::new(Vec::new());
    let wall = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let mut conn = state.pool.get().unwrap();
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((n, (actor, _))) = next else {
                        break;
                    };
                    let request = ReportAbsence {
                        kind: AbsenceKind::Sickness,
                        starts_on: tomorrow,
                        ends_on: Some(tomorrow),
                        shift_ids: None,
                    };
                    let t = Instant::now();
                    let answer = parota::absence::service::report(
                        &mut conn,
                        &actor,
                        request,
                        &format!("bench-sick-{n}"),
                        Utc::now(),
                    )
                    .unwrap();
                    let took = t.elapsed();
                    assert_eq!(answer.status, 201);
                    latencies.lock().unwrap().push(took);
                }
            });
        }
    });
    let wall = wall.elapsed();
    let mut latencies = latencies.into_inner().unwrap();
    latencies.sort();

    // Every offer, checked from scratch through the offered PA's own open-shift list.
    let mut conn = state.pool.get().unwrap();
    let requests: i64 = cover_requests::table
        .filter(cover_requests::organisation_id.eq(&organisation.id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let offered: Vec<(String, String)> = cover_offers::table
        .inner_join(cover_requests::table)
        .filter(cover_requests::organisation_id.eq(&organisation.id))
        .select((cover_offers::pa_id, cover_requests::roster_shift_id))
        .load(&mut conn)
        .unwrap();
    let without_offers: i64 = cover_requests::table
        .filter(cover_requests::organisation_id.eq(&organisation.id))
        .filter(cover_requests::first_offers_at.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    let mut unsafe_offers = 0;
    let mut by_pa: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (pa, shift) in &offered {
        by_pa.entry(pa.clone()).or_default().push(shift.clone());
    }
    for (pa, shifts) in &by_pa {
        let user: Option<String> = pa_profiles::table
            .find(pa)
            .select(pa_profiles::user_id)
            .first(&mut conn)
            .unwrap();
        let actor = match user {
            Some(user_id) => AuthUser {
                user_id,
                organisation_id: organisation.id.clone(),
                role: Role::Pa,
                area_code: "QE1".into(),
                request_id: None,
                session_id: None,
            },
            None => login(&mut conn, &organisation.id, pa),
        };
        let open: HashSet<String> = parota::rostering::open_shifts::list(&mut conn, &actor, now)
            .unwrap()
            .into_iter()
            .map(|o| o.shift_id)
            .collect();
        unsafe_offers += shifts.iter().filter(|s| !open.contains(*s)).count();
    }
    println!(
        "backend={} reports={} shifts_opened={} offers={} (to {} PAs) requests_without_an_eligible_pa={} report_to_first_offers p50={:.1}ms p95={:.1}ms p99={:.1}ms max={:.1}ms wall={:.1}s offers_the_gate_refuses={}",
        if state.pool.get().map(|mut c| matches!(&mut *c, parota::db::DbConnection::Postgresql(_))).unwrap_or(false) { "postgres" } else { "sqlite" },
        latencies.len(),
        requests,
        offered.len(),
        by_pa.len(),
        without_offers,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        wall.as_secs_f64(),
        unsafe_offers,
    );
    assert_eq!(unsafe_offers, 0, "an offered PA the safety gate refuses");
}

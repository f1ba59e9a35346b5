//! An organisation's roster run through the product: 89 team managers, 890 people and 4,000
//! PAs of the demo market generator in East Lancashire (teams recruited around each person,
//! clinicians' sign-offs for delegated tasks), stored in a fresh database; an admin starts an
//! organisation-wide run for four weeks and the job worker runs it as in production. Reports
//! when the run first shows a roster with no hard violation (its first progress with a score),
//! when it is done with every team's draft written, how many shifts, PAs and open shifts (by
//! reason), and the peak memory. Run through `scripts/bench-roster.sh`; the figures belong in the README.
//!
//!     cargo run --release --example bench_org_run -- <seconds> [sqlite|postgres]

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common.rs"]
mod common;

use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use diesel::connection::SimpleConnection;
use parota::accounts::model::{Organisation, User};
use parota::app::Services;
use parota::auth::{AuthUser, Role};
use parota::config::Settings;
use parota::demo::market::{generate, MarketShape};
use parota::rostering::dto::{RunScope, StartRosterRun};

fn user(organisation: &str, role: &str, n: usize, now: chrono::NaiveDateTime) -> User {
    User {
        id: parota::ids::new_id(),
        organisation_id: organisation.to_owned(),
        role: role.into(),
        email: Some(format!("{role}{n}@bench.test")),
        client_id: None,
        display_name: format!("Bench {role} {n}"),
        secret_hash: "unused".into(),
        active: true,
        created_at: now,
        updated_at: now,
    }
}

fn main() {
    let seconds: u64 = std::env::args().nth(1).map_or(10, |s| s.parse().unwrap());
    let backend = std::env::args().nth(2).unwrap_or_else(|| "sqlite".into());
    let (url, cleanup) = common::database_url(&backend);
    let settings = Settings {
        database_url: url.clone(),
        jwt_secret: Some("bench-signing-secret-that-is-long-enough".into()),
        pool_size: 4,
        log_level: "warn".into(),
        run_jobs: false,
        ..Settings::default()
    };
    let services = Services::prepare(settings).unwrap();
    let mut conn = services.state.pool.get().unwrap();
    let now = Utc::now();
    let organisation = Organisation {
        id: parota::ids::new_id(),
        name: "Bench Provider".into(),
        kind: "provider".into(),
        area_code: "QE1".into(),
        created_at: now.naive_utc(),
        deactivated_at: None,
    };
    parota::provision::create_organisation(&mut conn, &organisation).unwrap();
    let admin = user(&organisation.id, "admin", 0, now.naive_utc());
    parota::accounts::repo::insert_user(&mut conn, &admin).unwrap();
    let managers: Vec<String> = (0..89)
        .map(|n| {
            let manager = user(&organisation.id, "team_manager", n, now.naive_utc());
            parota::accounts::repo::insert_user(&mut conn, &manager).unwrap();
            manager.id
        })
        .collect();
    let districts: Vec<(String, parota::geo::Location)> = parota::demo::EAST_LANCASHIRE
        .iter()
        .map(|d| {
            (
                (*d).to_owned(),
                parota::geo::Postcode::parse(d).unwrap().locate().unwrap(),
            )
        })
        .collect();
    parota::db::write_transaction(&mut conn, |conn| {
        generate(
            conn,
            &MarketShape {
                organisation_id: &organisation.id,
                team_managers: &managers,
                districts: &districts,
                pas: 4000,
                budget_holders: 890,
                with_teams: true,
                seed: 7,
                id_base_millis: 1_775_001_600_000,
                today: now.date_naive(),
                now: now.naive_utc(),
            },
        )
    })
    .unwrap();
    if let parota::db::DbConnection::Postgresql(_) = &mut *conn {
        conn.batch_execute("ANALYZE").unwrap();
    }
    let actor = AuthUser {
        user_id: admin.id.clone(),
        organisation_id: organisation.id.clone(),
        role: Role::Admin,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    };
    // Four weeks from the Monday after next.
    let today = now.date_naive();
    let from = today + chrono::Days::new(14 - u64::from(today.weekday().num_days_from_monday()));
    let to = from + chrono::Days::new(27);
    let started = Instant::now();
    let run = parota::rostering::runs::start(
        &mut conn,
        &actor,
        StartRosterRun {
            scope: RunScope::Organisation,
            budget_holder_ids: None,
            from,
            to,
            seed: Some(1),
            time_limit_ms: seconds * 1000,
        },
        now,
    )
    .unwrap();
    drop(conn);
    // The job worker, as the server runs it; the manager's view polled beside it.
    let worker_services = services.clone();
    let worker = std::thread::spawn(move || {
        let mut conn = worker_services.state.pool.get().unwrap();
        parota::worker::run_due_jobs(
            &mut conn,
            "bench-worker",
            &parota::worker::JobContext {
                settings: &worker_services.state.settings,
                match_index: &worker_services.match_index,
            },
        )
        .unwrap()
    });
    let mut first_roster: Option<(Duration, i64)> = None;
    let view = loop {
        std::thread::sleep(Duration::from_millis(50));
        let mut conn = services.state.pool.get().unwrap();
        let view = parota::rostering::runs::read(&mut conn, &actor, &run.id).unwrap();
        if let (None, Some(score)) = (first_roster, view.best_score) {
            first_roster = Some((started.elapsed(), score));
        }
        if view.status == "done" || view.status == "failed" {
            break view;
        }
    };
    let done = started.elapsed();
    worker.join().unwrap();
    assert_eq!(view.status, "done", "{:?}", view.error);
    let mut conn = services.state.pool.get().unwrap();
    let mut shifts = 0usize;
    let mut open = 0usize;
    let mut pas = std::collections::HashSet::new();
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for id in &view.roster_ids {
        let roster = parota::rostering::generate::read(&mut conn, &actor, id).unwrap();
        shifts += roster.shifts.len();
        open += roster.open_shifts;
        for shift in &roster.shifts {
            pas.extend(shift.pa_ids.iter().cloned());
            if let Some(reason) = &shift.open_reason {
                *reasons.entry(reason.clone()).or_default() += 1;
            }
        }
    }
    let (first_at, first_score) = first_roster.unwrap();
    println!(
        "organisation run  backend={backend} limit={seconds}s teams={} shifts={shifts} open_shifts={open} {reasons:?} pas_rostered={} first roster (no hard violation) {} ms, score {first_score}; done {} ms (drafts written), score {}, moves {}; peak memory {:.0} MiB",
        view.roster_ids.len(),
        pas.len(),
        first_at.as_millis(),
        done.as_millis(),
        view.best_score.unwrap_or_default(),
        view.moves_tried,
        common::peak_rss_mib()
    );
    drop(conn);
    drop(services);
    common::drop_database(&url, cleanup);
}

//! Payroll close benchmark: a month for 4,000 PAs (25 shifts each, about 100,000 shift
//! records) and 400 direct-payment employers, closed and every export streamed. Two steps, run
//! by `scripts/bench-payroll.sh`, so the close runs in a fresh process whose peak memory is its
//! own:
//!
//!     bench_payroll seed  DATABASE_URL [SHIFTS_PER_PA]   # approved timesheets for November 2026
//!     bench_payroll close DATABASE_URL                   # close it, stream every export as CSV
//!
//! `close` prints the seconds spent closing (pay for every PA, lines and exports written in one
//! transaction), the seconds spent streaming every export, then those of the ledgers'
//! reconciliation job the close enqueued (run after it), and the process's peak RSS.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common.rs"]
mod common;

use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use parota::accounts::model::{Organisation, User};
use parota::app::Services;
use parota::auth::{AuthUser, Role};
use parota::budgets::repo::{BudgetRow, LedgerEntryRow};
use parota::config::Settings;
use parota::demo::market::{generate, MarketShape};
use parota::money::Pence;
use parota::payroll::formats::{Format, Renderer};
use parota::payroll::repo::{self as payroll_repo, EmployerRow, EngagementRow};
use parota::state::AppState;
use parota::timesheets::repo::{ShiftRecordRow, TimesheetRow};

const PAS: usize = 4000;
const EMPLOYERS: usize = 400;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args[1], args.get(2).map_or(25, |n| n.parse().unwrap())),
        Some("close") => close(&args[1]),
        _ => panic!("usage: bench_payroll seed|close DATABASE_URL …"),
    }
}

fn state(database_url: &str) -> actix_web::web::Data<AppState> {
    Services::prepare(Settings {
        database_url: database_url.into(),
        jwt_secret: Some("bench-payroll-signing-secret-long-enough-for-hs256".into()),
        pool_size: 2,
        log_level: "warn".into(),
        run_jobs: false,
        ..Settings::default()
    })
    .unwrap()
    .state
}

fn seed(database_url: &str, shifts_per_pa: u32) {
    let state = state(database_url);
    let mut conn = state.pool.get().unwrap();
    let now = Utc::now().naive_utc();
    let started = Instant::now();
    let organisation = Organisation {
        id: parota::ids::new_id(),
        name: "Bench Provider".into(),
        kind: "provider".into(),
        area_code: "QE1".into(),
        created_at: now,
        deactivated_at: None,
    };
    parota::provision::create_organisation(&mut conn, &organisation).unwrap();
    let user = |role: Role, n: usize| User {
        id: parota::ids::new_id(),
        organisation_id: organisation.id.clone(),
        role: role.as_str().into(),
        email: (!role.is_machine()).then(|| format!("{}-{n}@bench.test", role.as_str())),
        client_id: role.is_machine().then(|| format!("pc_bench_{n}")),
        display_name: format!("Bench {n}"),
        secret_hash: "unused".into(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    let (manager, admin, client) = (
        user(Role::TeamManager, 0),
        user(Role::Admin, 0),
        user(Role::PayrollProvider, 0),
    );
    for u in [&manager, &admin, &client] {
        parota::accounts::repo::insert_user(&mut conn, u).unwrap();
    }
    let districts = parota::demo::east_lancashire();
    let period_start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    parota::db::write_transaction(&mut conn, |conn| {
        let market = generate(
            conn,
            &MarketShape {
                organisation_id: &organisation.id,
                team_managers: std::slice::from_ref(&manager.id),
                districts: &districts,
                pas: PAS,
                budget_holders: EMPLOYERS,
                with_teams: false,
                seed: 11,
                id_base_millis: 1_775_001_600_000,
                today: period_start,
                now,
            },
        )?;
        let card = parota::pricing::repo::RateCardRow {
            id: parota::ids::new_id(),
            organisation_id: organisation.id.clone(),
            name: "PHB 2026".into(),
            kind: "personalised".into(),
            created_by: admin.id.clone(),
            created_at: now,
        };
        parota::pricing::repo::insert_card(conn, &card)?;
        let terms = serde_json::json!({
            "levels": ([1, 2, 3, 4].map(|l| serde_json::json!({"level": l, "pay_pence": 1280 + 60 * l, "charge_pence": 2200 + 100 * l}))),
            "night_start": "22:00", "night_end": "07:00",
            "uplifts": {"night_bp": 1000, "saturday_bp": 1000, "sunday_bp": 2000, "bank_holiday_bp": 5000,
                        "waking_night_bp": 1500, "two_to_one_bp": 500, "overtime_bp": 5000},
            "sleep_in": {"pay_pence": 9500, "charge_pence": 12000}
        });
        parota::pricing::repo::insert_version(
            conn,
            &parota::pricing::repo::RateCardVersionRow {
                id: parota::ids::new_id(),
                rate_card_id: card.id.clone(),
                effective_from: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
                terms: terms.to_string(),
                created_by: admin.id.clone(),
                created_at: now,
            },
        )?;
        let employers: Vec<EmployerRow> = market
            .budget_holder_ids
            .iter()
            .enumerate()
            .map(|(n, holder)| EmployerRow {
                id: parota::ids::new_id(),
                organisation_id: organisation.id.clone(),
                kind: "budget_holder".into(),
                budget_holder_id: Some(holder.clone()),
                name: format!("Employer {n}"),
                paye_reference: format!("120/BH{n:05}"),
                payroll_client_id: client.id.clone(),
                rate_card_id: card.id.clone(),
                pays_travel_time: true,
                export_sequence: 0,
                created_by: admin.id.clone(),
                created_at: now,
                // A quarter of the employers on each payroll software, and a quarter on none.
                payroll_mapping: [
                    r#"{"software":"none","elements":{}}"#,
                    r#"{"software":"sage50","elements":{}}"#,
                    r#"{"software":"iris","iris_company":1,"elements":{}}"#,
                    r#"{"software":"brightpay","elements":{}}"#,
                ][n % 4]
                    .into(),
                pay_calendar: None,
            })
            .collect();
        for e in &employers {
            payroll_repo::insert_employer(conn, e)?;
        }
        // Each person's approved budget, whose ledger gets the estimate posted at approval (one
        // actual entry per record), so the close reconciles real ledgers.
        let (year_start, year_end) = (
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        );
        let budgets: Vec<BudgetRow> = market
            .budget_holder_ids
            .iter()
            .map(|holder| BudgetRow {
                id: parota::ids::new_id(),
                organisation_id: organisation.id.clone(),
                budget_holder_id: holder.clone(),
                name: "2026/27".into(),
                amount_pence: Pence::new(10_000_000),
                period_start: year_start,
                period_end: year_end,
                health_share_bp: 10_000,
                profile: serde_json::to_string(&parota::budgets::model::even_profile(
                    Pence::new(10_000_000), year_start, year_end,
                ))
                .unwrap(),
                alert_thresholds: "[]".into(),
                status: "approved".into(),
                approved_by: Some(manager.id.clone()),
                approved_at: Some(now),
                // The allocation plus one actual per record.
                ledger_sequence: 1 + i64::from(shifts_per_pa) * (PAS / EMPLOYERS) as i64,
                created_by: manager.id.clone(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let entry = |budget: &BudgetRow, sequence: i64, kind: &str, amount: Pence, date: NaiveDate, source: (&str, Option<String>)| {
            LedgerEntryRow {
                id: parota::ids::new_id(),
                budget_id: budget.id.clone(),
                sequence,
                kind: kind.into(),
                stream: "health".into(),
                amount_pence: amount,
                entry_date: date,
                description: "bench".into(),
                reason: None,
                source_type: source.0.into(),
                source_id: source.1,
                reverses_entry_id: None,
                idempotency_key: None,
                request_hash: None,
                created_by: None,
                created_at: now,
            }
        };
        let mut sequences: Vec<i64> = vec![1; EMPLOYERS];
        for b in &budgets {
            parota::budgets::repo::insert_budget(conn, b)?;
            parota::budgets::repo::insert_entries(
                conn,
                &[entry(b, 1, "allocation", b.amount_pence, year_start, ("budget_approval", None))],
            )?;
        }
        let mut entries = Vec::new();
        let policy = parota::timesheets::periods::policy_of(conn, &organisation.id)?;
        let period = parota::timesheets::periods::open_period_for(
            conn,
            &parota::timesheets::periods::Calendar::organisation(&organisation.id, &policy),
            period_start,
        )?;
        let mut timesheets = Vec::new();
        let mut records = Vec::new();
        for (n, pa) in market.pa_ids.iter().enumerate() {
            let holder = &market.budget_holder_ids[n % EMPLOYERS];
            payroll_repo::insert_engagement(
                conn,
                &EngagementRow {
                    id: parota::ids::new_id(),
                    employer_id: employers[n % EMPLOYERS].id.clone(),
                    pa_id: pa.clone(),
                    works_number: format!("{:05}", n + 1),
                    date_of_birth: NaiveDate::from_ymd_opt(1970 + (n % 35) as i32, 3, 1).unwrap(),
                    contracted_minutes_per_week: (n % 3 == 0).then_some(30 * 60),
                    holiday_basis: "rolled_up".into(),
                    starts_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    created_by: manager.id.clone(),
                    created_at: now,
                    ends_on: None,
                    leaving_reason: None,
                    leaver_export_id: None,
                },
            )?;
            let timesheet = TimesheetRow {
                id: parota::ids::new_id(),
                organisation_id: organisation.id.clone(),
                pa_id: pa.clone(),
                budget_holder_id: holder.clone(),
                pay_period_id: period.id.clone(),
                status: "approved".into(),
                version: 3,
                submitted_at: Some(now),
                decided_by: Some(manager.id.clone()),
                decided_at: Some(now),
                query_reason: None,
                paid_in_period_id: Some(period.id.clone()),
                created_at: now,
                updated_at: now,
            };
            for day in 0..shifts_per_pa {
                // Shifts from 1 November, one a day, wrapping within the month; one in five a
                // night 22:00–08:00, the rest 08:00–16:00 with a 30-minute break.
                let date = period_start + Duration::days(i64::from(day % 29));
                let night = (n + day as usize) % 5 == 0;
                let (start, end) = if night {
                    (
                        date.and_time(NaiveTime::from_hms_opt(22, 0, 0).unwrap()),
                        (date + Duration::days(1)).and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap()),
                    )
                } else {
                    (
                        date.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap()),
                        date.and_time(NaiveTime::from_hms_opt(16, 0, 0).unwrap()),
                    )
                };
                let (start, end) = (
                    parota::time::london_instant(start).naive_utc(),
                    parota::time::london_instant(end).naive_utc(),
                );
                let holder_index = n % EMPLOYERS;
                sequences[holder_index] += 1;
                let record_id = parota::ids::new_id();
                let estimate = Pence::new((end - start).num_minutes() * 1300 / 60 * 11_207 / 10_000);
                entries.push(entry(
                    &budgets[holder_index],
                    sequences[holder_index],
                    "actual",
                    estimate,
                    date,
                    ("timesheet", Some(record_id.clone())),
                ));
                records.push(ShiftRecordRow {
                    id: record_id,
                    organisation_id: organisation.id.clone(),
                    timesheet_id: timesheet.id.clone(),
                    pa_id: pa.clone(),
                    budget_holder_id: holder.clone(),
                    roster_shift_id: None,
                    work_date: date,
                    unrostered_reason: Some("bench".into()),
                    clock_in_at: Some(start),
                    clock_in_device_at: Some(start),
                    clock_in_received_at: Some(start),
                    clock_in_distance_m: Some(20),
                    clock_out_at: Some(end),
                    clock_out_device_at: Some(end),
                    clock_out_received_at: Some(end),
                    clock_out_distance_m: Some(20),
                    outside_radius: false,
                    break_minutes: if night { 0 } else { 30 },
                    mileage_tenths: if day % 4 == 0 { 85 } else { 0 },
                    expenses_pence: Pence::new(if day % 10 == 0 { 450 } else { 0 }),
                    expense_receipt: (day % 10 == 0).then(|| "R1".into()),
                    note: None,
                    reminded_at: None,
                    amendments: 0,
                    created_at: now,
                    updated_at: now,
                    woken_minutes: 0,
                });
            }
            timesheets.push(timesheet);
            if records.len() >= 1000 {
                parota::timesheets::repo::insert_timesheets_if_absent(conn, &timesheets)?;
                for batch in records.chunks(500) {
                    parota::timesheets::repo::insert_records(conn, batch)?;
                }
                for batch in entries.chunks(1000) {
                    parota::budgets::repo::insert_entries(conn, batch)?;
                }
                timesheets.clear();
                records.clear();
                entries.clear();
            }
        }
        parota::timesheets::repo::insert_timesheets_if_absent(conn, &timesheets)?;
        for batch in records.chunks(500) {
            parota::timesheets::repo::insert_records(conn, batch)?;
        }
        for batch in entries.chunks(1000) {
            parota::budgets::repo::insert_entries(conn, batch)?;
        }
        Ok::<_, parota::error::AppError>(())
    })
    .unwrap();
    if let parota::db::DbConnection::Postgresql(c) = &mut *conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").unwrap();
    }
    eprintln!(
        "seeded {PAS} PAs × {shifts_per_pa} approved shifts for {EMPLOYERS} employers in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

fn close(database_url: &str) {
    use parota::db::schema::{pay_periods, users};
    let state = state(database_url);
    let mut conn = state.pool.get().unwrap();
    let (admin, organisation): (String, String) = users::table
        .filter(users::role.eq("admin"))
        .filter(users::email.eq("admin-0@bench.test"))
        .select((users::id, users::organisation_id))
        .first(&mut conn)
        .unwrap();
    let period: String = pay_periods::table
        .filter(pay_periods::organisation_id.eq(&organisation))
        .filter(pay_periods::closed_at.is_null())
        .order(pay_periods::starts_on.asc())
        .select(pay_periods::id)
        .first(&mut conn)
        .unwrap();
    let shifts: i64 = parota::db::schema::shift_records::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let actor = AuthUser {
        user_id: admin,
        organisation_id: organisation,
        role: Role::Admin,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    };
    let rss_before = common::peak_rss_mib();
    let started = Instant::now();
    let closed =
        parota::payroll::close::close_period(&mut conn, &actor, &period, Utc::now()).unwrap();
    let close_secs = started.elapsed().as_secs_f64();
    let exports = closed.exports;

    // Stream every export as the API does: a page of lines at a time, written and dropped.
    let streaming = Instant::now();
    let (mut bytes, mut lines) = (0usize, 0usize);
    for export in &exports {
        let (head, mapping, _) =
            parota::payroll::service::export_to_write(&mut conn, &actor, &export.id).unwrap();
        let mut renderer = Renderer::new(Format::Csv, head, &mapping);
        let mut chunk = Vec::new();
        renderer.begin(&mut chunk).unwrap();
        let mut after = 0;
        loop {
            let page = payroll_repo::lines_of(&mut conn, &export.id, after, 1000).unwrap();
            for row in &page {
                renderer
                    .line(&parota::payroll::service::line_of(row), &mut chunk)
                    .unwrap();
            }
            lines += page.len();
            bytes += chunk.len();
            chunk.clear();
            match page.last() {
                Some(last) if page.len() == 1000 => after = last.line_no,
                _ => break,
            }
        }
        renderer.end(&mut chunk).unwrap();
        bytes += chunk.len();
    }
    let stream_secs = streaming.elapsed().as_secs_f64();
    // The job the close enqueues: every person's ledger brought to what payroll pays.
    let reconciling = Instant::now();
    parota::payroll::service::reconcile_ledgers(&mut conn, &period, Utc::now()).unwrap();
    let reconcile_secs = reconciling.elapsed().as_secs_f64();
    println!(
        "{shifts} shift records: close {close_secs:.2} s ({} exports, {} ready), stream {stream_secs:.2} s ({lines} lines, {:.1} MiB CSV), total {:.2} s; then the ledgers' reconciliation job {reconcile_secs:.2} s; peak RSS {:.0} MiB (at start {:.0} MiB)",
        exports.len(),
        exports.iter().filter(|e| e.status == "ready").count(),
        bytes as f64 / 1_048_576.0,
        close_secs + stream_secs,
        common::peak_rss_mib(),
        rss_before,
    );
}

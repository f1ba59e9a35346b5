//! Clock-event load and durability harness: 4,000 PAs clocking in and out at an 08:00
//! changeover over HTTP, with idempotent replays mixed in. Three steps, run by
//! `scripts/bench-clock.sh` (throughput and latency) and `scripts/crash-clock.sh` (the server
//! killed mid-load and restarted):
//!
//!     bench_clock seed   DATABASE_URL PLAN_FILE            # 4,000 PAs, each on a published shift today
//!     bench_clock load   ADDRESS PLAN_FILE ACKED_FILE [CONNECTIONS] [REPLAY_PERCENT]
//!     bench_clock verify DATABASE_URL ACKED_FILE           # every acknowledged event present, none twice
//!
//! `load` retries an event whose connection fails with the same Idempotency-Key, as the app
//! does, and writes each event it saw acknowledged (2xx) to ACKED_FILE.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use diesel::prelude::*;
use parota::accounts::model::{Organisation, User};
use parota::app::Services;
use parota::auth::token::Subject;
use parota::auth::Role;
use parota::config::Settings;
use parota::demo::market::{generate, MarketShape};
use parota::rostering::repo::{RosterAssignmentRow, RosterRow, RosterShiftRow};

pub const SECRET: &str = "bench-clock-signing-secret-long-enough-for-hs256";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args[1], &args[2]),
        Some("load") => load(
            &args[1],
            &args[2],
            &args[3],
            args.get(4).map_or(64, |c| c.parse().unwrap()),
            args.get(5).map_or(10, |p| p.parse().unwrap()),
        ),
        Some("verify") => verify(&args[1], &args[2]),
        _ => panic!("usage: bench_clock seed|load|verify …"),
    }
}

fn seed(database_url: &str, plan_file: &str) {
    let settings = Settings {
        database_url: database_url.into(),
        jwt_secret: Some(SECRET.into()),
        access_token_ttl_secs: 4 * 3600,
        pool_size: 2,
        log_level: "warn".into(),
        run_jobs: false,
        ..Settings::default()
    };
    let services = Services::prepare(settings).unwrap();
    let state = services.state.clone();
    let mut conn = state.pool.get().unwrap();
    let now = Utc::now();
    let started = Instant::now();
    let organisation = Organisation {
        id: parota::ids::new_id(),
        name: "Bench Provider".into(),
        kind: "provider".into(),
        area_code: "QE1".into(),
        created_at: now.naive_utc(),
        deactivated_at: None,
    };
    parota::provision::create_organisation(&mut conn, &organisation).unwrap();
    let user = |role: Role, n: usize| User {
        id: parota::ids::new_id(),
        organisation_id: organisation.id.clone(),
        role: role.as_str().into(),
        email: Some(format!("{}-{n}@bench.test", role.as_str())),
        client_id: None,
        display_name: format!("Bench {n}"),
        secret_hash: "unused".into(),
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let manager = user(Role::TeamManager, 0);
    parota::accounts::repo::insert_user(&mut conn, &manager).unwrap();
    let districts = parota::demo::east_lancashire();
    let managers = vec![manager.id.clone()];
    let today = parota::time::london_local(now).date();
    let mut plan = String::new();
    parota::db::write_transaction(&mut conn, |conn| {
        let market = generate(
            conn,
            &MarketShape {
                organisation_id: &organisation.id,
                team_managers: &managers,
                districts: &districts,
                pas: 4000,
                budget_holders: 890,
                with_teams: false,
                seed: 7,
                id_base_millis: 1_775_001_600_000,
                today,
                now: now.naive_utc(),
            },
        )?;
        let roster = RosterRow {
            id: parota::ids::new_id(),
            organisation_id: organisation.id.clone(),
            team_manager_id: manager.id.clone(),
            from_date: today,
            to_date: today,
            status: "published".into(),
            version: 2,
            seed: 1,
            time_limit_ms: 1000,
            score: "{}".into(),
            created_by: manager.id.clone(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        let start = today.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap());
        let end = today.and_time(NaiveTime::from_hms_opt(16, 0, 0).unwrap());
        let mut shifts = Vec::new();
        let mut assignments = Vec::new();
        for (n, pa_id) in market.pa_ids.iter().enumerate() {
            let login = user(Role::Pa, n + 1);
            parota::accounts::repo::insert_user(conn, &login)?;
            diesel::update(parota::db::schema::pa_profiles::table.find(pa_id))
                .set(parota::db::schema::pa_profiles::user_id.eq(&login.id))
                .execute(conn)?;
            let shift = RosterShiftRow {
                id: parota::ids::new_id(),
                roster_id: roster.id.clone(),
                budget_holder_id: market.budget_holder_ids[n % market.budget_holder_ids.len()]
                    .clone(),
                shift_date: today,
                start_local: "08:00".into(),
                end_local: "16:00".into(),
                starts_at: parota::time::london_instant(start).naive_utc(),
                ends_at: parota::time::london_instant(end).naive_utc(),
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
                pa_id: pa_id.clone(),
                created_at: now.naive_utc(),
                given_at: None,
            });
            // A real session: the token names its refresh-token family, which the server
            // checks on every request.
            let family = parota::ids::new_id();
            parota::auth::repo::insert_refresh_token(
                conn,
                &parota::auth::repo::RefreshToken {
                    id: parota::ids::new_id(),
                    family_id: family.clone(),
                    user_id: login.id.clone(),
                    token_hash: parota::ids::new_id(),
                    issued_at: now.naive_utc(),
                    expires_at: (now + chrono::Duration::days(30)).naive_utc(),
                    used_at: None,
                    revoked_at: None,
                },
            )
            .unwrap();
            let token = services
                .keys
                .issue(
                    &Subject {
                        user_id: login.id.clone(),
                        organisation_id: organisation.id.clone(),
                        role: Role::Pa,
                        area_code: "QE1".into(),
                        session_id: Some(family),
                    },
                    now,
                )
                .unwrap();
            plan.push_str(&format!("{}\t{}\n", shift.id, token));
            shifts.push(shift);
        }
        parota::rostering::repo::insert_roster(conn, &roster, &shifts, &assignments)
    })
    .unwrap();
    if let parota::db::DbConnection::Postgresql(c) = &mut *conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE").unwrap();
    }
    std::fs::write(plan_file, plan).unwrap();
    eprintln!(
        "seeded 4000 PAs on published shifts for 890 people in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// One event to send: its shift, the PA's token, the kind and its key.
#[derive(Clone)]
struct Event {
    shift: String,
    token: String,
    kind: &'static str,
    key: String,
    device_time: String,
    replay: bool,
}

/// Sends one request on a keep-alive connection; None if the connection failed.
fn post(stream: &mut BufReader<TcpStream>, event: &Event) -> Option<u16> {
    let body = format!(
        r#"{{"device_time":"{}","location":{{"latitude":53.7890,"longitude":-2.2400,"accuracy_m":15}}}}"#,
        event.device_time
    );
    let request = format!(
        "POST /api/v1/shifts/{}/{} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\nIdempotency-Key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        event.shift,
        event.kind,
        event.token,
        event.key,
        body.len(),
        body
    );
    stream.get_mut().write_all(request.as_bytes()).ok()?;
    let mut status_line = String::new();
    if stream.read_line(&mut status_line).ok()? == 0 {
        return None;
    }
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(status)
}

fn connect(address: &str) -> BufReader<TcpStream> {
    loop {
        if let Ok(stream) = TcpStream::connect(address) {
            stream.set_nodelay(true).ok();
            return BufReader::new(stream);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn load(address: &str, plan_file: &str, acked_file: &str, connections: usize, replay_percent: u64) {
    let plan = std::fs::read_to_string(plan_file).unwrap();
    let today = Utc::now().date_naive();
    // Each PA clocks in at the changeover (some a few minutes late), some phones send the
    // clock-in again (a replay), and each clocks out at the end of the shift.
    let mut per_pa: Vec<Vec<Event>> = Vec::new();
    for (n, line) in plan.lines().enumerate() {
        let (shift, token) = line.split_once('\t').unwrap();
        let clock_in = Event {
            shift: shift.into(),
            token: token.into(),
            kind: "clock-in",
            key: format!("in-{shift}"),
            device_time: format!("{today}T07:{:02}:00Z", n % 10),
            replay: false,
        };
        let mut events = vec![clock_in.clone()];
        if (n as u64 * 7919) % 100 < replay_percent {
            events.push(Event {
                replay: true,
                ..clock_in
            });
        }
        events.push(Event {
            shift: shift.into(),
            token: token.into(),
            kind: "clock-out",
            key: format!("out-{shift}"),
            device_time: format!("{today}T15:0{}:00Z", n % 10),
            replay: false,
        });
        per_pa.push(events);
    }
    // Clock-ins first (the changeover burst), then replays and clock-outs.
    let mut queue: Vec<Event> = per_pa.iter().map(|e| e[0].clone()).collect();
    queue.extend(per_pa.iter().flat_map(|e| e[1..].iter().cloned()));
    let total = queue.len();
    let queue = Arc::new(Mutex::new(queue.into_iter()));
    let acked = Arc::new(Mutex::new(Vec::<String>::with_capacity(total)));
    let started = Instant::now();
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let queue = queue.clone();
            let acked = acked.clone();
            let address = address.to_owned();
            std::thread::spawn(move || {
                let mut stream = connect(&address);
                let mut latencies = Vec::new();
                let mut statuses: HashMap<u16, usize> = HashMap::new();
                let mut retries = 0usize;
                loop {
                    let Some(event) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let sent = Instant::now();
                    let status = loop {
                        match post(&mut stream, &event) {
                            Some(status) if status != 503 => break status,
                            // The server went away or was busy: the app keeps the event and
                            // sends it again, same key, once it can.
                            _ => {
                                retries += 1;
                                std::thread::sleep(Duration::from_millis(20));
                                stream = connect(&address);
                            }
                        }
                    };
                    latencies.push(sent.elapsed());
                    *statuses.entry(status).or_default() += 1;
                    if (200..300).contains(&status) {
                        acked
                            .lock()
                            .unwrap()
                            .push(format!("{}\t{}\t{}", event.shift, event.kind, event.replay));
                    }
                }
                (latencies, statuses, retries)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut retries = 0;
    for handle in handles {
        let (l, s, r) = handle.join().unwrap();
        latencies.extend(l);
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
        retries += r;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let mut statuses: Vec<_> = statuses.into_iter().collect();
    statuses.sort();
    println!(
        "events={total} connections={connections} replays={replay_percent}% elapsed={:.2}s events_per_s={:.0} p50={:.1}ms p95={:.1}ms p99={:.1}ms max={:.1}ms retries={retries} statuses={statuses:?}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    let mut lines = acked.lock().unwrap().join("\n");
    lines.push('\n');
    std::fs::write(acked_file, lines).unwrap();
}

fn verify(database_url: &str, acked_file: &str) {
    let url = parota::db::DatabaseUrl::parse(database_url).unwrap();
    let pool = parota::db::build_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    use parota::db::schema::{clock_events, shift_records};
    let rows: Vec<(Option<String>, String)> = clock_events::table
        .inner_join(shift_records::table)
        .select((shift_records::roster_shift_id, clock_events::kind))
        .load(&mut conn)
        .unwrap();
    let mut stored: HashMap<(String, String), usize> = HashMap::new();
    for (shift, kind) in rows {
        *stored
            .entry((shift.unwrap_or_default(), kind.replace('_', "-")))
            .or_default() += 1;
    }
    let acked = std::fs::read_to_string(acked_file).unwrap();
    let wanted: HashSet<(String, String)> = acked
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split('\t');
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect();
    let missing = wanted.iter().filter(|k| !stored.contains_key(*k)).count();
    let doubled = stored.values().filter(|&&n| n > 1).count();
    println!(
        "acknowledged events={} stored events={} missing={missing} stored_twice={doubled}",
        wanted.len(),
        stored.values().sum::<usize>(),
    );
    if missing > 0 || doubled > 0 {
        std::process::exit(1);
    }
}

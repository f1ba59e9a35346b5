//! Matching benchmark: generates PAs and budget holders, then times match requests in process
//! and over HTTP on loopback. Run through `scripts/bench-matching.sh`, which also records the
//! machine; the figures belong in the README.
//!
//!     cargo run --release --example bench_matching -- --backend sqlite --pas 4000 --holders 890 --region east-lancashire

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use parota::accounts::model::{Organisation, User};
use parota::app::{application, Services};
use parota::auth::token::Subject;
use parota::auth::{AuthUser, Role};
use parota::config::Settings;
use parota::demo::market::{generate, MarketShape, Rng};
use parota::market::dto::MatchQuery;

struct Options {
    backend: String,
    pas: usize,
    holders: usize,
    region: String,
    requests: usize,
    concurrency: usize,
}

fn options() -> Options {
    let mut o = Options {
        backend: "sqlite".into(),
        pas: 4000,
        holders: 890,
        region: "east-lancashire".into(),
        requests: 2000,
        concurrency: 4,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--backend" => o.backend = value,
            "--pas" => o.pas = value.parse().expect("--pas"),
            "--holders" => o.holders = value.parse().expect("--holders"),
            "--region" => o.region = value,
            "--requests" => o.requests = value.parse().expect("--requests"),
            "--concurrency" => o.concurrency = value.parse().expect("--concurrency"),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// Postcode areas outside England, left out of the England-wide run.
const NOT_ENGLAND: [&str; 23] = [
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE",
    "CF", "LD", "LL", "NP", "SA", "SY", "BT",
];

fn area(district: &str) -> &str {
    let end = district
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(district.len());
    &district[..end]
}

fn districts(region: &str) -> Vec<(String, parota::geo::Location)> {
    let mut list: Vec<(String, parota::geo::Location)> = match region {
        "east-lancashire" => parota::demo::EAST_LANCASHIRE
            .iter()
            .map(|d| {
                (
                    (*d).to_owned(),
                    parota::geo::Postcode::parse(d).unwrap().locate().unwrap(),
                )
            })
            .collect(),
        "england" => parota::geo::districts()
            .filter(|(d, _)| !NOT_ENGLAND.contains(&area(d)))
            .map(|(d, l)| (d.to_owned(), l))
            .collect(),
        other => panic!("unknown region {other}"),
    };
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// One HTTP/1.1 keep-alive GET; returns the status.
fn get(stream: &mut BufReader<TcpStream>, path: &str, token: &str) -> u16 {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut status_line = String::new();
    stream.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    status
}

fn main() {
    let o = options();
    let (url, cleanup) = common::database_url(&o.backend);
    let settings = Settings {
        database_url: url.clone(),
        jwt_secret: Some("bench-signing-secret-that-is-long-enough".into()),
        pool_size: 8,
        log_level: "warn".into(),
        run_jobs: false,
        ..Settings::default()
    };
    let state = Services::prepare(settings).unwrap();
    let mut conn = state.state.pool.get().unwrap();
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

    let districts = districts(&o.region);
    let started = Instant::now();
    let managers = vec![manager.id.clone()];
    let generated = parota::db::write_transaction(&mut conn, |conn| {
        generate(
            conn,
            &MarketShape {
                organisation_id: &organisation.id,
                team_managers: &managers,
                districts: &districts,
                pas: o.pas,
                budget_holders: o.holders,
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
    let generation = started.elapsed();
    drop(conn);
    let rss_after_load = common::peak_rss_mib();

    // In process: the same service call a handler makes, one at a time.
    let actor = AuthUser {
        user_id: manager.id.clone(),
        organisation_id: organisation.id.clone(),
        role: Role::TeamManager,
        area_code: "QE1".into(),
        request_id: None,
        session_id: None,
    };
    let mut rng = Rng::new(11);
    let query = MatchQuery {
        max_distance_km: None,
        min_score: None,
        min_level: None,
        include_ineligible: None,
        limit: Some(20),
        cursor: None,
    };
    let today = now.date_naive();
    let mut latencies = Vec::with_capacity(o.requests);
    let mut matched = 0usize;
    let mut conn = state.state.pool.get().unwrap();
    for _ in 0..o.requests {
        let holder = rng.pick(&generated.budget_holder_ids);
        let t = Instant::now();
        let page = parota::market::matching::matches(
            &mut conn,
            &state.match_index,
            &actor,
            holder,
            &query,
            today,
        )
        .unwrap();
        latencies.push(t.elapsed());
        matched += page.items.len();
    }
    drop(conn);
    latencies.sort();
    let in_process_total: f64 = latencies.iter().map(Duration::as_secs_f64).sum();
    println!(
        "in process  backend={} pas={} holders={} region={} requests={} p50={:.2}ms p95={:.2}ms p99={:.2}ms mean_matches={:.1} rps_one_thread={:.0}",
        o.backend,
        o.pas,
        o.holders,
        o.region,
        o.requests,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        matched as f64 / o.requests as f64,
        o.requests as f64 / in_process_total,
    );

    // Over HTTP: the real server on loopback, `concurrency` keep-alive connections.
    // A real session: the token names its refresh-token family, which the server checks on
    // every request.
    let family = parota::ids::new_id();
    parota::auth::repo::insert_refresh_token(
        &mut state.state.pool.get().unwrap(),
        &parota::auth::repo::RefreshToken {
            id: parota::ids::new_id(),
            family_id: family.clone(),
            user_id: manager.id.clone(),
            token_hash: parota::ids::new_id(),
            issued_at: now.naive_utc(),
            expires_at: (now + chrono::Duration::days(30)).naive_utc(),
            used_at: None,
            revoked_at: None,
        },
    )
    .unwrap();
    let token = state
        .keys
        .issue(
            &Subject {
                user_id: manager.id.clone(),
                organisation_id: organisation.id.clone(),
                role: Role::TeamManager,
                area_code: "QE1".into(),
                session_id: Some(family),
            },
            now,
        )
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server_state = state.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let metrics = actix_web::web::Data::new(parota::telemetry::Metrics::new().unwrap());
            actix_web::HttpServer::new(move || application(&server_state, metrics.clone()).0)
                .workers(2)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap();
        });
    });
    std::thread::sleep(Duration::from_millis(300));
    let holders = Arc::new(generated.budget_holder_ids.clone());
    let per_client = o.requests / o.concurrency;
    let started = Instant::now();
    let handles: Vec<_> = (0..o.concurrency)
        .map(|n| {
            let holders = holders.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + n as u64);
                let mut stream = BufReader::new(TcpStream::connect(address).unwrap());
                let mut latencies = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let holder = rng.pick(&holders);
                    let t = Instant::now();
                    let status = get(
                        &mut stream,
                        &format!("/api/v1/budget-holders/{holder}/matches?limit=20"),
                        &token,
                    );
                    latencies.push(t.elapsed());
                    assert_eq!(status, 200);
                }
                latencies
            })
        })
        .collect();
    let mut http: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    http.sort();
    println!(
        "over HTTP   backend={} pas={} concurrency={} requests={} p50={:.2}ms p95={:.2}ms p99={:.2}ms rps={:.0}",
        o.backend,
        o.pas,
        o.concurrency,
        http.len(),
        percentile(&http, 0.50),
        percentile(&http, 0.95),
        percentile(&http, 0.99),
        http.len() as f64 / elapsed,
    );
    println!(
        "memory      generation={:.1}s peak_rss_after_load={:.0}MiB rss_end={:.0}MiB peak_rss_end={:.0}MiB",
        generation.as_secs_f64(),
        rss_after_load,
        common::rss_mib(),
        common::peak_rss_mib()
    );

    common::drop_database(&url, cleanup);
}

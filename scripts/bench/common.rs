//! What the benchmarks that need a database share: a fresh one on either backend, dropped
//! afterwards, and the process's memory. Included with `#[path]` by each harness.
// Each harness uses some of these.
#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// A fresh database for `backend` (`sqlite` or `postgres`): its URL, and for PostgreSQL the
/// server's URL and the database's name, to drop it afterwards.
pub fn database_url(backend: &str) -> (String, Option<(String, String)>) {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("parota-bench-{unique}"));
            std::fs::create_dir_all(&dir).unwrap();
            (format!("sqlite://{}", dir.join("bench.db").display()), None)
        }
        "postgres" => {
            let admin = std::env::var("PAROTA_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("parota_bench_{unique}");
            PgConnection::establish(&admin)
                .unwrap()
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0.to_owned();
            (format!("{base}/{name}"), Some((admin, name)))
        }
        other => panic!("unknown backend {other}"),
    }
}

/// Drops what `database_url` made.
pub fn drop_database(url: &str, cleanup: Option<(String, String)>) {
    if let Some((admin, name)) = cleanup {
        if let Ok(mut admin) = PgConnection::establish(&admin) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

//! The two migration trees stay in step, and every migration runs up, down and up again.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::RunQueryDsl;

use crate::helpers::{raw_pool, TestDatabase};

fn versions(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            for file in ["up.sql", "down.sql"] {
                assert!(
                    entry.path().join(file).is_file(),
                    "{backend}/{name} lacks {file}"
                );
            }
            name
        })
        .collect()
}

#[test]
fn sqlite_and_postgres_have_the_same_migration_versions() {
    let sqlite = versions("sqlite");
    let postgres = versions("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration needs a folder for each backend"
    );
}

#[test]
fn migrations_run_up_down_and_up_again() {
    let database = TestDatabase::create();
    let pool = raw_pool(&database);
    let mut conn = pool.get().unwrap();
    let applied = parota::db::run_migrations(&mut conn).unwrap();
    assert_eq!(applied.len(), versions("sqlite").len());
    let reverted = parota::db::revert_all_migrations(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    // Down really removed the tables.
    assert!(diesel::sql_query("SELECT id FROM users")
        .execute(&mut conn)
        .is_err());
    let again = parota::db::run_migrations(&mut conn).unwrap();
    assert_eq!(again, applied);
    assert!(diesel::sql_query("SELECT id FROM users")
        .execute(&mut conn)
        .is_ok());
    assert!(
        parota::db::run_migrations(&mut conn).unwrap().is_empty(),
        "nothing left pending"
    );
}

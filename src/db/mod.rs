//! One code path over SQLite and PostgreSQL: a diesel `MultiConnection`, an r2d2 pool whose
//! backend is chosen by the URL scheme, embedded migrations, and the write transaction helper.
//!
//! # Using PostgreSQL
//!
//! ```sh
//! cargo run -- --database-url postgres://postgres@127.0.0.1:5432/parota migrate
//! cargo run -- --database-url postgres://postgres@127.0.0.1:5432/parota serve --production   # needs PAROTA_JWT_SECRET
//! ```
//!
//! The backend follows the URL scheme (`postgres://`/`postgresql://` or `sqlite://PATH`); a mistyped
//! URL is an error, never a silently created SQLite file. Both backends run the same code (diesel
//! `MultiConnection`) with their own migration trees (`migrations/sqlite`, `migrations/postgres`,
//! kept to the same versions by a test). Migrations are embedded and run at start-up; several
//! instances starting together take a PostgreSQL advisory lock so one migrates.
//!
//! SQLite runs in WAL mode with foreign keys on, `synchronous = FULL` (an acknowledged write survives
//! power loss), a 10 s busy timeout, and write transactions that begin `IMMEDIATE`.

pub mod json;
pub mod schema;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{AppError, AppResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<DbManager>;
pub type PooledDb = PooledConnection<DbManager>;

/// Which database a URL points at. Chosen by scheme, never by trial: a mistyped PostgreSQL URL
/// must fail, not quietly create a SQLite file named after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme (use postgres://… or sqlite://PATH): {}",
                redact_url(url)
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// A URL with any password removed, safe to print or log.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens connections for the pool, setting SQLite up deliberately on every one.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?;
                // Index lookups cost about what sequential reads do on SSDs with the working set
                // cached; at the default (4) the planner scans whole tables for a batch's
                // `= ANY(…)` lookups. Per session, so a shared server's own setting stands.
                conn.batch_execute("SET random_page_cost = 1.1")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; FULL sync means an acknowledged
                // write survives power loss, not just a process crash; busy_timeout queues
                // writers instead of failing them.
                // busy_timeout first: switching to WAL itself needs the lock, and a pool opens
                // several connections at once.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> AppResult<DbPool> {
    Pool::builder()
        .max_size(max_size)
        // No `SELECT 1` before every request: a connection that broke is seen by diesel when
        // it is used and dropped by the pool when it comes back (`has_broken`).
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager::new(url.clone()))
        .map_err(|e| AppError::internal(format!("database pool could not start: {e}")))
}

/// Applies every pending migration for the connection's backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> AppResult<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
        DbConnection::Postgresql(c) => {
            // Several instances may start at once against one database: one migrates,
            // the others wait for it.
            c.batch_execute("SELECT pg_advisory_lock(7263017201)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect());
            c.batch_execute("SELECT pg_advisory_unlock(7263017201)")?;
            result
        }
    };
    applied.map_err(|e| AppError::internal(format!("migration failed: {e}")))
}

/// Reverts every applied migration (for the up-down-up test and for operators).
pub fn revert_all_migrations(conn: &mut DbConnection) -> AppResult<Vec<String>> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
        DbConnection::Postgresql(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
    };
    reverted.map_err(|e| AppError::internal(format!("migration revert failed: {e}")))
}

// Where the two backends differ in what diesel can express through `MultiConnection`, the
// difference is stated here once and every repo uses these: a multi-row insert and `ON CONFLICT
// DO NOTHING` (neither has a `MultiConnection` form) and a query `MultiConnection` cannot carry
// (a UNION) run on the concrete connection. Each evaluates to diesel's `QueryResult`.

/// Inserts every row in one statement (`rows`: a slice, or one row).
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            $crate::db::DbConnection::Postgresql(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    };
}

/// Inserts the rows not already there (by any unique key); the count is of rows inserted.
macro_rules! insert_unless_present {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_or_ignore_into($table)
                .values($rows)
                .execute(c),
            $crate::db::DbConnection::Postgresql(c) => diesel::insert_into($table)
                .values($rows)
                .on_conflict_do_nothing()
                .execute(c),
        }
    };
}

/// Loads a query that only the concrete connections can run.
macro_rules! load_on_backend {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => $query.load(c),
            $crate::db::DbConnection::Postgresql(c) => $query.load(c),
        }
    };
}

pub(crate) use {insert_all, insert_unless_present, load_on_backend};

/// A closed set of values kept in a Text column (a status): `as_str` for writing and filtering,
/// `parse` for reading, where a value outside the set is an error naming the column (loud, as
/// JSON columns are), never a silent default. Declared once per set, in its domain's model.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[doc = $doc:expr])* $variant:ident = $text:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn parse(column: &'static str, text: &str) -> $crate::error::AppResult<Self> {
                match text {
                    $($text => Ok($name::$variant),)*
                    other => Err($crate::error::AppError::internal(format!(
                        "column {column} holds {other:?}, not one of its values"
                    ))),
                }
            }
        }
    };
}

pub(crate) use stored_enum;

/// On PostgreSQL, plans every query of the current transaction for its own parameters: a cached
/// generic plan cannot know an array parameter's length (`= ANY($1)`) and scans whole tables.
/// SQLite plans each statement anyway.
pub fn plan_each_query_in_this_transaction(conn: &mut DbConnection) -> AppResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
    }
    Ok(())
}

static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a transaction that writes. On SQLite it begins `IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that reads and then writes can fail with SQLITE_BUSY half
/// way through when another writer got there first, and busy_timeout cannot save it.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let already_in_transaction = matches!(
        <DbConnection as TransactionManager<DbConnection>>::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(_))
    );
    if already_in_transaction {
        return conn.transaction(f);
    }
    // SQLite has one writer at a time, and writers waiting on its lock poll with growing sleeps
    // (busy_timeout): under load a few waited seconds. Queued here instead, each is woken the
    // moment the writer before it is done. (One process-wide queue: a process serves one
    // database, except the test suite, whose writes are short.)
    let _writer = match conn {
        DbConnection::Sqlite(_) => Some(
            SQLITE_WRITERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ),
        DbConnection::Postgresql(_) => None,
    };
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            match <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn) {
                Ok(()) => Ok(value),
                Err(commit_error) => {
                    let _ =
                        <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(
                            conn,
                        );
                    Err(commit_error.into())
                }
            }
        }
        Err(error) => {
            <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// Runs blocking database work off the async executor with a pooled connection.
pub async fn run<T, F>(pool: &DbPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

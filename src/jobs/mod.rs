//! Background work, claimed through the database so that several instances sharing one
//! PostgreSQL never run the same job twice (on SQLite, the one instance runs it all).
//!
//! A job is claimed by a lease: a conditional UPDATE that succeeds for exactly one worker while
//! the job is unleased or its lease has lapsed. A worker that dies mid-job loses its lease and
//! the job is retried; one that finishes marks it done only if it still holds the lease.
//!
//! This is the queue alone, plumbing that knows no domain: domains enqueue their jobs here, and
//! the worker that knows every kind of job sits beside the wiring (`src/worker.rs`).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub payload: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub leased_by: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub finished_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// At most one job ever exists per key; enqueueing a duplicate does nothing.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
}

/// Adds a job; `None` when a job with the same dedupe key already exists.
pub fn enqueue(
    conn: &mut DbConnection,
    job: NewJob,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let row = Job {
        id: crate::ids::new_id(),
        kind: job.kind,
        dedupe_key: job.dedupe_key,
        payload: job.payload.to_string(),
        run_at: job.run_at.naive_utc(),
        attempts: 0,
        max_attempts: job.max_attempts,
        leased_by: None,
        lease_expires_at: None,
        last_error: None,
        finished_at: None,
        created_at: now.naive_utc(),
    };
    // Its own (nested) transaction: on PostgreSQL a unique violation would otherwise abort the
    // caller's whole transaction.
    let inserted =
        conn.transaction(|conn| diesel::insert_into(jobs::table).values(&row).execute(conn));
    match inserted {
        Ok(_) => Ok(Some(row.id)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Claims the next due job for `worker`, holding it until `now + lease`.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> AppResult<Option<Job>> {
    let now_naive = now.naive_utc();
    let claimable = jobs::finished_at
        .is_null()
        .and(jobs::run_at.le(now_naive))
        .and(jobs::attempts.lt(jobs::max_attempts))
        .and(
            jobs::lease_expires_at
                .is_null()
                .or(jobs::lease_expires_at.lt(now_naive)),
        );
    let candidates: Vec<String> = jobs::table
        .filter(claimable)
        .order((jobs::run_at.asc(), jobs::id.asc()))
        .limit(8)
        .select(jobs::id)
        .load(conn)?;
    for id in candidates {
        // The WHERE is re-checked under the row lock: exactly one concurrent claimer wins.
        let won = diesel::update(jobs::table.find(&id).filter(claimable))
            .set((
                jobs::leased_by.eq(worker),
                jobs::lease_expires_at.eq((now + lease).naive_utc()),
                jobs::attempts.eq(jobs::attempts + 1),
            ))
            .execute(conn)?;
        if won == 1 {
            return Ok(Some(
                jobs::table.find(&id).select(Job::as_select()).first(conn)?,
            ));
        }
    }
    Ok(None)
}

/// Marks a job done, if `worker` still holds its lease.
pub fn complete(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let updated = diesel::update(jobs::table.find(id).filter(jobs::leased_by.eq(worker)))
        .set((
            jobs::finished_at.eq(now.naive_utc()),
            jobs::lease_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Holds a long job's lease until `until`, if `worker` still holds it.
pub fn extend_lease(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    let updated = diesel::update(jobs::table.find(id).filter(jobs::leased_by.eq(worker)))
        .set(jobs::lease_expires_at.eq(until.naive_utc()))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Records a failure; the job is tried again after `retry_at` until it runs out of attempts.
pub fn fail(
    conn: &mut DbConnection,
    job: &Job,
    worker: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> AppResult<()> {
    let exhausted = job.attempts >= job.max_attempts;
    diesel::update(jobs::table.find(&job.id).filter(jobs::leased_by.eq(worker)))
        .set((
            jobs::last_error.eq(error),
            jobs::run_at.eq(retry_at.naive_utc()),
            jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            jobs::finished_at.eq(exhausted.then(|| retry_at.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

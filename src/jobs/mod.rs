//! Background work, claimed through the database so that several instances sharing one
//! PostgreSQL never run the same job twice (on SQLite, the one instance runs it all).
//!
//! A job is claimed by a lease: a conditional UPDATE that succeeds for exactly one worker while
//! the job is unleased or its lease has lapsed. A worker that dies mid-job loses its lease and
//! the job is retried; one that finishes marks it done only if it still holds the lease.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::jobs;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};
use crate::market::index::MatchIndex;

pub const PURGE_EXPIRED_AUTH: &str = "purge_expired_auth";
/// Every ten minutes: remind PAs still clocked in after their shift's grace period.
pub const CLOCK_OUT_REMINDERS: &str = "clock_out_reminders";
/// Daily: published shifts whose PA will not be safe by then, and PAs' expiry reminders.
pub const SAFETY_LOOK_AHEAD: &str = "safety_look_ahead";

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

/// What jobs need besides a connection.
pub struct JobContext<'a> {
    pub settings: &'a Settings,
    pub match_index: &'a MatchIndex,
}

/// Runs one job to completion.
fn execute(
    conn: &mut DbConnection,
    job: &Job,
    worker: &str,
    context: &JobContext<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let settings = context.settings;
    match job.kind.as_str() {
        PURGE_EXPIRED_AUTH => {
            let window =
                Duration::seconds(i64::try_from(settings.login_window_secs).unwrap_or(900));
            let removed = crate::auth::repo::purge_expired(conn, now, window)?;
            // A phone replays its queue within days; a month of answers is plenty.
            let answers = crate::idempotency::purge(conn, now - Duration::days(30))?;
            tracing::info!(
                removed,
                answers,
                "purged expired sessions, login counts and kept answers"
            );
            Ok(())
        }
        SAFETY_LOOK_AHEAD => {
            let standing = crate::rostering::watch::look_ahead(conn, now)?;
            let reminded = crate::rostering::watch::remind_expiring(conn, now)?;
            tracing::info!(standing, reminded, "safety look ahead");
            Ok(())
        }
        CLOCK_OUT_REMINDERS => {
            let reminded = crate::timesheets::exceptions::remind_unfinished(conn, now)?;
            tracing::info!(reminded, "clock-out reminders");
            Ok(())
        }
        crate::payroll::service::RECONCILE_LEDGERS => {
            let payload: serde_json::Value = serde_json::from_str(&job.payload)
                .map_err(|e| AppError::internal(format!("job payload: {e}")))?;
            let period = payload["pay_period_id"]
                .as_str()
                .ok_or_else(|| AppError::internal("job payload lacks pay_period_id"))?;
            crate::payroll::service::reconcile_ledgers(conn, period, now)
        }
        crate::rostering::runs::GENERATE_ROSTER => {
            let payload: serde_json::Value = serde_json::from_str(&job.payload)
                .map_err(|e| AppError::internal(format!("job payload: {e}")))?;
            crate::rostering::runs::execute(conn, context.match_index, &job.id, worker, &payload)
        }
        other => Err(AppError::internal(format!(
            "no handler for job kind {other}"
        ))),
    }
}

/// Schedules the hourly housekeeping; every instance asks, the dedupe key lets one through.
pub fn schedule_maintenance(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<()> {
    enqueue(
        conn,
        NewJob {
            kind: PURGE_EXPIRED_AUTH.into(),
            payload: serde_json::json!({}),
            run_at: now,
            dedupe_key: Some(format!(
                "{PURGE_EXPIRED_AUTH}:{}",
                now.format("%Y-%m-%dT%H")
            )),
            max_attempts: 3,
        },
        now,
    )?;
    enqueue(
        conn,
        NewJob {
            kind: SAFETY_LOOK_AHEAD.into(),
            payload: serde_json::json!({}),
            run_at: now,
            dedupe_key: Some(format!("{SAFETY_LOOK_AHEAD}:{}", now.format("%Y-%m-%d"))),
            max_attempts: 3,
        },
        now,
    )?;
    let bucket = now.timestamp().div_euclid(600);
    enqueue(
        conn,
        NewJob {
            kind: CLOCK_OUT_REMINDERS.into(),
            payload: serde_json::json!({}),
            run_at: now,
            dedupe_key: Some(format!("{CLOCK_OUT_REMINDERS}:{bucket}")),
            max_attempts: 3,
        },
        now,
    )?;
    Ok(())
}

/// Claims and runs due jobs until none is left; returns how many ran.
pub fn run_due_jobs(
    conn: &mut DbConnection,
    worker: &str,
    context: &JobContext<'_>,
) -> AppResult<usize> {
    let mut ran = 0;
    while let Some(job) = claim(conn, worker, Utc::now(), Duration::minutes(5))? {
        match execute(conn, &job, worker, context, Utc::now()) {
            Ok(()) => {
                complete(conn, &job.id, worker, Utc::now())?;
            }
            Err(error) => {
                tracing::warn!(job = %job.id, kind = %job.kind, %error, "job failed");
                let backoff = Duration::seconds(30 * i64::from(job.attempts.max(1)));
                fail(conn, &job, worker, &error.to_string(), Utc::now() + backoff)?;
            }
        }
        ran += 1;
    }
    Ok(ran)
}

/// Starts this instance's job worker on its own thread: due jobs, then due e-mail.
pub fn start_worker(pool: DbPool, settings: Arc<Settings>, match_index: Arc<MatchIndex>) {
    let worker = format!("worker-{}", crate::ids::new_id());
    let mailer = match crate::mail::mailer(&settings) {
        Ok(mailer) => Some(mailer),
        Err(error) => {
            tracing::error!(%error, "e-mail transport not available: e-mail stays in the outbox");
            None
        }
    };
    let spawned = std::thread::Builder::new()
        .name("parota-jobs".into())
        .spawn(move || loop {
            let outcome = pool.get().map_err(AppError::from).and_then(|mut conn| {
                schedule_maintenance(&mut conn, Utc::now())?;
                run_due_jobs(
                    &mut conn,
                    &worker,
                    &JobContext {
                        settings: &settings,
                        match_index: &match_index,
                    },
                )?;
                if let Some(mailer) = &mailer {
                    crate::mail::deliver_due(&mut conn, mailer.as_ref(), &worker, Utc::now())?;
                }
                Ok(())
            });
            if let Err(error) = outcome {
                tracing::warn!(%error, "job worker pass failed");
            }
            std::thread::sleep(StdDuration::from_secs(2));
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start the job worker");
    }
}

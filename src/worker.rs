//! This instance's job worker: the one place that knows every kind of background job and which
//! domain runs it. Jobs are queued and leased through `crate::jobs`; e-mail leaves through the
//! outbox (`crate::mail`).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::config::Settings;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};
use crate::jobs::{claim, complete, enqueue, fail, Job, NewJob};
use crate::market::index::MatchIndex;

pub const PURGE_EXPIRED_AUTH: &str = "purge_expired_auth";
/// Every ten minutes: remind PAs still clocked in after their shift's grace period.
pub const CLOCK_OUT_REMINDERS: &str = "clock_out_reminders";
/// Daily: published shifts whose PA will not be safe by then, and PAs' expiry reminders.
pub const SAFETY_LOOK_AHEAD: &str = "safety_look_ahead";

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
            let payload: serde_json::Value = crate::db::json::from_text("payload", &job.payload)?;
            let period = payload["pay_period_id"]
                .as_str()
                .ok_or_else(|| AppError::internal("job payload lacks pay_period_id"))?;
            crate::payroll::service::reconcile_ledgers(conn, period, now)
        }
        crate::rostering::cover::COVER_ROUND => {
            let payload: serde_json::Value = crate::db::json::from_text("payload", &job.payload)?;
            let request = payload["cover_request_id"]
                .as_str()
                .ok_or_else(|| AppError::internal("job payload lacks cover_request_id"))?;
            crate::db::write_transaction(conn, |conn| {
                crate::rostering::cover::run_round(conn, request, now)
            })
        }
        crate::rostering::runs::GENERATE_ROSTER => {
            let payload: serde_json::Value = crate::db::json::from_text("payload", &job.payload)?;
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

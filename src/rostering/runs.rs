//! Long roster generations run as background jobs. The request is checked and kept, a job is
//! queued, and the caller polls the run: queued → running (elapsed time, best score so far,
//! moves tried) → done (the roster's id) or failed (why). The job worker writes progress about
//! twice a second, extending its lease as it goes, and stores the roster and the run's end in
//! one transaction, so a worker that dies mid-run leaves the run to be retried, never half-done.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::auth::{AuthUser, Role};
use crate::db::schema::{roster_run_rosters, roster_runs};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, NewJob};
use crate::market::index::MatchIndex;
use crate::rostering::dto::{GenerateRoster, RosterRunView, RunScope, StartRosterRun};
use crate::rostering::generate::{generate_organisation, generate_reporting};
use crate::rostering::model::RunStatus;

pub const GENERATE_ROSTER: &str = "generate_roster";
/// How long past its time limit a run's job lease lasts: building the problem and storing the
/// roster take seconds for a team, a few minutes at most for an organisation's month (55,000
/// shifts written one row at a time).
const LEASE_MARGIN_SECS: i64 = 120;
const ORGANISATION_LEASE_MARGIN_SECS: i64 = 900;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_runs)]
pub struct RosterRunRow {
    pub id: String,
    pub organisation_id: String,
    pub requested_by: String,
    pub request: String,
    pub status: String,
    pub time_limit_ms: i64,
    pub elapsed_ms: i64,
    pub best_score: Option<i64>,
    pub moves: i64,
    pub roster_id: Option<String>,
    pub error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

fn view(row: RosterRunRow, roster_ids: Vec<String>) -> RosterRunView {
    let percent = match RunStatus::parse("status", &row.status) {
        Ok(RunStatus::Done) => 100,
        Ok(RunStatus::Queued) => 0,
        _ => (row.elapsed_ms.saturating_mul(100) / row.time_limit_ms.max(1)).clamp(0, 99),
    };
    // Runs from before runs named their rosters name only the one.
    let roster_ids = if roster_ids.is_empty() {
        row.roster_id.iter().cloned().collect()
    } else {
        roster_ids
    };
    let scope = crate::db::json::from_text::<StartRosterRun>("request", &row.request)
        .map_or(RunScope::Team, |r| r.scope);
    RosterRunView {
        scope,
        roster_ids,
        roster: row
            .roster_id
            .as_ref()
            .map(|id| format!("/api/v1/rosters/{id}")),
        id: row.id,
        status: row.status,
        percent_done: percent,
        elapsed_ms: row.elapsed_ms,
        time_limit_ms: row.time_limit_ms,
        best_score: row.best_score,
        moves_tried: row.moves,
        roster_id: row.roster_id,
        error: row.error,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

pub fn start(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: StartRosterRun,
    now: DateTime<Utc>,
) -> AppResult<RosterRunView> {
    crate::auth::policy::must_manage_workforce(actor)?;
    if request.scope == RunScope::Organisation {
        crate::auth::policy::must_roster_organisation(actor)?;
        if request.budget_holder_ids.is_some() {
            return Err(AppError::field(
                "budget_holder_ids",
                "not_with_organisation",
                "must be absent: an organisation's run rosters everyone",
            ));
        }
    }
    crate::rostering::generate::check_range(request.from, request.to)?;
    let time_limit_ms = request.time_limit_ms;
    let row = RosterRunRow {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        requested_by: actor.user_id.clone(),
        request: serde_json::to_string(&request)
            .map_err(|e| AppError::internal(format!("roster request: {e}")))?,
        status: RunStatus::Queued.as_str().into(),
        time_limit_ms: i64::try_from(time_limit_ms).unwrap_or(i64::MAX),
        elapsed_ms: 0,
        best_score: None,
        moves: 0,
        roster_id: None,
        error: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(roster_runs::table)
            .values(&row)
            .execute(conn)?;
        jobs::enqueue(
            conn,
            NewJob {
                kind: GENERATE_ROSTER.into(),
                payload: serde_json::json!({ "run_id": row.id }),
                run_at: now,
                dedupe_key: Some(format!("{GENERATE_ROSTER}:{}", row.id)),
                // The people, PAs or rules may make it fail; trying forever would not help.
                max_attempts: 2,
            },
            now,
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(view(row, Vec::new()))
}

fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<RosterRunRow>> {
    Ok(roster_runs::table
        .find(id)
        .select(RosterRunRow::as_select())
        .first(conn)
        .optional()?)
}

/// A run, for the team manager who started it (and admins of the organisation).
pub fn read(conn: &mut DbConnection, actor: &AuthUser, id: &str) -> AppResult<RosterRunView> {
    let row = find(conn, id)?
        .filter(|row| {
            crate::auth::policy::may_read_run(actor, &row.organisation_id, &row.requested_by)
        })
        .ok_or(AppError::NotFound)?;
    let rosters = rosters_of(conn, &row.id)?;
    Ok(view(row, rosters))
}

fn rosters_of(conn: &mut DbConnection, run_id: &str) -> AppResult<Vec<String>> {
    Ok(roster_run_rosters::table
        .filter(roster_run_rosters::run_id.eq(run_id))
        .select(roster_run_rosters::roster_id)
        .order(roster_run_rosters::roster_id)
        .load(conn)?)
}

/// Marks a run done with the rosters it made, in the rosters' own transaction.
fn finish(
    conn: &mut DbConnection,
    run_id: &str,
    roster_ids: &[String],
    started: DateTime<Utc>,
) -> AppResult<()> {
    let single = match roster_ids {
        [one] => Some(one.clone()),
        _ => None,
    };
    diesel::update(roster_runs::table.find(run_id))
        .set((
            roster_runs::status.eq(RunStatus::Done.as_str()),
            roster_runs::roster_id.eq(single),
            roster_runs::elapsed_ms.eq((Utc::now() - started).num_milliseconds()),
            roster_runs::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    let rows: Vec<_> = roster_ids
        .iter()
        .map(|roster_id| {
            (
                roster_run_rosters::run_id.eq(run_id),
                roster_run_rosters::roster_id.eq(roster_id),
            )
        })
        .collect();
    if !rows.is_empty() {
        crate::db::insert_all!(conn, roster_run_rosters::table, &rows)?;
    }
    Ok(())
}

/// The job: rebuilds the caller as they were when they asked (their role today, so a manager
/// who has since lost the role cannot roster), generates, and records the run's end.
pub fn execute(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    job_id: &str,
    worker: &str,
    payload: &serde_json::Value,
) -> AppResult<()> {
    let run_id = payload["run_id"]
        .as_str()
        .ok_or_else(|| AppError::internal("roster run job without run_id"))?;
    let Some(run) = find(conn, run_id)? else {
        return Ok(());
    };
    if RunStatus::parse("status", &run.status)? == RunStatus::Done {
        return Ok(());
    }
    let user = crate::accounts::repo::find_user(conn, &run.requested_by)?
        .filter(|u| u.active)
        .ok_or(AppError::Forbidden)?;
    let organisation = crate::accounts::repo::find_organisation(conn, &user.organisation_id)?
        .ok_or(AppError::NotFound)?;
    let actor = AuthUser {
        user_id: user.id.clone(),
        organisation_id: user.organisation_id.clone(),
        role: Role::from_str(&user.role).map_err(|_| AppError::Forbidden)?,
        area_code: organisation.area_code,
        request_id: None,
        session_id: None,
    };
    let request: StartRosterRun = crate::db::json::from_text("request", &run.request)?;
    let margin = match request.scope {
        RunScope::Team => LEASE_MARGIN_SECS,
        RunScope::Organisation => ORGANISATION_LEASE_MARGIN_SECS,
    };
    let lease_until = |now: DateTime<Utc>| {
        now + Duration::milliseconds(run.time_limit_ms) + Duration::seconds(margin)
    };
    let started = Utc::now();
    jobs::extend_lease(conn, job_id, worker, lease_until(started))?;
    set_progress(conn, &run.id, RunStatus::Running, 0, None, 0)?;

    let mut report = |conn: &mut DbConnection, report: crate::rostering::solver::Report| {
        // Progress is advisory: a failed write must not stop the search.
        let written = set_progress(
            conn,
            &run.id,
            RunStatus::Running,
            i64::try_from(report.elapsed_ms).unwrap_or(i64::MAX),
            Some(report.best_total),
            i64::try_from(report.moves).unwrap_or(i64::MAX),
        );
        if let Err(error) = written {
            tracing::warn!(run = %run.id, %error, "could not record roster run progress");
        }
    };
    let scope = request.scope;
    let generate = GenerateRoster {
        budget_holder_ids: request.budget_holder_ids,
        from: request.from,
        to: request.to,
        seed: request.seed,
        time_limit_ms: Some(request.time_limit_ms),
    };
    let outcome = match scope {
        RunScope::Team => generate_reporting(
            conn,
            match_index,
            &actor,
            generate,
            Utc::now(),
            &mut report,
            |conn, roster_id| finish(conn, &run.id, &[roster_id.to_owned()], started),
        )
        .map(|roster| (roster.score.total, roster.score.moves_tried)),
        RunScope::Organisation => generate_organisation(
            conn,
            match_index,
            &actor,
            generate,
            Utc::now(),
            &mut report,
            |conn, roster_ids| finish(conn, &run.id, roster_ids, started),
        ),
    };
    match outcome {
        Ok((total, moves)) => {
            diesel::update(roster_runs::table.find(&run.id))
                .set((
                    roster_runs::best_score.eq(total),
                    roster_runs::moves.eq(i64::try_from(moves).unwrap_or(i64::MAX)),
                ))
                .execute(conn)?;
            Ok(())
        }
        Err(error) => {
            // What the caller would have been told, without personal details.
            let said = match &error {
                AppError::Validation(fields) => fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                AppError::Forbidden => "not allowed to roster these people".into(),
                AppError::NotFound => "a person or PA was not found".into(),
                _ => "the run failed; it may be retried".into(),
            };
            diesel::update(roster_runs::table.find(&run.id))
                .set((
                    roster_runs::status.eq(RunStatus::Failed.as_str()),
                    roster_runs::error.eq(said),
                    roster_runs::updated_at.eq(Utc::now().naive_utc()),
                ))
                .execute(conn)?;
            // Rule and permission failures are final; anything else the job worker retries.
            match error {
                AppError::Validation(_) | AppError::Forbidden | AppError::NotFound => Ok(()),
                other => Err(other),
            }
        }
    }
}

fn set_progress(
    conn: &mut DbConnection,
    run_id: &str,
    status: RunStatus,
    elapsed_ms: i64,
    best_score: Option<i64>,
    moves: i64,
) -> AppResult<()> {
    diesel::update(roster_runs::table.find(run_id))
        .set((
            roster_runs::status.eq(status.as_str()),
            roster_runs::elapsed_ms.eq(elapsed_ms),
            roster_runs::best_score.eq(best_score),
            roster_runs::moves.eq(moves),
            roster_runs::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

//! Reporting, recording and correcting absences, and what a manager reads of them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::absence::dto::*;
use crate::absence::model::{self, AbsenceKind, Span};
use crate::absence::repo::{self, AbsenceRow};
use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::idempotency::{self, Answer};
use crate::market::repo::{self as market_repo, my_pa_id};
use crate::rostering::cover;
use crate::rostering::repo as roster_repo;

fn today(now: DateTime<Utc>) -> NaiveDate {
    crate::time::london_date(now)
}

fn span_of(row: &AbsenceRow) -> Span {
    Span {
        starts_on: row.starts_on,
        ends_on: row.ends_on,
    }
}

fn fit_note(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Option<(NaiveDate, NaiveDate)>> {
    match (from, to) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(AppError::field(
            "fit_note_to",
            "required",
            "is required with fit_note_from",
        )),
        (None, Some(_)) => Err(AppError::field(
            "fit_note_from",
            "required",
            "is required with fit_note_to",
        )),
    }
}

pub fn view(
    row: &AbsenceRow,
    cover_request_ids: Vec<String>,
    now: DateTime<Utc>,
) -> AppResult<AbsenceView> {
    let kind = AbsenceKind::parse("kind", &row.kind)?;
    let note = row.fit_note_from.zip(row.fit_note_to);
    Ok(AbsenceView {
        id: row.id.clone(),
        pa_id: row.pa_id.clone(),
        kind,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        fit_note_from: row.fit_note_from,
        fit_note_to: row.fit_note_to,
        fit_note_needed: model::fit_note_needed(kind, span_of(row), note, today(now)),
        reported_by: row.reported_by.clone(),
        reported_at: row.reported_at.and_utc(),
        version: row.version,
        cover_request_ids,
    })
}

/// The absence overlapping `span` among the PA's others, as a 422 naming `starts_on`.
fn refuse_overlap(
    conn: &mut DbConnection,
    pa_id: &str,
    span: Span,
    except: Option<&str>,
) -> AppResult<()> {
    let clash = repo::of_pa_from(conn, pa_id, span.starts_on)?
        .into_iter()
        .find(|a| Some(a.id.as_str()) != except && span_of(a).overlaps(&span));
    match clash {
        Some(a) => Err(AppError::field(
            "starts_on",
            "overlaps",
            &format!(
                "overlaps the PA's absence from {}{}",
                a.starts_on,
                a.ends_on
                    .map_or_else(|| " with no end yet".to_owned(), |e| format!(" to {e}"))
            ),
        )),
        None => Ok(()),
    }
}

/// A day the PA worked after the absence's first day (the first may be the day they went home
/// sick), as a 422 naming `ends_on` (or `starts_on` when it has no end).
fn refuse_worked(conn: &mut DbConnection, pa_id: &str, span: Span) -> AppResult<()> {
    let first_full = span.starts_on + Duration::days(1);
    let last = span.ends_on.unwrap_or_else(|| span.away_through());
    if last < first_full {
        return Ok(());
    }
    if let Some(day) = repo::worked_between(conn, pa_id, first_full, last)? {
        let field = if span.ends_on.is_some() {
            "ends_on"
        } else {
            "starts_on"
        };
        return Err(AppError::field(
            field,
            "already_worked",
            &format!("the PA worked on {day}, within these dates"),
        ));
    }
    Ok(())
}

/// Writes a new absence and takes the PA off the shifts it touches (each opened for cover), in
/// the caller's transaction.
fn write_new(
    conn: &mut DbConnection,
    actor: &AuthUser,
    row: &AbsenceRow,
    now: DateTime<Utc>,
) -> AppResult<AbsenceView> {
    refuse_overlap(conn, &row.pa_id, span_of(row), None)?;
    refuse_worked(conn, &row.pa_id, span_of(row))?;
    repo::insert(conn, row)?;
    let opened = cover::open_for_absence(
        conn,
        actor,
        &row.pa_id,
        &row.id,
        row.starts_on,
        span_of(row).opens_through(),
        now,
    )?;
    let view = view(row, opened, now)?;
    audit::record(
        conn,
        Some(actor),
        Change::<(), _> {
            organisation_id: &row.organisation_id,
            action: "absence.recorded",
            entity_type: "absence",
            entity_id: &row.id,
            before: None,
            after: Some(&view),
        },
    )?;
    Ok(view)
}

/// A PA reports themselves absent (sickness, an emergency, other) from today or a coming day,
/// once per `Idempotency-Key`: each of their published shifts it touches that has not started
/// opens for cover at once. Who may call: the PA.
pub fn report(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: ReportAbsence,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Answer> {
    let pa_id = my_pa_id(conn, actor)?;
    let mut errors: Vec<FieldError> = Vec::new();
    if !request.kind.pa_may_report() {
        errors.push(FieldError::new(
            "kind",
            "not_allowed",
            "a PA reports sickness, an emergency or other; a manager records the rest",
        ));
    }
    let earliest = today(now) - Duration::days(1);
    if request.starts_on < earliest {
        errors.push(FieldError::new(
            "starts_on",
            "range",
            format!("must be {earliest} or later: a manager records an absence further back"),
        ));
    }
    let span = Span {
        starts_on: request.starts_on,
        ends_on: request.ends_on,
    };
    errors.extend(model::check(request.kind, span, None));
    crate::error::errors_or((), errors)?;
    for (i, shift_id) in request.shift_ids.iter().flatten().enumerate() {
        let field = format!("shift_ids[{i}]");
        let shift = roster_repo::find_shift(conn, shift_id)?;
        let mine = match &shift {
            Some(s) => roster_repo::pas_on_shift(conn, &s.id)?.contains(&pa_id),
            None => false,
        };
        let Some(shift) = shift.filter(|_| mine) else {
            return Err(AppError::field(
                &field,
                "not_yours",
                "is not one of your shifts",
            ));
        };
        if shift.starts_at.and_utc() <= now || roster_repo::clocked_in(conn, &shift.id, &pa_id)? {
            return Err(AppError::field(
                &field,
                "already_worked",
                "has started or been worked: tell your manager instead",
            ));
        }
        if shift.shift_date < span.starts_on || shift.shift_date > span.opens_through() {
            return Err(AppError::field(
                &field,
                "outside_dates",
                "is outside the absence's dates",
            ));
        }
    }
    let pa = market_repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let hash = idempotency::request_hash(&request);
    idempotency::once(conn, &actor.user_id, Some(key), &hash, now, |conn| {
        let row = new_row(&pa, request.kind, span, None, actor, now);
        Ok((201, write_new(conn, actor, &row, now)?))
    })
}

/// A new absence as first recorded.
fn new_row(
    pa: &market_repo::PaProfileRow,
    kind: AbsenceKind,
    span: Span,
    fit_note: Option<(NaiveDate, NaiveDate)>,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AbsenceRow {
    AbsenceRow {
        id: crate::ids::new_id(),
        organisation_id: pa.organisation_id.clone(),
        pa_id: pa.id.clone(),
        kind: kind.as_str().to_owned(),
        starts_on: span.starts_on,
        ends_on: span.ends_on,
        away_through: span.away_through(),
        fit_note_from: fit_note.map(|n| n.0),
        fit_note_to: fit_note.map(|n| n.1),
        reported_by: actor.user_id.clone(),
        reported_at: now.naive_utc(),
        version: 1,
        updated_at: now.naive_utc(),
    }
}

/// The PA a manager may record absence for.
fn pa_managed(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    action: Action,
) -> AppResult<market_repo::PaProfileRow> {
    authorize(
        actor,
        action,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    market_repo::find_pa(conn, pa_id)?
        .filter(|p| p.organisation_id == actor.organisation_id)
        .ok_or_else(|| AppError::field("pa_id", "not_found", "is not a PA of this organisation"))
}

/// A manager records an absence of any kind for a PA, past or coming, with a fit note's dates
/// for sickness. Shifts it touches that have not started open for cover. Who may call: team
/// managers and admins.
pub fn record(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: RecordAbsence,
    now: DateTime<Utc>,
) -> AppResult<AbsenceView> {
    let pa = pa_managed(conn, actor, &request.pa_id, Action::Create)?;
    let note = fit_note(request.fit_note_from, request.fit_note_to)?;
    let span = Span {
        starts_on: request.starts_on,
        ends_on: request.ends_on,
    };
    crate::error::errors_or((), model::check(request.kind, span, note))?;
    let row = new_row(&pa, request.kind, span, note, actor, now);
    crate::db::write_transaction(conn, |conn| write_new(conn, actor, &row, now))
}

/// Corrects an absence at the version read (`If-Match`): kind, dates, fit note. Never deleted;
/// the audit trail keeps what it was. Days newly covered take the PA off their shifts there;
/// a shift it opened on a day no longer covered, still searching for cover, is offered back to
/// the PA (someone else may take it first; nobody loses a shift they took). Who may call: team
/// managers and admins.
pub fn correct(
    conn: &mut DbConnection,
    actor: &AuthUser,
    absence_id: &str,
    expected_version: Option<i64>,
    request: CorrectAbsence,
    now: DateTime<Utc>,
) -> AppResult<AbsenceView> {
    let before = repo::find(conn, absence_id)?.ok_or(AppError::NotFound)?;
    if before.organisation_id != actor.organisation_id {
        return Err(AppError::NotFound);
    }
    pa_managed(conn, actor, &before.pa_id, Action::Update)?;
    let expected = expected_version.ok_or(AppError::PreconditionRequired)?;
    if expected != before.version {
        return Err(AppError::PreconditionFailed {
            current_version: before.version,
        });
    }
    let note = fit_note(request.fit_note_from, request.fit_note_to)?;
    let span = Span {
        starts_on: request.starts_on,
        ends_on: request.ends_on,
    };
    crate::error::errors_or((), model::check(request.kind, span, note))?;
    let after = AbsenceRow {
        kind: request.kind.as_str().to_owned(),
        starts_on: request.starts_on,
        ends_on: request.ends_on,
        away_through: span.away_through(),
        fit_note_from: request.fit_note_from,
        fit_note_to: request.fit_note_to,
        version: expected + 1,
        updated_at: now.naive_utc(),
        ..before.clone()
    };
    crate::db::write_transaction(conn, |conn| {
        refuse_overlap(conn, &before.pa_id, span, Some(&before.id))?;
        refuse_worked(conn, &before.pa_id, span)?;
        if !repo::correct(conn, &after, expected)? {
            let current = repo::find(conn, &before.id)?.map_or(expected, |a| a.version);
            return Err(AppError::PreconditionFailed {
                current_version: current,
            });
        }
        cover::open_for_absence(
            conn,
            actor,
            &after.pa_id,
            &after.id,
            after.starts_on,
            span.opens_through(),
            now,
        )?;
        cover::absence_shortened(
            conn,
            actor,
            &after.id,
            after.starts_on,
            span.opens_through(),
            now,
        )?;
        let opened = cover_of(conn, std::slice::from_ref(&after.id))?
            .remove(&after.id)
            .unwrap_or_default();
        let before_view = view(&before, opened.clone(), now)?;
        let after_view = view(&after, opened, now)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &after.organisation_id,
                action: "absence.corrected",
                entity_type: "absence",
                entity_id: &after.id,
                before: Some(&before_view),
                after: Some(&after_view),
            },
        )?;
        Ok(after_view)
    })
}

fn cover_of(conn: &mut DbConnection, ids: &[String]) -> AppResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (absence, request) in repo::cover_requests_of(conn, ids)? {
        out.entry(absence).or_default().push(request);
    }
    Ok(out)
}

fn views(
    conn: &mut DbConnection,
    rows: &[AbsenceRow],
    now: DateTime<Utc>,
) -> AppResult<Vec<AbsenceView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut cover = cover_of(conn, &ids)?;
    rows.iter()
        .map(|r| view(r, cover.remove(&r.id).unwrap_or_default(), now))
        .collect()
}

fn checked_range(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::field("to", "range", "must not be before from"));
    }
    if (to - from).num_days() > 366 {
        return Err(AppError::field(
            "to",
            "range",
            "must be within a year of from",
        ));
    }
    Ok(())
}

/// Absences touching `from` to `to`, one PA's when named. Who may call: team managers and
/// admins.
pub fn list(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &AbsenceListQuery,
    now: DateTime<Utc>,
) -> AppResult<Vec<AbsenceView>> {
    authorize(
        actor,
        Action::Read,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    checked_range(query.from, query.to)?;
    let rows = repo::between(
        conn,
        &actor.organisation_id,
        query.pa_id.as_deref(),
        query.from,
        query.to,
    )?;
    views(conn, &rows, now)
}

/// The caller's own absences from a year ago on. Who may call: a PA.
pub fn mine(
    conn: &mut DbConnection,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AppResult<Vec<AbsenceView>> {
    let pa_id = my_pa_id(conn, actor)?;
    let rows = repo::of_pa_from(conn, &pa_id, today(now) - Duration::days(366))?;
    views(conn, &rows, now)
}

/// Each PA's days and spells away within `from` to `to`. Who may call: team managers and
/// admins.
pub fn totals(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &AbsenceTotalsQuery,
    now: DateTime<Utc>,
) -> AppResult<Vec<model::AbsenceTotals>> {
    authorize(
        actor,
        Action::Read,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    checked_range(query.from, query.to)?;
    let rows = repo::between(conn, &actor.organisation_id, None, query.from, query.to)?;
    let spans = rows
        .iter()
        .map(|r| {
            Ok((
                r.pa_id.clone(),
                AbsenceKind::parse("kind", &r.kind)?,
                span_of(r),
            ))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(model::totals(&spans, query.from, query.to, today(now)))
}

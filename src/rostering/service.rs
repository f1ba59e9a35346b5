//! Support patterns: one-off changes and the shifts the pattern asks for.

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode, FieldError};
use crate::market::model::{ShiftKind, SupportNeed};
use crate::market::repo::holder_resource;
use crate::market::repo::{find_budget_holder, BudgetHolderRow};
use crate::rostering::dto::*;
use crate::rostering::model::{self, PatternChange, PlannedShift};
use crate::rostering::repo::{self, SupportChangeRow};

/// The longest range of planned shifts in one answer.
const MAX_RANGE_DAYS: i64 = 92;

fn holder(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    action: Action,
) -> AppResult<BudgetHolderRow> {
    let holder = find_budget_holder(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(actor, action, holder_resource(&holder))?;
    Ok(holder)
}

fn change_view(row: &SupportChangeRow) -> SupportChangeView {
    SupportChangeView {
        id: row.id.clone(),
        budget_holder_id: row.budget_holder_id.clone(),
        kind: if row.kind == "pause" {
            ChangeKind::Pause
        } else {
            ChangeKind::Extra
        },
        from: row.from_date,
        to: row.to_date,
        start: row.start_time.clone(),
        end: row.end_time.clone(),
        shift_kind: row.shift_kind.as_deref().map(ShiftKind::parse),
        headcount: row.headcount,
        reason: row.reason.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at,
        cancelled_by: row.cancelled_by.clone(),
        cancelled_at: row.cancelled_at,
    }
}

pub fn create_change(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    request: CreateSupportChange,
    now: DateTime<Utc>,
) -> AppResult<SupportChangeView> {
    let holder = holder(conn, actor, holder_id, Action::Administer)?;
    let mut errors = Vec::new();
    let (to, start, end, shift_kind, headcount) = match request.kind {
        ChangeKind::Pause => {
            let to = request.to.unwrap_or(request.from);
            if to < request.from {
                errors.push(FieldError::new(
                    "to",
                    "before_from",
                    "must not be before from",
                ));
            } else if (to - request.from).num_days() > 366 {
                errors.push(FieldError::new(
                    "to",
                    "range",
                    "a pause is at most a year; end the need instead",
                ));
            }
            for (field, given) in [
                ("start", request.start.is_some()),
                ("end", request.end.is_some()),
            ] {
                if given {
                    errors.push(FieldError::new(
                        field,
                        "not_for_pause",
                        "a pause covers whole days",
                    ));
                }
            }
            (to, None, None, None, None)
        }
        ChangeKind::Extra => {
            if request.to.is_some_and(|to| to != request.from) {
                errors.push(FieldError::new(
                    "to",
                    "not_for_extra",
                    "extra cover is one shift, on from",
                ));
            }
            let clock =
                |field: &str, value: &Option<String>, errors: &mut Vec<FieldError>| match value
                    .as_deref()
                    .and_then(model::parse_clock)
                {
                    Some(t) => Some(t.format("%H:%M").to_string()),
                    None => {
                        errors.push(FieldError::new(
                            field,
                            "invalid_time",
                            "must be a time HH:MM",
                        ));
                        None
                    }
                };
            let start = clock("start", &request.start, &mut errors);
            let end = clock("end", &request.end, &mut errors);
            if !(1..=2).contains(&request.headcount) {
                errors.push(FieldError::new(
                    "headcount",
                    "range",
                    "must be 1, or 2 for 2:1 support",
                ));
            }
            (
                request.from,
                start,
                end,
                Some(request.shift_kind.as_str().to_owned()),
                Some(i32::from(request.headcount)),
            )
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = SupportChangeRow {
        id: crate::ids::new_id(),
        organisation_id: holder.organisation_id.clone(),
        budget_holder_id: holder.id.clone(),
        kind: match request.kind {
            ChangeKind::Pause => "pause",
            ChangeKind::Extra => "extra",
        }
        .into(),
        from_date: request.from,
        to_date: to,
        start_time: start,
        end_time: end,
        shift_kind,
        headcount,
        reason: request.reason.trim().to_owned(),
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
        cancelled_by: None,
        cancelled_at: None,
    };
    let view = change_view(&row);
    write_transaction(conn, |conn| {
        repo::insert_change(conn, &row)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "support_change.created",
                entity_type: "budget_holder",
                entity_id: &row.budget_holder_id,
                before: None,
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

pub fn list_changes(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
) -> AppResult<Vec<SupportChangeView>> {
    let holder = holder(conn, actor, holder_id, Action::Read)?;
    Ok(repo::changes_of(conn, &holder.id)?
        .iter()
        .map(change_view)
        .collect())
}

pub fn cancel_change(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    change_id: &str,
    now: DateTime<Utc>,
) -> AppResult<SupportChangeView> {
    let holder = holder(conn, actor, holder_id, Action::Administer)?;
    let before = repo::find_change(conn, change_id)?
        .filter(|c| c.budget_holder_id == holder.id)
        .ok_or(AppError::NotFound)?;
    write_transaction(conn, |conn| {
        if !repo::cancel_change(conn, &before.id, &actor.user_id, now.naive_utc())? {
            return Err(AppError::Conflict {
                code: ConflictCode::AlreadyCancelled,
                detail: "this change is already cancelled".into(),
            });
        }
        let after = repo::find_change(conn, &before.id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &holder.organisation_id,
                action: "support_change.cancelled",
                entity_type: "budget_holder",
                entity_id: &holder.id,
                before: Some(&change_view(&before)),
                after: Some(&change_view(&after)),
            },
        )?;
        Ok(change_view(&after))
    })
}

fn pattern_change(row: &SupportChangeRow) -> Option<PatternChange> {
    match row.kind.as_str() {
        "pause" => Some(PatternChange::Pause {
            from: row.from_date,
            to: row.to_date,
        }),
        _ => Some(PatternChange::Extra {
            id: row.id.clone(),
            date: row.from_date,
            start: model::parse_clock(row.start_time.as_deref()?)?,
            end: model::parse_clock(row.end_time.as_deref()?)?,
            kind: ShiftKind::parse(row.shift_kind.as_deref()?),
            headcount: u8::try_from(row.headcount?).ok()?,
        }),
    }
}

/// The shifts a person's pattern asks for between two local dates.
pub fn planned_shifts(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<PlannedShift>> {
    let holder = holder(conn, actor, holder_id, Action::Read)?;
    if to < from {
        return Err(AppError::field(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::field("to", "range", "at most 92 days after from"));
    }
    let needs: Vec<SupportNeed> =
        crate::db::json::from_text("support_needs", &holder.support_needs)?;
    let changes: Vec<PatternChange> = repo::changes_between(conn, &holder.id, from, to)?
        .iter()
        .filter_map(pattern_change)
        .collect();
    Ok(model::materialise(&needs, &changes, from, to))
}

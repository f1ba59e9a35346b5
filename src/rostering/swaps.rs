//! Shift swaps between PAs: a PA on a published shift asks a colleague to take it (or to swap
//! it for one of the colleague's shifts on the same roster); the colleague accepts or declines;
//! the team manager approves or refuses. Every hard rule is checked when the colleague accepts
//! and again, on the roster as it then is, when the manager approves; the approved swap is an
//! ordinary roster edit (pay committed or released, only those affected told, audited).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::schema::swap_requests;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::repo as market_repo;
use crate::market::repo::my_pa_id;
use crate::rostering::dto::{CreateSwapRequest, RosterEdit, SwapDecision, SwapRequestView};
use crate::rostering::edit::{edit_with, plan};
use crate::rostering::model::{RosterStatus, SwapStatus};
use crate::rostering::repo::{self, RosterRow, RosterShiftRow};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = swap_requests)]
pub struct SwapRequestRow {
    pub id: String,
    pub organisation_id: String,
    pub roster_id: String,
    pub roster_shift_id: String,
    pub requester_pa_id: String,
    pub colleague_pa_id: String,
    pub their_shift_id: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

const LIVE: [SwapStatus; 2] = [SwapStatus::Proposed, SwapStatus::Accepted];

fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<SwapRequestRow>> {
    Ok(swap_requests::table
        .find(id)
        .select(SwapRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Moves a request on from `from` only: a concurrent answer that got there first wins and this
/// one is a 409.
/// `decision` is the manager's reason, when a manager decides.
fn advance(
    conn: &mut DbConnection,
    actor: &AuthUser,
    row: &SwapRequestRow,
    (from, to): (&[SwapStatus], SwapStatus),
    decision: Option<Option<&str>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let updated = diesel::update(
        swap_requests::table
            .find(&row.id)
            .filter(swap_requests::status.eq_any(from.iter().map(|s| s.as_str()))),
    )
    .set((
        swap_requests::status.eq(to.as_str()),
        swap_requests::updated_at.eq(now.naive_utc()),
        swap_requests::decided_by.eq(decision.map(|_| actor.user_id.clone())),
        swap_requests::decision_reason.eq(decision.flatten().map(str::to_owned)),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(AppError::Conflict {
            code: ConflictCode::SwapRequestMovedOn,
            detail: "this request has already been answered or withdrawn".into(),
        });
    }
    audit::record(
        conn,
        Some(actor),
        Change {
            organisation_id: &row.organisation_id,
            action: "swap_request.status_changed",
            entity_type: "swap_request",
            entity_id: &row.id,
            before: Some(&serde_json::json!({"status": row.status})),
            after: Some(&serde_json::json!({"status": to.as_str()})),
        },
    )
}

fn view(conn: &mut DbConnection, row: SwapRequestRow) -> AppResult<SwapRequestView> {
    let shift = repo::find_shift(conn, &row.roster_shift_id)?.ok_or(AppError::NotFound)?;
    let theirs = match &row.their_shift_id {
        Some(id) => repo::find_shift(conn, id)?,
        None => None,
    };
    let when = |s: &RosterShiftRow| format!("{} {}–{}", s.shift_date, s.start_local, s.end_local);
    Ok(SwapRequestView {
        id: row.id,
        roster_id: row.roster_id,
        shift_id: row.roster_shift_id,
        shift: when(&shift),
        requester_pa_id: row.requester_pa_id,
        colleague_pa_id: row.colleague_pa_id,
        their_shift_id: row.their_shift_id,
        their_shift: theirs.as_ref().map(when),
        status: row.status,
        note: row.note,
        decision_reason: row.decision_reason,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The roster edit the swap amounts to.
fn as_edit(conn: &mut DbConnection, row: &SwapRequestRow) -> AppResult<RosterEdit> {
    Ok(match &row.their_shift_id {
        Some(theirs) => RosterEdit::Swap {
            shift_id: row.roster_shift_id.clone(),
            pa_id: row.requester_pa_id.clone(),
            other_shift_id: theirs.clone(),
            other_pa_id: row.colleague_pa_id.clone(),
        },
        None => RosterEdit::Assign {
            shift_id: row.roster_shift_id.clone(),
            pa_ids: repo::pas_on_shift(conn, &row.roster_shift_id)?
                .into_iter()
                .map(|pa| {
                    if pa == row.requester_pa_id {
                        row.colleague_pa_id.clone()
                    } else {
                        pa
                    }
                })
                .collect(),
        },
    })
}

fn roster_of(conn: &mut DbConnection, row: &SwapRequestRow) -> AppResult<RosterRow> {
    repo::find_roster(conn, &row.roster_id)?.ok_or(AppError::NotFound)
}

fn tell(
    conn: &mut DbConnection,
    organisation_id: &str,
    key: String,
    recipient: Option<String>,
    subject: &str,
    body: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(recipient) = recipient {
        crate::mail::enqueue(
            conn,
            crate::mail::NewEmail {
                organisation_id: Some(organisation_id.to_owned()),
                dedupe_key: key,
                recipient,
                subject: subject.into(),
                body,
            },
            now,
        )?;
    }
    Ok(())
}

fn email_of_pa(conn: &mut DbConnection, pa_id: &str) -> AppResult<Option<String>> {
    match market_repo::find_pa(conn, pa_id)? {
        Some(pa) => crate::market::repo::pa_email(conn, &pa),
        None => Ok(None),
    }
}

pub fn create(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    request: CreateSwapRequest,
    now: DateTime<Utc>,
) -> AppResult<SwapRequestView> {
    let me = my_pa_id(conn, actor)?;
    let shift = repo::find_shift(conn, shift_id)?.ok_or(AppError::NotFound)?;
    let roster = repo::find_roster(conn, &shift.roster_id)?.ok_or(AppError::NotFound)?;
    // Only the PA's own published shifts exist for them.
    if roster.organisation_id != actor.organisation_id
        || roster.status != RosterStatus::Published.as_str()
        || !repo::pas_on_shift(conn, &shift.id)?.contains(&me)
    {
        return Err(AppError::NotFound);
    }
    if shift.starts_at <= now.naive_utc() {
        return Err(AppError::Conflict {
            code: ConflictCode::ShiftStarted,
            detail: "a shift that has started cannot be swapped".into(),
        });
    }
    let colleague = crate::ids::parse_id(&request.colleague_pa_id)
        .map(|id| market_repo::find_pa(conn, &id))
        .transpose()?
        .flatten()
        .filter(|pa| pa.organisation_id == roster.organisation_id && pa.id != me)
        .ok_or_else(|| {
            AppError::field(
                "colleague_pa_id",
                "not_found",
                "is not another PA of this organisation",
            )
        })?;
    if let Some(theirs) = &request.their_shift_id {
        let theirs = repo::find_shift(conn, theirs)?
            .filter(|s| s.roster_id == roster.id)
            .ok_or_else(|| {
                AppError::field(
                    "their_shift_id",
                    "not_found",
                    "is not a shift of the same roster",
                )
            })?;
        if !repo::pas_on_shift(conn, &theirs.id)?.contains(&colleague.id) {
            return Err(AppError::field(
                "their_shift_id",
                "not_on_shift",
                "the colleague is not on that shift",
            ));
        }
        if theirs.starts_at <= now.naive_utc() {
            return Err(AppError::field("their_shift_id", "started", "has started"));
        }
    }
    // Asked only when the swap would pass the safety gate today: the colleague is not asked to
    // take what they could not work (checked again when they accept and when it is approved).
    let proposed = SwapRequestRow {
        id: String::new(),
        organisation_id: roster.organisation_id.clone(),
        roster_id: roster.id.clone(),
        roster_shift_id: shift.id.clone(),
        requester_pa_id: me.clone(),
        colleague_pa_id: colleague.id.clone(),
        their_shift_id: request.their_shift_id.clone(),
        status: String::new(),
        note: None,
        decision_reason: None,
        decided_by: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let edit = as_edit(conn, &proposed)?;
    plan(conn, actor, &roster, &edit)?;
    let row = SwapRequestRow {
        id: crate::ids::new_id(),
        organisation_id: roster.organisation_id.clone(),
        roster_id: roster.id.clone(),
        roster_shift_id: shift.id.clone(),
        requester_pa_id: me,
        colleague_pa_id: colleague.id.clone(),
        their_shift_id: request.their_shift_id.clone(),
        status: SwapStatus::Proposed.as_str().into(),
        note: request.note.clone(),
        decision_reason: None,
        decided_by: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(swap_requests::table)
                .values(&row)
                .execute(conn)
        });
        match inserted {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(AppError::Conflict {
                    code: ConflictCode::SwapAlreadyRequested,
                    detail: "this shift already has a live swap request from you".into(),
                })
            }
            Err(other) => return Err(other.into()),
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &row.organisation_id,
                action: "swap_request.created",
                entity_type: "swap_request",
                entity_id: &row.id,
                before: None::<&()>,
                after: Some(&serde_json::json!({
                    "shift_id": row.roster_shift_id,
                    "colleague_pa_id": row.colleague_pa_id,
                    "their_shift_id": row.their_shift_id,
                })),
            },
        )?;
        let email = email_of_pa(conn, &row.colleague_pa_id)?;
        tell(
            conn,
            &row.organisation_id,
            format!("swap_request:{}:proposed", row.id),
            email,
            "A colleague asks you to swap a shift",
            format!(
                "Hello {},\n\nA colleague asks whether you will take their shift on {} {}–{}.\nAnswer in the app.\n",
                colleague.display_name, shift.shift_date, shift.start_local, shift.end_local
            ),
            now,
        )
    })?;
    view(conn, row)
}

/// The requests a PA made or was asked, newest first.
pub fn mine(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<Vec<SwapRequestView>> {
    let me = my_pa_id(conn, actor)?;
    let rows: Vec<SwapRequestRow> = swap_requests::table
        .filter(
            swap_requests::requester_pa_id
                .eq(&me)
                .or(swap_requests::colleague_pa_id.eq(&me)),
        )
        .order((swap_requests::created_at.desc(), swap_requests::id.desc()))
        .limit(200)
        .select(SwapRequestRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|row| view(conn, row)).collect()
}

/// A roster's requests, for its team manager, newest first.
pub fn of_roster(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster_id: &str,
) -> AppResult<Vec<SwapRequestView>> {
    let roster = repo::find_roster(conn, roster_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Read, roster.resource())?;
    let rows: Vec<SwapRequestRow> = swap_requests::table
        .filter(swap_requests::roster_id.eq(&roster.id))
        .order((swap_requests::created_at.desc(), swap_requests::id.desc()))
        .select(SwapRequestRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|row| view(conn, row)).collect()
}

/// The request, if the caller is the PA it names in `role`; 404 otherwise, so nobody learns of
/// other PAs' requests.
fn as_pa(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    colleague: bool,
) -> AppResult<SwapRequestRow> {
    let me = my_pa_id(conn, actor)?;
    find(conn, id)?
        .filter(|row| {
            if colleague {
                row.colleague_pa_id == me
            } else {
                row.requester_pa_id == me
            }
        })
        .ok_or(AppError::NotFound)
}

/// The colleague takes the swap on: every hard rule is checked on the roster as it would be
/// (a broken rule is a 422 naming it), then the team manager is asked to approve.
pub fn accept(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<SwapRequestView> {
    let row = as_pa(conn, actor, id, true)?;
    let roster = roster_of(conn, &row)?;
    let edit = as_edit(conn, &row)?;
    plan(conn, actor, &roster, &edit)?;
    write_transaction(conn, |conn| {
        advance(
            conn,
            actor,
            &row,
            (&[SwapStatus::Proposed], SwapStatus::Accepted),
            None,
            now,
        )?;
        let manager = crate::accounts::repo::find_user(conn, &roster.team_manager_id)?;
        tell(
            conn,
            &row.organisation_id,
            format!("swap_request:{}:accepted", row.id),
            manager.and_then(|m| m.email),
            "A shift swap waits for your approval",
            format!(
                "Two PAs have agreed a shift swap on roster {} ({} to {}). It passes every rule today; approve or refuse it.\n",
                roster.id, roster.from_date, roster.to_date
            ),
            now,
        )
    })?;
    let row = find(conn, id)?.ok_or(AppError::NotFound)?;
    view(conn, row)
}

pub fn decline(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<SwapRequestView> {
    let row = as_pa(conn, actor, id, true)?;
    write_transaction(conn, |conn| {
        advance(
            conn,
            actor,
            &row,
            (&[SwapStatus::Proposed], SwapStatus::Declined),
            None,
            now,
        )?;
        let email = email_of_pa(conn, &row.requester_pa_id)?;
        tell(
            conn,
            &row.organisation_id,
            format!("swap_request:{}:declined", row.id),
            email,
            "Your colleague declined the shift swap",
            "Your colleague cannot take the shift. It stays yours.\n".into(),
            now,
        )
    })?;
    let row = find(conn, id)?.ok_or(AppError::NotFound)?;
    view(conn, row)
}

pub fn withdraw(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<SwapRequestView> {
    let row = as_pa(conn, actor, id, false)?;
    write_transaction(conn, |conn| {
        advance(conn, actor, &row, (&LIVE, SwapStatus::Withdrawn), None, now)
    })?;
    let row = find(conn, id)?.ok_or(AppError::NotFound)?;
    view(conn, row)
}

/// The team manager's decision. Approving re-checks every rule on the roster as it is now and
/// makes the change as a roster edit, in one transaction with the request's new status.
pub fn decide(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    decision: SwapDecision,
    now: DateTime<Utc>,
) -> AppResult<SwapRequestView> {
    crate::auth::policy::must_manage_workforce(actor)?;
    let row = find(conn, id)?
        .filter(|row| row.organisation_id == actor.organisation_id)
        .ok_or(AppError::NotFound)?;
    let roster = roster_of(conn, &row)?;
    authorize(actor, Action::Update, roster.resource())?;
    if SwapStatus::parse("status", &row.status)? != SwapStatus::Accepted {
        return Err(AppError::Conflict {
            code: ConflictCode::NotAccepted,
            detail: format!(
                "only a swap the colleague has accepted can be decided; this one is {}",
                row.status
            ),
        });
    }
    let reason = decision.reason.as_deref();
    if decision.approve {
        let edit = as_edit(conn, &row)?;
        edit_with(
            conn,
            actor,
            &roster.id,
            Some(roster.version),
            &edit,
            now,
            |conn| {
                advance(
                    conn,
                    actor,
                    &row,
                    (&[SwapStatus::Accepted], SwapStatus::Approved),
                    Some(reason),
                    now,
                )
            },
        )?;
    } else {
        let Some(reason) = reason.filter(|r| r.trim().len() >= 3) else {
            return Err(AppError::field(
                "reason",
                "required",
                "say why the swap is refused (3 to 500 characters)",
            ));
        };
        // Approval tells the PAs through the roster edit; a refusal tells them here.
        let requester = email_of_pa(conn, &row.requester_pa_id)?;
        let colleague = email_of_pa(conn, &row.colleague_pa_id)?;
        write_transaction(conn, |conn| {
            advance(
                conn,
                actor,
                &row,
                (&[SwapStatus::Accepted], SwapStatus::Refused),
                Some(Some(reason)),
                now,
            )?;
            for (who, email) in [("requester", &requester), ("colleague", &colleague)] {
                tell(
                    conn,
                    &row.organisation_id,
                    format!("swap_request:{}:refused:{who}", row.id),
                    email.clone(),
                    "A shift swap was refused",
                    format!("The team manager refused the shift swap: {reason}\nYour shifts stay as they were.\n"),
                    now,
                )?;
            }
            Ok::<_, AppError>(())
        })?;
    }
    let row = find(conn, id)?.ok_or(AppError::NotFound)?;
    view(conn, row)
}

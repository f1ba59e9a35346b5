//! A team manager's edits to a draft roster: each checked against every hard rule before it is
//! written (a broken rule is a 422 naming it, and nothing changes), each against the version the
//! manager saw (`If-Match`; a stale one is 412), each audited with before and after.

use crate::money::Pence;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::market::repo as market_repo;
use crate::rostering::dto::*;
use crate::rostering::generate::view;
use crate::rostering::model::RosterStatus;
use crate::rostering::repo::{self, RosterAssignmentRow, RosterRow, RosterShiftRow};
use crate::rostering::safety::{self, field_errors, lock_pas, Staffed};

/// The roster a manager may change, at the version they saw (`If-Match`): 428 without one,
/// 412 when stale.
pub(crate) fn roster_to_change(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
) -> AppResult<(RosterRow, i64)> {
    let roster = repo::find_roster(conn, roster_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Update, roster.resource())?;
    let expected = expected_version.ok_or(AppError::PreconditionRequired)?;
    if expected != roster.version {
        return Err(AppError::PreconditionFailed {
            current_version: roster.version,
        });
    }
    Ok((roster, expected))
}

pub fn edit(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
    request: RosterEdit,
    now: DateTime<Utc>,
) -> AppResult<EditOutcome> {
    edit_with(
        conn,
        actor,
        roster_id,
        expected_version,
        &request,
        now,
        |_| Ok(()),
    )
}

/// The roster's shifts staffed as `next`, the `changed` ones judged by the safety gate.
fn staffed<'a>(
    shifts: &'a [RosterShiftRow],
    next: &[Vec<String>],
    changed: &[(usize, Vec<String>)],
) -> Vec<Staffed<'a>> {
    shifts
        .iter()
        .zip(next)
        .enumerate()
        .map(|(t, (shift, pas))| Staffed {
            shift,
            pa_ids: pas.clone(),
            judged: changed.iter().any(|(c, _)| *c == t),
        })
        .collect()
}

/// An edit, and `also` written in the same transaction (a swap request marked approved, say).
pub(crate) fn edit_with(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
    request: &RosterEdit,
    now: DateTime<Utc>,
    also: impl FnOnce(&mut DbConnection) -> AppResult<()>,
) -> AppResult<EditOutcome> {
    let (roster, expected) = roster_to_change(conn, actor, roster_id, expected_version)?;
    let published = RosterStatus::parse("status", &roster.status)? == RosterStatus::Published;
    let Plan {
        shifts,
        current,
        changed,
        pay_change,
    } = plan(conn, actor, &roster, request)?;

    let version = write_transaction(conn, |conn| {
        // Under the roster's row lock: a concurrent editor who read the same version loses.
        if !repo::bump_version(conn, &roster.id, expected, now.naive_utc())? {
            let current_version =
                repo::find_roster(conn, &roster.id)?.map_or(expected, |r| r.version);
            return Err(AppError::PreconditionFailed { current_version });
        }
        if published {
            // Checked before the lock: the gate again under the added PAs' row locks, as
            // publishing does, so a shift they took meanwhile on another roster is seen.
            let added: Vec<&str> = changed
                .iter()
                .flat_map(|(t, ws)| {
                    ws.iter()
                        .filter(|w| !current[*t].contains(w))
                        .map(String::as_str)
                })
                .collect();
            lock_pas(conn, &added)?;
            let mut next = current.clone();
            for (t, ws) in &changed {
                next[*t] = ws.clone();
            }
            let breaches =
                safety::check(conn, &staffed(&shifts, &next, &changed), Some(&roster.id))?;
            if !breaches.is_empty() {
                return Err(AppError::Validation(field_errors("pa_ids", &breaches)));
            }
        }
        for (t, pa_ids) in &changed {
            let shift = &shifts[*t];
            repo::replace_assignments(
                conn,
                &shift.id,
                &pa_ids
                    .iter()
                    .map(|pa| RosterAssignmentRow {
                        id: crate::ids::new_id(),
                        roster_id: roster.id.clone(),
                        roster_shift_id: shift.id.clone(),
                        pa_id: pa.clone(),
                        created_at: now.naive_utc(),
                        given_at: None,
                    })
                    .collect::<Vec<_>>(),
                (pa_ids.is_empty()).then_some("opened_by_manager"),
            )?;
            audit::record(
                conn,
                Some(actor),
                Change {
                    organisation_id: &roster.organisation_id,
                    action: "roster.shift_edited",
                    entity_type: "roster",
                    entity_id: &roster.id,
                    before: Some(&serde_json::json!({"shift_id": shift.id, "pa_ids": current[*t]})),
                    after: Some(&serde_json::json!({"shift_id": shift.id, "pa_ids": pa_ids})),
                },
            )?;
        }
        if published {
            notify_and_commit(
                conn,
                actor,
                &roster,
                &shifts,
                &changed,
                &current,
                expected + 1,
                now,
            )?;
        }
        also(conn)?;
        Ok(expected + 1)
    })?;
    let roster = repo::find_roster(conn, &roster.id)?.ok_or(AppError::NotFound)?;
    let shifts_now = repo::roster_shifts_of(conn, &roster.id)?;
    let assignments_now = repo::assignments_of(conn, &roster.id)?;
    let touched: Vec<&str> = changed
        .iter()
        .map(|(t, _)| shifts[*t].id.as_str())
        .collect();
    let all = view(&roster, &shifts_now, &assignments_now)?;
    Ok(EditOutcome {
        version,
        shifts: all
            .shifts
            .into_iter()
            .filter(|s| touched.contains(&s.id.as_str()))
            .collect(),
        pay_change_pence: pay_change,
    })
}

/// An edit worked out and checked, not yet written: the shifts it touches with their new PAs.
pub(crate) struct Plan {
    shifts: Vec<RosterShiftRow>,
    /// Per shift, its PAs now.
    current: Vec<Vec<String>>,
    changed: Vec<(usize, Vec<String>)>,
    pub pay_change: Pence,
}

/// Works out an edit against the roster as stored and asks the safety gate about the result:
/// a broken rule is a 422 naming it, the shift and the PA. Writes nothing.
pub(crate) fn plan(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster: &RosterRow,
    request: &RosterEdit,
) -> AppResult<Plan> {
    let shifts = repo::roster_shifts_of(conn, &roster.id)?;
    let assignments = repo::assignments_of(conn, &roster.id)?;
    let shift_index: HashMap<&str, usize> = shifts
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let find_shift = |field: &str, id: &str| {
        shift_index
            .get(id)
            .copied()
            .ok_or_else(|| AppError::field(field, "not_found", "is not a shift of this roster"))
    };
    let mut pay_of: HashMap<String, Pence> = HashMap::new();
    let mut worker = |conn: &mut DbConnection, field: &str, id: &str| -> AppResult<String> {
        let pa = crate::ids::parse_id(id)
            .map(|id| market_repo::find_pa(conn, &id))
            .transpose()?
            .flatten()
            .filter(|pa| pa.organisation_id == actor.organisation_id && pa.active)
            .ok_or_else(|| {
                AppError::field(
                    field,
                    "not_found",
                    "is not an active PA of this organisation",
                )
            })?;
        pay_of.insert(pa.id.clone(), pa.min_hourly_pay_pence);
        Ok(pa.id)
    };
    let mut current: Vec<Vec<String>> = vec![Vec::new(); shifts.len()];
    for a in &assignments {
        if let Some(&t) = shift_index.get(a.roster_shift_id.as_str()) {
            current[t].push(a.pa_id.clone());
        }
    }
    let headcount = |t: usize| usize::try_from(shifts[t].headcount).unwrap_or(1);

    // The edit, as the shifts it touches and their new PAs.
    let mut changed: Vec<(usize, Vec<String>)> = Vec::new();
    match request {
        RosterEdit::Assign { shift_id, pa_ids } => {
            let t = find_shift("shift_id", shift_id)?;
            let mut ws: Vec<String> = Vec::new();
            for (i, id) in pa_ids.iter().enumerate() {
                let w = worker(conn, &format!("pa_ids[{i}]"), id)?;
                if ws.contains(&w) {
                    return Err(AppError::field(
                        &format!("pa_ids[{i}]"),
                        "duplicate",
                        "is named twice",
                    ));
                }
                ws.push(w);
            }
            if ws.len() != headcount(t) {
                return Err(AppError::Validation(vec![FieldError::new(
                    "pa_ids",
                    "half_staffed",
                    if headcount(t) == 2 {
                        "2:1 support needs two different PAs"
                    } else {
                        "this shift needs exactly one PA"
                    },
                )]));
            }
            changed.push((t, ws));
        }
        RosterEdit::Unassign { shift_id } => {
            changed.push((find_shift("shift_id", shift_id)?, Vec::new()));
        }
        RosterEdit::Swap {
            shift_id,
            pa_id,
            other_shift_id,
            other_pa_id,
        } => {
            let (t, u) = (
                find_shift("shift_id", shift_id)?,
                find_shift("other_shift_id", other_shift_id)?,
            );
            let (a, b) = (
                worker(conn, "pa_id", pa_id)?,
                worker(conn, "other_pa_id", other_pa_id)?,
            );
            if !current[t].contains(&a) {
                return Err(AppError::field(
                    "pa_id",
                    "not_on_shift",
                    "is not on shift_id",
                ));
            }
            if !current[u].contains(&b) {
                return Err(AppError::field(
                    "other_pa_id",
                    "not_on_shift",
                    "is not on other_shift_id",
                ));
            }
            if t == u {
                return Err(AppError::field(
                    "other_shift_id",
                    "same_shift",
                    "must be another shift",
                ));
            }
            let swap = |ws: &[String], from: &str, to: &str| -> Vec<String> {
                ws.iter()
                    .map(|w| if w == from { to.to_owned() } else { w.clone() })
                    .collect()
            };
            changed.push((t, swap(&current[t], &a, &b)));
            changed.push((u, swap(&current[u], &b, &a)));
        }
        RosterEdit::Move {
            shift_id,
            pa_id,
            to_shift_id,
        } => {
            let (t, u) = (
                find_shift("shift_id", shift_id)?,
                find_shift("to_shift_id", to_shift_id)?,
            );
            let a = worker(conn, "pa_id", pa_id)?;
            if !current[t].contains(&a) {
                return Err(AppError::field(
                    "pa_id",
                    "not_on_shift",
                    "is not on shift_id",
                ));
            }
            if current[u].contains(&a) {
                return Err(AppError::field(
                    "to_shift_id",
                    "already_on_shift",
                    "the PA is already on it",
                ));
            }
            if current[u].len() >= headcount(u) {
                return Err(AppError::field(
                    "to_shift_id",
                    "full",
                    "has no place free: swap instead",
                ));
            }
            changed.push((t, current[t].iter().filter(|w| **w != a).cloned().collect()));
            let mut to = current[u].clone();
            to.push(a);
            changed.push((u, to));
        }
    }
    let mut next = current.clone();
    for (t, ws) in &changed {
        next[*t] = ws.clone();
    }
    let breaches = safety::check(conn, &staffed(&shifts, &next, &changed), Some(&roster.id))?;
    if !breaches.is_empty() {
        return Err(AppError::Validation(field_errors("pa_ids", &breaches)));
    }
    for (t, _) in &changed {
        for pa in &current[*t] {
            if !pay_of.contains_key(pa) {
                let row = market_repo::find_pa(conn, pa)?.ok_or(AppError::NotFound)?;
                pay_of.insert(pa.clone(), row.min_hourly_pay_pence);
            }
        }
    }
    let pay = |ws: &[String], t: usize| -> Pence {
        let minutes = (shifts[t].ends_at - shifts[t].starts_at).num_minutes();
        ws.iter()
            .map(|w| Pence::new(pay_of.get(w).copied().unwrap_or_default().get() * minutes / 60))
            .sum()
    };
    let pay_change: Pence = changed
        .iter()
        .map(|(t, ws)| pay(ws, *t) - pay(&current[*t], *t))
        .sum();

    Ok(Plan {
        shifts,
        current,
        changed,
        pay_change,
    })
}

/// After a change to a published roster: the cost difference of each touched shift is
/// committed to (or released from) the person's budget, and only the PAs added to or taken off
/// a shift are told, by e-mail through the outbox.
#[expect(
    clippy::too_many_arguments,
    reason = "one step of the edit's transaction"
)]
pub(crate) fn notify_and_commit(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster: &RosterRow,
    shifts: &[RosterShiftRow],
    changed: &[(usize, Vec<String>)],
    before: &[Vec<String>],
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use crate::market::repo::pa_email;
    use crate::rostering::model::place_pay;
    use crate::rostering::publish::commitments;
    let mut told: Vec<(String, Vec<String>)> = Vec::new();
    for (t, after) in changed {
        let shift = &shifts[*t];
        let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
            .ok_or(AppError::NotFound)?;
        let mut delta = Pence::ZERO;
        let mut lines = Vec::new();
        for (pa_id, sign, words) in before[*t]
            .iter()
            .filter(|w| !after.contains(w))
            .map(|w| (w, -1, "no longer yours"))
            .chain(
                after
                    .iter()
                    .filter(|w| !before[*t].contains(w))
                    .map(|w| (w, 1, "now yours")),
            )
        {
            let pa = market_repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
            delta += place_pay(pa.min_hourly_pay_pence, shift.minutes(), shift.shift_date) * sign;
            lines.push((
                pa_id.clone(),
                format!(
                    "{} {}–{} with {}: {words}",
                    shift.shift_date, shift.start_local, shift.end_local, holder.display_name
                ),
            ));
        }
        if !delta.is_zero() {
            if let Some(budget) =
                crate::budgets::repo::approved_budget_on(conn, &holder.id, shift.shift_date)?
            {
                let entries = commitments(
                    &budget,
                    shift,
                    delta,
                    format!(
                        "Roster change {} {}–{}",
                        shift.shift_date, shift.start_local, shift.end_local
                    ),
                );
                crate::budgets::ledger::post_entries(
                    conn,
                    &budget,
                    &holder,
                    entries,
                    Some(actor),
                    now,
                )?;
            }
        }
        for (pa, line) in lines {
            match told.iter_mut().find(|(p, _)| *p == pa) {
                Some((_, all)) => all.push(line),
                None => told.push((pa, vec![line])),
            }
        }
    }
    for (pa_id, lines) in told {
        let Some(pa) = market_repo::find_pa(conn, &pa_id)? else {
            continue;
        };
        let email = pa_email(conn, &pa)?;
        if let Some(email) = email {
            crate::mail::enqueue(
                conn,
                crate::mail::NewEmail {
                    organisation_id: Some(roster.organisation_id.clone()),
                    dedupe_key: format!("roster_changed:{}:{version}:{pa_id}", roster.id),
                    recipient: email,
                    subject: "A change to your shifts".into(),
                    body: format!("Hello {},\n\n{}\n", pa.display_name, lines.join("\n")),
                },
                now,
            )?;
        }
    }
    Ok(())
}

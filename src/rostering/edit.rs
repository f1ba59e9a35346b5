//! A team manager's edits to a draft roster: each checked against every hard rule before it is
//! written (a broken rule is a 422 naming it, and nothing changes), each against the version the
//! manager saw (`If-Match`; a stale one is 412), each audited with before and after.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::market::index::MatchIndex;
use crate::market::model::ShiftKind;
use crate::market::repo as market_repo;
use crate::rostering::clashes::{first_clash, lock_pas};
use crate::rostering::dto::*;
use crate::rostering::generate::{build, view, Built};
use crate::rostering::model::PlannedShift;
use crate::rostering::repo::{self, RosterAssignmentRow, RosterRow, RosterShiftRow};
use crate::rostering::solver::{rules_broken, HardRule};

pub(crate) fn rule_words(rule: HardRule) -> (&'static str, &'static str) {
    match rule {
        HardRule::NotEligible => (
            "not_eligible",
            "is not allowed on this shift: a competency, check, clinical sign-off, availability, leave or the do-not-match list stops it",
        ),
        HardRule::HalfStaffed => ("half_staffed", "2:1 support needs two different PAs"),
        HardRule::DoubleBookingOrTravel => (
            "double_booking",
            "is already working then, or could not travel between the two homes in time",
        ),
        HardRule::DailyRest => ("daily_rest", "would not get 11 hours' rest between working periods"),
        HardRule::WeeklyRest => ("weekly_rest", "would not get 24 hours' unbroken rest in that week"),
        HardRule::Contract => ("contract", "would break their contract's limits"),
        HardRule::WeeklyHours => ("weekly_hours", "would work more hours a week on average than the 48-hour limit (unless opted out) or their own maximum allow"),
    }
}

pub(crate) fn planned_of(row: &RosterShiftRow) -> PlannedShift {
    let starts_at = row.starts_at.and_utc();
    let ends_at = row.ends_at.and_utc();
    PlannedShift {
        date: row.shift_date,
        start: row.start_local.clone(),
        end: row.end_local.clone(),
        starts_at,
        ends_at,
        hours: (ends_at - starts_at).num_minutes() as f64 / 60.0,
        kind: ShiftKind::parse(&row.kind),
        headcount: u8::try_from(row.headcount).unwrap_or(1),
        source: row.source.clone(),
        change_id: row.support_change_id.clone(),
    }
}

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
    match_index: &MatchIndex,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
    request: RosterEdit,
    now: DateTime<Utc>,
) -> AppResult<EditOutcome> {
    edit_with(
        conn,
        match_index,
        actor,
        roster_id,
        expected_version,
        &request,
        now,
        |_| Ok(()),
    )
}

/// An edit, and `also` written in the same transaction (a swap request marked approved, say).
#[expect(
    clippy::too_many_arguments,
    reason = "the edit's inputs plus the caller's own step"
)]
pub(crate) fn edit_with(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
    request: &RosterEdit,
    now: DateTime<Utc>,
    also: impl FnOnce(&mut DbConnection) -> AppResult<()>,
) -> AppResult<EditOutcome> {
    let (roster, expected) = roster_to_change(conn, actor, roster_id, expected_version)?;
    let published = roster.status == "published";
    let Plan {
        shifts,
        built,
        current,
        changed,
        pay_change,
    } = plan(conn, match_index, actor, &roster, request)?;

    let version = write_transaction(conn, |conn| {
        // Under the roster's row lock: a concurrent editor who read the same version loses.
        if !repo::bump_version(conn, &roster.id, expected, now.naive_utc())? {
            let current_version =
                repo::find_roster(conn, &roster.id)?.map_or(expected, |r| r.version);
            return Err(AppError::PreconditionFailed { current_version });
        }
        if published {
            // Planned against other rosters before the lock: checked again under the added PAs'
            // row locks, as publishing does, so a roster published meanwhile is seen.
            let added: Vec<(usize, &str)> = changed
                .iter()
                .flat_map(|(t, ws)| {
                    ws.iter()
                        .filter(|w| !current[*t].contains(w))
                        .map(|&w| (*t, built.pa_ids[w].as_str()))
                })
                .collect();
            lock_pas(conn, &added.iter().map(|(_, pa)| *pa).collect::<Vec<_>>())?;
            for (t, pa) in added {
                if let Some((_, rule)) = first_clash(conn, pa, &[&shifts[t]], Some(&roster.id))? {
                    return Err(AppError::Conflict {
                        code: "clashes_with_published",
                        detail: format!(
                            "PA {pa} would break a rule ({rule}) with a shift they now work on another published roster"
                        ),
                    });
                }
            }
        }
        for (t, ws) in &changed {
            let shift = &shifts[*t];
            let pa_ids: Vec<String> = ws.iter().map(|&w| built.pa_ids[w].clone()).collect();
            let before: Vec<String> = current[*t]
                .iter()
                .map(|&w| built.pa_ids[w].clone())
                .collect();
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
                    before: Some(&serde_json::json!({"shift_id": shift.id, "pa_ids": before})),
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
                &built.pa_ids,
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
    let all = view(&roster, &shifts_now, &assignments_now);
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
    built: Built,
    current: Vec<Vec<usize>>,
    changed: Vec<(usize, Vec<usize>)>,
    pub pay_change: i64,
}

/// Works out an edit against the roster as stored and checks every hard rule on the result:
/// a broken rule is a 422 naming it and the PA. Writes nothing.
pub(crate) fn plan(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
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

    // The people in shift order, and the problem as the generator saw it, rebuilt today.
    let mut holder_ids: Vec<String> = Vec::new();
    for s in &shifts {
        if !holder_ids.contains(&s.budget_holder_id) {
            holder_ids.push(s.budget_holder_id.clone());
        }
    }
    let mut holders = Vec::new();
    for id in &holder_ids {
        holders.push(market_repo::find_budget_holder(conn, id)?.ok_or(AppError::NotFound)?);
    }
    let planned: Vec<(usize, PlannedShift)> = shifts
        .iter()
        .map(|s| {
            let person = holder_ids
                .iter()
                .position(|h| h == &s.budget_holder_id)
                .unwrap_or(0);
            (person, planned_of(s))
        })
        .collect();
    let built = build(
        conn,
        match_index,
        actor,
        &holders,
        &planned,
        (roster.from_date, roster.to_date),
        Some(&roster.id),
    )?;
    let worker_of: HashMap<&str, usize> = built
        .pa_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let worker = |field: &str, id: &str| {
        worker_of.get(id).copied().ok_or_else(|| {
            AppError::field(
                field,
                "not_found",
                "is not an active PA of this organisation",
            )
        })
    };
    let mut current: Vec<Vec<usize>> = vec![Vec::new(); shifts.len()];
    for a in &assignments {
        if let (Some(&t), Some(&w)) = (
            shift_index.get(a.roster_shift_id.as_str()),
            worker_of.get(a.pa_id.as_str()),
        ) {
            current[t].push(w);
        }
    }
    // Other published rosters' shifts, after this roster's, with their one PA.
    current.extend(
        built.problem.tasks[shifts.len()..]
            .iter()
            .map(|t| t.eligible.clone()),
    );

    // The edit, as the shifts it touches and their new PAs.
    let mut changed: Vec<(usize, Vec<usize>)> = Vec::new();
    match request {
        RosterEdit::Assign { shift_id, pa_ids } => {
            let t = find_shift("shift_id", shift_id)?;
            let mut ws = Vec::new();
            for (i, id) in pa_ids.iter().enumerate() {
                let w = worker(&format!("pa_ids[{i}]"), id)?;
                if ws.contains(&w) {
                    return Err(AppError::field(
                        &format!("pa_ids[{i}]"),
                        "duplicate",
                        "is named twice",
                    ));
                }
                ws.push(w);
            }
            if ws.len() != usize::from(built.problem.tasks[t].headcount) {
                let (code, words) = rule_words(HardRule::HalfStaffed);
                return Err(AppError::Validation(vec![FieldError::new(
                    "pa_ids",
                    code,
                    if built.problem.tasks[t].headcount == 2 {
                        words.to_owned()
                    } else {
                        "this shift needs exactly one PA".to_owned()
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
            let (a, b) = (worker("pa_id", pa_id)?, worker("other_pa_id", other_pa_id)?);
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
            let swap = |ws: &[usize], from: usize, to: usize| -> Vec<usize> {
                ws.iter().map(|&w| if w == from { to } else { w }).collect()
            };
            changed.push((t, swap(&current[t], a, b)));
            changed.push((u, swap(&current[u], b, a)));
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
            let a = worker("pa_id", pa_id)?;
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
            if current[u].len() >= usize::from(built.problem.tasks[u].headcount) {
                return Err(AppError::field(
                    "to_shift_id",
                    "full",
                    "has no place free: swap instead",
                ));
            }
            changed.push((t, current[t].iter().copied().filter(|&w| w != a).collect()));
            let mut to = current[u].clone();
            to.push(a);
            changed.push((u, to));
        }
    }
    let mut next = current.clone();
    for (t, ws) in &changed {
        next[*t] = ws.clone();
    }
    let mut errors = Vec::new();
    for (t, ws) in &changed {
        // 2:1 support is two PAs or none: never half a team.
        if !ws.is_empty() && ws.len() != usize::from(built.problem.tasks[*t].headcount) {
            let (code, words) = rule_words(HardRule::HalfStaffed);
            errors.push(FieldError::new("pa_ids", code, words));
        }
        for &w in ws {
            for rule in rules_broken(&built.problem, &next, *t, w) {
                let (code, words) = rule_words(rule);
                errors.push(FieldError::new(
                    "pa_ids",
                    code,
                    format!("PA {} {words}", built.pa_ids[w]),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let pay = |ws: &[usize], t: usize| -> i64 {
        let task = &built.problem.tasks[t];
        ws.iter()
            .map(|&w| built.problem.workers[w].hourly_pay_pence * (task.end - task.start) / 60)
            .sum()
    };
    let pay_change: i64 = changed
        .iter()
        .map(|(t, ws)| pay(ws, *t) - pay(&current[*t], *t))
        .sum();

    Ok(Plan {
        shifts,
        built,
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
fn notify_and_commit(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster: &RosterRow,
    shifts: &[RosterShiftRow],
    changed: &[(usize, Vec<usize>)],
    before: &[Vec<usize>],
    pa_ids: &[String],
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use crate::rostering::publish::{commitments, pa_email, place_pay};
    let mut told: Vec<(String, Vec<String>)> = Vec::new();
    for (t, after) in changed {
        let shift = &shifts[*t];
        let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
            .ok_or(AppError::NotFound)?;
        let mut delta = 0;
        let mut lines = Vec::new();
        for (&w, sign, words) in before[*t]
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
            let pa = market_repo::find_pa(conn, &pa_ids[w])?.ok_or(AppError::NotFound)?;
            delta += sign * place_pay(pa.min_hourly_pay_pence, shift);
            lines.push((
                pa_ids[w].clone(),
                format!(
                    "{} {}–{} with {}: {words}",
                    shift.shift_date, shift.start_local, shift.end_local, holder.display_name
                ),
            ));
        }
        if delta != 0 {
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
                crate::budgets::service::post_entries(
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

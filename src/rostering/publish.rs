//! Publishing a draft roster: it goes live, each shift's cost is committed to the person's
//! budget ledger, and each PA is e-mailed their shifts through the outbox, all in one
//! transaction, against the version the manager saw.

use crate::money::Pence;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::budgets::ledger::{post_entries, NewLedgerEntry};
use crate::budgets::model::{split, EntryKind};
use crate::budgets::repo::{self as budget_repo, BudgetRow};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::repo as market_repo;
use crate::rostering::dto::RosterView;
use crate::rostering::edit::roster_to_change;
use crate::rostering::generate::view;
use crate::rostering::model::place_pay;
use crate::rostering::model::RosterStatus;
use crate::rostering::repo::{self, RosterShiftRow};
use crate::rostering::safety::{self, lock_pas};

pub fn publish(
    conn: &mut DbConnection,
    actor: &AuthUser,
    roster_id: &str,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<RosterView> {
    let (roster, expected) = roster_to_change(conn, actor, roster_id, expected_version)?;
    if RosterStatus::parse("status", &roster.status)? != RosterStatus::Draft {
        return Err(AppError::Conflict {
            code: ConflictCode::NotADraft,
            detail: "this roster is already published".into(),
        });
    }
    let shifts = repo::roster_shifts_of(conn, &roster.id)?;
    let assignments = repo::assignments_of(conn, &roster.id)?;

    // What each staffed shift commits: each PA's hourly pay for the real hours, with the
    // holiday pay that accrues on it (the statutory rate in force that day).
    let mut pay_of: BTreeMap<String, Pence> = BTreeMap::new();
    let mut pas: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for a in &assignments {
        if let std::collections::btree_map::Entry::Vacant(entry) = pay_of.entry(a.pa_id.clone()) {
            let pa = market_repo::find_pa(conn, &a.pa_id)?.ok_or(AppError::NotFound)?;
            entry.insert(pa.min_hourly_pay_pence);
        }
        if let Some(t) = shifts.iter().position(|s| s.id == a.roster_shift_id) {
            pas.entry(a.pa_id.clone()).or_default().push(t);
        }
    }
    let mut holders = BTreeMap::new();
    let mut entries_by_budget: BTreeMap<String, Vec<NewLedgerEntry>> = BTreeMap::new();
    let mut budgets = BTreeMap::new();
    for shift in &shifts {
        let on_shift: Vec<&str> = assignments
            .iter()
            .filter(|a| a.roster_shift_id == shift.id)
            .map(|a| a.pa_id.as_str())
            .collect();
        if on_shift.is_empty() {
            continue;
        }
        if !holders.contains_key(&shift.budget_holder_id) {
            let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
                .ok_or(AppError::NotFound)?;
            holders.insert(shift.budget_holder_id.clone(), holder);
        }
        let budget =
            budget_repo::approved_budget_on(conn, &shift.budget_holder_id, shift.shift_date)?
                .ok_or_else(|| AppError::Conflict {
                    code: ConflictCode::NoApprovedBudget,
                    detail: format!(
                        "a shift on {} is for someone with no approved budget covering that date",
                        shift.shift_date
                    ),
                })?;
        let pay: Pence = on_shift
            .iter()
            .map(|pa| {
                place_pay(
                    pay_of.get(*pa).copied().unwrap_or_default(),
                    shift.minutes(),
                    shift.shift_date,
                )
            })
            .sum();
        entries_by_budget
            .entry(budget.id.clone())
            .or_default()
            .extend(commitments(
                &budget,
                shift,
                pay,
                format!(
                    "Roster shift {} {}–{}, {} PA(s), pay and holiday pay",
                    shift.shift_date,
                    shift.start_local,
                    shift.end_local,
                    on_shift.len()
                ),
            ));
        budgets.insert(budget.id.clone(), budget);
    }

    write_transaction(conn, |conn| {
        if !repo::publish(conn, &roster.id, expected, now.naive_utc())? {
            let current_version =
                repo::find_roster(conn, &roster.id)?.map_or(expected, |r| r.version);
            return Err(AppError::PreconditionFailed { current_version });
        }
        // Everything may have changed since the draft was made (evidence, checks, sign-offs,
        // leave, the do-not-match list, shifts another manager published for the same PAs):
        // the whole roster passes the safety gate again here, under the PAs' row locks, or
        // nothing goes live. The manager can open the shifts named, then publish.
        lock_pas(conn, &pas.keys().map(String::as_str).collect::<Vec<_>>())?;
        let staffed = safety::as_stored(&shifts, &assignments, |_| true);
        let breaches = safety::check(conn, &staffed, Some(&roster.id))?;
        if !breaches.is_empty() {
            return Err(safety::refuse(
                ConflictCode::UnsafeRoster,
                "Publishing this roster",
                breaches,
            ));
        }
        for (budget_id, entries) in std::mem::take(&mut entries_by_budget) {
            let Some(budget) = budgets.get(&budget_id) else {
                continue;
            };
            let Some(holder) = holders.get(&budget.budget_holder_id) else {
                continue;
            };
            post_entries(conn, budget, holder, entries, Some(actor), now)?;
        }
        for (pa_id, tasks) in &pas {
            let Some(pa) = market_repo::find_pa(conn, pa_id)? else {
                continue;
            };
            let email = market_repo::pa_email(conn, &pa)?;
            let Some(email) = email else {
                continue;
            };
            let lines: Vec<String> = tasks
                .iter()
                .map(|&t| {
                    let s = &shifts[t];
                    let person = holders
                        .get(&s.budget_holder_id)
                        .map_or("", |h| h.display_name.as_str());
                    format!(
                        "{} {}–{}  {} ({})",
                        s.shift_date,
                        s.start_local,
                        s.end_local,
                        person,
                        s.kind.replace('_', " ")
                    )
                })
                .collect();
            crate::mail::enqueue(
                conn,
                crate::mail::NewEmail {
                    organisation_id: Some(roster.organisation_id.clone()),
                    dedupe_key: format!("roster_published:{}:{}", roster.id, pa_id),
                    recipient: email,
                    subject: format!("Your shifts from {} to {}", roster.from_date, roster.to_date),
                    body: format!(
                        "Hello {},\n\nYour shifts ({} in all):\n\n{}\n\nThe app shows them, with any changes.\n",
                        pa.display_name,
                        lines.len(),
                        lines.join("\n")
                    ),
                },
                now,
            )?;
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &roster.organisation_id,
                action: "roster.published",
                entity_type: "roster",
                entity_id: &roster.id,
                before: Some(
                    &serde_json::json!({"status": RosterStatus::Draft.as_str(), "version": expected}),
                ),
                after: Some(
                    &serde_json::json!({"status": RosterStatus::Published.as_str(), "version": expected + 1}),
                ),
            },
        )
    })?;
    let roster = repo::find_roster(conn, &roster.id)?.ok_or(AppError::NotFound)?;
    let shifts = repo::roster_shifts_of(conn, &roster.id)?;
    let assignments = repo::assignments_of(conn, &roster.id)?;
    let mut out = view(&roster, &shifts, &assignments)?;
    out.cost_against_budget =
        crate::rostering::generate::costs(conn, &roster, &shifts, &assignments, now.date_naive())?;
    Ok(out)
}

/// Commitment entries for a shift's pay, split by the budget's funding streams.
pub(crate) fn commitments(
    budget: &BudgetRow,
    shift: &RosterShiftRow,
    pay: Pence,
    description: String,
) -> Vec<NewLedgerEntry> {
    split(pay, i64::from(budget.health_share_bp))
        .into_iter()
        .map(|(stream, amount)| NewLedgerEntry {
            kind: EntryKind::Commitment,
            stream,
            amount_pence: amount,
            entry_date: shift.shift_date,
            description: description.clone(),
            reason: None,
            source_type: "roster",
            source_id: Some(shift.id.clone()),
            reverses_entry_id: None,
            idempotency: None,
        })
        .collect()
}

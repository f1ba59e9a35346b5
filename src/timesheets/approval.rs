//! A timesheet's journey: the PA submits it, an approver approves it (its actual cost goes to
//! the budget ledger and the shift's commitment is released) or queries it back with a reason.
//! After approval a change is an amendment: recorded with who, when, why, before and after,
//! costed as a ledger adjustment, and paid in the next open period if its own is closed.

use crate::money::Pence;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::Action;
use crate::auth::AuthUser;
use crate::budgets::ledger::{post_entries, NewLedgerEntry};
use crate::budgets::model::{split, EntryKind};
use crate::budgets::repo as budget_repo;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::repo as market_repo;
use crate::timesheets::dto::*;
use crate::timesheets::model::Status;
use crate::timesheets::periods::{open_period_for, Calendar};
use crate::timesheets::repo::{self, Amendable, AmendmentRow, ShiftRecordRow};
use crate::timesheets::service::{
    record_cost, record_view_of, timesheet_to, timesheet_view, TimesheetContext,
};

fn stale(context: &TimesheetContext, expected: Option<i64>) -> AppResult<()> {
    match expected {
        Some(v) if v != context.timesheet.version => Err(AppError::PreconditionFailed {
            current_version: context.timesheet.version,
        }),
        _ => Ok(()),
    }
}

fn moved_on(conn: &mut DbConnection, id: &str) -> AppError {
    match repo::find_timesheet(conn, id) {
        Ok(Some(t)) => AppError::PreconditionFailed {
            current_version: t.version,
        },
        Ok(None) => AppError::NotFound,
        Err(e) => e,
    }
}

/// The PA hands the timesheet in. Every record needs both ends first.
pub fn submit(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    now: DateTime<Utc>,
) -> AppResult<TimesheetView> {
    let context = timesheet_to(conn, actor, timesheet_id, Action::Update)?;
    if !context.status()?.open_to_pa() {
        return Err(AppError::Conflict {
            code: ConflictCode::TimesheetNotOpen,
            detail: format!("this timesheet is {}", context.timesheet.status),
        });
    }
    let records = repo::records_of(conn, &context.timesheet.id)?;
    let incomplete: Vec<String> = records
        .iter()
        .filter(|r| r.clock_in_at.is_none() || r.clock_out_at.is_none())
        .map(|r| r.work_date.to_string())
        .collect();
    if !incomplete.is_empty() {
        return Err(AppError::Conflict {
            code: ConflictCode::IncompleteRecords,
            detail: format!(
                "clock in and out on every shift first (missing on {})",
                incomplete.join(", ")
            ),
        });
    }
    let t = &context.timesheet;
    write_transaction(conn, |conn| {
        if !repo::change_status(
            conn,
            &t.id,
            t.version,
            &[Status::Draft, Status::Queried],
            Status::Submitted,
            None,
            None,
            None,
            now.naive_utc(),
        )? {
            return Err(moved_on(conn, &t.id));
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &t.organisation_id,
                action: "timesheet.submitted",
                entity_type: "timesheet",
                entity_id: &t.id,
                before: Some(&serde_json::json!({"status": t.status, "version": t.version})),
                after: Some(&serde_json::json!({"status": "submitted", "version": t.version + 1})),
            },
        )
    })?;
    let context = timesheet_to(conn, actor, timesheet_id, Action::Read)?;
    timesheet_view(conn, &context, now)
}

fn decidable(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    expected: Option<i64>,
) -> AppResult<TimesheetContext> {
    let context = timesheet_to(conn, actor, timesheet_id, Action::Administer)?;
    stale(&context, expected)?;
    if context.status()? != Status::Submitted {
        return Err(AppError::Conflict {
            code: ConflictCode::NotSubmitted,
            detail: format!(
                "only a submitted timesheet is decided; this one is {}",
                context.timesheet.status
            ),
        });
    }
    Ok(context)
}

/// Approves a submitted timesheet: posts each record's actual cost to the person's budget and
/// releases what the roster committed for it. Unrostered work needs the team manager.
pub fn approve(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    expected: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<TimesheetView> {
    let context = decidable(conn, actor, timesheet_id, expected)?;
    let t = context.timesheet.clone();
    let records = repo::records_of(conn, &t.id)?;
    let manager = crate::auth::policy::manages_workforce(actor);
    if !manager && records.iter().any(|r| r.roster_shift_id.is_none()) {
        return Err(AppError::Forbidden);
    }
    if records
        .iter()
        .any(|r| r.clock_in_at.is_none() || r.clock_out_at.is_none())
    {
        return Err(AppError::Conflict {
            code: ConflictCode::IncompleteRecords,
            detail: "a record lacks a clock-in or clock-out: query it back to the PA".into(),
        });
    }
    let period = repo::find_period(conn, &t.pay_period_id)?.ok_or(AppError::NotFound)?;
    let pa = market_repo::find_pa(conn, &t.pa_id)?.ok_or(AppError::NotFound)?;
    let hourly = pa.min_hourly_pay_pence;

    let shift_ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.roster_shift_id.clone())
        .collect();
    let shifts: BTreeMap<String, _> = repo::shifts_by_id(conn, &shift_ids)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let mut entries: BTreeMap<String, Vec<NewLedgerEntry>> = BTreeMap::new();
    let mut budgets = BTreeMap::new();
    for record in &records {
        let budget = budget_repo::approved_budget_on(conn, &t.budget_holder_id, record.work_date)?
            .ok_or_else(|| AppError::Conflict {
                code: ConflictCode::NoApprovedBudget,
                detail: format!(
                    "work on {} is for someone with no approved budget covering that date",
                    record.work_date
                ),
            })?;
        let cost = record_cost(conn, record, hourly)?.total();
        let share = i64::from(budget.health_share_bp);
        let description = format!(
            "Timesheet {} {}: pay, holiday pay, mileage and expenses",
            record.work_date, pa.display_name
        );
        let list = entries.entry(budget.id.clone()).or_default();
        list.extend(ledger_entries(
            EntryKind::Actual,
            share,
            cost,
            record,
            &description,
            None,
        ));
        if let Some(shift_id) = &record.roster_shift_id {
            if let Some(shift) = shifts.get(shift_id) {
                let committed =
                    crate::rostering::model::place_pay(hourly, shift.minutes(), shift.shift_date);
                list.extend(ledger_entries(
                    EntryKind::Commitment,
                    share,
                    -committed,
                    record,
                    &format!("Released on approval: {description}"),
                    None,
                ));
            }
        }
        budgets.insert(budget.id.clone(), budget);
    }
    let calendar = Calendar::of_period(conn, &period, &context.policy)?;
    let paid_in = open_period_for(conn, &calendar, period.starts_on)?;
    write_transaction(conn, |conn| {
        if !repo::change_status(
            conn,
            &t.id,
            t.version,
            &[Status::Submitted],
            Status::Approved,
            Some(&actor.user_id),
            None,
            Some(&paid_in.id),
            now.naive_utc(),
        )? {
            return Err(moved_on(conn, &t.id));
        }
        for (budget_id, list) in std::mem::take(&mut entries) {
            if let Some(budget) = budgets.get(&budget_id) {
                post_entries(conn, budget, &context.holder, list, Some(actor), now)?;
            }
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &t.organisation_id,
                action: "timesheet.approved",
                entity_type: "timesheet",
                entity_id: &t.id,
                before: Some(&serde_json::json!({"status": t.status, "version": t.version})),
                after: Some(&serde_json::json!({
                    "status": Status::Approved.as_str(),
                    "version": t.version + 1,
                    "paid_in_period_id": paid_in.id,
                })),
            },
        )
    })?;
    let context = timesheet_to(conn, actor, timesheet_id, Action::Read)?;
    timesheet_view(conn, &context, now)
}

fn ledger_entries(
    kind: EntryKind,
    health_share_bp: i64,
    amount: Pence,
    record: &ShiftRecordRow,
    description: &str,
    reason: Option<&str>,
) -> Vec<NewLedgerEntry> {
    if amount.is_zero() {
        return Vec::new();
    }
    split(amount, health_share_bp)
        .into_iter()
        .filter(|(_, part)| !part.is_zero())
        .map(|(stream, part)| NewLedgerEntry {
            kind,
            stream,
            amount_pence: part,
            entry_date: record.work_date,
            description: description.to_owned(),
            reason: reason.map(str::to_owned),
            source_type: "timesheet",
            source_id: Some(record.id.clone()),
            reverses_entry_id: None,
            idempotency: None,
        })
        .collect()
}

/// Sends a submitted timesheet back to the PA with a reason (in the app and by e-mail).
pub fn query(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    request: QueryRequest,
    expected: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<TimesheetView> {
    let context = decidable(conn, actor, timesheet_id, expected)?;
    let t = &context.timesheet;
    let reason = request.reason.trim().to_owned();
    let pa = market_repo::find_pa(conn, &t.pa_id)?.ok_or(AppError::NotFound)?;
    let email = crate::market::repo::pa_email(conn, &pa)?;
    write_transaction(conn, |conn| {
        if !repo::change_status(
            conn,
            &t.id,
            t.version,
            &[Status::Submitted],
            Status::Queried,
            Some(&actor.user_id),
            Some(&reason),
            None,
            now.naive_utc(),
        )? {
            return Err(moved_on(conn, &t.id));
        }
        if let Some(email) = email {
            crate::mail::enqueue(
                conn,
                crate::mail::NewEmail {
                    organisation_id: Some(t.organisation_id.clone()),
                    dedupe_key: format!("timesheet_queried:{}:{}", t.id, t.version),
                    recipient: email,
                    subject: "Your timesheet has a question".into(),
                    body: format!(
                        "Hello {},\n\nYour timesheet was sent back with this question:\n\n{}\n\nOpen the app to answer it and submit again.\n",
                        pa.display_name, reason
                    ),
                },
                now,
            )?;
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &t.organisation_id,
                action: "timesheet.queried",
                entity_type: "timesheet",
                entity_id: &t.id,
                before: Some(&serde_json::json!({"status": t.status, "version": t.version})),
                after: Some(
                    &serde_json::json!({"status": "queried", "version": t.version + 1, "reason": reason}),
                ),
            },
        )
    })?;
    let context = timesheet_to(conn, actor, timesheet_id, Action::Read)?;
    timesheet_view(conn, &context, now)
}

pub fn amendment_view(row: &AmendmentRow) -> AppResult<AmendmentView> {
    Ok(AmendmentView {
        id: row.id.clone(),
        record_id: row.shift_record_id.clone(),
        reason: row.reason.clone(),
        before: crate::db::json::from_text("before_json", &row.before_json)?,
        after: crate::db::json::from_text("after_json", &row.after_json)?,
        cost_change_pence: row.cost_change_pence,
        pay_period_id: row.pay_period_id.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at.and_utc(),
    })
}

/// Changes an approved record. Who may call: the person's team manager and admins.
pub fn amend(
    conn: &mut DbConnection,
    actor: &AuthUser,
    record_id: &str,
    request: AmendmentRequest,
    now: DateTime<Utc>,
) -> AppResult<AmendmentView> {
    let record = repo::find_record(conn, record_id)?.ok_or(AppError::NotFound)?;
    let context = timesheet_to(conn, actor, &record.timesheet_id, Action::Create)?;
    if context.status()? != Status::Approved {
        return Err(AppError::Conflict {
            code: ConflictCode::NotApproved,
            detail: "only an approved record is amended; before approval the approver queries it back to the PA".into(),
        });
    }
    let mut after = record.clone();
    if let Some(at) = request.clock_in_at {
        after.clock_in_at = Some(at.naive_utc());
    }
    if let Some(at) = request.clock_out_at {
        after.clock_out_at = Some(at.naive_utc());
    }
    if let Some(minutes) = request.break_minutes {
        after.break_minutes = minutes as i32;
    }
    if let Some(miles) = request.business_miles {
        after.mileage_tenths = (miles * 10.0).round() as i32;
    }
    if let Some(pence) = request.expenses_pence {
        after.expenses_pence = pence;
    }
    if let (Some(start), Some(end)) = (after.clock_in_at, after.clock_out_at) {
        if end <= start {
            return Err(AppError::field(
                "clock_out_at",
                "before_clock_in",
                "must be after the clock-in",
            ));
        }
        if i64::from(after.break_minutes) > (end - start).num_minutes() {
            return Err(AppError::field(
                "break_minutes",
                "longer_than_shift",
                "is longer than the time between clock-in and clock-out",
            ));
        }
    }
    let (before_fields, after_fields) = (Amendable::of(&record), Amendable::of(&after));
    if before_fields == after_fields {
        return Err(AppError::field(
            "reason",
            "no_change",
            "the amendment changes nothing",
        ));
    }
    let hourly =
        market_repo::find_pa(conn, &record.pa_id)?.map_or(Pence::ZERO, |p| p.min_hourly_pay_pence);
    let change =
        record_cost(conn, &after, hourly)?.total() - record_cost(conn, &record, hourly)?.total();
    let budget = budget_repo::approved_budget_on(conn, &record.budget_holder_id, record.work_date)?
        .ok_or_else(|| AppError::Conflict {
            code: ConflictCode::NoApprovedBudget,
            detail: "the person has no approved budget covering this record's date".into(),
        })?;
    let own_period =
        repo::find_period(conn, &context.timesheet.pay_period_id)?.ok_or(AppError::NotFound)?;
    let reason = request.reason.trim().to_owned();
    let calendar = Calendar::of_period(conn, &own_period, &context.policy)?;
    write_transaction(conn, |conn| {
        // The period is chosen inside the transaction: one closed a moment ago is passed over.
        let period = open_period_for(conn, &calendar, own_period.starts_on)?;
        let current = repo::find_record(conn, &record.id)?.ok_or(AppError::NotFound)?;
        if current != record {
            return Err(AppError::Conflict {
                code: ConflictCode::RecordChanged,
                detail: "the record changed while this amendment was made: read it again".into(),
            });
        }
        after.amendments += 1;
        after.updated_at = now.naive_utc();
        repo::save_record(conn, &after)?;
        let row = AmendmentRow {
            id: crate::ids::new_id(),
            organisation_id: record.organisation_id.clone(),
            shift_record_id: record.id.clone(),
            reason: reason.clone(),
            before_json: crate::db::json::to_text(&before_fields)?,
            after_json: crate::db::json::to_text(&after_fields)?,
            cost_change_pence: change,
            pay_period_id: period.id.clone(),
            created_by: actor.user_id.clone(),
            created_at: now.naive_utc(),
        };
        repo::insert_amendment(conn, &row)?;
        let entries = ledger_entries(
            EntryKind::Adjustment,
            i64::from(budget.health_share_bp),
            change,
            &after,
            &format!("Timesheet amendment {}", record.work_date),
            Some(&reason),
        );
        post_entries(conn, &budget, &context.holder, entries, Some(actor), now)?;
        let view = amendment_view(&row)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &record.organisation_id,
                action: "shift_record.amended",
                entity_type: "shift_record",
                entity_id: &record.id,
                before: Some(&before_fields),
                after: Some(&view),
            },
        )?;
        Ok(view)
    })
}

/// A record's amendments, oldest first, with the record as it stands.
pub fn amendments(
    conn: &mut DbConnection,
    actor: &AuthUser,
    record_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(RecordView, Vec<AmendmentView>)> {
    let record = repo::find_record(conn, record_id)?.ok_or(AppError::NotFound)?;
    let context = timesheet_to(conn, actor, &record.timesheet_id, Action::Read)?;
    let view = record_view_of(conn, &record, &context.policy, now)?;
    let list = repo::amendments_of(conn, &record.id)?
        .iter()
        .map(amendment_view)
        .collect::<AppResult<Vec<_>>>()?;
    Ok((view, list))
}

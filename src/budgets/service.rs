//! Budgets and the ledger: each action authorises, checks, writes in one transaction (with its
//! audit record, alerts and e-mail), and answers.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::budgets::dto::*;
use crate::budgets::ledger::{owner, post_entries, statement_input, NewLedgerEntry, Owner};
use crate::budgets::model::BudgetStatus;
use crate::budgets::model::{self, EntryKind, ProfileMonth, Stream};
use crate::budgets::repo::{self, BudgetRow, LedgerEntryRow};
use crate::db::json::from_text as from_json;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode, FieldError};
use crate::http::{Page, PageQuery};

/// The budget and its owner, once the caller may `action` it.
fn budget_for(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
    action: Action,
) -> AppResult<(BudgetRow, Owner)> {
    let budget = repo::find_budget(conn, budget_id)?.ok_or(AppError::NotFound)?;
    let owner = owner(conn, &budget.budget_holder_id)?;
    authorize(actor, action, owner.resource())?;
    Ok((budget, owner))
}

pub fn budget_view(row: &BudgetRow) -> AppResult<BudgetView> {
    Ok(BudgetView {
        id: row.id.clone(),
        budget_holder_id: row.budget_holder_id.clone(),
        name: row.name.clone(),
        amount_pence: row.amount_pence,
        period_start: row.period_start,
        period_end: row.period_end,
        health_share_bp: row.health_share_bp,
        streams: model::streams_of(i64::from(row.health_share_bp)),
        profile: from_json("profile", &row.profile)?,
        alert_thresholds: from_json("alert_thresholds", &row.alert_thresholds)?,
        status: row.status.clone(),
        approved_by: row.approved_by.clone(),
        approved_at: row.approved_at,
        created_at: row.created_at,
    })
}

pub fn entry_view(row: &LedgerEntryRow) -> LedgerEntryView {
    LedgerEntryView {
        id: row.id.clone(),
        budget_id: row.budget_id.clone(),
        sequence: row.sequence,
        kind: row.kind.clone(),
        stream: row.stream.clone(),
        amount_pence: row.amount_pence,
        entry_date: row.entry_date,
        description: row.description.clone(),
        reason: row.reason.clone(),
        source_type: row.source_type.clone(),
        source_id: row.source_id.clone(),
        reverses_entry_id: row.reverses_entry_id.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at,
    }
}

pub fn create_budget(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    request: CreateBudget,
    now: DateTime<Utc>,
) -> AppResult<BudgetView> {
    let owner = owner(conn, holder_id)?;
    authorize(actor, Action::Create, owner.resource())?;
    let mut errors = Vec::new();
    if request.period_end < request.period_start {
        errors.push(FieldError::new(
            "period_end",
            "before_start",
            "must not be before period_start",
        ));
    } else if (request.period_end - request.period_start).num_days() > 3 * 366 {
        errors.push(FieldError::new(
            "period_end",
            "range",
            "a budget period is at most three years",
        ));
    }
    for (i, t) in request.alert_thresholds.iter().enumerate() {
        if !(1..=200).contains(t) {
            errors.push(FieldError::new(
                format!("alert_thresholds[{i}]"),
                "range",
                "must be a percentage from 1 to 200",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let profile = match request.profile {
        Some(profile) => {
            let errors = model::check_profile(
                &profile,
                request.amount_pence,
                request.period_start,
                request.period_end,
            );
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            profile
        }
        None => model::even_profile(
            request.amount_pence,
            request.period_start,
            request.period_end,
        ),
    };
    let mut thresholds = request.alert_thresholds;
    thresholds.sort_unstable();
    thresholds.dedup();
    let row = BudgetRow {
        id: crate::ids::new_id(),
        organisation_id: owner.holder.organisation_id.clone(),
        budget_holder_id: owner.holder.id.clone(),
        name: request.name.trim().to_owned(),
        amount_pence: request.amount_pence,
        period_start: request.period_start,
        period_end: request.period_end,
        health_share_bp: request.health_share_bp,
        profile: crate::db::json::to_text(&profile)?,
        alert_thresholds: crate::db::json::to_text(&thresholds)?,
        status: BudgetStatus::Draft.as_str().into(),
        approved_by: None,
        approved_at: None,
        ledger_sequence: 0,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let view = budget_view(&row)?;
    write_transaction(conn, |conn| {
        repo::insert_budget(conn, &row)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "budget.created",
                entity_type: "budget",
                entity_id: &row.id,
                before: None,
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

pub fn list_budgets(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
) -> AppResult<Vec<BudgetView>> {
    let owner = owner(conn, holder_id)?;
    authorize(actor, Action::Read, owner.resource())?;
    repo::budgets_of(conn, holder_id)?
        .iter()
        .map(budget_view)
        .collect::<AppResult<Vec<_>>>()
}

pub fn read_budget(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
) -> AppResult<BudgetView> {
    let (budget, _) = budget_for(conn, actor, budget_id, Action::Read)?;
    budget_view(&budget)
}

/// Records the panel's approval (who, when) and allocates the amount to the ledger.
pub fn approve_budget(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BudgetView> {
    let (budget, owner) = budget_for(conn, actor, budget_id, Action::Administer)?;
    write_transaction(conn, |conn| {
        if !repo::mark_approved(conn, &budget.id, &actor.user_id, now.naive_utc())? {
            return Err(AppError::Conflict {
                code: ConflictCode::AlreadyApproved,
                detail: "this budget is already approved".into(),
            });
        }
        let entries = model::split(budget.amount_pence, i64::from(budget.health_share_bp))
            .into_iter()
            .map(|(stream, amount)| NewLedgerEntry {
                kind: EntryKind::Allocation,
                stream,
                amount_pence: amount,
                entry_date: budget.period_start,
                description: format!("Approved budget: {}", budget.name),
                reason: None,
                source_type: "budget_approval",
                source_id: Some(budget.id.clone()),
                reverses_entry_id: None,
                idempotency: None,
            })
            .collect();
        post_entries(conn, &budget, &owner.holder, entries, Some(actor), now)?;
        let approved = repo::find_budget(conn, &budget.id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &budget.organisation_id,
                action: "budget.approved",
                entity_type: "budget",
                entity_id: &budget.id,
                before: Some(&budget_view(&budget)?),
                after: Some(&budget_view(&approved)?),
            },
        )?;
        budget_view(&approved)
    })
}

/// The stream an entry falls to: the one asked for, or the budget's only stream.
fn stream_for(budget: &BudgetRow, asked: Option<Stream>) -> AppResult<Stream> {
    let streams = model::streams_of(i64::from(budget.health_share_bp));
    match asked {
        Some(stream) if streams.contains(&stream) => Ok(stream),
        Some(_) => Err(AppError::field(
            "stream",
            "not_funded",
            "is not a funding stream of this budget",
        )),
        None if streams.len() == 1 => Ok(streams[0]),
        None => Err(AppError::field(
            "stream",
            "required",
            "is required: this budget has two funding streams",
        )),
    }
}

/// A replayed request answers with what it wrote first; the same key with another request is
/// a conflict.
fn replayed(existing: LedgerEntryRow, hash: &str) -> AppResult<(LedgerEntryView, bool)> {
    if existing.request_hash.as_deref() == Some(hash) {
        Ok((entry_view(&existing), true))
    } else {
        Err(AppError::Conflict {
            code: ConflictCode::IdempotencyKeyReused,
            detail: "this Idempotency-Key was used for a different request".into(),
        })
    }
}

/// An entry made by hand. Returns the entry and whether it is a replay.
pub fn post_manual_entry(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
    request: PostEntry,
    idempotency_key: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(LedgerEntryView, bool)> {
    let (budget, owner) = budget_for(conn, actor, budget_id, Action::Create)?;
    let hash = crate::idempotency::request_hash(&request);
    if let Some(key) = &idempotency_key {
        if let Some(existing) = repo::entry_by_key(conn, &budget.id, key)? {
            return replayed(existing, &hash);
        }
    }
    let mut errors = Vec::new();
    if request.kind == EntryKind::Allocation {
        errors.push(FieldError::new(
            "kind",
            "not_manual",
            "allocations come with the budget's approval",
        ));
    }
    if request.amount_pence == Pence::new(0) {
        errors.push(FieldError::new("amount_pence", "zero", "must not be zero"));
    }
    if request.entry_date < budget.period_start || request.entry_date > budget.period_end {
        errors.push(FieldError::new(
            "entry_date",
            "outside_period",
            "must fall within the budget's period",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let stream = stream_for(&budget, request.stream)?;
    if BudgetStatus::parse("status", &budget.status)? != BudgetStatus::Approved {
        return Err(AppError::Conflict {
            code: ConflictCode::BudgetNotApproved,
            detail: "entries are recorded against approved budgets only".into(),
        });
    }
    let outcome = write_transaction(conn, |conn| {
        // Under the budget's row lock: a concurrent request with the same key has either
        // committed (and is found here) or waits for this one.
        repo::lock_budget(conn, &budget.id)?;
        if let Some(key) = &idempotency_key {
            if let Some(existing) = repo::entry_by_key(conn, &budget.id, key)? {
                return replayed(existing, &hash);
            }
        }
        let rows = post_entries(
            conn,
            &budget,
            &owner.holder,
            vec![NewLedgerEntry {
                kind: request.kind,
                stream,
                amount_pence: request.amount_pence,
                entry_date: request.entry_date,
                description: request.description.trim().to_owned(),
                reason: Some(request.reason.trim().to_owned()),
                source_type: "manual",
                source_id: None,
                reverses_entry_id: None,
                idempotency: idempotency_key.clone().map(|k| (k, hash.clone())),
            }],
            Some(actor),
            now,
        )?;
        let view = rows.first().map(entry_view).ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &budget.organisation_id,
                action: "ledger.entry_posted",
                entity_type: "budget",
                entity_id: &budget.id,
                before: None,
                after: Some(&view),
            },
        )?;
        Ok((view, false))
    });
    match outcome {
        // Two first tries with one key raced past the check: the loser answers as a replay.
        Err(AppError::Conflict { .. }) if idempotency_key.is_some() => {
            let key = idempotency_key.unwrap_or_default();
            match repo::entry_by_key(conn, &budget.id, &key)? {
                Some(existing) => replayed(existing, &hash),
                None => Err(AppError::Conflict {
                    code: ConflictCode::Conflict,
                    detail: "the entry could not be written; try again".into(),
                }),
            }
        }
        other => other,
    }
}

/// Reverses an entry with a new, opposite one (nothing is changed in place).
pub fn reverse_entry(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
    entry_id: &str,
    request: ReverseEntry,
    now: DateTime<Utc>,
) -> AppResult<LedgerEntryView> {
    let (budget, owner) = budget_for(conn, actor, budget_id, Action::Create)?;
    let original = repo::find_entry(conn, entry_id)?
        .filter(|e| e.budget_id == budget.id)
        .ok_or(AppError::NotFound)?;
    if original.reverses_entry_id.is_some() {
        return Err(AppError::field(
            "entry_id",
            "is_reversal",
            "is itself a reversal: post a new entry instead",
        ));
    }
    let kind = EntryKind::parse(&original.kind)
        .ok_or_else(|| AppError::internal("unknown ledger entry kind"))?;
    let stream = Stream::parse(&original.stream)
        .ok_or_else(|| AppError::internal("unknown funding stream"))?;
    write_transaction(conn, |conn| {
        repo::lock_budget(conn, &budget.id)?;
        if repo::reversal_of(conn, &original.id)?.is_some() {
            return Err(AppError::Conflict {
                code: ConflictCode::AlreadyReversed,
                detail: "this entry has already been reversed".into(),
            });
        }
        let rows = post_entries(
            conn,
            &budget,
            &owner.holder,
            vec![NewLedgerEntry {
                kind,
                stream,
                amount_pence: -original.amount_pence,
                entry_date: original.entry_date,
                description: format!(
                    "Reversal of entry {}: {}",
                    original.sequence, original.description
                ),
                reason: Some(request.reason.trim().to_owned()),
                source_type: "reversal",
                source_id: Some(original.id.clone()),
                reverses_entry_id: Some(original.id.clone()),
                idempotency: None,
            }],
            Some(actor),
            now,
        )?;
        let view = rows.first().map(entry_view).ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &budget.organisation_id,
                action: "ledger.entry_reversed",
                entity_type: "budget",
                entity_id: &budget.id,
                before: Some(&entry_view(&original)),
                after: Some(&view),
            },
        )?;
        Ok(view)
    })
}

pub fn list_entries(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
    page: &PageQuery,
) -> AppResult<Page<LedgerEntryView>> {
    let (budget, _) = budget_for(conn, actor, budget_id, Action::Read)?;
    let limit = page.limit()?;
    let after = match &page.cursor {
        None => 0,
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| AppError::field("cursor", "invalid", "is not a cursor from this list"))?,
    };
    let rows = repo::entries_page(conn, &budget.id, after, limit)?;
    Ok(Page::from_rows(rows, limit, |r| r.sequence.to_string()).map(|r| entry_view(&r)))
}

pub fn statement(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    query: &StatementQuery,
    today: NaiveDate,
) -> AppResult<StatementView> {
    let owner = owner(conn, holder_id)?;
    authorize(actor, Action::Read, owner.resource())?;
    let as_of = query.as_of.unwrap_or(today);
    let budgets = repo::budgets_of(conn, holder_id)?;
    let budget = match &query.budget_id {
        Some(id) => budgets.into_iter().find(|b| &b.id == id).ok_or_else(|| {
            AppError::field("budget_id", "not_found", "is not a budget of this person")
        })?,
        None => {
            let approved: Vec<BudgetRow> = budgets
                .into_iter()
                .filter(|b| b.status == BudgetStatus::Approved.as_str())
                .collect();
            let current = approved
                .iter()
                .position(|b| b.period_start <= as_of && as_of <= b.period_end);
            match current {
                Some(i) => approved.into_iter().nth(i),
                None => approved.into_iter().next(),
            }
            .ok_or(AppError::NotFound)?
        }
    };
    let from = query.from.unwrap_or(budget.period_start);
    let to = query.to.unwrap_or(budget.period_end);
    if to < from {
        return Err(AppError::field(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    let entries = repo::figures_until(conn, &budget.id, to.max(as_of))?;
    let profile: Vec<ProfileMonth> = from_json("profile", &budget.profile)?;
    let input = statement_input(&budget, &entries, &profile, (from, to), as_of);
    let balances = model::statement(&input);
    let months = profile
        .iter()
        .filter_map(|m| model::parse_month(&m.month).map(|first| (m, first)))
        .filter_map(|(m, first)| {
            let last = model::parse_month(&m.month)
                .and_then(|f| f.checked_add_months(chrono::Months::new(1)))
                .map(|n| n - chrono::Duration::days(1))?;
            let (a, b) = (first.max(from), last.min(to));
            if a > b {
                return None;
            }
            let total = model::statement(&model::StatementInput {
                from: a,
                to: b,
                ..input
            })
            .pop()?;
            Some(MonthView {
                month: m.month.clone(),
                profiled_pence: total.profiled_pence,
                committed_pence: total.committed_pence,
                spent_pence: total.spent_pence,
                variance_pence: total.variance_pence,
            })
        })
        .collect();
    let alerts = repo::alerts_of(conn, &budget.id)?
        .into_iter()
        .map(|a| AlertView {
            scope: a.scope,
            threshold_percent: a.threshold_percent,
            used_pence: a.used_pence,
            profile_pence: a.profile_pence,
            raised_at: a.raised_at,
        })
        .collect();
    Ok(StatementView {
        ledger_sequence: budget.ledger_sequence,
        budget: budget_view(&budget)?,
        from,
        to,
        as_of,
        balances,
        months,
        alerts,
    })
}

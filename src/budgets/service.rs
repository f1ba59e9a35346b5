//! Budgets and the ledger: each action authorises, checks, writes in one transaction (with its
//! audit record, alerts and e-mail), and answers.

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::budgets::dto::*;
use crate::budgets::model::{self, EntryKind, ProfileMonth, Stream};
use crate::budgets::repo::{self, BudgetAlertRow, BudgetRow, LedgerEntryRow};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{Page, PageQuery};
use crate::market::repo::BudgetHolderRow;

/// The person and their organisation's area: what the policy weighs for budgets.
struct Owner {
    holder: BudgetHolderRow,
    area_code: String,
}

impl Owner {
    fn resource(&self) -> Resource<'_> {
        Resource::Budget {
            organisation_id: &self.holder.organisation_id,
            organisation_area_code: &self.area_code,
            team_manager_id: &self.holder.team_manager_id,
            user_id: self.holder.user_id.as_deref(),
            representative_user_id: self.holder.representative_user_id.as_deref(),
        }
    }
}

fn owner(conn: &mut DbConnection, holder_id: &str) -> AppResult<Owner> {
    let holder =
        crate::market::repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
    let area_code = crate::accounts::repo::find_organisation(conn, &holder.organisation_id)?
        .map(|o| o.area_code)
        .unwrap_or_default();
    Ok(Owner { holder, area_code })
}

/// The person, once the caller may read their budgets and statements.
pub fn budget_reader(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
) -> AppResult<BudgetHolderRow> {
    let owner = owner(conn, holder_id)?;
    authorize(actor, Action::Read, owner.resource())?;
    Ok(owner.holder)
}

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

fn from_json<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

pub fn budget_view(row: &BudgetRow) -> BudgetView {
    BudgetView {
        id: row.id.clone(),
        budget_holder_id: row.budget_holder_id.clone(),
        name: row.name.clone(),
        amount_pence: row.amount_pence,
        period_start: row.period_start,
        period_end: row.period_end,
        health_share_bp: row.health_share_bp,
        streams: model::streams_of(i64::from(row.health_share_bp)),
        profile: from_json(&row.profile),
        alert_thresholds: from_json(&row.alert_thresholds),
        status: row.status.clone(),
        approved_by: row.approved_by.clone(),
        approved_at: row.approved_at,
        created_at: row.created_at,
    }
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
        profile: serde_json::to_string(&profile).unwrap_or_default(),
        alert_thresholds: serde_json::to_string(&thresholds).unwrap_or_default(),
        status: "draft".into(),
        approved_by: None,
        approved_at: None,
        ledger_sequence: 0,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let view = budget_view(&row);
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
    Ok(repo::budgets_of(conn, holder_id)?
        .iter()
        .map(budget_view)
        .collect())
}

pub fn read_budget(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_id: &str,
) -> AppResult<BudgetView> {
    let (budget, _) = budget_for(conn, actor, budget_id, Action::Read)?;
    Ok(budget_view(&budget))
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
                code: "already_approved",
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
                before: Some(&budget_view(&budget)),
                after: Some(&budget_view(&approved)),
            },
        )?;
        Ok(budget_view(&approved))
    })
}

/// One entry to write. Later domains (published rosters, approved timesheets) post through
/// `post_entries` too.
pub struct NewLedgerEntry {
    pub kind: EntryKind,
    pub stream: Stream,
    pub amount_pence: i64,
    pub entry_date: NaiveDate,
    pub description: String,
    pub reason: Option<String>,
    pub source_type: &'static str,
    pub source_id: Option<String>,
    pub reverses_entry_id: Option<String>,
    /// The client's Idempotency-Key and the hash of its request.
    pub idempotency: Option<(String, String)>,
}

/// Appends entries to an approved budget's ledger inside the caller's transaction, then raises
/// any threshold the new balance crosses (each once) with e-mail to the team manager and the
/// person. Takes the budget's row lock first, so concurrent writers queue.
pub fn post_entries(
    conn: &mut DbConnection,
    budget: &BudgetRow,
    holder: &BudgetHolderRow,
    entries: Vec<NewLedgerEntry>,
    actor: Option<&AuthUser>,
    now: DateTime<Utc>,
) -> AppResult<Vec<LedgerEntryRow>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let first = repo::take_sequences(conn, &budget.id, entries.len() as i64)?;
    let rows: Vec<LedgerEntryRow> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| LedgerEntryRow {
            id: crate::ids::new_id(),
            budget_id: budget.id.clone(),
            sequence: first + i as i64,
            kind: e.kind.as_str().to_owned(),
            stream: e.stream.as_str().to_owned(),
            amount_pence: e.amount_pence,
            entry_date: e.entry_date,
            description: e.description,
            reason: e.reason,
            source_type: e.source_type.to_owned(),
            source_id: e.source_id,
            reverses_entry_id: e.reverses_entry_id,
            request_hash: e.idempotency.as_ref().map(|(_, h)| h.clone()),
            idempotency_key: e.idempotency.map(|(k, _)| k),
            created_by: actor.map(|a| a.user_id.clone()),
            created_at: now.naive_utc(),
        })
        .collect();
    repo::insert_entries(conn, &rows)?;
    raise_alerts(conn, budget, holder, &rows, now)?;
    Ok(rows)
}

fn raise_alerts(
    conn: &mut DbConnection,
    budget: &BudgetRow,
    holder: &BudgetHolderRow,
    written: &[LedgerEntryRow],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let thresholds: Vec<i32> = from_json(&budget.alert_thresholds);
    let profile: Vec<ProfileMonth> = from_json(&budget.profile);
    let mut dates: Vec<NaiveDate> = written
        .iter()
        .filter(|r| r.kind != EntryKind::Allocation.as_str())
        .map(|r| r.entry_date)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    if dates.is_empty() || thresholds.is_empty() {
        return Ok(());
    }
    let last = dates.last().copied().unwrap_or(budget.period_end);
    let entries = repo::figures_until(conn, &budget.id, last.max(budget.period_end))?;
    let mut recipients: Vec<(String, String)> = Vec::new();
    for user_id in [
        Some(holder.team_manager_id.as_str()),
        holder.user_id.as_deref(),
        holder.representative_user_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(email) = crate::accounts::repo::find_user(conn, user_id)?
            .filter(|u| u.active)
            .and_then(|u| u.email)
        {
            recipients.push((user_id.to_owned(), email));
        }
    }
    for date in dates {
        for crossing in model::crossings(&entries, &profile, &thresholds, date) {
            let alert = BudgetAlertRow {
                id: crate::ids::new_id(),
                budget_id: budget.id.clone(),
                scope: crossing.scope.clone(),
                threshold_percent: crossing.threshold,
                used_pence: crossing.used_pence,
                profile_pence: crossing.profile_pence,
                raised_at: now.naive_utc(),
            };
            if !repo::raise_alert(conn, &alert)? {
                continue;
            }
            let against = match crossing.scope.strip_prefix("month:") {
                Some(month) => format!("the profile for {month}"),
                None => "the whole budget".to_owned(),
            };
            for (user_id, email) in &recipients {
                crate::mail::enqueue(
                    conn,
                    crate::mail::NewEmail {
                        organisation_id: Some(budget.organisation_id.clone()),
                        dedupe_key: format!("budget_alert:{}:{user_id}", alert.id),
                        recipient: email.clone(),
                        subject: format!("Budget alert: {}% of {against} reached", crossing.threshold),
                        body: format!(
                            "The budget \"{}\" for {} has committed or spent £{:.2} of £{:.2}, {}% or more of {against}.\n\nThe statement in parota shows where the money went.\n",
                            budget.name,
                            holder.display_name,
                            crossing.used_pence as f64 / 100.0,
                            crossing.profile_pence as f64 / 100.0,
                            crossing.threshold,
                        ),
                    },
                    now,
                )?;
            }
        }
    }
    Ok(())
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
            code: "idempotency_key_reused",
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
    if request.amount_pence == 0 {
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
    if budget.status != "approved" {
        return Err(AppError::Conflict {
            code: "budget_not_approved",
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
                    code: "conflict",
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
                code: "already_reversed",
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
                .filter(|b| b.status == "approved")
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
    let profile: Vec<ProfileMonth> = from_json(&budget.profile);
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
        budget: budget_view(&budget),
        from,
        to,
        as_of,
        balances,
        months,
        alerts,
    })
}

/// A budget's balance, all streams together, over `from`..=`to` as it stands on `as_of`: for
/// other domains that weigh a cost against the budget (a draft roster, say).
pub(crate) fn balance_between(
    conn: &mut DbConnection,
    budget: &BudgetRow,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> AppResult<model::Balance> {
    let entries = repo::figures_until(conn, &budget.id, to.max(as_of))?;
    let profile: Vec<ProfileMonth> = from_json(&budget.profile);
    model::statement(&statement_input(
        budget,
        &entries,
        &profile,
        (from, to),
        as_of,
    ))
    .pop()
    .ok_or_else(|| AppError::internal("a statement without a total"))
}

fn statement_input<'a>(
    budget: &BudgetRow,
    entries: &'a [model::EntryFigures],
    profile: &'a [ProfileMonth],
    (from, to): (NaiveDate, NaiveDate),
    as_of: NaiveDate,
) -> model::StatementInput<'a> {
    model::StatementInput {
        entries,
        profile,
        health_share_bp: i64::from(budget.health_share_bp),
        period_start: budget.period_start,
        period_end: budget.period_end,
        from,
        to,
        as_of,
    }
}

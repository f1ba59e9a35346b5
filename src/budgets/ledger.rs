//! What other domains use of budgets: posting entries to a ledger (published rosters, approved
//! timesheets, payroll reconciliation), the balance a cost is weighed against, and the person
//! whose budgets a caller may read.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::budgets::model::{self, EntryKind, ProfileMonth, Stream};
use crate::budgets::repo::{self, BudgetAlertRow, BudgetRow, LedgerEntryRow};
use crate::db::json::from_text as from_json;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::market::repo::BudgetHolderRow;

/// The person and their organisation's area: what the policy weighs for budgets.
pub(crate) struct Owner {
    pub holder: BudgetHolderRow,
    pub area_code: String,
}

impl Owner {
    pub fn resource(&self) -> Resource<'_> {
        Resource::Budget {
            organisation_id: &self.holder.organisation_id,
            organisation_area_code: &self.area_code,
            team_manager_id: &self.holder.team_manager_id,
            user_id: self.holder.user_id.as_deref(),
            representative_user_id: self.holder.representative_user_id.as_deref(),
        }
    }
}

pub(crate) fn owner(conn: &mut DbConnection, holder_id: &str) -> AppResult<Owner> {
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

/// One entry to write. Later domains (published rosters, approved timesheets) post through
/// `post_entries` too.
pub struct NewLedgerEntry {
    pub kind: EntryKind,
    pub stream: Stream,
    pub amount_pence: Pence,
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
    let thresholds: Vec<i32> = from_json("alert_thresholds", &budget.alert_thresholds)?;
    let profile: Vec<ProfileMonth> = from_json("profile", &budget.profile)?;
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
                            "The budget \"{}\" for {} has committed or spent {} of {}, {}% or more of {against}.\n\nThe statement in parota shows where the money went.\n",
                            budget.name,
                            holder.display_name,
                            crossing.used_pence,
                            crossing.profile_pence,
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

/// A budget's balance, all streams together, over `from`..=`to` as it stands on `as_of`: for
/// other domains that weigh a cost against the budget (a draft roster, say).
pub fn balance_between(
    conn: &mut DbConnection,
    budget: &BudgetRow,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> AppResult<model::Balance> {
    let entries = repo::figures_until(conn, &budget.id, to.max(as_of))?;
    let profile: Vec<ProfileMonth> = from_json("profile", &budget.profile)?;
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

pub(crate) fn statement_input<'a>(
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

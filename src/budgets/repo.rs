//! Queries for budgets and the ledger.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::budgets::model::BudgetStatus;
use crate::budgets::model::{EntryFigures, EntryKind, Stream};
use crate::db::schema::{budget_alerts, budgets, ledger_entries};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budgets)]
pub struct BudgetRow {
    pub id: String,
    pub organisation_id: String,
    pub budget_holder_id: String,
    pub name: String,
    pub amount_pence: Pence,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub health_share_bp: i32,
    pub profile: String,
    pub alert_thresholds: String,
    pub status: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub ledger_sequence: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntryRow {
    pub id: String,
    pub budget_id: String,
    pub sequence: i64,
    pub kind: String,
    pub stream: String,
    pub amount_pence: Pence,
    pub entry_date: NaiveDate,
    pub description: String,
    pub reason: Option<String>,
    pub source_type: String,
    pub source_id: Option<String>,
    pub reverses_entry_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_alerts)]
pub struct BudgetAlertRow {
    pub id: String,
    pub budget_id: String,
    pub scope: String,
    pub threshold_percent: i32,
    pub used_pence: Pence,
    pub profile_pence: Pence,
    pub raised_at: NaiveDateTime,
}

pub fn insert_budget(conn: &mut DbConnection, row: &BudgetRow) -> AppResult<()> {
    diesel::insert_into(budgets::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_budget(conn: &mut DbConnection, id: &str) -> AppResult<Option<BudgetRow>> {
    Ok(budgets::table
        .find(id)
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn budgets_of(conn: &mut DbConnection, holder_id: &str) -> AppResult<Vec<BudgetRow>> {
    Ok(budgets::table
        .filter(budgets::budget_holder_id.eq(holder_id))
        .order((budgets::period_start.desc(), budgets::id.desc()))
        .select(BudgetRow::as_select())
        .load(conn)?)
}

/// The person's approved budget whose period holds `date`: what a shift on that date draws on.
pub fn approved_budget_on(
    conn: &mut DbConnection,
    holder_id: &str,
    date: NaiveDate,
) -> AppResult<Option<BudgetRow>> {
    Ok(budgets::table
        .filter(budgets::budget_holder_id.eq(holder_id))
        .filter(budgets::status.eq(BudgetStatus::Approved.as_str()))
        .filter(budgets::period_start.le(date))
        .filter(budgets::period_end.ge(date))
        .order(budgets::period_start.desc())
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn mark_approved(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        budgets::table
            .find(id)
            .filter(budgets::status.eq(BudgetStatus::Draft.as_str())),
    )
    .set((
        budgets::status.eq(BudgetStatus::Approved.as_str()),
        budgets::approved_by.eq(Some(by)),
        budgets::approved_at.eq(Some(at)),
        budgets::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Takes the next `count` sequence numbers of the budget's ledger; returns the first. The
/// UPDATE holds the budget's row lock to the end of the transaction, so writers to one budget
/// go one at a time and each sees every entry before its own (for balances and thresholds).
pub fn take_sequences(conn: &mut DbConnection, budget_id: &str, count: i64) -> AppResult<i64> {
    diesel::update(budgets::table.find(budget_id))
        .set(budgets::ledger_sequence.eq(budgets::ledger_sequence + count))
        .execute(conn)?;
    let last: i64 = budgets::table
        .find(budget_id)
        .select(budgets::ledger_sequence)
        .first(conn)?;
    Ok(last - count + 1)
}

/// Holds the budget's row lock to the end of the transaction, writing nothing.
pub fn lock_budget(conn: &mut DbConnection, budget_id: &str) -> AppResult<()> {
    diesel::update(budgets::table.find(budget_id))
        .set(budgets::ledger_sequence.eq(budgets::ledger_sequence))
        .execute(conn)?;
    Ok(())
}

/// One INSERT per entry: batch inserts are not portable across `MultiConnection` backends.
pub fn insert_entries(conn: &mut DbConnection, rows: &[LedgerEntryRow]) -> AppResult<()> {
    for row in rows {
        diesel::insert_into(ledger_entries::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_entry(conn: &mut DbConnection, id: &str) -> AppResult<Option<LedgerEntryRow>> {
    Ok(ledger_entries::table
        .find(id)
        .select(LedgerEntryRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn entry_by_key(
    conn: &mut DbConnection,
    budget_id: &str,
    key: &str,
) -> AppResult<Option<LedgerEntryRow>> {
    Ok(ledger_entries::table
        .filter(ledger_entries::budget_id.eq(budget_id))
        .filter(ledger_entries::idempotency_key.eq(key))
        .select(LedgerEntryRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn reversal_of(conn: &mut DbConnection, entry_id: &str) -> AppResult<Option<LedgerEntryRow>> {
    Ok(ledger_entries::table
        .filter(ledger_entries::reverses_entry_id.eq(entry_id))
        .select(LedgerEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// A page of entries by sequence.
pub fn entries_page(
    conn: &mut DbConnection,
    budget_id: &str,
    after_sequence: i64,
    limit: i64,
) -> AppResult<Vec<LedgerEntryRow>> {
    Ok(ledger_entries::table
        .filter(ledger_entries::budget_id.eq(budget_id))
        .filter(ledger_entries::sequence.gt(after_sequence))
        .order(ledger_entries::sequence.asc())
        .limit(limit + 1)
        .select(LedgerEntryRow::as_select())
        .load(conn)?)
}

/// Every entry's figures up to `to`, for statements and thresholds.
pub fn figures_until(
    conn: &mut DbConnection,
    budget_id: &str,
    to: NaiveDate,
) -> AppResult<Vec<EntryFigures>> {
    let rows: Vec<(String, String, Pence, NaiveDate)> = ledger_entries::table
        .filter(ledger_entries::budget_id.eq(budget_id))
        .filter(ledger_entries::entry_date.le(to))
        .select((
            ledger_entries::kind,
            ledger_entries::stream,
            ledger_entries::amount_pence,
            ledger_entries::entry_date,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(kind, stream, amount_pence, entry_date)| {
            Ok(EntryFigures {
                kind: EntryKind::parse(&kind)
                    .ok_or_else(|| AppError::internal("unknown ledger entry kind"))?,
                stream: Stream::parse(&stream)
                    .ok_or_else(|| AppError::internal("unknown funding stream"))?,
                amount_pence,
                entry_date,
            })
        })
        .collect()
}

/// Records an alert unless it was raised before; true when this call raised it.
pub fn raise_alert(conn: &mut DbConnection, row: &BudgetAlertRow) -> AppResult<bool> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(budget_alerts::table)
            .values(row)
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

pub fn alerts_of(conn: &mut DbConnection, budget_id: &str) -> AppResult<Vec<BudgetAlertRow>> {
    Ok(budget_alerts::table
        .filter(budget_alerts::budget_id.eq(budget_id))
        .order(budget_alerts::raised_at.asc())
        .select(BudgetAlertRow::as_select())
        .load(conn)?)
}

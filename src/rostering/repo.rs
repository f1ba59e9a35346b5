//! Queries for support patterns.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::support_changes;
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_changes)]
pub struct SupportChangeRow {
    pub id: String,
    pub organisation_id: String,
    pub budget_holder_id: String,
    pub kind: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub shift_kind: Option<String>,
    pub headcount: Option<i32>,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
}

pub fn insert_change(conn: &mut DbConnection, row: &SupportChangeRow) -> AppResult<()> {
    diesel::insert_into(support_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_change(conn: &mut DbConnection, id: &str) -> AppResult<Option<SupportChangeRow>> {
    Ok(support_changes::table
        .find(id)
        .select(SupportChangeRow::as_select())
        .first(conn)
        .optional()?)
}

/// A person's changes, cancelled ones included, by date.
pub fn changes_of(
    conn: &mut DbConnection,
    budget_holder_id: &str,
) -> AppResult<Vec<SupportChangeRow>> {
    Ok(support_changes::table
        .filter(support_changes::budget_holder_id.eq(budget_holder_id))
        .order((support_changes::from_date.asc(), support_changes::id.asc()))
        .select(SupportChangeRow::as_select())
        .load(conn)?)
}

/// Changes in force that touch the dates `from` to `to`.
pub fn changes_between(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<SupportChangeRow>> {
    Ok(support_changes::table
        .filter(support_changes::budget_holder_id.eq(budget_holder_id))
        .filter(support_changes::cancelled_at.is_null())
        .filter(support_changes::from_date.le(to))
        .filter(support_changes::to_date.ge(from))
        .select(SupportChangeRow::as_select())
        .load(conn)?)
}

/// Cancels a change still in force; false when it was already cancelled.
pub fn cancel_change(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        support_changes::table
            .find(id)
            .filter(support_changes::cancelled_at.is_null()),
    )
    .set((
        support_changes::cancelled_by.eq(Some(by)),
        support_changes::cancelled_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

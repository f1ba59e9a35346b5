//! Queries for rate cards.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{rate_card_versions, rate_cards};
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rate_cards)]
pub struct RateCardRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub kind: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rate_card_versions)]
pub struct RateCardVersionRow {
    pub id: String,
    pub rate_card_id: String,
    pub effective_from: NaiveDate,
    pub terms: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_card(conn: &mut DbConnection, row: &RateCardRow) -> AppResult<()> {
    diesel::insert_into(rate_cards::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_version(conn: &mut DbConnection, row: &RateCardVersionRow) -> AppResult<()> {
    diesel::insert_into(rate_card_versions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_card(conn: &mut DbConnection, id: &str) -> AppResult<Option<RateCardRow>> {
    Ok(rate_cards::table
        .find(id)
        .select(RateCardRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_cards(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Vec<RateCardRow>> {
    Ok(rate_cards::table
        .filter(rate_cards::organisation_id.eq(organisation_id))
        .order((rate_cards::name.asc(), rate_cards::id.asc()))
        .select(RateCardRow::as_select())
        .load(conn)?)
}

/// Every version of the cards, oldest first.
pub fn versions_of(
    conn: &mut DbConnection,
    card_ids: &[String],
) -> AppResult<Vec<RateCardVersionRow>> {
    Ok(rate_card_versions::table
        .filter(rate_card_versions::rate_card_id.eq_any(card_ids))
        .order((
            rate_card_versions::rate_card_id.asc(),
            rate_card_versions::effective_from.asc(),
        ))
        .select(RateCardVersionRow::as_select())
        .load(conn)?)
}

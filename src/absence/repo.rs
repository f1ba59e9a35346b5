//! Queries for absences.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{absences, cover_requests};
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = absences)]
pub struct AbsenceRow {
    pub id: String,
    pub organisation_id: String,
    pub pa_id: String,
    pub kind: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// `model::Span::away_through`, kept for the safety gate's leave query.
    pub away_through: NaiveDate,
    pub fit_note_from: Option<NaiveDate>,
    pub fit_note_to: Option<NaiveDate>,
    pub reported_by: String,
    pub reported_at: NaiveDateTime,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &AbsenceRow) -> AppResult<()> {
    diesel::insert_into(absences::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<AbsenceRow>> {
    Ok(absences::table
        .find(id)
        .select(AbsenceRow::as_select())
        .first(conn)
        .optional()?)
}

/// The PA's absences that could overlap `from` onwards (an open-ended one always could).
pub fn of_pa_from(
    conn: &mut DbConnection,
    pa_id: &str,
    from: NaiveDate,
) -> AppResult<Vec<AbsenceRow>> {
    Ok(absences::table
        .filter(absences::pa_id.eq(pa_id))
        .filter(absences::ends_on.is_null().or(absences::ends_on.ge(from)))
        .order(absences::starts_on.asc())
        .select(AbsenceRow::as_select())
        .load(conn)?)
}

/// The organisation's absences touching `from` to `to`, one PA's when named.
pub fn between(
    conn: &mut DbConnection,
    organisation_id: &str,
    pa_id: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<AbsenceRow>> {
    let mut query = absences::table
        .filter(absences::organisation_id.eq(organisation_id))
        .filter(absences::starts_on.le(to))
        .filter(absences::ends_on.is_null().or(absences::ends_on.ge(from)))
        .into_boxed();
    if let Some(pa_id) = pa_id {
        query = query.filter(absences::pa_id.eq(pa_id));
    }
    Ok(query
        .order((absences::starts_on.asc(), absences::id.asc()))
        .select(AbsenceRow::as_select())
        .load(conn)?)
}

/// Writes a correction over the version read; false when it moved meanwhile.
pub fn correct(conn: &mut DbConnection, row: &AbsenceRow, expected: i64) -> AppResult<bool> {
    Ok(diesel::update(
        absences::table
            .find(&row.id)
            .filter(absences::version.eq(expected)),
    )
    .set((
        absences::kind.eq(&row.kind),
        absences::starts_on.eq(row.starts_on),
        absences::ends_on.eq(row.ends_on),
        absences::away_through.eq(row.away_through),
        absences::fit_note_from.eq(row.fit_note_from),
        absences::fit_note_to.eq(row.fit_note_to),
        absences::version.eq(expected + 1),
        absences::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?
        == 1)
}

/// The cover requests each absence opened.
pub fn cover_requests_of(
    conn: &mut DbConnection,
    absence_ids: &[String],
) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<(Option<String>, String)> = cover_requests::table
        .filter(cover_requests::absence_id.eq_any(absence_ids))
        .order(cover_requests::opened_at.asc())
        .select((cover_requests::absence_id, cover_requests::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, r)| a.map(|a| (a, r)))
        .collect())
}

/// The first day from `from` to `to` the PA clocked in to work, if any.
pub fn worked_between(
    conn: &mut DbConnection,
    pa_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Option<NaiveDate>> {
    use crate::db::schema::shift_records;
    Ok(shift_records::table
        .filter(shift_records::pa_id.eq(pa_id))
        .filter(shift_records::work_date.between(from, to))
        .filter(shift_records::clock_in_at.is_not_null())
        .order(shift_records::work_date.asc())
        .select(shift_records::work_date)
        .first(conn)
        .optional()?)
}

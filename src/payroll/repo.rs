//! Queries for employers, engagements, adjustments and payroll exports.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::budgets::model::BudgetStatus;
use crate::budgets::repo::BudgetRow;
use crate::db::schema::{
    budget_holders, budgets, employers, engagements, ledger_entries, minimum_wage_reviews,
    pay_periods, payroll_adjustments, payroll_export_lines, payroll_exports, roster_assignments,
    roster_shifts, shift_record_amendments, shift_records, timesheets,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::market::repo::BudgetHolderRow;
use crate::payroll::model::ExportStatus;
use crate::timesheets::model::Status;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = employers)]
pub struct EmployerRow {
    pub id: String,
    pub organisation_id: String,
    pub kind: String,
    pub budget_holder_id: Option<String>,
    pub name: String,
    pub paye_reference: String,
    pub payroll_client_id: String,
    pub rate_card_id: String,
    pub pays_travel_time: bool,
    pub export_sequence: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// JSON: `payroll::mapping::Mapping`.
    pub payroll_mapping: String,
    /// JSON: its own `timesheets::model::PayCalendar`; `None`: the organisation's.
    pub pay_calendar: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = engagements)]
pub struct EngagementRow {
    pub id: String,
    pub employer_id: String,
    pub pa_id: String,
    pub works_number: String,
    pub date_of_birth: NaiveDate,
    pub contracted_minutes_per_week: Option<i32>,
    pub holiday_basis: String,
    pub starts_on: NaiveDate,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// The last day worked, once the PA has left.
    pub ends_on: Option<NaiveDate>,
    pub leaving_reason: Option<String>,
    /// The export that reported the PA's leaving to the bureau.
    pub leaver_export_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payroll_adjustments)]
pub struct AdjustmentRow {
    pub id: String,
    pub organisation_id: String,
    pub engagement_id: String,
    pub budget_holder_id: String,
    pub pay_period_id: String,
    pub kind: String,
    pub amount_pence: Pence,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payroll_exports)]
pub struct ExportRow {
    pub id: String,
    pub organisation_id: String,
    pub employer_id: String,
    pub pay_period_id: String,
    pub status: String,
    pub number: Option<i64>,
    pub blockers: String,
    pub checksums: Option<String>,
    pub gross_pence: Pence,
    pub line_count: i32,
    pub created_at: NaiveDateTime,
    pub ready_at: Option<NaiveDateTime>,
    pub acknowledged_at: Option<NaiveDateTime>,
    /// JSON: the employer's `Mapping` as the export was closed (or unblocked) with.
    pub mapping: String,
    /// JSON: the `Gap`s the software still needs filled.
    pub gaps: String,
    /// JSON: the `Leaver`s reported in this export.
    pub leavers: String,
    /// JSON: the `ExportAbsence`s the payroll software is told of.
    pub absences: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payroll_export_lines)]
pub struct LineRow {
    pub export_id: String,
    pub line_no: i32,
    pub pa_id: String,
    pub works_number: String,
    pub budget_holder_id: String,
    pub element: String,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_rate_e4: i64,
    pub amount_pence: Pence,
    pub sources: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = minimum_wage_reviews)]
pub struct ReviewRow {
    pub export_id: String,
    pub pa_id: String,
    pub outcome: String,
    pub top_up_pence: Pence,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// One approved record paid in a period, with what payroll needs of its shift.
#[derive(Debug, Clone, Queryable)]
pub struct PaidRecord {
    pub record_id: String,
    pub timesheet_id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub work_date: NaiveDate,
    pub clock_in_at: Option<NaiveDateTime>,
    pub clock_out_at: Option<NaiveDateTime>,
    pub break_minutes: i32,
    pub mileage_tenths: i32,
    pub expenses_pence: Pence,
    pub woken_minutes: i32,
    pub kind: Option<String>,
    pub headcount: Option<i32>,
    /// The rostered start, and when the PA was given the shift (short-notice premium).
    pub planned_start: Option<NaiveDateTime>,
    pub given_at: Option<NaiveDateTime>,
}

/// What payroll needs of a person: their home (for travel) and competency level.
#[derive(Debug, Clone, Queryable)]
pub struct HolderFacts {
    pub id: String,
    pub latitude: f64,
    pub longitude: f64,
    pub minimum_level: i32,
}

pub fn insert_employer(conn: &mut DbConnection, row: &EmployerRow) -> AppResult<()> {
    diesel::insert_into(employers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_employer(conn: &mut DbConnection, id: &str) -> AppResult<Option<EmployerRow>> {
    Ok(employers::table
        .find(id)
        .select(EmployerRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn employers_of(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Vec<EmployerRow>> {
    Ok(employers::table
        .filter(employers::organisation_id.eq(organisation_id))
        .order(employers::created_at.asc())
        .select(EmployerRow::as_select())
        .load(conn)?)
}

/// Takes the next export number for an employer (inside the caller's transaction).
pub fn next_export_number(conn: &mut DbConnection, employer_id: &str) -> AppResult<i64> {
    diesel::update(employers::table.find(employer_id))
        .set(employers::export_sequence.eq(employers::export_sequence + 1))
        .execute(conn)?;
    Ok(employers::table
        .find(employer_id)
        .select(employers::export_sequence)
        .first(conn)?)
}

pub fn insert_engagement(conn: &mut DbConnection, row: &EngagementRow) -> AppResult<()> {
    diesel::insert_into(engagements::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_engagement(conn: &mut DbConnection, id: &str) -> AppResult<Option<EngagementRow>> {
    Ok(engagements::table
        .find(id)
        .select(EngagementRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn engagements_of(conn: &mut DbConnection, employer_id: &str) -> AppResult<Vec<EngagementRow>> {
    Ok(engagements::table
        .filter(engagements::employer_id.eq(employer_id))
        .order(engagements::works_number.asc())
        .select(EngagementRow::as_select())
        .load(conn)?)
}

/// Every engagement with every employer of an organisation.
pub fn engagements_in(
    conn: &mut DbConnection,
    organisation_id: &str,
) -> AppResult<Vec<EngagementRow>> {
    Ok(engagements::table
        .inner_join(employers::table)
        .filter(employers::organisation_id.eq(organisation_id))
        .select(EngagementRow::as_select())
        .load(conn)?)
}

/// Notes that an export reported these engagements' leavers to the bureau.
pub fn mark_leavers_reported(
    conn: &mut DbConnection,
    export_id: &str,
    engagement_ids: &[String],
) -> AppResult<()> {
    diesel::update(
        engagements::table
            .filter(engagements::id.eq_any(engagement_ids))
            .filter(engagements::leaver_export_id.is_null()),
    )
    .set(engagements::leaver_export_id.eq(Some(export_id)))
    .execute(conn)?;
    Ok(())
}

/// Records a PA's leaving (or corrects its date or reason).
pub fn set_engagement_end(
    conn: &mut DbConnection,
    engagement_id: &str,
    ends_on: NaiveDate,
    reason: &str,
) -> AppResult<()> {
    diesel::update(engagements::table.find(engagement_id))
        .set((
            engagements::ends_on.eq(Some(ends_on)),
            engagements::leaving_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets (or with `None` clears) an employer's own pay calendar (JSON).
pub fn set_employer_calendar(
    conn: &mut DbConnection,
    employer_id: &str,
    calendar: Option<&str>,
) -> AppResult<()> {
    diesel::update(employers::table.find(employer_id))
        .set(employers::pay_calendar.eq(calendar))
        .execute(conn)?;
    Ok(())
}

/// The PA's records dated after `date` for these people, as (date, person), earliest first.
pub fn records_after(
    conn: &mut DbConnection,
    pa_id: &str,
    date: NaiveDate,
) -> AppResult<Vec<(NaiveDate, String)>> {
    Ok(shift_records::table
        .filter(shift_records::pa_id.eq(pa_id))
        .filter(shift_records::work_date.gt(date))
        .order(shift_records::work_date.asc())
        .select((shift_records::work_date, shift_records::budget_holder_id))
        .load(conn)?)
}

pub fn insert_adjustment(conn: &mut DbConnection, row: &AdjustmentRow) -> AppResult<()> {
    diesel::insert_into(payroll_adjustments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn adjustments_in(conn: &mut DbConnection, period_id: &str) -> AppResult<Vec<AdjustmentRow>> {
    Ok(payroll_adjustments::table
        .filter(payroll_adjustments::pay_period_id.eq(period_id))
        .order(payroll_adjustments::id.asc())
        .select(AdjustmentRow::as_select())
        .load(conn)?)
}

/// The PAs with approved timesheets paid in `period_id`, in order.
pub fn pas_paid_in(conn: &mut DbConnection, period_id: &str) -> AppResult<Vec<String>> {
    Ok(timesheets::table
        .filter(timesheets::paid_in_period_id.eq(period_id))
        .filter(timesheets::status.eq(Status::Approved.as_str()))
        .select(timesheets::pa_id)
        .distinct()
        .order(timesheets::pa_id.asc())
        .load(conn)?)
}

/// Which records payroll reads.
pub enum RecordsOf<'a> {
    /// The approved records of these PAs whose timesheets are paid in the period.
    PaidIn {
        period_id: &'a str,
        pa_ids: &'a [String],
    },
    /// These records (behind amendments), wherever they were paid.
    Ids(&'a [String]),
}

/// Records with what payroll needs of their shifts, in a stable order.
pub fn paid_records(conn: &mut DbConnection, which: RecordsOf<'_>) -> AppResult<Vec<PaidRecord>> {
    let query = shift_records::table
        .inner_join(timesheets::table.on(timesheets::id.eq(shift_records::timesheet_id)))
        .left_join(
            roster_shifts::table.on(roster_shifts::id
                .nullable()
                .eq(shift_records::roster_shift_id)),
        )
        .left_join(
            roster_assignments::table.on(roster_assignments::roster_shift_id
                .nullable()
                .eq(shift_records::roster_shift_id)
                .and(roster_assignments::pa_id.eq(shift_records::pa_id))),
        )
        .order(shift_records::id.asc())
        .select((
            shift_records::id,
            shift_records::timesheet_id,
            shift_records::pa_id,
            shift_records::budget_holder_id,
            shift_records::work_date,
            shift_records::clock_in_at,
            shift_records::clock_out_at,
            shift_records::break_minutes,
            shift_records::mileage_tenths,
            shift_records::expenses_pence,
            shift_records::woken_minutes,
            roster_shifts::kind.nullable(),
            roster_shifts::headcount.nullable(),
            roster_shifts::starts_at.nullable(),
            roster_assignments::given_at.nullable(),
        ))
        .into_boxed();
    let query = match which {
        RecordsOf::PaidIn { period_id, pa_ids } => query
            .filter(timesheets::paid_in_period_id.eq(period_id))
            .filter(timesheets::status.eq(Status::Approved.as_str()))
            .filter(timesheets::pa_id.eq_any(pa_ids)),
        RecordsOf::Ids(ids) => query.filter(shift_records::id.eq_any(ids)),
    };
    Ok(query.load(conn)?)
}

/// Amendments carried by `period_id` to records an earlier period already paid:
/// (amendment id, record id, before JSON, after JSON).
pub fn amendments_carried_by(
    conn: &mut DbConnection,
    period_id: &str,
) -> AppResult<Vec<(String, String, String, String)>> {
    Ok(shift_record_amendments::table
        .inner_join(
            shift_records::table.on(shift_records::id.eq(shift_record_amendments::shift_record_id)),
        )
        .inner_join(timesheets::table.on(timesheets::id.eq(shift_records::timesheet_id)))
        .filter(shift_record_amendments::pay_period_id.eq(period_id))
        .filter(timesheets::paid_in_period_id.ne(period_id))
        .order(shift_record_amendments::created_at.asc())
        .select((
            shift_record_amendments::id,
            shift_record_amendments::shift_record_id,
            shift_record_amendments::before_json,
            shift_record_amendments::after_json,
        ))
        .load(conn)?)
}

pub fn holder_facts(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Vec<HolderFacts>> {
    Ok(budget_holders::table
        .filter(budget_holders::organisation_id.eq(organisation_id))
        .select((
            budget_holders::id,
            budget_holders::latitude,
            budget_holders::longitude,
            budget_holders::minimum_level,
        ))
        .load(conn)?)
}

/// Tenths of a mile each (employer, PA) was paid for in exports of periods from `since` up to
/// (not including) the period starting `before`.
pub fn miles_paid(
    conn: &mut DbConnection,
    organisation_id: &str,
    since: NaiveDate,
    before: NaiveDate,
) -> AppResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, i64)> = payroll_export_lines::table
        .inner_join(
            payroll_exports::table.on(payroll_exports::id.eq(payroll_export_lines::export_id)),
        )
        .inner_join(pay_periods::table.on(pay_periods::id.eq(payroll_exports::pay_period_id)))
        .filter(payroll_exports::organisation_id.eq(organisation_id))
        .filter(payroll_export_lines::element.eq("mileage"))
        .filter(pay_periods::starts_on.ge(since))
        .filter(pay_periods::starts_on.lt(before))
        .select((
            payroll_exports::employer_id,
            payroll_export_lines::pa_id,
            payroll_export_lines::quantity_hundredths,
        ))
        .load(conn)?;
    // Quantities are hundredths of a mile; the rules count tenths.
    Ok(rows
        .into_iter()
        .map(|(employer, pa, hundredths)| (employer, pa, hundredths / 10))
        .collect())
}

/// Exports in batches of a hundred.
pub fn insert_exports(conn: &mut DbConnection, rows: &[ExportRow]) -> AppResult<()> {
    for chunk in rows.chunks(100) {
        crate::db::insert_all!(conn, payroll_exports::table, chunk)?;
    }
    Ok(())
}

pub fn find_export(conn: &mut DbConnection, id: &str) -> AppResult<Option<ExportRow>> {
    Ok(payroll_exports::table
        .find(id)
        .select(ExportRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn exports_of_period(conn: &mut DbConnection, period_id: &str) -> AppResult<Vec<ExportRow>> {
    Ok(payroll_exports::table
        .filter(payroll_exports::pay_period_id.eq(period_id))
        .order(payroll_exports::id.asc())
        .select(ExportRow::as_select())
        .load(conn)?)
}

/// A payroll client's exports after `cursor` (an export id), oldest first.
pub fn exports_for_client(
    conn: &mut DbConnection,
    client_id: &str,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> AppResult<Vec<ExportRow>> {
    let mut query = payroll_exports::table
        .inner_join(employers::table)
        .filter(employers::payroll_client_id.eq(client_id))
        .filter(payroll_exports::status.ne(ExportStatus::Blocked.as_str()))
        .select(ExportRow::as_select())
        .order(payroll_exports::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(payroll_exports::status.eq(status.to_owned()));
    }
    if let Some(cursor) = cursor {
        query = query.filter(payroll_exports::id.gt(cursor.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Marks a blocked export ready with its number and checksums; false if it was not blocked.
pub fn make_ready(
    conn: &mut DbConnection,
    id: &str,
    number: i64,
    checksums: &str,
    gross_pence: Pence,
    line_count: i32,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let changed = diesel::update(
        payroll_exports::table
            .find(id)
            .filter(payroll_exports::status.eq(ExportStatus::Blocked.as_str())),
    )
    .set((
        payroll_exports::status.eq(ExportStatus::Ready.as_str()),
        payroll_exports::number.eq(Some(number)),
        payroll_exports::checksums.eq(Some(checksums)),
        payroll_exports::blockers.eq("[]"),
        payroll_exports::gross_pence.eq(gross_pence),
        payroll_exports::line_count.eq(line_count),
        payroll_exports::ready_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// An employer's blocked exports, oldest first.
pub fn blocked_exports_of(conn: &mut DbConnection, employer_id: &str) -> AppResult<Vec<ExportRow>> {
    Ok(payroll_exports::table
        .filter(payroll_exports::employer_id.eq(employer_id))
        .filter(payroll_exports::status.eq(ExportStatus::Blocked.as_str()))
        .order((payroll_exports::created_at, payroll_exports::id))
        .select(ExportRow::as_select())
        .load(conn)?)
}

/// The mapping a blocked export will be written with, and what it still lacks.
pub fn set_mapping(conn: &mut DbConnection, id: &str, mapping: &str, gaps: &str) -> AppResult<()> {
    diesel::update(payroll_exports::table.find(id))
        .set((
            payroll_exports::mapping.eq(mapping),
            payroll_exports::gaps.eq(gaps),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_employer_mapping(conn: &mut DbConnection, id: &str, mapping: &str) -> AppResult<()> {
    diesel::update(employers::table.find(id))
        .set(employers::payroll_mapping.eq(mapping))
        .execute(conn)?;
    Ok(())
}

pub fn set_blockers(conn: &mut DbConnection, id: &str, blockers: &str) -> AppResult<()> {
    diesel::update(payroll_exports::table.find(id))
        .set(payroll_exports::blockers.eq(blockers))
        .execute(conn)?;
    Ok(())
}

/// Marks a ready export acknowledged; false if it was not ready.
pub fn acknowledge(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> AppResult<bool> {
    let changed = diesel::update(
        payroll_exports::table
            .find(id)
            .filter(payroll_exports::status.eq(ExportStatus::Ready.as_str())),
    )
    .set((
        payroll_exports::status.eq(ExportStatus::Acknowledged.as_str()),
        payroll_exports::acknowledged_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Lines in batches. PostgreSQL takes ten thousand at once as eleven arrays (`UNNEST`): a
/// VALUES list of thousands of parameters costs milliseconds to plan, each time.
pub fn insert_lines(conn: &mut DbConnection, rows: &[LineRow]) -> AppResult<()> {
    use diesel::sql_types::{Array, BigInt, Integer, Text};
    match conn {
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(payroll_export_lines::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Postgresql(c) => {
            for chunk in rows.chunks(10_000) {
                let text = |f: fn(&LineRow) -> &String| -> Vec<&str> {
                    chunk.iter().map(|r| f(r).as_str()).collect()
                };
                let number = |f: fn(&LineRow) -> i64| -> Vec<i64> { chunk.iter().map(f).collect() };
                diesel::sql_query(
                    "INSERT INTO payroll_export_lines (export_id, line_no, pa_id, works_number, \
                     budget_holder_id, element, description, quantity_hundredths, unit_rate_e4, \
                     amount_pence, sources) SELECT * FROM UNNEST($1::text[], $2::int4[], \
                     $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], \
                     $9::int8[], $10::int8[], $11::text[])",
                )
                .bind::<Array<Text>, _>(text(|r| &r.export_id))
                .bind::<Array<Integer>, _>(chunk.iter().map(|r| r.line_no).collect::<Vec<i32>>())
                .bind::<Array<Text>, _>(text(|r| &r.pa_id))
                .bind::<Array<Text>, _>(text(|r| &r.works_number))
                .bind::<Array<Text>, _>(text(|r| &r.budget_holder_id))
                .bind::<Array<Text>, _>(text(|r| &r.element))
                .bind::<Array<Text>, _>(text(|r| &r.description))
                .bind::<Array<BigInt>, _>(number(|r| r.quantity_hundredths))
                .bind::<Array<BigInt>, _>(number(|r| r.unit_rate_e4))
                .bind::<Array<BigInt>, _>(number(|r| r.amount_pence.get()))
                .bind::<Array<Text>, _>(text(|r| &r.sources))
                .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Rewrites an export's lines (only while it is blocked: a ready export never changes).
pub fn replace_lines(conn: &mut DbConnection, export_id: &str, rows: &[LineRow]) -> AppResult<()> {
    diesel::delete(
        payroll_export_lines::table.filter(payroll_export_lines::export_id.eq(export_id)),
    )
    .execute(conn)?;
    insert_lines(conn, rows)
}

/// Up to `limit` lines of an export after `after_line` (a page for streaming).
pub fn lines_of(
    conn: &mut DbConnection,
    export_id: &str,
    after_line: i32,
    limit: i64,
) -> AppResult<Vec<LineRow>> {
    Ok(payroll_export_lines::table
        .filter(payroll_export_lines::export_id.eq(export_id))
        .filter(payroll_export_lines::line_no.gt(after_line))
        .order(payroll_export_lines::line_no.asc())
        .limit(limit)
        .select(LineRow::as_select())
        .load(conn)?)
}

/// Lines of the given exports that pay work for one person.
pub fn lines_for_holder(
    conn: &mut DbConnection,
    export_ids: &[String],
    budget_holder_id: &str,
) -> AppResult<Vec<LineRow>> {
    Ok(payroll_export_lines::table
        .filter(payroll_export_lines::export_id.eq_any(export_ids))
        .filter(payroll_export_lines::budget_holder_id.eq(budget_holder_id))
        .order((
            payroll_export_lines::export_id.asc(),
            payroll_export_lines::line_no.asc(),
        ))
        .select(LineRow::as_select())
        .load(conn)?)
}

pub fn insert_review(conn: &mut DbConnection, row: &ReviewRow) -> AppResult<()> {
    diesel::insert_into(minimum_wage_reviews::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// What a period's exports pay each person, in total.
pub fn paid_by_holder(conn: &mut DbConnection, period_id: &str) -> AppResult<Vec<(String, Pence)>> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    Ok(payroll_export_lines::table
        .inner_join(
            payroll_exports::table.on(payroll_exports::id.eq(payroll_export_lines::export_id)),
        )
        .filter(payroll_exports::pay_period_id.eq(period_id))
        .group_by(payroll_export_lines::budget_holder_id)
        .select((
            payroll_export_lines::budget_holder_id,
            sql::<BigInt>("CAST(SUM(payroll_export_lines.amount_pence) AS BIGINT)"),
        ))
        .load(conn)?)
}

/// What the ledger holds for the records paid in `period_id`, per person: the actual cost posted
/// at approval for each record, every amendment the period carries, and what reconciling the
/// period has posted already.
pub fn estimated_by_holder(
    conn: &mut DbConnection,
    period_id: &str,
) -> AppResult<Vec<(String, Pence)>> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let actuals: Vec<(String, Pence)> = ledger_entries::table
        .inner_join(
            shift_records::table.on(shift_records::id.nullable().eq(ledger_entries::source_id)),
        )
        .inner_join(timesheets::table.on(timesheets::id.eq(shift_records::timesheet_id)))
        .filter(timesheets::paid_in_period_id.eq(period_id))
        .filter(timesheets::status.eq(Status::Approved.as_str()))
        .filter(ledger_entries::source_type.eq("timesheet"))
        .filter(ledger_entries::kind.eq("actual"))
        .group_by(shift_records::budget_holder_id)
        .select((
            shift_records::budget_holder_id,
            sql::<BigInt>("CAST(SUM(ledger_entries.amount_pence) AS BIGINT)"),
        ))
        .load(conn)?;
    let amendments: Vec<(String, Pence)> = shift_record_amendments::table
        .inner_join(
            shift_records::table.on(shift_records::id.eq(shift_record_amendments::shift_record_id)),
        )
        .filter(shift_record_amendments::pay_period_id.eq(period_id))
        .group_by(shift_records::budget_holder_id)
        .select((
            shift_records::budget_holder_id,
            sql::<BigInt>("CAST(SUM(shift_record_amendments.cost_change_pence) AS BIGINT)"),
        ))
        .load(conn)?;
    let reconciled: Vec<(String, Pence)> = ledger_entries::table
        .inner_join(budgets::table.on(budgets::id.eq(ledger_entries::budget_id)))
        .filter(ledger_entries::source_type.eq("pay_period"))
        .filter(ledger_entries::source_id.eq(period_id))
        .group_by(budgets::budget_holder_id)
        .select((
            budgets::budget_holder_id,
            sql::<BigInt>("CAST(SUM(ledger_entries.amount_pence) AS BIGINT)"),
        ))
        .load(conn)?;
    Ok(actuals
        .into_iter()
        .chain(amendments)
        .chain(reconciled)
        .collect())
}

/// The organisation's people and their budgets approved for `date`, for posting to ledgers.
pub fn people_and_budgets_on(
    conn: &mut DbConnection,
    organisation_id: &str,
    date: NaiveDate,
) -> AppResult<(Vec<BudgetHolderRow>, Vec<BudgetRow>)> {
    let people = budget_holders::table
        .filter(budget_holders::organisation_id.eq(organisation_id))
        .select(BudgetHolderRow::as_select())
        .load(conn)?;
    let approved = budgets::table
        .filter(budgets::organisation_id.eq(organisation_id))
        .filter(budgets::status.eq(BudgetStatus::Approved.as_str()))
        .filter(budgets::period_start.le(date))
        .filter(budgets::period_end.ge(date))
        .order(budgets::period_start.desc())
        .select(BudgetRow::as_select())
        .load(conn)?;
    Ok((people, approved))
}

/// An absence as payroll reads it: (id, PA, kind, first day, last day once known).
pub type AbsenceFacts = (String, String, String, NaiveDate, Option<NaiveDate>);

/// Absences touching `from` to `to` of the organisation's PAs, by PA.
pub fn absences_between(
    conn: &mut DbConnection,
    organisation_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<AbsenceFacts>> {
    use crate::db::schema::absences;
    Ok(absences::table
        .filter(absences::organisation_id.eq(organisation_id))
        .filter(absences::starts_on.le(to))
        .filter(absences::ends_on.is_null().or(absences::ends_on.ge(from)))
        .order((absences::pa_id.asc(), absences::starts_on.asc()))
        .select((
            absences::id,
            absences::pa_id,
            absences::kind,
            absences::starts_on,
            absences::ends_on,
        ))
        .load(conn)?)
}

/// The days these PAs had published shifts from `from` to `to`, as (PA, person, date): those
/// still theirs and those an absence took off them. Their qualifying days for sick pay.
pub fn rostered_days(
    conn: &mut DbConnection,
    pa_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(String, String, NaiveDate)>> {
    use crate::db::schema::{cover_requests, rosters};
    let mut out = Vec::new();
    for chunk in pa_ids.chunks(500) {
        out.extend(
            roster_assignments::table
                .inner_join(roster_shifts::table.inner_join(rosters::table))
                .filter(roster_assignments::pa_id.eq_any(chunk))
                .filter(rosters::status.eq("published"))
                .filter(roster_shifts::shift_date.between(from, to))
                .select((
                    roster_assignments::pa_id,
                    roster_shifts::budget_holder_id,
                    roster_shifts::shift_date,
                ))
                .load::<(String, String, NaiveDate)>(conn)?,
        );
        out.extend(
            cover_requests::table
                .inner_join(roster_shifts::table)
                .filter(cover_requests::absent_pa_id.eq_any(chunk))
                .filter(roster_shifts::shift_date.between(from, to))
                .select((
                    cover_requests::absent_pa_id,
                    roster_shifts::budget_holder_id,
                    roster_shifts::shift_date,
                ))
                .load::<(String, String, NaiveDate)>(conn)?,
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

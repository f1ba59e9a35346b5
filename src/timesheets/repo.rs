//! Queries for timesheets, shift records, clock events, pay periods and policies.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    clock_events, employers, engagements, pay_periods, payroll_adjustments, roster_shifts,
    shift_record_amendments, shift_records, timesheet_policies, timesheets,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::rostering::model::RosterStatus;
use crate::timesheets::model::Status;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = timesheet_policies)]
pub struct PolicyRow {
    pub organisation_id: String,
    pub pay_frequency: String,
    pub period_anchor: NaiveDate,
    pub approver: String,
    pub radius_m: i32,
    pub late_minutes: i32,
    pub left_early_minutes: i32,
    pub overrun_minutes: i32,
    pub short_minutes: i32,
    pub clock_out_grace_minutes: i32,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
    pub offline_sync_days: i32,
    pub pay_days_after_end: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pay_periods)]
pub struct PayPeriodRow {
    pub id: String,
    pub organisation_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub closed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    /// The employer whose own calendar this period is of; `None`: the organisation's.
    pub employer_id: Option<String>,
    pub pay_date: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = timesheets)]
pub struct TimesheetRow {
    pub id: String,
    pub organisation_id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub pay_period_id: String,
    pub status: String,
    pub version: i64,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub query_reason: Option<String>,
    pub paid_in_period_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = shift_records, treat_none_as_null = true)]
pub struct ShiftRecordRow {
    pub id: String,
    pub organisation_id: String,
    pub timesheet_id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub roster_shift_id: Option<String>,
    pub work_date: NaiveDate,
    pub unrostered_reason: Option<String>,
    pub clock_in_at: Option<NaiveDateTime>,
    pub clock_in_device_at: Option<NaiveDateTime>,
    pub clock_in_received_at: Option<NaiveDateTime>,
    pub clock_in_distance_m: Option<i32>,
    pub clock_out_at: Option<NaiveDateTime>,
    pub clock_out_device_at: Option<NaiveDateTime>,
    pub clock_out_received_at: Option<NaiveDateTime>,
    pub clock_out_distance_m: Option<i32>,
    pub outside_radius: bool,
    pub break_minutes: i32,
    pub mileage_tenths: i32,
    pub expenses_pence: Pence,
    pub expense_receipt: Option<String>,
    pub note: Option<String>,
    pub reminded_at: Option<NaiveDateTime>,
    pub amendments: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Sleep-ins: minutes woken to work, paid by the hour.
    pub woken_minutes: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clock_events)]
pub struct ClockEventRow {
    pub id: String,
    pub shift_record_id: String,
    pub kind: String,
    pub device_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_m: Option<i32>,
    pub distance_m: Option<i32>,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = shift_record_amendments)]
pub struct AmendmentRow {
    pub id: String,
    pub organisation_id: String,
    pub shift_record_id: String,
    pub reason: String,
    pub before_json: String,
    pub after_json: String,
    pub cost_change_pence: Pence,
    pub pay_period_id: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn policy_of(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Option<PolicyRow>> {
    Ok(timesheet_policies::table
        .find(organisation_id)
        .select(PolicyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn save_policy(conn: &mut DbConnection, row: &PolicyRow) -> AppResult<()> {
    let updated = diesel::update(timesheet_policies::table.find(&row.organisation_id))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(timesheet_policies::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The period of a calendar (the organisation's, or `employer_id`'s own) starting on a date.
pub fn period_starting(
    conn: &mut DbConnection,
    organisation_id: &str,
    employer_id: Option<&str>,
    starts_on: NaiveDate,
) -> AppResult<Option<PayPeriodRow>> {
    let query = pay_periods::table
        .filter(pay_periods::organisation_id.eq(organisation_id))
        .filter(pay_periods::starts_on.eq(starts_on))
        .select(PayPeriodRow::as_select())
        .into_boxed();
    let query = match employer_id {
        Some(id) => query.filter(pay_periods::employer_id.eq(id)),
        None => query.filter(pay_periods::employer_id.is_null()),
    };
    Ok(query.first(conn).optional()?)
}

/// The calendar's closed period that ends last, if any.
pub fn last_closed_period(
    conn: &mut DbConnection,
    organisation_id: &str,
    employer_id: Option<&str>,
) -> AppResult<Option<PayPeriodRow>> {
    let query = pay_periods::table
        .filter(pay_periods::organisation_id.eq(organisation_id))
        .filter(pay_periods::closed_at.is_not_null())
        .order(pay_periods::ends_on.desc())
        .select(PayPeriodRow::as_select())
        .into_boxed();
    let query = match employer_id {
        Some(id) => query.filter(pay_periods::employer_id.eq(id)),
        None => query.filter(pay_periods::employer_id.is_null()),
    };
    Ok(query.first(conn).optional()?)
}

/// The calendar's periods not yet closed.
pub fn open_periods(
    conn: &mut DbConnection,
    organisation_id: &str,
    employer_id: Option<&str>,
) -> AppResult<Vec<PayPeriodRow>> {
    let query = pay_periods::table
        .filter(pay_periods::organisation_id.eq(organisation_id))
        .filter(pay_periods::closed_at.is_null())
        .order(pay_periods::starts_on.asc())
        .select(PayPeriodRow::as_select())
        .into_boxed();
    let query = match employer_id {
        Some(id) => query.filter(pay_periods::employer_id.eq(id)),
        None => query.filter(pay_periods::employer_id.is_null()),
    };
    Ok(query.load(conn)?)
}

/// What is waiting in these periods, as (period, PA, person): timesheets in them or paid in
/// them, amendments and adjustments paid in them.
pub fn work_in_periods(
    conn: &mut DbConnection,
    period_ids: &[String],
) -> AppResult<Vec<(String, String, String)>> {
    if period_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut work: Vec<(String, String, String)> = timesheets::table
        .filter(timesheets::pay_period_id.eq_any(period_ids))
        .select((
            timesheets::pay_period_id,
            timesheets::pa_id,
            timesheets::budget_holder_id,
        ))
        .load(conn)?;
    let paid_in: Vec<(Option<String>, String, String)> = timesheets::table
        .filter(timesheets::paid_in_period_id.eq_any(period_ids))
        .select((
            timesheets::paid_in_period_id,
            timesheets::pa_id,
            timesheets::budget_holder_id,
        ))
        .load(conn)?;
    work.extend(
        paid_in
            .into_iter()
            .filter_map(|(period, pa, holder)| period.map(|p| (p, pa, holder))),
    );
    work.extend(
        shift_record_amendments::table
            .inner_join(
                shift_records::table
                    .on(shift_records::id.eq(shift_record_amendments::shift_record_id)),
            )
            .filter(shift_record_amendments::pay_period_id.eq_any(period_ids))
            .select((
                shift_record_amendments::pay_period_id,
                shift_records::pa_id,
                shift_records::budget_holder_id,
            ))
            .load::<(String, String, String)>(conn)?,
    );
    work.extend(
        payroll_adjustments::table
            .inner_join(
                engagements::table.on(engagements::id.eq(payroll_adjustments::engagement_id)),
            )
            .filter(payroll_adjustments::pay_period_id.eq_any(period_ids))
            .select((
                payroll_adjustments::pay_period_id,
                engagements::pa_id,
                payroll_adjustments::budget_holder_id,
            ))
            .load::<(String, String, String)>(conn)?,
    );
    Ok(work)
}

/// Removes periods nothing refers to (open ones holding no work, on a calendar change).
pub fn delete_periods(conn: &mut DbConnection, ids: &[String]) -> AppResult<()> {
    if !ids.is_empty() {
        diesel::delete(
            pay_periods::table
                .filter(pay_periods::id.eq_any(ids))
                .filter(pay_periods::closed_at.is_null()),
        )
        .execute(conn)?;
    }
    Ok(())
}

pub fn set_pay_date(conn: &mut DbConnection, id: &str, pay_date: NaiveDate) -> AppResult<()> {
    diesel::update(pay_periods::table.find(id))
        .set(pay_periods::pay_date.eq(pay_date))
        .execute(conn)?;
    Ok(())
}

/// An employer's own pay calendar as stored (JSON), `None` when it pays on the organisation's.
pub fn employer_calendar(conn: &mut DbConnection, employer_id: &str) -> AppResult<Option<String>> {
    Ok(employers::table
        .find(employer_id)
        .select(employers::pay_calendar)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The organisation's employers paying on their own calendars, with the calendar (JSON).
pub fn own_calendars_in(
    conn: &mut DbConnection,
    organisation_id: &str,
) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> = employers::table
        .filter(employers::organisation_id.eq(organisation_id))
        .filter(employers::pay_calendar.is_not_null())
        .select((employers::id, employers::pay_calendar))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, calendar)| calendar.map(|c| (id, c)))
        .collect())
}

pub fn find_period(conn: &mut DbConnection, id: &str) -> AppResult<Option<PayPeriodRow>> {
    Ok(pay_periods::table
        .find(id)
        .select(PayPeriodRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn periods_between(
    conn: &mut DbConnection,
    organisation_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<PayPeriodRow>> {
    Ok(pay_periods::table
        .filter(pay_periods::organisation_id.eq(organisation_id))
        .filter(pay_periods::ends_on.ge(from))
        .filter(pay_periods::starts_on.le(to))
        .order(pay_periods::starts_on.asc())
        .select(PayPeriodRow::as_select())
        .load(conn)?)
}

/// Closes an open period; false when it was already closed.
pub fn close_period(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    Ok(diesel::update(
        pay_periods::table
            .find(id)
            .filter(pay_periods::closed_at.is_null()),
    )
    .set((
        pay_periods::closed_by.eq(Some(by)),
        pay_periods::closed_at.eq(Some(at)),
    ))
    .execute(conn)?
        == 1)
}

pub fn find_timesheet(conn: &mut DbConnection, id: &str) -> AppResult<Option<TimesheetRow>> {
    Ok(timesheets::table
        .find(id)
        .select(TimesheetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn timesheet_for(
    conn: &mut DbConnection,
    pa_id: &str,
    budget_holder_id: &str,
    pay_period_id: &str,
) -> AppResult<Option<TimesheetRow>> {
    Ok(timesheets::table
        .filter(timesheets::pa_id.eq(pa_id))
        .filter(timesheets::budget_holder_id.eq(budget_holder_id))
        .filter(timesheets::pay_period_id.eq(pay_period_id))
        .select(TimesheetRow::as_select())
        .first(conn)
        .optional()?)
}

/// Moves a timesheet from `from` to `to` at `version`; false when it was not there any more.
#[allow(clippy::too_many_arguments)]
pub fn change_status(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    from: &[Status],
    to: Status,
    by: Option<&str>,
    reason: Option<&str>,
    paid_in_period_id: Option<&str>,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let submitted = to == Status::Submitted;
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let to = to.as_str();
    let target = timesheets::table
        .find(id)
        .filter(timesheets::version.eq(version))
        .filter(timesheets::status.eq_any(from));
    let updated = if submitted {
        diesel::update(target)
            .set((
                timesheets::status.eq(to),
                timesheets::version.eq(version + 1),
                timesheets::submitted_at.eq(Some(at)),
                timesheets::updated_at.eq(at),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                timesheets::status.eq(to),
                timesheets::version.eq(version + 1),
                timesheets::decided_by.eq(by),
                timesheets::decided_at.eq(Some(at)),
                timesheets::query_reason.eq(reason),
                timesheets::paid_in_period_id.eq(paid_in_period_id),
                timesheets::updated_at.eq(at),
            ))
            .execute(conn)?
    };
    Ok(updated == 1)
}

/// Marks a timesheet changed (a new record or clock event) so readers holding a version know.
pub fn touch_timesheet(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> AppResult<()> {
    diesel::update(timesheets::table.find(id))
        .set((
            timesheets::version.eq(timesheets::version + 1),
            timesheets::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn timesheets_of_pa(
    conn: &mut DbConnection,
    pa_id: &str,
    limit: i64,
) -> AppResult<Vec<TimesheetRow>> {
    Ok(timesheets::table
        .filter(timesheets::pa_id.eq(pa_id))
        .order((timesheets::created_at.desc(), timesheets::id.desc()))
        .limit(limit)
        .select(TimesheetRow::as_select())
        .load(conn)?)
}

pub fn timesheets_of_holder(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    status: Option<&str>,
    limit: i64,
) -> AppResult<Vec<TimesheetRow>> {
    let mut query = timesheets::table
        .filter(timesheets::budget_holder_id.eq(budget_holder_id))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(timesheets::status.eq(status.to_owned()));
    }
    Ok(query
        .order((timesheets::created_at.desc(), timesheets::id.desc()))
        .limit(limit)
        .select(TimesheetRow::as_select())
        .load(conn)?)
}

pub fn find_record(conn: &mut DbConnection, id: &str) -> AppResult<Option<ShiftRecordRow>> {
    Ok(shift_records::table
        .find(id)
        .select(ShiftRecordRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_record(conn: &mut DbConnection, row: &ShiftRecordRow) -> AppResult<()> {
    diesel::insert_into(shift_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn save_record(conn: &mut DbConnection, row: &ShiftRecordRow) -> AppResult<()> {
    diesel::update(shift_records::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn records_of(conn: &mut DbConnection, timesheet_id: &str) -> AppResult<Vec<ShiftRecordRow>> {
    Ok(shift_records::table
        .filter(shift_records::timesheet_id.eq(timesheet_id))
        .order((shift_records::work_date.asc(), shift_records::id.asc()))
        .select(ShiftRecordRow::as_select())
        .load(conn)?)
}

/// Records of these people's work dated `from` to `to`.
pub fn records_of_holders_between(
    conn: &mut DbConnection,
    budget_holder_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ShiftRecordRow>> {
    Ok(shift_records::table
        .filter(shift_records::budget_holder_id.eq_any(budget_holder_ids))
        .filter(shift_records::work_date.between(from, to))
        .select(ShiftRecordRow::as_select())
        .load(conn)?)
}

/// Clocked in on a shift that ended before `ended_before`, not clocked out, not yet reminded.
pub fn unfinished_records(
    conn: &mut DbConnection,
    ended_before: NaiveDateTime,
    limit: i64,
) -> AppResult<Vec<(ShiftRecordRow, NaiveDateTime)>> {
    Ok(shift_records::table
        .inner_join(
            roster_shifts::table
                .on(shift_records::roster_shift_id.eq(roster_shifts::id.nullable())),
        )
        .filter(shift_records::clock_out_at.is_null())
        .filter(shift_records::clock_in_at.is_not_null())
        .filter(shift_records::reminded_at.is_null())
        .filter(roster_shifts::ends_at.lt(ended_before))
        .order(roster_shifts::ends_at.asc())
        .limit(limit)
        .select((ShiftRecordRow::as_select(), roster_shifts::ends_at))
        .load(conn)?)
}

pub fn mark_reminded(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> AppResult<bool> {
    Ok(diesel::update(
        shift_records::table
            .find(id)
            .filter(shift_records::reminded_at.is_null()),
    )
    .set(shift_records::reminded_at.eq(Some(at)))
    .execute(conn)?
        == 1)
}

/// Tenths of a business mile the PA has had approved since `since`, not counting `except`.
pub fn approved_mileage_since(
    conn: &mut DbConnection,
    pa_id: &str,
    since: NaiveDate,
    before: NaiveDate,
) -> AppResult<i64> {
    let rows: Vec<i32> = shift_records::table
        .inner_join(timesheets::table)
        .filter(shift_records::pa_id.eq(pa_id))
        .filter(timesheets::status.eq(Status::Approved.as_str()))
        .filter(shift_records::work_date.ge(since))
        .filter(shift_records::work_date.lt(before))
        .select(shift_records::mileage_tenths)
        .load(conn)?;
    Ok(rows.into_iter().map(i64::from).sum())
}

pub fn insert_event(conn: &mut DbConnection, row: &ClockEventRow) -> AppResult<()> {
    diesel::insert_into(clock_events::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_amendment(conn: &mut DbConnection, row: &AmendmentRow) -> AppResult<()> {
    diesel::insert_into(shift_record_amendments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn amendments_of(conn: &mut DbConnection, record_id: &str) -> AppResult<Vec<AmendmentRow>> {
    Ok(shift_record_amendments::table
        .filter(shift_record_amendments::shift_record_id.eq(record_id))
        .order((
            shift_record_amendments::created_at.asc(),
            shift_record_amendments::id.asc(),
        ))
        .select(AmendmentRow::as_select())
        .load(conn)?)
}

// `MultiConnection` has no ON CONFLICT: these "make it if it is not there" inserts go to the
// concrete connection. Many PAs clock in at once at a changeover, so a period or timesheet
// made by someone else a moment ago is found, not a failed transaction.

pub fn insert_period_if_absent(conn: &mut DbConnection, row: &PayPeriodRow) -> AppResult<()> {
    crate::db::insert_unless_present!(conn, pay_periods::table, row)?;
    Ok(())
}

pub fn insert_timesheet_if_absent(conn: &mut DbConnection, row: &TimesheetRow) -> AppResult<()> {
    insert_timesheets_if_absent(conn, std::slice::from_ref(row))
}

/// One end of a record, set only if it is not set yet (so two events cannot both win).
pub struct ClockEnd {
    pub at: NaiveDateTime,
    pub device_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub distance_m: Option<i32>,
    pub outside_radius: bool,
}

pub fn set_clock_in(conn: &mut DbConnection, record_id: &str, end: &ClockEnd) -> AppResult<bool> {
    Ok(diesel::update(
        shift_records::table
            .find(record_id)
            .filter(shift_records::clock_in_at.is_null()),
    )
    .set((
        shift_records::clock_in_at.eq(Some(end.at)),
        shift_records::clock_in_device_at.eq(Some(end.device_at)),
        shift_records::clock_in_received_at.eq(Some(end.received_at)),
        shift_records::clock_in_distance_m.eq(end.distance_m),
        shift_records::outside_radius
            .eq(shift_records::outside_radius.or::<_, diesel::sql_types::Bool>(end.outside_radius)),
        shift_records::updated_at.eq(end.received_at),
    ))
    .execute(conn)?
        == 1)
}

pub fn set_clock_out(conn: &mut DbConnection, record_id: &str, end: &ClockEnd) -> AppResult<bool> {
    Ok(diesel::update(
        shift_records::table
            .find(record_id)
            .filter(shift_records::clock_out_at.is_null()),
    )
    .set((
        shift_records::clock_out_at.eq(Some(end.at)),
        shift_records::clock_out_device_at.eq(Some(end.device_at)),
        shift_records::clock_out_received_at.eq(Some(end.received_at)),
        shift_records::clock_out_distance_m.eq(end.distance_m),
        shift_records::outside_radius
            .eq(shift_records::outside_radius.or::<_, diesel::sql_types::Bool>(end.outside_radius)),
        shift_records::updated_at.eq(end.received_at),
    ))
    .execute(conn)?
        == 1)
}

/// Staffed places on published rosters for these people, dated `from` to `to`.
pub fn published_places(
    conn: &mut DbConnection,
    budget_holder_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(crate::rostering::repo::RosterShiftRow, String)>> {
    use crate::db::schema::{roster_assignments, rosters};
    Ok(roster_shifts::table
        .inner_join(rosters::table)
        .inner_join(
            roster_assignments::table.on(roster_assignments::roster_shift_id.eq(roster_shifts::id)),
        )
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_shifts::budget_holder_id.eq_any(budget_holder_ids))
        .filter(roster_shifts::shift_date.between(from, to))
        .order((
            roster_shifts::starts_at.asc(),
            roster_assignments::pa_id.asc(),
        ))
        .select((
            crate::rostering::repo::RosterShiftRow::as_select(),
            roster_assignments::pa_id,
        ))
        .load(conn)?)
}

/// Whether the PA has worked, or is rostered, for this person on a published roster.
pub fn works_for(conn: &mut DbConnection, pa_id: &str, budget_holder_id: &str) -> AppResult<bool> {
    use crate::db::schema::{roster_assignments, rosters};
    let found: Option<String> = roster_assignments::table
        .inner_join(roster_shifts::table)
        .inner_join(rosters::table.on(rosters::id.eq(roster_assignments::roster_id)))
        .filter(roster_assignments::pa_id.eq(pa_id))
        .filter(roster_shifts::budget_holder_id.eq(budget_holder_id))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .select(roster_assignments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The people a team manager looks after (all of the organisation's for an admin).
pub fn holder_ids(
    conn: &mut DbConnection,
    organisation_id: &str,
    team_manager_id: Option<&str>,
) -> AppResult<Vec<String>> {
    use crate::db::schema::budget_holders;
    let mut query = budget_holders::table
        .filter(budget_holders::organisation_id.eq(organisation_id.to_owned()))
        .select(budget_holders::id)
        .into_boxed();
    if let Some(manager) = team_manager_id {
        query = query.filter(budget_holders::team_manager_id.eq(manager.to_owned()));
    }
    Ok(query.load(conn)?)
}

pub fn shifts_by_id(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<Vec<crate::rostering::repo::RosterShiftRow>> {
    Ok(roster_shifts::table
        .filter(roster_shifts::id.eq_any(ids))
        .select(crate::rostering::repo::RosterShiftRow::as_select())
        .load(conn)?)
}

/// Where a clock event lands: the shift, the PA's id, where the person lives, and the
/// organisation's timesheet policy if it set one.
pub struct Place {
    pub shift: crate::rostering::repo::RosterShiftRow,
    pub pa_id: String,
    pub latitude: f64,
    pub longitude: f64,
    pub policy: Option<PolicyRow>,
}

/// A shift the calling PA works on a published roster of their organisation, with all a
/// clock event needs to know.
pub fn place_of_caller(
    conn: &mut DbConnection,
    shift_id: &str,
    user_id: &str,
    organisation_id: &str,
) -> AppResult<Option<Place>> {
    Ok(places_of_shifts(conn, &[shift_id.to_owned()])?
        .into_iter()
        .find(|(_, user, organisation)| {
            user.as_deref() == Some(user_id) && organisation == organisation_id
        })
        .map(|(place, _, _)| place))
}

/// Whether a published shift of this organisation exists (to tell 403 from 404).
pub fn published_shift_exists(
    conn: &mut DbConnection,
    shift_id: &str,
    organisation_id: &str,
) -> AppResult<bool> {
    use crate::db::schema::rosters;
    let found: Option<String> = roster_shifts::table
        .inner_join(rosters::table)
        .filter(roster_shifts::id.eq(shift_id))
        .filter(rosters::organisation_id.eq(organisation_id))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .select(roster_shifts::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The PA's record of a shift with its timesheet's state.
pub fn record_and_status(
    conn: &mut DbConnection,
    roster_shift_id: &str,
    pa_id: &str,
) -> AppResult<Option<(ShiftRecordRow, String)>> {
    Ok(shift_records::table
        .inner_join(timesheets::table)
        .filter(shift_records::roster_shift_id.eq(roster_shift_id))
        .filter(shift_records::pa_id.eq(pa_id))
        .select((ShiftRecordRow::as_select(), timesheets::status))
        .first(conn)
        .optional()?)
}

/// Inserts the record unless the PA already has one for the shift; true if this one went in.
pub fn insert_record_unless_exists(
    conn: &mut DbConnection,
    row: &ShiftRecordRow,
) -> AppResult<bool> {
    let inserted = crate::db::insert_unless_present!(conn, shift_records::table, row)?;
    Ok(inserted == 1)
}

/// Where each of these shifts' published places are, for any PA: (place, PA's login, the
/// roster's organisation). A batch of clock events reads them at once.
#[allow(clippy::type_complexity)]
pub fn places_of_shifts(
    conn: &mut DbConnection,
    shift_ids: &[String],
) -> AppResult<Vec<(Place, Option<String>, String)>> {
    use crate::db::schema::{budget_holders, pa_profiles, roster_assignments, rosters};
    let rows: Vec<(
        crate::rostering::repo::RosterShiftRow,
        String,
        Option<String>,
        String,
        f64,
        f64,
        Option<PolicyRow>,
    )> = roster_shifts::table
        .inner_join(rosters::table)
        .inner_join(budget_holders::table)
        .inner_join(
            roster_assignments::table.on(roster_assignments::roster_shift_id.eq(roster_shifts::id)),
        )
        .inner_join(pa_profiles::table.on(pa_profiles::id.eq(roster_assignments::pa_id)))
        .left_join(
            timesheet_policies::table
                .on(timesheet_policies::organisation_id.eq(rosters::organisation_id)),
        )
        .filter(roster_shifts::id.eq_any(shift_ids))
        .filter(roster_assignments::roster_shift_id.eq_any(shift_ids))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .select((
            crate::rostering::repo::RosterShiftRow::as_select(),
            pa_profiles::id,
            pa_profiles::user_id,
            rosters::organisation_id,
            budget_holders::latitude,
            budget_holders::longitude,
            Option::<PolicyRow>::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(shift, pa_id, user_id, organisation_id, latitude, longitude, policy)| {
                (
                    Place {
                        shift,
                        pa_id,
                        latitude,
                        longitude,
                        policy,
                    },
                    user_id,
                    organisation_id,
                )
            },
        )
        .collect())
}

/// The records of these shifts (any PA), with their timesheets' states.
pub fn records_of_shifts(
    conn: &mut DbConnection,
    shift_ids: &[String],
) -> AppResult<Vec<(ShiftRecordRow, String)>> {
    Ok(shift_records::table
        .inner_join(timesheets::table)
        .filter(shift_records::roster_shift_id.eq_any(shift_ids))
        .select((ShiftRecordRow::as_select(), timesheets::status))
        .load(conn)?)
}

/// These PAs' timesheets in these periods.
pub fn timesheets_of_pas_in(
    conn: &mut DbConnection,
    pa_ids: &[String],
    period_ids: &[String],
) -> AppResult<Vec<TimesheetRow>> {
    Ok(timesheets::table
        .filter(timesheets::pa_id.eq_any(pa_ids))
        .filter(timesheets::pay_period_id.eq_any(period_ids))
        .select(TimesheetRow::as_select())
        .load(conn)?)
}

// Multi-row inserts for a batch of clock events (`MultiConnection` cannot express them).

pub fn insert_timesheets_if_absent(
    conn: &mut DbConnection,
    rows: &[TimesheetRow],
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::db::insert_unless_present!(conn, timesheets::table, rows)?;
    Ok(())
}

/// New records, all or nothing: one that already exists fails the batch.
pub fn insert_records(conn: &mut DbConnection, rows: &[ShiftRecordRow]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::db::insert_all!(conn, shift_records::table, rows)?;
    Ok(())
}

pub fn insert_events(conn: &mut DbConnection, rows: &[ClockEventRow]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::db::insert_all!(conn, clock_events::table, rows)?;
    Ok(())
}

/// Sets one end of many records in one statement, each only if still unset; returns how many
/// were set (the caller compares it with how many it asked for).
pub fn set_ends(
    conn: &mut DbConnection,
    kind: crate::timesheets::model::ClockKind,
    ends: &[(&str, &ClockEnd)],
) -> AppResult<usize> {
    use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};
    if ends.is_empty() {
        return Ok(0);
    }
    let prefix = match kind {
        crate::timesheets::model::ClockKind::ClockIn => "clock_in",
        crate::timesheets::model::ClockKind::ClockOut => "clock_out",
    };
    // Column names come from the enum above, values only ever through binds.
    let statement = |rows: String| {
        format!(
            "WITH v (id, at_, device_at, received_at, distance, outside) AS (VALUES {rows}) \
             UPDATE shift_records SET {prefix}_at = v.at_, {prefix}_device_at = v.device_at, \
             {prefix}_received_at = v.received_at, {prefix}_distance_m = v.distance, \
             outside_radius = (shift_records.outside_radius OR v.outside), updated_at = v.received_at \
             FROM v WHERE shift_records.id = v.id AND shift_records.{prefix}_at IS NULL"
        )
    };
    Ok(match conn {
        DbConnection::Postgresql(c) => {
            let rows: Vec<String> = (0..ends.len())
                .map(|i| {
                    let n = i * 6;
                    format!(
                        "(${}, ${}::timestamp, ${}::timestamp, ${}::timestamp, ${}::integer, ${}::boolean)",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6
                    )
                })
                .collect();
            let mut query = diesel::sql_query(statement(rows.join(", "))).into_boxed();
            for (id, end) in ends {
                query = query
                    .bind::<Text, _>(*id)
                    .bind::<Timestamp, _>(end.at)
                    .bind::<Timestamp, _>(end.device_at)
                    .bind::<Timestamp, _>(end.received_at)
                    .bind::<Nullable<Integer>, _>(end.distance_m)
                    .bind::<Bool, _>(end.outside_radius);
            }
            query.execute(c)?
        }
        DbConnection::Sqlite(c) => {
            let rows = vec!["(?, ?, ?, ?, ?, ?)"; ends.len()].join(", ");
            let mut query = diesel::sql_query(statement(rows)).into_boxed();
            for (id, end) in ends {
                query = query
                    .bind::<Text, _>(*id)
                    .bind::<Timestamp, _>(end.at)
                    .bind::<Timestamp, _>(end.device_at)
                    .bind::<Timestamp, _>(end.received_at)
                    .bind::<Nullable<Integer>, _>(end.distance_m)
                    .bind::<Bool, _>(end.outside_radius);
            }
            query.execute(c)?
        }
    })
}

/// The fields an amendment may change, as kept in its before and after JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Amendable {
    pub clock_in_at: Option<chrono::DateTime<chrono::Utc>>,
    pub clock_out_at: Option<chrono::DateTime<chrono::Utc>>,
    pub break_minutes: i32,
    pub business_miles: f64,
    pub expenses_pence: Pence,
}

impl Amendable {
    pub fn of(record: &ShiftRecordRow) -> Self {
        Self {
            clock_in_at: record.clock_in_at.map(|t| t.and_utc()),
            clock_out_at: record.clock_out_at.map(|t| t.and_utc()),
            break_minutes: record.break_minutes,
            business_miles: f64::from(record.mileage_tenths) / 10.0,
            expenses_pence: record.expenses_pence,
        }
    }
}

/// The PAs' absences touching `from` to `to`, as (PA, first day, last day the PA is away).
pub fn absences_between(
    conn: &mut DbConnection,
    pa_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(String, NaiveDate, NaiveDate)>> {
    use crate::db::schema::absences;
    let mut out = Vec::new();
    for chunk in pa_ids.chunks(500) {
        out.extend(
            absences::table
                .filter(absences::pa_id.eq_any(chunk))
                .filter(absences::starts_on.le(to))
                .filter(absences::away_through.ge(from))
                .select((absences::pa_id, absences::starts_on, absences::away_through))
                .load::<(String, NaiveDate, NaiveDate)>(conn)?,
        );
    }
    Ok(out)
}

//! What timesheet actions share: finding or making a PA's timesheet, and the views with costs
//! and exceptions.

use crate::money::Pence;
use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::repo::{self as market_repo, BudgetHolderRow};
use crate::rostering::repo::RosterShiftRow;
use crate::timesheets::dto::*;
use crate::timesheets::model::{self, Actual, Cost, Planned, Policy};
use crate::timesheets::periods::{open_period_for, period_view, policy_of, PayRouting};
use crate::timesheets::repo::{self, PayPeriodRow, ShiftRecordRow, TimesheetRow};

/// The PA's timesheet for this person in this period, made if need be.
pub fn timesheet_in(
    conn: &mut DbConnection,
    organisation_id: &str,
    pa_id: &str,
    budget_holder_id: &str,
    period: &PayPeriodRow,
    now: DateTime<Utc>,
) -> AppResult<TimesheetRow> {
    if let Some(found) = repo::timesheet_for(conn, pa_id, budget_holder_id, &period.id)? {
        return Ok(found);
    }
    repo::insert_timesheet_if_absent(
        conn,
        &TimesheetRow {
            id: crate::ids::new_id(),
            organisation_id: organisation_id.to_owned(),
            pa_id: pa_id.to_owned(),
            budget_holder_id: budget_holder_id.to_owned(),
            pay_period_id: period.id.clone(),
            status: model::Status::Draft.as_str().to_owned(),
            version: 1,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            query_reason: None,
            paid_in_period_id: None,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        },
    )?;
    repo::timesheet_for(conn, pa_id, budget_holder_id, &period.id)?
        .ok_or_else(|| AppError::internal("timesheet vanished"))
}

/// The timesheet that takes new work dated `date`: the one of the open period holding it, or,
/// when that one is already approved (or its period closed), the next period's.
pub fn timesheet_for_new_work(
    conn: &mut DbConnection,
    organisation_id: &str,
    policy: &Policy,
    pa_id: &str,
    budget_holder_id: &str,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<TimesheetRow> {
    // The calendar of whoever pays this work; a PA who had left by then is refused here.
    let calendar = PayRouting::load(conn, organisation_id, policy, &[pa_id.to_owned()])?
        .calendar_for(pa_id, budget_holder_id, date)?;
    let mut day = date;
    for _ in 0..24 {
        let period = open_period_for(conn, &calendar, day)?;
        let timesheet = timesheet_in(conn, organisation_id, pa_id, budget_holder_id, &period, now)?;
        if model::Status::parse("status", &timesheet.status)? != model::Status::Approved {
            return Ok(timesheet);
        }
        day = period.ends_on + Duration::days(1);
    }
    Err(AppError::Conflict {
        code: ConflictCode::NoOpenTimesheet,
        detail: "the next two years' timesheets are already approved".into(),
    })
}

/// A timesheet, the person it is for, and the PA's login, as the policy needs them.
pub struct TimesheetContext {
    pub timesheet: TimesheetRow,
    pub holder: BudgetHolderRow,
    pub pa_user_id: Option<String>,
    pub policy: Policy,
}

impl TimesheetContext {
    pub fn load(conn: &mut DbConnection, timesheet: TimesheetRow) -> AppResult<Self> {
        let holder = market_repo::find_budget_holder(conn, &timesheet.budget_holder_id)?
            .ok_or(AppError::NotFound)?;
        let pa_user_id = market_repo::find_pa(conn, &timesheet.pa_id)?.and_then(|p| p.user_id);
        let policy = policy_of(conn, &timesheet.organisation_id)?;
        Ok(Self {
            timesheet,
            holder,
            pa_user_id,
            policy,
        })
    }

    pub fn resource(&self) -> Resource<'_> {
        Resource::Timesheet {
            organisation_id: &self.timesheet.organisation_id,
            team_manager_id: &self.holder.team_manager_id,
            pa_user_id: self.pa_user_id.as_deref(),
            user_id: self.holder.user_id.as_deref(),
            representative_user_id: self.holder.representative_user_id.as_deref(),
            approver: self.policy.approver,
        }
    }

    pub fn status(&self) -> AppResult<model::Status> {
        model::Status::parse("status", &self.timesheet.status)
    }
}

/// Loads a timesheet and checks the caller may do `action` to it.
pub fn timesheet_to(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    action: Action,
) -> AppResult<TimesheetContext> {
    let timesheet = repo::find_timesheet(conn, timesheet_id)?.ok_or(AppError::NotFound)?;
    let context = TimesheetContext::load(conn, timesheet)?;
    authorize(actor, action, context.resource())?;
    Ok(context)
}

fn planned_of(shift: &RosterShiftRow) -> Planned {
    Planned {
        starts_at: shift.starts_at.and_utc(),
        ends_at: shift.ends_at.and_utc(),
    }
}

pub fn actual_of(record: &ShiftRecordRow) -> Actual {
    Actual {
        clock_in: record.clock_in_at.map(|t| t.and_utc()),
        clock_out: record.clock_out_at.map(|t| t.and_utc()),
        break_minutes: record.break_minutes,
    }
}

pub fn record_view(
    record: &ShiftRecordRow,
    shift: Option<&RosterShiftRow>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> RecordView {
    let planned = shift.map(planned_of);
    let actual = actual_of(record);
    let end = |at: Option<chrono::NaiveDateTime>,
               device: Option<chrono::NaiveDateTime>,
               received: Option<chrono::NaiveDateTime>,
               distance: Option<i32>| {
        at.map(|at| ClockView {
            at: at.and_utc(),
            device_at: device.map(|t| t.and_utc()),
            received_at: received.map(|t| t.and_utc()),
            distance_m: distance,
        })
    };
    RecordView {
        id: record.id.clone(),
        timesheet_id: record.timesheet_id.clone(),
        shift_id: record.roster_shift_id.clone(),
        pa_id: record.pa_id.clone(),
        budget_holder_id: record.budget_holder_id.clone(),
        date: record.work_date,
        unrostered_reason: record.unrostered_reason.clone(),
        planned: planned.map(|p| PlannedView {
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            minutes: p.minutes(),
        }),
        clock_in: end(
            record.clock_in_at,
            record.clock_in_device_at,
            record.clock_in_received_at,
            record.clock_in_distance_m,
        ),
        clock_out: end(
            record.clock_out_at,
            record.clock_out_device_at,
            record.clock_out_received_at,
            record.clock_out_distance_m,
        ),
        outside_radius: record.outside_radius,
        break_minutes: record.break_minutes,
        woken_minutes: record.woken_minutes,
        worked_minutes: actual.worked_minutes(),
        business_miles: f64::from(record.mileage_tenths) / 10.0,
        expenses_pence: record.expenses_pence,
        expense_receipt: record.expense_receipt.clone(),
        note: record.note.clone(),
        exceptions: model::exceptions(
            planned,
            Some((actual, record.outside_radius)),
            false,
            policy,
            now,
        ),
        amendments: record.amendments,
    }
}

/// A record with its planned shift, as the caller sees it.
pub fn record_view_of(
    conn: &mut DbConnection,
    record: &ShiftRecordRow,
    policy: &Policy,
    now: DateTime<Utc>,
) -> AppResult<RecordView> {
    let shift = match &record.roster_shift_id {
        Some(id) => crate::rostering::repo::find_shift(conn, id)?,
        None => None,
    };
    Ok(record_view(record, shift.as_ref(), policy, now))
}

/// What a record costs the budget: the PA's hourly pay for the minutes worked with holiday pay,
/// mileage at HMRC rates after the miles already approved this tax year, and expenses.
pub fn record_cost(
    conn: &mut DbConnection,
    record: &ShiftRecordRow,
    hourly_pence: Pence,
) -> AppResult<Cost> {
    let rules = crate::rules::uk();
    let worked = actual_of(record).worked_minutes().unwrap_or(0);
    let holiday_bp = rules
        .holiday_pay(record.work_date)
        .map_or(0, |h| h.irregular_hours_accrual_bp);
    let mileage = if record.mileage_tenths > 0 {
        let before = repo::approved_mileage_since(
            conn,
            &record.pa_id,
            model::tax_year_start(record.work_date),
            record.work_date,
        )?;
        rules
            .mileage(record.work_date)
            .map(|rates| (rates, before, i64::from(record.mileage_tenths)))
    } else {
        None
    };
    Ok(model::cost(
        hourly_pence,
        worked,
        holiday_bp,
        mileage,
        record.expenses_pence,
    ))
}

pub fn timesheet_view(
    conn: &mut DbConnection,
    context: &TimesheetContext,
    now: DateTime<Utc>,
) -> AppResult<TimesheetView> {
    let t = &context.timesheet;
    let period = repo::find_period(conn, &t.pay_period_id)?.ok_or(AppError::NotFound)?;
    let records = repo::records_of(conn, &t.id)?;
    let shift_ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.roster_shift_id.clone())
        .collect();
    let shifts: HashMap<String, RosterShiftRow> = repo::shifts_by_id(conn, &shift_ids)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let hourly =
        market_repo::find_pa(conn, &t.pa_id)?.map_or(Pence::ZERO, |p| p.min_hourly_pay_pence);
    let mut cost = Cost::default();
    let mut worked_minutes = 0;
    let mut views = Vec::with_capacity(records.len());
    for record in &records {
        let c = record_cost(conn, record, hourly)?;
        cost.pay_pence += c.pay_pence;
        cost.holiday_pence += c.holiday_pence;
        cost.mileage_pence += c.mileage_pence;
        cost.expenses_pence += c.expenses_pence;
        let view = record_view(
            record,
            record
                .roster_shift_id
                .as_ref()
                .and_then(|id| shifts.get(id)),
            &context.policy,
            now,
        );
        worked_minutes += view.worked_minutes.unwrap_or(0);
        views.push(view);
    }
    Ok(TimesheetView {
        id: t.id.clone(),
        pa_id: t.pa_id.clone(),
        budget_holder_id: t.budget_holder_id.clone(),
        period: period_view(&period),
        status: context.status()?,
        version: t.version,
        submitted_at: t.submitted_at.map(|x| x.and_utc()),
        decided_by: t.decided_by.clone(),
        decided_at: t.decided_at.map(|x| x.and_utc()),
        query_reason: t.query_reason.clone(),
        paid_in_period_id: t.paid_in_period_id.clone(),
        records: views,
        worked_minutes,
        cost,
    })
}

pub fn summary(t: &TimesheetRow) -> AppResult<TimesheetSummary> {
    Ok(TimesheetSummary {
        id: t.id.clone(),
        pa_id: t.pa_id.clone(),
        budget_holder_id: t.budget_holder_id.clone(),
        pay_period_id: t.pay_period_id.clone(),
        status: model::Status::parse("status", &t.status)?,
        version: t.version,
        updated_at: t.updated_at.and_utc(),
    })
}

pub fn read_timesheet(
    conn: &mut DbConnection,
    actor: &AuthUser,
    timesheet_id: &str,
    now: DateTime<Utc>,
) -> AppResult<TimesheetView> {
    let context = timesheet_to(conn, actor, timesheet_id, Action::Read)?;
    timesheet_view(conn, &context, now)
}

/// The calling PA's timesheets, newest first.
pub fn my_timesheets(
    conn: &mut DbConnection,
    actor: &AuthUser,
) -> AppResult<Vec<TimesheetSummary>> {
    let pa_id = crate::market::repo::my_pa_id(conn, actor)?;
    repo::timesheets_of_pa(conn, &pa_id, 200)?
        .iter()
        .map(summary)
        .collect()
}

/// A person's timesheets, newest first. Who may call: their team manager and admins, the
/// person and their representative.
pub fn holder_timesheets(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_holder_id: &str,
    status: Option<model::Status>,
) -> AppResult<Vec<TimesheetSummary>> {
    let holder =
        market_repo::find_budget_holder(conn, budget_holder_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Read,
        Resource::BudgetHolder {
            organisation_id: &holder.organisation_id,
            team_manager_id: &holder.team_manager_id,
            user_id: holder.user_id.as_deref(),
            representative_user_id: holder.representative_user_id.as_deref(),
        },
    )?;
    repo::timesheets_of_holder(conn, &holder.id, status.map(model::Status::as_str), 200)?
        .iter()
        .map(summary)
        .collect()
}

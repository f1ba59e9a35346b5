//! Payroll: employers and engagements, adjustments, the exports a closed period makes, minimum
//! wage reviews, and what payroll clients pull.

use crate::money::Pence;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use sha2::{Digest, Sha256};

use crate::accounts::repo as accounts_repo;
use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::{AuthUser, Role};
use crate::budgets::repo::{self as budget_repo, BudgetRow};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::geo::Location;
use crate::http::Page;
use crate::idempotency::{self, Answer};
use crate::market::model::employment::{employment_on, Engaged, LeavingReason};
use crate::market::repo::{self as market_repo, BudgetHolderRow};
use crate::payroll::dto::*;
use crate::payroll::formats::{self, Format, Head, Line};
use crate::payroll::mapping::{Gap, LineFacts, Mapping};
use crate::payroll::model::ExportStatus;
use crate::payroll::model::{self, Extra, HolidayBasis, PayError, PayInput, Shift, ShiftKind};
use crate::payroll::repo::{
    self, EmployerRow, EngagementRow, ExportRow, LineRow, PaidRecord, RecordsOf,
};
use crate::pricing::model::Version;
use crate::pricing::repo as pricing_repo;
use crate::timesheets::periods::{open_period_for, own_calendar, policy_of, Calendar};
use crate::timesheets::repo::Amendable;
use crate::timesheets::repo::PayPeriodRow;

fn payroll(organisation_id: &str) -> Resource<'_> {
    Resource::Payroll { organisation_id }
}

pub fn employer_view(row: &EmployerRow) -> AppResult<EmployerView> {
    Ok(EmployerView {
        id: row.id.clone(),
        kind: if row.kind == "budget_holder" {
            EmployerKind::BudgetHolder
        } else {
            EmployerKind::Organisation
        },
        budget_holder_id: row.budget_holder_id.clone(),
        name: row.name.clone(),
        paye_reference: row.paye_reference.clone(),
        payroll_client_id: row.payroll_client_id.clone(),
        rate_card_id: row.rate_card_id.clone(),
        pays_travel_time: row.pays_travel_time,
        exports_made: row.export_sequence,
        payroll_software: mapping_of(row)?.software,
        pay_calendar: own_calendar(row.pay_calendar.clone())?,
        created_at: row.created_at.and_utc(),
    })
}

/// The employer's payroll mapping as stored.
pub fn mapping_of(row: &EmployerRow) -> AppResult<Mapping> {
    crate::db::json::from_text("employers.payroll_mapping", &row.payroll_mapping)
}

pub fn engagement_view(row: &EngagementRow) -> AppResult<EngagementView> {
    Ok(EngagementView {
        id: row.id.clone(),
        employer_id: row.employer_id.clone(),
        pa_id: row.pa_id.clone(),
        works_number: row.works_number.clone(),
        contracted_hours_per_week: row.contracted_minutes_per_week.map(|m| f64::from(m) / 60.0),
        holiday_basis: HolidayBasis::parse("holiday_basis", &row.holiday_basis)?,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        leaving_reason: row
            .leaving_reason
            .as_deref()
            .map(|r| LeavingReason::parse("leaving_reason", r))
            .transpose()?,
        reported_in_export_id: row.leaver_export_id.clone(),
    })
}

/// Registers an employer. Who may call: admins.
pub fn create_employer(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateEmployer,
    now: DateTime<Utc>,
) -> AppResult<EmployerView> {
    authorize(actor, Action::Administer, payroll(&actor.organisation_id))?;
    let holder = match (request.kind, &request.budget_holder_id) {
        (EmployerKind::BudgetHolder, Some(id)) => {
            let holder = market_repo::find_budget_holder(conn, id)?
                .filter(|h| h.organisation_id == actor.organisation_id)
                .ok_or_else(|| {
                    AppError::field(
                        "budget_holder_id",
                        "not_found",
                        "is not a person of this organisation",
                    )
                })?;
            Some(holder.id)
        }
        (EmployerKind::BudgetHolder, None) => {
            return Err(AppError::field(
                "budget_holder_id",
                "required",
                "is required for a budget holder employer",
            ))
        }
        (EmployerKind::Organisation, Some(_)) => {
            return Err(AppError::field(
                "budget_holder_id",
                "not_allowed",
                "is only for a budget holder employer",
            ))
        }
        (EmployerKind::Organisation, None) => None,
    };
    let client = accounts_repo::find_user(conn, &request.payroll_client_id)?.filter(|u| {
        u.organisation_id == actor.organisation_id && u.role == Role::PayrollProvider.as_str()
    });
    if client.is_none() {
        return Err(AppError::field(
            "payroll_client_id",
            "not_found",
            "is not a payroll client of this organisation",
        ));
    }
    let card = pricing_repo::find_card(conn, &request.rate_card_id)?
        .filter(|c| c.organisation_id == actor.organisation_id);
    if card.is_none() {
        return Err(AppError::field(
            "rate_card_id",
            "not_found",
            "is not a rate card of this organisation",
        ));
    }
    let mapping = request.payroll_mapping.clone().unwrap_or_default();
    crate::error::errors_or((), mapping.check())?;
    if let Some(calendar) = &request.pay_calendar {
        crate::error::errors_or((), calendar.check("pay_calendar"))?;
    }
    let paye = request.paye_reference.trim().to_uppercase();
    if !valid_paye_reference(&paye) {
        return Err(AppError::field(
            "paye_reference",
            "invalid",
            "must be an employer PAYE reference: three digits, a slash, then letters and digits (123/AB45678)",
        ));
    }
    let row = EmployerRow {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        kind: match request.kind {
            EmployerKind::BudgetHolder => "budget_holder",
            EmployerKind::Organisation => "organisation",
        }
        .to_owned(),
        budget_holder_id: holder,
        name: request.name.trim().to_owned(),
        paye_reference: paye,
        payroll_client_id: request.payroll_client_id.clone(),
        rate_card_id: request.rate_card_id.clone(),
        pays_travel_time: request.pays_travel_time,
        export_sequence: 0,
        payroll_mapping: crate::db::json::to_text(&mapping)?,
        pay_calendar: request
            .pay_calendar
            .as_ref()
            .map(crate::db::json::to_text)
            .transpose()?,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
    };
    let view = employer_view(&row)?;
    write_transaction(conn, |conn| {
        repo::insert_employer(conn, &row)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "employer.created",
                entity_type: "employer",
                entity_id: &row.id,
                before: None,
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

/// `123/AB45678`: a three-digit tax office number, a slash, up to ten letters and digits.
fn valid_paye_reference(text: &str) -> bool {
    let Some((office, reference)) = text.split_once('/') else {
        return false;
    };
    office.len() == 3
        && office.chars().all(|c| c.is_ascii_digit())
        && (1..=10).contains(&reference.len())
        && reference.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The organisation's employers. Who may call: admins and team managers.
pub fn list_employers(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<Vec<EmployerView>> {
    authorize(actor, Action::Read, payroll(&actor.organisation_id))?;
    repo::employers_of(conn, &actor.organisation_id)?
        .iter()
        .map(employer_view)
        .collect::<AppResult<Vec<_>>>()
}

fn employer_in(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    action: Action,
) -> AppResult<EmployerRow> {
    let employer = repo::find_employer(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(actor, action, payroll(&employer.organisation_id))?;
    Ok(employer)
}

/// Records a PA's employment with an employer. Who may call: admins and team managers.
pub fn create_engagement(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
    request: CreateEngagement,
    now: DateTime<Utc>,
) -> AppResult<EngagementView> {
    let employer = employer_in(conn, actor, employer_id, Action::Create)?;
    market_repo::find_pa(conn, &request.pa_id)?
        .filter(|p| p.organisation_id == employer.organisation_id)
        .ok_or_else(|| AppError::field("pa_id", "not_found", "is not a PA of this organisation"))?;
    let age = model::age_on(request.date_of_birth, request.starts_on);
    if !(16..=100).contains(&age) || request.date_of_birth > request.starts_on {
        return Err(AppError::field(
            "date_of_birth",
            "range",
            "must make the PA 16 to 100 years old when the engagement starts",
        ));
    }
    let row = EngagementRow {
        id: crate::ids::new_id(),
        employer_id: employer.id.clone(),
        pa_id: request.pa_id.clone(),
        works_number: request.works_number.trim().to_owned(),
        date_of_birth: request.date_of_birth,
        contracted_minutes_per_week: request
            .contracted_hours_per_week
            .map(|h| (h * 60.0).round() as i32),
        holiday_basis: request.holiday_basis.as_str().to_owned(),
        starts_on: request.starts_on,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
        ends_on: None,
        leaving_reason: None,
        leaver_export_id: None,
    };
    // The audit trail keeps the view, which leaves out the date of birth.
    let view = engagement_view(&row)?;
    write_transaction(conn, |conn| {
        repo::insert_engagement(conn, &row).map_err(|e| match e {
            AppError::Conflict { .. } => AppError::Conflict {
                code: ConflictCode::EngagementExists,
                detail: "this PA is already engaged by this employer, or the works number is taken"
                    .into(),
            },
            other => other,
        })?;
        // Who employs a PA is one of the facts matching and the safety gate judge them by.
        market_repo::touch_pa(conn, &row.pa_id, &employer.organisation_id)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &employer.organisation_id,
                action: "engagement.created",
                entity_type: "engagement",
                entity_id: &row.id,
                before: None,
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

/// An employer's engagements. Who may call: admins and team managers.
pub fn list_engagements(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
) -> AppResult<Vec<EngagementView>> {
    let employer = employer_in(conn, actor, employer_id, Action::Read)?;
    repo::engagements_of(conn, &employer.id)?
        .iter()
        .map(engagement_view)
        .collect()
}

/// Adds pay by hand (holiday taken, a correction) to the next period to close, once per
/// `Idempotency-Key`. Who may call: admins and team managers.
pub fn create_adjustment(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateAdjustment,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Answer> {
    let engagement = repo::find_engagement(conn, &request.engagement_id)?.ok_or_else(|| {
        AppError::field(
            "engagement_id",
            "not_found",
            "is not an engagement of this organisation",
        )
    })?;
    let employer = repo::find_employer(conn, &engagement.employer_id)?.ok_or(AppError::NotFound)?;
    if employer.organisation_id != actor.organisation_id {
        return Err(AppError::field(
            "engagement_id",
            "not_found",
            "is not an engagement of this organisation",
        ));
    }
    authorize(actor, Action::Create, payroll(&employer.organisation_id))?;
    let holder = market_repo::find_budget_holder(conn, &request.budget_holder_id)?
        .filter(|h| h.organisation_id == employer.organisation_id)
        .ok_or_else(|| {
            AppError::field(
                "budget_holder_id",
                "not_found",
                "is not a person of this organisation",
            )
        })?;
    if employer
        .budget_holder_id
        .as_ref()
        .is_some_and(|h| h != &holder.id)
    {
        return Err(AppError::field(
            "budget_holder_id",
            "not_employer",
            "this employer pays only its own budget holder's PAs",
        ));
    }
    if request.amount_pence.is_zero() {
        return Err(AppError::field("amount_pence", "range", "must not be 0"));
    }
    let policy = policy_of(conn, &employer.organisation_id)?;
    let today = now.with_timezone(&London).date_naive();
    let hash = idempotency::request_hash(&request);
    idempotency::once(conn, &actor.user_id, key, &hash, now, |conn| {
        // Paid in the next period to close: the first open one after the last closed (today's
        // when none has closed), not necessarily the one today falls in.
        // On the employer's own calendar, when it has one.
        let calendar =
            Calendar::of_employer(conn, &employer.organisation_id, &employer.id, &policy)?;
        let from = crate::timesheets::repo::last_closed_period(
            conn,
            &calendar.organisation_id,
            calendar.employer_id.as_deref(),
        )?
        .map_or(today, |closed| closed.ends_on + chrono::Duration::days(1));
        let period = open_period_for(conn, &calendar, from)?;
        let row = repo::AdjustmentRow {
            id: crate::ids::new_id(),
            organisation_id: employer.organisation_id.clone(),
            engagement_id: engagement.id.clone(),
            budget_holder_id: holder.id.clone(),
            pay_period_id: period.id.clone(),
            kind: match request.kind {
                AdjustmentKind::HolidayTaken => "holiday_taken",
                AdjustmentKind::Correction => "correction",
            }
            .to_owned(),
            amount_pence: request.amount_pence,
            reason: request.reason.trim().to_owned(),
            created_by: actor.user_id.clone(),
            created_at: now.naive_utc(),
        };
        repo::insert_adjustment(conn, &row)?;
        let view = AdjustmentView {
            id: row.id.clone(),
            engagement_id: row.engagement_id.clone(),
            budget_holder_id: row.budget_holder_id.clone(),
            pay_period_id: row.pay_period_id.clone(),
            kind: request.kind,
            amount_pence: row.amount_pence,
            reason: row.reason.clone(),
            created_at: now,
        };
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "payroll_adjustment.created",
                entity_type: "payroll_adjustment",
                entity_id: &row.id,
                before: None,
                after: Some(&view),
            },
        )?;
        Ok((201, view))
    })
}

// ---------------------------------------------------------------------------------------------
// Closing a period

/// Who employs whom, for routing each record to the engagement that pays it
/// (`market::model::employment`, the rule the safety gate and timesheets follow too).
struct Employment<'a> {
    employers: HashMap<&'a str, &'a EmployerRow>,
    by_pa: HashMap<&'a str, Vec<Engaged>>,
    by_id: HashMap<&'a str, &'a EngagementRow>,
}

impl<'a> Employment<'a> {
    fn new(employers: &'a [EmployerRow], engagements: &'a [EngagementRow]) -> Self {
        let employers: HashMap<&'a str, &'a EmployerRow> =
            employers.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut by_pa: HashMap<&'a str, Vec<Engaged>> = HashMap::new();
        let mut ordered: Vec<&EngagementRow> = engagements
            .iter()
            .filter(|g| employers.contains_key(g.employer_id.as_str()))
            .collect();
        // The organisation's employers in the order they were set up, as everywhere.
        ordered.sort_by_key(|g| {
            let e = employers[g.employer_id.as_str()];
            (e.created_at, e.id.as_str())
        });
        for g in ordered {
            by_pa.entry(g.pa_id.as_str()).or_default().push(Engaged {
                engagement_id: g.id.clone(),
                employer_id: g.employer_id.clone(),
                employs_for: employers[g.employer_id.as_str()].budget_holder_id.clone(),
                ends_on: g.ends_on,
            });
        }
        Self {
            employers,
            by_pa,
            by_id: engagements.iter().map(|g| (g.id.as_str(), g)).collect(),
        }
    }

    /// The engagement that pays the PA's work for this person on `date` (a leaver's last one
    /// for what they did before leaving).
    fn of(&self, pa_id: &str, holder_id: &str, date: NaiveDate) -> Option<&'a EngagementRow> {
        let engaged = self.by_pa.get(pa_id)?;
        let paying = employment_on(engaged, holder_id, date).engagement()?;
        self.by_id.get(paying.engagement_id.as_str()).copied()
    }
}

/// PAs whose records are read and paid at once when a period closes.
const PAS_PER_BATCH: usize = 250;

fn shift_of(record: PaidRecord, holders: &HashMap<String, repo::HolderFacts>) -> AppResult<Shift> {
    let (Some(clock_in), Some(clock_out)) = (record.clock_in_at, record.clock_out_at) else {
        return Err(AppError::internal(
            "an approved record lacks a clock-in or clock-out",
        ));
    };
    let holder = holders.get(&record.budget_holder_id);
    Ok(Shift {
        record_id: record.record_id,
        timesheet_id: record.timesheet_id,
        budget_holder_id: record.budget_holder_id,
        home: holder.map(|h| Location {
            latitude: h.latitude,
            longitude: h.longitude,
        }),
        clock_in: clock_in.and_utc(),
        clock_out: clock_out.and_utc(),
        break_minutes: i64::from(record.break_minutes),
        kind: record
            .kind
            .as_deref()
            .map_or(ShiftKind::Day, ShiftKind::parse),
        headcount: u8::try_from(record.headcount.unwrap_or(1)).unwrap_or(1),
        notice_minutes: match (record.planned_start, record.given_at) {
            (Some(start), Some(given)) => Some((start - given).num_minutes()),
            _ => None,
        },
        level: holder.map_or(1, |h| h.minimum_level),
        woken_minutes: i64::from(record.woken_minutes),
        mileage_tenths: i64::from(record.mileage_tenths),
        expenses_pence: record.expenses_pence,
    })
}

fn pay_problem(error: PayError, employer: &EmployerRow) -> AppError {
    AppError::Conflict {
        code: ConflictCode::PayNotCalculable,
        detail: pay_problem_words(error, employer),
    }
}

fn pay_problem_words(error: PayError, employer: &EmployerRow) -> String {
    {
        match error {
            PayError::NoVersion(date) => format!(
                "rate card {} has no version in force on {date} (employer {})",
                employer.rate_card_id, employer.name
            ),
            PayError::LevelNotPriced { level, date } => format!(
                "rate card {} does not price level {level} on {date} (employer {})",
                employer.rate_card_id, employer.name
            ),
            PayError::RulesUnknown(date) => {
                format!("the UK rules data does not cover {date}")
            }
        }
    }
}

/// The gross difference an amendment made to one record's pay, worked out on that record alone.
fn amendment_change(
    record: &Shift,
    before: &Amendable,
    after: &Amendable,
    engagement: &EngagementRow,
    holiday_basis: HolidayBasis,
    versions: &[Version],
    period_start: NaiveDate,
) -> Result<Pence, PayError> {
    let gross = |fields: &Amendable| -> Result<Pence, PayError> {
        let (Some(clock_in), Some(clock_out)) = (fields.clock_in_at, fields.clock_out_at) else {
            return Ok(Pence::new(0));
        };
        let shift = Shift {
            clock_in,
            clock_out,
            break_minutes: i64::from(fields.break_minutes),
            mileage_tenths: (fields.business_miles * 10.0).round() as i64,
            expenses_pence: fields.expenses_pence,
            ..record.clone()
        };
        model::pay(&PayInput {
            period_start,
            date_of_birth: engagement.date_of_birth,
            contracted_minutes_per_week: None,
            holiday_basis,
            pays_travel_time: false,
            versions,
            rules: crate::rules::uk(),
            miles_before_tenths: 0,
            shifts: std::slice::from_ref(&shift),
            extras: &[],
        })
        .map(|slip| slip.gross_pence)
    };
    Ok(gross(after)? - gross(before)?)
}

/// Makes the exports for a period being closed, inside the caller's transaction: one per
/// employer with pay in the period, ready (numbered, checksummed) or blocked on a minimum wage
/// failure. An organisation with no employers set up has no payroll to export.
///
/// Gather the facts (`PayFacts::gather`, the amendments and adjustments carried: `extras_of`),
/// pay each PA (`payslips`, a batch of PAs at a time), plan each employer's export from the
/// payslips (`plan_export`, pure), then write them all (`write_exports`).
pub fn export_period(
    conn: &mut DbConnection,
    actor: &AuthUser,
    period: &PayPeriodRow,
    now: DateTime<Utc>,
) -> AppResult<Vec<ExportView>> {
    let Some(facts) = PayFacts::gather(conn, period)? else {
        return Ok(Vec::new());
    };
    let employment = Employment::new(&facts.employers, &facts.engagements);
    let extras = extras_of(conn, period, &facts, &employment)?;
    let mut paid = payslips(conn, period, &facts, &employment, &extras)?;
    let mut leavers = leavers_of(period, &facts, &employment)?;
    let mut absences = absences_of(conn, period, &facts, &employment)?;
    for employer_id in leavers.keys().chain(absences.keys()) {
        paid.by_employer.entry(employer_id).or_default();
    }
    let built = paid
        .by_employer
        .into_iter()
        .map(|(employer_id, slips)| {
            let employer = employment.employers[employer_id];
            let blockers = paid.not_calculable.remove(employer_id).unwrap_or_default();
            let leaving = leavers.remove(employer_id).unwrap_or_default();
            let away = absences.remove(employer_id).unwrap_or_default();
            plan_export(period, employer, slips, blockers, leaving, away, now)
        })
        .collect::<AppResult<Vec<_>>>()?;
    write_exports(conn, actor, period, built, now)
}

/// Whether `employer` pays on the calendar `period` belongs to: its own, or the organisation's
/// when it has none.
fn pays_on(period: &PayPeriodRow, employer: &EmployerRow) -> bool {
    match &period.employer_id {
        Some(id) => *id == employer.id,
        None => employer.pay_calendar.is_none(),
    }
}

/// The absences of each employer's PAs within the period: every employer on this calendar that
/// engages the PA is told (each owes its own sick pay), with the days the PA was rostered for
/// people it pays as the qualifying days. Nothing is paid for an absence here: annual leave
/// taken is already paid to a PA on rolled-up holiday pay, and is paid by adjustment otherwise.
fn absences_of<'a>(
    conn: &mut DbConnection,
    period: &PayPeriodRow,
    facts: &'a PayFacts,
    employment: &Employment<'a>,
) -> AppResult<BTreeMap<&'a str, Vec<ExportAbsence>>> {
    use crate::absence::model::{AbsenceKind, Span};
    let mut out: BTreeMap<&'a str, Vec<ExportAbsence>> = BTreeMap::new();
    let found = repo::absences_between(
        conn,
        &period.organisation_id,
        period.starts_on,
        period.ends_on,
    )?;
    if found.is_empty() {
        return Ok(out);
    }
    let mut pa_ids: Vec<String> = found.iter().map(|a| a.1.clone()).collect();
    pa_ids.dedup();
    let rostered = repo::rostered_days(conn, &pa_ids, period.starts_on, period.ends_on)?;
    let rules = crate::rules::uk();
    for (_, pa_id, kind, starts_on, ends_on) in &found {
        let kind = AbsenceKind::parse("kind", kind)?;
        let span = Span {
            starts_on: *starts_on,
            ends_on: *ends_on,
        };
        let first = span.starts_on.max(period.starts_on);
        let last = span.away_through().min(period.ends_on);
        for g in facts.engagements.iter().filter(|g| g.pa_id == *pa_id) {
            let Some(employer) = employment.employers.get(g.employer_id.as_str()) else {
                continue;
            };
            if !pays_on(period, employer) || g.ends_on.is_some_and(|end| end < first) {
                continue;
            }
            let mut qualifying: Vec<NaiveDate> = rostered
                .iter()
                .filter(|(pa, holder, date)| {
                    pa == pa_id
                        && (first..=last).contains(date)
                        && employment
                            .of(pa, holder, *date)
                            .is_some_and(|paying| paying.id == g.id)
                })
                .map(|(_, _, date)| *date)
                .collect();
            qualifying.dedup();
            let rolled_up = g.holiday_basis == "rolled_up";
            let note = match kind {
                AbsenceKind::Sickness => "parota states the qualifying days and the rules in force; the payroll software works out average weekly earnings, linked spells and the Statutory Sick Pay due".into(),
                AbsenceKind::AnnualLeave if rolled_up => "holiday pay was rolled up into each period's pay: nothing more is due for this leave".into(),
                AbsenceKind::AnnualLeave => "holiday taken is paid by a holiday_taken adjustment, not from this record".into(),
                _ => "recorded for the payroll software; parota pays nothing for it".to_owned(),
            };
            out.entry(employer.id.as_str())
                .or_default()
                .push(ExportAbsence {
                    pa_id: pa_id.clone(),
                    works_number: g.works_number.clone(),
                    kind,
                    starts_on: span.starts_on,
                    ends_on: span.ends_on,
                    days_in_period: (last - first).num_days() + 1,
                    qualifying_days: qualifying,
                    statutory_sick_pay: (kind == AbsenceKind::Sickness)
                        .then(|| rules.statutory_sick_pay(span.starts_on))
                        .flatten(),
                    note,
                });
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (&a.works_number, a.starts_on).cmp(&(&b.works_number, b.starts_on)));
    }
    Ok(out)
}

/// The PAs each employer on this period's calendar has seen leave by the period's end and not
/// yet reported: the period's export tells the bureau, once, so it issues their P45s (a PA
/// who leaves after a period closed is reported in the next).
fn leavers_of<'a>(
    period: &PayPeriodRow,
    facts: &'a PayFacts,
    employment: &Employment<'a>,
) -> AppResult<BTreeMap<&'a str, Vec<(&'a EngagementRow, Leaver)>>> {
    let mut out: BTreeMap<&'a str, Vec<(&'a EngagementRow, Leaver)>> = BTreeMap::new();
    for g in &facts.engagements {
        let (Some(left_on), Some(reason), None) =
            (g.ends_on, g.leaving_reason.as_deref(), &g.leaver_export_id)
        else {
            continue;
        };
        let Some(employer) = employment.employers.get(g.employer_id.as_str()) else {
            continue;
        };
        if left_on > period.ends_on || !pays_on(period, employer) {
            continue;
        }
        out.entry(employer.id.as_str()).or_default().push((
            g,
            Leaver {
                pa_id: g.pa_id.clone(),
                works_number: g.works_number.clone(),
                left_on,
                reason: LeavingReason::parse("leaving_reason", reason)?,
            },
        ));
    }
    Ok(out)
}

/// What paying a period reads once for the whole organisation.
struct PayFacts {
    employers: Vec<EmployerRow>,
    engagements: Vec<EngagementRow>,
    holders: HashMap<String, repo::HolderFacts>,
    /// Each rate card's versions.
    versions: HashMap<String, Vec<Version>>,
    /// Business miles paid so far this tax year, by employer and PA (tenths of a mile).
    miles: HashMap<(String, String), i64>,
}

impl PayFacts {
    /// `None` when the organisation has no employers set up.
    fn gather(conn: &mut DbConnection, period: &PayPeriodRow) -> AppResult<Option<Self>> {
        let organisation_id = period.organisation_id.as_str();
        let employers = repo::employers_of(conn, organisation_id)?;
        if employers.is_empty() {
            return Ok(None);
        }
        let engagements = repo::engagements_in(conn, organisation_id)?;
        let holders = repo::holder_facts(conn, organisation_id)?
            .into_iter()
            .map(|h| (h.id.clone(), h))
            .collect();
        let card_ids: Vec<String> = employers.iter().map(|e| e.rate_card_id.clone()).collect();
        let mut versions: HashMap<String, Vec<Version>> = HashMap::new();
        for v in pricing_repo::versions_of(conn, &card_ids)? {
            let terms = crate::db::json::from_text("terms", &v.terms)?;
            versions
                .entry(v.rate_card_id.clone())
                .or_default()
                .push(Version {
                    id: v.id,
                    effective_from: v.effective_from,
                    terms,
                });
        }
        let mut miles: HashMap<(String, String), i64> = HashMap::new();
        let tax_year = crate::timesheets::model::tax_year_start(period.starts_on);
        for (employer, pa, tenths) in
            repo::miles_paid(conn, organisation_id, tax_year, period.starts_on)?
        {
            *miles.entry((employer, pa)).or_default() += tenths;
        }
        Ok(Some(Self {
            employers,
            engagements,
            holders,
            versions,
            miles,
        }))
    }

    fn cards_of(&self, employer: &EmployerRow) -> &[Version] {
        self.versions
            .get(&employer.rate_card_id)
            .map_or(&[][..], Vec::as_slice)
    }
}

/// Amendments carried from earlier periods and this period's adjustments, by engagement: few,
/// gathered before the records.
fn extras_of<'a>(
    conn: &mut DbConnection,
    period: &PayPeriodRow,
    facts: &PayFacts,
    employment: &Employment<'a>,
) -> AppResult<HashMap<&'a str, Vec<Extra>>> {
    let mut extras: HashMap<&'a str, Vec<Extra>> = HashMap::new();
    let carried = repo::amendments_carried_by(conn, &period.id)?;
    let record_ids: Vec<String> = carried.iter().map(|(_, r, _, _)| r.clone()).collect();
    let mut amended: HashMap<String, PaidRecord> = HashMap::new();
    for chunk in record_ids.chunks(500) {
        for record in repo::paid_records(conn, RecordsOf::Ids(chunk))? {
            amended.insert(record.record_id.clone(), record);
        }
    }
    for (amendment_id, record_id, before, after) in &carried {
        let Some(record) = amended.get(record_id) else {
            continue;
        };
        let Some(g) = employment.of(&record.pa_id, &record.budget_holder_id, record.work_date)
        else {
            continue;
        };
        let employer = employment.employers[g.employer_id.as_str()];
        let before: Amendable = crate::db::json::from_text("before_json", before)?;
        let after: Amendable = crate::db::json::from_text("after_json", after)?;
        let shift = shift_of(record.clone(), &facts.holders)?;
        let change = amendment_change(
            &shift,
            &before,
            &after,
            g,
            HolidayBasis::parse("holiday_basis", &g.holiday_basis)?,
            facts.cards_of(employer),
            period.starts_on,
        )
        .map_err(|e| pay_problem(e, employer))?;
        if !change.is_zero() {
            extras.entry(g.id.as_str()).or_default().push(Extra {
                budget_holder_id: record.budget_holder_id.clone(),
                element: "amendment",
                description: format!("Amended shift of {}", shift.local_date()),
                amount_pence: change,
                source: amendment_id.clone(),
            });
        }
    }
    for adjustment in repo::adjustments_in(conn, &period.id)? {
        let Some(g) = employment.by_id.get(adjustment.engagement_id.as_str()) else {
            continue;
        };
        extras.entry(g.id.as_str()).or_default().push(Extra {
            budget_holder_id: adjustment.budget_holder_id.clone(),
            element: if adjustment.kind == "holiday_taken" {
                "holiday_taken"
            } else {
                "correction"
            },
            description: adjustment.reason.clone(),
            amount_pence: adjustment.amount_pence,
            source: adjustment.id.clone(),
        });
    }
    Ok(extras)
}

/// Every PA's pay in the period, by employer, and the PAs whose pay cannot be calculated.
struct Paid<'a> {
    by_employer: BTreeMap<&'a str, Vec<(&'a EngagementRow, model::Payslip)>>,
    not_calculable: BTreeMap<&'a str, Vec<Blocker>>,
}

/// Pays every PA with work or an extra in the period. Records are read a batch of PAs at a time
/// and only their pay lines kept, so memory follows the number of PAs and lines, not shifts.
fn payslips<'a>(
    conn: &mut DbConnection,
    period: &PayPeriodRow,
    facts: &PayFacts,
    employment: &Employment<'a>,
    extras: &HashMap<&'a str, Vec<Extra>>,
) -> AppResult<Paid<'a>> {
    let mut pa_ids: Vec<String> = repo::pas_paid_in(conn, &period.id)?;
    pa_ids.extend(
        extras
            .keys()
            .filter_map(|g| employment.by_id.get(g))
            .map(|g| g.pa_id.clone()),
    );
    pa_ids.sort();
    pa_ids.dedup();
    let mut paid = Paid {
        by_employer: BTreeMap::new(),
        not_calculable: BTreeMap::new(),
    };
    let mut missing: Vec<String> = Vec::new();
    for chunk in pa_ids.chunks(PAS_PER_BATCH) {
        let mut work: BTreeMap<&'a str, Vec<Shift>> = BTreeMap::new();
        let which = RecordsOf::PaidIn {
            period_id: &period.id,
            pa_ids: chunk,
        };
        for record in repo::paid_records(conn, which)? {
            match employment.of(&record.pa_id, &record.budget_holder_id, record.work_date) {
                Some(g) => work
                    .entry(g.id.as_str())
                    .or_default()
                    .push(shift_of(record, &facts.holders)?),
                None => missing.push(format!(
                    "PA {} working for {}",
                    record.pa_id, record.budget_holder_id
                )),
            }
        }
        // PAs paid only an adjustment this period.
        for engagement_id in extras.keys() {
            let g = employment.by_id[engagement_id];
            if chunk.binary_search(&g.pa_id).is_ok() {
                work.entry(g.id.as_str()).or_default();
            }
        }
        for (engagement_id, shifts) in &work {
            let g = employment.by_id[engagement_id];
            let employer = employment.employers[g.employer_id.as_str()];
            let slip = model::pay(&PayInput {
                period_start: period.starts_on,
                date_of_birth: g.date_of_birth,
                contracted_minutes_per_week: g.contracted_minutes_per_week.map(i64::from),
                holiday_basis: HolidayBasis::parse("holiday_basis", &g.holiday_basis)?,
                pays_travel_time: employer.pays_travel_time,
                versions: facts.cards_of(employer),
                rules: crate::rules::uk(),
                miles_before_tenths: facts
                    .miles
                    .get(&(employer.id.clone(), g.pa_id.clone()))
                    .copied()
                    .unwrap_or(0),
                shifts,
                extras: extras.get(engagement_id).map_or(&[][..], Vec::as_slice),
            });
            match slip {
                Ok(slip) => paid
                    .by_employer
                    .entry(employer.id.as_str())
                    .or_default()
                    .push((g, slip)),
                // One PA's pay that cannot be calculated blocks that PA's line, as a minimum
                // wage shortfall does; everyone else's pay closes.
                Err(e) => {
                    paid.by_employer.entry(employer.id.as_str()).or_default();
                    paid.not_calculable
                        .entry(employer.id.as_str())
                        .or_default()
                        .push(Blocker::not_calculable(
                            &g.pa_id,
                            &g.works_number,
                            shifts.first().map_or("", |s| s.budget_holder_id.as_str()),
                            pay_problem_words(e, employer),
                        ));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        return Err(AppError::Conflict {
            code: ConflictCode::EngagementMissing,
            detail: format!(
                "{} PA(s) worked in this period with no engagement to pay them: {}",
                missing.len(),
                shown.join("; ")
            ),
        });
    }
    Ok(paid)
}

/// One employer's export as it will be written: its lines in works-number order and its
/// blockers (minimum wage shortfalls, pay that cannot be calculated). Numbered when written.
fn plan_export<'e>(
    period: &PayPeriodRow,
    employer: &'e EmployerRow,
    mut slips: Vec<(&EngagementRow, model::Payslip)>,
    mut blockers: Vec<Blocker>,
    mut leavers: Vec<(&EngagementRow, Leaver)>,
    absences: Vec<ExportAbsence>,
    now: DateTime<Utc>,
) -> AppResult<Planned<'e>> {
    slips.sort_by(|a, b| a.0.works_number.cmp(&b.0.works_number));
    leavers.sort_by(|a, b| a.1.works_number.cmp(&b.1.works_number));
    let export_id = crate::ids::new_id();
    let mut lines = Vec::new();
    for (g, slip) in &slips {
        if slip.minimum_wage.shortfall_pence.is_positive() {
            let holder = slip
                .lines
                .first()
                .map_or("", |l| l.budget_holder_id.as_str());
            blockers.push(Blocker::of(
                &g.pa_id,
                &g.works_number,
                holder,
                &slip.minimum_wage,
            ));
        }
        for line in &slip.lines {
            lines.push(LineRow {
                export_id: export_id.clone(),
                line_no: lines.len() as i32 + 1,
                pa_id: g.pa_id.clone(),
                works_number: g.works_number.clone(),
                budget_holder_id: line.budget_holder_id.clone(),
                element: line.element.to_owned(),
                description: line.description.clone(),
                quantity_hundredths: line.quantity_hundredths,
                unit_rate_e4: line.unit_rate_e4,
                amount_pence: line.amount_pence,
                sources: line.sources.iter().cloned().collect::<Vec<_>>().join(" "),
            });
        }
    }
    let mapping = mapping_of(employer)?;
    let gaps = gaps_of(&mapping, &lines);
    let status = if blockers.is_empty() && gaps.is_empty() {
        ExportStatus::Ready
    } else {
        ExportStatus::Blocked
    };
    let row = ExportRow {
        id: export_id,
        organisation_id: period.organisation_id.clone(),
        employer_id: employer.id.clone(),
        pay_period_id: period.id.clone(),
        status: status.as_str().into(),
        number: None,
        blockers: crate::db::json::to_text(&blockers)?,
        checksums: None,
        gross_pence: lines.iter().map(|l| l.amount_pence).sum(),
        line_count: lines.len() as i32,
        created_at: now.naive_utc(),
        ready_at: (status == ExportStatus::Ready).then(|| ready_instant(now).naive_utc()),
        acknowledged_at: None,
        mapping: crate::db::json::to_text(&mapping)?,
        gaps: crate::db::json::to_text(&gaps)?,
        leavers: crate::db::json::to_text(&leavers.iter().map(|l| &l.1).collect::<Vec<_>>())?,
        absences: crate::db::json::to_text(&absences)?,
    };
    let reported = leavers.iter().map(|l| l.0.id.clone()).collect();
    Ok(Planned {
        row,
        employer,
        lines,
        reported,
    })
}

/// One employer's export as planned: its row, its lines and the engagements of the leavers it
/// reports.
struct Planned<'e> {
    row: ExportRow,
    employer: &'e EmployerRow,
    lines: Vec<LineRow>,
    reported: Vec<String>,
}

/// What the employer's software still needs before it can take these lines.
pub(crate) fn gaps_of(mapping: &Mapping, lines: &[LineRow]) -> Vec<Gap> {
    let facts: Vec<LineFacts<'_>> = lines
        .iter()
        .map(|l| LineFacts {
            element: &l.element,
            works_number: &l.works_number,
            pa_id: &l.pa_id,
            rate_e4: if formats::is_rated_element(&l.element) {
                l.unit_rate_e4
            } else {
                0
            },
            negative: l.amount_pence.is_negative(),
        })
        .collect();
    mapping.gaps(&facts)
}

/// Numbers the ready exports, checksums every format of each (on both cores), writes exports
/// and lines together, enqueues the ledger reconciliation and records each in the audit trail.
fn write_exports(
    conn: &mut DbConnection,
    actor: &AuthUser,
    period: &PayPeriodRow,
    mut built: Vec<Planned<'_>>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ExportView>> {
    for planned in &mut built {
        if planned.row.status == ExportStatus::Ready.as_str() {
            planned.row.number = Some(repo::next_export_number(conn, &planned.employer.id)?);
        }
    }
    let half = built.len() / 2;
    let (first, second) = built.split_at_mut(half);
    std::thread::scope(|scope| {
        scope.spawn(|| fix_checksums(first, period));
        fix_checksums(second, period);
    });
    let (mut made, mut rows, mut all_lines) = (Vec::new(), Vec::new(), Vec::new());
    let mut reported: Vec<(String, Vec<String>)> = Vec::new();
    for planned in built {
        made.push(export_view(&planned.row, period)?);
        if !planned.reported.is_empty() {
            reported.push((planned.row.id.clone(), planned.reported));
        }
        rows.push(planned.row);
        all_lines.extend(planned.lines);
    }
    // Written together: a statement per thousand rows, not per export.
    repo::insert_exports(conn, &rows)?;
    repo::insert_lines(conn, &all_lines)?;
    for (export_id, engagement_ids) in &reported {
        repo::mark_leavers_reported(conn, export_id, engagement_ids)?;
    }
    // The ledgers are brought to what payroll pays by a job, committed with the exports: the
    // close does not wait on four hundred budgets.
    enqueue_reconciliation(
        conn,
        &period.id,
        format!("{RECONCILE_LEDGERS}:{}", period.id),
        now,
    )?;
    for view in &made {
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &period.organisation_id,
                action: "payroll_export.created",
                entity_type: "payroll_export",
                entity_id: &view.id,
                before: None,
                after: Some(view),
            },
        )?;
    }
    Ok(made)
}

/// The job that brings people's ledgers to what a closed period's payroll pays.
pub const RECONCILE_LEDGERS: &str = "payroll_reconcile_ledgers";

/// Brings each person's budget ledger to what payroll pays them for a closed period. Approval
/// posted an estimate (the PA's hourly pay); payroll pays the rate card with premiums, travel,
/// overtime and adjustments. The difference is one adjustment per person, dated the period's
/// last day, on the budget approved for that day (none without one). Run again, it posts only
/// what is still missing, so a retried job changes nothing.
pub fn reconcile_ledgers(
    conn: &mut DbConnection,
    period_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let period = period_of(conn, period_id)?;
    write_transaction(conn, |conn| {
        let mut paid: HashMap<String, Pence> = HashMap::new();
        for (holder, amount) in repo::paid_by_holder(conn, &period.id)? {
            *paid.entry(holder).or_default() += amount;
        }
        let mut ledger: HashMap<String, Pence> = HashMap::new();
        for (holder, amount) in repo::estimated_by_holder(conn, &period.id)? {
            *ledger.entry(holder).or_default() += amount;
        }
        let (people, approved) =
            repo::people_and_budgets_on(conn, &period.organisation_id, period.ends_on)?;
        let people: HashMap<&str, &BudgetHolderRow> =
            people.iter().map(|p| (p.id.as_str(), p)).collect();
        let mut budgets: HashMap<&str, &BudgetRow> = HashMap::new();
        for budget in &approved {
            // Newest first: the budget that started last wins, as `approved_budget_on` chooses.
            budgets
                .entry(budget.budget_holder_id.as_str())
                .or_insert(budget);
        }
        let words = format!(
            "Payroll {} to {}: pay as exported against the estimate at approval",
            period.starts_on, period.ends_on
        );
        let mut holders: Vec<&String> = paid.keys().collect();
        holders.sort();
        for holder in holders {
            let difference = paid[holder] - ledger.get(holder).copied().unwrap_or_default();
            let found = (people.get(holder.as_str()), budgets.get(holder.as_str()));
            if let (Some(person), Some(budget)) = found {
                let entry = Adjustment {
                    date: period.ends_on,
                    amount: difference,
                    description: &words,
                    source: ("pay_period", &period.id),
                };
                post_adjustment(conn, None, budget, person, entry, now)?;
            }
        }
        Ok(())
    })
}

/// One adjustment to a person's budget, from payroll.
struct Adjustment<'a> {
    date: NaiveDate,
    amount: Pence,
    description: &'a str,
    source: (&'static str, &'a str),
}

fn post_adjustment(
    conn: &mut DbConnection,
    actor: Option<&AuthUser>,
    budget: &BudgetRow,
    person: &BudgetHolderRow,
    adjustment: Adjustment<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if adjustment.amount.is_zero() {
        return Ok(());
    }
    let share = i64::from(budget.health_share_bp);
    let entries = crate::budgets::model::split(adjustment.amount, share)
        .into_iter()
        .filter(|(_, part)| !part.is_zero())
        .map(|(stream, part)| crate::budgets::ledger::NewLedgerEntry {
            kind: crate::budgets::model::EntryKind::Adjustment,
            stream,
            amount_pence: part,
            entry_date: adjustment.date,
            description: adjustment.description.to_owned(),
            reason: None,
            source_type: adjustment.source.0,
            source_id: Some(adjustment.source.1.to_owned()),
            reverses_entry_id: None,
            idempotency: None,
        })
        .collect();
    crate::budgets::ledger::post_entries(conn, budget, person, entries, actor, now)?;
    Ok(())
}

fn head_of(
    row: &ExportRow,
    employer: &EmployerRow,
    period: &PayPeriodRow,
    number: i64,
    ready_at: DateTime<Utc>,
) -> AppResult<Head> {
    Ok(Head {
        id: row.id.clone(),
        number,
        employer_id: employer.id.clone(),
        employer_name: employer.name.clone(),
        paye_reference: employer.paye_reference.clone(),
        period_start: period.starts_on,
        period_end: period.ends_on,
        pay_date: period.pay_date,
        gross_pence: row.gross_pence,
        line_count: row.line_count,
        ready_at,
        leavers: crate::db::json::from_text("payroll_exports.leavers", &row.leavers)?,
        absences: crate::db::json::from_text("payroll_exports.absences", &row.absences)?,
    })
}

pub fn line_of(row: &LineRow) -> Line {
    Line {
        line_no: row.line_no,
        works_number: row.works_number.clone(),
        pa_id: row.pa_id.clone(),
        budget_holder_id: row.budget_holder_id.clone(),
        element: row.element.clone(),
        description: row.description.clone(),
        quantity_hundredths: row.quantity_hundredths,
        unit_rate_e4: row.unit_rate_e4,
        amount_pence: row.amount_pence,
        sources: row.sources.clone(),
    }
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 of every format of an export, as hex.
pub fn checksums(head: &Head, mapping: &Mapping, lines: &[Line]) -> BTreeMap<&'static str, String> {
    Format::ALL
        .into_iter()
        .map(|format| {
            let mut hasher = HashWriter(Sha256::new());
            // Writing into a hasher cannot fail.
            let _ = formats::render(format, head, mapping, lines, &mut hasher);
            let digest = hasher.0.finalize();
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (format.as_str(), hex)
        })
        .collect()
}

/// Numbers a blocked export, fixes its checksums and marks it ready.
/// Whole seconds: what every backend stores exactly, so a reread writes the same heading.
fn ready_instant(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// Fixes the checksums of the ready exports among `built` (numbered, with their instant).
fn fix_checksums(built: &mut [Planned<'_>], period: &PayPeriodRow) {
    for planned in built.iter_mut() {
        planned.row.checksums =
            checksums_of(&planned.row, planned.employer, period, &planned.lines);
    }
}

/// The checksum of every format of a numbered export, as stored; none until it is numbered.
fn checksums_of(
    row: &ExportRow,
    employer: &EmployerRow,
    period: &PayPeriodRow,
    lines: &[LineRow],
) -> Option<String> {
    let (Some(number), Some(ready_at)) = (row.number, row.ready_at) else {
        return None;
    };
    let head = head_of(row, employer, period, number, ready_at.and_utc()).ok()?;
    let lines: Vec<Line> = lines.iter().map(line_of).collect();
    let mapping: Mapping = serde_json::from_str(&row.mapping).ok()?;
    serde_json::to_string(&checksums(&head, &mapping, &lines)).ok()
}

/// Numbers a blocked export, fixes its checksums and marks it ready.
pub(crate) fn make_ready(
    conn: &mut DbConnection,
    row: &ExportRow,
    employer: &EmployerRow,
    period: &PayPeriodRow,
    lines: &[LineRow],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let ready = ExportRow {
        number: Some(repo::next_export_number(conn, &employer.id)?),
        ready_at: Some(ready_instant(now).naive_utc()),
        gross_pence: lines.iter().map(|l| l.amount_pence).sum(),
        line_count: lines.len() as i32,
        ..row.clone()
    };
    let (Some(number), Some(ready_at), Some(sums)) = (
        ready.number,
        ready.ready_at,
        checksums_of(&ready, employer, period, lines),
    ) else {
        return Err(AppError::internal("an export could not be made ready"));
    };
    if !repo::make_ready(
        conn,
        &row.id,
        number,
        &sums,
        ready.gross_pence,
        ready.line_count,
        ready_at,
    )? {
        return Err(AppError::Conflict {
            code: ConflictCode::ExportNotBlocked,
            detail: "this export is already ready".into(),
        });
    }
    Ok(())
}

pub fn export_view(row: &ExportRow, period: &PayPeriodRow) -> AppResult<ExportView> {
    Ok(ExportView {
        id: row.id.clone(),
        employer_id: row.employer_id.clone(),
        pay_period_id: row.pay_period_id.clone(),
        period_start: period.starts_on,
        period_end: period.ends_on,
        pay_date: period.pay_date,
        status: row.status.clone(),
        number: row.number,
        gross_pence: row.gross_pence,
        line_count: row.line_count,
        checksums: row
            .checksums
            .as_deref()
            .map(|c| crate::db::json::from_text("checksums", c))
            .transpose()?,
        blockers: crate::db::json::from_text("blockers", &row.blockers)?,
        gaps: crate::db::json::from_text("payroll_exports.gaps", &row.gaps)?,
        leavers: crate::db::json::from_text("payroll_exports.leavers", &row.leavers)?,
        absences: crate::db::json::from_text("payroll_exports.absences", &row.absences)?,
        created_at: row.created_at.and_utc(),
        ready_at: row.ready_at.map(|t| t.and_utc()),
        acknowledged_at: row.acknowledged_at.map(|t| t.and_utc()),
    })
}

pub(crate) fn period_of(conn: &mut DbConnection, id: &str) -> AppResult<PayPeriodRow> {
    crate::timesheets::repo::find_period(conn, id)?.ok_or(AppError::NotFound)
}

/// The exports a closed period made. Who may call: admins and team managers.
pub fn period_exports(
    conn: &mut DbConnection,
    actor: &AuthUser,
    period_id: &str,
) -> AppResult<Vec<ExportView>> {
    let period = period_of(conn, period_id)?;
    authorize(actor, Action::Read, payroll(&period.organisation_id))?;
    repo::exports_of_period(conn, &period.id)?
        .iter()
        .map(|e| export_view(e, &period))
        .collect::<AppResult<Vec<_>>>()
}

/// Settles one PA's minimum wage failure in a blocked export: a top-up line for the shortfall,
/// or the reason none is due. The export becomes ready once none is left. Who may call: admins
/// Queues the job that brings the period's ledgers to what payroll pays (`dedupe_key` keeps a
/// retried request from queueing it twice).
fn enqueue_reconciliation(
    conn: &mut DbConnection,
    period_id: &str,
    dedupe_key: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    crate::jobs::enqueue(
        conn,
        crate::jobs::NewJob {
            kind: RECONCILE_LEDGERS.into(),
            payload: serde_json::json!({"pay_period_id": period_id}),
            run_at: now,
            dedupe_key: Some(dedupe_key),
            max_attempts: 5,
        },
        now,
    )?;
    Ok(())
}

/// and team managers.
pub fn review(
    conn: &mut DbConnection,
    actor: &AuthUser,
    export_id: &str,
    request: CreateReview,
    now: DateTime<Utc>,
) -> AppResult<ExportView> {
    let export = repo::find_export(conn, export_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Create, payroll(&export.organisation_id))?;
    let employer = repo::find_employer(conn, &export.employer_id)?.ok_or(AppError::NotFound)?;
    let period = period_of(conn, &export.pay_period_id)?;
    write_transaction(conn, |conn| {
        let export = repo::find_export(conn, export_id)?.ok_or(AppError::NotFound)?;
        let mut blockers: Vec<Blocker> = crate::db::json::from_text("blockers", &export.blockers)?;
        let Some(position) = blockers.iter().position(|b| b.pa_id == request.pa_id) else {
            return Err(AppError::field(
                "pa_id",
                "not_blocking",
                "this PA's pay in this export needs no minimum wage review",
            ));
        };
        let blocker = blockers.remove(position);
        if blocker.not_calculable.is_some() && request.outcome == ReviewOutcome::TopUp {
            return Err(AppError::field(
                "outcome",
                "not_calculable",
                "this PA's pay could not be calculated: settle it not_due and pay the work by adjustment once it is put right",
            ));
        }
        let top_up = match request.outcome {
            ReviewOutcome::TopUp => blocker.shortfall_pence,
            ReviewOutcome::NotDue => Pence::ZERO,
        };
        repo::insert_review(
            conn,
            &repo::ReviewRow {
                export_id: export.id.clone(),
                pa_id: blocker.pa_id.clone(),
                outcome: match request.outcome {
                    ReviewOutcome::TopUp => "top_up",
                    ReviewOutcome::NotDue => "not_due",
                }
                .to_owned(),
                top_up_pence: top_up,
                reason: request.reason.trim().to_owned(),
                created_by: actor.user_id.clone(),
                created_at: now.naive_utc(),
            },
        )?;
        let mut lines = repo::lines_of(conn, &export.id, 0, i64::MAX)?;
        if top_up > Pence::new(0) {
            // The top-up goes after the PA's last line, keeping each PA's lines together.
            let after = lines
                .iter()
                .rposition(|l| l.pa_id == blocker.pa_id)
                .map_or(lines.len(), |i| i + 1);
            let line = LineRow {
                export_id: export.id.clone(),
                line_no: 0,
                pa_id: blocker.pa_id.clone(),
                works_number: blocker.works_number.clone(),
                budget_holder_id: blocker.budget_holder_id.clone(),
                element: "minimum_wage_top_up".into(),
                description: "Minimum wage top-up".into(),
                quantity_hundredths: 100,
                unit_rate_e4: top_up.get() * model::RATE_SCALE,
                amount_pence: top_up,
                sources: export.id.clone(),
            };
            lines.insert(after, line);
            for (i, l) in lines.iter_mut().enumerate() {
                l.line_no = i as i32 + 1;
            }
            repo::replace_lines(conn, &export.id, &lines)?;
            // The budget pays the top-up when the ledgers are next reconciled.
            let key = format!(
                "{RECONCILE_LEDGERS}:{}:{}:{}",
                period.id, export.id, blocker.pa_id
            );
            enqueue_reconciliation(conn, &period.id, key, now)?;
        }
        repo::set_blockers(conn, &export.id, &crate::db::json::to_text(&blockers)?)?;
        let gaps: Vec<Gap> = crate::db::json::from_text("payroll_exports.gaps", &export.gaps)?;
        if blockers.is_empty() && gaps.is_empty() {
            make_ready(conn, &export, &employer, &period, &lines, now)?;
        }
        let stored = repo::find_export(conn, &export.id)?.ok_or(AppError::NotFound)?;
        let view = export_view(&stored, &period)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &export.organisation_id,
                action: "payroll_export.minimum_wage_reviewed",
                entity_type: "payroll_export",
                entity_id: &export.id,
                before: Some(&blocker),
                after: Some(&view),
            },
        )?;
        Ok(view)
    })
}

// ---------------------------------------------------------------------------------------------
// What payroll clients pull

/// A payroll client's exports, oldest first. Who may call: payroll clients (each sees only the
/// exports of the employers it runs).
pub fn client_exports(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &ExportListQuery,
) -> AppResult<Page<ExportView>> {
    crate::auth::policy::must_be_payroll_client(actor)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s)
            if [ExportStatus::Ready, ExportStatus::Acknowledged]
                .iter()
                .any(|status| status.as_str() == s) =>
        {
            Some(s)
        }
        Some(_) => {
            return Err(AppError::field(
                "status",
                "invalid",
                "must be ready or acknowledged",
            ))
        }
    };
    let limit = crate::http::PageQuery {
        limit: query.limit,
        cursor: None,
    }
    .limit()?;
    let rows = repo::exports_for_client(
        conn,
        &actor.user_id,
        status,
        query.cursor.as_deref(),
        limit + 1,
    )?;
    let mut periods: HashMap<String, PayPeriodRow> = HashMap::new();
    let mut views = Vec::new();
    for row in &rows {
        if !periods.contains_key(&row.pay_period_id) {
            let period = period_of(conn, &row.pay_period_id)?;
            periods.insert(row.pay_period_id.clone(), period);
        }
        views.push(export_view(row, &periods[&row.pay_period_id])?);
    }
    Ok(Page::from_rows(views, limit, |v| v.id.clone()))
}

/// An export, ready to write out: its heading and view. Who may call: the payroll client that
/// runs its employer, admins and team managers. A blocked export has nothing to write yet.
pub fn export_to_write(
    conn: &mut DbConnection,
    actor: &AuthUser,
    export_id: &str,
) -> AppResult<(Head, Mapping, ExportView)> {
    let export = repo::find_export(conn, export_id)?.ok_or(AppError::NotFound)?;
    let employer = repo::find_employer(conn, &export.employer_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Read,
        Resource::PayrollExport {
            organisation_id: &export.organisation_id,
            payroll_client_id: &employer.payroll_client_id,
        },
    )?;
    let period = period_of(conn, &export.pay_period_id)?;
    let (Some(number), Some(ready_at)) = (export.number, export.ready_at) else {
        if crate::auth::policy::is_payroll_client(actor) {
            return Err(AppError::NotFound);
        }
        return Err(AppError::Conflict {
            code: ConflictCode::ExportBlocked,
            detail: "this export awaits a minimum wage review or codes its payroll software needs: see its blockers and gaps".into(),
        });
    };
    let head = head_of(&export, &employer, &period, number, ready_at.and_utc())?;
    let mapping = crate::db::json::from_text("payroll_exports.mapping", &export.mapping)?;
    Ok((head, mapping, export_view(&export, &period)?))
}

/// Confirms the payroll client has taken an export; saying so again changes nothing. Who may
/// call: the payroll client that runs its employer.
pub fn acknowledge(
    conn: &mut DbConnection,
    actor: &AuthUser,
    export_id: &str,
    now: DateTime<Utc>,
) -> AppResult<ExportView> {
    let export = repo::find_export(conn, export_id)?.ok_or(AppError::NotFound)?;
    let employer = repo::find_employer(conn, &export.employer_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Update,
        Resource::PayrollExport {
            organisation_id: &export.organisation_id,
            payroll_client_id: &employer.payroll_client_id,
        },
    )?;
    let period = period_of(conn, &export.pay_period_id)?;
    match ExportStatus::parse("status", &export.status)? {
        ExportStatus::Acknowledged => return export_view(&export, &period),
        ExportStatus::Blocked => return Err(AppError::NotFound),
        ExportStatus::Ready => {}
    }
    write_transaction(conn, |conn| {
        repo::acknowledge(conn, &export.id, now.naive_utc())?;
        let stored = repo::find_export(conn, &export.id)?.ok_or(AppError::NotFound)?;
        let view = export_view(&stored, &period)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &export.organisation_id,
                action: "payroll_export.acknowledged",
                entity_type: "payroll_export",
                entity_id: &export.id,
                before: None,
                after: Some(&view),
            },
        )?;
        Ok(view)
    })
}

// ---------------------------------------------------------------------------------------------
// The budget statement's view of a period

/// What a closed pay period cost one person's budget: pay from its exports, employer National
/// Insurance and pension on it, and the budget's balance. Who may call: whoever may read the
/// person's budget statement.
pub fn period_summary(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    period_id: &str,
) -> AppResult<PeriodSummary> {
    let holder = crate::budgets::ledger::budget_reader(conn, actor, holder_id)?;
    let period = period_of(conn, period_id)?;
    if period.organisation_id != holder.organisation_id {
        return Err(AppError::NotFound);
    }
    let exports = repo::exports_of_period(conn, &period.id)?;
    let blocked = exports
        .iter()
        .filter(|e| e.status == ExportStatus::Blocked.as_str())
        .count() as i64;
    let ids: Vec<String> = exports.iter().map(|e| e.id.clone()).collect();
    let lines = repo::lines_for_holder(conn, &ids, &holder.id)?;
    let mut pay: BTreeMap<String, Pence> = BTreeMap::new();
    let mut per_pa: BTreeMap<String, Pence> = BTreeMap::new();
    for line in &lines {
        *pay.entry(line.element.clone()).or_default() += line.amount_pence;
        let taxable = !matches!(line.element.as_str(), "mileage" | "expenses");
        if taxable {
            *per_pa.entry(line.pa_id.clone()).or_default() += line.amount_pence;
        }
    }
    let pay_total: Pence = pay.values().sum();
    let on_costs = on_costs(&per_pa, &period)?;
    let on_costs_total = on_costs.iter().map(|l| l.amount_pence).sum();
    let budget = budget_repo::approved_budget_on(conn, &holder.id, period.ends_on)?;
    let remaining = match &budget {
        Some(b) => {
            let figures = budget_repo::figures_until(conn, &b.id, period.ends_on)?;
            Some(crate::budgets::model::remaining_on(
                &figures,
                period.ends_on,
            ))
        }
        None => None,
    };
    let mut pay_lines: Vec<SummaryLine> = pay
        .into_iter()
        .map(|(element, amount_pence)| SummaryLine {
            element,
            amount_pence,
        })
        .collect();
    pay_lines.sort_by_key(|l| {
        model::ELEMENTS
            .iter()
            .position(|e| e.code == l.element)
            .unwrap_or(usize::MAX)
    });
    Ok(PeriodSummary {
        budget_holder_id: holder.id.clone(),
        pay_period_id: period.id.clone(),
        period_start: period.starts_on,
        period_end: period.ends_on,
        pay: pay_lines,
        pay_total_pence: pay_total,
        on_costs,
        on_costs_total_pence: on_costs_total,
        exports_blocked: blocked,
        budget_id: budget.map(|b| b.id),
        budget_remaining_pence: remaining,
    })
}

/// Employer National Insurance and minimum pension contributions on each PA's earnings in the
/// period, against the annual thresholds in force at its start shared out over the period's
/// length in days.
fn on_costs(
    per_pa: &BTreeMap<String, Pence>,
    period: &PayPeriodRow,
) -> AppResult<Vec<SummaryLine>> {
    let rules = crate::rules::uk();
    let date = period.starts_on;
    let unknown = || AppError::internal(format!("the UK rules data does not cover {date}"));
    let ni = rules
        .employer_national_insurance(date)
        .ok_or_else(unknown)?;
    let pension = rules.pension(date).ok_or_else(unknown)?;
    let days = i128::from((period.ends_on - period.starts_on).num_days() + 1);
    let share = |annual: Pence| i128::from(annual) * days / 365;
    let (mut national_insurance, mut pension_total) = (Pence::ZERO, Pence::ZERO);
    for earnings in per_pa.values() {
        let earnings = i128::from(*earnings);
        national_insurance += Pence::from_ratio(
            (earnings - share(ni.secondary_threshold_pence_per_year)).max(0)
                * i128::from(ni.rate_bp),
            10_000,
        );
        let qualifying = earnings.min(share(pension.qualifying_upper_pence_per_year))
            - share(pension.qualifying_lower_pence_per_year);
        pension_total += Pence::from_ratio(
            qualifying.max(0) * i128::from(pension.employer_minimum_bp),
            10_000,
        );
    }
    Ok(vec![
        SummaryLine {
            element: "employer_national_insurance".into(),
            amount_pence: national_insurance,
        },
        SummaryLine {
            element: "employer_pension".into(),
            amount_pence: pension_total,
        },
    ])
}

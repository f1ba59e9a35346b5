//! Request and response shapes for payroll.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::market::model::employment::LeavingReason;
use crate::payroll::mapping::{Gap, Mapping, Resolved, Software};
use crate::payroll::model::MinimumWageCheck;
use crate::timesheets::model::PayCalendar;

/// An employer's payroll mapping: as set, and every element's codes with the defaults filled in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MappingView {
    pub employer_id: String,
    pub mapping: Mapping,
    /// Each element's codes as the files are written, by element code.
    pub effective: std::collections::BTreeMap<String, Resolved>,
    /// Exports of this employer still blocked, each with what it lacks.
    pub blocked_exports: Vec<BlockedExport>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BlockedExport {
    pub export_id: String,
    pub gaps: Vec<Gap>,
    /// PAs whose minimum wage review is still awaited.
    pub awaiting_review: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmployerKind {
    /// A budget holder employing PAs directly, with their own PAYE reference.
    BudgetHolder,
    /// The organisation employs the PAs.
    Organisation,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployer {
    pub kind: EmployerKind,
    /// Required for a budget holder employer.
    pub budget_holder_id: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// HMRC employer PAYE reference, e.g. `123/AB45678`.
    #[validate(length(min = 5, max = 14))]
    #[schema(min_length = 5, max_length = 14)]
    pub paye_reference: String,
    /// The payroll client (a user id from `POST /payroll-clients`) that runs this PAYE scheme.
    pub payroll_client_id: String,
    /// The personalised rate card that pays this employer's PAs.
    pub rate_card_id: String,
    /// Whether travel between people is paid (it counts for the minimum wage either way).
    #[serde(default = "yes")]
    pub pays_travel_time: bool,
    /// The employer's payroll software and its codes; `none` (parota's CSV and JSON) when absent.
    pub payroll_mapping: Option<Mapping>,
    /// The employer's own pay calendar; when absent it pays on the organisation's.
    pub pay_calendar: Option<PayCalendar>,
}

/// An employer's pay calendar, set or (with `null`) given back to the organisation's.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayCalendarRequest {
    pub pay_calendar: Option<PayCalendar>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmployerView {
    pub id: String,
    pub kind: EmployerKind,
    pub budget_holder_id: Option<String>,
    pub name: String,
    pub paye_reference: String,
    pub payroll_client_id: String,
    pub rate_card_id: String,
    pub pays_travel_time: bool,
    /// How many exports have been numbered so far.
    pub exports_made: i64,
    /// The payroll software whose files this employer's bureau imports.
    pub payroll_software: Software,
    /// Its own pay calendar; absent: it pays on the organisation's.
    pub pay_calendar: Option<PayCalendar>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagement {
    pub pa_id: String,
    /// The PA's works number in the payroll software: how every export line names them.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub works_number: String,
    /// Kept only for the minimum wage age band.
    pub date_of_birth: NaiveDate,
    /// Hours a week beyond which the overtime premium is paid; none: no overtime.
    #[validate(range(min = 0.0, max = 100.0))]
    #[schema(minimum = 0.0, maximum = 100.0)]
    pub contracted_hours_per_week: Option<f64>,
    /// `rolled_up` (irregular hours: 12.07% each period) or `taken` (paid by adjustment).
    pub holiday_basis: crate::payroll::model::HolidayBasis,
    pub starts_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EngagementView {
    pub id: String,
    pub employer_id: String,
    pub pa_id: String,
    pub works_number: String,
    pub contracted_hours_per_week: Option<f64>,
    pub holiday_basis: crate::payroll::model::HolidayBasis,
    pub starts_on: NaiveDate,
    /// The last day worked, once the PA has left.
    pub ends_on: Option<NaiveDate>,
    pub leaving_reason: Option<LeavingReason>,
    /// The export that told the bureau (for the P45), once one has.
    pub reported_in_export_id: Option<String>,
}

/// A PA leaving: their last day worked and why.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndEngagement {
    /// The last day the PA works: nothing after it is rostered, clocked or paid.
    pub ends_on: NaiveDate,
    pub reason: LeavingReason,
}

/// A PA who left, as the bureau needs to know to issue a P45.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Leaver {
    pub pa_id: String,
    pub works_number: String,
    /// Their last day worked.
    pub left_on: NaiveDate,
    pub reason: LeavingReason,
}

/// An absence the payroll software is told of: what parota knows and computes (the days, the
/// qualifying days, the Statutory Sick Pay rules in force), leaving the pay itself (average
/// weekly earnings, linked spells, the amount) to the software.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExportAbsence {
    pub pa_id: String,
    pub works_number: String,
    pub kind: crate::absence::model::AbsenceKind,
    pub starts_on: NaiveDate,
    /// The last day, once known.
    pub ends_on: Option<NaiveDate>,
    /// Days of it within the period.
    pub days_in_period: i64,
    /// Days within the period the PA was rostered to work for this employer: the qualifying
    /// days sick pay is paid for.
    pub qualifying_days: Vec<NaiveDate>,
    /// For sickness: the Statutory Sick Pay rules in force when the spell began.
    pub statutory_sick_pay: Option<crate::rules::StatutorySickPay>,
    /// What parota did and did not pay, in words.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    HolidayTaken,
    Correction,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdjustment {
    pub engagement_id: String,
    /// The person whose budget pays it.
    pub budget_holder_id: String,
    pub kind: AdjustmentKind,
    /// Positive pays more; negative recovers an overpayment.
    #[validate(range(min = Pence::new(-1_000_000), max = Pence::new(1_000_000)))]
    #[schema(value_type = i64, minimum = -1_000_000, maximum = 1_000_000)]
    pub amount_pence: Pence,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentView {
    pub id: String,
    pub engagement_id: String,
    pub budget_holder_id: String,
    /// The pay period whose export pays it: the next one to close.
    pub pay_period_id: String,
    pub kind: AdjustmentKind,
    pub amount_pence: Pence,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A PA whose pay in an export awaits review: below the minimum wage, or not calculable at
/// all (the export then carries none of their lines).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Blocker {
    pub pa_id: String,
    pub works_number: String,
    /// The person whose budget pays a top-up.
    pub budget_holder_id: String,
    pub counted_minutes: i64,
    pub counted_pay_pence: Pence,
    pub hourly_rate_pence: Pence,
    pub shortfall_pence: Pence,
    /// Why the PA's pay could not be calculated (a rate card with no version in force on a
    /// worked date, a level it does not price): nothing of theirs is in the export until a
    /// review settles it `not_due`, and the work is paid by adjustment once put right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_calculable: Option<String>,
}

impl Blocker {
    pub fn of(pa_id: &str, works_number: &str, holder: &str, check: &MinimumWageCheck) -> Self {
        Self {
            pa_id: pa_id.to_owned(),
            works_number: works_number.to_owned(),
            budget_holder_id: holder.to_owned(),
            counted_minutes: check.counted_minutes,
            counted_pay_pence: check.counted_pay_pence,
            hourly_rate_pence: check.hourly_rate_pence,
            shortfall_pence: check.shortfall_pence,
            not_calculable: None,
        }
    }

    /// A PA whose pay the model cannot calculate, and why.
    pub fn not_calculable(pa_id: &str, works_number: &str, holder: &str, why: String) -> Self {
        Self {
            pa_id: pa_id.to_owned(),
            works_number: works_number.to_owned(),
            budget_holder_id: holder.to_owned(),
            counted_minutes: 0,
            counted_pay_pence: Pence::new(0),
            hourly_rate_pence: Pence::new(0),
            shortfall_pence: Pence::new(0),
            not_calculable: Some(why),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportView {
    pub id: String,
    pub employer_id: String,
    pub pay_period_id: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// When the period's pay is paid (the employer's pay calendar).
    pub pay_date: NaiveDate,
    /// `blocked` (a minimum wage failure awaits review), `ready` or `acknowledged`.
    pub status: String,
    /// Numbered 1, 2, 3… per employer once ready.
    pub number: Option<i64>,
    pub gross_pence: Pence,
    pub line_count: i32,
    /// SHA-256 (hex) of each format's bytes, once ready.
    pub checksums: Option<serde_json::Value>,
    pub blockers: Vec<Blocker>,
    /// What the employer's payroll software still needs (codes, employee references) before
    /// it can take this export: it stays `blocked` until the mapping gives them.
    pub gaps: Vec<Gap>,
    /// PAs who left by the period's end, reported here once so the bureau issues their P45s.
    pub leavers: Vec<Leaver>,
    /// Absences within the period, for sick pay and holiday records.
    pub absences: Vec<ExportAbsence>,
    pub created_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportListQuery {
    /// `ready` or `acknowledged`; both when absent.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv`, `json`, `brightpay`, `sage50` or `iris`; otherwise from `Accept` (JSON by default).
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// Pay the shortfall as a top-up line in this export.
    TopUp,
    /// No top-up is due (the reason says why, e.g. the hours were recorded wrongly).
    NotDue,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReview {
    pub pa_id: String,
    pub outcome: ReviewOutcome,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryLine {
    pub element: String,
    pub amount_pence: Pence,
}

/// What a pay period cost one person's budget, for their budget statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodSummary {
    pub budget_holder_id: String,
    pub pay_period_id: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Gross pay from the period's exports, by element.
    pub pay: Vec<SummaryLine>,
    pub pay_total_pence: Pence,
    /// Employer National Insurance and pension on that pay, from the rules in force.
    pub on_costs: Vec<SummaryLine>,
    pub on_costs_total_pence: Pence,
    /// Exports of the period not yet ready (their pay is shown, but may still gain a top-up).
    pub exports_blocked: i64,
    /// The approved budget covering the period's end, and its remaining balance then.
    pub budget_id: Option<String>,
    pub budget_remaining_pence: Option<Pence>,
}

/// A pay period just closed, with the payroll exports its closure made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClosedPeriodView {
    #[serde(flatten)]
    pub period: crate::timesheets::dto::PayPeriodView,
    /// The payroll exports the period made, one per employer with pay in it.
    pub exports: Vec<ExportView>,
}

//! Request and response shapes for timesheets.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::timesheets::model::{
    Approver, ClockKind, Cost, Exception, ExceptionKind, PayFrequency, Status,
};

/// Where the phone was, when the PA allows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoFix {
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: f64,
    /// The phone's stated accuracy, in metres.
    #[validate(range(max = 100_000))]
    #[schema(maximum = 100_000)]
    pub accuracy_m: Option<u32>,
}

/// A clock-in or clock-out from the app.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    /// When it happened by the phone's clock (kept as sent, so a late sync keeps its time).
    pub device_time: DateTime<Utc>,
    #[validate(nested)]
    pub location: Option<GeoFix>,
}

/// One event from the app's offline queue.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncEvent {
    /// The event's own key, the same as it would send on a direct call.
    #[validate(custom(function = "key_shape"))]
    pub idempotency_key: String,
    pub shift_id: String,
    pub kind: ClockKind,
    pub device_time: DateTime<Utc>,
    #[validate(nested)]
    pub location: Option<GeoFix>,
}

fn key_shape(key: &str) -> Result<(), ValidationError> {
    if crate::idempotency::valid_key(key) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid")
            .with_message("must be 1 to 200 visible ASCII characters".into()))
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Events in the order the phone recorded them.
    #[validate(length(min = 1, max = 500), nested)]
    #[schema(min_items = 1, max_items = 500)]
    pub events: Vec<SyncEvent>,
}

/// What one synced event answered: the status and body a direct call would have.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncResult {
    pub idempotency_key: String,
    pub status: u16,
    /// True when the event had been received before (nothing changed this time).
    pub replayed: bool,
    /// The shift record (2xx) or a problem document (4xx).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncResponse {
    pub results: Vec<SyncResult>,
}

/// Work with no rostered shift (an emergency extra hour), for the team manager to approve.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnrosteredWork {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    #[validate(range(max = 720))]
    #[schema(maximum = 720)]
    pub break_minutes: Option<u32>,
    #[validate(nested)]
    pub location: Option<GeoFix>,
}

/// What the PA adds to a record: breaks, business miles, expenses and a note to the approver.
/// Values replace what was there, so sending the same again changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDetails {
    #[validate(range(max = 720))]
    #[schema(maximum = 720)]
    pub break_minutes: Option<u32>,
    /// Business miles driven between people's homes during the working day (to 0.1 mile).
    #[validate(range(min = 0.0, max = 1000.0))]
    #[schema(minimum = 0.0, maximum = 1000.0)]
    pub business_miles: Option<f64>,
    #[validate(range(min = Pence::ZERO, max = Pence::new(100_000)))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub expenses_pence: Option<Pence>,
    /// Sleep-ins: minutes the PA was woken to work, paid by the hour.
    #[validate(range(max = 720))]
    #[schema(maximum = 720)]
    pub woken_minutes: Option<u32>,
    /// The receipt's reference, required with expenses.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub expense_receipt: Option<String>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// What the PA should look at; they see it in the app and by e-mail.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// A change to an approved record. Only the fields sent change.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    pub clock_in_at: Option<DateTime<Utc>>,
    pub clock_out_at: Option<DateTime<Utc>>,
    #[validate(range(max = 720))]
    #[schema(maximum = 720)]
    pub break_minutes: Option<u32>,
    #[validate(range(min = 0.0, max = 1000.0))]
    #[schema(minimum = 0.0, maximum = 1000.0)]
    pub business_miles: Option<f64>,
    #[validate(range(min = Pence::ZERO, max = Pence::new(100_000)))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub expenses_pence: Option<Pence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    pub pay_frequency: PayFrequency,
    pub period_anchor: NaiveDate,
    pub approver: Approver,
    #[validate(range(min = 50, max = 50_000))]
    #[schema(minimum = 50, maximum = 50_000)]
    pub radius_m: i32,
    #[validate(range(min = 0, max = 240))]
    #[schema(minimum = 0, maximum = 240)]
    pub late_minutes: i32,
    #[validate(range(min = 0, max = 240))]
    #[schema(minimum = 0, maximum = 240)]
    pub left_early_minutes: i32,
    #[validate(range(min = 0, max = 240))]
    #[schema(minimum = 0, maximum = 240)]
    pub overrun_minutes: i32,
    #[validate(range(min = 0, max = 240))]
    #[schema(minimum = 0, maximum = 240)]
    pub short_minutes: i32,
    #[validate(range(min = 15, max = 1440))]
    #[schema(minimum = 15, maximum = 1440)]
    pub clock_out_grace_minutes: i32,
    /// Days a phone may queue clock events offline and still sync them (92 when absent).
    #[serde(default = "default_offline_sync_days")]
    #[validate(range(min = 1, max = 3660))]
    #[schema(minimum = 1, maximum = 3660)]
    pub offline_sync_days: i32,
    /// Days after a period's last day that its pay is paid (0 when absent); a weekend or bank
    /// holiday moves it to the working day before.
    #[serde(default)]
    #[validate(range(min = 0, max = 31))]
    #[schema(minimum = 0, maximum = 31)]
    pub pay_days_after_end: i32,
}

fn default_offline_sync_days() -> i32 {
    crate::timesheets::model::DEFAULT_OFFLINE_DAYS
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlannedView {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub minutes: i64,
}

/// One end of a record: the time taken, and the phone's and server's times behind it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockView {
    /// The time that counts: the phone's, unless that was after the event arrived.
    pub at: DateTime<Utc>,
    pub device_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    /// Metres from the person's home, when the PA shared their location.
    pub distance_m: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub timesheet_id: String,
    /// The rostered shift; absent for unrostered work.
    pub shift_id: Option<String>,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub date: NaiveDate,
    pub unrostered_reason: Option<String>,
    pub planned: Option<PlannedView>,
    pub clock_in: Option<ClockView>,
    pub clock_out: Option<ClockView>,
    pub outside_radius: bool,
    pub break_minutes: i32,
    /// Sleep-ins: minutes woken to work.
    pub woken_minutes: i32,
    /// Minutes paid (clock-in to clock-out, real time, less breaks); absent until both ends.
    pub worked_minutes: Option<i64>,
    pub business_miles: f64,
    pub expenses_pence: Pence,
    pub expense_receipt: Option<String>,
    pub note: Option<String>,
    pub exceptions: Vec<Exception>,
    /// How many amendments changed it after approval.
    pub amendments: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayPeriodView {
    pub id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The employer whose own pay calendar this period is of; absent: the organisation's.
    pub employer_id: Option<String>,
    /// When the period's pay is paid.
    pub pay_date: NaiveDate,
    pub closed: bool,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimesheetView {
    pub id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub period: PayPeriodView,
    pub status: Status,
    /// Send as `If-Match` when approving or querying.
    pub version: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub query_reason: Option<String>,
    /// The pay period whose payroll pays it (its own, or the next open one if approved late).
    pub paid_in_period_id: Option<String>,
    pub records: Vec<RecordView>,
    pub worked_minutes: i64,
    /// What it costs the budget at the PA's rate, with holiday pay, mileage and expenses.
    pub cost: Cost,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimesheetSummary {
    pub id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub pay_period_id: String,
    pub status: Status,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimesheetListQuery {
    /// Only timesheets in this state.
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionsQuery {
    pub from: NaiveDate,
    /// At most 62 days after `from`.
    pub to: NaiveDate,
}

/// One thing for the team manager to look at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionView {
    pub kind: ExceptionKind,
    pub minutes: Option<i64>,
    pub date: NaiveDate,
    pub budget_holder_id: String,
    pub pa_id: String,
    pub shift_id: Option<String>,
    pub record_id: Option<String>,
    pub timesheet_id: Option<String>,
    pub planned_start: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AmendmentView {
    pub id: String,
    pub record_id: String,
    pub reason: String,
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    /// What the change costs the budget (negative: a saving), posted as a ledger adjustment.
    pub cost_change_pence: Pence,
    /// The pay period whose payroll carries it: the record's own, or the next open one.
    pub pay_period_id: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

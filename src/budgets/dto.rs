//! Request and response shapes for budgets and the ledger.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::budgets::model::{Balance, EntryKind, ProfileMonth, Stream};

fn default_thresholds() -> Vec<i32> {
    vec![80, 100]
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBudget {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// At most £10,000,000.
    #[validate(range(min = Pence::new(1), max = Pence::new(1_000_000_000)))]
    #[schema(value_type = i64, minimum = 1, maximum = 1_000_000_000)]
    pub amount_pence: Pence,
    pub period_start: NaiveDate,
    /// The last day of the period (inclusive).
    pub period_end: NaiveDate,
    /// The health stream's share in basis points: 10000 all health (CHC), 0 all social care.
    #[validate(range(min = 0, max = 10_000))]
    #[schema(minimum = 0, maximum = 10_000)]
    pub health_share_bp: i32,
    /// Expected spend per month; spread evenly by days when absent. Must add up to the amount.
    pub profile: Option<Vec<ProfileMonth>>,
    /// Percentages of profile that alert the team manager and the person (80 and 100 when absent).
    #[serde(default = "default_thresholds")]
    pub alert_thresholds: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetView {
    pub id: String,
    pub budget_holder_id: String,
    pub name: String,
    pub amount_pence: Pence,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub health_share_bp: i32,
    pub streams: Vec<Stream>,
    pub profile: Vec<ProfileMonth>,
    pub alert_thresholds: Vec<i32>,
    /// `draft` or `approved`.
    pub status: String,
    pub approved_by: Option<String>,
    #[serde(serialize_with = "crate::time::utc_option::serialize")]
    pub approved_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::time::utc::serialize")]
    pub created_at: NaiveDateTime,
}

/// An entry made by hand: spending outside parota, a commitment, or a correction.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEntry {
    /// `commitment`, `actual` or `adjustment` (allocations come with approval).
    pub kind: EntryKind,
    /// Pence, at most £10,000,000 either way; negative for a refund or a release.
    #[validate(range(min = Pence::new(-1_000_000_000), max = Pence::new(1_000_000_000)))]
    #[schema(value_type = i64, minimum = -1_000_000_000, maximum = 1_000_000_000)]
    pub amount_pence: Pence,
    /// Required when the budget has two funding streams.
    pub stream: Option<Stream>,
    /// The date the money belongs to, within the budget's period.
    pub entry_date: NaiveDate,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// Why it was entered by hand.
    #[validate(length(min = 3, max = 1000))]
    #[schema(min_length = 3, max_length = 1000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseEntry {
    #[validate(length(min = 3, max = 1000))]
    #[schema(min_length = 3, max_length = 1000)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntryView {
    pub id: String,
    pub budget_id: String,
    /// 1, 2, 3… in the order written.
    pub sequence: i64,
    pub kind: String,
    pub stream: String,
    pub amount_pence: Pence,
    pub entry_date: NaiveDate,
    pub description: String,
    pub reason: Option<String>,
    /// `manual`, `budget_approval`, `reversal`; later `roster` and `timesheet`.
    pub source_type: String,
    pub source_id: Option<String>,
    pub reverses_entry_id: Option<String>,
    pub created_by: Option<String>,
    #[serde(serialize_with = "crate::time::utc::serialize")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Which budget; the approved one whose period holds `as_of` when absent.
    pub budget_id: Option<String>,
    /// First day of the range; the period's start when absent.
    pub from: Option<NaiveDate>,
    /// Last day of the range; the period's end when absent.
    pub to: Option<NaiveDate>,
    /// The day the forecast stands on; today when absent.
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    /// `month:YYYY-MM` or `budget`.
    pub scope: String,
    pub threshold_percent: i32,
    pub used_pence: Pence,
    pub profile_pence: Pence,
    #[serde(serialize_with = "crate::time::utc::serialize")]
    pub raised_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthView {
    pub month: String,
    pub profiled_pence: Pence,
    pub committed_pence: Pence,
    pub spent_pence: Pence,
    pub variance_pence: Pence,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementView {
    pub budget: BudgetView,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    /// One per funding stream, then `total`.
    pub balances: Vec<Balance>,
    /// Month by month over the range.
    pub months: Vec<MonthView>,
    pub alerts: Vec<AlertView>,
    /// The last ledger entry counted.
    pub ledger_sequence: i64,
}

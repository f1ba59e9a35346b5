//! Request and response shapes for support patterns and planned shifts.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::market::model::ShiftKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// No support from `from` to `to`: a hospital stay, a holiday away.
    Pause,
    /// One extra shift on `from`.
    Extra,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupportChange {
    pub kind: ChangeKind,
    /// A pause's first day, or the extra shift's date.
    pub from: NaiveDate,
    /// A pause's last day (inclusive); not for extra cover.
    pub to: Option<NaiveDate>,
    /// Extra cover: local `HH:MM`.
    pub start: Option<String>,
    /// Extra cover: local `HH:MM`, on the next day when not after the start.
    pub end: Option<String>,
    /// Extra cover: `day` when absent.
    #[serde(default)]
    pub shift_kind: ShiftKind,
    /// Extra cover: PAs at once, 1 or 2.
    #[serde(default = "one")]
    pub headcount: u8,
    #[validate(length(min = 3, max = 500))]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupportChangeView {
    pub id: String,
    pub budget_holder_id: String,
    pub kind: ChangeKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: Option<String>,
    pub end: Option<String>,
    pub shift_kind: Option<ShiftKind>,
    pub headcount: Option<i32>,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlannedShiftsQuery {
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive); at most 92 days after `from`.
    pub to: NaiveDate,
}

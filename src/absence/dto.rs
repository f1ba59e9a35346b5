//! Request and response shapes for absence.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::absence::model::AbsenceKind;

/// A PA reporting themselves absent from the app.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportAbsence {
    /// `sickness`, `emergency` or `other`; a manager records the other kinds.
    pub kind: AbsenceKind,
    /// Today or later (or yesterday, for a report the phone queued offline overnight).
    pub starts_on: NaiveDate,
    /// The last day away, if known.
    pub ends_on: Option<NaiveDate>,
    /// The shifts the PA cannot work, when they name them: each must be theirs, not yet worked,
    /// and within the dates.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub shift_ids: Option<Vec<String>>,
}

/// An absence a manager records for one of their PAs, or corrects.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAbsence {
    pub pa_id: String,
    pub kind: AbsenceKind,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// The fit note's dates, for sickness of more than seven days.
    pub fit_note_from: Option<NaiveDate>,
    pub fit_note_to: Option<NaiveDate>,
}

/// A correction: the absence's kind, dates and fit note as they should be.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectAbsence {
    pub kind: AbsenceKind,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub fit_note_from: Option<NaiveDate>,
    pub fit_note_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceView {
    pub id: String,
    pub pa_id: String,
    pub kind: AbsenceKind,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub fit_note_from: Option<NaiveDate>,
    pub fit_note_to: Option<NaiveDate>,
    /// Sickness past seven days with no fit note recorded.
    pub fit_note_needed: bool,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
    /// Send as `If-Match` to correct it.
    pub version: i64,
    /// The cover searches this absence opened (its shifts that had not started).
    pub cover_request_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AbsenceListQuery {
    /// One PA's; everyone's when absent.
    pub pa_id: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AbsenceTotalsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

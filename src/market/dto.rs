//! Request and response shapes for the marketplace.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::market::model::{
    Funding, Gender, Preferences, RuleOutcome, ScorePart, SupportNeed, WeeklyWindow,
};

// --- competencies ----------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetencyLevelView {
    pub level: i32,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetencyView {
    pub id: String,
    /// Stable snake_case code, e.g. `tracheostomy_care`.
    pub code: String,
    pub name: String,
    /// 1 companionship and domestic, 2 personal care, 3 delegated healthcare, 4 complex clinical.
    pub level: i32,
    pub description: String,
    /// Level 3 and up need a clinician's sign-off for each person.
    pub needs_clinical_signoff: bool,
    pub active: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompetency {
    #[validate(
        length(min = 2, max = 60),
        custom(function = "crate::market::dto::snake_code")
    )]
    pub code: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[validate(range(min = 1, max = 4))]
    #[schema(minimum = 1, maximum = 4)]
    pub level: i32,
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub description: String,
}

pub fn snake_code(code: &str) -> Result<(), validator::ValidationError> {
    if code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("snake_case");
        error.message = Some("must be lower-case letters, digits and underscores".into());
        Err(error)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompetency {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// `false` retires it from new use; evidence and history stay.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompetencyFilter {
    pub level: Option<i32>,
    pub active: Option<bool>,
}

// --- PA profiles -----------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub starts_on: NaiveDate,
    /// Inclusive.
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DbsInput {
    /// Issue date of the enhanced certificate with the adult barred list.
    pub issued_on: NaiveDate,
    /// Subscribed to the DBS update service.
    #[serde(default)]
    pub update_service: bool,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RightToWorkInput {
    pub checked_on: NaiveDate,
    /// For time-limited permission to work.
    pub expires_on: Option<NaiveDate>,
}

/// A new PA profile (team managers and admins).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaProfile {
    /// The PA's login (a user with role `pa` in the organisation), if they use the app.
    pub user_id: Option<String>,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    #[validate(length(max = 30))]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[validate(email)]
    pub email: Option<String>,
    /// Full postcode, sector (`BB11 2`) or district (`BB11`).
    #[schema(example = "BB11 2AB")]
    pub postcode: String,
    #[validate(range(min = 0.0, max = 80.0))]
    #[schema(minimum = 0.0, maximum = 80.0)]
    pub max_travel_km: f64,
    #[serde(default)]
    pub drives: bool,
    #[serde(default)]
    pub has_car: bool,
    #[serde(default)]
    pub smoker: bool,
    #[serde(default = "yes")]
    pub comfortable_with_pets: bool,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub languages: Vec<String>,
    /// Only for people who ask for a PA of a given gender.
    pub gender: Option<Gender>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub availability: Vec<WeeklyWindow>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub unavailability: Vec<DateRange>,
    #[validate(range(min = 0.0, max = 60.0))]
    #[schema(minimum = 0.0, maximum = 60.0)]
    pub wanted_hours_per_week: f64,
    #[validate(range(min = Pence::new(0), max = Pence::new(100_000)))]
    #[schema(value_type = i64, minimum = 0, maximum = 100_000)]
    pub min_hourly_pay_pence: Pence,
    pub dbs: Option<DbsInput>,
    pub right_to_work: Option<RightToWorkInput>,
}

fn yes() -> bool {
    true
}

/// Changes to a PA profile. A PA may change their own details; only team managers and admins
/// verify checks or change `active`. Giving new DBS or right-to-work details clears their
/// verification until a manager checks them again.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePaProfile {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: Option<String>,
    #[validate(length(max = 30))]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[validate(email)]
    pub email: Option<String>,
    pub postcode: Option<String>,
    #[validate(range(min = 0.0, max = 80.0))]
    #[schema(minimum = 0.0, maximum = 80.0)]
    pub max_travel_km: Option<f64>,
    pub drives: Option<bool>,
    pub has_car: Option<bool>,
    pub smoker: Option<bool>,
    pub comfortable_with_pets: Option<bool>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub languages: Option<Vec<String>>,
    pub gender: Option<Gender>,
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub availability: Option<Vec<WeeklyWindow>>,
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub unavailability: Option<Vec<DateRange>>,
    #[validate(range(min = 0.0, max = 60.0))]
    #[schema(minimum = 0.0, maximum = 60.0)]
    pub wanted_hours_per_week: Option<f64>,
    #[validate(range(min = Pence::new(0), max = Pence::new(100_000)))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub min_hourly_pay_pence: Option<Pence>,
    pub dbs: Option<DbsInput>,
    pub right_to_work: Option<RightToWorkInput>,
    /// Managers: the DBS certificate has been seen and checked.
    pub dbs_verified: Option<bool>,
    /// Managers: the right-to-work documents have been seen and checked.
    pub right_to_work_verified: Option<bool>,
    /// Managers: `false` deactivates the profile (history is kept).
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub recorded: bool,
    pub verified: bool,
    /// Whether it counts today.
    pub current: bool,
    pub explanation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub competency_id: String,
    pub code: String,
    pub name: String,
    pub level: i32,
    pub trained_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub evidence_reference: Option<String>,
    /// `valid`, `unverified`, `expired`, `revoked` or `not_yet_trained`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffView {
    pub id: String,
    pub competency_id: String,
    pub budget_holder_id: String,
    pub clinician_name: String,
    pub clinician_role: String,
    pub signed_off_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaProfileView {
    pub id: String,
    pub organisation_id: String,
    pub user_id: Option<String>,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: String,
    pub district: String,
    pub max_travel_km: f64,
    pub drives: bool,
    pub has_car: bool,
    pub smoker: bool,
    pub comfortable_with_pets: bool,
    pub languages: Vec<String>,
    pub gender: Option<Gender>,
    pub availability: Vec<WeeklyWindow>,
    pub unavailability: Vec<DateRange>,
    pub wanted_hours_per_week: f64,
    pub min_hourly_pay_pence: Pence,
    pub dbs_issued_on: Option<NaiveDate>,
    pub dbs_update_service: bool,
    pub dbs: CheckView,
    pub right_to_work_checked_on: Option<NaiveDate>,
    pub right_to_work_expires_on: Option<NaiveDate>,
    pub right_to_work: CheckView,
    pub competencies: Vec<EvidenceView>,
    pub signoffs: Vec<SignOffView>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a PA list: enough to choose, not the whole profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaSummary {
    pub id: String,
    pub display_name: String,
    pub district: String,
    pub max_travel_km: f64,
    pub wanted_hours_per_week: f64,
    pub active: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaFilter {
    /// Postcode district, e.g. `BB11`.
    pub district: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddEvidence {
    pub competency_id: String,
    pub trained_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// A certificate number or where the evidence is kept.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub evidence_reference: Option<String>,
}

/// Managers verify or revoke evidence; neither can be undone (add new evidence instead).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEvidence {
    pub verified: Option<bool>,
    pub revoked: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSignOff {
    pub competency_id: String,
    /// The person the task is delegated for: a sign-off never carries over to anyone else.
    pub budget_holder_id: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub clinician_name: String,
    /// e.g. "Community nurse", "Respiratory physiotherapist".
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub clinician_role: String,
    pub signed_off_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

// --- budget holders --------------------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBudgetHolder {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub representative_name: Option<String>,
    /// The person's own login (role `budget_holder`), if they have one.
    pub user_id: Option<String>,
    /// Their representative's login (role `budget_holder`), if any: it reads the person's
    /// records, so it needs `representative_consent_on`.
    pub representative_user_id: Option<String>,
    /// The day consent to the representative acting for the person was given (not in the
    /// future); required with `representative_user_id`.
    pub representative_consent_on: Option<NaiveDate>,
    /// Admins choose; a team manager creating one becomes its manager.
    pub team_manager_id: Option<String>,
    #[schema(example = "BB11 2AB")]
    pub postcode: String,
    pub funding: Funding,
    #[validate(range(min = 1, max = 4))]
    #[schema(minimum = 1, maximum = 4)]
    pub minimum_level: i32,
    #[serde(default)]
    #[validate(length(max = 30))]
    #[schema(max_items = 30)]
    pub required_competencies: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 60))]
    #[schema(max_items = 60)]
    pub support_needs: Vec<SupportNeed>,
    #[serde(default)]
    pub preferences: Preferences,
    #[validate(range(min = Pence::new(0), max = Pence::new(100_000)))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub affordable_hourly_pay_pence: Option<Pence>,
}

/// Changes to a budget holder. The person or their representative may change `preferences`
/// only; everything else is for their team manager or an admin.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBudgetHolder {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: Option<String>,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub representative_name: Option<String>,
    pub team_manager_id: Option<String>,
    pub postcode: Option<String>,
    pub funding: Option<Funding>,
    #[validate(range(min = 1, max = 4))]
    #[schema(minimum = 1, maximum = 4)]
    pub minimum_level: Option<i32>,
    #[validate(length(max = 30))]
    #[schema(max_items = 30)]
    pub required_competencies: Option<Vec<String>>,
    #[validate(length(max = 60))]
    #[schema(max_items = 60)]
    pub support_needs: Option<Vec<SupportNeed>>,
    pub preferences: Option<Preferences>,
    #[validate(range(min = Pence::new(0), max = Pence::new(100_000)))]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub affordable_hourly_pay_pence: Option<Pence>,
    pub active: Option<bool>,
}

impl UpdateBudgetHolder {
    /// Whether anything beyond preferences is being changed.
    pub fn touches_more_than_preferences(&self) -> bool {
        self.display_name.is_some()
            || self.representative_name.is_some()
            || self.team_manager_id.is_some()
            || self.postcode.is_some()
            || self.funding.is_some()
            || self.minimum_level.is_some()
            || self.required_competencies.is_some()
            || self.support_needs.is_some()
            || self.affordable_hourly_pay_pence.is_some()
            || self.active.is_some()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMemberView {
    pub pa_id: String,
    pub display_name: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoNotMatchView {
    pub pa_id: String,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetHolderView {
    pub id: String,
    pub organisation_id: String,
    pub team_manager_id: String,
    pub user_id: Option<String>,
    pub representative_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representative_consent_on: Option<NaiveDate>,
    pub display_name: String,
    pub representative_name: Option<String>,
    pub postcode: String,
    pub district: String,
    pub funding: Funding,
    pub minimum_level: i32,
    pub required_competencies: Vec<CompetencyView>,
    pub support_needs: Vec<SupportNeed>,
    /// Person-hours a week (2:1 hours count twice).
    pub support_hours_per_week: f64,
    pub preferences: Preferences,
    pub affordable_hourly_pay_pence: Option<Pence>,
    pub team: Vec<TeamMemberView>,
    pub do_not_match: Vec<DoNotMatchView>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetHolderSummary {
    pub id: String,
    pub display_name: String,
    pub district: String,
    pub team_manager_id: String,
    pub minimum_level: i32,
    pub active: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetHolderFilter {
    /// Only this team manager's people (admins; a team manager always sees only their own).
    pub team_manager_id: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeamMember {
    pub pa_id: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDoNotMatch {
    pub pa_id: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

// --- matching --------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// Only PAs at most this far away (km).
    pub max_distance_km: Option<f64>,
    /// Only PAs scoring at least this (0–100).
    pub min_score: Option<f64>,
    /// Only PAs working at least at this competency level for the person (1–4).
    pub min_level: Option<i32>,
    /// Also list PAs who fail a hard rule, with the reason (default false).
    pub include_ineligible: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchView {
    pub pa_id: String,
    pub display_name: String,
    pub district: String,
    pub distance_km: f64,
    /// 0–100; the breakdown says where every point came from.
    pub score: f64,
    /// Passes every hard rule.
    pub eligible: bool,
    /// One sentence for the team manager.
    pub summary: String,
    pub breakdown: Vec<ScorePart>,
    pub rules: Vec<RuleOutcome>,
}

/// A person a PA could support: what an offer needs, no name or address.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityView {
    pub budget_holder_id: String,
    /// Postcode district only.
    pub district: String,
    pub distance_km: f64,
    pub minimum_level: i32,
    pub support_needs: Vec<SupportNeed>,
    pub support_hours_per_week: f64,
    /// Hours a week of the support that fall in the PA's availability.
    pub hours_you_are_available: f64,
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunitiesView {
    pub people: Vec<OpportunityView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CapacityQuery {
    /// Commissioners: one organisation of their area (default: all of them).
    pub organisation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityRow {
    /// Postcode district.
    pub district: String,
    pub level: i32,
    /// Active PAs with current checks whose highest valid competency is at this level.
    pub pas: u32,
    /// Hours a week those PAs want to work.
    pub available_hours_per_week: f64,
    /// Person-hours a week of support needed by people whose minimum level is this.
    pub needed_hours_per_week: f64,
    /// Needed minus available: positive is a shortfall.
    pub gap_hours_per_week: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityView {
    pub organisations: Vec<String>,
    pub rows: Vec<CapacityRow>,
    pub total_available_hours_per_week: f64,
    pub total_needed_hours_per_week: f64,
}

//! Request and response shapes for support patterns and planned shifts.

use crate::money::Pence;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
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
    #[schema(min_length = 3, max_length = 500)]
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
    #[serde(serialize_with = "crate::time::utc::serialize")]
    pub created_at: NaiveDateTime,
    pub cancelled_by: Option<String>,
    #[serde(serialize_with = "crate::time::utc_option::serialize")]
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

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRoster {
    /// The people to roster; all of the caller's people when absent (a team manager).
    pub budget_holder_ids: Option<Vec<String>>,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive); at most 42 days after `from` (typically 4 weeks).
    pub to: NaiveDate,
    /// The same seed on the same data gives the same roster; 1 when absent.
    pub seed: Option<u64>,
    /// How long the optimiser may search, 50 ms to 10 s; 2 s when absent. It returns the best
    /// roster found by then.
    #[validate(range(min = 50, max = 10_000))]
    #[schema(minimum = 50, maximum = 10_000)]
    pub time_limit_ms: Option<u64>,
}

/// The roster's score, by goal (lower is better; `total` is what the optimiser minimises).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ScoreView {
    pub total: i64,
    pub open_hours: f64,
    /// PA–person pairs working together: fewer is more continuity.
    pub pa_person_pairs: i64,
    pub outside_core_team_hours: f64,
    pub hours_over_wanted: f64,
    pub hours_under_wanted: f64,
    /// Sum over PAs of nights² and weekend shifts²: lower is fairer.
    pub nights_and_weekends_spread: i64,
    pub travel_km: i64,
    pub pay_pence: Pence,
    pub moves_tried: u64,
    pub first_roster_ms: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterShiftView {
    pub id: String,
    pub budget_holder_id: String,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub kind: ShiftKind,
    pub headcount: i32,
    pub pa_ids: Vec<String>,
    /// Why the shift is open, when it is: `no_qualified_pa`, `not_enough_for_two_to_one`,
    /// `daily_rest`, `weekly_rest`, `weekly_hours`, `double_booking_or_travel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_reason: Option<String>,
    /// PAs holding a place of this 2:1 shift, waiting for a second: not live until then.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_by: Vec<String>,
    /// What the daily look ahead found: a PA on it who will not be safe by then.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::error::RuleBreach>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterView {
    pub id: String,
    pub team_manager_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `draft` or `published`.
    pub status: String,
    /// Also the ETag.
    pub version: i64,
    pub seed: i64,
    pub score: ScoreView,
    pub filled_shifts: usize,
    pub open_shifts: usize,
    /// Per person: what the roster costs against their approved budget.
    pub cost_against_budget: Vec<PersonCostView>,
    pub shifts: Vec<RosterShiftView>,
}

/// What a roster costs one person's budget, beside the budget's profile for the roster's dates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonCostView {
    pub budget_holder_id: String,
    /// PA pay for the staffed places with the holiday pay accruing on it: what publishing
    /// commits (uplifted hours are dearer where the PA's pay is).
    pub roster_cost_pence: Pence,
    /// The approved budget covering the roster's first day, if any.
    pub budget_id: Option<String>,
    /// The budget's profile over the roster's dates.
    pub profiled_pence: Pence,
    /// Committed and spent over the roster's dates, this roster included (a draft's cost is
    /// added; a published roster's is already in the ledger).
    pub used_with_roster_pence: Pence,
    /// Profiled less used: negative is over profile.
    pub variance_pence: Pence,
    /// The whole budget's remaining balance once this roster's cost is counted.
    pub remaining_after_pence: Pence,
}

/// One change to a draft roster, sent with `If-Match: "<version>"`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RosterEdit {
    /// Put exactly these PAs on the shift (one, or two for 2:1), replacing whoever was there.
    Assign {
        shift_id: String,
        pa_ids: Vec<String>,
    },
    /// Take everyone off the shift: it is open.
    Unassign { shift_id: String },
    /// Swap two PAs between two shifts.
    Swap {
        shift_id: String,
        pa_id: String,
        other_shift_id: String,
        other_pa_id: String,
    },
    /// Move a PA from one shift to another that has a place free: the first loses them.
    Move {
        shift_id: String,
        pa_id: String,
        to_shift_id: String,
    },
}

/// Ids are checked against the roster when the edit is applied.
impl Validate for RosterEdit {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditOutcome {
    /// The roster's new version (also the ETag).
    pub version: i64,
    /// The shifts as they are now.
    pub shifts: Vec<RosterShiftView>,
    /// What the change costs in PA pay (negative saves).
    pub pay_change_pence: Pence,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyShiftsQuery {
    /// First local date; today when absent.
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive); 8 weeks after `from` when absent.
    pub to: Option<NaiveDate>,
    /// Only shifts on rosters changed after this instant (RFC 3339): the app's sync.
    pub changed_since: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyShiftView {
    pub shift_id: String,
    pub roster_id: String,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub kind: ShiftKind,
    /// 2 for 2:1 support.
    pub headcount: i32,
    /// Who the PA supports: their name and postcode district.
    pub person_name: String,
    pub person_district: String,
    /// When this shift's roster last changed (for the app's sync).
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// An open shift a PA could take: what an offer needs, and no more about the person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenShiftView {
    pub shift_id: String,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub kind: ShiftKind,
    pub headcount: i32,
    /// Places nobody has taken or holds.
    pub places_left: i64,
    /// Places of a 2:1 shift held by a PA waiting for a second: with one held, one more is
    /// needed and the shift goes live when they accept.
    pub held_places: i64,
    /// Whether the caller is the one holding a place.
    pub held_by_you: bool,
    /// The person's postcode district and distance from the PA's home.
    pub district: String,
    pub distance_km: f64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSwapRequest {
    /// The colleague asked to take the shift.
    pub colleague_pa_id: String,
    /// One of the colleague's shifts on the same roster to take in return; without it the
    /// colleague simply takes the shift.
    pub their_shift_id: Option<String>,
    /// A word to the colleague and the manager.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapDecision {
    pub approve: bool,
    /// Why; required when refusing.
    #[validate(length(min = 3, max = 500))]
    #[schema(min_length = 3, max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SwapRequestView {
    pub id: String,
    pub roster_id: String,
    pub shift_id: String,
    /// The shift's local date and times, e.g. `2027-01-04 09:00–12:00`.
    pub shift: String,
    pub requester_pa_id: String,
    pub colleague_pa_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub their_shift_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub their_shift: Option<String>,
    /// `proposed` → `accepted` (by the colleague) → `approved` (by the manager); or
    /// `declined`, `refused`, `withdrawn`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Whom a roster run rosters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunScope {
    /// The people named, or the caller's own people (one draft roster).
    #[default]
    Team,
    /// Every active person of the organisation, rostered together so that no PA is booked
    /// twice across teams: one draft roster per team manager (admins only).
    Organisation,
}

/// A roster generation run as a background job: the same as `GenerateRoster`, with a longer
/// search allowed, for a team or for the whole organisation.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRosterRun {
    /// `team` (the default) or `organisation`.
    #[serde(default)]
    pub scope: RunScope,
    /// The people to roster; all of the caller's people when absent (a team manager). Not
    /// with the organisation's scope, which rosters everyone.
    pub budget_holder_ids: Option<Vec<String>>,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive); at most 42 days after `from`.
    pub to: NaiveDate,
    /// The same seed on the same data gives the same roster; 1 when absent.
    pub seed: Option<u64>,
    /// How long the optimiser may search: 1 s to 4 minutes.
    #[validate(range(min = 1_000, max = 240_000))]
    #[schema(minimum = 1_000, maximum = 240_000)]
    pub time_limit_ms: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterRunView {
    pub id: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Share of the time limit used so far; 100 when done.
    pub percent_done: i64,
    pub elapsed_ms: i64,
    pub time_limit_ms: i64,
    /// The best roster's score so far (lower is better).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_score: Option<i64>,
    pub moves_tried: i64,
    /// `team` or `organisation`.
    pub scope: RunScope,
    /// The draft roster, when a team's run is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster_id: Option<String>,
    /// Every draft roster the run made, when done: one for a team, one per team manager for
    /// the organisation.
    pub roster_ids: Vec<String>,
    /// Where to read the roster, when done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roster: Option<String>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A PA's working-time record, set by their manager.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWorkingTime {
    /// The most hours a week the PA will work, on average over a roster; none when absent.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub max_hours_per_week: Option<u8>,
    /// The date the PA signed a written opt-out of the 48-hour average week (reg. 5).
    pub opted_out_on: Option<NaiveDate>,
    /// The date the PA's withdrawal of the opt-out takes effect, after their notice.
    pub opt_out_withdrawn_on: Option<NaiveDate>,
    /// Employed directly by the budget holder in their own home (reg. 19): the 48-hour average
    /// does not apply; rest rules do.
    #[serde(default)]
    pub domestic_worker: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkingTimeView {
    pub pa_id: String,
    pub max_hours_per_week: Option<f64>,
    pub opted_out_on: Option<NaiveDate>,
    pub opt_out_withdrawn_on: Option<NaiveDate>,
    pub domestic_worker: bool,
    /// Whether the 48-hour average week binds the PA today.
    pub average_week_applies_today: bool,
    /// The weekly average the roster holds the PA to today; none when nothing caps it.
    pub weekly_cap_hours_today: Option<f64>,
}

/// A PA's check, evidence or sign-off that expires soon.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpiringItemView {
    pub pa_id: String,
    pub pa_name: String,
    /// `dbs`, `right_to_work`, `competency` or `signoff`.
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competency_id: Option<String>,
    /// The person a sign-off is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_holder_id: Option<String>,
    /// The first day it no longer holds.
    pub expires_on: NaiveDate,
    pub days_left: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExpiringQuery {
    /// Days ahead to look, 0 to 366 (default 60).
    #[param(minimum = 0, maximum = 366)]
    pub within_days: Option<i64>,
}

/// The search for cover of one place an absence opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverRequestView {
    pub id: String,
    pub roster_shift_id: String,
    pub budget_holder_id: String,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: DateTime<Utc>,
    pub absent_pa_id: String,
    pub absence_id: Option<String>,
    /// `searching`, `covered`, `uncovered` (the shift started with nobody) or `withdrawn`.
    pub status: String,
    /// Rounds run: 1 offers the person's team, 2 reaches PAs nearby, 3 and on anyone eligible.
    pub round: i32,
    pub opened_at: DateTime<Utc>,
    pub first_offers_at: Option<DateTime<Utc>>,
    pub covered_by: Option<String>,
    pub covered_at: Option<DateTime<Utc>>,
    /// From opening to the first offers, in minutes.
    pub minutes_to_first_offers: Option<f64>,
    pub offers: Vec<CoverOfferView>,
    /// Every PA the safety gate allows on the shift now, best first (on reading one request
    /// while it searches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<CoverCandidateView>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverOfferView {
    pub pa_id: String,
    pub round: i32,
    pub score: f64,
    /// Why this PA: their tier, distance, score and its main reasons.
    pub reason: String,
    /// The manager who offered it directly; absent for the search's own offers.
    pub offered_by: Option<String>,
    pub offered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverCandidateView {
    pub pa_id: String,
    pub display_name: String,
    /// 1 the person's team, 2 within 10 km, 3 anyone eligible.
    pub tier: i32,
    pub score: f64,
    pub distance_km: f64,
    pub reason: String,
    pub breakdown: Vec<crate::market::model::ScorePart>,
}

/// A PA offered a cover request's shift directly by the manager.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverOfferRequest {
    pub pa_id: String,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverListQuery {
    /// `searching` (the default), `covered`, `uncovered` or `withdrawn`.
    pub status: Option<String>,
}

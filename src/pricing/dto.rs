//! Request and response shapes for pricing.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::market::model::Day;
use crate::pricing::model::{Priced, RateCardKind, RateTerms, ShiftKind};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRateCard {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    pub kind: RateCardKind,
    /// The first version's date; it may be in the past (nothing has used the card yet).
    pub effective_from: NaiveDate,
    pub terms: RateTerms,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRateCardVersion {
    /// Must be after today: versions already in force are never changed, also by a new one.
    pub effective_from: NaiveDate,
    pub terms: RateTerms,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateCardVersionView {
    pub id: String,
    pub effective_from: NaiveDate,
    pub terms: RateTerms,
    #[serde(serialize_with = "crate::time::utc::serialize")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateCardView {
    pub id: String,
    pub name: String,
    pub kind: RateCardKind,
    /// Oldest first.
    pub versions: Vec<RateCardVersionView>,
}

fn one() -> u8 {
    1
}

/// One weekly shift of the pattern to price.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteShift {
    pub day: Day,
    /// Local start, `HH:MM`.
    #[schema(example = "22:00")]
    pub start: String,
    /// Local end, `HH:MM`; at or before the start means the next day.
    #[schema(example = "08:00")]
    pub end: String,
    pub kind: ShiftKind,
    /// PAs at once: 1, or 2 for 2:1 support.
    #[serde(default = "one")]
    pub headcount: u8,
    /// Competency level 1–4.
    pub level: i32,
    #[serde(default)]
    pub short_notice: bool,
    /// Sleep-ins only: hours a night the PA is expected to be woken for work.
    #[serde(default)]
    pub woken_hours: f64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// A personalised rate card.
    pub rate_card_id: String,
    /// A social-care framework card to compare with.
    pub framework_card_id: Option<String>,
    /// First day priced; today when absent.
    pub start_date: Option<NaiveDate>,
    /// Weeks priced, 1–104; 52 when absent.
    #[validate(range(min = 1, max = 104))]
    #[schema(minimum = 1, maximum = 104)]
    pub weeks: Option<u32>,
    /// PAs sharing the hours, for the per-PA thresholds of National Insurance and pension;
    /// when absent, one PA per 37.5 hours a week, at least one.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub team_size: Option<u32>,
    /// 1 to 100 weekly shifts.
    pub pattern: Vec<QuoteShift>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardPriced {
    pub rate_card_id: String,
    pub name: String,
    pub kind: RateCardKind,
    #[serde(flatten)]
    pub priced: Priced,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteDifference {
    /// Personalised total less framework total.
    pub total_pence: Pence,
    pub per_week_pence: Pence,
    /// The difference as a percentage of the framework total.
    pub percent: f64,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub weeks: u32,
    pub team_size: u32,
    pub personalised: CardPriced,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<CardPriced>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<QuoteDifference>,
}

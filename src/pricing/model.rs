//! Pricing support by competency: rate card terms, and a weekly support pattern priced over a
//! run of dates in Europe/London. Pure: no database, no clock (dates come in), the UK rules
//! passed in.
//!
//! How premiums combine (stated here because pay depends on it): each minute worked earns the
//! base rate for the shift's competency level, plus the highest one *day* premium that applies
//! to the local date of that minute (bank holiday, else Sunday, else Saturday), plus one *time*
//! premium (waking night for a waking-night shift, else night for minutes inside the card's night
//! window), plus the 2:1 premium on 2:1 shifts and the short-notice premium on short-notice
//! shifts. Premiums are percentages of the base rate and add; they never compound. A sleep-in
//! earns a flat amount per PA per night; time woken for work is paid at the base rate. Every line
//! is summed exactly and rounded to the penny once, half away from zero.

use crate::money::Pence;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;
pub use crate::market::model::{Day, ShiftKind};
use crate::rules::{AgeBand, UkRules};
pub use crate::time::{london_instant, shift_instants};

pub const BP: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateCardKind {
    /// Competency-based, for personal health budgets.
    Personalised,
    /// A council's social-care framework rate, kept for comparison.
    SocialCareFramework,
}

impl RateCardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personalised => "personalised",
            Self::SocialCareFramework => "social_care_framework",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "personalised" => Some(Self::Personalised),
            "social_care_framework" => Some(Self::SocialCareFramework),
            _ => None,
        }
    }
}

/// Hourly rates for one competency level, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelRate {
    pub level: i32,
    /// What the PA is paid an hour.
    pub pay_pence: Pence,
    /// What the budget is charged an hour when a provider employs the PA.
    pub charge_pence: Pence,
}

/// Premiums in basis points of the base rate (1000 = 10%).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Uplifts {
    pub night_bp: i64,
    pub saturday_bp: i64,
    pub sunday_bp: i64,
    pub bank_holiday_bp: i64,
    pub waking_night_bp: i64,
    pub two_to_one_bp: i64,
    pub short_notice_bp: i64,
    /// Payroll: a shift given to a PA less than this many hours before it starts earns the
    /// short-notice premium (0: never; quotes take `short_notice` from the pattern instead).
    pub short_notice_hours: i64,
    /// Payroll: on hours beyond a PA's contracted hours in a week (Monday to Sunday).
    pub overtime_bp: i64,
}

impl Uplifts {
    /// Whether a shift given `notice_minutes` before it starts was given at short notice.
    pub fn is_short_notice(&self, notice_minutes: Option<i64>) -> bool {
        notice_minutes
            .is_some_and(|m| self.short_notice_hours > 0 && m < self.short_notice_hours * 60)
    }
}

/// Flat amounts per PA per sleep-in night, in pence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SleepIn {
    pub pay_pence: Pence,
    pub charge_pence: Pence,
}

/// The organisation's own on-costs. Statutory ones (employer National Insurance, pension
/// auto-enrolment, holiday pay) come from the UK rules in force on each date instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OnCosts {
    /// Training, as a share of pay.
    pub training_bp: i64,
    /// Employer's liability insurance, a year.
    pub employers_liability_pence_per_year: Pence,
    /// Payroll service or managed account fee, a month.
    pub payroll_fee_pence_per_month: Pence,
    /// Contingency, as a share of pay and every other on-cost.
    pub contingency_bp: i64,
}

/// What one version of a rate card says. Never changed once saved: a new rate is a new version
/// from a later date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateTerms {
    pub levels: Vec<LevelRate>,
    /// Local start of the night window, `HH:MM` (e.g. 22:00).
    pub night_start: String,
    /// Local end of the night window, `HH:MM` (e.g. 07:00); may be earlier than the start.
    pub night_end: String,
    #[serde(default)]
    pub uplifts: Uplifts,
    #[serde(default)]
    pub sleep_in: SleepIn,
    #[serde(default)]
    pub on_costs: OnCosts,
}

pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return None;
    }
    let number = |pair: &[u8]| -> Option<u32> {
        pair.iter().try_fold(0, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    NaiveTime::from_hms_opt(number(&bytes[..2])?, number(&bytes[3..])?, 0)
}

/// The most any rate or on-cost may be, in pence or basis points: far beyond any real PA's
/// rate (£10,000 an hour), and low enough that no product of rates, minutes and uplifts can
/// overflow.
pub const MAX_RATE: i64 = 1_000_000;

fn nonnegative(field: &str, value: i64, errors: &mut Vec<FieldError>) {
    if value < 0 {
        errors.push(FieldError::new(field, "range", "must not be negative"));
    } else if value > MAX_RATE {
        errors.push(FieldError::new(
            field,
            "range",
            format!("must be at most {MAX_RATE}"),
        ));
    }
}

impl RateTerms {
    /// Shape checks; the minimum-wage check needs a date and is `below_minimum_wage`.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.levels.is_empty() {
            errors.push(FieldError::new(
                "terms.levels",
                "required",
                "must price at least one level",
            ));
        }
        let mut seen = Vec::new();
        for (i, l) in self.levels.iter().enumerate() {
            if !(1..=4).contains(&l.level) {
                errors.push(FieldError::new(
                    format!("terms.levels[{i}].level"),
                    "range",
                    "must be 1 to 4",
                ));
            } else if seen.contains(&l.level) {
                errors.push(FieldError::new(
                    format!("terms.levels[{i}].level"),
                    "duplicate",
                    "is priced twice",
                ));
            }
            seen.push(l.level);
            if !l.pay_pence.is_positive() || l.pay_pence.get() > MAX_RATE {
                errors.push(FieldError::new(
                    format!("terms.levels[{i}].pay_pence"),
                    "range",
                    format!("must be more than 0 and at most {MAX_RATE}"),
                ));
            }
            nonnegative(
                &format!("terms.levels[{i}].charge_pence"),
                l.charge_pence.get(),
                &mut errors,
            );
        }
        for (field, text) in [
            ("terms.night_start", &self.night_start),
            ("terms.night_end", &self.night_end),
        ] {
            if parse_clock(text).is_none() {
                errors.push(FieldError::new(
                    field,
                    "invalid_time",
                    "must be a time HH:MM",
                ));
            }
        }
        if self.night_start == self.night_end {
            errors.push(FieldError::new(
                "terms.night_end",
                "invalid_window",
                "must differ from night_start",
            ));
        }
        let u = &self.uplifts;
        for (name, bp) in [
            ("night_bp", u.night_bp),
            ("saturday_bp", u.saturday_bp),
            ("sunday_bp", u.sunday_bp),
            ("bank_holiday_bp", u.bank_holiday_bp),
            ("waking_night_bp", u.waking_night_bp),
            ("two_to_one_bp", u.two_to_one_bp),
            ("short_notice_bp", u.short_notice_bp),
            ("overtime_bp", u.overtime_bp),
        ] {
            if !(0..=5 * BP).contains(&bp) {
                errors.push(FieldError::new(
                    format!("terms.uplifts.{name}"),
                    "range",
                    "must be 0 to 50000 (0% to 500%)",
                ));
            }
        }
        if !(0..=720).contains(&u.short_notice_hours) {
            errors.push(FieldError::new(
                "terms.uplifts.short_notice_hours",
                "range",
                "must be 0 to 720 (30 days)",
            ));
        }
        nonnegative(
            "terms.sleep_in.pay_pence",
            self.sleep_in.pay_pence.get(),
            &mut errors,
        );
        nonnegative(
            "terms.sleep_in.charge_pence",
            self.sleep_in.charge_pence.get(),
            &mut errors,
        );
        let o = &self.on_costs;
        nonnegative("terms.on_costs.training_bp", o.training_bp, &mut errors);
        nonnegative(
            "terms.on_costs.employers_liability_pence_per_year",
            o.employers_liability_pence_per_year.get(),
            &mut errors,
        );
        nonnegative(
            "terms.on_costs.payroll_fee_pence_per_month",
            o.payroll_fee_pence_per_month.get(),
            &mut errors,
        );
        nonnegative(
            "terms.on_costs.contingency_bp",
            o.contingency_bp,
            &mut errors,
        );
        errors
    }

    pub fn level(&self, level: i32) -> Option<&LevelRate> {
        self.levels.iter().find(|l| l.level == level)
    }

    /// The first level paid below the adult minimum wage in force on `date`, with that minimum.
    /// Cards are checked against the 21-and-over rate: a card pays every PA, whatever their age.
    pub fn below_minimum_wage(
        &self,
        rules: &UkRules,
        date: NaiveDate,
    ) -> Option<(LevelRate, Pence)> {
        let minimum = rules.minimum_wage(AgeBand::TwentyOneAndOver, date)?;
        self.levels
            .iter()
            .find(|l| l.pay_pence < minimum)
            .map(|l| (*l, minimum))
    }
}

// ---------------------------------------------------------------------------------------------
// Support patterns

/// One recurring weekly shift of a support pattern, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternShift {
    pub day: Day,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub kind: ShiftKind,
    pub headcount: u8,
    pub level: i32,
    pub short_notice: bool,
    /// Sleep-ins only: minutes a night the PA is expected to be woken for work.
    pub woken_minutes: i64,
}

// ---------------------------------------------------------------------------------------------
// Pricing

/// The lines of a priced pattern, by name, in the order shown.
pub const PAY_ELEMENTS: [&str; 10] = [
    "basic",
    "night_uplift",
    "saturday_uplift",
    "sunday_uplift",
    "bank_holiday_uplift",
    "waking_night_uplift",
    "two_to_one_uplift",
    "short_notice_uplift",
    "sleep_in",
    "sleep_in_woken",
];

/// Money summed exactly as pence × minutes × basis points, rounded once at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Exact(i128);

const EXACT_PER_PENNY: i128 = 60 * BP as i128;

impl Exact {
    fn add(&mut self, rate_pence: Pence, minutes: i64, bp: i64) {
        self.0 += i128::from(rate_pence) * i128::from(minutes) * i128::from(bp);
    }

    fn add_pence(&mut self, pence: Pence) {
        self.0 += i128::from(pence) * EXACT_PER_PENNY;
    }

    fn pence(self) -> Pence {
        Pence::from_ratio(self.0, EXACT_PER_PENNY)
    }
}

/// Pay and charge for one element.
#[derive(Debug, Clone, Copy, Default)]
struct Line {
    minutes: i64,
    pay: Exact,
    charge: Exact,
}

/// Minutes and money for one week of the priced run, for weekly thresholds.
#[derive(Debug, Clone, Default)]
struct Week {
    pay: Exact,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PricedLine {
    pub element: String,
    /// Hours the element applies to (PA-hours: a 2:1 hour counts twice); nights for `sleep_in`.
    pub quantity: f64,
    pub pay_pence: Pence,
    pub charge_pence: Pence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OnCostLine {
    pub item: String,
    /// How it was worked out, in words.
    pub basis: String,
    pub pence: Pence,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Priced {
    /// PA-hours worked (2:1 hours count twice; sleep-in hours asleep do not count).
    pub paid_hours: f64,
    pub sleep_in_nights: i64,
    pub pay: Vec<PricedLine>,
    pub pay_total_pence: Pence,
    pub on_costs: Vec<OnCostLine>,
    pub on_costs_total_pence: Pence,
    pub contingency_pence: Pence,
    /// Pay, on-costs and contingency: the cost of employing the team directly.
    pub total_pence: Pence,
    pub per_week_pence: Pence,
    /// What a provider employing the PAs would charge the budget at the card's charge rates.
    pub provider_charge_pence: Pence,
    /// The card versions used and the dates each priced.
    pub versions_used: Vec<VersionUse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VersionUse {
    pub version_id: String,
    pub effective_from: NaiveDate,
    pub first_shift_on: NaiveDate,
    pub last_shift_on: NaiveDate,
}

/// A card version as pricing sees it.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: String,
    pub effective_from: NaiveDate,
    pub terms: RateTerms,
}

/// Why a pattern could not be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// No version of the card is in force on this date.
    NoVersion(NaiveDate),
    /// The version in force does not price this level.
    LevelNotPriced {
        level: i32,
        version_id: String,
        field: String,
    },
    /// The version in force pays below the minimum wage in force on this date.
    BelowMinimumWage {
        level: i32,
        pay_pence: Pence,
        minimum_pence: Pence,
        date: NaiveDate,
    },
    /// A date the statutory data does not cover.
    RulesUnknown(NaiveDate),
}

fn version_on(versions: &[Version], date: NaiveDate) -> Option<&Version> {
    versions
        .iter()
        .filter(|v| v.effective_from <= date)
        .max_by_key(|v| v.effective_from)
}

/// A card's night window, parsed once for a shift rather than at every stretch of it.
#[derive(Debug, Clone, Copy)]
struct NightWindow {
    start: Option<NaiveTime>,
    end: Option<NaiveTime>,
}

impl NightWindow {
    fn of(terms: &RateTerms) -> Self {
        Self {
            start: parse_clock(&terms.night_start),
            end: parse_clock(&terms.night_end),
        }
    }

    fn contains(self, local: NaiveTime) -> bool {
        let (Some(start), Some(end)) = (self.start, self.end) else {
            return false;
        };
        if start < end {
            local >= start && local < end
        } else {
            local >= start || local < end
        }
    }

    /// The next local time after `local` where the day or the night window changes.
    fn next_boundary(self, local: NaiveDateTime) -> NaiveDateTime {
        let mut next = (local.date() + Duration::days(1)).and_time(NaiveTime::MIN);
        for time in [self.start, self.end].into_iter().flatten() {
            let today = local.date().and_time(time);
            let candidate = if today > local {
                today
            } else {
                today + Duration::days(1)
            };
            next = next.min(candidate);
        }
        next
    }
}

/// Prices `pattern` for every date from `from` for `weeks` weeks, each shift under the card
/// version in force on the date it starts, with `team_size` PAs sharing the hours evenly for
/// the per-PA thresholds of National Insurance and pension.
pub fn price(
    pattern: &[PatternShift],
    versions: &[Version],
    rules: &UkRules,
    from: NaiveDate,
    weeks: u32,
    team_size: u32,
) -> Result<Priced, PricingError> {
    let mut lines: BTreeMap<&'static str, Line> = BTreeMap::new();
    let mut week_pay: Vec<Week> = vec![Week::default(); weeks as usize];
    let mut paid_minutes = 0i64;
    let mut nights = 0i64;
    let mut uses: BTreeMap<String, VersionUse> = BTreeMap::new();
    let days = i64::from(weeks) * 7;
    for offset in 0..days {
        let date = from + Duration::days(offset);
        let week = &mut week_pay[(offset / 7) as usize];
        for (index, shift) in pattern
            .iter()
            .enumerate()
            .filter(|(_, s)| s.day.weekday() == date.weekday())
        {
            let version = version_on(versions, date).ok_or(PricingError::NoVersion(date))?;
            let terms = &version.terms;
            let rate = terms
                .level(shift.level)
                .ok_or_else(|| PricingError::LevelNotPriced {
                    level: shift.level,
                    version_id: version.id.clone(),
                    field: format!("pattern[{index}].level"),
                })?;
            let minimum = rules
                .minimum_wage(AgeBand::TwentyOneAndOver, date)
                .ok_or(PricingError::RulesUnknown(date))?;
            if rate.pay_pence < minimum {
                return Err(PricingError::BelowMinimumWage {
                    level: shift.level,
                    pay_pence: rate.pay_pence,
                    minimum_pence: minimum,
                    date,
                });
            }
            uses.entry(version.id.clone())
                .and_modify(|u| u.last_shift_on = date)
                .or_insert(VersionUse {
                    version_id: version.id.clone(),
                    effective_from: version.effective_from,
                    first_shift_on: date,
                    last_shift_on: date,
                });
            let heads = i64::from(shift.headcount);
            let rate = *rate;
            let add = |lines: &mut BTreeMap<&'static str, Line>,
                       element: &'static str,
                       minutes: i64,
                       bp: i64,
                       week: &mut Week| {
                let line = lines.entry(element).or_default();
                line.minutes += minutes * heads;
                line.pay.add(rate.pay_pence, minutes * heads, bp);
                line.charge.add(rate.charge_pence, minutes * heads, bp);
                week.pay.add(rate.pay_pence, minutes * heads, bp);
            };
            if shift.kind == ShiftKind::SleepIn {
                nights += heads;
                let line = lines.entry("sleep_in").or_default();
                line.minutes += heads;
                line.pay.add_pence(terms.sleep_in.pay_pence * heads);
                line.charge.add_pence(terms.sleep_in.charge_pence * heads);
                week.pay.add_pence(terms.sleep_in.pay_pence * heads);
                if shift.woken_minutes > 0 {
                    add(&mut lines, "sleep_in_woken", shift.woken_minutes, BP, week);
                    paid_minutes += shift.woken_minutes * heads;
                }
                continue;
            }
            let (start, end) = shift_instants(date, shift.start, shift.end);
            let shape = Worked {
                kind: shift.kind,
                headcount: shift.headcount,
                short_notice: shift.short_notice,
            };
            split_worked(terms, rules, shape, start, end, |element, minutes, bp| {
                add(&mut lines, element, minutes, bp, week);
                if element == "basic" {
                    paid_minutes += minutes * heads;
                }
            });
        }
    }

    let pay: Vec<PricedLine> = PAY_ELEMENTS
        .iter()
        .filter_map(|element| {
            lines.get(element).map(|l| PricedLine {
                element: (*element).to_owned(),
                quantity: if *element == "sleep_in" {
                    l.minutes as f64
                } else {
                    hours(l.minutes)
                },
                pay_pence: l.pay.pence(),
                charge_pence: l.charge.pence(),
            })
        })
        .filter(|l| !l.pay_pence.is_zero() || !l.charge_pence.is_zero())
        .collect();
    let pay_total: Pence = pay.iter().map(|l| l.pay_pence).sum();
    let provider_charge: Pence = pay.iter().map(|l| l.charge_pence).sum();

    let on_costs = on_costs(
        &week_pay,
        versions,
        rules,
        from,
        team_size.max(1),
        pay_total,
    )?;
    let on_costs_total: Pence = on_costs.iter().map(|c| c.pence).sum();
    let contingency_bp = version_on(versions, from).map_or(0, |v| v.terms.on_costs.contingency_bp);
    let contingency = (pay_total + on_costs_total).share(contingency_bp);
    let total = pay_total + on_costs_total + contingency;
    Ok(Priced {
        paid_hours: hours(paid_minutes),
        sleep_in_nights: nights,
        pay,
        pay_total_pence: pay_total,
        on_costs,
        on_costs_total_pence: on_costs_total,
        contingency_pence: contingency,
        total_pence: total,
        per_week_pence: Pence::from_ratio(i128::from(total), i128::from(weeks.max(1))),
        provider_charge_pence: provider_charge,
        versions_used: uses.into_values().collect(),
    })
}

/// What kind of work a stretch of time was, for the premiums it earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Worked {
    pub kind: ShiftKind,
    pub headcount: u8,
    pub short_notice: bool,
}

/// Splits the time from `start` to `end` into pay elements as the module comment says: calls
/// `add(element, minutes, bp)` for the base (`basic`, 10,000 bp) and each premium, stretch by
/// stretch between the day and night-window boundaries in Europe/London. Minutes are real
/// minutes, so a night across a clock change is 9 or 11 hours. Sleep-ins are not split: they
/// are paid a flat amount and time woken instead.
pub fn split_worked(
    terms: &RateTerms,
    rules: &UkRules,
    shape: Worked,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    mut add: impl FnMut(&'static str, i64, i64),
) {
    let u = &terms.uplifts;
    let night = NightWindow::of(terms);
    let mut at = start;
    while at < end {
        let local = at.with_timezone(&London).naive_local();
        let boundary = london_instant(night.next_boundary(local)).min(end);
        // A boundary in the autumn's repeated hour can land before `at`: step on.
        let boundary = if boundary <= at {
            end.min(at + Duration::minutes(1))
        } else {
            boundary
        };
        let minutes = (boundary - at).num_minutes();
        let local_date = local.date();
        add("basic", minutes, BP);
        let day = if rules.bank_holiday(local_date).is_some() {
            Some(("bank_holiday_uplift", u.bank_holiday_bp))
        } else if local_date.weekday() == Weekday::Sun {
            Some(("sunday_uplift", u.sunday_bp))
        } else if local_date.weekday() == Weekday::Sat {
            Some(("saturday_uplift", u.saturday_bp))
        } else {
            None
        };
        if let Some((element, bp)) = day {
            add(element, minutes, bp);
        }
        if shape.kind == ShiftKind::WakingNight {
            add("waking_night_uplift", minutes, u.waking_night_bp);
        } else if night.contains(local.time()) {
            add("night_uplift", minutes, u.night_bp);
        }
        if shape.headcount == 2 {
            add("two_to_one_uplift", minutes, u.two_to_one_bp);
        }
        if shape.short_notice {
            add("short_notice_uplift", minutes, u.short_notice_bp);
        }
        at = boundary;
    }
}

fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

/// Statutory and organisational on-costs. Holiday pay accrues on all pay; employer National
/// Insurance and pension are worked out week by week, per PA, on pay plus holiday pay, against
/// weekly thresholds (the annual figure / 52), as payroll does for weekly-paid staff.
fn on_costs(
    weeks: &[Week],
    versions: &[Version],
    rules: &UkRules,
    from: NaiveDate,
    team_size: u32,
    pay_total: Pence,
) -> Result<Vec<OnCostLine>, PricingError> {
    let team = i128::from(team_size);
    let (mut holiday, mut ni, mut pension, mut training) =
        (Pence::ZERO, Pence::ZERO, Pence::ZERO, Pence::ZERO);
    let mut holiday_bp_seen = 0;
    let (mut ni_words, mut pension_words) = (String::new(), String::new());
    for (n, week) in weeks.iter().enumerate() {
        let date = from + Duration::days(7 * n as i64);
        let terms = version_on(versions, date)
            .map(|v| v.terms.on_costs)
            .unwrap_or_default();
        let holiday_rule = rules
            .holiday_pay(date)
            .ok_or(PricingError::RulesUnknown(date))?;
        let ni_rule = rules
            .employer_national_insurance(date)
            .ok_or(PricingError::RulesUnknown(date))?;
        let pension_rule = rules
            .pension(date)
            .ok_or(PricingError::RulesUnknown(date))?;
        let pay = week.pay.pence();
        let week_holiday = pay.share(holiday_rule.irregular_hours_accrual_bp);
        holiday += week_holiday;
        holiday_bp_seen = holiday_rule.irregular_hours_accrual_bp;
        training += pay.share(terms.training_bp);
        let earnings = i128::from(pay + week_holiday);
        let ni_threshold = i128::from(ni_rule.secondary_threshold_pence_per_year) * team / 52;
        ni += Pence::from_ratio(
            (earnings - ni_threshold).max(0) * i128::from(ni_rule.rate_bp),
            i128::from(BP),
        );
        ni_words = format!(
            "{}% of each PA's weekly earnings above £{:.2} a week, with {} PAs sharing the hours",
            ni_rule.rate_bp as f64 / 100.0,
            ni_rule.secondary_threshold_pence_per_year.get() as f64 / 5200.0,
            team_size
        );
        let lower = i128::from(pension_rule.qualifying_lower_pence_per_year) * team / 52;
        let upper = i128::from(pension_rule.qualifying_upper_pence_per_year) * team / 52;
        let qualifying = earnings.clamp(lower, upper) - lower;
        pension += Pence::from_ratio(
            qualifying * i128::from(pension_rule.employer_minimum_bp),
            i128::from(BP),
        );
        pension_words = format!(
            "{}% employer minimum on qualifying earnings (£{:.2}–£{:.2} a week per PA)",
            pension_rule.employer_minimum_bp as f64 / 100.0,
            pension_rule.qualifying_lower_pence_per_year.get() as f64 / 5200.0,
            pension_rule.qualifying_upper_pence_per_year.get() as f64 / 5200.0
        );
    }
    let days = weeks.len() as i128 * 7;
    let first = version_on(versions, from)
        .map(|v| v.terms.on_costs)
        .unwrap_or_default();
    let insurance = Pence::from_ratio(
        i128::from(first.employers_liability_pence_per_year) * days,
        365,
    );
    let payroll_fee = Pence::from_ratio(
        i128::from(first.payroll_fee_pence_per_month) * days * 12,
        365,
    );
    let _ = pay_total;
    Ok(vec![
        OnCostLine {
            item: "holiday_pay".into(),
            basis: format!(
                "{}% of pay, accrued for irregular hours",
                holiday_bp_seen as f64 / 100.0
            ),
            pence: holiday,
        },
        OnCostLine {
            item: "employer_national_insurance".into(),
            basis: ni_words,
            pence: ni,
        },
        OnCostLine {
            item: "pension".into(),
            basis: pension_words,
            pence: pension,
        },
        OnCostLine {
            item: "training".into(),
            basis: format!("{}% of pay", first.training_bp as f64 / 100.0),
            pence: training,
        },
        OnCostLine {
            item: "employers_liability_insurance".into(),
            basis: format!(
                "{} a year, for {} days",
                first.employers_liability_pence_per_year, days
            ),
            pence: insurance,
        },
        OnCostLine {
            item: "payroll_fee".into(),
            basis: format!(
                "{} a month, for {} days",
                first.payroll_fee_pence_per_month, days
            ),
            pence: payroll_fee,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::uk;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(text: &str) -> NaiveTime {
        parse_clock(text).unwrap()
    }

    /// A card with easy numbers: level 4 pays £16.00 and charges £24.00 an hour.
    fn terms() -> RateTerms {
        RateTerms {
            levels: vec![
                LevelRate {
                    level: 1,
                    pay_pence: Pence::new(1300),
                    charge_pence: Pence::new(2000),
                },
                LevelRate {
                    level: 4,
                    pay_pence: Pence::new(1600),
                    charge_pence: Pence::new(2400),
                },
            ],
            night_start: "22:00".into(),
            night_end: "07:00".into(),
            uplifts: Uplifts {
                night_bp: 1000,
                saturday_bp: 1000,
                sunday_bp: 2000,
                bank_holiday_bp: 5000,
                waking_night_bp: 1500,
                two_to_one_bp: 500,
                short_notice_bp: 2500,
                short_notice_hours: 0,
                overtime_bp: 0,
            },
            sleep_in: SleepIn {
                pay_pence: Pence::new(9000),
                charge_pence: Pence::new(12000),
            },
            on_costs: OnCosts::default(),
        }
    }

    fn versions(terms: RateTerms) -> Vec<Version> {
        vec![Version {
            id: "v1".into(),
            effective_from: date(2025, 4, 1),
            terms,
        }]
    }

    fn shift(
        day: Day,
        start: &str,
        end: &str,
        kind: ShiftKind,
        headcount: u8,
        level: i32,
    ) -> PatternShift {
        PatternShift {
            day,
            start: time(start),
            end: time(end),
            kind,
            headcount,
            level,
            short_notice: false,
            woken_minutes: 0,
        }
    }

    fn line(p: &Priced, element: &str) -> (f64, i64) {
        p.pay
            .iter()
            .find(|l| l.element == element)
            .map_or((0.0, 0), |l| (l.quantity, l.pay_pence.get()))
    }

    #[test]
    fn a_waking_night_into_a_bank_holiday_monday_at_level_4() {
        // Sunday 2 May 2027 22:00 to Monday 3 May (Early May bank holiday) 08:00, level 4.
        // 2 h on Sunday, 8 h on the bank holiday; all 10 h waking night.
        let pattern = [shift(
            Day::Sunday,
            "22:00",
            "08:00",
            ShiftKind::WakingNight,
            1,
            4,
        )];
        let p = price(&pattern, &versions(terms()), uk(), date(2027, 4, 26), 1, 1).unwrap();
        assert_eq!(line(&p, "basic"), (10.0, 16000)); // 10 h × £16.00
        assert_eq!(line(&p, "sunday_uplift"), (2.0, 640)); // 2 h × £16.00 × 20%
        assert_eq!(line(&p, "bank_holiday_uplift"), (8.0, 6400)); // 8 h × £16.00 × 50%
        assert_eq!(line(&p, "waking_night_uplift"), (10.0, 2400)); // 10 h × £16.00 × 15%
        assert_eq!(line(&p, "night_uplift"), (0.0, 0)); // waking night replaces it
        assert_eq!(p.pay_total_pence, Pence::new(16000 + 640 + 6400 + 2400));
        // Charged at £24.00: 240 + 9.6 + 96 + 36 = £381.60.
        assert_eq!(p.provider_charge_pence, Pence::new(38160));
        assert_eq!(p.paid_hours, 10.0);
    }

    #[test]
    fn two_to_one_support_pays_two_pas_and_the_premium() {
        // Wednesday 09:00–12:00, level 1, two PAs: 6 PA-hours at £13.00, 5% premium on each.
        let pattern = [shift(
            Day::Wednesday,
            "09:00",
            "12:00",
            ShiftKind::Day,
            2,
            1,
        )];
        let p = price(&pattern, &versions(terms()), uk(), date(2026, 6, 1), 1, 2).unwrap();
        assert_eq!(line(&p, "basic"), (6.0, 7800));
        assert_eq!(line(&p, "two_to_one_uplift"), (6.0, 390));
        assert_eq!(p.pay_total_pence, Pence::new(8190));
    }

    #[test]
    fn a_sleep_in_with_two_hours_woken() {
        // Tuesday night sleep-in, level 1: £90.00 flat plus 2 h woken at £13.00.
        let mut sleep = shift(Day::Tuesday, "22:00", "07:00", ShiftKind::SleepIn, 1, 1);
        sleep.woken_minutes = 120;
        let p = price(&[sleep], &versions(terms()), uk(), date(2026, 6, 1), 1, 1).unwrap();
        assert_eq!(line(&p, "sleep_in"), (1.0, 9000));
        assert_eq!(line(&p, "sleep_in_woken"), (2.0, 2600));
        assert_eq!(p.pay_total_pence, Pence::new(11600));
        assert_eq!(p.paid_hours, 2.0);
        assert_eq!(p.sleep_in_nights, 1);
    }

    #[test]
    fn nights_across_the_clock_changes_last_eleven_and_nine_hours() {
        let night = [shift(Day::Saturday, "22:00", "08:00", ShiftKind::Day, 1, 1)];
        // Saturday 24 October 2026: clocks go back on the Sunday morning.
        let autumn = price(&night, &versions(terms()), uk(), date(2026, 10, 19), 1, 1).unwrap();
        assert_eq!(autumn.paid_hours, 11.0);
        // 2 h of Saturday, 9 h of Sunday; night premium 22:00–07:00 local is 10 real hours.
        assert_eq!(line(&autumn, "saturday_uplift").0, 2.0);
        assert_eq!(line(&autumn, "sunday_uplift").0, 9.0);
        assert_eq!(line(&autumn, "night_uplift").0, 10.0);
        // Saturday 28 March 2026: clocks go forward on the Sunday morning.
        let spring = price(&night, &versions(terms()), uk(), date(2026, 3, 23), 1, 1).unwrap();
        assert_eq!(spring.paid_hours, 9.0);
        assert_eq!(line(&spring, "night_uplift").0, 8.0);
    }

    #[test]
    fn times_that_do_not_exist_or_happen_twice_follow_the_stated_rule() {
        // 01:30 on 29 March 2026 does not exist: it becomes 02:30 BST = 01:30 UTC.
        let gap = london_instant(date(2026, 3, 29).and_time(time("01:30")));
        assert_eq!(gap.naive_utc(), date(2026, 3, 29).and_time(time("01:30")));
        // 01:30 on 25 October 2026 happens twice: the first, BST, = 00:30 UTC.
        let twice = london_instant(date(2026, 10, 25).and_time(time("01:30")));
        assert_eq!(
            twice.naive_utc(),
            date(2026, 10, 25).and_time(time("00:30"))
        );
    }

    #[test]
    fn a_new_version_prices_the_shifts_from_its_date() {
        let mut dearer = terms();
        dearer.levels[1].pay_pence = Pence::new(2000);
        let versions = vec![
            Version {
                id: "v1".into(),
                effective_from: date(2025, 4, 1),
                terms: terms(),
            },
            Version {
                id: "v2".into(),
                effective_from: date(2027, 5, 1),
                terms: dearer,
            },
        ];
        // Level 4, 1 h every weekday morning (no premiums), the week of 26 April 2027:
        // Mon–Fri 26–30 April at £16.00, then nothing on the weekend; the week after (3–7 May,
        // 3 May a bank holiday) at £20.00.
        let pattern: Vec<PatternShift> = [
            Day::Monday,
            Day::Tuesday,
            Day::Wednesday,
            Day::Thursday,
            Day::Friday,
        ]
        .into_iter()
        .map(|d| shift(d, "10:00", "11:00", ShiftKind::Day, 1, 4))
        .collect();
        let p = price(&pattern, &versions, uk(), date(2027, 4, 26), 2, 1).unwrap();
        assert_eq!(line(&p, "basic"), (10.0, 5 * 1600 + 5 * 2000));
        assert_eq!(line(&p, "bank_holiday_uplift"), (1.0, 1000));
        let used: Vec<(&str, NaiveDate, NaiveDate)> = p
            .versions_used
            .iter()
            .map(|u| (u.version_id.as_str(), u.first_shift_on, u.last_shift_on))
            .collect();
        assert_eq!(
            used,
            vec![
                ("v1", date(2027, 4, 26), date(2027, 4, 30)),
                ("v2", date(2027, 5, 3), date(2027, 5, 7))
            ]
        );
    }

    #[test]
    fn a_card_below_the_minimum_wage_in_force_is_refused() {
        let mut low = terms();
        low.levels[0].pay_pence = Pence::new(1250); // above £12.21 (2025/26), below £12.71 (2026/27)
        assert_eq!(low.below_minimum_wage(uk(), date(2026, 3, 31)), None);
        assert_eq!(
            low.below_minimum_wage(uk(), date(2026, 4, 1))
                .map(|(l, m)| (l.level, m)),
            Some((1, Pence::new(1271)))
        );
        let pattern = [shift(
            Day::Wednesday,
            "09:00",
            "12:00",
            ShiftKind::Day,
            1,
            1,
        )];
        let outcome = price(&pattern, &versions(low), uk(), date(2026, 3, 30), 1, 1);
        assert_eq!(
            outcome.unwrap_err(),
            PricingError::BelowMinimumWage {
                level: 1,
                pay_pence: Pence::new(1250),
                minimum_pence: Pence::new(1271),
                date: date(2026, 4, 1)
            }
        );
    }

    #[test]
    fn on_costs_follow_the_statutory_rules_in_force() {
        // 40 h a week at £13.00 = £520.00 for one PA, in 2026/27 (from 6 April 2026).
        let pattern: Vec<PatternShift> = [
            Day::Monday,
            Day::Tuesday,
            Day::Wednesday,
            Day::Thursday,
            Day::Friday,
        ]
        .into_iter()
        .map(|d| shift(d, "09:00", "17:00", ShiftKind::Day, 1, 1))
        .collect();
        let mut t = terms();
        t.on_costs = OnCosts {
            training_bp: 200,
            employers_liability_pence_per_year: Pence::new(36500),
            payroll_fee_pence_per_month: Pence::new(0),
            contingency_bp: 500,
        };
        let p = price(&pattern, &versions(t), uk(), date(2026, 6, 1), 1, 1).unwrap();
        let cost = |item: &str| p.on_costs.iter().find(|c| c.item == item).unwrap().pence;
        assert_eq!(p.pay_total_pence, Pence::new(52000));
        assert_eq!(cost("holiday_pay"), Pence::new(6276)); // 12.07% of £520.00
                                                           // NI: 15% of (£582.76 − £96.15) = 15% of £486.61 = £72.99 (threshold £5,000 / 52, exact)
        assert_eq!(cost("employer_national_insurance"), Pence::new(7299));
        // Pension: 3% of (£582.76 − £120.00) = £13.88
        assert_eq!(cost("pension"), Pence::new(1388));
        assert_eq!(cost("training"), Pence::new(1040)); // 2% of £520.00
        assert_eq!(cost("employers_liability_insurance"), Pence::new(700)); // £365 a year for 7 days
        let before_contingency = Pence::new(52000 + 6276 + 7299 + 1388 + 1040 + 700);
        assert_eq!(p.contingency_pence, before_contingency.share(500));
        assert_eq!(p.total_pence, before_contingency + p.contingency_pence);
    }
}

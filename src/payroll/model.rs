//! Gross pay for one PA from one employer in one pay period, from approved timesheets and the
//! rate card in force on each shift's date, and the National Minimum Wage check on it. Pure: no
//! database, no clock.
//!
//! How pay is worked out (stated because payslips depend on it):
//! - Time is split into elements exactly as pricing splits it (`pricing::model::split_worked`):
//!   basic at the card's rate for the person's competency level, plus premiums. Breaks come off
//!   the end of the shift. A sleep-in earns the flat amount a night plus time woken at basic.
//! - Each hourly line is one PA, person, element and rate. Its minutes are summed exactly, shown
//!   as hours to two decimals, and paid as hours × rate rounded once to the penny, half up: what
//!   payroll software importing the line pays.
//! - Overtime: minutes beyond the engagement's contracted minutes in a week (Monday to Sunday,
//!   by the local date a shift starts) earn the card's overtime premium on that shift's rate.
//! - Short notice: a rostered shift given to the PA (the roster's publication, or being put on a
//!   published shift) less than the card's `short_notice_hours` before its rostered start earns
//!   the card's short-notice premium; a shift given after it started counts too. Unrostered
//!   work and assignments made before parota recorded when have no notice and no premium.
//! - Travel between two people's homes is the gap between the shifts, capped by the estimated
//!   journey (`geo::travel_minutes`); a gap of three hours or more is not travel. It is working
//!   time for the minimum wage whether or not the employer pays it.
//! - Mileage at HMRC's approved rates in force on the date, the higher rate until the employer
//!   has paid the threshold's miles in the tax year. Expenses at face value.
//! - Holiday for irregular-hours workers (`rolled_up`) accrues at the rules' rate (12.07%) on
//!   the pay for work, on its own line; `taken` holiday is paid by adjustment instead.
//!
//! The minimum wage check divides the pay that counts (basic, sleep-in allowance, time woken,
//! travel and any top-up: premiums, holiday pay, mileage and expenses do not count) by the
//! minutes that count (time worked, woken and travelling; not sleep-in time asleep), against the
//! rate for the PA's age band in force at the start of the pay reference period.

use crate::money::Pence;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::geo::{travel_minutes, Location};
use crate::money::round_div;
pub use crate::pricing::model::ShiftKind;
use crate::pricing::model::{split_worked, RateTerms, Version, Worked};
use crate::rules::{AgeBand, UkRules};

/// Hundredths of a unit, and rates in pence × 10,000: `amount = quantity × rate / 1,000,000`.
pub const RATE_SCALE: i64 = 10_000;
const AMOUNT_DIVISOR: i128 = 100 * RATE_SCALE as i128;
/// A gap between shifts this long or longer is time off, not travel.
const TRAVEL_GAP_LIMIT_MINUTES: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Hours,
    Nights,
    Miles,
    /// One amount.
    Item,
}

/// One pay element: its code, words, unit, the Sage 50 payment number it imports as, and
/// whether it counts as pay for the minimum wage.
#[derive(Debug, Clone, Copy)]
pub struct Element {
    pub code: &'static str,
    pub title: &'static str,
    pub unit: Unit,
    pub sage_payment: u32,
    pub minimum_wage_pay: bool,
}

const fn element(
    code: &'static str,
    title: &'static str,
    unit: Unit,
    sage_payment: u32,
    minimum_wage_pay: bool,
) -> Element {
    Element {
        code,
        title,
        unit,
        sage_payment,
        minimum_wage_pay,
    }
}

/// Every element, in the order lines are written.
pub const ELEMENTS: [Element; 19] = [
    element("basic", "Basic hours", Unit::Hours, 1, true),
    element("night_uplift", "Night premium", Unit::Hours, 2, false),
    element("saturday_uplift", "Saturday premium", Unit::Hours, 3, false),
    element("sunday_uplift", "Sunday premium", Unit::Hours, 4, false),
    element(
        "bank_holiday_uplift",
        "Bank holiday premium",
        Unit::Hours,
        5,
        false,
    ),
    element(
        "waking_night_uplift",
        "Waking night premium",
        Unit::Hours,
        6,
        false,
    ),
    element("two_to_one_uplift", "2:1 premium", Unit::Hours, 7, false),
    element(
        "short_notice_uplift",
        "Short notice premium",
        Unit::Hours,
        8,
        false,
    ),
    element("overtime_uplift", "Overtime premium", Unit::Hours, 9, false),
    element("sleep_in", "Sleep-in nights", Unit::Nights, 10, true),
    element(
        "sleep_in_woken",
        "Sleep-in time woken",
        Unit::Hours,
        11,
        true,
    ),
    element(
        "travel_time",
        "Travel between people",
        Unit::Hours,
        12,
        true,
    ),
    element("mileage", "Business mileage", Unit::Miles, 13, false),
    element("expenses", "Expenses", Unit::Item, 14, false),
    element("holiday_pay", "Holiday pay", Unit::Item, 15, false),
    element("holiday_taken", "Holiday taken", Unit::Item, 16, false),
    element("correction", "Correction", Unit::Item, 17, false),
    element(
        "amendment",
        "Amended shift from an earlier period",
        Unit::Item,
        18,
        false,
    ),
    element(
        "minimum_wage_top_up",
        "Minimum wage top-up",
        Unit::Item,
        19,
        true,
    ),
];

pub fn element_of(code: &str) -> Option<&'static Element> {
    ELEMENTS.iter().find(|e| e.code == code)
}

fn order_of(code: &str) -> usize {
    ELEMENTS
        .iter()
        .position(|e| e.code == code)
        .unwrap_or(ELEMENTS.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayBasis {
    /// Irregular hours: holiday pay accrues on pay for work (12.07%) and is paid each period.
    RolledUp,
    /// Holiday is paid when taken, by adjustment.
    Taken,
}

impl HolidayBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RolledUp => "rolled_up",
            Self::Taken => "taken",
        }
    }

    /// The basis a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, text: &str) -> crate::error::AppResult<Self> {
        crate::db::json::enum_from_text(column, text)
    }
}

/// One approved shift record as payroll sees it.
#[derive(Debug, Clone)]
pub struct Shift {
    pub record_id: String,
    pub timesheet_id: String,
    pub budget_holder_id: String,
    pub home: Option<Location>,
    pub clock_in: DateTime<Utc>,
    pub clock_out: DateTime<Utc>,
    pub break_minutes: i64,
    pub kind: ShiftKind,
    pub headcount: u8,
    /// Minutes between the PA being given the shift and its rostered start; none when not
    /// rostered or given before parota recorded it. Short notice is the card's to decide.
    pub notice_minutes: Option<i64>,
    pub level: i32,
    pub woken_minutes: i64,
    pub mileage_tenths: i64,
    pub expenses_pence: Pence,
}

impl Shift {
    /// The local date the shift starts: the date its rate card and week are taken from.
    pub fn local_date(&self) -> NaiveDate {
        self.clock_in.with_timezone(&London).date_naive()
    }
}

/// An amount paid as it is: an adjustment, a top-up.
#[derive(Debug, Clone)]
pub struct Extra {
    pub budget_holder_id: String,
    pub element: &'static str,
    pub description: String,
    pub amount_pence: Pence,
    pub source: String,
}

pub struct PayInput<'a> {
    pub period_start: NaiveDate,
    pub date_of_birth: NaiveDate,
    pub contracted_minutes_per_week: Option<i64>,
    pub holiday_basis: HolidayBasis,
    pub pays_travel_time: bool,
    pub versions: &'a [Version],
    pub rules: &'a UkRules,
    /// Tenths of a mile this employer already paid the PA for in the tax year.
    pub miles_before_tenths: i64,
    pub shifts: &'a [Shift],
    pub extras: &'a [Extra],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayLine {
    pub budget_holder_id: String,
    pub element: &'static str,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_rate_e4: i64,
    pub amount_pence: Pence,
    /// Timesheet (or amendment, adjustment) ids the line is paid from.
    pub sources: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct MinimumWageCheck {
    pub age_band: AgeBand,
    pub hourly_rate_pence: Pence,
    pub counted_minutes: i64,
    pub counted_pay_pence: Pence,
    /// Pay needed to meet the rate: the minutes at the hourly rate, rounded up to the penny.
    pub required_pence: Pence,
    /// What is missing; zero when the PA is paid at least the minimum.
    pub shortfall_pence: Pence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payslip {
    pub lines: Vec<PayLine>,
    pub gross_pence: Pence,
    pub minimum_wage: MinimumWageCheck,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayError {
    /// No version of the employer's rate card is in force on this date.
    NoVersion(NaiveDate),
    /// The card version in force does not price the person's level.
    LevelNotPriced { level: i32, date: NaiveDate },
    /// A date the statutory data does not cover.
    RulesUnknown(NaiveDate),
}

fn version_on(versions: &[Version], date: NaiveDate) -> Option<&Version> {
    versions
        .iter()
        .filter(|v| v.effective_from <= date)
        .max_by_key(|v| v.effective_from)
}

/// Whole years of age on `date`.
pub fn age_on(date_of_birth: NaiveDate, date: NaiveDate) -> u32 {
    let mut years = date.year() - date_of_birth.year();
    if (date.month(), date.day()) < (date_of_birth.month(), date_of_birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Lines keyed by person, element and rate, borrowing from the shifts (a close pays 100,000
/// of them: no allocation per stretch of time).
type Key<'a> = (&'a str, &'static str, i64);

#[derive(Default)]
struct Lines<'a> {
    /// Minutes and sources of hourly lines.
    hourly: BTreeMap<Key<'a>, (i64, BTreeSet<&'a str>)>,
    /// Hundredths of a unit (nights, miles) and sources.
    counted: BTreeMap<Key<'a>, (i64, BTreeSet<&'a str>)>,
}

impl<'a> Lines<'a> {
    fn minutes(
        &mut self,
        holder: &'a str,
        element: &'static str,
        rate_e4: i64,
        minutes: i64,
        source: &'a str,
    ) {
        if minutes == 0 || rate_e4 == 0 {
            return;
        }
        let entry = self.hourly.entry((holder, element, rate_e4)).or_default();
        entry.0 += minutes;
        entry.1.insert(source);
    }

    fn units(
        &mut self,
        holder: &'a str,
        element: &'static str,
        rate_e4: i64,
        hundredths: i64,
        source: &'a str,
    ) {
        if hundredths == 0 {
            return;
        }
        let entry = self.counted.entry((holder, element, rate_e4)).or_default();
        entry.0 += hundredths;
        entry.1.insert(source);
    }
}

fn owned(sources: BTreeSet<&str>) -> BTreeSet<String> {
    sources.into_iter().map(str::to_owned).collect()
}

/// What a quantity (hundredths) at a rate (pence × 10,000) pays: rounded once, half up.
pub fn amount(quantity_hundredths: i64, unit_rate_e4: i64) -> Pence {
    Pence::from_ratio(
        i128::from(quantity_hundredths) * i128::from(unit_rate_e4),
        AMOUNT_DIVISOR,
    )
}

fn item(
    holder: &str,
    element: &'static str,
    description: String,
    pence: Pence,
    sources: BTreeSet<String>,
) -> PayLine {
    PayLine {
        budget_holder_id: holder.to_owned(),
        element,
        description,
        quantity_hundredths: 100,
        unit_rate_e4: pence.get() * RATE_SCALE,
        amount_pence: pence,
        sources,
    }
}

/// The rate card terms and base rate (pence an hour) for a shift.
fn terms_for<'a>(
    versions: &'a [Version],
    shift: &Shift,
) -> Result<(&'a RateTerms, Pence), PayError> {
    let date = shift.local_date();
    let version = version_on(versions, date).ok_or(PayError::NoVersion(date))?;
    let rate = version
        .terms
        .level(shift.level)
        .ok_or(PayError::LevelNotPriced {
            level: shift.level,
            date,
        })?;
    Ok((&version.terms, rate.pay_pence))
}

/// Works out one PA's payslip for one employer and period. See the module comment.
pub fn pay(input: &PayInput<'_>) -> Result<Payslip, PayError> {
    let rules = input.rules;
    let mut shifts: Vec<&Shift> = input.shifts.iter().collect();
    shifts.sort_by(|a, b| (a.clock_in, &a.record_id).cmp(&(b.clock_in, &b.record_id)));

    let mut lines = Lines::default();
    let mut counted_minutes = 0i64;
    let mut week_minutes: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut miles_so_far = input.miles_before_tenths;
    let mut expenses: BTreeMap<&str, (Pence, BTreeSet<&str>)> = BTreeMap::new();
    let mut previous: Option<&Shift> = None;

    for shift in &shifts {
        let (terms, base) = terms_for(input.versions, shift)?;
        let base_e4 = base.get() * RATE_SCALE;
        let holder = shift.budget_holder_id.as_str();
        let source = shift.timesheet_id.as_str();
        let date = shift.local_date();

        // Travel from the previous person's home, counted whether or not it is paid.
        if let Some(before) = previous {
            let gap = (shift.clock_in - before.clock_out).num_minutes();
            if before.budget_holder_id != shift.budget_holder_id
                && gap > 0
                && gap < TRAVEL_GAP_LIMIT_MINUTES
            {
                if let (Some(from), Some(to)) = (before.home, shift.home) {
                    let travel = gap.min(travel_minutes(from, to));
                    counted_minutes += travel;
                    if input.pays_travel_time {
                        lines.minutes(holder, "travel_time", base_e4, travel, source);
                    }
                }
            }
        }
        previous = Some(shift);

        let worked = if shift.kind == ShiftKind::SleepIn {
            lines.units(
                holder,
                "sleep_in",
                terms.sleep_in.pay_pence.get() * RATE_SCALE,
                100,
                source,
            );
            lines.minutes(
                holder,
                "sleep_in_woken",
                base_e4,
                shift.woken_minutes,
                source,
            );
            shift.woken_minutes
        } else {
            let end = shift.clock_out - Duration::minutes(shift.break_minutes);
            let shape = Worked {
                kind: shift.kind,
                headcount: shift.headcount,
                short_notice: terms.uplifts.is_short_notice(shift.notice_minutes),
            };
            let mut worked = 0;
            split_worked(
                terms,
                rules,
                shape,
                shift.clock_in,
                end,
                |element, minutes, bp| {
                    if element == "basic" {
                        worked += minutes;
                    }
                    lines.minutes(holder, element, base.get() * bp, minutes, source);
                },
            );
            worked
        };
        counted_minutes += worked;

        if let (Some(contracted), true) = (input.contracted_minutes_per_week, worked > 0) {
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            let so_far = week_minutes.entry(monday).or_default();
            let over_before = (*so_far - contracted).max(0);
            *so_far += worked;
            let over = (*so_far - contracted).max(0) - over_before;
            lines.minutes(
                holder,
                "overtime_uplift",
                base.get() * terms.uplifts.overtime_bp,
                over,
                source,
            );
        }

        if shift.mileage_tenths > 0 {
            let rates = rules.mileage(date).ok_or(PayError::RulesUnknown(date))?;
            let threshold = rates.first_miles * 10;
            let at_first = (threshold - miles_so_far).clamp(0, shift.mileage_tenths);
            let at_after = shift.mileage_tenths - at_first;
            lines.units(
                holder,
                "mileage",
                rates.first_pence_per_mile.get() * RATE_SCALE,
                at_first * 10,
                source,
            );
            lines.units(
                holder,
                "mileage",
                rates.after_pence_per_mile.get() * RATE_SCALE,
                at_after * 10,
                source,
            );
            miles_so_far += shift.mileage_tenths;
        }
        if !shift.expenses_pence.is_zero() {
            let entry = expenses.entry(holder).or_default();
            entry.0 += shift.expenses_pence;
            entry.1.insert(source);
        }
    }

    let mut out: Vec<PayLine> = Vec::new();
    for ((holder, element, rate), (minutes, sources)) in lines.hourly {
        let quantity = round_div(i128::from(minutes) * 100, 60);
        out.push(PayLine {
            budget_holder_id: holder.to_owned(),
            element,
            description: element_of(element).map_or(element, |e| e.title).to_owned(),
            quantity_hundredths: quantity,
            unit_rate_e4: rate,
            amount_pence: amount(quantity, rate),
            sources: owned(sources),
        });
    }
    for ((holder, element, rate), (hundredths, sources)) in lines.counted {
        out.push(PayLine {
            budget_holder_id: holder.to_owned(),
            element,
            description: element_of(element).map_or(element, |e| e.title).to_owned(),
            quantity_hundredths: hundredths,
            unit_rate_e4: rate,
            amount_pence: amount(hundredths, rate),
            sources: owned(sources),
        });
    }
    for (holder, (pence, sources)) in expenses {
        out.push(item(
            holder,
            "expenses",
            "Expenses".into(),
            pence,
            owned(sources),
        ));
    }
    if input.holiday_basis == HolidayBasis::RolledUp {
        let holiday = rules
            .holiday_pay(input.period_start)
            .ok_or(PayError::RulesUnknown(input.period_start))?;
        let mut work_pay: BTreeMap<String, (Pence, BTreeSet<String>)> = BTreeMap::new();
        for line in out.iter().filter(|l| is_work(l.element)) {
            let entry = work_pay.entry(line.budget_holder_id.clone()).or_default();
            entry.0 += line.amount_pence;
            entry.1.extend(line.sources.iter().cloned());
        }
        for (holder, (pence, sources)) in work_pay {
            let accrued = pence.share(holiday.irregular_hours_accrual_bp);
            let words = format!(
                "Holiday pay at {}% of pay for work",
                percent(holiday.irregular_hours_accrual_bp)
            );
            if !accrued.is_zero() {
                out.push(item(&holder, "holiday_pay", words, accrued, sources));
            }
        }
    }
    for extra in input.extras {
        out.push(item(
            &extra.budget_holder_id,
            extra.element,
            extra.description.clone(),
            extra.amount_pence,
            BTreeSet::from([extra.source.clone()]),
        ));
    }
    out.sort_by(|a, b| {
        (
            &a.budget_holder_id,
            order_of(a.element),
            a.unit_rate_e4,
            &a.description,
        )
            .cmp(&(
                &b.budget_holder_id,
                order_of(b.element),
                b.unit_rate_e4,
                &b.description,
            ))
    });

    let gross = out.iter().map(|l| l.amount_pence).sum();
    let minimum_wage = minimum_wage_check(input, &out, counted_minutes)?;
    Ok(Payslip {
        lines: out,
        gross_pence: gross,
        minimum_wage,
    })
}

/// Pay for time worked: what holiday pay accrues on.
fn is_work(element: &str) -> bool {
    matches!(element_of(element), Some(e) if e.unit == Unit::Hours || e.unit == Unit::Nights)
}

fn percent(bp: i64) -> String {
    let text = format!("{}.{:02}", bp / 100, bp % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn minimum_wage_check(
    input: &PayInput<'_>,
    lines: &[PayLine],
    counted_minutes: i64,
) -> Result<MinimumWageCheck, PayError> {
    let start = input.period_start;
    let band = AgeBand::of_age(age_on(input.date_of_birth, start));
    let rate = input
        .rules
        .minimum_wage(band, start)
        .ok_or(PayError::RulesUnknown(start))?;
    let pay: Pence = lines
        .iter()
        .filter(|l| element_of(l.element).is_some_and(|e| e.minimum_wage_pay))
        .map(|l| l.amount_pence)
        .sum();
    // Rounded up: a penny short is short.
    let required = (i128::from(rate) * i128::from(counted_minutes) + 59) / 60;
    let required = Pence::new(i64::try_from(required).unwrap_or(i64::MAX));
    Ok(MinimumWageCheck {
        age_band: band,
        hourly_rate_pence: rate,
        counted_minutes,
        counted_pay_pence: pay,
        required_pence: required,
        shortfall_pence: (required - pay).max(Pence::ZERO),
    })
}

crate::db::stored_enum! {
    /// A payroll export: blocked while a minimum wage failure awaits review, then ready for the
    /// payroll client, then acknowledged by it.
    pub enum ExportStatus {
        Blocked = "blocked",
        Ready = "ready",
        Acknowledged = "acknowledged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::model::{LevelRate, OnCosts, SleepIn, Uplifts};
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Local Europe/London wall-clock time as an instant.
    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Level 2 pays £13.00 an hour; nights 22:00–07:00 +10%, Saturday +10%, Sunday +20%, bank
    /// holiday +50%, waking night +15%, 2:1 +5%, overtime +50%; a sleep-in £95.
    fn card() -> Vec<Version> {
        vec![Version {
            id: "v1".into(),
            effective_from: date(2026, 4, 1),
            terms: RateTerms {
                levels: vec![LevelRate {
                    level: 2,
                    pay_pence: Pence::new(1300),
                    charge_pence: Pence::new(2000),
                }],
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
                    short_notice_hours: 48,
                    overtime_bp: 5000,
                },
                sleep_in: SleepIn {
                    pay_pence: Pence::new(9500),
                    charge_pence: Pence::new(12000),
                },
                on_costs: OnCosts::default(),
            },
        }]
    }

    fn shift(holder: &str, start: DateTime<Utc>, end: DateTime<Utc>, kind: ShiftKind) -> Shift {
        Shift {
            record_id: format!("r-{start}"),
            timesheet_id: format!("t-{holder}"),
            budget_holder_id: holder.into(),
            home: Some(Location {
                latitude: 53.8,
                longitude: -2.2,
            }),
            clock_in: start,
            clock_out: end,
            break_minutes: 0,
            kind,
            headcount: 1,
            notice_minutes: None,
            level: 2,
            woken_minutes: 0,
            mileage_tenths: 0,
            expenses_pence: Pence::new(0),
        }
    }

    fn slip(shifts: &[Shift], dob: NaiveDate, travel_paid: bool, miles_before: i64) -> Payslip {
        let versions = card();
        pay(&PayInput {
            period_start: date(2026, 11, 2),
            date_of_birth: dob,
            contracted_minutes_per_week: None,
            holiday_basis: HolidayBasis::RolledUp,
            pays_travel_time: travel_paid,
            versions: &versions,
            rules: crate::rules::uk(),
            miles_before_tenths: miles_before,
            shifts,
            extras: &[],
        })
        .unwrap()
    }

    /// (element, hours or units as shown, amount) for each line.
    fn lines(slip: &Payslip) -> Vec<(&'static str, i64, i64)> {
        slip.lines
            .iter()
            .map(|l| (l.element, l.quantity_hundredths, l.amount_pence.get()))
            .collect()
    }

    fn adult() -> NaiveDate {
        date(1990, 1, 1)
    }

    #[test]
    fn a_shift_given_inside_the_cards_notice_window_earns_the_short_notice_premium() {
        // Tuesday 3 November 2026 09:00–12:00 at £13.00; the card's window is 48 hours and its
        // premium 25%: £3.25 an hour for 3 hours = £9.75, only when given under 48 hours ahead.
        let mut given_late = shift(
            "ann",
            local(2026, 11, 3, 9, 0),
            local(2026, 11, 3, 12, 0),
            ShiftKind::Day,
        );
        given_late.notice_minutes = Some(47 * 60 + 59);
        let premium = |s: &Payslip| {
            s.lines
                .iter()
                .find(|l| l.element == "short_notice_uplift")
                .map(|l| (l.quantity_hundredths, l.amount_pence.get()))
        };
        assert_eq!(
            premium(&slip(&[given_late.clone()], adult(), true, 0)),
            Some((300, 975))
        );
        let mut given_in_time = given_late.clone();
        given_in_time.notice_minutes = Some(48 * 60);
        assert_eq!(premium(&slip(&[given_in_time], adult(), true, 0)), None);
        let mut not_rostered = given_late;
        not_rostered.notice_minutes = None;
        assert_eq!(premium(&slip(&[not_rostered], adult(), true, 0)), None);
    }

    #[test]
    fn a_bank_holiday_night_is_basic_night_and_bank_holiday_premium_with_holiday_pay() {
        // Christmas Eve 20:00 to Christmas Day 08:00: 12 h basic at £13.00 = £156.00; night
        // 22:00–07:00 = 9 h at £1.30 = £11.70; Christmas Day 00:00–08:00 = 8 h at £6.50 =
        // £52.00; holiday 12.07% of £219.70 = £26.52 (26.5179). Gross £246.22.
        let night = shift(
            "ann",
            local(2026, 12, 24, 20, 0),
            local(2026, 12, 25, 8, 0),
            ShiftKind::Day,
        );
        let slip = slip(&[night], adult(), true, 0);
        assert_eq!(
            lines(&slip),
            vec![
                ("basic", 1200, 15600),
                ("night_uplift", 900, 1170),
                ("bank_holiday_uplift", 800, 5200),
                ("holiday_pay", 100, 2652),
            ]
        );
        assert_eq!(slip.gross_pence, Pence::new(24622));
        assert_eq!(slip.minimum_wage.shortfall_pence, Pence::new(0));
    }

    #[test]
    fn a_sleep_in_pays_the_flat_amount_and_the_hour_woken() {
        // £95.00 a night + 1 h woken at £13.00; holiday 12.07% of £108.00 = £13.04 (13.0356).
        let mut night = shift(
            "ann",
            local(2026, 11, 3, 22, 0),
            local(2026, 11, 4, 7, 0),
            ShiftKind::SleepIn,
        );
        night.woken_minutes = 60;
        let slip = slip(&[night], adult(), true, 0);
        assert_eq!(
            lines(&slip),
            vec![
                ("sleep_in", 100, 9500),
                ("sleep_in_woken", 100, 1300),
                ("holiday_pay", 100, 1304),
            ]
        );
        // Only the hour woken counts as working time for the minimum wage.
        assert_eq!(slip.minimum_wage.counted_minutes, 60);
        assert_eq!(slip.minimum_wage.counted_pay_pence, Pence::new(10800));
    }

    #[test]
    fn a_waking_night_across_the_autumn_clock_change_pays_eleven_hours() {
        // Saturday 24 October 22:00 BST to Sunday 08:00 GMT is 11 real hours: 11 h basic =
        // £143.00; Saturday 2 h at £1.30 = £2.60; Sunday 9 h at £2.60 = £23.40; waking night
        // 11 h at £1.95 = £21.45; holiday 12.07% of £190.45 = £22.99 (22.9873).
        let night = shift(
            "ann",
            local(2026, 10, 24, 22, 0),
            local(2026, 10, 25, 8, 0),
            ShiftKind::WakingNight,
        );
        let slip = slip(&[night], adult(), true, 0);
        assert_eq!(
            lines(&slip),
            vec![
                ("basic", 1100, 14300),
                ("saturday_uplift", 200, 260),
                ("sunday_uplift", 900, 2340),
                ("waking_night_uplift", 1100, 2145),
                ("holiday_pay", 100, 2299),
            ]
        );
        assert_eq!(slip.gross_pence, Pence::new(21344));
    }

    #[test]
    fn mileage_across_the_ten_thousand_mile_line_splits_between_the_rates() {
        // 9,990 miles already paid this tax year; 25 more: 10 at 45p = £4.50, 15 at 25p = £3.75.
        let mut visit = shift(
            "ann",
            local(2026, 11, 4, 9, 0),
            local(2026, 11, 4, 10, 0),
            ShiftKind::Day,
        );
        visit.mileage_tenths = 250;
        let slip = slip(&[visit], adult(), true, 99_900);
        let mileage: Vec<_> = slip
            .lines
            .iter()
            .filter(|l| l.element == "mileage")
            .map(|l| (l.quantity_hundredths, l.unit_rate_e4, l.amount_pence.get()))
            .collect();
        assert_eq!(mileage, vec![(1500, 250_000, 375), (1000, 450_000, 450)]);
        // Mileage is not pay for work: no holiday pay on it.
        let holiday = slip
            .lines
            .iter()
            .find(|l| l.element == "holiday_pay")
            .unwrap();
        assert_eq!(holiday.amount_pence, Pence::new(157)); // 12.07% of £13.00 = 156.91p
    }

    #[test]
    fn unpaid_travel_takes_an_eighteen_year_old_below_the_minimum_wage() {
        // Two one-hour visits 50 km apart with 2.5 h between: travel is the 110-minute estimate
        // (100 min driving + 10), unpaid. 230 minutes count; pay £26.00; the 18–20 rate from
        // April 2026 is £10.85, so £41.59 (4159.17p, rounded up to 4160p) is due: £15.60 short.
        let first = shift(
            "ann",
            local(2026, 11, 4, 9, 0),
            local(2026, 11, 4, 10, 0),
            ShiftKind::Day,
        );
        let mut second = shift(
            "bob",
            local(2026, 11, 4, 12, 30),
            local(2026, 11, 4, 13, 30),
            ShiftKind::Day,
        );
        second.home = Some(Location {
            latitude: 53.8 + 0.45,
            longitude: -2.2,
        });
        let slip = slip(&[first.clone(), second.clone()], date(2008, 6, 1), false, 0);
        let check = slip.minimum_wage;
        assert_eq!(check.age_band, AgeBand::EighteenToTwenty);
        assert_eq!(check.hourly_rate_pence, Pence::new(1085));
        assert_eq!(check.counted_minutes, 230);
        assert_eq!(check.counted_pay_pence, Pence::new(2600));
        assert_eq!(check.required_pence, Pence::new(4160));
        assert_eq!(check.shortfall_pence, Pence::new(1560));
        // Paying the travel at basic (1.83 h × £13.00 = £23.79) clears it.
        let paid = slip_for_paid_travel(&[first, second]);
        assert_eq!(paid.minimum_wage.shortfall_pence, Pence::new(0));
    }

    fn slip_for_paid_travel(shifts: &[Shift]) -> Payslip {
        slip(shifts, date(2008, 6, 1), true, 0)
    }

    #[test]
    fn hours_beyond_the_contract_in_a_week_earn_the_overtime_premium() {
        let versions = card();
        let days: Vec<Shift> = (2..=4)
            .map(|d| {
                shift(
                    "ann",
                    local(2026, 11, d, 9, 0),
                    local(2026, 11, d, 19, 0),
                    ShiftKind::Day,
                )
            })
            .collect();
        let slip = pay(&PayInput {
            period_start: date(2026, 11, 2),
            date_of_birth: adult(),
            contracted_minutes_per_week: Some(25 * 60),
            holiday_basis: HolidayBasis::Taken,
            pays_travel_time: true,
            versions: &versions,
            rules: crate::rules::uk(),
            miles_before_tenths: 0,
            shifts: &days,
            extras: &[],
        })
        .unwrap();
        // 30 h worked, 25 contracted: 5 h at £6.50 = £32.50; no holiday accrual when taken.
        assert_eq!(
            lines(&slip),
            vec![("basic", 3000, 39000), ("overtime_uplift", 500, 3250)]
        );
    }

    #[test]
    fn breaks_come_off_and_hours_show_to_two_decimals() {
        let mut visit = shift(
            "ann",
            local(2026, 11, 4, 9, 0),
            local(2026, 11, 4, 16, 40),
            ShiftKind::Day,
        );
        visit.break_minutes = 30;
        let slip = slip(&[visit], adult(), true, 0);
        // 7 h 10 min = 7.17 h × £13.00 = £93.21.
        assert_eq!(lines(&slip)[0], ("basic", 717, 9321));
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on(date(2008, 6, 1), date(2026, 5, 31)), 17);
        assert_eq!(age_on(date(2008, 6, 1), date(2026, 6, 1)), 18);
    }
}

//! Timesheet rules as plain values: pay periods, what a clock event's time is taken to be, how
//! far from home it was, what a shift record counts and costs, and the exceptions an approver
//! works through. No database, no clock.

use crate::money::Pence;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::geo::{distance_km, Location};
use crate::rules::Mileage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayFrequency {
    Weekly,
    Fortnightly,
    FourWeekly,
    /// Calendar months.
    Monthly,
}

impl PayFrequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Fortnightly => "fortnightly",
            Self::FourWeekly => "four_weekly",
            Self::Monthly => "monthly",
        }
    }

    /// The frequency a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, raw: &str) -> crate::error::AppResult<Self> {
        crate::db::json::enum_from_text(column, raw)
    }

    /// The first and last dates of the period holding `date`; weekly kinds count whole periods
    /// from `anchor` (a date on which a period starts), backwards as well as forwards.
    pub fn period_of(self, anchor: NaiveDate, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let days = match self {
            Self::Weekly => 7,
            Self::Fortnightly => 14,
            Self::FourWeekly => 28,
            Self::Monthly => {
                let first = date.with_day(1).unwrap_or(date);
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                };
                return (first, next.map_or(date, |n| n - Duration::days(1)));
            }
        };
        let offset = (date - anchor).num_days().rem_euclid(days);
        let start = date - Duration::days(offset);
        (start, start + Duration::days(days - 1))
    }
}

/// When a payroll runs: how long each pay period is, where the periods fall, and when their pay
/// is paid. The organisation has one (its timesheet policy); an employer may pay on its own.
/// A pay period is the pay reference period the minimum wage is checked over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayCalendar {
    pub frequency: PayFrequency,
    /// A date on which a period starts (weekly, fortnightly and four-weekly calendars; monthly
    /// periods are calendar months).
    pub anchor: NaiveDate,
    /// Days after a period's last day that its pay is paid (0 to 31); a pay date on a weekend
    /// or an England and Wales bank holiday moves to the working day before.
    #[schema(minimum = 0, maximum = 31)]
    pub pay_days_after_end: i32,
}

/// Longest a pay date may trail its period.
pub const MAX_PAY_DAYS_AFTER_END: i32 = 31;

impl PayCalendar {
    /// What is wrong with it as a request's `prefix` field.
    pub fn check(&self, prefix: &str) -> Vec<crate::error::FieldError> {
        let mut errors = Vec::new();
        if !(0..=MAX_PAY_DAYS_AFTER_END).contains(&self.pay_days_after_end) {
            errors.push(crate::error::FieldError::new(
                format!("{prefix}.pay_days_after_end"),
                "range",
                format!("must be 0 to {MAX_PAY_DAYS_AFTER_END}"),
            ));
        }
        errors
    }

    /// The first and last dates of the period holding `date`.
    pub fn period_of(&self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        self.frequency.period_of(self.anchor, date)
    }

    /// Whether a period of this calendar starts on `date`.
    pub fn starts_a_period(&self, date: NaiveDate) -> bool {
        self.period_of(date).0 == date
    }

    /// Whether the two calendars cut time into the same periods (pay dates aside).
    pub fn same_periods(&self, other: &Self) -> bool {
        self.frequency == other.frequency
            && (self.frequency == PayFrequency::Monthly || self.starts_a_period(other.anchor))
    }

    /// When the pay for the period ending `ends_on` is paid: `pay_days_after_end` later, moved
    /// back past weekends and bank holidays (`is_bank_holiday`).
    pub fn pay_date(
        &self,
        ends_on: NaiveDate,
        is_bank_holiday: impl Fn(NaiveDate) -> bool,
    ) -> NaiveDate {
        let mut day = ends_on + Duration::days(i64::from(self.pay_days_after_end));
        // Bounded: there are never more than four non-working days in a row.
        for _ in 0..10 {
            let weekend = matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            if !weekend && !is_bank_holiday(day) {
                break;
            }
            day -= Duration::days(1);
        }
        day
    }

    /// Why `self` cannot replace `current` as a payroll's calendar, as (field, reason): periods
    /// already closed end on `last_closed_ends`, so the new calendar must start a period the day
    /// after; and an open period holding work (`open_with_work`) would be cut in two. `None`
    /// when the change may be made.
    pub fn change_problem(
        &self,
        current: &Self,
        last_closed_ends: Option<NaiveDate>,
        open_with_work: Option<(NaiveDate, NaiveDate)>,
    ) -> Option<(&'static str, String)> {
        if self.same_periods(current) {
            return None;
        }
        if let Some((starts_on, ends_on)) = open_with_work {
            return Some((
                "frequency",
                format!(
                    "the pay period {starts_on} to {ends_on} is open with work in it: close it \
                     before changing the calendar"
                ),
            ));
        }
        match last_closed_ends {
            Some(ends) if !self.starts_a_period(ends + Duration::days(1)) => Some((
                "anchor",
                format!(
                    "the last closed period ended on {ends}, so a period must start on {}",
                    ends + Duration::days(1)
                ),
            )),
            _ => None,
        }
    }
}

pub use crate::auth::policy::Approver;

/// An organisation's timesheet settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub pay_frequency: PayFrequency,
    /// A date on which a pay period starts (weekly, fortnightly and four-weekly periods).
    pub period_anchor: NaiveDate,
    pub approver: Approver,
    /// Clock events further than this from the person's home are flagged. Homes are located by
    /// postcode sector centroid, so keep it generous.
    pub radius_m: i32,
    pub late_minutes: i32,
    pub left_early_minutes: i32,
    pub overrun_minutes: i32,
    pub short_minutes: i32,
    /// How long after a shift's end a missing clock-out (or a missed shift) is chased.
    pub clock_out_grace_minutes: i32,
    /// How many days a phone may queue clock events offline and still sync them.
    pub offline_sync_days: i32,
    /// Days after a period's last day that its pay is paid (see `PayCalendar`).
    pub pay_days_after_end: i32,
}

impl Policy {
    /// The organisation's pay calendar, which every employer without its own pays on.
    pub fn calendar(&self) -> PayCalendar {
        PayCalendar {
            frequency: self.pay_frequency,
            anchor: self.period_anchor,
            pay_days_after_end: self.pay_days_after_end,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            pay_frequency: PayFrequency::Monthly,
            // A Monday.
            period_anchor: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            approver: Approver::TeamManager,
            radius_m: 1_000,
            late_minutes: 10,
            left_early_minutes: 10,
            overrun_minutes: 15,
            short_minutes: 15,
            clock_out_grace_minutes: 60,
            offline_sync_days: DEFAULT_OFFLINE_DAYS,
            pay_days_after_end: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    ClockIn,
    ClockOut,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClockIn => "clock_in",
            Self::ClockOut => "clock_out",
        }
    }
}

/// A phone's clock can run fast; an event cannot have happened after it reached us.
pub fn effective_instant(device: DateTime<Utc>, received: DateTime<Utc>) -> DateTime<Utc> {
    device.min(received)
}

/// How long a phone may queue events offline and still sync them, unless the organisation's
/// policy says otherwise: a quarter, so a phone forgotten in a drawer still syncs.
pub const DEFAULT_OFFLINE_DAYS: i32 = 92;
/// How far a phone's clock may run ahead of the server's (the event then counts at its
/// arrival, `effective_instant`).
pub const CLOCK_AHEAD_HOURS: i64 = 24;
/// How early before its shift, and how late after it, a clock event may be.
pub const BEFORE_SHIFT_HOURS: i64 = 6;
pub const AFTER_SHIFT_HOURS: i64 = 12;

/// The one rule for when a clock event may say it happened: within the policy's offline days
/// before it reached us and no more than `CLOCK_AHEAD_HOURS` after, and for a rostered shift from
/// `BEFORE_SHIFT_HOURS` before its start to `AFTER_SHIFT_HOURS` after its end. Answers the
/// instant it counts at (`effective_instant`), or why not.
pub fn clock_instant(
    field: &str,
    device: DateTime<Utc>,
    received: DateTime<Utc>,
    shift: Option<(DateTime<Utc>, DateTime<Utc>)>,
    policy: &Policy,
) -> Result<DateTime<Utc>, crate::error::FieldError> {
    use crate::error::FieldError;
    let offline_days = policy.offline_sync_days;
    if device < received - chrono::Duration::days(i64::from(offline_days))
        || device > received + chrono::Duration::hours(CLOCK_AHEAD_HOURS)
    {
        return Err(FieldError::new(
            field,
            "out_of_window",
            format!(
                "must be within {offline_days} days before now and {CLOCK_AHEAD_HOURS} hours after"
            ),
        ));
    }
    if let Some((start, end)) = shift {
        if device < start - chrono::Duration::hours(BEFORE_SHIFT_HOURS)
            || device > end + chrono::Duration::hours(AFTER_SHIFT_HOURS)
        {
            return Err(FieldError::new(
                field,
                "outside_shift",
                format!(
                    "must be from {BEFORE_SHIFT_HOURS} hours before the shift starts to {AFTER_SHIFT_HOURS} hours after it ends"
                ),
            ));
        }
    }
    Ok(effective_instant(device, received))
}

/// Metres from the place of work, to the metre.
pub fn distance_m(home: Location, at: Location) -> i32 {
    (distance_km(home, at) * 1000.0).round() as i32
}

/// Timesheet states; see `Status::may_*` for the moves between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Approved,
    Queried,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Queried => "queried",
        }
    }

    /// The status a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, raw: &str) -> crate::error::AppResult<Self> {
        crate::db::json::enum_from_text(column, raw)
    }

    /// The PA may still change what they recorded.
    pub fn open_to_pa(self) -> bool {
        matches!(self, Self::Draft | Self::Queried)
    }
}

/// What a record says was worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actual {
    pub clock_in: Option<DateTime<Utc>>,
    pub clock_out: Option<DateTime<Utc>>,
    pub break_minutes: i32,
}

impl Actual {
    /// Minutes paid: clock-in to clock-out in real time (so a night across a clock change is
    /// 9 or 11 hours), less breaks. None until both ends are known.
    pub fn worked_minutes(&self) -> Option<i64> {
        match (self.clock_in, self.clock_out) {
            (Some(start), Some(end)) => {
                Some(((end - start).num_minutes() - i64::from(self.break_minutes)).max(0))
            }
            _ => None,
        }
    }
}

/// What the planned shift said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Planned {
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Clocked in later than the tolerance.
    Late,
    /// Clocked out earlier than the tolerance.
    LeftEarly,
    /// Clocked out later than the tolerance.
    Overran,
    /// Paid minutes short of the plan by more than the tolerance.
    Short,
    /// No record at all once the shift (and the grace period) is over.
    Missed,
    /// Not worked because the PA was recorded absent that day (sick, on leave…): not missed.
    Absent,
    /// Clocked in, not out, after the grace period.
    NoClockOut,
    /// Clocked out with no clock-in.
    NoClockIn,
    /// A clock event further from home than the radius.
    OutsideRadius,
    /// Work with no rostered shift: the team manager approves it.
    Unrostered,
}

/// One thing an approver should look at, with how many minutes it is out by where that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Exception {
    pub kind: ExceptionKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
}

/// Planned against actual. `record` is None when nothing was recorded for a planned shift;
/// `absent` says the PA was recorded absent on its day.
pub fn exceptions(
    planned: Option<Planned>,
    record: Option<(Actual, bool)>,
    absent: bool,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Exception> {
    let grace = Duration::minutes(i64::from(policy.clock_out_grace_minutes));
    let mut found = Vec::new();
    let mut push = |kind, minutes| found.push(Exception { kind, minutes });
    let Some((actual, outside_radius)) = record else {
        if planned.is_some_and(|p| p.ends_at + grace < now) {
            push(
                if absent {
                    ExceptionKind::Absent
                } else {
                    ExceptionKind::Missed
                },
                None,
            );
        }
        return found;
    };
    if planned.is_none() {
        push(ExceptionKind::Unrostered, None);
    }
    if outside_radius {
        push(ExceptionKind::OutsideRadius, None);
    }
    match (actual.clock_in, actual.clock_out) {
        (Some(_), None) => {
            let end = planned.map(|p| p.ends_at);
            if end.is_some_and(|end| end + grace < now) {
                push(ExceptionKind::NoClockOut, None);
            }
        }
        (None, Some(_)) => push(ExceptionKind::NoClockIn, None),
        _ => {}
    }
    let Some(plan) = planned else {
        return found;
    };
    if let Some(start) = actual.clock_in {
        let late = (start - plan.starts_at).num_minutes();
        if late > i64::from(policy.late_minutes) {
            push(ExceptionKind::Late, Some(late));
        }
    }
    if let Some(end) = actual.clock_out {
        let early = (plan.ends_at - end).num_minutes();
        if early > i64::from(policy.left_early_minutes) {
            push(ExceptionKind::LeftEarly, Some(early));
        }
        let over = -early;
        if over > i64::from(policy.overrun_minutes) {
            push(ExceptionKind::Overran, Some(over));
        }
    }
    if let Some(worked) = actual.worked_minutes() {
        let short = plan.minutes() - worked;
        if short > i64::from(policy.short_minutes) {
            push(ExceptionKind::Short, Some(short));
        }
    }
    found
}

/// What a record costs the budget, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct Cost {
    /// Pay for the minutes worked at the PA's hourly rate.
    pub pay_pence: Pence,
    /// Holiday pay accruing on it (12.07% for irregular hours, from the rules in force).
    pub holiday_pence: Pence,
    pub mileage_pence: Pence,
    pub expenses_pence: Pence,
}

impl Cost {
    pub fn total(&self) -> Pence {
        self.pay_pence + self.holiday_pence + self.mileage_pence + self.expenses_pence
    }
}

/// The cost of `worked_minutes` at `hourly_pence` with `holiday_bp` accrual, `mileage_tenths`
/// of a mile at HMRC's rates after `miles_before_tenths` already claimed in the tax year, and
/// expenses at face value.
pub fn cost(
    hourly_pence: Pence,
    worked_minutes: i64,
    holiday_bp: i64,
    mileage: Option<(Mileage, i64, i64)>,
    expenses_pence: Pence,
) -> Cost {
    let pay = hourly_pence.for_minutes(worked_minutes);
    let holiday = pay.share(holiday_bp);
    Cost {
        pay_pence: pay,
        holiday_pence: holiday,
        mileage_pence: mileage.map_or(Pence::ZERO, |(rates, before, tenths)| {
            mileage_pence(&rates, before, tenths)
        }),
        expenses_pence,
    }
}

/// Business miles (in tenths) at the HMRC approved rates: the higher rate up to the threshold
/// in the tax year, the lower one after.
pub fn mileage_pence(rates: &Mileage, before_tenths: i64, tenths: i64) -> Pence {
    let threshold = rates.first_miles * 10;
    let at_first = (threshold - before_tenths).clamp(0, tenths);
    let at_after = tenths - at_first;
    Pence::from_ratio(
        i128::from(at_first) * i128::from(rates.first_pence_per_mile)
            + i128::from(at_after) * i128::from(rates.after_pence_per_mile),
        10,
    )
}

/// The first day of the UK tax year holding `date` (6 April).
pub fn tax_year_start(date: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(date.year(), 4, 6).unwrap_or(date);
    if date >= this_year {
        this_year
    } else {
        NaiveDate::from_ymd_opt(date.year() - 1, 4, 6).unwrap_or(date)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn stored_names_read_back_and_an_unknown_one_is_an_error() {
        for status in [
            Status::Draft,
            Status::Submitted,
            Status::Approved,
            Status::Queried,
        ] {
            assert_eq!(Status::parse("status", status.as_str()).ok(), Some(status));
        }
        for frequency in [
            PayFrequency::Weekly,
            PayFrequency::Fortnightly,
            PayFrequency::FourWeekly,
            PayFrequency::Monthly,
        ] {
            assert_eq!(
                PayFrequency::parse("pay_frequency", frequency.as_str()).ok(),
                Some(frequency)
            );
        }
        for approver in [
            Approver::TeamManager,
            Approver::BudgetHolder,
            Approver::Either,
        ] {
            assert_eq!(
                Approver::parse("approver", approver.as_str()).ok(),
                Some(approver)
            );
        }
        assert!(Status::parse("status", "lost").is_err());
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_pay_date_on_a_weekend_or_bank_holiday_moves_to_the_working_day_before() {
        let monthly = PayCalendar {
            frequency: PayFrequency::Monthly,
            anchor: day(2024, 1, 1),
            pay_days_after_end: 0,
        };
        let rules = crate::rules::uk();
        let holiday = |d: NaiveDate| rules.bank_holiday(d).is_some();
        // 30 November 2025 is a Sunday: paid Friday the 28th.
        assert_eq!(
            monthly.pay_date(day(2025, 11, 30), holiday),
            day(2025, 11, 28)
        );
        // 31 December 2026 is a Thursday.
        assert_eq!(
            monthly.pay_date(day(2026, 12, 31), holiday),
            day(2026, 12, 31)
        );
        // Five days after Sunday 21 December 2025 is Boxing Day, after Christmas Day: the 24th.
        let weekly = PayCalendar {
            frequency: PayFrequency::Weekly,
            anchor: day(2025, 12, 15),
            pay_days_after_end: 5,
        };
        assert_eq!(
            weekly.pay_date(day(2025, 12, 21), holiday),
            day(2025, 12, 24)
        );
    }

    #[test]
    fn a_calendar_change_must_start_after_the_last_closed_period_and_not_cut_open_work() {
        let monthly = PayCalendar {
            frequency: PayFrequency::Monthly,
            anchor: day(2024, 1, 1),
            pay_days_after_end: 0,
        };
        // Mondays; 2 November 2026 is one.
        let weekly = PayCalendar {
            frequency: PayFrequency::Weekly,
            anchor: day(2024, 1, 1),
            pay_days_after_end: 4,
        };
        // Only the pay date differs: always allowed.
        let later = PayCalendar {
            pay_days_after_end: 3,
            ..monthly
        };
        let open = Some((day(2026, 11, 1), day(2026, 11, 30)));
        assert_eq!(later.change_problem(&monthly, None, open), None);
        // Weekly periods from Monday 2 November after October closed on Saturday the 31st:
        // 1 November (a Sunday) would have to start a period.
        let problem = weekly.change_problem(&monthly, Some(day(2026, 10, 31)), None);
        assert_eq!(problem.map(|p| p.0), Some("anchor"));
        let sundays = PayCalendar {
            anchor: day(2026, 11, 1),
            ..weekly
        };
        assert_eq!(
            sundays.change_problem(&monthly, Some(day(2026, 10, 31)), None),
            None
        );
        // The same change with November's work still open is refused.
        let problem = sundays.change_problem(&monthly, Some(day(2026, 10, 31)), open);
        assert_eq!(problem.map(|p| p.0), Some("frequency"));
        // Weekly anchors a whole number of weeks apart are the same calendar.
        let same = PayCalendar {
            anchor: day(2024, 1, 8),
            ..weekly
        };
        assert!(same.same_periods(&weekly));
        assert!(!sundays.same_periods(&weekly));
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, h, m, 0).unwrap()
    }

    #[test]
    fn periods_follow_the_frequency_and_anchor() {
        let anchor = day(2024, 1, 1);
        assert_eq!(
            PayFrequency::Weekly.period_of(anchor, day(2027, 1, 6)),
            (day(2027, 1, 4), day(2027, 1, 10))
        );
        assert_eq!(
            PayFrequency::Fortnightly.period_of(anchor, day(2023, 12, 31)),
            (day(2023, 12, 18), day(2023, 12, 31))
        );
        assert_eq!(
            PayFrequency::Monthly.period_of(anchor, day(2026, 12, 25)),
            (day(2026, 12, 1), day(2026, 12, 31))
        );
        assert_eq!(
            PayFrequency::FourWeekly.period_of(anchor, day(2024, 1, 29)),
            (day(2024, 1, 29), day(2024, 2, 25))
        );
    }

    #[test]
    fn a_fast_phone_clock_is_held_to_when_the_event_arrived() {
        assert_eq!(effective_instant(at(9, 5), at(9, 1)), at(9, 1));
        assert_eq!(effective_instant(at(8, 0), at(11, 0)), at(8, 0));
    }

    #[test]
    fn exceptions_compare_the_plan_with_what_was_recorded() {
        let policy = Policy::default();
        let plan = Some(Planned {
            starts_at: at(9, 0),
            ends_at: at(12, 0),
        });
        let kinds = |record, now| {
            exceptions(plan, record, false, &policy, now)
                .into_iter()
                .map(|e| (e.kind, e.minutes))
                .collect::<Vec<_>>()
        };
        let on_time = Actual {
            clock_in: Some(at(9, 5)),
            clock_out: Some(at(12, 0)),
            break_minutes: 0,
        };
        assert!(kinds(Some((on_time, false)), at(18, 0)).is_empty());
        let late_and_short = Actual {
            clock_in: Some(at(9, 40)),
            clock_out: Some(at(11, 30)),
            break_minutes: 0,
        };
        assert_eq!(
            kinds(Some((late_and_short, true)), at(18, 0)),
            [
                (ExceptionKind::OutsideRadius, None),
                (ExceptionKind::Late, Some(40)),
                (ExceptionKind::LeftEarly, Some(30)),
                (ExceptionKind::Short, Some(70)),
            ]
        );
        let forgot = Actual {
            clock_in: Some(at(9, 0)),
            clock_out: None,
            break_minutes: 0,
        };
        assert!(kinds(Some((forgot, false)), at(12, 30)).is_empty());
        assert_eq!(
            kinds(Some((forgot, false)), at(13, 1)),
            [(ExceptionKind::NoClockOut, None)]
        );
        assert_eq!(kinds(None, at(13, 1)), [(ExceptionKind::Missed, None)]);
        let planned = Planned {
            starts_at: at(9, 0),
            ends_at: at(12, 0),
        };
        let away = exceptions(Some(planned), None, true, &Policy::default(), at(13, 1));
        assert_eq!(away.first().map(|e| e.kind), Some(ExceptionKind::Absent));
        let overran = Actual {
            clock_in: Some(at(9, 0)),
            clock_out: Some(at(12, 20)),
            break_minutes: 30,
        };
        assert_eq!(
            kinds(Some((overran, false)), at(18, 0)),
            [(ExceptionKind::Overran, Some(20))]
        );
    }

    #[test]
    fn worked_minutes_are_real_time_less_breaks() {
        // 22:00 BST on 24 October 2026 to 08:00 GMT on the 25th: 11 hours.
        let night = Actual {
            clock_in: Some(Utc.with_ymd_and_hms(2026, 10, 24, 21, 0, 0).unwrap()),
            clock_out: Some(Utc.with_ymd_and_hms(2026, 10, 25, 8, 0, 0).unwrap()),
            break_minutes: 30,
        };
        assert_eq!(night.worked_minutes(), Some(630));
    }

    #[test]
    fn mileage_crosses_the_ten_thousand_mile_line_at_the_lower_rate() {
        let rates = Mileage {
            effective_from: day(2011, 4, 6),
            first_miles: 10_000,
            first_pence_per_mile: Pence::new(45),
            after_pence_per_mile: Pence::new(25),
        };
        // 9,995 miles claimed, 12.0 more: 5 at 45p and 7 at 25p.
        assert_eq!(
            mileage_pence(&rates, 99_950, 120),
            Pence::new(5 * 45 + 7 * 25)
        );
        assert_eq!(mileage_pence(&rates, 0, 15), Pence::new(68));
        assert_eq!(tax_year_start(day(2027, 4, 5)), day(2026, 4, 6));
        assert_eq!(tax_year_start(day(2027, 4, 6)), day(2027, 4, 6));
    }

    #[test]
    fn cost_is_pay_holiday_mileage_and_expenses() {
        // 3 hours at £13.00 with 12.07% holiday pay, and a £4.50 receipt.
        let c = cost(Pence::new(1300), 180, 1207, None, Pence::new(450));
        assert_eq!(c.pay_pence, Pence::new(3900));
        assert_eq!(c.holiday_pence, Pence::new(471));
        assert_eq!(c.total(), Pence::new(3900 + 471 + 450));
    }
}

//! Budgets and their ledger, as plain values: funding streams and their split, the profile of
//! expected spend, statements (always sums of entries), and alert thresholds. No database.

use crate::money::Pence;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

pub const BP: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Health,
    SocialCare,
}

impl Stream {
    pub const ALL: [Stream; 2] = [Stream::Health, Stream::SocialCare];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::SocialCare => "social_care",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "health" => Some(Self::Health),
            "social_care" => Some(Self::SocialCare),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Money given to the budget (on approval, or a later change of amount).
    Allocation,
    /// Money promised: published rosters (a negative commitment releases it).
    Commitment,
    /// Money spent: approved timesheets, or spending recorded by hand.
    Actual,
    /// A correction to spend, with a reason.
    Adjustment,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allocation => "allocation",
            Self::Commitment => "commitment",
            Self::Actual => "actual",
            Self::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "allocation" => Some(Self::Allocation),
            "commitment" => Some(Self::Commitment),
            "actual" => Some(Self::Actual),
            "adjustment" => Some(Self::Adjustment),
            _ => None,
        }
    }
}

/// The streams an amount falls to under the agreed split: health takes its share rounded to
/// the penny, social care the rest, so the parts always add up to the whole.
pub fn split(amount_pence: Pence, health_share_bp: i64) -> Vec<(Stream, Pence)> {
    let health = amount_pence.share(health_share_bp);
    [
        (Stream::Health, health),
        (Stream::SocialCare, amount_pence - health),
    ]
    .into_iter()
    .filter(|(stream, part)| {
        !part.is_zero()
            || (*stream == Stream::Health && health_share_bp == BP)
            || (*stream == Stream::SocialCare && health_share_bp == 0)
    })
    .collect()
}

/// The streams a budget is funded from.
pub fn streams_of(health_share_bp: i64) -> Vec<Stream> {
    Stream::ALL
        .into_iter()
        .filter(|s| match s {
            Stream::Health => health_share_bp > 0,
            Stream::SocialCare => health_share_bp < BP,
        })
        .collect()
}

/// Expected spend in one calendar month of the budget's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileMonth {
    /// `YYYY-MM`
    #[schema(example = "2027-04")]
    pub month: String,
    pub amount_pence: Pence,
}

/// A sum of pence that cannot overflow: added in 128 bits, and held at the ends of `i64` if
/// it would not fit (no real budget comes near).
pub fn total_pence(amounts: impl IntoIterator<Item = Pence>) -> Pence {
    let wide: i128 = amounts.into_iter().map(i128::from).sum();
    Pence::new(i64::try_from(wide).unwrap_or(if wide > 0 { i64::MAX } else { i64::MIN }))
}

pub fn parse_month(text: &str) -> Option<NaiveDate> {
    if text.len() != 7 {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()
}

pub fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

fn month_end(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map_or(first, |n| n - Duration::days(1))
}

/// The months a period touches, as (first day of month, first day in period, last day in period).
fn months(start: NaiveDate, end: NaiveDate) -> Vec<(NaiveDate, NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut first = start.with_day(1).unwrap_or(start);
    while first <= end {
        let last = month_end(first);
        out.push((first, first.max(start), last.min(end)));
        first = last + Duration::days(1);
    }
    out
}

/// A profile spreading `amount` over the period by days, the pennies left by rounding going
/// to the last month.
pub fn even_profile(amount_pence: Pence, start: NaiveDate, end: NaiveDate) -> Vec<ProfileMonth> {
    let total_days = (end - start).num_days() + 1;
    let mut given = Pence::ZERO;
    let spans = months(start, end);
    spans
        .iter()
        .enumerate()
        .map(|(i, (first, from, to))| {
            let days = (*to - *from).num_days() + 1;
            let amount = if i + 1 == spans.len() {
                amount_pence - given
            } else {
                Pence::from_ratio(
                    i128::from(amount_pence) * i128::from(days),
                    i128::from(total_days.max(1)),
                )
            };
            given += amount;
            ProfileMonth {
                month: month_of(*first),
                amount_pence: amount,
            }
        })
        .collect()
}

/// A profile must name only months of the period, each once, and add up to the amount.
pub fn check_profile(
    profile: &[ProfileMonth],
    amount_pence: Pence,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    let first_month = start.with_day(1).unwrap_or(start);
    for (i, m) in profile.iter().enumerate() {
        match parse_month(&m.month) {
            None => errors.push(FieldError::new(
                format!("profile[{i}].month"),
                "invalid_month",
                "must be a month YYYY-MM",
            )),
            Some(first) if first < first_month || first > end => errors.push(FieldError::new(
                format!("profile[{i}].month"),
                "outside_period",
                "must be a month of the budget's period",
            )),
            Some(first) if seen.contains(&first) => errors.push(FieldError::new(
                format!("profile[{i}].month"),
                "duplicate",
                "is profiled twice",
            )),
            Some(first) => seen.push(first),
        }
        if m.amount_pence.is_negative() {
            errors.push(FieldError::new(
                format!("profile[{i}].amount_pence"),
                "range",
                "must not be negative",
            ));
        }
    }
    let sum = total_pence(profile.iter().map(|m| m.amount_pence));
    if errors.is_empty() && sum != amount_pence {
        errors.push(FieldError::new(
            "profile",
            "does_not_add_up",
            format!(
                "adds up to {} pence, not the budget's {}",
                sum.get(),
                amount_pence.get()
            ),
        ));
    }
    errors
}

/// The profiled spend between two dates, each month's amount pro rata by days.
pub fn profile_between(profile: &[ProfileMonth], from: NaiveDate, to: NaiveDate) -> Pence {
    let parts = profile
        .iter()
        .filter_map(|m| parse_month(&m.month).map(|first| (first, m.amount_pence)))
        .map(|(first, amount)| {
            let last = month_end(first);
            let (a, b) = (first.max(from), last.min(to));
            if a > b {
                return Pence::ZERO;
            }
            let days = (b - a).num_days() + 1;
            let month_days = (last - first).num_days() + 1;
            Pence::from_ratio(
                i128::from(amount) * i128::from(days),
                i128::from(month_days),
            )
        });
    total_pence(parts)
}

/// What a statement needs of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFigures {
    pub kind: EntryKind,
    pub stream: Stream,
    pub amount_pence: Pence,
    pub entry_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Balance {
    /// `health`, `social_care`, or `total`.
    pub stream: String,
    /// Allocations up to the end of the range.
    pub allocated_pence: Pence,
    /// Commitments dated in the range.
    pub committed_pence: Pence,
    /// Actuals and adjustments dated in the range.
    pub spent_pence: Pence,
    /// Allocated less everything committed or spent up to the end of the range.
    pub remaining_pence: Pence,
    /// The profile's expected spend over the range.
    pub profiled_pence: Pence,
    /// Profiled less committed and spent in the range: positive is under profile.
    pub variance_pence: Pence,
    /// Spend by the end of the period if it goes on at the rate so far.
    pub forecast_spend_pence: Pence,
    pub forecast_remaining_pence: Pence,
}

#[derive(Clone, Copy)]
pub struct StatementInput<'a> {
    pub entries: &'a [EntryFigures],
    pub profile: &'a [ProfileMonth],
    pub health_share_bp: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day the forecast stands on (spend so far is up to and including it).
    pub as_of: NaiveDate,
}

/// Allocated less everything committed or spent, up to and including `to`: the statement's
/// remaining balance in total.
pub fn remaining_on(entries: &[EntryFigures], to: NaiveDate) -> Pence {
    total_pence(entries.iter().filter(|e| e.entry_date <= to).map(|e| {
        if e.kind == EntryKind::Allocation {
            e.amount_pence
        } else {
            -e.amount_pence
        }
    }))
}

/// Balances per stream and in total: every figure a sum of entries (and the profile).
pub fn statement(input: &StatementInput<'_>) -> Vec<Balance> {
    let streams = streams_of(input.health_share_bp);
    let profiled_total = profile_between(input.profile, input.from, input.to);
    let profiled_split = split(profiled_total, input.health_share_bp);
    let period_days = (input.period_end - input.period_start).num_days() + 1;
    let elapsed = ((input.as_of.min(input.period_end) - input.period_start).num_days() + 1).max(0);
    let balance = |stream: Option<Stream>| {
        let of = |e: &&EntryFigures| stream.is_none_or(|s| e.stream == s);
        let sum = |pred: &dyn Fn(&EntryFigures) -> bool| -> Pence {
            total_pence(
                input
                    .entries
                    .iter()
                    .filter(of)
                    .filter(|e| pred(e))
                    .map(|e| e.amount_pence),
            )
        };
        let in_range = |e: &EntryFigures| e.entry_date >= input.from && e.entry_date <= input.to;
        let is_spend =
            |e: &EntryFigures| matches!(e.kind, EntryKind::Actual | EntryKind::Adjustment);
        let allocated = sum(&|e| e.kind == EntryKind::Allocation && e.entry_date <= input.to);
        let committed = sum(&|e| e.kind == EntryKind::Commitment && in_range(e));
        let spent = sum(&|e| is_spend(e) && in_range(e));
        let used_to_end = sum(&|e| e.kind != EntryKind::Allocation && e.entry_date <= input.to);
        let profiled = match stream {
            None => profiled_total,
            Some(s) => profiled_split
                .iter()
                .find(|(p, _)| *p == s)
                .map_or(Pence::ZERO, |(_, amount)| *amount),
        };
        let spent_so_far = sum(&|e| is_spend(e) && e.entry_date <= input.as_of);
        let forecast = if elapsed == 0 {
            Pence::ZERO
        } else {
            Pence::from_ratio(
                i128::from(spent_so_far) * i128::from(period_days),
                i128::from(elapsed),
            )
        };
        let allocated_all = sum(&|e| e.kind == EntryKind::Allocation);
        Balance {
            stream: stream.map_or("total", Stream::as_str).to_owned(),
            allocated_pence: allocated,
            committed_pence: committed,
            spent_pence: spent,
            remaining_pence: allocated - used_to_end,
            profiled_pence: profiled,
            variance_pence: profiled - committed - spent,
            forecast_spend_pence: forecast,
            forecast_remaining_pence: allocated_all - forecast,
        }
    };
    let mut out: Vec<Balance> = streams.into_iter().map(|s| balance(Some(s))).collect();
    out.push(balance(None));
    out
}

/// A threshold crossed: `threshold` percent of `profile` reached by `used` in `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    /// `month:YYYY-MM` or `budget`.
    pub scope: String,
    pub threshold: i32,
    pub used_pence: Pence,
    pub profile_pence: Pence,
}

/// Thresholds reached after an entry dated `date`: in that entry's month (committed and spent
/// against the month's profile) and over the whole budget (against everything allocated).
/// The caller records each once; a crossing already recorded is not raised again.
pub fn crossings(
    entries: &[EntryFigures],
    profile: &[ProfileMonth],
    thresholds: &[i32],
    date: NaiveDate,
) -> Vec<Crossing> {
    let month = month_of(date);
    let used_in_month = total_pence(
        entries
            .iter()
            .filter(|e| e.kind != EntryKind::Allocation && month_of(e.entry_date) == month)
            .map(|e| e.amount_pence),
    );
    let month_profile = profile
        .iter()
        .find(|m| m.month == month)
        .map_or(Pence::ZERO, |m| m.amount_pence);
    let used = total_pence(
        entries
            .iter()
            .filter(|e| e.kind != EntryKind::Allocation)
            .map(|e| e.amount_pence),
    );
    let allocated = total_pence(
        entries
            .iter()
            .filter(|e| e.kind == EntryKind::Allocation)
            .map(|e| e.amount_pence),
    );
    let mut out = Vec::new();
    for &threshold in thresholds {
        for (scope, used, base) in [
            (format!("month:{month}"), used_in_month, month_profile),
            ("budget".to_owned(), used, allocated),
        ] {
            if base.is_positive()
                && i128::from(used) * 100 >= i128::from(threshold) * i128::from(base)
            {
                out.push(Crossing {
                    scope,
                    threshold,
                    used_pence: used,
                    profile_pence: base,
                });
            }
        }
    }
    out
}

crate::db::stored_enum! {
    /// Where a budget stands: a draft takes no ledger entries until it is approved.
    pub enum BudgetStatus {
        Draft = "draft",
        Approved = "approved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn entry(kind: EntryKind, stream: Stream, amount: i64, on: NaiveDate) -> EntryFigures {
        EntryFigures {
            kind,
            stream,
            amount_pence: Pence::new(amount),
            entry_date: on,
        }
    }

    #[test]
    fn a_split_always_adds_up_to_the_whole() {
        assert_eq!(
            split(Pence::new(10_001), 6_000),
            vec![
                (Stream::Health, Pence::new(6_001)),
                (Stream::SocialCare, Pence::new(4_000))
            ]
        );
        assert_eq!(
            split(Pence::new(999), BP),
            vec![(Stream::Health, Pence::new(999))]
        );
        assert_eq!(
            split(Pence::new(999), 0),
            vec![(Stream::SocialCare, Pence::new(999))]
        );
        for amount in [-7, 1, 333, 1_000_003] {
            let parts: Pence = split(Pence::new(amount), 3_333)
                .iter()
                .map(|(_, p)| p)
                .sum();
            assert_eq!(parts, Pence::new(amount));
        }
    }

    #[test]
    fn an_even_profile_adds_up_and_is_checked() {
        let (start, end) = (date(2027, 4, 1), date(2028, 3, 31));
        let profile = even_profile(Pence::new(3_660_000), start, end);
        assert_eq!(profile.len(), 12);
        assert_eq!(profile[0].month, "2027-04");
        assert_eq!(
            profile.iter().map(|m| m.amount_pence).sum::<Pence>(),
            Pence::new(3_660_000)
        );
        assert!(check_profile(&profile, Pence::new(3_660_000), start, end).is_empty());
        let errors = check_profile(&profile, Pence::new(3_660_001), start, end);
        assert_eq!(errors[0].field, "profile");
        let mut outside = profile.clone();
        outside[0].month = "2026-12".into();
        assert_eq!(
            check_profile(&outside, Pence::new(3_660_000), start, end)[0].field,
            "profile[0].month"
        );
    }

    #[test]
    fn the_profile_is_pro_rata_within_a_month() {
        let profile = vec![ProfileMonth {
            month: "2027-04".into(),
            amount_pence: Pence::new(30_000),
        }];
        assert_eq!(
            profile_between(&profile, date(2027, 4, 1), date(2027, 4, 10)),
            Pence::new(10_000)
        );
        assert_eq!(
            profile_between(&profile, date(2027, 3, 1), date(2027, 5, 31)),
            Pence::new(30_000)
        );
        assert_eq!(
            profile_between(&profile, date(2027, 5, 1), date(2027, 5, 31)),
            Pence::new(0)
        );
    }

    #[test]
    fn a_statement_is_the_sum_of_its_entries() {
        let (start, end) = (date(2027, 4, 1), date(2027, 6, 30));
        let profile = even_profile(Pence::new(91_000), start, end); // 30,000 / 31,000 / 30,000
        let entries = vec![
            entry(EntryKind::Allocation, Stream::Health, 54_600, start),
            entry(EntryKind::Allocation, Stream::SocialCare, 36_400, start),
            entry(EntryKind::Actual, Stream::Health, 12_000, date(2027, 4, 10)),
            entry(
                EntryKind::Actual,
                Stream::SocialCare,
                8_000,
                date(2027, 4, 20),
            ),
            entry(
                EntryKind::Commitment,
                Stream::Health,
                6_000,
                date(2027, 5, 3),
            ),
            entry(
                EntryKind::Adjustment,
                Stream::Health,
                -500,
                date(2027, 4, 30),
            ),
        ];
        let input = StatementInput {
            entries: &entries,
            profile: &profile,
            health_share_bp: 6_000,
            period_start: start,
            period_end: end,
            from: start,
            to: end,
            as_of: date(2027, 4, 30),
        };
        let balances = statement(&input);
        let total = balances.iter().find(|b| b.stream == "total").unwrap();
        assert_eq!(total.allocated_pence, Pence::new(91_000));
        assert_eq!(total.spent_pence, Pence::new(19_500));
        assert_eq!(total.committed_pence, Pence::new(6_000));
        assert_eq!(total.remaining_pence, Pence::new(91_000 - 19_500 - 6_000));
        assert_eq!(total.variance_pence, Pence::new(91_000 - 25_500));
        // 19,500 spent in 30 of 91 days: 59,150 by the end at that rate.
        assert_eq!(total.forecast_spend_pence, Pence::new(59_150));
        let health = balances.iter().find(|b| b.stream == "health").unwrap();
        assert_eq!(
            (
                health.allocated_pence,
                health.spent_pence,
                health.committed_pence
            ),
            (Pence::new(54_600), Pence::new(11_500), Pence::new(6_000))
        );
        let social = balances.iter().find(|b| b.stream == "social_care").unwrap();
        assert_eq!(health.spent_pence + social.spent_pence, total.spent_pence);
        assert_eq!(
            health.profiled_pence + social.profiled_pence,
            total.profiled_pence
        );
        // April only.
        let april = statement(&StatementInput {
            to: date(2027, 4, 30),
            ..input
        });
        let total = april.iter().find(|b| b.stream == "total").unwrap();
        assert_eq!(
            (total.spent_pence, total.committed_pence),
            (Pence::new(19_500), Pence::ZERO)
        );
        assert_eq!(total.profiled_pence, Pence::new(30_000));
    }

    #[test]
    fn thresholds_are_crossed_against_the_month_and_the_budget() {
        let profile = vec![ProfileMonth {
            month: "2027-04".into(),
            amount_pence: Pence::new(10_000),
        }];
        let mut entries = vec![entry(
            EntryKind::Allocation,
            Stream::Health,
            100_000,
            date(2027, 4, 1),
        )];
        entries.push(entry(
            EntryKind::Actual,
            Stream::Health,
            7_999,
            date(2027, 4, 2),
        ));
        assert!(crossings(&entries, &profile, &[80, 100], date(2027, 4, 2)).is_empty());
        entries.push(entry(
            EntryKind::Actual,
            Stream::Health,
            1,
            date(2027, 4, 3),
        ));
        let crossed = crossings(&entries, &profile, &[80, 100], date(2027, 4, 3));
        assert_eq!(
            crossed
                .iter()
                .map(|c| (c.scope.as_str(), c.threshold))
                .collect::<Vec<_>>(),
            vec![("month:2027-04", 80)]
        );
    }
}

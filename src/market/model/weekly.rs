//! Weekly time: days, local windows (a PA's availability, a person's support needs) as spans of
//! minutes in the week, and hours from them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    fn index(self) -> u32 {
        self as u32
    }

    pub fn of(weekday: chrono::Weekday) -> Self {
        match weekday {
            chrono::Weekday::Mon => Self::Monday,
            chrono::Weekday::Tue => Self::Tuesday,
            chrono::Weekday::Wed => Self::Wednesday,
            chrono::Weekday::Thu => Self::Thursday,
            chrono::Weekday::Fri => Self::Friday,
            chrono::Weekday::Sat => Self::Saturday,
            chrono::Weekday::Sun => Self::Sunday,
        }
    }

    pub fn weekday(self) -> chrono::Weekday {
        match self {
            Self::Monday => chrono::Weekday::Mon,
            Self::Tuesday => chrono::Weekday::Tue,
            Self::Wednesday => chrono::Weekday::Wed,
            Self::Thursday => chrono::Weekday::Thu,
            Self::Friday => chrono::Weekday::Fri,
            Self::Saturday => chrono::Weekday::Sat,
            Self::Sunday => chrono::Weekday::Sun,
        }
    }
}

pub(super) const MINUTES_PER_DAY: u32 = 24 * 60;
pub(super) const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY;

/// A weekly window in Europe/London local time. An `end` at or before `start` runs past
/// midnight into the next day (22:00–08:00 is a night).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyWindow {
    pub day: Day,
    /// `HH:MM`
    #[schema(example = "08:00")]
    pub start: String,
    /// `HH:MM`; `24:00` is midnight at the end of the day.
    #[schema(example = "12:00")]
    pub end: String,
}

/// What a shift asks of a PA: awake and working, awake through the night, or asleep on call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShiftKind {
    #[default]
    Day,
    WakingNight,
    SleepIn,
}

impl ShiftKind {
    /// As stored: the same words as the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::WakingNight => "waking_night",
            Self::SleepIn => "sleep_in",
        }
    }

    /// A stored kind; anything unknown reads as a day shift.
    pub fn parse(text: &str) -> Self {
        match text {
            "waking_night" => Self::WakingNight,
            "sleep_in" => Self::SleepIn,
            _ => Self::Day,
        }
    }
}

/// A support need: a weekly window and how many PAs at once (2 for 2:1 support); the weekly
/// part of a person's support pattern, between optional dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportNeed {
    pub day: Day,
    #[schema(example = "22:00")]
    pub start: String,
    #[schema(example = "08:00")]
    pub end: String,
    /// PAs needed at once: 1, or 2 for 2:1 support.
    #[serde(default = "one")]
    pub headcount: u8,
    /// `day` when absent.
    #[serde(default)]
    pub kind: ShiftKind,
    /// The first date this need applies; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<chrono::NaiveDate>,
    /// The last date this need applies; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::NaiveDate>,
}

fn one() -> u8 {
    1
}

/// A half-open span of minutes from Monday 00:00 (never wrapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn minutes(self) -> u32 {
        self.end - self.start
    }
}

fn parse_clock(value: &str) -> Option<u32> {
    let (h, m) = value.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Spans of one window; a window past Sunday midnight continues on Monday.
fn window_spans(field: &str, day: Day, start: &str, end: &str) -> Result<Vec<Span>, FieldError> {
    let bad = |which: &str| {
        FieldError::new(
            format!("{field}.{which}"),
            "invalid_time",
            "must be a time HH:MM",
        )
    };
    let start_minute = parse_clock(start)
        .filter(|m| *m < MINUTES_PER_DAY)
        .ok_or_else(|| bad("start"))?;
    let end_minute = parse_clock(end).ok_or_else(|| bad("end"))?;
    let length = if end_minute > start_minute {
        end_minute - start_minute
    } else {
        end_minute + MINUTES_PER_DAY - start_minute
    };
    if length == 0 || length > MINUTES_PER_DAY {
        return Err(FieldError::new(
            format!("{field}.end"),
            "invalid_window",
            "must differ from start",
        ));
    }
    let from = day.index() * MINUTES_PER_DAY + start_minute;
    let to = from + length;
    Ok(if to <= MINUTES_PER_WEEK {
        vec![Span {
            start: from,
            end: to,
        }]
    } else {
        vec![
            Span {
                start: from,
                end: MINUTES_PER_WEEK,
            },
            Span {
                start: 0,
                end: to - MINUTES_PER_WEEK,
            },
        ]
    })
}

pub fn availability_spans(
    field: &str,
    windows: &[WeeklyWindow],
) -> Result<Vec<Span>, Vec<FieldError>> {
    let mut spans = Vec::new();
    let mut errors = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        match window_spans(&format!("{field}[{i}]"), w.day, &w.start, &w.end) {
            Ok(s) => spans.extend(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(merge(spans))
    } else {
        Err(errors)
    }
}

/// Support needs as spans, each with its headcount.
pub fn need_spans(field: &str, needs: &[SupportNeed]) -> Result<Vec<(Span, u8)>, Vec<FieldError>> {
    let mut spans = Vec::new();
    let mut errors = Vec::new();
    for (i, n) in needs.iter().enumerate() {
        let here = format!("{field}[{i}]");
        if !(1..=2).contains(&n.headcount) {
            errors.push(FieldError::new(
                format!("{here}.headcount"),
                "range",
                "must be 1, or 2 for 2:1 support",
            ));
        }
        if let (Some(from), Some(until)) = (n.from, n.until) {
            if until < from {
                errors.push(FieldError::new(
                    format!("{here}.until"),
                    "before_from",
                    "must not be before from",
                ));
            }
        }
        match window_spans(&here, n.day, &n.start, &n.end) {
            Ok(s) => spans.extend(s.into_iter().map(|s| (s, n.headcount))),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(spans)
    } else {
        Err(errors)
    }
}

/// Sorted, non-overlapping spans covering the same minutes.
pub fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Minutes of `needed` that fall inside `available` (which must be merged).
pub fn covered_minutes(needed: &[Span], available: &[Span]) -> u32 {
    needed
        .iter()
        .map(|need| {
            available
                .iter()
                .map(|a| need.end.min(a.end).saturating_sub(need.start.max(a.start)))
                .sum::<u32>()
        })
        .sum()
}

pub fn total_minutes(spans: &[Span]) -> u32 {
    spans.iter().map(|s| s.minutes()).sum()
}

pub fn hours_to_minutes(hours: f64) -> i32 {
    (hours * 60.0).round() as i32
}

/// Minutes as hours, to two decimal places.
pub fn minutes_to_hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

/// Hours of support a week, counting each PA a need asks for.
pub fn person_hours(needs: &[SupportNeed]) -> f64 {
    let minutes: i64 = need_spans("support_needs", needs)
        .map(|spans| {
            spans
                .iter()
                .map(|(s, headcount)| i64::from(s.minutes()) * i64::from(*headcount))
                .sum()
        })
        .unwrap_or(0);
    minutes_to_hours(minutes)
}

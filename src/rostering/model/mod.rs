//! From support pattern to shifts, as plain values: the weekly needs between their dates, less
//! the paused days, plus extra cover, each shift placed in real time by the Europe/London rules
//! of `crate::time` (a 22:00–08:00 night is 11 hours as the clocks go back, 9 as they go
//! forward; a start in the spring gap moves forward by the gap, a start in the repeated autumn
//! hour is the first).

use crate::money::Pence;
pub mod gate;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::market::model::{ShiftKind, SupportNeed};
use crate::time::shift_instants;

/// A one-off change to the weekly pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternChange {
    /// No support needed from `from` to `to` (inclusive), by the shift's local start date:
    /// a hospital stay, a holiday away.
    Pause { from: NaiveDate, to: NaiveDate },
    /// One extra shift.
    Extra {
        id: String,
        date: NaiveDate,
        start: NaiveTime,
        end: NaiveTime,
        kind: ShiftKind,
        headcount: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlannedShift {
    /// The local date the shift starts.
    pub date: NaiveDate,
    /// Local `HH:MM`.
    pub start: String,
    /// Local `HH:MM`; on the next day when not after the start.
    pub end: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Real hours between start and end.
    pub hours: f64,
    pub kind: ShiftKind,
    pub headcount: u8,
    /// `weekly` (the pattern) or `extra` (a one-off change).
    pub source: String,
    /// The one-off change behind an extra shift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
}

pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    match text {
        // `24:00` is midnight at the end of the day.
        "24:00" => NaiveTime::from_hms_opt(0, 0, 0),
        _ if text.len() == 5 => NaiveTime::parse_from_str(text, "%H:%M").ok(),
        _ => None,
    }
}

fn planned(
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
    kind: ShiftKind,
    headcount: u8,
    change_id: Option<String>,
) -> PlannedShift {
    let (starts_at, ends_at) = shift_instants(date, start, end);
    PlannedShift {
        date,
        start: start.format("%H:%M").to_string(),
        end: end.format("%H:%M").to_string(),
        starts_at,
        ends_at,
        hours: (ends_at - starts_at).num_minutes() as f64 / 60.0,
        kind,
        headcount,
        source: if change_id.is_some() {
            "extra"
        } else {
            "weekly"
        }
        .into(),
        change_id,
    }
}

/// The shifts of `needs` and `changes` starting from `from` to `to` (inclusive), in time order.
pub fn materialise(
    needs: &[SupportNeed],
    changes: &[PatternChange],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<PlannedShift> {
    let paused = |date: NaiveDate| {
        changes.iter().any(|c| match c {
            PatternChange::Pause { from, to } => *from <= date && date <= *to,
            PatternChange::Extra { .. } => false,
        })
    };
    let mut shifts = Vec::new();
    let mut date = from;
    while date <= to {
        if !paused(date) {
            for need in needs.iter().filter(|n| {
                n.day.weekday() == date.weekday()
                    && n.from.is_none_or(|f| f <= date)
                    && n.until.is_none_or(|u| date <= u)
            }) {
                if let (Some(start), Some(end)) = (parse_clock(&need.start), parse_clock(&need.end))
                {
                    shifts.push(planned(date, start, end, need.kind, need.headcount, None));
                }
            }
        }
        date += Duration::days(1);
    }
    for change in changes {
        if let PatternChange::Extra {
            id,
            date,
            start,
            end,
            kind,
            headcount,
        } = change
        {
            if from <= *date && *date <= to {
                shifts.push(planned(
                    *date,
                    *start,
                    *end,
                    *kind,
                    *headcount,
                    Some(id.clone()),
                ));
            }
        }
    }
    shifts.sort_by(|a, b| (a.starts_at, &a.change_id).cmp(&(b.starts_at, &b.change_id)));
    shifts
}

/// What one PA's place on a shift of `minutes` on day `on` commits: their hourly pay for the real
/// hours, with the holiday pay that accrues on it at the statutory rate in force that day.
pub fn place_pay(hourly_pence: Pence, minutes: i64, on: NaiveDate) -> Pence {
    let holiday_bp = crate::rules::uk()
        .holiday_pay(on)
        .map_or(0, |h| h.irregular_hours_accrual_bp);
    Pence::from_ratio(
        i128::from(hourly_pence) * i128::from(minutes) * i128::from(10_000 + holiday_bp),
        60 * 10_000,
    )
}

crate::db::stored_enum! {
    /// A roster is a draft its team manager edits freely, then published: PAs see it, the safety
    /// gate and budgets hold it to account.
    pub enum RosterStatus {
        Draft = "draft",
        Published = "published",
    }
}

crate::db::stored_enum! {
    /// A swap request: a PA proposes, the colleague accepts or declines, the team manager
    /// approves or refuses an accepted one; the PA who asked may withdraw it while it is live.
    pub enum SwapStatus {
        Proposed = "proposed",
        Accepted = "accepted",
        Declined = "declined",
        Withdrawn = "withdrawn",
        Approved = "approved",
        Refused = "refused",
    }
}

crate::db::stored_enum! {
    /// A roster run (a long generation as a job).
    pub enum RunStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn stored_statuses_round_trip_and_an_unknown_one_is_an_error_naming_its_column() {
        for status in SwapStatus::ALL {
            assert_eq!(
                SwapStatus::parse("status", status.as_str()).ok(),
                Some(*status)
            );
        }
        let error = RosterStatus::parse("rosters.status", "publshed").unwrap_err();
        assert!(error.to_string().contains("rosters.status"), "{error}");
    }

    use super::*;
    use crate::market::model::Day;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn need(day: Day, start: &str, end: &str) -> SupportNeed {
        SupportNeed {
            day,
            start: start.into(),
            end: end.into(),
            headcount: 1,
            kind: ShiftKind::WakingNight,
            from: None,
            until: None,
        }
    }

    #[test]
    fn nights_over_the_clock_changes_last_eleven_and_nine_hours() {
        let nights = [need(Day::Saturday, "22:00", "08:00")];
        let autumn = materialise(&nights, &[], date(2026, 10, 24), date(2026, 10, 24));
        assert_eq!(autumn[0].hours, 11.0);
        let spring = materialise(&nights, &[], date(2026, 3, 28), date(2026, 3, 28));
        assert_eq!(spring[0].hours, 9.0);
        let ordinary = materialise(&nights, &[], date(2026, 6, 6), date(2026, 6, 6));
        assert_eq!(ordinary[0].hours, 10.0);
        assert_eq!(
            ordinary[0].starts_at.to_rfc3339(),
            "2026-06-06T21:00:00+00:00"
        );
    }

    #[test]
    fn a_start_in_the_spring_gap_moves_forward_and_a_repeated_hour_takes_the_first() {
        let gap = materialise(
            &[need(Day::Sunday, "01:30", "06:00")],
            &[],
            date(2026, 3, 29),
            date(2026, 3, 29),
        );
        // 01:30 does not exist: 02:30 BST (01:30 UTC) to 06:00 BST (05:00 UTC).
        assert_eq!(gap[0].starts_at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
        assert_eq!(gap[0].hours, 3.5);
        let twice = materialise(
            &[need(Day::Sunday, "01:30", "06:00")],
            &[],
            date(2026, 10, 25),
            date(2026, 10, 25),
        );
        // The first 01:30 (BST, 00:30 UTC) to 06:00 GMT: 5.5 real hours.
        assert_eq!(twice[0].starts_at.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(twice[0].hours, 5.5);
    }

    #[test]
    fn pauses_remove_and_extras_add_and_needs_keep_to_their_dates() {
        let mut weekday = need(Day::Monday, "09:00", "12:00");
        weekday.kind = ShiftKind::Day;
        weekday.until = Some(date(2027, 1, 18));
        let changes = vec![
            PatternChange::Pause {
                from: date(2027, 1, 4),
                to: date(2027, 1, 10),
            },
            PatternChange::Extra {
                id: "c1".into(),
                date: date(2027, 1, 6),
                start: parse_clock("14:00").unwrap(),
                end: parse_clock("16:00").unwrap(),
                kind: ShiftKind::Day,
                headcount: 2,
            },
        ];
        let shifts = materialise(&[weekday], &changes, date(2026, 12, 28), date(2027, 1, 31));
        let dates: Vec<(NaiveDate, &str)> =
            shifts.iter().map(|s| (s.date, s.source.as_str())).collect();
        assert_eq!(
            dates,
            vec![
                (date(2026, 12, 28), "weekly"),
                (date(2027, 1, 6), "extra"),
                (date(2027, 1, 11), "weekly"),
                (date(2027, 1, 18), "weekly"),
            ]
        );
        assert_eq!(shifts[1].headcount, 2);
    }
}

//! Absence rules as plain values: the kinds, what a PA may report themselves, when an absence's
//! dates are valid, how far an open-ended one reaches, whether sickness needs a fit note, and the
//! days and spells a manager sees. No database, no clock.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    Sickness,
    /// A family or household emergency (time off for dependants).
    Emergency,
    Other,
    AnnualLeave,
    Compassionate,
    Parental,
    Unpaid,
    Training,
}

impl AbsenceKind {
    pub const ALL: [Self; 8] = [
        Self::Sickness,
        Self::Emergency,
        Self::Other,
        Self::AnnualLeave,
        Self::Compassionate,
        Self::Parental,
        Self::Unpaid,
        Self::Training,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sickness => "sickness",
            Self::Emergency => "emergency",
            Self::Other => "other",
            Self::AnnualLeave => "annual_leave",
            Self::Compassionate => "compassionate",
            Self::Parental => "parental",
            Self::Unpaid => "unpaid",
            Self::Training => "training",
        }
    }

    /// The kind a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, raw: &str) -> crate::error::AppResult<Self> {
        crate::db::json::enum_from_text(column, raw)
    }

    /// What a PA reports from the app; the rest a manager records.
    pub fn pa_may_report(self) -> bool {
        matches!(self, Self::Sickness | Self::Emergency | Self::Other)
    }
}

/// Days of sickness a PA may certify themselves; longer needs a fit note (a doctor's statement).
pub const SELF_CERTIFIED_DAYS: i64 = 7;
/// How far ahead an absence with no end yet takes a PA off their shifts: their shifts in that
/// time open for cover at once; later ones are left to the daily look ahead (which the safety
/// gate tells the absence) and to the end date once it is known.
pub const OPEN_ENDED_REACH_DAYS: i64 = 7;
/// The last day the safety gate counts an absence with no end yet: until it is given one.
pub const OPEN_ENDED_GATE_DAYS: i64 = 366;

/// An absence's dates: the first day and, once known, the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

impl Span {
    /// Whether the two share a day (an open-ended one runs on indefinitely).
    pub fn overlaps(&self, other: &Span) -> bool {
        let ends_after = |a: &Span, day: NaiveDate| a.ends_on.is_none_or(|end| end >= day);
        ends_after(self, other.starts_on) && ends_after(other, self.starts_on)
    }

    /// The last day shifts are opened for: the end, or `OPEN_ENDED_REACH_DAYS` on.
    pub fn opens_through(&self) -> NaiveDate {
        self.ends_on
            .unwrap_or(self.starts_on + Duration::days(OPEN_ENDED_REACH_DAYS - 1))
    }

    /// The last day the safety gate counts the PA away.
    pub fn away_through(&self) -> NaiveDate {
        self.ends_on
            .unwrap_or(self.starts_on + Duration::days(OPEN_ENDED_GATE_DAYS))
    }

    /// Calendar days from the start to the end, or to `today` while it has no end.
    pub fn days_by(&self, today: NaiveDate) -> i64 {
        let last = self.ends_on.unwrap_or(today.max(self.starts_on));
        (last - self.starts_on).num_days() + 1
    }
}

/// What is wrong with an absence's dates and fit note, by field.
pub fn check(
    kind: AbsenceKind,
    span: Span,
    fit_note: Option<(NaiveDate, NaiveDate)>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if span.ends_on.is_some_and(|end| end < span.starts_on) {
        errors.push(FieldError::new(
            "ends_on",
            "range",
            "must not be before starts_on",
        ));
    }
    if let Some((from, to)) = fit_note {
        if kind != AbsenceKind::Sickness {
            errors.push(FieldError::new(
                "fit_note_from",
                "not_allowed",
                "a fit note is only for sickness",
            ));
        } else if to < from {
            errors.push(FieldError::new(
                "fit_note_to",
                "range",
                "must not be before fit_note_from",
            ));
        }
    }
    errors
}

/// Whether sickness has gone past what a PA may certify themselves with no fit note given.
pub fn fit_note_needed(
    kind: AbsenceKind,
    span: Span,
    fit_note: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> bool {
    kind == AbsenceKind::Sickness && fit_note.is_none() && span.days_by(today) > SELF_CERTIFIED_DAYS
}

/// One PA's absence over a period, as a manager reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AbsenceTotals {
    pub pa_id: String,
    /// Calendar days away within the period (an open-ended absence up to the period's end or
    /// today, whichever is sooner).
    pub days: i64,
    /// Separate absences touching the period.
    pub spells: i64,
    /// Days by kind.
    pub sickness_days: i64,
    pub other_days: i64,
}

/// Days and spells of each PA's absences within `from` to `to`, as of `today`, PAs in order.
/// No Bradford factor (spells squared times days): it scores the frequent short absences of a
/// fluctuating or long-term condition as the worst, which for the disabled and chronically ill
/// workers many PAs are would invite discrimination; days and spells tell a manager the same
/// facts without the judgement.
pub fn totals(
    absences: &[(String, AbsenceKind, Span)],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Vec<AbsenceTotals> {
    let mut out: std::collections::BTreeMap<&str, AbsenceTotals> = Default::default();
    for (pa_id, kind, span) in absences {
        let first = span.starts_on.max(from);
        let last = span.ends_on.unwrap_or(today.min(to)).min(to);
        if last < first {
            continue;
        }
        let days = (last - first).num_days() + 1;
        let entry = out.entry(pa_id).or_insert_with(|| AbsenceTotals {
            pa_id: pa_id.clone(),
            days: 0,
            spells: 0,
            sickness_days: 0,
            other_days: 0,
        });
        entry.days += days;
        entry.spells += 1;
        if *kind == AbsenceKind::Sickness {
            entry.sickness_days += days;
        } else {
            entry.other_days += days;
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn span(from: u32, to: Option<u32>) -> Span {
        Span {
            starts_on: day(from),
            ends_on: to.map(day),
        }
    }

    #[test]
    fn absences_overlap_when_they_share_a_day_and_an_open_one_runs_on() {
        assert!(span(1, Some(3)).overlaps(&span(3, Some(5))));
        assert!(!span(1, Some(3)).overlaps(&span(4, Some(5))));
        assert!(span(1, None).overlaps(&span(20, Some(21))));
        assert!(!span(10, None).overlaps(&span(1, Some(9))));
        assert!(span(10, None).overlaps(&span(2, None)));
    }

    #[test]
    fn dates_and_fit_notes_are_checked_by_field() {
        let fields = |kind, s, note| {
            check(kind, s, note)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(AbsenceKind::Sickness, span(5, Some(4)), None),
            ["ends_on"]
        );
        assert_eq!(
            fields(
                AbsenceKind::Sickness,
                span(1, Some(20)),
                Some((day(9), day(8)))
            ),
            ["fit_note_to"]
        );
        assert_eq!(
            fields(
                AbsenceKind::Training,
                span(1, Some(2)),
                Some((day(1), day(2)))
            ),
            ["fit_note_from"]
        );
        assert!(fields(
            AbsenceKind::Sickness,
            span(1, None),
            Some((day(8), day(21)))
        )
        .is_empty());
    }

    #[test]
    fn sickness_past_seven_days_needs_a_fit_note() {
        let sick = AbsenceKind::Sickness;
        assert!(!fit_note_needed(sick, span(1, Some(7)), None, day(30)));
        assert!(fit_note_needed(sick, span(1, Some(8)), None, day(30)));
        // Open-ended: counted to today.
        assert!(!fit_note_needed(sick, span(1, None), None, day(7)));
        assert!(fit_note_needed(sick, span(1, None), None, day(8)));
        assert!(!fit_note_needed(
            sick,
            span(1, None),
            Some((day(8), day(22))),
            day(9)
        ));
        assert!(!fit_note_needed(
            AbsenceKind::AnnualLeave,
            span(1, Some(20)),
            None,
            day(30)
        ));
    }

    #[test]
    fn totals_count_days_within_the_period_and_each_spell_once() {
        let a = |pa: &str, kind, s| (pa.to_owned(), kind, s);
        let absences = [
            a("amy", AbsenceKind::Sickness, span(1, Some(3))),
            a("amy", AbsenceKind::Sickness, span(10, None)),
            a("amy", AbsenceKind::AnnualLeave, span(20, Some(30))),
            a("ben", AbsenceKind::Training, span(25, Some(26))),
        ];
        // 2 to 22 November, as of the 12th: the open sickness counts the 10th to the 12th.
        let t = totals(&absences, day(2), day(22), day(12));
        assert_eq!(t.len(), 1, "Ben's training is after the period");
        assert_eq!(t[0].pa_id, "amy");
        assert_eq!((t[0].days, t[0].spells), (2 + 3 + 3, 3));
        assert_eq!((t[0].sickness_days, t[0].other_days), (5, 3));
    }
}

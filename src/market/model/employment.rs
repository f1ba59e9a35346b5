//! Who employs a PA for a person: the one rule payroll routes pay by, timesheets choose a pay
//! calendar by, and the safety gate refuses a leaver's work by.
//!
//! A PA's work for a person is paid by the person, when they employ the PA themselves, else by
//! the organisation (its first employer that engages the PA). Only engagements in force on the
//! work's date count; a PA whose only engagements for the person have ended has left, and
//! their work after the last one ended is refused. A PA no employer engages for the person is
//! not refused here: payroll is set up for them when work is paid (or the organisation keeps
//! no payroll in parota at all).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why an engagement ended, as a P45 needs it known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeavingReason {
    Resigned,
    Dismissed,
    EndOfContract,
    Redundancy,
    Retired,
    Died,
    Other,
}

impl LeavingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resigned => "resigned",
            Self::Dismissed => "dismissed",
            Self::EndOfContract => "end_of_contract",
            Self::Redundancy => "redundancy",
            Self::Retired => "retired",
            Self::Died => "died",
            Self::Other => "other",
        }
    }

    /// The reason a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, raw: &str) -> crate::error::AppResult<Self> {
        crate::db::json::enum_from_text(column, raw)
    }
}

/// One engagement of a PA, as the rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engaged {
    pub engagement_id: String,
    pub employer_id: String,
    /// The person who employs the PA directly; `None` for an organisation's employer.
    pub employs_for: Option<String>,
    /// The last day worked, once the PA has left.
    pub ends_on: Option<NaiveDate>,
}

impl Engaged {
    fn in_force_on(&self, date: NaiveDate) -> bool {
        self.ends_on.is_none_or(|end| date <= end)
    }

    /// Whether this engagement could pay work for the person.
    fn speaks_for(&self, holder_id: &str) -> bool {
        self.employs_for.as_deref().is_none_or(|h| h == holder_id)
    }
}

/// How a PA stands with the employers that could pay their work for a person on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Employment<'a> {
    Employed(&'a Engaged),
    /// Every engagement that could pay the work ended before the date; the one ending last.
    Left(&'a Engaged),
    /// No employer engages the PA for this person.
    NotEngaged,
}

impl<'a> Employment<'a> {
    /// The engagement that pays the work: a leaver's last one pays what they did before leaving.
    pub fn engagement(self) -> Option<&'a Engaged> {
        match self {
            Self::Employed(e) | Self::Left(e) => Some(e),
            Self::NotEngaged => None,
        }
    }
}

/// How the PA with these engagements (in a stable order) stands for work for `holder_id` on
/// `date`.
pub fn employment_on<'a>(
    engagements: &'a [Engaged],
    holder_id: &str,
    date: NaiveDate,
) -> Employment<'a> {
    let current = |direct: bool| {
        engagements.iter().find(|e| {
            e.in_force_on(date) && e.speaks_for(holder_id) && e.employs_for.is_some() == direct
        })
    };
    if let Some(e) = current(true).or_else(|| current(false)) {
        return Employment::Employed(e);
    }
    engagements
        .iter()
        .filter(|e| e.speaks_for(holder_id))
        .max_by_key(|e| e.ends_on)
        .map_or(Employment::NotEngaged, Employment::Left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn engaged(id: &str, employs_for: Option<&str>, ends_on: Option<NaiveDate>) -> Engaged {
        Engaged {
            engagement_id: id.into(),
            employer_id: format!("employer-{id}"),
            employs_for: employs_for.map(str::to_owned),
            ends_on,
        }
    }

    #[test]
    fn the_person_pays_before_the_organisation_and_a_leaver_is_paid_only_until_leaving() {
        let both = [
            engaged("org", None, None),
            engaged("own", Some("amy"), Some(day(10))),
        ];
        let id = |e: Employment<'_>| e.engagement().map(|g| g.engagement_id.clone());
        // Amy employs the PA herself until the 10th; the organisation after that.
        assert_eq!(id(employment_on(&both, "amy", day(10))), Some("own".into()));
        assert!(
            matches!(employment_on(&both, "amy", day(11)), Employment::Employed(e) if e.engagement_id == "org")
        );
        // Another person's work is the organisation's throughout.
        assert_eq!(id(employment_on(&both, "ben", day(5))), Some("org".into()));

        let only_own = [engaged("own", Some("amy"), Some(day(10)))];
        assert!(matches!(
            employment_on(&only_own, "amy", day(10)),
            Employment::Employed(_)
        ));
        assert!(
            matches!(employment_on(&only_own, "amy", day(11)), Employment::Left(e) if e.ends_on == Some(day(10)))
        );
        // Amy's ending says nothing about work for Ben, whom nobody employs the PA for yet.
        assert_eq!(
            employment_on(&only_own, "ben", day(11)),
            Employment::NotEngaged
        );

        let left_twice = [
            engaged("org", None, Some(day(3))),
            engaged("own", Some("amy"), Some(day(10))),
        ];
        assert!(
            matches!(employment_on(&left_twice, "amy", day(20)), Employment::Left(e) if e.engagement_id == "own")
        );
        assert!(
            matches!(employment_on(&left_twice, "ben", day(4)), Employment::Left(e) if e.engagement_id == "org")
        );
        assert_eq!(employment_on(&[], "amy", day(1)), Employment::NotEngaged);
    }

    #[test]
    fn stored_reasons_read_back() {
        for reason in [
            LeavingReason::Resigned,
            LeavingReason::Dismissed,
            LeavingReason::EndOfContract,
            LeavingReason::Redundancy,
            LeavingReason::Retired,
            LeavingReason::Died,
            LeavingReason::Other,
        ] {
            assert_eq!(
                LeavingReason::parse("leaving_reason", reason.as_str()).ok(),
                Some(reason)
            );
        }
        assert!(LeavingReason::parse("leaving_reason", "sacked").is_err());
    }
}

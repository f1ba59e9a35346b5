//! Local time in Europe/London. Instants are stored in UTC; people speak in wall-clock times,
//! and twice a year the two disagree. The rules for the awkward nights live here, once.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;

/// The instant a local wall-clock time names. The stated rule for the two awkward nights: a
/// time that does not exist (01:30 as clocks go forward) moves forward by the gap, to the first
/// valid instant after it (02:30 BST, which is 01:30 UTC); a time that happens twice (01:30 as
/// clocks go back) is the first of them (BST).
pub fn london_instant(local: NaiveDateTime) -> DateTime<Utc> {
    match London.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Only ever the one-hour spring gap in Europe/London.
            let later = local + Duration::hours(1);
            London
                .from_local_datetime(&later)
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
        }
    }
}

/// The real start and end of a shift that starts on local `date`; an end at or before the
/// start is on the next day. A 22:00–08:00 night lasts 11 hours as the clocks go back and 9 as
/// they go forward.
pub fn shift_instants(
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let end_date = if end <= start {
        date + Duration::days(1)
    } else {
        date
    };
    (
        london_instant(date.and_time(start)),
        london_instant(end_date.and_time(end)),
    )
}

/// The local date and time of an instant.
/// The date in London at an instant (what "today" means to a PA or a manager).
pub fn london_date(instant: DateTime<Utc>) -> chrono::NaiveDate {
    london_local(instant).date()
}

pub fn london_local(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&London).naive_local()
}

/// Serialises an instant the database keeps as a UTC `NaiveDateTime` as RFC 3339 with its
/// offset (`…Z`), as `DateTime<Utc>` serialises: every instant in an answer carries one.
pub mod utc {
    use chrono::{NaiveDateTime, SecondsFormat};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// `utc` for an optional instant.
pub mod utc_option {
    use chrono::NaiveDateTime;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::utc::serialize(at, s),
            None => s.serialize_none(),
        }
    }
}

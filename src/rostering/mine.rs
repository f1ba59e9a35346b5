//! A PA's own shifts, for the app: published rosters only, paged in time order, with a
//! changed-since filter for offline sync.

use chrono::{Duration, NaiveDate};

use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::{Page, PageQuery};
use crate::market::model::ShiftKind;
use crate::rostering::dto::{MyShiftView, MyShiftsQuery};
use crate::rostering::repo;
use crate::time::london_instant;

pub fn my_shifts(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &MyShiftsQuery,
    today: NaiveDate,
) -> AppResult<Page<MyShiftView>> {
    let pa_id = crate::market::repo::my_pa_id(conn, actor)?;
    let limit = PageQuery {
        limit: query.limit,
        cursor: None,
    }
    .limit()?;
    let from = query.from.unwrap_or(today);
    let to = query.to.unwrap_or(from + Duration::weeks(8));
    if to < from {
        return Err(AppError::field(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    let after = match &query.cursor {
        None => None,
        Some(c) => {
            let (at, id) = c
                .split_once('|')
                .and_then(|(at, id)| {
                    chrono::DateTime::parse_from_rfc3339(at)
                        .ok()
                        .map(|t| (t.naive_utc(), id.to_owned()))
                })
                .ok_or_else(|| {
                    AppError::field("cursor", "invalid", "is not a cursor from this list")
                })?;
            Some((at, id))
        }
    };
    let rows = repo::shifts_of_pa(
        conn,
        &pa_id,
        london_instant(from.and_time(chrono::NaiveTime::MIN)).naive_utc(),
        london_instant((to + Duration::days(1)).and_time(chrono::NaiveTime::MIN)).naive_utc(),
        after,
        query.changed_since.map(|t| t.naive_utc()),
        limit,
    )?;
    let page = Page::from_rows(rows, limit, |(s, _, _, _)| {
        format!("{}|{}", s.starts_at.and_utc().to_rfc3339(), s.id)
    });
    Ok(page.map(|(s, changed, name, district)| MyShiftView {
        shift_id: s.id,
        roster_id: s.roster_id,
        date: s.shift_date,
        start: s.start_local,
        end: s.end_local,
        starts_at: s.starts_at.and_utc(),
        ends_at: s.ends_at.and_utc(),
        kind: ShiftKind::parse(&s.kind),
        headcount: s.headcount,
        person_name: name,
        person_district: district,
        changed_at: changed.and_utc(),
    }))
}

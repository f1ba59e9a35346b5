//! A PA's shifts as an iCalendar feed (RFC 5545) behind a secret, revocable URL, in
//! Europe/London local time, for their phone's calendar.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::db::schema::calendar_feeds;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::rostering::repo::{self, MyShiftRow};
use crate::time::london_local;

/// Shifts in the feed: from two weeks back to twelve weeks ahead.
const PAST_DAYS: i64 = 14;
const FUTURE_DAYS: i64 = 84;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_feeds)]
pub struct CalendarFeedRow {
    pub id: String,
    pub pa_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

fn hash(token: &str) -> String {
    crate::auth::token::hex(&Sha256::digest(token.as_bytes()))
}

fn revoke_all(conn: &mut DbConnection, pa_id: &str, at: NaiveDateTime) -> AppResult<usize> {
    Ok(diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::pa_id.eq(pa_id))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(at)))
    .execute(conn)?)
}

/// A new feed for the calling PA (any earlier one stops working); returns its secret token,
/// shown this once.
pub fn create_feed(
    conn: &mut DbConnection,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let pa_id = crate::market::repo::my_pa_id(conn, actor)?;
    let token = crate::auth::password::random_token(32);
    let row = CalendarFeedRow {
        id: crate::ids::new_id(),
        pa_id: pa_id.clone(),
        token_hash: hash(&token),
        created_at: now.naive_utc(),
        revoked_at: None,
    };
    write_transaction(conn, |conn| {
        revoke_all(conn, &pa_id, now.naive_utc())?;
        diesel::insert_into(calendar_feeds::table)
            .values(&row)
            .execute(conn)?;
        Ok::<_, AppError>(())
    })?;
    Ok(token)
}

pub fn revoke_feed(conn: &mut DbConnection, actor: &AuthUser, now: DateTime<Utc>) -> AppResult<()> {
    let pa_id = crate::market::repo::my_pa_id(conn, actor)?;
    write_transaction(conn, |conn| revoke_all(conn, &pa_id, now.naive_utc()))?;
    Ok(())
}

/// The feed behind a token, or 404 for a token unknown or revoked.
pub fn feed(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> AppResult<String> {
    let feed: CalendarFeedRow = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(hash(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(CalendarFeedRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let rows = repo::shifts_of_pa(
        conn,
        &feed.pa_id,
        (now - Duration::days(PAST_DAYS)).naive_utc(),
        (now + Duration::days(FUTURE_DAYS)).naive_utc(),
        None,
        None,
        1_000,
    )?;
    Ok(render(&rows, now))
}

/// Escapes TEXT values (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets, on character boundaries (§3.1).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

const VTIMEZONE: &str = "BEGIN:VTIMEZONE\nTZID:Europe/London\nBEGIN:DAYLIGHT\nTZOFFSETFROM:+0000\nTZOFFSETTO:+0100\nTZNAME:BST\nDTSTART:19810329T010000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0000\nTZNAME:GMT\nDTSTART:19961027T020000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE";

pub fn render(rows: &[MyShiftRow], now: DateTime<Utc>) -> String {
    let local = |t: NaiveDateTime| {
        london_local(t.and_utc())
            .format("%Y%m%dT%H%M%S")
            .to_string()
    };
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//parota//shifts//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "X-WR-CALNAME:My shifts".into(),
    ];
    lines.extend(VTIMEZONE.lines().map(str::to_owned));
    for (shift, changed, person, district) in rows {
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}@parota", shift.id),
            format!("DTSTAMP:{}", now.format("%Y%m%dT%H%M%SZ")),
            format!("LAST-MODIFIED:{}", changed.format("%Y%m%dT%H%M%SZ")),
            format!("DTSTART;TZID=Europe/London:{}", local(shift.starts_at)),
            format!("DTEND;TZID=Europe/London:{}", local(shift.ends_at)),
            format!(
                "SUMMARY:{}",
                text(&format!("{} with {person}", shift.kind.replace('_', " ")))
            ),
            format!("LOCATION:{}", text(district)),
            "END:VEVENT".to_owned(),
        ]);
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_same_text() {
        let line = format!("SUMMARY:{}", "é".repeat(60));
        let mut out = String::new();
        fold(&line, &mut out);
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(out.replace("\r\n ", "").trim_end(), line);
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}

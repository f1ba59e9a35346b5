//! Refresh tokens and login throttle counts.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::throttle::FailureCount;
use crate::db::schema::{login_throttles, organisations, refresh_tokens, users};
use crate::db::DbConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_refresh_token(conn: &mut DbConnection, token: &RefreshToken) -> AppResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> AppResult<Option<RefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a token spent, only if nobody else spent it first; true when this call did.
pub fn spend_refresh_token(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?)
}

pub fn failure_count(conn: &mut DbConnection, key_hash: &str) -> AppResult<Option<FailureCount>> {
    let row: Option<(i32, NaiveDateTime)> = login_throttles::table
        .find(key_hash)
        .select((
            login_throttles::failures,
            login_throttles::window_started_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(failures, started)| FailureCount {
        failures: u32::try_from(failures).unwrap_or(0),
        window_started_at: started.and_utc(),
    }))
}

/// Counts one failure against a key, starting a new window when the old one has ended.
pub fn record_failure(
    conn: &mut DbConnection,
    key_hash: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now_naive = now.naive_utc();
    crate::db::write_transaction(conn, |conn| {
        match failure_count(conn, key_hash)? {
            Some(count) if now < count.window_started_at + window => {
                diesel::update(login_throttles::table.find(key_hash))
                    .set((
                        login_throttles::failures.eq(login_throttles::failures + 1),
                        login_throttles::last_failure_at.eq(now_naive),
                    ))
                    .execute(conn)?;
            }
            Some(_) => {
                diesel::update(login_throttles::table.find(key_hash))
                    .set((
                        login_throttles::failures.eq(1),
                        login_throttles::window_started_at.eq(now_naive),
                        login_throttles::last_failure_at.eq(now_naive),
                    ))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(login_throttles::table)
                    .values((
                        login_throttles::key_hash.eq(key_hash),
                        login_throttles::failures.eq(1),
                        login_throttles::window_started_at.eq(now_naive),
                        login_throttles::last_failure_at.eq(now_naive),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

pub fn clear_failures(conn: &mut DbConnection, key_hash: &str) -> AppResult<()> {
    diesel::delete(login_throttles::table.find(key_hash)).execute(conn)?;
    Ok(())
}

/// Housekeeping: drops refresh tokens a day past expiry and throttle counts past their window.
pub fn purge_expired(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> AppResult<usize> {
    let tokens = diesel::delete(
        refresh_tokens::table
            .filter(refresh_tokens::expires_at.lt((now - chrono::Duration::days(1)).naive_utc())),
    )
    .execute(conn)?;
    let throttles = diesel::delete(
        login_throttles::table
            .filter(login_throttles::window_started_at.lt((now - window).naive_utc())),
    )
    .execute(conn)?;
    Ok(tokens + throttles)
}

/// Where access tokens' holders stand now, in one statement for them all: for each
/// (user, organisation, session), the account's role if the account, its organisation and (for a
/// token of a session) the session are still live; `None` otherwise. A session lives while its
/// family holds a token nobody revoked (logout, logout everywhere, a password change
/// elsewhere, a reused refresh token, deactivation).
pub fn live_roles(
    conn: &mut DbConnection,
    callers: &[(&str, &str, Option<&str>)],
) -> AppResult<Vec<Option<String>>> {
    let ids: Vec<&str> = callers.iter().map(|c| c.0).collect();
    let sessions: Vec<&str> = callers.iter().filter_map(|c| c.2).collect();
    let rows: Vec<(String, String, String, Option<String>)> = users::table
        .inner_join(organisations::table)
        .left_join(
            refresh_tokens::table.on(refresh_tokens::user_id
                .eq(users::id)
                .and(refresh_tokens::revoked_at.is_null())
                .and(refresh_tokens::family_id.eq_any(&sessions))),
        )
        .filter(users::id.eq_any(&ids))
        .filter(users::active.eq(true))
        .filter(organisations::deactivated_at.is_null())
        .select((
            users::id,
            users::organisation_id,
            users::role,
            refresh_tokens::family_id.nullable(),
        ))
        .load(conn)?;
    Ok(callers
        .iter()
        .map(|(user, organisation, session)| {
            let mine = rows.iter().filter(|r| r.0 == *user && r.1 == *organisation);
            let mut live = mine.clone().filter(|r| match session {
                Some(s) => r.3.as_deref() == Some(*s),
                None => true,
            });
            live.next().map(|r| r.2.clone())
        })
        .collect())
}

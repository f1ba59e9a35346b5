//! Queries for organisations and users.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::model::{Organisation, User};
use crate::db::schema::{organisations, refresh_tokens, users};
use crate::db::DbConnection;
use crate::error::AppResult;

pub fn find_organisation(conn: &mut DbConnection, id: &str) -> AppResult<Option<Organisation>> {
    Ok(organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
        .optional()?)
}

/// Organisations in an area (for commissioners), or just one (for everyone else).
pub fn list_organisations(
    conn: &mut DbConnection,
    area_code: Option<&str>,
    only_id: Option<&str>,
) -> AppResult<Vec<Organisation>> {
    let mut query = organisations::table
        .order(organisations::name.asc())
        .select(Organisation::as_select())
        .into_boxed();
    if let Some(area) = area_code {
        query = query.filter(organisations::area_code.eq(area.to_owned()));
    }
    if let Some(id) = only_id {
        query = query.filter(organisations::id.eq(id.to_owned()));
    }
    Ok(query.load(conn)?)
}

pub fn insert_organisation(conn: &mut DbConnection, organisation: &Organisation) -> AppResult<()> {
    diesel::insert_into(organisations::table)
        .values(organisation)
        .execute(conn)?;
    Ok(())
}

pub fn find_user(conn: &mut DbConnection, id: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_user_by_email(conn: &mut DbConnection, email: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_user_by_client_id(conn: &mut DbConnection, client_id: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::client_id.eq(client_id))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_user(conn: &mut DbConnection, user: &User) -> AppResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

pub fn list_users(
    conn: &mut DbConnection,
    organisation_id: &str,
    role: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<User>> {
    let mut query = users::table
        .filter(users::organisation_id.eq(organisation_id.to_owned()))
        .order(users::id.asc())
        .limit(limit + 1)
        .select(User::as_select())
        .into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.to_owned()));
    }
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub secret_hash: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_user(conn: &mut DbConnection, id: &str, changes: &UserChanges) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

/// Ends every session of a user but `keep` (a password change keeps the caller's own).
pub fn revoke_other_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> AppResult<usize> {
    let mut query = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(refresh_tokens::family_id.ne(keep));
    }
    Ok(query
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?)
}

/// Ends every session of a user (deactivation, logout everywhere).
pub fn revoke_all_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?)
}

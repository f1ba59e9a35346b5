//! The OAuth 2.0 grants (RFC 6749): password, refresh_token and client_credentials. Synchronous,
//! run on the blocking pool: they hash passwords and touch the database.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::model::{normalise_email, User};
use crate::accounts::repo as accounts;
use crate::auth::repo::{self, RefreshToken};
use crate::auth::throttle::{self, Decision, ThrottlePolicy};
use crate::auth::token::{hash_refresh_token, new_refresh_token, JwtKeys, Subject};
use crate::auth::{password, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: each refresh answers with a new one. Absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// What a credential check came to, with the throttle's verdict on how to answer.
pub enum Attempt {
    Refused {
        retry_after_secs: u64,
    },
    Answered {
        result: AppResult<TokenResponse>,
        delay: Option<std::time::Duration>,
    },
}

pub struct GrantContext<'a> {
    pub keys: &'a JwtKeys,
    pub refresh_ttl: Duration,
    pub throttle: ThrottlePolicy,
    pub now: DateTime<Utc>,
}

/// Password grant for people; client-credentials grant for payroll clients. Both are throttled
/// per login and per client address.
pub fn credentials_grant(
    conn: &mut DbConnection,
    context: &GrantContext<'_>,
    login: &str,
    secret: &str,
    client_address: &str,
    machine: bool,
) -> AppResult<Attempt> {
    let login = if machine {
        login.trim().to_owned()
    } else {
        normalise_email(login)
    };
    let account_key = throttle::account_key(&login);
    let address_key = throttle::address_key(client_address);
    let decision = throttle::stricter(
        throttle::decide(
            &context.throttle,
            repo::failure_count(conn, &account_key)?,
            context.now,
        ),
        throttle::decide(
            &context.throttle,
            repo::failure_count(conn, &address_key)?,
            context.now,
        ),
    );
    let delay = match decision {
        Decision::Refuse { retry_after_secs } => return Ok(Attempt::Refused { retry_after_secs }),
        Decision::Slow(delay) => Some(delay),
        Decision::Allow => None,
    };

    let user = if machine {
        accounts::find_user_by_client_id(conn, &login)?
    } else {
        accounts::find_user_by_email(conn, &login)?
    };
    let verified = match &user {
        Some(user) => password::verify(secret, &user.secret_hash),
        None => {
            password::verify_against_nothing(secret);
            false
        }
    };
    let user =
        user.filter(|u| verified && u.active && u.role().is_ok_and(|r| r.is_machine() == machine));
    let Some(user) = user else {
        repo::record_failure(conn, &account_key, context.throttle.window, context.now)?;
        repo::record_failure(conn, &address_key, context.throttle.window, context.now)?;
        let error = if machine {
            AppError::InvalidClient
        } else {
            AppError::InvalidGrant("the e-mail or password is wrong")
        };
        return Ok(Attempt::Answered {
            result: Err(error),
            delay,
        });
    };
    repo::clear_failures(conn, &account_key)?;
    let result = write_transaction(conn, |conn| issue(conn, context, &user, None, !machine));
    Ok(Attempt::Answered { result, delay })
}

enum Refreshed {
    Issued(TokenResponse),
    /// A spent token came back: someone holds a copy. The family is revoked and the caller refused.
    Reused,
}

pub fn refresh_grant(
    conn: &mut DbConnection,
    context: &GrantContext<'_>,
    presented: &str,
) -> AppResult<TokenResponse> {
    let token_hash = hash_refresh_token(presented);
    let now = context.now.naive_utc();
    let outcome = write_transaction(conn, |conn| {
        let token = repo::find_refresh_token(conn, &token_hash)?
            .ok_or(AppError::InvalidGrant("the refresh token is not valid"))?;
        if token.revoked_at.is_some() {
            return Err(AppError::InvalidGrant("the refresh token has been revoked"));
        }
        if token.used_at.is_some() || !repo::spend_refresh_token(conn, &token.id, now)? {
            repo::revoke_family(conn, &token.family_id, now)?;
            return Ok(Refreshed::Reused);
        }
        if token.expires_at <= now {
            return Err(AppError::InvalidGrant("the refresh token has expired"));
        }
        let user = accounts::find_user(conn, &token.user_id)?
            .filter(|u| u.active)
            .ok_or(AppError::InvalidGrant("the account is not active"))?;
        issue(conn, context, &user, Some(&token.family_id), true).map(Refreshed::Issued)
    })?;
    match outcome {
        Refreshed::Issued(response) => Ok(response),
        Refreshed::Reused => {
            tracing::warn!("spent refresh token presented again; its family is revoked");
            Err(AppError::InvalidGrant(
                "the refresh token has already been used",
            ))
        }
    }
}

fn issue(
    conn: &mut DbConnection,
    context: &GrantContext<'_>,
    user: &User,
    family_id: Option<&str>,
    with_refresh_token: bool,
) -> AppResult<TokenResponse> {
    let organisation = accounts::find_organisation(conn, &user.organisation_id)?
        .filter(|o| o.deactivated_at.is_none())
        .ok_or(AppError::InvalidGrant("the organisation is not active"))?;
    let role: Role = user.role()?;
    let family_id =
        with_refresh_token.then(|| family_id.map_or_else(crate::ids::new_id, ToOwned::to_owned));
    let subject = Subject {
        user_id: user.id.clone(),
        organisation_id: organisation.id.clone(),
        role,
        area_code: organisation.area_code.clone(),
        session_id: family_id.clone(),
    };
    let access_token = context.keys.issue(&subject, context.now)?;
    let refresh_token = if let Some(family_id) = family_id {
        let token = new_refresh_token();
        repo::insert_refresh_token(
            conn,
            &RefreshToken {
                id: crate::ids::new_id(),
                family_id,
                user_id: user.id.clone(),
                token_hash: hash_refresh_token(&token),
                issued_at: context.now.naive_utc(),
                expires_at: (context.now + context.refresh_ttl).naive_utc(),
                used_at: None,
                revoked_at: None,
            },
        )?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: context.keys.access_ttl.num_seconds(),
        refresh_token,
    })
}

/// Logout: ends the session the refresh token belongs to, or every session of the user.
pub fn logout(
    conn: &mut DbConnection,
    user_id: &str,
    presented: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = now.naive_utc();
    match presented {
        Some(token) => {
            if let Some(found) = repo::find_refresh_token(conn, &hash_refresh_token(token))? {
                // Another user's token is left alone, and the answer does not say so.
                if found.user_id == user_id {
                    repo::revoke_family(conn, &found.family_id, now)?;
                }
            }
        }
        None => {
            accounts::revoke_all_sessions(conn, user_id, now)?;
        }
    }
    Ok(())
}

//! Who is calling: roles, the `AuthUser` extractor, tokens, passwords, login throttling, and the
//! one place (`policy`) that answers whether a caller may act on a resource.

pub mod password;
pub mod policy;
pub mod repo;
pub mod throttle;
pub mod token;

use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::telemetry::RequestId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administers one organisation: its users and settings.
    Admin,
    /// Looks after up to ten budget holders and their teams of PAs.
    TeamManager,
    /// A personal assistant, using the mobile app.
    Pa,
    /// The person with the budget, or a representative acting for them.
    BudgetHolder,
    /// A machine client that pulls payroll exports (client credentials).
    PayrollProvider,
    /// Read-only oversight across the organisations in its area.
    Commissioner,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::TeamManager,
        Role::Pa,
        Role::BudgetHolder,
        Role::PayrollProvider,
        Role::Commissioner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::TeamManager => "team_manager",
            Role::Pa => "pa",
            Role::BudgetHolder => "budget_holder",
            Role::PayrollProvider => "payroll_provider",
            Role::Commissioner => "commissioner",
        }
    }

    /// Machine clients authenticate with client credentials, people with passwords.
    pub fn is_machine(self) -> bool {
        self == Role::PayrollProvider
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// The authenticated caller, from a valid bearer access token whose account, organisation and
/// session are still live, with the role the account has now.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub organisation_id: String,
    pub role: Role,
    /// The commissioning area of the caller's organisation.
    pub area_code: String,
    /// The request this caller made, for audit records.
    pub request_id: Option<String>,
    /// The session (refresh-token family) of the token, if any.
    pub session_id: Option<String>,
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verify(req);
        Box::pin(async move {
            let (caller, pool) = verified?;
            // Revoked means revoked on the next request, on every instance: the account, its
            // organisation and the session are read from the database each time.
            let checked = caller.clone();
            let live = crate::db::run(&pool, move |conn| {
                sessions_live(conn, std::slice::from_ref(&&checked))
            })
            .await?;
            if live.first() != Some(&true) {
                return Err(ended());
            }
            Ok(caller)
        })
    }
}

/// A caller from a valid token whose account and session are still to be read, for the busiest
/// endpoints: the check then runs inside the request's own unit of work (`checked`, on the
/// connection it already holds), or, for clock events, once per batch in the writer
/// (`for_batch`), instead of costing a round trip of its own. Everything else takes `AuthUser`.
pub struct TokenCaller(AuthUser);

impl TokenCaller {
    /// The caller, once `sessions_live` says the token still speaks for them.
    pub fn checked(self, conn: &mut crate::db::DbConnection) -> AppResult<AuthUser> {
        if sessions_live(conn, &[&self.0])?.first() == Some(&true) {
            Ok(self.0)
        } else {
            Err(ended())
        }
    }

    /// The caller for a clock event: the writer checks every event's session with its batch.
    pub fn for_batch(self) -> AuthUser {
        self.0
    }
}

impl FromRequest for TokenCaller {
    type Error = AppError;
    type Future = futures_util::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        futures_util::future::ready(verify(req).map(|(caller, _)| TokenCaller(caller)))
    }
}

/// The one rule for whether a token still speaks for its holder: the account, its
/// organisation and its session are live, and the role is the one the token was issued with.
pub fn sessions_live(
    conn: &mut crate::db::DbConnection,
    callers: &[&AuthUser],
) -> AppResult<Vec<bool>> {
    let asked: Vec<(&str, &str, Option<&str>)> = callers
        .iter()
        .map(|c| {
            (
                c.user_id.as_str(),
                c.organisation_id.as_str(),
                c.session_id.as_deref(),
            )
        })
        .collect();
    Ok(repo::live_roles(conn, &asked)?
        .into_iter()
        .zip(callers)
        .map(|(role, caller)| role.as_deref() == Some(caller.role.as_str()))
        .collect())
}

/// The refusal of a token whose session has ended.
pub fn ended() -> AppError {
    AppError::Unauthenticated("the session has ended: sign in again")
}

type Verified = (AuthUser, crate::db::DbPool);

/// The caller a token names, if its signature and expiry hold.
fn verify(req: &HttpRequest) -> Result<Verified, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let keys = req
        .app_data::<web::Data<token::JwtKeys>>()
        .ok_or_else(|| AppError::internal("signing keys missing"))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AppError::Unauthenticated("a bearer token is required"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or(AppError::Unauthenticated("use the Bearer scheme"))?;
    let claims = keys
        .verify(token.trim())
        .map_err(|_| AppError::Unauthenticated("the token is invalid or has expired"))?;
    let role: Role = claims
        .role
        .parse()
        .map_err(|()| AppError::Unauthenticated("the token is invalid or has expired"))?;
    Ok((
        AuthUser {
            user_id: claims.sub,
            organisation_id: claims.org,
            role,
            area_code: claims.area,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
            session_id: claims.sid,
        },
        state.pool.clone(),
    ))
}

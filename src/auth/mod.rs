//! Who is calling: roles, the `AuthUser` extractor, tokens, passwords, login throttling, and the
//! one place (`policy`) that answers whether a caller may act on a resource.

pub mod grants;
pub mod handlers;
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

use crate::app::AppState;
use crate::error::AppError;
use crate::telemetry::RequestId;

pub use handlers::configure;

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
            let (claims, pool, request_id) = verified?;
            let role: Role = claims
                .role
                .parse()
                .map_err(|()| AppError::Unauthenticated("the token is invalid or has expired"))?;
            // Revoked means revoked on the next request, on every instance: the account, its
            // organisation and the session are read from the database each time (one indexed
            // query), and a token whose role has since changed is refused.
            let (user, organisation, session) =
                (claims.sub.clone(), claims.org.clone(), claims.sid.clone());
            let now_role = crate::db::run(&pool, move |conn| {
                repo::live_role(conn, &user, &organisation, session.as_deref())
            })
            .await?;
            if now_role.as_deref() != Some(role.as_str()) {
                return Err(AppError::Unauthenticated(
                    "the session has ended: sign in again",
                ));
            }
            Ok(AuthUser {
                user_id: claims.sub,
                organisation_id: claims.org,
                role,
                area_code: claims.area,
                request_id,
                session_id: claims.sid,
            })
        })
    }
}

type Verified = (token::Claims, crate::db::DbPool, Option<String>);

/// The token's claims, if its signature and expiry hold.
fn verify(req: &HttpRequest) -> Result<Verified, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
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
    let claims = state
        .keys
        .verify(token.trim())
        .map_err(|_| AppError::Unauthenticated("the token is invalid or has expired"))?;
    Ok((
        claims,
        state.pool.clone(),
        req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    ))
}

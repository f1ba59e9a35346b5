//! Signing in and out: `POST /api/v1/auth/token` (the OAuth 2.0 grants) and
//! `POST /api/v1/auth/logout`.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use crate::accounts::grants::{self, Attempt, GrantContext, TokenResponse};
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::token::JwtKeys;
use crate::auth::AuthUser;
use crate::error::{problem, AppError, AppResult, Problem};
use crate::http::{is_json_content, parse_json, LimitedBody};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(issue_token).service(logout);
}

/// An OAuth 2.0 token request (RFC 6749 §4.3, §4.4, §6), as JSON or form-encoded.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TokenRequest {
    /// `password`, `refresh_token` or `client_credentials`.
    pub grant_type: String,
    /// The e-mail address (password grant).
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    /// Client credentials may also come in an HTTP Basic `Authorization` header.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Accepted and ignored: access follows the account's role.
    pub scope: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// End this session only; without it every session of the caller ends.
    pub refresh_token: Option<String>,
}

/// Issue an access token (15 minutes) and a rotating refresh token. Who may call: anyone
/// holding credentials; payroll clients use `client_credentials`.
#[utoipa::path(
    tag = "auth",
    operation_id = "create_token",
    request_body(content = TokenRequest, content_type = "application/json",
        description = "Also accepted as application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "Invalid grant or malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Client authentication failed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor form-encoded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A required field is missing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    keys: web::Data<JwtKeys>,
    req: HttpRequest,
    body: LimitedBody,
) -> AppResult<HttpResponse> {
    let request = read_token_request(&req, &body.0)?;
    let basic = basic_credentials(&req);
    let settings = &state.settings;
    let refresh_ttl = Duration::days(i64::try_from(settings.refresh_token_ttl_days).unwrap_or(30));
    let throttle = ThrottlePolicy::from_settings(settings);
    let address = client_address(&req, settings.trust_forwarded_for);

    let grant = request.grant_type.as_str();
    let (login, secret, machine) = match grant {
        "password" => (
            required(request.username, "username")?,
            required(request.password, "password")?,
            false,
        ),
        "client_credentials" => match (request.client_id, request.client_secret, basic) {
            (Some(id), Some(secret), _) => (id, secret, true),
            (_, _, Some((id, secret))) => (id, secret, true),
            _ => return Err(AppError::InvalidClient),
        },
        "refresh_token" => {
            let token = required(request.refresh_token, "refresh_token")?;
            let keys = keys.clone();
            let response = crate::db::run(&state.pool, move |conn| {
                let context = GrantContext {
                    keys: &keys,
                    refresh_ttl,
                    throttle,
                    now: Utc::now(),
                };
                grants::refresh_grant(conn, &context, &token)
            })
            .await?;
            return Ok(token_response(&response));
        }
        _ => return Err(AppError::UnsupportedGrantType),
    };

    let attempt = crate::db::run(&state.pool, move |conn| {
        let context = GrantContext {
            keys: &keys,
            refresh_ttl,
            throttle,
            now: Utc::now(),
        };
        grants::credentials_grant(conn, &context, &login, &secret, &address, machine)
    })
    .await?;
    match attempt {
        Attempt::Refused { retry_after_secs } => {
            Err(AppError::TooManyRequests { retry_after_secs })
        }
        Attempt::Answered { result, delay } => {
            if let Some(delay) = delay {
                actix_web::rt::time::sleep(delay).await;
            }
            result.map(|response| token_response(&response))
        }
    }
}

/// End a session (or all of the caller's sessions). Who may call: any authenticated user.
#[utoipa::path(
    tag = "auth",
    operation_id = "create_logout",
    request_body(content = Option<LogoutRequest>, content_type = "application/json"),
    responses(
        (status = 204, description = "The session's refresh tokens are revoked"),
        problem::Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: LimitedBody,
) -> AppResult<HttpResponse> {
    // No body, or JSON `null` (which the schema allows), ends every session.
    let request: LogoutRequest = if body.0.is_empty() || body.0.trim_ascii() == b"null" {
        LogoutRequest::default()
    } else if is_json_content(&req) {
        parse_json(&body.0)?
    } else {
        return Err(AppError::UnsupportedMediaType(
            "send the body as application/json".into(),
        ));
    };
    crate::db::run(&state.pool, move |conn| {
        grants::logout(
            conn,
            &user.user_id,
            request.refresh_token.as_deref(),
            Utc::now(),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn read_token_request(req: &HttpRequest, body: &[u8]) -> AppResult<TokenRequest> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let request: TokenRequest = serde_urlencoded::from_bytes(body).map_err(|e| {
            AppError::Validation(vec![crate::error::FieldError::new(
                "body",
                "invalid",
                e.to_string(),
            )])
        })?;
        Ok(request)
    } else if is_json_content(req) {
        parse_json(body)
    } else {
        Err(AppError::UnsupportedMediaType(
            "send application/json or application/x-www-form-urlencoded".into(),
        ))
    }
}

fn required(value: Option<String>, field: &str) -> AppResult<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::field(field, "required", "is required for this grant type"))
}

/// RFC 6749 §2.3.1: client id and secret in an HTTP Basic header, form-encoded.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

fn token_response(response: &TokenResponse) -> HttpResponse {
    // RFC 6749 §5.1: token responses must not be cached.
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response)
}

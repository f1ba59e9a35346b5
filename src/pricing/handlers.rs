//! Pricing over HTTP: rate cards and indicative budgets. Each handler states who may call it;
//! the rules themselves live in `auth::policy`.

use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::db;
use crate::error::{problem, AppResult, Problem};
use crate::http::Json;
use crate::http::PathId;
use crate::pricing::dto::*;
use crate::pricing::service;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_rate_cards)
        .service(create_rate_card)
        .service(read_rate_card)
        .service(create_rate_card_version)
        .service(create_quote);
}

/// The organisation's rate cards, personalised and framework, with every version. Who may call: admins and team managers.
#[utoipa::path(
    tag = "pricing",
    operation_id = "list_rate_cards",
    responses(
        (status = 200, description = "Rate cards", body = Vec<RateCardView>),
        problem::Unauthenticated,
        problem::NotAllowed,
    ),
    security(("bearer" = []))
)]
#[get("/rate-cards")]
pub async fn list_rate_cards(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let cards = db::run(&state.pool, move |conn| service::list_cards(conn, &user)).await?;
    Ok(HttpResponse::Ok().json(cards))
}

/// Create a rate card with its first version. Pay below the National Living Wage in force on its date is refused (422 `below_minimum_wage`, naming the level). Who may call: admins.
#[utoipa::path(
    tag = "pricing",
    operation_id = "create_rate_card",
    request_body = CreateRateCard,
    responses(
        (status = 201, description = "Created", body = RateCardView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/rate-cards")]
pub async fn create_rate_card(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreateRateCard>,
) -> AppResult<HttpResponse> {
    let card = db::run(&state.pool, move |conn| {
        service::create_card(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/rate-cards/{}", card.id)))
        .json(card))
}

/// One rate card with every version. Who may call: admins and team managers.
#[utoipa::path(
    tag = "pricing",
    operation_id = "read_rate_card",
    params(("id" = String, Path, description = "Id")),
    responses(
        (status = 200, description = "The rate card", body = RateCardView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/rate-cards/{id}")]
pub async fn read_rate_card(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let card = db::run(&state.pool, move |conn| {
        service::read_card(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(card))
}

/// A new version of a rate card from a later date (after today: versions in force never change). Who may call: admins.
#[utoipa::path(
    tag = "pricing",
    operation_id = "create_rate_card_version",
    params(("id" = String, Path, description = "Id")),
    request_body = CreateRateCardVersion,
    responses(
        (status = 201, description = "The card with the new version", body = RateCardView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "A version from that date exists", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/rate-cards/{id}/versions")]
pub async fn create_rate_card_version(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<CreateRateCardVersion>,
) -> AppResult<HttpResponse> {
    let card = db::run(&state.pool, move |conn| {
        service::add_version(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(card))
}

/// The indicative budget for a weekly support pattern: priced shift by shift in Europe/London under a personalised card (the version in force on each shift's date), with every uplift, statutory and organisational on-cost, contingency and total, per year (or the weeks asked) and per week; side by side with a social-care framework card when one is named, and the difference. Who may call: admins and team managers.
#[utoipa::path(
    tag = "pricing",
    operation_id = "create_quote",
    request_body = QuoteRequest,
    responses(
        (status = 200, description = "The priced pattern", body = QuoteView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 422, description = "Invalid fields, each named (including `below_minimum_wage` and `wrong_kind`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/pricing/quote")]
pub async fn create_quote(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<QuoteRequest>,
) -> AppResult<HttpResponse> {
    let quote = db::run(&state.pool, move |conn| {
        service::quote(conn, &user, request, Utc::now().date_naive())
    })
    .await?;
    Ok(HttpResponse::Ok().json(quote))
}

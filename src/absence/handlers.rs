//! Absence and cover over HTTP. Each handler states who may call it; the rules live in
//! `auth::policy`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::absence::dto::*;
use crate::absence::model::AbsenceTotals;
use crate::absence::service;
use crate::auth::AuthUser;
use crate::db;
use crate::error::{problem, AppResult, Problem};
use crate::http::{if_match, Json, PathId};
use crate::idempotency;
use crate::rostering::cover;
use crate::rostering::dto::{CoverListQuery, CoverOfferRequest, CoverRequestView};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(report_absence)
        .service(list_my_absences)
        .service(record_absence)
        .service(list_absences)
        .service(correct_absence)
        .service(absence_totals)
        .service(list_cover_requests)
        .service(read_cover_request)
        .service(offer_cover);
}

/// Report yourself absent (sickness, an emergency, other) from today or a coming day, with the last day if known and, if you like, the shifts you cannot work. `Idempotency-Key` is required (the app's offline queue resends with the same key). Each of your published shifts it touches that has not started is taken off you and opened at once: the roster's version moves, the pay committed to the person's budget is released, the team manager is told and the cover search offers it to the best qualified PAs the safety gate allows. Who may call: PAs, for themselves.
#[utoipa::path(
    tag = "absence",
    operation_id = "report_absence",
    params(("Idempotency-Key" = String, Header, description = "A new key per report, the same on a retry")),
    request_body = ReportAbsence,
    responses(
        (status = 201, description = "The absence, with the cover searches it opened", body = AbsenceView),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 409, description = "The key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: a kind a manager records, dates, an overlap with another absence, a shift not yours or already worked", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/pas/me/absences")]
pub async fn report_absence(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    Json(request): Json<ReportAbsence>,
) -> AppResult<HttpResponse> {
    let key = idempotency::required_key_of(&req)?;
    let answer = db::run(&state.pool, move |conn| {
        service::report(conn, &user, request, &key, Utc::now())
    })
    .await?;
    Ok(answer.into_response())
}

/// Your own absences from a year ago on. Who may call: PAs, for themselves.
#[utoipa::path(
    tag = "absence",
    operation_id = "list_my_absences",
    responses(
        (status = 200, description = "Absences", body = Vec<AbsenceView>),
        problem::Unauthenticated,
        problem::NotAPa,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/absences")]
pub async fn list_my_absences(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let list = db::run(&state.pool, move |conn| {
        service::mine(conn, &user, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Record an absence for a PA: sickness (with a fit note's dates past seven days), annual leave taken, compassionate, parental, unpaid, training, an emergency or other; past or coming. Shifts it touches that have not started open for cover as a PA's own report does. Who may call: team managers and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "record_absence",
    request_body = RecordAbsence,
    responses(
        (status = 201, description = "The absence", body = AbsenceView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/absences")]
pub async fn record_absence(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<RecordAbsence>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::record(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Absences touching `from` to `to` (at most a year), one PA's when `pa_id` is given. Who may call: team managers and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "list_absences",
    params(AbsenceListQuery),
    responses(
        (status = 200, description = "Absences", body = Vec<AbsenceView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/absences")]
pub async fn list_absences(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AbsenceListQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let list = db::run(&state.pool, move |conn| {
        service::list(conn, &user, &query, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Correct an absence (send `If-Match` with its version): kind, dates, fit note. It is never deleted; the audit trail keeps what it was. Days it newly covers take the PA off their shifts there. Who may call: team managers and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "correct_absence",
    params(("id" = String, Path, description = "Absence id"), ("If-Match" = String, Header, description = "The version being corrected")),
    request_body = CorrectAbsence,
    responses(
        (status = 200, description = "The absence as corrected", body = AbsenceView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 412, description = "Someone corrected it first", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/absences/{id}")]
pub async fn correct_absence(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(id): PathId,
    Json(request): Json<CorrectAbsence>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let view = db::run(&state.pool, move |conn| {
        service::correct(conn, &user, &id, expected, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", view.version)))
        .json(view))
}

/// Each PA's days and spells away within `from` to `to`, sickness apart. No Bradford factor: it scores the frequent short absences of a long-term condition as the worst. Who may call: team managers and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "absence_totals",
    params(AbsenceTotalsQuery),
    responses(
        (status = 200, description = "Per PA", body = Vec<AbsenceTotals>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/absence-totals")]
pub async fn absence_totals(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AbsenceTotalsQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let list = db::run(&state.pool, move |conn| {
        service::totals(conn, &user, &query, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The organisation's cover requests in a status (`searching` by default), the soonest shift first, each with its offers and how long the first offers took. Who may call: team managers and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "list_cover_requests",
    params(CoverListQuery),
    responses(
        (status = 200, description = "Cover requests", body = Vec<CoverRequestView>),
        problem::Unauthenticated,
        problem::NotAllowed,
    ),
    security(("bearer" = []))
)]
#[get("/cover-requests")]
pub async fn list_cover_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<CoverListQuery>,
) -> AppResult<HttpResponse> {
    let status = query
        .into_inner()
        .status
        .unwrap_or_else(|| "searching".into());
    let list = db::run(&state.pool, move |conn| cover::list(conn, &user, &status)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One cover request: its offers, and while it searches every PA the safety gate allows on the shift now, ranked (the person's team first, then nearby, then anyone), each with why. Who may call: the team manager of the roster and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "read_cover_request",
    params(("id" = String, Path, description = "Cover request id")),
    responses(
        (status = 200, description = "The cover request", body = CoverRequestView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/cover-requests/{id}")]
pub async fn read_cover_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| cover::read(conn, &user, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Offer the shift to a PA directly (e-mailed at once); the safety gate must allow them on it now. Taking it is the open-shift acceptance, as for every offer. Who may call: the team manager of the roster and admins.
#[utoipa::path(
    tag = "absence",
    operation_id = "offer_cover",
    params(("id" = String, Path, description = "Cover request id")),
    request_body = CoverOfferRequest,
    responses(
        (status = 200, description = "The cover request with the offer", body = CoverRequestView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "No longer searching (`cover_not_searching`)", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/cover-requests/{id}/offers")]
pub async fn offer_cover(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<CoverOfferRequest>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        cover::offer_directly(conn, &user, &id, &request.pa_id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

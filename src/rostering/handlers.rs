//! Support patterns over HTTP. Each handler states who may call it; the rules themselves live
//! in `auth::policy`.

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::db;
use crate::error::{problem, AppError, AppResult, Problem};
use crate::http::{Json, Page};
use crate::http::{PathId, PathIds};
use crate::market::index::MatchIndex;
use crate::rostering::dto::*;
use crate::rostering::model::PlannedShift;
use crate::rostering::service;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_support_changes)
        .service(create_support_change)
        .service(cancel_support_change)
        .service(list_planned_shifts)
        .service(create_roster)
        .service(read_roster)
        .service(edit_roster)
        .service(publish_roster)
        .service(list_my_shifts)
        .service(create_calendar_feed)
        .service(revoke_calendar_feed)
        .service(read_calendar_feed)
        .service(list_my_open_shifts)
        .service(accept_open_shift)
        .service(decline_open_shift)
        .service(create_swap_request)
        .service(list_my_swap_requests)
        .service(list_roster_swap_requests)
        .service(accept_swap_request)
        .service(decline_swap_request)
        .service(withdraw_swap_request)
        .service(decide_swap_request)
        .service(start_roster_run)
        .service(read_roster_run)
        .service(read_working_time)
        .service(put_working_time)
        .service(list_expiring_items);
}

use crate::http::if_match;

fn with_etag(response: &mut actix_web::HttpResponseBuilder, version: i64) {
    response.insert_header(("ETag", format!("\"{version}\"")));
}

/// Generate a draft roster for a team manager's people over up to 42 days: each shift staffed by PAs who pass every hard rule (competency with valid evidence and the person's own clinical sign-off, checks, availability and leave, no double booking including travel, 11 h daily rest, weekly rest, the 48-hour week, the do-not-match list; 2:1 with two different PAs or left open), optimised for continuity, wanted hours, fairness, travel and pay within the time limit. Open shifts carry the reason. Who may call: team managers (for their own people) and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "create_roster",
    request_body = GenerateRoster,
    responses(
        (status = 201, description = "The draft roster; ETag is its version", body = RosterView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/rosters")]
pub async fn create_roster(
    state: web::Data<AppState>,
    index: web::Data<MatchIndex>,
    user: AuthUser,
    Json(request): Json<GenerateRoster>,
) -> AppResult<HttpResponse> {
    let index = index.into_inner();
    let roster = db::run(&state.pool, move |conn| {
        crate::rostering::generate::generate(conn, &index, &user, request, Utc::now())
    })
    .await?;
    let mut response = HttpResponse::Created();
    with_etag(&mut response, roster.version);
    Ok(response
        .insert_header(("Location", format!("/api/v1/rosters/{}", roster.id)))
        .json(roster))
}

/// One roster with its shifts, who is on each, open shifts with their reasons, and the score by goal. Who may call: the team manager who made it, and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "read_roster",
    params(("id" = String, Path, description = "Roster id")),
    responses(
        (status = 200, description = "The roster; ETag is its version", body = RosterView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/rosters/{id}")]
pub async fn read_roster(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let roster = db::run(&state.pool, move |conn| {
        crate::rostering::generate::read(conn, &user, &id)
    })
    .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&mut response, roster.version);
    Ok(response.json(roster))
}

/// One-off changes to the person's weekly support pattern, cancelled ones included. Who may call: their team manager and admins; the person and their representative.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_support_changes",
    params(("id" = String, Path, description = "Budget holder id")),
    responses(
        (status = 200, description = "Changes by date", body = Vec<SupportChangeView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/support-changes")]
pub async fn list_support_changes(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let changes = db::run(&state.pool, move |conn| {
        service::list_changes(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(changes))
}

/// Pause the pattern (a hospital stay, a holiday away) or add one extra shift. Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "create_support_change",
    params(("id" = String, Path, description = "Budget holder id")),
    request_body = CreateSupportChange,
    responses(
        (status = 201, description = "Recorded", body = SupportChangeView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/support-changes")]
pub async fn create_support_change(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<CreateSupportChange>,
) -> AppResult<HttpResponse> {
    let change = db::run(&state.pool, move |conn| {
        service::create_change(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(change))
}

/// Cancel a change made in error (it stays in the history). Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "cancel_support_change",
    params(("id" = String, Path, description = "Budget holder id"), ("change_id" = String, Path, description = "Change id")),
    responses(
        (status = 200, description = "Cancelled", body = SupportChangeView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Already cancelled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/support-changes/{change_id}/cancellation")]
pub async fn cancel_support_change(
    state: web::Data<AppState>,
    user: AuthUser,
    PathIds(holder_id, change_id): PathIds,
) -> AppResult<HttpResponse> {
    let change = db::run(&state.pool, move |conn| {
        service::cancel_change(conn, &user, &holder_id, &change_id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(change))
}

/// The shifts the person's support pattern asks for between two local dates (at most 92 days): weekly needs within their dates, less paused days, plus extra cover, each with its real start, end and hours in Europe/London. Who may call: their team manager and admins; the person and their representative.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_planned_shifts",
    params(("id" = String, Path, description = "Budget holder id"), PlannedShiftsQuery),
    responses(
        (status = 200, description = "Shifts in time order", body = Vec<PlannedShift>),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/planned-shifts")]
pub async fn list_planned_shifts(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    query: web::Query<PlannedShiftsQuery>,
) -> AppResult<HttpResponse> {
    let shifts = db::run(&state.pool, move |conn| {
        service::planned_shifts(conn, &user, &id, query.from, query.to)
    })
    .await?;
    Ok(HttpResponse::Ok().json(shifts))
}

/// Change a roster, draft or published: put PAs on a shift, open it, swap two PAs, or move a PA to a shift with a place free. Send `If-Match` with the ETag you read: a stale one is 412 and nothing changes (428 without it). Every hard rule is checked first: a broken one is a 422 naming the rule and the PA, and nothing changes. The answer holds the touched shifts, the new version (ETag) and what the change costs in pay. On a published roster the pay difference is committed to (or released from) the budget and only the PAs added or taken off are e-mailed. Who may call: the team manager who made it, and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "edit_roster",
    params(("id" = String, Path, description = "Roster id"), ("If-Match" = String, Header, description = "The ETag of the version being changed")),
    request_body = RosterEdit,
    responses(
        (status = 200, description = "Changed; ETag is the new version", body = EditOutcome),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 412, description = "Someone changed the roster first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a hard rule the change would break, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/rosters/{id}/edits")]
pub async fn edit_roster(
    state: web::Data<AppState>,
    user: AuthUser,
    req: actix_web::HttpRequest,
    PathId(id): PathId,
    Json(request): Json<RosterEdit>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let outcome = db::run(&state.pool, move |conn| {
        crate::rostering::edit::edit(conn, &user, &id, expected, request, Utc::now())
    })
    .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&mut response, outcome.version);
    Ok(response.json(outcome))
}

/// Publish a draft roster (send `If-Match` with its ETag): the whole roster passes the safety gate again, as things stand now, then it goes live, every staffed shift's pay (with holiday pay accrual) is committed to the person's approved budget, and each PA is e-mailed their shifts, in one transaction. Who may call: the team manager who made it, and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "publish_roster",
    params(("id" = String, Path, description = "Roster id"), ("If-Match" = String, Header, description = "The ETag of the version being published")),
    responses(
        (status = 200, description = "Published; ETag is the new version", body = RosterView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Already published (`not_a_draft`), a person has no approved budget for a shift's date (`no_approved_budget`), or the roster breaks a safety rule as things stand now (`unsafe_roster`, with `breaches` naming each shift, PA and rule: open those shifts by an edit, then publish)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Someone changed the roster first", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/rosters/{id}/publication")]
pub async fn publish_roster(
    state: web::Data<AppState>,
    user: AuthUser,
    req: actix_web::HttpRequest,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let roster = db::run(&state.pool, move |conn| {
        crate::rostering::publish::publish(conn, &user, &id, expected, Utc::now())
    })
    .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&mut response, roster.version);
    Ok(response.json(roster))
}

/// The calling PA's shifts on published rosters, in time order, paged (`cursor`), between two local dates (today and 8 weeks on when absent); `changed_since` returns only shifts on rosters changed after that instant, for the app's offline sync. Who may call: PAs, for themselves.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_my_shifts",
    params(MyShiftsQuery),
    responses(
        (status = 200, description = "A page of shifts", body = Page<MyShiftView>),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "No PA profile for this login", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/shifts")]
pub async fn list_my_shifts(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<MyShiftsQuery>,
) -> AppResult<HttpResponse> {
    let page = db::run(&state.pool, move |conn| {
        crate::rostering::mine::my_shifts(conn, &user, &query, Utc::now().date_naive())
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CalendarFeedCreated {
    /// The feed's address, relative to this server: shown this once, keep it secret.
    pub path: String,
}

/// A new calendar feed of the calling PA's shifts (any earlier feed stops working). The answer holds the secret address, shown once. Who may call: PAs, for themselves.
#[utoipa::path(
    tag = "rostering",
    operation_id = "create_calendar_feed",
    responses(
        (status = 201, description = "The feed's secret address", body = CalendarFeedCreated),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "No PA profile for this login", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/pas/me/calendar-feed")]
pub async fn create_calendar_feed(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let token = db::run(&state.pool, move |conn| {
        crate::rostering::calendar::create_feed(conn, &user, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(CalendarFeedCreated {
        path: format!("/api/v1/calendar-feeds/{token}"),
    }))
}

/// Stop the calling PA's calendar feed. Who may call: PAs, for themselves.
#[utoipa::path(
    tag = "rostering",
    operation_id = "revoke_calendar_feed",
    responses(
        (status = 204, description = "Revoked"),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "No PA profile for this login", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/pas/me/calendar-feed")]
pub async fn revoke_calendar_feed(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    db::run(&state.pool, move |conn| {
        crate::rostering::calendar::revoke_feed(conn, &user, Utc::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A PA's shifts on published rosters as iCalendar (RFC 5545, times in TZID Europe/London), from two weeks back to twelve ahead. Who may call: whoever holds the feed's secret address (a phone's calendar); a revoked or unknown one is 404.
#[utoipa::path(
    tag = "rostering",
    operation_id = "read_calendar_feed",
    params(("token" = String, Path, description = "The feed's secret")),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar"),
        (status = 404, description = "Unknown or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar-feeds/{token}")]
pub async fn read_calendar_feed(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner();
    if token.len() > 100 {
        return Err(AppError::NotFound);
    }
    let body = db::run(&state.pool, move |conn| {
        crate::rostering::calendar::feed(conn, &token, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(body))
}

/// Open shifts on published rosters that the calling PA may take (the marketplace's hard rules, their availability and leave), soonest first, with places left, the person's district and distance, and nothing more about the person. Who may call: PAs.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_my_open_shifts",
    responses(
        (status = 200, description = "Open shifts", body = Vec<OpenShiftView>),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "No PA profile for this login", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/open-shifts")]
pub async fn list_my_open_shifts(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let shifts = db::run(&state.pool, move |conn| {
        crate::rostering::open_shifts::list(conn, &user, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(shifts))
}

/// Take a place on an open shift. The first valid acceptance wins: a later one is 409 `already_taken`. The safety gate judges the PA on the shift's own dates beside everything else they work; a refusal is 409 `not_eligible` with `breaches` naming each rule. One place of a 2:1 shift with nobody on the other is held (`held_by_you`), not live, until a second PA accepts and both go live together; only then is the pay committed to the person's budget. Who may call: PAs of the roster's organisation.
#[utoipa::path(
    tag = "rostering",
    operation_id = "accept_open_shift",
    params(("id" = String, Path, description = "Roster shift id")),
    responses(
        (status = 200, description = "Yours, or held for you until a second PA takes the other place of a 2:1", body = OpenShiftView),
        problem::Unauthenticated,
        problem::NotAPa,
        problem::NotVisible,
        (status = 409, description = "Taken, already yours, started, or refused by the safety gate (`not_eligible`, with `breaches`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/roster-shifts/{id}/acceptance")]
pub async fn accept_open_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let shift = db::run(&state.pool, move |conn| {
        crate::rostering::open_shifts::accept(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(shift))
}

/// Decline an open shift: it is not offered to the calling PA again. Declining twice is fine. Who may call: PAs of the roster's organisation.
#[utoipa::path(
    tag = "rostering",
    operation_id = "decline_open_shift",
    params(("id" = String, Path, description = "Roster shift id")),
    responses(
        (status = 204, description = "Declined"),
        problem::Unauthenticated,
        problem::NotAPa,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[post("/roster-shifts/{id}/decline")]
pub async fn decline_open_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    db::run(&state.pool, move |conn| {
        crate::rostering::open_shifts::decline(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask a colleague to take one of your published shifts, or to swap it for one of theirs on the same roster (`their_shift_id`). The colleague is e-mailed; they accept or decline, then the team manager decides. One live request per shift. Who may call: a PA on the shift (others 404).
#[utoipa::path(
    tag = "rostering",
    operation_id = "create_swap_request",
    params(("id" = String, Path, description = "Roster shift id: one of the caller's")),
    request_body = CreateSwapRequest,
    responses(
        (status = 201, description = "Asked", body = SwapRequestView),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "Not one of the caller's published shifts", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Started, or already asked", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/roster-shifts/{id}/swap-requests")]
pub async fn create_swap_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<CreateSwapRequest>,
) -> AppResult<HttpResponse> {
    let created = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::create(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// The swap requests the calling PA made or was asked, newest first (at most 200). Who may call: PAs.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_my_swap_requests",
    responses(
        (status = 200, description = "Requests", body = Vec<SwapRequestView>),
        problem::Unauthenticated,
        problem::NotAPa,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/swap-requests")]
pub async fn list_my_swap_requests(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let requests = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::mine(conn, &user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(requests))
}

/// A roster's swap requests, newest first. Who may call: the team manager who made the roster, and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_roster_swap_requests",
    params(("id" = String, Path, description = "Roster id")),
    responses(
        (status = 200, description = "Requests", body = Vec<SwapRequestView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/rosters/{id}/swap-requests")]
pub async fn list_roster_swap_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let requests = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::of_roster(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(requests))
}

/// Accept a colleague's swap request. Every hard rule is checked on the roster as it would be: a broken one is a 422 naming the rule and the PA, and nothing changes. The team manager is then asked to approve. Who may call: the colleague asked (others 404).
#[utoipa::path(
    tag = "rostering",
    operation_id = "accept_swap_request",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Accepted; waiting for the manager", body = SwapRequestView),
        problem::Unauthenticated,
        problem::NotAPa,
        (status = 404, description = "Not found, or not the caller's to answer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A hard rule the swap would break", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/acceptance")]
pub async fn accept_swap_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let request = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::accept(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Decline a colleague's swap request; they are e-mailed. Who may call: the colleague asked (others 404).
#[utoipa::path(
    tag = "rostering",
    operation_id = "decline_swap_request",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Declined", body = SwapRequestView),
        problem::Unauthenticated,
        (status = 404, description = "Not found, or not the caller's to answer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/decline")]
pub async fn decline_swap_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let request = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::decline(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Withdraw your own swap request before the manager decides. Who may call: the PA who asked (others 404).
#[utoipa::path(
    tag = "rostering",
    operation_id = "withdraw_swap_request",
    params(("id" = String, Path, description = "Swap request id")),
    responses(
        (status = 200, description = "Withdrawn", body = SwapRequestView),
        problem::Unauthenticated,
        (status = 404, description = "Not found, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/withdrawal")]
pub async fn withdraw_swap_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let request = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::withdraw(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Approve or refuse (with a reason) a swap the colleague accepted. Approving re-checks every hard rule on the roster as it is now (a broken one is a 422 and nothing changes) and makes the change as a roster edit: the pay difference is committed to the budget, the roster's version moves on, and the two PAs are e-mailed. Who may call: the team manager who made the roster, and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "decide_swap_request",
    params(("id" = String, Path, description = "Swap request id")),
    request_body = SwapDecision,
    responses(
        (status = 200, description = "Decided", body = SwapRequestView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Not accepted by the colleague, or already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A hard rule the swap would now break, or no reason for a refusal", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/decision")]
pub async fn decide_swap_request(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(decision): Json<SwapDecision>,
) -> AppResult<HttpResponse> {
    let request = db::run(&state.pool, move |conn| {
        crate::rostering::swaps::decide(conn, &user, &id, decision, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Generate a draft roster as a background job, for searches longer than `POST /rosters` allows (up to 4 minutes). Answers at once with the run (202, Location to poll); the run reports its progress (share of the time limit used, best score so far, moves tried) and, when done, the roster's id. With `scope: organisation` every active person of the organisation is rostered together, so that no PA is booked twice across teams, and the run makes one draft roster per team manager (`roster_ids`). Who may call: team managers (for their own people) and admins; the organisation's scope admins only. The people are checked when the run starts, and the run fails with the reason if one is not theirs.
#[utoipa::path(
    tag = "rostering",
    operation_id = "start_roster_run",
    request_body = StartRosterRun,
    responses(
        (status = 202, description = "Queued", body = RosterRunView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/roster-runs")]
pub async fn start_roster_run(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<StartRosterRun>,
) -> AppResult<HttpResponse> {
    let run = db::run(&state.pool, move |conn| {
        crate::rostering::runs::start(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/roster-runs/{}", run.id)))
        .json(run))
}

/// How a roster run is going: queued, running (with progress), done (with the roster's id) or failed (with why). Who may call: the team manager who started it, and admins of the organisation (others 404).
#[utoipa::path(
    tag = "rostering",
    operation_id = "read_roster_run",
    params(("id" = String, Path, description = "Roster run id")),
    responses(
        (status = 200, description = "The run", body = RosterRunView),
        problem::Unauthenticated,
        (status = 404, description = "Not found, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/roster-runs/{id}")]
pub async fn read_roster_run(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let run = db::run(&state.pool, move |conn| {
        crate::rostering::runs::read(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(run))
}

/// A PA's working-time record: their own maximum hours, a written opt-out of the 48-hour average week and when its withdrawal takes effect, and whether they are a domestic worker in a private household (no 48-hour average; rest rules still apply). The roster generator, edits and open-shift acceptance hold the PA to the weekly cap this gives. Who may call: the PA themselves and the organisation's managers.
#[utoipa::path(
    tag = "rostering",
    operation_id = "read_working_time",
    params(("id" = String, Path, description = "PA id")),
    responses(
        (status = 200, description = "The record (defaults when never set)", body = WorkingTimeView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/pas/{id}/working-time")]
pub async fn read_working_time(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let record = db::run(&state.pool, move |conn| {
        crate::rostering::working_time::read(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Set a PA's working-time record (replaces it whole; audited with before and after). The opt-out date is the day the PA signed it (not after today); a withdrawal date must follow it. Rosters made after this hold the PA to the new cap. Who may call: the organisation's team managers and admins.
#[utoipa::path(
    tag = "rostering",
    operation_id = "put_working_time",
    params(("id" = String, Path, description = "PA id")),
    request_body = PutWorkingTime,
    responses(
        (status = 200, description = "The record as set", body = WorkingTimeView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[put("/pas/{id}/working-time")]
pub async fn put_working_time(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<PutWorkingTime>,
) -> AppResult<HttpResponse> {
    let record = db::run(&state.pool, move |conn| {
        crate::rostering::working_time::put(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// What expires soon in an organisation: each active PA's DBS renewal (off the update service), right to work, competency evidence and clinical sign-offs expiring within `within_days` (default 60), soonest first. PAs are reminded themselves at 60, 30 and 7 days. Who may call: the organisation's admins and team managers.
#[utoipa::path(
    tag = "rostering",
    operation_id = "list_expiring_items",
    params(("id" = String, Path, description = "Organisation id"), ExpiringQuery),
    responses(
        (status = 200, description = "Expiring items, soonest first", body = Vec<ExpiringItemView>),
        (status = 400, description = "The query string is not valid", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        (status = 403, description = "Not a manager of this organisation", body = Problem, content_type = "application/problem+json"),
        problem::NotVisible,
        (status = 422, description = "`within_days` outside 0 to 366", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}/expiring-items")]
pub async fn list_expiring_items(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    query: web::Query<ExpiringQuery>,
) -> AppResult<HttpResponse> {
    let within = query.within_days.unwrap_or(60);
    if !(0..=366).contains(&within) {
        return Err(AppError::field("within_days", "range", "must be 0 to 366"));
    }
    let items = db::run(&state.pool, move |conn| {
        crate::rostering::watch::expiring_items(conn, &user, &id, within, Utc::now().date_naive())
    })
    .await?;
    Ok(HttpResponse::Ok().json(items))
}

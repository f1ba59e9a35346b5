//! Timesheets over HTTP. Each handler states who may call it; the rules live in `auth::policy`.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{AuthUser, TokenCaller};
use crate::db;
use crate::error::{problem, AppError, AppResult, Problem};
use crate::http::PathId;
use crate::http::{if_match, Json};
use crate::idempotency;
use crate::state::AppState;
use crate::timesheets::dto::*;
use crate::timesheets::ingest::{self, ClockEvent, ClockWriter};
use crate::timesheets::model::{ClockKind, Policy};
use crate::timesheets::{approval, clock, exceptions, periods, service};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(clock_in)
        .service(clock_out)
        .service(sync_clock_events)
        .service(record_unrostered_work)
        .service(update_shift_record)
        .service(list_amendments)
        .service(create_amendment)
        .service(read_timesheet)
        .service(list_my_timesheets)
        .service(list_person_timesheets)
        .service(submit_timesheet)
        .service(approve_timesheet)
        .service(query_timesheet)
        .service(list_timesheet_exceptions)
        .service(read_timesheet_policy)
        .service(put_timesheet_policy)
        .service(list_pay_periods);
}

fn timesheet_response(view: TimesheetView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", view.version)))
        .json(view)
}

async fn clock_event(
    writer: web::Data<ClockWriter>,
    user: AuthUser,
    req: HttpRequest,
    shift_id: String,
    request: ClockRequest,
    kind: ClockKind,
) -> AppResult<HttpResponse> {
    let key = idempotency::required_key_of(&req)?;
    let event = ClockEvent {
        actor: user,
        shift_id,
        kind,
        request,
        key,
    };
    let answer = writer
        .record(vec![event])
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(AppError::internal("the clock event went unanswered")))?;
    Ok(answer.into_response())
}

/// Clock in on a rostered shift from the app: the phone's time (kept as sent; a time after the event reached us counts as when it arrived) and, if the PA allows it, where they are (the distance from the person's home is recorded, and beyond the organisation's radius the record is flagged for the approver, not refused). `Idempotency-Key` is required: a replay answers as the first time with `Idempotent-Replayed: true` and changes nothing; the same key with a different body is 409. Events may arrive out of order. Who may call: the PA on the shift (published rosters); another PA gets 403.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "clock_in",
    params(("id" = String, Path, description = "Roster shift id"), ("Idempotency-Key" = String, Header, description = "A new key per event, the same on a retry")),
    request_body = ClockRequest,
    responses(
        (status = 201, description = "The shift record", body = RecordView),
        problem::Unauthenticated,
        (status = 403, description = "Not this PA's shift", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published shift", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already clocked in, the timesheet is approved, or the key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (or a missing Idempotency-Key), each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/shifts/{id}/clock-in")]
pub async fn clock_in(
    writer: web::Data<ClockWriter>,
    caller: TokenCaller,
    req: HttpRequest,
    PathId(shift_id): PathId,
    Json(request): Json<ClockRequest>,
) -> AppResult<HttpResponse> {
    let user = caller.for_batch();
    clock_event(writer, user, req, shift_id, request, ClockKind::ClockIn).await
}

/// Clock out of a rostered shift from the app; as clock-in. A clock-out before its clock-in is kept and the record shows no clock-in until that arrives. Who may call: the PA on the shift.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "clock_out",
    params(("id" = String, Path, description = "Roster shift id"), ("Idempotency-Key" = String, Header, description = "A new key per event, the same on a retry")),
    request_body = ClockRequest,
    responses(
        (status = 200, description = "The shift record", body = RecordView),
        problem::Unauthenticated,
        (status = 403, description = "Not this PA's shift", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published shift", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already clocked out, the timesheet is approved, or the key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (or a missing Idempotency-Key), each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/shifts/{id}/clock-out")]
pub async fn clock_out(
    writer: web::Data<ClockWriter>,
    caller: TokenCaller,
    req: HttpRequest,
    PathId(shift_id): PathId,
    Json(request): Json<ClockRequest>,
) -> AppResult<HttpResponse> {
    let user = caller.for_batch();
    clock_event(writer, user, req, shift_id, request, ClockKind::ClockOut).await
}

/// Replay the app's offline queue: up to 500 clock events in the order recorded, each with its own key. Each is applied on its own (one failing does not stop the rest) and answered with the status and body its direct call would give; events sent before answer as replays. Who may call: PAs, for their own shifts.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "sync_clock_events",
    request_body = SyncRequest,
    responses(
        (status = 200, description = "One result per event, in order", body = SyncResponse),
        problem::Unauthenticated,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/timesheets/sync")]
pub async fn sync_clock_events(
    writer: web::Data<ClockWriter>,
    user: AuthUser,
    Json(request): Json<SyncRequest>,
) -> AppResult<HttpResponse> {
    let response = ingest::sync(&writer, &user, request).await;
    Ok(HttpResponse::Ok().json(response))
}

/// Record unrostered work for a person (an emergency extra hour): start, end and why. It lands on the PA's timesheet for that person and only the team manager (or an admin) may approve a timesheet holding it. `Idempotency-Key` is required. Who may call: a PA on the person's team or rostered for them.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "record_unrostered_work",
    params(("id" = String, Path, description = "Budget holder id"), ("Idempotency-Key" = String, Header, description = "A new key per record, the same on a retry")),
    request_body = UnrosteredWork,
    responses(
        (status = 201, description = "The shift record", body = RecordView),
        problem::Unauthenticated,
        (status = 403, description = "The PA does not work for this person", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The timesheet is submitted or approved, or the key was used for another request", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/unrostered-work")]
pub async fn record_unrostered_work(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(holder): PathId,
    Json(request): Json<UnrosteredWork>,
) -> AppResult<HttpResponse> {
    let key = idempotency::required_key_of(&req)?;
    let answer = db::run(&state.pool, move |conn| {
        clock::unrostered(conn, &user, &holder, request, &key, Utc::now())
    })
    .await?;
    Ok(answer.into_response())
}

/// Add breaks, business miles, expenses (with a receipt reference) and a note to the approver to a record while its timesheet is a draft or queried. Values replace what was there; an `Idempotency-Key` is honoured. Who may call: the PA who worked it.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "update_shift_record",
    params(("id" = String, Path, description = "Shift record id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = RecordDetails,
    responses(
        (status = 200, description = "The shift record", body = RecordView),
        problem::Unauthenticated,
        (status = 403, description = "Not this PA's record", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The timesheet is submitted or approved", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/shift-records/{id}")]
pub async fn update_shift_record(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(record): PathId,
    Json(request): Json<RecordDetails>,
) -> AppResult<HttpResponse> {
    let key = idempotency::key_of(&req)?;
    let answer = db::run(&state.pool, move |conn| {
        clock::add_details(conn, &user, &record, request, key.as_deref(), Utc::now())
    })
    .await?;
    Ok(answer.into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordHistory {
    pub record: RecordView,
    pub amendments: Vec<AmendmentView>,
}

/// A record as it stands with every amendment made to it (before, after, why, who, when). Who may call: the PA who worked it, the person and their representative, their team manager and admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "list_amendments",
    params(("id" = String, Path, description = "Shift record id")),
    responses(
        (status = 200, description = "The record and its amendments", body = RecordHistory),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/shift-records/{id}/amendments")]
pub async fn list_amendments(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(record): PathId,
) -> AppResult<HttpResponse> {
    let (record, amendments) = db::run(&state.pool, move |conn| {
        approval::amendments(conn, &user, &record, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecordHistory { record, amendments }))
}

/// Amend an approved record with a reason: the change is kept with who, when, before and after (nothing is overwritten unrecorded), its cost difference goes to the budget ledger as an adjustment, and it is paid in the record's pay period or, if that is closed, the next open one. Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "create_amendment",
    params(("id" = String, Path, description = "Shift record id")),
    request_body = AmendmentRequest,
    responses(
        (status = 201, description = "The amendment", body = AmendmentView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record is not approved yet, or changed meanwhile", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/shift-records/{id}/amendments")]
pub async fn create_amendment(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(record): PathId,
    Json(request): Json<AmendmentRequest>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        approval::amend(conn, &user, &record, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A timesheet: planned against actual for every shift (with exceptions), breaks, mileage, expenses, what it costs the budget, and where it is in approval. ETag is its version. Who may call: the PA, the person and their representative, their team manager and admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "read_timesheet",
    params(("id" = String, Path, description = "Timesheet id")),
    responses(
        (status = 200, description = "The timesheet", body = TimesheetView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/timesheets/{id}")]
pub async fn read_timesheet(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(timesheet): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::read_timesheet(conn, &user, &timesheet, Utc::now())
    })
    .await?;
    Ok(timesheet_response(view))
}

/// The calling PA's timesheets, newest first (at most 200). Who may call: PAs.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "list_my_timesheets",
    responses(
        (status = 200, description = "Timesheets", body = Vec<TimesheetSummary>),
        problem::Unauthenticated,
        problem::NotAPa,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/timesheets")]
pub async fn list_my_timesheets(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let list = db::run(&state.pool, move |conn| service::my_timesheets(conn, &user)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A person's timesheets, newest first (at most 200), optionally by state: the approver's queue. Who may call: their team manager and admins, the person and their representative.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "list_person_timesheets",
    params(("id" = String, Path, description = "Budget holder id"), TimesheetListQuery),
    responses(
        (status = 200, description = "Timesheets", body = Vec<TimesheetSummary>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/timesheets")]
pub async fn list_person_timesheets(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(holder): PathId,
    query: web::Query<TimesheetListQuery>,
) -> AppResult<HttpResponse> {
    let status = query.status;
    let list = db::run(&state.pool, move |conn| {
        service::holder_timesheets(conn, &user, &holder, status)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Submit a draft or queried timesheet for approval; every record needs a clock-in and a clock-out first. Who may call: the PA whose timesheet it is.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "submit_timesheet",
    params(("id" = String, Path, description = "Timesheet id")),
    responses(
        (status = 200, description = "The submitted timesheet", body = TimesheetView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
        (status = 409, description = "Not open to the PA, or a record is incomplete", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/timesheets/{id}/submission")]
pub async fn submit_timesheet(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(timesheet): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        approval::submit(conn, &user, &timesheet, Utc::now())
    })
    .await?;
    Ok(timesheet_response(view))
}

/// Approve a submitted timesheet: each record's actual cost (pay, holiday pay, mileage, expenses) is posted to the person's budget ledger and the roster's commitment for it released, in one transaction. Paid in its own pay period, or the next open one if its own has closed. Send `If-Match` with the ETag you read to be sure nothing changed since (412 if it did). Who may call: the approvers the organisation set (the person's team manager and admins, the person or their representative, or either); unrostered work needs the team manager.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "approve_timesheet",
    params(("id" = String, Path, description = "Timesheet id")),
    responses(
        (status = 200, description = "The approved timesheet", body = TimesheetView),
        problem::Unauthenticated,
        (status = 403, description = "Not an approver of this timesheet", body = Problem, content_type = "application/problem+json"),
        problem::NotFound,
        (status = 409, description = "Not submitted, or no approved budget covers the work", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/timesheets/{id}/approval")]
pub async fn approve_timesheet(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(timesheet): PathId,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let view = db::run(&state.pool, move |conn| {
        approval::approve(conn, &user, &timesheet, expected, Utc::now())
    })
    .await?;
    Ok(timesheet_response(view))
}

/// Send a submitted timesheet back to the PA with a reason (they are e-mailed). Who may call: the timesheet's approvers.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "query_timesheet",
    params(("id" = String, Path, description = "Timesheet id")),
    request_body = QueryRequest,
    responses(
        (status = 200, description = "The queried timesheet", body = TimesheetView),
        problem::Unauthenticated,
        (status = 403, description = "Not an approver of this timesheet", body = Problem, content_type = "application/problem+json"),
        problem::NotFound,
        (status = 409, description = "Not submitted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/timesheets/{id}/query")]
pub async fn query_timesheet(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(timesheet): PathId,
    Json(request): Json<QueryRequest>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let view = db::run(&state.pool, move |conn| {
        approval::query(conn, &user, &timesheet, request, expected, Utc::now())
    })
    .await?;
    Ok(timesheet_response(view))
}

/// Planned against actual for the caller's people over up to 62 days: late, left early, over-run, short, missed, no clock-out, no clock-in, outside the radius and unrostered work, with the organisation's tolerances. Who may call: team managers (their own people) and admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "list_timesheet_exceptions",
    params(ExceptionsQuery),
    responses(
        (status = 200, description = "Exceptions by date", body = Vec<ExceptionView>),
        problem::Unauthenticated,
        (status = 403, description = "Not a team manager or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/timesheet-exceptions")]
pub async fn list_timesheet_exceptions(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ExceptionsQuery>,
) -> AppResult<HttpResponse> {
    let (from, to) = (query.from, query.to);
    let list = db::run(&state.pool, move |conn| {
        exceptions::list(conn, &user, from, to, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The organisation's timesheet policy: pay periods, approvers, visit radius and tolerances (defaults until set). Who may call: its admins and team managers.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "read_timesheet_policy",
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The policy", body = Policy),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}/timesheet-policy")]
pub async fn read_timesheet_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(organisation): PathId,
) -> AppResult<HttpResponse> {
    let policy = db::run(&state.pool, move |conn| {
        periods::read_policy(conn, &user, &organisation)
    })
    .await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// Set the organisation's timesheet policy (audited). Changing the pay frequency applies to periods not yet made. Who may call: its admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "put_timesheet_policy",
    params(("id" = String, Path, description = "Organisation id")),
    request_body = PolicyRequest,
    responses(
        (status = 200, description = "The policy", body = Policy),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[put("/organisations/{id}/timesheet-policy")]
pub async fn put_timesheet_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(organisation): PathId,
    Json(request): Json<PolicyRequest>,
) -> AppResult<HttpResponse> {
    let policy = db::run(&state.pool, move |conn| {
        periods::save_policy(conn, &user, &organisation, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// The caller's organisation's pay periods overlapping `from` to `to` (made as work is first recorded in them). Who may call: admins and team managers.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "list_pay_periods",
    params(PeriodsQuery),
    responses(
        (status = 200, description = "Pay periods", body = Vec<PayPeriodView>),
        problem::Unauthenticated,
        problem::NotAllowed,
    ),
    security(("bearer" = []))
)]
#[get("/pay-periods")]
pub async fn list_pay_periods(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PeriodsQuery>,
) -> AppResult<HttpResponse> {
    let (from, to) = (query.from, query.to);
    let list = db::run(&state.pool, move |conn| {
        periods::list_periods(conn, &user, from, to)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

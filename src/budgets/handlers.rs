//! Budgets and the ledger over HTTP. Each handler states who may call it; the rules themselves
//! live in `auth::policy`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::budgets::dto::*;
use crate::budgets::service;
use crate::db;
use crate::error::{problem, AppResult, Problem};
use crate::http::{Json, Page, PageQuery};
use crate::http::{PathId, PathIds};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_budgets)
        .service(create_budget)
        .service(read_statement)
        .service(read_budget)
        .service(approve_budget)
        .service(list_ledger_entries)
        .service(create_ledger_entry)
        .service(reverse_ledger_entry);
}

/// The person's budgets, newest period first. Who may call: their team manager and admins; the person and their representative; commissioners of the organisation's area.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_budgets",
    params(("id" = String, Path, description = "Budget holder id")),
    responses(
        (status = 200, description = "Budgets", body = Vec<BudgetView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/budgets")]
pub async fn list_budgets(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let budgets = db::run(&state.pool, move |conn| {
        service::list_budgets(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(budgets))
}

/// A new budget for the person, in draft until approved: amount, period, funding split and monthly profile. Who may call: their team manager and admins.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_budget",
    params(("id" = String, Path, description = "Budget holder id")),
    request_body = CreateBudget,
    responses(
        (status = 201, description = "Created", body = BudgetView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/budgets")]
pub async fn create_budget(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<CreateBudget>,
) -> AppResult<HttpResponse> {
    let budget = db::run(&state.pool, move |conn| {
        service::create_budget(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/budgets/{}", budget.id)))
        .json(budget))
}

/// The budget statement for any date range: allocated, committed, spent, remaining, forecast at the current rate of spend and variance against profile, per funding stream and in total, month by month, with the alerts raised. Every figure is a sum of ledger entries. Who may call: their team manager and admins; the person and their representative; commissioners of the organisation's area.
#[utoipa::path(
    tag = "budgets",
    operation_id = "read_budget_statement",
    params(("id" = String, Path, description = "Budget holder id"), StatementQuery),
    responses(
        (status = 200, description = "The statement", body = StatementView),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "Not found, or no approved budget", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/budget/statement")]
pub async fn read_statement(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    query: web::Query<StatementQuery>,
) -> AppResult<HttpResponse> {
    let statement = db::run(&state.pool, move |conn| {
        service::statement(conn, &user, &id, &query, Utc::now().date_naive())
    })
    .await?;
    Ok(HttpResponse::Ok().json(statement))
}

/// One budget. Who may call: as for the person's budgets.
#[utoipa::path(
    tag = "budgets",
    operation_id = "read_budget",
    params(("id" = String, Path, description = "Budget id")),
    responses(
        (status = 200, description = "The budget", body = BudgetView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/budgets/{id}")]
pub async fn read_budget(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let budget = db::run(&state.pool, move |conn| {
        service::read_budget(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(budget))
}

/// Record the budget's approval (who and when) and allocate its amount to the ledger, split by funding stream. Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "budgets",
    operation_id = "approve_budget",
    params(("id" = String, Path, description = "Budget id")),
    responses(
        (status = 200, description = "The approved budget", body = BudgetView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Already approved", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/budgets/{id}/approval")]
pub async fn approve_budget(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    let budget = db::run(&state.pool, move |conn| {
        service::approve_budget(conn, &user, &id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(budget))
}

/// The budget's ledger in the order written (append-only). Who may call: as for the person's budgets.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_ledger_entries",
    params(("id" = String, Path, description = "Budget id"), PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<LedgerEntryView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/budgets/{id}/entries")]
pub async fn list_ledger_entries(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = db::run(&state.pool, move |conn| {
        service::list_entries(conn, &user, &id, &query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Record a commitment, spend or adjustment by hand, with a reason. Send an `Idempotency-Key` header to make retries safe: a replay answers 200 with the original entry and `Idempotent-Replayed: true`; the same key with a different body is 409. Crossing an alert threshold e-mails the team manager and the person, once. Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_ledger_entry",
    params(("id" = String, Path, description = "Budget id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = PostEntry,
    responses(
        (status = 201, description = "Written", body = LedgerEntryView),
        (status = 200, description = "A replay: the entry first written with this key", body = LedgerEntryView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Budget not approved, or the key reused for another request", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budgets/{id}/entries")]
pub async fn create_ledger_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    PathId(id): PathId,
    Json(request): Json<PostEntry>,
) -> AppResult<HttpResponse> {
    let key = crate::idempotency::key_of(&req)?;
    let (entry, replay) = db::run(&state.pool, move |conn| {
        service::post_manual_entry(conn, &user, &id, request, key, Utc::now())
    })
    .await?;
    Ok(if replay {
        HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(entry)
    } else {
        HttpResponse::Created().json(entry)
    })
}

/// Reverse an entry: a new, opposite entry with a reason (nothing is changed in place; an entry is reversed at most once). Who may call: the person's team manager and admins.
#[utoipa::path(
    tag = "budgets",
    operation_id = "reverse_ledger_entry",
    params(("id" = String, Path, description = "Budget id"), ("entry_id" = String, Path, description = "Entry id")),
    request_body = ReverseEntry,
    responses(
        (status = 201, description = "The reversing entry", body = LedgerEntryView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Already reversed", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budgets/{id}/entries/{entry_id}/reversal")]
pub async fn reverse_ledger_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    PathIds(budget_id, entry_id): PathIds,
    Json(request): Json<ReverseEntry>,
) -> AppResult<HttpResponse> {
    let entry = db::run(&state.pool, move |conn| {
        service::reverse_entry(conn, &user, &budget_id, &entry_id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

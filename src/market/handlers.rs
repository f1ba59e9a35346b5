//! The marketplace over HTTP: competencies, PA profiles, budget holders, matching, capacity.
//! Each handler states who may call it; the rules themselves live in `auth::policy`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::Utc;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{AuthUser, TokenCaller};
use crate::db;
use crate::error::{problem, AppResult, Problem};
use crate::http::{path_id, PathId, PathIds};
use crate::http::{Json, Page, PageQuery};
use crate::market::dto::*;
use crate::market::index::MatchIndex;
use crate::market::{capacity, competencies, matching, pas, people, repo};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_competency_levels)
        .service(list_competencies)
        .service(create_competency)
        .service(read_competency)
        .service(update_competency)
        .service(list_pas)
        .service(create_pa)
        .service(read_my_pa)
        .service(update_my_pa)
        .service(list_my_opportunities)
        .service(read_pa)
        .service(update_pa)
        .service(create_pa_evidence)
        .service(update_pa_evidence)
        .service(create_pa_signoff)
        .service(list_budget_holders)
        .service(create_budget_holder)
        .service(read_budget_holder)
        .service(update_budget_holder)
        .service(create_team_member)
        .service(delete_team_member)
        .service(create_do_not_match)
        .service(delete_do_not_match)
        .service(list_matches)
        .service(read_match)
        .service(read_capacity);
}

fn ok<T: serde::Serialize>(value: T) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(value))
}

fn created<T: serde::Serialize>(location: String, value: T) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(value))
}

/// The organisation's competency levels (1–4). Who may call: any member of the organisation but payroll clients.
#[utoipa::path(
    tag = "market",
    operation_id = "list_competency_levels",
    responses(
        (status = 200, description = "Levels", body = Vec<CompetencyLevelView>),
        problem::Unauthenticated,
        problem::NotAllowed,
    ),
    security(("bearer" = []))
)]
#[get("/competencies/levels")]
pub async fn list_competency_levels(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        competencies::list_levels(conn, &user)
    })
    .await?)
}

/// The organisation's competencies, paged, by level. Who may call: any member of the organisation but payroll clients.
#[utoipa::path(
    tag = "market",
    operation_id = "list_competencies",
    params(PageQuery, CompetencyFilter),
    responses(
        (status = 200, description = "A page of competencies", body = Page<CompetencyView>),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/competencies")]
pub async fn list_competencies(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
    filter: web::Query<CompetencyFilter>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        competencies::list_competencies(conn, &user, &filter, &page)
    })
    .await?)
}

/// Add a competency to the framework. Who may call: admins.
#[utoipa::path(
    tag = "market",
    operation_id = "create_competency",
    request_body = CreateCompetency,
    responses(
        (status = 201, description = "Created", body = CompetencyView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 409, description = "Conflicts with the current state", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/competencies")]
pub async fn create_competency(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreateCompetency>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        competencies::create_competency(conn, &user, request, Utc::now())
    })
    .await?;
    created(format!("/api/v1/competencies/{}", view.id), view)
}

/// One competency. Who may call: any member of the organisation but payroll clients.
#[utoipa::path(
    tag = "market",
    operation_id = "read_competency",
    params(("id" = String, Path, description = "Id")),
    responses(
        (status = 200, description = "The competency", body = CompetencyView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/competencies/{id}")]
pub async fn read_competency(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        competencies::read_competency(conn, &user, &id)
    })
    .await?)
}

/// Rename, describe or retire a competency (its level never changes; history is kept). Who may call: admins.
#[utoipa::path(
    tag = "market",
    operation_id = "update_competency",
    params(("id" = String, Path, description = "Id")),
    request_body = UpdateCompetency,
    responses(
        (status = 200, description = "The changed competency", body = CompetencyView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/competencies/{id}")]
pub async fn update_competency(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<UpdateCompetency>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        competencies::update_competency(conn, &user, &id, request, Utc::now())
    })
    .await?)
}

/// The organisation's PAs, paged, by district. Who may call: admins and team managers.
#[utoipa::path(
    tag = "market",
    operation_id = "list_pas",
    params(PageQuery, PaFilter),
    responses(
        (status = 200, description = "A page of PAs", body = Page<PaSummary>),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/pas")]
pub async fn list_pas(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
    filter: web::Query<PaFilter>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        pas::list_pas(conn, &user, &filter, &page)
    })
    .await?)
}

/// Add a PA profile. Details a manager enters for checks count as verified. Who may call: admins and team managers.
#[utoipa::path(
    tag = "market",
    operation_id = "create_pa",
    request_body = CreatePaProfile,
    responses(
        (status = 201, description = "Created", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 409, description = "Conflicts with the current state", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/pas")]
pub async fn create_pa(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreatePaProfile>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        pas::create_pa(conn, &user, request, Utc::now())
    })
    .await?;
    created(format!("/api/v1/pas/{}", view.id), view)
}

/// The caller's own PA profile. Who may call: PAs with a profile.
#[utoipa::path(
    tag = "market",
    operation_id = "read_my_pa",
    responses(
        (status = 200, description = "The profile", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me")]
pub async fn read_my_pa(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        let id = repo::my_pa_id(conn, &user)?;
        pas::read_pa(conn, &user, &id, Utc::now().date_naive())
    })
    .await?)
}

/// A PA edits their own profile from the app; new check details wait for a manager to verify them. Who may call: PAs with a profile.
#[utoipa::path(
    tag = "market",
    operation_id = "update_my_pa",
    request_body = UpdatePaProfile,
    responses(
        (status = 200, description = "The changed profile", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/pas/me")]
pub async fn update_my_pa(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<UpdatePaProfile>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        let id = repo::my_pa_id(conn, &user)?;
        pas::update_pa(conn, &user, &id, request, Utc::now())
    })
    .await?)
}

/// People near the caller whom they are qualified and free to support (district, distance, level and hours; no names or addresses). Who may call: PAs with a profile.
#[utoipa::path(
    tag = "market",
    operation_id = "list_my_opportunities",
    responses(
        (status = 200, description = "Opportunities, best first", body = OpportunitiesView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/pas/me/opportunities")]
pub async fn list_my_opportunities(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        matching::opportunities(conn, &user, Utc::now().date_naive())
    })
    .await?)
}

/// One PA profile with checks, evidence and sign-offs. Who may call: admins and team managers of the organisation; the PA themselves.
#[utoipa::path(
    tag = "market",
    operation_id = "read_pa",
    params(("id" = String, Path, description = "Id")),
    responses(
        (status = 200, description = "The profile", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/pas/{id}")]
pub async fn read_pa(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        pas::read_pa(conn, &user, &id, Utc::now().date_naive())
    })
    .await?)
}

/// Change a PA profile; verify checks; deactivate. Who may call: admins and team managers (everything); the PA themselves (their own details).
#[utoipa::path(
    tag = "market",
    operation_id = "update_pa",
    params(("id" = String, Path, description = "Id")),
    request_body = UpdatePaProfile,
    responses(
        (status = 200, description = "The changed profile", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/pas/{id}")]
pub async fn update_pa(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<UpdatePaProfile>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        pas::update_pa(conn, &user, &id, request, Utc::now())
    })
    .await?)
}

/// Record training evidence for a competency (unverified when the PA adds it, verified when a manager does). Who may call: admins, team managers, the PA themselves.
#[utoipa::path(
    tag = "market",
    operation_id = "create_pa_evidence",
    params(("id" = String, Path, description = "Id")),
    request_body = AddEvidence,
    responses(
        (status = 201, description = "The new evidence, with its id (Location: the PA's profile)", body = EvidenceView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/pas/{id}/competencies")]
pub async fn create_pa_evidence(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<AddEvidence>,
) -> AppResult<HttpResponse> {
    let pa = id.clone();
    let view = db::run(&state.pool, move |conn| {
        pas::add_evidence(conn, &user, &pa, request, Utc::now())
    })
    .await?;
    created(format!("/api/v1/pas/{id}"), view)
}

/// Verify or revoke evidence. Who may call: admins and team managers.
#[utoipa::path(
    tag = "market",
    operation_id = "update_pa_evidence",
    params(("id" = String, Path, description = "Id"), ("evidence_id" = String, Path, description = "Evidence id")),
    request_body = UpdateEvidence,
    responses(
        (status = 200, description = "The profile", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/pas/{id}/competencies/{evidence_id}")]
pub async fn update_pa_evidence(
    state: web::Data<AppState>,
    user: AuthUser,
    PathIds(pa_id, evidence_id): PathIds,
    Json(request): Json<UpdateEvidence>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        pas::update_evidence(conn, &user, &pa_id, &evidence_id, request, Utc::now())
    })
    .await?)
}

/// Record a delegating clinician's sign-off of a level 3–4 task for one person. Who may call: admins and team managers.
#[utoipa::path(
    tag = "market",
    operation_id = "create_pa_signoff",
    params(("id" = String, Path, description = "Id")),
    request_body = AddSignOff,
    responses(
        (status = 201, description = "The profile with the sign-off", body = PaProfileView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/pas/{id}/signoffs")]
pub async fn create_pa_signoff(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<AddSignOff>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        pas::add_signoff(conn, &user, &id, request, Utc::now())
    })
    .await?;
    created(format!("/api/v1/pas/{}", view.id), view)
}

/// Budget holders, paged: a team manager sees the people they look after, an admin everyone. Who may call: admins and team managers.
#[utoipa::path(
    tag = "market",
    operation_id = "list_budget_holders",
    params(PageQuery, BudgetHolderFilter),
    responses(
        (status = 200, description = "A page of budget holders", body = Page<BudgetHolderSummary>),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders")]
pub async fn list_budget_holders(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
    filter: web::Query<BudgetHolderFilter>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        people::list_budget_holders(conn, &user, &filter, &page)
    })
    .await?)
}

/// Add a budget holder. Who may call: admins (naming the team manager) and team managers (for themselves).
#[utoipa::path(
    tag = "market",
    operation_id = "create_budget_holder",
    request_body = CreateBudgetHolder,
    responses(
        (status = 201, description = "Created", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders")]
pub async fn create_budget_holder(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreateBudgetHolder>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        people::create_budget_holder(conn, &user, request, Utc::now())
    })
    .await?;
    created(format!("/api/v1/budget-holders/{}", view.id), view)
}

/// One budget holder. Who may call: their team manager, admins, the person and their representative.
#[utoipa::path(
    tag = "market",
    operation_id = "read_budget_holder",
    params(("id" = String, Path, description = "Id")),
    responses(
        (status = 200, description = "The budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}")]
pub async fn read_budget_holder(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        people::read_budget_holder(conn, &user, &id)
    })
    .await?)
}

/// Change a budget holder. Who may call: their team manager and admins (everything); the person and their representative (`preferences` only).
#[utoipa::path(
    tag = "market",
    operation_id = "update_budget_holder",
    params(("id" = String, Path, description = "Id")),
    request_body = UpdateBudgetHolder,
    responses(
        (status = 200, description = "The changed budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[patch("/budget-holders/{id}")]
pub async fn update_budget_holder(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<UpdateBudgetHolder>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        people::update_budget_holder(conn, &user, &id, request, Utc::now())
    })
    .await?)
}

/// Add a PA to the person's team (adding one already there changes nothing). Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "create_team_member",
    params(("id" = String, Path, description = "Id")),
    request_body = AddTeamMember,
    responses(
        (status = 200, description = "The budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Conflicts with the current state", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/team")]
pub async fn create_team_member(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<AddTeamMember>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        people::add_team_member(conn, &user, &id, &request.pa_id, Utc::now())
    })
    .await?)
}

/// End a PA's membership of the person's team (kept in history). Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "delete_team_member",
    params(("id" = String, Path, description = "Id"), ("pa_id" = String, Path, description = "PA profile id")),
    responses(
        (status = 200, description = "The budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[delete("/budget-holders/{id}/team/{pa_id}")]
pub async fn delete_team_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (holder_id, pa_id) = (path_id(&path.0)?, path.1.clone());
    ok(db::run(&state.pool, move |conn| {
        people::remove_team_member(conn, &user, &holder_id, &pa_id, Utc::now())
    })
    .await?)
}

/// Never match this PA with the person (also ends any team membership). Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "create_do_not_match",
    params(("id" = String, Path, description = "Id")),
    request_body = AddDoNotMatch,
    responses(
        (status = 200, description = "The budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/budget-holders/{id}/do-not-match")]
pub async fn create_do_not_match(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(id): PathId,
    Json(request): Json<AddDoNotMatch>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        people::add_do_not_match(conn, &user, &id, request, Utc::now())
    })
    .await?)
}

/// Lift a do-not-match entry (kept in history). Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "delete_do_not_match",
    params(("id" = String, Path, description = "Id"), ("pa_id" = String, Path, description = "PA profile id")),
    responses(
        (status = 200, description = "The budget holder", body = BudgetHolderView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[delete("/budget-holders/{id}/do-not-match/{pa_id}")]
pub async fn delete_do_not_match(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (holder_id, pa_id) = (path_id(&path.0)?, path.1.clone());
    ok(db::run(&state.pool, move |conn| {
        people::remove_do_not_match(conn, &user, &holder_id, &pa_id, Utc::now())
    })
    .await?)
}

/// PAs ranked for the person: only those passing every hard rule (current DBS and right to work; every required competency with valid evidence and, for delegated tasks, a sign-off for this person; the level needed; within the PA's travel distance; not on the do-not-match list; available when support is needed), each with its score broken down in words. Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "list_matches",
    params(("id" = String, Path, description = "Id"), MatchQuery),
    responses(
        (status = 200, description = "A page of matches, best first", body = Page<MatchView>),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/matches")]
pub async fn list_matches(
    state: web::Data<AppState>,
    index: web::Data<MatchIndex>,
    caller: TokenCaller,
    PathId(id): PathId,
    query: web::Query<MatchQuery>,
) -> AppResult<HttpResponse> {
    let index = index.into_inner();
    ok(db::run(&state.pool, move |conn| {
        // The busiest read: the session is checked on the connection the match uses.
        let user = caller.checked(conn)?;
        matching::matches(conn, &index, &user, &id, &query, Utc::now().date_naive())
    })
    .await?)
}

/// Why this PA is or is not a match for the person, rule by rule. Who may call: their team manager and admins.
#[utoipa::path(
    tag = "market",
    operation_id = "read_match",
    params(("id" = String, Path, description = "Id"), ("pa_id" = String, Path, description = "PA profile id")),
    responses(
        (status = 200, description = "The assessment", body = MatchView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/matches/{pa_id}")]
pub async fn read_match(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (holder_id, pa_id) = (path_id(&path.0)?, path.1.clone());
    ok(db::run(&state.pool, move |conn| {
        matching::explain_match(conn, &user, &holder_id, &pa_id, Utc::now().date_naive())
    })
    .await?)
}

/// PA hours available against support hours needed, by postcode district and competency level, so a shortfall shows before budgets are agreed. Who may call: commissioners (organisations of their area) and admins (their own).
#[utoipa::path(
    tag = "market",
    operation_id = "read_capacity",
    params(CapacityQuery),
    responses(
        (status = 200, description = "Capacity by district and level", body = CapacityView),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/market/capacity")]
pub async fn read_capacity(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<CapacityQuery>,
) -> AppResult<HttpResponse> {
    ok(db::run(&state.pool, move |conn| {
        capacity::capacity(conn, &user, &query, Utc::now().date_naive())
    })
    .await?)
}

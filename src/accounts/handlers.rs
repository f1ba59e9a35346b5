//! Organisations, users and payroll clients over HTTP.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::dto::{
    ChangePassword, CreatePayrollClient, CreateUser, OrganisationView, PayrollClientCreated,
    UpdateUser, UserView,
};
use crate::accounts::{repo, service};
use crate::auth::policy::OrganisationScope;
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::{AuthUser, Role};
use crate::db;
use crate::error::{problem, AppError, AppResult, Problem};
use crate::http::{Json, Page, PageQuery};
use crate::ids::parse_id;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(read_me)
        .service(list_organisations)
        .service(read_organisation)
        .service(list_users)
        .service(create_user)
        .service(change_own_password)
        .service(read_user)
        .service(update_user)
        .service(create_payroll_client);
}

/// The caller's own account. Who may call: any authenticated user or client.
#[utoipa::path(
    tag = "accounts",
    operation_id = "read_me",
    responses(
        (status = 200, description = "The caller's account", body = UserView),
        problem::Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn read_me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::read_user(conn, &user, &user.user_id.clone())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Organisations the caller may see: a commissioner sees every organisation in its area,
/// everyone else their own. Who may call: any authenticated user.
#[utoipa::path(
    tag = "accounts",
    operation_id = "list_organisations",
    responses(
        (status = 200, description = "Visible organisations", body = Vec<OrganisationView>),
        problem::Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let organisations =
        db::run(
            &state.pool,
            move |conn| match crate::auth::policy::organisation_scope(&user) {
                OrganisationScope::Area(area) => repo::list_organisations(conn, Some(area), None),
                OrganisationScope::Own(id) => repo::list_organisations(conn, None, Some(id)),
            },
        )
        .await?;
    let views: Vec<OrganisationView> = organisations.iter().map(OrganisationView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One organisation. Who may call: its members; commissioners of its area.
#[utoipa::path(
    tag = "accounts",
    operation_id = "read_organisation",
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrganisationView),
        problem::Unauthenticated,
        (status = 404, description = "No such organisation visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/organisations/{id}")]
pub async fn read_organisation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id).ok_or(AppError::NotFound)?;
    let organisation = db::run(&state.pool, move |conn| {
        let organisation = repo::find_organisation(conn, &id)?.ok_or(AppError::NotFound)?;
        authorize(
            &user,
            Action::Read,
            Resource::Organisation {
                id: &organisation.id,
                area_code: &organisation.area_code,
            },
        )?;
        Ok(organisation)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganisationView::from(&organisation)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only accounts with this role.
    pub role: Option<Role>,
}

/// The accounts of the caller's organisation, oldest first. Who may call: admins and team managers.
#[utoipa::path(
    tag = "accounts",
    operation_id = "list_users",
    params(PageQuery, UserFilter),
    responses(
        (status = 200, description = "A page of accounts", body = Page<UserView>),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        problem::Unauthenticated,
        (status = 403, description = "Not an admin or team manager", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
    filter: web::Query<UserFilter>,
) -> AppResult<HttpResponse> {
    authorize(
        &user,
        Action::Read,
        Resource::UserDirectory {
            organisation_id: &user.organisation_id,
        },
    )?;
    let limit = page.limit()?;
    let cursor = page.cursor.clone();
    let role = filter.role;
    let rows = db::run(&state.pool, move |conn| {
        repo::list_users(
            conn,
            &user.organisation_id,
            role.map(Role::as_str),
            cursor.as_deref(),
            limit,
        )
    })
    .await?;
    let page = Page::from_rows(rows, limit, |u| u.id.clone());
    let page = Page {
        items: page
            .items
            .iter()
            .filter_map(UserView::from_user)
            .collect::<Vec<_>>(),
        next_cursor: page.next_cursor,
    };
    Ok(HttpResponse::Ok().json(page))
}

/// Create a person's account in the caller's organisation. Who may call: admins.
#[utoipa::path(
    tag = "accounts",
    operation_id = "create_user",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Account created", body = UserView),
        problem::Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreateUser>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::create_user(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", view.id)))
        .json(view))
}

/// Change the caller's own password; their other sessions end. Who may call: any person (not machine clients).
#[utoipa::path(
    tag = "accounts",
    operation_id = "create_password_change",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Password changed"),
        problem::Unauthenticated,
        (status = 403, description = "Machine clients have no password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_own_password(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<ChangePassword>,
) -> AppResult<HttpResponse> {
    db::run(&state.pool, move |conn| {
        service::change_password(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One account. Who may call: its owner; admins and team managers of its organisation.
#[utoipa::path(
    tag = "accounts",
    operation_id = "read_user",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = UserView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such account in the caller's organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn read_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id).ok_or(AppError::NotFound)?;
    let view = db::run(&state.pool, move |conn| {
        service::read_user(conn, &user, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change an account. Who may call: its owner (display name only); admins of its organisation
/// (also role and active).
#[utoipa::path(
    tag = "accounts",
    operation_id = "update_user",
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The changed account", body = UserView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such account in the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    Json(request): Json<UpdateUser>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id).ok_or(AppError::NotFound)?;
    let view = db::run(&state.pool, move |conn| {
        service::update_user(conn, &user, &id, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Register a payroll provider's machine client; the secret is shown once. Who may call: admins.
#[utoipa::path(
    tag = "accounts",
    operation_id = "create_payroll_client",
    request_body = CreatePayrollClient,
    responses(
        (status = 201, description = "Client created; store the secret now", body = PayrollClientCreated),
        problem::Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/payroll-clients")]
pub async fn create_payroll_client(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreatePayrollClient>,
) -> AppResult<HttpResponse> {
    let created = db::run(&state.pool, move |conn| {
        service::create_payroll_client(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(created))
}

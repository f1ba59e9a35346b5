//! `GET /api/v1/audit-events`: an organisation's audit trail, for its admins.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, AuditEvent};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::error::{problem, AppResult, Problem};
use crate::http::{Page, PageQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this entity (e.g. one user's id).
    pub entity_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    pub actor_user_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Any JSON: the fields that matter to the change.
    pub before: Option<serde_json::Value>,
    /// Any JSON: the fields that matter to the change.
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

impl AuditEventView {
    fn of(e: AuditEvent) -> AppResult<Self> {
        let parse =
            |column: &'static str, s: Option<String>| -> AppResult<Option<serde_json::Value>> {
                s.map(|s| crate::db::json::from_text(column, &s))
                    .transpose()
            };
        Ok(Self {
            id: e.id,
            actor_user_id: e.actor_user_id,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: parse("before_json", e.before_json)?,
            after: parse("after_json", e.after_json)?,
            request_id: e.request_id,
            occurred_at: e.occurred_at.and_utc(),
        })
    }
}

/// The caller's organisation's audit trail, oldest first. Who may call: admins of the organisation.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_events",
    params(PageQuery, AuditQuery),
    responses(
        (status = 200, description = "A page of audit events", body = Page<AuditEventView>),
        problem::Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageQuery>,
    filter: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    authorize(
        &user,
        Action::Read,
        Resource::AuditTrail {
            organisation_id: &user.organisation_id,
        },
    )?;
    let limit = page.limit()?;
    let organisation_id = user.organisation_id.clone();
    let cursor = page.cursor.clone();
    let entity = filter.entity_id.clone();
    let rows = crate::db::run(&state.pool, move |conn| {
        audit::list(
            conn,
            &organisation_id,
            entity.as_deref(),
            cursor.as_deref(),
            limit,
        )
    })
    .await?;
    let page = Page::from_rows(rows, limit, |e| e.id.clone());
    let page = Page {
        items: page
            .items
            .into_iter()
            .map(AuditEventView::of)
            .collect::<AppResult<Vec<_>>>()?,
        next_cursor: page.next_cursor,
    };
    Ok(HttpResponse::Ok().json(page))
}

//! The organisation's competency framework: its levels and competencies, read by everyone in
//! it and edited by admins.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode, FieldError};
use crate::http::{Page, PageQuery};
use crate::market::dto::*;
use crate::market::model::FIRST_DELEGATED_LEVEL;
use crate::market::repo::{self, *};

use crate::error::errors_or;
use crate::ids::body_id;

pub fn competency_view(row: &CompetencyRow) -> CompetencyView {
    CompetencyView {
        id: row.id.clone(),
        code: row.code.clone(),
        name: row.name.clone(),
        level: row.level,
        description: row.description.clone(),
        needs_clinical_signoff: row.level >= FIRST_DELEGATED_LEVEL,
        active: row.active,
    }
}

pub fn list_levels(
    conn: &mut DbConnection,
    actor: &AuthUser,
) -> AppResult<Vec<CompetencyLevelView>> {
    authorize(
        actor,
        Action::Read,
        Resource::Competencies {
            organisation_id: &actor.organisation_id,
        },
    )?;
    Ok(repo::levels(conn, &actor.organisation_id)?
        .into_iter()
        .map(|l| CompetencyLevelView {
            level: l.level,
            name: l.name,
            description: l.description,
        })
        .collect())
}

pub fn list_competencies(
    conn: &mut DbConnection,
    actor: &AuthUser,
    filter: &CompetencyFilter,
    page: &PageQuery,
) -> AppResult<Page<CompetencyView>> {
    authorize(
        actor,
        Action::Read,
        Resource::Competencies {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let limit = page.limit()?;
    let rows = repo::list_competencies(
        conn,
        &actor.organisation_id,
        filter.level,
        filter.active,
        page.cursor.as_deref(),
        limit,
    )?;
    Ok(Page::from_rows(rows, limit, |r| r.id.clone()).map(|r| competency_view(&r)))
}

fn competency_in_org(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
) -> AppResult<CompetencyRow> {
    let row = repo::find_competency(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Read,
        Resource::Competencies {
            organisation_id: &row.organisation_id,
        },
    )?;
    Ok(row)
}

pub fn read_competency(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
) -> AppResult<CompetencyView> {
    competency_in_org(conn, actor, id).map(|r| competency_view(&r))
}

pub fn create_competency(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateCompetency,
    now: DateTime<Utc>,
) -> AppResult<CompetencyView> {
    authorize(
        actor,
        Action::Create,
        Resource::Competencies {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let row = CompetencyRow {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        code: request.code,
        name: request.name.trim().to_owned(),
        level: request.level,
        description: request.description,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        repo::insert_competency(conn, &row).map_err(|e| match e {
            AppError::Conflict { .. } => AppError::Conflict {
                code: ConflictCode::CodeTaken,
                detail: "a competency with this code already exists".into(),
            },
            other => other,
        })?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "competency.created",
                entity_type: "competency",
                entity_id: &row.id,
                before: None,
                after: Some(&competency_view(&row)),
            },
        )
    })?;
    Ok(competency_view(&row))
}

pub fn update_competency(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    request: UpdateCompetency,
    now: DateTime<Utc>,
) -> AppResult<CompetencyView> {
    write_transaction(conn, |conn| {
        let before = competency_in_org(conn, actor, id)?;
        authorize(
            actor,
            Action::Update,
            Resource::Competencies {
                organisation_id: &before.organisation_id,
            },
        )?;
        repo::update_competency(
            conn,
            id,
            request.name.as_deref().map(str::trim),
            request.description.as_deref(),
            request.active,
            now.naive_utc(),
        )?;
        let after = repo::find_competency(conn, id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &after.organisation_id,
                action: "competency.updated",
                entity_type: "competency",
                entity_id: id,
                before: Some(&competency_view(&before)),
                after: Some(&competency_view(&after)),
            },
        )?;
        Ok(competency_view(&after))
    })
}

/// Competency ids from a request, each checked to be an active competency of the organisation.
pub(crate) fn resolve_competencies(
    conn: &mut DbConnection,
    organisation_id: &str,
    field: &str,
    raw: &[String],
) -> AppResult<Vec<CompetencyRow>> {
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match body_id(&format!("{field}[{i}]"), r) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let found: HashMap<String, CompetencyRow> = repo::competencies_by_ids(conn, &ids)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut rows = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match found.get(id) {
            Some(c) if c.organisation_id == organisation_id && c.active => rows.push(c.clone()),
            _ => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_competency",
                "is not an active competency of this organisation",
            )),
        }
    }
    errors_or(rows, errors)
}

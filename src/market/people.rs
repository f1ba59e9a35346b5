//! Budget holders (the people PAs support): their profiles and support needs, their team of PAs
//! and the PAs they must never be matched with.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{self, authorize, Action, Resource, TeamManagerChoice};
use crate::auth::{AuthUser, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::http::{Page, PageQuery};
use crate::market::competencies::{competency_view, resolve_competencies};
use crate::market::dto::*;
use crate::market::model::{need_spans, Funding, SupportNeed};
use crate::market::pas::check_linked_user;
use crate::market::repo::{self, *};

use crate::db::json::{from_text as from_json, to_text as to_json};
use crate::error::errors_or;
use crate::geo::place_of;
use crate::market::model::person_hours;

fn funding_of(row: &BudgetHolderRow) -> AppResult<Funding> {
    crate::db::json::enum_from_text("funding", &row.funding)
}

fn funding_text(funding: Funding) -> String {
    serde_json::to_value(funding)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn holder_view(conn: &mut DbConnection, row: BudgetHolderRow) -> AppResult<BudgetHolderView> {
    let required = repo::requirements(conn, &row.id)?;
    let team_rows = repo::team(conn, &row.id)?;
    let names: HashMap<String, String> = repo::pas_by_ids(
        conn,
        &team_rows
            .iter()
            .map(|t| t.pa_id.clone())
            .collect::<Vec<_>>(),
    )?
    .into_iter()
    .map(|p| (p.id, p.display_name))
    .collect();
    let team = team_rows
        .into_iter()
        .map(|t| TeamMemberView {
            display_name: names.get(&t.pa_id).cloned().unwrap_or_default(),
            pa_id: t.pa_id,
            added_at: t.added_at.and_utc(),
        })
        .collect();
    let do_not_match = repo::do_not_match_list(conn, &row.id)?
        .into_iter()
        .map(|d| DoNotMatchView {
            pa_id: d.pa_id,
            reason: d.reason,
            recorded_at: d.recorded_at.and_utc(),
        })
        .collect();
    let support_needs: Vec<SupportNeed> = from_json("support_needs", &row.support_needs)?;
    Ok(BudgetHolderView {
        funding: funding_of(&row)?,
        support_hours_per_week: person_hours(&support_needs),
        support_needs,
        preferences: from_json("preferences", &row.preferences)?,
        required_competencies: required.iter().map(competency_view).collect(),
        team,
        do_not_match,
        id: row.id,
        organisation_id: row.organisation_id,
        team_manager_id: row.team_manager_id,
        user_id: row.user_id,
        representative_user_id: row.representative_user_id,
        representative_consent_on: row.representative_consent_on,
        display_name: row.display_name,
        representative_name: row.representative_name,
        postcode: row.postcode,
        district: row.district,
        minimum_level: row.minimum_level,
        affordable_hourly_pay_pence: row.affordable_hourly_pay_pence,
        active: row.active,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn check_team_manager(
    conn: &mut DbConnection,
    organisation_id: &str,
    raw: &str,
) -> AppResult<String> {
    check_linked_user(
        conn,
        organisation_id,
        "team_manager_id",
        raw,
        Role::TeamManager,
    )
}

pub fn create_budget_holder(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateBudgetHolder,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    authorize(
        actor,
        Action::Create,
        Resource::BudgetHolderDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let organisation_id = actor.organisation_id.clone();
    let mut errors = Vec::new();
    let place = place_of("postcode", &request.postcode)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(mut e) = need_spans("support_needs", &request.support_needs) {
        errors.append(&mut e);
    }
    let place = errors_or(place, errors)?
        .ok_or_else(|| AppError::internal("postcode located without a place"))?;
    let asked = request
        .team_manager_id
        .as_deref()
        .map(|raw| crate::ids::parse_id(raw).unwrap_or_default());
    let team_manager_id = match policy::may_assign_team_manager(actor, asked.as_deref()) {
        TeamManagerChoice::AsAsked => check_team_manager(
            conn,
            &organisation_id,
            request.team_manager_id.as_deref().unwrap_or_default(),
        )?,
        TeamManagerChoice::Caller => actor.user_id.clone(),
        TeamManagerChoice::Refused => {
            return Err(AppError::field(
                "team_manager_id",
                "not_allowed",
                "only an admin assigns another team manager",
            ))
        }
        TeamManagerChoice::Required => {
            return Err(AppError::field(
                "team_manager_id",
                "required",
                "an admin must name the team manager",
            ))
        }
    };
    let user_id = request
        .user_id
        .as_deref()
        .map(|u| check_linked_user(conn, &organisation_id, "user_id", u, Role::BudgetHolder))
        .transpose()?;
    let representative_user_id = request
        .representative_user_id
        .as_deref()
        .map(|u| {
            check_linked_user(
                conn,
                &organisation_id,
                "representative_user_id",
                u,
                Role::BudgetHolder,
            )
        })
        .transpose()?;
    // A representative reads the person's records: only with their consent recorded.
    let representative_consent_on =
        match (&representative_user_id, request.representative_consent_on) {
            (Some(_), None) => {
                return Err(AppError::field(
                    "representative_consent_on",
                    "required",
                    "record the day the person consented to this representative",
                ))
            }
            (Some(_), Some(day)) if day > now.date_naive() => {
                return Err(AppError::field(
                    "representative_consent_on",
                    "in_future",
                    "must not be after today",
                ))
            }
            (Some(_), day) => day,
            (None, _) => None,
        };
    let required = resolve_competencies(
        conn,
        &organisation_id,
        "required_competencies",
        &request.required_competencies,
    )?;
    let row = BudgetHolderRow {
        id: crate::ids::new_id(),
        organisation_id,
        team_manager_id,
        user_id,
        representative_user_id,
        representative_consent_on,
        display_name: request.display_name.trim().to_owned(),
        representative_name: request.representative_name,
        postcode: place.postcode,
        district: place.district,
        latitude: place.location.latitude,
        longitude: place.location.longitude,
        funding: funding_text(request.funding),
        minimum_level: request.minimum_level,
        support_needs: to_json(&request.support_needs)?,
        preferences: to_json(&request.preferences)?,
        affordable_hourly_pay_pence: request.affordable_hourly_pay_pence,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let required_ids: Vec<String> = required.iter().map(|c| c.id.clone()).collect();
    write_transaction(conn, |conn| {
        repo::insert_budget_holder(conn, &row)?;
        repo::replace_requirements(conn, &row.id, &required_ids)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "budget_holder.created",
                entity_type: "budget_holder",
                entity_id: &row.id,
                before: None,
                after: Some(
                    &serde_json::json!({"team_manager_id": row.team_manager_id, "minimum_level": row.minimum_level}),
                ),
            },
        )
    })?;
    holder_view(conn, row)
}

pub fn read_budget_holder(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
) -> AppResult<BudgetHolderView> {
    let row = repo::find_budget_holder(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Read, holder_resource(&row))?;
    holder_view(conn, row)
}

pub fn list_budget_holders(
    conn: &mut DbConnection,
    actor: &AuthUser,
    filter: &BudgetHolderFilter,
    page: &PageQuery,
) -> AppResult<Page<BudgetHolderSummary>> {
    authorize(
        actor,
        Action::Read,
        Resource::BudgetHolderDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    // A team manager sees only the people they look after, whatever they ask for.
    let manager = policy::team_scope(actor, filter.team_manager_id.as_deref())?;
    let limit = page.limit()?;
    let rows = repo::list_budget_holders(
        conn,
        &actor.organisation_id,
        manager,
        filter.active,
        page.cursor.as_deref(),
        limit,
    )?;
    Ok(
        Page::from_rows(rows, limit, |r| r.id.clone()).map(|r| BudgetHolderSummary {
            id: r.id,
            display_name: r.display_name,
            district: r.district,
            team_manager_id: r.team_manager_id,
            minimum_level: r.minimum_level,
            active: r.active,
        }),
    )
}

pub fn update_budget_holder(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    request: UpdateBudgetHolder,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    let row = write_transaction(conn, |conn| {
        let before = repo::find_budget_holder(conn, id)?.ok_or(AppError::NotFound)?;
        authorize(actor, Action::Update, holder_resource(&before))?;
        if request.touches_more_than_preferences() {
            authorize(actor, Action::Administer, holder_resource(&before))?;
        }
        let mut row = before.clone();
        let mut errors = Vec::new();
        if let Some(raw) = &request.postcode {
            match place_of("postcode", raw) {
                Ok(place) => {
                    row.postcode = place.postcode;
                    row.district = place.district;
                    row.latitude = place.location.latitude;
                    row.longitude = place.location.longitude;
                }
                Err(e) => errors.push(e),
            }
        }
        if let Some(needs) = &request.support_needs {
            match need_spans("support_needs", needs) {
                Ok(_) => row.support_needs = to_json(needs)?,
                Err(mut e) => errors.append(&mut e),
            }
        }
        errors_or((), errors)?;
        if let Some(raw) = &request.team_manager_id {
            if !policy::may_reassign_team_manager(actor) {
                return Err(AppError::field(
                    "team_manager_id",
                    "not_allowed",
                    "only an admin moves a person to another team manager",
                ));
            }
            row.team_manager_id = check_team_manager(conn, &row.organisation_id, raw)?;
        }
        if let Some(v) = &request.display_name {
            row.display_name = v.trim().to_owned();
        }
        if let Some(v) = &request.representative_name {
            row.representative_name = Some(v.trim().to_owned());
        }
        if let Some(v) = request.funding {
            row.funding = funding_text(v);
        }
        if let Some(v) = request.minimum_level {
            row.minimum_level = v;
        }
        if let Some(v) = &request.preferences {
            row.preferences = to_json(v)?;
        }
        if let Some(v) = request.affordable_hourly_pay_pence {
            row.affordable_hourly_pay_pence = Some(v);
        }
        if let Some(v) = request.active {
            row.active = v;
        }
        if let Some(raw) = &request.required_competencies {
            let required =
                resolve_competencies(conn, &row.organisation_id, "required_competencies", raw)?;
            repo::replace_requirements(
                conn,
                &row.id,
                &required.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            )?;
        }
        row.updated_at = now.naive_utc();
        repo::save_budget_holder(conn, &row)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &row.organisation_id,
                action: "budget_holder.updated",
                entity_type: "budget_holder",
                entity_id: &row.id,
                before: Some(&crate::audit::changed_fields(&before, &row)),
                after: Some(&crate::audit::changed_fields(&row, &before)),
            },
        )?;
        Ok(row)
    })?;
    holder_view(conn, row)
}

/// A budget holder the caller runs (team manager or admin), with a PA of the same organisation.
fn holder_and_pa(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
) -> AppResult<(BudgetHolderRow, PaProfileRow)> {
    let holder = repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let pa = crate::ids::parse_id(pa_id)
        .map(|id| repo::find_pa(conn, &id))
        .transpose()?
        .flatten()
        .filter(|p| p.organisation_id == holder.organisation_id)
        .ok_or_else(|| {
            AppError::field("pa_id", "unknown_pa", "is not a PA of this organisation")
        })?;
    Ok((holder, pa))
}

/// Audits a PA joining or leaving one of a person's lists (team, do-not-match).
fn audit_pa_link(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder: &BudgetHolderRow,
    pa_id: &str,
    action: &str,
    added: bool,
) -> AppResult<()> {
    let link = serde_json::json!({ "pa_id": pa_id });
    audit::record(
        conn,
        Some(actor),
        Change {
            organisation_id: &holder.organisation_id,
            action,
            entity_type: "budget_holder",
            entity_id: &holder.id,
            before: (!added).then_some(&link),
            after: added.then_some(&link),
        },
    )
}

pub fn add_team_member(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    let holder = write_transaction(conn, |conn| {
        let (holder, pa) = holder_and_pa(conn, actor, holder_id, pa_id)?;
        if repo::do_not_match_list(conn, &holder.id)?
            .iter()
            .any(|d| d.pa_id == pa.id)
        {
            return Err(AppError::Conflict {
                code: ConflictCode::DoNotMatch,
                detail: "this PA is on the person's do-not-match list".into(),
            });
        }
        // Adding someone already in the team changes nothing: a retry is safe.
        if !repo::team(conn, &holder.id)?
            .iter()
            .any(|t| t.pa_id == pa.id)
        {
            repo::add_team_member(
                conn,
                &TeamMemberRow {
                    id: crate::ids::new_id(),
                    budget_holder_id: holder.id.clone(),
                    pa_id: pa.id.clone(),
                    added_by: actor.user_id.clone(),
                    added_at: now.naive_utc(),
                    removed_at: None,
                },
            )?;
            audit_pa_link(conn, actor, &holder, &pa.id, "team.member_added", true)?;
        }
        Ok::<_, AppError>(holder)
    })?;
    holder_view(conn, holder)
}

pub fn remove_team_member(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    let holder = write_transaction(conn, |conn| {
        let (holder, pa) = holder_and_pa(conn, actor, holder_id, pa_id)?;
        if repo::end_team_membership(conn, &holder.id, &pa.id, now.naive_utc())? > 0 {
            audit_pa_link(conn, actor, &holder, &pa.id, "team.member_removed", false)?;
        }
        Ok::<_, AppError>(holder)
    })?;
    holder_view(conn, holder)
}

pub fn add_do_not_match(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    request: AddDoNotMatch,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    let holder = write_transaction(conn, |conn| {
        let (holder, pa) = holder_and_pa(conn, actor, holder_id, &request.pa_id)?;
        if !repo::do_not_match_list(conn, &holder.id)?
            .iter()
            .any(|d| d.pa_id == pa.id)
        {
            repo::add_do_not_match(
                conn,
                &DoNotMatchRow {
                    id: crate::ids::new_id(),
                    budget_holder_id: holder.id.clone(),
                    pa_id: pa.id.clone(),
                    reason: request.reason.trim().to_owned(),
                    recorded_by: actor.user_id.clone(),
                    recorded_at: now.naive_utc(),
                    removed_at: None,
                },
            )?;
            // Someone who must not be matched cannot stay in the team.
            repo::end_team_membership(conn, &holder.id, &pa.id, now.naive_utc())?;
            audit_pa_link(conn, actor, &holder, &pa.id, "do_not_match.added", true)?;
        }
        Ok::<_, AppError>(holder)
    })?;
    holder_view(conn, holder)
}

pub fn remove_do_not_match(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<BudgetHolderView> {
    let holder = write_transaction(conn, |conn| {
        let (holder, pa) = holder_and_pa(conn, actor, holder_id, pa_id)?;
        if repo::end_do_not_match(conn, &holder.id, &pa.id, now.naive_utc())? > 0 {
            audit_pa_link(conn, actor, &holder, &pa.id, "do_not_match.removed", false)?;
        }
        Ok::<_, AppError>(holder)
    })?;
    holder_view(conn, holder)
}

//! Marketplace use cases: each checks permission through the policy, validates, writes with its
//! audit record in one transaction, and answers with a view.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::{AuthUser, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::geo::{self, Location, Postcode};
use crate::http::{Page, PageQuery};
use crate::market::dto::*;
use crate::market::index::{self, MatchIndex};
use crate::market::model::{
    self, assess, availability_spans, dbs_current, evidence_status, need_spans,
    right_to_work_current, total_minutes, Assessment, Candidate, Checks, Evidence, Funding,
    MatchPolicy, PersonNeeds, Preferences, RequiredCompetency, ScoreSketch, SignOff, Span,
    SupportNeed, WeeklyWindow, FIRST_DELEGATED_LEVEL, MAX_TRAVEL_KM,
};
use crate::market::repo::{self, *};

fn errors_or<T>(value: T, errors: Vec<FieldError>) -> AppResult<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors))
    }
}

struct Place {
    postcode: String,
    district: String,
    location: Location,
}

fn locate(field: &str, raw: &str) -> Result<Place, FieldError> {
    let postcode =
        Postcode::parse(raw).map_err(|e| FieldError::new(field, e.code(), e.to_string()))?;
    let location = postcode
        .locate()
        .map_err(|e| FieldError::new(field, e.code(), e.to_string()))?;
    Ok(Place {
        postcode: postcode.as_str().to_owned(),
        district: postcode.district().to_owned(),
        location,
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn from_json<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

fn hours_to_minutes(hours: f64) -> i32 {
    (hours * 60.0).round() as i32
}

fn minutes_to_hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

fn check_ranges(field: &str, ranges: &[DateRange], errors: &mut Vec<FieldError>) {
    for (i, r) in ranges.iter().enumerate() {
        if r.ends_on < r.starts_on {
            errors.push(FieldError::new(
                format!("{field}[{i}].ends_on"),
                "before_start",
                "must not be before starts_on",
            ));
        }
    }
}

/// An id in a request body must be a UUID naming something real.
fn body_id(field: &str, raw: &str) -> Result<String, FieldError> {
    crate::ids::parse_id(raw).ok_or_else(|| FieldError::new(field, "invalid_id", "is not an id"))
}

// --- competencies ----------------------------------------------------------------------------

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
                code: "code_taken",
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
fn resolve_competencies(
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

// --- PA profiles -----------------------------------------------------------------------------

fn checks_of(row: &PaProfileRow) -> Checks {
    Checks {
        dbs_issued_on: row.dbs_issued_on,
        dbs_update_service: row.dbs_update_service,
        dbs_verified: row.dbs_verified_at.is_some(),
        right_to_work_checked_on: row.right_to_work_checked_on,
        right_to_work_expires_on: row.right_to_work_expires_on,
        right_to_work_verified: row.right_to_work_verified_at.is_some(),
    }
}

fn check_view(recorded: bool, verified: bool, outcome: Result<String, String>) -> CheckView {
    let current = outcome.is_ok();
    CheckView {
        recorded,
        verified,
        current,
        explanation: outcome.unwrap_or_else(|e| e),
    }
}

fn pa_view(
    conn: &mut DbConnection,
    row: PaProfileRow,
    today: NaiveDate,
) -> AppResult<PaProfileView> {
    let checks = checks_of(&row);
    let evidence = repo::evidence_for(conn, std::slice::from_ref(&row.id))?
        .into_iter()
        .map(|(e, c)| EvidenceView {
            status: evidence_status(
                e.trained_on,
                e.expires_on,
                e.verified_at.is_some(),
                e.revoked_at.is_some(),
                today,
            )
            .as_str()
            .to_owned(),
            id: e.id,
            competency_id: c.id,
            code: c.code,
            name: c.name,
            level: c.level,
            trained_on: e.trained_on,
            expires_on: e.expires_on,
            evidence_reference: e.evidence_reference,
        })
        .collect();
    let signoffs = repo::signoffs_of_pa(conn, &row.id)?
        .into_iter()
        .map(|s| SignOffView {
            id: s.id,
            competency_id: s.competency_id,
            budget_holder_id: s.budget_holder_id,
            clinician_name: s.clinician_name,
            clinician_role: s.clinician_role,
            signed_off_on: s.signed_off_on,
            expires_on: s.expires_on,
            revoked: s.revoked_at.is_some(),
        })
        .collect();
    let unavailability = repo::unavailability(conn, &row.id)?
        .into_iter()
        .map(|u| DateRange {
            starts_on: u.starts_on,
            ends_on: u.ends_on,
        })
        .collect();
    let policy = MatchPolicy::default();
    Ok(PaProfileView {
        dbs: check_view(
            checks.dbs_issued_on.is_some(),
            checks.dbs_verified,
            dbs_current(&checks, today, &policy),
        ),
        right_to_work: check_view(
            checks.right_to_work_checked_on.is_some(),
            checks.right_to_work_verified,
            right_to_work_current(&checks, today),
        ),
        languages: from_json(&row.languages),
        availability: from_json(&row.availability),
        gender: row
            .gender
            .as_deref()
            .and_then(|g| serde_json::from_value(serde_json::Value::String(g.into())).ok()),
        wanted_hours_per_week: minutes_to_hours(i64::from(row.wanted_minutes_per_week)),
        competencies: evidence,
        signoffs,
        unavailability,
        id: row.id,
        organisation_id: row.organisation_id,
        user_id: row.user_id,
        display_name: row.display_name,
        phone: row.phone,
        email: row.email,
        postcode: row.postcode,
        district: row.district,
        max_travel_km: row.max_travel_km,
        drives: row.drives,
        has_car: row.has_car,
        smoker: row.smoker,
        comfortable_with_pets: row.comfortable_with_pets,
        min_hourly_pay_pence: row.min_hourly_pay_pence,
        dbs_issued_on: row.dbs_issued_on,
        dbs_update_service: row.dbs_update_service,
        right_to_work_checked_on: row.right_to_work_checked_on,
        right_to_work_expires_on: row.right_to_work_expires_on,
        active: row.active,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn gender_text(gender: Option<model::Gender>) -> Option<String> {
    gender
        .and_then(|g| serde_json::to_value(g).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
}

pub(crate) fn pa_resource(row: &PaProfileRow) -> Resource<'_> {
    Resource::PaProfile {
        organisation_id: &row.organisation_id,
        user_id: row.user_id.as_deref(),
    }
}

/// A login may be linked only to a profile of its own organisation and role.
fn check_linked_user(
    conn: &mut DbConnection,
    organisation_id: &str,
    field: &str,
    user_id: &str,
    role: Role,
) -> AppResult<String> {
    let id = body_id(field, user_id).map_err(|e| AppError::Validation(vec![e]))?;
    match crate::accounts::repo::find_user(conn, &id)? {
        Some(u) if u.organisation_id == organisation_id && u.role == role.as_str() => Ok(id),
        _ => Err(AppError::field(
            field,
            "unknown_user",
            &format!("is not a {} account of this organisation", role.as_str()),
        )),
    }
}

pub fn create_pa(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreatePaProfile,
    now: DateTime<Utc>,
) -> AppResult<PaProfileView> {
    authorize(
        actor,
        Action::Create,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let mut errors = Vec::new();
    let place = locate("postcode", &request.postcode)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(mut e) = availability_spans("availability", &request.availability) {
        errors.append(&mut e);
    }
    check_ranges("unavailability", &request.unavailability, &mut errors);
    let place = errors_or(place, errors)?
        .ok_or_else(|| AppError::internal("postcode located without a place"))?;
    let user_id = request
        .user_id
        .as_deref()
        .map(|u| check_linked_user(conn, &actor.organisation_id, "user_id", u, Role::Pa))
        .transpose()?;
    let now_naive = now.naive_utc();
    let row = PaProfileRow {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        user_id,
        display_name: request.display_name.trim().to_owned(),
        phone: request.phone,
        email: request
            .email
            .map(|e| crate::accounts::model::normalise_email(&e)),
        postcode: place.postcode,
        district: place.district,
        latitude: place.location.latitude,
        longitude: place.location.longitude,
        max_travel_km: request.max_travel_km,
        drives: request.drives,
        has_car: request.has_car,
        smoker: request.smoker,
        comfortable_with_pets: request.comfortable_with_pets,
        languages: to_json(&request.languages),
        gender: gender_text(request.gender),
        availability: to_json(&request.availability),
        wanted_minutes_per_week: hours_to_minutes(request.wanted_hours_per_week),
        min_hourly_pay_pence: request.min_hourly_pay_pence,
        dbs_issued_on: request.dbs.as_ref().map(|d| d.issued_on),
        dbs_update_service: request.dbs.as_ref().is_some_and(|d| d.update_service),
        // A manager entering the details has seen the documents.
        dbs_verified_by: request.dbs.as_ref().map(|_| actor.user_id.clone()),
        dbs_verified_at: request.dbs.as_ref().map(|_| now_naive),
        right_to_work_checked_on: request.right_to_work.as_ref().map(|r| r.checked_on),
        right_to_work_expires_on: request.right_to_work.as_ref().and_then(|r| r.expires_on),
        right_to_work_verified_by: request
            .right_to_work
            .as_ref()
            .map(|_| actor.user_id.clone()),
        right_to_work_verified_at: request.right_to_work.as_ref().map(|_| now_naive),
        active: true,
        // Taken inside the transaction below.
        revision: 0,
        created_at: now_naive,
        updated_at: now_naive,
    };
    let ranges: Vec<_> = request
        .unavailability
        .iter()
        .map(|r| (r.starts_on, r.ends_on))
        .collect();
    let row = write_transaction(conn, |conn| {
        let row = PaProfileRow {
            revision: repo::bump_revision(conn, &row.organisation_id)?,
            ..row
        };
        repo::insert_pa(conn, &row)?;
        repo::replace_unavailability(conn, &row.id, &ranges)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &row.organisation_id,
                action: "pa.created",
                entity_type: "pa_profile",
                entity_id: &row.id,
                before: None,
                after: Some(&row.display_name),
            },
        )?;
        Ok::<_, AppError>(row)
    })?;
    pa_view(conn, row, now.date_naive())
}

pub fn read_pa(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    today: NaiveDate,
) -> AppResult<PaProfileView> {
    let row = repo::find_pa(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Read, pa_resource(&row))?;
    pa_view(conn, row, today)
}

/// The caller's own PA profile.
pub fn my_pa_id(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<String> {
    if actor.role != Role::Pa {
        return Err(AppError::Forbidden);
    }
    repo::find_pa_by_user(conn, &actor.user_id)?
        .map(|p| p.id)
        .ok_or(AppError::NotFound)
}

pub fn list_pas(
    conn: &mut DbConnection,
    actor: &AuthUser,
    filter: &PaFilter,
    page: &PageQuery,
) -> AppResult<Page<PaSummary>> {
    authorize(
        actor,
        Action::Read,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let limit = page.limit()?;
    let rows = repo::list_pas(
        conn,
        &actor.organisation_id,
        filter.district.as_deref(),
        filter.active,
        page.cursor.as_deref(),
        limit,
    )?;
    Ok(
        Page::from_rows(rows, limit, |r| r.id.clone()).map(|r| PaSummary {
            id: r.id,
            display_name: r.display_name,
            district: r.district,
            max_travel_km: r.max_travel_km,
            wanted_hours_per_week: minutes_to_hours(i64::from(r.wanted_minutes_per_week)),
            active: r.active,
        }),
    )
}

pub fn update_pa(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    request: UpdatePaProfile,
    now: DateTime<Utc>,
) -> AppResult<PaProfileView> {
    let now_naive = now.naive_utc();
    let row = write_transaction(conn, |conn| {
        let before = repo::find_pa(conn, id)?.ok_or(AppError::NotFound)?;
        authorize(actor, Action::Update, pa_resource(&before))?;
        let manager_only = request.dbs_verified.is_some()
            || request.right_to_work_verified.is_some()
            || request.active.is_some();
        if manager_only {
            authorize(actor, Action::Administer, pa_resource(&before))?;
        }
        let is_manager = matches!(actor.role, Role::Admin | Role::TeamManager);
        let mut errors = Vec::new();
        let mut row = before.clone();
        if let Some(raw) = &request.postcode {
            match locate("postcode", raw) {
                Ok(place) => {
                    row.postcode = place.postcode;
                    row.district = place.district;
                    row.latitude = place.location.latitude;
                    row.longitude = place.location.longitude;
                }
                Err(e) => errors.push(e),
            }
        }
        if let Some(windows) = &request.availability {
            match availability_spans("availability", windows) {
                Ok(_) => row.availability = to_json(windows),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if let Some(ranges) = &request.unavailability {
            check_ranges("unavailability", ranges, &mut errors);
        }
        errors_or((), errors)?;
        if let Some(v) = &request.display_name {
            row.display_name = v.trim().to_owned();
        }
        if let Some(v) = &request.phone {
            row.phone = Some(v.clone());
        }
        if let Some(v) = &request.email {
            row.email = Some(crate::accounts::model::normalise_email(v));
        }
        if let Some(v) = request.max_travel_km {
            row.max_travel_km = v;
        }
        if let Some(v) = request.drives {
            row.drives = v;
        }
        if let Some(v) = request.has_car {
            row.has_car = v;
        }
        if let Some(v) = request.smoker {
            row.smoker = v;
        }
        if let Some(v) = request.comfortable_with_pets {
            row.comfortable_with_pets = v;
        }
        if let Some(v) = &request.languages {
            row.languages = to_json(v);
        }
        if request.gender.is_some() {
            row.gender = gender_text(request.gender);
        }
        if let Some(v) = request.wanted_hours_per_week {
            row.wanted_minutes_per_week = hours_to_minutes(v);
        }
        if let Some(v) = request.min_hourly_pay_pence {
            row.min_hourly_pay_pence = v;
        }
        if let Some(dbs) = &request.dbs {
            row.dbs_issued_on = Some(dbs.issued_on);
            row.dbs_update_service = dbs.update_service;
            // New details need checking again, unless a manager is entering them.
            row.dbs_verified_by = is_manager.then(|| actor.user_id.clone());
            row.dbs_verified_at = is_manager.then_some(now_naive);
        }
        if let Some(rtw) = &request.right_to_work {
            row.right_to_work_checked_on = Some(rtw.checked_on);
            row.right_to_work_expires_on = rtw.expires_on;
            row.right_to_work_verified_by = is_manager.then(|| actor.user_id.clone());
            row.right_to_work_verified_at = is_manager.then_some(now_naive);
        }
        match request.dbs_verified {
            Some(true) if row.dbs_issued_on.is_none() => {
                return Err(AppError::field(
                    "dbs_verified",
                    "nothing_to_verify",
                    "no DBS details are recorded",
                ));
            }
            Some(true) => {
                row.dbs_verified_by = Some(actor.user_id.clone());
                row.dbs_verified_at = Some(now_naive);
            }
            Some(false) => {
                row.dbs_verified_by = None;
                row.dbs_verified_at = None;
            }
            None => {}
        }
        match request.right_to_work_verified {
            Some(true) if row.right_to_work_checked_on.is_none() => {
                return Err(AppError::field(
                    "right_to_work_verified",
                    "nothing_to_verify",
                    "no right-to-work check is recorded",
                ));
            }
            Some(true) => {
                row.right_to_work_verified_by = Some(actor.user_id.clone());
                row.right_to_work_verified_at = Some(now_naive);
            }
            Some(false) => {
                row.right_to_work_verified_by = None;
                row.right_to_work_verified_at = None;
            }
            None => {}
        }
        if let Some(active) = request.active {
            row.active = active;
        }
        row.updated_at = now_naive;
        row.revision = repo::bump_revision(conn, &row.organisation_id)?;
        repo::save_pa(conn, &row)?;
        if let Some(ranges) = &request.unavailability {
            let ranges: Vec<_> = ranges.iter().map(|r| (r.starts_on, r.ends_on)).collect();
            repo::replace_unavailability(conn, &row.id, &ranges)?;
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &row.organisation_id,
                action: "pa.updated",
                entity_type: "pa_profile",
                entity_id: &row.id,
                before: Some(&changed_fields(&before, &row)),
                after: Some(&changed_fields(&row, &before)),
            },
        )?;
        Ok(row)
    })?;
    pa_view(conn, row, now.date_naive())
}

/// The fields of `a` that differ from `b`, by name (the audit keeps what changed, not copies).
fn changed_fields<T: Serialize>(a: &T, b: &T) -> serde_json::Value {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return serde_json::Value::Null;
    };
    a.into_iter()
        .filter(|(k, v)| b.get(k) != Some(v) && k != "updated_at")
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub fn add_evidence(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    request: AddEvidence,
    now: DateTime<Utc>,
) -> AppResult<EvidenceView> {
    let pa = repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Update, pa_resource(&pa))?;
    let competency = resolve_competencies(
        conn,
        &pa.organisation_id,
        "competency_id",
        std::slice::from_ref(&request.competency_id),
    )
    .map_err(|e| match e {
        AppError::Validation(mut errors) => {
            for error in &mut errors {
                error.field = "competency_id".into();
            }
            AppError::Validation(errors)
        }
        other => other,
    })?
    .remove(0);
    if request.expires_on.is_some_and(|e| e <= request.trained_on) {
        return Err(AppError::field(
            "expires_on",
            "before_training",
            "must be after trained_on",
        ));
    }
    let is_manager = matches!(actor.role, Role::Admin | Role::TeamManager);
    let row = EvidenceRow {
        id: crate::ids::new_id(),
        pa_id: pa.id.clone(),
        competency_id: competency.id.clone(),
        trained_on: request.trained_on,
        expires_on: request.expires_on,
        evidence_reference: request.evidence_reference,
        // Evidence a PA uploads waits for a manager; a manager adding it has checked it.
        verified_by: is_manager.then(|| actor.user_id.clone()),
        verified_at: is_manager.then(|| now.naive_utc()),
        revoked_at: None,
        created_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        repo::insert_evidence(conn, &row)?;
        repo::touch_pa(conn, &pa.id, &pa.organisation_id)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &pa.organisation_id,
                action: "pa.evidence_added",
                entity_type: "pa_profile",
                entity_id: &pa.id,
                before: None,
                after: Some(
                    &serde_json::json!({"evidence_id": row.id, "competency": competency.code, "verified": is_manager}),
                ),
            },
        )
    })?;
    pa_view(conn, pa, now.date_naive())?
        .competencies
        .into_iter()
        .find(|e| e.id == row.id)
        .ok_or_else(|| AppError::internal("new evidence not found"))
}

pub fn update_evidence(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    evidence_id: &str,
    request: UpdateEvidence,
    now: DateTime<Utc>,
) -> AppResult<PaProfileView> {
    let pa = repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, pa_resource(&pa))?;
    let evidence = repo::find_evidence(conn, evidence_id)?
        .filter(|e| e.pa_id == pa.id)
        .ok_or(AppError::NotFound)?;
    if request.verified == Some(false) || request.revoked == Some(false) {
        return Err(AppError::field(
            if request.verified == Some(false) {
                "verified"
            } else {
                "revoked"
            },
            "irreversible",
            "cannot be undone; add new evidence instead",
        ));
    }
    let at = now.naive_utc();
    write_transaction(conn, |conn| {
        repo::mark_evidence(
            conn,
            &evidence.id,
            request.verified.map(|_| (actor.user_id.as_str(), at)),
            request.revoked.map(|_| at),
        )?;
        repo::touch_pa(conn, &pa.id, &pa.organisation_id)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &pa.organisation_id,
                action: if request.revoked == Some(true) {
                    "pa.evidence_revoked"
                } else {
                    "pa.evidence_verified"
                },
                entity_type: "pa_profile",
                entity_id: &pa.id,
                before: None,
                after: Some(&serde_json::json!({"evidence_id": evidence.id})),
            },
        )
    })?;
    pa_view(conn, pa, now.date_naive())
}

pub fn add_signoff(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    request: AddSignOff,
    now: DateTime<Utc>,
) -> AppResult<PaProfileView> {
    let pa = repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, pa_resource(&pa))?;
    let mut errors = Vec::new();
    let competency = body_id("competency_id", &request.competency_id)
        .map_err(|e| errors.push(e))
        .ok()
        .map(|id| repo::find_competency(conn, &id))
        .transpose()?
        .flatten()
        .filter(|c| c.organisation_id == pa.organisation_id);
    match &competency {
        None => errors.push(FieldError::new(
            "competency_id",
            "unknown_competency",
            "is not a competency of this organisation",
        )),
        Some(c) if c.level < FIRST_DELEGATED_LEVEL => errors.push(FieldError::new(
            "competency_id",
            "not_delegated",
            "only level 3 and 4 tasks are signed off by a clinician",
        )),
        Some(_) => {}
    }
    let holder = body_id("budget_holder_id", &request.budget_holder_id)
        .map_err(|e| errors.push(e))
        .ok()
        .map(|id| repo::find_budget_holder(conn, &id))
        .transpose()?
        .flatten()
        .filter(|h| h.organisation_id == pa.organisation_id);
    if holder.is_none() {
        errors.push(FieldError::new(
            "budget_holder_id",
            "unknown_budget_holder",
            "is not a person of this organisation",
        ));
    }
    if request
        .expires_on
        .is_some_and(|e| e <= request.signed_off_on)
    {
        errors.push(FieldError::new(
            "expires_on",
            "before_signoff",
            "must be after signed_off_on",
        ));
    }
    let (Some(competency), Some(holder)) = errors_or((competency, holder), errors)? else {
        return Err(AppError::internal("validated sign-off lost its parts"));
    };
    // A sign-off is for one person: recorded by those who look after that person.
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let row = SignOffRow {
        id: crate::ids::new_id(),
        pa_id: pa.id.clone(),
        competency_id: competency.id.clone(),
        budget_holder_id: holder.id.clone(),
        clinician_name: request.clinician_name.trim().to_owned(),
        clinician_role: request.clinician_role.trim().to_owned(),
        signed_off_on: request.signed_off_on,
        expires_on: request.expires_on,
        recorded_by: actor.user_id.clone(),
        recorded_at: now.naive_utc(),
        revoked_at: None,
    };
    write_transaction(conn, |conn| {
        repo::insert_signoff(conn, &row)?;
        repo::touch_pa(conn, &pa.id, &pa.organisation_id)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &pa.organisation_id,
                action: "pa.signoff_added",
                entity_type: "pa_profile",
                entity_id: &pa.id,
                before: None,
                after: Some(
                    &serde_json::json!({"signoff_id": row.id, "competency": competency.code, "budget_holder_id": holder.id}),
                ),
            },
        )
    })?;
    pa_view(conn, pa, now.date_naive())
}

// --- budget holders --------------------------------------------------------------------------

pub(crate) fn holder_resource(row: &BudgetHolderRow) -> Resource<'_> {
    Resource::BudgetHolder {
        organisation_id: &row.organisation_id,
        team_manager_id: &row.team_manager_id,
        user_id: row.user_id.as_deref(),
        representative_user_id: row.representative_user_id.as_deref(),
    }
}

fn funding_of(row: &BudgetHolderRow) -> Funding {
    serde_json::from_value(serde_json::Value::String(row.funding.clone())).unwrap_or(Funding::Phb)
}

fn funding_text(funding: Funding) -> String {
    serde_json::to_value(funding)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn person_hours(needs: &[SupportNeed]) -> f64 {
    let minutes: i64 = need_spans("support_needs", needs)
        .map(|spans| {
            spans
                .iter()
                .map(|(s, headcount)| i64::from(s.minutes()) * i64::from(*headcount))
                .sum()
        })
        .unwrap_or(0);
    minutes_to_hours(minutes)
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
    let support_needs: Vec<SupportNeed> = from_json(&row.support_needs);
    Ok(BudgetHolderView {
        funding: funding_of(&row),
        support_hours_per_week: person_hours(&support_needs),
        support_needs,
        preferences: from_json(&row.preferences),
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
    let place = locate("postcode", &request.postcode)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(mut e) = need_spans("support_needs", &request.support_needs) {
        errors.append(&mut e);
    }
    let place = errors_or(place, errors)?
        .ok_or_else(|| AppError::internal("postcode located without a place"))?;
    let team_manager_id = match (&request.team_manager_id, actor.role) {
        (Some(raw), Role::Admin) => check_team_manager(conn, &organisation_id, raw)?,
        (None, Role::TeamManager) => actor.user_id.clone(),
        (Some(raw), Role::TeamManager)
            if crate::ids::parse_id(raw).as_deref() == Some(actor.user_id.as_str()) =>
        {
            actor.user_id.clone()
        }
        (Some(_), _) => {
            return Err(AppError::field(
                "team_manager_id",
                "not_allowed",
                "only an admin assigns another team manager",
            ))
        }
        (None, _) => {
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
        support_needs: to_json(&request.support_needs),
        preferences: to_json(&request.preferences),
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
    let manager = match actor.role {
        Role::TeamManager => Some(actor.user_id.as_str()),
        _ => filter.team_manager_id.as_deref(),
    };
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
            match locate("postcode", raw) {
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
                Ok(_) => row.support_needs = to_json(needs),
                Err(mut e) => errors.append(&mut e),
            }
        }
        errors_or((), errors)?;
        if let Some(raw) = &request.team_manager_id {
            if actor.role != Role::Admin {
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
            row.preferences = to_json(v);
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
                before: Some(&changed_fields(&before, &row)),
                after: Some(&changed_fields(&row, &before)),
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
                code: "do_not_match",
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

// --- matching --------------------------------------------------------------------------------

fn support_spans(row: &BudgetHolderRow) -> Vec<Span> {
    let needs: Vec<SupportNeed> = from_json(&row.support_needs);
    need_spans("support_needs", &needs)
        .map(|s| s.into_iter().map(|(span, _)| span).collect())
        .unwrap_or_default()
}

pub(crate) fn person_needs(
    conn: &mut DbConnection,
    row: &BudgetHolderRow,
) -> AppResult<PersonNeeds> {
    let links = repo::person_links(conn, &row.id)?;
    let support = support_spans(row);
    let merged = model::merge(support.clone());
    Ok(PersonNeeds {
        budget_holder_id: row.id.clone(),
        location: Location {
            latitude: row.latitude,
            longitude: row.longitude,
        },
        minimum_level: row.minimum_level,
        required: links
            .requirements
            .into_iter()
            .map(|(id, name, level)| RequiredCompetency { id, name, level })
            .collect(),
        support_minutes: total_minutes(&merged),
        support: merged,
        preferences: from_json::<Preferences>(&row.preferences),
        team: links.team,
        do_not_match: links.do_not_match,
        affordable_hourly_pay_pence: row.affordable_hourly_pay_pence,
    })
}

pub(crate) fn candidate(
    row: &PaProfileRow,
    evidence: Vec<Evidence>,
    signoffs: Vec<SignOff>,
) -> Candidate {
    let windows: Vec<WeeklyWindow> = from_json(&row.availability);
    Candidate {
        pa_id: row.id.clone(),
        display_name: row.display_name.clone(),
        district: row.district.clone(),
        location: Location {
            latitude: row.latitude,
            longitude: row.longitude,
        },
        max_travel_km: row.max_travel_km,
        checks: checks_of(row),
        evidence,
        signoffs,
        availability: availability_spans("availability", &windows).unwrap_or_default(),
        wanted_minutes: u32::try_from(row.wanted_minutes_per_week).unwrap_or(0),
        committed_minutes: 0,
        min_hourly_pay_pence: row.min_hourly_pay_pence,
        gender: row
            .gender
            .as_deref()
            .and_then(|g| serde_json::from_value(serde_json::Value::String(g.into())).ok()),
        languages: from_json(&row.languages),
        drives: row.drives,
        smoker: row.smoker,
        comfortable_with_pets: row.comfortable_with_pets,
    }
}

/// The matching facts of these PAs (their evidence and sign-offs loaded in two queries for them
/// all), in the rows' order: the loader every domain that judges PAs reads them through.
pub(crate) fn candidates_of(
    conn: &mut DbConnection,
    rows: &[PaProfileRow],
) -> AppResult<Vec<Candidate>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut evidence = evidence_by_pa(conn, &ids)?;
    let mut signoffs: HashMap<String, Vec<SignOff>> = HashMap::new();
    for s in repo::signoffs_of_pas(conn, &ids)? {
        signoffs
            .entry(s.pa_id.clone())
            .or_default()
            .push(signoff_of(s));
    }
    Ok(rows
        .iter()
        .map(|row| {
            candidate(
                row,
                evidence.remove(&row.id).unwrap_or_default(),
                signoffs.remove(&row.id).unwrap_or_default(),
            )
        })
        .collect())
}

pub(crate) fn evidence_by_pa(
    conn: &mut DbConnection,
    pa_ids: &[String],
) -> AppResult<HashMap<String, Vec<Evidence>>> {
    let mut by_pa: HashMap<String, Vec<Evidence>> = HashMap::new();
    for (e, c) in repo::evidence_for(conn, pa_ids)? {
        by_pa.entry(e.pa_id.clone()).or_default().push(Evidence {
            competency_id: c.id,
            level: c.level,
            trained_on: e.trained_on,
            expires_on: e.expires_on,
            verified: e.verified_at.is_some(),
            revoked: e.revoked_at.is_some(),
        });
    }
    Ok(by_pa)
}

pub(crate) fn signoff_of(s: SignOffRow) -> SignOff {
    SignOff {
        competency_id: s.competency_id,
        budget_holder_id: s.budget_holder_id,
        signed_off_on: s.signed_off_on,
        expires_on: s.expires_on,
        revoked: s.revoked_at.is_some(),
    }
}

fn match_view(a: Assessment, pa: &Candidate) -> MatchView {
    let summary = if a.eligible {
        let best = a
            .breakdown
            .iter()
            .filter(|p| p.points >= p.max_points * 0.8)
            .map(|p| p.factor)
            .collect::<Vec<_>>();
        format!(
            "{} scores {:.0}/100, {:.1} km away{}",
            pa.display_name,
            a.score,
            a.distance_km,
            if best.is_empty() {
                String::new()
            } else {
                format!("; strongest on {}", best.join(", "))
            }
        )
    } else {
        let failed: Vec<&str> = a
            .rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.explanation.as_str())
            .collect();
        format!(
            "{} is not a safe match: {}",
            pa.display_name,
            failed.join("; ")
        )
    };
    MatchView {
        pa_id: a.pa_id,
        display_name: pa.display_name.clone(),
        district: pa.district.clone(),
        distance_km: (a.distance_km * 10.0).round() / 10.0,
        score: a.score,
        eligible: a.eligible,
        summary,
        breakdown: a.breakdown,
        rules: a.rules,
    }
}

/// PAs ranked for a person, from the in-memory index of the organisation's PAs (caught up with
/// the database first). Every nearby PA is judged by the hard rules in their cheap form and
/// scored; only the page returned is judged again with its words. `include_ineligible` explains
/// everyone instead, for understanding a shortage.
pub fn matches(
    conn: &mut DbConnection,
    index: &MatchIndex,
    actor: &AuthUser,
    holder_id: &str,
    query: &MatchQuery,
    today: NaiveDate,
) -> AppResult<Page<MatchView>> {
    let (holder, revision) =
        repo::budget_holder_and_revision(conn, holder_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let limit = usize::try_from(
        PageQuery {
            limit: query.limit,
            cursor: None,
        }
        .limit()?,
    )
    .unwrap_or(50);
    let offset: usize = match &query.cursor {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| AppError::field("cursor", "invalid", "is not a cursor from this list"))?,
    };
    if let Some(d) = query.max_distance_km {
        if !(0.0..=MAX_TRAVEL_KM).contains(&d) {
            return Err(AppError::field(
                "max_distance_km",
                "range",
                "must be between 0 and 80",
            ));
        }
    }
    let person = person_needs(conn, &holder)?;
    let organisation = index.current_at(conn, &holder.organisation_id, revision)?;
    let pas = index::read(&organisation);
    let policy = MatchPolicy::default();
    let wanted = offset + limit;
    let within = |distance: f64| query.max_distance_km.is_none_or(|d| distance <= d);
    let min_score = query.min_score.unwrap_or(f64::NEG_INFINITY);
    if let Some(level) = query.min_level {
        model::check_level("min_level", level).map_err(|e| AppError::Validation(vec![e]))?;
    }
    // Asking for a higher level than the person needs is asking for a stricter person.
    let person = PersonNeeds {
        minimum_level: person.minimum_level.max(query.min_level.unwrap_or(0)),
        ..person
    };
    let radius = query.max_distance_km.unwrap_or(MAX_TRAVEL_KM);
    // Delegated tasks count only with a sign-off for this person, so for someone who needs
    // them the few PAs signed off for them are the only possible matches.
    let needs_signoff = person.minimum_level >= FIRST_DELEGATED_LEVEL
        || person
            .required
            .iter()
            .any(|c| c.level >= FIRST_DELEGATED_LEVEL);

    let (best, more) = if query.include_ineligible.unwrap_or(false) {
        // Everyone, eligible or not, explained: for understanding a shortage.
        let mut judged: Vec<(Assessment, &Candidate)> = pas
            .near(person.location, radius)
            .map(|pa| {
                (
                    assess(&person, &pa.candidate, today, &policy),
                    &pa.candidate,
                )
            })
            .filter(|(a, _)| within(a.distance_km) && a.score >= min_score)
            .collect();
        judged.sort_by(|(a, _), (b, _)| {
            model::ranking(
                a.score,
                a.distance_km,
                &a.pa_id,
                b.score,
                b.distance_km,
                &b.pa_id,
            )
        });
        let more = judged.len() > wanted;
        judged.truncate(wanted);
        let items = judged
            .into_iter()
            .skip(offset)
            .map(|(a, c)| match_view(a, c))
            .collect();
        (items, more)
    } else {
        // The few signed off for this person are sketched on the spot; everyone else's
        // sketch waits in the grid.
        let near: Box<dyn Iterator<Item = (usize, ScoreSketch)>> = if needs_signoff {
            Box::new(
                pas.signed_off_slots(&holder.id)
                    .map(|slot| (slot, pas.candidate(slot).sketch())),
            )
        } else {
            Box::new(
                pas.near_sketches(person.location, radius)
                    .map(|(slot, sketch)| (slot, *sketch)),
            )
        };
        let team: Vec<usize> = person
            .team
            .iter()
            .filter_map(|id| pas.active_slot(id))
            .collect();
        let (top, more) = top_matches(
            &person,
            near,
            &|slot| pas.candidate(slot),
            &team,
            wanted,
            &within,
            min_score,
            today,
            &policy,
        );
        // Only the page shown is explained in words.
        let items = top
            .into_iter()
            .skip(offset)
            .map(|c| match_view(assess(&person, c, today, &policy), c))
            .collect();
        (items, more)
    };
    Ok(Page {
        items: best,
        next_cursor: more.then(|| wanted.to_string()),
    })
}

/// The best `wanted` eligible PAs, best first, and whether there are more. PAs are visited by
/// the best score their sketch still allows; once no one left could beat the last place, the
/// rest are only checked for whether any is eligible at all (for the next page's cursor).
/// `team` holds the slots of the person's team.
#[expect(
    clippy::too_many_arguments,
    reason = "one search, its inputs named at the call"
)]
fn top_matches<'a>(
    person: &PersonNeeds,
    near: impl Iterator<Item = (usize, ScoreSketch)>,
    candidate: &dyn Fn(usize) -> &'a Candidate,
    team: &[usize],
    wanted: usize,
    within: &dyn Fn(f64) -> bool,
    min_score: f64,
    today: NaiveDate,
    policy: &MatchPolicy,
) -> (Vec<&'a Candidate>, bool) {
    struct Bounded {
        bound: f64,
        slot: usize,
    }
    impl PartialEq for Bounded {
        fn eq(&self, other: &Self) -> bool {
            self.bound.total_cmp(&other.bound).is_eq()
        }
    }
    impl Eq for Bounded {}
    impl PartialOrd for Bounded {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Bounded {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.bound.total_cmp(&other.bound)
        }
    }

    let needed = model::QuarterHours::touched_by(&person.support);
    let km_per_degree_longitude = 111.195 * person.location.latitude.to_radians().cos();
    let mut queue: std::collections::BinaryHeap<Bounded> = near
        .filter_map(|(slot, sketch)| {
            // A flat-earth distance, shaded down 3% so the bound below never undershoots: the
            // exact distance is judged for those that get that far.
            let dy = (sketch.location.latitude - person.location.latitude) * 111.195;
            let dx =
                (sketch.location.longitude - person.location.longitude) * km_per_degree_longitude;
            let distance = (dx * dx + dy * dy).sqrt() * 0.97;
            if !within(distance) || distance > sketch.terms.max_travel_km {
                return None;
            }
            let covered_at_most = needed.shared_minutes_at_most(&sketch.availability);
            if covered_at_most == 0 && person.support_minutes > 0 {
                return None;
            }
            Some(Bounded {
                bound: model::best_possible_score(
                    person,
                    &sketch.terms,
                    team.contains(&slot),
                    distance,
                    covered_at_most,
                ),
                slot,
            })
        })
        .collect();
    let eligible = |c: &Candidate| {
        let j = model::judge(person, c, today, policy, false);
        (j.eligible && j.score >= min_score).then_some(j)
    };
    // (score, distance, candidate), kept in ranking order, at most `wanted` long.
    let mut best: Vec<(f64, f64, &'a Candidate)> = Vec::with_capacity(wanted + 1);
    let mut more = false;
    while let Some(next) = queue.pop() {
        if next.bound < min_score {
            break;
        }
        if best.len() == wanted && best.last().is_some_and(|last| next.bound < last.0) {
            more = more
                || std::iter::once(next)
                    .chain(std::iter::from_fn(|| queue.pop()))
                    .any(|b| eligible(candidate(b.slot)).is_some());
            break;
        }
        let c = candidate(next.slot);
        let Some(j) = eligible(c) else {
            continue;
        };
        let entry = (j.score, j.distance_km, c);
        let at = best.partition_point(|e| {
            model::ranking(e.0, e.1, &e.2.pa_id, entry.0, entry.1, &entry.2.pa_id).is_lt()
        });
        best.insert(at, entry);
        if best.len() > wanted {
            best.truncate(wanted);
            more = true;
        }
    }
    (best.into_iter().map(|(_, _, c)| c).collect(), more)
}

/// Why one PA is or is not a match for one person, rule by rule.
pub fn explain_match(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
    today: NaiveDate,
) -> AppResult<MatchView> {
    let holder = repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let pa = crate::ids::parse_id(pa_id)
        .map(|id| repo::find_pa(conn, &id))
        .transpose()?
        .flatten()
        .filter(|p| p.organisation_id == holder.organisation_id)
        .ok_or(AppError::NotFound)?;
    let person = person_needs(conn, &holder)?;
    let evidence = evidence_by_pa(conn, std::slice::from_ref(&pa.id))?
        .remove(&pa.id)
        .unwrap_or_default();
    let signoffs = repo::signoffs_for_holder(conn, &holder.id)?
        .into_iter()
        .filter(|s| s.pa_id == pa.id)
        .map(signoff_of)
        .collect();
    let c = candidate(&pa, evidence, signoffs);
    let mut assessment = assess(&person, &c, today, &MatchPolicy::default());
    if !pa.active {
        assessment.eligible = false;
        assessment.rules.insert(
            0,
            model::RuleOutcome {
                rule: "active".into(),
                passed: false,
                explanation: "the PA's profile is deactivated".into(),
            },
        );
    }
    Ok(match_view(assessment, &c))
}

/// For a PA: the people near them they are qualified and free to support. Shows what an offer
/// needs (district, distance, level, hours), never names or addresses.
pub fn opportunities(
    conn: &mut DbConnection,
    actor: &AuthUser,
    today: NaiveDate,
) -> AppResult<OpportunitiesView> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let location = Location {
        latitude: pa.latitude,
        longitude: pa.longitude,
    };
    let (low, high) = geo::bounding_box(location, pa.max_travel_km);
    let holders = repo::active_budget_holders_in_box(conn, &pa.organisation_id, low, high)?;
    let barred: HashSet<String> = repo::do_not_match_of_pa(conn, &pa.id)?
        .into_iter()
        .collect();
    let evidence = evidence_by_pa(conn, std::slice::from_ref(&pa.id))?
        .remove(&pa.id)
        .unwrap_or_default();
    let signoffs: Vec<SignOff> = repo::signoffs_of_pa(conn, &pa.id)?
        .into_iter()
        .map(signoff_of)
        .collect();
    let me = candidate(&pa, evidence, signoffs);
    let policy = MatchPolicy::default();
    let mut people = Vec::new();
    for holder in holders.iter().filter(|h| !barred.contains(&h.id)) {
        let person = person_needs(conn, holder)?;
        let a = assess(&person, &me, today, &policy);
        if !a.eligible {
            continue;
        }
        let support_needs: Vec<SupportNeed> = from_json(&holder.support_needs);
        people.push(OpportunityView {
            budget_holder_id: holder.id.clone(),
            district: holder.district.clone(),
            distance_km: (a.distance_km * 10.0).round() / 10.0,
            minimum_level: holder.minimum_level,
            support_hours_per_week: person_hours(&support_needs),
            hours_you_are_available: minutes_to_hours(i64::from(model::covered_minutes(
                &person.support,
                &me.availability,
            ))),
            support_needs,
            score: a.score,
        });
    }
    people.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.distance_km.total_cmp(&b.distance_km))
    });
    Ok(OpportunitiesView { people })
}

/// PA supply against support demand, by postcode district and competency level.
pub fn capacity(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &CapacityQuery,
    today: NaiveDate,
) -> AppResult<CapacityView> {
    let own = crate::accounts::repo::find_organisation(conn, &actor.organisation_id)?
        .ok_or(AppError::NotFound)?;
    let organisations: Vec<String> = match (actor.role, &query.organisation_id) {
        (Role::Commissioner, None) => {
            crate::accounts::repo::list_organisations(conn, Some(&actor.area_code), None)?
                .into_iter()
                .filter(|o| o.kind == "provider")
                .map(|o| o.id)
                .collect()
        }
        (_, Some(raw)) => {
            let id = crate::ids::parse_id(raw).ok_or(AppError::NotFound)?;
            let organisation =
                crate::accounts::repo::find_organisation(conn, &id)?.ok_or(AppError::NotFound)?;
            authorize(
                actor,
                Action::Read,
                Resource::WorkforceCapacity {
                    organisation_id: &organisation.id,
                    area_code: &organisation.area_code,
                },
            )?;
            vec![organisation.id]
        }
        (_, None) => {
            authorize(
                actor,
                Action::Read,
                Resource::WorkforceCapacity {
                    organisation_id: &own.id,
                    area_code: &own.area_code,
                },
            )?;
            vec![own.id.clone()]
        }
    };
    let policy = MatchPolicy::default();
    // (district, level) -> (PAs, available minutes, needed person-minutes)
    let mut cells: std::collections::BTreeMap<(String, i32), (u32, i64, i64)> = Default::default();
    let pas = repo::active_pas(conn, &organisations)?;
    let ids: Vec<String> = pas.iter().map(|p| p.id.clone()).collect();
    let mut evidence = evidence_by_pa(conn, &ids)?;
    for pa in &pas {
        let checks = checks_of(pa);
        if dbs_current(&checks, today, &policy).is_err()
            || right_to_work_current(&checks, today).is_err()
        {
            continue;
        }
        // Supply counts the PA's general level: delegated tasks are signed off per person later.
        let level = evidence
            .remove(&pa.id)
            .unwrap_or_default()
            .iter()
            .filter(|e| {
                evidence_status(e.trained_on, e.expires_on, e.verified, e.revoked, today)
                    == model::EvidenceStatus::Valid
            })
            .map(|e| e.level)
            .max();
        let Some(level) = level else { continue };
        let cell = cells.entry((pa.district.clone(), level)).or_default();
        cell.0 += 1;
        cell.1 += i64::from(pa.wanted_minutes_per_week);
    }
    for holder in repo::active_budget_holders(conn, &organisations)? {
        let needs: Vec<SupportNeed> = from_json(&holder.support_needs);
        let minutes: i64 = need_spans("support_needs", &needs)
            .map(|s| {
                s.iter()
                    .map(|(span, h)| i64::from(span.minutes()) * i64::from(*h))
                    .sum()
            })
            .unwrap_or(0);
        cells
            .entry((holder.district.clone(), holder.minimum_level))
            .or_default()
            .2 += minutes;
    }
    let rows: Vec<CapacityRow> = cells
        .into_iter()
        .map(
            |((district, level), (pas, available, needed))| CapacityRow {
                district,
                level,
                pas,
                available_hours_per_week: minutes_to_hours(available),
                needed_hours_per_week: minutes_to_hours(needed),
                gap_hours_per_week: minutes_to_hours(needed - available),
            },
        )
        .collect();
    Ok(CapacityView {
        total_available_hours_per_week: rows
            .iter()
            .map(|r| r.available_hours_per_week)
            .sum::<f64>()
            .round(),
        total_needed_hours_per_week: rows
            .iter()
            .map(|r| r.needed_hours_per_week)
            .sum::<f64>()
            .round(),
        organisations,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::market::Rng;
    use crate::market::model::{Day, Gender};

    fn candidate_at(n: u64, rng: &mut Rng) -> index::IndexedPa {
        let windows = vec![WeeklyWindow {
            day: Day::Monday,
            // Odd minutes, so the quarter-hour bound on covered time is loose, not exact.
            start: format!("{:02}:{:02}", rng.between(5, 10), rng.between(0, 59)),
            end: format!("{:02}:{:02}", rng.between(11, 20), rng.between(0, 59)),
        }];
        index::IndexedPa {
            active: true,
            candidate: Candidate {
                pa_id: format!("pa-{n:04}"),
                display_name: format!("PA {n}"),
                district: "BB11".into(),
                location: Location {
                    latitude: 53.78 + (rng.between(0, 400) as f64 - 200.0) / 1000.0,
                    longitude: -2.25 + (rng.between(0, 400) as f64 - 200.0) / 1000.0,
                },
                max_travel_km: rng.between(3, 25) as f64,
                checks: Checks {
                    dbs_issued_on: Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()),
                    dbs_update_service: true,
                    dbs_verified: rng.chance(95),
                    right_to_work_checked_on: Some(
                        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
                    ),
                    right_to_work_expires_on: None,
                    right_to_work_verified: true,
                },
                evidence: vec![Evidence {
                    competency_id: "care".into(),
                    level: 2,
                    trained_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
                    expires_on: None,
                    verified: rng.chance(90),
                    revoked: false,
                }],
                signoffs: Vec::new(),
                availability: availability_spans("a", &windows).unwrap_or_default(),
                wanted_minutes: u32::try_from(rng.between(0, 40) * 60).unwrap_or(0),
                committed_minutes: 0,
                min_hourly_pay_pence: i64::try_from(rng.between(1200, 1600)).unwrap_or(1300),
                gender: Some(if rng.chance(50) {
                    Gender::Female
                } else {
                    Gender::Male
                }),
                languages: vec!["English".into()],
                drives: rng.chance(50),
                smoker: false,
                comfortable_with_pets: true,
            },
        }
    }

    #[test]
    fn the_bounded_search_returns_exactly_the_best_page_of_a_full_sort() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let policy = MatchPolicy::default();
        for seed in 0..20 {
            let mut rng = Rng::new(seed);
            let pas: Vec<index::IndexedPa> = (0..300).map(|n| candidate_at(n, &mut rng)).collect();
            let needs = vec![SupportNeed {
                day: Day::Monday,
                start: "08:00".into(),
                end: "12:00".into(),
                headcount: 1,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            }];
            let support: Vec<Span> = need_spans("s", &needs)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let person = PersonNeeds {
                budget_holder_id: "ann".into(),
                location: Location {
                    latitude: 53.78,
                    longitude: -2.25,
                },
                minimum_level: 2,
                required: vec![RequiredCompetency {
                    id: "care".into(),
                    name: "Care".into(),
                    level: 2,
                }],
                support_minutes: total_minutes(&support),
                support,
                preferences: Preferences {
                    pa_gender: Some(Gender::Female),
                    driver: true,
                    ..Preferences::default()
                },
                team: vec!["pa-0007".into(), "pa-0100".into()],
                do_not_match: vec!["pa-0003".into()],
                affordable_hourly_pay_pence: Some(1400),
            };
            let mut everyone: Vec<Assessment> = pas
                .iter()
                .map(|pa| assess(&person, &pa.candidate, today, &policy))
                .filter(|a| a.eligible)
                .collect();
            everyone.sort_by(|a, b| {
                model::ranking(
                    a.score,
                    a.distance_km,
                    &a.pa_id,
                    b.score,
                    b.distance_km,
                    &b.pa_id,
                )
            });
            assert!(
                everyone.len() > 40,
                "seed {seed}: too few eligible to test paging"
            );
            for wanted in [1, 7, 40, 1000] {
                let team: Vec<usize> = pas
                    .iter()
                    .enumerate()
                    .filter(|(_, pa)| person.team.contains(&pa.candidate.pa_id))
                    .map(|(slot, _)| slot)
                    .collect();
                let (top, more) = top_matches(
                    &person,
                    pas.iter()
                        .enumerate()
                        .map(|(slot, pa)| (slot, pa.candidate.sketch())),
                    &|slot| &pas[slot].candidate,
                    &team,
                    wanted,
                    &|_| true,
                    f64::NEG_INFINITY,
                    today,
                    &policy,
                );
                let expected: Vec<&str> = everyone
                    .iter()
                    .take(wanted)
                    .map(|a| a.pa_id.as_str())
                    .collect();
                let got: Vec<&str> = top.iter().map(|c| c.pa_id.as_str()).collect();
                assert_eq!(got, expected, "seed {seed}, wanted {wanted}");
                assert_eq!(
                    more,
                    everyone.len() > wanted,
                    "seed {seed}, wanted {wanted}"
                );
            }
        }
    }
}

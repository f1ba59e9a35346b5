//! PA profiles: creating and editing them, their checks (DBS, right to work), competency
//! evidence and the sign-offs a clinician gives for one person's delegated tasks.

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{self, authorize, Action, Resource};
use crate::auth::{AuthUser, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::{Page, PageQuery};
use crate::market::competencies::resolve_competencies;
use crate::market::dto::*;
use crate::market::model::{
    self, availability_spans, dbs_current, evidence_status, right_to_work_current, MatchPolicy,
    FIRST_DELEGATED_LEVEL,
};
use crate::market::repo::{self, *};

use crate::db::json::{from_text as from_json, to_text as to_json};
use crate::error::errors_or;
use crate::geo::place_of;
use crate::ids::body_id;
use crate::market::model::{hours_to_minutes, minutes_to_hours};

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
        languages: from_json("languages", &row.languages)?,
        availability: from_json("availability", &row.availability)?,
        gender: row
            .gender
            .as_deref()
            .map(|g| crate::db::json::enum_from_text("gender", g))
            .transpose()?,
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

/// A login may be linked only to a profile of its own organisation and role.
pub(crate) fn check_linked_user(
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
    let place = place_of("postcode", &request.postcode)
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
        languages: to_json(&request.languages)?,
        gender: gender_text(request.gender),
        availability: to_json(&request.availability)?,
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
        let is_manager = policy::manages_workforce(actor);
        let mut errors = Vec::new();
        let mut row = before.clone();
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
        if let Some(windows) = &request.availability {
            match availability_spans("availability", windows) {
                Ok(_) => row.availability = to_json(windows)?,
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
            row.languages = to_json(v)?;
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
                before: Some(&crate::audit::changed_fields(&before, &row)),
                after: Some(&crate::audit::changed_fields(&row, &before)),
            },
        )?;
        Ok(row)
    })?;
    pa_view(conn, row, now.date_naive())
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
    let is_manager = policy::manages_workforce(actor);
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

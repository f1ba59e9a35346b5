//! Queries for the marketplace.

use crate::money::Pence;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{
    absences, budget_holder_requirements, budget_holders, clinical_signoffs, competencies,
    competency_levels, do_not_match, employers, engagements, market_revisions, pa_competencies,
    pa_profiles, pa_unavailability, team_members,
};
use crate::db::DbConnection;
use std::collections::HashMap;

use crate::auth::policy::Resource;
use crate::auth::AuthUser;
use crate::db::json::from_text as from_json;
use crate::error::{AppError, AppResult};
use crate::geo::Location;
use crate::market::model::employment::Engaged;
use crate::market::model::{
    self, availability_spans, need_spans, total_minutes, Candidate, Checks, Evidence, PersonNeeds,
    Preferences, RequiredCompetency, SignOff, Span, SupportNeed, WeeklyWindow,
};
use crate::market::model::{DEFAULT_COMPETENCIES, DEFAULT_LEVELS};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competency_levels)]
pub struct CompetencyLevelRow {
    pub organisation_id: String,
    pub level: i32,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competencies)]
pub struct CompetencyRow {
    pub id: String,
    pub organisation_id: String,
    pub code: String,
    pub name: String,
    pub level: i32,
    pub description: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = pa_profiles, treat_none_as_null = true)]
pub struct PaProfileRow {
    pub id: String,
    pub organisation_id: String,
    pub user_id: Option<String>,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: String,
    pub district: String,
    pub latitude: f64,
    pub longitude: f64,
    pub max_travel_km: f64,
    pub drives: bool,
    pub has_car: bool,
    pub smoker: bool,
    pub comfortable_with_pets: bool,
    pub languages: String,
    pub gender: Option<String>,
    pub availability: String,
    pub wanted_minutes_per_week: i32,
    pub min_hourly_pay_pence: Pence,
    pub dbs_issued_on: Option<NaiveDate>,
    pub dbs_update_service: bool,
    pub dbs_verified_by: Option<String>,
    pub dbs_verified_at: Option<NaiveDateTime>,
    pub right_to_work_checked_on: Option<NaiveDate>,
    pub right_to_work_expires_on: Option<NaiveDate>,
    pub right_to_work_verified_by: Option<String>,
    pub right_to_work_verified_at: Option<NaiveDateTime>,
    pub active: bool,
    pub revision: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pa_unavailability)]
pub struct UnavailabilityRow {
    pub id: String,
    pub pa_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pa_competencies)]
pub struct EvidenceRow {
    pub id: String,
    pub pa_id: String,
    pub competency_id: String,
    pub trained_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub evidence_reference: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clinical_signoffs)]
pub struct SignOffRow {
    pub id: String,
    pub pa_id: String,
    pub competency_id: String,
    pub budget_holder_id: String,
    pub clinician_name: String,
    pub clinician_role: String,
    pub signed_off_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = budget_holders, treat_none_as_null = true)]
pub struct BudgetHolderRow {
    pub id: String,
    pub organisation_id: String,
    pub team_manager_id: String,
    pub user_id: Option<String>,
    pub representative_user_id: Option<String>,
    pub display_name: String,
    pub representative_name: Option<String>,
    pub postcode: String,
    pub district: String,
    pub latitude: f64,
    pub longitude: f64,
    pub funding: String,
    pub minimum_level: i32,
    pub support_needs: String,
    pub preferences: String,
    pub affordable_hourly_pay_pence: Option<Pence>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The day the person (or, where they cannot, their manager) recorded consent to the
    /// representative acting for them.
    pub representative_consent_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = team_members)]
pub struct TeamMemberRow {
    pub id: String,
    pub budget_holder_id: String,
    pub pa_id: String,
    pub added_by: String,
    pub added_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = do_not_match)]
pub struct DoNotMatchRow {
    pub id: String,
    pub budget_holder_id: String,
    pub pa_id: String,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

// --- competency framework --------------------------------------------------------------------

/// Gives a new organisation the default four levels and their competencies.
pub fn seed_default_framework(
    conn: &mut DbConnection,
    organisation_id: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(market_revisions::table)
        .values((
            market_revisions::organisation_id.eq(organisation_id),
            market_revisions::revision.eq(0_i64),
        ))
        .execute(conn)?;
    for (level, name, description) in DEFAULT_LEVELS {
        diesel::insert_into(competency_levels::table)
            .values(&CompetencyLevelRow {
                organisation_id: organisation_id.to_owned(),
                level,
                name: name.to_owned(),
                description: description.to_owned(),
            })
            .execute(conn)?;
    }
    for (code, name, level) in DEFAULT_COMPETENCIES {
        insert_competency(
            conn,
            &CompetencyRow {
                id: crate::ids::new_id(),
                organisation_id: organisation_id.to_owned(),
                code: code.to_owned(),
                name: name.to_owned(),
                level,
                description: String::new(),
                active: true,
                created_at: now,
                updated_at: now,
            },
        )?;
    }
    Ok(())
}

pub fn levels(
    conn: &mut DbConnection,
    organisation_id: &str,
) -> AppResult<Vec<CompetencyLevelRow>> {
    Ok(competency_levels::table
        .filter(competency_levels::organisation_id.eq(organisation_id))
        .order(competency_levels::level.asc())
        .select(CompetencyLevelRow::as_select())
        .load(conn)?)
}

pub fn insert_competency(conn: &mut DbConnection, row: &CompetencyRow) -> AppResult<()> {
    diesel::insert_into(competencies::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_competency(conn: &mut DbConnection, id: &str) -> AppResult<Option<CompetencyRow>> {
    Ok(competencies::table
        .find(id)
        .select(CompetencyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn competencies_by_ids(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<Vec<CompetencyRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(competencies::table
        .filter(competencies::id.eq_any(ids))
        .select(CompetencyRow::as_select())
        .load(conn)?)
}

pub fn all_competencies(
    conn: &mut DbConnection,
    organisation_id: &str,
) -> AppResult<Vec<CompetencyRow>> {
    Ok(competencies::table
        .filter(competencies::organisation_id.eq(organisation_id))
        .select(CompetencyRow::as_select())
        .load(conn)?)
}

pub fn list_competencies(
    conn: &mut DbConnection,
    organisation_id: &str,
    level: Option<i32>,
    active: Option<bool>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<CompetencyRow>> {
    let mut query = competencies::table
        .filter(competencies::organisation_id.eq(organisation_id.to_owned()))
        .order(competencies::id.asc())
        .limit(limit + 1)
        .select(CompetencyRow::as_select())
        .into_boxed();
    if let Some(level) = level {
        query = query.filter(competencies::level.eq(level));
    }
    if let Some(active) = active {
        query = query.filter(competencies::active.eq(active));
    }
    if let Some(after) = after_id {
        query = query.filter(competencies::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

pub fn update_competency(
    conn: &mut DbConnection,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
    active: Option<bool>,
    now: NaiveDateTime,
) -> AppResult<()> {
    #[derive(AsChangeset)]
    #[diesel(table_name = competencies)]
    struct Changes<'a> {
        name: Option<&'a str>,
        description: Option<&'a str>,
        active: Option<bool>,
        updated_at: NaiveDateTime,
    }
    diesel::update(competencies::table.find(id))
        .set(&Changes {
            name,
            description,
            active,
            updated_at: now,
        })
        .execute(conn)?;
    Ok(())
}

// --- PA profiles -----------------------------------------------------------------------------

pub fn insert_pa(conn: &mut DbConnection, row: &PaProfileRow) -> AppResult<()> {
    diesel::insert_into(pa_profiles::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn save_pa(conn: &mut DbConnection, row: &PaProfileRow) -> AppResult<()> {
    diesel::update(pa_profiles::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_pa(conn: &mut DbConnection, id: &str) -> AppResult<Option<PaProfileRow>> {
    Ok(pa_profiles::table
        .find(id)
        .select(PaProfileRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_pa_by_user(conn: &mut DbConnection, user_id: &str) -> AppResult<Option<PaProfileRow>> {
    Ok(pa_profiles::table
        .filter(pa_profiles::user_id.eq(user_id))
        .select(PaProfileRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn pas_by_ids(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<PaProfileRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pa_profiles::table
        .filter(pa_profiles::id.eq_any(ids))
        .select(PaProfileRow::as_select())
        .load(conn)?)
}

pub fn list_pas(
    conn: &mut DbConnection,
    organisation_id: &str,
    district: Option<&str>,
    active: Option<bool>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<PaProfileRow>> {
    let mut query = pa_profiles::table
        .filter(pa_profiles::organisation_id.eq(organisation_id.to_owned()))
        .order(pa_profiles::id.asc())
        .limit(limit + 1)
        .select(PaProfileRow::as_select())
        .into_boxed();
    if let Some(district) = district {
        query = query.filter(pa_profiles::district.eq(district.to_uppercase()));
    }
    if let Some(active) = active {
        query = query.filter(pa_profiles::active.eq(active));
    }
    if let Some(after) = after_id {
        query = query.filter(pa_profiles::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

// --- market revisions ------------------------------------------------------------------------

/// Takes the organisation's next market revision. Call inside the transaction that changes a PA,
/// their evidence or sign-offs, and stamp the PA with it: the counter's row lock makes
/// revisions commit in the order they are taken.
pub fn bump_revision(conn: &mut DbConnection, organisation_id: &str) -> AppResult<i64> {
    let updated = diesel::update(market_revisions::table.find(organisation_id))
        .set(market_revisions::revision.eq(market_revisions::revision + 1))
        .execute(conn)?;
    if updated == 0 {
        return Err(crate::error::AppError::internal(
            "organisation has no market revision counter",
        ));
    }
    market_revision(conn, organisation_id)
}

pub fn market_revision(conn: &mut DbConnection, organisation_id: &str) -> AppResult<i64> {
    Ok(market_revisions::table
        .find(organisation_id)
        .select(market_revisions::revision)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Marks a PA changed (their evidence or sign-offs) at the organisation's next revision.
pub fn touch_pa(conn: &mut DbConnection, pa_id: &str, organisation_id: &str) -> AppResult<()> {
    let revision = bump_revision(conn, organisation_id)?;
    diesel::update(pa_profiles::table.find(pa_id))
        .set(pa_profiles::revision.eq(revision))
        .execute(conn)?;
    Ok(())
}

/// PAs of the organisation changed after `revision` (all of them from revision -1).
pub fn pas_changed_since(
    conn: &mut DbConnection,
    organisation_id: &str,
    revision: i64,
) -> AppResult<Vec<PaProfileRow>> {
    Ok(pa_profiles::table
        .filter(pa_profiles::organisation_id.eq(organisation_id))
        .filter(pa_profiles::revision.gt(revision))
        .select(PaProfileRow::as_select())
        .load(conn)?)
}

pub fn signoffs_of_pas(conn: &mut DbConnection, pa_ids: &[String]) -> AppResult<Vec<SignOffRow>> {
    let mut rows = Vec::new();
    for chunk in pa_ids.chunks(5000) {
        rows.extend(
            clinical_signoffs::table
                .filter(clinical_signoffs::pa_id.eq_any(chunk))
                .select(SignOffRow::as_select())
                .load::<SignOffRow>(conn)?,
        );
    }
    Ok(rows)
}

pub fn active_pas(
    conn: &mut DbConnection,
    organisation_ids: &[String],
) -> AppResult<Vec<PaProfileRow>> {
    Ok(pa_profiles::table
        .filter(pa_profiles::organisation_id.eq_any(organisation_ids))
        .filter(pa_profiles::active.eq(true))
        .select(PaProfileRow::as_select())
        .load(conn)?)
}

/// Leave and other dated unavailability of the PAs overlapping the dates `from` to `to`.
pub fn unavailability_between(
    conn: &mut DbConnection,
    pa_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<UnavailabilityRow>> {
    let mut rows: Vec<UnavailabilityRow> = pa_unavailability::table
        .filter(pa_unavailability::pa_id.eq_any(pa_ids))
        .filter(pa_unavailability::starts_on.le(to))
        .filter(pa_unavailability::ends_on.ge(from))
        .select(UnavailabilityRow::as_select())
        .load(conn)?;
    // Absences count as leave, through the day the absence domain set (an open-ended one's
    // reaches on until it is given an end).
    rows.extend(
        absences::table
            .filter(absences::pa_id.eq_any(pa_ids))
            .filter(absences::starts_on.le(to))
            .filter(absences::away_through.ge(from))
            .select((
                absences::id,
                absences::pa_id,
                absences::starts_on,
                absences::away_through,
            ))
            .load::<(String, String, NaiveDate, NaiveDate)>(conn)?
            .into_iter()
            .map(|(id, pa_id, starts_on, ends_on)| UnavailabilityRow {
                id,
                pa_id,
                starts_on,
                ends_on,
            }),
    );
    Ok(rows)
}

pub fn unavailability(conn: &mut DbConnection, pa_id: &str) -> AppResult<Vec<UnavailabilityRow>> {
    Ok(pa_unavailability::table
        .filter(pa_unavailability::pa_id.eq(pa_id))
        .order(pa_unavailability::starts_on.asc())
        .select(UnavailabilityRow::as_select())
        .load(conn)?)
}

pub fn replace_unavailability(
    conn: &mut DbConnection,
    pa_id: &str,
    ranges: &[(NaiveDate, NaiveDate)],
) -> AppResult<()> {
    diesel::delete(pa_unavailability::table.filter(pa_unavailability::pa_id.eq(pa_id)))
        .execute(conn)?;
    for (starts_on, ends_on) in ranges {
        diesel::insert_into(pa_unavailability::table)
            .values(&UnavailabilityRow {
                id: crate::ids::new_id(),
                pa_id: pa_id.to_owned(),
                starts_on: *starts_on,
                ends_on: *ends_on,
            })
            .execute(conn)?;
    }
    Ok(())
}

// --- evidence and sign-offs ------------------------------------------------------------------

pub fn insert_evidence(conn: &mut DbConnection, row: &EvidenceRow) -> AppResult<()> {
    diesel::insert_into(pa_competencies::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_evidence(conn: &mut DbConnection, id: &str) -> AppResult<Option<EvidenceRow>> {
    Ok(pa_competencies::table
        .find(id)
        .select(EvidenceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn mark_evidence(
    conn: &mut DbConnection,
    id: &str,
    verified_by: Option<(&str, NaiveDateTime)>,
    revoked_at: Option<NaiveDateTime>,
) -> AppResult<()> {
    if let Some((by, at)) = verified_by {
        diesel::update(
            pa_competencies::table
                .find(id)
                .filter(pa_competencies::verified_at.is_null()),
        )
        .set((
            pa_competencies::verified_by.eq(by),
            pa_competencies::verified_at.eq(at),
        ))
        .execute(conn)?;
    }
    if let Some(at) = revoked_at {
        diesel::update(
            pa_competencies::table
                .find(id)
                .filter(pa_competencies::revoked_at.is_null()),
        )
        .set(pa_competencies::revoked_at.eq(at))
        .execute(conn)?;
    }
    Ok(())
}

/// Evidence of many PAs with each competency's level.
pub fn evidence_for(
    conn: &mut DbConnection,
    pa_ids: &[String],
) -> AppResult<Vec<(EvidenceRow, CompetencyRow)>> {
    if pa_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    // Bounded IN lists: PostgreSQL and SQLite both cap bind parameters.
    for chunk in pa_ids.chunks(5000) {
        rows.extend(
            pa_competencies::table
                .inner_join(competencies::table)
                .filter(pa_competencies::pa_id.eq_any(chunk))
                .select((EvidenceRow::as_select(), CompetencyRow::as_select()))
                .load::<(EvidenceRow, CompetencyRow)>(conn)?,
        );
    }
    Ok(rows)
}

pub fn insert_signoff(conn: &mut DbConnection, row: &SignOffRow) -> AppResult<()> {
    diesel::insert_into(clinical_signoffs::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn signoffs_of_pa(conn: &mut DbConnection, pa_id: &str) -> AppResult<Vec<SignOffRow>> {
    Ok(clinical_signoffs::table
        .filter(clinical_signoffs::pa_id.eq(pa_id))
        .order(clinical_signoffs::recorded_at.asc())
        .select(SignOffRow::as_select())
        .load(conn)?)
}

pub fn signoffs_for_holder(
    conn: &mut DbConnection,
    budget_holder_id: &str,
) -> AppResult<Vec<SignOffRow>> {
    Ok(clinical_signoffs::table
        .filter(clinical_signoffs::budget_holder_id.eq(budget_holder_id))
        .select(SignOffRow::as_select())
        .load(conn)?)
}

// --- budget holders --------------------------------------------------------------------------

pub fn insert_budget_holder(conn: &mut DbConnection, row: &BudgetHolderRow) -> AppResult<()> {
    diesel::insert_into(budget_holders::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn save_budget_holder(conn: &mut DbConnection, row: &BudgetHolderRow) -> AppResult<()> {
    diesel::update(budget_holders::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_budget_holder(conn: &mut DbConnection, id: &str) -> AppResult<Option<BudgetHolderRow>> {
    Ok(budget_holders::table
        .find(id)
        .select(BudgetHolderRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_budget_holders(
    conn: &mut DbConnection,
    organisation_id: &str,
    team_manager_id: Option<&str>,
    active: Option<bool>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<BudgetHolderRow>> {
    let mut query = budget_holders::table
        .filter(budget_holders::organisation_id.eq(organisation_id.to_owned()))
        .order(budget_holders::id.asc())
        .limit(limit + 1)
        .select(BudgetHolderRow::as_select())
        .into_boxed();
    if let Some(manager) = team_manager_id {
        query = query.filter(budget_holders::team_manager_id.eq(manager.to_owned()));
    }
    if let Some(active) = active {
        query = query.filter(budget_holders::active.eq(active));
    }
    if let Some(after) = after_id {
        query = query.filter(budget_holders::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// The people a PA could reach: active budget holders of the organisation inside a box.
pub fn active_budget_holders_in_box(
    conn: &mut DbConnection,
    organisation_id: &str,
    low: crate::geo::Location,
    high: crate::geo::Location,
) -> AppResult<Vec<BudgetHolderRow>> {
    Ok(budget_holders::table
        .filter(budget_holders::organisation_id.eq(organisation_id))
        .filter(budget_holders::latitude.between(low.latitude, high.latitude))
        .filter(budget_holders::longitude.between(low.longitude, high.longitude))
        .filter(budget_holders::active.eq(true))
        .select(BudgetHolderRow::as_select())
        .load(conn)?)
}

pub fn active_budget_holders(
    conn: &mut DbConnection,
    organisation_ids: &[String],
) -> AppResult<Vec<BudgetHolderRow>> {
    Ok(budget_holders::table
        .filter(budget_holders::organisation_id.eq_any(organisation_ids))
        .filter(budget_holders::active.eq(true))
        .select(BudgetHolderRow::as_select())
        .load(conn)?)
}

pub fn requirements(
    conn: &mut DbConnection,
    budget_holder_id: &str,
) -> AppResult<Vec<CompetencyRow>> {
    Ok(budget_holder_requirements::table
        .inner_join(competencies::table)
        .filter(budget_holder_requirements::budget_holder_id.eq(budget_holder_id))
        .order(competencies::level.asc())
        .select(CompetencyRow::as_select())
        .load(conn)?)
}

pub fn replace_requirements(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    competency_ids: &[String],
) -> AppResult<()> {
    diesel::delete(
        budget_holder_requirements::table
            .filter(budget_holder_requirements::budget_holder_id.eq(budget_holder_id)),
    )
    .execute(conn)?;
    for competency_id in competency_ids {
        diesel::insert_into(budget_holder_requirements::table)
            .values((
                budget_holder_requirements::budget_holder_id.eq(budget_holder_id),
                budget_holder_requirements::competency_id.eq(competency_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// --- teams and do-not-match ------------------------------------------------------------------

/// A person with their organisation's market revision, in one round trip (matching asks for
/// both on every request).
pub fn budget_holder_and_revision(
    conn: &mut DbConnection,
    id: &str,
) -> AppResult<Option<(BudgetHolderRow, i64)>> {
    Ok(budget_holders::table
        .left_join(
            market_revisions::table
                .on(market_revisions::organisation_id.eq(budget_holders::organisation_id)),
        )
        .filter(budget_holders::id.eq(id))
        .select((
            BudgetHolderRow::as_select(),
            market_revisions::revision.nullable(),
        ))
        .first::<(BudgetHolderRow, Option<i64>)>(conn)
        .optional()?
        .map(|(holder, revision)| (holder, revision.unwrap_or(0))))
}

/// What a person links to, for matching: required competencies (id, name, level), the team and
/// the do-not-match list, in one round trip.
pub struct PersonLinks {
    pub requirements: Vec<(String, String, i32)>,
    pub team: Vec<String>,
    pub do_not_match: Vec<String>,
}

pub fn person_links(conn: &mut DbConnection, budget_holder_id: &str) -> AppResult<PersonLinks> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Integer, Text};
    let requirements = budget_holder_requirements::table
        .inner_join(competencies::table)
        .filter(budget_holder_requirements::budget_holder_id.eq(budget_holder_id))
        .select((
            sql::<Text>("'requirement'"),
            competencies::id,
            competencies::name,
            competencies::level,
        ));
    let team = team_members::table
        .filter(team_members::budget_holder_id.eq(budget_holder_id))
        .filter(team_members::removed_at.is_null())
        .select((
            sql::<Text>("'team'"),
            team_members::pa_id,
            sql::<Text>("''"),
            sql::<Integer>("0"),
        ));
    let barred = do_not_match::table
        .filter(do_not_match::budget_holder_id.eq(budget_holder_id))
        .filter(do_not_match::removed_at.is_null())
        .select((
            sql::<Text>("'do_not_match'"),
            do_not_match::pa_id,
            sql::<Text>("''"),
            sql::<Integer>("0"),
        ));
    // `MultiConnection` has no UNION: the one query runs on each backend's own connection.
    let query = requirements.union_all(team).union_all(barred);
    let rows: Vec<(String, String, String, i32)> = crate::db::load_on_backend!(conn, query)?;
    let mut links = PersonLinks {
        requirements: Vec::new(),
        team: Vec::new(),
        do_not_match: Vec::new(),
    };
    for (kind, id, name, level) in rows {
        match kind.as_str() {
            "requirement" => links.requirements.push((id, name, level)),
            "team" => links.team.push(id),
            _ => links.do_not_match.push(id),
        }
    }
    links
        .requirements
        .sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    Ok(links)
}

pub fn team(conn: &mut DbConnection, budget_holder_id: &str) -> AppResult<Vec<TeamMemberRow>> {
    Ok(team_members::table
        .filter(team_members::budget_holder_id.eq(budget_holder_id))
        .filter(team_members::removed_at.is_null())
        .order(team_members::added_at.asc())
        .select(TeamMemberRow::as_select())
        .load(conn)?)
}

pub fn add_team_member(conn: &mut DbConnection, row: &TeamMemberRow) -> AppResult<()> {
    diesel::insert_into(team_members::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn end_team_membership(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    pa_id: &str,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(
        team_members::table
            .filter(team_members::budget_holder_id.eq(budget_holder_id))
            .filter(team_members::pa_id.eq(pa_id))
            .filter(team_members::removed_at.is_null()),
    )
    .set(team_members::removed_at.eq(now))
    .execute(conn)?)
}

pub fn do_not_match_list(
    conn: &mut DbConnection,
    budget_holder_id: &str,
) -> AppResult<Vec<DoNotMatchRow>> {
    Ok(do_not_match::table
        .filter(do_not_match::budget_holder_id.eq(budget_holder_id))
        .filter(do_not_match::removed_at.is_null())
        .order(do_not_match::recorded_at.asc())
        .select(DoNotMatchRow::as_select())
        .load(conn)?)
}

/// Budget holders who must never be matched with a PA.
pub fn do_not_match_of_pa(conn: &mut DbConnection, pa_id: &str) -> AppResult<Vec<String>> {
    Ok(do_not_match::table
        .filter(do_not_match::pa_id.eq(pa_id))
        .filter(do_not_match::removed_at.is_null())
        .select(do_not_match::budget_holder_id)
        .load(conn)?)
}

pub fn add_do_not_match(conn: &mut DbConnection, row: &DoNotMatchRow) -> AppResult<()> {
    diesel::insert_into(do_not_match::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn end_do_not_match(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    pa_id: &str,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(diesel::update(
        do_not_match::table
            .filter(do_not_match::budget_holder_id.eq(budget_holder_id))
            .filter(do_not_match::pa_id.eq(pa_id))
            .filter(do_not_match::removed_at.is_null()),
    )
    .set(do_not_match::removed_at.eq(now))
    .execute(conn)?)
}

// `MultiConnection` cannot express multi-row inserts, so bulk loads (demo data, benchmarks)
// go to the concrete connection here.

pub fn insert_pas_batch(conn: &mut DbConnection, rows: &[PaProfileRow]) -> AppResult<()> {
    crate::db::insert_all!(conn, pa_profiles::table, rows)?;
    Ok(())
}

pub fn insert_evidence_batch(conn: &mut DbConnection, rows: &[EvidenceRow]) -> AppResult<()> {
    crate::db::insert_all!(conn, pa_competencies::table, rows)?;
    Ok(())
}

// --- loaders other domains read through ----------------------------------------------------

pub fn pa_resource(row: &PaProfileRow) -> Resource<'_> {
    Resource::PaProfile {
        organisation_id: &row.organisation_id,
        user_id: row.user_id.as_deref(),
    }
}

pub fn holder_resource(row: &BudgetHolderRow) -> Resource<'_> {
    Resource::BudgetHolder {
        organisation_id: &row.organisation_id,
        team_manager_id: &row.team_manager_id,
        user_id: row.user_id.as_deref(),
        representative_user_id: row.representative_user_id.as_deref(),
    }
}

/// The caller's own PA profile.
pub fn my_pa_id(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<String> {
    if crate::auth::policy::must_be_pa(actor).is_err() {
        return Err(AppError::Forbidden);
    }
    find_pa_by_user(conn, &actor.user_id)?
        .map(|p| p.id)
        .ok_or(AppError::NotFound)
}

pub fn checks_of(row: &PaProfileRow) -> Checks {
    Checks {
        dbs_issued_on: row.dbs_issued_on,
        dbs_update_service: row.dbs_update_service,
        dbs_verified: row.dbs_verified_at.is_some(),
        right_to_work_checked_on: row.right_to_work_checked_on,
        right_to_work_expires_on: row.right_to_work_expires_on,
        right_to_work_verified: row.right_to_work_verified_at.is_some(),
    }
}

fn support_spans(row: &BudgetHolderRow) -> AppResult<Vec<Span>> {
    let needs: Vec<SupportNeed> = from_json("support_needs", &row.support_needs)?;
    // Stored needs were checked when written; one that no longer spans (a rule since
    // tightened) contributes nothing rather than failing every match for the person.
    Ok(need_spans("support_needs", &needs)
        .map(|s| s.into_iter().map(|(span, _)| span).collect())
        .unwrap_or_default())
}

pub fn person_needs(conn: &mut DbConnection, row: &BudgetHolderRow) -> AppResult<PersonNeeds> {
    let links = person_links(conn, &row.id)?;
    let support = support_spans(row)?;
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
        preferences: from_json::<Preferences>("preferences", &row.preferences)?,
        team: links.team,
        do_not_match: links.do_not_match,
        affordable_hourly_pay_pence: row.affordable_hourly_pay_pence,
    })
}

pub fn candidate(
    row: &PaProfileRow,
    evidence: Vec<Evidence>,
    signoffs: Vec<SignOff>,
) -> AppResult<Candidate> {
    let windows: Vec<WeeklyWindow> = from_json("availability", &row.availability)?;
    Ok(Candidate {
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
            .map(|g| crate::db::json::enum_from_text("gender", g))
            .transpose()?,
        languages: from_json("languages", &row.languages)?,
        drives: row.drives,
        smoker: row.smoker,
        comfortable_with_pets: row.comfortable_with_pets,
        engagements: Vec::new(),
    })
}

/// The matching facts of these PAs (their evidence and sign-offs loaded in two queries for them
/// all), in the rows' order: the loader every domain that judges PAs reads them through.
pub fn candidates_of(conn: &mut DbConnection, rows: &[PaProfileRow]) -> AppResult<Vec<Candidate>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut evidence = evidence_by_pa(conn, &ids)?;
    let mut signoffs: HashMap<String, Vec<SignOff>> = HashMap::new();
    for s in signoffs_of_pas(conn, &ids)? {
        signoffs
            .entry(s.pa_id.clone())
            .or_default()
            .push(signoff_of(s));
    }
    let mut engagements = engagements_of_pas(conn, &ids)?;
    rows.iter()
        .map(|row| {
            let mut c = candidate(
                row,
                evidence.remove(&row.id).unwrap_or_default(),
                signoffs.remove(&row.id).unwrap_or_default(),
            )?;
            c.engagements = engagements.remove(&row.id).unwrap_or_default();
            Ok(c)
        })
        .collect()
}

/// (PA, engagement, employer, the person the employer is, last day).
type EngagedRow = (String, String, String, Option<String>, Option<NaiveDate>);

/// Who employs each of these PAs, for `model::employment` (employers in the order they were
/// set up, so the organisation's first employer engaging a PA is the same everywhere).
pub fn engagements_of_pas(
    conn: &mut DbConnection,
    pa_ids: &[String],
) -> AppResult<HashMap<String, Vec<Engaged>>> {
    let mut by_pa: HashMap<String, Vec<Engaged>> = HashMap::new();
    for chunk in pa_ids.chunks(500) {
        let rows: Vec<EngagedRow> = engagements::table
            .inner_join(employers::table)
            .filter(engagements::pa_id.eq_any(chunk))
            .order((employers::created_at.asc(), employers::id.asc()))
            .select((
                engagements::pa_id,
                engagements::id,
                engagements::employer_id,
                employers::budget_holder_id,
                engagements::ends_on,
            ))
            .load(conn)?;
        for (pa_id, engagement_id, employer_id, employs_for, ends_on) in rows {
            by_pa.entry(pa_id).or_default().push(Engaged {
                engagement_id,
                employer_id,
                employs_for,
                ends_on,
            });
        }
    }
    Ok(by_pa)
}

pub fn evidence_by_pa(
    conn: &mut DbConnection,
    pa_ids: &[String],
) -> AppResult<HashMap<String, Vec<Evidence>>> {
    let mut by_pa: HashMap<String, Vec<Evidence>> = HashMap::new();
    for (e, c) in evidence_for(conn, pa_ids)? {
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

pub fn signoff_of(s: SignOffRow) -> SignOff {
    SignOff {
        competency_id: s.competency_id,
        budget_holder_id: s.budget_holder_id,
        signed_off_on: s.signed_off_on,
        expires_on: s.expires_on,
        revoked: s.revoked_at.is_some(),
    }
}

/// Where to e-mail a PA: their profile's address, else their login's.
pub fn pa_email(conn: &mut DbConnection, pa: &PaProfileRow) -> AppResult<Option<String>> {
    Ok(match (&pa.email, &pa.user_id) {
        (Some(email), _) => Some(email.clone()),
        (None, Some(user)) => crate::accounts::repo::find_user(conn, user)?.and_then(|u| u.email),
        (None, None) => None,
    })
}

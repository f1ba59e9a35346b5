//! Queries for support patterns.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::support_changes;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::rostering::model::RosterStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_changes)]
pub struct SupportChangeRow {
    pub id: String,
    pub organisation_id: String,
    pub budget_holder_id: String,
    pub kind: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub shift_kind: Option<String>,
    pub headcount: Option<i32>,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
}

pub fn insert_change(conn: &mut DbConnection, row: &SupportChangeRow) -> AppResult<()> {
    diesel::insert_into(support_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_change(conn: &mut DbConnection, id: &str) -> AppResult<Option<SupportChangeRow>> {
    Ok(support_changes::table
        .find(id)
        .select(SupportChangeRow::as_select())
        .first(conn)
        .optional()?)
}

/// A person's changes, cancelled ones included, by date.
pub fn changes_of(
    conn: &mut DbConnection,
    budget_holder_id: &str,
) -> AppResult<Vec<SupportChangeRow>> {
    Ok(support_changes::table
        .filter(support_changes::budget_holder_id.eq(budget_holder_id))
        .order((support_changes::from_date.asc(), support_changes::id.asc()))
        .select(SupportChangeRow::as_select())
        .load(conn)?)
}

/// Changes in force that touch the dates `from` to `to`.
pub fn changes_between(
    conn: &mut DbConnection,
    budget_holder_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<SupportChangeRow>> {
    Ok(support_changes::table
        .filter(support_changes::budget_holder_id.eq(budget_holder_id))
        .filter(support_changes::cancelled_at.is_null())
        .filter(support_changes::from_date.le(to))
        .filter(support_changes::to_date.ge(from))
        .select(SupportChangeRow::as_select())
        .load(conn)?)
}

/// Cancels a change still in force; false when it was already cancelled.
pub fn cancel_change(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        support_changes::table
            .find(id)
            .filter(support_changes::cancelled_at.is_null()),
    )
    .set((
        support_changes::cancelled_by.eq(Some(by)),
        support_changes::cancelled_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

use crate::db::schema::{roster_assignments, roster_shifts, rosters};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rosters)]
pub struct RosterRow {
    pub id: String,
    pub organisation_id: String,
    pub team_manager_id: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub status: String,
    pub version: i64,
    pub seed: i64,
    pub time_limit_ms: i64,
    pub score: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RosterRow {
    /// What the authorisation policy judges a roster by.
    pub fn resource(&self) -> crate::auth::policy::Resource<'_> {
        crate::auth::policy::Resource::Roster {
            organisation_id: &self.organisation_id,
            team_manager_id: &self.team_manager_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_shifts, treat_none_as_null = true)]
pub struct RosterShiftRow {
    pub id: String,
    pub roster_id: String,
    pub budget_holder_id: String,
    pub shift_date: NaiveDate,
    pub start_local: String,
    pub end_local: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub kind: String,
    pub headcount: i32,
    pub source: String,
    pub support_change_id: Option<String>,
    pub open_reason: Option<String>,
}

impl RosterShiftRow {
    /// The shift's real length (a night across a clock change is 9 or 11 hours).
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_assignments, treat_none_as_null = true)]
pub struct RosterAssignmentRow {
    pub id: String,
    pub roster_id: String,
    pub roster_shift_id: String,
    pub pa_id: String,
    pub created_at: NaiveDateTime,
    /// When the PA was given the shift: the roster's publication, or the moment they were put
    /// on a published shift. None on a draft. Set here in the repo, never by callers: see
    /// `mark_given`.
    pub given_at: Option<NaiveDateTime>,
}

/// Records when the PAs on `shift_id` were given it, for those not given it before, if its
/// roster is published: the one place `given_at` is written (publication, edits, swaps and open
/// shifts all reach it through the functions here).
fn mark_given(conn: &mut DbConnection, shift_id: &str, at: NaiveDateTime) -> AppResult<()> {
    let published = rosters::table
        .select(rosters::id)
        .filter(rosters::status.eq(RosterStatus::Published.as_str()));
    diesel::update(
        roster_assignments::table
            .filter(roster_assignments::roster_shift_id.eq(shift_id))
            .filter(roster_assignments::given_at.is_null())
            .filter(roster_assignments::roster_id.eq_any(published)),
    )
    .set(roster_assignments::given_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// A roster with its shifts and assignments, in one transaction of the caller's.
pub fn insert_roster(
    conn: &mut DbConnection,
    roster: &RosterRow,
    shifts: &[RosterShiftRow],
    assignments: &[RosterAssignmentRow],
) -> AppResult<()> {
    diesel::insert_into(rosters::table)
        .values(roster)
        .execute(conn)?;
    // Many rows a statement (a month for a team is thousands of shifts; one INSERT a row
    // took 9 s for an organisation's drafts on PostgreSQL), kept well under either backend's
    // limit on bound parameters (SQLite's 32,766).
    for chunk in shifts.chunks(INSERT_CHUNK) {
        crate::db::insert_all!(conn, roster_shifts::table, chunk)?;
    }
    for chunk in assignments.chunks(INSERT_CHUNK) {
        crate::db::insert_all!(conn, roster_assignments::table, chunk)?;
    }
    Ok(())
}

/// Rows a multi-row INSERT of shifts or assignments carries.
const INSERT_CHUNK: usize = 1_000;

pub fn find_roster(conn: &mut DbConnection, id: &str) -> AppResult<Option<RosterRow>> {
    Ok(rosters::table
        .find(id)
        .select(RosterRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn roster_shifts_of(
    conn: &mut DbConnection,
    roster_id: &str,
) -> AppResult<Vec<RosterShiftRow>> {
    Ok(roster_shifts::table
        .filter(roster_shifts::roster_id.eq(roster_id))
        .order((roster_shifts::starts_at.asc(), roster_shifts::id.asc()))
        .select(RosterShiftRow::as_select())
        .load(conn)?)
}

pub fn assignments_of(
    conn: &mut DbConnection,
    roster_id: &str,
) -> AppResult<Vec<RosterAssignmentRow>> {
    Ok(roster_assignments::table
        .filter(roster_assignments::roster_id.eq(roster_id))
        .order(roster_assignments::id.asc())
        .select(RosterAssignmentRow::as_select())
        .load(conn)?)
}

/// Takes the roster's next version if it is still `expected`; false when someone else changed
/// it first.
pub fn bump_version(
    conn: &mut DbConnection,
    roster_id: &str,
    expected: i64,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        rosters::table
            .find(roster_id)
            .filter(rosters::version.eq(expected)),
    )
    .set((
        rosters::version.eq(expected + 1),
        rosters::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Replaces who is on a draft roster's shift (the audit trail keeps who was before), and its
/// open reason.
pub fn replace_assignments(
    conn: &mut DbConnection,
    shift_id: &str,
    rows: &[RosterAssignmentRow],
    open_reason: Option<&str>,
) -> AppResult<()> {
    // A PA who stays on the shift keeps when they were given it.
    let kept: Vec<(String, Option<NaiveDateTime>)> = roster_assignments::table
        .filter(roster_assignments::roster_shift_id.eq(shift_id))
        .select((roster_assignments::pa_id, roster_assignments::given_at))
        .load(conn)?;
    diesel::delete(
        roster_assignments::table.filter(roster_assignments::roster_shift_id.eq(shift_id)),
    )
    .execute(conn)?;
    // The manager's staffing decides the shift: any place held waiting for a second PA goes.
    release_holds(conn, shift_id)?;
    let mut at = None;
    for row in rows {
        let given_at = kept
            .iter()
            .find(|(pa, _)| *pa == row.pa_id)
            .and_then(|(_, given)| *given);
        diesel::insert_into(roster_assignments::table)
            .values(&RosterAssignmentRow {
                given_at,
                ..row.clone()
            })
            .execute(conn)?;
        at = Some(row.created_at);
    }
    if let Some(at) = at {
        mark_given(conn, shift_id, at)?;
    }
    diesel::update(roster_shifts::table.find(shift_id))
        .set(roster_shifts::open_reason.eq(open_reason))
        .execute(conn)?;
    Ok(())
}

/// Publishes a draft still at `expected`, taking the next version; false otherwise.
pub fn publish(
    conn: &mut DbConnection,
    roster_id: &str,
    expected: i64,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let updated = diesel::update(
        rosters::table
            .find(roster_id)
            .filter(rosters::version.eq(expected))
            .filter(rosters::status.eq(RosterStatus::Draft.as_str())),
    )
    .set((
        rosters::status.eq(RosterStatus::Published.as_str()),
        rosters::version.eq(expected + 1),
        rosters::updated_at.eq(at),
    ))
    .execute(conn)?;
    if updated == 1 {
        diesel::update(
            roster_assignments::table
                .filter(roster_assignments::roster_id.eq(roster_id))
                .filter(roster_assignments::given_at.is_null()),
        )
        .set(roster_assignments::given_at.eq(at))
        .execute(conn)?;
    }
    Ok(updated == 1)
}

/// A PA's shifts on published rosters: the shift, the roster's last change, and the person's
/// name and district (what a PA needs to turn up).
pub type MyShiftRow = (RosterShiftRow, NaiveDateTime, String, String);

/// A PA's published shifts starting in `[from, to)`, after the keyset `(starts_at, id)`, and
/// (when given) on rosters changed after `changed_since`.
pub fn shifts_of_pa(
    conn: &mut DbConnection,
    pa_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Option<(NaiveDateTime, String)>,
    changed_since: Option<NaiveDateTime>,
    limit: i64,
) -> AppResult<Vec<MyShiftRow>> {
    use crate::db::schema::budget_holders;
    let mut query = roster_assignments::table
        .inner_join(
            roster_shifts::table
                .inner_join(rosters::table)
                .inner_join(budget_holders::table),
        )
        .filter(roster_assignments::pa_id.eq(pa_id))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_shifts::starts_at.ge(from))
        .filter(roster_shifts::starts_at.lt(to))
        .into_boxed();
    if let Some((starts_at, id)) = after {
        query = query.filter(
            roster_shifts::starts_at
                .gt(starts_at)
                .or(roster_shifts::starts_at
                    .eq(starts_at)
                    .and(roster_shifts::id.gt(id))),
        );
    }
    if let Some(since) = changed_since {
        query = query.filter(rosters::updated_at.gt(since));
    }
    Ok(query
        .order((roster_shifts::starts_at.asc(), roster_shifts::id.asc()))
        .limit(limit + 1)
        .select((
            RosterShiftRow::as_select(),
            rosters::updated_at,
            budget_holders::display_name,
            budget_holders::district,
        ))
        .load(conn)?)
}

/// Shifts of the organisation's published rosters starting from `from`, with how many PAs
/// each has.
pub fn published_shifts_from(
    conn: &mut DbConnection,
    organisation_id: &str,
    from: NaiveDateTime,
    limit: i64,
) -> AppResult<Vec<(RosterShiftRow, i64)>> {
    let shifts: Vec<RosterShiftRow> = roster_shifts::table
        .inner_join(rosters::table)
        .filter(rosters::organisation_id.eq(organisation_id))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_shifts::starts_at.ge(from))
        .order((roster_shifts::starts_at.asc(), roster_shifts::id.asc()))
        .limit(limit)
        .select(RosterShiftRow::as_select())
        .load(conn)?;
    let ids: Vec<String> = shifts.iter().map(|s| s.id.clone()).collect();
    let taken: Vec<String> = roster_assignments::table
        .filter(roster_assignments::roster_shift_id.eq_any(&ids))
        .select(roster_assignments::roster_shift_id)
        .load(conn)?;
    Ok(shifts
        .into_iter()
        .map(|s| {
            let n = taken.iter().filter(|t| **t == s.id).count() as i64;
            (s, n)
        })
        .collect())
}

pub fn find_shift(conn: &mut DbConnection, id: &str) -> AppResult<Option<RosterShiftRow>> {
    Ok(roster_shifts::table
        .find(id)
        .select(RosterShiftRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn pas_on_shift(conn: &mut DbConnection, shift_id: &str) -> AppResult<Vec<String>> {
    Ok(roster_assignments::table
        .filter(roster_assignments::roster_shift_id.eq(shift_id))
        .select(roster_assignments::pa_id)
        .load(conn)?)
}

/// The PA's shifts on published rosters between two instants, with the person's id.
pub fn pa_published_between(
    conn: &mut DbConnection,
    pa_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<RosterShiftRow>> {
    Ok(roster_assignments::table
        .inner_join(roster_shifts::table.inner_join(rosters::table))
        .filter(roster_assignments::pa_id.eq(pa_id))
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_shifts::ends_at.gt(from))
        .filter(roster_shifts::starts_at.lt(to))
        .select(RosterShiftRow::as_select())
        .load(conn)?)
}

/// Shifts of published rosters other than `except` that these PAs work between two instants,
/// with the PA.
pub fn published_of_pas_between(
    conn: &mut DbConnection,
    pa_ids: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
    except: Option<&str>,
) -> AppResult<Vec<(String, RosterShiftRow)>> {
    let mut out = Vec::new();
    for chunk in pa_ids.chunks(500) {
        let mut query = roster_assignments::table
            .inner_join(roster_shifts::table.inner_join(rosters::table))
            .filter(roster_assignments::pa_id.eq_any(chunk))
            .filter(rosters::status.eq(RosterStatus::Published.as_str()))
            .filter(roster_shifts::ends_at.gt(from))
            .filter(roster_shifts::starts_at.lt(to))
            .into_boxed();
        if let Some(except) = except {
            query = query.filter(rosters::id.ne(except));
        }
        out.extend(
            query
                .order((roster_shifts::starts_at.asc(), roster_shifts::id.asc()))
                .select((roster_assignments::pa_id, RosterShiftRow::as_select()))
                .load::<(String, RosterShiftRow)>(conn)?,
        );
    }
    Ok(out)
}

pub fn add_assignment(
    conn: &mut DbConnection,
    row: &RosterAssignmentRow,
    open_reason: Option<&str>,
) -> AppResult<()> {
    diesel::insert_into(roster_assignments::table)
        .values(&RosterAssignmentRow {
            given_at: None,
            ..row.clone()
        })
        .execute(conn)?;
    mark_given(conn, &row.roster_shift_id, row.created_at)?;
    diesel::update(roster_shifts::table.find(&row.roster_shift_id))
        .set(roster_shifts::open_reason.eq(open_reason))
        .execute(conn)?;
    Ok(())
}

/// Takes the roster's next version whatever it is (an accepted open shift changes it).
pub fn touch_roster(conn: &mut DbConnection, roster_id: &str, at: NaiveDateTime) -> AppResult<()> {
    diesel::update(rosters::table.find(roster_id))
        .set((
            rosters::version.eq(rosters::version + 1),
            rosters::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that a PA declined an open shift; false when they had already.
pub fn decline(
    conn: &mut DbConnection,
    shift_id: &str,
    pa_id: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    use crate::db::schema::open_shift_declines;
    let already: i64 = open_shift_declines::table
        .filter(open_shift_declines::roster_shift_id.eq(shift_id))
        .filter(open_shift_declines::pa_id.eq(pa_id))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(false);
    }
    diesel::insert_into(open_shift_declines::table)
        .values((
            open_shift_declines::roster_shift_id.eq(shift_id),
            open_shift_declines::pa_id.eq(pa_id),
            open_shift_declines::declined_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The shifts a PA has declined.
pub fn declined_by(conn: &mut DbConnection, pa_id: &str) -> AppResult<Vec<String>> {
    use crate::db::schema::open_shift_declines;
    Ok(open_shift_declines::table
        .filter(open_shift_declines::pa_id.eq(pa_id))
        .select(open_shift_declines::roster_shift_id)
        .load(conn)?)
}

/// PAs holding a place of these 2:1 shifts, waiting for a second PA: (shift id, PA id).
pub fn holds_of(conn: &mut DbConnection, shift_ids: &[String]) -> AppResult<Vec<(String, String)>> {
    use crate::db::schema::shift_holds;
    let mut out = Vec::new();
    for chunk in shift_ids.chunks(500) {
        out.extend(
            shift_holds::table
                .filter(shift_holds::roster_shift_id.eq_any(chunk))
                .order((shift_holds::held_at.asc(), shift_holds::pa_id.asc()))
                .select((shift_holds::roster_shift_id, shift_holds::pa_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// The shifts these PAs hold a place of, with the PA, starting between two instants.
pub fn held_by_pas_between(
    conn: &mut DbConnection,
    pa_ids: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(String, RosterShiftRow)>> {
    use crate::db::schema::shift_holds;
    let mut out = Vec::new();
    for chunk in pa_ids.chunks(500) {
        out.extend(
            shift_holds::table
                .inner_join(
                    roster_shifts::table.on(roster_shifts::id.eq(shift_holds::roster_shift_id)),
                )
                .filter(shift_holds::pa_id.eq_any(chunk))
                .filter(roster_shifts::ends_at.gt(from))
                .filter(roster_shifts::starts_at.lt(to))
                .select((shift_holds::pa_id, RosterShiftRow::as_select()))
                .load::<(String, RosterShiftRow)>(conn)?,
        );
    }
    Ok(out)
}

pub fn hold(
    conn: &mut DbConnection,
    shift_id: &str,
    pa_id: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    use crate::db::schema::shift_holds;
    diesel::insert_into(shift_holds::table)
        .values((
            shift_holds::roster_shift_id.eq(shift_id),
            shift_holds::pa_id.eq(pa_id),
            shift_holds::held_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn release_hold(conn: &mut DbConnection, shift_id: &str, pa_id: &str) -> AppResult<()> {
    use crate::db::schema::shift_holds;
    diesel::delete(
        shift_holds::table
            .filter(shift_holds::roster_shift_id.eq(shift_id))
            .filter(shift_holds::pa_id.eq(pa_id)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn release_holds(conn: &mut DbConnection, shift_id: &str) -> AppResult<()> {
    use crate::db::schema::shift_holds;
    diesel::delete(shift_holds::table.filter(shift_holds::roster_shift_id.eq(shift_id)))
        .execute(conn)?;
    Ok(())
}

// --- cover -------------------------------------------------------------------------------------

use crate::db::schema::{cover_offers, cover_requests};

/// Takes one PA off a published shift, leaving the others on it, and says why it is open.
pub fn remove_assignment(
    conn: &mut DbConnection,
    shift_id: &str,
    pa_id: &str,
    open_reason: &str,
) -> AppResult<bool> {
    let removed = diesel::delete(
        roster_assignments::table
            .filter(roster_assignments::roster_shift_id.eq(shift_id))
            .filter(roster_assignments::pa_id.eq(pa_id)),
    )
    .execute(conn)?;
    diesel::update(roster_shifts::table.find(shift_id))
        .set(roster_shifts::open_reason.eq(Some(open_reason)))
        .execute(conn)?;
    Ok(removed > 0)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cover_requests)]
pub struct CoverRequestRow {
    pub id: String,
    pub organisation_id: String,
    pub roster_shift_id: String,
    pub absence_id: Option<String>,
    pub absent_pa_id: String,
    pub status: String,
    pub round: i32,
    pub opened_at: NaiveDateTime,
    pub first_offers_at: Option<NaiveDateTime>,
    pub covered_by: Option<String>,
    pub covered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cover_offers)]
pub struct CoverOfferRow {
    pub cover_request_id: String,
    pub pa_id: String,
    pub round: i32,
    pub score: f64,
    pub reason: String,
    pub offered_by: Option<String>,
    pub offered_at: NaiveDateTime,
}

pub fn insert_cover_request(conn: &mut DbConnection, row: &CoverRequestRow) -> AppResult<()> {
    crate::db::insert_unless_present!(conn, cover_requests::table, row)?;
    Ok(())
}

pub fn find_cover_request(conn: &mut DbConnection, id: &str) -> AppResult<Option<CoverRequestRow>> {
    Ok(cover_requests::table
        .find(id)
        .select(CoverRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation's cover requests in a status, soonest shift first, with their shifts.
pub fn cover_requests_in(
    conn: &mut DbConnection,
    organisation_id: &str,
    status: &str,
    limit: i64,
) -> AppResult<Vec<(CoverRequestRow, RosterShiftRow)>> {
    Ok(cover_requests::table
        .inner_join(roster_shifts::table)
        .filter(cover_requests::organisation_id.eq(organisation_id))
        .filter(cover_requests::status.eq(status))
        .order((roster_shifts::starts_at.asc(), cover_requests::id.asc()))
        .limit(limit)
        .select((CoverRequestRow::as_select(), RosterShiftRow::as_select()))
        .load(conn)?)
}

/// The searching cover requests of a shift, oldest first.
pub fn searching_on_shift(
    conn: &mut DbConnection,
    shift_id: &str,
) -> AppResult<Vec<CoverRequestRow>> {
    Ok(cover_requests::table
        .filter(cover_requests::roster_shift_id.eq(shift_id))
        .filter(cover_requests::status.eq("searching"))
        .order((cover_requests::opened_at.asc(), cover_requests::id.asc()))
        .select(CoverRequestRow::as_select())
        .load(conn)?)
}

/// An absence's cover requests still searching, with their shifts.
pub fn searching_for_absence(
    conn: &mut DbConnection,
    absence_id: &str,
) -> AppResult<Vec<(CoverRequestRow, RosterShiftRow)>> {
    Ok(cover_requests::table
        .inner_join(roster_shifts::table)
        .filter(cover_requests::absence_id.eq(absence_id))
        .filter(cover_requests::status.eq("searching"))
        .order((roster_shifts::starts_at.asc(), cover_requests::id.asc()))
        .select((CoverRequestRow::as_select(), RosterShiftRow::as_select()))
        .load(conn)?)
}

/// Moves a searching request on: a new round, or to another status; false if it had already
/// left `searching`.
pub fn update_cover_request(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    round: i32,
    covered: Option<(&str, NaiveDateTime)>,
) -> AppResult<bool> {
    Ok(diesel::update(
        cover_requests::table
            .find(id)
            .filter(cover_requests::status.eq("searching")),
    )
    .set((
        cover_requests::status.eq(status),
        cover_requests::round.eq(round),
        cover_requests::covered_by.eq(covered.map(|c| c.0)),
        cover_requests::covered_at.eq(covered.map(|c| c.1)),
    ))
    .execute(conn)?
        == 1)
}

pub fn mark_first_offers(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> AppResult<()> {
    diesel::update(
        cover_requests::table
            .find(id)
            .filter(cover_requests::first_offers_at.is_null()),
    )
    .set(cover_requests::first_offers_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}

pub fn offers_of(conn: &mut DbConnection, request_id: &str) -> AppResult<Vec<CoverOfferRow>> {
    offers_of_requests(conn, &[request_id.to_owned()])
}

/// The offers of many requests at once, in the order each request's were made.
pub fn offers_of_requests(
    conn: &mut DbConnection,
    request_ids: &[String],
) -> AppResult<Vec<CoverOfferRow>> {
    let mut out = Vec::new();
    for chunk in request_ids.chunks(5000) {
        out.extend(
            cover_offers::table
                .filter(cover_offers::cover_request_id.eq_any(chunk))
                .order((
                    cover_offers::cover_request_id.asc(),
                    cover_offers::offered_at.asc(),
                    cover_offers::pa_id.asc(),
                ))
                .select(CoverOfferRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Records offers; one already made to a PA stands.
pub fn insert_offers(conn: &mut DbConnection, rows: &[CoverOfferRow]) -> AppResult<()> {
    for row in rows {
        crate::db::insert_unless_present!(conn, cover_offers::table, row)?;
    }
    Ok(())
}

/// Active PAs of the organisation whose homes lie within `km` of a point (a box a little
/// larger than the circle), as (id, latitude, longitude, the PA's own travel distance): enough
/// to tell who could reach the point before reading anything more about them.
pub fn pas_within(
    conn: &mut DbConnection,
    organisation_id: &str,
    latitude: f64,
    longitude: f64,
    km: f64,
) -> AppResult<Vec<(String, f64, f64, f64)>> {
    use crate::db::schema::pa_profiles;
    let dlat = km / 111.0;
    let dlon = km / (111.0 * latitude.to_radians().cos().max(0.1));
    Ok(pa_profiles::table
        .filter(pa_profiles::organisation_id.eq(organisation_id))
        .filter(pa_profiles::active.eq(true))
        .filter(pa_profiles::latitude.between(latitude - dlat, latitude + dlat))
        .filter(pa_profiles::longitude.between(longitude - dlon, longitude + dlon))
        .select((
            pa_profiles::id,
            pa_profiles::latitude,
            pa_profiles::longitude,
            pa_profiles::max_travel_km,
        ))
        .load(conn)?)
}

/// PAs who declined an open shift.
pub fn declined_of_shift(conn: &mut DbConnection, shift_id: &str) -> AppResult<Vec<String>> {
    use crate::db::schema::open_shift_declines;
    Ok(open_shift_declines::table
        .filter(open_shift_declines::roster_shift_id.eq(shift_id))
        .select(open_shift_declines::pa_id)
        .load(conn)?)
}

/// Whether the PA has clocked in to the shift.
pub fn clocked_in(conn: &mut DbConnection, shift_id: &str, pa_id: &str) -> AppResult<bool> {
    use crate::db::schema::shift_records;
    Ok(shift_records::table
        .filter(shift_records::roster_shift_id.eq(shift_id))
        .filter(shift_records::pa_id.eq(pa_id))
        .filter(shift_records::clock_in_at.is_not_null())
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

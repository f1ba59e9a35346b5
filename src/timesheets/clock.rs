//! Recording work from the PA's phone: clock-in and clock-out on a rostered shift, the offline
//! queue replayed in one call, unrostered work, and the details a PA adds to a record.
//! Each event is its own transaction and, with its Idempotency-Key, happens once.

use crate::money::Pence;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::policy::Action;
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ConflictCode};
use crate::geo::Location;
use crate::idempotency::{self, Answer};
use crate::market::repo as market_repo;
use crate::timesheets::dto::*;
use crate::timesheets::model::{self, ClockKind, Policy};
use crate::timesheets::periods::{policy_from, policy_of};
use crate::timesheets::repo::{self, ClockEnd, ClockEventRow, Place, ShiftRecordRow};
use crate::timesheets::service::{
    record_view, record_view_of, timesheet_for_new_work, timesheet_to,
};

/// What a clock event's key fingerprints: the same event sent directly or from the queue.
#[derive(Serialize)]
pub(crate) struct EventFingerprint<'a> {
    pub shift_id: &'a str,
    pub kind: ClockKind,
    pub device_time: DateTime<Utc>,
    pub location: Option<GeoFix>,
}

/// A clock event on a shift, once per key. Who may call: the PA on the shift (published).
pub fn clock(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    kind: ClockKind,
    request: &ClockRequest,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Answer> {
    let hash = idempotency::request_hash(&EventFingerprint {
        shift_id,
        kind,
        device_time: request.device_time,
        location: request.location,
    });
    idempotency::once(conn, &actor.user_id, Some(key), &hash, now, |conn| {
        apply_event(conn, actor, shift_id, kind, request, now).map(|view| (status_of(kind), view))
    })
}

/// The answer's status: 201 for a clock-in (it starts the record), 200 for a clock-out.
pub(crate) fn status_of(kind: ClockKind) -> u16 {
    if kind == ClockKind::ClockIn {
        201
    } else {
        200
    }
}

/// The shift a clock event is for, as the caller's place of work. Only a PA clocks (403); a
/// published shift of the organisation that is not theirs is 403, no such shift 404.
pub(crate) fn caller_place<'p>(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    found: Option<&'p Place>,
) -> AppResult<&'p Place> {
    crate::auth::policy::must_be_pa(actor)?;
    match found {
        Some(place) => Ok(place),
        None if repo::published_shift_exists(conn, shift_id, &actor.organisation_id)? => {
            Err(AppError::Forbidden)
        }
        None => Err(AppError::NotFound),
    }
}

/// When and where a clock event happened, decided once for the direct call and the offline
/// queue alike: the instant it counts at (the phone's time within the shift's window, see
/// `model::clock_instant`) and how far from the person's home it was recorded.
pub(crate) fn decide(
    place: &Place,
    request: &ClockRequest,
    now: DateTime<Utc>,
) -> AppResult<(Policy, ClockEnd)> {
    let policy = policy_from(place.policy.as_ref())?;
    let (distance_m, outside) = located(
        Location {
            latitude: place.latitude,
            longitude: place.longitude,
        },
        request.location,
        &policy,
    );
    let at = model::clock_instant(
        "device_time",
        request.device_time,
        now,
        Some((
            place.shift.starts_at.and_utc(),
            place.shift.ends_at.and_utc(),
        )),
        &policy,
    )
    .map_err(|e| AppError::Validation(vec![e]))?;
    let end = ClockEnd {
        at: at.naive_utc(),
        device_at: request.device_time.naive_utc(),
        received_at: now.naive_utc(),
        distance_m,
        outside_radius: outside,
    };
    Ok((policy, end))
}

pub(crate) fn located(home: Location, fix: Option<GeoFix>, policy: &Policy) -> (Option<i32>, bool) {
    match fix {
        Some(fix) => {
            let distance = model::distance_m(
                home,
                Location {
                    latitude: fix.latitude,
                    longitude: fix.longitude,
                },
            );
            (Some(distance), distance > policy.radius_m)
        }
        None => (None, false),
    }
}

/// Coordinates are kept to about ten metres: enough to verify a visit, no more.
fn coarse(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

pub(crate) fn event_row(
    record_id: &str,
    kind: ClockKind,
    request: &ClockRequest,
    distance_m: Option<i32>,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> ClockEventRow {
    ClockEventRow {
        id: crate::ids::new_id(),
        shift_record_id: record_id.to_owned(),
        kind: kind.as_str().to_owned(),
        device_at: request.device_time.naive_utc(),
        received_at: now.naive_utc(),
        latitude: request.location.map(|l| coarse(l.latitude)),
        longitude: request.location.map(|l| coarse(l.longitude)),
        accuracy_m: request
            .location
            .and_then(|l| l.accuracy_m)
            .map(|a| i32::try_from(a).unwrap_or(i32::MAX)),
        distance_m,
        created_by: actor.user_id.clone(),
    }
}

pub(crate) fn new_record(
    organisation_id: &str,
    timesheet_id: &str,
    pa_id: &str,
    budget_holder_id: &str,
    roster_shift_id: Option<&str>,
    work_date: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> ShiftRecordRow {
    ShiftRecordRow {
        id: crate::ids::new_id(),
        organisation_id: organisation_id.to_owned(),
        timesheet_id: timesheet_id.to_owned(),
        pa_id: pa_id.to_owned(),
        budget_holder_id: budget_holder_id.to_owned(),
        roster_shift_id: roster_shift_id.map(str::to_owned),
        work_date,
        unrostered_reason: None,
        clock_in_at: None,
        clock_in_device_at: None,
        clock_in_received_at: None,
        clock_in_distance_m: None,
        clock_out_at: None,
        clock_out_device_at: None,
        clock_out_received_at: None,
        clock_out_distance_m: None,
        outside_radius: false,
        break_minutes: 0,
        mileage_tenths: 0,
        expenses_pence: Pence::new(0),
        expense_receipt: None,
        note: None,
        reminded_at: None,
        amendments: 0,
        woken_minutes: 0,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    }
}

fn apply_event(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    kind: ClockKind,
    request: &ClockRequest,
    now: DateTime<Utc>,
) -> AppResult<RecordView> {
    // A clock event is the busiest write there is (4,000 PAs at a changeover): it reads what
    // it needs in few queries and writes each row once.
    let found = repo::place_of_caller(conn, shift_id, &actor.user_id, &actor.organisation_id)?;
    let place = caller_place(conn, actor, shift_id, found.as_ref())?;
    let (policy, end) = decide(place, request, now)?;
    let organisation_id = &actor.organisation_id;
    let (shift, pa_id) = (&place.shift, &place.pa_id);
    let record = match repo::record_and_status(conn, &shift.id, pa_id)? {
        Some((record, status)) => update_record(conn, record, &status, kind, &end)?,
        None => {
            let timesheet = timesheet_for_new_work(
                conn,
                organisation_id,
                &policy,
                pa_id,
                &shift.budget_holder_id,
                shift.shift_date,
                now,
            )?;
            let mut record = new_record(
                organisation_id,
                &timesheet.id,
                pa_id,
                &shift.budget_holder_id,
                Some(&shift.id),
                shift.shift_date,
                now,
            );
            set_end(&mut record, kind, &end);
            if repo::insert_record_unless_exists(conn, &record)? {
                touch_if_submitted(conn, &timesheet.id, &timesheet.status, now)?;
                record
            } else {
                // Another event for this shift made the record a moment ago.
                let (record, status) = repo::record_and_status(conn, &shift.id, pa_id)?
                    .ok_or_else(|| AppError::internal("shift record vanished"))?;
                update_record(conn, record, &status, kind, &end)?
            }
        }
    };
    repo::insert_event(
        conn,
        &event_row(&record.id, kind, request, end.distance_m, actor, now),
    )?;
    Ok(record_view(&record, Some(shift), &policy, now))
}

pub(crate) fn set_end(record: &mut ShiftRecordRow, kind: ClockKind, end: &ClockEnd) {
    match kind {
        ClockKind::ClockIn => {
            record.clock_in_at = Some(end.at);
            record.clock_in_device_at = Some(end.device_at);
            record.clock_in_received_at = Some(end.received_at);
            record.clock_in_distance_m = end.distance_m;
        }
        ClockKind::ClockOut => {
            record.clock_out_at = Some(end.at);
            record.clock_out_device_at = Some(end.device_at);
            record.clock_out_received_at = Some(end.received_at);
            record.clock_out_distance_m = end.distance_m;
        }
    }
    record.outside_radius |= end.outside_radius;
    record.updated_at = end.received_at;
}

/// Sets one end of an existing record. Events may arrive in any order (an offline queue, a
/// retry): each end is checked against the other only when both are known, and each is set by
/// a conditional update, so two events cannot both win.
fn update_record(
    conn: &mut DbConnection,
    mut record: ShiftRecordRow,
    timesheet_status: &str,
    kind: ClockKind,
    end: &ClockEnd,
) -> AppResult<ShiftRecordRow> {
    check_end(&record, timesheet_status, kind, end)?;
    let set = match kind {
        ClockKind::ClockIn => repo::set_clock_in(conn, &record.id, end)?,
        ClockKind::ClockOut => repo::set_clock_out(conn, &record.id, end)?,
    };
    // Set meanwhile by another event: the conditional update is the last word.
    if !set {
        return Err(already(kind));
    }
    touch_if_submitted(
        conn,
        &record.timesheet_id,
        timesheet_status,
        end.received_at.and_utc(),
    )?;
    set_end(&mut record, kind, end);
    Ok(record)
}

/// Whether an event may set this end of the record: not on an approved timesheet, not out of
/// order with the other end, not twice.
pub(crate) fn check_end(
    record: &ShiftRecordRow,
    timesheet_status: &str,
    kind: ClockKind,
    end: &ClockEnd,
) -> AppResult<()> {
    if model::Status::parse("status", timesheet_status)? == model::Status::Approved {
        return Err(AppError::Conflict {
            code: ConflictCode::TimesheetApproved,
            detail: "this shift's timesheet is approved: a change now is an amendment by the team manager".into(),
        });
    }
    match kind {
        ClockKind::ClockIn if record.clock_out_at.is_some_and(|out| out < end.at) => {
            Err(AppError::field(
                "device_time",
                "after_clock_out",
                "is after this shift's clock-out",
            ))
        }
        ClockKind::ClockOut if record.clock_in_at.is_some_and(|start| end.at < start) => {
            Err(AppError::field(
                "device_time",
                "before_clock_in",
                "is before this shift's clock-in",
            ))
        }
        ClockKind::ClockIn if record.clock_in_at.is_some() => Err(already(kind)),
        ClockKind::ClockOut if record.clock_out_at.is_some() => Err(already(kind)),
        _ => Ok(()),
    }
}

fn already(kind: ClockKind) -> AppError {
    AppError::Conflict {
        code: match kind {
            ClockKind::ClockIn => ConflictCode::AlreadyClockedIn,
            ClockKind::ClockOut => ConflictCode::AlreadyClockedOut,
        },
        detail: format!(
            "this shift already has a {}",
            kind.as_str().replace('_', "-")
        ),
    }
}

/// An approver reads a submitted timesheet's version before deciding: a late event changes it.
pub(crate) fn touch_if_submitted(
    conn: &mut DbConnection,
    timesheet_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if model::Status::parse("status", status)? == model::Status::Submitted {
        repo::touch_timesheet(conn, timesheet_id, now.naive_utc())?;
    }
    Ok(())
}

/// Unrostered work for a person the PA works for, once per key; the team manager approves it.
pub fn unrostered(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_holder_id: &str,
    request: UnrosteredWork,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Answer> {
    let hash = idempotency::request_hash(&(budget_holder_id, &request));
    idempotency::once(conn, &actor.user_id, Some(key), &hash, now, |conn| {
        record_unrostered(conn, actor, budget_holder_id, &request, now).map(|view| (201, view))
    })
}

fn record_unrostered(
    conn: &mut DbConnection,
    actor: &AuthUser,
    budget_holder_id: &str,
    request: &UnrosteredWork,
    now: DateTime<Utc>,
) -> AppResult<RecordView> {
    let pa_id = crate::market::repo::my_pa_id(conn, actor)?;
    let holder =
        market_repo::find_budget_holder(conn, budget_holder_id)?.ok_or(AppError::NotFound)?;
    if holder.organisation_id != actor.organisation_id {
        return Err(AppError::NotFound);
    }
    let on_team = market_repo::team(conn, &holder.id)?
        .iter()
        .any(|m| m.pa_id == pa_id);
    if !on_team && !repo::works_for(conn, &pa_id, &holder.id)? {
        return Err(AppError::Forbidden);
    }
    if request.ended_at <= request.started_at {
        return Err(AppError::field(
            "ended_at",
            "before_start",
            "must be after started_at",
        ));
    }
    if request.ended_at - request.started_at > chrono::Duration::hours(16) {
        return Err(AppError::field(
            "ended_at",
            "too_long",
            "unrostered work is at most 16 hours",
        ));
    }
    let policy = policy_of(conn, &holder.organisation_id)?;
    let instants = (
        model::clock_instant("started_at", request.started_at, now, None, &policy),
        model::clock_instant("ended_at", request.ended_at, now, None, &policy),
    );
    let (started, ended) = match instants {
        (Ok(started), Ok(ended)) => (started, ended),
        (a, b) => {
            return Err(AppError::Validation(
                [a.err(), b.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let work_date = crate::time::london_local(started).date();
    let timesheet = timesheet_for_new_work(
        conn,
        &holder.organisation_id,
        &policy,
        &pa_id,
        &holder.id,
        work_date,
        now,
    )?;
    let (distance_m, outside) = located(
        Location {
            latitude: holder.latitude,
            longitude: holder.longitude,
        },
        request.location,
        &policy,
    );
    let mut record = new_record(
        &holder.organisation_id,
        &timesheet.id,
        &pa_id,
        &holder.id,
        None,
        work_date,
        now,
    );
    record.unrostered_reason = Some(request.reason.trim().to_owned());
    record.clock_in_at = Some(started.naive_utc());
    record.clock_in_device_at = Some(request.started_at.naive_utc());
    record.clock_in_received_at = Some(now.naive_utc());
    record.clock_in_distance_m = distance_m;
    record.clock_out_at = Some(ended.naive_utc());
    record.clock_out_device_at = Some(request.ended_at.naive_utc());
    record.clock_out_received_at = Some(now.naive_utc());
    record.clock_out_distance_m = distance_m;
    record.outside_radius = outside;
    record.break_minutes = request.break_minutes.map_or(0, |b| b as i32);
    repo::insert_record(conn, &record)?;
    for (kind, device_time) in [
        (ClockKind::ClockIn, request.started_at),
        (ClockKind::ClockOut, request.ended_at),
    ] {
        repo::insert_event(
            conn,
            &event_row(
                &record.id,
                kind,
                &ClockRequest {
                    device_time,
                    location: request.location,
                },
                distance_m,
                actor,
                now,
            ),
        )?;
    }
    touch_if_submitted(conn, &timesheet.id, &timesheet.status, now)?;
    Ok(record_view(&record, None, &policy, now))
}

/// The PA's breaks, business miles, expenses and note on a record of a timesheet still open
/// to them (draft or queried). Who may call: the PA who worked it.
pub fn add_details(
    conn: &mut DbConnection,
    actor: &AuthUser,
    record_id: &str,
    request: RecordDetails,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Answer> {
    let record = repo::find_record(conn, record_id)?.ok_or(AppError::NotFound)?;
    let context = timesheet_to(conn, actor, &record.timesheet_id, Action::Update)?;
    let hash = idempotency::request_hash(&(record_id, &request));
    idempotency::once(conn, &actor.user_id, key, &hash, now, |conn| {
        let timesheet =
            repo::find_timesheet(conn, &record.timesheet_id)?.ok_or(AppError::NotFound)?;
        if !model::Status::parse("status", &timesheet.status)?.open_to_pa() {
            return Err(AppError::Conflict {
                code: ConflictCode::TimesheetNotOpen,
                detail:
                    "this timesheet is submitted or approved: the approver can query it back to you"
                        .into(),
            });
        }
        let mut record = repo::find_record(conn, &record.id)?.ok_or(AppError::NotFound)?;
        if let Some(minutes) = request.break_minutes {
            record.break_minutes = minutes as i32;
        }
        if let Some(miles) = request.business_miles {
            record.mileage_tenths = (miles * 10.0).round() as i32;
        }
        if let Some(pence) = request.expenses_pence {
            record.expenses_pence = pence;
        }
        if let Some(minutes) = request.woken_minutes {
            let shift = match &record.roster_shift_id {
                Some(id) => crate::rostering::repo::find_shift(conn, id)?,
                None => None,
            };
            if shift.is_none_or(|s| s.kind != "sleep_in") {
                return Err(AppError::field(
                    "woken_minutes",
                    "not_a_sleep_in",
                    "is recorded only on a sleep-in shift",
                ));
            }
            record.woken_minutes = minutes as i32;
        }
        if request.expense_receipt.is_some() {
            record.expense_receipt = request.expense_receipt.clone();
        }
        if request.note.is_some() {
            record.note = request.note.clone().filter(|n| !n.trim().is_empty());
        }
        if record.expenses_pence > Pence::new(0) && record.expense_receipt.is_none() {
            return Err(AppError::field(
                "expense_receipt",
                "required",
                "is required with expenses",
            ));
        }
        if let Some(worked) = record.clock_in_at.zip(record.clock_out_at) {
            if i64::from(record.break_minutes) > (worked.1 - worked.0).num_minutes() {
                return Err(AppError::field(
                    "break_minutes",
                    "longer_than_shift",
                    "is longer than the time between clock-in and clock-out",
                ));
            }
            if i64::from(record.woken_minutes) > (worked.1 - worked.0).num_minutes() {
                return Err(AppError::field(
                    "woken_minutes",
                    "longer_than_shift",
                    "is longer than the time between clock-in and clock-out",
                ));
            }
        }
        record.updated_at = now.naive_utc();
        repo::save_record(conn, &record)?;
        repo::touch_timesheet(conn, &timesheet.id, now.naive_utc())?;
        Ok((200, record_view_of(conn, &record, &context.policy, now)?))
    })
}

//! The demo's activity, so every role has something to see at once. It is made through the same
//! domain functions the API calls, as the demo's own users, so it keeps every rule they keep
//! (the safety gate, budgets, clock windows, approval):
//!
//! - each team manager's people rostered for the last week of the previous pay period and for
//!   this week and the next, both published;
//! - the shifts so far of the PAs who log in, clocked in and out from their phones;
//! - their timesheets submitted, and approved but for the first of each pay period, which waits
//!   for its approver; the previous period closed, so the payroll client has an export for each
//!   employer with pay in it waiting;
//! - a coming shift taken off its PA, open for a demo PA who logs in to take;
//! - a PA off sick on the next day they are rostered, recorded by their manager: their shifts open and the cover search
//!   has made its first offers.
//!
//! (The budget alerts come with the budgets: `demo::budgets`.)

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::auth::{AuthUser, Role};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::market::index::MatchIndex;
use crate::rostering::dto::{GenerateRoster, RosterEdit, RosterView};
use crate::timesheets::dto::ClockRequest;
use crate::timesheets::model::ClockKind;

/// What the activity made, for the summary `parota demo` prints.
#[derive(Debug, Default)]
pub struct Activity {
    pub rosters: usize,
    pub clocked_shifts: usize,
    pub closed_period: Option<(NaiveDate, NaiveDate)>,
    pub exports: usize,
    pub open_shift_for: Option<String>,
    /// Cover requests the demo's sickness opened.
    pub cover_requests: usize,
}

/// The demo's users who act, by role: (user id, login), in login order.
pub struct Cast {
    pub admin: String,
    pub managers: Vec<String>,
    /// PAs who log in: (user id, login).
    pub pas: Vec<(String, String)>,
}

pub fn load(
    conn: &mut DbConnection,
    organisation_id: &str,
    area_code: &str,
    cast: &Cast,
    now: DateTime<Utc>,
) -> AppResult<Activity> {
    let actor = |user_id: &str, role: Role| AuthUser {
        user_id: user_id.to_owned(),
        organisation_id: organisation_id.to_owned(),
        role,
        area_code: area_code.to_owned(),
        request_id: None,
        session_id: None,
    };
    let mut activity = Activity::default();
    let today = now.date_naive();
    let policy = crate::timesheets::periods::policy_of(conn, organisation_id)?;
    let (period_start, _) = policy.pay_frequency.period_of(policy.period_anchor, today);
    let this_week = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let before = period_start.min(this_week);
    let spans = [
        (before - Duration::days(7), before - Duration::days(1)),
        (this_week, this_week + Duration::days(13)),
    ];

    let index = MatchIndex::default();
    let mut current: Vec<RosterView> = Vec::new();
    for manager in &cast.managers {
        let manager = actor(manager, Role::TeamManager);
        for (n, (from, to)) in spans.into_iter().enumerate() {
            let draft = crate::rostering::generate::generate(
                conn,
                &index,
                &manager,
                GenerateRoster {
                    budget_holder_ids: None,
                    from,
                    to,
                    seed: Some(1),
                    time_limit_ms: Some(300),
                },
                now,
            )?;
            let published = crate::rostering::publish::publish(
                conn,
                &manager,
                &draft.id,
                Some(draft.version),
                now,
            )?;
            activity.rosters += 1;
            if n == 1 {
                current.push(published);
            }
        }
    }

    // The demo PAs clock every shift of theirs that has ended, on time.
    for (user_id, _) in &cast.pas {
        let pa = actor(user_id, Role::Pa);
        let Ok(pa_id) = crate::market::repo::my_pa_id(conn, &pa) else {
            continue;
        };
        let shifts = crate::rostering::repo::pa_published_between(
            conn,
            &pa_id,
            (spans[0].0 - Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
            now.naive_utc(),
        )?;
        for shift in shifts.iter().filter(|s| s.ends_at.and_utc() <= now) {
            for (kind, at) in [
                (ClockKind::ClockIn, shift.starts_at.and_utc()),
                (ClockKind::ClockOut, shift.ends_at.and_utc()),
            ] {
                crate::timesheets::clock::clock(
                    conn,
                    &pa,
                    &shift.id,
                    kind,
                    &ClockRequest {
                        device_time: at,
                        location: None,
                    },
                    &format!("demo-{}-{}", kind.as_str(), shift.id),
                    now,
                )?;
            }
            activity.clocked_shifts += 1;
        }
    }

    // Every demo timesheet is submitted; all are approved but the first of each pay period,
    // which waits for its approver (one approved late is paid in the next open period). Then
    // the previous period is closed.
    let closed = crate::timesheets::repo::period_starting(
        conn,
        organisation_id,
        None,
        policy
            .pay_frequency
            .period_of(policy.period_anchor, spans[0].1)
            .0,
    )?;
    let mut waiting: Vec<String> = Vec::new();
    for (user_id, _) in &cast.pas {
        let pa = actor(user_id, Role::Pa);
        let Ok(timesheets) = crate::timesheets::service::my_timesheets(conn, &pa) else {
            continue;
        };
        for timesheet in timesheets {
            let submitted = crate::timesheets::approval::submit(conn, &pa, &timesheet.id, now)?;
            if !waiting.contains(&timesheet.pay_period_id) {
                waiting.push(timesheet.pay_period_id.clone());
                continue;
            }
            let manager = team_manager_of(conn, &timesheet.budget_holder_id)?;
            crate::timesheets::approval::approve(
                conn,
                &actor(&manager, Role::TeamManager),
                &timesheet.id,
                Some(submitted.version),
                now,
            )?;
        }
    }
    if let Some(period) = closed {
        let admin = actor(&cast.admin, Role::Admin);
        let closed = crate::payroll::close::close_period(conn, &admin, &period.id, now)?;
        activity.closed_period = Some((period.starts_on, period.ends_on));
        activity.exports = closed.exports.len();
    }

    // A coming shift opened, until one is offered to a demo PA who logs in.
    'rosters: for roster in &current {
        let manager = actor(&roster.team_manager_id, Role::TeamManager);
        let mut version = roster.version;
        let coming = roster.shifts.iter().filter(|s| {
            s.starts_at > now + Duration::days(2) && s.headcount == 1 && !s.pa_ids.is_empty()
        });
        for shift in coming.take(3) {
            let edited = crate::rostering::edit::edit(
                conn,
                &manager,
                &roster.id,
                Some(version),
                RosterEdit::Unassign {
                    shift_id: shift.id.clone(),
                },
                now,
            )?;
            version = edited.version;
            for (user_id, login) in &cast.pas {
                let pa = actor(user_id, Role::Pa);
                let offered = crate::rostering::open_shifts::list(conn, &pa, now)
                    .map(|open| open.iter().any(|o| o.shift_id == shift.id))
                    .unwrap_or(false);
                if offered {
                    activity.open_shift_for = Some(login.clone());
                    break 'rosters;
                }
            }
        }
    }

    // The PA on the next day's first shift (tomorrow's, or the first day after with one) is
    // off sick that day, as their manager records it.
    let today = crate::time::london_date(now);
    let coming = current
        .iter()
        .flat_map(|r| r.shifts.iter().map(move |s| (r, s)))
        .filter(|(_, s)| s.date > today && s.headcount == 1 && !s.pa_ids.is_empty())
        .min_by_key(|(_, s)| (s.date, s.starts_at));
    if let Some((roster, shift)) = coming {
        let manager = actor(&roster.team_manager_id, Role::TeamManager);
        let recorded = crate::absence::service::record(
            conn,
            &manager,
            crate::absence::dto::RecordAbsence {
                pa_id: shift.pa_ids[0].clone(),
                kind: crate::absence::model::AbsenceKind::Sickness,
                starts_on: shift.date,
                ends_on: Some(shift.date),
                fit_note_from: None,
                fit_note_to: None,
            },
            now,
        )?;
        activity.cover_requests = recorded.cover_request_ids.len();
    }
    Ok(activity)
}

fn team_manager_of(conn: &mut DbConnection, budget_holder_id: &str) -> AppResult<String> {
    crate::market::repo::find_budget_holder(conn, budget_holder_id)?
        .map(|h| h.team_manager_id)
        .ok_or(crate::error::AppError::NotFound)
}

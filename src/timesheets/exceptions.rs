//! What the team manager works through: every planned place compared with what was recorded
//! (late, left early, over-run, short, missed, no clock-out, outside the radius, unrostered),
//! and the reminder a PA gets when they forget to clock out.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::timesheets::dto::ExceptionView;
use crate::timesheets::model::{self, Planned};
use crate::timesheets::periods::policy_of;
use crate::timesheets::repo;
use crate::timesheets::service::actual_of;

/// Exceptions on work dated `from` to `to` for the caller's people. Who may call: team
/// managers (their own people) and admins (the organisation's).
pub fn list(
    conn: &mut DbConnection,
    actor: &AuthUser,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<ExceptionView>> {
    let manager = crate::auth::policy::team_scope(actor, None)?;
    if to < from {
        return Err(AppError::field(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    if to - from > Duration::days(62) {
        return Err(AppError::field(
            "to",
            "range",
            "must be at most 62 days after from",
        ));
    }
    let policy = policy_of(conn, &actor.organisation_id)?;
    let holders = repo::holder_ids(conn, &actor.organisation_id, manager)?;
    let places = repo::published_places(conn, &holders, from, to)?;
    let records = repo::records_of_holders_between(conn, &holders, from, to)?;
    let mut by_place: HashMap<(String, String), &repo::ShiftRecordRow> = HashMap::new();
    let mut out = Vec::new();
    for record in &records {
        match &record.roster_shift_id {
            Some(shift_id) => {
                by_place.insert((shift_id.clone(), record.pa_id.clone()), record);
            }
            None => {
                for e in model::exceptions(
                    None,
                    Some((actual_of(record), record.outside_radius)),
                    false,
                    &policy,
                    now,
                ) {
                    out.push(ExceptionView {
                        kind: e.kind,
                        minutes: e.minutes,
                        date: record.work_date,
                        budget_holder_id: record.budget_holder_id.clone(),
                        pa_id: record.pa_id.clone(),
                        shift_id: None,
                        record_id: Some(record.id.clone()),
                        timesheet_id: Some(record.timesheet_id.clone()),
                        planned_start: None,
                    });
                }
            }
        }
    }
    // Who was recorded absent on which days: their unworked shifts then are not missed.
    let place_pas: Vec<String> = places.iter().map(|(_, pa)| pa.clone()).collect();
    let away = repo::absences_between(conn, &place_pas, from, to)?;
    let absent_on = |pa_id: &str, date: NaiveDate| {
        away.iter()
            .any(|(pa, first, last)| pa == pa_id && *first <= date && date <= *last)
    };
    for (shift, pa_id) in &places {
        let planned = Planned {
            starts_at: shift.starts_at.and_utc(),
            ends_at: shift.ends_at.and_utc(),
        };
        let record = by_place.get(&(shift.id.clone(), pa_id.clone()));
        for e in model::exceptions(
            Some(planned),
            record.map(|r| (actual_of(r), r.outside_radius)),
            absent_on(pa_id, shift.shift_date),
            &policy,
            now,
        ) {
            out.push(ExceptionView {
                kind: e.kind,
                minutes: e.minutes,
                date: shift.shift_date,
                budget_holder_id: shift.budget_holder_id.clone(),
                pa_id: pa_id.clone(),
                shift_id: Some(shift.id.clone()),
                record_id: record.map(|r| r.id.clone()),
                timesheet_id: record.map(|r| r.timesheet_id.clone()),
                planned_start: Some(planned.starts_at),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.date, a.planned_start, &a.pa_id, a.kind).cmp(&(
            b.date,
            b.planned_start,
            &b.pa_id,
            b.kind,
        ))
    });
    Ok(out)
}

/// E-mails each PA still clocked in on a shift that ended more than the grace period ago,
/// once per record. Returns how many were reminded.
pub fn remind_unfinished(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<usize> {
    // The shortest grace any organisation may set; each record is then held to its own.
    let earliest = now - Duration::minutes(15);
    let due = repo::unfinished_records(conn, earliest.naive_utc(), 500)?;
    let mut reminded = 0;
    let mut policies = HashMap::new();
    for (record, ended) in due {
        if !policies.contains_key(&record.organisation_id) {
            let policy = policy_of(conn, &record.organisation_id)?;
            policies.insert(record.organisation_id.clone(), policy);
        }
        let grace = policies
            .get(&record.organisation_id)
            .map_or(60, |p| p.clock_out_grace_minutes);
        if ended.and_utc() + Duration::minutes(i64::from(grace)) > now {
            continue;
        }
        let Some(pa) = crate::market::repo::find_pa(conn, &record.pa_id)? else {
            continue;
        };
        let email = crate::market::repo::pa_email(conn, &pa)?;
        let local_end = crate::time::london_local(ended.and_utc());
        write_transaction(conn, |conn| {
            if !repo::mark_reminded(conn, &record.id, now.naive_utc())? {
                return Ok(());
            }
            if let Some(email) = email {
                crate::mail::enqueue(
                    conn,
                    crate::mail::NewEmail {
                        organisation_id: Some(record.organisation_id.clone()),
                        dedupe_key: format!("clock_out_reminder:{}", record.id),
                        recipient: email,
                        subject: "Did you forget to clock out?".into(),
                        body: format!(
                            "Hello {},\n\nYour shift on {} ended at {} and you are still clocked in. Open the app to clock out with the time you left.\n",
                            pa.display_name,
                            record.work_date,
                            local_end.format("%H:%M")
                        ),
                    },
                    now,
                )?;
            }
            reminded += 1;
            Ok::<(), AppError>(())
        })?;
    }
    Ok(reminded)
}

//! One PA's shifts across rosters: whether shifts proposed for them (an open shift they accept,
//! a roster about to be published) keep every working-time and booking rule alongside the
//! shifts they already work on other published rosters, whoever made those.

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::geo::{distance_km, Location};
use crate::market::repo as market_repo;
use crate::rostering::repo::{self, RosterShiftRow};
use crate::rostering::solver::{violations, Problem, Task, Weights, Worker};
use crate::rostering::working_time;

/// The first rule the PA would break by working `proposed` on top of their published shifts
/// (except those of `except_roster`): the proposed shift's id and the rule's code.
pub(crate) fn first_clash(
    conn: &mut DbConnection,
    pa_id: &str,
    proposed: &[&RosterShiftRow],
    except_roster: Option<&str>,
) -> AppResult<Option<(String, &'static str)>> {
    let (Some(first), Some(last)) = (
        proposed.iter().map(|s| s.starts_at).min(),
        proposed.iter().map(|s| s.ends_at).max(),
    ) else {
        return Ok(None);
    };
    let around: Vec<RosterShiftRow> = repo::published_of_pas_between(
        conn,
        &[pa_id.to_owned()],
        first - Duration::days(8),
        last + Duration::days(8),
        except_roster,
    )?
    .into_iter()
    .map(|(_, s)| s)
    .filter(|s| proposed.iter().all(|p| p.id != s.id))
    .collect();
    // Placed first, so each rule is reported against a proposed shift.
    let shifts: Vec<&RosterShiftRow> = around.iter().chain(proposed.iter().copied()).collect();
    let mut holders: Vec<String> = Vec::new();
    for s in &shifts {
        if !holders.contains(&s.budget_holder_id) {
            holders.push(s.budget_holder_id.clone());
        }
    }
    let mut locations = Vec::new();
    for h in &holders {
        let row = market_repo::find_budget_holder(conn, h)?.ok_or(AppError::NotFound)?;
        locations.push(Location {
            latitude: row.latitude,
            longitude: row.longitude,
        });
    }
    // Weeks run from a week before the first shift, so its own week is whole.
    let epoch: NaiveDateTime = first - Duration::days(7);
    let minute = |t: NaiveDateTime| (t - epoch).num_minutes();
    let span_days = (last + Duration::days(8) - epoch).num_days();
    let date = proposed
        .iter()
        .map(|s| s.shift_date)
        .min()
        .unwrap_or_default();
    let tasks: Vec<Task> = shifts
        .iter()
        .map(|s| Task {
            person: holders
                .iter()
                .position(|h| h == &s.budget_holder_id)
                .unwrap_or(0),
            start: minute(s.starts_at),
            end: minute(s.ends_at),
            headcount: 1,
            night: false,
            weekend: false,
            eligible: vec![0],
            fixed: false,
            ..Default::default()
        })
        .collect();
    let last_date = proposed
        .iter()
        .map(|s| s.shift_date)
        .max()
        .unwrap_or_default();
    let cap = working_time::caps(conn, &[pa_id.to_owned()], (date, last_date))?
        .remove(pa_id)
        .unwrap_or(working_time::UNCAPPED);
    let problem = Problem {
        days: 0,
        cannot_follow: Vec::new(),
        covers: Vec::new(),
        tasks,
        workers: vec![Worker {
            contract: None,
            max_minutes_per_week: cap,
            wanted_minutes_per_week: 0,
            hourly_pay_pence: 0,
            km_to_person: vec![0.0; holders.len()],
            core_team_of: Vec::new(),
        }],
        people: holders.len(),
        travel_minutes: locations
            .iter()
            .map(|a| {
                locations
                    .iter()
                    .map(|b| (distance_km(*a, *b) / 30.0 * 60.0).round() as i64 + 10)
                    .collect()
            })
            .collect(),
        weeks: usize::try_from((span_days + 6) / 7).unwrap_or(1),
        rules: working_time::rest_rules(date),
        weights: Weights::default(),
    };
    let assignments = vec![vec![0usize]; problem.tasks.len()];
    Ok(violations(&problem, &assignments)
        .into_iter()
        .find(|(t, _, _)| *t >= around.len())
        .map(|(t, _, rule)| {
            (
                shifts[t].id.clone(),
                crate::rostering::edit::rule_words(rule).0,
            )
        }))
}

/// Takes each PA's row lock, in id order so two callers never wait on each other in a circle,
/// until the transaction ends: a publisher or an accepting PA then checks clashes against
/// whatever another committed first. (A no-op update: PostgreSQL locks the rows it updates;
/// SQLite's write transaction already holds the whole database.)
pub(crate) fn lock_pas(conn: &mut DbConnection, pa_ids: &[&str]) -> AppResult<()> {
    use crate::db::schema::pa_profiles;
    use diesel::prelude::*;
    let mut ids = pa_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        diesel::update(pa_profiles::table.find(id))
            .set(pa_profiles::id.eq(pa_profiles::id))
            .execute(conn)?;
    }
    Ok(())
}

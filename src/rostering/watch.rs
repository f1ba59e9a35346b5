//! The daily look ahead: published shifts in the next eight weeks whose PA will not be safe by
//! then (evidence, a DBS check or the right to work expiring, a sign-off withdrawn, a
//! do-not-match entry, leave recorded), found by asking the safety gate about each roster as it
//! stands, marked on the roster (`shift_warnings`) and mailed to the team manager once per
//! shift and PA; and reminders to PAs at 60, 30 and 7 days before their own evidence or checks
//! expire, with the manager's list of what expires soon.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::schema::{roster_shifts, rosters, shift_warnings};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, RuleBreach};
use crate::market::model::MatchPolicy;
use crate::market::repo as market_repo;
use crate::market::repo::candidates_of;
use crate::rostering::dto::ExpiringItemView;
use crate::rostering::model::gate::dated_facts;
use crate::rostering::model::RosterStatus;
use crate::rostering::repo;
use crate::rostering::safety;

/// How far ahead the look ahead reaches.
pub const LOOK_AHEAD_DAYS: i64 = 56;
/// Days before an expiry that a PA is reminded, furthest first.
pub const REMINDER_DAYS: [i64; 3] = [60, 30, 7];

/// What the look ahead last found on these shifts, by shift id.
pub fn warnings_of(
    conn: &mut DbConnection,
    shift_ids: &[String],
) -> AppResult<HashMap<String, Vec<RuleBreach>>> {
    let mut out: HashMap<String, Vec<RuleBreach>> = HashMap::new();
    for chunk in shift_ids.chunks(500) {
        let rows: Vec<(String, String, String, String)> = shift_warnings::table
            .filter(shift_warnings::roster_shift_id.eq_any(chunk))
            .order((shift_warnings::pa_id.asc(), shift_warnings::rule.asc()))
            .select((
                shift_warnings::roster_shift_id,
                shift_warnings::pa_id,
                shift_warnings::rule,
                shift_warnings::explanation,
            ))
            .load(conn)?;
        for (shift_id, pa_id, rule, explanation) in rows {
            let Some(shift) = repo::find_shift(conn, &shift_id)? else {
                continue;
            };
            out.entry(shift_id.clone()).or_default().push(RuleBreach {
                shift_id,
                date: shift.shift_date,
                start: shift.start_local,
                end: shift.end_local,
                pa_id: Some(pa_id),
                rule,
                explanation,
            });
        }
    }
    Ok(out)
}

/// Runs the look ahead over every organisation; returns how many shift-and-PA warnings stand.
pub fn look_ahead(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let until = now + Duration::days(LOOK_AHEAD_DAYS);
    let roster_ids: Vec<String> = roster_shifts::table
        .inner_join(rosters::table)
        .filter(rosters::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_shifts::starts_at.ge(now.naive_utc()))
        .filter(roster_shifts::starts_at.lt(until.naive_utc()))
        .select(rosters::id)
        .distinct()
        .load(conn)?;
    let mut standing = 0;
    for roster_id in roster_ids {
        standing += look_ahead_roster(conn, &roster_id, now, until)?;
    }
    Ok(standing)
}

fn look_ahead_roster(
    conn: &mut DbConnection,
    roster_id: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<usize> {
    let Some(roster) = repo::find_roster(conn, roster_id)? else {
        return Ok(0);
    };
    let shifts = repo::roster_shifts_of(conn, roster_id)?;
    let assignments = repo::assignments_of(conn, roster_id)?;
    let ahead = |s: &repo::RosterShiftRow| {
        s.starts_at >= now.naive_utc() && s.starts_at < until.naive_utc()
    };
    let staffed = safety::as_stored(&shifts, &assignments, ahead);
    let found: Vec<RuleBreach> = safety::check(conn, &staffed, Some(roster_id))?
        .into_iter()
        .filter(|b| b.pa_id.is_some())
        .collect();
    let ids: Vec<String> = shifts
        .iter()
        .filter(|s| ahead(s))
        .map(|s| s.id.clone())
        .collect();
    let manager = crate::accounts::repo::find_user(conn, &roster.team_manager_id)?;
    write_transaction(conn, |conn| {
        for chunk in ids.chunks(500) {
            diesel::delete(
                shift_warnings::table.filter(shift_warnings::roster_shift_id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
        let mut told: Vec<(String, String)> = Vec::new();
        for b in &found {
            let pa_id = b.pa_id.clone().unwrap_or_default();
            diesel::insert_into(shift_warnings::table)
                .values((
                    shift_warnings::roster_shift_id.eq(&b.shift_id),
                    shift_warnings::pa_id.eq(&pa_id),
                    shift_warnings::organisation_id.eq(&roster.organisation_id),
                    shift_warnings::rule.eq(&b.rule),
                    shift_warnings::explanation.eq(&b.explanation),
                    shift_warnings::found_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
            let key = (b.shift_id.clone(), pa_id);
            if told.contains(&key) {
                continue;
            }
            if let Some(email) = manager.as_ref().and_then(|m| m.email.clone()) {
                let rules: Vec<String> = found
                    .iter()
                    .filter(|o| o.shift_id == b.shift_id && o.pa_id == b.pa_id)
                    .map(|o| format!("- {} (rule {})", o.explanation, o.rule))
                    .collect();
                crate::mail::enqueue(
                    conn,
                    crate::mail::NewEmail {
                        organisation_id: Some(roster.organisation_id.clone()),
                        dedupe_key: format!("shift_at_risk:{}:{}", key.0, key.1),
                        recipient: email,
                        subject: format!(
                            "A PA will not be safe for a shift on {}",
                            b.date
                        ),
                        body: format!(
                            "The shift on {} {}–{} (roster {}) has a PA who will not be safe by then:\n\n{}\n\nOpen the shift or change the PA before it starts.\n",
                            b.date,
                            b.start,
                            b.end,
                            roster.id,
                            rules.join("\n")
                        ),
                    },
                    now,
                )?;
            }
            told.push(key);
        }
        Ok::<_, AppError>(())
    })?;
    Ok(found.len())
}

/// One dated fact of one PA expiring within the window asked.
fn expiring(
    conn: &mut DbConnection,
    organisation_id: &str,
    today: NaiveDate,
    within_days: i64,
) -> AppResult<Vec<ExpiringItemView>> {
    let pas = market_repo::active_pas(conn, &[organisation_id.to_owned()])?;
    let policy = MatchPolicy::default();
    let mut out = Vec::new();
    for (pa, c) in pas.iter().zip(candidates_of(conn, &pas)?) {
        for fact in dated_facts(&c, &policy) {
            let days_left = (fact.on - today).num_days();
            if fact.change == "expires" && (0..=within_days).contains(&days_left) {
                out.push(ExpiringItemView {
                    pa_id: pa.id.clone(),
                    pa_name: pa.display_name.clone(),
                    item: fact.item.to_owned(),
                    competency_id: fact.competency_id,
                    budget_holder_id: fact.budget_holder_id,
                    expires_on: fact.on,
                    days_left,
                });
            }
        }
    }
    out.sort_by(|a, b| (a.expires_on, &a.pa_name).cmp(&(b.expires_on, &b.pa_name)));
    Ok(out)
}

/// The organisation's evidence and checks expiring within `within_days`, soonest first: for its
/// managers.
pub fn expiring_items(
    conn: &mut DbConnection,
    actor: &AuthUser,
    organisation_id: &str,
    within_days: i64,
    today: NaiveDate,
) -> AppResult<Vec<ExpiringItemView>> {
    authorize(
        actor,
        Action::Read,
        Resource::PaDirectory { organisation_id },
    )?;
    expiring(conn, organisation_id, today, within_days)
}

/// Reminds each PA of their own evidence and checks expiring within 60, 30 and 7 days, once
/// each (the nearest reminder only, if the job missed the others); returns how many were sent.
pub fn remind_expiring(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let today = now.date_naive();
    let organisations: Vec<String> = crate::db::schema::organisations::table
        .select(crate::db::schema::organisations::id)
        .load(conn)?;
    let furthest = REMINDER_DAYS.iter().copied().max().unwrap_or(0);
    let mut sent = 0;
    for organisation in organisations {
        let items = expiring(conn, &organisation, today, furthest)?;
        write_transaction(conn, |conn| {
            for item in &items {
                let Some(bucket) = REMINDER_DAYS
                    .iter()
                    .copied()
                    .filter(|d| item.days_left <= *d)
                    .min()
                else {
                    continue;
                };
                let Some(pa) = market_repo::find_pa(conn, &item.pa_id)? else {
                    continue;
                };
                let Some(email) = crate::market::repo::pa_email(conn, &pa)? else {
                    continue;
                };
                let what = match item.item.as_str() {
                    "dbs" => "Your DBS certificate needs renewing".to_owned(),
                    "right_to_work" => "Your right to work".to_owned(),
                    "signoff" => "A clinical sign-off for a person you support".to_owned(),
                    _ => "Your evidence for a competency".to_owned(),
                };
                let subject = item.competency_id.as_deref().unwrap_or(&item.item);
                if crate::mail::enqueue(
                    conn,
                    crate::mail::NewEmail {
                        organisation_id: Some(organisation.clone()),
                        dedupe_key: format!(
                            "expiry_reminder:{}:{}:{}:{}:{}",
                            item.pa_id,
                            item.item,
                            subject,
                            item.expires_on,
                            bucket
                        ),
                        recipient: email,
                        subject: format!("{what}: expires on {}", item.expires_on),
                        body: format!(
                            "Hello {},\n\n{what} expires on {} ({} days from today). After that you cannot be rostered on shifts that need it. Please send your manager the renewed evidence.\n",
                            pa.display_name, item.expires_on, item.days_left
                        ),
                    },
                    now,
                )? {
                    sent += 1;
                }
            }
            Ok::<_, AppError>(())
        })?;
    }
    Ok(sent)
}

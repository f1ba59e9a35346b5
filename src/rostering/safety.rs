//! The facts the safety gate (`model::gate`) judges, gathered from the database: for the PAs
//! on the shifts to be judged, their checks, evidence, sign-offs, availability, leave and
//! working-time records, the people's requirements, and every other shift those PAs work on a
//! published roster around them. Every door asks through `check` or `gather`.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use crate::db::DbConnection;
use crate::error::{AppError, AppResult, RuleBreach};
use crate::market::model::MatchPolicy;
use crate::market::repo as market_repo;
use crate::market::repo::candidates_of;
use crate::market::repo::person_needs;
use crate::rostering::model::gate::{self, GatePa, GateShift, World};
use crate::rostering::repo::{self, RosterShiftRow};
use crate::rostering::working_time;

/// A shift with the PAs who would be on it, and whether the gate judges it (otherwise it is
/// only the PAs' other work: their rest, bookings and hours count it).
pub(crate) struct Staffed<'a> {
    pub shift: &'a RosterShiftRow,
    pub pa_ids: Vec<String>,
    pub judged: bool,
}

/// A roster's shifts staffed as stored, those `judged` says judged by the gate.
pub(crate) fn as_stored<'a>(
    shifts: &'a [RosterShiftRow],
    assignments: &[repo::RosterAssignmentRow],
    judged: impl Fn(&RosterShiftRow) -> bool,
) -> Vec<Staffed<'a>> {
    shifts
        .iter()
        .map(|shift| Staffed {
            shift,
            pa_ids: assignments
                .iter()
                .filter(|a| a.roster_shift_id == shift.id)
                .map(|a| a.pa_id.clone())
                .collect(),
            judged: judged(shift),
        })
        .collect()
}

/// The gate's world, with the PAs and shifts found by id.
pub(crate) struct Gathered {
    pub world: World,
    /// Indices of the judged shifts.
    pub judged: Vec<usize>,
    pub pa_index: HashMap<String, usize>,
}

impl Gathered {
    pub fn check(&self) -> Vec<RuleBreach> {
        gate::check(&self.world, &self.judged)
    }
}

pub(crate) fn gate_shift(
    row: &RosterShiftRow,
    person: usize,
    window: (NaiveDate, NaiveDate),
) -> GateShift {
    GateShift {
        id: row.id.clone(),
        person,
        date: row.shift_date,
        start: row.start_local.clone(),
        end: row.end_local.clone(),
        starts_at: row.starts_at.and_utc(),
        ends_at: row.ends_at.and_utc(),
        headcount: u8::try_from(row.headcount).unwrap_or(1),
        window,
    }
}

/// Rosters' dates by id, read once each.
#[derive(Default)]
pub(crate) struct Windows(HashMap<String, (NaiveDate, NaiveDate)>);

impl Windows {
    pub fn of(
        &mut self,
        conn: &mut DbConnection,
        roster_id: &str,
    ) -> AppResult<(NaiveDate, NaiveDate)> {
        if let Some(w) = self.0.get(roster_id) {
            return Ok(*w);
        }
        let roster = repo::find_roster(conn, roster_id)?.ok_or(AppError::NotFound)?;
        let w = (roster.from_date, roster.to_date);
        self.0.insert(roster_id.to_owned(), w);
        Ok(w)
    }
}

/// The facts for judging `staffed`: its shifts first, in order, then every other published
/// shift (of rosters other than `except_roster`) that the judged shifts' PAs, or `more_pas`,
/// work around them.
pub(crate) fn gather(
    conn: &mut DbConnection,
    staffed: &[Staffed<'_>],
    more_pas: &[String],
    except_roster: Option<&str>,
) -> AppResult<Gathered> {
    let mut pa_ids: Vec<String> = more_pas.to_vec();
    for s in staffed.iter().filter(|s| s.judged) {
        for pa in &s.pa_ids {
            if !pa_ids.contains(pa) {
                pa_ids.push(pa.clone());
            }
        }
    }
    let mut windows = Windows::default();
    let mut shift_windows = Vec::with_capacity(staffed.len());
    for s in staffed {
        shift_windows.push(windows.of(conn, &s.shift.roster_id)?);
    }
    let judged_windows = staffed.iter().zip(&shift_windows).filter(|(s, _)| s.judged);
    let (mut first, mut last) = (None::<NaiveDate>, None::<NaiveDate>);
    for (s, (from, to)) in judged_windows {
        let a = (*from).min(s.shift.shift_date);
        let b = (*to).max(s.shift.ends_at.date());
        first = Some(first.map_or(a, |f| f.min(a)));
        last = Some(last.map_or(b, |l| l.max(b)));
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(Gathered {
            world: World::default(),
            judged: Vec::new(),
            pa_index: HashMap::new(),
        });
    };
    // A week and a day either side: rest rules reach no further, and the weekly cap's weeks
    // (whole weeks from a roster's start) end within six days of its last date.
    let (mut from, mut to) = (first - Duration::days(8), last + Duration::days(8));
    // Their other work: published shifts, and places of 2:1 shifts they hold (which go live
    // the moment a second PA accepts, so they count as worked). The weekly cap of a roster they
    // work in counts all its weeks, so the range grows to every such roster's weeks.
    let mut elsewhere = Vec::new();
    for _ in 0..3 {
        if pa_ids.is_empty() {
            break;
        }
        let (a, b) = (
            from.and_time(chrono::NaiveTime::MIN),
            to.and_time(chrono::NaiveTime::MIN),
        );
        elsewhere = repo::published_of_pas_between(conn, &pa_ids, a, b, except_roster)?;
        elsewhere.extend(repo::held_by_pas_between(conn, &pa_ids, a, b)?);
        let (mut wider_from, mut wider_to) = (from, to);
        for (_, row) in &elsewhere {
            let (a, b) = windows.of(conn, &row.roster_id)?;
            wider_from = wider_from.min(a - Duration::days(8));
            wider_to = wider_to.max(b + Duration::days(8));
        }
        if (wider_from, wider_to) == (from, to) {
            break;
        }
        (from, to) = (wider_from, wider_to);
    }

    let pa_index: HashMap<String, usize> = pa_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let mut world = World {
        policy: MatchPolicy::default(),
        ..World::default()
    };
    let mut holder_index: HashMap<String, usize> = HashMap::new();
    let mut person_of = |conn: &mut DbConnection, world: &mut World, holder_id: &str| {
        if let Some(&i) = holder_index.get(holder_id) {
            return Ok::<_, AppError>(i);
        }
        let holder = market_repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
        world.people.push(person_needs(conn, &holder)?);
        holder_index.insert(holder_id.to_owned(), world.people.len() - 1);
        Ok(world.people.len() - 1)
    };
    let mut shift_index: HashMap<String, usize> = HashMap::new();
    let mut judged = Vec::new();
    for (s, window) in staffed.iter().zip(&shift_windows) {
        let person = person_of(conn, &mut world, &s.shift.budget_holder_id)?;
        world.shifts.push(gate_shift(s.shift, person, *window));
        // On a judged shift everyone counts (2:1 needs two); elsewhere only the PAs judged.
        world.on.push(
            s.pa_ids
                .iter()
                .filter_map(|pa| pa_index.get(pa).copied())
                .collect(),
        );
        if s.judged {
            judged.push(world.shifts.len() - 1);
        }
        shift_index.insert(s.shift.id.clone(), world.shifts.len() - 1);
    }
    for (pa, row) in &elsewhere {
        let Some(&p) = pa_index.get(pa) else {
            continue;
        };
        let t = match shift_index.get(&row.id) {
            Some(&t) => t,
            None => {
                let window = windows.of(conn, &row.roster_id)?;
                let person = person_of(conn, &mut world, &row.budget_holder_id)?;
                world.shifts.push(gate_shift(row, person, window));
                world.on.push(Vec::new());
                shift_index.insert(row.id.clone(), world.shifts.len() - 1);
                world.shifts.len() - 1
            }
        };
        // A shift being judged is judged as staffed in `staffed`, not as stored.
        if t >= staffed.len() && !world.on[t].contains(&p) {
            world.on[t].push(p);
        }
    }

    let mut leave: HashMap<String, Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for u in market_repo::unavailability_between(conn, &pa_ids, from, to)? {
        leave
            .entry(u.pa_id)
            .or_default()
            .push((u.starts_on, u.ends_on));
    }
    let mut records = working_time::records(conn, &pa_ids)?;
    // In `pa_ids`' order, which `pa_index` numbers.
    let mut by_id: HashMap<String, market_repo::PaProfileRow> =
        market_repo::pas_by_ids(conn, &pa_ids)?
            .into_iter()
            .map(|row| (row.id.clone(), row))
            .collect();
    let rows = pa_ids
        .iter()
        .map(|id| by_id.remove(id).ok_or(AppError::NotFound))
        .collect::<AppResult<Vec<_>>>()?;
    for (row, candidate) in rows.iter().zip(candidates_of(conn, &rows)?) {
        world.pas.push(GatePa::new(
            candidate,
            row.active,
            leave.remove(&row.id).unwrap_or_default(),
            records.remove(&row.id),
            &world.policy,
        ));
    }
    Ok(Gathered {
        world,
        judged,
        pa_index,
    })
}

/// Every safety rule broken on the judged shifts of `staffed`.
pub(crate) fn check(
    conn: &mut DbConnection,
    staffed: &[Staffed<'_>],
    except_roster: Option<&str>,
) -> AppResult<Vec<RuleBreach>> {
    Ok(gather(conn, staffed, &[], except_roster)?.check())
}

/// Takes each PA's row lock, in id order so two callers never wait on each other in a circle,
/// until the transaction ends: a door then checks the gate against whatever another committed
/// first. (A no-op update: PostgreSQL locks the rows it updates; SQLite's write transaction
/// already holds the whole database.)
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

/// A refusal naming every breach: the shift, the PA and the rule, in words.
pub(crate) fn refuse(
    code: crate::error::ConflictCode,
    what: &str,
    breaches: Vec<RuleBreach>,
) -> AppError {
    let first = breaches
        .first()
        .map(|b| {
            format!(
                ": {} on {} {}–{} ({})",
                b.explanation, b.date, b.start, b.end, b.rule
            )
        })
        .unwrap_or_default();
    AppError::Unsafe {
        code,
        detail: format!(
            "{what} would break {} safety rule(s){first}",
            breaches.len()
        ),
        breaches,
    }
}

/// Breaches as 422 field errors on `field`: the working-time and staffing rules by their own
/// codes, the rules about the PA and the person as `not_eligible`, each naming its rule and PA.
pub(crate) fn field_errors(field: &str, breaches: &[RuleBreach]) -> Vec<crate::error::FieldError> {
    const OWN_CODES: [&str; 6] = [
        "double_booking",
        "daily_rest",
        "weekly_rest",
        "weekly_hours",
        "half_staffed",
        "contract",
    ];
    breaches
        .iter()
        .map(|b| {
            let code = if OWN_CODES.contains(&b.rule.as_str()) {
                b.rule.as_str()
            } else {
                "not_eligible"
            };
            crate::error::FieldError::new(
                field,
                code,
                format!(
                    "{} on {} {}–{} (rule {})",
                    b.explanation, b.date, b.start, b.end, b.rule
                ),
            )
        })
        .collect()
}

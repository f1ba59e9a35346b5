//! Open shifts go to the market: the PAs the safety gate allows see them, and the first valid
//! acceptance takes the place, safely under concurrency (the roster's row lock serialises
//! acceptances; each asks the gate again inside it, under the PAs' row locks).
//!
//! A 2:1 shift is taken whole or held: a PA accepting one place while nobody holds the other
//! holds it (not live, no pay committed, shown to the manager and to other qualified PAs as one
//! more needed); when a second PA accepts, the gate judges the pair and both go live together.
//! A holder the gate no longer allows (a shift taken meanwhile, evidence lapsed) loses the hold
//! and the new PA holds instead.

use chrono::{DateTime, Duration, Utc};

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::budgets::ledger::post_entries;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::geo::distance_km;
use crate::market::model::ShiftKind;
use crate::market::repo as market_repo;
use crate::market::repo::my_pa_id;
use crate::rostering::dto::OpenShiftView;
use crate::rostering::model::gate::{self, place_breaches};
use crate::rostering::model::place_pay;
use crate::rostering::model::RosterStatus;
use crate::rostering::publish::commitments;
use crate::rostering::repo::{self, RosterAssignmentRow, RosterShiftRow};
use crate::rostering::safety::{gather, lock_pas, refuse, Staffed};

fn home(pa: &market_repo::PaProfileRow) -> crate::geo::Location {
    crate::geo::Location {
        latitude: pa.latitude,
        longitude: pa.longitude,
    }
}

fn offer(
    shift: &RosterShiftRow,
    (places_left, held_places, held_by_you): (i64, i64, bool),
    district: String,
    distance_km: f64,
) -> OpenShiftView {
    OpenShiftView {
        shift_id: shift.id.clone(),
        date: shift.shift_date,
        start: shift.start_local.clone(),
        end: shift.end_local.clone(),
        starts_at: shift.starts_at.and_utc(),
        ends_at: shift.ends_at.and_utc(),
        kind: ShiftKind::parse(&shift.kind),
        headcount: shift.headcount,
        places_left,
        held_places,
        held_by_you,
        district,
        distance_km: (distance_km * 10.0).round() / 10.0,
    }
}

pub fn list(
    conn: &mut DbConnection,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AppResult<Vec<OpenShiftView>> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = market_repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let declined = repo::declined_by(conn, &pa.id)?;
    let mine: Vec<String> = repo::pa_published_between(
        conn,
        &pa.id,
        now.naive_utc(),
        (now + Duration::days(3_660)).naive_utc(),
    )?
    .into_iter()
    .map(|s| s.id)
    .collect();
    let open: Vec<(RosterShiftRow, i64)> =
        repo::published_shifts_from(conn, &pa.organisation_id, now.naive_utc(), 2_000)?
            .into_iter()
            .filter(|(s, taken)| {
                *taken < i64::from(s.headcount)
                    && !declined.contains(&s.id)
                    && !mine.contains(&s.id)
            })
            .collect();
    let ids: Vec<String> = open.iter().map(|(s, _)| s.id.clone()).collect();
    let holds = repo::holds_of(conn, &ids)?;
    let open: Vec<(RosterShiftRow, i64, i64)> = open
        .into_iter()
        .map(|(s, taken)| {
            let held = holds.iter().filter(|(h, _)| *h == s.id).count() as i64;
            (s, taken, held)
        })
        .collect();
    let held_by_me = |s: &RosterShiftRow| holds.iter().any(|(h, p)| *h == s.id && *p == pa.id);
    let open: Vec<(RosterShiftRow, i64, i64)> = open
        .into_iter()
        .filter(|(s, taken, held)| taken + held < i64::from(s.headcount) || held_by_me(s))
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    // One world for them all, the PA on none of them; each is then judged with the PA on it
    // alone beside everything else they work.
    let staffed: Vec<Staffed<'_>> = open
        .iter()
        .map(|(shift, _, _)| Staffed {
            shift,
            pa_ids: vec![pa.id.clone()],
            judged: true,
        })
        .collect();
    let mut gathered = gather(conn, &staffed, &[], None)?;
    let Some(&me) = gathered.pa_index.get(&pa.id) else {
        return Ok(Vec::new());
    };
    let world = &mut gathered.world;
    for t in 0..open.len() {
        world.on[t].clear();
    }
    let mut out = Vec::new();
    let mut districts: std::collections::HashMap<String, String> = Default::default();
    for (t, (shift, taken, held)) in open.iter().enumerate() {
        world.on[t] = vec![me];
        let safe = place_breaches(world, t, me).is_empty();
        world.on[t].clear();
        if !safe {
            continue;
        }
        let person = &world.people[world.shifts[t].person];
        // Read once per person, not per shift.
        if !districts.contains_key(&shift.budget_holder_id) {
            let district = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
                .map(|h| h.district)
                .unwrap_or_default();
            districts.insert(shift.budget_holder_id.clone(), district);
        }
        let district = districts
            .get(&shift.budget_holder_id)
            .cloned()
            .unwrap_or_default();
        out.push(offer(
            shift,
            (
                i64::from(shift.headcount) - taken - held,
                *held,
                held_by_me(shift),
            ),
            district,
            distance_km(home(&pa), person.location),
        ));
    }
    Ok(out)
}

pub fn accept(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    now: DateTime<Utc>,
) -> AppResult<OpenShiftView> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = market_repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let shift = repo::find_shift(conn, shift_id)?.ok_or(AppError::NotFound)?;
    let roster = repo::find_roster(conn, &shift.roster_id)?
        .filter(|r| {
            r.organisation_id == pa.organisation_id && r.status == RosterStatus::Published.as_str()
        })
        .ok_or(AppError::NotFound)?;
    if shift.starts_at <= now.naive_utc() {
        return Err(AppError::Conflict {
            code: ConflictCode::ShiftStarted,
            detail: "this shift has already started".into(),
        });
    }
    let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
        .ok_or(AppError::NotFound)?;
    let headcount = usize::try_from(shift.headcount).unwrap_or(1);
    let (live, held_now) = write_transaction(conn, |conn| {
        // The roster's row lock: acceptances of its shifts go one at a time, and each sees
        // every place taken or held before it.
        repo::touch_roster(conn, &roster.id, now.naive_utc())?;
        let on_shift = repo::pas_on_shift(conn, &shift.id)?;
        let holders: Vec<String> = repo::holds_of(conn, std::slice::from_ref(&shift.id))?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        if on_shift.contains(&pa.id) || holders.contains(&pa.id) {
            return Err(AppError::Conflict {
                code: ConflictCode::AlreadyYours,
                detail: "you already have this shift, or hold a place of it".into(),
            });
        }
        if on_shift.len() + holders.len() >= headcount {
            return Err(AppError::Conflict {
                code: ConflictCode::AlreadyTaken,
                detail: "someone else took this shift first".into(),
            });
        }
        // Two acceptances by one PA on different rosters must not both pass the gate.
        let mut locked: Vec<&str> = holders.iter().map(String::as_str).collect();
        locked.push(&pa.id);
        lock_pas(conn, &locked)?;

        let mut team: Vec<String> = on_shift.clone();
        team.extend(holders.iter().cloned());
        team.push(pa.id.clone());
        let staffed = [Staffed {
            shift: &shift,
            pa_ids: team.clone(),
            judged: true,
        }];
        let mut gathered = gather(conn, &staffed, &[], None)?;
        let me = gathered
            .pa_index
            .get(&pa.id)
            .copied()
            .ok_or(AppError::NotFound)?;
        // The caller's own place first: refused, nothing changes.
        gathered.world.on[0] = vec![me];
        let mine = place_breaches(&gathered.world, 0, me);
        if !mine.is_empty() {
            return Err(refuse(ConflictCode::NotEligible, "Taking this shift", mine));
        }
        // A holder the gate no longer allows beside the caller loses the hold.
        let mut kept: Vec<String> = Vec::new();
        for h in &holders {
            let Some(&hi) = gathered.pa_index.get(h) else {
                continue;
            };
            gathered.world.on[0] = vec![hi];
            if place_breaches(&gathered.world, 0, hi).is_empty() {
                kept.push(h.clone());
            } else {
                repo::release_hold(conn, &shift.id, h)?;
                audit::record(
                    conn,
                    Some(actor),
                    Change::<(), _> {
                        organisation_id: &roster.organisation_id,
                        action: "roster.hold_released",
                        entity_type: "roster",
                        entity_id: &roster.id,
                        before: None,
                        after: Some(
                            &serde_json::json!({"shift_id": shift.id, "pa_id": h, "reason": "no_longer_safe"}),
                        ),
                    },
                )?;
            }
        }
        let mut team: Vec<String> = on_shift.clone();
        team.extend(kept.iter().cloned());
        team.push(pa.id.clone());
        if team.len() < headcount {
            // Half a 2:1 team never goes live: the place is held until a second PA comes.
            repo::hold(conn, &shift.id, &pa.id, now.naive_utc())?;
            audit::record(
                conn,
                Some(actor),
                Change::<(), _> {
                    organisation_id: &roster.organisation_id,
                    action: "roster.open_shift_held",
                    entity_type: "roster",
                    entity_id: &roster.id,
                    before: None,
                    after: Some(&serde_json::json!({"shift_id": shift.id, "pa_id": pa.id})),
                },
            )?;
            return Ok((false, kept.len() + 1));
        }
        // The whole team, judged together (two different PAs, each safe beside the other).
        gathered.world.on[0] = team
            .iter()
            .filter_map(|p| gathered.pa_index.get(p).copied())
            .collect();
        let breaches = gate::check(&gathered.world, &[0]);
        if !breaches.is_empty() {
            return Err(refuse(
                ConflictCode::NotEligible,
                "Taking this shift",
                breaches,
            ));
        }
        let budget = crate::budgets::repo::approved_budget_on(
            conn,
            &shift.budget_holder_id,
            shift.shift_date,
        )?;
        for p in team.iter().filter(|p| !on_shift.contains(p)) {
            repo::add_assignment(
                conn,
                &RosterAssignmentRow {
                    id: crate::ids::new_id(),
                    roster_id: roster.id.clone(),
                    roster_shift_id: shift.id.clone(),
                    pa_id: p.clone(),
                    created_at: now.naive_utc(),
                    given_at: None,
                },
                None,
            )?;
            repo::release_hold(conn, &shift.id, p)?;
            // A place an absence opened is covered now.
            crate::rostering::cover::taken(conn, &shift, p, now)?;
            // Commit this place's pay, as publishing does.
            if let Some(budget) = &budget {
                let row = market_repo::find_pa(conn, p)?.ok_or(AppError::NotFound)?;
                let entries = commitments(
                    budget,
                    &shift,
                    place_pay(row.min_hourly_pay_pence, shift.minutes(), shift.shift_date),
                    format!(
                        "Open shift taken {} {}–{}, pay and holiday pay",
                        shift.shift_date, shift.start_local, shift.end_local
                    ),
                );
                post_entries(conn, budget, &holder, entries, Some(actor), now)?;
            }
        }
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &roster.organisation_id,
                action: "roster.open_shift_accepted",
                entity_type: "roster",
                entity_id: &roster.id,
                before: None,
                after: Some(&serde_json::json!({"shift_id": shift.id, "pa_ids": team})),
            },
        )?;
        Ok((true, 0))
    })?;
    let taken = i64::try_from(repo::pas_on_shift(conn, &shift.id)?.len()).unwrap_or(0);
    let held = i64::try_from(held_now).unwrap_or(0);
    Ok(offer(
        &shift,
        (i64::from(shift.headcount) - taken - held, held, !live),
        holder.district.clone(),
        distance_km(
            home(&pa),
            crate::geo::Location {
                latitude: holder.latitude,
                longitude: holder.longitude,
            },
        ),
    ))
}

/// A PA says no to an open shift: it is not offered to them again, and a place they held of it
/// is let go.
pub fn decline(
    conn: &mut DbConnection,
    actor: &AuthUser,
    shift_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = market_repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let shift = repo::find_shift(conn, shift_id)?.ok_or(AppError::NotFound)?;
    repo::find_roster(conn, &shift.roster_id)?
        .filter(|r| {
            r.organisation_id == pa.organisation_id && r.status == RosterStatus::Published.as_str()
        })
        .ok_or(AppError::NotFound)?;
    write_transaction(conn, |conn| {
        repo::release_hold(conn, &shift.id, &pa.id)?;
        repo::decline(conn, &shift.id, &pa.id, now.naive_utc())
    })?;
    Ok(())
}

//! Open shifts go to the market: the PAs the hard rules allow see them, and the first valid
//! acceptance takes the place, safely under concurrency (the roster's row lock serialises
//! acceptances; each re-checks the places left and the PA's rest and bookings inside it).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::budgets::service::post_entries;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::geo::distance_km;
use crate::market::model::{judge, Candidate, MatchPolicy, PersonNeeds, ShiftKind};
use crate::market::repo::{self as market_repo, BudgetHolderRow};
use crate::market::service::{candidate, evidence_by_pa, my_pa_id, person_needs, signoff_of};
use crate::rostering::clashes::{first_clash, lock_pas};
use crate::rostering::dto::OpenShiftView;
use crate::rostering::generate::available_for;
use crate::rostering::publish::{commitments, place_pay};
use crate::rostering::repo::{self, RosterAssignmentRow, RosterShiftRow};

fn me(
    conn: &mut DbConnection,
    actor: &AuthUser,
) -> AppResult<(market_repo::PaProfileRow, Candidate)> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = market_repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let evidence = evidence_by_pa(conn, std::slice::from_ref(&pa.id))?
        .remove(&pa.id)
        .unwrap_or_default();
    let signoffs = market_repo::signoffs_of_pa(conn, &pa.id)?
        .into_iter()
        .map(signoff_of)
        .collect();
    let c = candidate(&pa, evidence, signoffs);
    Ok((pa, c))
}

/// What `allowed` reads once per request: each person met (their record and needs), and the
/// PA's leave.
struct Seen {
    people: HashMap<String, (BudgetHolderRow, PersonNeeds)>,
    leave: Vec<(NaiveDate, NaiveDate)>,
}

impl Seen {
    fn new(conn: &mut DbConnection, me: &Candidate, from: NaiveDate) -> AppResult<Self> {
        let leave = market_repo::unavailability_between(
            conn,
            std::slice::from_ref(&me.pa_id),
            from,
            // Far enough for any shift offered; a real date, since SQLite compares dates as text.
            from + Duration::days(3_660),
        )?
        .into_iter()
        .map(|u| (u.starts_on, u.ends_on))
        .collect();
        Ok(Self {
            people: HashMap::new(),
            leave,
        })
    }

    fn person(
        &mut self,
        conn: &mut DbConnection,
        holder_id: &str,
    ) -> AppResult<&(BudgetHolderRow, PersonNeeds)> {
        if !self.people.contains_key(holder_id) {
            let holder =
                market_repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
            let needs = person_needs(conn, &holder)?;
            self.people.insert(holder_id.to_owned(), (holder, needs));
        }
        self.people.get(holder_id).ok_or(AppError::NotFound)
    }
}

/// Whether the PA may take the shift by the marketplace's rules, availability and leave.
fn allowed(
    conn: &mut DbConnection,
    seen: &mut Seen,
    me: &Candidate,
    shift: &RosterShiftRow,
) -> AppResult<bool> {
    let planned = crate::rostering::edit::planned_of(shift);
    let last = crate::time::london_local(planned.ends_at).date();
    let on_leave = seen
        .leave
        .iter()
        .any(|(a, b)| *a <= last && shift.shift_date <= *b);
    let (_, person) = seen.person(conn, &shift.budget_holder_id)?;
    let eligible = judge(person, me, shift.shift_date, &MatchPolicy::default(), false).eligible;
    Ok(eligible && !on_leave && available_for(me, &planned))
}

fn offer(
    shift: &RosterShiftRow,
    places_left: i64,
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
        district,
        distance_km: (distance_km * 10.0).round() / 10.0,
    }
}

pub fn list(
    conn: &mut DbConnection,
    actor: &AuthUser,
    now: DateTime<Utc>,
) -> AppResult<Vec<OpenShiftView>> {
    let (pa, me) = me(conn, actor)?;
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
    let mut seen = Seen::new(conn, &me, now.date_naive())?;
    let mut out = Vec::new();
    for (shift, taken) in
        repo::published_shifts_from(conn, &pa.organisation_id, now.naive_utc(), 2_000)?
    {
        if taken >= i64::from(shift.headcount)
            || declined.contains(&shift.id)
            || mine.contains(&shift.id)
            || !allowed(conn, &mut seen, &me, &shift)?
        {
            continue;
        }
        let (holder, person) = seen.person(conn, &shift.budget_holder_id)?;
        out.push(offer(
            &shift,
            i64::from(shift.headcount) - taken,
            holder.district.clone(),
            distance_km(me.location, person.location),
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
    let (pa, me) = me(conn, actor)?;
    let shift = repo::find_shift(conn, shift_id)?.ok_or(AppError::NotFound)?;
    let roster = repo::find_roster(conn, &shift.roster_id)?
        .filter(|r| r.organisation_id == pa.organisation_id && r.status == "published")
        .ok_or(AppError::NotFound)?;
    if shift.starts_at <= now.naive_utc() {
        return Err(AppError::Conflict {
            code: "shift_started",
            detail: "this shift has already started".into(),
        });
    }
    let mut seen = Seen::new(conn, &me, shift.shift_date)?;
    if !allowed(conn, &mut seen, &me, &shift)? {
        return Err(AppError::Forbidden);
    }
    let (holder, person) = seen.person(conn, &shift.budget_holder_id)?.clone();
    write_transaction(conn, |conn| {
        // The roster's row lock: acceptances of its shifts go one at a time, and each sees
        // every place taken before it.
        repo::touch_roster(conn, &roster.id, now.naive_utc())?;
        let on_shift = repo::pas_on_shift(conn, &shift.id)?;
        if on_shift.contains(&pa.id) {
            return Err(AppError::Conflict {
                code: "already_yours",
                detail: "you already have this shift".into(),
            });
        }
        if on_shift.len() >= usize::try_from(shift.headcount).unwrap_or(1) {
            return Err(AppError::Conflict {
                code: "already_taken",
                detail: "someone else took this shift first".into(),
            });
        }
        // Two acceptances by one PA on different rosters must not both pass the check.
        lock_pas(conn, &[me.pa_id.as_str()])?;
        if let Some((_, rule)) = first_clash(conn, &me.pa_id, &[&shift], None)? {
            return Err(AppError::field(
                "shift_id",
                rule,
                "taking this shift would break a working-time or booking rule for you",
            ));
        }
        let full = on_shift.len() + 1 >= usize::try_from(shift.headcount).unwrap_or(1);
        repo::add_assignment(
            conn,
            &RosterAssignmentRow {
                id: crate::ids::new_id(),
                roster_id: roster.id.clone(),
                roster_shift_id: shift.id.clone(),
                pa_id: pa.id.clone(),
                created_at: now.naive_utc(),
            },
            if full {
                None
            } else {
                Some("not_enough_for_two_to_one")
            },
        )?;
        // Commit this place's pay, as publishing does.
        let budget = crate::budgets::repo::approved_budget_on(
            conn,
            &shift.budget_holder_id,
            shift.shift_date,
        )?;
        if let Some(budget) = budget {
            let entries = commitments(
                &budget,
                &shift,
                place_pay(pa.min_hourly_pay_pence, &shift),
                format!(
                    "Open shift taken {} {}–{}, pay and holiday pay",
                    shift.shift_date, shift.start_local, shift.end_local
                ),
            );
            post_entries(conn, &budget, &holder, entries, Some(actor), now)?;
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
                after: Some(&serde_json::json!({"shift_id": shift.id, "pa_id": pa.id})),
            },
        )?;
        Ok(())
    })?;
    let places_left = i64::from(shift.headcount)
        - i64::try_from(repo::pas_on_shift(conn, &shift.id)?.len()).unwrap_or(0);
    Ok(offer(
        &shift,
        places_left,
        holder.district,
        distance_km(me.location, person.location),
    ))
}

/// A PA says no to an open shift: it is not offered to them again (nothing else changes).
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
        .filter(|r| r.organisation_id == pa.organisation_id && r.status == "published")
        .ok_or(AppError::NotFound)?;
    write_transaction(conn, |conn| {
        repo::decline(conn, &shift.id, &pa.id, now.naive_utc())
    })?;
    Ok(())
}

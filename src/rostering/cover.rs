//! Cover for shifts an absence opens: the interface the absence domain calls
//! (`open_for_absence`), the search rounds, the offers, and the manager's view.
//!
//! An absence takes the PA off each published shift it touches that has not started and that
//! they have not clocked in to: the roster's version moves, the pay committed to the person's
//! budget is released (as any edit releases it), the shift is open (`open_reason` `absence`) and
//! a cover request starts searching. Its first round runs in the same transaction, so offers are
//! in the outbox when the report is acknowledged; later rounds are jobs.
//!
//! Who is offered: the PAs the safety gate allows on the shift (every hard rule, on its own
//! dates, beside everything else they work), best matching score first, widening in tiers: the
//! person's team, then PAs within `NEARBY_KM`, then anyone eligible in the organisation. Each
//! round offers the next `OFFERS_PER_ROUND` PAs not yet offered, by e-mail through the outbox;
//! rounds come faster as the shift nears, until it is taken or starts. Taking it is the open-shift
//! acceptance (the first valid one wins under the roster's lock; 2:1 places as the gate says),
//! which marks the request covered and tells the person and their representative. The team
//! manager is told at once, sees the ranked candidates with why, and may offer it directly.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::market::model::{judge_on, MatchPolicy, ScorePart};
use crate::market::repo::{self as market_repo, candidates_of, pa_email, person_needs};
use crate::rostering::dto::{CoverCandidateView, CoverOfferView, CoverRequestView};
use crate::rostering::model::gate::{available_for, place_breaches};
use crate::rostering::repo::{self, CoverOfferRow, CoverRequestRow, RosterShiftRow};
use crate::rostering::safety::{gather, Staffed};

/// The job that runs a cover request's next round.
pub const COVER_ROUND: &str = "cover_round";
/// New PAs offered a shift in each round.
pub const OFFERS_PER_ROUND: usize = 5;
/// How near the person's home counts as nearby for the second tier.
pub const NEARBY_KM: f64 = 10.0;
/// PAs judged in full by the safety gate at once, best matching score first; more batches
/// only while too few are safe.
const JUDGED_PER_BATCH: usize = 15;
/// Safe PAs a round looks for: its own offers and the next round's, by tier.
const JUDGED_PER_ROUND: usize = 3 * OFFERS_PER_ROUND;
/// Safe PAs the manager's view lists.
const JUDGED_FOR_MANAGER: usize = 60;
/// How long before the shift the person is told if nobody has taken it.
pub const TELL_PERSON_HOURS: i64 = 4;
/// Why a shift an absence opened is open.
pub const OPENED_FOR_ABSENCE: &str = "absence";

/// The tiers a search widens through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Team = 1,
    Nearby = 2,
    Anyone = 3,
}

impl Tier {
    /// How far round `n` (from 1) reaches.
    pub fn of_round(n: i32) -> Self {
        match n {
            ..=1 => Self::Team,
            2 => Self::Nearby,
            _ => Self::Anyone,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Team => "the person's team",
            Self::Nearby => "nearby",
            Self::Anyone => "eligible in the organisation",
        }
    }
}

/// When the next round runs: a sixth of the time left, between five and thirty minutes.
pub fn next_round_in(starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let left = (starts_at - now).num_minutes().max(0);
    Duration::minutes((left / 6).clamp(5, 30))
}

/// A PA the gate allows on the shift, ranked.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub pa_id: String,
    pub display_name: String,
    pub tier: Tier,
    pub score: f64,
    pub distance_km: f64,
    pub breakdown: Vec<ScorePart>,
}

impl Ranked {
    fn reason(&self) -> String {
        let top: Vec<String> = self
            .breakdown
            .iter()
            .filter(|p| p.points > 0.0)
            .map(|p| p.explanation.clone())
            .take(3)
            .collect();
        format!(
            "{}; {:.1} km; score {:.1}{}{}",
            self.tier.as_str(),
            self.distance_km,
            self.score,
            if top.is_empty() { "" } else { ": " },
            top.join("; ")
        )
    }
}

/// The PAs the safety gate allows on `shift` now (besides those on it, and among those `admits`
/// lets through), ranked by tier then matching score, the first `wanted` of them: the one list
/// searches, direct offers and the manager's view read.
pub fn ranked_candidates(
    conn: &mut DbConnection,
    shift: &RosterShiftRow,
    admits: &dyn Fn(&str) -> bool,
    wanted: usize,
) -> AppResult<Vec<Ranked>> {
    let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
        .ok_or(AppError::NotFound)?;
    let needs = person_needs(conn, &holder)?;
    let on_shift = repo::pas_on_shift(conn, &shift.id)?;
    let team: HashSet<String> = market_repo::team(conn, &holder.id)?
        .into_iter()
        .map(|m| m.pa_id)
        .collect();
    let person = crate::geo::Location {
        latitude: holder.latitude,
        longitude: holder.longitude,
    };
    // Who could reach the person by their own travel distance, before reading more about them
    // (the matching rules ask it again).
    let reach: Vec<String> = repo::pas_within(
        conn,
        &holder.organisation_id,
        holder.latitude,
        holder.longitude,
        crate::market::model::MAX_TRAVEL_KM,
    )?
    .into_iter()
    .filter(|(id, latitude, longitude, travel_km)| {
        admits(id)
            && !on_shift.contains(id)
            && crate::geo::distance_km(
                crate::geo::Location {
                    latitude: *latitude,
                    longitude: *longitude,
                },
                person,
            ) <= *travel_km
    })
    .map(|(id, ..)| id)
    .collect();
    let rows = market_repo::pas_by_ids(conn, &reach)?;
    let declined: HashSet<String> = repo::declined_of_shift(conn, &shift.id)?
        .into_iter()
        .collect();
    let policy = MatchPolicy::default();
    // The matching rules on the day it starts screen the many; the whole gate judges the best.
    let mut screened: Vec<Ranked> = Vec::new();
    for c in candidates_of(conn, &rows)? {
        if declined.contains(&c.pa_id) {
            continue;
        }
        let whole = available_for(&c, shift.shift_date, &shift.start_local, &shift.end_local);
        let judged = judge_on(&needs, &c, shift.shift_date, &policy, false, Some(whole));
        if !judged.eligible {
            continue;
        }
        let tier = if team.contains(&c.pa_id) {
            Tier::Team
        } else if judged.distance_km <= NEARBY_KM {
            Tier::Nearby
        } else {
            Tier::Anyone
        };
        screened.push(Ranked {
            pa_id: c.pa_id.clone(),
            display_name: c.display_name.clone(),
            tier,
            score: judged.score,
            distance_km: judged.distance_km,
            breakdown: Vec::new(),
        });
    }
    screened.sort_by(|a, b| {
        a.tier
            .cmp(&b.tier)
            .then(b.score.total_cmp(&a.score))
            .then(a.pa_id.cmp(&b.pa_id))
    });
    // The whole gate for the best, a batch at a time, until enough are safe.
    let mut safe = Vec::new();
    for batch in screened.chunks(JUDGED_PER_BATCH) {
        if safe.len() >= wanted {
            break;
        }
        let more: Vec<String> = batch.iter().map(|r| r.pa_id.clone()).collect();
        let staffed = [Staffed {
            shift,
            pa_ids: on_shift.clone(),
            judged: true,
        }];
        let mut gathered = gather(conn, &staffed, &more, None)?;
        let others: Vec<usize> = on_shift
            .iter()
            .filter_map(|p| gathered.pa_index.get(p).copied())
            .collect();
        for r in batch {
            let Some(&p) = gathered.pa_index.get(&r.pa_id) else {
                continue;
            };
            let world = &mut gathered.world;
            world.on[0] = others.iter().copied().chain([p]).collect();
            if !place_breaches(world, 0, p).is_empty() {
                continue;
            }
            let person = &world.people[world.shifts[0].person];
            let explained = judge_on(
                person,
                &world.pas[p].candidate,
                shift.shift_date,
                &world.policy,
                true,
                Some(true),
            );
            safe.push(Ranked {
                breakdown: explained.breakdown,
                ..r.clone()
            });
        }
    }
    Ok(safe)
}

/// Takes `pa_id` off their published shifts dated `from` to `to` that have not started and that
/// they have not clocked in to, and starts a cover search for each (its first round included).
/// Inside the caller's transaction. Returns the cover requests opened.
pub fn open_for_absence(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    absence_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let start = crate::time::london_instant(from.and_time(chrono::NaiveTime::MIN));
    let end =
        crate::time::london_instant((to + Duration::days(1)).and_time(chrono::NaiveTime::MIN));
    let mut shifts: Vec<RosterShiftRow> =
        repo::pa_published_between(conn, pa_id, start.naive_utc(), end.naive_utc())?
            .into_iter()
            .filter(|s| s.starts_at.and_utc() > now && s.shift_date >= from && s.shift_date <= to)
            .collect();
    shifts.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
    let mut opened = Vec::new();
    for shift in shifts {
        if repo::clocked_in(conn, &shift.id, pa_id)? {
            continue;
        }
        let roster = repo::find_roster(conn, &shift.roster_id)?.ok_or(AppError::NotFound)?;
        let before = repo::pas_on_shift(conn, &shift.id)?;
        if !repo::remove_assignment(conn, &shift.id, pa_id, OPENED_FOR_ABSENCE)? {
            continue;
        }
        repo::touch_roster(conn, &roster.id, now.naive_utc())?;
        let after: Vec<String> = before.iter().filter(|p| *p != pa_id).cloned().collect();
        crate::rostering::edit::notify_and_commit(
            conn,
            actor,
            &roster,
            std::slice::from_ref(&shift),
            &[(0, after.clone())],
            std::slice::from_ref(&before),
            roster.version + 1,
            now,
        )?;
        let request = CoverRequestRow {
            id: crate::ids::new_id(),
            organisation_id: roster.organisation_id.clone(),
            roster_shift_id: shift.id.clone(),
            absence_id: Some(absence_id.to_owned()),
            absent_pa_id: pa_id.to_owned(),
            status: "searching".into(),
            round: 0,
            opened_at: now.naive_utc(),
            first_offers_at: None,
            covered_by: None,
            covered_at: None,
        };
        repo::insert_cover_request(conn, &request)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &roster.organisation_id,
                action: "roster.shift_opened_for_absence",
                entity_type: "roster",
                entity_id: &roster.id,
                before: Some(&serde_json::json!({"shift_id": shift.id, "pa_ids": before})),
                after: Some(
                    &serde_json::json!({"shift_id": shift.id, "pa_ids": after, "cover_request_id": request.id}),
                ),
            },
        )?;
        tell_manager(conn, &roster.team_manager_id, &shift, &request, now)?;
        run_round(conn, &request.id, now)?;
        opened.push(request.id);
    }
    Ok(opened)
}

/// An absence corrected to fewer days (`from` to `to` now): each shift it opened that falls
/// outside them, still searching and not started, is offered back to the absent PA when the
/// gate allows them. They take it back as anyone takes an open shift (acceptance, under the
/// roster's lock), so the search goes on meanwhile and the first valid acceptance wins.
/// Inside the caller's transaction. Returns the cover requests offered back.
pub fn absence_shortened(
    conn: &mut DbConnection,
    actor: &AuthUser,
    absence_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let mut offered_back = Vec::new();
    for (request, shift) in repo::searching_for_absence(conn, absence_id)? {
        if (from..=to).contains(&shift.shift_date) || shift.starts_at.and_utc() <= now {
            continue;
        }
        let admits = |id: &str| id == request.absent_pa_id;
        let ranked = ranked_candidates(conn, &shift, &admits, 1)?;
        let Some(back) = ranked.first() else {
            continue;
        };
        // An offer already made stands (offers and their e-mails are written once).
        offer_recorded(
            conn,
            actor,
            &request,
            &shift,
            back,
            "cover.offered_back",
            now,
        )?;
        offered_back.push(request.id);
    }
    Ok(offered_back)
}

fn local_words(shift: &RosterShiftRow) -> String {
    format!(
        "{} {}–{}",
        shift.shift_date, shift.start_local, shift.end_local
    )
}

fn user_email(conn: &mut DbConnection, user_id: &str) -> AppResult<Option<String>> {
    Ok(crate::accounts::repo::find_user(conn, user_id)?.and_then(|u| u.email))
}

fn tell_manager(
    conn: &mut DbConnection,
    manager_id: &str,
    shift: &RosterShiftRow,
    request: &CoverRequestRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(email) = user_email(conn, manager_id)? else {
        return Ok(());
    };
    crate::mail::enqueue(
        conn,
        crate::mail::NewEmail {
            organisation_id: Some(request.organisation_id.clone()),
            dedupe_key: format!("cover_opened:{}", request.id),
            recipient: email,
            subject: "A shift needs cover".into(),
            body: format!(
                "A PA is absent for the shift {}. It is open and the search for cover has \
                 begun; see cover request {} for the PAs offered it and who else could take it.\n",
                local_words(shift),
                request.id
            ),
        },
        now,
    )?;
    Ok(())
}

/// One round of a cover request's search: offers the next PAs, widening the tier when the
/// current one has nobody new; marks it uncovered once the shift has started; tells the person
/// when it is near and still open; schedules the next round. Run again for the same round, it
/// offers nobody twice.
pub fn run_round(conn: &mut DbConnection, request_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    let Some(request) = repo::find_cover_request(conn, request_id)? else {
        return Ok(());
    };
    if request.status != "searching" {
        return Ok(());
    }
    let shift = repo::find_shift(conn, &request.roster_shift_id)?.ok_or(AppError::NotFound)?;
    let starts_at = shift.starts_at.and_utc();
    if starts_at <= now {
        repo::update_cover_request(conn, &request.id, "uncovered", request.round, None)?;
        return Ok(());
    }
    let offered: HashSet<String> = repo::offers_of(conn, &request.id)?
        .into_iter()
        .map(|o| o.pa_id)
        .collect();
    let admits = |id: &str| id != request.absent_pa_id && !offered.contains(id);
    let ranked = ranked_candidates(conn, &shift, &admits, JUDGED_PER_ROUND)?;
    // Each round reaches one tier further (the team, then nearby, then anyone eligible) and
    // offers the best PAs not yet offered within its reach; a round whose reach holds nobody
    // new widens at once.
    let mut round = request.round + 1;
    let chosen: Vec<&Ranked> = loop {
        let reach = Tier::of_round(round);
        let within: Vec<&Ranked> = ranked
            .iter()
            .filter(|r| r.tier <= reach)
            .take(OFFERS_PER_ROUND)
            .collect();
        if !within.is_empty() || reach == Tier::Anyone {
            break within;
        }
        round += 1;
    };
    offer(conn, &request, &shift, &chosen, round, None, now)?;
    repo::update_cover_request(conn, &request.id, "searching", round, None)?;
    if starts_at - now <= Duration::hours(TELL_PERSON_HOURS) {
        tell_person(conn, &request, &shift, false, now)?;
    }
    crate::jobs::enqueue(
        conn,
        crate::jobs::NewJob {
            kind: COVER_ROUND.into(),
            payload: serde_json::json!({"cover_request_id": request.id}),
            run_at: (now + next_round_in(starts_at, now)).min(starts_at),
            dedupe_key: Some(format!("{COVER_ROUND}:{}:{round}", request.id)),
            max_attempts: 3,
        },
        now,
    )?;
    Ok(())
}

/// One offer made by someone (a manager, or their correction of an absence), in the request's
/// current round, with the audit trail's `action`.
fn offer_recorded(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: &CoverRequestRow,
    shift: &RosterShiftRow,
    chosen: &Ranked,
    action: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    offer(
        conn,
        request,
        shift,
        &[chosen],
        request.round,
        Some(&actor.user_id),
        now,
    )?;
    audit::record(
        conn,
        Some(actor),
        Change::<(), _> {
            organisation_id: &request.organisation_id,
            action,
            entity_type: "cover_request",
            entity_id: &request.id,
            before: None,
            after: Some(&serde_json::json!({"pa_id": chosen.pa_id})),
        },
    )
}

/// Writes the offers and e-mails each PA.
fn offer(
    conn: &mut DbConnection,
    request: &CoverRequestRow,
    shift: &RosterShiftRow,
    chosen: &[&Ranked],
    round: i32,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if chosen.is_empty() {
        return Ok(());
    }
    let rows: Vec<CoverOfferRow> = chosen
        .iter()
        .map(|r| CoverOfferRow {
            cover_request_id: request.id.clone(),
            pa_id: r.pa_id.clone(),
            round,
            score: r.score,
            reason: r.reason(),
            offered_by: by.map(str::to_owned),
            offered_at: now.naive_utc(),
        })
        .collect();
    repo::insert_offers(conn, &rows)?;
    repo::mark_first_offers(conn, &request.id, now.naive_utc())?;
    for r in chosen {
        let Some(pa) = market_repo::find_pa(conn, &r.pa_id)? else {
            continue;
        };
        let Some(email) = pa_email(conn, &pa)? else {
            continue;
        };
        crate::mail::enqueue(
            conn,
            crate::mail::NewEmail {
                organisation_id: Some(request.organisation_id.clone()),
                dedupe_key: format!("cover_offer:{}:{}", request.id, pa.id),
                recipient: email,
                subject: "Can you cover a shift?".into(),
                body: format!(
                    "Hello {},\n\nA shift needs cover: {}. It is in your open shifts in the app; \
                     the first to accept it takes it.\n",
                    pa.display_name,
                    local_words(shift)
                ),
            },
            now,
        )?;
    }
    Ok(())
}

/// Tells the person (and their representative) that cover was found, or, once, that it is not
/// found yet.
fn tell_person(
    conn: &mut DbConnection,
    request: &CoverRequestRow,
    shift: &RosterShiftRow,
    found: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(holder) = market_repo::find_budget_holder(conn, &shift.budget_holder_id)? else {
        return Ok(());
    };
    let recipients: Vec<String> = [
        holder.user_id.as_deref(),
        holder.representative_user_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::to_owned)
    .collect();
    let (key, subject, body) = if found {
        (
            "cover_found",
            "Cover found for your shift",
            format!(
                "Hello {},\n\nSomeone is now booked for {} in place of your PA who is absent.\n",
                holder.display_name,
                local_words(shift)
            ),
        )
    } else {
        (
            "cover_not_yet_found",
            "Cover not yet found for your shift",
            format!(
                "Hello {},\n\nYour PA for {} is absent and nobody has taken the shift yet. \
                 Your team manager knows and the search goes on.\n",
                holder.display_name,
                local_words(shift)
            ),
        )
    };
    for user in recipients {
        let Some(email) = user_email(conn, &user)? else {
            continue;
        };
        crate::mail::enqueue(
            conn,
            crate::mail::NewEmail {
                organisation_id: Some(request.organisation_id.clone()),
                dedupe_key: format!("{key}:{}:{user}", request.id),
                recipient: email,
                subject: subject.into(),
                body: body.clone(),
            },
            now,
        )?;
    }
    Ok(())
}

/// Called when a PA takes a place on a shift (the open-shift acceptance, inside its
/// transaction): the shift's oldest searching request is covered, and the person told.
pub fn taken(
    conn: &mut DbConnection,
    shift: &RosterShiftRow,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(request) = repo::searching_on_shift(conn, &shift.id)?
        .into_iter()
        .next()
    {
        if repo::update_cover_request(
            conn,
            &request.id,
            "covered",
            request.round,
            Some((pa_id, now.naive_utc())),
        )? {
            tell_person(conn, &request, shift, true, now)?;
        }
    }
    Ok(())
}

fn request_in_view(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request_id: &str,
) -> AppResult<(CoverRequestRow, RosterShiftRow)> {
    let request = repo::find_cover_request(conn, request_id)?.ok_or(AppError::NotFound)?;
    let shift = repo::find_shift(conn, &request.roster_shift_id)?.ok_or(AppError::NotFound)?;
    let roster = repo::find_roster(conn, &shift.roster_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Update, roster.resource())?;
    Ok((request, shift))
}

fn view(
    conn: &mut DbConnection,
    request: &CoverRequestRow,
    shift: &RosterShiftRow,
    candidates: Option<Vec<Ranked>>,
) -> AppResult<CoverRequestView> {
    let offers = repo::offers_of(conn, &request.id)?;
    Ok(view_with(request, shift, offers, candidates))
}

fn view_with(
    request: &CoverRequestRow,
    shift: &RosterShiftRow,
    offers: Vec<CoverOfferRow>,
    candidates: Option<Vec<Ranked>>,
) -> CoverRequestView {
    let offers = offers
        .into_iter()
        .map(|o| CoverOfferView {
            pa_id: o.pa_id,
            round: o.round,
            score: o.score,
            reason: o.reason,
            offered_by: o.offered_by,
            offered_at: o.offered_at.and_utc(),
        })
        .collect();
    CoverRequestView {
        id: request.id.clone(),
        roster_shift_id: shift.id.clone(),
        budget_holder_id: shift.budget_holder_id.clone(),
        date: shift.shift_date,
        start: shift.start_local.clone(),
        end: shift.end_local.clone(),
        starts_at: shift.starts_at.and_utc(),
        absent_pa_id: request.absent_pa_id.clone(),
        absence_id: request.absence_id.clone(),
        status: request.status.clone(),
        round: request.round,
        opened_at: request.opened_at.and_utc(),
        first_offers_at: request.first_offers_at.map(|t| t.and_utc()),
        covered_by: request.covered_by.clone(),
        covered_at: request.covered_at.map(|t| t.and_utc()),
        minutes_to_first_offers: request
            .first_offers_at
            .map(|t| (t - request.opened_at).num_milliseconds() as f64 / 60_000.0),
        offers,
        candidates: candidates.map(|list| {
            list.into_iter()
                .map(|r| CoverCandidateView {
                    reason: r.reason(),
                    pa_id: r.pa_id,
                    display_name: r.display_name,
                    tier: r.tier as i32,
                    score: r.score,
                    distance_km: (r.distance_km * 10.0).round() / 10.0,
                    breakdown: r.breakdown,
                })
                .collect()
        }),
    }
}

/// A cover request with every PA the gate allows on the shift now, ranked, and the offers made.
/// Who may call: the team manager of the roster and admins.
pub fn read(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request_id: &str,
) -> AppResult<CoverRequestView> {
    let (request, shift) = request_in_view(conn, actor, request_id)?;
    let ranked = if request.status == "searching" {
        let admits = |id: &str| id != request.absent_pa_id;
        ranked_candidates(conn, &shift, &admits, JUDGED_FOR_MANAGER)?
    } else {
        Vec::new()
    };
    view(conn, &request, &shift, Some(ranked))
}

/// The organisation's cover requests in a status (`searching` by default), the soonest shift
/// first: what needs cover most urgently on top. Who may call: team managers and admins.
pub fn list(
    conn: &mut DbConnection,
    actor: &AuthUser,
    status: &str,
) -> AppResult<Vec<CoverRequestView>> {
    // Team managers and admins, as for the organisation's PAs.
    authorize(
        actor,
        Action::Read,
        Resource::PaDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let found = repo::cover_requests_in(conn, &actor.organisation_id, status, 500)?;
    let ids: Vec<String> = found.iter().map(|(r, _)| r.id.clone()).collect();
    let mut offers: std::collections::HashMap<String, Vec<CoverOfferRow>> =
        std::collections::HashMap::new();
    for o in repo::offers_of_requests(conn, &ids)? {
        offers
            .entry(o.cover_request_id.clone())
            .or_default()
            .push(o);
    }
    Ok(found
        .iter()
        .map(|(request, shift)| {
            let made = offers.remove(&request.id).unwrap_or_default();
            view_with(request, shift, made, None)
        })
        .collect())
}

/// The manager offers the shift to a PA directly; the gate must allow them. Who may call: the
/// team manager of the roster and admins.
pub fn offer_directly(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request_id: &str,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<CoverRequestView> {
    let (request, shift) = request_in_view(conn, actor, request_id)?;
    if request.status != "searching" {
        return Err(AppError::Conflict {
            code: crate::error::ConflictCode::CoverNotSearching,
            detail: format!("this cover request is {}", request.status),
        });
    }
    let admits = |id: &str| id == pa_id && id != request.absent_pa_id;
    let ranked = ranked_candidates(conn, &shift, &admits, 1)?;
    let Some(chosen) = ranked.first() else {
        return Err(AppError::field(
            "pa_id",
            "not_eligible",
            "is not a PA the safety gate allows on this shift now",
        ));
    };
    crate::db::write_transaction(conn, |conn| {
        offer_recorded(conn, actor, &request, &shift, chosen, "cover.offered", now)
    })?;
    view(conn, &request, &shift, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_come_faster_as_the_shift_nears() {
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        assert_eq!(
            next_round_in(now + Duration::days(2), now),
            Duration::minutes(30)
        );
        assert_eq!(
            next_round_in(now + Duration::hours(2), now),
            Duration::minutes(20)
        );
        assert_eq!(
            next_round_in(now + Duration::minutes(20), now),
            Duration::minutes(5)
        );
        assert_eq!(
            next_round_in(now - Duration::minutes(1), now),
            Duration::minutes(5)
        );
    }
}

//! Generating a draft roster: the people's planned shifts, the PAs the marketplace's hard rules
//! allow for each, and the optimiser's best assignment within the time limit, stored whole.

use crate::money::Pence;
use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, FieldError};
use crate::geo::distance_km;
use crate::market::index::{self, MatchIndex};
use crate::market::model::{Candidate, MatchPolicy, ShiftKind};
use crate::market::repo::holder_resource;
use crate::market::repo::person_needs;
use crate::market::repo::{self as market_repo, BudgetHolderRow};
use crate::rostering::dto::*;
use crate::rostering::model::gate::{may_work_each, GatePa, GateShift, PreparedShifts};
use crate::rostering::model::PlannedShift;
use crate::rostering::model::RosterStatus;
use crate::rostering::repo::{self, RosterAssignmentRow, RosterRow, RosterShiftRow};
use crate::rostering::solver::{
    self, HardRule, Limits, OpenReason, Problem, Task, Weights, Worker,
};
use crate::time::london_instant;

/// The longest roster in one run.
pub(crate) const MAX_DAYS: i64 = 42;

fn reason_code(reason: OpenReason) -> &'static str {
    match reason {
        OpenReason::NoQualifiedPa => "no_qualified_pa",
        OpenReason::NotEnoughForTwoToOne => "not_enough_for_two_to_one",
        OpenReason::Blocked(HardRule::DailyRest) => "daily_rest",
        OpenReason::Blocked(HardRule::WeeklyRest) => "weekly_rest",
        OpenReason::Blocked(HardRule::WeeklyHours) => "weekly_hours",
        OpenReason::Blocked(HardRule::Contract) => "contract",
        OpenReason::Blocked(_) => "double_booking_or_travel",
    }
}

pub fn generate(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    request: GenerateRoster,
    now: DateTime<Utc>,
) -> AppResult<RosterView> {
    generate_reporting(
        conn,
        match_index,
        actor,
        request,
        now,
        &mut |_, _| {},
        |_, _| Ok(()),
    )
}

/// The dates a roster may cover: `to` not before `from`, and at most `MAX_DAYS`.
pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::field(
            "to",
            "before_from",
            "must not be before from",
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::field(
            "to",
            "range",
            "a roster covers at most 42 days",
        ));
    }
    Ok(())
}

/// `generate`, telling `report` how the search goes (with the connection, to record it), and
/// writing `also` in the roster's own transaction (a run marked done, say).
pub(crate) fn generate_reporting(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    request: GenerateRoster,
    now: DateTime<Utc>,
    report: &mut dyn FnMut(&mut DbConnection, solver::Report),
    also: impl FnOnce(&mut DbConnection, &str) -> AppResult<()>,
) -> AppResult<RosterView> {
    let started = std::time::Instant::now();
    crate::auth::policy::must_manage_workforce(actor)?;
    check_range(request.from, request.to)?;
    let holders: Vec<BudgetHolderRow> = match &request.budget_holder_ids {
        Some(ids) => {
            let mut rows = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let row = crate::ids::parse_id(id)
                    .map(|id| market_repo::find_budget_holder(conn, &id))
                    .transpose()?
                    .flatten()
                    .filter(|h| h.organisation_id == actor.organisation_id && h.active)
                    .ok_or_else(|| {
                        AppError::Validation(vec![FieldError::new(
                            format!("budget_holder_ids[{i}]"),
                            "not_found",
                            "is not a person of this organisation",
                        )])
                    })?;
                authorize(actor, Action::Administer, holder_resource(&row))?;
                rows.push(row);
            }
            rows
        }
        None => {
            market_repo::active_budget_holders(conn, std::slice::from_ref(&actor.organisation_id))?
                .into_iter()
                .filter(|h| h.team_manager_id == actor.user_id)
                .collect()
        }
    };
    if holders.is_empty() {
        return Err(AppError::field(
            "budget_holder_ids",
            "required",
            "names nobody this caller rosters",
        ));
    }
    let team_manager_id =
        crate::auth::policy::own_team_manager_or(actor, &holders[0].team_manager_id).to_owned();

    let (planned, Built { problem, pa_ids }) =
        problem_for(conn, match_index, actor, &holders, &request)?;
    let solution = solver::solve_reporting(
        &problem,
        search_limits(&request, started),
        &mut |progress| report(conn, progress),
    );
    let tasks: Vec<usize> = (0..planned.len()).collect();
    let draft = Draft::of(
        actor,
        team_manager_id,
        &request,
        (&holders, &planned, &pa_ids),
        &tasks,
        &solution,
        score_view(&solution.score, &solution),
        now,
    )?;
    write_transaction(conn, |conn| {
        draft.store(conn, actor, "team")?;
        also(conn, &draft.roster.id)
    })?;
    let mut out = view(&draft.roster, &draft.shifts, &draft.assignments)?;
    out.cost_against_budget = costs(
        conn,
        &draft.roster,
        &draft.shifts,
        &draft.assignments,
        now.date_naive(),
    )?;
    Ok(out)
}

/// How many searches an organisation's roster runs at once (parts sharing no PA): the job
/// shares its machine with the API.
const ORGANISATION_THREADS: usize = 2;

/// Every active person of the organisation rostered together (`solver::solve_groups`), so no
/// PA is booked twice across teams: one draft roster per team manager, all written in one
/// transaction with `also` (the run marked done, naming them). Admins only. Returns the whole
/// roster's score and the moves tried.
pub(crate) fn generate_organisation(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    request: GenerateRoster,
    now: DateTime<Utc>,
    report: &mut dyn FnMut(&mut DbConnection, solver::Report),
    also: impl FnOnce(&mut DbConnection, &[String]) -> AppResult<()>,
) -> AppResult<(i64, u64)> {
    let started = std::time::Instant::now();
    crate::auth::policy::must_roster_organisation(actor)?;
    check_range(request.from, request.to)?;
    let mut holders =
        market_repo::active_budget_holders(conn, std::slice::from_ref(&actor.organisation_id))?;
    for holder in &holders {
        authorize(actor, Action::Administer, holder_resource(holder))?;
    }
    if holders.is_empty() {
        return Err(AppError::field(
            "scope",
            "nobody",
            "the organisation has nobody to roster",
        ));
    }
    // Team by team, in a stable order.
    holders.sort_by(|a, b| (&a.team_manager_id, &a.id).cmp(&(&b.team_manager_id, &b.id)));
    let (planned, Built { problem, pa_ids }) =
        problem_for(conn, match_index, actor, &holders, &request)?;
    let mut teams: Vec<(String, Vec<usize>)> = Vec::new();
    for (t, (person, _)) in planned.iter().enumerate() {
        let manager = &holders[*person].team_manager_id;
        match teams.last_mut() {
            Some((m, tasks)) if m == manager => tasks.push(t),
            _ => teams.push((manager.clone(), vec![t])),
        }
    }
    let groups: Vec<Vec<usize>> = teams.iter().map(|(_, tasks)| tasks.clone()).collect();
    let solution = solver::solve_groups(
        &problem,
        &groups,
        search_limits(&request, started),
        ORGANISATION_THREADS,
        &mut |progress| report(conn, progress),
    );
    // Each team's roster is scored as its part: its shifts, with its PAs' other work.
    let drafts: Vec<Draft> = teams
        .into_iter()
        .map(|(manager, tasks)| {
            let part = solver::Part::of(&problem, &tasks, Some(&solution.assignments));
            let score = solver::score_of(&part.problem, &part.assignments(&solution.assignments));
            Draft::of(
                actor,
                manager,
                &request,
                (&holders, &planned, &pa_ids),
                &tasks,
                &solution,
                score_view(&score, &solution),
                now,
            )
        })
        .collect::<AppResult<_>>()?;
    let ids: Vec<String> = drafts.iter().map(|d| d.roster.id.clone()).collect();
    write_transaction(conn, |conn| {
        for draft in &drafts {
            draft.store(conn, actor, "organisation")?;
        }
        also(conn, &ids)
    })?;
    Ok((solution.score.total, solution.moves))
}

/// The least share of the time limit the search gets, however long reading the people and PAs
/// took.
const LEAST_SEARCH_SHARE: f64 = 0.5;

/// The search's limits: the time limit is the caller's, counted from `started` (building the
/// problem takes its part; on an organisation, a second or two), with at least half for the
/// search.
fn search_limits(request: &GenerateRoster, started: std::time::Instant) -> Limits {
    let limits = limits_of(request);
    Limits {
        time: limits
            .time
            .saturating_sub(started.elapsed())
            .max(limits.time.mul_f64(LEAST_SEARCH_SHARE)),
        ..limits
    }
}

fn limits_of(request: &GenerateRoster) -> Limits {
    Limits {
        time: Duration::from_millis(request.time_limit_ms.unwrap_or(2_000)),
        moves: u64::MAX,
        seed: request.seed.unwrap_or(1),
    }
}

/// Each person's planned shifts over the request's dates (with the person's index), and the
/// optimiser's problem for them.
fn problem_for(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    holders: &[BudgetHolderRow],
    request: &GenerateRoster,
) -> AppResult<(Vec<(usize, PlannedShift)>, Built)> {
    let (from, to) = (request.from, request.to);
    let mut planned = Vec::new();
    for (person, holder) in holders.iter().enumerate() {
        for shift in crate::rostering::service::planned_shifts(conn, actor, &holder.id, from, to)? {
            planned.push((person, shift));
        }
    }
    let built = build(
        conn,
        match_index,
        actor,
        holders,
        &planned,
        (from, to),
        None,
    )?;
    Ok((planned, built))
}

fn score_view(s: &solver::Score, solution: &solver::Solution) -> ScoreView {
    let hours = |minutes: i64| (minutes as f64 / 60.0 * 100.0).round() / 100.0;
    ScoreView {
        total: s.total,
        open_hours: hours(s.open_minutes),
        pa_person_pairs: s.distinct_pairs,
        outside_core_team_hours: hours(s.outside_team_minutes),
        hours_over_wanted: hours(s.over_wanted_minutes),
        hours_under_wanted: hours(s.under_wanted_minutes),
        nights_and_weekends_spread: s.fairness,
        travel_km: s.travel_km,
        pay_pence: s.pay_pence,
        moves_tried: solution.moves,
        first_roster_ms: solution.construction_ms,
    }
}

/// One draft roster's rows, from the solution for some of the planned shifts.
struct Draft {
    roster: RosterRow,
    shifts: Vec<RosterShiftRow>,
    assignments: Vec<RosterAssignmentRow>,
    open: usize,
}

impl Draft {
    #[expect(
        clippy::too_many_arguments,
        reason = "the roster's owner, request, people, shifts and solution, each needed"
    )]
    fn of(
        actor: &AuthUser,
        team_manager_id: String,
        request: &GenerateRoster,
        (holders, planned, pa_ids): (&[BudgetHolderRow], &[(usize, PlannedShift)], &[String]),
        tasks: &[usize],
        solution: &solver::Solution,
        score: ScoreView,
        now: DateTime<Utc>,
    ) -> AppResult<Self> {
        let limits = limits_of(request);
        let roster = RosterRow {
            id: crate::ids::new_id(),
            organisation_id: actor.organisation_id.clone(),
            team_manager_id,
            from_date: request.from,
            to_date: request.to,
            status: RosterStatus::Draft.as_str().into(),
            version: 1,
            seed: i64::try_from(limits.seed).unwrap_or(i64::MAX),
            time_limit_ms: i64::try_from(limits.time.as_millis()).unwrap_or(i64::MAX),
            score: crate::db::json::to_text(&score)?,
            created_by: actor.user_id.clone(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        let open: HashMap<usize, OpenReason> = solution.open.iter().copied().collect();
        let mut shifts = Vec::new();
        let mut assignments = Vec::new();
        for &t in tasks {
            let (person, shift) = &planned[t];
            let id = crate::ids::new_id();
            for &w in &solution.assignments[t] {
                assignments.push(RosterAssignmentRow {
                    id: crate::ids::new_id(),
                    roster_id: roster.id.clone(),
                    roster_shift_id: id.clone(),
                    pa_id: candidates_id(pa_ids, w),
                    created_at: now.naive_utc(),
                    given_at: None,
                });
            }
            shifts.push(RosterShiftRow {
                id,
                roster_id: roster.id.clone(),
                budget_holder_id: holders[*person].id.clone(),
                shift_date: shift.date,
                start_local: shift.start.clone(),
                end_local: shift.end.clone(),
                starts_at: shift.starts_at.naive_utc(),
                ends_at: shift.ends_at.naive_utc(),
                kind: shift.kind.as_str().to_owned(),
                headcount: i32::from(shift.headcount),
                source: shift.source.clone(),
                support_change_id: shift.change_id.clone(),
                open_reason: open.get(&t).map(|r| reason_code(*r).to_owned()),
            });
        }
        let open = shifts.iter().filter(|s| s.open_reason.is_some()).count();
        Ok(Self {
            roster,
            shifts,
            assignments,
            open,
        })
    }

    /// Writes the roster and its audit entry (in the caller's transaction).
    fn store(&self, conn: &mut DbConnection, actor: &AuthUser, scope: &str) -> AppResult<()> {
        repo::insert_roster(conn, &self.roster, &self.shifts, &self.assignments)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &self.roster.organisation_id,
                action: "roster.generated",
                entity_type: "roster",
                entity_id: &self.roster.id,
                before: None,
                after: Some(&serde_json::json!({
                    "from": self.roster.from_date,
                    "to": self.roster.to_date,
                    "seed": self.roster.seed,
                    "scope": scope,
                    "shifts": self.shifts.len(),
                    "open": self.open,
                })),
            },
        )
    }
}

/// The optimiser's problem for these people and shifts: the PAs the hard rules allow on each
/// shift, and what the soft goals weigh. `pa_ids` names the workers by index.
pub(crate) struct Built {
    pub problem: Problem,
    pub pa_ids: Vec<String>,
}

pub(crate) fn build(
    conn: &mut DbConnection,
    match_index: &MatchIndex,
    actor: &AuthUser,
    holders: &[BudgetHolderRow],
    planned: &[(usize, PlannedShift)],
    (from, to): (NaiveDate, NaiveDate),
    this_roster: Option<&str>,
) -> AppResult<Built> {
    let revision = market_repo::market_revision(conn, &actor.organisation_id)?;
    let organisation = match_index.current_at(conn, &actor.organisation_id, revision)?;
    let pas = index::read(&organisation);
    let mut people = Vec::new();
    for holder in holders {
        people.push(person_needs(conn, holder)?);
    }
    // The PAs who could work for anyone here at all (a superset: the gate judges each), and
    // for whom: a team's few dozen of an organisation's thousands.
    let possible: Vec<Vec<usize>> = people
        .iter()
        .map(|p| {
            let mut slots = pas.possible_for(p, crate::market::model::MAX_TRAVEL_KM);
            slots.sort_unstable();
            slots
        })
        .collect();
    let mut slots: Vec<usize> = possible.iter().flatten().copied().collect();
    slots.sort_unstable();
    slots.dedup();
    let candidates: Vec<&Candidate> = slots.iter().map(|&slot| pas.candidate(slot)).collect();
    let pa_ids: Vec<String> = candidates.iter().map(|c| c.pa_id.clone()).collect();
    let mut leave: HashMap<String, Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for row in
        market_repo::unavailability_between(conn, &pa_ids, from, to + chrono::Duration::days(1))?
    {
        leave
            .entry(row.pa_id)
            .or_default()
            .push((row.starts_on, row.ends_on));
    }
    let policy = MatchPolicy::default();
    let gate_pas: Vec<GatePa> = candidates
        .iter()
        .map(|c| {
            let leave = leave.remove(&c.pa_id).unwrap_or_default();
            GatePa::new((*c).clone(), true, leave, None, &policy)
        })
        .collect();
    let epoch = london_instant(from.and_time(chrono::NaiveTime::MIN));
    let minute = |t: DateTime<Utc>| (t - epoch).num_minutes();
    // The safety gate's rules about each PA and person, on each shift's own dates; the
    // solver keeps the working-time rules.
    let gate_shifts: Vec<GateShift> = planned
        .iter()
        .map(|(person, shift)| GateShift {
            id: String::new(),
            person: *person,
            date: shift.date,
            start: shift.start.clone(),
            end: shift.end.clone(),
            starts_at: shift.starts_at,
            ends_at: shift.ends_at,
            headcount: shift.headcount,
            window: (from, to),
        })
        .collect();
    let mut eligible: Vec<Vec<usize>> = vec![Vec::new(); planned.len()];
    let mut shifts_of: Vec<Vec<usize>> = vec![Vec::new(); people.len()];
    for (t, (person, _)) in planned.iter().enumerate() {
        shifts_of[*person].push(t);
    }
    for (person, needs) in people.iter().enumerate() {
        let theirs = &shifts_of[person];
        if theirs.is_empty() {
            continue;
        }
        let shifts = PreparedShifts::new(theirs.iter().map(|&t| &gate_shifts[t]).collect());
        for slot in &possible[person] {
            let Ok(w) = slots.binary_search(slot) else {
                continue;
            };
            let pa = &gate_pas[w];
            for (k, may) in may_work_each(needs, pa, &shifts, &policy)
                .into_iter()
                .enumerate()
            {
                if may {
                    eligible[theirs[k]].push(w);
                }
            }
        }
    }
    let tasks: Vec<Task> = planned
        .iter()
        .zip(eligible)
        .map(|((person, shift), eligible)| Task {
            person: *person,
            start: minute(shift.starts_at),
            end: minute(shift.ends_at),
            headcount: shift.headcount,
            night: shift.kind != ShiftKind::Day || shift.end <= shift.start,
            weekend: matches!(shift.date.weekday(), Weekday::Sat | Weekday::Sun),
            eligible,
            fixed: false,
            ..Default::default()
        })
        .collect();
    // Shifts these PAs already work on other published rosters (other people, other managers)
    // around the range: fixed, so rest, bookings and hours see them.
    let mut locations: Vec<crate::geo::Location> = people.iter().map(|p| p.location).collect();
    let mut tasks = tasks;
    let worker_of: HashMap<&str, usize> = pa_ids
        .iter()
        .enumerate()
        .map(|(w, id)| (id.as_str(), w))
        .collect();
    let mut elsewhere: Vec<String> = Vec::new();
    // Through the roster's last whole week and a day: the weekly cap counts that work. Places
    // of 2:1 shifts the PAs hold count as worked, as the safety gate counts them.
    let (around_from, around_to) = (
        (epoch - chrono::Duration::days(1)).naive_utc(),
        london_instant(
            (from + chrono::Duration::days(7 * ((to - from).num_days() / 7 + 1) + 1))
                .and_time(chrono::NaiveTime::MIN),
        )
        .naive_utc(),
    );
    let mut around =
        repo::published_of_pas_between(conn, &pa_ids, around_from, around_to, this_roster)?;
    around.extend(repo::held_by_pas_between(
        conn,
        &pa_ids,
        around_from,
        around_to,
    )?);
    for (pa_id, shift) in around {
        let Some(&w) = worker_of.get(pa_id.as_str()) else {
            continue;
        };
        let person = match holders.iter().position(|h| h.id == shift.budget_holder_id) {
            Some(i) => i,
            None => match elsewhere.iter().position(|h| *h == shift.budget_holder_id) {
                Some(i) => people.len() + i,
                None => {
                    let holder = market_repo::find_budget_holder(conn, &shift.budget_holder_id)?
                        .ok_or(AppError::NotFound)?;
                    locations.push(crate::geo::Location {
                        latitude: holder.latitude,
                        longitude: holder.longitude,
                    });
                    elsewhere.push(holder.id);
                    locations.len() - 1
                }
            },
        };
        tasks.push(Task {
            person,
            start: minute(shift.starts_at.and_utc()),
            end: minute(shift.ends_at.and_utc()),
            headcount: 1,
            night: false,
            weekend: false,
            eligible: vec![w],
            fixed: true,
            ..Default::default()
        });
    }
    let caps = crate::rostering::working_time::caps(conn, &pa_ids, (from, to))?;
    let mut core_teams: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, person) in people.iter().enumerate() {
        for pa in &person.team {
            core_teams.entry(pa.as_str()).or_default().push(i);
        }
    }
    let workers: Vec<Worker> = candidates
        .iter()
        .map(|c| Worker {
            contract: None,
            max_minutes_per_week: caps
                .get(&c.pa_id)
                .copied()
                .unwrap_or(crate::rostering::working_time::UNCAPPED),
            wanted_minutes_per_week: i64::from(c.wanted_minutes),
            hourly_pay_pence: c.min_hourly_pay_pence,
            km_to_person: locations
                .iter()
                .map(|l| distance_km(c.location, *l))
                .collect(),
            core_team_of: core_teams.remove(c.pa_id.as_str()).unwrap_or_default(),
        })
        .collect();
    let travel_minutes = crate::geo::travel_matrix(&locations);
    let days = (to - from).num_days() + 1;
    Ok(Built {
        problem: Problem {
            days: 0,
            cannot_follow: Vec::new(),
            covers: Vec::new(),
            tasks,
            workers,
            people: locations.len(),
            travel_minutes,
            weeks: usize::try_from((days + 6) / 7).unwrap_or(1),
            rules: crate::rostering::working_time::rest_rules(from),
            weights: Weights::default(),
        },
        pa_ids,
    })
}

fn candidates_id(pa_ids: &[String], w: usize) -> String {
    pa_ids.get(w).cloned().unwrap_or_default()
}

pub fn view(
    roster: &RosterRow,
    shifts: &[RosterShiftRow],
    assignments: &[RosterAssignmentRow],
) -> AppResult<RosterView> {
    let mut by_shift: HashMap<&str, Vec<String>> = HashMap::new();
    for a in assignments {
        by_shift
            .entry(a.roster_shift_id.as_str())
            .or_default()
            .push(a.pa_id.clone());
    }
    let shifts: Vec<RosterShiftView> = shifts
        .iter()
        .map(|s| RosterShiftView {
            id: s.id.clone(),
            budget_holder_id: s.budget_holder_id.clone(),
            date: s.shift_date,
            start: s.start_local.clone(),
            end: s.end_local.clone(),
            starts_at: s.starts_at.and_utc(),
            ends_at: s.ends_at.and_utc(),
            kind: ShiftKind::parse(&s.kind),
            headcount: s.headcount,
            pa_ids: by_shift.remove(s.id.as_str()).unwrap_or_default(),
            open_reason: s.open_reason.clone(),
            held_by: Vec::new(),
            warnings: Vec::new(),
        })
        .collect();
    let open_shifts = shifts.iter().filter(|s| s.pa_ids.is_empty()).count();
    Ok(RosterView {
        id: roster.id.clone(),
        team_manager_id: roster.team_manager_id.clone(),
        from: roster.from_date,
        to: roster.to_date,
        status: roster.status.clone(),
        version: roster.version,
        seed: roster.seed,
        score: crate::db::json::from_text("score", &roster.score)?,
        filled_shifts: shifts.len() - open_shifts,
        open_shifts,
        cost_against_budget: Vec::new(),
        shifts,
    })
}

/// The roster's cost to each person's approved budget (the one covering the roster's first
/// day), beside that budget's profile for the roster's dates.
pub(crate) fn costs(
    conn: &mut DbConnection,
    roster: &RosterRow,
    shifts: &[RosterShiftRow],
    assignments: &[RosterAssignmentRow],
    today: NaiveDate,
) -> AppResult<Vec<PersonCostView>> {
    let mut pay_of: HashMap<String, Pence> = HashMap::new();
    let mut cost_of: Vec<(String, Pence)> = Vec::new();
    for shift in shifts {
        let mut cost = Pence::ZERO;
        for a in assignments.iter().filter(|a| a.roster_shift_id == shift.id) {
            if !pay_of.contains_key(&a.pa_id) {
                let pa = market_repo::find_pa(conn, &a.pa_id)?.ok_or(AppError::NotFound)?;
                pay_of.insert(a.pa_id.clone(), pa.min_hourly_pay_pence);
            }
            cost += crate::rostering::model::place_pay(
                pay_of[&a.pa_id],
                shift.minutes(),
                shift.shift_date,
            );
        }
        match cost_of
            .iter_mut()
            .find(|(h, _)| *h == shift.budget_holder_id)
        {
            Some((_, total)) => *total += cost,
            None => cost_of.push((shift.budget_holder_id.clone(), cost)),
        }
    }
    let mut out = Vec::new();
    for (holder, cost) in cost_of {
        let budget = crate::budgets::repo::approved_budget_on(conn, &holder, roster.from_date)?;
        let (profiled, used, remaining) = match &budget {
            Some(b) => {
                let balance = crate::budgets::ledger::balance_between(
                    conn,
                    b,
                    roster.from_date,
                    roster.to_date,
                    today,
                )?;
                // A published roster's cost is in the ledger already.
                let unposted = if roster.status == RosterStatus::Draft.as_str() {
                    cost
                } else {
                    Pence::ZERO
                };
                (
                    balance.profiled_pence,
                    balance.committed_pence + balance.spent_pence + unposted,
                    balance.remaining_pence - unposted,
                )
            }
            None => (Pence::ZERO, cost, -cost),
        };
        out.push(PersonCostView {
            budget_holder_id: holder,
            roster_cost_pence: cost,
            budget_id: budget.map(|b| b.id),
            profiled_pence: profiled,
            used_with_roster_pence: used,
            variance_pence: profiled - used,
            remaining_after_pence: remaining,
        });
    }
    Ok(out)
}

pub fn read(conn: &mut DbConnection, actor: &AuthUser, id: &str) -> AppResult<RosterView> {
    let roster = repo::find_roster(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Read, roster.resource())?;
    let shifts = repo::roster_shifts_of(conn, &roster.id)?;
    let assignments = repo::assignments_of(conn, &roster.id)?;
    let mut out = view(&roster, &shifts, &assignments)?;
    out.cost_against_budget = costs(
        conn,
        &roster,
        &shifts,
        &assignments,
        chrono::Utc::now().date_naive(),
    )?;
    let ids: Vec<String> = shifts.iter().map(|s| s.id.clone()).collect();
    let holds = repo::holds_of(conn, &ids)?;
    let mut warnings = crate::rostering::watch::warnings_of(conn, &ids)?;
    for shift in &mut out.shifts {
        shift.held_by = holds
            .iter()
            .filter(|(s, _)| *s == shift.id)
            .map(|(_, pa)| pa.clone())
            .collect();
        shift.warnings = warnings.remove(&shift.id).unwrap_or_default();
    }
    Ok(out)
}

//! Column generation over workers' plans, for day-planned contracts with cover, and rosters
//! made from it by diving.
//!
//! The Lagrangian relaxation (`relax`) moves its prices by subgradient steps, which settle
//! slowly and far from the best prices on the larger instances. Here the prices are the duals
//! of a linear programme over the plans seen so far (`master`): each round every worker's
//! cheapest plan at those prices (the same dynamic programme) joins the programme when it
//! would lower its optimum, until no plan would. The optimum then bounds every roster from
//! below (where per-kind maxima do not bind; an estimate where they do).
//!
//! The programme's solution is fractional; a roster needs one plan a worker. A dive fixes
//! workers one after another to a plan the solution uses (first every worker whose plan is
//! all but whole, then the one whose plan is nearest to whole, or a random worker and plan
//! by its value once the first dive is done), generating plans for the others after each fix
//! so that they adapt, until every worker is fixed: a roster, polished one worker at a time.
//! A fix holds the worker to the plan with the master's basis kept (`Master::hold`). Each
//! later dive starts from the best roster so far with all but a third of the workers held to
//! their plans in it: a large neighbourhood of that roster, re-planned with the master's
//! prices. On Curtois instance 8 (30 workers, five seeds, 2026-12-07) the two together took
//! the 10 s median from 1,368 to 1,313 and the 60 s median from 1,325 to 1,313.
//!
//! Curtois instance 12 (60 workers and 280 covers): the programme reaches 4,040.0, the best
//! known, in about 10 s and keeps that optimum while the dive fixes all 60 workers. With the
//! primal simplex after each hold, a fix cost 1,000 to 5,000 pivots and the first dive did not
//! end within 70% of a 60 s limit (46 of 60 fixed at 42 s), so the subgradient search decided
//! the roster (4,107 to 4,170). Holds by bound with the dual simplex, and Devex pricing
//! (`master`), end the first dive at 32 s on 4,040 (seed 1, 2026-12-07). Tried before that and
//! not kept: no more plans once the optimum is at the bound (no dive ended sooner; instance 7's
//! and 8's 10 s rosters were worse); fixing a quarter of the free workers a step (the optimum
//! climbed to 4,248 with 54 fixed); rounding the rest of the dive with 41 fixed (5,347); a dive
//! over the plans seen without pricing (the optimum climbed to 7,688); dives around the
//! rounded roster of the first optimum (their optimum began at 5,806).
//!
//! Also tried on instance 12 and not kept (2026-12-07, seed 1, two searches, 60 s):
//! - dives around the subgradient search's roster (4,385), handed over between the searches
//!   once the first dive ran past `until`: with 50 of 60 workers held, the programme took 116
//!   rounds and 10 s to settle (at 4,285), and no dive had beaten the roster by the deadline;
//! - with that, at most 5 rounds a step: each dive took about a second, but settled on the
//!   roster it started from; at most 3 rounds a step of the first dive: 29 fixed by the
//!   deadline, a step still costing 0.3 to 1.5 s;
//! - smoothing the prices plans are sought at halfway towards the best Lagrangian's (Wentges):
//!   40 rounds to the first optimum rather than 46, but more pivots a solve, no sooner;
//! - fixing every plan at 0.8 or more at once: few reach it (32 fixed by the deadline);
//! - Bland's rule after 1,000 degenerate pivots rather than 30: no change (30 fixed).
//!
//! What bound then was the primal simplex after each hold: 1,000 to 5,000 pivots at about
//! 0.26 ms (125,789 pivots in 32.8 s); the master's doc gives what replaced it.

use std::collections::HashMap;
use std::time::Instant;

use super::master::Master;
use super::relax::{
    applies, combine, index_in, plans_of, remember, requested, Outcome, Plan, Pools,
};
use super::replan::{Planner, PRICE_SCALE};
use super::{rank, replan_sweeps, Problem, Rng, State};

/// The most rows (covers and workers) the dense master takes: its basis inverse is rows
/// squared and refactoring it rows cubed, so past this (340 rows on Curtois instance 12) a
/// solve would take seconds and the memory gigabytes; the subgradient relaxation or the local
/// search alone serve larger problems.
const MAX_ROWS: usize = 700;
/// Most pivots per solve of the master, a guard (the time is the limit that binds): a solve
/// after a round of plans or a dive's fix takes hundreds to a few thousand.
const MAX_PIVOTS: u32 = 200_000;
/// A plan this near to whole in the solution is fixed without waiting.
const WHOLE: f64 = 0.999;
/// Dives after the first re-plan one worker in this many (at least two), the rest held to the
/// best roster's plans (the module doc gives what that gained on Curtois instance 8).
const FREED: usize = 3;
/// Before the first dive, a roster is made from the solution every this many rounds (in case
/// the time runs out before the plans converge).
const ROSTER_EVERY: u32 = 10;

/// The plans in the master, by column.
struct Columns {
    master: Master,
    /// Column of the first plan (the slacks and artificials come before).
    first: usize,
    plans: Vec<(usize, Plan)>,
    seen: HashMap<(usize, Vec<usize>), usize>,
}

impl Columns {
    /// No plans yet, for `p`'s covers and workers; `requested`: what every request refused
    /// would cost.
    fn new(p: &Problem, requested: f64) -> Self {
        let covers: Vec<(f64, f64, f64)> = p
            .covers
            .iter()
            .map(|c| {
                (
                    f64::from(c.required),
                    c.under_cost as f64,
                    c.over_cost as f64,
                )
            })
            .collect();
        Self {
            first: 2 * covers.len() + p.workers.len(),
            master: Master::new(&covers, p.workers.len(), requested),
            plans: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Adds worker `w`'s plan unless it is there already: its column, and whether it is new.
    fn add(&mut self, w: usize, plan: Plan) -> (usize, bool) {
        let mut key = plan.covers.clone();
        key.sort_unstable();
        if let Some(&j) = self.seen.get(&(w, key.clone())) {
            return (j, false);
        }
        let j = self.master.add_plan(w, &plan.covers, plan.requests as f64);
        debug_assert_eq!(j, self.first + self.plans.len());
        self.seen.insert((w, key), j);
        self.plans.push((w, plan));
        (j, true)
    }

    fn plan(&self, j: usize) -> &Plan {
        &self.plans[j - self.first].1
    }

    /// Worker `w`'s plan of most value in the solution, with its value.
    fn top(&self, w: usize) -> Option<(usize, f64)> {
        self.master
            .plans_of(w)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

/// Runs column generation and dives from roster `start` until `until`, or past it until the
/// first dive ends, but never past `deadline`. Only where the relaxation applies
/// (`relax::applies`): None for others.
pub(super) fn search<'a>(
    start: &State<'a>,
    planner: &mut Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    until: Instant,
    deadline: Instant,
    progress: &mut dyn FnMut(&super::Score),
) -> Option<Outcome<'a>> {
    let p = start.p;
    if !applies(p) || !planner.plans_whole() || p.covers.len() + p.workers.len() > MAX_ROWS {
        return None;
    }
    let workers = p.workers.len();
    let whole = 0..p.days;
    let mut pools = Pools::new(start, whole.clone());
    let requested = requested(p, &whole) as f64;
    let mut columns = Columns::new(p, requested);
    if start.score.shortfall() == 0 {
        for (w, plan) in plans_of(start, &whole).into_iter().enumerate() {
            columns.add(w, plan);
        }
    }
    let kinds = p
        .tasks
        .iter()
        .map(|t| usize::from(t.kind) + 1)
        .max()
        .unwrap_or(0);
    let mut kind_price = vec![vec![0i64; kinds]; workers];
    let mut scaled = vec![0i64; p.covers.len()];
    let mut fixed: Vec<Option<usize>> = vec![None; workers];
    let (mut dives, mut rounds) = (0u32, 0u32);
    let mut bound = f64::MIN;
    let mut best: Option<State<'a>> = None;
    // Each roster made joins the pools; the caller hears of each better than any before.
    let start_rank = rank(&start.score);
    let mut consider = |roster: State<'a>, pools: &mut Pools<'a>, best: &mut Option<State<'a>>| {
        pools.remember(&roster);
        if best
            .as_ref()
            .is_none_or(|b| rank(&roster.score) < rank(&b.score))
        {
            if rank(&roster.score) < start_rank {
                progress(&roster.score);
            }
            *best = Some(roster);
        }
    };
    loop {
        let now = Instant::now();
        if now >= deadline || (now >= until && dives > 0) {
            break;
        }
        if columns.master.solve(MAX_PIVOTS, deadline).is_err() {
            break;
        }
        for (k, s) in scaled.iter_mut().enumerate() {
            *s = (columns.master.cover_dual(k) * PRICE_SCALE as f64).round() as i64;
        }
        // The programme's optimum less what each worker's cheapest plan would still take off
        // it: a lower bound on every roster (Lagrangian, at the duals).
        let mut lagrangian = columns.master.dual_objective() + requested;
        let mut added = 0;
        for w in 0..workers {
            if fixed[w].is_some() {
                continue;
            }
            let Some(tasks) = planner.priced_plan(
                &pools.empty,
                by_day,
                w,
                whole.clone(),
                &scaled,
                &mut kind_price[w],
            ) else {
                continue;
            };
            let plan = Plan::of(p, w, &tasks);
            let reduced = plan.requests as f64
                - plan
                    .covers
                    .iter()
                    .map(|&k| columns.master.cover_dual(k))
                    .sum::<f64>()
                - columns.master.worker_dual(w);
            lagrangian += reduced.min(0.0);
            if reduced < -1e-6 {
                remember(&mut pools.plans[w], plan.clone());
                if columns.add(w, plan).1 {
                    added += 1;
                }
            }
        }
        rounds += 1;
        let diving = fixed.iter().any(Option::is_some);
        if !diving && !columns.master.infeasible() {
            bound = bound.max(lagrangian);
        }
        if dives == 0 && !diving && added > 0 && rounds % ROSTER_EVERY == 1 {
            // A roster from the solution as it stands: each worker's plan of most value,
            // combined with the plans seen, polished.
            let roster = rounded(&columns, &fixed, &mut pools, planner, by_day, rng, deadline);
            if let Some(roster) = roster {
                consider(roster, &mut pools, &mut best);
            }
        }
        // New plans until none would lower the optimum, before the first fix and after each.
        if added > 0 {
            continue;
        }
        // Fix every worker whose plan is all but whole, or else one.
        let free: Vec<usize> = (0..workers).filter(|&w| fixed[w].is_none()).collect();
        let mut fixing: Vec<(usize, usize)> = free
            .iter()
            .filter_map(|&w| columns.top(w).map(|(j, v)| (w, j, v)))
            .filter(|&(_, _, v)| v >= WHOLE)
            .map(|(w, j, _)| (w, j))
            .collect();
        if fixing.is_empty() {
            let pick = if dives == 0 {
                free.iter()
                    .filter_map(|&w| columns.top(w).map(|(j, v)| (w, j, v)))
                    .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)))
                    .map(|(w, j, _)| (w, j))
            } else {
                // Later dives: a worker at random, a plan of theirs by its value.
                let w = free[rng.below(free.len())];
                let plans: Vec<(usize, f64)> = columns.master.plans_of(w).collect();
                let total: f64 = plans.iter().map(|x| x.1).sum();
                let mut at = total * (rng.below(1 << 20) as f64) / f64::from(1u32 << 20);
                plans
                    .iter()
                    .find(|x| {
                        at -= x.1;
                        at <= 0.0
                    })
                    .or(plans.last())
                    .map(|&(j, _)| (w, j))
            };
            fixing.extend(pick);
        }
        if fixing.is_empty() {
            // A worker with no plan yet (none keeps their contract): no roster from here.
            break;
        }
        for (w, j) in fixing {
            columns.master.hold(w, j);
            fixed[w] = Some(j);
        }
        if fixed.iter().all(Option::is_some) {
            let plans: Vec<&Plan> = fixed.iter().flatten().map(|&j| columns.plan(j)).collect();
            let roster = pools.roster_of(&plans, rng);
            let roster = polished(roster, planner, by_day, rng, deadline);
            consider(roster, &mut pools, &mut best);
            dives += 1;
            fixed.fill(None);
            columns.master.release_all();
            if let Some(best) = best.as_ref().filter(|b| b.score.shortfall() == 0) {
                hold_all_but_some(best, &mut columns, &mut fixed, rng);
            }
            if best
                .as_ref()
                .is_some_and(|b| b.score.shortfall() == 0 && (b.score.total as f64) < bound + 1.0)
            {
                // As good as the bound allows (where per-kind maxima bind, the estimate):
                // only this phase ends, the local search goes on.
                break;
            }
        }
    }
    if best.is_none() {
        // A dive cut short by the time: its fixed plans and the solution's for the rest.
        best = rounded(&columns, &fixed, &mut pools, planner, by_day, rng, deadline);
    }
    Some(Outcome {
        roster: best.filter(|b| rank(&b.score) < rank(&start.score)),
        bound,
        pools,
    })
}

/// Holds all but a random `1 / FREED` of the workers (at least two) to their plans in `best`,
/// for the next dive to re-plan the rest: a large neighbourhood of the best roster, searched
/// with the programme's prices.
fn hold_all_but_some(
    best: &State<'_>,
    columns: &mut Columns,
    fixed: &mut [Option<usize>],
    rng: &mut Rng,
) {
    let workers = fixed.len();
    let mut order: Vec<usize> = (0..workers).collect();
    rng.shuffle(&mut order);
    let freed = (workers / FREED).max(2).min(workers);
    let mut plans: Vec<Option<Plan>> = plans_of(best, &(0..best.p.days))
        .into_iter()
        .map(Some)
        .collect();
    for &w in &order[freed..] {
        if let Some(plan) = plans[w].take() {
            let (j, _) = columns.add(w, plan);
            columns.master.hold(w, j);
            fixed[w] = Some(j);
        }
    }
}

/// A roster from the programme's solution: each worker's plan of most value (or the plan a
/// dive fixed them to), combined with the plans seen (`relax::combine`) and polished one
/// worker at a time. None while a worker has no plan in the solution.
fn rounded<'a>(
    columns: &Columns,
    fixed: &[Option<usize>],
    pools: &mut Pools<'a>,
    planner: &mut Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    until: Instant,
) -> Option<State<'a>> {
    let p = pools.empty.p;
    let mut pick = Vec::with_capacity(p.workers.len());
    for (w, &fixed) in fixed.iter().enumerate() {
        let j = match fixed {
            Some(j) => j,
            None => columns.top(w)?.0,
        };
        pick.push(index_in(&mut pools.plans[w], columns.plan(j)));
    }
    let moves = super::relax::COMBINE_MOVES * p.workers.len() as u32;
    combine(p, &pools.plans, pools.places(), &mut pick, rng, moves);
    let roster = pools.roster(&pick, rng);
    Some(polished(roster, planner, by_day, rng, until))
}

/// `roster` with each worker re-planned in turn until a sweep changes nothing or `until`.
fn polished<'a>(
    mut roster: State<'a>,
    planner: &mut Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    until: Instant,
) -> State<'a> {
    replan_sweeps(&mut roster, planner, by_day, rng, until);
    roster
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::relax::tests::{best_by_brute_force, random_problem};
    use super::super::{violations, Worker};
    use super::*;

    /// On small two-worker problems (no per-kind maximum binds, so the bound is one), the
    /// bound never passes the best roster found by brute force, every roster keeps every rule,
    /// and the dives reach the best roster on each.
    #[test]
    fn dives_reach_the_best_roster_and_the_bound_never_passes_it() {
        let mut rng = Rng(23);
        for _ in 0..12 {
            let p = random_problem(&mut rng);
            let (best, by_day) = best_by_brute_force(&p);
            let start = State::new(&p);
            let mut planner = Planner::new(&p);
            let until = Instant::now() + Duration::from_millis(100);
            let mut heard = Vec::new();
            let outcome = search(
                &start,
                &mut planner,
                &by_day,
                &mut rng,
                until,
                until,
                &mut |s| heard.push(s.total),
            )
            .unwrap();
            assert!(
                outcome.bound <= best as f64 + 1e-6,
                "bound {} above the best {best}",
                outcome.bound
            );
            let roster = outcome.roster.expect("a roster that keeps every contract");
            assert_eq!(roster.score.shortfall(), 0);
            assert!(violations(&p, &roster.assigned).is_empty());
            assert_eq!(roster.score.total, best, "the dives miss the best roster");
            assert_eq!(heard.last(), Some(&best), "the best roster was not heard");
        }
    }

    /// A dive around a roster holds all but a third of the workers to their plans in it: the
    /// master's next solution has each held worker on that plan alone, whatever else the
    /// master holds, and leaves the others free.
    #[test]
    fn a_dive_around_a_roster_holds_all_but_a_third_to_it() {
        let mut rng = Rng(31);
        let mut tried = 0;
        while tried < 8 {
            // The two-worker problem with each worker cloned into three: six workers.
            let mut p = random_problem(&mut rng);
            let twins: Vec<Worker> = p
                .workers
                .iter()
                .flat_map(|w| [w.clone(), w.clone()])
                .collect();
            p.workers.extend(twins);
            for task in &mut p.tasks {
                task.eligible = (0..p.workers.len()).collect();
            }
            let mut by_day = vec![Vec::new(); p.days];
            for (t, task) in p.tasks.iter().enumerate() {
                by_day[super::super::day_of(task)].push(t);
            }
            let mut planner = Planner::new(&p);
            let mut roster = State::new(&p);
            let far = Instant::now() + Duration::from_secs(5);
            replan_sweeps(&mut roster, &mut planner, &by_day, &mut rng, far);
            if roster.score.shortfall() > 0 {
                continue;
            }
            tried += 1;
            let workers = p.workers.len();
            let mut columns = Columns::new(&p, 0.0);
            let mut fixed = vec![None; workers];
            hold_all_but_some(&roster, &mut columns, &mut fixed, &mut rng);
            assert_eq!(fixed.iter().flatten().count(), workers - workers / FREED);
            assert_eq!(columns.master.solve(MAX_PIVOTS, far), Ok(()));
            let plans = plans_of(&roster, &(0..p.days));
            for (w, held) in fixed.iter().enumerate() {
                let in_solution: Vec<(usize, f64)> = columns.master.plans_of(w).collect();
                match held {
                    Some(j) => {
                        let mut want = plans[w].covers.clone();
                        let mut got = columns.plan(*j).covers.clone();
                        want.sort_unstable();
                        got.sort_unstable();
                        assert_eq!(got, want, "worker {w} held to another plan");
                        assert_eq!(in_solution.len(), 1);
                        assert_eq!(in_solution[0].0, *j);
                        assert!((in_solution[0].1 - 1.0).abs() < 1e-4);
                    }
                    // A free worker has no plan in this master yet: only their artificial.
                    None => assert!(in_solution.is_empty()),
                }
            }
        }
    }
}

//! Lagrangian relaxation of cover, for day-planned contracts: every worker planned at once.
//!
//! Re-planning workers one at a time (`replan`) settles where no single worker can do better
//! alone; when cover is tight the better rosters need many workers to change together. Here
//! each cover requirement gets a price for a place filled, every worker is planned
//! independently against the prices (the same dynamic programme, so each plan keeps its
//! contract), and the prices move by subgradient steps: up where the plans leave a place
//! short, down where they crowd it. A cover's cost `under * shortfall + over * excess` is the
//! largest of `price * (required - filled)` over prices from `-over` to `under`, so the plans'
//! total at any prices is a lower bound on the roster's score (up to the pricing of per-kind
//! maxima), and the step is sized by the gap between that and the best roster (Polyak's rule).
//! Every plan seen is kept in a pool per worker; every few rounds the cheapest combination
//! of pooled plans that a quick search finds from the round's plans (`combine`), polished by
//! re-planning workers one at a time, makes a roster, and the best is kept. The local search
//! later recombines the pools with its own best rosters' plans (`Pools::recombine`). Once
//! the prices settle the step is raised again, so that later rounds try other plans around
//! them; the search ends early when the best roster is within a unit of the bound. Each
//! worker's prices for per-kind maxima carry over from round to round (`Planner::priced_plan`),
//! which halves a round's cost where maxima bind.
//!
//! A horizon too long to plan whole (a year: a round over eight weeks took 470 ms, over two
//! 28 ms) is relaxed window by window (`search_windows`): two weeks at a time with the roster
//! around them fixed, so each window's plans must join the fixed days (`Planner::priced_plan`
//! over a window), the bound is the window's plus the fixed rest, and the windows whose cover
//! costs most go first. On generated 26- and 52-week instances this gained several times what
//! the local search gains in the same time.

use std::ops::Range;
use std::time::Instant;

use super::replan::{Planner, PRICE_SCALE};
use super::{day_of, rank, sweep_reporting, Problem, Rng, State, Sweeps};

/// The first step's share of the gap (Held and Karp's 2); the fewest and most rounds without a
/// better bound before the step halves (see `patience`); a step so small it no longer moves the
/// prices, when the step goes back up to a quarter of the first to shake them. Tuned on the
/// Curtois instances (scripts/bench-curtois.sh): too little patience settles the prices far
/// below the best bound (on instance 3, at 897 where 1,000 is reached with more).
const FIRST_STEP: f64 = 2.0;
const PATIENCE: (u32, u32) = (8, 25);
const MIN_STEP: f64 = 1.0 / 1024.0;
/// Plans are put together as a roster every this many rounds (each roster's polish costs
/// about as much as several rounds).
const ROSTER_EVERY: u32 = 5;
/// Rounds of a window's relaxation before the next window's (`search_windows`); its prices
/// carry over to the window's next turn. On the generated 26- and 52-week instances the first
/// few rounds of each window gain most: a window's rounds take 20-40 ms.
const WINDOW_ROUNDS: u32 = 12;
/// Plans remembered per worker.
const POOL: usize = 128;
/// Moves per worker when the relaxation combines its plans into a roster (`combine`).
/// Tuned on the Curtois instances: on instance 6 the roster at 10 s went from about 2,150 to
/// 1,965 with it; five times as many gained nothing.
pub(super) const COMBINE_MOVES: u32 = 200;

/// A plan a worker could work: the cover requirement of each day's work and what its requests
/// cost (granted on-requests subtract, granted off-requests add).
#[derive(Clone, PartialEq)]
pub(super) struct Plan {
    pub(super) covers: Vec<usize>,
    pub(super) requests: i64,
}

impl Plan {
    pub(super) fn of(p: &Problem, w: usize, tasks: &[usize]) -> Self {
        let contract = p.workers[w].contract.as_ref();
        let mut requests = 0;
        for &t in tasks {
            let (day, kind) = (day_of(&p.tasks[t]), p.tasks[t].kind);
            let asked = |list: &[(usize, u16, i64)]| -> i64 {
                list.iter()
                    .filter(|r| r.0 == day && r.1 == kind)
                    .map(|r| r.2)
                    .sum()
            };
            if let Some(c) = contract {
                requests += asked(&c.off_requests) - asked(&c.on_requests);
            }
        }
        Self {
            covers: tasks.iter().filter_map(|&t| p.tasks[t].cover).collect(),
            requests,
        }
    }

    /// In `PRICE_SCALE` units.
    fn cost(&self, price: &[i64]) -> i64 {
        self.requests * PRICE_SCALE - self.covers.iter().map(|&c| price[c]).sum::<i64>()
    }
}

/// Rounds without a better bound before the step halves: enough for the prices to settle
/// (about a twenty-fourth of the rounds the time allows, as far as they can be foreseen), within
/// `PATIENCE`.
fn patience(rounds: u32, began: Instant, until: Instant) -> u32 {
    let spent = began.elapsed().as_secs_f64();
    let total = until.saturating_duration_since(began).as_secs_f64();
    let foreseen = if spent > 0.0 {
        f64::from(rounds) * total / spent
    } else {
        0.0
    };
    ((foreseen / 24.0) as u32).clamp(PATIENCE.0, PATIENCE.1)
}

/// Remembers `plan` for a worker (the oldest goes when the pool is full).
pub(super) fn remember(pool: &mut Vec<Plan>, plan: Plan) {
    if !pool.contains(&plan) {
        if pool.len() == POOL {
            pool.remove(0);
        }
        pool.push(plan);
    }
}

/// Where `plan` is in `pool`, remembered first if it is not there.
pub(super) fn index_in(pool: &mut Vec<Plan>, plan: &Plan) -> usize {
    pool.iter().position(|x| x == plan).unwrap_or_else(|| {
        remember(pool, plan.clone());
        pool.len() - 1
    })
}

/// Each worker's plan in `roster` within `window` (places that count towards a cover only).
pub(super) fn plans_of(roster: &State<'_>, window: &Range<usize>) -> Vec<Plan> {
    let p = roster.p;
    (0..p.workers.len())
        .map(|w| {
            let tasks: Vec<usize> = roster.timeline[w]
                .iter()
                .copied()
                .filter(|&t| !p.tasks[t].fixed && window.contains(&day_of(&p.tasks[t])))
                .collect();
            Plan::of(p, w, &tasks)
        })
        .collect()
}

/// One plan per worker chosen from their pools so that the plans together cost least (cover
/// and requests as the score weighs them), by late-acceptance hill climbing from `chosen`:
/// a move gives one worker another plan from their pool (the best for them given everyone
/// else's, or one at random), or gives two workers other plans (the first at random, the
/// second their best given it). Cheap next to planning (a move costs a plan's length per
/// plan tried), so many thousands of moves search the combinations the prices suggested.
/// No cover gets more workers than it has places. Returns the best choice's cost (up to
/// the constant of on-requests), and leaves the best choice in `chosen`.
pub(super) fn combine(
    p: &Problem,
    pools: &[Vec<Plan>],
    places: &[Vec<usize>],
    chosen: &mut [usize],
    rng: &mut Rng,
    moves: u32,
) -> (i64, i64) {
    const HISTORY: usize = 64;
    let mut filled = vec![0u32; p.covers.len()];
    for (pool, &i) in pools.iter().zip(chosen.iter()) {
        for &c in &pool[i].covers {
            filled[c] += 1;
        }
    }
    let mut cost: i64 = pools
        .iter()
        .zip(chosen.iter())
        .map(|(pool, &i)| pool[i].requests)
        .sum::<i64>()
        + p.covers
            .iter()
            .zip(&filled)
            .map(|(c, &n)| c.cost(n))
            .sum::<i64>();
    let mut current = chosen.to_vec();
    let start = cost;
    let mut best = cost;
    let mut history = [cost; HISTORY];
    // What a worker's plan changes: `sign` 1 to add it, -1 to take it away (None: it would
    // crowd a cover past its places).
    let change = |filled: &[u32], plan: &Plan, sign: i32| -> Option<i64> {
        let mut delta = plan.requests * i64::from(sign);
        for &c in &plan.covers {
            let n = filled[c];
            let m = n.checked_add_signed(sign)?;
            if m as usize > places[c].len() {
                return None;
            }
            delta += p.covers[c].cost(m) - p.covers[c].cost(n);
        }
        Some(delta)
    };
    let apply = |filled: &mut [u32], plan: &Plan, sign: i32| {
        for &c in &plan.covers {
            filled[c] = filled[c].wrapping_add_signed(sign);
        }
    };
    let workers = pools.len();
    let mut changed: Vec<(usize, usize)> = Vec::with_capacity(2);
    for step in 0..moves {
        // One worker's plan changes, or (a third of the time) two: the first to a plan at
        // random, the second to their best given it, a step no single change takes downhill.
        let links = if rng.below(3) == 0 { 2 } else { 1 };
        let mut delta = 0;
        changed.clear();
        for link in 0..links {
            let w = rng.below(workers);
            let pool = &pools[w];
            if pool.len() < 2 || changed.iter().any(|&(v, _)| v == w) {
                break;
            }
            let old = current[w];
            apply(&mut filled, &pool[old], -1);
            let out = -change(&filled, &pool[old], 1).unwrap_or(0);
            let at_random = if links == 2 {
                link == 0
            } else {
                rng.below(2) == 0
            };
            let next = if at_random {
                let i = rng.below(pool.len());
                change(&filled, &pool[i], 1).map(|d| (i, d))
            } else {
                (0..pool.len())
                    .filter(|&i| i != old)
                    .filter_map(|i| change(&filled, &pool[i], 1).map(|d| (d, rng.below(4), i)))
                    .min()
                    .map(|(d, _, i)| (i, d))
            };
            let Some((i, added)) = next else {
                apply(&mut filled, &pool[old], 1);
                break;
            };
            apply(&mut filled, &pool[i], 1);
            current[w] = i;
            delta += out + added;
            changed.push((w, old));
        }
        let slot = step as usize % HISTORY;
        if changed.len() == links && cost + delta <= cost.max(history[slot]) {
            cost += delta;
            if cost < best {
                best = cost;
                chosen.copy_from_slice(&current);
            }
        } else {
            for &(w, old) in changed.iter().rev() {
                apply(&mut filled, &pools[w][current[w]], -1);
                apply(&mut filled, &pools[w][old], 1);
                current[w] = old;
            }
        }
        history[slot] = cost;
    }
    (start, best)
}

/// The plans seen so far within a window of days, per worker (the relaxation's and those of
/// rosters that keep every contract), and how to make a roster of one plan each.
pub(super) struct Pools<'a> {
    pub(super) plans: Vec<Vec<Plan>>,
    /// Per cover requirement, its places in the window.
    places: Vec<Vec<usize>>,
    /// The roster with no place in the window filled (other rosters' fixed work and, where
    /// the window is not the whole horizon, the work around it).
    pub(super) empty: State<'a>,
    pub(super) window: Range<usize>,
}

impl<'a> Pools<'a> {
    pub(super) fn new(start: &State<'a>, window: Range<usize>) -> Self {
        let p = start.p;
        let within = |t: usize| !p.tasks[t].fixed && window.contains(&day_of(&p.tasks[t]));
        let mut empty = start.clone();
        for w in 0..p.workers.len() {
            for t in start.timeline[w].clone() {
                if within(t) {
                    empty.apply(t, w, -1);
                }
            }
        }
        let mut places: Vec<Vec<usize>> = vec![Vec::new(); p.covers.len()];
        for (t, task) in p.tasks.iter().enumerate() {
            if let (true, Some(c)) = (within(t), task.cover) {
                places[c].push(t);
            }
        }
        let mut pools = Self {
            plans: (0..p.workers.len()).map(|_| Vec::new()).collect(),
            places,
            empty,
            window,
        };
        pools.remember(start);
        pools
    }

    /// Per cover requirement, its places.
    pub(super) fn places(&self) -> &[Vec<usize>] {
        &self.places
    }

    /// Remembers each worker's plan in `roster`, if it keeps every contract.
    pub(super) fn remember(&mut self, roster: &State<'a>) {
        if roster.score.shortfall() == 0 {
            for (pool, plan) in self.plans.iter_mut().zip(plans_of(roster, &self.window)) {
                remember(pool, plan);
            }
        }
    }

    /// Plan `pick[w]` of each worker's pool as a roster.
    pub(super) fn roster(&self, pick: &[usize], rng: &mut Rng) -> State<'a> {
        let plans: Vec<&Plan> = pick
            .iter()
            .zip(&self.plans)
            .map(|(&i, pool)| &pool[i])
            .collect();
        self.roster_of(&plans, rng)
    }

    /// Worker `w`'s plan `plans[w]`, for each worker, as a roster (the workers in random
    /// order; where plans crowd a cover past its places, the last comers miss out).
    pub(super) fn roster_of(&self, plans: &[&Plan], rng: &mut Rng) -> State<'a> {
        let mut roster = self.empty.clone();
        let mut order: Vec<usize> = (0..plans.len()).collect();
        rng.shuffle(&mut order);
        for &w in &order {
            for &c in &plans[w].covers {
                let free = self.places[c]
                    .iter()
                    .copied()
                    .find(|&x| roster.assigned[x].is_empty() && roster.can_take(x, w, None));
                if let Some(x) = free {
                    roster.apply(x, w, 1);
                }
            }
        }
        roster
    }

    /// A roster better than `best` (which keeps every contract) made of the plans seen, if
    /// `combine` finds one from `best`'s own in `moves` moves.
    pub(super) fn recombine(
        &mut self,
        best: &State<'a>,
        rng: &mut Rng,
        moves: u32,
    ) -> Option<State<'a>> {
        if best.score.shortfall() > 0 {
            return None;
        }
        let p = best.p;
        let mut pick = Vec::with_capacity(p.workers.len());
        for (pool, plan) in self.plans.iter_mut().zip(plans_of(best, &self.window)) {
            pick.push(index_in(pool, &plan));
        }
        let (start, found) = combine(p, &self.plans, &self.places, &mut pick, rng, moves);
        if found >= start {
            return None;
        }
        let roster = self.roster(&pick, rng);
        (rank(&roster.score) < rank(&best.score)).then_some(roster)
    }
}

/// Whether the relaxation sees the whole score: every place to fill counts towards a cover
/// and every worker has a contract.
pub(super) fn applies(p: &Problem) -> bool {
    !p.covers.is_empty()
        && p.tasks.iter().all(|t| t.fixed || t.cover.is_some())
        && p.workers.iter().all(|w| w.contract.is_some())
}

/// What on-requests within `window` cost when none is granted (a plan subtracts those it
/// grants).
pub(super) fn requested(p: &Problem, window: &Range<usize>) -> i64 {
    p.workers
        .iter()
        .filter_map(|w| w.contract.as_ref())
        .flat_map(|c| c.on_requests.iter())
        .filter(|r| window.contains(&r.0))
        .map(|r| r.2)
        .sum()
}

/// What the covers and requests within `window` cost in `roster`: the part of its score a
/// relaxation of the window sees.
fn window_cost(roster: &State<'_>, pools: &Pools<'_>) -> i64 {
    let p = roster.p;
    let requests: i64 = plans_of(roster, &pools.window)
        .iter()
        .map(|x| x.requests)
        .sum();
    let covers: i64 = (0..p.covers.len())
        .filter(|&c| !pools.places[c].is_empty())
        .map(|c| p.covers[c].cost(roster.cover_filled[c]))
        .sum();
    requested(p, &pools.window) + requests + covers
}

/// What the relaxation found by its time limit.
pub(super) struct Outcome<'a> {
    /// The best roster made from its plans, if it beats the one it started from.
    pub(super) roster: Option<State<'a>>,
    /// The highest bound reached (a lower bound on any roster's score where per-kind maxima
    /// do not bind; otherwise an estimate).
    pub(super) bound: f64,
    /// The plans seen, for the local search to recombine with its own.
    pub(super) pools: Pools<'a>,
}

/// The prices the relaxation starts from: half what a place short costs.
pub(super) fn first_prices(p: &Problem) -> Vec<f64> {
    p.covers.iter().map(|c| c.under_cost as f64 / 2.0).collect()
}

/// A stretch of the horizon to relax, how long, and from which prices.
pub(super) struct Window<'w> {
    /// One of `Planner::relaxation_windows`: the whole horizon, or a few weeks with the
    /// roster around them fixed (the bound is then the window's, and the rosters change only
    /// within it).
    pub(super) days: Range<usize>,
    pub(super) most_rounds: u32,
    /// The cover prices to start from (when empty, `first_prices`); left holding the last.
    pub(super) price: &'w mut Vec<f64>,
}

impl<'w> Window<'w> {
    /// The whole horizon, for as many rounds as the time allows.
    pub(super) fn whole(p: &Problem, price: &'w mut Vec<f64>) -> Self {
        Window {
            days: 0..p.days,
            most_rounds: u32::MAX,
            price,
        }
    }
}

/// Runs the relaxation from roster `start` over `window` until `until` or its most rounds. Only
/// for problems whose every place to fill counts towards a cover and whose every worker has a
/// contract (otherwise the relaxation would miss terms of the score): None for others.
pub(super) fn search<'a>(
    start: &State<'a>,
    planner: &mut Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    until: Instant,
    window: Window,
    progress: &mut dyn FnMut(&super::Score),
) -> Option<Outcome<'a>> {
    let p = start.p;
    if !applies(p) {
        return None;
    }
    let Window {
        days: window,
        most_rounds,
        price,
    } = window;
    let whole = window.start == 0 && window.end >= p.days;
    // Every plan seen, per worker: the dynamic programme's and those of the rosters made.
    // Where per-kind maxima bind, the programme's plan can miss the cheapest; a remembered
    // plan that is cheaper at the new prices is taken instead.
    let mut pools = Pools::new(start, window.clone());
    let requested = requested(p, &window);
    // What the score holds beyond the window's covers and requests: fixed while the window
    // is planned, so the bound and the rosters compare on the same footing.
    let outside = if whole {
        0.0
    } else {
        (start.score.total - window_cost(start, &pools)) as f64
    };
    let in_window: Vec<bool> = pools.places.iter().map(|x| !x.is_empty()).collect();

    if price.len() != p.covers.len() {
        *price = first_prices(p);
    }
    let mut scaled = vec![0i64; p.covers.len()];
    let mut filled = vec![0u32; p.covers.len()];
    let mut chosen: Vec<usize> = vec![0; p.workers.len()];
    let kinds = p
        .tasks
        .iter()
        .map(|t| usize::from(t.kind) + 1)
        .max()
        .unwrap_or(0);
    let mut kind_price = vec![vec![0i64; kinds]; p.workers.len()];
    let mut upper = start.score.total as f64;
    let mut best: Option<State<'a>> = None;
    let (mut step_size, mut best_bound, mut stale) = (FIRST_STEP, f64::MIN, 0u32);
    let mut rounds = 0u32;
    let began = Instant::now();
    'rounds: while Instant::now() < until && rounds < most_rounds {
        for (s, &x) in scaled.iter_mut().zip(price.iter()) {
            *s = (x * PRICE_SCALE as f64).round() as i64;
        }
        let mut bound = outside
            + requested as f64
            + p.covers
                .iter()
                .zip(&scaled)
                .zip(&in_window)
                .filter(|(_, &within)| within)
                .map(|((c, &x), _)| (x * i64::from(c.required)) as f64 / PRICE_SCALE as f64)
                .sum::<f64>();
        filled.fill(0);
        for w in 0..p.workers.len() {
            let pool = &mut pools.plans[w];
            if let Some(tasks) = planner.priced_plan(
                &pools.empty,
                by_day,
                w,
                window.clone(),
                &scaled,
                &mut kind_price[w],
            ) {
                remember(pool, Plan::of(p, w, &tasks));
            }
            let Some((cheapest, cost)) = pool
                .iter()
                .enumerate()
                .map(|(i, plan)| (i, plan.cost(&scaled)))
                .min_by_key(|&(i, cost)| (cost, i))
            else {
                break 'rounds;
            };
            chosen[w] = cheapest;
            bound += cost as f64 / PRICE_SCALE as f64;
            for &c in &pool[cheapest].covers {
                filled[c] += 1;
            }
        }
        best_bound = best_bound.max(bound);
        let gaps: Vec<f64> = p
            .covers
            .iter()
            .zip(&filled)
            .zip(&in_window)
            .map(|((c, &n), &within)| {
                if within {
                    f64::from(c.required) - f64::from(n)
                } else {
                    0.0
                }
            })
            .collect();
        let norm: f64 = gaps.iter().map(|g| g * g).sum();

        rounds += 1;
        if rounds % ROSTER_EVERY == 1 || norm == 0.0 {
            // The cheapest combination of the plans seen that `combine` finds from the
            // plans priced cheapest, as a roster, polished one worker at a time.
            let mut pick = chosen.clone();
            let moves = COMBINE_MOVES * p.workers.len() as u32;
            combine(p, &pools.plans, &pools.places, &mut pick, rng, moves);
            let mut roster = pools.roster(&pick, rng);
            let sweeps = if whole {
                Sweeps::Settled
            } else {
                Sweeps::Window(&window)
            };
            sweep_reporting(
                &mut roster,
                planner,
                by_day,
                rng,
                until,
                sweeps,
                &mut |_| {},
            );
            if roster.score.shortfall() == 0 {
                upper = upper.min(roster.score.total as f64);
            }
            pools.remember(&roster);
            if best
                .as_ref()
                .is_none_or(|b| rank(&roster.score) < rank(&b.score))
            {
                if rank(&roster.score) < rank(&start.score) {
                    progress(&roster.score);
                }
                best = Some(roster);
            }
        }
        if norm == 0.0 || upper - best_bound < 1.0 {
            // The plans fill every cover exactly (nothing is left to price), or the best
            // roster is within a unit of the bound (where per-kind maxima bind, of the
            // estimate: only the relaxation ends, the local search goes on).
            break;
        }
        if step_size < MIN_STEP {
            // The prices have settled: shake them, for other plans and other rosters.
            step_size = FIRST_STEP / 4.0;
        }

        // The subgradient step, sized by the gap to the best roster (at least a twentieth of
        // it, since the bound is an estimate where per-kind maxima bind).
        if bound >= best_bound {
            stale = 0;
        } else {
            stale += 1;
            if stale >= patience(rounds, began, until) {
                step_size /= 2.0;
                stale = 0;
            }
        }
        let step = step_size * (upper - bound).max(0.05 * upper).max(1.0) / norm;
        for ((x, c), g) in price.iter_mut().zip(&p.covers).zip(&gaps) {
            *x = (*x + step * g).clamp(-(c.over_cost as f64), c.under_cost as f64);
        }
    }
    Some(Outcome {
        roster: best.filter(|b| rank(&b.score) < rank(&start.score)),
        bound: best_bound,
        pools,
    })
}

/// The relaxation window by window (`Planner::relaxation_windows`), on a horizon too long to
/// plan whole: the windows whose covers cost most first, each for `WINDOW_ROUNDS` rounds (or
/// its share of the time left), each starting from the roster the last left and from its own
/// prices of its last turn; turns go round the windows again while a round of them gains.
/// `state` becomes the best roster found (`progress` hears each better one); returns the plans
/// seen in the last window, for the local search to recombine.
pub(super) fn search_windows<'a>(
    state: &mut State<'a>,
    planner: &mut Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    until: Instant,
    progress: &mut dyn FnMut(&super::Score),
) -> Option<Pools<'a>> {
    let p = state.p;
    if !applies(p) {
        return None;
    }
    let windows = planner.relaxation_windows(p);
    let mut prices = vec![Vec::new(); windows.len()];
    let mut pools = None;
    loop {
        let mut cost = vec![0i64; windows.len()];
        for (c, cover) in p.covers.iter().enumerate() {
            let Some(t) = planner.cover_task[c] else {
                continue;
            };
            let day = day_of(&p.tasks[t]);
            if let Some(i) = windows.iter().position(|x| x.contains(&day)) {
                cost[i] += cover.cost(state.cover_filled[c]);
            }
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(cost[i]), i));
        let before = rank(&state.score);
        for (done, &i) in order.iter().enumerate() {
            let now = Instant::now();
            if now >= until {
                return pools;
            }
            let share = (until - now) / (order.len() - done) as u32;
            let window = Window {
                days: windows[i].clone(),
                most_rounds: WINDOW_ROUNDS,
                price: &mut prices[i],
            };
            let until = now + share;
            let Some(outcome) = search(state, planner, by_day, rng, until, window, &mut |_| {})
            else {
                return pools;
            };
            if let Some(better) = outcome.roster {
                *state = better;
                progress(&state.score);
            }
            pools = Some(outcome.pools);
        }
        if rank(&state.score) >= before {
            return pools;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use super::super::{
        day_planned_test_problem, violations, Contract, Cover, Problem, Task, Worker,
    };
    use super::*;

    pub(in super::super) const DAYS: usize = 5;
    const KINDS: u16 = 2;

    /// Two workers, five days, two kinds (no early the day after a late), a cover line per day
    /// and kind with two spare places, a few requests; no per-kind maximum binds.
    pub(in super::super) fn random_problem(rng: &mut Rng) -> Problem {
        let mut covers = Vec::new();
        let mut tasks = Vec::new();
        for day in 0..DAYS {
            for kind in 0..KINDS {
                let cover = covers.len();
                let required = rng.below(3) as u32;
                covers.push(Cover {
                    required,
                    under_cost: 1 + rng.below(100) as i64,
                    over_cost: 1 + rng.below(5) as i64,
                });
                let start = day as i64 * 1440 + i64::from(kind) * 480;
                for _ in 0..required + 2 {
                    tasks.push(Task {
                        start,
                        end: start + 480,
                        headcount: 1,
                        eligible: vec![0, 1],
                        kind,
                        cover: Some(cover),
                        ..Default::default()
                    });
                }
            }
        }
        let worker = |rng: &mut Rng| {
            let mut requests = || {
                (0..2)
                    .map(|_| {
                        (
                            rng.below(DAYS),
                            rng.below(usize::from(KINDS)) as u16,
                            1 + rng.below(50) as i64,
                        )
                    })
                    .collect()
            };
            let (on_requests, off_requests) = (requests(), requests());
            Worker {
                max_minutes_per_week: i64::MAX / 64,
                km_to_person: vec![0.0],
                contract: Some(Contract {
                    max_per_kind: vec![20, 20],
                    min_minutes: 480 * (1 + rng.below(2) as i64),
                    max_minutes: 480 * (3 + rng.below(2) as i64),
                    min_consecutive: 1 + rng.below(2) as u32,
                    max_consecutive: 2 + rng.below(2) as u32,
                    min_days_off: 1,
                    max_weekends: 1,
                    on_requests,
                    off_requests,
                }),
                ..Default::default()
            }
        };
        let workers = vec![worker(rng), worker(rng)];
        day_planned_test_problem(tasks, workers, covers, DAYS)
    }

    /// Every way worker `w` alone may work the days (a kind or off each day) that keeps their
    /// contract, as the cover of each day worked.
    pub(in super::super) fn plans_alone(p: &Problem, w: usize) -> Vec<Vec<usize>> {
        let kinds = usize::from(KINDS) + 1;
        let mut plans = Vec::new();
        for code in 0..kinds.pow(DAYS as u32) {
            let mut state = State::new(p);
            let mut covers = Vec::new();
            let mut ok = true;
            for day in 0..DAYS {
                let choice = code / kinds.pow(day as u32) % kinds;
                if choice == 0 {
                    continue;
                }
                let cover = day * usize::from(KINDS) + choice - 1;
                let t = (0..p.tasks.len())
                    .find(|&t| p.tasks[t].cover == Some(cover))
                    .unwrap();
                ok &= state.can_take(t, w, None);
                if !ok {
                    break;
                }
                state.apply(t, w, 1);
                covers.push(cover);
            }
            let term = &state.worker_terms[w];
            if ok && term.shortfall() == 0 {
                plans.push(covers);
            }
        }
        plans
    }

    /// The benchmark's objective for one plan per worker: cover and requests.
    pub(in super::super) fn objective(p: &Problem, plans: [&Vec<usize>; 2]) -> i64 {
        let mut filled = vec![0u32; p.covers.len()];
        let mut cost = 0;
        for (w, plan) in plans.iter().enumerate() {
            let c = p.workers[w].contract.as_ref().unwrap();
            let worked = |day: usize, kind: u16| {
                plan.contains(&(day * usize::from(KINDS) + usize::from(kind)))
            };
            cost += c
                .on_requests
                .iter()
                .filter(|r| !worked(r.0, r.1))
                .map(|r| r.2)
                .sum::<i64>();
            cost += c
                .off_requests
                .iter()
                .filter(|r| worked(r.0, r.1))
                .map(|r| r.2)
                .sum::<i64>();
            for &k in plan.iter() {
                filled[k] += 1;
            }
        }
        cost + p
            .covers
            .iter()
            .zip(&filled)
            .map(|(c, &n)| c.cost(n))
            .sum::<i64>()
    }

    #[test]
    fn combining_plans_finds_the_cheapest_pair_and_never_crowds_a_cover() {
        let mut rng = Rng(5);
        for _ in 0..20 {
            let p = random_problem(&mut rng);
            let alone = [plans_alone(&p, 0), plans_alone(&p, 1)];
            let best = alone[0]
                .iter()
                .flat_map(|a| alone[1].iter().map(move |b| [a, b]))
                .map(|plans| objective(&p, plans))
                .min()
                .unwrap();
            // Every plan each worker could work, as the pools.
            let task_of = |c: usize| (0..p.tasks.len()).find(|&t| p.tasks[t].cover == Some(c));
            let plans: Vec<Vec<Plan>> = (0..2)
                .map(|w| {
                    alone[w]
                        .iter()
                        .map(|covers| {
                            let tasks: Vec<usize> =
                                covers.iter().map(|&c| task_of(c).unwrap()).collect();
                            Plan::of(&p, w, &tasks)
                        })
                        .collect()
                })
                .collect();
            let mut places: Vec<Vec<usize>> = vec![Vec::new(); p.covers.len()];
            for (t, task) in p.tasks.iter().enumerate() {
                places[task.cover.unwrap()].push(t);
            }
            let requested: i64 = p
                .workers
                .iter()
                .flat_map(|w| w.contract.as_ref().unwrap().on_requests.iter().map(|r| r.2))
                .sum();
            let mut pick = vec![0, 0];
            let (_, found) = combine(&p, &plans, &places, &mut pick, &mut rng, 2_000);
            assert_eq!(found + requested, best, "the cheapest pair of plans");
            assert_eq!(
                objective(&p, [&alone[0][pick[0]], &alone[1][pick[1]]]),
                best
            );

            // With one place per cover, two plans may not share a cover.
            let one: Vec<Vec<usize>> = places.iter().map(|x| x[..1].to_vec()).collect();
            let mut pick = vec![0, 0];
            combine(&p, &plans, &one, &mut pick, &mut rng, 2_000);
            let (a, b) = (&plans[0][pick[0]].covers, &plans[1][pick[1]].covers);
            assert!(a.iter().all(|c| !b.contains(c)), "a cover crowded");
        }
    }

    /// The best roster's objective over every pair of plans, and the tasks by day.
    pub(in super::super) fn best_by_brute_force(p: &Problem) -> (i64, Vec<Vec<usize>>) {
        let (first, second) = (plans_alone(p, 0), plans_alone(p, 1));
        let best = first
            .iter()
            .flat_map(|a| second.iter().map(move |b| [a, b]))
            .map(|plans| objective(p, plans))
            .min()
            .unwrap();
        let mut by_day = vec![Vec::new(); DAYS];
        for (t, task) in p.tasks.iter().enumerate() {
            by_day[day_of(task)].push(t);
        }
        (best, by_day)
    }

    #[test]
    fn the_bound_never_passes_the_best_roster_and_the_roster_keeps_every_rule() {
        let mut rng = Rng(11);
        for _ in 0..12 {
            let p = random_problem(&mut rng);
            let (best, by_day) = best_by_brute_force(&p);
            let start = State::new(&p);
            let mut planner = Planner::new(&p);
            let until = Instant::now() + Duration::from_millis(200);
            let mut heard = Vec::new();
            let outcome = search(
                &start,
                &mut planner,
                &by_day,
                &mut rng,
                until,
                Window::whole(&p, &mut Vec::new()),
                &mut |s| heard.push(s.total),
            )
            .unwrap();
            assert!(
                outcome.bound <= best as f64 + 1e-9,
                "bound {} above the best {best}",
                outcome.bound
            );
            let roster = outcome.roster.expect("a roster that keeps every contract");
            assert_eq!(roster.score.shortfall(), 0);
            assert!(roster.score.total >= best);
            assert!(violations(&p, &roster.assigned).is_empty());
            assert_eq!(
                heard.last(),
                Some(&roster.score.total),
                "the best was not heard"
            );
        }
    }
}

//! Re-planning one worker's whole roster at once, for day-planned contracts: given everyone
//! else's work, the cheapest sequence of days on and off (and of which kind) that keeps every
//! rule of the worker's contract, found by dynamic programming over the days.
//!
//! The one-place moves change a worker's days one at a time, and a contract's minima (runs of
//! two or more days, two or three days off between runs, total minutes) make almost every
//! single step on the way from one good pattern to another illegal or costly. This move jumps
//! straight to the best pattern, so it also makes a contract-breaking roster keep every
//! contract: each worker's rules concern that worker alone.
//!
//! State per day: the run so far (days off, capped at the minimum; or days on and the class of
//! the kind worked today, with whether the run began on the first day and so is exempt from
//! the minimum), weekends worked, and minutes worked (in units of the largest common divisor
//! of the shifts' lengths). A class is the kinds that may be followed by the same kinds
//! (`Planner::row_class`): the next day needs nothing else of today, so a plan over 32 kinds
//! in four start bands holds four classes' runs; the kind taken each day is kept beside the
//! back pointers. Maxima per kind are kept by pricing each kind and planning again (a Lagrangian
//! step; for the relaxation's priced plans, bisected between too low and enough, or started from
//! the worker's prices of the round before) and taking the cheapest plan that passes no maximum.
//! The cost of a day's work is what it changes in the terms that are separable by day (cover, open
//! places, requests, pay, travel, work outside the core team); the whole score decides afterwards
//! whether the move stands.
//!
//! Where whole horizons are planned (`plans_whole`), every plan counts the tightest binding
//! maximum in its states; a price on any other reaches only plans on the lower convex hull of
//! cost against count, so where two maxima bind for one worker (Curtois instances 8 and 10)
//! column generation can miss plans and its optimum is an estimate: on instance 8 its bound came back 1,313 (seed 2, 60 s), above the best
//! known 1,300. Planning again counting a second kind where its price left it under its maximum
//! brought it to 1,308.9 (seed 2), all three kinds 1,296.6 (75 million states, far past
//! `MAX_BACK`), but the dearer rounds made instance 8's 10 s median worse (1,451 and 1,504 in two
//! sets of five against 1,368; 60 s 1,322 and 1,316 against 1,325; instance 10 unchanged), so it
//! was not kept (2026-12-07).
//!
//! The local search's plans priced every maximum until then, counting none (they still do on
//! horizons planned in windows, where counting left the generated 12-week instances' contracts
//! broken): about 20 million moves in a 60 s search of instance 8 against 12.5 million
//! counting, but a plan off the hull was out of every move's reach, and rosters settled with a
//! worker short of their maximum of nights and a night short (one place short is 100).
//! Counting took instance 8's 60 s median of five from 1,319 to 1,307 and instance 10's 10 s
//! median of three from 4,711 to 4,632; instance 12's 10 s runs came out higher (4,399, 4,579,
//! 4,491, 4,795, 4,571: a median of 4,571 against 4,377 before).
//!
//! The kind is counted lazily: only from the first pricing round whose plan passes its maximum,
//! that round planned again counting it. A plan that keeps the maximum uncounted is the
//! cheapest counted plan too, so the plans are as cheap, and most rounds (the maximum not
//! binding at the prices of the moment) hold a fifth of the states or fewer. On instance 12 at
//! 10 s (five runs, seeds 1, 3, 5, 7 and 9, on a machine doing about a quarter of the moves of
//! the one above) the median went from 5,349 counting from the first round to 4,724 (4,842
//! with the local search's plans counting nothing).
//!
//! On long horizons (a year, dozens of kinds) a worker's whole plan would hold billions of
//! states. There the plan covers a window of whole weeks (`Planner::window`, the most that fit
//! `MAX_PRICED_BACK`), with the rest of the worker's roster fixed around it: the window starts
//! from the run the days before it leave (its kind, length and exemption, or days off so far),
//! ends only in states the days after it accept (successions, runs past their maximum), with
//! any stretch meeting the boundary short of its minimum priced as the score prices it, and has
//! the minutes, weekends and per-kind counts outside it taken from the contract's bounds. A
//! window's minutes are priced rather than counted, as the per-kind maxima are (a price per
//! unit raised while the plan works too much and lowered while it works too little, bisected
//! once the kinds keep their maxima). Pricing can step over the band (many places cost alike:
//! a draw below one unit of score splits them, but not always enough), and then a corridor a
//! day's work either side of a line drifting from the nearest plan's minutes to the band counts
//! them exactly in few states (`Units::offset`).
//!
//! A window re-planned with the rest fixed mends only what lies in it. A worker whose roster as
//! a whole breaks the contract (short of minutes across the horizon, say, as a greedy roster
//! leaves many) is planned in turn instead (`Planner::replan_in_turn`): all their work taken
//! away and their windows planned first to last, each held to its share of the minutes and
//! weekends (`Fit::InTurn`), so the windows after it can still meet the contract. On a 52-week
//! generated instance with 150 staff one such sweep of every worker takes about two seconds
//! and leaves a roster keeping every contract (`scripts/bench-generated.sh`).

use std::ops::Range;

use super::{day_of, Rng, State};

/// Minute units above this make a plan too large to be worth it (the move is skipped).
const MAX_UNITS: usize = 400;
/// The most states times days a plan counting minutes exactly may hold (its back pointers, 4
/// bytes each: 24 MB).
const MAX_BACK: usize = 6_000_000;
/// The most states times days of a plan that prices minutes instead of counting them: the
/// window is chosen so, to keep each plan to a millisecond or two (a sweep plans every
/// worker's every window).
const MAX_PRICED_BACK: usize = 30_000;
/// The local search's plans count in these fractions of a unit of score, so that a price of
/// minutes can move in steps finer than a unit (and ties between places be broken below one).
const MARGINAL_SCALE: i64 = 16;
/// The most states times days of a corridor of minutes around a priced plan.
const MAX_CORRIDOR_BACK: usize = 1_000_000;
/// The weeks of a relaxation's window where the horizon is planned in windows: on the
/// generated 26-week instance (100 staff) a round of every worker's plan took 28 ms over two
/// weeks and 470 ms over eight, and rounds of two weeks gained more for the time.
const RELAX_WEEKS: usize = 2;
/// Planning again with dearer kinds: at most this many times.
const PRICE_ROUNDS: usize = 12;

/// Work a worker could take on a day: the kind, the place (task) and what it would cost.
#[derive(Clone, Copy)]
struct DayWork {
    kind: usize,
    /// The kind's place among the kinds this worker is offered (the plan's own numbering).
    slot: usize,
    /// The class of the kind's successions (`Planner::row_class`, numbered for the plan).
    class: usize,
    task: usize,
    cost: i64,
    units: usize,
    /// This round's price of the day's work on top of its cost: its kind's price and, where
    /// minutes are priced, theirs (set before each plan, so the inner loop only adds it).
    priced: i64,
}

/// Reusable buffers: a plan allocates nothing once warm.
#[derive(Default)]
pub(super) struct Planner {
    cost: Vec<i64>,
    next: Vec<i64>,
    active: Vec<u32>,
    next_active: Vec<u32>,
    back: Vec<u32>,
    /// Per state and day, the option taken to reach it (`NO_CHOICE`: a day off).
    choice: Vec<u16>,
    options: Vec<Vec<DayWork>>,
    /// Per kind, the first kind whose successions are the same (what may not follow it):
    /// a run's state needs only this class of its last day, not the kind, so plans over
    /// dozens of kinds in a few start bands hold a few classes' states.
    row_class: Vec<usize>,
    /// Per cover requirement, one of its places (for the workers who could fill it).
    pub(super) cover_task: Vec<Option<usize>>,
    /// Per worker, the weeks of their windows (`Planner::window`).
    window_weeks: Vec<usize>,
    plans_whole: bool,
    /// Price minutes even where they could be counted (tests of the priced plans).
    price_minutes: bool,
}

const NONE: u32 = u32::MAX;
const NO_CHOICE: u16 = u16::MAX;

/// Why no plan came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoPlan {
    /// No plan of the window keeps the contract with the roster around it.
    Infeasible,
    /// The window's states would not fit `MAX_BACK` or `MAX_UNITS`.
    TooLarge,
}

/// How a window's plan fits the worker's roster outside it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fit {
    /// The roster around the window stands: the plan keeps the contract with it.
    Around,
    /// The days after the window are empty, to be planned next: the plan keeps to the
    /// window's share of the contract's minutes and weekends (`Planner::replan_in_turn`).
    InTurn,
}

/// Gives worker `w` the plan's work, recording how to undo; false when a rule outside the
/// contract refuses a day of it.
fn take(
    state: &mut State<'_>,
    w: usize,
    plan: Vec<Option<DayWork>>,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    for o in plan.into_iter().flatten() {
        if !state.can_take(o.task, w, None) {
            return false;
        }
        state.apply(o.task, w, 1);
        undo.push((o.task, w, -1));
    }
    true
}

/// The run a window starts in, left by the days before it.
#[derive(Clone, Copy)]
enum Before {
    /// Days off so far (at least 1), or enough when the stretch began with the horizon.
    Off(usize),
    On {
        kind: usize,
        length: usize,
        exempt: bool,
    },
}

/// What the days after a window hold from its end: the run that begins there.
#[derive(Clone, Copy)]
enum After {
    /// The window ends with the horizon.
    Horizon,
    On {
        kind: usize,
        length: usize,
        touches_end: bool,
    },
    Off {
        length: usize,
        touches_end: bool,
    },
}

/// A worker's roster outside a window, as the window's plan must fit it.
struct Around {
    minutes: i64,
    /// Shifts of each kind.
    per_kind: Vec<u32>,
    weekends: u32,
    before: Before,
    after: After,
}

impl Around {
    fn of(state: &State<'_>, w: usize, window: &Range<usize>) -> Self {
        let p = state.p;
        let dk = &state.day_kind[w];
        let days = dk.len();
        let mut minutes = 0;
        let mut per_kind = vec![0u32; p.cannot_follow.len().max(1)];
        for &t in &state.timeline[w] {
            let task = &p.tasks[t];
            if window.contains(&day_of(task)) {
                continue;
            }
            minutes += task.minutes();
            if let Some(n) = per_kind.get_mut(usize::from(task.kind)) {
                *n += 1;
            }
        }
        let works = |d: usize| !window.contains(&d) && dk.get(d).is_some_and(|&k| k >= 0);
        let weekends = (0..days / 7)
            .filter(|&k| works(7 * k + 5) || works(7 * k + 6))
            .count() as u32;
        let before = match window.start.checked_sub(1) {
            None => Before::Off(usize::MAX),
            Some(last) => {
                let on = dk[last] >= 0;
                let mut d = last;
                while d > 0 && (dk[d - 1] >= 0) == on {
                    d -= 1;
                }
                let length = last - d + 1;
                match (on, d == 0) {
                    (true, exempt) => Before::On {
                        kind: dk[last] as usize,
                        length,
                        exempt,
                    },
                    (false, true) => Before::Off(usize::MAX),
                    (false, false) => Before::Off(length),
                }
            }
        };
        let after = if window.end >= days {
            After::Horizon
        } else {
            let first = window.end;
            let on = dk[first] >= 0;
            let mut d = first;
            while d + 1 < days && (dk[d + 1] >= 0) == on {
                d += 1;
            }
            let (length, touches_end) = (d - first + 1, d + 1 == days);
            if on {
                After::On {
                    kind: dk[first] as usize,
                    length,
                    touches_end,
                }
            } else {
                After::Off {
                    length,
                    touches_end,
                }
            }
        };
        Self {
            minutes,
            per_kind,
            weekends,
            before,
            after,
        }
    }
}

/// A worker's plan in the making, decoded from a state: days off so far (capped), or a run.
#[derive(Clone, Copy)]
enum Run {
    Off(usize),
    On {
        exempt: bool,
        class: usize,
        length: usize,
    },
}

/// Priced plans count in these fractions of a unit of score, so that prices can move in
/// small steps.
pub(super) const PRICE_SCALE: i64 = 4096;

/// How a plan costs a cover requirement's place.
#[derive(Clone, Copy)]
enum Costing<'a> {
    /// By what filling one more changes in the roster as it stands.
    Marginal,
    /// At a price per cover requirement (in `PRICE_SCALE` units): the relaxation's.
    Priced(&'a [i64]),
}

impl Planner {
    pub(super) fn new(p: &super::Problem) -> Self {
        let mut cover_task = vec![None; p.covers.len()];
        for (t, task) in p.tasks.iter().enumerate() {
            if let Some(c) = task.cover {
                cover_task[c].get_or_insert(t);
            }
        }
        // Per worker, the shape of their plans' states: the minute unit, the most units a day
        // and the kinds they may work.
        let mut shapes = vec![(0i64, 0i64, Vec::<usize>::new()); p.workers.len()];
        for task in p.tasks.iter().filter(|t| !t.fixed && t.headcount == 1) {
            for &w in &task.eligible {
                let Some(c) = p.workers[w].contract.as_ref() else {
                    continue;
                };
                let kind = usize::from(task.kind);
                if c.max_per_kind.get(kind).is_none_or(|&m| m == 0) {
                    continue;
                }
                let shape = &mut shapes[w];
                shape.0 = gcd(shape.0, task.minutes());
                shape.1 = shape.1.max(task.minutes());
                if !shape.2.contains(&kind) {
                    shape.2.push(kind);
                }
            }
        }
        let row_class: Vec<usize> = (0..p.cannot_follow.len())
            .map(|k| {
                (0..k)
                    .find(|&j| p.cannot_follow[j] == p.cannot_follow[k])
                    .unwrap_or(k)
            })
            .collect();
        let total = p.days.div_ceil(7).max(1);
        // Each worker's windows, decided once: their whole horizon when its plan can count
        // minutes, else the most whole weeks whose priced plan fits `MAX_PRICED_BACK`.
        let mut plans_whole = true;
        let window_weeks = shapes
            .into_iter()
            .enumerate()
            .map(|(w, (unit, longest, kinds))| {
                let Some(c) = p.workers[w].contract.as_ref() else {
                    return total;
                };
                let mut classes: Vec<usize> = kinds
                    .iter()
                    .map(|&k| row_class.get(k).copied().unwrap_or(k))
                    .collect();
                classes.sort_unstable();
                classes.dedup();
                let shape = WorkerShape {
                    unit: unit.max(1),
                    day_units: usize::try_from(longest / unit.max(1)).unwrap_or(0),
                    classes: classes.len(),
                };
                let (back, _, units) = shape.estimate(p, c, total);
                if back <= MAX_BACK && units <= MAX_UNITS {
                    return total;
                }
                plans_whole = false;
                let mut weeks = total;
                while weeks > 1 && shape.estimate(p, c, weeks).1 > MAX_PRICED_BACK {
                    weeks -= 1;
                }
                weeks
            })
            .collect();
        Self {
            cover_task,
            window_weeks,
            plans_whole,
            row_class,
            ..Self::default()
        }
    }

    /// Whether every worker's plan of the whole horizon counts minutes: the relaxations plan
    /// whole horizons, exactly.
    pub(super) fn plans_whole(&self) -> bool {
        self.plans_whole
    }

    /// A window for worker `w`'s plan: the whole horizon when it fits, else the most whole
    /// weeks that do, starting on a random week.
    pub(super) fn window(&self, p: &super::Problem, w: usize, rng: &mut Rng) -> Range<usize> {
        let total = p.days.div_ceil(7).max(1);
        let weeks = self.window_weeks[w];
        let first = 7 * rng.below(total - weeks + 1);
        first..(first + 7 * weeks).min(p.days)
    }

    /// The windows the relaxations plan all workers in at once, first to last: the whole
    /// horizon where every worker's plan of it counts minutes, else `RELAX_WEEKS` weeks or
    /// fewer, as every worker's priced plan fits (`relax` prices each window's cover with the
    /// roster around it fixed).
    pub(super) fn relaxation_windows(&self, p: &super::Problem) -> Vec<Range<usize>> {
        let weeks = self
            .window_weeks
            .iter()
            .copied()
            .min()
            .unwrap_or(1)
            .clamp(1, RELAX_WEEKS);
        (0..p.days)
            .step_by(7 * weeks)
            .map(|first| first..(first + 7 * weeks).min(p.days))
            .collect()
    }

    /// Worker `w`'s windows from first to last, covering the horizon.
    pub(super) fn windows(&self, p: &super::Problem, w: usize) -> Vec<Range<usize>> {
        let weeks = self.window_weeks[w];
        (0..p.days)
            .step_by(7 * weeks)
            .map(|first| first..(first + 7 * weeks).min(p.days))
            .collect()
    }

    /// Takes worker `w`'s work within `window` away and gives them the best plan of it
    /// instead, recording how to undo (`(task, worker, sign)` to apply in reverse). `jitter`
    /// adds a little noise to each day's cost, so that plans of equal cost take turns. False
    /// when the worker has no contract, has fixed work, the plan would be too large, or a rule
    /// outside the contract refuses it (the caller undoes what was recorded).
    pub(super) fn replan(
        &mut self,
        state: &mut State<'_>,
        by_day: &[Vec<usize>],
        w: usize,
        window: Range<usize>,
        jitter: Option<(&mut Rng, usize)>,
        undo: &mut Vec<(usize, usize, i64)>,
    ) -> bool {
        let p = state.p;
        if p.workers[w].contract.is_none()
            || p.days == 0
            || window.is_empty()
            || state.timeline[w].iter().any(|&t| p.tasks[t].fixed)
        {
            return false;
        }
        for t in state.timeline[w].clone() {
            if window.contains(&day_of(&p.tasks[t])) {
                state.apply(t, w, -1);
                undo.push((t, w, 1));
            }
        }
        let costing = Costing::Marginal;
        let Ok(plan) = self.best_plan(state, by_day, w, window, costing, Fit::Around, jitter, None)
        else {
            return false;
        };
        take(state, w, plan, undo)
    }

    /// Takes all of worker `w`'s work away and plans their windows again from first to last,
    /// each window held to its share of the contract's minutes and weekends so that the windows
    /// after it can still meet the contract (`Fit::InTurn`). Unlike re-planning one window
    /// with the rest fixed, this mends a worker whose roster as a whole is short of minutes
    /// or broken across windows (a greedy roster's, say). False as `replan`.
    pub(super) fn replan_in_turn(
        &mut self,
        state: &mut State<'_>,
        by_day: &[Vec<usize>],
        w: usize,
        undo: &mut Vec<(usize, usize, i64)>,
    ) -> bool {
        let p = state.p;
        if p.workers[w].contract.is_none()
            || p.days == 0
            || state.timeline[w].iter().any(|&t| p.tasks[t].fixed)
        {
            return false;
        }
        for t in state.timeline[w].clone() {
            state.apply(t, w, -1);
            undo.push((t, w, 1));
        }
        for window in self.windows(p, w) {
            let costing = Costing::Marginal;
            let fit = Fit::InTurn;
            let Ok(plan) = self.best_plan(state, by_day, w, window, costing, fit, None, None)
            else {
                return false;
            };
            if !take(state, w, plan, undo) {
                return false;
            }
        }
        true
    }

    /// Worker `w`'s cheapest plan of `window` (with their roster around it fixed) when each
    /// cover requirement's place is worth `price` (`PRICE_SCALE` to a unit of score) rather
    /// than what it changes in the roster as it stands: the places to take (any free one of
    /// each cover). None when no plan keeps the contract or the plan would be too large.
    ///
    /// `kind_price` (per kind) starts the pricing of per-kind maxima where the last plan's
    /// left off and keeps where this one's ends: between rounds of the relaxation the prices
    /// move little, so a plan or two is usually enough rather than a bisection from nothing.
    pub(super) fn priced_plan(
        &mut self,
        state: &State<'_>,
        by_day: &[Vec<usize>],
        w: usize,
        window: Range<usize>,
        price: &[i64],
        kind_price: &mut [i64],
    ) -> Option<Vec<usize>> {
        let plan = self
            .best_plan(
                state,
                by_day,
                w,
                window,
                Costing::Priced(price),
                Fit::Around,
                None,
                Some(kind_price),
            )
            .ok()?;
        Some(plan.into_iter().flatten().map(|o| o.task).collect())
    }

    /// The cheapest plan of `window` for worker `w` (who has a contract) given the free places
    /// in `state` and their roster around it, as the work taken each day of the window (None:
    /// off).
    #[allow(clippy::too_many_arguments)]
    fn best_plan(
        &mut self,
        state: &State<'_>,
        by_day: &[Vec<usize>],
        w: usize,
        window: Range<usize>,
        costing: Costing<'_>,
        fit: Fit,
        mut jitter: Option<(&mut Rng, usize)>,
        warm: Option<&mut [i64]>,
    ) -> Result<Vec<Option<DayWork>>, NoPlan> {
        let p = state.p;
        let c = p.workers[w].contract.as_ref().ok_or(NoPlan::Infeasible)?;
        let scale = match costing {
            Costing::Marginal => MARGINAL_SCALE,
            Costing::Priced(_) => PRICE_SCALE,
        };
        let around = Around::of(state, w, &window);
        // Each kind's maximum less what the roster around the window works of it.
        let max_kind = |kind: usize| {
            c.max_per_kind
                .get(kind)
                .copied()
                .unwrap_or(0)
                .saturating_sub(around.per_kind.get(kind).copied().unwrap_or(0))
        };

        // What each day's work would cost, the cheapest free place per kind.
        let first = window.start;
        let days = window.len();
        let worker = &p.workers[w];
        let weights = &p.weights;
        if self.options.len() < days {
            self.options.resize_with(days, Vec::new);
        }
        let mut unit = 0i64;
        let mut kinds: Vec<usize> = Vec::new();
        for (i, options) in self.options.iter_mut().take(days).enumerate() {
            options.clear();
            for &t in by_day.get(first + i).map_or(&[][..], |v| v) {
                let task = &p.tasks[t];
                let kind = usize::from(task.kind);
                if task.headcount != 1
                    || !state.assigned[t].is_empty()
                    || max_kind(kind) == 0
                    || task.eligible.binary_search(&w).is_err()
                {
                    continue;
                }
                let minutes = task.minutes();
                let km = worker.km_to_person.get(task.person).copied().unwrap_or(0.0);
                let mut cost = -minutes * weights.open_minute
                    + weights.pay_penny * worker.hourly_pay_pence.get() * minutes / 60
                    + weights.travel_km * km.round() as i64;
                if !worker.core_team_of.contains(&task.person) {
                    cost += weights.outside_team_minute * minutes;
                }
                cost *= scale;
                if let Some(k) = task.cover {
                    cost += match costing {
                        Costing::Marginal => {
                            let cover = &p.covers[k];
                            let filled = state.cover_filled[k];
                            (cover.cost(filled + 1) - cover.cost(filled)) * scale
                        }
                        Costing::Priced(price) => -price[k],
                    };
                }
                match options.iter_mut().find(|o| o.kind == kind) {
                    Some(o) if o.cost <= cost => {}
                    Some(o) => {
                        o.task = t;
                        o.cost = cost;
                    }
                    None => {
                        let slot = kinds.iter().position(|&k| k == kind).unwrap_or_else(|| {
                            kinds.push(kind);
                            kinds.len() - 1
                        });
                        options.push(DayWork {
                            kind,
                            slot,
                            class: 0,
                            task: t,
                            cost,
                            units: 0,
                            priced: 0,
                        });
                    }
                }
                unit = gcd(unit, minutes);
            }
        }
        // The run the window starts in needs its kind among the slots, offered or not.
        if let Before::On { kind, .. } = around.before {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        // Each slot's class of successions, numbered for this plan, and a kind of each class.
        let mut reps: Vec<usize> = Vec::new();
        let class_of: Vec<usize> = kinds
            .iter()
            .map(|&k| {
                let row = |k: usize| self.row_class.get(k).copied().unwrap_or(k);
                reps.iter()
                    .position(|&r| row(r) == row(k))
                    .unwrap_or_else(|| {
                        reps.push(k);
                        reps.len() - 1
                    })
            })
            .collect();
        for o in self.options.iter_mut().take(days).flatten() {
            o.class = class_of[o.slot];
        }
        let offered = unit > 0;
        let unit = unit.max(1);
        let mut adjust = |day: usize, kind: u16, by: i64| {
            if !window.contains(&day) {
                return;
            }
            if let Some(o) = self
                .options
                .get_mut(day - first)
                .and_then(|o| o.iter_mut().find(|o| o.kind == usize::from(kind)))
            {
                o.cost += by * scale;
            }
        };
        for &(day, kind, request) in &c.on_requests {
            adjust(day, kind, -request);
        }
        for &(day, kind, request) in &c.off_requests {
            adjust(day, kind, request);
        }
        let mut day_units = 0;
        for o in self.options.iter_mut().take(days).flatten() {
            o.units = usize::try_from(p.tasks[o.task].minutes() / unit).unwrap_or(0);
            day_units = day_units.max(o.units);
            if let Some((rng, n)) = jitter.as_mut() {
                o.cost += rng.below(*n) as i64 * scale;
            }
        }
        // The minutes and weekends this window may work: what the contract leaves after the
        // roster around it or, planning in turn, this window's share of it.
        let (mut least, mut most, mut weekends_most) =
            (c.min_minutes, c.max_minutes, i64::from(c.max_weekends));
        if fit == Fit::InTurn && window.end < p.days {
            let share = window.end as f64 / p.days as f64;
            // A week's work either way: the windows after can make it up.
            let slack = c.max_minutes * 7 / p.days as i64;
            least = ((c.min_minutes as f64 * share) as i64 - slack).max(0);
            most = most.min((c.max_minutes as f64 * share).ceil() as i64 + slack);
            weekends_most = weekends_most.min((c.max_weekends as f64 * share).ceil() as i64 + 1);
        }
        let spare = most - around.minutes;
        if spare < 0 {
            return Err(NoPlan::Infeasible);
        }
        let short = (least - around.minutes).max(0);
        if short > spare {
            return Err(NoPlan::Infeasible);
        }
        let max_units = if offered {
            usize::try_from(spare / unit)
                .unwrap_or(usize::MAX)
                .min(days * day_units)
        } else {
            0
        };
        let min_units = usize::try_from((short + unit - 1) / unit).unwrap_or(usize::MAX);
        if min_units > max_units {
            return Err(NoPlan::Infeasible);
        }
        let weekends_left = usize::try_from(weekends_most - i64::from(around.weekends))
            .map_err(|_| NoPlan::Infeasible)?;
        // Per class, per slot: whether a day of the slot's kind may follow one of the class.
        let follows: Vec<Vec<bool>> = reps
            .iter()
            .map(|&a| kinds.iter().map(|&b| !p.cannot_follow[a][b]).collect())
            .collect();

        // Priced plans count the tightest maximum that could bind in the states themselves, so
        // that no price on it can hide a cheaper plan that keeps it (pricing alone reaches
        // only plans on the lower convex hull of cost against count); the others are priced.
        // So do the local search's plans where every worker's whole horizon is planned
        // exactly (`plans_whole`; the module doc gives what that gained). Elsewhere they price
        // them all: on the 12-week generated instances counting left contracts broken.
        let max_of = |s: usize| max_kind(kinds[s]) as usize;
        let counted = match costing {
            Costing::Marginal if !self.plans_whole => None,
            _ => (0..kinds.len())
                .filter(|&s| {
                    let offered = self
                        .options
                        .iter()
                        .take(days)
                        .filter(|o| o.iter().any(|o| o.slot == s));
                    max_of(s) < offered.count()
                })
                .min_by_key(|&s| (max_of(s), s)),
        };
        let mut shape = Shape {
            off_n: c.min_days_off.max(1) as usize,
            run_n: c.max_consecutive.max(1) as usize,
            min_run: c.min_consecutive as usize,
            weekends_n: weekends_left.min(days.div_ceil(7)) + 1,
            // None yet: see `counting_from` below.
            counted: (usize::MAX, 1),
            units_n: max_units + 1,
            classes: reps.len(),
            // Only a run begun on the horizon's first day is exempt from the minimum.
            exempt_n: if first == 0 || matches!(around.before, Before::On { exempt: true, .. }) {
                2
            } else {
                1
            },
        };
        // The kind is counted only from the first round whose plan passes its maximum, that
        // round planned again counting it (`counting_from`): a plan that keeps the maximum
        // uncounted is the cheapest of the counted plans too (they are among the uncounted and
        // it is one of them), in a fraction of the states. The size is the counted plan's, so
        // what fits is decided alike whether or not it comes to count.
        let counting_from = |s: usize| (s, max_of(s) + 1);
        let runs = shape.off_n + shape.exempt_n * shape.classes * shape.run_n;
        let size = runs * shape.weekends_n * counted.map_or(1, |s| counting_from(s).1);
        // Minutes counted in the states when they fit; else priced (`minute_price`), the
        // states holding none.
        // (A window shorter than the horizon counts them only within a priced window's
        // budget: a few weeks' plans counting minutes would be as slow as a whole horizon's.)
        let budget = if days == p.days {
            MAX_BACK
        } else {
            MAX_PRICED_BACK
        };
        let counting = !self.price_minutes
            && max_units <= MAX_UNITS
            && (size * shape.units_n).saturating_mul(days) <= budget;
        let minute_bounds = (short, spare);
        if !counting {
            if size.saturating_mul(days) > MAX_BACK {
                return Err(NoPlan::TooLarge);
            }
            shape.units_n = 1;
            for o in self.options.iter_mut().take(days).flatten() {
                o.units = 0;
                // Less than a unit of score, drawn from the place: many places cost alike
                // (every place over its cover, say), and a price that makes one of them worth
                // taking would otherwise make all of them so.
                o.cost += ((o.task as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8) as i64 % scale;
            }
        }
        let bounds = Bounds {
            first,
            horizon: p.days,
            kinds: &kinds,
            class_of: &class_of,
            reps: &reps,
            cannot_follow: &p.cannot_follow,
            min_days_off: c.min_days_off as usize,
            before: around.before,
            after: around.after,
            short_day: p.weights.short_day * scale,
        };
        // Per kind, the price is raised (doubling) while the plan passes its maximum and then
        // bisected between the highest price that passed it and the lowest that kept it: a
        // price too high gives the kind away for nothing. The cheapest plan that keeps every
        // maximum is the one.
        let mut price: Vec<i64> = kinds
            .iter()
            .map(|&k| warm.as_deref().and_then(|x| x.get(k)).copied().unwrap_or(0))
            .collect();
        let warmed = price.iter().any(|&x| x > 0);
        let mut passed = vec![0i64; kinds.len()];
        let mut kept: Vec<Option<i64>> = vec![None; kinds.len()];
        let mut best: Option<(i64, Vec<Option<DayWork>>, Vec<i64>)> = None;
        // Bisecting pays for priced plans; in the local search's marginal plans the first plan
        // that keeps the maxima does as well and is quicker (measured on the Curtois instances).
        // From a warm start, one try lower (for the kinds under their maximum) is enough.
        let refine = matches!(costing, Costing::Priced(_));
        let mut lowered = false;
        // The price of a unit of work (`unit` minutes), where minutes are priced: raised while
        // the plan works too much, lowered (below nothing: a reward) while too little, then
        // bisected.
        let mut pricing = !counting;
        let mut minute_price = 0i64;
        let (mut too_cheap, mut too_dear): (Option<i64>, Option<i64>) = (None, None);
        let minute_step = 4 * scale;
        // Pricing can step over a narrow band of minutes. Then the plan nearest to the band
        // (keeping every maximum) is the centre of a corridor: its minutes so far each day,
        // a few units either way, counted exactly in the states (`Units::offset`).
        let mut nearest: Option<(i64, Vec<i64>, Vec<i64>)> = None;
        let mut corridor: Vec<i64> = Vec::new();
        let mut units = Units {
            least: if counting { min_units } else { 0 },
            most: if counting { max_units } else { usize::MAX / 2 },
            offset: None,
        };
        for pass in 0..2 {
            if pass == 1 {
                let Some((distance, so_far, at_prices)) = nearest.take() else {
                    break;
                };
                if best.is_some() || !pricing {
                    break;
                }
                // The corridor drifts from the nearest plan's minutes so far to the band, a
                // day's work or so either way.
                let most_width = MAX_CORRIDOR_BACK / size.saturating_mul(days).max(1);
                let reach = (day_units as i64 + 2).min((most_width as i64 - 1) / 2);
                if reach < 1 {
                    break;
                }
                corridor.extend(so_far.iter().enumerate().map(|(d, &u)| {
                    u + (distance * d as i64).div_euclid(days.max(1) as i64) - reach
                }));
                shape.units_n = 2 * reach as usize + 1;
                for o in self.options.iter_mut().take(days).flatten() {
                    o.units = usize::try_from(p.tasks[o.task].minutes() / unit).unwrap_or(0);
                }
                units = Units {
                    least: min_units,
                    most: max_units,
                    offset: Some(&corridor),
                };
                price = at_prices;
                passed.fill(0);
                kept.fill(None);
                pricing = false;
            }
            let rounds = if pricing {
                2 * PRICE_ROUNDS
            } else {
                PRICE_ROUNDS
            };
            for _ in 0..rounds {
                let per_unit = if pricing { minute_price } else { 0 };
                for o in self.options.iter_mut().take(days).flatten() {
                    o.priced = price[o.slot] + per_unit * (p.tasks[o.task].minutes() / unit);
                }
                let planned = loop {
                    let Some(plan) = self.plan(days, &shape, &bounds, &follows, units) else {
                        break None;
                    };
                    let mut count = vec![0u32; kinds.len()];
                    let mut minutes = 0i64;
                    for o in plan.iter().flatten() {
                        count[o.slot] += 1;
                        minutes += p.tasks[o.task].minutes();
                    }
                    let over: Vec<usize> = (0..kinds.len())
                        .filter(|&s| count[s] > max_kind(kinds[s]))
                        .collect();
                    match counted {
                        Some(s) if shape.counted.0 != s && over.contains(&s) => {
                            shape.counted = counting_from(s);
                        }
                        _ => break Some((plan, count, minutes, over)),
                    }
                };
                let Some((plan, count, minutes, over)) = planned else {
                    break;
                };
                debug_assert!(counted.is_none_or(|s| !over.contains(&s)));
                // Minutes are priced once the kinds keep their maxima (their prices move
                // the minutes worked too).
                let minutes_kept = if pricing && over.is_empty() {
                    let (least, most) = minute_bounds;
                    let next = if minutes > most {
                        too_cheap = Some(minute_price);
                        Some(match too_dear {
                            Some(d) => (minute_price + d).div_euclid(2) + 1,
                            None => minute_price.max(0) * 2 + minute_step,
                        })
                    } else if minutes < least {
                        too_dear = Some(minute_price);
                        Some(match too_cheap {
                            Some(c) => (minute_price + c).div_euclid(2) - 1,
                            None => minute_price.min(0) * 2 - minute_step,
                        })
                    } else {
                        None
                    };
                    if let Some(next) = next {
                        minute_price = next;
                    }
                    if next.is_some() {
                        // Units to move into the band: to a day's work inside its edge.
                        let (least, most, worked) =
                            ((least + unit - 1) / unit, most / unit, minutes / unit);
                        let inward = ((most - least) / 2).min(day_units as i64);
                        let aim = if worked > most {
                            most - inward
                        } else {
                            least + inward
                        };
                        let distance = aim - worked;
                        if nearest.as_ref().is_none_or(|n| distance.abs() < n.0.abs()) {
                            let mut so_far = Vec::with_capacity(days + 1);
                            so_far.push(0);
                            let mut total = 0;
                            for o in &plan {
                                total += o.map_or(0, |o| p.tasks[o.task].minutes() / unit);
                                so_far.push(total);
                            }
                            nearest = Some((distance, so_far, price.clone()));
                        }
                    }
                    next.is_none()
                } else {
                    true
                };
                if over.is_empty() && !minutes_kept {
                    continue;
                }
                if over.is_empty() {
                    let cost = plan.iter().flatten().map(|o| o.cost).sum::<i64>();
                    if best.as_ref().is_none_or(|b| cost < b.0) {
                        best = Some((cost, plan, price.clone()));
                    }
                    let lower: Vec<usize> = (0..kinds.len())
                        .filter(|&s| refine && price[s] > passed[s] + scale)
                        .filter(|&s| !warmed || count[s] < max_kind(kinds[s]))
                        .collect();
                    if lower.is_empty() || (warmed && lowered) {
                        break;
                    }
                    lowered = true;
                    for s in lower {
                        kept[s] = Some(price[s]);
                        price[s] = (passed[s] + price[s]) / 2;
                    }
                } else {
                    for s in over {
                        passed[s] = price[s];
                        price[s] = match kept[s] {
                            Some(k) if k > price[s] + scale => (price[s] + k) / 2,
                            Some(k) => k,
                            None => price[s] * 2 + 16 * scale,
                        };
                    }
                }
            }
        }
        let (_, plan, price) = best.ok_or(NoPlan::Infeasible)?;
        if let Some(warm) = warm {
            for (&k, &x) in kinds.iter().zip(&price) {
                if let Some(slot) = warm.get_mut(k) {
                    *slot = x;
                }
            }
        }
        Ok(plan)
    }

    /// The cheapest plan of the window at the options' costs and this round's prices
    /// (`DayWork::priced`), as the work taken each day (None: off).
    fn plan(
        &mut self,
        days: usize,
        shape: &Shape,
        bounds: &Bounds<'_>,
        follows: &[Vec<bool>],
        units: Units<'_>,
    ) -> Option<Vec<Option<DayWork>>> {
        let Shape {
            off_n,
            run_n,
            min_run,
            weekends_n,
            counted: (counted, count_n),
            units_n,
            classes,
            exempt_n,
        } = *shape;
        // Runs: off_n states of days off, then (exempt, class, length) for days on.
        let runs = off_n + exempt_n * classes * run_n;
        let size = runs * weekends_n * count_n * units_n;
        let index = |run: usize, weekends: usize, count: usize, units: usize| {
            ((run * weekends_n + weekends) * count_n + count) * units_n + units
        };
        let work_run = |exempt: usize, class: usize, length: usize| {
            off_n + (exempt * classes + class) * run_n + (length - 1)
        };
        let decode = |run: usize| {
            if run < off_n {
                Run::Off(run + 1)
            } else {
                let r = run - off_n;
                Run::On {
                    exempt: r / (classes * run_n) == 1,
                    class: (r / run_n) % classes,
                    length: r % run_n + 1,
                }
            }
        };
        const INF: i64 = i64::MAX / 4;
        self.cost.clear();
        self.cost.resize(size, INF);
        self.next.clear();
        self.next.resize(size, INF);
        // Only states reached on a day are read back, and those were written that day.
        if self.back.len() < size * days {
            self.back.resize(size * days, NONE);
            self.choice.resize(size * days, NO_CHOICE);
        }
        // Before the window: the run the days before it leave (before the horizon: off for
        // long enough, so the first run may start at once).
        // No minutes yet: index 0, or in a corridor where its offset puts it.
        let start_units = usize::try_from(-units.offset.map_or(0, |o| o[0])).ok()?;
        let start = match bounds.before {
            Before::Off(length) => index(length.min(off_n) - 1, 0, 0, start_units),
            Before::On {
                kind,
                length,
                exempt,
            } => {
                let slot = bounds.kinds.iter().position(|&k| k == kind)?;
                if length > run_n || usize::from(exempt) >= exempt_n {
                    return None;
                }
                let class = bounds.class_of[slot];
                index(
                    work_run(usize::from(exempt), class, length),
                    0,
                    0,
                    start_units,
                )
            }
        };
        self.cost[start] = 0;
        self.active.clear();
        self.active.push(start as u32);
        let full_weeks = bounds.horizon / 7;
        // The minutes a state's index stands for, after `d` days: its units plus the offset.
        let offset = |d: usize| units.offset.map_or(0, |o| o[d]);
        for d in 0..days {
            let day = bounds.first + d;
            // A state's units index moves by this each day, besides the day's work.
            let shift = offset(d) - offset(d + 1);
            let most = units.most as i64 - offset(d + 1);
            let options = &self.options[d];
            let saturday = day % 7 == 5 && day / 7 < full_weeks;
            let sunday = day % 7 == 6 && day / 7 < full_weeks;
            let back = &mut self.back[d * size..(d + 1) * size];
            let choice = &mut self.choice[d * size..(d + 1) * size];
            let next = &mut self.next;
            let next_active = &mut self.next_active;
            next_active.clear();
            let mut relax = |to: usize, cost: i64, from: u32, taken: u16| {
                if next[to] == INF {
                    next_active.push(to as u32);
                }
                if cost < next[to] {
                    next[to] = cost;
                    back[to] = from;
                    choice[to] = taken;
                }
            };
            for &from in &self.active {
                let base = self.cost[from as usize];
                let from_index = from as usize;
                let run = from_index / (weekends_n * count_n * units_n);
                let weekends = (from_index / (count_n * units_n)) % weekends_n;
                let count = (from_index / units_n) % count_n;
                let units = (from_index % units_n) as i64 + shift;
                let (working, exempt, last, length) = match decode(run) {
                    Run::Off(length) => (false, 0, 0, length),
                    Run::On {
                        exempt,
                        class,
                        length,
                    } => (true, usize::from(exempt), class, length),
                };
                // A day off (outside a corridor of minutes, `units` may leave it).
                if units >= 0 && units < units_n as i64 {
                    let at = units as usize;
                    if !working {
                        relax(
                            index((length + 1).min(off_n) - 1, weekends, count, at),
                            base,
                            from,
                            NO_CHOICE,
                        );
                    } else if exempt == 1 || length >= min_run {
                        relax(index(0, weekends, count, at), base, from, NO_CHOICE);
                    }
                }
                // A day's work of each kind on offer.
                for (taken, o) in options.iter().enumerate() {
                    let (exempt, length) = if working {
                        if length >= run_n || !follows[last][o.slot] {
                            continue;
                        }
                        (exempt, length + 1)
                    } else {
                        if length < off_n {
                            continue;
                        }
                        (usize::from(day == 0 && exempt_n == 2), 1)
                    };
                    let weekends = weekends + usize::from(saturday || (sunday && !working));
                    let units = units + o.units as i64;
                    let count = count + usize::from(o.slot == counted);
                    if weekends >= weekends_n
                        || units < 0
                        || units >= units_n as i64
                        || units > most
                        || count >= count_n
                    {
                        continue;
                    }
                    let units = units as usize;
                    let to = index(work_run(exempt, o.class, length), weekends, count, units);
                    relax(to, base + o.cost + o.priced, from, taken as u16);
                }
            }
            for &i in &self.active {
                self.cost[i as usize] = INF;
            }
            std::mem::swap(&mut self.cost, &mut self.next);
            std::mem::swap(&mut self.active, &mut self.next_active);
        }
        // The end: enough minutes, and a run the days after the window can follow, costed by
        // any shortfall across the boundary (at the horizon's end any run: stretches touching
        // it are exempt).
        let (_, mut at) = self
            .active
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| (i % units_n) as i64 + offset(days) >= units.least as i64)
            .filter_map(|i| {
                let run = decode(i / (weekends_n * count_n * units_n));
                let end = bounds.end_cost(run, min_run, run_n)?;
                Some((self.cost[i] + end, i))
            })
            .min()?;
        let mut plan = vec![None; days];
        for d in (0..days).rev() {
            let taken = self.choice[d * size + at];
            if taken != NO_CHOICE {
                plan[d] = self.options[d].get(usize::from(taken)).copied();
            }
            let from = self.back[d * size + at];
            if from == NONE {
                return None;
            }
            at = from as usize;
        }
        // Leave the buffers clean for the next plan.
        for &i in &self.active {
            self.cost[i as usize] = INF;
        }
        Some(plan)
    }
}

/// The minutes a plan must work, in units: at least `least`, at most `most`. A state's units
/// index counts them from 0 or, in a corridor around another plan, from `offset[d]` after
/// `d` days (`offset[0]` before the first), so that a narrow band of counts takes few states.
#[derive(Clone, Copy)]
struct Units<'a> {
    least: usize,
    most: usize,
    offset: Option<&'a [i64]>,
}

/// Where a window lies and what surrounds it.
struct Bounds<'a> {
    /// The window's first day.
    first: usize,
    /// The horizon's days.
    horizon: usize,
    /// The kind of each slot.
    kinds: &'a [usize],
    /// The class of each slot, and a kind of each class.
    class_of: &'a [usize],
    reps: &'a [usize],
    cannot_follow: &'a [Vec<bool>],
    min_days_off: usize,
    before: Before,
    after: After,
    /// A day short of a minimum, in the plan's cost units.
    short_day: i64,
}

impl Bounds<'_> {
    /// What a plan ending in `run` costs across the window's end: None when the days after
    /// it cannot follow (a forbidden succession, a run past its maximum), else the days the
    /// stretches meeting at the boundary (or the one crossing it) fall short of their minima,
    /// priced as the score prices them (`short_day`), so a plan next to a short stretch left
    /// by the roster around it is still possible. A stretch touching the horizon's end (or a
    /// run that began with it) has no minimum.
    fn end_cost(&self, run: Run, min_run: usize, max_run: usize) -> Option<i64> {
        // Days a stretch falls short of its minimum (none when exempt).
        let short = |min: usize, length: usize, exempt: bool| {
            if exempt {
                0
            } else {
                min.saturating_sub(length)
            }
        };
        let days = match (run, self.after) {
            (_, After::Horizon) => 0,
            // A run going on past the boundary: one stretch.
            (
                Run::On {
                    exempt,
                    class,
                    length,
                },
                After::On {
                    kind,
                    length: more,
                    touches_end,
                },
            ) => {
                if self.cannot_follow[self.reps[class]][kind] || length + more > max_run {
                    return None;
                }
                short(min_run, length + more, exempt || touches_end)
            }
            (
                Run::Off(length),
                After::Off {
                    length: more,
                    touches_end,
                },
            ) => short(self.min_days_off, length + more, touches_end),
            // A stretch ending at the boundary and another beginning there. (Days off counted
            // up to the minimum stand for enough, as do those begun with the horizon.)
            (
                Run::On { exempt, length, .. },
                After::Off {
                    length: off,
                    touches_end,
                },
            ) => short(min_run, length, exempt) + short(self.min_days_off, off, touches_end),
            (
                Run::Off(length),
                After::On {
                    length: on,
                    touches_end,
                    ..
                },
            ) => short(self.min_days_off, length, false) + short(min_run, on, touches_end),
        };
        Some(days as i64 * self.short_day)
    }
}

/// The shape of a worker's plans, for choosing windows that fit.
#[derive(Clone, Copy, Default)]
struct WorkerShape {
    unit: i64,
    day_units: usize,
    classes: usize,
}

impl WorkerShape {
    /// Upper bounds on the states times days of a plan over `weeks` weeks, counting minutes
    /// and pricing them, and the minute units counted.
    fn estimate(
        &self,
        p: &super::Problem,
        c: &super::Contract,
        weeks: usize,
    ) -> (usize, usize, usize) {
        let days = (7 * weeks).min(p.days);
        let runs = c.min_days_off.max(1) as usize
            + 2 * self.classes.max(1) * c.max_consecutive.max(1) as usize;
        let weekends_n = (c.max_weekends as usize).min(weeks) + 1;
        let units = usize::try_from(c.max_minutes.max(0) / self.unit)
            .unwrap_or(usize::MAX)
            .min(days * self.day_units);
        let size = runs * weekends_n;
        (
            (size * (units + 1)).saturating_mul(days),
            size.saturating_mul(days),
            units,
        )
    }
}

/// The dimensions of a plan's states.
#[derive(Clone, Copy)]
struct Shape {
    /// Days off counted up to the minimum (at least 1).
    off_n: usize,
    /// Days on counted up to the maximum.
    run_n: usize,
    min_run: usize,
    weekends_n: usize,
    /// The kind slot whose maximum the states count, and the counts' number (1: none).
    counted: (usize, usize),
    units_n: usize,
    /// Classes of successions among the kinds offered.
    classes: usize,
    /// 2 where a run may be exempt from the minimum (begun with the horizon), else 1.
    exempt_n: usize,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{day_planned_test_problem, Contract, Cover, Problem, Task, Worker};
    use super::*;

    const DAYS: usize = 10;

    /// A random one-worker problem: two kinds (no early the day after a late), a cover line per
    /// day and kind, a day off, a few requests.
    fn random_problem(rng: &mut Rng) -> Problem {
        let mut covers = Vec::new();
        let mut tasks = Vec::new();
        let day_off = rng.below(DAYS);
        for day in 0..DAYS {
            for kind in 0..2u16 {
                let cover = covers.len();
                covers.push(Cover {
                    required: rng.below(2) as u32,
                    under_cost: 1 + rng.below(100) as i64,
                    over_cost: 1 + rng.below(5) as i64,
                });
                let minutes = if kind == 0 { 480 } else { 600 };
                let start = day as i64 * 1440;
                tasks.push(Task {
                    start,
                    end: start + minutes,
                    headcount: 1,
                    eligible: if day == day_off { vec![] } else { vec![0] },
                    kind,
                    cover: Some(cover),
                    ..Default::default()
                });
            }
        }
        let requests = |rng: &mut Rng| {
            (0..3)
                .map(|_| {
                    (
                        rng.below(DAYS),
                        rng.below(2) as u16,
                        1 + rng.below(50) as i64,
                    )
                })
                .collect()
        };
        let contract = Contract {
            max_per_kind: vec![
                if rng.below(2) == 0 {
                    20
                } else {
                    2 + rng.below(5) as u32
                },
                if rng.below(2) == 0 {
                    20
                } else {
                    1 + rng.below(4) as u32
                },
            ],
            min_minutes: 480 * (1 + rng.below(3) as i64),
            max_minutes: 480 * (4 + rng.below(3) as i64),
            min_consecutive: 1 + rng.below(2) as u32,
            max_consecutive: 2 + rng.below(3) as u32,
            min_days_off: 1 + rng.below(2) as u32,
            max_weekends: rng.below(2) as u32,
            on_requests: requests(rng),
            off_requests: requests(rng),
        };
        let worker = Worker {
            max_minutes_per_week: i64::MAX / 64,
            km_to_person: vec![0.0],
            contract: Some(contract),
            ..Default::default()
        };
        day_planned_test_problem(tasks, vec![worker], covers, DAYS)
    }

    /// The benchmark's rules and costs for one worker's days (`None`: off), checked the plain
    /// way: None when a rule is broken.
    fn cost_by_hand(p: &Problem, days: &[Option<u16>]) -> Option<i64> {
        let c = p.workers[0].contract.as_ref().unwrap();
        let n = days.len();
        for d in 0..n {
            if let Some(k) = days[d] {
                let task = &p.tasks[d * 2 + usize::from(k)];
                if task.eligible.is_empty() {
                    return None;
                }
                if d > 0
                    && days[d - 1].is_some_and(|a| p.cannot_follow[usize::from(a)][usize::from(k)])
                {
                    return None;
                }
            }
        }
        for k in 0..2u16 {
            if days.iter().filter(|&&x| x == Some(k)).count()
                > c.max_per_kind[usize::from(k)] as usize
            {
                return None;
            }
        }
        let minutes: i64 = days
            .iter()
            .enumerate()
            .filter_map(|(d, k)| k.map(|k| p.tasks[d * 2 + usize::from(k)].minutes()))
            .sum();
        if minutes < c.min_minutes || minutes > c.max_minutes {
            return None;
        }
        let mut d = 0;
        while d < n {
            let working = days[d].is_some();
            let mut j = d;
            while j < n && days[j].is_some() == working {
                j += 1;
            }
            let (length, interior) = (j - d, d > 0 && j < n);
            if working && length > c.max_consecutive as usize {
                return None;
            }
            let min = if working {
                c.min_consecutive
            } else {
                c.min_days_off
            };
            if interior && length < min as usize {
                return None;
            }
            d = j;
        }
        let weekends = usize::from(days[5].is_some() || days[6].is_some());
        if weekends > c.max_weekends as usize {
            return None;
        }
        let mut cost = 0;
        for (d, &worked) in days.iter().enumerate() {
            for k in 0..2u16 {
                let filled = u32::from(worked == Some(k));
                cost += p.covers[d * 2 + usize::from(k)].cost(filled);
            }
        }
        for &(d, k, w) in &c.on_requests {
            cost += if days[d] == Some(k) { 0 } else { w };
        }
        for &(d, k, w) in &c.off_requests {
            cost += if days[d] == Some(k) { w } else { 0 };
        }
        Some(cost)
    }

    /// Every way of working the days: off, early or late each day.
    fn every_way_of_working() -> impl Iterator<Item = Vec<Option<u16>>> {
        (0..3usize.pow(DAYS as u32)).map(|code| {
            (0..DAYS)
                .map(|d| match code / 3usize.pow(d as u32) % 3 {
                    0 => None,
                    k => Some(k as u16 - 1),
                })
                .collect()
        })
    }

    #[test]
    fn a_plan_is_the_cheapest_that_keeps_the_contract() {
        let mut rng = Rng(7);
        let (mut planned, mut exact) = (0, 0);
        for _ in 0..80 {
            let p = random_problem(&mut rng);
            // Every way of working ten days (off, early or late each day), by hand.
            let mut best: Option<i64> = None;
            for days in every_way_of_working() {
                if let Some(cost) = cost_by_hand(&p, &days) {
                    best = Some(best.map_or(cost, |b: i64| b.min(cost)));
                }
            }
            let by_day: Vec<Vec<usize>> = (0..DAYS).map(|d| vec![2 * d, 2 * d + 1]).collect();
            let mut state = State::new(&p);
            let mut planner = Planner::new(&p);
            let mut undo = Vec::new();
            let made = planner.replan(&mut state, &by_day, 0, 0..DAYS, None, &mut undo);
            match best {
                Some(best) => {
                    planned += 1;
                    assert!(made, "a plan exists: {best}");
                    assert_eq!(state.score.shortfall(), 0);
                    let days: Vec<Option<u16>> = state.day_kind[0]
                        .iter()
                        .map(|&k| u16::try_from(k).ok())
                        .collect();
                    assert_eq!(cost_by_hand(&p, &days), Some(state.score.total));
                    // Exact when at most one maximum per kind binds (the plan's states count
                    // it); a second is kept by pricing its kind, which may cost more.
                    let contract = p.workers[0].contract.as_ref().unwrap();
                    let binding = contract.max_per_kind.iter().filter(|&&m| m < DAYS as u32);
                    if binding.count() <= 1 {
                        assert_eq!(state.score.total, best);
                        exact += 1;
                    } else {
                        assert!(state.score.total >= best);
                    }
                }
                None => assert!(!made),
            }
        }
        // The random contracts mostly allow a plan.
        assert!(planned > 40 && exact > 10, "{planned} {exact}");
    }

    /// Plans that price minutes rather than count them (as on long horizons) keep the contract
    /// whenever they are made, and are made for most contracts that allow a plan.
    #[test]
    fn a_plan_pricing_minutes_keeps_the_contract() {
        let mut rng = Rng(5);
        let (mut possible, mut made) = (0, 0);
        for _ in 0..200 {
            let p = random_problem(&mut rng);
            let by_day: Vec<Vec<usize>> = (0..DAYS).map(|d| vec![2 * d, 2 * d + 1]).collect();
            let mut exact = Planner::new(&p);
            let mut undo = Vec::new();
            let mut state = State::new(&p);
            let exists = exact.replan(&mut state, &by_day, 0, 0..DAYS, None, &mut undo);
            let mut state = State::new(&p);
            let mut priced = Planner {
                price_minutes: true,
                ..Planner::new(&p)
            };
            let mut undo = Vec::new();
            if priced.replan(&mut state, &by_day, 0, 0..DAYS, None, &mut undo) {
                made += 1;
                let days: Vec<Option<u16>> = state.day_kind[0]
                    .iter()
                    .map(|&k| u16::try_from(k).ok())
                    .collect();
                assert_eq!(cost_by_hand(&p, &days), Some(state.score.total), "{days:?}");
            }
            possible += usize::from(exists);
        }
        assert!(
            possible > 80 && made * 10 >= possible * 7,
            "{made} of {possible}"
        );
    }

    /// A window of days re-planned inside a roster that keeps the contract: the plan fits the
    /// days around it (runs, days off and successions across both ends, the minutes, weekends
    /// and per-kind counts outside it) and is the cheapest such, by hand.
    #[test]
    fn a_window_plan_fits_the_roster_around_it_and_is_the_cheapest_that_does() {
        let mut rng = Rng(11);
        let (mut windows, mut exact) = (0, 0);
        for _ in 0..120 {
            let p = random_problem(&mut rng);
            let by_day: Vec<Vec<usize>> = (0..DAYS).map(|d| vec![2 * d, 2 * d + 1]).collect();
            let mut state = State::new(&p);
            let mut planner = Planner::new(&p);
            let mut undo = Vec::new();
            if !planner.replan(&mut state, &by_day, 0, 0..DAYS, None, &mut undo) {
                continue;
            }
            let days: Vec<Option<u16>> = state.day_kind[0]
                .iter()
                .map(|&k| u16::try_from(k).ok())
                .collect();
            // A window that does not end between a Saturday and its Sunday (a split weekend is
            // counted on both sides, which only ever refuses a plan).
            let from = rng.below(DAYS - 1);
            let to = from + 1 + rng.below(DAYS - from);
            if to == 6 || (from == 6 && to < DAYS) {
                continue;
            }
            let width = to - from;
            let mut best: Option<i64> = None;
            for code in 0..3usize.pow(width as u32) {
                let mut trial = days.clone();
                for i in 0..width {
                    trial[from + i] = match code / 3usize.pow(i as u32) % 3 {
                        0 => None,
                        k => Some(k as u16 - 1),
                    };
                }
                if let Some(cost) = cost_by_hand(&p, &trial) {
                    best = Some(best.map_or(cost, |b: i64| b.min(cost)));
                }
            }
            let best = best.expect("the roster as it is keeps the contract");
            let mut undo = Vec::new();
            let made = planner.replan(&mut state, &by_day, 0, from..to, None, &mut undo);
            assert!(made, "window {from}..{to}");
            windows += 1;
            let after: Vec<Option<u16>> = state.day_kind[0]
                .iter()
                .map(|&k| u16::try_from(k).ok())
                .collect();
            assert_eq!(&after[..from], &days[..from]);
            assert_eq!(&after[to..], &days[to..]);
            let cost = cost_by_hand(&p, &after).expect("the window keeps the contract");
            assert_eq!(cost, state.score.total);
            let contract = p.workers[0].contract.as_ref().unwrap();
            if contract.max_per_kind.iter().all(|&m| m >= DAYS as u32) {
                assert_eq!(cost, best, "window {from}..{to}: {days:?} -> {after:?}");
                exact += 1;
            } else {
                assert!(cost >= best);
            }
        }
        assert!(windows > 40 && exact > 10, "{windows} {exact}");
    }

    #[test]
    fn a_warm_started_priced_plan_keeps_the_contract() {
        let mut rng = Rng(13);
        let mut warmed = 0;
        for _ in 0..60 {
            let p = random_problem(&mut rng);
            let by_day: Vec<Vec<usize>> = (0..DAYS).map(|d| vec![2 * d, 2 * d + 1]).collect();
            let state = State::new(&p);
            let mut planner = Planner::new(&p);
            // The relaxation's prices move a little between rounds; the kind prices carry over.
            let mut kind_price = vec![0i64; 2];
            let mut price: Vec<i64> = p
                .covers
                .iter()
                .map(|c| c.under_cost * PRICE_SCALE)
                .collect();
            for _ in 0..6 {
                warmed += usize::from(kind_price.iter().any(|&x| x > 0));
                let Some(tasks) =
                    planner.priced_plan(&state, &by_day, 0, 0..p.days, &price, &mut kind_price)
                else {
                    break;
                };
                let mut days: Vec<Option<u16>> = vec![None; DAYS];
                for t in tasks {
                    days[t / 2] = Some(p.tasks[t].kind);
                }
                assert!(
                    cost_by_hand(&p, &days).is_some(),
                    "{days:?} breaks the contract"
                );
                for x in &mut price {
                    *x += (rng.below(9) as i64 - 4) * PRICE_SCALE;
                }
            }
        }
        // Priced plans count the tightest binding maximum in their states; a second one that
        // binds is priced, and its price starts warm.
        assert!(warmed > 5, "{warmed}");
    }

    /// Where one kind's maximum binds, a priced plan is the cheapest at its prices of all
    /// that keep the contract: the plan's states count that kind, where a price on it could
    /// reach only the plans on the lower convex hull of cost against count. Checked against
    /// every way of working ten days.
    #[test]
    fn a_priced_plan_under_one_binding_maximum_is_the_cheapest() {
        let mut rng = Rng(17);
        let mut checked = 0;
        for _ in 0..120 {
            let p = random_problem(&mut rng);
            let c = p.workers[0].contract.as_ref().unwrap();
            if c.max_per_kind
                .iter()
                .filter(|&&m| (m as usize) < DAYS)
                .count()
                != 1
            {
                continue;
            }
            let price: Vec<i64> = p
                .covers
                .iter()
                .map(|_| rng.below(400) as i64 * PRICE_SCALE / 4)
                .collect();
            // Requests granted and places filled at the prices, in `PRICE_SCALE` units.
            let priced = |days: &[Option<u16>]| -> i64 {
                let granted = |list: &[(usize, u16, i64)]| -> i64 {
                    list.iter()
                        .filter(|r| days[r.0] == Some(r.1))
                        .map(|r| r.2)
                        .sum()
                };
                let places: i64 = (0..DAYS)
                    .filter_map(|d| days[d].map(|k| price[d * 2 + usize::from(k)]))
                    .sum();
                (granted(&c.off_requests) - granted(&c.on_requests)) * PRICE_SCALE - places
            };
            let mut best: Option<i64> = None;
            for days in every_way_of_working() {
                if cost_by_hand(&p, &days).is_some() {
                    best = Some(best.map_or(priced(&days), |b| b.min(priced(&days))));
                }
            }
            let by_day: Vec<Vec<usize>> = (0..DAYS).map(|d| vec![2 * d, 2 * d + 1]).collect();
            let state = State::new(&p);
            let mut planner = Planner::new(&p);
            let plan = planner.priced_plan(&state, &by_day, 0, 0..p.days, &price, &mut [0, 0]);
            let Some(best) = best else {
                assert!(plan.is_none());
                continue;
            };
            let mut days: Vec<Option<u16>> = vec![None; DAYS];
            for t in plan.expect("a plan exists") {
                days[t / 2] = Some(p.tasks[t].kind);
            }
            assert!(
                cost_by_hand(&p, &days).is_some(),
                "{days:?} breaks the contract"
            );
            assert_eq!(priced(&days), best, "{days:?} is not the cheapest");
            checked += 1;
        }
        assert!(checked > 20, "{checked}");
    }
}

//! The roster optimiser: pure, no database, no clock (a seed and a time budget come in).
//!
//! A *task* is one shift to staff, with one or two PAs (2:1 support is staffed whole or left
//! open: never half). The hard rules are never broken: only eligible PAs (competency, checks,
//! availability, leave and the do-not-match list are decided by the caller), no double booking
//! including travel between different people's homes, the daily rest rule, a day of rest in
//! every week, and a weekly hours cap. The soft goals are weighed in one integer score (lower is
//! better): shifts left open, continuity (few and familiar faces around each person), PAs'
//! wanted hours, fair shares of nights and weekends, travel and pay.
//!
//! Method: a construction (most constrained shift first, best feasible PA by score) and then
//! late-acceptance hill climbing over reassign, open/fill and swap moves (and, for rosters planned
//! in whole days, same-day moves, block swaps and moves aimed at a contract's requests not yet
//! granted), each scored incrementally (only the PAs and people a move touches are recomputed).
//! When 200,000 moves pass without a better roster, the search restarts from the best one with part
//! of it taken apart and rebuilt greedily (ruin and recreate). For day-planned contracts a larger
//! move joins in: a worker's whole plan is replaced by the cheapest one their contract allows given
//! everyone else's work, found by dynamic programming (`replan`); after construction every worker
//! is planned so in turn, which makes the roster keep every contract, one move in 500 re-plans one
//! to four workers, and restarts re-plan up to eight. Where every place counts towards a cover, the
//! first 30% of the time (or up to 70%, until a first dive ends) goes to column generation
//! (`columns`): every worker's cheapest plan at the duals of a linear programme over the plans
//! seen (`master`, solved by a dense revised simplex) joins it until none would lower its optimum,
//! then dives fix workers to plans one after another into rosters (after the first, each around
//! the best roster: a third of the workers re-planned, the rest held). A portfolio's second search
//! uses a Lagrangian relaxation of cover instead (`relax`): the same plans, prices moved by
//! subgradient steps, each round's plans combined into a roster. The local search starts from the
//! best roster either finds, and each of its restarts first tries recombining the plans seen
//! (the relaxation's and every best roster's). The run stops at
//! the time limit or the move limit and returns the best roster seen; a roster that keeps every
//! contract minimum beats one that does not. A seed makes runs with a move limit repeatable.
//!
//! At scale (a year, 150 staff, 32 kinds) no phase may take the whole limit: the construction
//! stops at 25% of it (and is skipped where plans are made window by window, the first sweep of
//! plans being the construction), the first sweeps at 30% (60% where no relaxation applies: it
//! needs whole plans and a dense master of at most 700 rows), the clock is read before every
//! re-plan and every 64 moves, and progress is reported from the sweeps on. Figures on
//! generated instances: `scripts/bench-generated.sh` and the README.
//!
//! Beyond parota's own shifts the core also takes day-based contracts (per-kind maxima, minutes,
//! consecutive days, weekends, forbidden successions, requests) and cover requirements: what the
//! published Curtois & Qu benchmark needs (`scripts/bench/bench_curtois.rs`).
//!
//! Rest, stated as implemented: shifts less than `daily_rest` apart belong to one working period,
//! whose span (first start to last end) must not exceed 24 h less `daily_rest` (13 h with the
//! 11 h of the Working Time Regulations, reg. 10), so consecutive periods are at least 11 h apart.
//! Each week of the roster (7 days from its start) must hold an uninterrupted rest of
//! `weekly_rest` (24 h, reg. 11), counting the time before the first and after the last shift
//! of the week. Sleep-ins count as working time.

use crate::money::Pence;
use std::time::{Duration, Instant};

mod columns;
mod master;
mod relax;
mod replan;
mod teams;

pub use teams::solve_groups;

/// Minutes since an epoch of the caller's choosing (the roster's start is convenient).
pub type Minute = i64;

#[derive(Debug, Clone, Default)]
pub struct Task {
    /// Index of the person supported.
    pub person: usize,
    pub start: Minute,
    pub end: Minute,
    /// 1, or 2 for 2:1 support.
    pub headcount: u8,
    pub night: bool,
    pub weekend: bool,
    /// PAs who may take it, ascending: qualified, checked, available, not on leave, not barred.
    pub eligible: Vec<usize>,
    /// Already worked, on another published roster, by its one eligible PA: kept as it is so
    /// that rest, bookings and hours count it, and left out of this roster's score.
    pub fixed: bool,
    /// The kind of shift, for contracts' per-kind maxima, successions and requests (0 when
    /// unused).
    pub kind: u16,
    /// The cover requirement this place counts towards (`Problem::covers`), if any: its places
    /// are interchangeable and cost by how many are filled.
    pub cover: Option<usize>,
}

/// A requirement for some number of people on interchangeable places, costed by the shortfall
/// and the excess (a benchmark's cover constraint; parota's own shifts cost by open minutes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cover {
    pub required: u32,
    pub under_cost: i64,
    pub over_cost: i64,
}

impl Cover {
    fn cost(&self, filled: u32) -> i64 {
        self.under_cost * i64::from(self.required.saturating_sub(filled))
            + self.over_cost * i64::from(filled.saturating_sub(self.required))
    }
}

impl Task {
    fn minutes(&self) -> i64 {
        self.end - self.start
    }
}

#[derive(Debug, Clone, Default)]
pub struct Worker {
    /// Hard cap on the average minutes a week over the roster (48 h unless opted out).
    pub max_minutes_per_week: i64,
    pub wanted_minutes_per_week: i64,
    /// Pence an hour, for the cost of the roster.
    pub hourly_pay_pence: Pence,
    /// Kilometres from the PA's home to each person's home.
    pub km_to_person: Vec<f64>,
    /// People whose core team the PA belongs to.
    pub core_team_of: Vec<usize>,
    /// Day-based contract rules, for rosters planned in whole days (`Problem::days`).
    pub contract: Option<Contract>,
}

/// A worker's contract over a roster planned in whole days, where every task starts on the day
/// it belongs to (`start / 1440`). Maxima are hard rules, never broken. Minima can only be met
/// by adding shifts, so a search must be allowed to pass through a shortfall: each day or
/// minute short is costed by `Weights::short_day` / `short_minute`, high enough that a roster
/// with a shortfall never beats one without. Stretches touching either end of the roster are
/// exempt from the minima; days before and after it count as off for the maximum.
#[derive(Debug, Clone, Default)]
pub struct Contract {
    /// Per task kind, the most shifts of that kind.
    pub max_per_kind: Vec<u32>,
    pub min_minutes: i64,
    pub max_minutes: i64,
    pub min_consecutive: u32,
    pub max_consecutive: u32,
    pub min_days_off: u32,
    /// Weekends (Saturday or Sunday worked; day 5 and 6 of each week) at most.
    pub max_weekends: u32,
    /// (day, kind, cost): working that kind that day is asked for; not doing so costs.
    pub on_requests: Vec<(usize, u16, i64)>,
    /// (day, kind, cost): not working that kind that day is asked for; working it costs.
    pub off_requests: Vec<(usize, u16, i64)>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    pub daily_rest: Minute,
    pub weekly_rest: Minute,
}

impl Rules {
    /// The Working Time Regulations' 11 h daily and 24 h weekly rest.
    pub fn working_time_regulations() -> Self {
        Self {
            daily_rest: 11 * 60,
            weekly_rest: 24 * 60,
        }
    }
}

/// Weights of the soft goals; every one is per unit shown.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Per minute of a PA-slot left open.
    pub open_minute: i64,
    /// Per PA working with a person at all (fewer faces).
    pub distinct_pa: i64,
    /// Per minute worked by a PA outside the person's core team.
    pub outside_team_minute: i64,
    /// Per minute a week a PA works beyond (or short of) what they want.
    pub over_wanted_minute: i64,
    pub under_wanted_minute: i64,
    /// Per unit of the sum of squares of nights and of weekend shifts per PA.
    pub fairness: i64,
    /// Per kilometre travelled to a shift.
    pub travel_km: i64,
    /// Per penny of pay.
    pub pay_penny: i64,
    /// Per day and per minute a contract's minima are short by.
    pub short_day: i64,
    pub short_minute: i64,
}

impl Weights {
    /// Every goal weighs nothing: a start for problems that weigh only a few.
    pub fn none() -> Self {
        Self {
            open_minute: 0,
            distinct_pa: 0,
            outside_team_minute: 0,
            over_wanted_minute: 0,
            under_wanted_minute: 0,
            fairness: 0,
            travel_km: 0,
            pay_penny: 0,
            short_day: 0,
            short_minute: 0,
        }
    }
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            open_minute: 1_000,
            distinct_pa: 2_000,
            outside_team_minute: 2,
            over_wanted_minute: 3,
            under_wanted_minute: 1,
            fairness: 300,
            travel_km: 20,
            pay_penny: 1,
            short_day: 100_000,
            short_minute: 2_000,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Problem {
    pub tasks: Vec<Task>,
    pub workers: Vec<Worker>,
    pub people: usize,
    /// Minutes to travel between each pair of people's homes.
    pub travel_minutes: Vec<Vec<i64>>,
    /// Whole weeks from minute 0.
    pub weeks: usize,
    pub rules: Rules,
    pub weights: Weights,
    /// Days in the roster, for workers' contracts (0 when none has one).
    pub days: usize,
    /// `cannot_follow[a][b]`: a shift of kind `b` may not be worked the day after one of kind
    /// `a` (contracts only).
    pub cannot_follow: Vec<Vec<bool>>,
    /// Cover requirements that tasks' places count towards.
    pub covers: Vec<Cover>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    /// Stop after this many moves (for repeatable tests), whatever the time.
    pub moves: u64,
    pub seed: u64,
}

/// The score broken down by goal; `total` is what the search minimises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub open_minutes: i64,
    pub distinct_pairs: i64,
    pub outside_team_minutes: i64,
    pub over_wanted_minutes: i64,
    pub under_wanted_minutes: i64,
    pub fairness: i64,
    pub travel_km: i64,
    pub pay_pence: Pence,
    /// Cover requirements' shortfall and excess costs.
    pub cover_costs: i64,
    /// Contract requests not honoured, by their costs.
    pub requests: i64,
    /// Days and minutes contracts' minima are short by (zero in a roster that keeps them).
    pub short_days: i64,
    pub short_minutes: i64,
    pub total: i64,
}

impl Score {
    /// Days and minutes short of contracts' minima (zero when every contract is kept).
    pub fn shortfall(&self) -> i64 {
        self.short_days + self.short_minutes
    }

    /// Adds (`sign` 1) or takes away (-1) another's counts, not its total.
    fn shift(&mut self, other: &Score, sign: i64) {
        self.open_minutes += sign * other.open_minutes;
        self.distinct_pairs += sign * other.distinct_pairs;
        self.outside_team_minutes += sign * other.outside_team_minutes;
        self.over_wanted_minutes += sign * other.over_wanted_minutes;
        self.under_wanted_minutes += sign * other.under_wanted_minutes;
        self.fairness += sign * other.fairness;
        self.travel_km += sign * other.travel_km;
        self.pay_pence += other.pay_pence * sign;
        self.cover_costs += sign * other.cover_costs;
        self.requests += sign * other.requests;
        self.short_days += sign * other.short_days;
        self.short_minutes += sign * other.short_minutes;
    }
}

/// Why a shift was left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenReason {
    /// No PA holds the competencies and checks, is available and not on leave.
    NoQualifiedPa,
    /// 2:1 support and fewer than two qualified PAs could take it.
    NotEnoughForTwoToOne,
    /// Qualified PAs exist, but each would break a rule: this says which stopped most.
    Blocked(HardRule),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HardRule {
    /// Not qualified, checked, available or allowed for this shift.
    NotEligible,
    /// 2:1 support with one PA.
    HalfStaffed,
    DoubleBookingOrTravel,
    DailyRest,
    WeeklyRest,
    WeeklyHours,
    /// A contract's maxima: shifts of a kind, minutes, consecutive days, weekends, or a
    /// forbidden succession.
    Contract,
}

#[derive(Debug, Clone)]
pub struct Solution {
    /// Per task, its PAs (empty when open).
    pub assignments: Vec<Vec<usize>>,
    /// Shifts left open (not a cover requirement's places), and why.
    pub open: Vec<(usize, OpenReason)>,
    pub score: Score,
    pub moves: u64,
    /// Milliseconds to the first roster (the construction).
    pub construction_ms: u64,
    /// (elapsed ms, best total) each time the best improved.
    pub progress: Vec<(u64, i64)>,
    /// For day-planned contracts with cover, the relaxation's bound (`relax`): no roster
    /// scores less where per-kind maxima do not bind; an estimate where they do.
    pub relaxation_bound: Option<i64>,
}

/// A small, fast, seedable generator (SplitMix64): the solver must not depend on the OS.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Puts `items` in random order (Fisher and Yates).
    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// The roster being searched, with what scoring needs kept up to date.
#[derive(Clone)]
struct State<'a> {
    p: &'a Problem,
    assigned: Vec<Vec<usize>>,
    /// Per worker, their tasks sorted by start.
    timeline: Vec<Vec<usize>>,
    /// Per worker, minutes per week.
    week_minutes: Vec<Vec<i64>>,
    nights: Vec<i64>,
    weekends: Vec<i64>,
    /// Per person, the workers with minutes for them and those minutes (sparse: an
    /// organisation's roster has thousands of workers, each person a few dozen).
    pair_minutes: Vec<Vec<(usize, i64)>>,
    worker_terms: Vec<Score>,
    person_terms: Vec<Score>,
    /// The sum of every worker's and person's term, kept as they change.
    terms_sum: Score,
    open_minutes: i64,
    /// Per worker, the kind worked each day, or -1 (contracts only).
    day_kind: Vec<Vec<i16>>,
    /// Per cover requirement, places filled.
    cover_filled: Vec<u32>,
    cover_costs: i64,
    score: Score,
    /// The longest travel between two people's homes: how far apart two shifts can be and
    /// still meet a rule together.
    max_travel: Minute,
}

/// The day a task belongs to, in a roster planned in whole days.
fn day_of(task: &Task) -> usize {
    usize::try_from(task.start.div_euclid(24 * 60)).unwrap_or(0)
}

/// The minutes a task counts towards its worker's hours: all of it when it starts within the
/// roster's weeks, none when it lies outside them (a neighbour kept only for rest and travel).
fn counted_minutes(p: &Problem, task: &Task) -> i64 {
    let horizon = p.weeks.max(1) as i64 * 7 * 24 * 60;
    if (0..horizon).contains(&task.start) {
        task.minutes()
    } else {
        0
    }
}

fn week_of(p: &Problem, minute: Minute) -> usize {
    usize::try_from(minute.max(0) / (7 * 24 * 60))
        .unwrap_or(0)
        .min(p.weeks.saturating_sub(1))
}

impl<'a> State<'a> {
    fn new(p: &'a Problem) -> Self {
        let open_minutes = p
            .tasks
            .iter()
            .filter(|t| !t.fixed)
            .map(|t| t.minutes() * i64::from(t.headcount))
            .sum();
        let mut s = Self {
            p,
            assigned: vec![Vec::new(); p.tasks.len()],
            timeline: vec![Vec::new(); p.workers.len()],
            week_minutes: vec![vec![0; p.weeks.max(1)]; p.workers.len()],
            nights: vec![0; p.workers.len()],
            weekends: vec![0; p.workers.len()],
            pair_minutes: vec![Vec::new(); p.people],
            worker_terms: vec![Score::default(); p.workers.len()],
            person_terms: vec![Score::default(); p.people],
            terms_sum: Score::default(),
            open_minutes,
            day_kind: vec![vec![-1; p.days]; p.workers.len()],
            cover_filled: vec![0; p.covers.len()],
            cover_costs: p.covers.iter().map(|c| c.cost(0)).sum(),
            score: Score::default(),
            max_travel: p
                .travel_minutes
                .iter()
                .flat_map(|row| row.iter().copied())
                .max()
                .unwrap_or(0)
                .max(0),
        };
        for w in 0..p.workers.len() {
            s.set_worker_term(w);
        }
        s.score = s.total();
        s
    }

    fn worker_term(&self, w: usize) -> Score {
        let worker = &self.p.workers[w];
        let mut term = Score::default();
        for &minutes in &self.week_minutes[w] {
            term.over_wanted_minutes += (minutes - worker.wanted_minutes_per_week).max(0);
            term.under_wanted_minutes += (worker.wanted_minutes_per_week - minutes).max(0);
        }
        term.fairness = self.nights[w] * self.nights[w] + self.weekends[w] * self.weekends[w];
        let mut km = 0.0;
        let mut pay = Pence::ZERO;
        for &t in &self.timeline[w] {
            let task = &self.p.tasks[t];
            if task.fixed {
                continue;
            }
            km += worker.km_to_person.get(task.person).copied().unwrap_or(0.0);
            pay += Pence::new(worker.hourly_pay_pence.get() * task.minutes() / 60);
        }
        term.travel_km = km.round() as i64;
        term.pay_pence = pay;
        if let (Some(c), true) = (&worker.contract, self.p.days > 0) {
            self.contract_term(c, w, &mut term);
        }
        term
    }

    /// A contract's minima and requests, as costs.
    fn contract_term(&self, c: &Contract, w: usize, term: &mut Score) {
        let dk = &self.day_kind[w];
        let minutes: i64 = self.timeline[w]
            .iter()
            .map(|&t| self.p.tasks[t].minutes())
            .sum();
        term.short_minutes += (c.min_minutes - minutes).max(0);
        let days = dk.len();
        let mut d = 0;
        while d < days {
            let working = dk[d] >= 0;
            let mut j = d;
            while j < days && (dk[j] >= 0) == working {
                j += 1;
            }
            if d > 0 && j < days {
                let min = if working {
                    c.min_consecutive
                } else {
                    c.min_days_off
                };
                term.short_days += (i64::from(min) - (j - d) as i64).max(0);
            }
            d = j;
        }
        for &(day, kind, cost) in &c.on_requests {
            if dk.get(day).copied() != Some(kind as i16) {
                term.requests += cost;
            }
        }
        for &(day, kind, cost) in &c.off_requests {
            if dk.get(day).copied() == Some(kind as i16) {
                term.requests += cost;
            }
        }
    }

    /// The contract maximum worker `w` would break by taking task `t` (`except` taken away).
    fn contract_breaks(
        &self,
        c: &Contract,
        t: usize,
        w: usize,
        except: Option<usize>,
    ) -> Option<HardRule> {
        let p = self.p;
        let task = &p.tasks[t];
        let day = day_of(task);
        let except_day = except
            .filter(|&e| self.assigned[e].contains(&w))
            .map(|e| day_of(&p.tasks[e]));
        let dk = &self.day_kind[w];
        let works = |d: usize| d < dk.len() && dk[d] >= 0 && Some(d) != except_day;
        if works(day) {
            return Some(HardRule::DoubleBookingOrTravel);
        }
        let kind = usize::from(task.kind);
        let mut same_kind = 0u32;
        let mut minutes = task.minutes();
        for &o in &self.timeline[w] {
            if Some(o) == except {
                continue;
            }
            let other = &p.tasks[o];
            minutes += other.minutes();
            same_kind += u32::from(other.kind == task.kind);
        }
        if c.max_per_kind
            .get(kind)
            .is_some_and(|&max| same_kind >= max)
            || minutes > c.max_minutes
        {
            return Some(HardRule::Contract);
        }
        let mut run = 1;
        let mut d = day;
        while d > 0 && works(d - 1) {
            run += 1;
            d -= 1;
        }
        let mut d = day + 1;
        while works(d) {
            run += 1;
            d += 1;
        }
        if run > c.max_consecutive {
            return Some(HardRule::Contract);
        }
        if day % 7 >= 5 {
            let week = day / 7;
            let weekends = (0..dk.len() / 7)
                .filter(|&k| k == week || works(7 * k + 5) || works(7 * k + 6))
                .count();
            if weekends > c.max_weekends as usize {
                return Some(HardRule::Contract);
            }
        }
        let forbidden = |a: i16, b: usize| {
            usize::try_from(a)
                .ok()
                .and_then(|a| p.cannot_follow.get(a))
                .and_then(|row| row.get(b))
                .copied()
                .unwrap_or(false)
        };
        if day > 0 && works(day - 1) && forbidden(dk[day - 1], kind) {
            return Some(HardRule::Contract);
        }
        if works(day + 1)
            && usize::try_from(dk[day + 1]).is_ok_and(|next| forbidden(task.kind as i16, next))
        {
            return Some(HardRule::Contract);
        }
        None
    }

    /// A person's term counted from scratch (the moves keep it incrementally, in `apply`).
    #[cfg(test)]
    fn person_term(&self, person: usize) -> Score {
        let mut term = Score::default();
        for &(w, minutes) in &self.pair_minutes[person] {
            term.distinct_pairs += 1;
            if !self.p.workers[w].core_team_of.contains(&person) {
                term.outside_team_minutes += minutes;
            }
        }
        term
    }

    fn set_worker_term(&mut self, w: usize) {
        let term = self.worker_term(w);
        self.terms_sum.shift(&self.worker_terms[w], -1);
        self.terms_sum.shift(&term, 1);
        self.worker_terms[w] = term;
    }

    fn total(&self) -> Score {
        let mut s = Score {
            open_minutes: self.open_minutes,
            cover_costs: self.cover_costs,
            total: 0,
            ..self.terms_sum
        };
        let w = &self.p.weights;
        s.total = s.open_minutes * w.open_minute
            + s.distinct_pairs * w.distinct_pa
            + s.outside_team_minutes * w.outside_team_minute
            + s.over_wanted_minutes * w.over_wanted_minute
            + s.under_wanted_minutes * w.under_wanted_minute
            + s.fairness * w.fairness
            + s.travel_km * w.travel_km
            + s.pay_pence.get() * w.pay_penny
            + s.cover_costs
            + s.requests
            + s.short_days * w.short_day
            + s.short_minutes * w.short_minute;
        s
    }

    /// Adds or removes (`sign` 1 or -1) task `t` for worker `w`, keeping every total current.
    fn apply(&mut self, t: usize, w: usize, sign: i64) {
        let task = &self.p.tasks[t];
        let minutes = task.minutes();
        if sign > 0 {
            let at = self.timeline[w].partition_point(|&o| self.p.tasks[o].start < task.start);
            self.timeline[w].insert(at, t);
            self.assigned[t].push(w);
        } else {
            self.timeline[w].retain(|&o| o != t);
            self.assigned[t].retain(|&o| o != w);
        }
        let week = week_of(self.p, task.start);
        self.week_minutes[w][week] += sign * counted_minutes(self.p, task);
        let day = day_of(task);
        if day < self.day_kind[w].len() {
            // From the timeline, so that undoing a move in any order leaves it right.
            self.day_kind[w][day] = self.timeline[w]
                .iter()
                .map(|&o| &self.p.tasks[o])
                .find(|o| day_of(o) == day)
                .map_or(-1, |o| o.kind as i16);
        }
        // Nights and weekends count whoever rostered them: fairness is of a PA's whole load.
        self.nights[w] += sign * i64::from(task.night);
        self.weekends[w] += sign * i64::from(task.weekend);
        if task.fixed {
            // Hours count against the PA's week; the rest belongs to the other roster.
            self.set_worker_term(w);
            self.score = self.total();
            return;
        }
        let pairs = &mut self.pair_minutes[task.person];
        let (before, after) = match pairs.iter().position(|&(o, _)| o == w) {
            Some(i) => {
                let before = pairs[i].1;
                pairs[i].1 += sign * minutes;
                let after = pairs[i].1;
                if after <= 0 {
                    pairs.swap_remove(i);
                }
                (before, after.max(0))
            }
            None if sign * minutes > 0 => {
                pairs.push((w, sign * minutes));
                (0, sign * minutes)
            }
            None => (0, 0),
        };
        self.open_minutes -= sign * minutes;
        if let Some(c) = task.cover {
            let cover = &self.p.covers[c];
            let before = cover.cost(self.cover_filled[c]);
            self.cover_filled[c] = self.cover_filled[c].saturating_add_signed(sign as i32);
            self.cover_costs += cover.cost(self.cover_filled[c]) - before;
        }
        self.set_worker_term(w);
        // The person's term moves by this pair alone (as `person_term` would count it).
        let mut delta = Score {
            distinct_pairs: i64::from(after > 0) - i64::from(before > 0),
            ..Score::default()
        };
        if !self.p.workers[w].core_team_of.contains(&task.person) {
            delta.outside_team_minutes = after - before;
        }
        self.person_terms[task.person].shift(&delta, 1);
        self.terms_sum.shift(&delta, 1);
        self.score = self.total();
    }

    /// The first hard rule worker `w` would break by taking task `t`, ignoring `except`
    /// (a task the same move takes away from them).
    fn breaks(&self, t: usize, w: usize, except: Option<usize>) -> Option<HardRule> {
        let p = self.p;
        let task = &p.tasks[t];
        if let (Some(c), true) = (&p.workers[w].contract, p.days > 0) {
            if let Some(rule) = self.contract_breaks(c, t, w, except) {
                return Some(rule);
            }
        }
        // Only shifts near this one can meet a rule with it: double booking and travel, the
        // working period around it (at most a day long), the weeks it touches. Read from the
        // sorted timeline, so a year's roster costs no more than a week's.
        let first_week = week_of(p, task.start) as Minute;
        let last_week = week_of(p, task.end - 1) as Minute;
        let reach = 3 * 24 * 60 + self.max_travel;
        let lo = task.start.min(first_week * 7 * 1440) - reach;
        let hi = task.end.max((last_week + 1) * 7 * 1440) + reach;
        let line = &self.timeline[w];
        let from = line.partition_point(|&o| p.tasks[o].start < lo);
        let to = line.partition_point(|&o| p.tasks[o].start <= hi);
        let others = line[from..to]
            .iter()
            .copied()
            .filter(|&o| o != t && Some(o) != except);
        // Double booking and travel between people's homes.
        for o in others.clone() {
            let other = &p.tasks[o];
            let (first, second) = if other.start <= task.start {
                (other, task)
            } else {
                (task, other)
            };
            let travel = if first.person == second.person {
                0
            } else {
                p.travel_minutes[first.person][second.person]
            };
            if first.end + travel > second.start && first.start < second.end + travel {
                return Some(HardRule::DoubleBookingOrTravel);
            }
        }
        // Daily rest: the working period holding the task spans at most 24 h less the rest.
        let mut shifts: Vec<(Minute, Minute)> = others
            .clone()
            .map(|o| (p.tasks[o].start, p.tasks[o].end))
            .chain(std::iter::once((task.start, task.end)))
            .collect();
        shifts.sort_unstable();
        let mut period = (task.start, task.end);
        let mut grew = true;
        while grew {
            grew = false;
            for &(s, e) in &shifts {
                let near = s < period.1 + p.rules.daily_rest && e + p.rules.daily_rest > period.0;
                if near && (s < period.0 || e > period.1) {
                    period = (period.0.min(s), period.1.max(e));
                    grew = true;
                }
            }
        }
        if period.1 - period.0 > 24 * 60 - p.rules.daily_rest {
            return Some(HardRule::DailyRest);
        }
        // Weekly rest in each week the task touches.
        for week in week_of(p, task.start)..=week_of(p, task.end - 1) {
            let (from, to) = (week as i64 * 7 * 1440, (week as i64 + 1) * 7 * 1440);
            let mut free_from = from;
            let mut longest = 0;
            for &(s, e) in shifts.iter().filter(|(s, e)| *e > from && *s < to) {
                longest = longest.max(s.max(from) - free_from);
                free_from = free_from.max(e.min(to));
            }
            longest = longest.max(to - free_from);
            if longest < p.rules.weekly_rest {
                return Some(HardRule::WeeklyRest);
            }
        }
        // Average weekly hours over the roster.
        let total: i64 = self.week_minutes[w].iter().sum::<i64>()
            - except.map_or(0, |e| counted_minutes(p, &p.tasks[e]))
            + counted_minutes(p, task);
        if total > p.workers[w].max_minutes_per_week * p.weeks.max(1) as i64 {
            return Some(HardRule::WeeklyHours);
        }
        None
    }

    /// Undoes a move's recorded steps (`(task, worker, sign)`), last first.
    fn revert(&mut self, undo: &mut Vec<(usize, usize, i64)>) {
        for (t, w, sign) in undo.drain(..).rev() {
            self.apply(t, w, sign);
        }
    }

    fn can_take(&self, t: usize, w: usize, except: Option<usize>) -> bool {
        !self.assigned[t].contains(&w) && self.breaks(t, w, except).is_none()
    }
}

/// The best feasible set of PAs for task `t` by score, tried greedily; None when it cannot be
/// staffed whole.
fn best_fill(state: &mut State<'_>, t: usize) -> Option<Vec<usize>> {
    let need = usize::from(state.p.tasks[t].headcount);
    let mut chosen = Vec::new();
    for _ in 0..need {
        let mut best: Option<(i64, usize)> = None;
        for &w in &state.p.tasks[t].eligible {
            if chosen.contains(&w) || !state.can_take(t, w, None) {
                continue;
            }
            state.apply(t, w, 1);
            let total = state.score.total;
            state.apply(t, w, -1);
            if best.is_none_or(|(b, _)| total < b) {
                best = Some((total, w));
            }
        }
        let Some((_, w)) = best else {
            // Not staffable whole: take back the places already given.
            for &w in &chosen {
                state.apply(t, w, -1);
            }
            return None;
        };
        state.apply(t, w, 1);
        chosen.push(w);
    }
    for &w in &chosen {
        state.apply(t, w, -1);
    }
    Some(chosen)
}

/// How a run is going, for a watcher: reported about twice a second.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub elapsed_ms: u64,
    pub best_total: i64,
    /// Days plus minutes the best roster's contracts are short by (0: it keeps them all).
    pub best_shortfall: i64,
    pub moves: u64,
}

pub fn solve(p: &Problem, limits: Limits) -> Solution {
    solve_reporting(p, limits, &mut |_| {})
}

/// For day-planned contracts with cover, the share of the time given to the relaxation
/// (`relax`) before the local search. Tuned on the Curtois instances.
const RELAX_SHARE: f64 = 0.3;

/// How rosters planned in whole days with cover are first sought, before the local search.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Relaxation {
    /// Column generation with an exact master and dives (`columns`). On Curtois instance 12
    /// (60 workers) its first dive takes most of a 10 s limit (one search alone: 5,142 and
    /// 5,435 at 10 s in trial runs).
    Columns,
    /// Lagrangian prices by subgradient steps (`relax`): sooner to a good first roster on
    /// the largest instance.
    Subgradient,
}

/// The most of the time the greedy construction may take.
const CONSTRUCTION_SHARE: f64 = 0.25;
/// Where no relaxation applies, the most of the time the first sweeps of plans may take.
const SWEEPS_SHARE: f64 = 0.6;
/// On a horizon planned in windows, the share of the time by which the relaxation of the
/// windows ends (`relax::search_windows`): it gains more for the time there than the local
/// search (60 s runs on the generated 26- and 52-week instances: 6,895 and 88,181 with 0.9,
/// 7,049 and 91,519 with 0.7).
const WINDOWS_SHARE: f64 = 0.9;

/// For column generation, the share of the time past which it stops even before its first
/// dive ends (it stops at `RELAX_SHARE` once one has).
const COLUMNS_SHARE: f64 = 0.7;

/// `solve`, telling `report` how the search goes every half second or so.
pub fn solve_reporting(p: &Problem, limits: Limits, report: &mut dyn FnMut(Report)) -> Solution {
    search(p, limits, Relaxation::Columns, None, report)
}

fn search(
    p: &Problem,
    limits: Limits,
    relaxation: Relaxation,
    start: Option<&[Vec<usize>]>,
    report: &mut dyn FnMut(Report),
) -> Solution {
    const REPORT_EVERY: Duration = Duration::from_millis(500);
    let started = Instant::now();
    let mut rng = Rng(limits.seed);
    let mut state = State::new(p);

    // Other rosters' shifts first, as they are; then the shifts with the fewest qualified
    // PAs first.
    for (t, task) in p.tasks.iter().enumerate() {
        if let (true, Some(&w)) = (task.fixed, task.eligible.first()) {
            state.apply(t, w, 1);
        }
    }
    let mut order: Vec<usize> = (0..p.tasks.len()).filter(|&t| !p.tasks[t].fixed).collect();
    order.sort_by_key(|&t| (p.tasks[t].eligible.len(), p.tasks[t].start));
    // The construction may take its share of the time and no more: shifts it has not reached
    // stay open for the search to fill.
    let construction_ends = started + limits.time.mul_f64(CONSTRUCTION_SHARE);
    // Day-planned contracts on a horizon too long to plan whole: the first sweep of plans,
    // worker by worker (`replan_sweeps`), is the construction, and a greedy one first would
    // only take its time.
    let planned = p.days > 0 && p.workers.iter().any(|w| w.contract.is_some());
    let mut planner = replan::Planner::new(p);
    if planned && !planner.plans_whole() && p.workers.iter().all(|w| w.contract.is_some()) {
        order.clear();
    }
    // A roster to start from takes the construction's place (what it leaves open, the moves
    // fill); a place that would break a rule is left open.
    if let Some(start) = start {
        order.clear();
        for (t, workers) in start.iter().enumerate() {
            if p.tasks[t].fixed
                || workers.len() != usize::from(p.tasks[t].headcount)
                || workers
                    .iter()
                    .any(|w| p.tasks[t].eligible.binary_search(w).is_err())
            {
                continue;
            }
            for (i, &w) in workers.iter().enumerate() {
                if !state.can_take(t, w, None) {
                    for &taken in &workers[..i] {
                        state.apply(t, taken, -1);
                    }
                    break;
                }
                state.apply(t, w, 1);
            }
        }
    }
    for (i, t) in order.into_iter().enumerate() {
        if i % 64 == 0 && Instant::now() >= construction_ends {
            break;
        }
        if let Some(workers) = best_fill(&mut state, t) {
            let before = state.score.total;
            for &w in &workers {
                state.apply(t, w, 1);
            }
            // An optional place is filled only when that helps.
            if state.score.total > before {
                for &w in &workers {
                    state.apply(t, w, -1);
                }
            }
        }
    }
    let construction_ms = started.elapsed().as_millis() as u64;
    let mut by_day: Vec<Vec<usize>> = vec![Vec::new(); p.days];
    for (t, task) in p.tasks.iter().enumerate() {
        if let Some(day) = by_day.get_mut(day_of(task)) {
            if !task.fixed {
                day.push(t);
            }
        }
    }
    let mut relaxation_bound = None;
    let mut pools = None;
    // The best score so far by the time it was reached.
    let mut progress = vec![(construction_ms, state.score.total)];
    if planned {
        // Where no relaxation runs (a horizon too long to plan whole), the sweeps that make
        // the first contract-keeping roster may take longer.
        let windowed = relax::applies(p) && !planner.plans_whole();
        let share = if relax::applies(p) && planner.plans_whole() {
            RELAX_SHARE
        } else {
            SWEEPS_SHARE
        };
        // The first contract-keeping roster may take a while on a long horizon: the caller
        // sees the sweeps' progress (and the windows') as the search's.
        let mut last_report = started;
        // `now`: report at once, not only every `REPORT_EVERY`.
        let mut noted = |score: &Score, now: bool| {
            let elapsed_ms = started.elapsed().as_millis() as u64;
            if progress
                .last()
                .is_none_or(|&(_, total)| score.total < total)
            {
                progress.push((elapsed_ms, score.total));
            }
            if now || last_report.elapsed() >= REPORT_EVERY {
                last_report = Instant::now();
                report(Report {
                    elapsed_ms,
                    best_total: score.total,
                    best_shortfall: score.shortfall(),
                    moves: 0,
                });
            }
        };
        sweep_reporting(
            &mut state,
            &mut planner,
            &by_day,
            &mut rng,
            started + limits.time.mul_f64(share),
            if windowed {
                Sweeps::Keeping
            } else {
                Sweeps::Settled
            },
            &mut |score| noted(score, false),
        );
        // The sweeps' roster is the best so far: the caller hears it before the relaxation,
        // which reports nothing until it ends (a 60 s run's first 18 s).
        noted(&state.score, true);
        // Then all of them at once, against prices for cover (`columns` or `relax`), for part
        // of the time; on a horizon planned in windows, window by window.
        let until = started + limits.time.mul_f64(RELAX_SHARE);
        if windowed {
            let until = started + limits.time.mul_f64(WINDOWS_SHARE);
            pools = relax::search_windows(
                &mut state,
                &mut planner,
                &by_day,
                &mut rng,
                until,
                &mut |score| noted(score, false),
            );
        }
        let mut price = Vec::new();
        let progress = &mut |score: &Score| noted(score, false);
        let relaxed = match relaxation {
            _ if !planner.plans_whole() => None,
            Relaxation::Columns => {
                let deadline = started + limits.time.mul_f64(COLUMNS_SHARE);
                columns::search(
                    &state,
                    &mut planner,
                    &by_day,
                    &mut rng,
                    until,
                    deadline,
                    progress,
                )
            }
            Relaxation::Subgradient => {
                let whole = relax::Window::whole(p, &mut price);
                relax::search(
                    &state,
                    &mut planner,
                    &by_day,
                    &mut rng,
                    until,
                    whole,
                    progress,
                )
            }
        };
        if let Some(relaxed) = relaxed {
            relaxation_bound = Some(relaxed.bound.floor() as i64);
            if let Some(better) = relaxed.roster {
                state = better;
            }
            pools = Some(relaxed.pools);
        }
    }
    let mut best = state.clone();
    // The current roster is the best seen but not yet copied into `best`: a copy is made only
    // when the search moves away from it (copying a large roster at every improvement would
    // cost more than the moves).
    let mut pending = false;
    let mut best_score = best.score;
    if progress
        .last()
        .is_none_or(|&(_, total)| best.score.total < total)
    {
        progress.push((started.elapsed().as_millis() as u64, best.score.total));
    }

    // Late acceptance hill climbing.
    const HISTORY: usize = 400;
    // Moves without a better roster before the search restarts from the best with a kick.
    const STALL_MOVES: u64 = 200_000;
    // Where the relaxation ran, a restart first tries recombining the plans seen (the
    // relaxation's and every best roster's) with this many moves per worker (`relax::combine`,
    // a few milliseconds).
    const RECOMBINE_MOVES: u32 = 1_000;
    // Day-planned contracts: one move in this many re-plans one to four workers whole, each
    // day's cost jittered by less than this (ties take turns); a restart re-plans up to
    // eight, jittered more. Tuned on the Curtois instances (scripts/bench-curtois.sh).
    const REPLAN_EVERY: u64 = 500;
    const REPLAN_JITTER: usize = 5;
    const KICK_WORKERS: usize = 8;
    const KICK_JITTER: usize = 20;
    // Every request of a day-planned contract: (worker, day, kind, asked for).
    let requests: Vec<(usize, usize, u16, bool)> = p
        .workers
        .iter()
        .enumerate()
        .filter_map(|(w, worker)| worker.contract.as_ref().map(|c| (w, c)))
        .flat_map(|(w, c)| {
            let on = c.on_requests.iter().map(move |r| (w, r.0, r.1, true));
            on.chain(c.off_requests.iter().map(move |r| (w, r.0, r.1, false)))
        })
        .collect();
    let mut history = vec![state.score.total; HISTORY];
    let mut moves = 0u64;
    let mut last_better = 0u64;
    let tasks = p.tasks.len();
    let mut reported = Duration::ZERO;
    report(Report {
        elapsed_ms: started.elapsed().as_millis() as u64,
        best_total: best.score.total,
        best_shortfall: best.score.shortfall(),
        moves,
    });
    while tasks > 0 && moves < limits.moves {
        if moves - last_better > STALL_MOVES {
            // Stuck: start again from the best roster recombined with plans seen before, or
            // else with part of it taken apart and rebuilt.
            if pending {
                best = state.clone();
                pending = false;
            }
            state = best.clone();
            let recombined = pools.as_mut().and_then(|pools| {
                pools.recombine(&best, &mut rng, RECOMBINE_MOVES * p.workers.len() as u32)
            });
            if let Some(better) = recombined {
                state = better;
                best = state.clone();
                best_score = best.score;
                progress.push((started.elapsed().as_millis() as u64, best.score.total));
            } else if planned {
                let mut undo = Vec::new();
                let (most, jitter) = (KICK_WORKERS, KICK_JITTER);
                if !replan_few(
                    &mut state,
                    &mut planner,
                    &by_day,
                    &mut rng,
                    most,
                    jitter,
                    &mut undo,
                ) {
                    state.revert(&mut undo);
                }
            } else {
                ruin_and_recreate(&mut state, &mut rng);
            }
            history.fill(state.score.total);
            last_better = moves;
        }
        // The clock is read every 64 moves and before each re-plan (on a long horizon a
        // re-plan takes milliseconds, a one-place move microseconds).
        if moves % 64 == 0 || (planned && (moves + 1) % REPLAN_EVERY == 0) {
            let elapsed = started.elapsed();
            if elapsed >= limits.time {
                break;
            }
            if elapsed >= reported + REPORT_EVERY {
                reported = elapsed;
                report(Report {
                    elapsed_ms: elapsed.as_millis() as u64,
                    best_total: best_score.total,
                    best_shortfall: best_score.shortfall(),
                    moves,
                });
            }
        }
        moves += 1;
        let before = state.score.total;
        let t = rng.below(tasks);
        let task = &p.tasks[t];
        // Each move records how to undo itself.
        let mut undo: Vec<(usize, usize, i64)> = Vec::new();
        let replanning = planned && moves % REPLAN_EVERY == 0;
        if replanning {
            let jitter = REPLAN_JITTER;
            if !replan_few(
                &mut state,
                &mut planner,
                &by_day,
                &mut rng,
                4,
                jitter,
                &mut undo,
            ) {
                state.revert(&mut undo);
                continue;
            }
        } else if task.eligible.is_empty() || task.fixed {
            continue;
        }
        let kind = rng.below(10);
        if replanning {
            // Done above.
        } else if state.assigned[t].is_empty() {
            // Fill an open shift whole, with random eligible PAs.
            let need = usize::from(task.headcount);
            let mut ok = true;
            for _ in 0..need {
                let w = task.eligible[rng.below(task.eligible.len())];
                if state.can_take(t, w, None) {
                    state.apply(t, w, 1);
                    undo.push((t, w, -1));
                } else {
                    ok = false;
                    break;
                }
            }
            if !ok {
                state.revert(&mut undo);
                continue;
            }
        } else if kind == 0 {
            // Open the shift (all its PAs): lets a crowded week breathe.
            for w in state.assigned[t].clone() {
                state.apply(t, w, -1);
                undo.push((t, w, 1));
            }
        } else if p.days > 0 && kind >= 6 {
            // Day-planned rosters: move or exchange work on one day, or over a run of days.
            let ok = if kind <= 7 {
                same_day_move(&mut state, &mut rng, &by_day, t, &mut undo)
            } else if kind == 9 && !requests.is_empty() {
                request_move(&mut state, &mut rng, &by_day, &requests, &mut undo)
            } else {
                block_swap(&mut state, &mut rng, t, &mut undo)
            };
            if !ok {
                state.revert(&mut undo);
                continue;
            }
        } else if kind <= 5 {
            // Hand one of the shift's places to another eligible PA.
            let slot = rng.below(state.assigned[t].len());
            let from = state.assigned[t][slot];
            let to = task.eligible[rng.below(task.eligible.len())];
            if to == from || state.assigned[t].contains(&to) {
                continue;
            }
            state.apply(t, from, -1);
            if state.can_take(t, to, None) {
                state.apply(t, to, 1);
                undo.push((t, to, -1));
                undo.push((t, from, 1));
            } else {
                state.apply(t, from, 1);
                continue;
            }
        } else {
            // Swap PAs between two shifts (on the same day, half the time, when planned in days).
            let u = match by_day.get(day_of(task)) {
                Some(same) if rng.below(2) == 0 => same[rng.below(same.len())],
                _ => rng.below(tasks),
            };
            if u == t || p.tasks[u].fixed || state.assigned[u].is_empty() {
                continue;
            }
            let a = state.assigned[t][rng.below(state.assigned[t].len())];
            let b = state.assigned[u][rng.below(state.assigned[u].len())];
            if a == b
                || state.assigned[t].contains(&b)
                || state.assigned[u].contains(&a)
                || p.tasks[t].eligible.binary_search(&b).is_err()
                || p.tasks[u].eligible.binary_search(&a).is_err()
            {
                continue;
            }
            state.apply(t, a, -1);
            state.apply(u, b, -1);
            let fits_b = state.can_take(t, b, None);
            if fits_b {
                state.apply(t, b, 1);
            }
            if fits_b && state.can_take(u, a, None) {
                state.apply(u, a, 1);
                undo.extend([(u, a, -1), (t, b, -1), (u, b, 1), (t, a, 1)]);
            } else {
                if fits_b {
                    state.apply(t, b, -1);
                }
                state.apply(u, b, 1);
                state.apply(t, a, 1);
                continue;
            }
        }
        let after = state.score.total;
        let slot = (moves as usize) % HISTORY;
        if after <= before || after <= history[slot] {
            if rank(&state.score) < rank(&best_score) {
                best_score = state.score;
                pending = true;
                if let Some(pools) = pools.as_mut() {
                    pools.remember(&state);
                }
                last_better = moves;
                progress.push((started.elapsed().as_millis() as u64, after));
            } else if pending {
                // Moving away from the best: keep it as it was before this move.
                let mut was = state.clone();
                was.revert(&mut undo);
                best = was;
                pending = false;
            }
        } else {
            state.revert(&mut undo);
        }
        history[slot] = state.score.total;
    }

    if pending {
        best = state;
    }
    // A cover requirement's places are interchangeable and cost by how many are filled: only
    // shifts are left open for a reason (judging a year's optional places would take seconds).
    let open = (0..p.tasks.len())
        .filter(|&t| !p.tasks[t].fixed && p.tasks[t].cover.is_none() && best.assigned[t].is_empty())
        .map(|t| (t, open_reason(&best, t)))
        .collect();
    Solution {
        assignments: best.assigned.clone(),
        open,
        score: best.score,
        moves,
        construction_ms,
        progress,
        relaxation_bound,
    }
}

/// `threads` independent searches at once (seeds `seed`, `seed + 1`, …), the best roster
/// winning: a portfolio, as CP-SAT's workers are. Searches alternate column generation and the
/// subgradient relaxation (`Relaxation`): on the Curtois benchmark the pair's 10 s median on
/// instance 12 was 4,386, where column generation alone reached 5,142 and 5,435 in trial runs.
/// Also returns each search's reports, in seed order.
pub fn solve_portfolio(
    p: &Problem,
    limits: Limits,
    threads: usize,
) -> (Solution, Vec<Vec<Report>>) {
    let (mut solutions, reports): (Vec<Solution>, Vec<Vec<Report>>) = std::thread::scope(|scope| {
        let searches: Vec<_> = (0..threads.max(1) as u64)
            .map(|i| {
                let limits = Limits {
                    seed: limits.seed.wrapping_add(i),
                    ..limits
                };
                // Column generation and the subgradient take turns: each wins somewhere.
                let relaxation = if i % 2 == 0 {
                    Relaxation::Columns
                } else {
                    Relaxation::Subgradient
                };
                scope.spawn(move || {
                    let mut reports = Vec::new();
                    let solution = search(p, limits, relaxation, None, &mut |r| reports.push(r));
                    (solution, reports)
                })
            })
            .collect();
        searches
            .into_iter()
            .map(|search| {
                search
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .unzip()
    });
    // The first of the best, so that the outcome does not depend on which thread ends first.
    let best = (0..solutions.len())
        .min_by_key(|&i| (rank(&solutions[i].score), i))
        .unwrap_or(0);
    (solutions.swap_remove(best), reports)
}

/// A day-planned problem for tests, weighed as the benchmark is: cover, requests and contract
/// shortfalls only, two kinds (no early the day after a late).
#[cfg(test)]
fn day_planned_test_problem(
    tasks: Vec<Task>,
    workers: Vec<Worker>,
    covers: Vec<Cover>,
    days: usize,
) -> Problem {
    Problem {
        tasks,
        workers,
        people: 1,
        travel_minutes: vec![vec![0]],
        weeks: days.div_ceil(7),
        weights: Weights {
            short_day: 1_000,
            short_minute: 10,
            ..Weights::none()
        },
        days,
        cannot_follow: vec![vec![false, false], vec![true, false]],
        covers,
        ..Default::default()
    }
}

/// What makes one roster better than another: keeping every contract, whatever the rest; then
/// the score.
fn rank(s: &Score) -> (bool, i64) {
    (s.shortfall() > 0, s.total)
}

/// Each worker in turn (in a random order) gets their best plan given everyone else's, sweep
/// after sweep until one improves nothing or `deadline` passes: from a greedy roster this
/// reaches one that keeps every contract, since each contract concerns its worker alone.
/// Where a worker's horizon is too large to plan at once, their plan is made window by
/// window, first to last (`replan_in_turn`) while their roster breaks the contract or in the
/// first sweep, and afterwards each window is re-planned with the rest of their roster fixed.
fn replan_sweeps(
    state: &mut State<'_>,
    planner: &mut replan::Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    deadline: Instant,
) {
    sweep_reporting(
        state,
        planner,
        by_day,
        rng,
        deadline,
        Sweeps::Settled,
        &mut |_| {},
    );
}

/// Where sweeps of re-plans stop (besides the deadline).
#[derive(Clone, Copy)]
enum Sweeps<'w> {
    /// After a sweep that gains nothing.
    Settled,
    /// After a sweep that leaves the roster keeping every contract, or gains nothing: where
    /// the relaxation of windows follows, which gains more for the time on long horizons.
    Keeping,
    /// Within one window only, after a sweep that gains nothing.
    Window(&'w std::ops::Range<usize>),
}

/// `replan_sweeps` (or within a window, or until `Sweeps::Keeping`), telling `progress` the
/// roster's score after each worker's plan.
fn sweep_reporting(
    state: &mut State<'_>,
    planner: &mut replan::Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    deadline: Instant,
    until: Sweeps<'_>,
    progress: &mut dyn FnMut(&Score),
) {
    let p = state.p;
    let mut order: Vec<usize> = (0..p.workers.len()).collect();
    for sweep in 0.. {
        let before = rank(&state.score);
        rng.shuffle(&mut order);
        for &w in &order {
            let (windows, whole) = match until {
                Sweeps::Window(window) => (vec![window.clone()], false),
                _ => (planner.windows(p, w), true),
            };
            let in_turn = whole
                && (windows.len() == 1 || sweep == 0 || state.worker_terms[w].shortfall() > 0);
            // One step for the whole worker in turn, or one per window.
            let steps: Vec<Option<std::ops::Range<usize>>> = if in_turn {
                vec![None]
            } else {
                windows.into_iter().map(Some).collect()
            };
            for step in steps {
                if Instant::now() >= deadline {
                    return;
                }
                let was = rank(&state.score);
                let mut undo = Vec::new();
                let made = match step {
                    None => planner.replan_in_turn(state, by_day, w, &mut undo),
                    Some(window) => planner.replan(state, by_day, w, window, None, &mut undo),
                };
                if !made || rank(&state.score) > was {
                    state.revert(&mut undo);
                }
            }
            progress(&state.score);
        }
        let keeping = matches!(until, Sweeps::Keeping) && state.score.shortfall() == 0;
        if keeping || rank(&state.score) >= before || Instant::now() >= deadline {
            return;
        }
    }
}

/// Takes one to `most` workers' plans apart (half the time workers who could fill a place
/// short of its cover) and plans each again in turn, each seeing the new plans before it: a
/// large step the one-place moves cannot take. Records how to undo; false when a plan could
/// not be made (the caller undoes what was recorded).
fn replan_few(
    state: &mut State<'_>,
    planner: &mut replan::Planner,
    by_day: &[Vec<usize>],
    rng: &mut Rng,
    most: usize,
    jitter: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    let mut chosen: Vec<usize> = Vec::new();
    // Half the time, workers who could fill a place short of its cover.
    let short: Vec<usize> = (0..p.covers.len())
        .filter(|&c| state.cover_filled[c] < p.covers[c].required)
        .collect();
    let pool: &[usize] = match short.len() {
        n if n > 0 && rng.below(2) == 0 => {
            let c = short[rng.below(n)];
            planner.cover_task[c].map_or(&[][..], |t| &p.tasks[t].eligible[..])
        }
        _ => &[],
    };
    for _ in 0..1 + rng.below(most) {
        let w = if pool.is_empty() {
            rng.below(p.workers.len())
        } else {
            pool[rng.below(pool.len())]
        };
        if !chosen.contains(&w) {
            chosen.push(w);
        }
    }
    for &w in &chosen {
        for t in state.timeline[w].clone() {
            if !p.tasks[t].fixed {
                state.apply(t, w, -1);
                undo.push((t, w, 1));
            }
        }
    }
    for &w in &chosen {
        let window = planner.window(p, w, rng);
        let jitter = (jitter > 0).then_some((&mut *rng, jitter));
        if !planner.replan(state, by_day, w, window, jitter, undo) {
            return false;
        }
    }
    true
}

/// Takes part of the roster apart (the shifts in a random stretch of time, or all the work of
/// two workers) and rebuilds it greedily, best place first: a kick out of a local optimum.
fn ruin_and_recreate(state: &mut State<'_>, rng: &mut Rng) {
    let p = state.p;
    let staffed: Vec<usize> = (0..p.tasks.len())
        .filter(|&t| !p.tasks[t].fixed && !state.assigned[t].is_empty())
        .collect();
    if staffed.is_empty() {
        return;
    }
    if rng.below(2) == 0 && p.workers.len() >= 2 {
        for _ in 0..2 {
            let w = rng.below(p.workers.len());
            for t in state.timeline[w].clone() {
                if !p.tasks[t].fixed {
                    for x in state.assigned[t].clone() {
                        state.apply(t, x, -1);
                    }
                }
            }
        }
    } else {
        let centre = p.tasks[staffed[rng.below(staffed.len())]].start;
        let span = (p.weeks.max(1) as i64 * 7 * 24 * 60) / (4 + rng.below(8) as i64);
        for &t in &staffed {
            if (p.tasks[t].start - centre).abs() * 2 <= span {
                for x in state.assigned[t].clone() {
                    state.apply(t, x, -1);
                }
            }
        }
    }
    let mut open: Vec<usize> = (0..p.tasks.len())
        .filter(|&t| !p.tasks[t].fixed && state.assigned[t].is_empty())
        .collect();
    rng.shuffle(&mut open);
    for t in open {
        if let Some(workers) = best_fill(state, t) {
            let before = state.score.total;
            for &w in &workers {
                state.apply(t, w, 1);
            }
            if state.score.total > before {
                for &w in &workers {
                    state.apply(t, w, -1);
                }
            }
        }
    }
}

/// One of task `t`'s workers goes to another task on the same day: an open place (a different
/// kind of shift, or a required place instead of an optional one), or swaps with a worker there.
/// Records how to undo; false when it cannot be done (the caller undoes what was recorded).
fn same_day_move(
    state: &mut State<'_>,
    rng: &mut Rng,
    by_day: &[Vec<usize>],
    t: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    let Some(same) = by_day.get(day_of(&p.tasks[t])) else {
        return false;
    };
    let u = same[rng.below(same.len())];
    if u == t || p.tasks[t].headcount != 1 {
        return false;
    }
    let a = state.assigned[t][0];
    exchange_places(state, a, Some(t), u, undo)
}

/// Worker `a` leaves place `from` (if any) for place `to` on the same day, and `to`'s worker
/// (if any) takes `from` in exchange (or, with no `from`, simply gives `to` up).
fn exchange_places(
    state: &mut State<'_>,
    a: usize,
    from: Option<usize>,
    to: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    if Some(to) == from
        || p.tasks[to].headcount != 1
        || p.tasks[to].fixed
        || p.tasks[to].eligible.binary_search(&a).is_err()
    {
        return false;
    }
    let b = state.assigned[to].first().copied();
    if let Some(b) = b {
        if from.is_some_and(|t| p.tasks[t].eligible.binary_search(&b).is_err()) {
            return false;
        }
        state.apply(to, b, -1);
        undo.push((to, b, 1));
    }
    if let Some(t) = from {
        state.apply(t, a, -1);
        undo.push((t, a, 1));
    }
    if !state.can_take(to, a, None) {
        return false;
    }
    state.apply(to, a, 1);
    undo.push((to, a, -1));
    if let (Some(b), Some(t)) = (b, from) {
        if !state.can_take(t, b, None) {
            return false;
        }
        state.apply(t, b, 1);
        undo.push((t, b, -1));
    }
    true
}

/// A move aimed at a request not granted, picked at random (`requests`: worker, day, kind,
/// and whether it asks for that work or not to do it). Half the time the worker moves to
/// another place that day (one of the kind asked for, or of another kind or none when asked
/// not to work it), exchanging with its worker; otherwise the worker exchanges a run of days
/// around that day with another worker (as `block_swap` does). Random moves reach a given
/// worker's given day too rarely where there are hundreds of places.
fn request_move(
    state: &mut State<'_>,
    rng: &mut Rng,
    by_day: &[Vec<usize>],
    requests: &[(usize, usize, u16, bool)],
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    let (a, day, kind, on) = requests[rng.below(requests.len())];
    let granted = state.day_kind[a]
        .get(day)
        .is_none_or(|&k| (k == kind as i16) == on);
    let Some(same) = by_day.get(day) else {
        return false;
    };
    if granted || same.is_empty() {
        return false;
    }
    let worked = state.timeline[a]
        .iter()
        .copied()
        .find(|&o| !p.tasks[o].fixed && day_of(&p.tasks[o]) == day);
    if rng.below(2) == 0 {
        let to = same[rng.below(same.len())];
        if (p.tasks[to].kind == kind) != on {
            return false;
        }
        if !on && rng.below(4) == 0 {
            // Asked not to work it: give the place up.
            let Some(o) = worked else { return false };
            state.apply(o, a, -1);
            undo.push((o, a, 1));
            return true;
        }
        exchange_places(state, a, worked, to, undo)
    } else {
        let b = rng.below(p.workers.len());
        let length = 1 + rng.below(7);
        let first = (day + 1).saturating_sub(1 + rng.below(length));
        let last = (first + length).min(p.days);
        exchange_runs(state, a, b, first, last, undo)
    }
}

/// Two workers exchange all their work over a run of one to seven days starting on task `t`'s
/// day: what moves contracts' consecutive-day and weekend limits along.
fn block_swap(
    state: &mut State<'_>,
    rng: &mut Rng,
    t: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    let a = state.assigned[t][rng.below(state.assigned[t].len())];
    let b = rng.below(p.workers.len());
    let first = day_of(&p.tasks[t]);
    let last = (first + 1 + rng.below(7)).min(p.days);
    exchange_runs(state, a, b, first, last, undo)
}

/// Workers `a` and `b` exchange all their work on days `first..last`.
fn exchange_runs(
    state: &mut State<'_>,
    a: usize,
    b: usize,
    first: usize,
    last: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    if a == b {
        return false;
    }
    let in_range = |state: &State<'_>, w: usize| -> Vec<usize> {
        state.timeline[w]
            .iter()
            .copied()
            .filter(|&o| !p.tasks[o].fixed && (first..last).contains(&day_of(&p.tasks[o])))
            .collect()
    };
    let (from_a, from_b) = (in_range(state, a), in_range(state, b));
    for &o in &from_a {
        state.apply(o, a, -1);
        undo.push((o, a, 1));
    }
    for &o in &from_b {
        state.apply(o, b, -1);
        undo.push((o, b, 1));
    }
    for (tasks, to) in [(&from_a, b), (&from_b, a)] {
        for &o in tasks {
            if p.tasks[o].eligible.binary_search(&to).is_err() || !state.can_take(o, to, None) {
                return false;
            }
            state.apply(o, to, 1);
            undo.push((o, to, -1));
        }
    }
    true
}

fn open_reason(state: &State<'_>, t: usize) -> OpenReason {
    let task = &state.p.tasks[t];
    if task.eligible.is_empty() {
        return OpenReason::NoQualifiedPa;
    }
    let mut free = 0;
    let mut counts: Vec<(HardRule, usize)> = Vec::new();
    for &w in &task.eligible {
        match state.breaks(t, w, None) {
            None => free += 1,
            Some(rule) => match counts.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, n)) => *n += 1,
                None => counts.push((rule, 1)),
            },
        }
    }
    if task.headcount == 2 && task.eligible.len() < 2 {
        return OpenReason::NotEnoughForTwoToOne;
    }
    if free >= usize::from(task.headcount) {
        // Free PAs exist but staffing it cost more than leaving it open (or it became free
        // only as others moved): say what binds the rest.
        return counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map_or(OpenReason::NotEnoughForTwoToOne, |(r, _)| {
                OpenReason::Blocked(r)
            });
    }
    if task.headcount == 2 && free == 1 {
        return OpenReason::NotEnoughForTwoToOne;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(OpenReason::NoQualifiedPa, |(r, _)| OpenReason::Blocked(r))
}

/// The hard rules worker `w` breaks by working task `t`, given every other assignment (for
/// checking a manager's edit).
pub fn rules_broken(p: &Problem, assignments: &[Vec<usize>], t: usize, w: usize) -> Vec<HardRule> {
    let mut state = State::new(p);
    for (u, workers) in assignments.iter().enumerate() {
        for &x in workers {
            if (u, x) != (t, w) {
                state.apply(u, x, 1);
            }
        }
    }
    let mut broken = Vec::new();
    if p.tasks[t].eligible.binary_search(&w).is_err() {
        broken.push(HardRule::NotEligible);
    }
    if let Some(rule) = state.breaks(t, w, None) {
        broken.push(rule);
    }
    broken
}

/// The score of a roster, computed from scratch.
pub fn score_of(p: &Problem, assignments: &[Vec<usize>]) -> Score {
    let mut state = State::new(p);
    for (t, workers) in assignments.iter().enumerate() {
        for &w in workers {
            state.apply(t, w, 1);
        }
    }
    state.score
}

/// Some tasks of a problem as a problem of their own: those tasks, the workers eligible for
/// any of them (renumbered), and those workers' other work as fixed tasks (rest and hours
/// still see it): the whole's fixed tasks and, given the whole's roster, whatever else they
/// work in it. A team of an organisation's roster is solved, and judged, through its part.
pub struct Part {
    pub problem: Problem,
    /// Per task of the part, its index in the whole.
    pub tasks: Vec<usize>,
    /// Per worker of the part, their index in the whole.
    pub workers: Vec<usize>,
}

impl Part {
    pub fn of(p: &Problem, tasks: &[usize], whole: Option<&[Vec<usize>]>) -> Self {
        let mut workers: Vec<usize> = tasks
            .iter()
            .flat_map(|&t| p.tasks[t].eligible.iter().copied())
            .collect();
        workers.sort_unstable();
        workers.dedup();
        let ours = |w: usize| workers.binary_search(&w).ok();
        let mut own: Vec<bool> = vec![false; p.tasks.len()];
        let mut part_tasks = Vec::new();
        let mut taken = Vec::new();
        for &t in tasks {
            if !p.tasks[t].fixed && !own[t] {
                own[t] = true;
                taken.push(t);
                part_tasks.push(Task {
                    eligible: p.tasks[t]
                        .eligible
                        .iter()
                        .filter_map(|&w| ours(w))
                        .collect(),
                    ..p.tasks[t].clone()
                });
            }
        }
        for (t, task) in p.tasks.iter().enumerate() {
            if own[t] {
                continue;
            }
            let working: Vec<usize> = match (task.fixed, whole) {
                (true, _) => task.eligible.first().copied().into_iter().collect(),
                (false, Some(whole)) => whole[t].clone(),
                (false, None) => Vec::new(),
            };
            for w in working.into_iter().filter_map(ours) {
                taken.push(t);
                part_tasks.push(Task {
                    headcount: 1,
                    eligible: vec![w],
                    fixed: true,
                    cover: None,
                    ..task.clone()
                });
            }
        }
        let problem = Problem {
            tasks: part_tasks,
            workers: workers.iter().map(|&w| p.workers[w].clone()).collect(),
            ..p.clone_without_tasks()
        };
        Self {
            problem,
            tasks: taken,
            workers,
        }
    }

    /// The part's own assignments, from the whole's (its fixed tasks worked as fixed).
    pub fn assignments(&self, whole: &[Vec<usize>]) -> Vec<Vec<usize>> {
        self.tasks
            .iter()
            .zip(&self.problem.tasks)
            .map(|(&t, task)| {
                if task.fixed {
                    task.eligible.clone()
                } else {
                    whole[t]
                        .iter()
                        .filter_map(|w| self.workers.binary_search(w).ok())
                        .collect()
                }
            })
            .collect()
    }
}

impl Problem {
    /// Everything but the tasks and workers.
    fn clone_without_tasks(&self) -> Self {
        Self {
            tasks: Vec::new(),
            workers: Vec::new(),
            people: self.people,
            travel_minutes: self.travel_minutes.clone(),
            weeks: self.weeks,
            rules: self.rules,
            weights: self.weights,
            days: self.days,
            cannot_follow: self.cannot_follow.clone(),
            covers: self.covers.clone(),
        }
    }
}

/// Every hard rule checked from scratch for a whole roster (for tests and for checking edits).
pub fn violations(p: &Problem, assignments: &[Vec<usize>]) -> Vec<(usize, usize, HardRule)> {
    let mut state = State::new(p);
    let mut found = Vec::new();
    for (t, workers) in assignments.iter().enumerate() {
        for &w in workers {
            if p.tasks[t].eligible.binary_search(&w).is_err() {
                found.push((t, w, HardRule::NotEligible));
                continue;
            }
            if let Some(rule) = state.breaks(t, w, None) {
                found.push((t, w, rule));
            }
            state.apply(t, w, 1);
        }
        if !workers.is_empty() && workers.len() != usize::from(p.tasks[t].headcount) {
            found.push((t, workers[0], HardRule::HalfStaffed));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 60;
    const D: i64 = 24 * 60;

    fn worker(people: usize) -> Worker {
        Worker {
            contract: None,
            max_minutes_per_week: 48 * H,
            wanted_minutes_per_week: 30 * H,
            hourly_pay_pence: Pence::new(1300),
            km_to_person: vec![3.0; people],
            core_team_of: Vec::new(),
        }
    }

    fn task(person: usize, start: i64, end: i64, eligible: Vec<usize>) -> Task {
        Task {
            person,
            start,
            end,
            headcount: 1,
            night: false,
            weekend: false,
            eligible,
            fixed: false,
            ..Default::default()
        }
    }

    #[test]
    fn each_persons_term_kept_move_by_move_is_the_one_counted_from_scratch() {
        // Three people, five PAs (two in a core team), overlapping work added and taken away.
        let tasks: Vec<Task> = (0..30)
            .map(|i| {
                task(
                    i % 3,
                    i as i64 * 5 * H,
                    (i as i64 * 5 + 3) * H,
                    (0..5).collect(),
                )
            })
            .collect();
        let mut p = problem(tasks, 5, 3);
        p.workers[1].core_team_of = vec![0, 2];
        p.workers[3].core_team_of = vec![1];
        let mut state = State::new(&p);
        let mut rng = Rng(11);
        for _ in 0..2_000 {
            let t = rng.below(30);
            let w = rng.below(5);
            let sign = if state.assigned[t].contains(&w) {
                -1
            } else {
                1
            };
            state.apply(t, w, sign);
            for person in 0..3 {
                assert_eq!(state.person_terms[person], state.person_term(person));
            }
        }
        let assignments = state.assigned.clone();
        assert_eq!(state.score, score_of(&p, &assignments));
    }

    fn problem(tasks: Vec<Task>, workers: usize, people: usize) -> Problem {
        Problem {
            days: 0,
            cannot_follow: Vec::new(),
            covers: Vec::new(),
            tasks,
            workers: (0..workers).map(|_| worker(people)).collect(),
            people,
            travel_minutes: vec![vec![30; people]; people],
            weeks: 1,
            rules: Rules::working_time_regulations(),
            weights: Weights::default(),
        }
    }

    fn limits(seed: u64) -> Limits {
        Limits {
            time: Duration::from_secs(5),
            moves: 20_000,
            seed,
        }
    }

    #[test]
    fn a_request_move_grants_a_request_by_exchanging_places_and_keeps_cover() {
        // One day, an early and a late place (one of each needed); the worker on the early
        // asked for the late.
        let place = |kind: u16| Task {
            start: i64::from(kind) * 480,
            end: i64::from(kind) * 480 + 480,
            headcount: 1,
            eligible: vec![0, 1],
            kind,
            cover: Some(usize::from(kind)),
            ..Default::default()
        };
        let worker = |on_requests| Worker {
            max_minutes_per_week: i64::MAX / 64,
            km_to_person: vec![0.0],
            contract: Some(Contract {
                max_per_kind: vec![1, 1],
                max_minutes: 480,
                min_consecutive: 1,
                max_consecutive: 5,
                min_days_off: 1,
                max_weekends: 1,
                on_requests,
                ..Default::default()
            }),
            ..Default::default()
        };
        let cover = Cover {
            required: 1,
            under_cost: 100,
            over_cost: 1,
        };
        let p = day_planned_test_problem(
            vec![place(0), place(1)],
            vec![worker(vec![(0, 1, 5)]), worker(Vec::new())],
            vec![cover, cover],
            1,
        );
        let requests = [(0, 0, 1, true)];
        let by_day = [vec![0, 1]];
        let mut state = State::new(&p);
        state.apply(0, 0, 1);
        state.apply(1, 1, 1);
        let before = state.score.total;
        let mut rng = Rng(3);
        for _ in 0..50 {
            let mut undo = Vec::new();
            if !request_move(&mut state, &mut rng, &by_day, &requests, &mut undo)
                || state.score.total >= before
            {
                state.revert(&mut undo);
            }
        }
        assert_eq!(state.assigned, vec![vec![1], vec![0]], "the two exchanged");
        assert_eq!(
            state.score.total,
            before - 5,
            "the request granted, cover kept"
        );
        assert!(violations(&p, &state.assigned).is_empty());
    }

    #[test]
    fn day_contracts_and_cover_are_kept_and_costed() {
        // A week, two kinds (early 0, late 1; no early the day after a late), one of each
        // needed a day, four workers who may each work at most four days running, five days
        // in all, one weekend, and none of whom may work a lone day between days off.
        let covers: Vec<Cover> = (0..14)
            .map(|_| Cover {
                required: 1,
                under_cost: 100,
                over_cost: 1,
            })
            .collect();
        let mut tasks = Vec::new();
        for day in 0..7i64 {
            for kind in 0..2u16 {
                for _ in 0..2 {
                    tasks.push(Task {
                        start: day * D,
                        end: day * D + 8 * H,
                        headcount: 1,
                        eligible: vec![0, 1, 2, 3],
                        kind,
                        cover: Some(usize::try_from(day * 2 + i64::from(kind)).unwrap()),
                        ..Default::default()
                    });
                }
            }
        }
        let contract = Contract {
            max_per_kind: vec![7, 7],
            min_minutes: 3 * 8 * H,
            max_minutes: 5 * 8 * H,
            min_consecutive: 2,
            max_consecutive: 4,
            min_days_off: 1,
            max_weekends: 1,
            on_requests: vec![(0, 0, 5)],
            off_requests: vec![(1, 1, 5)],
        };
        let mut p = problem(tasks, 4, 1);
        for w in &mut p.workers {
            w.contract = Some(contract.clone());
            w.wanted_minutes_per_week = 0;
            w.hourly_pay_pence = Pence::new(0);
            w.km_to_person = vec![0.0];
        }
        p.weights = Weights {
            short_day: 1_000,
            short_minute: 10,
            ..Weights::none()
        };
        p.rules = Rules::default();
        p.days = 7;
        p.weeks = 1;
        p.cannot_follow = vec![vec![false, false], vec![true, false]];
        p.covers = covers;
        let solution = solve(&p, limits(5));
        // Each worker's week, by day: the kind worked, if any.
        let mut week = vec![[None; 7]; 4];
        for (t, ws) in solution.assignments.iter().enumerate() {
            for &w in ws {
                let day = usize::try_from(p.tasks[t].start / D).unwrap();
                assert!(week[w][day].is_none(), "two shifts on one day");
                week[w][day] = Some(p.tasks[t].kind);
            }
        }
        let mut requests = 0;
        for (w, days) in week.iter().enumerate() {
            let worked: Vec<bool> = days.iter().map(Option::is_some).collect();
            assert!(
                worked.iter().filter(|x| **x).count() <= 5,
                "worker {w}: {days:?}"
            );
            let mut run = 0;
            for d in 0..7 {
                run = if worked[d] { run + 1 } else { 0 };
                assert!(
                    run <= 4,
                    "worker {w} works more than 4 days running: {days:?}"
                );
                if d > 0 {
                    assert!(
                        !(days[d - 1] == Some(1) && days[d] == Some(0)),
                        "worker {w} has an early after a late: {days:?}"
                    );
                }
            }
            for d in 1..6 {
                assert!(
                    !(worked[d] && !worked[d - 1] && !worked[d + 1]),
                    "worker {w} works a lone day {d}: {days:?}"
                );
            }
            requests += if days[0] == Some(0) { 0 } else { 5 };
            requests += if days[1] == Some(1) { 5 } else { 0 };
        }
        assert_eq!(solution.score.shortfall(), 0);
        assert_eq!(solution.score.requests, requests);
        // Cover is costed by how many places of each requirement are filled.
        let mut cover_costs = 0;
        for (c, cover) in p.covers.iter().enumerate() {
            let filled = solution
                .assignments
                .iter()
                .enumerate()
                .filter(|(t, ws)| p.tasks[*t].cover == Some(c) && !ws.is_empty())
                .count();
            cover_costs += cover.cost(u32::try_from(filled).unwrap());
        }
        assert_eq!(solution.score.cover_costs, cover_costs);
        assert_eq!(solution.score.total, cover_costs + requests);
        // Every requirement is met (an extra place may be filled where a minimum needs it).
        assert!(cover_costs < 100, "{week:?}");
    }

    #[test]
    fn another_rosters_shift_blocks_its_pa_and_stays_out_of_this_score() {
        // PA 0 works 09:00–17:00 for someone else (person 1); this roster's 12:00–14:00 for
        // person 0 can only go to PA 1.
        let mut other = task(1, 9 * H, 17 * H, vec![0]);
        other.fixed = true;
        let mut p = problem(vec![task(0, 12 * H, 14 * H, vec![0, 1]), other], 2, 2);
        p.workers[0].hourly_pay_pence = Pence::new(1);
        let solution = solve(&p, limits(3));
        assert_eq!(solution.assignments[0], vec![1]);
        assert_eq!(solution.assignments[1], vec![0]);
        assert!(solution.open.is_empty());
        assert_eq!(solution.score.pay_pence, Pence::new(1300) * 2);
        // With PA 1 gone, the shift stays open because of the booking, never doubled.
        let mut alone = problem(
            vec![task(0, 12 * H, 14 * H, vec![0]), p.tasks[1].clone()],
            1,
            2,
        );
        alone.weeks = 1;
        let solution = solve(&alone, limits(3));
        assert!(solution.assignments[0].is_empty());
        assert_eq!(
            solution.open,
            vec![(0, OpenReason::Blocked(HardRule::DoubleBookingOrTravel))]
        );
        assert_eq!(solution.score.open_minutes, 2 * H);
    }

    #[test]
    fn two_to_one_with_one_qualified_pa_is_left_open_not_half_filled() {
        let mut t = task(0, 9 * H, 12 * H, vec![0]);
        t.headcount = 2;
        let p = problem(vec![t], 3, 1);
        let s = solve(&p, limits(1));
        assert!(s.assignments[0].is_empty());
        assert_eq!(s.open, vec![(0, OpenReason::NotEnoughForTwoToOne)]);
        // With two qualified, both places are filled by different PAs.
        let mut t = task(0, 9 * H, 12 * H, vec![0, 2]);
        t.headcount = 2;
        let s = solve(&problem(vec![t], 3, 1), limits(1));
        let mut got = s.assignments[0].clone();
        got.sort_unstable();
        assert_eq!(got, vec![0, 2]);
    }

    #[test]
    fn no_double_booking_and_time_to_travel_between_people() {
        // Ann 09:00–12:00 and Bob 12:15–15:00: 15 minutes is not the 30 it takes to get there.
        let p = problem(
            vec![
                task(0, 9 * H, 12 * H, vec![0]),
                task(1, 12 * H + 15, 15 * H, vec![0]),
            ],
            1,
            2,
        );
        let s = solve(&p, limits(2));
        assert_eq!(s.open.len(), 1);
        assert!(violations(&p, &s.assignments).is_empty());
        // For the same person, back to back is fine.
        let p = problem(
            vec![
                task(0, 9 * H, 12 * H, vec![0]),
                task(0, 12 * H, 15 * H, vec![0]),
            ],
            1,
            1,
        );
        let s = solve(&p, limits(2));
        assert!(s.open.is_empty(), "{:?}", s.open);
    }

    #[test]
    fn eleven_hours_rest_between_working_periods() {
        // A day 08:00–20:00, then a night 22:00–08:00: one PA cannot do both (2 h apart makes
        // one 24 h period); 08:00–18:00 then the next day's 05:00 is 11 h: allowed.
        let p = problem(
            vec![
                task(0, 8 * H, 20 * H, vec![0]),
                task(0, 22 * H, D + 8 * H, vec![0]),
            ],
            1,
            1,
        );
        let s = solve(&p, limits(3));
        assert_eq!(s.open.len(), 1);
        assert_eq!(s.open[0].1, OpenReason::Blocked(HardRule::DailyRest));
        let p = problem(
            vec![
                task(0, 8 * H, 18 * H, vec![0]),
                task(0, D + 5 * H, D + 9 * H, vec![0]),
            ],
            1,
            1,
        );
        assert!(solve(&p, limits(3)).open.is_empty());
        let p = problem(
            vec![
                task(0, 8 * H, 18 * H, vec![0]),
                task(0, D + 4 * H + 59, D + 9 * H, vec![0]),
            ],
            1,
            1,
        );
        assert_eq!(solve(&p, limits(3)).open.len(), 1);
    }

    #[test]
    fn a_day_of_rest_every_week_and_the_weekly_hours_cap() {
        // Seven 8-hour days in one week: 56 h and no 24 h rest. One PA takes at most six, and
        // 48 h caps it at six too; a second PA takes the rest.
        let tasks: Vec<Task> = (0..7)
            .map(|d| task(0, d * D + 8 * H, d * D + 16 * H, vec![0, 1]))
            .collect();
        let mut p = problem(tasks, 2, 1);
        p.workers[1].wanted_minutes_per_week = 0;
        let s = solve(&p, limits(4));
        assert!(s.open.is_empty());
        assert!(violations(&p, &s.assignments).is_empty());
        let by_zero = s.assignments.iter().filter(|a| a.contains(&0)).count();
        assert!(by_zero <= 6, "{by_zero}");
        // Only one PA: the seventh day stays open, for weekly rest or hours.
        let tasks: Vec<Task> = (0..7)
            .map(|d| task(0, d * D + 8 * H, d * D + 16 * H, vec![0]))
            .collect();
        let s = solve(&problem(tasks, 1, 1), limits(4));
        assert_eq!(s.open.len(), 1);
    }

    #[test]
    fn the_core_team_is_preferred_and_faces_are_few() {
        // Four mornings for Ann; PA 2 is in her core team; any of three may take them.
        let tasks: Vec<Task> = (0..4)
            .map(|d| task(0, d * D + 9 * H, d * D + 13 * H, vec![0, 1, 2]))
            .collect();
        let mut p = problem(tasks, 3, 1);
        p.workers[2].core_team_of = vec![0];
        let s = solve(&p, limits(5));
        assert!(
            s.assignments.iter().all(|a| a == &vec![2]),
            "{:?}",
            s.assignments
        );
        assert_eq!(s.score.distinct_pairs, 1);
    }

    #[test]
    fn a_portfolio_returns_the_best_of_its_searches_whatever_thread_ends_first() {
        // Four people's days and nights over a week for seven PAs who live at different
        // distances: the seeds' short searches end apart, and the portfolio keeps the best.
        let mut tasks = Vec::new();
        for d in 0..7 {
            for person in 0..4 {
                let eligible = vec![person, person + 1, person + 2, 6];
                tasks.push(task(
                    person,
                    d * D + 8 * H,
                    d * D + 18 * H,
                    eligible.clone(),
                ));
                let mut night = task(person, d * D + 20 * H, (d + 1) * D + 6 * H, eligible);
                night.night = true;
                tasks.push(night);
            }
        }
        let mut p = problem(tasks, 7, 4);
        for (w, worker) in p.workers.iter_mut().enumerate() {
            worker.km_to_person = (0..4)
                .map(|person| (w * 7 + person * 3) as f64 % 11.0)
                .collect();
        }
        let limits = |seed| Limits {
            moves: 400,
            ..limits(seed)
        };
        // Three seeds in a row whose searches end apart, for the choice to matter.
        let (first, alone) = (1..100)
            .map(|first| {
                let alone: Vec<Solution> = (first..first + 3)
                    .map(|seed| solve(&p, limits(seed)))
                    .collect();
                (first, alone)
            })
            .find(|(_, alone)| alone.iter().any(|s| s.score != alone[0].score))
            .expect("some seeds' searches end apart");
        let (best, reports) = solve_portfolio(&p, limits(first), 3);
        let expected = alone.iter().map(|s| rank(&s.score)).min().unwrap();
        assert_eq!(rank(&best.score), expected);
        let first_best = alone.iter().find(|s| rank(&s.score) == expected).unwrap();
        assert_eq!(best.assignments, first_best.assignments);
        assert_eq!(reports.len(), 3);
        assert!(violations(&p, &best.assignments).is_empty());
    }

    /// A quarter's roster drawn as `scripts/gen-curtois.py` draws them (kinds in start bands, a
    /// later band never followed by an earlier one, full- and part-time contracts, cover near
    /// the staff's capacity), too long for any worker's whole horizon to be planned at once.
    fn generated_quarter(rng: &mut Rng) -> Problem {
        let (weeks, staff, kinds) = (13usize, 16usize, 8usize);
        let days = 7 * weeks;
        let lengths = [480, 480, 480, 360, 540, 600, 720];
        let band: Vec<usize> = (0..kinds)
            .map(|k| if k < 4 { k } else { rng.below(4) })
            .collect();
        let minutes: Vec<i64> = (0..kinds).map(|_| lengths[rng.below(7)]).collect();
        let mut workers = Vec::new();
        for _ in 0..staff {
            let (per_week, gap) = if rng.below(10) < 7 {
                (2160, 240)
            } else {
                (1290, 180)
            };
            let mut qualified: Vec<bool> = (0..kinds).map(|_| rng.below(10) < 6).collect();
            qualified[rng.below(kinds)] = true;
            workers.push(Worker {
                max_minutes_per_week: i64::MAX / 64,
                km_to_person: vec![0.0],
                contract: Some(Contract {
                    max_per_kind: qualified
                        .iter()
                        .map(|&q| u32::from(q) * days as u32)
                        .collect(),
                    min_minutes: (per_week - gap) * weeks as i64,
                    max_minutes: per_week * weeks as i64,
                    min_consecutive: 1 + rng.below(3) as u32,
                    max_consecutive: 5 + rng.below(2) as u32,
                    min_days_off: 1 + rng.below(3) as u32,
                    max_weekends: (weeks / 2) as u32,
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let (mut tasks, mut covers) = (Vec::new(), Vec::new());
        for day in 0..days {
            for (kind, &length) in minutes.iter().enumerate() {
                let required = (rng.below(3) + usize::from(day % 7 < 5)) as u32;
                let eligible: Vec<usize> = (0..staff)
                    .filter(|&w| workers[w].contract.as_ref().unwrap().max_per_kind[kind] > 0)
                    .collect();
                for _ in 0..required as usize + 3 {
                    let start = day as i64 * D;
                    tasks.push(Task {
                        start,
                        end: start + length,
                        headcount: 1,
                        eligible: eligible.clone(),
                        kind: kind as u16,
                        cover: Some(covers.len()),
                        ..Default::default()
                    });
                }
                covers.push(Cover {
                    required,
                    under_cost: 100,
                    over_cost: 1,
                });
            }
        }
        let mut p = day_planned_test_problem(tasks, workers, covers, days);
        p.cannot_follow = (0..kinds)
            .map(|a| (0..kinds).map(|b| band[b] < band[a]).collect())
            .collect();
        p
    }

    /// Every contract broken, as the benchmark's evaluator (`nrp_eval.py`) finds them.
    fn contracts_broken(p: &Problem, assignments: &[Vec<usize>]) -> Vec<String> {
        let mut worked: Vec<Vec<Option<usize>>> = vec![vec![None; p.days]; p.workers.len()];
        for (t, ws) in assignments.iter().enumerate() {
            for &w in ws {
                worked[w][day_of(&p.tasks[t])] = Some(t);
            }
        }
        let mut broken = Vec::new();
        for (w, days) in worked.iter().enumerate() {
            let c = p.workers[w].contract.as_ref().unwrap();
            let kind = |d: usize| days[d].map(|t| usize::from(p.tasks[t].kind));
            let minutes: i64 = days.iter().flatten().map(|&t| p.tasks[t].minutes()).sum();
            if minutes < c.min_minutes || minutes > c.max_minutes {
                broken.push(format!("{w} minutes {minutes}"));
            }
            for (k, &most) in c.max_per_kind.iter().enumerate() {
                if (0..p.days).filter(|&d| kind(d) == Some(k)).count() > most as usize {
                    broken.push(format!("{w} kind {k}"));
                }
            }
            for d in 1..p.days {
                if let (Some(a), Some(b)) = (kind(d - 1), kind(d)) {
                    if p.cannot_follow[a][b] {
                        broken.push(format!("{w} succession d{d}"));
                    }
                }
            }
            let mut d = 0;
            while d < p.days {
                let on = days[d].is_some();
                let end = (d..p.days)
                    .find(|&e| days[e].is_some() != on)
                    .unwrap_or(p.days);
                let (length, interior) = (end - d, d > 0 && end < p.days);
                let (least, most) = if on {
                    (c.min_consecutive, c.max_consecutive)
                } else {
                    (c.min_days_off, u32::MAX)
                };
                if length > most as usize || (interior && length < least as usize) {
                    broken.push(format!("{w} stretch d{d}"));
                }
                d = end;
            }
            let weekends = (0..p.days / 7)
                .filter(|&k| days[7 * k + 5].is_some() || days[7 * k + 6].is_some())
                .count();
            if weekends > c.max_weekends as usize {
                broken.push(format!("{w} weekends {weekends}"));
            }
        }
        broken
    }

    #[test]
    fn a_large_roster_keeps_every_contract_and_answers_within_its_time_limit() {
        let p = generated_quarter(&mut Rng(3));
        let planner = replan::Planner::new(&p);
        assert!(!planner.plans_whole(), "the horizon is planned in windows");
        // A limit for an unoptimised build sharing two cores with the other tests (with 6 s,
        // a clean CI run and one of two runs side by side found no contract-keeping roster in
        // time): the plans still have to keep every contract and the search to stop on time
        // (within a second: an optimised build answers within a tenth,
        // scripts/bench-generated.sh).
        let limit = Duration::from_secs(12);
        let started = Instant::now();
        let mut reports = Vec::new();
        let solution = solve_reporting(
            &p,
            Limits {
                time: limit,
                moves: u64::MAX,
                seed: 1,
            },
            &mut |r| reports.push(r),
        );
        let took = started.elapsed();
        assert!(took < limit + Duration::from_secs(1), "{took:?}");
        // Progress was told along the way, and a contract-keeping roster was at hand well
        // before the end.
        let keeping = reports
            .iter()
            .find(|r| r.best_shortfall == 0)
            .map(|r| r.elapsed_ms);
        assert!(keeping.is_some_and(|ms| ms < 10_000), "{keeping:?}");
        assert_eq!(solution.score.shortfall(), 0);
        assert_eq!(
            contracts_broken(&p, &solution.assignments),
            Vec::<String>::new()
        );
        assert!(violations(&p, &solution.assignments).is_empty());
        // It improved for as long as it ran: the best roster moved after the first.
        assert!(solution.progress.len() > 1 && solution.moves > 0);
    }

    #[test]
    fn the_relaxation_of_windows_improves_a_long_horizon_and_keeps_every_contract() {
        let p = generated_quarter(&mut Rng(5));
        let mut planner = replan::Planner::new(&p);
        assert!(!planner.plans_whole(), "the horizon is planned in windows");
        assert!(planner.relaxation_windows(&p).len() > 1);
        let mut by_day: Vec<Vec<usize>> = vec![Vec::new(); p.days];
        for (t, task) in p.tasks.iter().enumerate() {
            by_day[day_of(task)].push(t);
        }
        let mut state = State::new(&p);
        let mut rng = Rng(5);
        let far = Instant::now() + Duration::from_secs(60);
        sweep_reporting(
            &mut state,
            &mut planner,
            &by_day,
            &mut rng,
            far,
            Sweeps::Keeping,
            &mut |_| {},
        );
        assert_eq!(state.score.shortfall(), 0, "one sweep keeps every contract");
        let before = state.score.total;
        let mut heard = Vec::new();
        let until = Instant::now() + Duration::from_secs(3);
        let pools = relax::search_windows(
            &mut state,
            &mut planner,
            &by_day,
            &mut rng,
            until,
            &mut |s| heard.push(s.total),
        );
        assert!(pools.is_some());
        assert!(
            state.score.total < before,
            "{} against {before}",
            state.score.total
        );
        // Each better roster was heard, best last, and the score kept is the roster's own.
        assert!(heard.windows(2).all(|x| x[1] < x[0]) && heard.first() < Some(&before));
        assert_eq!(heard.last(), Some(&state.score.total));
        assert_eq!(score_of(&p, &state.assigned), state.score);
        assert_eq!(contracts_broken(&p, &state.assigned), Vec::<String>::new());
        assert!(violations(&p, &state.assigned).is_empty());
    }

    #[test]
    fn a_seed_gives_the_same_roster_and_the_search_never_breaks_a_rule() {
        // A week for three people and six PAs, with nights, two 2:1 shifts and scarce skills.
        let mut tasks = Vec::new();
        for d in 0..7 {
            for person in 0..3 {
                tasks.push(task(
                    person,
                    d * D + 8 * H,
                    d * D + 14 * H,
                    vec![0, 1, 2, 3],
                ));
                let mut night = task(
                    person,
                    d * D + 22 * H,
                    (d + 1) * D + 7 * H,
                    vec![2, 3, 4, 5],
                );
                night.night = true;
                tasks.push(night);
            }
        }
        tasks[0].headcount = 2;
        tasks[6].headcount = 2;
        let p = problem(tasks, 6, 3);
        let a = solve(&p, limits(42));
        let b = solve(&p, limits(42));
        assert_eq!(a.assignments, b.assignments);
        assert_eq!(a.score, b.score);
        assert!(violations(&p, &a.assignments).is_empty());
        // The search improves on the construction, or at worst keeps it.
        assert!(a.progress.last().unwrap().1 <= a.progress[0].1);
        for (t, workers) in a.assignments.iter().enumerate() {
            assert!(workers.is_empty() || workers.len() == usize::from(p.tasks[t].headcount));
        }
    }
}

//! The restricted master problem of column generation over workers' plans, for day-planned
//! contracts with cover: a linear programme solved by a small dense revised simplex.
//!
//! Variables: `x[j]` for each plan column `j` (a worker's plan: the covers it fills and what
//! its requests cost), and per cover `under[k]` and `over[k]` (places short and extra). Rows:
//! per cover, `sum of x over plans filling k + under[k] - over[k] = required[k]`; per worker,
//! `sum of x over their plans = 1`. Minimise requests' cost plus `under_cost * under +
//! over_cost * over`. A roster is an integral solution, so the optimum is a lower bound on
//! any roster made of these plans, and its duals price places for the next plans (the duals
//! of the cover rows lie between `-over_cost` and `under_cost`, as the relaxation's prices).
//!
//! The basis inverse is kept dense (the rows number covers plus workers: 62 on Curtois
//! instance 3, 142 on instance 8, 340 on 12) and updated by one elimination step a pivot,
//! refactored from the columns every `REFACTOR_EVERY` pivots. Each worker row starts on an
//! artificial column whose cost outweighs any plan, so the first basis (slacks and
//! artificials) is the identity up to signs and always feasible. The master is highly
//! degenerate (one plan a worker): the right-hand side is perturbed by about a millionth a
//! row, and after a run of pivots that do not move the objective Bland's rule takes over
//! until one does; the primal simplex prices by Devex (`primal_phase`). Columns are kept for
//! good (new ones are appended), so the basis carries over from one solve to the next: after
//! a round of new plans the primal simplex goes on from it. Holding a worker to a plan (a
//! dive's step) keeps the basis too: their other plans are bounded to zero, which leaves the
//! basis dual feasible, and the dual simplex drives them out (`dual_phase`). Where it is not
//! dual feasible (holds changed wholesale after a dive), they are barred by cost instead and
//! the primal simplex goes on. On Curtois instance 12 (seed 1, 60 s, 2026-12-07) the two took
//! the first dive from cut short at 42 s (46 of 60 workers fixed) to ended at 32 s, on
//! 4,040, the best known.

use std::time::Instant;

/// Pivots between rebuilding the inverse from the basis (which costs as much as hundreds of
/// pivots: on Curtois instance 12, rebuilding every 64 took most of the master's time; every
/// 256 and over non-zero spans only, a pivot took 0.13 ms, was 0.35 ms, same pivots; that
/// was with the duals moved along the pivot row, which `solve` no longer does).
const REFACTOR_EVERY: u32 = 256;
/// Pivots that leave the objective where it was before Bland's rule takes over.
const DEGENERATE_RUN: u32 = 30;
/// Reduced costs above this are taken as non-negative, values below it as zero.
const TOLERANCE: f64 = 1e-9;
/// The smallest pivot taken: smaller ones would magnify round-off.
const PIVOT: f64 = 1e-7;

#[derive(Clone)]
struct Column {
    cost: f64,
    /// (row, coefficient), rows ascending.
    rows: Vec<(usize, f64)>,
    /// The worker whose plan this is (None for cover slacks and artificials).
    worker: Option<usize>,
}

/// Why a solve stopped short of the optimum.
#[derive(Debug, PartialEq)]
pub(super) enum LpError {
    /// No leaving row: cannot happen with these columns' costs, kept as a guard.
    Unbounded,
    IterationLimit,
    /// The time given ran out first.
    TimeUp,
}

pub(super) struct Master {
    /// Pivots made, in all.
    pub(super) pivots: u64,
    covers: usize,
    workers: usize,
    /// The right-hand side as the problem states it, and that perturbed (`perturb`), which
    /// the simplex solves.
    required: Vec<f64>,
    perturbed: Vec<f64>,
    columns: Vec<Column>,
    /// Per worker, the plan they are held to (`hold`).
    held: Vec<Option<usize>>,
    /// What a held worker's other plans cost while `by_cost`: more than their artificial.
    barred: f64,
    /// Whether held workers' other plans are kept out by cost (`barred`) rather than by their
    /// bound of zero: only when a hold leaves the basis neither primal nor dual feasible.
    by_cost: bool,
    /// Per column, what the dual simplex adds to its cost (`dual_phase`); empty otherwise.
    shift: Vec<f64>,
    /// The basis: the column basic in each row position.
    basis: Vec<usize>,
    /// Where each column sits in the basis (None: non-basic).
    position: Vec<Option<usize>>,
    /// The basis inverse, rows × rows, row-major.
    inverse: Vec<f64>,
    /// Values of the basic variables, by position.
    values: Vec<f64>,
    since_refactor: u32,
    /// Duals of the last solve, by row.
    duals: Vec<f64>,
}

impl Master {
    /// A master with each cover's `(required, under_cost, over_cost)` and `workers` workers,
    /// no plans yet. `requested`: what every request refused would cost.
    pub(super) fn new(covers: &[(f64, f64, f64)], workers: usize, requested: f64) -> Self {
        // An artificial column costs more than every cover short and every request refused
        // together, so no solution pays it while a plan would do; no more, since the duals
        // carry it and round-off grows with it.
        let artificial = 1.0
            + requested
            + covers
                .iter()
                .map(|&(required, under, over)| required * under + over)
                .sum::<f64>();
        let rows = covers.len() + workers;
        let mut columns = Vec::with_capacity(2 * covers.len() + workers);
        let mut required = Vec::with_capacity(rows);
        for (k, &(places, under, over)) in covers.iter().enumerate() {
            required.push(places);
            let slack = |cost, sign| Column {
                cost,
                rows: vec![(k, sign)],
                worker: None,
            };
            columns.push(slack(under, 1.0));
            columns.push(slack(over, -1.0));
        }
        for w in 0..workers {
            required.push(1.0);
            columns.push(Column {
                cost: artificial,
                rows: vec![(covers.len() + w, 1.0)],
                worker: None,
            });
        }
        let mut master = Self {
            pivots: 0,
            covers: covers.len(),
            workers,
            perturbed: Vec::new(),
            required,
            position: vec![None; columns.len()],
            columns,
            held: vec![None; workers],
            barred: 2.0 * artificial,
            by_cost: false,
            shift: Vec::new(),
            basis: Vec::new(),
            inverse: Vec::new(),
            values: Vec::new(),
            since_refactor: 0,
            duals: vec![0.0; rows],
        };
        master.slack_basis();
        master
    }

    /// The basis of slacks and artificials, always feasible: each cover's shortfall and each
    /// worker's artificial.
    fn slack_basis(&mut self) {
        let n = self.rows();
        self.perturb();
        self.position.fill(None);
        self.basis.clear();
        self.inverse = vec![0.0; n * n];
        // Every right-hand side is at least zero (places required, one plan a worker).
        self.values.clone_from(&self.perturbed);
        for i in 0..n {
            let j = if i >= self.covers {
                2 * self.covers + (i - self.covers)
            } else {
                2 * i
            };
            self.basis.push(j);
            self.position[j] = Some(i);
            self.inverse[i * n + i] = 1.0;
        }
        self.since_refactor = 0;
    }

    /// Each row's right-hand side moved up by a different millionth or so, so that no two
    /// bases give the same point and no pivot is degenerate: without it the simplex stalls
    /// for thousands of pivots once a dive has fixed most workers. The duals stay exact for
    /// the moved problem; bounds are taken from the duals with the true right-hand side.
    fn perturb(&mut self) {
        self.perturbed = self
            .required
            .iter()
            .enumerate()
            .map(|(i, &b)| b + 1e-6 * (1.0 + ((i * 7_919) % 1_009) as f64 / 1_009.0))
            .collect();
    }

    fn rows(&self) -> usize {
        self.covers + self.workers
    }

    /// Adds worker `w`'s plan filling `covers` (each at most once) at `cost`; its index.
    pub(super) fn add_plan(&mut self, w: usize, covers: &[usize], cost: f64) -> usize {
        let mut rows: Vec<(usize, f64)> = covers.iter().map(|&k| (k, 1.0)).collect();
        rows.push((self.covers + w, 1.0));
        rows.sort_unstable_by_key(|r| r.0);
        self.columns.push(Column {
            cost,
            rows,
            worker: Some(w),
        });
        self.position.push(None);
        self.columns.len() - 1
    }

    /// Holds worker `w` to plan column `j`, keeping the basis: their other plans are bounded
    /// to zero and may not enter. The basis stays dual feasible (the last solve priced every
    /// plan that may still enter), so the next solve drives the barred plans out by the dual
    /// simplex (`dual_phase`) and goes on from there. Starting again from the slack basis
    /// instead cost 9,000 to 14,000 pivots a step on Curtois instance 12; barring by cost and
    /// the primal simplex, 1,000 to 5,000 (2026-12-07).
    pub(super) fn hold(&mut self, w: usize, j: usize) {
        debug_assert_eq!(self.columns[j].worker, Some(w));
        debug_assert!(self.held[w].is_none());
        self.held[w] = Some(j);
    }

    /// Lifts every hold.
    pub(super) fn release_all(&mut self) {
        self.held.fill(None);
        self.by_cost = false;
    }

    /// Whether column `j` is a held worker's other plan: bounded to zero.
    fn barred(&self, j: usize) -> bool {
        self.columns[j]
            .worker
            .is_some_and(|w| self.held[w].is_some_and(|k| k != j))
    }

    /// Column `j`'s cost as the simplex sees it (`barred` for a held worker's other plans
    /// while they are kept out by cost).
    fn cost(&self, j: usize) -> f64 {
        if self.by_cost && self.barred(j) {
            self.barred
        } else {
            self.columns[j].cost + self.shift.get(j).copied().unwrap_or(0.0)
        }
    }

    /// The value of plan column `j` in the last solution.
    #[cfg(test)]
    fn value(&self, j: usize) -> f64 {
        self.position[j].map_or(0.0, |i| self.values[i].max(0.0))
    }

    /// Worker `w`'s plan columns with their values in the last solution (non-zero only).
    pub(super) fn plans_of(&self, w: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.basis
            .iter()
            .enumerate()
            .filter(move |&(_, &j)| self.columns[j].worker == Some(w))
            .map(|(i, &j)| (j, self.values[i].max(0.0)))
            .filter(|&(_, v)| v > TOLERANCE)
    }

    /// The dual of cover `k`'s row: what one more place filled there is worth.
    pub(super) fn cover_dual(&self, k: usize) -> f64 {
        self.duals[k]
    }

    /// The dual of worker `w`'s row: a plan of theirs improves the master when its cost less
    /// its covers' duals is below this.
    pub(super) fn worker_dual(&self, w: usize) -> f64 {
        self.duals[self.covers + w]
    }

    /// The objective of the last solution, any artificial included.
    #[cfg(test)]
    fn objective(&self) -> f64 {
        self.basis
            .iter()
            .zip(&self.values)
            .map(|(&j, &v)| self.cost(j) * v)
            .sum()
    }

    /// The duals' objective at the true right-hand side: the optimum, up to the perturbation.
    pub(super) fn dual_objective(&self) -> f64 {
        self.required
            .iter()
            .zip(&self.duals)
            .map(|(b, y)| b * y)
            .sum()
    }

    /// Whether the last solution uses an artificial (a worker with no plan yet).
    pub(super) fn infeasible(&self) -> bool {
        self.basis
            .iter()
            .zip(&self.values)
            .any(|(&j, &v)| v > 1e-6 && j >= 2 * self.covers && self.columns[j].worker.is_none())
    }

    fn reduced_cost(&self, j: usize) -> f64 {
        let column = &self.columns[j];
        self.cost(j)
            - column
                .rows
                .iter()
                .map(|&(r, a)| self.duals[r] * a)
                .sum::<f64>()
    }

    fn compute_duals(&mut self) {
        let n = self.rows();
        self.duals.fill(0.0);
        for (i, &j) in self.basis.iter().enumerate() {
            let c = self.cost(j);
            if c != 0.0 {
                let row = &self.inverse[i * n..(i + 1) * n];
                for (d, &b) in self.duals.iter_mut().zip(row) {
                    *d += c * b;
                }
            }
        }
    }

    /// Rebuilds the inverse from the basis's columns (Gauss and Jordan, partial pivoting) and
    /// the basic values from it.
    fn refactor(&mut self) {
        let n = self.rows();
        let mut b = vec![0.0; n * n];
        for (i, &j) in self.basis.iter().enumerate() {
            for &(r, a) in &self.columns[j].rows {
                b[r * n + i] = a;
            }
        }
        let mut inv = vec![0.0; n * n];
        for i in 0..n {
            inv[i * n + i] = 1.0;
        }
        let mut singular = false;
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&a, &c| b[a * n + col].abs().total_cmp(&b[c * n + col].abs()))
                .unwrap_or(col);
            if b[pivot * n + col].abs() < TOLERANCE {
                // Singular by round-off: keep the updated inverse rather than a worse one.
                singular = true;
                break;
            }
            if pivot != col {
                for x in 0..n {
                    b.swap(pivot * n + x, col * n + x);
                    inv.swap(pivot * n + x, col * n + x);
                }
            }
            let d = b[col * n + col];
            // Only the span of the pivot row's non-zeros: the basis is sparse (a plan fills a
            // few dozen places of hundreds), and so for a while is its inverse. Columns before
            // `col` are eliminated already.
            let b_span = span(&b[col * n..(col + 1) * n], col);
            let inv_span = span(&inv[col * n..(col + 1) * n], 0);
            for x in b_span.clone() {
                b[col * n + x] /= d;
            }
            for x in inv_span.clone() {
                inv[col * n + x] /= d;
            }
            for r in 0..n {
                let f = b[r * n + col];
                if r != col && f != 0.0 {
                    eliminate(&mut b, n, r, col, f, b_span.clone());
                    eliminate(&mut inv, n, r, col, f, inv_span.clone());
                }
            }
        }
        if !singular {
            self.inverse = inv;
        }
        for i in 0..n {
            let row = &self.inverse[i * n..(i + 1) * n];
            self.values[i] = row.iter().zip(&self.perturbed).map(|(a, b)| a * b).sum();
        }
        self.since_refactor = 0;
    }

    /// Whether column `j` may enter the basis (a held worker's other plans may not).
    fn may_enter(&self, j: usize) -> bool {
        self.position[j].is_none() && !self.barred(j)
    }

    /// Whether a basic variable is below zero by more than round-off.
    fn below_zero(&self) -> bool {
        self.values.iter().any(|&v| v < -TOLERANCE)
    }

    /// Whether a barred plan is basic above zero (round-off aside), whatever keeps it out.
    fn barred_above_zero(&self) -> bool {
        self.basis
            .iter()
            .zip(&self.values)
            .any(|(&j, &v)| v > TOLERANCE && self.barred(j))
    }

    /// Whether every column that may enter prices at zero or more (round-off aside).
    fn dual_feasible(&self) -> bool {
        (0..self.columns.len()).all(|j| !self.may_enter(j) || self.reduced_cost(j) >= -1e-7)
    }

    /// Column `e` in terms of the basis, into `alpha`.
    fn column_in_basis(&self, e: usize, alpha: &mut [f64]) {
        let n = self.rows();
        alpha.fill(0.0);
        for &(r, a) in &self.columns[e].rows {
            for (i, x) in alpha.iter_mut().enumerate() {
                *x += self.inverse[i * n + r] * a;
            }
        }
    }

    /// Column `e` enters the basis at row position `l`, at value `theta`.
    fn pivot(&mut self, l: usize, e: usize, alpha: &[f64], theta: f64) {
        let n = self.rows();
        for (i, &a) in alpha.iter().enumerate() {
            if i != l {
                self.values[i] -= theta * a;
            }
        }
        self.values[l] = theta;
        let pivot = alpha[l];
        let (before, rest) = self.inverse.split_at_mut(l * n);
        let (row, after) = rest.split_at_mut(n);
        // Only the span of the pivot row's non-zeros (the inverse stays sparse for a while).
        let nz = span(row, 0);
        let row = &mut row[nz.clone()];
        for x in row.iter_mut() {
            *x /= pivot;
        }
        for (i, other) in before
            .chunks_exact_mut(n)
            .chain(after.chunks_exact_mut(n))
            .enumerate()
        {
            let a = alpha[if i < l { i } else { i + 1 }];
            if a != 0.0 {
                for (x, &y) in other[nz.clone()].iter_mut().zip(row.iter()) {
                    *x -= a * y;
                }
            }
        }
        self.position[self.basis[l]] = None;
        self.basis[l] = e;
        self.position[e] = Some(l);
        self.since_refactor += 1;
        self.pivots += 1;
    }

    /// Solves the master from the last basis, in at most `max_pivots` pivots and by `until`
    /// (a solve after fixing workers may take thousands of pivots, seconds).
    pub(super) fn solve(&mut self, max_pivots: u32, until: Instant) -> Result<(), LpError> {
        let mut pivots = 0;
        if self.below_zero() || (!self.by_cost && self.barred_above_zero()) {
            self.compute_duals();
            // A hold barred plans in the solution. From a dual feasible basis the dual
            // simplex drives them out; otherwise (holds changed after a dive, so plans once
            // barred price below zero) they are kept out by cost and the primal simplex goes
            // on from the basis, which stays feasible.
            let driven_out = if self.dual_feasible() {
                self.shift_costs();
                let driven_out = self.dual_phase(&mut pivots, max_pivots, until);
                self.shift.clear();
                driven_out?
            } else {
                false
            };
            if !driven_out {
                if self.below_zero() {
                    self.slack_basis();
                }
                self.by_cost = true;
            }
        }
        // It prices from the basis afresh.
        self.primal_phase(pivots, max_pivots, until)
    }

    /// Moves each non-basic column's cost up by a different millionth or so: the master is
    /// highly dual degenerate (every plan priced since the last round at zero), and without
    /// it the dual simplex on Curtois instance 12 made 20,000 pivots that left the dual
    /// objective where it was. Reduced costs only grow, so the basis stays dual feasible.
    fn shift_costs(&mut self) {
        self.shift = (0..self.columns.len())
            .map(|j| {
                if self.position[j].is_some() {
                    0.0
                } else {
                    1e-6 * (1.0 + ((j * 7_919) % 1_009) as f64 / 1_009.0)
                }
            })
            .collect();
        self.compute_duals();
    }

    /// The dual simplex from a dual feasible basis until every basic variable keeps its
    /// bounds: whether it got there (false: no column could enter, round-off; the basis
    /// may be primal infeasible). Counts its pivots into `pivots`.
    fn dual_phase(
        &mut self,
        pivots: &mut u32,
        max_pivots: u32,
        until: Instant,
    ) -> Result<bool, LpError> {
        let n = self.rows();
        let mut alpha = vec![0.0; n];
        let mut rho = vec![0.0; n];
        let mut degenerate = 0u32;
        while *pivots < max_pivots {
            if *pivots % 256 == 255 && Instant::now() >= until {
                return Err(LpError::TimeUp);
            }
            *pivots += 1;
            if self.since_refactor >= REFACTOR_EVERY {
                self.refactor();
                self.compute_duals();
            }
            // Leaving: the basic variable furthest outside its bounds, or under Bland's rule the
            // lowest column outside them; `down`: a barred plan above zero, to decrease
            // (otherwise a variable below zero, to increase).
            let bland = degenerate >= DEGENERATE_RUN;
            let mut leaving: Option<(usize, bool)> = None;
            let mut worst = TOLERANCE;
            for (i, (&j, &v)) in self.basis.iter().zip(&self.values).enumerate() {
                let (out, down) = if v > 0.0 && self.barred(j) {
                    (v, true)
                } else {
                    (-v, false)
                };
                let better = if bland {
                    out > TOLERANCE && leaving.is_none_or(|(l, _)| j < self.basis[l])
                } else {
                    out > worst
                };
                if better {
                    worst = worst.max(out);
                    leaving = Some((i, down));
                }
            }
            let Some((r, down)) = leaving else {
                return Ok(true);
            };
            // Entering: of the columns that move the leaving variable towards its bound, the
            // one whose reduced cost reaches zero first (ties to the largest pivot, or under
            // Bland's rule the lowest column), so every reduced cost stays non-negative.
            rho.copy_from_slice(&self.inverse[r * n..(r + 1) * n]);
            let mut entering: Option<(usize, f64, f64)> = None;
            for (j, a) in self.tableau_row(&rho) {
                let toward = if down { a } else { -a };
                if toward <= PIVOT {
                    continue;
                }
                let ratio = self.reduced_cost(j).max(0.0) / toward;
                let better = entering.is_none_or(|(_, best, size)| {
                    ratio < best - 1e-12 || (ratio <= best + 1e-12 && !bland && toward > size)
                });
                if better {
                    entering = Some((j, ratio, toward));
                }
            }
            let Some((e, ratio, _)) = entering else {
                return Ok(false);
            };
            degenerate = if ratio > TOLERANCE { 0 } else { degenerate + 1 };
            self.column_in_basis(e, &mut alpha);
            if alpha[r].abs() <= PIVOT {
                return Ok(false);
            }
            let theta = self.values[r] / alpha[r];
            self.pivot(r, e, &alpha, theta);
            self.compute_duals();
        }
        Err(LpError::IterationLimit)
    }

    /// The primal simplex from a primal feasible basis to the optimum, `pivots` made already.
    ///
    /// The entering column is chosen by Devex (its reduced cost squared over a reference
    /// weight that approximates its edge's length): after a dive's fix, the master is so
    /// degenerate that Dantzig's rule made 500 to 2,300 pivots a round on Curtois instance 12,
    /// nine in ten of them steps below 1e-4; Devex made 150 to 350. The pivot row that
    /// updates the weights updates the reduced costs and the duals too, so a pivot prices the
    /// columns once; both are computed afresh from the basis at every rebuild and before the
    /// solve ends (moved duals drift with the inverse: see below).
    fn primal_phase(
        &mut self,
        mut pivots: u32,
        max_pivots: u32,
        until: Instant,
    ) -> Result<(), LpError> {
        let n = self.rows();
        let mut alpha = vec![0.0; n];
        let mut rho = vec![0.0; n];
        let mut degenerate = 0u32;
        let mut weights = vec![1.0; self.columns.len()];
        let mut reduced = vec![0.0; self.columns.len()];
        self.price_afresh(&mut reduced);
        while pivots < max_pivots {
            if pivots % 256 == 255 && Instant::now() >= until {
                return Err(LpError::TimeUp);
            }
            pivots += 1;
            if self.since_refactor >= REFACTOR_EVERY {
                self.refactor();
                self.price_afresh(&mut reduced);
            }
            // Entering: the largest reduced cost squared over its weight, or under Bland's
            // rule the first negative one.
            let bland = degenerate >= DEGENERATE_RUN;
            let mut entering = self.entering(&reduced, &weights, bland);
            if entering.is_none() {
                // Optimal by the moved reduced costs: make sure by the basis's own.
                self.price_afresh(&mut reduced);
                entering = self.entering(&reduced, &weights, bland);
            }
            let Some(e) = entering else {
                if self.by_cost && !self.barred_above_zero() {
                    // Every barred plan is out: back to bounds, which price the basis truly.
                    self.by_cost = false;
                    self.price_afresh(&mut reduced);
                    continue;
                }
                return Ok(());
            };
            self.column_in_basis(e, &mut alpha);
            // Leaving: the smallest ratio; ties to the largest pivot (or, under Bland's rule,
            // the lowest column). A barred plan still basic (at zero) may not rise: it leaves
            // at once if the entering column would raise it.
            let mut leaving: Option<(usize, f64)> = None;
            for (i, &a) in alpha.iter().enumerate() {
                let ratio = if a > PIVOT {
                    self.values[i].max(0.0) / a
                } else if a < -PIVOT && !self.by_cost && self.barred(self.basis[i]) {
                    0.0
                } else {
                    continue;
                };
                let better = match leaving {
                    None => true,
                    Some((l, best)) => {
                        if ratio < best - 1e-12 {
                            true
                        } else if ratio <= best + 1e-12 {
                            if bland {
                                self.basis[i] < self.basis[l]
                            } else {
                                a.abs() > alpha[l].abs()
                            }
                        } else {
                            false
                        }
                    }
                };
                if better {
                    leaving = Some((i, ratio));
                }
            }
            let Some((l, theta)) = leaving else {
                return Err(LpError::Unbounded);
            };
            degenerate = if theta > TOLERANCE { 0 } else { degenerate + 1 };
            // The pivot row moves the reduced costs, the weights and the duals.
            rho.copy_from_slice(&self.inverse[l * n..(l + 1) * n]);
            let pivot = alpha[l];
            let step = reduced[e] / pivot;
            let we = weights[e];
            for (j, a) in self.tableau_row(&rho) {
                if a != 0.0 {
                    reduced[j] -= step * a;
                    let r = a / pivot;
                    weights[j] = weights[j].max(r * r * we);
                }
            }
            let left = self.basis[l];
            reduced[left] = -step;
            reduced[e] = 0.0;
            weights[left] = (we / (pivot * pivot)).max(1.0);
            for (y, &r) in self.duals.iter_mut().zip(&rho) {
                *y += step * r;
            }
            self.pivot(l, e, &alpha, theta);
        }
        Err(LpError::IterationLimit)
    }

    /// Each column that may enter, with its entry in the tableau row that `rho` (a row of the
    /// basis inverse) gives: the pivot row of both simplex methods.
    fn tableau_row<'a>(&'a self, rho: &'a [f64]) -> impl Iterator<Item = (usize, f64)> + 'a {
        (0..self.columns.len())
            .filter(|&j| self.may_enter(j))
            .map(|j| {
                let a = self.columns[j].rows.iter().map(|&(row, x)| rho[row] * x);
                (j, a.sum())
            })
    }

    /// The duals from the basis, and every column's reduced cost from them into `reduced`.
    fn price_afresh(&mut self, reduced: &mut [f64]) {
        self.compute_duals();
        for (j, d) in reduced.iter_mut().enumerate() {
            *d = self.reduced_cost(j);
        }
    }

    /// The column to enter by Devex (`primal_phase`), or under Bland's rule the first that
    /// prices below zero; None when none does.
    fn entering(&self, reduced: &[f64], weights: &[f64], bland: bool) -> Option<usize> {
        let mut entering = None;
        let mut most = 0.0;
        for (j, (&d, &w)) in reduced.iter().zip(weights).enumerate() {
            if d < -TOLERANCE && d * d > most * w && self.may_enter(j) {
                entering = Some(j);
                most = d * d / w;
                if bland {
                    break;
                }
            }
        }
        entering
    }
}

/// The positions from the first non-zero of `row` (at or past `from`) to its last.
fn span(row: &[f64], from: usize) -> std::ops::Range<usize> {
    let first = (from..row.len()).find(|&x| row[x] != 0.0);
    match first {
        Some(first) => first..row.iter().rposition(|&y| y != 0.0).map_or(first, |x| x + 1),
        None => from..from,
    }
}

/// Row `r` of the n-wide matrix `m` less `f` times row `col`, over `span`.
fn eliminate(m: &mut [f64], n: usize, r: usize, col: usize, f: f64, span: std::ops::Range<usize>) {
    let (pivot, target) = if r < col {
        let (head, tail) = m.split_at_mut(col * n);
        (&tail[span.clone()], &mut head[r * n..][span])
    } else {
        let (head, tail) = m.split_at_mut(r * n);
        (&head[col * n..][span.clone()], &mut tail[span])
    };
    for (x, &y) in target.iter_mut().zip(pivot) {
        *x -= f * y;
    }
}

#[cfg(test)]
mod tests {
    use super::super::Rng;
    use super::*;

    fn far() -> Instant {
        Instant::now() + std::time::Duration::from_secs(3_600)
    }

    /// Plans drawn per worker, each: (its column, the covers it fills, its cost).
    type Drawn = Vec<Vec<(usize, Vec<usize>, f64)>>;

    /// A master of `covers` random covers and `workers` workers with `each` random plans,
    /// with its covers and the plans drawn.
    fn random_master(
        rng: &mut Rng,
        covers: usize,
        workers: usize,
        each: usize,
    ) -> (Master, Vec<(f64, f64, f64)>, Drawn) {
        let covers: Vec<(f64, f64, f64)> = (0..covers)
            .map(|_| {
                (
                    rng.below(3) as f64,
                    1.0 + rng.below(100) as f64,
                    rng.below(5) as f64,
                )
            })
            .collect();
        let mut master = Master::new(&covers, workers, 0.0);
        let mut plans: Drawn = vec![Vec::new(); workers];
        for (w, plans) in plans.iter_mut().enumerate() {
            for _ in 0..each {
                let filled: Vec<usize> = (0..covers.len()).filter(|_| rng.below(2) == 0).collect();
                let cost = rng.below(30) as f64 - 10.0;
                let j = master.add_plan(w, &filled, cost);
                plans.push((j, filled, cost));
            }
        }
        (master, covers, plans)
    }

    /// On random masters the solution is optimal by its own certificate: primal feasible,
    /// every reduced cost non-negative, and the objective equal to the duals' (right-hand side
    /// times duals); and no integral choice of one plan a worker beats it.
    #[test]
    fn solutions_carry_their_optimality_certificate() {
        let mut rng = Rng(11);
        for _ in 0..40 {
            let (mut master, covers, plans) = random_master(&mut rng, 6, 3, 4);
            assert_eq!(master.solve(10_000, far()), Ok(()));
            assert!(!master.infeasible());
            // Primal feasibility: every row holds.
            let n = master.rows();
            let mut lhs = vec![0.0; n];
            for (i, &j) in master.basis.iter().enumerate() {
                assert!(master.values[i] >= -1e-9);
                for &(r, a) in &master.columns[j].rows {
                    lhs[r] += a * master.values[i];
                }
            }
            for (l, r) in lhs.iter().zip(&master.required) {
                assert!((l - r).abs() < 1e-5, "row {l} against {r}");
            }
            // Dual feasibility and strong duality.
            for j in 0..master.columns.len() {
                assert!(master.reduced_cost(j) >= -1e-6);
            }
            assert!((master.dual_objective() - master.objective()).abs() < 1e-3);
            // No roster of these plans is cheaper than the bound.
            let mut best = f64::MAX;
            for pick in 0..64 {
                let mut filled = vec![0.0; covers.len()];
                let mut cost = 0.0;
                for (w, plans) in plans.iter().enumerate() {
                    let (_, f, c) = &plans[(pick >> (2 * w)) & 3];
                    cost += c;
                    for &k in f {
                        filled[k] += 1.0;
                    }
                }
                for (&(req, under, over), &n) in covers.iter().zip(&filled) {
                    cost += under * (req - n).max(0.0) + over * (n - req).max(0.0);
                }
                best = f64::min(best, cost);
            }
            assert!(master.dual_objective() <= best + 1e-6);
        }
    }

    /// Holding a worker moves the solution onto the plan held (a dearer one here), from the
    /// basis kept, and releasing the hold brings the optimum back (up to the perturbation of
    /// the right-hand side).
    #[test]
    fn holding_a_worker_keeps_to_the_plan_held() {
        let covers = [(1.0, 10.0, 1.0), (1.0, 10.0, 1.0)];
        let mut master = Master::new(&covers, 1, 0.0);
        let first = master.add_plan(0, &[0], 0.0);
        let both = master.add_plan(0, &[0, 1], 0.0);
        assert_eq!(master.solve(100, far()), Ok(()));
        assert!((master.objective() - 0.0).abs() < 1e-4);
        assert!((master.value(both) - 1.0).abs() < 1e-4);
        master.hold(0, first);
        assert_eq!(master.solve(100, far()), Ok(()));
        assert!((master.value(first) - 1.0).abs() < 1e-4);
        assert!(master.value(both) < 1e-6);
        assert!((master.objective() - 10.0).abs() < 1e-4);
        assert!((master.dual_objective() - 10.0).abs() < 1e-4);
        assert!(!master.infeasible());
        master.release_all();
        assert_eq!(master.solve(100, far()), Ok(()));
        assert!((master.objective() - 0.0).abs() < 1e-4);
    }

    /// On random masters, holding workers to random plans of theirs (in two waves, and again
    /// after releasing) gives the optimum of the master that has only the held plan for each
    /// held worker, solved from the slack basis: by the dual simplex where the basis allows it,
    /// by cost where it does not.
    #[test]
    fn holds_reach_the_optimum_of_the_master_without_the_barred_plans() {
        let mut rng = Rng(17);
        let mut by_bound = 0;
        for _ in 0..60 {
            let workers = 4;
            let (mut master, covers, plans) = random_master(&mut rng, 8, workers, 5);
            assert_eq!(master.solve(10_000, far()), Ok(()));
            let mut held: Vec<Option<usize>> = vec![None; workers];
            for wave in 0..3 {
                if wave == 2 {
                    master.release_all();
                    held.fill(None);
                }
                for w in 0..workers {
                    if held[w].is_none() && rng.below(2) == 0 {
                        let pick = rng.below(plans[w].len());
                        master.hold(w, plans[w][pick].0);
                        held[w] = Some(pick);
                    }
                }
                let barring = master.barred_above_zero() && !master.by_cost;
                assert_eq!(master.solve(10_000, far()), Ok(()));
                if barring && !master.by_cost {
                    by_bound += 1;
                }
                // The same master with only the held plans for held workers, from scratch.
                let mut alone = Master::new(&covers, workers, 0.0);
                for (w, plans) in plans.iter().enumerate() {
                    for (pick, (_, filled, cost)) in plans.iter().enumerate() {
                        if held[w].is_none_or(|h| h == pick) {
                            alone.add_plan(w, filled, *cost);
                        }
                    }
                }
                assert_eq!(alone.solve(10_000, far()), Ok(()));
                assert!(
                    (master.objective() - alone.objective()).abs() < 1e-3,
                    "held {} against {}",
                    master.objective(),
                    alone.objective()
                );
                for j in 0..master.columns.len() {
                    if master.barred(j) {
                        assert!(master.value(j) < 1e-6, "a barred plan in the solution");
                    }
                }
                if !master.by_cost {
                    assert!((master.dual_objective() - master.objective()).abs() < 1e-3);
                }
            }
        }
        assert!(
            by_bound > 20,
            "the dual simplex drove barred plans out {by_bound} times"
        );
    }
}

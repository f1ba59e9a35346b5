//! One day of a day-planned roster re-decided whole: who works that day and on which cover, the
//! best for everyone at once given every other day, found exactly as a minimum-cost flow.
//!
//! `replan` optimises one worker's row of the roster; this optimises one day's column. With
//! every other day fixed, what a worker's choice for the day costs (off, or a place on one of
//! the day's covers: contract breaks, requests, minima) concerns that worker alone, and the
//! workers meet only in the covers, whose cost is convex in the places filled. So the day is a
//! transportation problem: workers to covers, each worker at most one place, each cover's n-th
//! place costing what it adds to the cover's cost. Successive shortest paths (Bellman-Ford, as
//! arcs cost less than nothing where a cover is short) from no one working, stopping when no
//! path costs less than nothing, give the cheapest day: it takes chains the one-place moves
//! cannot (one worker from early to late, another from off to early, a third from late to off).

use super::{Rng, State};

/// Costs are scaled by this so that a jitter below it breaks ties without reordering choices
/// whose costs differ.
const SCALE: i64 = 64;

/// Re-decides day `day` (its tasks `day_tasks`, all counting towards covers, none fixed) with
/// each choice's cost jittered by less than `jitter` sixty-fourths of a unit (ties take turns).
/// Records how to undo; false when the day does not lend itself (a place of headcount two, or
/// outside every cover), in which case nothing changed.
pub(super) fn reassign_day(
    state: &mut State<'_>,
    day_tasks: &[usize],
    rng: &mut Rng,
    jitter: usize,
    undo: &mut Vec<(usize, usize, i64)>,
) -> bool {
    let p = state.p;
    if day_tasks
        .iter()
        .any(|&t| p.tasks[t].cover.is_none() || p.tasks[t].headcount != 1 || p.tasks[t].fixed)
    {
        return false;
    }
    // The day's covers, each with its places.
    let mut covers: Vec<usize> = Vec::new();
    let mut places: Vec<Vec<usize>> = Vec::new();
    for &t in day_tasks {
        let c = p.tasks[t].cover.unwrap_or_default();
        match covers.iter().position(|&x| x == c) {
            Some(i) => places[i].push(t),
            None => {
                covers.push(c);
                places.push(vec![t]);
            }
        }
    }
    if covers.is_empty() {
        return false;
    }
    // The day emptied.
    for &t in day_tasks {
        for w in state.assigned[t].clone() {
            state.apply(t, w, -1);
            undo.push((t, w, 1));
        }
    }
    // What each worker's place on each cover adds beyond the cover's own cost (None: a rule
    // forbids it). A cover's places are alike, so its first stands for all.
    let workers = p.workers.len();
    let empty_total = state.score.total;
    let mut cost: Vec<Vec<Option<i64>>> = vec![vec![None; covers.len()]; workers];
    for (i, (&c, cover_places)) in covers.iter().zip(&places).enumerate() {
        let x = cover_places[0];
        let cover_first = p.covers[c].cost(1) - p.covers[c].cost(0);
        for w in 0..workers {
            if p.tasks[x].eligible.binary_search(&w).is_err() || !state.can_take(x, w, None) {
                continue;
            }
            state.apply(x, w, 1);
            let alone = state.score.total - empty_total - cover_first;
            state.apply(x, w, -1);
            let tie = if jitter > 0 {
                rng.below(jitter) as i64
            } else {
                0
            };
            cost[w][i] = Some(alone * SCALE + tie);
        }
    }
    let chosen = cheapest_day(&cost, &covers, &places, state);
    for (w, choice) in chosen.into_iter().enumerate() {
        let Some(i) = choice else { continue };
        let free = places[i]
            .iter()
            .copied()
            .find(|&x| state.assigned[x].is_empty());
        let Some(x) = free else { continue };
        // Each worker's rules concern their own days alone, so what was allowed still is.
        if state.can_take(x, w, None) {
            state.apply(x, w, 1);
            undo.push((x, w, -1));
        }
    }
    true
}

/// The cheapest choice of cover (or none) per worker: `cost[w][i]` is worker `w` on cover
/// `covers[i]` (scaled), a cover's n-th place costs what it adds to the cover's cost (scaled),
/// and a cover takes at most its places.
fn cheapest_day(
    cost: &[Vec<Option<i64>>],
    covers: &[usize],
    places: &[Vec<usize>],
    state: &State<'_>,
) -> Vec<Option<usize>> {
    let p = state.p;
    let (workers, kinds) = (cost.len(), covers.len());
    let mut choice: Vec<Option<usize>> = vec![None; workers];
    let mut filled = vec![0u32; kinds];
    // What the next place on cover i adds, or None when it is full.
    let next = |i: usize, filled: &[u32]| -> Option<i64> {
        let n = filled[i];
        ((n as usize) < places[i].len())
            .then(|| (p.covers[covers[i]].cost(n + 1) - p.covers[covers[i]].cost(n)) * SCALE)
    };
    // Nodes: workers, then covers, then the sink.
    let sink = workers + kinds;
    let mut dist = vec![i64::MAX; sink + 1];
    let mut from = vec![usize::MAX; sink + 1];
    loop {
        dist.fill(i64::MAX);
        from.fill(usize::MAX);
        for w in 0..workers {
            if choice[w].is_none() {
                dist[w] = 0;
            }
        }
        // Bellman-Ford: at most as many rounds as nodes (no cycle costs less than nothing
        // while the flow is the cheapest of its size).
        for _ in 0..=sink {
            let mut changed = false;
            for w in 0..workers {
                if dist[w] == i64::MAX {
                    continue;
                }
                for (i, arc) in cost[w].iter().enumerate() {
                    if let (Some(a), false) = (*arc, choice[w] == Some(i)) {
                        let d = dist[w] + a;
                        if d < dist[workers + i] {
                            dist[workers + i] = d;
                            from[workers + i] = w;
                            changed = true;
                        }
                    }
                }
            }
            for i in 0..kinds {
                let at = dist[workers + i];
                if at == i64::MAX {
                    continue;
                }
                // Back along a worker's place: they leave it for another cover.
                for w in 0..workers {
                    if choice[w] == Some(i) {
                        let d = at - cost[w][i].unwrap_or_default();
                        if d < dist[w] {
                            dist[w] = d;
                            from[w] = workers + i;
                            changed = true;
                        }
                    }
                }
                if let Some(m) = next(i, &filled) {
                    if at + m < dist[sink] {
                        dist[sink] = at + m;
                        from[sink] = workers + i;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if dist[sink] >= 0 {
            return choice;
        }
        // Augment: walk back from the sink, each cover taking the worker before it.
        let mut node = from[sink];
        filled[node - workers] += 1;
        for _ in 0..=sink {
            if node == usize::MAX || node < workers {
                break;
            }
            let w = from[node];
            choice[w] = Some(node - workers);
            node = from[w];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        day_planned_test_problem, violations, Contract, Cover, Problem, Task, Worker,
    };
    use super::*;

    const DAYS: usize = 4;
    const KINDS: u16 = 2;
    const WORKERS: usize = 5;

    /// Five workers, four days, two kinds (no early the day after a late), a cover line per
    /// day and kind with a spare place or none, requests and contract minima that bind.
    fn random_problem(rng: &mut Rng) -> Problem {
        let mut covers = Vec::new();
        let mut tasks = Vec::new();
        for day in 0..DAYS {
            for kind in 0..KINDS {
                let cover = covers.len();
                let required = rng.below(3) as u32;
                covers.push(Cover {
                    required,
                    under_cost: 1 + rng.below(100) as i64,
                    over_cost: 1 + rng.below(20) as i64,
                });
                let start = day as i64 * 1440 + i64::from(kind) * 480;
                // A cover's places are interchangeable: alike for who may take them.
                let eligible: Vec<usize> = (0..WORKERS).filter(|_| rng.below(5) > 0).collect();
                for _ in 0..required + rng.below(2) as u32 {
                    tasks.push(Task {
                        start,
                        end: start + 480,
                        headcount: 1,
                        eligible: eligible.clone(),
                        kind,
                        cover: Some(cover),
                        ..Default::default()
                    });
                }
            }
        }
        let workers = (0..WORKERS)
            .map(|_| {
                let mut requests = || {
                    (0..2)
                        .map(|_| {
                            let kind = rng.below(usize::from(KINDS)) as u16;
                            (rng.below(DAYS), kind, 1 + rng.below(50) as i64)
                        })
                        .collect()
                };
                let (on_requests, off_requests) = (requests(), requests());
                Worker {
                    max_minutes_per_week: i64::MAX / 64,
                    km_to_person: vec![0.0],
                    contract: Some(Contract {
                        max_per_kind: vec![1 + rng.below(3) as u32, 1 + rng.below(3) as u32],
                        min_minutes: 480 * rng.below(3) as i64,
                        max_minutes: 480 * (2 + rng.below(2) as i64),
                        min_consecutive: 1 + rng.below(2) as u32,
                        max_consecutive: 2 + rng.below(2) as u32,
                        min_days_off: 1,
                        max_weekends: 1,
                        on_requests,
                        off_requests,
                    }),
                    ..Default::default()
                }
            })
            .collect();
        day_planned_test_problem(tasks, workers, covers, DAYS)
    }

    /// A roster of random places that keeps every rule (not every minimum).
    fn random_roster<'a>(p: &'a Problem, rng: &mut Rng) -> State<'a> {
        let mut state = State::new(p);
        for _ in 0..4 * p.tasks.len() {
            let t = rng.below(p.tasks.len());
            let w = rng.below(WORKERS);
            if state.assigned[t].is_empty()
                && p.tasks[t].eligible.contains(&w)
                && state.can_take(t, w, None)
            {
                state.apply(t, w, 1);
            }
        }
        state
    }

    /// The cheapest total over every choice (off or a kind) per worker for `day`, the other
    /// days as they are in `state`.
    fn cheapest_by_hand(state: &State<'_>, day: usize) -> i64 {
        let p = state.p;
        let mut empty = state.clone();
        for t in 0..p.tasks.len() {
            if p.tasks[t].start / 1440 == day as i64 {
                for w in empty.assigned[t].clone() {
                    empty.apply(t, w, -1);
                }
            }
        }
        let choices = usize::from(KINDS) + 1;
        let mut best = i64::MAX;
        'codes: for code in 0..choices.pow(WORKERS as u32) {
            let mut s = empty.clone();
            for w in 0..WORKERS {
                let choice = code / choices.pow(w as u32) % choices;
                if choice == 0 {
                    continue;
                }
                let cover = day * usize::from(KINDS) + choice - 1;
                let free = (0..p.tasks.len())
                    .find(|&t| p.tasks[t].cover == Some(cover) && s.assigned[t].is_empty());
                match free {
                    Some(t) if p.tasks[t].eligible.contains(&w) && s.can_take(t, w, None) => {
                        s.apply(t, w, 1)
                    }
                    _ => continue 'codes,
                }
            }
            best = best.min(s.score.total);
        }
        best
    }

    #[test]
    fn a_day_is_re_decided_at_least_cost_and_every_rule_is_kept() {
        let mut rng = Rng(11);
        let mut improved = 0;
        for _ in 0..60 {
            let p = random_problem(&mut rng);
            let mut state = random_roster(&p, &mut rng);
            let day = rng.below(DAYS);
            let day_tasks: Vec<usize> = (0..p.tasks.len())
                .filter(|&t| p.tasks[t].start / 1440 == day as i64)
                .collect();
            if day_tasks.is_empty() {
                continue;
            }
            let (before, expected) = (state.score.total, cheapest_by_hand(&state, day));
            let mut undo = Vec::new();
            assert!(reassign_day(&mut state, &day_tasks, &mut rng, 0, &mut undo));
            assert_eq!(state.score.total, expected, "day {day} of {p:?}");
            // The kept totals are the roster's own, counted afresh.
            let mut fresh = State::new(&p);
            for (t, workers) in state.assigned.iter().enumerate() {
                for &w in workers {
                    fresh.apply(t, w, 1);
                }
            }
            assert_eq!(state.score, fresh.score);
            assert!(violations(&p, &state.assigned).is_empty());
            improved += usize::from(expected < before);
            state.revert(&mut undo);
            assert_eq!(state.score.total, before);
        }
        // The random rosters leave room: most days come out cheaper.
        assert!(improved > 30, "{improved}");
    }
}

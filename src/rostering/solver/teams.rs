//! Many teams rostered at once: an organisation's month (890 people, 4,000 PAs) as one roster.
//!
//! Searching the whole at once is slow to improve: a move costs five times what it costs on one
//! team's roster (the state no longer fits in cache) and the moves are spread over every team.
//! So the whole is first built by the greedy construction (a roster with no hard violation
//! within a second or so), then improved team by team: each team's part (`Part`: its shifts,
//! the PAs eligible for them, and those PAs' work for other teams fixed) is solved as that team
//! alone would be, with a share of the time left, and replaces the team's roster if it scores
//! less. A part's score differs from the whole's only by what it leaves out, which the part
//! cannot change, so every accepted part lowers the whole's score by as much, and every hard
//! rule still holds across teams (a PA's other work is in the part). Two parts are solved at a
//! time when they share no PA; rounds repeat while time is left. A team's roster is thus as
//! good as rostering it alone beside the others' (`scripts/bench-roster.sh`, organisation).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{
    open_reason, score_of, search, Limits, Part, Problem, Relaxation, Report, Solution, State,
};

/// The most of the limit the greedy construction of the whole may take.
const CONSTRUCTION_SHARE: f64 = 0.5;
/// The least time a part is worth solving for: its own construction takes milliseconds.
const LEAST_PART: Duration = Duration::from_millis(20);

/// Rosters the whole of `p`, improving it group by group (`groups` are task indices, one
/// group per team), `threads` parts at a time.
pub fn solve_groups(
    p: &Problem,
    groups: &[Vec<usize>],
    limits: Limits,
    threads: usize,
    report: &mut dyn FnMut(Report),
) -> Solution {
    const REPORT_EVERY: Duration = Duration::from_millis(500);
    let started = Instant::now();
    let deadline = started + limits.time;
    // The greedy construction alone, for up to half the limit: every team's roster starts
    // from it, and what it leaves open the parts' short searches seldom fill.
    let built = search(
        p,
        Limits {
            time: limits
                .time
                .mul_f64(CONSTRUCTION_SHARE / super::CONSTRUCTION_SHARE),
            moves: 0,
            seed: limits.seed,
        },
        Relaxation::Columns,
        None,
        &mut |_| {},
    );
    let construction_ms = built.construction_ms;
    let mut whole = built.assignments;
    let mut total = built.score.total;
    let mut progress = vec![(construction_ms, total)];
    let mut moves = 0u64;
    report(Report {
        elapsed_ms: started.elapsed().as_millis() as u64,
        best_total: total,
        best_shortfall: built.score.shortfall(),
        moves,
    });
    let mut reported = Instant::now();

    // Each group's eligible PAs; a group nobody may work for is left as it is.
    let (groups, group_workers): (Vec<&Vec<usize>>, Vec<Vec<usize>>) = groups
        .iter()
        .map(|g| {
            let mut workers: Vec<usize> = g
                .iter()
                .flat_map(|&t| p.tasks[t].eligible.iter().copied())
                .collect();
            workers.sort_unstable();
            workers.dedup();
            (g, workers)
        })
        .filter(|(_, workers)| !workers.is_empty())
        .unzip();
    let threads = threads.max(1);
    let mut busy = vec![false; p.workers.len()];
    let mut waiting: Vec<usize> = Vec::new();
    let mut round = 0u64;
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<(usize, Part, i64, Solution)>();
        let mut in_flight = 0usize;
        loop {
            if waiting.is_empty() && in_flight == 0 {
                if Instant::now() + LEAST_PART >= deadline || groups.is_empty() {
                    break;
                }
                waiting = (0..groups.len()).rev().collect();
                round += 1;
            }
            // Hand out parts whose PAs are not in a part being solved.
            while in_flight < threads && Instant::now() + LEAST_PART < deadline {
                let Some(at) = waiting
                    .iter()
                    .rposition(|&g| group_workers[g].iter().all(|&w| !busy[w]))
                else {
                    break;
                };
                let g = waiting.remove(at);
                let part = Part::of(p, groups[g], Some(&whole));
                for &w in &part.workers {
                    busy[w] = true;
                }
                let current = part.assignments(&whole);
                let before = score_of(&part.problem, &current).total;
                // The time left, shared by the parts left in this round and those in flight.
                let left = deadline.saturating_duration_since(Instant::now());
                let share = left.mul_f64(threads as f64 / (waiting.len() + 1 + in_flight) as f64);
                let limits = Limits {
                    time: share.min(left).max(LEAST_PART.min(left)),
                    moves: u64::MAX,
                    seed: limits
                        .seed
                        .wrapping_add(round * groups.len() as u64 + g as u64),
                };
                let done = done_tx.clone();
                in_flight += 1;
                scope.spawn(move || {
                    let solution = search(
                        &part.problem,
                        limits,
                        Relaxation::Columns,
                        Some(&current),
                        &mut |_| {},
                    );
                    // The receiver outlives every part: it is dropped after the scope's loop.
                    let _ = done.send((g, part, before, solution));
                });
            }
            if in_flight == 0 {
                // With nothing in flight every part could start: only the clock stopped them.
                break;
            }
            let Ok((_, part, before, solution)) = done_rx.recv() else {
                break;
            };
            in_flight -= 1;
            moves += solution.moves;
            for &w in &part.workers {
                busy[w] = false;
            }
            if solution.score.total < before && solution.score.shortfall() == 0 {
                for ((&t, task), workers) in part
                    .tasks
                    .iter()
                    .zip(&part.problem.tasks)
                    .zip(&solution.assignments)
                {
                    if !task.fixed {
                        whole[t] = workers.iter().map(|&w| part.workers[w]).collect();
                    }
                }
                total += solution.score.total - before;
                progress.push((started.elapsed().as_millis() as u64, total));
            }
            if reported.elapsed() >= REPORT_EVERY {
                reported = Instant::now();
                report(Report {
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    best_total: total,
                    best_shortfall: 0,
                    moves,
                });
            }
        }
    });

    let mut state = State::new(p);
    for (t, workers) in whole.iter().enumerate() {
        for &w in workers {
            state.apply(t, w, 1);
        }
    }
    let open = (0..p.tasks.len())
        .filter(|&t| {
            !p.tasks[t].fixed && p.tasks[t].cover.is_none() && state.assigned[t].is_empty()
        })
        .map(|t| (t, open_reason(&state, t)))
        .collect();
    Solution {
        score: state.score,
        assignments: whole,
        open,
        moves,
        construction_ms,
        progress,
        relaxation_bound: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Pence;
    use crate::rostering::solver::{violations, Rules, Task, Weights, Worker};

    const H: i64 = 60;
    const D: i64 = 24 * 60;

    /// Three teams of two people over two weeks; each team has PAs of its own (four, the
    /// middle team two) and the teams side by side share two more (a day shift each day per
    /// person, and an evening for every other person, counted as a night).
    fn teams() -> (Problem, Vec<Vec<usize>>) {
        let people = 6;
        let team_of = |person: usize| person / 2;
        let pa_team = |w: usize| if w < 12 { Some(w / 4) } else { None };
        let workers: Vec<Worker> = (0..14)
            .map(|w| Worker {
                contract: None,
                max_minutes_per_week: 48 * H,
                wanted_minutes_per_week: (20 + 2 * w as i64) * H,
                hourly_pay_pence: Pence::new(1300 + 10 * w as i64),
                km_to_person: (0..people).map(|p| 2.0 + ((p + w) % 5) as f64).collect(),
                core_team_of: (0..people)
                    .filter(|&p| pa_team(w) == Some(team_of(p)) && (p + w) % 2 == 0)
                    .collect(),
            })
            .collect();
        let mut tasks = Vec::new();
        for person in 0..people {
            let team = team_of(person);
            let eligible: Vec<usize> = (0..14)
                .filter(|&w| match pa_team(w) {
                    Some(t) => t == team && (team != 1 || w % 4 < 2),
                    // PA 12 works for teams 0 and 1, PA 13 for teams 1 and 2.
                    None => team == w - 12 || team == w - 11,
                })
                .collect();
            for day in 0..14 {
                let evening = (person % 2 == 1).then_some((17, 22, true));
                for (start, end, night) in std::iter::once((8, 15, false)).chain(evening) {
                    tasks.push(Task {
                        person,
                        start: day * D + start * H,
                        end: day * D + end * H,
                        headcount: 1 + u8::from(person == 0 && !night),
                        night,
                        weekend: day % 7 >= 5,
                        eligible: eligible.clone(),
                        ..Default::default()
                    });
                }
            }
        }
        let groups = (0..3)
            .map(|team| {
                (0..tasks.len())
                    .filter(|&t| team_of(tasks[t].person) == team)
                    .collect()
            })
            .collect();
        let problem = Problem {
            tasks,
            workers,
            people,
            travel_minutes: vec![vec![15; people]; people],
            weeks: 2,
            rules: Rules::working_time_regulations(),
            weights: Weights::default(),
            ..Default::default()
        };
        (problem, groups)
    }

    #[test]
    fn teams_rostered_together_keep_every_rule_across_teams_and_improve_on_the_first_roster() {
        let (p, groups) = teams();
        let limits = Limits {
            time: Duration::from_millis(250),
            moves: u64::MAX,
            seed: 5,
        };
        let mut reports = Vec::new();
        let started = Instant::now();
        let solution = solve_groups(&p, &groups, limits, 2, &mut |r| reports.push(r));
        // The limit, and a margin for a machine busy with the other tests.
        assert!(started.elapsed() < Duration::from_millis(250 + 1_000));
        assert!(violations(&p, &solution.assignments).is_empty());
        assert_eq!(solution.score, score_of(&p, &solution.assignments));
        assert!(!reports.is_empty());
        let first = solution.progress[0].1;
        assert!(
            solution.score.total < first,
            "{} !< {first}",
            solution.score.total
        );
        assert!(solution.moves > 0);
    }

    #[test]
    fn a_change_to_a_teams_part_changes_the_whole_score_by_as_much() {
        let (p, groups) = teams();
        // The greedy construction, repeatable.
        let solution = search(
            &p,
            Limits {
                time: Duration::from_secs(5),
                moves: 0,
                seed: 9,
            },
            Relaxation::Columns,
            None,
            &mut |_| {},
        );
        let whole = solution.assignments;
        // The first team's part: its shifts, the shared PA's work for the middle team fixed.
        let part = Part::of(&p, &groups[0], Some(&whole));
        let own = part.assignments(&whole);
        let before = score_of(&part.problem, &own).total;
        // A shared PA, working for another team, given one more of this team's evenings or
        // weekend shifts where the rules allow (their other work counts in the part: rest,
        // hours, and their share of nights and weekends).
        let others: Vec<usize> = (0..part.workers.len())
            .filter(|&w| (0..own.len()).any(|i| part.problem.tasks[i].fixed && own[i] == [w]))
            .collect();
        assert!(
            !others.is_empty(),
            "the part sees the shared PAs' other work"
        );
        let (changed_part, changed_whole) = others
            .iter()
            .flat_map(|&w| (0..own.len()).map(move |i| (w, i)))
            .filter(|&(w, i)| {
                let task = &part.problem.tasks[i];
                !task.fixed
                    && (task.night || task.weekend)
                    && task.headcount == 1
                    && own[i] != [w]
                    && task.eligible.contains(&w)
            })
            .map(|(w, i)| {
                let mut changed_part = own.clone();
                changed_part[i] = vec![w];
                let mut changed_whole = whole.clone();
                changed_whole[part.tasks[i]] = vec![part.workers[w]];
                (changed_part, changed_whole)
            })
            .find(|(_, whole)| violations(&p, whole).is_empty())
            .expect("a shift a shared PA may take");
        let part_delta = score_of(&part.problem, &changed_part).total - before;
        let whole_delta = score_of(&p, &changed_whole).total - score_of(&p, &whole).total;
        assert_ne!(part_delta, 0);
        assert_eq!(part_delta, whole_delta);
    }
}

//! Roster benchmark: a team manager's month. 10 people and 100 PAs in East Lancashire, 4 weeks,
//! with waking nights, sleep-ins and 2:1 support; reports the time to the first roster (which
//! never breaks a hard rule) and the score at 1 s, 10 s and 60 s. The solver core alone: who is
//! eligible for which shift is drawn here as the marketplace would decide it. Run through
//! `scripts/bench-roster.sh`; the figures belong in the README.
//!
//! `bench_roster <seconds> <seed> organisation [alone seconds]`: an organisation's month, 89
//! team managers' teams (890 people, 4,000 PAs) solved as one roster, as an admin's
//! organisation-wide run does. Each team recruits its PAs around its people, and some PAs also
//! work for a neighbouring team. Besides the first roster and the scores, each team's part of
//! the organisation's roster is scored beside the same team rostered alone (its people, the
//! PAs eligible for them, nobody else competing for them) for `alone seconds` (1 by default).

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use parota::rostering::solver::{
    score_of, solve, solve_groups, violations, Limits, Part, Problem, Rules, Solution, Task,
    Weights, Worker,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const H: i64 = 60;
const D: i64 = 24 * 60;

/// (start hour, end hour, headcount, night, kind) for each day of a person's week.
fn pattern(kind: usize) -> Vec<(i64, i64, u8, bool)> {
    match kind % 5 {
        // Ventilated, 24/7: two 12-hour shifts, 2:1 by day.
        0 => vec![(8, 20, 2, false), (20, 32, 1, true)],
        // Epilepsy: days, and a waking night.
        1 => vec![(8, 15, 1, false), (15, 22, 1, false), (22, 32, 1, true)],
        // Learning disability: day support and a sleep-in.
        2 => vec![(9, 17, 1, false), (22, 31, 1, true)],
        // Personal care calls, morning and evening, 2:1 hoisting in the morning.
        3 => vec![(7, 10, 2, false), (17, 21, 1, false)],
        // End of life: long days and waking nights.
        _ => vec![(8, 20, 1, false), (20, 32, 1, true)],
    }
}

fn main() {
    let seconds: u64 = std::env::args().nth(1).map_or(60, |s| s.parse().unwrap());
    let seed: u64 = std::env::args().nth(2).map_or(1, |s| s.parse().unwrap());
    if std::env::args().nth(3).as_deref() == Some("organisation") {
        let alone: f64 = std::env::args().nth(4).map_or(1.0, |s| s.parse().unwrap());
        organisation(seconds, seed, alone);
        return;
    }
    // The same month every run; the seed varies only the search.
    let mut rng = Rng(0x5EED_0001);
    let people = 10;
    let pas = 100;
    let weeks = 4;
    // Homes across a 25 km square.
    let place = |rng: &mut Rng| (rng.below(250) as f64 / 10.0, rng.below(250) as f64 / 10.0);
    let homes: Vec<(f64, f64)> = (0..people).map(|_| place(&mut rng)).collect();
    let pa_homes: Vec<(f64, f64)> = (0..pas).map(|_| place(&mut rng)).collect();
    let km = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    // Qualified for a person: about a fifth of PAs, more for simpler needs.
    let qualified: Vec<Vec<bool>> = (0..people)
        .map(|p| {
            (0..pas)
                .map(|_| rng.chance(if p % 5 == 3 { 30 } else { 18 }))
                .collect()
        })
        .collect();
    // Each PA is free on 5 or 6 days of the week, and some never do nights.
    let free_days: Vec<Vec<bool>> = (0..pas)
        .map(|_| (0..7).map(|_| rng.chance(80)).collect())
        .collect();
    let nights_ok: Vec<bool> = (0..pas).map(|_| rng.chance(60)).collect();
    let mut tasks = Vec::new();
    for person in 0..people {
        for day in 0..weeks as i64 * 7 {
            for (start, end, headcount, night) in pattern(person) {
                let eligible: Vec<usize> = (0..pas)
                    .filter(|&w| {
                        qualified[person][w]
                            && free_days[w][(day % 7) as usize]
                            && (!night || nights_ok[w])
                            && km(homes[person], pa_homes[w]) < 20.0
                    })
                    .collect();
                tasks.push(Task {
                    person,
                    start: day * D + start * H,
                    end: day * D + end * H,
                    headcount,
                    night,
                    weekend: day % 7 >= 5,
                    eligible,
                    fixed: false,
                    ..Default::default()
                });
            }
        }
    }
    let workers: Vec<Worker> = (0..pas)
        .map(|w| Worker {
            contract: None,
            max_minutes_per_week: 48 * H,
            wanted_minutes_per_week: (16 + rng.below(25) as i64) * H,
            hourly_pay_pence: parota::money::Pence::new(1290 + rng.below(300) as i64),
            km_to_person: homes.iter().map(|h| km(*h, pa_homes[w])).collect(),
            core_team_of: (0..people)
                .filter(|&p| qualified[p][w] && rng.chance(40))
                .collect(),
        })
        .collect();
    let travel_minutes = homes
        .iter()
        .map(|a| {
            homes
                .iter()
                .map(|b| (km(*a, *b) / 30.0 * 60.0).round() as i64 + 10)
                .collect()
        })
        .collect();
    let problem = Problem {
        days: 0,
        cannot_follow: Vec::new(),
        covers: Vec::new(),
        tasks,
        workers,
        people,
        travel_minutes,
        weeks,
        rules: Rules::working_time_regulations(),
        weights: Weights::default(),
    };
    let slots: usize = problem.tasks.iter().map(|t| usize::from(t.headcount)).sum();
    let hours: i64 = problem
        .tasks
        .iter()
        .map(|t| (t.end - t.start) * i64::from(t.headcount))
        .sum::<i64>()
        / 60;
    println!(
        "problem     people={people} pas={pas} weeks={weeks} shifts={} pa_slots={slots} pa_hours={hours}",
        problem.tasks.len()
    );
    let solution = solve(
        &problem,
        Limits {
            time: Duration::from_secs(seconds),
            moves: u64::MAX,
            seed,
        },
    );
    print_first_and_scores(&problem, &solution, seconds, "");
    let s = solution.score;
    let open_slots: usize = solution
        .open
        .iter()
        .map(|(t, _)| usize::from(problem.tasks[*t].headcount))
        .sum();
    println!(
        "final       open_shifts={} open_pa_slots={open_slots} open_hours={} distinct_pa_person_pairs={} outside_team_hours={} over_wanted_hours={} under_wanted_hours={} fairness={} travel_km={} pay=£{:.0}",
        solution.open.len(),
        s.open_minutes / 60,
        s.distinct_pairs,
        s.outside_team_minutes / 60,
        s.over_wanted_minutes / 60,
        s.under_wanted_minutes / 60,
        s.fairness,
        s.travel_km,
        s.pay_pence.get() as f64 / 100.0
    );
}

/// Checks the roster keeps every hard rule and prints the first roster and the scores at 1 s,
/// 10 s and the limit, then `more`.
fn print_first_and_scores(problem: &Problem, solution: &Solution, seconds: u64, more: &str) {
    assert!(
        violations(problem, &solution.assignments).is_empty(),
        "a hard rule was broken"
    );
    let at = |ms: u64| {
        solution
            .progress
            .iter()
            .rfind(|(t, _)| *t <= ms)
            .map_or(i64::MAX, |(_, s)| *s)
    };
    println!(
        "first roster {} ms (no hard violation), score {}; at 1 s {}, 10 s {}, {} s {}; moves {}{more}",
        solution.construction_ms,
        solution.progress[0].1,
        at(1_000),
        at(10_000),
        seconds,
        solution.score.total,
        solution.moves
    );
}

/// An organisation's month: `teams` teams of ten people in a 40 km by 30 km area, each with
/// the PAs it recruited near its people; a PA may also be qualified for people of a team whose
/// area is within 12 km of their own team's. Returns the problem and each person's team.
fn organisation_problem(teams: usize, pas: usize) -> (Problem, Vec<usize>) {
    let mut rng = Rng(0x5EED_0002);
    let people = teams * 10;
    let weeks = 4;
    let around = |rng: &mut Rng, (x, y): (f64, f64), km: u64| {
        (
            x + (rng.below(km * 20) as f64 / 10.0 - km as f64),
            y + (rng.below(km * 20) as f64 / 10.0 - km as f64),
        )
    };
    let km = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let centres: Vec<(f64, f64)> = (0..teams)
        .map(|_| (rng.below(400) as f64 / 10.0, rng.below(300) as f64 / 10.0))
        .collect();
    let team_of: Vec<usize> = (0..people).map(|p| p / 10).collect();
    let homes: Vec<(f64, f64)> = (0..people)
        .map(|p| around(&mut rng, centres[team_of[p]], 4))
        .collect();
    let pa_team: Vec<usize> = (0..pas).map(|w| w % teams).collect();
    let pa_homes: Vec<(f64, f64)> = (0..pas)
        .map(|w| around(&mut rng, centres[pa_team[w]], 6))
        .collect();
    let qualified: Vec<Vec<bool>> = (0..people)
        .map(|p| {
            (0..pas)
                .map(|w| {
                    let (mine, theirs) = (team_of[p], pa_team[w]);
                    if mine == theirs {
                        rng.chance(45)
                    } else if km(centres[mine], centres[theirs]) < 12.0 {
                        rng.below(1000) < 15
                    } else {
                        false
                    }
                })
                .collect()
        })
        .collect();
    let free_days: Vec<Vec<bool>> = (0..pas)
        .map(|_| (0..7).map(|_| rng.chance(80)).collect())
        .collect();
    let nights_ok: Vec<bool> = (0..pas).map(|_| rng.chance(60)).collect();
    let mut tasks = Vec::new();
    for person in 0..people {
        let mine: Vec<usize> = (0..pas)
            .filter(|&w| qualified[person][w] && km(homes[person], pa_homes[w]) < 20.0)
            .collect();
        for day in 0..weeks as i64 * 7 {
            for (start, end, headcount, night) in pattern(person) {
                tasks.push(Task {
                    person,
                    start: day * D + start * H,
                    end: day * D + end * H,
                    headcount,
                    night,
                    weekend: day % 7 >= 5,
                    eligible: mine
                        .iter()
                        .copied()
                        .filter(|&w| free_days[w][(day % 7) as usize] && (!night || nights_ok[w]))
                        .collect(),
                    fixed: false,
                    ..Default::default()
                });
            }
        }
    }
    let workers: Vec<Worker> = (0..pas)
        .map(|w| Worker {
            contract: None,
            max_minutes_per_week: 48 * H,
            wanted_minutes_per_week: (16 + rng.below(25) as i64) * H,
            hourly_pay_pence: parota::money::Pence::new(1290 + rng.below(300) as i64),
            km_to_person: homes.iter().map(|h| km(*h, pa_homes[w])).collect(),
            core_team_of: (0..people)
                .filter(|&p| qualified[p][w] && team_of[p] == pa_team[w] && rng.chance(40))
                .collect(),
        })
        .collect();
    let travel_minutes = homes
        .iter()
        .map(|a| {
            homes
                .iter()
                .map(|b| (km(*a, *b) / 30.0 * 60.0).round() as i64 + 10)
                .collect()
        })
        .collect();
    let problem = Problem {
        tasks,
        workers,
        people,
        travel_minutes,
        weeks,
        rules: Rules::working_time_regulations(),
        weights: Weights::default(),
        ..Default::default()
    };
    (problem, team_of)
}

fn organisation(seconds: u64, seed: u64, alone_seconds: f64) {
    let (teams, pas) = (89, 4000);
    let built = std::time::Instant::now();
    let (problem, team_of) = organisation_problem(teams, pas);
    let slots: usize = problem.tasks.iter().map(|t| usize::from(t.headcount)).sum();
    let mut teams_of_pa: Vec<Vec<usize>> = vec![Vec::new(); pas];
    for task in &problem.tasks {
        for &w in &task.eligible {
            if !teams_of_pa[w].contains(&team_of[task.person]) {
                teams_of_pa[w].push(team_of[task.person]);
            }
        }
    }
    let shared = teams_of_pa.iter().filter(|teams| teams.len() > 1).count();
    println!(
        "problem     teams={teams} people={} pas={pas} weeks=4 shifts={} pa_slots={slots} pas_shared_between_teams={shared} (drawn in {} ms)",
        problem.people,
        problem.tasks.len(),
        built.elapsed().as_millis()
    );
    let groups: Vec<Vec<usize>> = (0..teams)
        .map(|team| {
            (0..problem.tasks.len())
                .filter(|&t| team_of[problem.tasks[t].person] == team)
                .collect()
        })
        .collect();
    let mut reports = Vec::new();
    let solution = solve_groups(
        &problem,
        &groups,
        Limits {
            time: Duration::from_secs(seconds),
            moves: u64::MAX,
            seed,
        },
        2,
        &mut |r| reports.push((r.elapsed_ms, r.best_total)),
    );
    print_first_and_scores(
        &problem,
        &solution,
        seconds,
        &format!(
            "; progress reports {} (first at {} ms)",
            reports.len(),
            reports.first().map_or(0, |r| r.0)
        ),
    );
    // Each team's part (its shifts, and its PAs' work for other teams as the organisation's
    // roster has it), as rostered together and as rostered alone; two teams at a time.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut rows: Vec<(usize, i64, i64, i64, i64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut rows = Vec::new();
                    loop {
                        let team = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if team >= teams {
                            return rows;
                        }
                        let part = Part::of(&problem, &groups[team], Some(&solution.assignments));
                        let together =
                            score_of(&part.problem, &part.assignments(&solution.assignments));
                        let alone = solve(
                            &part.problem,
                            Limits {
                                time: Duration::from_secs_f64(alone_seconds),
                                moves: u64::MAX,
                                seed,
                            },
                        );
                        rows.push((
                            team,
                            together.total,
                            alone.score.total,
                            together.open_minutes,
                            alone.score.open_minutes,
                        ));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    rows.sort_unstable();
    let mut gaps: Vec<f64> = rows
        .iter()
        .map(|&(_, together, alone, _, _)| (together - alone) as f64 / alone.max(1) as f64 * 100.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let sum = |f: fn(&(usize, i64, i64, i64, i64)) -> i64| rows.iter().map(f).sum::<i64>();
    println!(
        "per team    together vs alone ({alone_seconds} s each): gap median {:+.3}%, best {:+.3}%, worst {:+.3}%; teams no worse than alone {}/{teams}; open hours together {} alone {}; totals together {} alone {}",
        gaps[gaps.len() / 2],
        gaps[0],
        gaps[gaps.len() - 1],
        rows.iter().filter(|r| r.1 <= r.2).count(),
        sum(|r| r.3) / 60,
        sum(|r| r.4) / 60,
        sum(|r| r.1),
        sum(|r| r.2),
    );
}

//! The published yardstick: a Curtois & Qu shift scheduling instance loaded into parota's roster
//! solver core (this adapter lives in the benchmark, not the API), solved within a time limit,
//! and the best roster written as `employee,day,shift` for the independent evaluator.
//!
//! Mapping: each shift type is a task kind; each cover requirement is that many required places
//! (an open one costs the under-cover weight) plus optional places (a filled one costs the
//! over-cover weight); a day off or an unqualified type makes a nurse ineligible; the staff
//! limits are the worker's contract; requests are contract requests. No travel, pay, continuity
//! or Working Time Regulations weigh here (the instances have their own succession rules).
//!
//! Usage: `bench_curtois InstanceN.txt seconds seed solution.csv [threads]`; with more than one
//! thread, that many searches run at once from seeds `seed`, `seed + 1`, … and the best roster
//! wins (`solve_portfolio`). Prints one JSON line with the
//! best objective reached by 1 s, 10 s and the end (null while the best still breaks a
//! contract minimum), and the objective recomputed from the written roster as the evaluator
//! does. Run through `scripts/bench-curtois.sh`. With `BENCH_TRACE` set it also writes the best
//! objective over time to stderr, for studying the search.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use parota::rostering::solver::{
    solve_portfolio, Contract, Cover, Limits, Problem, Report, Rules, Task, Weights, Worker,
};

struct Staff {
    id: String,
    max_shifts: HashMap<String, u32>,
    max_minutes: i64,
    min_minutes: i64,
    max_consecutive: u32,
    min_consecutive: u32,
    min_days_off: u32,
    max_weekends: u32,
}

#[derive(Default)]
struct Instance {
    horizon: usize,
    /// (id, minutes, cannot follow)
    shifts: Vec<(String, i64, Vec<String>)>,
    staff: Vec<Staff>,
    days_off: HashMap<String, Vec<usize>>,
    on_requests: Vec<(String, usize, String, i64)>,
    off_requests: Vec<(String, usize, String, i64)>,
    /// (day, shift, required, under weight, over weight)
    cover: Vec<(usize, String, u32, i64, i64)>,
}

fn parse(text: &str) -> Instance {
    let mut inst = Instance::default();
    let mut section = "";
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("SECTION_") {
            section = match line {
                "SECTION_HORIZON" => "horizon",
                "SECTION_SHIFTS" => "shifts",
                "SECTION_STAFF" => "staff",
                "SECTION_DAYS_OFF" => "days_off",
                "SECTION_SHIFT_ON_REQUESTS" => "on",
                "SECTION_SHIFT_OFF_REQUESTS" => "off",
                "SECTION_COVER" => "cover",
                _ => "",
            };
            continue;
        }
        let p: Vec<&str> = line.split(',').map(str::trim).collect();
        match section {
            "horizon" => inst.horizon = p[0].parse().unwrap(),
            "shifts" => inst.shifts.push((
                p[0].to_owned(),
                p[1].parse().unwrap(),
                p.get(2)
                    .map(|s| {
                        s.split('|')
                            .filter(|x| !x.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            "staff" => inst.staff.push(Staff {
                id: p[0].to_owned(),
                max_shifts: p[1]
                    .split('|')
                    .filter(|x| !x.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (k.to_owned(), v.parse().unwrap())
                    })
                    .collect(),
                max_minutes: p[2].parse().unwrap(),
                min_minutes: p[3].parse().unwrap(),
                max_consecutive: p[4].parse().unwrap(),
                min_consecutive: p[5].parse().unwrap(),
                min_days_off: p[6].parse().unwrap(),
                max_weekends: p[7].parse().unwrap(),
            }),
            "days_off" => {
                inst.days_off.insert(
                    p[0].to_owned(),
                    p[1..]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .map(|x| x.parse().unwrap())
                        .collect(),
                );
            }
            "on" | "off" => {
                let request = (
                    p[0].to_owned(),
                    p[1].parse().unwrap(),
                    p[2].to_owned(),
                    p[3].parse().unwrap(),
                );
                if section == "on" {
                    inst.on_requests.push(request);
                } else {
                    inst.off_requests.push(request);
                }
            }
            "cover" => inst.cover.push((
                p[0].parse().unwrap(),
                p[1].to_owned(),
                p[2].parse().unwrap(),
                p[3].parse().unwrap(),
                p[4].parse().unwrap(),
            )),
            _ => {}
        }
    }
    inst
}

/// Optional places per cover line beyond the requirement: over-cover only ever pays when a
/// contract minimum needs the work, and a few places are enough for that.
const EXTRA_PLACES: usize = 3;

fn build(inst: &Instance) -> Problem {
    let kind_of: HashMap<&str, u16> = inst
        .shifts
        .iter()
        .enumerate()
        .map(|(k, s)| (s.0.as_str(), u16::try_from(k).unwrap()))
        .collect();
    let staff_of: HashMap<&str, usize> = inst
        .staff
        .iter()
        .enumerate()
        .map(|(w, s)| (s.id.as_str(), w))
        .collect();
    let mut tasks = Vec::new();
    let mut covers = Vec::new();
    for (day, shift, required, under, over) in &inst.cover {
        let cover = covers.len();
        covers.push(Cover {
            required: *required,
            under_cost: *under,
            over_cost: *over,
        });
        let kind = kind_of[shift.as_str()];
        let minutes = inst.shifts[usize::from(kind)].1;
        let eligible: Vec<usize> = inst
            .staff
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.max_shifts.get(shift).copied().unwrap_or(0) > 0
                    && !inst.days_off.get(&s.id).is_some_and(|d| d.contains(day))
            })
            .map(|(w, _)| w)
            .collect();
        let start = i64::try_from(*day).unwrap() * 24 * 60;
        let places = *required as usize + EXTRA_PLACES.min(eligible.len());
        for _ in 0..places {
            tasks.push(Task {
                person: 0,
                start,
                end: start + minutes,
                headcount: 1,
                eligible: eligible.clone(),
                kind,
                cover: Some(cover),
                ..Default::default()
            });
        }
    }
    let mut workers: Vec<Worker> = inst
        .staff
        .iter()
        .map(|s| Worker {
            max_minutes_per_week: i64::MAX / 64,
            km_to_person: vec![0.0],
            contract: Some(Contract {
                max_per_kind: inst
                    .shifts
                    .iter()
                    .map(|(id, _, _)| s.max_shifts.get(id).copied().unwrap_or(0))
                    .collect(),
                min_minutes: s.min_minutes,
                max_minutes: s.max_minutes,
                min_consecutive: s.min_consecutive,
                max_consecutive: s.max_consecutive,
                min_days_off: s.min_days_off,
                max_weekends: s.max_weekends,
                on_requests: Vec::new(),
                off_requests: Vec::new(),
            }),
            ..Default::default()
        })
        .collect();
    for (on, requests) in [(true, &inst.on_requests), (false, &inst.off_requests)] {
        for (who, day, shift, weight) in requests {
            let contract = workers[staff_of[who.as_str()]].contract.as_mut().unwrap();
            let request = (*day, kind_of[shift.as_str()], *weight);
            if on {
                contract.on_requests.push(request);
            } else {
                contract.off_requests.push(request);
            }
        }
    }
    let kinds = inst.shifts.len();
    let mut cannot_follow = vec![vec![false; kinds]; kinds];
    for (a, (_, _, banned)) in inst.shifts.iter().enumerate() {
        for b in banned {
            cannot_follow[a][usize::from(kind_of[b.as_str()])] = true;
        }
    }
    Problem {
        tasks,
        workers,
        people: 1,
        travel_minutes: vec![vec![0]],
        weeks: inst.horizon.div_ceil(7),
        // The instances' own succession rules stand in for daily and weekly rest.
        rules: Rules {
            daily_rest: 0,
            weekly_rest: 0,
        },
        // Only the benchmark's own costs weigh. A day short costs more than any single cover or
        // request weight in instances 1-12 (at most 100), yet lets the search pass through.
        weights: Weights {
            short_day: 1_000,
            short_minute: 10,
            ..Weights::none()
        },
        days: inst.horizon,
        cannot_follow,
        covers,
    }
}

/// The benchmark's objective for a roster (`roster[w][day]` = shift index), as the evaluator
/// computes it.
fn objective(inst: &Instance, roster: &[Vec<Option<usize>>]) -> i64 {
    let shift_index = |id: &str| inst.shifts.iter().position(|s| s.0 == id).unwrap();
    let staff_index = |id: &str| inst.staff.iter().position(|s| s.id == id).unwrap();
    let mut penalty = 0;
    for (who, day, shift, w) in &inst.on_requests {
        if roster[staff_index(who)][*day] != Some(shift_index(shift)) {
            penalty += w;
        }
    }
    for (who, day, shift, w) in &inst.off_requests {
        if roster[staff_index(who)][*day] == Some(shift_index(shift)) {
            penalty += w;
        }
    }
    for (day, shift, required, under, over) in &inst.cover {
        let k = shift_index(shift);
        let n = roster.iter().filter(|r| r[*day] == Some(k)).count() as i64;
        let required = i64::from(*required);
        penalty += under * (required - n).max(0) + over * (n - required).max(0);
    }
    penalty
}

/// The contract-keeping reports each better than every one before it (to study the search).
fn improvements<'r>(reports: impl Iterator<Item = &'r Report>) -> impl Iterator<Item = &'r Report> {
    let mut last = i64::MAX;
    reports.filter(move |r| {
        let better = r.best_shortfall == 0 && r.best_total < last;
        if better {
            last = r.best_total;
        }
        better
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let seconds: u64 = args.get(2).map_or(10, |s| s.parse().unwrap());
    let seed: u64 = args.get(3).map_or(1, |s| s.parse().unwrap());
    let out = args
        .get(4)
        .cloned()
        .unwrap_or_else(|| "solution.csv".into());
    let inst = parse(&std::fs::read_to_string(path).unwrap());
    let problem = build(&inst);
    let threads: usize = args.get(5).map_or(1, |s| s.parse().unwrap());
    let solving = std::time::Instant::now();
    let (solution, runs) = solve_portfolio(
        &problem,
        Limits {
            time: Duration::from_secs(seconds),
            moves: u64::MAX,
            seed,
        },
        threads,
    );
    let solve_ms = solving.elapsed().as_millis();
    if std::env::var_os("BENCH_TRACE").is_some() {
        // Each search's own best over time, to see which relaxation wins where.
        for (i, run) in runs.iter().enumerate() {
            let line: Vec<String> = improvements(run.iter())
                .map(|r| format!("{}@{:.1}s", r.best_total, r.elapsed_ms as f64 / 1e3))
                .collect();
            eprintln!("search {i}: {}", line.join(" "));
        }
    }
    // The portfolio's best over time: every search's reports, in time order.
    let mut reports: Vec<_> = runs.into_iter().flatten().collect();
    reports.sort_by_key(|r| r.elapsed_ms);
    if std::env::var_os("BENCH_TRACE").is_some() {
        for r in improvements(reports.iter()) {
            eprintln!("{:>6} ms {:>6}", r.elapsed_ms, r.best_total);
        }
    }
    let mut roster = vec![vec![None; inst.horizon]; inst.staff.len()];
    let mut lines = vec!["employee,day,shift".to_owned()];
    for (t, workers) in solution.assignments.iter().enumerate() {
        let task = &problem.tasks[t];
        let day = usize::try_from(task.start / (24 * 60)).unwrap();
        for &w in workers {
            roster[w][day] = Some(usize::from(task.kind));
            lines.push(format!(
                "{},{day},{}",
                inst.staff[w].id,
                inst.shifts[usize::from(task.kind)].0
            ));
        }
    }
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    let feasible = solution.score.shortfall() == 0;
    let by = |ms: u64| {
        reports
            .iter()
            .filter(|r| r.elapsed_ms <= ms && r.best_shortfall == 0)
            .map(|r| r.best_total)
            .min()
            .map_or("null".to_owned(), |v| v.to_string())
    };
    println!(
        "{{\"instance\": \"{}\", \"seed\": {seed}, \"seconds\": {seconds}, \"at_1s\": {}, \"at_10s\": {}, \"final\": {}, \"objective_recomputed\": {}, \"keeps_contracts\": {feasible}, \"first_roster_ms\": {}, \"moves\": {}, \"relaxation_bound\": {}, \"solve_ms\": {solve_ms}, \"first_keeping_ms\": {}}}",
        std::path::Path::new(path).file_stem().unwrap().to_string_lossy(),
        by(1_000),
        by(10_000),
        if feasible { solution.score.total.to_string() } else { "null".into() },
        objective(&inst, &roster),
        solution.construction_ms,
        solution.moves,
        solution
            .relaxation_bound
            .map_or("null".to_owned(), |b| b.to_string()),
        // When the first roster keeping every contract was reported.
        reports
            .iter()
            .find(|r| r.best_shortfall == 0)
            .map_or("null".to_owned(), |r| r.elapsed_ms.to_string()),
    );
}

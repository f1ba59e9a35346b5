//! The safety gate: whether these PAs may work these shifts. Every door that puts a PA on a
//! shift asks it (the generator for each shift's eligible PAs, edits, swaps, the open-shift list
//! and acceptance, publication, the daily look ahead), so a rule lives here once.
//!
//! Pure: the caller gathers the facts (each PA's checks, evidence, sign-offs, availability,
//! leave and working-time record, each person's requirements, every shift the PAs work) and the
//! gate judges them. Rules about a PA and a person (DBS, right to work, each required
//! competency with its clinical sign-off, level, distance, do-not-match) are `market::model`'s
//! `judge_on`, asked on the shift's own dates: the day it starts and the day of its last minute,
//! so evidence must hold through its end. Availability is the PA's weekly availability holding
//! the whole shift; leave is any recorded leave touching those days. The working-time rules
//! (double booking and travel, daily and weekly rest, the weekly cap) are the roster solver's
//! own (`solver::violations`), asked over the weeks of the roster the shift belongs to, with
//! everything else the PA works beside it. 2:1 support is two different PAs or none.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::RuleBreach;
use crate::market::model::{
    availability_spans, covered_minutes, judge_on, Candidate, Day, MatchPolicy, PersonNeeds,
    WeeklyWindow,
};
use crate::rostering::solver::{violations, HardRule, Problem, Task, Weights, Worker};
use crate::rostering::working_time::{lowest_cap, rest_rules, WorkingTimeRow};
use crate::time::{london_instant, london_local};

/// One shift as the gate sees it.
#[derive(Debug, Clone)]
pub struct GateShift {
    pub id: String,
    /// Index into `World::people`.
    pub person: usize,
    /// The local date it starts.
    pub date: NaiveDate,
    /// Local `HH:MM` start and end, for weekly availability.
    pub start: String,
    pub end: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub headcount: u8,
    /// The dates of the roster it belongs to: the weekly cap is an average over its weeks.
    pub window: (NaiveDate, NaiveDate),
}

impl GateShift {
    /// The local date of its last minute: evidence and checks must hold through it.
    pub fn last_day(&self) -> NaiveDate {
        london_local(self.ends_at - Duration::minutes(1))
            .date()
            .max(self.date)
    }
}

/// One PA's facts.
#[derive(Debug, Clone)]
pub struct GatePa {
    pub candidate: Candidate,
    /// An active PA of the organisation: a deactivated one works no shift.
    pub active: bool,
    /// Leave and other unavailability, first and last day inclusive.
    pub leave: Vec<(NaiveDate, NaiveDate)>,
    pub working_time: Option<WorkingTimeRow>,
    /// The days one of their dated facts starts or stops holding (`dated_facts`), sorted.
    changes: Vec<NaiveDate>,
}

impl GatePa {
    pub fn new(
        candidate: Candidate,
        active: bool,
        leave: Vec<(NaiveDate, NaiveDate)>,
        working_time: Option<WorkingTimeRow>,
        policy: &MatchPolicy,
    ) -> Self {
        let mut changes: Vec<NaiveDate> = dated_facts(&candidate, policy)
            .iter()
            .map(|f| f.on)
            .collect();
        // A leaver may work up to their last day and not from the day after.
        changes.extend(
            candidate
                .engagements
                .iter()
                .filter_map(|e| e.ends_on)
                .map(|end| end + Duration::days(1)),
        );
        changes.sort_unstable();
        changes.dedup();
        Self {
            candidate,
            active,
            leave,
            working_time,
            changes,
        }
    }

    /// Whether one of their dated facts starts or stops holding after `from`, up to `to`: if
    /// not, every rule about them reads the same on every day between.
    fn facts_change_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let after = self.changes.partition_point(|d| *d <= from);
        self.changes.get(after).is_some_and(|d| *d <= to)
    }
}

/// Everything the gate weighs: people, PAs, shifts and who is on each.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub people: Vec<PersonNeeds>,
    pub pas: Vec<GatePa>,
    pub shifts: Vec<GateShift>,
    /// Per shift, the PAs (indices into `pas`) on it.
    pub on: Vec<Vec<usize>>,
    pub policy: MatchPolicy,
}

/// The code and words of a working-time or staffing rule.
pub fn rule_words(rule: HardRule) -> (&'static str, &'static str) {
    match rule {
        HardRule::NotEligible => (
            "not_eligible",
            "is not allowed on this shift: a competency, check, clinical sign-off, availability, leave, an employment that has ended or the do-not-match list stops it",
        ),
        HardRule::HalfStaffed => ("half_staffed", "2:1 support needs two different PAs"),
        HardRule::DoubleBookingOrTravel => (
            "double_booking",
            "is already working then, or could not travel between the two homes in time",
        ),
        HardRule::DailyRest => ("daily_rest", "would not get 11 hours' rest between working periods"),
        HardRule::WeeklyRest => ("weekly_rest", "would not get 24 hours' unbroken rest in that week"),
        HardRule::Contract => ("contract", "would break their contract's limits"),
        HardRule::WeeklyHours => ("weekly_hours", "would work more hours a week on average than the 48-hour limit (unless opted out) or their own maximum allow"),
    }
}

/// Whether the PA's weekly availability holds the whole shift, in wall-clock time.
pub fn available_for(candidate: &Candidate, date: NaiveDate, start: &str, end: &str) -> bool {
    needed_window(date, start, end)
        .is_some_and(|(spans, needed)| covered_minutes(&spans, &candidate.availability) >= needed)
}

fn on_leave(pa: &GatePa, first: NaiveDate, last: NaiveDate) -> bool {
    pa.leave.iter().any(|(a, b)| *a <= last && first <= *b)
}

/// Every rule about the PA and the person that working this shift breaks, in words (`rule`,
/// `explanation`); empty when none does. Leave, then `judge_on` on the first and the last day.
pub fn eligibility_breaches(
    person: &PersonNeeds,
    pa: &GatePa,
    shift: &GateShift,
    policy: &MatchPolicy,
) -> Vec<(String, String)> {
    let (first, last) = (shift.date, shift.last_day());
    let mut broken: Vec<(String, String)> = Vec::new();
    if !pa.active {
        broken.push((
            "active".into(),
            "is no longer an active PA of this organisation".into(),
        ));
    }
    if on_leave(pa, first, last) {
        broken.push((
            "leave".into(),
            "has leave or other time off recorded on this shift's dates".into(),
        ));
    }
    let available = available_for(&pa.candidate, shift.date, &shift.start, &shift.end);
    let days = if last == first {
        vec![first]
    } else {
        vec![first, last]
    };
    for day in days {
        let j = judge_on(person, &pa.candidate, day, policy, true, Some(available));
        for rule in j.rules.into_iter().filter(|r| !r.passed) {
            if broken.iter().all(|(r, _)| *r != rule.rule) {
                broken.push((rule.rule, format!("on {day}: {}", rule.explanation)));
            }
        }
    }
    broken
}

/// `eligibility_breaches` is empty: the cheap form, without words.
pub fn may_work(
    person: &PersonNeeds,
    pa: &GatePa,
    shift: &GateShift,
    policy: &MatchPolicy,
) -> bool {
    let (first, last) = (shift.date, shift.last_day());
    if !pa.active || on_leave(pa, first, last) {
        return false;
    }
    let available = available_for(&pa.candidate, shift.date, &shift.start, &shift.end);
    judge_on(person, &pa.candidate, first, policy, false, Some(available)).eligible
        && (last == first
            || judge_on(person, &pa.candidate, last, policy, false, Some(available)).eligible)
}

/// One of a PA's dated facts: a check, a piece of evidence or a sign-off, and the day it
/// starts or stops holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DatedFact {
    /// `dbs`, `right_to_work`, `competency` or `signoff`.
    pub item: &'static str,
    /// The competency, for evidence and sign-offs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competency_id: Option<String>,
    /// The person, for a sign-off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_holder_id: Option<String>,
    /// `starts` (held from this day) or `expires` (no longer held from this day).
    pub change: &'static str,
    pub on: NaiveDate,
}

/// Every day one of the PA's facts starts or stops holding: DBS renewal (off the update
/// service), right to work, evidence (trained and expiring; revoked evidence never holds) and
/// sign-offs.
pub fn dated_facts(c: &Candidate, policy: &MatchPolicy) -> Vec<DatedFact> {
    let fact = |item, competency_id: Option<&str>, holder: Option<&str>, change, on| DatedFact {
        item,
        competency_id: competency_id.map(str::to_owned),
        budget_holder_id: holder.map(str::to_owned),
        change,
        on,
    };
    let mut out = Vec::new();
    if let Some(renew_by) = c
        .checks
        .dbs_issued_on
        .filter(|_| !c.checks.dbs_update_service)
        .and_then(|d| d.checked_add_months(chrono::Months::new(policy.dbs_renewal_months)))
    {
        out.push(fact("dbs", None, None, "expires", renew_by));
    }
    if let Some(until) = c.checks.right_to_work_expires_on {
        out.push(fact("right_to_work", None, None, "expires", until));
    }
    for e in c.evidence.iter().filter(|e| !e.revoked) {
        out.push(fact(
            "competency",
            Some(&e.competency_id),
            None,
            "starts",
            e.trained_on,
        ));
        if let Some(until) = e.expires_on {
            out.push(fact(
                "competency",
                Some(&e.competency_id),
                None,
                "expires",
                until,
            ));
        }
    }
    for s in c.signoffs.iter().filter(|s| !s.revoked) {
        let holder = Some(s.budget_holder_id.as_str());
        out.push(fact(
            "signoff",
            Some(&s.competency_id),
            holder,
            "starts",
            s.signed_off_on,
        ));
        if let Some(until) = s.expires_on {
            out.push(fact(
                "signoff",
                Some(&s.competency_id),
                holder,
                "expires",
                until,
            ));
        }
    }
    out
}

/// One person's shifts made ready for judging many PAs (`may_work_each`): each shift's last
/// day and the weekly availability it needs are worked out once, not once per PA, and shifts
/// at the same weekday and hours share one availability check.
pub struct PreparedShifts<'a> {
    shifts: Vec<&'a GateShift>,
    last_days: Vec<NaiveDate>,
    /// Per shift, its index in `windows`.
    window_of: Vec<usize>,
    /// Each distinct (weekday, start, end): the spans it needs and their minutes; None when
    /// its times do not read as times.
    windows: Vec<Option<(Vec<crate::market::model::Span>, u32)>>,
}

impl<'a> PreparedShifts<'a> {
    pub fn new(shifts: Vec<&'a GateShift>) -> Self {
        let last_days = shifts.iter().map(|s| s.last_day()).collect();
        let mut keys: Vec<(Day, &str, &str)> = Vec::new();
        let mut windows = Vec::new();
        let window_of = shifts
            .iter()
            .map(|s| {
                let key = (Day::of(s.date.weekday()), s.start.as_str(), s.end.as_str());
                keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                    keys.push(key);
                    windows.push(needed_window(s.date, &s.start, &s.end));
                    keys.len() - 1
                })
            })
            .collect();
        Self {
            shifts,
            last_days,
            window_of,
            windows,
        }
    }
}

/// The weekly availability a shift on `date` from `start` to `end` needs, and its minutes.
fn needed_window(
    date: NaiveDate,
    start: &str,
    end: &str,
) -> Option<(Vec<crate::market::model::Span>, u32)> {
    let window = WeeklyWindow {
        day: Day::of(date.weekday()),
        start: start.to_owned(),
        end: end.to_owned(),
    };
    let spans = availability_spans("shift", std::slice::from_ref(&window)).ok()?;
    let needed = spans.iter().map(|s| s.minutes()).sum();
    Some((spans, needed))
}

/// For each of `shifts` (all for `person`), whether the PA may work it by the rules about them
/// and the person: `may_work` for each, asked once for them all when none of the PA's dated facts
/// changes within their dates (the generator's screen of thousands of PAs).
pub fn may_work_each(
    person: &PersonNeeds,
    pa: &GatePa,
    prepared: &PreparedShifts<'_>,
    policy: &MatchPolicy,
) -> Vec<bool> {
    let shifts = &prepared.shifts;
    let (Some(first), Some(&last)) = (
        shifts.iter().map(|s| s.date).min(),
        prepared.last_days.iter().max(),
    ) else {
        return Vec::new();
    };
    if !pa.active {
        return vec![false; shifts.len()];
    }
    if pa.facts_change_between(first, last) {
        return shifts
            .iter()
            .map(|s| may_work(person, pa, s, policy))
            .collect();
    }
    // Credentials, distance and the do-not-match list, once: they read the same on every day.
    if !judge_on(person, &pa.candidate, first, policy, false, Some(true)).eligible {
        return vec![false; shifts.len()];
    }
    let available: Vec<bool> = prepared
        .windows
        .iter()
        .map(|window| {
            window.as_ref().is_some_and(|(spans, needed)| {
                covered_minutes(spans, &pa.candidate.availability) >= *needed
            })
        })
        .collect();
    shifts
        .iter()
        .enumerate()
        .map(|(k, s)| {
            !on_leave(pa, s.date, prepared.last_days[k]) && available[prepared.window_of[k]]
        })
        .collect()
}

fn breach(
    world: &World,
    shift: usize,
    pa: Option<usize>,
    rule: String,
    words: String,
) -> RuleBreach {
    let s = &world.shifts[shift];
    let c = pa.map(|p| &world.pas[p].candidate);
    RuleBreach {
        shift_id: s.id.clone(),
        date: s.date,
        start: s.start.clone(),
        end: s.end.clone(),
        pa_id: c.map(|c| c.pa_id.clone()),
        rule,
        explanation: match c {
            Some(c) => format!("{} ({}) {words}", c.display_name, c.pa_id),
            None => words,
        },
    }
}

/// The working-time rules PA `pa` breaks on the shifts of `judged` they are on, beside every
/// other shift they are on in `world`: the solver's own check of the PA's timeline, once over
/// the weeks of each roster they work in (a roster's weekly cap and weekly rest count every
/// shift the PA works in its weeks, whoever rostered it), with the judged shifts in those weeks
/// placed last so each rule is laid at one of them.
fn working_time_breaches(world: &World, pa: usize, judged: &[usize]) -> Vec<(usize, HardRule)> {
    let theirs: Vec<usize> = (0..world.shifts.len())
        .filter(|&s| world.on[s].contains(&pa))
        .collect();
    let mine: Vec<usize> = judged
        .iter()
        .copied()
        .filter(|s| theirs.contains(s))
        .collect();
    if mine.is_empty() {
        return Vec::new();
    }
    let windows: std::collections::BTreeSet<(NaiveDate, NaiveDate)> =
        theirs.iter().map(|&s| world.shifts[s].window).collect();
    let mut found: Vec<(usize, HardRule)> = Vec::new();
    for (from, to) in windows {
        let days = (to - from).num_days() + 1;
        let weeks = (days + 6) / 7;
        let horizon = from + Duration::days(7 * weeks);
        let proposed: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&s| (from..horizon).contains(&world.shifts[s].date))
            .collect();
        if proposed.is_empty() {
            continue;
        }
        let epoch = london_instant(from.and_time(NaiveTime::MIN));
        let minute = |t: DateTime<Utc>| (t - epoch).num_minutes();
        let order: Vec<usize> = theirs
            .iter()
            .copied()
            .filter(|s| !proposed.contains(s))
            .chain(proposed.iter().copied())
            .collect();
        let mut people: Vec<usize> = Vec::new();
        let tasks: Vec<Task> = order
            .iter()
            .map(|&s| {
                let shift = &world.shifts[s];
                let person = match people.iter().position(|&p| p == shift.person) {
                    Some(i) => i,
                    None => {
                        people.push(shift.person);
                        people.len() - 1
                    }
                };
                Task {
                    person,
                    start: minute(shift.starts_at),
                    end: minute(shift.ends_at),
                    headcount: 1,
                    eligible: vec![0],
                    ..Default::default()
                }
            })
            .collect();
        let locations: Vec<_> = people.iter().map(|&p| world.people[p].location).collect();
        let problem = Problem {
            tasks,
            workers: vec![Worker {
                max_minutes_per_week: lowest_cap(world.pas[pa].working_time.as_ref(), from, to),
                ..Default::default()
            }],
            people: people.len(),
            travel_minutes: crate::geo::travel_matrix(&locations),
            weeks: usize::try_from(weeks).unwrap_or(1),
            rules: rest_rules(from),
            weights: Weights::default(),
            ..Default::default()
        };
        let assignments = vec![vec![0usize]; problem.tasks.len()];
        let first_proposed = order.len() - proposed.len();
        for (t, _, rule) in violations(&problem, &assignments) {
            if t >= first_proposed && !found.contains(&(order[t], rule)) {
                found.push((order[t], rule));
            }
        }
    }
    found
}

/// Every rule PA `pa` breaks by working shift `shift` (one place of it), beside everything else
/// they are on in `world`: the place's rules, not whether the shift is staffed whole. The PA must
/// be among `world.on[shift]`.
pub fn place_breaches(world: &World, shift: usize, pa: usize) -> Vec<RuleBreach> {
    let s = &world.shifts[shift];
    let mut out: Vec<RuleBreach> =
        eligibility_breaches(&world.people[s.person], &world.pas[pa], s, &world.policy)
            .into_iter()
            .map(|(rule, words)| breach(world, shift, Some(pa), rule, words))
            .collect();
    for (t, rule) in working_time_breaches(world, pa, &[shift]) {
        let (code, words) = rule_words(rule);
        out.push(breach(world, t, Some(pa), code.into(), words.into()));
    }
    out
}

/// Every rule broken on the shifts of `judged`, as they are staffed in `world`, beside
/// everything else the PAs on them work: each PA's own rules on each shift, and each shift
/// staffed whole (2:1 by two different PAs) or left open.
pub fn check(world: &World, judged: &[usize]) -> Vec<RuleBreach> {
    let mut out = Vec::new();
    let mut pas: Vec<usize> = Vec::new();
    for &s in judged {
        let on = &world.on[s];
        let mut distinct = on.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if !on.is_empty()
            && (distinct.len() != on.len() || on.len() != usize::from(world.shifts[s].headcount))
        {
            let (code, words) = rule_words(HardRule::HalfStaffed);
            let words = if world.shifts[s].headcount == 2 {
                words.to_owned()
            } else {
                "this shift needs exactly one PA".to_owned()
            };
            out.push(breach(world, s, None, code.into(), words));
        }
        for &p in &distinct {
            let shift = &world.shifts[s];
            out.extend(
                eligibility_breaches(
                    &world.people[shift.person],
                    &world.pas[p],
                    shift,
                    &world.policy,
                )
                .into_iter()
                .map(|(rule, words)| breach(world, s, Some(p), rule, words)),
            );
            if !pas.contains(&p) {
                pas.push(p);
            }
        }
    }
    for p in pas {
        for (t, rule) in working_time_breaches(world, p, judged) {
            let (code, words) = rule_words(rule);
            out.push(breach(world, t, Some(p), code.into(), words.into()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Location;
    use crate::market::model::{Checks, Evidence, RequiredCompetency, Span};
    use crate::money::Pence;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn person(required: Vec<RequiredCompetency>) -> PersonNeeds {
        PersonNeeds {
            budget_holder_id: "person".into(),
            location: Location {
                latitude: 53.75,
                longitude: -2.48,
            },
            minimum_level: 1,
            required,
            support: Vec::new(),
            support_minutes: 0,
            preferences: Default::default(),
            team: Vec::new(),
            do_not_match: Vec::new(),
            affordable_hourly_pay_pence: None,
        }
    }

    fn pa(id: &str, evidence_expires: Option<&str>) -> GatePa {
        GatePa::new(
            Candidate {
                pa_id: id.into(),
                display_name: id.into(),
                district: "BB11".into(),
                location: Location {
                    latitude: 53.76,
                    longitude: -2.47,
                },
                max_travel_km: 20.0,
                checks: Checks {
                    dbs_issued_on: Some(day("2025-01-01")),
                    dbs_update_service: true,
                    dbs_verified: true,
                    right_to_work_checked_on: Some(day("2025-01-01")),
                    right_to_work_expires_on: None,
                    right_to_work_verified: true,
                },
                evidence: vec![Evidence {
                    competency_id: "meds".into(),
                    level: 2,
                    trained_on: day("2025-01-01"),
                    expires_on: evidence_expires.map(day),
                    verified: true,
                    revoked: false,
                }],
                signoffs: Vec::new(),
                // Every day, all day.
                availability: vec![Span {
                    start: 0,
                    end: 7 * 24 * 60,
                }],
                wanted_minutes: 0,
                committed_minutes: 0,
                min_hourly_pay_pence: Pence::new(1300),
                gender: None,
                languages: Vec::new(),
                drives: true,
                smoker: false,
                comfortable_with_pets: true,
                engagements: Vec::new(),
            },
            true,
            Vec::new(),
            None,
            &MatchPolicy::default(),
        )
    }

    fn shift(id: &str, date: &str, start: &str, end: &str, headcount: u8) -> GateShift {
        let d = day(date);
        let (starts_at, ends_at) = crate::time::shift_instants(
            d,
            NaiveTime::parse_from_str(start, "%H:%M").unwrap(),
            NaiveTime::parse_from_str(end, "%H:%M").unwrap(),
        );
        GateShift {
            id: id.into(),
            person: 0,
            date: d,
            start: start.into(),
            end: end.into(),
            starts_at,
            ends_at,
            headcount,
            window: (day("2027-01-04"), day("2027-01-17")),
        }
    }

    fn meds() -> Vec<RequiredCompetency> {
        vec![RequiredCompetency {
            id: "meds".into(),
            name: "Medication".into(),
            level: 2,
        }]
    }

    fn rules(breaches: &[RuleBreach]) -> Vec<&str> {
        breaches.iter().map(|b| b.rule.as_str()).collect()
    }

    #[test]
    fn evidence_is_judged_on_each_shifts_own_dates_through_its_end() {
        let world = World {
            people: vec![person(meds())],
            pas: vec![pa("amy", Some("2027-01-08"))],
            shifts: vec![
                shift("before", "2027-01-06", "09:00", "17:00", 1),
                // A night ending on the day the evidence expires.
                shift("into", "2027-01-07", "22:00", "08:00", 1),
                shift("after", "2027-01-09", "09:00", "17:00", 1),
            ],
            on: vec![vec![0], vec![0], vec![0]],
            policy: MatchPolicy::default(),
        };
        assert!(check(&world, &[0]).is_empty());
        // Without the evidence the PA holds no valid competency on that day either.
        assert_eq!(rules(&check(&world, &[1])), ["competency:meds", "level"]);
        let after = check(&world, &[2]);
        assert_eq!(rules(&after), ["competency:meds", "level"]);
        assert!(after[0].explanation.contains("expired"), "{after:?}");
        // The screen agrees, shift by shift.
        let shifts = PreparedShifts::new(world.shifts.iter().collect());
        assert_eq!(
            may_work_each(&world.people[0], &world.pas[0], &shifts, &world.policy),
            [true, false, false]
        );
    }

    #[test]
    fn the_screen_checks_each_shifts_own_weekday_and_hours_against_availability() {
        let mut amy = pa("amy", None);
        // Mondays, 07:00 to 19:00.
        amy.candidate.availability = vec![Span {
            start: 7 * 60,
            end: 19 * 60,
        }];
        let world = World {
            people: vec![person(Vec::new())],
            pas: vec![amy],
            shifts: vec![
                shift("monday", "2027-01-04", "09:00", "12:00", 1),
                shift("tuesday", "2027-01-05", "09:00", "12:00", 1),
                shift("late", "2027-01-04", "18:00", "20:00", 1),
                shift("next monday", "2027-01-11", "09:00", "12:00", 1),
            ],
            on: vec![vec![0]; 4],
            policy: MatchPolicy::default(),
        };
        let shifts = PreparedShifts::new(world.shifts.iter().collect());
        let screened = may_work_each(&world.people[0], &world.pas[0], &shifts, &world.policy);
        assert_eq!(screened, [true, false, false, true]);
        for (shift, screened) in world.shifts.iter().zip(screened) {
            assert_eq!(
                may_work(&world.people[0], &world.pas[0], shift, &world.policy),
                screened
            );
        }
    }

    #[test]
    fn two_to_one_is_two_different_pas_or_none() {
        let mut world = World {
            people: vec![person(Vec::new())],
            pas: vec![pa("amy", None), pa("ben", None)],
            shifts: vec![shift("pair", "2027-01-06", "09:00", "12:00", 2)],
            on: vec![vec![0]],
            policy: MatchPolicy::default(),
        };
        assert_eq!(rules(&check(&world, &[0])), ["half_staffed"]);
        // One place alone breaks nothing of the PA's own.
        assert!(place_breaches(&world, 0, 0).is_empty());
        world.on[0] = vec![0, 0];
        assert_eq!(rules(&check(&world, &[0])), ["half_staffed"]);
        world.on[0] = vec![0, 1];
        assert!(check(&world, &[0]).is_empty());
        world.on[0] = Vec::new();
        assert!(check(&world, &[0]).is_empty());
    }

    #[test]
    fn the_weekly_cap_averages_over_the_rosters_weeks_counting_all_their_work() {
        // Twelve-hour days, every other day, across two weeks: 7 x 12 = 84 hours, then more.
        let mut shifts = Vec::new();
        for (i, d) in ["04", "06", "08", "10", "12", "14", "16", "05", "07"]
            .iter()
            .enumerate()
        {
            shifts.push(shift(
                &format!("s{i}"),
                &format!("2027-01-{d}"),
                "08:00",
                "20:00",
                1,
            ));
        }
        let mut world = World {
            people: vec![person(Vec::new())],
            pas: vec![pa("amy", None)],
            on: vec![vec![0]; 8],
            shifts,
            policy: MatchPolicy::default(),
        };
        world.on.push(Vec::new());
        // 96 hours in two weeks: at the 48-hour average, allowed.
        assert!(check(&world, &(0..8).collect::<Vec<_>>()).is_empty());
        // A ninth shift is over it.
        world.on[8] = vec![0];
        assert_eq!(rules(&check(&world, &[8])), ["weekly_hours"]);
        assert_eq!(rules(&place_breaches(&world, 8, 0)), ["weekly_hours"]);
    }

    #[test]
    fn rest_leave_and_the_do_not_match_list_are_named() {
        let mut someone = person(Vec::new());
        someone.do_not_match = vec!["ben".into()];
        let mut ben = pa("ben", None);
        ben.leave = vec![(day("2027-01-09"), day("2027-01-09"))];
        let world = World {
            people: vec![someone],
            pas: vec![pa("amy", None), ben],
            shifts: vec![
                shift("late", "2027-01-06", "14:00", "23:00", 1),
                shift("early", "2027-01-07", "06:00", "12:00", 1),
                shift("leave", "2027-01-09", "09:00", "12:00", 1),
            ],
            on: vec![vec![0], vec![0], vec![1]],
            policy: MatchPolicy::default(),
        };
        assert_eq!(rules(&check(&world, &[1])), ["daily_rest"]);
        let barred = check(&world, &[2]);
        assert_eq!(rules(&barred), ["leave", "do_not_match"]);
        assert!(barred[0].explanation.starts_with("ben (ben)"), "{barred:?}");
    }
}

//! The bounded search for the best PAs for a person: candidates visited by the best score their
//! sketch still allows, judged exactly only while they could still make the page.

use chrono::NaiveDate;

use crate::market::model::{self, Candidate, MatchPolicy, PersonNeeds, ScoreSketch};

/// The best `wanted` eligible PAs, best first, and whether there are more. PAs are visited by
/// the best score their sketch still allows; once no one left could beat the last place, the
/// rest are only checked for whether any is eligible at all (for the next page's cursor).
/// `team` holds the slots of the person's team.
#[expect(
    clippy::too_many_arguments,
    reason = "one search, its inputs named at the call"
)]
pub fn top_matches<'a>(
    person: &PersonNeeds,
    near: impl Iterator<Item = (usize, ScoreSketch)>,
    candidate: &dyn Fn(usize) -> &'a Candidate,
    team: &[usize],
    wanted: usize,
    within: &dyn Fn(f64) -> bool,
    min_score: f64,
    today: NaiveDate,
    policy: &MatchPolicy,
) -> (Vec<&'a Candidate>, bool) {
    struct Bounded {
        bound: f64,
        slot: usize,
    }
    impl PartialEq for Bounded {
        fn eq(&self, other: &Self) -> bool {
            self.bound.total_cmp(&other.bound).is_eq()
        }
    }
    impl Eq for Bounded {}
    impl PartialOrd for Bounded {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Bounded {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.bound.total_cmp(&other.bound)
        }
    }

    let needed = model::QuarterHours::touched_by(&person.support);
    let km_per_degree_longitude = 111.195 * person.location.latitude.to_radians().cos();
    let mut queue: std::collections::BinaryHeap<Bounded> = near
        .filter_map(|(slot, sketch)| {
            // A flat-earth distance, shaded down 3% so the bound below never undershoots: the
            // exact distance is judged for those that get that far.
            let dy = (sketch.location.latitude - person.location.latitude) * 111.195;
            let dx =
                (sketch.location.longitude - person.location.longitude) * km_per_degree_longitude;
            let distance = (dx * dx + dy * dy).sqrt() * 0.97;
            if !within(distance) || distance > sketch.terms.max_travel_km {
                return None;
            }
            let covered_at_most = needed.shared_minutes_at_most(&sketch.availability);
            if covered_at_most == 0 && person.support_minutes > 0 {
                return None;
            }
            Some(Bounded {
                bound: model::best_possible_score(
                    person,
                    &sketch.terms,
                    team.contains(&slot),
                    distance,
                    covered_at_most,
                ),
                slot,
            })
        })
        .collect();
    let eligible = |c: &Candidate| {
        let j = model::judge(person, c, today, policy, false);
        (j.eligible && j.score >= min_score).then_some(j)
    };
    // (score, distance, candidate), kept in ranking order, at most `wanted` long.
    let mut best: Vec<(f64, f64, &'a Candidate)> = Vec::with_capacity(wanted + 1);
    let mut more = false;
    while let Some(next) = queue.pop() {
        if next.bound < min_score {
            break;
        }
        if best.len() == wanted && best.last().is_some_and(|last| next.bound < last.0) {
            more = more
                || std::iter::once(next)
                    .chain(std::iter::from_fn(|| queue.pop()))
                    .any(|b| eligible(candidate(b.slot)).is_some());
            break;
        }
        let c = candidate(next.slot);
        let Some(j) = eligible(c) else {
            continue;
        };
        let entry = (j.score, j.distance_km, c);
        let at = best.partition_point(|e| {
            model::ranking(e.0, e.1, &e.2.pa_id, entry.0, entry.1, &entry.2.pa_id).is_lt()
        });
        best.insert(at, entry);
        if best.len() > wanted {
            best.truncate(wanted);
            more = true;
        }
    }
    (best.into_iter().map(|(_, _, c)| c).collect(), more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::market::Rng;
    use crate::geo::Location;
    use crate::market::index;
    use crate::market::model::*;
    use crate::money::Pence;

    fn candidate_at(n: u64, rng: &mut Rng) -> index::IndexedPa {
        let windows = vec![WeeklyWindow {
            day: Day::Monday,
            // Odd minutes, so the quarter-hour bound on covered time is loose, not exact.
            start: format!("{:02}:{:02}", rng.between(5, 10), rng.between(0, 59)),
            end: format!("{:02}:{:02}", rng.between(11, 20), rng.between(0, 59)),
        }];
        index::IndexedPa {
            active: true,
            candidate: Candidate {
                pa_id: format!("pa-{n:04}"),
                display_name: format!("PA {n}"),
                district: "BB11".into(),
                location: Location {
                    latitude: 53.78 + (rng.between(0, 400) as f64 - 200.0) / 1000.0,
                    longitude: -2.25 + (rng.between(0, 400) as f64 - 200.0) / 1000.0,
                },
                max_travel_km: rng.between(3, 25) as f64,
                checks: Checks {
                    dbs_issued_on: Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()),
                    dbs_update_service: true,
                    dbs_verified: rng.chance(95),
                    right_to_work_checked_on: Some(
                        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
                    ),
                    right_to_work_expires_on: None,
                    right_to_work_verified: true,
                },
                evidence: vec![Evidence {
                    competency_id: "care".into(),
                    level: 2,
                    trained_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
                    expires_on: None,
                    verified: rng.chance(90),
                    revoked: false,
                }],
                signoffs: Vec::new(),
                availability: availability_spans("a", &windows).unwrap_or_default(),
                wanted_minutes: u32::try_from(rng.between(0, 40) * 60).unwrap_or(0),
                committed_minutes: 0,
                min_hourly_pay_pence: Pence::new(
                    i64::try_from(rng.between(1200, 1600)).unwrap_or(1300),
                ),
                gender: Some(if rng.chance(50) {
                    Gender::Female
                } else {
                    Gender::Male
                }),
                languages: vec!["English".into()],
                drives: rng.chance(50),
                smoker: false,
                comfortable_with_pets: true,
                engagements: Vec::new(),
            },
        }
    }

    #[test]
    fn the_bounded_search_returns_exactly_the_best_page_of_a_full_sort() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let policy = MatchPolicy::default();
        for seed in 0..20 {
            let mut rng = Rng::new(seed);
            let pas: Vec<index::IndexedPa> = (0..300).map(|n| candidate_at(n, &mut rng)).collect();
            let needs = vec![SupportNeed {
                day: Day::Monday,
                start: "08:00".into(),
                end: "12:00".into(),
                headcount: 1,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            }];
            let support: Vec<Span> = need_spans("s", &needs)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let person = PersonNeeds {
                budget_holder_id: "ann".into(),
                location: Location {
                    latitude: 53.78,
                    longitude: -2.25,
                },
                minimum_level: 2,
                required: vec![RequiredCompetency {
                    id: "care".into(),
                    name: "Care".into(),
                    level: 2,
                }],
                support_minutes: total_minutes(&support),
                support,
                preferences: Preferences {
                    pa_gender: Some(Gender::Female),
                    driver: true,
                    ..Preferences::default()
                },
                team: vec!["pa-0007".into(), "pa-0100".into()],
                do_not_match: vec!["pa-0003".into()],
                affordable_hourly_pay_pence: Some(Pence::new(1400)),
            };
            let mut everyone: Vec<Assessment> = pas
                .iter()
                .map(|pa| assess(&person, &pa.candidate, today, &policy))
                .filter(|a| a.eligible)
                .collect();
            everyone.sort_by(|a, b| {
                model::ranking(
                    a.score,
                    a.distance_km,
                    &a.pa_id,
                    b.score,
                    b.distance_km,
                    &b.pa_id,
                )
            });
            assert!(
                everyone.len() > 40,
                "seed {seed}: too few eligible to test paging"
            );
            for wanted in [1, 7, 40, 1000] {
                let team: Vec<usize> = pas
                    .iter()
                    .enumerate()
                    .filter(|(_, pa)| person.team.contains(&pa.candidate.pa_id))
                    .map(|(slot, _)| slot)
                    .collect();
                let (top, more) = top_matches(
                    &person,
                    pas.iter()
                        .enumerate()
                        .map(|(slot, pa)| (slot, pa.candidate.sketch())),
                    &|slot| &pas[slot].candidate,
                    &team,
                    wanted,
                    &|_| true,
                    f64::NEG_INFINITY,
                    today,
                    &policy,
                );
                let expected: Vec<&str> = everyone
                    .iter()
                    .take(wanted)
                    .map(|a| a.pa_id.as_str())
                    .collect();
                let got: Vec<&str> = top.iter().map(|c| c.pa_id.as_str()).collect();
                assert_eq!(got, expected, "seed {seed}, wanted {wanted}");
                assert_eq!(
                    more,
                    everyone.len() > wanted,
                    "seed {seed}, wanted {wanted}"
                );
            }
        }
    }
}

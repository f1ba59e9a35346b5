//! The marketplace's rules, free of HTTP and database: the competency framework, weekly windows,
//! checks and evidence, and matching a person with PAs.

use crate::money::Pence;
mod checks;
pub mod employment;
mod ranking;
mod weekly;

pub use checks::*;
pub use ranking::top_matches;
pub use weekly::*;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::geo::{distance_km, Location};

pub const LEVELS: std::ops::RangeInclusive<i32> = 1..=4;
/// Level 3 and up are delegated healthcare tasks: a PA needs a clinician's sign-off for each
/// person they do them for.
pub const FIRST_DELEGATED_LEVEL: i32 = 3;
pub const MAX_TRAVEL_KM: f64 = 80.0;

/// The default framework every organisation starts with: level, name, description.
pub const DEFAULT_LEVELS: [(i32, &str, &str); 4] = [
    (1, "Companionship and domestic support", "Company, shopping, cooking, cleaning, getting out and about"),
    (2, "Personal care", "Washing, dressing, continence care, moving and handling"),
    (3, "Delegated healthcare tasks", "Tasks a clinician delegates for one person: medication, catheter and bowel care, PEG feeding, epilepsy rescue medication"),
    (4, "Complex clinical support", "Tracheostomy care, suctioning, invasive and non-invasive ventilation"),
];

/// code, name, level.
pub const DEFAULT_COMPETENCIES: [(&str, &str, i32); 15] = [
    ("companionship", "Companionship and social support", 1),
    ("domestic_support", "Domestic support", 1),
    ("meal_preparation", "Meal preparation", 1),
    ("personal_care", "Personal care", 2),
    ("moving_and_handling", "Moving and handling", 2),
    ("continence_care", "Continence care", 2),
    ("medication_administration", "Medication administration", 3),
    ("catheter_care", "Catheter care", 3),
    ("bowel_care", "Bowel care", 3),
    ("peg_feeding", "PEG feeding", 3),
    (
        "epilepsy_rescue_medication",
        "Epilepsy rescue medication",
        3,
    ),
    ("tracheostomy_care", "Tracheostomy care", 4),
    ("suctioning", "Oral and tracheal suctioning", 4),
    ("invasive_ventilation", "Invasive ventilation", 4),
    ("non_invasive_ventilation", "Non-invasive ventilation", 4),
];

pub fn check_level(field: &str, level: i32) -> Result<i32, FieldError> {
    if LEVELS.contains(&level) {
        Ok(level)
    } else {
        Err(FieldError::new(
            field,
            "range",
            "must be a competency level from 1 to 4",
        ))
    }
}

#[derive(Debug, Clone)]
pub struct RequiredCompetency {
    pub id: String,
    pub name: String,
    pub level: i32,
}

/// Everything about a person that matching weighs.
#[derive(Debug, Clone)]
pub struct PersonNeeds {
    pub budget_holder_id: String,
    pub location: Location,
    pub minimum_level: i32,
    pub required: Vec<RequiredCompetency>,
    pub support: Vec<Span>,
    pub support_minutes: u32,
    pub preferences: Preferences,
    /// Few (a team is a handful), so a list: cheaper to scan than to hash.
    pub team: Vec<String>,
    pub do_not_match: Vec<String>,
    pub affordable_hourly_pay_pence: Option<Pence>,
}

impl PersonNeeds {
    /// Whether they need delegated tasks, which count only with a clinician's sign-off for
    /// them: then the few PAs signed off for them are the only possible matches.
    pub fn needs_signoff(&self) -> bool {
        self.minimum_level >= FIRST_DELEGATED_LEVEL
            || self
                .required
                .iter()
                .any(|c| c.level >= FIRST_DELEGATED_LEVEL)
    }
}

/// Everything about a PA that matching weighs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub pa_id: String,
    pub display_name: String,
    pub district: String,
    pub location: Location,
    pub max_travel_km: f64,
    pub checks: Checks,
    pub evidence: Vec<Evidence>,
    pub signoffs: Vec<SignOff>,
    pub availability: Vec<Span>,
    pub wanted_minutes: u32,
    /// Minutes a week already promised elsewhere (rostered work, once rostering records it).
    pub committed_minutes: u32,
    pub min_hourly_pay_pence: Pence,
    pub gender: Option<Gender>,
    pub languages: Vec<String>,
    pub drives: bool,
    pub smoker: bool,
    pub comfortable_with_pets: bool,
    /// Who employs the PA (`employment`): a leaver works for nobody their engagement covered.
    pub engagements: Vec<employment::Engaged>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleOutcome {
    /// `dbs`, `right_to_work`, `employment`, `competency:<code or id>`, `level`, `distance`, `do_not_match`, `availability`.
    pub rule: String,
    pub passed: bool,
    /// In words a team manager can read.
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScorePart {
    /// `distance`, `availability`, `preferences`, `continuity`, `capacity`, `pay`.
    pub factor: &'static str,
    pub points: f64,
    pub max_points: f64,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub pa_id: String,
    pub eligible: bool,
    pub distance_km: f64,
    pub rules: Vec<RuleOutcome>,
    pub score: f64,
    pub breakdown: Vec<ScorePart>,
}

/// Points each factor can earn; they add to 100.
const DISTANCE_POINTS: f64 = 25.0;
const AVAILABILITY_POINTS: f64 = 25.0;
const PREFERENCE_POINTS: f64 = 15.0;
const CONTINUITY_POINTS: f64 = 15.0;
const CAPACITY_POINTS: f64 = 10.0;
const PAY_POINTS: f64 = 10.0;

fn hours(minutes: u32) -> String {
    let h = f64::from(minutes) / 60.0;
    if (h - h.round()).abs() < 0.05 {
        format!("{}", h.round())
    } else {
        format!("{h:.1}")
    }
}

/// The PA's competency level for this person: the highest level of competency they hold with
/// valid evidence, where a delegated (level 3+) task counts only with a sign-off for this person.
pub fn level_for(candidate: &Candidate, budget_holder_id: &str, today: NaiveDate) -> i32 {
    candidate
        .evidence
        .iter()
        .filter(|e| {
            evidence_status(e.trained_on, e.expires_on, e.verified, e.revoked, today)
                == EvidenceStatus::Valid
        })
        .filter(|e| {
            e.level < FIRST_DELEGATED_LEVEL
                || candidate
                    .signoffs
                    .iter()
                    .any(|s| s.valid_for(&e.competency_id, budget_holder_id, today))
        })
        .map(|e| e.level)
        .max()
        .unwrap_or(0)
}

/// Judges one PA for one person: every hard rule, then the score, each explained in words.
pub fn assess(
    person: &PersonNeeds,
    candidate: &Candidate,
    today: NaiveDate,
    policy: &MatchPolicy,
) -> Assessment {
    let j = judge(person, candidate, today, policy, true);
    Assessment {
        pa_id: candidate.pa_id.clone(),
        eligible: j.eligible,
        distance_km: j.distance_km,
        rules: j.rules,
        score: j.score,
        breakdown: j.breakdown,
    }
}

/// The outcome of `judge`; without words it allocates nothing.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub eligible: bool,
    pub distance_km: f64,
    pub score: f64,
    pub rules: Vec<RuleOutcome>,
    pub breakdown: Vec<ScorePart>,
}

/// The one place the hard rules about a PA and a person live. Without `explain` it stops at the
/// first broken rule and writes no words: the cheap form for screening thousands of candidates.
/// Availability here is the matching sense (free at some time the person needs support); a
/// shift's own availability is `judge_on`'s.
pub fn judge(
    person: &PersonNeeds,
    candidate: &Candidate,
    today: NaiveDate,
    policy: &MatchPolicy,
    explain: bool,
) -> Judgement {
    judge_on(person, candidate, today, policy, explain, None)
}

/// `judge` for one occasion: the credentials as they stand on `today` and, when
/// `shift_available` is given, whether the PA's weekly availability holds the whole shift in
/// place of the matching sense of availability.
pub fn judge_on(
    person: &PersonNeeds,
    candidate: &Candidate,
    today: NaiveDate,
    policy: &MatchPolicy,
    explain: bool,
    shift_available: Option<bool>,
) -> Judgement {
    let mut rules = Vec::new();
    let mut eligible = true;
    // Records one rule; false means "stop here" (a broken rule when not explaining).
    let mut record =
        |passed: bool, rule: &dyn Fn() -> String, words: &dyn Fn() -> String| -> bool {
            eligible &= passed;
            if explain {
                rules.push(RuleOutcome {
                    rule: rule(),
                    passed,
                    explanation: words(),
                });
            }
            passed || explain
        };
    let distance = distance_km(person.location, candidate.location);
    let stopped = |distance: f64| Judgement {
        eligible: false,
        distance_km: distance,
        rules: Vec::new(),
        score: 0.0,
        breakdown: Vec::new(),
    };

    // Screening thousands of PAs: the two most selective rules first, before any other work.
    if !explain && distance > candidate.max_travel_km {
        return stopped(distance);
    }
    let covered = covered_minutes(&person.support, &candidate.availability);
    let available = shift_available.unwrap_or(covered > 0 || person.support_minutes == 0);
    if !explain && !available {
        return stopped(distance);
    }
    let dbs = DbsStanding::of(&candidate.checks, today, policy);
    if !record(dbs.is_current(), &|| "dbs".into(), &|| {
        dbs.explain().unwrap_or_else(|e| e)
    }) {
        return stopped(distance);
    }
    let rtw = RightToWorkStanding::of(&candidate.checks, today);
    if !record(rtw.is_current(), &|| "right_to_work".into(), &|| {
        rtw.explain().unwrap_or_else(|e| e)
    }) {
        return stopped(distance);
    }
    let employment =
        employment::employment_on(&candidate.engagements, &person.budget_holder_id, today);
    if let employment::Employment::Left(last) = employment {
        let words = || {
            format!(
                "left the employment that covered work for this person on {}",
                last.ends_on.map_or_else(String::new, |d| d.to_string())
            )
        };
        if !record(false, &|| "employment".into(), &words) {
            return stopped(distance);
        }
    }

    for required in &person.required {
        let best = candidate
            .evidence
            .iter()
            .filter(|e| e.competency_id == required.id)
            .map(|e| evidence_status(e.trained_on, e.expires_on, e.verified, e.revoked, today))
            .min_by_key(|s| s.closeness());
        let delegated = required.level >= FIRST_DELEGATED_LEVEL;
        let signed_off = || {
            candidate
                .signoffs
                .iter()
                .any(|s| s.valid_for(&required.id, &person.budget_holder_id, today))
        };
        let passed = best == Some(EvidenceStatus::Valid) && (!delegated || signed_off());
        let words = || match best {
            None => format!("does not hold {}", required.name),
            Some(EvidenceStatus::Valid) if delegated && passed => {
                format!(
                    "{} with valid evidence, signed off by a clinician for this person",
                    required.name
                )
            }
            Some(EvidenceStatus::Valid) if delegated => {
                format!(
                    "{} is held, but no clinician has signed it off for this person",
                    required.name
                )
            }
            Some(EvidenceStatus::Valid) => format!("{} with valid evidence", required.name),
            Some(status) => format!(
                "{}: the evidence is {}",
                required.name,
                status.as_str().replace('_', " ")
            ),
        };
        if !record(passed, &|| format!("competency:{}", required.id), &words) {
            return stopped(distance);
        }
    }

    let level = level_for(candidate, &person.budget_holder_id, today);
    let level_words = || {
        if level == 0 {
            format!(
                "holds no valid competency; level {} is needed",
                person.minimum_level
            )
        } else {
            format!(
                "works at level {level} for this person; level {} is needed",
                person.minimum_level
            )
        }
    };
    if !record(
        level >= person.minimum_level,
        &|| "level".into(),
        &level_words,
    ) {
        return stopped(distance);
    }

    let within = distance <= candidate.max_travel_km;
    let distance_words = || {
        if within {
            format!(
                "{distance:.1} km away, within the {:.0} km they travel",
                candidate.max_travel_km
            )
        } else {
            format!(
                "{distance:.1} km away, {:.1} km beyond the {:.0} km they travel",
                distance - candidate.max_travel_km,
                candidate.max_travel_km
            )
        }
    };
    if !record(within, &|| "distance".into(), &distance_words) {
        return stopped(distance);
    }

    let barred = person.do_not_match.contains(&candidate.pa_id);
    let barred_words = || {
        if barred {
            "is on this person's do-not-match list".to_owned()
        } else {
            "not on the do-not-match list".to_owned()
        }
    };
    if !record(!barred, &|| "do_not_match".into(), &barred_words) {
        return stopped(distance);
    }

    let availability_words = || {
        if let Some(whole) = shift_available {
            if whole {
                "available for the whole shift".to_owned()
            } else {
                "not available for the whole shift by their weekly availability".to_owned()
            }
        } else if available {
            format!(
                "available for {} of the {} hours a week needed",
                hours(covered),
                hours(person.support_minutes)
            )
        } else {
            "not available at any time this person needs support".to_owned()
        }
    };
    if !record(available, &|| "availability".into(), &availability_words) {
        return stopped(distance);
    }

    let (score, breakdown) = if explain {
        let breakdown = score(person, candidate, distance, covered);
        (
            total(&breakdown.iter().map(|p| p.points).collect::<Vec<_>>()),
            breakdown,
        )
    } else {
        (
            total(&factor_points(person, candidate, distance, covered)),
            Vec::new(),
        )
    };
    Judgement {
        eligible,
        distance_km: distance,
        rules,
        score,
        breakdown,
    }
}

fn distance_points(distance: f64, max_travel_km: f64) -> f64 {
    let reach = max_travel_km.max(0.1);
    (DISTANCE_POINTS * (1.0 - (distance / reach).min(1.0)) * 10.0).round() / 10.0
}

/// The week in quarter hours, one bit each (672 bits): the cheap upper bound on how much of a
/// person's support a PA's availability covers, so ranking never reads availability spans for
/// PAs who cannot reach the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuarterHours([u64; 11]);

impl QuarterHours {
    /// Every quarter hour any of `spans` touches, even by a minute.
    pub fn touched_by(spans: &[Span]) -> Self {
        let mut bits = [0u64; 11];
        for span in spans.iter().filter(|s| s.end > s.start) {
            for quarter in span.start / 15..=(span.end - 1) / 15 {
                let quarter = quarter as usize;
                if let Some(word) = bits.get_mut(quarter / 64) {
                    *word |= 1 << (quarter % 64);
                }
            }
        }
        QuarterHours(bits)
    }

    /// Never less than the minutes the two sets of spans share: a shared minute lies in a
    /// quarter hour both touch, and each such quarter holds at most 15.
    pub fn shared_minutes_at_most(&self, other: &Self) -> u32 {
        15 * self
            .0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a & b).count_ones())
            .sum::<u32>()
    }
}

/// The figures of a PA that the score weighs, apart from preferences.
#[derive(Debug, Clone, Copy)]
pub struct ScoreTerms {
    pub max_travel_km: f64,
    pub wanted_minutes: u32,
    pub committed_minutes: u32,
    pub min_hourly_pay_pence: Pence,
}

/// What ranking needs to bound a PA's score without reading the rest of the PA: small and
/// flat, so thousands of them are read in one pass through memory.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSketch {
    pub location: Location,
    pub terms: ScoreTerms,
    pub availability: QuarterHours,
}

impl Candidate {
    pub fn terms(&self) -> ScoreTerms {
        ScoreTerms {
            max_travel_km: self.max_travel_km,
            wanted_minutes: self.wanted_minutes,
            committed_minutes: self.committed_minutes,
            min_hourly_pay_pence: self.min_hourly_pay_pence,
        }
    }

    pub fn sketch(&self) -> ScoreSketch {
        ScoreSketch {
            location: self.location,
            terms: self.terms(),
            availability: QuarterHours::touched_by(&self.availability),
        }
    }
}

/// The most a PA could score for this person: every factor as it is, except preferences (the
/// one factor with words to weigh) counted in full and covered minutes at most
/// `covered_at_most`. Ranking visits PAs by this bound and stops once no one left could enter
/// the page, so it must never be below the real score.
pub fn best_possible_score(
    person: &PersonNeeds,
    terms: &ScoreTerms,
    in_team: bool,
    distance: f64,
    covered_at_most: u32,
) -> f64 {
    total(&points_given(
        person,
        terms,
        in_team,
        distance,
        covered_at_most.min(person.support_minutes),
        PREFERENCE_POINTS,
    ))
}

/// Points per factor, in breakdown order; both the ranking and the breakdown come from here.
fn factor_points(
    person: &PersonNeeds,
    candidate: &Candidate,
    distance: f64,
    covered: u32,
) -> [f64; 6] {
    let (met, asked) = preference_counts(&person.preferences, candidate);
    let preference_points = if asked == 0 {
        PREFERENCE_POINTS
    } else {
        round_tenth(PREFERENCE_POINTS * met as f64 / asked as f64)
    };
    points_given(
        person,
        &candidate.terms(),
        person.team.contains(&candidate.pa_id),
        distance,
        covered,
        preference_points,
    )
}

fn round_tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The factor points, with the preference points already weighed.
fn points_given(
    person: &PersonNeeds,
    terms: &ScoreTerms,
    in_team: bool,
    distance: f64,
    covered: u32,
    preference_points: f64,
) -> [f64; 6] {
    let round = round_tenth;
    let share = if person.support_minutes == 0 {
        1.0
    } else {
        f64::from(covered) / f64::from(person.support_minutes)
    };
    let spare = terms.wanted_minutes.saturating_sub(terms.committed_minutes);
    let wanted_share = if person.support_minutes == 0 {
        1.0
    } else {
        (f64::from(spare) / f64::from(person.support_minutes)).min(1.0)
    };
    let pay = match person.affordable_hourly_pay_pence {
        Some(affordable) if terms.min_hourly_pay_pence > affordable => {
            // Lose all the points by 20% over what the budget allows.
            let over = (terms.min_hourly_pay_pence - affordable).get() as f64
                / affordable.max(Pence::new(1)).get() as f64;
            round(PAY_POINTS * (1.0 - over / 0.2).max(0.0))
        }
        _ => PAY_POINTS,
    };
    [
        distance_points(distance, terms.max_travel_km),
        round(AVAILABILITY_POINTS * share),
        preference_points,
        if in_team { CONTINUITY_POINTS } else { 0.0 },
        round(CAPACITY_POINTS * wanted_share),
        pay,
    ]
}

fn total(points: &[f64]) -> f64 {
    (points.iter().sum::<f64>() * 10.0).round() / 10.0
}

fn score(
    person: &PersonNeeds,
    candidate: &Candidate,
    distance: f64,
    covered: u32,
) -> Vec<ScorePart> {
    let points = factor_points(person, candidate, distance, covered);
    let share = if person.support_minutes == 0 {
        1.0
    } else {
        f64::from(covered) / f64::from(person.support_minutes)
    };
    let (met, unmet) = preferences_met(&person.preferences, candidate);
    let asked = met.len() + unmet.len();
    let in_team = person.team.contains(&candidate.pa_id);
    let spare = candidate
        .wanted_minutes
        .saturating_sub(candidate.committed_minutes);
    let pay = candidate.min_hourly_pay_pence;
    let explanations = [
        format!("{distance:.1} km from the person's home"),
        format!("covers {:.0}% of the support hours", share * 100.0),
        if asked == 0 {
            "the person states no preferences".into()
        } else if unmet.is_empty() {
            format!("meets every preference: {}", met.join(", "))
        } else {
            format!(
                "meets {} of {} preferences; not met: {}",
                met.len(),
                asked,
                unmet.join(", ")
            )
        },
        if in_team {
            "already in the person's team".into()
        } else {
            "new to the person's team".into()
        },
        format!(
            "wants {} more hours a week (of {} wanted)",
            hours(spare),
            hours(candidate.wanted_minutes)
        ),
        match person.affordable_hourly_pay_pence {
            None => format!("asks at least {pay} an hour; no budget limit is set"),
            Some(affordable) if candidate.min_hourly_pay_pence <= affordable => {
                format!("asks at least {pay} an hour, within the {affordable} the budget allows")
            }
            Some(affordable) => {
                format!("asks at least {pay} an hour, above the {affordable} the budget allows")
            }
        },
    ];
    const FACTORS: [(&str, f64); 6] = [
        ("distance", DISTANCE_POINTS),
        ("availability", AVAILABILITY_POINTS),
        ("preferences", PREFERENCE_POINTS),
        ("continuity", CONTINUITY_POINTS),
        ("capacity", CAPACITY_POINTS),
        ("pay", PAY_POINTS),
    ];
    FACTORS
        .iter()
        .zip(points)
        .zip(explanations)
        .map(|(((factor, max_points), points), explanation)| ScorePart {
            factor,
            points,
            max_points: *max_points,
            explanation,
        })
        .collect()
}

/// Calls `judge(met, what it is when met, what was wanted)` for each stated preference.
fn judge_preferences(
    preferences: &Preferences,
    candidate: &Candidate,
    mut judge: impl FnMut(bool, &dyn Fn() -> (String, String)),
) {
    if let Some(gender) = preferences.pa_gender {
        let name = || {
            serde_json::to_value(gender)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
                .unwrap_or_default()
        };
        judge(candidate.gender == Some(gender), &|| {
            (format!("{} PA", name()), format!("a {} PA", name()))
        });
    }
    for language in &preferences.languages {
        let speaks = candidate
            .languages
            .iter()
            .any(|l| l.eq_ignore_ascii_case(language));
        judge(speaks, &|| {
            (format!("speaks {language}"), format!("speaks {language}"))
        });
    }
    if preferences.driver {
        judge(candidate.drives, &|| ("drives".into(), "a driver".into()));
    }
    if preferences.non_smoker {
        judge(!candidate.smoker, &|| {
            ("non-smoker".into(), "a non-smoker".into())
        });
    }
    if preferences.pets_in_home {
        judge(candidate.comfortable_with_pets, &|| {
            (
                "comfortable with pets".into(),
                "comfortable with pets".into(),
            )
        });
    }
}

fn preference_counts(preferences: &Preferences, candidate: &Candidate) -> (usize, usize) {
    let (mut met, mut asked) = (0, 0);
    judge_preferences(preferences, candidate, |ok, _| {
        asked += 1;
        met += usize::from(ok);
    });
    (met, asked)
}

fn preferences_met(preferences: &Preferences, candidate: &Candidate) -> (Vec<String>, Vec<String>) {
    let (mut met, mut unmet) = (Vec::new(), Vec::new());
    judge_preferences(preferences, candidate, |ok, words| {
        let (yes, no) = words();
        if ok {
            met.push(yes);
        } else {
            unmet.push(no);
        }
    });
    (met, unmet)
}

/// Best first; equal scores by distance, then id, so the order is stable.
pub fn ranking(
    score_a: f64,
    distance_a: f64,
    id_a: &str,
    score_b: f64,
    distance_b: f64,
    id_b: &str,
) -> std::cmp::Ordering {
    score_b
        .total_cmp(&score_a)
        .then(distance_a.total_cmp(&distance_b))
        .then_with(|| id_a.cmp(id_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-11-22";

    fn place(latitude: f64, longitude: f64) -> Location {
        Location {
            latitude,
            longitude,
        }
    }

    fn person() -> PersonNeeds {
        let needs = vec![
            SupportNeed {
                day: Day::Monday,
                start: "08:00".into(),
                end: "12:00".into(),
                headcount: 1,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            },
            SupportNeed {
                day: Day::Tuesday,
                start: "08:00".into(),
                end: "12:00".into(),
                headcount: 1,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            },
        ];
        let spans: Vec<Span> = need_spans("support", &needs)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        PersonNeeds {
            budget_holder_id: "ann".into(),
            location: place(53.7826, -2.2540),
            minimum_level: 3,
            required: vec![
                RequiredCompetency {
                    id: "personal_care".into(),
                    name: "Personal care".into(),
                    level: 2,
                },
                RequiredCompetency {
                    id: "tracheostomy_care".into(),
                    name: "Tracheostomy care".into(),
                    level: 4,
                },
            ],
            support_minutes: total_minutes(&spans),
            support: spans,
            preferences: Preferences::default(),
            team: Vec::new(),
            do_not_match: Vec::new(),
            affordable_hourly_pay_pence: None,
        }
    }

    fn evidence(id: &str, level: i32) -> Evidence {
        Evidence {
            competency_id: id.into(),
            level,
            trained_on: date("2025-01-10"),
            expires_on: Some(date("2027-01-10")),
            verified: true,
            revoked: false,
        }
    }

    fn signoff(id: &str, person: &str) -> SignOff {
        SignOff {
            competency_id: id.into(),
            budget_holder_id: person.into(),
            signed_off_on: date("2025-02-01"),
            expires_on: None,
            revoked: false,
        }
    }

    fn qualified() -> Candidate {
        Candidate {
            pa_id: "pa-1".into(),
            display_name: "Aisha".into(),
            district: "BB11".into(),
            location: place(53.80, -2.25),
            max_travel_km: 10.0,
            checks: Checks {
                dbs_issued_on: Some(date("2025-06-01")),
                dbs_update_service: false,
                dbs_verified: true,
                right_to_work_checked_on: Some(date("2025-06-01")),
                right_to_work_expires_on: None,
                right_to_work_verified: true,
            },
            evidence: vec![
                evidence("personal_care", 2),
                evidence("tracheostomy_care", 4),
            ],
            signoffs: vec![signoff("tracheostomy_care", "ann")],
            availability: availability_spans(
                "availability",
                &[WeeklyWindow {
                    day: Day::Monday,
                    start: "07:00".into(),
                    end: "13:00".into(),
                }],
            )
            .unwrap(),
            wanted_minutes: 20 * 60,
            committed_minutes: 0,
            min_hourly_pay_pence: Pence::new(1400),
            gender: Some(Gender::Female),
            languages: vec!["English".into(), "Urdu".into()],
            drives: true,
            smoker: false,
            comfortable_with_pets: true,
            engagements: Vec::new(),
        }
    }

    fn failed_rules(a: &Assessment) -> Vec<&str> {
        a.rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.rule.as_str())
            .collect()
    }

    fn judge(candidate: &Candidate) -> Assessment {
        assess(&person(), candidate, date(TODAY), &MatchPolicy::default())
    }

    #[test]
    fn a_qualified_nearby_available_pa_is_a_match() {
        let a = judge(&qualified());
        assert!(a.eligible, "{:?}", a.rules);
        assert!(a.score > 50.0);
        let availability = a.rules.iter().find(|r| r.rule == "availability").unwrap();
        assert_eq!(
            availability.explanation,
            "available for 4 of the 8 hours a week needed"
        );
    }

    #[test]
    fn an_expired_competency_is_not_held() {
        let mut pa = qualified();
        pa.evidence[0].expires_on = Some(date("2026-11-01"));
        let a = judge(&pa);
        assert!(!a.eligible);
        assert_eq!(failed_rules(&a), ["competency:personal_care"]);
        assert!(
            a.rules[2].explanation.contains("expired"),
            "{}",
            a.rules[2].explanation
        );
    }

    #[test]
    fn unverified_or_missing_evidence_is_not_held() {
        let mut pa = qualified();
        pa.evidence[0].verified = false;
        assert_eq!(failed_rules(&judge(&pa)), ["competency:personal_care"]);
        pa.evidence.remove(0);
        assert_eq!(failed_rules(&judge(&pa)), ["competency:personal_care"]);
    }

    #[test]
    fn a_sign_off_for_another_person_does_not_count() {
        let mut pa = qualified();
        pa.signoffs = vec![signoff("tracheostomy_care", "bob")];
        let a = judge(&pa);
        assert_eq!(failed_rules(&a), ["competency:tracheostomy_care", "level"]);
        let rule = a
            .rules
            .iter()
            .find(|r| r.rule == "competency:tracheostomy_care")
            .unwrap();
        assert_eq!(
            rule.explanation,
            "Tracheostomy care is held, but no clinician has signed it off for this person"
        );
    }

    #[test]
    fn a_dbs_check_too_old_fails_unless_on_the_update_service() {
        let mut pa = qualified();
        pa.checks.dbs_issued_on = Some(date("2023-11-01"));
        let a = judge(&pa);
        assert_eq!(failed_rules(&a), ["dbs"]);
        assert_eq!(
            a.rules[0].explanation,
            "the DBS certificate from 2023-11-01 is over 36 months old and not on the update service"
        );
        pa.checks.dbs_update_service = true;
        assert!(judge(&pa).eligible);
    }

    #[test]
    fn right_to_work_must_be_checked_and_unexpired() {
        let mut pa = qualified();
        pa.checks.right_to_work_expires_on = Some(date("2026-11-22"));
        assert_eq!(failed_rules(&judge(&pa)), ["right_to_work"]);
        pa.checks.right_to_work_expires_on = None;
        pa.checks.right_to_work_verified = false;
        assert_eq!(failed_rules(&judge(&pa)), ["right_to_work"]);
    }

    #[test]
    fn a_pa_one_kilometre_beyond_their_radius_is_not_a_match() {
        let mut pa = qualified();
        let distance = distance_km(person().location, pa.location);
        pa.max_travel_km = distance - 1.0;
        let a = judge(&pa);
        assert_eq!(failed_rules(&a), ["distance"]);
        assert!(a
            .rules
            .iter()
            .any(|r| r.explanation.contains("1.0 km beyond")));
        pa.max_travel_km = distance + 0.01;
        assert!(judge(&pa).eligible);
    }

    #[test]
    fn a_do_not_match_pair_is_never_matched() {
        let mut needs = person();
        needs.do_not_match.push("pa-1".into());
        let a = assess(&needs, &qualified(), date(TODAY), &MatchPolicy::default());
        assert_eq!(failed_rules(&a), ["do_not_match"]);
    }

    #[test]
    fn no_overlap_with_the_support_needed_is_not_a_match() {
        let mut pa = qualified();
        pa.availability = availability_spans(
            "availability",
            &[WeeklyWindow {
                day: Day::Saturday,
                start: "09:00".into(),
                end: "17:00".into(),
            }],
        )
        .unwrap();
        assert_eq!(failed_rules(&judge(&pa)), ["availability"]);
    }

    #[test]
    fn the_level_needed_must_be_reached_for_this_person() {
        let mut needs = person();
        needs.required.truncate(1);
        let mut pa = qualified();
        pa.signoffs.clear();
        let a = assess(&needs, &pa, date(TODAY), &MatchPolicy::default());
        assert_eq!(failed_rules(&a), ["level"]);
        assert_eq!(level_for(&pa, "ann", date(TODAY)), 2);
    }

    #[test]
    fn scores_order_closer_continuous_preferred_pas_first() {
        let mut needs = person();
        needs.preferences = Preferences {
            languages: vec!["Urdu".into()],
            driver: true,
            ..Preferences::default()
        };
        let near = qualified();
        let mut far = qualified();
        far.pa_id = "pa-2".into();
        far.location = place(53.85, -2.25);
        let mut in_team_far = far.clone();
        in_team_far.pa_id = "pa-3".into();
        needs.team.push("pa-3".into());
        let mut no_urdu = qualified();
        no_urdu.pa_id = "pa-4".into();
        no_urdu.languages = vec!["English".into()];
        let mut ranked: Vec<Assessment> = [&near, &far, &in_team_far, &no_urdu]
            .iter()
            .map(|c| assess(&needs, c, date(TODAY), &MatchPolicy::default()))
            .collect();
        ranked.sort_by(|a, b| {
            ranking(
                a.score,
                a.distance_km,
                &a.pa_id,
                b.score,
                b.distance_km,
                &b.pa_id,
            )
        });
        let order: Vec<&str> = ranked.iter().map(|a| a.pa_id.as_str()).collect();
        assert_eq!(order, ["pa-3", "pa-1", "pa-4", "pa-2"]);
        let preferences = ranked[2]
            .breakdown
            .iter()
            .find(|p| p.factor == "preferences")
            .unwrap();
        assert_eq!(
            preferences.explanation,
            "meets 1 of 2 preferences; not met: speaks Urdu"
        );
        let total: f64 = ranked[0].breakdown.iter().map(|p| p.max_points).sum();
        assert_eq!(total, 100.0);
    }

    #[test]
    fn asking_more_pay_than_the_budget_allows_costs_points_but_does_not_exclude() {
        let mut needs = person();
        needs.affordable_hourly_pay_pence = Some(Pence::new(1300));
        let a = assess(&needs, &qualified(), date(TODAY), &MatchPolicy::default());
        assert!(a.eligible);
        let pay = a.breakdown.iter().find(|p| p.factor == "pay").unwrap();
        assert!(pay.points < PAY_POINTS && pay.points > 0.0, "{pay:?}");
    }

    #[test]
    fn windows_cross_midnight_and_the_end_of_the_week() {
        let night = availability_spans(
            "a",
            &[WeeklyWindow {
                day: Day::Sunday,
                start: "22:00".into(),
                end: "08:00".into(),
            }],
        )
        .unwrap();
        assert_eq!(
            night,
            vec![
                Span { start: 0, end: 480 },
                Span {
                    start: 6 * 1440 + 1320,
                    end: 7 * 1440
                }
            ]
        );
        assert_eq!(total_minutes(&night), 600);
        let monday_morning = need_spans(
            "s",
            &[SupportNeed {
                day: Day::Monday,
                start: "06:00".into(),
                end: "09:00".into(),
                headcount: 1,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            }],
        )
        .unwrap();
        assert_eq!(covered_minutes(&[monday_morning[0].0], &night), 120);
    }

    #[test]
    fn quarter_hours_never_undercount_shared_minutes_and_are_exact_on_the_quarter() {
        let span = |start: u32, end: u32| Span { start, end };
        // On quarter hours the bound is exact.
        let a = vec![span(480, 720), span(6 * 1440 + 1320, 7 * 1440)];
        let b = vec![span(600, 900), span(0, 60)];
        assert_eq!(
            QuarterHours::touched_by(&a).shared_minutes_at_most(&QuarterHours::touched_by(&b)),
            covered_minutes(&a, &merge(b.clone()))
        );
        // Off the quarter it may overcount, never undercount; the last minute of the week counts.
        let mut seed = 17u64;
        let mut next = |below: u32| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % u64::from(below)) as u32
        };
        for _ in 0..500 {
            let spans = |next: &mut dyn FnMut(u32) -> u32| {
                (0..3)
                    .map(|_| {
                        let start = next(MINUTES_PER_WEEK - 1);
                        span(start, (start + 1 + next(600)).min(MINUTES_PER_WEEK))
                    })
                    .collect::<Vec<_>>()
            };
            let need = merge(spans(&mut next));
            let available = merge(spans(&mut next));
            let bound = QuarterHours::touched_by(&need)
                .shared_minutes_at_most(&QuarterHours::touched_by(&available));
            assert!(bound >= covered_minutes(&need, &available));
        }
        assert_eq!(
            QuarterHours::touched_by(&[span(MINUTES_PER_WEEK - 1, MINUTES_PER_WEEK)])
                .shared_minutes_at_most(&QuarterHours::touched_by(&[span(
                    MINUTES_PER_WEEK - 15,
                    MINUTES_PER_WEEK
                )])),
            15
        );
    }

    #[test]
    fn bad_windows_name_their_field() {
        let errors = availability_spans(
            "availability",
            &[
                WeeklyWindow {
                    day: Day::Monday,
                    start: "25:00".into(),
                    end: "08:00".into(),
                },
                WeeklyWindow {
                    day: Day::Monday,
                    start: "08:00".into(),
                    end: "8:00".into(),
                },
            ],
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["availability[0].start", "availability[1].end"]);
        let headcount = need_spans(
            "support_needs",
            &[SupportNeed {
                day: Day::Monday,
                start: "08:00".into(),
                end: "09:00".into(),
                headcount: 3,
                kind: crate::market::model::ShiftKind::Day,
                from: None,
                until: None,
            }],
        )
        .unwrap_err();
        assert_eq!(headcount[0].field, "support_needs[0].headcount");
    }
}

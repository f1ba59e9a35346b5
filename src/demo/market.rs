//! Reproducible marketplace data: PAs and budget holders spread over a list of postcode
//! districts, with checks, evidence, clinical sign-offs and teams. The demo uses it for an East
//! Lancashire team; the matching benchmark for thousands of PAs across England.

use crate::money::Pence;
use std::collections::HashMap;

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::geo::Location;
use crate::ids::seeded_id;
use crate::market::model::{
    availability_spans, covered_minutes, need_spans, Day, Preferences, Span, SupportNeed,
    WeeklyWindow,
};
use crate::market::repo::{
    self, BudgetHolderRow, CompetencyRow, EvidenceRow, PaProfileRow, SignOffRow, TeamMemberRow,
};
use chrono::{Days, NaiveDate, NaiveDateTime};

/// SplitMix64: small, fast and reproducible; not for secrets.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

pub struct MarketShape<'a> {
    pub organisation_id: &'a str,
    /// Team managers the budget holders are shared between.
    pub team_managers: &'a [String],
    /// Postcode districts (with centroids) people live in.
    pub districts: &'a [(String, Location)],
    pub pas: usize,
    pub budget_holders: usize,
    /// Build each person's team from qualified PAs nearby, with sign-offs for delegated tasks.
    pub with_teams: bool,
    pub seed: u64,
    /// Ids are derived from this and the seed, so a rerun gives the same ids.
    pub id_base_millis: u64,
    pub today: NaiveDate,
    pub now: NaiveDateTime,
}

pub struct GeneratedMarket {
    pub pa_ids: Vec<String>,
    pub budget_holder_ids: Vec<String>,
}

const FIRST_NAMES: [&str; 24] = [
    "Aisha", "Ben", "Chloe", "Daniel", "Emma", "Farhan", "Grace", "Harry", "Imran", "Jess",
    "Kasia", "Liam", "Maryam", "Nathan", "Olivia", "Priya", "Ryan", "Sadia", "Tom", "Uzma",
    "Vicky", "Wes", "Yasmin", "Zoe",
];
const SURNAMES: [&str; 16] = [
    "Ashworth",
    "Birtwistle",
    "Duckworth",
    "Entwistle",
    "Greenwood",
    "Haworth",
    "Hussain",
    "Ingham",
    "Khan",
    "Lord",
    "Marsden",
    "Nuttall",
    "Patel",
    "Pilling",
    "Riley",
    "Whittaker",
];

fn window(day: Day, start: &str, end: &str) -> WeeklyWindow {
    WeeklyWindow {
        day,
        start: start.into(),
        end: end.into(),
    }
}

const DAYS: [Day; 7] = [
    Day::Monday,
    Day::Tuesday,
    Day::Wednesday,
    Day::Thursday,
    Day::Friday,
    Day::Saturday,
    Day::Sunday,
];

/// The weeks PAs offer, each holding whole shifts that people need (`support_needs`): long
/// weekdays (a 12-hour day, or a morning and an evening call), nights, long weekends, and
/// mornings every day.
fn availability(rng: &mut Rng) -> Vec<WeeklyWindow> {
    match rng.between(0, 3) {
        0 => DAYS[..5]
            .iter()
            .map(|d| window(*d, "07:00", "21:00"))
            .collect(),
        1 => DAYS
            .iter()
            .filter(|_| rng.chance(60))
            .map(|d| window(*d, "20:00", "08:00"))
            .collect(),
        2 => [Day::Friday, Day::Saturday, Day::Sunday]
            .iter()
            .map(|d| window(*d, "07:00", "22:00"))
            .collect(),
        _ => DAYS.iter().map(|d| window(*d, "07:00", "14:00")).collect(),
    }
}

fn need(day: Day, start: &str, end: &str, headcount: u8) -> SupportNeed {
    SupportNeed {
        day,
        start: start.into(),
        end: end.into(),
        headcount,
        kind: crate::market::model::ShiftKind::Day,
        from: None,
        until: None,
    }
}

fn support_needs(level: i32, rng: &mut Rng) -> Vec<SupportNeed> {
    match level {
        4 => {
            let two_to_one = rng.chance(30);
            DAYS.iter()
                .flat_map(|d| {
                    [
                        need(*d, "08:00", "20:00", if two_to_one { 2 } else { 1 }),
                        need(*d, "20:00", "08:00", 1),
                    ]
                })
                .collect()
        }
        3 => DAYS
            .iter()
            .flat_map(|d| [need(*d, "07:30", "10:30", 1), need(*d, "18:00", "21:00", 1)])
            .collect(),
        2 => DAYS
            .iter()
            .filter(|_| rng.chance(60))
            .map(|d| need(*d, "08:00", "11:00", 1))
            .collect(),
        _ => vec![
            need(Day::Wednesday, "10:00", "14:00", 1),
            need(Day::Saturday, "10:00", "14:00", 1),
        ],
    }
}

/// Competency codes a person at this level typically needs.
fn required_codes(level: i32, rng: &mut Rng) -> Vec<&'static str> {
    let mut codes = match level {
        1 => vec!["companionship"],
        2 => vec!["personal_care", "moving_and_handling"],
        3 => vec!["personal_care", "medication_administration"],
        _ => vec!["personal_care", "tracheostomy_care", "suctioning"],
    };
    if level == 3 {
        codes.push(*rng.pick(&["epilepsy_rescue_medication", "peg_feeding", "catheter_care"]));
    }
    if level == 4 && rng.chance(50) {
        codes.push("invasive_ventilation");
    }
    codes
}

/// Competency codes a PA holds, by the level they reached.
fn held_codes(level: i32, rng: &mut Rng) -> Vec<&'static str> {
    let mut codes = vec!["companionship", "domestic_support", "meal_preparation"];
    if level >= 2 {
        codes.extend(["personal_care", "moving_and_handling", "continence_care"]);
    }
    if level >= 3 {
        codes.extend(["medication_administration", "epilepsy_rescue_medication"]);
        codes.push(*rng.pick(&["peg_feeding", "catheter_care", "bowel_care"]));
    }
    if level >= 4 {
        codes.extend([
            "tracheostomy_care",
            "suctioning",
            "invasive_ventilation",
            "non_invasive_ventilation",
        ]);
    }
    codes
}

pub fn generate(conn: &mut DbConnection, shape: &MarketShape<'_>) -> AppResult<GeneratedMarket> {
    let mut rng = Rng::new(shape.seed);
    let competencies: HashMap<String, CompetencyRow> =
        repo::all_competencies(conn, shape.organisation_id)?
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
    let mut next_id = 0u64;
    let mut id = || {
        next_id += 1;
        seeded_id(
            shape.id_base_millis,
            shape.seed.wrapping_mul(1_000_000_007).wrapping_add(next_id),
        )
    };

    let revision = repo::bump_revision(conn, shape.organisation_id)?;
    let mut pas = Vec::with_capacity(shape.pas);
    let mut evidence = Vec::new();
    let mut held_by_pa: HashMap<String, Vec<&'static str>> = HashMap::new();
    for _ in 0..shape.pas {
        let (district, location) = rng.pick(shape.districts).clone();
        // A workforce for complex needs: a third of PAs trained to the highest level (a
        // quarter of people need it around the clock).
        let level = match rng.between(0, 99) {
            0..=9 => 1,
            10..=34 => 2,
            35..=64 => 3,
            _ => 4,
        };
        let dbs_age_days = rng.between(30, 4 * 365);
        let pa_id = id();
        let codes = held_codes(level, &mut rng);
        for code in &codes {
            let Some(competency) = competencies.get(*code) else {
                continue;
            };
            let trained_on = shape.today - Days::new(rng.between(30, 700));
            // One certificate in twenty has lapsed.
            let expires_on = if rng.chance(5) {
                shape.today - Days::new(rng.between(1, 90))
            } else {
                trained_on + Days::new(3 * 365)
            };
            evidence.push(EvidenceRow {
                id: id(),
                pa_id: pa_id.clone(),
                competency_id: competency.id.clone(),
                trained_on,
                expires_on: Some(expires_on),
                evidence_reference: None,
                verified_by: shape.team_managers.first().cloned(),
                verified_at: Some(shape.now),
                revoked_at: None,
                created_at: shape.now,
            });
        }
        held_by_pa.insert(pa_id.clone(), codes);
        let mut languages = vec!["English".to_owned()];
        if rng.chance(12) {
            languages.push(
                (*rng.pick(&["Urdu", "Punjabi", "Bengali", "Polish", "Gujarati"])).to_owned(),
            );
        }
        pas.push(PaProfileRow {
            id: pa_id,
            organisation_id: shape.organisation_id.to_owned(),
            user_id: None,
            display_name: format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&SURNAMES)),
            phone: None,
            email: None,
            postcode: district.clone(),
            district,
            latitude: location.latitude,
            longitude: location.longitude,
            max_travel_km: rng.between(5, 25) as f64,
            drives: rng.chance(70),
            has_car: rng.chance(60),
            smoker: rng.chance(15),
            comfortable_with_pets: rng.chance(80),
            languages: crate::db::json::to_text(&languages)?,
            gender: Some(if rng.chance(75) { "female" } else { "male" }.into()),
            availability: crate::db::json::to_text(&availability(&mut rng))?,
            wanted_minutes_per_week: i32::try_from(rng.between(16, 45) * 60).unwrap_or(1200),
            min_hourly_pay_pence: Pence::new(
                i64::try_from(rng.between(1271, 1600)).unwrap_or(1300),
            ),
            dbs_issued_on: Some(shape.today - Days::new(dbs_age_days)),
            dbs_update_service: rng.chance(50),
            dbs_verified_by: shape.team_managers.first().cloned(),
            dbs_verified_at: Some(shape.now),
            right_to_work_checked_on: Some(shape.today - Days::new(dbs_age_days)),
            right_to_work_expires_on: None,
            right_to_work_verified_by: shape.team_managers.first().cloned(),
            right_to_work_verified_at: Some(shape.now),
            active: true,
            revision,
            created_at: shape.now,
            updated_at: shape.now,
        });
    }
    // Batches stay under PostgreSQL's 65,535 bind parameters.
    for chunk in pas.chunks(1000) {
        repo::insert_pas_batch(conn, chunk)?;
    }
    for chunk in evidence.chunks(5000) {
        repo::insert_evidence_batch(conn, chunk)?;
    }
    let mut recruits: HashMap<&str, Recruit> = HashMap::with_capacity(pas.len());
    for pa in &pas {
        let windows: Vec<WeeklyWindow> =
            crate::db::json::from_text("availability", &pa.availability)?;
        recruits.insert(
            &pa.id,
            Recruit {
                codes: held_by_pa.remove(&pa.id).unwrap_or_default(),
                availability: availability_spans("availability", &windows).unwrap_or_default(),
                free_minutes: u32::try_from(pa.wanted_minutes_per_week).unwrap_or(0),
            },
        );
    }

    let mut holders = Vec::with_capacity(shape.budget_holders);
    for n in 0..shape.budget_holders {
        let (district, location) = rng.pick(shape.districts).clone();
        let level = match rng.between(0, 99) {
            0..=9 => 1,
            10..=39 => 2,
            40..=74 => 3,
            _ => 4,
        };
        let required: Vec<&'static str> = required_codes(level, &mut rng);
        let preferences = Preferences {
            pa_gender: rng
                .chance(40)
                .then_some(crate::market::model::Gender::Female),
            languages: if rng.chance(15) {
                vec!["Urdu".into()]
            } else {
                Vec::new()
            },
            driver: rng.chance(30),
            non_smoker: rng.chance(50),
            pets_in_home: rng.chance(25),
        };
        let holder = BudgetHolderRow {
            id: id(),
            organisation_id: shape.organisation_id.to_owned(),
            team_manager_id: shape.team_managers[n % shape.team_managers.len()].clone(),
            user_id: None,
            representative_user_id: None,
            representative_consent_on: None,
            display_name: format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&SURNAMES)),
            representative_name: None,
            postcode: district.clone(),
            district,
            latitude: location.latitude,
            longitude: location.longitude,
            funding: (*rng.pick(&["phb", "chc", "chc", "integrated"])).into(),
            minimum_level: level,
            support_needs: crate::db::json::to_text(&support_needs(level, &mut rng))?,
            preferences: crate::db::json::to_text(&preferences)?,
            affordable_hourly_pay_pence: Some(Pence::new(
                i64::try_from(rng.between(1350, 1700)).unwrap_or(1500),
            )),
            active: true,
            created_at: shape.now,
            updated_at: shape.now,
        };
        repo::insert_budget_holder(conn, &holder)?;
        let ids: Vec<String> = required
            .iter()
            .filter_map(|c| competencies.get(*c))
            .map(|c| c.id.clone())
            .collect();
        repo::replace_requirements(conn, &holder.id, &ids)?;
        if shape.with_teams {
            build_team(
                conn,
                shape,
                &holder,
                &required,
                &pas,
                &mut recruits,
                &competencies,
                &mut id,
            )?;
        }
        holders.push(holder.id);
    }
    Ok(GeneratedMarket {
        pa_ids: pas.into_iter().map(|p| p.id).collect(),
        budget_holder_ids: holders,
    })
}

/// What recruiting a PA to a team looks at.
struct Recruit {
    codes: Vec<&'static str>,
    availability: Vec<Span>,
    /// Minutes a week the PA wants and no earlier team has taken.
    free_minutes: u32,
}

/// The most PAs a person's team is recruited to.
const MOST_IN_TEAM: usize = 16;
/// Each need's minutes are recruited for with this much to spare (leave, sickness, rest), in
/// percent.
const RECRUIT_SPARE_PERCENT: u32 = 125;

/// The person's team, recruited around their needs as a team manager would: PAs within their
/// own travel who hold everything the person needs, nearest first, each taken when their
/// availability holds minutes of the person's support still short of PAs and they have hours
/// no earlier team took; until every need has its PA-minutes with some to spare, or
/// `MOST_IN_TEAM`. A clinician signs each off for the person's delegated tasks.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all of it generation state"
)]
fn build_team(
    conn: &mut DbConnection,
    shape: &MarketShape<'_>,
    holder: &BudgetHolderRow,
    required: &[&'static str],
    pas: &[PaProfileRow],
    recruits: &mut HashMap<&str, Recruit>,
    competencies: &HashMap<String, CompetencyRow>,
    id: &mut impl FnMut() -> String,
) -> AppResult<()> {
    let home = Location {
        latitude: holder.latitude,
        longitude: holder.longitude,
    };
    // Distance first: it is cheap and rules out nearly everyone on a national data set.
    let mut near: Vec<(f64, &PaProfileRow)> = pas
        .iter()
        .map(|p| {
            let location = Location {
                latitude: p.latitude,
                longitude: p.longitude,
            };
            (crate::geo::distance_km(home, location), p)
        })
        .filter(|(d, p)| *d <= p.max_travel_km)
        .filter(|(_, p)| {
            let held = recruits.get(p.id.as_str());
            required
                .iter()
                .all(|c| held.is_some_and(|h| h.codes.contains(c)))
        })
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let needs: Vec<SupportNeed> =
        crate::db::json::from_text("support_needs", &holder.support_needs)?;
    // PA-minutes a week each need still lacks.
    let mut short: Vec<(Span, u32)> = need_spans("support_needs", &needs)
        .unwrap_or_default()
        .into_iter()
        .map(|(span, headcount)| {
            let wanted = span.minutes() * u32::from(headcount) * RECRUIT_SPARE_PERCENT / 100;
            (span, wanted)
        })
        .collect();
    let mut team = Vec::new();
    for (_, pa) in near {
        if team.len() >= MOST_IN_TEAM || short.iter().all(|(_, left)| *left == 0) {
            break;
        }
        let Some(recruit) = recruits.get_mut(pa.id.as_str()) else {
            continue;
        };
        let mut given = 0;
        for (span, left) in &mut short {
            if recruit.free_minutes == 0 {
                break;
            }
            if *left == 0 || covered_minutes(&[*span], &recruit.availability) < span.minutes() {
                continue;
            }
            let take = (*left).min(span.minutes()).min(recruit.free_minutes);
            *left -= take;
            recruit.free_minutes -= take;
            given += take;
        }
        if given > 0 {
            team.push(pa);
        }
    }
    for pa in team {
        for code in required {
            let Some(competency) = competencies.get(*code) else {
                continue;
            };
            if competency.level >= crate::market::model::FIRST_DELEGATED_LEVEL {
                repo::insert_signoff(
                    conn,
                    &SignOffRow {
                        id: id(),
                        pa_id: pa.id.clone(),
                        competency_id: competency.id.clone(),
                        budget_holder_id: holder.id.clone(),
                        clinician_name: "Jo Clegg".into(),
                        clinician_role: "Community nurse".into(),
                        signed_off_on: shape.today - Days::new(60),
                        expires_on: None,
                        recorded_by: holder.team_manager_id.clone(),
                        recorded_at: shape.now,
                        revoked_at: None,
                    },
                )?;
            }
        }
        repo::add_team_member(
            conn,
            &TeamMemberRow {
                id: id(),
                budget_holder_id: holder.id.clone(),
                pa_id: pa.id.clone(),
                added_by: holder.team_manager_id.clone(),
                added_at: shape.now,
                removed_at: None,
            },
        )?;
    }
    Ok(())
}

//! A random walk through every door a PA can get onto a shift by (generate, edit, swap, accept,
//! decline, publish) mixed with changes to the facts the safety rules read (evidence, DBS,
//! do-not-match, leave, deactivation), across two managers. After every step an independent
//! checker, written here from the tables and not from the gate, judges every published shift
//! from scratch on its own date:
//!
//! - a door never adds a breach to a published shift (breaches come only from facts changing);
//! - a roster just generated breaks no rule;
//! - after a fact changes, the daily look ahead marks exactly the published shifts of the next
//!   eight weeks whose PA the checker finds unsafe.
//!
//! `PAROTA_SAFETY_WALK_STEPS` (default 60) and `PAROTA_SAFETY_WALK_SEED` set the walk.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use parota::auth::Role;
use parota::db::schema::*;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestOrganisation, TestUser};

/// SplitMix64: the walk must be repeatable from its seed.
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
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

// --- the independent checker -------------------------------------------------------------------

const DBS_RENEWAL_MONTHS: u32 = 36;
const DAILY_REST: i64 = 11 * 60;
const WEEKLY_REST: i64 = 24 * 60;
const WEEKLY_CAP: i64 = 48 * 60;
const TIME_RULES: [&str; 5] = [
    "double_booking",
    "daily_rest",
    "weekly_rest",
    "weekly_hours",
    "half_staffed",
];

struct Pa {
    lat: f64,
    lon: f64,
    max_km: f64,
    active: bool,
    availability: Vec<(String, String, String)>,
    dbs: Option<(NaiveDate, bool, bool)>,
    rtw: Option<(Option<NaiveDate>, bool)>,
    /// (competency, level, trained, expires, verified, revoked)
    evidence: Vec<(String, i32, NaiveDate, Option<NaiveDate>, bool, bool)>,
    /// (competency, person, signed, expires, revoked)
    signoffs: Vec<(String, String, NaiveDate, Option<NaiveDate>, bool)>,
    leave: Vec<(NaiveDate, NaiveDate)>,
}

struct Person {
    lat: f64,
    lon: f64,
    minimum_level: i32,
    required: Vec<(String, i32)>,
    barred: Vec<String>,
}

struct Shift {
    id: String,
    roster: String,
    holder: String,
    date: NaiveDate,
    start: String,
    end: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    headcount: i32,
    pas: Vec<String>,
}

/// (shift id, or roster id and week, PA id, rule)
type Breach = (String, String, &'static str);

fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

fn weekday_name(d: NaiveDate) -> &'static str {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ][d.weekday().num_days_from_monday() as usize]
}

/// The rules about a PA and a person that working `shift` breaks, judged on its first and
/// last day.
fn eligibility(
    pa: &Pa,
    person: &Person,
    holder: &str,
    pa_id: &str,
    shift: &Shift,
) -> Vec<&'static str> {
    let mut broken = BTreeSet::new();
    let last = parota::time::london_local((shift.ends_at - Duration::minutes(1)).and_utc()).date();
    if !pa.active {
        broken.insert("active");
    }
    if pa.leave.iter().any(|(a, b)| *a <= last && shift.date <= *b) {
        broken.insert("leave");
    }
    for day in [shift.date, last] {
        let dbs_ok = pa.dbs.is_some_and(|(issued, update, verified)| {
            verified
                && (update
                    || day
                        < issued
                            .checked_add_months(chrono::Months::new(DBS_RENEWAL_MONTHS))
                            .unwrap())
        });
        if !dbs_ok {
            broken.insert("dbs");
        }
        if !pa
            .rtw
            .is_some_and(|(until, verified)| verified && until.is_none_or(|u| day < u))
        {
            broken.insert("right_to_work");
        }
        let evidence_ok = |e: &(String, i32, NaiveDate, Option<NaiveDate>, bool, bool)| {
            e.4 && !e.5 && e.2 <= day && e.3.is_none_or(|x| day < x)
        };
        let signed = |c: &str| {
            pa.signoffs.iter().any(|s| {
                s.0 == c && s.1 == holder && !s.4 && s.2 <= day && s.3.is_none_or(|x| day < x)
            })
        };
        for (c, level) in &person.required {
            let held = pa.evidence.iter().any(|e| e.0 == *c && evidence_ok(e));
            if !held || (*level >= 3 && !signed(c)) {
                broken.insert("competency");
            }
        }
        let level = pa
            .evidence
            .iter()
            .filter(|e| evidence_ok(e) && (e.1 < 3 || signed(&e.0)))
            .map(|e| e.1)
            .max()
            .unwrap_or(0);
        if level < person.minimum_level {
            broken.insert("level");
        }
    }
    if km((pa.lat, pa.lon), (person.lat, person.lon)) > pa.max_km {
        broken.insert("distance");
    }
    if person.barred.iter().any(|b| b == pa_id) {
        broken.insert("do_not_match");
    }
    let day = weekday_name(shift.date);
    if !pa
        .availability
        .iter()
        .any(|(d, a, b)| d == day && *a <= shift.start && shift.end <= *b)
    {
        broken.insert("availability");
    }
    broken.into_iter().collect()
}

struct Facts {
    pas: HashMap<String, Pa>,
    people: HashMap<String, Person>,
    /// Published shifts.
    shifts: Vec<Shift>,
    /// Published rosters' dates.
    rosters: HashMap<String, (NaiveDate, NaiveDate)>,
}

fn load(conn: &mut parota::db::DbConnection) -> Facts {
    let levels: HashMap<String, i32> = competencies::table
        .select((competencies::id, competencies::level))
        .load::<(String, i32)>(conn)
        .unwrap()
        .into_iter()
        .collect();
    let mut pas = HashMap::new();
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        f64,
        f64,
        f64,
        bool,
        String,
        Option<NaiveDate>,
        bool,
        Option<NaiveDateTime>,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<NaiveDateTime>,
    )> = pa_profiles::table
        .select((
            pa_profiles::id,
            pa_profiles::latitude,
            pa_profiles::longitude,
            pa_profiles::max_travel_km,
            pa_profiles::active,
            pa_profiles::availability,
            pa_profiles::dbs_issued_on,
            pa_profiles::dbs_update_service,
            pa_profiles::dbs_verified_at,
            pa_profiles::right_to_work_checked_on,
            pa_profiles::right_to_work_expires_on,
            pa_profiles::right_to_work_verified_at,
        ))
        .load(conn)
        .unwrap();
    for r in rows {
        let windows: Vec<Value> = serde_json::from_str(&r.5).unwrap();
        pas.insert(
            r.0.clone(),
            Pa {
                lat: r.1,
                lon: r.2,
                max_km: r.3,
                active: r.4,
                availability: windows
                    .iter()
                    .map(|w| {
                        (
                            w["day"].as_str().unwrap().to_owned(),
                            w["start"].as_str().unwrap().to_owned(),
                            w["end"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect(),
                dbs: r.6.map(|issued| (issued, r.7, r.8.is_some())),
                rtw: r.9.map(|_| (r.10, r.11.is_some())),
                evidence: Vec::new(),
                signoffs: Vec::new(),
                leave: Vec::new(),
            },
        );
    }
    for (pa, c, trained, expires, verified, revoked) in pa_competencies::table
        .select((
            pa_competencies::pa_id,
            pa_competencies::competency_id,
            pa_competencies::trained_on,
            pa_competencies::expires_on,
            pa_competencies::verified_at,
            pa_competencies::revoked_at,
        ))
        .load::<(
            String,
            String,
            NaiveDate,
            Option<NaiveDate>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )>(conn)
        .unwrap()
    {
        let level = levels[&c];
        pas.get_mut(&pa).unwrap().evidence.push((
            c,
            level,
            trained,
            expires,
            verified.is_some(),
            revoked.is_some(),
        ));
    }
    for (pa, c, holder, on, expires, revoked) in clinical_signoffs::table
        .select((
            clinical_signoffs::pa_id,
            clinical_signoffs::competency_id,
            clinical_signoffs::budget_holder_id,
            clinical_signoffs::signed_off_on,
            clinical_signoffs::expires_on,
            clinical_signoffs::revoked_at,
        ))
        .load::<(
            String,
            String,
            String,
            NaiveDate,
            Option<NaiveDate>,
            Option<NaiveDateTime>,
        )>(conn)
        .unwrap()
    {
        pas.get_mut(&pa)
            .unwrap()
            .signoffs
            .push((c, holder, on, expires, revoked.is_some()));
    }
    for (pa, a, b) in pa_unavailability::table
        .select((
            pa_unavailability::pa_id,
            pa_unavailability::starts_on,
            pa_unavailability::ends_on,
        ))
        .load::<(String, NaiveDate, NaiveDate)>(conn)
        .unwrap()
    {
        pas.get_mut(&pa).unwrap().leave.push((a, b));
    }
    let mut people = HashMap::new();
    for (id, lat, lon, minimum_level) in budget_holders::table
        .select((
            budget_holders::id,
            budget_holders::latitude,
            budget_holders::longitude,
            budget_holders::minimum_level,
        ))
        .load::<(String, f64, f64, i32)>(conn)
        .unwrap()
    {
        people.insert(
            id,
            Person {
                lat,
                lon,
                minimum_level,
                required: Vec::new(),
                barred: Vec::new(),
            },
        );
    }
    for (holder, c) in budget_holder_requirements::table
        .select((
            budget_holder_requirements::budget_holder_id,
            budget_holder_requirements::competency_id,
        ))
        .load::<(String, String)>(conn)
        .unwrap()
    {
        let level = levels[&c];
        people.get_mut(&holder).unwrap().required.push((c, level));
    }
    for (holder, pa) in do_not_match::table
        .filter(do_not_match::removed_at.is_null())
        .select((do_not_match::budget_holder_id, do_not_match::pa_id))
        .load::<(String, String)>(conn)
        .unwrap()
    {
        people.get_mut(&holder).unwrap().barred.push(pa);
    }
    let rosters: HashMap<String, (NaiveDate, NaiveDate)> = rosters::table
        .filter(rosters::status.eq("published"))
        .select((rosters::id, rosters::from_date, rosters::to_date))
        .load::<(String, NaiveDate, NaiveDate)>(conn)
        .unwrap()
        .into_iter()
        .map(|(id, a, b)| (id, (a, b)))
        .collect();
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        String,
        String,
        NaiveDate,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        i32,
    )> = roster_shifts::table
        .inner_join(rosters::table)
        .filter(rosters::status.eq("published"))
        .select((
            roster_shifts::id,
            roster_shifts::roster_id,
            roster_shifts::budget_holder_id,
            roster_shifts::shift_date,
            roster_shifts::start_local,
            roster_shifts::end_local,
            roster_shifts::starts_at,
            roster_shifts::ends_at,
            roster_shifts::headcount,
        ))
        .load(conn)
        .unwrap();
    let mut on: HashMap<String, Vec<String>> = HashMap::new();
    for (shift, pa) in roster_assignments::table
        .select((
            roster_assignments::roster_shift_id,
            roster_assignments::pa_id,
        ))
        .load::<(String, String)>(conn)
        .unwrap()
    {
        on.entry(shift).or_default().push(pa);
    }
    let shifts = rows
        .into_iter()
        .map(|r| Shift {
            pas: on.remove(&r.0).unwrap_or_default(),
            id: r.0,
            roster: r.1,
            holder: r.2,
            date: r.3,
            start: r.4,
            end: r.5,
            starts_at: r.6,
            ends_at: r.7,
            headcount: r.8,
        })
        .collect();
    Facts {
        pas,
        people,
        shifts,
        rosters,
    }
}

/// Every breach on published shifts, from scratch.
fn breaches(f: &Facts) -> BTreeSet<Breach> {
    let mut out = BTreeSet::new();
    let mut by_pa: HashMap<&str, Vec<&Shift>> = HashMap::new();
    for s in &f.shifts {
        let mut distinct = s.pas.clone();
        distinct.sort();
        distinct.dedup();
        if !s.pas.is_empty() && (distinct.len() != s.pas.len() || s.pas.len() as i32 != s.headcount)
        {
            out.insert((s.id.clone(), String::new(), "half_staffed"));
        }
        for p in &distinct {
            let person = &f.people[&s.holder];
            for rule in eligibility(&f.pas[p], person, &s.holder, p, s) {
                out.insert((s.id.clone(), p.clone(), rule));
            }
        }
        for p in &s.pas {
            by_pa.entry(p.as_str()).or_default().push(s);
        }
    }
    for (pa, mut theirs) in by_pa {
        theirs.sort_by_key(|s| s.starts_at);
        let minutes = |a: NaiveDateTime, b: NaiveDateTime| (b - a).num_minutes();
        // Double booking, with travel between different homes.
        for (i, a) in theirs.iter().enumerate() {
            for b in &theirs[i + 1..] {
                let travel = if a.holder == b.holder {
                    0
                } else {
                    let (x, y) = (&f.people[&a.holder], &f.people[&b.holder]);
                    (km((x.lat, x.lon), (y.lat, y.lon)) / 30.0 * 60.0).round() as i64 + 10
                };
                if minutes(b.starts_at, a.ends_at) + travel > 0
                    && minutes(a.starts_at, b.ends_at) + travel > 0
                {
                    out.insert((a.id.clone(), pa.to_owned(), "double_booking"));
                    out.insert((b.id.clone(), pa.to_owned(), "double_booking"));
                }
            }
        }
        // Daily rest: working periods (shifts less than 11 h apart) span at most 13 h.
        let mut period: Vec<&Shift> = Vec::new();
        let flush = |period: &mut Vec<&Shift>, out: &mut BTreeSet<Breach>| {
            if let (Some(first), Some(end)) =
                (period.first(), period.iter().map(|s| s.ends_at).max())
            {
                if minutes(first.starts_at, end) > 24 * 60 - DAILY_REST {
                    for s in period.iter() {
                        out.insert((s.id.clone(), pa.to_owned(), "daily_rest"));
                    }
                }
            }
            period.clear();
        };
        for s in &theirs {
            let end = period.iter().map(|p| p.ends_at).max();
            if end.is_some_and(|e| minutes(e, s.starts_at) >= DAILY_REST) {
                flush(&mut period, &mut out);
            }
            period.push(s);
        }
        flush(&mut period, &mut out);
        // Weekly rest and the weekly cap, over the weeks of each roster the PA works in.
        let rosters: BTreeSet<&str> = theirs.iter().map(|s| s.roster.as_str()).collect();
        for r in rosters {
            let (from, to) = f.rosters[r];
            let weeks = ((to - from).num_days() + 1 + 6) / 7;
            let epoch =
                parota::time::london_instant(from.and_time(chrono::NaiveTime::MIN)).naive_utc();
            let worked: i64 = theirs
                .iter()
                .filter(|s| s.starts_at >= epoch && s.starts_at < epoch + Duration::days(7 * weeks))
                .map(|s| minutes(s.starts_at, s.ends_at))
                .sum();
            if worked > WEEKLY_CAP * weeks {
                out.insert((r.to_owned(), pa.to_owned(), "weekly_hours"));
            }
            for k in 0..weeks {
                let (a, b) = (
                    epoch + Duration::days(7 * k),
                    epoch + Duration::days(7 * (k + 1)),
                );
                let mut free_from = a;
                let mut longest = 0;
                for s in theirs.iter().filter(|s| s.ends_at > a && s.starts_at < b) {
                    longest = longest.max(minutes(free_from, s.starts_at.max(a)));
                    free_from = free_from.max(s.ends_at.min(b));
                }
                longest = longest.max(minutes(free_from, b));
                if longest < WEEKLY_REST {
                    out.insert((format!("{r}:{k}"), pa.to_owned(), "weekly_rest"));
                }
            }
        }
    }
    out
}

// --- the walk --------------------------------------------------------------------------------

struct Walk {
    app: TestApp,
    organisation: TestOrganisation,
    managers: Vec<TestUser>,
    /// (budget holder id, manager index)
    people: Vec<(String, usize)>,
    /// (PA id, login)
    pas: Vec<(String, TestUser)>,
    competencies: Vec<String>,
    /// (roster id, manager index)
    rosters: Vec<(String, usize)>,
    windows: Vec<(NaiveDate, NaiveDate)>,
    rng: Rng,
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl Walk {
    async fn new(seed: u64) -> Self {
        let app = TestApp::spawn().await;
        let organisation = app.provider();
        let managers = vec![
            app.user(&organisation, Role::TeamManager),
            app.user(&organisation, Role::TeamManager),
        ];
        let care = crate::helpers::competency_id(&app, &managers[0].token, "personal_care").await;
        let meds =
            crate::helpers::competency_id(&app, &managers[0].token, "medication_administration")
                .await;
        let today = Utc::now().date_naive();
        let base = today + Duration::days(14 - i64::from(today.weekday().num_days_from_monday()));
        let mut walk = Self {
            app,
            organisation,
            managers,
            people: Vec::new(),
            pas: Vec::new(),
            competencies: vec![care.clone(), meds.clone()],
            rosters: Vec::new(),
            windows: vec![
                (base, base + Duration::days(13)),
                (base + Duration::days(14), base + Duration::days(27)),
            ],
            rng: Rng(seed),
        };
        let people = [
            (
                0,
                "BB11 2AB",
                2,
                vec![care.clone()],
                json!([
                    {"day": "monday", "start": "09:00", "end": "13:00"},
                    {"day": "tuesday", "start": "09:00", "end": "13:00"},
                    {"day": "thursday", "start": "09:00", "end": "13:00"},
                    {"day": "friday", "start": "09:00", "end": "13:00"}
                ]),
            ),
            (
                0,
                "BB11 2AB",
                3,
                vec![meds.clone()],
                json!([
                    {"day": "monday", "start": "14:00", "end": "20:00"},
                    {"day": "wednesday", "start": "14:00", "end": "20:00"},
                    {"day": "saturday", "start": "09:00", "end": "12:00", "headcount": 2}
                ]),
            ),
            (
                1,
                "BB10 1AA",
                2,
                vec![care.clone()],
                json!([
                    {"day": "tuesday", "start": "08:00", "end": "16:00"},
                    {"day": "thursday", "start": "08:00", "end": "20:00"},
                    {"day": "saturday", "start": "08:00", "end": "16:00"}
                ]),
            ),
            (
                1,
                "BB11 3AA",
                1,
                vec![],
                json!([
                    {"day": "sunday", "start": "10:00", "end": "22:00"},
                    {"day": "wednesday", "start": "18:00", "end": "22:30"},
                    {"day": "monday", "start": "06:00", "end": "09:00", "headcount": 2}
                ]),
            ),
        ];
        for (i, (manager, postcode, level, required, needs)) in people.into_iter().enumerate() {
            let token = walk.managers[manager].token.clone();
            let created = walk
                .app
                .post_json(
                    "/api/v1/budget-holders",
                    Some(&token),
                    &json!({
                        "display_name": format!("Person {i}"),
                        "postcode": postcode,
                        "funding": "chc",
                        "minimum_level": level,
                        "required_competencies": required,
                        "support_needs": needs
                    }),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.text);
            let holder = created.body["id"].as_str().unwrap().to_owned();
            crate::helpers::approved_budget(
                &walk.app,
                &token,
                &holder,
                (today, today + Duration::days(120)),
                50_000_000,
            )
            .await;
            walk.people.push((holder, manager));
        }
        for i in 0..8 {
            walk.add_pa(i, base).await;
        }
        walk
    }

    fn token(&self, manager: usize) -> String {
        self.managers[manager].token.clone()
    }

    async fn add_pa(&mut self, i: usize, base: NaiveDate) {
        let days: Vec<Value> = DAYS
            .iter()
            .filter(|_| self.rng.chance(75))
            .map(|d| json!({"day": d, "start": "06:00", "end": "23:00"}))
            .collect();
        let dbs = if self.rng.chance(75) {
            json!({"issued_on": "2025-06-01", "update_service": true})
        } else {
            // Three years old somewhere in the walk's four weeks.
            let renew = base + Duration::days(self.rng.below(28) as i64);
            json!({"issued_on": renew.checked_sub_months(chrono::Months::new(36)).unwrap()})
        };
        let token = self.token(0);
        let created = self
            .app
            .post_json(
                "/api/v1/pas",
                Some(&token),
                &json!({
                    "display_name": format!("PA {i}"),
                    "email": format!("pa{i}@pa.example.test"),
                    "postcode": if i % 2 == 0 { "BB11 3AA" } else { "BB11 2AB" },
                    "max_travel_km": 20,
                    "availability": days,
                    "wanted_hours_per_week": 30,
                    "min_hourly_pay_pence": 1300,
                    "dbs": dbs,
                    "right_to_work": {"checked_on": "2025-06-01"}
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        self.add_evidence(&id, 0).await;
        if self.rng.chance(60) {
            self.add_evidence(&id, 1).await;
            self.add_signoff(&id).await;
        }
        let login = self.app.user(&self.organisation, Role::Pa);
        diesel::update(pa_profiles::table.find(&id))
            .set(pa_profiles::user_id.eq(&login.id))
            .execute(&mut self.app.conn())
            .unwrap();
        self.pas.push((id, login));
    }

    fn some_day(&mut self) -> NaiveDate {
        self.windows[0].0 + Duration::days(self.rng.below(30) as i64 - 1)
    }

    async fn add_evidence(&mut self, pa: &str, competency: usize) {
        let expires = self.rng.chance(50).then(|| self.some_day());
        let trained = if self.rng.chance(10) {
            self.some_day()
        } else {
            "2025-01-10".parse().unwrap()
        };
        let c = self.competencies[competency].clone();
        let token = self.token(0);
        let r = self
            .app
            .post_json(
                &format!("/api/v1/pas/{pa}/competencies"),
                Some(&token),
                &json!({"competency_id": c, "trained_on": trained, "expires_on": expires}),
            )
            .await;
        assert!(!r.status.is_server_error(), "{}", r.text);
    }

    async fn add_signoff(&mut self, pa: &str) {
        let expires = self.rng.chance(40).then(|| self.some_day());
        let holder = self.people[1].0.clone();
        let token = self.token(0);
        let r = self
            .app
            .post_json(
                &format!("/api/v1/pas/{pa}/signoffs"),
                Some(&token),
                &json!({
                    "competency_id": self.competencies[1],
                    "budget_holder_id": holder,
                    "clinician_name": "Jo Nurse",
                    "clinician_role": "Community nurse",
                    "signed_off_on": "2025-01-10",
                    "expires_on": expires
                }),
            )
            .await;
        assert!(!r.status.is_server_error(), "{}", r.text);
    }

    async fn roster(&self, id: &str, manager: usize) -> Value {
        let read = self
            .app
            .get(&format!("/api/v1/rosters/{id}"), Some(&self.token(manager)))
            .await;
        assert_eq!(read.status, 200, "{}", read.text);
        read.body
    }

    /// One step; returns whether it was a door (else it changed facts).
    async fn step(&mut self) -> (bool, String) {
        let roll = self.rng.below(100);
        if roll < 10 {
            let manager = self.rng.below(2);
            let window = *self.rng.pick(&self.windows.clone()).unwrap();
            let ids: Vec<String> = self
                .people
                .iter()
                .filter(|(_, m)| *m == manager)
                .map(|(h, _)| h.clone())
                .collect();
            let made = self
                .app
                .post_json(
                    "/api/v1/rosters",
                    Some(&self.token(manager)),
                    &json!({"budget_holder_ids": ids, "from": window.0, "to": window.1, "seed": self.rng.below(1000), "time_limit_ms": 60}),
                )
                .await;
            assert_eq!(made.status, 201, "{}", made.text);
            let id = made.body["id"].as_str().unwrap().to_owned();
            self.rosters.push((id.clone(), manager));
            return (true, format!("generate {id}"));
        }
        if roll < 22 {
            let drafts: Vec<(String, usize)> = self.rosters.clone();
            let Some((id, manager)) = self.rng.pick(&drafts).cloned() else {
                return (true, "publish: none".into());
            };
            let roster = self.roster(&id, manager).await;
            let r = self
                .app
                .send(
                    actix_web::test::TestRequest::post()
                        .uri(&format!("/api/v1/rosters/{id}/publication"))
                        .insert_header(("authorization", format!("Bearer {}", self.token(manager))))
                        .insert_header(("If-Match", format!("\"{}\"", roster["version"]))),
                )
                .await;
            assert!(!r.status.is_server_error(), "{}", r.text);
            return (true, format!("publish {id}: {}", r.status));
        }
        if roll < 47 {
            return (true, self.edit().await);
        }
        if roll < 65 {
            let (pa, login) = self.pas[self.rng.below(self.pas.len())].clone();
            let offered = self
                .app
                .get("/api/v1/pas/me/open-shifts", Some(&login.token))
                .await;
            assert_eq!(offered.status, 200, "{}", offered.text);
            let offers = offered.body.as_array().unwrap().clone();
            // Mostly an offered shift; sometimes any open shift, offered or not.
            let shift = if self.rng.chance(70) && !offers.is_empty() {
                self.rng.pick(&offers).unwrap()["shift_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                let open: Vec<String> = self.open_shifts();
                let Some(s) = self.rng.pick(&open).cloned() else {
                    return (true, "accept: none".into());
                };
                s
            };
            let r = self
                .app
                .post_json(
                    &format!("/api/v1/roster-shifts/{shift}/acceptance"),
                    Some(&login.token),
                    &json!({}),
                )
                .await;
            assert!(!r.status.is_server_error(), "{}", r.text);
            return (true, format!("accept {shift} by {pa}: {}", r.status));
        }
        if roll < 68 {
            let (_, login) = self.pas[self.rng.below(self.pas.len())].clone();
            let open = self.open_shifts();
            if let Some(shift) = self.rng.pick(&open).cloned() {
                let r = self
                    .app
                    .post_json(
                        &format!("/api/v1/roster-shifts/{shift}/decline"),
                        Some(&login.token),
                        &json!({}),
                    )
                    .await;
                assert!(!r.status.is_server_error(), "{}", r.text);
            }
            return (true, "decline".into());
        }
        if roll < 78 {
            return (true, self.swap().await);
        }
        (false, self.change_facts().await)
    }

    fn open_shifts(&mut self) -> Vec<String> {
        let mut conn = self.app.conn();
        roster_shifts::table
            .inner_join(rosters::table)
            .filter(rosters::status.eq("published"))
            .filter(roster_shifts::starts_at.gt(Utc::now().naive_utc()))
            .select(roster_shifts::id)
            .load::<String>(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|s| {
                roster_assignments::table
                    .filter(roster_assignments::roster_shift_id.eq(s))
                    .count()
                    .get_result::<i64>(&mut conn)
                    .unwrap()
                    == 0
            })
            .collect()
    }

    async fn edit(&mut self) -> String {
        let all = self.rosters.clone();
        let Some((id, manager)) = self.rng.pick(&all).cloned() else {
            return "edit: none".into();
        };
        let roster = self.roster(&id, manager).await;
        let shifts = roster["shifts"].as_array().unwrap().clone();
        let pa_ids: Vec<String> = self.pas.iter().map(|(p, _)| p.clone()).collect();
        let shift = self.rng.pick(&shifts).unwrap().clone();
        let on: Vec<String> = shift["pa_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        let body = match self.rng.below(4) {
            0 => {
                let mut chosen: Vec<String> = Vec::new();
                while chosen.len() < shift["headcount"].as_u64().unwrap() as usize {
                    let p = self.rng.pick(&pa_ids).unwrap().clone();
                    if !chosen.contains(&p) {
                        chosen.push(p);
                    }
                }
                json!({"action": "assign", "shift_id": shift["id"], "pa_ids": chosen})
            }
            1 => json!({"action": "unassign", "shift_id": shift["id"]}),
            2 => {
                let Some(pa) = on.first() else {
                    return "edit move: empty".into();
                };
                let to = self.rng.pick(&shifts).unwrap().clone();
                json!({"action": "move", "shift_id": shift["id"], "pa_id": pa, "to_shift_id": to["id"]})
            }
            _ => {
                let other = self.rng.pick(&shifts).unwrap().clone();
                let (Some(a), Some(b)) = (on.first(), other["pa_ids"].as_array().unwrap().first())
                else {
                    return "edit swap: empty".into();
                };
                json!({"action": "swap", "shift_id": shift["id"], "pa_id": a, "other_shift_id": other["id"], "other_pa_id": b})
            }
        };
        let r = self
            .app
            .send(
                actix_web::test::TestRequest::post()
                    .uri(&format!("/api/v1/rosters/{id}/edits"))
                    .insert_header(("authorization", format!("Bearer {}", self.token(manager))))
                    .insert_header(("If-Match", format!("\"{}\"", roster["version"])))
                    .set_json(body.clone()),
            )
            .await;
        assert!(!r.status.is_server_error(), "{}", r.text);
        format!("edit {id} {body}: {}", r.status)
    }

    async fn swap(&mut self) -> String {
        let published: Vec<(String, usize)> = {
            let mut conn = self.app.conn();
            let ids: Vec<String> = rosters::table
                .filter(rosters::status.eq("published"))
                .select(rosters::id)
                .load(&mut conn)
                .unwrap();
            self.rosters
                .iter()
                .filter(|(r, _)| ids.contains(r))
                .cloned()
                .collect()
        };
        let Some((id, manager)) = self.rng.pick(&published).cloned() else {
            return "swap: none".into();
        };
        let roster = self.roster(&id, manager).await;
        let staffed: Vec<Value> = roster["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !s["pa_ids"].as_array().unwrap().is_empty())
            .cloned()
            .collect();
        let Some(shift) = self.rng.pick(&staffed).cloned() else {
            return "swap: nothing staffed".into();
        };
        let me = shift["pa_ids"][0].as_str().unwrap().to_owned();
        let login = |pa: &str| self.pas.iter().find(|(p, _)| p == pa).unwrap().1.clone();
        let colleague = self.pas[self.rng.below(self.pas.len())].0.clone();
        let asked = self
            .app
            .post_json(
                &format!(
                    "/api/v1/roster-shifts/{}/swap-requests",
                    shift["id"].as_str().unwrap()
                ),
                Some(&login(&me).token),
                &json!({"colleague_pa_id": colleague}),
            )
            .await;
        assert!(!asked.status.is_server_error(), "{}", asked.text);
        if asked.status != 201 {
            return format!("swap ask: {}", asked.status);
        }
        let request = asked.body["id"].as_str().unwrap().to_owned();
        let accepted = self
            .app
            .post_json(
                &format!("/api/v1/swap-requests/{request}/acceptance"),
                Some(&login(&colleague).token),
                &json!({}),
            )
            .await;
        assert!(!accepted.status.is_server_error(), "{}", accepted.text);
        if accepted.status != 200 {
            return format!("swap accept: {}", accepted.status);
        }
        let decided = self
            .app
            .post_json(
                &format!("/api/v1/swap-requests/{request}/decision"),
                Some(&self.token(manager)),
                &json!({"approve": true}),
            )
            .await;
        assert!(!decided.status.is_server_error(), "{}", decided.text);
        format!("swap {request}: {}", decided.status)
    }

    async fn change_facts(&mut self) -> String {
        let (pa, _) = self.pas[self.rng.below(self.pas.len())].clone();
        let token = self.token(0);
        match self.rng.below(7) {
            0 => {
                let c = self.rng.below(2);
                self.add_evidence(&pa, c).await;
                format!("evidence for {pa}")
            }
            1 => {
                let ids: Vec<String> = pa_competencies::table
                    .filter(pa_competencies::pa_id.eq(&pa))
                    .select(pa_competencies::id)
                    .load(&mut self.app.conn())
                    .unwrap();
                if let Some(e) = self.rng.pick(&ids).cloned() {
                    let r = self
                        .app
                        .patch_json(
                            &format!("/api/v1/pas/{pa}/competencies/{e}"),
                            Some(&token),
                            &json!({"revoked": true}),
                        )
                        .await;
                    assert!(!r.status.is_server_error(), "{}", r.text);
                }
                format!("revoke evidence of {pa}")
            }
            2 => {
                let renew = self.some_day();
                let issued = renew.checked_sub_months(chrono::Months::new(36)).unwrap();
                let r = self
                    .app
                    .patch_json(
                        &format!("/api/v1/pas/{pa}"),
                        Some(&token),
                        &json!({"dbs": {"issued_on": issued}}),
                    )
                    .await;
                assert!(!r.status.is_server_error(), "{}", r.text);
                if self.rng.chance(70) {
                    let r = self
                        .app
                        .patch_json(
                            &format!("/api/v1/pas/{pa}"),
                            Some(&token),
                            &json!({"dbs_verified": true}),
                        )
                        .await;
                    assert!(!r.status.is_server_error(), "{}", r.text);
                }
                format!("dbs of {pa}")
            }
            3 => {
                let (holder, manager) = self.people[self.rng.below(self.people.len())].clone();
                let r = self
                    .app
                    .post_json(
                        &format!("/api/v1/budget-holders/{holder}/do-not-match"),
                        Some(&self.token(manager)),
                        &json!({"pa_id": pa, "reason": "Asked not to"}),
                    )
                    .await;
                assert!(!r.status.is_server_error(), "{}", r.text);
                format!("do-not-match {pa} for {holder}")
            }
            4 => {
                let from = self.some_day();
                let to = from + Duration::days(self.rng.below(3) as i64);
                let r = self
                    .app
                    .patch_json(
                        &format!("/api/v1/pas/{pa}"),
                        Some(&token),
                        &json!({"unavailability": [{"starts_on": from, "ends_on": to}]}),
                    )
                    .await;
                assert!(!r.status.is_server_error(), "{}", r.text);
                format!("leave {pa} {from}..{to}")
            }
            5 if self.rng.chance(30) => {
                let r = self
                    .app
                    .patch_json(
                        &format!("/api/v1/pas/{pa}"),
                        Some(&token),
                        &json!({"active": false}),
                    )
                    .await;
                assert!(!r.status.is_server_error(), "{}", r.text);
                format!("deactivate {pa}")
            }
            _ => {
                self.add_signoff(&pa).await;
                format!("sign-off for {pa}")
            }
        }
    }
}

fn draft_breaches(conn: &mut parota::db::DbConnection, roster: &str) -> BTreeSet<Breach> {
    // The draft judged as if it alone were published beside everything published.
    let mut facts = load(conn);
    let (from, to) = rosters::table
        .find(roster)
        .select((rosters::from_date, rosters::to_date))
        .first::<(NaiveDate, NaiveDate)>(conn)
        .unwrap();
    facts.rosters.insert(roster.to_owned(), (from, to));
    let extra = {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            String,
            String,
            NaiveDate,
            String,
            String,
            NaiveDateTime,
            NaiveDateTime,
            i32,
        )> = roster_shifts::table
            .filter(roster_shifts::roster_id.eq(roster))
            .select((
                roster_shifts::id,
                roster_shifts::budget_holder_id,
                roster_shifts::shift_date,
                roster_shifts::start_local,
                roster_shifts::end_local,
                roster_shifts::starts_at,
                roster_shifts::ends_at,
                roster_shifts::headcount,
            ))
            .load(conn)
            .unwrap();
        rows.into_iter()
            .map(|r| Shift {
                pas: roster_assignments::table
                    .filter(roster_assignments::roster_shift_id.eq(&r.0))
                    .select(roster_assignments::pa_id)
                    .load(conn)
                    .unwrap(),
                id: r.0,
                roster: roster.to_owned(),
                holder: r.1,
                date: r.2,
                start: r.3,
                end: r.4,
                starts_at: r.5,
                ends_at: r.6,
                headcount: r.7,
            })
            .collect::<Vec<_>>()
    };
    let ids: Vec<String> = extra.iter().map(|s| s.id.clone()).collect();
    facts.shifts.extend(extra);
    breaches(&facts)
        .into_iter()
        .filter(|(key, _, _)| ids.contains(key) || key.starts_with(roster))
        .collect()
}

#[actix_web::test]
async fn a_random_walk_through_every_door_never_puts_an_unsafe_pa_on_a_published_shift() {
    let steps: usize = std::env::var("PAROTA_SAFETY_WALK_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("PAROTA_SAFETY_WALK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let mut walk = Walk::new(seed).await;
    let mut before = breaches(&load(&mut walk.app.conn()));
    assert!(before.is_empty());
    let mut log: Vec<String> = Vec::new();
    let (mut doors, mut published_breaches_seen) = (0, 0);
    for step in 0..steps {
        let (door, what) = walk.step().await;
        log.push(what.clone());
        let mut conn = walk.app.conn();
        let after = breaches(&load(&mut conn));
        if door {
            doors += 1;
            let added: Vec<&Breach> = after.difference(&before).collect();
            assert!(
                added.is_empty(),
                "seed {seed}, step {step} ({what}) put an unsafe PA on a published shift: {added:?}\nsteps: {log:#?}"
            );
            if what.starts_with("generate") {
                let id = what.trim_start_matches("generate ");
                let found = draft_breaches(&mut conn, id);
                assert!(
                    found.is_empty(),
                    "seed {seed}, step {step}: the generator broke {found:?}"
                );
            }
        } else {
            published_breaches_seen = published_breaches_seen.max(after.len());
            // The look ahead marks exactly what the checker finds on the next eight weeks'
            // published shifts (the rules about the PA and the person; facts do not move
            // working time).
            let now = Utc::now();
            parota::rostering::watch::look_ahead(&mut conn, now).unwrap();
            let soon: HashMap<String, NaiveDateTime> = roster_shifts::table
                .select((roster_shifts::id, roster_shifts::starts_at))
                .load::<(String, NaiveDateTime)>(&mut conn)
                .unwrap()
                .into_iter()
                .collect();
            let ahead = |shift: &str| {
                soon.get(shift).is_some_and(|t| {
                    *t >= now.naive_utc() && *t < (now + Duration::days(56)).naive_utc()
                })
            };
            let expected: BTreeSet<(String, String)> = after
                .iter()
                .filter(|(s, _, rule)| !TIME_RULES.contains(rule) && ahead(s))
                .map(|(s, p, _)| (s.clone(), p.clone()))
                .collect();
            let marked: BTreeSet<(String, String)> = shift_warnings::table
                .filter(shift_warnings::rule.ne_all(TIME_RULES))
                .select((shift_warnings::roster_shift_id, shift_warnings::pa_id))
                .load::<(String, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(
                marked, expected,
                "seed {seed}, step {step} ({what})\nsteps: {log:#?}"
            );
        }
        before = after;
    }
    let published: i64 = rosters::table
        .filter(rosters::status.eq("published"))
        .count()
        .get_result(&mut walk.app.conn())
        .unwrap();
    eprintln!(
        "safety walk: seed {seed}, {steps} steps ({doors} through doors), {published} rosters published, at most {published_breaches_seen} breaches standing after a fact changed"
    );
    assert!(published > 0, "the walk never published: {log:#?}");
}

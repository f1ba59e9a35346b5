//! Demo data: a reproducible East Lancashire team a person can explore at once, and the
//! bootstrap of a real installation's first organisation. Each domain adds its part here.

pub mod activity;
pub mod budgets;
pub mod market;
pub mod payroll;

use chrono::{DateTime, Utc};

use crate::accounts::model::{normalise_email, Organisation, OrganisationKind, User};
use crate::accounts::repo;
use crate::auth::{password, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::ids::seeded_id;

pub const DEMO_PASSWORD: &str = "parota-demo";
pub const DEMO_PAYROLL_CLIENT: &str = "demo-payroll";
/// Lancashire and South Cumbria Integrated Care Board.
pub const DEMO_AREA: &str = "QE1";
/// The East Lancashire postcode districts the demo team lives in.
pub const EAST_LANCASHIRE: [&str; 14] = [
    "BB1", "BB2", "BB3", "BB4", "BB5", "BB6", "BB7", "BB8", "BB9", "BB10", "BB11", "BB12", "BB18",
    "OL13",
];
pub const DEMO_PAS: usize = 100;

/// The East Lancashire districts with their centroids, for generated markets.
pub fn east_lancashire() -> Vec<(String, crate::geo::Location)> {
    EAST_LANCASHIRE
        .iter()
        .filter_map(|d| {
            crate::geo::Postcode::parse(d)
                .ok()?
                .locate()
                .ok()
                .map(|l| ((*d).to_owned(), l))
        })
        .collect()
}
pub const DEMO_BUDGET_HOLDERS: usize = 10;
/// 2026-04-01T00:00:00Z: every demo id is derived from it, so ids are the same on every load.
const SEED_MILLIS: u64 = 1_775_001_600_000;

const PA_NAMES: [&str; 10] = [
    "Aisha Patel",
    "Ben Holden",
    "Chloe Duckworth",
    "Daniel Ashworth",
    "Emma Haworth",
    "Farhan Hussain",
    "Grace Pilling",
    "Harry Whittaker",
    "Imran Khan",
    "Jess Nuttall",
];
const HOLDER_NAMES: [&str; 10] = [
    "Ann Riley",
    "Bob Entwistle",
    "Catherine Greenwood",
    "David Ingham",
    "Eileen Marsden",
    "Frank Lord",
    "Gillian Hargreaves",
    "Hassan Ali",
    "Irene Walsh",
    "John Birtwistle",
];

pub struct Account {
    pub login: String,
    pub role: Role,
    pub name: String,
}

pub struct DemoSummary {
    pub already_loaded: bool,
    pub accounts: Vec<Account>,
    /// What the demo's users did on this load (nothing when it was already loaded).
    pub activity: Option<activity::Activity>,
}

impl std::fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.already_loaded {
            writeln!(f, "Demo data was already loaded; nothing changed.")?;
        } else {
            writeln!(
                f,
                "Demo data loaded: East Lancashire Personal Support (area {DEMO_AREA})."
            )?;
        }
        if let Some(activity) = &self.activity {
            writeln!(
                f,
                "{} rosters published (last week of the previous pay period, this week and next); {} shifts clocked by the PAs who log in.",
                activity.rosters, activity.clocked_shifts
            )?;
            if let Some((from, to)) = activity.closed_period {
                writeln!(
                    f,
                    "Pay period {from} to {to} closed: {} payroll export(s) ready for {DEMO_PAYROLL_CLIENT}.",
                    activity.exports
                )?;
            }
            if let Some(login) = &activity.open_shift_for {
                writeln!(f, "An open shift waits for {login} to take it.")?;
            }
            if activity.cover_requests > 0 {
                writeln!(
                    f,
                    "A PA is off sick tomorrow: {} shift(s) searching for cover (GET /api/v1/cover-requests as their manager).",
                    activity.cover_requests
                )?;
            }
        }
        writeln!(f, "Every account's password is {DEMO_PASSWORD}.")?;
        writeln!(f)?;
        writeln!(f, "{:<32} {:<17} name", "login", "role")?;
        for account in &self.accounts {
            writeln!(
                f,
                "{:<32} {:<17} {}",
                account.login,
                account.role.as_str(),
                account.name
            )?;
        }
        Ok(())
    }
}

/// Loads the demo data, once: a second load changes nothing.
pub fn load(conn: &mut DbConnection) -> AppResult<DemoSummary> {
    load_at(conn, Utc::now())
}

/// `load`, with the demo's users acting as at `acting_at` (tests try other days).
pub fn load_at(conn: &mut DbConnection, acting_at: DateTime<Utc>) -> AppResult<DemoSummary> {
    let provider_id = seeded_id(SEED_MILLIS, 1);
    let accounts = demo_accounts();
    if repo::find_organisation(conn, &provider_id)?.is_some() {
        return Ok(DemoSummary {
            already_loaded: true,
            accounts,
            activity: None,
        });
    }
    let now = DateTime::<Utc>::from_timestamp_millis(i64::try_from(SEED_MILLIS).unwrap_or(0))
        .unwrap_or_else(Utc::now)
        .naive_utc();
    // One hash for every demo account: they share a published password anyway, and hashing
    // two dozen times would make `demo` slow for no gain.
    let shared_hash = password::hash(DEMO_PASSWORD)?;
    let activity = write_transaction(conn, |conn| {
        let provider = Organisation {
            id: provider_id.clone(),
            name: "East Lancashire Personal Support".into(),
            kind: OrganisationKind::Provider.as_str().into(),
            area_code: DEMO_AREA.into(),
            created_at: now,
            deactivated_at: None,
        };
        let commissioner = Organisation {
            id: seeded_id(SEED_MILLIS, 2),
            name: "Lancashire and South Cumbria ICB".into(),
            kind: OrganisationKind::Commissioner.as_str().into(),
            area_code: DEMO_AREA.into(),
            created_at: now,
            deactivated_at: None,
        };
        crate::provision::create_organisation(conn, &provider)?;
        crate::provision::create_organisation(conn, &commissioner)?;
        for (index, account) in accounts.iter().enumerate() {
            let organisation_id = if account.role == Role::Commissioner {
                &commissioner.id
            } else {
                &provider.id
            };
            let machine = account.role.is_machine();
            repo::insert_user(
                conn,
                &User {
                    id: seeded_id(SEED_MILLIS, 100 + index as u64),
                    organisation_id: organisation_id.clone(),
                    role: account.role.as_str().into(),
                    email: (!machine).then(|| account.login.clone()),
                    client_id: machine.then(|| account.login.clone()),
                    display_name: account.name.clone(),
                    secret_hash: shared_hash.clone(),
                    active: true,
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
        let holders = load_market(conn, &provider.id, &accounts)?;
        let admin = accounts
            .iter()
            .position(|a| a.role == Role::Admin)
            .map(|index| seeded_id(SEED_MILLIS, 100 + index as u64))
            .unwrap_or_default();
        budgets::load(conn, SEED_MILLIS, &provider.id, &admin, &holders, acting_at)?;
        let payroll_client = accounts
            .iter()
            .position(|a| a.login == DEMO_PAYROLL_CLIENT)
            .map(|index| seeded_id(SEED_MILLIS, 100 + index as u64))
            .unwrap_or_default();
        payroll::load(
            conn,
            SEED_MILLIS,
            &provider.id,
            &admin,
            &payroll_client,
            &holders,
        )?;
        let user_id = |role: Role| -> Vec<(String, String)> {
            accounts
                .iter()
                .enumerate()
                .filter(|(_, a)| a.role == role)
                .map(|(index, a)| (seeded_id(SEED_MILLIS, 100 + index as u64), a.login.clone()))
                .collect()
        };
        let cast = activity::Cast {
            admin: admin.clone(),
            managers: user_id(Role::TeamManager)
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
            pas: user_id(Role::Pa),
        };
        activity::load(conn, &provider.id, DEMO_AREA, &cast, acting_at)
    })?;
    Ok(DemoSummary {
        already_loaded: false,
        accounts,
        activity: Some(activity),
    })
}

fn demo_accounts() -> Vec<Account> {
    let account = |login: String, role: Role, name: &str| Account {
        login,
        role,
        name: name.into(),
    };
    let mut accounts = vec![
        account("admin@demo.parota.test".into(), Role::Admin, "Nadia Rahman"),
        account(
            "manager@demo.parota.test".into(),
            Role::TeamManager,
            "Sam Whittaker",
        ),
        account(
            "manager2@demo.parota.test".into(),
            Role::TeamManager,
            "Priya Shah",
        ),
        account(
            "commissioner@demo.parota.test".into(),
            Role::Commissioner,
            "Tom Heys",
        ),
        account(
            DEMO_PAYROLL_CLIENT.into(),
            Role::PayrollProvider,
            "Pennine Payroll Services",
        ),
    ];
    for (n, name) in PA_NAMES.iter().enumerate() {
        accounts.push(account(
            format!("pa{}@demo.parota.test", n + 1),
            Role::Pa,
            name,
        ));
    }
    for (n, name) in HOLDER_NAMES.iter().enumerate() {
        accounts.push(account(
            format!("holder{}@demo.parota.test", n + 1),
            Role::BudgetHolder,
            name,
        ));
    }
    accounts
}

/// 100 PAs and 10 budget holders across East Lancashire, each person with a team; the first
/// PA and budget-holder logins are linked to profiles so the app side can be tried too.
fn load_market(
    conn: &mut DbConnection,
    organisation_id: &str,
    accounts: &[Account],
) -> AppResult<Vec<String>> {
    use crate::db::schema::{budget_holders, pa_profiles};
    use diesel::prelude::*;

    let districts = east_lancashire();
    let user_id = |login: &str| -> Option<String> {
        accounts
            .iter()
            .position(|a| a.login == login)
            .map(|index| seeded_id(SEED_MILLIS, 100 + index as u64))
    };
    let managers: Vec<String> = ["manager@demo.parota.test", "manager2@demo.parota.test"]
        .iter()
        .filter_map(|l| user_id(l))
        .collect();
    let now = Utc::now();
    let generated = market::generate(
        conn,
        &market::MarketShape {
            organisation_id,
            team_managers: &managers,
            districts: &districts,
            pas: DEMO_PAS,
            budget_holders: DEMO_BUDGET_HOLDERS,
            with_teams: true,
            seed: 2026,
            id_base_millis: SEED_MILLIS,
            today: now.date_naive(),
            now: now.naive_utc(),
        },
    )?;
    // The PAs who log in are recruited to the people's teams (a member of each team in turn),
    // so each has rostered work to see.
    let mut teams = Vec::new();
    for holder_id in &generated.budget_holder_ids {
        let mut team = crate::market::repo::team(conn, holder_id)?;
        team.sort_by(|a, b| a.id.cmp(&b.id));
        teams.push(team.into_iter().map(|m| m.pa_id));
    }
    let mut login_pas: Vec<String> = Vec::new();
    while login_pas.len() < PA_NAMES.len() {
        let before = login_pas.len();
        for team in &mut teams {
            if let Some(pa_id) = team.find(|p| !login_pas.contains(p)) {
                login_pas.push(pa_id);
            }
        }
        if login_pas.len() == before {
            break;
        }
    }
    for pa_id in &generated.pa_ids {
        if !login_pas.contains(pa_id) {
            login_pas.push(pa_id.clone());
        }
    }
    for (n, pa_id) in login_pas.iter().take(PA_NAMES.len()).enumerate() {
        let login = format!("pa{}@demo.parota.test", n + 1);
        diesel::update(pa_profiles::table.find(pa_id))
            .set((
                pa_profiles::user_id.eq(user_id(&login)),
                pa_profiles::display_name.eq(PA_NAMES[n]),
            ))
            .execute(conn)?;
    }
    for (n, holder_id) in generated
        .budget_holder_ids
        .iter()
        .take(HOLDER_NAMES.len())
        .enumerate()
    {
        let login = format!("holder{}@demo.parota.test", n + 1);
        diesel::update(budget_holders::table.find(holder_id))
            .set((
                budget_holders::user_id.eq(user_id(&login)),
                budget_holders::display_name.eq(HOLDER_NAMES[n]),
            ))
            .execute(conn)?;
    }
    Ok(generated.budget_holder_ids)
}

/// Creates the first organisation and its admin on a fresh installation.
pub fn bootstrap(
    conn: &mut DbConnection,
    organisation_name: &str,
    area_code: &str,
    admin_email: &str,
    admin_password: &str,
) -> AppResult<String> {
    crate::accounts::model::check_password("PAROTA_BOOTSTRAP_PASSWORD", admin_password)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let now = Utc::now().naive_utc();
    let organisation = Organisation {
        id: crate::ids::new_id(),
        name: organisation_name.trim().to_owned(),
        kind: OrganisationKind::Provider.as_str().into(),
        area_code: area_code.trim().to_uppercase(),
        created_at: now,
        deactivated_at: None,
    };
    let admin = User {
        id: crate::ids::new_id(),
        organisation_id: organisation.id.clone(),
        role: Role::Admin.as_str().into(),
        email: Some(normalise_email(admin_email)),
        client_id: None,
        display_name: "Administrator".into(),
        secret_hash: password::hash(admin_password)?,
        active: true,
        created_at: now,
        updated_at: now,
    };
    write_transaction(conn, |conn| {
        crate::provision::create_organisation(conn, &organisation)?;
        repo::insert_user(conn, &admin)
    })?;
    Ok(organisation.id)
}

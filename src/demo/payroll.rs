//! Demo payroll: the first person employs their own team directly (PAYE 120/DP00001); the
//! organisation employs every other PA. Pennine Payroll Services (`demo-payroll`) runs both, so
//! closing a pay period gives it exports to pull at once.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::seeded_id;
use crate::payroll::repo::{self, EmployerRow, EngagementRow};

pub fn load(
    conn: &mut DbConnection,
    seed_millis: u64,
    organisation_id: &str,
    admin_id: &str,
    payroll_client_id: &str,
    holder_ids: &[String],
) -> AppResult<()> {
    use crate::db::schema::{pa_profiles, team_members};
    let now = Utc::now().naive_utc();
    // The personalised card the budgets demo loads.
    let card = seeded_id(seed_millis, 5_000);
    let employer =
        |n: u64, kind: &str, holder: Option<&String>, name: &str, paye: &str| EmployerRow {
            id: seeded_id(seed_millis, 7_000 + n),
            organisation_id: organisation_id.to_owned(),
            kind: kind.into(),
            budget_holder_id: holder.cloned(),
            name: name.into(),
            paye_reference: paye.into(),
            payroll_client_id: payroll_client_id.to_owned(),
            rate_card_id: card.clone(),
            pays_travel_time: true,
            export_sequence: 0,
            created_by: admin_id.to_owned(),
            created_at: now,
            payroll_mapping: r#"{"software":"none","elements":{}}"#.into(),
            pay_calendar: None,
        };
    let direct = employer(
        0,
        "budget_holder",
        holder_ids.first(),
        "Direct payment employer",
        "120/DP00001",
    );
    let organisation = employer(
        1,
        "organisation",
        None,
        "East Lancashire Personal Support",
        "120/EL00001",
    );
    repo::insert_employer(conn, &direct)?;
    repo::insert_employer(conn, &organisation)?;
    let own_team: Vec<String> = match holder_ids.first() {
        Some(holder) => team_members::table
            .filter(team_members::budget_holder_id.eq(holder))
            .filter(team_members::removed_at.is_null())
            .select(team_members::pa_id)
            .load(conn)?,
        None => Vec::new(),
    };
    let pas: Vec<String> = pa_profiles::table
        .filter(pa_profiles::organisation_id.eq(organisation_id))
        .order(pa_profiles::id.asc())
        .select(pa_profiles::id)
        .load(conn)?;
    let started = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
    for (n, pa) in pas.iter().enumerate() {
        let engage = |employer: &EmployerRow, m: u64, works: String| EngagementRow {
            id: seeded_id(seed_millis, 7_100 + m),
            employer_id: employer.id.clone(),
            pa_id: pa.clone(),
            works_number: works,
            // Ages 19 to 62, so some PAs are in the 18–20 minimum wage band.
            date_of_birth: NaiveDate::from_ymd_opt(
                2007 - (n as i32 * 7) % 44,
                1 + (n as u32 % 12),
                15,
            )
            .unwrap_or_default(),
            contracted_minutes_per_week: None,
            holiday_basis: "rolled_up".into(),
            starts_on: started,
            created_by: admin_id.to_owned(),
            created_at: now,
            ends_on: None,
            leaving_reason: None,
            leaver_export_id: None,
        };
        repo::insert_engagement(
            conn,
            &engage(&organisation, n as u64, format!("EL{:04}", n + 1)),
        )?;
        if own_team.contains(pa) {
            repo::insert_engagement(
                conn,
                &engage(&direct, 1_000 + n as u64, format!("DP{:04}", n + 1)),
            )?;
        }
    }
    Ok(())
}

//! Demo pricing and budgets: a competency-based rate card beside the county's framework rate,
//! and for each demo person an approved year's budget around today with the spend of the months
//! gone by.

use crate::money::Pence;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::budgets::ledger::{post_entries, NewLedgerEntry};
use crate::budgets::model::{self as budget_model, EntryKind};
use crate::budgets::repo::{self as budget_repo, BudgetRow};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ids::seeded_id;
use crate::pricing::model::{LevelRate, OnCosts, RateTerms, SleepIn, Uplifts};
use crate::pricing::repo::{self as pricing_repo, RateCardRow, RateCardVersionRow};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn personalised_terms() -> RateTerms {
    let level = |level, pay_pence, charge_pence| LevelRate {
        level,
        pay_pence: Pence::new(pay_pence),
        charge_pence: Pence::new(charge_pence),
    };
    RateTerms {
        levels: vec![
            level(1, 1290, 2150),
            level(2, 1350, 2300),
            level(3, 1475, 2550),
            level(4, 1650, 2850),
        ],
        night_start: "22:00".into(),
        night_end: "07:00".into(),
        uplifts: Uplifts {
            night_bp: 1000,
            saturday_bp: 1000,
            sunday_bp: 2000,
            bank_holiday_bp: 5000,
            waking_night_bp: 1500,
            two_to_one_bp: 500,
            short_notice_bp: 2500,
            short_notice_hours: 48,
            overtime_bp: 5000,
        },
        sleep_in: SleepIn {
            pay_pence: Pence::new(9500),
            charge_pence: Pence::new(13000),
        },
        on_costs: OnCosts {
            training_bp: 200,
            employers_liability_pence_per_year: Pence::new(15000),
            payroll_fee_pence_per_month: Pence::new(1500),
            contingency_bp: 300,
        },
    }
}

fn framework_terms() -> RateTerms {
    RateTerms {
        levels: (1..=4)
            .map(|level| LevelRate {
                level,
                pay_pence: Pence::new(1275),
                charge_pence: Pence::new(2350),
            })
            .collect(),
        night_start: "22:00".into(),
        night_end: "07:00".into(),
        uplifts: Uplifts::default(),
        sleep_in: SleepIn {
            pay_pence: Pence::new(8000),
            charge_pence: Pence::new(11000),
        },
        on_costs: OnCosts::default(),
    }
}

/// Health's share for a funding route: NHS-funded routes are all health.
fn health_share(funding: &str) -> i32 {
    match funding {
        "social_care" => 0,
        "integrated" => 6000,
        _ => 10_000,
    }
}

pub fn load(
    conn: &mut DbConnection,
    seed_millis: u64,
    organisation_id: &str,
    admin_id: &str,
    holder_ids: &[String],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cards_from = date(2026, 4, 1);
    for (n, (name, kind, terms)) in [
        (
            "East Lancashire PHB (by competency)",
            "personalised",
            personalised_terms(),
        ),
        (
            "Lancashire County Council framework",
            "social_care_framework",
            framework_terms(),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let card = RateCardRow {
            id: seeded_id(seed_millis, 5_000 + n as u64),
            organisation_id: organisation_id.to_owned(),
            name: name.into(),
            kind: kind.into(),
            created_by: admin_id.to_owned(),
            created_at: now.naive_utc(),
        };
        pricing_repo::insert_card(conn, &card)?;
        pricing_repo::insert_version(
            conn,
            &RateCardVersionRow {
                id: seeded_id(seed_millis, 5_100 + n as u64),
                rate_card_id: card.id.clone(),
                effective_from: cards_from,
                terms: crate::db::json::to_text(&terms)?,
                created_by: admin_id.to_owned(),
                created_at: now.naive_utc(),
            },
        )?;
    }

    // A year's budget around today (six months gone, six to come), so the demo's rosters and
    // timesheets always fall inside an approved budget, whatever day it is loaded.
    let today = now.date_naive();
    let this_month = today.with_day(1).unwrap_or(today);
    let start = this_month
        .checked_sub_months(chrono::Months::new(6))
        .unwrap_or(this_month)
        .max(cards_from);
    let end = start
        .checked_add_months(chrono::Months::new(12))
        .map_or(start, |next| next - chrono::Duration::days(1));
    let budget_name = format!("Personal health budget {start} to {end}");
    for (n, holder_id) in holder_ids.iter().enumerate() {
        let Some(holder) = crate::market::repo::find_budget_holder(conn, holder_id)? else {
            continue;
        };
        let amount = Pence::new(6_000_000 + 500_000 * n as i64);
        let share = health_share(&holder.funding);
        let profile = budget_model::even_profile(amount, start, end);
        let budget = BudgetRow {
            id: seeded_id(seed_millis, 6_000 + n as u64),
            organisation_id: organisation_id.to_owned(),
            budget_holder_id: holder.id.clone(),
            name: budget_name.clone(),
            amount_pence: amount,
            period_start: start,
            period_end: end,
            health_share_bp: share,
            profile: crate::db::json::to_text(&profile)?,
            alert_thresholds: "[80,100]".into(),
            status: crate::budgets::model::BudgetStatus::Approved
                .as_str()
                .into(),
            approved_by: Some(holder.team_manager_id.clone()),
            approved_at: Some(now.naive_utc()),
            ledger_sequence: 0,
            created_by: holder.team_manager_id.clone(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        budget_repo::insert_budget(conn, &budget)?;
        let mut entries: Vec<NewLedgerEntry> = budget_model::split(amount, i64::from(share))
            .into_iter()
            .map(|(stream, part)| NewLedgerEntry {
                kind: EntryKind::Allocation,
                stream,
                amount_pence: part,
                entry_date: start,
                description: format!("Approved budget: {budget_name}"),
                reason: None,
                source_type: "budget_approval",
                source_id: Some(budget.id.clone()),
                reverses_entry_id: None,
                idempotency: None,
            })
            .collect();
        // The months already gone: spend near profile, a little over for every third person.
        for month in profile.iter().filter(|m| {
            budget_model::parse_month(&m.month).is_some_and(|first| {
                first
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(first)
                    <= today
            })
        }) {
            let first = budget_model::parse_month(&month.month).unwrap_or(start);
            let factor = if n % 3 == 0 {
                104
            } else {
                93 + (first.month() as i64 % 5)
            };
            let spent = Pence::new(month.amount_pence.get() * factor / 100);
            for (stream, part) in budget_model::split(spent, i64::from(share)) {
                entries.push(NewLedgerEntry {
                    kind: EntryKind::Actual,
                    stream,
                    amount_pence: part,
                    entry_date: first.with_day(28).unwrap_or(first),
                    description: format!("PA wages and on-costs, {}", month.month),
                    reason: None,
                    source_type: "demo",
                    source_id: None,
                    reverses_entry_id: None,
                    idempotency: None,
                });
            }
        }
        post_entries(conn, &budget, &holder, entries, None, now)?;
    }
    Ok(())
}

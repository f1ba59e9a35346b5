//! PA supply against support demand, by postcode district and competency level.

use chrono::NaiveDate;

use crate::auth::policy::{authorize, organisation_scope, Action, OrganisationScope, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::market::dto::*;
use crate::market::model::{
    self, dbs_current, evidence_status, need_spans, right_to_work_current, MatchPolicy, SupportNeed,
};
use crate::market::repo::{self, *};

use crate::db::json::from_text as from_json;
use crate::market::model::minutes_to_hours;

/// PA supply against support demand, by postcode district and competency level.
pub fn capacity(
    conn: &mut DbConnection,
    actor: &AuthUser,
    query: &CapacityQuery,
    today: NaiveDate,
) -> AppResult<CapacityView> {
    let own = crate::accounts::repo::find_organisation(conn, &actor.organisation_id)?
        .ok_or(AppError::NotFound)?;
    let organisations: Vec<String> = match (organisation_scope(actor), &query.organisation_id) {
        (OrganisationScope::Area(area), None) => {
            crate::accounts::repo::list_organisations(conn, Some(area), None)?
                .into_iter()
                .filter(|o| o.kind == "provider")
                .map(|o| o.id)
                .collect()
        }
        (_, Some(raw)) => {
            let id = crate::ids::parse_id(raw).ok_or(AppError::NotFound)?;
            let organisation =
                crate::accounts::repo::find_organisation(conn, &id)?.ok_or(AppError::NotFound)?;
            authorize(
                actor,
                Action::Read,
                Resource::WorkforceCapacity {
                    organisation_id: &organisation.id,
                    area_code: &organisation.area_code,
                },
            )?;
            vec![organisation.id]
        }
        (_, None) => {
            authorize(
                actor,
                Action::Read,
                Resource::WorkforceCapacity {
                    organisation_id: &own.id,
                    area_code: &own.area_code,
                },
            )?;
            vec![own.id.clone()]
        }
    };
    let policy = MatchPolicy::default();
    // (district, level) -> (PAs, available minutes, needed person-minutes)
    let mut cells: std::collections::BTreeMap<(String, i32), (u32, i64, i64)> = Default::default();
    let pas = repo::active_pas(conn, &organisations)?;
    let ids: Vec<String> = pas.iter().map(|p| p.id.clone()).collect();
    let mut evidence = evidence_by_pa(conn, &ids)?;
    for pa in &pas {
        let checks = checks_of(pa);
        if dbs_current(&checks, today, &policy).is_err()
            || right_to_work_current(&checks, today).is_err()
        {
            continue;
        }
        // Supply counts the PA's general level: delegated tasks are signed off per person later.
        let level = evidence
            .remove(&pa.id)
            .unwrap_or_default()
            .iter()
            .filter(|e| {
                evidence_status(e.trained_on, e.expires_on, e.verified, e.revoked, today)
                    == model::EvidenceStatus::Valid
            })
            .map(|e| e.level)
            .max();
        let Some(level) = level else { continue };
        let cell = cells.entry((pa.district.clone(), level)).or_default();
        cell.0 += 1;
        cell.1 += i64::from(pa.wanted_minutes_per_week);
    }
    for holder in repo::active_budget_holders(conn, &organisations)? {
        let needs: Vec<SupportNeed> = from_json("support_needs", &holder.support_needs)?;
        let minutes: i64 = need_spans("support_needs", &needs)
            .map(|s| {
                s.iter()
                    .map(|(span, h)| i64::from(span.minutes()) * i64::from(*h))
                    .sum()
            })
            .unwrap_or(0);
        cells
            .entry((holder.district.clone(), holder.minimum_level))
            .or_default()
            .2 += minutes;
    }
    let rows: Vec<CapacityRow> = cells
        .into_iter()
        .map(
            |((district, level), (pas, available, needed))| CapacityRow {
                district,
                level,
                pas,
                available_hours_per_week: minutes_to_hours(available),
                needed_hours_per_week: minutes_to_hours(needed),
                gap_hours_per_week: minutes_to_hours(needed - available),
            },
        )
        .collect();
    Ok(CapacityView {
        total_available_hours_per_week: rows
            .iter()
            .map(|r| r.available_hours_per_week)
            .sum::<f64>()
            .round(),
        total_needed_hours_per_week: rows
            .iter()
            .map(|r| r.needed_hours_per_week)
            .sum::<f64>()
            .round(),
        organisations,
        rows,
    })
}

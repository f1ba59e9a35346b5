//! Setting an employer's payroll software and codes (`payroll::mapping`), and what that frees:
//! an export blocked only for want of codes becomes ready the moment the mapping gives them,
//! numbered and checksummed as if it had closed ready.

use chrono::{DateTime, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{errors_or, AppError, AppResult};
use crate::payroll::dto::{BlockedExport, Blocker, MappingView};
use crate::payroll::mapping::{Gap, Mapping};
use crate::payroll::repo::{self, EmployerRow};
use crate::payroll::service::{gaps_of, make_ready, mapping_of, period_of};

fn employer_for(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
    action: Action,
) -> AppResult<EmployerRow> {
    let employer = repo::find_employer(conn, employer_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        action,
        Resource::PayrollMapping {
            organisation_id: &employer.organisation_id,
            payroll_client_id: &employer.payroll_client_id,
        },
    )?;
    Ok(employer)
}

fn view_of(conn: &mut DbConnection, employer: &EmployerRow) -> AppResult<MappingView> {
    let mapping = mapping_of(employer)?;
    let effective = mapping
        .resolve()
        .into_iter()
        .map(|(code, r)| (code.to_owned(), r))
        .collect();
    let blocked_exports = repo::blocked_exports_of(conn, &employer.id)?
        .iter()
        .map(|e| {
            let blockers: Vec<Blocker> = crate::db::json::from_text("blockers", &e.blockers)?;
            Ok(BlockedExport {
                export_id: e.id.clone(),
                gaps: crate::db::json::from_text("payroll_exports.gaps", &e.gaps)?,
                awaiting_review: blockers.len(),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(MappingView {
        employer_id: employer.id.clone(),
        mapping,
        effective,
        blocked_exports,
    })
}

/// The employer's mapping. Who may call: its payroll client, admins and team managers.
pub fn mapping(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
) -> AppResult<MappingView> {
    let employer = employer_for(conn, actor, employer_id, Action::Read)?;
    view_of(conn, &employer)
}

/// Replaces the employer's mapping (422 naming each field that software could not hold), then
/// re-checks its blocked exports against it. Who may call: its payroll client and admins.
pub fn set_mapping(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
    mapping: Mapping,
    now: DateTime<Utc>,
) -> AppResult<MappingView> {
    employer_for(conn, actor, employer_id, Action::Update)?;
    errors_or((), mapping.check())?;
    write_transaction(conn, |conn| {
        let employer = employer_for(conn, actor, employer_id, Action::Update)?;
        let before = mapping_of(&employer)?;
        let text = crate::db::json::to_text(&mapping)?;
        repo::set_employer_mapping(conn, &employer.id, &text)?;
        let employer = EmployerRow {
            payroll_mapping: text.clone(),
            ..employer
        };
        for export in repo::blocked_exports_of(conn, &employer.id)? {
            let lines = repo::lines_of(conn, &export.id, 0, i64::MAX)?;
            let gaps: Vec<Gap> = gaps_of(&mapping, &lines);
            let gaps_text = crate::db::json::to_text(&gaps)?;
            repo::set_mapping(conn, &export.id, &text, &gaps_text)?;
            let blockers: Vec<Blocker> = crate::db::json::from_text("blockers", &export.blockers)?;
            if gaps.is_empty() && blockers.is_empty() {
                let period = period_of(conn, &export.pay_period_id)?;
                let export = repo::ExportRow {
                    mapping: text.clone(),
                    gaps: gaps_text,
                    ..export
                };
                make_ready(conn, &export, &employer, &period, &lines, now)?;
            }
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &employer.organisation_id,
                action: "employer.payroll_mapping_set",
                entity_type: "employer",
                entity_id: &employer.id,
                before: Some(&before),
                after: Some(&mapping),
            },
        )?;
        view_of(conn, &employer)
    })
}

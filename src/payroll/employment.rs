//! Changing who employs a PA and when an employer pays: a PA leaving (the engagement ends on a
//! date, for a reason) and an employer's own pay calendar.
//!
//! A leaver's last day is a fact the safety gate, timesheets and payroll all read through
//! `market::model::employment`: nothing after it is rostered, clocked or paid, and the export of
//! the period holding it reports the leaver once (`Leaver`) so the bureau issues the P45. A
//! leaving date that would strand work already recorded after it is refused.
//!
//! An employer paying on its own calendar has its own pay periods; going over to one, or back to
//! the organisation's, follows the rule every calendar change does
//! (`timesheets::periods::change_calendar`): not across open work, and starting the day after the
//! last closed period.

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::model::employment::{employment_on, Employment};
use crate::market::repo as market_repo;
use crate::payroll::dto::{EmployerView, EndEngagement, EngagementView, PayCalendarRequest};
use crate::payroll::repo;
use crate::payroll::service::{employer_view, engagement_view};
use crate::timesheets::periods::{change_calendar, policy_of, Calendar, Moving, PeriodWork};

/// Records that a PA leaves an employer: their last day and why. Correcting the date or reason
/// is allowed until an export has reported the leaver. Who may call: admins and team managers.
pub fn end_engagement(
    conn: &mut DbConnection,
    actor: &AuthUser,
    engagement_id: &str,
    request: EndEngagement,
) -> AppResult<EngagementView> {
    let engagement = repo::find_engagement(conn, engagement_id)?.ok_or(AppError::NotFound)?;
    let employer = repo::find_employer(conn, &engagement.employer_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Update,
        Resource::Payroll {
            organisation_id: &employer.organisation_id,
        },
    )?;
    if engagement.leaver_export_id.is_some() {
        return Err(AppError::Conflict {
            code: ConflictCode::LeaverReported,
            detail: "an export has already reported this leaver to the bureau".into(),
        });
    }
    if request.ends_on < engagement.starts_on {
        return Err(AppError::field(
            "ends_on",
            "range",
            &format!(
                "must not be before the engagement started ({})",
                engagement.starts_on
            ),
        ));
    }
    // Work already recorded after the last day that this engagement would have paid.
    let mut engaged =
        market_repo::engagements_of_pas(conn, std::slice::from_ref(&engagement.pa_id))?
            .remove(&engagement.pa_id)
            .unwrap_or_default();
    for e in &mut engaged {
        if e.engagement_id == engagement.id {
            e.ends_on = Some(request.ends_on);
        }
    }
    let stranded = repo::records_after(conn, &engagement.pa_id, request.ends_on)?
        .into_iter()
        .find(|(date, holder)| {
            matches!(
                employment_on(&engaged, holder, *date),
                Employment::Left(e) if e.engagement_id == engagement.id
            )
        });
    if let Some((date, _)) = stranded {
        return Err(AppError::field(
            "ends_on",
            "work_after",
            &format!("the PA has work recorded on {date}, after this day"),
        ));
    }
    let mut after = engagement.clone();
    after.ends_on = Some(request.ends_on);
    after.leaving_reason = Some(request.reason.as_str().to_owned());
    let before_view = engagement_view(&engagement)?;
    let view = engagement_view(&after)?;
    write_transaction(conn, |conn| {
        repo::set_engagement_end(
            conn,
            &engagement.id,
            request.ends_on,
            request.reason.as_str(),
        )?;
        // Matching and the safety gate see the leaver at once.
        market_repo::touch_pa(conn, &engagement.pa_id, &employer.organisation_id)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &employer.organisation_id,
                action: "engagement.ended",
                entity_type: "engagement",
                entity_id: &engagement.id,
                before: Some(&before_view),
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

/// Puts an employer on its own pay calendar, or (with `null`) back on the organisation's. Who
/// may call: admins.
pub fn set_pay_calendar(
    conn: &mut DbConnection,
    actor: &AuthUser,
    employer_id: &str,
    request: PayCalendarRequest,
) -> AppResult<EmployerView> {
    let employer = repo::find_employer(conn, employer_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Administer,
        Resource::Payroll {
            organisation_id: &employer.organisation_id,
        },
    )?;
    if let Some(calendar) = &request.pay_calendar {
        crate::error::errors_or((), calendar.check("pay_calendar"))?;
    }
    let organisation_id = employer.organisation_id.as_str();
    let policy = policy_of(conn, organisation_id)?;
    let before = employer_view(&employer)?;
    write_transaction(conn, |conn| {
        let current = Calendar::of_employer(conn, organisation_id, &employer.id, &policy)?;
        let next = request.pay_calendar.unwrap_or_else(|| policy.calendar());
        let field = |problem: &'static str| match problem {
            "frequency" => "pay_calendar.frequency",
            "anchor" => "pay_calendar.anchor",
            _ => "pay_calendar.pay_days_after_end",
        };
        if current.employer_id.is_some() {
            change_calendar(conn, &current, &next, Moving::All, field)?;
        } else if request.pay_calendar.is_some() {
            // Leaving the organisation's calendar: only this employer's work there counts.
            let pa_ids: Vec<String> = repo::engagements_of(conn, &employer.id)?
                .into_iter()
                .map(|g| g.pa_id)
                .collect();
            let engaged = market_repo::engagements_of_pas(conn, &pa_ids)?;
            let ours = |w: &PeriodWork| {
                engaged.get(&w.pa_id).is_some_and(|list| {
                    employment_on(list, &w.budget_holder_id, w.on)
                        .engagement()
                        .is_some_and(|e| e.employer_id == employer.id)
                })
            };
            change_calendar(conn, &current, &next, Moving::Some(&ours), field)?;
        }
        let stored = request
            .pay_calendar
            .as_ref()
            .map(crate::db::json::to_text)
            .transpose()?;
        repo::set_employer_calendar(conn, &employer.id, stored.as_deref())?;
        let changed = repo::find_employer(conn, &employer.id)?.ok_or(AppError::NotFound)?;
        let after = employer_view(&changed)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id,
                action: "employer.pay_calendar_set",
                entity_type: "employer",
                entity_id: &employer.id,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

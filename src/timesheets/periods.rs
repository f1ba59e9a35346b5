//! The organisation's timesheet policy and its pay periods: what other domains (payroll) read
//! through. A closed period is never written to again; what comes late is paid in the next.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ConflictCode};
use crate::timesheets::dto::*;
use crate::timesheets::model::{Approver, PayFrequency, Policy};
use crate::timesheets::repo::{self, PayPeriodRow, PolicyRow};

pub fn policy_of(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Policy> {
    policy_from(repo::policy_of(conn, organisation_id)?.as_ref())
}

/// The policy a row holds; the defaults where the organisation has set none.
pub fn policy_from(row: Option<&PolicyRow>) -> AppResult<Policy> {
    let Some(row) = row else {
        return Ok(Policy::default());
    };
    Ok(Policy {
        pay_frequency: PayFrequency::parse("pay_frequency", &row.pay_frequency)?,
        period_anchor: row.period_anchor,
        approver: Approver::parse("approver", &row.approver)?,
        radius_m: row.radius_m,
        late_minutes: row.late_minutes,
        left_early_minutes: row.left_early_minutes,
        overrun_minutes: row.overrun_minutes,
        short_minutes: row.short_minutes,
        clock_out_grace_minutes: row.clock_out_grace_minutes,
        offline_sync_days: row.offline_sync_days,
    })
}

/// The organisation's timesheet policy. Who may call: its admins and team managers.
pub fn read_policy(
    conn: &mut DbConnection,
    actor: &AuthUser,
    organisation_id: &str,
) -> AppResult<Policy> {
    authorize(
        actor,
        Action::Read,
        Resource::PaySettings { organisation_id },
    )?;
    policy_of(conn, organisation_id)
}

/// Sets the policy. Who may call: the organisation's admins.
pub fn save_policy(
    conn: &mut DbConnection,
    actor: &AuthUser,
    organisation_id: &str,
    request: PolicyRequest,
    now: DateTime<Utc>,
) -> AppResult<Policy> {
    authorize(
        actor,
        Action::Update,
        Resource::PaySettings { organisation_id },
    )?;
    let before = policy_of(conn, organisation_id)?;
    let row = PolicyRow {
        organisation_id: organisation_id.to_owned(),
        pay_frequency: request.pay_frequency.as_str().to_owned(),
        period_anchor: request.period_anchor,
        approver: request.approver.as_str().to_owned(),
        radius_m: request.radius_m,
        late_minutes: request.late_minutes,
        left_early_minutes: request.left_early_minutes,
        overrun_minutes: request.overrun_minutes,
        short_minutes: request.short_minutes,
        clock_out_grace_minutes: request.clock_out_grace_minutes,
        updated_by: actor.user_id.clone(),
        updated_at: now.naive_utc(),
        offline_sync_days: request.offline_sync_days,
    };
    crate::db::write_transaction(conn, |conn| {
        repo::save_policy(conn, &row)?;
        let after = policy_of(conn, organisation_id)?;
        crate::audit::record(
            conn,
            Some(actor),
            crate::audit::Change {
                organisation_id,
                action: "timesheet_policy.updated",
                entity_type: "organisation",
                entity_id: organisation_id,
                before: Some(&before),
                after: Some(&after),
            },
        )?;
        Ok(after)
    })
}

/// The pay period that takes work dated `date`: the one holding it if still open, else the
/// first open one after it (a closed period is locked; what comes late is paid in the next).
/// Periods are made as they are first needed.
pub fn open_period_for(
    conn: &mut DbConnection,
    organisation_id: &str,
    policy: &Policy,
    date: NaiveDate,
) -> AppResult<PayPeriodRow> {
    let mut day = date;
    // A bounded walk: periods are closed one by one, so the next open one is near.
    for _ in 0..120 {
        let (starts_on, ends_on) = policy.pay_frequency.period_of(policy.period_anchor, day);
        let period = match repo::period_starting(conn, organisation_id, starts_on)? {
            Some(period) => period,
            None => {
                repo::insert_period_if_absent(
                    conn,
                    &PayPeriodRow {
                        id: crate::ids::new_id(),
                        organisation_id: organisation_id.to_owned(),
                        starts_on,
                        ends_on,
                        closed_by: None,
                        closed_at: None,
                    },
                )?;
                repo::period_starting(conn, organisation_id, starts_on)?
                    .ok_or_else(|| AppError::internal("pay period vanished"))?
            }
        };
        if period.closed_at.is_none() {
            return Ok(period);
        }
        day = ends_on + Duration::days(1);
    }
    Err(AppError::Conflict {
        code: ConflictCode::NoOpenPayPeriod,
        detail: "every pay period for the next ten years is closed".into(),
    })
}

pub fn period_view(period: &PayPeriodRow) -> PayPeriodView {
    PayPeriodView {
        id: period.id.clone(),
        starts_on: period.starts_on,
        ends_on: period.ends_on,
        closed: period.closed_at.is_some(),
        closed_at: period.closed_at.map(|t| t.and_utc()),
    }
}

/// Pay periods overlapping `from` to `to`. Who may call: admins and team managers.
pub fn list_periods(
    conn: &mut DbConnection,
    actor: &AuthUser,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<PayPeriodView>> {
    authorize(
        actor,
        Action::Read,
        Resource::PaySettings {
            organisation_id: &actor.organisation_id,
        },
    )?;
    Ok(
        repo::periods_between(conn, &actor.organisation_id, from, to)?
            .iter()
            .map(period_view)
            .collect(),
    )
}

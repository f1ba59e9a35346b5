//! Closing a pay period: it is locked from then on, and the payroll exports for every employer
//! with pay in it are made in the same transaction, so a closed period always has its exports.
//!
//! What keeps a month of 100,000 shifts under two seconds (`scripts/bench-payroll.sh`): records
//! are read 250 PAs at a time and only their pay lines kept, so memory follows PAs, not shifts;
//! the lines of every export are written together (as `UNNEST` arrays on PostgreSQL, where a
//! multi-row `VALUES` of hundreds of parameters costs milliseconds to plan every time); export
//! lines copy the facts they need instead of holding foreign keys; the checksums of all exports
//! run on both cores; and reconciling each person's ledger with payroll is a job committed with
//! the exports, not part of the close.

use chrono::{DateTime, Utc};

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ConflictCode};
use crate::payroll::dto::ClosedPeriodView;
use crate::payroll::service;
use crate::timesheets::periods::period_view;
use crate::timesheets::repo as periods;

/// Closes a pay period for payroll: from now on it is locked. Who may call: admins.
pub fn close_period(
    conn: &mut DbConnection,
    actor: &AuthUser,
    period_id: &str,
    now: DateTime<Utc>,
) -> AppResult<ClosedPeriodView> {
    let period = periods::find_period(conn, period_id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Update,
        Resource::PaySettings {
            organisation_id: &period.organisation_id,
        },
    )?;
    crate::db::write_transaction(conn, |conn| {
        if !periods::close_period(conn, &period.id, &actor.user_id, now.naive_utc())? {
            return Err(AppError::Conflict {
                code: ConflictCode::PeriodClosed,
                detail: "this pay period is already closed".into(),
            });
        }
        let closed = periods::find_period(conn, &period.id)?.ok_or(AppError::NotFound)?;
        let exports = service::export_period(conn, actor, &closed, now)?;
        let view = period_view(&closed);
        crate::audit::record(
            conn,
            Some(actor),
            crate::audit::Change::<(), _> {
                organisation_id: &period.organisation_id,
                action: "pay_period.closed",
                entity_type: "pay_period",
                entity_id: &period.id,
                before: None,
                after: Some(&view),
            },
        )?;
        Ok(ClosedPeriodView {
            period: view,
            exports,
        })
    })
}

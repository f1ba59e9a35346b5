//! The organisation's timesheet policy and its pay periods: what other domains (payroll) read
//! through. A closed period is never written to again; what comes late is paid in the next.
//!
//! Pay periods follow a pay calendar (`model::PayCalendar`): the organisation's, or the own
//! calendar of the employer who pays the work (`market::model::employment` decides who that
//! is), so a person employing PAs weekly and the organisation paying monthly each close their
//! own periods. A period of an employer's calendar carries the employer's id. Periods never
//! overlap within a calendar: a calendar's first period after a change starts the day after its
//! last closed one, and work dated in a closed period is paid in the next open one. (One gap
//! left: an employer leaving the organisation's calendar for its own starts its own periods
//! where its work falls; work dated before the organisation's last close could make an own
//! period over that time. The change is refused while such work is open, so only work recorded
//! late, after the change, meets it.)

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ConflictCode};
use crate::market::model::employment::{employment_on, Employment, Engaged};
use crate::market::repo as market_repo;
use crate::timesheets::dto::*;
use crate::timesheets::model::{Approver, PayCalendar, PayFrequency, Policy};
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
        pay_days_after_end: row.pay_days_after_end,
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
        pay_days_after_end: request.pay_days_after_end,
    };
    crate::db::write_transaction(conn, |conn| {
        let calendar = Calendar::organisation(organisation_id, &before);
        let next = PayCalendar {
            frequency: request.pay_frequency,
            anchor: request.period_anchor,
            pay_days_after_end: request.pay_days_after_end,
        };
        change_calendar(conn, &calendar, &next, Moving::All, |field| match field {
            "frequency" => "pay_frequency",
            "anchor" => "period_anchor",
            _ => "pay_days_after_end",
        })?;
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

/// A payroll's calendar: the organisation's, or one employer's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Calendar {
    pub organisation_id: String,
    /// The employer paying on its own calendar; `None` for the organisation's.
    pub employer_id: Option<String>,
    pub rule: PayCalendar,
}

impl Calendar {
    pub fn organisation(organisation_id: &str, policy: &Policy) -> Self {
        Self {
            organisation_id: organisation_id.to_owned(),
            employer_id: None,
            rule: policy.calendar(),
        }
    }

    /// The calendar `period` belongs to: its employer's own, or, when that employer has since
    /// gone over to the organisation's, the organisation's.
    pub fn of_period(
        conn: &mut DbConnection,
        period: &PayPeriodRow,
        policy: &Policy,
    ) -> AppResult<Self> {
        let own = match &period.employer_id {
            Some(employer_id) => own_calendar(repo::employer_calendar(conn, employer_id)?)?,
            None => None,
        };
        Ok(match (own, &period.employer_id) {
            (Some(rule), Some(employer_id)) => Self {
                organisation_id: period.organisation_id.clone(),
                employer_id: Some(employer_id.clone()),
                rule,
            },
            _ => Self::organisation(&period.organisation_id, policy),
        })
    }

    /// The calendar of an employer: its own, else the organisation's.
    pub fn of_employer(
        conn: &mut DbConnection,
        organisation_id: &str,
        employer_id: &str,
        policy: &Policy,
    ) -> AppResult<Self> {
        Ok(
            match own_calendar(repo::employer_calendar(conn, employer_id)?)? {
                Some(rule) => Self {
                    organisation_id: organisation_id.to_owned(),
                    employer_id: Some(employer_id.to_owned()),
                    rule,
                },
                None => Self::organisation(organisation_id, policy),
            },
        )
    }
}

/// An employer's own calendar, as its column holds it.
pub fn own_calendar(stored: Option<String>) -> AppResult<Option<PayCalendar>> {
    stored
        .map(|text| crate::db::json::from_text("pay_calendar", &text))
        .transpose()
}

/// Who pays the work of some PAs, loaded together: their engagements and the employers paying
/// on their own calendars. Asked which calendar a PA's work for a person on a date is paid on.
pub struct PayRouting {
    organisation: Calendar,
    engagements: HashMap<String, Vec<Engaged>>,
    own_calendars: HashMap<String, PayCalendar>,
}

impl PayRouting {
    pub fn load(
        conn: &mut DbConnection,
        organisation_id: &str,
        policy: &Policy,
        pa_ids: &[String],
    ) -> AppResult<Self> {
        let mut own_calendars = HashMap::new();
        for (employer_id, text) in repo::own_calendars_in(conn, organisation_id)? {
            if let Some(rule) = own_calendar(Some(text))? {
                own_calendars.insert(employer_id, rule);
            }
        }
        Ok(Self {
            organisation: Calendar::organisation(organisation_id, policy),
            engagements: market_repo::engagements_of_pas(conn, pa_ids)?,
            own_calendars,
        })
    }

    /// The calendar that pays `pa_id`'s work for `holder_id` on `date`: the paying employer's
    /// own, else the organisation's. A PA who had left by then is refused (409
    /// `engagement_ended`): no door records work after a PA's last day.
    pub fn calendar_for(
        &self,
        pa_id: &str,
        holder_id: &str,
        date: NaiveDate,
    ) -> AppResult<Calendar> {
        let engagements = self.engagements.get(pa_id).map_or(&[][..], Vec::as_slice);
        match employment_on(engagements, holder_id, date) {
            Employment::Employed(e) => Ok(match self.own_calendars.get(&e.employer_id) {
                Some(rule) => Calendar {
                    organisation_id: self.organisation.organisation_id.clone(),
                    employer_id: Some(e.employer_id.clone()),
                    rule: *rule,
                },
                None => self.organisation.clone(),
            }),
            Employment::Left(e) => Err(AppError::Conflict {
                code: ConflictCode::EngagementEnded,
                detail: format!(
                    "the PA's employment for this person ended on {}: no work after it is recorded",
                    e.ends_on.map_or_else(String::new, |d| d.to_string())
                ),
            }),
            Employment::NotEngaged => Ok(self.organisation.clone()),
        }
    }
}

/// The pay period of `calendar` that takes work dated `date`: the one holding it if still open,
/// else the first open one after it (a closed period is locked; what comes late is paid in the
/// next). Periods are made as they are first needed, never over a closed one.
pub fn open_period_for(
    conn: &mut DbConnection,
    calendar: &Calendar,
    date: NaiveDate,
) -> AppResult<PayPeriodRow> {
    let organisation_id = calendar.organisation_id.as_str();
    let employer_id = calendar.employer_id.as_deref();
    let mut day = date;
    // A bounded walk: periods are closed one by one, so the next open one is near.
    for _ in 0..120 {
        let (starts_on, ends_on) = calendar.rule.period_of(day);
        let period = match repo::period_starting(conn, organisation_id, employer_id, starts_on)? {
            Some(period) => period,
            None => {
                // Made only after the calendar's last closed period: a calendar changed since
                // then must not reopen the time it covered.
                if let Some(closed) = repo::last_closed_period(conn, organisation_id, employer_id)?
                {
                    if starts_on <= closed.ends_on {
                        day = closed.ends_on + Duration::days(1);
                        continue;
                    }
                }
                let rules = crate::rules::uk();
                repo::insert_period_if_absent(
                    conn,
                    &PayPeriodRow {
                        id: crate::ids::new_id(),
                        organisation_id: organisation_id.to_owned(),
                        starts_on,
                        ends_on,
                        closed_by: None,
                        closed_at: None,
                        employer_id: employer_id.map(str::to_owned),
                        pay_date: calendar
                            .rule
                            .pay_date(ends_on, |d| rules.bank_holiday(d).is_some()),
                    },
                )?;
                repo::period_starting(conn, organisation_id, employer_id, starts_on)?
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

/// Work waiting in an open period: a timesheet in it or paid in it, an amendment or an
/// adjustment paid in it; for the PA's work for the person, as of the period's last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodWork {
    pub period_id: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub on: NaiveDate,
}

/// Whose work a calendar change moves.
pub enum Moving<'a> {
    /// The calendar itself changes: all its work.
    All,
    /// One employer leaves a calendar others stay on (the organisation's): only the work
    /// `ours` says is theirs.
    Some(&'a dyn Fn(&PeriodWork) -> bool),
}

/// Checks that `next` may take the place of `calendar` for the work `moving` says, by
/// `model::PayCalendar::change_problem` (a 422 naming `field(..)` of the caller's request
/// otherwise). When the calendar itself changes, its open periods holding no work are removed
/// and those left take the new pay date. Inside the caller's transaction, before it stores
/// `next`.
pub fn change_calendar(
    conn: &mut DbConnection,
    calendar: &Calendar,
    next: &PayCalendar,
    moving: Moving<'_>,
    field: impl Fn(&'static str) -> &'static str,
) -> AppResult<()> {
    let organisation_id = calendar.organisation_id.as_str();
    let employer_id = calendar.employer_id.as_deref();
    let open = repo::open_periods(conn, organisation_id, employer_id)?;
    let open_ids: Vec<String> = open.iter().map(|p| p.id.clone()).collect();
    let work: Vec<PeriodWork> = repo::work_in_periods(conn, &open_ids)?
        .into_iter()
        .map(|(period_id, pa_id, budget_holder_id)| {
            let on = open
                .iter()
                .find(|p| p.id == period_id)
                .map_or(NaiveDate::MIN, |p| p.ends_on);
            PeriodWork {
                period_id,
                pa_id,
                budget_holder_id,
                on,
            }
        })
        .collect();
    let ours = |w: &PeriodWork| match &moving {
        Moving::All => true,
        Moving::Some(ours) => ours(w),
    };
    let busy = open
        .iter()
        .find(|p| work.iter().any(|w| w.period_id == p.id && ours(w)));
    let last_closed = repo::last_closed_period(conn, organisation_id, employer_id)?;
    if let Some((problem, detail)) = next.change_problem(
        &calendar.rule,
        last_closed.as_ref().map(|p| p.ends_on),
        busy.map(|p| (p.starts_on, p.ends_on)),
    ) {
        return Err(AppError::field(field(problem), "calendar_change", &detail));
    }
    if matches!(moving, Moving::Some(_)) {
        return Ok(());
    }
    if !next.same_periods(&calendar.rule) {
        let empty: Vec<String> = open
            .iter()
            .filter(|p| !work.iter().any(|w| w.period_id == p.id))
            .map(|p| p.id.clone())
            .collect();
        return repo::delete_periods(conn, &empty);
    }
    let rules = crate::rules::uk();
    for period in &open {
        let pay_date = next.pay_date(period.ends_on, |d| rules.bank_holiday(d).is_some());
        if pay_date != period.pay_date {
            repo::set_pay_date(conn, &period.id, pay_date)?;
        }
    }
    Ok(())
}

pub fn period_view(period: &PayPeriodRow) -> PayPeriodView {
    PayPeriodView {
        id: period.id.clone(),
        starts_on: period.starts_on,
        ends_on: period.ends_on,
        employer_id: period.employer_id.clone(),
        pay_date: period.pay_date,
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

//! The Working Time Regulations as they apply to one PA: the rest rules from the dated UK rules,
//! and the weekly cap on hours, which is the 48-hour average (reg. 4) unless the PA has opted
//! out in writing (reg. 5, until a withdrawal takes effect) or is a domestic worker in a private
//! household (reg. 19), and never more than the PA's own maximum.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::schema::pa_working_time;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::market::repo as market_repo;
use crate::market::repo::pa_resource;
use crate::rostering::dto::{PutWorkingTime, WorkingTimeView};
use crate::rostering::solver::Rules;

/// No cap: more minutes than a week holds.
pub const UNCAPPED: i64 = 7 * 24 * 60 + 1;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pa_working_time, treat_none_as_null = true)]
pub struct WorkingTimeRow {
    pub pa_id: String,
    pub max_minutes_per_week: Option<i32>,
    pub opted_out_on: Option<NaiveDate>,
    pub opt_out_withdrawn_on: Option<NaiveDate>,
    pub domestic_worker: bool,
    pub updated_by: String,
    pub updated_at: chrono::NaiveDateTime,
}

/// Daily and weekly rest in force on `date`, from the dated rules (the statutory minimum when
/// the rules file has nothing that early).
pub fn rest_rules(date: NaiveDate) -> Rules {
    crate::rules::uk()
        .working_time(date)
        .map_or_else(Rules::working_time_regulations, |wt| Rules {
            daily_rest: wt.daily_rest_hours * 60,
            weekly_rest: wt.weekly_rest_hours * 60,
        })
}

/// Whether the 48-hour average binds the PA on `date`.
pub fn average_week_applies(record: Option<&WorkingTimeRow>, date: NaiveDate) -> bool {
    let Some(r) = record else {
        return true;
    };
    if r.domestic_worker {
        return false;
    }
    let opted_out = r.opted_out_on.is_some_and(|signed| signed <= date)
        && r.opt_out_withdrawn_on.is_none_or(|ends| date < ends);
    !opted_out
}

/// The most minutes a week the PA may be rostered on average, from `date`.
pub fn weekly_cap(record: Option<&WorkingTimeRow>, date: NaiveDate) -> i64 {
    let statutory = average_week_applies(record, date).then(|| {
        crate::rules::uk()
            .working_time(date)
            .map_or(48, |wt| wt.average_weekly_hours_limit)
            * 60
    });
    let own = record.and_then(|r| r.max_minutes_per_week).map(i64::from);
    match (statutory, own) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => UNCAPPED,
    }
}

/// The lowest weekly cap in force on any day from `from` to `to`: the safe side when an opt-out
/// starts or is withdrawn within the range.
pub fn lowest_cap(record: Option<&WorkingTimeRow>, from: NaiveDate, to: NaiveDate) -> i64 {
    let changes = record
        .into_iter()
        .flat_map(|r| [r.opted_out_on, r.opt_out_withdrawn_on])
        .flatten()
        .filter(|d| from <= *d && *d <= to);
    [from, to]
        .into_iter()
        .chain(changes)
        .map(|d| weekly_cap(record, d))
        .min()
        .unwrap_or(UNCAPPED)
}

/// These PAs' working-time records, by PA id (a PA without one has none).
pub fn records(
    conn: &mut DbConnection,
    pa_ids: &[String],
) -> AppResult<HashMap<String, WorkingTimeRow>> {
    let mut records: HashMap<String, WorkingTimeRow> = HashMap::new();
    for chunk in pa_ids.chunks(500) {
        for row in pa_working_time::table
            .filter(pa_working_time::pa_id.eq_any(chunk))
            .select(WorkingTimeRow::as_select())
            .load(conn)?
        {
            records.insert(row.pa_id.clone(), row);
        }
    }
    Ok(records)
}

/// The weekly caps of these PAs over `from`..=`to` (the lowest in force on any day), by PA id.
pub fn caps(
    conn: &mut DbConnection,
    pa_ids: &[String],
    (from, to): (NaiveDate, NaiveDate),
) -> AppResult<HashMap<String, i64>> {
    let records = records(conn, pa_ids)?;
    Ok(pa_ids
        .iter()
        .map(|id| (id.clone(), lowest_cap(records.get(id), from, to)))
        .collect())
}

fn find(conn: &mut DbConnection, pa_id: &str) -> AppResult<Option<WorkingTimeRow>> {
    Ok(pa_working_time::table
        .find(pa_id)
        .select(WorkingTimeRow::as_select())
        .first(conn)
        .optional()?)
}

fn view(pa_id: &str, row: Option<&WorkingTimeRow>, today: NaiveDate) -> WorkingTimeView {
    let cap = weekly_cap(row, today);
    WorkingTimeView {
        pa_id: pa_id.to_owned(),
        max_hours_per_week: row
            .and_then(|r| r.max_minutes_per_week)
            .map(|m| f64::from(m) / 60.0),
        opted_out_on: row.and_then(|r| r.opted_out_on),
        opt_out_withdrawn_on: row.and_then(|r| r.opt_out_withdrawn_on),
        domestic_worker: row.is_some_and(|r| r.domestic_worker),
        average_week_applies_today: average_week_applies(row, today),
        weekly_cap_hours_today: (cap < UNCAPPED).then(|| cap as f64 / 60.0),
    }
}

pub fn read(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    now: DateTime<Utc>,
) -> AppResult<WorkingTimeView> {
    let pa = market_repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Read, pa_resource(&pa))?;
    let row = find(conn, &pa.id)?;
    Ok(view(&pa.id, row.as_ref(), now.date_naive()))
}

pub fn put(
    conn: &mut DbConnection,
    actor: &AuthUser,
    pa_id: &str,
    request: PutWorkingTime,
    now: DateTime<Utc>,
) -> AppResult<WorkingTimeView> {
    let pa = market_repo::find_pa(conn, pa_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, pa_resource(&pa))?;
    let today = now.date_naive();
    if request.opted_out_on.is_some_and(|d| d > today) {
        return Err(AppError::field(
            "opted_out_on",
            "in_future",
            "is the date the PA signed the opt-out, so not after today",
        ));
    }
    match (request.opted_out_on, request.opt_out_withdrawn_on) {
        (None, Some(_)) => {
            return Err(AppError::field(
                "opt_out_withdrawn_on",
                "without_opt_out",
                "needs the opt-out it withdraws (opted_out_on)",
            ))
        }
        (Some(signed), Some(ends)) if ends <= signed => {
            return Err(AppError::field(
                "opt_out_withdrawn_on",
                "before_opt_out",
                "must be after opted_out_on",
            ))
        }
        _ => {}
    }
    let row = WorkingTimeRow {
        pa_id: pa.id.clone(),
        max_minutes_per_week: request.max_hours_per_week.map(|h| i32::from(h) * 60),
        opted_out_on: request.opted_out_on,
        opt_out_withdrawn_on: request.opt_out_withdrawn_on,
        domestic_worker: request.domestic_worker,
        updated_by: actor.user_id.clone(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        let before = find(conn, &pa.id)?;
        // MultiConnection has no upsert; two first writes at once on PostgreSQL make one a
        // unique violation, reported as a conflict to retry.
        if before.is_some() {
            diesel::update(pa_working_time::table.find(&pa.id))
                .set(&row)
                .execute(conn)?;
        } else {
            diesel::insert_into(pa_working_time::table)
                .values(&row)
                .execute(conn)?;
        }
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &pa.organisation_id,
                action: "pa.working_time_set",
                entity_type: "pa_profile",
                entity_id: &pa.id,
                before: before
                    .as_ref()
                    .map(|b| view(&pa.id, Some(b), today))
                    .as_ref(),
                after: Some(&view(&pa.id, Some(&row), today)),
            },
        )
    })?;
    Ok(view(&pa.id, Some(&row), today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        opted_out_on: Option<&str>,
        withdrawn_on: Option<&str>,
        domestic_worker: bool,
        own_hours: Option<i32>,
    ) -> WorkingTimeRow {
        let date = |d: &str| d.parse::<NaiveDate>().unwrap();
        WorkingTimeRow {
            pa_id: "pa".into(),
            max_minutes_per_week: own_hours.map(|h| h * 60),
            opted_out_on: opted_out_on.map(date),
            opt_out_withdrawn_on: withdrawn_on.map(date),
            domestic_worker,
            updated_by: "m".into(),
            updated_at: chrono::NaiveDateTime::default(),
        }
    }

    fn on(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn the_48_hour_average_binds_unless_opted_out_in_writing_until_withdrawn() {
        assert_eq!(weekly_cap(None, on("2027-01-04")), 48 * 60);
        let opted = record(Some("2026-06-01"), Some("2027-02-01"), false, None);
        assert_eq!(weekly_cap(Some(&opted), on("2026-05-31")), 48 * 60);
        assert_eq!(weekly_cap(Some(&opted), on("2026-06-01")), UNCAPPED);
        assert_eq!(weekly_cap(Some(&opted), on("2027-01-31")), UNCAPPED);
        assert_eq!(weekly_cap(Some(&opted), on("2027-02-01")), 48 * 60);
    }

    #[test]
    fn a_domestic_worker_has_no_average_week_but_keeps_their_own_maximum() {
        let domestic = record(None, None, true, None);
        assert!(!average_week_applies(Some(&domestic), on("2027-01-04")));
        assert_eq!(weekly_cap(Some(&domestic), on("2027-01-04")), UNCAPPED);
        let capped = record(None, None, true, Some(30));
        assert_eq!(weekly_cap(Some(&capped), on("2027-01-04")), 30 * 60);
        // The PA's own maximum never raises the statutory one.
        let own = record(None, None, false, Some(60));
        assert_eq!(weekly_cap(Some(&own), on("2027-01-04")), 48 * 60);
    }

    #[test]
    fn over_a_range_the_lowest_cap_in_force_on_any_day_applies() {
        let withdrawn = record(Some("2026-06-01"), Some("2027-01-15"), false, None);
        assert_eq!(
            lowest_cap(Some(&withdrawn), on("2027-01-04"), on("2027-01-10")),
            UNCAPPED
        );
        assert_eq!(
            lowest_cap(Some(&withdrawn), on("2027-01-04"), on("2027-01-31")),
            48 * 60
        );
        let starts = record(Some("2027-01-10"), None, false, None);
        assert_eq!(
            lowest_cap(Some(&starts), on("2027-01-04"), on("2027-01-31")),
            48 * 60
        );
    }

    #[test]
    fn rest_comes_from_the_dated_rules() {
        let rules = rest_rules(on("2027-01-04"));
        assert_eq!(rules.daily_rest, 11 * 60);
        assert_eq!(rules.weekly_rest, 24 * 60);
    }
}

//! Rate cards and quotes: each action authorises, checks, writes in one transaction with its
//! audit record, and answers.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode, FieldError};
use crate::pricing::dto::*;
use crate::pricing::model::{
    self, PatternShift, PricingError, RateCardKind, RateTerms, ShiftKind, Version,
};
use crate::pricing::repo::{self, RateCardRow, RateCardVersionRow};
use crate::rules;

fn cards_resource(actor: &AuthUser) -> Resource<'_> {
    Resource::RateCards {
        organisation_id: &actor.organisation_id,
    }
}

/// The card's terms checked: shape, then the adult minimum wage in force on `effective_from`.
fn checked_terms(terms: &RateTerms, effective_from: NaiveDate) -> AppResult<()> {
    let errors = terms.check();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some((level, minimum)) = terms.below_minimum_wage(rules::uk(), effective_from) {
        let at = terms
            .levels
            .iter()
            .position(|l| l.level == level.level)
            .unwrap_or(0);
        return Err(AppError::Validation(vec![FieldError::new(
            format!("terms.levels[{at}].pay_pence"),
            "below_minimum_wage",
            format!(
                "level {} pays {} an hour, below the {} National Living Wage in force on {effective_from}",
                level.level,
                level.pay_pence,
                minimum
            ),
        )]));
    }
    Ok(())
}

fn version_view(row: &RateCardVersionRow) -> AppResult<RateCardVersionView> {
    Ok(RateCardVersionView {
        id: row.id.clone(),
        effective_from: row.effective_from,
        terms: crate::db::json::from_text("terms", &row.terms)?,
        created_at: row.created_at,
    })
}

fn card_view(card: &RateCardRow, versions: &[RateCardVersionRow]) -> AppResult<RateCardView> {
    Ok(RateCardView {
        id: card.id.clone(),
        name: card.name.clone(),
        kind: RateCardKind::parse(&card.kind)
            .ok_or_else(|| AppError::internal("unknown rate card kind"))?,
        versions: versions
            .iter()
            .filter(|v| v.rate_card_id == card.id)
            .map(version_view)
            .collect::<AppResult<_>>()?,
    })
}

pub fn create_card(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateRateCard,
    now: DateTime<Utc>,
) -> AppResult<RateCardView> {
    authorize(actor, Action::Create, cards_resource(actor))?;
    checked_terms(&request.terms, request.effective_from)?;
    let card = RateCardRow {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        name: request.name.trim().to_owned(),
        kind: request.kind.as_str().to_owned(),
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
    };
    let version = RateCardVersionRow {
        id: crate::ids::new_id(),
        rate_card_id: card.id.clone(),
        effective_from: request.effective_from,
        terms: crate::db::json::to_text(&request.terms)?,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
    };
    let view = card_view(&card, std::slice::from_ref(&version))?;
    write_transaction(conn, |conn| {
        repo::insert_card(conn, &card).map_err(|e| match e {
            AppError::Conflict { .. } => AppError::Conflict {
                code: ConflictCode::NameTaken,
                detail: "a rate card with this name already exists".into(),
            },
            other => other,
        })?;
        repo::insert_version(conn, &version)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &card.organisation_id,
                action: "rate_card.created",
                entity_type: "rate_card",
                entity_id: &card.id,
                before: None,
                after: Some(&view),
            },
        )
    })?;
    Ok(view)
}

fn card_in_org(conn: &mut DbConnection, actor: &AuthUser, id: &str) -> AppResult<RateCardRow> {
    repo::find_card(conn, id)?
        .filter(|c| c.organisation_id == actor.organisation_id)
        .ok_or(AppError::NotFound)
}

pub fn add_version(
    conn: &mut DbConnection,
    actor: &AuthUser,
    card_id: &str,
    request: CreateRateCardVersion,
    now: DateTime<Utc>,
) -> AppResult<RateCardView> {
    authorize(actor, Action::Create, cards_resource(actor))?;
    let card = card_in_org(conn, actor, card_id)?;
    // A version already in force may have priced shifts; a new one starting on or before today
    // would reprice them.
    if request.effective_from <= now.date_naive() {
        return Err(AppError::field(
            "effective_from",
            "not_in_future",
            "must be after today: rates already in force are never changed",
        ));
    }
    checked_terms(&request.terms, request.effective_from)?;
    let version = RateCardVersionRow {
        id: crate::ids::new_id(),
        rate_card_id: card.id.clone(),
        effective_from: request.effective_from,
        terms: crate::db::json::to_text(&request.terms)?,
        created_by: actor.user_id.clone(),
        created_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        repo::insert_version(conn, &version).map_err(|e| match e {
            AppError::Conflict { .. } => AppError::Conflict {
                code: ConflictCode::VersionExists,
                detail: "this card already has a version from that date".into(),
            },
            other => other,
        })?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &card.organisation_id,
                action: "rate_card.version_added",
                entity_type: "rate_card",
                entity_id: &card.id,
                before: None,
                after: Some(&version_view(&version)?),
            },
        )
    })?;
    let versions = repo::versions_of(conn, std::slice::from_ref(&card.id))?;
    card_view(&card, &versions)
}

pub fn list_cards(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<Vec<RateCardView>> {
    authorize(actor, Action::Read, cards_resource(actor))?;
    let cards = repo::list_cards(conn, &actor.organisation_id)?;
    let ids: Vec<String> = cards.iter().map(|c| c.id.clone()).collect();
    let versions = repo::versions_of(conn, &ids)?;
    cards.iter().map(|c| card_view(c, &versions)).collect()
}

pub fn read_card(conn: &mut DbConnection, actor: &AuthUser, id: &str) -> AppResult<RateCardView> {
    authorize(actor, Action::Read, cards_resource(actor))?;
    let card = card_in_org(conn, actor, id)?;
    let versions = repo::versions_of(conn, std::slice::from_ref(&card.id))?;
    card_view(&card, &versions)
}

fn pattern_of(request: &[QuoteShift]) -> AppResult<Vec<PatternShift>> {
    let mut errors = Vec::new();
    let mut pattern = Vec::new();
    if !(1..=100).contains(&request.len()) {
        errors.push(FieldError::new(
            "pattern",
            "length",
            "must hold 1 to 100 shifts",
        ));
    }
    for (i, s) in request.iter().enumerate() {
        let here = |f: &str| format!("pattern[{i}].{f}");
        let start = model::parse_clock(&s.start);
        let end = model::parse_clock(&s.end);
        if start.is_none() {
            errors.push(FieldError::new(
                here("start"),
                "invalid_time",
                "must be a time HH:MM",
            ));
        }
        if end.is_none() {
            errors.push(FieldError::new(
                here("end"),
                "invalid_time",
                "must be a time HH:MM",
            ));
        }
        if !(1..=2).contains(&s.headcount) {
            errors.push(FieldError::new(
                here("headcount"),
                "range",
                "must be 1, or 2 for 2:1 support",
            ));
        }
        if !(1..=4).contains(&s.level) {
            errors.push(FieldError::new(here("level"), "range", "must be 1 to 4"));
        }
        let woken_minutes = (s.woken_hours * 60.0).round() as i64;
        if !(0.0..=24.0).contains(&s.woken_hours) {
            errors.push(FieldError::new(
                here("woken_hours"),
                "range",
                "must be between 0 and 24",
            ));
        } else if s.kind != ShiftKind::SleepIn && woken_minutes > 0 {
            errors.push(FieldError::new(
                here("woken_hours"),
                "sleep_in_only",
                "applies only to sleep-ins",
            ));
        }
        if let (Some(start), Some(end)) = (start, end) {
            let length = (end - start).num_minutes().rem_euclid(24 * 60);
            let length = if length == 0 { 24 * 60 } else { length };
            if woken_minutes > length {
                errors.push(FieldError::new(
                    here("woken_hours"),
                    "range",
                    "must not be longer than the sleep-in",
                ));
            }
            pattern.push(PatternShift {
                day: s.day,
                start,
                end,
                kind: s.kind,
                headcount: s.headcount,
                level: s.level,
                short_notice: s.short_notice,
                woken_minutes,
            });
        }
    }
    if errors.is_empty() {
        Ok(pattern)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The card and its versions, which must be of `kind`: a personalised price is never taken
/// from a framework card, nor the other way round.
fn card_versions(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    kind: RateCardKind,
    field: &str,
) -> AppResult<(RateCardRow, Vec<Version>)> {
    let card = crate::ids::parse_id(id)
        .map(|id| card_in_org(conn, actor, &id))
        .transpose()
        .or_else(|e| match e {
            AppError::NotFound => Ok(None),
            other => Err(other),
        })?
        .ok_or_else(|| {
            AppError::field(
                field,
                "not_found",
                "is not a rate card of this organisation",
            )
        })?;
    if card.kind != kind.as_str() {
        return Err(AppError::field(
            field,
            "wrong_kind",
            &format!("must be a {} rate card", kind.as_str().replace('_', " ")),
        ));
    }
    let versions = repo::versions_of(conn, std::slice::from_ref(&card.id))?
        .iter()
        .map(|v| {
            version_view(v).map(|view| Version {
                id: v.id.clone(),
                effective_from: v.effective_from,
                terms: view.terms,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok((card, versions))
}

fn priced_or_problem(
    outcome: Result<model::Priced, PricingError>,
    field: &str,
) -> AppResult<model::Priced> {
    outcome.map_err(|e| match e {
        PricingError::NoVersion(date) => AppError::field(
            field,
            "no_version_in_force",
            &format!("has no version in force on {date}"),
        ),
        PricingError::LevelNotPriced { level, field, .. } => AppError::field(
            &field,
            "level_not_priced",
            &format!("level {level} is not priced by the card in force"),
        ),
        PricingError::BelowMinimumWage {
            level,
            pay_pence,
            minimum_pence,
            date,
        } => AppError::field(
            field,
            "below_minimum_wage",
            &format!(
                "level {level} pays {pay_pence} an hour on {date}, below the {minimum_pence} National Living Wage then in force: add a new version of the card"
            ),
        ),
        PricingError::RulesUnknown(date) => AppError::field(
            "start_date",
            "beyond_known_rules",
            &format!("the UK rules held do not cover {date}"),
        ),
    })
}

pub fn quote(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: QuoteRequest,
    today: NaiveDate,
) -> AppResult<QuoteView> {
    authorize(actor, Action::Read, cards_resource(actor))?;
    let pattern = pattern_of(&request.pattern)?;
    let start = request.start_date.unwrap_or(today);
    let weeks = request.weeks.unwrap_or(52);
    let end = start + Duration::days(i64::from(weeks) * 7 - 1);
    let rules = rules::uk();
    if rules
        .bank_holidays_known_until()
        .is_none_or(|last| end > last)
    {
        return Err(AppError::field(
            "weeks",
            "beyond_known_bank_holidays",
            "runs past the last year of bank holidays held",
        ));
    }
    let weekly_minutes: i64 = pattern
        .iter()
        .filter(|s| s.kind != ShiftKind::SleepIn)
        .map(|s| {
            let length = (s.end - s.start).num_minutes().rem_euclid(24 * 60);
            (if length == 0 { 24 * 60 } else { length }) * i64::from(s.headcount)
        })
        .sum();
    // One PA per 37.5 hours a week by default; a 2:1 pattern needs two at least.
    let headcount = pattern
        .iter()
        .map(|s| u32::from(s.headcount))
        .max()
        .unwrap_or(1);
    let team_size = request.team_size.unwrap_or_else(|| {
        u32::try_from((weekly_minutes + 2249) / 2250)
            .unwrap_or(1)
            .max(headcount)
    });
    let (card, versions) = card_versions(
        conn,
        actor,
        &request.rate_card_id,
        RateCardKind::Personalised,
        "rate_card_id",
    )?;
    let personalised = CardPriced {
        rate_card_id: card.id.clone(),
        name: card.name.clone(),
        kind: RateCardKind::Personalised,
        priced: priced_or_problem(
            model::price(&pattern, &versions, rules, start, weeks, team_size),
            "rate_card_id",
        )?,
    };
    let framework = match &request.framework_card_id {
        None => None,
        Some(id) => {
            let (card, versions) = card_versions(
                conn,
                actor,
                id,
                RateCardKind::SocialCareFramework,
                "framework_card_id",
            )?;
            Some(CardPriced {
                rate_card_id: card.id.clone(),
                name: card.name.clone(),
                kind: RateCardKind::SocialCareFramework,
                priced: priced_or_problem(
                    model::price(&pattern, &versions, rules, start, weeks, team_size),
                    "framework_card_id",
                )?,
            })
        }
    };
    let difference = framework.as_ref().map(|f| {
        let total = personalised.priced.total_pence - f.priced.total_pence;
        let percent = if f.priced.total_pence.is_zero() {
            0.0
        } else {
            (total.get() as f64 / f.priced.total_pence.get() as f64 * 1000.0).round() / 10.0
        };
        QuoteDifference {
            total_pence: total,
            per_week_pence: personalised.priced.per_week_pence - f.priced.per_week_pence,
            percent,
            summary: format!(
                "Priced by competency, this support costs {} {} ({:+.1}%) than under {}: {} a week {}",
                total.abs(),
                if total.is_negative() { "less" } else { "more" },
                percent,
                f.name,
                (personalised.priced.per_week_pence - f.priced.per_week_pence).abs(),
                if total.is_negative() { "less" } else { "more" },
            ),
        }
    });
    Ok(QuoteView {
        start_date: start,
        end_date: end,
        weeks,
        team_size,
        personalised,
        framework,
        difference,
    })
}

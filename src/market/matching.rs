//! Matching PAs to a person: ranked matches from the in-memory index, one match explained rule by
//! rule, and a PA's own view of the people near them they could support.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::auth::policy::{authorize, Action};
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::geo::{self, Location};
use crate::http::{Page, PageQuery};
use crate::market::dto::*;
use crate::market::index::{self, MatchIndex};
use crate::market::model::top_matches;
use crate::market::model::{
    self, assess, Assessment, Candidate, MatchPolicy, PersonNeeds, ScoreSketch, SignOff,
    SupportNeed, MAX_TRAVEL_KM,
};
use crate::market::repo::{self, *};

use crate::db::json::from_text as from_json;
use crate::market::model::{minutes_to_hours, person_hours};

fn match_view(a: Assessment, pa: &Candidate) -> MatchView {
    let summary = if a.eligible {
        let best = a
            .breakdown
            .iter()
            .filter(|p| p.points >= p.max_points * 0.8)
            .map(|p| p.factor)
            .collect::<Vec<_>>();
        format!(
            "{} scores {:.0}/100, {:.1} km away{}",
            pa.display_name,
            a.score,
            a.distance_km,
            if best.is_empty() {
                String::new()
            } else {
                format!("; strongest on {}", best.join(", "))
            }
        )
    } else {
        let failed: Vec<&str> = a
            .rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.explanation.as_str())
            .collect();
        format!(
            "{} is not a safe match: {}",
            pa.display_name,
            failed.join("; ")
        )
    };
    MatchView {
        pa_id: a.pa_id,
        display_name: pa.display_name.clone(),
        district: pa.district.clone(),
        distance_km: (a.distance_km * 10.0).round() / 10.0,
        score: a.score,
        eligible: a.eligible,
        summary,
        breakdown: a.breakdown,
        rules: a.rules,
    }
}

/// PAs ranked for a person, from the in-memory index of the organisation's PAs (caught up with
/// the database first). Every nearby PA is judged by the hard rules in their cheap form and
/// scored; only the page returned is judged again with its words. `include_ineligible` explains
/// everyone instead, for understanding a shortage.
pub fn matches(
    conn: &mut DbConnection,
    index: &MatchIndex,
    actor: &AuthUser,
    holder_id: &str,
    query: &MatchQuery,
    today: NaiveDate,
) -> AppResult<Page<MatchView>> {
    let (holder, revision) =
        repo::budget_holder_and_revision(conn, holder_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let limit = usize::try_from(
        PageQuery {
            limit: query.limit,
            cursor: None,
        }
        .limit()?,
    )
    .unwrap_or(50);
    let offset: usize = match &query.cursor {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| AppError::field("cursor", "invalid", "is not a cursor from this list"))?,
    };
    if let Some(d) = query.max_distance_km {
        if !(0.0..=MAX_TRAVEL_KM).contains(&d) {
            return Err(AppError::field(
                "max_distance_km",
                "range",
                "must be between 0 and 80",
            ));
        }
    }
    let person = person_needs(conn, &holder)?;
    let organisation = index.current_at(conn, &holder.organisation_id, revision)?;
    let pas = index::read(&organisation);
    let policy = MatchPolicy::default();
    let wanted = offset + limit;
    let within = |distance: f64| query.max_distance_km.is_none_or(|d| distance <= d);
    let min_score = query.min_score.unwrap_or(f64::NEG_INFINITY);
    if let Some(level) = query.min_level {
        model::check_level("min_level", level).map_err(|e| AppError::Validation(vec![e]))?;
    }
    // Asking for a higher level than the person needs is asking for a stricter person.
    let person = PersonNeeds {
        minimum_level: person.minimum_level.max(query.min_level.unwrap_or(0)),
        ..person
    };
    let radius = query.max_distance_km.unwrap_or(MAX_TRAVEL_KM);
    // Delegated tasks count only with a sign-off for this person, so for someone who needs
    // them the few PAs signed off for them are the only possible matches.
    let needs_signoff = person.needs_signoff();

    let (best, more) = if query.include_ineligible.unwrap_or(false) {
        // Everyone, eligible or not, explained: for understanding a shortage.
        let mut judged: Vec<(Assessment, &Candidate)> = pas
            .near(person.location, radius)
            .map(|pa| {
                (
                    assess(&person, &pa.candidate, today, &policy),
                    &pa.candidate,
                )
            })
            .filter(|(a, _)| within(a.distance_km) && a.score >= min_score)
            .collect();
        judged.sort_by(|(a, _), (b, _)| {
            model::ranking(
                a.score,
                a.distance_km,
                &a.pa_id,
                b.score,
                b.distance_km,
                &b.pa_id,
            )
        });
        let more = judged.len() > wanted;
        judged.truncate(wanted);
        let items = judged
            .into_iter()
            .skip(offset)
            .map(|(a, c)| match_view(a, c))
            .collect();
        (items, more)
    } else {
        // The few signed off for this person are sketched on the spot; everyone else's
        // sketch waits in the grid.
        let near: Box<dyn Iterator<Item = (usize, ScoreSketch)>> = if needs_signoff {
            Box::new(
                pas.signed_off_slots(&holder.id)
                    .map(|slot| (slot, pas.candidate(slot).sketch())),
            )
        } else {
            Box::new(
                pas.near_sketches(person.location, radius)
                    .map(|(slot, sketch)| (slot, *sketch)),
            )
        };
        let team: Vec<usize> = person
            .team
            .iter()
            .filter_map(|id| pas.active_slot(id))
            .collect();
        let (top, more) = top_matches(
            &person,
            near,
            &|slot| pas.candidate(slot),
            &team,
            wanted,
            &within,
            min_score,
            today,
            &policy,
        );
        // Only the page shown is explained in words.
        let items = top
            .into_iter()
            .skip(offset)
            .map(|c| match_view(assess(&person, c, today, &policy), c))
            .collect();
        (items, more)
    };
    Ok(Page {
        items: best,
        next_cursor: more.then(|| wanted.to_string()),
    })
}

/// Why one PA is or is not a match for one person, rule by rule.
pub fn explain_match(
    conn: &mut DbConnection,
    actor: &AuthUser,
    holder_id: &str,
    pa_id: &str,
    today: NaiveDate,
) -> AppResult<MatchView> {
    let holder = repo::find_budget_holder(conn, holder_id)?.ok_or(AppError::NotFound)?;
    authorize(actor, Action::Administer, holder_resource(&holder))?;
    let pa = crate::ids::parse_id(pa_id)
        .map(|id| repo::find_pa(conn, &id))
        .transpose()?
        .flatten()
        .filter(|p| p.organisation_id == holder.organisation_id)
        .ok_or(AppError::NotFound)?;
    let person = person_needs(conn, &holder)?;
    let evidence = evidence_by_pa(conn, std::slice::from_ref(&pa.id))?
        .remove(&pa.id)
        .unwrap_or_default();
    let signoffs = repo::signoffs_for_holder(conn, &holder.id)?
        .into_iter()
        .filter(|s| s.pa_id == pa.id)
        .map(signoff_of)
        .collect();
    let c = candidate(&pa, evidence, signoffs)?;
    let mut assessment = assess(&person, &c, today, &MatchPolicy::default());
    if !pa.active {
        assessment.eligible = false;
        assessment.rules.insert(
            0,
            model::RuleOutcome {
                rule: "active".into(),
                passed: false,
                explanation: "the PA's profile is deactivated".into(),
            },
        );
    }
    Ok(match_view(assessment, &c))
}

/// For a PA: the people near them they are qualified and free to support. Shows what an offer
/// needs (district, distance, level, hours), never names or addresses.
pub fn opportunities(
    conn: &mut DbConnection,
    actor: &AuthUser,
    today: NaiveDate,
) -> AppResult<OpportunitiesView> {
    let pa_id = my_pa_id(conn, actor)?;
    let pa = repo::find_pa(conn, &pa_id)?.ok_or(AppError::NotFound)?;
    let location = Location {
        latitude: pa.latitude,
        longitude: pa.longitude,
    };
    let (low, high) = geo::bounding_box(location, pa.max_travel_km);
    let holders = repo::active_budget_holders_in_box(conn, &pa.organisation_id, low, high)?;
    let barred: HashSet<String> = repo::do_not_match_of_pa(conn, &pa.id)?
        .into_iter()
        .collect();
    let evidence = evidence_by_pa(conn, std::slice::from_ref(&pa.id))?
        .remove(&pa.id)
        .unwrap_or_default();
    let signoffs: Vec<SignOff> = repo::signoffs_of_pa(conn, &pa.id)?
        .into_iter()
        .map(signoff_of)
        .collect();
    let me = candidate(&pa, evidence, signoffs)?;
    let policy = MatchPolicy::default();
    let mut people = Vec::new();
    for holder in holders.iter().filter(|h| !barred.contains(&h.id)) {
        let person = person_needs(conn, holder)?;
        let a = assess(&person, &me, today, &policy);
        if !a.eligible {
            continue;
        }
        let support_needs: Vec<SupportNeed> = from_json("support_needs", &holder.support_needs)?;
        people.push(OpportunityView {
            budget_holder_id: holder.id.clone(),
            district: holder.district.clone(),
            distance_km: (a.distance_km * 10.0).round() / 10.0,
            minimum_level: holder.minimum_level,
            support_hours_per_week: person_hours(&support_needs),
            hours_you_are_available: minutes_to_hours(i64::from(model::covered_minutes(
                &person.support,
                &me.availability,
            ))),
            support_needs,
            score: a.score,
        });
    }
    people.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.distance_km.total_cmp(&b.distance_km))
    });
    Ok(OpportunitiesView { people })
}

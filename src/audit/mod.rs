//! The audit trail: who changed what, when, and what it was before and after. Entries are
//! written in the same transaction as the change they describe and are never updated.

pub mod handlers;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::AuthUser;
use crate::db::json::to_text;
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::error::AppResult;

pub use handlers::configure;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: String,
    pub organisation_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub occurred_at: NaiveDateTime,
}

/// What changed; `before`/`after` hold the fields that matter, never secrets.
pub struct Change<'a, B: Serialize, A: Serialize> {
    pub organisation_id: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: Option<&AuthUser>,
    change: Change<'_, B, A>,
) -> AppResult<()> {
    let event = AuditEvent {
        id: crate::ids::new_id(),
        organisation_id: Some(change.organisation_id.to_owned()),
        actor_user_id: actor.map(|a| a.user_id.clone()),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id.to_owned(),
        before_json: change.before.map(to_text).transpose()?,
        after_json: change.after.map(to_text).transpose()?,
        request_id: actor.and_then(|a| a.request_id.clone()),
        occurred_at: Utc::now().naive_utc(),
    };
    diesel::insert_into(audit_events::table)
        .values(&event)
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConnection,
    organisation_id: &str,
    entity_id: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .filter(audit_events::organisation_id.eq(organisation_id))
        .order(audit_events::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(entity) = entity_id {
        query = query.filter(audit_events::entity_id.eq(entity.to_owned()));
    }
    if let Some(after) = after_id {
        query = query.filter(audit_events::id.gt(after.to_owned()));
    }
    Ok(query.select(AuditEvent::as_select()).load(conn)?)
}

/// The fields of `a` that differ from `b`, by name (the audit keeps what changed, not copies).
pub fn changed_fields<T: Serialize>(a: &T, b: &T) -> serde_json::Value {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return serde_json::Value::Null;
    };
    a.into_iter()
        .filter(|(k, v)| b.get(k) != Some(v) && k != "updated_at")
        .collect::<serde_json::Map<_, _>>()
        .into()
}

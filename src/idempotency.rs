//! Safe retries for the app. A mutating call sent with an `Idempotency-Key` keeps what it
//! answered under the caller and key, written in the same transaction as its change: a retry
//! (the phone lost the answer, or replays its offline queue) gets the first answer back and
//! changes nothing; the same key with a different request is refused (409).

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};

pub const HEADER: &str = "Idempotency-Key";

/// The `Idempotency-Key` header, if sent: 1 to 200 visible ASCII characters.
pub fn key_of(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| {
            AppError::field(
                HEADER,
                "invalid",
                "must be 1 to 200 visible ASCII characters",
            )
        })
}

/// The header where the app must send one.
pub fn required_key_of(req: &HttpRequest) -> AppResult<String> {
    key_of(req)?.ok_or_else(|| {
        AppError::field(
            HEADER,
            "required",
            "is required: the app sends a new key for each event and the same key on a retry",
        )
    })
}

pub fn valid_key(key: &str) -> bool {
    (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// A stable fingerprint of a request, to tell a retry from a different request.
pub fn request_hash<T: Serialize>(request: &T) -> String {
    crate::auth::token::hex(&Sha256::digest(
        serde_json::to_vec(request).unwrap_or_default(),
    ))
}

/// What a call answered, first time or again.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub replayed: bool,
}

impl Answer {
    pub fn into_response(self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::OK);
        let mut response = HttpResponse::build(status);
        if self.replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.json(self.body)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub(crate) struct KeptAnswer {
    pub user_id: String,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    pub response: String,
    pub created_at: chrono::NaiveDateTime,
}

impl KeptAnswer {
    pub(crate) fn new(
        user_id: &str,
        key: &str,
        hash: &str,
        answer: &Answer,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id: user_id.to_owned(),
            key: key.to_owned(),
            request_hash: hash.to_owned(),
            status: i32::from(answer.status),
            response: answer.body.to_string(),
            created_at: now.naive_utc(),
        }
    }
}

/// The kept answers for any of these callers' keys (pairs them up after: a superset).
pub(crate) fn kept_among(
    conn: &mut DbConnection,
    user_ids: &[String],
    keys: &[String],
) -> AppResult<Vec<KeptAnswer>> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq_any(user_ids))
        .filter(idempotency_keys::key.eq_any(keys))
        .select(KeptAnswer::as_select())
        .load(conn)?)
}

/// Keeps many answers in one INSERT (a batch of clock events).
pub(crate) fn keep_all(conn: &mut DbConnection, rows: &[KeptAnswer]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crate::db::insert_all!(conn, idempotency_keys::table, rows)?;
    Ok(())
}

fn kept(conn: &mut DbConnection, user_id: &str, key: &str) -> AppResult<Option<KeptAnswer>> {
    Ok(idempotency_keys::table
        .find((user_id, key))
        .select(KeptAnswer::as_select())
        .first(conn)
        .optional()?)
}

pub(crate) fn replay(kept: KeptAnswer, hash: &str) -> AppResult<Answer> {
    if kept.request_hash != hash {
        return Err(AppError::Conflict {
            code: ConflictCode::IdempotencyKeyReused,
            detail: "this Idempotency-Key was used for a different request".into(),
        });
    }
    Ok(Answer {
        status: u16::try_from(kept.status).unwrap_or(200),
        body: crate::db::json::from_text("response", &kept.response)?,
        replayed: true,
    })
}

/// Runs `change` once per caller and key, in one transaction with the kept answer. Without a
/// key it simply runs (in a transaction).
///
/// The answer is kept at the end of the change's own transaction, under the key's primary key.
/// A retry runs into what the first try did (a clock end already set, say) or into the key
/// itself, is rolled back whole, and answers with what was kept. Two first tries racing: the
/// second waits on the key and does the same. The common first try costs one INSERT more.
pub fn once<T, F>(
    conn: &mut DbConnection,
    user_id: &str,
    key: Option<&str>,
    hash: &str,
    now: DateTime<Utc>,
    change: F,
) -> AppResult<Answer>
where
    T: Serialize,
    F: FnOnce(&mut DbConnection) -> AppResult<(u16, T)>,
{
    let outcome = write_transaction(conn, |conn| {
        let (status, body) = change(conn)?;
        let body = serde_json::to_value(body).map_err(|e| AppError::internal(e.to_string()))?;
        if let Some(key) = key {
            diesel::insert_into(idempotency_keys::table)
                .values(&KeptAnswer {
                    user_id: user_id.to_owned(),
                    key: key.to_owned(),
                    request_hash: hash.to_owned(),
                    status: i32::from(status),
                    response: body.to_string(),
                    created_at: now.naive_utc(),
                })
                .execute(conn)?;
        }
        Ok(Answer {
            status,
            body,
            replayed: false,
        })
    });
    match (outcome, key) {
        (Err(error), Some(key)) => match kept(conn, user_id, key)? {
            Some(found) => replay(found, hash),
            None => Err(error),
        },
        (outcome, _) => outcome,
    }
}

/// Forgets answers older than `before` (a phone's queue is replayed within days, not months).
pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> AppResult<usize> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(before.naive_utc())),
    )
    .execute(conn)?)
}

//! E-mail through a transactional outbox. An e-mail is a row written in the same transaction as
//! the event that causes it, so it exists exactly when the event does; a background worker sends
//! it with lettre (SMTP in production; a file or log transport by default and in tests).
//!
//! Each e-mail is claimed by a lease, with a conditional UPDATE that exactly one worker wins,
//! also across instances sharing one PostgreSQL; it is marked sent only by the worker holding the
//! lease. A failure is retried with back-off. Every message carries a Message-ID made from its
//! outbox id, so a crash between handing it over and marking it sent can at worst resend the
//! same message, which mail clients recognise as one.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

pub use crate::config::MailTransport;
use crate::config::Settings;
use crate::db::schema::outbox_emails;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// Attempts before an e-mail is given up (and left for an operator to see).
pub const MAX_ATTEMPTS: i32 = 8;
const LEASE_MINUTES: i64 = 5;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_emails)]
pub struct OutboxEmail {
    pub id: String,
    pub organisation_id: Option<String>,
    pub dedupe_key: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub leased_by: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

pub struct NewEmail {
    pub organisation_id: Option<String>,
    /// At most one e-mail ever exists per key: the same event never mails twice.
    pub dedupe_key: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Adds an e-mail to the outbox inside the caller's transaction; false when one with the same
/// dedupe key already exists.
pub fn enqueue(conn: &mut DbConnection, email: NewEmail, now: DateTime<Utc>) -> AppResult<bool> {
    let row = OutboxEmail {
        id: crate::ids::new_id(),
        organisation_id: email.organisation_id,
        dedupe_key: email.dedupe_key,
        recipient: email.recipient,
        subject: email.subject,
        body: email.body,
        created_at: now.naive_utc(),
        next_attempt_at: now.naive_utc(),
        attempts: 0,
        leased_by: None,
        lease_expires_at: None,
        sent_at: None,
        failed_at: None,
        last_error: None,
    };
    // A savepoint: on PostgreSQL a unique violation would otherwise abort the caller's whole
    // transaction.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(outbox_emails::table)
            .values(&row)
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// Hands one e-mail to the outside world.
pub trait Mailer: Send + Sync {
    fn send(&self, email: &OutboxEmail) -> Result<(), String>;
}

struct LogMailer;

impl Mailer for LogMailer {
    fn send(&self, email: &OutboxEmail) -> Result<(), String> {
        tracing::info!(email_id = %email.id, "e-mail delivered to the log transport");
        Ok(())
    }
}

struct FileMailer {
    from: String,
    dir: PathBuf,
}

impl Mailer for FileMailer {
    fn send(&self, email: &OutboxEmail) -> Result<(), String> {
        let message = message(&self.from, email)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        // Named by outbox id and renamed into place: a resend replaces, never duplicates.
        let path = self.dir.join(format!("{}.eml", email.id));
        let partial = self.dir.join(format!("{}.eml.partial", email.id));
        std::fs::write(&partial, message.formatted()).map_err(|e| e.to_string())?;
        std::fs::rename(&partial, &path).map_err(|e| e.to_string())
    }
}

struct SmtpMailer {
    from: String,
    transport: lettre::SmtpTransport,
}

impl Mailer for SmtpMailer {
    fn send(&self, email: &OutboxEmail) -> Result<(), String> {
        use lettre::Transport;
        let message = message(&self.from, email)?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn message(from: &str, email: &OutboxEmail) -> Result<lettre::Message, String> {
    lettre::Message::builder()
        .from(from.parse().map_err(|e| format!("mail_from: {e}"))?)
        .to(email
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}@parota>", email.id)))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| e.to_string())
}

/// The transport the settings choose.
pub fn mailer(settings: &Settings) -> AppResult<Arc<dyn Mailer>> {
    Ok(match settings.mail_transport {
        MailTransport::Log => Arc::new(LogMailer),
        MailTransport::File => Arc::new(FileMailer {
            from: settings.mail_from.clone(),
            dir: PathBuf::from(&settings.mail_dir),
        }),
        MailTransport::Smtp => {
            let url = settings
                .smtp_url
                .as_deref()
                .ok_or_else(|| AppError::internal("mail_transport = smtp needs smtp_url"))?;
            let transport = lettre::SmtpTransport::from_url(url)
                .map_err(|e| AppError::internal(format!("smtp_url: {e}")))?
                .build();
            Arc::new(SmtpMailer {
                from: settings.mail_from.clone(),
                transport,
            })
        }
    })
}

/// Sends what is due; returns how many were sent and how many failed this pass.
pub fn deliver_due(
    conn: &mut DbConnection,
    mailer: &dyn Mailer,
    worker: &str,
    now: DateTime<Utc>,
) -> AppResult<(usize, usize)> {
    let now_naive = now.naive_utc();
    let due = outbox_emails::sent_at
        .is_null()
        .and(outbox_emails::failed_at.is_null())
        .and(outbox_emails::next_attempt_at.le(now_naive))
        .and(
            outbox_emails::lease_expires_at
                .is_null()
                .or(outbox_emails::lease_expires_at.lt(now_naive)),
        );
    let ids: Vec<String> = outbox_emails::table
        .filter(due)
        .order((
            outbox_emails::next_attempt_at.asc(),
            outbox_emails::id.asc(),
        ))
        .limit(50)
        .select(outbox_emails::id)
        .load(conn)?;
    let (mut sent, mut failed) = (0, 0);
    for id in ids {
        // The WHERE is checked again under the row lock: one worker wins each e-mail.
        let won = diesel::update(outbox_emails::table.find(&id).filter(due))
            .set((
                outbox_emails::leased_by.eq(worker),
                outbox_emails::lease_expires_at
                    .eq((now + Duration::minutes(LEASE_MINUTES)).naive_utc()),
                outbox_emails::attempts.eq(outbox_emails::attempts + 1),
            ))
            .execute(conn)?;
        if won != 1 {
            continue;
        }
        let email: OutboxEmail = outbox_emails::table
            .find(&id)
            .select(OutboxEmail::as_select())
            .first(conn)?;
        match mailer.send(&email) {
            Ok(()) => {
                diesel::update(
                    outbox_emails::table
                        .find(&id)
                        .filter(outbox_emails::leased_by.eq(worker)),
                )
                .set((
                    outbox_emails::sent_at.eq(Some(Utc::now().naive_utc())),
                    outbox_emails::lease_expires_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(email_id = %id, attempt = email.attempts, "e-mail not sent; will retry");
                // 30 s, 1 min, 2 min, … capped at an hour.
                let backoff = Duration::seconds(30 * (1i64 << (email.attempts - 1).clamp(0, 7)))
                    .min(Duration::hours(1));
                let give_up = email.attempts >= MAX_ATTEMPTS;
                diesel::update(
                    outbox_emails::table
                        .find(&id)
                        .filter(outbox_emails::leased_by.eq(worker)),
                )
                .set((
                    outbox_emails::last_error.eq(Some(error)),
                    outbox_emails::next_attempt_at.eq((now + backoff).naive_utc()),
                    outbox_emails::lease_expires_at.eq(None::<NaiveDateTime>),
                    outbox_emails::failed_at.eq(give_up.then_some(now_naive)),
                ))
                .execute(conn)?;
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

/// E-mails written for an organisation, newest first (for tests and operators).
pub fn list(conn: &mut DbConnection, organisation_id: &str) -> AppResult<Vec<OutboxEmail>> {
    Ok(outbox_emails::table
        .filter(outbox_emails::organisation_id.eq(organisation_id))
        .order(outbox_emails::id.desc())
        .select(OutboxEmail::as_select())
        .load(conn)?)
}

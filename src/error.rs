//! The one error type. Every failure a client sees is an RFC 9457 `application/problem+json`
//! document with a stable snake_case `code`; a 5xx never says why (the cause is logged with the
//! request id instead).
//!
//! # Errors
//!
//! Every error is RFC 9457 `application/problem+json` with a stable `code`:
//!
//! ```json
//! {"type":"urn:parota:problem:validation_failed","title":"Some fields are invalid","status":422,
//!  "code":"validation_failed","errors":[{"field":"email","code":"email","message":"must be an e-mail address"}]}
//! ```
//!
//! Malformed JSON is 400 `malformed_body`, a wrong content type 415, an oversized body 413, an unknown
//! route 404 `route_not_found`, a taken unique value 409, a database that does not answer 503. A 5xx
//! never says why; the cause is logged with the request id.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub type AppResult<T> = Result<T, AppError>;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input field, named by its JSON path (`email`, `windows[2].start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// One safety rule a change would break: the shift, the PA (none for a shift staffed by half a
/// 2:1 team), the rule by name and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleBreach {
    pub shift_id: String,
    /// The local date the shift starts, and its local `HH:MM` start and end.
    pub date: chrono::NaiveDate,
    pub start: String,
    pub end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_id: Option<String>,
    /// `active`, `dbs`, `right_to_work`, `competency:<id>`, `level`, `distance`, `do_not_match`,
    /// `availability`, `leave`, `double_booking`, `daily_rest`, `weekly_rest`, `weekly_hours`,
    /// `half_staffed`.
    pub rule: String,
    /// In words a team manager can read, naming the PA.
    pub explanation: String,
}

/// RFC 9457 problem details, as rendered for every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:parota:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code; clients branch on this, never on `title` or `detail`.
    pub code: String,
    /// Present on 422: each invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Present when a change would break safety rules: each rule, shift and PA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaches: Option<Vec<RuleBreach>>,
}

/// The problem responses most endpoints share, for `#[utoipa::path(responses(...))]`: each is one
/// status with its usual description and the `Problem` body, so a handler names it instead of
/// repeating the same annotation. Endpoint-specific wording stays a tuple at the endpoint.
pub mod problem {
    use utoipa::IntoResponses;

    use super::Problem;

    #[derive(IntoResponses)]
    #[response(
        status = 401,
        description = "Not authenticated",
        content_type = "application/problem+json"
    )]
    pub struct Unauthenticated(pub Problem);

    #[derive(IntoResponses)]
    #[response(
        status = 403,
        description = "Not allowed",
        content_type = "application/problem+json"
    )]
    pub struct NotAllowed(pub Problem);

    #[derive(IntoResponses)]
    #[response(
        status = 403,
        description = "Not a PA",
        content_type = "application/problem+json"
    )]
    pub struct NotAPa(pub Problem);

    #[derive(IntoResponses)]
    #[response(
        status = 404,
        description = "Not found, or not visible to the caller",
        content_type = "application/problem+json"
    )]
    pub struct NotVisible(pub Problem);

    #[derive(IntoResponses)]
    #[response(
        status = 404,
        description = "Not found",
        content_type = "application/problem+json"
    )]
    pub struct NotFound(pub Problem);

    #[derive(IntoResponses)]
    #[response(
        status = 422,
        description = "Invalid fields, each named",
        content_type = "application/problem+json"
    )]
    pub struct InvalidFields(pub Problem);
}

/// Why a change conflicts with the current state (409): the stable `code` clients branch on.
/// Declared once here, with its meaning; the OpenAPI document lists them all.
macro_rules! conflict_codes {
    ($($(#[doc = $doc:expr])* $variant:ident => $code:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ConflictCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ConflictCode {
            pub const ALL: &'static [ConflictCode] = &[$(ConflictCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ConflictCode::$variant => $code,)*
                }
            }

            /// What the code means, from its doc comment.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ConflictCode::$variant => concat!($($doc,)*),)*
                }
            }
        }
    };
}

conflict_codes! {
    /// The budget is already approved.
    AlreadyApproved => "already_approved",
    /// The change is already cancelled.
    AlreadyCancelled => "already_cancelled",
    /// The shift already has a clock-in.
    AlreadyClockedIn => "already_clocked_in",
    /// The shift already has a clock-out.
    AlreadyClockedOut => "already_clocked_out",
    /// A record with these details already exists (a unique key).
    AlreadyExists => "already_exists",
    /// The ledger entry has already been reversed.
    AlreadyReversed => "already_reversed",
    /// Someone else took the open shift first.
    AlreadyTaken => "already_taken",
    /// The shift is already the caller's.
    AlreadyYours => "already_yours",
    /// The budget is not approved yet, so its ledger takes no entries.
    BudgetNotApproved => "budget_not_approved",
    /// Another competency in the organisation has this code.
    CodeTaken => "code_taken",
    /// The state changed under the request: retry it.
    Conflict => "conflict",
    /// The cover request is no longer searching (covered, uncovered or withdrawn).
    CoverNotSearching => "cover_not_searching",
    /// The person has asked never to be matched with this PA.
    DoNotMatch => "do_not_match",
    /// Another account has this e-mail address.
    EmailTaken => "email_taken",
    /// The PA left the employment that covered this work before its date.
    EngagementEnded => "engagement_ended",
    /// The PA is already engaged by this employer.
    EngagementExists => "engagement_exists",
    /// No employer engages the PA for this person: payroll cannot pay them.
    EngagementMissing => "engagement_missing",
    /// The export waits for a minimum wage review.
    ExportBlocked => "export_blocked",
    /// The export is not blocked: there is nothing to review.
    ExportNotBlocked => "export_not_blocked",
    /// The Idempotency-Key was used for a different request.
    IdempotencyKeyReused => "idempotency_key_reused",
    /// A shift record lacks a clock-in or clock-out.
    IncompleteRecords => "incomplete_records",
    /// An export has already reported the leaver to the bureau: their leaving no longer changes.
    LeaverReported => "leaver_reported",
    /// Another record in the organisation has this name.
    NameTaken => "name_taken",
    /// The person has no approved budget covering the date.
    NoApprovedBudget => "no_approved_budget",
    /// Every pay period ahead is closed.
    NoOpenPayPeriod => "no_open_pay_period",
    /// Every timesheet ahead for this PA and person is approved.
    NoOpenTimesheet => "no_open_timesheet",
    /// The swap has not been accepted by the colleague.
    NotAccepted => "not_accepted",
    /// The roster is already published.
    NotADraft => "not_a_draft",
    /// Only an approved record is amended; before approval it is queried back.
    NotApproved => "not_approved",
    /// The PA is not safe for the shift: every broken rule is in `breaches`.
    NotEligible => "not_eligible",
    /// The timesheet has not been submitted.
    NotSubmitted => "not_submitted",
    /// Pay for the change cannot be calculated; the detail says why.
    PayNotCalculable => "pay_not_calculable",
    /// The pay period is closed.
    PeriodClosed => "period_closed",
    /// The record changed since it was read.
    RecordChanged => "record_changed",
    /// The change refers to, or is referred to by, another record.
    ReferencedRecord => "referenced_record",
    /// The shift has started: it no longer changes this way.
    ShiftStarted => "shift_started",
    /// A swap for this shift is already open.
    SwapAlreadyRequested => "swap_already_requested",
    /// The swap request has been answered or withdrawn.
    SwapRequestMovedOn => "swap_request_moved_on",
    /// The shift's timesheet is approved: a change now is an amendment.
    TimesheetApproved => "timesheet_approved",
    /// The timesheet is not in a state that allows this change.
    TimesheetNotOpen => "timesheet_not_open",
    /// Publishing would break safety rules: every one is in `breaches`.
    UnsafeRoster => "unsafe_roster",
    /// A rate card version already starts on this date.
    VersionExists => "version_exists",
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request body could not be read: {0}")]
    MalformedBody(String),
    #[error("the query string is not valid: {0}")]
    InvalidQuery(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("unsupported content type: {0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("authentication required: {0}")]
    Unauthenticated(&'static str),
    /// RFC 6749 §5.2 `invalid_grant`: wrong credentials, or a spent, expired or revoked refresh token.
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    /// RFC 6749 §5.2 `invalid_client`: client authentication failed.
    #[error("invalid client")]
    InvalidClient,
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict { code: ConflictCode, detail: String },
    /// A change the safety rules refuse, with every rule it would break (409).
    #[error("unsafe: {detail}")]
    Unsafe {
        code: ConflictCode,
        detail: String,
        breaches: Vec<RuleBreach>,
    },
    /// The client's `If-Match` names a version that is no longer current.
    #[error("stale version")]
    PreconditionFailed { current_version: i64 },
    /// A change to a versioned resource must say which version it changes.
    #[error("If-Match required")]
    PreconditionRequired,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(cause: impl Into<String>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn field(field: &str, code: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "malformed_body",
            Self::InvalidQuery(_) => "invalid_query",
            Self::Validation(_) => "validation_failed",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict { code, .. } | Self::Unsafe { code, .. } => code.as_str(),
            Self::PreconditionFailed { .. } => "stale_version",
            Self::PreconditionRequired => "if_match_required",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "The request body is not valid JSON for this endpoint",
            Self::InvalidQuery(_) => "The query string is not valid",
            Self::Validation(_) => "Some fields are invalid",
            Self::UnsupportedMediaType(_) => "Unsupported content type",
            Self::PayloadTooLarge { .. } => "The request body is too large",
            Self::Unauthenticated(_) => "Authentication required",
            Self::InvalidGrant(_) => "The grant is invalid",
            Self::InvalidClient => "Client authentication failed",
            Self::UnsupportedGrantType => "Unsupported grant type",
            Self::Forbidden => "You may not do this",
            Self::NotFound => "Not found",
            Self::RouteNotFound => "No such route",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict { .. } => "Conflict",
            Self::Unsafe { .. } => "This would break a safety rule",
            Self::PreconditionFailed { .. } => "Someone changed this first",
            Self::PreconditionRequired => "If-Match is required",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::MalformedBody(d) | Self::InvalidQuery(d) | Self::UnsupportedMediaType(d) => {
                Some(d.clone())
            }
            Self::PayloadTooLarge { limit } if *limit > 0 => {
                Some(format!("the limit is {limit} bytes"))
            }
            Self::Unauthenticated(d) | Self::InvalidGrant(d) => Some((*d).to_owned()),
            Self::Conflict { detail, .. } | Self::Unsafe { detail, .. } => Some(detail.clone()),
            Self::PreconditionFailed { current_version } => Some(format!(
                "the current version is {current_version}: read it again and reapply the change"
            )),
            Self::PreconditionRequired => {
                Some("send If-Match with the ETag of the version you are changing".into())
            }
            Self::TooManyRequests { retry_after_secs } => {
                Some(format!("try again in {retry_after_secs} seconds"))
            }
            // Server-side failures say nothing of their cause.
            Self::Unavailable(_) | Self::Internal(_) => None,
            _ => None,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            problem_type: format!("urn:parota:problem:{code}"),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: code.to_owned(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            breaches: match self {
                Self::Unsafe { breaches, .. } => Some(breaches.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_)
            | Self::InvalidQuery(_)
            | Self::InvalidGrant(_)
            | Self::UnsupportedGrantType => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated(_) | Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::Unsafe { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(code = self.code(), %cause, "request failed"),
            Self::Unavailable(cause) => {
                tracing::warn!(code = self.code(), %cause, "request failed")
            }
            _ => tracing::debug!(code = self.code(), "request refused"),
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        ));
        match self {
            Self::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="parota""#));
            }
            Self::InvalidClient => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="parota""#));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::PreconditionFailed { current_version } => {
                response.insert_header((header::ETAG, format!("\"{current_version}\"")));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match error {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(Kind::UniqueViolation, _) => Self::Conflict {
                code: crate::error::ConflictCode::AlreadyExists,
                detail: "a record with these details already exists".into(),
            },
            Error::DatabaseError(Kind::ForeignKeyViolation, _) => Self::Conflict {
                code: crate::error::ConflictCode::ReferencedRecord,
                detail: "the change refers to, or is referred to by, another record".into(),
            },
            Error::DatabaseError(Kind::SerializationFailure | Kind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            // SQLite reports a lock wait that outlasted busy_timeout this way.
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("database pool: {error}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::Internal("blocking task was cancelled".into())
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = Vec::new();
        collect_validation_errors(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self::Validation(fields)
    }
}

fn collect_validation_errors(
    errors: &validator::ValidationErrors,
    prefix: &str,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            Kind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| default_message(&e.code));
                    out.push(FieldError::new(&path, e.code.to_string(), message));
                }
            }
            Kind::Struct(inner) => collect_validation_errors(inner, &path, out),
            Kind::List(items) => {
                for (index, inner) in items {
                    collect_validation_errors(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn default_message(code: &str) -> String {
    match code {
        "email" => "must be an e-mail address".into(),
        "length" => "has the wrong length".into(),
        "range" => "is out of range".into(),
        other => format!("is invalid ({other})"),
    }
}

/// `value` when no field failed; otherwise a 422 naming every field that did.
pub fn errors_or<T>(value: T, errors: Vec<FieldError>) -> AppResult<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_conflict_code_is_documented_distinct_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ConflictCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text} is not snake_case"
            );
            assert!(
                code.meaning().trim().len() > 10,
                "{text} has no doc comment saying what it means"
            );
        }
    }

    use super::*;

    #[test]
    fn server_errors_never_reveal_their_cause() {
        let problem = AppError::internal("password=hunter2 at db.rs:12").problem();
        assert_eq!(problem.status, 500);
        assert_eq!(problem.detail, None);
        assert_eq!(problem.code, "internal_error");
    }

    #[test]
    fn unique_violation_is_a_conflict_not_a_500() {
        let error = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert_eq!(AppError::from(error).status_code(), StatusCode::CONFLICT);
    }
}

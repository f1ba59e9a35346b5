//! HTTP edges shared by every domain: a JSON body extractor that validates and names bad fields,
//! paging, and the extractor and fallback handlers that keep every error problem+json.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// A request body, read up to the configured limit.
pub struct LimitedBody(pub web::Bytes);

impl FromRequest for LimitedBody {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(DEFAULT_BODY_LIMIT, |s| s.settings.max_body_bytes);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|length| length > limit) {
                return Err(AppError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| AppError::MalformedBody(e.to_string()))?;
                if body.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(LimitedBody(body.freeze()))
        })
    }
}

/// A resource id from the request path, as every `/{id}` route takes it. Ids are UUIDs; a
/// segment that is not one names nothing, so it is 404, never 400.
pub struct PathId(pub String);

/// The two ids of a nested route (`/budget-holders/{id}/changes/{change_id}`), in path order.
pub struct PathIds(pub String, pub String);

/// A path segment as an id, or 404.
pub fn path_id(raw: &str) -> AppResult<String> {
    crate::ids::parse_id(raw).ok_or(AppError::NotFound)
}

impl FromRequest for PathId {
    type Error = AppError;
    type Future = futures_util::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut segments = req.match_info().iter();
        let id = match (segments.next(), segments.next()) {
            (Some((_, raw)), None) => path_id(raw).map(PathId),
            _ => Err(AppError::internal(
                "PathId on a route without exactly one segment",
            )),
        };
        futures_util::future::ready(id)
    }
}

impl FromRequest for PathIds {
    type Error = AppError;
    type Future = futures_util::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut segments = req.match_info().iter();
        let ids = match (segments.next(), segments.next(), segments.next()) {
            (Some((_, first)), Some((_, second)), None) => {
                path_id(first).and_then(|first| Ok(PathIds(first, path_id(second)?)))
            }
            _ => Err(AppError::internal(
                "PathIds on a route without exactly two segments",
            )),
        };
        futures_util::future::ready(ids)
    }
}

/// A JSON body, deserialised and validated: a handler only ever sees checked input.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json_content(req);
        let body = LimitedBody::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AppError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let LimitedBody(bytes) = body.await?;
            parse_json(&bytes).map(Json)
        })
    }
}

pub fn is_json_content(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"))
}

/// Deserialises and validates; a wrong or missing field is a 422 naming it, broken JSON a 400.
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> AppResult<T> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = without_location(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                AppError::Validation(vec![field_error(&path, &message)])
            }
            _ => AppError::MalformedBody(message),
        }
    })?;
    value.validate()?;
    Ok(value)
}

fn without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// serde reports a missing or unknown field at its parent's path; name the field itself.
fn field_error(path: &str, message: &str) -> FieldError {
    let named = |prefix: &str| {
        message.strip_prefix(prefix).and_then(|rest| {
            let rest = rest.strip_prefix('`')?;
            rest.find('`').map(|end| rest[..end].to_owned())
        })
    };
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else if path.ends_with(name) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = named("missing field ") {
        return FieldError::new(join(&name), "required", "is required");
    }
    if let Some(name) = named("unknown field ") {
        return FieldError::new(
            join(&name),
            "unknown_field",
            "is not a field of this request",
        );
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    FieldError::new(field, "invalid", message)
}

/// Keyset paging: `limit` (1–200, default 50) and the opaque `cursor` from the previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> AppResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(i64::from(n)),
            Some(_) => Err(AppError::field(
                "limit",
                "range",
                "must be between 1 and 200",
            )),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to fetch the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&cursor_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// The version an `If-Match` header names (`"3"`), if one was sent.
pub fn if_match(req: &HttpRequest) -> AppResult<Option<i64>> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            AppError::field(
                "If-Match",
                "invalid",
                "must be the ETag you read, e.g. \"3\"",
            )
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error, _req| AppError::InvalidQuery(error.to_string()).into())
}

pub fn path_config() -> web::PathConfig {
    // A malformed id names nothing that exists.
    web::PathConfig::default().error_handler(|_error, _req| AppError::NotFound.into())
}

/// The API's path templates and the methods each takes (from the OpenAPI document), so that a
/// known path asked with another method is 405 with `Allow`, and only an unknown path is 404.
#[derive(Debug, Default)]
pub struct Routes(Vec<(Vec<String>, Vec<&'static str>)>);

impl Routes {
    /// `paths`: each template (`/api/v1/pas/{id}`) with its methods in upper case.
    pub fn new(paths: impl IntoIterator<Item = (String, Vec<&'static str>)>) -> Self {
        Self(
            paths
                .into_iter()
                .map(|(template, methods)| {
                    (template.split('/').map(str::to_owned).collect(), methods)
                })
                .collect(),
        )
    }

    /// The methods a path takes, if any template matches it (`{…}` matches any one segment).
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<&'static str> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| {
                        (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                    })
            })
            .flat_map(|(_, m)| m.iter().copied())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        (!methods.is_empty()).then_some(methods)
    }
}

pub async fn route_not_found(
    req: actix_web::HttpRequest,
    routes: Option<web::Data<Routes>>,
) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    match routes.and_then(|r| r.allowed(req.path())) {
        Some(methods) => {
            let mut response = AppError::MethodNotAllowed.error_response();
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&methods.join(", ")) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        None => AppError::RouteNotFound.error_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are read by serde and validator only")]
    struct Example {
        #[validate(email)]
        email: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[expect(dead_code, reason = "fields are read by serde only")]
    struct Inner {
        count: u32,
    }

    fn fields(error: AppError) -> Vec<String> {
        match error {
            AppError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn missing_unknown_and_mistyped_fields_are_named() {
        assert_eq!(
            fields(parse_json::<Example>(br#"{}"#).unwrap_err()),
            ["email"]
        );
        assert_eq!(
            fields(parse_json::<Example>(br#"{"email":"a@b.co","extra":1}"#).unwrap_err()),
            ["extra"]
        );
        assert_eq!(
            fields(
                parse_json::<Example>(br#"{"email":"a@b.co","inner":{"count":"x"}}"#).unwrap_err()
            ),
            ["inner.count"]
        );
        assert_eq!(
            fields(parse_json::<Example>(br#"{"email":"nope"}"#).unwrap_err()),
            ["email"]
        );
    }

    #[test]
    fn broken_json_is_a_400_not_a_422() {
        assert!(matches!(
            parse_json::<Example>(b"{\"email\":").unwrap_err(),
            AppError::MalformedBody(_)
        ));
    }

    #[test]
    fn a_page_says_whether_there_is_another() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last = Page::from_rows(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }
}

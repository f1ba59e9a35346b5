//! The OpenAPI document, generated from the handlers' annotations. `openapi/openapi.json` is
//! this document, committed; a test fails when they drift (`scripts/update-openapi.sh` rewrites it).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parota",
        description = "Rostering, timesheets, payroll exports, pricing and budgets for the personal assistants behind NHS personal health budgets. Errors are RFC 9457 application/problem+json with a stable `code`.",
        license(name = "AGPL-3.0-only"),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Tokens (OAuth 2.0 shapes)"),
        (name = "accounts", description = "Organisations, users and payroll clients"),
        (name = "audit", description = "Who changed what"),
        (name = "market", description = "Competencies, PA and budget-holder profiles, matching and workforce capacity"),
        (name = "pricing", description = "Rate cards by competency and indicative budgets"),
        (name = "budgets", description = "Budgets, the append-only ledger and statements"),
        (name = "rostering", description = "Support patterns and the shifts they ask for"),
        (name = "timesheets", description = "Clock events from the app, shift records, approval, amendments, exceptions and pay periods"),
        (name = "absence", description = "Absences reported and recorded, and the search for cover of the shifts they open"),
        (name = "payroll", description = "Employers and engagements, pay per period, minimum wage reviews, and the immutable exports payroll clients pull"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as committed: pretty JSON with a final newline.
pub fn render(document: &utoipa::openapi::OpenApi) -> String {
    let mut text = document.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// Declares on every operation the answers the shared edges give, so the document says what
/// the server does: 400 for a body that is not JSON (`malformed_body`) or a query string that
/// cannot be read (`invalid_query`), 413 and 415 for a body too large or not `application/json`,
/// 422 for a query value or header out of range, 401 and 403 where a token is needed.
pub fn declare_shared_errors(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_CONTENT_TYPE,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for item in document.paths.paths.values_mut() {
        let operations = [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            // The shapes the shared headers must have, as `idempotency::valid_key` and
            // `http::if_match` read them.
            for parameter in operation.parameters.iter_mut().flatten() {
                let shape = match parameter.name.as_str() {
                    "Idempotency-Key" => Some((1, 200, "^[!-~]+$")),
                    "If-Match" => Some((1, 24, "^(W/)?\"?[0-9]+\"?$")),
                    _ => None,
                };
                if let Some((min, max, pattern)) = shape {
                    parameter.schema = Some(RefOr::T(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(min))
                            .max_length(Some(max))
                            .pattern(Some(pattern))
                            .into(),
                    ));
                }
            }
            let has_body = operation.request_body.is_some();
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let has_header = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, ParameterIn::Header));
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut operation.responses.responses;
            if has_query || has_header {
                responses.entry("422".into()).or_insert_with(|| {
                    problem("A query value or header out of range or badly formed, each named")
                });
            }
            if has_body || has_query {
                responses.entry("400".into()).or_insert_with(|| {
                    problem("The body is not JSON for this operation (`malformed_body`), or the query string cannot be read (`invalid_query`)")
                });
            }
            if has_body {
                responses.entry("415".into()).or_insert_with(|| {
                    problem("The body is not `application/json` (`unsupported_media_type`)")
                });
                responses.entry("413".into()).or_insert_with(|| {
                    problem("The body is larger than the server accepts (`payload_too_large`)")
                });
            }
            if secured {
                responses
                    .entry("401".into())
                    .or_insert_with(|| problem("Not authenticated"));
                // Every secured operation asks the policy about the caller's role.
                responses
                    .entry("403".into())
                    .or_insert_with(|| problem("The caller's role may not do this"));
            }
        }
    }
    describe_conflict_codes(document);
}

/// The Problem schema's `code` lists every conflict code with its meaning (`error::ConflictCode`).
fn describe_conflict_codes(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let Some(components) = document.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
        return;
    };
    let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code") else {
        return;
    };
    let listed: Vec<String> = crate::error::ConflictCode::ALL
        .iter()
        .map(|c| format!("`{}`: {}", c.as_str(), c.meaning().trim()))
        .collect();
    let said = code.description.clone().unwrap_or_default();
    code.description = Some(format!(
        "{said}\n\nOn 409, one of:\n- {}",
        listed.join("\n- ")
    ));
}

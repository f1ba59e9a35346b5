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

//! `openapi/openapi.json` is the generated document, committed; these fail when they drift.

use std::path::Path;

use crate::helpers::TestApp;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = parota::openapi::render(&parota::app::openapi_document().unwrap());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run scripts/update-openapi.sh and commit the result"
    );
}

#[test]
fn every_operation_is_named_tagged_and_lists_its_errors_as_problems() {
    let document: serde_json::Value = serde_json::from_str(&parota::openapi::render(
        &parota::app::openapi_document().unwrap(),
    ))
    .unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/auth/token"));
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let where_ = format!("{method} {path}");
            assert!(
                operation["operationId"].is_string(),
                "{where_} has no operationId"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{where_} has no tag"
            );
            let secured = operation.get("security").is_some();
            let responses = operation["responses"].as_object().unwrap();
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{where_} is secured but does not list 401"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{where_} {status} is not a problem document"
                    );
                }
            }
        }
    }
}

#[actix_web::test]
async fn the_document_is_served() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body["info"]["title"], "parota");
}

/// Every limit a request's `#[validate]` enforces is also declared to the schema (`#[schema]` or
/// `#[param]`) with the same bounds, so the document says what the server refuses.
#[test]
fn every_validated_limit_is_declared_in_the_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for domain in std::fs::read_dir(&root).unwrap() {
        let path = domain.unwrap().path().join("dto.rs");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            if !trimmed.starts_with("#[validate(") {
                continue;
            }
            let bounds: Vec<String> = ["min", "max"]
                .iter()
                .filter_map(|k| {
                    let at = trimmed.find(&format!("{k} = "))?;
                    // Amounts are bounded in pence: `Pence::new(100_000)`, `Pence::ZERO`.
                    let rest = &trimmed[at + k.len() + 3..];
                    let rest = rest.strip_prefix("Pence::new(").unwrap_or(rest);
                    let rest = rest.strip_prefix("Pence::ZERO").map_or(rest, |r| {
                        if r.starts_with([',', ')']) {
                            "0)"
                        } else {
                            rest
                        }
                    });
                    let end = rest.find([',', ')']).unwrap_or(rest.len());
                    Some(rest[..end].trim().trim_end_matches("_i64").to_owned())
                })
                .collect();
            if bounds.is_empty() {
                continue;
            }
            let declared = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().starts_with("#["))
                .find(|l| l.contains("#[schema(") || l.contains("#[param("));
            let ok = declared.is_some_and(|d| bounds.iter().all(|b| d.contains(b.as_str())));
            if !ok {
                missing.push(format!("{}:{}: {trimmed}", path.display(), i + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "limits not declared:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_conflict_code_is_documented_in_the_problem_schema() {
    let document: serde_json::Value = serde_json::from_str(&parota::openapi::render(
        &parota::app::openapi_document().unwrap(),
    ))
    .unwrap();
    let said = document["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
        .as_str()
        .unwrap();
    for code in parota::error::ConflictCode::ALL {
        let line = format!("- `{}`: {}", code.as_str(), code.meaning().trim());
        assert!(
            said.contains(&line),
            "Problem.code does not explain {}",
            code.as_str()
        );
    }
}

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

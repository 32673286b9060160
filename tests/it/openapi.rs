//! The OpenAPI document: served open, OpenAPI 3, lists every route the router serves with
//! its method, and every `$ref` in it resolves.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{test_config, TestApp, TestDb};

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k == "$ref" {
                    if let Value::String(s) = x {
                        out.insert(s.clone());
                    }
                }
                collect_refs(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_resolves() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;

    // No credential: the document is open, like /healthz.
    let r = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("openapi.json");
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.expect("json");

    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "openapi = {version}");
    let paths = doc["paths"].as_object().expect("paths");

    let mut wanted: Vec<(String, String)> = vec![
        ("/healthz".into(), "get".into()),
        ("/readyz".into(), "get".into()),
        ("/api/v1/openapi.json".into(), "get".into()),
    ];
    for r in cinevault_analytics::http::admin_routes() {
        wanted.push((
            format!("/api/v1{}", r.path),
            r.method.as_str().to_lowercase(),
        ));
    }
    for r in cinevault_analytics::http::ingest_routes() {
        wanted.push((
            format!("/api/v1/ingest{}", r.path),
            r.method.as_str().to_lowercase(),
        ));
    }
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(path, method)| paths.get(path).and_then(|p| p.get(method)).is_none())
        .map(|(path, method)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "not in the document: {missing:?}");

    // Every operation but the open ones needs the bearer credential, and answers errors in
    // the one JSON shape.
    let schemes = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(schemes["scheme"], "bearer", "{schemes}");
    for (path, method) in &wanted {
        let op = &paths[path][method];
        if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
            assert!(
                op["security"].to_string().contains("bearer"),
                "{method} {path} has no bearer security"
            );
            for code in ["401", "403", "503"] {
                let body = &op["responses"][code]["content"]["application/json"]["schema"];
                assert_eq!(
                    body["$ref"], "#/components/schemas/ErrorResponse",
                    "{method} {path} {code}"
                );
            }
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    for field in ["code", "message", "field"] {
        assert!(
            error["properties"].get(field).is_some(),
            "ErrorBody lacks {field}: {error}"
        );
    }

    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "$ref {r} does not resolve");
    }
}

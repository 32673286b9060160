//! The built-in dashboard: `/` serves the page with a strict CSP, `/assets/...` its files
//! (the vendored Chart.js with a JavaScript content type), revalidation answers 304, and an
//! unknown asset is the JSON 404. No credential is needed: the page holds no data.

use crate::common::{error_of, test_config, TestApp, TestDb};

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn dashboard_page_and_assets_are_served() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;

    let r = app.http.get(app.url("/")).send().await.expect("GET /");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let csp = header(&r, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP {csp:?} lacks {directive}");
    }
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let html = r.text().await.expect("html");
    assert!(html.contains(r#"<script type="module" src="/assets/app.js"></script>"#));
    assert!(html.contains("/assets/vendor/chart.umd.min.js"));

    let r = app
        .http
        .get(app.url("/assets/vendor/chart.umd.min.js"))
        .send()
        .await
        .expect("chart.js");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    let etag = header(&r, "etag");
    assert!(etag.starts_with('"') && etag.len() > 2, "etag {etag:?}");
    let body = r.text().await.expect("js");
    assert!(body.starts_with("/*!\n * Chart.js v4."), "{}", &body[..40]);

    // An unchanged file costs a 304.
    let r = app
        .http
        .get(app.url("/assets/vendor/chart.umd.min.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag);

    let r = app
        .http
        .get(app.url("/assets/js/tabs/alerts.js"))
        .send()
        .await
        .expect("module");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    let r = app
        .http
        .get(app.url("/assets/style.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(header(&r, "content-type"), "text/css; charset=utf-8");

    // Unknown files are the API's JSON 404, not the page.
    for path in [
        "/assets/no-such-file.js",
        "/assets/../Cargo.toml",
        "/assets/README.md",
        "/index.html",
    ] {
        let r = app.http.get(app.url(path)).send().await.expect("404");
        let (status, code, _) = error_of(r).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{path}");
    }
    app.stop().await;
}

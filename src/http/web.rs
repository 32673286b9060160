//! The built-in dashboard: the files of `web/`, embedded at compile time and served open
//! (the page holds no data; every figure comes from the admin API with the admin's token).
//! `/` is the page, `/assets/<path>` every other file; an unknown asset is the JSON 404.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The page may load scripts, styles, images and API answers from this origin only, and
/// nothing may frame it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file, by its path under `web/`.
struct Asset {
    path: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }),*]
    };
}

/// Every file the dashboard needs (a test checks this against the contents of `web/`).
const ASSETS: &[Asset] = assets![
    "index.html",
    "style.css",
    "favicon.svg",
    "app.js",
    "js/api.js",
    "js/dom.js",
    "js/format.js",
    "js/charts.js",
    "js/ui.js",
    "js/cinevault.js",
    "js/tabs/overview.js",
    "js/tabs/activity.js",
    "js/tabs/streams.js",
    "js/tabs/transcodes.js",
    "js/tabs/system.js",
    "js/tabs/library.js",
    "js/tabs/alerts.js",
    "vendor/chart.umd.min.js",
    "vendor/chart.js-LICENSE.md",
];

/// Files of `web/` that are documentation, not part of the page.
#[cfg(test)]
const NOT_SERVED: &[&str] = &["README.md"];

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("md" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A strong validator per file: FNV-1a over its bytes, computed once.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let hash = a.body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
                });
                format!("\"{hash:016x}\"")
            })
            .collect()
    })
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.path == path) else {
        return AppError::not_found("no such file").into_response();
    };
    let asset = &ASSETS[index];
    let etag = &etags()[index];
    // The files change only with the binary: the browser may keep them but asks each time
    // (`no-cache`), and an unchanged file costs a 304.
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let headers = [
        (header::CONTENT_TYPE, content_type(asset.path)),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let etag = (
        header::ETAG,
        HeaderValue::from_str(etag).expect("hex ETag is a valid header"),
    );
    if not_modified {
        (StatusCode::NOT_MODIFIED, headers, [etag]).into_response()
    } else {
        (headers, [etag], asset.body).into_response()
    }
}

/// `GET /`: the dashboard page.
pub(super) async fn index(request: HeaderMap) -> Response {
    serve("index.html", &request)
}

/// `GET /assets/{*path}`: the page's scripts, styles and vendored Chart.js.
pub(super) async fn asset(Path(path): Path<String>, request: HeaderMap) -> Response {
    if path == "index.html" {
        return AppError::not_found("no such file").into_response();
    }
    serve(&path, &request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read web/") {
            let entry = entry.expect("dir entry");
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("file type").is_dir() {
                files_under(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_file_of_web_is_embedded_and_nothing_else() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        files_under(&root, "", &mut on_disk);
        on_disk.retain(|f| !NOT_SERVED.contains(&f.as_str()));
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "update ASSETS in src/http/web.rs");
    }

    #[test]
    fn every_embedded_file_has_a_known_content_type() {
        for a in ASSETS {
            assert_ne!(
                content_type(a.path),
                "application/octet-stream",
                "{}",
                a.path
            );
        }
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let html = std::str::from_utf8(ASSETS[0].body).expect("utf-8");
        assert!(!html.contains("://"), "index.html names another origin");
        assert!(CONTENT_SECURITY_POLICY.contains("default-src 'none'"));
    }
}

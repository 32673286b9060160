//! prometheus-client writes OpenMetrics. Prometheus's classic text format (0.0.4), the
//! default for scrapers that do not ask for OpenMetrics, differs in a few ways that matter:
//! no `# EOF` or `# UNIT` lines, and a counter's HELP/TYPE name the `_total` series itself.

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites OpenMetrics text as Prometheus text format 0.0.4.
pub fn encode_text_004(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut pending_help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            pending_help = Some((name, help));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" | "stateset" => (format!("{name}_info"), "gauge"),
                "unknown" => (name.to_owned(), "untyped"),
                other => (name.to_owned(), other),
            };
            if let Some((_, help)) = pending_help.take() {
                out.push_str(&format!("# HELP {name} {help}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_name_their_total_series_and_eof_goes() {
        let om = "# HELP cv_requests Requests.\n# TYPE cv_requests counter\ncv_requests_total 3\n# HELP cv_temp Temp.\n# TYPE cv_temp gauge\n# UNIT cv_temp celsius\ncv_temp 41.5\n# EOF\n";
        let text = encode_text_004(om);
        assert_eq!(
            text,
            "# HELP cv_requests_total Requests.\n# TYPE cv_requests_total counter\ncv_requests_total 3\n# HELP cv_temp Temp.\n# TYPE cv_temp gauge\ncv_temp 41.5\n"
        );
    }
}

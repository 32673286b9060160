//! Checks a payload against Discord's published JSON schema for "Execute Webhook"
//! (`../shared/reference/discord-execute-webhook.schema.json`). No JSON-schema crate is
//! available, so this walks the keywords the schema uses: $ref, oneOf/anyOf/allOf, type,
//! enum/const, properties (and refuses any property the schema does not define),
//! required, items, min/maxLength, min/maxItems, minimum/maximum, format date-time.

use serde_json::Value;

pub fn discord_schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/discord-execute-webhook.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("Discord's schema in ../shared/reference");
    serde_json::from_str(&text).expect("schema JSON")
}

/// Every violation, as "path: what".
pub fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, schema, value, "$", &mut out);
    out
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("local $ref");
            resolve(root, root.pointer(pointer).expect("$ref target"))
        }
        None => node,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("schema type {other} not handled"),
    }
}

fn check(root: &Value, node: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let node = resolve(root, node);
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = node.get(key).and_then(Value::as_array) {
            let passing = branches
                .iter()
                .filter(|b| {
                    let mut errs = Vec::new();
                    check(root, b, v, path, &mut errs);
                    errs.is_empty()
                })
                .count();
            let ok = if key == "oneOf" {
                passing == 1
            } else {
                passing >= 1
            };
            if !ok {
                out.push(format!("{path}: matches {passing} branches of {key}"));
            }
        }
    }
    if let Some(all) = node.get("allOf").and_then(Value::as_array) {
        for b in all {
            check(root, b, v, path, out);
        }
    }
    if let Some(t) = node.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| type_matches(t, v)) {
            out.push(format!("{path}: {v} is not of type {types:?}"));
            return;
        }
    }
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            out.push(format!("{path}: {v} not in {e:?}"));
        }
    }
    if let Some(c) = node.get("const") {
        if c != v {
            out.push(format!("{path}: {v} is not {c}"));
        }
    }
    let limit = |k: &str| node.get(k).and_then(Value::as_f64);
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as f64;
        if limit("maxLength").is_some_and(|m| n > m) || limit("minLength").is_some_and(|m| n < m) {
            out.push(format!("{path}: length {n} outside the schema's bounds"));
        }
        if node.get("format").and_then(Value::as_str) == Some("date-time")
            && chrono::DateTime::parse_from_rfc3339(s).is_err()
        {
            out.push(format!("{path}: '{s}' is not a date-time"));
        }
    }
    if let Some(x) = v.as_f64() {
        if limit("maximum").is_some_and(|m| x > m) || limit("minimum").is_some_and(|m| x < m) {
            out.push(format!("{path}: {x} outside the schema's bounds"));
        }
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as f64;
        if limit("maxItems").is_some_and(|m| n > m) || limit("minItems").is_some_and(|m| n < m) {
            out.push(format!("{path}: {n} items outside the schema's bounds"));
        }
        if let Some(item_schema) = node.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, item_schema, item, &format!("{path}[{i}]"), out);
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = node.get("properties").and_then(Value::as_object);
        if let Some(props) = props {
            for (k, val) in obj {
                match props.get(k) {
                    Some(p) => check(root, p, val, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}: unknown property '{k}'")),
                }
            }
        }
        if let Some(req) = node.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    out.push(format!("{path}: missing required '{r}'"));
                }
            }
        }
    }
}

/// Discord's limit beyond the schema: 6000 characters over all embeds' titles,
/// descriptions, field names and values, footer texts and author names; 10 embeds.
pub fn discord_totals(payload: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let embeds = payload["embeds"].as_array().cloned().unwrap_or_default();
    if embeds.len() > 10 {
        out.push(format!("{} embeds", embeds.len()));
    }
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut total = 0;
    for e in &embeds {
        total += len(&e["title"]) + len(&e["description"]) + len(&e["footer"]["text"]);
        total += len(&e["author"]["name"]);
        for f in e["fields"].as_array().cloned().unwrap_or_default() {
            total += len(&f["name"]) + len(&f["value"]);
        }
    }
    if total > 6000 {
        out.push(format!("{total} characters in embeds (limit 6000)"));
    }
    out
}

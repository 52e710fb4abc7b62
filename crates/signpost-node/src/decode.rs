//! Request bodies decoded with errors a person can act on: the field's path and what is
//! expected, never the JSON library's own words.

use serde::de::DeserializeOwned;
use serde::Serialize;
use signpost_protocol::model::Group;
use signpost_protocol::wire::FieldProblem;

use crate::error::NodeError;

/// A group from an admin request. `capacity.updated_at` is the node's to set (it is
/// read-only in the OpenAPI document): a body without it is complete.
pub fn group(mut body: serde_json::Value) -> Result<Group, NodeError> {
    if let Some(capacity) = body
        .get_mut("capacity")
        .and_then(serde_json::Value::as_object_mut)
    {
        capacity
            .entry("updated_at")
            .or_insert_with(|| serde_json::Value::String(chrono::Utc::now().to_rfc3339()));
    }
    typed(body, "group")
}

/// Any typed body; `prefix` names the body in field paths (`group` for a listing).
pub fn typed<T: DeserializeOwned + Serialize>(
    body: serde_json::Value,
    prefix: &str,
) -> Result<T, NodeError> {
    // serde reads a struct from a list of its fields in order (`"age_range": [16, null]`); the
    // API document says objects, so the decoded value is written back and compared in shape.
    let sent = body.clone();
    let value: T = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, code, message) = explain(prefix, &path, &inner);
        NodeError::MalformedFields(vec![FieldProblem {
            field,
            code: code.to_owned(),
            message,
        }])
    })?;
    let mut problems = Vec::new();
    if let Ok(read) = serde_json::to_value(&value) {
        lists_for_objects(&sent, &read, prefix.to_owned(), &mut problems);
    }
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(NodeError::MalformedFields(problems))
    }
}

/// Where `sent` holds a list and the decoded value an object.
fn lists_for_objects(
    sent: &serde_json::Value,
    read: &serde_json::Value,
    at: String,
    problems: &mut Vec<FieldProblem>,
) {
    use serde_json::Value;
    match (sent, read) {
        (Value::Array(_), Value::Object(_)) => problems.push(FieldProblem {
            message: format!("{at} must be {}", expected_kind("expected struct")),
            field: at,
            code: "invalid_type".to_owned(),
        }),
        (Value::Object(s), Value::Object(r)) => {
            for (k, v) in s {
                if let Some(w) = r.get(k) {
                    lists_for_objects(v, w, join(&at, k), problems);
                }
            }
        }
        (Value::Array(s), Value::Array(r)) => {
            for (i, (v, w)) in s.iter().zip(r).enumerate() {
                lists_for_objects(v, w, format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

fn join(prefix: &str, path: &str) -> String {
    let path = if path == "." { "" } else { path };
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// The text between the first pair of backticks.
fn quoted(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    Some(&text[start..start + len])
}

/// What the value should have been, in words, from the type serde expected.
fn expected_kind(text: &str) -> &'static str {
    let expected = text.rsplit("expected ").next().unwrap_or("");
    if expected.starts_with("u8")
        || expected.starts_with("u16")
        || expected.starts_with("u32")
        || expected.starts_with("u64")
    {
        "a whole number, 0 or more"
    } else if expected.starts_with("f64") || expected.starts_with("f32") {
        "a number, like 53.8175"
    } else if expected.starts_with("a boolean") {
        "true or false"
    } else if expected.starts_with("a sequence") {
        "a list, like [\"en\", \"ar\"]"
    } else if expected.starts_with("struct") || expected.starts_with("a map") {
        "an object with named fields"
    } else if expected.contains("RFC 3339") || expected.contains("datetime") {
        "a date and time, like 2026-11-24T18:30:00Z"
    } else if expected.contains("UUID") || expected.contains("uuid") {
        "an id, like 0b7e1c7e-3d5e-4c8a-9b1a-2f4e6d8c0a1b"
    } else {
        "text"
    }
}

/// `(field, code, message)` for one decoding error.
fn explain(prefix: &str, path: &str, text: &str) -> (String, &'static str, String) {
    let at = join(prefix, path);
    if text.starts_with("missing field") {
        let name = quoted(text).unwrap_or("?");
        let field = join(&at, name);
        return (field.clone(), "required", format!("{field} is required"));
    }
    if text.starts_with("unknown field") {
        // The path already ends with the unknown field's name.
        let field = at;
        return (
            field.clone(),
            "unknown_field",
            format!("{field} is not a field here; check its spelling against the API document"),
        );
    }
    if text.starts_with("unknown variant") {
        let allowed: Vec<&str> = text
            .split("expected ")
            .nth(1)
            .unwrap_or("")
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        return (
            at.clone(),
            "not_in_list",
            format!("{at} must be one of: {}", allowed.join(", ")),
        );
    }
    if text.contains("is not a time of day") {
        return (
            at.clone(),
            "invalid_time",
            format!("{at} must be a time like 18:30 (24-hour clock)"),
        );
    }
    if text.contains("is not a day") {
        return (
            at.clone(),
            "not_in_list",
            format!("{at} must be a day: mon, tue, wed, thu, fri, sat or sun"),
        );
    }
    if text.contains("did:key") || text.contains("base58") {
        return (
            at.clone(),
            "invalid_did",
            format!("{at} must be a did:key identifier"),
        );
    }
    if text.contains("premature end of input")
        || text.contains("input contains invalid characters")
        || text.contains("trailing input")
        || text.contains("input is out of range")
    {
        return (
            at.clone(),
            "invalid_date",
            format!("{at} must be a date and time, like 2026-11-24T18:30:00Z"),
        );
    }
    if text.starts_with("duplicate field") {
        let name = quoted(text).unwrap_or("?");
        let field = join(&at, name);
        return (
            field.clone(),
            "duplicate_field",
            format!("{field} is given twice"),
        );
    }
    if text.starts_with("invalid length") {
        return (
            at.clone(),
            "invalid_value",
            format!("{at} has the wrong number of entries"),
        );
    }
    (
        at.clone(),
        "invalid_type",
        format!("{at} must be {}", expected_kind(text)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(body: serde_json::Value) -> FieldProblem {
        match group(body) {
            Err(NodeError::MalformedFields(mut p)) => p.remove(0),
            other => panic!("expected a field problem, got {other:?}"),
        }
    }

    fn sample() -> serde_json::Value {
        serde_json::to_value(signpost_protocol::sample::group(1, 1, chrono::Utc::now()))
            .unwrap_or_default()
    }

    #[test]
    fn a_body_without_updated_at_is_complete() {
        let mut body = sample();
        body["capacity"]
            .as_object_mut()
            .map(|c| c.remove("updated_at"));
        assert!(group(body).is_ok());
    }

    #[test]
    fn errors_name_the_field_and_what_is_expected_in_words() {
        let mut body = sample();
        body.as_object_mut().map(|o| o.remove("access"));
        let p = problem(body);
        assert_eq!(
            (p.field.as_str(), p.code.as_str()),
            ("group.access", "required")
        );

        let mut body = sample();
        body["schedule"][0]["opens"] = json!("6pm");
        let p = problem(body);
        assert_eq!(p.field, "group.schedule[0].opens");
        assert!(p.message.contains("like 18:30"), "{}", p.message);

        let mut body = sample();
        body["capacity"]["places_available"] = json!("five");
        let p = problem(body);
        assert_eq!(p.field, "group.capacity.places_available");
        assert!(p.message.contains("whole number"), "{}", p.message);

        let mut body = sample();
        body["capacity"]["updated_at"] = json!("2026-11");
        let p = problem(body);
        assert!(p.message.contains("date and time"), "{}", p.message);

        let mut body = sample();
        body["access"]["interpreting"] = json!("sometimes");
        let p = problem(body);
        assert!(
            p.message.contains("professional, volunteer, none"),
            "{}",
            p.message
        );

        let mut body = sample();
        body["age_range"] = json!([16, null]);
        let p = problem(body);
        assert_eq!(
            (p.field.as_str(), p.code.as_str()),
            ("group.age_range", "invalid_type")
        );
        assert!(p.message.contains("object"), "{}", p.message);

        let mut body = sample();
        body["schedule"][0] = json!(["tue", "18:30", "20:30", "weekly"]);
        let p = problem(body);
        assert_eq!(p.field, "group.schedule[0]");

        let mut body = sample();
        body["colour"] = json!("blue");
        let p = problem(body);
        assert_eq!(
            (p.field.as_str(), p.code.as_str()),
            ("group.colour", "unknown_field")
        );
        assert!(
            !p.message.contains("line ") && !p.message.contains("column"),
            "{}",
            p.message
        );
    }
}

//! Request bodies decoded with errors a person can act on: each wrong field's path and what
//! is expected, never the JSON library's own words (`signpost_http::body`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use signpost_protocol::model::Group;

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

/// A group from an admin request's JSON text, as [`group`] reads it, with a member given
/// twice anywhere named too.
pub fn group_text(text: &str) -> Result<Group, NodeError> {
    let body = serde_json::from_str(text)
        .map_err(|e| NodeError::MalformedBody(signpost_http::body::not_json(&e)))?;
    let read = match group(body) {
        Ok(group) => Ok(group),
        Err(NodeError::MalformedFields(problems)) => Err(problems),
        Err(other) => return Err(other),
    };
    signpost_http::body::with_twice(read, signpost_http::body::twice(text, "group"))
        .map_err(NodeError::MalformedFields)
}

/// Any typed body; `prefix` names the body in field paths (`group` for a listing). Every
/// wrong field is named (see `signpost_http::body::typed`).
pub fn typed<T: DeserializeOwned + Serialize>(
    body: serde_json::Value,
    prefix: &str,
) -> Result<T, NodeError> {
    signpost_http::body::typed(body, prefix).map_err(NodeError::MalformedFields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use signpost_protocol::wire::FieldProblem;

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

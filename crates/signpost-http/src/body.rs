//! JSON request bodies decoded with errors a person can act on: each field's path and what
//! is expected, in words, never the JSON library's own; every wrong field named at once (up
//! to [`MAX_PROBLEMS`]), not only the first serde stops at.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use signpost_protocol::wire::FieldProblem;

use crate::RequestError;

/// The most mistakes named in one answer.
pub const MAX_PROBLEMS: usize = 20;

/// A JSON body of type `T`, extracted through the app's `JsonConfig` (its size limit and
/// content type) and decoded by [`typed`]: a body of the wrong shape is a `malformed_json`
/// problem whose `errors` name each wrong field.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Serialize + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = web::Json::<Box<serde_json::value::RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            strict(raw.get())
                .map(Body)
                .map_err(|problems| RequestError::Fields(problems).into())
        })
    }
}

/// Decodes JSON text as a `T` as [`typed`] does, and also refuses a member given twice in any
/// object (read into a map, JSON keeps only the last, where serde refuses it in a struct).
pub fn strict<T: DeserializeOwned + Serialize>(text: &str) -> Result<T, Vec<FieldProblem>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![FieldProblem {
            field: String::new(),
            code: "invalid_type".to_owned(),
            message: not_json(&e),
        }]
    })?;
    with_twice(typed(value, ""), twice(text, ""))
}

/// The first object member given twice in JSON `text`, as a problem (its path under
/// `prefix`).
pub fn twice(text: &str, prefix: &str) -> Option<FieldProblem> {
    use serde::de::DeserializeSeed;
    let mut read = serde_json::Deserializer::from_str(text);
    let path = Walk(String::new()).deserialize(&mut read).ok().flatten()?;
    let field = join(prefix, &path);
    Some(FieldProblem {
        message: format!("{field} is given twice"),
        field,
        code: "duplicate_field".to_owned(),
    })
}

/// A reading's outcome with a member given twice: that is the field's problem, whatever
/// its last value holds.
pub fn with_twice<T>(
    read: Result<T, Vec<FieldProblem>>,
    twice: Option<FieldProblem>,
) -> Result<T, Vec<FieldProblem>> {
    match (read, twice) {
        (read, None) => read,
        (Ok(_), Some(twice)) => Err(vec![twice]),
        (Err(mut problems), Some(twice)) => {
            problems.retain(|p| p.field != twice.field);
            problems.insert(0, twice);
            Err(problems)
        }
    }
}

/// Walks JSON for the path of the first object member given twice.
struct Walk(String);

impl<'de> serde::de::DeserializeSeed<'de> for Walk {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut i = 0;
        while let Some(inner) = seq.next_element_seed(Walk(format!("{}[{i}]", self.0)))? {
            found = found.or(inner);
            i += 1;
        }
        Ok(found)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.0, &key);
            let inner = map.next_value_seed(Walk(path.clone()))?;
            let again = (!seen.insert(key)).then_some(path);
            found = found.or(again).or(inner);
        }
        Ok(found)
    }
}

/// Decodes `body` as a `T`; `prefix` names the body in field paths (`group` for a listing's
/// group). On failure, every wrong field found: after each mistake the field is set aside
/// and the body read again, so a body with three wrong fields gets three problems.
pub fn typed<T: DeserializeOwned + Serialize>(
    body: serde_json::Value,
    prefix: &str,
) -> Result<T, Vec<FieldProblem>> {
    // serde reads a struct from a list of its fields in order (`"age_range": [16, null]`); the
    // API document says objects, so the decoded value is written back and compared in shape.
    if body.is_array() && takes_an_object::<T>() {
        // serde would read the list's entries as the fields in order, and name `[0]`.
        return Err(vec![FieldProblem {
            field: prefix.to_owned(),
            code: "invalid_type".to_owned(),
            message: format!(
                "{} must be {}",
                named(prefix),
                expected_kind("expected struct")
            ),
        }]);
    }
    let sent = body.clone();
    let mut body = body;
    let mut problems: Vec<FieldProblem> = Vec::new();
    // Values standing in for required fields that are missing, so that reading goes on to
    // the fields after them: each one's path (in serde_path_to_error's form) and which of
    // [`stand_in`]'s values it holds. They are never used: the body is refused.
    let mut stand_ins: Vec<(String, usize)> = Vec::new();
    for _ in 0..MAX_READS {
        match serde_path_to_error::deserialize::<_, T>(body.clone()) {
            Ok(value) if problems.is_empty() => {
                if let Ok(read) = serde_json::to_value(&value) {
                    lists_for_objects(&sent, &read, prefix.to_owned(), &mut problems);
                }
                return if problems.is_empty() {
                    Ok(value)
                } else {
                    Err(problems)
                };
            }
            Ok(_) => return Err(problems),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                let missing = inner
                    .starts_with("missing field")
                    .then(|| quoted(&inner))
                    .flatten();
                let at = match missing {
                    Some(name) if path == "." => name.to_owned(),
                    Some(name) => format!("{path}.{name}"),
                    None => path.clone(),
                };
                // The deepest stand-in this error is at or inside.
                let holder = stand_ins
                    .iter()
                    .rposition(|(s, _)| at == *s || within(&at, s));
                if let Some(i) = holder {
                    if stand_ins[i].0 == at && missing.is_none() {
                        // Not a value of the field's type: the next one.
                        stand_ins[i].1 += 1;
                        let value = stand_in(stand_ins[i].1, &inner);
                        if !value.is_some_and(|v| put(&mut body, &path, None, v)) {
                            return Err(problems);
                        }
                        continue;
                    }
                    if missing.is_none() {
                        return Err(problems);
                    }
                }
                let problem = explain(prefix, &path, &inner);
                let named_before = problems.iter().any(|p| p.field == problem.field);
                if let Some(name) = missing {
                    // Named (unless set aside before, or inside a stand-in), then stood in for.
                    if !named_before && holder.is_none() {
                        problems.push(problem);
                    }
                    if problems.len() >= MAX_PROBLEMS {
                        return Err(problems);
                    }
                    let first = stand_in(0, &inner).unwrap_or(serde_json::Value::Null);
                    if !put(&mut body, &path, Some(name), first) {
                        return Err(problems);
                    }
                    stand_ins.push((at, 0));
                    continue;
                }
                // A field set aside that the type requires is then missing: already named.
                if named_before {
                    return Err(problems);
                }
                let set_aside = problem.code != "required" && remove(&mut body, &path);
                problems.push(problem);
                if !set_aside || problems.len() >= MAX_PROBLEMS {
                    return Err(problems);
                }
            }
        }
    }
    Err(problems)
}

/// The most times a body is read before the problems found so far are answered.
const MAX_READS: usize = 200;

/// The `n`th value tried in place of a missing field: each kind of JSON value, then strings
/// of the forms typed fields take, then the first variant the last error named (`unknown
/// variant `en`, expected `weekly` or `monthly``).
fn stand_in(n: usize, error: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    let fixed = [
        json!(""),
        json!(0),
        json!(false),
        json!([]),
        json!({}),
        json!("2000-01-01T00:00:00Z"),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("00:00"),
        json!("en"),
    ];
    match fixed.get(n) {
        Some(v) => Some(v.clone()),
        None if n == fixed.len() => error
            .split_once("unknown variant ")
            .and_then(|(_, rest)| rest.split_once(", expected "))
            .and_then(|(_, list)| quoted(list))
            .map(|variant| json!(variant)),
        None => None,
    }
}

/// Whether the field at `path` is inside the value at `outer` (serde_path_to_error's form).
fn within(path: &str, outer: &str) -> bool {
    path.strip_prefix(outer)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Sets the value at `path` (or, with `member`, that member of the object at `path`) to
/// `value`; false when there is no such place.
fn put(
    body: &mut serde_json::Value,
    path: &str,
    member: Option<&str>,
    value: serde_json::Value,
) -> bool {
    let segments: Vec<&str> = if path == "." {
        Vec::new()
    } else {
        path.split('.').collect()
    };
    let Some(at) = value_at(body, &segments) else {
        return false;
    };
    match member {
        Some(name) => at
            .as_object_mut()
            .map(|o| o.insert(name.to_owned(), value))
            .is_some(),
        None => {
            *at = value;
            true
        }
    }
}

/// Whether `T` is read from an object: an empty one is either enough or missing a field.
fn takes_an_object<T: DeserializeOwned>() -> bool {
    match serde_json::from_value::<T>(serde_json::Value::Object(serde_json::Map::new())) {
        Ok(_) => true,
        Err(e) => e.to_string().starts_with("missing field"),
    }
}

/// Removes the object member at `path` (serde_path_to_error's form: `a.b[0].c`, or `.` for
/// the whole body); false when it is not an object member (a list's entry is not removed:
/// the entries after it would change their numbers).
fn remove(body: &mut serde_json::Value, path: &str) -> bool {
    let segments: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    if last.is_empty() || last.ends_with(']') {
        return false;
    }
    value_at(body, parents)
        .and_then(serde_json::Value::as_object_mut)
        .is_some_and(|o| o.remove(*last).is_some())
}

/// The value at `segments` of a path (each a member's name, with any list indexes after it:
/// `b`, `c[0][1]`), if there is one.
fn value_at<'a>(
    body: &'a mut serde_json::Value,
    segments: &[&str],
) -> Option<&'a mut serde_json::Value> {
    let mut at = body;
    for segment in segments {
        let (name, indexes) = match segment.split_once('[') {
            Some((name, rest)) => (name, Some(rest)),
            None => (*segment, None),
        };
        if !name.is_empty() {
            at = at.get_mut(name)?;
        }
        for index in indexes.into_iter().flat_map(|r| r.split('[')) {
            let i = index.trim_end_matches(']').parse::<usize>().ok()?;
            at = at.get_mut(i)?;
        }
    }
    Some(at)
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
            message: format!(
                "{} must be {}",
                named(&at),
                expected_kind("expected struct")
            ),
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

/// A body that is not JSON at all, in words: where the mistake is (serde_json's own text,
/// "expected ident", is not for people).
pub fn not_json(e: &serde_json::Error) -> String {
    let (line, column) = (e.line(), e.column());
    if e.is_eof() && line <= 1 && column == 0 {
        "the body is empty; send a JSON object".into()
    } else if e.is_eof() {
        format!("the JSON ends before it is complete (line {line}, column {column})")
    } else if e.is_syntax() {
        format!("the body is not well-formed JSON: the mistake is at line {line}, column {column}")
    } else {
        "the body does not have the fields this endpoint takes; check it against the API document"
            .into()
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

/// A field's path as a message names it: the whole body when it is empty.
fn named(field: &str) -> &str {
    if field.is_empty() {
        "the body"
    } else {
        field
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
    kind_words(text.rsplit("expected ").next().unwrap_or(""))
}

/// A value of the kind serde names (`u32`, `a boolean`, `struct Session`, ...) in words: what
/// a JSON body's field or a configuration's setting must be.
pub(crate) fn kind_words(expected: &str) -> &'static str {
    if expected.starts_with("u8")
        || expected.starts_with("u16")
        || expected.starts_with("u32")
        || expected.starts_with("u64")
        || expected.starts_with("usize")
    {
        "a whole number, 0 or more"
    } else if expected.starts_with("f64") || expected.starts_with("f32") {
        "a number, like 53.8175"
    } else if expected.starts_with("a boolean") {
        "true or false"
    } else if expected.starts_with("a sequence") {
        "a list, in square brackets"
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

/// One decoding error as a field problem.
fn explain(prefix: &str, path: &str, text: &str) -> FieldProblem {
    let problem = |field: String, code: &str, message: String| FieldProblem {
        field,
        code: code.to_owned(),
        message,
    };
    let at = join(prefix, path);
    let name = named(&at).to_owned();
    if text.starts_with("missing field") {
        let field = join(&at, quoted(text).unwrap_or("?"));
        let message = format!("{field} is required");
        return problem(field, "required", message);
    }
    if text.starts_with("unknown field") {
        // The path already ends with the unknown field's name.
        let message =
            format!("{name} is not a field here; check its spelling against the API document");
        return problem(at, "unknown_field", message);
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
        let message = format!("{name} must be one of: {}", allowed.join(", "));
        return problem(at, "not_in_list", message);
    }
    if text.contains("is not a time of day") {
        let message = format!("{name} must be a time like 18:30 (24-hour clock)");
        return problem(at, "invalid_time", message);
    }
    if text.contains("is not a day") {
        let message = format!("{name} must be a day: mon, tue, wed, thu, fri, sat or sun");
        return problem(at, "not_in_list", message);
    }
    if text.contains("did:key") || text.contains("base58") {
        let message = format!("{name} must be a did:key identifier");
        return problem(at, "invalid_did", message);
    }
    if text.contains("premature end of input")
        || text.contains("input contains invalid characters")
        || text.contains("trailing input")
        || text.contains("input is out of range")
    {
        let message = format!("{name} must be a date and time, like 2026-11-24T18:30:00Z");
        return problem(at, "invalid_date", message);
    }
    if text.starts_with("duplicate field") {
        let field = join(&at, quoted(text).unwrap_or("?"));
        let message = format!("{field} is given twice");
        return problem(field, "duplicate_field", message);
    }
    if text.starts_with("invalid length") && text.contains("expected struct") {
        // A list where an object was expected (serde reads a struct from one).
        let message = format!("{name} must be {}", expected_kind("expected struct"));
        return problem(at, "invalid_type", message);
    }
    if text.starts_with("invalid length") {
        let message = format!("{name} has the wrong number of entries");
        return problem(at, "invalid_value", message);
    }
    if let Some(max) = too_large(text) {
        let message = format!("{name} must be a whole number from 0 to {max}");
        return problem(at, "invalid_value", message);
    }
    let kind = match expected_kind(text) {
        // The one list whose example is the same wherever it is: a group's languages.
        list if list.starts_with("a list") && at.ends_with("languages") => {
            "a list of language codes, like [\"en\", \"ar\"]"
        }
        kind => kind,
    };
    let message = format!("{name} must be {kind}");
    problem(at, "invalid_type", message)
}

/// The largest value of the unsigned type serde expected, when the number given was whole,
/// not negative, and over it (`invalid value: integer `99999999999`, expected u32`).
fn too_large(text: &str) -> Option<u64> {
    let given = text.strip_prefix("invalid value: integer `")?;
    if given.starts_with('-') {
        return None;
    }
    let expected = text.rsplit("expected ").next()?;
    [
        ("u8", u64::from(u8::MAX)),
        ("u16", u64::from(u16::MAX)),
        ("u32", u64::from(u32::MAX)),
    ]
    .into_iter()
    .find_map(|(ty, max)| expected.starts_with(ty).then_some(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Capacity {
        accepting: bool,
        places: Option<u32>,
        at: Option<Vec<Session>>,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Session {
        day: String,
        opens: u16,
    }

    fn fields(problems: &[FieldProblem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.field.as_str(), p.code.as_str()))
            .collect()
    }

    #[test]
    fn every_wrong_field_is_named_once() {
        let body = json!({"accepting": "yes", "places": -1, "colour": "blue"});
        let problems = typed::<Capacity>(body, "").err().unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [
                ("accepting", "invalid_type"),
                ("colour", "unknown_field"),
                ("places", "invalid_type")
            ]
        );
        assert_eq!(problems[0].message, "accepting must be true or false");
        assert_eq!(
            problems[2].message,
            "places must be a whole number, 0 or more"
        );
        // A whole number too large for its field is named with the largest it takes.
        let problems =
            typed::<Capacity>(json!({"accepting": true, "places": 99_999_999_999u64}), "")
                .err()
                .unwrap_or_default();
        assert_eq!(fields(&problems), [("places", "invalid_value")]);
        assert_eq!(
            problems[0].message,
            format!("places must be a whole number from 0 to {}", u32::MAX)
        );
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Listing {
        name: String,
        opens: chrono::DateTime<chrono::Utc>,
        kind: Kind,
        capacity: Capacity,
        sessions: Vec<Session>,
        id: uuid::Uuid,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Weekly,
        Monthly,
    }

    #[test]
    fn every_missing_field_is_named_at_once_with_the_wrong_ones() {
        // Each missing field once (a missing object by its own name, not its fields'), in
        // the order serde meets them, with the fields after them that are wrong.
        let body = json!({"sessions": [{"day": "mon"}], "colour": "red"});
        let problems = typed::<Listing>(body, "group").err().unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [
                ("group.colour", "unknown_field"),
                ("group.sessions[0].opens", "required"),
                ("group.name", "required"),
                ("group.opens", "required"),
                ("group.kind", "required"),
                ("group.capacity", "required"),
                ("group.id", "required"),
            ]
        );
        // An empty body names every required field; the optional ones are not asked for.
        let problems = typed::<Capacity>(json!({}), "").err().unwrap_or_default();
        assert_eq!(fields(&problems), [("accepting", "required")]);
        // Set aside for being wrong, then missing: named once, and reading goes on.
        let problems = typed::<Listing>(
            json!({"name": 3, "kind": "weekly", "capacity": {"accepting": true}, "sessions": [], "id": "x"}),
            "",
        )
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [
                ("id", "invalid_type"),
                ("name", "invalid_type"),
                ("opens", "required")
            ]
        );
        assert_eq!(problems[1].message, "name must be text");
    }

    #[test]
    fn a_list_is_asked_for_with_an_example_only_where_the_example_fits() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Group {
            languages: Vec<String>,
            sessions: Vec<Session>,
        }
        let problems = typed::<Group>(json!({"languages": "en", "sessions": 5}), "group")
            .err()
            .unwrap_or_default();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "group.languages must be a list of language codes, like [\"en\", \"ar\"]",
                "group.sessions must be a list, in square brackets",
            ]
        );
    }

    #[test]
    fn a_field_set_aside_that_is_required_is_not_named_again() {
        // `accepting` is wrong, then missing once set aside: one problem.
        let problems = typed::<Capacity>(json!({"accepting": 3}), "capacity")
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&problems), [("capacity.accepting", "invalid_type")]);
        let problems = typed::<Capacity>(json!({"places": 2}), "")
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&problems), [("accepting", "required")]);
    }

    #[test]
    fn fields_inside_lists_are_named_by_their_place() {
        let body = json!({"accepting": true, "at": [{"day": "tue", "opens": "6pm", "x": 1}]});
        let problems = typed::<Capacity>(body, "").err().unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [
                ("at[0].opens", "invalid_type"),
                ("at[0].x", "unknown_field")
            ]
        );
        // A list's entry of the wrong kind is named, and the reading stops there (the
        // entries after it would change their numbers if it were set aside).
        let body = json!({"accepting": true, "at": [1, {"day": 2}]});
        let problems = typed::<Capacity>(body, "").err().unwrap_or_default();
        assert_eq!(fields(&problems), [("at[0]", "invalid_type")]);
    }

    #[test]
    fn a_body_of_the_wrong_kind_is_named_as_the_body() {
        for body in [json!([true, 1]), json!([true, 1, null]), json!(["yes"])] {
            let problems = typed::<Capacity>(body, "").err().unwrap_or_default();
            assert_eq!(fields(&problems), [("", "invalid_type")]);
            assert_eq!(
                problems[0].message,
                "the body must be an object with named fields"
            );
        }
        let problems = typed::<Capacity>(json!("text"), "")
            .err()
            .unwrap_or_default();
        assert!(
            problems[0].message.starts_with("the body must be"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_field_given_twice_is_named_with_the_others() {
        let problems = strict::<Capacity>(r#"{"accepting": true, "accepting": false}"#)
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&problems), [("accepting", "duplicate_field")]);
        assert_eq!(problems[0].message, "accepting is given twice");
        let problems = strict::<Capacity>(r#"{"accepting": true, "accepting": 1, "places": "x"}"#)
            .err()
            .unwrap_or_default();
        assert_eq!(
            fields(&problems),
            [("accepting", "duplicate_field"), ("places", "invalid_type")]
        );
        let read = strict::<Capacity>(r#"{"accepting": true, "places": 2}"#).ok();
        assert_eq!(read.and_then(|c| c.places), Some(2));
        // At any depth, named by its path.
        let text = r#"{"accepting": true, "at": [{"day": "tue", "opens": 1, "day": "wed"}]}"#;
        let problems = strict::<Capacity>(text).err().unwrap_or_default();
        assert_eq!(fields(&problems), [("at[0].day", "duplicate_field")]);
        assert_eq!(
            twice(r#"{"a": {"b": 1, "b": 2}}"#, "group").map(|p| p.field),
            Some("group.a.b".into())
        );
        assert_eq!(twice(r#"{"a": [1, {"b": 1}], "c": {"b": 2}}"#, ""), None);
    }

    #[test]
    fn a_sound_body_decodes() {
        let body = json!({"accepting": true, "places": 3, "at": [{"day": "tue", "opens": 1080}]});
        let read = typed::<Capacity>(body, "").ok();
        assert_eq!(read.and_then(|c| c.places), Some(3));
    }

    #[test]
    fn no_more_than_the_most_problems_are_named() {
        let mut body = serde_json::Map::new();
        body.insert("accepting".into(), json!(true));
        for i in 0..50 {
            body.insert(format!("unknown{i:02}"), json!(i));
        }
        let problems = typed::<Capacity>(body.into(), "").err().unwrap_or_default();
        assert_eq!(problems.len(), MAX_PROBLEMS);
    }

    #[test]
    fn text_that_is_not_json_is_placed_in_words() {
        let e = |text: &str| {
            serde_json::from_str::<serde_json::Value>(text)
                .err()
                .map(|e| not_json(&e))
                .unwrap_or_default()
        };
        assert_eq!(e(""), "the body is empty; send a JSON object");
        assert_eq!(
            e("not json"),
            "the body is not well-formed JSON: the mistake is at line 1, column 2"
        );
        assert_eq!(
            e("{\"a\": [1,"),
            "the JSON ends before it is complete (line 1, column 9)"
        );
    }
}

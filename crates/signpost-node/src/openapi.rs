//! The node's OpenAPI document, generated from the handlers. `openapi/node.json` is this,
//! committed; a test fails when they differ.

use signpost_http::{BearerAuth, ListingRules, ProblemCodes};
use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Signpost node", description = "An organisation's node: its signed node document, snapshot and listings (public, read-only), and the admin API that changes them."),
    paths(
        routes::node_document, routes::node_version, routes::snapshot, routes::listing,
        routes::bundle, routes::healthz, routes::admin_list, routes::admin_create,
        routes::admin_replace, routes::admin_delete, routes::admin_capacity,
        routes::admin_attestation, routes::admin_rotate, routes::admin_backup
    ),
    components(schemas(signpost_http::Problem)),
    modifiers(&BearerAuth, &ProblemCodes, &ListingRules),
    tags((name = "public", description = "Read-only, CORS-open, signed data"),
         (name = "admin", description = "Changes; bearer token"))
)]
struct NodeApi;

/// `GET /openapi.json`: the document (registered by the server, not by `routes`, which this
/// module reads).
pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document())
}

/// The OpenAPI document with a fixed version (so the committed copy is stable).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = NodeApi::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Pretty JSON of [`document`], as committed in `openapi/node.json`.
pub fn document_json() -> String {
    doc_json(&document())
}

fn doc_json(doc: &utoipa::openapi::OpenApi) -> String {
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/node.json");
        signpost_http::check_committed(path, &super::document_json()).unwrap();
    }

    /// API tools (Schemathesis's example phase, Swagger UI's "Try it out") send the schema's
    /// example as it is: it must be a listing the node publishes, not one it refuses.
    #[test]
    fn the_group_example_is_accepted_as_it_is() {
        let doc: serde_json::Value = serde_json::from_str(&super::document_json()).unwrap();
        let example = doc["components"]["schemas"]["Group"]["examples"][0].clone();
        assert!(example.is_object(), "the Group schema has a whole example");
        let group = crate::decode::group(example).expect("the example decodes");
        assert_eq!(crate::check::group(&group), vec![]);
        let location = &doc["components"]["schemas"]["Location"]["properties"];
        let postcode = signpost_postcodes::Postcode::parse("LS8 5AB").unwrap();
        let near = crate::check::gazetteer()
            .locate(&postcode)
            .expect("the example postcode is known");
        let (lat, lon) = (
            location["lat"]["example"].as_f64().unwrap(),
            location["lon"]["example"].as_f64().unwrap(),
        );
        assert!(
            (near.lat - lat).abs() < 0.05 && (near.lon - lon).abs() < 0.05,
            "the field examples combine into a consistent place"
        );
        // A session's own example, used wherever sessions are combined into a listing.
        let session = doc["components"]["schemas"]["Session"]["examples"][0].clone();
        let mut group = group;
        group.schedule = vec![serde_json::from_value(session).expect("a session")];
        assert_eq!(crate::check::group(&group), vec![]);
    }

    /// API tools generate text from the schema's patterns: a name or description the
    /// pattern allows must be one the checks accept, and the other way round.
    #[test]
    fn text_patterns_say_what_the_checks_accept() {
        let doc: serde_json::Value = serde_json::from_str(&super::document_json()).unwrap();
        let group = &doc["components"]["schemas"]["Group"]["allOf"][0]["properties"];
        let pattern = |field: &str| {
            let p = group[field]["pattern"].as_str().expect("a pattern");
            regex::Regex::new(p).expect("the pattern compiles")
        };
        let (name, description) = (pattern("name"), pattern("description"));
        let sample = signpost_protocol::sample::group(1, 1, chrono::Utc::now());
        let refused = |g: &signpost_protocol::model::Group, field: &str| {
            crate::check::group(g).iter().any(|p| p.field == field)
        };
        for text in [
            "Tea and talk",
            " Café ",
            "",
            " ",
            "\t\n",
            "\u{a0}",
            "\u{3000}x",
            "\u{feff}",
            "a\rb",
            "a\nb",
            "a\tb",
            "\u{85}",
            "a\u{7f}",
            "\u{2028}",
            "\u{1}",
            "عربي",
        ] {
            let mut g = sample.clone();
            g.name = text.into();
            let accepted = !refused(&g, "group.name");
            assert_eq!(name.is_match(text), accepted, "name {text:?}");
            let mut g = sample.clone();
            g.description = text.into();
            let accepted = !refused(&g, "group.description");
            assert_eq!(description.is_match(text), accepted, "description {text:?}");
        }
        // utoipa takes a pattern only as a literal, so each text field carries a copy: every
        // copy is one of the two tested above.
        let (name, description) = (name.as_str(), description.as_str());
        let mut copies = 0;
        for (schema, field, pattern) in text_patterns(&doc["components"]["schemas"]) {
            assert!(
                pattern == name || pattern == description,
                "{schema}.{field}: {pattern}"
            );
            copies += 1;
        }
        assert_eq!(copies, 7, "text fields with a pattern");
    }

    /// (schema, field, pattern) of every string property whose pattern is a text rule (it
    /// starts with the control-character class), wherever it sits in `schemas`.
    fn text_patterns(schemas: &serde_json::Value) -> Vec<(String, String, String)> {
        fn walk(v: &serde_json::Value, at: &str, out: &mut Vec<(String, String, String)>) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                        for (field, prop) in props {
                            if let Some(p) = prop["pattern"].as_str() {
                                if p.starts_with(r"^[^\x00-\x08") {
                                    out.push((at.to_owned(), field.clone(), p.to_owned()));
                                }
                            }
                        }
                    }
                    for (k, child) in map {
                        walk(child, if at.is_empty() { k } else { at }, out);
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, at, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(schemas, "", &mut out);
        out.sort();
        out.dedup();
        out
    }
}

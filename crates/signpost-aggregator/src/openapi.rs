//! The directory's OpenAPI document, generated from the handlers. `openapi/directory.json`
//! is this, committed; a test fails when they differ.

use signpost_http::{BearerAuth, ProblemCodes};
use utoipa::OpenApi;

use crate::api;
use crate::oruk::handlers as oruk;

#[derive(OpenApi)]
#[openapi(
    info(title = "Signpost directory", description = "Find community groups for social prescribing: capacity, safeguarding, verified training and the access facts that decide whether a person can attend. Every result carries the organisation's original signed envelope (DSSE, Ed25519), so it can be verified without trusting this service. Errors are application/problem+json with a stable `code`."),
    paths(api::groups, api::group, api::nodes, api::node, api::issuers, api::issuer_attestations, api::taxonomy, api::feed, api::ping, api::push_revocations, api::enrol, api::enrolments, api::approve, api::decline, api::healthz, api::metrics,
        oruk::root, oruk::services, oruk::service, oruk::service_at_locations, oruk::service_at_location,
        oruk::taxonomies, oruk::taxonomy, oruk::taxonomy_terms, oruk::taxonomy_term),
    components(schemas(signpost_http::Problem)),
    modifiers(&BearerAuth, &ProblemCodes),
    tags((name = "directory", description = "Queries for GP software, referrers and regulators"),
         (name = "federation", description = "Node push and mirror feed"),
         (name = "operations", description = "Health, metrics, and the operator's enrolment decisions (bearer token)"),
         (name = "oruk", description = "Open Referral UK (HSDS 3.0 UK profile) over the same verified index; each service carries a `signpost` extension with its signed envelope and provenance link"))
)]
struct DirectoryApi;

/// The OpenAPI document with a fixed version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = DirectoryApi::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Pretty JSON of [`document`], as committed in `openapi/directory.json`.
pub fn document_json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/directory.json");
        signpost_http::check_committed(path, &super::document_json()).unwrap();
    }
}

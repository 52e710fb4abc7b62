//! Open Referral UK (the UK profile of HSDS 3.0) over the same verified index, under
//! `/oruk`. The mapping is documented in `openapi/ORUK.md`.
//!
//! - [`query`]: ORUK's parameters parsed into the one `GroupQuery` (the engine is `index`);
//! - [`hsds`]: typed HSDS objects and how a verified listing becomes them;
//! - [`vocab`]: Signpost's vocabularies as HSDS taxonomies, and stable UUIDv5 ids;
//! - [`handlers`]: the endpoints.

pub mod handlers;
pub mod hsds;
pub mod query;
pub mod vocab;

use actix_web::web;

/// Registers `/oruk`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        signpost_http::public_scope("/oruk")
            .service(signpost_http::get("", handlers::root))
            .service(signpost_http::get("/", handlers::root))
            .service(signpost_http::get("/services", handlers::services))
            .service(signpost_http::get("/services/{id}", handlers::service))
            .service(signpost_http::get(
                "/service_at_locations",
                handlers::service_at_locations,
            ))
            .service(signpost_http::get(
                "/service_at_locations/{id}",
                handlers::service_at_location,
            ))
            .service(signpost_http::get("/taxonomies", handlers::taxonomies))
            .service(signpost_http::get("/taxonomies/{id}", handlers::taxonomy))
            .service(signpost_http::get(
                "/taxonomy_terms",
                handlers::taxonomy_terms,
            ))
            .service(signpost_http::get(
                "/taxonomy_terms/{id}",
                handlers::taxonomy_term,
            )),
    );
}

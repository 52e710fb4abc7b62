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
        web::scope("/oruk")
            .wrap(actix_web::middleware::from_fn(
                signpost_http::ratelimit::rate_limit,
            ))
            .wrap(signpost_http::public_cors())
            .route("", web::get().to(handlers::root))
            .route("/", web::get().to(handlers::root))
            .route("/services", web::get().to(handlers::services))
            .route("/services/{id}", web::get().to(handlers::service))
            .route(
                "/service_at_locations",
                web::get().to(handlers::service_at_locations),
            )
            .route(
                "/service_at_locations/{id}",
                web::get().to(handlers::service_at_location),
            )
            .route("/taxonomies", web::get().to(handlers::taxonomies))
            .route("/taxonomies/{id}", web::get().to(handlers::taxonomy))
            .route("/taxonomy_terms", web::get().to(handlers::taxonomy_terms))
            .route(
                "/taxonomy_terms/{id}",
                web::get().to(handlers::taxonomy_term),
            ),
    );
}

//! The charity's own pages, served by the node: sign in, see each group's capacity and
//! re-confirm it, add, edit and delete groups, import training attestations, and see the
//! node's status and enrolment card. Server-rendered (askama), working without JavaScript,
//! loading nothing from elsewhere, usable at 320 px.
//!
//! - [`session`]: sign-in (token, passphrase, one-time link), sessions, CSRF, throttling;
//! - [`form`]: the group form and its mapping to a [`Group`](signpost_protocol::model::Group);
//! - [`handlers`]: the pages themselves, a module for each part (account, groups,
//!   attestations, status).
//!
//! Every change goes through the [`Publisher`](crate::publisher::Publisher) and the shared
//! checks ([`crate::check`]) exactly as the admin API's do.

pub mod form;
pub mod handlers;
pub mod session;

use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpResponse};
use askama::Template;

/// Nothing from elsewhere, no inline code, forms post only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const CSS: &str = include_str!("../../static/node.css");
const JS: &str = include_str!("../../static/node.js");

/// Renders a page (a template failure is a plain 500 page, logged).
pub fn html<T: Template>(page: &T) -> HttpResponse {
    render(page, actix_web::http::StatusCode::OK)
}

/// Renders a page with a status (400 for a form with errors, 429 when throttled).
pub fn render<T: Template>(page: &T, status: actix_web::http::StatusCode) -> HttpResponse {
    signpost_http::html_page(page.render(), status)
}

/// The headers of every page: its Content-Security-Policy, no referrer, no sniffing, no
/// framing.
const PAGE_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CSP),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
];

/// Any path no route answers: for a browser asking for a page, a page saying so (with the
/// pages' headers); for anything else, a problem naming the path.
pub async fn unknown_path(req: actix_web::HttpRequest) -> HttpResponse {
    signpost_http::unknown_path(&req, handlers::no_page, &PAGE_HEADERS)
}

/// Registers `/` and `/manage/...`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use handlers as h;
    let headers = || {
        PAGE_HEADERS
            .into_iter()
            .fold(DefaultHeaders::new(), |h, pair| h.add(pair))
    };
    // A page's id that is not one is the page for a group no longer published, not a
    // problem document.
    let page_paths = web::PathConfig::default().error_handler(|err, req| {
        actix_web::error::InternalError::from_response(err, h::bad_group_address(req)).into()
    });
    cfg.app_data(web::FormConfig::default().limit(256 * 1024))
        .service(
            web::resource("/")
                .wrap(headers())
                .route(web::get().to(h::home)),
        )
        .service(
            web::scope("/manage")
                .app_data(page_paths)
                .wrap(headers())
                .wrap(DefaultHeaders::new().add(("Cache-Control", "no-store")))
                .route(
                    "/static/node.css",
                    web::get().to(|| async {
                        signpost_http::static_asset("text/css; charset=utf-8", CSS)
                    }),
                )
                .route(
                    "/static/node.js",
                    web::get().to(|| async {
                        signpost_http::static_asset("text/javascript; charset=utf-8", JS)
                    }),
                )
                .route("", web::get().to(h::overview))
                .route("/", web::get().to(h::overview))
                .route("/sign-in", web::get().to(h::sign_in_page))
                .route("/sign-in", web::post().to(h::sign_in))
                .route("/sign-in/once/{token}", web::get().to(h::one_time_page))
                .route("/sign-in/once", web::post().to(h::one_time))
                .route("/sign-out", web::post().to(h::sign_out))
                .route("/groups/new", web::get().to(h::new_group_page))
                .route("/groups/new", web::post().to(h::new_group))
                .route("/groups/{id}", web::get().to(h::edit_group_page))
                .route("/groups/{id}", web::post().to(h::edit_group))
                .route("/groups/{id}/capacity", web::post().to(h::capacity))
                .route("/groups/{id}/delete", web::get().to(h::delete_page))
                .route("/groups/{id}/delete", web::post().to(h::delete))
                .route("/attestations", web::get().to(h::attestations_page))
                .route("/attestations", web::post().to(h::import_attestation))
                .route("/status", web::get().to(h::status_page))
                .route("/status/passphrase", web::post().to(h::set_passphrase))
                .route("/status/token", web::post().to(h::rotate_token))
                .route("/status/backup", web::post().to(h::download_backup))
                .route("/status/enrol", web::post().to(h::enrol))
                .route("/status/enrolment.txt", web::get().to(h::enrolment_card)),
        );
}

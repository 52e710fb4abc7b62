//! The people's pages, server-rendered (askama, checked at compile time), working without
//! JavaScript, loading nothing from elsewhere:
//!
//! - [`find`]: `/find`, the finder for Link Workers and for people themselves, a group page
//!   and a printable two-language referral card;
//! - [`audit`]: `/audit`, the regulator's page, with CSV;
//! - [`i18n`]: Fluent catalogues (`locales/*.ftl`) and language negotiation;
//! - [`view`]: a verified listing in words.
//!
//! Safety and privacy: no cookies, a strict Content-Security-Policy, no third-party requests,
//! `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, an "exit this page" control,
//! and nothing about a search logged or stored (the access log writes paths only).

pub mod audit;
pub mod find;
pub mod i18n;
pub mod view;

use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpResponse};
use askama::Template;

use i18n::{Lang, Tr};

/// The frame every page shares.
pub struct Page {
    pub tr: Tr,
    pub title: String,
    pub langs: &'static [Lang],
    /// Parameters the language picker carries over.
    pub hidden: Vec<(String, String)>,
    pub path: String,
    pub show_picker: bool,
    /// The skip link leads to the results section (the page answers a search, whether or
    /// not it found any) rather than to the page's content.
    pub skip_to_results: bool,
}

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline code.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const CSS: &str = include_str!("../../static/finder.css");
const JS: &str = include_str!("../../static/finder.js");

/// Renders a page (a template failure is a plain 500 page, logged).
pub fn html<T: Template>(page: &T) -> HttpResponse {
    signpost_http::html_page(page.render(), actix_web::http::StatusCode::OK)
}

/// The headers of every page: its Content-Security-Policy, no referrer, no sniffing, and
/// the location only for the finder's own "use my location".
const PAGE_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CSP),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("permissions-policy", "geolocation=(self)"),
];

/// Any path no route answers: for a browser asking for a page, a page saying so (with the
/// pages' headers); for anything else, a problem naming the path.
pub async fn unknown_path(req: actix_web::HttpRequest) -> HttpResponse {
    signpost_http::unknown_path(&req, find::no_page, &PAGE_HEADERS)
}

/// Registers `/` (to the finder), `/find` and `/audit`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let headers = || {
        PAGE_HEADERS
            .into_iter()
            .fold(DefaultHeaders::new(), |h, pair| h.add(pair))
    };
    cfg.service(
        web::scope("/find")
            .wrap(headers())
            .wrap(actix_web::middleware::from_fn(
                signpost_http::ratelimit::rate_limit,
            ))
            .wrap(DefaultHeaders::new().add(("Cache-Control", "no-store")))
            .service(signpost_http::get("", find::find))
            .service(signpost_http::get("/", find::find))
            .service(signpost_http::get("/static/finder.css", || async {
                signpost_http::static_asset("text/css; charset=utf-8", CSS)
            }))
            .service(signpost_http::get("/static/finder.js", || async {
                signpost_http::static_asset("text/javascript; charset=utf-8", JS)
            }))
            .service(signpost_http::get("/group/{node}/{id}", find::group))
            .service(signpost_http::get("/card/{node}/{id}", find::card)),
    )
    .service(signpost_http::get("/", find::home).wrap(headers()))
    .service(signpost_http::get("/audit", audit::audit).wrap(headers()))
    .service(signpost_http::get("/audit.csv", audit::audit_csv).wrap(headers()));
}

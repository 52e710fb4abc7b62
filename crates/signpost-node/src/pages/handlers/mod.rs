//! The pages. Each handler: check the session (and, for a POST, the CSRF token and the
//! request's origin), do one thing through the publisher, then redirect (POST/redirect/GET)
//! or show the form again with every problem in an error summary.
//!
//! A check that fails answers with the page to show instead (`Result<_, HttpResponse>`):
//! the response is the error path here, not an error value to report.
#![allow(clippy::result_large_err)]

mod account;
mod attestations;
mod groups;
mod status;

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use signpost_protocol::model::Group;
use signpost_protocol::taxonomy::{self, Term};
use signpost_protocol::wire::{CapacityPatch, FieldProblem};
use signpost_protocol::Envelope;
use uuid::Uuid;

use super::form::{GroupForm, Question, ACCESS, MORE};
use super::session::{self, Session, SignInError};
use super::{html, render};
use crate::error::NodeError;
use crate::languages::{self, LANGUAGES};
use crate::routes::{blocking, AppState};

pub use account::*;
pub use attestations::*;
pub use groups::*;
pub use status::*;

type Data = web::Data<AppState>;
type Pairs = web::Form<Vec<(String, String)>>;

/// The problems on a page, in the order the form asks (for the error summary) and by field
/// (for the message above each field).
pub struct Errors(pub Vec<FieldProblem>);

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, FieldProblem> {
        self.0.iter()
    }
    /// The message for one field, if it has a problem.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    /// The message of a yes/no question (its field is its "yes" radio).
    pub fn yes(&self, name: &str) -> Option<&str> {
        self.get(&format!("{name}-yes"))
    }
    /// The message for one part of a session row.
    pub fn session(&self, row: &usize, part: &str) -> Option<&str> {
        self.get(&format!("session-{row}-{part}"))
    }
}

/// The frame every page shares.
pub struct Frame {
    pub title: String,
    pub node_name: String,
    /// The session's CSRF token: present when signed in.
    pub csrf: Option<String>,
    pub notice: Option<String>,
    pub current: &'static str,
}

fn frame(
    state: &Data,
    title: impl Into<String>,
    session: Option<&Session>,
    current: &'static str,
) -> Frame {
    Frame {
        title: title.into(),
        node_name: state
            .publisher
            .node_document()
            .map(|d| d.name)
            .unwrap_or_default(),
        csrf: session.map(|s| s.csrf.clone()),
        notice: None,
        current,
    }
}

/// A page's title and status after a form: with problems, the title begins "Error: " (a
/// screen reader says it first) and the status is 400.
fn form_outcome(title: &str, problems: &[FieldProblem]) -> (String, StatusCode) {
    if problems.is_empty() {
        (title.to_owned(), StatusCode::OK)
    } else {
        (format!("Error: {title}"), StatusCode::BAD_REQUEST)
    }
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_owned())
}

/// The signed-in session, or a redirect to the sign-in page.
fn signed_in(state: &Data, req: &HttpRequest) -> Result<Session, HttpResponse> {
    cookie_value(req, session::COOKIE)
        .and_then(|c| state.auth.session(&c))
        .ok_or_else(|| redirect("/manage/sign-in"))
}

/// A form from another site is refused: browsers say where a request comes from.
fn same_origin(req: &HttpRequest) -> bool {
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    match req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        None | Some("null") => {
            fetch_site.is_none() || fetch_site == Some("same-origin") || fetch_site == Some("none")
        }
        Some(origin) => {
            let host = req.connection_info().host().to_owned();
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
        }
    }
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The session of a POST whose CSRF token and origin are right, or the refusal page.
fn checked_post(
    state: &Data,
    req: &HttpRequest,
    pairs: &[(String, String)],
) -> Result<Session, HttpResponse> {
    let session = signed_in(state, req)?;
    if !same_origin(req) || !session::same_token(field(pairs, "csrf"), &session.csrf) {
        return Err(forbidden(state));
    }
    Ok(session)
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    f: Frame,
    heading: String,
    body: String,
    link: Option<(String, String)>,
}

fn forbidden(state: &Data) -> HttpResponse {
    render(
        &MessagePage {
            f: frame(state, "The form could not be accepted", None, ""),
            heading: "The form could not be accepted".into(),
            body: "It did not come from this node's own pages, or it was open for too long. \
                   Nothing was changed. Go back, reload the page, and try again."
                .into(),
            link: Some(("/manage".into(), "Go to your groups".into())),
        },
        StatusCode::FORBIDDEN,
    )
}

/// A page's address whose id is not one (a mistyped or cut link): for the signed in, a page
/// saying there is no group there; for anyone else, the sign-in page first, as for every
/// page here.
pub fn bad_group_address(req: &HttpRequest) -> HttpResponse {
    lost(
        req,
        true,
        "Group not found",
        "There is no group at this address. If you typed it, check it; if you followed a \
         link, the group may have been deleted.",
    )
}

/// An address with no page, asked for by a browser: a page saying so, with the way to the
/// node's own pages.
pub fn no_page(req: &HttpRequest) -> HttpResponse {
    lost(
        req,
        false,
        "Page not found",
        "There is no page at this address. If you typed it, check it; if you followed a \
         link, it may be out of date.",
    )
}

/// A 404 page in words with the way back to the node's own pages (after signing in, when
/// `signed_in_only`).
fn lost(req: &HttpRequest, signed_in_only: bool, heading: &str, body: &str) -> HttpResponse {
    let Some(state) = req.app_data::<Data>() else {
        return signpost_http::problem_response(&signpost_http::RequestError::NotFound);
    };
    let session = match signed_in(state, req) {
        Ok(session) => Some(session),
        Err(to_sign_in) if signed_in_only => return to_sign_in,
        Err(_) => None,
    };
    render(
        &MessagePage {
            f: frame(state, heading, session.as_ref(), ""),
            heading: heading.into(),
            body: body.into(),
            link: Some(("/manage".into(), "Go to your groups".into())),
        },
        StatusCode::NOT_FOUND,
    )
}

fn failure(state: &Data, session: Option<&Session>, err: &NodeError) -> HttpResponse {
    tracing::warn!(error = %err, "a page's change failed");
    render(
        &MessagePage {
            f: frame(state, "That did not work", session, ""),
            heading: "That did not work".into(),
            body: match err {
                NodeError::ListingNotFound(_) => "That group is not published here any more.".into(),
                NodeError::ListingLimit(n) => format!("This node already publishes {n} groups, its limit."),
                _ => "Nothing was changed. Please try again; if it keeps happening, tell whoever looks after this node.".into(),
            },
            link: Some(("/manage".into(), "Go to your groups".into())),
        },
        match err {
            NodeError::ListingNotFound(_) => StatusCode::NOT_FOUND,
            NodeError::ListingLimit(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        },
    )
}

fn client(req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    req.app_data::<web::Data<signpost_http::ratelimit::RateLimiter>>()
        .map_or(peer, |l| {
            signpost_http::ratelimit::bucket_key(l.client(peer, forwarded))
        })
}

fn session_cookie(state: &Data, value: String) -> Cookie<'static> {
    Cookie::build(session::COOKIE, value)
        .path("/manage")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::seconds(
            session::LIFETIME.as_secs() as i64,
        ))
        .finish()
}

fn expired_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path("/manage").finish();
    c.make_removal();
    c
}

// ---------------------------------------------------------------------------------------
// Public home

/// The notice after `done`; `told` is whether the node tells directories of its changes
/// (configured, or asked from the Status page), which then show them within seconds.
fn notice(done: Option<&str>, told: bool) -> Option<String> {
    Some(
        match (done?, told) {
            ("published", false) => {
                "Published. Directories that follow this node show it at their next crawl."
            }
            ("published", true) => {
                "Published. The directories this node tells of its changes show it within \
                 seconds once they list the node; Status shows what each one lists."
            }
            ("updated", _) => "Saved and published.",
            ("deleted", false) => "The group is withdrawn. Directories drop it at their next crawl.",
            ("deleted", true) => {
                "The group is withdrawn. The directories this node tells of its changes drop \
                 it within seconds; Status shows what each one lists."
            }
            ("confirmed", _) => "Capacity confirmed as still accurate.",
            ("full", _) => "Marked as full: directories show it as not accepting referrals.",
            ("open", _) => "Marked as open for referrals.",
            ("attestation", _) => "The attestation is imported and published with your groups.",
            ("passphrase", _) => "Your passphrase is set. Use it to sign in from now on.",
            ("first", _) => "You are signed in. Set a passphrase now, so you can sign in again later.",
            ("signed-out", _) => "You are signed out.",
            ("enrolled", _) => "The directory has your request; its operator approves or declines it. Under Directories, below, you can see when it lists you.",
            _ => return None,
        }
        .to_owned(),
    )
}

type Query = web::Query<Vec<(String, String)>>;

fn done(state: &AppState, query: &Query) -> Option<String> {
    notice(
        query
            .iter()
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v.as_str()),
        !state.push.is_empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::notice;

    #[test]
    fn a_change_is_said_to_reach_directories_as_soon_as_it_does() {
        // A node that tells no directory of its changes waits for their crawls...
        let quiet = |done| notice(Some(done), false).unwrap_or_default();
        assert!(quiet("published").ends_with("show it at their next crawl."));
        assert!(quiet("deleted").ends_with("drop it at their next crawl."));
        // ...one that does sends its change within seconds, and says where to see it.
        let told = |done| notice(Some(done), true).unwrap_or_default();
        for done in ["published", "deleted"] {
            assert!(told(done).contains("within seconds"), "{}", told(done));
            assert!(told(done).ends_with("Status shows what each one lists."));
            assert!(!told(done).contains("  "), "one space between words");
        }
        // The rest do not depend on it; an unknown one is no notice.
        assert_eq!(quiet("updated"), told("updated"));
        assert_eq!(notice(Some("elsewhere"), true), None);
        assert_eq!(notice(None, true), None);
    }
}

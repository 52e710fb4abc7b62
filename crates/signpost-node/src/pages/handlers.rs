//! The pages. Each handler: check the session (and, for a POST, the CSRF token and the
//! request's origin), do one thing through the publisher, then redirect (POST/redirect/GET)
//! or show the form again with every problem in an error summary.
//!
//! A check that fails answers with the page to show instead (`Result<_, HttpResponse>`):
//! the response is the error path here, not an error value to report.
#![allow(clippy::result_large_err)]

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
use crate::routes::AppState;

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

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, NodeError> {
    web::block(f)
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
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

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    f: Frame,
    groups: usize,
    id: String,
}

/// `/`: what this node is, for anyone who finds it.
pub async fn home(state: Data) -> HttpResponse {
    html(&HomePage {
        f: frame(&state, "Signpost node", None, ""),
        groups: state.publisher.listings().len(),
        id: state.publisher.node_id().to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// Sign in and out

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    f: Frame,
    form_token: String,
    errors: Errors,
    has_passphrase: bool,
}

fn sign_in_form(state: &Data, errors: Vec<FieldProblem>, status: StatusCode) -> HttpResponse {
    let token = session::random_token();
    let mut resp = render(
        &SignInPage {
            f: frame(state, "Sign in", None, "sign-in"),
            form_token: token.clone(),
            errors: Errors(errors),
            has_passphrase: state.auth.has_passphrase(),
        },
        status,
    );
    let cookie = Cookie::build(session::SIGN_IN_COOKIE, token)
        .path("/manage")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::hours(1))
        .finish();
    let _ = resp.add_cookie(&cookie);
    resp
}

pub async fn sign_in_page(state: Data, req: HttpRequest) -> HttpResponse {
    if signed_in(&state, &req).is_ok() {
        return redirect("/manage");
    }
    sign_in_form(&state, Vec::new(), StatusCode::OK)
}

/// The sign-in form's own anti-forgery check (there is no session yet).
fn sign_in_form_ok(req: &HttpRequest, pairs: &[(String, String)]) -> bool {
    same_origin(req)
        && cookie_value(req, session::SIGN_IN_COOKIE)
            .is_some_and(|c| session::same_token(&c, field(pairs, "form_token")))
}

fn throttled_message(wait: std::time::Duration) -> FieldProblem {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    FieldProblem {
        field: "secret".into(),
        code: "throttled".into(),
        message: format!(
            "Too many wrong tries from here. Wait {minutes} minute{} and try again.",
            if minutes == 1 { "" } else { "s" }
        ),
    }
}

fn start_session(state: &Data, to: &str) -> HttpResponse {
    let (cookie, _) = state.auth.start();
    let mut resp = redirect(to);
    let _ = resp.add_cookie(&session_cookie(state, cookie));
    let _ = resp.add_removal_cookie(&expired_cookie(session::SIGN_IN_COOKIE));
    resp
}

pub async fn sign_in(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    if !sign_in_form_ok(&req, &form) {
        return forbidden(&state);
    }
    let secret = field(&form, "secret").to_owned();
    if secret.trim().is_empty() {
        return sign_in_form(
            &state,
            vec![FieldProblem {
                field: "secret".into(),
                code: "required".into(),
                message: "Enter your passphrase or the admin token".into(),
            }],
            StatusCode::BAD_REQUEST,
        );
    }
    let token = *state.admin_token();
    let st = state.clone();
    let ip = client(&req);
    let result = web::block(move || st.auth.sign_in(ip, &secret, &token)).await;
    match result {
        Ok(Ok(())) => {
            tracing::info!("signed in to the node's pages");
            start_session(&state, "/manage")
        }
        Ok(Err(SignInError::Throttled(wait))) => sign_in_form(
            &state,
            vec![throttled_message(wait)],
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(Err(SignInError::Wrong)) => {
            tracing::warn!("a sign-in to the node's pages failed");
            sign_in_form(
                &state,
                vec![FieldProblem {
                    field: "secret".into(),
                    code: "wrong".into(),
                    message: "That passphrase or token is not right. Check it and try again."
                        .into(),
                }],
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(_) => failure(&state, None, &NodeError::Internal("sign-in".into())),
    }
}

#[derive(Template)]
#[template(path = "one_time.html")]
struct OneTimePage {
    f: Frame,
    form_token: String,
    token: String,
}

/// The printed link opens a page with a button: a link preview or scanner that fetches the
/// URL does not use it up.
pub async fn one_time_page(state: Data, path: web::Path<String>) -> HttpResponse {
    let form_token = session::random_token();
    let mut resp = html(&OneTimePage {
        f: frame(&state, "Sign in", None, "sign-in"),
        form_token: form_token.clone(),
        token: path.into_inner(),
    });
    let cookie = Cookie::build(session::SIGN_IN_COOKIE, form_token)
        .path("/manage")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .finish();
    let _ = resp.add_cookie(&cookie);
    resp
}

pub async fn one_time(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    if !sign_in_form_ok(&req, &form) {
        return forbidden(&state);
    }
    match state.auth.use_one_time(client(&req), field(&form, "token")) {
        Ok(()) => {
            tracing::info!("signed in with the one-time link");
            let next = if state.auth.has_passphrase() {
                "/manage"
            } else {
                "/manage/status?done=first#passphrase"
            };
            start_session(&state, next)
        }
        Err(SignInError::Throttled(wait)) => sign_in_form(
            &state,
            vec![throttled_message(wait)],
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(SignInError::Wrong) => sign_in_form(
            &state,
            vec![FieldProblem {
                field: "secret".into(),
                code: "link_used".into(),
                message: "That sign-in link has been used or has expired. Sign in with your \
                          passphrase or the admin token, or make a new link with \
                          `signpost node sign-in-link`."
                    .into(),
            }],
            StatusCode::UNAUTHORIZED,
        ),
    }
}

pub async fn sign_out(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    if let Err(resp) = checked_post(&state, &req, &form) {
        return resp;
    }
    if let Some(c) = cookie_value(&req, session::COOKIE) {
        state.auth.end(&c);
    }
    let mut resp = redirect("/manage/sign-in?done=signed-out");
    let _ = resp.add_removal_cookie(&expired_cookie(session::COOKIE));
    resp
}

// ---------------------------------------------------------------------------------------
// Overview and capacity

/// One group on the overview.
struct GroupRow {
    id: Uuid,
    name: String,
    status: &'static str,
    status_text: String,
    confirmed: String,
    stale: bool,
    places: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    f: Frame,
    groups: Vec<GroupRow>,
    max_age_days: u32,
}

/// "today", "yesterday", "3 days ago".
fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (now - then).num_days();
    match days {
        i64::MIN..=0 => {
            let hours = (now - then).num_hours().max(0);
            if hours < 1 {
                "just now".into()
            } else {
                format!("{hours} hour{} ago", if hours == 1 { "" } else { "s" })
            }
        }
        1 => "yesterday".into(),
        n => format!("{n} days ago"),
    }
}

fn notice(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "published" => {
                "Published. Directories that follow this node show it at their next crawl."
            }
            "updated" => "Saved and published.",
            "deleted" => "The group is withdrawn. Directories drop it at their next crawl.",
            "confirmed" => "Capacity confirmed as still accurate.",
            "full" => "Marked as full: directories show it as not accepting referrals.",
            "open" => "Marked as open for referrals.",
            "attestation" => "The attestation is imported and published with your groups.",
            "passphrase" => "Your passphrase is set. Use it to sign in from now on.",
            "first" => "You are signed in. Set a passphrase now, so you can sign in again later.",
            "signed-out" => "You are signed out.",
            "enrolled" => "The directory has your request. Its operator will approve it.",
            _ => return None,
        }
        .to_owned(),
    )
}

type Query = web::Query<Vec<(String, String)>>;

fn done(query: &Query) -> Option<String> {
    notice(
        query
            .iter()
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v.as_str()),
    )
}

pub async fn overview(state: Data, req: HttpRequest, query: Query) -> HttpResponse {
    let session = match signed_in(&state, &req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = Utc::now();
    let max_age = chrono::Duration::days(i64::from(state.capacity_max_age_days));
    let mut listings = state.publisher.listings();
    listings.sort_by(|a, b| {
        a.group
            .name
            .to_lowercase()
            .cmp(&b.group.name.to_lowercase())
    });
    let groups = listings
        .iter()
        .map(|l| {
            let c = &l.group.capacity;
            let stale = now - c.updated_at > max_age;
            let (status, status_text) = if stale {
                (
                    "unknown",
                    "Unknown to directories: not confirmed recently".to_owned(),
                )
            } else if c.accepting_referrals {
                (
                    "accepting",
                    match c.places_available {
                        Some(n) => format!(
                            "Accepting referrals, {n} place{}",
                            if n == 1 { "" } else { "s" }
                        ),
                        None => "Accepting referrals".to_owned(),
                    },
                )
            } else {
                ("not_accepting", "Full: not accepting referrals".to_owned())
            };
            GroupRow {
                id: l.id,
                name: l.group.name.clone(),
                status,
                status_text,
                confirmed: ago(c.updated_at, now),
                stale,
                places: c
                    .places_available
                    .filter(|_| c.accepting_referrals)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut f = frame(&state, "Your groups", Some(&session), "groups");
    f.notice = done(&query);
    html(&OverviewPage {
        f,
        groups,
        max_age_days: state.capacity_max_age_days,
    })
}

/// "Still accurate", "Full", "Open, N places".
pub async fn capacity(
    state: Data,
    req: HttpRequest,
    path: web::Path<Uuid>,
    form: Pairs,
) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = path.into_inner();
    let (patch, done) = match field(&form, "action") {
        "confirm" => (CapacityPatch::default(), "confirmed"),
        "full" => (
            CapacityPatch {
                accepting_referrals: Some(false),
                places_available: Some(None),
                ..CapacityPatch::default()
            },
            "full",
        ),
        "open" => {
            let places = field(&form, "places").trim();
            let places = if places.is_empty() {
                None
            } else {
                match places.parse::<u32>() {
                    Ok(n) if n > 0 && n <= 100_000 => Some(n),
                    _ => {
                        return render(
                            &MessagePage {
                                f: frame(
                                    &state,
                                    "Places must be a number",
                                    Some(&session),
                                    "groups",
                                ),
                                heading: "Places must be a number".into(),
                                body: "Enter how many places are free as a whole number from 1, \
                                       like 5, or leave it empty. Nothing was changed."
                                    .into(),
                                link: Some(("/manage".into(), "Back to your groups".into())),
                            },
                            StatusCode::BAD_REQUEST,
                        )
                    }
                }
            };
            (
                CapacityPatch {
                    accepting_referrals: Some(true),
                    places_available: Some(places),
                    ..CapacityPatch::default()
                },
                "open",
            )
        }
        _ => return forbidden(&state),
    };
    let publisher = Arc::clone(&state.publisher);
    match blocking(move || publisher.patch_capacity(id, &patch)).await {
        Ok(_) => {
            state.changed.notify_one();
            redirect(&format!("/manage?done={done}"))
        }
        Err(e) => failure(&state, Some(&session), &e),
    }
}

// ---------------------------------------------------------------------------------------
// The group form

/// A checkbox in a list.
struct Choice {
    value: String,
    label: String,
    hint: String,
    checked: bool,
    /// `lang` attribute for a label in its own script.
    own: String,
}

#[derive(Template)]
#[template(path = "group_form.html")]
struct GroupFormPage {
    f: Frame,
    heading: String,
    action: String,
    form: GroupForm,
    errors: Errors,
    categories: Vec<Choice>,
    languages: Vec<Choice>,
    staff_checks: Vec<Choice>,
    capabilities: Vec<Choice>,
    access: &'static [Question],
    more: &'static [Question],
    days: Vec<(&'static str, &'static str)>,
    preview: Option<Preview>,
    attribution: &'static [&'static str],
    is_new: bool,
}

/// How the directory will show the group, in words.
struct Preview {
    name: String,
    description: String,
    place: String,
    sessions: Vec<String>,
    languages: String,
    facts: Vec<String>,
    capacity: String,
}

fn choices(vocab: &[Term], picked: &[String]) -> Vec<Choice> {
    vocab
        .iter()
        .map(|t| Choice {
            value: t.id.to_owned(),
            label: t.label.to_owned(),
            hint: t.description.to_owned(),
            checked: picked.iter().any(|p| p == t.id),
            own: String::new(),
        })
        .collect()
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

fn preview_of(g: &Group, place: Option<String>) -> Preview {
    let yes = |b: bool, text: &str| b.then(|| text.to_owned());
    let a = &g.access;
    let facts = [
        Some(if a.cost.free {
            "Free".to_owned()
        } else {
            match a.cost.amount_pence {
                Some(p) => format!("£{}.{:02} a session", p / 100, p % 100),
                None => a
                    .cost
                    .details
                    .clone()
                    .unwrap_or_else(|| "There is a cost".into()),
            }
        }),
        yes(a.self_referral, "People can refer themselves"),
        yes(!a.gp_registration_required, "No GP registration needed"),
        yes(
            !a.immigration_status_asked,
            "Immigration status is not asked",
        ),
        yes(
            a.no_data_shared_with_authorities,
            "No details shared with the immigration authorities",
        ),
        yes(a.childcare, "Childcare available"),
        yes(a.travel_paid, "Travel costs paid"),
        yes(a.step_free, "Step-free venue"),
        match a.interpreting {
            signpost_protocol::model::Interpreting::Professional => {
                Some("Professional interpreters".to_owned())
            }
            signpost_protocol::model::Interpreting::Volunteer => {
                Some("Volunteer interpreters".to_owned())
            }
            signpost_protocol::model::Interpreting::None => None,
        },
    ]
    .into_iter()
    .flatten()
    .collect();
    Preview {
        name: g.name.clone(),
        description: g.description.clone(),
        place: match (&g.location, place) {
            (Some(loc), Some(words)) => format!(
                "{} — {words}",
                loc.postcode
                    .clone()
                    .unwrap_or_else(|| format!("{:.4}, {:.4}", loc.lat, loc.lon))
            ),
            (Some(loc), None) => format!("{:.4}, {:.4}", loc.lat, loc.lon),
            (None, _) => "Online".into(),
        },
        sessions: g
            .schedule
            .iter()
            .map(|s| {
                let day = DAYS
                    .iter()
                    .find(|(k, _)| *k == s.day.as_str())
                    .map_or("", |(_, v)| v);
                format!("{day}, {} to {}", s.opens, s.closes)
            })
            .collect(),
        languages: g
            .languages
            .iter()
            .map(|t| languages::describe(t))
            .collect::<Vec<_>>()
            .join(", "),
        facts,
        capacity: if g.capacity.accepting_referrals {
            match g.capacity.places_available {
                Some(n) => format!("Accepting referrals, {n} places"),
                None => "Accepting referrals".into(),
            }
        } else {
            "Full: not accepting referrals".into()
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &Data,
    session: &Session,
    form: GroupForm,
    errors: Vec<FieldProblem>,
    action: String,
    is_new: bool,
    preview: Option<Preview>,
) -> HttpResponse {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let heading = if is_new {
        "Add a group".to_owned()
    } else {
        format!("Change {}", form.name)
    };
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Error: {heading}")
    };
    let languages = LANGUAGES
        .iter()
        .map(|l| Choice {
            value: l.tag.to_owned(),
            label: l.english.to_owned(),
            hint: String::new(),
            checked: form.languages.iter().any(|t| t == l.tag),
            own: if l.own == l.english {
                String::new()
            } else {
                l.own.to_owned()
            },
        })
        .collect();
    render(
        &GroupFormPage {
            f: frame(
                state,
                title,
                Some(session),
                if is_new { "new" } else { "groups" },
            ),
            heading,
            action,
            categories: choices(taxonomy::CATEGORIES, &form.categories),
            staff_checks: choices(taxonomy::STAFF_CHECKS, &form.staff_checks),
            capabilities: choices(taxonomy::SAFEGUARDING_CAPABILITIES, &form.capabilities),
            languages,
            form,
            errors: Errors(errors),
            access: ACCESS,
            more: MORE,
            days: DAYS.to_vec(),
            preview,
            attribution: &signpost_postcodes::ATTRIBUTION,
            is_new,
        },
        status,
    )
}

pub async fn new_group_page(state: Data, req: HttpRequest) -> HttpResponse {
    match signed_in(&state, &req) {
        Ok(s) => form_page(
            &state,
            &s,
            GroupForm::blank(),
            Vec::new(),
            "/manage/groups/new".into(),
            true,
            None,
        ),
        Err(r) => r,
    }
}

pub async fn edit_group_page(state: Data, req: HttpRequest, path: web::Path<Uuid>) -> HttpResponse {
    let session = match signed_in(&state, &req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = path.into_inner();
    match state.publisher.listing(id) {
        Ok(l) => form_page(
            &state,
            &session,
            GroupForm::from_group(&l.group),
            Vec::new(),
            format!("/manage/groups/{id}"),
            false,
            None,
        ),
        Err(e) => failure(&state, Some(&session), &e),
    }
}

/// Preview, add a session row, or publish.
async fn submit_group(
    state: Data,
    req: HttpRequest,
    form: Pairs,
    id: Option<Uuid>,
) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let action_url = id.map_or_else(
        || "/manage/groups/new".to_owned(),
        |id| format!("/manage/groups/{id}"),
    );
    let mut typed = GroupForm::from_pairs(&form);
    let step = field(&form, "step");
    if step == "add-session" {
        typed.add_session();
        return form_page(
            &state,
            &session,
            typed,
            Vec::new(),
            action_url,
            id.is_none(),
            None,
        );
    }
    let (group, place) = match typed.to_group() {
        Ok(ok) => ok,
        Err(errors) => {
            return form_page(
                &state,
                &session,
                typed,
                errors,
                action_url,
                id.is_none(),
                None,
            )
        }
    };
    if step == "preview" {
        let preview = preview_of(&group, place);
        return form_page(
            &state,
            &session,
            typed,
            Vec::new(),
            action_url,
            id.is_none(),
            Some(preview),
        );
    }
    let publisher = Arc::clone(&state.publisher);
    let result = match id {
        None => blocking(move || publisher.create(group)).await,
        Some(id) => blocking(move || publisher.replace(id, group)).await,
    };
    match result {
        Ok(_) => {
            state.changed.notify_one();
            redirect(if id.is_none() {
                "/manage?done=published"
            } else {
                "/manage?done=updated"
            })
        }
        Err(NodeError::Invalid(problems)) => {
            let errors = problems
                .into_iter()
                .map(|p| FieldProblem {
                    field: super::form::form_field(&p.field, &[]),
                    ..p
                })
                .collect();
            form_page(
                &state,
                &session,
                typed,
                errors,
                action_url,
                id.is_none(),
                None,
            )
        }
        Err(e) => failure(&state, Some(&session), &e),
    }
}

pub async fn new_group(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    submit_group(state, req, form, None).await
}

pub async fn edit_group(
    state: Data,
    req: HttpRequest,
    path: web::Path<Uuid>,
    form: Pairs,
) -> HttpResponse {
    submit_group(state, req, form, Some(path.into_inner())).await
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    f: Frame,
    id: Uuid,
    name: String,
}

pub async fn delete_page(state: Data, req: HttpRequest, path: web::Path<Uuid>) -> HttpResponse {
    let session = match signed_in(&state, &req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = path.into_inner();
    match state.publisher.listing(id) {
        Ok(l) => html(&DeletePage {
            f: frame(
                &state,
                format!("Withdraw {}", l.group.name),
                Some(&session),
                "groups",
            ),
            id,
            name: l.group.name.clone(),
        }),
        Err(e) => failure(&state, Some(&session), &e),
    }
}

pub async fn delete(
    state: Data,
    req: HttpRequest,
    path: web::Path<Uuid>,
    form: Pairs,
) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = path.into_inner();
    let publisher = Arc::clone(&state.publisher);
    match blocking(move || publisher.delete(id)).await {
        Ok(()) => {
            state.changed.notify_one();
            redirect("/manage?done=deleted")
        }
        Err(e) => failure(&state, Some(&session), &e),
    }
}

// ---------------------------------------------------------------------------------------
// Attestations

struct AttestationRow {
    issuer: String,
    achievement: String,
    level: String,
    valid: String,
    status: &'static str,
    status_text: &'static str,
}

#[derive(Template)]
#[template(path = "attestations.html")]
struct AttestationsPage {
    f: Frame,
    rows: Vec<AttestationRow>,
    errors: Errors,
    pasted: String,
}

fn attestations_view(
    state: &Data,
    session: &Session,
    errors: Vec<FieldProblem>,
    pasted: String,
    notice: Option<String>,
) -> HttpResponse {
    let now = Utc::now();
    let rows = state
        .publisher
        .attestations()
        .into_iter()
        .map(|a| {
            let current = a.valid_from <= now && now < a.valid_until;
            AttestationRow {
                issuer: a.issuer.to_string(),
                achievement: taxonomy::ACHIEVEMENTS
                    .iter()
                    .find(|t| t.id == a.achievement)
                    .map_or_else(|| a.achievement.clone(), |t| t.label.to_owned()),
                level: a.level.clone().unwrap_or_default(),
                valid: format!(
                    "{} to {}",
                    a.valid_from.format("%-d %B %Y"),
                    a.valid_until.format("%-d %B %Y")
                ),
                status: if current { "verified" } else { "expired" },
                status_text: if current {
                    "Signature verified; current"
                } else {
                    "Signature verified; not current"
                },
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut f = frame(
        state,
        if errors.is_empty() {
            "Training and attestations"
        } else {
            "Error: Training and attestations"
        },
        Some(session),
        "attestations",
    );
    f.notice = notice;
    render(
        &AttestationsPage {
            f,
            rows,
            errors: Errors(errors),
            pasted,
        },
        status,
    )
}

pub async fn attestations_page(state: Data, req: HttpRequest, query: Query) -> HttpResponse {
    match signed_in(&state, &req) {
        Ok(s) => attestations_view(&state, &s, Vec::new(), String::new(), done(&query)),
        Err(r) => r,
    }
}

const ATTESTATION_MAX: usize = 64 * 1024;

/// The form's fields, from a urlencoded body or a multipart one (a file upload).
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, String> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
        let mut fields = Vec::new();
        let mut total = 0usize;
        while let Some(item) = multipart.next().await {
            let mut part = item.map_err(|_| "the upload could not be read".to_owned())?;
            let name = part
                .content_disposition()
                .and_then(|d| d.get_name())
                .unwrap_or("")
                .to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(|_| "the upload could not be read".to_owned())?;
                total += chunk.len();
                if total > ATTESTATION_MAX {
                    return Err("The file is larger than 64 KB; an attestation file is much smaller. Check you chose the right file.".into());
                }
                bytes.extend_from_slice(&chunk);
            }
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        Ok(fields)
    } else {
        let mut body = web::BytesMut::new();
        let mut payload = payload;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| "the form could not be read".to_owned())?;
            if body.len() + chunk.len() > ATTESTATION_MAX * 2 {
                return Err(
                    "The pasted text is larger than 64 KB; an attestation is much smaller.".into(),
                );
            }
            body.extend_from_slice(&chunk);
        }
        serde_urlencoded::from_bytes(&body).map_err(|_| "the form could not be read".to_owned())
    }
}

pub async fn import_attestation(
    state: Data,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let pairs = match read_form(&req, payload).await {
        Ok(p) => p,
        Err(message) => {
            return match signed_in(&state, &req) {
                Ok(s) => attestations_view(
                    &state,
                    &s,
                    vec![FieldProblem {
                        field: "file".into(),
                        code: "too_large".into(),
                        message,
                    }],
                    String::new(),
                    None,
                ),
                Err(r) => r,
            }
        }
    };
    let session = match checked_post(&state, &req, &pairs) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let file = field(&pairs, "file").trim().to_owned();
    let pasted = field(&pairs, "envelope").trim().to_owned();
    let (text, source) = if !file.is_empty() {
        (file, "file")
    } else {
        (pasted.clone(), "envelope")
    };
    let problem = |code: &str, message: &str| {
        vec![FieldProblem {
            field: source.into(),
            code: code.into(),
            message: message.into(),
        }]
    };
    if text.is_empty() {
        return attestations_view(
            &state,
            &session,
            problem(
                "required",
                "Choose the attestation file your training provider sent, or paste its text",
            ),
            pasted,
            None,
        );
    }
    let envelope: Envelope = match serde_json::from_str(&text) {
        Ok(e) => e,
        Err(_) => {
            return attestations_view(&state, &session, problem("not_an_attestation", "That is not an attestation file: it should be the JSON file your training provider sent, starting with {\"payloadType\""), pasted, None)
        }
    };
    let publisher = Arc::clone(&state.publisher);
    match blocking(move || publisher.import_attestation(envelope)).await {
        Ok(_) => {
            state.changed.notify_one();
            redirect("/manage/attestations?done=attestation")
        }
        Err(NodeError::AttestationInvalid(_)) => attestations_view(&state, &session, problem("attestation_invalid", "The attestation's signature does not verify: it has been changed since its issuer signed it, or it is not an attestation. Ask the training provider for the file again."), pasted, None),
        Err(NodeError::AttestationWrongSubject { .. }) => attestations_view(&state, &session, problem("attestation_wrong_subject", "This attestation is about another organisation, not this node. Ask the training provider for the one about you (give them this node's id from the Status page)."), pasted, None),
        Err(e) => failure(&state, Some(&session), &e),
    }
}

// ---------------------------------------------------------------------------------------
// Status, passphrase, token, enrolment

struct PushRow {
    url: String,
    last: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    f: Frame,
    id: String,
    base_url: String,
    card: String,
    version: u64,
    document_expires: String,
    signing_keys: Vec<String>,
    seq: u64,
    pushes: Vec<PushRow>,
    has_passphrase: bool,
    errors: Errors,
    new_token: Option<String>,
    directory: String,
    last_backup: String,
    backup_due: bool,
    certificate: Option<String>,
    certificate_problem: Option<String>,
}

fn enrolment_text(state: &Data) -> String {
    let doc = state.publisher.node_document().ok();
    let (name, base) = doc
        .as_ref()
        .map(|d| (d.name.clone(), d.base_url.clone()))
        .unwrap_or_default();
    format!(
        "Signpost node enrolment\n\
         Organisation: {name}\n\
         Node id: {}\n\
         Address: {base}\n\
         Node document: {base}/.well-known/signpost/node\n\
         \n\
         Once this node has asked the directory to list it, the operator approves with:\n\
         signpost aggregator enrolments approve {} --config aggregator.toml\n",
        state.publisher.node_id(),
        state.publisher.node_id()
    )
}

fn status_view(
    state: &Data,
    session: &Session,
    errors: Vec<FieldProblem>,
    new_token: Option<String>,
    directory: String,
    notice: Option<String>,
) -> HttpResponse {
    let doc = state.publisher.node_document().ok();
    let published = state.publisher.published();
    let pushes = state
        .push
        .snapshot()
        .into_iter()
        .map(|(url, last)| PushRow {
            url,
            last: last.map_or_else(
                || "Nothing pushed since the node started".to_owned(),
                |(at, result)| format!("{result} ({})", ago(at, Utc::now())),
            ),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut f = frame(
        state,
        if errors.is_empty() {
            "Node status"
        } else {
            "Error: Node status"
        },
        Some(session),
        "status",
    );
    f.notice = notice;
    render(
        &StatusPage {
            f,
            id: state.publisher.node_id().to_string(),
            base_url: doc.as_ref().map(|d| d.base_url.clone()).unwrap_or_default(),
            card: enrolment_text(state),
            version: doc.as_ref().map_or(0, |d| d.version),
            document_expires: doc
                .as_ref()
                .map(|d| d.expires.format("%-d %B %Y").to_string())
                .unwrap_or_default(),
            signing_keys: doc
                .map(|d| d.signing_keys.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            seq: published.seq,
            pushes,
            has_passphrase: state.auth.has_passphrase(),
            errors: Errors(errors),
            new_token,
            directory,
            last_backup: crate::backup::last_backup(&state.dir)
                .map_or_else(|| "never".to_owned(), |t| ago(t, Utc::now())),
            backup_due: crate::backup::last_backup(&state.dir).is_none_or(|t| {
                Utc::now() - t > chrono::Duration::days(crate::backup::REMIND_AFTER_DAYS)
            }),
            certificate: state.acme.as_ref().map(|a| {
                let s = a.snapshot();
                match s.deployed_at {
                    Some(t) => format!("For {}, obtained automatically; in use since {}", s.domain, ago(t, Utc::now())),
                    None => format!("For {}: not obtained yet (the node asks the certificate authority when it starts, and keeps trying)", s.domain),
                }
            }),
            certificate_problem: state.acme.as_ref().and_then(|a| {
                a.snapshot().last_error.map(|(t, e)| {
                    format!("The last attempt to get or renew it failed {}: {e}. The current certificate stays in use; the node tries again.", ago(t, Utc::now()))
                })
            }),
        },
        status,
    )
}

/// Downloads an encrypted backup made now.
pub async fn download_backup(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let passphrase = field(&form, "backup_passphrase").to_owned();
    let again = field(&form, "backup_passphrase_again");
    let problem = |field: &str, code: &str, message: &str| {
        vec![FieldProblem {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }]
    };
    if passphrase.chars().count() < 12 {
        return status_view(
            &state,
            &session,
            problem(
                "backup_passphrase",
                "too_short",
                "The backup passphrase must be at least 12 characters; you need it to restore",
            ),
            None,
            String::new(),
            None,
        );
    }
    if passphrase != again {
        return status_view(
            &state,
            &session,
            problem(
                "backup_passphrase_again",
                "mismatch",
                "The two backup passphrases are different; type the same one twice",
            ),
            None,
            String::new(),
            None,
        );
    }
    let publisher = Arc::clone(&state.publisher);
    let dir = state.dir.clone();
    match web::block(move || crate::backup::create(&dir, &publisher, &passphrase)).await {
        Ok(Ok(bytes)) => HttpResponse::Ok()
            .content_type("application/octet-stream")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"signpost-backup-{}.age\"",
                    Utc::now().format("%Y-%m-%d")
                ),
            ))
            .body(bytes),
        _ => failure(
            &state,
            Some(&session),
            &NodeError::Internal("backup".into()),
        ),
    }
}

pub async fn status_page(state: Data, req: HttpRequest, query: Query) -> HttpResponse {
    match signed_in(&state, &req) {
        Ok(s) => status_view(&state, &s, Vec::new(), None, String::new(), done(&query)),
        Err(r) => r,
    }
}

pub async fn enrolment_card(state: Data, req: HttpRequest) -> HttpResponse {
    if let Err(r) = signed_in(&state, &req) {
        return r;
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"signpost-enrolment.txt\"",
        ))
        .body(enrolment_text(&state))
}

pub async fn set_passphrase(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let new = field(&form, "passphrase").to_owned();
    let again = field(&form, "passphrase_again");
    let mut errors = Vec::new();
    if let Some(problem) = session::passphrase_problem(&new) {
        errors.push(FieldProblem {
            field: "passphrase-new".into(),
            code: "too_short".into(),
            message: problem,
        });
    } else if new != again {
        errors.push(FieldProblem {
            field: "passphrase_again".into(),
            code: "mismatch".into(),
            message: "The two passphrases are different; type the same one twice".into(),
        });
    }
    if !errors.is_empty() {
        return status_view(&state, &session, errors, None, String::new(), None);
    }
    let st = state.clone();
    match web::block(move || st.auth.set_passphrase(&new)).await {
        Ok(Ok(())) => {
            if let Some(c) = cookie_value(&req, session::COOKIE) {
                state.auth.end_all_but(&c);
            }
            redirect("/manage/status?done=passphrase")
        }
        _ => failure(
            &state,
            Some(&session),
            &NodeError::Internal("passphrase".into()),
        ),
    }
}

pub async fn rotate_token(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let dir = state.dir.clone();
    match web::block(move || crate::rotate_admin_token_now(&dir)).await {
        Ok(Ok((token, hash))) => {
            state.set_admin_token(hash);
            if let Some(c) = cookie_value(&req, session::COOKIE) {
                state.auth.end_all_but(&c);
            }
            status_view(
                &state,
                &session,
                Vec::new(),
                Some(token),
                String::new(),
                Some("A new admin token is in use; the old one no longer works.".into()),
            )
        }
        _ => failure(
            &state,
            Some(&session),
            &NodeError::Internal("token rotation".into()),
        ),
    }
}

/// Asks a directory to list this node: posts the enrolment to its `/v1/enrolments`.
pub async fn enrol(state: Data, req: HttpRequest, form: Pairs) -> HttpResponse {
    let session = match checked_post(&state, &req, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let directory = field(&form, "directory")
        .trim()
        .trim_end_matches('/')
        .to_owned();
    let contact = field(&form, "contact").trim().to_owned();
    let problem = |message: String| {
        vec![FieldProblem {
            field: "directory".into(),
            code: "enrolment_failed".into(),
            message,
        }]
    };
    if !(directory.starts_with("https://") || directory.starts_with("http://"))
        || directory.contains(char::is_whitespace)
    {
        return status_view(
            &state,
            &session,
            problem("Enter the directory's address, starting https://".into()),
            None,
            directory,
            None,
        );
    }
    let doc = match state.publisher.node_document() {
        Ok(d) => d,
        Err(e) => return failure(&state, Some(&session), &e),
    };
    let request = signpost_protocol::wire::EnrolmentRequest {
        id: doc.id,
        url: doc.base_url.clone(),
        name: doc.name.clone(),
        contact: (!contact.is_empty()).then_some(contact),
    };
    let fetcher =
        match signpost_client::Fetcher::new(std::time::Duration::from_secs(10), 64 * 1024, 1) {
            Ok(f) => f,
            Err(e) => return failure(&state, Some(&session), &NodeError::Internal(e)),
        };
    let client = signpost_client::DirectoryClient::new(fetcher, &directory);
    match client.enrol(&request).await {
        Ok(_) => redirect("/manage/status?done=enrolled"),
        Err(e) => status_view(
            &state,
            &session,
            problem(format!("The directory did not accept the request: {e}")),
            None,
            directory,
            None,
        ),
    }
}

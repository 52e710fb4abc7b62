//! Anyone's requests to a node's management pages and admin API: signing in (the admin
//! token, a passphrase, the one-time link), sessions, the CSRF and origin checks,
//! throttling, and every form a signed-in volunteer posts. Each input is a run of requests
//! to a node just made, answered in turn. Each request names its route and which of the
//! node's secrets it carries (the session cookie, its CSRF token, the sign-in form's own
//! token, the admin token as the form's secret or as a bearer token, the one-time link, a
//! cross-site origin); its body is the fuzzer's.
//!
//! Fails on a panic; on any 5xx; on an answer that shows the admin token or the one-time
//! link (but the page the link opens), or gives a backup to anyone but the owner; on a
//! session started by a request that carried neither
//! the right secret nor a passphrase set earlier by the owner, or that lacked the sign-in
//! form's token; and on any change to what the node publishes or keeps (its document,
//! snapshot and listings, the admin token, the passphrase, the one-time link) made by a
//! request that was not the owner's: a current session with its CSRF token from the node's
//! own origin, or the current admin token on the admin API.
use crate::{debug, encode_path, records, ManagedNode};
use actix_web::cookie::Cookie;
use actix_web::http::{header, Method};
use actix_web::test::TestRequest;
use signpost_node::pages::session;

/// The routes a request may take, by the first byte of its record.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/manage/sign-in"),
    ("POST", "/manage/sign-in"),
    ("GET", "/manage/sign-in/once/{token}"),
    ("POST", "/manage/sign-in/once"),
    ("POST", "/manage/sign-out"),
    ("GET", "/manage"),
    ("GET", "/manage/groups/new"),
    ("POST", "/manage/groups/new"),
    ("GET", "/manage/groups/{id}"),
    ("POST", "/manage/groups/{id}"),
    ("POST", "/manage/groups/{id}/capacity"),
    ("GET", "/manage/groups/{id}/delete"),
    ("POST", "/manage/groups/{id}/delete"),
    ("GET", "/manage/attestations"),
    ("POST", "/manage/attestations"),
    ("GET", "/manage/status"),
    ("POST", "/manage/status/passphrase"),
    ("POST", "/manage/status/token"),
    ("POST", "/manage/status/backup"),
    ("POST", "/manage/status/enrol"),
    ("GET", "/manage/status/enrolment.txt"),
    ("GET", "/admin/listings"),
    ("POST", "/admin/listings"),
    ("PUT", "/admin/listings/{id}"),
    ("DELETE", "/admin/listings/{id}"),
    ("PATCH", "/admin/listings/{id}/capacity"),
    ("POST", "/admin/attestations"),
    ("POST", "/admin/keys/rotate"),
    ("POST", "/admin/backup"),
];

/// What a request carries, by the bits of the second byte of its record.
const SESSION: u8 = 1;
const CSRF: u8 = 2;
const SIGN_IN_FORM: u8 = 4;
const SECRET: u8 = 8;
const CROSS_ORIGIN: u8 = 16;
const CROSS_SITE: u8 = 32;
const BEARER: u8 = 64;
const KNOWN_ID: u8 = 128;

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    let records = records(input, 12);
    if records.is_empty() {
        return;
    }
    let node = ManagedNode::new();
    let (mut cookie, mut csrf) = node.session.clone();
    // One request at a time, each built just before it is answered: what counts as the
    // owner's depends on what the requests before it did.
    for (route, flags, body) in records {
        let (method, template) = ROUTES[usize::from(route) % ROUTES.len()];
        let id = if flags & KNOWN_ID != 0 {
            node.group.to_string()
        } else {
            encode_path(&body[..body.len().min(40)])
        };
        let token = if flags & SECRET != 0 {
            node.one_time.clone()
        } else {
            encode_path(&body[..body.len().min(64)])
        };
        let path = template.replace("{id}", &id).replace("{token}", &token);
        let admin_api = path.starts_with("/admin");
        let mut req = TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET))
            .uri(&path);
        // The node's own values come first: a form's field is the first of its name.
        let mut fields: Vec<String> = Vec::new();
        if flags & SESSION != 0 {
            req = req.cookie(Cookie::new(session::COOKIE, cookie.clone()));
        }
        if flags & CSRF != 0 {
            fields.push(format!("csrf={}", encode_path(csrf.as_bytes())));
        }
        if flags & SIGN_IN_FORM != 0 {
            req = req.cookie(Cookie::new(session::SIGN_IN_COOKIE, "fuzz-form-token"));
            fields.push("form_token=fuzz-form-token".into());
        }
        if flags & SECRET != 0 {
            fields.push(format!(
                "secret={}",
                encode_path(node.admin_token.as_bytes())
            ));
            fields.push(format!("token={}", encode_path(node.one_time.as_bytes())));
        }
        if template.ends_with("/enrol") {
            // Nowhere: the enrolment fails at once instead of waiting on the network.
            fields.push("directory=http%3A%2F%2F127.0.0.1%3A9".into());
        }
        if flags & CROSS_ORIGIN != 0 {
            req = req.insert_header((header::ORIGIN, "https://elsewhere.example"));
        }
        if flags & CROSS_SITE != 0 {
            req = req.insert_header(("sec-fetch-site", "cross-site"));
        }
        if flags & BEARER != 0 {
            req = req.insert_header((
                header::AUTHORIZATION,
                format!("Bearer {}", node.admin_token),
            ));
        }
        let body = if admin_api {
            req = req.insert_header((header::CONTENT_TYPE, "application/json"));
            body
        } else if method == "GET" {
            Vec::new()
        } else {
            req = req.insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"));
            let mut form = fields.join("&").into_bytes();
            if !body.is_empty() {
                if !form.is_empty() {
                    form.push(b'&');
                }
                form.extend_from_slice(&body);
            }
            form
        };
        let same_origin = flags & (CROSS_ORIGIN | CROSS_SITE) == 0;
        // The node's owner sends it: a current session with its CSRF token from the node's
        // own origin, or the current admin token on the admin API.
        let owner = if admin_api {
            flags & BEARER != 0 && node.token_current()
        } else {
            let session_current = node.state.auth.session(&cookie).is_some();
            flags & SESSION != 0 && session_current && flags & CSRF != 0 && same_origin
        };
        // It may start a session: the sign-in form with its own token and the right secret
        // (or after the owner set a passphrase), or the one-time link.
        let passphrase_set = node.dir.join(session::PASSPHRASE_FILE).exists();
        let form_ok = flags & SIGN_IN_FORM != 0 && same_origin;
        let may_sign_in = match template {
            "/manage/sign-in" => {
                form_ok && ((flags & SECRET != 0 && node.token_current()) || passphrase_set)
            }
            "/manage/sign-in/once" => form_ok && flags & SECRET != 0,
            _ => false,
        };
        if template.ends_with("/backup") && owner {
            // The owner's backup is tested elsewhere; here it would spend about a second
            // of scrypt an input. Anyone else's asking for one is sent.
            continue;
        }
        let sent = format!("{method} {path} [{flags:08b}]");
        let kept_before = node.kept();
        let (status, headers, body) = node.answer(req.set_payload(body));
        // A page by its title, anything else by its start.
        let text = String::from_utf8_lossy(&body);
        let shown = match text.split_once("<title>") {
            Some((_, rest)) => rest.split("</title>").next().unwrap_or_default(),
            None => &text[..text.floor_char_boundary(200)],
        };
        if debug() {
            eprintln!("{sent}: {status} {shown}");
        }
        assert!(!status.is_server_error(), "{sent}: {status}: {shown}");
        let started = headers
            .get_all(header::SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| Cookie::parse(v.to_owned()).ok())
            .find(|c| c.name() == session::COOKIE && !c.value().is_empty())
            .map(|c| c.value().to_owned());
        assert!(
            started.is_none() || may_sign_in,
            "{sent} started a session: {status}"
        );
        // No answer shows the admin token, or the one-time link but to the page it opens;
        // a backup goes only to the owner (whose asking is not sent, above).
        assert!(
            !text.contains(node.admin_token.as_str()),
            "{sent} showed the admin token"
        );
        assert!(
            template == "/manage/sign-in/once/{token}" || !text.contains(node.one_time.as_str()),
            "{sent} showed the one-time link"
        );
        assert!(
            !text.starts_with("age-encryption.org"),
            "{sent} gave a backup to someone not the owner"
        );
        // Later requests carry the session just started, as a browser would.
        if let Some(started) = started {
            if let Some(session) = node.state.auth.session(&started) {
                (cookie, csrf) = (started, session.csrf);
            }
        }
        let kept_after = node.kept();
        if kept_after != kept_before {
            // Using the one-time link removes it (the last of what is kept): that is the
            // sign-in, not a change.
            let all_but_link = |kept: &[Vec<u8>]| kept.split_last().map(|(_, rest)| rest.to_vec());
            let only_link_used = template == "/manage/sign-in/once"
                && may_sign_in
                && all_but_link(&kept_after) == all_but_link(&kept_before);
            assert!(
                owner || only_link_used,
                "{sent} changed what the node keeps without its owner"
            );
        }
    }
}

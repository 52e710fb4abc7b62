//! Signing in and out: the home page, the passphrase form (throttled), one-time sign-in links
//! and the session they start.

use super::*;

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
    let (title, _) = form_outcome("Sign in", &errors);
    let mut resp = render(
        &SignInPage {
            f: frame(state, title, None, "sign-in"),
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

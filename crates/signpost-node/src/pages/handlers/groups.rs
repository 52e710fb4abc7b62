//! The groups: the overview with each group's capacity, the form that adds or edits a group
//! (with its preview), and withdrawing one.

use super::*;

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
pub(super) fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
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
    f.notice = done(&state, &query);
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
    mut errors: Vec<FieldProblem>,
    action: String,
    is_new: bool,
    preview: Option<Preview>,
) -> HttpResponse {
    crate::pages::form::in_page_order(&mut errors);
    let heading = if is_new {
        "Add a group".to_owned()
    } else {
        format!("Change {}", form.name)
    };
    let (title, status) = form_outcome(&heading, &errors);
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
                    field: crate::pages::form::form_field(&p.field, &[]),
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

//! `/find`: the finder for Link Workers and for people themselves, a group page, and a
//! two-language referral card. Parameters are parsed into the one `GroupQuery` and answered
//! by the index like every other surface. Nothing about a search is stored or logged.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use signpost_protocol::query::{Condition, GroupQuery, QueryCode, RawGroupQuery};
use signpost_protocol::{taxonomy, DidKey, Listing};
use uuid::Uuid;

use super::i18n::{negotiate, spoken_name, Tr, LANGS, SPOKEN};
use super::view::{category_label, result_view, support_label, ResultView};
use super::{html, Page};
use crate::crawl::Aggregator;
use crate::index::{QueryContext, Segment};

type Data = web::Data<Arc<Aggregator>>;
type Params = web::Query<Vec<(String, String)>>;

const PER_PAGE: usize = 10;
const RADII: &[u32] = &[1, 2, 5, 10, 25, 50];

/// What a person can tick, and the query each means.
const NEEDS: &[(&str, &str)] = &[
    ("free", "need-free"),
    ("childcare", "need-childcare"),
    ("evening-weekend", "need-evening-weekend"),
    ("no-gp", "need-no-gp"),
    ("no-status", "need-no-status"),
    ("self-referral", "need-self-referral"),
    ("interpreting", "need-interpreting"),
    ("women", "need-women"),
];

/// What a Link Worker or other referrer can ask of a group besides (the same `need`
/// parameter), and the safeguarding capabilities (`safeguarding`), under their own heading.
const REFERRER_NEEDS: &[(&str, &str)] = &[
    ("accepting", "need-accepting"),
    ("safeguarding-lead", "need-safeguarding-lead"),
    ("trauma-trained", "need-trauma-trained"),
];

/// The achievement "trauma-trained" asks for, checked with a trusted provider.
const TRAUMA_TRAINING: &str = "trauma-informed-practice";

#[derive(Template)]
#[template(path = "find.html")]
struct FindPage {
    page: Page,
    errors: Vec<(String, String)>,
    postcode: String,
    postcode_error: Option<String>,
    language_error: Option<String>,
    lat: String,
    lon: String,
    radii: Vec<(u32, String, bool)>,
    needs: Vec<(&'static str, String, bool)>,
    /// Each language offered: its code, its label, and whether it is the one asked for.
    languages: Vec<(String, String, bool)>,
    categories: Vec<(&'static str, String, bool)>,
    referrer_needs: Vec<(&'static str, String, bool)>,
    /// Each safeguarding capability: its id, its label, and whether it is asked for.
    supports: Vec<(&'static str, String, bool)>,
    /// The referrers' part of the form starts open when something in it is asked for.
    referrer_open: bool,
    searched: bool,
    count_text: String,
    near_text: Option<String>,
    results: Vec<ResultView>,
    prev_href: Option<String>,
    next_href: Option<String>,
    page_text: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    page: Page,
    r: ResultView,
    description: String,
    address: Option<String>,
    back_href: String,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    page: Page,
    local: ResultView,
    english: Option<ResultView>,
    address: Option<String>,
    back_href: String,
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

fn all<'a>(params: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    params
        .iter()
        .filter(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect()
}

fn tr_for(req: &HttpRequest, params: &[(String, String)]) -> Tr {
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    Tr::new(negotiate(get(params, "lang"), accept))
}

/// The page's frame: title, language picker carrying the other parameters.
fn page(tr: Tr, title: String, path: &str, params: &[(String, String)]) -> Page {
    Page {
        tr,
        title,
        langs: LANGS,
        // The finder starts again at its first page; a group's pages keep the page of the
        // search they lead back to.
        hidden: params
            .iter()
            .filter(|(k, _)| k != "lang" && (k != "page" || path != "/find"))
            .cloned()
            .collect(),
        path: path.to_owned(),
        show_picker: true,
        skip_to_results: false,
    }
}

/// The search in `params` (all but the language), as `&name=value…` to follow a link's
/// `lang=`; empty when there is none.
fn search_of(params: &[(String, String)]) -> String {
    let pairs: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "lang").collect();
    if pairs.is_empty() {
        return String::new();
    }
    format!(
        "&{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// "Back to the search" from a group's pages: the search they were found by, at its
/// results, or the empty form when they were opened some other way.
fn back_to_search(tr: Tr, params: &[(String, String)]) -> String {
    match search_of(params) {
        search if search.is_empty() => format!("/find?lang={}", tr.lang.code),
        search => format!("/find?lang={}{search}#results", tr.lang.code),
    }
}

fn href(params: &[(String, String)], page: usize) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "page")
        .cloned()
        .collect();
    pairs.push(("page".into(), page.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    // Straight to the new page's results, not the top of the form above them.
    format!("/find?{query}#results")
}

/// The search form, filled from `params` (nothing searched yet).
fn form(tr: Tr, params: &[(String, String)]) -> FindPage {
    let needs_on = all(params, "need");
    let categories_on = all(params, "category");
    let supports_on = all(params, "safeguarding");
    let referrer_needs: Vec<(&'static str, String, bool)> = REFERRER_NEEDS
        .iter()
        .map(|(v, id)| (*v, tr.t(id), needs_on.contains(v)))
        .collect();
    let supports: Vec<(&'static str, String, bool)> = taxonomy::SAFEGUARDING_CAPABILITIES
        .iter()
        .map(|c| (c.id, support_label(&tr, c.id), supports_on.contains(&c.id)))
        .collect();
    let referrer_open = referrer_needs.iter().chain(&supports).any(|(_, _, on)| *on);
    let language = get(params, "language").unwrap_or("");
    FindPage {
        page: page(tr, tr.t("finder-title"), "/find", params),
        errors: Vec::new(),
        postcode: get(params, "postcode").unwrap_or("").to_owned(),
        postcode_error: None,
        language_error: None,
        lat: get(params, "lat").unwrap_or("").to_owned(),
        lon: get(params, "lon").unwrap_or("").to_owned(),
        radii: RADII
            .iter()
            .map(|r| (*r, tr.t1("distance-km", "km", *r), *r == radius(params)))
            .collect(),
        needs: NEEDS
            .iter()
            .map(|(v, id)| (*v, tr.t(id), needs_on.contains(v)))
            .collect(),
        languages: language_options(language),
        categories: taxonomy::CATEGORIES
            .iter()
            .filter(|c| c.id != "womens-group")
            .map(|c| {
                (
                    c.id,
                    category_label(&tr, c.id),
                    categories_on.contains(&c.id),
                )
            })
            .collect(),
        referrer_needs,
        supports,
        referrer_open,
        searched: false,
        count_text: String::new(),
        near_text: None,
        results: Vec::new(),
        prev_href: None,
        next_href: None,
        page_text: String::new(),
    }
}

/// The languages the form offers, the one asked for selected. A language asked for that the
/// list does not hold (a link may name any) is offered too, by its code and, when the list
/// knows its language, that language's name, so the form shows what was searched for.
fn language_options(asked: &str) -> Vec<(String, String, bool)> {
    let mut options: Vec<(String, String, bool)> = (SPOKEN.iter())
        .map(|(code, _, _)| {
            let chosen = code.eq_ignore_ascii_case(asked);
            ((*code).to_owned(), spoken_name(code), chosen)
        })
        .collect();
    if !asked.is_empty() && !options.iter().any(|o| o.2) {
        let label = (asked.split(','))
            .map(|tag| match spoken_name(tag) {
                name if name == tag => name,
                name => format!("{name}, {tag}"),
            })
            .collect::<Vec<_>>()
            .join("; ");
        options.push((asked.to_owned(), label, true));
    }
    options
}

/// The radius asked for, when it is one offered (else 5 km).
fn radius(params: &[(String, String)]) -> u32 {
    get(params, "radius")
        .and_then(|r| r.parse().ok())
        .filter(|r| RADII.contains(r))
        .unwrap_or(5)
}

/// The directory's address itself: people and Link Workers who are given it land on the
/// finder, in the language asked for (`lang=`, else the browser's).
pub async fn home(req: HttpRequest, params: Params) -> HttpResponse {
    let code = tr_for(&req, &params).lang.code;
    HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/find?lang={code}"),
        ))
        .insert_header((actix_web::http::header::VARY, "Accept-Language"))
        .finish()
}

/// `GET /find`: the search form and, once asked, the results.
pub async fn find(state: Data, req: HttpRequest, params: Params) -> HttpResponse {
    let params = params.into_inner();
    let tr = tr_for(&req, &params);
    let searched = params.iter().any(|(k, _)| k != "lang");
    let needs_on = all(&params, "need");
    let categories_on = all(&params, "category");
    let language = get(&params, "language").unwrap_or("");
    let postcode = get(&params, "postcode").unwrap_or("").to_owned();
    let radius = radius(&params);
    let (lat, lon) = (get(&params, "lat"), get(&params, "lon"));
    let mut page_no: usize = get(&params, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(1);

    let mut view = form(tr, &params);
    if !searched {
        return html(&view);
    }

    let flag = |on: bool| on.then(|| "true".to_owned());
    let has = |n: &str| needs_on.contains(&n);
    let mut categories: Vec<&str> = categories_on
        .iter()
        .copied()
        .filter(|c| taxonomy::contains(taxonomy::CATEGORIES, c))
        .collect();
    let women = has("women");
    let use_postcode = !postcode.is_empty();
    let raw = RawGroupQuery {
        postcode: use_postcode.then(|| postcode.clone()),
        near: match (use_postcode, lat, lon) {
            (false, Some(la), Some(lo)) => Some(format!("{la},{lo}")),
            // Half a place (an edited link): refused as the place it is not.
            (false, Some(half), None) | (false, None, Some(half)) => Some(half.to_owned()),
            _ => None,
        },
        radius_km: (use_postcode || lat.is_some() || lon.is_some()).then(|| radius.to_string()),
        language: (!language.is_empty()).then(|| language.to_owned()),
        free: flag(has("free")),
        childcare: flag(has("childcare")),
        no_gp_registration: flag(has("no-gp")),
        no_status_check: flag(has("no-status")),
        self_referral: flag(has("self-referral")),
        interpreting: flag(has("interpreting")),
        accepting: flag(has("accepting")),
        safeguarding_lead: flag(has("safeguarding-lead")),
        verified_training: has("trauma-trained").then(|| TRAUMA_TRAINING.to_owned()),
        // A group must be able to hold every one asked for (a link's unknown ones are
        // dropped, as its unknown kinds of group are).
        safeguarding: {
            let asked: Vec<&str> = all(&params, "safeguarding")
                .into_iter()
                .filter(|c| taxonomy::contains(taxonomy::SAFEGUARDING_CAPABILITIES, c))
                .collect();
            (!asked.is_empty()).then(|| asked.join(","))
        },
        page: Some(page_no.to_string()),
        per_page: Some(PER_PAGE.to_string()),
        ..RawGroupQuery::default()
    };
    let parsed = GroupQuery::parse(&raw).and_then(|mut q| {
        q.locate(state.gazetteer())?;
        Ok(q)
    });
    let mut q = match parsed {
        Ok(q) => q,
        Err(e) => {
            // Each mistake once in the summary, the postcode's beside its field too.
            for problem in e.problems() {
                let message = match problem.code {
                    QueryCode::InvalidPostcode => tr.t("error-invalid-postcode"),
                    QueryCode::UnknownPostcode => tr.t("error-unknown-postcode"),
                    QueryCode::InvalidLanguage => tr.t("error-language"),
                    // The place the browser gave (or a link's), not one the person typed.
                    QueryCode::InvalidCoordinates => tr.t("error-location"),
                    _ => tr.t("error-other"),
                };
                // Each links to the field it is about, and is shown beside it.
                let target = match problem.parameter.as_ref() {
                    "postcode" | "near" => {
                        view.postcode_error = Some(message.clone());
                        // Searching again asks for a postcode, not the same place.
                        view.lat.clear();
                        view.lon.clear();
                        "#postcode"
                    }
                    "language" => {
                        view.language_error = Some(message.clone());
                        // The form offers the list's languages again, none chosen.
                        view.languages = language_options("");
                        "#language"
                    }
                    _ => "#main",
                };
                if !view.errors.iter().any(|(_, m)| *m == message) {
                    view.errors.push((target.to_owned(), message));
                }
            }
            // In the order of the form: the postcode is its first field.
            view.errors.sort_by_key(|(target, _)| target != "#postcode");
            // The title says so first, for a screen reader (as the error summary pattern asks).
            view.page.title = tr.t1("error-title", "title", view.page.title.clone());
            return html(&view);
        }
    };
    if has("evening-weekend") {
        q.conditions.push(Condition::EveningOrWeekend);
    }
    if women {
        // "Women only" narrows to women's groups, whatever else is ticked.
        categories = vec!["womens-group"];
    }
    q.categories = categories.into_iter().map(str::to_owned).collect();

    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, Utc::now());
    let (mut total, mut hits) = index.page(&q, &ctx);
    if hits.is_empty() && total > 0 {
        // A page past the last (an old link, from before groups left): the last page, not
        // "8 groups found" over none of them.
        page_no = total.div_ceil(PER_PAGE);
        q.page = page_no;
        (total, hits) = index.page(&q, &ctx);
    }
    view.searched = true;
    view.page.skip_to_results = true;
    // The page shown, which an old link's may not be.
    let mut shown = params.clone();
    shown.retain(|(k, _)| k != "page");
    if page_no > 1 {
        shown.push(("page".into(), page_no.to_string()));
    }
    let search = search_of(&shown);
    view.results = hits
        .iter()
        .map(|(seg, l, d)| result_view(&tr, seg, l, *d, &ctx, &search))
        .collect();
    view.count_text = tr.t1("results-count", "count", total);
    view.near_text = match (&q.postcode, q.near) {
        (Some((p, km)), _) => Some(tr.t2(
            "results-near",
            ("km", km.to_string().into()),
            ("place", p.to_string().into()),
        )),
        (None, Some((_, km))) => Some(tr.t2(
            "results-near",
            ("km", km.to_string().into()),
            ("place", tr.t("use-location").into()),
        )),
        _ => None,
    };
    let pages = total.div_ceil(PER_PAGE).max(1);
    view.page_text = tr.t2("page-of", ("page", page_no.into()), ("pages", pages.into()));
    view.prev_href = (page_no > 1).then(|| href(&params, page_no - 1));
    view.next_href = (page_no < pages).then(|| href(&params, page_no + 1));
    html(&view)
}

fn lookup(node: &str, id: &str) -> Option<(DidKey, Uuid)> {
    Some((node.parse().ok()?, id.parse().ok()?))
}

/// A group that is not (or no longer) listed: the search form, saying so, as a 404.
fn not_found(tr: Tr) -> HttpResponse {
    search_again(tr, "error-group-gone")
}

/// An address with no page (a mistyped or old link), asked for by a browser: the search
/// form in the person's language, saying so, as a 404.
pub fn no_page(req: &HttpRequest) -> HttpResponse {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    search_again(tr_for(req, &params), "error-no-page")
}

/// The search form with `message` in its error summary, as a 404.
fn search_again(tr: Tr, message: &str) -> HttpResponse {
    let mut view = form(tr, &[]);
    view.errors.push(("#postcode".into(), tr.t(message)));
    view.page.title = tr.t1("error-title", "title", view.page.title.clone());
    let mut resp = html(&view);
    *resp.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    resp
}

/// Renders one served listing with `render`, or the finder with a 404 when there is none.
fn one_group(
    state: &Aggregator,
    req: &HttpRequest,
    path: &(String, String),
    params: &[(String, String)],
    render: impl FnOnce(
        Tr,
        &Segment,
        &signpost_protocol::Verified<Listing>,
        &QueryContext<'_>,
    ) -> HttpResponse,
) -> HttpResponse {
    let tr = tr_for(req, params);
    let Some((node, id)) = lookup(&path.0, &path.1) else {
        return not_found(tr);
    };
    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, Utc::now());
    match index.hit(&node, &id, &ctx) {
        Some((seg, l, _)) => render(tr, seg, l, &ctx),
        None => not_found(tr),
    }
}

/// `GET /find/group/{node}/{id}`: one group in full.
pub async fn group(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> HttpResponse {
    one_group(&state, &req, &path, &params, |tr, seg, l, ctx| {
        html(&GroupPage {
            page: page(tr, l.group.name.clone(), req.path(), &params),
            description: l.group.description.clone(),
            address: address(l),
            back_href: back_to_search(tr, &params),
            r: result_view(&tr, seg, l, None, ctx, &search_of(&params)),
        })
    })
}

fn address(l: &Listing) -> Option<String> {
    l.group
        .location
        .as_ref()
        .and_then(|loc| match (&loc.address, &loc.postcode) {
            (Some(a), Some(p)) => Some(format!("{a}, {p}")),
            (Some(a), None) => Some(a.clone()),
            (None, Some(p)) => Some(p.clone()),
            (None, None) => None,
        })
}

/// `GET /find/card/{node}/{id}`: a one-page referral card in the chosen language and in
/// English side by side (English alone when that is the chosen language).
pub async fn card(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: Params,
) -> HttpResponse {
    one_group(&state, &req, &path, &params, |tr, seg, l, ctx| {
        html(&CardPage {
            page: page(tr, tr.t("card-title"), req.path(), &params),
            local: result_view(&tr, seg, l, None, ctx, ""),
            english: (tr.lang.code != "en")
                .then(|| result_view(&Tr::english(), seg, l, None, ctx, "")),
            address: address(l),
            back_href: back_to_search(tr, &params),
        })
    })
}

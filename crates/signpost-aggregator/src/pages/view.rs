//! A verified listing as the people's pages show it, in words, in one language.

use chrono::{DateTime, Utc};
use signpost_protocol::model::{Interpreting, Listing};
use signpost_protocol::policy::AttestationStatus;
use signpost_protocol::taxonomy;
use signpost_protocol::wire::CapacityStatus;
use signpost_protocol::Verified;

use super::i18n::{spoken_name, Tr};
use crate::index::{QueryContext, Segment};

/// Everything a result, a group page or a card shows, already in words.
pub struct ResultView {
    pub name: String,
    pub organisation: String,
    pub distance: Option<String>,
    pub capacity: String,
    pub capacity_class: &'static str,
    /// (day, times): times are shown left to right in every language.
    pub sessions: Vec<(String, String)>,
    pub languages: String,
    pub cost: String,
    pub contact: Vec<String>,
    pub facts: Vec<String>,
    pub training: Vec<String>,
    /// Who the group can safely support, its safeguarding lead and written policy.
    pub safeguarding: Vec<String>,
    pub signed: String,
    pub how_checked: String,
    pub more: String,
    pub card_link: String,
    pub places_label: String,
    pub meets_label: String,
    pub languages_label: String,
    pub cost_label: String,
    pub contact_label: String,
    pub facts_label: String,
    pub training_label: String,
    pub safeguarding_label: String,
    pub group_href: String,
    pub card_href: String,
    pub provenance_href: String,
}

/// "today", "3 days ago", "2 weeks ago".
pub fn ago(tr: &Tr, then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (now - then).num_days().max(0);
    match days {
        0 => tr.t("ago-today"),
        1..=13 => tr.t1("ago-days", "n", days),
        _ => tr.t1("ago-weeks", "n", days / 7),
    }
}

fn day_id(day: signpost_protocol::model::Weekday) -> String {
    format!("day-{}", day.as_str())
}

/// A taxonomy term's label in `tr`'s language: the catalogue's `{prefix}-{id}` message, or
/// the taxonomy's English label as a last resort.
fn term_label(tr: &Tr, prefix: &str, vocabulary: &[taxonomy::Term], id: &str) -> String {
    let text = tr.t(&format!("{prefix}-{id}"));
    if !text.is_empty() {
        return text;
    }
    vocabulary
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.label.to_owned())
        .unwrap_or_else(|| id.to_owned())
}

/// A category's label in `tr`'s language.
pub fn category_label(tr: &Tr, id: &str) -> String {
    term_label(tr, "category", taxonomy::CATEGORIES, id)
}

/// An achievement's label in `tr`'s language.
pub fn achievement_label(tr: &Tr, id: &str) -> String {
    term_label(tr, "achievement", taxonomy::ACHIEVEMENTS, id)
}

/// A safeguarding capability's label in `tr`'s language.
pub fn support_label(tr: &Tr, id: &str) -> String {
    term_label(tr, "support", taxonomy::SAFEGUARDING_CAPABILITIES, id)
}

/// The safeguarding a group declares, in words: whom it can safely support (in the
/// taxonomy's order), then its named lead and written policy.
fn safeguarding_lines(tr: &Tr, s: &signpost_protocol::model::Safeguarding) -> Vec<String> {
    let supports: Vec<String> = taxonomy::SAFEGUARDING_CAPABILITIES
        .iter()
        .filter(|t| s.capabilities.iter().any(|c| c == t.id))
        .map(|t| support_label(tr, t.id))
        .collect();
    let mut lines = Vec::new();
    if !supports.is_empty() {
        lines.push(tr.t1(
            "safeguarding-supports",
            "list",
            supports.join(&tr.t("clause-separator")),
        ));
    }
    if s.designated_lead {
        lines.push(tr.t("safeguarding-lead"));
    }
    if s.written_policy {
        lines.push(tr.t("safeguarding-policy"));
    }
    lines
}

/// Builds the view of one hit; `search` (`&name=value…`, or empty) is the search it was
/// found by, carried by the links to its pages so that they lead back to it.
pub fn result_view(
    tr: &Tr,
    seg: &Segment,
    listing: &Verified<Listing>,
    distance_km: Option<f64>,
    ctx: &QueryContext<'_>,
    search: &str,
) -> ResultView {
    let g = &listing.group;
    let now = ctx.now;
    let status = ctx.capacity_status(listing);
    let confirmed = ago(tr, g.capacity.updated_at.min(now), now);
    let (capacity, capacity_class) = match status {
        CapacityStatus::Accepting => {
            let mut s = tr.t("capacity-accepting");
            if let Some(p) = g.capacity.places_available {
                s = format!(
                    "{s}{}{}",
                    tr.t("list-separator"),
                    tr.t1("capacity-places", "places", p)
                );
            }
            (
                format!(
                    "{s}{}{}",
                    tr.t("clause-separator"),
                    tr.t1("confirmed", "ago", confirmed)
                ),
                "accepting",
            )
        }
        CapacityStatus::NotAccepting => (
            format!(
                "{}{}{}",
                tr.t("capacity-not-accepting"),
                tr.t("clause-separator"),
                tr.t1("confirmed", "ago", confirmed)
            ),
            "not_accepting",
        ),
        CapacityStatus::Unknown => (
            format!(
                "{}: {}",
                tr.t("capacity-unknown"),
                tr.t1("last-confirmed", "ago", confirmed)
            ),
            "unknown",
        ),
    };
    let sessions = g
        .schedule
        .iter()
        .map(|s| (tr.t(&day_id(s.day)), format!("{}–{}", s.opens, s.closes)))
        .collect();
    let languages = if g.languages.is_empty() {
        "–".to_owned()
    } else {
        g.languages
            .iter()
            .map(|l| spoken_name(l))
            .collect::<Vec<_>>()
            .join(&tr.t("list-separator"))
    };
    let cost = &g.access.cost;
    let cost = if cost.free {
        tr.t("cost-free")
    } else if let Some(p) = cost.amount_pence {
        tr.t1(
            "cost-amount",
            "amount",
            format!("{}.{:02}", p / 100, p % 100),
        )
    } else {
        tr.t("cost-paid")
    };
    let mut contact = vec![if g.access.self_referral {
        tr.t("self-referral-yes")
    } else {
        tr.t("self-referral-no")
    }];
    if let Some(p) = &g.contact.phone {
        contact.push(format!("{}: {p}", tr.t("phone")));
    }
    if let Some(e) = &g.contact.email {
        contact.push(format!("{}: {e}", tr.t("email")));
    }
    if let Some(w) = &g.contact.website {
        contact.push(format!("{}: {w}", tr.t("website")));
    }
    if let Some(r) = &g.contact.referral_instructions {
        contact.push(r.clone());
    }
    let a = &g.access;
    let facts = [
        (a.childcare, "fact-childcare"),
        (!a.gp_registration_required, "fact-no-gp"),
        (!a.immigration_status_asked, "fact-no-status"),
        (
            a.interpreting == Interpreting::Professional,
            "fact-interpreting-professional",
        ),
        (
            a.interpreting == Interpreting::Volunteer,
            "fact-interpreting-volunteer",
        ),
        (a.step_free, "fact-step-free"),
        (a.travel_paid, "fact-travel-paid"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, id)| tr.t(id))
    .collect();
    let training = seg
        .data
        .attestations
        .iter()
        .zip(ctx.attestations(&seg.data))
        .filter(|(_, (status, _))| *status == AttestationStatus::Verified)
        .map(|(att, _)| {
            let what = achievement_label(tr, &att.achievement);
            let issuer = ctx
                .issuers
                .iter()
                .find(|i| i.id == att.issuer)
                .map(|i| i.name.clone())
                .unwrap_or_default();
            tr.t2(
                "training-verified",
                ("what", what.into()),
                ("issuer", issuer.into()),
            )
        })
        .collect();
    let lang = tr.lang.code;
    ResultView {
        name: g.name.clone(),
        organisation: seg.name.clone(),
        distance: distance_km.map(|d| tr.t1("distance-away", "km", format!("{d:.1}"))),
        capacity,
        capacity_class,
        sessions,
        languages,
        cost,
        contact,
        facts,
        training,
        signed: tr.t("signed"),
        how_checked: tr.t("how-checked"),
        more: tr.t("more"),
        card_link: tr.t("card-link"),
        places_label: tr.t("places"),
        meets_label: tr.t("meets"),
        languages_label: tr.t("languages"),
        cost_label: tr.t("cost"),
        contact_label: tr.t("contact"),
        facts_label: tr.t("good-to-know"),
        training_label: tr.t("training"),
        safeguarding: safeguarding_lines(tr, &g.safeguarding),
        safeguarding_label: tr.t("safeguarding"),
        group_href: format!("/find/group/{}/{}?lang={lang}{search}", seg.id, listing.id),
        card_href: format!("/find/card/{}/{}?lang={lang}{search}", seg.id, listing.id),
        provenance_href: format!("/v1/groups/{}/{}", seg.id, listing.id),
    }
}

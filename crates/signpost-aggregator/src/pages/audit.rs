//! `/audit`: the regulator's page. Choose an issuer; see every organisation presenting its
//! attestations with their status now; filter by achievement and status; download CSV.
//! Computed by the same function as `/v1/issuers/{did}/attestations`.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use signpost_protocol::policy::AttestationStatus;
use signpost_protocol::taxonomy;
use signpost_protocol::DidKey;

use super::i18n::{Tr, LANGS};
use super::{html, Page};
use crate::api::{audit_entries, AuditFilter};
use crate::crawl::Aggregator;

type Data = web::Data<Arc<Aggregator>>;

/// Each status in the page's words, in the order its list shows them (the code is the
/// status's wire name, `AttestationStatus::as_str`).
const STATUSES: &[(AttestationStatus, &str)] = &[
    (AttestationStatus::Verified, "Verified"),
    (AttestationStatus::Revoked, "Revoked"),
    (AttestationStatus::Expired, "Expired"),
    (AttestationStatus::NotYetValid, "Not yet valid"),
    (
        AttestationStatus::SubjectMismatch,
        "About another organisation",
    ),
    (AttestationStatus::UntrustedIssuer, "Issuer not trusted"),
    (
        AttestationStatus::NotTrustedForAchievement,
        "Issuer not trusted for this achievement",
    ),
    (
        AttestationStatus::RevocationStatusUnknown,
        "Revocation status unknown",
    ),
];

fn status_words(s: AttestationStatus) -> (&'static str, &'static str) {
    let words = STATUSES
        .iter()
        .find(|(x, _)| *x == s)
        .map_or("Unknown", |(_, words)| *words);
    (s.as_str(), words)
}

/// The page's parameters (all optional; unknown ones are ignored here, refused by the API).
#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    issuer: Option<String>,
    achievement: Option<String>,
    status: Option<String>,
}

pub struct Row {
    organisation: String,
    node: String,
    achievement: String,
    level: String,
    valid_until: String,
    status: &'static str,
    status_words: &'static str,
    /// When the status took effect here (UTC).
    since: String,
    why: String,
    serial: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    errors: Mistakes,
    issuers: Vec<(String, String, bool)>,
    achievements: Vec<(&'static str, &'static str, bool)>,
    statuses: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<Row>,
    csv_href: Option<String>,
    json_href: String,
}

/// Each mistake in the page's parameters: the field it links to, and what to do.
type Mistakes = Vec<(&'static str, String)>;

/// The chosen issuer and filters, and the rows they give.
fn rows(
    state: &Aggregator,
    p: &AuditParams,
) -> Result<(Option<DidKey>, AuditFilter, Vec<Row>), Mistakes> {
    let mut mistakes = Mistakes::new();
    // The form's "any" (or its default) is an empty value.
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    let issuer = match given(&p.issuer) {
        Some(s) => s.parse::<DidKey>().ok().or_else(|| {
            mistakes.push(("issuer", "Choose an issuer from the list".to_owned()));
            None
        }),
        None => state.config.issuers.first().map(|i| i.id),
    };
    let q = AuditFilter::read(given(&p.achievement), given(&p.status)).unwrap_or_else(|e| {
        for problem in e.problems() {
            mistakes.push(match &*problem.parameter {
                "status" => ("status", "Choose a status from the list".to_owned()),
                _ => (
                    "achievement",
                    "Choose an achievement from the list".to_owned(),
                ),
            });
        }
        AuditFilter::default()
    });
    if !mistakes.is_empty() {
        return Err(mistakes);
    }
    let Some(issuer) = issuer else {
        return Ok((None, q, Vec::new()));
    };
    let rows = audit_entries(state, &issuer, &q)
        .into_iter()
        .map(|e| {
            let (code, words) = status_words(e.status);
            Row {
                organisation: e.node_name,
                node: e.node.to_string(),
                achievement: taxonomy::ACHIEVEMENTS
                    .iter()
                    .find(|t| t.id == e.attestation.achievement)
                    .map(|t| t.label.to_owned())
                    .unwrap_or(e.attestation.achievement),
                level: e.attestation.level.unwrap_or_default(),
                valid_until: e.attestation.valid_until.format("%Y-%m-%d").to_string(),
                status: code,
                status_words: words,
                since: e
                    .status_since
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default(),
                why: e
                    .checks
                    .iter()
                    .filter_map(|c| c.reason.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                serial: e.attestation.serial,
            }
        })
        .collect();
    Ok((Some(issuer), q, rows))
}

fn query_string(issuer: &DidKey, q: &AuditFilter) -> String {
    let mut pairs = vec![("issuer", issuer.to_string())];
    if let Some(a) = &q.achievement {
        pairs.push(("achievement", a.clone()));
    }
    if let Some(s) = q.status {
        pairs.push(("status", s.as_str().to_owned()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// `GET /audit`.
pub async fn audit(state: Data, params: web::Query<AuditParams>) -> HttpResponse {
    let tr = Tr::new(&LANGS[0]);
    let (chosen, q, rows, errors) = match rows(&state, &params) {
        Ok((chosen, q, rows)) => (chosen, q, rows, Vec::new()),
        Err(e) => (None, AuditFilter::default(), Vec::new(), e),
    };
    let view = AuditPage {
        page: Page {
            tr,
            title: if errors.is_empty() {
                "Training attestations: audit".into()
            } else {
                "Error: Training attestations: audit".into()
            },
            langs: LANGS,
            hidden: Vec::new(),
            path: "/audit".into(),
            show_picker: false,
            skip_to_results: false,
        },
        errors,
        issuers: state
            .config
            .issuers
            .iter()
            .map(|i| (i.id.to_string(), i.name.clone(), Some(i.id) == chosen))
            .collect(),
        achievements: taxonomy::ACHIEVEMENTS
            .iter()
            .map(|t| (t.id, t.label, q.achievement.as_deref() == Some(t.id)))
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|(s, words)| (s.as_str(), *words, q.status == Some(*s)))
            .collect(),
        csv_href: chosen.map(|i| format!("/audit.csv?{}", query_string(&i, &q))),
        json_href: chosen
            .map(|i| {
                let mut qs = query_string(&i, &q);
                qs = qs
                    .split('&')
                    .filter(|p| !p.starts_with("issuer="))
                    .collect::<Vec<_>>()
                    .join("&");
                format!("/v1/issuers/{i}/attestations?{qs}")
            })
            .unwrap_or_default(),
        rows,
    };
    html(&view)
}

/// A cell a spreadsheet will not run: text that another party wrote (an organisation's
/// name, a level) and begins as a formula does (`=`, `+`, `-`, `@`, a tab or a return) is
/// written after a `'`, which spreadsheets show as text (OWASP's advice on CSV injection).
/// A regulator opening the file in Excel is not made to run a hostile node's formula.
fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// `GET /audit.csv`: the same rows as the page, as CSV.
pub async fn audit_csv(state: Data, params: web::Query<AuditParams>) -> HttpResponse {
    let rows = match rows(&state, &params) {
        Ok((_, _, rows)) => rows,
        Err(mistakes) => {
            let words: Vec<String> = mistakes.into_iter().map(|(_, m)| m).collect();
            return HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(words.join("\n"));
        }
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "organisation",
        "node",
        "achievement",
        "level",
        "serial",
        "valid_until",
        "status",
        "status_since",
        "why",
    ];
    let mut result = out.write_record(header);
    for r in &rows {
        if result.is_ok() {
            result = out.write_record([
                &*inert(&r.organisation),
                &r.node,
                &r.achievement,
                &*inert(&r.level),
                &r.serial,
                &r.valid_until,
                r.status,
                &r.since,
                &*inert(&r.why),
            ]);
        }
    }
    match (result, out.into_inner()) {
        (Ok(()), Ok(bytes)) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"signpost-audit.csv\"",
            ))
            .body(bytes),
        _ => HttpResponse::InternalServerError()
            .content_type("text/plain; charset=utf-8")
            .body("the CSV could not be written"),
    }
}

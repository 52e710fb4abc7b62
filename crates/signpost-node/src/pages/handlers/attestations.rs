//! Training attestations: the ones the node presents, each checked, and importing a new one.

use super::*;

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
    let (title, status) = form_outcome("Training and attestations", &errors);
    let mut f = frame(state, title, Some(session), "attestations");
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
        Ok(s) => attestations_view(&state, &s, Vec::new(), String::new(), done(&state, &query)),
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

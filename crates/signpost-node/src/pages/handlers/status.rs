//! The node's status: what the directories last fetched, enrolment, backups, the passphrase
//! and the admin API's token.

use super::*;

/// A directory this node tells of its changes: how it lists this node, and the last push.
struct DirectoryRow {
    url: String,
    /// What the directory says of this node, in words.
    standing: String,
    /// Whether the volunteer should act (not listed, refused, or not reachable).
    attention: bool,
    last_push: String,
}

/// How long the status page waits for each directory's answer.
const STANDING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// A directory's API address from the ping URL this node pushes to (`…/v1/ping`).
fn directory_of(ping_url: &str) -> Option<&str> {
    ping_url
        .trim_end_matches('/')
        .strip_suffix("/v1/ping")
        .filter(|base| !base.is_empty())
}

/// Asks each directory (at once, each within [`STANDING_TIMEOUT`]) how it lists this node.
async fn directory_rows(state: &Data) -> Vec<DirectoryRow> {
    let now = Utc::now();
    let node = state.publisher.node_id();
    let latest = state.publisher.published().seq;
    let fetcher = signpost_client::Fetcher::new(STANDING_TIMEOUT, 64 * 1024, 1).ok();
    let asked = state.publisher.directories();
    let (fetcher, asked) = (&fetcher, &asked);
    let rows = state
        .push
        .snapshot()
        .into_iter()
        .map(|(url, last)| async move {
            let last_push = last.map_or_else(
                || "Nothing pushed since the node started".to_owned(),
                |(at, result)| format!("{result} ({})", ago(at, now)),
            );
            let base = directory_of(&url);
            let (standing, attention) = match (base, fetcher) {
                (Some(base), Some(fetcher)) => {
                    let client = signpost_client::DirectoryClient::new(fetcher.clone(), base);
                    let asked = asked.iter().any(|d| d == base);
                    standing(client.node(&node).await, latest, base, asked, now)
                }
                (None, _) => (
                    "This node tells it of changes, but its address does not end in /v1/ping, \
                 so this page cannot ask how it lists the node"
                        .to_owned(),
                    false,
                ),
                (_, None) => ("Could not ask it".to_owned(), true),
            };
            DirectoryRow {
                url: base.unwrap_or(&url).to_owned(),
                standing,
                attention,
                last_push,
            }
        });
    futures_util::future::join_all(rows).await
}

/// What a directory's answer about this node means for the organisation, and whether it
/// needs them to act.
fn standing(
    answer: Result<Option<signpost_protocol::wire::NodeHealth>, signpost_client::ClientError>,
    latest_seq: u64,
    directory: &str,
    asked: bool,
    now: DateTime<Utc>,
) -> (String, bool) {
    use signpost_protocol::wire::CrawlStatus;
    let h = match answer {
        Ok(Some(h)) => h,
        Ok(None) if asked => {
            return (
                "Not listed yet: this node has asked to be listed, and the directory's \
                 operator approves or declines the request. Send them the enrolment card \
                 above if they ask for it."
                    .to_owned(),
                true,
            )
        }
        Ok(None) => {
            return (
                "Not listed. Send its operator the enrolment card above, or ask to be listed."
                    .to_owned(),
                true,
            )
        }
        Err(e) => return (enrol_failure(directory, &e), true),
    };
    let groups = |n: usize| format!("{n} group{}", if n == 1 { "" } else { "s" });
    let read = h
        .last_success
        .map(|t| format!("; last read {}", ago(t, now)))
        .unwrap_or_default();
    let refused = h.last_refusal.as_ref().map(|r| {
        let when = h.last_refusal_at.map(|t| ago(t, now)).unwrap_or_default();
        format!(
            "It refused what it last fetched from this node ({when}): {}",
            r.detail
        )
    });
    match (h.status, h.seq) {
        (CrawlStatus::Pending, _) | (_, None) => match refused {
            Some(refused) => (
                format!("Listed, but it shows none of your groups yet. {refused}"),
                true,
            ),
            None => ("Listed; it has not read this node yet".to_owned(), false),
        },
        (CrawlStatus::Stale, Some(_)) => (
            format!(
                "Listed, but what it holds from this node has expired, so your groups are \
                 hidden there until it reads this node again{read}.{}",
                refused.map(|r| format!(" {r}")).unwrap_or_default()
            ),
            true,
        ),
        (_, Some(seq)) => {
            let shows = format!("it shows {} from snapshot {seq}", groups(h.listings));
            let latest = if seq >= latest_seq {
                "your latest".to_owned()
            } else {
                format!("yours is now number {latest_seq}; it reads this node again soon")
            };
            match refused.filter(|_| h.status == CrawlStatus::Failing) {
                Some(refused) => (format!("Listed: {shows} ({latest}){read}. {refused}"), true),
                None => (format!("Listed: {shows} ({latest}){read}."), false),
            }
        }
    }
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
    directories: Vec<DirectoryRow>,
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

async fn status_view(
    state: &Data,
    session: &Session,
    errors: Vec<FieldProblem>,
    new_token: Option<String>,
    directory: String,
    notice: Option<String>,
) -> HttpResponse {
    let doc = state.publisher.node_document().ok();
    let published = state.publisher.published();
    let directories = directory_rows(state).await;
    let (title, status) = form_outcome("Node status", &errors);
    let mut f = frame(state, title, Some(session), "status");
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
            directories,
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
        )
        .await;
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
        )
        .await;
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
        Ok(s) => {
            status_view(
                &state,
                &s,
                Vec::new(),
                None,
                String::new(),
                done(&state, &query),
            )
            .await
        }
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
        return status_view(&state, &session, errors, None, String::new(), None).await;
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
            .await
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
        )
        .await;
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
        Ok(_) => {
            // Told of every change from now on, and shown below with what it says of this
            // node (not listed until its operator approves).
            let publisher = Arc::clone(&state.publisher);
            let base = client.base_url().to_owned();
            match web::block(move || publisher.remember_directory(&base)).await {
                Ok(Ok(_)) => {
                    state.push.add(&crate::ping_url(client.base_url()));
                    redirect("/manage/status?done=enrolled")
                }
                Ok(Err(e)) => failure(&state, Some(&session), &e),
                Err(_) => failure(
                    &state,
                    Some(&session),
                    &NodeError::Internal("remembering the directory".into()),
                ),
            }
        }
        Err(e) => {
            let message = enrol_failure(&directory, &e);
            status_view(&state, &session, problem(message), None, directory, None).await
        }
    }
}

/// Why a directory did not take the request, for a volunteer: an address with no directory
/// behind it is said as that, not as a content type or a 404.
fn enrol_failure(directory: &str, e: &signpost_client::ClientError) -> String {
    use signpost_client::{ClientError, FetchError};
    match e {
        ClientError::Fetch(FetchError::Connect(why)) => {
            format!("We could not reach {directory}: {why}. Check the address.")
        }
        ClientError::Fetch(FetchError::Timeout) => {
            format!("{directory} did not answer in time. Try again later.")
        }
        ClientError::Fetch(FetchError::ContentType(_) | FetchError::Malformed(_))
        | ClientError::Api {
            status: 404 | 405, ..
        } => format!(
            "There is no Signpost directory at {directory}. Check the address the directory's \
             operator gave you."
        ),
        other => format!("The directory did not accept the request: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_client::{ClientError, FetchError};
    use signpost_protocol::wire::{CrawlStatus, NodeHealth, Refusal, RefusalCode};

    const DIRECTORY: &str = "https://directory.example";

    type Answer = Result<Option<NodeHealth>, ClientError>;

    fn health(status: CrawlStatus, seq: Option<u64>, now: DateTime<Utc>) -> NodeHealth {
        NodeHealth {
            id: signpost_protocol::DidKey::new(signpost_protocol::keys::generate().verifying_key()),
            url: "https://node.example".into(),
            name: Some("A charity".into()),
            status,
            seq,
            listings: 3,
            last_attempt: Some(now),
            last_success: seq.map(|_| now - chrono::Duration::days(2)),
            last_refusal: None,
            last_refusal_at: None,
            consecutive_failures: 0,
            equivocations: 0,
        }
    }

    fn refused(mut h: NodeHealth, now: DateTime<Utc>) -> NodeHealth {
        h.last_refusal = Some(Refusal::new(
            RefusalCode::FutureTimestamp,
            "the snapshot was signed 20 minutes in the future",
        ));
        h.last_refusal_at = Some(now);
        h.consecutive_failures = 1;
        h
    }

    #[test]
    fn each_answer_is_said_in_words_with_whether_to_act() {
        let now = Utc::now();
        let say = |answer, asked| standing(answer, 7, DIRECTORY, asked, now);
        let cases: Vec<(Answer, bool, &str, bool)> =
            vec![
            (
                Ok(Some(health(CrawlStatus::Healthy, Some(7), now))),
                false,
                "Listed: it shows 3 groups from snapshot 7 (your latest); last read 2 days ago.",
                false,
            ),
            (
                Ok(Some(health(CrawlStatus::Healthy, Some(6), now))),
                false,
                "Listed: it shows 3 groups from snapshot 6 (yours is now number 7; it reads \
                 this node again soon); last read 2 days ago.",
                false,
            ),
            (
                Ok(Some(refused(health(CrawlStatus::Failing, Some(6), now), now))),
                false,
                "Listed: it shows 3 groups from snapshot 6 (yours is now number 7; it reads \
                 this node again soon); last read 2 days ago. It refused what it last \
                 fetched from this node (just now): the snapshot was signed 20 minutes in \
                 the future",
                true,
            ),
            (
                Ok(Some(refused(health(CrawlStatus::Stale, Some(6), now), now))),
                false,
                "Listed, but what it holds from this node has expired, so your groups are \
                 hidden there until it reads this node again; last read 2 days ago. It \
                 refused what it last fetched from this node (just now): the snapshot was \
                 signed 20 minutes in the future",
                true,
            ),
            (
                Ok(Some(health(CrawlStatus::Pending, None, now))),
                false,
                "Listed; it has not read this node yet",
                false,
            ),
            (
                Ok(Some(refused(health(CrawlStatus::Failing, None, now), now))),
                false,
                "Listed, but it shows none of your groups yet. It refused what it last \
                 fetched from this node (just now): the snapshot was signed 20 minutes in \
                 the future",
                true,
            ),
            (
                Ok(None),
                true,
                "Not listed yet: this node has asked to be listed, and the directory's \
                 operator approves or declines the request. Send them the enrolment card \
                 above if they ask for it.",
                true,
            ),
            (
                Ok(None),
                false,
                "Not listed. Send its operator the enrolment card above, or ask to be listed.",
                true,
            ),
            (
                Err(ClientError::Fetch(FetchError::Timeout)),
                false,
                "https://directory.example did not answer in time. Try again later.",
                true,
            ),
        ];
        for (answer, asked, says, act) in cases {
            assert_eq!(say(answer, asked), (says.to_owned(), act));
        }
    }

    #[test]
    fn a_directory_is_known_by_its_ping_address() {
        assert_eq!(
            directory_of("https://d.example/v1/ping"),
            Some("https://d.example")
        );
        assert_eq!(
            directory_of("https://d.example/v1/ping/"),
            Some("https://d.example")
        );
        assert_eq!(directory_of("https://d.example/hooks/signpost"), None);
        assert_eq!(directory_of("/v1/ping"), None);
    }
}

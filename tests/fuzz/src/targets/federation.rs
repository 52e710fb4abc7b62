//! Anyone's requests to a directory's federation and operator endpoints: a node asking to
//! be listed (`POST /v1/enrolments`, whose node document the directory fetches from a node
//! on loopback that answers genuinely or with the fuzzer's bytes), a node's push
//! (`POST /v1/ping`), an issuer's revocation list (`POST /v1/revocations`), and the
//! operator's list, approval and decline of requests (`/admin/enrolments`, bearer token).
//! Each input is a run of requests to a directory just opened, which follows one configured
//! node, trusts one issuer and takes enrolment requests. Each request names its route and
//! what it carries (whose id, which address, the right token or not, a genuine signed body
//! or the fuzzer's bytes).
//!
//! Fails on a panic; on any 5xx; on a node trusted now that a restart would not trust, or
//! the other way round (the stored decisions must say what the directory does); on a node
//! trusted, or a request kept or decided, without the operator's token and the node's own
//! signed document at its address; on the asking node served without its approval (it is
//! crawled when approved) or after the approval is withdrawn; on a revocation list put in use that its issuer did not
//! sign, or older than the one in use; on anything kept changing with a refusal; and when
//! a request the directory must take (the node's own enrolment, the operator's decision,
//! the issuer's newer list, the node's newer snapshot) is refused, or one it must refuse
//! is taken.
use std::cell::RefCell;

use crate::{debug, encode_path, node_at, records, served, FakeNode, Harness};
use actix_web::http::{header, StatusCode};
use actix_web::test::TestRequest;
use chrono::{DateTime, Duration, Utc};
use signpost_aggregator::config::{IssuerEntry, NodeEntry};
use signpost_aggregator::verify::NodeData;
use signpost_protocol::model::{RevocationList, Snapshot};
use signpost_protocol::wire::{EnrolmentRequest, EnrolmentStatus};
use signpost_protocol::{sample, DidKey, Envelope, EnvelopeDigest, SigningKey, Verified};

/// The routes a request may take, by the first byte of its record.
const ROUTES: [&str; 6] = ["enrol", "ping", "revocations", "approve", "decline", "list"];

const NODE_PATH: &str = "/.well-known/signpost/node";

/// What every input shares: two nodes on loopback (the one the directory follows, and one
/// that asks to be listed), the trusted issuer's key, and the bodies they sign.
struct World {
    followed: (FakeNode, NodeData),
    asking: (FakeNode, NodeData),
    stranger: DidKey,
    issuer: SigningKey,
    /// The followed node's next snapshot (seq 2), signed: a push the directory must take.
    newer: Envelope,
    now: DateTime<Utc>,
}

impl World {
    fn new() -> Self {
        let now = Utc::now();
        let groups = |n: u64| (0..2).map(|k| sample::group(n + k, 0, now)).collect();
        let start = |seed: u8, org: &str, n: u64| {
            let fake = FakeNode::start();
            let data = node_at(seed, org, &fake.url, groups(n), now).expect("a valid node");
            fake.set(served(&data));
            (fake, data)
        };
        let followed = start(41, "Followed Charity", 0);
        let asking = start(42, "Asking Charity", 10);
        let root = SigningKey::from_bytes(&[41; 32]);
        let held = &followed.1.snapshot;
        let next = Snapshot {
            seq: 2,
            prev: Some(held.digest()),
            issued_at: now + Duration::seconds(1),
            ..held.payload().clone()
        };
        let newer = Verified::sign(next, &root).expect("a valid snapshot");
        Self {
            followed,
            asking,
            stranger: DidKey::new(SigningKey::from_bytes(&[44; 32]).verifying_key()),
            issuer: SigningKey::from_bytes(&[43; 32]),
            newer: newer.envelope().to_envelope(),
            now,
        }
    }

    fn issuer_id(&self) -> DidKey {
        DidKey::new(self.issuer.verifying_key())
    }

    /// A revocation list of version `version` naming `revoked`, signed by `key`.
    fn list(&self, key: &SigningKey, version: u64, revoked: Vec<String>) -> Option<Envelope> {
        let list = RevocationList {
            issuer: self.issuer_id(),
            version,
            issued_at: self.now,
            expires_at: self.now + Duration::days(30),
            revoked,
        };
        Some(Verified::sign(list, key).ok()?.envelope().to_envelope())
    }
}

thread_local! {
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// What the directory keeps that these requests may change: every enrolment request, and
/// the issuer's list in use (its version and digest).
type Kept = (Vec<u8>, Option<(u64, EnvelopeDigest)>);

fn kept(harness: &Harness, issuer: &DidKey) -> Kept {
    let aggregator = &harness.aggregator;
    let enrolments = json(&signpost_aggregator::enrol::load(&aggregator.store));
    let revocations = aggregator.revocations();
    let list = (revocations.get(issuer))
        .and_then(|view| view.list.as_ref())
        .map(|list| (list.version, list.digest()));
    (enrolments, list)
}

fn exchange(world: &World, records: Vec<(u8, u8, Vec<u8>)>) {
    let (followed_node, followed) = &world.followed;
    let (asking_node, asking) = &world.asking;
    let harness = Harness::with(|config, dir| {
        config.nodes = vec![NodeEntry {
            url: followed_node.url.clone(),
            id: followed.id,
        }];
        config.issuers = vec![IssuerEntry {
            id: world.issuer_id(),
            name: "Fuzz Training Provider".into(),
            achievements: vec!["trauma-informed-practice".into()],
            revocations_url: "http://127.0.0.1:9/revocations".into(),
        }];
        let token = Harness::beside(dir, "token");
        config.enrolment.admin_token_file = Some(token.display().to_string());
        config.enrolment.max_pending = 1;
    });
    let token_file = harness
        .aggregator
        .config
        .enrolment
        .admin_token_file
        .clone()
        .unwrap_or_default();
    let token = std::fs::read_to_string(token_file).expect("the operator's token");
    let token = token.trim();
    let entry = NodeEntry {
        url: followed_node.url.clone(),
        id: followed.id,
    };
    asking_node.set(served(asking));
    assert!(
        harness.block_on(harness.aggregator.crawl_and_record(&entry)),
        "the followed node is crawled"
    );
    let issuer = world.issuer_id();
    // What the asking node serves at NODE_PATH: its current (only) document.
    let genuine_document = json(&asking.chain[0].envelope());
    // What the directory must have done so far.
    let mut approved = false;
    let mut asked = false;

    for (route, flags, bytes) in records {
        let route = ROUTES[usize::from(route) % ROUTES.len()];
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let ids = [asking.id, followed.id, world.stranger];
        let id = ids.get(usize::from(flags & 3)).copied();
        let id_text = id.map_or_else(|| encode_path(&bytes), |id| id.to_string());
        // The operator's token, a wrong one, none, or the fuzzer's.
        let authorization = match (flags >> 2) & 3 {
            0 => Some(format!("Bearer {token}")),
            1 => Some("Bearer not-the-operator".to_owned()),
            2 => None,
            _ => Some(text.clone()),
        };
        let operator = authorization.as_deref() == Some(&format!("Bearer {token}"));
        let mut fuzzed_document = false;
        // The request, and the answer the directory must give it when that is known.
        let (request, expected): (TestRequest, Option<StatusCode>) = match route {
            "enrol" => {
                let url = match (flags >> 2) & 3 {
                    0 => asking_node.url.clone(),
                    1 => format!("{}/", asking_node.url),
                    2 => followed_node.url.clone(),
                    _ => text.clone(),
                };
                let own_name = flags & 32 == 0;
                let request = EnrolmentRequest {
                    id: id.unwrap_or(world.stranger),
                    url,
                    name: if own_name {
                        "Asking Charity".into()
                    } else {
                        text.clone()
                    },
                    contact: None,
                };
                fuzzed_document = flags & 16 != 0;
                if fuzzed_document {
                    let mut answers = served(asking);
                    answers.retain(|(path, _)| path != NODE_PATH);
                    answers.push((NODE_PATH.to_owned(), bytes.clone()));
                    asking_node.set(answers);
                }
                let raw = flags & 64 != 0;
                let body = if raw { bytes.clone() } else { json(&request) };
                let genuine = !raw
                    && (flags & 3) == 0
                    && (flags >> 2) & 3 < 2
                    && own_name
                    && !fuzzed_document;
                let expected = if !raw && id == Some(followed.id) {
                    Some(StatusCode::UNPROCESSABLE_ENTITY)
                } else if genuine {
                    Some(if approved {
                        StatusCode::UNPROCESSABLE_ENTITY
                    } else {
                        StatusCode::ACCEPTED
                    })
                } else {
                    None
                };
                (
                    TestRequest::post().uri("/v1/enrolments").set_payload(body),
                    expected,
                )
            }
            "ping" => {
                let (body, expected) = match flags & 3 {
                    0 => (
                        json(&followed.snapshot.envelope()),
                        Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ),
                    1 => (json(&world.newer), Some(StatusCode::ACCEPTED)),
                    2 => (
                        json(&asking.snapshot.envelope()),
                        Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ),
                    _ => (bytes.clone(), None),
                };
                (
                    TestRequest::post().uri("/v1/ping").set_payload(body),
                    expected,
                )
            }
            "revocations" => {
                let version = u64::from(bytes.first().copied().unwrap_or(1));
                let serial = |b: &[u8]| format!("serial-{}", encode_hex(b));
                let listed = match flags & 3 {
                    0 => world.list(&world.issuer, version, vec![]),
                    1 => world.list(
                        &world.issuer,
                        version,
                        vec![serial(&bytes[1.min(bytes.len())..])],
                    ),
                    2 => world.list(&SigningKey::from_bytes(&[45; 32]), version, vec![]),
                    _ => None,
                };
                let body = listed.as_ref().map_or_else(|| bytes.clone(), json);
                // The issuer's own list is taken when it is no older than the one in use
                // (the same version only when it is the same list); anyone else's never.
                let expected = match (flags & 3, &listed) {
                    (0 | 1, Some(list)) => {
                        let digest = list.digest().ok();
                        let taken = match kept(&harness, &issuer).1 {
                            None => true,
                            Some((held, held_digest)) => {
                                version > held || (version == held && digest == Some(held_digest))
                            }
                        };
                        Some(if taken {
                            StatusCode::ACCEPTED
                        } else {
                            StatusCode::UNPROCESSABLE_ENTITY
                        })
                    }
                    (0 | 1, None) => None,
                    (2, Some(_)) => Some(StatusCode::UNPROCESSABLE_ENTITY),
                    _ => None,
                };
                (
                    TestRequest::post().uri("/v1/revocations").set_payload(body),
                    expected,
                )
            }
            "approve" | "decline" => {
                // A path made of the fuzzer's bytes may name no route at all (404).
                let expected = if id.is_none() {
                    None
                } else if !operator {
                    ((flags >> 2) & 3 != 3).then_some(StatusCode::UNAUTHORIZED)
                } else if id == Some(asking.id) {
                    Some(if asked {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    })
                } else {
                    Some(StatusCode::NOT_FOUND)
                };
                let uri = format!("/admin/enrolments/{id_text}/{route}");
                (TestRequest::post().uri(&uri), expected)
            }
            _ => {
                let expected = if operator {
                    Some(StatusCode::OK)
                } else {
                    ((flags >> 2) & 3 != 3).then_some(StatusCode::UNAUTHORIZED)
                };
                (TestRequest::get().uri("/admin/enrolments"), expected)
            }
        };
        let mut request = request.insert_header((header::CONTENT_TYPE, "application/json"));
        if let Some(value) =
            authorization.filter(|_| matches!(route, "approve" | "decline" | "list"))
        {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                request = request.insert_header((header::AUTHORIZATION, value));
            }
        }
        let sent = format!(
            "{route} [{flags:08b}] {}",
            &text[..text.floor_char_boundary(60)]
        );
        let before = kept(&harness, &issuer);
        let (status, body) = harness.send(request);
        if fuzzed_document {
            asking_node.set(served(asking));
        }
        let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        if debug() {
            eprintln!("{sent}: {status} {shown}");
        }
        // A directory with as many requests waiting as it keeps says so (503), to anyone
        // but a node already waiting; nothing else is the server's failure.
        let full = route == "enrol"
            && status == StatusCode::SERVICE_UNAVAILABLE
            && shown.contains("too_many_enrolments");
        assert!(
            !status.is_server_error() || full,
            "{sent}: {status}: {shown}"
        );
        if let Some(expected) = expected {
            assert_eq!(status, expected, "{sent}: {shown}");
        }
        let after = kept(&harness, &issuer);
        if !status.is_success() {
            assert_eq!(
                before, after,
                "{sent} was refused ({status}) but changed what is kept"
            );
        }
        match route {
            "enrol" if status.is_success() => {
                // Only the asking node's own document, at its address, gets a request kept.
                assert!(
                    !fuzzed_document || bytes == genuine_document,
                    "{sent}: taken with a document the node did not sign"
                );
                assert!(!approved, "{sent}: a listed node asked again and was taken");
                asked = true;
            }
            "approve" if status.is_success() => {
                assert!(operator, "{sent}: approved without the operator's token");
                approved = true;
                // Crawled, as the running crawler would: served from now on.
                let asking_entry = NodeEntry {
                    url: asking_node.url.clone(),
                    id: asking.id,
                };
                assert!(
                    harness.block_on(harness.aggregator.crawl_and_record(&asking_entry)),
                    "{sent}: the approved node is crawled"
                );
            }
            "decline" if status.is_success() => {
                assert!(operator, "{sent}: declined without the operator's token");
                approved = false;
            }
            "revocations" if after != before => {
                assert!(
                    flags & 3 != 2,
                    "{sent}: a list put in use that its issuer did not sign"
                );
                let (old, new) = (before.1.map(|l| l.0), after.1.map(|l| l.0));
                assert!(
                    new >= old,
                    "{sent}: an older list put in use ({old:?} to {new:?})"
                );
            }
            _ => {}
        }
        // Every kept request is the asking node's: nobody else can prove an id here.
        let enrolments = signpost_aggregator::enrol::load(&harness.aggregator.store);
        assert!(
            enrolments.iter().all(|e| e.id == asking.id),
            "{sent}: a request kept for a node whose document was not checked"
        );
        // What is trusted now is what a restart would trust (the configured node, and the
        // approved requests), and what the operator approved.
        for id in ids {
            let after_restart = id == followed.id
                || enrolments
                    .iter()
                    .any(|e| e.id == id && e.status == EnrolmentStatus::Approved);
            assert_eq!(
                harness.aggregator.is_trusted(&id),
                after_restart,
                "{sent}: {id} trusted now and after a restart differ"
            );
        }
        assert_eq!(
            harness.aggregator.is_trusted(&asking.id),
            approved,
            "{sent}: the asking node's trust is not the operator's decision"
        );
        // Served while approved (it is crawled on approval), and from the moment an
        // approval is withdrawn, not at all.
        assert_eq!(
            harness.aggregator.held(&asking.id).is_some(),
            approved,
            "{sent}: the asking node is served {} its approval",
            if approved {
                "without"
            } else {
                "after withdrawing"
            }
        );
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().take(24).map(|b| format!("{b:02x}")).collect()
}

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    let records = records(input, 10);
    if records.is_empty() {
        return;
    }
    WORLD.with(|cell| {
        let mut cell = cell.borrow_mut();
        let world = cell.get_or_insert_with(World::new);
        exchange(world, records);
    });
}

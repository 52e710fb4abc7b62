//! Whatever bytes a node answers where a crawler reads its document, its bundle, or (once
//! the aggregator holds it) its snapshot, crawled over HTTP by a real aggregator: the first
//! byte of the input picks the path, the rest is the answer; every other path answers what
//! the node signed. Fails on a panic, on any 5xx answer afterwards, and on anything held
//! that the node did not sign (checked from what the aggregator serves, by code of its own).
use std::cell::RefCell;

use crate::{debug, node, served, FakeNode, Harness};
use chrono::{DateTime, Datelike, Days, NaiveTime, Utc};
use signpost_aggregator::config::NodeEntry;
use signpost_aggregator::verify::NodeData;
use signpost_protocol::sample;

const SEED: u8 = 11;
const PATHS: [&str; 3] = ["/.well-known/signpost/node", "/v1/bundle", "/v1/snapshot"];

struct State {
    harness: Harness,
    node: FakeNode,
    /// What the node signed.
    data: NodeData,
}

impl State {
    /// A fresh aggregator (holding nothing) and a node that signed three groups at the start
    /// of this week (Monday, midnight UTC), under the key the seeds were signed with: seeds
    /// written this week are its genuine answers, byte for byte.
    fn new(node_server: Option<FakeNode>) -> Self {
        let now = week_start(Utc::now());
        let groups = (0..3).map(|n| sample::group(n, 0, now)).collect();
        let data = node(SEED, "Calderdale Welcome Hub", groups, now).expect("a valid node");
        Self {
            harness: Harness::new(),
            node: node_server.unwrap_or_else(FakeNode::start),
            data,
        }
    }

    fn entry(&self) -> NodeEntry {
        NodeEntry {
            url: self.node.url.clone(),
            id: self.data.id,
        }
    }

    fn crawl(&self, answers: Vec<(String, Vec<u8>)>) -> bool {
        self.node.set(answers);
        let entry = self.entry();
        let aggregator = &self.harness.aggregator;
        self.harness.block_on(aggregator.crawl_and_record(&entry))
    }

    /// Everything held of the node is what it signed, checked here from the envelopes the
    /// aggregator serves, without its code: each payload decoded from its base64 is the one
    /// held, and a signature over its DSSE encoding verifies under the node's key.
    fn check_held(&self) {
        let Some(held) = self.harness.aggregator.held(&self.data.id) else {
            return;
        };
        let envelopes = (held.chain.iter().map(|d| (d.envelope(), d.payload_bytes())))
            .chain([(held.snapshot.envelope(), held.snapshot.payload_bytes())])
            .chain(
                held.listings
                    .values()
                    .map(|l| (l.envelope(), l.payload_bytes())),
            );
        let key = self.data.id.key();
        for (envelope, payload) in envelopes {
            let envelope = envelope.to_envelope();
            let decoded = base64_any(&envelope.payload).expect("a held payload is base64");
            assert_eq!(
                &decoded[..],
                &payload[..],
                "the payload held is the one served"
            );
            let message = [
                format!(
                    "DSSEv1 {} {} {} ",
                    envelope.payload_type.len(),
                    envelope.payload_type,
                    decoded.len()
                )
                .as_bytes(),
                &decoded,
            ]
            .concat();
            let signed = envelope.signatures.iter().any(|s| {
                base64_any(&s.sig)
                    .and_then(|sig| ed25519_dalek::Signature::from_slice(&sig).ok())
                    .is_some_and(|sig| key.verify_strict(&message, &sig).is_ok())
            });
            assert!(
                signed,
                "held but not signed by the node: {}",
                String::from_utf8_lossy(&decoded)
            );
        }
        assert_eq!(held.listings.len(), held.snapshot.listings.len());
    }
}

/// Monday of `now`'s week, at midnight UTC: a node signing then is current all week (its
/// snapshot and listings for seven days).
fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let monday = now.date_naive() - Days::new(u64::from(now.weekday().num_days_from_monday()));
    monday.and_time(NaiveTime::MIN).and_utc()
}

/// Base64 in either alphabet, padded or not, as the protocol accepts it.
fn base64_any(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, Engine as _, GeneralPurpose};
    let indifferent = general_purpose::GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [&base64::alphabet::STANDARD, &base64::alphabet::URL_SAFE]
        .into_iter()
        .find_map(|alphabet| GeneralPurpose::new(alphabet, indifferent).decode(text).ok())
}

/// With `FUZZ_SEEDS` naming a directory: the node's genuine answer for each path, as an
/// input, written there once (the seeds in `seeds/crawl`). Written in another week, they
/// are another week's answers, refused as not matching (or expired) by the node of this
/// one, which the target allows; written this week, they are taken.
fn write_seeds(state: &State) {
    let Some(dir) = std::env::var_os("FUZZ_SEEDS") else {
        return;
    };
    let answers = served(&state.data);
    for (pick, path) in PATHS.iter().enumerate() {
        if let Some((_, bytes)) = answers.iter().find(|(p, _)| p == path) {
            let name = path.trim_start_matches('/').replace(['/', '.'], "-");
            let input = [&[pick as u8][..], bytes].concat();
            let _ = std::fs::write(std::path::Path::new(&dir).join(name), input);
        }
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    let Some((&pick, answer)) = input.split_first() else {
        return;
    };
    let path = PATHS[usize::from(pick) % PATHS.len()];
    STATE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let mut state = cell.take().unwrap_or_else(|| {
            let state = State::new(None);
            write_seeds(&state);
            state
        });
        let held = state.harness.aggregator.held(&state.data.id).is_some();
        if path == "/v1/snapshot" {
            // A held node is crawled from its snapshot: the genuine publication first.
            if !held {
                assert!(
                    state.crawl(served(&state.data)),
                    "the genuine node is taken"
                );
            }
        } else if held {
            // A node not held is crawled from its document and bundle: a fresh aggregator.
            let node = state.node;
            drop(state.harness);
            state = State::new(Some(node));
        }
        let mut answers = served(&state.data);
        if let Some((_, bytes)) = answers.iter_mut().find(|(p, _)| p == path) {
            *bytes = answer.to_vec();
        }
        let taken = state.crawl(answers);
        if debug() {
            let held = state.harness.aggregator.held(&state.data.id).is_some();
            eprintln!("{path}: taken {taken}, held {held}");
        }
        state.check_held();
        let uris = ["/v1/nodes", "/v1/groups", "/audit", "/find"];
        state
            .harness
            .get_all(uris.map(str::to_owned).into(), |_, _, _| vec![]);
        *cell = Some(state);
    });
}

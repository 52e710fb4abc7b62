//! A listing any node may sign (its group as JSON; its organisation's name on a first line,
//! when there is one), installed in a real aggregator and read through every surface that
//! shows it: the API, the finder's and the regulator's pages, FHIR R4 and Open Referral UK,
//! following every id their lists give. Fails on a panic or on any 5xx answer.
use std::cell::OnceCell;

use crate::{debug, listing_id, node, Harness};
use chrono::Utc;
use signpost_protocol::model::Group;

const SEED: u8 = 7;

thread_local! {
    static HARNESS: OnceCell<Harness> = const { OnceCell::new() };
}

/// The input's bytes as they go into a URI.
fn escaped(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    let (org, json) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&input[..i]).into_owned(),
            &input[i + 1..],
        ),
        None => ("Leeds Conversation Club".to_owned(), input),
    };
    let group = match signpost_protocol::wire::json_from_slice::<Group>(json) {
        Ok(group) => group,
        Err(e) => {
            if debug() {
                eprintln!("not a group: {e}");
            }
            return;
        }
    };
    let words: Vec<String> = (group.name.split_whitespace().take(2))
        .map(escaped)
        .collect();
    let place = group.location.as_ref().map(|l| (l.lat, l.lon));
    let Some(data) = node(SEED, &org, vec![group], Utc::now()) else {
        if debug() {
            eprintln!("not a valid listing");
        }
        return;
    };
    let one = format!("{}/{}", data.id, listing_id(SEED, 0));
    let mut uris: Vec<String> = [
        "/v1/groups",
        "/v1/nodes",
        "/find",
        "/audit",
        "/audit.csv",
        "/fhir/R4/HealthcareService",
        "/fhir/R4/Location",
        "/fhir/R4/Organization",
        "/oruk/services",
        "/oruk/service_at_locations",
    ]
    .map(str::to_owned)
    .into();
    uris.extend(["/v1/groups/", "/find/group/", "/find/card/"].map(|p| format!("{p}{one}")));
    if !words.is_empty() {
        let text = words.join("+");
        uris.push(format!("/v1/groups?text={text}"));
        uris.push(format!("/find?text={text}"));
        uris.push(format!("/fhir/R4/HealthcareService?name={text}"));
        uris.push(format!("/oruk/services?text={text}"));
    }
    if let Some((lat, lon)) = place {
        uris.push(format!("/v1/groups?near={lat},{lon}&radius_km=1"));
        uris.push(format!("/find?near={lat},{lon}&radius_km=1"));
    }
    HARNESS.with(|h| {
        let harness = h.get_or_init(Harness::new);
        harness.aggregator.install(data).expect("installs");
        harness.get_all(uris, |uri, status, body| {
            const LISTS: [&str; 2] = ["/fhir/R4/HealthcareService", "/oruk/services"];
            // Every resource a list names can be read on its own.
            if LISTS.iter().any(|l| uri.starts_with(&format!("{l}/"))) {
                assert!(status.is_success(), "{uri}: {status}");
                return vec![];
            }
            let Some(list) = LISTS.into_iter().find(|l| uri.starts_with(l)) else {
                return vec![];
            };
            if !status.is_success() {
                return vec![];
            }
            let v: serde_json::Value = serde_json::from_slice(body).expect("a JSON answer");
            let fhir = v["entry"].as_array().into_iter().flatten();
            let oruk = v["contents"].as_array().into_iter().flatten();
            (fhir.map(|e| &e["resource"]).chain(oruk))
                .filter_map(|r| r["id"].as_str())
                .map(|id| format!("{list}/{id}"))
                .collect()
        });
    });
}

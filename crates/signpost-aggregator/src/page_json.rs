//! `GET /v1/groups` pages and `GET /v1/groups/{node}/{id}` provenance written straight into
//! the response buffer. The JSON is the same, byte for byte, as serde writes for
//! [`GroupsPageView`] and [`ProvenanceView`] (tests compare them), but each
//! listing's payload bytes are copied as they are and each envelope's base64 payload is
//! encoded straight into the buffer (SIMD, about 0.2 µs a listing) without the escaping
//! serde does character by character (which was the largest single cost of a query: on a
//! page of twenty results the payloads are about half of the ~90 KB).

use chrono::{DateTime, Utc};
use serde::Serialize;
use signpost_protocol::model::Attestation;
use signpost_protocol::policy::{AttestationStatus, Check};
use signpost_protocol::wire::ProvenanceCheck;
use signpost_protocol::{DidKey, EnvelopeRef};

use crate::index::{GroupView, GroupsPageView, ProvenancePath};

/// A group with its provenance, borrowed from the index: the shape of
/// [`signpost_protocol::wire::Provenance`] (a test checks that one reads the other).
#[derive(Serialize)]
pub struct ProvenanceView<'a> {
    pub group: GroupView<'a>,
    pub node_documents: Vec<EnvelopeRef<'a>>,
    pub snapshot: EnvelopeRef<'a>,
    pub listing: EnvelopeRef<'a>,
    pub attestations: Vec<AttestationView<'a>>,
    pub checks: Vec<ProvenanceCheck>,
}

/// [`signpost_protocol::wire::AttestationReport`], borrowed.
#[derive(Serialize)]
pub struct AttestationView<'a> {
    pub attestation: &'a Attestation,
    pub status: AttestationStatus,
    pub checks: Vec<Check>,
    pub envelope: EnvelopeRef<'a>,
}

/// A feed item as served, borrowing the held envelopes: the shape of
/// [`signpost_protocol::wire::FeedItem`] (a test checks that one reads the other).
#[derive(Serialize)]
pub struct FeedItemView<'a> {
    pub position: u64,
    pub node: &'a DidKey,
    pub node_documents: Vec<EnvelopeRef<'a>>,
    pub snapshot: EnvelopeRef<'a>,
    pub listings: Vec<EnvelopeRef<'a>>,
    pub attestations: Vec<EnvelopeRef<'a>>,
}

/// Why a page could not be written (a value serde refuses; never expected).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(String);

fn json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> Result<(), WriteError> {
    serde_json::to_writer(out, value).map_err(|e| WriteError(e.to_string()))
}

/// Appends `page` as JSON to `out`.
pub fn write_page(out: &mut Vec<u8>, page: &GroupsPageView<'_>) -> Result<(), WriteError> {
    // The pagination fields are flattened into the page object.
    let start = out.len();
    json(out, &page.pagination)?;
    if out.last() != Some(&b'}') || out.len() - start < 2 {
        return Err(WriteError("pagination is not a JSON object".into()));
    }
    out.pop();
    if let Some(centre) = &page.centre {
        out.extend_from_slice(b",\"centre\":");
        json(out, centre)?;
    }
    out.extend_from_slice(b",\"contents\":");
    array(out, &page.contents, write_group)?;
    out.push(b'}');
    Ok(())
}

/// Appends `item` as JSON to `out`, as serde writes it but with each envelope's payload
/// encoded straight into the buffer (serde wrote an envelope of a feed page in 0.85 us, its
/// base64 0.2 us of that: a mirror's primary writes every listing it holds this way).
pub fn write_feed_item(out: &mut Vec<u8>, item: &FeedItemView<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"position\":");
    json(out, &item.position)?;
    field(out, "node", item.node)?;
    out.extend_from_slice(b",\"node_documents\":");
    array(out, &item.node_documents, write_envelope)?;
    out.extend_from_slice(b",\"snapshot\":");
    write_envelope(out, &item.snapshot)?;
    out.extend_from_slice(b",\"listings\":");
    array(out, &item.listings, write_envelope)?;
    out.extend_from_slice(b",\"attestations\":");
    array(out, &item.attestations, write_envelope)?;
    out.push(b'}');
    Ok(())
}

/// Appends `items` as a JSON array, each written by `write`.
fn array<'t, T: 't>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = &'t T>,
    mut write: impl FnMut(&mut Vec<u8>, &'t T) -> Result<(), WriteError>,
) -> Result<(), WriteError> {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item)?;
    }
    out.push(b']');
    Ok(())
}

/// Whether JSON takes `s` as it is between quotes: no quote, backslash or control character
/// (all that serde escapes). Folded over each chunk without stopping early, so it vectorises.
fn plain(s: &str) -> bool {
    s.as_bytes().chunks(64).all(|chunk| {
        chunk
            .iter()
            .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
    })
}

/// Appends `s` as a JSON string: copied as it is when plain (ids, keys, signatures, paths:
/// escaping them character by character was as costly as a near query's search), else
/// escaped by serde.
fn string(out: &mut Vec<u8>, s: &str) -> Result<(), WriteError> {
    if plain(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        json(out, s)
    }
}

/// Appends `,"name":` and the string `value`.
fn string_field(out: &mut Vec<u8>, name: &str, value: &str) -> Result<(), WriteError> {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    string(out, value)
}

/// Appends `,"name":` and `value` as JSON.
fn field(
    out: &mut Vec<u8>,
    name: &str,
    value: &(impl Serialize + ?Sized),
) -> Result<(), WriteError> {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    json(out, value)
}

/// Appends `,"name":` and `id` as serde writes a `Uuid` (hyphenated, lower case: nothing in
/// it to escape, so it is not scanned for escapes as serde's string writer does).
fn uuid_field(out: &mut Vec<u8>, name: &str, id: uuid::Uuid) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":\"");
    uuid_text(out, id);
    out.push(b'"');
}

/// Appends `id` hyphenated and in lower case, as its `Display` writes it.
fn uuid_text(out: &mut Vec<u8>, id: uuid::Uuid) {
    out.extend_from_slice(
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .as_bytes(),
    );
}

/// Appends `,"provenance":` and the path, as serde writes its `Display`.
fn provenance(out: &mut Vec<u8>, path: &ProvenancePath<'_>) -> Result<(), WriteError> {
    if !plain(path.node) {
        return field(out, "provenance", path);
    }
    out.extend_from_slice(b",\"provenance\":\"/v1/groups/");
    out.extend_from_slice(path.node.as_bytes());
    out.push(b'/');
    uuid_text(out, path.id);
    out.push(b'"');
    Ok(())
}

/// Appends `p` as JSON to `out`. Serde wrote it at about half the rate of the same bytes
/// pre-built: each check's time formatted anew (the checks share one), each envelope's
/// payload checked as a raw JSON value, the listing escaped character by character.
pub fn write_provenance(out: &mut Vec<u8>, p: &ProvenanceView<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"group\":");
    write_group(out, &p.group)?;
    out.extend_from_slice(b",\"node_documents\":");
    array(out, &p.node_documents, write_envelope)?;
    out.extend_from_slice(b",\"snapshot\":");
    write_envelope(out, &p.snapshot)?;
    out.extend_from_slice(b",\"listing\":");
    write_envelope(out, &p.listing)?;
    out.extend_from_slice(b",\"attestations\":");
    array(out, &p.attestations, |out, a| {
        out.extend_from_slice(b"{\"attestation\":");
        json(out, a.attestation)?;
        field(out, "status", &a.status)?;
        field(out, "checks", &a.checks)?;
        out.extend_from_slice(b",\"envelope\":");
        write_envelope(out, &a.envelope)?;
        out.push(b'}');
        Ok(())
    })?;
    out.extend_from_slice(b",\"checks\":");
    // The last time written, as JSON: checks computed together share it.
    let mut time: Option<(DateTime<Utc>, Vec<u8>)> = None;
    array(out, &p.checks, |out, c| {
        out.extend_from_slice(b"{\"check\":");
        string(out, &c.check)?;
        out.extend_from_slice(if c.ok {
            b",\"ok\":true"
        } else {
            b",\"ok\":false"
        });
        if let Some(reason) = &c.reason {
            string_field(out, "reason", reason)?;
        }
        if let Some(at) = c.checked_at {
            out.extend_from_slice(b",\"checked_at\":");
            match &time {
                Some((t, text)) if *t == at => out.extend_from_slice(text),
                _ => {
                    let start = out.len();
                    json(out, &at)?;
                    time = Some((at, out[start..].to_vec()));
                }
            }
        }
        out.push(b'}');
        Ok(())
    })?;
    out.push(b'}');
    Ok(())
}

/// An envelope as serde writes [`EnvelopeRef`]: the payload's base64 encoded straight into
/// the buffer (it never needs escaping).
fn write_envelope(out: &mut Vec<u8>, envelope: &EnvelopeRef<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"payload\":\"");
    envelope.write_payload_text(out);
    out.push(b'"');
    string_field(out, "payloadType", envelope.payload_type)?;
    out.extend_from_slice(b",\"signatures\":");
    array(out, envelope.signatures, |out, sig| {
        // As serde writes `EnvelopeSignature`: `keyid` left out when empty.
        out.push(b'{');
        if !sig.keyid.is_empty() {
            out.extend_from_slice(b"\"keyid\":");
            string(out, &sig.keyid)?;
            out.push(b',');
        }
        out.extend_from_slice(b"\"sig\":");
        string(out, &sig.sig)?;
        out.push(b'}');
        Ok(())
    })?;
    out.push(b'}');
    Ok(())
}

/// One result, in [`GroupView`]'s field order.
fn write_group(out: &mut Vec<u8>, g: &GroupView<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"node\":");
    string(out, g.node)?;
    string_field(out, "node_name", g.node_name)?;
    uuid_field(out, "id", g.id);
    if let Some(d) = g.distance_km {
        field(out, "distance_km", &d)?;
    }
    field(out, "capacity_status", &g.capacity_status)?;
    out.extend_from_slice(b",\"verified_training\":");
    array(out, g.verified_training.iter(), |out, a| string(out, a))?;
    provenance(out, &g.provenance)?;
    out.extend_from_slice(b",\"listing\":");
    out.extend_from_slice(g.listing.0);
    if let Some(envelope) = &g.envelope {
        out.extend_from_slice(b",\"envelope\":");
        write_envelope(out, envelope)?;
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::PayloadJson;
    use chrono::Utc;
    use signpost_protocol::model::Listing;
    use signpost_protocol::wire::{CapacityStatus, Pagination, SearchCentre};
    use signpost_protocol::{keys, sample, DidKey, Verified};

    fn signed(seed: u64) -> Verified<Listing> {
        let key = keys::generate();
        let now = Utc::now();
        let listing = sample::listing(
            DidKey::from(key.verifying_key()),
            uuid::Uuid::from_u128(u128::from(seed)),
            sample::group(seed, 0, now),
            now,
        );
        let signed = Verified::sign(listing, &key).expect("a sample listing signs");
        if seed % 3 != 0 {
            return signed;
        }
        // A signature without its key hint (`keyid` is optional, and left out when empty).
        let mut envelope = signed.envelope().to_envelope();
        for s in &mut envelope.signatures {
            s.keyid.clear();
        }
        Verified::verify(envelope, &[key.verifying_key()]).expect("verifies without a hint")
    }

    #[test]
    fn strings_are_copied_only_when_serde_would_not_escape_them() {
        let long = "z6Mk".repeat(40);
        for s in [
            "",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "/v1/groups/did:key:z6Mk/8c1f6e3a-0b7e-4c52-9d4e-2f1a3b4c5d6e",
            "Café Conversation, Leeds — حلقة نقاش",
            "a \"quoted\" name",
            "back\\slash",
            "line\nbreak",
            "\u{1f}unit separator",
            "\u{7f} delete is not escaped",
            &format!("{long}\""),
            &format!("{long}\u{0}{long}"),
        ] {
            let mut written = Vec::new();
            string(&mut written, s).unwrap();
            assert_eq!(written, serde_json::to_vec(s).unwrap(), "{s:?}");
            let escaped = s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
            assert_eq!(plain(s), !escaped, "{s:?}");
        }
    }

    #[test]
    fn a_provenance_path_is_what_serde_writes() {
        let id = uuid::Uuid::from_u128(0x8c1f_6e3a_0b7e_4c52_9d4e_2f1a_3b4c_5d6e);
        for node in [
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "a \"quoted\" node",
            "",
        ] {
            let path = ProvenancePath { node, id };
            let mut written = Vec::new();
            provenance(&mut written, &path).unwrap();
            let mut serde = b",\"provenance\":".to_vec();
            serde.extend(serde_json::to_vec(&path).unwrap());
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
        let path = ProvenancePath {
            node: "did:key:z6Mk",
            id,
        };
        assert_eq!(
            path.to_string(),
            "/v1/groups/did:key:z6Mk/8c1f6e3a-0b7e-4c52-9d4e-2f1a3b4c5d6e"
        );
    }

    #[test]
    fn a_written_page_is_what_serde_writes() {
        let listings: Vec<_> = (1..=3).map(signed).collect();
        let node = listings[0].payload().node.to_string();
        let view = |i: usize,
                    l: &'static Verified<Listing>,
                    distance: Option<f64>,
                    envelope: bool| GroupView {
            node: Box::leak(node.clone().into_boxed_str()),
            node_name: "Leeds \"Welcome\" Café\n",
            id: l.payload().id,
            distance_km: distance,
            capacity_status: [
                CapacityStatus::Accepting,
                CapacityStatus::NotAccepting,
                CapacityStatus::Unknown,
            ][i % 3],
            verified_training: vec!["trauma-informed-practice".into()].into(),
            provenance: ProvenancePath {
                node: Box::leak(node.clone().into_boxed_str()),
                id: l.payload().id,
            },
            listing: PayloadJson(Box::leak(
                l.envelope().payload_bytes().to_vec().into_boxed_slice(),
            )),
            envelope: envelope.then(|| l.envelope()),
        };
        let listings: &'static [Verified<Listing>] = Box::leak(listings.into_boxed_slice());
        for (centre, distance) in [
            (None, None),
            (
                Some(SearchCentre {
                    lat: 53.8144,
                    lon: -1.515,
                    precision: "sector".into(),
                    postcode: "LS8 5AB".into(),
                }),
                Some(1.25),
            ),
        ] {
            for envelope in [true, false] {
                let page = GroupsPageView {
                    pagination: Pagination::new(41, 2, 20, 3),
                    centre: centre.clone(),
                    contents: listings
                        .iter()
                        .enumerate()
                        .map(|(i, l)| view(i, l, distance, envelope))
                        .collect(),
                };
                let mut written = Vec::new();
                write_page(&mut written, &page).unwrap();
                let serde = serde_json::to_vec(&page).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(serde).unwrap()
                );
            }
        }
        let empty = GroupsPageView {
            pagination: Pagination::new(0, 1, 20, 0),
            centre: None,
            contents: vec![],
        };
        let mut written = Vec::new();
        write_page(&mut written, &empty).unwrap();
        assert_eq!(written, serde_json::to_vec(&empty).unwrap());
    }

    #[test]
    fn a_written_feed_item_is_what_serde_writes_and_reads_as_a_feed_item() {
        let signed: Vec<_> = (1..=4).map(signed).collect();
        let envelopes: Vec<_> = signed.iter().map(|l| l.envelope()).collect();
        let node = signed[0].payload().node;
        for (documents, attestations) in [(1, 0), (2, 1), (1, 2)] {
            let item = FeedItemView {
                position: 1 << 40,
                node: &node,
                node_documents: envelopes[..documents].to_vec(),
                snapshot: envelopes[3],
                listings: envelopes.clone(),
                attestations: envelopes[1..1 + attestations].to_vec(),
            };
            let mut written = Vec::new();
            write_feed_item(&mut written, &item).unwrap();
            assert_eq!(
                String::from_utf8(written.clone()).unwrap(),
                String::from_utf8(serde_json::to_vec(&item).unwrap()).unwrap()
            );
            let read: signpost_protocol::wire::FeedItem = serde_json::from_slice(&written).unwrap();
            assert_eq!(read.position, 1 << 40);
            assert_eq!(read.node, node);
            assert_eq!(read.listings.len(), 4);
            assert_eq!(read.listings[2], signed[2].envelope().to_envelope());
            assert_eq!(read.node_documents.len(), documents);
            assert_eq!(read.attestations.len(), attestations);
        }
    }

    #[test]
    fn a_written_provenance_is_what_serde_writes_and_reads_as_provenance() {
        use signpost_protocol::model::Attestation;
        use signpost_protocol::policy::{AttestationStatus, Check};
        use signpost_protocol::wire::{Provenance, ProvenanceCheck};
        use std::borrow::Cow;

        let listings: &'static [Verified<Listing>] =
            Box::leak((1..=3).map(signed).collect::<Vec<_>>().into_boxed_slice());
        let node = listings[0].payload().node.to_string();
        let issuer = keys::generate();
        let now = Utc::now();
        let attestation: &'static Verified<Attestation> = Box::leak(Box::new(
            Verified::sign(
                Attestation {
                    // A level with quotes, for the writer's escaping.
                    level: Some("Level \"2\"".into()),
                    ..sample::training_attestation(
                        DidKey::from(issuer.verifying_key()),
                        listings[0].payload().node,
                        "page-json-1",
                        now,
                    )
                },
                &issuer,
            )
            .expect("signs"),
        ));
        let group = |envelope: bool| GroupView {
            node: Box::leak(node.clone().into_boxed_str()),
            node_name: "Leeds \"Welcome\" Café\n",
            id: listings[0].payload().id,
            distance_km: None,
            capacity_status: CapacityStatus::Accepting,
            verified_training: vec!["trauma-informed-practice".into()].into(),
            provenance: ProvenancePath {
                node: Box::leak(node.clone().into_boxed_str()),
                id: listings[0].payload().id,
            },
            listing: PayloadJson(listings[0].payload_bytes()),
            envelope: envelope.then(|| listings[0].envelope()),
        };
        let later = now + chrono::Duration::seconds(1);
        let checks = vec![
            ProvenanceCheck {
                check: Cow::Borrowed("node_chain"),
                ok: true,
                reason: None,
                checked_at: Some(now),
            },
            ProvenanceCheck {
                check: Cow::Borrowed("listing_fresh"),
                ok: false,
                reason: Some("expired at \"then\"\n".into()),
                checked_at: Some(now),
            },
            ProvenanceCheck {
                check: Cow::Borrowed("capacity_fresh"),
                ok: true,
                reason: None,
                checked_at: Some(later),
            },
            ProvenanceCheck {
                check: Cow::Owned("snapshot_fresh".into()),
                ok: true,
                reason: None,
                checked_at: None,
            },
            ProvenanceCheck {
                check: Cow::Borrowed("listing_signature"),
                ok: true,
                reason: None,
                checked_at: Some(now),
            },
        ];
        for (attested, envelope) in [(true, true), (false, false)] {
            let view = ProvenanceView {
                group: group(envelope),
                node_documents: listings.iter().map(|l| l.envelope()).collect(),
                snapshot: listings[1].envelope(),
                listing: listings[0].envelope(),
                attestations: if attested {
                    vec![
                        AttestationView {
                            attestation: attestation.payload(),
                            status: AttestationStatus::Verified,
                            checks: vec![],
                            envelope: attestation.envelope(),
                        },
                        AttestationView {
                            attestation: attestation.payload(),
                            status: AttestationStatus::Revoked,
                            checks: vec![Check {
                                check: Cow::Borrowed("revocation"),
                                ok: false,
                                reason: Some("revoked \"for cause\"".into()),
                            }],
                            envelope: attestation.envelope(),
                        },
                    ]
                } else {
                    vec![]
                },
                checks: checks.clone(),
            };
            let mut written = Vec::new();
            write_provenance(&mut written, &view).unwrap();
            let serde = serde_json::to_vec(&view).unwrap();
            assert_eq!(
                String::from_utf8(written.clone()).unwrap(),
                String::from_utf8(serde).unwrap()
            );
            let read: Provenance = serde_json::from_slice(&written).expect("reads as Provenance");
            assert_eq!(read.checks.len(), checks.len());
            assert_eq!(read.checks[2].checked_at, Some(later));
            assert_eq!(read.node_documents.len(), 3);
            assert_eq!(read.attestations.len(), if attested { 2 } else { 0 });
            assert_eq!(read.listing, listings[0].envelope().to_envelope());
        }
    }
}

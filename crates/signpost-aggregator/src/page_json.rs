//! `GET /v1/groups` pages written straight into the response buffer. The JSON is the same,
//! byte for byte, as serde writes for [`GroupsPageView`] (a test compares them), but each
//! listing's payload bytes are copied as they are and each envelope's base64 payload is
//! encoded straight into the buffer (SIMD, about 0.2 µs a listing) without the escaping
//! serde does character by character (which was the largest single cost of a query: on a
//! page of twenty results the payloads are about half of the ~90 KB).

use serde::Serialize;

use crate::index::{GroupView, GroupsPageView, ProvenancePath};

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

/// Appends `,"provenance":` and the path, as serde writes its `Display`.
fn provenance(out: &mut Vec<u8>, path: &ProvenancePath<'_>) -> Result<(), WriteError> {
    if !plain(path.node) {
        return field(out, "provenance", path);
    }
    out.extend_from_slice(b",\"provenance\":\"/v1/groups/");
    out.extend_from_slice(path.node.as_bytes());
    out.push(b'/');
    out.extend_from_slice(
        path.id
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .as_bytes(),
    );
    out.push(b'"');
    Ok(())
}

/// One result, in [`GroupView`]'s field order.
fn write_group(out: &mut Vec<u8>, g: &GroupView<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"node\":");
    string(out, g.node)?;
    string_field(out, "node_name", g.node_name)?;
    field(out, "id", &g.id)?;
    if let Some(d) = g.distance_km {
        field(out, "distance_km", &d)?;
    }
    field(out, "capacity_status", &g.capacity_status)?;
    out.extend_from_slice(b",\"verified_training\":");
    array(out, g.verified_training.iter(), |out, a| string(out, a))?;
    provenance(out, &g.provenance)?;
    out.extend_from_slice(b",\"listing\":");
    out.extend_from_slice(g.listing.0);
    if let Some(envelope) = g.envelope {
        out.extend_from_slice(b",\"envelope\":{\"payload\":\"");
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
        let listing = Listing {
            node: DidKey::from(key.verifying_key()),
            id: uuid::Uuid::from_u128(u128::from(seed)),
            version: 1,
            issued_at: now,
            expires_at: now + chrono::Duration::days(7),
            group: sample::group(seed, 0, now),
        };
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
}

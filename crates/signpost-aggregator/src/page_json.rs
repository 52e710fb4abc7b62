//! `GET /v1/groups` pages written straight into the response buffer. The JSON is the same,
//! byte for byte, as serde writes for [`GroupsPageView`] (a test compares them), but each
//! listing's payload bytes are copied as they are and each envelope's base64 payload is
//! copied without escaping, which serde does character by
//! character (it was the largest single cost of a query: on a page of twenty results the
//! payloads are about half of the ~90 KB).

use serde::Serialize;

use crate::index::{GroupView, GroupsPageView};

/// Why a page could not be written (a value serde refuses; never expected).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(String);

fn json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> Result<(), WriteError> {
    serde_json::to_writer(out, value).map_err(|e| WriteError(e.to_string()))
}

/// Base64 (standard or URL-safe) needs no escaping in a JSON string. Checked 64 bytes at a
/// time with no early exit inside a chunk, so the comparisons vectorise: a byte-by-byte
/// `all` was about a fifth of a near query's server samples in perf (4.3 µs against 0.6 µs
/// for an envelope's 3.6 KB, measured alone).
fn is_base64(text: &str) -> bool {
    text.as_bytes().chunks(64).all(|chunk| {
        chunk.iter().fold(true, |ok, &b| {
            ok & (b.is_ascii_alphanumeric()
                | (b == b'+')
                | (b == b'/')
                | (b == b'=')
                | (b == b'-')
                | (b == b'_'))
        })
    })
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
    out.extend_from_slice(b",\"contents\":[");
    for (i, group) in page.contents.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_group(out, group)?;
    }
    out.extend_from_slice(b"]}");
    Ok(())
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

/// One result, in [`GroupView`]'s field order.
fn write_group(out: &mut Vec<u8>, g: &GroupView<'_>) -> Result<(), WriteError> {
    out.extend_from_slice(b"{\"node\":");
    json(out, g.node)?;
    field(out, "node_name", g.node_name)?;
    field(out, "id", &g.id)?;
    if let Some(d) = g.distance_km {
        field(out, "distance_km", &d)?;
    }
    field(out, "capacity_status", &g.capacity_status)?;
    field(out, "verified_training", &g.verified_training)?;
    field(out, "provenance", &g.provenance)?;
    out.extend_from_slice(b",\"listing\":");
    out.extend_from_slice(g.listing.0);
    if let Some(envelope) = g.envelope {
        out.extend_from_slice(b",\"envelope\":{\"payload\":");
        if is_base64(&envelope.payload) {
            out.push(b'"');
            out.extend_from_slice(envelope.payload.as_bytes());
            out.push(b'"');
        } else {
            json(out, &envelope.payload)?;
        }
        field(out, "payloadType", &envelope.payload_type)?;
        field(out, "signatures", &envelope.signatures)?;
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
        Verified::sign(listing, &key).expect("a sample listing signs")
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
            verified_training: vec!["trauma-informed-practice".into()],
            provenance: format!("/v1/groups/{node}/{}", l.payload().id),
            listing: PayloadJson(Box::leak(
                l.envelope().payload_bytes().unwrap().into_boxed_slice(),
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
    fn only_base64_is_copied_unescaped_wherever_the_odd_byte_falls() {
        let plain = "ABCxyz019+/-_=".repeat(20);
        assert!(is_base64(&plain));
        assert!(is_base64(""));
        for at in [0, 1, 63, 64, 65, plain.len() - 1] {
            for odd in ["\"", "\\", "\n", " ", "é", "\u{7f}"] {
                let mut text = plain.clone();
                text.insert_str(at, odd);
                assert!(!is_base64(&text), "{odd:?} at {at}");
            }
        }
    }
}

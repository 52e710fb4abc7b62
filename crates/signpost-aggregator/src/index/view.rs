//! Results as served: written straight from the index, the signed bytes embedded as received.

use super::*;

/// One result of `GET /v1/groups`, serialised straight from the index without copying the
/// signed bytes: the same shape as [`signpost_protocol::wire::GroupResult`] (a test checks
/// that one reads the other).
#[derive(Serialize)]
pub struct GroupView<'a> {
    /// The publishing organisation's id (verify the envelope with its node document).
    pub node: &'a str,
    pub node_name: &'a str,
    pub id: Uuid,
    /// Distance from `near`, km (only with `near`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub capacity_status: CapacityStatus,
    /// Achievements with an attestation that passes every check (shared by every result
    /// of one organisation: a page does not copy them).
    pub verified_training: Arc<[String]>,
    /// Where the full provenance is: every envelope and every check's result.
    pub provenance: ProvenancePath<'a>,
    /// The signed listing payload, exactly as signed.
    pub listing: PayloadJson<'a>,
    /// The original signed envelope, as received from the node (left out with
    /// `include_envelope=false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeRef<'a>>,
}

/// `/v1/groups/{node}/{id}`, the path of a result's provenance, written where it is served
/// (a page of twenty built twenty strings for it).
#[derive(Clone, Copy)]
pub struct ProvenancePath<'a> {
    pub node: &'a str,
    pub id: Uuid,
}

impl std::fmt::Display for ProvenancePath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/v1/groups/{}/{}", self.node, self.id.hyphenated())
    }
}

impl Serialize for ProvenancePath<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A listing's signed payload bytes, written into a response as the JSON they are (they
/// were parsed as a listing when the envelope was verified). `/v1/groups` pages copy them
/// ([`crate::page_json`]); serde, for a single result, checks them once more.
#[derive(Clone, Copy)]
pub struct PayloadJson<'a>(pub &'a [u8]);

impl Serialize for PayloadJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let text = std::str::from_utf8(self.0).map_err(S::Error::custom)?;
        RawValue::from_string(text.to_owned())
            .map_err(S::Error::custom)?
            .serialize(serializer)
    }
}

/// A page of results: the same shape as [`signpost_protocol::wire::GroupsPage`].
#[derive(Serialize)]
pub struct GroupsPageView<'a> {
    #[serde(flatten)]
    pub pagination: Pagination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre: Option<SearchCentre>,
    pub contents: Vec<GroupView<'a>>,
}

pub(super) fn result<'a>(
    e: &'a Entry,
    distance: Option<f64>,
    training: Arc<[String]>,
    ctx: &QueryContext<'_>,
) -> GroupView<'a> {
    let capacity_status = ctx.entry_capacity(e);
    GroupView {
        node: &e.seg.id,
        node_name: &e.seg.name,
        id: e.id,
        distance_km: distance.map(|d| (d * 100.0).round() / 100.0),
        capacity_status,
        verified_training: training,
        provenance: ProvenancePath {
            node: &e.seg.id,
            id: e.id,
        },
        listing: PayloadJson(&e.payload),
        envelope: Some(e.envelope.view(&e.payload)),
    }
}

//! Everything that crosses the network besides the signed payloads themselves, defined once:
//! the node's bundle, the aggregator's feed, result pages, provenance, crawl health with its
//! typed refusal codes, the admin API's bodies, and the RFC 9457 problem document.
//!
//! Servers serialise these (or, on hot paths, a borrowed view with the same shape, checked
//! by a round-trip test); `signpost-client` deserialises them. No I/O here.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::Capacity;
use crate::policy::{AttestationStatus, Check};
use crate::{Attestation, DidKey, Envelope, Listing};

/// Parses JSON bytes as serde_json's `from_slice` does, checking UTF-8 once for the whole
/// text instead of string by string (a listing has dozens of strings, and that check was an
/// eighth of parsing it). The same texts are accepted; invalid UTF-8 is an error naming the
/// byte where it starts.
pub fn json_from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(e) => Err(serde::de::Error::custom(format!(
            "not UTF-8 text (from byte {})",
            e.valid_up_to()
        ))),
    }
}

/// What is wrong with a JSON document of a known shape, in words: where it stops being JSON,
/// or which field is unknown (with the fields there are), missing, or of the wrong kind,
/// without serde's backticks: a signed payload's, or a file's a person hands the CLI.
pub fn json_words(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Io => "it could not be read".into(),
        Category::Eof if line <= 1 && column == 0 => "it is empty".into(),
        Category::Eof => format!("its JSON ends early (line {line}, column {column})"),
        Category::Syntax => {
            format!("it is not JSON (the first mistake is at line {line}, column {column})")
        }
        Category::Data => {
            let quoted: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
            match quoted.split_first() {
                Some((field, known)) if text.starts_with("unknown field") => format!(
                    "{field:?} is not a field of it (its fields are {})",
                    known.join(", ")
                ),
                Some((field, _)) if text.starts_with("missing field") => {
                    format!("{field:?} is required")
                }
                Some((field, _)) if text.starts_with("duplicate field") => {
                    format!("{field:?} is given twice (a duplicate key)")
                }
                _ => text.replace('`', "\""),
            }
        }
    }
}

/// `GET /v1/bundle` on a node: the current node document, the snapshot and every envelope
/// it names, for a cold crawl.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The current node document envelope.
    pub node: Envelope,
    pub snapshot: Envelope,
    pub listings: Vec<Envelope>,
    pub attestations: Vec<Envelope>,
}

/// One node's verified publication, as the aggregator received it (`GET /v1/feed`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedItem {
    pub position: u64,
    #[schema(value_type = String)]
    pub node: DidKey,
    pub node_documents: Vec<Envelope>,
    pub snapshot: Envelope,
    pub listings: Vec<Envelope>,
    pub attestations: Vec<Envelope>,
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedPage {
    /// Pass as `since` to continue.
    pub next: u64,
    pub items: Vec<FeedItem>,
}

macro_rules! refusal_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// Why the aggregator refused new data from a node. Each code says what an operator
        /// must look at; the node's last verified data stays served whatever the code.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum RefusalCode {
            $($(#[$doc])* $variant,)*
        }

        impl RefusalCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [RefusalCode] = &[$(Self::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }
    };
}

refusal_codes! {
    /// No valid signature by the keys the node document names.
    BadSignature => "bad_signature",
    /// The envelope's payload type is not the one expected at that place.
    PayloadTypeMismatch => "payload_type_mismatch",
    /// A valid signature, by a key the current node document does not name.
    UnknownSigningKey => "unknown_signing_key",
    /// The payload is not valid JSON for its type (unknown fields, duplicate keys, ...).
    MalformedPayload => "malformed_payload",
    /// The payload parsed but breaks a rule of the protocol.
    InvalidPayload => "invalid_payload",
    /// A snapshot `seq` lower than one already seen.
    Rollback => "rollback",
    /// Two different snapshots signed with the same `seq` (kept as evidence).
    Equivocation => "equivocation",
    /// A listing version lower than one already seen.
    ListingRollback => "listing_rollback",
    /// Issued further in the future than the allowed clock skew.
    FutureTimestamp => "future_timestamp",
    /// Past its expiry.
    Expired => "expired",
    /// More listings than this aggregator accepts from one node.
    TooManyListings => "too_many_listings",
    /// The listings served do not match what the snapshot names.
    ManifestMismatch => "manifest_mismatch",
    /// Data about another node.
    WrongNode => "wrong_node",
    /// The node document chain does not verify (bad rotation, threshold, ...).
    NodeDocument => "node_document",
    /// A node document version older than one already seen.
    NodeDocumentRollback => "node_document_rollback",
    /// The first node document is not signed by the id pinned at enrolment.
    PinnedIdMismatch => "pinned_id_mismatch",
    /// The node document chain is longer than this aggregator walks.
    ChainTooLong => "chain_too_long",
    /// The node did not answer in time.
    Timeout => "timeout",
    /// No connection could be made.
    Unreachable => "unreachable",
    /// The connection was reset or closed mid-answer.
    ConnectionReset => "connection_reset",
    /// A redirect to another host, or too many redirects.
    RedirectRefused => "redirect_refused",
    /// An HTTP status other than success.
    HttpStatus => "http_status",
    /// A body over the size cap.
    BodyTooLarge => "body_too_large",
    /// Not served as JSON.
    WrongContentType => "wrong_content_type",
    /// Not valid JSON for that resource.
    MalformedJson => "malformed_json",
    /// The transfer failed for another reason.
    TransferFailed => "transfer_failed",
    /// The node serves the same snapshot past half its lifetime (a freeze, or a cache in
    /// front of the node that stopped updating).
    Frozen => "frozen",
    /// A push about a node this aggregator does not follow.
    UnknownNode => "unknown_node",
    /// A push whose snapshot is not newer than the one held.
    NotNewer => "not_newer",
}

impl std::fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest refusal detail kept (node-controlled text is bounded before it reaches logs,
/// the store or `/v1/nodes`).
pub const MAX_DETAIL_CHARS: usize = 300;

/// Why new data from a node was refused. The node's last verified data stays served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    pub code: RefusalCode,
    /// What exactly was wrong, in words (at most 300 characters, no control characters).
    pub detail: String,
}

impl Refusal {
    /// A refusal; the detail is cleaned with [`bounded_text`].
    pub fn new(code: RefusalCode, detail: impl AsRef<str>) -> Self {
        Self {
            code,
            detail: bounded_text(detail.as_ref(), MAX_DETAIL_CHARS),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

/// Text from elsewhere made safe to keep and show: control characters become spaces and it
/// is cut to `max` characters (with an ellipsis when cut).
pub fn bounded_text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A node's crawl status, as `/v1/nodes` shows it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CrawlStatus {
    /// Never crawled.
    Pending,
    /// The last crawl succeeded.
    Healthy,
    /// The last crawl failed or was refused; the last verified data is still served.
    Failing,
    /// The node keeps serving the same snapshot past half its lifetime, while honest nodes
    /// re-sign at half-life: still served until it expires, but flagged.
    Frozen,
    /// The served snapshot has expired and is hidden.
    Stale,
}

impl CrawlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Healthy => "healthy",
            Self::Failing => "failing",
            Self::Frozen => "frozen",
            Self::Stale => "stale",
        }
    }
}

/// Crawl health of one node (`GET /v1/nodes`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeHealth {
    #[schema(value_type = String)]
    pub id: DidKey,
    pub url: String,
    pub name: Option<String>,
    pub status: CrawlStatus,
    pub seq: Option<u64>,
    pub listings: usize,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_refusal: Option<Refusal>,
    pub last_refusal_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// Snapshots with equal seq and different bytes, kept as evidence.
    pub equivocations: usize,
}

/// Capacity as a referrer should read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapacityStatus {
    Accepting,
    NotAccepting,
    /// Not confirmed within the freshness policy (or confirmed at an impossible time): never
    /// shown as accepting.
    Unknown,
}

impl CapacityStatus {
    /// The one rule, used by every surface: capacity counts only when it was confirmed within
    /// `max_age` of `now` and not after the listing was signed (plus `skew`): a confirmation
    /// time in the future would otherwise stay "fresh" for ever.
    pub fn of(
        capacity: &Capacity,
        issued_at: DateTime<Utc>,
        now: DateTime<Utc>,
        max_age: Duration,
        skew: Duration,
    ) -> Self {
        Self::from_parts(
            capacity.accepting_referrals,
            capacity.updated_at,
            issued_at,
            now,
            max_age,
            skew,
        )
    }

    /// [`CapacityStatus::of`] from the two facts it reads (for compact index entries).
    pub fn from_parts(
        accepting: bool,
        updated_at: DateTime<Utc>,
        issued_at: DateTime<Utc>,
        now: DateTime<Utc>,
        max_age: Duration,
        skew: Duration,
    ) -> Self {
        let fresh = now - updated_at <= max_age && updated_at <= issued_at + skew;
        match (fresh, accepting) {
            (false, _) => Self::Unknown,
            (true, true) => Self::Accepting,
            (true, false) => Self::NotAccepting,
        }
    }
}

/// One result of `GET /v1/groups`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupResult {
    /// The publishing organisation's id (verify the envelope with its node document).
    pub node: String,
    pub node_name: String,
    pub id: Uuid,
    /// Distance from `near` or `postcode`, km (only with one of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub capacity_status: CapacityStatus,
    /// Achievements with an attestation that passes every check.
    pub verified_training: Vec<String>,
    /// Where the full provenance is: every envelope and every check's result.
    pub provenance: String,
    /// The signed listing payload, exactly as signed.
    pub listing: Listing,
    /// The original signed envelope, as received from the node (absent with
    /// `include_envelope=false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<Envelope>,
}

/// Where a search was centred when it was given a postcode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchCentre {
    /// The postcode as normalised (e.g. `LS8 5AB`).
    pub postcode: String,
    /// `unit`, `sector` or `district`: how precisely the postcode was placed.
    pub precision: String,
    pub lat: f64,
    pub lon: f64,
}

/// Where a page stands among all the results, as HSDS paginates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pagination {
    pub total_items: usize,
    pub total_pages: usize,
    pub page_number: usize,
    /// Items on this page.
    pub size: usize,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
}

impl Pagination {
    /// Page `page` (from 1) of `per_page` items, holding `size` of `total` results.
    pub fn new(total: usize, page: usize, per_page: usize, size: usize) -> Self {
        let total_pages = total.div_ceil(per_page.max(1));
        Self {
            total_items: total,
            total_pages,
            page_number: page,
            size,
            first_page: page == 1,
            last_page: page >= total_pages,
            empty: size == 0,
        }
    }
}

/// A page of results, paginated as HSDS does.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupsPage {
    #[serde(flatten)]
    pub pagination: Pagination,
    /// With `postcode`: where the search was centred and how precisely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<SearchCentre>,
    pub contents: Vec<GroupResult>,
}

/// A check and its result.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProvenanceCheck {
    pub check: Cow<'static, str>,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When this check was computed: on receipt for signatures, now for freshness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
}

/// One attestation the organisation presents, with every check.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttestationReport {
    pub attestation: Attestation,
    pub status: AttestationStatus,
    pub checks: Vec<Check>,
    pub envelope: Envelope,
}

/// Everything needed to verify a group without trusting the aggregator
/// (`GET /v1/groups/{node}/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Provenance {
    pub group: GroupResult,
    /// Node documents from version 1 (the pinned id) to the current one.
    pub node_documents: Vec<Envelope>,
    pub snapshot: Envelope,
    pub listing: Envelope,
    pub attestations: Vec<AttestationReport>,
    /// Each check and its result.
    pub checks: Vec<ProvenanceCheck>,
}

/// An issuer's public document (`/.well-known/signpost/issuer`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerDocument {
    #[schema(value_type = String)]
    pub id: DidKey,
    pub name: String,
}

/// A trusted issuer and the state of its revocation list (`GET /v1/issuers`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuerInfo {
    #[schema(value_type = String)]
    pub id: DidKey,
    pub name: String,
    pub achievements: Vec<String>,
    pub revocations_url: String,
    pub revocation_list_version: Option<u64>,
    pub revocation_list_expires_at: Option<DateTime<Utc>>,
    pub revocation_list_fetched_at: Option<DateTime<Utc>>,
    pub revoked: usize,
}

/// One organisation presenting an attestation from an issuer
/// (`GET /v1/issuers/{did}/attestations`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = String)]
    pub node: DidKey,
    pub node_name: String,
    pub attestation: Attestation,
    pub status: AttestationStatus,
    /// When this status took effect here: for `revoked`, when this directory first held a
    /// revocation list naming the serial (pushed by the issuer, or fetched); for `expired`,
    /// the end of validity; for `verified`, when the snapshot presenting it was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_since: Option<DateTime<Utc>>,
    pub checks: Vec<Check>,
}

/// Fields of a capacity update (`PATCH /admin/listings/{id}/capacity`); absent fields are
/// left as they are, `null` clears. The node sets `updated_at` itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepting_referrals: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, maximum = 100000)]
    pub places_available: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, maximum = 100000)]
    pub weekly_referral_cap: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, maximum = 100000)]
    pub waiting_time_days: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_required: Option<bool>,
}

fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl CapacityPatch {
    /// Applies the patch; `updated_at` becomes `now` (never taken from the client). A
    /// patch that opens or closes the group without saying how many places are free drops
    /// a count that would contradict it (a full group's places, an open group's 0).
    pub fn apply(&self, cap: &mut Capacity, now: DateTime<Utc>) {
        if let Some(v) = self.accepting_referrals {
            cap.accepting_referrals = v;
            let contradicts = match cap.places_available {
                Some(0) => v,
                Some(_) => !v,
                None => false,
            };
            if self.places_available.is_none() && contradicts {
                cap.places_available = None;
            }
        }
        if let Some(v) = self.places_available {
            cap.places_available = v;
        }
        if let Some(v) = self.weekly_referral_cap {
            cap.weekly_referral_cap = v;
        }
        if let Some(v) = self.waiting_time_days {
            cap.waiting_time_days = v;
        }
        if let Some(v) = self.assessment_required {
            cap.assessment_required = v;
        }
        cap.updated_at = now;
    }
}

/// A listing as the node's admin API returns it: its payload and its envelope.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminListing {
    pub listing: Listing,
    pub envelope: Envelope,
}

/// A node asking a directory to list it (`POST /v1/enrolments`). The directory fetches the
/// node document from `url` and checks it is signed by `id` before keeping the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    /// The node's id (its first root key).
    #[schema(value_type = String, example = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")]
    pub id: DidKey,
    /// The node's base URL.
    #[schema(example = "https://signpost.example-charity.org.uk", max_length = 2048)]
    pub url: String,
    /// The organisation's name, as its node document gives it.
    #[schema(max_length = 200)]
    pub name: String,
    /// How the directory operator can reach the charity (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 300)]
    pub contact: Option<String>,
}

/// Where an enrolment request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    Pending,
    Approved,
    Declined,
}

/// An enrolment request as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrolment {
    #[schema(value_type = String)]
    pub id: DidKey,
    pub url: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    pub status: EnrolmentStatus,
    pub requested_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// An RFC 9457 problem document with Signpost's stable `code`
/// (`application/problem+json`). The codes are listed in `openapi/PROTOCOL.md`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:signpost:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:signpost:problem:invalid_listing")]
    pub problem_type: String,
    #[schema(example = "The listing is not valid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    /// What exactly was wrong with this request.
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(example = "invalid_listing")]
    pub code: String,
    /// Every problem with the request's fields or query parameters, when there are several
    /// to fix (a listing that fails validation lists them all at once, and so does a search
    /// with several wrong parameters, as `invalid_query`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One field or query parameter of a request that is not acceptable, in words a person can
/// act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Dotted path of the field in the request body, e.g. `group.schedule[0].closes`, or the
    /// query parameter's name, e.g. `radius_km`.
    #[schema(example = "group.schedule[0].closes")]
    pub field: String,
    /// Stable code of the rule broken (listed in `openapi/PROTOCOL.md`; a query
    /// parameter's is the code its mistake has alone, e.g. `invalid_radius`).
    #[schema(example = "closes_before_opens")]
    pub code: String,
    /// What is wrong and what is expected, naming the field in plain words.
    #[schema(example = "Session 1: the closing time must be later than the opening time (18:30)")]
    pub message: String,
}

/// A problem document's `detail` when `count` fields or parameters are wrong, the first
/// being `field`, wrong as `message` says (each is in `errors`).
pub fn problems_detail(count: usize, field: &str, message: &str) -> String {
    // A problem with the whole request (no field) is its message alone.
    let first = if field.is_empty() {
        message.to_owned()
    } else {
        format!("{field}: {message}")
    };
    if count > 1 {
        format!("{count} problems, each in `errors`; the first, {first}")
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document of a known shape that is not one is said in words, without serde's
    /// backticks and positions.
    #[test]
    fn a_wrong_document_is_said_in_words() {
        let said =
            |text: &str| json_words(&json_from_slice::<Pagination>(text.as_bytes()).unwrap_err());
        assert_eq!(
            said("{\"total_items\": "),
            "its JSON ends early (line 1, column 16)"
        );
        assert!(said("{}").ends_with("is required"), "{}", said("{}"));
        assert!(!said("{\"x\": 1}").contains('`'), "{}", said("{\"x\": 1}"));
    }

    /// Checking UTF-8 once for the whole text accepts and refuses exactly what serde_json's
    /// string-by-string check does, and says where invalid UTF-8 starts.
    #[test]
    fn json_from_slice_accepts_and_refuses_what_serde_json_does() {
        use serde_json::Value;
        let listing =
            serde_json::to_vec(&crate::sample::group(1, 0, Utc::now())).unwrap_or_default();
        let mut cases: Vec<Vec<u8>> = [
            &b"{\"a\":\"caf\xc3\xa9\"}"[..],
            b"{\"a\":\"caf\xe9\"}",
            b"[1,2]",
            b"\xef\xbb\xbf{}",
            b"{\"a\":1} ",
            b"\"\xff\"",
            b"{}x",
            b"",
        ]
        .iter()
        .map(|c| c.to_vec())
        .collect();
        // The sample listing with each byte in turn made invalid (0xff) or cut short.
        for i in (0..listing.len()).step_by(7) {
            let mut bad = listing.clone();
            bad[i] = 0xff;
            cases.push(bad);
            cases.push(listing[..i].to_vec());
        }
        cases.push(listing);
        for c in &cases {
            assert_eq!(
                json_from_slice::<Value>(c).ok(),
                serde_json::from_slice::<Value>(c).ok(),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
        let e = json_from_slice::<Value>(b"{\"name\":\"caf\xe9\"}").unwrap_err();
        assert_eq!(e.to_string(), "not UTF-8 text (from byte 12)");
    }

    #[test]
    fn refusal_codes_serialise_as_their_names_and_every_code_is_listed() {
        for code in RefusalCode::ALL {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, code.as_str());
            let back: RefusalCode = serde_json::from_value(json).unwrap_or(RefusalCode::NotNewer);
            assert_eq!(back, *code);
        }
        let mut names: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RefusalCode::ALL.len());
    }

    #[test]
    fn refusal_details_are_bounded_and_printable() {
        let r = Refusal::new(RefusalCode::MalformedJson, "a\u{7}b\nc".repeat(1000));
        assert!(r.detail.chars().count() <= MAX_DETAIL_CHARS + 1);
        assert!(!r.detail.chars().any(char::is_control));
        assert!(r.detail.ends_with('…'));
        assert_eq!(Refusal::new(RefusalCode::Timeout, "short").detail, "short");
    }

    #[test]
    fn capacity_confirmed_in_the_future_is_unknown() {
        let now = Utc::now();
        let day = Duration::days(1);

        let cap = |updated_at| Capacity {
            accepting_referrals: true,
            places_available: Some(3),
            weekly_referral_cap: None,
            waiting_time_days: None,
            assessment_required: false,
            updated_at,
        };
        let skew = Duration::minutes(5);
        let status = |updated, issued| {
            CapacityStatus::of(&cap(updated), issued, now, Duration::days(14), skew)
        };
        assert_eq!(status(now - day, now), CapacityStatus::Accepting);
        assert_eq!(
            status(now - Duration::days(15), now),
            CapacityStatus::Unknown
        );
        // Confirmed "in 2031": after the listing was signed, so not believed.
        assert_eq!(
            status(now + Duration::days(2000), now),
            CapacityStatus::Unknown
        );
        assert_eq!(
            status(now + Duration::minutes(1), now),
            CapacityStatus::Accepting
        );
    }
}

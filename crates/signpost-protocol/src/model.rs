//! The typed payloads carried in DSSE envelopes, and their validation.
//!
//! Every payload type refuses unknown fields and (through serde) duplicate keys. Times are
//! RFC 3339 in UTC. There are no floats other than coordinates: money is in pence, times of
//! day are `HH:MM`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::did::DidKey;
use crate::dsse::EnvelopeDigest;
use crate::taxonomy;

/// Payload types, one per kind of signed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayloadKind {
    Node,
    Listing,
    Snapshot,
    Attestation,
    Revocations,
}

impl PayloadKind {
    pub const ALL: [PayloadKind; 5] = [
        Self::Node,
        Self::Listing,
        Self::Snapshot,
        Self::Attestation,
        Self::Revocations,
    ];

    /// The DSSE `payloadType`.
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Node => "application/vnd.signpost.node.v1+json",
            Self::Listing => "application/vnd.signpost.listing.v1+json",
            Self::Snapshot => "application/vnd.signpost.snapshot.v1+json",
            Self::Attestation => "application/vnd.signpost.attestation.v1+json",
            Self::Revocations => "application/vnd.signpost.revocations.v1+json",
        }
    }

    pub fn from_media_type(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.media_type() == s)
    }
}

/// Why a payload's content is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// Dotted path of the offending field, e.g. `group.location.lat`.
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// A problem found (if any) as an error naming its field; `field` is called only then.
fn refuse(problem: Option<String>, field: impl FnOnce() -> String) -> VResult {
    problem.map_or(Ok(()), |p| Err(ValidationError::new(field(), p)))
}

type VResult = Result<(), ValidationError>;

/// A payload: a type with its DSSE payload type and its own validation.
pub trait Payload: Serialize + DeserializeOwned {
    const KIND: PayloadKind;
    fn validate(&self) -> VResult;
}

// ---------------------------------------------------------------------------------------
// Limits

/// Limits on sizes, shared by every producer and verifier.
pub mod limits {
    pub const NAME: usize = 200;
    pub const DESCRIPTION: usize = 4000;
    pub const SHORT_TEXT: usize = 500;
    pub const URL: usize = 2048;
    pub const CATEGORIES: usize = 8;
    pub const LANGUAGES: usize = 40;
    pub const SESSIONS: usize = 28;
    pub const IDENTIFIERS: usize = 10;
    pub const KEYS: usize = 8;
    pub const CAPABILITIES: usize = 20;
    /// Listings one snapshot may name.
    pub const LISTINGS_PER_SNAPSHOT: usize = 10_000;
    pub const ATTESTATIONS_PER_SNAPSHOT: usize = 100;
    pub const REVOKED_PER_LIST: usize = 100_000;
    pub const SERIAL: usize = 64;
}

/// Free text: at most `max` characters, no control character but tab and line feed, and
/// (when `required`) not blank. The schemas state the same rule as a `pattern` on each text
/// field: `^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$`, with one character that is neither control
/// nor Unicode White_Space (what `trim` removes) when the field must not be blank.
fn text(field: &str, value: &str, max: usize, required: bool) -> VResult {
    refuse(text_problem(value, max, required), || field.to_owned())
}

/// What is wrong with a text value, if anything (its field is named by the caller, only
/// when something is).
fn text_problem(value: &str, max: usize, required: bool) -> Option<String> {
    if required && value.trim().is_empty() {
        return Some("must not be empty".into());
    }
    // Most text is ASCII: its length is its byte count, and its control characters are
    // bytes below 0x20 and 0x7f (checked without stopping early, so the loop vectorises).
    let (chars, control) = if value.is_ascii() {
        let control = |b: u8| (b < 0x20) & (b != b'\n') & (b != b'\t') | (b == 0x7f);
        let any = value.bytes().fold(false, |seen, b| seen | control(b));
        (value.len(), any)
    } else {
        let control = |c: char| c.is_control() && c != '\n' && c != '\t';
        (value.chars().count(), value.chars().any(control))
    };
    if chars > max {
        return Some(format!("longer than {max} characters"));
    }
    control.then(|| "contains control characters".into())
}

fn opt_text(field: &str, value: &Option<String>, max: usize) -> VResult {
    value
        .as_deref()
        .map_or(Ok(()), |v| text(field, v, max, true))
}

fn list<T>(field: &str, items: &[T], max: usize) -> VResult {
    if items.len() > max {
        return Err(ValidationError::new(
            field,
            format!("more than {max} entries"),
        ));
    }
    Ok(())
}

fn unique<T: PartialEq>(field: &str, items: &[T]) -> VResult {
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            return Err(ValidationError::new(field, "has a duplicate entry"));
        }
    }
    Ok(())
}

fn in_vocabulary(field: &str, ids: &[String], vocab: &[taxonomy::Term]) -> VResult {
    for id in ids {
        if !taxonomy::contains(vocab, id) {
            return Err(ValidationError::new(field, unknown_id(id, vocab)));
        }
    }
    unique(field, ids)
}

/// An id not in `vocab`, with the ids there are (a short list is named in full; a long one
/// is where to read it).
fn unknown_id(id: &str, vocab: &[taxonomy::Term]) -> String {
    if vocab.len() <= 10 {
        let ids: Vec<&str> = vocab.iter().map(|t| t.id).collect();
        format!("unknown id {id:?}; the ids are {}", ids.join(", "))
    } else {
        format!("unknown id {id:?}; the ids are in the taxonomy (GET /v1/taxonomy on a directory)")
    }
}

fn window(field: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> VResult {
    if until <= from {
        return Err(ValidationError::new(
            field,
            "must be later than the start of its validity",
        ));
    }
    Ok(())
}

fn url(field: &str, value: &str) -> VResult {
    text(field, value, limits::URL, true)?;
    if !(value.starts_with("https://") || value.starts_with("http://"))
        || value.contains(char::is_whitespace)
    {
        return Err(ValidationError::new(field, "must be an http(s) URL"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Shared value types

/// An organisation identifier, as in org-id.guide (`GB-CHC` charity number, `GB-COH`
/// company number, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgIdentifier {
    /// Register code, e.g. `GB-CHC`, `GB-SC`, `GB-COH`.
    #[schema(
        example = "GB-CHC",
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub scheme: String,
    #[schema(
        example = "1234567",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub id: String,
}

impl OrgIdentifier {
    /// Checks it; `field` names it, called only when something is wrong.
    fn validate(&self, field: impl Fn() -> String) -> VResult {
        for (part, value, max) in [("scheme", &self.scheme, 32), ("id", &self.id, 64)] {
            refuse(text_problem(value, max, true), || {
                format!("{}.{part}", field())
            })?;
        }
        Ok(())
    }
}

/// A time of day, `HH:MM` (24-hour clock), stored as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn from_minutes(m: u16) -> Option<Self> {
        (m < 24 * 60).then_some(Self(m))
    }
    /// Minutes after midnight, clamped to 23:59.
    pub fn clamped(m: u16) -> Self {
        Self(m.min(24 * 60 - 1))
    }
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a time of day (HH:MM)");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn time_of_day_schema(example: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
        .examples([serde_json::json!(example)])
        .into()
}

impl utoipa::PartialSchema for TimeOfDay {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        time_of_day_schema("18:30")
    }
}
impl utoipa::ToSchema for TimeOfDay {}

/// A session's closing time (schema only): a [`TimeOfDay`] whose example is later than
/// the opening time's, so that API tools combining field examples build a session the
/// node accepts.
pub struct ClosingTime;

impl utoipa::PartialSchema for ClosingTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        time_of_day_schema("20:30")
    }
}
impl utoipa::ToSchema for ClosingTime {}

/// Day of the week.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Sun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }

    pub fn is_weekend(self) -> bool {
        matches!(self, Self::Sat | Self::Sun)
    }
}

impl FromStr for Weekday {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|d| lower == d.as_str() || (lower.len() > 3 && full_day_name(*d) == lower))
            .ok_or_else(|| format!("{s:?} is not a day (mon, tue, ... sun)"))
    }
}

fn full_day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

// ---------------------------------------------------------------------------------------
// Node document

/// The organisation's identity and keys (`node.v1`), signed by its root key(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDocument {
    /// The organisation's id: its first root key as a did:key. Never changes.
    pub id: DidKey,
    /// Starts at 1; +1 for every change. Version N+1 is signed by a threshold of version
    /// N's root keys and of its own.
    pub version: u64,
    pub issued_at: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub name: String,
    /// Where the node serves its feed, e.g. `https://signpost.example-charity.org.uk`.
    pub base_url: String,
    #[serde(default)]
    pub org_identifiers: Vec<OrgIdentifier>,
    pub root_keys: Vec<DidKey>,
    pub threshold: u32,
    /// Keys that sign listings and snapshots.
    pub signing_keys: Vec<DidKey>,
}

impl Payload for NodeDocument {
    const KIND: PayloadKind = PayloadKind::Node;
    fn validate(&self) -> VResult {
        if self.version == 0 {
            return Err(ValidationError::new("version", "starts at 1"));
        }
        window("expires", self.issued_at, self.expires)?;
        text("name", &self.name, limits::NAME, true)?;
        url("base_url", &self.base_url)?;
        list(
            "org_identifiers",
            &self.org_identifiers,
            limits::IDENTIFIERS,
        )?;
        for (i, o) in self.org_identifiers.iter().enumerate() {
            o.validate(|| format!("org_identifiers[{i}]"))?;
        }
        for (field, keys) in [
            ("root_keys", &self.root_keys),
            ("signing_keys", &self.signing_keys),
        ] {
            if keys.is_empty() {
                return Err(ValidationError::new(field, "must name at least one key"));
            }
            list(field, keys, limits::KEYS)?;
            unique(field, keys)?;
        }
        if self.threshold == 0 || self.threshold as usize > self.root_keys.len() {
            return Err(ValidationError::new(
                "threshold",
                "must be between 1 and the number of root keys",
            ));
        }
        if self.version == 1 && !self.root_keys.contains(&self.id) {
            return Err(ValidationError::new(
                "root_keys",
                "version 1 must name the id as a root key",
            ));
        }
        Ok(())
    }
}

impl NodeDocument {
    /// A node's first document: its id is its one root key (threshold 1), `signing` signs
    /// its listings and snapshots, and it names no organisation identifiers yet.
    pub fn first(
        root: DidKey,
        signing: DidKey,
        name: impl Into<String>,
        base_url: impl Into<String>,
        issued_at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Self {
        Self {
            id: root,
            version: 1,
            issued_at,
            expires,
            name: name.into(),
            base_url: base_url.into(),
            org_identifiers: Vec::new(),
            root_keys: vec![root],
            threshold: 1,
            signing_keys: vec![signing],
        }
    }

    pub fn root_verifying_keys(&self) -> Vec<ed25519_dalek::VerifyingKey> {
        self.root_keys.iter().map(|k| *k.key()).collect()
    }
    pub fn signing_verifying_keys(&self) -> Vec<ed25519_dalek::VerifyingKey> {
        self.signing_keys.iter().map(|k| *k.key()).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Listing

/// One group, as its organisation publishes it (`listing.v1`), signed by a signing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// The publishing organisation (its node id).
    pub node: DidKey,
    pub id: Uuid,
    /// Strictly increasing for this listing.
    pub version: u64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub group: Group,
}

impl Payload for Listing {
    const KIND: PayloadKind = PayloadKind::Listing;
    fn validate(&self) -> VResult {
        if self.version == 0 {
            return Err(ValidationError::new("version", "starts at 1"));
        }
        if self.id.is_nil() {
            return Err(ValidationError::new("id", "must not be the nil UUID"));
        }
        window("expires_at", self.issued_at, self.expires_at)?;
        self.group.validate()
    }
}

/// What a referrer needs to know about a group: the facts of the design brief, section 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = group_example)]
pub struct Group {
    #[schema(
        example = "Tuesday Conversation Café",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[schema(max_length = 4000, pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$")]
    pub description: String,
    /// Ids from the published taxonomy (`GET /v1/taxonomy`).
    #[schema(example = json!(["conversation-cafe", "refugee-support"]),
        value_type = Vec<taxonomy::CategoryId>, min_items = 1, max_items = 8)]
    pub categories: Vec<String>,
    /// Where the group meets; absent for online-only groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The group (also) meets online.
    #[serde(default)]
    pub online: bool,
    #[serde(default)]
    #[schema(max_items = 28)]
    pub schedule: Vec<Session>,
    /// Languages spoken in the group: BCP 47 tags in the IANA registry, in canonical case.
    #[schema(example = json!(["en", "ar", "fa", "uk"]), value_type = Vec<LanguageTag>,
        min_items = 1, max_items = 40)]
    pub languages: Vec<String>,
    pub access: Access,
    pub capacity: Capacity,
    pub safeguarding: Safeguarding,
    #[serde(default)]
    pub volunteering: Volunteering,
    #[serde(default)]
    pub contact: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_range: Option<AgeRange>,
}

impl Group {
    /// Checks a name as listing and node names are checked.
    pub fn validate_name(name: &str) -> VResult {
        text("name", name, limits::NAME, true)
    }

    pub fn validate(&self) -> VResult {
        text("group.name", &self.name, limits::NAME, true)?;
        text(
            "group.description",
            &self.description,
            limits::DESCRIPTION,
            false,
        )?;
        if self.categories.is_empty() {
            return Err(ValidationError::new(
                "group.categories",
                "must name at least one category",
            ));
        }
        list("group.categories", &self.categories, limits::CATEGORIES)?;
        in_vocabulary("group.categories", &self.categories, taxonomy::CATEGORIES)?;
        if let Some(loc) = &self.location {
            loc.validate()?;
        } else if !self.online {
            return Err(ValidationError::new(
                "group.location",
                "required unless the group is online",
            ));
        }
        list("group.schedule", &self.schedule, limits::SESSIONS)?;
        // Each entry's field is named only when it is wrong.
        for (i, s) in self.schedule.iter().enumerate() {
            s.validate(|| format!("group.schedule[{i}]"))?;
        }
        list("group.languages", &self.languages, limits::LANGUAGES)?;
        for (i, tag) in self.languages.iter().enumerate() {
            refuse(language_tag_problem(tag), || {
                format!("group.languages[{i}]")
            })?;
        }
        unique("group.languages", &self.languages)?;
        self.access.validate()?;
        self.capacity.validate()?;
        self.safeguarding.validate()?;
        self.contact.validate()?;
        if let Some(age) = &self.age_range {
            age.validate()?;
        }
        Ok(())
    }
}

/// Checks a BCP 47 language tag (well-formed, as RFC 5646 defines it).
pub fn validate_language_tag(field: &str, tag: &str) -> VResult {
    refuse(language_tag_problem(tag), || field.to_owned())
}

/// What is wrong with a language tag, if anything.
fn language_tag_problem(tag: &str) -> Option<String> {
    match language_tags::LanguageTag::parse(tag) {
        Err(_) => Some(format!(
            "{tag:?} is not a BCP 47 language tag (like ar, or ar-SY)"
        )),
        Ok(parsed) if parsed.as_str() != tag => Some(format!("{tag:?} is not in canonical case")),
        Ok(_) => None,
    }
}

/// A BCP 47 language tag (schema only): registered in IANA's subtag registry, canonical
/// case, e.g. `ar`, `fa-AF`, `zh-Hant`.
pub struct LanguageTag;

impl utoipa::PartialSchema for LanguageTag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom("bcp47".into())))
            .pattern(Some("^[a-z]{2,8}(-[A-Za-z0-9]{1,8})*$"))
            .max_length(Some(64))
            .description(Some(
                "A BCP 47 language tag registered with IANA, in canonical case",
            ))
            .examples([serde_json::json!("ar")])
            .into()
    }
}
impl utoipa::ToSchema for LanguageTag {}

/// A UK postcode in its official form (schema only), e.g. `LS8 5AB`.
pub struct UkPostcode;

impl utoipa::PartialSchema for UkPostcode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom(
                "uk-postcode".into(),
            )))
            .pattern(Some("^[A-Z]{1,2}[0-9][0-9A-Z]?( [0-9]([A-Z]{2})?)?$"))
            .description(Some(
                "A UK postcode in its official form (upper case, one space)",
            ))
            .examples([serde_json::json!("LS8 5AB")])
            .into()
    }
}
impl utoipa::ToSchema for UkPostcode {}

/// Where a group meets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// WGS84 latitude, degrees (Signpost nodes publish places in the UK only).
    #[schema(example = 53.8229, minimum = 49.8, maximum = 60.95)]
    pub lat: f64,
    /// WGS84 longitude, degrees.
    #[schema(example = -1.5092, minimum = -8.7, maximum = 1.8)]
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub address: Option<String>,
    /// A UK postcode in its official form (upper case, one space); nodes check the
    /// coordinates are near it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "LS8 5AB", value_type = Option<UkPostcode>)]
    pub postcode: Option<String>,
}

impl Location {
    fn validate(&self) -> VResult {
        validate_coordinates(self.lat, self.lon)
            .map_err(|p| ValidationError::new("group.location", p))?;
        opt_text("group.location.address", &self.address, limits::SHORT_TEXT)?;
        opt_text("group.location.postcode", &self.postcode, 16)
    }
}

/// Checks WGS84 ranges; the message names the problem.
pub fn validate_coordinates(lat: f64, lon: f64) -> Result<(), String> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("latitude {lat} is outside -90..90"));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {lon} is outside -180..180"));
    }
    Ok(())
}

/// How often a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    #[default]
    Weekly,
    Fortnightly,
    Monthly,
}

/// A regular session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"day": "tue", "opens": "18:30", "closes": "20:30", "frequency": "weekly"})))]
pub struct Session {
    pub day: Weekday,
    pub opens: TimeOfDay,
    #[schema(value_type = ClosingTime)]
    pub closes: TimeOfDay,
    #[serde(default)]
    pub frequency: Frequency,
}

/// A whole group as the schema's example: every fact consistent, so it is accepted as it is.
fn group_example() -> serde_json::Value {
    serde_json::json!({
        "name": "Tuesday Conversation Café",
        "description": "Practise English over tea with volunteers; beginners welcome.",
        "categories": ["conversation-cafe", "refugee-support"],
        "location": {"lat": 53.8229, "lon": -1.5092, "address": "Harehills Community Hall", "postcode": "LS8 5AB"},
        "online": false,
        "schedule": [{"day": "tue", "opens": "18:30", "closes": "20:30", "frequency": "weekly"}],
        "languages": ["en", "ar", "fa", "uk"],
        "access": {
            "interpreting": "volunteer",
            "cost": {"free": true},
            "childcare": true,
            "self_referral": true,
            "gp_registration_required": false,
            "immigration_status_asked": false,
            "no_data_shared_with_authorities": true
        },
        "capacity": {"accepting_referrals": true, "places_available": 6},
        "safeguarding": {
            "capabilities": [],
            "designated_lead": true,
            "written_policy": true,
            "staff_checks": [],
            "regulator_ids": [{"scheme": "GB-CHC", "id": "1234567"}]
        },
        "contact": {"email": "hello@example.org", "phone": "0113 496 0000", "referral_instructions": "Email or just come along."},
        "age_range": {"min": 16},
        "volunteering": {"offered": false}
    })
}

impl Session {
    /// Checks it; `field` names it, called only when something is wrong.
    fn validate(&self, field: impl FnOnce() -> String) -> VResult {
        if self.closes <= self.opens {
            return Err(ValidationError::new(
                field(),
                "closes must be later than opens",
            ));
        }
        Ok(())
    }

    /// Starts at or after 17:00.
    pub fn is_evening(&self) -> bool {
        self.closes.minutes() > 17 * 60
    }
}

/// Interpreting on offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interpreting {
    Professional,
    Volunteer,
    #[default]
    None,
}

/// Cost to the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub free: bool,
    /// Charge per session in pence, when not free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 1000000, example = 250)]
    pub amount_pence: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub details: Option<String>,
}

/// The facts that decide whether a person can attend at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub interpreting: Interpreting,
    /// An interpreter from outside the person's own community can be arranged on request.
    #[serde(default)]
    pub interpreter_outside_community: bool,
    pub cost: Cost,
    /// Travel costs are paid or reimbursed.
    #[serde(default)]
    pub travel_paid: bool,
    #[serde(default)]
    pub childcare: bool,
    #[serde(default)]
    pub step_free: bool,
    /// Reachable on foot or by public transport.
    #[serde(default)]
    pub public_transport: bool,
    pub self_referral: bool,
    pub gp_registration_required: bool,
    /// Whether the group asks about immigration status.
    pub immigration_status_asked: bool,
    /// The organisation's signed statement that no data is shared with the immigration
    /// authorities (beyond what safeguarding law requires).
    pub no_data_shared_with_authorities: bool,
}

impl Access {
    fn validate(&self) -> VResult {
        opt_text(
            "group.access.cost.details",
            &self.cost.details,
            limits::SHORT_TEXT,
        )?;
        if self.cost.free && self.cost.amount_pence.is_some_and(|p| p > 0) {
            return Err(ValidationError::new(
                "group.access.cost",
                "free but has a charge",
            ));
        }
        Ok(())
    }
}

/// Capacity: whether the group can take referrals, and when this was last said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub accepting_referrals: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 100000)]
    pub places_available: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 100000)]
    pub weekly_referral_cap: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 100000)]
    pub waiting_time_days: Option<u32>,
    #[serde(default)]
    pub assessment_required: bool,
    /// When the organisation last confirmed these figures. Set by the node itself when
    /// capacity changes or is re-confirmed; never taken from an admin request.
    #[schema(read_only)]
    pub updated_at: DateTime<Utc>,
}

impl Capacity {
    fn validate(&self) -> VResult {
        for (f, v) in [
            ("places_available", self.places_available),
            ("weekly_referral_cap", self.weekly_referral_cap),
            ("waiting_time_days", self.waiting_time_days),
        ] {
            if v.is_some_and(|v| v > 100_000) {
                return Err(ValidationError::new(
                    format!("group.capacity.{f}"),
                    "is implausibly large",
                ));
            }
        }
        Ok(())
    }
}

/// Safeguarding arrangements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Safeguarding {
    pub written_policy: bool,
    pub designated_lead: bool,
    /// Checks on staff and volunteers (taxonomy `staff_checks`).
    #[serde(default)]
    #[schema(value_type = Vec<taxonomy::StaffCheckId>, max_items = 20)]
    pub staff_checks: Vec<String>,
    /// Complex needs the group is equipped for (taxonomy `safeguarding_capabilities`).
    #[serde(default)]
    #[schema(value_type = Vec<taxonomy::CapabilityId>, max_items = 20)]
    pub capabilities: Vec<String>,
    /// Register entries that back these arrangements (charity number, ...).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub regulator_ids: Vec<OrgIdentifier>,
}

impl Safeguarding {
    fn validate(&self) -> VResult {
        list(
            "group.safeguarding.staff_checks",
            &self.staff_checks,
            limits::CAPABILITIES,
        )?;
        in_vocabulary(
            "group.safeguarding.staff_checks",
            &self.staff_checks,
            taxonomy::STAFF_CHECKS,
        )?;
        list(
            "group.safeguarding.capabilities",
            &self.capabilities,
            limits::CAPABILITIES,
        )?;
        in_vocabulary(
            "group.safeguarding.capabilities",
            &self.capabilities,
            taxonomy::SAFEGUARDING_CAPABILITIES,
        )?;
        list(
            "group.safeguarding.regulator_ids",
            &self.regulator_ids,
            limits::IDENTIFIERS,
        )?;
        for (i, o) in self.regulator_ids.iter().enumerate() {
            o.validate(|| format!("group.safeguarding.regulator_ids[{i}]"))?;
        }
        Ok(())
    }
}

/// Volunteering offered by the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Volunteering {
    pub offered: bool,
    #[serde(default)]
    pub skills_development: bool,
    #[serde(default)]
    pub expenses_paid: bool,
}

/// How to refer or get in touch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Digits, spaces and `+()-`, 7 to 15 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9 +()\-]{7,32}$", example = "0113 496 0000")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = r"^https?://[^\s/.\x00-\x1f\x7f-\x9f]+\.[^\s\x00-\x1f\x7f-\x9f]+$",
        max_length = 2048
    )]
    pub website: Option<String>,
    /// How a referrer should refer someone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
    )]
    pub referral_instructions: Option<String>,
}

impl Contact {
    fn validate(&self) -> VResult {
        opt_text("group.contact.email", &self.email, 254)?;
        if self.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(ValidationError::new(
                "group.contact.email",
                "is not an email address",
            ));
        }
        opt_text("group.contact.phone", &self.phone, 32)?;
        if let Some(w) = &self.website {
            url("group.contact.website", w)?;
        }
        opt_text(
            "group.contact.referral_instructions",
            &self.referral_instructions,
            limits::SHORT_TEXT,
        )
    }
}

/// Ages the group is for, in years, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 130)]
    pub min: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 130)]
    pub max: Option<u8>,
}

impl AgeRange {
    fn validate(&self) -> VResult {
        if let (Some(min), Some(max)) = (self.min, self.max) {
            if min > max {
                return Err(ValidationError::new("group.age_range", "min is above max"));
            }
        }
        if self.max.is_some_and(|m| m > 130) || self.min.is_some_and(|m| m > 130) {
            return Err(ValidationError::new("group.age_range", "ages are 0..130"));
        }
        Ok(())
    }

    pub fn admits(&self, age: u8) -> bool {
        self.min.is_none_or(|m| age >= m) && self.max.is_none_or(|m| age <= m)
    }
}

// ---------------------------------------------------------------------------------------
// Snapshot

/// One listing named by a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub id: Uuid,
    pub version: u64,
    /// The listing envelope's digest.
    pub sha256: EnvelopeDigest,
}

/// The node's whole publication at one moment (`snapshot.v1`), signed by a signing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub node: DidKey,
    /// Strictly increasing.
    pub seq: u64,
    /// Digest of the previous snapshot envelope; null at seq 1.
    pub prev: Option<EnvelopeDigest>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub listings: Vec<ManifestEntry>,
    /// Digests of the attestation envelopes the node presents.
    #[serde(default)]
    pub attestations: Vec<EnvelopeDigest>,
}

impl Payload for Snapshot {
    const KIND: PayloadKind = PayloadKind::Snapshot;
    fn validate(&self) -> VResult {
        if self.seq == 0 {
            return Err(ValidationError::new("seq", "starts at 1"));
        }
        if (self.seq == 1) != self.prev.is_none() {
            return Err(ValidationError::new("prev", "is null exactly at seq 1"));
        }
        window("expires_at", self.issued_at, self.expires_at)?;
        list("listings", &self.listings, limits::LISTINGS_PER_SNAPSHOT)?;
        let mut ids: Vec<Uuid> = self.listings.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(ValidationError::new("listings", "names a listing twice"));
        }
        list(
            "attestations",
            &self.attestations,
            limits::ATTESTATIONS_PER_SNAPSHOT,
        )?;
        unique("attestations", &self.attestations)
    }
}

// ---------------------------------------------------------------------------------------
// Attestation and revocation

/// A training provider's or regulator's signed claim about an organisation
/// (`attestation.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    pub issuer: DidKey,
    /// The organisation (node id) the claim is about.
    pub subject: DidKey,
    /// Taxonomy `achievements` id, e.g. `trauma-informed-practice`.
    pub achievement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// Unique per issuer; what a revocation names.
    pub serial: String,
}

impl Payload for Attestation {
    const KIND: PayloadKind = PayloadKind::Attestation;
    fn validate(&self) -> VResult {
        if !taxonomy::contains(taxonomy::ACHIEVEMENTS, &self.achievement) {
            return Err(ValidationError::new(
                "achievement",
                unknown_id(&self.achievement, taxonomy::ACHIEVEMENTS),
            ));
        }
        opt_text("level", &self.level, 64)?;
        window("valid_until", self.valid_from, self.valid_until)?;
        validate_serial("serial", &self.serial)
    }
}

fn validate_serial(field: &str, serial: &str) -> VResult {
    if serial.is_empty()
        || serial.len() > limits::SERIAL
        || !serial
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ValidationError::new(
            field,
            "serials are 1-64 characters of A-Z a-z 0-9 - _",
        ));
    }
    Ok(())
}

/// An issuer's list of revoked serials (`revocations.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationList {
    pub issuer: DidKey,
    pub version: u64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: Vec<String>,
}

impl Payload for RevocationList {
    const KIND: PayloadKind = PayloadKind::Revocations;
    fn validate(&self) -> VResult {
        if self.version == 0 {
            return Err(ValidationError::new("version", "starts at 1"));
        }
        window("expires_at", self.issued_at, self.expires_at)?;
        list("revoked", &self.revoked, limits::REVOKED_PER_LIST)?;
        for s in &self.revoked {
            validate_serial("revoked", s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id not in its vocabulary is answered with the ids there are, or where to read them.
    #[test]
    fn an_unknown_id_names_the_ids_there_are() {
        let few = unknown_id("juggling", taxonomy::ACHIEVEMENTS);
        assert!(
            few.starts_with("unknown id \"juggling\"; the ids are trauma-informed-practice, "),
            "{few}"
        );
        for t in taxonomy::ACHIEVEMENTS {
            assert!(few.contains(t.id), "{few}");
        }
        let many = unknown_id("x", taxonomy::CATEGORIES);
        assert!(
            many.ends_with("(GET /v1/taxonomy on a directory)"),
            "{many}"
        );
    }

    /// The field and problem a sample group with one change is refused for.
    fn refused(change: impl FnOnce(&mut Group)) -> (String, String) {
        let mut group = crate::sample::group(1, 0, Utc::now());
        group.validate().expect("the sample is valid");
        change(&mut group);
        let e = group.validate().expect_err("refused");
        (e.field, e.problem)
    }

    fn said(field: &str, problem: &str) -> (String, String) {
        (field.to_owned(), problem.to_owned())
    }

    #[test]
    fn each_problem_names_its_field_and_what_is_wrong() {
        let schedule = refused(|g| {
            let mut wrong = g.schedule[0].clone();
            wrong.closes = wrong.opens;
            g.schedule = vec![g.schedule[0].clone(), wrong];
        });
        assert_eq!(
            schedule,
            said("group.schedule[1]", "closes must be later than opens")
        );
        let language = refused(|g| g.languages = vec!["en".into(), "EN-gb".into()]);
        assert_eq!(
            language,
            said("group.languages[1]", "\"EN-gb\" is not in canonical case")
        );
        let regulator = |scheme: &str, id: &str| {
            let (scheme, id) = (scheme.to_owned(), id.to_owned());
            refused(|g| g.safeguarding.regulator_ids = vec![OrgIdentifier { scheme, id }])
        };
        assert_eq!(
            regulator(" ", "1234567"),
            said(
                "group.safeguarding.regulator_ids[0].scheme",
                "must not be empty"
            )
        );
        assert_eq!(
            regulator("GB-CHC", "12\u{7f}34"),
            said(
                "group.safeguarding.regulator_ids[0].id",
                "contains control characters"
            )
        );
        assert_eq!(
            regulator("GB-CHC", &"7".repeat(65)),
            said(
                "group.safeguarding.regulator_ids[0].id",
                "longer than 64 characters"
            )
        );
        // Length is counted in characters, not bytes; a control character outside ASCII is
        // one too; a new line and a tab are not.
        let named = |name: String| refused(|g| g.name = name);
        assert_eq!(
            named("é".repeat(201)),
            said("group.name", "longer than 200 characters")
        );
        let mut group = crate::sample::group(1, 0, Utc::now());
        group.name = "é".repeat(200);
        group.description = "Two lines,\n\ttabbed.".into();
        group
            .validate()
            .expect("200 characters of two bytes each, a new line and a tab");
        assert_eq!(
            named("Café\u{85}".into()),
            said("group.name", "contains control characters")
        );
        assert_eq!(
            named("Caf\u{1}".into()),
            said("group.name", "contains control characters")
        );
    }
}

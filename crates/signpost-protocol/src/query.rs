//! The directory's query model: raw query-string parameters parsed into a typed
//! [`GroupQuery`], with a stable error code for every way a parameter can be wrong.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use signpost_postcodes::{Gazetteer, Postcode};

use crate::model::{validate_coordinates, Group, Interpreting, Listing, TimeOfDay, Weekday};
use crate::taxonomy;
use crate::text;
use crate::wire::{CapacityStatus, SearchCentre};

pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;
pub const MAX_RADIUS_KM: f64 = 100.0;
/// The most distinct words a text search may have.
pub const MAX_WORDS: usize = 10;

/// A place parameter (`near`, `postcode`) as given: left empty, as a form's blank field
/// sends it, it is not given.
pub fn given_place(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.trim().is_empty())
}

/// A distance in metres (Open Referral UK's `proximity`, FHIR's `near` in `m`) as the
/// kilometres of `radius_km`: one above 0, however small, stays above 0 (5e-324 m over
/// 1,000 would be 0 km, refused as not more than 0).
pub fn km_from_metres(metres: f64) -> f64 {
    let km = metres / 1000.0;
    if metres > 0.0 {
        km.max(f64::MIN_POSITIVE)
    } else {
        km
    }
}

/// `GET /v1/groups` parameters as they arrive (all optional strings; parsed by
/// [`GroupQuery::parse`]).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RawGroupQuery {
    /// Words to find in the name, the categories' labels or the description (each word
    /// also finds words it begins; case and accents ignored; words of one letter and repeats
    /// are left out; at most 10 words). Without `near`, results are ranked by relevance
    /// (BM25F: a word in the name weighs 3, in a category's label 2, in the description 1;
    /// repeated and rarer words count more, in a shorter text more), ties in the default order.
    pub text: Option<String>,
    /// Category ids, comma-separated; a group matches if it has any of them.
    pub category: Option<String>,
    /// `lat,lon` (WGS84): results sorted by distance, with the distance returned (left
    /// empty, none).
    pub near: Option<String>,
    /// A UK postcode (`LS8 5AB`), sector (`LS8 5`) or district (`LS8`), instead of `near`:
    /// results sorted by distance from where it is; the page says how precisely it was
    /// placed (`centre.precision`: unit, sector or district). Left empty, none.
    pub postcode: Option<String>,
    /// Radius around `near` or `postcode`, km (default 10, at most 100).
    #[param(value_type = Option<f64>, exclusive_minimum = 0, maximum = 100)]
    pub radius_km: Option<String>,
    /// BCP 47 language tags registered with IANA, comma-separated, in any case (`ar`,
    /// `ar-SY`); a group matches if it speaks any of them (`ar` finds `ar-SY` too). A
    /// language's name (`Arabic`) is refused with its code.
    pub language: Option<String>,
    /// `true`: accepting referrals, with capacity confirmed recently (stale capacity is unknown).
    #[param(value_type = Option<bool>)]
    pub accepting: Option<String>,
    /// At least this many places available (capacity confirmed recently).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295u64)]
    pub min_places: Option<String>,
    /// Safeguarding capability ids, comma-separated; a group must have all of them.
    pub safeguarding: Option<String>,
    /// `true`: has a designated safeguarding lead.
    #[param(value_type = Option<bool>)]
    pub safeguarding_lead: Option<String>,
    /// Achievement id (e.g. `trauma-informed-practice`): the organisation presents an
    /// attestation for it that passes every check.
    pub verified_training: Option<String>,
    /// `true`: free to attend.
    #[param(value_type = Option<bool>)]
    pub free: Option<String>,
    /// `true`: childcare offered.
    #[param(value_type = Option<bool>)]
    pub childcare: Option<String>,
    /// `true`: interpreting offered (professional or volunteer); `professional`: professional only.
    #[param(pattern = "^(true|false|professional)$")]
    pub interpreting: Option<String>,
    /// `true`: people can refer themselves.
    #[param(value_type = Option<bool>)]
    pub self_referral: Option<String>,
    /// `true`: GP registration not required.
    #[param(value_type = Option<bool>)]
    pub no_gp_registration: Option<String>,
    /// `true`: immigration status is not asked.
    #[param(value_type = Option<bool>)]
    pub no_status_check: Option<String>,
    /// `true`: meets in the evening (after 17:00).
    #[param(value_type = Option<bool>)]
    pub evening: Option<String>,
    /// Day of the week (`mon` ... `sun`, or `monday` ... `sunday`, in any case).
    #[param(
        pattern = "^([Mm][Oo][Nn]([Dd][Aa][Yy])?|[Tt][Uu][Ee]([Ss][Dd][Aa][Yy])?|[Ww][Ee][Dd]([Nn][Ee][Ss][Dd][Aa][Yy])?|[Tt][Hh][Uu]([Rr][Ss][Dd][Aa][Yy])?|[Ff][Rr][Ii]([Dd][Aa][Yy])?|[Ss][Aa][Tt]([Uu][Rr][Dd][Aa][Yy])?|[Ss][Uu][Nn]([Dd][Aa][Yy])?)$"
    )]
    pub day: Option<String>,
    /// `HH:MM`: in session at this time (with `day`, on that day).
    #[param(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub time: Option<String>,
    /// Age of the person, years: the group's age range admits it.
    #[param(value_type = Option<u32>, maximum = 130)]
    pub age: Option<String>,
    /// `false`: leave each result's signed envelope out of the page (lookups of one group
    /// always carry it).
    #[param(value_type = Option<bool>)]
    pub include_envelope: Option<String>,
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Results per page (default 20, at most 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// A point on the WGS84 ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// Great-circle distance, km (haversine, mean Earth radius).
    pub fn distance_km(&self, other: &Point) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * 6371.0088 * a.sqrt().asin()
    }

    /// The point rounded to 0.01° (about 1 km), for anything that is kept or logged.
    pub fn coarse(&self) -> Point {
        Point {
            lat: (self.lat * 100.0).round() / 100.0,
            lon: (self.lon * 100.0).round() / 100.0,
        }
    }
}

/// Interpreting wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterpretingWanted {
    Any,
    Professional,
}

/// A condition that only some surfaces ask for (Open Referral UK's filters), checked on the
/// listing itself after the index's bitmaps.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Signed on or after this time.
    ModifiedAfter(DateTime<Utc>),
    /// The group's minimum age is at least this.
    MinimumAgeAtLeast(f64),
    /// The group's maximum age is at most this.
    MaximumAgeAtMost(f64),
    /// A session on `day` (any day if none) opening at or after `opens_from` and closing at
    /// or before `closes_by`.
    Session {
        day: Option<Weekday>,
        opens_from: Option<TimeOfDay>,
        closes_by: Option<TimeOfDay>,
    },
    /// Staff or volunteers have had this check (a staff-check id of the taxonomy).
    StaffCheck(String),
    /// The group can safely support this need (a safeguarding capability id).
    Capability(String),
    /// An access or capacity fact holds.
    Fact(Fact),
    /// Any term of a vocabulary applies.
    AnyOf(Vocabulary),
    /// A session in the evening or at the weekend.
    EveningOrWeekend,
    /// Published by this node (FHIR's `organization`).
    Node(crate::DidKey),
    /// Meets somewhere (FHIR's Location searches).
    HasLocation,
    /// Any of these holds (FHIR's comma-separated `characteristic`).
    Any(Vec<Condition>),
    /// One of these listings, each named by its node and its id (FHIR's `_id`).
    Listings(Vec<(crate::DidKey, uuid::Uuid)>),
}

/// Access and capacity facts, as Open Referral UK publishes them (`signpost-access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    AcceptingReferrals,
    NotAcceptingReferrals,
    CapacityUnknown,
    Free,
    Childcare,
    TravelPaid,
    InterpretingProfessional,
    InterpretingVolunteer,
    InterpreterOutsideCommunity,
    SelfReferral,
    NoGpRegistration,
    NoStatusCheck,
    NoDataShared,
    DesignatedSafeguardingLead,
    WrittenSafeguardingPolicy,
    AssessmentRequired,
    Volunteering,
}

impl Fact {
    /// Whether the fact holds for a group whose capacity reads as `capacity`.
    pub fn holds(self, g: &Group, capacity: CapacityStatus) -> bool {
        let a = &g.access;
        match self {
            Self::AcceptingReferrals => capacity == CapacityStatus::Accepting,
            Self::NotAcceptingReferrals => capacity == CapacityStatus::NotAccepting,
            Self::CapacityUnknown => capacity == CapacityStatus::Unknown,
            Self::Free => a.cost.free,
            Self::Childcare => a.childcare,
            Self::TravelPaid => a.travel_paid,
            Self::InterpretingProfessional => a.interpreting == Interpreting::Professional,
            Self::InterpretingVolunteer => a.interpreting == Interpreting::Volunteer,
            Self::InterpreterOutsideCommunity => a.interpreter_outside_community,
            Self::SelfReferral => a.self_referral,
            Self::NoGpRegistration => !a.gp_registration_required,
            Self::NoStatusCheck => !a.immigration_status_asked,
            Self::NoDataShared => a.no_data_shared_with_authorities,
            Self::DesignatedSafeguardingLead => g.safeguarding.designated_lead,
            Self::WrittenSafeguardingPolicy => g.safeguarding.written_policy,
            Self::AssessmentRequired => g.capacity.assessment_required,
            Self::Volunteering => g.volunteering.offered,
        }
    }
}

/// The vocabularies a listing's terms come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    Categories,
    Safeguarding,
    StaffChecks,
    Training,
    Access,
}

impl Condition {
    /// Whether `listing` meets the condition; `capacity` is its capacity status now and
    /// `training` the achievements its organisation holds verified attestations for.
    pub fn holds(&self, listing: &Listing, capacity: CapacityStatus, training: &[String]) -> bool {
        let g = &listing.group;
        match self {
            Self::ModifiedAfter(t) => listing.issued_at >= *t,
            Self::MinimumAgeAtLeast(a) => g
                .age_range
                .and_then(|r| r.min)
                .is_some_and(|m| f64::from(m) >= *a),
            Self::MaximumAgeAtMost(a) => g
                .age_range
                .and_then(|r| r.max)
                .is_some_and(|m| f64::from(m) <= *a),
            Self::Session {
                day,
                opens_from,
                closes_by,
            } => g.schedule.iter().any(|s| {
                day.is_none_or(|d| s.day == d)
                    && opens_from.is_none_or(|t| s.opens >= t)
                    && closes_by.is_none_or(|t| s.closes <= t)
            }),
            Self::StaffCheck(c) => g.safeguarding.staff_checks.iter().any(|x| x == c),
            Self::Capability(c) => g.safeguarding.capabilities.iter().any(|x| x == c),
            Self::EveningOrWeekend => g
                .schedule
                .iter()
                .any(|s| s.is_evening() || s.day.is_weekend()),
            Self::Fact(f) => f.holds(g, capacity),
            Self::Node(id) => listing.node == *id,
            Self::HasLocation => g.location.is_some(),
            Self::Any(any) => any.iter().any(|c| c.holds(listing, capacity, training)),
            Self::Listings(named) => named
                .iter()
                .any(|(node, id)| *id == listing.id && *node == listing.node),
            Self::AnyOf(v) => match v {
                Vocabulary::Categories => !g.categories.is_empty(),
                Vocabulary::Safeguarding => !g.safeguarding.capabilities.is_empty(),
                Vocabulary::StaffChecks => !g.safeguarding.staff_checks.is_empty(),
                Vocabulary::Training => !training.is_empty(),
                // Capacity is always one of its three terms.
                Vocabulary::Access => true,
            },
        }
    }
}

/// A parsed, validated directory query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub words: Vec<String>,
    pub categories: Vec<String>,
    pub near: Option<(Point, f64)>,
    /// A postcode to search around, with the radius: [`GroupQuery::locate`] turns it into
    /// `near`.
    pub postcode: Option<(Postcode, f64)>,
    /// Conditions checked on each listing after the bitmaps (Open Referral UK's filters).
    pub conditions: Vec<Condition>,
    pub languages: Vec<String>,
    pub accepting: bool,
    pub min_places: Option<u32>,
    pub safeguarding: Vec<String>,
    pub safeguarding_lead: bool,
    pub verified_training: Option<String>,
    pub free: bool,
    pub childcare: bool,
    pub interpreting: Option<InterpretingWanted>,
    pub self_referral: bool,
    pub no_gp_registration: bool,
    pub no_status_check: bool,
    pub evening: bool,
    pub day: Option<Weekday>,
    pub time: Option<TimeOfDay>,
    pub age: Option<u8>,
    pub page: usize,
    pub per_page: usize,
    /// Leave envelopes out of a page of results.
    pub omit_envelopes: bool,
}

/// The kinds of mistake a query can make. Each has one row (code, status, title) in the error
/// table of `signpost-http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryCode {
    InvalidParameter,
    UnknownParameter,
    UnknownCategory,
    UnknownSafeguardingCapability,
    UnknownAchievement,
    InvalidLanguage,
    RadiusWithoutNear,
    InvalidCoordinates,
    InvalidRadius,
    InvalidDay,
    InvalidTime,
    InvalidPage,
    PerPageTooLarge,
    InvalidPostcode,
    UnknownPostcode,
    NearAndPostcode,
    TextTooBroad,
}

/// Why a query was refused: a stable code and a message naming the parameter. When the
/// query had several mistakes, this is the first, and `more` holds the others (each named
/// in the answer's `errors` list), so a caller fixes them all in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: QueryCode,
    /// The parameter as the request named it.
    pub parameter: Cow<'static, str>,
    pub message: String,
    /// The query's other mistakes, in the order of its parameters.
    pub more: Vec<QueryError>,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::wire::problems_detail(
            self.more.len() + 1,
            &self.parameter,
            &self.message,
        ))
    }
}

impl std::error::Error for QueryError {}

impl QueryError {
    pub fn new(
        code: QueryCode,
        parameter: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        err(code, parameter, message)
    }

    /// The same mistakes, with `from` named `to` in each: the engine's parameter as a
    /// surface's request named it (Open Referral UK's `search` for `text`).
    pub fn renamed(mut self, from: &str, to: &'static str) -> Self {
        for p in std::iter::once(&mut self.parameter)
            .chain(self.more.iter_mut().map(|m| &mut m.parameter))
        {
            if p == from {
                *p = to.into();
            }
        }
        self
    }

    /// Every mistake: this one (without the others), then the others.
    pub fn problems(&self) -> impl Iterator<Item = &QueryError> {
        std::iter::once(self).chain(&self.more)
    }
}

fn err(
    code: QueryCode,
    parameter: impl Into<Cow<'static, str>>,
    message: impl Into<String>,
) -> QueryError {
    QueryError {
        code,
        parameter: parameter.into(),
        message: message.into(),
        more: Vec::new(),
    }
}

/// The most mistakes one answer lists (a query naming thousands of unknown categories is
/// answered with the first of them, not with a list thousands long).
pub const MAX_PROBLEMS: usize = 20;

/// The mistakes found so far in a query: each parameter is checked whatever the others
/// hold, so one answer names every mistake (up to [`MAX_PROBLEMS`]).
#[derive(Debug, Default)]
pub struct Problems(Vec<QueryError>);

impl Problems {
    /// Keeps a mistake (with any others it holds), unless [`MAX_PROBLEMS`] are kept already.
    pub fn push(&mut self, e: QueryError) {
        let QueryError {
            code,
            parameter,
            message,
            more,
        } = e;
        for e in std::iter::once(err(code, parameter, message)).chain(more) {
            if self.0.len() < MAX_PROBLEMS {
                self.0.push(e);
            }
        }
    }

    /// A query string's pairs (as `web::Query<Vec<(String, String)>>` reads them) as `T`'s
    /// parameters, every one an optional string, keeping as a mistake each name `T` does not
    /// take and each given twice; the values are the caller's to check. For a query its
    /// extractor refused, so that those mistakes are named with the values' own.
    pub fn read<T>(&mut self, pairs: &[(String, String)]) -> T
    where
        T: serde::de::DeserializeOwned + Default + utoipa::IntoParams,
    {
        let names: Vec<String> = T::into_params(|| None)
            .into_iter()
            .map(|p| p.name)
            .collect();
        let mut known = serde_json::Map::new();
        for (name, value) in pairs {
            if !names.contains(name) {
                self.push(err(
                    QueryCode::UnknownParameter,
                    name.clone(),
                    format!(
                        "not a parameter of this endpoint; it takes: {}",
                        names.join(", ")
                    ),
                ));
            } else if known.contains_key(name) {
                self.push(err(
                    QueryCode::InvalidParameter,
                    name.clone(),
                    "given more than once; give it once",
                ));
            } else {
                known.insert(name.clone(), serde_json::Value::String(value.clone()));
            }
        }
        match serde_json::from_value(serde_json::Value::Object(known)) {
            Ok(read) => read,
            Err(_) => {
                self.push(err(
                    QueryCode::InvalidParameter,
                    "query",
                    "the parameters could not be read; check them against the API documentation",
                ));
                T::default()
            }
        }
    }

    /// No mistake found so far.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value, or `None` with its mistake kept.
    pub fn take<T>(&mut self, r: Result<T, QueryError>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }

    /// `last`'s value when neither it nor anything before was a mistake; otherwise `Err`
    /// with the first mistake and the others in it.
    pub fn finish_with<T>(mut self, last: Result<T, QueryError>) -> Result<T, QueryError> {
        let value = self.take(last);
        self.finish()?;
        // (`take` kept `last`'s mistake, so `finish` has returned it.)
        value.ok_or_else(|| err(QueryCode::InvalidParameter, "query", "could not be read"))
    }

    /// `Err` with the first mistake (and the others in it) when there was any.
    pub fn finish(self) -> Result<(), QueryError> {
        let mut all = self.0.into_iter();
        match all.next() {
            None => Ok(()),
            Some(mut first) => {
                first.more = all.collect();
                Err(first)
            }
        }
    }
}

/// A `true`/`false` parameter (absent is `false`); anything else is refused, naming it.
pub fn flag(parameter: &'static str, value: &Option<String>) -> Result<bool, QueryError> {
    match value.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(err(
            QueryCode::InvalidParameter,
            parameter,
            format!("expected true or false, got {other:?}"),
        )),
    }
}

fn number<T: std::str::FromStr>(
    parameter: &'static str,
    value: &Option<String>,
) -> Result<Option<T>, QueryError> {
    value
        .as_deref()
        .map(|v| {
            // As the API document says: a number, with nothing around it.
            v.parse::<T>().map_err(|_| {
                err(
                    QueryCode::InvalidParameter,
                    parameter,
                    format!("{v:?} is not a valid number"),
                )
            })
        })
        .transpose()
}

/// The most pages a search is read to (a page further is refused, not answered empty).
pub const MAX_PAGE: u64 = 1_000_000;

/// A whole number within `range`: one outside it (or too long to read, or negative) is
/// `out_of_range`'s words under `code`; anything else is "not a whole number".
fn whole(
    parameter: &'static str,
    value: &Option<String>,
    range: std::ops::RangeInclusive<u64>,
    code: QueryCode,
    out_of_range: impl Fn() -> String,
) -> Result<Option<u64>, QueryError> {
    let Some(v) = value.as_deref() else {
        return Ok(None);
    };
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            QueryCode::InvalidParameter,
            parameter,
            format!("{v:?} is not a whole number"),
        ));
    }
    match v.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(err(code, parameter, out_of_range())),
    }
}

fn list(value: &Option<String>) -> Vec<String> {
    value
        .as_deref()
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The distinct search words of `text` (repeats and, unless nothing else is left,
/// one-letter words left out).
fn search_words(text: &str) -> Result<Vec<String>, QueryError> {
    if text.chars().count() > 200 {
        return Err(err(
            QueryCode::InvalidParameter,
            "text",
            "longer than 200 characters",
        ));
    }
    // Repeated words count once; one-letter words (the "s" of "women's") would match
    // nearly everything as a prefix, so they are left out, unless nothing else is left.
    let mut words = text::words(text);
    if words.is_empty() && !text.trim().is_empty() {
        // Searched for, but nothing to search by (punctuation, or text that was not UTF-8):
        // never answered as if no text were given.
        return Err(err(
            QueryCode::InvalidParameter,
            "text",
            "search for words of letters or numbers; this text has none",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    let longer: Vec<String> = words.iter().filter(|w| w.len() > 1).cloned().collect();
    if !words.is_empty() && longer.is_empty() {
        return Err(err(
            QueryCode::TextTooBroad,
            "text",
            "search for words of at least 2 letters",
        ));
    }
    if longer.len() > MAX_WORDS {
        return Err(err(
            QueryCode::TextTooBroad,
            "text",
            format!("search for at most {MAX_WORDS} different words"),
        ));
    }
    Ok(longer)
}

/// The ids of `value` (comma-separated) that `vocabulary` holds; each other is a mistake.
fn known_ids(
    problems: &mut Problems,
    value: &Option<String>,
    vocabulary: &[taxonomy::Term],
    mistake: (QueryCode, &'static str, &str),
) -> Vec<String> {
    let (code, parameter, what) = mistake;
    let ids = list(value);
    for id in &ids {
        if !taxonomy::contains(vocabulary, id) {
            problems.push(err(
                code,
                parameter,
                format!("unknown {what} {id:?}; see GET /v1/taxonomy"),
            ));
        }
    }
    ids
}

/// `lat,lon`, on the Earth.
fn coordinates(v: &str) -> Result<Point, QueryError> {
    let (lat, lon) = v
        .split_once(',')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .ok_or_else(|| {
            err(
                QueryCode::InvalidCoordinates,
                "near",
                format!("{v:?} is not lat,lon"),
            )
        })?;
    validate_coordinates(lat, lon).map_err(|m| err(QueryCode::InvalidCoordinates, "near", m))?;
    Ok(Point { lat, lon })
}

impl GroupQuery {
    /// Parses every parameter; when any is wrong, the error names each mistake (the first,
    /// with the others in [`QueryError::more`]).
    pub fn parse(raw: &RawGroupQuery) -> Result<Self, QueryError> {
        Self::parse_after(raw, Problems::default())
    }

    /// As [`GroupQuery::parse`], after the mistakes already found in the request (its
    /// parameters' names, by [`Problems::read`]), which come first in the error.
    pub fn parse_after(raw: &RawGroupQuery, mut problems: Problems) -> Result<Self, QueryError> {
        let words = problems
            .take(search_words(raw.text.as_deref().unwrap_or("")))
            .unwrap_or_default();
        let categories = known_ids(
            &mut problems,
            &raw.category,
            taxonomy::CATEGORIES,
            (QueryCode::UnknownCategory, "category", "category"),
        );
        let safeguarding = known_ids(
            &mut problems,
            &raw.safeguarding,
            taxonomy::SAFEGUARDING_CAPABILITIES,
            (
                QueryCode::UnknownSafeguardingCapability,
                "safeguarding",
                "capability",
            ),
        );
        let verified_training = raw.verified_training.clone().filter(|s| !s.is_empty());
        if let Some(a) = &verified_training {
            if !taxonomy::contains(taxonomy::ACHIEVEMENTS, a) {
                problems.push(err(
                    QueryCode::UnknownAchievement,
                    "verified_training",
                    format!("unknown achievement {a:?}; see GET /v1/taxonomy"),
                ));
            }
        }
        // Matched as RFC 4647 lookup does, case-insensitively: `ar` finds groups speaking
        // `ar` or `ar-SY`; `ar-SY` finds `ar-SY` and, falling back, `ar`.
        let mut languages = Vec::new();
        for l in list(&raw.language) {
            match language_query_problem(&l) {
                None => languages.push(l.to_ascii_lowercase()),
                Some(message) => {
                    problems.push(err(QueryCode::InvalidLanguage, "language", message))
                }
            }
        }

        // The radius is checked once, whether it is around `near` or a postcode.
        let radius = problems
            .take(number::<f64>("radius_km", &raw.radius_km))
            .map(|r| {
                let radius = r.unwrap_or(10.0);
                if !radius.is_finite() || radius <= 0.0 || radius > MAX_RADIUS_KM {
                    return Err(err(
                        QueryCode::InvalidRadius,
                        "radius_km",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                Ok(radius)
            });
        let mut place_given = false;
        let (postcode, near) = match (given_place(&raw.postcode), given_place(&raw.near)) {
            (Some(_), Some(_)) => {
                problems.push(err(
                    QueryCode::NearAndPostcode,
                    "postcode",
                    "give either near or postcode, not both",
                ));
                (None, None)
            }
            (Some(p), None) => {
                place_given = true;
                let postcode = problems.take(
                    Postcode::parse(p)
                        .map_err(|e| err(QueryCode::InvalidPostcode, "postcode", e.to_string())),
                );
                (postcode, None)
            }
            (None, Some(v)) => {
                place_given = true;
                (None, problems.take(coordinates(v)))
            }
            (None, None) => {
                // (A radius that is not a number is named as that alone.)
                if raw.radius_km.is_some() && radius.is_some() {
                    problems.push(err(
                        QueryCode::RadiusWithoutNear,
                        "radius_km",
                        "needs near=lat,lon or postcode too",
                    ));
                }
                (None, None)
            }
        };
        let radius = match radius {
            Some(checked) if place_given => problems.take(checked),
            _ => None,
        };

        let interpreting = match raw.interpreting.as_deref() {
            None | Some("false") => None,
            Some("true") => Some(InterpretingWanted::Any),
            Some("professional") => Some(InterpretingWanted::Professional),
            Some(other) => {
                problems.push(err(
                    QueryCode::InvalidParameter,
                    "interpreting",
                    format!("expected true, false or professional, got {other:?}"),
                ));
                None
            }
        };
        let day = raw.day.as_deref().and_then(|d| {
            problems.take(
                d.parse::<Weekday>()
                    .map_err(|m| err(QueryCode::InvalidDay, "day", m)),
            )
        });
        let time = raw.time.as_deref().and_then(|t| {
            problems.take(
                t.parse::<TimeOfDay>()
                    .map_err(|m| err(QueryCode::InvalidTime, "time", m)),
            )
        });
        let age = problems
            .take(whole(
                "age",
                &raw.age,
                0..=130,
                QueryCode::InvalidParameter,
                || "ages are 0 to 130".into(),
            ))
            .flatten()
            .map(|a| a as u8);
        let page = problems
            .take(whole(
                "page",
                &raw.page,
                1..=MAX_PAGE,
                QueryCode::InvalidPage,
                || format!("pages start at 1 and go up to {MAX_PAGE}"),
            ))
            .flatten()
            .map_or(1, |p| p as usize);
        let per_page = problems
            .take(whole(
                "per_page",
                &raw.per_page,
                1..=MAX_PER_PAGE as u64,
                QueryCode::PerPageTooLarge,
                || format!("must be between 1 and {MAX_PER_PAGE}"),
            ))
            .flatten()
            .map_or(DEFAULT_PER_PAGE, |n| n as usize);
        let mut on = |parameter: &'static str, value: &Option<String>| {
            problems.take(flag(parameter, value)).unwrap_or(false)
        };
        let accepting = on("accepting", &raw.accepting);
        let safeguarding_lead = on("safeguarding_lead", &raw.safeguarding_lead);
        let free = on("free", &raw.free);
        let childcare = on("childcare", &raw.childcare);
        let self_referral = on("self_referral", &raw.self_referral);
        let no_gp_registration = on("no_gp_registration", &raw.no_gp_registration);
        let no_status_check = on("no_status_check", &raw.no_status_check);
        let evening = on("evening", &raw.evening);
        let min_places = problems
            .take(whole(
                "min_places",
                &raw.min_places,
                0..=u64::from(u32::MAX),
                QueryCode::InvalidParameter,
                || "must be 0 or more places".into(),
            ))
            .flatten()
            .map(|n| n as u32);
        let omit_envelopes = match raw.include_envelope.as_deref() {
            None | Some("true") => false,
            Some("false") => true,
            Some(other) => {
                problems.push(err(
                    QueryCode::InvalidParameter,
                    "include_envelope",
                    format!("expected true or false, got {other:?}"),
                ));
                false
            }
        };
        problems.finish()?;
        // With no mistake, a place given has its radius.
        let radius = radius.unwrap_or(10.0);
        Ok(Self {
            words,
            categories,
            near: near.map(|p| (p, radius)),
            postcode: postcode.map(|p| (p, radius)),
            conditions: Vec::new(),
            languages,
            accepting,
            min_places,
            safeguarding,
            safeguarding_lead,
            verified_training,
            free,
            childcare,
            interpreting,
            self_referral,
            no_gp_registration,
            no_status_check,
            evening,
            day,
            time,
            age,
            page,
            per_page,
            omit_envelopes,
        })
    }
}

impl GroupQuery {
    /// Places the query's postcode (if any) with `gazetteer`: `near` becomes where it is, and
    /// the answer says where and how precisely. A well-formed postcode the data do not hold
    /// is an `unknown_postcode` error, never an empty result.
    pub fn locate(&mut self, gazetteer: &Gazetteer) -> Result<Option<SearchCentre>, QueryError> {
        let Some((postcode, radius)) = &self.postcode else {
            return Ok(None);
        };
        let place = gazetteer.locate(postcode).ok_or_else(|| {
            err(
                QueryCode::UnknownPostcode,
                "postcode",
                format!("{postcode} is not in this directory's postcode data (Great Britain only)"),
            )
        })?;
        self.near = Some((
            Point {
                lat: place.lat,
                lon: place.lon,
            },
            *radius,
        ));
        Ok(Some(SearchCentre {
            postcode: postcode.to_string(),
            precision: place.precision.as_str().to_owned(),
            lat: place.lat,
            lon: place.lon,
        }))
    }

    /// The query as `/v1/groups` parameters (what [`GroupQuery::parse`] reads back).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let mut flag = |name: &'static str, on: bool| {
            if on {
                out.push((name, "true".to_owned()));
            }
        };
        flag("accepting", self.accepting);
        flag("safeguarding_lead", self.safeguarding_lead);
        flag("free", self.free);
        flag("childcare", self.childcare);
        flag("self_referral", self.self_referral);
        flag("no_gp_registration", self.no_gp_registration);
        flag("no_status_check", self.no_status_check);
        flag("evening", self.evening);
        if !self.words.is_empty() {
            out.push(("text", self.words.join(" ")));
        }
        for (name, list) in [
            ("category", &self.categories),
            ("language", &self.languages),
            ("safeguarding", &self.safeguarding),
        ] {
            if !list.is_empty() {
                out.push((name, list.join(",")));
            }
        }
        if let Some((p, r)) = &self.postcode {
            out.push(("postcode", p.to_string()));
            out.push(("radius_km", r.to_string()));
        } else if let Some((p, r)) = self.near {
            out.push(("near", format!("{},{}", p.lat, p.lon)));
            out.push(("radius_km", r.to_string()));
        }
        if let Some(n) = self.min_places {
            out.push(("min_places", n.to_string()));
        }
        if let Some(a) = &self.verified_training {
            out.push(("verified_training", a.clone()));
        }
        match self.interpreting {
            Some(InterpretingWanted::Any) => out.push(("interpreting", "true".into())),
            Some(InterpretingWanted::Professional) => {
                out.push(("interpreting", "professional".into()))
            }
            None => {}
        }
        if let Some(d) = self.day {
            out.push(("day", d.as_str().to_owned()));
        }
        if let Some(t) = self.time {
            out.push(("time", t.to_string()));
        }
        if let Some(a) = self.age {
            out.push(("age", a.to_string()));
        }
        if self.omit_envelopes {
            out.push(("include_envelope", "false".into()));
        }
        out.push(("page", self.page.max(1).to_string()));
        out.push(("per_page", self.per_page.clamp(1, MAX_PER_PAGE).to_string()));
        out
    }
}

/// Why `language=` cannot be searched for, in words, or `None` (any case is searched): a
/// tag that is not well formed, or well formed but not in the IANA registry (`english` is
/// both well formed and no language, and would otherwise find nothing without a word),
/// naming the code when a language's name was given.
fn language_query_problem(tag: &str) -> Option<String> {
    use crate::languages::TagProblem;
    match crate::languages::tag_problem(tag)? {
        TagProblem::NotCanonical(_) => None,
        TagProblem::Name(l) => Some(format!(
            "{tag:?} is a language's name, not its code: for {} give {}",
            l.english, l.tag
        )),
        TagProblem::NotRegistered => Some(format!(
            "{tag:?} is not a registered language code: give one like ar (Arabic), or ar-SY \
             for Syrian Arabic"
        )),
        TagProblem::NotWellFormed => Some(format!(
            "{tag:?} is not a language code: give one like ar (Arabic), or ar-SY for Syrian \
             Arabic"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that trusts the OpenAPI is neither refused a value its pattern allows, nor
    /// told a value is fine that the server refuses.
    #[test]
    fn the_documented_patterns_accept_exactly_what_is_parsed() {
        use utoipa::IntoParams;
        let params = RawGroupQuery::into_params(|| None);
        let pattern = |name: &str| {
            let param = params.iter().find(|p| p.name == name).expect(name);
            let param = serde_json::to_value(param).expect("a parameter serialises");
            regex::Regex::new(param["schema"]["pattern"].as_str().expect("a pattern"))
                .expect("a regex")
        };
        // (parameter, values to try, the query with the value)
        type Case = (
            &'static str,
            &'static [&'static str],
            fn(&str) -> RawGroupQuery,
        );
        let cases: [Case; 3] = [
            ("day", crate::sample::DAY_SPELLINGS, |v| RawGroupQuery {
                day: Some(v.into()),
                ..Default::default()
            }),
            (
                "time",
                &[
                    "00:00", "09:30", "9:30", "23:59", "24:00", "12:60", "1200", "12:05 ", "",
                ],
                |v| RawGroupQuery {
                    time: Some(v.into()),
                    ..Default::default()
                },
            ),
            (
                "interpreting",
                &[
                    "true",
                    "false",
                    "professional",
                    "TRUE",
                    "yes",
                    "",
                    "professional ",
                ],
                |v| RawGroupQuery {
                    interpreting: Some(v.into()),
                    ..Default::default()
                },
            ),
        ];
        for (name, values, query) in cases {
            let pattern = pattern(name);
            for v in values {
                let parsed = GroupQuery::parse(&query(v)).is_ok();
                assert_eq!(pattern.is_match(v), parsed, "{name}={v:?}");
            }
        }
    }

    fn raw(pairs: &[(&str, &str)]) -> RawGroupQuery {
        let qs: String = pairs.iter().map(|(k, v)| format!("{k}={v}&")).collect();
        serde_json::from_value(serde_json::Value::Object(
            url_pairs(&qs)
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        ))
        .unwrap()
    }

    fn url_pairs(qs: &str) -> Vec<(String, String)> {
        qs.split('&')
            .filter(|s| !s.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn parses_a_full_query() {
        let q = GroupQuery::parse(&raw(&[
            ("text", "Café Conversation"),
            ("category", "esol,conversation-cafe"),
            ("near", "53.8,-1.55"),
            ("radius_km", "5"),
            ("language", "ar"),
            ("accepting", "true"),
            ("safeguarding", "torture-survivors"),
            ("free", "true"),
            ("day", "tue"),
            ("time", "18:30"),
            ("per_page", "50"),
        ]))
        .unwrap();
        assert_eq!(q.words, vec!["cafe", "conversation"]);
        assert_eq!(q.categories.len(), 2);
        assert_eq!(q.near.map(|(_, r)| r), Some(5.0));
        assert!(q.accepting && q.free);
        assert_eq!(q.day, Some(Weekday::Tue));
        assert_eq!(q.per_page, 50);
    }

    #[test]
    fn repeated_and_one_letter_words_cost_nothing() {
        let q = GroupQuery::parse(&raw(&[("text", "women's women's group group group")])).unwrap();
        assert_eq!(q.words, vec!["women", "group"]);
    }

    #[test]
    fn each_mistake_has_its_code() {
        let code = |pairs: &[(&str, &str)]| GroupQuery::parse(&raw(pairs)).unwrap_err().code;
        assert_eq!(code(&[("radius_km", "5")]), QueryCode::RadiusWithoutNear);
        assert_eq!(code(&[("near", "91,0")]), QueryCode::InvalidCoordinates);
        assert_eq!(code(&[("near", "abc")]), QueryCode::InvalidCoordinates);
        assert_eq!(code(&[("near", "NaN,0")]), QueryCode::InvalidCoordinates);
        assert_eq!(
            code(&[("near", "50,0"), ("radius_km", "-1")]),
            QueryCode::InvalidRadius
        );
        assert_eq!(code(&[("category", "nope")]), QueryCode::UnknownCategory);
        assert_eq!(code(&[("per_page", "1000")]), QueryCode::PerPageTooLarge);
        assert_eq!(code(&[("page", "0")]), QueryCode::InvalidPage);
        assert_eq!(code(&[("free", "yes")]), QueryCode::InvalidParameter);
        assert_eq!(code(&[("text", "a")]), QueryCode::TextTooBroad);
        assert_eq!(code(&[("text", "a b c")]), QueryCode::TextTooBroad);
        let many: String = (0..11).map(|i| format!("word{i} ")).collect();
        assert_eq!(code(&[("text", &many)]), QueryCode::TextTooBroad);
        // Text with nothing to search by is refused, never answered as no text at all;
        // blank text is no text.
        for nothing in ["!!!", "\u{FFFD}", " - ? "] {
            assert_eq!(
                code(&[("text", nothing)]),
                QueryCode::InvalidParameter,
                "{nothing:?}"
            );
        }
        assert!(GroupQuery::parse(&raw(&[("text", "  ")])).is_ok());
        assert_eq!(
            code(&[("near", "53.8,-1.5"), ("radius_km", "101")]),
            QueryCode::InvalidRadius
        );
        assert_eq!(code(&[("day", "someday")]), QueryCode::InvalidDay);
        assert_eq!(code(&[("time", "25:00")]), QueryCode::InvalidTime);
        assert_eq!(code(&[("language", "!!")]), QueryCode::InvalidLanguage);
        let q = GroupQuery::parse(&raw(&[("language", "AR,ar-SY")])).unwrap();
        assert_eq!(q.languages, vec!["ar", "ar-sy"], "any case is accepted");
        for registered in ["prs", "zh-Hant", "FA-af", "ckb", "sgn-GB"] {
            assert!(
                GroupQuery::parse(&raw(&[("language", registered)])).is_ok(),
                "{registered}"
            );
        }
        // Whole numbers: out of range in the range's words (negative, or too long to read,
        // included); anything else is not a whole number.
        for (given, code, says) in [
            (
                ("age", "-3"),
                QueryCode::InvalidParameter,
                "age: ages are 0 to 130",
            ),
            (
                ("age", "300"),
                QueryCode::InvalidParameter,
                "age: ages are 0 to 130",
            ),
            (
                ("age", "4.5"),
                QueryCode::InvalidParameter,
                "age: \"4.5\" is not a whole number",
            ),
            (
                ("page", "-1"),
                QueryCode::InvalidPage,
                "page: pages start at 1 and go up to 1000000",
            ),
            (
                ("page", "99999999999999999999999"),
                QueryCode::InvalidPage,
                "go up to 1000000",
            ),
            (
                ("per_page", "-5"),
                QueryCode::PerPageTooLarge,
                "per_page: must be between 1 and 100",
            ),
            (
                ("per_page", "ten"),
                QueryCode::InvalidParameter,
                "\"ten\" is not a whole number",
            ),
            (
                ("min_places", "-1"),
                QueryCode::InvalidParameter,
                "min_places: must be 0 or more places",
            ),
            (
                ("min_places", "-"),
                QueryCode::InvalidParameter,
                "\"-\" is not a whole number",
            ),
        ] {
            let e = GroupQuery::parse(&raw(&[given])).unwrap_err();
            assert_eq!(e.code, code, "{given:?}");
            assert!(e.to_string().contains(says), "{given:?}: {e}");
        }
        let q = GroupQuery::parse(&raw(&[("age", "130"), ("page", "+2"), ("min_places", "0")]))
            .unwrap();
        assert_eq!((q.age, q.page, q.min_places), (Some(130), 2, Some(0)));
        // Well formed, but no language: refused in words rather than finding nothing.
        for (given, says) in [
            (
                "english",
                "\"english\" is a language's name, not its code: for English give en",
            ),
            (
                "Arabic",
                "\"Arabic\" is a language's name, not its code: for Arabic give ar",
            ),
            ("klingon", "\"klingon\" is not a registered language code"),
            ("ar-UX", "\"ar-UX\" is not a registered language code"),
        ] {
            let e = GroupQuery::parse(&raw(&[("language", given)])).unwrap_err();
            assert_eq!(e.code, QueryCode::InvalidLanguage, "{given}");
            assert!(e.to_string().contains(says), "{given}: {e}");
        }
        assert_eq!(
            code(&[("verified_training", "juggling")]),
            QueryCode::UnknownAchievement
        );
        assert_eq!(
            code(&[("safeguarding", "x")]),
            QueryCode::UnknownSafeguardingCapability
        );
    }

    /// Each mistake's code and parameter, in order.
    fn found(e: &QueryError) -> Vec<(QueryCode, &str)> {
        e.problems()
            .map(|p| (p.code, p.parameter.as_ref()))
            .collect()
    }

    #[test]
    fn every_mistake_is_named_in_one_error() {
        let e = GroupQuery::parse(&raw(&[
            ("text", "a"),
            ("category", "nope,esol,knitting"),
            ("language", "!!"),
            ("near", "53.8,-1.5"),
            ("radius_km", "0"),
            ("day", "someday"),
            ("age", "200"),
            ("per_page", "0"),
            ("free", "yes"),
            ("include_envelope", "no"),
        ]))
        .unwrap_err();
        assert_eq!(
            found(&e),
            [
                (QueryCode::TextTooBroad, "text"),
                (QueryCode::UnknownCategory, "category"),
                (QueryCode::UnknownCategory, "category"),
                (QueryCode::InvalidLanguage, "language"),
                (QueryCode::InvalidRadius, "radius_km"),
                (QueryCode::InvalidDay, "day"),
                (QueryCode::InvalidParameter, "age"),
                (QueryCode::PerPageTooLarge, "per_page"),
                (QueryCode::InvalidParameter, "free"),
                (QueryCode::InvalidParameter, "include_envelope"),
            ]
        );
        // Each unknown category is named; the first mistake leads, the count says how many.
        assert!(e.more[0].message.contains("\"nope\""), "{:?}", e.more[0]);
        assert!(
            e.more[1].message.contains("\"knitting\""),
            "{:?}",
            e.more[1]
        );
        assert_eq!(
            e.to_string(),
            "10 problems, each in `errors`; the first, text: search for words of at least 2 letters"
        );
        // A number given empty or with spaces is not one (the API document's integer).
        let e = GroupQuery::parse(&raw(&[("page", ""), ("per_page", " 5"), ("age", "7 ")]))
            .unwrap_err();
        assert_eq!(
            found(&e),
            [
                (QueryCode::InvalidParameter, "age"),
                (QueryCode::InvalidParameter, "page"),
                (QueryCode::InvalidParameter, "per_page"),
            ]
        );
        // One mistake alone reads as before.
        let one = GroupQuery::parse(&raw(&[("day", "someday"), ("free", "true")])).unwrap_err();
        assert!(one.more.is_empty());
        assert!(one.to_string().starts_with("day: "), "{one}");
    }

    #[test]
    fn a_refused_query_read_again_names_unknown_and_repeated_parameters() {
        use utoipa::IntoParams;
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        // Every parameter the endpoint documents is read into its own field.
        for p in RawGroupQuery::into_params(|| None) {
            let mut problems = Problems::default();
            let raw: RawGroupQuery = problems.read(&pairs(&[(&p.name, "x")]));
            assert!(problems.finish().is_ok(), "{}", p.name);
            assert_ne!(
                format!("{raw:?}"),
                format!("{:?}", RawGroupQuery::default()),
                "{}",
                p.name
            );
        }
        let mut problems = Problems::default();
        let raw: RawGroupQuery = problems.read(&pairs(&[
            ("lang", "ar"),
            ("free", "true"),
            ("free", "false"),
            ("day", "someday"),
        ]));
        assert_eq!(raw.free.as_deref(), Some("true"), "the first is kept");
        let e = GroupQuery::parse_after(&raw, problems).unwrap_err();
        assert_eq!(
            found(&e),
            [
                (QueryCode::UnknownParameter, "lang"),
                (QueryCode::InvalidParameter, "free"),
                (QueryCode::InvalidDay, "day"),
            ]
        );
        assert!(
            e.message
                .contains("it takes: text, category, near, postcode"),
            "{e}"
        );
    }

    #[test]
    fn a_long_list_of_mistakes_is_cut_short() {
        let many: Vec<String> = (0..500).map(|i| format!("unknown-{i}")).collect();
        let e =
            GroupQuery::parse(&raw(&[("category", &many.join(",")), ("free", "yes")])).unwrap_err();
        assert_eq!(e.problems().count(), MAX_PROBLEMS);
        assert!(e.message.contains("unknown-0"), "{e}");
        assert!(e.to_string().starts_with("20 problems"), "{e}");
    }

    #[test]
    fn a_parameter_that_needs_another_is_named_once() {
        let codes = |pairs: &[(&str, &str)]| -> Vec<QueryCode> {
            GroupQuery::parse(&raw(pairs))
                .unwrap_err()
                .problems()
                .map(|p| p.code)
                .collect()
        };
        // A radius with no place: only that, not also out of range.
        assert_eq!(
            codes(&[("radius_km", "500")]),
            [QueryCode::RadiusWithoutNear]
        );
        // A radius that is not a number: only that.
        assert_eq!(
            codes(&[("radius_km", "far")]),
            [QueryCode::InvalidParameter]
        );
        // Both places: neither read further, the radius not checked.
        assert_eq!(
            codes(&[("near", "x"), ("postcode", "nope"), ("radius_km", "-1")]),
            [QueryCode::NearAndPostcode]
        );
        // A bad place and a bad radius: both.
        assert_eq!(
            codes(&[("postcode", "nope"), ("radius_km", "-1")]),
            [QueryCode::InvalidPostcode, QueryCode::InvalidRadius]
        );
        // A page that is not a number is not also out of range.
        assert_eq!(codes(&[("page", "x")]), [QueryCode::InvalidParameter]);
        // With no mistake the radius applies to the place given, 10 km by default.
        let q = GroupQuery::parse(&raw(&[("postcode", "LS8 5AB")])).unwrap();
        assert_eq!(q.postcode.map(|(_, r)| r), Some(10.0));
        let q = GroupQuery::parse(&raw(&[("near", "53.8,-1.5"), ("radius_km", "3")])).unwrap();
        assert_eq!(q.near.map(|(_, r)| r), Some(3.0));
    }

    #[test]
    fn metres_are_kilometres_above_0_however_few() {
        assert_eq!(km_from_metres(2500.0), 2.5);
        assert!(km_from_metres(5e-324) > 0.0);
        assert!(km_from_metres(0.001) > 0.0);
        // Not a distance: left for the radius's own check to refuse.
        assert_eq!(km_from_metres(0.0), 0.0);
        assert!(km_from_metres(-1.0) < 0.0);
    }

    #[test]
    fn a_place_left_blank_is_not_given() {
        // As a form's blank fields send them: neither place, so no "not both".
        let q = GroupQuery::parse(&raw(&[("near", ""), ("postcode", " ")])).unwrap();
        assert!(q.near.is_none() && q.postcode.is_none());
        // One blank and one given: the given one is used.
        let q = GroupQuery::parse(&raw(&[("near", ""), ("postcode", "LS8 5AB")])).unwrap();
        assert!(q.postcode.is_some() && q.near.is_none());
        // A radius still needs a place.
        let e = GroupQuery::parse(&raw(&[("postcode", ""), ("radius_km", "5")])).unwrap_err();
        assert_eq!(e.code, QueryCode::RadiusWithoutNear);
    }

    #[test]
    fn distances_are_right() {
        let leeds = Point {
            lat: 53.7997,
            lon: -1.5492,
        };
        let bradford = Point {
            lat: 53.7938,
            lon: -1.7520,
        };
        let d = leeds.distance_km(&bradford);
        assert!((13.0..14.0).contains(&d), "{d}");
        assert_eq!(
            leeds.coarse(),
            Point {
                lat: 53.8,
                lon: -1.55
            }
        );
    }
}

//! The directory's query model: raw query-string parameters parsed into a typed
//! [`GroupQuery`], with a stable error code for every way a parameter can be wrong.

use serde::Deserialize;

use crate::model::{validate_coordinates, TimeOfDay, Weekday};
use crate::taxonomy;
use crate::text;

pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;
pub const MAX_RADIUS_KM: f64 = 500.0;

/// `GET /v1/groups` parameters as they arrive (all optional strings; parsed by
/// [`GroupQuery::parse`]).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RawGroupQuery {
    /// Words to find in the name or description (case and accents ignored).
    pub text: Option<String>,
    /// Category ids, comma-separated; a group matches if it has any of them.
    pub category: Option<String>,
    /// `lat,lon` (WGS84): results sorted by distance, with the distance returned.
    pub near: Option<String>,
    /// Radius around `near`, km (default 10, at most 500).
    pub radius_km: Option<String>,
    /// BCP 47 language tags, comma-separated; a group matches if it speaks any of them.
    pub language: Option<String>,
    /// `true`: accepting referrals, with capacity confirmed recently (stale capacity is unknown).
    pub accepting: Option<String>,
    /// At least this many places available (capacity confirmed recently).
    pub min_places: Option<String>,
    /// Safeguarding capability ids, comma-separated; a group must have all of them.
    pub safeguarding: Option<String>,
    /// `true`: has a designated safeguarding lead.
    pub safeguarding_lead: Option<String>,
    /// Achievement id (e.g. `trauma-informed-practice`): the organisation presents an
    /// attestation for it that passes every check.
    pub verified_training: Option<String>,
    /// `true`: free to attend.
    pub free: Option<String>,
    /// `true`: childcare offered.
    pub childcare: Option<String>,
    /// `true`: interpreting offered (professional or volunteer); `professional`: professional only.
    pub interpreting: Option<String>,
    /// `true`: people can refer themselves.
    pub self_referral: Option<String>,
    /// `true`: GP registration not required.
    pub no_gp_registration: Option<String>,
    /// `true`: immigration status is not asked.
    pub no_status_check: Option<String>,
    /// `true`: meets in the evening (after 17:00).
    pub evening: Option<String>,
    /// Day of the week (`mon` ... `sun`).
    pub day: Option<String>,
    /// `HH:MM`: in session at this time (with `day`, on that day).
    pub time: Option<String>,
    /// Age of the person, years: the group's age range admits it.
    pub age: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
    /// Results per page (default 20, at most 100).
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

/// A parsed, validated directory query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub words: Vec<String>,
    pub categories: Vec<String>,
    pub near: Option<(Point, f64)>,
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
}

/// Why a query was refused: a stable code and a message naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    pub code: &'static str,
    pub parameter: &'static str,
    pub message: String,
}

fn err(code: &'static str, parameter: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        code,
        parameter,
        message: message.into(),
    }
}

fn flag(parameter: &'static str, value: &Option<String>) -> Result<bool, QueryError> {
    match value.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(err(
            "invalid_parameter",
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
            v.trim().parse::<T>().map_err(|_| {
                err(
                    "invalid_parameter",
                    parameter,
                    format!("{v:?} is not a valid number"),
                )
            })
        })
        .transpose()
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

impl GroupQuery {
    pub fn parse(raw: &RawGroupQuery) -> Result<Self, QueryError> {
        let text = raw.text.as_deref().unwrap_or("");
        if text.chars().count() > 200 {
            return Err(err(
                "invalid_parameter",
                "text",
                "longer than 200 characters",
            ));
        }
        let words = text::words(text);

        let categories = list(&raw.category);
        for c in &categories {
            if !taxonomy::contains(taxonomy::CATEGORIES, c) {
                return Err(err(
                    "unknown_category",
                    "category",
                    format!("unknown category {c:?}; see GET /v1/taxonomy"),
                ));
            }
        }
        let safeguarding = list(&raw.safeguarding);
        for c in &safeguarding {
            if !taxonomy::contains(taxonomy::SAFEGUARDING_CAPABILITIES, c) {
                return Err(err(
                    "unknown_safeguarding_capability",
                    "safeguarding",
                    format!("unknown capability {c:?}; see GET /v1/taxonomy"),
                ));
            }
        }
        let verified_training = raw.verified_training.clone().filter(|s| !s.is_empty());
        if let Some(a) = &verified_training {
            if !taxonomy::contains(taxonomy::ACHIEVEMENTS, a) {
                return Err(err(
                    "unknown_achievement",
                    "verified_training",
                    format!("unknown achievement {a:?}; see GET /v1/taxonomy"),
                ));
            }
        }
        let languages = list(&raw.language);
        for l in &languages {
            crate::model::validate_language_tag("language", l)
                .map_err(|e| err("invalid_language", "language", e.problem))?;
        }

        let radius: Option<f64> = number("radius_km", &raw.radius_km)?;
        let near = match raw.near.as_deref() {
            None => {
                if radius.is_some() {
                    return Err(err(
                        "radius_without_near",
                        "radius_km",
                        "radius_km needs near=lat,lon",
                    ));
                }
                None
            }
            Some(v) => {
                let (lat, lon) = v
                    .split_once(',')
                    .and_then(|(a, b)| {
                        Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                    })
                    .ok_or_else(|| {
                        err(
                            "invalid_coordinates",
                            "near",
                            format!("{v:?} is not lat,lon"),
                        )
                    })?;
                validate_coordinates(lat, lon)
                    .map_err(|m| err("invalid_coordinates", "near", m))?;
                let radius = radius.unwrap_or(10.0);
                if !radius.is_finite() || radius <= 0.0 || radius > MAX_RADIUS_KM {
                    return Err(err(
                        "invalid_radius",
                        "radius_km",
                        format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
                    ));
                }
                Some((Point { lat, lon }, radius))
            }
        };

        let interpreting = match raw.interpreting.as_deref() {
            None | Some("false") => None,
            Some("true") => Some(InterpretingWanted::Any),
            Some("professional") => Some(InterpretingWanted::Professional),
            Some(other) => {
                return Err(err(
                    "invalid_parameter",
                    "interpreting",
                    format!("expected true, false or professional, got {other:?}"),
                ))
            }
        };
        let day = raw
            .day
            .as_deref()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|m| err("invalid_day", "day", m))
            })
            .transpose()?;
        let time = raw
            .time
            .as_deref()
            .map(|t| {
                t.parse::<TimeOfDay>()
                    .map_err(|m| err("invalid_time", "time", m))
            })
            .transpose()?;
        let age: Option<u8> = number("age", &raw.age)?;
        if age.is_some_and(|a| a > 130) {
            return Err(err("invalid_parameter", "age", "ages are 0..130"));
        }
        let page: usize = number("page", &raw.page)?.unwrap_or(1);
        if page == 0 || page > 1_000_000 {
            return Err(err("invalid_page", "page", "pages start at 1"));
        }
        let per_page: usize = number("per_page", &raw.per_page)?.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(err(
                "per_page_too_large",
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self {
            words,
            categories,
            near,
            languages,
            accepting: flag("accepting", &raw.accepting)?,
            min_places: number("min_places", &raw.min_places)?,
            safeguarding,
            safeguarding_lead: flag("safeguarding_lead", &raw.safeguarding_lead)?,
            verified_training,
            free: flag("free", &raw.free)?,
            childcare: flag("childcare", &raw.childcare)?,
            interpreting,
            self_referral: flag("self_referral", &raw.self_referral)?,
            no_gp_registration: flag("no_gp_registration", &raw.no_gp_registration)?,
            no_status_check: flag("no_status_check", &raw.no_status_check)?,
            evening: flag("evening", &raw.evening)?,
            day,
            time,
            age,
            page,
            per_page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn each_mistake_has_its_code() {
        let code = |pairs: &[(&str, &str)]| GroupQuery::parse(&raw(pairs)).unwrap_err().code;
        assert_eq!(code(&[("radius_km", "5")]), "radius_without_near");
        assert_eq!(code(&[("near", "91,0")]), "invalid_coordinates");
        assert_eq!(code(&[("near", "abc")]), "invalid_coordinates");
        assert_eq!(code(&[("near", "NaN,0")]), "invalid_coordinates");
        assert_eq!(
            code(&[("near", "50,0"), ("radius_km", "-1")]),
            "invalid_radius"
        );
        assert_eq!(code(&[("category", "nope")]), "unknown_category");
        assert_eq!(code(&[("per_page", "1000")]), "per_page_too_large");
        assert_eq!(code(&[("page", "0")]), "invalid_page");
        assert_eq!(code(&[("free", "yes")]), "invalid_parameter");
        assert_eq!(code(&[("day", "someday")]), "invalid_day");
        assert_eq!(code(&[("time", "25:00")]), "invalid_time");
        assert_eq!(code(&[("language", "!!")]), "invalid_language");
        assert_eq!(
            code(&[("verified_training", "juggling")]),
            "unknown_achievement"
        );
        assert_eq!(
            code(&[("safeguarding", "x")]),
            "unknown_safeguarding_capability"
        );
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

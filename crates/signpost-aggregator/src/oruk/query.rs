//! Open Referral UK's list parameters, parsed into the one [`GroupQuery`] every surface
//! uses; the engine in `index` answers it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use signpost_protocol::query::{
    Condition, GroupQuery, Problems, QueryCode, QueryError, RawGroupQuery, Vocabulary,
};
use uuid::Uuid;

use super::vocab::{
    all_terms, parse_day, taxonomy_id, term_id, vocabulary_of, FACTS, VOCABULARIES,
};

/// The largest page number accepted.
pub const MAX_PAGE: usize = 1_000_000;
/// The largest page ORUK clients may ask for.
pub const MAX_PER_PAGE: usize = 1000;

/// Query parameters of the ORUK list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrukQuery {
    /// Full-text search (case and accents folded).
    pub search: Option<String>,
    /// Alias of `search`.
    pub text: Option<String>,
    /// Page number, from 1 (default 1).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items a page, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub per_page: Option<String>,
    /// A taxonomy term id (UUID, from `/oruk/taxonomy_terms`).
    #[param(value_type = Option<String>, format = Uuid)]
    pub taxonomy_term_id: Option<String>,
    /// A taxonomy id (UUID): services with any term of it.
    #[param(value_type = Option<String>, format = Uuid)]
    pub taxonomy_id: Option<String>,
    /// RFC 3339: services whose listing was signed on or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub modified_after: Option<String>,
    /// `true`: services with just their one-to-one fields (default `false`).
    #[param(value_type = Option<bool>)]
    pub minimal: Option<String>,
    /// Services whose minimum age is at least this (years).
    #[param(value_type = Option<f64>)]
    pub minimum_age: Option<String>,
    /// Services whose maximum age is at most this (years).
    #[param(value_type = Option<f64>)]
    pub maximum_age: Option<String>,
    /// `MO`..`SU`, `mon`..`sun` or `monday`..`sunday`, in any case.
    #[param(
        pattern = r"^([Mm][Oo]([Nn]([Dd][Aa][Yy])?)?|[Tt][Uu]([Ee]([Ss][Dd][Aa][Yy])?)?|[Ww][Ee]([Dd]([Nn][Ee][Ss][Dd][Aa][Yy])?)?|[Tt][Hh]([Uu]([Rr][Ss][Dd][Aa][Yy])?)?|[Ff][Rr]([Ii]([Dd][Aa][Yy])?)?|[Ss][Aa]([Tt]([Uu][Rr][Dd][Aa][Yy])?)?|[Ss][Uu]([Nn]([Dd][Aa][Yy])?)?)$"
    )]
    pub day: Option<String>,
    /// `HH:MM`: sessions opening at or after this time.
    #[param(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start_time: Option<String>,
    /// `HH:MM`: sessions closing at or before this time.
    #[param(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end_time: Option<String>,
    /// A UK postcode, sector or district (`LS8 5AB`, `LS8 5`, `LS8`), placed by the
    /// directory's postcode data; with `proximity`. Unknown postcodes are a 400.
    pub postcode: Option<String>,
    /// Metres around `postcode` (default 5000, at most 100000).
    #[param(value_type = Option<f64>, exclusive_minimum = 0, maximum = 100000)]
    pub proximity: Option<String>,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> QueryError {
    QueryError::new(QueryCode::InvalidParameter, parameter, message)
}

fn number<T: std::str::FromStr>(
    p: &'static str,
    v: &Option<String>,
) -> Result<Option<T>, QueryError> {
    v.as_deref()
        .map(|s| {
            s.trim()
                .parse::<T>()
                .map_err(|_| bad(p, format!("{s:?} is not a number")))
        })
        .transpose()
}

/// A number of years or metres: finite (`NaN` and `inf` parse as `f64`, but name no age or
/// distance).
fn measure(p: &'static str, v: &Option<String>) -> Result<Option<f64>, QueryError> {
    match number::<f64>(p, v)? {
        Some(x) if !x.is_finite() => Err(bad(
            p,
            format!("{:?} is not a number", v.as_deref().unwrap_or_default()),
        )),
        other => Ok(other),
    }
}

/// `minimal`: `true` or `false` (default `false`).
pub fn minimal(q: &OrukQuery) -> Result<bool, QueryError> {
    signpost_protocol::query::flag("minimal", &q.minimal)
}

/// `page` and `per_page` as ORUK defines them (default 1 and 50; at most 1000 a page).
pub fn page(
    page: &Option<String>,
    per_page: &Option<String>,
) -> Result<(usize, usize), QueryError> {
    let mut problems = Problems::default();
    let page: usize = problems.take(number("page", page)).flatten().unwrap_or(1);
    let per_page: usize = problems
        .take(number("per_page", per_page))
        .flatten()
        .unwrap_or(50);
    if page == 0 || page > MAX_PAGE {
        problems.push(QueryError::new(
            QueryCode::InvalidPage,
            "page",
            format!("pages are numbered from 1 to {MAX_PAGE}"),
        ));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        problems.push(QueryError::new(
            QueryCode::PerPageTooLarge,
            "per_page",
            format!("must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    problems.finish()?;
    Ok((page, per_page))
}

fn time(
    p: &'static str,
    v: &Option<String>,
) -> Result<Option<signpost_protocol::model::TimeOfDay>, QueryError> {
    v.as_deref()
        .map(|t| t.parse().map_err(|e: String| bad(p, e)))
        .transpose()
}

/// The query, or `None` when it names a taxonomy or term this directory does not publish
/// (nothing can match: an empty page). Every search parameter is checked, whatever the
/// others hold: the error names each mistake, after those already in `problems` (the
/// request's parameter names, [`page`] and [`minimal`], which the caller reads). The
/// query's page is the engine's default; the caller sets ORUK's.
pub fn to_group_query(
    q: &OrukQuery,
    mut problems: Problems,
) -> Result<Option<GroupQuery>, QueryError> {
    let mut raw = RawGroupQuery {
        text: q.search.clone().or_else(|| q.text.clone()),
        postcode: q.postcode.clone(),
        ..RawGroupQuery::default()
    };
    // A taxonomy or term this directory does not publish: nothing can match.
    let mut matches_nothing = false;
    let mut conditions = Vec::new();
    if let Some(t) = &q.taxonomy_term_id {
        let id = problems.take(
            t.parse::<Uuid>()
                .map_err(|_| bad("taxonomy_term_id", "not a UUID")),
        );
        let found = id.map(|id| {
            all_terms()
                .into_iter()
                .find(|(v, term)| term_id(v, term.id) == id)
        });
        match found {
            None => {}
            Some(None) => matches_nothing = true,
            Some(Some((vocab, term))) => match vocabulary_of(vocab) {
                Some(Vocabulary::Categories) => raw.category = Some(term.id.to_owned()),
                Some(Vocabulary::Safeguarding) => raw.safeguarding = Some(term.id.to_owned()),
                Some(Vocabulary::Training) => raw.verified_training = Some(term.id.to_owned()),
                Some(Vocabulary::StaffChecks) => {
                    conditions.push(Condition::StaffCheck(term.id.to_owned()))
                }
                Some(Vocabulary::Access) => {
                    if let Some((_, fact)) = FACTS.iter().find(|(id, _)| *id == term.id) {
                        conditions.push(Condition::Fact(*fact));
                    }
                }
                None => matches_nothing = true,
            },
        }
    }
    if let Some(t) = &q.taxonomy_id {
        let id = problems.take(
            t.parse::<Uuid>()
                .map_err(|_| bad("taxonomy_id", "not a UUID")),
        );
        if let Some(id) = id {
            match VOCABULARIES
                .iter()
                .find(|v| taxonomy_id(v.0) == id)
                .and_then(|v| vocabulary_of(v.0))
            {
                Some(vocab) => conditions.push(Condition::AnyOf(vocab)),
                None => matches_nothing = true,
            }
        }
    }
    let day = q.day.as_deref().and_then(|d| {
        problems.take(parse_day(d).ok_or_else(|| bad("day", "expected MO..SU or a day name")))
    });
    let opens_from = problems.take(time("start_time", &q.start_time)).flatten();
    let closes_by = problems.take(time("end_time", &q.end_time)).flatten();
    if day.is_some() || opens_from.is_some() || closes_by.is_some() {
        conditions.push(Condition::Session {
            day,
            opens_from,
            closes_by,
        });
    }
    if let Some(a) = problems
        .take(measure("minimum_age", &q.minimum_age))
        .flatten()
    {
        conditions.push(Condition::MinimumAgeAtLeast(a));
    }
    if let Some(a) = problems
        .take(measure("maximum_age", &q.maximum_age))
        .flatten()
    {
        conditions.push(Condition::MaximumAgeAtMost(a));
    }
    if let Some(m) = &q.modified_after {
        let t = DateTime::parse_from_rfc3339(m)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                bad(
                    "modified_after",
                    "not an RFC 3339 time, like 2026-01-31T09:00:00Z",
                )
            });
        if let Some(t) = problems.take(t) {
            conditions.push(Condition::ModifiedAfter(t));
        }
    }
    if signpost_protocol::query::given_place(&q.postcode).is_some() {
        let max = signpost_protocol::query::MAX_RADIUS_KM * 1000.0;
        if let Some(metres) = problems.take(measure("proximity", &q.proximity)) {
            let metres = metres.unwrap_or(5000.0);
            if metres > 0.0 && metres <= max {
                raw.radius_km = Some(signpost_protocol::query::km_from_metres(metres).to_string());
            } else {
                problems.push(bad(
                    "proximity",
                    format!("metres, more than 0 and at most {max}"),
                ));
            }
        }
    } else if q.proximity.is_some() {
        problems.push(QueryError::new(
            QueryCode::RadiusWithoutNear,
            "proximity",
            "needs a postcode too",
        ));
    }
    let mut query = problems
        .finish_with(GroupQuery::parse(&raw))
        // The engine's `text` is named as the request named it.
        .map_err(|e| {
            if q.search.is_some() {
                e.renamed("text", "search")
            } else {
                e
            }
        })?;
    if matches_nothing {
        return Ok(None);
    }
    query.conditions = conditions;
    Ok(Some(query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::IntoParams;

    /// The pattern the OpenAPI states for `parameter`.
    fn documented_pattern(parameter: &str) -> regex::Regex {
        let params = OrukQuery::into_params(|| None);
        let param = params
            .iter()
            .find(|p| p.name == parameter)
            .expect(parameter);
        let param = serde_json::to_value(param).expect("a parameter serialises");
        regex::Regex::new(param["schema"]["pattern"].as_str().expect("a pattern")).expect("a regex")
    }

    /// A client that trusts the OpenAPI is neither refused a day nor a time it allows, nor
    /// told a value is fine that the server refuses.
    #[test]
    fn the_documented_day_and_time_patterns_accept_exactly_what_is_parsed() {
        let day = documented_pattern("day");
        // ORUK's two-letter days, then the names every surface reads.
        let two_letter = [
            "MO", "mo", "Mo", "TU", "tu", "WE", "TH", "FR", "SA", "SU", "su", "XX",
        ];
        for s in two_letter
            .into_iter()
            .chain(signpost_protocol::sample::DAY_SPELLINGS.iter().copied())
        {
            assert_eq!(day.is_match(s), parse_day(s).is_some(), "day {s:?}");
        }
        for parameter in ["start_time", "end_time"] {
            let time = documented_pattern(parameter);
            for s in [
                "00:00", "09:30", "9:30", "23:59", "24:00", "12:60", "19:05", "20:00", "1200",
                "12:5", "12:05 ", "+1:00", "",
            ] {
                let parsed = s.parse::<signpost_protocol::model::TimeOfDay>().is_ok();
                assert_eq!(time.is_match(s), parsed, "{parameter} {s:?}");
            }
        }
    }

    #[test]
    fn a_blank_postcode_is_none() {
        let blank = OrukQuery {
            postcode: Some(" ".into()),
            ..OrukQuery::default()
        };
        let q = to_group_query(&blank, Problems::default())
            .unwrap()
            .unwrap();
        assert!(q.postcode.is_none() && q.near.is_none());
        // A blank postcode with a distance: the distance needs one.
        let e = to_group_query(
            &OrukQuery {
                proximity: Some("500".into()),
                ..blank
            },
            Problems::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, QueryCode::RadiusWithoutNear);
    }

    #[test]
    fn any_distance_the_schema_allows_is_read() {
        for proximity in ["5e-324", "0.001", "1", "100000"] {
            let q = OrukQuery {
                postcode: Some("LS8 5AB".into()),
                proximity: Some(proximity.into()),
                ..OrukQuery::default()
            };
            let q = to_group_query(&q, Problems::default())
                .unwrap_or_else(|e| panic!("{proximity}: {e}"))
                .unwrap();
            assert!(q.postcode.is_some_and(|(_, km)| km > 0.0), "{proximity}");
        }
    }

    #[test]
    fn minimal_is_true_or_false() {
        let q = |v: &str| OrukQuery {
            minimal: Some(v.into()),
            ..OrukQuery::default()
        };
        assert!(minimal(&q("true")).unwrap());
        assert!(!minimal(&q("false")).unwrap());
        assert!(!minimal(&OrukQuery::default()).unwrap());
        let e = minimal(&q("yes")).unwrap_err();
        assert_eq!(e.parameter, "minimal");
    }
}

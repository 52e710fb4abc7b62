//! FHIR search parameters read into the one query engine's `GroupQuery`: paging, includes,
//! and every mistake kept, each an issue of one OperationOutcome.

use super::*;

const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 100;
const MAX_PAGE: usize = 100_000;

/// Whether the client asked for unknown parameters to be ignored.
fn lenient(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split([',', ';'])
                .any(|p| p.trim().eq_ignore_ascii_case("handling=lenient"))
        })
}

/// `_count`, `_page`, `_summary`, and the includes, common to every search.
#[derive(Default)]
pub(super) struct Paging {
    pub(super) count: usize,
    pub(super) page: usize,
    pub(super) summary_count: bool,
    pub(super) include: Vec<String>,
    pub(super) revinclude: Vec<String>,
}

/// The paging parameters; each mistake is kept in `problems`.
pub(super) fn paging(params: &[(String, String)], problems: &mut Problems) -> Paging {
    let mut invalid = |parameter: &'static str, message: String| {
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            parameter,
            message,
        ))
    };
    let mut p = Paging {
        count: DEFAULT_COUNT,
        page: 1,
        ..Paging::default()
    };
    for (k, v) in params {
        match k.as_str() {
            "_count" => match v.parse().ok().filter(|n| (1..=MAX_COUNT).contains(n)) {
                Some(n) => p.count = n,
                None => invalid("_count", format!("a number from 1 to {MAX_COUNT}")),
            },
            "_page" => match v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)) {
                Some(n) => p.page = n,
                None => invalid("_page", format!("a page number from 1 to {MAX_PAGE}")),
            },
            "_summary" => match v.as_str() {
                "count" => p.summary_count = true,
                "false" => {}
                _ => invalid("_summary", "only count (or false) is supported".into()),
            },
            "_format"
                if !matches!(
                    v.as_str(),
                    "json" | "application/fhir+json" | "application/json"
                ) =>
            {
                invalid("_format", "only json is served".into())
            }
            "_include" => p.include.push(v.clone()),
            "_revinclude" => p.revinclude.push(v.clone()),
            _ => {}
        }
    }
    p
}

/// Keeps each parameter outside `allowed` (and the common ones) as a mistake, unless the
/// client is lenient.
pub(super) fn check_known(
    req: &HttpRequest,
    params: &[(String, String)],
    allowed: &[&str],
    problems: &mut Problems,
) {
    if lenient(req) {
        return;
    }
    for (k, _) in params {
        if !allowed.contains(&k.as_str()) && !conformance::COMMON_PARAMS.contains(&k.as_str()) {
            let mut all: Vec<&str> = allowed.to_vec();
            all.extend_from_slice(conformance::COMMON_PARAMS);
            problems.push(QueryError::new(
                QueryCode::UnknownParameter,
                k.clone(),
                format!(
                    "not a search parameter here; the supported ones are {} (send `Prefer: handling=lenient` to have unknown ones ignored)",
                    all.join(", ")
                ),
            ));
        }
    }
}

/// Refuses includes the search does not serve; each mistake is kept in `problems`.
pub(super) fn check_includes(
    p: &Paging,
    include: &[&str],
    revinclude: &[&str],
    problems: &mut Problems,
) {
    for (parameter, asked, served) in [
        ("_include", &p.include, include),
        ("_revinclude", &p.revinclude, revinclude),
    ] {
        if let Some(bad) = asked.iter().find(|i| !served.contains(&i.as_str())) {
            let supported = if served.is_empty() {
                "none".to_owned()
            } else {
                served.join(", ")
            };
            problems.push(QueryError::new(
                QueryCode::InvalidParameter,
                parameter,
                format!("{bad} is not supported; supported: {supported}"),
            ));
        }
    }
}

/// A token's code: `system|code` or `code`.
fn code(token: &str) -> &str {
    token.rsplit('|').next().unwrap_or(token)
}

/// The search as the one query engine's, with the HealthcareService ids `_id` asks for
/// (the caller finds their listings in the index), or `None` when nothing can match. Every
/// parameter is checked, whatever the others hold: each mistake, with those already in
/// `problems` (paging, includes), is an issue.
pub(super) fn group_query(
    params: &[(String, String)],
    paging: &Paging,
    for_locations: bool,
    mut problems: Problems,
) -> Result<Option<(GroupQuery, Vec<Uuid>)>, FhirError> {
    let mut raw = RawGroupQuery::default();
    let mut conditions = Vec::new();
    let mut categories: Vec<String> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    // `active=false`, or an id this directory never gives: nothing can match.
    let mut matches_nothing = false;
    let mut invalid = |parameter: &'static str, message: String| {
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            parameter,
            message,
        ))
    };
    for (k, v) in params {
        match k.as_str() {
            "service-category" | "service-type" => {
                categories.extend(v.split(',').map(|t| code(t).to_owned()))
            }
            "name" => raw.text = Some(v.clone()),
            "active" => match v.as_str() {
                "true" => {}
                "false" => matches_nothing = true,
                _ => invalid("active", "true or false".into()),
            },
            "_lastUpdated" => {
                let (prefix, date) = if v.len() > 2
                    && v.is_char_boundary(2)
                    && v[..2].chars().all(|c| c.is_ascii_lowercase())
                {
                    v.split_at(2)
                } else {
                    ("eq", v.as_str())
                };
                if !matches!(prefix, "ge" | "gt") {
                    invalid(
                        "_lastUpdated",
                        "only ge or gt a date is supported, like ge2026-01-01".into(),
                    );
                    continue;
                }
                let at = DateTime::parse_from_rfc3339(date)
                    .map(|t| t.with_timezone(&Utc))
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                    });
                match at {
                    Ok(at) => conditions.push(Condition::ModifiedAfter(at)),
                    Err(_) => invalid(
                        "_lastUpdated",
                        "a date like 2026-01-01 or 2026-01-01T09:00:00Z".into(),
                    ),
                }
            }
            "organization" => match map::node_of(v) {
                Some(node) => conditions.push(Condition::Node(node)),
                None => invalid(
                    "organization",
                    "Organization/{id}, an id from this directory".into(),
                ),
            },
            "language" => raw.language = Some(v.split(',').map(code).collect::<Vec<_>>().join(",")),
            "characteristic" => {
                // Comma-separated: any of them (an access fact, whom the group can safely
                // support, a staff check); repeated: all of them.
                let mut any = Vec::new();
                for t in v.split(',') {
                    match map::characteristic_condition(t) {
                        Ok(condition) => any.push(condition),
                        Err(message) => invalid("characteristic", message),
                    }
                }
                conditions.push(Condition::Any(any));
            }
            "postcode" => raw.postcode = Some(v.clone()),
            "distance" => match distance_km(v) {
                Ok(km) => raw.radius_km = Some(km.to_string()),
                Err(message) => invalid("distance", message),
            },
            "near" if for_locations => {
                let parts: Vec<&str> = v.split('|').collect();
                let (lat, lon) = match parts.as_slice() {
                    [lat, lon, ..] => (*lat, *lon),
                    _ => {
                        invalid(
                            "near",
                            "latitude|longitude|distance|units, like 53.81|-1.52|5|km".into(),
                        );
                        continue;
                    }
                };
                raw.near = Some(format!("{lat},{lon}"));
                if let Some(d) = parts.get(2).filter(|d| !d.is_empty()) {
                    match in_km(d, parts.get(3).copied().unwrap_or("")) {
                        Ok(km) => raw.radius_km = Some(km.to_string()),
                        Err(message) => invalid("near", message),
                    }
                }
            }
            "_id" => {
                for id in v.split(',') {
                    let id = id.trim_start_matches("loc-");
                    match id.parse() {
                        Ok(u) => ids.push(u),
                        Err(_) => matches_nothing = true,
                    }
                }
            }
            _ => {}
        }
    }
    if raw.radius_km.is_some() && raw.postcode.is_none() && raw.near.is_none() {
        // Said here, as Open Referral UK's `proximity` is: the engine's words would name its
        // own parameters (`radius_km`, `near=lat,lon`), which FHIR's search does not have.
        // A `distance` is measured from a `postcode` (a Location's `near` carries its own).
        problems.push(QueryError::new(
            QueryCode::RadiusWithoutNear,
            "distance",
            "needs a postcode too",
        ));
        raw.radius_km = None;
    }
    if !categories.is_empty() {
        raw.category = Some(categories.join(","));
    }
    let mut q = problems.finish_with(GroupQuery::parse(&raw))?;
    if matches_nothing {
        return Ok(None);
    }
    q.conditions.extend(conditions);
    if for_locations {
        q.conditions.push(Condition::HasLocation);
    }
    q.page = paging.page;
    q.per_page = paging.count;
    Ok(Some((q, ids)))
}

/// UCUM, the system FHIR's quantities name their units in.
const UCUM: &str = "http://unitsofmeasure.org";

/// A `distance` (a FHIR quantity) in km: `5`, `5|km`, `5||km` or `5|http://unitsofmeasure.org|km`,
/// in km, m or miles (`[mi_i]`, UCUM's international mile, or `mi`).
fn distance_km(v: &str) -> Result<f64, String> {
    match v.split('|').collect::<Vec<_>>().as_slice() {
        [n] => in_km(n, ""),
        [n, unit] => in_km(n, unit),
        [n, "" | UCUM, unit] => in_km(n, unit),
        [_, system, _] => Err(format!(
            "units must be UCUM's ({UCUM}), not {system:?}: like 5|{UCUM}|km"
        )),
        _ => Err(format!(
            "{v:?} is not a distance: give one like 5|{UCUM}|km"
        )),
    }
}

/// `number` of `unit` (km when empty) in km; its range is the query's to check.
fn in_km(number: &str, unit: &str) -> Result<f64, String> {
    let Ok(n) = number.parse::<f64>() else {
        return Err(format!(
            "{number:?} is not a number: give a distance like 5|km"
        ));
    };
    match unit {
        "" | "km" => Ok(n),
        "m" => Ok(signpost_protocol::query::km_from_metres(n)),
        "[mi_i]" | "mi" => Ok(n * 1.609_344),
        other => Err(format!(
            "distance units must be km, m or [mi_i] (miles), not {other:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

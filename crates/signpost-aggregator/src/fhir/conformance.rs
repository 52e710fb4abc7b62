//! What the FHIR facade says about itself: the CapabilityStatement (exactly what is
//! supported), the CodeSystems its codes come from, and the SearchParameters it adds to R4.

use serde_json::{json, Value};

use super::map::Urls;
use crate::oruk::vocab::{vocabulary, VOCABULARIES};

/// The custom search parameters (R4 has none for these), as the Human Services Directory
/// guide declares its own.
pub const SEARCH_PARAMETERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "healthcareservice-language",
        "language",
        "HealthcareService",
        "token",
        "A language spoken in the group (BCP 47; RFC 4647 lookup: ar finds ar-SY speakers, ar-SY falls back to ar). Comma-separated: any of them.",
    ),
    (
        "healthcareservice-characteristic",
        "characteristic",
        "HealthcareService",
        "token",
        "An access fact of the signpost-access CodeSystem (self-referral, no-gp-registration, no-status-check, free, childcare, ...), a need the group can safely support (signpost-safeguarding: torture-survivors, trafficking-survivors, ...) or a check on its staff (signpost-staff-checks); a code alone, or system|code. Comma-separated: any of them; repeated: all of them.",
    ),
    (
        "healthcareservice-postcode",
        "postcode",
        "HealthcareService",
        "string",
        "A UK postcode, sector or district: groups within 10 km (or `distance`, at most 100 km), nearest first.",
    ),
    (
        "location-postcode",
        "postcode",
        "Location",
        "string",
        "A UK postcode, sector or district: venues within 10 km (or `distance`, at most 100 km), nearest first.",
    ),
];

/// The parameters each searchable type accepts (beyond the paging and include ones).
pub const HEALTHCARE_SERVICE_PARAMS: &[&str] = &[
    "service-category",
    "service-type",
    "name",
    "active",
    "_lastUpdated",
    "organization",
    "language",
    "characteristic",
    "postcode",
    "distance",
    "_id",
];
pub const LOCATION_PARAMS: &[&str] = &["near", "postcode", "distance", "_id"];
pub const COMMON_PARAMS: &[&str] = &[
    "_count",
    "_page",
    "_summary",
    "_include",
    "_revinclude",
    "_format",
];

fn param(name: &str, kind: &str, doc: &str, definition: Option<String>) -> Value {
    let mut p = json!({"name": name, "type": kind, "documentation": doc});
    if let Some(d) = definition {
        p["definition"] = json!(d);
    }
    p
}

/// The CapabilityStatement: a read-only server of five resource types.
pub fn capability_statement(urls: &Urls, version: &str, date: &str) -> Value {
    let sp = |id: &str| Some(format!("{}/SearchParameter/{id}", urls.base));
    let hl7 = |id: &str| Some(format!("http://hl7.org/fhir/SearchParameter/{id}"));
    let common = vec![
        param(
            "_count",
            "number",
            "Results a page, 1 to 100 (default 20).",
            None,
        ),
        param(
            "_page",
            "number",
            "Page number, from 1 (the next and previous links carry it).",
            None,
        ),
        param("_summary", "token", "count: only the total.", None),
    ];
    let with = |mut extra: Vec<Value>| {
        let mut all = common.clone();
        all.append(&mut extra);
        all
    };
    let read = json!([{"code": "read"}, {"code": "search-type"}]);
    json!({
        "resourceType": "CapabilityStatement",
        "id": "signpost",
        "url": format!("{}/metadata", urls.base),
        "version": version,
        "name": "SignpostDirectory",
        "title": "Signpost directory (FHIR R4, read-only)",
        "status": "active",
        "date": date,
        "publisher": "Signpost",
        "description": "Signed, verifiable listings of community groups for social prescribing. Every HealthcareService has a Provenance whose signature is the organisation's signed envelope. Unknown search parameters are refused (400) unless `Prefer: handling=lenient`.",
        "kind": "instance",
        "software": {"name": "Signpost", "version": version},
        "implementation": {"description": "Signpost aggregator", "url": urls.base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. Search results are searchset Bundles with total and self/next/previous links; errors are OperationOutcome with the Signpost error code in issue.details.",
            "resource": [
                {
                    "type": "HealthcareService",
                    "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService",
                    "interaction": read,
                    "searchInclude": ["HealthcareService:location", "HealthcareService:organization"],
                    "searchRevInclude": ["Provenance:target"],
                    "searchParam": with(vec![
                        param("_id", "token", "The HealthcareService's id (a UUID derived from its organisation and its listing).", hl7("Resource-id")),
                        param("service-category", "token", "A category of the signpost-categories CodeSystem; comma-separated: any of them.", hl7("HealthcareService-service-category")),
                        param("service-type", "token", "The same as service-category.", hl7("HealthcareService-service-type")),
                        param("name", "string", "Words of the name or description (case and accents ignored).", hl7("HealthcareService-name")),
                        param("active", "token", "true (every listing served is active) or false (none).", hl7("HealthcareService-active")),
                        param("_lastUpdated", "date", "ge or gt a date: listings signed since.", hl7("Resource-lastUpdated")),
                        param("organization", "reference", "Organization/{id}: the publishing organisation.", hl7("HealthcareService-organization")),
                        param("language", "token", "A language spoken (RFC 4647 lookup).", sp("healthcareservice-language")),
                        param("characteristic", "token", "An access fact of signpost-access.", sp("healthcareservice-characteristic")),
                        param("postcode", "string", "Near a UK postcode (with distance, km).", sp("healthcareservice-postcode")),
                        param("distance", "quantity", "Radius around postcode (default 10 km, at most 100 km): 5, 5|km, 800|http://unitsofmeasure.org|m or 3|http://unitsofmeasure.org|[mi_i] (miles).", None),
                    ]),
                },
                {
                    "type": "Location",
                    "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Location",
                    "interaction": read,
                    "searchRevInclude": ["HealthcareService:location"],
                    "searchParam": with(vec![
                        param("_id", "token", "loc- and its HealthcareService's id.", hl7("Resource-id")),
                        param("near", "special", "lat|lon|distance|units (km, m or [mi_i], miles): venues within the distance, nearest first (at most 100 km).", hl7("Location-near")),
                        param("postcode", "string", "Near a UK postcode (with distance, km).", sp("location-postcode")),
                        param("distance", "quantity", "Radius around postcode, in km, m or [mi_i] (miles), as for HealthcareService.", None),
                    ]),
                },
                {
                    "type": "Organization",
                    "profile": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization",
                    "interaction": read,
                    "searchParam": with(vec![
                        param("name", "string", "Part of the organisation's name.", hl7("Organization-name")),
                    ]),
                },
                {
                    "type": "VerificationResult",
                    "interaction": read,
                    "searchParam": with(vec![
                        param("target", "reference", "Organization/{id}: its training attestations.", hl7("VerificationResult-target")),
                    ]),
                },
                {
                    "type": "Provenance",
                    "interaction": read,
                    "searchParam": with(vec![
                        param("target", "reference", "HealthcareService/{id}: its signed envelope.", hl7("Provenance-target")),
                    ]),
                },
            ],
        }],
    })
}

/// One of the published CodeSystems (the Signpost vocabularies).
pub fn code_system(urls: &Urls, id: &str, version: &str, date: &str) -> Option<Value> {
    let (_, title, description) = VOCABULARIES.iter().find(|(v, _, _)| *v == id)?;
    let concepts: Vec<Value> = vocabulary(id)
        .iter()
        .map(|t| json!({"code": t.id, "display": t.label, "definition": t.description}))
        .collect();
    Some(json!({
        "resourceType": "CodeSystem",
        "id": id,
        "url": urls.code_system(id),
        "version": version,
        "name": id.replace('-', "_"),
        "title": title,
        "status": "active",
        "date": date,
        "publisher": "Signpost",
        "description": description,
        "caseSensitive": true,
        "content": "complete",
        "count": concepts.len(),
        "concept": concepts,
    }))
}

/// One of the declared SearchParameters.
pub fn search_parameter(urls: &Urls, id: &str, version: &str, date: &str) -> Option<Value> {
    let (id, code, base, kind, doc) = SEARCH_PARAMETERS.iter().find(|p| p.0 == id)?;
    let expression = match *code {
        "language" => "HealthcareService.communication",
        "characteristic" => "HealthcareService.characteristic",
        _ if *base == "Location" => "Location.address.postalCode",
        _ => "HealthcareService.location",
    };
    Some(json!({
        "resourceType": "SearchParameter",
        "id": id,
        "url": format!("{}/SearchParameter/{id}", urls.base),
        "version": version,
        "name": id.replace('-', "_"),
        "status": "active",
        "date": date,
        "publisher": "Signpost",
        "description": doc,
        "code": code,
        "base": [base],
        "type": kind,
        "expression": expression,
    }))
}

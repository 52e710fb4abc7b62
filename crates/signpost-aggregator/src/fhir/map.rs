//! A verified listing as FHIR R4 resources: HealthcareService (the group), Location (where it
//! meets), Organization (the node), VerificationResult (each training attestation, with its
//! status after every check) and Provenance (the signed envelope, so a FHIR client can verify
//! without leaving FHIR). The mapping is documented in `openapi/FHIR.md`.

use base64::Engine as _;
use signpost_protocol::model::{Frequency, Weekday};
use signpost_protocol::policy::AttestationStatus;
use signpost_protocol::query::Fact;
use signpost_protocol::taxonomy;
use signpost_protocol::wire::CapacityStatus;
use signpost_protocol::{Attestation, DidKey, Listing, Verified};

use super::model::*;
use crate::index::{QueryContext, Segment};
use crate::oruk::vocab::{ACCESS_TERMS, FACTS};

pub const UK_CORE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";
pub const BCP47: &str = "urn:ietf:bcp:47";
pub const PROVISION: &str = "http://terminology.hl7.org/CodeSystem/service-provision-conditions";
pub const REFERRAL: &str = "http://terminology.hl7.org/CodeSystem/service-referral-method";

/// Where this directory's FHIR base is, for canonical URLs and `fullUrl`s.
#[derive(Debug, Clone)]
pub struct Urls {
    pub base: String,
}

impl Urls {
    /// `{public}/fhir/R4`.
    pub fn new(public: &str) -> Self {
        Self {
            base: format!("{}/fhir/R4", public.trim_end_matches('/')),
        }
    }
    pub fn code_system(&self, id: &str) -> String {
        format!("{}/CodeSystem/{id}", self.base)
    }
    pub fn extension(&self, id: &str) -> String {
        format!("{}/StructureDefinition/{id}", self.base)
    }
    pub fn full(&self, resource: &str, id: &str) -> String {
        format!("{}/{resource}/{id}", self.base)
    }
}

/// The Organization id of a node: its did:key without the `did:key:` prefix (48 base58
/// characters, a valid FHIR id, and reversible).
pub fn org_id(node: &str) -> String {
    node.trim_start_matches("did:key:").to_owned()
}

/// The node a FHIR Organization id names.
pub fn node_of(org: &str) -> Option<DidKey> {
    let org = org.trim_start_matches("Organization/");
    format!("did:key:{org}").parse().ok()
}

/// A group's HealthcareService id: its Open Referral UK service UUID, derived from its node
/// and its listing id, so that one organisation's listing can never be read, or found by
/// `_id`, as another's that took the same listing id.
pub fn service_id(seg: &Segment, listing: &Listing) -> String {
    crate::oruk::vocab::service_id(&seg.id, &listing.id).to_string()
}

/// Where the group meets: `loc-` and its HealthcareService id.
pub fn location_id(seg: &Segment, listing: &Listing) -> String {
    format!("loc-{}", service_id(seg, listing))
}

/// Its signed envelope: `prov-` and its HealthcareService id.
pub fn provenance_id(seg: &Segment, listing: &Listing) -> String {
    format!("prov-{}", service_id(seg, listing))
}

fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn day(d: Weekday) -> &'static str {
    d.as_str()
}

fn hms(t: signpost_protocol::model::TimeOfDay) -> String {
    format!("{t}:00")
}

/// The access facts that hold for a group, as codes of `signpost-access`.
pub fn characteristics(listing: &Listing, capacity: CapacityStatus) -> Vec<&'static str> {
    FACTS
        .iter()
        .filter(|(_, fact)| fact.holds(&listing.group, capacity))
        .map(|(code, _)| *code)
        .collect()
}

/// The CodeSystems a HealthcareService's `characteristic` codes come from, in the order
/// they are listed: its access facts, whom it can safely support, its staff checks.
pub const CHARACTERISTIC_SYSTEMS: [&str; 3] = [
    "signpost-access",
    "signpost-safeguarding",
    "signpost-staff-checks",
];

/// What a group declares of its safeguarding, as codes of `signpost-safeguarding` (whom it
/// can safely support) and `signpost-staff-checks`, each with its CodeSystem's index in
/// [`CHARACTERISTIC_SYSTEMS`].
pub fn safeguarding_characteristics(listing: &Listing) -> Vec<(usize, &'static taxonomy::Term)> {
    let s = &listing.group.safeguarding;
    let held = |system: usize, vocabulary: &'static [taxonomy::Term], ids: &[String]| {
        vocabulary
            .iter()
            .filter(|t| ids.iter().any(|id| id == t.id))
            .map(move |t| (system, t))
            .collect::<Vec<_>>()
    };
    let mut out = held(1, taxonomy::SAFEGUARDING_CAPABILITIES, &s.capabilities);
    out.extend(held(2, taxonomy::STAFF_CHECKS, &s.staff_checks));
    out
}

/// A `characteristic` search token (`code` or `system|code`) as the condition it stands
/// for: an access fact, a safeguarding capability or a staff check. `Err` says what is
/// wrong with it.
pub fn characteristic_condition(
    token: &str,
) -> Result<signpost_protocol::query::Condition, String> {
    use signpost_protocol::query::Condition;
    let (system, code) = match token.rsplit_once('|') {
        Some((system, code)) => (Some(system), code),
        None => (None, token),
    };
    // A system is one of this server's CodeSystems, by its name (a client may reach this
    // server by another address than the one in its canonical URLs).
    let named = match system.filter(|s| !s.is_empty()) {
        None => None,
        Some(system) => match CHARACTERISTIC_SYSTEMS
            .iter()
            .find(|id| system.ends_with(&format!("/CodeSystem/{id}")))
        {
            Some(id) => Some(*id),
            None => {
                return Err(format!(
                    "{system:?} is not one of the CodeSystems characteristic takes ({})",
                    CHARACTERISTIC_SYSTEMS.join(", ")
                ))
            }
        },
    };
    let in_system = |id: &str| named.is_none_or(|n| n == id);
    if in_system(CHARACTERISTIC_SYSTEMS[0]) {
        if let Some(fact) = fact_of(code) {
            return Ok(Condition::Fact(fact));
        }
    }
    if in_system(CHARACTERISTIC_SYSTEMS[1])
        && taxonomy::contains(taxonomy::SAFEGUARDING_CAPABILITIES, code)
    {
        return Ok(Condition::Capability(code.to_owned()));
    }
    if in_system(CHARACTERISTIC_SYSTEMS[2]) && taxonomy::contains(taxonomy::STAFF_CHECKS, code) {
        return Ok(Condition::StaffCheck(code.to_owned()));
    }
    Err(match named {
        Some(id) => format!("{code:?} is not a code of the {id} CodeSystem"),
        None => format!(
            "{code:?} is not a code of the {} CodeSystems",
            CHARACTERISTIC_SYSTEMS.join(", ")
        ),
    })
}

/// The group as a HealthcareService.
pub fn healthcare_service(
    urls: &Urls,
    seg: &Segment,
    listing: &Listing,
    capacity: CapacityStatus,
) -> HealthcareService {
    let g = &listing.group;
    let categories = urls.code_system("signpost-categories");
    let systems = CHARACTERISTIC_SYSTEMS.map(|id| urls.code_system(id));
    let access = &systems[0];
    let concept = |system: &str, code: &str, display: Option<&str>| {
        CodeableConcept::coded(Coding::new(system, code, display))
    };
    let label = |id: &str| {
        taxonomy::CATEGORIES
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.label)
    };
    let access_label = |id: &str| ACCESS_TERMS.iter().find(|t| t.id == id).map(|t| t.label);
    let mut telecom = Vec::new();
    if let Some(p) = &g.contact.phone {
        telecom.push(ContactPoint {
            system: "phone",
            value: p.clone(),
        });
    }
    if let Some(e) = &g.contact.email {
        telecom.push(ContactPoint {
            system: "email",
            value: e.clone(),
        });
    }
    if let Some(w) = &g.contact.website {
        telecom.push(ContactPoint {
            system: "url",
            value: w.clone(),
        });
    }
    let mut referral = Vec::new();
    if g.contact.phone.is_some() {
        referral.push(concept(REFERRAL, "phone", Some("Phone")));
    }
    if g.contact.email.is_some() {
        referral.push(concept(REFERRAL, "elec", Some("Secure Messaging")));
    }
    let mut eligibility = Vec::new();
    if let Some(age) = g.age_range {
        let text = match (age.min, age.max) {
            (Some(a), Some(b)) => format!("Ages {a} to {b}"),
            (Some(a), None) => format!("Ages {a} and over"),
            (None, Some(b)) => format!("Ages up to {b}"),
            (None, None) => "All ages".to_owned(),
        };
        eligibility.push(Eligibility {
            code: CodeableConcept::text(text),
            comment: None,
        });
    }
    if g.capacity.assessment_required {
        eligibility.push(Eligibility {
            code: concept(access, "assessment-required", Some("Assessment first")),
            comment: None,
        });
    }
    let mut capacity_ext = vec![Extension {
        url: "status".into(),
        value_code: Some(
            match capacity {
                CapacityStatus::Accepting => "accepting",
                CapacityStatus::NotAccepting => "not-accepting",
                CapacityStatus::Unknown => "unknown",
            }
            .into(),
        ),
        ..Extension::default()
    }];
    if capacity != CapacityStatus::Unknown {
        if let Some(n) = g.capacity.places_available {
            capacity_ext.push(Extension {
                url: "placesAvailable".into(),
                value_unsigned_int: Some(n),
                ..Extension::default()
            });
        }
    }
    if let Some(n) = g.capacity.weekly_referral_cap {
        capacity_ext.push(Extension {
            url: "weeklyReferralCap".into(),
            value_unsigned_int: Some(n),
            ..Extension::default()
        });
    }
    capacity_ext.push(Extension {
        url: "confirmed".into(),
        value_date_time: Some(instant(g.capacity.updated_at)),
        ..Extension::default()
    });
    let mut extension = vec![Extension {
        url: urls.extension("signpost-capacity"),
        extension: capacity_ext,
        ..Extension::default()
    }];
    for s in &g.schedule {
        if s.frequency != Frequency::Weekly {
            extension.push(Extension {
                url: urls.extension("signpost-session-frequency"),
                value_string: Some(format!(
                    "{} {}-{}: {}",
                    day(s.day),
                    s.opens,
                    s.closes,
                    match s.frequency {
                        Frequency::Fortnightly => "fortnightly",
                        Frequency::Monthly => "monthly",
                        Frequency::Weekly => "weekly",
                    }
                )),
                ..Extension::default()
            });
        }
    }
    HealthcareService {
        resource_type: "HealthcareService",
        id: service_id(seg, listing),
        meta: Meta {
            last_updated: Some(instant(listing.issued_at)),
            profile: vec![format!("{UK_CORE}HealthcareService")],
        },
        extension,
        identifier: vec![Identifier {
            system: Some("urn:signpost:listing".into()),
            value: format!("{}/{}", seg.id, listing.id),
        }],
        active: true,
        provided_by: Reference::to(format!("Organization/{}", org_id(&seg.id)), Some(&seg.name)),
        category: g
            .categories
            .iter()
            .map(|c| concept(&categories, c, label(c)))
            .collect(),
        service_type: g
            .categories
            .iter()
            .map(|c| concept(&categories, c, label(c)))
            .collect(),
        location: g
            .location
            .as_ref()
            .map(|_| Reference::to(format!("Location/{}", location_id(seg, listing)), None))
            .into_iter()
            .collect(),
        name: g.name.clone(),
        comment: g.contact.referral_instructions.clone(),
        extra_details: (!g.description.trim().is_empty()).then(|| g.description.clone()),
        telecom,
        service_provision_code: vec![if g.access.cost.free {
            concept(PROVISION, "free", Some("Free"))
        } else {
            concept(PROVISION, "cost", Some("Payment Required"))
        }],
        eligibility,
        characteristic: characteristics(listing, capacity)
            .into_iter()
            .map(|c| concept(access, c, access_label(c)))
            .chain(
                safeguarding_characteristics(listing)
                    .into_iter()
                    .map(|(system, t)| concept(&systems[system], t.id, Some(t.label))),
            )
            .collect(),
        communication: g
            .languages
            .iter()
            .map(|l| concept(BCP47, l, None))
            .collect(),
        referral_method: referral,
        appointment_required: g.capacity.assessment_required,
        available_time: g
            .schedule
            .iter()
            .map(|s| AvailableTime {
                days_of_week: vec![day(s.day)],
                available_start_time: hms(s.opens),
                available_end_time: hms(s.closes),
            })
            .collect(),
    }
}

/// Where the group meets, when it meets somewhere.
pub fn location(seg: &Segment, listing: &Listing) -> Option<Location> {
    let loc = listing.group.location.as_ref()?;
    Some(Location {
        resource_type: "Location",
        id: location_id(seg, listing),
        meta: Meta {
            last_updated: Some(instant(listing.issued_at)),
            profile: vec![format!("{UK_CORE}Location")],
        },
        status: "active",
        name: loc
            .address
            .clone()
            .unwrap_or_else(|| format!("Venue of {}", listing.group.name)),
        mode: "instance",
        address: (loc.address.is_some() || loc.postcode.is_some()).then(|| Address {
            text: loc.address.clone(),
            postal_code: loc.postcode.clone(),
            country: "GB",
        }),
        position: Position {
            longitude: loc.lon,
            latitude: loc.lat,
        },
        managing_organization: Reference::to(
            format!("Organization/{}", org_id(&seg.id)),
            Some(&seg.name),
        ),
    })
}

/// The node as an Organization, with its register identifiers.
pub fn organization(seg: &Segment) -> Organization {
    let doc = seg.data.chain.last().map(|d| d.payload());
    let mut identifier = vec![Identifier {
        system: Some("urn:ietf:rfc:3986".into()),
        value: seg.id.clone(),
    }];
    for o in doc
        .map(|d| d.org_identifiers.as_slice())
        .unwrap_or_default()
    {
        identifier.push(Identifier {
            system: Some(format!("https://org-id.guide/list/{}", o.scheme)),
            value: o.id.clone(),
        });
    }
    Organization {
        resource_type: "Organization",
        id: org_id(&seg.id),
        meta: Meta {
            last_updated: doc.map(|d| instant(d.issued_at)),
            profile: vec![format!("{UK_CORE}Organization")],
        },
        identifier,
        active: true,
        name: seg.name.clone(),
        telecom: doc
            .map(|d| {
                vec![ContactPoint {
                    system: "url",
                    value: d.base_url.clone(),
                }]
            })
            .unwrap_or_default(),
    }
}

/// One attestation as a VerificationResult, with its status after every check.
pub fn verification_result(
    urls: &Urls,
    seg: &Segment,
    att: &Verified<Attestation>,
    status: AttestationStatus,
    ctx: &QueryContext<'_>,
) -> VerificationResult {
    let a = att.payload();
    let issuer_name = ctx
        .issuers
        .iter()
        .find(|i| i.id == a.issuer)
        .map(|i| i.name.clone());
    let (fhir_status, validation) = match status {
        AttestationStatus::Verified => ("validated", "valid"),
        AttestationStatus::RevocationStatusUnknown => ("in-process", "unknown"),
        _ => ("val-fail", "invalid"),
    };
    let training = urls.code_system("signpost-training");
    let label = taxonomy::ACHIEVEMENTS
        .iter()
        .find(|t| t.id == a.achievement)
        .map(|t| t.label);
    VerificationResult {
        resource_type: "VerificationResult",
        id: att.digest().to_string(),
        meta: Meta {
            last_updated: Some(instant(ctx.now)),
            profile: Vec::new(),
        },
        extension: vec![
            Extension {
                url: urls.extension("signpost-achievement"),
                value_coding: Some(Coding::new(&training, &a.achievement, label)),
                ..Extension::default()
            },
            Extension {
                url: urls.extension("signpost-attestation-status"),
                value_code: Some(
                    serde_json::to_value(status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                        .replace('_', "-"),
                ),
                ..Extension::default()
            },
            Extension {
                url: urls.extension("signpost-validity"),
                value_period: Some(Period {
                    start: Some(instant(a.valid_from)),
                    end: Some(instant(a.valid_until)),
                }),
                ..Extension::default()
            },
        ]
        .into_iter()
        .chain(a.level.as_ref().map(|l| Extension {
            url: urls.extension("signpost-level"),
            value_string: Some(l.clone()),
            ..Extension::default()
        }))
        .collect(),
        target: vec![Reference::to(
            format!("Organization/{}", org_id(&seg.id)),
            Some(&seg.name),
        )],
        need: CodeableConcept::coded(Coding::new(
            "http://terminology.hl7.org/CodeSystem/need",
            "periodic",
            Some("Periodic"),
        )),
        status: fhir_status,
        status_date: instant(ctx.now),
        validation_type: CodeableConcept::coded(Coding::new(
            "http://terminology.hl7.org/CodeSystem/validation-type",
            "primary",
            Some("Primary Source"),
        )),
        validation_process: vec![CodeableConcept::text(
            "Ed25519 signature by the issuer (DSSE), trust policy, validity window and the issuer's signed revocation list",
        )],
        failure_action: CodeableConcept::coded(Coding::new(
            "http://terminology.hl7.org/CodeSystem/failure-action",
            "none",
            Some("None"),
        )),
        primary_source: vec![PrimarySource {
            who: Reference {
                reference: None,
                identifier: Some(Identifier {
                    system: Some("urn:ietf:rfc:3986".into()),
                    value: a.issuer.to_string(),
                }),
                display: issuer_name,
            },
            source_type: vec![CodeableConcept::text("Training provider or regulator")],
            validation_status: CodeableConcept::coded(Coding::new(
                "http://terminology.hl7.org/CodeSystem/validation-status",
                validation,
                None,
            )),
            validation_date: instant(ctx.now),
        }],
    }
}

/// The listing's signed envelope as a Provenance signature.
pub fn provenance(seg: &Segment, listing: &Verified<Listing>) -> Provenance {
    let l = listing.payload();
    let envelope = serde_json::to_vec(&listing.envelope()).unwrap_or_default();
    let org = Reference::to(format!("Organization/{}", org_id(&seg.id)), Some(&seg.name));
    let mut target = vec![Reference::to(
        format!("HealthcareService/{}", service_id(seg, l)),
        None,
    )];
    if l.group.location.is_some() {
        target.push(Reference::to(
            format!("Location/{}", location_id(seg, l)),
            None,
        ));
    }
    Provenance {
        resource_type: "Provenance",
        id: provenance_id(seg, l),
        meta: Meta {
            last_updated: Some(instant(l.issued_at)),
            profile: Vec::new(),
        },
        target,
        recorded: instant(l.issued_at),
        agent: vec![ProvenanceAgent {
            agent_type: CodeableConcept::coded(Coding::new(
                "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "author",
                Some("Author"),
            )),
            who: org.clone(),
        }],
        signature: vec![Signature {
            signature_type: vec![Coding::new(
                "urn:iso-astm:E1762-95:2013",
                "1.2.840.10065.1.12.1.5",
                Some("Verification Signature"),
            )],
            when: instant(l.issued_at),
            who: org,
            target_format: "application/vnd.signpost.listing.v1+json",
            sig_format: "application/vnd.dsse.envelope.v1+json",
            data: base64::engine::general_purpose::STANDARD.encode(envelope),
        }],
    }
}

/// A `signpost-access` code as the fact it stands for.
pub fn fact_of(code: &str) -> Option<Fact> {
    FACTS.iter().find(|(c, _)| *c == code).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oruk::vocab::vocabulary;

    #[test]
    fn a_characteristic_code_alone_names_one_term() {
        // A code without its system is looked up in each CodeSystem in turn: no code may be
        // in two of them, or a search would mean the first without saying so.
        let mut seen = std::collections::HashMap::new();
        for system in CHARACTERISTIC_SYSTEMS {
            for term in vocabulary(system) {
                if let Some(other) = seen.insert(term.id, system) {
                    panic!("{} is a code of both {other} and {system}", term.id);
                }
                assert!(
                    characteristic_condition(term.id).is_ok(),
                    "{system}: {}",
                    term.id
                );
            }
        }
    }
}

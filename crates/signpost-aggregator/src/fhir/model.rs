//! The FHIR R4 resources and datatypes Signpost emits: only the elements it fills, typed,
//! serialised as FHIR JSON (camelCase, empty elements left out).

use serde::Serialize;
use serde_json::Value;

fn none<T>(v: &Option<T>) -> bool {
    v.is_none()
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    #[serde(skip_serializing_if = "none")]
    pub system: Option<String>,
    pub code: String,
    #[serde(skip_serializing_if = "none")]
    pub display: Option<String>,
}

impl Coding {
    pub fn new(system: &str, code: &str, display: Option<&str>) -> Self {
        Self {
            system: Some(system.to_owned()),
            code: code.to_owned(),
            display: display.map(str::to_owned),
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    pub fn coded(coding: Coding) -> Self {
        Self {
            coding: vec![coding],
            text: None,
        }
    }
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            coding: Vec::new(),
            text: Some(text.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    #[serde(skip_serializing_if = "none")]
    pub system: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    #[serde(skip_serializing_if = "none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub identifier: Option<Identifier>,
    #[serde(skip_serializing_if = "none")]
    pub display: Option<String>,
}

impl Reference {
    pub fn to(reference: String, display: Option<&str>) -> Self {
        Self {
            reference: Some(reference),
            identifier: None,
            display: display.map(str::to_owned),
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "none")]
    pub last_updated: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
}

/// An extension: a URL and one value, or nested extensions.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    pub url: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(skip_serializing_if = "none")]
    pub value_code: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub value_unsigned_int: Option<u32>,
    #[serde(skip_serializing_if = "none")]
    pub value_date_time: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "none")]
    pub value_coding: Option<Coding>,
    #[serde(skip_serializing_if = "none")]
    pub value_string: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub value_period: Option<Period>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    #[serde(skip_serializing_if = "none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint {
    pub system: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(skip_serializing_if = "none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub postal_code: Option<String>,
    pub country: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub longitude: f64,
    pub latitude: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailableTime {
    pub days_of_week: Vec<&'static str>,
    pub available_start_time: String,
    pub available_end_time: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    pub code: CodeableConcept,
    #[serde(skip_serializing_if = "none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthcareService {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub provided_by: Reference,
    pub category: Vec<CodeableConcept>,
    #[serde(rename = "type")]
    pub service_type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<Reference>,
    pub name: String,
    #[serde(skip_serializing_if = "none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "none")]
    pub extra_details: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_provision_code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<Eligibility>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub characteristic: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub communication: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referral_method: Vec<CodeableConcept>,
    pub appointment_required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available_time: Vec<AvailableTime>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub status: &'static str,
    pub name: String,
    pub mode: &'static str,
    #[serde(skip_serializing_if = "none")]
    pub address: Option<Address>,
    pub position: Position,
    pub managing_organization: Reference,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub identifier: Vec<Identifier>,
    pub active: bool,
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimarySource {
    pub who: Reference,
    #[serde(rename = "type")]
    pub source_type: Vec<CodeableConcept>,
    pub validation_status: CodeableConcept,
    pub validation_date: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationResult {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub target: Vec<Reference>,
    pub need: CodeableConcept,
    pub status: &'static str,
    pub status_date: String,
    pub validation_type: CodeableConcept,
    pub validation_process: Vec<CodeableConcept>,
    pub failure_action: CodeableConcept,
    pub primary_source: Vec<PrimarySource>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    #[serde(rename = "type")]
    pub signature_type: Vec<Coding>,
    pub when: String,
    pub who: Reference,
    pub target_format: &'static str,
    pub sig_format: &'static str,
    pub data: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceAgent {
    #[serde(rename = "type")]
    pub agent_type: CodeableConcept,
    pub who: Reference,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    pub target: Vec<Reference>,
    pub recorded: String,
    pub agent: Vec<ProvenanceAgent>,
    pub signature: Vec<Signature>,
}

/// Any resource a Bundle can carry.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Resource {
    HealthcareService(Box<HealthcareService>),
    Location(Box<Location>),
    Organization(Box<Organization>),
    VerificationResult(Box<VerificationResult>),
    Provenance(Box<Provenance>),
    OperationOutcome(OperationOutcome),
    Other(Value),
}

impl Resource {
    pub fn type_and_id(&self) -> (&'static str, &str) {
        match self {
            Self::HealthcareService(r) => ("HealthcareService", &r.id),
            Self::Location(r) => ("Location", &r.id),
            Self::Organization(r) => ("Organization", &r.id),
            Self::VerificationResult(r) => ("VerificationResult", &r.id),
            Self::Provenance(r) => ("Provenance", &r.id),
            Self::OperationOutcome(_) => ("OperationOutcome", ""),
            Self::Other(_) => ("", ""),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleLink {
    pub relation: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrySearch {
    pub mode: &'static str,
    #[serde(skip_serializing_if = "none")]
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    pub full_url: String,
    pub resource: Resource,
    pub search: EntrySearch,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub resource_type: &'static str,
    pub id: String,
    pub meta: Meta,
    #[serde(rename = "type")]
    pub bundle_type: &'static str,
    pub total: usize,
    pub link: Vec<BundleLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub severity: &'static str,
    pub code: &'static str,
    #[serde(skip_serializing_if = "none")]
    pub details: Option<CodeableConcept>,
    pub diagnostics: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    pub resource_type: &'static str,
    pub issue: Vec<Issue>,
}

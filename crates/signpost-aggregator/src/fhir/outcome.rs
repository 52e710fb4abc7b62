//! Errors as an OperationOutcome: one `issue` for each mistake, with Signpost's stable code
//! in `issue.details`.

use super::*;

/// An error as an OperationOutcome, with the Signpost error code in `issue.details`.
#[derive(Debug)]
pub struct FhirError {
    code: ErrorCode,
    issue: &'static str,
    diagnostics: String,
    expression: Option<String>,
    /// The request's other mistakes, each an `issue` of the same OperationOutcome.
    more: Vec<FhirError>,
}

impl fmt::Display for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostics)
    }
}

impl FhirError {
    pub(super) fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidParameter,
            issue: "invalid",
            diagnostics: format!("{parameter}: {}", message.into()),
            expression: Some(parameter.to_owned()),
            more: Vec::new(),
        }
    }

    pub(super) fn not_found(what: &str, id: &str) -> Self {
        Self {
            code: ErrorCode::NotFound,
            issue: "not-found",
            diagnostics: format!(
                "no {what} {} in this directory",
                id.chars().take(80).collect::<String>()
            ),
            expression: None,
            more: Vec::new(),
        }
    }

    /// A path under `/fhir/R4` that names nothing this server reads.
    pub(super) fn unsupported(path: &str) -> Self {
        Self {
            code: ErrorCode::NotFound,
            issue: "not-supported",
            diagnostics: format!(
                "{} is not served here: this server reads HealthcareService, Location, Organization, VerificationResult, Provenance, CodeSystem and SearchParameter (see /fhir/R4/metadata)",
                path.chars().take(100).collect::<String>()
            ),
            expression: None,
            more: Vec::new(),
        }
    }

    fn outcome(&self) -> OperationOutcome {
        OperationOutcome {
            resource_type: "OperationOutcome",
            issue: std::iter::once(self)
                .chain(&self.more)
                .map(|e| Issue {
                    severity: "error",
                    code: e.issue,
                    details: Some(CodeableConcept {
                        coding: vec![Coding::new(
                            "urn:signpost:error",
                            e.code.as_str(),
                            Some(e.code.title()),
                        )],
                        text: None,
                    }),
                    diagnostics: e.diagnostics.clone(),
                    expression: e.expression.iter().cloned().collect(),
                })
                .collect(),
        }
    }
}

/// Each of a query's mistakes as an issue of its own, naming the FHIR search parameter it
/// came from.
impl From<QueryError> for FhirError {
    fn from(e: QueryError) -> Self {
        let one = |p: &QueryError| {
            // The engine's names for what FHIR's own parameters became (an unknown one is
            // named as the client sent it).
            let parameter = match p.parameter.as_ref() {
                _ if p.code == QueryCode::UnknownParameter => p.parameter.as_ref(),
                "text" => "name",
                "category" => "service-category",
                "radius_km" => "distance",
                other => other,
            };
            Self {
                code: p.code.into(),
                issue: match p.code {
                    QueryCode::UnknownPostcode => "not-found",
                    QueryCode::UnknownParameter => "not-supported",
                    _ => "invalid",
                },
                diagnostics: format!("{parameter}: {}", p.message),
                expression: Some(parameter.to_owned()),
                more: Vec::new(),
            }
        };
        Self {
            more: e.more.iter().map(one).collect(),
            ..one(&e)
        }
    }
}

impl From<AggError> for FhirError {
    fn from(e: AggError) -> Self {
        Self {
            code: e.code(),
            issue: if e.code().status() == StatusCode::NOT_FOUND {
                "not-found"
            } else {
                "processing"
            },
            diagnostics: e.to_string(),
            expression: None,
            more: Vec::new(),
        }
    }
}

impl actix_web::ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        fhir_json(self.code.status(), &self.outcome())
    }
}

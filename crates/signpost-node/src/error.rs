//! The node's error table: every refusal has a stable code and status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use signpost_http::{problem_response, ApiError};
use signpost_protocol::{ValidationError, VerifyError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("no listing {0}")]
    ListingNotFound(uuid::Uuid),
    #[error("no node document version {0}")]
    NodeVersionNotFound(u64),
    #[error("no snapshot has been published yet")]
    NothingPublished,
    #[error("{0}")]
    InvalidListing(ValidationError),
    #[error("this node already publishes {0} listings, its limit")]
    ListingLimit(usize),
    #[error("attestation refused: {0}")]
    AttestationInvalid(VerifyError),
    #[error("attestation is about {found}, not this node ({expected})")]
    AttestationWrongSubject { expected: String, found: String },
    #[error("the root key is not on this machine ({0}); rotate with it present, or use `signpost node root rotate`")]
    RootKeyUnavailable(String),
    #[error("the body is not valid JSON for this endpoint: {0}")]
    MalformedBody(String),
    #[error("storage failure: {0}")]
    Store(#[from] signpost_store::StoreError),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl ApiError for NodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::ListingNotFound(_) => "listing_not_found",
            Self::NodeVersionNotFound(_) => "node_version_not_found",
            Self::NothingPublished => "nothing_published",
            Self::InvalidListing(_) => "invalid_listing",
            Self::ListingLimit(_) => "listing_limit_reached",
            Self::AttestationInvalid(_) => "attestation_invalid",
            Self::AttestationWrongSubject { .. } => "attestation_wrong_subject",
            Self::RootKeyUnavailable(_) => "root_key_unavailable",
            Self::MalformedBody(_) => "malformed_json",
            Self::Store(_) => "storage_failure",
            Self::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::ListingNotFound(_) | Self::NodeVersionNotFound(_) | Self::NothingPublished => {
                StatusCode::NOT_FOUND
            }
            Self::InvalidListing(_)
            | Self::AttestationInvalid(_)
            | Self::AttestationWrongSubject { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ListingLimit(_) | Self::RootKeyUnavailable(_) => StatusCode::CONFLICT,
            Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Unauthorized => "Unauthorized",
            Self::ListingNotFound(_) => "Listing not found",
            Self::NodeVersionNotFound(_) => "Node document version not found",
            Self::NothingPublished => "Nothing published",
            Self::InvalidListing(_) => "The listing is not valid",
            Self::ListingLimit(_) => "Listing limit reached",
            Self::AttestationInvalid(_) => "Attestation refused",
            Self::AttestationWrongSubject { .. } => "Attestation is about another organisation",
            Self::RootKeyUnavailable(_) => "Root key unavailable",
            Self::MalformedBody(_) => "Malformed JSON body",
            Self::Store(_) => "Storage failure",
            Self::Internal(_) => "Internal failure",
        }
    }
}

impl ResponseError for NodeError {
    fn status_code(&self) -> StatusCode {
        ApiError::status(self)
    }
    fn error_response(&self) -> HttpResponse {
        problem_response(self)
    }
}

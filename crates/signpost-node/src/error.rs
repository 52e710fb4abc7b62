//! The node's errors, each naming its row of the error table in `signpost-http`.

use signpost_http::{ApiError, ErrorCode};
use signpost_protocol::wire::{problems_detail, FieldProblem};
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
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldProblem>),
    /// The body's shape is wrong (a missing field, a value of the wrong type, an unknown
    /// field): named in words, with the field's path.
    #[error("the body is not valid JSON for this endpoint: {}", summary(.0))]
    MalformedFields(Vec<FieldProblem>),
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
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::ListingNotFound(_) => ErrorCode::ListingNotFound,
            Self::NodeVersionNotFound(_) => ErrorCode::NodeVersionNotFound,
            Self::NothingPublished => ErrorCode::NothingPublished,
            Self::InvalidListing(_) | Self::Invalid(_) => ErrorCode::InvalidListing,
            Self::ListingLimit(_) => ErrorCode::ListingLimitReached,
            Self::AttestationInvalid(_) => ErrorCode::AttestationInvalid,
            Self::AttestationWrongSubject { .. } => ErrorCode::AttestationWrongSubject,
            Self::RootKeyUnavailable(_) => ErrorCode::RootKeyUnavailable,
            Self::MalformedBody(_) | Self::MalformedFields(_) => ErrorCode::MalformedJson,
            Self::Store(_) => ErrorCode::StorageFailure,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn errors(&self) -> Vec<FieldProblem> {
        match self {
            Self::Invalid(problems) | Self::MalformedFields(problems) => problems.clone(),
            _ => Vec::new(),
        }
    }
}

fn summary(problems: &[FieldProblem]) -> String {
    match problems {
        [first, ..] => problems_detail(problems.len(), &first.field, &first.message),
        [] => "the listing is not valid".into(),
    }
}

signpost_http::response_error!(NodeError);

//! The directory's errors, each naming its row of the error table in `signpost-http`.

use signpost_http::{ApiError, ErrorCode};
use signpost_protocol::query::QueryError;
use signpost_protocol::wire::FieldProblem;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggError {
    #[error("{0}")]
    Query(QueryError),
    /// A path's node or issuer id that is not a did:key; `what` is "a node" or "an issuer",
    /// `why` what is wrong with it.
    #[error("{id:?} is not {what} id: {why}")]
    InvalidNodeId {
        what: &'static str,
        id: String,
        why: String,
    },
    #[error("no group {id} from node {node}")]
    GroupNotFound { node: String, id: String },
    /// An Open Referral UK object named by an id this directory does not give.
    #[error("no {what} {id} in this directory")]
    NotInDirectory { what: &'static str, id: String },
    #[error("no node {0} in this directory")]
    NodeNotFound(String),
    #[error("no such resource: {0}")]
    NotFound(String),
    #[error("no trusted issuer {0}")]
    IssuerNotFound(String),
    #[error("ping refused: {0}")]
    PingRefused(String),
    #[error("too many requests; slow down")]
    RateLimited,
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("revocation list refused: {0}")]
    RevocationsRefused(String),
    #[error("this directory takes no enrolment requests; send the enrolment card to its operator instead")]
    EnrolmentClosed,
    #[error("{0}")]
    EnrolmentRefused(String),
    #[error("no enrolment request from {0}")]
    EnrolmentNotFound(String),
    #[error("{0} enrolment requests are waiting for the operator; try again later")]
    TooManyEnrolments(usize),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl ApiError for AggError {
    fn code(&self) -> ErrorCode {
        match self {
            // Several mistakes are one `invalid_query`, each in `errors` with its own code.
            Self::Query(q) if !q.more.is_empty() => ErrorCode::InvalidQuery,
            Self::Query(q) => q.code.into(),
            Self::InvalidNodeId { .. } => ErrorCode::InvalidNodeId,
            Self::GroupNotFound { .. } | Self::NotInDirectory { .. } => ErrorCode::GroupNotFound,
            Self::NodeNotFound(_) => ErrorCode::NodeNotFound,
            Self::IssuerNotFound(_) => ErrorCode::IssuerNotFound,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::PingRefused(_) => ErrorCode::PingRefused,
            Self::RateLimited => ErrorCode::RateLimited,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::RevocationsRefused(_) => ErrorCode::RevocationsRefused,
            Self::EnrolmentClosed => ErrorCode::EnrolmentClosed,
            Self::EnrolmentRefused(_) => ErrorCode::EnrolmentRefused,
            Self::EnrolmentNotFound(_) => ErrorCode::EnrolmentNotFound,
            Self::TooManyEnrolments(_) => ErrorCode::TooManyEnrolments,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn errors(&self) -> Vec<FieldProblem> {
        match self {
            Self::Query(q) if !q.more.is_empty() => q
                .problems()
                .map(|p| FieldProblem {
                    field: p.parameter.to_string(),
                    code: ErrorCode::from(p.code).as_str().to_owned(),
                    message: p.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

signpost_http::response_error!(AggError);

impl From<QueryError> for AggError {
    fn from(e: QueryError) -> Self {
        Self::Query(e)
    }
}

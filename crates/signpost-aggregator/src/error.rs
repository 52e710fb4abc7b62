//! The directory's error table.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use signpost_http::{problem_response, ApiError};
use signpost_protocol::query::QueryError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggError {
    #[error("{0}")]
    Query(QueryError),
    #[error("{0:?} is not a node id (did:key)")]
    InvalidNodeId(String),
    #[error("no group {id} from node {node}")]
    GroupNotFound { node: String, id: String },
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
    #[error("internal failure: {0}")]
    Internal(String),
}

impl ApiError for AggError {
    fn code(&self) -> &'static str {
        match self {
            Self::Query(q) => q.code,
            Self::InvalidNodeId(_) => "invalid_node_id",
            Self::GroupNotFound { .. } => "group_not_found",
            Self::NodeNotFound(_) => "node_not_found",
            Self::IssuerNotFound(_) => "issuer_not_found",
            Self::NotFound(_) => "not_found",
            Self::PingRefused(_) => "ping_refused",
            Self::RateLimited => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            Self::Query(_) => StatusCode::BAD_REQUEST,
            Self::InvalidNodeId(_)
            | Self::GroupNotFound { .. }
            | Self::NodeNotFound(_)
            | Self::IssuerNotFound(_)
            | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PingRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn title(&self) -> &'static str {
        match self {
            Self::Query(_) => "Invalid query parameter",
            Self::InvalidNodeId(_) => "Not a node id",
            Self::GroupNotFound { .. } => "Group not found",
            Self::NodeNotFound(_) => "Node not found",
            Self::IssuerNotFound(_) => "Issuer not found",
            Self::NotFound(_) => "Not found",
            Self::PingRefused(_) => "Ping refused",
            Self::RateLimited => "Too many requests",
            Self::Internal(_) => "Internal failure",
        }
    }
}

impl ResponseError for AggError {
    fn status_code(&self) -> StatusCode {
        ApiError::status(self)
    }
    fn error_response(&self) -> HttpResponse {
        problem_response(self)
    }
}

//! Answers many endpoints share, for the `responses(...)` of their `#[utoipa::path]`: each
//! is described once here and named by type there, beside the endpoint's own answers.

use crate::Problem;

/// What a JSON body can get before its handler reads it (the body reader's refusals).
#[derive(utoipa::IntoResponses)]
pub enum JsonBodyRefused {
    #[response(
        status = 400,
        description = "Malformed JSON",
        content_type = "application/problem+json"
    )]
    Malformed(Problem),
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "Not JSON",
        content_type = "application/problem+json"
    )]
    NotJson(Problem),
}

/// A client over its rate limit.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 429,
    description = "Rate limited",
    content_type = "application/problem+json"
)]
pub struct RateLimited(pub Problem);

/// An admin or operator endpoint called without its bearer token, or with a wrong one.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 401,
    description = "Missing or wrong token",
    content_type = "application/problem+json"
)]
pub struct WrongToken(pub Problem);

/// A query parameter given to an endpoint that takes none (`unknown_parameter`, naming it).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 400,
    description = "This endpoint takes no query parameters: one was given (`unknown_parameter`, naming it)",
    content_type = "application/problem+json"
)]
pub struct TakesNoParameters(pub Problem);

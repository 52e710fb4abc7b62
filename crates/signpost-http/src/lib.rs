//! HTTP pieces shared by the node and the aggregator.
//!
//! Errors become HTTP here and nowhere else: [`ErrorCode`] is the one table of (code, HTTP
//! status, title); every server's error type implements [`ApiError`] by naming its row, and
//! [`problem_response`] renders it as `application/problem+json` (RFC 9457). Extractor
//! failures (malformed JSON, oversized bodies, bad paths and queries) and unknown routes go
//! through the same table.

pub mod body;
pub mod ratelimit;
pub mod responses;

pub use body::Body;

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

pub const PROBLEM_JSON: &str = "application/problem+json";

use signpost_protocol::query::QueryCode;
use signpost_protocol::wire::bounded_text;
pub use signpost_protocol::wire::Problem;

macro_rules! error_table {
    ($($variant:ident => ($code:literal, $status:ident, $title:literal),)*) => {
        /// Every error code any Signpost server answers with: one row each of (code, HTTP
        /// status, title). Every server's error enum maps to a row; no code is defined
        /// anywhere else. `openapi/PROTOCOL.md` lists them (a test keeps it in step).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// Stable, machine-readable, lowercase with underscores. Never changes meaning.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(Self::$variant => StatusCode::$status,)* }
            }

            /// A short, human title for the code.
            pub fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)* }
            }
        }
    };
}

error_table! {
    // Requests, before any handler runs.
    MalformedJson => ("malformed_json", BAD_REQUEST, "Malformed JSON body"),
    BodyTooLarge => ("body_too_large", PAYLOAD_TOO_LARGE, "Request body too large"),
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    InvalidPath => ("invalid_path", NOT_FOUND, "Not found"),
    InvalidQuery => ("invalid_query", BAD_REQUEST, "Invalid query parameters"),
    NotFound => ("not_found", NOT_FOUND, "Not found"),
    RateLimited => ("rate_limited", TOO_MANY_REQUESTS, "Too many requests"),
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed"),
    // Directory queries (every surface: /v1, /oruk).
    InvalidParameter => ("invalid_parameter", BAD_REQUEST, "Invalid query parameter"),
    UnknownParameter => ("unknown_parameter", BAD_REQUEST, "Unknown query parameter"),
    UnknownCategory => ("unknown_category", BAD_REQUEST, "Unknown category"),
    UnknownSafeguardingCapability => ("unknown_safeguarding_capability", BAD_REQUEST, "Unknown safeguarding capability"),
    UnknownAchievement => ("unknown_achievement", BAD_REQUEST, "Unknown achievement"),
    InvalidLanguage => ("invalid_language", BAD_REQUEST, "Invalid language tag"),
    RadiusWithoutNear => ("radius_without_near", BAD_REQUEST, "Radius without a place"),
    InvalidCoordinates => ("invalid_coordinates", BAD_REQUEST, "Invalid coordinates"),
    InvalidRadius => ("invalid_radius", BAD_REQUEST, "Invalid radius"),
    InvalidDay => ("invalid_day", BAD_REQUEST, "Invalid day"),
    InvalidTime => ("invalid_time", BAD_REQUEST, "Invalid time"),
    InvalidPage => ("invalid_page", BAD_REQUEST, "Invalid page"),
    PerPageTooLarge => ("per_page_too_large", BAD_REQUEST, "Page size out of range"),
    InvalidPostcode => ("invalid_postcode", BAD_REQUEST, "Not a postcode"),
    UnknownPostcode => ("unknown_postcode", BAD_REQUEST, "Postcode not found"),
    NearAndPostcode => ("near_and_postcode", BAD_REQUEST, "Two places given"),
    TextTooBroad => ("text_too_broad", BAD_REQUEST, "Search text too broad"),
    // The directory.
    InvalidNodeId => ("invalid_node_id", NOT_FOUND, "Not a did:key id"),
    GroupNotFound => ("group_not_found", NOT_FOUND, "Group not found"),
    NodeNotFound => ("node_not_found", NOT_FOUND, "Node not found"),
    IssuerNotFound => ("issuer_not_found", NOT_FOUND, "Issuer not found"),
    PingRefused => ("ping_refused", UNPROCESSABLE_ENTITY, "Ping refused"),
    RevocationsRefused => ("revocations_refused", UNPROCESSABLE_ENTITY, "Revocation list refused"),
    EnrolmentClosed => ("enrolment_closed", FORBIDDEN, "This directory takes no enrolment requests"),
    EnrolmentRefused => ("enrolment_refused", UNPROCESSABLE_ENTITY, "Enrolment refused"),
    EnrolmentNotFound => ("enrolment_not_found", NOT_FOUND, "No such enrolment request"),
    TooManyEnrolments => ("too_many_enrolments", SERVICE_UNAVAILABLE, "Too many enrolment requests waiting"),
    // A node's admin API.
    Unauthorized => ("unauthorized", UNAUTHORIZED, "Unauthorized"),
    ListingNotFound => ("listing_not_found", NOT_FOUND, "Listing not found"),
    NodeVersionNotFound => ("node_version_not_found", NOT_FOUND, "Node document version not found"),
    NothingPublished => ("nothing_published", NOT_FOUND, "Nothing published"),
    InvalidListing => ("invalid_listing", UNPROCESSABLE_ENTITY, "The listing is not valid"),
    ListingLimitReached => ("listing_limit_reached", CONFLICT, "Listing limit reached"),
    AttestationInvalid => ("attestation_invalid", UNPROCESSABLE_ENTITY, "Attestation refused"),
    AttestationWrongSubject => ("attestation_wrong_subject", UNPROCESSABLE_ENTITY, "Attestation is about another organisation"),
    RootKeyUnavailable => ("root_key_unavailable", CONFLICT, "Root key unavailable"),
    // Failures of the server itself.
    StorageFailure => ("storage_failure", INTERNAL_SERVER_ERROR, "Storage failure"),
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Internal failure"),
}

impl From<QueryCode> for ErrorCode {
    fn from(code: QueryCode) -> Self {
        match code {
            QueryCode::InvalidParameter => Self::InvalidParameter,
            QueryCode::UnknownParameter => Self::UnknownParameter,
            QueryCode::UnknownCategory => Self::UnknownCategory,
            QueryCode::UnknownSafeguardingCapability => Self::UnknownSafeguardingCapability,
            QueryCode::UnknownAchievement => Self::UnknownAchievement,
            QueryCode::InvalidLanguage => Self::InvalidLanguage,
            QueryCode::RadiusWithoutNear => Self::RadiusWithoutNear,
            QueryCode::InvalidCoordinates => Self::InvalidCoordinates,
            QueryCode::InvalidRadius => Self::InvalidRadius,
            QueryCode::InvalidDay => Self::InvalidDay,
            QueryCode::InvalidTime => Self::InvalidTime,
            QueryCode::InvalidPage => Self::InvalidPage,
            QueryCode::PerPageTooLarge => Self::PerPageTooLarge,
            QueryCode::InvalidPostcode => Self::InvalidPostcode,
            QueryCode::UnknownPostcode => Self::UnknownPostcode,
            QueryCode::NearAndPostcode => Self::NearAndPostcode,
            QueryCode::TextTooBroad => Self::TextTooBroad,
            _ => Self::InvalidParameter,
        }
    }
}

/// An OpenAPI modifier: the `Problem` schema's `code` lists every code of the table, so the
/// documents say exactly which codes an integrator can meet (and API checks hold the
/// servers to it).
pub struct ProblemCodes;

impl utoipa::Modify for ProblemCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
            let mut code = Object::with_type(Type::String);
            code.description = Some("Stable machine-readable code; see openapi/PROTOCOL.md".into());
            code.enum_values = Some(
                ErrorCode::ALL
                    .iter()
                    .map(|c| serde_json::Value::from(c.as_str()))
                    .collect(),
            );
            problem
                .properties
                .insert("code".into(), RefOr::T(Schema::Object(code)));
        }
    }
}

/// What the listing schemas cannot say field by field: a group meets somewhere or online; a
/// cost is free, or says how much or how; lists of ids and tags are sets.
pub struct ListingRules;

impl utoipa::Modify for ListingRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let requires = |names: &[&str]| {
            let mut o = ObjectBuilder::new();
            for n in names {
                o = o.required(*n);
            }
            o
        };
        let is_true = |field: &str| {
            ObjectBuilder::new()
                .property(
                    field,
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Boolean)
                        .enum_values(Some([true])),
                )
                .required(field)
        };
        let mut wrap = |name: &str, any: Vec<ObjectBuilder>| {
            if let Some(RefOr::T(original)) = components.schemas.remove(name) {
                if let Schema::Object(mut obj) = original {
                    if name == "Group" {
                        for list in ["categories", "languages"] {
                            if let Some(RefOr::T(Schema::Array(a))) = obj.properties.get_mut(list) {
                                a.unique_items = true;
                            }
                        }
                    }
                    let description = obj.description.take();
                    // A whole-object example describes the combined schema, so it goes with it.
                    #[allow(deprecated)]
                    let example = obj.example.take();
                    let mut any_of = AnyOfBuilder::new();
                    for o in any {
                        any_of = any_of.item(o);
                    }
                    let all = AllOfBuilder::new()
                        .item(Schema::Object(obj))
                        .item(any_of)
                        .description(description)
                        .examples(example);
                    components.schemas.insert(name.to_owned(), all.into());
                } else {
                    components
                        .schemas
                        .insert(name.to_owned(), RefOr::T(original));
                }
            }
        };
        wrap("Group", vec![requires(&["location"]), is_true("online")]);
        wrap(
            "Cost",
            vec![
                is_true("free"),
                requires(&["amount_pence"]),
                requires(&["details"]),
            ],
        );
        if let Some(RefOr::T(Schema::Object(obj))) = components.schemas.get_mut("Safeguarding") {
            for list in ["staff_checks", "capabilities"] {
                if let Some(RefOr::T(Schema::Array(a))) = obj.properties.get_mut(list) {
                    a.unique_items = true;
                }
            }
        }
    }
}

/// Whether the request carries `Authorization: Bearer <token>` whose SHA-256 is `expected`
/// (compared in constant time, on hashes).
pub fn bearer_matches(req: &HttpRequest, expected: &[u8; 32]) -> bool {
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| sha2::Sha256::digest(t.trim().as_bytes()))
        .is_some_and(|h| bool::from(h.as_slice().ct_eq(expected)))
}

/// Adds the `bearer` security scheme (admin endpoints) to an OpenAPI document.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// An error that has a row in the [`ErrorCode`] table; its `Display` is the `detail`.
pub trait ApiError: fmt::Display + fmt::Debug {
    fn code(&self) -> ErrorCode;
    /// Every field problem, when the error is about several fields of a request body.
    fn errors(&self) -> Vec<signpost_protocol::wire::FieldProblem> {
        Vec::new()
    }
}

/// The problem document for an error.
pub fn problem<E: ApiError + ?Sized>(err: &E) -> Problem {
    let code = err.code();
    Problem {
        problem_type: format!("urn:signpost:problem:{}", code.as_str()),
        title: code.title().to_owned(),
        status: code.status().as_u16(),
        detail: err.to_string(),
        code: code.as_str().to_owned(),
        errors: err.errors(),
    }
}

/// Renders a problem document as an HTTP response.
pub fn problem_http(p: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = HttpResponse::build(status);
    resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    if status == StatusCode::UNAUTHORIZED {
        resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
    }
    resp.json(p)
}

/// Renders any [`ApiError`] as problem+json; use in `ResponseError::error_response`.
pub fn problem_response<E: ApiError + ?Sized>(err: &E) -> HttpResponse {
    if err.code().status().is_server_error() {
        tracing::error!(code = err.code().as_str(), error = %err, "internal error");
    }
    problem_http(&problem(err))
}

/// Implements actix's `ResponseError` for an [`ApiError`] through the table.
#[macro_export]
macro_rules! response_error {
    ($t:ty) => {
        impl actix_web::ResponseError for $t {
            fn status_code(&self) -> actix_web::http::StatusCode {
                $crate::ApiError::code(self).status()
            }
            fn error_response(&self) -> actix_web::HttpResponse {
                $crate::problem_response(self)
            }
        }
    };
}

/// Errors raised before a handler runs: request parsing and routing. Shared by every server.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// A body that is not JSON, in words (see [`body::not_json`]).
    MalformedJson(String),
    /// A JSON body of the wrong shape: each wrong field (see [`body::typed`]).
    Fields(Vec<signpost_protocol::wire::FieldProblem>),
    BodyTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    BadPath(String),
    BadQuery(String),
    NotFound,
    /// No resource at this path (the path as asked, cut to 200 characters).
    NoRoute(String),
    RateLimited {
        retry_after_secs: u64,
    },
    UnknownParameter(String),
    MethodNotAllowed {
        allow: &'static str,
    },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedJson(e) => f.write_str(e),
            Self::Fields(problems) => match problems.as_slice() {
                [first, ..] => write!(
                    f,
                    "the body is not valid JSON for this endpoint: {}",
                    signpost_protocol::wire::problems_detail(
                        problems.len(),
                        &first.field,
                        &first.message
                    )
                ),
                [] => f.write_str("the body is not valid JSON for this endpoint"),
            },
            Self::BodyTooLarge { limit } => write!(f, "the body is larger than {limit} bytes"),
            Self::UnsupportedMediaType => f.write_str("send the body as application/json"),
            Self::BadPath(e) => write!(f, "the path is not valid: {e}"),
            Self::BadQuery(e) => f.write_str(e),
            Self::UnknownParameter(e) => f.write_str(e),
            Self::MethodNotAllowed { allow } => {
                write!(f, "this resource answers {allow} only")
            }
            Self::NotFound => f.write_str("no such resource"),
            Self::NoRoute(path) => write!(f, "there is nothing at {path} on this server"),
            Self::RateLimited { retry_after_secs } => {
                write!(
                    f,
                    "too many requests from this client; retry after {retry_after_secs} s"
                )
            }
        }
    }
}

impl ApiError for RequestError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::MalformedJson(_) | Self::Fields(_) => ErrorCode::MalformedJson,
            Self::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::BadPath(_) => ErrorCode::InvalidPath,
            Self::BadQuery(_) => ErrorCode::InvalidQuery,
            Self::NotFound | Self::NoRoute(_) => ErrorCode::NotFound,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::UnknownParameter(_) => ErrorCode::UnknownParameter,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
        }
    }

    fn errors(&self) -> Vec<signpost_protocol::wire::FieldProblem> {
        match self {
            Self::Fields(problems) => problems.clone(),
            _ => Vec::new(),
        }
    }
}

response_error!(RequestError);

/// The access log every server uses: method, path, status and time. Never the query string
/// (it can hold a person's postcode or location) and never the client's address.
pub fn access_log() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{route}xi %s %Dms")
        .custom_request_replace("route", |req| format!("{} {}", req.method(), req.path()))
        .exclude("/healthz")
        .exclude("/metrics")
}

/// Refuses a configuration value that time arithmetic could not hold, with words an
/// operator can act on.
pub fn check_range(name: &str, value: u64, min: u64, max: u64) -> Result<(), String> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{name} = {value} is out of range; use a value from {min} to {max}"
        ))
    }
}

/// Why a server could not listen on `addr`, in words an operator can act on (the system's
/// own are "Address already in use (os error 98)").
pub fn listen_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::AddrInUse => {
            "another program is listening there already (another copy of this server?): stop \
             it, or give another address with --listen"
                .into()
        }
        K::AddrNotAvailable => {
            "that address is not one of this machine's: use 127.0.0.1 (this machine only) or \
             0.0.0.0 (every interface)"
                .into()
        }
        K::PermissionDenied => {
            "this user may not listen on that port (ports below 1024 need privileges): use a \
             higher one behind a reverse proxy"
                .into()
        }
        K::InvalidInput => "give an address and port, like 127.0.0.1:8080".into(),
        _ => e.to_string(),
    }
}

/// A configuration file's mistakes in words an operator can act on, one a line: each
/// setting named as the file writes it (`nodes[0].id`, not figment's `default.nodes.0.id`),
/// what is wrong with it, and where it came from when that was the environment.
pub fn config_problems(e: figment::Error) -> String {
    use figment::error::Kind;
    e.into_iter()
        .map(|e| {
            let mut at = String::new();
            for part in &e.path {
                if part.bytes().all(|b| b.is_ascii_digit()) {
                    at.push_str(&format!("[{part}]"));
                } else {
                    if !at.is_empty() {
                        at.push('.');
                    }
                    at.push_str(part);
                }
            }
            let what = match &e.kind {
                Kind::UnknownField(_, expected) => format!(
                    "is not a setting here; check its spelling (the settings here are {})",
                    expected.join(", ")
                ),
                Kind::MissingField(field) => {
                    if !at.is_empty() {
                        at.push('.');
                    }
                    at.push_str(field);
                    "is required".into()
                }
                Kind::UnknownVariant(_, expected) => {
                    format!("must be one of: {}", expected.join(", "))
                }
                Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                    format!(
                        "must be {}, not {}",
                        body::kind_words(expected),
                        actual_words(actual)
                    )
                }
                Kind::InvalidLength(_, expected) => format!("must hold {expected}"),
                Kind::DuplicateField(_) => "is given twice".into(),
                Kind::Message(m) => m.clone(),
                other => other.to_string(),
            };
            let from = e
                .metadata
                .as_ref()
                .filter(|m| m.name.contains("environment"))
                .map(|m| format!(" (set by {})", m.name))
                .unwrap_or_default();
            if at.is_empty() {
                format!("{what}{from}")
            } else {
                format!("{at}: {what}{from}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a configuration gave, as a person writes of it (figment's own words are Rust's:
/// "signed int `5`", "sequence").
fn actual_words(actual: &figment::error::Actual) -> String {
    use figment::error::Actual as A;
    match actual {
        A::Bool(b) => format!("{b}"),
        A::Unsigned(n) => format!("the number {n}"),
        A::Signed(n) => format!("the number {n}"),
        A::Float(n) => format!("the number {n}"),
        A::Char(c) => format!("the text {:?}", c.to_string()),
        A::Str(s) => format!("the text {s:?}"),
        A::Bytes(_) => "bytes".into(),
        A::Unit => "nothing".into(),
        A::Seq => "a list".into(),
        A::Map => "a table".into(),
        A::Other(s) => s.clone(),
        _ => "a value of another kind".into(),
    }
}

/// JSON body extraction with a size limit and problem+json errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| {
            use actix_web::error::JsonPayloadError as J;
            let e = match &err {
                J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                    RequestError::BodyTooLarge { limit }
                }
                J::ContentType => RequestError::UnsupportedMediaType,
                J::Deserialize(e) => RequestError::MalformedJson(body::not_json(e)),
                _ => RequestError::MalformedJson(
                    "the body could not be read in full; send it again".into(),
                ),
            };
            e.into()
        })
}

/// Path extraction with problem+json errors (a malformed id is "not found"), naming the
/// part of the path that is wrong, never the deserialiser's own text.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| path_problem(&err.to_string(), req).into())
}

/// What is wrong with a path whose parts did not read as its resource takes them (`failure`
/// is the deserialiser's text, read only to tell which kind of part failed): each part of
/// that kind that is not one, by name.
pub fn path_problem(failure: &str, req: &HttpRequest) -> RequestError {
    let (is_kind, wanted): (fn(&str) -> bool, &str) = if failure.contains("UUID") {
        (
            |v| v.parse::<uuid::Uuid>().is_ok(),
            "a UUID (ids here look like 123e4567-e89b-12d3-a456-426614174000)",
        )
    } else if failure.contains("to a u") {
        (|v| v.parse::<u64>().is_ok(), "a whole number")
    } else {
        return RequestError::BadPath("a part of it is not in the form this resource takes".into());
    };
    let wrong: Vec<String> = req
        .match_info()
        .iter()
        .filter(|(_, value)| !is_kind(value))
        .map(|(name, value)| format!("{name}: \"{}\" is not {wanted}", bounded_text(value, 80)))
        .collect();
    RequestError::BadPath(if wrong.is_empty() {
        "a part of it is not in the form this resource takes".to_owned()
    } else {
        wrong.join("; ")
    })
}

/// The query of an endpoint that takes no parameters (`web::Query<NoParams>`): one given
/// is refused by name, `unknown_parameter`, as on every other endpoint, never ignored (a
/// filter mistyped onto it would otherwise seem to have worked).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Query extraction with problem+json errors, in words a person can act on (never the
/// deserialiser's own text).
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(&err.to_string()).into())
}

/// Turns a query deserialisation failure into a request error that names the parameter.
pub fn query_error(text: &str) -> RequestError {
    let inner = text.split_once("error: ").map_or(text, |(_, rest)| rest);
    let quoted = |s: &str| s.split('`').nth(1).unwrap_or("").to_owned();
    if let Some(rest) = inner.strip_prefix("unknown field ") {
        let name = quoted(rest);
        let known: Vec<String> = rest
            .split_once("expected ")
            .map(|(_, list)| {
                list.replace(" or ", ", ")
                    .split(", ")
                    .map(|x| x.trim_start_matches("one of ").trim_matches('`').to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let message = if rest.contains("there are no fields") {
            format!("{name} is not a parameter of this endpoint; it takes none")
        } else if known.is_empty() {
            format!("{name} is not a parameter of this endpoint")
        } else {
            format!(
                "{name} is not a parameter of this endpoint; it takes: {}",
                known.join(", ")
            )
        };
        return RequestError::UnknownParameter(message);
    }
    if inner.starts_with("duplicate field ") {
        return RequestError::BadQuery(format!(
            "{} is given more than once; give it once",
            quoted(inner)
        ));
    }
    RequestError::BadQuery(
        "a parameter has a value of the wrong kind (a number or true/false was expected); check the parameters against the API documentation".into(),
    )
}

/// A resource's answer to a method it does not have: 405 problem+json with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let mut resp = problem_response(&RequestError::MethodNotAllowed { allow });
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        resp
    })
}

/// A resource answering GET (and HEAD) with `handler`, and any other method with a 405.
pub fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(method_not_allowed("GET, HEAD"))
}

/// A resource answering POST with `handler`, and any other method with a 405.
pub fn post<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(method_not_allowed("POST"))
}

/// Middleware (`from_fn(head_as_get)`, outermost): HEAD is answered as GET is, headers
/// included, without the body.
pub async fn head_as_get<B: actix_web::body::MessageBody + 'static>(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    use actix_web::body::{BoxBody, EitherBody};
    let head = req.method() == actix_web::http::Method::HEAD;
    if head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let res = next.call(req).await?;
    Ok(if head {
        res.map_body(|_, _| EitherBody::right(BoxBody::new(())))
    } else {
        res.map_into_left_body()
    })
}

/// The default service: unknown routes are a problem+json 404 naming the path asked for
/// (never its query, which can hold a person's postcode).
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    no_route(&req)
}

/// The problem for a path no route answers, naming the path (cut to 200 characters).
fn no_route(req: &HttpRequest) -> HttpResponse {
    problem_response(&RequestError::NoRoute(bounded_text(req.path(), 200)))
}

/// The default service of a server with pages: a browser's GET for a page gets `page`'s
/// answer (its status its own) with `page_headers` and `Cache-Control: no-store`, as the
/// pages' scopes would set them; anything else, the problem naming the path.
pub fn unknown_path(
    req: &HttpRequest,
    page: fn(&HttpRequest) -> HttpResponse,
    page_headers: &[(&'static str, &'static str)],
) -> HttpResponse {
    if req.method() != actix_web::http::Method::GET || !wants_html(req) {
        return no_route(req);
    }
    let mut resp = page(req);
    let headers = resp.headers_mut();
    for (name, value) in page_headers.iter().chain(&[("cache-control", "no-store")]) {
        headers.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    resp
}

/// Whether the request is a browser's asking for a page: its `Accept` names HTML, at a
/// quality above 0.
pub fn wants_html(req: &HttpRequest) -> bool {
    use actix_web::http::header::{Accept, Header, Quality};
    Accept::parse(req).is_ok_and(|accept| {
        accept
            .iter()
            .any(|q| q.item == actix_web::mime::TEXT_HTML && q.quality > Quality::ZERO)
    })
}

/// A scope at `path` that anyone may reach (each route checks its own tokens or
/// signatures): rate-limited per client ([`ratelimit::rate_limit`], its limiter from the
/// app's data), with what it answers to GET readable from any origin ([`public_cors`]).
pub fn public_scope(
    path: &str,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(path)
        .wrap(actix_web::middleware::from_fn(ratelimit::rate_limit))
        .wrap(public_cors())
}

/// CORS for public, read-only endpoints: any origin may read.
pub fn public_cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "HEAD", "OPTIONS"])
        .allow_any_header()
        .expose_headers([header::ETAG, header::CONTENT_TYPE])
        .max_age(86_400)
}

/// A JSON response from bytes already serialised (pre-built responses on hot paths).
pub fn json_bytes(bytes: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(bytes)
}

/// A page from its template's output, with `status`. A template that fails is logged and
/// becomes a plain 500 page in words a person can act on, never the template's own message.
pub fn html_page<E: std::fmt::Display>(
    rendered: Result<String, E>,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page could not be rendered");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("This page could not be shown. Please try again.")
        }
    }
}

/// A stylesheet or script built into the binary, cached by browsers for an hour.
pub fn static_asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Whether an `If-None-Match` header matches a strong `etag` (already quoted).
pub fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == etag)
}

/// Compares a generated OpenAPI document with its committed copy (rewriting the copy first
/// when `SIGNPOST_BLESS` is set). For the tests that keep `openapi/` in step with the code.
pub fn check_committed(path: &str, generated: &str) -> Result<(), String> {
    if std::env::var_os("SIGNPOST_BLESS").is_some() {
        std::fs::write(path, generated).map_err(|e| format!("{path}: {e}"))?;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == generated {
        Ok(())
    } else {
        Err(format!(
            "{path} is out of date; run `SIGNPOST_BLESS=1 cargo test openapi` and commit it"
        ))
    }
}

/// A running server and the background tasks that belong to it (re-signing, crawling, ...).
pub struct Running {
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Spawns `server` on the current runtime.
    pub fn spawn(server: actix_web::dev::Server) -> Self {
        let handle = server.handle();
        Self {
            handle,
            server: tokio::spawn(server),
            background: Vec::new(),
        }
    }

    /// Adds a task that stops with the server.
    pub fn with(mut self, task: tokio::task::JoinHandle<()>) -> Self {
        self.background.push(task);
        self
    }

    /// Waits until the server stops (a signal, or [`Running::stop`] from elsewhere).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = self.server.await.unwrap_or(Ok(()));
        for task in self.background {
            task.abort();
        }
        result
    }

    /// Stops accepting, finishes in-flight requests, and stops the background tasks.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        for task in &self.background {
            task.abort();
        }
        for task in self.background {
            let _ = task.await;
        }
        let _ = self.server.await;
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// A configuration's mistakes are named as the file writes the setting, in words.
    #[test]
    fn configuration_mistakes_name_the_setting_as_written() {
        use figment::providers::{Format as _, Toml};
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Node {
            id: String,
            url: String,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Config {
            #[serde(default)]
            nodes: Vec<Node>,
            #[serde(default)]
            interval_secs: u64,
        }
        let said = |toml: &str| {
            super::config_problems(
                figment::Figment::new()
                    .merge(Toml::string(toml))
                    .extract::<Config>()
                    .unwrap_err(),
            )
        };
        assert_eq!(
            said("colour = 1"),
            "colour: is not a setting here; check its spelling (the settings here are nodes, interval_secs)"
        );
        assert_eq!(
            said("interval_secs = \"often\""),
            "interval_secs: must be a whole number, 0 or more, not the text \"often\""
        );
        assert_eq!(
            said("interval_secs = -5"),
            "interval_secs: must be a whole number, 0 or more, not the number -5"
        );
        assert_eq!(
            said("interval_secs = [1]"),
            "interval_secs: must be a whole number, 0 or more, not a list"
        );
        assert_eq!(
            said("[[nodes]]\nurl = \"http://x\""),
            "nodes[0].id: is required"
        );
    }

    #[test]
    fn every_code_is_defined_once_and_documented() {
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "a code is defined twice");
        let protocol = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/PROTOCOL.md"
        ))
        .unwrap_or_default();
        for code in codes {
            assert!(
                protocol.contains(&format!("| `{code}` |")),
                "openapi/PROTOCOL.md does not list the error code `{code}`"
            );
        }
        for code in signpost_protocol::wire::RefusalCode::ALL {
            assert!(
                protocol.contains(&format!("| `{code}` |")),
                "openapi/PROTOCOL.md does not list the refusal code `{code}`"
            );
        }
    }
}

#[cfg(test)]
mod query_errors {
    use super::{query_error, RequestError};

    #[test]
    fn query_errors_are_said_in_words() {
        match query_error(
            "Query deserialize error: unknown field `colour`, expected `achievement` or `status`",
        ) {
            RequestError::UnknownParameter(m) => {
                assert!(m.starts_with("colour is not a parameter"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match query_error("Query deserialize error: unknown field `x`, expected one of `a`, `b`") {
            RequestError::UnknownParameter(m) => assert!(m.contains("it takes: a, b"), "{m}"),
            other => panic!("{other:?}"),
        }
        let RequestError::BadQuery(m) =
            query_error("Query deserialize error: invalid digit found in string")
        else {
            panic!()
        };
        assert!(!m.contains("deserialize"), "{m}");
    }
}

#[cfg(test)]
mod pages {
    use actix_web::body::MessageBody;
    use actix_web::http::{header, StatusCode};

    fn text(res: actix_web::HttpResponse) -> String {
        let body = res.into_body().try_into_bytes().unwrap_or_default();
        String::from_utf8_lossy(&body).into_owned()
    }

    #[test]
    fn a_page_that_cannot_be_rendered_says_so_in_words_never_the_templates_message() {
        let res = super::html_page(
            Err::<String, _>("askama: missing field `secret_internal_name`"),
            StatusCode::OK,
        );
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/plain; charset=utf-8"
        );
        let body = text(res);
        assert_eq!(body, "This page could not be shown. Please try again.");
        assert!(!body.contains("secret_internal_name"));
    }

    #[test]
    fn a_page_keeps_its_status_and_is_html() {
        let res = super::html_page(
            Ok::<_, std::fmt::Error>("<p>Fix the postcode</p>".into()),
            StatusCode::BAD_REQUEST,
        );
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(text(res), "<p>Fix the postcode</p>");
    }

    #[test]
    fn assets_are_cached_for_an_hour() {
        let res = super::static_asset("text/css; charset=utf-8", "body{}");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get(header::CACHE_CONTROL).unwrap(),
            "public, max-age=3600"
        );
        assert_eq!(text(res), "body{}");
    }
}

#[cfg(test)]
mod browsers {
    use actix_web::test::TestRequest;

    #[test]
    fn a_page_is_for_whoever_accepts_html_above_quality_0() {
        let asks = |accept: Option<&str>| {
            let req = match accept {
                Some(a) => TestRequest::default().insert_header(("accept", a)),
                None => TestRequest::default(),
            };
            super::wants_html(&req.to_http_request())
        };
        assert!(asks(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(asks(Some("application/json, TEXT/HTML;q=0.1")));
        assert!(!asks(Some("text/html;q=0, */*")));
        assert!(!asks(Some("*/*")));
        assert!(!asks(Some("application/json")));
        assert!(!asks(None));
    }
}

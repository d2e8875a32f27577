//! AWS errors on the wire: status from the service model, `x-amzn-ErrorType`, `{"__type", "message"}`.
//!
//! [`ErrorCode`] is the one table from exception name to HTTP status; a test checks it against the
//! service model in `emulator/spec/rds-data-service-2.json`. The backend's errors become AWS errors
//! here, in one `From` impl: which exception, and the engine's message in the form the Data API
//! gives it.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::backend::{self, DatabaseError, Engine};

/// The exceptions the emulator sends: the model's 17 shapes plus `ValidationException`, which AWS sends
/// outside the model (multi-statements, `schema` on v2), and `ThrottlingException`, which only fault
/// injection sends (the name the SDKs' retry classifiers treat as throttling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "the variants are AWS's exception names, documented in the model"
)]
pub enum ErrorCode {
    AccessDeniedException,
    BadRequestException,
    DatabaseErrorException,
    DatabaseNotFoundException,
    DatabaseResumingException,
    DatabaseUnavailableException,
    ForbiddenException,
    HttpEndpointNotEnabledException,
    InternalServerErrorException,
    InvalidResourceStateException,
    InvalidSecretException,
    NotFoundException,
    SecretsErrorException,
    ServiceUnavailableError,
    StatementTimeoutException,
    TransactionNotFoundException,
    UnsupportedResultException,
    ValidationException,
    ThrottlingException,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::AccessDeniedException,
        ErrorCode::BadRequestException,
        ErrorCode::DatabaseErrorException,
        ErrorCode::DatabaseNotFoundException,
        ErrorCode::DatabaseResumingException,
        ErrorCode::DatabaseUnavailableException,
        ErrorCode::ForbiddenException,
        ErrorCode::HttpEndpointNotEnabledException,
        ErrorCode::InternalServerErrorException,
        ErrorCode::InvalidResourceStateException,
        ErrorCode::InvalidSecretException,
        ErrorCode::NotFoundException,
        ErrorCode::SecretsErrorException,
        ErrorCode::ServiceUnavailableError,
        ErrorCode::StatementTimeoutException,
        ErrorCode::TransactionNotFoundException,
        ErrorCode::UnsupportedResultException,
        ErrorCode::ValidationException,
        ErrorCode::ThrottlingException,
    ];

    /// The exception's name, as sent in `x-amzn-ErrorType` and `__type`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::BadRequestException => "BadRequestException",
            ErrorCode::DatabaseErrorException => "DatabaseErrorException",
            ErrorCode::DatabaseNotFoundException => "DatabaseNotFoundException",
            ErrorCode::DatabaseResumingException => "DatabaseResumingException",
            ErrorCode::DatabaseUnavailableException => "DatabaseUnavailableException",
            ErrorCode::ForbiddenException => "ForbiddenException",
            ErrorCode::HttpEndpointNotEnabledException => "HttpEndpointNotEnabledException",
            ErrorCode::InternalServerErrorException => "InternalServerErrorException",
            ErrorCode::InvalidResourceStateException => "InvalidResourceStateException",
            ErrorCode::InvalidSecretException => "InvalidSecretException",
            ErrorCode::NotFoundException => "NotFoundException",
            ErrorCode::SecretsErrorException => "SecretsErrorException",
            ErrorCode::ServiceUnavailableError => "ServiceUnavailableError",
            ErrorCode::StatementTimeoutException => "StatementTimeoutException",
            ErrorCode::TransactionNotFoundException => "TransactionNotFoundException",
            ErrorCode::UnsupportedResultException => "UnsupportedResultException",
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::ThrottlingException => "ThrottlingException",
        }
    }

    /// The HTTP status the service model gives the exception.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::AccessDeniedException | ErrorCode::ForbiddenException => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::DatabaseNotFoundException
            | ErrorCode::NotFoundException
            | ErrorCode::TransactionNotFoundException => StatusCode::NOT_FOUND,
            ErrorCode::DatabaseUnavailableException => StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::InternalServerErrorException => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServiceUnavailableError => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::BadRequestException
            | ErrorCode::DatabaseErrorException
            | ErrorCode::DatabaseResumingException
            | ErrorCode::HttpEndpointNotEnabledException
            | ErrorCode::InvalidResourceStateException
            | ErrorCode::InvalidSecretException
            | ErrorCode::SecretsErrorException
            | ErrorCode::StatementTimeoutException
            | ErrorCode::UnsupportedResultException
            | ErrorCode::ValidationException
            | ErrorCode::ThrottlingException => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the model gives the shape a `message` member (the three server faults have none).
    pub fn has_message(self) -> bool {
        !matches!(
            self,
            ErrorCode::DatabaseUnavailableException
                | ErrorCode::InternalServerErrorException
                | ErrorCode::ServiceUnavailableError
        )
    }
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Which exception.
    pub code: ErrorCode,
    /// The message (dropped for shapes without one).
    pub message: String,
    /// `dbConnectionId`, for `StatementTimeoutException`.
    pub db_connection_id: Option<i64>,
}

impl ApiError {
    /// `StatementTimeoutException` for connection `db_connection_id`.
    pub fn statement_timeout(message: impl Into<String>, db_connection_id: u64) -> Self {
        Self {
            code: ErrorCode::StatementTimeoutException,
            message: message.into(),
            db_connection_id: Some(i64::try_from(db_connection_id).unwrap_or(i64::MAX)),
        }
    }

    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            db_connection_id: None,
        }
    }

    /// `BadRequestException`: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequestException, message)
    }

    /// `UnsupportedResultException` for a response over the size limit (AWS's 1 MiB); `detail`
    /// says by how much.
    pub fn response_too_large(detail: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedResultException,
            format!("{RESPONSE_TOO_LARGE} ({detail})"),
        )
    }

    /// Whether this is [`ApiError::response_too_large`] (v2 then ends the caller's transaction).
    pub fn is_response_too_large(&self) -> bool {
        self.code == ErrorCode::UnsupportedResultException
            && self.message.starts_with(RESPONSE_TOO_LARGE)
    }
}

/// The start of the response size error's message.
const RESPONSE_TOO_LARGE: &str = "Database returned more than the allowed response size limit";

impl From<backend::Error> for ApiError {
    fn from(error: backend::Error) -> Self {
        use backend::Error as E;
        let code = match &error {
            E::Database(database) => {
                return Self::new(ErrorCode::DatabaseErrorException, engine_message(database));
            }
            E::TooLarge { limit } => {
                return Self::response_too_large(&format!("over {limit} bytes"));
            }
            E::Connect(_)
            | E::ConnectTimeout { .. }
            | E::PoolTimeout
            | E::PoolClosed
            | E::ConnectionLost(_) => ErrorCode::DatabaseUnavailableException,
            E::UnsupportedType { .. } => ErrorCode::UnsupportedResultException,
            E::Bind(_) | E::Numeric { .. } | E::Json(_) => ErrorCode::BadRequestException,
            E::InvalidUrl { .. } | E::Decode { .. } | E::Internal(_) => {
                ErrorCode::InternalServerErrorException
            }
        };
        Self::new(code, error.to_string())
    }
}

/// An engine's error as the Data API words it (the forms reported by its users; unverified on AWS
/// beyond them): PostgreSQL `ERROR: <msg>[\n  Detail: …][\n  Hint: …][\n  Position: N]; SQLState:
/// XXXXX`, MySQL `<message>; Error code: N; SQLState: XXXXX`.
fn engine_message(error: &DatabaseError) -> String {
    let mut text = match error.engine() {
        Engine::Postgres => format!("ERROR: {}", error.message()),
        Engine::MySql => error.message().to_owned(),
    };
    if let Some(detail) = error.detail() {
        text.push_str(&format!("\n  Detail: {detail}"));
    }
    if let Some(hint) = error.hint() {
        text.push_str(&format!("\n  Hint: {hint}"));
    }
    if let Some(position) = error.position() {
        text.push_str(&format!("\n  Position: {position}"));
    }
    if let Some(number) = error.number() {
        text.push_str(&format!("; Error code: {number}"));
    }
    if let Some(sqlstate) = error.sqlstate() {
        text.push_str(&format!("; SQLState: {sqlstate}"));
    }
    text
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), self.code.name().into());
        if self.code.has_message() {
            body.insert("message".into(), self.message.into());
        }
        if let Some(id) = self.db_connection_id {
            body.insert("dbConnectionId".into(), id.into());
        }
        let mut response = (
            self.code.status(),
            axum::Json(serde_json::Value::Object(body)),
        )
            .into_response();
        response.headers_mut().insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.code.name()),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_errors_become_the_aws_exceptions() {
        let cases = [
            (
                backend::Error::ConnectTimeout { seconds: 10 },
                ErrorCode::DatabaseUnavailableException,
                "cannot reach the database server within 10 s",
            ),
            (
                backend::Error::PoolTimeout,
                ErrorCode::DatabaseUnavailableException,
                "timed out waiting for a free database connection",
            ),
            (
                backend::Error::TooLarge { limit: 1_048_576 },
                ErrorCode::UnsupportedResultException,
                "Database returned more than the allowed response size limit (over 1048576 bytes)",
            ),
            (
                backend::Error::UnsupportedType {
                    column: "g".into(),
                    type_name: "GEOMETRY".into(),
                },
                ErrorCode::UnsupportedResultException,
                "The result contains the unsupported data type GEOMETRY (column g).",
            ),
            (
                backend::Error::Numeric {
                    text: "1e5".into(),
                    reason: "not decimal text".into(),
                },
                ErrorCode::BadRequestException,
                "DECIMAL value \"1e5\" cannot be bound as PostgreSQL numeric: not decimal text",
            ),
            (
                backend::Error::Decode {
                    column: "c".into(),
                    type_name: "date".into(),
                    source: "value out of range or malformed".into(),
                },
                ErrorCode::InternalServerErrorException,
                "cannot decode column c (date): value out of range or malformed",
            ),
        ];
        for (error, code, message) in cases {
            let api = ApiError::from(error);
            assert_eq!((api.code, api.message.as_str()), (code, message));
        }
        let too_large = ApiError::from(backend::Error::TooLarge { limit: 1 });
        assert!(too_large.is_response_too_large());
        assert!(ApiError::response_too_large("2 bytes > 1 bytes").is_response_too_large());
        let other = ApiError::new(ErrorCode::UnsupportedResultException, "unsupported type");
        assert!(!other.is_response_too_large());
    }

    #[test]
    fn status_table_matches_the_service_model() {
        let model: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/rds-data-service-2.json"))
                .expect("model parses");
        let shapes = model["shapes"].as_object().expect("shapes");
        let mut modelled = 0;
        for code in ErrorCode::ALL {
            match shapes.get(code.name()) {
                Some(shape) => {
                    modelled += 1;
                    assert_eq!(
                        shape["error"]["httpStatusCode"].as_u64(),
                        Some(u64::from(code.status().as_u16())),
                        "{}",
                        code.name()
                    );
                    assert_eq!(
                        shape["members"].get("message").is_some(),
                        code.has_message(),
                        "{}",
                        code.name()
                    );
                }
                None => assert!(
                    matches!(
                        code,
                        ErrorCode::ValidationException | ErrorCode::ThrottlingException
                    ),
                    "unmodelled {code:?}"
                ),
            }
        }
        let exceptions = shapes.values().filter(|s| s["exception"] == true).count();
        assert_eq!(modelled, exceptions, "every modelled exception has a code");
    }
}

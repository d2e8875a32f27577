//! Errors: [`Error`] for start-up, [`ApiError`] for HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Start-up failures: configuration, database, migrations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed; the message names it.
    #[error("configuration: {0}")]
    Config(String),

    /// The data directory of the embedded database could not be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Connecting to the database or applying migrations failed.
    #[error(transparent)]
    Migration(#[from] migration::Error),

    /// Setting up the database connection failed: the embedded file's journal mode, or the Data
    /// API adapter's SeaORM connection.
    #[error("cannot set up the database connection")]
    Database(#[source] sea_orm::DbErr),

    /// Serving HTTP failed (binding or accepting).
    #[error("serving HTTP failed")]
    Serve(#[source] std::io::Error),
}

/// `Retry-After` of a 503: about the time an auto-paused Aurora cluster takes to resume.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// An error answered to an HTTP client: a status and `{"error": {"code", "message"}}`.
///
/// `code` is a stable machine-readable word; `message` is for people and never carries internal
/// details (those are logged with the full cause chain at `error` level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 with `Retry-After`: the database is unavailable for now (the Data API adapter has used
    /// its retry budget). `outcome_unknown` when a write may have been applied.
    pub fn unavailable(kind: data_api::Unavailable) -> Self {
        let (code, message) = match kind {
            data_api::Unavailable::NotApplied => (
                "database_unavailable",
                "the database is waking up or busy; nothing was changed, try again shortly",
            ),
            // A kind added later: claim nothing about whether a write was applied.
            data_api::Unavailable::OutcomeUnknown | _ => (
                "outcome_unknown",
                "the database did not confirm the operation; it may or may not have been \
                 applied: repeat a write only with the same Idempotency-Key",
            ),
        };
        Self {
            retry_after: Some(RETRY_AFTER_SECONDS),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// 400 `validation_failed`: the body parsed but a field is wrong.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation_failed", message)
    }

    /// 500 `internal`: logs `cause` with its chain, answers a generic message.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next.source();
        }
        tracing::error!(error = %chain, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; it has been logged",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        match data_api::unavailable(&error) {
            Some(kind) => {
                tracing::warn!(error = %error, "the Data API is unavailable; answering 503");
                Self::unavailable(kind)
            }
            None => Self::internal(&error),
        }
    }
}

//! The crate's errors, and how they reach SeaORM callers as `DbErr`.
//!
//! A Data API error keeps its AWS exception name, message and — for SQL errors — the SQLState and
//! MySQL error number read from the message ([`crate::aws`] holds the patterns). Inside a `DbErr` it
//! travels as `DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(_)))`: SeaORM's `RuntimeErr`
//! has no other variant that carries a typed error, so the sqlx type is SeaORM's choice, not this
//! crate's. Read it back with [`aws_error`]; [`sql_err`] classifies it (SeaORM's own
//! `DbErr::sql_err` only knows sqlx's native drivers). No sqlx type appears in this crate's API.

use std::borrow::Cow;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::aws::{self, Exception};
use crate::sql::TranslateError;
use crate::values::ValueError;

/// Errors of the Data API adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid.
    #[error("{variable}: {reason}")]
    Config {
        /// The environment variable or field.
        variable: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The SQL's placeholders do not fit its values.
    #[error(transparent)]
    Translate(#[from] TranslateError),
    /// A value cannot be sent or a field cannot be read.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The Data API answered with an error.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The call did not get an answer (connection, timeout): its outcome is unknown.
    #[error("{operation}: no answer from the Data API ({message}); the outcome is unknown")]
    Transport {
        /// The operation.
        operation: &'static str,
        /// What the client reported.
        message: String,
    },
    /// A result exceeded the Data API's 1 MiB response limit.
    #[error(
        "{operation}: the result exceeds the Data API's 1 MiB response limit ({message}); select fewer \
         columns or page with keyset pagination (`data_api::keyset`, or `LIMIT` with \
         `WHERE key > last`)"
    )]
    ResponseTooLarge {
        /// The operation.
        operation: &'static str,
        /// AWS's message.
        message: String,
    },
    /// `CommitTransaction` failed or its outcome is unknown.
    #[error("commit of transaction {transaction_id} failed: {source}")]
    Commit {
        /// The transaction.
        transaction_id: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The caller's hook ([`crate::hook`]) refused the call: nothing was sent.
    #[error("refused before sending: {source}")]
    Refused {
        /// The hook's reason.
        #[source]
        source: crate::hook::HookError,
    },
    /// A statement of a transaction failed in a way SeaORM could not report (a savepoint, a rollback
    /// of a dropped nested transaction); the transaction is rolled back.
    #[error("transaction {transaction_id} is unusable: {reason}")]
    TransactionPoisoned {
        /// The transaction.
        transaction_id: String,
        /// The first failure.
        reason: String,
    },
}

/// An error answer of the Data API: the AWS exception, its message, and what the adapter read
/// from it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
#[non_exhaustive]
pub struct AwsError {
    /// The operation that failed (`ExecuteStatement`, …).
    pub operation: &'static str,
    /// AWS's exception name (`DatabaseErrorException`, …), or [`NO_ANSWER`].
    pub code: String,
    /// AWS's message (empty for the 5xx shapes, which carry none).
    pub message: String,
    /// The SQLState at the end of a SQL error's message.
    pub sql_state: Option<String>,
    /// MySQL's error number (`Error code: N`).
    pub vendor_code: Option<u32>,
    /// `dbConnectionId` of a `StatementTimeoutException`.
    pub db_connection_id: Option<i64>,
}

/// The constraint a SQL error reports violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Constraint {
    /// A unique key or primary key.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// `NOT NULL`.
    NotNull,
    /// A `CHECK` constraint.
    Check,
}

impl AwsError {
    /// An error from its operation, code and message, with SQLState and vendor code read out.
    pub fn new(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Self {
            operation,
            code: code.into(),
            sql_state: aws::sql_state(&message),
            vendor_code: aws::vendor_code(&message),
            message,
            db_connection_id: None,
        }
    }

    /// Whether this is the given exception.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// The constraint a SQL error violated, from the SQLState and MySQL error number.
    pub fn constraint(&self) -> Option<Constraint> {
        match (self.sql_state.as_deref(), self.vendor_code) {
            (_, Some(1022 | 1062 | 1169 | 1586)) | (Some("23505"), _) => Some(Constraint::Unique),
            (_, Some(1216 | 1217 | 1451 | 1452 | 1557 | 1761 | 1762)) | (Some("23503"), _) => {
                Some(Constraint::ForeignKey)
            }
            (_, Some(1048)) | (Some("23502"), _) => Some(Constraint::NotNull),
            (_, Some(3819)) | (Some("23514"), _) => Some(Constraint::Check),
            _ => None,
        }
    }

    /// Whether this is the Data API's response size limit (an `UnsupportedResultException` about
    /// the size, not an unsupported type).
    pub fn is_response_too_large(&self) -> bool {
        self.code == aws::UNSUPPORTED_RESULT && aws::says_size_limit(&self.message)
    }
}

/// An [`AwsError`] as the sqlx `DatabaseError` SeaORM's `RuntimeErr::SqlxError` requires.
#[derive(Debug)]
struct InDbErr(AwsError);

impl std::fmt::Display for InDbErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for InDbErr {}

impl sqlx::error::DatabaseError for InDbErr {
    fn message(&self) -> &str {
        &self.0.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.0.sql_state.as_deref().map(Cow::Borrowed)
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        match self.0.constraint() {
            Some(Constraint::Unique) => ErrorKind::UniqueViolation,
            Some(Constraint::ForeignKey) => ErrorKind::ForeignKeyViolation,
            Some(Constraint::NotNull) => ErrorKind::NotNullViolation,
            Some(Constraint::Check) => ErrorKind::CheckViolation,
            None => ErrorKind::Other,
        }
    }
}

impl Error {
    /// As a `DbErr` of a query (`query`) or an execution.
    pub fn into_db_err(self, query: bool) -> DbErr {
        let api = match self {
            Error::Aws(api) => Ok(api),
            Error::ResponseTooLarge { operation, .. } => {
                let message = self.to_string();
                Ok(AwsError::new(operation, aws::UNSUPPORTED_RESULT, message))
            }
            // No answer: typed too, so `unavailable` can tell it from the adapter's own failures.
            Error::Transport { operation, .. } => {
                let message = self.to_string();
                Ok(AwsError::new(operation, NO_ANSWER, message))
            }
            other => Err(other.to_string()),
        };
        let runtime = match api {
            // Every AWS error travels typed, so `api_error` finds it.
            Ok(api) => RuntimeErr::SqlxError(sqlx::Error::Database(Box::new(InDbErr(api)))),
            Err(message) => RuntimeErr::Internal(message),
        };
        if query {
            DbErr::Query(runtime)
        } else {
            DbErr::Exec(runtime)
        }
    }
}

/// The code a call without an answer (connection failure, client timeout) travels with inside a
/// `DbErr`; not an AWS exception name.
pub const NO_ANSWER: &str = "NoAnswer";

/// Why the Data API could not serve a call for now — the answer a service gives as 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailable {
    /// Nothing ran: the cluster is resuming from auto-pause past the retry budget, or the call
    /// was throttled past the attempts allowed. Repeating the request later is safe.
    NotApplied,
    /// The call may or may not have run: a 5xx answer, no answer at all, or a statement timeout.
    /// A write may have been applied.
    OutcomeUnknown,
}

/// Whether `err` says the Data API was unavailable (after the adapter's own retries), and whether
/// the call may have run. `None` for SQL errors, bad input and everything else that is final.
pub fn unavailable(err: &DbErr) -> Option<Unavailable> {
    let api = aws_error(err)?;
    if api.code == NO_ANSWER {
        return Some(Unavailable::OutcomeUnknown);
    }
    match aws::exception(&api.code) {
        Exception::Resuming | Exception::Throttled => Some(Unavailable::NotApplied),
        Exception::ServerError | Exception::Timeout => Some(Unavailable::OutcomeUnknown),
        Exception::Other => None,
    }
}

/// Whether `err` is the Data API's 1 MiB response limit (page the query: [`crate::keyset`]).
pub fn is_response_too_large(err: &DbErr) -> bool {
    aws_error(err).is_some_and(AwsError::is_response_too_large)
}

/// The Data API error inside `err`, if it carries one.
pub fn aws_error(err: &DbErr) -> Option<&AwsError> {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(e)))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(e))) => {
            e.try_downcast_ref::<InDbErr>().map(|e| &e.0)
        }
        _ => None,
    }
}

/// `DbErr::sql_err` that also understands errors from the Data API: unique and foreign-key
/// violations can be told apart whichever connection produced them.
pub fn sql_err(err: &DbErr) -> Option<SqlErr> {
    match aws_error(err) {
        Some(api) => match api.constraint() {
            Some(Constraint::Unique) => {
                Some(SqlErr::UniqueConstraintViolation(api.message.clone()))
            }
            Some(Constraint::ForeignKey) => {
                Some(SqlErr::ForeignKeyConstraintViolation(api.message.clone()))
            }
            _ => None,
        },
        None => err.sql_err(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailability_is_told_apart_from_final_errors() {
        let api = |code: &str| {
            Error::Aws(AwsError::new("ExecuteStatement", code, "m")).into_db_err(false)
        };
        for (err, expected) in [
            (
                api("DatabaseResumingException"),
                Some(Unavailable::NotApplied),
            ),
            (api("ThrottlingException"), Some(Unavailable::NotApplied)),
            (
                api("ServiceUnavailableError"),
                Some(Unavailable::OutcomeUnknown),
            ),
            (
                api("InternalServerErrorException"),
                Some(Unavailable::OutcomeUnknown),
            ),
            (
                api("StatementTimeoutException"),
                Some(Unavailable::OutcomeUnknown),
            ),
            (
                Error::Transport {
                    operation: "ExecuteStatement",
                    message: "connection reset".into(),
                }
                .into_db_err(true),
                Some(Unavailable::OutcomeUnknown),
            ),
            (api("DatabaseErrorException"), None),
            (api("BadRequestException"), None),
            (DbErr::RecordNotInserted, None),
        ] {
            assert_eq!(unavailable(&err), expected, "{err}");
        }
    }

    #[test]
    fn sql_state_and_vendor_code_are_parsed_and_classified() {
        let cases = [
            (
                "ERROR: duplicate key value violates unique constraint \"users_pkey\"\n  Detail: Key (id)=(1) already exists.; SQLState: 23505",
                Some("23505"),
                None,
                Some(Constraint::Unique),
            ),
            (
                "Duplicate entry '1' for key 'PRIMARY'; Error code: 1062; SQLState: 23000",
                Some("23000"),
                Some(1062),
                Some(Constraint::Unique),
            ),
            (
                "Cannot add or update a child row: a foreign key constraint fails; Error code: 1452; SQLState: 23000",
                Some("23000"),
                Some(1452),
                Some(Constraint::ForeignKey),
            ),
            (
                "ERROR: insert or update on table \"b\" violates foreign key constraint; SQLState: 23503",
                Some("23503"),
                None,
                Some(Constraint::ForeignKey),
            ),
            ("Transaction may be expired", None, None, None),
        ];
        for (message, state, vendor, kind) in cases {
            let error = AwsError::new("ExecuteStatement", "DatabaseErrorException", message);
            assert_eq!(error.sql_state.as_deref(), state, "{message}");
            assert_eq!(error.vendor_code, vendor, "{message}");
            assert_eq!(error.constraint(), kind, "{message}");
        }
    }

    #[test]
    fn sql_errors_travel_inside_db_err_and_are_classified() {
        let err = Error::Aws(AwsError::new(
            "ExecuteStatement",
            "DatabaseErrorException",
            "Duplicate entry '1' for key 'PRIMARY'; Error code: 1062; SQLState: 23000",
        ))
        .into_db_err(false);
        assert!(matches!(
            sql_err(&err),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));
        assert_eq!(
            aws_error(&err).map(|e| e.code.as_str()),
            Some("DatabaseErrorException")
        );
        let other = Error::Aws(AwsError::new(
            "ExecuteStatement",
            "StatementTimeoutException",
            "slow",
        ))
        .into_db_err(true);
        assert_eq!(
            aws_error(&other).map(|e| e.code.as_str()),
            Some("StatementTimeoutException")
        );
        assert!(sql_err(&other).is_none());
        let big = Error::ResponseTooLarge {
            operation: "ExecuteStatement",
            message: "Database returned more than the allowed response size limit".into(),
        }
        .into_db_err(true);
        assert!(is_response_too_large(&big));
        assert!(big.to_string().contains("keyset"), "{big}");
        assert!(!is_response_too_large(&other));
    }
}

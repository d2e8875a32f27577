//! Data API calls with the adapter's retry rules and one tracing span per call.
//!
//! The SDK's own retries are switched off: it would retry a 500 after a statement ran (and so apply a
//! write twice — the emulator's `sdk_blind_retry_after_the_statement_writes_twice` case shows it).
//! Here a call is retried only when a retry cannot repeat an effect:
//! - `DatabaseResumingException` (nothing ran; the cluster is waking from auto-pause): for up to
//!   [`RetryPolicy::resume_budget`](crate::RetryPolicy), any operation but Commit and Rollback.
//! - throttling (`ThrottlingException`, `TooManyRequestsException`): the request was refused.
//! - 500/503/504 and transport failures (outcome unknown): only for calls that change nothing —
//!   `BeginTransaction`, `RollbackTransaction` and read-only statements outside a transaction.
//! - never `StatementTimeoutException`, never `CommitTransaction` after an unknown outcome, never a
//!   statement inside a transaction except after throttling or resuming.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_rdsdata::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_rdsdata::operation::execute_statement::{
    ExecuteStatementError, ExecuteStatementOutput,
};
use aws_sdk_rdsdata::types::SqlParameter;
use tracing::Instrument;

use crate::aws::{self, Exception};
use crate::error::{AwsError, Error};
use crate::{Config, RetryPolicy};

/// What kind of retry an error allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RetryClass {
    /// The cluster is resuming: nothing ran.
    Resuming,
    /// Refused before running.
    Throttled,
    /// The outcome is unknown.
    Unknown,
    /// Final.
    Never,
}

fn class(error: &Error) -> RetryClass {
    match error {
        Error::Aws(api) => match aws::exception(&api.code) {
            Exception::Resuming => RetryClass::Resuming,
            Exception::Throttled => RetryClass::Throttled,
            Exception::ServerError => RetryClass::Unknown,
            Exception::Timeout | Exception::Other => RetryClass::Never,
        },
        Error::Transport { .. } => RetryClass::Unknown,
        _ => RetryClass::Never,
    }
}

/// May the call be repeated after an unknown outcome?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Repeating changes nothing (a read outside a transaction, Begin, Rollback).
    Safe,
    /// It may have changed something (writes, statements in a transaction, Commit).
    Unsafe,
}

/// The Data API client and the adapter's settings.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) rds: aws_sdk_rdsdata::Client,
    pub(crate) config: Config,
    /// The caller's check before each statement and commit ([`crate::hook`]).
    pub(crate) hook: Option<crate::hook::Hook>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("rds", &self.rds)
            .field("config", &self.config)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

/// A delay in `[d/2, d)` from a cheap time-seeded source: enough to spread retrying clients.
fn jitter(delay: Duration) -> Duration {
    let nanos = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos(),
    );
    let half = delay / 2;
    half + Duration::from_nanos(nanos % u64::try_from(half.as_nanos().max(1)).unwrap_or(u64::MAX))
}

fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    jitter(exp.min(policy.max_delay))
}

/// Converts an SDK error of `operation`.
pub(crate) fn failure<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_rdsdata::config::http::HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(context) => {
            let e = context.err();
            let api = AwsError::new(
                operation,
                e.code().unwrap_or("UnknownError"),
                e.message().unwrap_or_default(),
            );
            if api.is_response_too_large() {
                return Error::ResponseTooLarge {
                    operation,
                    message: api.message,
                };
            }
            Error::Aws(api)
        }
        _ => Error::Transport {
            operation,
            message: DisplayErrorContext(&error).to_string(),
        },
    }
}

impl Client {
    /// Runs the caller's hook, if any, on what is about to be sent.
    pub(crate) fn check(&self, outgoing: crate::hook::Outgoing<'_>) -> Result<(), Error> {
        match &self.hook {
            Some(hook) => hook(outgoing).map_err(|source| Error::Refused { source }),
            None => Ok(()),
        }
    }

    /// Runs `call` with the retry rules; `idempotency` says whether an unknown outcome may be retried.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        resumable: bool,
        mut call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let policy = &self.config.retry;
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let error = match call().await {
                Ok(value) => {
                    tracing::Span::current().record("retries", attempt - 1);
                    return Ok(value);
                }
                Err(error) => error,
            };
            let retry = match class(&error) {
                RetryClass::Resuming => resumable && started.elapsed() < policy.resume_budget,
                RetryClass::Throttled => attempt < policy.max_attempts,
                RetryClass::Unknown => {
                    idempotency == Idempotency::Safe && attempt < policy.max_attempts
                }
                RetryClass::Never => false,
            };
            if !retry {
                tracing::Span::current().record("retries", attempt - 1);
                return Err(error);
            }
            let delay = match class(&error) {
                // A resume takes seconds: poll about once a second, within the budget.
                RetryClass::Resuming => jitter(Duration::from_secs(2))
                    .min(policy.resume_budget.saturating_sub(started.elapsed())),
                _ => backoff(policy, attempt),
            };
            tracing::warn!(operation, attempt, ?delay, error = %error, "retrying a Data API call");
            tokio::time::sleep(delay).await;
        }
    }

    /// `ExecuteStatement` with result metadata, in `transaction_id` when given.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        parameters: Vec<SqlParameter>,
        transaction_id: Option<&str>,
        idempotency: Idempotency,
    ) -> Result<ExecuteStatementOutput, Error> {
        let span = tracing::info_span!(
            "data_api",
            operation = "ExecuteStatement",
            transaction = transaction_id.map(short_id),
            rows = tracing::field::Empty,
            retries = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        tracing::trace!(parent: &span, sql, ?parameters, "statement");
        let result = self
            .retrying("ExecuteStatement", idempotency, true, || {
                let call = self
                    .rds
                    .execute_statement()
                    .resource_arn(&self.config.resource_arn)
                    .secret_arn(&self.config.secret_arn)
                    .database(&self.config.database)
                    .sql(sql)
                    .set_parameters(Some(parameters.clone()))
                    .set_transaction_id(transaction_id.map(str::to_owned))
                    // AWS: DDL cut off at the call's 45 s timeout can leave structures half-made.
                    .continue_after_timeout(is_ddl(sql))
                    .include_result_metadata(true);
                async move {
                    call.send().await.map_err(|e| {
                        let timeout = match e.as_service_error() {
                            Some(ExecuteStatementError::StatementTimeoutException(t)) => {
                                Some(t.db_connection_id())
                            }
                            _ => None,
                        };
                        let mut error = failure("ExecuteStatement", e);
                        if let Error::Aws(api) = &mut error {
                            api.db_connection_id = timeout;
                        }
                        error
                    })
                }
            })
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_millis());
        if let Ok(output) = &result {
            span.record(
                "rows",
                output
                    .records()
                    .len()
                    .max(usize::try_from(output.number_of_records_updated()).unwrap_or(0)),
            );
        }
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!("Data API call done"),
            Err(error) => tracing::debug!(%error, "Data API call failed"),
        });
        result
    }

    /// `BeginTransaction`: its id.
    pub(crate) async fn begin(&self) -> Result<String, Error> {
        let span = tracing::info_span!(
            "data_api",
            operation = "BeginTransaction",
            retries = tracing::field::Empty
        );
        self.retrying("BeginTransaction", Idempotency::Safe, true, || {
            let call = self
                .rds
                .begin_transaction()
                .resource_arn(&self.config.resource_arn)
                .secret_arn(&self.config.secret_arn)
                .database(&self.config.database);
            async move {
                let output = call
                    .send()
                    .await
                    .map_err(|e| failure("BeginTransaction", e))?;
                Ok(output.transaction_id().unwrap_or_default().to_owned())
            }
        })
        .instrument(span)
        .await
    }

    /// `CommitTransaction` (`commit`) or `RollbackTransaction`.
    pub(crate) async fn end(&self, transaction_id: &str, commit: bool) -> Result<(), Error> {
        let operation = if commit {
            "CommitTransaction"
        } else {
            "RollbackTransaction"
        };
        let span = tracing::info_span!(
            "data_api",
            operation,
            transaction = short_id(transaction_id),
            retries = tracing::field::Empty
        );
        let idempotency = if commit {
            Idempotency::Unsafe
        } else {
            Idempotency::Safe
        };
        self.retrying(operation, idempotency, false, || {
            let (rds, config) = (&self.rds, &self.config);
            async move {
                if commit {
                    rds.commit_transaction()
                        .resource_arn(&config.resource_arn)
                        .secret_arn(&config.secret_arn)
                        .transaction_id(transaction_id)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|e| failure(operation, e))
                } else {
                    rds.rollback_transaction()
                        .resource_arn(&config.resource_arn)
                        .secret_arn(&config.secret_arn)
                        .transaction_id(transaction_id)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|e| failure(operation, e))
                }
            }
        })
        .instrument(span)
        .await
    }
}

/// The first characters of a transaction id, enough to follow it in logs.
fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Whether SQL only reads: it starts (after comments and spaces) with `SELECT`, `SHOW`, `EXPLAIN`
/// or `VALUES` and takes no row locks. `WITH` is not trusted (PostgreSQL allows writes in it).
pub(crate) fn read_only(sql: &str) -> bool {
    let word = first_word(sql);
    let upper = sql.to_ascii_uppercase();
    matches!(word.as_str(), "SELECT" | "SHOW" | "EXPLAIN" | "VALUES")
        && !upper.contains("FOR UPDATE")
        && !upper.contains("FOR SHARE")
        && !upper.contains("NEXTVAL(")
}

/// Whether SQL is DDL (`CREATE`, `ALTER`, `DROP`, `TRUNCATE`, `RENAME`, `COMMENT`), after comments
/// and spaces: sent with `continueAfterTimeout`, so a timed-out DDL statement finishes on the server
/// instead of being cut off half-way (its outcome is then unknown to the caller).
pub fn is_ddl(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "CREATE" | "ALTER" | "DROP" | "TRUNCATE" | "RENAME" | "COMMENT"
    )
}

/// The first word of `sql` after comments and spaces, upper-cased.
fn first_word(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_is_told_from_other_statements() {
        for (sql, ddl) in [
            ("CREATE TABLE t (n INT)", true),
            ("  /* x */ -- y\n alter table t add c int", true),
            ("DROP INDEX i", true),
            ("TRUNCATE t", true),
            ("RENAME TABLE a TO b", true),
            ("COMMENT ON TABLE t IS 'x'", true),
            ("INSERT INTO t VALUES (1)", false),
            ("SELECT 'CREATE'", false),
            ("", false),
        ] {
            assert_eq!(is_ddl(sql), ddl, "{sql}");
        }
    }

    #[test]
    fn only_plain_reads_count_as_read_only() {
        for (sql, read) in [
            ("SELECT 1", true),
            ("  select * from t", true),
            ("/* hi */ -- x\nSELECT 1", true),
            ("SHOW TABLES", true),
            ("INSERT INTO t VALUES (1)", false),
            (
                "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
                false,
            ),
            ("SELECT * FROM t FOR UPDATE", false),
            ("SELECT nextval('s')", false),
            ("UPDATE t SET a = 1", false),
        ] {
            assert_eq!(read_only(sql), read, "{sql}");
        }
    }

    #[test]
    fn errors_are_classified_for_retry() {
        let api = |code: &str| Error::Aws(AwsError::new("ExecuteStatement", code, ""));
        assert_eq!(
            class(&api("DatabaseResumingException")),
            RetryClass::Resuming
        );
        assert_eq!(class(&api("ThrottlingException")), RetryClass::Throttled);
        assert_eq!(
            class(&api("InternalServerErrorException")),
            RetryClass::Unknown
        );
        assert_eq!(
            class(&api("DatabaseUnavailableException")),
            RetryClass::Unknown
        );
        assert_eq!(class(&api("StatementTimeoutException")), RetryClass::Never);
        assert_eq!(class(&api("DatabaseErrorException")), RetryClass::Never);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        for attempt in 1..10 {
            let delay = backoff(&policy, attempt);
            assert!(delay < policy.max_delay, "{attempt}: {delay:?}");
            assert!(delay >= policy.base_delay / 2, "{attempt}: {delay:?}");
        }
    }
}

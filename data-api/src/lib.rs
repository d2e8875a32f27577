//! SeaORM on Aurora through the RDS Data API.
//!
//! [`DataApi`] turns the SQL SeaORM generates into Data API calls (`aws-sdk-rdsdata`): placeholders
//! become named parameters, values travel with the type hints or casts that keep PostgreSQL from
//! seeing a uuid, timestamp or numeric as text, rows come back as the exact `Value` variant each Rust
//! field needs (by the column's `typeName`), and calls are retried only where a retry cannot apply a
//! write twice.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use data_api::{Config, DataApi, Engine};
//! use sea_orm::{ConnectionTrait, Statement, TransactionError};
//!
//! let config = Config::new(
//!     "arn:aws:rds:us-east-1:123456789012:cluster:my-cluster",
//!     "arn:aws:secretsmanager:us-east-1:123456789012:secret:my-secret",
//!     "app",
//!     Engine::Postgres,
//! );
//! // Region, credentials and endpoint from the standard AWS chain (AWS_ENDPOINT_URL_RDS_DATA
//! // points it at a local emulator). No call is made yet.
//! let api = DataApi::with_default_aws_config(config).await;
//! let db = api.connection()?; // a sea_orm::DatabaseConnection: entities, queries, SchemaManager
//! db.execute_unprepared("CREATE TABLE IF NOT EXISTS t (n INT)").await?;
//!
//! // Transactions go through the adapter, so a failed commit is an error, never a silent success.
//! api.transaction(|txn| {
//!     Box::pin(async move {
//!         txn.execute(Statement::from_string(txn.get_database_backend(), "INSERT INTO t VALUES (1)"))
//!             .await?;
//!         Ok::<_, sea_orm::DbErr>(())
//!     })
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! - `mysql` (default): Aurora MySQL — [`Engine::MySql`], Connector/J's type names, MySQL's casts
//!   and SeaORM's MySQL probes.
//! - `postgres` (default): Aurora PostgreSQL — [`Engine::Postgres`], pgJDBC's type names,
//!   PostgreSQL's casts, array parameters and probes.
//!
//! An engine's variant exists only with its feature, so a build for one engine carries none of the
//! other's code; `DATABASE_ENGINE` naming an engine the build lacks makes [`Config::from_env`] fail
//! with an error naming the feature. At least one is required (`compile_error!` otherwise). Neither
//! pulls in a database driver.
//!
//! # Transactions
//!
//! SeaORM's proxy interface gives a statement no session and lets `begin`/`commit` return no error.
//! So a transaction is a connection of its own: [`DataApi::transaction`] (or [`DataApi::begin`])
//! calls `BeginTransaction` itself, hands the closure a `DatabaseConnection` whose every statement
//! carries that transaction id — and no other connection's does — and calls `CommitTransaction`
//! itself, returning its error. Statements of one transaction are serialised (v2 runs one at a time).
//! `begin()` on that connection nests with savepoints (`SAVEPOINT spN`); a nested level dropped
//! without commit is rolled back to its savepoint before the next statement. A savepoint that fails
//! poisons the transaction: later statements and the commit fail, and it is rolled back. A
//! [`Transaction`] dropped without commit is rolled back in the background (and, failing that, by the
//! Data API after 3 idle minutes). SeaORM's own `begin()` on the shared [`DataApi::connection`] cannot
//! be honoured: it is logged, and statements on that connection fail until it ends.
//!
//! # Retries
//!
//! The SDK's retries are off. `DatabaseResumingException` (auto-paused cluster waking) is retried for
//! [`RetryPolicy::resume_budget`] (60 s); throttling up to [`RetryPolicy::max_attempts`]; 500, 503,
//! 504 and transport failures only for reads outside a transaction, `BeginTransaction` and rollbacks;
//! never a `StatementTimeoutException`, a commit or a write whose outcome is unknown. Each retry is a
//! `WARN` event in the call's `data_api` span.
//!
//! # Types
//!
//! | column `typeName` | `Value` | Rust field |
//! |---|---|---|
//! | MySQL `BIT` (TINYINT(1)), PostgreSQL `bool` | `Bool` | `bool` |
//! | `TINYINT`, `SMALLINT`/`int2`, `INT`/`MEDIUMINT`/`int4`, `BIGINT`/`int8` | `TinyInt`, `SmallInt`, `Int`, `BigInt` | `i8`, `i16`, `i32`, `i64` |
//! | `… UNSIGNED` | `TinyUnsigned` … `BigUnsigned` | `u8` … `u64` |
//! | `FLOAT`/`float4`, `DOUBLE`/`float8` | `Float`, `Double` | `f32`, `f64` |
//! | `DECIMAL`/`numeric` | `Decimal` | `rust_decimal::Decimal` |
//! | character types, `ENUM`, PostgreSQL enums | `String` | `String`, active enums |
//! | `uuid` (PostgreSQL) | `Uuid` | `uuid::Uuid` (on MySQL use `CHAR(36)` and `String`) |
//! | binary types, `bytea` | `Bytes` | `Vec<u8>` |
//! | `JSON`, `json`, `jsonb` | `Json` | `serde_json::Value` |
//! | `DATE`, `TIME` | `ChronoDate`, `ChronoTime` | `NaiveDate`, `NaiveTime` |
//! | `DATETIME`/`timestamp` | `ChronoDateTime` | `NaiveDateTime` |
//! | MySQL `TIMESTAMP` | `ChronoDateTimeUtc` | `DateTime<Utc>` |
//! | `timestamptz` | `ChronoDateTimeWithTimeZone` (UTC) | `DateTime<FixedOffset>` |
//! | PostgreSQL 1-D arrays | `Array` | `Vec<T>` |
//!
//! SeaORM's own count and schema-probe queries, recognised by their whole statement shape (never by a
//! column name alone), are given the variant SeaORM reads: `count()`'s `num_items` as `Int` on MySQL,
//! `has_table`/`has_column`/`has_index` as `Bool`. A user's column with one of those names decodes
//! by its type like any other.
//!
//! # Errors
//!
//! SeaORM calls get `DbErr`. A Data API error travels inside it typed: [`aws_error`] gives the AWS
//! exception, message, SQLState and MySQL error number ([`AwsError`]); [`sql_err`] tells unique from
//! foreign-key violations (SeaORM's `DbErr::sql_err` only knows its native drivers);
//! [`unavailable`] says whether the cluster was unavailable and whether the call may have run;
//! [`is_response_too_large`] spots the 1 MiB limit (page with [`keyset`]). SeaORM's `RuntimeErr`
//! carries a typed error only as a sqlx error, so that is the envelope inside `DbErr`; no sqlx type
//! is part of this crate's API.
//!
//! # AWS behaviours relied on
//!
//! Each behaviour the adapter depends on, and how we know it: **documented** (AWS's Data API
//! reference or service model, `aws-sdk-rdsdata`), **captured** (seen in a response recorded from
//! real Aurora and published; the replay tests in `tests/replay.rs` decode those captures), or
//! **assumed** (reported by users or other libraries, not verified by us).
//!
//! | Behaviour | Status |
//! |---|---|
//! | `includeResultMetadata` returns `columnMetadata` with a `typeName` per column, in select order | documented; captured (jeremydaly/data-api-client `test/sample-query-response.json`) |
//! | MySQL `typeName`s are Connector/J's (`INT UNSIGNED`, `VARCHAR`, `TIMESTAMP`) | captured (same file) |
//! | PostgreSQL `typeName`s are pgJDBC's (`int4`, `numeric`, `timestamptz`, `_text`) | assumed |
//! | `TIMESTAMP` values are `stringValue`s `YYYY-MM-DD HH:MM:SS[.f]` | captured (same file) |
//! | `timestamptz` values come back in UTC without an offset | documented ("always UTC"); v2 assumed |
//! | DECIMAL/numeric as `stringValue` (exact) | documented |
//! | MySQL's auto-increment key in `generatedFields` (`longValue`) | captured (`fixtures/sample-insert-response.json`) |
//! | `numberOfRecordsUpdated` counts the rows a write changed | captured (`test/sample-update-response.json`) |
//! | a cluster waking from auto-pause answers `DatabaseResumingException`, and nothing ran | documented (service model) |
//! | 500/503/504 (`InternalServerErrorException`, `ServiceUnavailableError`, `DatabaseUnavailableException`): the outcome is unknown | documented (service model); "outcome unknown" is our reading |
//! | `StatementTimeoutException` after 45 s; the statement may still run | documented |
//! | a result over 1 MiB fails with `UnsupportedResultException` | documented (the exception lists "the size was too large"); its message text is assumed, so any size wording is accepted ([`is_response_too_large`]) |
//! | a SQL error is `DatabaseErrorException` whose message ends `…; Error code: N; SQLState: S` (MySQL) or `…; SQLState: S` (PostgreSQL) | assumed (reported by users); the patterns live in one table, and any spelling with the label before the value is read |
//! | a transaction id is rolled back after 3 minutes idle, and unknown afterwards (`TransactionNotFoundException`) | documented |
//! | v2 runs one statement at a time per transaction (the adapter serialises) | documented (User Guide) |
//! | `SAVEPOINT` / `ROLLBACK TO SAVEPOINT` / `RELEASE SAVEPOINT` work inside a Data API transaction | assumed (reported by other libraries' users) |
//! | 1-D PostgreSQL arrays come back as `arrayValue`; no array parameters are accepted | documented |
//!
//! # Layout
//!
//! [`connection`](DataApi) (`DataApi`: the client, connections, transactions begun),
//! [`transaction`](Transaction) (the handle that commits or rolls back), `proxy` (SeaORM's
//! `ProxyDatabaseTrait`), `client` (calls and retries), `sql` (placeholders), `values` (parameters
//! out, fields in), `probe` (SeaORM's own queries by shape), `aws` (exception names and message
//! patterns), [`hook`] (a caller's check before each statement and commit; DDL is sent with
//! `continueAfterTimeout`, see [`is_ddl`]), `error`, `config`, [`keyset`]. `values` is split into
//! `encode` (parameters out) and `decode` (fields in); `engine` holds [`Engine`] and, one file per
//! engine behind its feature (`engine/mysql.rs`, `engine/postgres.rs`), what differs between them.

#![warn(missing_docs)]

mod aws;
mod client;
mod config;
mod connection;
mod engine;
mod error;
pub mod hook;
pub mod keyset;
mod probe;
mod proxy;
mod sql;
mod transaction;
mod values;

pub use crate::client::is_ddl;
pub use crate::config::{Config, RetryPolicy};
pub use crate::connection::DataApi;
pub use crate::engine::Engine;
pub use crate::error::{
    AwsError, Constraint, Error, NO_ANSWER, Unavailable, aws_error, is_response_too_large, sql_err,
    unavailable,
};
pub use crate::sql::TranslateError;
pub use crate::transaction::Transaction;
pub use crate::values::ValueError;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

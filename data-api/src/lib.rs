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
//! use data_api::{Config, DataApi};
//! use sea_orm::{ConnectionTrait, Statement, TransactionError};
//!
//! // CLUSTER_ARN, SECRET_ARN, DATABASE_NAME (default my_database), DATABASE_ENGINE (mysql|postgres);
//! // the endpoint comes from aws-config (AWS_ENDPOINT_URL_RDS_DATA for the local emulator).
//! let api = DataApi::connect(Config::from_env()?).await;
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
//! by its type like any other. Errors: [`sql_err`] tells unique from
//! foreign-key violations (SeaORM's `DbErr::sql_err` only knows its native drivers); [`api_error`]
//! gives the AWS error type, SQLState and MySQL error number.

#![warn(missing_docs)]

mod client;
mod config;
mod error;
pub mod keyset;
mod probe;
mod proxy;
mod sql;
mod values;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_rdsdata::config::retry::RetryConfig;
use sea_orm::{Database, DatabaseConnection, DbErr, TransactionError};

pub use crate::config::{Config, DEFAULT_DATABASE, Engine, RetryPolicy};
pub use crate::error::{
    ApiError, DataApiDatabaseError, Error, NO_ANSWER, Unavailable, api_error,
    is_response_too_large, sql_err, unavailable,
};
pub use crate::sql::TranslateError;
pub use crate::values::ValueError;

use crate::client::Client;
use crate::proxy::Proxy;

/// The Data API behind SeaORM: cheap to clone, one per process.
#[derive(Debug, Clone)]
pub struct DataApi {
    client: Client,
}

impl DataApi {
    /// A client from the standard AWS configuration chain (region, credentials, and
    /// `AWS_ENDPOINT_URL_RDS_DATA` / `AWS_ENDPOINT_URL` for the endpoint).
    pub async fn connect(config: Config) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::with_sdk_config(&shared, config)
    }

    /// A client from an `aws-config` [`SdkConfig`](aws_config::SdkConfig). The SDK's own retries are
    /// switched off: the adapter retries (see the crate docs).
    pub fn with_sdk_config(shared: &aws_config::SdkConfig, config: Config) -> Self {
        let sdk = aws_sdk_rdsdata::config::Builder::from(shared)
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: Client {
                rds: aws_sdk_rdsdata::Client::from_conf(sdk),
                config,
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.client.config
    }

    /// A `DatabaseConnection` for statements outside transactions (each one autocommits).
    ///
    /// # Errors
    /// SeaORM's, should it refuse the proxy.
    pub fn connection(&self) -> Result<DatabaseConnection, DbErr> {
        self.proxy_connection(Proxy::shared(self.client.clone()))
    }

    fn proxy_connection(&self, proxy: Proxy) -> Result<DatabaseConnection, DbErr> {
        let backend = self.client.config.engine.backend();
        let proxy: Arc<Box<dyn sea_orm::ProxyDatabaseTrait>> = Arc::new(Box::new(proxy));
        // `connect_proxy` is async only by signature; it does no I/O.
        futures_ready(Database::connect_proxy(backend, proxy)).unwrap_or_else(|| {
            Err(DbErr::Custom(
                "SeaORM's connect_proxy waited, which this adapter does not expect".into(),
            ))
        })
    }

    /// Begins a transaction: a handle whose connection runs statements in it, to commit or roll back.
    ///
    /// # Errors
    /// `BeginTransaction` failing after the retries it allows.
    pub async fn begin(&self) -> Result<Transaction, Error> {
        let id = self.client.begin().await?;
        tracing::debug!(transaction = %short(&id), "transaction begun");
        let state = proxy::Transaction::new(id);
        let connection = self
            .proxy_connection(Proxy::in_transaction(self.client.clone(), state.clone()))
            .map_err(|e| Error::Config {
                variable: "connection",
                reason: e.to_string(),
            });
        let connection = match connection {
            Ok(connection) => connection,
            Err(error) => {
                let _ = self.client.end(&state.id, false).await;
                return Err(error);
            }
        };
        Ok(Transaction {
            client: self.client.clone(),
            state,
            connection,
            done: false,
        })
    }

    /// Runs `work` in a transaction: committed when it returns `Ok` (a failed commit is an error),
    /// rolled back when it returns `Err`.
    ///
    /// # Errors
    /// `TransactionError::Connection` when begin or commit fails (the commit's outcome may then be
    /// unknown: see [`Error::Commit`]); `TransactionError::Transaction` with `work`'s error.
    pub async fn transaction<F, T, E>(&self, work: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseConnection,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let transaction = self
            .begin()
            .await
            .map_err(|e| TransactionError::Connection(e.into_db_err(false)))?;
        match work(&transaction.connection).await {
            Ok(value) => {
                transaction
                    .commit()
                    .await
                    .map_err(|e| TransactionError::Connection(e.into_db_err(false)))?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = transaction.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction body failed");
                }
                Err(TransactionError::Transaction(error))
            }
        }
    }
}

/// Polls a future once: its output if it completed without waiting (SeaORM's `connect_proxy`).
fn futures_ready<T>(future: impl Future<Output = T>) -> Option<T> {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// An open Data API transaction. [`Transaction::connection`] runs statements in it; commit or roll
/// back explicitly — dropped, it is rolled back in the background.
#[derive(Debug)]
pub struct Transaction {
    client: Client,
    state: Arc<proxy::Transaction>,
    connection: DatabaseConnection,
    done: bool,
}

impl Transaction {
    /// The connection whose statements run in this transaction (and nested `begin()` = savepoints).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// The Data API transaction id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// Commits. A poisoned transaction (a failed savepoint) is rolled back and reported instead.
    ///
    /// # Errors
    /// [`Error::Commit`] when `CommitTransaction` fails, or its outcome is unknown (no answer); the
    /// poisoning error when the transaction could not be committed whole.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        if let Err(error) = self.state.finish(&self.client).await {
            let _ = self.client.end(&self.state.id, false).await;
            return Err(error);
        }
        self.client
            .end(&self.state.id, true)
            .await
            .map_err(|source| Error::Commit {
                transaction_id: self.state.id.clone(),
                source: Box::new(source),
            })
    }

    /// Rolls back.
    ///
    /// # Errors
    /// `RollbackTransaction` failing (the Data API still ends the transaction after 3 idle minutes).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        self.client.end(&self.state.id, false).await
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (client, id) = (self.client.clone(), self.state.id.clone());
        tracing::warn!(transaction = %short(&id), "transaction dropped without commit; rolling back");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = client.end(&id, false).await {
                    tracing::warn!(%error, "background rollback failed; the Data API expires it after 3 idle minutes");
                }
            });
        }
    }
}

//! [`DataApi`]: the Data API client behind SeaORM, the shared connection, and transactions begun.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_rdsdata::config::retry::RetryConfig;
use sea_orm::{Database, DatabaseConnection, DbErr, TransactionError};

use crate::client::Client;
use crate::proxy::{self, Proxy};
use crate::transaction::{Transaction, short};
use crate::{Config, Error};

/// The Data API behind SeaORM: cheap to clone, one per process.
#[derive(Debug, Clone)]
pub struct DataApi {
    client: Client,
}

impl DataApi {
    /// A client configured by the standard AWS chain (region, credentials, and
    /// `AWS_ENDPOINT_URL_RDS_DATA` / `AWS_ENDPOINT_URL` for the endpoint). Reads configuration only:
    /// no Data API call is made, so a wrong ARN or secret shows at the first statement.
    pub async fn with_default_aws_config(config: Config) -> Self {
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
                hook: None,
            },
        }
    }

    /// The same client with `hook` run before every statement and commit it sends (after any hook
    /// it already has); see [`crate::hook`].
    #[must_use]
    pub fn with_hook(&self, hook: crate::hook::Hook) -> Self {
        let mut client = self.client.clone();
        client.hook = Some(crate::hook::chain(client.hook.take(), hook));
        Self { client }
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

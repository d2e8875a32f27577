//! A local RDS Data API (v2) server backed by a real MariaDB/MySQL or PostgreSQL.
//!
//! It speaks the wire protocol the AWS SDKs speak (`POST /Execute`, `/BatchExecute`,
//! `/BeginTransaction`, `/CommitTransaction`, `/RollbackTransaction`; restJson1; errors with
//! `x-amzn-ErrorType`), so the real `aws-sdk-rdsdata` client, boto3 or the JS SDK can be pointed at it
//! with `AWS_ENDPOINT_URL_RDS_DATA=http://127.0.0.1:<port>`. SigV4 signatures are accepted unchecked;
//! the cluster and secret ARNs must match a configured [`Target`].
//!
//! Where AWS's behaviour is unverified the emulator takes the stricter reading (README, "The Data API emulator").
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use emulator::{AppState, Limits, Target, backend::Server};
//! let target = Target {
//!     resource_arn: "arn:aws:rds:us-east-1:123456789012:cluster:local".into(),
//!     secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:local".into(),
//!     server: Server::new("postgres://postgres@127.0.0.1:5432/test")?,
//! };
//! let state = AppState::new(vec![target], Limits::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! emulator::run(listener, state, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`protocol`] holds the wire shapes and error encoding and knows no SQL (it turns the
//! backend's rows, columns and errors into wire shapes); [`backend`] binds, runs and decodes with
//! sqlx in its own vocabulary (`Value`, `Column`, `Error`) and knows neither the wire format nor HTTP;
//! [`params`] is the `:name` lexer; [`values`] checks parameters and type hints; [`transactions`]
//! keeps transaction ids and their connections; [`handlers`] has one function per operation.

#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod admin;
pub mod backend;
pub mod faults;
pub mod handlers;
pub mod params;
pub mod protocol;
pub mod secrets;
pub mod session;
mod sync;
pub mod transactions;
pub mod values;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;

use crate::backend::Server;
use crate::faults::Faults;
use crate::protocol::error::ApiError;
use crate::secrets::Secrets;
use crate::transactions::{Expiry, Transactions};

/// A cluster: the ARN pair clients send, and the server that answers for it. Its `secret_arn` runs
/// statements as the database URL's user; [`AppState::with_secrets`] adds secrets naming other users.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `resourceArn` clients send.
    pub resource_arn: String,
    /// The `secretArn` that must accompany it.
    pub secret_arn: String,
    /// The database server.
    pub server: Arc<Server>,
}

/// Limits and timeouts, defaulting to AWS's values.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest response body (AWS: 1 MiB).
    pub max_response_bytes: usize,
    /// Largest request body (AWS: 4 MiB for BatchExecute).
    pub max_request_bytes: usize,
    /// Transaction expiry (AWS: 3 minutes idle, 24 hours in all).
    pub expiry: Expiry,
    /// How long a call may run before `StatementTimeoutException` (AWS: 45 s).
    pub statement_timeout: Duration,
    /// Largest row in a result, in bytes of its JSON encoding; off (`None`) by default, because AWS
    /// documents 64 KB but v2 was seen returning larger rows (README, "The Data API emulator").
    pub max_row_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_response_bytes: 1024 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            expiry: Expiry {
                idle: Duration::from_secs(180),
                max_lifetime: Duration::from_secs(24 * 60 * 60),
            },
            statement_timeout: Duration::from_secs(45),
            max_row_bytes: None,
        }
    }
}

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    targets: Arc<Vec<Target>>,
    transactions: Arc<Transactions>,
    faults: Arc<Faults>,
    secrets: Arc<Secrets>,
    limits: Limits,
}

impl AppState {
    /// State serving `targets` with `limits`.
    pub fn new(targets: Vec<Target>, limits: Limits) -> Self {
        Self {
            targets: Arc::new(targets),
            transactions: Transactions::new(limits.expiry),
            faults: Arc::new(Faults::default()),
            secrets: Arc::default(),
            limits,
        }
    }

    /// The same state, also accepting `secrets` (each a database user) with every cluster.
    #[must_use]
    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = Arc::new(secrets);
        self
    }

    /// The clusters served.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The fault settings (all off until set).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

/// The Data API routes. Unknown paths and methods get AWS-style errors.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/Execute", post(handlers::execute_statement))
        .route("/BatchExecute", post(handlers::batch_execute_statement))
        .route("/BeginTransaction", post(handlers::begin_transaction))
        .route("/CommitTransaction", post(handlers::commit_transaction))
        .route("/RollbackTransaction", post(handlers::rollback_transaction))
        .nest("/_emulator", admin::router())
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.limits.max_request_bytes,
        ))
        .layer(axum::middleware::map_response(with_request_id))
        .with_state(state)
}

async fn unknown_operation(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        protocol::error::ErrorCode::BadRequestException,
        format!("Unknown operation {method} {}", uri.path()),
    )
}

async fn with_request_id(mut response: axum::response::Response) -> axum::response::Response {
    if let Ok(value) = uuid::Uuid::new_v4().to_string().parse() {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// Serves on `listener` until `shutdown` completes; expires idle transactions meanwhile.
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let transactions = state.transactions.clone();
    let reaper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            transactions.reap();
        }
    });
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    reaper.abort();
    served
}

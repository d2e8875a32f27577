//! The users REST API: the article's `POST /add-user` and `GET /get-users` on one axum [`Router`],
//! served by a local listener or, on AWS Lambda, by `lambda_http` — the same router either way.
//!
//! ```no_run
//! # async fn demo() -> Result<(), api::Error> {
//! let config = api::Config::from_env()?;
//! let db = api::database::open(&config.database).await?;
//! let app = api::app(api::AppState::new(db));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(api::Error::Serve)?;
//! api::serve(listener, app, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`routes`] (handlers, fallbacks, limits) over [`domain`] (input validation) and
//! [`service`] (SeaORM queries, no HTTP types); [`config`] reads settings once; [`database`] opens
//! and, for the embedded default, migrates the database, with the AWS SDK configured by [`aws`] in
//! Data API mode; [`error`] holds [`Error`] and [`ApiError`].

#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod aws;
pub mod config;
pub mod database;
pub mod domain;
pub mod error;
pub mod idempotency;
pub mod routes;
pub mod service;
pub mod state;

pub use config::Config;
pub use error::{ApiError, Error};
pub use state::AppState;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

/// The service's router over `state`. Does no I/O.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
///
/// # Errors
/// [`Error::Serve`] when accepting connections fails.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::Serve)
}

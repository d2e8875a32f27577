//! The run-migrations function (the article's `runMigrations`): a Lambda that applies pending
//! migrations of the `migration` crate to the cluster through the RDS Data API, recording them in
//! the DynamoDB ledger, and returns a JSON [`Summary`]. A deploy-time trigger invokes it before the
//! API stage goes out.
//!
//! It is a package of its own, apart from `migration`, so that the library the API embeds carries
//! none of the Lambda runtime, and so that the function can use crates that themselves depend on
//! `migration`.
//!
//! ```no_run
//! use run_migrations::{Invocation, Setup, handle};
//!
//! # async fn demo(setup: Setup) -> run_migrations::Result<()> {
//! let invocation = Invocation {
//!     request_id: "req-1".into(),
//!     function_name: "run-migrations".into(),
//!     deadline: None,
//! };
//! let summary = handle(&setup, &serde_json::json!({}), &invocation).await?;
//! println!("applied {:?}", summary.applied);
//! # Ok(())
//! # }
//! ```
//!
//! After migrating it creates or updates the API's own database user from the API's secret
//! ([`ApiUserSecret`], with `API_SECRET_ARN`), and it can check the live schema for drift against what the migrations make
//! ([`DriftCheck`], off unless `SCHEMA_CHECK_AFTER_MIGRATE` is `report` or `fail`).
//!
//! Layout: [`config`] reads the environment once ([`Config`]); [`handler`] is one invocation
//! ([`Setup`], [`Invocation`], [`handle`] → [`Summary`]); [`api_user`] the API's database user; [`drift`] the check after migrating;
//! [`error`] the crate's [`Error`]. The binary (`src/main.rs`) builds the [`Setup`] and runs the
//! Lambda runtime.

#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod api_user;
pub mod config;
pub mod drift;
pub mod error;
pub mod handler;

pub use api_user::ApiUserSecret;
pub use config::{Config, OnDrift};
pub use drift::DriftCheck;
pub use error::{Error, Result};
pub use handler::{Invocation, Setup, Summary, handle};

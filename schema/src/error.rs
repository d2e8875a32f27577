//! The crate's error type.

use sea_orm::DbErr;

/// What can go wrong discovering, generating or checking a schema.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad settings (target, options).
    #[error("configuration: {0}")]
    Config(String),
    /// Connecting to the target failed.
    #[error("connecting to the database")]
    Connect(#[source] DbErr),
    /// A discovery query failed or returned something unreadable.
    #[error("{what}")]
    Query {
        /// What was being read.
        what: String,
        /// The database's error.
        #[source]
        source: DbErr,
    },
    /// sea-orm-codegen refused the discovered schema.
    #[error("generating entities")]
    Codegen(#[source] sea_orm_codegen::Error),
    /// Writing or formatting a file.
    #[error("{what}")]
    Io {
        /// The file or command.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `rustfmt` exited with an error.
    #[error("rustfmt failed on {0}")]
    Format(String),
    /// Migrating the scratch database for the drift check failed.
    #[error("migrating the scratch database")]
    Migrate(#[source] migration::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn query(what: impl Into<String>) -> impl FnOnce(DbErr) -> Error {
    let what = what.into();
    move |source| Error::Query { what, source }
}

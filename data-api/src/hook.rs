//! A caller's check before every statement and commit the adapter sends.
//!
//! A migration runner uses it as a fence (stop as soon as its lock lease is gone, before the next
//! statement or commit reaches the database); tests use it to see the statements exactly as SeaORM
//! handed them over. A hook that returns `Err` stops the call: nothing is sent, and the caller gets
//! [`Error::Refused`](crate::Error::Refused) (inside a `DbErr`, as an `Internal` runtime error).

use std::sync::Arc;

use sea_orm::Statement;

/// What is about to be sent.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Outgoing<'a> {
    /// A statement as SeaORM gave it (placeholders and values not yet translated), with the id of
    /// the transaction it runs in, if any.
    Statement {
        /// The statement.
        statement: &'a Statement,
        /// Its transaction.
        transaction_id: Option<&'a str>,
    },
    /// `CommitTransaction`.
    Commit {
        /// The transaction.
        transaction_id: &'a str,
    },
}

/// The error a hook refuses a call with.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// A check run before every statement and commit (see the [module docs](self)).
pub type Hook = Arc<dyn Fn(Outgoing<'_>) -> Result<(), HookError> + Send + Sync>;

/// `first`, then `second`.
pub(crate) fn chain(first: Option<Hook>, second: Hook) -> Hook {
    match first {
        None => second,
        Some(first) => Arc::new(move |outgoing| {
            first(outgoing)?;
            second(outgoing)
        }),
    }
}

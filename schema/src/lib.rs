//! Schema tools that reach a database wherever SeaORM does: a native URL or, for a cluster in a
//! private VPC, the RDS Data API through the `data-api` adapter (no tunnel).
//!
//! - [`generate`]: entity files as `sea-orm-cli generate entity` writes them. [`discover`] runs
//!   sea-schema's own catalogue queries on any SeaORM connection and hands the rows to sea-schema's
//!   parsers, then `sea-orm-codegen` and `rustfmt` do what sea-orm-cli does: on the same schema the
//!   files are byte-identical.
//! - [`check`]: schema drift. [`Snapshot`] reads tables, columns (type, nullability, default),
//!   indexes and key constraints; [`check::check`] compares the live database with a scratch
//!   database of the same engine migrated from this workspace's migrations, and [`diff`] names each
//!   difference.
//!
//! The `schema` binary ([`cli`]) wraps both: `schema generate entity …` and `schema check [--json]`
//! (exit 0 clean, 3 drift). MySQL and PostgreSQL; SQLite is left to sea-orm-cli.

pub mod check;
pub mod cli;
pub mod diff;
pub mod discover;
pub mod error;
pub mod generate;
mod row;
pub mod snapshot;
pub mod target;

pub use check::{Report, check};
pub use diff::{Change, Difference, Object, diff};
pub use discover::{TableFilter, tables};
pub use error::{Error, Result};
pub use generate::{GenerateOptions, entities, write};
pub use snapshot::Snapshot;
pub use target::Target;

/// `error: cause: cause…`, the whole `source()` chain on one line (the migration crate's).
pub use migration::error_chain;

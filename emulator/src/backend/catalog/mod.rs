//! What a result's columns are beyond their types — table, nullability, precision, scale,
//! auto-increment — as the JDBC drivers behind the Data API report them (`ResultSetMetaData` of
//! pgJDBC and Connector/J), for `includeResultMetadata`.
//!
//! PostgreSQL: the row description names each column's table and attribute number; one catalog query
//! (`pg_attribute`, `pg_class`, `pg_attrdef`, as pgJDBC runs) gives the rest, cached per database by
//! (table oid, attribute) like pgJDBC's field metadata cache. A column computed by an expression has no
//! table: `tableName` `""`, nullability unknown.
//!
//! MySQL: sqlx keeps the column definition's table and character set private; nullability and
//! auto-increment come from its flags (`backend::mysql`), `precision` is the display size Connector/J
//! gives the fixed-size types and a string's length (in characters; the sessions are utf8mb4), and
//! `tableName` is looked up in `information_schema` among the tables the statement names
//! (`complete_mysql`; README, "The Data API emulator", names its limits), and so are a DECIMAL
//! column's precision and scale (sqlx keeps no decimals).
//!
//! Layout: `postgres` (the pgJDBC query and cache), `mysql` (the `information_schema` lookups), and
//! `names` (which tables and aliases a MySQL statement names, for those lookups).

mod mysql;
mod names;
mod postgres;

pub(super) use self::mysql::{character_columns, complete_mysql, mysql_precision};
pub(super) use self::postgres::{Cache, complete_postgres};

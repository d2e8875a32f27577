//! How each MySQL result column is decoded, decided once per statement.

use sqlx::mysql::{MySqlColumn, MySqlConnection};
use sqlx::{Column as _, TypeInfo};

use super::definition::Definition;
use crate::backend::catalog::character_columns;
use crate::backend::{Result, unsupported};

/// How a result column is decoded: the Data API's MySQL type mapping (Aurora User Guide,
/// `data-api.operations.html`), decided once per statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// TINYINT(1) and BOOL (sqlx's `BOOLEAN`) → `booleanValue`.
    Boolean,
    /// BIT(1) → `booleanValue`.
    Bit1,
    /// TINYINT … BIGINT → `longValue`.
    Signed,
    /// The UNSIGNED integers → `longValue`; a BIGINT UNSIGNED above `i64::MAX` goes out as its exact
    /// digits in a `stringValue` (unverified on AWS).
    Unsigned,
    /// FLOAT → `doubleValue`.
    Float,
    /// DOUBLE → `doubleValue`.
    Double,
    /// DECIMAL(p,s) → `stringValue`, padded to the scale (`decimalReturnType` may change it).
    Decimal,
    /// CHAR, VARCHAR, TEXT, ENUM, JSON, and character columns in a `_bin` collation → `stringValue`.
    Text,
    /// MariaDB's JSON (a LONGTEXT in a binary collation with a `json_valid` check) → `stringValue`,
    /// reported as Aurora MySQL 8's `JSON` type.
    Json,
    /// BINARY, VARBINARY, BLOBs → `blobValue`.
    Blob,
    /// DATE → `YYYY-MM-DD`.
    Date,
    /// TIME → `[-]HH:MM:SS[.f]`.
    Time,
    /// DATETIME → `YYYY-MM-DD HH:MM:SS[.f]`.
    DateTime,
    /// TIMESTAMP → as DATETIME, in UTC (the session time zone).
    Timestamp,
    /// The type of a bare `NULL` (`SELECT NULL`).
    Null,
}

/// The kind of each result column. A type the Data API does not return is refused with
/// `UnsupportedResultException` naming it.
pub(super) async fn kinds(
    conn: &mut MySqlConnection,
    sql: &str,
    columns: &[MySqlColumn],
) -> Result<Vec<Kind>> {
    let mut kinds = columns.iter().map(kind).collect::<Result<Vec<_>, _>>()?;
    let binary: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == Kind::Blob)
        .collect();
    if !binary.is_empty() {
        for (i, json) in character_columns(conn, sql, columns, &binary).await? {
            kinds[i] = if json { Kind::Json } else { Kind::Text };
        }
    }
    Ok(kinds)
}

fn kind(column: &MySqlColumn) -> Result<Kind> {
    let info = column.type_info();
    let definition = Definition::of(info);
    Ok(match info.name() {
        "BOOLEAN" => Kind::Boolean,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => Kind::Signed,
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" => Kind::Unsigned,
        "FLOAT" => Kind::Float,
        "DOUBLE" => Kind::Double,
        "DECIMAL" => Kind::Decimal,
        // BIT(M>1), YEAR, GEOMETRY and SET are unverified on AWS (the type mapping does not name them; SET is
        // not among the documented string types), so they are refused like any type the Data API
        // does not return. MySQL and MariaDB send a SET column as a string with the SET flag, which
        // sqlx names CHAR.
        "CHAR" if definition.has_flag("SET") => {
            return Err(unsupported(column.name(), "SET"));
        }
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "JSON" => {
            Kind::Text
        }
        // sqlx names a character column in a `_bin` collation as binary too; `kinds` sorts them out.
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => Kind::Blob,
        // BIT(1) is a boolean; for BIT(M>1) the JDBC BIT → booleanValue rule would lose bits.
        "BIT" if definition.max_size == Some(1) => Kind::Bit1,
        "BIT" => {
            let name = definition
                .max_size
                .map_or_else(|| "BIT".to_owned(), |m| format!("BIT({m})"));
            return Err(unsupported(column.name(), &name));
        }
        "DATE" => Kind::Date,
        "TIME" => Kind::Time,
        "DATETIME" => Kind::DateTime,
        "TIMESTAMP" => Kind::Timestamp,
        "NULL" => Kind::Null,
        // YEAR, GEOMETRY, SET (the SET wire type), and anything newer.
        other => return Err(unsupported(column.name(), other)),
    })
}

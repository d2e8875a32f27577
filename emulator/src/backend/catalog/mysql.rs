//! MySQL column facts sqlx does not expose, from `information_schema`: a result column's table and
//! a DECIMAL's precision and scale, and whether a binary-flagged column holds characters; and
//! Connector/J's precision of fixed-size types.

use sqlx::mysql::MySqlColumn;
use sqlx::{Column as _, MySqlConnection, Row, TypeInfo};

use super::names::{alias_sources, from_tables};
use crate::backend::{Column, Engine, Error, Result};

/// Connector/J's precision (display size) for MySQL types of fixed size; 0 where it depends on the
/// column definition sqlx does not expose.
pub(in crate::backend) fn mysql_precision(type_name: &str) -> i32 {
    match type_name {
        "BIT" => 1,
        "TINYINT" => 4,
        "TINYINT UNSIGNED" => 3,
        "SMALLINT" | "SMALLINT UNSIGNED" => 5,
        "MEDIUMINT" | "MEDIUMINT UNSIGNED" => 7,
        "INT" | "INT UNSIGNED" => 10,
        "BIGINT" => 19,
        "BIGINT UNSIGNED" => 20,
        "FLOAT" => 12,
        "DOUBLE" => 22,
        "DATE" => 10,
        "TIME" => 8,
        "DATETIME" | "TIMESTAMP" => 19,
        _ => 0,
    }
}

/// Fills `tableName` of result columns, as Connector/J's `getTableName` (the original table), and a
/// DECIMAL column's `precision` and `scale` (its declared M and D, as Connector/J's `getPrecision`
/// and `getScale` give them): sqlx keeps the column definition's table and decimals private, so each
/// column is looked up by its name (or the column it aliases) among the columns of the tables the
/// statement names after `FROM`/`JOIN` in the current database; a name found in exactly one of them
/// gives that table and, for a DECIMAL, its `NUMERIC_PRECISION` and `NUMERIC_SCALE`. Limits: an
/// expression aliased to a column name of one of those tables (`COUNT(*) AS id`) is reported with
/// that table, and a DECIMAL expression (`SUM(price)`, `CAST(x AS DECIMAL(10,2))`) keeps 0 and 0.
pub(in crate::backend) async fn complete_mysql(
    conn: &mut MySqlConnection,
    sql: &str,
    metadata: &mut [Column],
) -> Result<()> {
    let tables = from_tables(sql);
    if tables.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; tables.len()].join(", ");
    let query = format!(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({placeholders})"
    );
    let mut query = sqlx::query(&query);
    for table in &tables {
        query = query.bind(table);
    }
    let rows = query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    let found = rows
        .iter()
        .map(|row| {
            Ok(Found {
                table: row.try_get_unchecked(0)?,
                column: row.try_get_unchecked(1)?,
                data_type: row.try_get_unchecked(2)?,
                precision: row.try_get_unchecked(3)?,
                scale: row.try_get_unchecked(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    let aliases = alias_sources(sql);
    for meta in metadata {
        let source = aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&meta.name))
            .map_or(meta.name.as_str(), |(_, source)| source.as_str());
        let mut owners = found
            .iter()
            .filter(|found| found.column.eq_ignore_ascii_case(source));
        if let (Some(owner), None) = (owners.next(), owners.next()) {
            meta.table_name.clone_from(&owner.table);
            if meta.type_name == "DECIMAL"
                && owner.data_type.eq_ignore_ascii_case("decimal")
                && let (Some(precision), Some(scale)) = (owner.precision, owner.scale)
            {
                meta.precision = i32::try_from(precision).unwrap_or(i32::MAX);
                meta.scale = i32::try_from(scale).unwrap_or(i32::MAX);
            }
        }
    }
    Ok(())
}

/// One column of `information_schema.COLUMNS` (read unchecked: its own columns may be in a `_bin`
/// collation on MySQL 8, and its integer widths differ between MySQL and MariaDB).
struct Found {
    table: String,
    column: String,
    data_type: String,
    precision: Option<u64>,
    scale: Option<u64>,
}

/// Which of the `binary` columns (sqlx named them BINARY, VARBINARY or …BLOB) hold characters.
///
/// The server sets the BINARY flag for a binary string *and* for a character column in a `_bin`
/// collation (MariaDB's JSON is LONGTEXT COLLATE utf8mb4_bin, so `SELECT j` looks like a LONGBLOB).
/// Only the column's character set tells them apart (63 is `binary`), and sqlx-mysql 0.8.6 reads it
/// from the column definition and drops it: type, flags and length are all it keeps, and they are
/// identical for LONGTEXT COLLATE utf8mb4_bin and LONGBLOB, or VARCHAR(10) COLLATE utf8mb4_bin and
/// VARBINARY(40). So the character set is looked up in `information_schema.COLUMNS` of the current
/// database, by column name and type family: a column is text when every column of that name and
/// family there has a character set.
///
/// An aliased column (`t.col AS x`) is looked up by the column it aliases. Limit: an expression, a
/// table in another database, or a name whose columns disagree keeps `blobValue`.
pub(in crate::backend) async fn character_columns(
    conn: &mut MySqlConnection,
    sql: &str,
    columns: &[MySqlColumn],
    binary: &[usize],
) -> Result<Vec<(usize, bool)>> {
    let aliases = alias_sources(sql);
    // The name to look up: the column's, or the one it aliases (`t.payload AS A_payload`).
    let source = |i: usize| -> String {
        let name = columns[i].name();
        aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or_else(|| name.to_owned(), |(_, source)| source.clone())
    };
    let placeholders = vec!["?"; binary.len()].join(", ");
    let sql = format!(
        "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.CHARACTER_SET_NAME, EXISTS(SELECT 1 FROM \
         information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA \
         AND k.TABLE_NAME = c.TABLE_NAME AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)')) \
         FROM information_schema.COLUMNS c \
         WHERE c.TABLE_SCHEMA = DATABASE() AND c.COLUMN_NAME IN ({placeholders})"
    );
    let mut query = sqlx::query(&sql);
    for &i in binary {
        query = query.bind(source(i));
    }
    let found = query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    // Unchecked: information_schema's own columns may be in a `_bin` collation (MySQL 8).
    let found = found
        .iter()
        .map(|row| {
            let name: String = row.try_get_unchecked(0)?;
            let data_type: String = row.try_get_unchecked(1)?;
            let charset: Option<String> = row.try_get_unchecked(2)?;
            let json: i64 = row.try_get_unchecked(3)?;
            Ok((name, data_type.to_ascii_lowercase(), charset, json != 0))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| Error::statement(Engine::MySql, e))?;
    Ok(binary
        .iter()
        .copied()
        .filter_map(|i| {
            let column = &columns[i];
            let family: &[&str] = match column.type_info().name() {
                "BINARY" => &["char", "binary"],
                "VARBINARY" => &["varchar", "varbinary"],
                _ => &[
                    "tinytext",
                    "text",
                    "mediumtext",
                    "longtext",
                    "tinyblob",
                    "blob",
                    "mediumblob",
                    "longblob",
                ],
            };
            let same: Vec<_> = found
                .iter()
                .filter(|(name, data_type, _, _)| {
                    name.eq_ignore_ascii_case(&source(i)) && family.contains(&data_type.as_str())
                })
                .collect();
            let text = !same.is_empty()
                && same
                    .iter()
                    .all(|(_, _, charset, _)| charset.as_deref().is_some_and(|c| c != "binary"));
            text.then(|| (i, same.iter().all(|(_, _, _, json)| *json)))
        })
        .collect())
}

//! MySQL / MariaDB: a statement prepared, run, and its rows read.
//!
//! Layout: [`execute`] (here) binds, runs and reads under the response budget; `kind` decides once
//! per statement how each column is decoded, from its `definition` (and the catalog for `_bin`
//! character columns); `decode` reads a row's values; `metadata` describes the result's columns as
//! Connector/J does (the catalog adds tables).

mod decode;
mod definition;
mod kind;
mod metadata;

use futures_util::TryStreamExt;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySqlArguments, MySqlColumn, MySqlRow};
use sqlx::{Arguments, Column as _, Either, Executor, MySqlConnection, Row, Statement};

use self::decode::value;
use self::definition::Definition;
use self::kind::{Kind, kinds};
use self::metadata::{jdbc_type, metadata, text_type_name};
use super::catalog::complete_mysql;
use super::{BindValue, Budget, Engine, Error, Result, StatementOutput};
use crate::params::Rewritten;

fn bind(values: Vec<BindValue>) -> Result<MySqlArguments> {
    let mut args = MySqlArguments::default();
    for value in values {
        let added: Result<(), BoxDynError> = match value {
            BindValue::Null => args.add(Option::<String>::None),
            BindValue::Bool(v) => args.add(v),
            BindValue::Long(v) => args.add(v),
            BindValue::Double(v) => args.add(v),
            BindValue::Text(v) | BindValue::Decimal(v) | BindValue::Json(v) => args.add(v),
            BindValue::Bytes(v) => args.add(v),
            BindValue::Date(v) => args.add(v),
            BindValue::Time(v) => args.add(v),
            BindValue::Timestamp(v) => args.add(v),
            BindValue::Uuid(v) => args.add(v.hyphenated().to_string()),
        };
        added.map_err(Error::Bind)?;
    }
    Ok(args)
}

pub(super) async fn execute(
    conn: &mut MySqlConnection,
    statement: &Rewritten,
    values: Vec<BindValue>,
    metadata_wanted: bool,
    mut budget: Budget,
) -> Result<StatementOutput> {
    let args = bind(values)?;
    let err = |e| Error::statement(Engine::MySql, e);
    let prepared = conn.prepare(&statement.sql).await.map_err(err)?;
    let columns: Vec<MySqlColumn> = prepared.columns().to_vec();
    let mut stream = (&mut *conn).fetch_many(prepared.query_with(args));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    let mut last_insert_id = 0;
    while let Some(item) = stream.try_next().await.map_err(err)? {
        match item {
            Either::Left(done) => {
                rows_affected += done.rows_affected();
                last_insert_id = done.last_insert_id();
            }
            Either::Right(row) => {
                budget.row((0..row.len()).map(|i| raw_len(&row, i)))?;
                rows.push(row);
            }
        }
    }
    drop(stream);
    // Decided once per statement, and only when there is a row to decode (an empty result of an
    // unsupported type is not an error). From the result's own column definitions: the prepared
    // statement's can differ (`SELECT ? + ?` is DOUBLE when prepared, BIGINT once bound).
    let kinds = match rows.first() {
        Some(row) => kinds(conn, &statement.sql, row.columns()).await?,
        None => Vec::new(),
    };
    // The result's own column definitions describe it best; the prepared ones when there is no row.
    let columns = rows.first().map_or(columns, |row| row.columns().to_vec());
    let mut output = super::output(
        &columns,
        &rows,
        rows_affected,
        last_insert_id,
        metadata,
        |row, i| value(row, i, kinds[i]),
    )?;
    if metadata_wanted && !output.columns.is_empty() {
        complete_mysql(conn, &statement.sql, &mut output.columns).await?;
    }
    for ((meta, kind), column) in output.columns.iter_mut().zip(&kinds).zip(&columns) {
        if *kind == Kind::Json {
            meta.type_name = "JSON".to_owned();
            meta.type_code = jdbc_type("JSON");
        } else if *kind == Kind::Text
            && matches!(
                meta.type_name.as_str(),
                "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB"
            )
        {
            let max_size = Definition::of(column.type_info()).max_size;
            meta.type_name = text_type_name(&meta.type_name, max_size);
            meta.type_code = jdbc_type(&meta.type_name);
        }
    }
    Ok(output)
}

/// The length of column `i`'s raw value (0 for NULL).
fn raw_len(row: &MySqlRow, i: usize) -> usize {
    row.try_get_unchecked::<Option<&[u8]>, _>(i)
        .ok()
        .flatten()
        .map_or(0, <[u8]>::len)
}

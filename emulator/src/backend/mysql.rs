//! MySQL / MariaDB: binding, decoding by column type, error text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySqlArguments, MySqlColumn, MySqlRow};
use sqlx::{Arguments, Column, Either, Executor, MySqlConnection, Row, Statement, TypeInfo};

use super::{
    BindValue, Engine, StatementOutput, decimal_field, format_time, format_timestamp, long_field,
    statement_error, unsupported,
};
use crate::params::Rewritten;
use crate::protocol::error::{ApiError, ErrorCode};
use crate::protocol::{Blob, ColumnMetadata, Field, ResultSetOptions};

fn bind(values: Vec<BindValue>) -> Result<MySqlArguments, ApiError> {
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
        added.map_err(|e| ApiError::bad_request(format!("cannot bind parameter: {e}")))?;
    }
    Ok(args)
}

pub(super) async fn execute(
    conn: &mut MySqlConnection,
    statement: &Rewritten,
    values: Vec<BindValue>,
    options: ResultSetOptions,
) -> Result<StatementOutput, ApiError> {
    let args = bind(values)?;
    let err = |e| statement_error(Engine::MySql, e);
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
            Either::Right(row) => rows.push(row),
        }
    }
    drop(stream);
    super::output(
        &columns,
        &rows,
        rows_affected,
        last_insert_id,
        metadata,
        |row, i| field(row, i, options),
    )
}

/// `<message>; Error code: N; SQLState: XXXXX` (the v2 MySQL form reported by peers; unverified).
pub(super) fn error_message(error: &dyn sqlx::error::DatabaseError) -> String {
    let mut text = error.message().to_owned();
    if let Some(mysql) = error.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        text.push_str(&format!("; Error code: {}", mysql.number()));
    }
    if let Some(code) = error.code() {
        text.push_str(&format!("; SQLState: {code}"));
    }
    text
}

/// Connector/J's `java.sql.Types` code for a type name as sqlx spells it.
fn jdbc_type(name: &str) -> i32 {
    let base = name.trim_end_matches(" UNSIGNED");
    match base {
        "BOOLEAN" | "BIT" => -7,
        "TINYINT" => -6,
        "SMALLINT" => 5,
        "MEDIUMINT" | "INT" => 4,
        "BIGINT" => -5,
        "FLOAT" => 7,
        "DOUBLE" => 8,
        "DECIMAL" => 3,
        "CHAR" | "ENUM" | "SET" => 1,
        "VARCHAR" => 12,
        "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "JSON" => -1,
        "BINARY" => -2,
        "VARBINARY" => -3,
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => -4,
        "DATE" => 91,
        "TIME" => 92,
        "DATETIME" | "TIMESTAMP" => 93,
        "YEAR" => 91,
        _ => 1111,
    }
}

fn metadata(column: &MySqlColumn) -> ColumnMetadata {
    let name = column.type_info().name();
    // Connector/J reports TINYINT(1) as BIT.
    let type_name = if name == "BOOLEAN" {
        "BIT".to_owned()
    } else {
        name.to_owned()
    };
    ColumnMetadata {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        type_code: jdbc_type(name),
        is_signed: !name.ends_with("UNSIGNED")
            && matches!(
                name,
                "TINYINT"
                    | "SMALLINT"
                    | "MEDIUMINT"
                    | "INT"
                    | "BIGINT"
                    | "FLOAT"
                    | "DOUBLE"
                    | "DECIMAL"
            ),
        nullable: 2,
        type_name,
        ..ColumnMetadata::default()
    }
}

macro_rules! get {
    ($row:expr, $i:expr, $t:ty) => {
        $row.try_get::<Option<$t>, _>($i).map_err(|e| {
            ApiError::new(
                ErrorCode::InternalServerErrorException,
                format!("decoding column {}: {e}", $i),
            )
        })?
    };
}

fn field(row: &MySqlRow, i: usize, options: ResultSetOptions) -> Result<Field, ApiError> {
    let column = &row.columns()[i];
    let name = column.type_info().name();
    let value = match name {
        "BOOLEAN" => get!(row, i, bool).map(Field::BooleanValue),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            get!(row, i, i64).map(|v| long_field(v, options))
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" => {
            get!(row, i, u64).map(|v| long_field(v as i64, options))
        }
        // Above i64::MAX a long cannot hold it: the exact digits go out as a string.
        "BIGINT UNSIGNED" => get!(row, i, u64).map(|v| match i64::try_from(v) {
            Ok(long) => long_field(long, options),
            Err(_) => Field::StringValue(v.to_string()),
        }),
        "FLOAT" => get!(row, i, f32).map(|v| Field::DoubleValue(v.into())),
        "DOUBLE" => get!(row, i, f64).map(Field::DoubleValue),
        "DECIMAL" => get!(row, i, Decimal).map(|v| decimal_field(v.to_string(), options)),
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "JSON" => get!(row, i, String).map(Field::StringValue),
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
            get!(row, i, Vec<u8>).map(|v| Field::BlobValue(Blob(v)))
        }
        "BIT" => get!(row, i, u64).map(|v| Field::BooleanValue(v != 0)),
        "DATE" => {
            get!(row, i, NaiveDate).map(|v| Field::StringValue(v.format("%Y-%m-%d").to_string()))
        }
        "TIME" => get!(row, i, NaiveTime).map(|v| Field::StringValue(format_time(v))),
        "DATETIME" => get!(row, i, NaiveDateTime).map(|v| Field::StringValue(format_timestamp(v))),
        "TIMESTAMP" => {
            get!(row, i, DateTime<Utc>).map(|v| Field::StringValue(format_timestamp(v.naive_utc())))
        }
        "NULL" => None,
        other => return Err(unsupported(column.name(), other)),
    };
    Ok(value.unwrap_or(Field::IsNull(true)))
}

//! A PostgreSQL row's values by column type, as the Data API returns them.

use chrono::NaiveTime;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgRow, PgTypeInfo, PgTypeKind};
use sqlx::{Column as _, Row, TypeInfo};

use super::binary::{
    array_elements, date_text, inet_text, macaddr_text, oid_text, timestamp_text, utf8,
};
use super::numeric::numeric_text;
use crate::backend::{Array, Error, Result, Value, format_time, unsupported};

/// A decoding failure, naming the column and its type.
fn decode_error(row: &PgRow, i: usize, error: impl Into<BoxDynError>) -> Error {
    let column = &row.columns()[i];
    Error::Decode {
        column: column.name().to_owned(),
        type_name: column.type_info().name().to_ascii_lowercase(),
        source: error.into(),
    }
}

macro_rules! get {
    ($row:expr, $i:expr, $t:ty) => {
        $row.try_get::<Option<$t>, _>($i)
            .map_err(|e| decode_error($row, $i, e))?
    };
}

pub(super) fn value(row: &PgRow, i: usize) -> Result<Value> {
    let column = &row.columns()[i];
    let info = column.type_info();
    let null = || Value::Null;
    match info.kind() {
        PgTypeKind::Array(elem) => return array(row, i, elem, column.name()),
        // enum → stringValue (the Data API's type mapping); the binary form is the label.
        PgTypeKind::Enum(_) => {
            return Ok(binary(row, i, utf8)?.map_or_else(null, Value::Text));
        }
        _ => {}
    }
    let value = match info.name() {
        "BOOL" => get!(row, i, bool).map(Value::Bool),
        "INT2" => get!(row, i, i16).map(|v| Value::Int(v.into())),
        "INT4" => get!(row, i, i32).map(|v| Value::Int(v.into())),
        "INT8" => get!(row, i, i64).map(Value::Int),
        "FLOAT4" => get!(row, i, f32).map(|v| Value::Double(v.into())),
        "FLOAT8" => get!(row, i, f64).map(Value::Double),
        "NUMERIC" => binary(row, i, numeric_text)?.map(Value::Decimal),
        // "text, varchar, char, name, uuid, inet, cidr, enum, oid → stringValue" (type mapping).
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "\"CHAR\"" => {
            get!(row, i, String).map(Value::Text)
        }
        "UUID" => get!(row, i, uuid::Uuid).map(|v| Value::Text(v.to_string())),
        "INET" | "CIDR" => binary(row, i, inet_text)?.map(Value::Text),
        "OID" => binary(row, i, oid_text)?.map(Value::Text),
        // Not in the table; text like inet, as pgJDBC's getString gives it.
        "MACADDR" | "MACADDR8" => binary(row, i, macaddr_text)?.map(Value::Text),
        "JSON" | "JSONB" => {
            get!(row, i, sqlx::types::JsonValue).map(|v| Value::Text(v.to_string()))
        }
        "BYTEA" => get!(row, i, Vec<u8>).map(Value::Bytes),
        "DATE" => binary(row, i, date_text)?.map(Value::Text),
        "TIME" => get!(row, i, NaiveTime).map(|v| Value::Text(format_time(v))),
        // timestamptz is sent in UTC and goes out so, without an offset (type mapping).
        "TIMESTAMP" | "TIMESTAMPTZ" => binary(row, i, timestamp_text)?.map(Value::Text),
        "VOID" => Some(Value::Text(String::new())),
        other => return Err(unsupported(column.name(), &other.to_ascii_lowercase())),
    };
    Ok(value.unwrap_or_else(null))
}

/// A 1-D array of a supported scalar → `arrayValue` (the Data API's type mapping).
fn array(row: &PgRow, i: usize, elem: &PgTypeInfo, column: &str) -> Result<Value> {
    // Binary array header: ndim (i32), … . v2 returns only 1-D arrays.
    if let Some(bytes) = raw_bytes(row, i)? {
        let ndim = bytes
            .get(..4)
            .map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        if ndim > 1 {
            return Err(unsupported(column, "multi-dimensional array"));
        }
    }
    if let PgTypeKind::Enum(_) = elem.kind() {
        return string_elements(row, i, utf8);
    }
    let value = match elem.name() {
        "BOOL" => get!(row, i, Vec<Option<bool>>).map(Array::Bool),
        "INT2" => get!(row, i, Vec<Option<i16>>)
            .map(|v| Array::Int(v.into_iter().map(|x| x.map(i64::from)).collect())),
        "INT4" => get!(row, i, Vec<Option<i32>>)
            .map(|v| Array::Int(v.into_iter().map(|x| x.map(i64::from)).collect())),
        "INT8" => get!(row, i, Vec<Option<i64>>).map(Array::Int),
        "FLOAT4" => get!(row, i, Vec<Option<f32>>)
            .map(|v| Array::Double(v.into_iter().map(|x| x.map(f64::from)).collect())),
        "FLOAT8" => get!(row, i, Vec<Option<f64>>).map(Array::Double),
        // Exact text with the scale, as for a numeric column; stringValues whatever the
        // decimalReturnType, which speaks of single values.
        "NUMERIC" => return string_elements(row, i, numeric_text),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
            get!(row, i, Vec<Option<String>>).map(Array::Text)
        }
        "INET" | "CIDR" => return string_elements(row, i, inet_text),
        "OID" => return string_elements(row, i, oid_text),
        "MACADDR" | "MACADDR8" => return string_elements(row, i, macaddr_text),
        // The AWS page says both "UUID[] supported" and "arrays of UUIDs not supported"
        // (Aurora User Guide, `data-api.operations.html`): refused until a recorded run settles it.
        "UUID" => return Err(unsupported(column, "_uuid")),
        "DATE" => return string_elements(row, i, date_text),
        "TIMESTAMP" | "TIMESTAMPTZ" => return string_elements(row, i, timestamp_text),
        other => {
            return Err(unsupported(
                column,
                &format!("_{}", other.to_ascii_lowercase()),
            ));
        }
    };
    Ok(value.map_or(Value::Null, Value::Array))
}

/// A 1-D array as `stringValues`, each element decoded from its binary form by `decode`.
fn string_elements(
    row: &PgRow,
    i: usize,
    decode: impl Fn(&[u8]) -> Option<String>,
) -> Result<Value> {
    let strings = binary(row, i, |bytes| {
        array_elements(bytes)?
            .into_iter()
            .map(|element| match element {
                None => Some(None),
                Some(bytes) => decode(bytes).map(Some),
            })
            .collect::<Option<Vec<_>>>()
    })?;
    Ok(strings.map_or(Value::Null, |v| Value::Array(Array::Text(v))))
}

/// The length of column `i`'s raw value (0 for NULL).
pub(super) fn raw_len(row: &PgRow, i: usize) -> usize {
    raw_bytes(row, i).ok().flatten().map_or(0, <[u8]>::len)
}

/// The raw binary value of column `i`, `None` for NULL.
fn raw_bytes(row: &PgRow, i: usize) -> Result<Option<&[u8]>> {
    let raw = row.try_get_raw(i).map_err(|e| decode_error(row, i, e))?;
    if sqlx::ValueRef::is_null(&raw) {
        return Ok(None);
    }
    raw.as_bytes()
        .map(Some)
        .map_err(|e| decode_error(row, i, e))
}

/// Column `i` decoded from its binary form by `decode`, `None` for NULL.
fn binary<T>(row: &PgRow, i: usize, decode: impl FnOnce(&[u8]) -> Option<T>) -> Result<Option<T>> {
    raw_bytes(row, i)?
        .map(|bytes| {
            decode(bytes).ok_or_else(|| decode_error(row, i, "value out of range or malformed"))
        })
        .transpose()
}

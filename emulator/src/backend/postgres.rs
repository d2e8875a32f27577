//! PostgreSQL: binding with explicit parameter types, decoding by column type, error text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgColumn, PgRow, PgTypeInfo, PgTypeKind};
use sqlx::{Arguments, Column, Either, Executor, PgConnection, Postgres, Row, Statement, TypeInfo};

use super::{
    BindValue, Engine, StatementOutput, decimal_field, format_time, format_timestamp, long_field,
    statement_error, unsupported,
};
use crate::params::Rewritten;
use crate::protocol::error::{ApiError, ErrorCode};
use crate::protocol::{ArrayValue, Blob, ColumnMetadata, Field, ResultSetOptions};

/// NULL with no declared type: the server infers it from context, as with pgJDBC's `setNull`.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<sqlx::encode::IsNull, BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

fn bind(values: Vec<BindValue>) -> Result<(PgArguments, Vec<PgTypeInfo>), ApiError> {
    let mut args = PgArguments::default();
    let mut types = Vec::with_capacity(values.len());
    for value in values {
        let added = match value {
            BindValue::Null => {
                types.push(PgTypeInfo::with_oid(Oid(0)));
                args.add(UntypedNull)
            }
            BindValue::Bool(v) => typed(&mut args, &mut types, v),
            BindValue::Long(v) => typed(&mut args, &mut types, v),
            BindValue::Double(v) => typed(&mut args, &mut types, v),
            BindValue::Text(v) => typed(&mut args, &mut types, v),
            BindValue::Bytes(v) => typed(&mut args, &mut types, v),
            BindValue::Date(v) => typed(&mut args, &mut types, v),
            BindValue::Time(v) => typed(&mut args, &mut types, v),
            BindValue::Timestamp(v) => typed(&mut args, &mut types, v),
            BindValue::Uuid(v) => typed(&mut args, &mut types, v),
            BindValue::Decimal(text) => {
                let v: Decimal = text.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "DECIMAL value {text:?} is outside what the emulator can bind on PostgreSQL \
                         (28 significant digits)"
                    ))
                })?;
                typed(&mut args, &mut types, v)
            }
            BindValue::Json(text) => {
                let v: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| ApiError::bad_request(format!("invalid JSON parameter: {e}")))?;
                typed(&mut args, &mut types, sqlx::types::Json(v))
            }
        };
        added.map_err(|e| ApiError::bad_request(format!("cannot bind parameter: {e}")))?;
    }
    Ok((args, types))
}

fn typed<T>(
    args: &mut PgArguments,
    types: &mut Vec<PgTypeInfo>,
    value: T,
) -> Result<(), BoxDynError>
where
    T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + 'static,
{
    types.push(T::type_info());
    args.add(value)
}

pub(super) async fn execute(
    conn: &mut PgConnection,
    statement: &Rewritten,
    values: Vec<BindValue>,
    options: ResultSetOptions,
) -> Result<StatementOutput, ApiError> {
    let (args, types) = bind(values)?;
    let err = |e| statement_error(Engine::Postgres, e);
    let prepared = conn
        .prepare_with(&statement.sql, &types)
        .await
        .map_err(err)?;
    let columns: Vec<PgColumn> = prepared.columns().to_vec();
    let mut stream = (&mut *conn).fetch_many(prepared.query_with(args));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    while let Some(item) = stream.try_next().await.map_err(err)? {
        match item {
            Either::Left(done) => rows_affected += done.rows_affected(),
            Either::Right(row) => rows.push(row),
        }
    }
    drop(stream);
    super::output(&columns, &rows, rows_affected, 0, metadata, |row, i| {
        field(row, i, options)
    })
}

/// `ERROR: <msg>[\n  Detail: …][\n  Hint: …][\n  Position: N]; SQLState: XXXXX`.
pub(super) fn error_message(error: &dyn sqlx::error::DatabaseError) -> String {
    let mut text = format!("ERROR: {}", error.message());
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            text.push_str(&format!("\n  Detail: {detail}"));
        }
        if let Some(hint) = pg.hint() {
            text.push_str(&format!("\n  Hint: {hint}"));
        }
        if let Some(sqlx::postgres::PgErrorPosition::Original(position)) = pg.position() {
            text.push_str(&format!("\n  Position: {position}"));
        }
    }
    if let Some(code) = error.code() {
        text.push_str(&format!("; SQLState: {code}"));
    }
    text
}

/// pgJDBC's `java.sql.Types` code for a PostgreSQL type name.
fn jdbc_type(name: &str, kind: &PgTypeKind) -> i32 {
    if matches!(kind, PgTypeKind::Array(_)) {
        return 2003;
    }
    match name {
        "bool" => -7,
        "int2" => 5,
        "int4" => 4,
        "int8" => -5,
        "float4" => 7,
        "float8" => 8,
        "numeric" => 2,
        "bpchar" => 1,
        "varchar" | "text" | "name" => 12,
        "bytea" => -2,
        "date" => 91,
        "time" | "timetz" => 92,
        "timestamp" | "timestamptz" => 93,
        _ => 1111,
    }
}

/// pgJDBC spelling: internal lower-case names, `_elem` for arrays.
fn type_name(info: &PgTypeInfo) -> String {
    let name = info.name();
    match info.kind() {
        PgTypeKind::Array(elem) => format!("_{}", elem.name().to_ascii_lowercase()),
        PgTypeKind::Simple => match name {
            "BOOL" | "INT2" | "INT4" | "INT8" | "FLOAT4" | "FLOAT8" | "NUMERIC" | "TEXT"
            | "VARCHAR" | "BPCHAR" | "NAME" | "UUID" | "JSON" | "JSONB" | "BYTEA" | "DATE"
            | "TIME" | "TIMETZ" | "TIMESTAMP" | "TIMESTAMPTZ" | "VOID" | "OID" | "INET"
            | "CIDR" | "MONEY" | "INTERVAL" | "XML" => name.to_ascii_lowercase(),
            // sqlx calls bpchar "CHAR" and the one-byte internal type "\"CHAR\"".
            "CHAR" => "bpchar".to_owned(),
            "\"CHAR\"" => "char".to_owned(),
            other => other.to_owned(),
        },
        _ => name.to_owned(),
    }
}

fn metadata(column: &PgColumn) -> ColumnMetadata {
    let info = column.type_info();
    let type_name = type_name(info);
    let type_code = jdbc_type(&type_name, info.kind());
    ColumnMetadata {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        is_signed: matches!(
            type_name.as_str(),
            "int2" | "int4" | "int8" | "float4" | "float8" | "numeric"
        ),
        is_case_sensitive: matches!(type_name.as_str(), "text" | "varchar" | "bpchar" | "name"),
        nullable: 2,
        type_code,
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

fn field(row: &PgRow, i: usize, options: ResultSetOptions) -> Result<Field, ApiError> {
    let column = &row.columns()[i];
    let info = column.type_info();
    let null = || Field::IsNull(true);
    if let PgTypeKind::Array(elem) = info.kind() {
        return array(row, i, elem.name(), column.name());
    }
    if let PgTypeKind::Enum(_) = info.kind() {
        let raw = sqlx::Row::try_get_raw(row, i).map_err(|e| {
            ApiError::new(
                ErrorCode::InternalServerErrorException,
                format!("decoding column {i}: {e}"),
            )
        })?;
        if sqlx::ValueRef::is_null(&raw) {
            return Ok(null());
        }
        let text = raw.as_str().map_err(|e| {
            ApiError::new(
                ErrorCode::InternalServerErrorException,
                format!("decoding enum column {i}: {e}"),
            )
        })?;
        return Ok(Field::StringValue(text.to_owned()));
    }
    let value = match info.name() {
        "BOOL" => get!(row, i, bool).map(Field::BooleanValue),
        "INT2" => get!(row, i, i16).map(|v| long_field(v.into(), options)),
        "INT4" => get!(row, i, i32).map(|v| long_field(v.into(), options)),
        "INT8" => get!(row, i, i64).map(|v| long_field(v, options)),
        "OID" => get!(row, i, Oid).map(|v| long_field(v.0.into(), options)),
        "FLOAT4" => get!(row, i, f32).map(|v| Field::DoubleValue(v.into())),
        "FLOAT8" => get!(row, i, f64).map(Field::DoubleValue),
        "NUMERIC" => raw_bytes(row, i)?
            .map(|bytes| {
                numeric_text(bytes).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InternalServerErrorException,
                        format!("malformed numeric in column {i}"),
                    )
                })
            })
            .transpose()?
            .map(|text| decimal_field(text, options)),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "\"CHAR\"" => {
            get!(row, i, String).map(Field::StringValue)
        }
        "UUID" => get!(row, i, uuid::Uuid).map(|v| Field::StringValue(v.to_string())),
        "JSON" | "JSONB" => {
            get!(row, i, sqlx::types::JsonValue).map(|v| Field::StringValue(v.to_string()))
        }
        "BYTEA" => get!(row, i, Vec<u8>).map(|v| Field::BlobValue(Blob(v))),
        "DATE" => {
            get!(row, i, NaiveDate).map(|v| Field::StringValue(v.format("%Y-%m-%d").to_string()))
        }
        "TIME" => get!(row, i, NaiveTime).map(|v| Field::StringValue(format_time(v))),
        "TIMESTAMP" => get!(row, i, NaiveDateTime).map(|v| Field::StringValue(format_timestamp(v))),
        "TIMESTAMPTZ" => {
            get!(row, i, DateTime<Utc>).map(|v| Field::StringValue(format_timestamp(v.naive_utc())))
        }
        "VOID" => Some(Field::StringValue(String::new())),
        other => return Err(unsupported(column.name(), &other.to_ascii_lowercase())),
    };
    Ok(value.unwrap_or_else(null))
}

fn array(row: &PgRow, i: usize, elem: &str, column: &str) -> Result<Field, ApiError> {
    // Binary array header: ndim (i32), … . v2 returns only 1-D arrays.
    if let Some(bytes) = raw_bytes(row, i)? {
        let ndim = bytes
            .get(..4)
            .map_or(0, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        if ndim > 1 {
            return Err(unsupported(column, "multi-dimensional array"));
        }
    }
    let value = match elem {
        "BOOL" => get!(row, i, Vec<Option<bool>>).map(ArrayValue::BooleanValues),
        "INT2" => get!(row, i, Vec<Option<i16>>)
            .map(|v| ArrayValue::LongValues(v.into_iter().map(|x| x.map(i64::from)).collect())),
        "INT4" => get!(row, i, Vec<Option<i32>>)
            .map(|v| ArrayValue::LongValues(v.into_iter().map(|x| x.map(i64::from)).collect())),
        "INT8" => get!(row, i, Vec<Option<i64>>).map(ArrayValue::LongValues),
        "FLOAT4" => get!(row, i, Vec<Option<f32>>)
            .map(|v| ArrayValue::DoubleValues(v.into_iter().map(|x| x.map(f64::from)).collect())),
        "FLOAT8" => get!(row, i, Vec<Option<f64>>).map(ArrayValue::DoubleValues),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
            get!(row, i, Vec<Option<String>>).map(ArrayValue::StringValues)
        }
        "UUID" => get!(row, i, Vec<Option<uuid::Uuid>>).map(|v| {
            ArrayValue::StringValues(v.into_iter().map(|x| x.map(|u| u.to_string())).collect())
        }),
        "DATE" => get!(row, i, Vec<Option<NaiveDate>>).map(|v| {
            ArrayValue::StringValues(
                v.into_iter()
                    .map(|x| x.map(|d| d.format("%Y-%m-%d").to_string()))
                    .collect(),
            )
        }),
        "TIMESTAMP" => get!(row, i, Vec<Option<NaiveDateTime>>).map(|v| {
            ArrayValue::StringValues(v.into_iter().map(|x| x.map(format_timestamp)).collect())
        }),
        "TIMESTAMPTZ" => get!(row, i, Vec<Option<DateTime<Utc>>>).map(|v| {
            ArrayValue::StringValues(
                v.into_iter()
                    .map(|x| x.map(|t| format_timestamp(t.naive_utc())))
                    .collect(),
            )
        }),
        other => {
            return Err(unsupported(
                column,
                &format!("_{}", other.to_ascii_lowercase()),
            ));
        }
    };
    Ok(value.map_or(Field::IsNull(true), Field::ArrayValue))
}

/// The raw binary value of column `i`, `None` for NULL.
fn raw_bytes(row: &PgRow, i: usize) -> Result<Option<&[u8]>, ApiError> {
    let raw = row.try_get_raw(i).map_err(|e| {
        ApiError::new(
            ErrorCode::InternalServerErrorException,
            format!("decoding column {i}: {e}"),
        )
    })?;
    if sqlx::ValueRef::is_null(&raw) {
        return Ok(None);
    }
    raw.as_bytes().map(Some).map_err(|e| {
        ApiError::new(
            ErrorCode::InternalServerErrorException,
            format!("decoding column {i}: {e}"),
        )
    })
}

/// PostgreSQL's binary `numeric` as exact text with its display scale (`0.0000` for numeric(10,4)),
/// for any precision: ndigits, weight, sign, dscale (i16/u16 each), then base-10000 digit groups.
fn numeric_text(bytes: &[u8]) -> Option<String> {
    let word = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let groups: Vec<u16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Option<_>>()?;
    let group = |index: i32| {
        usize::try_from(index)
            .ok()
            .and_then(|k| groups.get(k))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for index in 0..=weight {
            if index == 0 {
                text.push_str(&group(index).to_string());
            } else {
                text.push_str(&format!("{:04}", group(index)));
            }
        }
    }
    if dscale > 0 {
        let mut fraction = String::with_capacity(dscale + 4);
        let mut index = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", group(index)));
            index += 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::numeric_text;

    fn encode(ndigits: u16, weight: i16, sign: u16, dscale: u16, groups: &[u16]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [ndigits, weight as u16, sign, dscale]
            .into_iter()
            .chain(groups.iter().copied())
        {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn numeric_text_keeps_scale_and_precision() {
        let cases: &[(&[u16], i16, u16, u16, &str)] = &[
            (&[], 0, 0, 4, "0.0000"),
            (&[], 0, 0, 0, "0"),
            (&[12, 3456, 7890], 1, 0, 4, "123456.7890"),
            (&[1, 5000], 0, 0x4000, 2, "-1.50"),
            (&[500], -1, 0, 3, "0.050"),
            (&[5], -2, 0, 8, "0.00000005"),
            (&[1, 0, 0], 2, 0, 0, "100000000"),
            (
                &[1234, 5678, 9012, 3456, 7890, 1234, 5678, 9012],
                7,
                0,
                0,
                "12345678901234567890123456789012",
            ),
        ];
        for (groups, weight, sign, dscale, expected) in cases {
            let bytes = encode(groups.len() as u16, *weight, *sign, *dscale, groups);
            assert_eq!(
                numeric_text(&bytes).as_deref(),
                Some(*expected),
                "{groups:?} w{weight}"
            );
        }
        assert_eq!(
            numeric_text(&encode(0, 0, 0xC000, 0, &[])).as_deref(),
            Some("NaN")
        );
        assert_eq!(numeric_text(&[0, 1]), None);
    }
}

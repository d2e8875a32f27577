//! PostgreSQL: binding with explicit parameter types, decoding by column type, error text.

use std::net::Ipv4Addr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use futures_util::TryStreamExt;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgColumn, PgRow, PgTypeInfo, PgTypeKind};
use sqlx::{
    Arguments, Column as _, Either, Executor, PgConnection, Postgres, Row, Statement, TypeInfo,
};

use super::catalog::{Cache, complete_postgres};
use super::{
    Array, BindValue, Budget, Column, Engine, Error, Nullability, Result, StatementOutput, Value,
    format_time, format_timestamp, unsupported,
};
use crate::params::Rewritten;

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

/// A `DECIMAL`-hinted value bound as `numeric` digit for digit, in PostgreSQL's binary format
/// (`numeric_send`: ndigits, weight, sign, dscale, then base-10000 digits, each a big-endian 16-bit
/// word). No fixed-precision type sits in between (rust_decimal would keep only 28 significant
/// digits), and the scale is the one written: "1.50" binds as 1.50 (data-api-facts §5: numeric
/// needs DECIMAL to stay exact).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Numeric {
    /// Base-10000 digits, no leading or trailing zero digit; empty for zero.
    digits: Vec<u16>,
    /// Position of the first digit: 10000^weight.
    weight: i16,
    negative: bool,
    /// Digits after the decimal point, as written.
    dscale: u16,
}

impl Numeric {
    /// `numeric`'s oid.
    const OID: Oid = Oid(1700);
    /// Most base-10000 digits the server's binary input accepts
    /// (`NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE`).
    const MAX_DIGITS: usize = 3000;
    /// Largest display scale (`NUMERIC_DSCALE_MAX`).
    const MAX_SCALE: usize = 0x3FFF;

    /// Parses decimal text: an optional sign, digits, an optional point and digits (at least one
    /// digit in all), as the `DECIMAL` hint accepts.
    ///
    /// # Errors
    /// What makes the text unrepresentable: not decimal text, too many digits after the point, or
    /// too many digits in all.
    fn parse(text: &str) -> Result<Self, String> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (int, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if (int.is_empty() && fraction.is_empty())
            || !int
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err("not decimal text".into());
        }
        if fraction.len() > Self::MAX_SCALE {
            return Err(format!(
                "more than {} digits after the point",
                Self::MAX_SCALE
            ));
        }
        let int = int.trim_start_matches('0');
        // Whole groups of four decimal digits either side of the point.
        let int_groups = int.len().div_ceil(4);
        let mut decimal = "0".repeat(int_groups * 4 - int.len());
        decimal.push_str(int);
        decimal.push_str(fraction);
        decimal.push_str(&"0".repeat(fraction.len().next_multiple_of(4) - fraction.len()));
        let mut digits: Vec<u16> = decimal
            .as_bytes()
            .chunks(4)
            .map(|group| group.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0')))
            .collect();
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(format!(
                "more than {} significant digits",
                Self::MAX_DIGITS * 4
            ));
        }
        // The first digit's power of 10000; beyond an i16 (about 131072 digits before the point)
        // PostgreSQL has no numeric.
        let weight = i16::try_from(int_groups as i64 - 1 - leading as i64)
            .map_err(|_| "too many digits before the point".to_owned())?;
        let zero = digits.is_empty();
        Ok(Self {
            digits,
            weight: if zero { 0 } else { weight },
            negative: negative && !zero,
            dscale: u16::try_from(fraction.len()).map_err(|e| e.to_string())?,
        })
    }

    /// The binary wire form.
    fn to_bytes(&self) -> Vec<u8> {
        let header = [
            // At most MAX_DIGITS, checked by `parse`.
            self.digits.len() as u16,
            self.weight as u16,
            if self.negative { 0x4000 } else { 0x0000 },
            self.dscale,
        ];
        header
            .iter()
            .chain(&self.digits)
            .flat_map(|word| word.to_be_bytes())
            .collect()
    }
}

impl sqlx::Type<Postgres> for Numeric {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Self::OID)
    }
}

impl sqlx::Encode<'_, Postgres> for Numeric {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        buf.extend_from_slice(&self.to_bytes());
        Ok(sqlx::encode::IsNull::No)
    }
}

fn bind(values: Vec<BindValue>) -> Result<(PgArguments, Vec<PgTypeInfo>)> {
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
                let v = Numeric::parse(&text).map_err(|reason| Error::Numeric {
                    text: text.clone(),
                    reason,
                })?;
                typed(&mut args, &mut types, v)
            }
            BindValue::Json(text) => {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(Error::Json)?;
                typed(&mut args, &mut types, sqlx::types::Json(v))
            }
        };
        added.map_err(Error::Bind)?;
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
    catalog: Option<&Cache>,
    mut budget: Budget,
) -> Result<StatementOutput> {
    let (args, types) = bind(values)?;
    let err = |e| Error::statement(Engine::Postgres, e);
    let mut prepared = conn
        .prepare_with(&statement.sql, &types)
        .await
        .map_err(err)?;
    // sqlx caches prepared statements by SQL text alone. One first prepared with an untyped NULL has
    // that parameter typed by the server (say int4) and would be reused for an int8 value (SQLState
    // 22P03): AWS prepares per call, so re-prepare when the cached types differ from those sent.
    if !same_parameter_types(&prepared, &types) {
        sqlx::Connection::clear_cached_statements(&mut *conn)
            .await
            .map_err(err)?;
        prepared = conn
            .prepare_with(&statement.sql, &types)
            .await
            .map_err(err)?;
    }
    let columns: Vec<PgColumn> = prepared.columns().to_vec();
    let mut stream = (&mut *conn).fetch_many(prepared.query_with(args));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    while let Some(item) = stream.try_next().await.map_err(err)? {
        match item {
            Either::Left(done) => rows_affected += done.rows_affected(),
            Either::Right(row) => {
                budget.row((0..row.len()).map(|i| raw_len(&row, i)))?;
                rows.push(row);
            }
        }
    }
    drop(stream);
    let mut output = super::output(&columns, &rows, rows_affected, 0, metadata, value)?;
    if let Some(catalog) = catalog
        && !output.columns.is_empty()
    {
        complete_postgres(conn, catalog, &columns, &mut output.columns)
            .await
            .map_err(err)?;
    }
    Ok(output)
}

/// Whether `prepared` declares the types of the values being sent (untyped NULLs fit any).
fn same_parameter_types(prepared: &sqlx::postgres::PgStatement<'_>, sent: &[PgTypeInfo]) -> bool {
    let Some(Either::Left(declared)) = prepared.parameters() else {
        return true;
    };
    sent.iter()
        .zip(declared)
        .all(|(sent, declared)| match (sent.oid(), declared.oid()) {
            (Some(Oid(0)), _) | (None, _) | (_, None) => true,
            (Some(a), Some(b)) => a == b,
        })
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

fn metadata(column: &PgColumn) -> Column {
    let info = column.type_info();
    let type_name = type_name(info);
    let type_code = jdbc_type(&type_name, info.kind());
    Column {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        is_signed: matches!(
            type_name.as_str(),
            "int2" | "int4" | "int8" | "float4" | "float8" | "numeric"
        ),
        is_case_sensitive: matches!(type_name.as_str(), "text" | "varchar" | "bpchar" | "name"),
        nullable: Nullability::Unknown,
        type_code,
        type_name,
        ..Column::default()
    }
}

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

fn value(row: &PgRow, i: usize) -> Result<Value> {
    let column = &row.columns()[i];
    let info = column.type_info();
    let null = || Value::Null;
    match info.kind() {
        PgTypeKind::Array(elem) => return array(row, i, elem, column.name()),
        // enum → stringValue (data-api-facts §6); the binary form is the label.
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
        // "text, varchar, char, name, uuid, inet, cidr, enum, oid → stringValue" (data-api-facts §6).
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
        // timestamptz is sent in UTC and goes out so, without an offset (data-api-facts §6).
        "TIMESTAMP" | "TIMESTAMPTZ" => binary(row, i, timestamp_text)?.map(Value::Text),
        "VOID" => Some(Value::Text(String::new())),
        other => return Err(unsupported(column.name(), &other.to_ascii_lowercase())),
    };
    Ok(value.unwrap_or_else(null))
}

/// A 1-D array of a supported scalar → `arrayValue` (data-api-facts §6).
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
        // (data-api-facts §19): refused until a recorded run settles it.
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
fn raw_len(row: &PgRow, i: usize) -> usize {
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

/// 2000-01-01 00:00, from which PostgreSQL's binary dates and timestamps count.
fn postgres_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .expect("a valid date")
        .and_time(NaiveTime::MIN)
}

/// date (days since 2000-01-01, i32) as `YYYY-MM-DD`. `infinity` and `-infinity` go out as
/// PostgreSQL prints them (unverified on AWS); a year beyond chrono's ±262143 is `None`, where
/// sqlx's own decoder panics.
fn date_text(bytes: &[u8]) -> Option<String> {
    Some(match i32::from_be_bytes(bytes.try_into().ok()?) {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        days => postgres_epoch()
            .date()
            .checked_add_signed(TimeDelta::try_days(days.into())?)?
            .format("%Y-%m-%d")
            .to_string(),
    })
}

/// timestamp / timestamptz (microseconds since 2000-01-01 00:00 UTC, i64) as
/// `YYYY-MM-DD HH:MM:SS[.f]`; infinities and years beyond chrono as for [`date_text`].
fn timestamp_text(bytes: &[u8]) -> Option<String> {
    Some(match i64::from_be_bytes(bytes.try_into().ok()?) {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        micros => {
            format_timestamp(postgres_epoch().checked_add_signed(TimeDelta::microseconds(micros))?)
        }
    })
}

/// Text whose binary form is its UTF-8 bytes (an enum label).
fn utf8(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// The elements of a 0- or 1-D array in PostgreSQL's binary format (`array_send`): ndim, a has-nulls
/// flag and the element oid (i32 each), a size and a lower bound per dimension, then each element
/// as its length (-1 for NULL) and bytes. `None` when malformed or of more dimensions.
fn array_elements(bytes: &[u8]) -> Option<Vec<Option<&[u8]>>> {
    let int = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (count, mut at) = match int(0)? {
        0 => (0, 12),
        1 => (usize::try_from(int(12)?).ok()?, 20),
        _ => return None,
    };
    let mut elements = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            elements.push(None);
        } else {
            let end = at.checked_add(usize::try_from(len).ok()?)?;
            elements.push(Some(bytes.get(at..end)?));
            at = end;
        }
    }
    (at == bytes.len()).then_some(elements)
}

/// inet / cidr in PostgreSQL's binary format (family 2 = IPv4 or 3 = IPv6, prefix bits, is-cidr
/// flag, address length, address) as `network_out` prints it: the address, then `/bits` unless an
/// inet covers the whole address ("192.168.0.1/24", "::1", "10.0.0.0/8").
fn inet_text(bytes: &[u8]) -> Option<String> {
    let [family, bits, is_cidr, len, address @ ..] = bytes else {
        return None;
    };
    if usize::from(*len) != address.len() {
        return None;
    }
    let (mut text, max_bits) = match (family, address) {
        (2, &[a, b, c, d]) => (Ipv4Addr::new(a, b, c, d).to_string(), 32),
        (3, address) => (ipv6_text(address.try_into().ok()?), 128),
        _ => return None,
    };
    if *is_cidr != 0 || *bits != max_bits {
        text.push_str(&format!("/{bits}"));
    }
    Some(text)
}

/// An IPv6 address as PostgreSQL prints it (`inet_net_ntop_ipv6`): lower-case hex groups, the first
/// longest run of two or more zero groups as `::`, and a dotted IPv4 tail for `::a.b.c.d` and
/// `::ffff:a.b.c.d` (where std's `Ipv6Addr` prints `::102:304` for the first).
fn ipv6_text(octets: [u8; 16]) -> String {
    let words: Vec<u16> = octets
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect();
    // (start, length) of the first longest run of zero groups.
    let mut best: Option<(usize, usize)> = None;
    let mut run: Option<(usize, usize)> = None;
    for (i, &word) in words.iter().chain([&1]).enumerate() {
        if word == 0 {
            run = Some(run.map_or((i, 1), |(start, len)| (start, len + 1)));
        } else if let Some(current) = run.take()
            && best.is_none_or(|(_, len)| current.1 > len)
        {
            best = Some(current);
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if let Some((start, len)) = best
            && (start..start + len).contains(&i)
        {
            if i == start {
                text.push(':');
            }
            continue;
        }
        if i != 0 {
            text.push(':');
        }
        if i == 6
            && best.is_some_and(|(start, len)| {
                start == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))
            })
        {
            text.push_str(
                &Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]).to_string(),
            );
            return text;
        }
        text.push_str(&format!("{word:x}"));
    }
    if best.is_some_and(|(start, len)| start + len == words.len()) {
        text.push(':');
    }
    text
}

/// oid (an unsigned 32-bit integer) as its decimal digits.
fn oid_text(bytes: &[u8]) -> Option<String> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?).to_string())
}

/// macaddr (6 bytes) / macaddr8 (8 bytes) as PostgreSQL prints them: `08:00:2b:01:02:03`.
fn macaddr_text(bytes: &[u8]) -> Option<String> {
    matches!(bytes.len(), 6 | 8).then(|| {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
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
    use proptest::prelude::*;

    use super::{
        Numeric, array_elements, date_text, inet_text, ipv6_text, macaddr_text, numeric_text,
        timestamp_text,
    };

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

    fn bound(text: &str) -> Option<String> {
        numeric_text(&Numeric::parse(text).ok()?.to_bytes())
    }

    #[test]
    fn numeric_encodes_the_binary_wire_form() {
        let numeric = Numeric::parse("-1.50").expect("valid");
        assert_eq!(
            numeric.to_bytes(),
            [0, 2, 0, 0, 0x40, 0, 0, 2, 0, 1, 0x13, 0x88],
            "ndigits 2, weight 0, negative, dscale 2, digits 1 and 5000"
        );
        let zero = Numeric::parse("-0.000").expect("valid");
        assert_eq!(
            zero.to_bytes(),
            [0, 0, 0, 0, 0, 0, 0, 3],
            "zero is positive"
        );
    }

    #[test]
    fn numeric_keeps_every_digit_and_the_written_scale() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("0.00", "0.00"),
            ("-0.00", "0.00"),
            ("1.50", "1.50"),
            ("-1.50", "-1.50"),
            ("+12", "12"),
            ("12.", "12"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("00012.3400", "12.3400"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            ("10000", "10000"),
            ("100000000", "100000000"),
            (
                "12345678901234567890.123456789012345",
                "12345678901234567890.123456789012345",
            ),
            (
                "-99999999999999999999999999999999999999",
                "-99999999999999999999999999999999999999",
            ),
            (
                "1234567890123456789012345678.0123456789",
                "1234567890123456789012345678.0123456789",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(bound(input).as_deref(), Some(expected), "{input}");
        }
        let widest_scale = format!("0.{}1", "0".repeat(Numeric::MAX_SCALE - 1));
        assert_eq!(bound(&widest_scale), Some(widest_scale));
    }

    #[test]
    fn numeric_refuses_what_it_cannot_represent() {
        let too_long = "7".repeat(Numeric::MAX_DIGITS * 4 + 1);
        let too_large = format!("1{}", "0".repeat(140_000));
        let too_fine = format!("0.{}", "1".repeat(Numeric::MAX_SCALE + 1));
        for input in [
            "", ".", "-", "+.", "1e5", "--1", "1.2.3", "abc", "1 ", "١", &too_long, &too_large,
            &too_fine,
        ] {
            assert!(Numeric::parse(input).is_err(), "{input:.20} accepted");
        }
    }

    proptest! {
        #[test]
        fn numeric_round_trips_through_the_decoder(
            negative in any::<bool>(),
            int in "[0-9]{0,50}",
            fraction in proptest::option::of("[0-9]{0,50}"),
        ) {
            prop_assume!(!int.is_empty() || fraction.as_ref().is_some_and(|f| !f.is_empty()));
            let text = format!(
                "{}{int}{}",
                if negative { "-" } else { "" },
                fraction.as_ref().map_or(String::new(), |f| format!(".{f}")),
            );
            let digits = int.trim_start_matches('0');
            let fraction = fraction.unwrap_or_default();
            let nonzero = format!("{int}{fraction}").bytes().any(|b| b != b'0');
            let expected = format!(
                "{}{}{}",
                if negative && nonzero { "-" } else { "" },
                if digits.is_empty() { "0" } else { digits },
                if fraction.is_empty() { String::new() } else { format!(".{fraction}") },
            );
            prop_assert_eq!(bound(&text), Some(expected), "{}", text);
        }
    }

    #[test]
    fn inet_and_cidr_print_as_postgres_does() {
        let cases: &[(&[u8], &str)] = &[
            (&[2, 24, 0, 4, 192, 168, 0, 1], "192.168.0.1/24"),
            (&[2, 32, 0, 4, 10, 0, 0, 1], "10.0.0.1"),
            (&[2, 8, 1, 4, 10, 0, 0, 0], "10.0.0.0/8"),
            (&[2, 32, 1, 4, 10, 1, 2, 3], "10.1.2.3/32"),
            (
                &[
                    3, 128, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ],
                "::1",
            ),
            (
                &[
                    3, 32, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
                "2001:db8::/32",
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(inet_text(bytes).as_deref(), Some(*expected), "{bytes:?}");
        }
        for malformed in [
            &[2, 32, 0, 4, 10, 0, 0][..],
            &[2, 32, 0, 16, 1, 2, 3, 4],
            &[9, 0, 0, 0],
            &[],
        ] {
            assert_eq!(inet_text(malformed), None, "{malformed:?}");
        }
    }

    #[test]
    fn ipv6_compresses_the_first_longest_zero_run() {
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("2001:db8::1", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("2001:0:0:1:0:0:2:3", "2001::1:0:0:2:3"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:0:1", "::ffff:0.0.0.1"),
            ("fe80::abcd:ef01", "fe80::abcd:ef01"),
        ];
        for (input, expected) in cases {
            let address: std::net::Ipv6Addr = input.parse().expect(input);
            assert_eq!(ipv6_text(address.octets()), expected, "{input}");
        }
    }

    #[test]
    fn macaddr_prints_lower_case_hex_pairs() {
        assert_eq!(
            macaddr_text(&[8, 0, 0x2b, 1, 2, 3]).as_deref(),
            Some("08:00:2b:01:02:03")
        );
        assert_eq!(
            macaddr_text(&[8, 0, 0x2b, 1, 2, 3, 4, 0xff]).as_deref(),
            Some("08:00:2b:01:02:03:04:ff")
        );
        assert_eq!(macaddr_text(&[1, 2, 3]), None);
    }

    #[test]
    fn array_elements_reads_one_dimension_with_nulls() {
        fn words(ints: &[i32]) -> Vec<u8> {
            ints.iter().flat_map(|int| int.to_be_bytes()).collect()
        }
        // ndim 1, has nulls, element oid, size 3, lower bound 1; "ab", NULL, "c".
        let mut bytes = words(&[1, 1, 25, 3, 1, 2]);
        bytes.extend_from_slice(b"ab");
        bytes.extend(words(&[-1, 1]));
        bytes.extend_from_slice(b"c");
        assert_eq!(
            array_elements(&bytes),
            Some(vec![Some(&b"ab"[..]), None, Some(&b"c"[..])])
        );
        assert_eq!(array_elements(&bytes[..bytes.len() - 1]), None, "truncated");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(array_elements(&trailing), None, "trailing bytes");
        assert_eq!(array_elements(&words(&[0, 0, 25])), Some(vec![]), "empty");
        assert_eq!(array_elements(&words(&[2, 0, 25, 1, 1, 1, 1])), None, "2-D");
    }

    #[test]
    fn dates_and_timestamps_decode_without_overflow() {
        let date = |days: i32| date_text(&days.to_be_bytes());
        let timestamp = |micros: i64| timestamp_text(&micros.to_be_bytes());
        assert_eq!(date(0).as_deref(), Some("2000-01-01"));
        assert_eq!(date(-1).as_deref(), Some("1999-12-31"));
        assert_eq!(date(i32::MAX).as_deref(), Some("infinity"));
        assert_eq!(date(i32::MIN).as_deref(), Some("-infinity"));
        assert_eq!(date(i32::MAX - 1), None, "beyond chrono's years");
        assert_eq!(timestamp(0).as_deref(), Some("2000-01-01 00:00:00"));
        assert_eq!(
            timestamp(86_400_000_000 + 68_123).as_deref(),
            Some("2000-01-02 00:00:00.068123")
        );
        assert_eq!(timestamp(-1).as_deref(), Some("1999-12-31 23:59:59.999999"));
        assert_eq!(timestamp(i64::MAX).as_deref(), Some("infinity"));
        assert_eq!(timestamp(i64::MIN).as_deref(), Some("-infinity"));
        assert_eq!(timestamp(i64::MAX - 1), None, "beyond chrono's years");
        assert_eq!(date_text(&[0, 0]), None);
    }
}

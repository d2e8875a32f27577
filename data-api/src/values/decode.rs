//! Data API field + `ColumnMetadata` → `sea_query::Value`.
//!
//! Each field becomes the variant its column's `typeName` calls for (table in the crate docs),
//! because SeaORM's proxy turns a variant mismatch into a silent `None`.

use aws_sdk_rdsdata::types::{ArrayValue, ColumnMetadata, Field};
#[cfg(feature = "postgres")]
use chrono::FixedOffset;
#[cfg(feature = "mysql")]
use chrono::Utc;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use sea_orm::sea_query::{ArrayType, Value};

use super::ValueError;
use crate::Engine;

/// `column` could not be read from `what` (a field, shortened, or a word on what was missing).
fn undecodable(column: &ColumnMetadata, what: String) -> ValueError {
    ValueError::Undecodable {
        column: column.name().unwrap_or_default().to_owned(),
        type_name: column.type_name().unwrap_or_default().to_owned(),
        field: what,
    }
}

/// How the fields of one result column decode, worked out once per result rather than per cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decoder<'a> {
    column: &'a ColumnMetadata,
    kind: Kind,
}

impl<'a> Decoder<'a> {
    /// The decoder for `column`, by its `typeName`.
    pub(crate) fn new(column: &'a ColumnMetadata, engine: Engine) -> Self {
        Self {
            column,
            kind: engine.kind_of(column.type_name().unwrap_or_default()),
        }
    }

    /// The decoder for `column` read as `kind`, whatever its `typeName` (SeaORM's own probes).
    pub(crate) fn with_kind(column: &'a ColumnMetadata, kind: Kind) -> Self {
        Self { column, kind }
    }

    /// The error for a record that has no field for this column.
    pub(crate) fn absent(&self) -> ValueError {
        undecodable(
            self.column,
            "nothing (the record is shorter than the column list)".to_owned(),
        )
    }

    /// The `Value` for `field` of this column.
    pub(crate) fn decode(&self, field: &Field) -> Result<Value, ValueError> {
        let bad = || {
            // The first 60 characters (not bytes: a cut inside a character would panic).
            let shown: String = format!("{field:?}").chars().take(60).collect();
            undecodable(self.column, shown)
        };
        if matches!(field, Field::IsNull(true)) {
            return Ok(self.kind.null());
        }
        decode(self.kind, field).ok_or_else(bad)
    }

    /// As [`Decoder::decode`], taking the field: text and bytes move into the `Value` instead of
    /// being copied (the response is dropped after decoding anyway).
    pub(crate) fn decode_owned(&self, field: Field) -> Result<Value, ValueError> {
        match (self.kind, field) {
            (Kind::String, Field::StringValue(text)) => Ok(Value::String(boxed(text))),
            (Kind::Bytes, Field::BlobValue(bytes)) => Ok(Value::Bytes(boxed(bytes.into_inner()))),
            (_, field) => self.decode(&field),
        }
    }
}

/// The Rust-side type a column decodes to.
///
/// A kind only one engine's type names give exists only with that engine's feature: MySQL's
/// `TINYINT`, unsigned integers and `TIMESTAMP` (UTC); PostgreSQL's `uuid`, `timestamptz` and typed arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    #[cfg(feature = "mysql")]
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    #[cfg(feature = "mysql")]
    TinyUnsigned,
    #[cfg(feature = "mysql")]
    SmallUnsigned,
    #[cfg(feature = "mysql")]
    Unsigned,
    #[cfg(feature = "mysql")]
    BigUnsigned,
    Float,
    Double,
    Decimal,
    String,
    Bytes,
    Json,
    #[cfg(feature = "postgres")]
    Uuid,
    Date,
    Time,
    DateTime,
    #[cfg(feature = "mysql")]
    DateTimeUtc,
    #[cfg(feature = "postgres")]
    DateTimeWithTimeZone,
    Array(ArrayKind),
}

/// Element kinds of arrays: PostgreSQL's typed arrays, and text (the one kind a MySQL answer has
/// been seen to carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayKind {
    #[cfg(feature = "postgres")]
    Bool,
    #[cfg(feature = "postgres")]
    SmallInt,
    #[cfg(feature = "postgres")]
    Int,
    #[cfg(feature = "postgres")]
    BigInt,
    #[cfg(feature = "postgres")]
    Float,
    #[cfg(feature = "postgres")]
    Double,
    #[cfg(feature = "postgres")]
    Decimal,
    String,
    #[cfg(feature = "postgres")]
    Uuid,
}

impl Kind {
    fn null(self) -> Value {
        match self {
            Kind::Bool => Value::Bool(None),
            #[cfg(feature = "mysql")]
            Kind::TinyInt => Value::TinyInt(None),
            Kind::SmallInt => Value::SmallInt(None),
            Kind::Int => Value::Int(None),
            Kind::BigInt => Value::BigInt(None),
            #[cfg(feature = "mysql")]
            Kind::TinyUnsigned => Value::TinyUnsigned(None),
            #[cfg(feature = "mysql")]
            Kind::SmallUnsigned => Value::SmallUnsigned(None),
            #[cfg(feature = "mysql")]
            Kind::Unsigned => Value::Unsigned(None),
            #[cfg(feature = "mysql")]
            Kind::BigUnsigned => Value::BigUnsigned(None),
            Kind::Float => Value::Float(None),
            Kind::Double => Value::Double(None),
            Kind::Decimal => Value::Decimal(None),
            Kind::String => Value::String(None),
            Kind::Bytes => Value::Bytes(None),
            Kind::Json => Value::Json(None),
            #[cfg(feature = "postgres")]
            Kind::Uuid => Value::Uuid(None),
            Kind::Date => Value::ChronoDate(None),
            Kind::Time => Value::ChronoTime(None),
            Kind::DateTime => Value::ChronoDateTime(None),
            #[cfg(feature = "mysql")]
            Kind::DateTimeUtc => Value::ChronoDateTimeUtc(None),
            #[cfg(feature = "postgres")]
            Kind::DateTimeWithTimeZone => Value::ChronoDateTimeWithTimeZone(None),
            Kind::Array(element) => Value::Array(element.array_type(), None),
        }
    }
}

impl ArrayKind {
    fn array_type(self) -> ArrayType {
        match self {
            #[cfg(feature = "postgres")]
            ArrayKind::Bool => ArrayType::Bool,
            #[cfg(feature = "postgres")]
            ArrayKind::SmallInt => ArrayType::SmallInt,
            #[cfg(feature = "postgres")]
            ArrayKind::Int => ArrayType::Int,
            #[cfg(feature = "postgres")]
            ArrayKind::BigInt => ArrayType::BigInt,
            #[cfg(feature = "postgres")]
            ArrayKind::Float => ArrayType::Float,
            #[cfg(feature = "postgres")]
            ArrayKind::Double => ArrayType::Double,
            #[cfg(feature = "postgres")]
            ArrayKind::Decimal => ArrayType::Decimal,
            ArrayKind::String => ArrayType::String,
            #[cfg(feature = "postgres")]
            ArrayKind::Uuid => ArrayType::Uuid,
        }
    }

    fn scalar(self) -> Kind {
        match self {
            #[cfg(feature = "postgres")]
            ArrayKind::Bool => Kind::Bool,
            #[cfg(feature = "postgres")]
            ArrayKind::SmallInt => Kind::SmallInt,
            #[cfg(feature = "postgres")]
            ArrayKind::Int => Kind::Int,
            #[cfg(feature = "postgres")]
            ArrayKind::BigInt => Kind::BigInt,
            #[cfg(feature = "postgres")]
            ArrayKind::Float => Kind::Float,
            #[cfg(feature = "postgres")]
            ArrayKind::Double => Kind::Double,
            #[cfg(feature = "postgres")]
            ArrayKind::Decimal => Kind::Decimal,
            ArrayKind::String => Kind::String,
            #[cfg(feature = "postgres")]
            ArrayKind::Uuid => Kind::Uuid,
        }
    }
}

fn text(field: &Field) -> Option<&str> {
    match field {
        Field::StringValue(v) => Some(v),
        _ => None,
    }
}

fn boxed<T>(v: T) -> Option<Box<T>> {
    Some(Box::new(v))
}

/// Decodes a non-null field; `None` when it does not fit.
fn decode(kind: Kind, field: &Field) -> Option<Value> {
    let long = match field {
        Field::LongValue(v) => Some(*v),
        _ => None,
    };
    Some(match kind {
        Kind::Bool => Value::Bool(Some(match field {
            Field::BooleanValue(v) => *v,
            Field::LongValue(v) => *v != 0,
            _ => return None,
        })),
        #[cfg(feature = "mysql")]
        Kind::TinyInt => Value::TinyInt(Some(i8::try_from(long?).ok()?)),
        Kind::SmallInt => Value::SmallInt(Some(i16::try_from(long?).ok()?)),
        Kind::Int => Value::Int(Some(i32::try_from(long?).ok()?)),
        Kind::BigInt => Value::BigInt(Some(long?)),
        #[cfg(feature = "mysql")]
        Kind::TinyUnsigned => Value::TinyUnsigned(Some(u8::try_from(long?).ok()?)),
        #[cfg(feature = "mysql")]
        Kind::SmallUnsigned => Value::SmallUnsigned(Some(u16::try_from(long?).ok()?)),
        #[cfg(feature = "mysql")]
        Kind::Unsigned => Value::Unsigned(Some(u32::try_from(long?).ok()?)),
        // Above i64::MAX the Data API sends BIGINT UNSIGNED as text.
        #[cfg(feature = "mysql")]
        Kind::BigUnsigned => Value::BigUnsigned(Some(match field {
            Field::LongValue(v) => u64::try_from(*v).ok()?,
            Field::StringValue(v) => v.parse().ok()?,
            _ => return None,
        })),
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a FLOAT column holds an f32"
        )]
        Kind::Float => Value::Float(Some(match field {
            Field::DoubleValue(v) => *v as f32,
            _ => return None,
        })),
        Kind::Double => Value::Double(Some(match field {
            Field::DoubleValue(v) => *v,
            _ => return None,
        })),
        Kind::Decimal => Value::Decimal(boxed(text(field)?.parse().ok()?)),
        Kind::String => Value::String(boxed(text(field)?.to_owned())),
        Kind::Bytes => Value::Bytes(boxed(match field {
            Field::BlobValue(b) => b.as_ref().to_vec(),
            _ => return None,
        })),
        Kind::Json => Value::Json(boxed(match field {
            Field::StringValue(v) => serde_json::from_str(v).ok()?,
            // MariaDB's JSON is a LONGTEXT with a binary collation; some servers send it as bytes.
            Field::BlobValue(b) => serde_json::from_slice(b.as_ref()).ok()?,
            _ => return None,
        })),
        #[cfg(feature = "postgres")]
        Kind::Uuid => Value::Uuid(boxed(text(field)?.parse().ok()?)),
        Kind::Date => Value::ChronoDate(boxed(
            NaiveDate::parse_from_str(text(field)?, "%Y-%m-%d").ok()?,
        )),
        Kind::Time => Value::ChronoTime(boxed(
            NaiveTime::parse_from_str(text(field)?, "%H:%M:%S%.f").ok()?,
        )),
        Kind::DateTime => Value::ChronoDateTime(boxed(parse_timestamp(text(field)?)?)),
        #[cfg(feature = "mysql")]
        Kind::DateTimeUtc => Value::ChronoDateTimeUtc(boxed(
            DateTime::<Utc>::from_naive_utc_and_offset(parse_timestamp(text(field)?)?, Utc),
        )),
        #[cfg(feature = "postgres")]
        Kind::DateTimeWithTimeZone => Value::ChronoDateTimeWithTimeZone(boxed(
            DateTime::<FixedOffset>::from_naive_utc_and_offset(
                parse_timestamp(text(field)?)?,
                FixedOffset::east_opt(0)?,
            ),
        )),
        Kind::Array(element) => {
            let Field::ArrayValue(array) = field else {
                return None;
            };
            Value::Array(element.array_type(), boxed(array_values(element, array)?))
        }
    })
}

/// `YYYY-MM-DD HH:MM:SS[.fffffffff]`, as chrono's `%Y-%m-%d %H:%M:%S%.f` reads it.
///
/// Results of a few hundred rows carry a timestamp per row, and chrono interprets its format string
/// on every call, so the Data API's one shape is read by hand; anything else (years beyond four
/// digits, leap seconds, more than nine fraction digits, …) goes to chrono, so the two agree on
/// every input (a property test checks).
fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    fast_timestamp(text.as_bytes())
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok())
}

/// [`parse_timestamp`]'s fast path; `None` for anything it does not read (chrono then decides).
fn fast_timestamp(b: &[u8]) -> Option<NaiveDateTime> {
    fn digits(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    }
    if b.len() < 19 || [b[4], b[7], b[10], b[13], b[16]] != *b"-- ::" {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - u32::try_from(fraction.len()).ok()?)
        }
        _ => return None,
    };
    // Second 60 (a leap second) is chrono's to read.
    let time = (second < 60)
        .then(|| NaiveTime::from_hms_nano_opt(hour, minute, second, nanos))
        .flatten()?;
    Some(date.and_time(time))
}

fn array_values(element: ArrayKind, array: &ArrayValue) -> Option<Vec<Value>> {
    let scalar = element.scalar();
    let one = |field: Option<Field>| match field {
        Some(field) => decode(scalar, &field),
        None => Some(scalar.null()),
    };
    match array {
        ArrayValue::BooleanValues(v) => v.iter().map(|b| one(b.map(Field::BooleanValue))).collect(),
        ArrayValue::LongValues(v) => v.iter().map(|n| one(n.map(Field::LongValue))).collect(),
        ArrayValue::DoubleValues(v) => v.iter().map(|n| one(n.map(Field::DoubleValue))).collect(),
        ArrayValue::StringValues(v) => v
            .iter()
            .map(|s| one(s.clone().map(Field::StringValue)))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use proptest::prelude::*;

    use super::{Decoder, parse_timestamp};
    use crate::Engine;

    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()
    }

    #[test]
    fn timestamps_read_as_chrono_reads_them() {
        for text in [
            "2026-11-27 06:30:00",
            "2026-11-27 06:30:00.5",
            "2026-11-27 06:30:00.123456",
            "2026-11-27 06:30:00.123456789",
            "2026-11-27 06:30:00.1234567891",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999",
            "2024-02-29 12:00:00",
            "2023-02-29 12:00:00",
            "2026-13-01 00:00:00",
            "2026-11-27 24:00:00",
            "2026-11-27 23:59:60",
            "2026-11-27 23:59:60.5",
            "2026-11-27T06:30:00",
            "2026-11-27 06:30:00.",
            "2026-11-27 06:30:00Z",
            "12026-11-27 06:30:00",
            "+2026-11-27 06:30:00",
            "2026-1-27 06:30:00",
            "2026-11-27 6:30:00",
            "",
        ] {
            assert_eq!(parse_timestamp(text), chrono(text), "{text:?}");
        }
        assert!(parse_timestamp("2026-11-27 06:30:00.25").is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn the_fast_path_agrees_with_chrono(
            text in "[0-9+-]{0,2}[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?[Z ]?"
        ) {
            prop_assert_eq!(parse_timestamp(&text), chrono(&text));
        }

        #[test]
        fn valid_timestamps_agree_with_chrono(
            year in 1i32..=9999, month in 1u32..=12, day in 1u32..=31,
            hour in 0u32..=24, minute in 0u32..=60, second in 0u32..=61,
            fraction in "(\\.[0-9]{1,10})?",
        ) {
            let text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{fraction}");
            prop_assert_eq!(parse_timestamp(&text), chrono(&text));
        }
    }

    #[test]
    fn taking_a_field_decodes_it_as_borrowing_does() {
        use aws_sdk_rdsdata::primitives::Blob;
        use aws_sdk_rdsdata::types::{ColumnMetadata, Field};
        #[cfg(feature = "mysql")]
        let (engine, types) = (
            Engine::MySql,
            [
                "VARCHAR", "BLOB", "INT", "DECIMAL", "JSON", "DATETIME", "BIT",
            ],
        );
        #[cfg(not(feature = "mysql"))]
        let (engine, types) = (
            Engine::Postgres,
            [
                "text",
                "bytea",
                "int4",
                "numeric",
                "jsonb",
                "timestamp",
                "bool",
            ],
        );
        let fields = [
            Field::StringValue("héllo".into()),
            Field::StringValue(String::new()),
            Field::StringValue("12.50".into()),
            Field::StringValue("{\"a\": 1}".into()),
            Field::StringValue("2026-11-27 06:30:00".into()),
            Field::BlobValue(Blob::new(vec![0, 1, 255])),
            Field::LongValue(7),
            Field::BooleanValue(true),
            Field::IsNull(true),
        ];
        for type_name in types {
            let column = ColumnMetadata::builder()
                .name("c")
                .type_name(type_name)
                .build();
            let decoder = Decoder::new(&column, engine);
            for field in &fields {
                let borrowed = decoder.decode(field).map_err(|e| e.to_string());
                let owned = decoder
                    .decode_owned(field.clone())
                    .map_err(|e| e.to_string());
                assert_eq!(owned, borrowed, "{type_name} {field:?}");
            }
        }
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn an_undecodable_multi_byte_field_is_an_error_not_a_panic() {
        let column = aws_sdk_rdsdata::types::ColumnMetadata::builder()
            .name("id")
            .type_name("uuid")
            .build();
        let field = aws_sdk_rdsdata::types::Field::StringValue("€".repeat(100));
        let error = Decoder::new(&column, Engine::Postgres)
            .decode(&field)
            .unwrap_err()
            .to_string();
        // `StringValue("` and 47 of the euros: 60 characters (and 154 bytes).
        let shown = format!("StringValue(\"{}", "€".repeat(47));
        assert_eq!(error, format!("column id: cannot read {shown} as uuid"));
    }
}

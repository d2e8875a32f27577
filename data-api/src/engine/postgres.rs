//! Aurora PostgreSQL: pgJDBC's `typeName`s, double-quoted identifiers, `timestamp`/`time` casts,
//! uuids with their `typeHint`, and arrays (sent as an array literal cast to the array type, since the
//! Data API takes no array parameters). Feature `postgres`.

use aws_sdk_rdsdata::types::TypeHint;
use sea_orm::sea_query::{ArrayType, Value};

use super::Casts;
use crate::values::decode::ArrayKind;
use crate::values::encode::{Outgoing, null, string};
use crate::values::{Kind, ValueError};

pub(super) const IDENTIFIER_QUOTE: char = '"';

/// `Paginator::num_items` reads PostgreSQL's `COUNT(*)` as `i64`, which it is.
pub(super) const COUNT_KIND: Kind = Kind::BigInt;

pub(super) const EXACT_CASTS: Casts = Casts {
    time: "time",
    timestamp: "timestamp",
};

pub(super) const UUID_HINT: Option<TypeHint> = Some(TypeHint::Uuid);

/// The kind for a column's `typeName` (pgJDBC's spelling).
pub(super) fn kind_of(type_name: &str) -> Kind {
    match type_name {
        "bool" => Kind::Bool,
        "int2" => Kind::SmallInt,
        "int4" | "oid" => Kind::Int,
        "int8" => Kind::BigInt,
        "float4" => Kind::Float,
        "float8" => Kind::Double,
        "numeric" => Kind::Decimal,
        "bytea" => Kind::Bytes,
        "json" | "jsonb" => Kind::Json,
        "uuid" => Kind::Uuid,
        "date" => Kind::Date,
        "time" => Kind::Time,
        "timestamp" => Kind::DateTime,
        "timestamptz" => Kind::DateTimeWithTimeZone,
        "_bool" => Kind::Array(ArrayKind::Bool),
        "_int2" => Kind::Array(ArrayKind::SmallInt),
        "_int4" => Kind::Array(ArrayKind::Int),
        "_int8" => Kind::Array(ArrayKind::BigInt),
        "_float4" => Kind::Array(ArrayKind::Float),
        "_float8" => Kind::Array(ArrayKind::Double),
        "_numeric" => Kind::Array(ArrayKind::Decimal),
        "_uuid" => Kind::Array(ArrayKind::Uuid),
        name if name.starts_with('_') => Kind::Array(ArrayKind::String),
        // text, varchar, bpchar, name, citext, enums (by their own name), …
        _ => Kind::String,
    }
}

/// PostgreSQL arrays travel as an array literal cast to the array type.
pub(super) fn array_parameter(
    name: &str,
    kind: &ArrayType,
    values: Option<&Vec<Value>>,
) -> Result<Outgoing, ValueError> {
    let element = pg_array_element(kind)?;
    let cast = Some(format!("{element}[]"));
    let Some(values) = values else {
        return Ok(Outgoing {
            parameter: null(name),
            cast,
        });
    };
    let mut literal = String::from("{");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        match element_text(value)? {
            None => literal.push_str("NULL"),
            Some(text) => {
                literal.push('"');
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        literal.push('\\');
                    }
                    literal.push(c);
                }
                literal.push('"');
            }
        }
    }
    literal.push('}');
    Ok(Outgoing {
        parameter: string(name, literal, None),
        cast,
    })
}

fn pg_array_element(kind: &ArrayType) -> Result<&'static str, ValueError> {
    Ok(match kind {
        ArrayType::Bool => "bool",
        ArrayType::TinyInt | ArrayType::SmallInt | ArrayType::TinyUnsigned => "int2",
        ArrayType::Int | ArrayType::SmallUnsigned => "int4",
        ArrayType::BigInt | ArrayType::Unsigned => "int8",
        ArrayType::BigUnsigned | ArrayType::Decimal => "numeric",
        ArrayType::Float => "float4",
        ArrayType::Double => "float8",
        ArrayType::String | ArrayType::Char => "text",
        ArrayType::Bytes => "bytea",
        ArrayType::Json => "jsonb",
        ArrayType::ChronoDate => "date",
        ArrayType::ChronoTime => "time",
        ArrayType::ChronoDateTime => "timestamp",
        ArrayType::ChronoDateTimeUtc
        | ArrayType::ChronoDateTimeLocal
        | ArrayType::ChronoDateTimeWithTimeZone => "timestamptz",
        ArrayType::Uuid => "uuid",
        #[allow(
            unreachable_patterns,
            reason = "variants behind features we do not enable"
        )]
        other => return Err(ValueError::Unsendable(format!("an array of {other:?}"))),
    })
}

/// An array element as PostgreSQL array-literal text (`None` for NULL).
fn element_text(value: &Value) -> Result<Option<String>, ValueError> {
    Ok(match value {
        Value::Bool(v) => v.map(|v| v.to_string()),
        Value::TinyInt(v) => v.map(|v| v.to_string()),
        Value::SmallInt(v) => v.map(|v| v.to_string()),
        Value::Int(v) => v.map(|v| v.to_string()),
        Value::BigInt(v) => v.map(|v| v.to_string()),
        Value::TinyUnsigned(v) => v.map(|v| v.to_string()),
        Value::SmallUnsigned(v) => v.map(|v| v.to_string()),
        Value::Unsigned(v) => v.map(|v| v.to_string()),
        Value::BigUnsigned(v) => v.map(|v| v.to_string()),
        Value::Float(v) => v.map(|v| v.to_string()),
        Value::Double(v) => v.map(|v| v.to_string()),
        Value::String(v) => v.as_deref().cloned(),
        Value::Char(v) => v.map(|v| v.to_string()),
        Value::Bytes(v) => v.as_deref().map(|b| {
            let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("\\x{hex}")
        }),
        Value::Json(v) => v.as_deref().map(ToString::to_string),
        Value::ChronoDate(v) => v.as_deref().map(|d| d.format("%Y-%m-%d").to_string()),
        Value::ChronoTime(v) => v.as_deref().map(|t| t.format("%H:%M:%S%.f").to_string()),
        Value::ChronoDateTime(v) => v
            .as_deref()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Value::ChronoDateTimeUtc(v) => v.as_deref().map(|t| t.to_rfc3339()),
        Value::ChronoDateTimeLocal(v) => v.as_deref().map(|t| t.to_rfc3339()),
        Value::ChronoDateTimeWithTimeZone(v) => v.as_deref().map(|t| t.to_rfc3339()),
        Value::Uuid(v) => v.as_deref().map(|u| u.hyphenated().to_string()),
        Value::Decimal(v) => v.as_deref().map(ToString::to_string),
        other => {
            return Err(ValueError::Unsendable(format!(
                "the array element {other:?}"
            )));
        }
    })
}

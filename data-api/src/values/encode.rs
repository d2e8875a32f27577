//! `sea_query::Value` → `SqlParameter`.
//!
//! Every value becomes a typed `SqlParameter`, so PostgreSQL never sees a uuid, timestamp, numeric
//! or jsonb as text: booleans, integers and floats use their own members; `DECIMAL`, `DATE`, `TIME`,
//! `TIMESTAMP`, `JSON` and `UUID` use the matching `typeHint`. Where a hint cannot carry the value
//! the placeholder gets a cast instead ([`Outgoing::cast`]): timestamps and times with
//! sub-millisecond digits (hints take at most three), `u64` above `i64::MAX` (sent as an exact
//! decimal), and PostgreSQL arrays (the Data API takes no array parameters: they travel as an array
//! literal cast to the array type). Date-times with a time zone are sent in UTC.

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};
use chrono::{NaiveDateTime, NaiveTime, Timelike};
use sea_orm::sea_query::{ArrayType, Value};

use super::ValueError;
use crate::Engine;

/// A parameter ready to send, and the cast its placeholder needs.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) parameter: SqlParameter,
    /// SQL type to `CAST(:p AS …)` the placeholder to.
    pub(crate) cast: Option<String>,
}

fn string(name: &str, text: String, hint: Option<TypeHint>) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::StringValue(text))
        .set_type_hint(hint)
        .build()
}

fn field(name: &str, value: Field) -> SqlParameter {
    SqlParameter::builder().name(name).value(value).build()
}

fn null(name: &str) -> SqlParameter {
    field(name, Field::IsNull(true))
}

/// `YYYY-MM-DD HH:MM:SS[.fff]`, or `None` when the time has digits below the millisecond.
fn timestamp_text(value: NaiveDateTime) -> (String, bool) {
    let (time, exact) = time_text(value.time());
    (format!("{} {time}", value.date().format("%Y-%m-%d")), exact)
}

/// `HH:MM:SS[.fff]` and whether that is exact; else `HH:MM:SS.ffffff` (microseconds).
fn time_text(value: NaiveTime) -> (String, bool) {
    let nanos = value.nanosecond() % 1_000_000_000;
    if nanos.is_multiple_of(1_000_000) {
        let text = if nanos == 0 {
            value.format("%H:%M:%S").to_string()
        } else {
            value.format("%H:%M:%S%.3f").to_string()
        };
        (text, true)
    } else {
        (value.format("%H:%M:%S%.6f").to_string(), false)
    }
}

fn temporal(
    name: &str,
    engine: Engine,
    (text, exact): (String, bool),
    hint: TypeHint,
    mysql_cast: &str,
    postgres_cast: &str,
) -> Outgoing {
    if exact {
        Outgoing {
            parameter: string(name, text, Some(hint)),
            cast: None,
        }
    } else {
        Outgoing {
            parameter: string(name, text, None),
            cast: Some(
                match engine {
                    Engine::MySql => mysql_cast,
                    Engine::Postgres => postgres_cast,
                }
                .to_owned(),
            ),
        }
    }
}

fn plain(parameter: SqlParameter) -> Outgoing {
    Outgoing {
        parameter,
        cast: None,
    }
}

/// The parameter `name` for `value`.
pub(crate) fn parameter(name: &str, value: &Value, engine: Engine) -> Result<Outgoing, ValueError> {
    let long = |v: i64| plain(field(name, Field::LongValue(v)));
    Ok(match value {
        Value::Bool(Some(v)) => plain(field(name, Field::BooleanValue(*v))),
        Value::TinyInt(Some(v)) => long((*v).into()),
        Value::SmallInt(Some(v)) => long((*v).into()),
        Value::Int(Some(v)) => long((*v).into()),
        Value::BigInt(Some(v)) => long(*v),
        Value::TinyUnsigned(Some(v)) => long((*v).into()),
        Value::SmallUnsigned(Some(v)) => long((*v).into()),
        Value::Unsigned(Some(v)) => long((*v).into()),
        Value::BigUnsigned(Some(v)) => match i64::try_from(*v) {
            Ok(v) => long(v),
            // Beyond longValue: an exact decimal the engine converts on assignment.
            Err(_) => plain(string(name, v.to_string(), Some(TypeHint::Decimal))),
        },
        Value::Float(Some(v)) => double(name, f64::from(*v))?,
        Value::Double(Some(v)) => double(name, *v)?,
        Value::String(Some(v)) => plain(string(name, v.as_ref().clone(), None)),
        Value::Char(Some(v)) => plain(string(name, v.to_string(), None)),
        Value::Bytes(Some(v)) => {
            plain(field(name, Field::BlobValue(Blob::new(v.as_ref().clone()))))
        }
        Value::Json(Some(v)) => plain(string(name, v.to_string(), Some(TypeHint::Json))),
        Value::ChronoDate(Some(v)) => plain(string(
            name,
            v.format("%Y-%m-%d").to_string(),
            Some(TypeHint::Date),
        )),
        Value::ChronoTime(Some(v)) => temporal(
            name,
            engine,
            time_text(**v),
            TypeHint::Time,
            "TIME(6)",
            "time",
        ),
        Value::ChronoDateTime(Some(v)) => temporal(
            name,
            engine,
            timestamp_text(**v),
            TypeHint::Timestamp,
            "DATETIME(6)",
            "timestamp",
        ),
        Value::ChronoDateTimeUtc(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::ChronoDateTimeLocal(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::ChronoDateTimeWithTimeZone(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::Uuid(Some(v)) => plain(string(
            name,
            v.hyphenated().to_string(),
            // MySQL has no uuid type: the text goes to a CHAR(36) column as it is.
            (engine == Engine::Postgres).then_some(TypeHint::Uuid),
        )),
        Value::Decimal(Some(v)) => plain(string(name, v.to_string(), Some(TypeHint::Decimal))),
        Value::Array(kind, values) => array(name, engine, kind, values.as_deref())?,
        // NULL of any other type: untyped, so the engine infers it from context.
        other if is_null(other) => plain(null(name)),
        other => {
            return Err(ValueError::Unsendable(format!("{other:?}")));
        }
    })
}

fn is_null(value: &Value) -> bool {
    matches!(
        value,
        Value::Bool(None)
            | Value::TinyInt(None)
            | Value::SmallInt(None)
            | Value::Int(None)
            | Value::BigInt(None)
            | Value::TinyUnsigned(None)
            | Value::SmallUnsigned(None)
            | Value::Unsigned(None)
            | Value::BigUnsigned(None)
            | Value::Float(None)
            | Value::Double(None)
            | Value::String(None)
            | Value::Char(None)
            | Value::Bytes(None)
            | Value::Json(None)
            | Value::ChronoDate(None)
            | Value::ChronoTime(None)
            | Value::ChronoDateTime(None)
            | Value::ChronoDateTimeUtc(None)
            | Value::ChronoDateTimeLocal(None)
            | Value::ChronoDateTimeWithTimeZone(None)
            | Value::Uuid(None)
            | Value::Decimal(None)
    )
}

fn double(name: &str, v: f64) -> Result<Outgoing, ValueError> {
    if !v.is_finite() {
        return Err(ValueError::Unsendable(format!(
            "the non-finite number {v} (the Data API's doubleValue is JSON)"
        )));
    }
    Ok(plain(field(name, Field::DoubleValue(v))))
}

fn utc(name: &str, engine: Engine, v: NaiveDateTime) -> Outgoing {
    temporal(
        name,
        engine,
        timestamp_text(v),
        TypeHint::Timestamp,
        "DATETIME(6)",
        "timestamp",
    )
}

/// PostgreSQL arrays travel as an array literal cast to the array type.
fn array(
    name: &str,
    engine: Engine,
    kind: &ArrayType,
    values: Option<&Vec<Value>>,
) -> Result<Outgoing, ValueError> {
    if engine == Engine::MySql {
        return Err(ValueError::Unsendable("an array to MySQL".into()));
    }
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

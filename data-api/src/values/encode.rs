//! `sea_query::Value` → `SqlParameter`.
//!
//! Every value becomes a typed `SqlParameter`, so PostgreSQL never sees a uuid, timestamp, numeric
//! or jsonb as text: booleans, integers and floats use their own members; `DECIMAL`, `DATE`, `TIME`,
//! `TIMESTAMP`, `JSON` and `UUID` use the matching `typeHint`. Where a hint cannot carry the value
//! the placeholder gets a cast instead ([`Outgoing::cast`]): timestamps and times with
//! sub-millisecond digits (hints take at most three), `u64` above `i64::MAX` (sent as an exact
//! decimal), and PostgreSQL arrays (the Data API takes no array parameters: they travel as an array
//! literal cast to the array type). Date-times with a time zone are sent in UTC. What differs by
//! engine (the casts, the uuid hint, arrays) comes from [`crate::engine`].

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};
use chrono::{NaiveDateTime, NaiveTime, Timelike};
use sea_orm::sea_query::Value;

use super::ValueError;
use crate::Engine;

/// A parameter ready to send, and the cast its placeholder needs.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) parameter: SqlParameter,
    /// SQL type to `CAST(:p AS …)` the placeholder to.
    pub(crate) cast: Option<String>,
}

pub(crate) fn string(name: &str, text: String, hint: Option<TypeHint>) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::StringValue(text))
        .set_type_hint(hint)
        .build()
}

fn field(name: &str, value: Field) -> SqlParameter {
    SqlParameter::builder().name(name).value(value).build()
}

pub(crate) fn null(name: &str) -> SqlParameter {
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

/// A date-time or time: with its `typeHint` when the text is exact to the millisecond, else as text
/// cast to `cast` (hints carry at most three fraction digits).
fn temporal(name: &str, (text, exact): (String, bool), hint: TypeHint, cast: &str) -> Outgoing {
    if exact {
        Outgoing {
            parameter: string(name, text, Some(hint)),
            cast: None,
        }
    } else {
        Outgoing {
            parameter: string(name, text, None),
            cast: Some(cast.to_owned()),
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
            time_text(**v),
            TypeHint::Time,
            engine.exact_temporal_casts().time,
        ),
        Value::ChronoDateTime(Some(v)) => temporal(
            name,
            timestamp_text(**v),
            TypeHint::Timestamp,
            engine.exact_temporal_casts().timestamp,
        ),
        Value::ChronoDateTimeUtc(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::ChronoDateTimeLocal(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::ChronoDateTimeWithTimeZone(Some(v)) => utc(name, engine, v.naive_utc()),
        Value::Uuid(Some(v)) => plain(string(name, v.hyphenated().to_string(), engine.uuid_hint())),
        Value::Decimal(Some(v)) => plain(string(name, v.to_string(), Some(TypeHint::Decimal))),
        Value::Array(kind, values) => engine.array_parameter(name, kind, values.as_deref())?,
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
        timestamp_text(v),
        TypeHint::Timestamp,
        engine.exact_temporal_casts().timestamp,
    )
}

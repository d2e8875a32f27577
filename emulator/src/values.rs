//! `SqlParameter` → [`BindValue`]: names matched to the SQL, `typeHint` formats checked strictly.
//!
//! Rules (where AWS is unverified, the stricter reading, as documented in the README):
//! - every `:name` in the SQL needs a parameter, and every parameter must be used (`BadRequestException`);
//! - a parameter without `name` or `value`, a repeated name, or an `arrayValue` is refused;
//! - a `typeHint` applies to `stringValue` only; its text must match the documented format exactly:
//!   `DATE` `YYYY-MM-DD`, `TIME` `HH:MM:SS[.FFF]`, `TIMESTAMP` `YYYY-MM-DD HH:MM:SS[.FFF]` (no `T`,
//!   no `Z`, no offset, at most three fractional digits), `DECIMAL` plain decimal text, `JSON` valid
//!   JSON, `UUID` the 8-4-4-4-12 hex form.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::backend::BindValue;
use crate::protocol::error::ApiError;
use crate::protocol::{Field, SqlParameter, TypeHint};

/// Values in bind order for `binds` (names from the rewritten SQL).
///
/// # Errors
/// `BadRequestException` naming the parameter and the rule it breaks.
pub fn bind_values(
    binds: &[String],
    parameters: &[SqlParameter],
) -> Result<Vec<BindValue>, ApiError> {
    let mut by_name: HashMap<&str, &SqlParameter> = HashMap::with_capacity(parameters.len());
    for parameter in parameters {
        let name = parameter
            .name
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("a parameter has no name"))?;
        if by_name.insert(name, parameter).is_some() {
            return Err(ApiError::bad_request(format!(
                "parameter {name:?} is given more than once"
            )));
        }
    }
    for name in by_name.keys() {
        if !binds.iter().any(|b| b == name) {
            return Err(ApiError::bad_request(format!(
                "parameter {name:?} is not used in the SQL statement"
            )));
        }
    }
    binds
        .iter()
        .map(|name| {
            let parameter = by_name.get(name.as_str()).ok_or_else(|| {
                ApiError::bad_request(format!("no value is given for the parameter :{name}"))
            })?;
            convert(name, parameter)
        })
        .collect()
}

fn convert(name: &str, parameter: &SqlParameter) -> Result<BindValue, ApiError> {
    let value = parameter
        .value
        .as_ref()
        .ok_or_else(|| ApiError::bad_request(format!("parameter {name:?} has no value")))?;
    let hint = parameter.type_hint;
    if hint.is_some() && !matches!(value, Field::StringValue(_)) {
        return Err(ApiError::bad_request(format!(
            "parameter {name:?}: a typeHint applies only to a stringValue"
        )));
    }
    Ok(match value {
        Field::IsNull(true) => BindValue::Null,
        Field::IsNull(false) => {
            return Err(ApiError::bad_request(format!(
                "parameter {name:?}: isNull must be true"
            )));
        }
        Field::BooleanValue(v) => BindValue::Bool(*v),
        Field::LongValue(v) => BindValue::Long(*v),
        Field::DoubleValue(v) => BindValue::Double(*v),
        Field::BlobValue(v) => BindValue::Bytes(v.0.clone()),
        Field::ArrayValue(_) => {
            return Err(ApiError::bad_request("Array parameters are not supported."));
        }
        Field::StringValue(text) => match hint {
            None => BindValue::Text(text.clone()),
            Some(hint) => hinted(name, hint, text)?,
        },
    })
}

fn hinted(name: &str, hint: TypeHint, text: &str) -> Result<BindValue, ApiError> {
    let invalid = |what: &str| {
        ApiError::bad_request(format!(
            "parameter {name:?}: {text:?} is not a valid {what} (expected {})",
            match hint {
                TypeHint::Date => "YYYY-MM-DD",
                TypeHint::Time => "HH:MM:SS[.FFF]",
                TypeHint::Timestamp => "YYYY-MM-DD HH:MM:SS[.FFF]",
                TypeHint::Decimal => "decimal digits with an optional sign and point",
                TypeHint::Json => "JSON text",
                TypeHint::Uuid => "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            }
        ))
    };
    Ok(match hint {
        TypeHint::Date => BindValue::Date(parse_date(text).ok_or_else(|| invalid("DATE"))?),
        TypeHint::Time => BindValue::Time(parse_time(text).ok_or_else(|| invalid("TIME"))?),
        TypeHint::Timestamp => {
            let (date, time) = text.split_once(' ').ok_or_else(|| invalid("TIMESTAMP"))?;
            let date = parse_date(date).ok_or_else(|| invalid("TIMESTAMP"))?;
            let time = parse_time(time).ok_or_else(|| invalid("TIMESTAMP"))?;
            BindValue::Timestamp(NaiveDateTime::new(date, time))
        }
        TypeHint::Decimal => {
            if !is_decimal(text) {
                return Err(invalid("DECIMAL"));
            }
            BindValue::Decimal(text.to_owned())
        }
        TypeHint::Json => {
            serde_json::from_str::<serde_json::Value>(text).map_err(|_| invalid("JSON"))?;
            BindValue::Json(text.to_owned())
        }
        TypeHint::Uuid => {
            let uuid = uuid::Uuid::parse_str(text)
                .ok()
                .filter(|_| text.len() == 36)
                .ok_or_else(|| invalid("UUID"))?;
            BindValue::Uuid(uuid)
        }
    })
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y, m, d]
            if y.len() == 4
                && m.len() == 2
                && d.len() == 2
                && digits(y)
                && digits(m)
                && digits(d) =>
        {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
        }
        _ => None,
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (text, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    if ![h, m, s].iter().all(|p| p.len() == 2 && digits(p)) {
        return None;
    }
    if let Some(fraction) = fraction
        && (!(1..=3).contains(&fraction.len()) || !digits(fraction))
    {
        return None;
    }
    NaiveTime::parse_from_str(
        text,
        if fraction.is_some() {
            "%H:%M:%S%.f"
        } else {
            "%H:%M:%S"
        },
    )
    .ok()
}

fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned.split_once('.') {
        Some((int, frac)) => {
            (digits(int) || int.is_empty())
                && (digits(frac) || frac.is_empty())
                && !(int.is_empty() && frac.is_empty())
        }
        None => digits(unsigned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ErrorCode;

    fn param(name: &str, value: Field, hint: Option<TypeHint>) -> SqlParameter {
        SqlParameter {
            name: Some(name.into()),
            value: Some(value),
            type_hint: hint,
        }
    }

    fn hint(hint: TypeHint, text: &str) -> Result<BindValue, ApiError> {
        bind_values(
            &["p".into()],
            &[param("p", Field::StringValue(text.into()), Some(hint))],
        )
        .map(|mut v| v.remove(0))
    }

    #[test]
    fn hints_accept_the_documented_formats() {
        let ok = [
            (TypeHint::Date, "2023-08-15"),
            (TypeHint::Time, "19:57:42"),
            (TypeHint::Time, "19:57:42.4"),
            (TypeHint::Time, "19:57:42.417"),
            (TypeHint::Timestamp, "2023-08-15 19:57:42"),
            (TypeHint::Timestamp, "2023-08-15 19:57:42.417"),
            (TypeHint::Decimal, "123456.7890"),
            (TypeHint::Decimal, "-0.5"),
            (TypeHint::Decimal, "+12"),
            (TypeHint::Decimal, "12."),
            (TypeHint::Decimal, ".5"),
            (TypeHint::Json, r#"{"a": [1, null]}"#),
            (TypeHint::Json, "3"),
            (TypeHint::Uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ];
        for (h, text) in ok {
            assert!(
                hint(h, text).is_ok(),
                "{h:?} {text:?} refused: {:?}",
                hint(h, text)
            );
        }
    }

    #[test]
    fn hints_refuse_iso_forms_and_anything_loose() {
        let bad = [
            (TypeHint::Date, "2023-8-15"),
            (TypeHint::Date, "2023-02-30"),
            (TypeHint::Date, "20230815"),
            (TypeHint::Date, "2023-08-15 "),
            (TypeHint::Time, "7:57:42"),
            (TypeHint::Time, "19:57"),
            (TypeHint::Time, "19:57:42.4170"),
            (TypeHint::Time, "25:00:00"),
            (TypeHint::Time, "19:57:42Z"),
            (TypeHint::Timestamp, "2023-08-15T19:57:42.417Z"),
            (TypeHint::Timestamp, "2023-08-15T19:57:42"),
            (TypeHint::Timestamp, "2023-08-15 19:57:42Z"),
            (TypeHint::Timestamp, "2023-08-15 19:57:42+02:00"),
            (TypeHint::Timestamp, "2023-08-15"),
            (TypeHint::Decimal, "1e5"),
            (TypeHint::Decimal, "NaN"),
            (TypeHint::Decimal, "."),
            (TypeHint::Decimal, "1,5"),
            (TypeHint::Decimal, ""),
            (TypeHint::Json, "{a: 1}"),
            (TypeHint::Uuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11"),
            (TypeHint::Uuid, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
            (TypeHint::Uuid, "not-a-uuid"),
        ];
        for (h, text) in bad {
            let error = hint(h, text).expect_err(&format!("{h:?} {text:?} accepted"));
            assert_eq!(error.code, ErrorCode::BadRequestException);
            assert!(error.message.contains("\"p\""), "{error}");
        }
    }

    #[test]
    fn names_must_match_the_sql_both_ways() {
        let long = |n| param(n, Field::LongValue(1), None);
        assert!(bind_values(&["a".into(), "a".into()], &[long("a")]).is_ok());
        for (binds, params, expected) in [
            (
                vec!["a".to_owned()],
                vec![],
                "no value is given for the parameter :a",
            ),
            (vec![], vec![long("a")], "not used"),
            (
                vec!["a".to_owned()],
                vec![long("a"), long("a")],
                "more than once",
            ),
        ] {
            let error = bind_values(&binds, &params).expect_err("refused");
            assert!(error.message.contains(expected), "{error}");
        }
        let array = param(
            "a",
            Field::ArrayValue(crate::protocol::ArrayValue::LongValues(vec![Some(1)])),
            None,
        );
        let error = bind_values(&["a".into()], &[array]).expect_err("arrays refused");
        assert_eq!(error.message, "Array parameters are not supported.");
        let hinted_long = param("a", Field::LongValue(1), Some(TypeHint::Decimal));
        assert!(bind_values(&["a".into()], &[hinted_long]).is_err());
    }
}

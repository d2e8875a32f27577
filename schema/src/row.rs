//! Reading discovery rows whatever the connection: a native driver and the Data API adapter give
//! the same catalogue column as different `Value` variants (text or bytes, `i32` or `i64`), so each
//! read accepts the variants a column can arrive as.
//!
//! A proxy row (the Data API adapter) is read from its `Value` directly: SeaORM reports a variant
//! mismatch on a proxy row as NULL, so trying one Rust type after another would read NULL.

use sea_orm::{DbErr, QueryResult, Value};

fn proxy_value(row: &QueryResult, i: usize) -> Option<Result<Value, DbErr>> {
    // By index as SeaORM reads a proxy row (the adapter keeps the select order first).
    let proxy = row.try_as_proxy_row()?;
    Some(
        proxy
            .values
            .values()
            .nth(i)
            .cloned()
            .ok_or_else(|| DbErr::Type(format!("no column {i}"))),
    )
}

fn value_text(value: Value, i: usize) -> Result<Option<String>, DbErr> {
    Ok(match value {
        Value::String(s) => s.map(|s| *s),
        Value::Char(c) => c.map(String::from),
        Value::Bytes(b) => b.map(|b| String::from_utf8_lossy(&b).into_owned()),
        other => value_int(other, i)?.map(|n| n.to_string()),
    })
}

fn value_int(value: Value, i: usize) -> Result<Option<i64>, DbErr> {
    let overflow = || DbErr::Type(format!("column {i}: integer out of range"));
    Ok(match value {
        Value::TinyInt(v) => v.map(i64::from),
        Value::SmallInt(v) => v.map(i64::from),
        Value::Int(v) => v.map(i64::from),
        Value::BigInt(v) => v,
        Value::TinyUnsigned(v) => v.map(i64::from),
        Value::SmallUnsigned(v) => v.map(i64::from),
        Value::Unsigned(v) => v.map(i64::from),
        Value::BigUnsigned(v) => v.map(i64::try_from).transpose().map_err(|_| overflow())?,
        Value::String(Some(s)) => Some(
            s.trim()
                .parse()
                .map_err(|_| DbErr::Type(format!("column {i}: `{s}` is not an integer")))?,
        ),
        Value::String(None) | Value::Bytes(None) | Value::Char(None) => None,
        other => {
            return Err(DbErr::Type(format!(
                "column {i}: {other:?} is neither text nor an integer"
            )));
        }
    })
}

/// Column `i` as text (also from bytes, as MySQL 8 sends some catalogue columns).
pub(crate) fn string_opt(row: &QueryResult, i: usize) -> Result<Option<String>, DbErr> {
    if let Some(value) = proxy_value(row, i) {
        return value_text(value?, i);
    }
    if let Ok(v) = row.try_get_by_index::<Option<String>>(i) {
        return Ok(v);
    }
    let bytes = row.try_get_by_index::<Option<Vec<u8>>>(i)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Column `i` as text; NULL reads as the empty string.
pub(crate) fn string(row: &QueryResult, i: usize) -> Result<String, DbErr> {
    Ok(string_opt(row, i)?.unwrap_or_default())
}

/// Column `i` as an integer, whichever integer (or numeric text) variant it arrives as.
pub(crate) fn int_opt(row: &QueryResult, i: usize) -> Result<Option<i64>, DbErr> {
    if let Some(value) = proxy_value(row, i) {
        return value_int(value?, i);
    }
    if let Ok(v) = row.try_get_by_index::<Option<i64>>(i) {
        return Ok(v);
    }
    if let Ok(v) = row.try_get_by_index::<Option<i32>>(i) {
        return Ok(v.map(i64::from));
    }
    if let Ok(v) = row.try_get_by_index::<Option<i16>>(i) {
        return Ok(v.map(i64::from));
    }
    if let Ok(v) = row.try_get_by_index::<Option<u64>>(i) {
        return v
            .map(|v| i64::try_from(v).map_err(|_| DbErr::Type(format!("column {i}: {v}"))))
            .transpose();
    }
    if let Ok(v) = row.try_get_by_index::<Option<u32>>(i) {
        return Ok(v.map(i64::from));
    }
    match string_opt(row, i)? {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| DbErr::Type(format!("column {i}: `{text}` is not an integer"))),
    }
}

/// Column `i` as an `i32` (catalogue lengths and positions).
pub(crate) fn i32_opt(row: &QueryResult, i: usize) -> Result<Option<i32>, DbErr> {
    int_opt(row, i)?
        .map(|v| {
            i32::try_from(v).map_err(|_| DbErr::Type(format!("column {i}: {v} overflows i32")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text_or_integers_whatever_their_variant() {
        let text = |v| value_text(v, 0).expect("reads");
        assert_eq!(
            text(Value::String(Some(Box::new("a".into())))),
            Some("a".into())
        );
        assert_eq!(
            text(Value::Bytes(Some(Box::new(b"b".to_vec())))),
            Some("b".into())
        );
        assert_eq!(text(Value::Int(Some(7))), Some("7".into()));
        assert_eq!(text(Value::String(None)), None);
        let int = |v| value_int(v, 0).expect("reads");
        assert_eq!(int(Value::Int(Some(10))), Some(10));
        assert_eq!(int(Value::BigUnsigned(Some(3))), Some(3));
        assert_eq!(int(Value::String(Some(Box::new(" 42".into())))), Some(42));
        assert_eq!(int(Value::Int(None)), None);
        assert!(value_int(Value::Double(Some(1.5)), 0).is_err());
        assert!(value_int(Value::BigUnsigned(Some(u64::MAX)), 0).is_err());
    }
}

//! A MySQL row's values by the column's [`Kind`], as the Data API returns them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::mysql::MySqlRow;
use sqlx::mysql::types::MySqlTime;
use sqlx::{Column as _, Row, TypeInfo};

use super::kind::Kind;
use crate::backend::{Error, Result, Value, format_timestamp};

/// A decoding failure, naming the column and its type.
fn decode_error(row: &MySqlRow, i: usize, error: impl Into<BoxDynError>) -> Error {
    let column = &row.columns()[i];
    Error::Decode {
        column: column.name().to_owned(),
        type_name: column.type_info().name().to_owned(),
        source: error.into(),
    }
}

macro_rules! get {
    ($row:expr, $i:expr, $t:ty) => {
        $row.try_get::<Option<$t>, _>($i)
            .map_err(|e| decode_error($row, $i, e))?
    };
}

/// Column `i` as the text the server sent, `None` for NULL. Unchecked, because sqlx's `String`
/// refuses a JSON column (MySQL 8) and a character column in a `_bin` collation; MySQL sends
/// DECIMAL as text too, so its digits and scale pass through unparsed (no 28-digit limit).
fn text(row: &MySqlRow, i: usize) -> Result<Option<&str>> {
    row.try_get_unchecked::<Option<&str>, _>(i)
        .map_err(|e| decode_error(row, i, e))
}

/// TIME as `HH:MM:SS[.f]` (trailing fractional zeros trimmed), with a sign and more than 24 hours
/// where MySQL's range (-838:59:59 to 838:59:59) goes beyond a time of day; chrono's `NaiveTime`
/// would lose the sign.
fn time_text(time: &MySqlTime) -> String {
    let sign = if time.sign().is_negative() { "-" } else { "" };
    let mut text = format!(
        "{sign}{:02}:{:02}:{:02}",
        time.hours(),
        time.minutes(),
        time.seconds()
    );
    if time.microseconds() > 0 {
        let fraction = format!("{:06}", time.microseconds());
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

pub(super) fn value(row: &MySqlRow, i: usize, kind: Kind) -> Result<Value> {
    let value = match kind {
        Kind::Boolean => get!(row, i, bool).map(Value::Bool),
        Kind::Bit1 => get!(row, i, u64).map(|v| Value::Bool(v != 0)),
        Kind::Signed => get!(row, i, i64).map(Value::Int),
        Kind::Unsigned => get!(row, i, u64).map(Value::UInt),
        Kind::Float => get!(row, i, f32).map(|v| Value::Double(v.into())),
        Kind::Double => get!(row, i, f64).map(Value::Double),
        Kind::Decimal => text(row, i)?.map(|v| Value::Decimal(v.to_owned())),
        Kind::Text | Kind::Json => text(row, i)?.map(|v| Value::Text(v.to_owned())),
        Kind::Blob => get!(row, i, Vec<u8>).map(Value::Bytes),
        // %F is YYYY-MM-DD.
        Kind::Date => get!(row, i, NaiveDate).map(|v| Value::Text(v.format("%F").to_string())),
        Kind::Time => get!(row, i, MySqlTime).map(|v| Value::Text(time_text(&v))),
        Kind::DateTime => get!(row, i, NaiveDateTime).map(|v| Value::Text(format_timestamp(v))),
        Kind::Timestamp => {
            get!(row, i, DateTime<Utc>).map(|v| Value::Text(format_timestamp(v.naive_utc())))
        }
        Kind::Null => None,
    };
    Ok(value.unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use sqlx::mysql::types::{MySqlTime, MySqlTimeSign};

    use super::time_text;

    #[test]
    fn time_keeps_the_sign_and_hours_beyond_a_day() {
        let cases = [
            (MySqlTimeSign::Positive, 10, 0, 0, 0, "10:00:00"),
            (MySqlTimeSign::Positive, 10, 0, 0, 500_000, "10:00:00.5"),
            (MySqlTimeSign::Positive, 838, 59, 59, 0, "838:59:59"),
            (MySqlTimeSign::Negative, 1, 2, 3, 0, "-01:02:03"),
            (MySqlTimeSign::Negative, 0, 0, 0, 68_123, "-00:00:00.068123"),
        ];
        for (sign, hours, minutes, seconds, micros, expected) in cases {
            let time = MySqlTime::new(sign, hours, minutes, seconds, micros).expect(expected);
            assert_eq!(time_text(&time), expected);
        }
    }
}

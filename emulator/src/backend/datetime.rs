//! Dates and times as the Data API prints them.

use chrono::{NaiveDateTime, NaiveTime};

/// `YYYY-MM-DD HH:MM:SS[.f]` with trailing fractional zeros trimmed, as the Data API prints them.
pub(crate) fn format_timestamp(value: NaiveDateTime) -> String {
    format!(
        "{} {}",
        value.date().format("%Y-%m-%d"),
        format_time(value.time())
    )
}

/// `HH:MM:SS[.f]` with trailing fractional zeros trimmed.
pub(crate) fn format_time(value: NaiveTime) -> String {
    use chrono::Timelike;
    let mut text = value.format("%H:%M:%S").to_string();
    let micros = value.nanosecond() / 1_000;
    if micros > 0 {
        let fraction = format!("{micros:06}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_trim_trailing_fraction_zeros() {
        let cases = [
            ("10:00:00", "10:00:00"),
            ("10:00:00.5", "10:00:00.5"),
            ("10:00:00.123", "10:00:00.123"),
            ("10:00:00.068123", "10:00:00.068123"),
            ("10:00:00.100000", "10:00:00.1"),
        ];
        for (input, expected) in cases {
            let time = NaiveTime::parse_from_str(input, "%H:%M:%S%.f").expect("time");
            assert_eq!(format_time(time), expected);
        }
    }
}

//! PostgreSQL's binary `numeric`, both ways: a `DECIMAL`-hinted value encoded digit for digit, and a
//! result's numeric read as exact text with its scale.

use sqlx::Postgres;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};

/// A `DECIMAL`-hinted value bound as `numeric` digit for digit, in PostgreSQL's binary format
/// (`numeric_send`: ndigits, weight, sign, dscale, then base-10000 digits, each a big-endian 16-bit
/// word). No fixed-precision type sits in between (rust_decimal would keep only 28 significant
/// digits), and the scale is the one written: "1.50" binds as 1.50 (without the DECIMAL
/// hint a numeric parameter is not bound exactly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Numeric {
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
    pub(super) fn parse(text: &str) -> Result<Self, String> {
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

/// PostgreSQL's binary `numeric` as exact text with its display scale (`0.0000` for numeric(10,4)),
/// for any precision: ndigits, weight, sign, dscale (i16/u16 each), then base-10000 digit groups.
pub(super) fn numeric_text(bytes: &[u8]) -> Option<String> {
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

    use super::{Numeric, numeric_text};

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
}

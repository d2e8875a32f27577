//! Decoders of PostgreSQL's binary wire forms that sqlx does not decode the way the Data API prints
//! them: dates and timestamps (infinities, no overflow), inet/cidr, oid, macaddr, enum labels, and the
//! elements of a one-dimensional array.

use std::net::Ipv4Addr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use crate::backend::format_timestamp;

/// 2000-01-01 00:00, from which PostgreSQL's binary dates and timestamps count.
fn postgres_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .expect("a valid date")
        .and_time(NaiveTime::MIN)
}

/// date (days since 2000-01-01, i32) as `YYYY-MM-DD`. `infinity` and `-infinity` go out as
/// PostgreSQL prints them (unverified on AWS); a year beyond chrono's ±262143 is `None`, where
/// sqlx's own decoder panics.
pub(super) fn date_text(bytes: &[u8]) -> Option<String> {
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
pub(super) fn timestamp_text(bytes: &[u8]) -> Option<String> {
    Some(match i64::from_be_bytes(bytes.try_into().ok()?) {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        micros => {
            format_timestamp(postgres_epoch().checked_add_signed(TimeDelta::microseconds(micros))?)
        }
    })
}

/// Text whose binary form is its UTF-8 bytes (an enum label).
pub(super) fn utf8(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// The elements of a 0- or 1-D array in PostgreSQL's binary format (`array_send`): ndim, a has-nulls
/// flag and the element oid (i32 each), a size and a lower bound per dimension, then each element
/// as its length (-1 for NULL) and bytes. `None` when malformed or of more dimensions.
pub(super) fn array_elements(bytes: &[u8]) -> Option<Vec<Option<&[u8]>>> {
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
pub(super) fn inet_text(bytes: &[u8]) -> Option<String> {
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
pub(super) fn oid_text(bytes: &[u8]) -> Option<String> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?).to_string())
}

/// macaddr (6 bytes) / macaddr8 (8 bytes) as PostgreSQL prints them: `08:00:2b:01:02:03`.
pub(super) fn macaddr_text(bytes: &[u8]) -> Option<String> {
    matches!(bytes.len(), 6 | 8).then(|| {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    })
}

#[cfg(test)]
mod tests {
    use super::{array_elements, date_text, inet_text, ipv6_text, macaddr_text, timestamp_text};

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

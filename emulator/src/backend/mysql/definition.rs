//! The parts of a MySQL column definition sqlx reads but does not expose.

use sqlx::mysql::MySqlTypeInfo;

/// What sqlx-mysql 0.8.6 reads from a column definition but does not expose: the flags (SET) and the
/// length (the M of BIT(M)). `MySqlTypeInfo` has no accessors for them, so they are read from its
/// derived `Debug` (`MySqlTypeInfo { type: Bit, flags: ColumnFlags(UNSIGNED), max_size: Some(8) }`).
/// A test pins that format, so an sqlx upgrade that changes it fails there; an unreadable definition
/// has no flags and no length, which refuses every BIT (never a wrong boolean).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Definition {
    pub(super) flags: Vec<String>,
    pub(super) max_size: Option<u32>,
}

impl Definition {
    pub(super) fn of(info: &MySqlTypeInfo) -> Self {
        Self::parse(&format!("{info:?}"))
    }

    fn parse(debug: &str) -> Self {
        let inside = |prefix: &str| {
            debug
                .split_once(prefix)
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(inner, _)| inner.to_owned())
        };
        Self {
            flags: inside("flags: ColumnFlags(")
                .map(|flags| flags.split(" | ").map(str::to_owned).collect())
                .unwrap_or_default(),
            max_size: inside("max_size: Some(").and_then(|size| size.parse().ok()),
        }
    }

    pub(super) fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::mysql::MySqlTypeInfo;
    use sqlx::{MySql, Type};

    use super::Definition;

    #[test]
    fn definition_reads_flags_and_length_from_sqlx_debug_output() {
        let cases = [
            (
                <bool as Type<MySql>>::type_info(),
                &["UNSIGNED", "BINARY"][..],
                Some(1),
            ),
            (MySqlTypeInfo::__enum(), &["ENUM"][..], None),
            (<str as Type<MySql>>::type_info(), &["0x0"][..], None),
        ];
        for (info, flags, max_size) in cases {
            let definition = Definition::of(&info);
            assert_eq!(definition.flags, flags, "{info:?}");
            assert_eq!(definition.max_size, max_size, "{info:?}");
        }
    }

    #[test]
    fn definition_of_unreadable_text_is_empty() {
        assert_eq!(Definition::parse("Opaque"), Definition::default());
        assert_eq!(
            Definition::parse("X { flags: ColumnFlags(SET | BINARY), max_size: Some(x) }"),
            Definition {
                flags: vec!["SET".into(), "BINARY".into()],
                max_size: None
            }
        );
    }
}

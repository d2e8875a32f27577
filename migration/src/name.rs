//! What a migration's name looks like; shared by the crate and `build.rs` (which includes this file).

/// `m` + 8 digits + `_` + 6 digits + `_` + one or more word characters: the names
/// `sea-orm-cli migrate generate` writes (`m20261126_000001_create_users_table`).
pub(crate) fn is_migration_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 17
        && bytes[0] == b'm'
        && bytes[1..9].iter().all(u8::is_ascii_digit)
        && bytes[9] == b'_'
        && bytes[10..16].iter().all(u8::is_ascii_digit)
        && bytes[16] == b'_'
        && bytes[17..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

//! A MySQL result column as Connector/J's `ResultSetMetaData` names it: type code and name,
//! signedness, nullability and auto-increment from the column definition's flags, precision from
//! its length (the catalog adds the table).

use sqlx::mysql::MySqlColumn;
use sqlx::{Column as _, TypeInfo};

use super::definition::Definition;
use crate::backend::catalog::mysql_precision;
use crate::backend::{Column, Nullability};

/// The character type of a binary-collation column that sqlx named after a binary type (see
/// `catalog::character_columns`), sized by its length in bytes: MariaDB's JSON (LONGTEXT COLLATE
/// utf8mb4_bin) reads as LONGTEXT.
pub(super) fn text_type_name(binary: &str, max_size: Option<u32>) -> String {
    match (binary, max_size) {
        ("BINARY", _) => "CHAR",
        ("VARBINARY", _) => "VARCHAR",
        (_, Some(size)) if size > 16_777_215 => "LONGTEXT",
        (_, Some(size)) if size > 65_535 => "MEDIUMTEXT",
        (_, Some(size)) if size > 255 => "TEXT",
        (_, Some(_)) => "TINYTEXT",
        ("TINYBLOB", None) => "TINYTEXT",
        ("MEDIUMBLOB", None) => "MEDIUMTEXT",
        ("LONGBLOB", None) => "LONGTEXT",
        _ => "TEXT",
    }
    .to_owned()
}

/// Connector/J's `java.sql.Types` code for a type name as sqlx spells it.
pub(super) fn jdbc_type(name: &str) -> i32 {
    let base = name.trim_end_matches(" UNSIGNED");
    match base {
        "BOOLEAN" | "BIT" => -7,
        "TINYINT" => -6,
        "SMALLINT" => 5,
        "MEDIUMINT" | "INT" => 4,
        "BIGINT" => -5,
        "FLOAT" => 7,
        "DOUBLE" => 8,
        "DECIMAL" => 3,
        "CHAR" | "ENUM" | "SET" => 1,
        "VARCHAR" => 12,
        "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "JSON" => -1,
        "BINARY" => -2,
        "VARBINARY" => -3,
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => -4,
        "DATE" => 91,
        "TIME" => 92,
        "DATETIME" | "TIMESTAMP" => 93,
        "YEAR" => 91,
        _ => 1111,
    }
}

/// Connector/J's view of a column. Nullability and auto-increment come from the column definition's
/// flags; `precision` is the display size of fixed-size types, or a string's length
/// ([`length_precision`]); `tableName` and a DECIMAL's precision and scale are filled by
/// `catalog::complete_mysql` when metadata is asked for.
pub(super) fn metadata(column: &MySqlColumn) -> Column {
    let name = column.type_info().name();
    let definition = Definition::of(column.type_info());
    // Connector/J reports TINYINT(1) as BIT.
    let type_name = if name == "BOOLEAN" {
        "BIT".to_owned()
    } else {
        name.to_owned()
    };
    Column {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        type_code: jdbc_type(name),
        // sqlx names only the integers UNSIGNED; the flag also marks DECIMAL, FLOAT and DOUBLE.
        is_signed: !name.ends_with("UNSIGNED")
            && !definition.has_flag("UNSIGNED")
            && matches!(
                name,
                "TINYINT"
                    | "SMALLINT"
                    | "MEDIUMINT"
                    | "INT"
                    | "BIGINT"
                    | "FLOAT"
                    | "DOUBLE"
                    | "DECIMAL"
            ),
        nullable: if definition.flags.is_empty() && definition.max_size.is_none() {
            Nullability::Unknown
        } else if definition.has_flag("NOT_NULL") {
            Nullability::NoNulls
        } else {
            Nullability::Nullable
        },
        is_auto_increment: definition.has_flag("AUTO_INCREMENT"),
        precision: match mysql_precision(&type_name) {
            0 => length_precision(name, &definition),
            fixed => fixed,
        },
        type_name,
        ..Column::default()
    }
}

/// Connector/J's precision of a string column: its length in characters (the server sends it in bytes
/// of the result character set, utf8mb4 on every emulator session: four a character), or in bytes for
/// the binary types (sqlx names a `_bin`-collated character column binary too: its length is then
/// four times the characters, as Connector/J would still report it in bytes of a binary column).
fn length_precision(name: &str, definition: &Definition) -> i32 {
    let Some(bytes) = definition.max_size else {
        return 0;
    };
    let length = match name {
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "JSON" => {
            bytes / 4
        }
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => bytes,
        _ => return 0,
    };
    i32::try_from(length).unwrap_or(i32::MAX)
}

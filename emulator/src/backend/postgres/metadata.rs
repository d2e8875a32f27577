//! A PostgreSQL result column as pgJDBC's `ResultSetMetaData` names it (the catalog adds table,
//! nullability, precision and scale).

use sqlx::postgres::{PgColumn, PgTypeInfo, PgTypeKind};
use sqlx::{Column as _, TypeInfo};

use crate::backend::{Column, Nullability};

/// pgJDBC's `java.sql.Types` code for a PostgreSQL type name.
fn jdbc_type(name: &str, kind: &PgTypeKind) -> i32 {
    if matches!(kind, PgTypeKind::Array(_)) {
        return 2003;
    }
    match name {
        "bool" => -7,
        "int2" => 5,
        "int4" => 4,
        "int8" => -5,
        "float4" => 7,
        "float8" => 8,
        "numeric" => 2,
        "bpchar" => 1,
        "varchar" | "text" | "name" => 12,
        "bytea" => -2,
        "date" => 91,
        "time" | "timetz" => 92,
        "timestamp" | "timestamptz" => 93,
        _ => 1111,
    }
}

/// pgJDBC spelling: internal lower-case names, `_elem` for arrays.
fn type_name(info: &PgTypeInfo) -> String {
    let name = info.name();
    match info.kind() {
        PgTypeKind::Array(elem) => format!("_{}", elem.name().to_ascii_lowercase()),
        PgTypeKind::Simple => match name {
            "BOOL" | "INT2" | "INT4" | "INT8" | "FLOAT4" | "FLOAT8" | "NUMERIC" | "TEXT"
            | "VARCHAR" | "BPCHAR" | "NAME" | "UUID" | "JSON" | "JSONB" | "BYTEA" | "DATE"
            | "TIME" | "TIMETZ" | "TIMESTAMP" | "TIMESTAMPTZ" | "VOID" | "OID" | "INET"
            | "CIDR" | "MONEY" | "INTERVAL" | "XML" => name.to_ascii_lowercase(),
            // sqlx calls bpchar "CHAR" and the one-byte internal type "\"CHAR\"".
            "CHAR" => "bpchar".to_owned(),
            "\"CHAR\"" => "char".to_owned(),
            other => other.to_owned(),
        },
        _ => name.to_owned(),
    }
}

pub(super) fn metadata(column: &PgColumn) -> Column {
    let info = column.type_info();
    let type_name = type_name(info);
    let type_code = jdbc_type(&type_name, info.kind());
    Column {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        is_signed: matches!(
            type_name.as_str(),
            "int2" | "int4" | "int8" | "float4" | "float8" | "numeric"
        ),
        is_case_sensitive: matches!(type_name.as_str(), "text" | "varchar" | "bpchar" | "name"),
        nullable: Nullability::Unknown,
        type_code,
        type_name,
        ..Column::default()
    }
}

//! Aurora MySQL: Connector/J's `typeName`s, backtick-quoted identifiers, `DATETIME(6)`/`TIME(6)`
//! casts, uuids as text and no arrays. Feature `mysql`.

use aws_sdk_rdsdata::types::TypeHint;
use sea_orm::sea_query::{ArrayType, Value};

use super::Casts;
use crate::values::decode::ArrayKind;
use crate::values::encode::Outgoing;
use crate::values::{Kind, ValueError};

pub(super) const IDENTIFIER_QUOTE: char = '`';

/// `Paginator::num_items` reads MySQL's `COUNT(*)` (a `BIGINT`) as `i32`.
pub(super) const COUNT_KIND: Kind = Kind::Int;

pub(super) const EXACT_CASTS: Casts = Casts {
    time: "TIME(6)",
    timestamp: "DATETIME(6)",
};

/// MySQL has no uuid type: the text goes to a `CHAR(36)` column as it is.
pub(super) const UUID_HINT: Option<TypeHint> = None;

/// MySQL has no array type, and the Data API takes no array parameters.
pub(super) fn array_parameter(
    _name: &str,
    _kind: &ArrayType,
    _values: Option<&Vec<Value>>,
) -> Result<Outgoing, ValueError> {
    Err(ValueError::Unsendable("an array to MySQL".into()))
}

/// The kind for a column's `typeName` (Connector/J's spelling).
pub(super) fn kind_of(type_name: &str) -> Kind {
    match type_name {
        "BIT" | "BOOL" | "BOOLEAN" => Kind::Bool,
        "TINYINT" => Kind::TinyInt,
        "SMALLINT" => Kind::SmallInt,
        "MEDIUMINT" | "INT" | "INTEGER" => Kind::Int,
        "BIGINT" => Kind::BigInt,
        "TINYINT UNSIGNED" => Kind::TinyUnsigned,
        "SMALLINT UNSIGNED" => Kind::SmallUnsigned,
        "MEDIUMINT UNSIGNED" | "INT UNSIGNED" | "INTEGER UNSIGNED" => Kind::Unsigned,
        "BIGINT UNSIGNED" => Kind::BigUnsigned,
        "FLOAT" | "FLOAT UNSIGNED" => Kind::Float,
        "DOUBLE" | "DOUBLE UNSIGNED" | "REAL" => Kind::Double,
        "DECIMAL" | "DECIMAL UNSIGNED" => Kind::Decimal,
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => Kind::Bytes,
        "JSON" => Kind::Json,
        "DATE" => Kind::Date,
        "TIME" => Kind::Time,
        "DATETIME" => Kind::DateTime,
        "TIMESTAMP" => Kind::DateTimeUtc,
        // MySQL has no arrays, but a captured answer has a `_VARCHAR` column with an
        // `arrayValue` (jeremydaly/data-api-client `test/sample-query-response.json`).
        name if name.starts_with('_') => Kind::Array(ArrayKind::String),
        _ => Kind::String,
    }
}

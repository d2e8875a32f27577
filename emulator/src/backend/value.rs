//! What a statement yields, in the backend's own terms: row values read from the engine, and each
//! result column as the JDBC driver behind the Data API describes it (`java.sql.ResultSetMetaData`).
//!
//! The wire's `Field` and `ColumnMetadata` are made from these in `protocol::records`, which also
//! applies the request's `resultSetOptions`; the backend never sees either.

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean (PostgreSQL `bool`, MySQL `TINYINT(1)` and `BIT(1)`).
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (MySQL `… UNSIGNED`), which may exceed `i64::MAX`.
    UInt(u64),
    /// A floating-point number.
    Double(f64),
    /// An exact decimal as the engine prints it, scale kept (`0.0000` for `DECIMAL(10,4)`).
    Decimal(String),
    /// Text, and values the Data API returns as text (dates, times, UUIDs, network addresses).
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A one-dimensional array (PostgreSQL).
    Array(Array),
}

/// The elements of a one-dimensional array, any of which may be NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Integers.
    Int(Vec<Option<i64>>),
    /// Floating-point numbers.
    Double(Vec<Option<f64>>),
    /// Text (also numerics, dates and the like, as text).
    Text(Vec<Option<String>>),
}

/// Whether a column may hold NULL (`ResultSetMetaData.isNullable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nullability {
    /// `columnNoNulls` (0).
    NoNulls,
    /// `columnNullable` (1).
    Nullable,
    /// `columnNullableUnknown` (2): an expression, or a column the catalog does not describe.
    #[default]
    Unknown,
}

/// A result column, as pgJDBC's or Connector/J's `ResultSetMetaData` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    /// `getColumnName`.
    pub name: String,
    /// `getColumnLabel`.
    pub label: String,
    /// `getColumnType`: a `java.sql.Types` code.
    pub type_code: i32,
    /// `getColumnTypeName`, in the driver's spelling (`INT UNSIGNED`, `_text`).
    pub type_name: String,
    /// `getTableName`: the column's table, `""` for an expression.
    pub table_name: String,
    /// `isAutoIncrement`.
    pub is_auto_increment: bool,
    /// `isSigned`.
    pub is_signed: bool,
    /// `isCurrency`.
    pub is_currency: bool,
    /// `isCaseSensitive`.
    pub is_case_sensitive: bool,
    /// `isNullable`.
    pub nullable: Nullability,
    /// `getPrecision`: digits, a string's length, or a display size.
    pub precision: i32,
    /// `getScale`.
    pub scale: i32,
}

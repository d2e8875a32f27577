//! Wire shapes of the RDS Data API (`rds-data` 2018-08-01, restJson1), named as AWS names them.
//!
//! Unions (`Field`, `ArrayValue`) are serde externally-tagged enums, so a value with no member, two
//! members, an unknown member or a `null` member (`{"stringValue": null}`) is refused while parsing,
//! never guessed at. This module knows nothing of SQL engines: it sees the backend only through the
//! backend's own vocabulary (rows of `Value`, `Column`, `Error`), which [`records`] and [`error`] turn
//! into wire shapes.

pub mod error;
pub mod records;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `Field`: one value, exactly one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// `{"isNull": true}`: SQL NULL.
    IsNull(bool),
    /// `booleanValue`.
    BooleanValue(bool),
    /// `longValue` (64-bit signed).
    LongValue(i64),
    /// `doubleValue`.
    DoubleValue(f64),
    /// `stringValue`.
    StringValue(String),
    /// `blobValue`, base64 on the wire.
    BlobValue(Blob),
    /// `arrayValue` (results only; array parameters are refused).
    ArrayValue(ArrayValue),
}

/// `ArrayValue`: a 1-D array whose elements may be null, or an array of arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ArrayValue {
    /// `booleanValues`.
    BooleanValues(Vec<Option<bool>>),
    /// `longValues`.
    LongValues(Vec<Option<i64>>),
    /// `doubleValues`.
    DoubleValues(Vec<Option<f64>>),
    /// `stringValues`.
    StringValues(Vec<Option<String>>),
    /// `arrayValues`.
    ArrayValues(Vec<Option<ArrayValue>>),
}

/// Bytes carried as base64 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Blob)
            .map_err(|e| serde::de::Error::custom(format!("blobValue is not valid base64: {e}")))
    }
}

/// `TypeHint`: how a `stringValue` parameter is to be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TypeHint {
    /// `JSON`.
    Json,
    /// `UUID`.
    Uuid,
    /// `TIMESTAMP`: `YYYY-MM-DD HH:MM:SS[.FFF]`.
    Timestamp,
    /// `DATE`: `YYYY-MM-DD`.
    Date,
    /// `TIME`: `HH:MM:SS[.FFF]`.
    Time,
    /// `DECIMAL`: numeric text.
    Decimal,
}

/// `SqlParameter`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlParameter {
    /// The name used as `:name` in the SQL.
    pub name: Option<String>,
    /// The value.
    pub value: Option<Field>,
    /// How to bind a `stringValue`.
    pub type_hint: Option<TypeHint>,
}

/// `RecordsFormatType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordsFormatType {
    /// `records` and `columnMetadata` (default).
    #[default]
    None,
    /// `formattedRecords`, one JSON string.
    Json,
}

/// `DecimalReturnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DecimalReturnType {
    /// Exact text (default).
    #[default]
    String,
    /// `longValue` or `doubleValue` (lossy).
    DoubleOrLong,
}

/// `LongReturnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LongReturnType {
    /// `stringValue`.
    String,
    /// `longValue` (default).
    #[default]
    Long,
}

/// `ResultSetOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultSetOptions {
    /// How DECIMAL columns come back.
    #[serde(default)]
    pub decimal_return_type: DecimalReturnType,
    /// How integer columns come back.
    #[serde(default)]
    pub long_return_type: LongReturnType,
}

/// `ExecuteStatement` input (`POST /Execute`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecuteStatementRequest {
    /// Cluster ARN.
    pub resource_arn: String,
    /// Secret ARN.
    pub secret_arn: String,
    /// One SQL statement.
    pub sql: String,
    /// Database on the server.
    pub database: Option<String>,
    /// Refused on v2.
    pub schema: Option<String>,
    /// Named parameters.
    #[serde(default)]
    pub parameters: Vec<SqlParameter>,
    /// Joins this transaction.
    pub transaction_id: Option<String>,
    /// Return `columnMetadata`.
    #[serde(default)]
    pub include_result_metadata: bool,
    /// Let the statement run on after the timeout.
    #[serde(default)]
    pub continue_after_timeout: bool,
    /// `records` or `formattedRecords`.
    #[serde(default)]
    pub format_records_as: RecordsFormatType,
    /// Decimal and long encodings.
    pub result_set_options: Option<ResultSetOptions>,
}

/// `ColumnMetadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMetadata {
    /// Column name.
    pub name: String,
    /// java.sql.Types code.
    #[serde(rename = "type")]
    pub type_code: i32,
    /// Engine's type name (Connector/J or pgJDBC spelling).
    pub type_name: String,
    /// Column label.
    pub label: String,
    /// Always `""` on Aurora.
    pub schema_name: String,
    /// Source table, `""` when unknown.
    pub table_name: String,
    /// Auto-increment column.
    pub is_auto_increment: bool,
    /// Signed numeric.
    pub is_signed: bool,
    /// Currency.
    pub is_currency: bool,
    /// Case-sensitive.
    pub is_case_sensitive: bool,
    /// 0 no nulls, 1 nullable, 2 unknown.
    pub nullable: i32,
    /// Precision / display size.
    pub precision: i32,
    /// Scale.
    pub scale: i32,
    /// Element type of arrays (0).
    pub array_base_column_type: i32,
}

/// `ExecuteStatement` output.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteStatementResponse {
    /// Rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Vec<Field>>>,
    /// With `includeResultMetadata`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_metadata: Option<Vec<ColumnMetadata>>,
    /// Rows changed.
    pub number_of_records_updated: i64,
    /// MySQL auto-increment keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_fields: Option<Vec<Field>>,
    /// With `formatRecordsAs: JSON`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_records: Option<String>,
}

/// `BatchExecuteStatement` input (`POST /BatchExecute`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchExecuteStatementRequest {
    /// Cluster ARN.
    pub resource_arn: String,
    /// Secret ARN.
    pub secret_arn: String,
    /// One SQL statement, run once per parameter set.
    pub sql: String,
    /// Database on the server.
    pub database: Option<String>,
    /// Refused on v2.
    pub schema: Option<String>,
    /// Parameter sets.
    #[serde(default)]
    pub parameter_sets: Vec<Vec<SqlParameter>>,
    /// Joins this transaction.
    pub transaction_id: Option<String>,
}

/// `UpdateResult`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResult {
    /// MySQL auto-increment key of this set.
    pub generated_fields: Vec<Field>,
}

/// `BatchExecuteStatement` output.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchExecuteStatementResponse {
    /// One per parameter set.
    pub update_results: Vec<UpdateResult>,
}

/// `BeginTransaction` input (`POST /BeginTransaction`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BeginTransactionRequest {
    /// Cluster ARN.
    pub resource_arn: String,
    /// Secret ARN.
    pub secret_arn: String,
    /// Database on the server.
    pub database: Option<String>,
    /// Refused on v2.
    pub schema: Option<String>,
}

/// `BeginTransaction` output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BeginTransactionResponse {
    /// Opaque id, at most 192 characters.
    pub transaction_id: String,
}

/// `CommitTransaction` / `RollbackTransaction` input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndTransactionRequest {
    /// Cluster ARN.
    pub resource_arn: String,
    /// Secret ARN.
    pub secret_arn: String,
    /// The transaction.
    pub transaction_id: String,
}

/// `CommitTransaction` / `RollbackTransaction` output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndTransactionResponse {
    /// `"Transaction Committed"` or `"Rollback Complete"`.
    pub transaction_status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_serialise_with_exactly_one_member() {
        let cases = [
            (Field::IsNull(true), json!({"isNull": true})),
            (Field::LongValue(-5), json!({"longValue": -5})),
            (Field::StringValue("a".into()), json!({"stringValue": "a"})),
            (
                Field::BlobValue(Blob(b"hello".to_vec())),
                json!({"blobValue": "aGVsbG8="}),
            ),
            (
                Field::ArrayValue(ArrayValue::LongValues(vec![Some(1), None, Some(3)])),
                json!({"arrayValue": {"longValues": [1, null, 3]}}),
            ),
        ];
        for (field, expected) in cases {
            assert_eq!(serde_json::to_value(&field).expect("serialises"), expected);
            assert_eq!(
                serde_json::from_value::<Field>(expected).expect("parses"),
                field
            );
        }
    }

    #[test]
    fn malformed_unions_are_refused() {
        for bad in [
            json!({}),
            json!({"stringValue": null}),
            json!({"stringValue": "a", "longValue": 1}),
            json!({"textValue": "a"}),
            json!({"longValue": "1"}),
            json!({"blobValue": "not base64!"}),
            json!({"longValue": 9_223_372_036_854_775_808_u64}),
        ] {
            assert!(
                serde_json::from_value::<Field>(bad.clone()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn requests_refuse_unknown_members_and_need_the_required_ones() {
        let ok = json!({"resourceArn": "r", "secretArn": "s", "sql": "SELECT 1"});
        assert!(serde_json::from_value::<ExecuteStatementRequest>(ok).is_ok());
        for bad in [
            json!({"secretArn": "s", "sql": "SELECT 1"}),
            json!({"resourceArn": "r", "secretArn": "s"}),
            json!({"resourceArn": "r", "secretArn": "s", "sql": "SELECT 1", "sqlText": "x"}),
            json!({"resourceArn": "r", "secretArn": "s", "sql": "SELECT 1", "formatRecordsAs": "CSV"}),
        ] {
            assert!(
                serde_json::from_value::<ExecuteStatementRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}

//! A statement's rows and columns from the backend ([`Value`], [`Column`]) as the wire's [`Field`]
//! and [`ColumnMetadata`], with the request's `resultSetOptions` applied.

use crate::backend::{Array, Column, Nullability, Value};

use super::{
    ArrayValue, Blob, ColumnMetadata, DecimalReturnType, Field, LongReturnType, ResultSetOptions,
};

/// One row's values as `Field`s.
pub fn row(values: Vec<Value>, options: ResultSetOptions) -> Vec<Field> {
    values
        .into_iter()
        .map(|value| field(value, options))
        .collect()
}

/// One value as a `Field`.
pub fn field(value: Value, options: ResultSetOptions) -> Field {
    match value {
        Value::Null => Field::IsNull(true),
        Value::Bool(v) => Field::BooleanValue(v),
        Value::Int(v) => long(v, options),
        // Above i64::MAX a long cannot hold it: the exact digits go out as a string (unverified on
        // AWS).
        Value::UInt(v) => match i64::try_from(v) {
            Ok(v) => long(v, options),
            Err(_) => Field::StringValue(v.to_string()),
        },
        Value::Double(v) => Field::DoubleValue(v),
        Value::Decimal(text) => decimal(text, options),
        Value::Text(v) => Field::StringValue(v),
        Value::Bytes(v) => Field::BlobValue(Blob(v)),
        // Elements of a numeric array stay exact text whatever the decimalReturnType, which speaks
        // of single values.
        Value::Array(array) => Field::ArrayValue(match array {
            Array::Bool(v) => ArrayValue::BooleanValues(v),
            Array::Int(v) => ArrayValue::LongValues(v),
            Array::Double(v) => ArrayValue::DoubleValues(v),
            Array::Text(v) => ArrayValue::StringValues(v),
        }),
    }
}

/// DECIMAL text out, per `resultSetOptions.decimalReturnType`.
fn decimal(text: String, options: ResultSetOptions) -> Field {
    match options.decimal_return_type {
        DecimalReturnType::String => Field::StringValue(text),
        DecimalReturnType::DoubleOrLong => match text.parse::<i64>() {
            Ok(long) => Field::LongValue(long),
            Err(_) => text
                .parse::<f64>()
                .map_or(Field::StringValue(text), Field::DoubleValue),
        },
    }
}

/// An integer out, per `resultSetOptions.longReturnType`.
fn long(value: i64, options: ResultSetOptions) -> Field {
    match options.long_return_type {
        LongReturnType::Long => Field::LongValue(value),
        LongReturnType::String => Field::StringValue(value.to_string()),
    }
}

impl From<Column> for ColumnMetadata {
    fn from(column: Column) -> Self {
        Self {
            name: column.name,
            type_code: column.type_code,
            type_name: column.type_name,
            label: column.label,
            // Aurora sends "" (captured responses of both engines).
            schema_name: String::new(),
            table_name: column.table_name,
            is_auto_increment: column.is_auto_increment,
            is_signed: column.is_signed,
            is_currency: column.is_currency,
            is_case_sensitive: column.is_case_sensitive,
            nullable: match column.nullable {
                Nullability::NoNulls => 0,
                Nullability::Nullable => 1,
                Nullability::Unknown => 2,
            },
            precision: column.precision,
            scale: column.scale,
            // 0 in every captured response, arrays included.
            array_base_column_type: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_choose_how_integers_and_decimals_go_out() {
        let long_string = ResultSetOptions {
            long_return_type: LongReturnType::String,
            ..ResultSetOptions::default()
        };
        let double_or_long = ResultSetOptions {
            decimal_return_type: DecimalReturnType::DoubleOrLong,
            ..ResultSetOptions::default()
        };
        let cases = [
            (
                Value::Int(7),
                ResultSetOptions::default(),
                Field::LongValue(7),
            ),
            (Value::Int(7), long_string, Field::StringValue("7".into())),
            (
                Value::UInt(u64::MAX),
                ResultSetOptions::default(),
                Field::StringValue(u64::MAX.to_string()),
            ),
            (Value::UInt(3), long_string, Field::StringValue("3".into())),
            (
                Value::Decimal("1.50".into()),
                ResultSetOptions::default(),
                Field::StringValue("1.50".into()),
            ),
            (
                Value::Decimal("1.50".into()),
                double_or_long,
                Field::DoubleValue(1.5),
            ),
            (
                Value::Decimal("12".into()),
                double_or_long,
                Field::LongValue(12),
            ),
            (
                Value::Array(Array::Text(vec![Some("1.50".into()), None])),
                double_or_long,
                Field::ArrayValue(ArrayValue::StringValues(vec![Some("1.50".into()), None])),
            ),
            (Value::Null, long_string, Field::IsNull(true)),
        ];
        for (value, options, expected) in cases {
            assert_eq!(
                field(value.clone(), options),
                expected,
                "{value:?} {options:?}"
            );
        }
    }

    #[test]
    fn columns_carry_jdbc_nullability_codes() {
        for (nullability, code) in [
            (Nullability::NoNulls, 0),
            (Nullability::Nullable, 1),
            (Nullability::Unknown, 2),
        ] {
            let column = Column {
                nullable: nullability,
                ..Column::default()
            };
            assert_eq!(
                ColumnMetadata::from(column).nullable,
                code,
                "{nullability:?}"
            );
        }
    }
}

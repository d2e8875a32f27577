//! Bind values as typed PostgreSQL arguments: each parameter's type is declared, except an untyped
//! NULL, whose type the server infers.

use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgTypeInfo};
use sqlx::{Arguments, Postgres};

use super::numeric::Numeric;
use crate::backend::{BindValue, Error, Result};

/// NULL with no declared type: the server infers it from context, as with pgJDBC's `setNull`.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<sqlx::encode::IsNull, BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

pub(super) fn bind(values: Vec<BindValue>) -> Result<(PgArguments, Vec<PgTypeInfo>)> {
    let mut args = PgArguments::default();
    let mut types = Vec::with_capacity(values.len());
    for value in values {
        let added = match value {
            BindValue::Null => {
                types.push(PgTypeInfo::with_oid(Oid(0)));
                args.add(UntypedNull)
            }
            BindValue::Bool(v) => typed(&mut args, &mut types, v),
            BindValue::Long(v) => typed(&mut args, &mut types, v),
            BindValue::Double(v) => typed(&mut args, &mut types, v),
            BindValue::Text(v) => typed(&mut args, &mut types, v),
            BindValue::Bytes(v) => typed(&mut args, &mut types, v),
            BindValue::Date(v) => typed(&mut args, &mut types, v),
            BindValue::Time(v) => typed(&mut args, &mut types, v),
            BindValue::Timestamp(v) => typed(&mut args, &mut types, v),
            BindValue::Uuid(v) => typed(&mut args, &mut types, v),
            BindValue::Decimal(text) => {
                let v = Numeric::parse(&text).map_err(|reason| Error::Numeric {
                    text: text.clone(),
                    reason,
                })?;
                typed(&mut args, &mut types, v)
            }
            BindValue::Json(text) => {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(Error::Json)?;
                typed(&mut args, &mut types, sqlx::types::Json(v))
            }
        };
        added.map_err(Error::Bind)?;
    }
    Ok((args, types))
}

fn typed<T>(
    args: &mut PgArguments,
    types: &mut Vec<PgTypeInfo>,
    value: T,
) -> Result<(), BoxDynError>
where
    T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + 'static,
{
    types.push(T::type_info());
    args.add(value)
}

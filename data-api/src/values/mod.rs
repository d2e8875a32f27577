//! `sea_query::Value` ⇄ Data API fields: [`encode`] turns values into parameters, [`decode`] turns
//! result fields back into values.

pub(crate) mod decode;
pub(crate) mod encode;

pub(crate) use decode::{Decoder, Kind};
pub(crate) use encode::parameter;

/// Why a value cannot cross.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A value the Data API cannot carry.
    #[error("cannot send {0}")]
    Unsendable(String),
    /// A field that does not fit its column's type.
    #[error("column {column}: cannot read {field} as {type_name}")]
    Undecodable {
        /// Column name.
        column: String,
        /// Column type as reported.
        type_name: String,
        /// The field, abbreviated.
        field: String,
    },
}

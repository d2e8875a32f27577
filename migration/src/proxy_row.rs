//! A native driver's answer as a SeaORM proxy connection hands it to a migration.
//!
//! Two proxy connections forward a migration's queries to a real connection: the dry run's
//! recording connection ([`crate::dry_run`]) and the runner's lease fence on native targets
//! (`runner/fence.rs`). Both turn each row of the real answer into a [`ProxyRow`] here, so a
//! migration reads the same values through either as it would on the native connection.

use sea_orm_migration::sea_orm::{
    DbBackend, DbErr, ProxyRow, QueryResult, Value, from_query_result_to_proxy_row,
};

/// A row of a target's answer to the query `sql`, as a SeaORM proxy connection hands it to a
/// migration: values typed as the native driver would decode them, and sea-schema's
/// `has_table`/`has_column`/`has_index` probes answered as booleans (MySQL and SQLite compute an
/// integer, which a native driver converts on the way). A row that already came from a proxy
/// connection is kept as it is, apart from the probes.
///
/// # Errors
/// A column whose type SeaORM cannot convert.
pub fn proxy_row(
    backend: DbBackend,
    sql: &str,
    row: &QueryResult,
) -> std::result::Result<ProxyRow, DbErr> {
    let converted = if let Some(row) = row.try_as_proxy_row() {
        // Already as a proxy connection hands it (a proxy over a proxy, as in tests).
        row.clone()
    } else if backend == DbBackend::Sqlite {
        sqlite_row(row)?
    } else {
        // SeaORM's conversion picks each value's type from the column's; it panics on a column
        // type it does not know, which the query then reports as its error instead of a panic.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            from_query_result_to_proxy_row(row)
        }))
        .map_err(|_| {
            DbErr::Custom("a column of this read has a type SeaORM cannot convert".into())
        })?
    };
    Ok(match probe_column(sql, backend) {
        Some(column) => as_bool(converted, column),
        None => converted,
    })
}

/// SQLite is typed by value, and a computed column (`COUNT(*) > 0`) has no declared type, which
/// SeaORM's conversion does not accept: each value becomes the first of integer, real, text or
/// blob it decodes as.
fn sqlite_row(row: &QueryResult) -> std::result::Result<ProxyRow, DbErr> {
    let mut values = std::collections::BTreeMap::new();
    for column in row.column_names() {
        let value = if let Ok(v) = row.try_get::<Option<i64>>("", &column) {
            Value::BigInt(v)
        } else if let Ok(v) = row.try_get::<Option<f64>>("", &column) {
            Value::Double(v)
        } else if let Ok(v) = row.try_get::<Option<String>>("", &column) {
            Value::String(v.map(Box::new))
        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>>("", &column) {
            Value::Bytes(v.map(Box::new))
        } else {
            return Err(DbErr::Custom(format!(
                "column `{column}` of this read decodes as no SQLite type"
            )));
        };
        values.insert(column, value);
    }
    Ok(ProxyRow::new(values))
}

/// The column of sea-schema's probes behind `has_table`/`has_column`/`has_index`
/// (`SELECT COUNT(*) > 0 AS "has_table" FROM …`): sea-orm-migration reads it as a `bool`, which
/// MySQL and SQLite compute as an integer that a native driver converts on the way.
fn probe_column(sql: &str, backend: DbBackend) -> Option<&'static str> {
    let quote = match backend {
        DbBackend::MySql => '`',
        _ => '"',
    };
    ["has_table", "has_column", "has_index"]
        .into_iter()
        .find(|column| {
            sql.trim_start().starts_with(&format!(
                "SELECT COUNT(*) > 0 AS {quote}{column}{quote} FROM "
            ))
        })
}

fn as_bool(mut row: ProxyRow, column: &str) -> ProxyRow {
    let truth = match row.values.get(column) {
        Some(Value::TinyInt(v)) => v.map(|v| v != 0),
        Some(Value::SmallInt(v)) => v.map(|v| v != 0),
        Some(Value::Int(v)) => v.map(|v| v != 0),
        Some(Value::BigInt(v)) => v.map(|v| v != 0),
        Some(Value::TinyUnsigned(v)) => v.map(|v| v != 0),
        Some(Value::SmallUnsigned(v)) => v.map(|v| v != 0),
        Some(Value::Unsigned(v)) => v.map(|v| v != 0),
        Some(Value::BigUnsigned(v)) => v.map(|v| v != 0),
        _ => return row,
    };
    row.values.insert(column.to_owned(), Value::Bool(truth));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_probes_answer_as_booleans() {
        let sql = "SELECT COUNT(*) > 0 AS `has_table` FROM `information_schema`.`tables`";
        assert_eq!(probe_column(sql, DbBackend::MySql), Some("has_table"));
        assert_eq!(probe_column(sql, DbBackend::Postgres), None);
        assert_eq!(
            probe_column("SELECT has_table FROM t", DbBackend::MySql),
            None
        );
        let row = ProxyRow::new([("has_table".to_owned(), Value::BigInt(Some(1)))].into());
        assert_eq!(
            as_bool(row, "has_table").values["has_table"],
            Value::Bool(Some(true))
        );
        let row = ProxyRow::new([("has_table".to_owned(), Value::Int(Some(0)))].into());
        assert_eq!(
            as_bool(row, "has_table").values["has_table"],
            Value::Bool(Some(false))
        );
    }
}

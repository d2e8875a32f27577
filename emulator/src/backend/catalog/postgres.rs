//! PostgreSQL column facts from `pg_attribute`, `pg_class` and `pg_attrdef`, as pgJDBC reads them,
//! cached per database by (table oid, attribute).

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::postgres::PgColumn;
use sqlx::postgres::types::Oid;
use sqlx::{Column as _, PgConnection, TypeInfo};

use crate::backend::{Column, Nullability};
use crate::sync::lock;

/// pgJDBC's "unknown length" (`Integer.MAX_VALUE`), the precision of unbounded types.
const UNKNOWN_LENGTH: i32 = i32::MAX;

/// Entries kept per cache before it is emptied (a simple bound, not an LRU).
const CACHE_LIMIT: usize = 4096;

/// One table column's catalog facts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attribute {
    table: String,
    not_null: bool,
    typmod: i32,
    auto_increment: bool,
}

/// Per-database cache of PostgreSQL column facts.
#[derive(Debug, Default)]
pub(in crate::backend) struct Cache {
    postgres: Mutex<HashMap<(u32, i16), Attribute>>,
}

fn insert_bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(key, value);
}

/// Fills table, nullability, precision, scale and auto-increment of PostgreSQL result columns.
pub(in crate::backend) async fn complete_postgres(
    conn: &mut PgConnection,
    cache: &Cache,
    columns: &[PgColumn],
    metadata: &mut [Column],
) -> Result<(), sqlx::Error> {
    let keys: Vec<Option<(u32, i16)>> = columns
        .iter()
        .map(|c| c.relation_id().zip(c.relation_attribute_no()))
        .map(|key| key.map(|(Oid(table), attnum)| (table, attnum)))
        .collect();
    let missing: Vec<(u32, i16)> = {
        let cached = lock(&cache.postgres);
        keys.iter()
            .flatten()
            .filter(|key| !cached.contains_key(key))
            .copied()
            .collect()
    };
    if !missing.is_empty() {
        let tables: Vec<Oid> = missing.iter().map(|(t, _)| Oid(*t)).collect();
        let attnums: Vec<i16> = missing.iter().map(|(_, a)| *a).collect();
        let rows: Vec<(Oid, i16, String, bool, i32, bool)> = sqlx::query_as(
            "SELECT a.attrelid, a.attnum, c.relname::text, a.attnotnull, a.atttypmod, \
                    (a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE '%nextval(%') \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             JOIN unnest($1::oid[], $2::int2[]) AS k(relid, attnum) \
               ON k.relid = a.attrelid AND k.attnum = a.attnum",
        )
        .bind(tables)
        .bind(attnums)
        .fetch_all(&mut *conn)
        .await?;
        let mut cached = lock(&cache.postgres);
        for (Oid(table), attnum, name, not_null, typmod, auto_increment) in rows {
            insert_bounded(
                &mut cached,
                (table, attnum),
                Attribute {
                    table: name,
                    not_null,
                    typmod,
                    auto_increment,
                },
            );
        }
    }
    let cached = lock(&cache.postgres);
    for ((meta, key), column) in metadata.iter_mut().zip(&keys).zip(columns) {
        let attribute = key.and_then(|key| cached.get(&key));
        let typmod = attribute.map_or(-1, |a| a.typmod);
        let type_name = column.type_info().name().to_ascii_lowercase();
        meta.precision = pg_precision(&type_name, typmod);
        meta.scale = pg_scale(&type_name, typmod);
        match attribute {
            Some(attribute) => {
                meta.table_name = attribute.table.clone();
                meta.nullable = if attribute.not_null {
                    Nullability::NoNulls
                } else {
                    Nullability::Nullable
                };
                meta.is_auto_increment = attribute.auto_increment;
            }
            None => meta.nullable = Nullability::Unknown,
        }
    }
    Ok(())
}

/// pgJDBC `TypeInfoCache.getPrecision` (display size for date/time types).
fn pg_precision(type_name: &str, typmod: i32) -> i32 {
    let fraction = match typmod {
        -1 => 7,
        0 => 0,
        digits => digits + 1,
    };
    match type_name {
        "int2" => 5,
        "int4" | "oid" => 10,
        "int8" => 19,
        "float4" => 8,
        "float8" => 17,
        "numeric" if typmod == -1 => 0,
        "numeric" => ((typmod - 4) >> 16) & 0xFFFF,
        "bool" | "char" => 1,
        "bpchar" | "varchar" if typmod == -1 => UNKNOWN_LENGTH,
        "bpchar" | "varchar" => typmod - 4,
        "date" => 13,
        "time" => 8 + fraction,
        "timestamp" => 22 + fraction,
        "timestamptz" => 28 + fraction,
        _ => UNKNOWN_LENGTH,
    }
}

/// pgJDBC `TypeInfoCache.getScale`.
fn pg_scale(type_name: &str, typmod: i32) -> i32 {
    match type_name {
        "float4" => 8,
        "float8" => 17,
        "numeric" if typmod == -1 => 0,
        "numeric" => (typmod - 4) & 0xFFFF,
        "time" | "timestamp" | "timestamptz" if typmod == -1 => 6,
        "time" | "timestamp" | "timestamptz" => typmod,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_precision_and_scale_follow_pgjdbc() {
        // (type, typmod, precision, scale); numeric(10,2) has typmod ((10 << 16) | 2) + 4.
        let cases = [
            ("int4", -1, 10, 0),
            ("int8", -1, 19, 0),
            ("float8", -1, 17, 17),
            ("numeric", -1, 0, 0),
            ("numeric", ((10 << 16) | 2) + 4, 10, 2),
            ("varchar", 255 + 4, 255, 0),
            ("varchar", -1, UNKNOWN_LENGTH, 0),
            ("text", -1, UNKNOWN_LENGTH, 0),
            ("bool", -1, 1, 0),
            ("date", -1, 13, 0),
            ("time", -1, 15, 6),
            ("timestamp", -1, 29, 6),
            ("timestamp", 3, 26, 3),
            ("timestamp", 0, 22, 0),
            ("timestamptz", -1, 35, 6),
        ];
        for (name, typmod, precision, scale) in cases {
            assert_eq!(pg_precision(name, typmod), precision, "{name}({typmod})");
            assert_eq!(pg_scale(name, typmod), scale, "{name}({typmod})");
        }
    }
}

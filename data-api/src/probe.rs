//! SeaORM's own queries whose result type differs from what the server computes, recognised by the
//! whole statement's shape — never by a column name alone, so a user's column called `num_items` or
//! `has_table` decodes like any other column.
//!
//! - `Paginator::num_items` (`count()`): `SELECT COUNT(*) AS num_items FROM (…) AS "sub_query"`.
//!   SeaORM reads `num_items` as `i32` on MySQL (and `i64` on PostgreSQL), while MySQL's `COUNT(*)`
//!   is a `BIGINT`.
//! - sea-schema's probes behind `SchemaManager::has_table` / `has_column` / `has_index`:
//!   `SELECT COUNT(*) > 0 AS "has_table" FROM …`. sea-orm-migration reads them as `bool`, while
//!   MySQL computes an integer.
//!
//! The shapes are those SeaORM 1.1 and sea-schema 0.16 print (`sea-orm/src/executor/paginator.rs`,
//! `sea-schema/src/probe.rs`); the tests pin them.

use crate::Engine;
use crate::values::Kind;

/// A SeaORM query recognised by its shape: its one result column and the kind SeaORM reads it as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The alias of the single result column.
    pub(crate) column: &'static str,
    /// What SeaORM reads it as.
    pub(crate) kind: Kind,
}

/// The probe `sql` (as SeaORM built it, before placeholder translation) is, if any.
pub(crate) fn recognise(sql: &str, engine: Engine) -> Option<Probe> {
    let quote = engine.identifier_quote();
    let sql = sql.trim();
    if let Some(rest) = sql.strip_prefix("SELECT COUNT(*) AS num_items FROM (") {
        let tail = format!(") AS {quote}sub_query{quote}");
        if rest.ends_with(&tail) {
            return Some(Probe {
                column: "num_items",
                kind: engine.count_kind(),
            });
        }
        return None;
    }
    for column in ["has_table", "has_column", "has_index"] {
        let prefix = format!("SELECT COUNT(*) > 0 AS {quote}{column}{quote} FROM ");
        if sql.starts_with(&prefix) {
            return Some(Probe {
                column,
                kind: Kind::Bool,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::{DbBackend, Statement};

    use super::{Probe, recognise};
    use crate::Engine;
    use crate::values::Kind;

    /// The count statement exactly as `Paginator::num_items` builds it.
    fn count_statement(backend: DbBackend) -> Statement {
        let inner = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("orders"))
            .and_where(Expr::col(Alias::new("num_items")).gt(3))
            .to_owned();
        let outer = Query::select()
            .expr(Expr::cust("COUNT(*) AS num_items"))
            .from_subquery(inner, Alias::new("sub_query"))
            .to_owned();
        backend.build(&outer)
    }

    /// A probe exactly as sea-schema's `SchemaProbe::has_column` builds it.
    fn has_statement(backend: DbBackend, column: &str) -> Statement {
        let query = Query::select()
            .expr_as(Expr::cust("COUNT(*) > 0"), Alias::new(column))
            .from((Alias::new("information_schema"), Alias::new("columns")))
            .and_where(Expr::col(Alias::new("table_name")).eq("t"))
            .to_owned();
        backend.build(&query)
    }

    #[test]
    fn seaorm_count_and_schema_probes_are_recognised() {
        for &engine in Engine::ENABLED {
            let backend = engine.backend();
            let count = recognise(&count_statement(backend).sql, engine);
            let kind = if backend == DbBackend::MySql {
                Kind::Int
            } else {
                Kind::BigInt
            };
            assert_eq!(
                count,
                Some(Probe {
                    column: "num_items",
                    kind
                }),
                "{backend:?}"
            );
            for column in ["has_table", "has_column", "has_index"] {
                let sql = has_statement(backend, column).sql;
                assert_eq!(
                    recognise(&sql, engine).map(|p| (p.column, p.kind)),
                    Some((column, Kind::Bool)),
                    "{sql}"
                );
            }
        }
    }

    #[test]
    fn user_queries_on_columns_with_those_names_are_not_probes() {
        for &engine in Engine::ENABLED {
            for sql in [
                "SELECT num_items FROM orders",
                "SELECT `id`, `num_items` FROM `orders` WHERE `num_items` > ?",
                "SELECT \"id\", \"has_table\" FROM \"furniture\"",
                "SELECT COUNT(*) AS num_items FROM orders",
                "SELECT COUNT(*) AS num_items FROM (SELECT 1) AS t",
                "SELECT has_table, has_column, has_index FROM settings",
                "SELECT COUNT(*) > 0 AS has_table FROM furniture",
                "SELECT SUM(num_items) AS num_items FROM (SELECT * FROM orders) AS sub_query",
            ] {
                assert_eq!(recognise(sql, engine), None, "{engine:?}: {sql}");
            }
        }
    }
}

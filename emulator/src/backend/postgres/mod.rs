//! PostgreSQL: a statement prepared with explicit parameter types, run, and its rows read.
//!
//! Layout: `bind` turns bind values into typed arguments (`numeric` is the binary encoder of a
//! `DECIMAL` value); [`execute`] (here) prepares, runs and reads under the response budget; `decode`
//! reads a row's values by column type, from the binary forms `binary` and `numeric` decode;
//! `metadata` describes the result's columns as pgJDBC does (the catalog completes them).

mod binary;
mod bind;
mod decode;
mod metadata;
mod numeric;

use futures_util::TryStreamExt;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgColumn, PgTypeInfo};
use sqlx::{Either, Executor, PgConnection, Row, Statement};

use self::bind::bind;
use self::decode::{raw_len, value};
use self::metadata::metadata;
use super::catalog::{Cache, complete_postgres};
use super::{BindValue, Budget, Engine, Error, Result, StatementOutput};
use crate::params::Rewritten;

pub(super) async fn execute(
    conn: &mut PgConnection,
    statement: &Rewritten,
    values: Vec<BindValue>,
    catalog: Option<&Cache>,
    mut budget: Budget,
) -> Result<StatementOutput> {
    let (args, types) = bind(values)?;
    let err = |e| Error::statement(Engine::Postgres, e);
    let mut prepared = conn
        .prepare_with(&statement.sql, &types)
        .await
        .map_err(err)?;
    // sqlx caches prepared statements by SQL text alone. One first prepared with an untyped NULL has
    // that parameter typed by the server (say int4) and would be reused for an int8 value (SQLState
    // 22P03): AWS prepares per call, so re-prepare when the cached types differ from those sent.
    if !same_parameter_types(&prepared, &types) {
        sqlx::Connection::clear_cached_statements(&mut *conn)
            .await
            .map_err(err)?;
        prepared = conn
            .prepare_with(&statement.sql, &types)
            .await
            .map_err(err)?;
    }
    let columns: Vec<PgColumn> = prepared.columns().to_vec();
    let mut stream = (&mut *conn).fetch_many(prepared.query_with(args));
    let mut rows = Vec::new();
    let mut rows_affected = 0;
    while let Some(item) = stream.try_next().await.map_err(err)? {
        match item {
            Either::Left(done) => rows_affected += done.rows_affected(),
            Either::Right(row) => {
                budget.row((0..row.len()).map(|i| raw_len(&row, i)))?;
                rows.push(row);
            }
        }
    }
    drop(stream);
    let mut output = super::output(&columns, &rows, rows_affected, 0, metadata, value)?;
    if let Some(catalog) = catalog
        && !output.columns.is_empty()
    {
        complete_postgres(conn, catalog, &columns, &mut output.columns)
            .await
            .map_err(err)?;
    }
    Ok(output)
}

/// Whether `prepared` declares the types of the values being sent (untyped NULLs fit any).
fn same_parameter_types(prepared: &sqlx::postgres::PgStatement<'_>, sent: &[PgTypeInfo]) -> bool {
    let Some(Either::Left(declared)) = prepared.parameters() else {
        return true;
    };
    sent.iter()
        .zip(declared)
        .all(|(sent, declared)| match (sent.oid(), declared.oid()) {
            (Some(Oid(0)), _) | (None, _) | (_, None) => true,
            (Some(a), Some(b)) => a == b,
        })
}

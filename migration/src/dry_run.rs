//! Dry runs: the statements `up` or `down` would send, without sending a write.
//!
//! Each migration of the plan runs its `up` (or `down`) against a recording connection: a SeaORM
//! proxy connection with the target's backend, so SeaORM builds every statement exactly as it
//! would for the target. It records each statement, in order, with its parameter values:
//!
//! - **Executions** (DDL, `INSERT`/`UPDATE`/`DELETE` through `execute`, `execute_unprepared`) are
//!   recorded as writes and answered "0 rows affected" without being sent.
//! - **Queries that only read** (one `SELECT`, `SHOW`, `DESCRIBE` or `EXPLAIN` statement) run for
//!   real on the target, outside any transaction, so a migration that branches on what it finds
//!   (`has_table`, the seed's existence check) takes the branch a real run would take now. They are
//!   recorded as reads. A `SELECT` that calls a function with side effects runs it too.
//! - A query that may write (`INSERT … RETURNING`, a data-modifying `WITH`) is not sent; the
//!   migration's plan stops there, since its answer cannot be known without running it.
//!
//! A read sees the database as it is, not as the earlier pending migrations would leave it: a
//! migration that reads a table an earlier one creates gets the database's error, and its plan is
//! shown up to that read and marked as stopped. A migration that depends on rows affected (always
//! 0 here) may also take another branch than a real run. Statements are shown as SeaORM hands them
//! to the driver; the Data API adapter then names the placeholders (`:p1`, …) on the wire.

use std::sync::{Arc, Mutex};

use sea_orm_migration::sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, ProxyDatabaseTrait,
    ProxyExecResult, ProxyRow, QueryResult, Statement, Value, from_query_result_to_proxy_row,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use crate::error::{Direction, Error, Result};
use crate::ledger::TxMode;

/// What a dry run found: per migration of the plan, in the order a real run would take them, the
/// statements it would send.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DryRun {
    /// `up` or `down`.
    pub direction: Direction,
    /// The plan, in order.
    pub migrations: Vec<PlannedMigration>,
}

/// One migration of a dry run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlannedMigration {
    /// The migration's name.
    pub name: String,
    /// Whether a real run sends its statements in one transaction (PostgreSQL, SQLite) or one by
    /// one (MySQL).
    pub transactional: bool,
    /// Its statements, in order.
    pub statements: Vec<PlannedStatement>,
    /// Why the statements stop early (a read failed, a query would need to write, or the migration
    /// returned an error); `None` when the list is complete.
    pub stopped: Option<String>,
}

/// Whether a recorded statement was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// A query that only reads: it ran for real during the dry run.
    Read,
    /// A write: recorded, not sent.
    Write,
}

/// One statement a migration would send.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlannedStatement {
    /// Read (sent) or write (not sent).
    pub kind: StatementKind,
    /// The SQL text, with the backend's placeholders (`?` on MySQL/SQLite, `$1` on PostgreSQL).
    pub sql: String,
    /// The parameter values, in placeholder order; `None` for a statement sent without parameters
    /// (DDL and `execute_unprepared` inline their literals).
    #[serde(serialize_with = "values_as_json")]
    pub values: Option<Vec<Value>>,
}

impl PlannedStatement {
    /// `statement` as a dry run records it.
    pub fn new(kind: StatementKind, statement: &Statement) -> Self {
        Self {
            kind,
            sql: statement.sql.clone(),
            values: statement.values.as_ref().map(|v| v.0.clone()),
        }
    }

    /// Whether `statement` is this one: the same SQL and the same values.
    pub fn matches(&self, statement: &Statement) -> bool {
        self.sql == statement.sql && self.values.as_ref() == statement.values.as_ref().map(|v| &v.0)
    }
}

/// Parameter values as JSON (numbers, strings, booleans, null), the way `--json` prints them.
pub fn value_to_json(value: &Value) -> serde_json::Value {
    sea_orm_migration::sea_orm::sea_query::sea_value_to_json_value(value)
}

fn values_as_json<S: serde::Serializer>(
    values: &Option<Vec<Value>>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::Serialize;
    values
        .as_ref()
        .map(|values| values.iter().map(value_to_json).collect::<Vec<_>>())
        .serialize(serializer)
}

/// Runs `migration`'s `direction` against a recording connection over `target` (see the
/// [module docs](self)).
///
/// # Errors
/// [`Error::Connect`] when SeaORM refuses the recording connection. A failing migration is not an
/// error: its plan is returned with [`PlannedMigration::stopped`].
pub(crate) async fn rehearse(
    target: &DatabaseConnection,
    tx_mode: TxMode,
    migration: &dyn MigrationTrait,
    direction: Direction,
) -> Result<PlannedMigration> {
    let backend = target.get_database_backend();
    let recorder = Recorder {
        backend,
        target: target.clone(),
        log: Arc::new(Mutex::new(Log::default())),
    };
    let log = recorder.log.clone();
    let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(recorder));
    let conn = Database::connect_proxy(backend, proxy)
        .await
        .map_err(Error::Connect)?;
    let manager = SchemaManager::new(&conn);
    let ran = match direction {
        Direction::Up => migration.up(&manager).await,
        Direction::Down => migration.down(&manager).await,
    };
    let log = std::mem::take(&mut *lock(&log));
    let stopped = ran.err().map(|error| match log.stop {
        Some(why) => format!("{why}: {error}"),
        None => format!("the migration returned an error: {error}"),
    });
    Ok(PlannedMigration {
        name: migration.name().to_owned(),
        transactional: tx_mode == TxMode::Transactional,
        statements: log.statements,
        stopped,
    })
}

#[derive(Debug, Default)]
struct Log {
    statements: Vec<PlannedStatement>,
    /// Why the dry run refused or failed a query, for the migration's error.
    stop: Option<&'static str>,
}

fn lock(log: &Mutex<Log>) -> std::sync::MutexGuard<'_, Log> {
    // Each update is a single push or assignment: a panic cannot leave it half-made.
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The recording connection's proxy: records everything, sends only reads.
#[derive(Debug)]
struct Recorder {
    backend: DbBackend,
    target: DatabaseConnection,
    log: Arc<Mutex<Log>>,
}

impl Recorder {
    fn record(&self, kind: StatementKind, statement: &Statement) {
        lock(&self.log)
            .statements
            .push(PlannedStatement::new(kind, statement));
    }

    fn stop(&self, why: &'static str) {
        lock(&self.log).stop.get_or_insert(why);
    }
}

/// A row of a target's answer to the query `sql`, as a SeaORM proxy connection hands it to a
/// migration: values typed as the native driver would decode them, and sea-schema's
/// `has_table`/`has_column`/`has_index` probes answered as booleans (MySQL and SQLite compute an
/// integer, which a native driver converts on the way).
///
/// # Errors
/// A column whose type SeaORM cannot convert.
pub fn proxy_row(
    backend: DbBackend,
    sql: &str,
    row: &QueryResult,
) -> std::result::Result<ProxyRow, DbErr> {
    let converted = if backend == DbBackend::Sqlite {
        sqlite_row(row)?
    } else {
        // SeaORM's conversion picks each value's type from the column's; it panics on a column
        // type it does not know, which a dry run reports instead of dying.
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

#[async_trait::async_trait]
impl ProxyDatabaseTrait for Recorder {
    async fn query(&self, statement: Statement) -> std::result::Result<Vec<ProxyRow>, DbErr> {
        if !is_read_only(&statement.sql, self.backend) {
            self.record(StatementKind::Write, &statement);
            self.stop("the dry run stops at a query that may write (it was not sent)");
            return Err(DbErr::Custom(
                "a dry run does not send a query that may write".into(),
            ));
        }
        self.record(StatementKind::Read, &statement);
        let rows = match self.target.query_all(statement.clone()).await {
            Ok(rows) => rows,
            Err(error) => {
                self.stop(
                    "a read failed (it may need what an earlier pending migration would create, \
                     which the dry run did not)",
                );
                return Err(error);
            }
        };
        rows.iter()
            .map(|row| {
                proxy_row(self.backend, &statement.sql, row).inspect_err(|_| {
                    self.stop("a read's answer could not be handed to the migration");
                })
            })
            .collect()
    }

    async fn execute(&self, statement: Statement) -> std::result::Result<ProxyExecResult, DbErr> {
        self.record(StatementKind::Write, &statement);
        Ok(ProxyExecResult::default())
    }
}

/// Whether `sql` is one statement that only reads, by its first keyword.
fn is_read_only(sql: &str, backend: DbBackend) -> bool {
    let dialect = match backend {
        DbBackend::MySql => sql_lexer::Dialect::MySql,
        _ => sql_lexer::Dialect::Postgres,
    };
    if sql_lexer::has_second_statement(sql, dialect) {
        return false;
    }
    let Some(first) = sql_lexer::Lexer::new(sql, dialect)
        .find(|t| t.kind == sql_lexer::Kind::Code)
        .map(|t| t.start)
    else {
        return false;
    };
    let keyword: String = sql[first..]
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    match keyword.as_str() {
        "SELECT" | "SHOW" | "DESCRIBE" | "DESC" => true,
        // `EXPLAIN ANALYZE` runs the statement.
        "EXPLAIN" => !sql.to_ascii_uppercase().contains("ANALYZE"),
        _ => false,
    }
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
    fn only_single_reading_statements_count_as_reads() {
        for (sql, backend, read) in [
            ("SELECT 1", DbBackend::MySql, true),
            ("  select `id` FROM `users`", DbBackend::MySql, true),
            ("/* why */ SELECT 1", DbBackend::Postgres, true),
            ("SHOW TABLES", DbBackend::MySql, true),
            ("EXPLAIN SELECT 1", DbBackend::Postgres, true),
            ("EXPLAIN ANALYZE DELETE FROM t", DbBackend::Postgres, false),
            ("SELECT 1; DROP TABLE t", DbBackend::MySql, false),
            (
                "INSERT INTO t VALUES (1) RETURNING id",
                DbBackend::Postgres,
                false,
            ),
            (
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                DbBackend::Postgres,
                false,
            ),
            ("UPDATE t SET a = 1", DbBackend::Sqlite, false),
            ("", DbBackend::Sqlite, false),
        ] {
            assert_eq!(is_read_only(sql, backend), read, "{sql:?}");
        }
    }

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

    struct Sample;

    impl sea_orm_migration::MigrationName for Sample {
        fn name(&self) -> &str {
            "m20990101_000001_sample"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Sample {
        async fn up(&self, manager: &SchemaManager) -> std::result::Result<(), DbErr> {
            let db = manager.get_connection();
            if !manager.has_table("sample").await? {
                db.execute_unprepared("CREATE TABLE sample (id INTEGER NOT NULL)")
                    .await?;
            }
            db.execute(Statement::from_sql_and_values(
                manager.get_database_backend(),
                "INSERT INTO sample (id) VALUES (?)",
                [7.into()],
            ))
            .await?;
            // Reads a table the real run would have created: the dry run stops here.
            db.query_one(Statement::from_string(
                manager.get_database_backend(),
                "SELECT id FROM sample",
            ))
            .await?;
            Ok(())
        }
    }

    #[tokio::test]
    async fn records_writes_without_sending_them_and_runs_reads() {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        let plan = rehearse(&db, TxMode::Transactional, &Sample, Direction::Up)
            .await
            .expect("rehearsed");
        let kinds: Vec<_> = plan.statements.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StatementKind::Read,
                StatementKind::Write,
                StatementKind::Write,
                StatementKind::Read
            ],
            "{plan:#?}"
        );
        assert!(plan.statements[0].sql.contains("has_table"), "{plan:#?}");
        assert_eq!(
            plan.statements[1].sql,
            "CREATE TABLE sample (id INTEGER NOT NULL)"
        );
        assert_eq!(plan.statements[1].values, None);
        assert_eq!(plan.statements[2].values, Some(vec![Value::Int(Some(7))]));
        let stopped = plan.stopped.as_deref().expect("stopped at the read");
        assert!(stopped.starts_with("a read failed"), "{stopped}");
        assert!(stopped.contains("no such table"), "{stopped}");
        // Nothing was written.
        assert!(
            !SchemaManager::new(&db)
                .has_table("sample")
                .await
                .expect("probe")
        );
        let json = serde_json::to_value(&plan.statements[2]).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "write", "sql": "INSERT INTO sample (id) VALUES (?)", "values": [7]})
        );
    }
}

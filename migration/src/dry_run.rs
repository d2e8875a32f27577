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
    ProxyExecResult, ProxyRow, Statement, Value,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use crate::error::{Direction, Error, Result};
use crate::ledger::TxMode;
pub use crate::proxy_row::proxy_row;

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

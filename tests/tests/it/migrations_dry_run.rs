//! `up --dry-run` / `down --dry-run`: the statements a dry run prints are exactly those a real run
//! then sends, and the dry run itself changes nothing (tables, rows, ledger, lock). On every stack:
//! SQLite, MariaDB and PostgreSQL natively, and MariaDB and PostgreSQL through the Data API and the
//! emulator, with the DynamoDB ledger (a moto server) so the lock item can be checked too.
//!
//! What reaches the database is captured where each path hands statements over: through the Data
//! API, the adapter's hook sees every statement as SeaORM gives it to the adapter; natively, the
//! runner's connection is a SeaORM proxy that records each statement and sends it, unchanged, over
//! one real connection of the native driver (`BEGIN`/`COMMIT`/`ROLLBACK` included), so the
//! migrations run for real, in real transactions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};
use integration_tests::moto::Moto;
use integration_tests::{Backend, Stack, TestDatabase, TestEmulator};
use migration::cli::{Command, Outcome, execute};
use migration::{DynamoLedger, Ledger, LedgerEntry, LockInfo, Migrator, Runner, Target};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    ProxyDatabaseTrait, ProxyExecResult, ProxyRow, Statement,
};
use serde_json::json;

use crate::migrations_dynamo::{CREATE, SEED, ledger};

crate::on_every_stack!(a_dry_run_prints_exactly_what_the_real_run_sends_and_changes_nothing);

/// Statements that reached the database, in order.
type Captured = Arc<Mutex<Vec<Statement>>>;

/// The database under test, and how the runner reaches it.
struct Setup {
    /// Keeps the emulator (and its database) alive.
    _emulator: Option<TestEmulator>,
    /// Keeps a native database alive.
    _database: Option<TestDatabase>,
    /// A plain connection for looking at the database.
    observer: DatabaseConnection,
    /// A target whose statements are captured.
    captured_target: Target,
    /// The same database without capture (for dry runs).
    target: Target,
    captured: Captured,
}

async fn setup(stack: Stack) -> Result<Setup> {
    let captured: Captured = Arc::default();
    match stack {
        Stack::DataApi(backend) => {
            let emulator = TestEmulator::spawn(backend).await?;
            let log = captured.clone();
            let api = emulator.data_api().with_hook(Arc::new(move |outgoing| {
                if let data_api::hook::Outgoing::Statement { statement, .. } = outgoing {
                    log.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(statement.clone());
                }
                Ok(())
            }));
            Ok(Setup {
                observer: emulator.database.connect().await?,
                captured_target: Target::data_api(api)?,
                target: Target::data_api(emulator.data_api())?,
                _emulator: Some(emulator),
                _database: None,
                captured,
            })
        }
        Stack::Native(backend) => {
            let database = TestDatabase::create(backend).await?;
            let mut options = ConnectOptions::new(&database.url);
            options.max_connections(1).min_connections(1);
            let single = Database::connect(options).await?;
            let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(Recording {
                db: single,
                log: captured.clone(),
            }));
            let recording = Database::connect_proxy(single_backend(backend), proxy).await?;
            Ok(Setup {
                observer: database.connect().await?,
                captured_target: Target::Native(recording),
                target: Target::Native(database.connect().await?),
                _emulator: None,
                _database: Some(database),
                captured,
            })
        }
    }
}

fn single_backend(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::MariaDb => DbBackend::MySql,
        Backend::Postgres => DbBackend::Postgres,
    }
}

/// Records each statement and sends it over one native connection.
#[derive(Debug)]
struct Recording {
    db: DatabaseConnection,
    log: Captured,
}

impl Recording {
    fn record(&self, statement: &Statement) {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(statement.clone());
    }

    async fn control(&self, sql: &str) {
        if let Err(error) = self.db.execute_unprepared(sql).await {
            // The trait's transaction calls cannot fail; the test's checks of the database do.
            tracing::error!(%error, sql, "transaction control failed");
        }
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl ProxyDatabaseTrait for Recording {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        self.record(&statement);
        let backend = self.db.get_database_backend();
        let sql = statement.sql.clone();
        let rows = self.db.query_all(statement).await?;
        rows.iter()
            .map(|row| migration::dry_run::proxy_row(backend, &sql, row))
            .collect()
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        self.record(&statement);
        Ok(self.db.execute(statement).await?.into())
    }

    async fn begin(&self) {
        self.control("BEGIN").await;
    }

    async fn commit(&self) {
        self.control("COMMIT").await;
    }

    async fn rollback(&self) {
        self.control("ROLLBACK").await;
    }
}

/// Everything a dry run must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    tables: Vec<String>,
    users: Vec<(String, String, String)>,
    ledger: BTreeMap<String, LedgerEntry>,
    lock: Option<LockInfo>,
}

async fn snapshot(db: &DatabaseConnection, ledger: &DynamoLedger) -> Result<Snapshot> {
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::MySql => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 1"
        }
        DbBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY 1"
        }
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
    };
    let tables = db
        .query_all(Statement::from_string(backend, list))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    let users =
        if tables.iter().any(|t| t == "users") {
            let quote = if backend == DbBackend::MySql {
                '`'
            } else {
                '"'
            };
            db.query_all(Statement::from_string(
            backend,
            format!(
                "SELECT id, {quote}firstName{quote} AS f, {quote}lastName{quote} AS l FROM users \
                 ORDER BY id"
            ),
        ))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "f")?, row.try_get("", "l")?)))
        .collect::<Result<Vec<_>, DbErr>>()?
        } else {
            Vec::new()
        };
    Ok(Snapshot {
        tables,
        users,
        ledger: ledger
            .entries()
            .await?
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect(),
        lock: ledger.lock_info().await?,
    })
}

/// Runs `command` the way the binary does and returns what it printed, parsed.
async fn dry_run(
    target: &Target,
    moto: &Moto,
    table: &str,
    command: Command,
) -> Result<serde_json::Value> {
    let runner = Runner::new::<Migrator>(target.clone(), ledger(moto, table, "dry"));
    let mut out = Vec::new();
    let outcome = execute(&runner, &command, &mut out).await?;
    ensure!(outcome == Outcome::Done);
    serde_json::from_slice(&out).with_context(|| String::from_utf8_lossy(&out).into_owned())
}

fn up(num: Option<u32>) -> Command {
    Command::Up {
        num,
        allow_drift: false,
        dry_run: true,
        json: true,
    }
}

fn down(num: u32) -> Command {
    Command::Down {
        num,
        allow_drift: false,
        dry_run: true,
        json: true,
    }
}

/// The printed plan's statements, in order, as `(sql, values)`.
fn printed(plan: &serde_json::Value) -> Result<Vec<(String, serde_json::Value)>> {
    let mut statements = Vec::new();
    for migration in plan["migrations"].as_array().context("migrations")? {
        ensure!(migration["stopped"].is_null(), "{migration}");
        for statement in migration["statements"].as_array().context("statements")? {
            statements.push((
                statement["sql"].as_str().context("sql")?.to_owned(),
                statement["values"].clone(),
            ));
        }
    }
    Ok(statements)
}

/// What reached the database since the last call, in the same form.
fn sent(captured: &Captured) -> Vec<(String, serde_json::Value)> {
    std::mem::take(&mut *captured.lock().unwrap_or_else(|p| p.into_inner()))
        .into_iter()
        .map(|s| {
            let values = s.values.map_or(serde_json::Value::Null, |v| {
                v.0.iter().map(migration::dry_run::value_to_json).collect()
            });
            (s.sql, values)
        })
        .collect()
}

fn names(plan: &serde_json::Value) -> Vec<&str> {
    plan["migrations"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default()
}

async fn a_dry_run_prints_exactly_what_the_real_run_sends_and_changes_nothing(
    stack: Stack,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("dry").await?;
    let s = setup(stack).await?;
    let observer = ledger(moto, &table, "observer");
    let real = Runner::new::<Migrator>(s.captured_target.clone(), ledger(moto, &table, "real"));

    // On an empty database, the seed's existence check reads a table only the first migration
    // creates: its plan stops there, and says why.
    let before = snapshot(&s.observer, &observer).await?;
    let plan = dry_run(&s.target, moto, &table, up(None)).await?;
    ensure!(
        snapshot(&s.observer, &observer).await? == before,
        "the dry run changed something"
    );
    ensure!(names(&plan) == [CREATE, SEED], "{plan}");
    ensure!(
        plan["dry_run"] == true && plan["direction"] == "up",
        "{plan}"
    );
    ensure!(plan["migrations"][0]["stopped"].is_null(), "{plan}");
    let seed = &plan["migrations"][1];
    ensure!(
        seed["stopped"]
            .as_str()
            .is_some_and(|why| why.starts_with("a read failed")),
        "{seed}"
    );
    let kinds: Vec<&str> = seed["statements"]
        .as_array()
        .context("statements")?
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    ensure!(kinds == ["read"], "{seed}");
    ensure!(
        before.lock.is_none() && before.ledger.is_empty(),
        "{before:?}"
    );

    // One migration at a time, each dry run is exactly what `up` then sends.
    let plan = dry_run(&s.target, moto, &table, up(Some(1))).await?;
    ensure!(
        snapshot(&s.observer, &observer).await? == before,
        "the dry run changed something"
    );
    ensure!(names(&plan) == [CREATE], "{plan}");
    let expected = printed(&plan)?;
    let first = &plan["migrations"][0]["statements"];
    ensure!(
        first[0]["kind"] == "read"
            && first[0]["sql"]
                .as_str()
                .is_some_and(|s| s.contains("has_table")),
        "the probe ran for real: {plan}"
    );
    ensure!(
        first
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["kind"] == "write"
                && s["sql"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("CREATE TABLE")))),
        "{plan}"
    );
    ensure!(sent(&s.captured).is_empty());
    ensure!(real.up(Some(1)).await? == [CREATE]);
    ensure!(sent(&s.captured) == expected, "printed {expected:#?}");

    let before = snapshot(&s.observer, &observer).await?;
    let plan = dry_run(&s.target, moto, &table, up(None)).await?;
    ensure!(
        snapshot(&s.observer, &observer).await? == before,
        "the dry run changed something"
    );
    ensure!(names(&plan) == [SEED], "{plan}");
    let expected = printed(&plan)?;
    ensure!(
        plan["migrations"][0]["statements"][1]["values"] == json!(["1", "John", "Doe"]),
        "the insert's values: {plan}"
    );
    ensure!(real.up(None).await? == [SEED]);
    ensure!(sent(&s.captured) == expected, "printed {expected:#?}");
    ensure!(
        snapshot(&s.observer, &observer).await?.users
            == [("1".to_owned(), "John".to_owned(), "Doe".to_owned())]
    );

    // `down`, newest first.
    let before = snapshot(&s.observer, &observer).await?;
    let plan = dry_run(&s.target, moto, &table, down(2)).await?;
    ensure!(
        snapshot(&s.observer, &observer).await? == before,
        "the dry run changed something"
    );
    ensure!(
        plan["direction"] == "down" && names(&plan) == [SEED, CREATE],
        "{plan}"
    );
    let expected = printed(&plan)?;
    ensure!(real.down(Some(2)).await? == [SEED, CREATE]);
    ensure!(sent(&s.captured) == expected, "printed {expected:#?}");
    ensure!(
        !snapshot(&s.observer, &observer)
            .await?
            .tables
            .contains(&"users".to_owned())
    );

    // Nothing left to do.
    let plan = dry_run(&s.target, moto, &table, down(1)).await?;
    ensure!(names(&plan).is_empty(), "{plan}");
    Ok(())
}

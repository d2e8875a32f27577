//! The runner on the fault paths with the DynamoDB ledger, through the Data API emulator: answers
//! that leave an outcome unknown (a 500 after a statement ran, a commit without an answer), a
//! runner overtaken mid-migration, a Data API target without the DynamoDB ledger, and DDL that
//! outlives the call's timeout; and on native MariaDB and PostgreSQL connections, a runner
//! overtaken mid-migration.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use integration_tests::moto::Moto;
use integration_tests::{Backend, TestDatabase, TestEmulator};
use migration::{DynamoLedger, EntryState, Error, LockConfig, Runner, Target};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::migrations_dynamo::{
    CREATE, SEED, child, counts, entries, ledger, run, sql, text, through_data_api,
};

mod engines {
    crate::on_data_api_engines!(
        an_unknown_outcome_keeps_the_row_in_progress_and_the_lock_until_repaired,
        a_runner_overtaken_mid_migration_neither_writes_nor_commits,
        a_data_api_target_without_the_dynamodb_ledger_is_refused,
    );
    use super::*;
}

mod native {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb() -> Result<()> {
        a_native_runner_overtaken_mid_migration_sends_nothing_more(Backend::MariaDb).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() -> Result<()> {
        a_native_runner_overtaken_mid_migration_sends_nothing_more(Backend::Postgres).await
    }
}

fn inject(emulator: &TestEmulator, rule: serde_json::Value) -> Result<()> {
    emulator
        .faults()
        .inject(serde_json::from_value(rule)?)
        .map_err(anyhow::Error::msg)
}

async fn has_table(emulator: &TestEmulator, table: &str) -> Result<bool> {
    let db = emulator.database.connect().await?;
    let sql = match emulator.database.backend {
        Backend::MariaDb => format!(
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '{table}'"
        ),
        _ => format!(
            "SELECT COUNT(*) AS n FROM pg_tables \
             WHERE schemaname = current_schema() AND tablename = '{table}'"
        ),
    };
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("count")?;
    Ok(row.try_get::<i64>("", "n")? > 0)
}

/// MySQL: a 500 after `CREATE TABLE users` ran. PostgreSQL: a 500 after the commit went through.
/// Either way the row stays `in_progress` marked unknown, the lock is kept until its lease expires,
/// `status` needs attention, and `repair mark-applied` (once the lease is over) lets `up` finish.
async fn an_unknown_outcome_keeps_the_row_in_progress_and_the_lock_until_repaired(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("unknown").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let url = through_data_api(&emulator);
    match backend {
        Backend::MariaDb => inject(
            &emulator,
            json!({"operation": "ExecuteStatement", "sqlContains": "CREATE TABLE",
                   "error": "InternalServerErrorException", "when": "after", "count": 1}),
        )?,
        _ => inject(
            &emulator,
            json!({"operation": "CommitTransaction", "error": "InternalServerErrorException",
                   "when": "after", "count": 1}),
        )?,
    }
    let up = run(child(moto, &table, &url), &["up"])?;
    let stderr = text(&up.stderr);
    ensure!(up.status.code() == Some(1), "{stderr}");
    ensure!(
        stderr.contains("outcome is unknown")
            && stderr.contains(&format!("repair mark-applied {CREATE}"))
            && stderr.contains("InternalServerErrorException"),
        "{stderr}"
    );
    ensure!(
        has_table(&emulator, "users").await?,
        "the statement (or commit) did run"
    );

    let observer = ledger(moto, &table, "observer");
    let rows = entries(&observer).await?;
    let row = &rows[CREATE];
    ensure!(
        row.state == EntryState::InProgress
            && row
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with(migration::ledger::UNKNOWN_OUTCOME)),
        "never a definite failure: {row:?}"
    );
    ensure!(!rows.contains_key(SEED), "nothing ran after it: {rows:?}");
    let lock = migration::Ledger::lock_info(&observer)
        .await?
        .context("lock")?;
    ensure!(
        !lock.released,
        "the lock is kept until its lease expires: {lock:?}"
    );

    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(3), "{}", text(&status.stdout));
    ensure!(
        text(&status.stdout)
            .lines()
            .any(|l| l.starts_with(CREATE) && l.contains("in_progress")),
        "{}",
        text(&status.stdout)
    );

    // The changes are there: an operator records it applied (waiting out the 3 s lease), and
    // `up` completes.
    let repair = run(
        child(moto, &table, &url),
        &["repair", "mark-applied", CREATE],
    )?;
    ensure!(repair.status.success(), "{}", text(&repair.stderr));
    let up = run(child(moto, &table, &url), &["up"])?;
    ensure!(up.status.success(), "{}", text(&up.stderr));
    ensure!(
        text(&up.stdout) == format!("Applied {SEED}\n"),
        "{}",
        text(&up.stdout)
    );
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(0), "{}", text(&status.stdout));
    Ok(())
}

/// A runner whose heartbeats stop keeps a 2 s lease; its migration's third statement sleeps 4 s,
/// during which another runner takes the lock. The fourth statement is never sent, nothing is
/// committed, the ledger is not written, and the error names the new holder.
async fn a_runner_overtaken_mid_migration_neither_writes_nor_commits(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("overtaken").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let counter = "overtaken_counter";
    let sleep = match backend {
        Backend::MariaDb => "SELECT SLEEP(4)",
        _ => "SELECT pg_sleep(4)",
    };
    let create = format!("CREATE TABLE {counter} (name VARCHAR(64) NOT NULL)");
    let first = format!("INSERT INTO {counter} (name) VALUES ('first')");
    let second = format!("INSERT INTO {counter} (name) VALUES ('second')");
    let name = "m20990101_000001_overtaken";
    let stalled = LockConfig {
        heartbeat: Duration::from_secs(3600),
        ..LockConfig::with_lease(Duration::from_secs(2), Duration::ZERO, Duration::ZERO)
    };
    let a = Runner::with_migrations(
        Target::data_api(emulator.data_api())?,
        DynamoLedger::new(moto.client(), &table)
            .with_runner_id("A")
            .with_lock_config(stalled),
        vec![sql(name, &[&create, &first, sleep, &second])],
    );
    let challenger = tokio::spawn({
        let b = DynamoLedger::new(moto.client(), &table)
            .with_runner_id("B")
            .with_lock_config(LockConfig::with_lease(
                Duration::from_secs(30),
                Duration::from_secs(20),
                Duration::ZERO,
            ));
        async move {
            // Start after A has the lock.
            tokio::time::sleep(Duration::from_millis(500)).await;
            migration::Ledger::lock(&b, "up").await.map(|()| b)
        }
    });
    let outcome = a.up(None).await;
    let b = challenger.await??;
    match &outcome {
        Err(Error::LeaseLost { detail, .. }) => ensure!(
            detail.contains("held by `B` (fence 2"),
            "names the new holder: {detail}"
        ),
        other => bail!("A must stop: {other:?}"),
    }
    match backend {
        Backend::MariaDb => {
            let seen = counts(&emulator.database.connect().await?, counter).await?;
            ensure!(
                seen.get("first") == Some(&1) && !seen.contains_key("second"),
                "the statement after the lease ended never ran: {seen:?}"
            );
        }
        _ => ensure!(
            !has_table(&emulator, counter).await?,
            "nothing was committed"
        ),
    }
    let rows = entries(&b).await?;
    ensure!(
        rows[name].state == EntryState::InProgress && rows[name].runner_id.as_deref() == Some("A"),
        "A wrote nothing after losing its lease: {rows:?}"
    );
    let lock = migration::Ledger::lock_info(&b).await?.context("lock")?;
    ensure!(lock.owner == "B" && !lock.released, "{lock:?}");
    migration::Ledger::unlock(&b).await?;
    Ok(())
}

/// As [`a_runner_overtaken_mid_migration_neither_writes_nor_commits`], on a native connection:
/// A's heartbeats stop, its 2 s lease runs out while the migration's third statement sleeps 4 s,
/// and B takes the lock. The statements after the sleep are never sent: on MariaDB the second row
/// is absent (the first, before the sleep, stays: MySQL has no transactional DDL); on PostgreSQL
/// the sequence created before the run is untouched (`setval` is not undone by a rollback, so
/// only a statement never sent leaves it so) and nothing is committed. The ledger keeps A's
/// `in_progress` row and the error names B.
async fn a_native_runner_overtaken_mid_migration_sends_nothing_more(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("overtaken_native").await?;
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let counter = "overtaken_counter";
    let sequence = "overtaken_sequence";
    let create = format!("CREATE TABLE {counter} (name VARCHAR(64) NOT NULL)");
    let first = format!("INSERT INTO {counter} (name) VALUES ('first')");
    let second = format!("INSERT INTO {counter} (name) VALUES ('second')");
    let bump = format!("SELECT setval('{sequence}', 42)");
    let statements: Vec<&str> = match backend {
        Backend::MariaDb => vec![&create, &first, "SELECT SLEEP(4)", &second],
        _ => {
            db.execute_unprepared(&format!("CREATE SEQUENCE {sequence}"))
                .await?;
            vec![&create, &first, "SELECT pg_sleep(4)", &bump, &second]
        }
    };
    let name = "m20990101_000001_overtaken";
    let stalled = LockConfig {
        heartbeat: Duration::from_secs(3600),
        ..LockConfig::with_lease(Duration::from_secs(2), Duration::ZERO, Duration::ZERO)
    };
    let a = Runner::with_migrations(
        db.clone(),
        DynamoLedger::new(moto.client(), &table)
            .with_runner_id("A")
            .with_lock_config(stalled),
        vec![sql(name, &statements)],
    );
    let challenger = tokio::spawn({
        let b = DynamoLedger::new(moto.client(), &table)
            .with_runner_id("B")
            .with_lock_config(LockConfig::with_lease(
                Duration::from_secs(30),
                Duration::from_secs(20),
                Duration::ZERO,
            ));
        async move {
            // Start after A has the lock.
            tokio::time::sleep(Duration::from_millis(500)).await;
            migration::Ledger::lock(&b, "up").await.map(|()| b)
        }
    });
    let outcome = a.up(None).await;
    let b = challenger.await??;
    match &outcome {
        Err(Error::LeaseLost { detail, .. }) => ensure!(
            detail.contains("held by `B` (fence 2"),
            "names the new holder: {detail}"
        ),
        other => bail!("A must stop: {other:?}"),
    }
    match backend {
        Backend::MariaDb => {
            let seen = counts(&db, counter).await?;
            ensure!(
                seen.get("first") == Some(&1) && !seen.contains_key("second"),
                "the statement after the lease ended never ran: {seen:?}"
            );
        }
        _ => {
            ensure!(
                !sea_orm_migration::SchemaManager::new(&db)
                    .has_table(counter)
                    .await?,
                "nothing was committed"
            );
            let row = db
                .query_one(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT last_value, is_called FROM {sequence}"),
                ))
                .await?
                .context("sequence")?;
            let (last, called): (i64, bool) = (
                row.try_get("", "last_value")?,
                row.try_get("", "is_called")?,
            );
            ensure!(
                last == 1 && !called,
                "the statement after the lease ended never ran: last_value {last}, is_called {called}"
            );
        }
    }
    let rows = entries(&b).await?;
    ensure!(
        rows[name].state == EntryState::InProgress && rows[name].runner_id.as_deref() == Some("A"),
        "A wrote nothing after losing its lease: {rows:?}"
    );
    let lock = migration::Ledger::lock_info(&b).await?.context("lock")?;
    ensure!(lock.owner == "B" && !lock.released, "{lock:?}");
    migration::Ledger::unlock(&b).await?;
    Ok(())
}

/// Without DYNAMODB_TABLE_NAME a Data API target is refused (before anything is written), unless
/// the SQL ledger is chosen explicitly.
async fn a_data_api_target_without_the_dynamodb_ledger_is_refused(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let url = through_data_api(&emulator);
    let mut command = child(moto, "unused", &url);
    command.env_remove("DYNAMODB_TABLE_NAME");
    let up = run(command, &["up"])?;
    let stderr = text(&up.stderr);
    ensure!(up.status.code() == Some(1), "{stderr}");
    ensure!(
        stderr.contains("DYNAMODB_TABLE_NAME is not set")
            && stderr.contains("--sql-ledger")
            && stderr.contains("MIGRATION_SQL_LEDGER"),
        "{stderr}"
    );
    ensure!(!has_table(&emulator, "users").await?, "nothing ran");
    ensure!(
        !has_table(&emulator, "seaql_migrations").await?,
        "no ledger made"
    );

    let mut command = child(moto, "unused", &url);
    command
        .env_remove("DYNAMODB_TABLE_NAME")
        .env("MIGRATION_SQL_LEDGER", "true");
    let up = run(command, &["up"])?;
    ensure!(up.status.success(), "{}", text(&up.stderr));
    ensure!(has_table(&emulator, "seaql_migrations").await?);
    Ok(())
}

/// A DDL statement that outlives the Data API call's timeout is sent with continueAfterTimeout, so
/// it finishes on the server rather than being cut off half-way; the runner treats it as an
/// unknown outcome and keeps the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_ddl_continues_and_is_an_unknown_outcome() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("ddl").await?;
    let emulator = TestEmulator::spawn_with(
        Backend::MariaDb,
        emulator::Limits {
            statement_timeout: Duration::from_millis(500),
            ..emulator::Limits::default()
        },
    )
    .await?;
    let runner = Runner::with_migrations(
        Target::data_api(emulator.data_api())?,
        ledger(moto, &table, "ddl"),
        vec![sql(
            "m20990101_000001_slow_ddl",
            &["CREATE TABLE slow_ddl AS SELECT SLEEP(2) AS s"],
        )],
    );
    let outcome = runner.up(None).await;
    match &outcome {
        Err(error @ Error::OutcomeUnknown { .. }) => ensure!(
            migration::cli::error_chain(error).contains("StatementTimeoutException"),
            "{error}"
        ),
        other => bail!("a timed-out DDL is an unknown outcome: {other:?}"),
    }
    let lock = runner.lock_info().await?.context("lock")?;
    ensure!(!lock.released && lock.owner == "ddl", "{lock:?}");
    // The server finishes it (without continueAfterTimeout it would have been cancelled).
    let started = std::time::Instant::now();
    while !has_table(&emulator, "slow_ddl").await? {
        ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the timed-out CREATE TABLE was cut off instead of continuing"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

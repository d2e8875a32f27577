//! The DynamoDB ledger against a moto server: races, kills, lost leases, adoption of the article's
//! items, drift, failure semantics per engine, statement timeouts, deadlines, the CLI's status and
//! and exit codes (the run-migrations function's handler is tested in its own package). Databases: the Data API emulator in front of
//! MariaDB/PostgreSQL, or native connections where a child process needs them.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::moto::Moto;
use integration_tests::{Backend, TestDatabase, TestEmulator};
use migration::{
    DynamoLedger, EntryState, Error, Ledger, LockConfig, Migrator, RunOptions, Runner, Status,
    Target, Transition,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{DbErr, MigrationName, MigrationTrait, SchemaManager};

mod race {
    crate::on_data_api_engines!(eight_runners_twenty_trials_apply_each_migration_once);
    use super::*;
}
mod kill {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb() -> Result<()> {
        killed_runner_leaves_in_progress_and_repair_resolves_it(Backend::MariaDb, false).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() -> Result<()> {
        killed_runner_leaves_in_progress_and_repair_resolves_it(Backend::Postgres, false).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb_through_the_data_api() -> Result<()> {
        killed_runner_leaves_in_progress_and_repair_resolves_it(Backend::MariaDb, true).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_through_the_data_api() -> Result<()> {
        killed_runner_leaves_in_progress_and_repair_resolves_it(Backend::Postgres, true).await
    }
}
mod engines {
    crate::on_data_api_engines!(
        article_items_are_adopted_as_applied,
        a_failed_migration_is_dirty_on_mysql_and_rolled_back_on_postgres,
        a_statement_timeout_is_an_unknown_outcome_not_a_failure,
    );
    use super::*;
}

pub(crate) const CREATE: &str = "m20261126_000001_create_users_table";
pub(crate) const SEED: &str = "m20261126_000002_seed_users";

/// A migration made of SQL strings, for lists whose effects show a second run.
struct Sql {
    name: String,
    up: Vec<String>,
}

impl MigrationName for Sql {
    fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait]
impl MigrationTrait for Sql {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in &self.up {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("no down".into()))
    }
}

pub(crate) fn sql(name: &str, up: &[&str]) -> Box<dyn MigrationTrait> {
    Box::new(Sql {
        name: name.into(),
        up: up.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Creates `counter` and inserts one row per migration: no unique key, so a second run of any of
/// them shows as a duplicate row (or, for the first, a failing CREATE TABLE).
fn counter_migrations(counter: &str) -> Vec<Box<dyn MigrationTrait>> {
    vec![
        sql(
            "m20990101_000001_counter",
            &[
                &format!("CREATE TABLE {counter} (name VARCHAR(64) NOT NULL)"),
                &format!("INSERT INTO {counter} (name) VALUES ('m1')"),
            ],
        ),
        sql(
            "m20990101_000002_second",
            &[&format!("INSERT INTO {counter} (name) VALUES ('m2')")],
        ),
        sql(
            "m20990101_000003_third",
            &[&format!("INSERT INTO {counter} (name) VALUES ('m3')")],
        ),
    ]
}

pub(crate) fn lock_config(lease: Duration, wait: Duration) -> LockConfig {
    LockConfig::with_lease(lease, wait, Duration::ZERO)
}

pub(crate) fn ledger(moto: &Moto, table: &str, runner: &str) -> DynamoLedger {
    DynamoLedger::new(moto.client(), table)
        .with_runner_id(runner)
        .with_lock_config(lock_config(
            Duration::from_secs(20),
            Duration::from_secs(120),
        ))
}

pub(crate) async fn entries(
    ledger: &DynamoLedger,
) -> Result<BTreeMap<String, migration::LedgerEntry>> {
    Ok(ledger
        .entries()
        .await?
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect())
}

pub(crate) async fn counts(db: &DatabaseConnection, table: &str) -> Result<BTreeMap<String, i64>> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT name, COUNT(*) AS n FROM {table} GROUP BY name"),
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "name")?,
                row.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

async fn eight_runners_twenty_trials_apply_each_migration_once(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let api = emulator.data_api();
    let db = emulator.database.connect().await?;
    let expected: BTreeMap<String, i64> = [("m1", 1), ("m2", 1), ("m3", 1)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for trial in 0..20 {
        let table = moto.table("race").await?;
        let counter = format!("runs_{trial}");
        let mut tasks = tokio::task::JoinSet::new();
        for r in 0..8 {
            let runner = Runner::with_migrations(
                Target::data_api(api.clone())?,
                ledger(moto, &table, &format!("trial{trial}-runner{r}")),
                counter_migrations(&counter),
            );
            tasks.spawn(async move { runner.up_report(None).await });
        }
        let mut applied = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let report = joined?.with_context(|| format!("trial {trial}"))?;
            ensure!(report.pending.is_empty(), "trial {trial}: {report:?}");
            applied.extend(report.applied);
        }
        applied.sort();
        ensure!(
            applied
                == [
                    "m20990101_000001_counter",
                    "m20990101_000002_second",
                    "m20990101_000003_third"
                ],
            "trial {trial}: applied across runners {applied:?}"
        );
        let ran = counts(&db, &counter).await?;
        ensure!(ran == expected, "trial {trial}: SQL ran {ran:?}");
        let observer = ledger(moto, &table, "observer");
        let rows = entries(&observer).await?;
        ensure!(
            rows.values()
                .all(|e| e.state == EntryState::Applied && e.attempt == 1),
            "trial {trial}: {rows:?}"
        );
        let lock = observer.lock_info().await?.context("lock item")?;
        ensure!(
            lock.released && lock.fence == 8,
            "trial {trial}: every runner took the lock once, in turn: {lock:?}"
        );
    }
    Ok(())
}

/// The `migration` binary's logic in a child process, against `target` (environment variables:
/// [`native`] or [`through_data_api`]) with the ledger in `table`.
pub(crate) fn child(moto: &Moto, table: &str, target: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-child"));
    for variable in [
        "DATABASE_URL",
        "CLUSTER_ARN",
        "SECRET_ARN",
        "DATABASE_NAME",
        "DATABASE_ENGINE",
        "AWS_ENDPOINT_URL_RDS_DATA",
    ] {
        command.env_remove(variable);
    }
    command
        .env("DYNAMODB_TABLE_NAME", table)
        .env("MIGRATION_LEASE_SECS", "3")
        .env("MIGRATION_LOCK_SKEW_SECS", "0")
        .env("MIGRATION_LOCK_WAIT_SECS", "30")
        .env("RUST_LOG", "info");
    command.envs(moto.env());
    command.envs(target.iter().map(|(k, v)| (*k, v.as_str())));
    command
}

/// A native connection to `url`.
pub(crate) fn native(url: &str) -> Vec<(&'static str, String)> {
    vec![("DATABASE_URL", url.to_owned())]
}

/// The Data API through `emulator`, as the run-migrations Lambda is configured.
pub(crate) fn through_data_api(emulator: &TestEmulator) -> Vec<(&'static str, String)> {
    let config = emulator.config(data_api::RetryPolicy::default());
    vec![
        ("CLUSTER_ARN", config.resource_arn),
        ("SECRET_ARN", config.secret_arn),
        ("DATABASE_NAME", config.database),
        (
            "DATABASE_ENGINE",
            match config.engine {
                data_api::Engine::Postgres => "postgres".to_owned(),
                _ => "mysql".to_owned(),
            },
        ),
        (
            "AWS_ENDPOINT_URL_RDS_DATA",
            format!("http://{}", emulator.addr),
        ),
    ]
}

pub(crate) fn run(mut command: Command, args: &[&str]) -> Result<Output> {
    Ok(command.args(args).output()?)
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn killed_runner_leaves_in_progress_and_repair_resolves_it(
    backend: Backend,
    via_data_api: bool,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("kill").await?;
    let (emulator, own_database) = if via_data_api {
        (Some(TestEmulator::spawn(backend).await?), None)
    } else {
        (None, Some(TestDatabase::create(backend).await?))
    };
    let (database, url) = match (&emulator, &own_database) {
        (Some(emulator), _) => (&emulator.database, through_data_api(emulator)),
        (None, Some(database)) => (database, native(&database.url)),
        (None, None) => unreachable!("one of them is set"),
    };
    let up = run(child(moto, &table, &url), &["up", "-n", "1"])?;
    ensure!(up.status.success(), "{}", text(&up.stderr));

    // Hold a table lock so the seed migration blocks mid-run, inside its ledger `in_progress`.
    let db = database.connect().await?;
    let blocker = db.begin().await?;
    blocker
        .execute_unprepared(match backend {
            Backend::MariaDb => "LOCK TABLES users WRITE",
            _ => "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
        })
        .await?;
    let mut victim = child(moto, &table, &url)
        .arg("up")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let observer = ledger(moto, &table, "observer");
    let started = Instant::now();
    loop {
        let rows = entries(&observer).await?;
        if rows
            .get(SEED)
            .is_some_and(|e| e.state == EntryState::InProgress)
        {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the seed never got in progress: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    victim.kill()?; // SIGKILL
    let status = victim.wait()?;
    ensure!(!status.success(), "killed: {status:?}");
    if backend == Backend::MariaDb {
        blocker.execute_unprepared("UNLOCK TABLES").await?;
    }
    blocker.rollback().await?;

    // The next run waits out the dead runner's lease, then refuses, naming the migration.
    let again = run(child(moto, &table, &url), &["up"])?;
    let stderr = text(&again.stderr);
    ensure!(again.status.code() == Some(1), "{stderr}");
    ensure!(
        stderr.contains(&format!("migration `{SEED}` is in_progress"))
            && stderr.contains("repair mark-applied")
            && stderr.contains("took over an expired migration lock"),
        "{stderr}"
    );
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(3), "{}", text(&status.stderr));
    let table_text = text(&status.stdout);
    ensure!(
        table_text
            .lines()
            .any(|l| l.starts_with(SEED) && l.contains("in_progress")),
        "{table_text}"
    );

    // The dead runner's lease ended moments ago: a statement of it could still be running, so
    // failing or forgetting its row is refused, saying when it becomes safe.
    for args in [
        &["repair", "mark-failed", SEED, "--rolled-back"][..],
        &["repair", "forget", SEED],
    ] {
        let refused = run(child(moto, &table, &url), args)?;
        let stderr = text(&refused.stderr);
        ensure!(refused.status.code() == Some(1), "{args:?}: {stderr}");
        ensure!(
            stderr.contains("may still be running until") && stderr.contains("--force"),
            "{args:?}: {stderr}"
        );
    }
    ensure!(entries(&observer).await?[SEED].state == EntryState::InProgress);

    // Nothing of the seed committed: mark it failed-and-rolled-back (--force: the operator knows
    // the runner was killed), and `up` retries it.
    let repair = run(
        child(moto, &table, &url),
        &["repair", "mark-failed", SEED, "--rolled-back", "--force"],
    )?;
    ensure!(repair.status.success(), "{}", text(&repair.stderr));
    let up = run(child(moto, &table, &url), &["up"])?;
    ensure!(up.status.success(), "{}", text(&up.stderr));
    ensure!(text(&up.stdout) == format!("Applied {SEED}\n"));
    let rows = entries(&observer).await?;
    ensure!(
        rows[SEED].state == EntryState::Applied && rows[SEED].attempt == 2,
        "{rows:?}"
    );
    let users = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM users",
        ))
        .await?;
    ensure!(users.len() == 1, "seed inserted once: {} rows", users.len());
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(0), "{}", text(&status.stdout));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_lost_its_lease_cannot_write_the_ledger() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("lease").await?;
    let start = |attempt| Transition::Start {
        seq: 0,
        checksum: None,
        attempt,
        tx_mode: migration::ledger::TxMode::None,
    };

    // A holds a 1 s lease and misses its heartbeats (paused): B takes over once it expires.
    let paused = LockConfig {
        heartbeat: Duration::from_secs(3600),
        ..lock_config(Duration::from_secs(1), Duration::ZERO)
    };
    let a = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("A")
        .with_lock_config(paused);
    a.lock("up").await?;
    ensure!(a.fence() == Some(1));
    a.write("m1", &start(1)).await?;

    let b = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("B")
        .with_lock_config(lock_config(
            Duration::from_secs(30),
            Duration::from_secs(10),
        ));
    b.lock("up").await?;
    ensure!(b.fence() == Some(2), "the fence grows: {:?}", b.fence());

    for transition in [
        Transition::Succeed {
            checksum: None,
            duration_ms: 1,
        },
        Transition::Forget,
        Transition::MarkApplied { checksum: None },
    ] {
        match a.write("m1", &transition).await {
            Err(Error::LeaseLost { fence: 1, detail }) => {
                ensure!(detail.contains("held by `B` with fence 2"), "{detail}")
            }
            other => bail!("{transition:?}: A's write went through: {other:?}"),
        }
    }
    ensure!(matches!(a.check_lease(), Err(Error::LeaseLost { .. })));
    let row = &entries(&b).await?["m1"];
    ensure!(
        row.state == EntryState::InProgress && row.runner_id.as_deref() == Some("A"),
        "A's refused writes changed nothing: {row:?}"
    );
    // B may resolve A's row; A's release does not release B's lock.
    b.write("m1", &Transition::MarkApplied { checksum: None })
        .await?;
    a.unlock().await?;
    let lock = b.lock_info().await?.context("lock")?;
    ensure!(lock.owner == "B" && !lock.released, "{lock:?}");
    b.unlock().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_the_lease_and_a_waiter_names_the_holder() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("heartbeat").await?;
    let holder = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("holder")
        .with_lock_config(lock_config(Duration::from_secs(2), Duration::ZERO));
    holder.lock("up").await?;
    // Two lease lengths later the lease is still held thanks to heartbeats (every 500 ms).
    tokio::time::sleep(Duration::from_secs(4)).await;
    holder.check_lease()?;
    let waiter = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("waiter")
        .with_lock_config(lock_config(
            Duration::from_secs(2),
            Duration::from_millis(1500),
        ));
    let started = Instant::now();
    let error = waiter.lock("up").await.expect_err("the lock is held");
    ensure!(
        started.elapsed() >= Duration::from_millis(1500),
        "waited {:?}",
        started.elapsed()
    );
    let message = error.to_string();
    ensure!(
        message.contains("held by `holder` (fence 1, operation `up`")
            && message.contains("unlock --force --fence 1"),
        "{message}"
    );

    // unlock --force needs the current fence; then the holder's writes are refused.
    let operator = DynamoLedger::new(moto.client(), &table).with_runner_id("operator");
    let wrong = operator.force_unlock(7).await.expect_err("wrong fence");
    ensure!(
        wrong.to_string().contains("held with fence 1, not 7"),
        "{wrong}"
    );
    let released = operator.force_unlock(1).await?;
    ensure!(released.owner == "holder" && released.fence == 1);
    let write = holder
        .write("m1", &Transition::MarkApplied { checksum: None })
        .await;
    ensure!(matches!(write, Err(Error::LeaseLost { .. })), "{write:?}");
    waiter.lock("up").await?;
    ensure!(waiter.fence() == Some(2));
    waiter.unlock().await?;
    holder.unlock().await?;
    Ok(())
}

async fn article_items_are_adopted_as_applied(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("article").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.database.connect().await?;
    let quote = if backend == Backend::MariaDb {
        '`'
    } else {
        '"'
    };
    for statement in [
        "CREATE TABLE users (id VARCHAR(255) NOT NULL PRIMARY KEY, \"firstName\" VARCHAR(255) NOT NULL, \"lastName\" VARCHAR(255) NOT NULL)",
        "INSERT INTO users (id, \"firstName\", \"lastName\") VALUES ('1', 'John', 'Doe')",
    ] {
        db.execute_unprepared(&statement.replace('"', &quote.to_string()))
            .await?;
    }
    // What the article's runner writes: PK/SK, one with a timestamp.
    let client = moto.client();
    for (name, timestamp) in [(CREATE, None), (SEED, Some("1764201600000"))] {
        let mut put = client
            .put_item()
            .table_name(&table)
            .item("PK", AttributeValue::S("MIGRATION".into()))
            .item("SK", AttributeValue::S(name.into()));
        if let Some(ts) = timestamp {
            put = put.item("timestamp", AttributeValue::N(ts.into()));
        }
        put.send().await?;
    }
    let runner = Runner::new::<Migrator>(
        Target::data_api(emulator.data_api())?,
        ledger(moto, &table, "adopter"),
    );
    let states = runner.status().await?;
    ensure!(
        states.iter().map(|s| s.status.clone()).collect::<Vec<_>>()
            == [
                Status::Applied { applied_at: 0 },
                Status::Applied {
                    applied_at: 1_764_201_600
                }
            ],
        "{states:?}"
    );
    ensure!(states.iter().all(|s| !s.needs_attention()), "{states:?}");
    let report = runner.up_report(None).await?;
    ensure!(
        report.applied.is_empty() && report.pending.is_empty(),
        "{report:?}"
    );
    let users = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM users",
        ))
        .await?;
    ensure!(users.len() == 1, "nothing re-ran");
    // Down works on adopted rows too (the row becomes `reverted`, i.e. pending).
    ensure!(runner.down(Some(1)).await? == [SEED]);
    ensure!(runner.status().await?[1].status == Status::Pending);
    // And up applies it again: attempt 2 of a row that never had an attempt count.
    ensure!(runner.up(None).await? == [SEED]);
    let rows = entries(runner.ledger()).await?;
    ensure!(
        rows[SEED].state == EntryState::Applied && rows[SEED].attempt == 2,
        "{rows:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_stops_up_with_both_hashes_until_allowed_or_rechecksummed() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("drift").await?;
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let db = database.connect().await?;
    let runner = Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "r"));
    runner.up(Some(1)).await?;
    let current = migration::CHECKSUMS
        .iter()
        .find(|(name, _)| *name == CREATE)
        .map(|(_, sum)| (*sum).to_owned())
        .context("build.rs embedded the checksum")?;
    ensure!(
        current.starts_with("sha256:") && current.len() == 71,
        "{current}"
    );
    ensure!(entries(runner.ledger()).await?[CREATE].checksum.as_deref() == Some(current.as_str()));

    // The source "changed" after it was applied: the ledger holds another hash.
    let old = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    moto.client()
        .update_item()
        .table_name(&table)
        .key("PK", AttributeValue::S("MIGRATION".into()))
        .key("SK", AttributeValue::S(CREATE.into()))
        .update_expression("SET checksum = :c")
        .expression_attribute_values(":c", AttributeValue::S(old.into()))
        .send()
        .await?;
    match runner.up(None).await {
        Err(error @ Error::Drift { .. }) => {
            let message = error.to_string();
            ensure!(
                message.contains(CREATE) && message.contains(old) && message.contains(&current),
                "{message}"
            );
        }
        other => bail!("drift not caught: {other:?}"),
    }
    let states = runner.status().await?;
    ensure!(states[0].drift() == Some(old) && states[0].needs_attention());
    ensure!(states[1].status == Status::Pending, "the seed did not run");

    let allowed =
        Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "r2")).with_options(RunOptions {
            allow_drift: true,
            ..RunOptions::default()
        });
    ensure!(allowed.up(None).await? == [SEED]);
    runner
        .repair(&migration::Repair::Rechecksum(CREATE.into()))
        .await?;
    ensure!(runner.up(None).await?.is_empty());
    ensure!(runner.status().await?.iter().all(|s| !s.needs_attention()));
    Ok(())
}

async fn a_failed_migration_is_dirty_on_mysql_and_rolled_back_on_postgres(
    backend: Backend,
) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("fail").await?;
    let emulator = TestEmulator::spawn(backend).await?;
    let db = emulator.database.connect().await?;
    let migrations = || {
        vec![
            sql("m20990101_000001_ok", &["CREATE TABLE t_ok (n INT)"]),
            sql(
                "m20990101_000002_half",
                &[
                    "CREATE TABLE t_half (n INT)",
                    "INSERT INTO no_such_table VALUES (1)",
                ],
            ),
        ]
    };
    let runner = Runner::with_migrations(
        Target::data_api(emulator.data_api())?,
        ledger(moto, &table, "r"),
        migrations(),
    );
    let first = runner.up(None).await;
    let half = "m20990101_000002_half";
    let has_half = sea_orm_migration::SchemaManager::new(&db)
        .has_table("t_half")
        .await?;
    let rows = entries(runner.ledger()).await?;
    let second = runner.up(None).await;
    match backend {
        Backend::MariaDb => {
            ensure!(
                matches!(first, Err(Error::MigrationDirty { .. })),
                "{first:?}"
            );
            ensure!(has_half, "MySQL DDL committed before the failing statement");
            ensure!(
                rows[half].state == EntryState::Failed && rows[half].rolled_back == Some(false),
                "{rows:?}"
            );
            match second {
                Err(Error::Dirty { name, detail }) => {
                    ensure!(name == half && detail.contains("no_such_table"), "{detail}")
                }
                other => bail!("a dirty ledger must block: {other:?}"),
            }
            // The operator finishes the job by hand and marks it applied.
            runner
                .repair(&migration::Repair::MarkApplied(half.into()))
                .await?;
            ensure!(runner.up(None).await?.is_empty());
            ensure!(runner.status().await?.iter().all(|s| !s.needs_attention()));
        }
        _ => {
            ensure!(matches!(first, Err(Error::Migration { .. })), "{first:?}");
            ensure!(!has_half, "PostgreSQL rolled the migration back");
            ensure!(
                rows[half].state == EntryState::Failed && rows[half].rolled_back == Some(true),
                "{rows:?}"
            );
            // Rolled back, so `up` may retry it: attempt 2 fails the same way.
            ensure!(matches!(second, Err(Error::Migration { .. })), "{second:?}");
            let rows = entries(runner.ledger()).await?;
            ensure!(rows[half].attempt == 2, "{rows:?}");
            ensure!(rows["m20990101_000001_ok"].state == EntryState::Applied);
        }
    }
    Ok(())
}

async fn a_statement_timeout_is_an_unknown_outcome_not_a_failure(backend: Backend) -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("timeout").await?;
    let emulator = TestEmulator::spawn_with(
        backend,
        emulator::Limits {
            statement_timeout: Duration::from_millis(500),
            ..emulator::Limits::default()
        },
    )
    .await?;
    let sleep = match backend {
        Backend::MariaDb => "SELECT SLEEP(3)",
        _ => "SELECT pg_sleep(3)",
    };
    let runner = Runner::with_migrations(
        Target::data_api(emulator.data_api())?,
        ledger(moto, &table, "slow"),
        vec![sql("m20990101_000001_slow", &[sleep])],
    );
    let outcome = runner.up(None).await;
    let rows = entries(runner.ledger()).await?;
    let row = &rows["m20990101_000001_slow"];
    let lock = runner.lock_info().await?.context("lock")?;
    match backend {
        Backend::MariaDb => {
            match &outcome {
                Err(error @ Error::OutcomeUnknown { .. }) => ensure!(
                    migration::cli::error_chain(error).contains("StatementTimeoutException"),
                    "{error}"
                ),
                other => bail!("a timeout is not a failure: {other:?}"),
            }
            ensure!(
                row.state == EntryState::InProgress
                    && row
                        .error
                        .as_deref()
                        .is_some_and(|e| e.starts_with(migration::ledger::UNKNOWN_OUTCOME)),
                "the row stays in progress, marked unknown: {row:?}"
            );
            ensure!(
                !lock.released && lock.owner == "slow",
                "the lock is kept until its lease expires: {lock:?}"
            );
        }
        _ => {
            // In a transaction that was never committed, a timeout cannot have applied anything.
            ensure!(
                matches!(outcome, Err(Error::Migration { .. })),
                "{outcome:?}"
            );
            ensure!(
                row.state == EntryState::Failed && row.rolled_back == Some(true),
                "{row:?}"
            );
            ensure!(lock.released, "{lock:?}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_migration_starts_that_cannot_finish_before_the_deadline() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("deadline").await?;
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let db = database.connect().await?;
    let tight = RunOptions {
        deadline: Some(Instant::now() + Duration::from_secs(50)),
        ..RunOptions::default()
    };
    let runner =
        Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "lambda")).with_options(tight);
    let report = runner.up_report(None).await?;
    ensure!(
        report.applied.is_empty() && report.deadline_reached && report.pending == [CREATE, SEED],
        "10 s estimate + 45 s margin does not fit in 50 s: {report:?}"
    );
    ensure!(
        entries(runner.ledger()).await?.is_empty(),
        "nothing started"
    );
    let roomy = RunOptions {
        deadline: Some(Instant::now() + Duration::from_secs(120)),
        ..RunOptions::default()
    };
    let runner =
        Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "lambda")).with_options(roomy);
    let report = runner.up_report(None).await?;
    ensure!(
        report.applied == [CREATE, SEED] && !report.deadline_reached,
        "{report:?}"
    );
    let rows = entries(runner.ledger()).await?;
    ensure!(
        rows.values().all(|e| e.duration_ms.is_some()),
        "durations are recorded for later estimates: {rows:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_status_reports_states_lock_and_exit_codes_with_the_dynamodb_ledger() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("cli").await?;
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let url = native(&database.url);
    // Plain `status` exits 0 with pending migrations (what sea-orm-cli expects); `--check` exits 3.
    let status = run(child(moto, &table, &url), &["status"])?;
    ensure!(
        status.status.code() == Some(0),
        "pending: {}",
        text(&status.stderr)
    );
    let check = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(
        check.status.code() == Some(3) && check.stdout == status.stdout,
        "pending: {}",
        text(&check.stderr)
    );
    let out = text(&status.stdout);
    ensure!(
        out.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(CREATE) && l.contains("pending")),
        "{out}"
    );
    ensure!(!out.contains("Lock:"), "no lock item yet: {out}");

    let up = run(child(moto, &table, &url), &["up"])?;
    ensure!(up.status.success(), "{}", text(&up.stderr));
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(0), "{}", text(&status.stdout));
    let out = text(&status.stdout);
    ensure!(out.contains("Lock: free (last fence 1)"), "{out}");
    for line in out.lines().skip(1).take(2) {
        ensure!(
            line.contains("applied") && line.contains(" ok ") && line.contains(" ms"),
            "{line}"
        );
    }
    let json = run(child(moto, &table, &url), &["status", "--json"])?;
    let value: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    ensure!(
        value["clean"] == true && value["lock"]["fence"] == 1,
        "{value}"
    );
    ensure!(value["migrations"][1]["attempt"] == 1, "{value}");

    // A migration recorded in the ledger but missing from the binary fails status and up.
    moto.client()
        .put_item()
        .table_name(&table)
        .item("PK", AttributeValue::S("MIGRATION".into()))
        .item("SK", AttributeValue::S("m20000101_000000_gone".into()))
        .send()
        .await?;
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(3));
    ensure!(text(&status.stdout).contains("m20000101_000000_gone"));
    let up = run(child(moto, &table, &url), &["up"])?;
    ensure!(up.status.code() == Some(1));
    ensure!(
        text(&up.stderr).contains("m20000101_000000_gone"),
        "{}",
        text(&up.stderr)
    );
    let forget = run(
        child(moto, &table, &url),
        &["repair", "forget", "m20000101_000000_gone"],
    )?;
    ensure!(forget.status.success(), "{}", text(&forget.stderr));
    let unlock = run(
        child(moto, &table, &url),
        &["unlock", "--force", "--fence", "3"],
    )?;
    ensure!(unlock.status.code() == Some(1));
    ensure!(
        text(&unlock.stderr).contains("(fence 3) is not held"),
        "{}",
        text(&unlock.stderr)
    );
    let status = run(child(moto, &table, &url), &["status", "--check"])?;
    ensure!(status.status.code() == Some(0), "{}", text(&status.stdout));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_dropped_while_holding_the_lock_stops_heartbeating() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("dropped").await?;
    let config = lock_config(Duration::from_secs(1), Duration::from_secs(10));
    let first = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("first")
        .with_lock_config(config);
    first.lock("up").await?;
    drop(first); // as a panic or a cancelled future would
    let second = DynamoLedger::new(moto.client(), &table)
        .with_runner_id("second")
        .with_lock_config(config);
    let started = Instant::now();
    second.lock("up").await?;
    ensure!(
        started.elapsed() < Duration::from_secs(5),
        "the orphaned lease expired instead of being extended ({:?})",
        started.elapsed()
    );
    ensure!(second.fence() == Some(2));
    second.unlock().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_is_read_across_query_pages() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("pages").await?;
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let db = database.connect().await?;
    let runner = Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "r"));
    runner.up(None).await?;
    // Two rows, one per page: three Query calls (the last page is empty or flagged last).
    let paged = ledger(moto, &table, "reader").with_page_size(1);
    let rows = entries(&paged).await?;
    ensure!(
        rows.len() == 2 && rows.contains_key(CREATE) && rows.contains_key(SEED),
        "{rows:?}"
    );
    ensure!(paged.calls() >= 2, "{} calls", paged.calls());
    let whole = ledger(moto, &table, "reader");
    ensure!(entries(&whole).await? == rows);
    ensure!(whole.calls() == 1, "one page: {} calls", whole.calls());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_reset_and_fresh_keep_the_dynamodb_ledger_in_step() -> Result<()> {
    let moto = Moto::shared().await?;
    let table = moto.table("baseline").await?;
    let database = TestDatabase::create(Backend::Sqlite).await?;
    let db = database.connect().await?;
    let runner = Runner::new::<Migrator>(db.clone(), ledger(moto, &table, "r"));
    let has_users = || async {
        sea_orm_migration::SchemaManager::new(&db)
            .has_table("users")
            .await
    };

    // Baseline records CREATE without running it; `up` then runs only the seed, which needs the
    // table: created by hand here, as a database that already had the schema would.
    ensure!(runner.baseline(CREATE).await? == [CREATE]);
    let rows = entries(runner.ledger()).await?;
    ensure!(rows[CREATE].state == EntryState::Baselined, "{rows:?}");
    ensure!(!has_users().await?, "baseline ran nothing");
    db.execute_unprepared(
        "CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, \"firstName\" VARCHAR(255) NOT NULL, \
         \"lastName\" VARCHAR(255) NOT NULL)",
    )
    .await?;
    ensure!(runner.up(None).await? == [SEED]);
    ensure!(runner.status().await?.iter().all(|s| !s.needs_attention()));

    // reset: everything reverted, the ledger cleared.
    ensure!(runner.reset().await? == [SEED, CREATE]);
    ensure!(entries(runner.ledger()).await?.is_empty());
    ensure!(!has_users().await?);

    // fresh: every table dropped (including one no migration knows), ledger cleared, all applied.
    runner.up(None).await?;
    db.execute_unprepared("CREATE TABLE stray (n INT)").await?;
    let (dropped, report) = runner.fresh().await?;
    let mut dropped = dropped;
    dropped.sort();
    ensure!(dropped == ["stray", "users"], "{dropped:?}");
    ensure!(report.applied == [CREATE, SEED], "{report:?}");
    let rows = entries(runner.ledger()).await?;
    ensure!(
        rows.values()
            .all(|e| e.state == EntryState::Applied && e.attempt == 1),
        "fresh starts the ledger over: {rows:?}"
    );
    let (reverted, report) = runner.refresh().await?;
    ensure!(reverted == [SEED, CREATE] && report.applied == [CREATE, SEED]);
    Ok(())
}

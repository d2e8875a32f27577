//! The migrations and their SQL ledger, on each backend, through the library the binary uses.

use anyhow::{Result, ensure};
use integration_tests::{Backend, TestDatabase};
use migration::{Migrator, MigratorTrait, Runner, SqlLedger, Status};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder};

crate::on_every_backend!(
    status_before_up_lists_both_pending_and_creates_nothing,
    up_is_idempotent_and_status_lists_both_applied,
    down_reverses_the_seed_then_the_table,
    up_adopts_a_table_created_by_the_article,
    up_refuses_a_users_table_without_the_articles_columns,
    up_refuses_when_the_ledger_names_an_unknown_migration,
    up_applies_one_step_at_a_time,
);

const CREATE: &str = "m20261126_000001_create_users_table";
const SEED: &str = "m20261126_000002_seed_users";

fn runner(db: &DatabaseConnection) -> Runner<SqlLedger> {
    Runner::new::<Migrator>(db.clone(), SqlLedger::new(db.clone()))
}

async fn has_table(db: &DatabaseConnection, table: &str) -> Result<bool> {
    Ok(sea_orm_migration::SchemaManager::new(db)
        .has_table(table)
        .await?)
}

fn labels(states: &[migration::MigrationState]) -> Vec<(String, &'static str)> {
    states
        .iter()
        .map(|s| (s.name.clone(), s.status.label()))
        .collect()
}

async fn users(db: &DatabaseConnection) -> Result<Vec<(String, String, String)>> {
    Ok(entity::prelude::Users::find()
        .order_by_asc(entity::users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.first_name, u.last_name))
        .collect())
}

fn john() -> (String, String, String) {
    ("1".into(), "John".into(), "Doe".into())
}

async fn status_before_up_lists_both_pending_and_creates_nothing(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let states = runner(&db).status().await?;
    ensure!(
        labels(&states) == vec![(CREATE.into(), "pending"), (SEED.into(), "pending")],
        "{states:?}"
    );
    ensure!(
        !has_table(&db, "seaql_migrations").await?,
        "status created the ledger table"
    );
    ensure!(!has_table(&db, "users").await?);
    Ok(())
}

async fn up_is_idempotent_and_status_lists_both_applied(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let runner = runner(&db);

    let applied = runner.up(None).await?;
    ensure!(applied == [CREATE, SEED], "{applied:?}");
    let again = runner.up(None).await?;
    ensure!(again.is_empty(), "second up applied {again:?}");

    let states = runner.status().await?;
    ensure!(
        labels(&states) == vec![(CREATE.into(), "applied"), (SEED.into(), "applied")],
        "{states:?}"
    );
    for state in &states {
        let Status::Applied { applied_at } = state.status else {
            unreachable!()
        };
        let now = chrono_now();
        ensure!(
            (now - 300..=now + 5).contains(&applied_at),
            "{state:?} at {applied_at}, now {now}"
        );
    }
    ensure!(users(&db).await? == vec![john()], "seed applied once");

    // The ledger is stock sea-orm-migration's: a stock Migrator sees nothing pending.
    let pending = Migrator::get_pending_migrations(&db).await?;
    ensure!(
        pending.is_empty(),
        "stock migrator sees {} pending",
        pending.len()
    );
    Ok(())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn down_reverses_the_seed_then_the_table(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let runner = runner(&db);
    runner.up(None).await?;
    db.execute_unprepared(
        "INSERT INTO users (id, \"firstName\", \"lastName\") VALUES ('u2', 'Jane', 'Roe')"
            .replace(
                '"',
                if backend == Backend::MariaDb {
                    "`"
                } else {
                    "\""
                },
            )
            .as_str(),
    )
    .await?;

    let reverted = runner.down(Some(1)).await?;
    ensure!(reverted == [SEED], "{reverted:?}");
    ensure!(
        users(&db).await? == vec![("u2".into(), "Jane".into(), "Roe".into())],
        "only the seed row is removed"
    );
    let states = runner.status().await?;
    ensure!(
        labels(&states) == vec![(CREATE.into(), "applied"), (SEED.into(), "pending")],
        "{states:?}"
    );

    // Up again restores it; down everything drops the table.
    ensure!(runner.up(None).await? == [SEED]);
    ensure!(users(&db).await?.contains(&john()));
    let reverted = runner.down(None).await?;
    ensure!(reverted == [SEED, CREATE], "{reverted:?}");
    ensure!(
        !has_table(&db, "users").await?,
        "users still exists after down all"
    );
    ensure!(
        runner.down(Some(1)).await?.is_empty(),
        "nothing left to revert"
    );
    Ok(())
}

/// The article's DDL and seed, as its TypeScript migrations send them.
fn article_schema(backend: Backend) -> [&'static str; 3] {
    match backend {
        Backend::MariaDb => [
            "CREATE TABLE IF NOT EXISTS users (id VARCHAR(255) NOT NULL PRIMARY KEY, \
             firstName VARCHAR(255) NOT NULL, lastName VARCHAR(255) NOT NULL)",
            "INSERT INTO users (id, firstName, lastName) VALUES ('1', 'John', 'Doe')",
            "INSERT INTO users (id, firstName, lastName) VALUES ('abc', 'Jane', 'Roe')",
        ],
        // Quoted, so PostgreSQL keeps the camelCase names (unquoted it would fold them to lower case).
        Backend::Postgres | Backend::Sqlite => [
            "CREATE TABLE IF NOT EXISTS users (id VARCHAR(255) NOT NULL PRIMARY KEY, \
             \"firstName\" VARCHAR(255) NOT NULL, \"lastName\" VARCHAR(255) NOT NULL)",
            "INSERT INTO users (id, \"firstName\", \"lastName\") VALUES ('1', 'John', 'Doe')",
            "INSERT INTO users (id, \"firstName\", \"lastName\") VALUES ('abc', 'Jane', 'Roe')",
        ],
    }
}

async fn up_adopts_a_table_created_by_the_article(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    for sql in article_schema(backend) {
        db.execute_unprepared(sql).await?;
    }
    let runner = runner(&db);
    let applied = runner.up(None).await?;
    ensure!(applied == [CREATE, SEED], "{applied:?}");
    ensure!(
        users(&db).await? == vec![john(), ("abc".into(), "Jane".into(), "Roe".into())],
        "existing rows kept, seed not duplicated"
    );
    ensure!(
        runner
            .status()
            .await?
            .iter()
            .all(|s| s.status.label() == "applied")
    );
    Ok(())
}

async fn up_refuses_a_users_table_without_the_articles_columns(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    // What the article's SQL makes on PostgreSQL when its identifiers are not quoted.
    db.execute_unprepared(
        "CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, firstname VARCHAR(255) NOT NULL, \
         lastname VARCHAR(255) NOT NULL)",
    )
    .await?;
    let runner = runner(&db);
    match (backend, runner.up(None).await) {
        // MariaDB compares column names case-insensitively, so this table is the article's.
        (Backend::MariaDb, Ok(applied)) => ensure!(applied == [CREATE, SEED], "{applied:?}"),
        (Backend::MariaDb, Err(error)) => anyhow::bail!("MariaDB: {error:#}"),
        (_, Ok(applied)) => anyhow::bail!("adopted a table without firstName: {applied:?}"),
        (_, Err(error)) => {
            let text = format!("{:#}", anyhow::Error::from(error));
            ensure!(
                text.contains(CREATE) && text.contains("firstName"),
                "{text}"
            );
            let states = runner.status().await?;
            ensure!(
                states.iter().all(|s| s.status == Status::Pending),
                "nothing may be recorded: {states:?}"
            );
        }
    }
    Ok(())
}

async fn up_refuses_when_the_ledger_names_an_unknown_migration(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let runner = runner(&db);
    runner.up(Some(1)).await?;
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20000101_000000_gone', 1)",
    )
    .await?;
    let error = runner.up(None).await.expect_err("must refuse");
    ensure!(
        matches!(&error, migration::Error::MissingMigration { name } if name == "m20000101_000000_gone"),
        "{error:?}"
    );
    let states = runner.status().await?;
    ensure!(
        labels(&states)
            == vec![
                (CREATE.into(), "applied"),
                (SEED.into(), "pending"),
                ("m20000101_000000_gone".into(), "missing"),
            ],
        "{states:?}"
    );
    ensure!(users(&db).await?.is_empty(), "seed must not run");
    Ok(())
}

async fn up_applies_one_step_at_a_time(backend: Backend) -> Result<()> {
    let database = TestDatabase::create(backend).await?;
    let db = database.connect().await?;
    let runner = runner(&db);
    ensure!(runner.up(Some(1)).await? == [CREATE]);
    ensure!(users(&db).await?.is_empty());
    ensure!(runner.up(Some(1)).await? == [SEED]);
    ensure!(runner.up(Some(1)).await?.is_empty());
    Ok(())
}
